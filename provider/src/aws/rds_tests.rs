//! RDS as AWS answers it when it is slow, from the SDK's own test doubles:
//! the local endpoint makes clusters and instances `available` at once and
//! never refuses a call for a state.

use std::sync::{Arc, Mutex};

use aws_sdk_rds::operation::{
    delete_db_cluster::DeleteDbClusterOutput, delete_db_instance::DeleteDbInstanceOutput,
    describe_db_clusters::DescribeDbClustersOutput,
    describe_db_instances::DescribeDbInstancesOutput, modify_db_cluster::ModifyDbClusterOutput,
};
use aws_sdk_rds::types::{DbCluster, DbInstance};
use aws_smithy_mocks::{mock, MockResponse, Rule};
use tokio::time::Instant;

use super::*;
use crate::aws::test_mocks::{self, query_error, refused};
use crate::ctx::{Ctx, Ended, StopSignal};

/// Answers DescribeDBClusters with these statuses in turn (`None`: not
/// found), the last one from then on.
fn cluster_statuses(statuses: &[Option<&str>]) -> Rule {
    let left = Arc::new(Mutex::new(
        statuses
            .iter()
            .map(|s| s.map(str::to_string))
            .collect::<Vec<_>>(),
    ));
    mock!(aws_sdk_rds::Client::describe_db_clusters).then_compute_response(move |_| {
        let mut left = left.lock().expect("lock");
        let status = if left.len() > 1 {
            left.remove(0)
        } else {
            left[0].clone()
        };
        match status {
            Some(s) => MockResponse::Output(
                DescribeDbClustersOutput::builder()
                    .db_clusters(
                        DbCluster::builder()
                            .db_cluster_identifier("fan-db")
                            .status(s)
                            .build(),
                    )
                    .build(),
            ),
            None => refused(query_error(
                "DBClusterNotFoundFault",
                "DBCluster fan-db not found.",
            )),
        }
    })
}

fn instance_statuses(statuses: &[Option<&str>]) -> Rule {
    let left = Arc::new(Mutex::new(
        statuses
            .iter()
            .map(|s| s.map(str::to_string))
            .collect::<Vec<_>>(),
    ));
    mock!(aws_sdk_rds::Client::describe_db_instances).then_compute_response(move |_| {
        let mut left = left.lock().expect("lock");
        let status = if left.len() > 1 {
            left.remove(0)
        } else {
            left[0].clone()
        };
        match status {
            Some(s) => MockResponse::Output(
                DescribeDbInstancesOutput::builder()
                    .db_instances(
                        DbInstance::builder()
                            .db_instance_identifier("fan-db-2")
                            .db_instance_status(s)
                            .build(),
                    )
                    .build(),
            ),
            None => refused(query_error(
                "DBInstanceNotFound",
                "DBInstance fan-db-2 not found.",
            )),
        }
    })
}

/// C4: a cluster not yet visible right after CreateDBCluster, then
/// `creating` and `backing-up` for 20 minutes, is waited for with polls at
/// most 15 s apart: it is seen within 15 s of becoming available (the SDK
/// waiter failed at once on the not-found, and may sleep 16 minutes).
#[tokio::test(start_paused = true)]
async fn a_new_cluster_is_waited_for_through_its_statuses() {
    let mut statuses = vec![None, None];
    statuses.extend(vec![Some("creating"); 70]);
    statuses.extend(vec![Some("backing-up"); 10]);
    statuses.push(Some("available"));
    let describe = cluster_statuses(&statuses);
    let c = test_mocks::rds(&[&describe]);
    let started = Instant::now();
    test_mocks::in_operation(wait_cluster_available(
        &c,
        "fan-db",
        Duration::from_secs(3600),
    ))
    .await
    .expect("available");
    assert_eq!(describe.num_calls(), statuses.len());
    // 82 pauses, none above 15 s.
    assert!(
        started.elapsed() <= Duration::from_secs(82 * 15),
        "{:?}",
        started.elapsed()
    );
}

