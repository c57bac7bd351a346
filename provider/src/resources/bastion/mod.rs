//! `fansite_bastion`: audited developer access into the VPC: a host reached
//! through Session Manager only (`ssm`), or an OpenVPN Access Server (`openvpn`).
//!
//! Lifecycle in order: schema, validate, read, plan, create, update, delete, import.

mod converge;
mod find;
mod schema;
mod state;
#[cfg(test)]
mod tests;

use std::time::Duration;

use async_trait::async_trait;

use crate::aws::{ec2, instance, ssm, Aws};
use crate::diag::{AttrPath, Diags};
use crate::driver::{Composite, Part, Timeouts};
use crate::error::Result;
use crate::schema::Schema;
use crate::typed;
use crate::value::Dyn;

pub use state::BastionState;
use state::*;

/// A host launches in a minute or two; its agent registers, or OpenVPN's
/// status checks pass, within a few more.
pub const DEFAULT_CREATE_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// A new host is made and healthy before the old one goes.
pub const DEFAULT_UPDATE_TIMEOUT: Duration = Duration::from_secs(20 * 60);
/// The host terminates, then its group can go.
pub const DEFAULT_DELETE_TIMEOUT: Duration = Duration::from_secs(15 * 60);

pub struct BastionResource;

#[async_trait]
impl Composite for BastionResource {
    type State = BastionState;
    const NAME: &'static str = "bastion";
    const TIMEOUTS: Timeouts = Timeouts {
        create: DEFAULT_CREATE_TIMEOUT,
        update: DEFAULT_UPDATE_TIMEOUT,
        delete: DEFAULT_DELETE_TIMEOUT,
    };
    const PARTS: &'static [Part] = &[
        Part {
            id: "instance_id",
            outputs: &[
                "private_ip",
                "developer_policy_json",
                "port_forward_command",
            ],
        },
        Part::alone("security_group_id"),
        Part::alone("role_arn"),
    ];

    fn schema(&self) -> Schema {
        schema::schema()
    }

    fn validate(&self, config: &Dyn, diags: &mut Diags) {
        validate_config(config, diags);
    }

    fn derived(&self, region: &str, state: &BastionState) -> Vec<(&'static str, Dyn)> {
        state.derived(region)
    }

    fn label(&self, state: &BastionState) -> String {
        format!("bastion {:?}", state.name)
    }

    fn unmade(&self, want: &BastionState) -> BastionState {
        BastionState {
            instance_id: None,
            private_ip: None,
            public_ip: None,
            elastic_ip_id: None,
            security_group_id: None,
            role_arn: None,
            log_group_name: None,
            session_document_name: None,
            port_forward_document_name: None,
            admin_secret_arn: None,
            allow_to: Vec::new(),
            ..want.clone()
        }
    }

    fn has_parts(&self, state: &BastionState) -> bool {
        state.security_group_id.is_some()
            || state.role_arn.is_some()
            || state.instance_id.is_some()
            || state.elastic_ip_id.is_some()
            || state.admin_secret_arn.is_some()
            || state.log_group_name.is_some()
    }

    async fn find(&self, aws: &Aws, hints: &BastionState) -> Result<Option<BastionState>> {
        find::find(aws, hints).await
    }

    async fn plan(
        &self,
        aws: Option<&Aws>,
        prior: Option<&Dyn>,
        mut planned: Dyn,
        config: &Dyn,
        diags: &mut Diags,
    ) -> Dyn {
        let mode = planned.get("mode").as_str().map(str::to_string);
        let openvpn = mode.as_deref() == Some("openvpn");
        // Defaults where the configuration leaves a setting out (Terraform
        // proposes the prior value there, which may be drift read back).
        if config.get("instance_type").is_null() {
            planned.set(
                "instance_type",
                match mode.as_deref() {
                    Some("openvpn") => OPENVPN_INSTANCE_TYPE.into(),
                    Some(_) => SSM_INSTANCE_TYPE.into(),
                    None => Dyn::Unknown,
                },
            );
        }
        if let Some(mut p) = first(&planned, "port_forward") {
            let given = first(config, "port_forward").unwrap_or(Dyn::Null);
            if given.get("local_port").is_null() {
                p.set("local_port", p.get("port").clone());
            }
            planned.set("port_forward", Dyn::List(vec![p]));
        }
        if let Some(aws) = aws {
            check_plan(aws, config, diags).await;
        }
        if config.get("ami_id").is_null() {
            let ami = match (aws, mode.as_deref()) {
                (Some(aws), Some(mode)) => latest_ami(aws, mode, diags).await,
                _ => Dyn::Unknown,
            };
            planned.set("ami_id", ami);
        }
        if !openvpn {
            planned.set("vpn_routes", Dyn::Null);
        } else if config.get("vpn_routes").is_null() {
            let routes = match (aws, planned.get("vpc_id").as_str()) {
                (Some(aws), Some(vpc)) => match ec2::find_vpc(&aws.ec2, vpc).await {
                    Ok(Some(v)) => Dyn::from_strings([v.cidr_block]),
                    Ok(None) => Dyn::Unknown,
                    Err(e) => {
                        diags.attr_error(
                            AttrPath::attr("vpc_id"),
                            "Cannot read the VPC",
                            e.to_string(),
                        );
                        Dyn::Unknown
                    }
                },
                _ => Dyn::Unknown,
            };
            planned.set("vpn_routes", routes);
        }
        plan_parts(prior, &mut planned, openvpn, mode.is_none());
        planned
    }

    async fn create(&self, aws: &Aws, cur: &mut BastionState, want: &BastionState) -> Result<()> {
        converge::create_all(aws, cur, want).await
    }

    async fn update(&self, aws: &Aws, cur: &mut BastionState, want: &BastionState) -> Result<()> {
        converge::update_all(aws, cur, want).await
    }

    async fn delete(&self, aws: &Aws, cur: &BastionState) -> Result<()> {
        converge::delete_all(aws, cur).await
    }

    async fn import(&self, aws: &Aws, id: &str, diags: &mut Diags) -> Option<BastionState> {
        if let Some(why) = rules::name(id) {
            diags.error(
                "Invalid import ID",
                format!("Import a fansite_bastion by its name. {why}"),
            );
            return None;
        }
        match find::by_name(aws, id).await {
            Ok(Some(found)) => Some(found),
            Ok(None) => {
                diags.error(
                    "Cannot import non-existent bastion",
                    format!(
                        "No instance made by fansite_bastion {id:?} was found in {}.",
                        aws.region
                    ),
                );
                None
            }
            Err(e) => {
                e.report(diags);
                None
            }
        }
    }
}

