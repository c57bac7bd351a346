//! The network's state: the inputs, and the ids of every part made so far.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::value::Dyn;

pub use crate::resources::Tags;

/// Tag on every part saying which part it is, so that read, import and delete
/// find the parts in the VPC whatever the state says.
pub const PART_TAG: &str = "fansite:part";
/// Tag on a private route table saying which zone it serves.
pub const AZ_TAG: &str = "fansite:az";

pub const PUBLIC_SUBNET: &str = "public-subnet";
pub const PRIVATE_SUBNET: &str = "private-subnet";
pub const PUBLIC_ROUTE_TABLE: &str = "public-route-table";
pub const PRIVATE_ROUTE_TABLE: &str = "private-route-table";
pub const NAT_GATEWAY: &str = "nat-gateway";
pub const NAT_EIP: &str = "nat-eip";
pub const INTERNET_GATEWAY: &str = "internet-gateway";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NatStrategy {
    Single,
    PerAz,
    None,
}

impl NatStrategy {
    /// Every value `nat_strategy` takes.
    pub const NAMES: &'static [&'static str] = &["single", "per_az", "none"];

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "single" => Some(NatStrategy::Single),
            "per_az" => Some(NatStrategy::PerAz),
            "none" => Some(NatStrategy::None),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            NatStrategy::Single => "single",
            NatStrategy::PerAz => "per_az",
            NatStrategy::None => "none",
        }
    }
}

/// The parts of one availability zone.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AzParts {
    pub public_subnet_id: Option<String>,
    pub private_subnet_id: Option<String>,
    pub private_route_table_id: Option<String>,
    pub nat_gateway_id: Option<String>,
    pub nat_eip_allocation_id: Option<String>,
}

/// The network as the schema has it. `subnets_by_az` is read into `azs` and
/// written, with each zone's CIDRs, by [`NetworkState::derived`], as are the
/// id lists.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkState {
    pub name: String,
    pub cidr_block: String,
    pub availability_zones: Vec<String>,
    /// As configured; may read back as `partial` when NAT gateways were removed behind our back.
    pub nat_strategy: String,
    pub public_subnet_cidrs: BTreeMap<String, String>,
    pub private_subnet_cidrs: BTreeMap<String, String>,
    /// `None` when the configuration leaves `tags` out.
    pub tags: Option<Tags>,
    pub tags_all: Tags,
    pub vpc_id: Option<String>,
    pub internet_gateway_id: Option<String>,
    pub public_route_table_id: Option<String>,
    #[serde(rename = "subnets_by_az", skip_serializing)]
    pub azs: BTreeMap<String, AzParts>,
}

impl Default for NetworkState {
    fn default() -> Self {
        NetworkState {
            name: String::new(),
            cidr_block: String::new(),
            availability_zones: Vec::new(),
            nat_strategy: NatStrategy::Single.as_str().into(),
            public_subnet_cidrs: BTreeMap::new(),
            private_subnet_cidrs: BTreeMap::new(),
            tags: None,
            tags_all: Tags::new(),
            vpc_id: None,
            internet_gateway_id: None,
            public_route_table_id: None,
            azs: BTreeMap::new(),
        }
    }
}

impl NetworkState {
    pub fn strategy(&self) -> NatStrategy {
        NatStrategy::parse(&self.nat_strategy).unwrap_or(NatStrategy::Single)
    }

    /// The zones in `availability_zones` order, then any others that have parts.
    fn zones_in_order(&self) -> Vec<&String> {
        let mut out: Vec<&String> = self.availability_zones.iter().collect();
        out.extend(
            self.azs
                .keys()
                .filter(|az| !self.availability_zones.contains(az)),
        );
        out
    }

    /// `subnets_by_az` and the id lists, in `availability_zones` order.
    pub fn derived(&self) -> Vec<(&'static str, Dyn)> {
        let zones = self.zones_in_order();
        let ids = |f: fn(&AzParts) -> &Option<String>| {
            Dyn::from_strings(
                zones
                    .iter()
                    .filter_map(|az| self.azs.get(*az).and_then(|p| f(p).clone())),
            )
        };
        let mut by_az = Dyn::obj();
        for az in &zones {
            let Some(p) = self.azs.get(*az) else { continue };
            let mut o = crate::typed::encode(p).unwrap_or_default();
            o.set(
                "public_cidr",
                self.public_subnet_cidrs.get(*az).cloned().into(),
            );
            o.set(
                "private_cidr",
                self.private_subnet_cidrs.get(*az).cloned().into(),
            );
            by_az.set(az, o);
        }
        vec![
            ("public_subnet_ids", ids(|p| &p.public_subnet_id)),
            ("private_subnet_ids", ids(|p| &p.private_subnet_id)),
            ("nat_gateway_ids", ids(|p| &p.nat_gateway_id)),
            ("subnets_by_az", by_az),
        ]
    }

    /// Tags for the VPC itself.
    pub fn vpc_tags(&self) -> Tags {
        let mut t = self.tags_all.clone();
        t.insert("Name".into(), self.name.clone());
        t
    }

    /// Tags for a part: all tags, its own `Name`, and which part it is.
    pub fn part_tags(&self, part: &str, az: Option<&str>) -> Tags {
        let mut t = self.tags_all.clone();
        let name = match az {
            Some(az) => format!("{}-{}-{}", self.name, part, az),
            None => format!("{}-{}", self.name, part),
        };
        t.insert("Name".into(), name);
        t.insert(PART_TAG.into(), part.into());
        if let Some(az) = az {
            t.insert(AZ_TAG.into(), az.into());
        }
        t
    }
}