/// D4: deleting an instance that autoscaling is still making, or one still
/// changing class, waits through `creating`/`modifying`/`deleting` until it is
/// gone (the SDK's DBInstanceDeleted waiter failed on those states).
#[tokio::test(start_paused = true)]
async fn instance_deletion_waits_through_creating_and_modifying() {
    let describe = instance_statuses(&[
        Some("creating"),
        Some("modifying"),
        Some("rebooting"),
        Some("deleting"),
        Some("deleting"),
        None,
    ]);
    let c = test_mocks::rds(&[&describe]);
    test_mocks::in_operation(wait_instance_deleted(
        &c,
        "fan-db-2",
        Duration::from_secs(600),
    ))
    .await
    .expect("deleted");
    assert_eq!(describe.num_calls(), 6);

    let describe = cluster_statuses(&[Some("backing-up"), Some("deleting"), None]);
    let c = test_mocks::rds(&[&describe]);
    test_mocks::in_operation(wait_cluster_deleted(&c, "fan-db", Duration::from_secs(600)))
        .await
        .expect("deleted");
}

/// D4: a destroy run again while an instance is still deleting: RDS answers
/// "is already being deleted", which is done, not an error.
#[tokio::test]
async fn an_instance_already_being_deleted_is_done() {
    let delete = mock!(aws_sdk_rds::Client::delete_db_instance)
        .sequence()
        .http_status(
            400,
            Some(query_error(
                "InvalidDBInstanceState",
                "Instance fan-db-2 is already being deleted.",
            )),
        )
        .build();
    let c = test_mocks::rds(&[&delete]);
    delete_instance(&c, "fan-db-2").await.expect("done");
    assert_eq!(delete.num_calls(), 1);
}

/// D4: an instance whose state refuses the delete for now (still being
/// made) is deleted once RDS accepts it.
#[tokio::test(start_paused = true)]
async fn an_instance_delete_refused_for_its_state_is_retried() {
    let delete = mock!(aws_sdk_rds::Client::delete_db_instance)
        .sequence()
        .http_status(
            400,
            Some(query_error(
                "InvalidDBInstanceState",
                "Instance fan-db-2 is not in available state.",
            )),
        )
        .times(3)
        .output(|| DeleteDbInstanceOutput::builder().build())
        .build();
    let c = test_mocks::rds(&[&delete]);
    delete_instance(&c, "fan-db-2").await.expect("deleted");
    assert_eq!(delete.num_calls(), 4);
}

/// D5: ModifyDBCluster and DeleteDBCluster refused with
/// InvalidDBClusterStateFault (the cluster is briefly not available after an
/// instance went, or during a backup) are retried until RDS accepts them.
#[tokio::test(start_paused = true)]
async fn cluster_changes_refused_for_its_state_are_retried() {
    let busy = || {
        Some(query_error(
            "InvalidDBClusterStateFault",
            "DBCluster fan-db is not currently in the available state.",
        ))
    };
    let modify = mock!(aws_sdk_rds::Client::modify_db_cluster)
        .sequence()
        .http_status(400, busy())
        .times(5)
        .output(|| ModifyDbClusterOutput::builder().build())
        .build();
    let delete = mock!(aws_sdk_rds::Client::delete_db_cluster)
        .sequence()
        .http_status(400, busy())
        .times(5)
        .output(|| DeleteDbClusterOutput::builder().build())
        .build();
    let c = test_mocks::rds(&[&modify, &delete]);
    let ended = Ctx::new(Duration::from_secs(3600), StopSignal::new())
        .run(Duration::ZERO, async {
            modify_cluster(&c, &spec(), false, true).await?;
            delete_cluster(&c, "fan-db", Some("fan-db-final-1")).await
        })
        .await;
    assert!(matches!(ended, Ended::Done(Ok(()))), "{ended:?}");
    assert_eq!((modify.num_calls(), delete.num_calls()), (6, 6));
}

