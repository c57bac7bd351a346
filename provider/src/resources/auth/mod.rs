//! `fansite_auth`: a Cognito user pool for fans, its web app client, hosted UI
//! domain and groups.
//!
//! Lifecycle in order: schema, validate, read, plan, create, update, delete, import.

mod find;
mod schema;
mod state;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;

use crate::aws::cognito::{self, EmailSending, Mfa};
use crate::aws::Aws;
use crate::diag::{AttrPath, Diags};
use crate::driver::{Composite, Part, Timeouts};
use crate::error::Result;
use crate::resource::Identity;
use crate::schema::{whole_in, Schema};
use crate::value::Dyn;

pub use state::AuthState;

/// Cognito makes a pool, client and groups at once; a hosted UI prefix domain
/// takes up to a minute to create or delete (AWS documentation). Ten minutes
/// leaves room for throttling on a busy account.
pub const DEFAULT_CREATE_TIMEOUT: Duration = Duration::from_secs(10 * 60);
pub const DEFAULT_UPDATE_TIMEOUT: Duration = Duration::from_secs(10 * 60);
pub const DEFAULT_DELETE_TIMEOUT: Duration = Duration::from_secs(10 * 60);

pub struct AuthResource;

#[async_trait]
impl Composite for AuthResource {
    type State = AuthState;
    const NAME: &'static str = "auth";
    const TIMEOUTS: Timeouts = Timeouts {
        create: DEFAULT_CREATE_TIMEOUT,
        update: DEFAULT_UPDATE_TIMEOUT,
        delete: DEFAULT_DELETE_TIMEOUT,
    };
    /// The app client, when it was deleted outside Terraform.
    const PARTS: &'static [Part] = &[Part::alone("client_id")];

    fn schema(&self) -> Schema {
        schema::schema()
    }

    fn validate(&self, config: &Dyn, diags: &mut Diags) {
        validate_config(config, diags);
    }

    fn derived(&self, region: &str, state: &AuthState) -> Vec<(&'static str, Dyn)> {
        state.derived(region)
    }

    fn label(&self, state: &AuthState) -> String {
        format!("auth {:?}", state.name)
    }

    fn unmade(&self, want: &AuthState) -> AuthState {
        AuthState {
            user_pool_id: None,
            user_pool_arn: None,
            client_id: None,
            domain_prefix: None,
            groups: None,
            // Protection goes on last: a pool whose create failed midway can still be removed.
            deletion_protection: false,
            ..want.clone()
        }
    }

    fn has_parts(&self, state: &AuthState) -> bool {
        state.user_pool_id.is_some()
    }

    async fn find(&self, aws: &Aws, hints: &AuthState) -> Result<Option<AuthState>> {
        find::find_auth(aws, hints).await
    }

    async fn plan(
        &self,
        aws: Option<&Aws>,
        prior: Option<&Dyn>,
        mut planned: Dyn,
        _config: &Dyn,
        diags: &mut Diags,
    ) -> Dyn {
        let domain = match (planned.get("domain_prefix"), aws) {
            (Dyn::String(prefix), Some(aws)) => {
                Dyn::String(state::hosted_ui_domain(&aws.region, prefix))
            }
            (Dyn::Null, _) => Dyn::Null,
            _ => Dyn::Unknown,
        };
        planned.set("domain", domain);
        // Cognito's own sender has a small daily quota ("below the required
        // delivery volume" for production, EmailConfigurationType): said once,
        // when the pool is made.
        if prior.is_none()
            && planned.get("email_sending_account").as_str() == Some(EmailSending::COGNITO_DEFAULT)
        {
            diags.warning(
                None,
                "Cognito's own email sender has a small daily quota",
                "With email_sending_account = \"COGNITO_DEFAULT\", Cognito sends only a limited number of emails a day for the pool: on a busy sign-up day fans stop receiving their verification codes and password resets. For production, set email_sending_account = \"DEVELOPER\" and email_source_arn to a verified Amazon SES identity.",
            );
        }
        planned
    }

