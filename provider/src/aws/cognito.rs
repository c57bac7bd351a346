//! Cognito user pools: the pool, its app client, its hosted UI domain and its groups.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_cognitoidentityprovider::types::{
    AccountRecoverySettingType, AttributeDataType, DeletionProtectionType, EmailConfigurationType,
    EmailSendingAccountType, ExplicitAuthFlowsType, OAuthFlowType, PasswordPolicyType,
    PreventUserExistenceErrorTypes, RecoveryOptionNameType, RecoveryOptionType,
    SchemaAttributeType, SoftwareTokenMfaConfigType, TimeUnitsType, TokenValidityUnitsType,
    UserPoolMfaType, UserPoolPolicyType, UsernameAttributeType, VerifiedAttributeType,
};
use aws_sdk_cognitoidentityprovider::Client;

use super::wait::{Missing, Seen, Wait};
use super::{aws_error, build_error, gone_is_done, not_found_if};
use crate::error::{Error, Result};

/// Multi-factor authentication of a pool, as the resource names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mfa {
    Off,
    Optional,
    On,
}

impl Mfa {
    /// Every value `mfa` takes.
    pub const NAMES: &'static [&'static str] = &["off", "optional", "on"];

    pub fn parse(s: &str) -> Option<Mfa> {
        match s {
            "off" => Some(Mfa::Off),
            "optional" => Some(Mfa::Optional),
            "on" => Some(Mfa::On),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Mfa::Off => "off",
            Mfa::Optional => "optional",
            Mfa::On => "on",
        }
    }

    fn to_aws(self) -> UserPoolMfaType {
        match self {
            Mfa::Off => UserPoolMfaType::Off,
            Mfa::Optional => UserPoolMfaType::Optional,
            Mfa::On => UserPoolMfaType::On,
        }
    }

    fn from_aws(m: Option<&UserPoolMfaType>) -> Mfa {
        match m {
            Some(UserPoolMfaType::On) => Mfa::On,
            Some(UserPoolMfaType::Optional) => Mfa::Optional,
            _ => Mfa::Off,
        }
    }
}

/// The password rules of a pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasswordRules {
    pub minimum_length: i32,
    pub require_lowercase: bool,
    pub require_uppercase: bool,
    pub require_numbers: bool,
    pub require_symbols: bool,
    pub temporary_validity_days: i32,
}

/// Who sends the pool's email (verification codes, password resets).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmailSending {
    /// `COGNITO_DEFAULT` (Cognito's own, with a small daily quota) or
    /// `DEVELOPER` (Amazon SES, from `source_arn`).
    pub account: String,
    /// The verified SES identity that sends, when set.
    pub source_arn: Option<String>,
    /// The From address, when set.
    pub from: Option<String>,
}

impl EmailSending {
    /// Every value `account` takes.
    pub const ACCOUNTS: &'static [&'static str] = &["COGNITO_DEFAULT", "DEVELOPER"];
    /// Cognito's own sender: AWS's default.
    pub const COGNITO_DEFAULT: &'static str = "COGNITO_DEFAULT";

    fn to_aws(&self) -> EmailConfigurationType {
        EmailConfigurationType::builder()
            .email_sending_account(EmailSendingAccountType::from(self.account.as_str()))
            .set_source_arn(self.source_arn.clone())
            .set_from(self.from.clone())
            .build()
    }

    fn from_aws(e: Option<&EmailConfigurationType>) -> EmailSending {
        EmailSending {
            account: e
                .and_then(|e| e.email_sending_account())
                .map_or(Self::COGNITO_DEFAULT, |a| a.as_str())
                .to_string(),
            source_arn: e
                .and_then(|e| e.source_arn())
                .filter(|a| !a.is_empty())
                .map(str::to_string),
            from: e
                .and_then(|e| e.from())
                .filter(|f| !f.is_empty())
                .map(str::to_string),
        }
    }
}

/// What the resource sets on a pool and can change in place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolSettings {
    pub password: PasswordRules,
    pub mfa: Mfa,
    pub deletion_protection: bool,
    pub email: EmailSending,
    pub tags: BTreeMap<String, String>,
}

/// A pool as AWS describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pool {
    pub id: String,
    pub arn: String,
    pub name: String,
    pub settings: PoolSettings,
    /// The hosted UI domain prefix, when AWS reports one.
    pub domain: Option<String>,
}

