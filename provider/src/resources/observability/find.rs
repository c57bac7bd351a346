//! Reading a fansite_observability back from AWS: the dashboard, the alarms
//! in both regions, the saved queries and the us-east-1 topic.

use std::collections::BTreeMap;

use crate::aws::{cloudwatch, logs, sns, Aws};
use crate::error::Result;
use crate::resources::{null_if_unset, own_tags};

use super::panels::{canonical, GLOBAL_REGION};
use super::state::{alarm_name, is_global, query_name, ObservabilityState, ALARM_KINDS};

/// The alarms of the resource `name` that exist, by kind, with what
/// CloudWatch has of each: one DescribeAlarms by prefix per region.
pub async fn alarms(
    aws: &Aws,
    name: &str,
) -> Result<BTreeMap<&'static str, cloudwatch::FoundAlarm>> {
    let prefix = format!("{name}-");
    let here = cloudwatch::alarms_with_prefix(&aws.cloudwatch, &prefix).await?;
    let global = if aws.region == GLOBAL_REGION {
        here.clone()
    } else {
        cloudwatch::alarms_with_prefix(&aws.cloudwatch_global, &prefix).await?
    };
    Ok(ALARM_KINDS
        .iter()
        .filter_map(|kind| {
            let found = if is_global(kind) { &global } else { &here };
            found
                .get(&alarm_name(name, kind))
                .map(|a| (*kind, a.clone()))
        })
        .collect())
}

/// The saved queries of the resource `name`, by key: (id, `SOURCE … | query`).
pub async fn queries(aws: &Aws, name: &str) -> Result<BTreeMap<String, (String, String)>> {
    let prefix = query_name(name, "");
    let mut found = logs::query_definitions(&aws.logs, &prefix).await?;
    if aws.region != GLOBAL_REGION {
        found.extend(logs::query_definitions(&aws.waf_logs, &prefix).await?);
    }
    Ok(found
        .into_iter()
        .filter_map(|q| {
            let key = q.name.strip_prefix(&prefix)?.to_string();
            let groups = q
                .log_groups
                .iter()
                .map(|g| format!("'{g}'"))
                .collect::<Vec<_>>()
                .join(", ");
            Some((key, (q.id, format!("SOURCE {groups} | {}", q.query))))
        })
        .collect())
}

/// The resource as AWS has it, with `hints` (the state) for its inputs.
/// `None` when nothing of it is left.
pub async fn find(aws: &Aws, hints: &ObservabilityState) -> Result<Option<ObservabilityState>> {
    let dashboard = cloudwatch::get_dashboard(&aws.cloudwatch, &hints.name).await?;
    let alarms = alarms(aws, &hints.name).await?;
    let queries = queries(aws, &hints.name).await?;
    // Outside us-east-1 the topic there is the resource's own.
    let owned_topic = match &hints.edge_alarm_topic_arn {
        Some(arn) if aws.region != GLOBAL_REGION => sns::topic_exists(&aws.sns_global, arn)
            .await?
            .then(|| arn.clone()),
        _ => None,
    };
    if dashboard.is_none() && alarms.is_empty() && queries.is_empty() && owned_topic.is_none() {
        return Ok(None);
    }
    let mut found = hints.clone();
    match dashboard {
        Some((arn, body)) => {
            found.dashboard_arn = Some(arn);
            // The body as CloudWatch keeps it, in the same canonical form as
            // the one planned, so that only a real change shows.
            found.dashboard_body = Some(
                serde_json::from_str(&body)
                    .map(|v| canonical(&v))
                    .unwrap_or(body),
            );
        }
        None => {
            found.dashboard_arn = None;
            found.dashboard_body = None;
        }
    }
    for (kind, alarm) in &alarms {
        found.set_threshold(kind, alarm.threshold, alarm.evaluation_periods);
    }
    if let Some(topic) = alarms
        .iter()
        .find(|(kind, _)| !is_global(kind))
        .and_then(|(_, a)| a.actions.first())
    {
        found.alarm_topic_arn = topic.clone();
    }
    found.alarm_names = Some(
        alarms
            .keys()
            .map(|kind| (kind.to_string(), alarm_name(&hints.name, kind)))
            .collect(),
    );
    // Tags are read from one alarm (every alarm gets the same tags): the
    // load balancer's 5xx one, unless only us-east-1 alarms are left.
    let tagged = alarms
        .iter()
        .find(|(kind, _)| !is_global(kind))
        .map(|(_, a)| (&aws.cloudwatch, a))
        .or_else(|| alarms.values().next().map(|a| (&aws.cloudwatch_global, a)));
    if let Some((client, alarm)) = tagged {
        let tags_all = cloudwatch::tags_of(client, &alarm.arn).await?;
        found.tags = null_if_unset(&hints.tags, own_tags(&tags_all, &aws.default_tags));
        found.tags_all = tags_all;
    }
    found.saved_query_ids = Some(
        queries
            .iter()
            .map(|(k, (id, _))| (k.clone(), id.clone()))
            .collect(),
    );
    found.saved_queries = Some(queries.into_iter().map(|(k, (_, q))| (k, q)).collect());
    found.edge_alarm_topic_arn = if aws.region == GLOBAL_REGION {
        hints.watches_edge().then(|| found.alarm_topic_arn.clone())
    } else {
        owned_topic
    };
    Ok(Some(found))
}
