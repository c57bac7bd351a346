//! Application Auto Scaling of an Aurora cluster's reader count.

use aws_sdk_applicationautoscaling::types::{
    MetricType, PolicyType, PredefinedMetricSpecification, ScalableDimension, ServiceNamespace,
    TargetTrackingScalingPolicyConfiguration,
};
use aws_sdk_applicationautoscaling::Client;

use super::{aws_error, build_error};
use crate::error::Result;

/// How soon after one scale-out another may start: short, because a ticket-day
/// rush grows for minutes; scale-in waits longer so readers are not dropped mid-rush.
const SCALE_OUT_COOLDOWN_SECS: i32 = 60;
const SCALE_IN_COOLDOWN_SECS: i32 = 300;

fn resource_id(cluster: &str) -> String {
    format!("cluster:{cluster}")
}

fn policy_name(cluster: &str) -> String {
    format!("{cluster}-reader-cpu")
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
    c.register_scalable_target()
        .service_namespace(ServiceNamespace::Rds)
        .scalable_dimension(ScalableDimension::RdsClusterReadReplicaCount)
        .resource_id(resource_id(cluster))
        .min_capacity(min)
        .max_capacity(max)
        .send()
        .await
        .map_err(|e| aws_error("registering", &part, e))?;
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
    c.put_scaling_policy()
        .policy_name(policy_name(cluster))
        .service_namespace(ServiceNamespace::Rds)
        .scalable_dimension(ScalableDimension::RdsClusterReadReplicaCount)
        .resource_id(resource_id(cluster))
        .policy_type(PolicyType::TargetTrackingScaling)
        .target_tracking_scaling_policy_configuration(config)
        .send()
        .await
        .map_err(|e| aws_error("putting", &format!("scaling policy of {cluster:?}"), e))?;
    Ok(())
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
            let e = aws_error(
                "deregistering",
                &format!("reader autoscaling of {cluster:?}"),
                e,
            );
            // AWS says ObjectNotFoundException; the local endpoint a ValidationException.
            let unregistered = e.to_string().contains("No scalable target found");
            if e.is_not_found() || e.code() == Some("ObjectNotFoundException") || unregistered {
                Ok(())
            } else {
                Err(e)
            }
        }
    }
}
