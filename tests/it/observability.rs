//! fansite_observability against the resource contract's nine tests. It reads
//! nothing of the stack it watches, so the tests give it the ARNs and names
//! of a stack rather than make one: what they ask the endpoint about is the
//! dashboard, the alarms (in the region and in us-east-1), the saved queries
//! and the us-east-1 topic.

use serde_json::Value;

use crate::fault_proxy::FaultProxy;
use crate::harness::{cloudwatch, endpoint, logs, run_name, sns, Config, Terraform, Workspace};

const ADDR: &str = "fansite_observability.test";
const ACCOUNT: &str = "123456789012";

/// The required inputs, for a stack named after the test, in `region`.
fn obs(region: &'static str, test: &str, tf: &Terraform) -> Config {
    let c = Config::new("fansite_observability", region, run_name(test, tf));
    let name = c.name.clone();
    c.attr("alarm_topic_arn", format!("\"arn:aws:sns:{region}:{ACCOUNT}:{name}-alarms\""))
        .attr("service_arn", format!("\"arn:aws:ecs:{region}:{ACCOUNT}:service/{name}/{name}-api\""))
        .attr("alb_arn", format!("\"arn:aws:elasticloadbalancing:{region}:{ACCOUNT}:loadbalancer/app/{name}/50dc6c495c0c9188\""))
        .attr("service_log_group_name", format!("\"/ecs/{name}\""))
        .with("tags = { app = \"fansite\" }")
}

/// Every optional part watched too: the database, the edge and sign-in.
fn full(region: &'static str, test: &str, tf: &Terraform) -> Config {
    let c = obs(region, test, tf);
    let name = c.name.clone();
    c.with(&format!("database_cluster_id = \"{name}-db\""))
        .with("distribution_id = \"E2QWRUHAPOMQZL\"")
        .with(&format!("web_acl_arn = \"arn:aws:wafv2:us-east-1:{ACCOUNT}:global/webacl/{name}-site/a1b2c3d4-5678\""))
        .with(&format!("waf_log_group_name = \"aws-waf-logs-{name}-site\""))
        .with(&format!("user_pool_id = \"{region}_AbC123xyz\""))
        .with("user_pool_client_id = \"1example23456789\"")
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

fn update() -> Vec<(String, Vec<String>)> {
    vec![(ADDR.to_string(), vec!["update".to_string()])]
}

/// The alarms named `<name>-…` in `region`: (name, threshold, actions).
async fn alarms(region: &str, name: &str) -> Vec<(String, f64, Vec<String>)> {
    cloudwatch(region)
        .await
        .describe_alarms()
        .alarm_name_prefix(format!("{name}-"))
        .send()
        .await
        .expect("describe alarms")
        .metric_alarms()
        .iter()
        .map(|a| {
            (
                a.alarm_name().unwrap_or_default().to_string(),
                a.threshold().unwrap_or_default(),
                a.alarm_actions().to_vec(),
            )
        })
        .collect()
}

async fn alarm_names(region: &str, name: &str) -> Vec<String> {
    alarms(region, name)
        .await
        .into_iter()
        .map(|a| a.0)
        .collect()
}

/// The dashboard's body, if the dashboard exists; any other error fails the test.
async fn dashboard(region: &str, name: &str) -> Option<Value> {
    match cloudwatch(region)
        .await
        .get_dashboard()
        .dashboard_name(name)
        .send()
        .await
    {
        Ok(d) => Some(
            serde_json::from_str(d.dashboard_body().unwrap_or_default()).expect("dashboard JSON"),
        ),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_dashboard_not_found_error()) =>
        {
            None
        }
        Err(e) => panic!("get dashboard {name}: {e:?}"),
    }
}

/// The attributes of [`ADDR`] that the plan in `tfplan` changes, and the
/// keys that change inside the map attributes among them.
fn changed(ws: &Workspace) -> Vec<String> {
    let plan: Value =
        serde_json::from_str(&ws.ok(&["show", "-json", "tfplan"])).expect("plan JSON");
    let change = plan["resource_changes"]
        .as_array()
        .and_then(|rcs| rcs.iter().find(|rc| rc["address"] == ADDR))
        .map(|rc| rc["change"].clone())
        .unwrap_or_default();
    let (before, after) = (&change["before"], &change["after"]);
    let unknown = &change["after_unknown"];
    let mut out = Vec::new();
    for (k, b) in before.as_object().into_iter().flatten() {
        if after.get(k) != Some(b) || unknown.get(k) == Some(&Value::Bool(true)) {
            out.push(k.clone());
            if let (Some(bm), Some(am)) = (b.as_object(), after[k].as_object()) {
                for key in bm.keys().chain(am.keys()) {
                    if bm.get(key) != am.get(key) && !out.contains(&format!("{k}.{key}")) {
                        out.push(format!("{k}.{key}"));
                    }
                }
            }
        }
    }
    out
}

