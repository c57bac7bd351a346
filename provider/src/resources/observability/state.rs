//! The observability resource's state: its inputs, what it watches, and the
//! ids of what it made.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::aws::cloudwatch::{Alarm, Watch};

use super::defaults::*;
use super::panels::{self, Query, Watched, GLOBAL_REGION};

pub use crate::resources::Tags;

/// The resource as the schema has it; `dashboard_url` and
/// `grafana_dashboard_json` are derived from it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ObservabilityState {
    pub name: String,
    pub alarm_topic_arn: String,
    pub service_arn: String,
    pub alb_arn: String,
    pub service_log_group_name: String,
    pub database_cluster_id: Option<String>,
    pub distribution_id: Option<String>,
    pub web_acl_arn: Option<String>,
    pub waf_log_group_name: Option<String>,
    pub user_pool_id: Option<String>,
    pub user_pool_client_id: Option<String>,
    pub session_log_group_name: Option<String>,
    #[serde(flatten)]
    pub thresholds: Thresholds,
    pub tags: Option<Tags>,
    pub tags_all: Tags,
    pub dashboard_arn: Option<String>,
    /// The dashboard body as CloudWatch has it, keys sorted.
    pub dashboard_body: Option<String>,
    /// The alarms that exist, by kind.
    pub alarm_names: Option<BTreeMap<String, String>>,
    pub edge_alarm_topic_arn: Option<String>,
    pub saved_query_ids: Option<BTreeMap<String, String>>,
    /// Each saved query as `SOURCE '<group>' | <query>`, by key.
    pub saved_queries: Option<BTreeMap<String, String>>,
}

/// The alarms' thresholds, by their attribute names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Thresholds {
    pub alb_5xx_percent: i64,
    pub response_time_p95_ms: i64,
    pub replica_lag_ms: i64,
    pub freeable_memory_mb: i64,
    pub cloudfront_5xx_percent: i64,
    pub waf_blocked_per_minute: i64,
    pub evaluation_minutes: i64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            alb_5xx_percent: DEFAULT_ALB_5XX_PERCENT,
            response_time_p95_ms: DEFAULT_RESPONSE_TIME_P95_MS,
            replica_lag_ms: DEFAULT_REPLICA_LAG_MS,
            freeable_memory_mb: DEFAULT_FREEABLE_MEMORY_MB,
            cloudfront_5xx_percent: DEFAULT_CLOUDFRONT_5XX_PERCENT,
            waf_blocked_per_minute: DEFAULT_WAF_BLOCKED_PER_MINUTE,
            evaluation_minutes: DEFAULT_EVALUATION_MINUTES,
        }
    }
}

/// The kinds of alarm, in the order they are made.
pub const ALB_5XX: &str = "alb_5xx";
pub const ALB_P95: &str = "alb_p95";
pub const DB_REPLICA_LAG: &str = "db_replica_lag";
pub const DB_FREEABLE_MEMORY: &str = "db_freeable_memory";
pub const CLOUDFRONT_5XX: &str = "cloudfront_5xx";
pub const WAF_BLOCKED: &str = "waf_blocked";
pub const ALARM_KINDS: [&str; 6] = [
    ALB_5XX,
    ALB_P95,
    DB_REPLICA_LAG,
    DB_FREEABLE_MEMORY,
    CLOUDFRONT_5XX,
    WAF_BLOCKED,
];

/// Whether alarms of this kind live in us-east-1 (CloudFront and its web
/// ACL publish their metrics only there, and an alarm notifies a topic of
/// its own region).
pub fn is_global(kind: &str) -> bool {
    kind == CLOUDFRONT_5XX || kind == WAF_BLOCKED
}

/// The alarm of `kind` for the resource `name`: `<name>-alb-5xx`.
pub fn alarm_name(name: &str, kind: &str) -> String {
    format!("{name}-{}", kind.replace('_', "-"))
}

