//! IAM: the roles a service's tasks and its Slack notifier run as, and the
//! roles GitHub Actions workflows assume through OpenID Connect.

use aws_sdk_iam::types::Tag;
use aws_sdk_iam::Client;

use super::{
    aws_error, gone_is_done, gone_is_none, not_found_if, not_ours, owned, tag_changes, with_owner,
    OWNER_TAG,
};
use crate::error::{Error, Result};

pub use super::Tags;

/// AWS's managed policy for pulling images and writing logs from Fargate tasks.
pub const ECS_TASK_EXECUTION_POLICY: &str =
    "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";
/// AWS's managed policy for a Lambda function's own logs.
pub const LAMBDA_BASIC_EXECUTION_POLICY: &str =
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";

fn trust(service: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole"
        }]
    })
    .to_string()
}

/// A policy document allowing `actions` on `resources`.
pub fn allow(actions: &[&str], resources: &[String]) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": actions,
            "Resource": resources
        }]
    })
    .to_string()
}

/// A policy document with one Allow statement per `(actions, resources)`
/// pair that names any resource.
pub fn allow_each(grants: &[(&[&str], Vec<String>)]) -> String {
    let statements: Vec<serde_json::Value> = grants
        .iter()
        .filter(|(_, resources)| !resources.is_empty())
        .map(|(actions, resources)| {
            serde_json::json!({"Effect": "Allow", "Action": actions, "Resource": resources})
        })
        .collect();
    serde_json::json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

/// The role's ARN, or `None` when there is no role of that name.
pub async fn role_arn(c: &Client, name: &str) -> Result<Option<String>> {
    match c.get_role().role_name(name).send().await {
        Ok(o) => Ok(o.role().map(|r| r.arn().to_string())),
        Err(e) => {
            let e = not_found_if("reading", &format!("IAM role {name:?}"), e, |e| {
                e.is_no_such_entity_exception()
            });
            if e.is_not_found() {
                Ok(None)
            } else {
                Err(e)
            }
        }
    }
}

/// The role's ARN and its [`OWNER_TAG`] value, or `None` when there is no role of that name.
async fn role_owner(c: &Client, name: &str) -> Result<Option<(String, Option<String>)>> {
    Ok(describe_role(c, name)
        .await?
        .map(|r| (r.arn, r.tags.get(OWNER_TAG).cloned())))
}

/// Makes a role that `service` (such as `ecs-tasks.amazonaws.com`) may assume,
/// tagged as `owner`'s ([`OWNER_TAG`]). Role names are global to the account:
/// a role of that name is taken over only when it carries `owner` (left by an
/// earlier create of this resource); any other is refused, never adopted.
pub async fn ensure_role(
    c: &Client,
    name: &str,
    service: &str,
    tags: &Tags,
    owner: &str,
) -> Result<String> {
    Ok(ensure_role_made(c, name, service, tags, owner).await?.0)
}

/// As [`ensure_role`], and whether the role was made just now.
pub async fn ensure_role_made(
    c: &Client,
    name: &str,
    service: &str,
    tags: &Tags,
    owner: &str,
) -> Result<(String, bool)> {
    if let Some((arn, found)) = role_owner(c, name).await? {
        if owned(found.as_deref(), owner) {
            return Ok((arn, false));
        }
        return Err(not_ours(
            &format!("IAM role {name:?}"),
            found.as_deref(),
            owner,
        ));
    }
    let out = c
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust(service))
        .description(format!("fansite: assumed by {service}"))
        .set_tags(Some(
            with_owner(tags, owner)
                .iter()
                .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
                .collect(),
        ))
        .send()
        .await
        .map_err(|e| aws_error("creating", &format!("IAM role {name:?}"), e))?;
    Ok((
        out.role().map(|r| r.arn().to_string()).unwrap_or_default(),
        true,
    ))
}

pub async fn attach_policy(c: &Client, role: &str, policy_arn: &str) -> Result<()> {
    c.attach_role_policy()
        .role_name(role)
        .policy_arn(policy_arn)
        .send()
        .await
        .map_err(|e| {
            aws_error(
                "attaching",
                &format!("{policy_arn} to IAM role {role:?}"),
                e,
            )
        })?;
    Ok(())
}

