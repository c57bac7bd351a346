//! Application Auto Scaling of an Aurora cluster's reader count.

use aws_sdk_applicationautoscaling::error::ProvideErrorMetadata;
use aws_sdk_applicationautoscaling::types::{
    MetricType, PolicyType, PredefinedMetricSpecification, ScalableDimension, ServiceNamespace,
    TargetTrackingScalingPolicyConfiguration,
};
use aws_sdk_applicationautoscaling::Client;

use super::{aws_error, build_error, not_found_if, retry_eventual_when};
use crate::error::Result;

/// How soon after one scale-out another may start: short, because a ticket-day
/// rush grows for minutes; scale-in waits longer so readers are not dropped mid-rush.
pub const SCALE_OUT_COOLDOWN_SECS: i32 = 60;
const SCALE_IN_COOLDOWN_SECS: i32 = 300;

fn resource_id(cluster: &str) -> String {
    format!("cluster:{cluster}")
}

fn policy_name(cluster: &str) -> String {
    format!("{cluster}-reader-cpu")
}

/// RegisterScalableTarget answers these until AWS catches up: the
/// service-linked role made on first use is not yet assumable, and an ECS
/// service made a moment ago is not yet visible (terraform-provider-aws
/// `registerScalableTarget` retries both for its propagation timeout).
const REGISTER_PASSING: &[(&str, &str)] = &[
    ("ValidationException", "Unable to assume IAM role"),
    ("ValidationException", "ECS service doesn't exist"),
];

/// PutScalingPolicy answers FailedResourceAccessException while the target's
/// role cannot yet read the scaled resource (terraform-provider-aws
/// `resourcePolicyPut` retries it).
const POLICY_PASSING: &[(&str, &str)] = &[
    ("FailedResourceAccessException", ""),
    ("ValidationException", "Unable to assume IAM role"),
];

/// Registers the bounds of `dimension` of `resource_id`, retried while AWS catches up.
async fn register(
    c: &Client,
    namespace: ServiceNamespace,
    dimension: ScalableDimension,
    resource_id: &str,
    (min, max): (i32, i32),
    part: &str,
) -> Result<()> {
    retry_eventual_when(REGISTER_PASSING, || async {
        c.register_scalable_target()
            .service_namespace(namespace.clone())
            .scalable_dimension(dimension.clone())
            .resource_id(resource_id)
            .min_capacity(min)
            .max_capacity(max)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_error("registering", part, e))
    })
    .await
}

/// Puts a target-tracking policy, retried while AWS catches up.
async fn put_policy(
    c: &Client,
    name: &str,
    namespace: ServiceNamespace,
    dimension: ScalableDimension,
    resource_id: &str,
    config: TargetTrackingScalingPolicyConfiguration,
) -> Result<()> {
    retry_eventual_when(POLICY_PASSING, || async {
        c.put_scaling_policy()
            .policy_name(name)
            .service_namespace(namespace.clone())
            .scalable_dimension(dimension.clone())
            .resource_id(resource_id)
            .policy_type(PolicyType::TargetTrackingScaling)
            .target_tracking_scaling_policy_configuration(config.clone())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_error("putting", &format!("scaling policy {name:?}"), e))
    })
    .await
}

/// Whether the answer is the local endpoint's "does not exist", which only its
/// message tells apart.
// emulator: the local endpoint (moto) answers a ValidationException ("No
// scalable target found …", "No scaling policy found …"); AWS answers
// ObjectNotFoundException, which `is_object_not_found_exception` asks.
fn emulator_says_missing<E: ProvideErrorMetadata>(e: &E, what: &str) -> bool {
    e.code() == Some("ValidationException") && e.message().is_some_and(|m| m.contains(what))
}

/// Registers (or updates) the reader count bounds and the CPU target-tracking policy.
pub async fn scale_readers(
    c: &Client,
    cluster: &str,
    min: i32,
    max: i32,
    target_cpu: f64,
) -> Result<()> {
    let part = format!("reader autoscaling of {cluster:?}");
    let dim = ScalableDimension::RdsClusterReadReplicaCount;
    let id = resource_id(cluster);
    register(
        c,
        ServiceNamespace::Rds,
        dim.clone(),
        &id,
        (min, max),
        &part,
    )
    .await?;
    let metric = PredefinedMetricSpecification::builder()
        .predefined_metric_type(MetricType::RdsReaderAverageCpuUtilization)
        .build()
        .map_err(|e| build_error(&part, e))?;
    let config = TargetTrackingScalingPolicyConfiguration::builder()
        .target_value(target_cpu)
        .predefined_metric_specification(metric)
        .scale_out_cooldown(SCALE_OUT_COOLDOWN_SECS)
        .scale_in_cooldown(SCALE_IN_COOLDOWN_SECS)
        .build()
        .map_err(|e| build_error(&part, e))?;
    put_policy(
        c,
        &policy_name(cluster),
        ServiceNamespace::Rds,
        dim,
        &id,
        config,
    )
    .await
}

