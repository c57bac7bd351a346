//! `fansite_network`: VPC, subnets per zone, internet gateway, route tables, NAT.
//!
//! Lifecycle in order: schema, validate, read, plan, create, update, delete, import.

mod converge;
mod find;
mod schema;
mod state;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use ipnet::Ipv4Net;

use crate::aws::{ec2, Aws};
use crate::diag::{AttrPath, Diags};
use crate::driver::{Composite, Timeouts};
use crate::error::Result;
use crate::resource::Identity;
use crate::schema::Schema;
use crate::value::Dyn;

pub use state::{NatStrategy, NetworkState};

/// NAT gateways take 1–5 minutes to become available (AWS documentation); two
/// of them in sequence plus the rest of the parts fit well in 30 minutes.
pub const DEFAULT_CREATE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// An update may add and remove NAT gateways: the same bound as create.
pub const DEFAULT_UPDATE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// Deleting a NAT gateway takes up to a few minutes; the VPC waits for it.
pub const DEFAULT_DELETE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// How many extra bits the computed subnets take from `cidr_block`: 16 blocks,
/// the first 8 public (zones a–h) and the last 8 private.
const SUBNET_NEWBITS: u8 = 4;
const PRIVATE_OFFSET: usize = 8;
const MAX_ZONE_INDEX: usize = 7;

pub struct NetworkResource;

#[async_trait]
impl Composite for NetworkResource {
    type State = NetworkState;
    const NAME: &'static str = "network";
    const TIMEOUTS: Timeouts = Timeouts {
        create: DEFAULT_CREATE_TIMEOUT,
        update: DEFAULT_UPDATE_TIMEOUT,
        delete: DEFAULT_DELETE_TIMEOUT,
    };

    fn schema(&self) -> Schema {
        schema::schema()
    }

    fn validate(&self, config: &Dyn, diags: &mut Diags) {
        validate_config(config, diags);
    }

    fn derived(&self, _region: &str, state: &NetworkState) -> Vec<(&'static str, Dyn)> {
        state.derived()
    }

    fn label(&self, state: &NetworkState) -> String {
        format!("network {:?}", state.name)
    }

    fn unmade(&self, want: &NetworkState) -> NetworkState {
        NetworkState {
            vpc_id: None,
            internet_gateway_id: None,
            public_route_table_id: None,
            azs: BTreeMap::new(),
            ..want.clone()
        }
    }

    fn has_parts(&self, state: &NetworkState) -> bool {
        state.vpc_id.is_some()
    }

    async fn find(&self, aws: &Aws, hints: &NetworkState) -> Result<Option<NetworkState>> {
        find::find_network(aws, hints).await
    }

    async fn plan(
        &self,
        aws: Option<&Aws>,
        prior: Option<&Dyn>,
        mut planned: Dyn,
        config: &Dyn,
        diags: &mut Diags,
    ) -> Dyn {
        // The region's zones: the default, and the check of the configured ones.
        // Neither is needed when the zones are left out and already in state.
        let wants_default = config.get("availability_zones").is_null() && prior.is_none();
        let configured_zones = config.get("availability_zones").as_list().is_some();
        let region_zones = match aws.filter(|_| wants_default || configured_zones) {
            Some(aws) => match ec2::availability_zones(&aws.ec2).await {
                Ok(zones) => Some((zones, aws.region.clone())),
                Err(e) => {
                    e.report(diags);
                    None
                }
            },
            None => None,
        };
        if wants_default {
            let zones = match &region_zones {
                Some((zones, _)) => Dyn::from_strings(zones.iter().take(2).cloned()),
                None => Dyn::Unknown,
            };
            planned.set("availability_zones", zones);
        }
        if let (Some((zones, region)), Some(configured)) =
            (&region_zones, config.get("availability_zones").as_list())
        {
            for (i, z) in configured.iter().enumerate() {
                let Some(z) = z.as_str() else { continue };
                if !zones.iter().any(|r| r == z) {
                    diags.attr_error(
                        AttrPath::attr("availability_zones").then_index(i),
                        "Unknown availability zone",
                        format!(
                            "{z:?} is not an available zone in {region}; use one of {}.",
                            zones.join(", ")
                        ),
                    );
                }
            }
        }
        plan_cidrs(&mut planned, prior, config, diags);
        if let Some(prior) = prior {
            let topology = [
                "availability_zones",
                "nat_strategy",
                "public_subnet_cidrs",
                "private_subnet_cidrs",
            ];
            if topology.iter().any(|a| planned.get(a) != prior.get(a)) {
                for out in [
                    "public_subnet_ids",
                    "private_subnet_ids",
                    "nat_gateway_ids",
                    "subnets_by_az",
                ] {
                    planned.set(out, Dyn::Unknown);
                }
            }
        }
        planned
    }