    fn check_replace(&self, prior: &Dyn, planned: &Dyn, paths: &[AttrPath], diags: &mut Diags) {
        let what = paths
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let pool = prior.get("user_pool_id").as_str().unwrap_or("(not made)");
        if prior.get("deletion_protection").as_bool() == Some(true) {
            diags.attr_error(
                paths.first().cloned().unwrap_or_else(|| AttrPath::attr("name")),
                "Replacing the user pool is blocked by deletion protection",
                format!("Changing {what} replaces user pool {pool}, which deletes every fan's account. deletion_protection is on, so this is refused. To replace it anyway, first apply deletion_protection = false with the old {what}."),
            );
        } else {
            let _ = planned;
            diags.warning(
                paths.first().cloned(),
                "Replacing the user pool deletes every user",
                format!("Changing {what} replaces user pool {pool}. Every fan's account, password and group membership goes with it, and the new pool's IDs differ, so every token issued so far stops working."),
            );
        }
    }

    fn plan_destroy(&self, prior: &Dyn, diags: &mut Diags) {
        if prior.get("deletion_protection").as_bool() == Some(true) {
            let pool = prior.get("user_pool_id").as_str().unwrap_or("(not made)");
            diags.error(
                "Deletion protection is on",
                format!("fansite_auth {:?} (user pool {pool}) has deletion_protection = true, so it cannot be destroyed: destroying it deletes every fan's account. Set deletion_protection = false and apply first.", prior.get("name").as_str().unwrap_or_default()),
            );
        }
    }

    async fn create(&self, aws: &Aws, cur: &mut AuthState, want: &AuthState) -> Result<()> {
        create_parts(aws, cur, want).await
    }

    async fn update(&self, aws: &Aws, cur: &mut AuthState, want: &AuthState) -> Result<()> {
        update_parts(aws, cur, want).await
    }

    async fn delete(&self, aws: &Aws, cur: &AuthState) -> Result<()> {
        let Some(pool_id) = &cur.user_pool_id else {
            return Ok(());
        };
        let c = &aws.cognito;
        // A pool with a domain cannot be deleted: the domain goes first, and
        // is waited for until it is gone.
        if let Some(prefix) = &cur.domain_prefix {
            cognito::delete_domain(c, pool_id, prefix, crate::ctx::remaining()).await?;
        }
        cognito::delete_pool(c, pool_id).await
    }

    async fn import(&self, aws: &Aws, id: &str, diags: &mut Diags) -> Option<AuthState> {
        if !is_pool_id(id) {
            diags.error(
                "Invalid import ID",
                format!("{id:?} is not a user pool ID; import a fansite_auth by its user pool ID, such as \"{}_AbC123xyz\".", aws.region),
            );
            return None;
        }
        match find::import_auth(aws, id).await {
            Ok(Some(found)) => Some(found),
            Ok(None) => {
                diags.error(
                    "Cannot import non-existent user pool",
                    format!("No user pool {id} was found in {}.", aws.region),
                );
                None
            }
            Err(e) => {
                e.report(diags);
                None
            }
        }
    }

    /// The user pool, as import takes it.
    const IDENTITY: Option<Identity> = Some(Identity {
        regional: true,
        attributes: &[("user_pool_id", "ID of the user pool.")],
        of_state: identity_of,
        import_id: import_id_of,
    });

    async fn list(&self, aws: &Aws) -> Result<Option<Vec<String>>> {
        find::list_auths(aws).await.map(Some)
    }
}

/// The identity's values in a state: the user pool id, once made.
fn identity_of(state: &Dyn) -> Option<Vec<String>> {
    Some(vec![state.get("user_pool_id").as_str()?.to_string()])
}

/// The import id of an identity: its user pool id.
fn import_id_of(values: &[String]) -> String {
    values.concat()
}

/// Makes the parts in order, recording each id in `cur` as soon as it exists.
async fn create_parts(aws: &Aws, cur: &mut AuthState, want: &AuthState) -> Result<()> {
    let c = &aws.cognito;
    let (id, arn) = cognito::create_pool(c, &want.name, &cur.pool_settings()).await?;
    cur.user_pool_id = Some(id.clone());
    cur.user_pool_arn = Some(arn);
    if want.mfa != Mfa::Off {
        cognito::set_mfa(c, &id, want.mfa).await?;
    }
    cur.client_id = Some(cognito::create_client(c, &id, &want.client_settings()).await?);
    if let Some(prefix) = &want.domain_prefix {
        cognito::create_domain(c, &id, prefix).await?;
        cur.domain_prefix = Some(prefix.clone());
        cognito::wait_domain_active(c, &id, prefix, crate::ctx::remaining()).await?;
    }
    sync_groups(aws, &id, cur, want).await?;
    if want.deletion_protection {
        cognito::update_pool(c, &id, &want.pool_settings()).await?;
        cur.deletion_protection = true;
    }
    Ok(())
}

