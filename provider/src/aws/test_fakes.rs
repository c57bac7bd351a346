//! AWS as it behaves when it is slow, for the resources' unit tests: an
//! [`Aws`] whose answers come from the SDK's own test doubles
//! (aws-smithy-mocks). They live here because only `aws/` names the SDK
//! (`seams_tests.rs`); the local endpoint applies every change at once, so
//! it cannot show these.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aws_smithy_mocks::{mock, MockResponse, Rule};

use super::test_mocks::{self, ec2_error, json_error};
use super::Aws;

#[derive(Default)]
struct Cluster {
    writer: String,
    /// id → (status, class, class pending, polls left while modifying)
    instances: BTreeMap<String, (String, String, Option<String>, u32)>,
    failing_over: u32,
    log: Vec<String>,
    overlap: bool,
}

impl Cluster {
    fn poll(&mut self, id: &str) -> aws_sdk_rds::types::DbInstance {
        let i = self.instances.get_mut(id).expect("known instance");
        if i.0 == "modifying" {
            if i.3 == 0 {
                i.0 = "available".into();
                i.1 = i.2.take().unwrap_or_default();
            } else {
                i.3 -= 1;
            }
        }
        aws_sdk_rds::types::DbInstance::builder()
            .db_instance_identifier(id)
            .db_instance_status(&i.0)
            .db_instance_class(&i.1)
            .build()
    }

    fn modify(&mut self, id: &str, class: &str) {
        self.overlap |= self
            .instances
            .iter()
            .any(|(other, i)| other != id && i.0 != "available");
        self.log.push(format!("modify {id}"));
        let i = self.instances.get_mut(id).expect("known instance");
        *i = ("modifying".into(), i.1.clone(), Some(class.into()), 2);
    }

    fn failover(&mut self, target: &str) {
        let class = self.instances[target].1.clone();
        self.log.push(format!("failover {target} ({class})"));
        self.writer = target.to_string();
        self.failing_over = 2;
    }

    fn describe(&mut self) -> aws_sdk_rds::types::DbCluster {
        let status = if self.failing_over > 0 {
            self.failing_over -= 1;
            "failing-over"
        } else {
            "available"
        };
        let mut b = aws_sdk_rds::types::DbCluster::builder()
            .db_cluster_identifier("fan-db")
            .status(status);
        for id in self.instances.keys() {
            b = b.db_cluster_members(
                aws_sdk_rds::types::DbClusterMember::builder()
                    .db_instance_identifier(id)
                    .is_cluster_writer(*id == self.writer)
                    .build(),
            );
        }
        b.build()
    }
}

/// An Aurora cluster `fan-db` whose ModifyDBInstance (apply_immediately)
/// puts the instance `modifying` for two polls, and whose FailoverDBCluster
/// shows `failing-over` for two polls. It records the order of the calls and
/// whether an instance was modified while another was still restarting.
pub struct RollingCluster {
    cluster: Arc<Mutex<Cluster>>,
    pub aws: Aws,
}

impl RollingCluster {
    pub fn new(writer: &str, ids: &[&str], class: &str) -> RollingCluster {
        let mut c = Cluster {
            writer: writer.into(),
            ..Cluster::default()
        };
        for id in ids {
            c.instances
                .insert(id.to_string(), ("available".into(), class.into(), None, 0));
        }
        let cluster = Arc::new(Mutex::new(c));
        let rules = Self::rules(&cluster);
        let rds = test_mocks::rds(&rules.iter().collect::<Vec<_>>());
        let aws = test_mocks::aws(
            test_mocks::ec2(&[]),
            rds,
            test_mocks::secrets(&[]),
            test_mocks::autoscaling(&[]),
        );
        RollingCluster { cluster, aws }
    }