    fn replace_paths(&self, prior: &Dyn, planned: &Dyn) -> Vec<AttrPath> {
        // A subnet's CIDR cannot change in place: changing an existing zone's CIDR replaces.
        let mut out = Vec::new();
        for attr in ["public_subnet_cidrs", "private_subnet_cidrs"] {
            let (before, after) = (prior.get(attr).string_map(), planned.get(attr));
            let Some(after) = after.as_map() else {
                continue;
            };
            if after.iter().any(|(az, cidr)| {
                before
                    .get(az)
                    .is_some_and(|b| Some(b.as_str()) != cidr.as_str())
            }) {
                out.push(AttrPath::attr(attr));
            }
        }
        out
    }

    async fn create(&self, aws: &Aws, cur: &mut NetworkState, want: &NetworkState) -> Result<()> {
        converge::converge(aws, cur, want).await
    }

    async fn update(&self, aws: &Aws, cur: &mut NetworkState, want: &NetworkState) -> Result<()> {
        converge::converge(aws, cur, want).await
    }

    async fn delete(&self, aws: &Aws, cur: &NetworkState) -> Result<()> {
        converge::delete_all(aws, cur).await
    }

    async fn import(&self, aws: &Aws, id: &str, diags: &mut Diags) -> Option<NetworkState> {
        if !id.starts_with("vpc-") {
            diags.error(
                "Invalid import ID",
                format!("{id:?} is not a VPC ID; import a fansite_network by its VPC ID, such as \"vpc-0123456789abcdef0\"."),
            );
            return None;
        }
        let hints = NetworkState::default();
        let hints = NetworkState {
            vpc_id: Some(id.to_string()),
            ..hints
        };
        match find::find_network(aws, &hints).await {
            Ok(Some(found)) if found.azs.is_empty() => {
                diags.error(
                    "Cannot import a VPC that fansite_network did not make",
                    format!(
                        "VPC {id} has no subnets tagged {}: only a network made by fansite_network can be imported, since its parts are found by those tags.",
                        state::PART_TAG
                    ),
                );
                None
            }
            Ok(Some(found)) => Some(found),
            Ok(None) => {
                diags.error(
                    "Cannot import non-existent network",
                    format!("No VPC {id} was found in {}.", aws.region),
                );
                None
            }
            Err(e) => {
                e.report(diags);
                None
            }
        }
    }

    /// The VPC, as import takes it.
    const IDENTITY: Option<Identity> = Some(Identity {
        regional: true,
        attributes: &[("vpc_id", "ID of the VPC.")],
        of_state: identity_of,
        import_id: import_id_of,
    });

    async fn list(&self, aws: &Aws) -> Result<Option<Vec<String>>> {
        find::list_networks(aws).await.map(Some)
    }
}

/// The identity's values in a state: the VPC id, once made.
fn identity_of(state: &Dyn) -> Option<Vec<String>> {
    Some(vec![state.get("vpc_id").as_str()?.to_string()])
}

/// The import id of an identity: its VPC id.
fn import_id_of(values: &[String]) -> String {
    values.concat()
}

/// The rules declared on single attributes (`Attribute::rule`).
pub(crate) mod rules {
    use ipnet::Ipv4Net;

    pub fn name(name: &str) -> Option<String> {
        let ok_chars = name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        (name.is_empty() || name.len() > 64 || !ok_chars)
            .then(|| format!("{name:?}: use 1 to 64 letters, digits, '-', '_' or '.'."))
    }

