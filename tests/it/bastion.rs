//! fansite_bastion against the resource contract's nine tests, composed with
//! a fansite_network as a user would, plus its two promises: developers get
//! a policy that reaches this host with this bastion's documents only, and
//! OpenVPN's admin password stays in Secrets Manager (never in state, plan or
//! user data).
//!
//! The local endpoint runs no instance and no SSM agent: an instance is
//! `running` as soon as it is launched. What a host replacement waits for is
//! shown here by the order of the EC2 calls (the new host is launched before
//! the old one is terminated), through a recording proxy.

use aws_sdk_ec2::types::{Filter, HttpTokensState, Instance, InstanceAttributeName};
use aws_sdk_ssm::types::{DocumentType, ResourceTypeForTagging};
use serde_json::{json, Value};

use crate::fault_proxy::FaultProxy;
use crate::harness::{
    ec2, endpoint, iam, log_groups, logs, run_name, s3, secrets, ssm, Config, Terraform, Workspace,
};

const ADDR: &str = "fansite_bastion.test";
/// The endpoint's account.
const ACCOUNT: &str = "123456789012";
const VPC_CIDR: &str = "10.80.0.0/16";
/// Where the OpenVPN tests let clients in from.
const OFFICE: &str = "203.0.113.0/24";
const HOME: &str = "198.51.100.7/32";
/// The public parameters of the AMIs the tests run: the default (arm64, for
/// `ssm`), another arm64 one (an `ami_id` change) and an x86_64 one (for
/// `openvpn`, whose Marketplace AMI the endpoint does not have).
const ARM64_AMI: &str = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64";
const OTHER_ARM64_AMI: &str =
    "/aws/service/ami-amazon-linux-latest/al2023-ami-minimal-kernel-default-arm64";
const X86_AMI: &str = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";
/// Where `port_forward` points in the tests.
const DB_HOST: &str = "db.fansite.internal";

/// A fansite_bastion with the tests' defaults (`ssm`), in the first private
/// subnet of a fansite_network of its own. Names are at most 32 characters:
/// `test` at most 19.
fn bastion(region: &'static str, test: &str, tf: &Terraform) -> Config {
    Config::new("fansite_bastion", region, run_name(test, tf))
        .attr("vpc_id", "fansite_network.net.vpc_id")
        .attr("subnet_id", "fansite_network.net.private_subnet_ids[0]")
        .with("tags = { app = \"fansite\" }")
        .extra(network)
}

/// The bastion's fansite_network, named as the bastion up to the process id
/// that ends its run name: a renamed or badly named bastion (the run name
/// with something after it) leaves the network as it is.
fn network(c: &Config) -> String {
    let pid = format!("-{}", std::process::id());
    let name = c
        .name
        .rfind(&pid)
        .map_or(c.name.as_str(), |at| &c.name[..at + pid.len()]);
    format!(
        "resource \"fansite_network\" \"net\" {{\n  name         = \"{name}\"\n  cidr_block   = \"{VPC_CIDR}\"\n  nat_strategy = \"none\"\n}}\n"
    )
}

/// OpenVPN in the first public subnet, from `ami`, reachable from the office and a home.
fn openvpn(c: Config, ami: &str) -> Config {
    c.attr("subnet_id", "fansite_network.net.public_subnet_ids[0]")
        .with("mode = \"openvpn\"")
        .with(&format!("ami_id = \"{ami}\""))
        .with(&format!("allowed_cidrs = [\"{OFFICE}\", \"{HOME}\"]"))
}

/// `allow_to` the stand-in database's group (3306, the default port).
fn allow_db(c: Config, net: &Net) -> Config {
    c.with(&format!(
        "allow_to {{\n    security_group_id = \"{}\"\n  }}",
        net.db_sg
    ))
}

/// `port_forward` to the database host, from local port 13306.
fn forward(c: Config) -> Config {
    c.with(&format!(
        "port_forward {{\n    host       = \"{DB_HOST}\"\n    port       = 3306\n    local_port = 13306\n  }}"
    ))
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

fn update() -> Vec<(String, Vec<String>)> {
    vec![(ADDR.to_string(), vec!["update".to_string()])]
}

fn replace() -> Vec<(String, Vec<String>)> {
    vec![(
        ADDR.to_string(),
        vec!["delete".to_string(), "create".to_string()],
    )]
}

/// The network the tests apply first, as the endpoint made it, and a
/// stand-in database group in it (made through the API) for `allow_to`.
struct Net {
    vpc: String,
    private: Vec<String>,
    db_sg: String,
}

/// Applies the network alone, then makes the stand-in database group.
async fn setup(c: &Config, tf: &Terraform, test: &str) -> (Workspace, Net) {
    let ws = Workspace::applied(tf, test, &c.clone().extras_only().hcl());
    let net = ws.state_values("fansite_network.net");
    let vpc = s(&net["vpc_id"]);
    let private = net["private_subnet_ids"]
        .as_array()
        .expect("private subnets")
        .iter()
        .map(s)
        .collect();
    let db_sg = group(c.region, &vpc, &format!("{}-db", c.name)).await;
    (
        ws,
        Net {
            vpc,
            private,
            db_sg,
        },
    )
}

/// A security group made through the API (a database's, say).
async fn group(region: &str, vpc: &str, name: &str) -> String {
    ec2(region)
        .await
        .create_security_group()
        .vpc_id(vpc)
        .group_name(name)
        .description("stand-in database")
        .send()
        .await
        .expect("security group")
        .group_id()
        .unwrap_or_default()
        .to_string()
}

/// Another VPC with one subnet, made through the API: (VPC, subnet).
async fn other_vpc(region: &str) -> (String, String) {
    let e = ec2(region).await;
    let vpc = e
        .create_vpc()
        .cidr_block("10.91.0.0/16")
        .send()
        .await
        .expect("other VPC")
        .vpc()
        .and_then(|v| v.vpc_id())
        .unwrap_or_default()
        .to_string();
    let subnet = e
        .create_subnet()
        .vpc_id(&vpc)
        .cidr_block("10.91.1.0/24")
        .send()
        .await
        .expect("other subnet")
        .subnet()
        .and_then(|s| s.subnet_id())
        .unwrap_or_default()
        .to_string();
    (vpc, subnet)
}

async fn delete_vpc(region: &str, (vpc, subnet): &(String, String)) {
    let e = ec2(region).await;
    e.delete_subnet()
        .subnet_id(subnet)
        .send()
        .await
        .expect("delete the other subnet");
    e.delete_vpc()
        .vpc_id(vpc)
        .send()
        .await
        .expect("delete the other VPC");
}

/// The AMI a public SSM parameter names in `region`.
async fn public_ami(region: &str, parameter: &str) -> String {
    ssm(region)
        .await
        .get_parameter()
        .name(parameter)
        .send()
        .await
        .expect("public AMI parameter")
        .parameter()
        .and_then(|p| p.value())
        .unwrap_or_default()
        .to_string()
}

/// The instance `id`, as EC2 has it (terminated ones included), if EC2 has it.
async fn instance(region: &str, id: &str) -> Option<Instance> {
    let out = ec2(region)
        .await
        .describe_instances()
        .instance_ids(id)
        .send()
        .await
        .ok()?;
    out.reservations()
        .iter()
        .flat_map(|r| r.instances())
        .find(|i| i.instance_id() == Some(id))
        .cloned()
}

fn state_of(i: &Instance) -> String {
    i.state()
        .and_then(|s| s.name())
        .map(|n| n.as_str().to_string())
        .unwrap_or_default()
}

/// The state of instance `id` (`running`, `terminated`, …), or `gone`.
async fn instance_state(region: &str, id: &str) -> String {
    instance(region, id)
        .await
        .map_or_else(|| "gone".to_string(), |i| state_of(&i))
}

/// A host replaced in place: a new one runs, the old one is terminated.
async fn assert_replaced(region: &str, old: &str, new: &str, what: &str) {
    assert!(
        !new.is_empty() && new != old,
        "{what}: a new host ({old} -> {new})"
    );
    assert_eq!(
        instance_state(region, new).await,
        "running",
        "{what}: the new host runs"
    );
    let before = instance_state(region, old).await;
    assert!(
        before == "terminated" || before == "gone",
        "{what}: the old host {old} is {before}"
    );
}

/// The EBS volumes attached to `i`.
fn volume_ids(i: &Instance) -> Vec<String> {
    i.block_device_mappings()
        .iter()
        .filter_map(|m| m.ebs().and_then(|e| e.volume_id()))
        .map(str::to_string)
        .collect()
}

/// Those of the volumes `ids` the endpoint still has.
async fn volumes_left(region: &str, ids: Vec<String>) -> Vec<String> {
    match ec2(region)
        .await
        .describe_volumes()
        .set_volume_ids(Some(ids))
        .send()
        .await
    {
        Ok(out) => out
            .volumes()
            .iter()
            .filter_map(|v| v.volume_id())
            .map(str::to_string)
            .collect(),
        Err(e) => {
            assert_eq!(
                aws_sdk_ec2::error::ProvideErrorMetadata::code(&e),
                Some("InvalidVolume.NotFound"),
                "describe volumes: {e:?}"
            );
            Vec::new()
        }
    }
}

fn ec2_tag<'a>(tags: &'a [aws_sdk_ec2::types::Tag], key: &str) -> Option<&'a str> {
    tags.iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value())
}

