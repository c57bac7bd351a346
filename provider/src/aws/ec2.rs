//! EC2 and VPC calls. Each returns our `Error` with the action, the part and AWS's code.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::types::{
    AttributeBooleanValue, DomainType, Filter, NatGatewayState, ResourceType, Tag, TagSpecification,
};
use aws_sdk_ec2::Client;

use super::wait::{Missing, Seen, Wait};
use super::{answered, not_found_if, retry_eventual, retry_while_new};
use crate::error::{is_not_found_code, Error, Result};

pub use super::Tags;

/// Whether EC2's answer says that what the call names does not exist. EC2's
/// SDK models no error shapes (each operation's error has only `Unhandled`),
/// so EC2's codes (`InvalidVpcID.NotFound`, …) are matched as strings.
fn gone<E: ProvideErrorMetadata>(e: &E) -> bool {
    e.code().is_some_and(is_not_found_code)
}

/// Turns an EC2 SDK error into ours, not found as [`gone`] reads it.
pub(super) fn ec2_error<E, R>(action: &str, part: &str, err: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    not_found_if(action, part, err, gone)
}

pub(super) fn tag_spec(kind: ResourceType, tags: &Tags) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(kind)
        .set_tags(Some(to_tags(tags)))
        .build()
}

fn to_tags(tags: &Tags) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

