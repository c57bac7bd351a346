//! ECS on Fargate: the cluster, task definition revisions, the service, and
//! the wait for a deployment to finish (or to be rolled back).

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, Compatibility, ContainerDefinition,
    DeploymentCircuitBreaker, DeploymentConfiguration, DeploymentRolloutState, KeyValuePair,
    LaunchType, LoadBalancer, LogConfiguration, LogDriver, NetworkConfiguration, NetworkMode,
    PortMapping, PropagateTags, Secret, SortOrder, Tag, TaskDefinitionStatus, TransportProtocol,
};
use aws_sdk_ecs::Client;

use super::wait::{Missing, Seen, Wait};
use super::{
    aws_error, build_error, gone_is_done, not_found_if, retry_eventual, retry_eventual_when,
};
use crate::error::{Error, Result};

pub use super::Tags;

/// The one container of the service's tasks.
pub const CONTAINER_NAME: &str = "app";

/// The longest pause between two looks at a rolling deployment (the pause
/// grows with the time waited, [`super::wait::pause_after`]). ECS itself moves
/// in steps of tens of seconds (task start, health check), so 5 s loses nothing.
pub const DEPLOYMENT_POLL: Duration = Duration::from_secs(5);

/// How long DescribeServices may lag behind a CreateService or UpdateService
/// just answered: the ECS API is eventually consistent ("the results of an
/// API command you run might not be immediately visible to all subsequent
/// commands", ECS API Reference, "Eventual consistency"), so a service just
/// made may read as missing, and one just updated as running the revision it
/// had. terraform-provider-aws guards new services with
/// `RetryWhenNewResourceNotFound`; half a minute is well past what ECS takes.
pub const DESCRIBE_LAG: Duration = Duration::from_secs(30);

/// CreateCluster answers these until AWS catches up: in an account where ECS
/// was never used, the call makes ECS's service-linked role, which is not yet
/// assumable (terraform-provider-aws `retryClusterCreate`).
const CLUSTER_CREATE_PASSING: &[(&str, &str)] = &[(
    "InvalidParameterException",
    "Unable to assume the service linked role",
)];

/// CreateService answers these until AWS catches up (terraform-provider-aws
/// `retryServiceCreate`, for its propagation timeout and two minutes more): a
/// cluster or a listener made a moment ago not yet visible to ECS, roles not
/// yet propagated, the service-linked role made on first use; and, for a
/// service of the same name deleted a moment ago, "Unable to Start a service
/// that is still Draining" (ECS API, DeleteService: the name is free once the
/// service is INACTIVE; the create waits for that first, see
/// [`wait_service_inactive`], and this covers DescribeServices lagging).
const SERVICE_CREATE_PASSING: &[(&str, &str)] = &[
    ("ClusterNotFoundException", ""),
    (
        "InvalidParameterException",
        "verify that the ECS service role being passed has the proper permissions",
    ),
    (
        "InvalidParameterException",
        "does not have an associated load balancer",
    ),
    (
        "InvalidParameterException",
        "Unable to assume the service linked role",
    ),
    (
        "InvalidParameterException",
        "Unable to Start a service that is still Draining",
    ),
];

/// DeleteService answers these while ECS finishes something else first
/// (terraform-provider-aws `resourceServiceDelete` retries both).
const SERVICE_DELETE_PASSING: &[(&str, &str)] = &[
    (
        "InvalidParameterException",
        "The service cannot be stopped while deployments are active",
    ),
    ("DependencyViolation", "has a dependent object"),
];

/// DeleteCluster answers these while services drain and their tasks stop
/// (ECS API, DeleteCluster; terraform-provider-aws `resourceClusterDelete`
/// retries all four).
const CLUSTER_DELETE_PASSING: &[&str] = &[
    "ClusterContainsContainerInstancesException",
    "ClusterContainsServicesException",
    "ClusterContainsTasksException",
    "UpdateInProgressException",
];

fn to_tags(tags: &Tags) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

fn tags_of(tags: &[Tag]) -> Tags {
    tags.iter()
        .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
        .collect()
}

/// Makes the cluster (Container Insights on); returns its ARN. An existing
/// active cluster of that name is returned as it is.
pub async fn create_cluster(c: &Client, name: &str, tags: &Tags) -> Result<String> {
    let out = retry_eventual_when(CLUSTER_CREATE_PASSING, || async {
        c.create_cluster()
            .cluster_name(name)
            .settings(
                aws_sdk_ecs::types::ClusterSetting::builder()
                    .name(aws_sdk_ecs::types::ClusterSettingName::ContainerInsights)
                    .value("enabled")
                    .build(),
            )
            .set_tags(Some(to_tags(tags)))
            .send()
            .await
            .map_err(|e| aws_error("creating", &format!("ECS cluster {name:?}"), e))
    })
    .await?;
    Ok(out
        .cluster()
        .and_then(|c| c.cluster_arn())
        .unwrap_or_default()
        .to_string())
}

