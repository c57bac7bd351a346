//! Reading a fansite_bastion back from AWS.

use crate::aws::{ec2, iam, instance, logs, secrets, ssm, Aws, OWNER_TAG};
use crate::error::Result;
use crate::resources::{in_configured_order, null_if_unset, own_tags};

use super::state::{BastionState, PortForward, Tags, DEFAULT_IDLE_MINUTES};

/// The bastion as AWS has it now. `None`: nothing of it is left. A part that
/// is gone reads as null, so that the plan makes it again.
///
/// Not refreshed (listed in the docs): `vpc_id` (fixed at create), and with
/// `openvpn` the `vpn_routes` the host was given at its first boot.
pub async fn find(aws: &Aws, hints: &BastionState) -> Result<Option<BastionState>> {
    let host = match &hints.instance_id {
        Some(id) => instance::describe_instance(&aws.ec2, id)
            .await?
            .filter(|i| instance::live(&i.state)),
        None => None,
    };
    let sg = match &hints.security_group_id {
        Some(sg) => instance::ingress_cidrs(&aws.ec2, sg)
            .await?
            .map(|rules| (sg.clone(), rules)),
        None => None,
    };
    let role_arn = iam::role_arn(&aws.iam, &hints.role_name()).await?;
    if host.is_none() && sg.is_none() && role_arn.is_none() {
        return Ok(None);
    }
    let mut found = BastionState {
        role_arn,
        instance_id: None,
        private_ip: None,
        security_group_id: None,
        ..hints.clone()
    };

    if let Some(h) = &host {
        found.instance_id = Some(h.id.clone());
        found.private_ip = h.private_ip.clone();
        found.ami_id = h.ami.clone();
        found.instance_type = h.instance_type.clone();
        found.subnet_id = h.subnet_id.clone();
        // A host whose instance metadata takes IMDSv1 again, or that runs
        // without its group, is not the host this resource makes: it reads
        // as gone, and the next apply replaces it.
        let sound = h.tokens_required
            && hints
                .security_group_id
                .as_ref()
                .is_none_or(|sg| h.security_groups.contains(sg));
        if !sound {
            found.instance_id = None;
        }
        let tags: Tags = h
            .tags
            .iter()
            .filter(|(k, _)| k.as_str() != "Name" && k.as_str() != OWNER_TAG)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        found.tags = null_if_unset(&hints.tags, own_tags(&tags, &aws.default_tags));
        found.tags_all = tags;
    }

    // The group's inbound rules from IPv4 ranges: with OpenVPN, the ranges
    // on every VPN port; any other rule reads as a range of its own, so that
    // the plan removes it.
    if let Some((id, rules)) = &sg {
        found.security_group_id = Some(id.clone());
        let mut cidrs: Vec<String> = rules.iter().map(|(_, _, c)| c.clone()).collect();
        cidrs.sort();
        cidrs.dedup();
        let complete = |cidr: &String| {
            super::state::VPN_PORTS.iter().all(|(p, port)| {
                rules
                    .iter()
                    .any(|(rp, rport, rc)| rp == p && rport == port && rc == cidr)
            })
        };
        let shaped = rules.iter().all(|(p, port, _)| {
            super::state::VPN_PORTS
                .iter()
                .any(|(vp, vport)| vp == p && vport == port)
        });
        let read: Vec<String> = if found.openvpn() && shaped {
            cidrs.iter().filter(|c| complete(c)).cloned().collect()
        } else {
            cidrs.clone()
        };
        let read = if found.openvpn() && read.len() != cidrs.len() {
            // A range on only some of the ports: shown as its own entry.
            cidrs
                .iter()
                .map(|c| {
                    if complete(c) {
                        c.clone()
                    } else {
                        format!("{c} (partly)")
                    }
                })
                .collect()
        } else {
            read
        };
        found.allowed_cidrs = match &hints.allowed_cidrs {
            Some(configured) => Some(in_configured_order(configured, read)),
            None if read.is_empty() => None,
            None => Some(read),
        };
    }

    if found.openvpn() {
        if let Some(arn) = &hints.admin_secret_arn {
            found.admin_secret_arn = secrets::read_secret(&aws.secrets, arn)
                .await?
                .map(|_| arn.clone());
        }
        if let Some(alloc) = &hints.elastic_ip_id {
            match instance::address(&aws.ec2, alloc).await? {
                Some((ip, on)) => {
                    found.public_ip = Some(ip);
                    // An address moved off the host: the host reads as not
                    // fully made, and the next apply associates it again.
                    if on.is_none() || on != found.instance_id {
                        found.instance_id = None;
                    }
                }
                None => {
                    found.elastic_ip_id = None;
                    found.public_ip = None;
                }
            }
        }
    } else {
        found.log_group_name = match logs::retention(&aws.logs, &hints.log_group()).await? {
            Some(days) => {
                found.session_log_retention_days = i64::from(days);
                Some(hints.log_group())
            }
            None => None,
        };
        found.session_document_name =
            match ssm::document(&aws.ssm, &hints.session_document()).await? {
                Some(content) => {
                    let v: serde_json::Value = serde_json::from_str(&content).unwrap_or_default();
                    let inputs = &v["inputs"];
                    found.idle_session_timeout = inputs["idleSessionTimeout"]
                        .as_str()
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(DEFAULT_IDLE_MINUTES);
                    found.session_log_bucket = inputs["s3BucketName"]
                        .as_str()
                        .filter(|b| !b.is_empty())
                        .map(str::to_string);
                    // Anything else changed (the log group, streaming, the
                    // shell): the document reads as gone and is written again.
                    ssm::same_json(&content, &found.session_document_content())
                        .then(|| hints.session_document())
                }
                None => None,
            };
        found.port_forward_document_name = match &hints.port_forward {
            Some(p) => match ssm::document(&aws.ssm, &hints.port_forward_document()).await? {
                Some(content) => {
                    let v: serde_json::Value = serde_json::from_str(&content).unwrap_or_default();
                    let props = &v["properties"];
                    found.port_forward = Some(PortForward {
                        host: props["host"].as_str().unwrap_or_default().to_string(),
                        port: props["portNumber"]
                            .as_str()
                            .and_then(|s| s.parse().ok())
                            .unwrap_or(p.port),
                        local_port: v["parameters"]["localPortNumber"]["default"]
                            .as_str()
                            .and_then(|s| s.parse().ok()),
                    });
                    ssm::same_json(
                        &content,
                        &found.port_forward_document_content().unwrap_or_default(),
                    )
                    .then(|| hints.port_forward_document())
                }
                None => None,
            },
            None => None,
        };
    }

    // Rules this bastion added to other groups: those still there.
    if let Some(sg) = &found.security_group_id {
        let mut kept = Vec::new();
        for a in &hints.allow_to {
            let g = ec2::find_security_group(
                &aws.ec2,
                &a.security_group_id,
                a.port,
                &hints.rule_marker(),
            )
            .await?;
            if g.is_some_and(|g| g.sources.contains(sg)) {
                kept.push(a.clone());
            }
        }
        found.allow_to = kept;
    }
    Ok(Some(found))
}