fn ec2_tags(tags: &[aws_sdk_ec2::types::Tag]) -> Vec<(String, String)> {
    tags.iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The log group of the bastion `name`, if the endpoint has it.
async fn log_group(region: &str, name: &str) -> Option<aws_sdk_cloudwatchlogs::types::LogGroup> {
    let wanted = format!("/fansite/bastion/{name}");
    log_groups(region, &wanted)
        .await
        .into_iter()
        .find(|g| g.log_group_name() == Some(wanted.as_str()))
}

/// The default version of the SSM document `name`, parsed, or None when
/// there is no such document.
async fn document(region: &str, name: &str) -> Option<Value> {
    match ssm(region).await.get_document().name(name).send().await {
        Ok(d) => Some(
            serde_json::from_str(d.content().unwrap_or_default())
                .unwrap_or_else(|_| panic!("document {name}: {:?}", d.content())),
        ),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_invalid_document()) =>
        {
            None
        }
        Err(e) => panic!("get document {name}: {e:?}"),
    }
}

async fn document_type(region: &str, name: &str) -> Option<DocumentType> {
    ssm(region)
        .await
        .describe_document()
        .name(name)
        .send()
        .await
        .expect("describe document")
        .document()
        .and_then(|d| d.document_type())
        .cloned()
}

/// The inbound rules of `sg`, as "<protocol> <port> from <CIDR or group>", sorted.
async fn ingress(region: &str, sg: &str) -> Vec<String> {
    let out = ec2(region)
        .await
        .describe_security_groups()
        .group_ids(sg)
        .send()
        .await
        .expect("group");
    let mut rules = Vec::new();
    for p in out.security_groups()[0].ip_permissions() {
        let proto = p.ip_protocol().unwrap_or_default();
        let ports = match (p.from_port(), p.to_port()) {
            (Some(a), Some(b)) if a == b => a.to_string(),
            (Some(a), Some(b)) => format!("{a}-{b}"),
            _ => "all".to_string(),
        };
        for r in p.ip_ranges() {
            rules.push(format!(
                "{proto} {ports} from {}",
                r.cidr_ip().unwrap_or_default()
            ));
        }
        for g in p.user_id_group_pairs() {
            rules.push(format!(
                "{proto} {ports} from {}",
                g.group_id().unwrap_or_default()
            ));
        }
    }
    rules.sort();
    rules
}

/// The ports `sg` lets in from the group `source`, each with its rule's description.
async fn opened_from(region: &str, sg: &str, source: &str) -> Vec<(i32, String)> {
    let out = ec2(region)
        .await
        .describe_security_groups()
        .group_ids(sg)
        .send()
        .await
        .expect("group");
    let mut ports: Vec<(i32, String)> = out.security_groups()[0]
        .ip_permissions()
        .iter()
        .flat_map(|p| {
            p.user_id_group_pairs()
                .iter()
                .filter(move |u| u.group_id() == Some(source))
                .map(move |u| {
                    (
                        p.from_port().unwrap_or_default(),
                        u.description().unwrap_or_default().to_string(),
                    )
                })
        })
        .collect();
    ports.sort();
    ports
}

fn marker(c: &Config) -> String {
    format!("fansite_bastion {}", c.name)
}

/// An IAM policy document as IAM gives it (URL-encoded), parsed.
fn decoded(doc: &str) -> Value {
    let b = doc.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 3 <= b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
            if let Some(x) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(x);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    let text = String::from_utf8_lossy(&out).into_owned();
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("policy JSON: {text}"))
}