/// Changes what differs, in an order that keeps log-in working: the pool's
/// rules, then the client (made again if it was deleted), then the domain,
/// then groups.
async fn update_parts(aws: &Aws, cur: &mut AuthState, want: &AuthState) -> Result<()> {
    let c = &aws.cognito;
    let Some(id) = cur.user_pool_id.clone() else {
        return create_parts(aws, cur, want).await;
    };
    if cur.mfa != want.mfa {
        cognito::set_mfa(c, &id, want.mfa).await?;
        cur.mfa = want.mfa;
    }
    if cur.pool_settings() != want.pool_settings() {
        cognito::update_pool(c, &id, &want.pool_settings()).await?;
        cur.password = want.password.clone();
        cur.deletion_protection = want.deletion_protection;
        cur.email_sending_account = want.email_sending_account.clone();
        cur.email_source_arn = want.email_source_arn.clone();
        cur.email_from = want.email_from.clone();
        cur.tags_all = want.tags_all.clone();
    }
    cur.tags = want.tags.clone();
    match &cur.client_id {
        None => {
            cur.client_id = Some(cognito::create_client(c, &id, &want.client_settings()).await?);
        }
        Some(client_id) if cur.client_settings() != want.client_settings() => {
            cognito::update_client(c, &id, client_id, &want.client_settings()).await?;
        }
        Some(_) => {}
    }
    cur.callback_urls = want.callback_urls.clone();
    cur.logout_urls = want.logout_urls.clone();
    cur.access_token_validity_minutes = want.access_token_validity_minutes;
    cur.id_token_validity_minutes = want.id_token_validity_minutes;
    cur.refresh_token_validity_days = want.refresh_token_validity_days;
    if cur.domain_prefix != want.domain_prefix {
        // A domain cannot be renamed: the new one is made after the old one is
        // gone (not merely DELETING), since a pool has at most one prefix domain.
        if let Some(old) = cur.domain_prefix.clone() {
            cognito::delete_domain(c, &id, &old, crate::ctx::remaining()).await?;
            cur.domain_prefix = None;
        }
        if let Some(new) = &want.domain_prefix {
            cognito::create_domain(c, &id, new).await?;
            cur.domain_prefix = Some(new.clone());
            cognito::wait_domain_active(c, &id, new, crate::ctx::remaining()).await?;
        }
    }
    sync_groups(aws, &id, cur, want).await
}

async fn sync_groups(
    aws: &Aws,
    pool_id: &str,
    cur: &mut AuthState,
    want: &AuthState,
) -> Result<()> {
    let c = &aws.cognito;
    let have = cur.groups.clone().unwrap_or_default();
    let wanted = want.groups.clone().unwrap_or_default();
    let mut now: BTreeMap<String, String> = have.clone();
    for (name, description) in &wanted {
        match have.get(name) {
            None => cognito::create_group(c, pool_id, name, description).await?,
            Some(d) if d != description => {
                cognito::update_group(c, pool_id, name, description).await?
            }
            Some(_) => {}
        }
        now.insert(name.clone(), description.clone());
        cur.groups = Some(now.clone());
    }
    for name in have.keys().filter(|n| !wanted.contains_key(*n)) {
        cognito::delete_group(c, pool_id, name).await?;
        now.remove(name);
        cur.groups = Some(now.clone());
    }
    cur.groups = want.groups.clone();
    Ok(())
}

/// `us-east-1_AbC123`: a region, `_`, letters and digits.
fn is_pool_id(id: &str) -> bool {
    id.split_once('_').is_some_and(|(region, rest)| {
        region.split('-').count() >= 3
            && !rest.is_empty()
            && rest.chars().all(|c| c.is_ascii_alphanumeric())
    })
}

/// The rules declared on single attributes (`Attribute::rule`).
pub(crate) mod rules {
    pub fn name(name: &str) -> Option<String> {
        let ok = !name.is_empty()
            && name.len() <= 100
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        (!ok).then(|| format!("{name:?}: use 1 to 100 letters, digits, '-', '_' or '.'."))
    }