/// The bastion named `name` in this region, from its host's owner tag (for
/// import): the newest live host so tagged, and its parts by their names.
pub async fn by_name(aws: &Aws, name: &str) -> Result<Option<BastionState>> {
    let probe = BastionState {
        name: name.to_string(),
        ..BastionState::default()
    };
    let owner = probe.owner(&aws.region);
    let hosts = instance::instances_tagged(&aws.ec2, None, OWNER_TAG, &owner).await?;
    let Some(host) = hosts.into_iter().next() else {
        return Ok(None);
    };
    let sg = host.security_groups.first().cloned();
    let mut hints = BastionState {
        name: name.to_string(),
        vpc_id: host.vpc_id.clone(),
        subnet_id: host.subnet_id.clone(),
        instance_id: Some(host.id.clone()),
        security_group_id: sg,
        ..BastionState::default()
    };
    // The mode, from its parts: an admin password is OpenVPN's.
    if let Some(arn) = secrets::secret_named(&aws.secrets, &hints.admin_secret_name()).await? {
        hints.mode = "openvpn".into();
        hints.admin_secret_arn = Some(arn);
        hints.elastic_ip_id = instance::address_of_instance(&aws.ec2, &host.id).await?;
        hints.allowed_cidrs = Some(Vec::new());
    } else {
        hints.port_forward = ssm::document(&aws.ssm, &hints.port_forward_document())
            .await?
            .map(|_| PortForward::default());
    }
    if let Some(sg) = &hints.security_group_id {
        hints.allow_to = ec2::groups_allowing(&aws.ec2, &hints.vpc_id, sg, &hints.rule_marker())
            .await?
            .into_iter()
            .map(|(security_group_id, port)| super::state::AllowTo {
                security_group_id,
                port,
            })
            .collect();
    }
    let mut found = find(aws, &hints).await?;
    if let Some(f) = &mut found {
        if f.openvpn() {
            f.allowed_cidrs = f.allowed_cidrs.clone().or(Some(Vec::new()));
            // Given at the first boot only; the VPC's range is the default.
            f.vpn_routes = ec2::find_vpc(&aws.ec2, &f.vpc_id)
                .await?
                .map(|v| vec![v.cidr_block]);
        }
    }
    Ok(found)
}