    fn rules(cluster: &Arc<Mutex<Cluster>>) -> Vec<Rule> {
        use aws_sdk_rds::operation::{
            describe_db_clusters::DescribeDbClustersOutput,
            describe_db_instances::DescribeDbInstancesOutput,
            failover_db_cluster::FailoverDbClusterOutput,
            modify_db_instance::ModifyDbInstanceOutput,
        };
        let c = cluster.clone();
        let instances =
            mock!(aws_sdk_rds::Client::describe_db_instances).then_compute_response(move |r| {
                let id = r.db_instance_identifier().unwrap_or_default();
                let i = c.lock().expect("lock").poll(id);
                MockResponse::Output(DescribeDbInstancesOutput::builder().db_instances(i).build())
            });
        let c = cluster.clone();
        let modify =
            mock!(aws_sdk_rds::Client::modify_db_instance).then_compute_response(move |r| {
                let mut c = c.lock().expect("lock");
                if r.apply_immediately() != Some(true) {
                    c.log.push("modify deferred".into());
                }
                c.modify(
                    r.db_instance_identifier().unwrap_or_default(),
                    r.db_instance_class().unwrap_or_default(),
                );
                MockResponse::Output(ModifyDbInstanceOutput::builder().build())
            });
        let c = cluster.clone();
        let failover =
            mock!(aws_sdk_rds::Client::failover_db_cluster).then_compute_response(move |r| {
                c.lock()
                    .expect("lock")
                    .failover(r.target_db_instance_identifier().unwrap_or_default());
                MockResponse::Output(FailoverDbClusterOutput::builder().build())
            });
        let c = cluster.clone();
        let clusters =
            mock!(aws_sdk_rds::Client::describe_db_clusters).then_compute_response(move |_| {
                let cl = c.lock().expect("lock").describe();
                MockResponse::Output(DescribeDbClustersOutput::builder().db_clusters(cl).build())
            });
        vec![instances, modify, failover, clusters]
    }

    /// `modify <id>` and `failover <id> (<its class then>)`, in order.
    pub fn log(&self) -> Vec<String> {
        self.cluster.lock().expect("lock").log.clone()
    }

    /// Whether an instance was modified while another was still restarting.
    pub fn overlapped(&self) -> bool {
        self.cluster.lock().expect("lock").overlap
    }

    /// Whether every instance is available as `class`.
    pub fn all_available_as(&self, class: &str) -> bool {
        self.cluster
            .lock()
            .expect("lock")
            .instances
            .values()
            .all(|i| i.0 == "available" && i.1 == class)
    }
}

/// An Aurora cluster `fan-db` that AWS upgraded to `8.0.mysql_aurora.3.10.2`
/// by itself, whose writer `fan-db-1` runs `db.r6g.large` with
/// `db.r6g.xlarge` pending for the maintenance window; no subnet group,
/// security group, scaling or connection secret is found.
pub fn upgraded_cluster() -> Aws {
    use aws_sdk_rds::operation::{
        describe_db_clusters::DescribeDbClustersOutput,
        describe_db_instances::DescribeDbInstancesOutput,
        describe_db_subnet_groups::DescribeDbSubnetGroupsOutput,
    };
    use aws_sdk_rds::types::{DbCluster, DbClusterMember, DbInstance, PendingModifiedValues};
    let cluster = mock!(aws_sdk_rds::Client::describe_db_clusters).then_output(|| {
        DescribeDbClustersOutput::builder()
            .db_clusters(
                DbCluster::builder()
                    .db_cluster_identifier("fan-db")
                    .status("available")
                    .engine_version("8.0.mysql_aurora.3.10.2")
                    .db_subnet_group("fan-db")
                    .db_cluster_members(
                        DbClusterMember::builder()
                            .db_instance_identifier("fan-db-1")
                            .is_cluster_writer(true)
                            .build(),
                    )
                    .build(),
            )
            .build()
    });
    let instance = mock!(aws_sdk_rds::Client::describe_db_instances).then_output(|| {
        DescribeDbInstancesOutput::builder()
            .db_instances(
                DbInstance::builder()
                    .db_instance_identifier("fan-db-1")
                    .db_instance_class("db.r6g.large")
                    .db_instance_status("available")
                    .pending_modified_values(
                        PendingModifiedValues::builder()
                            .db_instance_class("db.r6g.xlarge")
                            .build(),
                    )
                    .build(),
            )
            .build()
    });
    let groups = mock!(aws_sdk_rds::Client::describe_db_subnet_groups)
        .then_output(|| DescribeDbSubnetGroupsOutput::builder().build());
    let sgs = mock!(aws_sdk_ec2::Client::describe_security_groups).then_output(|| {
        aws_sdk_ec2::operation::describe_security_groups::DescribeSecurityGroupsOutput::builder()
            .build()
    });
    let targets = mock!(aws_sdk_applicationautoscaling::Client::describe_scalable_targets)
        .then_output(|| {
            aws_sdk_applicationautoscaling::operation::describe_scalable_targets::DescribeScalableTargetsOutput::builder().build()
        });
    let secret = test_mocks::always(
        mock!(aws_sdk_secretsmanager::Client::describe_secret),
        400,
        json_error("ResourceNotFoundException", "not found"),
    );
    test_mocks::aws(
        test_mocks::ec2(&[&sgs]),
        test_mocks::rds(&[&cluster, &instance, &groups]),
        test_mocks::secrets(&[&secret]),
        test_mocks::autoscaling(&[&targets]),
    )
}

