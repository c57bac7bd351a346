//! Making, changing and removing the bastion's parts, recording each id in
//! `cur` the moment the part exists, so that a failure loses nothing.

use crate::aws::{ec2, iam, instance, logs, secrets, ssm, Aws, OWNER_TAG};
use crate::error::Result;

use super::state::{BastionState, Tags, ROLE_POLICY, VPN_PORTS};

fn part_tags(s: &BastionState, name: &str) -> Tags {
    let mut t = s.tags_all.clone();
    t.insert("Name".into(), name.to_string());
    t
}

/// The host's tags: its name, and the owner tag by which a create that
/// resumes finds a host it launched before failing.
fn host_tags(aws: &Aws, s: &BastionState) -> Tags {
    let mut t = part_tags(s, &s.name);
    t.insert(OWNER_TAG.into(), s.owner(&aws.region));
    t
}

/// The inbound rules of the host's group: none with Session Manager; the
/// VPN's ports from `allowed_cidrs` with OpenVPN.
fn ingress(s: &BastionState) -> Vec<(String, i32, String)> {
    let mut rules: Vec<(String, i32, String)> = if s.openvpn() {
        s.allowed_cidrs
            .iter()
            .flatten()
            .flat_map(|cidr| {
                VPN_PORTS
                    .iter()
                    .map(move |(proto, port)| (proto.to_string(), *port, cidr.clone()))
            })
            .collect()
    } else {
        Vec::new()
    };
    rules.sort();
    rules
}

/// The account id, from a role's ARN.
fn account_of(role_arn: &str) -> String {
    role_arn.split(':').nth(4).unwrap_or_default().to_string()
}

/// The parts a host needs, in order: the group and its rules, the session
/// logs and documents (or the admin password and the address), the role and
/// instance profile. Each is made when missing and brought to `want`.
async fn sync_parts(aws: &Aws, cur: &mut BastionState, want: &BastionState) -> Result<()> {
    let owner = want.owner(&aws.region);
    // The group.
    let sg = match &cur.security_group_id {
        Some(sg) => sg.clone(),
        None => {
            match ec2::security_group_named(&aws.ec2, &want.vpc_id, &want.security_group_name())
                .await?
            {
                Some(sg) => sg,
                None => {
                    ec2::create_security_group(
                        &aws.ec2,
                        &want.vpc_id,
                        &want.security_group_name(),
                        &format!(
                            "Bastion {}: {}",
                            want.name,
                            if want.openvpn() {
                                "OpenVPN from allowed_cidrs only"
                            } else {
                                "no inbound rule; Session Manager only"
                            }
                        ),
                        &part_tags(want, &want.security_group_name()),
                    )
                    .await?
                }
            }
        }
    };
    cur.security_group_id = Some(sg.clone());
    instance::set_ingress_cidrs(&aws.ec2, &sg, &ingress(want), &want.rule_marker()).await?;
    cur.allowed_cidrs = want.allowed_cidrs.clone();

    if want.openvpn() {
        // The admin password: made by Secrets Manager, read by the host only.
        let secret = match &cur.admin_secret_arn {
            Some(arn) => arn.clone(),
            None => match secrets::secret_named(&aws.secrets, &want.admin_secret_name()).await? {
                Some(arn) => arn,
                None => {
                    let value = secrets::random_value(&aws.secrets).await?;
                    secrets::create_secret(
                        &aws.secrets,
                        &want.admin_secret_name(),
                        &format!("Password of the openvpn admin user of the OpenVPN Access Server of fansite_bastion {}.", want.name),
                        value.expose(),
                        &part_tags(want, &want.admin_secret_name()),
                    )
                    .await?
                }
            },
        };
        cur.admin_secret_arn = Some(secret);
        if cur.elastic_ip_id.is_none() {
            cur.elastic_ip_id =
                Some(instance::allocate_address(&aws.ec2, &part_tags(want, &want.name)).await?);
        }
    } else {
        logs::ensure_log_group(
            &aws.logs,
            &want.log_group(),
            i32::try_from(want.session_log_retention_days).unwrap_or(90),
            &part_tags(want, &want.log_group()),
        )
        .await?;
        cur.log_group_name = Some(want.log_group());
        cur.session_log_retention_days = want.session_log_retention_days;
    }

    // The host's role and instance profile.
    let role = want.role_name();
    let (role_arn, _) = iam::ensure_role_made(
        &aws.iam,
        &role,
        "ec2.amazonaws.com",
        &part_tags(want, &role),
        &owner,
    )
    .await?;
    cur.role_arn = Some(role_arn.clone());
    iam::attach_policy(&aws.iam, &role, iam::SSM_MANAGED_INSTANCE_CORE).await?;
    let with_ids = BastionState {
        admin_secret_arn: cur.admin_secret_arn.clone(),
        ..want.clone()
    };
    iam::put_inline_policy(
        &aws.iam,
        &role,
        ROLE_POLICY,
        &with_ids.role_policy(&aws.region, &account_of(&role_arn)),
    )
    .await?;
    iam::ensure_instance_profile(&aws.iam, &role, &role, &part_tags(want, &role), &owner).await?;

    if !want.openvpn() {
        // The session preferences, and the one place to forward to.
        ssm::ensure_document(
            &aws.ssm,
            &want.session_document(),
            &want.session_document_content(),
            &part_tags(want, &want.session_document()),
        )
        .await?;
        cur.session_document_name = Some(want.session_document());
        cur.idle_session_timeout = want.idle_session_timeout;
        cur.session_log_bucket = want.session_log_bucket.clone();
        match want.port_forward_document_content() {
            Some(content) => {
                ssm::ensure_document(
                    &aws.ssm,
                    &want.port_forward_document(),
                    &content,
                    &part_tags(want, &want.port_forward_document()),
                )
                .await?;
                cur.port_forward_document_name = Some(want.port_forward_document());
            }
            None => {
                ssm::delete_document(&aws.ssm, &want.port_forward_document()).await?;
                cur.port_forward_document_name = None;
            }
        }
        cur.port_forward = want.port_forward.clone();
    }
    Ok(())
}