/// Standard base64 (user data as EC2 gives it), decoded; other characters are skipped.
fn base64_decode(text: &str) -> String {
    let value = |c: u8| -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    };
    let mut out = Vec::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for v in text.bytes().filter_map(value) {
        buf = (buf << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((buf >> bits) & 0xff) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The user data of instance `id`, decoded.
async fn user_data(region: &str, id: &str) -> String {
    let out = ec2(region)
        .await
        .describe_instance_attribute()
        .instance_id(id)
        .attribute(InstanceAttributeName::UserData)
        .send()
        .await
        .expect("user data");
    base64_decode(out.user_data().and_then(|u| u.value()).unwrap_or_default())
}

/// Every part of the bastion `name` the endpoint still has, by kind: a host
/// not terminated, its group, the rules it added to the groups `opened`, its
/// role and instance profile, its log group, its documents, its secret and its
/// Elastic IP.
async fn live_parts(region: &str, name: &str, state: &Value, opened: &[&str]) -> Vec<String> {
    let mut parts = Vec::new();
    let e = ec2(region).await;
    let reservations = e.describe_instances().send().await.expect("instances");
    for i in reservations
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
    {
        if ec2_tag(i.tags(), "Name") == Some(name) && state_of(i) != "terminated" {
            parts.push(format!(
                "instance {} ({})",
                i.instance_id().unwrap_or_default(),
                state_of(i)
            ));
        }
    }
    let groups = e
        .describe_security_groups()
        .filters(
            Filter::builder()
                .name("group-name")
                .values(format!("{name}-bastion"))
                .build(),
        )
        .send()
        .await
        .expect("groups");
    parts.extend(
        groups
            .security_groups()
            .iter()
            .filter(|g| g.group_name() == Some(format!("{name}-bastion").as_str()))
            .map(|g| format!("security group {}", g.group_id().unwrap_or_default())),
    );
    let sg = s(&state["security_group_id"]);
    let mark = format!("fansite_bastion {name}");
    for other in opened {
        let out = e
            .describe_security_groups()
            .group_ids(*other)
            .send()
            .await
            .expect("the opened group");
        let rule = out.security_groups()[0]
            .ip_permissions()
            .iter()
            .flat_map(|p| p.user_id_group_pairs())
            .any(|u| {
                u.description() == Some(mark.as_str())
                    || (!sg.is_empty() && u.group_id() == Some(sg.as_str()))
            });
        if rule {
            parts.push(format!("rule on {other}"));
        }
    }
    let i = iam().await;
    let role = format!("{name}-bastion");
    if i.get_role().role_name(&role).send().await.is_ok() {
        parts.push(format!("role {role}"));
    }
    if i.get_instance_profile()
        .instance_profile_name(&role)
        .send()
        .await
        .is_ok()
    {
        parts.push(format!("instance profile {role}"));
    }
    if let Some(g) = log_group(region, name).await {
        parts.push(format!(
            "log group {}",
            g.log_group_name().unwrap_or_default()
        ));
    }
    let sm = ssm(region).await;
    for doc in [format!("{name}-sessions"), format!("{name}-port-forward")] {
        if sm.describe_document().name(&doc).send().await.is_ok() {
            parts.push(format!("document {doc}"));
        }
    }
    if let Ok(d) = secrets(region)
        .await
        .describe_secret()
        .secret_id(format!("fansite/{name}/openvpn-admin"))
        .send()
        .await
    {
        if d.deleted_date().is_none() {
            parts.push("admin secret".into());
        }
    }
    let eip = s(&state["elastic_ip_id"]);
    let addresses = e.describe_addresses().send().await.expect("addresses");
    parts.extend(
        addresses
            .addresses()
            .iter()
            .filter(|a| {
                ec2_tag(a.tags(), "Name") == Some(name)
                    || (!eip.is_empty() && a.allocation_id() == Some(eip.as_str()))
            })
            .map(|a| format!("elastic IP {}", a.allocation_id().unwrap_or_default())),
    );
    parts
}

async fn destroy_and_check(ws: &Workspace, c: &Config, opened: &[&str]) {
    let state = ws.state_values(ADDR);
    ws.destroy();
    let left = live_parts(c.region, &c.name, &state, opened).await;
    assert!(left.is_empty(), "destroy left parts behind: {left:?}");
}

/// Each part's tags, as the endpoint has them.
async fn tags_by_part(
    region: &str,
    name: &str,
    state: &Value,
) -> Vec<(String, Vec<(String, String)>)> {
    let mut parts = Vec::new();
    let e = ec2(region).await;
    let id = s(&state["instance_id"]);
    let host = instance(region, &id).await.expect("the host");
    parts.push((format!("instance {id}"), ec2_tags(host.tags())));
    let sg = s(&state["security_group_id"]);
    let groups = e
        .describe_security_groups()
        .group_ids(&sg)
        .send()
        .await
        .expect("group");
    parts.push((
        format!("security group {sg}"),
        ec2_tags(groups.security_groups()[0].tags()),
    ));
    let eip = s(&state["elastic_ip_id"]);
    if !eip.is_empty() {
        let a = e
            .describe_addresses()
            .allocation_ids(&eip)
            .send()
            .await
            .expect("elastic IP");
        parts.push((
            format!("elastic IP {eip}"),
            ec2_tags(a.addresses()[0].tags()),
        ));
    }
    let i = iam().await;
    let role = format!("{name}-bastion");
    let tags = i
        .list_role_tags()
        .role_name(&role)
        .send()
        .await
        .expect("role tags");
    parts.push((
        format!("role {role}"),
        tags.tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect(),
    ));
    let profile = i
        .get_instance_profile()
        .instance_profile_name(&role)
        .send()
        .await
        .expect("instance profile");
    parts.push((
        format!("instance profile {role}"),
        profile
            .instance_profile()
            .map(|p| {
                p.tags()
                    .iter()
                    .map(|t| (t.key().to_string(), t.value().to_string()))
                    .collect()
            })
            .unwrap_or_default(),
    ));
    if state["log_group_name"].is_string() {
        let group = log_group(region, name).await.expect("log group");
        let arn = group
            .arn()
            .unwrap_or_default()
            .trim_end_matches(":*")
            .to_string();
        let tags = logs(region)
            .await
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
            .expect("log group tags");
        parts.push((
            format!("log group {arn}"),
            tags.tags()
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
        ));
    }
    for key in ["session_document_name", "port_forward_document_name"] {
        let doc = s(&state[key]);
        if doc.is_empty() {
            continue;
        }
        let tags = ssm(region)
            .await
            .list_tags_for_resource()
            .resource_type(ResourceTypeForTagging::Document)
            .resource_id(&doc)
            .send()
            .await
            .expect("document tags");
        parts.push((
            format!("document {doc}"),
            tags.tag_list()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect(),
        ));
    }
    let secret = s(&state["admin_secret_arn"]);
    if !secret.is_empty() {
        let d = secrets(region)
            .await
            .describe_secret()
            .secret_id(&secret)
            .send()
            .await
            .expect("admin secret");
        parts.push((
            "admin secret".to_string(),
            d.tags()
                .iter()
                .map(|t| {
                    (
                        t.key().unwrap_or_default().to_string(),
                        t.value().unwrap_or_default().to_string(),
                    )
                })
                .collect(),
        ));
    }
    parts
}

/// The parts without the tag `key` = `value`.
fn lacking(parts: &[(String, Vec<(String, String)>)], key: &str, value: &str) -> Vec<String> {
    parts
        .iter()
        .filter(|(_, tags)| !tags.iter().any(|(k, v)| k == key && v == value))
        .map(|(p, tags)| format!("{p}: {tags:?}"))
        .collect()
}

/// The `fansite:owner` tag of the role or the instance profile (they are global to the account).
async fn owners(name: &str) -> (Option<String>, Option<String>) {
    let i = iam().await;
    let role = format!("{name}-bastion");
    let r = i.get_role().role_name(&role).send().await.expect("role");
    let p = i
        .get_instance_profile()
        .instance_profile_name(&role)
        .send()
        .await
        .expect("instance profile");
    let owner = |tags: &[aws_sdk_iam::types::Tag]| {
        tags.iter()
            .find(|t| t.key() == "fansite:owner")
            .map(|t| t.value().to_string())
    };
    (
        r.role().and_then(|r| owner(r.tags())),
        p.instance_profile().and_then(|p| owner(p.tags())),
    )
}

async fn bastion_apply_then_plan_is_empty(tf: &Terraform) {
    let c = bastion("eu-west-3", "bastion-apply", tf);
    let (ws, net) = setup(&c, tf, "bastion-apply").await;
    let c = allow_db(c, &net);
    ws.write(&c.hcl());
    ws.apply();
    ws.assert_plan_empty();
    let state = ws.state_values(ADDR);
    let r = c.region;
    let role = format!("{}-bastion", c.name);

    // The host: in the first private subnet, from the latest arm64 AMI, the
    // smallest Graviton type, IMDSv2 only, no key, an encrypted root volume.
    let id = s(&state["instance_id"]);
    let host = instance(r, &id).await.expect("the host");
    assert_eq!(state_of(&host), "running");
    assert_eq!(host.subnet_id(), Some(net.private[0].as_str()));
    assert_eq!(
        host.image_id(),
        Some(public_ami(r, ARM64_AMI).await.as_str())
    );
    assert_eq!(s(&state["ami_id"]), public_ami(r, ARM64_AMI).await);
    assert_eq!(host.instance_type().map(|t| t.as_str()), Some("t4g.nano"));
    assert_eq!(host.key_name(), None, "no SSH key");
    assert_eq!(
        host.metadata_options().and_then(|m| m.http_tokens()),
        Some(&HttpTokensState::Required),
        "IMDSv2 only"
    );
    assert!(
        host.iam_instance_profile()
            .and_then(|p| p.arn())
            .is_some_and(|a| a.ends_with(&format!(":instance-profile/{role}"))),
        "{:?}",
        host.iam_instance_profile()
    );
    let sg = s(&state["security_group_id"]);
    let groups: Vec<&str> = host
        .security_groups()
        .iter()
        .filter_map(|g| g.group_id())
        .collect();
    assert_eq!(groups, vec![sg.as_str()]);
    assert_eq!(
        s(&state["private_ip"]),
        host.private_ip_address().unwrap_or_default()
    );
    let volumes = volume_ids(&host);
    assert!(!volumes.is_empty(), "the host has a root volume");
    let described = ec2(r)
        .await
        .describe_volumes()
        .set_volume_ids(Some(volumes))
        .send()
        .await
        .expect("volumes");
    assert!(
        described
            .volumes()
            .iter()
            .all(|v| v.encrypted() == Some(true)),
        "every volume is encrypted: {:?}",
        described.volumes()
    );

    // Its group: no inbound rule; the database's group lets it in on 3306.
    let g = ec2(r)
        .await
        .describe_security_groups()
        .group_ids(&sg)
        .send()
        .await
        .expect("group");
    assert_eq!(
        g.security_groups()[0].group_name(),
        Some(role.as_str()),
        "named <name>-bastion"
    );
    assert_eq!(g.security_groups()[0].vpc_id(), Some(net.vpc.as_str()));
    assert!(ingress(r, &sg).await.is_empty(), "no inbound rule");
    assert_eq!(
        opened_from(r, &net.db_sg, &sg).await,
        vec![(3306, marker(&c))]
    );

    // Its role: EC2 may assume it; Systems Manager's core policy; its own
    // policy writes this bastion's session logs only.
    let i = iam().await;
    let got = i.get_role().role_name(&role).send().await.expect("role");
    let trust = decoded(
        got.role()
            .and_then(|r| r.assume_role_policy_document())
            .unwrap_or_default(),
    );
    assert_eq!(
        trust["Statement"][0]["Principal"]["Service"], "ec2.amazonaws.com",
        "{trust}"
    );
    assert_eq!(
        s(&state["role_arn"]),
        got.role().map(|r| r.arn()).unwrap_or_default()
    );
    let attached = i
        .list_attached_role_policies()
        .role_name(&role)
        .send()
        .await
        .expect("attached policies");
    let arns: Vec<&str> = attached
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn())
        .collect();
    assert_eq!(
        arns,
        vec!["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]
    );
    let own = i
        .get_role_policy()
        .role_name(&role)
        .policy_name("bastion")
        .send()
        .await
        .expect("the role's own policy");
    let own = decoded(own.policy_document()).to_string();
    assert!(
        own.contains(&format!(
            "arn:aws:logs:{r}:{ACCOUNT}:log-group:/fansite/bastion/{}",
            c.name
        )),
        "{own}"
    );
    let profile = i
        .get_instance_profile()
        .instance_profile_name(&role)
        .send()
        .await
        .expect("instance profile");
    let held: Vec<&str> = profile
        .instance_profile()
        .map(|p| p.roles().iter().map(|r| r.role_name()).collect())
        .unwrap_or_default();
    assert_eq!(held, vec![role.as_str()], "the profile holds the role");
    let owner = format!("fansite_bastion/{}/{r}", c.name);
    assert_eq!(
        owners(&c.name).await,
        (Some(owner.clone()), Some(owner)),
        "the account-global parts name their owner"
    );

    // Session logs: the log group, kept 90 days; the session document streams there.
    let group = log_group(r, &c.name).await.expect("log group");
    assert_eq!(group.retention_in_days(), Some(90));
    assert_eq!(
        s(&state["log_group_name"]),
        format!("/fansite/bastion/{}", c.name)
    );
    let sessions = format!("{}-sessions", c.name);
    assert_eq!(s(&state["session_document_name"]), sessions);
    assert_eq!(
        document_type(r, &sessions).await,
        Some(DocumentType::Session)
    );
    let doc = document(r, &sessions).await.expect("session document");
    assert_eq!(doc["sessionType"], "Standard_Stream");
    assert_eq!(
        doc["inputs"]["cloudWatchLogGroupName"],
        format!("/fansite/bastion/{}", c.name)
    );
    assert_eq!(doc["inputs"]["cloudWatchStreamingEnabled"], true);
    assert_eq!(doc["inputs"]["idleSessionTimeout"], "20");
    assert_eq!(doc["inputs"]["s3BucketName"], "");

    // No port forwarding, nothing of OpenVPN.
    assert!(document(r, &format!("{}-port-forward", c.name))
        .await
        .is_none());
    for key in [
        "port_forward_document_name",
        "port_forward_command",
        "public_ip",
        "elastic_ip_id",
        "admin_secret_arn",
        "admin_url",
    ] {
        assert!(state[key].is_null(), "{key}: {state}");
    }
    assert!(state["developer_policy_json"].is_string(), "{state}");

    // Every part: the provider's default tags, the resource's, a Name on EC2's.
    let parts = tags_by_part(r, &c.name, &state).await;
    assert_eq!(parts.len(), 6, "{parts:?}");
    assert_eq!(lacking(&parts, "suite", "e2e"), Vec::<String>::new());
    assert_eq!(lacking(&parts, "app", "fansite"), Vec::<String>::new());
    assert_eq!(ec2_tag(host.tags(), "Name"), Some(c.name.as_str()));
    destroy_and_check(&ws, &c, &[net.db_sg.as_str()]).await;
}
per_terraform!(bastion_apply_then_plan_is_empty);

/// One in-place change to a configuration.
type Change = Box<dyn Fn(Config) -> Config>;

async fn bastion_in_place_changes_update_without_replacing(tf: &Terraform) {
    // EC2 through a recording proxy: the order of a host replacement's calls.
    let proxy = FaultProxy::record(endpoint());
    let c = bastion("ap-northeast-3", "bastion-inplace", tf)
        .provider(format!("  endpoints {{\n    ec2 = {:?}\n  }}\n", proxy.url));
    let (ws, net) = setup(&c, tf, "bastion-inplace").await;
    let r = c.region;
    let base = allow_db(c.clone(), &net);
    ws.write(&base.hcl());
    ws.apply();
    let db2 = group(r, &net.vpc, &format!("{}-db2", c.name)).await;
    let bucket = format!("{}-sessions", c.name);
    s3(r)
        .await
        .create_bucket()
        .bucket(&bucket)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(r))
                .build(),
        )
        .send()
        .await
        .expect("session log bucket");
    let other_ami = public_ami(r, OTHER_ARM64_AMI).await;
    assert_ne!(other_ami, public_ami(r, ARM64_AMI).await);
    let (db_sg, second, bucket_line) = (
        net.db_sg.clone(),
        db2.clone(),
        format!("session_log_bucket = \"{bucket}\""),
    );
    let ami_line = format!("ami_id = \"{other_ami}\"");
    let changes: Vec<(&str, Change, bool)> = vec![
        (
            "session_log_retention_days",
            Box::new(|c: Config| c.with("session_log_retention_days = 30")),
            false,
        ),
        (
            "idle_session_timeout",
            Box::new(|c: Config| c.with("idle_session_timeout = 10")),
            false,
        ),
        (
            "session_log_bucket",
            Box::new(move |c: Config| c.with(&bucket_line)),
            false,
        ),
        (
            "allow_to",
            Box::new(move |c: Config| {
                c.with(&format!("allow_to {{\n    security_group_id = \"{db_sg}\"\n  }}\n  allow_to {{\n    security_group_id = \"{second}\"\n    port              = 5432\n  }}"))
            }),
            false,
        ),
        ("port_forward", Box::new(forward), false),
        (
            "tags",
            Box::new(|c: Config| c.with("tags = { app = \"fansite\", team = \"platform\" }")),
            false,
        ),
        (
            "instance_type",
            Box::new(|c: Config| c.with("instance_type = \"t4g.micro\"")),
            true,
        ),
        ("ami_id", Box::new(move |c: Config| c.with(&ami_line)), true),
        (
            "subnet_id",
            Box::new(|c: Config| c.attr("subnet_id", "fansite_network.net.private_subnet_ids[1]")),
            true,
        ),
    ];
    let mut cur = base.clone();
    let sg = s(&ws.state_values(ADDR)["security_group_id"]);
    for (what, change, new_host) in &changes {
        let before = s(&ws.state_values(ADDR)["instance_id"]);
        cur = change(cur);
        ws.write(&cur.hcl());
        assert_eq!(
            ws.planned_actions(),
            update(),
            "{what}: planned as an update"
        );
        let from = proxy.calls().len();
        ws.apply();
        ws.assert_plan_empty();
        let state = ws.state_values(ADDR);
        let after = s(&state["instance_id"]);
        assert_eq!(s(&state["security_group_id"]), sg, "{what}: the same group");
        if *new_host {
            assert_replaced(r, &before, &after, what).await;
            // The new host is launched (and waited for) before the old one goes.
            let calls: Vec<(String, String)> = proxy.calls()[from..].to_vec();
            let ops: Vec<&str> = calls.iter().map(|(o, _)| o.as_str()).collect();
            let launched = ops.iter().position(|o| *o == "RunInstances");
            let terminated = ops.iter().position(|o| *o == "TerminateInstances");
            assert!(
                matches!((launched, terminated), (Some(l), Some(t)) if l < t),
                "{what}: launch, then terminate: {ops:?}"
            );
            let body = &calls[terminated.unwrap_or_default()].1;
            assert!(
                body.contains(&before) && !body.contains(&after),
                "{what}: only the old host is terminated: {body}"
            );
        } else {
            assert_eq!(after, before, "{what}: the same host");
        }
    }
    let state = ws.state_values(ADDR);
    let id = s(&state["instance_id"]);
    let host = instance(r, &id).await.expect("the host");
    assert_eq!(host.instance_type().map(|t| t.as_str()), Some("t4g.micro"));
    assert_eq!(host.image_id(), Some(other_ami.as_str()));
    assert_eq!(host.subnet_id(), Some(net.private[1].as_str()));
    assert_eq!(
        host.metadata_options().and_then(|m| m.http_tokens()),
        Some(&HttpTokensState::Required),
        "the new host is IMDSv2 only too"
    );
    assert_eq!(
        log_group(r, &c.name)
            .await
            .and_then(|g| g.retention_in_days()),
        Some(30)
    );
    let doc = document(r, &format!("{}-sessions", c.name))
        .await
        .expect("session document");
    assert_eq!(doc["inputs"]["idleSessionTimeout"], "10");
    assert_eq!(doc["inputs"]["s3BucketName"], bucket.as_str());
    assert_eq!(doc["inputs"]["s3EncryptionEnabled"], true);
    let own = iam()
        .await
        .get_role_policy()
        .role_name(format!("{}-bastion", c.name))
        .policy_name("bastion")
        .send()
        .await
        .expect("the role's own policy");
    assert!(
        decoded(own.policy_document())
            .to_string()
            .contains(&format!("arn:aws:s3:::{bucket}/bastion/{}/*", c.name)),
        "the host may write its session logs to the bucket"
    );
    assert_eq!(
        opened_from(r, &net.db_sg, &sg).await,
        vec![(3306, marker(&c))]
    );
    assert_eq!(opened_from(r, &db2, &sg).await, vec![(5432, marker(&c))]);
    let forwarding = document(r, &format!("{}-port-forward", c.name))
        .await
        .expect("port forward document");
    assert_eq!(forwarding["properties"]["host"], DB_HOST);
    // The developer policy follows the host.
    assert!(
        s(&state["developer_policy_json"]).contains(&format!("instance/{id}")),
        "{state}"
    );
    assert!(
        s(&state["port_forward_command"]).contains(&format!("--target {id}")),
        "{state}"
    );
    let parts = tags_by_part(r, &c.name, &state).await;
    assert_eq!(
        lacking(&parts, "team", "platform"),
        Vec::<String>::new(),
        "every part retagged"
    );
    // allow_to removed: the rules go, in place.
    ws.write(&cur.clone().without("allow_to").hcl());
    assert_eq!(ws.planned_actions(), update());
    ws.apply();
    ws.assert_plan_empty();
    assert!(opened_from(r, &net.db_sg, &sg).await.is_empty());
    assert!(opened_from(r, &db2, &sg).await.is_empty());
    destroy_and_check(&ws, &c, &[net.db_sg.as_str(), db2.as_str()]).await;
    s3(r)
        .await
        .delete_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("delete the bucket");
}
per_terraform!(bastion_in_place_changes_update_without_replacing);