/// The ARN of the active cluster `name`, or `None`.
pub async fn cluster_arn(c: &Client, name: &str) -> Result<Option<String>> {
    Ok(cluster_status(c, name)
        .await?
        .filter(|(status, _)| status == "ACTIVE")
        .map(|(_, arn)| arn))
}

/// The cluster's status (ACTIVE, PROVISIONING, DEPROVISIONING, FAILED,
/// INACTIVE) and ARN, or `None` when ECS has no cluster of that name.
async fn cluster_status(c: &Client, name: &str) -> Result<Option<(String, String)>> {
    let out = c
        .describe_clusters()
        .clusters(name)
        .send()
        .await
        .map_err(|e| aws_error("describing", &format!("ECS cluster {name:?}"), e))?;
    // An INACTIVE cluster of the name may be listed beside the new ACTIVE one.
    let mut found: Vec<(String, String)> = out
        .clusters()
        .iter()
        .map(|c| {
            (
                c.status().unwrap_or_default().to_string(),
                c.cluster_arn().unwrap_or_default().to_string(),
            )
        })
        .collect();
    found.sort_by_key(|(status, _)| status == "INACTIVE");
    Ok(found.into_iter().next())
}

/// Deletes the cluster and waits until it is INACTIVE; gone is done. ECS
/// refuses the delete while services drain and their tasks stop: that is
/// retried until the operation's deadline.
pub async fn delete_cluster(c: &Client, name: &str) -> Result<()> {
    let part = format!("ECS cluster {name:?}");
    let res = retry_eventual(CLUSTER_DELETE_PASSING, || async {
        c.delete_cluster()
            .cluster(name)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| not_found_if("deleting", &part, e, |e| e.is_cluster_not_found_exception()))
    })
    .await;
    gone_is_done(res)?;
    // terraform-provider-aws `waitClusterDeleted`: ACTIVE and DEPROVISIONING
    // until INACTIVE.
    Wait {
        part: &part,
        goal: "inactive",
        done: &["INACTIVE"],
        pending: &["ACTIVE", "DEPROVISIONING"],
        missing: Missing::Done,
        timeout: crate::ctx::remaining(),
    }
    .until(|| async { Ok(cluster_status(c, name).await?.map(|(s, _)| Seen::status(s))) })
    .await
    .map(|_| ())
}

/// What a task definition revision runs.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskSpec {
    pub family: String,
    /// `repository:tag`, or `repository@sha256:…` when pinned to a digest.
    pub image: String,
    /// The container's Docker labels (the version a digest was pinned from).
    pub labels: BTreeMap<String, String>,
    pub container_port: i32,
    pub cpu: i32,
    pub memory: i32,
    pub environment: BTreeMap<String, String>,
    /// Variable name → `valueFrom` (a secret ARN, or `<arn>:<key>::`).
    pub secrets: BTreeMap<String, String>,
    pub log_group: String,
    pub region: String,
    pub execution_role_arn: String,
    pub task_role_arn: String,
}

/// Registers a new revision; returns its ARN and number.
pub async fn register_task_definition(
    c: &Client,
    spec: &TaskSpec,
    tags: &Tags,
) -> Result<(String, i64)> {
    let part = format!("task definition {:?}", spec.family);
    let mut secrets = Vec::new();
    for (name, from) in &spec.secrets {
        secrets.push(
            Secret::builder()
                .name(name)
                .value_from(from)
                .build()
                .map_err(|e| build_error(&part, e))?,
        );
    }
    let logs = LogConfiguration::builder()
        .log_driver(LogDriver::Awslogs)
        .options("awslogs-group", &spec.log_group)
        .options("awslogs-region", &spec.region)
        .options("awslogs-stream-prefix", CONTAINER_NAME)
        .build()
        .map_err(|e| build_error(&part, e))?;
    let container = ContainerDefinition::builder()
        .name(CONTAINER_NAME)
        .image(&spec.image)
        .essential(true)
        .port_mappings(
            PortMapping::builder()
                .container_port(spec.container_port)
                .protocol(TransportProtocol::Tcp)
                .build(),
        )
        .set_environment(Some(
            spec.environment
                .iter()
                .map(|(k, v)| KeyValuePair::builder().name(k).value(v).build())
                .collect(),
        ))
        .set_secrets(Some(secrets))
        .set_docker_labels((!spec.labels.is_empty()).then(|| {
            spec.labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        }))
        .log_configuration(logs)
        .build();
    let out = c
        .register_task_definition()
        .family(&spec.family)
        .requires_compatibilities(Compatibility::Fargate)
        .network_mode(NetworkMode::Awsvpc)
        .cpu(spec.cpu.to_string())
        .memory(spec.memory.to_string())
        .execution_role_arn(&spec.execution_role_arn)
        .task_role_arn(&spec.task_role_arn)
        .container_definitions(container)
        .set_tags(Some(to_tags(tags)))
        .send()
        .await
        .map_err(|e| aws_error("registering", &part, e))?;
    let td = out.task_definition();
    Ok((
        td.and_then(|t| t.task_definition_arn())
            .unwrap_or_default()
            .to_string(),
        td.map(|t| i64::from(t.revision())).unwrap_or_default(),
    ))
}

