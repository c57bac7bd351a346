//! Route53: alias records that send the site's domains to its distribution.

use aws_sdk_route53::types::{
    AliasTarget, Change, ChangeAction, ChangeBatch, ResourceRecordSet, RrType,
};
use aws_sdk_route53::Client;

use super::wait::{Missing, Seen, Wait};
use super::{build_error, not_found_if};
use crate::error::{Error, Result};

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

/// A name as Route53 lists it (`www.example.com.`, `\052.example.com.`)
/// compared with one as configured.
fn norm(name: &str) -> String {
    name.trim_end_matches('.')
        .replace("\\052", "*")
        .to_ascii_lowercase()
}

/// Upserts (or deletes) A and AAAA alias records for each domain to `target`,
/// and waits until Route53 has them on every authoritative server.
///
/// A delete removes exactly the records that are there and point at `target`,
/// as Route53 lists them: a change batch is transactional and a DELETE must
/// name every value of the record ("Route 53 … either makes all or none of the
/// changes", ChangeResourceRecordSets), so a batch that named one record
/// already gone would leave every other alias pointing at a distribution that
/// is about to be deleted. A record another target now owns is not ours to
/// delete. A zone that is gone is done.
pub async fn alias_records(
    c: &Client,
    zone: &str,
    domains: &[String],
    target: &str,
    change: RecordChange,
) -> Result<()> {
    if domains.is_empty() {
        return Ok(());
    }
    let part = format!("alias records in hosted zone {zone}");
    match change {
        RecordChange::Upsert => {
            let mut sets = Vec::new();
            for d in domains {
                for ty in [RrType::A, RrType::Aaaa] {
                    sets.push(record(d, ty, target, &part)?);
                }
            }
            let id = send_changes(c, zone, ChangeAction::Upsert, sets, &part).await?;
            wait_insync(c, &id, &part).await
        }
        RecordChange::Delete => {
            let mut refused: Option<(Vec<ResourceRecordSet>, Error)> = None;
            loop {
                let sets = match aliases_to(c, zone, domains, target).await {
                    Err(e) if e.is_not_found() => return Ok(()),
                    other => other?,
                };
                if sets.is_empty() {
                    return Ok(());
                }
                // Refused again for the same records: a real error.
                if let Some((before, e)) = refused.take() {
                    if before == sets {
                        return Err(e);
                    }
                }
                match send_changes(c, zone, ChangeAction::Delete, sets.clone(), &part).await {
                    Ok(id) => return wait_insync(c, &id, &part).await,
                    Err(e) if e.is_not_found() => return Ok(()),
                    // A record changed or went between the listing and the
                    // batch: list again.
                    Err(e) if e.code() == Some("InvalidChangeBatch") => refused = Some((sets, e)),
                    Err(e) => return Err(e),
                }
            }
        }
    }
}

/// Sends one change batch; its change id.
async fn send_changes(
    c: &Client,
    zone: &str,
    action: ChangeAction,
    sets: Vec<ResourceRecordSet>,
    part: &str,
) -> Result<String> {
    let changes = sets
        .into_iter()
        .map(|set| {
            Change::builder()
                .action(action.clone())
                .resource_record_set(set)
                .build()
                .map_err(|e| build_error(part, e))
        })
        .collect::<Result<Vec<_>>>()?;
    let delete = action == ChangeAction::Delete;
    let out = c
        .change_resource_record_sets()
        .hosted_zone_id(zone)
        .change_batch(
            ChangeBatch::builder()
                .set_changes(Some(changes))
                .build()
                .map_err(|e| build_error(part, e))?,
        )
        .send()
        .await
        .map_err(|e| {
            not_found_if(if delete { "deleting" } else { "writing" }, part, e, |e| {
                e.is_no_such_hosted_zone()
            })
        })?;
    Ok(out
        .change_info()
        .map(|i| i.id().to_string())
        .unwrap_or_default())
}

/// A change is `PENDING` until every Route53 authoritative server has it,
/// then `INSYNC` (Route53 API, GetChange; terraform-provider-aws
/// `waitChangeInsync`).
async fn wait_insync(c: &Client, change_id: &str, part: &str) -> Result<()> {
    if change_id.is_empty() {
        return Ok(());
    }
    let id = change_id.trim_start_matches("/change/");
    let what = format!("change {id} of {part}");
    Wait {
        part: &what,
        goal: "in sync",
        done: &["INSYNC"],
        pending: &["PENDING"],
        missing: Missing::WhileNew,
        timeout: crate::ctx::remaining(),
    }
    .until(|| async {
        let out = c
            .get_change()
            .id(id)
            .send()
            .await
            .map_err(|e| not_found_if("waiting for", &what, e, |e| e.is_no_such_change()))?;
        Ok(out.change_info().map(|i| Seen::status(i.status().as_str())))
    })
    .await
    .map(|_| ())
}

/// The A and AAAA alias records of `domains` in the zone that point at
/// `target`, as Route53 has them (every value, as a DELETE must name them).
/// Each domain's records are listed from its own name on, so a zone of any
/// size is read in one short page per domain.
async fn aliases_to(
    c: &Client,
    zone: &str,
    domains: &[String],
    target: &str,
) -> Result<Vec<ResourceRecordSet>> {
    let part = format!("hosted zone {zone}");
    let mut found = Vec::new();
    for d in domains {
        let out = c
            .list_resource_record_sets()
            .hosted_zone_id(zone)
            .start_record_name(d)
            .start_record_type(RrType::A)
            .max_items(10)
            .send()
            .await
            .map_err(|e| {
                not_found_if("listing records of", &part, e, |e| {
                    e.is_no_such_hosted_zone()
                })
            })?;
        found.extend(
            out.resource_record_sets()
                .iter()
                .filter(|r| {
                    norm(r.name()) == norm(d)
                        && matches!(r.r#type(), RrType::A | RrType::Aaaa)
                        && r.alias_target()
                            .is_some_and(|a| norm(a.dns_name()) == norm(target))
                })
                .cloned(),
        );
    }
    Ok(found)
}

/// Whether every one of `domains` has both its A and its AAAA alias record
/// to `target` in the zone. A zone that is gone has none.
pub async fn all_aliased(c: &Client, zone: &str, domains: &[String], target: &str) -> Result<bool> {
    let sets = match aliases_to(c, zone, domains, target).await {
        Err(e) if e.is_not_found() => return Ok(false),
        other => other?,
    };
    Ok(domains.iter().all(|d| {
        [RrType::A, RrType::Aaaa].iter().all(|ty| {
            sets.iter()
                .any(|r| norm(r.name()) == norm(d) && r.r#type() == ty)
        })
    }))
}

#[cfg(test)]
#[path = "route53_tests.rs"]
mod tests;
