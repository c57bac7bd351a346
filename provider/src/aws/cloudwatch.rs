//! CloudWatch: the service's CPU alarm, and the alarms and dashboard of observability.

use aws_sdk_cloudwatch::types::{
    ComparisonOperator, Dimension, Metric, MetricDataQuery, MetricStat, Statistic, Tag,
};
pub use aws_sdk_cloudwatch::Client;

use super::{aws_error, gone_is_done, gone_is_none, not_found_if, tag_changes};
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

/// What an alarm watches.
#[derive(Clone, Debug, PartialEq)]
pub enum Watch {
    /// One metric's statistic: `Sum`, `Average`, `Maximum`, `Minimum`, or a
    /// percentile such as `p95` (an extended statistic).
    Stat {
        namespace: String,
        metric: String,
        dimensions: Vec<(String, String)>,
        stat: String,
    },
    /// `100 * (sum of parts) / whole` of metrics' sums, in percent: a rate.
    Percent {
        namespace: String,
        parts: Vec<String>,
        whole: String,
        dimensions: Vec<(String, String)>,
    },
}

/// A metric alarm that notifies `topic_arn` when it goes into ALARM and back to OK.
#[derive(Clone, Debug, PartialEq)]
pub struct Alarm {
    pub name: String,
    pub description: String,
    pub watch: Watch,
    pub threshold: f64,
    /// One-minute periods that must breach in a row.
    pub evaluation_periods: i32,
    /// Alarm below the threshold (free memory) rather than above it.
    pub below: bool,
    pub topic_arn: String,
}

/// An alarm as CloudWatch has it.
#[derive(Clone, Debug, PartialEq)]
pub struct FoundAlarm {
    pub arn: String,
    pub threshold: f64,
    pub evaluation_periods: i32,
    pub actions: Vec<String>,
}

fn dimensions(dims: &[(String, String)]) -> Vec<Dimension> {
    dims.iter()
        .map(|(k, v)| Dimension::builder().name(k).value(v).build())
        .collect()
}

fn stat_query(
    id: &str,
    namespace: &str,
    metric: &str,
    dims: &[(String, String)],
) -> MetricDataQuery {
    MetricDataQuery::builder()
        .id(id)
        .metric_stat(
            MetricStat::builder()
                .metric(
                    Metric::builder()
                        .namespace(namespace)
                        .metric_name(metric)
                        .set_dimensions(Some(dimensions(dims)))
                        .build(),
                )
                .period(PERIOD_SECS)
                .stat("Sum")
                .build(),
        )
        .return_data(false)
        .build()
}

/// Writes (or replaces) the alarm. As with [`put_cpu_alarm`], `tags` count
/// only when the alarm is new; [`set_alarm_tags`] retags one.
pub async fn put_alarm(c: &Client, a: &Alarm, tags: &Tags) -> Result<()> {
    let mut req = c
        .put_metric_alarm()
        .alarm_name(&a.name)
        .alarm_description(&a.description)
        .evaluation_periods(a.evaluation_periods)
        .datapoints_to_alarm(a.evaluation_periods)
        .threshold(a.threshold)
        .comparison_operator(if a.below {
            ComparisonOperator::LessThanThreshold
        } else {
            ComparisonOperator::GreaterThanThreshold
        })
        .treat_missing_data("notBreaching")
        .alarm_actions(&a.topic_arn)
        .ok_actions(&a.topic_arn)
        .set_tags(Some(
            tags.iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect(),
        ));
    req = match &a.watch {
        Watch::Stat {
            namespace,
            metric,
            dimensions: dims,
            stat,
        } => {
            let req = req
                .namespace(namespace)
                .metric_name(metric)
                .set_dimensions(Some(dimensions(dims)))
                .period(PERIOD_SECS);
            if Statistic::values().contains(&stat.as_str()) {
                req.statistic(Statistic::from(stat.as_str()))
            } else {
                req.extended_statistic(stat)
            }
        }
        Watch::Percent {
            namespace,
            parts,
            whole,
            dimensions: dims,
        } => {
            let ids: Vec<String> = (0..parts.len()).map(|i| format!("part{i}")).collect();
            let mut req = req;
            for (id, metric) in ids.iter().zip(parts) {
                req = req.metrics(stat_query(id, namespace, metric, dims));
            }
            req.metrics(stat_query("whole", namespace, whole, dims))
                .metrics(
                    MetricDataQuery::builder()
                        .id("percent")
                        .expression(format!(
                            "IF(whole > 0, 100 * ({}) / whole, 0)",
                            ids.join(" + ")
                        ))
                        .label(format!("{} per {whole}, %", parts.join(" + ")))
                        .return_data(true)
                        .build(),
                )
        }
    };
    req.send()
        .await
        .map_err(|e| aws_error("writing", &format!("alarm {:?}", a.name), e))?;
    Ok(())
}

