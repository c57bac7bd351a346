//! fansite_edge against the resource contract's nine tests.

use aws_sdk_wafv2::types::Scope;
use serde_json::Value;

use crate::fault_proxy::FaultProxy;
use crate::harness::{
    cloudfront, endpoint, log_groups, route53, run_name, s3, secrets, waf, Config, Terraform,
    Workspace,
};

/// A fansite_edge with the tests' defaults.
pub(crate) fn edge(region: &'static str, test: &str, tf: &Terraform) -> Config {
    // A bucket name: unique per run, lowercase.
    Config::new("fansite_edge", region, run_name(test, tf))
        .with("api_origin = \"api.fans.example.com\"")
        .with("force_destroy = true")
        .with("tags = { app = \"fansite\" }")
}

const ADDR: &str = "fansite_edge.test";
const CERT: &str = "arn:aws:acm:us-east-1:123456789012:certificate/0e1f2a3b-fan";

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// A plain GET on the endpoint (it does not check signatures), returning the body.
fn http_get(url: &str) -> String {
    use std::io::{Read, Write};
    let rest = url.trim_start_matches("http://");
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let mut conn = std::net::TcpStream::connect(host).expect("connect to the endpoint");
    write!(
        conn,
        "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut out = String::new();
    conn.read_to_string(&mut out).expect("response");
    out
}

fn update() -> Vec<(String, Vec<String>)> {
    vec![(ADDR.to_string(), vec!["update".to_string()])]
}

async fn hosted_zone(name: &str) -> String {
    route53()
        .await
        .create_hosted_zone()
        .name(format!("{name}.example.com"))
        .caller_reference(name)
        .send()
        .await
        .expect("hosted zone")
        .hosted_zone()
        .map(|z| z.id().trim_start_matches("/hostedzone/").to_string())
        .unwrap_or_default()
}

/// Whether the endpoint has the bucket: HeadBucket's 404 (NotFound) means
/// no; any other error fails the test.
async fn bucket_exists(region: &str, name: &str) -> bool {
    match s3(region).await.head_bucket().bucket(name).send().await {
        Ok(_) => true,
        Err(e) if e.as_service_error().is_some_and(|e| e.is_not_found()) => false,
        Err(e) => panic!("head bucket {name}: {e:?}"),
    }
}

/// Every part of the edge the endpoint still has. Only each call's own
/// not-found error means a part is gone; any other error fails the test.
pub(crate) async fn live_parts(region: &str, name: &str, state: &Value) -> Vec<String> {
    let mut parts = Vec::new();
    if bucket_exists(region, name).await {
        parts.push(format!("bucket {name}"));
    }
    let cf = cloudfront().await;
    let id = s(&state["distribution_id"]);
    if !id.is_empty() {
        match cf.get_distribution().id(&id).send().await {
            Ok(_) => parts.push(format!("distribution {id}")),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_no_such_distribution()) => {}
            Err(e) => panic!("get distribution {id}: {e:?}"),
        }
    }
    let oacs = cf.list_origin_access_controls().send().await.expect("oacs");
    if let Some(l) = oacs.origin_access_control_list() {
        parts.extend(
            l.items()
                .iter()
                .filter(|o| o.name() == format!("{name}-oac"))
                .map(|o| format!("oac {}", o.id())),
        );
    }
    let functions = cf.list_functions().send().await.expect("functions");
    if let Some(l) = functions.function_list() {
        parts.extend(
            l.items()
                .iter()
                .filter(|f| f.name() == format!("{name}-spa"))
                .map(|f| format!("function {}", f.name())),
        );
    }
    let group = format!("aws-waf-logs-{name}");
    parts.extend(
        log_groups("us-east-1", &group)
            .await
            .iter()
            .filter(|g| g.log_group_name() == Some(group.as_str()))
            .map(|_| format!("log group {group}")),
    );
    let acls = waf("us-east-1")
        .await
        .list_web_acls()
        .scope(Scope::Cloudfront)
        .send()
        .await
        .expect("acls");
    parts.extend(
        acls.web_acls()
            .iter()
            .filter(|a| a.name() == Some(format!("{name}-waf").as_str()))
            .map(|a| format!("web ACL {}", a.id().unwrap_or_default())),
    );
    let zone = s(&state["hosted_zone_id"]);
    if !zone.is_empty() {
        match route53()
            .await
            .list_resource_record_sets()
            .hosted_zone_id(&zone)
            .send()
            .await
        {
            Ok(out) => parts.extend(
                out.resource_record_sets()
                    .iter()
                    .filter(|r| r.alias_target().is_some())
                    .map(|r| format!("record {} {}", r.name(), r.r#type().as_str())),
            ),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_no_such_hosted_zone()) => {}
            Err(e) => panic!("list resource record sets of {zone}: {e:?}"),
        }
    }
    parts
}

/// The distribution's additional metrics' subscription status.
async fn additional_metrics(id: &str) -> String {
    let out = cloudfront()
        .await
        .get_monitoring_subscription()
        .distribution_id(id)
        .send()
        .await
        .expect("monitoring subscription");
    out.monitoring_subscription()
        .and_then(|m| m.realtime_metrics_subscription_config())
        .map(|r| {
            r.realtime_metrics_subscription_status()
                .as_str()
                .to_string()
        })
        .unwrap_or_default()
}

pub(crate) async fn destroy_and_check(ws: &Workspace, e: &Config) {
    let state = ws.state_values(ADDR);
    ws.destroy();
    let left = live_parts(e.region, &e.name, &state).await;
    assert!(left.is_empty(), "destroy left parts behind: {left:?}");
}

async fn edge_apply_then_plan_is_empty(tf: &Terraform) {
    let e = edge("eu-west-1", "edge-apply", tf);
    let zone = hosted_zone(&e.name).await;
    let alias = format!("aliases = [\"www.{}.example.com\"]", e.name);
    let e = e
        .with(&alias)
        .with(&format!("certificate_arn = {CERT:?}"))
        .with(&format!("hosted_zone_id = {zone:?}"))
        .with("geo_block = [\"XX\"]")
        .with("content_hash = \"v1\"");
    let ws = Workspace::applied(tf, "edge-apply", &e.hcl());
    ws.assert_plan_empty();
    let state = ws.state_values(ADDR);
    assert_eq!(
        s(&state["url"]),
        format!("https://www.{}.example.com", e.name)
    );
    // The bucket: private, versioned, encrypted, readable only by this distribution.
    let b = s3(e.region).await;
    let pab = b
        .get_public_access_block()
        .bucket(&e.name)
        .send()
        .await
        .expect("public access block");
    let pab = pab.public_access_block_configuration().expect("config");
    assert_eq!(
        (
            pab.block_public_acls(),
            pab.ignore_public_acls(),
            pab.block_public_policy(),
            pab.restrict_public_buckets()
        ),
        (Some(true), Some(true), Some(true), Some(true))
    );
    // The local endpoint answers GetBucketVersioning with a root element the
    // SDK rejects, so this asks it over plain HTTP.
    let versioning = http_get(&format!("{}/{}?versioning", endpoint(), e.name));
    assert!(
        versioning.contains("<Status>Enabled</Status>"),
        "{versioning}"
    );
    b.get_bucket_encryption()
        .bucket(&e.name)
        .send()
        .await
        .expect("encryption is on");
    let policy = b
        .get_bucket_policy()
        .bucket(&e.name)
        .send()
        .await
        .expect("policy");
    assert!(
        policy
            .policy()
            .unwrap_or_default()
            .contains(&s(&state["distribution_arn"])),
        "the policy names the distribution"
    );
    // The distribution.
    let d = cloudfront()
        .await
        .get_distribution()
        .id(s(&state["distribution_id"]))
        .send()
        .await
        .expect("distribution");
    let cfg = d
        .distribution()
        .and_then(|d| d.distribution_config())
        .expect("config");
    assert_eq!(
        cfg.price_class().map(|p| p.as_str()),
        Some("PriceClass_All")
    );
    assert_eq!(cfg.http_version().map(|h| h.as_str()), Some("http2and3"));
    assert_eq!(cfg.default_root_object(), Some("index.html"));
    assert_eq!(cfg.web_acl_id(), Some(s(&state["web_acl_arn"]).as_str()));
    let dcb = cfg.default_cache_behavior().expect("default behavior");
    assert_eq!(dcb.viewer_protocol_policy().as_str(), "redirect-to-https");
    assert_eq!(dcb.compress(), Some(true));
    let api = cfg.cache_behaviors().map(|b| b.items()).unwrap_or_default();
    assert_eq!(api.first().map(|b| b.path_pattern()), Some("/api/*"));
    // E1: no distribution-wide error responses, which would answer the API's
    // 404s and WAF's 403s with the app's HTML and 200. The app's routes are
    // the site-routes function's: the endpoint has it, with its code.
    // (emulator: the local endpoint does not keep a behavior's function
    // associations, so which behavior runs it is the SDK double's test,
    // aws::cloudfront::tests::the_app_fallback_is_the_site_behavior_s_function_only.)
    let errors = cfg
        .custom_error_responses()
        .map(|c| c.items().len())
        .unwrap_or_default();
    assert_eq!(errors, 0, "no custom error responses");
    let routes = cloudfront()
        .await
        .describe_function()
        .name(format!("{}-spa", e.name))
        .send()
        .await
        .expect("the site-routes function");
    let summary = routes.function_summary().expect("summary");
    assert_eq!(
        summary.function_metadata().map(|m| m.function_arn()),
        Some(s(&state["site_routes_function_arn"]).as_str())
    );
    assert_eq!(
        summary.function_config().map(|c| c.runtime().as_str()),
        Some("cloudfront-js-2.0")
    );
    let origins = cfg.origins().map(|o| o.items()).unwrap_or_default();
    assert!(origins
        .iter()
        .any(|o| o.domain_name() == "api.fans.example.com"));
    // WAF: in us-east-1, although the provider's region is eu-west-1.
    let acl = waf("us-east-1")
        .await
        .get_web_acl()
        .name(format!("{}-waf", e.name))
        .id(s(&state["web_acl_id"]))
        .scope(Scope::Cloudfront)
        .send()
        .await
        .expect("web ACL in us-east-1");
    let rules = acl.web_acl().map(|a| a.rules()).unwrap_or_default();
    let names: Vec<&str> = rules.iter().map(|r| r.name()).collect();
    assert!(
        names.contains(&"rate-limit-per-ip") && names.contains(&"geo-block"),
        "{names:?}"
    );
    assert!(
        names.contains(&"AWSManagedRulesKnownBadInputsRuleSet"),
        "{names:?}"
    );
    let rate = rules
        .iter()
        .find_map(|r| r.statement().and_then(|s| s.rate_based_statement()))
        .map(|r| r.limit());
    assert_eq!(rate, Some(2000));
    // CloudFront's additional metrics are on (asked of the layer: the local
    // endpoint has no monitoring subscriptions; ARCHITECTURE.md).
    assert_eq!(
        additional_metrics(&s(&state["distribution_id"])).await,
        "Enabled"
    );
    // WAF logs to aws-waf-logs-<name> in us-east-1, a month kept, with a
    // fan's authorization and cookie headers redacted.
    let group = format!("aws-waf-logs-{}", e.name);
    let logging = waf("us-east-1")
        .await
        .get_logging_configuration()
        .resource_arn(s(&state["web_acl_arn"]))
        .send()
        .await
        .expect("the web ACL logs");
    let logging = logging.logging_configuration().expect("logging");
    let redacted: Vec<&str> = logging
        .redacted_fields()
        .iter()
        .filter_map(|f| f.single_header().map(|h| h.name()))
        .collect();
    assert_eq!(redacted, vec!["authorization", "cookie"]);
    let groups = log_groups("us-east-1", &group).await;
    let made = groups
        .iter()
        .find(|g| g.log_group_name() == Some(group.as_str()))
        .expect("the log group, in us-east-1");
    assert_eq!(made.retention_in_days(), Some(30));
    // WAF takes the group's ARN without DescribeLogGroups' ":*".
    let arn = made.arn().unwrap_or_default().trim_end_matches(":*");
    assert_eq!(logging.log_destination_configs(), [arn.to_string()]);
    // Route53: A and AAAA aliases.
    let parts = live_parts(e.region, &e.name, &state).await;
    assert_eq!(
        parts.iter().filter(|p| p.starts_with("record")).count(),
        2,
        "{parts:?}"
    );
    destroy_and_check(&ws, &e).await;
}
per_terraform!(edge_apply_then_plan_is_empty);

async fn edge_in_place_changes_update_without_replacing(tf: &Terraform) {
    let mut e = edge("eu-west-2", "edge-inplace", tf);
    let zone = hosted_zone(&e.name).await;
    let ws = Workspace::applied(tf, "edge-inplace", &e.hcl());
    let id = s(&ws.state_values(ADDR)["distribution_id"]);
    let name = e.name.clone();
    let steps: Vec<(&str, String)> = vec![
        ("rate limit", "rate_limit = 500".into()),
        ("geo block", "geo_block = [\"XX\", \"YY\"]".into()),
        (
            "managed rules",
            "managed_rule_groups = [\"AWSManagedRulesCommonRuleSet\"]".into(),
        ),
        ("price class", "price_class = \"PriceClass_200\"".into()),
        ("api path", "api_path_pattern = \"/v1/*\"".into()),
        (
            "api origin",
            "api_origin = \"api2.fans.example.com\"".into(),
        ),
        ("certificate", format!("certificate_arn = {CERT:?}")),
        ("aliases", format!("aliases = [\"www.{name}.example.com\"]")),
        ("records", format!("hosted_zone_id = {zone:?}")),
        (
            "tags",
            "tags = { app = \"fansite\", tier = \"edge\" }".into(),
        ),
        ("waf log retention", "waf_log_retention_days = 90".into()),
        ("waf logs off", "waf_logs = false".into()),
        (
            "additional metrics off",
            "additional_metrics = false".into(),
        ),
        ("content hash", "content_hash = \"v2\"".into()),
        ("force destroy", "force_destroy = false".into()),
    ];
    for (what, line) in steps {
        e = e.with(&line);
        ws.write(&e.hcl());
        assert_eq!(ws.planned_actions(), update(), "{what}: plan says update");
        ws.apply();
        ws.assert_plan_empty();
        assert_eq!(
            s(&ws.state_values(ADDR)["distribution_id"]),
            id,
            "{what}: same distribution"
        );
    }
    let state = ws.state_values(ADDR);
    // Asked of AWS: with waf_logs = false the web ACL logs nowhere, and its
    // log group is gone.
    match waf("us-east-1")
        .await
        .get_logging_configuration()
        .resource_arn(s(&state["web_acl_arn"]))
        .send()
        .await
    {
        Ok(_) => panic!("the web ACL still logs"),
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_waf_nonexistent_item_exception()) => {}
        Err(err) => panic!("get logging configuration: {err:?}"),
    }
    assert!(!live_parts(e.region, &e.name, &state)
        .await
        .iter()
        .any(|p| p.starts_with("log group")));
    assert_eq!(additional_metrics(&id).await, "Disabled");
    // Asked of AWS: the new hash made an invalidation of /*.
    let inv = cloudfront()
        .await
        .get_invalidation()
        .distribution_id(&id)
        .id(s(&state["invalidation_id"]))
        .send()
        .await
        .expect("invalidation");
    let paths = inv
        .invalidation()
        .and_then(|i| i.invalidation_batch())
        .and_then(|b| b.paths())
        .map(|p| p.items().to_vec())
        .unwrap_or_default();
    assert_eq!(paths, vec!["/*".to_string()]);
    let d = cloudfront()
        .await
        .get_distribution()
        .id(&id)
        .send()
        .await
        .expect("distribution");
    let cfg = d
        .distribution()
        .and_then(|d| d.distribution_config())
        .expect("config");
    assert_eq!(
        cfg.price_class().map(|p| p.as_str()),
        Some("PriceClass_200")
    );
    assert_eq!(
        cfg.aliases().map(|a| a.items().to_vec()),
        Some(vec![format!("www.{name}.example.com")])
    );
    assert_eq!(
        live_parts(e.region, &e.name, &state)
            .await
            .iter()
            .filter(|p| p.starts_with("record"))
            .count(),
        2
    );
    // force_destroy = false and a file in the bucket: destroy refuses before deleting anything.
    s3(e.region)
        .await
        .put_object()
        .bucket(&e.name)
        .key("index.html")
        .body(aws_sdk_s3::primitives::ByteStream::from_static(
            b"<html></html>",
        ))
        .send()
        .await
        .expect("upload");
    let out = ws.fails(&["destroy", "-auto-approve", "-input=false", "-no-color"]);
    let said = out.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        said.contains("the bucket still holds the site's files, and force_destroy is false")
            && said.contains("Nothing was deleted"),
        "{out}"
    );
    assert!(live_parts(e.region, &e.name, &state)
        .await
        .iter()
        .any(|p| p.starts_with("distribution")));
    ws.write(&e.clone().with("force_destroy = true").hcl());
    ws.apply();
    destroy_and_check(&ws, &e).await;
}
per_terraform!(edge_in_place_changes_update_without_replacing);

