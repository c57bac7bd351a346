//! The service's state: its inputs, and the ids of every part made so far.

use serde::{Deserialize, Serialize};

use crate::aws::autoscaling::{ScheduledBounds, ServiceScaling};
use crate::aws::ecs::{Rollout, TaskSpec};
use crate::aws::elbv2::HealthCheck;

use super::defaults::*;

pub use crate::resources::Tags;

/// The `autoscaling {}` block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "ScalingInput")]
pub struct Scaling {
    pub min: i32,
    pub max: i32,
    pub target_cpu: i32,
    pub requests_per_target: Option<i32>,
    /// By name.
    pub scheduled: Vec<ScheduledBounds>,
}

/// `autoscaling {}` as configured: `max` defaults to `min` when that is
/// larger, and scheduled changes are kept by name.
#[derive(Deserialize)]
struct ScalingInput {
    min: Option<i32>,
    max: Option<i32>,
    target_cpu: Option<i32>,
    requests_per_target: Option<i32>,
    #[serde(default)]
    scheduled: Vec<ScheduledInput>,
}

#[derive(Deserialize)]
#[serde(default)]
struct ScheduledInput {
    name: String,
    schedule: String,
    timezone: String,
    min: i32,
    max: i32,
}

impl Default for ScheduledInput {
    fn default() -> Self {
        ScheduledInput {
            name: String::new(),
            schedule: String::new(),
            timezone: DEFAULT_TIMEZONE.into(),
            min: 0,
            max: 0,
        }
    }
}

impl From<ScalingInput> for Scaling {
    fn from(s: ScalingInput) -> Scaling {
        let min = s.min.unwrap_or(DEFAULT_MIN_TASKS);
        let mut scheduled: Vec<ScheduledBounds> = s
            .scheduled
            .into_iter()
            .map(|x| ScheduledBounds {
                name: x.name,
                schedule: x.schedule,
                timezone: x.timezone,
                min: x.min,
                max: x.max,
            })
            .collect();
        scheduled.sort_by(|a, b| a.name.cmp(&b.name));
        Scaling {
            min,
            max: s.max.unwrap_or(DEFAULT_MAX_TASKS.max(min)),
            target_cpu: s.target_cpu.unwrap_or(DEFAULT_TARGET_CPU),
            requests_per_target: s.requests_per_target,
            scheduled,
        }
    }
}

impl Default for Scaling {
    fn default() -> Self {
        Scaling {
            min: DEFAULT_MIN_TASKS,
            max: DEFAULT_MAX_TASKS,
            target_cpu: DEFAULT_TARGET_CPU,
            requests_per_target: None,
            scheduled: Vec::new(),
        }
    }
}

impl Scaling {
    pub fn autoscaled(&self) -> bool {
        self.max > self.min || !self.scheduled.is_empty()
    }
}

/// The `health_check {}` block, by its attribute names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HealthCheckBlock {
    pub path: String,
    pub interval: i32,
    pub timeout: i32,
    pub healthy_threshold: i32,
    pub unhealthy_threshold: i32,
    pub matcher: String,
}

impl Default for HealthCheckBlock {
    fn default() -> Self {
        HealthCheckBlock {
            path: DEFAULT_HEALTH_PATH.into(),
            interval: 15,
            timeout: 5,
            healthy_threshold: 2,
            unhealthy_threshold: 3,
            matcher: "200-399".into(),
        }
    }
}

impl From<&HealthCheckBlock> for HealthCheck {
    fn from(h: &HealthCheckBlock) -> HealthCheck {
        HealthCheck {
            path: h.path.clone(),
            interval_secs: h.interval,
            timeout_secs: h.timeout,
            healthy_threshold: h.healthy_threshold,
            unhealthy_threshold: h.unhealthy_threshold,
            matcher: h.matcher.clone(),
        }
    }
}

impl From<&HealthCheck> for HealthCheckBlock {
    fn from(h: &HealthCheck) -> HealthCheckBlock {
        HealthCheckBlock {
            path: h.path.clone(),
            interval: h.interval_secs,
            timeout: h.timeout_secs,
            healthy_threshold: h.healthy_threshold,
            unhealthy_threshold: h.unhealthy_threshold,
            matcher: h.matcher.clone(),
        }
    }
}

/// The `deployment {}` block.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Deployment {
    pub minimum_healthy_percent: i32,
    pub maximum_percent: i32,
    pub rollback: bool,
    pub wait_for_steady_state: bool,
}

