//! Reading a fansite_auth back from AWS: the pool, its client, domain and groups.

use crate::aws::cognito;
use crate::aws::Aws;
use crate::error::Result;

use super::state::{AuthState, CLIENT_SUFFIX};
use crate::resources::{in_configured_order, null_if_unset, own_tags};

/// The resource as AWS has it now, with `hints` (the state) for what AWS does
/// not say: which client is ours, and the domain when the pool does not name it.
/// `None` when the pool is gone.
pub async fn find_auth(aws: &Aws, hints: &AuthState) -> Result<Option<AuthState>> {
    let c = &aws.cognito;
    let Some(pool_id) = &hints.user_pool_id else {
        return Ok(None);
    };
    let Some(pool) = cognito::describe_pool(c, pool_id).await? else {
        return Ok(None);
    };
    let client_name = format!("{}{CLIENT_SUFFIX}", pool.name);
    let client_id = match &hints.client_id {
        Some(id) => Some(id.clone()),
        None => cognito::find_client(c, pool_id, &client_name).await?,
    };
    let client = match &client_id {
        Some(id) => cognito::describe_client(c, pool_id, id).await?,
        None => None,
    };
    // AWS names the domain in DescribeUserPool; where it does not (the local
    // endpoint), the prefix in state is checked directly.
    let domain_prefix = match (&pool.domain, &hints.domain_prefix) {
        (Some(d), _) => Some(d.clone()),
        (None, Some(prefix)) if cognito::domain_of_pool(c, pool_id, prefix).await? => {
            Some(prefix.clone())
        }
        _ => None,
    };
    let groups = cognito::list_groups(c, pool_id).await?;
    let groups = null_if_unset(&hints.groups, groups);
    let tags_all = pool.settings.tags.clone();
    let tags = null_if_unset(&hints.tags, own_tags(&tags_all, &aws.default_tags));
    let mut found = AuthState {
        name: pool.name.clone(),
        password: (&pool.settings.password).into(),
        mfa: pool.settings.mfa,
        deletion_protection: pool.settings.deletion_protection,
        email_sending_account: pool.settings.email.account.clone(),
        email_source_arn: pool.settings.email.source_arn.clone(),
        email_from: pool.settings.email.from.clone(),
        callback_urls: hints.callback_urls.clone(),
        logout_urls: hints.logout_urls.clone(),
        domain_prefix,
        access_token_validity_minutes: hints.access_token_validity_minutes,
        id_token_validity_minutes: hints.id_token_validity_minutes,
        refresh_token_validity_days: hints.refresh_token_validity_days,
        groups,
        tags,
        tags_all,
        user_pool_id: Some(pool.id.clone()),
        user_pool_arn: Some(pool.arn.clone()),
        client_id: client.as_ref().and(client_id),
    };
    if let Some(cl) = client {
        // Cognito returns the URLs sorted (hashicorp/terraform-provider-aws#4550):
        // the configured order is kept when the set is the same.
        let ordered = |hint: &Option<Vec<String>>, got: Vec<String>| {
            let got = in_configured_order(hint.as_deref().unwrap_or_default(), got);
            null_if_unset(hint, got)
        };
        found.callback_urls = ordered(&hints.callback_urls, cl.callback_urls);
        found.logout_urls = ordered(&hints.logout_urls, cl.logout_urls);
        found.access_token_validity_minutes = cl.access_token_minutes;
        found.id_token_validity_minutes = cl.id_token_minutes;
        found.refresh_token_validity_days = cl.refresh_token_days;
    }
    Ok(Some(found))
}

/// The resource for `terraform import` of a pool id.
pub async fn import_auth(aws: &Aws, pool_id: &str) -> Result<Option<AuthState>> {
    let hints = AuthState {
        user_pool_id: Some(pool_id.to_string()),
        ..AuthState::default()
    };
    find_auth(aws, &hints).await
}

/// The ids of the region's user pools that fansite_auth made: those with its
/// app client, `<name>-web`. Cognito lists pools with neither their tags nor
/// their clients, so this is one paged ListUserPools and one
/// ListUserPoolClients per pool.
pub async fn list_auths(aws: &Aws) -> Result<Vec<String>> {
    let c = &aws.cognito;
    let mut out = Vec::new();
    for (id, name) in cognito::list_pools(c).await? {
        let client = format!("{name}{CLIENT_SUFFIX}");
        if cognito::find_client(c, &id, &client).await?.is_some() {
            out.push(id);
        }
    }
    Ok(out)
}
