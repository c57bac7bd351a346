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
use crate::aws::test_mocks;

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

fn with_status(status: &str) -> DescribeServicesOutput {
    DescribeServicesOutput::builder()
        .services(
            Service::builder()
                .service_name("fansite-api")
                .status(status)
                .build(),
        )
        .build()
}

fn statuses(list: &'static [&'static str]) -> aws_smithy_mocks::Rule {
    let mut b = mock!(Client::describe_services).sequence();
    for s in list {
        b = b.output(move || with_status(s));
    }
    b.repeatedly().build()
}

/// S1: a destroy scales the service to 0, deletes it, and returns only once
/// it is INACTIVE: while it is DRAINING its tasks still run, and their
/// interfaces hold the tasks' security group and the subnets.
#[tokio::test(start_paused = true)]
async fn delete_service_scales_to_zero_then_waits_until_inactive() {
    use aws_sdk_ecs::operation::{
        delete_service::DeleteServiceOutput, update_service::UpdateServiceOutput,
    };
    let describe = statuses(&["ACTIVE", "DRAINING", "DRAINING", "INACTIVE"]);
    let scale = mock!(Client::update_service)
        .match_requests(|r| r.desired_count() == Some(0))
        .then_output(|| UpdateServiceOutput::builder().build());
    let delete = mock!(Client::delete_service)
        .sequence()
        .http_status(
            400,
            Some(test_mocks::json_error(
                "InvalidParameterException",
                "The service cannot be stopped while deployments are active.",
            )),
        )
        .output(|| DeleteServiceOutput::builder().build())
        .build();
    let ecs = test_mocks::ecs(&[&describe, &scale, &delete]);
    test_mocks::in_operation(delete_service(
        &ecs,
        "fansite-api",
        "fansite-api",
        Duration::from_secs(600),
    ))
    .await
    .expect("deleted");
    assert_eq!(scale.num_calls(), 1, "scaled to 0 first");
    assert_eq!(
        delete.num_calls(),
        2,
        "retried while deployments were active"
    );
    assert_eq!(describe.num_calls(), 4, "waited through DRAINING");
}

/// S1: a service already DRAINING (deleted outside Terraform) is only
/// waited for; one that is INACTIVE or unknown is done.
#[tokio::test(start_paused = true)]
async fn a_draining_service_is_waited_for_and_an_inactive_one_is_done() {
    let describe = statuses(&["DRAINING", "INACTIVE"]);
    let delete = mock!(Client::delete_service).then_output(|| {
        aws_sdk_ecs::operation::delete_service::DeleteServiceOutput::builder().build()
    });
    let ecs = test_mocks::ecs(&[&describe, &delete]);
    test_mocks::in_operation(delete_service(
        &ecs,
        "c",
        "fansite-api",
        Duration::from_secs(60),
    ))
    .await
    .expect("deleted");
    assert_eq!((describe.num_calls(), delete.num_calls()), (2, 0));

    let missing =
        mock!(Client::describe_services).then_output(|| DescribeServicesOutput::builder().build());
    let ecs = test_mocks::ecs(&[&missing, &delete]);
    test_mocks::in_operation(delete_service(
        &ecs,
        "c",
        "fansite-api",
        Duration::from_secs(60),
    ))
    .await
    .expect("gone is done");
    assert_eq!(delete.num_calls(), 0);
}

/// A deleted service that never drains fails the delete at its deadline, saying so.
#[tokio::test(start_paused = true)]
async fn a_service_that_never_drains_times_out() {
    let describe = statuses(&["DRAINING"]);
    let ecs = test_mocks::ecs(&[&describe]);
    let err = test_mocks::in_operation(delete_service(
        &ecs,
        "c",
        "fansite-api",
        Duration::from_secs(120),
    ))
    .await
    .expect_err("timeout");
    let msg = err.to_string();
    assert!(
        msg.contains("to be inactive") && msg.contains("DRAINING"),
        "{msg}"
    );
}