impl Default for Deployment {
    fn default() -> Self {
        Deployment {
            minimum_healthy_percent: 100,
            maximum_percent: 200,
            rollback: true,
            wait_for_steady_state: true,
        }
    }
}

/// The `alerts {}` block.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Alerts {
    pub cpu_threshold: i32,
    pub evaluation_periods: i32,
    /// Deprecated: the webhook, in plan and state.
    pub slack_webhook_url: Option<String>,
    /// The write-only webhook: set in what create and update are asked
    /// for (from the configuration), never in a state.
    pub slack_webhook_url_wo: Option<String>,
    /// What says that `slack_webhook_url_wo` changed: kept in state, and
    /// the value is written when it differs from the state's.
    pub slack_webhook_url_wo_version: Option<String>,
}

impl Default for Alerts {
    fn default() -> Self {
        Alerts {
            cpu_threshold: DEFAULT_ALARM_CPU,
            evaluation_periods: DEFAULT_EVALUATION_PERIODS,
            slack_webhook_url: None,
            slack_webhook_url_wo: None,
            slack_webhook_url_wo_version: None,
        }
    }
}

/// The webhooks are credentials: a state printed for a log or a failed
/// test says only whether one is set.
impl std::fmt::Debug for Alerts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |v: &Option<String>| v.as_ref().map(|_| "(hidden)");
        f.debug_struct("Alerts")
            .field("cpu_threshold", &self.cpu_threshold)
            .field("evaluation_periods", &self.evaluation_periods)
            .field("slack_webhook_url", &hidden(&self.slack_webhook_url))
            .field("slack_webhook_url_wo", &hidden(&self.slack_webhook_url_wo))
            .field(
                "slack_webhook_url_wo_version",
                &self.slack_webhook_url_wo_version,
            )
            .finish()
    }
}

/// The `repository {}` block: the ECR repository the image is pinned from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RepositoryBlock {
    /// Empty: the service's name (filled in at plan).
    pub name: String,
    pub create: bool,
    /// These three are `None` when the repository is not made here
    /// (`create = false`); the plan fills in their defaults otherwise.
    pub keep_images: Option<i64>,
    pub tag_immutability: Option<bool>,
    pub scan_on_push: Option<bool>,
    pub force_delete: bool,
}

impl Default for RepositoryBlock {
    fn default() -> Self {
        RepositoryBlock {
            name: String::new(),
            create: true,
            keep_images: None,
            tag_immutability: None,
            scan_on_push: None,
            force_delete: false,
        }
    }
}

pub use crate::resources::AllowTo;

/// The service as the schema has it. The blocks are `None` when the
/// configuration has none; their accessors give the defaults then.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ServiceState {
    pub name: String,
    pub cluster_name: Option<String>,
    pub image: String,
    pub image_tag: String,
    pub container_port: i32,
    pub cpu: i32,
    pub memory: i32,
    pub environment: Option<Tags>,
    pub secrets: Option<Tags>,
    pub desired_count: i32,
    pub vpc_id: String,
    pub public_subnet_ids: Vec<String>,
    pub private_subnet_ids: Vec<String>,
    pub allow_to: Vec<AllowTo>,
    pub certificate_arn: Option<String>,
    /// Who may reach the load balancer: `internet` or `cloudfront`.
    pub ingress: String,
    /// The provider's trigger for a rotation of the origin secret.
    pub origin_secret_rotation: Option<String>,
    pub log_retention_days: i32,
    pub keep_revisions: i32,
    pub tags: Option<Tags>,
    pub tags_all: Tags,
    #[serde(with = "crate::typed::one_block")]
    pub autoscaling: Option<Scaling>,
    #[serde(with = "crate::typed::one_block")]
    pub health_check: Option<HealthCheckBlock>,
    #[serde(with = "crate::typed::one_block")]
    pub deployment: Option<Deployment>,
    #[serde(with = "crate::typed::one_block")]
    pub alerts: Option<Alerts>,
    #[serde(with = "crate::typed::one_block")]
    pub repository: Option<RepositoryBlock>,
    // What has been made.
    pub repository_arn: Option<String>,
    /// The digest `image_tag` named when the revision was made, which the
    /// task definition runs (with a `repository`).
    pub image_digest: Option<String>,
    pub url: Option<String>,
    pub alb_arn: Option<String>,
    pub alb_dns_name: Option<String>,
    pub alb_zone_id: Option<String>,
    pub cluster_arn: Option<String>,
    pub service_arn: Option<String>,
    pub task_definition_arn: Option<String>,
    pub revision: Option<i64>,
    pub target_group_arn: Option<String>,
    pub security_group_id: Option<String>,
    pub alb_security_group_id: Option<String>,
    pub execution_role_arn: Option<String>,
    pub task_role_arn: Option<String>,
    pub log_group_name: Option<String>,
    pub alarm_topic_arn: Option<String>,
    pub alarm_name: Option<String>,
    pub notifier_function_arn: Option<String>,
    pub webhook_secret_arn: Option<String>,
    /// With `ingress = "cloudfront"`: the secret CloudFront sends in the
    /// origin header, its current version, and the listener rule that
    /// forwards only requests carrying it.
    pub origin_secret_arn: Option<String>,
    pub origin_secret_version: Option<String>,
    pub origin_rule_arn: Option<String>,
}

