//! Reading a fansite_edge back from AWS.

use crate::aws::{cloudfront, s3, wafv2, Aws};
use crate::error::Result;

use super::state::{EdgeState, Tags};

/// The edge as AWS has it now; `hints` (the state) supply what AWS does not
/// hold (content_hash, force_destroy, timeouts). `None`: nothing of the edge is left.
pub async fn find_edge(aws: &Aws, hints: &EdgeState) -> Result<Option<EdgeState>> {
    let Some(id) = &hints.distribution_id else {
        // A create that failed before the distribution: keep what it made in
        // state (tainted), so that the next apply or destroy removes it.
        let partial = hints.bucket_made || hints.web_acl_id.is_some() || hints.oac_id.is_some();
        return Ok(partial.then(|| hints.clone()));
    };
    let Some(d) = cloudfront::get_distribution(&aws.cloudfront, id).await? else {
        // The distribution is gone while the bucket, access control and web
        // ACL may remain: they are kept, so that the next apply makes the
        // distribution again in place and a destroy still removes them.
        let remains = hints.bucket_made || hints.web_acl_id.is_some() || hints.oac_id.is_some();
        return Ok(remains.then(|| EdgeState {
            distribution_id: None,
            distribution_arn: None,
            // Kept: the alias records that still point at it are deleted by name and target.
            domain_name: hints.domain_name.clone(),
            invalidation_id: None,
            ..hints.clone()
        }));
    };
    let mut found = hints.clone();
    found.distribution_arn = Some(d.arn.clone());
    found.domain_name = Some(d.domain_name.clone());
    found.price_class = d.price_class.clone();
    found.aliases = match (&hints.aliases, d.aliases.is_empty()) {
        (None, true) => None,
        _ => Some(d.aliases.clone()),
    };
    found.certificate_arn = d.certificate_arn.clone();
    found.api_origin = d.api_origin.clone();
    if let Some(p) = &d.api_path_pattern {
        found.api_path_pattern = p.clone();
    }
    if let Some(bucket) = d
        .bucket_domain
        .as_deref()
        .and_then(|b| b.split(".s3.").next())
    {
        found.name = bucket.to_string();
    }
    found.bucket_made = s3::describe_bucket(&aws.s3, &found.name).await?.is_some();
    found.web_acl_arn = Some(d.web_acl_arn.clone()).filter(|a| !a.is_empty());
    // The web ACL: its id is the last part of its ARN.
    let acl_id = found
        .web_acl_arn
        .as_deref()
        .and_then(|a| a.rsplit('/').next())
        .map(str::to_string)
        .or_else(|| hints.web_acl_id.clone());
    found.web_acl_id = None;
    if let Some(acl_id) = acl_id {
        let name = format!("{}-waf", found.name);
        if let Some(acl) = wafv2::get_web_acl(&aws.waf, &name, &acl_id).await? {
            found.web_acl_id = Some(acl.id.clone());
            found.web_acl_arn = Some(acl.arn.clone());
            found.rate_limit = acl.spec.rate_limit;
            found.managed_rule_groups = acl.spec.managed_rule_groups.clone();
            found.geo_block = match (&hints.geo_block, acl.spec.geo_block.is_empty()) {
                (None, true) => None,
                _ => Some(acl.spec.geo_block.clone()),
            };
        }
    }
    // emulator: the local endpoint does not return an origin's
    // OriginAccessControlId, so the origin access control is found by its
    // name; on AWS the distribution names it.
    found.oac_id = match &hints.oac_id {
        Some(id) => Some(id.clone()),
        None => cloudfront::find_oac(&aws.cloudfront, &found.oac_name()).await?,
    };
    let tags_all = cloudfront::tags(&aws.cloudfront, &d.arn).await?;
    let own: Tags = tags_all
        .iter()
        .filter(|(k, v)| aws.default_tags.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    found.tags = match (&hints.tags, own.is_empty()) {
        (None, true) => None,
        _ => Some(own),
    };
    found.tags_all = tags_all;
    Ok(Some(found))
}
