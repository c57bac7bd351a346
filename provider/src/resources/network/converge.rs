//! Making the parts match the plan, shared by create and update, and deleting them.
//!
//! Order keeps private subnets served: new NAT gateways are made and routed to
//! before old ones are removed, and a zone's subnets go only after its routes.

use crate::aws::ec2::{self, DefaultRoute};
use crate::aws::Aws;
use crate::error::{all_of, Result};

use super::state::*;

/// The zones that should have a NAT gateway.
fn nat_zones(cur: &NetworkState, want: &NetworkState) -> Vec<String> {
    match want.strategy() {
        NatStrategy::None => vec![],
        NatStrategy::PerAz => want.availability_zones.clone(),
        NatStrategy::Single => {
            // Keep the one we have if its zone stays; else the first zone.
            let home = want
                .availability_zones
                .iter()
                .find(|az| cur.azs.get(*az).is_some_and(|p| p.nat_gateway_id.is_some()))
                .or_else(|| want.availability_zones.first());
            home.cloned().into_iter().collect()
        }
    }
}

/// Brings `cur` (what exists, with its ids) to `want`. Every id is written into
/// `cur` the moment its part exists, so a failure loses nothing.
pub async fn converge(aws: &Aws, cur: &mut NetworkState, want: &NetworkState) -> Result<()> {
    let c = &aws.ec2;
    // Tags first, with the old names and tags still in `cur`: an update that
    // only renames or retags does just this.
    retag(aws, cur, want).await?;
    cur.name = want.name.clone();
    cur.tags = want.tags.clone();
    cur.tags_all = want.tags_all.clone();

    let vpc_id = match &cur.vpc_id {
        Some(id) => id.clone(),
        None => {
            let id = ec2::create_vpc(c, &want.cidr_block, &want.vpc_tags()).await?;
            cur.vpc_id = Some(id.clone());
            cur.cidr_block = want.cidr_block.clone();
            id
        }
    };
    if cur.internet_gateway_id.is_none() {
        let igw = ec2::create_internet_gateway(c, &vpc_id, &want.part_tags(INTERNET_GATEWAY, None))
            .await?;
        cur.internet_gateway_id = Some(igw.clone());
        ec2::attach_internet_gateway(c, &igw, &vpc_id).await?;
    }
    let igw = cur.internet_gateway_id.clone().unwrap_or_default();
    if cur.public_route_table_id.is_none() {
        let rt =
            ec2::create_route_table(c, &vpc_id, &want.part_tags(PUBLIC_ROUTE_TABLE, None)).await?;
        cur.public_route_table_id = Some(rt.clone());
        ec2::set_default_route(
            c,
            &rt,
            &DefaultRoute::None,
            &DefaultRoute::InternetGateway(igw.clone()),
        )
        .await?;
    }
    let public_rt = cur.public_route_table_id.clone().unwrap_or_default();

    // New zones: subnets and the private route table.
    for az in &want.availability_zones {
        if cur.azs.get(az).is_none_or(|p| p.public_subnet_id.is_none()) {
            let id = make_subnet(aws, cur, want, &vpc_id, az, false).await?;
            associate(aws, &public_rt, &id).await?;
        }
        if cur
            .azs
            .get(az)
            .is_none_or(|p| p.private_subnet_id.is_none())
        {
            make_subnet(aws, cur, want, &vpc_id, az, true).await?;
        }
        let parts = cur.azs.entry(az.clone()).or_default();
        if parts.private_route_table_id.is_none() {
            let rt =
                ec2::create_route_table(c, &vpc_id, &want.part_tags(PRIVATE_ROUTE_TABLE, Some(az)))
                    .await?;
            parts.private_route_table_id = Some(rt.clone());
            let subnet = parts.private_subnet_id.clone().unwrap_or_default();
            associate(aws, &rt, &subnet).await?;
        }
        if !cur.availability_zones.contains(az) {
            cur.availability_zones.push(az.clone());
        }
    }

    // NAT gateways that should exist and do not yet: every zone's at once.
    // Each takes minutes of AWS's time to become available, and no zone's
    // waits for another's; each records its ids in its own zone's parts,
    // which all go back into `cur` before an error is returned, so that
    // two failing at once still leave every id made in the state.
    let nat_at = nat_zones(cur, want);
    let todo: Vec<(String, AzParts)> = nat_at
        .iter()
        .map(|az| (az.clone(), cur.azs.entry(az.clone()).or_default().clone()))
        .filter(|(_, parts)| parts.nat_gateway_id.is_none())
        .collect();
    let vpc = vpc_id.as_str();
    let made = futures_util::future::join_all(todo.into_iter().map(|(az, mut parts)| async move {
        let res = make_nat(aws, &mut parts, want, &az, vpc).await;
        (az, parts, res)
    }))
    .await;
    let mut results = Vec::new();
    for (az, parts, res) in made {
        cur.azs.insert(az, parts);
        results.push(res);
    }
    all_of(results)?;

    // Route every private subnet to its NAT gateway (or nowhere).
    let actual = ec2::vpc_parts(c, &vpc_id).await?;
    for az in &want.availability_zones {
        let Some(rt) = cur
            .azs
            .get(az)
            .and_then(|p| p.private_route_table_id.clone())
        else {
            continue;
        };
        let target = match want.strategy() {
            NatStrategy::None => None,
            NatStrategy::PerAz => Some(az),
            NatStrategy::Single => nat_at.first(),
        };
        let wanted = target
            .and_then(|t| cur.azs.get(t))
            .and_then(|p| p.nat_gateway_id.clone())
            .map_or(DefaultRoute::None, DefaultRoute::NatGateway);
        let had = actual
            .route_tables
            .iter()
            .find(|r| r.id == rt)
            .map_or(DefaultRoute::None, |r| r.default_route.clone());
        ec2::set_default_route(c, &rt, &had, &wanted).await?;
    }

    // NAT gateways no longer wanted: only now that nothing routes to them.
    let zones: Vec<String> = cur.azs.keys().cloned().collect();
    for az in &zones {
        if nat_at.contains(az) && want.availability_zones.contains(az) {
            continue;
        }
        remove_nat(aws, cur, az).await?;
    }

    // Zones no longer wanted.
    for az in &zones {
        if want.availability_zones.contains(az) {
            continue;
        }
        let parts = cur.azs.get(az).cloned().unwrap_or_default();
        if let Some(rt) = &parts.private_route_table_id {
            ec2::delete_route_table(c, rt).await?;
        }
        for subnet in [&parts.public_subnet_id, &parts.private_subnet_id]
            .into_iter()
            .flatten()
        {
            for rt in &actual.route_tables {
                for (assoc, s) in &rt.associations {
                    if s == subnet {
                        ec2::disassociate_route_table(c, assoc).await?;
                    }
                }
            }
            ec2::delete_subnet(c, subnet).await?;
        }
        cur.azs.remove(az);
        cur.availability_zones.retain(|z| z != az);
        cur.public_subnet_cidrs.remove(az);
        cur.private_subnet_cidrs.remove(az);
    }
    cur.availability_zones = want.availability_zones.clone();
    cur.nat_strategy = want.nat_strategy.clone();
    Ok(())
}

