//! Route53: alias records that send the site's domains to its distribution.

use aws_sdk_route53::types::{
    AliasTarget, Change, ChangeAction, ChangeBatch, ResourceRecordSet, RrType,
};
use aws_sdk_route53::Client;

use super::{aws_error, build_error, not_found_if};
use crate::error::Result;

/// The hosted zone id every CloudFront alias target has (AWS documentation).
pub const CLOUDFRONT_ZONE_ID: &str = "Z2FDTNDATAQYW2";

fn record(domain: &str, ty: RrType, target: &str, part: &str) -> Result<ResourceRecordSet> {
    ResourceRecordSet::builder()
        .name(domain)
        .r#type(ty)
        .alias_target(
            AliasTarget::builder()
                .hosted_zone_id(CLOUDFRONT_ZONE_ID)
                .dns_name(target)
                .evaluate_target_health(false)
                .build()
                .map_err(|e| build_error(part, e))?,
        )
        .build()
        .map_err(|e| build_error(part, e))
}

/// What [`alias_records`] does to each record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordChange {
    Upsert,
    Delete,
}

/// Upserts (or deletes) A and AAAA alias records for each domain.
pub async fn alias_records(
    c: &Client,
    zone: &str,
    domains: &[String],
    target: &str,
    change: RecordChange,
) -> Result<()> {
    let action = match change {
        RecordChange::Upsert => ChangeAction::Upsert,
        RecordChange::Delete => ChangeAction::Delete,
    };
    if domains.is_empty() {
        return Ok(());
    }
    let part = format!("alias records in hosted zone {zone}");
    let mut changes = Vec::new();
    for d in domains {
        for ty in [RrType::A, RrType::Aaaa] {
            changes.push(
                Change::builder()
                    .action(action.clone())
                    .resource_record_set(record(d, ty, target, &part)?)
                    .build()
                    .map_err(|e| build_error(&part, e))?,
            );
        }
    }
    let res = c
        .change_resource_record_sets()
        .hosted_zone_id(zone)
        .change_batch(
            ChangeBatch::builder()
                .set_changes(Some(changes))
                .build()
                .map_err(|e| build_error(&part, e))?,
        )
        .send()
        .await
        .map_err(|e| {
            let delete = action == ChangeAction::Delete;
            // Records to delete that are not there: Route53 says InvalidChangeBatch.
            not_found_if(if delete { "deleting" } else { "writing" }, &part, e, |e| {
                e.is_no_such_hosted_zone() || (delete && e.is_invalid_change_batch())
            })
        });
    match res {
        // Deleting records that are already gone (or their zone): done.
        Err(e) if action == ChangeAction::Delete && e.is_not_found() => Ok(()),
        other => other.map(|_| ()),
    }
}

/// The domains among `domains` that have an A alias record to `target` in the zone.
pub async fn aliased(
    c: &Client,
    zone: &str,
    domains: &[String],
    target: &str,
) -> Result<Vec<String>> {
    if domains.is_empty() {
        return Ok(Vec::new());
    }
    let out = c
        .list_resource_record_sets()
        .hosted_zone_id(zone)
        .send()
        .await
        .map_err(|e| aws_error("listing records of", &format!("hosted zone {zone}"), e))?;
    let norm = |s: &str| s.trim_end_matches('.').to_ascii_lowercase();
    Ok(domains
        .iter()
        .filter(|d| {
            out.resource_record_sets().iter().any(|r| {
                norm(r.name()) == norm(d)
                    && r.r#type() == &RrType::A
                    && r.alias_target()
                        .is_some_and(|a| norm(a.dns_name()) == norm(target))
            })
        })
        .cloned()
        .collect())
}
