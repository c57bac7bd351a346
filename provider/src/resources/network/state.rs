//! The network's state: the inputs, and the ids of every part made so far.

use std::collections::BTreeMap;

use crate::value::Dyn;

pub type Tags = BTreeMap<String, String>;

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
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AzParts {
    pub public_subnet_id: Option<String>,
    pub private_subnet_id: Option<String>,
    pub private_route_table_id: Option<String>,
    pub nat_gateway_id: Option<String>,
    pub nat_eip_allocation_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
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
    pub azs: BTreeMap<String, AzParts>,
    pub timeouts: Dyn,
}

fn opt(s: &Option<String>) -> Dyn {
    s.clone().map_or(Dyn::Null, Dyn::String)
}

fn opt_str(v: &Dyn) -> Option<String> {
    v.as_str().map(str::to_string)
}

impl NetworkState {
    /// From a state or a fully known plan.
    pub fn from_dyn(v: &Dyn) -> Self {
        let mut azs = BTreeMap::new();
        if let Some(m) = v.get("subnets_by_az").as_map() {
            for (az, p) in m {
                azs.insert(
                    az.clone(),
                    AzParts {
                        public_subnet_id: opt_str(p.get("public_subnet_id")),
                        private_subnet_id: opt_str(p.get("private_subnet_id")),
                        private_route_table_id: opt_str(p.get("private_route_table_id")),
                        nat_gateway_id: opt_str(p.get("nat_gateway_id")),
                        nat_eip_allocation_id: opt_str(p.get("nat_eip_allocation_id")),
                    },
                );
            }
        }
        NetworkState {
            name: v.get("name").as_str().unwrap_or_default().to_string(),
            cidr_block: v.get("cidr_block").as_str().unwrap_or_default().to_string(),
            availability_zones: v.get("availability_zones").string_list(),
            nat_strategy: v
                .get("nat_strategy")
                .as_str()
                .unwrap_or("single")
                .to_string(),
            public_subnet_cidrs: v.get("public_subnet_cidrs").string_map(),
            private_subnet_cidrs: v.get("private_subnet_cidrs").string_map(),
            tags: v.get("tags").as_map().map(|_| v.get("tags").string_map()),
            tags_all: v.get("tags_all").string_map(),
            vpc_id: opt_str(v.get("vpc_id")),
            internet_gateway_id: opt_str(v.get("internet_gateway_id")),
            public_route_table_id: opt_str(v.get("public_route_table_id")),
            azs,
            timeouts: v.get("timeouts").clone(),
        }
    }

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

    pub fn to_dyn(&self) -> Dyn {
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
            let mut o = Dyn::obj();
            o.set("public_subnet_id", opt(&p.public_subnet_id));
            o.set("private_subnet_id", opt(&p.private_subnet_id));
            o.set(
                "public_cidr",
                self.public_subnet_cidrs.get(*az).cloned().into(),
            );
            o.set(
                "private_cidr",
                self.private_subnet_cidrs.get(*az).cloned().into(),
            );
            o.set("private_route_table_id", opt(&p.private_route_table_id));
            o.set("nat_gateway_id", opt(&p.nat_gateway_id));
            o.set("nat_eip_allocation_id", opt(&p.nat_eip_allocation_id));
            by_az.set(az, o);
        }
        let mut v = Dyn::obj();
        v.set("name", self.name.as_str().into());
        v.set("cidr_block", self.cidr_block.as_str().into());
        v.set(
            "availability_zones",
            Dyn::from_strings(self.availability_zones.iter().cloned()),
        );
        v.set("nat_strategy", self.nat_strategy.as_str().into());
        v.set(
            "public_subnet_cidrs",
            Dyn::from_string_map(self.public_subnet_cidrs.iter()),
        );
        v.set(
            "private_subnet_cidrs",
            Dyn::from_string_map(self.private_subnet_cidrs.iter()),
        );
        v.set(
            "tags",
            self.tags
                .as_ref()
                .map_or(Dyn::Null, |t| Dyn::from_string_map(t.iter())),
        );
        v.set("tags_all", Dyn::from_string_map(self.tags_all.iter()));
        v.set("vpc_id", opt(&self.vpc_id));
        v.set("internet_gateway_id", opt(&self.internet_gateway_id));
        v.set("public_route_table_id", opt(&self.public_route_table_id));
        v.set("public_subnet_ids", ids(|p| &p.public_subnet_id));
        v.set("private_subnet_ids", ids(|p| &p.private_subnet_id));
        v.set("nat_gateway_ids", ids(|p| &p.nat_gateway_id));
        v.set("subnets_by_az", by_az);
        v.set("timeouts", self.timeouts.clone());
        v
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