impl Default for ServiceState {
    fn default() -> Self {
        ServiceState {
            name: String::new(),
            cluster_name: None,
            image: String::new(),
            image_tag: String::new(),
            container_port: DEFAULT_CONTAINER_PORT,
            cpu: DEFAULT_CPU,
            memory: DEFAULT_MEMORY,
            environment: None,
            secrets: None,
            desired_count: DEFAULT_DESIRED_COUNT,
            vpc_id: String::new(),
            public_subnet_ids: Vec::new(),
            private_subnet_ids: Vec::new(),
            allow_to: Vec::new(),
            certificate_arn: None,
            ingress: "internet".into(),
            origin_secret_rotation: None,
            log_retention_days: 30,
            keep_revisions: 5,
            tags: None,
            tags_all: Tags::new(),
            autoscaling: None,
            health_check: None,
            deployment: None,
            alerts: None,
            repository: None,
            repository_arn: None,
            image_digest: None,
            url: None,
            alb_arn: None,
            alb_dns_name: None,
            alb_zone_id: None,
            cluster_arn: None,
            service_arn: None,
            task_definition_arn: None,
            revision: None,
            target_group_arn: None,
            security_group_id: None,
            alb_security_group_id: None,
            execution_role_arn: None,
            task_role_arn: None,
            log_group_name: None,
            alarm_topic_arn: None,
            alarm_name: None,
            notifier_function_arn: None,
            webhook_secret_arn: None,
            origin_secret_arn: None,
            origin_secret_version: None,
            origin_rule_arn: None,
        }
    }
}

impl ServiceState {
    /// Autoscaling's bounds: the block's, or the defaults.
    pub fn scaling(&self) -> Scaling {
        self.autoscaling.clone().unwrap_or_default()
    }

    /// The target group's health check: the block's, or the defaults.
    pub fn health_check(&self) -> HealthCheck {
        (&self.health_check.clone().unwrap_or_default()).into()
    }

    pub fn rollout(&self) -> Rollout {
        let d = self.deployment.unwrap_or_default();
        Rollout {
            minimum_healthy_percent: d.minimum_healthy_percent,
            maximum_percent: d.maximum_percent,
            rollback: d.rollback,
        }
    }

    pub fn wait_for_steady_state(&self) -> bool {
        self.deployment.unwrap_or_default().wait_for_steady_state
    }

    /// The alarm and notifier settings: the block's, or the defaults.
    pub fn alerts(&self) -> Alerts {
        self.alerts.clone().unwrap_or_default()
    }

    /// The Slack webhook, when one is configured.
    pub fn slack_webhook_url(&self) -> Option<&String> {
        self.alerts.as_ref()?.slack_webhook_url.as_ref()
    }

    /// The write-only Slack webhook: only in what create and update are
    /// asked for, never in a state.
    pub fn slack_webhook_url_wo(&self) -> Option<&String> {
        self.alerts.as_ref()?.slack_webhook_url_wo.as_ref()
    }

    /// The version of the write-only webhook, when that form is used.
    pub fn slack_webhook_url_wo_version(&self) -> Option<&String> {
        self.alerts.as_ref()?.slack_webhook_url_wo_version.as_ref()
    }

    /// Whether alerts go to Slack: a webhook in either form.
    pub fn has_slack_webhook(&self) -> bool {
        self.slack_webhook_url().is_some() || self.slack_webhook_url_wo_version().is_some()
    }