/// Launches a host for `want` and waits until it serves: running, and its
/// Systems Manager agent online (ssm) or EC2's status checks passed
/// (openvpn, whose port the provider may not be allowed to reach: only
/// `allowed_cidrs` are). The id is in `launched` as soon as EC2 gives it.
async fn launch_host(
    aws: &Aws,
    want: &BastionState,
    admin_secret_arn: Option<&String>,
    launched: &mut Vec<String>,
    sg: &str,
) -> Result<String> {
    let with_ids = BastionState {
        admin_secret_arn: admin_secret_arn.cloned(),
        ..want.clone()
    };
    let tags = host_tags(aws, want);
    let id = instance::run_instance(
        &aws.ec2,
        &instance::Launch {
            ami: &want.ami_id,
            instance_type: &want.instance_type,
            subnet_id: &want.subnet_id,
            security_group_id: sg,
            instance_profile: &want.role_name(),
            user_data: want
                .openvpn()
                .then(|| with_ids.openvpn_user_data(&aws.region)),
            tags: &tags,
        },
    )
    .await?;
    launched.push(id.clone());
    instance::wait_running(&aws.ec2, &id, crate::ctx::remaining()).await?;
    if want.openvpn() {
        instance::wait_status_ok(&aws.ec2, &id, crate::ctx::remaining()).await?;
    } else {
        ssm::wait_online(&aws.ssm, &id, ssm::AGENT_ONLINE).await?;
    }
    Ok(id)
}

/// Records what EC2 says of the host.
async fn record_host(
    aws: &Aws,
    cur: &mut BastionState,
    want: &BastionState,
    id: &str,
) -> Result<()> {
    cur.instance_id = Some(id.to_string());
    cur.ami_id = want.ami_id.clone();
    cur.instance_type = want.instance_type.clone();
    cur.subnet_id = want.subnet_id.clone();
    cur.vpn_routes = want.vpn_routes.clone();
    if let Some(alloc) = cur.elastic_ip_id.clone() {
        instance::associate_address(&aws.ec2, &alloc, id).await?;
        cur.public_ip = instance::address(&aws.ec2, &alloc).await?.map(|(ip, _)| ip);
    }
    cur.private_ip = instance::describe_instance(&aws.ec2, id)
        .await?
        .and_then(|i| i.private_ip);
    Ok(())
}