/// Makes a zone's public or private subnet and records its id and CIDR in `cur`.
async fn make_subnet(
    aws: &Aws,
    cur: &mut NetworkState,
    want: &NetworkState,
    vpc_id: &str,
    az: &str,
    private: bool,
) -> Result<String> {
    let (cidrs, kind) = if private {
        (&want.private_subnet_cidrs, PRIVATE_SUBNET)
    } else {
        (&want.public_subnet_cidrs, PUBLIC_SUBNET)
    };
    let cidr = cidrs.get(az).cloned().unwrap_or_default();
    let tags = want.part_tags(kind, Some(az));
    let id = ec2::create_subnet(&aws.ec2, vpc_id, az, &cidr, !private, &tags).await?;
    let parts = cur.azs.entry(az.to_string()).or_default();
    if private {
        parts.private_subnet_id = Some(id.clone());
        cur.private_subnet_cidrs.insert(az.to_string(), cidr);
    } else {
        parts.public_subnet_id = Some(id.clone());
        cur.public_subnet_cidrs.insert(az.to_string(), cidr);
    }
    Ok(id)
}

/// Makes the zone's NAT gateway (and its elastic IP, unless one is kept)
/// and waits until it is available, writing each id into `parts` as it is made.
async fn make_nat(
    aws: &Aws,
    parts: &mut AzParts,
    want: &NetworkState,
    az: &str,
    vpc_id: &str,
) -> Result<()> {
    let c = &aws.ec2;
    let alloc = match &parts.nat_eip_allocation_id {
        Some(a) => a.clone(),
        None => {
            let a = ec2::allocate_eip(c, &want.part_tags(NAT_EIP, Some(az))).await?;
            parts.nat_eip_allocation_id = Some(a.clone());
            a
        }
    };
    let subnet = parts.public_subnet_id.clone().unwrap_or_default();
    let tags = want.part_tags(NAT_GATEWAY, Some(az));
    let nat = match ec2::create_nat_gateway(c, &subnet, &alloc, &tags).await {
        // The kept address is still held by its old gateway, deleted
        // outside Terraform but still `deleting`: AWS lets go of it at
        // `deleted`, so that is waited for and the address reused.
        Err(e) if e.code() == Some("Resource.AlreadyAssociated") => {
            match ec2::nat_gateway_releasing(c, vpc_id, &alloc).await? {
                Some(old) => {
                    ec2::wait_nat_gateway_deleted(c, &old, crate::ctx::remaining()).await?;
                    ec2::create_nat_gateway(c, &subnet, &alloc, &tags).await?
                }
                None => renew_eip(aws, parts, want, az, &subnet, true).await?,
            }
        }
        // The kept address was released behind our back: a new one.
        Err(e) if e.is_not_found() => renew_eip(aws, parts, want, az, &subnet, false).await?,
        other => other?,
    };
    parts.nat_gateway_id = Some(nat.clone());
    ec2::wait_nat_gateway_available(c, &nat, crate::ctx::remaining()).await?;
    Ok(())
}