/// A revision as ECS has it: `None` when it is gone or inactive.
pub async fn describe_task_definition(c: &Client, arn: &str) -> Result<Option<(TaskSpec, i64)>> {
    let part = format!("task definition {arn}");
    let out = match c
        .describe_task_definition()
        .task_definition(arn)
        .send()
        .await
    {
        Ok(o) => o,
        Err(e) => {
            // ECS says ClientException "Unable to describe task definition":
            // its SDK models no not-found error for DescribeTaskDefinition.
            let e = not_found_if("describing", &part, e, |e| e.is_client_exception());
            return if e.is_not_found() { Ok(None) } else { Err(e) };
        }
    };
    let Some(td) = out.task_definition() else {
        return Ok(None);
    };
    if td.status() == Some(&TaskDefinitionStatus::Inactive) {
        return Ok(None);
    }
    let container = td
        .container_definitions()
        .iter()
        .find(|c| c.name() == Some(CONTAINER_NAME));
    let logs = container.and_then(|c| c.log_configuration());
    let opt = |k: &str| {
        logs.and_then(|l| l.options())
            .and_then(|o| o.get(k))
            .cloned()
            .unwrap_or_default()
    };
    let spec = TaskSpec {
        family: td.family().unwrap_or_default().to_string(),
        image: container
            .and_then(|c| c.image())
            .unwrap_or_default()
            .to_string(),
        labels: container
            .and_then(|c| c.docker_labels())
            .map(|l| l.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        container_port: container
            .and_then(|c| c.port_mappings().first())
            .and_then(|p| p.container_port())
            .unwrap_or_default(),
        cpu: td.cpu().and_then(|s| s.parse().ok()).unwrap_or_default(),
        memory: td.memory().and_then(|s| s.parse().ok()).unwrap_or_default(),
        environment: container
            .map(|c| {
                c.environment()
                    .iter()
                    .filter_map(|kv| Some((kv.name()?.to_string(), kv.value()?.to_string())))
                    .collect()
            })
            .unwrap_or_default(),
        secrets: container
            .map(|c| {
                c.secrets()
                    .iter()
                    .map(|s| (s.name().to_string(), s.value_from().to_string()))
                    .collect()
            })
            .unwrap_or_default(),
        log_group: opt("awslogs-group"),
        region: opt("awslogs-region"),
        execution_role_arn: td.execution_role_arn().unwrap_or_default().to_string(),
        task_role_arn: td.task_role_arn().unwrap_or_default().to_string(),
    };
    Ok(Some((spec, i64::from(td.revision()))))
}

/// The active revisions of `family`, oldest first.
pub async fn active_revisions(c: &Client, family: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = c
            .list_task_definitions()
            .family_prefix(family)
            .status(TaskDefinitionStatus::Active)
            .sort(SortOrder::Asc)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| aws_error("listing", &format!("task definitions of {family:?}"), e))?;
        // family_prefix also matches longer families: keep `family:<n>` only.
        out.extend(
            page.task_definition_arns()
                .iter()
                .filter(|arn| {
                    arn.rsplit_once('/')
                        .and_then(|(_, fr)| fr.rsplit_once(':'))
                        .is_some_and(|(f, _)| f == family)
                })
                .cloned(),
        );
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(out);
        }
    }
}

