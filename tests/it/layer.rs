//! The realistic layer itself: each behaviour, asked through the SDK as the
//! provider would meet it. These need no Terraform.

use std::time::{Duration, Instant};

use aws_sdk_ec2::error::ProvideErrorMetadata;

use crate::harness::{ec2, ecs, elb, layer, logs, rds, secrets};

const REGION: &str = "eu-west-3";

/// The layer this process runs; under CI=true it must be there.
fn window() -> Option<Duration> {
    match layer() {
        Some(l) => Some(l.windows().base),
        None => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "FANSITE_REALISTIC=0 under CI=true: the layer's own tests cannot run"
            );
            None
        }
    }
}

async fn vpc_with_subnets(cidr: &str) -> (String, Vec<String>) {
    let c = ec2(REGION).await;
    let vpc = c
        .create_vpc()
        .cidr_block(cidr)
        .send()
        .await
        .expect("vpc")
        .vpc()
        .and_then(|v| v.vpc_id())
        .unwrap_or_default()
        .to_string();
    let base = cidr.split('.').take(2).collect::<Vec<_>>().join(".");
    let mut subnets = Vec::new();
    for (i, az) in ["a", "b"].iter().enumerate() {
        let id = c
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(format!("{base}.{i}.0/24"))
            .availability_zone(format!("{REGION}{az}"))
            .send()
            .await
            .expect("subnet")
            .subnet()
            .and_then(|s| s.subnet_id())
            .unwrap_or_default()
            .to_string();
        subnets.push(id);
    }
    (vpc, subnets)
}

async fn nat_state(c: &aws_sdk_ec2::Client, id: &str) -> String {
    c.describe_nat_gateways()
        .nat_gateway_ids(id)
        .send()
        .await
        .expect("describe NAT")
        .nat_gateways()
        .first()
        .and_then(|n| n.state())
        .map(|s| s.as_str().to_string())
        .unwrap_or_default()
}

/// EC2 User Guide, "NAT gateways": pending, then available; deleting, then
/// deleted; its Elastic IP stays associated until then.
#[tokio::test]
async fn layer_nat_gateways_are_pending_then_available_and_deleting_then_deleted() {
    let Some(w) = window() else { return };
    let c = ec2(REGION).await;
    let (_vpc, subnets) = vpc_with_subnets("10.201.0.0/16").await;
    let alloc = c.allocate_address().send().await.expect("eip");
    let alloc = alloc.allocation_id().unwrap_or_default().to_string();
    let nat = c
        .create_nat_gateway()
        .subnet_id(&subnets[0])
        .allocation_id(&alloc)
        .send()
        .await
        .expect("nat");
    let id = nat
        .nat_gateway()
        .and_then(|n| n.nat_gateway_id())
        .unwrap_or_default()
        .to_string();
    assert_eq!(nat_state(&c, &id).await, "pending");
    tokio::time::sleep(w + Duration::from_millis(300)).await;
    assert_eq!(nat_state(&c, &id).await, "available");
    c.delete_nat_gateway()
        .nat_gateway_id(&id)
        .send()
        .await
        .expect("delete");
    assert_eq!(nat_state(&c, &id).await, "deleting");
    let err = c
        .release_address()
        .allocation_id(&alloc)
        .send()
        .await
        .expect_err("the address is still in use");
    assert_eq!(err.code(), Some("InvalidIPAddress.InUse"));
    let err = c
        .delete_subnet()
        .subnet_id(&subnets[0])
        .send()
        .await
        .expect_err("the gateway's interface is still there");
    assert_eq!(err.code(), Some("DependencyViolation"));
    tokio::time::sleep(w + Duration::from_millis(300)).await;
    assert_eq!(nat_state(&c, &id).await, "deleted");
    c.delete_subnet()
        .subnet_id(&subnets[0])
        .send()
        .await
        .expect("subnet goes after the window");
}

