//! `fansite_observability`: a CloudWatch dashboard, alarms and saved Logs
//! Insights queries over a fan-site stack, and the same dashboard for Grafana.
//!
//! Lifecycle in order: schema, validate, read, plan, create and update (one
//! converge), delete, import.

mod find;
pub mod panels;
mod schema;
mod state;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;

use crate::aws::{cloudwatch, logs, sns, Aws};
use crate::diag::{AttrPath, Diags};
use crate::driver::{Composite, Part, Timeouts};
use crate::error::Result;
use crate::schema::Schema;
use crate::typed;
use crate::value::Dyn;

use panels::GLOBAL_REGION;
pub use state::ObservabilityState;
use state::{alarm_name, arn_region, edge_topic_name, is_global, query_name};

/// Defaults for production: alarms that wake someone only when fans notice.
pub mod defaults {
    /// One request in a hundred failing is an outage for a thousand fans a minute.
    pub const DEFAULT_ALB_5XX_PERCENT: i64 = 1;
    pub const DEFAULT_RESPONSE_TIME_P95_MS: i64 = 1000;
    pub const DEFAULT_REPLICA_LAG_MS: i64 = 2000;
    pub const DEFAULT_FREEABLE_MEMORY_MB: i64 = 256;
    pub const DEFAULT_CLOUDFRONT_5XX_PERCENT: i64 = 1;
    pub const DEFAULT_WAF_BLOCKED_PER_MINUTE: i64 = 1000;
    pub const DEFAULT_EVALUATION_MINUTES: i64 = 5;
}

/// Every part is one call that takes effect at once; five minutes leaves room
/// for CloudWatch's and SNS's throttling on a busy account.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// The inputs the dashboard, alarms and queries are made from.
const INPUTS: [&str; 19] = [
    "name",
    "alarm_topic_arn",
    "service_arn",
    "alb_arn",
    "service_log_group_name",
    "database_cluster_id",
    "distribution_id",
    "web_acl_arn",
    "waf_log_group_name",
    "user_pool_id",
    "user_pool_client_id",
    "session_log_group_name",
    "alb_5xx_percent",
    "response_time_p95_ms",
    "replica_lag_ms",
    "freeable_memory_mb",
    "cloudfront_5xx_percent",
    "waf_blocked_per_minute",
    "evaluation_minutes",
];

pub struct ObservabilityResource;