/// Deregisters a revision; gone is done.
pub async fn deregister_task_definition(c: &Client, arn: &str) -> Result<()> {
    match c
        .deregister_task_definition()
        .task_definition(arn)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => {
            // ECS says ClientException for a revision that is gone, as for
            // DescribeTaskDefinition.
            let e = not_found_if("deregistering", &format!("task definition {arn}"), e, |e| {
                e.is_client_exception()
            });
            if e.is_not_found() {
                Ok(())
            } else {
                Err(e)
            }
        }
    }
}

/// How a deployment replaces tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rollout {
    pub minimum_healthy_percent: i32,
    pub maximum_percent: i32,
    pub rollback: bool,
}

fn deployment_configuration(r: Rollout) -> DeploymentConfiguration {
    DeploymentConfiguration::builder()
        .minimum_healthy_percent(r.minimum_healthy_percent)
        .maximum_percent(r.maximum_percent)
        .deployment_circuit_breaker(
            DeploymentCircuitBreaker::builder()
                .enable(true)
                .rollback(r.rollback)
                .build(),
        )
        .build()
}

/// What the service is made with.
#[derive(Clone, Debug)]
pub struct ServiceSpec {
    pub cluster: String,
    pub name: String,
    pub task_definition: String,
    pub desired_count: i32,
    pub subnets: Vec<String>,
    pub security_group: String,
    pub target_group_arn: String,
    pub container_port: i32,
    pub rollout: Rollout,
    /// Seconds ECS ignores failing load balancer health checks of a new task.
    pub health_check_grace_secs: i32,
}

fn network(part: &str, subnets: &[String], sg: &str) -> Result<NetworkConfiguration> {
    Ok(NetworkConfiguration::builder()
        .awsvpc_configuration(
            AwsVpcConfiguration::builder()
                .set_subnets(Some(subnets.to_vec()))
                .security_groups(sg)
                .assign_public_ip(AssignPublicIp::Disabled)
                .build()
                .map_err(|e| build_error(part, e))?,
        )
        .build())
}

/// Creates the service; returns its ARN. What ECS answers only until it
/// catches up is retried ([`SERVICE_CREATE_PASSING`]).
pub async fn create_service(c: &Client, s: &ServiceSpec, tags: &Tags) -> Result<String> {
    let part = format!("ECS service {:?}", s.name);
    let network = network(&part, &s.subnets, &s.security_group)?;
    let out = retry_eventual_when(SERVICE_CREATE_PASSING, || async {
        c.create_service()
            .cluster(&s.cluster)
            .service_name(&s.name)
            .task_definition(&s.task_definition)
            .desired_count(s.desired_count)
            .launch_type(LaunchType::Fargate)
            .network_configuration(network.clone())
            .load_balancers(load_balancer(&s.target_group_arn, s.container_port))
            .health_check_grace_period_seconds(s.health_check_grace_secs)
            .deployment_configuration(deployment_configuration(s.rollout))
            .propagate_tags(PropagateTags::Service)
            .enable_ecs_managed_tags(true)
            .set_tags(Some(to_tags(tags)))
            .send()
            .await
            .map_err(|e| aws_error("creating", &part, e))
    })
    .await?;
    Ok(out
        .service()
        .and_then(|s| s.service_arn())
        .unwrap_or_default()
        .to_string())
}

fn load_balancer(target_group_arn: &str, container_port: i32) -> LoadBalancer {
    LoadBalancer::builder()
        .target_group_arn(target_group_arn)
        .container_name(CONTAINER_NAME)
        .container_port(container_port)
        .build()
}

/// One change to a running service. `None` leaves that setting as it is.
#[derive(Clone, Debug)]
pub struct ServiceUpdate {
    pub task_definition: Option<String>,
    /// The target group and the container port it sends to, when they change:
    /// "When you add, update, or remove a load balancer configuration, Amazon
    /// ECS starts new tasks" (UpdateService, `loadBalancers`), so it is sent
    /// only then, as terraform-provider-aws does.
    pub load_balancer: Option<(String, i32)>,
    pub desired_count: Option<i32>,
    /// The private subnets and the tasks' security group, when they change.
    pub network: Option<(Vec<String>, String)>,
    pub rollout: Rollout,
    pub health_check_grace_secs: i32,
}

pub async fn update_service(
    c: &Client,
    cluster: &str,
    name: &str,
    u: &ServiceUpdate,
) -> Result<()> {
    let part = format!("ECS service {name:?}");
    let network = match &u.network {
        Some((subnets, sg)) => Some(network(&part, subnets, sg)?),
        None => None,
    };
    c.update_service()
        .cluster(cluster)
        .service(name)
        .set_task_definition(u.task_definition.clone())
        .set_desired_count(u.desired_count)
        .set_load_balancers(
            u.load_balancer
                .as_ref()
                .map(|(tg, port)| vec![load_balancer(tg, *port)]),
        )
        .set_network_configuration(network)
        .health_check_grace_period_seconds(u.health_check_grace_secs)
        .deployment_configuration(deployment_configuration(u.rollout))
        .send()
        .await
        .map_err(|e| aws_error("updating", &part, e))?;
    Ok(())
}

