//! fansite_network against the resource contract's nine tests.

use aws_sdk_ec2::types::{Filter, NatGatewayState, Tag};
use serde_json::Value;

use crate::fault_proxy::{Fault, FaultProxy};
use crate::harness::{ec2, endpoint, run_name, Config, Terraform, Workspace};

/// A fansite_network with the tests' defaults: two zones, one NAT gateway.
pub(crate) fn network(region: &'static str, test: &str, tf: &Terraform) -> Config {
    Config::new("fansite_network", region, run_name(test, tf))
        .attr("cidr_block", "\"10.30.0.0/16\"")
        .attr("availability_zones", zones(region, &["a", "b"]))
        .attr("nat_strategy", "\"single\"")
        .with("tags = {\n    app = \"fansite\"\n  }")
}

/// The value of `availability_zones`: `region`'s zones with these letters.
fn zones(region: &str, letters: &[&str]) -> String {
    let names: Vec<String> = letters.iter().map(|z| format!("\"{region}{z}\"")).collect();
    format!("[{}]", names.join(", "))
}

const ADDR: &str = "fansite_network.test";

/// One in-place change to a configuration.
type Change = Box<dyn Fn(Config) -> Config>;

fn name_tag(tags: &[Tag]) -> String {
    tags.iter()
        .find(|t| t.key() == Some("Name"))
        .and_then(|t| t.value())
        .unwrap_or_default()
        .to_string()
}

fn belongs(tags: &[Tag], name: &str) -> bool {
    let n = name_tag(tags);
    n == name || n.starts_with(&format!("{name}-"))
}

/// Every live part on the endpoint whose Name tag is the network's or starts with it.
pub(crate) async fn live_parts(region: &str, name: &str) -> Vec<String> {
    let c = ec2(region).await;
    let mut out = Vec::new();
    for v in c.describe_vpcs().send().await.expect("vpcs").vpcs() {
        if belongs(v.tags(), name) {
            out.push(format!("vpc {}", v.vpc_id().unwrap_or_default()));
        }
    }
    for s in c
        .describe_subnets()
        .send()
        .await
        .expect("subnets")
        .subnets()
    {
        if belongs(s.tags(), name) {
            out.push(format!("subnet {}", s.subnet_id().unwrap_or_default()));
        }
    }
    for r in c
        .describe_route_tables()
        .send()
        .await
        .expect("route tables")
        .route_tables()
    {
        if belongs(r.tags(), name) {
            out.push(format!(
                "route table {}",
                r.route_table_id().unwrap_or_default()
            ));
        }
    }
    for g in c
        .describe_internet_gateways()
        .send()
        .await
        .expect("igws")
        .internet_gateways()
    {
        if belongs(g.tags(), name) {
            out.push(format!(
                "internet gateway {}",
                g.internet_gateway_id().unwrap_or_default()
            ));
        }
    }
    for n in c
        .describe_nat_gateways()
        .send()
        .await
        .expect("nats")
        .nat_gateways()
    {
        let live = matches!(
            n.state(),
            Some(NatGatewayState::Pending | NatGatewayState::Available)
        );
        if live && belongs(n.tags(), name) {
            out.push(format!(
                "NAT gateway {}",
                n.nat_gateway_id().unwrap_or_default()
            ));
        }
    }
    for a in c
        .describe_addresses()
        .send()
        .await
        .expect("addresses")
        .addresses()
    {
        if belongs(a.tags(), name) {
            out.push(format!(
                "elastic IP {}",
                a.allocation_id().unwrap_or_default()
            ));
        }
    }
    out
}

