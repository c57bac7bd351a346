//! What the layer remembers of the parts made through it, and each behaviour.

use std::collections::BTreeMap;
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;

use crate::http::{forward, header, read_request, segment, Request, Response};

/// The time windows, all multiples of one base (2 s × `FANSITE_REALISTIC_SCALE`).
/// On AWS each of them is minutes; here they are long enough that the
/// provider must poll, retry or wait, and short enough for a test suite.
#[derive(Clone, Copy, Debug)]
pub struct Windows {
    /// One window: a NAT gateway pending, an RDS instance creating, a
    /// CloudFront distribution deploying, a role propagating, ...
    pub base: Duration,
    /// The latency added to every call.
    pub latency: Duration,
}

impl Default for Windows {
    fn default() -> Windows {
        Windows::scaled(1.0)
    }
}

impl Windows {
    pub fn scaled(scale: f64) -> Windows {
        let scale = scale.max(0.0);
        Windows {
            base: Duration::from_secs_f64(2.0 * scale),
            latency: Duration::from_secs_f64(0.01 * scale),
        }
    }

    /// `FANSITE_REALISTIC_SCALE` (a number, default 1).
    pub fn from_env() -> Windows {
        let scale = std::env::var("FANSITE_REALISTIC_SCALE")
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(1.0);
        Windows::scaled(scale)
    }

    fn times(&self, n: u32) -> Duration {
        self.base * n
    }
}

/// Network interfaces that outlive their owner: until they go, deletes of the
/// subnets, security groups and VPC they are in answer DependencyViolation,
/// and (public ones) the internet gateway cannot be detached.
struct Linger {
    owner: String,
    subnets: Vec<String>,
    groups: Vec<String>,
    vpcs: Vec<String>,
    public: bool,
    from: Instant,
    until: Instant,
}

impl Linger {
    fn active(&self, now: Instant) -> bool {
        self.from <= now && now < self.until
    }
}

/// A part whose status the layer sets while a window is open: `(status, until)`, in order.
#[derive(Default)]
struct Phases(Vec<(String, Instant)>);

impl Phases {
    fn now(&self, now: Instant) -> Option<&str> {
        self.0
            .iter()
            .find(|(_, until)| now < *until)
            .map(|(s, _)| s.as_str())
    }

    fn set(&mut self, start: Instant, phases: &[(&str, Duration)]) {
        let mut at = start;
        self.0 = phases
            .iter()
            .map(|(s, d)| {
                at += *d;
                (s.to_string(), at)
            })
            .collect();
    }
}

struct Nat {
    subnet: String,
    allocation: String,
    created: Instant,
    deleted: Option<Instant>,
}

#[derive(Default)]
struct Db {
    phases: Phases,
    cluster: String,
    subnet_group: String,
    groups: Vec<String>,
    /// When the held-back delete is sent.
    deleting_until: Option<Instant>,
    gone: bool,
}

struct Service {
    subnets: Vec<String>,
    groups: Vec<String>,
    public: bool,
    created: Instant,
    draining_until: Option<Instant>,
    /// The task definition it runs, as the last create or update answered.
    task_definition: String,
    rollout: Option<Rollout>,
    /// A task definition whose tasks cannot start: its execution role was
    /// made or changed less than a window before the deployment.
    failing: Option<String>,
}

/// A rolling deployment from one task definition to another, as ECS runs it
/// within the deployment configuration's bounds (ECS Developer Guide, "Rolling
/// update"): for a window the new tasks start while as many old ones keep
/// running as `maximumPercent` leaves room for (never fewer than
/// `minimumHealthyPercent` of the desired count); for the next window the new
/// ones are running and the old ones drain; then it is complete.
#[derive(Clone)]
struct Rollout {
    from: String,
    to: String,
    min_pct: i64,
    max_pct: i64,
    started: Instant,
}

impl Rollout {
    /// (new tasks running, new tasks pending, old tasks running) at `now`, for `desired` tasks.
    fn counts(&self, desired: i64, now: Instant, w: Duration) -> Option<(i64, i64, i64)> {
        let keep_old = (desired * self.min_pct + 99) / 100;
        let ceiling = desired * self.max_pct / 100;
        let started_new = desired.min((ceiling - keep_old).max(0));
        let old_running = keep_old.max(desired.min(ceiling - started_new));
        let t = now.saturating_duration_since(self.started);
        if t < w {
            Some((0, started_new, old_running))
        } else if t < w * 2 {
            Some((desired, 0, old_running.min((ceiling - desired).max(0))))
        } else {
            None
        }
    }
}

#[derive(Default)]
struct Distribution {
    in_progress_until: Option<Instant>,
    enabled: bool,
    access_controls: Vec<String>,
    /// Its additional metrics' subscription status (`Enabled`, `Disabled`),
    /// when it has one.
    monitoring: Option<String>,
    /// The ARNs of the CloudFront Functions its behaviors run.
    functions: Vec<String>,
    web_acl: String,
    deleted: Option<Instant>,
}

struct Domain {
    pool: String,
    creating_until: Instant,
    deleting_until: Option<Instant>,
}

/// A CloudWatch Logs Insights saved query (query definition), as the last
/// PutQueryDefinition gave it.
struct QueryDefinition {
    region: String,
    name: String,
    query_string: String,
    log_groups: Vec<String>,
    language: String,
    /// Epoch milliseconds.
    last_modified: u64,
    /// The put's clientToken: a retry of it answers the same definition.
    client_token: Option<String>,
}

/// A call the layer holds back and sends at `due`.
struct Held {
    due: Instant,
    req: Request,
    instance: Option<String>,
    cluster: Option<String>,
}

pub struct World {
    pub win: Windows,
    pub effects: Vec<String>,
    subnet_vpc: BTreeMap<String, String>,
    group_vpc: BTreeMap<String, String>,
    lingering: Vec<Linger>,
    nats: BTreeMap<String, Nat>,
    load_balancers: BTreeMap<String, (Vec<String>, Vec<String>, bool)>,
    subnet_groups: BTreeMap<String, Vec<String>>,
    clusters: BTreeMap<String, Db>,
    instances: BTreeMap<String, Db>,
    services: BTreeMap<String, Service>,
    roles: BTreeMap<String, Instant>,
    /// When each role (by name) was made or its permissions last changed.
    role_changed: BTreeMap<String, Instant>,
    /// The inline policies and managed policies each role was given (by role and call).
    role_permissions: BTreeMap<String, Vec<String>>,
    /// The execution role (ARN) of each task definition (ARN).
    execution_roles: BTreeMap<String, String>,
    first_scaling: Option<Instant>,
    first_ecs: Option<Instant>,
    functions: BTreeMap<String, (&'static str, Instant)>,
    distributions: BTreeMap<String, Distribution>,
    changes: BTreeMap<String, Instant>,
    domains: BTreeMap<String, Domain>,
    secrets: BTreeMap<String, Instant>,
    /// The query definitions, by id.
    query_definitions: BTreeMap<String, QueryDefinition>,
    /// How many ids [`World::query_definition`] has made.
    query_ids: u64,
    held: Vec<Held>,
}

/// An answer the layer gives instead of the endpoint's: AWS's code and message.
struct Refusal {
    status: u16,
    code: &'static str,
    message: String,
}

fn refuse(status: u16, code: &'static str, message: impl Into<String>) -> Option<Refusal> {
    Some(Refusal {
        status,
        code,
        message: message.into(),
    })
}

impl World {
    pub fn new(win: Windows) -> World {
        World {
            win,
            effects: Vec::new(),
            subnet_vpc: BTreeMap::new(),
            group_vpc: BTreeMap::new(),
            lingering: Vec::new(),
            nats: BTreeMap::new(),
            load_balancers: BTreeMap::new(),
            subnet_groups: BTreeMap::new(),
            clusters: BTreeMap::new(),
            instances: BTreeMap::new(),
            services: BTreeMap::new(),
            roles: BTreeMap::new(),
            role_changed: BTreeMap::new(),
            role_permissions: BTreeMap::new(),
            execution_roles: BTreeMap::new(),
            first_scaling: None,
            first_ecs: None,
            functions: BTreeMap::new(),
            distributions: BTreeMap::new(),
            changes: BTreeMap::new(),
            domains: BTreeMap::new(),
            secrets: BTreeMap::new(),
            query_definitions: BTreeMap::new(),
            query_ids: 0,
            held: Vec::new(),
        }
    }