/// The saved query `key` of the resource `name`: `<name>/ecs-requests`.
pub fn query_name(name: &str, key: &str) -> String {
    format!("{name}/{key}")
}

/// The topic in us-east-1 that the CloudFront and WAF alarms notify, when
/// the provider's region is another.
pub fn edge_topic_name(name: &str) -> String {
    format!("{name}-edge-alarms")
}

const MIB: f64 = 1024.0 * 1024.0;

/// `arn:aws:ecs:<region>:<account>:service/<cluster>/<service>` → (cluster, service).
pub fn service_parts(arn: &str) -> Option<(String, String)> {
    let rest = arn.split(':').nth(5)?.strip_prefix("service/")?;
    let (cluster, service) = rest.split_once('/')?;
    (!cluster.is_empty() && !service.is_empty() && !service.contains('/'))
        .then(|| (cluster.to_string(), service.to_string()))
}

/// `arn:…:loadbalancer/app/<name>/<id>` → `app/<name>/<id>`, the `LoadBalancer` dimension.
pub fn load_balancer_dimension(arn: &str) -> Option<String> {
    let rest = arn.split(':').nth(5)?.strip_prefix("loadbalancer/")?;
    (rest.starts_with("app/") && rest.split('/').count() == 3).then(|| rest.to_string())
}

/// `arn:aws:wafv2:us-east-1:<account>:global/webacl/<name>/<id>` → `<name>`,
/// which is the web ACL's metric name as fansite_edge makes it.
pub fn web_acl_name(arn: &str) -> Option<String> {
    let rest = arn.split(':').nth(5)?.strip_prefix("global/webacl/")?;
    let (name, id) = rest.split_once('/')?;
    (!name.is_empty() && !id.is_empty()).then(|| name.to_string())
}

/// The region an ARN names.
pub fn arn_region(arn: &str) -> Option<&str> {
    arn.split(':').nth(3).filter(|r| !r.is_empty())
}

impl ObservabilityState {
    /// What the dashboard watches, or `None` when an ARN does not parse
    /// (validate reports it first).
    pub fn watched(&self, region: &str) -> Option<Watched> {
        let (cluster, service) = service_parts(&self.service_arn)?;
        Some(Watched {
            name: self.name.clone(),
            region: region.to_string(),
            cluster,
            service,
            load_balancer: load_balancer_dimension(&self.alb_arn)?,
            service_log_group: self.service_log_group_name.clone(),
            database: self.database_cluster_id.clone(),
            distribution: self.distribution_id.clone(),
            web_acl: self.web_acl_arn.as_deref().and_then(web_acl_name),
            waf_log_group: self.waf_log_group_name.clone(),
            user_pool: self
                .user_pool_id
                .clone()
                .zip(self.user_pool_client_id.clone()),
            session_log_group: self.session_log_group_name.clone(),
        })
    }

    /// The inputs the dashboard's header names (and import reads back).
    pub fn header_inputs(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![
            ("alarm_topic_arn", self.alarm_topic_arn.clone()),
            ("service_arn", self.service_arn.clone()),
            ("alb_arn", self.alb_arn.clone()),
            (
                "service_log_group_name",
                self.service_log_group_name.clone(),
            ),
        ];
        let optional = [
            ("database_cluster_id", &self.database_cluster_id),
            ("distribution_id", &self.distribution_id),
            ("web_acl_arn", &self.web_acl_arn),
            ("waf_log_group_name", &self.waf_log_group_name),
            ("user_pool_id", &self.user_pool_id),
            ("user_pool_client_id", &self.user_pool_client_id),
            ("session_log_group_name", &self.session_log_group_name),
        ];
        out.extend(
            optional
                .into_iter()
                .filter_map(|(k, v)| v.clone().map(|v| (k, v))),
        );
        out
    }