/// One deployment of a service, as DescribeServices reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct DeploymentInfo {
    pub status: String,
    pub task_definition: String,
    pub rollout_state: Option<String>,
    pub reason: String,
    pub running: i32,
    pub desired: i32,
    pub failed_tasks: i32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ServiceInfo {
    pub arn: String,
    pub status: String,
    pub task_definition: String,
    pub desired: i32,
    pub running: i32,
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    pub target_group_arn: Option<String>,
    pub deployments: Vec<DeploymentInfo>,
    /// How deployments replace tasks, when the answer says.
    pub rollout: Option<Rollout>,
    pub tags: Tags,
}

/// The service as DescribeServices has it, in whatever status, or `None`
/// when ECS has no service (or no cluster) of that name.
async fn describe_any(
    c: &Client,
    cluster: &str,
    name: &str,
) -> Result<Option<aws_sdk_ecs::types::Service>> {
    let part = format!("ECS service {name:?}");
    let out = match c
        .describe_services()
        .cluster(cluster)
        .services(name)
        .include(aws_sdk_ecs::types::ServiceField::Tags)
        .send()
        .await
    {
        Ok(o) => o,
        Err(e) => {
            // A missing service is a failure in the answer; a missing cluster an error.
            let e = not_found_if("describing", &part, e, |e| {
                e.is_cluster_not_found_exception()
            });
            return if e.is_not_found() { Ok(None) } else { Err(e) };
        }
    };
    Ok(out.services().first().cloned())
}

/// The service's status: ACTIVE, DRAINING (deleted, its tasks stopping) or
/// INACTIVE; `None` when ECS has no service of that name.
pub async fn service_status(c: &Client, cluster: &str, name: &str) -> Result<Option<String>> {
    Ok(describe_any(c, cluster, name)
        .await?
        .map(|s| s.status().unwrap_or_default().to_string()))
}

/// The service, or `None` when it is gone (or draining after a delete).
pub async fn describe_service(
    c: &Client,
    cluster: &str,
    name: &str,
) -> Result<Option<ServiceInfo>> {
    Ok(describe_with_primary(c, cluster, name)
        .await?
        .map(|(info, _)| info))
}

/// As [`describe_service`], with the id of the service's PRIMARY deployment
/// (the one ECS is moving to) when it has one.
async fn describe_with_primary(
    c: &Client,
    cluster: &str,
    name: &str,
) -> Result<Option<(ServiceInfo, Option<String>)>> {
    let Some(s) = describe_any(c, cluster, name).await? else {
        return Ok(None);
    };
    let status = s.status().unwrap_or_default().to_string();
    if status != "ACTIVE" {
        return Ok(None);
    }
    let primary = s
        .deployments()
        .iter()
        .find(|d| d.status() == Some("PRIMARY"))
        .and_then(|d| d.id())
        .map(str::to_string);
    let vpc = s
        .network_configuration()
        .and_then(|n| n.awsvpc_configuration());
    let info = ServiceInfo {
        arn: s.service_arn().unwrap_or_default().to_string(),
        status,
        task_definition: s.task_definition().unwrap_or_default().to_string(),
        desired: s.desired_count(),
        running: s.running_count(),
        subnets: vpc.map(|v| v.subnets().to_vec()).unwrap_or_default(),
        security_groups: vpc
            .map(|v| v.security_groups().to_vec())
            .unwrap_or_default(),
        target_group_arn: s
            .load_balancers()
            .first()
            .and_then(|l| l.target_group_arn())
            .map(str::to_string),
        deployments: s
            .deployments()
            .iter()
            .map(|d| DeploymentInfo {
                status: d.status().unwrap_or_default().to_string(),
                task_definition: d.task_definition().unwrap_or_default().to_string(),
                rollout_state: d.rollout_state().map(|r| r.as_str().to_string()),
                reason: d.rollout_state_reason().unwrap_or_default().to_string(),
                running: d.running_count(),
                desired: d.desired_count(),
                failed_tasks: d.failed_tasks(),
            })
            .collect(),
        rollout: s.deployment_configuration().and_then(|d| {
            Some(Rollout {
                minimum_healthy_percent: d.minimum_healthy_percent()?,
                maximum_percent: d.maximum_percent()?,
                rollback: d.deployment_circuit_breaker()?.rollback(),
            })
        }),
        tags: tags_of(s.tags()),
    };
    Ok(Some((info, primary)))
}