impl BastionState {
    /// The outputs computed from the other attributes.
    pub fn derived(&self, region: &str) -> Vec<(&'static str, Dyn)> {
        let opt = |v: Option<String>| v.map(Dyn::from).unwrap_or(Dyn::Null);
        vec![
            (
                "developer_policy_json",
                opt((!self.openvpn())
                    .then(|| self.developer_policy(region))
                    .flatten()),
            ),
            (
                "port_forward_command",
                opt((!self.openvpn())
                    .then(|| self.port_forward_command(region))
                    .flatten()),
            ),
            (
                "admin_url",
                opt(self
                    .openvpn()
                    .then(|| {
                        self.public_ip
                            .as_ref()
                            .map(|ip| format!("https://{ip}:943/admin"))
                    })
                    .flatten()),
            ),
        ]
    }
}

fn first(v: &Dyn, name: &str) -> Option<Dyn> {
    v.get(name).as_list().and_then(|l| l.first()).cloned()
}

/// The AMI a host of `mode` gets when `ami_id` is left out: looked up at
/// each plan, so that a new one shows as a change.
async fn latest_ami(aws: &Aws, mode: &str, diags: &mut Diags) -> Dyn {
    let path = AttrPath::attr("ami_id");
    if mode == "openvpn" {
        match instance::marketplace_ami(&aws.ec2, OPENVPN_PRODUCT_CODE).await {
            Ok(Some(ami)) => ami.into(),
            Ok(None) => {
                diags.attr_error(path, "No OpenVPN Access Server AMI", format!("No AMI of the AWS Marketplace product {OPENVPN_PRODUCT_CODE} (OpenVPN Access Server) is available in {}: subscribe the account to it in the AWS Marketplace, or give ami_id.", aws.region));
                Dyn::Unknown
            }
            Err(e) => {
                diags.attr_error(path, "Cannot find the AMI", e.to_string());
                Dyn::Unknown
            }
        }
    } else {
        match ssm::parameter(&aws.ssm, SSM_AMI_PARAMETER).await {
            Ok(Some(ami)) => ami.into(),
            Ok(None) => {
                diags.attr_error(path, "No Amazon Linux AMI", format!("The public parameter {SSM_AMI_PARAMETER} does not exist in {}: give ami_id.", aws.region));
                Dyn::Unknown
            }
            Err(e) => {
                diags.attr_error(path, "Cannot find the AMI", e.to_string());
                Dyn::Unknown
            }
        }
    }
}