/// The registered bounds and the policy's CPU target, or `None` when not registered.
pub async fn reader_scaling(c: &Client, cluster: &str) -> Result<Option<(i32, i32, Option<f64>)>> {
    let part = format!("reader autoscaling of {cluster:?}");
    let targets = c
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Rds)
        .scalable_dimension(ScalableDimension::RdsClusterReadReplicaCount)
        .resource_ids(resource_id(cluster))
        .send()
        .await
        .map_err(|e| aws_error("describing", &part, e))?;
    let Some(t) = targets.scalable_targets().first() else {
        return Ok(None);
    };
    let policies = c
        .describe_scaling_policies()
        .service_namespace(ServiceNamespace::Rds)
        .scalable_dimension(ScalableDimension::RdsClusterReadReplicaCount)
        .resource_id(resource_id(cluster))
        .policy_names(policy_name(cluster))
        .send()
        .await
        .map_err(|e| aws_error("describing", &format!("scaling policy of {cluster:?}"), e))?;
    let target = policies
        .scaling_policies()
        .first()
        .and_then(|p| p.target_tracking_scaling_policy_configuration())
        .map(|c| c.target_value());
    Ok(Some((t.min_capacity(), t.max_capacity(), target)))
}

/// Stops autoscaling (its policies go with the target). Not registered is done.
pub async fn stop_scaling(c: &Client, cluster: &str) -> Result<()> {
    match c
        .deregister_scalable_target()
        .service_namespace(ServiceNamespace::Rds)
        .scalable_dimension(ScalableDimension::RdsClusterReadReplicaCount)
        .resource_id(resource_id(cluster))
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => {
            let e = not_found_if(
                "deregistering",
                &format!("reader autoscaling of {cluster:?}"),
                e,
                |e| {
                    e.is_object_not_found_exception()
                        || emulator_says_missing(e, "No scalable target found")
                },
            );
            if e.is_not_found() {
                Ok(())
            } else {
                Err(e)
            }
        }
    }
}

/// A scheduled change of an ECS service's bounds, for a known fan event.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ScheduledBounds {
    pub name: String,
    /// `at(...)`, `cron(...)` or `rate(...)`, as Application Auto Scaling takes it.
    pub schedule: String,
    pub timezone: String,
    pub min: i32,
    pub max: i32,
}

/// What scales an ECS service's desired count.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceScaling {
    pub min: i32,
    pub max: i32,
    pub target_cpu: f64,
    /// ALB requests per task per minute, and the ALB resource label.
    pub requests_per_target: Option<(f64, String)>,
    pub scheduled: Vec<ScheduledBounds>,
}

fn service_resource_id(cluster: &str, service: &str) -> String {
    format!("service/{cluster}/{service}")
}

/// Registers the service's bounds and its target-tracking policies (CPU, and
/// requests per task when asked), and makes the scheduled actions match.
pub async fn scale_service(
    c: &Client,
    cluster: &str,
    service: &str,
    s: &ServiceScaling,
) -> Result<()> {
    let id = service_resource_id(cluster, service);
    let part = format!("autoscaling of ECS service {service:?}");
    let dim = ScalableDimension::EcsServiceDesiredCount;
    register(
        c,
        ServiceNamespace::Ecs,
        dim.clone(),
        &id,
        (s.min, s.max),
        &part,
    )
    .await?;
    let policy = |name: String, metric: PredefinedMetricSpecification, target: f64| {
        let config = TargetTrackingScalingPolicyConfiguration::builder()
            .target_value(target)
            .predefined_metric_specification(metric)
            .scale_out_cooldown(SCALE_OUT_COOLDOWN_SECS)
            .scale_in_cooldown(SCALE_IN_COOLDOWN_SECS)
            .build()
            .map_err(|e| build_error(&part, e));
        let (id, dim) = (id.clone(), dim.clone());
        async move { put_policy(c, &name, ServiceNamespace::Ecs, dim, &id, config?).await }
    };
    let cpu = PredefinedMetricSpecification::builder()
        .predefined_metric_type(MetricType::EcsServiceAverageCpuUtilization)
        .build()
        .map_err(|e| build_error(&part, e))?;
    policy(format!("{service}-cpu"), cpu, s.target_cpu).await?;
    let requests_name = format!("{service}-requests");
    match &s.requests_per_target {
        Some((target, label)) => {
            let m = PredefinedMetricSpecification::builder()
                .predefined_metric_type(MetricType::AlbRequestCountPerTarget)
                .resource_label(label)
                .build()
                .map_err(|e| build_error(&part, e))?;
            policy(requests_name, m, *target).await?;
        }
        None => {
            let res = c
                .delete_scaling_policy()
                .policy_name(&requests_name)
                .service_namespace(ServiceNamespace::Ecs)
                .scalable_dimension(dim.clone())
                .resource_id(&id)
                .send()
                .await;
            if let Err(e) = res {
                let e = not_found_if(
                    "deleting",
                    &format!("scaling policy {requests_name:?}"),
                    e,
                    |e| {
                        e.is_object_not_found_exception()
                            || emulator_says_missing(e, "No scaling policy found")
                    },
                );
                if !e.is_not_found() {
                    return Err(e);
                }
            }
        }
    }
    let had = scheduled_actions(c, cluster, service).await?;
    for s in &s.scheduled {
        if had.contains(s) {
            continue;
        }
        c.put_scheduled_action()
            .service_namespace(ServiceNamespace::Ecs)
            .scalable_dimension(dim.clone())
            .resource_id(&id)
            .scheduled_action_name(&s.name)
            .schedule(&s.schedule)
            .timezone(&s.timezone)
            .scalable_target_action(
                aws_sdk_applicationautoscaling::types::ScalableTargetAction::builder()
                    .min_capacity(s.min)
                    .max_capacity(s.max)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| aws_error("scheduling", &format!("scaling {:?}", s.name), e))?;
    }
    for old in had
        .iter()
        .filter(|h| !s.scheduled.iter().any(|w| w.name == h.name))
    {
        c.delete_scheduled_action()
            .service_namespace(ServiceNamespace::Ecs)
            .scalable_dimension(dim.clone())
            .resource_id(&id)
            .scheduled_action_name(&old.name)
            .send()
            .await
            .map_err(|e| aws_error("deleting", &format!("scheduled scaling {:?}", old.name), e))?;
    }
    Ok(())
}