/// S1: DeleteCluster is refused while services drain and their tasks stop:
/// retried, then the cluster is waited for until INACTIVE.
#[tokio::test(start_paused = true)]
async fn delete_cluster_is_retried_while_services_and_tasks_remain() {
    use aws_sdk_ecs::operation::{
        delete_cluster::DeleteClusterOutput, describe_clusters::DescribeClustersOutput,
    };
    let delete = mock!(Client::delete_cluster)
        .sequence()
        .http_status(
            400,
            Some(test_mocks::json_error(
                "ClusterContainsServicesException",
                "The Cluster cannot be deleted while Services are active.",
            )),
        )
        .times(3)
        .http_status(
            400,
            Some(test_mocks::json_error(
                "ClusterContainsTasksException",
                "The Cluster cannot be deleted while Tasks are active.",
            )),
        )
        .output(|| DeleteClusterOutput::builder().build())
        .build();
    let describe = mock!(Client::describe_clusters)
        .sequence()
        .output(|| {
            DescribeClustersOutput::builder()
                .clusters(
                    aws_sdk_ecs::types::Cluster::builder()
                        .cluster_name("fansite-api")
                        .status("DEPROVISIONING")
                        .build(),
                )
                .build()
        })
        .output(|| {
            DescribeClustersOutput::builder()
                .clusters(
                    aws_sdk_ecs::types::Cluster::builder()
                        .cluster_name("fansite-api")
                        .status("INACTIVE")
                        .build(),
                )
                .build()
        })
        .build();
    let ecs = test_mocks::ecs(&[&delete, &describe]);
    test_mocks::in_operation(delete_cluster(&ecs, "fansite-api"))
        .await
        .expect("deleted");
    assert_eq!((delete.num_calls(), describe.num_calls()), (5, 2));
}

/// S6 and the recreate of a service deleted outside Terraform: CreateService
/// is retried while ECS catches up (the old service still draining, a new
/// listener not yet associated); a real refusal fails at once.
#[tokio::test(start_paused = true)]
async fn create_service_is_retried_only_while_ecs_catches_up() {
    use aws_sdk_ecs::operation::create_service::CreateServiceOutput;
    let spec = ServiceSpec {
        cluster: "fansite-api".into(),
        name: "fansite-api".into(),
        task_definition: NEW.into(),
        desired_count: 2,
        subnets: vec!["subnet-a".into(), "subnet-b".into()],
        security_group: "sg-1".into(),
        target_group_arn: "arn:tg".into(),
        container_port: 3000,
        rollout: Rollout {
            minimum_healthy_percent: 100,
            maximum_percent: 200,
            rollback: true,
        },
        health_check_grace_secs: 60,
    };
    let refused = |m: &str| Some(test_mocks::json_error("InvalidParameterException", m));
    let create = mock!(Client::create_service)
        .sequence()
        .http_status(400, refused("Unable to Start a service that is still Draining."))
        .http_status(400, refused("The target group with targetGroupArn arn:tg does not have an associated load balancer."))
        .http_status(400, refused("Unable to assume the service linked role. Please verify that the ECS service linked role exists."))
        .output(|| {
            CreateServiceOutput::builder()
                .service(Service::builder().service_arn("arn:svc").build())
                .build()
        })
        .build();
    let ecs = test_mocks::ecs(&[&create]);
    let arn = test_mocks::in_operation(create_service(&ecs, &spec, &Tags::new()))
        .await
        .expect("created");
    assert_eq!((arn.as_str(), create.num_calls()), ("arn:svc", 4));

    let bad = mock!(Client::create_service)
        .sequence()
        .http_status(
            400,
            refused("Task definition does not support launch_type FARGATE."),
        )
        .repeatedly()
        .build();
    let ecs = test_mocks::ecs(&[&bad]);
    let err = test_mocks::in_operation(create_service(&ecs, &spec, &Tags::new()))
        .await
        .expect_err("a real error");
    assert_eq!(bad.num_calls(), 1, "not retried: {err}");
}