    /// Sets the write-only webhook's version, making the `alerts {}` block
    /// when there is none.
    pub fn set_slack_webhook_url_wo_version(&mut self, version: Option<String>) {
        match (&mut self.alerts, version) {
            (Some(a), version) => a.slack_webhook_url_wo_version = version,
            (None, Some(version)) => {
                self.alerts = Some(Alerts {
                    slack_webhook_url_wo_version: Some(version),
                    ..Alerts::default()
                })
            }
            (None, None) => {}
        }
    }

    /// Forgets the webhook in both forms: no secret holds it.
    pub fn clear_slack_webhook(&mut self) {
        if let Some(a) = &mut self.alerts {
            a.slack_webhook_url = None;
            a.slack_webhook_url_wo = None;
            a.slack_webhook_url_wo_version = None;
        }
    }

    /// Sets the webhook, making the `alerts {}` block when there is none.
    pub fn set_slack_webhook_url(&mut self, url: Option<String>) {
        match (&mut self.alerts, url) {
            (Some(a), url) => a.slack_webhook_url = url,
            (None, Some(url)) => {
                self.alerts = Some(Alerts {
                    slack_webhook_url: Some(url),
                    ..Alerts::default()
                })
            }
            (None, None) => {}
        }
    }

    /// The ECS cluster the service runs in.
    pub fn cluster(&self) -> String {
        self.cluster_name
            .clone()
            .unwrap_or_else(|| self.name.clone())
    }

    /// Whether the cluster is this resource's own, made and removed with it.
    pub fn owns_cluster(&self) -> bool {
        self.cluster_name.is_none()
    }

    pub fn family(&self) -> String {
        self.name.clone()
    }

    pub fn log_group(&self) -> String {
        format!("/ecs/{}", self.name)
    }

    pub fn execution_role(&self) -> String {
        format!("{}-exec", self.name)
    }

    pub fn task_role(&self) -> String {
        format!("{}-task", self.name)
    }

    pub fn notifier_role(&self) -> String {
        format!("{}-notifier", self.name)
    }

    pub fn notifier_function(&self) -> String {
        format!("{}-slack", self.name)
    }

    /// The group Lambda writes the notifier's logs to (made on its first run
    /// when absent, with no expiry): made beforehand with the service's
    /// retention, and deleted with the notifier.
    pub fn notifier_log_group(&self) -> String {
        format!("/aws/lambda/{}", self.notifier_function())
    }

    pub fn webhook_secret_name(&self) -> String {
        format!("fansite/{}/slack-webhook", self.name)
    }

    pub fn topic_name(&self) -> String {
        format!("{}-alarms", self.name)
    }

    pub fn alarm(&self) -> String {
        format!("{}-cpu-high", self.name)
    }

    /// Whether only CloudFront may reach the load balancer (and only with the origin secret).
    pub fn from_cloudfront(&self) -> bool {
        self.ingress == "cloudfront"
    }

    pub fn origin_secret_name(&self) -> String {
        format!("fansite/{}/origin-verify", self.name)
    }

    pub fn alb_security_group(&self) -> String {
        format!("{}-alb", self.name)
    }

    pub fn task_security_group(&self) -> String {
        format!("{}-tasks", self.name)
    }

    /// The description that marks ingress rules this service adds to other groups.
    pub fn rule_marker(&self) -> String {
        format!("fansite_service {}", self.name)
    }

    /// What the container runs: `<image>@<digest>` when pinned, else `<image>:<tag>`.
    pub fn full_image(&self) -> String {
        match &self.image_digest {
            Some(digest) => format!("{}@{digest}", self.image),
            None => format!("{}:{}", self.image, self.image_tag),
        }
    }

    /// The ECR repository's name: the block's, or the service's.
    pub fn repository_name(&self) -> Option<String> {
        self.repository.as_ref().map(|r| {
            if r.name.is_empty() {
                self.name.clone()
            } else {
                r.name.clone()
            }
        })
    }

    /// The secret ARNs the execution role may read: `valueFrom` without a JSON key.
    pub fn secret_arns(&self) -> Vec<String> {
        let mut arns: Vec<String> = self
            .secrets
            .iter()
            .flatten()
            .map(|(_, from)| secret_arn_of(from))
            .collect();
        arns.sort();
        arns.dedup();
        arns
    }

