//! Application Auto Scaling as AWS answers on first use (the SDK's own test
//! doubles): the local endpoint has no service-linked role to make and sees
//! a new ECS service at once.

use aws_sdk_applicationautoscaling::operation::{
    delete_scaling_policy::DeleteScalingPolicyOutput,
    describe_scheduled_actions::DescribeScheduledActionsOutput,
    put_scaling_policy::PutScalingPolicyOutput,
    register_scalable_target::RegisterScalableTargetOutput,
};
use aws_smithy_mocks::mock;

use super::*;
use crate::aws::test_mocks::{self, json_error};

fn register_refused(message: &str, times: usize) -> aws_smithy_mocks::Rule {
    mock!(aws_sdk_applicationautoscaling::Client::register_scalable_target)
        .sequence()
        .http_status(400, Some(json_error("ValidationException", message)))
        .times(times)
        .output(|| RegisterScalableTargetOutput::builder().build())
        .build()
}

fn policy_refused(times: usize) -> aws_smithy_mocks::Rule {
    mock!(aws_sdk_applicationautoscaling::Client::put_scaling_policy)
        .sequence()
        .http_status(
            400,
            Some(json_error(
                "FailedResourceAccessException",
                "Failed to access the resource.",
            )),
        )
        .times(times)
        .output(|| {
            PutScalingPolicyOutput::builder()
                .policy_arn("arn")
                .build()
                .expect("an output")
        })
        .repeatedly()
        .build()
}

/// D6: the readers' scaling registers although the service-linked role made
/// on first use is not yet assumable, and the policy although its role
/// cannot yet read the cluster: both are retried.
#[tokio::test(start_paused = true)]
async fn reader_scaling_waits_for_the_service_linked_role() {
    let register = register_refused(
        "Unable to assume IAM role: arn:aws:iam::123456789012:role/aws-service-role/rds.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_RDSCluster",
        4,
    );
    let policy = policy_refused(3);
    let c = test_mocks::autoscaling(&[&register, &policy]);
    scale_readers(&c, "fan-db", 1, 3, 60.0)
        .await
        .expect("registered");
    assert_eq!((register.num_calls(), policy.num_calls()), (5, 4));
}

/// D6: an ECS service made a moment ago is not yet visible to Application
/// Auto Scaling ("ECS service doesn't exist"): retried, then the policies go on.
#[tokio::test(start_paused = true)]
async fn service_scaling_waits_for_the_new_service() {
    let register = register_refused("ECS service doesn't exist: service/fan/fan-api", 4);
    let policy = policy_refused(1);
    let delete = mock!(aws_sdk_applicationautoscaling::Client::delete_scaling_policy)
        .then_output(|| DeleteScalingPolicyOutput::builder().build());
    let scheduled = mock!(aws_sdk_applicationautoscaling::Client::describe_scheduled_actions)
        .then_output(|| DescribeScheduledActionsOutput::builder().build());
    let c = test_mocks::autoscaling(&[&register, &policy, &delete, &scheduled]);
    let s = ServiceScaling {
        min: 2,
        max: 10,
        target_cpu: 60.0,
        requests_per_target: None,
        scheduled: vec![],
    };
    scale_service(&c, "fan", "fan-api", &s)
        .await
        .expect("registered");
    assert_eq!(register.num_calls(), 5);
}

/// A ValidationException with another message is a real error, at once.
#[tokio::test(start_paused = true)]
async fn another_validation_error_is_not_retried() {
    let register = register_refused("Unsupported service namespace", 1);
    let c = test_mocks::autoscaling(&[&register]);
    let res = scale_readers(&c, "fan-db", 1, 3, 60.0).await;
    assert!(res.is_err());
    assert_eq!(register.num_calls(), 1);
}