/// terraform-provider-aws `cleanupALBNetworkInterfaces`: a load balancer's
/// interfaces outlive it, and hold its subnets, groups and the VPC's gateway.
#[tokio::test]
async fn layer_load_balancer_interfaces_outlive_it() {
    let Some(w) = window() else { return };
    let c = ec2(REGION).await;
    let (vpc, subnets) = vpc_with_subnets("10.202.0.0/16").await;
    let sg = c
        .create_security_group()
        .vpc_id(&vpc)
        .group_name("layer-alb")
        .description("alb")
        .send()
        .await
        .expect("sg")
        .group_id()
        .unwrap_or_default()
        .to_string();
    let igw = c
        .create_internet_gateway()
        .send()
        .await
        .expect("igw")
        .internet_gateway()
        .and_then(|g| g.internet_gateway_id())
        .unwrap_or_default()
        .to_string();
    c.attach_internet_gateway()
        .internet_gateway_id(&igw)
        .vpc_id(&vpc)
        .send()
        .await
        .expect("attach");
    let e = elb(REGION).await;
    let lb = e
        .create_load_balancer()
        .name("layer-alb")
        .set_subnets(Some(subnets.clone()))
        .security_groups(&sg)
        .send()
        .await
        .expect("alb");
    let arn = lb.load_balancers()[0]
        .load_balancer_arn()
        .unwrap_or_default()
        .to_string();
    e.delete_load_balancer()
        .load_balancer_arn(&arn)
        .send()
        .await
        .expect("delete alb");
    let started = Instant::now();
    let sg_err = c
        .delete_security_group()
        .group_id(&sg)
        .send()
        .await
        .expect_err("sg held");
    assert_eq!(sg_err.code(), Some("DependencyViolation"));
    let detach = c
        .detach_internet_gateway()
        .internet_gateway_id(&igw)
        .vpc_id(&vpc)
        .send()
        .await
        .expect_err("public addresses still mapped");
    assert_eq!(detach.code(), Some("DependencyViolation"));
    assert!(detach
        .message()
        .unwrap_or_default()
        .contains("mapped public address"));
    let vpc_err = c
        .delete_vpc()
        .vpc_id(&vpc)
        .send()
        .await
        .expect_err("vpc held");
    assert_eq!(vpc_err.code(), Some("DependencyViolation"));
    tokio::time::sleep((w * 2).saturating_sub(started.elapsed()) + Duration::from_millis(300))
        .await;
    c.delete_security_group()
        .group_id(&sg)
        .send()
        .await
        .expect("sg goes after the window");
    c.detach_internet_gateway()
        .internet_gateway_id(&igw)
        .vpc_id(&vpc)
        .send()
        .await
        .expect("detach after the window");
}

async fn cluster_status(r: &aws_sdk_rds::Client, id: &str) -> Option<String> {
    r.describe_db_clusters()
        .db_cluster_identifier(id)
        .send()
        .await
        .ok()
        .and_then(|o| {
            o.db_clusters()
                .first()
                .and_then(|c| c.status().map(String::from))
        })
}

async fn instance_status(r: &aws_sdk_rds::Client, id: &str) -> Option<String> {
    r.describe_db_instances()
        .db_instance_identifier(id)
        .send()
        .await
        .ok()
        .and_then(|o| {
            o.db_instances()
                .first()
                .and_then(|c| c.db_instance_status().map(String::from))
        })
}