pub fn tags_of(tags: &[Tag]) -> Tags {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

pub(super) fn filter(name: &str, value: &str) -> Filter {
    Filter::builder().name(name).values(value).build()
}

/// The region's availability zones that are available, sorted by name.
pub async fn availability_zones(c: &Client) -> Result<Vec<String>> {
    let out = c
        .describe_availability_zones()
        .filters(filter("state", "available"))
        .send()
        .await
        .map_err(|e| ec2_error("listing", "availability zones", e))?;
    let mut zones: Vec<String> = out
        .availability_zones()
        .iter()
        .filter(|z| z.zone_type().is_none_or(|t| t == "availability-zone"))
        .filter_map(|z| z.zone_name().map(str::to_string))
        .collect();
    zones.sort();
    Ok(zones)
}

pub struct VpcInfo {
    pub cidr_block: String,
    pub tags: Tags,
}

pub async fn create_vpc(c: &Client, cidr: &str, tags: &Tags) -> Result<String> {
    let part = format!("VPC {cidr}");
    let out = c
        .create_vpc()
        .cidr_block(cidr)
        .tag_specifications(tag_spec(ResourceType::Vpc, tags))
        .send()
        .await
        .map_err(|e| ec2_error("creating", &part, e))?;
    let id = out
        .vpc()
        .and_then(|v| v.vpc_id())
        .unwrap_or_default()
        .to_string();
    for attr in ["dns_support", "dns_hostnames"] {
        let yes = AttributeBooleanValue::builder().value(true).build();
        // A part just made may not be visible to this call yet (EC2 API reference,
        // "Eventual consistency"): not found is retried.
        retry_while_new(|| async {
            let req = c.modify_vpc_attribute().vpc_id(&id);
            let req = if attr == "dns_support" {
                req.enable_dns_support(yes.clone())
            } else {
                req.enable_dns_hostnames(yes.clone())
            };
            req.send()
                .await
                .map(|_| ())
                .map_err(|e| ec2_error("enabling DNS on", &format!("VPC {id}"), e))
        })
        .await?;
    }
    Ok(id)
}

pub async fn find_vpc(c: &Client, id: &str) -> Result<Option<VpcInfo>> {
    let out = match c.describe_vpcs().vpc_ids(id).send().await {
        Ok(out) => out,
        Err(e) => {
            let e = ec2_error("reading", &format!("VPC {id}"), e);
            return if e.is_not_found() { Ok(None) } else { Err(e) };
        }
    };
    Ok(out.vpcs().first().map(|v| VpcInfo {
        cidr_block: v.cidr_block().unwrap_or_default().to_string(),
        tags: tags_of(v.tags()),
    }))
}

pub async fn delete_vpc(c: &Client, id: &str) -> Result<()> {
    let part = format!("VPC {id}");
    // Network interfaces of a NAT gateway, load balancer or database just
    // deleted hold the VPC for minutes (terraform-provider-aws retries
    // DependencyViolation for the whole delete timeout).
    let res = retry_eventual(&["DependencyViolation"], || async {
        c.delete_vpc()
            .vpc_id(id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| ec2_error("deleting", &part, e))
    })
    .await;
    gone_is_done(res)
}

pub use super::gone_is_done;

/// Makes the tags on `id` equal `want`: adds and changes, then removes the rest of `had`.
pub async fn set_tags(c: &Client, id: &str, had: &Tags, want: &Tags) -> Result<()> {
    let part = id.to_string();
    let changed: Tags = want
        .iter()
        .filter(|(k, v)| had.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !changed.is_empty() {
        c.create_tags()
            .resources(id)
            .set_tags(Some(to_tags(&changed)))
            .send()
            .await
            .map_err(|e| ec2_error("tagging", &part, e))?;
    }
    let removed: Vec<Tag> = had
        .keys()
        .filter(|k| !want.contains_key(*k))
        .map(|k| Tag::builder().key(k).build())
        .collect();
    if !removed.is_empty() {
        c.delete_tags()
            .resources(id)
            .set_tags(Some(removed))
            .send()
            .await
            .map_err(|e| ec2_error("untagging", &part, e))?;
    }
    Ok(())
}

pub async fn create_internet_gateway(c: &Client, vpc_id: &str, tags: &Tags) -> Result<String> {
    let out = c
        .create_internet_gateway()
        .tag_specifications(tag_spec(ResourceType::InternetGateway, tags))
        .send()
        .await
        .map_err(|e| ec2_error("creating", &format!("internet gateway for {vpc_id}"), e))?;
    Ok(out
        .internet_gateway()
        .and_then(|g| g.internet_gateway_id())
        .unwrap_or_default()
        .to_string())
}

pub async fn attach_internet_gateway(c: &Client, igw_id: &str, vpc_id: &str) -> Result<()> {
    // A part just made may not be visible to this call yet (EC2 API reference,
    // "Eventual consistency"): not found is retried.
    retry_while_new(|| async {
        c.attach_internet_gateway()
            .internet_gateway_id(igw_id)
            .vpc_id(vpc_id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                ec2_error(
                    "attaching",
                    &format!("internet gateway {igw_id} to {vpc_id}"),
                    e,
                )
            })
    })
    .await
}

pub async fn delete_internet_gateway(c: &Client, igw_id: &str, vpc_id: &str) -> Result<()> {
    let part = format!("internet gateway {igw_id}");
    // "Network vpc-… has some mapped public address(es)" while the ENIs of a
    // load balancer or NAT gateway just deleted still hold a public IP in the
    // VPC: terraform-provider-aws `detachInternetGateway` retries
    // DependencyViolation for the whole delete timeout.
    let detached = retry_eventual(&["DependencyViolation"], || async {
        c.detach_internet_gateway()
            .internet_gateway_id(igw_id)
            .vpc_id(vpc_id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| ec2_error("detaching", &part, e))
    })
    .await;
    match detached {
        // Not attached (any more) is fine; a gateway that is gone is done.
        Err(e) if e.is_not_found() || e.code() == Some("Gateway.NotAttached") => {}
        other => other?,
    }
    gone_is_done(
        c.delete_internet_gateway()
            .internet_gateway_id(igw_id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| ec2_error("deleting", &part, e)),
    )
}

pub async fn create_subnet(
    c: &Client,
    vpc_id: &str,
    az: &str,
    cidr: &str,
    public: bool,
    tags: &Tags,
) -> Result<String> {
    let part = format!("subnet {cidr} in {az}");
    // A part just made may not be visible to this call yet (EC2 API reference,
    // "Eventual consistency"): not found is retried.
    let out = retry_while_new(|| async {
        c.create_subnet()
            .vpc_id(vpc_id)
            .availability_zone(az)
            .cidr_block(cidr)
            .tag_specifications(tag_spec(ResourceType::Subnet, tags))
            .send()
            .await
            .map_err(|e| ec2_error("creating", &part, e))
    })
    .await?;
    let id = out
        .subnet()
        .and_then(|s| s.subnet_id())
        .unwrap_or_default()
        .to_string();
    if public {
        // A part just made may not be visible to this call yet (EC2 API reference,
        // "Eventual consistency"): not found is retried.
        retry_while_new(|| async {
            c.modify_subnet_attribute()
                .subnet_id(&id)
                .map_public_ip_on_launch(AttributeBooleanValue::builder().value(true).build())
                .send()
                .await
                .map(|_| ())
                .map_err(|e| ec2_error("enabling public IPs on", &format!("subnet {id}"), e))
        })
        .await?;
    }
    Ok(id)
}

pub async fn delete_subnet(c: &Client, id: &str) -> Result<()> {
    let part = format!("subnet {id}");
    // Network interfaces that outlive their owner hold the subnet for minutes
    // (terraform-provider-aws retries DependencyViolation for the delete timeout).
    gone_is_done(
        retry_eventual(&["DependencyViolation"], || async {
            c.delete_subnet()
                .subnet_id(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| ec2_error("deleting", &part, e))
        })
        .await,
    )
}

pub async fn create_route_table(c: &Client, vpc_id: &str, tags: &Tags) -> Result<String> {
    // A part just made may not be visible to this call yet (EC2 API reference,
    // "Eventual consistency"): not found is retried.
    let out = retry_while_new(|| async {
        c.create_route_table()
            .vpc_id(vpc_id)
            .tag_specifications(tag_spec(ResourceType::RouteTable, tags))
            .send()
            .await
            .map_err(|e| ec2_error("creating", &format!("route table in {vpc_id}"), e))
    })
    .await?;
    Ok(out
        .route_table()
        .and_then(|r| r.route_table_id())
        .unwrap_or_default()
        .to_string())
}

pub async fn associate_route_table(c: &Client, rt_id: &str, subnet_id: &str) -> Result<()> {
    // A part just made may not be visible to this call yet (EC2 API reference,
    // "Eventual consistency"): not found is retried.
    retry_while_new(|| async {
        c.associate_route_table()
            .route_table_id(rt_id)
            .subnet_id(subnet_id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                ec2_error(
                    "associating",
                    &format!("route table {rt_id} with {subnet_id}"),
                    e,
                )
            })
    })
    .await
}

