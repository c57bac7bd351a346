//! EC2 instances (a bastion host) and the Elastic IP that follows one.

use std::time::Duration;

use aws_sdk_ec2::types::{
    BlockDeviceMapping, DomainType, EbsBlockDevice, Filter, HttpTokensState,
    IamInstanceProfileSpecification, InstanceMetadataEndpointState, InstanceMetadataOptionsRequest,
    InstanceType, IpPermission, IpRange, ResourceType, VolumeType,
};
use aws_sdk_ec2::Client;

use super::ec2::{ec2_error, filter, tag_spec};
use super::wait::{Missing, Seen, Wait};
use super::{gone_is_done, gone_is_none, retry_eventual, retry_eventual_when};
use crate::error::{Error, Result};

pub use super::Tags;

/// The newest AMI of a Marketplace product (by its product code) that the
/// account can launch; `None` when there is none in the region.
pub async fn marketplace_ami(c: &Client, product_code: &str) -> Result<Option<String>> {
    let out = c
        .describe_images()
        .owners("aws-marketplace")
        .filters(filter("product-code", product_code))
        .filters(filter("state", "available"))
        .send()
        .await
        .map_err(|e| ec2_error("finding", &format!("the AMI of product {product_code}"), e))?;
    let mut images: Vec<(String, String)> = out
        .images()
        .iter()
        .filter_map(|i| {
            Some((
                i.creation_date().unwrap_or_default().to_string(),
                i.image_id()?.to_string(),
            ))
        })
        .collect();
    images.sort();
    Ok(images.pop().map(|(_, id)| id))
}

/// The AMI's root device and the size of its root volume in GiB; `None`
/// when the AMI does not exist (or is not available to the account).
pub async fn image_root(c: &Client, ami: &str) -> Result<Option<(String, i32)>> {
    let out = gone_is_none(
        c.describe_images()
            .image_ids(ami)
            .send()
            .await
            .map_err(|e| ec2_error("describing", &format!("AMI {ami}"), e)),
    )?;
    let Some(image) = out.as_ref().and_then(|o| o.images().first()) else {
        return Ok(None);
    };
    let device = image.root_device_name().unwrap_or("/dev/xvda").to_string();
    let size = image
        .block_device_mappings()
        .iter()
        .find(|m| m.device_name() == Some(device.as_str()))
        .and_then(|m| m.ebs())
        .and_then(|e| e.volume_size())
        .unwrap_or(8);
    Ok(Some((device, size.max(8))))
}

/// What a host is launched with.
#[derive(Clone, Debug)]
pub struct Launch<'a> {
    pub ami: &'a str,
    pub instance_type: &'a str,
    pub subnet_id: &'a str,
    pub security_group_id: &'a str,
    pub instance_profile: &'a str,
    pub user_data: Option<String>,
    pub tags: &'a Tags,
}

