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

/// A load balancer that takes requests from CloudFront only, and its origin
/// secret: one listener on port 80 (no certificate) and the secret
/// `ORIGIN_SECRET_ARN`, whose current value `v1` the edge sends. After every
/// call that changes the listener, its rules or the secret, it checks that a
/// request carrying what an edge may send at that moment is forwarded: the
/// value the edge sent before, and the secret's current value (an edge
/// applied at that moment reads and sends it).
pub struct OriginAlb {
    pub aws: Aws,
    alb: Arc<Mutex<Alb>>,
}

pub const ORIGIN_SECRET_ARN: &str =
    "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:fansite/fan-api/origin-verify-AbCdEf";
pub const ORIGIN_LB_ARN: &str =
    "arn:aws:elasticloadbalancing:ap-northeast-2:123456789012:loadbalancer/app/fan-api/1";
const ORIGIN_LISTENER: &str =
    "arn:aws:elasticloadbalancing:ap-northeast-2:123456789012:listener/app/fan-api/1/80";

#[derive(Default)]
struct Alb {
    /// The listener's default action: `forward` or `fixed-response`.
    default: String,
    /// The origin rule's values, when there is one.
    rule: Option<Vec<String>>,
    /// Versions of the secret, oldest first: (id, value).
    versions: Vec<(String, String)>,
    deleted: bool,
    /// What the edge sent before the change.
    sent: String,
    refused: Vec<String>,
    log: Vec<String>,
}

impl Alb {
    fn forwards(&self, value: &str) -> bool {
        self.rule
            .as_ref()
            .is_some_and(|r| r.iter().any(|v| v == value))
            || self.default == "forward"
    }

    fn current(&self) -> Option<&(String, String)> {
        self.versions.last().filter(|_| !self.deleted)
    }

    fn changed(&mut self, call: &str) {
        self.log.push(call.to_string());
        let sent = self.sent.clone();
        if !self.forwards(&sent) {
            self.refused
                .push(format!("after {call}: the value the edge sent"));
        }
        if let Some((_, current)) = self.current().cloned() {
            if !self.forwards(&current) {
                self.refused
                    .push(format!("after {call}: the secret's current value"));
            }
        }
    }
}

impl OriginAlb {
    /// With `from_cloudfront`, the listener refuses what its rule (accepting
    /// `v1`) does not forward; without, it forwards everything and has no rule.
    pub fn new(from_cloudfront: bool) -> OriginAlb {
        let alb = Arc::new(Mutex::new(Alb {
            default: if from_cloudfront {
                "fixed-response"
            } else {
                "forward"
            }
            .into(),
            rule: from_cloudfront.then(|| vec!["v1".to_string()]),
            versions: vec![("version-1".into(), "v1".into())],
            sent: "v1".into(),
            ..Alb::default()
        }));
        let elb = Self::elb_rules(&alb);
        let secrets = Self::secret_rules(&alb);
        let mut aws = test_mocks::aws(
            test_mocks::ec2(&[]),
            test_mocks::rds(&[]),
            test_mocks::secrets(&secrets.iter().collect::<Vec<_>>()),
            test_mocks::autoscaling(&[]),
        );
        aws.elb = test_mocks::elb(&elb.iter().collect::<Vec<_>>());
        OriginAlb { aws, alb }
    }