/// DescribeServices takes at most ten services a call (ECS API reference).
const DESCRIBE_SERVICES_MAX: usize = 10;

/// An active service as DescribeServices has it: what says which resource made it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceSummary {
    /// The name of its cluster.
    pub cluster: String,
    pub name: String,
    /// The target group of its load balancer, when it has one.
    pub target_group_arn: Option<String>,
}

/// Every active service of the region: ListClusters, then for each cluster
/// ListServices (both paged, neither takes a tag filter) and one
/// DescribeServices per ten services.
pub async fn list_services(c: &Client) -> Result<Vec<ServiceSummary>> {
    let mut out = Vec::new();
    for cluster_arn in cluster_arns(c).await? {
        let cluster = cluster_arn
            .rsplit('/')
            .next()
            .unwrap_or(cluster_arn.as_str())
            .to_string();
        let part = format!("services of ECS cluster {cluster:?}");
        let arns = service_arns(c, &cluster_arn, &part).await?;
        for chunk in arns.chunks(DESCRIBE_SERVICES_MAX) {
            let page = c
                .describe_services()
                .cluster(&cluster_arn)
                .set_services(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| aws_error("describing", &part, e))?;
            out.extend(
                page.services()
                    .iter()
                    .filter(|s| s.status() == Some("ACTIVE"))
                    .filter_map(|s| {
                        Some(ServiceSummary {
                            cluster: cluster.clone(),
                            name: s.service_name()?.to_string(),
                            target_group_arn: s
                                .load_balancers()
                                .first()
                                .and_then(|l| l.target_group_arn())
                                .map(str::to_string),
                        })
                    }),
            );
        }
    }
    Ok(out)
}

/// The ARNs of the region's clusters.
async fn cluster_arns(c: &Client) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = c
            .list_clusters()
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| aws_error("listing", "ECS clusters", e))?;
        out.extend(page.cluster_arns().iter().cloned());
        token = page
            .next_token()
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if token.is_none() {
            return Ok(out);
        }
    }
}

/// The ARNs of a cluster's services; none when the cluster is gone (a
/// cluster just deleted may still be listed).
async fn service_arns(c: &Client, cluster_arn: &str, part: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = c
            .list_services()
            .cluster(cluster_arn)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| {
                not_found_if("listing", part, e, |err| {
                    err.is_cluster_not_found_exception()
                })
            });
        let page = match page {
            Ok(page) => page,
            Err(e) if e.is_not_found() => return Ok(out),
            Err(e) => return Err(e),
        };
        out.extend(page.service_arns().iter().cloned());
        token = page
            .next_token()
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if token.is_none() {
            return Ok(out);
        }
    }
}

/// Where a deployment of `wanted` stands.
#[derive(Clone, Debug, PartialEq)]
pub enum Progress {
    /// One deployment left, completed, with every desired task running.
    Stable,
    Rolling {
        running: i32,
        desired: i32,
        failed_tasks: i32,
    },
    /// The circuit breaker stopped the deployment of `wanted`; the service
    /// now runs `running` (the revision ECS rolled back to, when it did).
    Failed { running: String, reason: String },
    /// The service runs `running`, not `wanted`, and no deployment of
    /// `wanted` failed: DescribeServices not yet showing an update, or (once
    /// that cannot be the reason) a rollback or a change outside Terraform.
    Elsewhere { running: String },
}

/// What [`Progress::Elsewhere`] means once DescribeServices cannot be lagging.
const ELSEWHERE: &str =
    "the service runs another task definition: it was rolled back or changed outside Terraform";

/// Reads a DescribeServices answer: stable, still rolling, or failed and rolled back.
pub fn progress(s: &ServiceInfo, wanted: &str) -> Progress {
    let failed = s
        .deployments
        .iter()
        .find(|d| d.task_definition == wanted && d.rollout_state.as_deref() == Some("FAILED"));
    // A rollback shows as the service's task definition going back to an older one.
    if let Some(d) = failed {
        return Progress::Failed {
            running: s.task_definition.clone(),
            reason: d.reason.clone(),
        };
    }
    if s.task_definition != wanted {
        return Progress::Elsewhere {
            running: s.task_definition.clone(),
        };
    }
    let primary = s.deployments.iter().find(|d| d.status == "PRIMARY");
    let completed = primary.is_none_or(|d| {
        d.rollout_state.is_none()
            || d.rollout_state.as_deref() == Some(DeploymentRolloutState::Completed.as_str())
    });
    if s.deployments.len() <= 1 && completed && s.running == s.desired {
        Progress::Stable
    } else {
        Progress::Rolling {
            running: s.running,
            desired: s.desired,
            failed_tasks: primary.map(|d| d.failed_tasks).unwrap_or_default(),
        }
    }
}

