//! Systems Manager: public parameters (the latest AMI), Session Manager
//! documents, and whether an instance's agent is online.

use std::time::Duration;

use aws_sdk_ssm::types::{
    DocumentFormat, DocumentType, InstanceInformationStringFilter, ResourceTypeForTagging, Tag,
};
use aws_sdk_ssm::Client;

use super::wait::{Missing, Seen, Wait};
use super::{aws_error, build_error, gone_is_done, gone_is_none, not_found_if, tag_changes};
use crate::error::Result;

pub use super::Tags;

fn doc_part(name: &str) -> String {
    format!("SSM document {name:?}")
}

fn to_tags(tags: &Tags) -> Result<Vec<Tag>> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| build_error("SSM tags", e))
        })
        .collect()
}

/// A parameter's value (such as AWS's public AMI parameters); `None` when
/// there is no such parameter in the region.
pub async fn parameter(c: &Client, name: &str) -> Result<Option<String>> {
    let out = gone_is_none(c.get_parameter().name(name).send().await.map_err(|e| {
        not_found_if("reading", &format!("SSM parameter {name:?}"), e, |e| {
            e.is_parameter_not_found()
        })
    }))?;
    Ok(out.and_then(|o| o.parameter().and_then(|p| p.value()).map(str::to_string)))
}

/// The default version's content of the document; `None` when it is gone.
pub async fn document(c: &Client, name: &str) -> Result<Option<String>> {
    let out =
        gone_is_none(c.get_document().name(name).send().await.map_err(|e| {
            not_found_if("reading", &doc_part(name), e, |e| e.is_invalid_document())
        }))?;
    Ok(out.and_then(|o| o.content().map(str::to_string)))
}

/// Makes a Session Manager document (type `Session`, JSON).
pub async fn create_document(c: &Client, name: &str, content: &str, tags: &Tags) -> Result<()> {
    c.create_document()
        .name(name)
        .content(content)
        .document_type(DocumentType::Session)
        .document_format(DocumentFormat::Json)
        .set_tags(Some(to_tags(tags)?))
        .send()
        .await
        .map_err(|e| aws_error("creating", &doc_part(name), e))?;
    Ok(())
}

/// Writes `content` as a new version and makes it the default (the version
/// a session uses). Content a version already has is made the default as it is.
pub async fn update_document(c: &Client, name: &str, content: &str) -> Result<()> {
    let res = c
        .update_document()
        .name(name)
        .content(content)
        .document_version("$LATEST")
        .document_format(DocumentFormat::Json)
        .send()
        .await;
    let version = match res {
        Ok(out) => out
            .document_description()
            .and_then(|d| d.document_version())
            .map(str::to_string),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_duplicate_document_content()) =>
        {
            // A version has this content already: it becomes the default.
            version_with(c, name, content).await?
        }
        Err(e) => return Err(aws_error("updating", &doc_part(name), e)),
    };
    if let Some(version) = version {
        c.update_document_default_version()
            .name(name)
            .document_version(version)
            .send()
            .await
            .map_err(|e| aws_error("setting the default version of", &doc_part(name), e))?;
    }
    Ok(())
}

/// The version of the document whose content is `content`, newest first;
/// versions are numbered from 1 to the latest.
async fn version_with(c: &Client, name: &str, content: &str) -> Result<Option<String>> {
    let d = c
        .describe_document()
        .name(name)
        .send()
        .await
        .map_err(|e| aws_error("describing", &doc_part(name), e))?;
    let latest: u32 = d
        .document()
        .and_then(|d| d.latest_version())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    for version in (1..=latest).rev().map(|v| v.to_string()) {
        let out = c
            .get_document()
            .name(name)
            .document_version(&version)
            .send()
            .await
            .map_err(|e| aws_error("reading", &doc_part(name), e))?;
        if out.content().is_some_and(|had| same_json(had, content)) {
            return Ok(Some(version));
        }
    }
    Ok(None)
}

