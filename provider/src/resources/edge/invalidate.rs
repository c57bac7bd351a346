//! `fansite_edge_invalidate`: drops paths from a CloudFront distribution's
//! edge caches, and waits until every edge location has dropped them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;

use crate::aws::{cloudfront, Aws};
use crate::ctx::{Ctx, Ended};
use crate::diag::{AttrPath, Diags};
use crate::error::{Error, Result};
use crate::extra::{Action, Progress};
use crate::resource::parse_duration;
use crate::schema::{Attribute, Block, Schema, Ty};
use crate::value::Dyn;

/// How long the wait may take when `timeout` is not set. CloudFront drops
/// most invalidations from every edge location within minutes, and the
/// SDK's `InvalidationCompleted` waiter polls every 20 s; 20 minutes leaves
/// room for a busy distribution.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// How far past `timeout` the action may run before it is cut off: the wait
/// stops at `timeout` and says what it saw, which tells more.
const OVERRUN: Duration = Duration::from_secs(30);

/// Invalidation paths CloudFront takes in progress at once per distribution
/// (CloudFront Developer Guide, "Concurrent invalidation request maximum").
const MAX_PATHS: usize = 3000;
/// Paths with a `*` CloudFront takes in progress at once per distribution (ibid.).
const MAX_WILDCARD_PATHS: usize = 15;

/// What the progress message shows of the paths: the first few.
const PATHS_SHOWN: usize = 5;

pub struct EdgeInvalidate;

pub fn schema() -> Schema {
    Schema {
        version: 0,
        block: Block {
            description: "Invalidates paths of a CloudFront distribution (such as a fansite_edge's `distribution_id`): the edge locations drop what they cached and fetch it again from the origin. Waits until every edge location has dropped them, unless `wait` is false.".into(),
            attributes: vec![
                Attribute::required("distribution_id", Ty::String, "ID of the CloudFront distribution, such as a fansite_edge's `distribution_id`.").rule(distribution_id_problem, "a CloudFront distribution ID such as `E2QWRUHAPOMQZL`"),
                Attribute::optional("paths", Ty::list_of_strings(), "Paths to invalidate, each starting with `/`; a `*` at the end invalidates every path with that prefix (default `[\"/*\"]`: everything).").rule(path_problem, "a path starting with `/`"),
                Attribute::optional("wait", Ty::Bool, "Whether to wait until every edge location has dropped the paths (default `true`)."),
                Attribute::optional("timeout", Ty::String, &format!("How long the wait may take, as a duration such as `15m` or `1h` (default `{}m`).", DEFAULT_TIMEOUT.as_secs() / 60)).rule(duration_problem, "a duration such as `15m` or `1h30m`"),
            ],
            blocks: vec![],
        },
    }
}

/// CloudFront distribution IDs are uppercase letters and digits (`E2QWRUHAPOMQZL`).
fn distribution_id_problem(id: &str) -> Option<String> {
    let ok = (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    (!ok).then(|| format!("{id:?} is not a CloudFront distribution ID such as \"E2QWRUHAPOMQZL\"."))
}

fn path_problem(path: &str) -> Option<String> {
    (!path.starts_with('/')).then(|| {
        format!("{path:?} does not start with \"/\": write it as CloudFront does, such as \"/index.html\" or \"/assets/*\".")
    })
}

fn duration_problem(s: &str) -> Option<String> {
    parse_duration(s).err()
}

/// A caller reference CloudFront has not seen: it takes a reference it has
/// seen as a retry of that request, and makes no new invalidation.
fn caller_reference() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("fansite-invalidate-{now}")
}

/// The configured paths, or everything.
fn paths_of(config: &Dyn) -> Vec<String> {
    match config.get("paths") {
        Dyn::Null => vec!["/*".to_string()],
        paths => paths.string_list(),
    }
}

/// "/index.html, /app.js and 3 more".
fn shown(paths: &[String]) -> String {
    if paths.len() <= PATHS_SHOWN {
        paths.join(", ")
    } else {
        format!(
            "{} and {} more",
            paths[..PATHS_SHOWN].join(", "),
            paths.len() - PATHS_SHOWN
        )
    }
}

