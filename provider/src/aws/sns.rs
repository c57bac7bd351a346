//! SNS: the topic a service's alarms notify.

use aws_sdk_sns::types::Tag;
use aws_sdk_sns::Client;

use super::{aws_error, gone_is_done, not_found_if, tag_changes};
use crate::error::Result;

pub use super::Tags;

/// Makes the topic (CreateTopic of an existing name returns it); returns its ARN.
pub async fn create_topic(c: &Client, name: &str, tags: &Tags) -> Result<String> {
    let out = c
        .create_topic()
        .name(name)
        .set_tags(Some(
            tags.iter()
                .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
                .collect(),
        ))
        .send()
        .await
        .map_err(|e| aws_error("creating", &format!("SNS topic {name:?}"), e))?;
    Ok(out.topic_arn().unwrap_or_default().to_string())
}

/// The ARN of the topic named `name`, if there is one.
pub async fn topic_named(c: &Client, name: &str) -> Result<Option<String>> {
    let mut token = None;
    loop {
        let page = c
            .list_topics()
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| aws_error("listing", "SNS topics", e))?;
        if let Some(arn) = page
            .topics()
            .iter()
            .filter_map(|t| t.topic_arn())
            .find(|arn| arn.rsplit(':').next() == Some(name))
        {
            return Ok(Some(arn.to_string()));
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(None);
        }
    }
}

/// Whether the topic exists.
pub async fn topic_exists(c: &Client, arn: &str) -> Result<bool> {
    match c.get_topic_attributes().topic_arn(arn).send().await {
        Ok(_) => Ok(true),
        Err(e) => {
            let e = not_found_if("reading", &format!("SNS topic {arn}"), e, |e| {
                e.is_not_found_exception()
            });
            if e.is_not_found() {
                Ok(false)
            } else {
                Err(e)
            }
        }
    }
}

/// The endpoints (such as Lambda ARNs) subscribed to the topic.
pub async fn subscriptions(c: &Client, arn: &str) -> Result<Vec<(String, String)>> {
    let out = c
        .list_subscriptions_by_topic()
        .topic_arn(arn)
        .send()
        .await
        .map_err(|e| aws_error("listing", &format!("subscriptions of {arn}"), e))?;
    Ok(out
        .subscriptions()
        .iter()
        .filter_map(|s| Some((s.subscription_arn()?.to_string(), s.endpoint()?.to_string())))
        .collect())
}

/// Subscribes a Lambda function, unless it already is.
pub async fn subscribe_lambda(c: &Client, topic: &str, function_arn: &str) -> Result<()> {
    if subscriptions(c, topic)
        .await?
        .iter()
        .any(|(_, e)| e == function_arn)
    {
        return Ok(());
    }
    c.subscribe()
        .topic_arn(topic)
        .protocol("lambda")
        .endpoint(function_arn)
        .send()
        .await
        .map_err(|e| aws_error("subscribing", &format!("{function_arn} to {topic}"), e))?;
    Ok(())
}

/// Deletes the topic (its subscriptions go with it). Gone is done.
pub async fn delete_topic(c: &Client, arn: &str) -> Result<()> {
    for (sub, _) in subscriptions(c, arn).await.unwrap_or_default() {
        let _ = c.unsubscribe().subscription_arn(sub).send().await;
    }
    gone_is_done(
        c.delete_topic()
            .topic_arn(arn)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                not_found_if("deleting", &format!("SNS topic {arn}"), e, |e| {
                    e.is_not_found_exception()
                })
            }),
    )
}

/// Retags the topic.
pub async fn set_topic_tags(c: &Client, arn: &str, had: &Tags, want: &Tags) -> Result<()> {
    let part = format!("SNS topic {arn}");
    let (set, removed) = tag_changes(had, want);
    if !set.is_empty() {
        c.tag_resource()
            .resource_arn(arn)
            .set_tags(Some(
                set.iter()
                    .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
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