/// The saved queries named `<name>/…` in `region`: (key, id, log groups).
async fn queries(region: &str, name: &str) -> Vec<(String, String, Vec<String>)> {
    logs(region)
        .await
        .describe_query_definitions()
        .query_definition_name_prefix(format!("{name}/"))
        .send()
        .await
        .expect("describe query definitions")
        .query_definitions()
        .iter()
        .map(|q| {
            (
                q.name()
                    .unwrap_or_default()
                    .trim_start_matches(&format!("{name}/"))
                    .to_string(),
                q.query_definition_id().unwrap_or_default().to_string(),
                q.log_group_names().to_vec(),
            )
        })
        .collect()
}

async fn topic(region: &str, topic_name: &str) -> Option<String> {
    sns(region)
        .await
        .list_topics()
        .send()
        .await
        .expect("list topics")
        .topics()
        .iter()
        .filter_map(|t| t.topic_arn())
        .find(|a| a.rsplit(':').next() == Some(topic_name))
        .map(str::to_string)
}

/// Destroys, then asks the endpoint that no part is left in either region.
async fn destroy_and_check(ws: &Workspace, c: &Config) {
    ws.destroy();
    assert_eq!(dashboard(c.region, &c.name).await, None, "dashboard left");
    for region in [c.region, "us-east-1"] {
        assert_eq!(
            alarm_names(region, &c.name).await,
            Vec::<String>::new(),
            "alarms left in {region}"
        );
        assert_eq!(
            queries(region, &c.name).await,
            vec![],
            "queries left in {region}"
        );
    }
    assert_eq!(
        topic("us-east-1", &format!("{}-edge-alarms", c.name)).await,
        None,
        "topic left"
    );
}

async fn observability_apply_then_plan_is_empty(tf: &Terraform) {
    let c = full("eu-west-1", "obs-apply", tf);
    let ws = Workspace::applied(tf, "obs-apply", &c.hcl());
    ws.assert_plan_empty();
    let state = ws.state_values(ADDR);
    assert_eq!(state["tags_all"]["suite"], "e2e", "{state}");
    // Asked of the endpoint: the dashboard names the stack and has its panels.
    let body = dashboard(c.region, &c.name).await.expect("dashboard");
    let header = body["widgets"][0]["properties"]["markdown"]
        .as_str()
        .unwrap_or_default();
    assert!(
        header.contains(&format!("service/{0}/{0}-api", c.name)),
        "{header}"
    );
    let text = body.to_string();
    for shown in [
        "AuroraReplicaLagMaximum",
        "5xxErrorRate",
        "BlockedRequests",
        "SignUpSuccesses",
        "TargetResponseTime",
        "RunningTaskCount",
        "SOURCE '/ecs/",
    ] {
        assert!(text.contains(shown), "the dashboard shows {shown}");
    }
    // Four alarms here, to the stack's topic; two in us-east-1, to a topic there.
    let here = alarms(c.region, &c.name).await;
    assert_eq!(here.len(), 4, "{here:?}");
    let stack_topic = format!("arn:aws:sns:eu-west-1:{ACCOUNT}:{}-alarms", c.name);
    assert!(
        here.iter().all(|a| a.2 == vec![stack_topic.clone()]),
        "{here:?}"
    );
    let edge_topic = topic("us-east-1", &format!("{}-edge-alarms", c.name))
        .await
        .expect("us-east-1 topic");
    assert_eq!(s(&state["edge_alarm_topic_arn"]), edge_topic);
    let global = alarms("us-east-1", &c.name).await;
    let mut global_names: Vec<String> = global.iter().map(|a| a.0.clone()).collect();
    global_names.sort();
    assert_eq!(
        global_names,
        vec![
            format!("{}-cloudfront-5xx", c.name),
            format!("{}-waf-blocked", c.name)
        ]
    );
    assert!(
        global.iter().all(|a| a.2 == vec![edge_topic.clone()]),
        "{global:?}"
    );
    // Saved queries: the API's here, WAF's in us-east-1 where its logs are.
    let mut keys: Vec<String> = queries(c.region, &c.name)
        .await
        .into_iter()
        .map(|q| q.0)
        .collect();
    keys.sort();
    assert_eq!(keys, vec!["ecs-requests", "ecs-responses-by-status"]);
    let waf = queries("us-east-1", &c.name).await;
    assert_eq!(waf.len(), 3, "{waf:?}");
    assert!(
        waf.iter()
            .all(|q| q.2 == vec![format!("aws-waf-logs-{}-site", c.name)]),
        "{waf:?}"
    );
    // The Grafana model for the grafana provider.
    let grafana: Value =
        serde_json::from_str(&s(&state["grafana_dashboard_json"])).expect("grafana JSON");
    assert_eq!(grafana["title"], c.name.as_str());
    assert_eq!(grafana["templating"]["list"][0]["name"], "datasource");
    destroy_and_check(&ws, &c).await;
}
per_terraform!(observability_apply_then_plan_is_empty);