/// RDS: one change at a time (InvalidDBClusterStateFault,
/// InvalidDBInstanceState), deletes that take a while and refuse a second
/// call (terraform-provider-aws#5624).
#[tokio::test]
async fn layer_rds_parts_go_through_their_states_and_refuse_changes_meanwhile() {
    let Some(w) = window() else { return };
    let r = rds(REGION).await;
    let id = format!("layer-rds-{}", std::process::id());
    r.create_db_cluster()
        .db_cluster_identifier(&id)
        .engine("aurora-mysql")
        .master_username("fan")
        .master_user_password("password-for-tests")
        .send()
        .await
        .expect("cluster");
    assert_eq!(cluster_status(&r, &id).await.as_deref(), Some("creating"));
    let err = r
        .modify_db_cluster()
        .db_cluster_identifier(&id)
        .deletion_protection(false)
        .send()
        .await
        .expect_err("cluster still creating");
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_invalid_db_cluster_state_fault()),
        "{err:?}"
    );
    let writer = format!("{id}-1");
    r.create_db_instance()
        .db_instance_identifier(&writer)
        .db_cluster_identifier(&id)
        .engine("aurora-mysql")
        .db_instance_class("db.r6g.large")
        .send()
        .await
        .expect("instance");
    assert_eq!(
        instance_status(&r, &writer).await.as_deref(),
        Some("creating")
    );
    tokio::time::sleep(w * 2 + Duration::from_millis(300)).await;
    assert_eq!(cluster_status(&r, &id).await.as_deref(), Some("available"));
    assert_eq!(
        instance_status(&r, &writer).await.as_deref(),
        Some("available")
    );
    let busy = r
        .delete_db_cluster()
        .db_cluster_identifier(&id)
        .skip_final_snapshot(true)
        .send()
        .await
        .expect_err("members not deleting");
    assert!(busy
        .as_service_error()
        .is_some_and(|e| e.is_invalid_db_cluster_state_fault()));
    r.delete_db_instance()
        .db_instance_identifier(&writer)
        .skip_final_snapshot(true)
        .send()
        .await
        .expect("delete instance");
    assert_eq!(
        instance_status(&r, &writer).await.as_deref(),
        Some("deleting")
    );
    let again = r
        .delete_db_instance()
        .db_instance_identifier(&writer)
        .send()
        .await
        .expect_err("already being deleted");
    assert!(again
        .message()
        .unwrap_or_default()
        .contains("already being deleted"));
    r.delete_db_cluster()
        .db_cluster_identifier(&id)
        .skip_final_snapshot(true)
        .send()
        .await
        .expect("cluster delete once its members are deleting");
    assert_eq!(cluster_status(&r, &id).await.as_deref(), Some("deleting"));
    tokio::time::sleep(w * 2 + Duration::from_millis(500)).await;
    assert_eq!(instance_status(&r, &writer).await, None);
    assert_eq!(cluster_status(&r, &id).await, None);
}

/// DeleteSecret, ForceDeleteWithoutRecovery: the deletion is asynchronous;
/// the name comes free a while later.
#[tokio::test]
async fn layer_a_force_deleted_secret_name_is_reserved_for_a_while() {
    let Some(w) = window() else { return };
    let c = secrets(REGION).await;
    let name = format!("layer/secret-{}", std::process::id());
    c.create_secret()
        .name(&name)
        .secret_string("a")
        .send()
        .await
        .expect("secret");
    c.delete_secret()
        .secret_id(&name)
        .force_delete_without_recovery(true)
        .send()
        .await
        .expect("delete");
    let err = c
        .create_secret()
        .name(&name)
        .secret_string("b")
        .send()
        .await
        .expect_err("name still reserved");
    assert_eq!(err.code(), Some("InvalidRequestException"));
    tokio::time::sleep(w + Duration::from_millis(300)).await;
    c.create_secret()
        .name(&name)
        .secret_string("b")
        .send()
        .await
        .expect("free again");
}

/// ECS's service-linked role is made by the first call in an account: the
/// first cluster create is refused for a window ("Unable to assume the
/// service linked role"), then accepted.
#[tokio::test]
async fn layer_ecs_refuses_its_first_cluster_until_its_service_linked_role_works() {
    let Some(w) = window() else { return };
    let c = ecs(REGION).await;
    let name = format!("layer-ecs-{}", std::process::id());
    let err = c
        .create_cluster()
        .cluster_name(&name)
        .send()
        .await
        .expect_err("the service-linked role is not assumable yet");
    assert_eq!(err.code(), Some("InvalidParameterException"));
    assert!(
        format!("{:?}", err).contains("Unable to assume the service linked role"),
        "{err:?}"
    );
    tokio::time::sleep(w + Duration::from_millis(300)).await;
    c.create_cluster()
        .cluster_name(&name)
        .send()
        .await
        .expect("accepted once the role works");
    c.delete_cluster()
        .cluster(&name)
        .send()
        .await
        .expect("cleanup");
}

