//! ECR: the API's image repository, and the digest a tag names.

use aws_sdk_ecr::types::{ImageIdentifier, ImageScanningConfiguration, ImageTagMutability, Tag};
use aws_sdk_ecr::Client;

use super::{aws_error, build_error, gone_is_done, gone_is_none, not_found_if, tag_changes};
use crate::error::{Error, Result};

pub use super::Tags;

/// The OCI label the task's container carries with the tag its image was
/// pinned from: a digest does not say which version it is.
pub const VERSION_LABEL: &str = "org.opencontainers.image.version";

/// A repository as ECR has it.
#[derive(Clone, Debug, PartialEq)]
pub struct Repository {
    pub arn: String,
    /// `<account>.dkr.ecr.<region>.amazonaws.com/<name>`: the image, without a tag.
    pub uri: String,
    pub immutable: bool,
    pub scan_on_push: bool,
}

/// What a tag names in a repository.
#[derive(Clone, Debug, PartialEq)]
pub enum Lookup {
    NoRepository,
    NoTag,
    Digest(String),
}

fn part(name: &str) -> String {
    format!("ECR repository {name:?}")
}

fn to_tags(tags: &Tags) -> Result<Vec<Tag>> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| build_error("ECR tags", e))
        })
        .collect()
}

fn mutability(immutable: bool) -> ImageTagMutability {
    if immutable {
        ImageTagMutability::Immutable
    } else {
        ImageTagMutability::Mutable
    }
}

fn scanning(scan_on_push: bool) -> ImageScanningConfiguration {
    ImageScanningConfiguration::builder()
        .scan_on_push(scan_on_push)
        .build()
}

/// The repository `name` (of the account `registry`, or of the caller's);
/// `None` when there is none.
pub async fn repository(
    c: &Client,
    registry: Option<&str>,
    name: &str,
) -> Result<Option<Repository>> {
    let out = gone_is_none(
        c.describe_repositories()
            .set_registry_id(registry.map(str::to_string))
            .repository_names(name)
            .send()
            .await
            .map_err(|e| {
                not_found_if("describing", &part(name), e, |e| {
                    e.is_repository_not_found_exception()
                })
            }),
    )?;
    Ok(out.and_then(|o| {
        o.repositories().first().map(|r| Repository {
            arn: r.repository_arn().unwrap_or_default().to_string(),
            uri: r.repository_uri().unwrap_or_default().to_string(),
            immutable: matches!(
                r.image_tag_mutability(),
                Some(ImageTagMutability::Immutable | ImageTagMutability::ImmutableWithExclusion)
            ),
            scan_on_push: r
                .image_scanning_configuration()
                .is_some_and(|s| s.scan_on_push()),
        })
    }))
}

/// Makes the repository, with tag immutability and scan on push as given;
/// returns it. One that exists already is an error: the caller looks first.
pub async fn create_repository(
    c: &Client,
    name: &str,
    immutable: bool,
    scan_on_push: bool,
    tags: &Tags,
) -> Result<Repository> {
    let out = c
        .create_repository()
        .repository_name(name)
        .image_tag_mutability(mutability(immutable))
        .image_scanning_configuration(scanning(scan_on_push))
        .set_tags(Some(to_tags(tags)?))
        .send()
        .await
        .map_err(|e| aws_error("creating", &part(name), e))?;
    let r = out.repository();
    Ok(Repository {
        arn: r
            .and_then(|r| r.repository_arn())
            .unwrap_or_default()
            .to_string(),
        uri: r
            .and_then(|r| r.repository_uri())
            .unwrap_or_default()
            .to_string(),
        immutable,
        scan_on_push,
    })
}

