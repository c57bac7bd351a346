//! The deployment wait, driven by DescribeServices answers from the SDK's own
//! test doubles (aws-smithy-mocks). The local endpoint runs no tasks and has
//! no circuit breaker, so it cannot show a deployment rolling, failing or
//! being rolled back; these answers are shaped as ECS gives them.

use std::time::Duration;

use aws_sdk_ecs::operation::describe_services::DescribeServicesOutput;
use aws_sdk_ecs::types::{Deployment, DeploymentRolloutState, Service};
use aws_sdk_ecs::Client;
use aws_smithy_mocks::{mock, mock_client, RuleMode};

use super::*;

const OLD: &str = "arn:aws:ecs:ap-northeast-2:123456789012:task-definition/fansite-api:6";
const NEW: &str = "arn:aws:ecs:ap-northeast-2:123456789012:task-definition/fansite-api:7";

fn deployment(
    status: &str,
    td: &str,
    state: DeploymentRolloutState,
    running: i32,
    failed: i32,
    reason: &str,
) -> Deployment {
    Deployment::builder()
        .status(status)
        .task_definition(td)
        .rollout_state(state)
        .rollout_state_reason(reason)
        .running_count(running)
        .desired_count(2)
        .failed_tasks(failed)
        .build()
}

fn answer(td: &str, running: i32, deployments: Vec<Deployment>) -> DescribeServicesOutput {
    DescribeServicesOutput::builder()
        .services(
            Service::builder()
                .service_arn(
                    "arn:aws:ecs:ap-northeast-2:123456789012:service/fansite-api/fansite-api",
                )
                .service_name("fansite-api")
                .status("ACTIVE")
                .task_definition(td)
                .desired_count(2)
                .running_count(running)
                .set_deployments(Some(deployments))
                .build(),
        )
        .build()
}

fn rolling() -> DescribeServicesOutput {
    answer(
        NEW,
        3,
        vec![
            deployment("PRIMARY", NEW, DeploymentRolloutState::InProgress, 1, 0, ""),
            deployment("ACTIVE", OLD, DeploymentRolloutState::Completed, 2, 0, ""),
        ],
    )
}

#[tokio::test(start_paused = true)]
async fn wait_stable_returns_once_the_new_revision_runs_alone() {
    let rule = mock!(Client::describe_services)
        .sequence()
        .output(rolling)
        .times(2)
        .output(|| {
            answer(
                NEW,
                2,
                vec![deployment(
                    "PRIMARY",
                    NEW,
                    DeploymentRolloutState::Completed,
                    2,
                    0,
                    "",
                )],
            )
        })
        .build();
    let ecs = mock_client!(aws_sdk_ecs, RuleMode::Sequential, [&rule]);
    let res = wait_stable(
        &ecs,
        "fansite-api",
        "fansite-api",
        NEW,
        Duration::from_secs(600),
    )
    .await;
    assert!(res.is_ok(), "{res:?}");
    assert_eq!(
        rule.num_calls(),
        3,
        "polled until the old deployment was gone"
    );
}

#[tokio::test(start_paused = true)]
async fn a_rolled_back_deployment_fails_and_names_what_runs() {
    let reason = "ECS deployment circuit breaker: tasks failed to start.";
    let rule = mock!(Client::describe_services)
        .sequence()
        .output(rolling)
        .output(move || {
            answer(
                OLD,
                2,
                vec![
                    deployment("PRIMARY", OLD, DeploymentRolloutState::InProgress, 2, 0, ""),
                    deployment("ACTIVE", NEW, DeploymentRolloutState::Failed, 0, 4, reason),
                ],
            )
        })
        .build();
    let ecs = mock_client!(aws_sdk_ecs, RuleMode::Sequential, [&rule]);
    let err = wait_stable(
        &ecs,
        "fansite-api",
        "fansite-api",
        NEW,
        Duration::from_secs(600),
    )
    .await
    .expect_err("a rollback is an error");
    assert!(
        matches!(&err, Error::RolledBack { running, .. } if running == "fansite-api:6"),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("deploying fansite-api:7 to ECS service \"fansite-api\""),
        "{msg}"
    );
    assert!(msg.contains("the service runs fansite-api:6"), "{msg}");
    assert!(msg.contains(reason), "{msg}");
}

#[tokio::test(start_paused = true)]
async fn a_deployment_that_never_settles_times_out_with_the_counts() {
    let rule = mock!(Client::describe_services).then_output(|| {
        answer(
            NEW,
            0,
            vec![deployment(
                "PRIMARY",
                NEW,
                DeploymentRolloutState::InProgress,
                0,
                3,
                "",
            )],
        )
    });
    let ecs = mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [&rule]);
    let err = wait_stable(
        &ecs,
        "fansite-api",
        "fansite-api",
        NEW,
        Duration::from_secs(60),
    )
    .await
    .expect_err("timeout");
    let msg = err.to_string();
    assert!(
        msg.contains("0 of 2 tasks running, 3 failed to start"),
        "{msg}"
    );
    assert!(msg.contains("raise the `timeouts` value"), "{msg}");
}

#[tokio::test(start_paused = true)]
async fn a_service_deleted_while_deploying_is_not_found() {
    let rule =
        mock!(Client::describe_services).then_output(|| DescribeServicesOutput::builder().build());
    let ecs = mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [&rule]);
    let err = wait_stable(
        &ecs,
        "fansite-api",
        "fansite-api",
        NEW,
        Duration::from_secs(60),
    )
    .await
    .expect_err("gone");
    assert!(err.is_not_found(), "{err}");
}

#[test]
fn progress_reads_describe_services() {
    let info = |td: &str, running: i32, deployments: Vec<DeploymentInfo>| ServiceInfo {
        arn: String::new(),
        status: "ACTIVE".into(),
        task_definition: td.into(),
        desired: 2,
        running,
        subnets: vec![],
        security_groups: vec![],
        target_group_arn: None,
        deployments,
        rollout: None,
        tags: Tags::new(),
    };
    let d = |status: &str, td: &str, state: &str| DeploymentInfo {
        status: status.into(),
        task_definition: td.into(),
        rollout_state: Some(state.into()),
        reason: "why".into(),
        running: 2,
        desired: 2,
        failed_tasks: 1,
    };
    assert_eq!(
        progress(&info(NEW, 2, vec![d("PRIMARY", NEW, "COMPLETED")]), NEW),
        Progress::Stable
    );
    assert!(matches!(
        progress(&info(NEW, 1, vec![d("PRIMARY", NEW, "COMPLETED")]), NEW),
        Progress::Rolling { running: 1, .. }
    ));
    assert!(matches!(
        progress(
            &info(
                NEW,
                2,
                vec![
                    d("PRIMARY", NEW, "IN_PROGRESS"),
                    d("ACTIVE", OLD, "COMPLETED")
                ]
            ),
            NEW
        ),
        Progress::Rolling { .. }
    ));
    assert_eq!(
        progress(
            &info(
                OLD,
                2,
                vec![d("PRIMARY", OLD, "IN_PROGRESS"), d("ACTIVE", NEW, "FAILED")]
            ),
            NEW
        ),
        Progress::Failed {
            running: OLD.into(),
            reason: "why".into()
        }
    );
    // Without the circuit breaker's rollback the service stays on the failed revision.
    assert!(matches!(
        progress(&info(NEW, 0, vec![d("PRIMARY", NEW, "FAILED")]), NEW),
        Progress::Failed { .. }
    ));
    assert_eq!(short_revision(NEW), "fansite-api:7");
}