    /// Sets the inputs a dashboard's header names.
    pub fn set_header_inputs(&mut self, inputs: &BTreeMap<String, String>) {
        let get = |k: &str| inputs.get(k).cloned();
        self.alarm_topic_arn = get("alarm_topic_arn").unwrap_or_default();
        self.service_arn = get("service_arn").unwrap_or_default();
        self.alb_arn = get("alb_arn").unwrap_or_default();
        self.service_log_group_name = get("service_log_group_name").unwrap_or_default();
        self.database_cluster_id = get("database_cluster_id");
        self.distribution_id = get("distribution_id");
        self.web_acl_arn = get("web_acl_arn");
        self.waf_log_group_name = get("waf_log_group_name");
        self.user_pool_id = get("user_pool_id");
        self.user_pool_client_id = get("user_pool_client_id");
        self.session_log_group_name = get("session_log_group_name");
    }

    /// The dashboard body for these inputs.
    pub fn body(&self, region: &str) -> Option<String> {
        self.watched(region)
            .map(|w| panels::cloudwatch_body(&w, &self.header_inputs()))
    }

    /// Whether CloudFront or WAF alarms are wanted.
    pub fn watches_edge(&self) -> bool {
        self.distribution_id.is_some() || self.web_acl_arn.is_some()
    }

    /// Whether this resource makes its own topic in us-east-1.
    pub fn owns_edge_topic(&self, region: &str) -> bool {
        self.watches_edge() && region != GLOBAL_REGION
    }