async fn scheduled_actions(
    c: &Client,
    cluster: &str,
    service: &str,
) -> Result<Vec<ScheduledBounds>> {
    let out = c
        .describe_scheduled_actions()
        .service_namespace(ServiceNamespace::Ecs)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .resource_id(service_resource_id(cluster, service))
        .send()
        .await
        .map_err(|e| {
            aws_error(
                "describing",
                &format!("scheduled scaling of {service:?}"),
                e,
            )
        })?;
    let mut v: Vec<ScheduledBounds> = out
        .scheduled_actions()
        .iter()
        .map(|a| ScheduledBounds {
            name: a.scheduled_action_name().to_string(),
            schedule: a.schedule().to_string(),
            timezone: a.timezone().unwrap_or("UTC").to_string(),
            min: a
                .scalable_target_action()
                .and_then(|t| t.min_capacity())
                .unwrap_or_default(),
            max: a
                .scalable_target_action()
                .and_then(|t| t.max_capacity())
                .unwrap_or_default(),
        })
        .collect();
    v.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(v)
}

/// The service's scaling as registered, or `None` when it is not registered.
pub async fn service_scaling(
    c: &Client,
    cluster: &str,
    service: &str,
) -> Result<Option<ServiceScaling>> {
    let id = service_resource_id(cluster, service);
    let part = format!("autoscaling of ECS service {service:?}");
    let targets = c
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Ecs)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .resource_ids(&id)
        .send()
        .await
        .map_err(|e| aws_error("describing", &part, e))?;
    let Some(t) = targets.scalable_targets().first() else {
        return Ok(None);
    };
    let policies = c
        .describe_scaling_policies()
        .service_namespace(ServiceNamespace::Ecs)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .resource_id(&id)
        .send()
        .await
        .map_err(|e| aws_error("describing", &format!("scaling policies of {service:?}"), e))?;
    let mut target_cpu = 0.0;
    let mut requests = None;
    for p in policies.scaling_policies() {
        let Some(conf) = p.target_tracking_scaling_policy_configuration() else {
            continue;
        };
        let metric = conf.predefined_metric_specification();
        match metric.map(|m| m.predefined_metric_type()) {
            Some(MetricType::EcsServiceAverageCpuUtilization) => target_cpu = conf.target_value(),
            Some(MetricType::AlbRequestCountPerTarget) => {
                requests = Some((
                    conf.target_value(),
                    metric
                        .and_then(|m| m.resource_label())
                        .unwrap_or_default()
                        .to_string(),
                ))
            }
            _ => {}
        }
    }
    Ok(Some(ServiceScaling {
        min: t.min_capacity(),
        max: t.max_capacity(),
        target_cpu,
        requests_per_target: requests,
        scheduled: scheduled_actions(c, cluster, service).await?,
    }))
}

/// Stops the service's autoscaling (policies and schedules go with the target).
pub async fn stop_service_scaling(c: &Client, cluster: &str, service: &str) -> Result<()> {
    match c
        .deregister_scalable_target()
        .service_namespace(ServiceNamespace::Ecs)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .resource_id(service_resource_id(cluster, service))
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => {
            let e = not_found_if(
                "deregistering",
                &format!("autoscaling of ECS service {service:?}"),
                e,
                |e| {
                    e.is_object_not_found_exception()
                        || emulator_says_missing(e, "No scalable target found")
                },
            );
            if e.is_not_found() {
                Ok(())
            } else {
                Err(e)
            }
        }
    }
}

#[cfg(test)]
#[path = "autoscaling_tests.rs"]
mod tests;