    pub fn vpc_cidr(c: &str) -> Option<String> {
        super::parse_vpc_cidr(c).err()
    }

    pub fn zone_name(z: &str) -> Option<String> {
        (!super::is_zone_name(z))
            .then(|| format!("{z:?} is not a zone name such as \"us-east-1a\"."))
    }

    /// The block itself; whether it lies inside `cidr_block` is checked across attributes.
    pub fn subnet_cidr(cidr: &str) -> Option<String> {
        cidr.parse::<Ipv4Net>()
            .err()
            .map(|_| format!("{cidr:?} is not an IPv4 CIDR block such as \"10.0.1.0/24\"."))
    }
}

fn validate_config(config: &Dyn, diags: &mut Diags) {
    let vpc = config
        .get("cidr_block")
        .as_str()
        .and_then(|c| parse_vpc_cidr(c).ok());
    if let Some(zones) = config.get("availability_zones").as_list() {
        if zones.is_empty() {
            diags.attr_error(AttrPath::attr("availability_zones"), "No availability zones", "List at least one zone, or leave availability_zones out for the region's first two.");
        }
        let mut seen = Vec::new();
        for (i, z) in zones.iter().enumerate() {
            let Some(z) = z.as_str() else { continue };
            let path = AttrPath::attr("availability_zones").then_index(i);
            if is_zone_name(z) && seen.contains(&z) {
                diags.attr_error(
                    path,
                    "Duplicate availability zone",
                    format!("{z:?} is listed twice."),
                );
            }
            seen.push(z);
        }
    }
    for attr in ["public_subnet_cidrs", "private_subnet_cidrs"] {
        let Some(m) = config.get(attr).as_map() else {
            continue;
        };
        for (az, cidr) in m {
            let Some(cidr) = cidr.as_str() else { continue };
            let path = AttrPath::attr(attr).then_key(az);
            if let (Ok(net), Some(vpc)) = (cidr.parse::<Ipv4Net>(), vpc) {
                if !vpc.contains(&net) {
                    diags.attr_error(
                        path,
                        "Subnet outside the VPC",
                        format!("{cidr} is not inside cidr_block {vpc}."),
                    );
                }
            }
        }
    }
    if let Some(tags) = config.get("tags").as_map() {
        for key in tags.keys() {
            if key == "Name" || key.starts_with("fansite:") {
                diags.attr_error(
                    AttrPath::attr("tags").then_key(key),
                    "Reserved tag key",
                    format!("{key:?} is set by the provider: `Name` comes from `name`, and `fansite:` keys mark the parts."),
                );
            }
        }
    }
}

fn parse_vpc_cidr(c: &str) -> Result<Ipv4Net, String> {
    let net: Ipv4Net = c
        .parse()
        .map_err(|_| format!("{c:?} is not an IPv4 CIDR block such as \"10.0.0.0/16\"."))?;
    if !(16..=28).contains(&net.prefix_len()) {
        return Err(format!("{c}: AWS allows VPC prefixes from /16 to /28."));
    }
    if net.addr() != net.network() {
        return Err(format!(
            "{c} has host bits set; did you mean {}/{}?",
            net.network(),
            net.prefix_len()
        ));
    }
    Ok(net)
}

fn is_zone_name(z: &str) -> bool {
    z.len() > 3
        && z.chars().last().is_some_and(|c| c.is_ascii_lowercase())
        && z.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && z.contains(|c: char| c.is_ascii_digit())
}

/// The computed CIDR of a zone's subnet: the zone letter picks the block.
pub fn computed_subnet(vpc: Ipv4Net, zone: &str, private: bool) -> Result<Ipv4Net, String> {
    let letter = zone.chars().last().unwrap_or('?');
    let index = (letter as usize).wrapping_sub('a' as usize);
    if index > MAX_ZONE_INDEX {
        return Err(format!(
            "zone {zone:?} has no computed subnet (only zones a to h do); give its CIDR in the map"
        ));
    }
    let new_prefix = vpc.prefix_len() + SUBNET_NEWBITS;
    if new_prefix > 28 {
        return Err(format!("cidr_block {vpc} is too small to split into /{new_prefix} subnets; use /24 or larger, or give the subnet CIDRs"));
    }
    let block = index + if private { PRIVATE_OFFSET } else { 0 };
    vpc.subnets(new_prefix)
        .map_err(|e| e.to_string())?
        .nth(block)
        .ok_or_else(|| format!("no block {block} in {vpc}"))
}

