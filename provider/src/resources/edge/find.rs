//! Reading a fansite_edge back from AWS.

use crate::aws::{cloudfront, logs, route53, s3, secrets, wafv2, Aws};
use crate::error::Result;

use super::state::{bucket_domain, EdgeState};
use crate::resources::{in_configured_order, null_if_unset, own_tags};

/// The edge as AWS has it now, field by field. `None`: nothing of the edge is left.
///
/// Not refreshed, because AWS does not hold them (listed in the docs):
/// `content_hash` and `force_destroy` (the provider's own), `invalidation_id` (the last
/// invalidation made). `aliases`, `geo_block` and `tags` keep null rather
/// than empty when they were not set.
pub async fn find_edge(aws: &Aws, hints: &EdgeState) -> Result<Option<EdgeState>> {
    let remains = hints.bucket_made() || hints.web_acl_id.is_some() || hints.oac_id.is_some();
    let Some(id) = &hints.distribution_id else {
        // A create that failed before the distribution: keep what it made in
        // state (tainted), so that the next apply or destroy removes it.
        return Ok(remains.then(|| hints.clone()));
    };
    let Some(d) = cloudfront::get_distribution(&aws.cloudfront, id).await? else {
        // The distribution is gone while the bucket, access control and web
        // ACL may remain: they are kept, so that the next apply makes the
        // distribution again in place and a destroy still removes them.
        return Ok(remains.then(|| EdgeState {
            distribution_id: None,
            distribution_arn: None,
            // Kept: the alias records that still point at it are deleted by name and target.
            domain_name: hints.domain_name.clone(),
            invalidation_id: None,
            ..hints.clone()
        }));
    };
    let name = d
        .bucket_domain
        .as_deref()
        .and_then(|b| b.split(".s3.").next())
        .map_or_else(|| hints.name.clone(), str::to_string);
    let bucket_name = s3::describe_bucket(&aws.s3, &name)
        .await?
        .map(|_| name.clone());
    let acl = match web_acl_id(&d.web_acl_arn).or_else(|| hints.web_acl_id.clone()) {
        Some(acl_id) => wafv2::get_web_acl(&aws.waf, &format!("{name}-waf"), &acl_id).await?,
        None => None,
    };
    let defaults = EdgeState::default();
    let (rate_limit, managed_rule_groups, geo_block) = match &acl {
        Some(acl) => (
            acl.spec.rate_limit,
            acl.spec.managed_rule_groups.clone(),
            null_if_unset(&hints.geo_block, acl.spec.geo_block.clone()),
        ),
        // The web ACL is gone: what it should be when it is made again.
        None => (
            hints.rate_limit,
            hints.managed_rule_groups.clone(),
            hints.geo_block.clone(),
        ),
    };
    // The web ACL's logging: on when WAF logs to this edge's group.
    let group = crate::aws::wafv2::log_group_name(&name);
    let (waf_logs, waf_log_retention_days) = match &acl {
        Some(acl) => {
            let logging = wafv2::logging(&aws.waf, &acl.arn).await?;
            let to_group = logging.is_some_and(|(to, _)| {
                to.iter()
                    .any(|d| d == &crate::aws::wafv2::log_group_arn(&acl.arn, &group))
            });
            let retention = logs::retention(&aws.waf_logs, &group).await?;
            (
                to_group && retention.is_some(),
                retention
                    .filter(|_| to_group)
                    .unwrap_or(hints.waf_log_retention_days),
            )
        }
        None => (hints.waf_logs, hints.waf_log_retention_days),
    };
    let oac_name = format!("{name}-oac");
    // emulator: the local endpoint does not return an origin's
    // OriginAccessControlId, so the origin access control is found by its
    // name; on AWS the distribution names it.
    let oac_id = match &hints.oac_id {
        Some(id) => Some(id.clone()),
        None => cloudfront::find_oac(&aws.cloudfront, &oac_name).await?,
    };
    let api_origin_secret_version = match &hints.api_origin_secret_arn {
        Some(arn) => sent_version(aws, arn, d.api_origin_secret.as_ref()).await?,
        None => None,
    };
    // The alias records, read back: when one is gone (or points elsewhere),
    // the zone reads as unset, so that the plan writes the records again.
    let hosted_zone_id = match &hints.hosted_zone_id {
        Some(zone) => route53::all_aliased(&aws.route53, zone, &d.aliases, &d.domain_name)
            .await?
            .then(|| zone.clone()),
        None => None,
    };
    let site_routes_function_arn = cloudfront::find_site_routes(&aws.cloudfront, &name).await?;
    let additional_metrics = cloudfront::additional_metrics(&aws.cloudfront, &d.id).await?;
    let tags_all = cloudfront::tags(&aws.cloudfront, &d.arn).await?;
    let own = own_tags(&tags_all, &aws.default_tags);
    Ok(Some(EdgeState {
        api_origin: d.api_origin.clone(),
        api_path_pattern: d
            .api_path_pattern
            .clone()
            .unwrap_or(defaults.api_path_pattern),
        api_origin_protocol: d
            .api_origin_protocol
            .clone()
            .unwrap_or(defaults.api_origin_protocol),
        api_origin_secret_arn: hints.api_origin_secret_arn.clone(),
        api_origin_secret_version,
        // CloudFront does not keep the aliases' order (community.aws#50):
        // the configured order is kept when the set is the same.
        aliases: null_if_unset(
            &hints.aliases,
            in_configured_order(
                hints.aliases.as_deref().unwrap_or_default(),
                d.aliases.clone(),
            ),
        ),
        certificate_arn: d.certificate_arn.clone(),
        hosted_zone_id,
        price_class: d.price_class.clone(),
        rate_limit,
        managed_rule_groups,
        geo_block,
        content_hash: hints.content_hash.clone(),
        force_destroy: hints.force_destroy,
        waf_logs,
        waf_log_retention_days,
        additional_metrics,
        tags: null_if_unset(&hints.tags, own),
        tags_all,
        bucket_name,
        oac_id,
        distribution_id: Some(d.id.clone()),
        distribution_arn: Some(d.arn.clone()),
        domain_name: Some(d.domain_name.clone()),
        web_acl_id: acl.as_ref().map(|a| a.id.clone()),
        web_acl_arn: acl
            .as_ref()
            .map(|a| a.arn.clone())
            .or_else(|| Some(d.web_acl_arn.clone()).filter(|a| !a.is_empty())),
        invalidation_id: hints.invalidation_id.clone(),
        site_routes_function_arn,
        name,
    }))
}

