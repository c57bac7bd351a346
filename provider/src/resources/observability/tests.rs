//! The dashboard, alarms and queries checked without AWS: every metric from
//! the table of documented metrics, golden files of both dashboards, the
//! Grafana model's required fields, and the header import reads.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;

use super::panels::{self, Body, METRICS, SOURCES};
use super::state::{self, ObservabilityState, Thresholds};
use crate::aws::cloudwatch::Watch;

const REGION: &str = "ap-northeast-2";

/// A stack with every optional part watched.
fn full() -> ObservabilityState {
    ObservabilityState {
        name: "fansite-prod".into(),
        alarm_topic_arn: "arn:aws:sns:ap-northeast-2:123456789012:fansite-api-alarms".into(),
        service_arn: "arn:aws:ecs:ap-northeast-2:123456789012:service/fansite/fansite-api".into(),
        alb_arn: "arn:aws:elasticloadbalancing:ap-northeast-2:123456789012:loadbalancer/app/fansite-api/50dc6c495c0c9188".into(),
        service_log_group_name: "/ecs/fansite-api".into(),
        database_cluster_id: Some("fansite-db".into()),
        distribution_id: Some("E2QWRUHAPOMQZL".into()),
        web_acl_arn: Some("arn:aws:wafv2:us-east-1:123456789012:global/webacl/fansite-site/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111".into()),
        waf_log_group_name: Some("aws-waf-logs-fansite-site".into()),
        user_pool_id: Some("ap-northeast-2_AbC123xyz".into()),
        user_pool_client_id: Some("1example23456789".into()),
        session_log_group_name: Some("/fansite/bastion/sessions".into()),
        ..ObservabilityState::default()
    }
}

/// Only what is required.
fn minimal() -> ObservabilityState {
    ObservabilityState {
        database_cluster_id: None,
        distribution_id: None,
        web_acl_arn: None,
        waf_log_group_name: None,
        user_pool_id: None,
        user_pool_client_id: None,
        session_log_group_name: None,
        ..full()
    }
}

#[test]
fn every_panel_and_alarm_metric_is_in_the_documented_table() {
    let w = full().watched(REGION).expect("watched");
    let rows = panels::rows(&w);
    let mut used = BTreeSet::new();
    for line in panels::lines(&rows) {
        let m = panels::metric(line.namespace, line.metric)
            .unwrap_or_else(|| panic!("{}/{} is not in METRICS", line.namespace, line.metric));
        let dims: Vec<&str> = line.dimensions.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            dims, m.dimensions,
            "{}/{}: dimensions",
            line.namespace, line.metric
        );
        used.insert((line.namespace, line.metric));
    }
    for (kind, alarm) in full().alarms(REGION, Some("arn:aws:sns:us-east-1:1:edge")) {
        let (namespace, metrics, dims): (String, Vec<String>, Vec<String>) = match &alarm.watch {
            Watch::Stat {
                namespace,
                metric,
                dimensions,
                ..
            } => (
                namespace.clone(),
                vec![metric.clone()],
                dimensions.iter().map(|(k, _)| k.clone()).collect(),
            ),
            Watch::Percent {
                namespace,
                parts,
                whole,
                dimensions,
            } => (
                namespace.clone(),
                parts.iter().chain([whole]).cloned().collect(),
                dimensions.iter().map(|(k, _)| k.clone()).collect(),
            ),
        };
        for metric in metrics {
            let m = panels::metric(&namespace, &metric)
                .unwrap_or_else(|| panic!("alarm {kind}: {namespace}/{metric} is not in METRICS"));
            assert_eq!(dims, m.dimensions, "alarm {kind}: {namespace}/{metric}");
        }
    }
    for m in METRICS {
        assert!(
            SOURCES.iter().any(|s| s.namespace == m.namespace
                && s.page.starts_with("https://docs.aws.amazon.com/")),
            "{} has no documentation page",
            m.namespace
        );
    }
    // The table holds what is used, not more: a metric no panel shows is a
    // metric nobody checked.
    for m in METRICS {
        assert!(
            used.contains(&(m.namespace, m.name)),
            "{}/{} is in METRICS but no panel uses it",
            m.namespace,
            m.name
        );
    }
}

#[test]
fn a_metric_not_in_the_table_is_caught() {
    assert!(panels::metric("AWS/ApplicationELB", "HTTPCode_Target_3XX_Count").is_none());
    assert!(
        panels::metric("AWS/RDS", "AuroraReplicaLag").is_none(),
        "instance-level: readers come and go"
    );
}