/// Launches one instance: instance metadata through IMDSv2 only (session
/// tokens required), an encrypted root volume deleted with the instance, no
/// key pair. Returns its id.
pub async fn run_instance(c: &Client, l: &Launch<'_>) -> Result<String> {
    let part = format!("an instance of {}", l.ami);
    let (device, size) = image_root(c, l.ami).await?.ok_or_else(|| Error::NotFound {
        action: "launching".into(),
        part: format!("AMI {}", l.ami),
    })?;
    let root = BlockDeviceMapping::builder()
        .device_name(device)
        .ebs(
            EbsBlockDevice::builder()
                .encrypted(true)
                .volume_type(VolumeType::Gp3)
                .volume_size(size)
                .delete_on_termination(true)
                .build(),
        )
        .build();
    let user_data = l.user_data.as_deref().map(base64);
    // An instance profile made a moment ago is not yet known to EC2: "Value
    // (...) for parameter iamInstanceProfile.name is invalid. Invalid IAM
    // Instance Profile name", or "... has no associated IAM Roles" while its
    // role is added (terraform-provider-aws retries both for its 2-minute
    // propagation timeout; here until the create deadline).
    let propagating = [
        ("InvalidParameterValue", "Invalid IAM Instance Profile"),
        ("InvalidParameterValue", "has no associated IAM Roles"),
    ];
    let out = retry_eventual_when(&propagating, || async {
        c.run_instances()
            .image_id(l.ami)
            .instance_type(InstanceType::from(l.instance_type))
            .min_count(1)
            .max_count(1)
            .subnet_id(l.subnet_id)
            .security_group_ids(l.security_group_id)
            .iam_instance_profile(
                IamInstanceProfileSpecification::builder()
                    .name(l.instance_profile)
                    .build(),
            )
            .metadata_options(
                InstanceMetadataOptionsRequest::builder()
                    .http_tokens(HttpTokensState::Required)
                    .http_endpoint(InstanceMetadataEndpointState::Enabled)
                    .http_put_response_hop_limit(1)
                    .build(),
            )
            .block_device_mappings(root.clone())
            .set_user_data(user_data.clone())
            .tag_specifications(tag_spec(ResourceType::Instance, l.tags))
            .tag_specifications(tag_spec(ResourceType::Volume, l.tags))
            .send()
            .await
            .map_err(|e| ec2_error("launching", &part, e))
    })
    .await?;
    out.instances()
        .first()
        .and_then(|i| i.instance_id())
        .map(str::to_string)
        .ok_or_else(|| Error::Request {
            action: "launching".into(),
            part,
            message: "RunInstances returned no instance".into(),
        })
}