/// Makes the document, or brings an existing one to `content`.
pub async fn ensure_document(c: &Client, name: &str, content: &str, tags: &Tags) -> Result<()> {
    match document(c, name).await? {
        None => create_document(c, name, content, tags).await,
        Some(had) if same_json(&had, content) => Ok(()),
        Some(_) => update_document(c, name, content).await,
    }
}

/// Whether two JSON texts hold the same value (AWS may reformat a document).
pub fn same_json(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<serde_json::Value>(a),
        serde_json::from_str::<serde_json::Value>(b),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Deletes every version of the document. Gone is done.
pub async fn delete_document(c: &Client, name: &str) -> Result<()> {
    gone_is_done(
        c.delete_document()
            .name(name)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| not_found_if("deleting", &doc_part(name), e, |e| e.is_invalid_document())),
    )
}

pub async fn document_tags(c: &Client, name: &str) -> Result<Tags> {
    let out = c
        .list_tags_for_resource()
        .resource_type(ResourceTypeForTagging::Document)
        .resource_id(name)
        .send()
        .await
        .map_err(|e| aws_error("listing the tags of", &doc_part(name), e))?;
    Ok(out
        .tag_list()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect())
}

pub async fn set_document_tags(c: &Client, name: &str, had: &Tags, want: &Tags) -> Result<()> {
    let (set, removed) = tag_changes(had, want);
    if !set.is_empty() {
        c.add_tags_to_resource()
            .resource_type(ResourceTypeForTagging::Document)
            .resource_id(name)
            .set_tags(Some(to_tags(&set)?))
            .send()
            .await
            .map_err(|e| aws_error("tagging", &doc_part(name), e))?;
    }
    if !removed.is_empty() {
        c.remove_tags_from_resource()
            .resource_type(ResourceTypeForTagging::Document)
            .resource_id(name)
            .set_tag_keys(Some(removed))
            .send()
            .await
            .map_err(|e| aws_error("untagging", &doc_part(name), e))?;
    }
    Ok(())
}

/// The instance's agent `PingStatus` (`Online`, `ConnectionLost`,
/// `Inactive`); `None` while its agent has not registered.
pub async fn ping_status(c: &Client, instance_id: &str) -> Result<Option<String>> {
    let out = c
        .describe_instance_information()
        .filters(
            InstanceInformationStringFilter::builder()
                .key("InstanceIds")
                .values(instance_id)
                .build()
                .map_err(|e| build_error("an instance information filter", e))?,
        )
        .send()
        .await
        .map_err(|e| {
            aws_error(
                "describing",
                &format!("the Systems Manager agent of {instance_id}"),
                e,
            )
        })?;
    Ok(out
        .instance_information_list()
        .iter()
        .find(|i| i.instance_id() == Some(instance_id))
        .and_then(|i| i.ping_status())
        .map(|s| s.as_str().to_string()))
}

/// How long a new instance's agent may take to register: the instance boots
/// (a minute or two), the agent starts and needs its role's credentials,
/// which for a role or instance profile made just before can take longer
/// (IAM is eventually consistent; the agent retries with backoff).
pub const AGENT_ONLINE: Duration = Duration::from_secs(10 * 60);

/// Waits until the instance's agent is `Online`, that is, until sessions can
/// be started on it.
pub async fn wait_online(c: &Client, instance_id: &str, limit: Duration) -> Result<()> {
    let part = format!("the Systems Manager agent of {instance_id}");
    Wait {
        part: &part,
        goal: "online",
        done: &["Online"],
        pending: &["not registered", "ConnectionLost", "Inactive"],
        missing: Missing::Fails,
        timeout: limit,
    }
    .until(|| async {
        Ok(Some(Seen::status(
            ping_status(c, instance_id)
                .await?
                .unwrap_or_else(|| "not registered".into()),
        )))
    })
    .await
    .map(|_| ())
}
