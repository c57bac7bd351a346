//! S3: the private bucket that holds the built site.

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration, Delete,
    ObjectIdentifier, PublicAccessBlockConfiguration, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
    Tag, Tagging, VersioningConfiguration,
};
use aws_sdk_s3::Client;

use super::{
    aws_error, build_error, not_found_if, not_ours, owned, retry_eventual, with_owner, OWNER_TAG,
};
use crate::error::{Error, Result};

pub use super::Tags;

/// Whether S3 says the bucket does not exist. S3's SDK models no errors for
/// ListObjectVersions, GetBucketPolicy or DeleteBucket, so their
/// `NoSuchBucket` is matched as a string.
fn no_such_bucket<E: ProvideErrorMetadata>(e: &E) -> bool {
    e.code() == Some("NoSuchBucket")
}

/// The bucket's [`OWNER_TAG`] value: `Ok(None)` when it has none,
/// `Err(NotFound)` when there is no such bucket.
async fn bucket_owner(c: &Client, name: &str) -> Result<Option<String>> {
    let part = format!("bucket {name:?}");
    match c.get_bucket_tagging().bucket(name).send().await {
        Ok(o) => Ok(o
            .tag_set()
            .iter()
            .find(|t| t.key() == OWNER_TAG)
            .map(|t| t.value().to_string())),
        // S3 models no errors for GetBucketTagging: its codes are matched as strings.
        Err(e) if e.code() == Some("NoSuchTagSet") => Ok(None),
        Err(e) => Err(not_found_if(
            "reading the tags of",
            &part,
            e,
            no_such_bucket,
        )),
    }
}

/// Makes the bucket private (all public access blocked), versioned and
/// encrypted, tagged as `owner`'s ([`OWNER_TAG`]). Bucket names are global:
/// an existing bucket of that name is taken over only when it carries
/// `owner` (left by an earlier create of this edge); any other is refused.
/// (In us-east-1 CreateBucket answers 200 for a bucket the account already
/// has, so the bucket is looked for first.)
pub async fn create_bucket(
    c: &Client,
    name: &str,
    region: &str,
    tags: &Tags,
    owner: &str,
) -> Result<()> {
    let part = format!("bucket {name:?}");
    let exists = c.head_bucket().bucket(name).send().await.is_ok();
    if !exists {
        let mut req = c.create_bucket().bucket(name);
        if region != "us-east-1" {
            req = req.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(region))
                    .build(),
            );
        }
        match req.send().await {
            // Tagged as ours first, before anything else can fail. A new
            // bucket may not be visible yet to the calls that set it up
            // (terraform-provider-aws `bucketPropagationTimeout` retries
            // NoSuchBucket after CreateBucket).
            Ok(_) => {
                return retry_eventual(&["NoSuchBucket"], || secure_bucket(c, name, tags, owner))
                    .await
            }
            Err(e) => {
                let e = aws_error("creating", &part, e);
                if e.code() != Some("BucketAlreadyOwnedByYou") {
                    return Err(e);
                }
            }
        }
    }
    let found = bucket_owner(c, name).await?;
    if !owned(found.as_deref(), owner) {
        return Err(not_ours(&part, found.as_deref(), owner));
    }
    secure_bucket(c, name, tags, owner).await
}

/// Tags (with `owner`'s [`OWNER_TAG`]), public access block, versioning and
/// default encryption: what the resource keeps set.
pub async fn secure_bucket(c: &Client, name: &str, tags: &Tags, owner: &str) -> Result<()> {
    let part = format!("bucket {name:?}");
    let tag_set = with_owner(tags, owner)
        .iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| build_error(&part, e))
        })
        .collect::<Result<Vec<_>>>()?;
    c.put_bucket_tagging()
        .bucket(name)
        .tagging(
            Tagging::builder()
                .set_tag_set(Some(tag_set))
                .build()
                .map_err(|e| build_error(&part, e))?,
        )
        .send()
        .await
        .map_err(|e| aws_error("tagging", &part, e))?;
    c.put_public_access_block()
        .bucket(name)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .map_err(|e| aws_error("blocking public access to", &part, e))?;
    c.put_bucket_versioning()
        .bucket(name)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .map_err(|e| aws_error("turning on versioning of", &part, e))?;
    let rule = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(
            ServerSideEncryptionByDefault::builder()
                .sse_algorithm(ServerSideEncryption::Aes256)
                .build()
                .map_err(|e| build_error(&part, e))?,
        )
        .build();
    c.put_bucket_encryption()
        .bucket(name)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(rule)
                .build()
                .map_err(|e| build_error(&part, e))?,
        )
        .send()
        .await
        .map_err(|e| aws_error("turning on encryption of", &part, e))?;
    Ok(())
}

/// What read compares: whether the bucket exists and is fully private.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BucketInfo {
    pub private: bool,
}

pub async fn describe_bucket(c: &Client, name: &str) -> Result<Option<BucketInfo>> {
    let part = format!("bucket {name:?}");
    if let Err(e) = c.head_bucket().bucket(name).send().await {
        // HEAD answers carry no body: the SDK reads a 404 as `NotFound`.
        let e = not_found_if("finding", &part, e, |e| e.is_not_found());
        return if e.is_not_found() { Ok(None) } else { Err(e) };
    }
    let private = match c.get_public_access_block().bucket(name).send().await {
        Ok(out) => out.public_access_block_configuration().is_some_and(|p| {
            p.block_public_acls() == Some(true)
                && p.ignore_public_acls() == Some(true)
                && p.block_public_policy() == Some(true)
                && p.restrict_public_buckets() == Some(true)
        }),
        Err(_) => false,
    };
    // emulator: versioning is not read back: the local endpoint answers GetBucketVersioning
    // with a root element the SDK rejects. It is set on create and on every
    // tag change (`secure_bucket`).
    Ok(Some(BucketInfo { private }))
}