fn base64(s: &str) -> String {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ABC[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// An instance as EC2 has it.
#[derive(Clone, Debug, PartialEq)]
pub struct InstanceInfo {
    pub id: String,
    pub state: String,
    pub ami: String,
    pub instance_type: String,
    pub subnet_id: String,
    pub vpc_id: String,
    pub private_ip: Option<String>,
    pub public_ip: Option<String>,
    pub instance_profile_arn: Option<String>,
    pub security_groups: Vec<String>,
    pub tokens_required: bool,
    pub tags: Tags,
}

fn info(i: &aws_sdk_ec2::types::Instance) -> InstanceInfo {
    InstanceInfo {
        id: i.instance_id().unwrap_or_default().to_string(),
        state: i
            .state()
            .and_then(|s| s.name())
            .map(|n| n.as_str().to_string())
            .unwrap_or_default(),
        ami: i.image_id().unwrap_or_default().to_string(),
        instance_type: i
            .instance_type()
            .map(|t| t.as_str().to_string())
            .unwrap_or_default(),
        subnet_id: i.subnet_id().unwrap_or_default().to_string(),
        vpc_id: i.vpc_id().unwrap_or_default().to_string(),
        private_ip: i.private_ip_address().map(str::to_string),
        public_ip: i.public_ip_address().map(str::to_string),
        instance_profile_arn: i
            .iam_instance_profile()
            .and_then(|p| p.arn())
            .map(str::to_string),
        security_groups: i
            .security_groups()
            .iter()
            .filter_map(|g| g.group_id().map(str::to_string))
            .collect(),
        tokens_required: i
            .metadata_options()
            .and_then(|m| m.http_tokens())
            .is_some_and(|t| *t == HttpTokensState::Required),
        tags: super::ec2::tags_of(i.tags()),
    }
}

/// Whether an instance in `state` is still a host (not going or gone).
pub fn live(state: &str) -> bool {
    matches!(state, "pending" | "running" | "stopping" | "stopped")
}

/// The instance; `None` when EC2 no longer knows it.
pub async fn describe_instance(c: &Client, id: &str) -> Result<Option<InstanceInfo>> {
    let out = gone_is_none(
        c.describe_instances()
            .instance_ids(id)
            .send()
            .await
            .map_err(|e| ec2_error("describing", &format!("instance {id}"), e)),
    )?;
    Ok(out.and_then(|o| {
        o.reservations()
            .iter()
            .flat_map(|r| r.instances())
            .next()
            .map(info)
    }))
}

/// The live instances tagged with `tag` = `value` (in `vpc_id` when given), newest first.
pub async fn instances_tagged(
    c: &Client,
    vpc_id: Option<&str>,
    tag: &str,
    value: &str,
) -> Result<Vec<InstanceInfo>> {
    let out = c
        .describe_instances()
        .set_filters(Some(
            vpc_id
                .map(|v| filter("vpc-id", v))
                .into_iter()
                .chain([
                    filter(&format!("tag:{tag}"), value),
                    Filter::builder()
                        .name("instance-state-name")
                        .values("pending")
                        .values("running")
                        .values("stopping")
                        .values("stopped")
                        .build(),
                ])
                .collect(),
        ))
        .send()
        .await
        .map_err(|e| ec2_error("finding", &format!("instances tagged {tag}={value}"), e))?;
    let mut found: Vec<(String, InstanceInfo)> = out
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .map(|i| {
            (
                i.launch_time().map(|t| t.to_string()).unwrap_or_default(),
                info(i),
            )
        })
        .collect();
    found.sort_by(|a, b| b.0.cmp(&a.0));
    Ok(found.into_iter().map(|(_, i)| i).collect())
}

/// The allocation id of the Elastic IP associated with the instance, if any.
pub async fn address_of_instance(c: &Client, instance_id: &str) -> Result<Option<String>> {
    let out = c
        .describe_addresses()
        .filters(filter("instance-id", instance_id))
        .send()
        .await
        .map_err(|e| ec2_error("describing", &format!("the Elastic IP of {instance_id}"), e))?;
    Ok(out
        .addresses()
        .first()
        .and_then(|a| a.allocation_id())
        .map(str::to_string))
}

/// One poll of the instance's state.
async fn state_of(c: &Client, id: &str) -> Result<Option<Seen>> {
    Ok(describe_instance(c, id)
        .await?
        .map(|i| Seen::status(i.state)))
}

/// Waits until the instance runs (pending → running).
pub async fn wait_running(c: &Client, id: &str, limit: Duration) -> Result<()> {
    let part = format!("instance {id}");
    Wait {
        part: &part,
        goal: "running",
        done: &["running"],
        pending: &["pending"],
        missing: Missing::WhileNew,
        timeout: limit,
    }
    .until(|| state_of(c, id))
    .await
    .map(|_| ())
}

/// Waits until EC2's status checks of the instance and of its host pass.
pub async fn wait_status_ok(c: &Client, id: &str, limit: Duration) -> Result<()> {
    let part = format!("the status checks of instance {id}");
    Wait {
        part: &part,
        goal: "passed",
        done: &["ok"],
        pending: &["initializing", "not yet reported", "insufficient-data"],
        missing: Missing::WhileNew,
        timeout: limit,
    }
    .until(|| async {
        let out = c
            .describe_instance_status()
            .instance_ids(id)
            .include_all_instances(true)
            .send()
            .await
            .map_err(|e| ec2_error("describing", &part, e))?;
        let Some(s) = out.instance_statuses().first() else {
            return Ok(Some(Seen::status("not yet reported")));
        };
        let of = |s: Option<&aws_sdk_ec2::types::InstanceStatusSummary>| {
            s.and_then(|s| s.status())
                .map(|x| x.as_str().to_string())
                .unwrap_or_else(|| "not yet reported".into())
        };
        let (instance, system) = (of(s.instance_status()), of(s.system_status()));
        Ok(Some(if instance == "ok" && system == "ok" {
            Seen::status("ok")
        } else if instance == "impaired" || system == "impaired" {
            Seen::with_reason("impaired", format!("instance {instance}, system {system}"))
        } else {
            Seen::status(if instance == "ok" { system } else { instance })
        }))
    })
    .await
    .map(|_| ())
}

/// Terminates the instance and waits until it is `terminated` (its network
/// interface, and so its security group, are let go only then). Gone is done.
pub async fn terminate(c: &Client, id: &str, limit: Duration) -> Result<()> {
    let part = format!("instance {id}");
    let res = c
        .terminate_instances()
        .instance_ids(id)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| ec2_error("terminating", &part, e));
    if let Err(e) = res {
        return gone_is_done(Err(e));
    }
    Wait {
        part: &part,
        goal: "terminated",
        done: &["terminated"],
        pending: &["pending", "running", "shutting-down", "stopping", "stopped"],
        missing: Missing::Done,
        timeout: limit,
    }
    .until(|| state_of(c, id))
    .await
    .map(|_| ())
}

/// Requires IMDSv2 session tokens again (every field sent, as EC2 replaces
/// the options whole on some endpoints).
pub async fn require_tokens(c: &Client, id: &str) -> Result<()> {
    c.modify_instance_metadata_options()
        .instance_id(id)
        .http_tokens(HttpTokensState::Required)
        .http_endpoint(InstanceMetadataEndpointState::Enabled)
        .http_put_response_hop_limit(1)
        .send()
        .await
        .map_err(|e| ec2_error("requiring IMDSv2 on", &format!("instance {id}"), e))?;
    Ok(())
}

pub async fn allocate_address(c: &Client, tags: &Tags) -> Result<String> {
    let out = c
        .allocate_address()
        .domain(DomainType::Vpc)
        .tag_specifications(tag_spec(ResourceType::ElasticIp, tags))
        .send()
        .await
        .map_err(|e| ec2_error("allocating", "an Elastic IP", e))?;
    Ok(out.allocation_id().unwrap_or_default().to_string())
}

/// The address's public IP and the instance it is associated with; `None`
/// when the allocation is gone.
pub async fn address(c: &Client, allocation_id: &str) -> Result<Option<(String, Option<String>)>> {
    let out = gone_is_none(
        c.describe_addresses()
            .allocation_ids(allocation_id)
            .send()
            .await
            .map_err(|e| ec2_error("describing", &format!("Elastic IP {allocation_id}"), e)),
    )?;
    Ok(out.and_then(|o| {
        o.addresses().first().map(|a| {
            (
                a.public_ip().unwrap_or_default().to_string(),
                a.instance_id().map(str::to_string),
            )
        })
    }))
}

/// Moves the address to the instance (from the old host, at once).
pub async fn associate_address(c: &Client, allocation_id: &str, instance_id: &str) -> Result<()> {
    let part = format!("Elastic IP {allocation_id} to {instance_id}");
    // A just-launched instance is not yet in a valid state for a moment
    // (terraform-provider-aws retries "InvalidInstanceID" while it propagates).
    retry_eventual(
        &["InvalidInstanceID", "InvalidInstanceID.NotFound"],
        || async {
            c.associate_address()
                .allocation_id(allocation_id)
                .instance_id(instance_id)
                .allow_reassociation(true)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| ec2_error("associating", &part, e))
        },
    )
    .await
}