/// Writes (or replaces) the role's inline policy `name`.
pub async fn put_inline_policy(c: &Client, role: &str, name: &str, document: &str) -> Result<()> {
    c.put_role_policy()
        .role_name(role)
        .policy_name(name)
        .policy_document(document)
        .send()
        .await
        .map_err(|e| {
            aws_error(
                "writing",
                &format!("policy {name:?} of IAM role {role:?}"),
                e,
            )
        })?;
    Ok(())
}

pub async fn delete_inline_policy(c: &Client, role: &str, name: &str) -> Result<()> {
    match c
        .delete_role_policy()
        .role_name(role)
        .policy_name(name)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => {
            let e = not_found_if(
                "deleting",
                &format!("policy {name:?} of IAM role {role:?}"),
                e,
                |e| e.is_no_such_entity_exception(),
            );
            if e.is_not_found() {
                Ok(())
            } else {
                Err(e)
            }
        }
    }
}

/// Detaches every managed policy, deletes every inline one, then the role.
/// Gone is done, and so is a role of that name that is not `owner`'s
/// ([`OWNER_TAG`]): it is left alone, as it was when the create refused it.
pub async fn delete_role(c: &Client, name: &str, owner: &str) -> Result<()> {
    let part = format!("IAM role {name:?}");
    match role_owner(c, name).await? {
        None => return Ok(()),
        Some((_, found)) if !owned(found.as_deref(), owner) => {
            tracing::info!("leaving {part} alone: it is not {owner}'s");
            return Ok(());
        }
        Some(_) => {}
    }
    let gone_ok = |e: Error| if e.is_not_found() { Ok(()) } else { Err(e) };
    match c.list_attached_role_policies().role_name(name).send().await {
        Ok(o) => {
            for p in o.attached_policies() {
                if let Some(arn) = p.policy_arn() {
                    if let Err(e) = c
                        .detach_role_policy()
                        .role_name(name)
                        .policy_arn(arn)
                        .send()
                        .await
                    {
                        gone_ok(not_found_if(
                            "detaching",
                            &format!("{arn} from {part}"),
                            e,
                            |e| e.is_no_such_entity_exception(),
                        ))?;
                    }
                }
            }
        }
        Err(e) => {
            return gone_ok(not_found_if("listing policies of", &part, e, |e| {
                e.is_no_such_entity_exception()
            }))
        }
    }
    if let Ok(o) = c.list_role_policies().role_name(name).send().await {
        for p in o.policy_names() {
            delete_inline_policy(c, name, p).await?;
        }
    }
    match c.delete_role().role_name(name).send().await {
        Ok(_) => Ok(()),
        Err(e) => gone_ok(not_found_if("deleting", &part, e, |e| {
            e.is_no_such_entity_exception()
        })),
    }
}

/// Retags the role: sets what changed, removes what went.
pub async fn set_role_tags(c: &Client, name: &str, had: &Tags, want: &Tags) -> Result<()> {
    let part = format!("IAM role {name:?}");
    let (set, removed) = tag_changes(had, want);
    if !set.is_empty() {
        c.tag_role()
            .role_name(name)
            .set_tags(Some(
                set.iter()
                    .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
                    .collect(),
            ))
            .send()
            .await
            .map_err(|e| aws_error("tagging", &part, e))?;
    }
    if !removed.is_empty() {
        c.untag_role()
            .role_name(name)
            .set_tag_keys(Some(removed))
            .send()
            .await
            .map_err(|e| aws_error("untagging", &part, e))?;
    }
    Ok(())
}

/// GitHub Actions' OpenID Connect issuer, without `https://`, as IAM names it.
pub const GITHUB_OIDC_HOST: &str = "token.actions.githubusercontent.com";
/// The audience GitHub's token carries for AWS (configure-aws-credentials' default).
pub const GITHUB_OIDC_AUDIENCE: &str = "sts.amazonaws.com";