/// Which computed values change: a new host when what it is launched with
/// changes; the mode's own parts made again when read found them gone.
fn plan_parts(prior: Option<&Dyn>, planned: &mut Dyn, openvpn: bool, mode_unknown: bool) {
    const SSM_PARTS: [&str; 2] = ["log_group_name", "session_document_name"];
    const VPN_PARTS: [&str; 4] = [
        "elastic_ip_id",
        "public_ip",
        "admin_secret_arn",
        "admin_url",
    ];
    if mode_unknown {
        for p in SSM_PARTS
            .iter()
            .chain(&VPN_PARTS)
            .chain(&["port_forward_document_name"])
        {
            planned.set(p, Dyn::Unknown);
        }
        return;
    }
    let (ours, others): (&[&str], &[&str]) = if openvpn {
        (&VPN_PARTS, &SSM_PARTS)
    } else {
        (&SSM_PARTS, &VPN_PARTS)
    };
    for p in others {
        planned.set(p, Dyn::Null);
    }
    let forward = !openvpn
        && !planned
            .get("port_forward")
            .as_list()
            .unwrap_or_default()
            .is_empty();
    if !forward {
        planned.set("port_forward_document_name", Dyn::Null);
        planned.set("port_forward_command", Dyn::Null);
    }
    if openvpn {
        planned.set("developer_policy_json", Dyn::Null);
    }
    let Some(prior) = prior else {
        return;
    };
    for p in ours {
        if prior.get(p).is_null() {
            planned.set(p, Dyn::Unknown);
        }
    }
    if forward && prior.get("port_forward_document_name").is_null() {
        planned.set("port_forward_document_name", Dyn::Unknown);
    }
    // A new host: a new id and address, and the outputs that name it.
    let host_changes = match (
        typed::decode::<BastionState>(prior),
        typed::decode::<BastionState>(planned),
    ) {
        (Ok(before), Ok(after)) => {
            before.host_differs(&after)
                || ["ami_id", "instance_type", "subnet_id", "vpn_routes"]
                    .iter()
                    .any(|a| planned.get(a).is_unknown())
        }
        _ => true,
    };
    let forward_changes = prior.get("port_forward") != planned.get("port_forward");
    if host_changes {
        planned.set("instance_id", Dyn::Unknown);
        planned.set("private_ip", Dyn::Unknown);
    }
    if !openvpn && (host_changes || forward_changes) {
        planned.set("developer_policy_json", Dyn::Unknown);
        if forward {
            planned.set("port_forward_command", Dyn::Unknown);
        }
    }
}

/// Checks that need AWS: the subnet exists and is in the VPC.
async fn check_plan(aws: &Aws, config: &Dyn, diags: &mut Diags) {
    let (Some(vpc), Some(subnet)) = (
        config.get("vpc_id").as_str(),
        config.get("subnet_id").as_str(),
    ) else {
        return;
    };
    let path = AttrPath::attr("subnet_id");
    match ec2::subnet_vpcs(&aws.ec2, &[subnet.to_string()]).await {
        Ok(vpcs) => match vpcs.get(subnet) {
            None => diags.attr_error(
                path,
                "Unknown subnet",
                format!("Subnet {subnet} was not found in {}.", aws.region),
            ),
            Some(v) if v != vpc => diags.attr_error(
                path,
                "Subnet outside the VPC",
                format!("Subnet {subnet} is in {v}, not in vpc_id {vpc}."),
            ),
            Some(_) => {}
        },
        Err(e) if e.is_not_found() => diags.attr_error(
            path,
            "Unknown subnet",
            format!("Subnet {subnet} was not found in {}.", aws.region),
        ),
        Err(e) => diags.attr_error(path, "Unknown subnet", e.to_string()),
    }
}