async fn observability_in_place_changes_update_without_replacing(tf: &Terraform) {
    let c = full("eu-west-2", "obs-update", tf);
    let ws = Workspace::applied(tf, "obs-update", &c.hcl());
    let before = ws.state_values(ADDR);
    let steps: Vec<(&str, Config)> = vec![
        (
            "thresholds",
            c.clone()
                .with("response_time_p95_ms = 800")
                .with("alb_5xx_percent = 2")
                .with("evaluation_minutes = 3"),
        ),
        (
            "tags",
            c.clone()
                .with("response_time_p95_ms = 800")
                .with("alb_5xx_percent = 2")
                .with("evaluation_minutes = 3")
                .with("tags = { app = \"fansite\", team = \"platform\" }"),
        ),
        (
            "no database, a bastion's sessions",
            c.clone()
                .with("response_time_p95_ms = 800")
                .with("alb_5xx_percent = 2")
                .with("evaluation_minutes = 3")
                .with("tags = { app = \"fansite\", team = \"platform\" }")
                .without("database_cluster_id")
                .with("session_log_group_name = \"/fansite/sessions\""),
        ),
        (
            "no edge",
            c.clone()
                .without("database_cluster_id")
                .without("distribution_id")
                .without("web_acl_arn")
                .without("waf_log_group_name"),
        ),
    ];
    for (what, next) in &steps {
        ws.write(&next.hcl());
        assert_eq!(ws.planned_actions(), update(), "{what}");
        ws.apply();
        ws.assert_plan_empty();
        if *what == "tags" {
            // PutMetricAlarm keeps an alarm's tags: each alarm was retagged.
            for region in [c.region, "us-east-1"] {
                let cw = cloudwatch(region).await;
                for name in alarm_names(region, &c.name).await {
                    let arn = cw
                        .describe_alarms()
                        .alarm_names(&name)
                        .send()
                        .await
                        .expect("alarm")
                        .metric_alarms()[0]
                        .alarm_arn()
                        .unwrap_or_default()
                        .to_string();
                    let tags = cw
                        .list_tags_for_resource()
                        .resource_arn(&arn)
                        .send()
                        .await
                        .expect("tags");
                    assert!(
                        tags.tags()
                            .iter()
                            .any(|t| t.key() == Some("team") && t.value() == Some("platform")),
                        "{name}: {tags:?}"
                    );
                }
            }
        }
    }
    let after = ws.state_values(ADDR);
    assert_eq!(
        after["dashboard_arn"], before["dashboard_arn"],
        "the same dashboard"
    );
    // What the steps did, asked of the endpoint.
    let here = alarms(c.region, &c.name).await;
    let mut names: Vec<&str> = here.iter().map(|a| a.0.as_str()).collect();
    names.sort();
    assert_eq!(
        names,
        vec![format!("{}-alb-5xx", c.name), format!("{}-alb-p95", c.name)],
        "database alarms gone"
    );
    let p95 = here
        .iter()
        .find(|a| a.0.ends_with("-alb-p95"))
        .expect("p95 alarm");
    assert_eq!(p95.1, 1.0, "back to the default, in seconds");
    assert_eq!(
        alarm_names("us-east-1", &c.name).await,
        Vec::<String>::new(),
        "edge alarms gone"
    );
    assert_eq!(
        topic("us-east-1", &format!("{}-edge-alarms", c.name)).await,
        None,
        "its topic too"
    );
    assert_eq!(
        queries("us-east-1", &c.name).await,
        vec![],
        "WAF queries gone"
    );
    let body = dashboard(c.region, &c.name)
        .await
        .expect("dashboard")
        .to_string();
    assert!(
        !body.contains("AuroraReplicaLagMaximum") && !body.contains("5xxErrorRate"),
        "{body}"
    );

    // The p95 threshold of step one reached the alarm, in seconds.
    ws.write(&steps[0].1.hcl());
    ws.apply();
    let p95 = alarms(c.region, &c.name)
        .await
        .into_iter()
        .find(|a| a.0.ends_with("-alb-p95"))
        .expect("p95");
    assert_eq!(p95.1, 0.8);
    destroy_and_check(&ws, &c).await;
}
per_terraform!(observability_in_place_changes_update_without_replacing);