/// Where a route table sends 0.0.0.0/0.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DefaultRoute {
    None,
    InternetGateway(String),
    NatGateway(String),
}

pub struct RouteTableInfo {
    pub id: String,
    pub tags: Tags,
    pub default_route: DefaultRoute,
    /// (association id, subnet id) of the non-main associations.
    pub associations: Vec<(String, String)>,
}

/// Points the table's 0.0.0.0/0 at `want`. A route that exists is swapped in
/// one call (ReplaceRoute, as terraform-provider-aws `resourceRouteUpdate`
/// does), so the subnets never go without egress between a delete and a create.
pub async fn set_default_route(
    c: &Client,
    rt_id: &str,
    had: &DefaultRoute,
    want: &DefaultRoute,
) -> Result<()> {
    if had == want {
        return Ok(());
    }
    let part = format!("default route of {rt_id}");
    let (gateway, nat) = match want {
        DefaultRoute::None => return delete_default_route(c, rt_id, &part).await,
        DefaultRoute::InternetGateway(id) => (Some(id.clone()), None),
        DefaultRoute::NatGateway(id) => (None, Some(id.clone())),
    };
    if *had != DefaultRoute::None {
        // A gateway just made may not be visible to this call yet (EC2 API
        // reference, "Eventual consistency"). A route that is gone after all
        // is made below.
        let target_new = ["InvalidNatGatewayID.NotFound", "InvalidGatewayID.NotFound"];
        let replaced = retry_eventual(&target_new, || async {
            c.replace_route()
                .route_table_id(rt_id)
                .destination_cidr_block("0.0.0.0/0")
                .set_gateway_id(gateway.clone())
                .set_nat_gateway_id(nat.clone())
                .send()
                .await
                .map(|_| ())
                .map_err(|e| ec2_error("replacing", &part, e))
        })
        .await;
        match replaced {
            Err(e)
                if e.code() == Some("InvalidRoute.NotFound")
                    || answered(&e, "InvalidParameterValue", "no route") => {}
            other => return other,
        }
    }
    // A part just made may not be visible to this call yet (EC2 API reference,
    // "Eventual consistency"): not found is retried.
    retry_while_new(|| async {
        c.create_route()
            .route_table_id(rt_id)
            .destination_cidr_block("0.0.0.0/0")
            .set_gateway_id(gateway.clone())
            .set_nat_gateway_id(nat.clone())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| ec2_error("creating", &part, e))
    })
    .await
}

async fn delete_default_route(c: &Client, rt_id: &str, part: &str) -> Result<()> {
    gone_is_done(
        c.delete_route()
            .route_table_id(rt_id)
            .destination_cidr_block("0.0.0.0/0")
            .send()
            .await
            .map(|_| ())
            .map_err(|e| ec2_error("deleting", part, e)),
    )
}

pub async fn delete_route_table(c: &Client, rt_id: &str) -> Result<()> {
    let part = format!("route table {rt_id}");
    let out = match c
        .describe_route_tables()
        .route_table_ids(rt_id)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) => return gone_is_done(Err(ec2_error("reading", &part, e))),
    };
    for rt in out.route_tables() {
        for a in rt.associations() {
            if a.main() == Some(true) {
                continue;
            }
            if let Some(assoc) = a.route_table_association_id() {
                gone_is_done(
                    c.disassociate_route_table()
                        .association_id(assoc)
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| ec2_error("disassociating", &part, e)),
                )?;
            }
        }
    }
    gone_is_done(
        c.delete_route_table()
            .route_table_id(rt_id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| ec2_error("deleting", &part, e)),
    )
}

pub async fn allocate_eip(c: &Client, tags: &Tags) -> Result<String> {
    let out = c
        .allocate_address()
        .domain(DomainType::Vpc)
        .tag_specifications(tag_spec(ResourceType::ElasticIp, tags))
        .send()
        .await
        .map_err(|e| ec2_error("allocating", "elastic IP for a NAT gateway", e))?;
    Ok(out.allocation_id().unwrap_or_default().to_string())
}

pub async fn release_eip(c: &Client, allocation_id: &str) -> Result<()> {
    let part = format!("elastic IP {allocation_id}");
    // The address stays associated until its NAT gateway is deleted; a just
    // allocated one can answer AuthFailure for a moment (terraform-provider-aws
    // retries InvalidIPAddress.InUse and AuthFailure on release).
    gone_is_done(
        retry_eventual(&["InvalidIPAddress.InUse", "AuthFailure"], || async {
            c.release_address()
                .allocation_id(allocation_id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| ec2_error("releasing", &part, e))
        })
        .await,
    )
}

