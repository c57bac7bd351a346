//! Secrets Manager: the connection secret a database publishes for its apps.

use aws_sdk_secretsmanager::types::Tag;
use aws_sdk_secretsmanager::Client;

use super::{aws_error, not_found_if, retry_eventual_when};
use crate::error::Result;

pub use super::Tags;

fn to_tags(tags: &Tags) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// Creates a secret holding `value`; returns its ARN.
pub async fn create_secret(
    c: &Client,
    name: &str,
    description: &str,
    value: &str,
    tags: &Tags,
) -> Result<String> {
    // A name force-deleted a moment ago is still "scheduled for deletion"
    // until Secrets Manager's background process is done: "If you delete a
    // secret and then immediately create a secret with the same name, use
    // appropriate back off and retry logic" (DeleteSecret API reference).
    let scheduled = [("InvalidRequestException", "scheduled for deletion")];
    let out = retry_eventual_when(&scheduled, || async {
        c.create_secret()
            .name(name)
            .description(description)
            .secret_string(value)
            .set_tags(Some(to_tags(tags)))
            .send()
            .await
            .map_err(|e| aws_error("creating", &format!("secret {name:?}"), e))
    })
    .await?;
    Ok(out.arn().unwrap_or_default().to_string())
}

/// A secret's current value and tags; `None` when it is gone or scheduled for deletion.
pub async fn read_secret(c: &Client, arn: &str) -> Result<Option<(String, Tags)>> {
    let part = format!("secret {arn}");
    let described = match c.describe_secret().secret_id(arn).send().await {
        Ok(d) => d,
        Err(e) => {
            let e = not_found_if("describing", &part, e, |e| {
                e.is_resource_not_found_exception()
            });
            return if e.is_not_found() { Ok(None) } else { Err(e) };
        }
    };
    if described.deleted_date().is_some() {
        return Ok(None);
    }
    let tags = described
        .tags()
        .iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect();
    let value = c
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| aws_error("reading", &part, e))?;
    Ok(Some((
        value.secret_string().unwrap_or_default().to_string(),
        tags,
    )))
}

/// The ARN of the live secret with this name, if there is one.
pub async fn secret_named(c: &Client, name: &str) -> Result<Option<String>> {
    match c.describe_secret().secret_id(name).send().await {
        Ok(d) if d.deleted_date().is_none() => Ok(d.arn().map(str::to_string)),
        Ok(_) => Ok(None),
        Err(e) => {
            let e = not_found_if("describing", &format!("secret {name:?}"), e, |e| {
                e.is_resource_not_found_exception()
            });
            if e.is_not_found() {
                Ok(None)
            } else {
                Err(e)
            }
        }
    }
}

pub async fn put_value(c: &Client, arn: &str, value: &str) -> Result<()> {
    c.put_secret_value()
        .secret_id(arn)
        .secret_string(value)
        .send()
        .await
        .map_err(|e| aws_error("updating", &format!("secret {arn}"), e))?;
    Ok(())
}

pub async fn set_tags(c: &Client, arn: &str, had: &Tags, want: &Tags) -> Result<()> {
    let changed: Tags = want
        .iter()
        .filter(|(k, v)| had.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !changed.is_empty() {
        c.tag_resource()
            .secret_id(arn)
            .set_tags(Some(to_tags(&changed)))
            .send()
            .await
            .map_err(|e| aws_error("tagging", &format!("secret {arn}"), e))?;
    }
    let removed: Vec<String> = had
        .keys()
        .filter(|k| !want.contains_key(*k))
        .cloned()
        .collect();
    if !removed.is_empty() {
        c.untag_resource()
            .secret_id(arn)
            .set_tag_keys(Some(removed))
            .send()
            .await
            .map_err(|e| aws_error("untagging", &format!("secret {arn}"), e))?;
    }
    Ok(())
}

/// Deletes at once, without the recovery window: what it holds is derived
/// from the cluster and is written again by the next create. Gone is done.
pub async fn delete_secret(c: &Client, arn: &str) -> Result<()> {
    match c
        .delete_secret()
        .secret_id(arn)
        .force_delete_without_recovery(true)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => {
            let e = not_found_if("deleting", &format!("secret {arn}"), e, |e| {
                e.is_resource_not_found_exception()
            });
            if e.is_not_found() {
                Ok(())
            } else {
                Err(e)
            }
        }
    }
}

#[cfg(test)]
#[path = "secrets_tests.rs"]
mod tests;