    fn linger(
        &mut self,
        owner: String,
        subnets: Vec<String>,
        groups: Vec<String>,
        public: bool,
        from: Instant,
        until: Instant,
    ) {
        let mut vpcs: Vec<String> = subnets
            .iter()
            .filter_map(|s| self.subnet_vpc.get(s))
            .chain(groups.iter().filter_map(|g| self.group_vpc.get(g)))
            .cloned()
            .collect();
        vpcs.sort();
        vpcs.dedup();
        self.lingering.push(Linger {
            owner,
            subnets,
            groups,
            vpcs,
            public,
            from,
            until,
        });
    }

    fn lingering_in(&self, now: Instant, hit: impl Fn(&Linger) -> bool) -> Option<String> {
        self.lingering
            .iter()
            .find(|l| l.active(now) && hit(l))
            .map(|l| l.owner.clone())
    }

    /// Whether tasks of `task_definition` would fail to start at `now`: its
    /// execution role was made, or given its permissions, less than a window
    /// ago, so IAM has not yet propagated it to ECS (the task stops with
    /// ResourceInitializationError: unable to pull secrets or registry auth).
    fn starts_too_soon(&self, task_definition: &str, now: Instant) -> bool {
        let Some(role) = self.execution_roles.get(task_definition) else {
            return false;
        };
        let name = role.rsplit('/').next().unwrap_or_default();
        self.role_changed
            .get(name)
            .is_some_and(|t| now < *t + self.win.base)
    }

    /// Records that the service's new deployment cannot start its tasks, when
    /// [`World::starts_too_soon`] says so.
    fn mark_failing(&mut self, key: &str, now: Instant) {
        let Some(td) = self.services.get(key).map(|s| s.task_definition.clone()) else {
            return;
        };
        let failing = self.starts_too_soon(&td, now);
        if let Some(s) = self.services.get_mut(key) {
            if failing {
                s.failing = Some(td.clone());
                s.rollout = None;
                self.effects.push(format!(
                    "deployment of {td} to {key}: tasks fail to start, the execution role is not yet propagated"
                ));
            } else if s.failing.as_deref() != Some(td.as_str()) {
                s.failing = None;
            }
        }
    }

    /// Checked before the call goes on: `Some` answers it instead.
    fn before(&mut self, req: &Request, now: Instant) -> Option<Refusal> {
        match req.op.as_str() {
            // --- EC2: interfaces that outlive their owners --------------------
            // terraform-provider-aws retries DependencyViolation on subnet, SG
            // and VPC deletes for the whole delete timeout ("ALB automatically
            // creates ENI(s) on creation but the cleanup is asynchronous",
            // elbv2/load_balancer.go cleanupALBNetworkInterfaces).
            "DeleteSubnet" => {
                let id = req.param("SubnetId")?.to_string();
                let owner = self.lingering_in(now, |l| l.subnets.contains(&id))?;
                refuse(
                    400,
                    "DependencyViolation",
                    format!("The subnet '{id}' has dependencies and cannot be deleted. ({owner})"),
                )
            }
            "DeleteSecurityGroup" => {
                let id = req.param("GroupId")?.to_string();
                let owner = self.lingering_in(now, |l| l.groups.contains(&id))?;
                refuse(
                    400,
                    "DependencyViolation",
                    format!("resource {id} has a dependent object ({owner})"),
                )
            }
            "DeleteVpc" => {
                let id = req.param("VpcId")?.to_string();
                let owner = self.lingering_in(now, |l| l.vpcs.contains(&id))?;
                refuse(
                    400,
                    "DependencyViolation",
                    format!("The vpc '{id}' has dependencies and cannot be deleted. ({owner})"),
                )
            }
            // ec2/vpc_internet_gateway.go detachInternetGateway retries
            // DependencyViolation: "has some mapped public address(es)".
            "DetachInternetGateway" => {
                let vpc = req.param("VpcId")?.to_string();
                let owner = self.lingering_in(now, |l| l.public && l.vpcs.contains(&vpc))?;
                refuse(400, "DependencyViolation", format!("Network {vpc} has some mapped public address(es). Please unmap those public address(es) before detaching the gateway. ({owner})"))
            }
            // A NAT gateway keeps its Elastic IP until it is `deleted` (EC2
            // User Guide, "Delete a NAT gateway": the address is disassociated
            // when the gateway is deleted).
            "CreateNatGateway" => {
                let alloc = req.param("AllocationId")?;
                let nat = self.nat_deleting_with(alloc, now)?;
                refuse(
                    400,
                    "Resource.AlreadyAssociated",
                    format!("Elastic IP address [{alloc}] is already associated with {nat}"),
                )
            }
            "ReleaseAddress" => {
                let alloc = req.param("AllocationId")?;
                let nat = self.nat_deleting_with(alloc, now)?;
                refuse(
                    400,
                    "InvalidIPAddress.InUse",
                    format!("Address {alloc} is in use by {nat}."),
                )
            }
            // --- RDS: one change at a time -------------------------------------
            // rds/cluster.go retries InvalidDBClusterStateFault on modify and
            // delete; rds/cluster_instance.go waits for `available` after each change.
            "ModifyDBCluster" => {
                let id = req.param("DBClusterIdentifier")?;
                let status = self.clusters.get(id)?.phases.now(now)?;
                refuse(
                    400,
                    "InvalidDBClusterStateFault",
                    format!(
                        "DB cluster {id} is not available for modification with status {status}"
                    ),
                )
            }
            "ModifyDBInstance" => {
                let id = req.param("DBInstanceIdentifier")?;
                let status = self.instances.get(id)?.phases.now(now)?;
                refuse(
                    400,
                    "InvalidDBInstanceState",
                    format!("Database instance {id} is not in available state (status {status})."),
                )
            }
            "DeleteDBInstance" => {
                let id = req.param("DBInstanceIdentifier")?;
                let db = self.instances.get(id)?;
                // hashicorp/terraform-provider-aws#5624: a second delete is refused.
                db.deleting_until?;
                refuse(
                    400,
                    "InvalidDBInstanceState",
                    format!("Instance {id} is already being deleted."),
                )
            }
            "DeleteDBCluster" => {
                self.cluster_delete_refused(req.param("DBClusterIdentifier")?, now)
            }
            "DeleteDBSubnetGroup" => {
                let name = req.param("DBSubnetGroupName")?;
                let (id, _) = self
                    .clusters
                    .iter()
                    .find(|(_, c)| c.subnet_group == name && !c.gone)?;
                refuse(400, "InvalidDBSubnetGroupStateFault", format!("Cannot delete the subnet group '{name}' because at least one database cluster: {id} is still using it."))
            }
            // --- Application Auto Scaling ------------------------------------
            // appautoscaling/target.go registerScalableTarget retries
            // ValidationException "Unable to assume IAM role" (the
            // service-linked role is made on first use) and "ECS service
            // doesn't exist" (a service just made) for the propagation timeout.
            "RegisterScalableTarget" => {
                let first = *self.first_scaling.get_or_insert(now);
                if now < first + self.win.base {
                    return refuse(400, "ValidationException", "Unable to assume IAM role: arn:aws:iam::123456789012:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService");
                }
                let resource = req.field("ResourceId")?;
                let service = self.services.get(resource.strip_prefix("service/")?)?;
                if now < service.created + self.win.base {
                    return refuse(
                        400,
                        "ValidationException",
                        format!("ECS service doesn't exist: {resource}"),
                    );
                }
                None
            }
            // --- IAM propagation and Lambda updates ---------------------------
            // lambda/function.go retries InvalidParameterValueException "The
            // role defined for the function cannot be assumed by Lambda" for
            // the propagation timeout (IAM is eventually consistent).
            "CreateFunction" => {
                let role = req.field("Role")?;
                let made = *self.roles.get(role)?;
                if now < made + self.win.base {
                    return refuse(
                        400,
                        "InvalidParameterValueException",
                        "The role defined for the function cannot be assumed by Lambda.",
                    );
                }
                None
            }
            // Lambda Developer Guide, "Lambda function states": while
            // LastUpdateStatus is InProgress, updates fail with
            // ResourceConflictException (lambda/function.go waits with
            // waitFunctionUpdated after each update).
            "UpdateFunctionCode" | "UpdateFunctionConfiguration" | "AddPermission" => {
                let name = function_name(&segment(&req.path, 2));
                let (_, until) = self.functions.get(&name)?;
                if now < *until {
                    return refuse(409, "ResourceConflictException", format!("The operation cannot be performed at this time. An update is in progress for resource: arn:aws:lambda:us-east-1:123456789012:function:{name}"));
                }
                None
            }
            // --- ECS: its service-linked role is made on first use -------------
            // In an account that has not used ECS, AWSServiceRoleForECS is made
            // by the first call and is not assumable for a while: ecs/cluster.go
            // retryClusterCreate retries InvalidParameterException "Unable to
            // assume the service linked role" for the propagation timeout.
            "CreateCluster" => {
                let first = *self.first_ecs.get_or_insert(now);
                if now < first + self.win.base {
                    return refuse(
                        400,
                        "InvalidParameterException",
                        "Unable to assume the service linked role. Please verify that the ECS service linked role exists.",
                    );
                }
                None
            }
            // --- ECS: services drain ---------------------------------------------
            // ECS Developer Guide, DeleteService: "the service status moves
            // from ACTIVE to DRAINING … when all tasks have stopped, INACTIVE";
            // ecs/service.go waits for INACTIVE and retries cluster deletes.
            "CreateService" => {
                let key = service_key(
                    req.field("cluster").unwrap_or("default"),
                    req.field("serviceName")?,
                );
                let s = self.services.get(&key)?;
                if s.draining_until.is_some_and(|t| now < t) {
                    return refuse(
                        400,
                        "InvalidParameterException",
                        "Unable to Start a service that is still Draining.",
                    );
                }
                None
            }
            "DeleteCluster" => {
                let cluster = last_segment(req.field("cluster")?);
                let prefix = format!("{cluster}/");
                let busy = self.services.iter().any(|(k, s)| {
                    k.starts_with(&prefix) && s.draining_until.is_some_and(|t| now < t)
                });
                if busy {
                    return refuse(
                        400,
                        "ClusterContainsServicesException",
                        "The Cluster cannot be deleted while Services are active.",
                    );
                }
                None
            }
            // --- CloudFront ---------------------------------------------------
            // CloudFront API, DeleteDistribution: "you must first disable the
            // distribution … wait until the value of Status is Deployed";
            // cloudfront/distribution.go retries DistributionNotDisabled.
            "DeleteDistribution" => {
                let id = segment(&req.path, 2);
                let d = self.distributions.get(&id)?;
                let deploying = d.in_progress_until.is_some_and(|t| now < t);
                if d.enabled || deploying {
                    return refuse(
                        409,
                        "DistributionNotDisabled",
                        "The distribution you are trying to delete has not been disabled.",
                    );
                }
                None
            }
            // cloudfront/origin_access_control.go and wafv2/web_acl.go retry
            // OriginAccessControlInUse and WAFAssociatedItemException: a
            // distribution lets go of them only once it is gone.
            "DeleteOriginAccessControl" => {
                let id = segment(&req.path, 2);
                let user = self.distribution_using(now, |d| d.access_controls.contains(&id))?;
                refuse(
                    409,
                    "OriginAccessControlInUse",
                    format!("The origin access control is being used by distribution {user}."),
                )
            }
            // CloudFront API, DeleteFunction: "you can't delete a function if
            // it's associated with a cache behavior"; as with access controls,
            // a deleted distribution lets go of it a window later.
            "DeleteCloudFrontFunction" => {
                let suffix = format!(":function/{}", segment(&req.path, 2));
                let user = self.distribution_using(now, |d| {
                    d.functions.iter().any(|f| f.ends_with(&suffix))
                })?;
                refuse(
                    409,
                    "FunctionInUse",
                    format!("Cannot delete function, it's in use by distribution {user}."),
                )
            }
            "DeleteWebACL" => {
                let id = req.field("Id")?.to_string();
                let user =
                    self.distribution_using(now, |d| d.web_acl.ends_with(&format!("/{id}")))?;
                refuse(400, "WAFAssociatedItemException", format!("AWS WAF couldn't perform the operation because your resource is being used by another resource or it's associated with another resource ({user})."))
            }
            // --- Cognito: domains come and go in the background --------------
            "CreateUserPoolDomain" => {
                let domain = req.field("Domain")?;
                let d = self.domains.get(domain)?;
                if d.deleting_until.is_some_and(|t| now < t) {
                    return refuse(
                        400,
                        "InvalidParameterException",
                        "Domain already associated with another user pool.",
                    );
                }
                None
            }
            "DeleteUserPool" => {
                let pool = req.field("UserPoolId")?;
                let (domain, _) = self
                    .domains
                    .iter()
                    .find(|(_, d)| d.pool == pool && d.deleting_until.is_some_and(|t| now < t))?;
                refuse(
                    400,
                    "InvalidParameterException",
                    format!(
                        "User pool {pool} has a domain ({domain}) that is still being deleted."
                    ),
                )
            }
            // --- Secrets Manager ------------------------------------------------
            // DeleteSecret, ForceDeleteWithoutRecovery: "Secrets Manager performs
            // the actual deletion with an asynchronous background process … if
            // you … immediately create a secret with the same name, use
            // appropriate back off and retry logic."
            "CreateSecret" => {
                let name = req.field("Name")?;
                if self.secrets.get(name).is_some_and(|t| now < *t) {
                    return refuse(400, "InvalidRequestException", "You can't create this secret because a secret with this name is already scheduled for deletion.");
                }
                None
            }
            _ => None,
        }
    }

