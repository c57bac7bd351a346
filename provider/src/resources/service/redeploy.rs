//! `fansite_service_redeploy`: replaces every task of an ECS service with a
//! new one of the same task definition revision (a forced new deployment),
//! and waits until the service is stable again. New tasks pull the image
//! again and read their secrets again: a rotated database password or a
//! re-pushed tag reaches the service without a new revision.

use std::time::Duration;

use async_trait::async_trait;

use crate::aws::ecs::{self, Deploying};
use crate::aws::Aws;
use crate::ctx::{Ctx, Ended};
use crate::diag::{AttrPath, Diags};
use crate::error::{Error, Result};
use crate::extra::{Action, Progress};
use crate::resource::parse_duration;
use crate::schema::{Attribute, Block, Schema, Ty};
use crate::value::Dyn;

use super::defaults::DEFAULT_UPDATE_TIMEOUT;

/// How far past `timeout` the action may run before it is cut off: the wait
/// stops at `timeout` and says what it saw, which tells more.
const OVERRUN: Duration = Duration::from_secs(30);

pub struct ServiceRedeploy;

pub fn schema() -> Schema {
    Schema {
        version: 0,
        block: Block {
            description: "Starts a new deployment of an ECS service with the task definition revision it runs (UpdateService with `forceNewDeployment`), and waits until the service is stable again: the new deployment completed, every desired task running, no other deployment left. New tasks pull the image and read their secrets again, so a rotated password or a tag pushed again reaches the service. Fails when the deployment fails or the circuit breaker rolls it back.".into(),
            attributes: vec![
                Attribute::required("cluster", Ty::String, "Name or ARN of the ECS cluster, such as a fansite_service's `cluster_arn`.").rule(cluster_problem, "an ECS cluster name or ARN"),
                Attribute::required("service", Ty::String, "Name or ARN of the ECS service, such as a fansite_service's `name`.").rule(service_problem, "an ECS service name or ARN"),
                Attribute::optional("timeout", Ty::String, &format!("How long the deployment may take to become stable, as a duration such as `15m` or `1h` (default `{}m`, as a fansite_service's update).", DEFAULT_UPDATE_TIMEOUT.as_secs() / 60)).rule(duration_problem, "a duration such as `15m` or `1h30m`"),
            ],
            blocks: vec![],
        },
    }
}

/// An ECS name: 1 to 255 letters, digits, `-` and `_` (CreateCluster,
/// CreateService).
fn ecs_name(s: &str) -> bool {
    (1..=255).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// A name, or an ARN `arn:<partition>:ecs:<region>:<account>:<kind>/...`.
fn name_or_arn(s: &str, kind: &str) -> bool {
    if !s.starts_with("arn:") {
        return ecs_name(s);
    }
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    parts.len() == 6
        && parts[2] == "ecs"
        && parts[5]
            .strip_prefix(kind)
            .and_then(|rest| rest.strip_prefix('/'))
            .is_some_and(|rest| !rest.is_empty())
}

fn cluster_problem(s: &str) -> Option<String> {
    (!name_or_arn(s, "cluster")).then(|| {
        format!("{s:?} is neither an ECS cluster name (1 to 255 letters, digits, `-` and `_`) nor a cluster ARN such as \"arn:aws:ecs:ap-northeast-2:123456789012:cluster/fansite-api\".")
    })
}

fn service_problem(s: &str) -> Option<String> {
    (!name_or_arn(s, "service")).then(|| {
        format!("{s:?} is neither an ECS service name (1 to 255 letters, digits, `-` and `_`) nor a service ARN such as \"arn:aws:ecs:ap-northeast-2:123456789012:service/fansite-api/fansite-api\".")
    })
}

fn duration_problem(s: &str) -> Option<String> {
    parse_duration(s).err()
}

async fn redeploy(aws: &Aws, cluster: &str, service: &str, progress: Progress<'_>) -> Result<()> {
    let Some(svc) = ecs::describe_service(&aws.ecs, cluster, service).await? else {
        return Err(Error::Invalid {
            path: AttrPath::attr("service"),
            why: format!("There is no active ECS service {service:?} in the cluster {cluster:?}."),
        });
    };
    let revision = ecs::short_revision(&svc.task_definition).to_string();
    let deployment =
        ecs::force_new_deployment(&aws.ecs, cluster, service, &svc.task_definition).await?;
    progress(format!(
        "new deployment {}of {revision} started on ECS service {service:?} ({} tasks desired)",
        deployment
            .as_deref()
            .map(|d| format!("{d} "))
            .unwrap_or_default(),
        svc.desired
    ));
    let report = |state: String| progress(format!("ECS service {service:?}: {state}"));
    ecs::wait_deployment(
        &aws.ecs,
        cluster,
        service,
        Deploying {
            task_definition: &svc.task_definition,
            deployment: deployment.as_deref(),
            action: "redeploying",
        },
        crate::ctx::remaining(),
        &report,
    )
    .await?;
    progress(format!(
        "ECS service {service:?} is stable: the new deployment of {revision} completed"
    ));
    Ok(())
}

#[async_trait]
impl Action for ServiceRedeploy {
    fn name(&self) -> &'static str {
        "service_redeploy"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &Dyn, diags: &mut Diags) {
        schema().block.check(config, &AttrPath::root(), "", diags);
    }

    async fn invoke(&self, aws: &Aws, config: &Dyn, progress: Progress<'_>, diags: &mut Diags) {
        let text = |name: &str| config.get(name).as_str().unwrap_or_default().to_string();
        let (cluster, service) = (text("cluster"), text("service"));
        let timeout = config
            .get("timeout")
            .as_str()
            .and_then(|s| parse_duration(s).ok())
            .unwrap_or(DEFAULT_UPDATE_TIMEOUT);
        let ctx = Ctx::new(timeout, aws.stop.clone());
        match ctx
            .run(OVERRUN, redeploy(aws, &cluster, &service, progress))
            .await
        {
            Ended::Done(Ok(())) => {}
            Ended::Done(Err(e)) => {
                tracing::warn!(error = %e, "redeploying ECS service {service:?} failed");
                e.report(diags);
            }
            Ended::Stopped => diags.error(
                format!("Redeploying ECS service {service:?} stopped"),
                "Terraform asked the provider to stop. The deployment already started goes on.",
            ),
            Ended::TimedOut => diags.error(
                format!("Redeploying ECS service {service:?} timed out"),
                format!(
                    "The service was not stable after {} s: raise `timeout` if this is expected.",
                    timeout.as_secs()
                ),
            ),
        }
    }
}

#[cfg(test)]
#[path = "redeploy_tests.rs"]
mod tests;