/// S7: right after CreateService or UpdateService, DescribeServices may not
/// show the service yet, or still show the revision it ran: waited out.
#[tokio::test(start_paused = true)]
async fn a_lagging_describe_services_is_waited_out() {
    let rule = mock!(Client::describe_services)
        .sequence()
        .output(|| DescribeServicesOutput::builder().build())
        .output(|| {
            answer(
                OLD,
                2,
                vec![deployment(
                    "PRIMARY",
                    OLD,
                    DeploymentRolloutState::Completed,
                    2,
                    0,
                    "",
                )],
            )
        })
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
    let ecs = test_mocks::ecs(&[&rule]);
    let started = tokio::time::Instant::now();
    wait_stable(&ecs, "c", "fansite-api", NEW, Duration::from_secs(600))
        .await
        .expect("stable");
    assert_eq!(rule.num_calls(), 3);
    assert!(
        started.elapsed() >= crate::aws::wait::FIRST_POLL,
        "the first look waits"
    );
}

/// S7: once DescribeServices cannot be lagging, another revision with no
/// failed deployment of ours is a rollback or a change outside Terraform.
#[tokio::test(start_paused = true)]
async fn another_revision_past_the_lag_is_reported() {
    let rule = mock!(Client::describe_services).then_output(|| {
        answer(
            OLD,
            2,
            vec![deployment(
                "PRIMARY",
                OLD,
                DeploymentRolloutState::Completed,
                2,
                0,
                "",
            )],
        )
    });
    let ecs = test_mocks::ecs(&[&rule]);
    let started = tokio::time::Instant::now();
    let err = wait_stable(&ecs, "c", "fansite-api", NEW, Duration::from_secs(600))
        .await
        .expect_err("rolled back");
    assert!(
        matches!(&err, Error::RolledBack { running, .. } if running == "fansite-api:6"),
        "{err:?}"
    );
    assert!(started.elapsed() >= DESCRIBE_LAG);
}

/// S8: an update that changes only the count or the revision sends neither
/// the load balancers nor the network configuration (either would start a
/// new deployment on ECS).
#[tokio::test(start_paused = true)]
async fn update_service_sends_only_what_changes() {
    use aws_sdk_ecs::operation::update_service::UpdateServiceOutput;
    let bare = mock!(Client::update_service)
        .match_requests(|r| r.load_balancers().is_empty() && r.network_configuration().is_none())
        .then_output(|| UpdateServiceOutput::builder().build());
    let ecs = test_mocks::ecs(&[&bare]);
    let u = ServiceUpdate {
        task_definition: None,
        load_balancer: None,
        desired_count: Some(3),
        network: None,
        rollout: Rollout {
            minimum_healthy_percent: 100,
            maximum_percent: 200,
            rollback: true,
        },
        health_check_grace_secs: 60,
    };
    update_service(&ecs, "c", "fansite-api", &u)
        .await
        .expect("updated");
    assert_eq!(bare.num_calls(), 1);
    let full = mock!(Client::update_service)
        .match_requests(|r| {
            r.load_balancers().len() == 1
                && r.load_balancers()[0].container_port() == Some(8080)
                && r.network_configuration().is_some()
        })
        .then_output(|| UpdateServiceOutput::builder().build());
    let ecs = test_mocks::ecs(&[&full]);
    let u = ServiceUpdate {
        load_balancer: Some(("arn:tg".into(), 8080)),
        network: Some((vec!["subnet-a".into()], "sg-1".into())),
        ..u
    };
    update_service(&ecs, "c", "fansite-api", &u)
        .await
        .expect("updated");
    assert_eq!(full.num_calls(), 1);
}

/// The deployment that UpdateService with `forceNewDeployment` started, and
/// the one it replaces; both of the revision the service runs.
const FORCED: &str = "ecs-svc/0002";
const EARLIER: &str = "ecs-svc/0001";

fn deployment_of(
    id: &str,
    status: &str,
    state: DeploymentRolloutState,
    running: i32,
    failed: i32,
    reason: &str,
) -> Deployment {
    Deployment::builder()
        .id(id)
        .status(status)
        .task_definition(NEW)
        .rollout_state(state)
        .rollout_state_reason(reason)
        .running_count(running)
        .desired_count(2)
        .failed_tasks(failed)
        .build()
}

fn redeploying() -> Deploying<'static> {
    Deploying {
        task_definition: NEW,
        deployment: Some(FORCED),
        action: "redeploying",
    }
}