/// Plans the two CIDR maps: configured, else kept from the prior state, else computed.
fn plan_cidrs(planned: &mut Dyn, prior: Option<&Dyn>, config: &Dyn, diags: &mut Diags) {
    let zones = planned.get("availability_zones").clone();
    let vpc = planned
        .get("cidr_block")
        .as_str()
        .and_then(|c| parse_vpc_cidr(c).ok());
    let (Some(zone_list), Some(vpc)) = (zones.as_list().filter(|_| !zones.has_unknown()), vpc)
    else {
        for attr in ["public_subnet_cidrs", "private_subnet_cidrs"] {
            if config.get(attr).is_null() || config.get(attr).has_unknown() {
                planned.set(attr, Dyn::Unknown);
            }
        }
        return;
    };
    let zone_list: Vec<String> = zone_list
        .iter()
        .filter_map(|z| z.as_str().map(str::to_string))
        .collect();
    // (path, block, whether the configuration gave it)
    let mut all: Vec<(AttrPath, Ipv4Net, bool)> = Vec::new();
    for (attr, private) in [
        ("public_subnet_cidrs", false),
        ("private_subnet_cidrs", true),
    ] {
        if config.get(attr).has_unknown() {
            planned.set(attr, Dyn::Unknown);
            continue;
        }
        let given = config.get(attr).as_map().is_some();
        let configured = config.get(attr).string_map();
        for az in configured.keys().filter(|az| !zone_list.contains(az)) {
            diags.attr_error(
                AttrPath::attr(attr).then_key(az),
                "Zone not in availability_zones",
                format!(
                    "{az:?} has a CIDR but is not one of the network's zones ({}).",
                    zone_list.join(", ")
                ),
            );
        }
        // A given map is the whole answer: Terraform plans exactly what is configured.
        if given {
            for az in zone_list.iter().filter(|az| !configured.contains_key(*az)) {
                diags.attr_error(
                    AttrPath::attr(attr),
                    "Missing subnet CIDR",
                    format!("No CIDR for zone {az:?}: give one for every zone in availability_zones, or leave {attr} out to have them computed."),
                );
            }
            for (az, cidr) in &configured {
                if let Ok(net) = cidr.parse::<Ipv4Net>() {
                    all.push((AttrPath::attr(attr).then_key(az), net, true));
                }
            }
            continue;
        }
        let kept = prior.map(|p| p.get(attr).string_map()).unwrap_or_default();
        let mut out = BTreeMap::new();
        for az in &zone_list {
            let cidr = match kept.get(az) {
                Some(c) => c.clone(),
                None => match computed_subnet(vpc, az, private) {
                    Ok(net) => net.to_string(),
                    Err(why) => {
                        diags.attr_error(AttrPath::attr(attr), "Cannot compute subnet CIDR", why);
                        continue;
                    }
                },
            };
            if let Ok(net) = cidr.parse::<Ipv4Net>() {
                all.push((AttrPath::attr(attr), net, false));
            }
            out.insert(az.clone(), cidr);
        }
        planned.set(attr, Dyn::from_string_map(out.iter()));
    }
    for (i, (path, a, a_given)) in all.iter().enumerate() {
        let earlier = all[..i]
            .iter()
            .find(|(_, b, _)| a.contains(&b.network()) || b.contains(&a.network()));
        if let Some((b_path, b, b_given)) = earlier {
            // Point at the block the configuration gave, so Terraform shows that line.
            let at = if *a_given || !*b_given { path } else { b_path };
            diags.attr_error(
                at.clone(),
                "Overlapping subnets",
                format!("{a} overlaps {b}; every subnet needs its own block."),
            );
        }
    }
}