async fn live_nat_count(region: &str, vpc_id: &str) -> usize {
    ec2(region)
        .await
        .describe_nat_gateways()
        .filter(Filter::builder().name("vpc-id").values(vpc_id).build())
        .send()
        .await
        .expect("nats")
        .nat_gateways()
        .iter()
        .filter(|n| {
            matches!(
                n.state(),
                Some(NatGatewayState::Pending | NatGatewayState::Available)
            )
        })
        .count()
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

fn subnet_of(state: &Value, zone: &str) -> String {
    s(&state["subnets_by_az"][zone]["public_subnet_id"])
}

pub(crate) async fn destroy_and_check(ws: &Workspace, net: &Config) {
    ws.destroy();
    let left = live_parts(net.region, &net.name).await;
    assert!(left.is_empty(), "destroy left parts behind: {left:?}");
}

async fn network_apply_then_plan_is_empty(tf: &Terraform) {
    let net = network("eu-west-1", "apply", tf);
    let ws = Workspace::applied(tf, "network-apply", &net.hcl());
    ws.assert_plan_empty();
    let state = ws.state_values(ADDR);
    let vpc_id = s(&state["vpc_id"]);
    assert!(vpc_id.starts_with("vpc-"), "{state}");
    assert_eq!(state["public_subnet_ids"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        state["private_subnet_ids"].as_array().map(Vec::len),
        Some(2)
    );
    assert_eq!(
        state["tags_all"]["suite"], "e2e",
        "default_tags reach tags_all"
    );
    // Asked of AWS, not the state: the parts exist and carry the tags.
    let parts = live_parts(net.region, &net.name).await;
    let count = |kind: &str| parts.iter().filter(|p| p.starts_with(kind)).count();
    assert_eq!(
        (
            count("vpc"),
            count("subnet"),
            count("NAT gateway"),
            count("internet gateway")
        ),
        (1, 4, 1, 1),
        "{parts:?}"
    );
    let vpcs = ec2(net.region)
        .await
        .describe_vpcs()
        .vpc_ids(&vpc_id)
        .send()
        .await
        .expect("vpc");
    let tags = vpcs.vpcs()[0].tags();
    let tag = |k: &str| {
        tags.iter()
            .find(|t| t.key() == Some(k))
            .and_then(|t| t.value())
            .map(str::to_string)
    };
    assert_eq!(tag("suite").as_deref(), Some("e2e"));
    assert_eq!(tag("app").as_deref(), Some("fansite"));
    destroy_and_check(&ws, &net).await;
}
per_terraform!(network_apply_then_plan_is_empty);

async fn network_in_place_changes_update_without_replacing(tf: &Terraform) {
    let mut net = network("eu-west-2", "inplace", tf);
    let ws = Workspace::applied(tf, "network-inplace", &net.hcl());
    let first = ws.state_values(ADDR);
    let vpc_id = s(&first["vpc_id"]);
    let zone_a = format!("{}a", net.region);
    let zone_b = format!("{}b", net.region);

    let region = net.region;

    // (what, the change, how many NAT gateways it leaves)
    let steps: Vec<(&str, Change, usize)> = vec![
        (
            "tags",
            Box::new(|n| n.with("tags = {\n    app = \"fansite\"\n    tier = \"core\"\n  }")),
            1,
        ),
        (
            "name",
            Box::new(|n| {
                let name = format!("{}-renamed", n.name);
                n.named(name)
            }),
            1,
        ),
        (
            "nat_strategy",
            Box::new(|n| n.attr("nat_strategy", "\"per_az\"")),
            2,
        ),
        (
            "availability_zones (add)",
            Box::new(move |n| n.attr("availability_zones", zones(region, &["a", "b", "c"]))),
            3,
        ),
        (
            "availability_zones (remove)",
            Box::new(move |n| n.attr("availability_zones", zones(region, &["b", "c"]))),
            2,
        ),
        (
            "nat_strategy (single again)",
            Box::new(|n| n.attr("nat_strategy", "\"single\"")),
            1,
        ),
        (
            "nat_strategy (none)",
            Box::new(|n| n.attr("nat_strategy", "\"none\"")),
            0,
        ),
    ];
    for (what, change, want) in steps {
        let before = ws.state_values(ADDR);
        net = change(net);
        ws.write(&net.hcl());
        assert_eq!(
            ws.planned_actions(),
            vec![(ADDR.to_string(), vec!["update".to_string()])],
            "changing {what}"
        );
        ws.apply();
        ws.assert_plan_empty();
        let after = ws.state_values(ADDR);
        assert_eq!(s(&after["vpc_id"]), vpc_id, "{what} kept the VPC");
        // Keyed by zone: a zone that stays keeps its subnets whatever else changes.
        if before["subnets_by_az"][&zone_b].is_object() {
            assert_eq!(
                subnet_of(&after, &zone_b),
                subnet_of(&before, &zone_b),
                "{what} kept zone b's subnet"
            );
        }
        let nats = live_nat_count(net.region, &vpc_id).await;
        assert_eq!(nats, want, "NAT gateways after changing {what}");
    }
    assert_eq!(
        subnet_of(&first, &zone_b),
        subnet_of(&ws.state_values(ADDR), &zone_b)
    );
    let parts = live_parts(net.region, &net.name).await;
    assert!(
        !parts
            .iter()
            .any(|p| p.contains(&subnet_of(&first, &zone_a))),
        "zone a's subnet was removed"
    );
    destroy_and_check(&ws, &net).await;
}
per_terraform!(network_in_place_changes_update_without_replacing);

async fn network_replacing_changes_plan_a_replace(tf: &Terraform) {
    let net = network("eu-central-1", "replace", tf);
    let ws = Workspace::applied(tf, "network-replace", &net.hcl());
    let replace = vec![(
        ADDR.to_string(),
        vec!["delete".to_string(), "create".to_string()],
    )];

    let cidr = net.clone().attr("cidr_block", "\"10.31.0.0/16\"");
    ws.write(&cidr.hcl());
    assert_eq!(ws.planned_actions(), replace, "cidr_block");

    let (a, b) = (format!("{}a", net.region), format!("{}b", net.region));
    let subnet = net.clone().with(&format!(
        "public_subnet_cidrs = {{\n    {a:?} = \"10.30.250.0/24\"\n    {b:?} = \"10.30.16.0/20\"\n  }}"
    ));
    ws.write(&subnet.hcl());
    assert_eq!(
        ws.planned_actions(),
        replace,
        "public_subnet_cidrs of an existing zone"
    );

    ws.write(&net.hcl());
    destroy_and_check(&ws, &net).await;
}
per_terraform!(network_replacing_changes_plan_a_replace);

async fn network_import_gives_an_empty_plan(tf: &Terraform) {
    let net = network("us-east-2", "import", tf);
    let ws = Workspace::applied(tf, "network-import", &net.hcl());
    let applied = ws.state_values(ADDR);
    let vpc_id = s(&applied["vpc_id"]);

    // terraform import, then an import {} block
    ws.assert_imports_as_applied(ADDR, &vpc_id, &net.hcl(), &applied);

    // Bad ids: not a VPC id; a VPC that does not exist; a VPC that fansite_network did not make.
    let other = "fansite_network.other";
    let extra = "resource \"fansite_network\" \"other\" {\n  name       = \"other\"\n  cidr_block = \"10.40.0.0/16\"\n}\n";
    ws.write(&format!("{}\n{extra}", net.hcl()));
    let bad = ws.import_fails(other, "subnet-123");
    assert!(bad.contains("Invalid import ID"), "{bad}");
    let bad = ws.import_fails(other, "vpc-0000000000000000f");
    assert!(bad.contains("Cannot import non-existent network"), "{bad}");
    let c = ec2(net.region).await;
    let foreign = c
        .create_vpc()
        .cidr_block("10.50.0.0/16")
        .send()
        .await
        .expect("vpc");
    let foreign = foreign
        .vpc()
        .and_then(|v| v.vpc_id())
        .unwrap_or_default()
        .to_string();
    let bad = ws.import_fails(other, &foreign);
    assert!(bad.contains("did not make"), "{bad}");
    c.delete_vpc()
        .vpc_id(&foreign)
        .send()
        .await
        .expect("delete the foreign VPC");

    ws.write(&net.hcl());
    destroy_and_check(&ws, &net).await;
}
per_terraform!(network_import_gives_an_empty_plan);

async fn network_drift_is_shown_and_repaired(tf: &Terraform) {
    let net = network("ap-southeast-1", "drift", tf);
    let ws = Workspace::applied(tf, "network-drift", &net.hcl());
    let state = ws.state_values(ADDR);
    let vpc_id = s(&state["vpc_id"]);
    let c = ec2(net.region).await;
    // Drift through the AWS API: a stray tag, and the NAT gateway deleted.
    c.create_tags()
        .resources(&vpc_id)
        .tags(Tag::builder().key("intruder").value("yes").build())
        .send()
        .await
        .expect("tag vpc");
    for nat in state["nat_gateway_ids"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        c.delete_nat_gateway()
            .nat_gateway_id(s(&nat))
            .send()
            .await
            .expect("delete nat");
    }
    assert_eq!(live_nat_count(net.region, &vpc_id).await, 0);

    assert_eq!(
        ws.planned_actions(),
        vec![(ADDR.to_string(), vec!["update".to_string()])],
        "plan shows the drift"
    );
    let plan = ws.plan();
    assert!(plan.contains("intruder"), "{plan}");
    assert!(plan.contains("nat_strategy"), "{plan}");
    ws.apply();
    ws.assert_plan_empty();
    assert_eq!(
        live_nat_count(net.region, &vpc_id).await,
        1,
        "apply made the NAT gateway again"
    );
    let vpcs = c
        .describe_vpcs()
        .vpc_ids(&vpc_id)
        .send()
        .await
        .expect("vpc");
    assert!(
        !vpcs.vpcs()[0]
            .tags()
            .iter()
            .any(|t| t.key() == Some("intruder")),
        "apply removed the stray tag"
    );
    destroy_and_check(&ws, &net).await;
}
per_terraform!(network_drift_is_shown_and_repaired);

/// The NAT gateway's state, or `None` when the endpoint does not have it
/// (an empty answer, or NatGatewayNotFound); any other error fails the test.
async fn live_nat_state(c: &aws_sdk_ec2::Client, id: &str) -> Option<String> {
    match c.describe_nat_gateways().nat_gateway_ids(id).send().await {
        Ok(out) => out
            .nat_gateways()
            .first()
            .and_then(|n| n.state())
            .map(|s| s.as_str().to_string()),
        Err(e)
            if aws_sdk_ec2::error::ProvideErrorMetadata::code(&e) == Some("NatGatewayNotFound") =>
        {
            None
        }
        Err(e) => panic!("describe NAT gateway {id}: {e:?}"),
    }
}

/// Deletes a VPC and everything in it through the AWS API, as a person would in the console.
async fn delete_vpc_by_hand(region: &str, vpc_id: &str) {
    let c = ec2(region).await;
    let by_vpc = || Filter::builder().name("vpc-id").values(vpc_id).build();
    let nats = c
        .describe_nat_gateways()
        .filter(by_vpc())
        .send()
        .await
        .expect("nats");
    for n in nats.nat_gateways() {
        let id = n.nat_gateway_id().unwrap_or_default();
        c.delete_nat_gateway()
            .nat_gateway_id(id)
            .send()
            .await
            .expect("nat");
        // As on AWS, the gateway is `deleting` for a while and holds its
        // subnet and address until it is `deleted`.
        let started = std::time::Instant::now();
        while live_nat_state(&c, id).await.as_deref() != Some("deleted") {
            assert!(
                started.elapsed().as_secs() < 120,
                "NAT gateway {id} never deleted"
            );
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
        for a in n.nat_gateway_addresses() {
            let _ = c
                .release_address()
                .allocation_id(a.allocation_id().unwrap_or_default())
                .send()
                .await;
        }
    }
    let rts = c
        .describe_route_tables()
        .filters(by_vpc())
        .send()
        .await
        .expect("rts");
    for rt in rts.route_tables() {
        if rt.associations().iter().any(|a| a.main() == Some(true)) {
            continue;
        }
        for a in rt.associations() {
            c.disassociate_route_table()
                .association_id(a.route_table_association_id().unwrap_or_default())
                .send()
                .await
                .expect("disassociate");
        }
        c.delete_route_table()
            .route_table_id(rt.route_table_id().unwrap_or_default())
            .send()
            .await
            .expect("rt");
    }
    for s in c
        .describe_subnets()
        .filters(by_vpc())
        .send()
        .await
        .expect("subnets")
        .subnets()
    {
        c.delete_subnet()
            .subnet_id(s.subnet_id().unwrap_or_default())
            .send()
            .await
            .expect("subnet");
    }
    let igws = c
        .describe_internet_gateways()
        .filters(
            Filter::builder()
                .name("attachment.vpc-id")
                .values(vpc_id)
                .build(),
        )
        .send()
        .await
        .expect("igws");
    for g in igws.internet_gateways() {
        let id = g.internet_gateway_id().unwrap_or_default();
        c.detach_internet_gateway()
            .internet_gateway_id(id)
            .vpc_id(vpc_id)
            .send()
            .await
            .expect("detach");
        c.delete_internet_gateway()
            .internet_gateway_id(id)
            .send()
            .await
            .expect("igw");
    }
    c.delete_vpc().vpc_id(vpc_id).send().await.expect("vpc");
}

async fn network_deleted_vpc_is_recreated(tf: &Terraform) {
    let net = network("ap-southeast-2", "gone", tf);
    let ws = Workspace::applied(tf, "network-gone", &net.hcl());
    let vpc_id = s(&ws.state_values(ADDR)["vpc_id"]);
    delete_vpc_by_hand(net.region, &vpc_id).await;
    assert_eq!(
        ws.planned_actions(),
        vec![(ADDR.to_string(), vec!["create".to_string()])],
        "plan re-creates"
    );
    ws.apply();
    ws.assert_plan_empty();
    assert_ne!(s(&ws.state_values(ADDR)["vpc_id"]), vpc_id);
    destroy_and_check(&ws, &net).await;
}
per_terraform!(network_deleted_vpc_is_recreated);

async fn network_destroy_leaves_no_parts(tf: &Terraform) {
    let net = network("sa-east-1", "destroy", tf)
        .attr("nat_strategy", "\"per_az\"")
        .attr("availability_zones", zones("sa-east-1", &["a", "b", "c"]));
    let ws = Workspace::applied(tf, "network-destroy", &net.hcl());
    let before = live_parts(net.region, &net.name).await;
    // vpc, 6 subnets, 4 route tables, igw, 3 NAT gateways, 3 elastic IPs
    assert_eq!(before.len(), 18, "{before:?}");
    destroy_and_check(&ws, &net).await;
    // Destroying again with nothing in state is a no-op, not an error.
    ws.destroy();
}
per_terraform!(network_destroy_leaves_no_parts);

/// The NAT gateways of every zone are made at once, not one after another
/// (each takes minutes on AWS): every CreateNatGateway is sent before the
/// first poll of any gateway's state, as the EC2 calls the provider makes
/// through a recording proxy show.
async fn network_nat_gateways_of_every_zone_are_made_at_once(tf: &Terraform) {
    let proxy = FaultProxy::record(endpoint());
    let net = network("ap-southeast-2", "nat-at-once", tf)
        .attr("nat_strategy", "\"per_az\"")
        .attr(
            "availability_zones",
            zones("ap-southeast-2", &["a", "b", "c"]),
        )
        .provider(format!("  endpoints {{\n    ec2 = {:?}\n  }}\n", proxy.url));
    let ws = Workspace::new(tf, "network-nat-at-once", &net.hcl());
    ws.apply();
    let calls: Vec<String> = proxy.calls().into_iter().map(|(op, _)| op).collect();
    let at = |op: &str| -> Vec<usize> {
        calls
            .iter()
            .enumerate()
            .filter(|(_, c)| c.as_str() == op)
            .map(|(i, _)| i)
            .collect()
    };
    let creates = at("CreateNatGateway");
    let polls = at("DescribeNatGateways");
    assert_eq!(creates.len(), 3, "one gateway per zone: {calls:?}");
    let first_poll = polls.first().copied().unwrap_or(usize::MAX);
    assert!(
        creates.iter().all(|c| *c < first_poll),
        "every zone's gateway is asked for before any is waited for: {calls:?}"
    );
    // What was made concurrently is all in the state, each in its zone.
    let state = ws.state_values(ADDR);
    let live = live_parts(net.region, &net.name).await;
    assert_eq!(
        live.iter().filter(|p| p.starts_with("NAT gateway")).count(),
        3,
        "{live:?}"
    );
    assert_eq!(
        state["nat_gateway_ids"].as_array().map(Vec::len),
        Some(3),
        "{state}"
    );
    ws.assert_plan_empty();
    // And deleted at once: every DeleteNatGateway before the first poll.
    let mark = proxy.calls().len();
    destroy_and_check(&ws, &net).await;
    let calls: Vec<String> = proxy
        .calls()
        .into_iter()
        .skip(mark)
        .map(|(op, _)| op)
        .collect();
    let deletes: Vec<usize> = calls
        .iter()
        .enumerate()
        .filter(|(_, c)| c.as_str() == "DeleteNatGateway")
        .map(|(i, _)| i)
        .collect();
    let first_delete = deletes.first().copied().unwrap_or_default();
    let first_poll = calls
        .iter()
        .enumerate()
        .skip(first_delete)
        .find(|(_, c)| c.as_str() == "DescribeNatGateways")
        .map(|(i, _)| i)
        .unwrap_or(usize::MAX);
    assert_eq!(deletes.len(), 3, "{calls:?}");
    assert!(
        deletes.iter().all(|d| *d < first_poll),
        "every zone's gateway is deleted before any is waited for: {calls:?}"
    );
}
per_terraform!(network_nat_gateways_of_every_zone_are_made_at_once);

async fn network_bad_inputs_fail_on_their_attribute(tf: &Terraform) {
    let net = network("us-west-1", "bad", tf);
    let ws = Workspace::new(tf, "network-bad", &net.hcl());
    let zone = format!("{}a", net.region);
    let zone_b = format!("{}b", net.region);
    // (what, configuration, summary, text of the line Terraform points at)
    let region = net.region;
    let cases: Vec<(&str, Config, &str, &str)> = vec![
        ("vpc prefix", net.clone().attr("cidr_block", "\"10.0.0.0/8\""), "Invalid cidr_block", "cidr_block"),
        ("host bits", net.clone().attr("cidr_block", "\"10.0.0.1/16\""), "Invalid cidr_block", "cidr_block"),
        ("nat strategy", net.clone().attr("nat_strategy", "\"double\""), "Invalid nat_strategy", "nat_strategy"),
        ("same zone twice", net.clone().attr("availability_zones", zones(region, &["a", "a"])), "Duplicate availability zone", "availability_zones"),
        ("reserved tag", net.clone().with("tags = {\n    Name = \"x\"\n  }"), "Reserved tag key", "Name"),
        (
            "bad timeout",
            net.clone().with("timeouts {\n    create = \"soon\"\n  }"),
            "Invalid duration",
            "create",
        ),
        (
            "subnet outside the VPC",
            net.clone().with(&format!("public_subnet_cidrs = {{ {zone:?} = \"192.168.0.0/24\" }}")),
            "Subnet outside the VPC",
            "public_subnet_cidrs",
        ),
        (
            "overlapping subnets (plan time)",
            net.clone().with(&format!("private_subnet_cidrs = {{\n    {zone:?} = \"10.30.0.0/24\"\n    {zone_b:?} = \"10.30.144.0/20\"\n  }}")),
            "Overlapping subnets",
            "\"10.30.0.0/24\"",
        ),
        ("zone not in the region", net.clone().attr("availability_zones", zones(region, &["a", "q"])), "Unknown availability zone", "availability_zones"),
        (
            "cidr map without every zone",
            net.clone().with(&format!("public_subnet_cidrs = {{ {zone:?} = \"10.30.250.0/24\" }}")),
            "Missing subnet CIDR",
            "public_subnet_cidrs",
        ),
        ("provider region", net.clone().in_region("Mars").attr("availability_zones", zones("Mars", &["a", "b"])), "Invalid AWS region", "region"),
        (
            "provider max_retries",
            net.clone().provider("  max_retries = -1\n"),
            "Invalid max_retries",
            "max_retries",
        ),
    ];
    for (what, config, summary, code) in cases {
        ws.write(&config.hcl());
        ws.assert_plan_error(what, summary, code);
    }
    let left = live_parts(net.region, &net.name).await;
    assert!(left.is_empty(), "bad input made parts: {left:?}");
}
per_terraform!(network_bad_inputs_fail_on_their_attribute);

async fn network_fault_midway_keeps_ids_and_destroy_cleans_up(tf: &Terraform) {
    let proxy = FaultProxy::start(endpoint(), "CreateNatGateway");
    let net = network("us-west-2", "fault", tf)
        .provider(format!("  endpoints {{\n    ec2 = {:?}\n  }}\n", proxy.url));
    let ws = Workspace::new(tf, "network-fault", &net.hcl());
    let out = ws.apply_fails();
    assert!(proxy.matched() >= 1, "the proxy failed CreateNatGateway");
    assert!(
        out.contains("InjectedFault"),
        "the error names AWS's code: {out}"
    );
    assert!(
        out.contains("creating NAT gateway"),
        "the error names the action and part: {out}"
    );
    // The state holds every part made before the fault...
    let state = ws.state_values(ADDR);
    let vpc_id = s(&state["vpc_id"]);
    assert!(
        vpc_id.starts_with("vpc-"),
        "state keeps the VPC id: {state}"
    );
    assert_eq!(
        state["public_subnet_ids"].as_array().map(Vec::len),
        Some(2),
        "{state}"
    );
    assert_eq!(
        state["private_subnet_ids"].as_array().map(Vec::len),
        Some(2),
        "{state}"
    );
    let eip = s(&state["subnets_by_az"][format!("{}a", net.region)]["nat_eip_allocation_id"]);
    assert!(
        eip.starts_with("eipalloc-"),
        "state keeps the elastic IP made for the NAT gateway: {state}"
    );
    // ...and they exist, asked of AWS.
    let made = live_parts(net.region, &net.name).await;
    assert!(
        made.iter().any(|p| p == &format!("vpc {vpc_id}")),
        "{made:?}"
    );
    assert!(
        made.iter().any(|p| p == &format!("elastic IP {eip}")),
        "{made:?}"
    );
    // The next plan replaces the tainted network; destroy removes everything.
    let plan = ws.plan();
    assert!(plan.contains("tainted"), "{plan}");
    destroy_and_check(&ws, &net).await;
}
per_terraform!(network_fault_midway_keeps_ids_and_destroy_cleans_up);

async fn network_throttling_is_retried_within_max_retries(tf: &Terraform) {
    let throttle = Fault {
        status: 400,
        code: "RequestLimitExceeded",
        times: 2,
    };
    // Throttled twice, then served: the SDK's retry gets through.
    let proxy = FaultProxy::start_with(endpoint(), "CreateVpc", throttle);
    let net = network("ca-central-1", "throttle", tf)
        .provider(format!("  endpoints {{\n    ec2 = {:?}\n  }}\n", proxy.url));
    let ws = Workspace::applied(tf, "network-throttle", &net.hcl());
    assert_eq!(
        proxy.matched(),
        3,
        "two throttled CreateVpc calls, then the one that went through"
    );
    destroy_and_check(&ws, &net).await;

    // With max_retries = 0 the same throttling fails the apply, naming AWS's code.
    let proxy = FaultProxy::start_with(endpoint(), "CreateVpc", throttle);
    let strict = net
        .clone()
        .provider(format!(
            "  max_retries = 0\n  endpoints {{\n    ec2 = {:?}\n  }}\n",
            proxy.url
        ))
        .named(format!("{}-strict", net.name));
    ws.write(&strict.hcl());
    let out = ws.apply_fails();
    assert!(out.contains("RequestLimitExceeded"), "{out}");
    assert_eq!(proxy.matched(), 1, "no retry with max_retries = 0");
    let left = live_parts(strict.region, &strict.name).await;
    assert!(
        left.is_empty(),
        "a failed first call made nothing: {left:?}"
    );
}
per_terraform!(network_throttling_is_retried_within_max_retries);