/// What the resource sets on the app client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientSettings {
    pub name: String,
    pub callback_urls: Vec<String>,
    pub logout_urls: Vec<String>,
    pub access_token_minutes: i32,
    pub id_token_minutes: i32,
    pub refresh_token_days: i32,
}

/// The scopes a hosted-UI client may ask for.
const OAUTH_SCOPES: &[&str] = &["openid", "email", "profile"];

fn password_policy(p: &PasswordRules) -> UserPoolPolicyType {
    UserPoolPolicyType::builder()
        .password_policy(
            PasswordPolicyType::builder()
                .minimum_length(p.minimum_length)
                .require_lowercase(p.require_lowercase)
                .require_uppercase(p.require_uppercase)
                .require_numbers(p.require_numbers)
                .require_symbols(p.require_symbols)
                .temporary_password_validity_days(p.temporary_validity_days)
                .build(),
        )
        .build()
}

fn recovery_by_email(part: &str) -> Result<AccountRecoverySettingType> {
    let email = RecoveryOptionType::builder()
        .name(RecoveryOptionNameType::VerifiedEmail)
        .priority(1)
        .build()
        .map_err(|e| build_error(part, e))?;
    Ok(AccountRecoverySettingType::builder()
        .recovery_mechanisms(email)
        .build())
}

fn protection(on: bool) -> DeletionProtectionType {
    if on {
        DeletionProtectionType::Active
    } else {
        DeletionProtectionType::Inactive
    }
}

/// Creates a pool with email as the username, email verification, the
/// standard `nickname` attribute required, and recovery by email. MFA starts
/// off (AWS's default); [`set_mfa`] turns it on, since only that call can enable TOTP.
pub async fn create_pool(c: &Client, name: &str, s: &PoolSettings) -> Result<(String, String)> {
    let part = format!("user pool {name:?}");
    let nickname = SchemaAttributeType::builder()
        .name("nickname")
        .attribute_data_type(AttributeDataType::String)
        .required(true)
        .mutable(true)
        .build();
    let email = SchemaAttributeType::builder()
        .name("email")
        .attribute_data_type(AttributeDataType::String)
        .required(true)
        .mutable(true)
        .build();
    let out = c
        .create_user_pool()
        .pool_name(name)
        .username_attributes(UsernameAttributeType::Email)
        .auto_verified_attributes(VerifiedAttributeType::Email)
        .schema(email)
        .schema(nickname)
        .policies(password_policy(&s.password))
        .account_recovery_setting(recovery_by_email(&part)?)
        .email_configuration(s.email.to_aws())
        .deletion_protection(protection(s.deletion_protection))
        .set_user_pool_tags(Some(s.tags.clone().into_iter().collect()))
        .send()
        .await
        .map_err(|e| aws_error("creating", &part, e))?;
    let pool = out.user_pool();
    match (pool.and_then(|p| p.id()), pool.and_then(|p| p.arn())) {
        (Some(id), Some(arn)) => Ok((id.to_string(), arn.to_string())),
        _ => Err(Error::Incomplete {
            action: "creating".into(),
            part,
            missing: "user pool id or ARN".into(),
        }),
    }
}

/// Sets every setting the resource owns. UpdateUserPool resets what it is
/// not given, so it is always given all of them.
pub async fn update_pool(c: &Client, id: &str, s: &PoolSettings) -> Result<()> {
    let part = format!("user pool {id}");
    c.update_user_pool()
        .user_pool_id(id)
        .auto_verified_attributes(VerifiedAttributeType::Email)
        .policies(password_policy(&s.password))
        .account_recovery_setting(recovery_by_email(&part)?)
        .mfa_configuration(s.mfa.to_aws())
        .email_configuration(s.email.to_aws())
        .deletion_protection(protection(s.deletion_protection))
        .set_user_pool_tags(Some(s.tags.clone().into_iter().collect()))
        .send()
        .await
        .map_err(|e| aws_error("updating", &part, e))?;
    Ok(())
}

/// Sets MFA: TOTP apps (software tokens) as the second factor, and whether it is
/// off, optional per user, or required.
pub async fn set_mfa(c: &Client, id: &str, mfa: Mfa) -> Result<()> {
    c.set_user_pool_mfa_config()
        .user_pool_id(id)
        .software_token_mfa_configuration(
            SoftwareTokenMfaConfigType::builder()
                .enabled(mfa != Mfa::Off)
                .build(),
        )
        .mfa_configuration(mfa.to_aws())
        .send()
        .await
        .map_err(|e| aws_error("setting MFA of", &format!("user pool {id}"), e))?;
    Ok(())
}