#[async_trait]
impl Composite for ObservabilityResource {
    type State = ObservabilityState;
    const NAME: &'static str = "observability";
    const TIMEOUTS: Timeouts = Timeouts {
        create: DEFAULT_TIMEOUT,
        update: DEFAULT_TIMEOUT,
        delete: DEFAULT_TIMEOUT,
    };
    /// The dashboard, when it was deleted outside Terraform.
    const PARTS: &'static [Part] = &[Part {
        id: "dashboard_arn",
        outputs: &["dashboard_body"],
    }];

    fn schema(&self) -> Schema {
        schema::schema()
    }

    fn validate(&self, config: &Dyn, diags: &mut Diags) {
        validate_config(config, diags);
    }

    fn derived(&self, region: &str, state: &ObservabilityState) -> Vec<(&'static str, Dyn)> {
        let grafana = state
            .watched(region)
            .map(|w| Dyn::String(panels::grafana_dashboard(&w)))
            .unwrap_or(Dyn::Null);
        vec![
            ("dashboard_url", Dyn::String(state.dashboard_url(region))),
            ("grafana_dashboard_json", grafana),
        ]
    }

    fn label(&self, state: &ObservabilityState) -> String {
        format!("observability {:?}", state.name)
    }

    fn unmade(&self, want: &ObservabilityState) -> ObservabilityState {
        ObservabilityState {
            dashboard_arn: None,
            dashboard_body: None,
            alarm_names: None,
            edge_alarm_topic_arn: None,
            saved_query_ids: None,
            saved_queries: None,
            ..want.clone()
        }
    }

    fn has_parts(&self, state: &ObservabilityState) -> bool {
        state.dashboard_arn.is_some()
            || state.alarm_names.as_ref().is_some_and(|m| !m.is_empty())
            || state
                .saved_query_ids
                .as_ref()
                .is_some_and(|m| !m.is_empty())
            || state.edge_alarm_topic_arn.is_some()
    }

    async fn find(
        &self,
        aws: &Aws,
        hints: &ObservabilityState,
    ) -> Result<Option<ObservabilityState>> {
        find::find(aws, hints).await
    }

    async fn plan(
        &self,
        aws: Option<&Aws>,
        prior: Option<&Dyn>,
        mut planned: Dyn,
        _config: &Dyn,
        diags: &mut Diags,
    ) -> Dyn {
        const FROM_INPUTS: [&str; 5] = [
            "dashboard_body",
            "alarm_names",
            "saved_queries",
            "dashboard_url",
            "grafana_dashboard_json",
        ];
        let Some(aws) = aws else {
            for name in FROM_INPUTS {
                planned.set(name, Dyn::Unknown);
            }
            return planned;
        };
        let region = aws.region.as_str();
        for attr in ["alarm_topic_arn", "service_arn", "alb_arn"] {
            if let Some(r) = planned.get(attr).as_str().and_then(arn_region) {
                if r != region {
                    diags.attr_error(
                        AttrPath::attr(attr),
                        "Not in the provider's region",
                        format!("{attr} is in {r}, but the provider's region is {region}: the dashboard's panels and the alarms are made in {region}, and an alarm notifies only a topic of its own region. Use a provider in {r} for this stack."),
                    );
                }
            }
        }
        if INPUTS.iter().any(|a| planned.get(a).has_unknown()) {
            for name in FROM_INPUTS {
                planned.set(name, Dyn::Unknown);
            }
            for name in ["saved_query_ids", "edge_alarm_topic_arn"] {
                planned.set(name, Dyn::Unknown);
            }
            return planned;
        }
        let Ok(want) = typed::decode::<ObservabilityState>(&planned) else {
            return planned;
        };
        let strings = |m: BTreeMap<String, String>| Dyn::from_string_map(m.iter());
        planned.set(
            "dashboard_body",
            want.body(region).map(Dyn::String).unwrap_or(Dyn::Unknown),
        );
        planned.set("alarm_names", strings(want.alarm_names_wanted(region)));
        let queries = want.saved_queries_wanted(region);
        let prior_ids = prior.map(|p| p.get("saved_query_ids").string_map());
        let ids = match prior_ids {
            Some(ids) if ids.keys().eq(queries.keys()) => strings(ids),
            _ => Dyn::Unknown,
        };
        planned.set("saved_query_ids", ids);
        planned.set("saved_queries", strings(queries));
        let edge_topic = if !want.watches_edge() {
            Dyn::Null
        } else if region == GLOBAL_REGION {
            Dyn::String(want.alarm_topic_arn.clone())
        } else {
            match prior.map(|p| p.get("edge_alarm_topic_arn")) {
                Some(Dyn::String(arn)) => Dyn::String(arn.clone()),
                _ => Dyn::Unknown,
            }
        };
        planned.set("edge_alarm_topic_arn", edge_topic);
        for (name, value) in self.derived(region, &want) {
            planned.set(name, value);
        }
        planned
    }

    async fn create(
        &self,
        aws: &Aws,
        cur: &mut ObservabilityState,
        want: &ObservabilityState,
    ) -> Result<()> {
        converge(aws, cur, want).await
    }

    async fn update(
        &self,
        aws: &Aws,
        cur: &mut ObservabilityState,
        want: &ObservabilityState,
    ) -> Result<()> {
        converge(aws, cur, want).await
    }

    async fn delete(&self, aws: &Aws, cur: &ObservabilityState) -> Result<()> {
        // What exists, listed rather than taken from state: an alarm or a
        // query made by a create that failed before saving is removed too.
        let alarms = find::alarms(aws, &cur.name).await?;
        let (global, here): (Vec<&str>, Vec<&str>) =
            alarms.keys().copied().partition(|k| is_global(k));
        let names = |kinds: Vec<&str>| -> Vec<String> {
            kinds.iter().map(|k| alarm_name(&cur.name, k)).collect()
        };
        cloudwatch::delete_alarms(&aws.cloudwatch, &names(here)).await?;
        cloudwatch::delete_alarms(aws.cloudwatch_at(true), &names(global)).await?;
        for (key, (id, _)) in find::queries(aws, &cur.name).await? {
            logs::delete_query_definition(query_client(aws, &key), &id).await?;
        }
        cloudwatch::delete_dashboard(&aws.cloudwatch, &cur.name).await?;
        if aws.region != GLOBAL_REGION {
            if let Some(arn) = &cur.edge_alarm_topic_arn {
                sns::delete_topic(&aws.sns_global, arn).await?;
            }
        }
        Ok(())
    }

    async fn import(&self, aws: &Aws, id: &str, diags: &mut Diags) -> Option<ObservabilityState> {
        if let Some(why) = rules::name(id) {
            diags.error(
                "Invalid import ID",
                format!("Import a fansite_observability by its dashboard name. {why}"),
            );
            return None;
        }
        let body = match cloudwatch::get_dashboard(&aws.cloudwatch, id).await {
            Ok(Some((_, body))) => body,
            Ok(None) => {
                diags.error(
                    "Cannot import non-existent dashboard",
                    format!(
                        "No CloudWatch dashboard {id:?} was found in {}.",
                        aws.region
                    ),
                );
                return None;
            }
            Err(e) => {
                e.report(diags);
                return None;
            }
        };
        let inputs = serde_json::from_str(&body)
            .map(|v| panels::inputs_from_header(&v))
            .unwrap_or_default();
        if !inputs.contains_key("service_arn") {
            diags.error(
                "Not a fansite_observability dashboard",
                format!("Dashboard {id:?} has no header naming the stack it watches, so it was not made by fansite_observability and cannot be imported as one."),
            );
            return None;
        }
        let mut state = ObservabilityState {
            name: id.to_string(),
            ..ObservabilityState::default()
        };
        state.set_header_inputs(&inputs);
        // Read next finds the rest; the us-east-1 topic is named by the resource.
        if state.owns_edge_topic(&aws.region) {
            match sns::topic_named(&aws.sns_global, &edge_topic_name(id)).await {
                Ok(arn) => state.edge_alarm_topic_arn = arn,
                Err(e) => {
                    e.report(diags);
                    return None;
                }
            }
        }
        Some(state)
    }
}