    fn nat_deleting_with(&self, alloc: &str, now: Instant) -> Option<String> {
        self.nats
            .iter()
            .find(|(_, n)| {
                n.allocation == alloc && n.deleted.is_some_and(|t| now < t + self.win.base)
            })
            .map(|(id, _)| id.clone())
    }

    /// emulator: the local endpoint (moto 5.2.5) has no CloudFront monitoring
    /// subscriptions (the additional metrics). The layer keeps each
    /// distribution's status and answers Create-, Get- and
    /// DeleteMonitoringSubscription as CloudFront does (CloudFront API
    /// reference): `NoSuchDistribution` for a distribution the endpoint was
    /// never asked to make or that is deleted, `NoSuchMonitoringSubscription`
    /// for one without a subscription.
    fn monitoring_subscription(&mut self, req: &Request, now: Instant) -> Option<Response> {
        const NO_SUBSCRIPTION: &str =
            "A monitoring subscription does not exist for the specified distribution.";
        if !matches!(
            req.op.as_str(),
            "CreateMonitoringSubscription"
                | "GetMonitoringSubscription"
                | "DeleteMonitoringSubscription"
        ) {
            return None;
        }
        let id = segment(&req.path, 2);
        let body = |status: &str| {
            Response::new(
                200,
                "text/xml",
                format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<MonitoringSubscription xmlns=\"http://cloudfront.amazonaws.com/doc/2020-05-31/\"><RealtimeMetricsSubscriptionConfig><RealtimeMetricsSubscriptionStatus>{status}</RealtimeMetricsSubscriptionStatus></RealtimeMetricsSubscriptionConfig></MonitoringSubscription>"),
            )
        };
        let refused = |code: &'static str, message: String| {
            error_response(
                req,
                &Refusal {
                    status: 404,
                    code,
                    message,
                },
            )
        };
        let Some(d) = self
            .distributions
            .get_mut(&id)
            .filter(|d| d.deleted.is_none_or(|t| now < t))
        else {
            return Some(refused(
                "NoSuchDistribution",
                format!("The specified distribution does not exist: {id}"),
            ));
        };
        Some(match req.op.as_str() {
            "CreateMonitoringSubscription" => {
                let status = xml_first(&req.body_text(), "RealtimeMetricsSubscriptionStatus")
                    .unwrap_or_else(|| "Disabled".into());
                d.monitoring = Some(status.clone());
                self.effects.push(format!(
                    "CreateMonitoringSubscription {id} answered: {status}"
                ));
                body(&status)
            }
            "GetMonitoringSubscription" => match &d.monitoring {
                Some(status) => body(status),
                None => refused("NoSuchMonitoringSubscription", NO_SUBSCRIPTION.into()),
            },
            _ => match d.monitoring.take() {
                Some(_) => Response::new(204, "text/xml", String::new()),
                None => refused("NoSuchMonitoringSubscription", NO_SUBSCRIPTION.into()),
            },
        })
    }

    /// emulator: the local endpoint (moto 5.2.5) has no CloudWatch Logs
    /// Insights saved queries (query definitions). The layer keeps them per
    /// region and answers PutQueryDefinition, DescribeQueryDefinitions and
    /// DeleteQueryDefinition as CloudWatch Logs does (CloudWatch Logs API
    /// reference): a put without `queryDefinitionId` makes one (a retry with
    /// the same `clientToken` answers the same id), a put with it replaces
    /// its name, query and log groups; descriptions are filtered by name
    /// prefix, in name order, `maxResults` (default 1000) at a time with a
    /// `nextToken`; an id unknown in the region is `ResourceNotFoundException`.
    fn query_definition(&mut self, req: &Request) -> Option<Response> {
        const NOT_FOUND: &str = "The specified query definition does not exist.";
        let logs = header(&req.head, "x-amz-target").is_some_and(|t| t.starts_with("Logs_"));
        if !logs
            || !matches!(
                req.op.as_str(),
                "PutQueryDefinition" | "DescribeQueryDefinitions" | "DeleteQueryDefinition"
            )
        {
            return None;
        }
        let region = req.region().unwrap_or("us-east-1").to_string();
        let refused = |code: &'static str, message: String| {
            error_response(
                req,
                &Refusal {
                    status: 400,
                    code,
                    message,
                },
            )
        };
        let answer =
            |v: serde_json::Value| Response::new(200, "application/x-amz-json-1.1", v.to_string());
        let invalid = |field: &str, constraint: String| {
            refused(
                "InvalidParameterException",
                format!("1 validation error detected: Value at '{field}' failed to satisfy constraint: {constraint}"),
            )
        };
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Some(match req.op.as_str() {
            "PutQueryDefinition" => {
                let name = req.field("name").unwrap_or_default();
                let query = req.field("queryString").unwrap_or_default();
                for (field, value, max) in [("name", name, 255), ("queryString", query, 10000)] {
                    if value.is_empty() || value.chars().count() > max {
                        return Some(invalid(
                            field,
                            format!("Member must have length between 1 and {max}"),
                        ));
                    }
                }
                let token = req.field("clientToken").map(String::from);
                let retried = self
                    .query_definitions
                    .iter()
                    .find(|(_, d)| d.region == region && token.is_some() && d.client_token == token)
                    .map(|(id, _)| id.clone());
                let id = match (req.field("queryDefinitionId"), retried) {
                    (Some(id), _) => {
                        if self
                            .query_definitions
                            .get(id)
                            .is_none_or(|d| d.region != region)
                        {
                            return Some(refused("ResourceNotFoundException", NOT_FOUND.into()));
                        }
                        id.to_string()
                    }
                    (None, Some(id)) => id,
                    (None, None) => {
                        self.query_ids += 1;
                        let h = format!("{:020x}{:012x}", since_epoch.as_nanos(), self.query_ids);
                        format!(
                            "{}-{}-{}-{}-{}",
                            &h[..8],
                            &h[8..12],
                            &h[12..16],
                            &h[16..20],
                            &h[20..32]
                        )
                    }
                };
                let log_groups: Vec<String> = req.json["logGroupNames"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|g| g.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default();
                self.query_definitions.insert(
                    id.clone(),
                    QueryDefinition {
                        region,
                        name: name.into(),
                        query_string: query.into(),
                        log_groups,
                        language: req.field("queryLanguage").unwrap_or("CWLI").into(),
                        last_modified: since_epoch.as_millis() as u64,
                        client_token: token,
                    },
                );
                self.effects
                    .push(format!("PutQueryDefinition {name} answered: {id}"));
                answer(json!({ "queryDefinitionId": id }))
            }
            "DescribeQueryDefinitions" => {
                let prefix = req.field("queryDefinitionNamePrefix").unwrap_or_default();
                let language = req.field("queryLanguage");
                let max = match req.json.get("maxResults").filter(|v| !v.is_null()) {
                    None => Some(1000),
                    Some(v) => v.as_u64().filter(|m| (1..=1000).contains(m)),
                };
                let Some(max) = max else {
                    return Some(invalid(
                        "maxResults",
                        "Member must have value between 1 and 1000".into(),
                    ));
                };
                let start = match req.field("nextToken").map(str::parse::<usize>) {
                    None => 0,
                    Some(Ok(i)) => i,
                    Some(Err(_)) => {
                        return Some(refused(
                            "InvalidParameterException",
                            "The specified nextToken is invalid.".into(),
                        ))
                    }
                };
                let mut found: Vec<(&String, &QueryDefinition)> = self
                    .query_definitions
                    .iter()
                    .filter(|(_, d)| {
                        d.region == region
                            && d.name.starts_with(prefix)
                            && language.is_none_or(|l| l == d.language)
                    })
                    .collect();
                // Stable: the same names stay in id order.
                found.sort_by_key(|(_, d)| d.name.clone());
                let end = start.saturating_add(max as usize).min(found.len());
                let page: Vec<serde_json::Value> = found
                    .get(start..end)
                    .unwrap_or_default()
                    .iter()
                    .map(|(id, d)| {
                        json!({
                            "queryDefinitionId": id,
                            "name": d.name,
                            "queryString": d.query_string,
                            "lastModified": d.last_modified,
                            "logGroupNames": d.log_groups,
                            "queryLanguage": d.language,
                        })
                    })
                    .collect();
                let mut v = json!({ "queryDefinitions": page });
                if end < found.len() {
                    v["nextToken"] = json!(end.to_string());
                }
                answer(v)
            }
            _ => {
                let id = req.field("queryDefinitionId").unwrap_or_default();
                if self
                    .query_definitions
                    .get(id)
                    .is_none_or(|d| d.region != region)
                {
                    return Some(refused("ResourceNotFoundException", NOT_FOUND.into()));
                }
                self.query_definitions.remove(id);
                self.effects
                    .push(format!("DeleteQueryDefinition {id} answered: success"));
                answer(json!({ "success": true }))
            }
        })
    }

    fn distribution_using(
        &self,
        now: Instant,
        uses: impl Fn(&Distribution) -> bool,
    ) -> Option<String> {
        self.distributions
            .iter()
            .find(|(_, d)| uses(d) && d.deleted.is_none_or(|t| now < t + self.win.base))
            .map(|(id, _)| id.clone())
    }

    fn cluster_delete_refused(&self, id: &str, now: Instant) -> Option<Refusal> {
        let cluster = self.clusters.get(id)?;
        if cluster.deleting_until.is_some() {
            return refuse(
                400,
                "InvalidDBClusterStateFault",
                format!("DB cluster {id} is already being deleted."),
            );
        }
        if let Some(status) = cluster.phases.now(now).filter(|s| *s != "backing-up") {
            return refuse(
                400,
                "InvalidDBClusterStateFault",
                format!("DB cluster {id} is not currently in the available state ({status})."),
            );
        }
        let busy = self
            .instances
            .values()
            .any(|i| i.cluster == id && !i.gone && i.deleting_until.is_none());
        if busy {
            return refuse(
                400,
                "InvalidDBClusterStateFault",
                "Cluster cannot be deleted, it still contains DB instances in non-deleting state.",
            );
        }
        None
    }

    /// An RDS delete is held back: AWS answers at once, the part is
    /// `deleting` for a window and gone after it. It reads as `deleting` until
    /// the delete has gone out ([`send_due`] clears it), not only until it is
    /// due: between the two the endpoint still has it, and a read there would
    /// show it `available` again, which AWS never does.
    fn hold(&mut self, req: &Request, now: Instant) -> Option<Response> {
        let win = self.win.base;
        match req.op.as_str() {
            "DeleteDBInstance" => {
                let id = req.param("DBInstanceIdentifier")?.to_string();
                let db = self.instances.get_mut(&id)?;
                let due = now + win;
                db.deleting_until = Some(due);
                db.phases.0 = vec![("deleting".into(), until_sent(now))];
                self.held.push(Held {
                    due,
                    req: req.clone(),
                    instance: Some(id.clone()),
                    cluster: None,
                });
                self.effects
                    .push(format!("DeleteDBInstance {id} held: deleting"));
                Some(rds_answer("DeleteDBInstance", &format!("<DBInstance><DBInstanceIdentifier>{id}</DBInstanceIdentifier><DBInstanceStatus>deleting</DBInstanceStatus></DBInstance>")))
            }
            "DeleteDBCluster" => {
                let id = req.param("DBClusterIdentifier")?.to_string();
                let last_member = self
                    .instances
                    .values()
                    .filter(|i| i.cluster == id)
                    .filter_map(|i| i.deleting_until)
                    .max()
                    .unwrap_or(now);
                let due = last_member.max(now) + win;
                let db = self.clusters.get_mut(&id)?;
                db.deleting_until = Some(due);
                db.phases.0 = vec![("deleting".into(), until_sent(now))];
                self.held.push(Held {
                    due,
                    req: req.clone(),
                    instance: None,
                    cluster: Some(id.clone()),
                });
                self.effects
                    .push(format!("DeleteDBCluster {id} held: deleting"));
                Some(rds_answer("DeleteDBCluster", &format!("<DBCluster><DBClusterIdentifier>{id}</DBClusterIdentifier><Status>deleting</Status></DBCluster>")))
            }
            _ => None,
        }
    }

    /// After the endpoint answered `res` (successfully): what the layer
    /// records, and the status fields it sets while a window is open.
    fn after(&mut self, req: &Request, res: &mut Response, now: Instant) {
        let w = self.win.base;
        let text = res.text();
        match req.op.as_str() {
            "CreateSubnet" => {
                if let (Some(id), Some(vpc)) = (xml_first(&text, "subnetId"), req.param("VpcId")) {
                    self.subnet_vpc.insert(id, vpc.to_string());
                }
            }
            "CreateSecurityGroup" => {
                if let (Some(id), Some(vpc)) = (xml_first(&text, "groupId"), req.param("VpcId")) {
                    self.group_vpc.insert(id, vpc.to_string());
                }
            }
            // EC2 User Guide, "NAT gateways": a new gateway is `pending`, then
            // `available`; a deleted one `deleting`, then `deleted`.
            "CreateNatGateway" => {
                if let Some(id) = xml_first(&text, "natGatewayId") {
                    self.nats.insert(
                        id.clone(),
                        Nat {
                            subnet: req.param("SubnetId").unwrap_or_default().into(),
                            allocation: req.param("AllocationId").unwrap_or_default().into(),
                            created: now,
                            deleted: None,
                        },
                    );
                    res.set_text(set_after(&text, "natGatewayId", &id, "state", "pending"));
                    self.effects.push(format!("CreateNatGateway {id}: pending"));
                }
            }
            "DeleteNatGateway" => {
                if let Some(id) = req.param("NatGatewayId") {
                    if let Some(nat) = self.nats.get_mut(id) {
                        nat.deleted = Some(now);
                        let subnet = nat.subnet.clone();
                        self.linger(
                            format!("NAT gateway {id}"),
                            vec![subnet],
                            vec![],
                            true,
                            now,
                            now + w,
                        );
                    }
                }
            }
            "DescribeNatGateways" => {
                let mut body = text.clone();
                for (id, nat) in &self.nats {
                    if now < nat.created + w {
                        body = set_after(&body, "natGatewayId", id, "state", "pending");
                    } else if nat.deleted.is_some_and(|t| now < t + w) {
                        body = set_after(&body, "natGatewayId", id, "state", "deleting");
                    }
                }
                if body != text {
                    self.effects
                        .push("DescribeNatGateways: a gateway still pending or deleting".into());
                    res.set_text(body);
                }
            }
            "CreateLoadBalancer" => {
                if let Some(arn) = xml_first(&text, "LoadBalancerArn") {
                    let public = req.param("Scheme") != Some("internal");
                    self.load_balancers.insert(
                        arn,
                        (
                            req.members("Subnets"),
                            req.members("SecurityGroups"),
                            public,
                        ),
                    );
                }
            }
            // Elastic Load Balancing's interfaces go minutes after the balancer.
            "DeleteLoadBalancer" => {
                let arn = req.param("LoadBalancerArn").unwrap_or_default();
                if let Some((subnets, groups, public)) = self.load_balancers.remove(arn) {
                    self.linger(
                        format!("load balancer {arn}"),
                        subnets,
                        groups,
                        public,
                        now,
                        now + self.win.times(2),
                    );
                }
            }
            "CreateDBSubnetGroup" => {
                if let Some(name) = req.param("DBSubnetGroupName") {
                    self.subnet_groups
                        .insert(name.into(), req.members("SubnetIds"));
                }
            }
            // RDS User Guide, "Viewing DB cluster status": creating, then
            // backing-up, then available; modifying after a change.
            "CreateDBCluster" => {
                if let Some(id) = req.param("DBClusterIdentifier") {
                    let mut db = Db {
                        subnet_group: req.param("DBSubnetGroupName").unwrap_or_default().into(),
                        groups: req.members("VpcSecurityGroupIds"),
                        ..Db::default()
                    };
                    db.phases.set(now, &[("creating", w), ("backing-up", w)]);
                    self.clusters.insert(id.into(), db);
                    res.set_text(set_after(
                        &text,
                        "DBClusterIdentifier",
                        id,
                        "Status",
                        "creating",
                    ));
                }
            }
            "CreateDBInstance" => {
                if let Some(id) = req.param("DBInstanceIdentifier") {
                    let mut db = Db {
                        cluster: req.param("DBClusterIdentifier").unwrap_or_default().into(),
                        ..Db::default()
                    };
                    db.phases.set(now, &[("creating", w), ("backing-up", w)]);
                    self.instances.insert(id.into(), db);
                    res.set_text(set_after(
                        &text,
                        "DBInstanceIdentifier",
                        id,
                        "DBInstanceStatus",
                        "creating",
                    ));
                }
            }
            "ModifyDBCluster" => {
                if let Some(db) = req
                    .param("DBClusterIdentifier")
                    .and_then(|id| self.clusters.get_mut(id))
                {
                    db.phases.set(now, &[("modifying", w)]);
                }
            }
            "ModifyDBInstance" => {
                let immediately = req.param("ApplyImmediately") == Some("true");
                if let Some(db) = req
                    .param("DBInstanceIdentifier")
                    .and_then(|id| self.instances.get_mut(id))
                {
                    if immediately {
                        db.phases.set(now, &[("modifying", w)]);
                    }
                }
            }
            "DescribeDBClusters" => {
                let mut body = text.clone();
                for (id, db) in &self.clusters {
                    if let Some(status) = db.phases.now(now) {
                        body = set_after(&body, "DBClusterIdentifier", id, "Status", status);
                    }
                }
                res.set_text(body);
            }
            "DescribeDBInstances" => {
                let mut body = text.clone();
                for (id, db) in &self.instances {
                    if let Some(status) = db.phases.now(now) {
                        body = set_after(
                            &body,
                            "DBInstanceIdentifier",
                            id,
                            "DBInstanceStatus",
                            status,
                        );
                    }
                }
                res.set_text(body);
            }
            "CreateRole" => {
                if let Some(arn) = xml_first(&text, "Arn") {
                    self.roles.insert(arn, now);
                }
                if let Some(name) = req.param("RoleName") {
                    self.role_changed.insert(name.to_string(), now);
                }
            }
            // A permission the role did not have takes time to propagate; the
            // same document or policy given again changes nothing.
            "PutRolePolicy" | "AttachRolePolicy" => {
                if let Some(name) = req.param("RoleName") {
                    let what = if req.op == "PutRolePolicy" {
                        format!(
                            "{}={}",
                            req.param("PolicyName").unwrap_or_default(),
                            req.param("PolicyDocument").unwrap_or_default()
                        )
                    } else {
                        req.param("PolicyArn").unwrap_or_default().to_string()
                    };
                    let key = format!("{name} {}", req.op);
                    let had = self.role_permissions.entry(key).or_default();
                    if !had.contains(&what) {
                        had.push(what);
                        self.role_changed.insert(name.to_string(), now);
                    }
                }
            }
            "RegisterTaskDefinition" => {
                let v = res.json();
                if let (Some(td), Some(role)) = (
                    v["taskDefinition"]["taskDefinitionArn"].as_str(),
                    req.json["executionRoleArn"].as_str(),
                ) {
                    self.execution_roles
                        .insert(td.to_string(), role.to_string());
                }
            }
            "CreateFunction" => {
                if let Some(name) = req.field("FunctionName") {
                    self.functions.insert(name.into(), ("Pending", now + w));
                    let mut v = res.json();
                    v["State"] = json!("Pending");
                    res.set_json(&v);
                }
            }
            "UpdateFunctionCode" | "UpdateFunctionConfiguration" => {
                let name = function_name(&segment(&req.path, 2));
                self.functions.insert(name, ("InProgress", now + w));
                let mut v = res.json();
                v["LastUpdateStatus"] = json!("InProgress");
                res.set_json(&v);
            }
            "GetFunction" | "GetFunctionConfiguration" => {
                let name = function_name(&segment(&req.path, 2));
                if let Some((kind, until)) = self.functions.get(&name).filter(|(_, t)| now < *t) {
                    let _ = until;
                    let mut v = res.json();
                    let conf = if req.op == "GetFunction" {
                        &mut v["Configuration"]
                    } else {
                        &mut v
                    };
                    if *kind == "Pending" {
                        conf["State"] = json!("Pending");
                    }
                    conf["LastUpdateStatus"] = json!("InProgress");
                    res.set_json(&v);
                }
            }
            "CreateService" => {
                if let Some(name) = req.field("serviceName") {
                    let vpc = &req.json["networkConfiguration"]["awsvpcConfiguration"];
                    let list = |k: &str| -> Vec<String> {
                        vpc[k]
                            .as_array()
                            .map(|a| {
                                a.iter()
                                    .filter_map(|v| v.as_str().map(String::from))
                                    .collect()
                            })
                            .unwrap_or_default()
                    };
                    self.services.insert(
                        service_key(req.field("cluster").unwrap_or("default"), name),
                        Service {
                            subnets: list("subnets"),
                            groups: list("securityGroups"),
                            public: vpc["assignPublicIp"].as_str() == Some("ENABLED"),
                            created: now,
                            draining_until: None,
                            task_definition: res.json()["service"]["taskDefinition"]
                                .as_str()
                                .unwrap_or_default()
                                .to_string(),
                            rollout: None,
                            failing: None,
                        },
                    );
                    let key = service_key(req.field("cluster").unwrap_or("default"), name);
                    self.mark_failing(&key, now);
                }
            }
            "UpdateService" => {
                let key = service_key(
                    req.field("cluster").unwrap_or("default"),
                    req.field("service").unwrap_or_default(),
                );
                let v = res.json();
                let svc = &v["service"];
                let to = svc["taskDefinition"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                if let Some(s) = self.services.get_mut(&key) {
                    if !s.task_definition.is_empty() && !to.is_empty() && s.task_definition != to {
                        let conf = &svc["deploymentConfiguration"];
                        s.rollout = Some(Rollout {
                            from: s.task_definition.clone(),
                            to: to.clone(),
                            min_pct: conf["minimumHealthyPercent"].as_i64().unwrap_or(100),
                            max_pct: conf["maximumPercent"].as_i64().unwrap_or(200),
                            started: now,
                        });
                        self.effects
                            .push(format!("UpdateService {key}: rolling to {to}"));
                    }
                    if !to.is_empty() {
                        s.task_definition = to;
                    }
                }
                self.mark_failing(&key, now);
            }
            "DeleteService" => {
                let key = service_key(
                    req.field("cluster").unwrap_or("default"),
                    req.field("service").unwrap_or_default(),
                );
                if let Some(s) = self.services.get_mut(&key) {
                    s.draining_until = Some(now + w);
                    let (subnets, groups, public) = (s.subnets.clone(), s.groups.clone(), s.public);
                    self.linger(
                        format!("tasks of ECS service {key}"),
                        subnets,
                        groups,
                        public,
                        now,
                        now + self.win.times(2),
                    );
                    let mut v = res.json();
                    v["service"]["status"] = json!("DRAINING");
                    res.set_json(&v);
                    self.effects.push(format!("DeleteService {key}: draining"));
                }
            }
            "DescribeServices" => {
                let cluster = last_segment(req.field("cluster").unwrap_or("default")).to_string();
                let mut v = res.json();
                if let Some(list) = v["services"].as_array_mut() {
                    for s in list {
                        let name = s["serviceName"].as_str().unwrap_or_default().to_string();
                        let draining = self
                            .services
                            .get(&service_key(&cluster, &name))
                            .and_then(|x| x.draining_until)
                            .is_some_and(|t| now < t);
                        if draining {
                            s["status"] = json!("DRAINING");
                        }
                        let key = service_key(&cluster, &name);
                        let failing = self.services.get(&key).and_then(|x| x.failing.clone());
                        if let Some(td) = failing.filter(|td| s["taskDefinition"] == *td) {
                            // ECS Developer Guide, deployment circuit breaker:
                            // tasks that fail to start mark the deployment FAILED.
                            let desired = s["desiredCount"].as_i64().unwrap_or_default();
                            // The endpoint keeps a deployment's first task
                            // definition after an update: the PRIMARY one is this one.
                            if let Some(ds) = s["deployments"].as_array_mut() {
                                for d in ds.iter_mut().filter(|d| d["status"] == "PRIMARY") {
                                    d["taskDefinition"] = json!(td);
                                    d["rolloutState"] = json!("FAILED");
                                    d["rolloutStateReason"] = json!(
                                        "ECS deployment circuit breaker: tasks failed to start."
                                    );
                                    d["failedTasks"] = json!(desired.max(1));
                                    d["runningCount"] = json!(0);
                                }
                            }
                            s["runningCount"] = json!(0);
                            continue;
                        }
                        let rollout = self.services.get(&key).and_then(|x| x.rollout.clone());
                        let desired = s["desiredCount"].as_i64().unwrap_or_default();
                        let counts = rollout
                            .as_ref()
                            .and_then(|r| r.counts(desired, now, w).map(|c| (r, c)));
                        // What the endpoint says of a deployment that failed is kept.
                        let failed = s["deployments"].as_array().is_some_and(|ds| {
                            ds.iter().any(|d| {
                                d["rolloutState"] == "FAILED"
                                    || d["failedTasks"].as_i64().unwrap_or(0) > 0
                            })
                        });
                        if let (Some((r, (new_running, new_pending, old_running))), false) =
                            (counts, failed)
                        {
                            let primary = s["deployments"]
                                .as_array()
                                .and_then(|ds| ds.iter().find(|d| d["status"] == "PRIMARY"))
                                .cloned()
                                .unwrap_or_else(|| json!({}));
                            let mut new = primary.clone();
                            new["status"] = json!("PRIMARY");
                            new["taskDefinition"] = json!(r.to);
                            new["desiredCount"] = json!(desired);
                            new["runningCount"] = json!(new_running);
                            new["pendingCount"] = json!(new_pending);
                            new["rolloutState"] = json!("IN_PROGRESS");
                            new["rolloutStateReason"] = json!("ECS deployment in progress.");
                            let mut old = primary;
                            old["id"] = json!(format!("ecs-svc/old-{}", name));
                            old["status"] = json!("ACTIVE");
                            old["taskDefinition"] = json!(r.from);
                            old["desiredCount"] = json!(old_running);
                            old["runningCount"] = json!(old_running);
                            old["pendingCount"] = json!(0);
                            old["rolloutState"] = json!("COMPLETED");
                            s["taskDefinition"] = json!(r.to);
                            s["runningCount"] = json!(new_running + old_running);
                            s["pendingCount"] = json!(new_pending);
                            s["deployments"] = json!([new, old]);
                            self.effects.push(format!(
                                "DescribeServices {key}: rolling, {} running of {desired} ({new_running} new, {old_running} old)",
                                new_running + old_running
                            ));
                        }
                    }
                }
                res.set_json(&v);
            }
            "CreateDistribution" | "UpdateDistribution" => {
                let id = if req.op == "CreateDistribution" {
                    xml_first(&text, "Id")
                } else {
                    Some(segment(&req.path, 2))
                };
                if let Some(id) = id {
                    let body = req.body_text();
                    let d = self.distributions.entry(id.clone()).or_default();
                    d.in_progress_until = Some(now + w);
                    d.enabled =
                        child_of(&body, "DistributionConfig", "Enabled").as_deref() == Some("true");
                    // emulator: the endpoint's GetDistributionConfig has no
                    // origin's OriginAccessControlId and no FunctionAssociations,
                    // so an update built from it (the disable before a
                    // delete) names none, where on AWS it names what the
                    // distribution has: an update that names none keeps them.
                    let access_controls: Vec<String> = xml_all(&body, "OriginAccessControlId")
                        .into_iter()
                        .filter(|s| !s.is_empty())
                        .collect();
                    if req.op == "CreateDistribution" || !access_controls.is_empty() {
                        d.access_controls = access_controls;
                    }
                    let functions = xml_all(&body, "FunctionARN");
                    if req.op == "CreateDistribution" || !functions.is_empty() {
                        d.functions = functions;
                    }
                    d.web_acl =
                        child_of(&body, "DistributionConfig", "WebACLId").unwrap_or_default();
                    res.set_text(set_after(&text, "Id", &id, "Status", "InProgress"));
                }
            }
            "GetDistribution" | "ListDistributions" => {
                let mut body = text.clone();
                for (id, d) in &self.distributions {
                    if d.in_progress_until.is_some_and(|t| now < t) {
                        body = set_after(&body, "Id", id, "Status", "InProgress");
                    }
                }
                res.set_text(body);
            }
            "DeleteDistribution" => {
                if let Some(d) = self.distributions.get_mut(&segment(&req.path, 2)) {
                    d.deleted = Some(now);
                }
            }
            // Route53 API, GetChange: PENDING until the change reaches every
            // authoritative server, then INSYNC.
            "ChangeResourceRecordSets" => {
                if let Some(id) = xml_first(&text, "Id") {
                    self.changes
                        .insert(id.trim_start_matches("/change/").to_string(), now + w);
                    res.set_text(
                        text.replace("<Status>INSYNC</Status>", "<Status>PENDING</Status>"),
                    );
                }
            }
            "GetChange" => {
                let id = segment(&req.path, 2);
                if self.changes.get(&id).is_some_and(|t| now < *t) {
                    res.set_text(
                        text.replace("<Status>INSYNC</Status>", "<Status>PENDING</Status>"),
                    );
                }
            }
            // Cognito Developer Guide, "Using the Amazon Cognito prefix
            // domain": the domain is CREATING for a while, and DELETING.
            "CreateUserPoolDomain" => {
                if let (Some(domain), Some(pool)) = (req.field("Domain"), req.field("UserPoolId")) {
                    self.domains.insert(
                        domain.into(),
                        Domain {
                            pool: pool.into(),
                            creating_until: now + w,
                            deleting_until: None,
                        },
                    );
                }
            }
            "DeleteUserPoolDomain" => {
                if let Some(d) = req.field("Domain").and_then(|d| self.domains.get_mut(d)) {
                    d.deleting_until = Some(now + w);
                }
            }
            "DescribeUserPoolDomain" => {
                let Some(name) = req.field("Domain") else {
                    return;
                };
                let Some(d) = self.domains.get(name) else {
                    return;
                };
                let mut v = res.json();
                if d.deleting_until.is_some_and(|t| now < t) {
                    v["DomainDescription"] =
                        json!({"Domain": name, "UserPoolId": d.pool, "Status": "DELETING"});
                } else if now < d.creating_until && v["DomainDescription"]["Domain"].is_string() {
                    v["DomainDescription"]["Status"] = json!("CREATING");
                } else {
                    return;
                }
                res.set_json(&v);
            }
            "DeleteSecret" => {
                let forced = req.json["ForceDeleteWithoutRecovery"].as_bool() == Some(true);
                if let (true, Some(name)) = (forced, res.json()["Name"].as_str()) {
                    self.secrets.insert(name.into(), now + w);
                }
            }
            _ => {}
        }
    }
}