/// Makes every part, in dependency order. Parts an earlier create left
/// (found by name, or a host by its owner tag) are taken over.
pub async fn create_all(aws: &Aws, cur: &mut BastionState, want: &BastionState) -> Result<()> {
    sync_parts(aws, cur, want).await?;
    let sg = cur.security_group_id.clone().unwrap_or_default();
    let host = match &cur.instance_id {
        Some(id) => Some(id.clone()),
        None => instance::instances_tagged(
            &aws.ec2,
            Some(&want.vpc_id),
            OWNER_TAG,
            &want.owner(&aws.region),
        )
        .await?
        .into_iter()
        .find(|i| !want.host_differs(&found_host(want, i)))
        .map(|i| i.id),
    };
    if let Some(id) = &host {
        // A host taken over (launched by a create that failed later, or one
        // read as unsound): its instance metadata takes session tokens only.
        if instance::describe_instance(&aws.ec2, id)
            .await?
            .is_some_and(|i| !i.tokens_required)
        {
            instance::require_tokens(&aws.ec2, id).await?;
        }
    }
    let id = match host {
        Some(id) => id,
        None => {
            let mut launched = Vec::new();
            let res =
                launch_host(aws, want, cur.admin_secret_arn.as_ref(), &mut launched, &sg).await;
            if let Some(id) = launched.first() {
                cur.instance_id = Some(id.clone());
            }
            res?
        }
    };
    record_host(aws, cur, want, &id).await?;
    sync_allow_to(aws, cur, want).await?;
    sync_tags(aws, cur, want).await
}

/// A found host as the state would have it (what it was launched with).
fn found_host(want: &BastionState, i: &instance::InstanceInfo) -> BastionState {
    BastionState {
        ami_id: i.ami.clone(),
        instance_type: i.instance_type.clone(),
        subnet_id: i.subnet_id.clone(),
        ..want.clone()
    }
}

/// Changes what differs. A new host (AMI, type, subnet, routes) is made and
/// healthy, and takes the Elastic IP, before the old one is terminated.
pub async fn update_all(aws: &Aws, cur: &mut BastionState, want: &BastionState) -> Result<()> {
    let Some(old) = cur.instance_id.clone() else {
        return create_all(aws, cur, want).await;
    };
    sync_parts(aws, cur, want).await?;
    let sg = cur.security_group_id.clone().unwrap_or_default();
    let live = instance::describe_instance(&aws.ec2, &old)
        .await?
        .filter(|i| instance::live(&i.state));
    match live {
        Some(found) if !cur.host_differs(want) => {
            if !found.tokens_required {
                instance::require_tokens(&aws.ec2, &old).await?;
            }
            record_host(aws, cur, want, &old).await?;
        }
        _ => {
            let mut launched = Vec::new();
            let res =
                launch_host(aws, want, cur.admin_secret_arn.as_ref(), &mut launched, &sg).await;
            let new = match res {
                Ok(id) => id,
                Err(e) => {
                    // The old host still serves; the new one goes, so that
                    // nothing is left that the state does not name.
                    for id in &launched {
                        instance::terminate(&aws.ec2, id, crate::ctx::remaining()).await?;
                    }
                    return Err(e);
                }
            };
            record_host(aws, cur, want, &new).await?;
            if old != new {
                instance::terminate(&aws.ec2, &old, crate::ctx::remaining()).await?;
            }
        }
    }
    sync_allow_to(aws, cur, want).await?;
    sync_tags(aws, cur, want).await
}

/// Opens the groups of `allow_to` to the host's group (new ones first),
/// then closes those no longer wanted.
async fn sync_allow_to(aws: &Aws, cur: &mut BastionState, want: &BastionState) -> Result<()> {
    let Some(sg) = cur.security_group_id.clone() else {
        return Ok(());
    };
    let new: Vec<_> = want
        .allow_to
        .iter()
        .filter(|a| !cur.allow_to.contains(a))
        .cloned()
        .collect();
    for a in new {
        ec2::allow_from(
            &aws.ec2,
            &a.security_group_id,
            &sg,
            a.port,
            &want.rule_marker(),
        )
        .await?;
        cur.allow_to.push(a);
    }
    for a in cur
        .allow_to
        .clone()
        .iter()
        .filter(|a| !want.allow_to.contains(a))
    {
        ec2::revoke_from(
            &aws.ec2,
            &a.security_group_id,
            &sg,
            a.port,
            &want.rule_marker(),
        )
        .await?;
    }
    cur.allow_to = want.allow_to.clone();
    Ok(())
}