/// The pool, or `None` when it is gone.
pub async fn describe_pool(c: &Client, id: &str) -> Result<Option<Pool>> {
    let part = format!("user pool {id}");
    let out = match c.describe_user_pool().user_pool_id(id).send().await {
        Ok(out) => out,
        Err(e) => {
            let e = not_found_if("describing", &part, e, |e| {
                e.is_resource_not_found_exception()
            });
            return if e.is_not_found() { Ok(None) } else { Err(e) };
        }
    };
    let Some(p) = out.user_pool() else {
        return Ok(None);
    };
    let pw = p.policies().and_then(|p| p.password_policy());
    let password = PasswordRules {
        minimum_length: pw.and_then(|p| p.minimum_length()).unwrap_or(8),
        require_lowercase: pw.is_some_and(|p| p.require_lowercase()),
        require_uppercase: pw.is_some_and(|p| p.require_uppercase()),
        require_numbers: pw.is_some_and(|p| p.require_numbers()),
        require_symbols: pw.is_some_and(|p| p.require_symbols()),
        temporary_validity_days: pw
            .map(|p| p.temporary_password_validity_days())
            .unwrap_or(7),
    };
    // GetUserPoolMfaConfig is where AWS keeps MFA; DescribeUserPool's copy can lag
    // behind SetUserPoolMfaConfig (the local endpoint never updates it).
    let mfa = c
        .get_user_pool_mfa_config()
        .user_pool_id(id)
        .send()
        .await
        .map_err(|e| aws_error("reading MFA of", &part, e))?;
    Ok(Some(Pool {
        id: id.to_string(),
        arn: p.arn().unwrap_or_default().to_string(),
        name: p.name().unwrap_or_default().to_string(),
        settings: PoolSettings {
            password,
            mfa: Mfa::from_aws(mfa.mfa_configuration().or(p.mfa_configuration())),
            deletion_protection: p.deletion_protection() == Some(&DeletionProtectionType::Active),
            email: EmailSending::from_aws(p.email_configuration()),
            tags: p
                .user_pool_tags()
                .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
        },
        domain: p.domain().map(str::to_string),
    }))
}

/// Deletes the pool and, with it, its users, clients and groups. Gone is done.
pub async fn delete_pool(c: &Client, id: &str) -> Result<()> {
    match c.delete_user_pool().user_pool_id(id).send().await {
        Ok(_) => Ok(()),
        Err(e) => gone(not_found_if(
            "deleting",
            &format!("user pool {id}"),
            e,
            |e| e.is_resource_not_found_exception(),
        )),
    }
}

fn gone(e: Error) -> Result<()> {
    if e.is_not_found() {
        Ok(())
    } else {
        Err(e)
    }
}

/// A public client for the web frontend: no secret, password and SRP log-in,
/// refresh; the code flow of the hosted UI when it has callback URLs.
macro_rules! client_request {
    ($req:expr, $s:expr) => {{
        let s: &ClientSettings = $s;
        let oauth = !s.callback_urls.is_empty();
        let mut req = $req
            .client_name(&s.name)
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserSrpAuth)
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
            .prevent_user_existence_errors(PreventUserExistenceErrorTypes::Enabled)
            .enable_token_revocation(true)
            .access_token_validity(s.access_token_minutes)
            .id_token_validity(s.id_token_minutes)
            .refresh_token_validity(s.refresh_token_days)
            .token_validity_units(
                TokenValidityUnitsType::builder()
                    .access_token(TimeUnitsType::Minutes)
                    .id_token(TimeUnitsType::Minutes)
                    .refresh_token(TimeUnitsType::Days)
                    .build(),
            )
            .read_attributes("email")
            .read_attributes("email_verified")
            .read_attributes("nickname")
            .write_attributes("email")
            .write_attributes("nickname")
            .set_callback_urls(Some(s.callback_urls.clone()))
            .set_logout_urls(Some(s.logout_urls.clone()))
            .allowed_o_auth_flows_user_pool_client(oauth);
        if oauth {
            req = req
                .allowed_o_auth_flows(OAuthFlowType::Code)
                .set_allowed_o_auth_scopes(Some(
                    OAUTH_SCOPES.iter().map(|s| s.to_string()).collect(),
                ))
                .supported_identity_providers("COGNITO");
        }
        req
    }};
}

