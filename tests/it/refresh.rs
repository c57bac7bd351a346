//! The refresh budget: `terraform plan` of an unchanged stack makes at most
//! one read call per AWS object the resource owns, plus one per list page.
//! Parts of one kind are read together (a describe by ids, by a filter or by
//! tags), never one by one, and nothing is read twice.
//!
//! Each test applies one resource with its calls going through a recording
//! proxy (its dependencies, a network say, go straight to the endpoint and
//! are not counted), then runs a plan with refresh and takes the calls the
//! plan made:
//!
//! - The budget is the number of objects the resource owns, asked of the
//!   endpoint and not of the state: what each resource's `live_parts` lists,
//!   plus the objects it makes with a call of their own that `live_parts`
//!   leaves out (a bucket's policy, a web ACL's logging configuration, an
//!   autoscaling policy). Each may be read once; a describe by ids, a filter
//!   or a listing counts once per page, however many objects it returns.
//!   A call that reads no owned object (the region's zones, a managed prefix
//!   list, the subnets given as input) counts against the same budget.
//! - No operation appears twice: a second call of the same operation is a
//!   per-part re-read that one batch describe would avoid. A REST call is
//!   named by its method and path (`"GET /2020-05-31/distribution/<id>"`),
//!   so two reads of one distribution count as a repeat, while reads of two
//!   different paths do not. Each test's `allowed` list names the operations
//!   that may repeat, each with its reason.

use std::collections::BTreeMap;

use aws_sdk_applicationautoscaling::types::ServiceNamespace;
use serde_json::Value;

use crate::fault_proxy::FaultProxy;
use crate::harness::{autoscaling, cloudfront, elb, endpoint, s3, sns, waf, Terraform, Workspace};
use crate::{auth, database, edge, network, service};

/// The alias of the provider that talks to AWS through the proxy.
const COUNTED: &str = "counted";

/// The body line that puts a resource on the [`COUNTED`] provider.
const ON_COUNTED: &str = "provider = fansite.counted";

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// The operations `proxy` saw during one `terraform plan` (with refresh) of
/// the workspace, which must plan no change.
fn plan_calls(ws: &Workspace, proxy: &FaultProxy) -> Vec<String> {
    let mark = proxy.calls().len();
    ws.assert_plan_empty();
    proxy
        .calls()
        .into_iter()
        .skip(mark)
        .map(|(op, _)| op)
        .collect()
}

/// Asserts the budget of one plan: no more `calls` than owned `parts`, and
/// no operation twice unless `allowed` names it (with its reason).
fn assert_within_budget(what: &str, calls: &[String], parts: &[String], allowed: &[(&str, &str)]) {
    let budget = parts.len();
    let report = format!(
        "{} calls: {calls:#?}\ncounted parts ({budget}): {parts:#?}\nbudget: {budget}",
        calls.len()
    );
    assert!(
        !parts.is_empty(),
        "{what}: no part on the endpoint\n{report}"
    );
    assert!(
        !calls.is_empty(),
        "{what}: the plan read nothing through the proxy\n{report}"
    );
    let mut per_op: BTreeMap<&str, usize> = BTreeMap::new();
    for op in calls {
        *per_op.entry(op.as_str()).or_default() += 1;
    }
    let repeated: Vec<String> = per_op
        .iter()
        .filter(|(op, n)| **n > 1 && !allowed.iter().any(|(a, _)| a == *op))
        .map(|(op, n)| format!("{op} ({n} calls)"))
        .collect();
    assert!(
        repeated.is_empty(),
        "{what}: operations called more than once (read per part, not in one batch): {repeated:?}\n{report}"
    );
    assert!(
        calls.len() <= budget,
        "{what}: {} read calls for {budget} owned parts\n{report}",
        calls.len()
    );
}