fn validate_config(config: &Dyn, diags: &mut Diags) {
    let a = AttrPath::attr;
    let mode = config.get("mode");
    let openvpn = mode.as_str() == Some("openvpn");
    let ssm = mode.is_null() || mode.as_str() == Some("ssm");
    if openvpn && config.get("allowed_cidrs").is_null() {
        diags.attr_error(a("allowed_cidrs"), "Missing allowed_cidrs", "With mode = \"openvpn\", list the IPv4 ranges that may reach the VPN in allowed_cidrs, such as the office's: it is never open to the whole internet by default.");
    }
    if let Some(list) = config.get("allowed_cidrs").as_list() {
        if openvpn && list.is_empty() {
            diags.attr_error(
                a("allowed_cidrs"),
                "Missing allowed_cidrs",
                "allowed_cidrs is empty: nobody could reach the VPN.",
            );
        }
    }
    if ssm {
        for (attr, summary) in [
            ("allowed_cidrs", "allowed_cidrs without openvpn"),
            ("vpn_routes", "vpn_routes without openvpn"),
        ] {
            if !config.get(attr).is_null() {
                diags.attr_error(a(attr), summary, format!("{attr} is for mode = \"openvpn\"; with Session Manager the host has no inbound rule at all. Leave it out, or set mode = \"openvpn\"."));
            }
        }
    }
    if openvpn {
        if !config
            .get("port_forward")
            .as_list()
            .unwrap_or_default()
            .is_empty()
        {
            diags.attr_error(a("port_forward").then_index(0).then_attr("host"), "port_forward without ssm", "port_forward is a Session Manager document; with mode = \"openvpn\" clients reach the VPC through the VPN's routes (vpn_routes). Leave it out, or use mode = \"ssm\".");
        }
        if !config.get("session_log_bucket").is_null() {
            diags.attr_error(a("session_log_bucket"), "session_log_bucket without ssm", "Session logs are Session Manager's; with mode = \"openvpn\" there are none. Leave it out.");
        }
    }
    if let Some(why) = config
        .get("session_log_retention_days")
        .as_i64()
        .and_then(crate::aws::logs::retention_refused)
    {
        diags.attr_error(
            a("session_log_retention_days"),
            "Invalid session_log_retention_days",
            why,
        );
    }
    if let Some(tags) = config.get("tags").as_map() {
        for key in tags.keys() {
            if key.to_ascii_lowercase().starts_with("aws:") {
                diags.attr_error(
                    a("tags").then_key(key),
                    "Reserved tag key",
                    format!("{key:?}: keys starting with \"aws:\" are reserved by AWS."),
                );
            } else if key == "Name" {
                diags.attr_error(
                    a("tags").then_key(key),
                    "Reserved tag key",
                    "\"Name\" is set on each part from `name`.",
                );
            }
        }
    }
}

/// The rules declared on single attributes (`Attribute::rule`).
pub(crate) mod rules {
    pub fn name(name: &str) -> Option<String> {
        let ok = !name.is_empty()
            && name.len() <= 32
            && name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !name.ends_with('-');
        (!ok).then(|| format!("{name:?}: use 1 to 32 lowercase letters, digits and '-', starting with a letter and not ending with '-'."))
    }

    pub fn ami(ami: &str) -> Option<String> {
        let ok = ami.strip_prefix("ami-").is_some_and(|rest| {
            !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric())
        });
        (!ok).then(|| format!("{ami:?} is not an AMI ID such as \"ami-0123456789abcdef0\"."))
    }

    pub fn cidr(cidr: &str) -> Option<String> {
        match cidr.parse::<ipnet::Ipv4Net>() {
            Ok(net) if net.trunc() == net => None,
            Ok(net) => Some(format!("{cidr:?} has host bits set: use {}.", net.trunc())),
            Err(_) => Some(format!(
                "{cidr:?} is not an IPv4 CIDR block such as \"203.0.113.0/24\"."
            )),
        }
    }
}