fn golden(name: &str, got: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("src/resources/observability/golden")
        .join(name);
    let pretty = serde_json::to_string_pretty(&serde_json::from_str::<Value>(got).expect("JSON"))
        .expect("pretty")
        + "\n";
    if std::env::var_os("FANSITE_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &pretty).expect("write golden");
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{} is missing: run with FANSITE_UPDATE_GOLDEN=1",
            path.display()
        )
    });
    assert!(want == pretty, "{} differs from what is rendered now; if the change is meant, run with FANSITE_UPDATE_GOLDEN=1 and review the diff", path.display());
}

#[test]
fn cloudwatch_dashboard_matches_its_golden_file() {
    let s = full();
    golden("cloudwatch-full.json", &s.body(REGION).expect("body"));
    golden(
        "cloudwatch-minimal.json",
        &minimal().body(REGION).expect("body"),
    );
}

#[test]
fn grafana_dashboard_matches_its_golden_file() {
    let w = full().watched(REGION).expect("watched");
    golden("grafana-full.json", &panels::grafana_dashboard(&w));
}

fn assert_no_nulls(v: &Value, at: &str) {
    match v {
        Value::Null => panic!("null at {at}"),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(i, x)| assert_no_nulls(x, &format!("{at}[{i}]"))),
        Value::Object(m) => m
            .iter()
            .for_each(|(k, x)| assert_no_nulls(x, &format!("{at}.{k}"))),
        _ => {}
    }
}

#[test]
fn grafana_model_has_the_required_fields_and_a_stable_uid() {
    let w = full().watched(REGION).expect("watched");
    let text = panels::grafana_dashboard(&w);
    assert_eq!(
        text,
        panels::grafana_dashboard(&w),
        "the same text every time"
    );
    assert_eq!(
        text,
        panels::canonical(&serde_json::from_str(&text).expect("JSON")),
        "keys sorted"
    );
    let v: Value = serde_json::from_str(&text).expect("JSON");
    assert_no_nulls(&v, "$");
    // The dashboard JSON model's fields (Grafana documentation, "JSON model"),
    // but `id` and `version`, which Grafana assigns.
    for field in [
        "uid",
        "title",
        "tags",
        "timezone",
        "editable",
        "graphTooltip",
        "panels",
        "time",
        "timepicker",
        "templating",
        "annotations",
        "refresh",
        "schemaVersion",
        "links",
    ] {
        assert!(v.get(field).is_some(), "missing {field}");
    }
    assert!(v.get("id").is_none() && v.get("version").is_none());
    let uid = v["uid"].as_str().expect("uid");
    assert!(
        uid.len() <= 40,
        "Grafana uids are at most 40 characters: {uid}"
    );
    assert_eq!(uid, panels::grafana_uid("fansite-prod"));
    assert_ne!(uid, panels::grafana_uid("fansite-stage"));
    let var = &v["templating"]["list"][0];
    assert_eq!(
        (
            var["name"].as_str(),
            var["type"].as_str(),
            var["query"].as_str()
        ),
        (Some("datasource"), Some("datasource"), Some("cloudwatch"))
    );
    let mut ids = BTreeSet::new();
    for p in v["panels"].as_array().expect("panels") {
        for f in ["id", "type", "title", "gridPos"] {
            assert!(p.get(f).is_some(), "panel without {f}: {p}");
        }
        for f in ["x", "y", "w", "h"] {
            assert!(p["gridPos"][f].is_i64(), "gridPos.{f}: {p}");
        }
        assert!(
            ids.insert(p["id"].as_i64().expect("id")),
            "panel ids are unique"
        );
        if p["type"] != "row" {
            assert_eq!(p["datasource"]["uid"], "${datasource}", "{p}");
            for t in p["targets"].as_array().expect("targets") {
                assert!(t["refId"].is_string(), "{t}");
                assert_eq!(t["datasource"]["type"], "cloudwatch");
            }
        }
    }
}

#[test]
fn both_dashboards_show_the_same_panels() {
    let w = full().watched(REGION).expect("watched");
    let cw: Value = serde_json::from_str(&full().body(REGION).expect("body")).expect("JSON");
    let gf: Value = serde_json::from_str(&panels::grafana_dashboard(&w)).expect("JSON");
    let titles = |v: &Value, key: &str, skip: &[&str]| -> Vec<String> {
        v[key]
            .as_array()
            .expect("list")
            .iter()
            .filter(|p| !skip.contains(&p["type"].as_str().unwrap_or_default()))
            .filter_map(|p| {
                p["properties"]["title"]
                    .as_str()
                    .or(p["title"].as_str())
                    .map(str::to_string)
            })
            .collect()
    };
    assert_eq!(
        titles(&cw, "widgets", &["text"]),
        titles(&gf, "panels", &["row"])
    );
}

#[test]
fn the_header_gives_import_every_input() {
    for s in [full(), minimal()] {
        let body: Value = serde_json::from_str(&s.body(REGION).expect("body")).expect("JSON");
        let inputs = panels::inputs_from_header(&body);
        let mut back = ObservabilityState {
            name: s.name.clone(),
            ..ObservabilityState::default()
        };
        back.set_header_inputs(&inputs);
        assert_eq!(
            back,
            ObservabilityState {
                thresholds: Thresholds::default(),
                ..s.clone()
            }
        );
    }
}