/// Sets tag immutability and scan on push where they differ from `had`.
pub async fn set_settings(
    c: &Client,
    name: &str,
    had: &Repository,
    immutable: bool,
    scan_on_push: bool,
) -> Result<()> {
    if had.immutable != immutable {
        c.put_image_tag_mutability()
            .repository_name(name)
            .image_tag_mutability(mutability(immutable))
            .send()
            .await
            .map_err(|e| aws_error("setting tag immutability of", &part(name), e))?;
    }
    if had.scan_on_push != scan_on_push {
        c.put_image_scanning_configuration()
            .repository_name(name)
            .image_scanning_configuration(scanning(scan_on_push))
            .send()
            .await
            .map_err(|e| aws_error("setting scan on push of", &part(name), e))?;
    }
    Ok(())
}

/// The lifecycle policy this provider writes: untagged images expire a day
/// after their push (a tag moved away, or a failed build's layers), and of
/// the tagged ones the newest `keep` stay.
pub fn lifecycle_policy(keep: i64) -> String {
    serde_json::json!({
        "rules": [
            {
                "rulePriority": 1,
                "description": "Expire untagged images a day after their push",
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": 1
                },
                "action": { "type": "expire" }
            },
            {
                "rulePriority": 2,
                "description": format!("Keep the newest {keep} tagged images"),
                "selection": {
                    "tagStatus": "tagged",
                    "tagPatternList": ["*"],
                    "countType": "imageCountMoreThan",
                    "countNumber": keep
                },
                "action": { "type": "expire" }
            }
        ]
    })
    .to_string()
}

/// How many tagged images `text` keeps, when it is exactly a policy
/// [`lifecycle_policy`] writes; `None` for any other policy.
pub fn kept_by(text: &str) -> Option<i64> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let keep = v
        .get("rules")?
        .as_array()?
        .iter()
        .find(|r| r["selection"]["tagStatus"] == "tagged")?["selection"]["countNumber"]
        .as_i64()?;
    let ours: serde_json::Value = serde_json::from_str(&lifecycle_policy(keep)).ok()?;
    (v == ours).then_some(keep)
}

/// The repository's lifecycle policy text; `None` when it has none.
pub async fn lifecycle(c: &Client, name: &str) -> Result<Option<String>> {
    let out = gone_is_none(
        c.get_lifecycle_policy()
            .repository_name(name)
            .send()
            .await
            .map_err(|e| {
                not_found_if("reading the lifecycle policy of", &part(name), e, |e| {
                    e.is_lifecycle_policy_not_found_exception()
                        || e.is_repository_not_found_exception()
                })
            }),
    )?;
    Ok(out.and_then(|o| o.lifecycle_policy_text().map(str::to_string)))
}

pub async fn put_lifecycle(c: &Client, name: &str, keep: i64) -> Result<()> {
    c.put_lifecycle_policy()
        .repository_name(name)
        .lifecycle_policy_text(lifecycle_policy(keep))
        .send()
        .await
        .map_err(|e| aws_error("setting the lifecycle policy of", &part(name), e))?;
    Ok(())
}

/// The digest `tag` names in the repository.
pub async fn digest_of(
    c: &Client,
    registry: Option<&str>,
    name: &str,
    tag: &str,
) -> Result<Lookup> {
    let res = c
        .describe_images()
        .set_registry_id(registry.map(str::to_string))
        .repository_name(name)
        .image_ids(ImageIdentifier::builder().image_tag(tag).build())
        .send()
        .await;
    match res {
        Ok(out) => Ok(out
            .image_details()
            .first()
            .and_then(|d| d.image_digest())
            .map(|d| Lookup::Digest(d.to_string()))
            .unwrap_or(Lookup::NoTag)),
        Err(e) => {
            let no_repo = e
                .as_service_error()
                .is_some_and(|e| e.is_repository_not_found_exception());
            let no_tag = e
                .as_service_error()
                .is_some_and(|e| e.is_image_not_found_exception());
            if no_repo {
                Ok(Lookup::NoRepository)
            } else if no_tag {
                Ok(Lookup::NoTag)
            } else {
                Err(aws_error(
                    "describing",
                    &format!("image {tag:?} of {}", part(name)),
                    e,
                ))
            }
        }
    }
}