async fn invalidate(
    aws: &Aws,
    id: &str,
    paths: &[String],
    wait: bool,
    progress: Progress<'_>,
) -> Result<()> {
    let inv = cloudfront::create_invalidation(&aws.cloudfront, id, paths, &caller_reference())
        .await
        .map_err(|e| {
            if e.is_not_found() {
                Error::Invalid {
                    path: AttrPath::attr("distribution_id"),
                    why: format!("There is no CloudFront distribution {id}."),
                }
            } else {
                e
            }
        })?;
    progress(format!(
        "invalidation {inv} of {id} created for {}",
        shown(paths)
    ));
    if !wait {
        progress(format!(
            "invalidation {inv} of {id} left to complete on its own (wait = false)"
        ));
        return Ok(());
    }
    progress(format!(
        "waiting for every edge location to drop the paths of invalidation {inv}"
    ));
    cloudfront::wait_invalidation_completed(&aws.cloudfront, id, &inv, crate::ctx::remaining())
        .await?;
    progress(format!("invalidation {inv} of {id} completed"));
    Ok(())
}

#[async_trait]
impl Action for EdgeInvalidate {
    fn name(&self) -> &'static str {
        "edge_invalidate"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &Dyn, diags: &mut Diags) {
        schema().block.check(config, &AttrPath::root(), "", diags);
        let Some(paths) = config.get("paths").as_list() else {
            return;
        };
        let at = || AttrPath::attr("paths");
        if paths.is_empty() {
            diags.attr_error(
                at(),
                "No paths",
                "List at least one path, or leave `paths` out to invalidate everything (\"/*\").",
            );
        }
        if paths.len() > MAX_PATHS {
            diags.attr_error(
                at(),
                "Too many paths",
                format!(
                    "{} paths: CloudFront takes at most {MAX_PATHS} paths in progress at once; use a path ending in `*` for a prefix.",
                    paths.len()
                ),
            );
        }
        let wildcards = paths
            .iter()
            .filter(|p| p.as_str().is_some_and(|p| p.contains('*')))
            .count();
        if wildcards > MAX_WILDCARD_PATHS {
            diags.attr_error(
                at(),
                "Too many wildcard paths",
                format!(
                    "{wildcards} paths with `*`: CloudFront takes at most {MAX_WILDCARD_PATHS} in progress at once; a shorter prefix such as \"/assets/*\" covers several."
                ),
            );
        }
    }

    async fn invoke(&self, aws: &Aws, config: &Dyn, progress: Progress<'_>, diags: &mut Diags) {
        let id = config
            .get("distribution_id")
            .as_str()
            .unwrap_or_default()
            .to_string();
        let paths = paths_of(config);
        let wait = config.get("wait").as_bool().unwrap_or(true);
        let timeout = config
            .get("timeout")
            .as_str()
            .and_then(|s| parse_duration(s).ok())
            .unwrap_or(DEFAULT_TIMEOUT);
        let ctx = Ctx::new(timeout, aws.stop.clone());
        match ctx
            .run(OVERRUN, invalidate(aws, &id, &paths, wait, progress))
            .await
        {
            Ended::Done(Ok(())) => {}
            Ended::Done(Err(e)) => {
                tracing::warn!(error = %e, "invalidating distribution {id} failed");
                e.report(diags);
            }
            Ended::Stopped => diags.error(
                format!("Invalidating distribution {id} stopped"),
                "Terraform asked the provider to stop. An invalidation already made completes on its own.",
            ),
            Ended::TimedOut => diags.error(
                format!("Invalidating distribution {id} timed out"),
                format!(
                    "The invalidation was not complete after {} s: raise `timeout` if this is expected.",
                    timeout.as_secs()
                ),
            ),
        }
    }
}

#[cfg(test)]
#[path = "invalidate_tests.rs"]
mod tests;