#[test]
fn alarms_follow_their_inputs_and_regions() {
    let kinds =
        |s: &ObservabilityState, topic| s.alarms(REGION, topic).keys().copied().collect::<Vec<_>>();
    assert_eq!(
        kinds(&minimal(), None),
        vec![state::ALB_5XX, state::ALB_P95]
    );
    assert_eq!(
        kinds(&full(), Some("arn:aws:sns:us-east-1:1:edge")),
        vec![
            state::ALB_5XX,
            state::ALB_P95,
            state::CLOUDFRONT_5XX,
            state::DB_FREEABLE_MEMORY,
            state::DB_REPLICA_LAG,
            state::WAF_BLOCKED
        ]
    );
    // Until the us-east-1 topic exists, the alarms there are not made.
    assert_eq!(kinds(&full(), None).len(), 4);
    let alarms = full().alarms(REGION, Some("arn:aws:sns:us-east-1:1:edge"));
    assert_eq!(
        alarms[state::CLOUDFRONT_5XX].topic_arn,
        "arn:aws:sns:us-east-1:1:edge"
    );
    assert_eq!(alarms[state::ALB_5XX].topic_arn, full().alarm_topic_arn);
    assert_eq!(alarms[state::ALB_5XX].name, "fansite-prod-alb-5xx");
    assert!(alarms[state::DB_FREEABLE_MEMORY].below);
    assert_eq!(
        alarms[state::DB_FREEABLE_MEMORY].threshold,
        256.0 * 1024.0 * 1024.0
    );
    assert_eq!(
        alarms[state::ALB_P95].threshold,
        1.0,
        "seconds, as the ALB reports"
    );
}

#[test]
fn thresholds_read_back_from_alarms_round_trip() {
    let mut s = full();
    s.thresholds = Thresholds {
        alb_5xx_percent: 3,
        response_time_p95_ms: 750,
        replica_lag_ms: 500,
        freeable_memory_mb: 1024,
        cloudfront_5xx_percent: 2,
        waf_blocked_per_minute: 5000,
        evaluation_minutes: 3,
    };
    let mut back = full();
    for (kind, a) in s.alarms(REGION, Some("t")) {
        back.set_threshold(kind, a.threshold, a.evaluation_periods);
    }
    assert_eq!(back.thresholds, s.thresholds);
}

#[test]
fn arns_give_their_dimensions() {
    assert_eq!(
        state::service_parts("arn:aws:ecs:ap-northeast-2:1:service/fansite/fansite-api"),
        Some(("fansite".into(), "fansite-api".into()))
    );
    assert_eq!(
        state::service_parts("arn:aws:ecs:ap-northeast-2:1:service/fansite-api"),
        None,
        "the old ARN format names no cluster"
    );
    assert_eq!(
        state::load_balancer_dimension(
            "arn:aws:elasticloadbalancing:r:1:loadbalancer/app/api/50dc"
        ),
        Some("app/api/50dc".into())
    );
    assert_eq!(
        state::load_balancer_dimension(
            "arn:aws:elasticloadbalancing:r:1:loadbalancer/net/api/50dc"
        ),
        None
    );
    assert_eq!(
        state::web_acl_name("arn:aws:wafv2:us-east-1:1:global/webacl/site/abc"),
        Some("site".into())
    );
    assert_eq!(
        state::web_acl_name("arn:aws:wafv2:us-east-1:1:regional/webacl/site/abc"),
        None
    );
    assert!(
        super::rules::web_acl_arn("arn:aws:wafv2:eu-west-1:1:global/webacl/site/abc").is_some()
    );
}

#[test]
fn saved_queries_are_in_the_region_of_their_logs() {
    let qs = full().queries(REGION);
    let keys: Vec<&str> = qs.iter().map(|q| q.key).collect();
    assert_eq!(
        keys,
        [
            "ecs-responses-by-status",
            "ecs-requests",
            "waf-top-countries",
            "waf-blocking-rules",
            "waf-actions",
            "ssm-sessions"
        ]
    );
    for q in &qs {
        let want = if q.key.starts_with("waf-") {
            panels::GLOBAL_REGION
        } else {
            REGION
        };
        assert_eq!(q.region, want, "{}", q.key);
    }
    // Every log panel of the dashboard is one of the saved queries.
    let w = full().watched(REGION).expect("watched");
    for row in panels::rows(&w) {
        for p in row.panels {
            if let Body::Logs { query, log_group } = p.body {
                assert!(
                    qs.iter()
                        .any(|q| q.query == query && q.log_group == log_group),
                    "{query}"
                );
            }
        }
    }
}