/// emulator: the endpoint has no CloudWatch Logs Insights saved queries; the
/// layer keeps them, with or without windows (ARCHITECTURE.md). Put makes one
/// or replaces it by id (log groups it does not name are gone), describe
/// pages by name prefix in name order, delete answers success, and an
/// unknown id is ResourceNotFoundException.
#[tokio::test]
async fn layer_serves_logs_query_definitions() {
    let c = logs(REGION).await;
    let prefix = format!("layer-qd-{}/", std::process::id());
    let a = c
        .put_query_definition()
        .name(format!("{prefix}a"))
        .query_string("fields @timestamp, @message")
        .log_group_names("/fansite/layer-a")
        .send()
        .await
        .expect("put a")
        .query_definition_id()
        .unwrap_or_default()
        .to_string();
    let b = c
        .put_query_definition()
        .name(format!("{prefix}b"))
        .query_string("fields @message")
        .log_group_names("/fansite/layer-b")
        .send()
        .await
        .expect("put b")
        .query_definition_id()
        .unwrap_or_default()
        .to_string();
    assert!(!a.is_empty() && a != b, "{a} {b}");
    let updated = c
        .put_query_definition()
        .query_definition_id(&b)
        .name(format!("{prefix}b"))
        .query_string("stats count(*)")
        .send()
        .await
        .expect("update b");
    assert_eq!(updated.query_definition_id(), Some(b.as_str()));
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..5 {
        let page = c
            .describe_query_definitions()
            .query_definition_name_prefix(&prefix)
            .max_results(1)
            .set_next_token(token.clone())
            .send()
            .await
            .expect("describe");
        assert!(page.query_definitions().len() <= 1, "{page:?}");
        seen.extend(page.query_definitions().iter().cloned());
        token = page.next_token().map(String::from);
        if token.is_none() {
            break;
        }
    }
    let ids: Vec<&str> = seen
        .iter()
        .filter_map(|d| d.query_definition_id())
        .collect();
    assert_eq!(ids, [a.as_str(), b.as_str()], "{seen:?}");
    assert_eq!(
        seen[0].log_group_names().to_vec(),
        vec!["/fansite/layer-a".to_string()]
    );
    assert_eq!(seen[1].query_string(), Some("stats count(*)"));
    assert!(seen[1].log_group_names().is_empty(), "{seen:?}");
    assert!(seen[1].last_modified().is_some_and(|t| t > 0));
    let deleted = c
        .delete_query_definition()
        .query_definition_id(&a)
        .send()
        .await
        .expect("delete a");
    assert!(deleted.success());
    let left = c
        .describe_query_definitions()
        .query_definition_name_prefix(&prefix)
        .send()
        .await
        .expect("describe after delete");
    let ids: Vec<&str> = left
        .query_definitions()
        .iter()
        .filter_map(|d| d.query_definition_id())
        .collect();
    assert_eq!(ids, [b.as_str()]);
    assert_eq!(left.next_token(), None);
    let err = c
        .delete_query_definition()
        .query_definition_id(&a)
        .send()
        .await
        .expect_err("already deleted");
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_resource_not_found_exception()),
        "{err:?}"
    );
    let err = c
        .put_query_definition()
        .query_definition_id(&a)
        .name(format!("{prefix}a"))
        .query_string("fields @message")
        .send()
        .await
        .expect_err("no such definition");
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
    c.delete_query_definition()
        .query_definition_id(&b)
        .send()
        .await
        .expect("cleanup");
}
