//! CloudWatch Logs: the log group a service's containers write to, and saved Logs Insights queries.

pub use aws_sdk_cloudwatchlogs::Client;

use super::{aws_error, gone_is_done, not_found_if, tag_changes};
use crate::error::Result;

pub use super::Tags;

/// The retention periods CloudWatch Logs accepts, in days.
pub const RETENTION_DAYS: [i32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// Why `days` is not a retention CloudWatch Logs takes, if it is not.
pub fn retention_refused(days: i64) -> Option<String> {
    (!RETENTION_DAYS.contains(&i32::try_from(days).unwrap_or(-1))).then(|| {
        format!(
            "{days} is not a period CloudWatch Logs keeps; use one of {}.",
            RETENTION_DAYS
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

/// Makes the group when it is not there (a group left by an earlier create is
/// taken over), then sets its retention.
pub async fn ensure_log_group(
    c: &Client,
    name: &str,
    retention_days: i32,
    tags: &Tags,
) -> Result<()> {
    let part = format!("log group {name:?}");
    if retention(c, name).await?.is_none() {
        let res = c
            .create_log_group()
            .log_group_name(name)
            .set_tags(Some(tags.clone().into_iter().collect()))
            .send()
            .await
            .map_err(|e| aws_error("creating", &part, e));
        match res {
            Err(e) if e.code() == Some("ResourceAlreadyExistsException") => {}
            other => {
                other?;
            }
        }
    }
    set_retention(c, name, retention_days).await
}

pub async fn set_retention(c: &Client, name: &str, days: i32) -> Result<()> {
    c.put_retention_policy()
        .log_group_name(name)
        .retention_in_days(days)
        .send()
        .await
        .map_err(|e| aws_error("setting retention of", &format!("log group {name:?}"), e))?;
    Ok(())
}

/// `Some(days)` when the group exists (0 when it keeps logs forever), `None` when it does not.
pub async fn retention(c: &Client, name: &str) -> Result<Option<i32>> {
    let out = c
        .describe_log_groups()
        .log_group_name_prefix(name)
        .send()
        .await
        .map_err(|e| aws_error("describing", &format!("log group {name:?}"), e))?;
    Ok(out
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(name))
        .map(|g| g.retention_in_days().unwrap_or(0)))
}

/// Deletes the group and its logs. Gone is done.
pub async fn delete_log_group(c: &Client, name: &str) -> Result<()> {
    gone_is_done(
        c.delete_log_group()
            .log_group_name(name)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                not_found_if("deleting", &format!("log group {name:?}"), e, |e| {
                    e.is_resource_not_found_exception()
                })
            }),
    )
}

/// Retags the group `name`; a group that is gone is left alone.
pub async fn set_log_group_tags(c: &Client, name: &str, had: &Tags, want: &Tags) -> Result<()> {
    let part = format!("log group {name:?}");
    let out = c
        .describe_log_groups()
        .log_group_name_prefix(name)
        .send()
        .await
        .map_err(|e| aws_error("describing", &part, e))?;
    // TagResource takes the group's ARN without the ":*" that `arn` ends in.
    let Some(arn) = out
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(name))
        .and_then(|g| {
            g.log_group_arn()
                .map(str::to_string)
                .or_else(|| g.arn().map(|a| a.trim_end_matches(":*").to_string()))
        })
    else {
        return Ok(());
    };
    let (set, removed) = tag_changes(had, want);
    if !set.is_empty() {
        c.tag_resource()
            .resource_arn(&arn)
            .set_tags(Some(set.into_iter().collect()))
            .send()
            .await
            .map_err(|e| aws_error("tagging", &part, e))?;
    }
    if !removed.is_empty() {
        c.untag_resource()
            .resource_arn(&arn)
            .set_tag_keys(Some(removed))
            .send()
            .await
            .map_err(|e| aws_error("untagging", &part, e))?;
    }
    Ok(())
}

/// A saved Logs Insights query as CloudWatch Logs has it.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryDefinition {
    pub id: String,
    pub name: String,
    pub query: String,
    pub log_groups: Vec<String>,
}

/// Saves a Logs Insights query: a new one without `id`, else replaces the
/// query `id`. Returns its id.
pub async fn put_query_definition(
    c: &Client,
    id: Option<&str>,
    name: &str,
    log_groups: &[String],
    query: &str,
) -> Result<String> {
    let out = c
        .put_query_definition()
        .set_query_definition_id(id.map(str::to_string))
        .name(name)
        .set_log_group_names(Some(log_groups.to_vec()))
        .query_string(query)
        .send()
        .await
        .map_err(|e| aws_error("saving", &format!("Logs Insights query {name:?}"), e))?;
    Ok(out.query_definition_id().unwrap_or_default().to_string())
}

/// Every saved query whose name starts with `prefix`.
pub async fn query_definitions(c: &Client, prefix: &str) -> Result<Vec<QueryDefinition>> {
    let mut found = Vec::new();
    let mut token = None;
    loop {
        let out = c
            .describe_query_definitions()
            .query_definition_name_prefix(prefix)
            .max_results(1000)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| aws_error("describing", &format!("Logs Insights queries {prefix}*"), e))?;
        for q in out.query_definitions() {
            found.push(QueryDefinition {
                id: q.query_definition_id().unwrap_or_default().to_string(),
                name: q.name().unwrap_or_default().to_string(),
                query: q.query_string().unwrap_or_default().to_string(),
                log_groups: q.log_group_names().to_vec(),
            });
        }
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(found);
        }
    }
}

/// Deletes the saved query. Gone is done.
pub async fn delete_query_definition(c: &Client, id: &str) -> Result<()> {
    gone_is_done(
        c.delete_query_definition()
            .query_definition_id(id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                not_found_if("deleting", &format!("Logs Insights query {id}"), e, |e| {
                    e.is_resource_not_found_exception()
                })
            }),
    )
}
