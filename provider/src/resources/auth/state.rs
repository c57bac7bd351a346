//! The auth resource's state: its inputs, and the ids of the pool and client.

use std::collections::BTreeMap;

use crate::aws::cognito::{ClientSettings, EmailSending, Mfa, PasswordRules, PoolSettings};
use serde::{Deserialize, Serialize};

use crate::value::Dyn;

pub use crate::resources::Tags;

/// The app client's name: the pool's name and this suffix.
pub const CLIENT_SUFFIX: &str = "-web";

/// The resource as the schema has it; `issuer_url`, `jwks_url` and `domain`
/// are derived from it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuthState {
    pub name: String,
    #[serde(flatten)]
    pub password: Password,
    pub mfa: Mfa,
    pub deletion_protection: bool,
    pub email_sending_account: String,
    pub email_source_arn: Option<String>,
    pub email_from: Option<String>,
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
}

impl Default for AuthState {
    fn default() -> Self {
        AuthState {
            name: String::new(),
            password: Password::default(),
            mfa: Mfa::Optional,
            deletion_protection: true,
            email_sending_account: EmailSending::COGNITO_DEFAULT.into(),
            email_source_arn: None,
            email_from: None,
            callback_urls: None,
            logout_urls: None,
            domain_prefix: None,
            access_token_validity_minutes: 60,
            id_token_validity_minutes: 60,
            refresh_token_validity_days: 30,
            groups: None,
            tags: None,
            tags_all: Tags::new(),
            user_pool_id: None,
            user_pool_arn: None,
            client_id: None,
        }
    }
}

/// The pool's password rules, by their attribute names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Password {
    pub password_minimum_length: i32,
    pub password_require_lowercase: bool,
    pub password_require_uppercase: bool,
    pub password_require_numbers: bool,
    pub password_require_symbols: bool,
    pub temporary_password_validity_days: i32,
}

impl Default for Password {
    fn default() -> Self {
        Password {
            password_minimum_length: 8,
            password_require_lowercase: true,
            password_require_uppercase: true,
            password_require_numbers: true,
            password_require_symbols: true,
            temporary_password_validity_days: 7,
        }
    }
}

impl From<&Password> for PasswordRules {
    fn from(p: &Password) -> PasswordRules {
        PasswordRules {
            minimum_length: p.password_minimum_length,
            require_lowercase: p.password_require_lowercase,
            require_uppercase: p.password_require_uppercase,
            require_numbers: p.password_require_numbers,
            require_symbols: p.password_require_symbols,
            temporary_validity_days: p.temporary_password_validity_days,
        }
    }
}

impl From<&PasswordRules> for Password {
    fn from(p: &PasswordRules) -> Password {
        Password {
            password_minimum_length: p.minimum_length,
            password_require_lowercase: p.require_lowercase,
            password_require_uppercase: p.require_uppercase,
            password_require_numbers: p.require_numbers,
            password_require_symbols: p.require_symbols,
            temporary_password_validity_days: p.temporary_validity_days,
        }
    }
}

impl AuthState {
    /// The outputs computed from the pool id and the domain prefix.
    pub fn derived(&self, region: &str) -> Vec<(&'static str, Dyn)> {
        let issuer = self
            .user_pool_id
            .as_deref()
            .map(|id| issuer_url(region, id));
        vec![
            (
                "jwks_url",
                issuer
                    .as_ref()
                    .map(|i| format!("{i}/.well-known/jwks.json"))
                    .into(),
            ),
            ("issuer_url", issuer.into()),
            (
                "domain",
                self.domain_prefix
                    .as_deref()
                    .map(|p| hosted_ui_domain(region, p))
                    .into(),
            ),
        ]
    }

    pub fn pool_settings(&self) -> PoolSettings {
        PoolSettings {
            password: (&self.password).into(),
            mfa: self.mfa,
            deletion_protection: self.deletion_protection,
            email: EmailSending {
                account: self.email_sending_account.clone(),
                source_arn: self.email_source_arn.clone(),
                from: self.email_from.clone(),
            },
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