async fn bastion_replacing_changes_plan_a_replace(tf: &Terraform) {
    let c = bastion("ap-southeast-3", "bastion-replace", tf);
    let (ws, _) = setup(&c, tf, "bastion-replace").await;
    ws.write(&c.hcl());
    ws.apply();
    let r = c.region;
    let other = other_vpc(r).await;
    let x86 = public_ami(r, X86_AMI).await;
    let cases: Vec<(&str, Config)> = vec![
        ("name", c.clone().named(format!("{}-b", c.name))),
        ("mode", openvpn(c.clone(), &x86)),
        (
            "vpc_id",
            c.clone()
                .attr("vpc_id", format!("\"{}\"", other.0))
                .attr("subnet_id", format!("\"{}\"", other.1)),
        ),
    ];
    for (what, changed) in cases {
        ws.write(&changed.hcl());
        assert_eq!(ws.planned_actions(), replace(), "{what}");
    }
    ws.write(&c.hcl());
    ws.assert_plan_empty();
    destroy_and_check(&ws, &c, &[]).await;
    delete_vpc(r, &other).await;
}
per_terraform!(bastion_replacing_changes_plan_a_replace);

async fn bastion_import_gives_an_empty_plan(tf: &Terraform) {
    let c = bastion("eu-south-1", "bastion-import", tf);
    let (ws, net) = setup(&c, tf, "bastion-import").await;
    let c = forward(allow_db(c, &net))
        .with("session_log_retention_days = 30")
        .with("idle_session_timeout = 15");
    ws.write(&c.hcl());
    ws.apply();
    let applied = ws.state_values(ADDR);
    ws.assert_imports_as_applied(ADDR, &c.name, &c.hcl(), &applied);
    let other = "fansite_bastion.other";
    ws.write(&format!(
        "{}\nresource \"fansite_bastion\" \"other\" {{\n  name      = \"other\"\n  vpc_id    = fansite_network.net.vpc_id\n  subnet_id = fansite_network.net.private_subnet_ids[0]\n}}\n",
        c.hcl()
    ));
    let bad = ws.import_fails(other, "not a name!");
    assert!(bad.contains("Invalid import ID"), "{bad}");
    let missing = ws.import_fails(other, "nobody-made-this");
    assert!(
        missing.contains("Cannot import non-existent bastion"),
        "{missing}"
    );
    ws.write(&c.hcl());
    destroy_and_check(&ws, &c, &[net.db_sg.as_str()]).await;
}
per_terraform!(bastion_import_gives_an_empty_plan);