async fn edge_replacing_changes_plan_a_replace(tf: &Terraform) {
    let e = edge("eu-central-1", "edge-replace", tf);
    let ws = Workspace::applied(tf, "edge-replace", &e.hcl());
    let renamed = e.clone().named(format!("{}-2", e.name));
    ws.write(&renamed.hcl());
    assert_eq!(
        ws.planned_actions(),
        vec![(
            ADDR.to_string(),
            vec!["delete".to_string(), "create".to_string()]
        )],
        "name"
    );
    ws.write(&e.hcl());
    destroy_and_check(&ws, &e).await;
}
per_terraform!(edge_replacing_changes_plan_a_replace);

async fn edge_import_gives_an_empty_plan(tf: &Terraform) {
    // content_hash, force_destroy and hosted_zone_id are not held by AWS in a
    // form import can read back; this configuration leaves them at their defaults.
    let e = edge("us-east-2", "edge-import", tf)
        .without("force_destroy")
        .with("geo_block = [\"XX\"]");
    let ws = Workspace::applied(tf, "edge-import", &e.hcl());
    let applied = ws.state_values(ADDR);
    let id = s(&applied["distribution_id"]);
    ws.assert_imports_as_applied(ADDR, &id, &e.hcl(), &applied);
    let other = "fansite_edge.other";
    ws.write(&format!(
        "{}\nresource \"fansite_edge\" \"other\" {{\n  name = \"other-edge\"\n}}\n",
        e.hcl()
    ));
    let bad = ws.import_fails(other, "not-an-id");
    assert!(bad.contains("Invalid import ID"), "{bad}");
    let bad = ws.import_fails(other, "E0000000000000");
    assert!(bad.contains("Cannot import non-existent edge"), "{bad}");
    ws.write(&e.hcl());
    destroy_and_check(&ws, &e).await;
}
per_terraform!(edge_import_gives_an_empty_plan);

