//! The service's state: its inputs, and the ids of every part made so far.

use std::collections::BTreeMap;

use crate::aws::autoscaling::{ScheduledBounds, ServiceScaling};
use crate::aws::ecs::{Rollout, TaskSpec};
use crate::aws::elbv2::HealthCheck;
use crate::value::Dyn;

use super::defaults::*;

pub type Tags = BTreeMap<String, String>;

#[derive(Clone, Debug, PartialEq)]
pub struct Scaling {
    pub min: i32,
    pub max: i32,
    pub target_cpu: i32,
    pub requests_per_target: Option<i32>,
    pub scheduled: Vec<ScheduledBounds>,
}

impl Scaling {
    pub fn default_for() -> Scaling {
        Scaling {
            min: DEFAULT_MIN_TASKS,
            max: DEFAULT_MAX_TASKS,
            target_cpu: DEFAULT_TARGET_CPU,
            requests_per_target: None,
            scheduled: Vec::new(),
        }
    }

    pub fn autoscaled(&self) -> bool {
        self.max > self.min || !self.scheduled.is_empty()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Alerts {
    pub cpu_threshold: i32,
    pub evaluation_periods: i32,
    pub slack_webhook_url: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
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
    /// (security group, port)
    pub allow_to: Vec<(String, i32)>,
    pub certificate_arn: Option<String>,
    pub log_retention_days: i32,
    pub keep_revisions: i32,
    pub tags: Option<Tags>,
    pub tags_all: Tags,
    pub scaling: Scaling,
    pub scaling_block: bool,
    pub health_check: HealthCheck,
    pub health_check_block: bool,
    pub rollout: Rollout,
    pub wait_for_steady_state: bool,
    pub deployment_block: bool,
    pub alerts: Alerts,
    pub alerts_block: bool,
    pub timeouts: Dyn,
    // What has been made.
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
}

fn int(v: &Dyn, name: &str, default: i32) -> i32 {
    v.get(name)
        .as_i64()
        .and_then(|n| i32::try_from(n).ok())
        .unwrap_or(default)
}

fn string(v: &Dyn, name: &str) -> Option<String> {
    v.get(name).as_str().map(str::to_string)
}

fn first(v: &Dyn, name: &str) -> Option<Dyn> {
    v.get(name).as_list().and_then(|l| l.first()).cloned()
}

fn opt_map(v: &Dyn, name: &str) -> Option<Tags> {
    v.get(name).as_map().map(|_| v.get(name).string_map())
}

fn map_dyn(m: &Option<Tags>) -> Dyn {
    m.as_ref()
        .map(|t| Dyn::from_string_map(t.iter()))
        .unwrap_or(Dyn::Null)
}

impl ServiceState {
    /// From a state or a plan; unknown values read as their defaults.
    pub fn from_dyn(v: &Dyn) -> ServiceState {
        let sb = first(v, "autoscaling");
        let scaling = match &sb {
            Some(b) => {
                let min = int(b, "min", DEFAULT_MIN_TASKS);
                Scaling {
                    min,
                    max: int(b, "max", DEFAULT_MAX_TASKS.max(min)),
                    target_cpu: int(b, "target_cpu", DEFAULT_TARGET_CPU),
                    requests_per_target: b
                        .get("requests_per_target")
                        .as_i64()
                        .and_then(|n| i32::try_from(n).ok()),
                    scheduled: {
                        let mut s: Vec<ScheduledBounds> = b
                            .get("scheduled")
                            .as_list()
                            .unwrap_or_default()
                            .iter()
                            .map(|s| ScheduledBounds {
                                name: string(s, "name").unwrap_or_default(),
                                schedule: string(s, "schedule").unwrap_or_default(),
                                timezone: string(s, "timezone")
                                    .unwrap_or_else(|| DEFAULT_TIMEZONE.into()),
                                min: int(s, "min", 0),
                                max: int(s, "max", 0),
                            })
                            .collect();
                        s.sort_by(|a, b| a.name.cmp(&b.name));
                        s
                    },
                }
            }
            None => Scaling::default_for(),
        };
        let hb = first(v, "health_check");
        let h = hb.clone().unwrap_or(Dyn::Null);
        let db = first(v, "deployment");
        let d = db.clone().unwrap_or(Dyn::Null);
        let ab = first(v, "alerts");
        let a = ab.clone().unwrap_or(Dyn::Null);
        ServiceState {
            name: string(v, "name").unwrap_or_default(),
            cluster_name: string(v, "cluster_name"),
            image: string(v, "image").unwrap_or_default(),
            image_tag: string(v, "image_tag").unwrap_or_default(),
            container_port: int(v, "container_port", DEFAULT_CONTAINER_PORT),
            cpu: int(v, "cpu", DEFAULT_CPU),
            memory: int(v, "memory", DEFAULT_MEMORY),
            environment: opt_map(v, "environment"),
            secrets: opt_map(v, "secrets"),
            desired_count: int(v, "desired_count", DEFAULT_DESIRED_COUNT),
            vpc_id: string(v, "vpc_id").unwrap_or_default(),
            public_subnet_ids: v.get("public_subnet_ids").string_list(),
            private_subnet_ids: v.get("private_subnet_ids").string_list(),
            allow_to: v
                .get("allow_to")
                .as_list()
                .unwrap_or_default()
                .iter()
                .map(|a| {
                    (
                        string(a, "security_group_id").unwrap_or_default(),
                        int(a, "port", 3306),
                    )
                })
                .collect(),
            certificate_arn: string(v, "certificate_arn"),
            log_retention_days: int(v, "log_retention_days", 30),
            keep_revisions: int(v, "keep_revisions", 5),
            tags: opt_map(v, "tags"),
            tags_all: v.get("tags_all").string_map(),
            scaling,
            scaling_block: sb.is_some(),
            health_check: HealthCheck {
                path: string(&h, "path").unwrap_or_else(|| DEFAULT_HEALTH_PATH.into()),
                interval_secs: int(&h, "interval", 15),
                timeout_secs: int(&h, "timeout", 5),
                healthy_threshold: int(&h, "healthy_threshold", 2),
                unhealthy_threshold: int(&h, "unhealthy_threshold", 3),
                matcher: string(&h, "matcher").unwrap_or_else(|| "200-399".into()),
            },
            health_check_block: hb.is_some(),
            rollout: Rollout {
                minimum_healthy_percent: int(&d, "minimum_healthy_percent", 100),
                maximum_percent: int(&d, "maximum_percent", 200),
                rollback: d.get("rollback").as_bool().unwrap_or(true),
            },
            wait_for_steady_state: d.get("wait_for_steady_state").as_bool().unwrap_or(true),
            deployment_block: db.is_some(),
            alerts: Alerts {
                cpu_threshold: int(&a, "cpu_threshold", DEFAULT_ALARM_CPU),
                evaluation_periods: int(&a, "evaluation_periods", DEFAULT_EVALUATION_PERIODS),
                slack_webhook_url: string(&a, "slack_webhook_url"),
            },
            alerts_block: ab.is_some(),
            timeouts: v.get("timeouts").clone(),
            url: string(v, "url"),
            alb_arn: string(v, "alb_arn"),
            alb_dns_name: string(v, "alb_dns_name"),
            alb_zone_id: string(v, "alb_zone_id"),
            cluster_arn: string(v, "cluster_arn"),
            service_arn: string(v, "service_arn"),
            task_definition_arn: string(v, "task_definition_arn"),
            revision: v.get("revision").as_i64(),
            target_group_arn: string(v, "target_group_arn"),
            security_group_id: string(v, "security_group_id"),
            alb_security_group_id: string(v, "alb_security_group_id"),
            execution_role_arn: string(v, "execution_role_arn"),
            task_role_arn: string(v, "task_role_arn"),
            log_group_name: string(v, "log_group_name"),
            alarm_topic_arn: string(v, "alarm_topic_arn"),
            alarm_name: string(v, "alarm_name"),
            notifier_function_arn: string(v, "notifier_function_arn"),
            webhook_secret_arn: string(v, "webhook_secret_arn"),
        }
    }

    pub fn to_dyn(&self) -> Dyn {
        let mut v = Dyn::obj();
        let opt = |s: &Option<String>| -> Dyn { s.clone().into() };
        let num = |n: i32| Dyn::Number(i64::from(n));
        v.set("name", self.name.clone().into());
        v.set("cluster_name", opt(&self.cluster_name));
        v.set("image", self.image.clone().into());
        v.set("image_tag", self.image_tag.clone().into());
        v.set("container_port", num(self.container_port));
        v.set("cpu", num(self.cpu));
        v.set("memory", num(self.memory));
        v.set("environment", map_dyn(&self.environment));
        v.set("secrets", map_dyn(&self.secrets));
        v.set("desired_count", num(self.desired_count));
        v.set("vpc_id", self.vpc_id.clone().into());
        v.set(
            "public_subnet_ids",
            Dyn::from_strings(self.public_subnet_ids.iter().cloned()),
        );
        v.set(
            "private_subnet_ids",
            Dyn::from_strings(self.private_subnet_ids.iter().cloned()),
        );
        v.set(
            "allow_to",
            Dyn::List(
                self.allow_to
                    .iter()
                    .map(|(sg, port)| {
                        let mut b = Dyn::obj();
                        b.set("security_group_id", sg.clone().into());
                        b.set("port", num(*port));
                        b
                    })
                    .collect(),
            ),
        );
        v.set("certificate_arn", opt(&self.certificate_arn));
        v.set("log_retention_days", num(self.log_retention_days));
        v.set("keep_revisions", num(self.keep_revisions));
        v.set("tags", map_dyn(&self.tags));
        v.set("tags_all", Dyn::from_string_map(self.tags_all.iter()));
        let s = &self.scaling;
        v.set(
            "autoscaling",
            if self.scaling_block {
                let mut b = Dyn::obj();
                b.set("min", num(s.min));
                b.set("max", num(s.max));
                b.set("target_cpu", num(s.target_cpu));
                b.set(
                    "requests_per_target",
                    s.requests_per_target.map(num).unwrap_or(Dyn::Null),
                );
                b.set(
                    "scheduled",
                    Dyn::List(
                        s.scheduled
                            .iter()
                            .map(|x| {
                                let mut o = Dyn::obj();
                                o.set("name", x.name.clone().into());
                                o.set("schedule", x.schedule.clone().into());
                                o.set("timezone", x.timezone.clone().into());
                                o.set("min", num(x.min));
                                o.set("max", num(x.max));
                                o
                            })
                            .collect(),
                    ),
                );
                Dyn::List(vec![b])
            } else {
                Dyn::List(vec![])
            },
        );
        let h = &self.health_check;
        v.set(
            "health_check",
            if self.health_check_block {
                let mut b = Dyn::obj();
                b.set("path", h.path.clone().into());
                b.set("interval", num(h.interval_secs));
                b.set("timeout", num(h.timeout_secs));
                b.set("healthy_threshold", num(h.healthy_threshold));
                b.set("unhealthy_threshold", num(h.unhealthy_threshold));
                b.set("matcher", h.matcher.clone().into());
                Dyn::List(vec![b])
            } else {
                Dyn::List(vec![])
            },
        );
        v.set(
            "deployment",
            if self.deployment_block {
                let mut b = Dyn::obj();
                b.set(
                    "minimum_healthy_percent",
                    num(self.rollout.minimum_healthy_percent),
                );
                b.set("maximum_percent", num(self.rollout.maximum_percent));
                b.set("rollback", self.rollout.rollback.into());
                b.set("wait_for_steady_state", self.wait_for_steady_state.into());
                Dyn::List(vec![b])
            } else {
                Dyn::List(vec![])
            },
        );
        v.set(
            "alerts",
            if self.alerts_block {
                let mut b = Dyn::obj();
                b.set("cpu_threshold", num(self.alerts.cpu_threshold));
                b.set("evaluation_periods", num(self.alerts.evaluation_periods));
                b.set("slack_webhook_url", opt(&self.alerts.slack_webhook_url));
                Dyn::List(vec![b])
            } else {
                Dyn::List(vec![])
            },
        );
        v.set("timeouts", self.timeouts.clone());
        v.set("url", opt(&self.url));
        v.set("alb_arn", opt(&self.alb_arn));
        v.set("alb_dns_name", opt(&self.alb_dns_name));
        v.set("alb_zone_id", opt(&self.alb_zone_id));
        v.set("cluster_arn", opt(&self.cluster_arn));
        v.set("service_arn", opt(&self.service_arn));
        v.set("task_definition_arn", opt(&self.task_definition_arn));
        v.set(
            "revision",
            self.revision.map(Dyn::Number).unwrap_or(Dyn::Null),
        );
        v.set("target_group_arn", opt(&self.target_group_arn));
        v.set("security_group_id", opt(&self.security_group_id));
        v.set("alb_security_group_id", opt(&self.alb_security_group_id));
        v.set("execution_role_arn", opt(&self.execution_role_arn));
        v.set("task_role_arn", opt(&self.task_role_arn));
        v.set("log_group_name", opt(&self.log_group_name));
        v.set("alarm_topic_arn", opt(&self.alarm_topic_arn));
        v.set("alarm_name", opt(&self.alarm_name));
        v.set("notifier_function_arn", opt(&self.notifier_function_arn));
        v.set("webhook_secret_arn", opt(&self.webhook_secret_arn));
        v
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

    pub fn webhook_secret_name(&self) -> String {
        format!("fansite/{}/slack-webhook", self.name)
    }

    pub fn topic_name(&self) -> String {
        format!("{}-alarms", self.name)
    }

    pub fn alarm(&self) -> String {
        format!("{}-cpu-high", self.name)
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

    pub fn full_image(&self) -> String {
        format!("{}:{}", self.image, self.image_tag)
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
            self.container_port,
            self.cpu,
            self.memory,
            self.environment.as_ref().filter(|m| !m.is_empty()),
            self.secrets.as_ref().filter(|m| !m.is_empty()),
        ) != (
            &other.image,
            &other.image_tag,
            other.container_port,
            other.cpu,
            other.memory,
            other.environment.as_ref().filter(|m| !m.is_empty()),
            other.secrets.as_ref().filter(|m| !m.is_empty()),
        )
    }

    pub fn service_scaling(&self) -> ServiceScaling {
        ServiceScaling {
            min: self.scaling.min,
            max: self.scaling.max,
            target_cpu: f64::from(self.scaling.target_cpu),
            requests_per_target: self.scaling.requests_per_target.map(|n| {
                (
                    f64::from(n),
                    resource_label(
                        self.alb_arn.as_deref().unwrap_or_default(),
                        self.target_group_arn.as_deref().unwrap_or_default(),
                    ),
                )
            }),
            scheduled: self.scaling.scheduled.clone(),
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

/// The health check when the configuration has no `health_check` block.
pub fn default_health_check() -> HealthCheck {
    ServiceState::from_dyn(&Dyn::obj()).health_check
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