pub async fn create_nat_gateway(
    c: &Client,
    subnet_id: &str,
    allocation_id: &str,
    tags: &Tags,
) -> Result<String> {
    let part = format!("NAT gateway in {subnet_id}");
    // A part just made may not be visible to this call yet (EC2 API reference,
    // "Eventual consistency"): not found is retried.
    let out = retry_while_new(|| async {
        c.create_nat_gateway()
            .subnet_id(subnet_id)
            .allocation_id(allocation_id)
            .tag_specifications(tag_spec(ResourceType::Natgateway, tags))
            .send()
            .await
            .map_err(|e| ec2_error("creating", &part, e))
    })
    .await?;
    Ok(out
        .nat_gateway()
        .and_then(|n| n.nat_gateway_id())
        .unwrap_or_default()
        .to_string())
}

/// The gateway as DescribeNatGateways has it, or `None` when it is gone.
async fn describe_nat_gateway(
    c: &Client,
    id: &str,
) -> Result<Option<aws_sdk_ec2::types::NatGateway>> {
    match c.describe_nat_gateways().nat_gateway_ids(id).send().await {
        Ok(out) => Ok(out.nat_gateways().first().cloned()),
        Err(e) => {
            let e = ec2_error("describing", &format!("NAT gateway {id}"), e);
            if e.is_not_found() {
                Ok(None)
            } else {
                Err(e)
            }
        }
    }
}

/// A poll of a NAT gateway: its state, with AWS's `FailureCode` and
/// `FailureMessage` (terraform-provider-aws `waitNATGatewayCreated` reports
/// them), such as `Gateway.NotAttached` or an address already in use.
fn nat_seen(n: &aws_sdk_ec2::types::NatGateway) -> Seen {
    let state = n.state().map(|s| s.as_str()).unwrap_or_default();
    let reason = match (n.failure_code(), n.failure_message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(only), None) | (None, Some(only)) => only.to_string(),
        (None, None) => String::new(),
    };
    Seen::with_reason(state, reason)
}

/// A new NAT gateway is `pending` for a few minutes. Not found is waited out
/// for a minute (a just-made part may not be visible yet).
pub async fn wait_nat_gateway_available(c: &Client, id: &str, timeout: Duration) -> Result<()> {
    let part = format!("NAT gateway {id}");
    Wait {
        part: &part,
        goal: "available",
        done: &["available"],
        pending: &["pending"],
        missing: Missing::WhileNew,
        timeout,
    }
    .until(|| async { Ok(describe_nat_gateway(c, id).await?.map(|n| nat_seen(&n))) })
    .await
    .map(|_| ())
}

/// Until the gateway is `deleted` (or `failed`: a failed gateway holds no
/// address and goes by itself). It may read `available` for a moment after
/// DeleteNatGateway.
pub async fn wait_nat_gateway_deleted(c: &Client, id: &str, timeout: Duration) -> Result<()> {
    let part = format!("NAT gateway {id}");
    Wait {
        part: &part,
        goal: "deleted",
        done: &["deleted", "failed"],
        pending: &["deleting", "available", "pending"],
        missing: Missing::Done,
        timeout,
    }
    .until(|| async { Ok(describe_nat_gateway(c, id).await?.map(|n| nat_seen(&n))) })
    .await
    .map(|_| ())
}

pub async fn delete_nat_gateway(c: &Client, id: &str, timeout: Duration) -> Result<()> {
    let part = format!("NAT gateway {id}");
    let res = c
        .delete_nat_gateway()
        .nat_gateway_id(id)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| ec2_error("deleting", &part, e));
    match res {
        Err(e) if e.is_not_found() => return Ok(()),
        other => other?,
    }
    wait_nat_gateway_deleted(c, id, timeout).await
}

/// The NAT gateway in the VPC that is still `deleting` and holds the elastic
/// IP `allocation_id`: AWS lets go of the address only when the gateway
/// reaches `deleted` (until then ReleaseAddress answers
/// InvalidIPAddress.InUse and CreateNatGateway Resource.AlreadyAssociated).
pub async fn nat_gateway_releasing(
    c: &Client,
    vpc_id: &str,
    allocation_id: &str,
) -> Result<Option<String>> {
    let out = c
        .describe_nat_gateways()
        .filter(filter("vpc-id", vpc_id))
        .filter(filter("state", "deleting"))
        .send()
        .await
        .map_err(|e| ec2_error("listing NAT gateways of", &format!("VPC {vpc_id}"), e))?;
    Ok(out
        .nat_gateways()
        .iter()
        .find(|n| {
            n.nat_gateway_addresses()
                .iter()
                .any(|a| a.allocation_id() == Some(allocation_id))
        })
        .and_then(|n| n.nat_gateway_id())
        .map(str::to_string))
}

pub struct SubnetInfo {
    pub id: String,
    pub az: String,
    pub cidr: String,
    pub tags: Tags,
}

pub struct NatInfo {
    pub id: String,
    pub subnet_id: String,
    pub allocation_id: String,
}

/// Everything in a VPC that the network resource looks at.
pub struct VpcParts {
    pub subnets: Vec<SubnetInfo>,
    pub route_tables: Vec<RouteTableInfo>,
    /// NAT gateways that are pending or available (deleted ones linger in listings).
    pub nat_gateways: Vec<NatInfo>,
    pub internet_gateways: Vec<String>,
}