/// The CloudWatch Logs client for a saved query: WAF's logs are in us-east-1.
fn query_client<'a>(aws: &'a Aws, key: &str) -> &'a logs::Client {
    aws.logs_at(key.starts_with("waf-"))
}

/// Moves `cur` to `want`, part by part, recording each part the moment it
/// exists: the us-east-1 topic, the alarms, the saved queries, then the
/// dashboard; a topic no longer wanted goes last, after its alarms.
async fn converge(
    aws: &Aws,
    cur: &mut ObservabilityState,
    want: &ObservabilityState,
) -> Result<()> {
    let region = aws.region.as_str();
    let edge_topic = if !want.watches_edge() {
        None
    } else if region == GLOBAL_REGION {
        Some(want.alarm_topic_arn.clone())
    } else if let Some(arn) = &cur.edge_alarm_topic_arn {
        Some(arn.clone())
    } else {
        let arn = sns::create_topic(
            &aws.sns_global,
            &edge_topic_name(&want.name),
            &want.tags_all,
        )
        .await?;
        cur.edge_alarm_topic_arn = Some(arn.clone());
        Some(arn)
    };
    if region == GLOBAL_REGION {
        cur.edge_alarm_topic_arn.clone_from(&edge_topic);
    }

    let wanted = want.alarms(region, edge_topic.as_deref());
    let had = cur.alarms(region, cur.edge_alarm_topic_arn.as_deref());
    let mut names = cur.alarm_names.clone().unwrap_or_default();
    for (kind, alarm) in &wanted {
        if names.contains_key(*kind) && had.get(kind) == Some(alarm) {
            continue;
        }
        cloudwatch::put_alarm(aws.cloudwatch_at(is_global(kind)), alarm, &want.tags_all).await?;
        names.insert(kind.to_string(), alarm.name.clone());
        cur.alarm_names = Some(names.clone());
    }
    let unwanted: Vec<String> = names
        .keys()
        .filter(|k| !wanted.contains_key(k.as_str()))
        .cloned()
        .collect();
    for kind in unwanted {
        let client = aws.cloudwatch_at(is_global(&kind));
        cloudwatch::delete_alarms(client, &[alarm_name(&cur.name, &kind)]).await?;
        names.remove(&kind);
        cur.alarm_names = Some(names.clone());
    }
    cur.alarm_names = Some(names);
    cur.thresholds = want.thresholds.clone();
    cur.alarm_topic_arn.clone_from(&want.alarm_topic_arn);
    if cur.tags_all != want.tags_all {
        // PutMetricAlarm keeps an existing alarm's tags: each is retagged.
        for (kind, alarm) in find::alarms(aws, &want.name).await? {
            let client = aws.cloudwatch_at(is_global(kind));
            cloudwatch::set_alarm_tags(client, &alarm.arn, &cur.tags_all, &want.tags_all).await?;
        }
        if let (Some(arn), true) = (&cur.edge_alarm_topic_arn, region != GLOBAL_REGION) {
            sns::set_topic_tags(&aws.sns_global, arn, &cur.tags_all, &want.tags_all).await?;
        }
    }
    cur.tags_all = want.tags_all.clone();
    cur.tags = want.tags.clone();

    let mut ids = cur.saved_query_ids.clone().unwrap_or_default();
    let mut texts = cur.saved_queries.clone().unwrap_or_default();
    let queries = want.queries(region);
    for q in &queries {
        let text = q.with_source();
        if ids.contains_key(q.key) && texts.get(q.key) == Some(&text) {
            continue;
        }
        let id = logs::put_query_definition(
            query_client(aws, q.key),
            ids.get(q.key).map(String::as_str),
            &query_name(&want.name, q.key),
            std::slice::from_ref(&q.log_group),
            q.query,
        )
        .await?;
        ids.insert(q.key.to_string(), id);
        texts.insert(q.key.to_string(), text);
        cur.saved_query_ids = Some(ids.clone());
        cur.saved_queries = Some(texts.clone());
    }
    let unwanted: Vec<String> = ids
        .keys()
        .filter(|k| !queries.iter().any(|q| q.key == k.as_str()))
        .cloned()
        .collect();
    for key in unwanted {
        if let Some(id) = ids.remove(&key) {
            logs::delete_query_definition(query_client(aws, &key), &id).await?;
        }
        texts.remove(&key);
        cur.saved_query_ids = Some(ids.clone());
        cur.saved_queries = Some(texts.clone());
    }
    cur.saved_query_ids = Some(ids);
    cur.saved_queries = Some(texts);

    let body = want.body(region).unwrap_or_default();
    if cur.dashboard_arn.is_none() || cur.dashboard_body.as_deref() != Some(body.as_str()) {
        cloudwatch::put_dashboard(&aws.cloudwatch, &want.name, &body).await?;
        let arn = cloudwatch::get_dashboard(&aws.cloudwatch, &want.name)
            .await?
            .map(|(arn, _)| arn);
        cur.dashboard_arn = arn;
        cur.dashboard_body = Some(body);
    }

    if edge_topic.is_none() {
        if let (Some(arn), true) = (&cur.edge_alarm_topic_arn, region != GLOBAL_REGION) {
            sns::delete_topic(&aws.sns_global, arn).await?;
        }
        cur.edge_alarm_topic_arn = None;
    }
    let made = cur.clone();
    *cur = ObservabilityState {
        dashboard_arn: made.dashboard_arn,
        dashboard_body: made.dashboard_body,
        alarm_names: made.alarm_names,
        edge_alarm_topic_arn: made.edge_alarm_topic_arn,
        saved_query_ids: made.saved_query_ids,
        saved_queries: made.saved_queries,
        ..want.clone()
    };
    Ok(())
}