/// A VPC `vpc-1` whose NAT gateway `nat-old` was deleted outside Terraform
/// and is still `deleting` (three more polls), holding the elastic IP
/// `eipalloc-1`: CreateNatGateway with it answers Resource.AlreadyAssociated
/// once, then makes `nat-new` (available at once). No rule answers
/// ReleaseAddress or AllocateAddress: a call to either fails.
pub struct NatStillDeleting {
    pub aws: Aws,
    create: Rule,
    old_polls: Arc<AtomicUsize>,
    route: Rule,
}

impl NatStillDeleting {
    pub fn new() -> NatStillDeleting {
        use aws_sdk_ec2::operation::{
            create_nat_gateway::CreateNatGatewayOutput, create_route::CreateRouteOutput,
            describe_internet_gateways::DescribeInternetGatewaysOutput,
            describe_nat_gateways::DescribeNatGatewaysOutput,
            describe_route_tables::DescribeRouteTablesOutput,
            describe_subnets::DescribeSubnetsOutput,
        };
        use aws_sdk_ec2::types::{NatGateway, NatGatewayAddress, NatGatewayState};
        let gateway = |id: &str, state: NatGatewayState| {
            DescribeNatGatewaysOutput::builder()
                .nat_gateways(
                    NatGateway::builder()
                        .nat_gateway_id(id)
                        .state(state)
                        .nat_gateway_addresses(
                            NatGatewayAddress::builder()
                                .allocation_id("eipalloc-1")
                                .build(),
                        )
                        .build(),
                )
                .build()
        };
        let create = mock!(aws_sdk_ec2::Client::create_nat_gateway)
            .match_requests(|r| r.allocation_id() == Some("eipalloc-1"))
            .sequence()
            .http_status(
                400,
                Some(ec2_error(
                    "Resource.AlreadyAssociated",
                    "Elastic IP address [eipalloc-1] is already associated",
                )),
            )
            .output(|| {
                CreateNatGatewayOutput::builder()
                    .nat_gateway(NatGateway::builder().nat_gateway_id("nat-new").build())
                    .build()
            })
            .build();
        let releasing = mock!(aws_sdk_ec2::Client::describe_nat_gateways)
            .match_requests(|r| r.filter().iter().any(|f| f.name() == Some("state")))
            .then_output(move || gateway("nat-old", NatGatewayState::Deleting));
        let old_polls = Arc::new(AtomicUsize::new(0));
        let seen = old_polls.clone();
        let old = mock!(aws_sdk_ec2::Client::describe_nat_gateways)
            .match_requests(|r| r.nat_gateway_ids() == ["nat-old"])
            .then_compute_response(move |_| {
                let state = if seen.fetch_add(1, Ordering::SeqCst) < 3 {
                    NatGatewayState::Deleting
                } else {
                    NatGatewayState::Deleted
                };
                MockResponse::Output(gateway("nat-old", state))
            });
        let new = mock!(aws_sdk_ec2::Client::describe_nat_gateways)
            .match_requests(|r| r.nat_gateway_ids() == ["nat-new"])
            .then_output(move || gateway("nat-new", NatGatewayState::Available));
        let listed = mock!(aws_sdk_ec2::Client::describe_nat_gateways)
            .then_output(|| DescribeNatGatewaysOutput::builder().build());
        let subnets = mock!(aws_sdk_ec2::Client::describe_subnets)
            .then_output(|| DescribeSubnetsOutput::builder().build());
        let tables = mock!(aws_sdk_ec2::Client::describe_route_tables)
            .then_output(|| DescribeRouteTablesOutput::builder().build());
        let igws = mock!(aws_sdk_ec2::Client::describe_internet_gateways)
            .then_output(|| DescribeInternetGatewaysOutput::builder().build());
        let route = mock!(aws_sdk_ec2::Client::create_route)
            .match_requests(|r| r.nat_gateway_id() == Some("nat-new"))
            .then_output(|| CreateRouteOutput::builder().build());
        let ec2 = test_mocks::ec2(&[
            &create, &releasing, &old, &new, &listed, &subnets, &tables, &igws, &route,
        ]);
        let aws = test_mocks::aws(
            ec2,
            test_mocks::rds(&[]),
            test_mocks::secrets(&[]),
            test_mocks::autoscaling(&[]),
        );
        NatStillDeleting {
            aws,
            create,
            old_polls,
            route,
        }
    }