pub async fn vpc_parts(c: &Client, vpc_id: &str) -> Result<VpcParts> {
    let part = format!("VPC {vpc_id}");
    let subnets = c
        .describe_subnets()
        .filters(filter("vpc-id", vpc_id))
        .send()
        .await
        .map_err(|e| ec2_error("listing subnets of", &part, e))?;
    let route_tables = c
        .describe_route_tables()
        .filters(filter("vpc-id", vpc_id))
        .send()
        .await
        .map_err(|e| ec2_error("listing route tables of", &part, e))?;
    let nats = c
        .describe_nat_gateways()
        .filter(filter("vpc-id", vpc_id))
        .send()
        .await
        .map_err(|e| ec2_error("listing NAT gateways of", &part, e))?;
    let igws = c
        .describe_internet_gateways()
        .filters(filter("attachment.vpc-id", vpc_id))
        .send()
        .await
        .map_err(|e| ec2_error("listing internet gateways of", &part, e))?;
    Ok(VpcParts {
        subnets: subnets
            .subnets()
            .iter()
            .map(|s| SubnetInfo {
                id: s.subnet_id().unwrap_or_default().to_string(),
                az: s.availability_zone().unwrap_or_default().to_string(),
                cidr: s.cidr_block().unwrap_or_default().to_string(),
                tags: tags_of(s.tags()),
            })
            .collect(),
        route_tables: route_tables
            .route_tables()
            .iter()
            .map(|rt| RouteTableInfo {
                id: rt.route_table_id().unwrap_or_default().to_string(),
                tags: tags_of(rt.tags()),
                default_route: rt
                    .routes()
                    .iter()
                    .find(|r| r.destination_cidr_block() == Some("0.0.0.0/0"))
                    .map_or(DefaultRoute::None, |r| {
                        if let Some(nat) = r.nat_gateway_id() {
                            DefaultRoute::NatGateway(nat.to_string())
                        } else if let Some(gw) = r.gateway_id() {
                            DefaultRoute::InternetGateway(gw.to_string())
                        } else {
                            DefaultRoute::None
                        }
                    }),
                associations: rt
                    .associations()
                    .iter()
                    .filter(|a| a.main() != Some(true))
                    .filter_map(|a| {
                        Some((
                            a.route_table_association_id()?.to_string(),
                            a.subnet_id()?.to_string(),
                        ))
                    })
                    .collect(),
            })
            .collect(),
        nat_gateways: nats
            .nat_gateways()
            .iter()
            .filter(|n| {
                matches!(
                    n.state(),
                    Some(NatGatewayState::Pending | NatGatewayState::Available)
                )
            })
            .map(|n| NatInfo {
                id: n.nat_gateway_id().unwrap_or_default().to_string(),
                subnet_id: n.subnet_id().unwrap_or_default().to_string(),
                allocation_id: n
                    .nat_gateway_addresses()
                    .first()
                    .and_then(|a| a.allocation_id())
                    .unwrap_or_default()
                    .to_string(),
            })
            .collect(),
        internet_gateways: igws
            .internet_gateways()
            .iter()
            .filter_map(|g| g.internet_gateway_id().map(str::to_string))
            .collect(),
    })
}

pub async fn disassociate_route_table(c: &Client, association_id: &str) -> Result<()> {
    gone_is_done(
        c.disassociate_route_table()
            .association_id(association_id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                ec2_error(
                    "disassociating",
                    &format!("route table association {association_id}"),
                    e,
                )
            }),
    )
}

/// The zone and VPC of each subnet that exists: one DescribeSubnets filtered
/// by `subnet-id` (a subnet that does not exist is left out, where asking by
/// ids would fail the whole call), paged.
pub async fn subnet_places(
    c: &Client,
    subnet_ids: &[String],
) -> Result<BTreeMap<String, SubnetPlace>> {
    let mut ids = subnet_ids.to_vec();
    ids.sort();
    ids.dedup();
    let mut out = BTreeMap::new();
    let mut token = None;
    loop {
        let page = c
            .describe_subnets()
            .filters(
                Filter::builder()
                    .name("subnet-id")
                    .set_values(Some(ids.clone()))
                    .build(),
            )
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| ec2_error("describing", &format!("subnets {}", ids.join(", ")), e))?;
        for s in page.subnets() {
            if let (Some(id), Some(zone), Some(vpc)) =
                (s.subnet_id(), s.availability_zone(), s.vpc_id())
            {
                out.insert(
                    id.to_string(),
                    SubnetPlace {
                        zone: zone.to_string(),
                        vpc: vpc.to_string(),
                    },
                );
            }
        }
        token = page
            .next_token()
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if token.is_none() {
            return Ok(out);
        }
    }
}

/// Where a subnet is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubnetPlace {
    pub zone: String,
    pub vpc: String,
}

/// The zone of each subnet.
pub async fn subnet_zones(c: &Client, subnet_ids: &[String]) -> Result<BTreeMap<String, String>> {
    Ok(subnet_places(c, subnet_ids)
        .await?
        .into_iter()
        .map(|(id, p)| (id, p.zone))
        .collect())
}

/// A security group, and the sources of its ingress rules on one port whose
/// description is `marker`: the rules one resource made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecurityGroupInfo {
    pub id: String,
    pub vpc_id: String,
    pub tags: Tags,
    pub sources: Vec<String>,
}