/// The rules declared on single attributes (`Attribute::rule`).
pub(crate) mod rules {
    use super::state;

    pub fn name(name: &str) -> Option<String> {
        let ok = !name.is_empty()
            && name.len() <= 200
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        (!ok)
            .then(|| format!("{name:?}: a dashboard name is 1 to 200 letters, digits, '-' or '_'."))
    }

    pub fn topic_arn(arn: &str) -> Option<String> {
        let ok = arn.starts_with("arn:aws")
            && arn.split(':').nth(2) == Some("sns")
            && arn.split(':').count() == 6;
        (!ok).then(|| format!("{arn:?} is not an SNS topic ARN such as \"arn:aws:sns:ap-northeast-2:123456789012:fansite-alarms\"."))
    }

    pub fn service_arn(arn: &str) -> Option<String> {
        (!arn.starts_with("arn:aws") || state::service_parts(arn).is_none()).then(|| format!("{arn:?} is not an ECS service ARN with its cluster, such as \"arn:aws:ecs:ap-northeast-2:123456789012:service/fansite/fansite-api\" (a fansite_service's service_arn)."))
    }

    pub fn alb_arn(arn: &str) -> Option<String> {
        (!arn.starts_with("arn:aws") || state::load_balancer_dimension(arn).is_none()).then(|| format!("{arn:?} is not an Application Load Balancer ARN such as \"arn:aws:elasticloadbalancing:ap-northeast-2:123456789012:loadbalancer/app/fansite/0123456789abcdef\"."))
    }