/// Disassociates the address from its instance, then releases it. Gone is done.
pub async fn release_address(c: &Client, allocation_id: &str) -> Result<()> {
    let part = format!("Elastic IP {allocation_id}");
    let described = gone_is_none(
        c.describe_addresses()
            .allocation_ids(allocation_id)
            .send()
            .await
            .map_err(|e| ec2_error("describing", &part, e)),
    )?;
    let association = described
        .as_ref()
        .and_then(|o| o.addresses().first())
        .and_then(|a| a.association_id())
        .map(str::to_string);
    if described.is_none() {
        return Ok(());
    }
    if let Some(association) = association {
        gone_is_done(
            c.disassociate_address()
                .association_id(association)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| ec2_error("disassociating", &part, e)),
        )?;
    }
    super::ec2::release_eip(c, allocation_id).await
}

/// `(protocol, port, cidr)` of every inbound rule of the group from an IPv4 range.
pub async fn ingress_cidrs(c: &Client, sg: &str) -> Result<Option<Vec<(String, i32, String)>>> {
    let out = gone_is_none(
        c.describe_security_groups()
            .group_ids(sg)
            .send()
            .await
            .map_err(|e| ec2_error("describing", &format!("security group {sg}"), e)),
    )?;
    let Some(g) = out.as_ref().and_then(|o| o.security_groups().first()) else {
        return Ok(None);
    };
    let mut rules: Vec<(String, i32, String)> = g
        .ip_permissions()
        .iter()
        .flat_map(|p| {
            p.ip_ranges().iter().filter_map(move |r| {
                Some((
                    p.ip_protocol().unwrap_or_default().to_string(),
                    p.from_port().unwrap_or_default(),
                    r.cidr_ip()?.to_string(),
                ))
            })
        })
        .collect();
    rules.sort();
    Ok(Some(rules))
}