async fn edge_drift_is_shown_and_repaired(tf: &Terraform) {
    let e = edge("ap-southeast-1", "edge-drift", tf);
    let ws = Workspace::applied(tf, "edge-drift", &e.hcl());
    let state = ws.state_values(ADDR);
    // Someone raises the rate limit in the WAF console.
    let w = waf("us-east-1").await;
    let acl_name = format!("{}-waf", e.name);
    let got = w
        .get_web_acl()
        .name(&acl_name)
        .id(s(&state["web_acl_id"]))
        .scope(Scope::Cloudfront)
        .send()
        .await
        .expect("acl");
    let acl = got.web_acl().expect("acl");
    let rules: Vec<aws_sdk_wafv2::types::Rule> = acl
        .rules()
        .iter()
        .map(|r| {
            let mut r = r.clone();
            if let Some(st) = r.statement.as_mut() {
                if let Some(rb) = st.rate_based_statement.as_mut() {
                    rb.limit = 100_000;
                }
            }
            r
        })
        .collect();
    w.update_web_acl()
        .name(&acl_name)
        .id(acl.id())
        .scope(Scope::Cloudfront)
        .lock_token(got.lock_token().unwrap_or_default())
        .set_default_action(acl.default_action().cloned())
        .set_rules(Some(rules))
        .set_visibility_config(acl.visibility_config().cloned())
        .send()
        .await
        .expect("drift the web ACL");
    let plan = ws.plan();
    assert!(
        plan.contains("rate_limit") && plan.contains("100000"),
        "plan shows the drift: {plan}"
    );
    assert_eq!(ws.planned_actions(), update());
    ws.apply();
    ws.assert_plan_empty();
    let got = w
        .get_web_acl()
        .name(&acl_name)
        .id(s(&state["web_acl_id"]))
        .scope(Scope::Cloudfront)
        .send()
        .await
        .expect("acl");
    let rate = got
        .web_acl()
        .map(|a| a.rules())
        .unwrap_or_default()
        .iter()
        .find_map(|r| r.statement().and_then(|s| s.rate_based_statement()))
        .map(|r| r.limit());
    assert_eq!(rate, Some(2000), "repaired");
    destroy_and_check(&ws, &e).await;
}
per_terraform!(edge_drift_is_shown_and_repaired);