async fn network_plan_reads_each_part_at_most_once(tf: &Terraform) {
    let proxy = FaultProxy::record(endpoint());
    // Two zones with a NAT gateway each: two of every per-zone part.
    let net = network::network("eu-west-3", "net-refresh", tf).attr("nat_strategy", "\"per_az\"");
    // Alone in its workspace: the provider's one endpoint is the proxy.
    let ws = Workspace::with_endpoint(tf, "refresh-network", &net.hcl(), &proxy.url);
    ws.apply();
    let calls = plan_calls(&ws, &proxy);
    let parts = network::live_parts(net.region, &net.name).await;
    // Each operation once (none needs more).
    let allowed: &[(&str, &str)] = &[];
    assert_within_budget("network", &calls, &parts, allowed);
    network::destroy_and_check(&ws, &net).await;
}
per_terraform!(network_plan_reads_each_part_at_most_once);

async fn auth_plan_reads_each_part_at_most_once(tf: &Terraform) {
    let proxy = FaultProxy::record(endpoint());
    // Two groups (one listing reads both) and a hosted UI domain.
    let a = auth::auth_with_hosted_ui("eu-west-3", "auth-refresh", tf).with(
        "groups = {\n    admin     = \"Site staff\"\n    moderator = \"Removes posts that break the rules\"\n  }",
    );
    let ws = Workspace::with_endpoint(tf, "refresh-auth", &a.hcl(), &proxy.url);
    ws.apply();
    let calls = plan_calls(&ws, &proxy);
    let parts = auth::live_parts(a.region, &a.name).await;
    // Each operation once (none needs more).
    let allowed: &[(&str, &str)] = &[];
    assert_within_budget("auth", &calls, &parts, allowed);
    auth::destroy_and_check(&ws, &a, true).await;
}
per_terraform!(auth_plan_reads_each_part_at_most_once);

async fn database_plan_reads_each_part_at_most_once(tf: &Terraform) {
    let proxy = FaultProxy::record(endpoint());
    let db = database::database("eu-west-3", "db-refresh", tf);
    // The network on the default provider, as the other database tests make it.
    let (ws, app) = database::setup(&db, tf, "refresh-database").await;
    // By default a writer and a reader, with reader autoscaling: two
    // instances to read together.
    let db = db
        .with(&format!("allowed_security_group_ids = [{app:?}]"))
        .aliased_provider(COUNTED, &proxy.url)
        .with(ON_COUNTED);
    ws.write(&db.hcl());
    ws.apply();
    let calls = plan_calls(&ws, &proxy);
    let state = ws.state_values("fansite_database.test");
    let mut parts = database::live_parts(db.region, &db.name, &state).await;
    // Made by a call of its own, besides what `live_parts` lists: the
    // readers' scaling policy.
    let policies = autoscaling(db.region)
        .await
        .describe_scaling_policies()
        .service_namespace(ServiceNamespace::Rds)
        .resource_id(format!("cluster:{}", db.name))
        .send()
        .await
        .expect("scaling policies");
    parts.extend(
        policies
            .scaling_policies()
            .iter()
            .map(|p| format!("scaling policy {}", p.policy_name())),
    );
    // Each operation once (none needs more).
    let allowed: &[(&str, &str)] = &[];
    assert_within_budget("database", &calls, &parts, allowed);
    database::destroy_and_check(&ws, &db).await;
}
per_terraform!(database_plan_reads_each_part_at_most_once);