/// Every metric alarm whose name starts with `prefix`, by name.
pub async fn alarms_with_prefix(
    c: &Client,
    prefix: &str,
) -> Result<std::collections::BTreeMap<String, FoundAlarm>> {
    let mut found = std::collections::BTreeMap::new();
    let mut token = None;
    loop {
        let out = c
            .describe_alarms()
            .alarm_name_prefix(prefix)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| aws_error("describing", &format!("alarms {prefix}*"), e))?;
        for a in out.metric_alarms() {
            let Some(name) = a.alarm_name() else { continue };
            found.insert(
                name.to_string(),
                FoundAlarm {
                    arn: a.alarm_arn().unwrap_or_default().to_string(),
                    threshold: a.threshold().unwrap_or_default(),
                    evaluation_periods: a.evaluation_periods().unwrap_or_default(),
                    actions: a.alarm_actions().to_vec(),
                },
            );
        }
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(found);
        }
    }
}

/// Deletes the alarms named; names already gone are done. "In the event of
/// an error, no alarms are deleted" (DeleteAlarms), so when some of a batch
/// are gone the rest are deleted one by one.
pub async fn delete_alarms(c: &Client, names: &[String]) -> Result<()> {
    // "You can delete up to 100 alarms in one operation" (DeleteAlarms).
    for chunk in names.chunks(100) {
        match delete_alarm_batch(c, chunk).await {
            Err(e) if e.is_not_found() && chunk.len() > 1 => {
                for name in chunk {
                    gone_is_done(delete_alarm_batch(c, std::slice::from_ref(name)).await)?;
                }
            }
            other => gone_is_done(other)?,
        }
    }
    Ok(())
}

async fn delete_alarm_batch(c: &Client, names: &[String]) -> Result<()> {
    c.delete_alarms()
        .set_alarm_names(Some(names.to_vec()))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| {
            not_found_if("deleting", &format!("alarms {names:?}"), e, |e| {
                e.is_resource_not_found()
            })
        })
}

/// The tags of the alarm (or any CloudWatch resource) with this ARN.
pub async fn tags_of(c: &Client, arn: &str) -> Result<Tags> {
    let out = c
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| aws_error("listing tags of", arn, e))?;
    Ok(out
        .tags()
        .iter()
        .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
        .collect())
}

/// Writes the dashboard; CloudWatch's validation messages are an error.
pub async fn put_dashboard(c: &Client, name: &str, body: &str) -> Result<()> {
    let part = format!("dashboard {name:?}");
    let out = c
        .put_dashboard()
        .dashboard_name(name)
        .dashboard_body(body)
        .send()
        .await
        .map_err(|e| aws_error("writing", &part, e))?;
    let problems: Vec<String> = out
        .dashboard_validation_messages()
        .iter()
        .map(|m| {
            format!(
                "{}: {}",
                m.data_path().unwrap_or("body"),
                m.message().unwrap_or_default()
            )
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(crate::error::Error::Aws {
            action: "writing".into(),
            part,
            code: "DashboardValidationMessages".into(),
            message: problems.join("; "),
        })
    }
}

/// The dashboard's ARN and body, or `None` when there is no such dashboard.
pub async fn get_dashboard(c: &Client, name: &str) -> Result<Option<(String, String)>> {
    let out = gone_is_none(
        c.get_dashboard()
            .dashboard_name(name)
            .send()
            .await
            .map_err(|e| {
                not_found_if("reading", &format!("dashboard {name:?}"), e, |e| {
                    e.is_dashboard_not_found_error()
                })
            }),
    )?;
    Ok(out.map(|o| {
        (
            o.dashboard_arn().unwrap_or_default().to_string(),
            o.dashboard_body().unwrap_or_default().to_string(),
        )
    }))
}

pub async fn delete_dashboard(c: &Client, name: &str) -> Result<()> {
    gone_is_done(
        c.delete_dashboards()
            .dashboard_names(name)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                not_found_if("deleting", &format!("dashboard {name:?}"), e, |e| {
                    e.is_dashboard_not_found_error()
                })
            }),
    )
}