/// The distribution ids of every edge made in the region: of the account's
/// distributions (CloudFront is global and lists them all), those whose
/// comment names an edge whose bucket in this region is their site origin.
pub async fn list_edges(aws: &Aws) -> Result<Vec<String>> {
    Ok(cloudfront::list_distributions(&aws.cloudfront)
        .await?
        .into_iter()
        .filter(|d| {
            d.edge.as_deref().is_some_and(|edge| {
                d.bucket_domain.as_deref() == Some(bucket_domain(edge, &aws.region).as_str())
            })
        })
        .map(|d| d.id)
        .collect())
}

/// Which version of the origin secret the distribution sends: the current
/// or the previous one, by their values; `None` when it sends neither (no
/// header, a value changed by hand, or the secret rotated twice since), so
/// that the plan sends the current one again.
async fn sent_version(
    aws: &Aws,
    arn: &str,
    sent: Option<&secrets::SecretValue>,
) -> Result<Option<String>> {
    let Some(sent) = sent else {
        return Ok(None);
    };
    let Some(v) = secrets::versions(&aws.secrets, arn).await? else {
        return Ok(None);
    };
    Ok(std::iter::once(v.current)
        .chain(v.previous)
        .find(|v| &v.value == sent)
        .map(|v| v.id))
}

/// A web ACL's id: the last part of its ARN.
fn web_acl_id(arn: &str) -> Option<String> {
    Some(arn)
        .filter(|a| !a.is_empty())
        .and_then(|a| a.rsplit('/').next())
        .map(str::to_string)
}