    pub fn task_spec(&self, region: &str) -> TaskSpec {
        TaskSpec {
            family: self.family(),
            image: self.full_image(),
            labels: self
                .image_digest
                .iter()
                .map(|_| {
                    (
                        crate::aws::ecr::VERSION_LABEL.to_string(),
                        self.image_tag.clone(),
                    )
                })
                .collect(),
            container_port: self.container_port,
            cpu: self.cpu,
            memory: self.memory,
            environment: self.environment.clone().unwrap_or_default(),
            secrets: self.secrets.clone().unwrap_or_default(),
            log_group: self.log_group(),
            region: region.to_string(),
            execution_role_arn: self.execution_role_arn.clone().unwrap_or_default(),
            task_role_arn: self.task_role_arn.clone().unwrap_or_default(),
        }
    }

    /// Whether `other` runs different containers (a new revision is needed).
    pub fn container_differs(&self, other: &ServiceState) -> bool {
        (
            &self.image,
            &self.image_tag,
            &self.image_digest,
            self.container_port,
            self.cpu,
            self.memory,
            self.environment.as_ref().filter(|m| !m.is_empty()),
            self.secrets.as_ref().filter(|m| !m.is_empty()),
        ) != (
            &other.image,
            &other.image_tag,
            &other.image_digest,
            other.container_port,
            other.cpu,
            other.memory,
            other.environment.as_ref().filter(|m| !m.is_empty()),
            other.secrets.as_ref().filter(|m| !m.is_empty()),
        )
    }

    pub fn service_scaling(&self) -> ServiceScaling {
        let s = self.scaling();
        ServiceScaling {
            min: s.min,
            max: s.max,
            target_cpu: f64::from(s.target_cpu),
            requests_per_target: s.requests_per_target.map(|n| {
                (
                    f64::from(n),
                    resource_label(
                        self.alb_arn.as_deref().unwrap_or_default(),
                        self.target_group_arn.as_deref().unwrap_or_default(),
                    ),
                )
            }),
            scheduled: s.scheduled,
        }
    }

    /// The load balancer's ingress as configured: the internet, or only
    /// CloudFront on the port it reaches the load balancer on.
    pub fn alb_ingress(&self) -> crate::aws::ec2::Ingress {
        if self.from_cloudfront() {
            crate::aws::ec2::Ingress::CloudFront {
                port: if self.certificate_arn.is_some() {
                    443
                } else {
                    80
                },
            }
        } else {
            crate::aws::ec2::Ingress::Internet
        }
    }

    pub fn url_for(&self, dns: &str) -> String {
        if self.certificate_arn.is_some() {
            format!("https://{dns}")
        } else {
            format!("http://{dns}")
        }
    }
}

/// `arn:...:secret:name-AbCdEf` from `arn:...:secret:name-AbCdEf:key::`.
pub fn secret_arn_of(value_from: &str) -> String {
    // A secret ARN has 7 colon-separated fields; a JSON key and versions come after.
    value_from.split(':').take(7).collect::<Vec<_>>().join(":")
}

/// The label ALBRequestCountPerTarget needs: `app/<lb>/<id>/targetgroup/<tg>/<id>`.
pub fn resource_label(alb_arn: &str, tg_arn: &str) -> String {
    let lb = alb_arn.split_once(":loadbalancer/").map(|(_, r)| r);
    let tg = tg_arn.rsplit_once(":targetgroup/").map(|(_, r)| r);
    match (lb, tg) {
        (Some(lb), Some(tg)) => format!("{lb}/targetgroup/{tg}"),
        _ => String::new(),
    }
}

/// `(image, tag, digest)` of what a container runs: `repository:tag`, or
/// `repository@digest` with the tag from its [`crate::aws::ecr::VERSION_LABEL`].
pub fn split_running(image: &str, labels: &Tags) -> (String, String, Option<String>) {
    match image.split_once('@') {
        Some((repo, digest)) => (
            repo.to_string(),
            labels
                .get(crate::aws::ecr::VERSION_LABEL)
                .cloned()
                .unwrap_or_default(),
            Some(digest.to_string()),
        ),
        None => {
            let (repo, tag) = split_image(image);
            (repo, tag, None)
        }
    }
}

/// The tag of `repository:tag` (the part after the last `:` that follows the last `/`).
pub fn split_image(image: &str) -> (String, String) {
    let slash = image.rfind('/').map(|i| i + 1).unwrap_or(0);
    match image[slash..].rfind(':') {
        Some(i) => (
            image[..slash + i].to_string(),
            image[slash + i + 1..].to_string(),
        ),
        None => (image.to_string(), String::new()),
    }
}