/// Makes the zone's NAT gateway with a new elastic IP, releasing the kept one
/// first when `release`.
// emulator: the local endpoint leaves the address associated with a gateway
// it deleted (no gateway `deleting` holds it); AWS disassociates it at
// `deleted`, so there only the not-found case and the `deleting` one occur.
async fn renew_eip(
    aws: &Aws,
    parts: &mut AzParts,
    want: &NetworkState,
    az: &str,
    subnet: &str,
    release: bool,
) -> Result<String> {
    let c = &aws.ec2;
    if let (true, Some(old)) = (release, &parts.nat_eip_allocation_id) {
        ec2::release_eip(c, old).await?;
    }
    parts.nat_eip_allocation_id = None;
    let a = ec2::allocate_eip(c, &want.part_tags(NAT_EIP, Some(az))).await?;
    parts.nat_eip_allocation_id = Some(a.clone());
    ec2::create_nat_gateway(c, subnet, &a, &want.part_tags(NAT_GATEWAY, Some(az))).await
}

async fn associate(aws: &Aws, rt: &str, subnet: &str) -> Result<()> {
    match ec2::associate_route_table(&aws.ec2, rt, subnet).await {
        Err(e) if e.code() == Some("Resource.AlreadyAssociated") => Ok(()),
        other => other,
    }
}

async fn remove_nat(aws: &Aws, cur: &mut NetworkState, az: &str) -> Result<()> {
    let Some(parts) = cur.azs.get_mut(az) else {
        return Ok(());
    };
    if let Some(nat) = parts.nat_gateway_id.clone() {
        ec2::delete_nat_gateway(&aws.ec2, &nat, crate::ctx::remaining()).await?;
        parts.nat_gateway_id = None;
    }
    if let Some(alloc) = parts.nat_eip_allocation_id.clone() {
        ec2::release_eip(&aws.ec2, &alloc).await?;
        parts.nat_eip_allocation_id = None;
    }
    Ok(())
}