fn rds_answer(action: &str, inner: &str) -> Response {
    Response::new(
        200,
        "text/xml",
        format!("<{action}Response xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\"><{action}Result>{inner}</{action}Result><ResponseMetadata><RequestId>realistic-layer</RequestId></ResponseMetadata></{action}Response>"),
    )
}

/// `cluster/name`, whatever form the cluster is named in.
fn service_key(cluster: &str, name: &str) -> String {
    format!("{}/{}", last_segment(cluster), last_segment(name))
}

fn last_segment(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

/// A function's name from a name or an ARN in a Lambda path.
fn function_name(s: &str) -> String {
    if s.starts_with("arn:") {
        s.split(':').nth(6).unwrap_or(s).to_string()
    } else {
        s.to_string()
    }
}

fn xml_all(text: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(&open) {
        rest = &rest[i + open.len()..];
        let Some(j) = rest.find(&close) else { break };
        out.push(rest[..j].to_string());
        rest = &rest[j..];
    }
    out
}

fn xml_first(text: &str, tag: &str) -> Option<String> {
    xml_all(text, tag).into_iter().next()
}

/// The text of `<tag>` directly under a `<parent>` element.
fn child_of(text: &str, parent: &str, tag: &str) -> Option<String> {
    let mut depth = 0i32;
    let mut inside: Option<i32> = None;
    let mut rest = text;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest.find('>')?;
        let inner = &rest[..end];
        if inner.starts_with('?') || inner.starts_with('!') || inner.ends_with('/') {
            continue;
        }
        if inner.starts_with('/') {
            depth -= 1;
            continue;
        }
        depth += 1;
        let name = inner.split_whitespace().next().unwrap_or_default();
        match inside {
            None if name == parent => inside = Some(depth),
            Some(d) if depth == d + 1 && name == tag => {
                let body = &rest[end + 1..];
                return body.find('<').map(|j| body[..j].to_string());
            }
            _ => {}
        }
    }
    None
}