async fn observability_replacing_changes_plan_a_replace(tf: &Terraform) {
    let c = obs("eu-central-1", "obs-replace", tf);
    let ws = Workspace::applied(tf, "obs-replace", &c.hcl());
    let renamed = c.clone().named(format!("{}-b", c.name));
    ws.write(&renamed.hcl());
    assert_eq!(
        ws.planned_actions(),
        vec![(
            ADDR.to_string(),
            vec!["delete".to_string(), "create".to_string()]
        )]
    );
    ws.write(&c.hcl());
    destroy_and_check(&ws, &c).await;
}
per_terraform!(observability_replacing_changes_plan_a_replace);

async fn observability_import_gives_an_empty_plan(tf: &Terraform) {
    let c = full("eu-north-1", "obs-import", tf).with("replica_lag_ms = 500");
    let ws = Workspace::applied(tf, "obs-import", &c.hcl());
    let applied = ws.state_values(ADDR);
    ws.assert_imports_as_applied(ADDR, &c.name, &c.hcl(), &applied);

    let other = "fansite_observability.other";
    ws.write(&format!(
        "{}\nresource \"fansite_observability\" \"other\" {{\n  name                   = \"other\"\n  alarm_topic_arn        = \"arn:aws:sns:eu-north-1:1:t\"\n  service_arn            = \"arn:aws:ecs:eu-north-1:1:service/c/s\"\n  alb_arn                = \"arn:aws:elasticloadbalancing:eu-north-1:1:loadbalancer/app/a/1\"\n  service_log_group_name = \"/ecs/s\"\n}}\n",
        c.hcl()
    ));
    let bad = ws.import_fails(other, "not a name!");
    assert!(bad.contains("Invalid import ID"), "{bad}");
    let bad = ws.import_fails(other, "no-such-dashboard");
    assert!(
        bad.contains("Cannot import non-existent dashboard"),
        "{bad}"
    );
    ws.write(&c.hcl());
    destroy_and_check(&ws, &c).await;
}
per_terraform!(observability_import_gives_an_empty_plan);