/// What [`Progress::Stable`] means when the deployment waited for is no
/// longer the PRIMARY one, once DescribeServices cannot be lagging.
const REPLACED: &str = "the deployment is no longer the service's primary one: it was rolled back or replaced by another deployment";

/// The deployment a wait is for.
#[derive(Clone, Copy, Debug)]
pub struct Deploying<'a> {
    /// The task definition the service must end up running.
    pub task_definition: &'a str,
    /// The deployment just started (the PRIMARY one UpdateService answered),
    /// when known: an answer that does not yet show it as PRIMARY is taken
    /// as lagging, and after [`DESCRIBE_LAG`] as a rollback.
    pub deployment: Option<&'a str>,
    /// How errors name what was done: "deploying", "redeploying".
    pub action: &'a str,
}

/// Waits until the service runs `wanted` with every task healthy. A deployment
/// the circuit breaker rolled back is an error naming the revision that runs.
///
/// The first look is after a pause, and for [`DESCRIBE_LAG`] a service not
/// yet visible, or still showing the revision it had, is waited out: the ECS
/// API is eventually consistent.
pub async fn wait_stable(
    c: &Client,
    cluster: &str,
    name: &str,
    wanted: &str,
    limit: Duration,
) -> Result<()> {
    let deploying = Deploying {
        task_definition: wanted,
        deployment: None,
        action: "deploying",
    };
    wait_deployment(c, cluster, name, deploying, limit, &|_: String| {}).await
}

/// As [`wait_stable`], for the deployment `d`; `report` is told each new
/// state the wait sees ("rolling (1 of 2 tasks running, 0 failed to start)").
pub async fn wait_deployment(
    c: &Client,
    cluster: &str,
    name: &str,
    d: Deploying<'_>,
    limit: Duration,
    report: &(dyn Fn(String) + Send + Sync),
) -> Result<()> {
    let wanted = d.task_definition;
    let part = format!("ECS service {name:?}");
    let deploying = || format!("{} to ECS service {name:?}", short_revision(wanted));
    let rolled_back = |running: &str, reason: String| Error::RolledBack {
        action: d.action.into(),
        part: deploying(),
        running: short_revision(running).to_string(),
        reason,
    };
    let started = tokio::time::Instant::now();
    let deadline = started + limit;
    let mut reported = String::new();
    loop {
        let pause =
            super::wait::pause_after(started.elapsed(), super::wait::FIRST_POLL, DEPLOYMENT_POLL);
        tokio::time::sleep(
            pause.min(deadline.saturating_duration_since(tokio::time::Instant::now())),
        )
        .await;
        let lagging = started.elapsed() < DESCRIBE_LAG;
        let state = match describe_with_primary(c, cluster, name).await? {
            None if lagging => "not yet visible".to_string(),
            None => {
                return Err(Error::NotFound {
                    action: "waiting for".into(),
                    part,
                })
            }
            Some((s, primary)) => {
                let shown = d.deployment.is_none_or(|id| primary.as_deref() == Some(id));
                match progress(&s, wanted) {
                    Progress::Stable if shown => return Ok(()),
                    Progress::Stable if lagging => "not yet showing the new deployment".to_string(),
                    Progress::Stable => {
                        return Err(rolled_back(&s.task_definition, REPLACED.into()))
                    }
                    Progress::Failed { running, reason } => {
                        return Err(rolled_back(&running, reason))
                    }
                    Progress::Elsewhere { running } if !lagging => {
                        return Err(rolled_back(&running, ELSEWHERE.into()))
                    }
                    Progress::Elsewhere { running } => {
                        format!("still showing {}", short_revision(&running))
                    }
                    Progress::Rolling {
                        running,
                        desired,
                        failed_tasks,
                    } => format!(
                        "rolling ({running} of {desired} tasks running, {failed_tasks} failed to start)"
                    ),
                }
            }
        };
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Err(Error::Timeout {
                action: d.action.into(),
                part: deploying(),
                state,
                after: limit,
            });
        }
        if state != reported {
            report(state.clone());
            reported = state.clone();
        }
        tracing::info!(
            "waiting for {} to be stable on ECS service {name:?} ({state}), {} of {}",
            short_revision(wanted),
            super::wait::human(now - started),
            super::wait::human(limit)
        );
    }
}

