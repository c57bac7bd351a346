//! Making, changing and removing the edge's parts, recording each id in `cur`
//! the moment the part exists.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::aws::route53::RecordChange;
use crate::aws::{cloudfront, logs, route53, s3, secrets, wafv2, Aws};
use crate::diag::AttrPath;
use crate::error::{all_of, Error, Result};

use super::state::EdgeState;

/// A unique reference for a CloudFront request (distribution, invalidation).
fn caller_reference(name: &str) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{name}-{now}")
}

fn waf_tags(s: &EdgeState) -> Vec<(String, String)> {
    s.tags_all
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The owner tag of the edge's account-global parts (its bucket).
fn owner(aws: &Aws, s: &EdgeState) -> String {
    crate::aws::owner("fansite_edge", &s.name, &aws.region)
}

/// Makes every part. The bucket, the web ACL (with its logging), the origin
/// access control and the site-routes function need nothing of each other:
/// they are made side by side, as Terraform would make raw resources, and
/// each id is in the state before the first error is returned. The
/// distribution, which names them all, follows.
pub async fn create_all(aws: &Aws, cur: &mut EdgeState, want: &EdgeState) -> Result<()> {
    let (mut bucket, mut acl, mut oac, mut routes) = (None, None, None, None);
    let (bucketed, acled, oaced, routed) = tokio::join!(
        async {
            s3::create_bucket(
                &aws.s3,
                &want.name,
                &aws.region,
                &want.tags_all,
                &owner(aws, want),
            )
            .await?;
            bucket = Some(want.name.clone());
            Ok::<(), Error>(())
        },
        make_web_acl(aws, &mut acl, want),
        async {
            oac = Some(
                match cloudfront::find_oac(&aws.cloudfront, &want.oac_name()).await? {
                    Some(id) => id,
                    None => cloudfront::create_oac(&aws.cloudfront, &want.oac_name()).await?,
                },
            );
            Ok::<(), Error>(())
        },
        async {
            routes = Some(cloudfront::ensure_site_routes(&aws.cloudfront, &want.name).await?);
            Ok::<(), Error>(())
        },
    );
    if bucket.is_some() {
        cur.bucket_name = Some(cur.name.clone());
    }
    if let Some((id, arn)) = acl {
        cur.web_acl_id = Some(id);
        cur.web_acl_arn = Some(arn);
    }
    cur.oac_id = oac.or(cur.oac_id.take());
    cur.site_routes_function_arn = routes.or(cur.site_routes_function_arn.take());
    all_of([bucketed, acled, oaced, routed])?;
    let secret = origin_secret(aws, want).await?;
    let spec = cloudfront::DistSpec {
        api_origin_secret: secret.as_ref().map(|v| v.value.clone()),
        ..cur.dist_spec(&aws.region)
    };
    let d = cloudfront::create_distribution(
        &aws.cloudfront,
        &spec,
        &caller_reference(&want.name),
        &want.tags_all,
    )
    .await?;
    cur.distribution_id = Some(d.id.clone());
    cur.distribution_arn = Some(d.arn.clone());
    cur.domain_name = Some(d.domain_name.clone());
    cur.api_origin_secret_version = secret.map(|v| v.id);
    if want.additional_metrics {
        cloudfront::set_additional_metrics(&aws.cloudfront, &d.id, true).await?;
    }
    s3::allow_distribution(&aws.s3, &want.name, &d.arn).await?;
    if let Some(zone) = &want.hosted_zone_id {
        route53::alias_records(
            &aws.route53,
            zone,
            &want.aliases.clone().unwrap_or_default(),
            &d.domain_name,
            RecordChange::Upsert,
        )
        .await?;
    }
    cloudfront::wait_deployed(&aws.cloudfront, &d.id, crate::ctx::remaining()).await
}

/// The web ACL (one left by an earlier edge of this name is taken over, not
/// orphaned) and its logging; `out` holds its id and ARN once it exists.
async fn make_web_acl(
    aws: &Aws,
    out: &mut Option<(String, String)>,
    want: &EdgeState,
) -> Result<()> {
    let (acl_id, acl_arn) = match wafv2::find_web_acl(&aws.waf, &want.acl_spec().name).await? {
        Some((id, arn)) => {
            if let Some(info) = wafv2::get_web_acl(&aws.waf, &want.acl_spec().name, &id).await? {
                wafv2::update_web_acl(&aws.waf, &id, &info.lock_token, &want.acl_spec()).await?;
            }
            (id, arn)
        }
        None => wafv2::create_web_acl(&aws.waf, &want.acl_spec(), &waf_tags(want)).await?,
    };
    *out = Some((acl_id, acl_arn.clone()));
    set_waf_logs(aws, &acl_arn, want).await
}

/// The origin secret the distribution sends to the API origin: the version
/// `want` names, or else the current one. Read whenever the distribution is
/// written, since its config is sent whole; never kept in state.
async fn origin_secret(aws: &Aws, want: &EdgeState) -> Result<Option<secrets::Version>> {
    let Some(arn) = &want.api_origin_secret_arn else {
        return Ok(None);
    };
    let id = match &want.api_origin_secret_version {
        Some(id) => id.clone(),
        None => {
            secrets::version_ids(&aws.secrets, arn)
                .await?
                .ok_or_else(|| Error::Invalid {
                    path: AttrPath::attr("api_origin_secret_arn"),
                    why: format!(
                        "secret {arn} was not found in {}, or is scheduled for deletion",
                        aws.region
                    ),
                })?
                .0
        }
    };
    let value = secrets::value_of(&aws.secrets, arn, &id).await?;
    Ok(Some(secrets::Version { id, value }))
}

/// The web ACL's logging as `want` has it: the log group (us-east-1) with its
/// retention and WAF's logging to it, or neither.
async fn set_waf_logs(aws: &Aws, acl_arn: &str, want: &EdgeState) -> Result<()> {
    let group = want.waf_log_group();
    if want.waf_logs {
        logs::ensure_log_group(
            &aws.waf_logs,
            &group,
            want.waf_log_retention_days,
            &want.tags_all,
        )
        .await?;
        wafv2::put_logging(&aws.waf, acl_arn, &wafv2::log_group_arn(acl_arn, &group)).await
    } else {
        wafv2::delete_logging(&aws.waf, acl_arn).await?;
        logs::delete_log_group(&aws.waf_logs, &group).await
    }
}

/// Changes what differs. The distribution keeps serving throughout: its
/// config is updated in place, records are moved only after it has the new aliases.
pub async fn update_all(aws: &Aws, cur: &mut EdgeState, want: &EdgeState) -> Result<()> {
    let Some(id) = cur.distribution_id.clone() else {
        return create_all(aws, cur, want).await;
    };
    if cur.tags_all != want.tags_all {
        s3::secure_bucket(&aws.s3, &want.name, &want.tags_all, &owner(aws, want)).await?;
        if let Some(arn) = &cur.distribution_arn {
            cloudfront::set_tags(&aws.cloudfront, arn, &cur.tags_all, &want.tags_all).await?;
        }
        cur.tags_all = want.tags_all.clone();
    }
    cur.tags = want.tags.clone();
    if cur.acl_spec() != want.acl_spec() {
        if let Some(acl_id) = &cur.web_acl_id {
            let info = wafv2::get_web_acl(&aws.waf, &want.acl_spec().name, acl_id).await?;
            if let Some(info) = info {
                wafv2::update_web_acl(&aws.waf, acl_id, &info.lock_token, &want.acl_spec()).await?;
            }
        }
        cur.rate_limit = want.rate_limit;
        cur.managed_rule_groups = want.managed_rule_groups.clone();
        cur.geo_block = want.geo_block.clone();
    }
    if (cur.waf_logs, cur.waf_log_retention_days) != (want.waf_logs, want.waf_log_retention_days) {
        if let Some(acl_arn) = cur.web_acl_arn.clone() {
            set_waf_logs(aws, &acl_arn, want).await?;
        }
        cur.waf_logs = want.waf_logs;
        cur.waf_log_retention_days = want.waf_log_retention_days;
    }
    if cur.site_routes_function_arn.is_none() {
        cur.site_routes_function_arn =
            Some(cloudfront::ensure_site_routes(&aws.cloudfront, &want.name).await?);
    }
    let next = EdgeState {
        oac_id: cur.oac_id.clone(),
        web_acl_arn: cur.web_acl_arn.clone(),
        site_routes_function_arn: cur.site_routes_function_arn.clone(),
        ..want.clone()
    };
    let secret = origin_secret(aws, want).await?;
    let sent = secret.as_ref().map(|v| v.id.clone());
    let secret_changed = cur.api_origin_secret_arn != want.api_origin_secret_arn
        || cur.api_origin_secret_version != sent;
    if cur.dist_spec(&aws.region) != next.dist_spec(&aws.region) || secret_changed {
        let d = cloudfront::get_distribution(&aws.cloudfront, &id).await?;
        if let Some(d) = d {
            let spec = cloudfront::DistSpec {
                api_origin_secret: secret.map(|v| v.value),
                ..next.dist_spec(&aws.region)
            };
            cloudfront::update_distribution(
                &aws.cloudfront,
                &id,
                &d.etag,
                &spec,
                &d.caller_reference,
            )
            .await?;
            cloudfront::wait_deployed(&aws.cloudfront, &id, crate::ctx::remaining()).await?;
        }
        cur.api_origin_secret_arn = want.api_origin_secret_arn.clone();
        cur.api_origin_secret_version = sent;
        cur.api_origin = want.api_origin.clone();
        cur.api_path_pattern = want.api_path_pattern.clone();
        cur.api_origin_protocol = want.api_origin_protocol.clone();
        cur.certificate_arn = want.certificate_arn.clone();
        cur.price_class = want.price_class.clone();
    }
    if cur.additional_metrics != want.additional_metrics {
        cloudfront::set_additional_metrics(&aws.cloudfront, &id, want.additional_metrics).await?;
        cur.additional_metrics = want.additional_metrics;
    }
    let (old_zone, new_zone) = (cur.hosted_zone_id.clone(), want.hosted_zone_id.clone());
    let (old_names, new_names) = (
        cur.aliases.clone().unwrap_or_default(),
        want.aliases.clone().unwrap_or_default(),
    );
    if let Some(domain) = cur.domain_name.clone() {
        if (old_zone.clone(), old_names.clone()) != (new_zone.clone(), new_names.clone()) {
            if let Some(zone) = &new_zone {
                route53::alias_records(
                    &aws.route53,
                    zone,
                    &new_names,
                    &domain,
                    RecordChange::Upsert,
                )
                .await?;
            }
            if let Some(zone) = &old_zone {
                let gone: Vec<String> = old_names
                    .iter()
                    .filter(|n| new_zone.as_ref() != Some(zone) || !new_names.contains(n))
                    .cloned()
                    .collect();
                route53::alias_records(&aws.route53, zone, &gone, &domain, RecordChange::Delete)
                    .await?;
            }
        }
    }
    cur.aliases = want.aliases.clone();
    cur.hosted_zone_id = want.hosted_zone_id.clone();
    cur.force_destroy = want.force_destroy;
    if cur.content_hash != want.content_hash {
        if want.content_hash.is_some() {
            let inv = cloudfront::invalidate_all(
                &aws.cloudfront,
                &id,
                &caller_reference(&want.name),
                crate::ctx::remaining(),
            )
            .await?;
            cur.invalidation_id = Some(inv);
        }
        cur.content_hash = want.content_hash.clone();
    }
    Ok(())
}

/// Removes every part: records, the distribution (disabled first), its access
/// control, site-routes function and web ACL, then the bucket. Parts already
/// gone are done.
pub async fn delete_all(aws: &Aws, cur: &EdgeState) -> Result<()> {
    // Refuse before anything is removed when the site's files would be lost.
    if cur.bucket_made() && !cur.force_destroy && s3::has_objects(&aws.s3, &cur.name).await? {
        return Err(crate::error::Error::Refused {
            action: "deleting".into(),
            part: format!("bucket {:?}", cur.name),
            why: "the bucket still holds the site's files, and force_destroy is false; set force_destroy = true and apply, or empty the bucket, then destroy. Nothing was deleted.".into(),
        });
    }
    if let (Some(zone), Some(domain)) = (&cur.hosted_zone_id, &cur.domain_name) {
        route53::alias_records(
            &aws.route53,
            zone,
            &cur.aliases.clone().unwrap_or_default(),
            domain,
            RecordChange::Delete,
        )
        .await?;
    }
    if let Some(id) = &cur.distribution_id {
        cloudfront::delete_additional_metrics(&aws.cloudfront, id).await?;
        cloudfront::delete_distribution(&aws.cloudfront, id, crate::ctx::remaining()).await?;
    }
    // All three are held for a while after the distribution is gone, and each
    // delete retries until CloudFront lets go: they wait side by side.
    let oac = async {
        match &cur.oac_id {
            Some(oac) => cloudfront::delete_oac(&aws.cloudfront, oac).await,
            None => Ok(()),
        }
    };
    let acl = async {
        if let Some(arn) = &cur.web_acl_arn {
            wafv2::delete_logging(&aws.waf, arn).await?;
        }
        if let Some(acl) = &cur.web_acl_id {
            wafv2::delete_web_acl(&aws.waf, &cur.acl_spec().name, acl).await?;
        }
        // By name: a create that failed after making it leaves it otherwise.
        logs::delete_log_group(&aws.waf_logs, &cur.waf_log_group()).await
    };
    // Deleted by name even when state has no ARN: a create that failed
    // after making it leaves it behind otherwise.
    let routes = cloudfront::delete_site_routes(&aws.cloudfront, &cur.name);
    let (oac, acl, routes) = tokio::join!(oac, acl, routes);
    all_of([oac, acl, routes])?;
    if cur.bucket_made() {
        s3::delete_bucket(&aws.s3, &cur.name, cur.force_destroy, &owner(aws, cur)).await?;
    }
    Ok(())
}