async fn edge_plan_reads_each_part_at_most_once(tf: &Terraform) {
    // The proxy forwards to `endpoint()`: the realistic layer, which answers
    // what the local endpoint lacks (CloudFront's PublishFunction and
    // monitoring subscriptions) and passes the rest on.
    let proxy = FaultProxy::record(endpoint());
    let e = edge::edge("eu-west-3", "edge-refresh", tf);
    let ws = Workspace::with_endpoint(tf, "refresh-edge", &e.hcl(), &proxy.url);
    ws.apply();
    let calls = plan_calls(&ws, &proxy);
    let state = ws.state_values("fansite_edge.test");
    let mut parts = edge::live_parts(e.region, &e.name, &state).await;
    // Made by a call of its own, besides what `live_parts` lists: the
    // bucket's public access block and policy, the web ACL's logging
    // configuration, the distribution's monitoring subscription.
    let b = s3(e.region).await;
    if b.get_public_access_block()
        .bucket(&e.name)
        .send()
        .await
        .is_ok()
    {
        parts.push(format!("public access block of {}", e.name));
    }
    if let Ok(p) = b.get_bucket_policy().bucket(&e.name).send().await {
        if p.policy().is_some() {
            parts.push(format!("policy of {}", e.name));
        }
    }
    let acl = s(&state["web_acl_arn"]);
    if !acl.is_empty() {
        if let Ok(l) = waf("us-east-1")
            .await
            .get_logging_configuration()
            .resource_arn(&acl)
            .send()
            .await
        {
            if l.logging_configuration().is_some() {
                parts.push(format!("logging configuration of {acl}"));
            }
        }
    }
    let id = s(&state["distribution_id"]);
    if !id.is_empty() {
        if let Ok(m) = cloudfront()
            .await
            .get_monitoring_subscription()
            .distribution_id(&id)
            .send()
            .await
        {
            if m.monitoring_subscription().is_some() {
                parts.push(format!("monitoring subscription of {id}"));
            }
        }
    }
    // Each operation once (none needs more).
    let allowed: &[(&str, &str)] = &[];
    assert_within_budget("edge", &calls, &parts, allowed);
    edge::destroy_and_check(&ws, &e).await;
}
per_terraform!(edge_plan_reads_each_part_at_most_once);

async fn service_plan_reads_each_part_at_most_once(tf: &Terraform) {
    let proxy = FaultProxy::record(endpoint());
    let svc = service::service("eu-west-3", "svc-refresh", tf);
    // The network on the default provider, a stand-in database group and secret.
    let (ws, db) = service::setup(&svc, tf, "refresh-service").await;
    // The write-only webhook: it is never read back, as the deprecated
    // `slack_webhook_url` is.
    let svc = service::full(svc, &db)
        .with(
            "alerts {\n    slack_webhook_url_wo         = \"https://hooks.slack.com/services/T0/B0/refresh\"\n    slack_webhook_url_wo_version = \"1\"\n  }",
        )
        .aliased_provider(COUNTED, &proxy.url)
        .with(ON_COUNTED);
    ws.write(&svc.hcl());
    ws.apply();
    let calls = plan_calls(&ws, &proxy);
    let r = svc.region;
    let state = ws.state_values("fansite_service.test");
    let mut parts = service::live_parts(r, &svc.name, &state, Some(db.sg.as_str())).await;
    // Made by a call of its own, besides what `live_parts` lists: the load
    // balancer's listeners, the service's scaling policies and scheduled
    // actions, the alarm topic's subscriptions.
    let alb = s(&state["alb_arn"]);
    if !alb.is_empty() {
        if let Ok(out) = elb(r)
            .await
            .describe_listeners()
            .load_balancer_arn(&alb)
            .send()
            .await
        {
            parts.extend(
                out.listeners()
                    .iter()
                    .map(|l| format!("listener {}", l.listener_arn().unwrap_or_default())),
            );
        }
    }
    let a = autoscaling(r).await;
    let resource = format!("service/{}/{}", svc.name, svc.name);
    let policies = a
        .describe_scaling_policies()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(&resource)
        .send()
        .await
        .expect("scaling policies");
    parts.extend(
        policies
            .scaling_policies()
            .iter()
            .map(|p| format!("scaling policy {}", p.policy_name())),
    );
    let scheduled = a
        .describe_scheduled_actions()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(&resource)
        .send()
        .await
        .expect("scheduled actions");
    parts.extend(
        scheduled
            .scheduled_actions()
            .iter()
            .map(|x| format!("scheduled action {}", x.scheduled_action_name())),
    );
    let topic = s(&state["alarm_topic_arn"]);
    if !topic.is_empty() {
        if let Ok(out) = sns(r)
            .await
            .list_subscriptions_by_topic()
            .topic_arn(&topic)
            .send()
            .await
        {
            parts.extend(
                out.subscriptions()
                    .iter()
                    .map(|x| format!("subscription {}", x.subscription_arn().unwrap_or_default())),
            );
        }
    }
    // Each operation once (none needs more).
    let allowed: &[(&str, &str)] = &[];
    assert_within_budget("service", &calls, &parts, allowed);
    service::destroy_and_check(&ws, &svc, Some(&db)).await;
}
per_terraform!(service_plan_reads_each_part_at_most_once);