pub async fn create_security_group(
    c: &Client,
    vpc_id: &str,
    name: &str,
    description: &str,
    tags: &Tags,
) -> Result<String> {
    let part = format!("security group {name:?}");
    let out = c
        .create_security_group()
        .vpc_id(vpc_id)
        .group_name(name)
        .description(description)
        .tag_specifications(tag_spec(ResourceType::SecurityGroup, tags))
        .send()
        .await
        .map_err(|e| ec2_error("creating", &part, e))?;
    Ok(out.group_id().unwrap_or_default().to_string())
}

/// The group, or `None` when it is gone.
pub async fn find_security_group(
    c: &Client,
    id: &str,
    port: i32,
    marker: &str,
) -> Result<Option<SecurityGroupInfo>> {
    let out = match c.describe_security_groups().group_ids(id).send().await {
        Ok(out) => out,
        Err(e) => {
            let e = ec2_error("describing", &format!("security group {id}"), e);
            return if e.is_not_found() { Ok(None) } else { Err(e) };
        }
    };
    let Some(g) = out.security_groups().first() else {
        return Ok(None);
    };
    Ok(Some(SecurityGroupInfo {
        id: id.to_string(),
        vpc_id: g.vpc_id().unwrap_or_default().to_string(),
        tags: tags_of(g.tags()),
        sources: sources_of(g, port, marker),
    }))
}

/// The groups among `ids` that exist, by id: one DescribeSecurityGroups,
/// filtered by `group-id` (a gone group is left out instead of failing the
/// call), paged.
pub async fn security_groups(
    c: &Client,
    ids: &[String],
) -> Result<BTreeMap<String, aws_sdk_ec2::types::SecurityGroup>> {
    let mut out = BTreeMap::new();
    let mut token = None;
    loop {
        let page = c
            .describe_security_groups()
            .filters(
                Filter::builder()
                    .name("group-id")
                    .set_values(Some(ids.to_vec()))
                    .build(),
            )
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| {
                ec2_error(
                    "describing",
                    &format!("security groups {}", ids.join(", ")),
                    e,
                )
            })?;
        for g in page.security_groups() {
            if let Some(id) = g.group_id() {
                out.insert(id.to_string(), g.clone());
            }
        }
        token = page
            .next_token()
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if token.is_none() {
            return Ok(out);
        }
    }
}

/// The groups that a group's rules on `port` let in, among the rules marked
/// `marker` (the ones this provider added), sorted.
pub fn sources_of(g: &aws_sdk_ec2::types::SecurityGroup, port: i32, marker: &str) -> Vec<String> {
    let mut sources: Vec<String> = g
        .ip_permissions()
        .iter()
        .filter(|p| p.from_port() == Some(port) && p.to_port() == Some(port))
        .flat_map(|p| p.user_id_group_pairs())
        .filter(|pair| pair.description() == Some(marker))
        .filter_map(|pair| pair.group_id().map(str::to_string))
        .collect();
    sources.sort();
    sources.dedup();
    sources
}

fn tcp_from(source: &str, port: i32, marker: &str) -> aws_sdk_ec2::types::IpPermission {
    aws_sdk_ec2::types::IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(port)
        .to_port(port)
        .user_id_group_pairs(
            aws_sdk_ec2::types::UserIdGroupPair::builder()
                .group_id(source)
                .description(marker)
                .build(),
        )
        .build()
}

/// Adds `perm` to `sg`'s inbound rules; a rule that is already there is done.
async fn authorize_ingress(
    c: &Client,
    sg: &str,
    perm: aws_sdk_ec2::types::IpPermission,
    part: &str,
) -> Result<()> {
    let res = c
        .authorize_security_group_ingress()
        .group_id(sg)
        .ip_permissions(perm)
        .send()
        .await
        .map_err(|e| ec2_error("allowing", part, e));
    match res {
        Err(e) if e.code() == Some("InvalidPermission.Duplicate") => Ok(()),
        other => other.map(|_| ()),
    }
}

/// Removes `perm` from `sg`'s inbound rules; a rule (or group) already gone is done.
async fn revoke_ingress(
    c: &Client,
    sg: &str,
    perm: aws_sdk_ec2::types::IpPermission,
    part: &str,
) -> Result<()> {
    let res = c
        .revoke_security_group_ingress()
        .group_id(sg)
        .ip_permissions(perm)
        .send()
        .await
        .map_err(|e| ec2_error("revoking", part, e));
    gone_is_done(res.map(|_| ()))
}

/// Opens `port` on `sg` to members of `source`, with `marker` as the rule's description.
pub async fn allow_from(c: &Client, sg: &str, source: &str, port: i32, marker: &str) -> Result<()> {
    let part = format!("port {port} on {sg} from {source}");
    authorize_ingress(c, sg, tcp_from(source, port, marker), &part).await
}

pub async fn revoke_from(
    c: &Client,
    sg: &str,
    source: &str,
    port: i32,
    marker: &str,
) -> Result<()> {
    let part = format!("port {port} on {sg} from {source}");
    revoke_ingress(c, sg, tcp_from(source, port, marker), &part).await
}