async fn observability_drift_is_shown_and_repaired(tf: &Terraform) {
    let c =
        obs("ap-south-1", "obs-drift", tf).with("session_log_group_name = \"/fansite/sessions\"");
    let ws = Workspace::applied(tf, "obs-drift", &c.hcl());
    let cw = cloudwatch(c.region).await;
    // Someone raises a threshold in the console, edits the dashboard and
    // deletes a saved query.
    cw.put_metric_alarm()
        .alarm_name(format!("{}-alb-p95", c.name))
        .namespace("AWS/ApplicationELB")
        .metric_name("TargetResponseTime")
        .extended_statistic("p95")
        .period(60)
        .evaluation_periods(5)
        .threshold(9.0)
        .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanThreshold)
        .alarm_actions(format!(
            "arn:aws:sns:ap-south-1:{ACCOUNT}:{}-alarms",
            c.name
        ))
        .send()
        .await
        .expect("drift the alarm");
    cw.put_dashboard()
        .dashboard_name(&c.name)
        .dashboard_body("{\"widgets\":[]}")
        .send()
        .await
        .expect("drift the dashboard");
    let ssm = queries(c.region, &c.name)
        .await
        .into_iter()
        .find(|q| q.0 == "ssm-sessions")
        .expect("ssm query");
    logs(c.region)
        .await
        .delete_query_definition()
        .query_definition_id(&ssm.1)
        .send()
        .await
        .expect("delete query");
    assert_eq!(ws.planned_actions(), update());
    let changed = changed(&ws);
    for shown in [
        "response_time_p95_ms",
        "dashboard_body",
        "saved_queries.ssm-sessions",
        "saved_query_ids",
    ] {
        assert!(
            changed.iter().any(|c| c == shown),
            "the plan changes {shown}: {changed:?}"
        );
    }
    ws.apply();
    ws.assert_plan_empty();
    let p95 = alarms(c.region, &c.name)
        .await
        .into_iter()
        .find(|a| a.0.ends_with("-alb-p95"))
        .expect("p95");
    assert_eq!(p95.1, 1.0, "repaired");
    assert!(
        dashboard(c.region, &c.name).await.expect("dashboard")["widgets"]
            .as_array()
            .is_some_and(|w| w.len() > 5),
        "dashboard repaired"
    );
    assert!(
        queries(c.region, &c.name)
            .await
            .iter()
            .any(|q| q.0 == "ssm-sessions"),
        "query saved again"
    );
    destroy_and_check(&ws, &c).await;
}
per_terraform!(observability_drift_is_shown_and_repaired);

async fn observability_deleted_dashboard_is_recreated(tf: &Terraform) {
    let c = obs("ap-northeast-2", "obs-gone", tf);
    let ws = Workspace::applied(tf, "obs-gone", &c.hcl());
    let cw = cloudwatch(c.region).await;
    // The primary part gone, the alarms still there: made again in place.
    cw.delete_dashboards()
        .dashboard_names(&c.name)
        .send()
        .await
        .expect("delete dashboard");
    assert_eq!(ws.planned_actions(), update(), "dashboard gone");
    ws.apply();
    ws.assert_plan_empty();
    assert!(dashboard(c.region, &c.name).await.is_some(), "made again");
    // Every part gone: the plan makes the resource again.
    cw.delete_dashboards()
        .dashboard_names(&c.name)
        .send()
        .await
        .expect("delete dashboard");
    cw.delete_alarms()
        .set_alarm_names(Some(alarm_names(c.region, &c.name).await))
        .send()
        .await
        .expect("delete alarms");
    for q in queries(c.region, &c.name).await {
        logs(c.region)
            .await
            .delete_query_definition()
            .query_definition_id(q.1)
            .send()
            .await
            .expect("delete query");
    }
    assert_eq!(
        ws.planned_actions(),
        vec![(ADDR.to_string(), vec!["create".to_string()])],
        "plan re-creates"
    );
    ws.apply();
    ws.assert_plan_empty();
    assert_eq!(alarm_names(c.region, &c.name).await.len(), 2);
    destroy_and_check(&ws, &c).await;
}
per_terraform!(observability_deleted_dashboard_is_recreated);

async fn observability_destroy_leaves_no_parts(tf: &Terraform) {
    // In us-east-1 the edge alarms notify the stack's own topic: no topic of its own.
    let c = full("us-east-1", "obs-destroy", tf);
    let ws = Workspace::applied(tf, "obs-destroy", &c.hcl());
    let state = ws.state_values(ADDR);
    assert_eq!(
        state["edge_alarm_topic_arn"], state["alarm_topic_arn"],
        "{state}"
    );
    assert_eq!(alarm_names(c.region, &c.name).await.len(), 6);
    assert_eq!(queries(c.region, &c.name).await.len(), 5);
    destroy_and_check(&ws, &c).await;
    // Destroying again with nothing in state is a no-op, not an error.
    ws.destroy();
}
per_terraform!(observability_destroy_leaves_no_parts);