/// Whether the repository holds any image (a gone one holds none).
pub async fn has_images(c: &Client, name: &str) -> Result<bool> {
    let out = gone_is_none(
        c.list_images()
            .repository_name(name)
            .max_results(1)
            .send()
            .await
            .map_err(|e| {
                not_found_if("listing the images of", &part(name), e, |e| {
                    e.is_repository_not_found_exception()
                })
            }),
    )?;
    Ok(out.is_some_and(|o| !o.image_ids().is_empty()))
}

pub async fn tags_of(c: &Client, arn: &str) -> Result<Tags> {
    let out = c
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| aws_error("listing the tags of", arn, e))?;
    Ok(out
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect())
}

pub async fn set_tags(c: &Client, arn: &str, had: &Tags, want: &Tags) -> Result<()> {
    let (set, removed) = tag_changes(had, want);
    if !set.is_empty() {
        c.tag_resource()
            .resource_arn(arn)
            .set_tags(Some(to_tags(&set)?))
            .send()
            .await
            .map_err(|e| aws_error("tagging", arn, e))?;
    }
    if !removed.is_empty() {
        c.untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(removed))
            .send()
            .await
            .map_err(|e| aws_error("untagging", arn, e))?;
    }
    Ok(())
}

/// Deletes the repository. With images in it, only with `force` (which
/// deletes them too); without, the error says so and nothing is lost.
/// Gone is done.
pub async fn delete_repository(c: &Client, name: &str, force: bool) -> Result<()> {
    let res = c
        .delete_repository()
        .repository_name(name)
        .force(force)
        .send()
        .await;
    match res {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_repository_not_empty_exception()) =>
        {
            Err(Error::Refused {
                action: "deleting".into(),
                part: part(name),
                why: "it still holds images, which a delete would lose: push them elsewhere or delete them, or set `repository.force_delete = true` (and apply) to delete them with it".into(),
            })
        }
        Err(e) => gone_is_done(Err(not_found_if("deleting", &part(name), e, |e| {
            e.is_repository_not_found_exception()
        }))),
    }
}

/// `(registry, region, name)` of a private ECR image repository
/// (`<account>.dkr.ecr.<region>.amazonaws.com/<name>`); `None` for any other.
pub fn parse_uri(uri: &str) -> Option<(String, String, String)> {
    let (host, name) = uri.split_once('/')?;
    let (account, rest) = host.split_once(".dkr.ecr.")?;
    let region = rest.split_once(".amazonaws.com")?.0;
    let ok = account.len() == 12
        && account.chars().all(|c| c.is_ascii_digit())
        && !region.is_empty()
        && !name.is_empty();
    ok.then(|| (account.to_string(), region.to_string(), name.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lifecycle_policy_reads_back_only_as_written() {
        let text = lifecycle_policy(30);
        assert_eq!(kept_by(&text), Some(30));
        let v: serde_json::Value = serde_json::from_str(&text).expect("json");
        let rules = v["rules"].as_array().expect("rules");
        assert_eq!(rules[0]["selection"]["tagStatus"], "untagged");
        assert_eq!(rules[0]["selection"]["countNumber"], 1);
        assert_eq!(rules[1]["selection"]["countType"], "imageCountMoreThan");
        // A policy changed by hand is not ours: it reads as none.
        let changed = text.replace("\"countNumber\":1", "\"countNumber\":7");
        assert_ne!(changed, text);
        assert_eq!(kept_by(&changed), None);
        assert_eq!(kept_by("{\"rules\":[]}"), None);
        assert_eq!(kept_by("not json"), None);
    }

    #[test]
    fn private_ecr_image_uris_are_parsed() {
        assert_eq!(
            parse_uri("123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/team/api"),
            Some((
                "123456789012".into(),
                "ap-northeast-2".into(),
                "team/api".into()
            ))
        );
        assert_eq!(parse_uri("public.ecr.aws/team/api"), None);
        assert_eq!(parse_uri("ghcr.io/team/api"), None);
        assert_eq!(parse_uri("1234.dkr.ecr.us-east-1.amazonaws.com/api"), None);
    }
}