    fn elb_rules(alb: &Arc<Mutex<Alb>>) -> Vec<Rule> {
        use aws_sdk_elasticloadbalancingv2::operation::{
            create_rule::CreateRuleOutput, delete_rule::DeleteRuleOutput,
            describe_listeners::DescribeListenersOutput, describe_rules::DescribeRulesOutput,
            modify_listener::ModifyListenerOutput, modify_rule::ModifyRuleOutput,
        };
        use aws_sdk_elasticloadbalancingv2::types::{
            Action, ActionTypeEnum, HttpHeaderConditionConfig, Listener, Rule as ElbRule,
            RuleCondition,
        };
        let rule_arn = format!("{ORIGIN_LISTENER}/rule-1").replace(":listener/", ":listener-rule/");
        let a = alb.clone();
        let listeners = mock!(aws_sdk_elasticloadbalancingv2::Client::describe_listeners)
            .then_compute_response(move |_| {
                let a = a.lock().expect("lock");
                let action = Action::builder()
                    .r#type(ActionTypeEnum::from(a.default.as_str()))
                    .build();
                MockResponse::Output(
                    DescribeListenersOutput::builder()
                        .listeners(
                            Listener::builder()
                                .listener_arn(ORIGIN_LISTENER)
                                .port(80)
                                .default_actions(action)
                                .build(),
                        )
                        .build(),
                )
            });
        let a = alb.clone();
        let arn = rule_arn.clone();
        let rules = mock!(aws_sdk_elasticloadbalancingv2::Client::describe_rules)
            .then_compute_response(move |_| {
                let a = a.lock().expect("lock");
                let mut out = DescribeRulesOutput::builder().rules(
                    ElbRule::builder()
                        .is_default(true)
                        .priority("default")
                        .build(),
                );
                if let Some(values) = &a.rule {
                    out = out.rules(
                        ElbRule::builder()
                            .rule_arn(&arn)
                            .priority("1")
                            .is_default(false)
                            .conditions(
                                RuleCondition::builder()
                                    .field("http-header")
                                    .http_header_config(
                                        HttpHeaderConditionConfig::builder()
                                            .http_header_name("X-Origin-Verify")
                                            .set_values(Some(values.clone()))
                                            .build(),
                                    )
                                    .build(),
                            )
                            .build(),
                    );
                }
                MockResponse::Output(out.build())
            });
        let values_of = |c: &[RuleCondition]| -> Vec<String> {
            c.iter()
                .filter_map(|c| c.http_header_config())
                .flat_map(|h| h.values().to_vec())
                .collect()
        };
        let a = alb.clone();
        let arn = rule_arn.clone();
        let create = mock!(aws_sdk_elasticloadbalancingv2::Client::create_rule)
            .then_compute_response(move |r| {
                let mut a = a.lock().expect("lock");
                a.rule = Some(values_of(r.conditions()));
                a.changed("CreateRule");
                MockResponse::Output(
                    CreateRuleOutput::builder()
                        .rules(ElbRule::builder().rule_arn(&arn).build())
                        .build(),
                )
            });
        let a = alb.clone();
        let modify = mock!(aws_sdk_elasticloadbalancingv2::Client::modify_rule)
            .then_compute_response(move |r| {
                let mut a = a.lock().expect("lock");
                a.rule = Some(values_of(r.conditions()));
                a.changed("ModifyRule");
                MockResponse::Output(ModifyRuleOutput::builder().build())
            });
        let a = alb.clone();
        let delete = mock!(aws_sdk_elasticloadbalancingv2::Client::delete_rule)
            .then_compute_response(move |_| {
                let mut a = a.lock().expect("lock");
                a.rule = None;
                a.changed("DeleteRule");
                MockResponse::Output(DeleteRuleOutput::builder().build())
            });
        let a = alb.clone();
        let default = mock!(aws_sdk_elasticloadbalancingv2::Client::modify_listener)
            .then_compute_response(move |r| {
                let mut a = a.lock().expect("lock");
                a.default = r
                    .default_actions()
                    .first()
                    .and_then(|d| d.r#type())
                    .map(|t| t.as_str().to_string())
                    .unwrap_or_default();
                let call = format!("ModifyListener ({})", a.default);
                a.changed(&call);
                MockResponse::Output(ModifyListenerOutput::builder().build())
            });
        vec![listeners, rules, create, modify, delete, default]
    }

    fn secret_rules(alb: &Arc<Mutex<Alb>>) -> Vec<Rule> {
        use aws_sdk_secretsmanager::operation::{
            delete_secret::DeleteSecretOutput, describe_secret::DescribeSecretOutput,
            get_random_password::GetRandomPasswordOutput, get_secret_value::GetSecretValueOutput,
            put_secret_value::PutSecretValueOutput,
        };
        let a = alb.clone();
        let describe = mock!(aws_sdk_secretsmanager::Client::describe_secret)
            .then_compute_response(move |_| {
                let a = a.lock().expect("lock");
                let mut out = DescribeSecretOutput::builder().arn(ORIGIN_SECRET_ARN);
                let n = a.versions.len();
                for (i, (id, _)) in a.versions.iter().enumerate() {
                    let stage = match n - i {
                        1 => "AWSCURRENT",
                        2 => "AWSPREVIOUS",
                        _ => continue,
                    };
                    out = out.version_ids_to_stages(id, vec![stage.to_string()]);
                }
                if a.deleted {
                    out = out.deleted_date(aws_smithy_types::DateTime::from_secs(0));
                }
                MockResponse::Output(out.build())
            });
        let a = alb.clone();
        let get = mock!(aws_sdk_secretsmanager::Client::get_secret_value).then_compute_response(
            move |r| {
                let a = a.lock().expect("lock");
                let id = r.version_id().unwrap_or_default();
                match a.versions.iter().find(|(v, _)| v == id) {
                    Some((id, value)) => MockResponse::Output(
                        GetSecretValueOutput::builder()
                            .version_id(id)
                            .secret_string(value)
                            .build(),
                    ),
                    None => test_mocks::refused(json_error(
                        "ResourceNotFoundException",
                        "no such version",
                    )),
                }
            },
        );
        let a = alb.clone();
        let random = mock!(aws_sdk_secretsmanager::Client::get_random_password)
            .then_compute_response(move |_| {
                let n = a.lock().expect("lock").versions.len() + 1;
                MockResponse::Output(
                    GetRandomPasswordOutput::builder()
                        .random_password(format!("v{n}"))
                        .build(),
                )
            });
        let a = alb.clone();
        let put = mock!(aws_sdk_secretsmanager::Client::put_secret_value).then_compute_response(
            move |r| {
                let mut a = a.lock().expect("lock");
                let id = format!("version-{}", a.versions.len() + 1);
                a.versions.push((
                    id.clone(),
                    r.secret_string().unwrap_or_default().to_string(),
                ));
                a.changed("PutSecretValue");
                MockResponse::Output(PutSecretValueOutput::builder().version_id(id).build())
            },
        );
        let a = alb.clone();
        let delete =
            mock!(aws_sdk_secretsmanager::Client::delete_secret).then_compute_response(move |_| {
                let mut a = a.lock().expect("lock");
                a.deleted = true;
                a.changed("DeleteSecret");
                MockResponse::Output(DeleteSecretOutput::builder().build())
            });
        vec![describe, get, random, put, delete]
    }

    /// The moments at which a request an edge may send was refused.
    pub fn refused(&self) -> Vec<String> {
        self.alb.lock().expect("lock").refused.clone()
    }

    /// The calls that changed something, in order.
    pub fn log(&self) -> Vec<String> {
        self.alb.lock().expect("lock").log.clone()
    }

    /// The values the listener's rule accepts (none: no rule), and whether it
    /// forwards every other request.
    pub fn listener(&self) -> (Option<Vec<String>>, bool) {
        let a = self.alb.lock().expect("lock");
        (a.rule.clone(), a.default == "forward")
    }

    /// The secret's current value, unless it is deleted.
    pub fn current(&self) -> Option<String> {
        self.alb
            .lock()
            .expect("lock")
            .current()
            .map(|(_, v)| v.clone())
    }
}