fn spec() -> ClusterSpec {
    ClusterSpec {
        id: "fan-db".into(),
        engine_version: "8.0.mysql_aurora.3.10.0".into(),
        database_name: "fansite".into(),
        master_username: "admin".into(),
        subnet_group: "fan-db".into(),
        security_group_id: "sg-1".into(),
        backup_retention_days: 7,
        backup_window: "17:00-18:00".into(),
        maintenance_window: "sun:18:30-sun:19:30".into(),
        deletion_protection: false,
        tags: Tags::new(),
    }
}

/// D2: ModifyDBCluster carries EngineVersion only when asked to: a version
/// sent again after AWS's own minor upgrade would be a downgrade.
#[tokio::test]
async fn the_engine_version_is_sent_only_when_asked() {
    let without = mock!(aws_sdk_rds::Client::modify_db_cluster)
        .match_requests(|r| r.engine_version().is_none())
        .then_output(|| ModifyDbClusterOutput::builder().build());
    let with = mock!(aws_sdk_rds::Client::modify_db_cluster)
        .match_requests(|r| r.engine_version() == Some("8.0.mysql_aurora.3.10.0"))
        .then_output(|| ModifyDbClusterOutput::builder().build());
    let c = test_mocks::rds(&[&without, &with]);
    modify_cluster(&c, &spec(), false, false)
        .await
        .expect("sent");
    assert_eq!((without.num_calls(), with.num_calls()), (1, 0));
    modify_cluster(&c, &spec(), true, false)
        .await
        .expect("sent");
    assert_eq!((without.num_calls(), with.num_calls()), (1, 1));
}

/// D1: after ModifyDBCluster with apply_immediately the wait lasts until the
/// cluster is available with nothing pending, not merely `available`.
#[tokio::test(start_paused = true)]
async fn a_cluster_modification_is_waited_for_until_applied() {
    let pending = DbCluster::builder()
        .db_cluster_identifier("fan-db")
        .status("available")
        .pending_modified_values(
            aws_sdk_rds::types::ClusterPendingModifiedValues::builder()
                .engine_version("8.0.mysql_aurora.3.10.1")
                .build(),
        )
        .build();
    let answers = Arc::new(Mutex::new(vec![
        pending,
        DbCluster::builder()
            .db_cluster_identifier("fan-db")
            .status("upgrading")
            .build(),
        DbCluster::builder()
            .db_cluster_identifier("fan-db")
            .status("available")
            .build(),
    ]));
    let describe =
        mock!(aws_sdk_rds::Client::describe_db_clusters).then_compute_response(move |_| {
            let mut left = answers.lock().expect("lock");
            let cl = if left.len() > 1 {
                left.remove(0)
            } else {
                left[0].clone()
            };
            MockResponse::Output(DescribeDbClustersOutput::builder().db_clusters(cl).build())
        });
    let c = test_mocks::rds(&[&describe]);
    test_mocks::in_operation(wait_cluster_modified(
        &c,
        "fan-db",
        Duration::from_secs(600),
    ))
    .await
    .expect("applied");
    assert_eq!(describe.num_calls(), 3);
}

/// N5: a cluster that ends in a state it cannot leave names RDS's status.
#[tokio::test(start_paused = true)]
async fn a_failed_cluster_names_its_status() {
    let describe = cluster_statuses(&[
        Some("creating"),
        Some("inaccessible-encryption-credentials"),
    ]);
    let c = test_mocks::rds(&[&describe]);
    let err = test_mocks::in_operation(wait_cluster_available(
        &c,
        "fan-db",
        Duration::from_secs(600),
    ))
    .await
    .expect_err("failed");
    assert!(
        err.to_string()
            .contains("inaccessible-encryption-credentials"),
        "{err}"
    );
}
