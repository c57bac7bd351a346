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

    /// `FANSITE_REALISTIC_SCALE` (a number, default 1), and
    /// `FANSITE_REALISTIC_LATENCY` (seconds per call, when the latency is
    /// not to scale with the windows: `make bench` keeps AWS's ratio of a
    /// call's time to a wait's).
    pub fn from_env() -> Windows {
        let number = |name: &str| {
            std::env::var(name)
                .ok()
                .and_then(|s| s.parse::<f64>().ok())
                .filter(|n| n.is_finite())
        };
        let mut w = Windows::scaled(number("FANSITE_REALISTIC_SCALE").unwrap_or(1.0));
        if let Some(latency) = number("FANSITE_REALISTIC_LATENCY") {
            w.latency = Duration::from_secs_f64(latency.max(0.0));
        }
        w
    }

    fn times(&self, n: u32) -> Duration {
        self.base * n
    }

    /// How long after an EC2 instance starts running its SSM Agent first
    /// registers with Systems Manager (on AWS about a minute: the OS boots,
    /// the agent starts, takes the instance profile's credentials from the
    /// instance metadata and registers): one window. Until then
    /// DescribeInstanceInformation does not list the instance.
    pub fn agent_registration(&self) -> Duration {
        self.times(1)
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

/// A rolling deployment from one task definition to another (or to the same
/// one, forced), as ECS runs it within the deployment configuration's bounds
/// (ECS Developer Guide, "Rolling update"): for a window the new tasks start
/// while as many old ones keep running as `maximumPercent` leaves room for
/// (never fewer than `minimumHealthyPercent` of the desired count); for the
/// next window the new ones are running and the old ones drain; then it is
/// complete.
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
    /// When each CloudFront invalidation (by id) has reached every edge location.
    invalidations: BTreeMap<String, Instant>,
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
            invalidations: BTreeMap::new(),
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

    /// emulator: the local endpoint (moto 5.2.5) does not serve SSM's
    /// DescribeInstanceInformation. The layer answers it as Systems Manager
    /// does (SSM API reference, DescribeInstanceInformation), from the
    /// endpoint's own EC2 instances (`instances`, as
    /// [`endpoint_instances`] reads them; `now` in seconds since the epoch):
    /// an instance is a managed node once its SSM Agent has registered,
    /// which needs the instance running with an instance profile (the
    /// agent's credentials come from its role), and happens
    /// [`Windows::agent_registration`] after it was launched. Before that,
    /// and without a profile, it is not listed at all, as on AWS; a stopped
    /// or terminated instance is not listed either. Registered nodes are
    /// `Online`, filtered by the query's filters, in id order,
    /// `MaxResults` (default 50) at a time with a `NextToken`. What it
    /// cannot know (the agent's route to Systems Manager, the role's
    /// AmazonSSMManagedInstanceCore permissions) it does not check.
    fn instance_information(
        &mut self,
        q: &InformationQuery,
        instances: &[Ec2Instance],
        now: f64,
    ) -> Response {
        let registration = self.win.agent_registration().as_secs_f64();
        let mut nodes: Vec<&Ec2Instance> = Vec::new();
        let mut notes: Vec<String> = Vec::new();
        for i in instances.iter().filter(|i| q.asks_for(&i.id)) {
            if i.state != "running" {
                continue;
            }
            if i.profile.is_none() {
                notes.push(format!("{}: no instance profile, no agent registers", i.id));
            } else if now < i.launched + registration {
                notes.push(format!("{}: its agent has not registered yet", i.id));
            } else {
                nodes.push(i);
            }
        }
        nodes.sort_by_key(|i| i.id.clone());
        let listed: Vec<serde_json::Value> = nodes
            .iter()
            .filter_map(|i| {
                let computer = if i.private_dns.is_empty() {
                    &i.private_ip
                } else {
                    &i.private_dns
                };
                let info = json!({
                    "InstanceId": i.id,
                    "PingStatus": "Online",
                    // The agent pings every few minutes; its last one is recent.
                    "LastPingDateTime": (now * 1000.0).round() / 1000.0,
                    "AgentVersion": "3.3.0.0",
                    "IsLatestVersion": true,
                    "PlatformType": "Linux",
                    "PlatformName": "Amazon Linux",
                    "PlatformVersion": "2023",
                    "ResourceType": "EC2Instance",
                    "IPAddress": i.private_ip,
                    "ComputerName": computer,
                    "AssociationStatus": "Success",
                    "SourceId": i.id,
                    "SourceType": "AWS::EC2::Instance",
                });
                q.matches(&info, &i.tags).then_some(info)
            })
            .collect();
        let end = q.start.saturating_add(q.max).min(listed.len());
        let page = listed.get(q.start..end).unwrap_or_default();
        let said: Vec<String> = page
            .iter()
            .map(|n| format!("{} Online", n["InstanceId"].as_str().unwrap_or_default()))
            .collect();
        let said = if said.is_empty() {
            "none".to_string()
        } else {
            said.join(", ")
        };
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!(" ({})", notes.join("; "))
        };
        self.effects.push(format!(
            "DescribeInstanceInformation {} answered: {said}{notes}",
            q.asked()
        ));
        let mut v = json!({ "InstanceInformationList": page });
        if end < listed.len() {
            v["NextToken"] = json!(end.to_string());
        }
        Response::new(200, "application/x-amz-json-1.1", v.to_string())
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
                // UpdateService, `forceNewDeployment`: a new deployment of the
                // same task definition replaces every task as a change would.
                let forced = req.json["forceNewDeployment"].as_bool() == Some(true);
                if let Some(s) = self.services.get_mut(&key) {
                    if !s.task_definition.is_empty()
                        && !to.is_empty()
                        && (s.task_definition != to || forced)
                    {
                        let conf = &svc["deploymentConfiguration"];
                        s.rollout = Some(Rollout {
                            from: s.task_definition.clone(),
                            to: to.clone(),
                            min_pct: conf["minimumHealthyPercent"].as_i64().unwrap_or(100),
                            max_pct: conf["maximumPercent"].as_i64().unwrap_or(200),
                            started: now,
                        });
                        self.effects.push(if s.task_definition == to {
                            format!("UpdateService {key}: new deployment of {to}")
                        } else {
                            format!("UpdateService {key}: rolling to {to}")
                        });
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
            // CloudFront API, GetInvalidation: InProgress until every edge
            // location has dropped the paths, then Completed.
            "CreateInvalidation" => {
                if let Some(id) = xml_first(&text, "Id") {
                    self.invalidations.insert(id.clone(), now + w);
                    res.set_text(set_after(&text, "Id", &id, "Status", "InProgress"));
                    self.effects
                        .push(format!("CreateInvalidation {id}: InProgress"));
                }
            }
            "GetInvalidation" => {
                let id = segment(&req.path, 4);
                if self.invalidations.get(&id).is_some_and(|t| now < *t) {
                    res.set_text(set_after(&text, "Id", &id, "Status", "InProgress"));
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
    if header(&req.head, "x-amz-target") == Some("AmazonSSM.DescribeInstanceInformation") {
        return describe_instance_information(upstream, &req, world).write_to(&mut conn);
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

/// The filter keys of DescribeInstanceInformation's legacy
/// `InstanceInformationFilterList`; its `Filters` also take `tag-key` and
/// `tag:<key>`.
const INFORMATION_KEYS: [&str; 8] = [
    "InstanceIds",
    "AgentVersion",
    "PingStatus",
    "PlatformTypes",
    "ActivationIds",
    "IamRole",
    "ResourceType",
    "AssociationStatus",
];

/// What a DescribeInstanceInformation asks for.
struct InformationQuery {
    /// Each filter's key and values, from `Filters` and the legacy
    /// `InstanceInformationFilterList`: a node is listed when it matches
    /// one of the values of every filter.
    filters: Vec<(String, Vec<String>)>,
    /// `MaxResults`.
    max: usize,
    /// Where `NextToken` starts the page.
    start: usize,
}

impl InformationQuery {
    /// The query of `req`, or AWS's refusal of it (SSM API reference,
    /// DescribeInstanceInformation: `InvalidFilterKey`,
    /// `InvalidInstanceInformationFilterValue`, `InvalidNextToken`;
    /// `MaxResults` from 5 to 50).
    fn of(req: &Request) -> Result<InformationQuery, Refusal> {
        let refused = |code: &'static str, message: String| Refusal {
            status: 400,
            code,
            message,
        };
        let mut filters = Vec::new();
        let lists = [
            ("Filters", "Key", "Values", false),
            ("InstanceInformationFilterList", "key", "valueSet", true),
        ];
        for (list, key_field, values_field, legacy) in lists {
            for (n, f) in req.json[list].as_array().into_iter().flatten().enumerate() {
                let key = f[key_field].as_str().unwrap_or_default().to_string();
                let tag =
                    key == "tag-key" || key.strip_prefix("tag:").is_some_and(|k| !k.is_empty());
                if !INFORMATION_KEYS.contains(&key.as_str()) && (legacy || !tag) {
                    return Err(refused(
                        "InvalidFilterKey",
                        format!("The specified key isn't valid: {key}"),
                    ));
                }
                let values: Vec<String> = f[values_field]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect();
                if values.is_empty() || values.len() > 100 {
                    let field = format!("{}.{}.member.{values_field}", lower_first(list), n + 1);
                    return Err(refused(
                        "ValidationException",
                        format!("1 validation error detected: Value at '{field}' failed to satisfy constraint: Member must have length between 1 and 100"),
                    ));
                }
                let invalid = |message: String| -> Result<InformationQuery, Refusal> {
                    Err(refused("InvalidInstanceInformationFilterValue", message))
                };
                match key.as_str() {
                    "InstanceIds" => {
                        if let Some(id) = values.iter().find(|id| !instance_id_shape(id)) {
                            return invalid(format!("{id} is not a valid instance id."));
                        }
                    }
                    "ResourceType" if values.len() > 1 => {
                        return invalid("ResourceType filter may contain only one value.".into());
                    }
                    "ResourceType"
                        if !["EC2Instance", "ManagedInstance"].contains(&values[0].as_str()) =>
                    {
                        return invalid("ResourceType filter is invalid, valid values are EC2Instance, ManagedInstance".into());
                    }
                    _ => {}
                }
                filters.push((key, values));
            }
        }
        let max = match req.json.get("MaxResults").filter(|v| !v.is_null()) {
            None => 50,
            Some(v) => match v.as_u64() {
                Some(m) if (5..=50).contains(&m) => m as usize,
                _ => {
                    let bound = if v.as_i64().is_some_and(|m| m < 5) {
                        "greater than or equal to 5"
                    } else {
                        "less than or equal to 50"
                    };
                    return Err(refused(
                        "ValidationException",
                        format!("1 validation error detected: Value '{v}' at 'maxResults' failed to satisfy constraint: Member must have value {bound}"),
                    ));
                }
            },
        };
        let start = match req.field("NextToken").map(str::parse::<usize>) {
            None => 0,
            Some(Ok(i)) => i,
            Some(Err(_)) => {
                return Err(refused(
                    "InvalidNextToken",
                    "The specified token isn't valid.".into(),
                ))
            }
        };
        Ok(InformationQuery {
            filters,
            max,
            start,
        })
    }

    /// The instances the query names (every `InstanceIds` filter's), or
    /// `None` when it names none (it asks for all).
    fn instance_ids(&self) -> Option<Vec<String>> {
        let mut ids: Vec<String> = Vec::new();
        let mut named = false;
        for (_, values) in self.filters.iter().filter(|(k, _)| k == "InstanceIds") {
            named = true;
            for v in values {
                if !ids.contains(v) {
                    ids.push(v.clone());
                }
            }
        }
        named.then_some(ids)
    }

    /// Whether every `InstanceIds` filter names `id`.
    fn asks_for(&self, id: &str) -> bool {
        self.filters
            .iter()
            .filter(|(k, _)| k == "InstanceIds")
            .all(|(_, values)| values.iter().any(|v| v == id))
    }

    /// What it asked for, for [`World::effects`].
    fn asked(&self) -> String {
        match self.instance_ids() {
            Some(ids) => ids.join(","),
            None => "all".into(),
        }
    }

    /// Whether a node (its InstanceInformation, and its instance's tags)
    /// matches every filter.
    fn matches(&self, info: &serde_json::Value, tags: &[(String, String)]) -> bool {
        self.filters.iter().all(|(key, values)| {
            let field = |f: &str| {
                info[f]
                    .as_str()
                    .is_some_and(|v| values.iter().any(|x| x == v))
            };
            match key.as_str() {
                "InstanceIds" => field("InstanceId"),
                "AgentVersion" => field("AgentVersion"),
                "PingStatus" => field("PingStatus"),
                "PlatformTypes" => field("PlatformType"),
                "ActivationIds" => field("ActivationId"),
                "IamRole" => field("IamRole"),
                "ResourceType" => field("ResourceType"),
                "AssociationStatus" => field("AssociationStatus"),
                "tag-key" => tags.iter().any(|(k, _)| values.contains(k)),
                other => {
                    let key = other.strip_prefix("tag:").unwrap_or_default();
                    tags.iter().any(|(k, v)| k == key && values.contains(v))
                }
            }
        })
    }
}

/// `Filters` → `filters`, as AWS names a member in a validation message.
fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_ascii_lowercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// A managed node's id as SSM takes it: `i-` and 8 or 17 characters (an EC2
/// instance), or `mi-` and 17 (a hybrid node).
fn instance_id_shape(id: &str) -> bool {
    let word = |s: &str, lens: &[usize]| {
        lens.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    };
    id.strip_prefix("i-").is_some_and(|s| word(s, &[8, 17]))
        || id.strip_prefix("mi-").is_some_and(|s| word(s, &[17]))
}

/// What the layer reads of an EC2 instance in the endpoint's DescribeInstances.
#[derive(Clone, Debug, Default, PartialEq)]
struct Ec2Instance {
    id: String,
    /// `instanceState/name`: pending, running, stopping, stopped, ...
    state: String,
    /// `iamInstanceProfile/arn`, when it was launched with a profile.
    profile: Option<String>,
    private_ip: String,
    /// The instance's own `privateDnsName` (its host name).
    private_dns: String,
    /// `launchTime`, in seconds since the epoch (0 when unreadable: long ago).
    launched: f64,
    /// `tagSet`: (key, value).
    tags: Vec<(String, String)>,
}

/// The elements directly in `xml` (an element's content, or a document):
/// (name, content), in order; a self-closed element has no content.
fn xml_children(xml: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut open: Option<(String, usize)> = None;
    let mut at = 0;
    while let Some(i) = xml[at..].find('<') {
        let start = at + i;
        let Some(j) = xml[start..].find('>') else {
            break;
        };
        let end = start + j;
        let inner = &xml[start + 1..end];
        at = end + 1;
        if inner.starts_with('?') || inner.starts_with('!') {
            continue;
        }
        if inner.starts_with('/') {
            depth = depth.saturating_sub(1);
            if depth == 0 {
                if let Some((name, from)) = open.take() {
                    out.push((name, xml[from..start].to_string()));
                }
            }
            continue;
        }
        let name = inner
            .trim_end_matches('/')
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string();
        if inner.ends_with('/') {
            if depth == 0 {
                out.push((name, String::new()));
            }
            continue;
        }
        if depth == 0 {
            open = Some((name, at));
        }
        depth += 1;
    }
    out
}

/// The content of the element `name` directly in `xml`.
fn xml_child(xml: &str, name: &str) -> Option<String> {
    xml_children(xml)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, c)| c)
}

/// The `<item>`s directly in an EC2 list's content.
fn xml_items(xml: &str) -> Vec<String> {
    xml_children(xml)
        .into_iter()
        .filter(|(n, _)| n == "item")
        .map(|(_, c)| c)
        .collect()
}

fn xml_unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// The instances in a DescribeInstances answer
/// (`reservationSet/item/instancesSet/item`). Each field is read directly
/// under its instance: an interface's `privateIpAddress` is not the instance's.
fn ec2_instances(xml: &str) -> Vec<Ec2Instance> {
    let root = xml_children(xml)
        .into_iter()
        .next()
        .map(|(_, c)| c)
        .unwrap_or_default();
    let reservations = xml_child(&root, "reservationSet").unwrap_or_default();
    xml_items(&reservations)
        .iter()
        .filter_map(|r| xml_child(r, "instancesSet"))
        .flat_map(|set| xml_items(&set))
        .map(|i| {
            let text = |name: &str| {
                xml_child(&i, name)
                    .map(|v| xml_unescape(&v))
                    .unwrap_or_default()
            };
            let tags: Vec<(String, String)> =
                xml_items(&xml_child(&i, "tagSet").unwrap_or_default())
                    .iter()
                    .map(|t| {
                        let field = |name: &str| {
                            xml_child(t, name)
                                .map(|v| xml_unescape(&v))
                                .unwrap_or_default()
                        };
                        (field("key"), field("value"))
                    })
                    .collect();
            Ec2Instance {
                id: text("instanceId"),
                state: xml_child(&text("instanceState"), "name").unwrap_or_default(),
                profile: xml_child(&i, "iamInstanceProfile")
                    .and_then(|p| xml_child(&p, "arn"))
                    .filter(|arn| !arn.is_empty())
                    .map(|arn| xml_unescape(&arn)),
                private_ip: text("privateIpAddress"),
                private_dns: text("privateDnsName"),
                launched: epoch_seconds(&text("launchTime")).unwrap_or(0.0),
                tags,
            }
        })
        .filter(|i| !i.id.is_empty())
        .collect()
}

/// An ISO 8601 UTC time (`2026-12-06T04:18:22.000Z`, as EC2 writes
/// `launchTime`) in seconds since the epoch.
fn epoch_seconds(iso: &str) -> Option<f64> {
    let (date, time) = iso.trim().split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.trim_end_matches('Z').split(':');
    let h = t.next()?.parse::<i64>().ok()?;
    let min = t.next()?.parse::<i64>().ok()?;
    let s = t.next()?.parse::<f64>().ok()?;
    // Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3_600 + min * 60) as f64 + s)
}

/// `s` percent-encoded for a form body (all but the unreserved characters).
fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The EC2 instances of `req`'s region (only `ids`, when given) as the
/// endpoint describes them, every page: a DescribeInstances sent upstream
/// with the caller's credential scope for EC2 (the endpoint takes the
/// region and account from it, and checks no signature). The ids go in an
/// `instance-id` filter, which leaves out an id the endpoint does not have
/// where `InstanceId.N` would refuse the whole call.
fn endpoint_instances(
    upstream: &str,
    req: &Request,
    ids: Option<&[String]>,
) -> Result<Vec<Ec2Instance>, String> {
    let ec2_ids: Vec<&String> = ids
        .unwrap_or_default()
        .iter()
        .filter(|id| id.starts_with("i-"))
        .collect();
    if ids.is_some() && ec2_ids.is_empty() {
        return Ok(Vec::new());
    }
    let region = req.region().unwrap_or("us-east-1");
    let mut scope = header(&req.head, "authorization")
        .and_then(|a| a.split("Credential=").nth(1))
        .unwrap_or_default()
        .split('/');
    let key = scope.next().filter(|k| !k.is_empty()).unwrap_or("test");
    let date = scope.next().filter(|d| !d.is_empty()).unwrap_or("20240101");
    let mut instances = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..100 {
        let mut form: Vec<(String, String)> = vec![
            ("Action".into(), "DescribeInstances".into()),
            ("Version".into(), "2016-11-15".into()),
        ];
        if !ec2_ids.is_empty() {
            form.push(("Filter.1.Name".into(), "instance-id".into()));
            for (n, id) in ec2_ids.iter().enumerate() {
                form.push((format!("Filter.1.Value.{}", n + 1), id.to_string()));
            }
        }
        if let Some(t) = &token {
            form.push(("NextToken".into(), t.clone()));
        }
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let head = format!(
            "POST / HTTP/1.1\r\nHost: {upstream}\r\nContent-Type: application/x-www-form-urlencoded; charset=utf-8\r\nContent-Length: {}\r\nAuthorization: AWS4-HMAC-SHA256 Credential={key}/{date}/{region}/ec2/aws4_request, SignedHeaders=content-type;host, Signature=0\r\n",
            body.len()
        );
        let describe = Request {
            head,
            body: body.into_bytes(),
            method: "POST".into(),
            path: "/".into(),
            op: "DescribeInstances".into(),
            form: form.into_iter().collect(),
            json: serde_json::Value::Null,
        };
        let res = forward(upstream, &describe)
            .map_err(|e| format!("the endpoint's DescribeInstances failed: {e}"))?;
        let text = res.text();
        if !res.ok() {
            return Err(format!(
                "the endpoint's DescribeInstances answered {}: {}",
                res.status,
                xml_first(&text, "Message").unwrap_or_default()
            ));
        }
        instances.extend(ec2_instances(&text));
        token = xml_first(&text, "nextToken").filter(|t| !t.is_empty());
        if token.is_none() {
            break;
        }
    }
    Ok(instances)
}

/// Answers an SSM DescribeInstanceInformation
/// ([`World::instance_information`]) from the endpoint's EC2 instances.
fn describe_instance_information(
    upstream: &str,
    req: &Request,
    world: &Arc<Mutex<World>>,
) -> Response {
    let q = match InformationQuery::of(req) {
        Ok(q) => q,
        Err(r) => return error_response(req, &r),
    };
    let ids = q.instance_ids();
    let instances = match endpoint_instances(upstream, req, ids.as_deref()) {
        Ok(instances) => instances,
        Err(message) => {
            if let Ok(mut w) = world.lock() {
                w.effects
                    .push(format!("DescribeInstanceInformation failed: {message}"));
            }
            return crate::http::aws_error(req, 500, "InternalServerError", &message);
        }
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64();
    let mut w = world.lock().expect("layer state");
    w.instance_information(&q, &instances, now)
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

    /// An invalidation reads InProgress for a window, then as the endpoint has it.
    #[test]
    fn an_invalidation_is_in_progress_for_a_window() {
        let mut w = World::new(Windows::scaled(1.0));
        let call = |op: &str, method: &str, path: &str| Request {
            head: format!("{method} {path} HTTP/1.1\r\n"),
            body: Vec::new(),
            method: method.into(),
            path: path.into(),
            op: op.into(),
            form: BTreeMap::new(),
            json: serde_json::Value::Null,
        };
        let answer = || {
            Response::new(
                201,
                "text/xml",
                "<Invalidation><Id>I2INV</Id><Status>COMPLETED</Status><CreateTime>2026-01-01T00:00:00Z</CreateTime></Invalidation>".into(),
            )
        };
        let t = Instant::now();
        let create = call(
            "CreateInvalidation",
            "POST",
            "/2020-05-31/distribution/E2DIST/invalidation",
        );
        let mut res = answer();
        w.after(&create, &mut res, t);
        assert!(
            res.text().contains("<Status>InProgress</Status>"),
            "{}",
            res.text()
        );
        let get = call(
            "GetInvalidation",
            "GET",
            "/2020-05-31/distribution/E2DIST/invalidation/I2INV",
        );
        let mut res = answer();
        w.after(&get, &mut res, t + Duration::from_secs(1));
        assert!(
            res.text().contains("<Status>InProgress</Status>"),
            "{}",
            res.text()
        );
        let mut res = answer();
        w.after(&get, &mut res, t + w.win.base + Duration::from_secs(1));
        assert!(
            res.text().contains("<Status>COMPLETED</Status>"),
            "{}",
            res.text()
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

    /// A DescribeInstanceInformation as the SDK signs it for `region`.
    fn ssm_call(region: &str, body: serde_json::Value) -> Request {
        Request {
            head: format!("POST / HTTP/1.1\r\nX-Amz-Target: AmazonSSM.DescribeInstanceInformation\r\nAuthorization: AWS4-HMAC-SHA256 Credential=test/20261206/{region}/ssm/aws4_request, SignedHeaders=host, Signature=0\r\n"),
            body: body.to_string().into_bytes(),
            method: "POST".into(),
            path: "/".into(),
            op: "DescribeInstanceInformation".into(),
            form: BTreeMap::new(),
            json: body,
        }
    }

    fn information_query(body: serde_json::Value) -> InformationQuery {
        match InformationQuery::of(&ssm_call("eu-west-3", body)) {
            Ok(q) => q,
            Err(r) => panic!("refused: {}: {}", r.code, r.message),
        }
    }

    /// An instance as the endpoint's DescribeInstances gives it.
    fn ec2_instance(id: &str, state: &str, profile: bool, launched: f64) -> Ec2Instance {
        Ec2Instance {
            id: id.into(),
            state: state.into(),
            profile: profile
                .then(|| "arn:aws:iam::123456789012:instance-profile/bastion".to_string()),
            private_ip: "10.0.1.23".into(),
            private_dns: "ip-10-0-1-23.eu-west-3.compute.internal".into(),
            launched,
            tags: Vec::new(),
        }
    }

    /// (InstanceId, PingStatus) of each node an answer lists.
    fn nodes(res: &Response) -> Vec<(String, String)> {
        res.json()["InstanceInformationList"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|n| {
                let text = |k: &str| n[k].as_str().unwrap_or_default().to_string();
                (text("InstanceId"), text("PingStatus"))
            })
            .collect()
    }

    /// A running instance with an instance profile is not listed until its
    /// agent has registered, a window after its launch, and then is Online;
    /// with no windows, at once.
    #[test]
    fn a_running_instance_with_a_profile_is_online_once_its_agent_registers() {
        let id = "i-0123456789abcdef0";
        let launched = 1_796_530_702.0;
        let instances = [ec2_instance(id, "running", true, launched)];
        let q = information_query(
            serde_json::json!({"Filters": [{"Key": "InstanceIds", "Values": [id]}]}),
        );
        let mut w = World::new(Windows::scaled(1.0));
        let soon = w.instance_information(&q, &instances, launched + 1.0);
        assert!(
            nodes(&soon).is_empty(),
            "not registered a second after launch"
        );
        let later = launched + w.win.agent_registration().as_secs_f64();
        let res = w.instance_information(&q, &instances, later);
        assert_eq!(res.status, 200);
        assert!(res
            .headers
            .iter()
            .any(|(k, v)| k == "Content-Type" && v == "application/x-amz-json-1.1"));
        assert_eq!(nodes(&res), [(id.to_string(), "Online".to_string())]);
        let v = res.json();
        let node = &v["InstanceInformationList"][0];
        assert_eq!(node["ResourceType"], "EC2Instance");
        assert_eq!(node["PlatformType"], "Linux");
        assert_eq!(node["IPAddress"], "10.0.1.23");
        assert_eq!(node["LastPingDateTime"].as_f64(), Some(later));
        assert_eq!(
            w.effects,
            [
                format!("DescribeInstanceInformation {id} answered: none ({id}: its agent has not registered yet)"),
                format!("DescribeInstanceInformation {id} answered: {id} Online"),
            ]
        );
        let mut at_once = World::new(Windows::scaled(0.0));
        let res = at_once.instance_information(&q, &instances, launched);
        assert_eq!(nodes(&res), [(id.to_string(), "Online".to_string())]);
    }

    /// Without an instance profile the agent has no credentials and never
    /// registers; a stopped instance is not listed either.
    #[test]
    fn an_instance_without_a_profile_is_not_listed() {
        let long_ago = 1_700_000_000.0;
        let instances = [
            ec2_instance("i-0000000000000000a", "running", false, long_ago),
            ec2_instance("i-0000000000000000b", "stopped", true, long_ago),
        ];
        let mut w = World::new(Windows::scaled(0.0));
        let res = w.instance_information(
            &information_query(serde_json::json!({})),
            &instances,
            long_ago + 3600.0,
        );
        assert_eq!(res.status, 200);
        assert_eq!(
            res.json(),
            serde_json::json!({ "InstanceInformationList": [] })
        );
        assert!(w
            .effects
            .last()
            .is_some_and(|e| e.contains("i-0000000000000000a: no instance profile")));
    }

    /// The InstanceIds filter, in `Filters` or the legacy
    /// `InstanceInformationFilterList`, lists only the instances it names
    /// (one the endpoint does not have is simply not listed); the other
    /// filters apply to what the node reports.
    #[test]
    fn the_instance_ids_filter_lists_only_those_instances() {
        let t = 1_700_000_000.0;
        let instances = [
            ec2_instance("i-0000000000000000a", "running", true, t),
            ec2_instance("i-0000000000000000b", "running", true, t),
            ec2_instance("i-0000000000000000c", "running", true, t),
        ];
        let mut w = World::new(Windows::scaled(0.0));
        let mut listed = |body: serde_json::Value| -> Vec<String> {
            let res = w.instance_information(&information_query(body), &instances, t + 60.0);
            nodes(&res).into_iter().map(|(id, _)| id).collect()
        };
        let named = serde_json::json!({"Filters": [{"Key": "InstanceIds", "Values": [
            "i-0000000000000000c", "i-0000000000000000a", "i-0000000000000000f"
        ]}]});
        assert_eq!(
            listed(named),
            ["i-0000000000000000a", "i-0000000000000000c"]
        );
        let legacy = serde_json::json!({"InstanceInformationFilterList": [
            {"key": "InstanceIds", "valueSet": ["i-0000000000000000b"]}
        ]});
        assert_eq!(listed(legacy), ["i-0000000000000000b"]);
        assert_eq!(listed(serde_json::json!({})).len(), 3);
        let lost = serde_json::json!({"Filters": [
            {"Key": "InstanceIds", "Values": ["i-0000000000000000a"]},
            {"Key": "PingStatus", "Values": ["ConnectionLost"]}
        ]});
        assert!(listed(lost).is_empty());
        let q = information_query(serde_json::json!({"Filters": [
            {"Key": "InstanceIds", "Values": ["i-0000000000000000b", "i-0000000000000000a"]}
        ]}));
        assert_eq!(
            q.instance_ids(),
            Some(vec![
                "i-0000000000000000b".to_string(),
                "i-0000000000000000a".to_string()
            ]),
            "what the endpoint is asked for"
        );
    }

    /// Pages of MaxResults (5 to 50) with a NextToken; what SSM refuses is
    /// refused with its codes.
    #[test]
    fn instance_information_pages_and_refuses_what_ssm_refuses() {
        let t = 1_700_000_000.0;
        let instances: Vec<Ec2Instance> = (1..=6)
            .map(|n| ec2_instance(&format!("i-000000000000000{n:02}"), "running", true, t))
            .collect();
        let mut w = World::new(Windows::scaled(0.0));
        let first = w
            .instance_information(
                &information_query(serde_json::json!({"MaxResults": 5})),
                &instances,
                t,
            )
            .json();
        assert_eq!(
            first["InstanceInformationList"].as_array().map(Vec::len),
            Some(5)
        );
        let token = first["NextToken"].clone();
        let second = w
            .instance_information(
                &information_query(serde_json::json!({"MaxResults": 5, "NextToken": token})),
                &instances,
                t,
            )
            .json();
        assert_eq!(
            second["InstanceInformationList"][0]["InstanceId"],
            "i-00000000000000006"
        );
        assert!(second["NextToken"].is_null());
        let code = |body: serde_json::Value| {
            InformationQuery::of(&ssm_call("eu-west-3", body))
                .err()
                .map(|r| r.code)
        };
        assert_eq!(
            code(serde_json::json!({"MaxResults": 2})),
            Some("ValidationException")
        );
        assert_eq!(
            code(serde_json::json!({"NextToken": "not-a-token"})),
            Some("InvalidNextToken")
        );
        assert_eq!(
            code(serde_json::json!({"Filters": [{"Key": "Platform", "Values": ["Linux"]}]})),
            Some("InvalidFilterKey")
        );
        assert_eq!(
            code(serde_json::json!({"Filters": [{"Key": "InstanceIds", "Values": ["bastion"]}]})),
            Some("InvalidInstanceInformationFilterValue")
        );
        assert_eq!(
            code(serde_json::json!({"Filters": [{"Key": "tag:Role", "Values": ["bastion"]}]})),
            None
        );
    }

    /// The endpoint's DescribeInstances (as moto 5.2.5 writes it): each
    /// field is read directly under its instance, not from its network
    /// interfaces; an instance without a profile has none.
    #[test]
    fn instances_are_read_from_the_endpoint_s_describe_instances() {
        let xml = r#"<?xml version="1.0" encoding="utf-8"?>
<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15"><reservationSet><item><reservationId>r-1058529f46307f8ff</reservationId><ownerId>123456789012</ownerId><groupSet/><instancesSet><item><architecture>x86_64</architecture><iamInstanceProfile><arn>arn:aws:iam::123456789012:instance-profile/p</arn><id>iip-assoc-2ac4fed472c504649</id></iamInstanceProfile><networkInterfaceSet><item><description>Primary network interface</description><privateDnsName>ip-10-0-9-9.ec2.internal</privateDnsName><privateIpAddress>10.0.9.9</privateIpAddress><privateIpAddressesSet><item><primary>true</primary><privateIpAddress>10.0.9.9</privateIpAddress></item></privateIpAddressesSet></item></networkInterfaceSet><stateReason><code/><message/></stateReason><instanceId>i-6339ae0192974a18a</instanceId><instanceState><code>16</code><name>running</name></instanceState><privateDnsName>ip-10-10-228-132.eu-west-3.compute.internal</privateDnsName><launchTime>2026-12-06T04:18:22.000Z</launchTime><privateIpAddress>10.10.228.132</privateIpAddress><tagSet><item><key>Name</key><value>a &amp; b</value></item></tagSet></item></instancesSet></item><item><reservationId>r-2</reservationId><instancesSet><item><instanceId>i-c8505cd58b8caf250</instanceId><instanceState><code>80</code><name>stopped</name></instanceState><launchTime>2026-12-06T04:18:23.000Z</launchTime><privateIpAddress>10.10.0.5</privateIpAddress></item></instancesSet></item></reservationSet><requestId>request-id</requestId></DescribeInstancesResponse>"#;
        let found = ec2_instances(xml);
        assert_eq!(
            found,
            [
                Ec2Instance {
                    id: "i-6339ae0192974a18a".into(),
                    state: "running".into(),
                    profile: Some("arn:aws:iam::123456789012:instance-profile/p".into()),
                    private_ip: "10.10.228.132".into(),
                    private_dns: "ip-10-10-228-132.eu-west-3.compute.internal".into(),
                    launched: 1_796_530_702.0,
                    tags: vec![("Name".into(), "a & b".into())],
                },
                Ec2Instance {
                    id: "i-c8505cd58b8caf250".into(),
                    state: "stopped".into(),
                    profile: None,
                    private_ip: "10.10.0.5".into(),
                    private_dns: String::new(),
                    launched: 1_796_530_703.0,
                    tags: Vec::new(),
                },
            ]
        );
        let empty = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<DescribeInstancesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15\"><reservationSet/><requestId>request-id</requestId></DescribeInstancesResponse>";
        assert!(ec2_instances(empty).is_empty());
        assert_eq!(epoch_seconds("1970-01-01T00:00:00.000Z"), Some(0.0));
        assert_eq!(epoch_seconds("2000-03-01T00:00:00Z"), Some(951_868_800.0));
    }
}