/// IAM's policy documents come URL-encoded (GetRole, GetRolePolicy).
pub fn url_decoded(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The account's OpenID Connect provider for GitHub Actions: its ARN and
/// [`OWNER_TAG`] value, or `None` when the account has none. There is at most
/// one per issuer URL in an account.
pub async fn github_oidc_provider(c: &Client) -> Result<Option<(String, Option<String>)>> {
    let out = c
        .list_open_id_connect_providers()
        .send()
        .await
        .map_err(|e| aws_error("listing", "OpenID Connect providers", e))?;
    let Some(arn) = out
        .open_id_connect_provider_list()
        .iter()
        .filter_map(|p| p.arn())
        .find(|arn| arn.ends_with(&format!(":oidc-provider/{GITHUB_OIDC_HOST}")))
        .map(str::to_string)
    else {
        return Ok(None);
    };
    let part = format!("OpenID Connect provider {arn}");
    let found = gone_is_none(
        c.get_open_id_connect_provider()
            .open_id_connect_provider_arn(&arn)
            .send()
            .await
            .map_err(|e| not_found_if("reading", &part, e, |e| e.is_no_such_entity_exception())),
    )?;
    Ok(found.map(|p| {
        let owner = p
            .tags()
            .iter()
            .find(|t| t.key() == OWNER_TAG)
            .map(|t| t.value().to_string());
        (arn, owner)
    }))
}

/// Makes the account's OpenID Connect provider for GitHub Actions, tagged as
/// `owner`'s; when another made it first, returns that one (the caller's
/// next read sees it is not `owner`'s).
pub async fn create_github_oidc_provider(c: &Client, tags: &Tags, owner: &str) -> Result<String> {
    let out = c
        .create_open_id_connect_provider()
        .url(format!("https://{GITHUB_OIDC_HOST}"))
        .client_id_list(GITHUB_OIDC_AUDIENCE)
        .set_tags(Some(
            with_owner(tags, owner)
                .iter()
                .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
                .collect(),
        ))
        .send()
        .await
        .map_err(|e| {
            aws_error(
                "creating",
                "the OpenID Connect provider for GitHub Actions",
                e,
            )
        });
    match out {
        Ok(out) => Ok(out
            .open_id_connect_provider_arn()
            .unwrap_or_default()
            .to_string()),
        // Another stack made it a moment ago: it is the account's, and used as such.
        Err(e) if e.code() == Some("EntityAlreadyExists") => match github_oidc_provider(c).await? {
            Some((arn, _)) => Ok(arn),
            None => Err(e),
        },
        Err(e) => Err(e),
    }
}

pub async fn delete_oidc_provider(c: &Client, arn: &str) -> Result<()> {
    gone_is_done(
        c.delete_open_id_connect_provider()
            .open_id_connect_provider_arn(arn)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                not_found_if(
                    "deleting",
                    &format!("OpenID Connect provider {arn}"),
                    e,
                    |e| e.is_no_such_entity_exception(),
                )
            }),
    )
}

/// Retags the OpenID Connect provider.
pub async fn set_oidc_provider_tags(c: &Client, arn: &str, had: &Tags, want: &Tags) -> Result<()> {
    let part = format!("OpenID Connect provider {arn}");
    let (set, removed) = tag_changes(had, want);
    if !set.is_empty() {
        c.tag_open_id_connect_provider()
            .open_id_connect_provider_arn(arn)
            .set_tags(Some(
                set.iter()
                    .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
                    .collect(),
            ))
            .send()
            .await
            .map_err(|e| aws_error("tagging", &part, e))?;
    }
    if !removed.is_empty() {
        c.untag_open_id_connect_provider()
            .open_id_connect_provider_arn(arn)
            .set_tag_keys(Some(removed))
            .send()
            .await
            .map_err(|e| aws_error("untagging", &part, e))?;
    }
    Ok(())
}

/// A role as IAM has it: ARN, trust policy (decoded), tags, and the longest session in seconds.
#[derive(Clone, Debug, PartialEq)]
pub struct RoleInfo {
    pub arn: String,
    pub trust: String,
    pub tags: Tags,
    pub max_session_seconds: i32,
}

/// The role named `name`, or `None`.
pub async fn describe_role(c: &Client, name: &str) -> Result<Option<RoleInfo>> {
    let out = gone_is_none(c.get_role().role_name(name).send().await.map_err(|e| {
        not_found_if("reading", &format!("IAM role {name:?}"), e, |e| {
            e.is_no_such_entity_exception()
        })
    }))?;
    Ok(out.and_then(|o| {
        o.role().map(|r| RoleInfo {
            arn: r.arn().to_string(),
            trust: url_decoded(r.assume_role_policy_document().unwrap_or_default()),
            tags: r
                .tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect(),
            max_session_seconds: r.max_session_duration().unwrap_or(3600),
        })
    }))
}

