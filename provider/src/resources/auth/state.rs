//! The auth resource's state: its inputs, and the ids of the pool and client.

use std::collections::BTreeMap;

use crate::aws::cognito::{ClientSettings, Mfa, PasswordRules, PoolSettings};
use crate::value::Dyn;

pub type Tags = BTreeMap<String, String>;

/// The app client's name: the pool's name and this suffix.
pub const CLIENT_SUFFIX: &str = "-web";

#[derive(Clone, Debug, PartialEq)]
pub struct AuthState {
    pub name: String,
    pub password: PasswordRules,
    pub mfa: Mfa,
    pub deletion_protection: bool,
    /// `None` when the configuration leaves the list out.
    pub callback_urls: Option<Vec<String>>,
    pub logout_urls: Option<Vec<String>>,
    pub domain_prefix: Option<String>,
    pub access_token_validity_minutes: i32,
    pub id_token_validity_minutes: i32,
    pub refresh_token_validity_days: i32,
    pub groups: Option<BTreeMap<String, String>>,
    pub tags: Option<Tags>,
    pub tags_all: Tags,
    pub user_pool_id: Option<String>,
    pub user_pool_arn: Option<String>,
    pub client_id: Option<String>,
    /// The `timeouts` block as configured (Terraform's, not AWS's).
    pub timeouts: Dyn,
}

fn int(v: &Dyn, name: &str, default: i32) -> i32 {
    v.get(name)
        .as_i64()
        .and_then(|n| i32::try_from(n).ok())
        .unwrap_or(default)
}

fn string(v: &Dyn, name: &str) -> Option<String> {
    v.get(name).as_str().map(str::to_string)
}

fn list(v: &Dyn, name: &str) -> Option<Vec<String>> {
    v.get(name).as_list().map(|_| v.get(name).string_list())
}

fn map(v: &Dyn, name: &str) -> Option<BTreeMap<String, String>> {
    v.get(name).as_map().map(|_| v.get(name).string_map())
}

fn opt_list(items: &Option<Vec<String>>) -> Dyn {
    items
        .as_ref()
        .map(|l| Dyn::from_strings(l.iter().cloned()))
        .unwrap_or(Dyn::Null)
}

fn opt_map(items: &Option<BTreeMap<String, String>>) -> Dyn {
    items
        .as_ref()
        .map(|m| Dyn::from_string_map(m.iter()))
        .unwrap_or(Dyn::Null)
}

impl AuthState {
    /// From a state or a plan; unknown values read as their defaults.
    pub fn from_dyn(v: &Dyn) -> AuthState {
        let flag = |name: &str| v.get(name).as_bool().unwrap_or(true);
        AuthState {
            name: string(v, "name").unwrap_or_default(),
            password: PasswordRules {
                minimum_length: int(v, "password_minimum_length", 8),
                require_lowercase: flag("password_require_lowercase"),
                require_uppercase: flag("password_require_uppercase"),
                require_numbers: flag("password_require_numbers"),
                require_symbols: flag("password_require_symbols"),
                temporary_validity_days: int(v, "temporary_password_validity_days", 7),
            },
            mfa: v
                .get("mfa")
                .as_str()
                .and_then(Mfa::parse)
                .unwrap_or(Mfa::Optional),
            deletion_protection: flag("deletion_protection"),
            callback_urls: list(v, "callback_urls"),
            logout_urls: list(v, "logout_urls"),
            domain_prefix: string(v, "domain_prefix"),
            access_token_validity_minutes: int(v, "access_token_validity_minutes", 60),
            id_token_validity_minutes: int(v, "id_token_validity_minutes", 60),
            refresh_token_validity_days: int(v, "refresh_token_validity_days", 30),
            groups: map(v, "groups"),
            tags: map(v, "tags"),
            tags_all: v.get("tags_all").string_map(),
            user_pool_id: string(v, "user_pool_id"),
            user_pool_arn: string(v, "user_pool_arn"),
            client_id: string(v, "client_id"),
            timeouts: v.get("timeouts").clone(),
        }
    }

    pub fn to_dyn(&self, region: &str) -> Dyn {
        let mut v = Dyn::obj();
        v.set("name", self.name.clone().into());
        let p = &self.password;
        v.set(
            "password_minimum_length",
            i64::from(p.minimum_length).into(),
        );
        v.set("password_require_lowercase", p.require_lowercase.into());
        v.set("password_require_uppercase", p.require_uppercase.into());
        v.set("password_require_numbers", p.require_numbers.into());
        v.set("password_require_symbols", p.require_symbols.into());
        v.set(
            "temporary_password_validity_days",
            i64::from(p.temporary_validity_days).into(),
        );
        v.set("mfa", self.mfa.as_str().into());
        v.set("deletion_protection", self.deletion_protection.into());
        v.set("callback_urls", opt_list(&self.callback_urls));
        v.set("logout_urls", opt_list(&self.logout_urls));
        v.set("domain_prefix", self.domain_prefix.clone().into());
        v.set(
            "access_token_validity_minutes",
            i64::from(self.access_token_validity_minutes).into(),
        );
        v.set(
            "id_token_validity_minutes",
            i64::from(self.id_token_validity_minutes).into(),
        );
        v.set(
            "refresh_token_validity_days",
            i64::from(self.refresh_token_validity_days).into(),
        );
        v.set("groups", opt_map(&self.groups));
        v.set("tags", opt_map(&self.tags));
        v.set("tags_all", Dyn::from_string_map(self.tags_all.iter()));
        v.set("user_pool_id", self.user_pool_id.clone().into());
        v.set("user_pool_arn", self.user_pool_arn.clone().into());
        v.set("client_id", self.client_id.clone().into());
        v.set(
            "issuer_url",
            self.user_pool_id
                .as_deref()
                .map(|id| issuer_url(region, id))
                .into(),
        );
        v.set(
            "jwks_url",
            self.user_pool_id
                .as_deref()
                .map(|id| format!("{}/.well-known/jwks.json", issuer_url(region, id)))
                .into(),
        );
        v.set(
            "domain",
            self.domain_prefix
                .as_deref()
                .map(|p| hosted_ui_domain(region, p))
                .into(),
        );
        v.set("timeouts", self.timeouts.clone());
        v
    }

    pub fn pool_settings(&self) -> PoolSettings {
        PoolSettings {
            password: self.password.clone(),
            mfa: self.mfa,
            deletion_protection: self.deletion_protection,
            tags: self.tags_all.clone(),
        }
    }

    pub fn client_settings(&self) -> ClientSettings {
        ClientSettings {
            name: format!("{}{CLIENT_SUFFIX}", self.name),
            callback_urls: self.callback_urls.clone().unwrap_or_default(),
            logout_urls: self.logout_urls.clone().unwrap_or_default(),
            access_token_minutes: self.access_token_validity_minutes,
            id_token_minutes: self.id_token_validity_minutes,
            refresh_token_days: self.refresh_token_validity_days,
        }
    }
}

/// The OpenID Connect issuer of a pool: what an API checks a token's `iss` against.
pub fn issuer_url(region: &str, pool_id: &str) -> String {
    format!("https://cognito-idp.{region}.amazonaws.com/{pool_id}")
}

/// The hosted UI's host name for a domain prefix.
pub fn hosted_ui_domain(region: &str, prefix: &str) -> String {
    format!("{prefix}.auth.{region}.amazoncognito.com")
}