    /// The alarms wanted, by kind; `edge_topic` is the topic the us-east-1
    /// alarms notify (`None` while it is not made yet: those are left out).
    pub fn alarms(&self, region: &str, edge_topic: Option<&str>) -> BTreeMap<&'static str, Alarm> {
        let mut out = BTreeMap::new();
        let Some(w) = self.watched(region) else {
            return out;
        };
        let t = &self.thresholds;
        let periods = i32::try_from(t.evaluation_minutes).unwrap_or(1);
        let minutes = t.evaluation_minutes;
        let alarm = |kind: &str, description: String, watch, threshold, below, topic: &str| Alarm {
            name: alarm_name(&self.name, kind),
            description,
            watch,
            threshold,
            evaluation_periods: periods,
            below,
            topic_arn: topic.to_string(),
        };
        let stat = |ns: &str, metric: &str, dims: Vec<(&str, &str)>, stat: &str| Watch::Stat {
            namespace: ns.into(),
            metric: metric.into(),
            dimensions: dims
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            stat: stat.into(),
        };
        let topic = self.alarm_topic_arn.as_str();
        let lb = vec![("LoadBalancer", w.load_balancer.as_str())];
        out.insert(
            ALB_5XX,
            alarm(
                ALB_5XX,
                format!("More than {}% of the API's requests answered 5xx (by the API or the load balancer) for {minutes} minutes", t.alb_5xx_percent),
                Watch::Percent {
                    namespace: "AWS/ApplicationELB".into(),
                    parts: vec!["HTTPCode_Target_5XX_Count".into(), "HTTPCode_ELB_5XX_Count".into()],
                    whole: "RequestCount".into(),
                    dimensions: vec![("LoadBalancer".into(), w.load_balancer.clone())],
                },
                t.alb_5xx_percent as f64,
                false,
                topic,
            ),
        );
        out.insert(
            ALB_P95,
            alarm(
                ALB_P95,
                format!(
                    "The API's p95 response time above {} ms for {minutes} minutes",
                    t.response_time_p95_ms
                ),
                stat("AWS/ApplicationELB", "TargetResponseTime", lb, "p95"),
                t.response_time_p95_ms as f64 / 1000.0,
                false,
                topic,
            ),
        );
        if let Some(db) = &w.database {
            let c = || vec![("DBClusterIdentifier", db.as_str())];
            out.insert(
                DB_REPLICA_LAG,
                alarm(
                    DB_REPLICA_LAG,
                    format!("An Aurora reader of {db} more than {} ms behind the writer for {minutes} minutes", t.replica_lag_ms),
                    stat("AWS/RDS", "AuroraReplicaLagMaximum", c(), "Maximum"),
                    t.replica_lag_ms as f64,
                    false,
                    topic,
                ),
            );
            out.insert(
                DB_FREEABLE_MEMORY,
                alarm(
                    DB_FREEABLE_MEMORY,
                    format!("An Aurora instance of {db} with less than {} MiB of free memory for {minutes} minutes", t.freeable_memory_mb),
                    stat("AWS/RDS", "FreeableMemory", c(), "Minimum"),
                    t.freeable_memory_mb as f64 * MIB,
                    true,
                    topic,
                ),
            );
        }
        let Some(edge_topic) = edge_topic else {
            return out;
        };
        if let Some(dist) = &w.distribution {
            out.insert(
                CLOUDFRONT_5XX,
                alarm(
                    CLOUDFRONT_5XX,
                    format!("More than {}% of CloudFront's responses for {dist} were 5xx for {minutes} minutes", t.cloudfront_5xx_percent),
                    stat("AWS/CloudFront", "5xxErrorRate", vec![("DistributionId", dist.as_str()), ("Region", "Global")], "Average"),
                    t.cloudfront_5xx_percent as f64,
                    false,
                    edge_topic,
                ),
            );
        }
        if let Some(acl) = &w.web_acl {
            out.insert(
                WAF_BLOCKED,
                alarm(
                    WAF_BLOCKED,
                    format!("The web ACL {acl} blocked more than {} requests a minute for {minutes} minutes: an attack, or a rule blocking fans", t.waf_blocked_per_minute),
                    stat("AWS/WAFV2", "BlockedRequests", vec![("WebACL", acl.as_str()), ("Rule", "ALL")], "Sum"),
                    t.waf_blocked_per_minute as f64,
                    false,
                    edge_topic,
                ),
            );
        }
        out
    }

    /// The alarm names wanted, by kind (whatever topic they notify).
    pub fn alarm_names_wanted(&self, region: &str) -> BTreeMap<String, String> {
        self.alarms(region, Some(""))
            .into_iter()
            .map(|(k, a)| (k.to_string(), a.name))
            .collect()
    }

    /// Sets the threshold of `kind` from an alarm's threshold as CloudWatch has it.
    pub fn set_threshold(&mut self, kind: &str, threshold: f64, periods: i32) {
        let t = &mut self.thresholds;
        let whole = |x: f64| x.round() as i64;
        match kind {
            ALB_5XX => t.alb_5xx_percent = whole(threshold),
            ALB_P95 => t.response_time_p95_ms = whole(threshold * 1000.0),
            DB_REPLICA_LAG => t.replica_lag_ms = whole(threshold),
            DB_FREEABLE_MEMORY => t.freeable_memory_mb = whole(threshold / MIB),
            CLOUDFRONT_5XX => t.cloudfront_5xx_percent = whole(threshold),
            WAF_BLOCKED => t.waf_blocked_per_minute = whole(threshold),
            _ => return,
        }
        t.evaluation_minutes = i64::from(periods);
    }

    /// The saved queries wanted.
    pub fn queries(&self, region: &str) -> Vec<Query> {
        self.watched(region)
            .map(|w| panels::queries(&w))
            .unwrap_or_default()
    }

    pub fn saved_queries_wanted(&self, region: &str) -> BTreeMap<String, String> {
        self.queries(region)
            .iter()
            .map(|q| (q.key.to_string(), q.with_source()))
            .collect()
    }

    /// `https://<region>.console.aws.amazon.com/cloudwatch/home?region=<region>#dashboards/dashboard/<name>`.
    pub fn dashboard_url(&self, region: &str) -> String {
        format!("https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#dashboards/dashboard/{}", self.name)
    }
}