/// The distribution's configuration, as the endpoint has it.
async fn distribution_config(id: &str) -> aws_sdk_cloudfront::types::DistributionConfig {
    cloudfront()
        .await
        .get_distribution_config()
        .id(id)
        .send()
        .await
        .expect("config")
        .distribution_config()
        .cloned()
        .expect("config")
}

/// The API origin's protocol policy of the distribution, as the endpoint has it.
async fn api_origin_protocol(id: &str) -> String {
    distribution_config(id)
        .await
        .origins()
        .and_then(|o| {
            o.items()
                .iter()
                .find(|o| o.domain_name() == "api.fans.example.com")
        })
        .and_then(|o| o.custom_origin_config())
        .map(|c| c.origin_protocol_policy().as_str().to_string())
        .expect("the API origin has a custom origin config")
}

/// `api_origin_protocol` is read back from the distribution: a change made
/// outside Terraform shows in the plan and the apply puts it back.
async fn edge_origin_protocol_drift_is_shown_and_repaired(tf: &Terraform) {
    let e = edge("ap-southeast-1", "edge-proto", tf);
    let ws = Workspace::applied(tf, "edge-proto", &e.hcl());
    let state = ws.state_values(ADDR);
    let id = s(&state["distribution_id"]);
    assert_eq!(api_origin_protocol(&id).await, "https-only");
    // Someone switches the API origin to plain HTTP in the console.
    let cf = cloudfront().await;
    let d = cf
        .get_distribution_config()
        .id(&id)
        .send()
        .await
        .expect("config");
    let mut cfg = d.distribution_config().cloned().expect("config");
    if let Some(origins) = cfg.origins.as_mut() {
        for o in origins.items.iter_mut() {
            if o.domain_name == "api.fans.example.com" {
                if let Some(c) = o.custom_origin_config.as_mut() {
                    c.origin_protocol_policy =
                        aws_sdk_cloudfront::types::OriginProtocolPolicy::HttpOnly;
                }
            }
        }
    }
    cf.update_distribution()
        .id(&id)
        .if_match(d.e_tag().unwrap_or_default())
        .distribution_config(cfg)
        .send()
        .await
        .expect("drift the origin");
    assert_eq!(api_origin_protocol(&id).await, "http-only");
    let plan = ws.plan();
    assert!(
        plan.contains("api_origin_protocol") && plan.contains("http-only"),
        "plan shows the drift: {plan}"
    );
    assert_eq!(ws.planned_actions(), update());
    ws.apply();
    ws.assert_plan_empty();
    assert_eq!(api_origin_protocol(&id).await, "https-only");
    destroy_and_check(&ws, &e).await;
}
per_terraform!(edge_origin_protocol_drift_is_shown_and_repaired);