/// Retags every part whose tags differ from `want`'s.
async fn sync_tags(aws: &Aws, cur: &mut BastionState, want: &BastionState) -> Result<()> {
    if cur.tags_all == want.tags_all {
        cur.tags = want.tags.clone();
        return Ok(());
    }
    let had = |name: &str| part_tags(cur, name);
    let now = |name: &str| part_tags(want, name);
    if let Some(sg) = &cur.security_group_id {
        ec2::set_tags(
            &aws.ec2,
            sg,
            &had(&cur.security_group_name()),
            &now(&want.security_group_name()),
        )
        .await?;
    }
    if let Some(id) = &cur.instance_id {
        instance::set_instance_tags(&aws.ec2, id, &host_tags(aws, cur), &host_tags(aws, want))
            .await?;
    }
    if let Some(alloc) = &cur.elastic_ip_id {
        ec2::set_tags(&aws.ec2, alloc, &had(&cur.name), &now(&want.name)).await?;
    }
    let role = want.role_name();
    iam::set_role_tags(&aws.iam, &role, &had(&role), &now(&role)).await?;
    iam::set_instance_profile_tags(&aws.iam, &role, &had(&role), &now(&role)).await?;
    if cur.log_group_name.is_some() {
        logs::set_log_group_tags(
            &aws.logs,
            &want.log_group(),
            &had(&want.log_group()),
            &now(&want.log_group()),
        )
        .await?;
    }
    for doc in [&cur.session_document_name, &cur.port_forward_document_name]
        .into_iter()
        .flatten()
    {
        ssm::set_document_tags(&aws.ssm, doc, &had(doc), &now(doc)).await?;
    }
    if let Some(arn) = &cur.admin_secret_arn {
        secrets::set_tags(
            &aws.secrets,
            arn,
            &had(&want.admin_secret_name()),
            &now(&want.admin_secret_name()),
        )
        .await?;
    }
    cur.tags = want.tags.clone();
    cur.tags_all = want.tags_all.clone();
    Ok(())
}

/// Removes every part, in dependency order: the rules it added to other
/// groups, the host (and any other it launched), its address and password,
/// the documents, the profile and role, the logs, and last its group.
pub async fn delete_all(aws: &Aws, cur: &BastionState) -> Result<()> {
    if let Some(sg) = &cur.security_group_id {
        for a in &cur.allow_to {
            ec2::revoke_from(
                &aws.ec2,
                &a.security_group_id,
                sg,
                a.port,
                &cur.rule_marker(),
            )
            .await?;
        }
    }
    let mut hosts: Vec<String> = cur.instance_id.iter().cloned().collect();
    if !cur.vpc_id.is_empty() {
        for i in instance::instances_tagged(
            &aws.ec2,
            Some(&cur.vpc_id),
            OWNER_TAG,
            &cur.owner(&aws.region),
        )
        .await?
        {
            if !hosts.contains(&i.id) {
                hosts.push(i.id);
            }
        }
    }
    for id in &hosts {
        instance::terminate(&aws.ec2, id, crate::ctx::remaining()).await?;
    }
    if let Some(alloc) = &cur.elastic_ip_id {
        instance::release_address(&aws.ec2, alloc).await?;
    }
    let secret = match &cur.admin_secret_arn {
        Some(arn) => Some(arn.clone()),
        None if cur.openvpn() => {
            secrets::secret_named(&aws.secrets, &cur.admin_secret_name()).await?
        }
        None => None,
    };
    if let Some(arn) = secret {
        secrets::delete_secret(&aws.secrets, &arn).await?;
    }
    if !cur.openvpn() {
        ssm::delete_document(&aws.ssm, &cur.port_forward_document()).await?;
        ssm::delete_document(&aws.ssm, &cur.session_document()).await?;
    }
    let owner = cur.owner(&aws.region);
    iam::delete_instance_profile(&aws.iam, &cur.role_name(), &owner).await?;
    iam::delete_role(&aws.iam, &cur.role_name(), &owner).await?;
    if !cur.openvpn() {
        logs::delete_log_group(&aws.logs, &cur.log_group()).await?;
    }
    let sg = match &cur.security_group_id {
        Some(sg) => Some(sg.clone()),
        None if !cur.vpc_id.is_empty() => {
            ec2::security_group_named(&aws.ec2, &cur.vpc_id, &cur.security_group_name()).await?
        }
        None => None,
    };
    if let Some(sg) = sg {
        ec2::delete_security_group(&aws.ec2, &sg).await?;
    }
    Ok(())
}