    pub fn web_acl_arn(arn: &str) -> Option<String> {
        if !arn.starts_with("arn:aws") || state::web_acl_name(arn).is_none() {
            return Some(format!("{arn:?} is not a CloudFront-scope web ACL ARN such as \"arn:aws:wafv2:us-east-1:123456789012:global/webacl/fansite/0123abcd-…\" (a fansite_edge's web_acl_arn)."));
        }
        (state::arn_region(arn) != Some(super::GLOBAL_REGION))
            .then(|| format!("{arn:?}: a web ACL for CloudFront is in us-east-1."))
    }

    pub fn waf_log_group(name: &str) -> Option<String> {
        (!name.starts_with("aws-waf-logs-")).then(|| {
            format!(
                "{name:?}: WAF logs only to log groups whose name starts with \"aws-waf-logs-\"."
            )
        })
    }
}

fn validate_config(config: &Dyn, diags: &mut Diags) {
    let pool = config.get("user_pool_id");
    let client = config.get("user_pool_client_id");
    if pool.is_null() != client.is_null() && !pool.is_unknown() && !client.is_unknown() {
        let (missing, given) = if pool.is_null() {
            ("user_pool_id", "user_pool_client_id")
        } else {
            ("user_pool_client_id", "user_pool_id")
        };
        diags.attr_error(
            AttrPath::attr(given),
            "User pool and client go together",
            format!("Cognito publishes sign-up and log-in metrics per user pool and app client: set {missing} too (a fansite_auth's user_pool_id and client_id)."),
        );
    }
    if let Some(tags) = config.get("tags").as_map() {
        for key in tags.keys() {
            if key.to_ascii_lowercase().starts_with("aws:") {
                diags.attr_error(
                    AttrPath::attr("tags").then_key(key),
                    "Reserved tag key",
                    format!("{key:?}: keys starting with \"aws:\" are reserved by AWS."),
                );
            }
        }
    }
}