fn cidr_rule(protocol: &str, port: i32, cidr: &str, marker: &str) -> IpPermission {
    IpPermission::builder()
        .ip_protocol(protocol)
        .from_port(port)
        .to_port(port)
        .ip_ranges(IpRange::builder().cidr_ip(cidr).description(marker).build())
        .build()
}

/// Makes the group's inbound rules from IPv4 ranges exactly `want`: adds
/// the missing ones first, then revokes the others.
pub async fn set_ingress_cidrs(
    c: &Client,
    sg: &str,
    want: &[(String, i32, String)],
    marker: &str,
) -> Result<()> {
    let had = ingress_cidrs(c, sg).await?.unwrap_or_default();
    let part = format!("inbound rules of {sg}");
    for (protocol, port, cidr) in want.iter().filter(|r| !had.contains(r)) {
        let res = c
            .authorize_security_group_ingress()
            .group_id(sg)
            .ip_permissions(cidr_rule(protocol, *port, cidr, marker))
            .send()
            .await
            .map_err(|e| ec2_error("allowing", &part, e));
        match res {
            Err(e) if e.code() == Some("InvalidPermission.Duplicate") => {}
            other => {
                other?;
            }
        }
    }
    for (protocol, port, cidr) in had.iter().filter(|r| !want.contains(r)) {
        gone_is_done(
            c.revoke_security_group_ingress()
                .group_id(sg)
                .ip_permissions(
                    IpPermission::builder()
                        .ip_protocol(protocol)
                        .from_port(*port)
                        .to_port(*port)
                        .ip_ranges(IpRange::builder().cidr_ip(cidr).build())
                        .build(),
                )
                .send()
                .await
                .map(|_| ())
                .map_err(|e| ec2_error("revoking", &part, e)),
        )?;
    }
    Ok(())
}

/// Retags an instance and its volumes.
pub async fn set_instance_tags(c: &Client, id: &str, had: &Tags, want: &Tags) -> Result<()> {
    let volumes = c
        .describe_volumes()
        .filters(filter("attachment.instance-id", id))
        .send()
        .await
        .map_err(|e| ec2_error("listing", &format!("volumes of {id}"), e))?;
    super::ec2::set_tags(c, id, had, want).await?;
    for v in volumes.volumes() {
        if let Some(vid) = v.volume_id() {
            super::ec2::set_tags(c, vid, had, want).await?;
        }
    }
    Ok(())
}

/// The root volume's encryption: whether every volume of the instance is encrypted.
pub async fn volumes_encrypted(c: &Client, id: &str) -> Result<bool> {
    let out = c
        .describe_volumes()
        .filters(filter("attachment.instance-id", id))
        .send()
        .await
        .map_err(|e| ec2_error("listing", &format!("volumes of {id}"), e))?;
    Ok(out.volumes().iter().all(|v| v.encrypted() == Some(true)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn user_data_is_base64() {
        assert_eq!(super::base64(""), "");
        assert_eq!(super::base64("f"), "Zg==");
        assert_eq!(super::base64("fo"), "Zm8=");
        assert_eq!(super::base64("foo"), "Zm9v");
        assert_eq!(super::base64("#!/bin/bash\n"), "IyEvYmluL2Jhc2gK");
    }
}