    /// CreateNatGateway calls.
    pub fn creates(&self) -> usize {
        self.create.num_calls()
    }

    /// DescribeNatGateways polls of the old gateway.
    pub fn old_gateway_polls(&self) -> usize {
        self.old_polls.load(Ordering::SeqCst)
    }

    /// CreateRoute calls to the new gateway.
    pub fn routes_to_the_new_gateway(&self) -> usize {
        self.route.num_calls()
    }
}

/// An [`Aws`] whose Cognito has pool `pool` with app client `client`, whose
/// callback and logout URLs it returns sorted, as Cognito does
/// (hashicorp/terraform-provider-aws#4550).
pub fn pool_with_sorted_urls(pool: &str, client: &str, callback: &[&str], logout: &[&str]) -> Aws {
    use aws_sdk_cognitoidentityprovider::operation::{
        describe_user_pool::DescribeUserPoolOutput,
        describe_user_pool_client::DescribeUserPoolClientOutput,
        get_user_pool_mfa_config::GetUserPoolMfaConfigOutput, list_groups::ListGroupsOutput,
    };
    use aws_sdk_cognitoidentityprovider::types::{UserPoolClientType, UserPoolType};
    let sorted = |urls: &[&str]| {
        let mut v: Vec<String> = urls.iter().map(|u| u.to_string()).collect();
        v.sort();
        v
    };
    let (callback, logout) = (sorted(callback), sorted(logout));
    let (pool, client) = (pool.to_string(), client.to_string());
    let p = pool.clone();
    let describe =
        mock!(aws_sdk_cognitoidentityprovider::Client::describe_user_pool).then_output(move || {
            DescribeUserPoolOutput::builder()
                .user_pool(
                    UserPoolType::builder()
                        .id(&p)
                        .arn(format!("arn:aws:cognito-idp:ap-northeast-2:1:userpool/{p}"))
                        .name("fans")
                        .build(),
                )
                .build()
        });
    let mfa = mock!(aws_sdk_cognitoidentityprovider::Client::get_user_pool_mfa_config)
        .then_output(|| GetUserPoolMfaConfigOutput::builder().build());
    let described = mock!(aws_sdk_cognitoidentityprovider::Client::describe_user_pool_client)
        .then_output(move || {
            DescribeUserPoolClientOutput::builder()
                .user_pool_client(
                    UserPoolClientType::builder()
                        .user_pool_id(&pool)
                        .client_id(&client)
                        .client_name("fans-web")
                        .set_callback_urls(Some(callback.clone()))
                        .set_logout_urls(Some(logout.clone()))
                        .refresh_token_validity(30)
                        .build(),
                )
                .build()
        });
    let groups = mock!(aws_sdk_cognitoidentityprovider::Client::list_groups)
        .then_output(|| ListGroupsOutput::builder().build());
    let mut aws = test_mocks::aws(
        test_mocks::ec2(&[]),
        test_mocks::rds(&[]),
        test_mocks::secrets(&[]),
        test_mocks::autoscaling(&[]),
    );
    aws.cognito = test_mocks::cognito(&[&describe, &mfa, &described, &groups]);
    aws
}

