//! The load balancer waits, with ELB as AWS answers (the SDK's own test
//! doubles): the local endpoint makes an ALB `active` at once.

use std::sync::{Arc, Mutex};

use aws_sdk_elasticloadbalancingv2::operation::{
    delete_load_balancer::DeleteLoadBalancerOutput,
    describe_load_balancers::DescribeLoadBalancersOutput,
};
use aws_sdk_elasticloadbalancingv2::types::{
    LoadBalancer, LoadBalancerState, LoadBalancerStateEnum,
};
use aws_smithy_mocks::{mock, MockResponse};

use super::*;
use crate::aws::test_mocks::{self, query_error, refused};

const ARN: &str =
    "arn:aws:elasticloadbalancing:ap-northeast-2:123456789012:loadbalancer/app/fan-api/1";

fn states(states: Vec<Option<LoadBalancerStateEnum>>) -> aws_smithy_mocks::Rule {
    let left = Arc::new(Mutex::new(states));
    mock!(aws_sdk_elasticloadbalancingv2::Client::describe_load_balancers).then_compute_response(
        move |_| {
            let mut left = left.lock().expect("lock");
            let s = if left.len() > 1 {
                left.remove(0)
            } else {
                left[0].clone()
            };
            match s {
                Some(code) => MockResponse::Output(
                    DescribeLoadBalancersOutput::builder()
                        .load_balancers(
                            LoadBalancer::builder()
                                .load_balancer_arn(ARN)
                                .state(
                                    LoadBalancerState::builder()
                                        .code(code)
                                        .reason("capacity")
                                        .build(),
                                )
                                .build(),
                        )
                        .build(),
                ),
                None => refused(query_error("LoadBalancerNotFound", "not found")),
            }
        },
    )
}

/// C4: an ALB `provisioning` for minutes is waited for with our polls (the
/// SDK waiter's first poll is immediate and its back-off long); one just
/// made and not yet visible is waited out.
#[tokio::test(start_paused = true)]
async fn load_balancer_is_waited_for_until_active() {
    let mut s = vec![None];
    s.extend(vec![Some(LoadBalancerStateEnum::Provisioning); 12]);
    s.push(Some(LoadBalancerStateEnum::Active));
    let describe = states(s);
    let c = test_mocks::elb(&[&describe]);
    test_mocks::in_operation(wait_load_balancer_active(&c, ARN, Duration::from_secs(600)))
        .await
        .expect("active");
    assert_eq!(describe.num_calls(), 14);

    let describe = states(vec![Some(LoadBalancerStateEnum::Failed)]);
    let c = test_mocks::elb(&[&describe]);
    let err =
        test_mocks::in_operation(wait_load_balancer_active(&c, ARN, Duration::from_secs(600)))
            .await
            .expect_err("failed");
    assert!(err.to_string().contains("capacity"), "{err}");
}

/// C4: the delete waits until the ALB is gone.
#[tokio::test(start_paused = true)]
async fn load_balancer_delete_waits_until_gone() {
    let delete = mock!(aws_sdk_elasticloadbalancingv2::Client::delete_load_balancer)
        .then_output(|| DeleteLoadBalancerOutput::builder().build());
    let describe = states(vec![
        Some(LoadBalancerStateEnum::Active),
        Some(LoadBalancerStateEnum::Active),
        None,
    ]);
    let c = test_mocks::elb(&[&delete, &describe]);
    test_mocks::in_operation(delete_load_balancer(&c, ARN, Duration::from_secs(600)))
        .await
        .expect("gone");
    assert_eq!(describe.num_calls(), 3);
}
