//! CloudWatch alarms: the service's CPU alarm.

use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, Statistic, Tag};
use aws_sdk_cloudwatch::Client;

use super::{aws_error, gone_is_done, not_found_if, tag_changes};
use crate::error::Result;

pub use super::Tags;

/// The ECS service metric's period: ECS publishes CPUUtilization every minute.
pub const PERIOD_SECS: i32 = 60;

#[derive(Clone, Debug, PartialEq)]
pub struct CpuAlarm {
    pub name: String,
    pub cluster: String,
    pub service: String,
    pub threshold: f64,
    pub evaluation_periods: i32,
    pub topic_arn: String,
}

/// Writes (or replaces) the alarm on the service's average CPU; it notifies
/// the topic when it goes into ALARM and back to OK. `tags` count only when
/// the alarm is new: "If you are using this operation to update an existing
/// alarm, any tags you specify in this parameter are ignored" (PutMetricAlarm);
/// [`set_alarm_tags`] retags one.
pub async fn put_cpu_alarm(c: &Client, a: &CpuAlarm, tags: &Tags) -> Result<()> {
    c.put_metric_alarm()
        .alarm_name(&a.name)
        .alarm_description(format!(
            "CPU of ECS service {} above {}% for {} minutes",
            a.service, a.threshold, a.evaluation_periods
        ))
        .namespace("AWS/ECS")
        .metric_name("CPUUtilization")
        .dimensions(
            Dimension::builder()
                .name("ClusterName")
                .value(&a.cluster)
                .build(),
        )
        .dimensions(
            Dimension::builder()
                .name("ServiceName")
                .value(&a.service)
                .build(),
        )
        .statistic(Statistic::Average)
        .period(PERIOD_SECS)
        .evaluation_periods(a.evaluation_periods)
        .threshold(a.threshold)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .treat_missing_data("notBreaching")
        .alarm_actions(&a.topic_arn)
        .ok_actions(&a.topic_arn)
        .set_tags(Some(
            tags.iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect(),
        ))
        .send()
        .await
        .map_err(|e| aws_error("writing", &format!("alarm {:?}", a.name), e))?;
    Ok(())
}

/// The alarm as CloudWatch has it: (ARN, threshold, evaluation periods, actions), or `None`.
pub async fn find_alarm(c: &Client, name: &str) -> Result<Option<(String, f64, i32, Vec<String>)>> {
    let out = c
        .describe_alarms()
        .alarm_names(name)
        .send()
        .await
        .map_err(|e| aws_error("describing", &format!("alarm {name:?}"), e))?;
    Ok(out.metric_alarms().first().map(|a| {
        (
            a.alarm_arn().unwrap_or_default().to_string(),
            a.threshold().unwrap_or_default(),
            a.evaluation_periods().unwrap_or_default(),
            a.alarm_actions().to_vec(),
        )
    }))
}

pub async fn delete_alarm(c: &Client, name: &str) -> Result<()> {
    gone_is_done(
        c.delete_alarms()
            .alarm_names(name)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                not_found_if("deleting", &format!("alarm {name:?}"), e, |e| {
                    e.is_resource_not_found()
                })
            }),
    )
}

/// Retags the alarm (by its ARN): PutMetricAlarm keeps an existing alarm's tags.
pub async fn set_alarm_tags(c: &Client, arn: &str, had: &Tags, want: &Tags) -> Result<()> {
    let part = format!("alarm {arn}");
    let (set, removed) = tag_changes(had, want);
    if !set.is_empty() {
        c.tag_resource()
            .resource_arn(arn)
            .set_tags(Some(
                set.iter()
                    .map(|(k, v)| Tag::builder().key(k).value(v).build())
                    .collect(),
            ))
            .send()
            .await
            .map_err(|e| aws_error("tagging", &part, e))?;
    }
    if !removed.is_empty() {
        c.untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(removed))
            .send()
            .await
            .map_err(|e| aws_error("untagging", &part, e))?;
    }
    Ok(())
}