pub async fn create_client(c: &Client, pool_id: &str, s: &ClientSettings) -> Result<String> {
    let part = format!("app client {:?}", s.name);
    let out = client_request!(c.create_user_pool_client().user_pool_id(pool_id), s)
        .generate_secret(false)
        .send()
        .await
        .map_err(|e| aws_error("creating", &part, e))?;
    out.user_pool_client()
        .and_then(|c| c.client_id())
        .map(str::to_string)
        .ok_or_else(|| Error::Incomplete {
            action: "creating".into(),
            part,
            missing: "client id".into(),
        })
}

/// UpdateUserPoolClient also resets what it is not given: all settings go.
pub async fn update_client(c: &Client, pool_id: &str, id: &str, s: &ClientSettings) -> Result<()> {
    client_request!(
        c.update_user_pool_client()
            .user_pool_id(pool_id)
            .client_id(id),
        s
    )
    .send()
    .await
    .map_err(|e| aws_error("updating", &format!("app client {id}"), e))?;
    Ok(())
}

/// The client's settings, or `None` when it is gone.
pub async fn describe_client(
    c: &Client,
    pool_id: &str,
    id: &str,
) -> Result<Option<ClientSettings>> {
    let out = match c
        .describe_user_pool_client()
        .user_pool_id(pool_id)
        .client_id(id)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) => {
            let e = not_found_if("describing", &format!("app client {id}"), e, |e| {
                e.is_resource_not_found_exception()
            });
            return if e.is_not_found() { Ok(None) } else { Err(e) };
        }
    };
    Ok(out.user_pool_client().map(|cl| ClientSettings {
        name: cl.client_name().unwrap_or_default().to_string(),
        callback_urls: cl.callback_urls().to_vec(),
        logout_urls: cl.logout_urls().to_vec(),
        access_token_minutes: cl.access_token_validity().unwrap_or(60),
        id_token_minutes: cl.id_token_validity().unwrap_or(60),
        refresh_token_days: cl.refresh_token_validity(),
    }))
}

/// Every user pool of the region, id and name: ListUserPools, paged (it
/// takes no filter and answers no tags).
pub async fn list_pools(c: &Client) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut pages = c.list_user_pools().max_results(60).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| aws_error("listing", "user pools", e))?;
        out.extend(
            page.user_pools()
                .iter()
                .filter_map(|p| Some((p.id()?.to_string(), p.name()?.to_string()))),
        );
    }
    Ok(out)
}

/// The id of the pool's client with this name, if there is one.
pub async fn find_client(c: &Client, pool_id: &str, name: &str) -> Result<Option<String>> {
    let mut pages = c
        .list_user_pool_clients()
        .user_pool_id(pool_id)
        .max_results(60)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page
            .map_err(|e| aws_error("listing app clients of", &format!("user pool {pool_id}"), e))?;
        for cl in page.user_pool_clients() {
            if cl.client_name() == Some(name) {
                return Ok(cl.client_id().map(str::to_string));
            }
        }
    }
    Ok(None)
}

pub async fn delete_client(c: &Client, pool_id: &str, id: &str) -> Result<()> {
    match c
        .delete_user_pool_client()
        .user_pool_id(pool_id)
        .client_id(id)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => gone(not_found_if(
            "deleting",
            &format!("app client {id}"),
            e,
            |e| e.is_resource_not_found_exception(),
        )),
    }
}

/// Makes the hosted UI prefix domain; [`wait_domain_active`] waits until it serves.
pub async fn create_domain(c: &Client, pool_id: &str, prefix: &str) -> Result<()> {
    c.create_user_pool_domain()
        .user_pool_id(pool_id)
        .domain(prefix)
        .send()
        .await
        .map_err(|e| aws_error("creating", &format!("hosted UI domain {prefix:?}"), e))?;
    Ok(())
}