/// An [`Aws`] whose CloudFront has distribution `id` for the bucket `bucket`
/// with `aliases` in the order given (CloudFront does not keep the configured
/// order: ansible-collections/community.aws#50), and whose S3 has the bucket.
pub fn distribution_with_aliases(id: &str, bucket: &str, aliases: &[&str]) -> Aws {
    use aws_sdk_cloudfront::operation::{
        get_distribution::GetDistributionOutput, list_tags_for_resource::ListTagsForResourceOutput,
    };
    use aws_sdk_cloudfront::types::{
        Aliases, DefaultCacheBehavior, Distribution, DistributionConfig, Origin, Origins,
        ViewerProtocolPolicy,
    };
    use aws_sdk_s3::operation::{
        get_public_access_block::GetPublicAccessBlockOutput, head_bucket::HeadBucketOutput,
    };
    let (id, bucket) = (id.to_string(), bucket.to_string());
    let aliases: Vec<String> = aliases.iter().map(|a| a.to_string()).collect();
    let get = mock!(aws_sdk_cloudfront::Client::get_distribution).then_output(move || {
        let cfg = DistributionConfig::builder()
            .caller_reference("ref")
            .comment("fansite_edge")
            .enabled(true)
            .origins(
                Origins::builder()
                    .quantity(1)
                    .items(
                        Origin::builder()
                            .id("site")
                            .domain_name(format!("{bucket}.s3.ap-northeast-2.amazonaws.com"))
                            .build()
                            .expect("origin"),
                    )
                    .build()
                    .expect("origins"),
            )
            .default_cache_behavior(
                DefaultCacheBehavior::builder()
                    .target_origin_id("site")
                    .viewer_protocol_policy(ViewerProtocolPolicy::RedirectToHttps)
                    .build()
                    .expect("behavior"),
            )
            .aliases(
                Aliases::builder()
                    .quantity(aliases.len() as i32)
                    .set_items(Some(aliases.clone()))
                    .build()
                    .expect("aliases"),
            )
            .build()
            .expect("config");
        GetDistributionOutput::builder()
            .distribution(
                Distribution::builder()
                    .id(&id)
                    .arn(format!("arn:aws:cloudfront::1:distribution/{id}"))
                    .status("Deployed")
                    .last_modified_time(aws_smithy_types::DateTime::from_secs(0))
                    .in_progress_invalidation_batches(0)
                    .domain_name("d111.cloudfront.net")
                    .distribution_config(cfg)
                    .build()
                    .expect("distribution"),
            )
            .e_tag("ETAG")
            .build()
    });
    let tags = mock!(aws_sdk_cloudfront::Client::list_tags_for_resource)
        .then_output(|| ListTagsForResourceOutput::builder().build());
    let routes = test_mocks::always(
        mock!(aws_sdk_cloudfront::Client::describe_function),
        404,
        test_mocks::rest_xml_error("NoSuchFunctionExists", "no"),
    );
    let head =
        mock!(aws_sdk_s3::Client::head_bucket).then_output(|| HeadBucketOutput::builder().build());
    let block = mock!(aws_sdk_s3::Client::get_public_access_block)
        .then_output(|| GetPublicAccessBlockOutput::builder().build());
    let mut aws = test_mocks::aws(
        test_mocks::ec2(&[]),
        test_mocks::rds(&[]),
        test_mocks::secrets(&[]),
        test_mocks::autoscaling(&[]),
    );
    let metrics = test_mocks::always(
        mock!(aws_sdk_cloudfront::Client::get_monitoring_subscription),
        404,
        test_mocks::rest_xml_error("NoSuchMonitoringSubscription", "none"),
    );
    aws.cloudfront = test_mocks::cloudfront(&[&get, &tags, &routes, &metrics]);
    aws.s3 = test_mocks::s3(&[&head, &block]);
    aws
}