/// Makes a role whose trust policy is `trust`, tagged as `owner`'s; a role of
/// that name is taken over only when it is `owner`'s (see [`ensure_role`]).
/// IAM may not yet know an OpenID Connect provider made just before ("Invalid
/// principal in policy"): that is retried until the operation's deadline.
pub async fn ensure_federated_role(
    c: &Client,
    name: &str,
    trust: &str,
    max_session_seconds: i32,
    tags: &Tags,
    owner: &str,
) -> Result<String> {
    if let Some((arn, found)) = role_owner(c, name).await? {
        if owned(found.as_deref(), owner) {
            return Ok(arn);
        }
        return Err(not_ours(
            &format!("IAM role {name:?}"),
            found.as_deref(),
            owner,
        ));
    }
    let part = format!("IAM role {name:?}");
    // IAM: a principal made a moment ago may not be visible yet ("Invalid
    // principal in policy"); terraform-provider-aws retries role creation on
    // it (`iam/role.go`, `retryCreateRole`, propagation timeout).
    super::retry_eventual_when(
        &[("MalformedPolicyDocument", "Invalid principal")],
        || async {
            let out = c
                .create_role()
                .role_name(name)
                .assume_role_policy_document(trust)
                .max_session_duration(max_session_seconds)
                .description("fansite: assumed by a GitHub Actions workflow")
                .set_tags(Some(
                    with_owner(tags, owner)
                        .iter()
                        .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
                        .collect(),
                ))
                .send()
                .await
                .map_err(|e| aws_error("creating", &part, e))?;
            Ok(out.role().map(|r| r.arn().to_string()).unwrap_or_default())
        },
    )
    .await
}

/// Replaces the role's trust policy.
pub async fn set_trust(c: &Client, name: &str, trust: &str) -> Result<()> {
    c.update_assume_role_policy()
        .role_name(name)
        .policy_document(trust)
        .send()
        .await
        .map_err(|e| {
            aws_error(
                "updating the trust policy of",
                &format!("IAM role {name:?}"),
                e,
            )
        })?;
    Ok(())
}

pub async fn set_max_session(c: &Client, name: &str, seconds: i32) -> Result<()> {
    c.update_role()
        .role_name(name)
        .max_session_duration(seconds)
        .send()
        .await
        .map_err(|e| aws_error("updating", &format!("IAM role {name:?}"), e))?;
    Ok(())
}

/// The role's inline policy `policy`, decoded, or `None`.
pub async fn inline_policy(c: &Client, role: &str, policy: &str) -> Result<Option<String>> {
    let out = gone_is_none(
        c.get_role_policy()
            .role_name(role)
            .policy_name(policy)
            .send()
            .await
            .map_err(|e| {
                not_found_if(
                    "reading",
                    &format!("policy {policy:?} of IAM role {role:?}"),
                    e,
                    |e| e.is_no_such_entity_exception(),
                )
            }),
    )?;
    Ok(out.map(|o| url_decoded(o.policy_document())))
}

/// Whether any role but those named in `ours` trusts the provider `arn`.
pub async fn others_trust(c: &Client, arn: &str, ours: &[String]) -> Result<bool> {
    let mut marker = None;
    loop {
        let out = c
            .list_roles()
            .set_marker(marker)
            .send()
            .await
            .map_err(|e| aws_error("listing", "IAM roles", e))?;
        if out.roles().iter().any(|r| {
            !ours.iter().any(|n| n == r.role_name())
                && r.assume_role_policy_document()
                    .is_some_and(|d| url_decoded(d).contains(arn))
        }) {
            return Ok(true);
        }
        marker = out.marker().map(str::to_string);
        if !out.is_truncated() || marker.is_none() {
            return Ok(false);
        }
    }
}

/// AWS's managed policy for the Systems Manager agent (Session Manager).
pub const SSM_MANAGED_INSTANCE_CORE: &str = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore";

