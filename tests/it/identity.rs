//! Resource identity (Terraform 1.12) and list resources (`terraform query`,
//! Terraform 1.14), on Terraform 1.15 only: the identity in state names the
//! object the endpoint has; `import { identity = {...} }` takes it over with
//! nothing to change, and refuses an identity of another region; `terraform
//! query` lists what the provider made (and not what it did not), and the
//! configuration it generates imports it with nothing to change.
//!
//! Each test works in a region no other test uses, so that its listings see
//! its own objects only.

use aws_sdk_ec2::types::{Filter, Tag};
use serde_json::{json, Value};

use crate::harness::{cognito, ec2, run_name, state_differences, Config, Terraform, Workspace};

const NETWORK: &str = "fansite_network.test";
const AUTH: &str = "fansite_auth.test";

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

fn name_tag(tags: &[Tag]) -> String {
    tags.iter()
        .find(|t| t.key() == Some("Name"))
        .and_then(|t| t.value())
        .unwrap_or_default()
        .to_string()
}

/// The identity of `address` in the workspace's state, as `terraform show -json` gives it.
fn identity_in_state(ws: &Workspace, address: &str) -> Value {
    let json: Value = serde_json::from_str(&ws.ok(&["show", "-json"])).expect("state json");
    json["values"]["root_module"]["resources"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .find(|r| r["address"] == address)
        .map(|r| r["identity"].clone())
        .unwrap_or(Value::Null)
}

/// The attributes of an identity as HCL lines, `key = "value"`, in key order.
fn identity_lines(identity: &Value) -> Vec<String> {
    let mut lines: Vec<String> = identity
        .as_object()
        .expect("an identity object")
        .iter()
        .map(|(k, v)| format!("{k} = {:?}", s(v)))
        .collect();
    lines.sort();
    lines
}

/// `main_tf` with an `import {}` block that takes `address` by the identity
/// written as `lines`.
fn with_identity_import(main_tf: &str, address: &str, lines: &[String]) -> String {
    format!(
        "{main_tf}\nimport {{\n  to = {address}\n  identity = {{\n    {}\n  }}\n}}\n",
        lines.join("\n    ")
    )
}

/// `text` with every run of whitespace made one space, so that checks do not
/// depend on how `terraform fmt` aligns the `=`.
fn squeezed(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A new workspace `test` with `config` and an `import {}` block of
/// `identity` without its region (the provider's is taken): the plan imports
/// it with nothing to change, the apply gives the state `applied` and that
/// identity, and the next plan is empty. Then an identity of `other_region`
/// is refused at plan with "Identity in another region". The workspace
/// forgets the object in between (`state rm`): it stays the first
/// workspace's to destroy.
fn assert_imports_by_identity(
    tf: &Terraform,
    test: &str,
    config: &Config,
    address: &str,
    identity: &Value,
    applied: &Value,
    other_region: &str,
) {
    let without_region: Vec<String> = identity_lines(identity)
        .into_iter()
        .filter(|l| !l.starts_with("region "))
        .collect();
    let ws = Workspace::new(
        tf,
        test,
        &with_identity_import(&config.hcl(), address, &without_region),
    );
    let plan = ws.plan();
    assert!(
        plan.contains("Plan: 1 to import, 0 to add, 0 to change, 0 to destroy."),
        "{plan}"
    );
    let out = ws.apply();
    assert!(
        out.contains("1 imported, 0 added, 0 changed, 0 destroyed"),
        "{out}"
    );
    let differences = state_differences(&ws.state_values(address), applied, &[]);
    assert!(
        differences.is_empty(),
        "imported by identity, the state is not the applied one: {differences:?}"
    );
    assert_eq!(identity_in_state(&ws, address), *identity);
    ws.assert_plan_empty();
    ws.ok(&["state", "rm", address]);

    let mut elsewhere = without_region;
    elsewhere.push(format!("region = {other_region:?}"));
    ws.write(&with_identity_import(&config.hcl(), address, &elsewhere));
    let out = ws.fails(&["plan", "-input=false", "-no-color"]);
    assert!(out.contains("Identity in another region"), "{out}");
    assert!(
        out.contains(other_region) && out.contains(config.region),
        "the error names both regions: {out}"
    );
}

/// `terraform query` in a workspace `test` of the provider alone: the list of
/// every `kind` in the region names the object of `identity` (under
/// `config`'s name) and not `foreign`; the list by name generates a resource
/// and an `import {}` block of that identity, and in a new workspace of the
/// provider and that configuration the plan imports it with nothing to change.
fn assert_query_lists_and_generates(
    tf: &Terraform,
    test: &str,
    config: &Config,
    kind: &str,
    identity: &Value,
    foreign: &str,
) {
    let provider_only = config.clone().extras_only().hcl();
    let ws = Workspace::new(tf, test, &provider_only);
    // Terraform shows an identity as `key=value,...` in key order.
    let mut pairs: Vec<String> = identity
        .as_object()
        .expect("an identity object")
        .iter()
        .map(|(k, v)| format!("{k}={}", s(v)))
        .collect();
    pairs.sort();
    let listed = pairs.join(",");

    std::fs::write(
        ws.dir.join("q.tfquery.hcl"),
        format!("list {kind:?} \"every\" {{\n  provider = fansite\n}}\n"),
    )
    .expect("write q.tfquery.hcl");
    let out = ws.ok(&["query", "-no-color"]);
    let line = out
        .lines()
        .find(|l| l.starts_with(&format!("list.{kind}.every ")) && l.contains(&listed))
        .unwrap_or_else(|| panic!("no line of {listed} in: {out}"));
    assert!(line.trim_end().ends_with(&config.name), "{line}");
    assert!(
        !out.contains(foreign),
        "{foreign}, which fansite did not make, is listed: {out}"
    );

    std::fs::write(
        ws.dir.join("q.tfquery.hcl"),
        format!(
            "list {kind:?} \"all\" {{\n  provider = fansite\n  config {{\n    name = {:?}\n  }}\n}}\n",
            config.name
        ),
    )
    .expect("write q.tfquery.hcl");
    let out = ws.ok(&["query", "-no-color", "-generate-config-out=generated.tf"]);
    assert!(out.contains(&listed), "{out}");
    let generated =
        std::fs::read_to_string(ws.dir.join("generated.tf")).expect("generated.tf is written");
    let flat = squeezed(&generated);
    let address = format!("{kind}.all_0");
    for expected in [
        format!("resource \"{kind}\" \"all_0\" {{"),
        "import {".to_string(),
        format!("to = {address}"),
        "identity = {".to_string(),
        format!("name = {:?}", config.name),
    ]
    .into_iter()
    .chain(identity_lines(identity))
    {
        assert!(flat.contains(&expected), "no {expected:?} in:\n{generated}");
    }

    let imported = Workspace::new(tf, &format!("{test}-generated"), &provider_only);
    std::fs::write(imported.dir.join("generated.tf"), &generated).expect("write generated.tf");
    let change = imported.planned_change(&address);
    assert_eq!(
        change["importing"]["identity"], *identity,
        "the plan imports by the identity: {change}"
    );
    assert_eq!(
        change["actions"],
        json!(["no-op"]),
        "the generated configuration changes {:?}:\n{generated}",
        state_differences(&change["before"], &change["after"], &[])
    );
    let plan = imported.plan();
    assert!(
        plan.contains("Plan: 1 to import, 0 to add, 0 to change, 0 to destroy."),
        "{plan}"
    );
}

/// A fansite_network without NAT gateways (the quickest to make).
fn network(tf: &Terraform) -> Config {
    Config::new(
        "fansite_network",
        "me-south-1",
        run_name("identity-net", tf),
    )
    .attr("cidr_block", "\"10.61.0.0/16\"")
    .attr("availability_zones", "[\"me-south-1a\", \"me-south-1b\"]")
    .attr("nat_strategy", "\"none\"")
    .with("tags = {\n    app = \"fansite\"\n  }")
}

/// The VPCs on the endpoint with this id (none once it is deleted).
async fn vpcs_with_id(region: &str, vpc_id: &str) -> Vec<aws_sdk_ec2::types::Vpc> {
    ec2(region)
        .await
        .describe_vpcs()
        .filters(Filter::builder().name("vpc-id").values(vpc_id).build())
        .send()
        .await
        .expect("vpcs")
        .vpcs()
        .to_vec()
}

#[tokio::test]
async fn network_identity_imports_and_lists_on_terraform_1_15() {
    let Some(tf) = crate::harness::terraform("1.15") else {
        return;
    };
    let net = network(tf);
    let ws = Workspace::applied(tf, "identity-network", &net.hcl());
    let applied = ws.state_values(NETWORK);
    let vpc_id = s(&applied["vpc_id"]);
    assert!(vpc_id.starts_with("vpc-"), "{applied}");

    // The identity names the VPC, which the endpoint has under the network's name.
    let identity = identity_in_state(&ws, NETWORK);
    assert_eq!(identity, json!({ "region": net.region, "vpc_id": vpc_id }));
    let vpcs = vpcs_with_id(net.region, &vpc_id).await;
    assert_eq!(vpcs.len(), 1, "{vpcs:?}");
    assert_eq!(name_tag(vpcs[0].tags()), net.name);

    assert_imports_by_identity(
        tf,
        "identity-network-import",
        &net,
        NETWORK,
        &identity,
        &applied,
        "eu-west-1",
    );

    // A VPC with a subnet that fansite did not make is not listed.
    let c = ec2(net.region).await;
    let foreign = c
        .create_vpc()
        .cidr_block("10.62.0.0/16")
        .send()
        .await
        .expect("a foreign VPC")
        .vpc()
        .and_then(|v| v.vpc_id())
        .unwrap_or_default()
        .to_string();
    let foreign_subnet = c
        .create_subnet()
        .vpc_id(&foreign)
        .cidr_block("10.62.1.0/24")
        .availability_zone("me-south-1a")
        .send()
        .await
        .expect("a foreign subnet")
        .subnet()
        .and_then(|s| s.subnet_id())
        .unwrap_or_default()
        .to_string();
    assert_query_lists_and_generates(
        tf,
        "identity-network-query",
        &net,
        "fansite_network",
        &identity,
        &foreign,
    );
    c.delete_subnet()
        .subnet_id(&foreign_subnet)
        .send()
        .await
        .expect("delete the foreign subnet");
    c.delete_vpc()
        .vpc_id(&foreign)
        .send()
        .await
        .expect("delete the foreign VPC");

    ws.destroy();
    let left = vpcs_with_id(net.region, &vpc_id).await;
    assert!(left.is_empty(), "destroy left the VPC: {left:?}");
}

/// A fansite_auth that a destroy may remove at once.
fn auth(tf: &Terraform) -> Config {
    Config::new("fansite_auth", "ca-west-1", run_name("identity-auth", tf))
        .with("deletion_protection = false")
        .with("tags = { app = \"fansite\" }")
}

/// The name of the pool with this id on the endpoint, `None` when there is none.
async fn pool_name(region: &str, id: &str) -> Option<String> {
    cognito(region)
        .await
        .describe_user_pool()
        .user_pool_id(id)
        .send()
        .await
        .ok()
        .and_then(|p| p.user_pool().and_then(|p| p.name()).map(str::to_string))
}

#[tokio::test]
async fn auth_identity_imports_and_lists_on_terraform_1_15() {
    let Some(tf) = crate::harness::terraform("1.15") else {
        return;
    };
    let auth = auth(tf);
    let ws = Workspace::applied(tf, "identity-auth", &auth.hcl());
    let applied = ws.state_values(AUTH);
    let pool = s(&applied["user_pool_id"]);
    assert!(pool.starts_with("ca-west-1_"), "{applied}");

    // The identity names the pool, which the endpoint has under the resource's name.
    let identity = identity_in_state(&ws, AUTH);
    assert_eq!(
        identity,
        json!({ "region": auth.region, "user_pool_id": pool })
    );
    assert_eq!(pool_name(auth.region, &pool).await, Some(auth.name.clone()));

    assert_imports_by_identity(
        tf,
        "identity-auth-import",
        &auth,
        AUTH,
        &identity,
        &applied,
        "us-east-1",
    );

    // A pool without the resource's app client was not made by fansite: not listed.
    let c = cognito(auth.region).await;
    let foreign = c
        .create_user_pool()
        .pool_name(format!("{}-foreign", auth.name))
        .send()
        .await
        .expect("a foreign pool")
        .user_pool()
        .and_then(|p| p.id())
        .unwrap_or_default()
        .to_string();
    assert_query_lists_and_generates(
        tf,
        "identity-auth-query",
        &auth,
        "fansite_auth",
        &identity,
        &foreign,
    );
    c.delete_user_pool()
        .user_pool_id(&foreign)
        .send()
        .await
        .expect("delete the foreign pool");

    ws.destroy();
    assert_eq!(
        pool_name(auth.region, &pool).await,
        None,
        "destroy left the pool"
    );
}