/// Lets only this CloudFront distribution read the bucket (Origin Access Control).
pub async fn allow_distribution(c: &Client, bucket: &str, distribution_arn: &str) -> Result<()> {
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "AllowCloudFrontServicePrincipalReadOnly",
            "Effect": "Allow",
            "Principal": { "Service": "cloudfront.amazonaws.com" },
            "Action": "s3:GetObject",
            "Resource": format!("arn:aws:s3:::{bucket}/*"),
            "Condition": { "StringEquals": { "AWS:SourceArn": distribution_arn } }
        }]
    });
    c.put_bucket_policy()
        .bucket(bucket)
        .policy(policy.to_string())
        .send()
        .await
        .map_err(|e| aws_error("writing the policy of", &format!("bucket {bucket:?}"), e))?;
    Ok(())
}

/// The distribution the bucket policy lets in, if any.
pub async fn allowed_distribution(c: &Client, bucket: &str) -> Result<Option<String>> {
    match c.get_bucket_policy().bucket(bucket).send().await {
        Ok(out) => {
            let v: serde_json::Value =
                serde_json::from_str(out.policy().unwrap_or("{}")).unwrap_or_default();
            Ok(
                v["Statement"][0]["Condition"]["StringEquals"]["AWS:SourceArn"]
                    .as_str()
                    .map(str::to_string),
            )
        }
        Err(e) => {
            // No policy is no distribution let in; GetBucketPolicy has no
            // modelled errors, so both codes are matched as strings.
            let e = not_found_if(
                "reading the policy of",
                &format!("bucket {bucket:?}"),
                e,
                |e| no_such_bucket(e) || e.code() == Some("NoSuchBucketPolicy"),
            );
            if e.is_not_found() {
                Ok(None)
            } else {
                Err(e)
            }
        }
    }
}

/// Whether the bucket holds any object (or version of one).
pub async fn has_objects(c: &Client, name: &str) -> Result<bool> {
    match c
        .list_object_versions()
        .bucket(name)
        .max_keys(1)
        .send()
        .await
    {
        Ok(out) => Ok(!out.versions().is_empty() || !out.delete_markers().is_empty()),
        Err(e) => {
            let e = not_found_if(
                "listing objects of",
                &format!("bucket {name:?}"),
                e,
                no_such_bucket,
            );
            if e.is_not_found() {
                Ok(false)
            } else {
                Err(e)
            }
        }
    }
}

/// Deletes the bucket; with `force`, every object version first. Without it,
/// a bucket that still holds files is an error (the site's files are kept).
/// A bucket of that name that is not `owner`'s ([`OWNER_TAG`]) is left alone.
pub async fn delete_bucket(c: &Client, name: &str, force: bool, owner: &str) -> Result<()> {
    let part = format!("bucket {name:?}");
    match bucket_owner(c, name).await {
        Err(e) if e.is_not_found() => return Ok(()),
        Err(e) => return Err(e),
        Ok(found) if !owned(found.as_deref(), owner) => {
            tracing::info!("leaving {part} alone: it is not {owner}'s");
            return Ok(());
        }
        Ok(_) => {}
    }
    if force {
        loop {
            let out = match c.list_object_versions().bucket(name).send().await {
                Ok(o) => o,
                Err(e) => {
                    let e = not_found_if("listing objects of", &part, e, no_such_bucket);
                    return if e.is_not_found() { Ok(()) } else { Err(e) };
                }
            };
            let mut ids = Vec::new();
            for v in out.versions() {
                ids.push(
                    ObjectIdentifier::builder()
                        .key(v.key().unwrap_or_default())
                        .set_version_id(v.version_id().map(str::to_string))
                        .build()
                        .map_err(|e| build_error(&part, e))?,
                );
            }
            for m in out.delete_markers() {
                ids.push(
                    ObjectIdentifier::builder()
                        .key(m.key().unwrap_or_default())
                        .set_version_id(m.version_id().map(str::to_string))
                        .build()
                        .map_err(|e| build_error(&part, e))?,
                );
            }
            if ids.is_empty() {
                break;
            }
            let out = c
                .delete_objects()
                .bucket(name)
                .delete(
                    Delete::builder()
                        .set_objects(Some(ids))
                        .quiet(true)
                        .build()
                        .map_err(|e| build_error(&part, e))?,
                )
                .send()
                .await
                .map_err(|e| aws_error("emptying", &part, e))?;
            // DeleteObjects answers 200 with an error per key it could not
            // delete (a bucket policy, Object Lock, KMS): the same keys would
            // come back in every listing, so the first refusal ends the delete.
            if let Some(refused) = out.errors().first() {
                return Err(Error::Aws {
                    action: "emptying".into(),
                    part,
                    code: refused.code().unwrap_or("Error").to_string(),
                    message: format!(
                        "{} object(s) could not be deleted, such as {:?}: {}",
                        out.errors().len(),
                        refused.key().unwrap_or_default(),
                        refused.message().unwrap_or_default()
                    ),
                });
            }
        }
    }
    match c.delete_bucket().bucket(name).send().await {
        Ok(_) => Ok(()),
        Err(e) => {
            let e = not_found_if("deleting", &part, e, no_such_bucket);
            match e.code() {
                _ if e.is_not_found() => Ok(()),
                Some("BucketNotEmpty") => Err(Error::Aws {
                    action: "deleting".into(),
                    part,
                    code: "BucketNotEmpty".into(),
                    message: "the bucket still holds the site's files; set force_destroy = true and apply to delete them with it".into(),
                }),
                _ => Err(e),
            }
        }
    }
}

#[cfg(test)]
#[path = "s3_tests.rs"]
mod tests;