    pub fn url(url: &str) -> Option<String> {
        let local = ["http://localhost", "http://127.0.0.1"].iter().any(|p| {
            url == *p || url.starts_with(&format!("{p}:")) || url.starts_with(&format!("{p}/"))
        });
        let https_host = url
            .strip_prefix("https://")
            .map(|r| r.split(['/', '?', '#']).next().unwrap_or(""))
            .is_some_and(|h| !h.is_empty() && !h.contains(' '));
        (!(local || https_host) || url.contains('#')).then(|| format!("{url:?}: use an https:// URL with a host and no #fragment (http:// only for localhost)."))
    }

    pub fn domain_prefix(prefix: &str) -> Option<String> {
        let chars_ok = !prefix.is_empty()
            && prefix.len() <= 63
            && prefix
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !prefix.starts_with('-')
            && !prefix.ends_with('-');
        if !chars_ok {
            return Some(format!("{prefix:?}: use 1 to 63 lowercase letters, digits and '-', not starting or ending with '-'."));
        }
        ["aws", "amazon", "cognito"]
            .into_iter()
            .find(|w| prefix.contains(w))
            .map(|word| {
                format!(
                    "{prefix:?} contains {word:?}, which Cognito reserves; choose another prefix."
                )
            })
    }

    pub fn ses_identity(arn: &str) -> Option<String> {
        let ok = arn.starts_with("arn:aws:ses:") && arn.contains(":identity/");
        (!ok).then(|| format!("{arn:?} is not an Amazon SES identity ARN such as \"arn:aws:ses:us-east-1:123456789012:identity/fans.example.com\"."))
    }

    pub fn group_description(d: &str) -> Option<String> {
        (d.len() > 2048).then(|| "A group description is at most 2048 characters.".to_string())
    }
}

fn validate_config(config: &Dyn, diags: &mut Diags) {
    let access = whole_in(config.get("access_token_validity_minutes"), 5, 1440);
    let id = whole_in(config.get("id_token_validity_minutes"), 5, 1440);
    if let Some(days) = whole_in(config.get("refresh_token_validity_days"), 1, 3650) {
        let longest = access.unwrap_or(60).max(id.unwrap_or(60));
        if days * 1440 <= longest {
            diags.attr_error(
                AttrPath::attr("refresh_token_validity_days"),
                "Refresh tokens must outlive access and ID tokens",
                format!("{days} day(s) is not longer than {longest} minutes; raise refresh_token_validity_days or lower the token lifetimes."),
            );
        }
    }
    if config.get("domain_prefix").as_str().is_some() {
        let no_callbacks = config
            .get("callback_urls")
            .as_list()
            .is_none_or(|l| l.is_empty());
        if no_callbacks && !config.get("callback_urls").is_unknown() {
            diags.attr_error(
                AttrPath::attr("domain_prefix"),
                "Hosted UI without callback URLs",
                "domain_prefix turns on the hosted UI, which can only send fans back to callback_urls: set at least one.",
            );
        }
    }
    let account = config.get("email_sending_account");
    let source = config.get("email_source_arn");
    if account.as_str() == Some("DEVELOPER") && source.is_null() {
        diags.attr_error(
            AttrPath::attr("email_sending_account"),
            "SES sending without an identity",
            "email_sending_account = \"DEVELOPER\" sends through Amazon SES from a verified identity: set email_source_arn to its ARN.",
        );
    }
    if !config.get("email_from").is_null() && source.is_null() {
        diags.attr_error(
            AttrPath::attr("email_from"),
            "From address without an identity",
            "A From address needs the verified Amazon SES identity that sends it: set email_source_arn too.",
        );
    }
    if let Some(groups) = config.get("groups").as_map() {
        for name in groups.keys() {
            let path = AttrPath::attr("groups").then_key(name);
            if name.is_empty() || name.len() > 128 || name.chars().any(char::is_whitespace) {
                diags.attr_error(
                    path.clone(),
                    "Invalid group name",
                    format!("{name:?}: use 1 to 128 characters without spaces."),
                );
            }
        }
    }
    if let Some(tags) = config.get("tags").as_map() {
        for key in tags.keys() {
            if key.to_ascii_lowercase().starts_with("aws:") {
                diags.attr_error(
                    AttrPath::attr("tags").then_key(key),
                    "Reserved tag key",
                    format!("{key:?}: keys starting with \"aws:\" are reserved by AWS."),
                );
            }
        }
    }
}