/// Retags every part when the name or the tags change.
async fn retag(aws: &Aws, cur: &NetworkState, want: &NetworkState) -> Result<()> {
    if cur.name == want.name && cur.tags_all == want.tags_all {
        return Ok(());
    }
    let c = &aws.ec2;
    let new = NetworkState {
        azs: cur.azs.clone(),
        ..want.clone()
    };
    if let Some(vpc) = &cur.vpc_id {
        // The VPC's real tags: a tag added behind our back is removed.
        let had = ec2::find_vpc(c, vpc)
            .await?
            .map(|v| v.tags)
            .unwrap_or_default();
        ec2::set_tags(c, vpc, &had, &new.vpc_tags()).await?;
    }
    let mut parts: Vec<(String, &str, Option<&str>)> = Vec::new();
    if let Some(id) = &cur.internet_gateway_id {
        parts.push((id.clone(), INTERNET_GATEWAY, None));
    }
    if let Some(id) = &cur.public_route_table_id {
        parts.push((id.clone(), PUBLIC_ROUTE_TABLE, None));
    }
    for (az, p) in &cur.azs {
        for (id, kind) in [
            (&p.public_subnet_id, PUBLIC_SUBNET),
            (&p.private_subnet_id, PRIVATE_SUBNET),
            (&p.private_route_table_id, PRIVATE_ROUTE_TABLE),
            (&p.nat_gateway_id, NAT_GATEWAY),
            (&p.nat_eip_allocation_id, NAT_EIP),
        ] {
            if let Some(id) = id {
                parts.push((id.clone(), kind, Some(az.as_str())));
            }
        }
    }
    for (id, kind, az) in parts {
        ec2::set_tags(c, &id, &cur.part_tags(kind, az), &new.part_tags(kind, az)).await?;
    }
    Ok(())
}

/// Deletes every part in dependency order: what the state names, and whatever
/// carries our part tag in the VPC. Parts already gone are not an error.
pub async fn delete_all(aws: &Aws, cur: &NetworkState) -> Result<()> {
    let c = &aws.ec2;
    let ours = |tags: &Tags| tags.contains_key(PART_TAG);
    let Some(vpc_id) = &cur.vpc_id else {
        return Ok(());
    };
    let vpc_exists = ec2::find_vpc(c, vpc_id).await?.is_some();
    let actual = if vpc_exists {
        Some(ec2::vpc_parts(c, vpc_id).await?)
    } else {
        None
    };

    let mut nats: Vec<String> = cur
        .azs
        .values()
        .filter_map(|p| p.nat_gateway_id.clone())
        .collect();
    let mut eips: Vec<String> = cur
        .azs
        .values()
        .filter_map(|p| p.nat_eip_allocation_id.clone())
        .collect();
    let mut route_tables: Vec<String> = cur
        .azs
        .values()
        .filter_map(|p| p.private_route_table_id.clone())
        .collect();
    route_tables.extend(cur.public_route_table_id.clone());
    let mut subnets: Vec<String> = cur
        .azs
        .values()
        .flat_map(|p| [p.public_subnet_id.clone(), p.private_subnet_id.clone()])
        .flatten()
        .collect();
    let mut igws: Vec<String> = cur.internet_gateway_id.clone().into_iter().collect();
    if let Some(actual) = &actual {
        for n in &actual.nat_gateways {
            let in_our_subnet = subnets.contains(&n.subnet_id)
                || actual
                    .subnets
                    .iter()
                    .any(|s| s.id == n.subnet_id && ours(&s.tags));
            if in_our_subnet && !nats.contains(&n.id) {
                nats.push(n.id.clone());
                if !n.allocation_id.is_empty() && !eips.contains(&n.allocation_id) {
                    eips.push(n.allocation_id.clone());
                }
            }
        }
        route_tables.extend(
            actual
                .route_tables
                .iter()
                .filter(|r| ours(&r.tags) && !route_tables.contains(&r.id))
                .map(|r| r.id.clone())
                .collect::<Vec<_>>(),
        );
        subnets.extend(
            actual
                .subnets
                .iter()
                .filter(|s| ours(&s.tags) && !subnets.contains(&s.id))
                .map(|s| s.id.clone())
                .collect::<Vec<_>>(),
        );
        igws.extend(
            actual
                .internet_gateways
                .iter()
                .filter(|g| !igws.contains(g))
                .cloned()
                .collect::<Vec<_>>(),
        );
    }
    // Every gateway's delete at once: each waits minutes for `deleted`.
    let deleted = futures_util::future::join_all(
        nats.iter()
            .map(|nat| ec2::delete_nat_gateway(c, nat, crate::ctx::remaining())),
    )
    .await;
    all_of(deleted)?;
    for eip in &eips {
        ec2::release_eip(c, eip).await?;
    }
    for rt in &route_tables {
        ec2::delete_route_table(c, rt).await?;
    }
    for subnet in &subnets {
        ec2::delete_subnet(c, subnet).await?;
    }
    for igw in &igws {
        ec2::delete_internet_gateway(c, igw, vpc_id).await?;
    }
    ec2::delete_vpc(c, vpc_id).await
}