pub async fn delete_security_group(c: &Client, id: &str) -> Result<()> {
    let part = format!("security group {id}");
    // Network interfaces of tasks, load balancers or instances just deleted
    // hold the group for minutes: terraform-provider-aws retries
    // DependencyViolation and InvalidGroup.InUse for the whole delete timeout.
    let res = retry_eventual(&["DependencyViolation", "InvalidGroup.InUse"], || async {
        c.delete_security_group()
            .group_id(id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| ec2_error("deleting", &part, e))
    })
    .await;
    gone_is_done(res)
}

/// The VPC of each subnet.
pub async fn subnet_vpcs(c: &Client, subnet_ids: &[String]) -> Result<BTreeMap<String, String>> {
    Ok(subnet_places(c, subnet_ids)
        .await?
        .into_iter()
        .map(|(id, p)| (id, p.vpc))
        .collect())
}

/// The VPCs that hold a subnet tagged `tag` with one of `values`, each once,
/// sorted: one DescribeSubnets, filtered by the tag, paged.
pub async fn vpcs_with_subnets_tagged(
    c: &Client,
    tag: &str,
    values: &[&str],
) -> Result<Vec<String>> {
    let tagged = Filter::builder()
        .name(format!("tag:{tag}"))
        .set_values(Some(values.iter().map(|v| (*v).to_string()).collect()))
        .build();
    let mut vpcs = BTreeSet::new();
    let mut token = None;
    loop {
        let out = c
            .describe_subnets()
            .filters(tagged.clone())
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| ec2_error("listing", &format!("subnets tagged {tag}"), e))?;
        vpcs.extend(
            out.subnets()
                .iter()
                .filter_map(|s| s.vpc_id().map(str::to_string)),
        );
        token = out
            .next_token()
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if token.is_none() {
            return Ok(vpcs.into_iter().collect());
        }
    }
}

/// The id of the security group with this name in the VPC, if there is one.
pub async fn security_group_named(c: &Client, vpc_id: &str, name: &str) -> Result<Option<String>> {
    let out = c
        .describe_security_groups()
        .filters(filter("vpc-id", vpc_id))
        .filters(filter("group-name", name))
        .send()
        .await
        .map_err(|e| ec2_error("finding", &format!("security group {name:?}"), e))?;
    Ok(out
        .security_groups()
        .first()
        .and_then(|g| g.group_id())
        .map(str::to_string))
}

/// AWS's managed prefix list of CloudFront's origin-facing addresses (the
/// addresses CloudFront connects to origins from), the same name in every
/// region (CloudFront Developer Guide, "Use the CloudFront managed prefix list").
pub const CLOUDFRONT_ORIGIN_FACING: &str = "com.amazonaws.global.cloudfront.origin-facing";

/// Who may reach a public load balancer: the internet on 80 and 443, or only
/// CloudFront's origin-facing addresses on one port.
///
/// The CloudFront prefix list counts as 55 rules against a security group's
/// quota of 60 inbound rules (its maximum size), so it is allowed on the one
/// port CloudFront uses: 443 when the load balancer has a certificate, else 80.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ingress {
    Internet,
    CloudFront { port: i32 },
}

/// The id of the AWS-managed prefix list named `name` in the client's region.
pub async fn managed_prefix_list(c: &Client, name: &str) -> Result<String> {
    let part = format!("managed prefix list {name:?}");
    let out = c
        .describe_managed_prefix_lists()
        .filters(filter("prefix-list-name", name))
        .send()
        .await
        .map_err(|e| ec2_error("finding", &part, e))?;
    out.prefix_lists()
        .iter()
        .find(|l| l.prefix_list_name() == Some(name))
        .and_then(|l| l.prefix_list_id())
        .map(str::to_string)
        .ok_or_else(|| Error::NotFound {
            action: "finding".into(),
            part,
        })
}

/// The world's IPv4 and IPv6 rules on `port`, one permission each: AWS
/// refuses a whole authorize whose one range exists
/// (`InvalidPermission.Duplicate`), and a whole revoke whose one range does
/// not, so each range is allowed and revoked on its own.
fn world_on(port: i32, marker: &str) -> [aws_sdk_ec2::types::IpPermission; 2] {
    let base = || {
        aws_sdk_ec2::types::IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(port)
            .to_port(port)
    };
    [
        base()
            .ip_ranges(
                aws_sdk_ec2::types::IpRange::builder()
                    .cidr_ip("0.0.0.0/0")
                    .description(marker)
                    .build(),
            )
            .build(),
        base()
            .ipv6_ranges(
                aws_sdk_ec2::types::Ipv6Range::builder()
                    .cidr_ipv6("::/0")
                    .description(marker)
                    .build(),
            )
            .build(),
    ]
}

fn prefix_list_on(list: &str, port: i32, marker: &str) -> aws_sdk_ec2::types::IpPermission {
    aws_sdk_ec2::types::IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(port)
        .to_port(port)
        .prefix_list_ids(
            aws_sdk_ec2::types::PrefixListId::builder()
                .prefix_list_id(list)
                .description(marker)
                .build(),
        )
        .build()
}

