//! Secrets Manager: the connection secret a database publishes for its apps,
//! the Slack webhook of a service's alarms, and the origin secret CloudFront
//! sends to a service's load balancer.

use aws_sdk_secretsmanager::types::Tag;
use aws_sdk_secretsmanager::Client;

use super::{aws_error, gone_is_none, not_found_if, retry_eventual_when};
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

/// The secret `id` (an ARN or a name) as DescribeSecret has it; `None` when
/// it is gone or scheduled for deletion. `part` names it in errors.
async fn describe_live(
    c: &Client,
    id: &str,
    part: &str,
) -> Result<Option<aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput>> {
    let described = gone_is_none(c.describe_secret().secret_id(id).send().await.map_err(|e| {
        not_found_if("describing", part, e, |e| {
            e.is_resource_not_found_exception()
        })
    }))?;
    Ok(described.filter(|d| d.deleted_date().is_none()))
}

/// A secret's current value and tags; `None` when it is gone or scheduled for deletion.
pub async fn read_secret(c: &Client, arn: &str) -> Result<Option<(String, Tags)>> {
    let part = format!("secret {arn}");
    let Some(described) = describe_live(c, arn, &part).await? else {
        return Ok(None);
    };
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
    Ok(describe_live(c, name, &format!("secret {name:?}"))
        .await?
        .and_then(|d| d.arn().map(str::to_string)))
}

/// Writes a new value: it becomes `AWSCURRENT`, and the value it replaces
/// `AWSPREVIOUS`. Returns the new version's id.
pub async fn put_value(c: &Client, arn: &str, value: &str) -> Result<String> {
    let out = c
        .put_secret_value()
        .secret_id(arn)
        .secret_string(value)
        .send()
        .await
        .map_err(|e| aws_error("updating", &format!("secret {arn}"), e))?;
    Ok(out.version_id().unwrap_or_default().to_string())
}

/// A secret's value, kept out of `Debug` output and so out of every log.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(String);

impl SecretValue {
    pub fn new(value: impl Into<String>) -> SecretValue {
        SecretValue(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretValue(hidden)")
    }
}

/// One version of a secret: its id and value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    pub id: String,
    pub value: SecretValue,
}

/// A secret's `AWSCURRENT` version and, once it has been rotated, its
/// `AWSPREVIOUS` one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Versions {
    pub current: Version,
    pub previous: Option<Version>,
}

/// The ids of the `AWSCURRENT` and `AWSPREVIOUS` versions, without reading
/// their values; `None` when the secret is gone or scheduled for deletion.
pub async fn version_ids(c: &Client, arn: &str) -> Result<Option<(String, Option<String>)>> {
    let Some(d) = describe_live(c, arn, &format!("secret {arn}")).await? else {
        return Ok(None);
    };
    let staged = |stage: &str| {
        d.version_ids_to_stages()
            .into_iter()
            .flatten()
            .find(|(_, stages)| stages.iter().any(|s| s == stage))
            .map(|(id, _)| id.clone())
    };
    Ok(staged("AWSCURRENT").map(|current| (current, staged("AWSPREVIOUS"))))
}

/// The value of the version `id` of the secret.
pub async fn value_of(c: &Client, arn: &str, id: &str) -> Result<SecretValue> {
    let out = c
        .get_secret_value()
        .secret_id(arn)
        .version_id(id)
        .send()
        .await
        .map_err(|e| aws_error("reading", &format!("version {id} of secret {arn}"), e))?;
    Ok(SecretValue::new(out.secret_string().unwrap_or_default()))
}

/// The secret's current and previous versions with their values; `None`
/// when the secret is gone or scheduled for deletion.
pub async fn versions(c: &Client, arn: &str) -> Result<Option<Versions>> {
    let Some((current, previous)) = version_ids(c, arn).await? else {
        return Ok(None);
    };
    let current = Version {
        value: value_of(c, arn, &current).await?,
        id: current,
    };
    let previous = match previous {
        Some(id) => Some(Version {
            value: value_of(c, arn, &id).await?,
            id,
        }),
        None => None,
    };
    Ok(Some(Versions { current, previous }))
}

/// A new random secret of 64 lowercase letters and digits (about 330 bits),
/// made by Secrets Manager (GetRandomPassword): what an origin header
/// carries, compared by the load balancer without regard to case.
pub async fn random_value(c: &Client) -> Result<SecretValue> {
    let out = c
        .get_random_password()
        .password_length(64)
        .exclude_uppercase(true)
        .exclude_punctuation(true)
        .include_space(false)
        .send()
        .await
        .map_err(|e| aws_error("making", "a random secret", e))?;
    Ok(SecretValue::new(out.random_password().unwrap_or_default()))
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