/// The alias records of `domain` in the zone, by type.
async fn alias_types(zone: &str, domain: &str) -> Vec<String> {
    let out = route53()
        .await
        .list_resource_record_sets()
        .hosted_zone_id(zone)
        .send()
        .await
        .expect("records");
    let mut types: Vec<String> = out
        .resource_record_sets()
        .iter()
        .filter(|r| r.name().trim_end_matches('.') == domain && r.alias_target().is_some())
        .map(|r| r.r#type().as_str().to_string())
        .collect();
    types.sort();
    types
}

/// E10: the alias records are read back: one deleted by hand shows in the
/// plan, and the apply writes it again.
async fn edge_alias_record_deleted_by_hand_is_drift(tf: &Terraform) {
    let e = edge("eu-central-1", "edge-dns", tf);
    let zone = hosted_zone(&e.name).await;
    let domain = format!("www.{}.example.com", e.name);
    let e = e
        .with(&format!("aliases = [{domain:?}]"))
        .with(&format!("certificate_arn = {CERT:?}"))
        .with(&format!("hosted_zone_id = {zone:?}"));
    let ws = Workspace::applied(tf, "edge-dns", &e.hcl());
    ws.assert_plan_empty();
    assert_eq!(alias_types(&zone, &domain).await, vec!["A", "AAAA"]);
    let r53 = route53().await;
    let aaaa = r53
        .list_resource_record_sets()
        .hosted_zone_id(&zone)
        .send()
        .await
        .expect("records")
        .resource_record_sets()
        .iter()
        .find(|r| {
            r.name().trim_end_matches('.') == domain
                && r.r#type() == &aws_sdk_route53::types::RrType::Aaaa
        })
        .cloned()
        .expect("the AAAA record");
    r53.change_resource_record_sets()
        .hosted_zone_id(&zone)
        .change_batch(
            aws_sdk_route53::types::ChangeBatch::builder()
                .changes(
                    aws_sdk_route53::types::Change::builder()
                        .action(aws_sdk_route53::types::ChangeAction::Delete)
                        .resource_record_set(aaaa)
                        .build()
                        .expect("change"),
                )
                .build()
                .expect("batch"),
        )
        .send()
        .await
        .expect("delete the AAAA record");
    assert_eq!(alias_types(&zone, &domain).await, vec!["A"]);
    let plan = ws.plan();
    assert!(plan.contains("hosted_zone_id"), "record drift: {plan}");
    assert_eq!(ws.planned_actions(), update());
    ws.apply();
    ws.assert_plan_empty();
    assert_eq!(
        alias_types(&zone, &domain).await,
        vec!["A", "AAAA"],
        "written again"
    );
    destroy_and_check(&ws, &e).await;
}
per_terraform!(edge_alias_record_deleted_by_hand_is_drift);

/// What the distribution sends its API origin in X-Origin-Verify, as the endpoint has it.
pub(crate) async fn origin_header(id: &str) -> Option<String> {
    let cfg = distribution_config(id).await;
    let origins = cfg
        .origins()
        .map(|o| o.items().to_vec())
        .unwrap_or_default();
    for o in &origins {
        let found = o.custom_headers().and_then(|h| {
            h.items()
                .iter()
                .find(|h| h.header_name().eq_ignore_ascii_case("X-Origin-Verify"))
        });
        if let Some(h) = found {
            assert!(
                o.s3_origin_config().is_none(),
                "the origin secret goes to the API origin only"
            );
            return Some(h.header_value().to_string());
        }
    }
    None
}

const FIRST_SECRET: &str = "0riginsecretfirst0000000000000000000000000000000000000000000001";
const NEXT_SECRET: &str = "0riginsecretnext00000000000000000000000000000000000000000000002";

/// The origin secret: its current value is sent to the API origin in
/// X-Origin-Verify and is in neither plan nor state; a rotation since the
/// last apply (made here through the API, as a fansite_service's rotation
/// makes it) shows in the next plan and the apply sends the new value; a
/// version given is sent as given.
async fn edge_sends_the_origin_secret_and_follows_its_rotation(tf: &Terraform) {
    let e = edge("sa-east-1", "edge-origin", tf);
    let r = e.region;
    let arn = secrets(r)
        .await
        .create_secret()
        .name(format!("fansite/{}/origin-verify", e.name))
        .secret_string(FIRST_SECRET)
        .send()
        .await
        .expect("secret")
        .arn()
        .unwrap_or_default()
        .to_string();
    let current = |_: ()| async {
        crate::service::secret_at(r, &arn, "AWSCURRENT")
            .await
            .expect("current")
            .0
    };
    let e = e.with(&format!("api_origin_secret_arn = \"{arn}\""));
    let ws = Workspace::applied(tf, "edge-origin", &e.hcl());
    ws.assert_plan_empty();
    let id = s(&ws.state_values(ADDR)["distribution_id"]);
    let first = current(()).await;
    assert_eq!(origin_header(&id).await.as_deref(), Some(FIRST_SECRET));
    assert_eq!(
        s(&ws.state_values(ADDR)["api_origin_secret_version"]),
        first
    );
    assert!(!crate::service::state_holds(&ws, &[FIRST_SECRET]));

    // Rotated outside the edge: the plan shows it, the apply sends it.
    secrets(r)
        .await
        .put_secret_value()
        .secret_id(&arn)
        .secret_string(NEXT_SECRET)
        .send()
        .await
        .expect("rotate");
    let plan = ws.plan();
    assert!(plan.contains("api_origin_secret_version"), "{plan}");
    assert!(!plan.contains(FIRST_SECRET) && !plan.contains(NEXT_SECRET));
    assert_eq!(ws.planned_actions(), update());
    ws.apply();
    ws.assert_plan_empty();
    assert_eq!(origin_header(&id).await.as_deref(), Some(NEXT_SECRET));
    assert_eq!(
        s(&ws.state_values(ADDR)["api_origin_secret_version"]),
        current(()).await
    );

    // A version given: that one is sent, and stays.
    let pinned = e
        .clone()
        .with(&format!("api_origin_secret_version = \"{first}\""));
    ws.write(&pinned.hcl());
    ws.apply();
    ws.assert_plan_empty();
    assert_eq!(origin_header(&id).await.as_deref(), Some(FIRST_SECRET));
    assert!(!crate::service::state_holds(
        &ws,
        &[FIRST_SECRET, NEXT_SECRET]
    ));
    destroy_and_check(&ws, &e).await;
    secrets(r)
        .await
        .delete_secret()
        .secret_id(&arn)
        .force_delete_without_recovery(true)
        .send()
        .await
        .expect("delete the test's secret");
}
per_terraform!(edge_sends_the_origin_secret_and_follows_its_rotation);

/// Disables and deletes a distribution through the API, as someone outside
/// Terraform would: CloudFront deletes a distribution only once it is
/// disabled and that change is deployed (DistributionNotDisabled before).
async fn delete_distribution_outside_terraform(id: &str) {
    let cf = cloudfront().await;
    let d = cf
        .get_distribution_config()
        .id(id)
        .send()
        .await
        .expect("config");
    let mut cfg = d.distribution_config().cloned().expect("config");
    cfg.enabled = false;
    cf.update_distribution()
        .id(id)
        .if_match(d.e_tag().unwrap_or_default())
        .distribution_config(cfg)
        .send()
        .await
        .expect("disable");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let etag = loop {
        let got = cf
            .get_distribution()
            .id(id)
            .send()
            .await
            .expect("distribution");
        let status = got.distribution().map(|d| d.status().to_string());
        if status.as_deref() == Some("Deployed") {
            break got.e_tag().unwrap_or_default().to_string();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "distribution {id} still {status:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    };
    cf.delete_distribution()
        .id(id)
        .if_match(etag)
        .send()
        .await
        .expect("delete");
}

async fn edge_deleted_distribution_is_recreated(tf: &Terraform) {
    let e = edge("ap-southeast-2", "edge-gone", tf);
    let ws = Workspace::applied(tf, "edge-gone", &e.hcl());
    let state = ws.state_values(ADDR);
    let id = s(&state["distribution_id"]);
    delete_distribution_outside_terraform(&id).await;
    // Read keeps the bucket, access control and web ACL that remain, so
    // the distribution is made again in place.
    assert_eq!(
        ws.planned_actions(),
        vec![(ADDR.to_string(), vec!["update".to_string()])],
        "plan re-creates the distribution in place"
    );
    ws.apply();
    ws.assert_plan_empty();
    let now = ws.state_values(ADDR);
    assert_ne!(s(&now["distribution_id"]), id);
    // The bucket, access control and web ACL left behind are taken over, not orphaned.
    assert_eq!(s(&now["web_acl_id"]), s(&state["web_acl_id"]));
    assert_eq!(
        s(&now["origin_access_control_id"]),
        s(&state["origin_access_control_id"])
    );
    // Deleted again, then a destroy: its refresh must not drop the
    // resource, or the bucket, access control and web ACL are orphaned.
    delete_distribution_outside_terraform(&s(&now["distribution_id"])).await;
    destroy_and_check(&ws, &e).await;
}
per_terraform!(edge_deleted_distribution_is_recreated);

async fn edge_destroy_leaves_no_parts(tf: &Terraform) {
    let e = edge("sa-east-1", "edge-destroy", tf);
    let zone = hosted_zone(&e.name).await;
    let alias = format!("aliases = [\"www.{}.example.com\"]", e.name);
    let e = e
        .with(&alias)
        .with(&format!("certificate_arn = {CERT:?}"))
        .with(&format!("hosted_zone_id = {zone:?}"));
    let ws = Workspace::applied(tf, "edge-destroy", &e.hcl());
    let state = ws.state_values(ADDR);
    s3(e.region)
        .await
        .put_object()
        .bucket(&e.name)
        .key("index.html")
        .body(aws_sdk_s3::primitives::ByteStream::from_static(
            b"<html></html>",
        ))
        .send()
        .await
        .expect("upload");
    let before = live_parts(e.region, &e.name, &state).await;
    // bucket, distribution, access control, site-routes function, web ACL,
    // its log group, A and AAAA records
    assert_eq!(before.len(), 8, "{before:?}");
    destroy_and_check(&ws, &e).await;
    // E3: CloudFront held the access control, the function and the web ACL
    // for a while after the distribution went, and each delete waited that out.
    if let Some(layer) = crate::harness::layer() {
        let effects = layer.effects();
        for held in [
            "DeleteOriginAccessControl refused: OriginAccessControlInUse",
            "DeleteCloudFrontFunction refused: FunctionInUse",
            "DeleteWebACL refused: WAFAssociatedItemException",
        ] {
            assert!(
                effects.iter().any(|e| e.contains(held)),
                "{held}: {effects:#?}"
            );
        }
    }
    ws.destroy();
}
per_terraform!(edge_destroy_leaves_no_parts);

async fn edge_bad_inputs_fail_on_their_attribute(tf: &Terraform) {
    let e = edge("us-west-1", "edge-bad", tf);
    let ws = Workspace::new(tf, "edge-bad", &e.hcl());
    let cases: Vec<(&str, Config, &str, &str)> = vec![
        (
            "bucket name",
            e.clone().named("Fan_Site"),
            "Invalid name",
            "name",
        ),
        (
            "api path",
            e.clone().with("api_path_pattern = \"/*\""),
            "Invalid api_path_pattern",
            "api_path_pattern",
        ),
        (
            "api origin with scheme",
            e.clone().with("api_origin = \"https://api.example.com\""),
            "Invalid api_origin",
            "api_origin",
        ),
        (
            "https to a load balancer's own name",
            e.clone()
                .with("api_origin = \"fan-api-1.us-west-1.elb.amazonaws.com\"")
                .with("api_origin_protocol = \"https-only\""),
            "HTTPS to a load balancer's own name",
            "api_origin_protocol",
        ),
        (
            "origin protocol",
            e.clone().with("api_origin_protocol = \"tls\""),
            "Invalid api_origin_protocol",
            "api_origin_protocol",
        ),
        (
            "origin secret not a secret ARN",
            e.clone().with("api_origin_secret_arn = \"fansite/api/origin-verify\""),
            "Invalid api_origin_secret_arn",
            "api_origin_secret_arn",
        ),
        (
            "origin secret in another region",
            e.clone().with("api_origin_secret_arn = \"arn:aws:secretsmanager:eu-west-1:123456789012:secret:fansite/api/origin-verify-AbCdEf\""),
            "Secret in another region",
            "api_origin_secret_arn",
        ),
        (
            "origin secret version without a secret",
            e.clone().with("api_origin_secret_version = \"v1\""),
            "Secret version without a secret",
            "api_origin_secret_version",
        ),
        (
            "price class",
            e.clone().with("price_class = \"PriceClass_Cheap\""),
            "Invalid price_class",
            "price_class",
        ),
        (
            "rate limit",
            e.clone().with("rate_limit = 10"),
            "Invalid rate_limit",
            "rate_limit",
        ),
        (
            "waf log retention",
            e.clone().with("waf_log_retention_days = 10"),
            "Invalid waf_log_retention_days",
            "waf_log_retention_days",
        ),
        (
            "rule group",
            e.clone().with("managed_rule_groups = [\"MyRules\"]"),
            "Invalid managed_rule_groups",
            "managed_rule_groups",
        ),
        (
            "country",
            e.clone().with("geo_block = [\"kor\"]"),
            "Invalid geo_block",
            "geo_block",
        ),
        (
            "aliases without certificate",
            e.clone().with("aliases = [\"fans.example.com\"]"),
            "Aliases without a certificate",
            "aliases",
        ),
        (
            "certificate region",
            e.clone()
                .with("certificate_arn = \"arn:aws:acm:eu-west-1:1:certificate/x\""),
            "Invalid certificate_arn",
            "certificate_arn",
        ),
        (
            "bad timeout",
            e.clone().with("timeouts {\n    create = \"soon\"\n  }"),
            "Invalid duration",
            "create",
        ),
    ];
    for (what, config, summary, code) in cases {
        ws.write(&config.hcl());
        ws.assert_plan_error(what, summary, code);
    }
    assert!(
        !bucket_exists(e.region, &e.name).await,
        "bad input made a bucket"
    );
}
per_terraform!(edge_bad_inputs_fail_on_their_attribute);

async fn edge_fault_midway_keeps_ids_and_destroy_cleans_up(tf: &Terraform) {
    let proxy = FaultProxy::start(endpoint(), "POST /2020-05-31/distribution");
    let e = edge("us-west-2", "edge-fault", tf).provider(format!(
        "  endpoints {{\n    cloudfront = {:?}\n  }}\n",
        proxy.url
    ));
    let ws = Workspace::new(tf, "edge-fault", &e.hcl());
    let out = ws.apply_fails();
    assert!(proxy.matched() >= 1, "the proxy failed CreateDistribution");
    assert!(
        out.contains("InjectedFault"),
        "the error names AWS's code: {out}"
    );
    assert!(
        out.contains(&format!("creating distribution \"{}\"", e.name)),
        "the error names the action and part: {out}"
    );
    let state = ws.state_values(ADDR);
    assert_eq!(s(&state["bucket_name"]), e.name, "{state}");
    assert!(!s(&state["web_acl_id"]).is_empty(), "{state}");
    assert!(!s(&state["origin_access_control_id"]).is_empty(), "{state}");
    assert!(!s(&state["site_routes_function_arn"]).is_empty(), "{state}");
    assert_eq!(state["distribution_id"], Value::Null);
    let made = live_parts(e.region, &e.name, &state).await;
    assert_eq!(
        made.len(),
        5,
        "bucket, access control, site-routes function, web ACL and its log group: {made:?}"
    );
    let plan = ws.plan();
    assert!(plan.contains("tainted"), "{plan}");
    destroy_and_check(&ws, &e).await;
}
per_terraform!(edge_fault_midway_keeps_ids_and_destroy_cleans_up);

/// The bucket, the web ACL, the access control and the site-routes function
/// are made side by side: when two of them fail at once, the other two are
/// made all the same, their ids are in the state, and destroy removes them.
/// (Made in turn, the first failure stopped the rest: the access control's
/// create was never sent.)
async fn edge_two_failures_at_once_keep_every_id(tf: &Terraform) {
    let waf = FaultProxy::start(endpoint(), "CreateWebACL");
    let cloudfront = FaultProxy::start(endpoint(), "POST /2020-05-31/origin-access-control");
    let e = edge("us-west-2", "edge-two", tf).provider(format!(
        "  endpoints {{\n    wafv2      = {:?}\n    cloudfront = {:?}\n  }}\n",
        waf.url, cloudfront.url
    ));
    let ws = Workspace::new(tf, "edge-two-faults", &e.hcl());
    let out = ws.apply_fails();
    assert!(waf.matched() >= 1, "the web ACL's create was sent");
    assert!(
        cloudfront.matched() >= 1,
        "the access control's create was sent though the web ACL's failed"
    );
    // Both errors are reported, each as a diagnostic of its own.
    for part in ["creating web ACL", "creating origin access control"] {
        assert!(out.contains(part), "the errors name {part:?}: {out}");
    }
    assert!(
        out.matches("InjectedFault").count() >= 2,
        "each error names AWS's code: {out}"
    );
    let state = ws.state_values(ADDR);
    assert_eq!(s(&state["bucket_name"]), e.name, "{state}");
    assert!(!s(&state["site_routes_function_arn"]).is_empty(), "{state}");
    assert_eq!(state["web_acl_id"], Value::Null, "{state}");
    assert_eq!(state["origin_access_control_id"], Value::Null, "{state}");
    assert_eq!(state["distribution_id"], Value::Null, "{state}");
    let made = live_parts(e.region, &e.name, &state).await;
    assert_eq!(
        made.len(),
        2,
        "the bucket and the site-routes function, asked of the endpoint: {made:?}"
    );
    destroy_and_check(&ws, &e).await;
}
per_terraform!(edge_two_failures_at_once_keep_every_id);