#[tokio::test(start_paused = true)]
async fn a_forced_deployment_is_waited_for_until_it_runs_alone() {
    let rule = mock!(Client::describe_services)
        .sequence()
        // DescribeServices lagging behind UpdateService: the earlier deployment alone.
        .output(|| {
            answer(
                NEW,
                2,
                vec![deployment_of(
                    EARLIER,
                    "PRIMARY",
                    DeploymentRolloutState::Completed,
                    2,
                    0,
                    "",
                )],
            )
        })
        .output(|| {
            answer(
                NEW,
                4,
                vec![
                    deployment_of(
                        FORCED,
                        "PRIMARY",
                        DeploymentRolloutState::InProgress,
                        2,
                        0,
                        "",
                    ),
                    deployment_of(
                        EARLIER,
                        "ACTIVE",
                        DeploymentRolloutState::Completed,
                        2,
                        0,
                        "",
                    ),
                ],
            )
        })
        .output(|| {
            answer(
                NEW,
                2,
                vec![deployment_of(
                    FORCED,
                    "PRIMARY",
                    DeploymentRolloutState::Completed,
                    2,
                    0,
                    "",
                )],
            )
        })
        .build();
    let ecs = mock_client!(aws_sdk_ecs, RuleMode::Sequential, [&rule]);
    let seen = std::sync::Mutex::new(Vec::new());
    let report = |state: String| seen.lock().expect("reports").push(state);
    let res = wait_deployment(
        &ecs,
        "fansite-api",
        "fansite-api",
        redeploying(),
        Duration::from_secs(600),
        &report,
    )
    .await;
    assert!(res.is_ok(), "{res:?}");
    assert_eq!(
        rule.num_calls(),
        3,
        "polled until the new deployment ran alone"
    );
    assert_eq!(
        *seen.lock().expect("reports"),
        vec![
            "not yet showing the new deployment".to_string(),
            "rolling (4 of 2 tasks running, 0 failed to start)".to_string(),
        ],
        "each new state reported once"
    );
}

#[tokio::test(start_paused = true)]
async fn a_forced_deployment_the_circuit_breaker_stops_is_an_error() {
    let reason = "ECS deployment circuit breaker: tasks failed to start.";
    let rule = mock!(Client::describe_services).then_output(move || {
        answer(
            NEW,
            2,
            vec![
                deployment_of(
                    FORCED,
                    "PRIMARY",
                    DeploymentRolloutState::Failed,
                    0,
                    4,
                    reason,
                ),
                deployment_of(
                    EARLIER,
                    "ACTIVE",
                    DeploymentRolloutState::Completed,
                    2,
                    0,
                    "",
                ),
            ],
        )
    });
    let ecs = mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [&rule]);
    let err = wait_deployment(
        &ecs,
        "fansite-api",
        "fansite-api",
        redeploying(),
        Duration::from_secs(600),
        &|_: String| {},
    )
    .await
    .expect_err("a failed deployment is an error");
    assert!(matches!(&err, Error::RolledBack { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.starts_with("redeploying fansite-api:7 to ECS service \"fansite-api\""),
        "{msg}"
    );
    assert!(msg.contains(reason), "{msg}");
}

#[tokio::test(start_paused = true)]
async fn a_forced_deployment_replaced_by_another_is_an_error_once_answers_cannot_lag() {
    let rule = mock!(Client::describe_services).then_output(|| {
        answer(
            NEW,
            2,
            vec![deployment_of(
                "ecs-svc/0003",
                "PRIMARY",
                DeploymentRolloutState::Completed,
                2,
                0,
                "",
            )],
        )
    });
    let ecs = mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [&rule]);
    let err = wait_deployment(
        &ecs,
        "fansite-api",
        "fansite-api",
        redeploying(),
        Duration::from_secs(600),
        &|_: String| {},
    )
    .await
    .expect_err("replaced");
    assert!(matches!(&err, Error::RolledBack { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("no longer the service's primary one"),
        "{err}"
    );
    assert!(
        rule.num_calls() > 1,
        "the first answers were taken as lagging"
    );
}