/// The instance profile's ARN, its roles and its owner tag; `None` when
/// there is none of that name.
async fn instance_profile(
    c: &Client,
    name: &str,
) -> Result<Option<(String, Vec<String>, Option<String>)>> {
    let out = gone_is_none(
        c.get_instance_profile()
            .instance_profile_name(name)
            .send()
            .await
            .map_err(|e| {
                not_found_if("reading", &format!("instance profile {name:?}"), e, |e| {
                    e.is_no_such_entity_exception()
                })
            }),
    )?;
    Ok(out.and_then(|o| {
        o.instance_profile().map(|p| {
            (
                p.arn().to_string(),
                p.roles()
                    .iter()
                    .map(|r| r.role_name().to_string())
                    .collect(),
                p.tags()
                    .iter()
                    .find(|t| t.key() == OWNER_TAG)
                    .map(|t| t.value().to_string()),
            )
        })
    }))
}

/// The instance profile `name` holding exactly the role `role`: made (with
/// `owner`'s tag) when missing, taken over only when it is `owner`'s.
/// Returns its ARN.
pub async fn ensure_instance_profile(
    c: &Client,
    name: &str,
    role: &str,
    tags: &Tags,
    owner: &str,
) -> Result<String> {
    let part = format!("instance profile {name:?}");
    let (arn, roles) = match instance_profile(c, name).await? {
        Some((arn, roles, found)) => {
            if !owned(found.as_deref(), owner) {
                return Err(not_ours(&part, found.as_deref(), owner));
            }
            (arn, roles)
        }
        None => {
            let out = c
                .create_instance_profile()
                .instance_profile_name(name)
                .set_tags(Some(
                    with_owner(tags, owner)
                        .iter()
                        .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
                        .collect(),
                ))
                .send()
                .await
                .map_err(|e| aws_error("creating", &part, e))?;
            (
                out.instance_profile()
                    .map(|p| p.arn().to_string())
                    .unwrap_or_default(),
                Vec::new(),
            )
        }
    };
    for other in roles.iter().filter(|r| r.as_str() != role) {
        c.remove_role_from_instance_profile()
            .instance_profile_name(name)
            .role_name(other)
            .send()
            .await
            .map_err(|e| aws_error("removing", &format!("{other} from {part}"), e))?;
    }
    if !roles.iter().any(|r| r == role) {
        c.add_role_to_instance_profile()
            .instance_profile_name(name)
            .role_name(role)
            .send()
            .await
            .map_err(|e| aws_error("adding", &format!("{role} to {part}"), e))?;
    }
    Ok(arn)
}

/// Takes the roles out of the instance profile and deletes it, when it is
/// `owner`'s. Gone is done.
pub async fn delete_instance_profile(c: &Client, name: &str, owner: &str) -> Result<()> {
    let part = format!("instance profile {name:?}");
    let Some((_, roles, found)) = instance_profile(c, name).await? else {
        return Ok(());
    };
    if !owned(found.as_deref(), owner) {
        tracing::info!("leaving {part} alone: it is not {owner}'s");
        return Ok(());
    }
    for role in &roles {
        gone_is_done(
            c.remove_role_from_instance_profile()
                .instance_profile_name(name)
                .role_name(role)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| {
                    not_found_if("removing", &format!("{role} from {part}"), e, |e| {
                        e.is_no_such_entity_exception()
                    })
                }),
        )?;
    }
    gone_is_done(
        c.delete_instance_profile()
            .instance_profile_name(name)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| not_found_if("deleting", &part, e, |e| e.is_no_such_entity_exception())),
    )
}

/// Retags the instance profile.
pub async fn set_instance_profile_tags(
    c: &Client,
    name: &str,
    had: &Tags,
    want: &Tags,
) -> Result<()> {
    let part = format!("instance profile {name:?}");
    let (set, removed) = tag_changes(had, want);
    if !set.is_empty() {
        c.tag_instance_profile()
            .instance_profile_name(name)
            .set_tags(Some(
                set.iter()
                    .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
                    .collect(),
            ))
            .send()
            .await
            .map_err(|e| aws_error("tagging", &part, e))?;
    }
    if !removed.is_empty() {
        c.untag_instance_profile()
            .instance_profile_name(name)
            .set_tag_keys(Some(removed))
            .send()
            .await
            .map_err(|e| aws_error("untagging", &part, e))?;
    }
    Ok(())
}
