//! Reading a network back from AWS: for refresh, import, and after a failure.

use std::collections::BTreeMap;

use crate::aws::ec2::{self};
use crate::aws::Aws;
use crate::error::Result;

use super::state::*;
use crate::resources::{null_if_unset, own_tags};

/// The network as AWS has it, found from the VPC id in `hints`. `None` when the
/// VPC is gone. `hints` (the prior state) gives the zone order and the
/// configured form of things AWS cannot tell apart.
pub async fn find_network(aws: &Aws, hints: &NetworkState) -> Result<Option<NetworkState>> {
    let c = &aws.ec2;
    let Some(vpc_id) = &hints.vpc_id else {
        return Ok(None);
    };
    let Some(vpc) = ec2::find_vpc(c, vpc_id).await? else {
        return Ok(None);
    };
    let parts = ec2::vpc_parts(c, vpc_id).await?;
    let hinted = |id: &Option<String>, actual: &str| id.as_deref() == Some(actual);
    let part_of = |tags: &Tags| tags.get(PART_TAG).cloned().unwrap_or_default();

    let mut azs: BTreeMap<String, AzParts> = BTreeMap::new();
    let mut public_cidrs = BTreeMap::new();
    let mut private_cidrs = BTreeMap::new();
    for s in &parts.subnets {
        let hint = hints.azs.get(&s.az).cloned().unwrap_or_default();
        let p = azs.entry(s.az.clone()).or_default();
        if part_of(&s.tags) == PUBLIC_SUBNET || hinted(&hint.public_subnet_id, &s.id) {
            p.public_subnet_id = Some(s.id.clone());
            public_cidrs.insert(s.az.clone(), s.cidr.clone());
        } else if part_of(&s.tags) == PRIVATE_SUBNET || hinted(&hint.private_subnet_id, &s.id) {
            p.private_subnet_id = Some(s.id.clone());
            private_cidrs.insert(s.az.clone(), s.cidr.clone());
        }
    }
    azs.retain(|_, p| p.public_subnet_id.is_some() || p.private_subnet_id.is_some());
    // A NAT gateway deleted behind our back leaves its elastic IP: keep its id
    // so that the repair reuses it (or, if it is gone too, makes a new one).
    for (az, p) in azs.iter_mut() {
        p.nat_eip_allocation_id = hints
            .azs
            .get(az)
            .and_then(|h| h.nat_eip_allocation_id.clone());
    }

    let mut public_route_table_id = None;
    for rt in &parts.route_tables {
        let az = rt.tags.get(AZ_TAG).cloned().or_else(|| {
            hints
                .azs
                .iter()
                .find(|(_, p)| hinted(&p.private_route_table_id, &rt.id))
                .map(|(az, _)| az.clone())
        });
        if part_of(&rt.tags) == PUBLIC_ROUTE_TABLE || hinted(&hints.public_route_table_id, &rt.id) {
            public_route_table_id = Some(rt.id.clone());
        } else if let Some(az) = az.filter(|_| {
            part_of(&rt.tags) == PRIVATE_ROUTE_TABLE
                || hints
                    .azs
                    .values()
                    .any(|p| hinted(&p.private_route_table_id, &rt.id))
        }) {
            if let Some(p) = azs.get_mut(&az) {
                p.private_route_table_id = Some(rt.id.clone());
            }
        }
    }

    let mut nat_count = 0;
    for n in &parts.nat_gateways {
        let Some((_, p)) = azs
            .iter_mut()
            .find(|(_, p)| p.public_subnet_id.as_deref() == Some(n.subnet_id.as_str()))
        else {
            continue;
        };
        p.nat_gateway_id = Some(n.id.clone());
        p.nat_eip_allocation_id = Some(n.allocation_id.clone()).filter(|a| !a.is_empty());
        nat_count += 1;
    }

    // Zones in the prior order, then any others found.
    let mut zones: Vec<String> = hints
        .availability_zones
        .iter()
        .filter(|z| azs.contains_key(*z))
        .cloned()
        .collect();
    let others: Vec<String> = azs.keys().filter(|z| !zones.contains(z)).cloned().collect();
    zones.extend(others);

    let internet_gateway_id = parts
        .internet_gateways
        .iter()
        .find(|g| hinted(&hints.internet_gateway_id, g))
        .or_else(|| parts.internet_gateways.first())
        .cloned();

    let mut tags_all = vpc.tags.clone();
    let name = tags_all
        .remove("Name")
        .unwrap_or_else(|| hints.name.clone());
    tags_all.retain(|k, _| !k.starts_with("fansite:"));
    let tags = null_if_unset(&hints.tags, own_tags(&tags_all, &aws.default_tags));

    Ok(Some(NetworkState {
        name,
        cidr_block: vpc.cidr_block,
        nat_strategy: nat_strategy_of(&hints.nat_strategy, nat_count, zones.len()),
        availability_zones: zones,
        public_subnet_cidrs: public_cidrs,
        private_subnet_cidrs: private_cidrs,
        tags,
        tags_all,
        vpc_id: Some(vpc_id.clone()),
        internet_gateway_id,
        public_route_table_id,
        azs,
    }))
}

/// The VPC ids of every network in the region: the VPCs with a subnet that
/// carries the [`PART_TAG`] of a public or private subnet, as import asks.
pub async fn list_networks(aws: &Aws) -> Result<Vec<String>> {
    ec2::vpcs_with_subnets_tagged(&aws.ec2, PART_TAG, &[PUBLIC_SUBNET, PRIVATE_SUBNET]).await
}

/// The strategy the NAT gateways found show: the prior one when they match it,
/// else what they look like, else `partial` (which no configuration has, so the
/// next plan shows the drift and the apply repairs it).
pub fn nat_strategy_of(prior: &str, nat_count: usize, zone_count: usize) -> String {
    let expected = match NatStrategy::parse(prior) {
        Some(NatStrategy::None) => Some(0),
        Some(NatStrategy::Single) => Some(1),
        Some(NatStrategy::PerAz) => Some(zone_count),
        None => None,
    };
    if expected == Some(nat_count) {
        return prior.to_string();
    }
    match nat_count {
        0 => "none",
        1 => "single",
        n if n == zone_count => "per_az",
        _ => "partial",
    }
    .to_string()
}