/// Sets the text of the first `<state_tag>` after each `<id_tag>id</id_tag>`.
fn set_after(text: &str, id_tag: &str, id: &str, state_tag: &str, value: &str) -> String {
    let marker = format!("<{id_tag}>{id}</{id_tag}>");
    let (open, close) = (format!("<{state_tag}>"), format!("</{state_tag}>"));
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(&marker) {
        let after = i + marker.len();
        out.push_str(&rest[..after]);
        rest = &rest[after..];
        if let (Some(a), Some(b)) = (rest.find(&open), rest.find(&close)) {
            if a < b {
                out.push_str(&rest[..a + open.len()]);
                out.push_str(value);
                rest = &rest[b..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn error_response(req: &Request, r: &Refusal) -> Response {
    crate::http::aws_error(req, r.status, r.code, &r.message)
}

/// Serves one connection: refuse, hold back, or forward and rewrite.
pub fn serve(
    mut conn: TcpStream,
    upstream: &str,
    world: &Arc<Mutex<World>>,
) -> std::io::Result<()> {
    let req = read_request(&mut conn)?;
    let latency = world.lock().map(|w| w.win.latency).unwrap_or_default();
    std::thread::sleep(latency);
    let now = Instant::now();
    let early = {
        let mut w = world.lock().expect("layer state");
        match w.before(&req, now) {
            Some(r) => {
                w.effects
                    .push(format!("{} refused: {}: {}", req.op, r.code, r.message));
                Some(error_response(&req, &r))
            }
            None => w.hold(&req, now),
        }
    };
    if let Some(res) = early {
        return res.write_to(&mut conn);
    }
    if req.op == "PublishFunction" {
        return publish_function(upstream, &req)?.write_to(&mut conn);
    }
    let kept = {
        let mut w = world.lock().expect("layer state");
        w.monitoring_subscription(&req, now)
            .or_else(|| w.query_definition(&req))
    };
    if let Some(res) = kept {
        return res.write_to(&mut conn);
    }
    let mut res = forward(upstream, &req)?;
    if res.ok() {
        let mut w = world.lock().expect("layer state");
        w.after(&req, &mut res, Instant::now());
    }
    res.write_to(&mut conn)
}

/// emulator: the local endpoint (moto 5.2.5) has no PublishFunction. The
/// layer answers it as CloudFront does, from the endpoint's own description
/// of the function: its summary, now at the LIVE stage and not yet associated
/// (CloudFront API, PublishFunction). A function the endpoint does not have
/// gets the endpoint's own NoSuchFunctionExists.
fn publish_function(upstream: &str, req: &Request) -> std::io::Result<Response> {
    let name = segment(&req.path, 2);
    let mut head = format!("GET /2020-05-31/function/{name}/describe HTTP/1.1\r\n");
    for line in req.head.split("\r\n").skip(1).filter(|l| !l.is_empty()) {
        let key = line
            .split(':')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if key != "content-length" && key != "transfer-encoding" && key != "content-type" {
            head.push_str(line);
            head.push_str("\r\n");
        }
    }
    let describe = Request {
        head,
        body: Vec::new(),
        method: "GET".into(),
        path: format!("/2020-05-31/function/{name}/describe"),
        op: "DescribeFunction".into(),
        form: BTreeMap::new(),
        json: serde_json::Value::Null,
    };
    let mut res = forward(upstream, &describe)?;
    if res.ok() {
        let text = res
            .text()
            .replace("<Stage>DEVELOPMENT</Stage>", "<Stage>LIVE</Stage>")
            .replace(
                "<Status>UNPUBLISHED</Status>",
                "<Status>UNASSOCIATED</Status>",
            );
        res.set_text(text);
        res.headers.retain(|(k, _)| !k.eq_ignore_ascii_case("etag"));
    }
    Ok(res)
}

/// A held part's `deleting` lasts until its delete is sent, whenever that is.
fn until_sent(now: Instant) -> Instant {
    now + Duration::from_secs(24 * 3600)
}

/// Sends the held-back calls that are due, and marks their parts gone; an
/// RDS instance's interfaces linger a window after it.
pub fn send_due(upstream: &str, world: &Arc<Mutex<World>>) {
    let due: Vec<Held> = {
        let Ok(mut w) = world.lock() else { return };
        let now = Instant::now();
        let (due, later) = std::mem::take(&mut w.held)
            .into_iter()
            .partition(|h| h.due <= now);
        w.held = later;
        due
    };
    for h in due {
        let res = forward(upstream, &h.req);
        let Ok(mut w) = world.lock() else { return };
        let now = Instant::now();
        let ok = res.as_ref().is_ok_and(Response::ok);
        w.effects.push(format!(
            "{} sent after its window: {}",
            h.req.op,
            if ok { "done" } else { "failed" }
        ));
        if let Some(id) = h.instance {
            let cluster = w
                .instances
                .get(&id)
                .map(|i| i.cluster.clone())
                .unwrap_or_default();
            let (groups, group_name) = w
                .clusters
                .get(&cluster)
                .map(|c| (c.groups.clone(), c.subnet_group.clone()))
                .unwrap_or_default();
            let subnets = w
                .subnet_groups
                .get(&group_name)
                .cloned()
                .unwrap_or_default();
            // Only the instance that was held: one of the same name made
            // since (the delete went out before this lock) is another.
            if let Some(i) = w
                .instances
                .get_mut(&id)
                .filter(|i| i.deleting_until == Some(h.due))
            {
                i.gone = ok;
                i.phases.0.clear();
            }
            let until = now + w.win.base;
            w.linger(
                format!("DB instance {id}"),
                subnets,
                groups,
                false,
                now,
                until,
            );
        }
        if let Some(id) = h.cluster {
            if let Some(c) = w
                .clusters
                .get_mut(&id)
                .filter(|c| c.deleting_until == Some(h.due))
            {
                c.gone = ok;
                c.phases.0.clear();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A rolling update keeps what its deployment configuration promises:
    /// with 100 %/200 % never fewer than the desired count run; with 50 %/100 %
    /// ECS stops half the old tasks first, and the count dips.
    #[test]
    fn a_rollout_keeps_the_count_its_configuration_promises() {
        let w = Duration::from_secs(2);
        let start = Instant::now();
        let rollout = |min_pct, max_pct| Rollout {
            from: "td:1".into(),
            to: "td:2".into(),
            min_pct,
            max_pct,
            started: start,
        };
        let at = |ms: u64| start + Duration::from_millis(ms);
        let safe = rollout(100, 200);
        for t in [0, 1000, 2500, 3900] {
            let (new, _, old) = safe.counts(5, at(t), w).expect("rolling");
            assert!(new + old >= 5, "at {t} ms: {new} new + {old} old");
        }
        assert_eq!(
            safe.counts(5, at(4100), w),
            None,
            "complete after two windows"
        );
        let risky = rollout(50, 100);
        let (new, pending, old) = risky.counts(2, at(0), w).expect("rolling");
        assert_eq!(
            (new, pending, old),
            (0, 1, 1),
            "half the old tasks stop first"
        );
    }

    #[test]
    fn a_status_is_set_after_its_part_s_id_only() {
        let xml = "<item><natGatewayId>nat-1</natGatewayId><state>available</state></item><item><natGatewayId>nat-2</natGatewayId><state>available</state></item>";
        let out = set_after(xml, "natGatewayId", "nat-2", "state", "pending");
        assert_eq!(out, "<item><natGatewayId>nat-1</natGatewayId><state>available</state></item><item><natGatewayId>nat-2</natGatewayId><state>pending</state></item>");
    }

    #[test]
    fn enabled_is_read_from_the_distribution_config_not_its_logging() {
        let xml = "<?xml version=\"1.0\"?><DistributionConfigWithTags><DistributionConfig xmlns=\"x\"><Comment>c</Comment><Logging><Enabled>true</Enabled></Logging><Enabled>false</Enabled><Origins><Items/></Origins></DistributionConfig></DistributionConfigWithTags>";
        assert_eq!(
            child_of(xml, "DistributionConfig", "Enabled").as_deref(),
            Some("false")
        );
    }

    #[test]
    fn phases_follow_each_other() {
        let t = Instant::now();
        let mut p = Phases::default();
        p.set(
            t,
            &[
                ("creating", Duration::from_secs(2)),
                ("backing-up", Duration::from_secs(2)),
            ],
        );
        assert_eq!(p.now(t), Some("creating"));
        assert_eq!(p.now(t + Duration::from_secs(3)), Some("backing-up"));
        assert_eq!(p.now(t + Duration::from_secs(5)), None);
    }

    /// A CloudWatch Logs call as the SDK signs it for `region`.
    fn logs_call(op: &str, region: &str, body: serde_json::Value) -> Request {
        Request {
            head: format!("POST / HTTP/1.1\r\nX-Amz-Target: Logs_20140328.{op}\r\nAuthorization: AWS4-HMAC-SHA256 Credential=test/20261206/{region}/logs/aws4_request, SignedHeaders=host, Signature=0\r\n"),
            body: body.to_string().into_bytes(),
            method: "POST".into(),
            path: "/".into(),
            op: op.into(),
            form: BTreeMap::new(),
            json: body,
        }
    }

    /// Query definitions stay in their region, are described in name order a
    /// page at a time, and an id the region does not have is
    /// ResourceNotFoundException.
    #[test]
    fn query_definitions_page_in_name_order_within_their_region() {
        let mut w = World::new(Windows::scaled(0.0));
        let mut call = |op: &str, region: &str, body: serde_json::Value| {
            w.query_definition(&logs_call(op, region, body))
                .expect("answered by the layer")
        };
        let put = |name: &str| serde_json::json!({"name": name, "queryString": "fields @message"});
        call("PutQueryDefinition", "eu-west-3", put("q/b"));
        let a = call("PutQueryDefinition", "eu-west-3", put("q/a")).json()["queryDefinitionId"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        call("PutQueryDefinition", "us-east-1", put("q/c"));
        let mut names = Vec::new();
        let mut token = serde_json::Value::Null;
        for _ in 0..5 {
            let page = call(
                "DescribeQueryDefinitions",
                "eu-west-3",
                serde_json::json!({"queryDefinitionNamePrefix": "q/", "maxResults": 1, "nextToken": token}),
            )
            .json();
            for d in page["queryDefinitions"].as_array().into_iter().flatten() {
                names.push(d["name"].as_str().unwrap_or_default().to_string());
            }
            token = page["nextToken"].clone();
            if token.is_null() {
                break;
            }
        }
        assert_eq!(names, ["q/a", "q/b"]);
        let mut elsewhere = put("q/a");
        elsewhere["queryDefinitionId"] = serde_json::json!(a);
        let res = call("PutQueryDefinition", "us-east-1", elsewhere);
        assert_eq!(
            (res.status, res.json()["__type"].as_str()),
            (400, Some("ResourceNotFoundException"))
        );
        let delete = serde_json::json!({ "queryDefinitionId": a });
        let res = call("DeleteQueryDefinition", "eu-west-3", delete.clone());
        assert_eq!(res.json()["success"], serde_json::json!(true));
        let res = call("DeleteQueryDefinition", "eu-west-3", delete);
        assert_eq!(res.status, 400, "already deleted");
    }

    /// A held RDS delete reads `deleting` until it has gone out, also past
    /// its due time: between the two the endpoint still has the instance,
    /// and a read there showed it `available` again (a reader deleted by hand
    /// was then counted as live, and never made again).
    #[test]
    fn a_held_delete_reads_deleting_until_it_is_sent() {
        let mut w = World::new(Windows::scaled(1.0));
        let t = Instant::now();
        let mut db = Db::default();
        db.phases.set(t, &[("creating", Duration::from_secs(2))]);
        w.instances.insert("db-2".into(), db);
        let req = Request {
            head: "POST / HTTP/1.1\r\n".into(),
            body: Vec::new(),
            method: "POST".into(),
            path: "/".into(),
            op: "DeleteDBInstance".into(),
            form: [("DBInstanceIdentifier".to_string(), "db-2".to_string())]
                .into_iter()
                .collect(),
            json: serde_json::Value::Null,
        };
        let t = t + Duration::from_secs(5);
        assert!(w.hold(&req, t).is_some(), "held");
        let late = t + w.win.base + Duration::from_secs(1);
        assert_eq!(w.instances["db-2"].phases.now(late), Some("deleting"));
    }
}