async fn observability_bad_inputs_fail_on_their_attribute(tf: &Terraform) {
    let c = obs("us-west-1", "obs-bad", tf);
    let ws = Workspace::new(tf, "obs-bad", &c.hcl());
    let cases: Vec<(&str, Config, &str, &str)> = vec![
        ("name", c.clone().named("fan site!"), "Invalid name", "name"),
        (
            "topic",
            c.clone()
                .attr("alarm_topic_arn", "\"arn:aws:sqs:us-west-1:1:q\""),
            "Invalid alarm_topic_arn",
            "alarm_topic_arn",
        ),
        (
            "service without cluster",
            c.clone()
                .attr("service_arn", "\"arn:aws:ecs:us-west-1:1:service/api\""),
            "Invalid service_arn",
            "service_arn",
        ),
        (
            "network load balancer",
            c.clone().attr(
                "alb_arn",
                "\"arn:aws:elasticloadbalancing:us-west-1:1:loadbalancer/net/a/1\"",
            ),
            "Invalid alb_arn",
            "alb_arn",
        ),
        (
            "regional web ACL",
            c.clone()
                .with("web_acl_arn = \"arn:aws:wafv2:us-west-1:1:regional/webacl/a/1\""),
            "Invalid web_acl_arn",
            "web_acl_arn",
        ),
        (
            "WAF log group",
            c.clone().with("waf_log_group_name = \"/waf/site\""),
            "Invalid waf_log_group_name",
            "waf_log_group_name",
        ),
        (
            "pool without client",
            c.clone().with("user_pool_id = \"us-west-1_AbC\""),
            "User pool and client go together",
            "user_pool_id",
        ),
        (
            "p95 too low",
            c.clone().with("response_time_p95_ms = 1"),
            "Invalid response_time_p95_ms",
            "response_time_p95_ms",
        ),
        (
            "percent",
            c.clone().with("alb_5xx_percent = 0.5"),
            "Invalid alb_5xx_percent",
            "alb_5xx_percent",
        ),
        (
            "evaluation",
            c.clone().with("evaluation_minutes = 0"),
            "Invalid evaluation_minutes",
            "evaluation_minutes",
        ),
        (
            "reserved tag",
            c.clone().with("tags = { \"aws:owner\" = \"x\" }"),
            "Reserved tag key",
            "aws:owner",
        ),
        (
            "service in another region",
            c.clone()
                .attr("service_arn", "\"arn:aws:ecs:eu-west-1:1:service/c/s\""),
            "Not in the provider's region",
            "service_arn",
        ),
    ];
    for (what, config, summary, code) in cases {
        ws.write(&config.hcl());
        ws.assert_plan_error(what, summary, code);
    }
    assert_eq!(
        dashboard(c.region, &c.name).await,
        None,
        "bad input made a dashboard"
    );
    assert_eq!(alarm_names(c.region, &c.name).await, Vec::<String>::new());
}
per_terraform!(observability_bad_inputs_fail_on_their_attribute);

async fn observability_fault_midway_keeps_ids_and_destroy_cleans_up(tf: &Terraform) {
    let proxy = FaultProxy::start(endpoint(), "PutDashboard");
    let c = full("us-west-2", "obs-fault", tf).provider(format!(
        "  endpoints {{\n    cloudwatch = {:?}\n  }}\n",
        proxy.url
    ));
    let ws = Workspace::new(tf, "obs-fault", &c.hcl());
    let out = ws.apply_fails();
    assert!(proxy.matched() >= 1, "the proxy failed PutDashboard");
    assert!(
        out.contains("InjectedFault"),
        "the error names AWS's code: {out}"
    );
    assert!(
        out.contains(&format!("writing dashboard \"{}\"", c.name)),
        "the error names the action and part: {out}"
    );
    // The state holds what was made before the fault, and AWS has it.
    let state = ws.state_values(ADDR);
    assert_eq!(state["dashboard_arn"], Value::Null, "{state}");
    assert_eq!(
        state["alarm_names"].as_object().map(|m| m.len()),
        Some(6),
        "{state}"
    );
    assert_eq!(
        state["saved_query_ids"].as_object().map(|m| m.len()),
        Some(5),
        "{state}"
    );
    assert!(state["edge_alarm_topic_arn"].is_string(), "{state}");
    assert_eq!(alarm_names(c.region, &c.name).await.len(), 4);
    assert_eq!(alarm_names("us-east-1", &c.name).await.len(), 2);
    let plan = ws.plan();
    assert!(plan.contains("tainted"), "{plan}");
    destroy_and_check(&ws, &c).await;
}
per_terraform!(observability_fault_midway_keeps_ids_and_destroy_cleans_up);