async fn bastion_drift_is_shown_and_repaired(tf: &Terraform) {
    let c = bastion("eu-central-2", "bastion-drift", tf);
    let (ws, net) = setup(&c, tf, "bastion-drift").await;
    let c = allow_db(c, &net);
    ws.write(&c.hcl());
    ws.apply();
    let state = ws.state_values(ADDR);
    let r = c.region;
    let sg = s(&state["security_group_id"]);
    let id = s(&state["instance_id"]);
    let sessions = format!("{}-sessions", c.name);

    // What the inputs show: the retention shortened, the session document's
    // idle timeout raised (a new default version), the database's rule revoked.
    logs(r)
        .await
        .put_retention_policy()
        .log_group_name(format!("/fansite/bastion/{}", c.name))
        .retention_in_days(7)
        .send()
        .await
        .expect("shorten the retention");
    let mut content = document(r, &sessions).await.expect("session document");
    content["inputs"]["idleSessionTimeout"] = json!("60");
    let sm = ssm(r).await;
    let updated = sm
        .update_document()
        .name(&sessions)
        .content(content.to_string())
        .document_version("$LATEST")
        .send()
        .await
        .expect("update the document");
    let version = updated
        .document_description()
        .and_then(|d| d.document_version())
        .unwrap_or_default()
        .to_string();
    sm.update_document_default_version()
        .name(&sessions)
        .document_version(&version)
        .send()
        .await
        .expect("make it the default");
    ec2(r)
        .await
        .revoke_security_group_ingress()
        .group_id(&net.db_sg)
        .ip_permissions(
            aws_sdk_ec2::types::IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(3306)
                .to_port(3306)
                .user_id_group_pairs(
                    aws_sdk_ec2::types::UserIdGroupPair::builder()
                        .group_id(&sg)
                        .description(marker(&c))
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("revoke the database's rule");
    assert!(opened_from(r, &net.db_sg, &sg).await.is_empty());
    let plan = ws.plan();
    assert!(plan.contains("7 -> 90"), "retention drift: {plan}");
    assert!(plan.contains("60 -> 20"), "idle timeout drift: {plan}");
    assert!(plan.contains("allow_to"), "rule drift: {plan}");
    assert_eq!(ws.planned_actions(), update());
    ws.apply();
    ws.assert_plan_empty();
    assert_eq!(
        log_group(r, &c.name)
            .await
            .and_then(|g| g.retention_in_days()),
        Some(90)
    );
    assert_eq!(
        document(r, &sessions).await.expect("session document")["inputs"]["idleSessionTimeout"],
        "20"
    );
    assert_eq!(
        opened_from(r, &net.db_sg, &sg).await,
        vec![(3306, marker(&c))]
    );

    // What only the host and its group show: SSH opened to the world, IMDSv1
    // allowed again (every field sent: the endpoint resets those left out).
    let e = ec2(r).await;
    e.authorize_security_group_ingress()
        .group_id(&sg)
        .ip_protocol("tcp")
        .from_port(22)
        .to_port(22)
        .cidr_ip("0.0.0.0/0")
        .send()
        .await
        .expect("open SSH");
    let host = instance(r, &id).await.expect("the host");
    let m = host.metadata_options().expect("metadata options");
    e.modify_instance_metadata_options()
        .instance_id(&id)
        .http_tokens(HttpTokensState::Optional)
        .set_http_put_response_hop_limit(m.http_put_response_hop_limit())
        .set_http_endpoint(m.http_endpoint().cloned())
        .set_http_protocol_ipv6(m.http_protocol_ipv6().cloned())
        .set_instance_metadata_tags(m.instance_metadata_tags().cloned())
        .send()
        .await
        .expect("allow IMDSv1");
    assert_eq!(
        instance(r, &id)
            .await
            .and_then(|i| i.metadata_options().and_then(|m| m.http_tokens()).cloned()),
        Some(HttpTokensState::Optional)
    );
    assert_eq!(ws.planned_actions(), update(), "the host's drift is shown");
    ws.apply();
    ws.assert_plan_empty();
    assert!(ingress(r, &sg).await.is_empty(), "SSH closed again");
    let now = s(&ws.state_values(ADDR)["instance_id"]);
    assert_eq!(
        instance(r, &now)
            .await
            .and_then(|i| i.metadata_options().and_then(|m| m.http_tokens()).cloned()),
        Some(HttpTokensState::Required),
        "IMDSv2 only again"
    );
    destroy_and_check(&ws, &c, &[net.db_sg.as_str()]).await;
}
per_terraform!(bastion_drift_is_shown_and_repaired);

async fn bastion_deleted_instance_is_recreated(tf: &Terraform) {
    let c = bastion("ap-south-2", "bastion-gone", tf);
    let (ws, net) = setup(&c, tf, "bastion-gone").await;
    let c = forward(allow_db(c, &net));
    ws.write(&c.hcl());
    ws.apply();
    let old = ws.state_values(ADDR);
    let r = c.region;
    let terminate = |id: String| async move {
        ec2(r)
            .await
            .terminate_instances()
            .instance_ids(id)
            .send()
            .await
            .expect("terminate the host");
    };
    let first = s(&old["instance_id"]);
    terminate(first.clone()).await;
    // Read keeps what remains: the host is made again in place.
    let change = ws.planned_change(ADDR);
    assert_eq!(change["actions"], json!(["update"]), "{change}");
    assert_eq!(
        change["after_unknown"]["instance_id"], true,
        "the new host's id is known after apply: {change}"
    );
    ws.apply();
    ws.assert_plan_empty();
    let new = ws.state_values(ADDR);
    assert_replaced(r, &first, &s(&new["instance_id"]), "recreated").await;
    for key in [
        "security_group_id",
        "role_arn",
        "log_group_name",
        "session_document_name",
        "port_forward_document_name",
    ] {
        assert_eq!(new[key], old[key], "{key} kept");
    }
    assert!(
        s(&new["port_forward_command"]).contains(&s(&new["instance_id"])),
        "{new}"
    );
    // Terminated again, then a destroy: its refresh must keep the resource,
    // or the group, role, profile, log group and documents are orphaned.
    terminate(s(&new["instance_id"])).await;
    destroy_and_check(&ws, &c, &[net.db_sg.as_str()]).await;
}
per_terraform!(bastion_deleted_instance_is_recreated);

async fn bastion_destroy_leaves_no_parts(tf: &Terraform) {
    let c = bastion("eu-south-2", "bastion-destroy", tf);
    let (ws, net) = setup(&c, tf, "bastion-destroy").await;
    let r = c.region;
    // ssm: host, group, rule, role, instance profile, log group, two documents.
    let ssm_mode = forward(allow_db(c.clone(), &net));
    ws.write(&ssm_mode.hcl());
    ws.apply();
    let state = ws.state_values(ADDR);
    let made = live_parts(r, &c.name, &state, &[net.db_sg.as_str()]).await;
    assert_eq!(made.len(), 8, "every part is counted: {made:?}");
    let host = s(&state["instance_id"]);
    let volumes = volume_ids(&instance(r, &host).await.expect("the host"));
    assert!(!volumes.is_empty(), "the host has a root volume");
    destroy_and_check(&ws, &c, &[net.db_sg.as_str()]).await;
    assert_eq!(instance_state(r, &host).await, "terminated");
    assert_eq!(
        volumes_left(r, volumes).await,
        Vec::<String>::new(),
        "the root volume goes with the host"
    );
    // The database's own group stays: only the rule the bastion added went.
    assert!(ec2(r)
        .await
        .describe_security_groups()
        .group_ids(&net.db_sg)
        .send()
        .await
        .is_ok());
    // openvpn: host, group, role, instance profile, secret, Elastic IP.
    let (ws, _) = setup(&c, tf, "bastion-destroy").await;
    let vpn = openvpn(c.clone(), &public_ami(r, X86_AMI).await);
    ws.write(&vpn.hcl());
    ws.apply();
    let state = ws.state_values(ADDR);
    let made = live_parts(r, &c.name, &state, &[]).await;
    // A log group only if the resource keeps one in this mode.
    let logged = usize::from(state["log_group_name"].is_string());
    assert_eq!(made.len(), 6 + logged, "every part is counted: {made:?}");
    for kind in [
        "instance i-",
        "security group ",
        "role ",
        "instance profile ",
        "admin secret",
        "elastic IP ",
    ] {
        assert!(made.iter().any(|p| p.starts_with(kind)), "{kind}: {made:?}");
    }
    destroy_and_check(&ws, &c, &[]).await;
}
per_terraform!(bastion_destroy_leaves_no_parts);

async fn bastion_bad_inputs_fail_on_their_attribute(tf: &Terraform) {
    let c = bastion("me-central-1", "bastion-bad", tf);
    let (ws, net) = setup(&c, tf, "bastion-bad").await;
    let r = c.region;
    let other = other_vpc(r).await;
    let x86 = public_ami(r, X86_AMI).await;
    let vpn = openvpn(c.clone(), &x86);
    // One line a case, as a table.
    #[rustfmt::skip]
    let cases: Vec<(&str, Config, &str, &str)> = vec![
        ("name", c.clone().named(format!("{}_1", c.name)), "Invalid name", "name"),
        ("uppercase name", c.clone().named(format!("{}X", c.name)), "Invalid name", "name"),
        ("long name", c.clone().named(format!("{}{}", c.name, "x".repeat(33 - c.name.len()))), "Invalid name", "name"),
        ("mode", c.clone().with("mode = \"x\""), "Invalid mode", "mode"),
        ("vpc id", c.clone().attr("vpc_id", "\"vpc\""), "Invalid vpc_id", "vpc_id"),
        ("subnet id", c.clone().attr("subnet_id", "\"subnet\""), "Invalid subnet_id", "subnet_id"),
        ("ami", c.clone().with("ami_id = \"foo\""), "Invalid ami_id", "ami_id"),
        ("idle timeout", c.clone().with("idle_session_timeout = 0"), "Invalid idle_session_timeout", "idle_session_timeout"),
        ("retention", c.clone().with("session_log_retention_days = 10"), "Invalid session_log_retention_days", "session_log_retention_days"),
        ("allow_to group", c.clone().with("allow_to {\n    security_group_id = \"db\"\n  }"), "Invalid allow_to.security_group_id", "security_group_id"),
        ("allow_to port", c.clone().with(&format!("allow_to {{\n    security_group_id = \"{}\"\n    port              = 0\n  }}", net.db_sg)), "Invalid allow_to.port", "port"),
        ("port_forward port", c.clone().with("port_forward {\n    host = \"db\"\n    port = 70000\n  }"), "Invalid port_forward.port", "70000"),
        ("openvpn without allowed_cidrs", vpn.clone().without("allowed_cidrs"), "Missing allowed_cidrs", "resource \"fansite_bastion\""),
        ("allowed_cidrs with ssm", c.clone().with(&format!("allowed_cidrs = [\"{OFFICE}\"]")), "allowed_cidrs without openvpn", "allowed_cidrs"),
        ("bad CIDR", vpn.clone().with("allowed_cidrs = [\"10.0.0.0/33\"]"), "Invalid allowed_cidrs", "10.0.0.0/33"),
        ("bad route", vpn.clone().with("vpn_routes = [\"not-a-cidr\"]"), "Invalid vpn_routes", "vpn_routes"),
        ("port_forward with openvpn", vpn.clone().with("port_forward {\n    host = \"db\"\n  }"), "port_forward without ssm", "host = \"db\""),
        ("subnet outside the VPC (plan time)", c.clone().attr("subnet_id", format!("\"{}\"", other.1)), "Subnet outside the VPC", "subnet_id"),
        ("unknown subnet (plan time)", c.clone().attr("subnet_id", "\"subnet-0123456789abcdef0\""), "Unknown subnet", "subnet_id"),
        ("reserved tag", c.clone().with("tags = { \"aws:x\" = \"y\" }"), "Reserved tag key", "aws:x"),
        ("bad timeout", c.clone().with("timeouts {\n    create = \"soon\"\n  }"), "Invalid duration", "create"),
    ];
    for (what, config, summary, code) in cases {
        ws.write(&config.hcl());
        ws.assert_plan_error(what, summary, code);
    }
    let made = live_parts(r, &c.name, &Value::Null, &[net.db_sg.as_str()]).await;
    assert!(made.is_empty(), "bad input made parts: {made:?}");
    ws.write(&c.clone().extras_only().hcl());
    ws.destroy();
    delete_vpc(r, &other).await;
}
per_terraform!(bastion_bad_inputs_fail_on_their_attribute);

async fn bastion_fault_midway_keeps_ids_and_destroy_cleans_up(tf: &Terraform) {
    let proxy = FaultProxy::start(endpoint(), "RunInstances");
    let c = bastion("il-central-1", "bastion-fault", tf)
        .provider(format!("  endpoints {{\n    ec2 = {:?}\n  }}\n", proxy.url));
    let (ws, net) = setup(&c, tf, "bastion-fault").await;
    let c = forward(allow_db(c, &net));
    ws.write(&c.hcl());
    let out = ws.apply_fails();
    assert!(proxy.matched() >= 1, "the proxy failed RunInstances");
    assert!(
        out.contains("InjectedFault"),
        "the error names AWS's code: {out}"
    );
    let ami = public_ami(c.region, ARM64_AMI).await;
    assert!(
        out.contains(&format!("launching an instance of {ami}")),
        "the error names the action and part: {out}"
    );
    let state = ws.state_values(ADDR);
    for key in ["security_group_id", "role_arn", "log_group_name"] {
        assert!(!s(&state[key]).is_empty(), "state keeps {key}: {state}");
    }
    assert!(s(&state["instance_id"]).is_empty(), "{state}");
    let made = live_parts(c.region, &c.name, &state, &[net.db_sg.as_str()]).await;
    for part in [
        format!("security group {}", s(&state["security_group_id"])),
        format!("role {}-bastion", c.name),
        format!("instance profile {}-bastion", c.name),
        format!("log group /fansite/bastion/{}", c.name),
    ] {
        assert!(
            made.contains(&part),
            "{part} made before the fault: {made:?}"
        );
    }
    assert!(
        !made.iter().any(|p| p.starts_with("instance i-")),
        "{made:?}"
    );
    let plan = ws.plan();
    assert!(plan.contains("tainted"), "{plan}");
    destroy_and_check(&ws, &c, &[net.db_sg.as_str()]).await;
}
per_terraform!(bastion_fault_midway_keeps_ids_and_destroy_cleans_up);

/// `developer_policy_json` lets a developer start sessions on this host with
/// this bastion's documents only, and end or resume only their own; the port
/// forwarding document fixes the host and port, leaving only the local port
/// to the developer; `port_forward_command` uses both.
async fn bastion_ssm_apply_gives_a_least_privilege_developer_policy(tf: &Terraform) {
    let c = bastion("af-south-1", "bastion-policy", tf);
    let (ws, net) = setup(&c, tf, "bastion-policy").await;
    let c = forward(allow_db(c, &net));
    ws.write(&c.hcl());
    ws.apply();
    ws.assert_plan_empty();
    let state = ws.state_values(ADDR);
    let r = c.region;
    let id = s(&state["instance_id"]);
    let host = instance(r, &id).await.expect("the host");
    assert_eq!(state_of(&host), "running");
    assert_eq!(ec2_tag(host.tags(), "Name"), Some(c.name.as_str()));
    let account = iam()
        .await
        .get_role()
        .role_name(format!("{}-bastion", c.name))
        .send()
        .await
        .expect("role")
        .role()
        .map(|r| r.arn().split(':').nth(4).unwrap_or_default().to_string())
        .unwrap_or_default();
    assert_eq!(account, ACCOUNT);
    let sessions = format!("{}-sessions", c.name);
    let forwarding = format!("{}-port-forward", c.name);
    assert_eq!(s(&state["port_forward_document_name"]), forwarding);
    for doc in [&sessions, &forwarding] {
        assert_eq!(
            document_type(r, doc).await,
            Some(DocumentType::Session),
            "{doc}"
        );
    }

    let policy: Value =
        serde_json::from_str(&s(&state["developer_policy_json"])).expect("policy JSON");
    let statements = policy["Statement"].as_array().expect("statements");
    assert_eq!(statements.len(), 2, "{policy}");
    let start = &statements[0];
    assert_eq!(start["Effect"], "Allow");
    assert_eq!(start["Action"], "ssm:StartSession", "{policy}");
    assert_eq!(
        start["Resource"],
        json!([
            format!("arn:aws:ec2:{r}:{account}:instance/{id}"),
            format!("arn:aws:ssm:{r}:{account}:document/{sessions}"),
            format!("arn:aws:ssm:{r}:{account}:document/{forwarding}")
        ]),
        "this host and this bastion's documents only"
    );
    assert_eq!(
        start["Condition"]["BoolIfExists"]["ssm:SessionDocumentAccessCheck"], "true",
        "sessions must name one of the documents: {policy}"
    );
    let own = &statements[1];
    assert_eq!(
        own["Action"],
        json!(["ssm:TerminateSession", "ssm:ResumeSession"])
    );
    assert_eq!(own["Resource"], "arn:aws:ssm:*:*:session/${aws:userid}-*");
    assert!(
        !policy.to_string().contains("\"*\""),
        "no wildcard resource: {policy}"
    );

    // The forwarding document: the database's host and port are fixed; only
    // the local port is a parameter.
    let doc = document(r, &forwarding)
        .await
        .expect("port forward document");
    assert_eq!(doc["sessionType"], "Port");
    assert_eq!(doc["properties"]["type"], "LocalPortForwarding");
    assert_eq!(doc["properties"]["host"], DB_HOST);
    assert_eq!(doc["properties"]["portNumber"], "3306");
    let params: Vec<&str> = doc["parameters"]
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    assert_eq!(params, vec!["localPortNumber"], "{doc}");
    assert_eq!(doc["parameters"]["localPortNumber"]["default"], "13306");

    let command = s(&state["port_forward_command"]);
    for part in [
        format!("--region {r}"),
        format!("--target {id}"),
        format!("--document-name {forwarding}"),
        "localPortNumber=13306".to_string(),
    ] {
        assert!(command.contains(&part), "{part} in {command}");
    }
    // The host may reach the database, and nothing reaches the host.
    let sg = s(&state["security_group_id"]);
    assert_eq!(
        opened_from(r, &net.db_sg, &sg).await,
        vec![(3306, marker(&c))]
    );
    assert!(ingress(r, &sg).await.is_empty());
    destroy_and_check(&ws, &c, &[net.db_sg.as_str()]).await;
}
per_terraform!(bastion_ssm_apply_gives_a_least_privilege_developer_policy);

/// OpenVPN: the Elastic IP on the host, exactly the VPN's ports from
/// `allowed_cidrs`, the admin password in Secrets Manager only (not in the
/// state, the output or the user data, which names the secret); a new
/// instance type replaces the host and the Elastic IP follows it.
async fn bastion_openvpn_keeps_the_password_out_of_state_and_user_data(tf: &Terraform) {
    let c = bastion("ap-east-1", "bastion-vpn", tf);
    let (ws, _) = setup(&c, tf, "bastion-vpn").await;
    let r = c.region;
    let c = openvpn(c, &public_ami(r, X86_AMI).await);
    ws.write(&c.hcl());
    let applied = ws.apply();
    ws.assert_plan_empty();
    let state = ws.state_values(ADDR);
    let id = s(&state["instance_id"]);
    let eip = s(&state["elastic_ip_id"]);
    let host = instance(r, &id).await.expect("the host");
    assert_eq!(state_of(&host), "running");
    assert_eq!(host.instance_type().map(|t| t.as_str()), Some("t3.small"));
    let public: String = ws.state_values("fansite_network.net")["public_subnet_ids"][0]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(host.subnet_id(), Some(public.as_str()));

    // The Elastic IP, on the host.
    let addresses = ec2(r)
        .await
        .describe_addresses()
        .allocation_ids(&eip)
        .send()
        .await
        .expect("elastic IP");
    let address = &addresses.addresses()[0];
    assert_eq!(address.instance_id(), Some(id.as_str()));
    assert_eq!(ec2_tag(address.tags(), "Name"), Some(c.name.as_str()));
    let ip = s(&state["public_ip"]);
    assert_eq!(address.public_ip(), Some(ip.as_str()));
    assert_eq!(s(&state["admin_url"]), format!("https://{ip}:943/admin"));

    // Exactly the VPN's ports, from the allowed ranges only.
    let mut want: Vec<String> = [("udp", 1194), ("tcp", 443), ("tcp", 943)]
        .iter()
        .flat_map(|(p, port)| [OFFICE, HOME].map(|cidr| format!("{p} {port} from {cidr}")))
        .collect();
    want.sort();
    assert_eq!(ingress(r, &s(&state["security_group_id"])).await, want);

    // No Session Manager parts.
    assert!(document(r, &format!("{}-sessions", c.name)).await.is_none());
    for key in [
        "session_document_name",
        "port_forward_document_name",
        "developer_policy_json",
    ] {
        assert!(state[key].is_null(), "{key}: {state}");
    }
    assert_eq!(state["vpn_routes"], json!([VPC_CIDR]), "{state}");

    // The password: in Secrets Manager, and nowhere else.
    let arn = s(&state["admin_secret_arn"]);
    let d = secrets(r)
        .await
        .describe_secret()
        .secret_id(format!("fansite/{}/openvpn-admin", c.name))
        .send()
        .await
        .expect("the admin secret");
    assert_eq!(d.arn(), Some(arn.as_str()));
    assert!(d.deleted_date().is_none());
    let value = secrets(r)
        .await
        .get_secret_value()
        .secret_id(&arn)
        .send()
        .await
        .expect("the admin password")
        .secret_string()
        .unwrap_or_default()
        .to_string();
    assert!(value.len() >= 16, "a long random password");
    // A JSON secret: each of its values too.
    let mut secret_parts = vec![value.clone()];
    if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(&value) {
        secret_parts.extend(
            m.values()
                .filter_map(Value::as_str)
                .filter(|v| v.len() >= 8)
                .map(str::to_string),
        );
    }
    let shown = ws.ok(&["show", "-json"]);
    let file = std::fs::read_to_string(ws.dir.join("terraform.tfstate")).expect("state file");
    let data = user_data(r, &id).await;
    assert!(
        data.contains(&arn),
        "the user data names the secret: {data}"
    );
    assert!(data.contains(VPC_CIDR), "the route to the VPC: {data}");
    for p in &secret_parts {
        assert!(!shown.contains(p.as_str()), "the password is in the state");
        assert!(
            !file.contains(p.as_str()),
            "the password is in the state file"
        );
        assert!(
            !applied.contains(p.as_str()),
            "the password is in the output"
        );
        assert!(
            !data.contains(p.as_str()),
            "the password is in the user data"
        );
    }
    let parts = tags_by_part(r, &c.name, &state).await;
    let logged = usize::from(state["log_group_name"].is_string());
    assert_eq!(parts.len(), 6 + logged, "{parts:?}");
    assert_eq!(lacking(&parts, "suite", "e2e"), Vec::<String>::new());
    assert_eq!(lacking(&parts, "app", "fansite"), Vec::<String>::new());

    // A new instance type: a new host, the Elastic IP moved to it.
    ws.write(&c.clone().with("instance_type = \"t3.medium\"").hcl());
    assert_eq!(ws.planned_actions(), update());
    let out = ws.apply();
    ws.assert_plan_empty();
    let now = ws.state_values(ADDR);
    let new = s(&now["instance_id"]);
    assert_replaced(r, &id, &new, "instance_type").await;
    let addresses = ec2(r)
        .await
        .describe_addresses()
        .allocation_ids(&eip)
        .send()
        .await
        .expect("elastic IP");
    assert_eq!(
        addresses.addresses()[0].instance_id(),
        Some(new.as_str()),
        "the Elastic IP moved to the new host"
    );
    assert_eq!(s(&now["public_ip"]), ip, "the same address");
    assert_eq!(s(&now["elastic_ip_id"]), eip);
    assert_eq!(s(&now["admin_secret_arn"]), arn, "the same secret");
    let data = user_data(r, &new).await;
    assert!(data.contains(&arn), "{data}");
    for p in &secret_parts {
        assert!(
            !data.contains(p.as_str()),
            "the password is in the user data"
        );
        assert!(!out.contains(p.as_str()), "the password is in the output");
    }
    destroy_and_check(&ws, &c, &[]).await;
}
per_terraform!(bastion_openvpn_keeps_the_password_out_of_state_and_user_data);