/// Waits until the domain is `ACTIVE`: Cognito sets a domain up in the
/// background, `CREATING` meanwhile (terraform-provider-aws
/// `waitUserPoolDomainCreated`).
pub async fn wait_domain_active(
    c: &Client,
    pool_id: &str,
    prefix: &str,
    timeout: Duration,
) -> Result<()> {
    let part = format!("hosted UI domain {prefix:?}");
    Wait {
        part: &part,
        goal: "active",
        done: &["ACTIVE"],
        pending: &["CREATING", "UPDATING"],
        missing: Missing::WhileNew,
        timeout,
    }
    .until(|| domain_seen(c, pool_id, prefix))
    .await
    .map(|_| ())
}

/// The pool's domain of this prefix as DescribeUserPoolDomain has it: its
/// status, or `None` when there is none (an absent domain is an answer with an
/// empty description) or it belongs to another pool.
async fn domain_seen(c: &Client, pool_id: &str, prefix: &str) -> Result<Option<Seen>> {
    let out = c
        .describe_user_pool_domain()
        .domain(prefix)
        .send()
        .await
        .map_err(|e| {
            not_found_if(
                "describing",
                &format!("hosted UI domain {prefix:?}"),
                e,
                |e| e.is_resource_not_found_exception(),
            )
        })?;
    Ok(out
        .domain_description()
        .filter(|d| d.domain().is_some_and(|d| d == prefix) && d.user_pool_id() == Some(pool_id))
        // A description without a status (Cognito always sends one) reads as active.
        .map(|d| Seen::status(d.status().map_or("ACTIVE", |s| s.as_str()))))
}

/// Whether the domain prefix exists and belongs to this pool.
pub async fn domain_of_pool(c: &Client, pool_id: &str, prefix: &str) -> Result<bool> {
    match domain_seen(c, pool_id, prefix).await {
        Ok(seen) => Ok(seen.is_some()),
        Err(e) if e.is_not_found() => Ok(false),
        Err(e) => Err(e),
    }
}

/// Deletes the hosted UI domain and waits until it is gone: Cognito removes it
/// in the background (`DELETING`), and until then the pool cannot be deleted
/// nor given another domain (terraform-provider-aws
/// `waitUserPoolDomainDeleted`: pending `UPDATING`, `DELETING`). Gone is done.
pub async fn delete_domain(
    c: &Client,
    pool_id: &str,
    prefix: &str,
    timeout: Duration,
) -> Result<()> {
    let part = format!("hosted UI domain {prefix:?}");
    let res = c
        .delete_user_pool_domain()
        .user_pool_id(pool_id)
        .domain(prefix)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| {
            not_found_if("deleting", &part, e, |e| {
                e.is_resource_not_found_exception()
            })
        });
    gone_is_done(res)?;
    Wait {
        part: &part,
        goal: "deleted",
        done: &[],
        pending: &["DELETING", "UPDATING"],
        missing: Missing::Done,
        timeout,
    }
    .until(|| domain_seen(c, pool_id, prefix))
    .await
    .map(|_| ())
}

/// The pool's groups: name → description.
pub async fn list_groups(c: &Client, pool_id: &str) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let mut pages = c
        .list_groups()
        .user_pool_id(pool_id)
        .limit(60)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page =
            page.map_err(|e| aws_error("listing groups of", &format!("user pool {pool_id}"), e))?;
        for g in page.groups() {
            if let Some(name) = g.group_name() {
                out.insert(
                    name.to_string(),
                    g.description().unwrap_or_default().to_string(),
                );
            }
        }
    }
    Ok(out)
}

pub async fn create_group(c: &Client, pool_id: &str, name: &str, description: &str) -> Result<()> {
    c.create_group()
        .user_pool_id(pool_id)
        .group_name(name)
        .description(description)
        .send()
        .await
        .map_err(|e| aws_error("creating", &format!("group {name:?}"), e))?;
    Ok(())
}

pub async fn update_group(c: &Client, pool_id: &str, name: &str, description: &str) -> Result<()> {
    c.update_group()
        .user_pool_id(pool_id)
        .group_name(name)
        .description(description)
        .send()
        .await
        .map_err(|e| aws_error("updating", &format!("group {name:?}"), e))?;
    Ok(())
}

pub async fn delete_group(c: &Client, pool_id: &str, name: &str) -> Result<()> {
    match c
        .delete_group()
        .user_pool_id(pool_id)
        .group_name(name)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => gone(not_found_if(
            "deleting",
            &format!("group {name:?}"),
            e,
            |e| e.is_resource_not_found_exception(),
        )),
    }
}

#[cfg(test)]
#[path = "cognito_tests.rs"]
mod tests;