/// Who a load balancer's group lets in: the world, or CloudFront (through its
/// origin-facing prefix list `cloudfront`), or neither.
pub fn ingress_of(g: &aws_sdk_ec2::types::SecurityGroup, cloudfront: &str) -> Option<Ingress> {
    let perms = g.ip_permissions();
    let world = perms.iter().any(|p| {
        p.ip_ranges()
            .iter()
            .any(|r| r.cidr_ip() == Some("0.0.0.0/0"))
    });
    let from_cloudfront = perms.iter().find(|p| {
        p.prefix_list_ids()
            .iter()
            .any(|l| l.prefix_list_id() == Some(cloudfront))
    });
    match (world, from_cloudfront) {
        (true, _) => Some(Ingress::Internet),
        (false, Some(p)) => Some(Ingress::CloudFront {
            port: p.from_port().unwrap_or_default(),
        }),
        (false, None) => None,
    }
}

/// Sets the load balancer's ingress to `want`: the rules it needs are added
/// first, then every other rule this function can make (the world's or
/// CloudFront's, on 80 or 443) is revoked, so that traffic allowed before and
/// after is never refused in between.
pub async fn set_load_balancer_ingress(
    c: &Client,
    sg: &str,
    want: Ingress,
    marker: &str,
) -> Result<()> {
    // Needed for `CloudFront`; otherwise only to revoke its rules, and a
    // partition without the list has none to revoke.
    let cloudfront = match managed_prefix_list(c, CLOUDFRONT_ORIGIN_FACING).await {
        Ok(list) => Some(list),
        Err(e) if e.is_not_found() && want == Ingress::Internet => None,
        Err(e) => return Err(e),
    };
    let rule = |port: i32, from_cloudfront: bool| -> Vec<aws_sdk_ec2::types::IpPermission> {
        match (from_cloudfront, &cloudfront) {
            (false, _) => world_on(port, marker).to_vec(),
            (true, Some(list)) => vec![prefix_list_on(list, port, marker)],
            (true, None) => vec![],
        }
    };
    let needed: Vec<_> = match want {
        Ingress::Internet => [80, 443].into_iter().flat_map(|p| rule(p, false)).collect(),
        Ingress::CloudFront { port } => rule(port, true),
    };
    let part = format!("the load balancer's ingress on {sg}");
    for perm in &needed {
        authorize_ingress(c, sg, perm.clone(), &part).await?;
    }
    let others = [false, true]
        .into_iter()
        .flat_map(|from_cloudfront| [80, 443].map(|p| rule(p, from_cloudfront)))
        .flatten()
        .filter(|perm| !needed.contains(perm));
    for perm in others {
        revoke_ingress(c, sg, perm, &part).await?;
    }
    Ok(())
}

/// The (group, port) pairs in the VPC that let `source` in with a rule marked `marker`.
pub async fn groups_allowing(
    c: &Client,
    vpc_id: &str,
    source: &str,
    marker: &str,
) -> Result<Vec<(String, i32)>> {
    let out = c
        .describe_security_groups()
        .filters(filter("vpc-id", vpc_id))
        .send()
        .await
        .map_err(|e| ec2_error("finding", &format!("security groups open to {source}"), e))?;
    let mut found = Vec::new();
    for g in out.security_groups() {
        for p in g.ip_permissions() {
            let ours = p
                .user_id_group_pairs()
                .iter()
                .any(|pair| pair.group_id() == Some(source) && pair.description() == Some(marker));
            if let (true, Some(id), Some(port)) = (ours, g.group_id(), p.from_port()) {
                found.push((id.to_string(), port));
            }
        }
    }
    found.sort();
    found.dedup();
    Ok(found)
}

/// How long the interfaces of a deleted load balancer are waited for before
/// the deletes that follow take over (terraform-provider-aws
/// `loadBalancerNetworkInterfaceDetachTimeout`: 5 minutes; twice that here).
pub const LOAD_BALANCER_INTERFACES_RELEASE: Duration = Duration::from_secs(10 * 60);

/// Waits until no network interface is described `description` (Elastic
/// Load Balancing describes a load balancer's as "ELB app/<name>/<id>"), at
/// most `limit`: they outlive the load balancer ("ALB automatically creates
/// ENI(s) on creation but the cleanup is asynchronous", terraform-provider-aws
/// `elbv2/load_balancer.go` `waitForALBNetworkInterfacesToDetach`). Until
/// they go, the security group and subnets they are in cannot be deleted.
pub async fn wait_interfaces_released(
    c: &Client,
    description: &str,
    limit: Duration,
) -> Result<()> {
    let part = format!("network interfaces {description:?}");
    Wait {
        part: &part,
        goal: "released",
        done: &[],
        pending: &["in-use"],
        missing: Missing::Done,
        timeout: limit,
    }
    .until(|| async {
        let out = c
            .describe_network_interfaces()
            .filters(filter("description", description))
            .send()
            .await
            .map_err(|e| ec2_error("listing", &part, e))?;
        Ok((!out.network_interfaces().is_empty()).then(|| Seen::status("in-use")))
    })
    .await
    .map(|_| ())
}

#[cfg(test)]
#[path = "ec2_tests.rs"]
mod tests;
