use crate::schema::{Attribute, Block, Schema, Ty};

use super::rules;

pub fn az_parts_type() -> Ty {
    Ty::Object(vec![
        ("public_subnet_id", Ty::String),
        ("private_subnet_id", Ty::String),
        ("public_cidr", Ty::String),
        ("private_cidr", Ty::String),
        ("private_route_table_id", Ty::String),
        ("nat_gateway_id", Ty::String),
        ("nat_eip_allocation_id", Ty::String),
    ])
}

pub fn schema() -> Schema {
    Schema {
        version: 1,
        block: Block {
            description: "A VPC across availability zones with a public and a private subnet in each, an internet gateway, route tables and NAT. Subnets and NAT gateways are keyed by availability zone: adding or removing a zone leaves the others untouched.".into(),
            attributes: vec![
                Attribute::required("name", Ty::String, "Name of the network: the VPC's `Name` tag and the prefix of every part's `Name` tag. Letters, digits, `-`, `_` and `.`, at most 64.").rule(rules::name, "1 to 64 letters, digits, `-`, `_` or `.`"),
                Attribute::required("cidr_block", Ty::String, "IPv4 CIDR block of the VPC, with a prefix from /16 to /28, such as `10.0.0.0/16`. Changing it replaces the network.").force_new().rule(rules::vpc_cidr, "an IPv4 network block with a prefix from /16 to /28"),
                Attribute::optional_computed("availability_zones", Ty::list_of_strings(), "Availability zones to span, such as `[\"ap-northeast-2a\", \"ap-northeast-2c\"]`. Default: the region's first two. Adding or removing a zone updates in place.").rule(rules::zone_name, "zone names such as `us-east-1a`"),
                Attribute::optional_computed("nat_strategy", Ty::String, "Egress for the private subnets: `single` (one NAT gateway, the cost choice), `per_az` (one per zone, survives a zone outage) or `none`. Changes in place; a new NAT gateway is routed before an old one is removed.").default("single").one_of(super::NatStrategy::NAMES),
                Attribute::optional_computed("public_subnet_cidrs", Ty::map_of_strings(), "CIDR of the public subnet in each zone, keyed by zone; when given, it names every zone. Default: computed from `cidr_block` by the zone's letter (`a` takes the first /+4 block, `b` the second, ...), so that a zone's CIDR never depends on the other zones. Changing the CIDR of an existing zone replaces the network.").rule(rules::subnet_cidr, "IPv4 CIDR blocks inside `cidr_block`"),
                Attribute::optional_computed("private_subnet_cidrs", Ty::map_of_strings(), "CIDR of the private subnet in each zone, keyed by zone; when given, it names every zone. Default: computed from `cidr_block` by the zone's letter, after the public blocks (`a` takes block 8, `b` block 9, ...). Changing the CIDR of an existing zone replaces the network.").rule(rules::subnet_cidr, "IPv4 CIDR blocks inside `cidr_block`"),
                Attribute::optional("tags", Ty::map_of_strings(), "Tags for every part, on top of the provider's `default_tags`. `Name` is set from `name`, and keys starting with `fansite:` are reserved."),
                Attribute::computed("tags_all", Ty::map_of_strings(), "All tags on the VPC: the provider's `default_tags` overlaid with `tags`."),
                Attribute::computed("vpc_id", Ty::String, "ID of the VPC."),
                Attribute::computed("internet_gateway_id", Ty::String, "ID of the internet gateway."),
                Attribute::computed("public_route_table_id", Ty::String, "ID of the route table of the public subnets (default route to the internet gateway)."),
                Attribute::computed("public_subnet_ids", Ty::list_of_strings(), "IDs of the public subnets, in the order of `availability_zones`."),
                Attribute::computed("private_subnet_ids", Ty::list_of_strings(), "IDs of the private subnets, in the order of `availability_zones`."),
                Attribute::computed("nat_gateway_ids", Ty::list_of_strings(), "IDs of the NAT gateways, in the order of their zones in `availability_zones`."),
                Attribute::computed("subnets_by_az", Ty::Map(Box::new(az_parts_type())), "Every part of each zone, keyed by zone: subnet IDs and CIDRs, the private route table, and the NAT gateway and its elastic IP where the zone has one (else null)."),
            ],
            blocks: vec![],
        },
    }
}