/// Starts a new deployment of `task_definition` (the revision the service
/// runs) with UpdateService's `forceNewDeployment`: ECS replaces every task
/// with a new one, which pulls the image and reads its secrets again, within
/// the service's deployment configuration and circuit breaker. Returns the
/// new PRIMARY deployment's id, as UpdateService answers it.
pub async fn force_new_deployment(
    c: &Client,
    cluster: &str,
    name: &str,
    task_definition: &str,
) -> Result<Option<String>> {
    let part = format!("ECS service {name:?}");
    let out = c
        .update_service()
        .cluster(cluster)
        .service(name)
        .task_definition(task_definition)
        .force_new_deployment(true)
        .send()
        .await
        .map_err(|e| {
            not_found_if("redeploying", &part, e, |e| {
                e.is_service_not_found_exception()
                    || e.is_service_not_active_exception()
                    || e.is_cluster_not_found_exception()
            })
        })?;
    Ok(out
        .service()
        .and_then(|s| {
            s.deployments()
                .iter()
                .find(|d| d.status() == Some("PRIMARY"))
        })
        .and_then(|d| d.id())
        .map(str::to_string))
}

/// `family:revision` from a task definition ARN.
pub fn short_revision(arn: &str) -> &str {
    arn.rsplit_once('/').map(|(_, r)| r).unwrap_or(arn)
}

/// Scales the service to 0 and deletes it, then waits until it is INACTIVE:
/// its tasks have stopped (ECS API, DeleteService: "the service status moves
/// from ACTIVE to DRAINING … when all tasks have stopped, INACTIVE"). A
/// service already DRAINING is only waited for. Gone is done.
///
/// As terraform-provider-aws `resourceServiceDelete`: scale to zero unless
/// draining, DeleteService retried while deployments are active, then
/// `waitServiceInactive` (ACTIVE and DRAINING until INACTIVE).
pub async fn delete_service(c: &Client, cluster: &str, name: &str, limit: Duration) -> Result<()> {
    let part = format!("ECS service {name:?}");
    match service_status(c, cluster, name).await?.as_deref() {
        None | Some("INACTIVE") => return Ok(()),
        Some("DRAINING") => {}
        Some(_) => {
            let scaled = c
                .update_service()
                .cluster(cluster)
                .service(name)
                .desired_count(0)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| {
                    not_found_if("scaling to 0", &part, e, |e| {
                        e.is_service_not_found_exception()
                            || e.is_service_not_active_exception()
                            || e.is_cluster_not_found_exception()
                    })
                });
            gone_is_done(scaled)?;
            let deleted = retry_eventual_when(SERVICE_DELETE_PASSING, || async {
                c.delete_service()
                    .cluster(cluster)
                    .service(name)
                    .force(true)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| {
                        not_found_if("deleting", &part, e, |e| {
                            e.is_service_not_found_exception() || e.is_cluster_not_found_exception()
                        })
                    })
            })
            .await;
            if let Err(e) = deleted {
                return if e.is_not_found() { Ok(()) } else { Err(e) };
            }
        }
    }
    wait_service_inactive(c, cluster, name, limit).await
}

/// Waits until a deleted service is INACTIVE (every task stopped, the name
/// free for a new service) or gone.
pub async fn wait_service_inactive(
    c: &Client,
    cluster: &str,
    name: &str,
    limit: Duration,
) -> Result<()> {
    let part = format!("ECS service {name:?}");
    Wait {
        part: &part,
        goal: "inactive",
        done: &["INACTIVE"],
        pending: &["ACTIVE", "DRAINING"],
        missing: Missing::Done,
        timeout: limit,
    }
    .until(|| async { Ok(service_status(c, cluster, name).await?.map(Seen::status)) })
    .await
    .map(|_| ())
}

pub async fn set_service_tags(c: &Client, arn: &str, had: &Tags, want: &Tags) -> Result<()> {
    let part = format!("ECS resource {arn}");
    let gone: Vec<String> = had
        .keys()
        .filter(|k| !want.contains_key(*k))
        .cloned()
        .collect();
    if !gone.is_empty() {
        c.untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(gone))
            .send()
            .await
            .map_err(|e| aws_error("untagging", &part, e))?;
    }
    if had != want && !want.is_empty() {
        c.tag_resource()
            .resource_arn(arn)
            .set_tags(Some(to_tags(want)))
            .send()
            .await
            .map_err(|e| aws_error("tagging", &part, e))?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "ecs_tests.rs"]
mod tests;
