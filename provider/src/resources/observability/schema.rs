use crate::schema::{Attribute, Block, Schema, Ty};

use super::defaults::*;
use super::rules;

pub fn schema() -> Schema {
    let threshold = |name: &'static str, default: i64, lo: i64, hi: i64, what: &str| {
        Attribute::optional_computed(name, Ty::Number, &format!("{what} (default {default})."))
            .default(default)
            .range(lo, hi)
    };
    Schema {
        version: 1,
        block: Block {
            description: "Watches a fan-site stack: a CloudWatch dashboard of the load balancer, the API service, Aurora, CloudFront, WAF and sign-in, with Logs Insights panels over the API's, WAF's and Session Manager's logs; alarms beyond the service's CPU one to the same SNS topic; the Logs Insights queries saved; and the same dashboard as a Grafana dashboard model. It reads nothing of the stack itself: give it the other resources' outputs.".into(),
            attributes: vec![
                Attribute::required("name", Ty::String, "Name of the dashboard; the alarms are `<name>-<kind>` and the saved queries `<name>/<key>`. Letters, digits, `-` and `_`, at most 200. Changing it replaces every part.").force_new().rule(rules::name, "1 to 200 letters, digits, `-` or `_`"),
                Attribute::required("alarm_topic_arn", Ty::String, "SNS topic, in the provider's region, that the alarms notify: a fansite_service's `alarm_topic_arn`, whose subscribers (the Slack notifier) then hear of these alarms too.").rule(rules::topic_arn, "an SNS topic ARN"),
                Attribute::required("service_arn", Ty::String, "The API's ECS service: a fansite_service's `service_arn` (`arn:aws:ecs:<region>:<account>:service/<cluster>/<service>`).").rule(rules::service_arn, "an ECS service ARN with its cluster"),
                Attribute::required("alb_arn", Ty::String, "The API's Application Load Balancer: a fansite_service's `alb_arn`.").rule(rules::alb_arn, "an Application Load Balancer ARN"),
                Attribute::required("service_log_group_name", Ty::String, "Log group of the API's containers (a fansite_service's `log_group_name`); the Fastify API logs one JSON line per request and response."),
                Attribute::optional("database_cluster_id", Ty::String, "Aurora cluster to watch (a fansite_database's `cluster_id`): its panels, and the replica lag and free memory alarms."),
                Attribute::optional("distribution_id", Ty::String, "CloudFront distribution to watch (a fansite_edge's `distribution_id`): its panels, and the 5xx error rate alarm, in us-east-1."),
                Attribute::optional("web_acl_arn", Ty::String, "The edge's web ACL (a fansite_edge's `web_acl_arn`, scope CLOUDFRONT): the allowed and blocked panel, and the blocked-request surge alarm, in us-east-1.").rule(rules::web_acl_arn, "a CloudFront-scope web ACL ARN"),
                Attribute::optional("waf_log_group_name", Ty::String, "The web ACL's log group in us-east-1, `aws-waf-logs-<edge name>` (a fansite_edge with `waf_logs`): the panels and saved queries of requests by country, by action and by blocking rule.").rule(rules::waf_log_group, "a log group name starting with `aws-waf-logs-`"),
                Attribute::optional("user_pool_id", Ty::String, "Cognito user pool (a fansite_auth's `user_pool_id`); with `user_pool_client_id`, the sign-up and log-in panel."),
                Attribute::optional("user_pool_client_id", Ty::String, "The pool's web app client (a fansite_auth's `client_id`); Cognito publishes its metrics per pool and client."),
                Attribute::optional("session_log_group_name", Ty::String, "Session Manager's log group (a bastion's): the panel and saved query of developer sessions."),
                threshold("alb_5xx_percent", DEFAULT_ALB_5XX_PERCENT, 1, 100, "Percent of the API's requests answered 5xx, by the API or the load balancer, above which an alarm fires"),
                threshold("response_time_p95_ms", DEFAULT_RESPONSE_TIME_P95_MS, 10, 60_000, "The API's 95th percentile response time, in milliseconds, above which an alarm fires"),
                threshold("replica_lag_ms", DEFAULT_REPLICA_LAG_MS, 10, 600_000, "Most lag of an Aurora reader behind the writer, in milliseconds, above which an alarm fires; a fan who posts and then reads from a lagging reader does not see the post"),
                threshold("freeable_memory_mb", DEFAULT_FREEABLE_MEMORY_MB, 16, 1_048_576, "Free memory of an Aurora instance, in MiB, below which an alarm fires"),
                threshold("cloudfront_5xx_percent", DEFAULT_CLOUDFRONT_5XX_PERCENT, 1, 100, "Percent of CloudFront's responses that are 5xx above which an alarm fires"),
                threshold("waf_blocked_per_minute", DEFAULT_WAF_BLOCKED_PER_MINUTE, 1, 100_000_000, "Requests a minute the web ACL blocks above which an alarm fires: an attack, or a rule that blocks fans on a ticket day"),
                threshold("evaluation_minutes", DEFAULT_EVALUATION_MINUTES, 1, 60, "Minutes in a row a threshold must be crossed before its alarm fires"),
                Attribute::optional("tags", Ty::map_of_strings(), "Tags for the alarms and the us-east-1 topic, on top of the provider's `default_tags` (CloudWatch dashboards and saved queries take no tags)."),
                Attribute::computed("tags_all", Ty::map_of_strings(), "All tags on the alarms: the provider's `default_tags` overlaid with `tags`."),
                Attribute::computed("dashboard_arn", Ty::String, "ARN of the CloudWatch dashboard."),
                Attribute::computed("dashboard_url", Ty::String, "The dashboard in the AWS console."),
                Attribute::computed("dashboard_body", Ty::String, "The dashboard's JSON as CloudWatch has it (keys sorted); a change made in the console shows here as drift."),
                Attribute::computed("alarm_names", Ty::map_of_strings(), "The alarms, by kind: `alb_5xx`, `alb_p95`, and with their inputs `db_replica_lag`, `db_freeable_memory`, `cloudfront_5xx`, `waf_blocked`."),
                Attribute::computed("edge_alarm_topic_arn", Ty::String, "The topic the CloudFront and WAF alarms notify. Their metrics exist only in us-east-1, and an alarm notifies only a topic of its own region: outside us-east-1 the resource makes the topic `<name>-edge-alarms` there (subscribe your endpoints to it); in us-east-1 it is `alarm_topic_arn`."),
                Attribute::computed("saved_query_ids", Ty::map_of_strings(), "IDs of the saved Logs Insights queries, by key: `ecs-responses-by-status`, `ecs-requests`, and with their log groups `waf-top-countries`, `waf-blocking-rules`, `waf-actions` (in us-east-1) and `ssm-sessions`."),
                Attribute::computed("saved_queries", Ty::map_of_strings(), "Each saved query as CloudWatch Logs has it, written `SOURCE '<log group>' | <query>`, by key."),
                Attribute::computed("grafana_dashboard_json", Ty::String, "The same dashboard as a Grafana dashboard model, over the CloudWatch data source that its `datasource` variable picks: stable `uid`, sorted keys, no nulls, for `grafana_dashboard { config_json = ... }`."),
            ],
            blocks: vec![],
        },
    }
}
