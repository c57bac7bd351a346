use crate::schema::{Attribute, Block, Schema, Ty};

use super::rules;

pub fn schema() -> Schema {
    Schema {
        version: 1,
        block: Block {
            description: "Sign-up and log-in for fans with a Cognito user pool: email as the username, email verification, the standard `nickname` attribute required, recovery by email, a public app client for the web frontend, an optional hosted UI domain, and groups. The app keeps no user table: Cognito holds the users.".into(),
            attributes: vec![
                Attribute::required("name", Ty::String, "Name of the user pool; the app client is `<name>-web`. Letters, digits, `-`, `_` and `.`, at most 100. Changing it replaces the pool, which deletes every user: the plan warns first, and refuses while `deletion_protection` is on.").force_new().rule(rules::name, "1 to 100 letters, digits, `-`, `_` or `.`"),
                Attribute::optional_computed("password_minimum_length", Ty::Number, "Minimum password length.").default(8i64).range(6, 99),
                Attribute::optional_computed("password_require_lowercase", Ty::Bool, "Passwords need a lowercase letter.").default(true),
                Attribute::optional_computed("password_require_uppercase", Ty::Bool, "Passwords need an uppercase letter.").default(true),
                Attribute::optional_computed("password_require_numbers", Ty::Bool, "Passwords need a digit.").default(true),
                Attribute::optional_computed("password_require_symbols", Ty::Bool, "Passwords need a symbol.").default(true),
                Attribute::optional_computed("temporary_password_validity_days", Ty::Number, "Days an administrator-set temporary password stays valid.").default(7i64).range(0, 365),
                Attribute::optional_computed("mfa", Ty::String, "Multi-factor authentication with an authenticator app (TOTP): `off`, `optional` (each fan may turn it on) or `on` (every fan must).").default("optional").one_of(crate::aws::cognito::Mfa::NAMES),
                Attribute::optional_computed("deletion_protection", Ty::Bool, "While true, AWS refuses to delete the pool, and the plan refuses a destroy or a replacement. Set it to false and apply before destroying.").default(true),
                Attribute::optional_computed("email_sending_account", Ty::String, "Who sends the pool's email (verification codes, password resets): `COGNITO_DEFAULT`, Cognito itself, with a small daily quota meant for testing (the plan warns when a pool is made with it), or `DEVELOPER`, Amazon SES from `email_source_arn`, for production volumes.").default("COGNITO_DEFAULT").one_of(crate::aws::cognito::EmailSending::ACCOUNTS),
                Attribute::optional("email_source_arn", Ty::String, "ARN of the verified Amazon SES identity (an address or a domain) that sends the pool's email; needed with `DEVELOPER`. The identity must be in a region Cognito can send from.").rule(rules::ses_identity, "an Amazon SES identity ARN"),
                Attribute::optional("email_from", Ty::String, "The From address of the pool's email, such as `Fansite <no-reply@fans.example.com>`; needs `email_source_arn`."),
                Attribute::optional("callback_urls", Ty::list_of_strings(), "Where the hosted UI may send a fan after log-in (`https://`, or `http://localhost` for development). When set, the client allows the authorization code flow with the `openid`, `email` and `profile` scopes.").rule(rules::url, "https:// URLs with a host and no #fragment (http:// only for localhost)"),
                Attribute::optional("logout_urls", Ty::list_of_strings(), "Where the hosted UI may send a fan after log-out.").rule(rules::url, "https:// URLs with a host and no #fragment (http:// only for localhost)"),
                Attribute::optional("domain_prefix", Ty::String, "Prefix of the hosted UI domain `<prefix>.auth.<region>.amazoncognito.com`: lowercase letters, digits and `-`, without `aws`, `amazon` or `cognito`. Needs `callback_urls`. Changing it moves the hosted UI to the new domain in place.").rule(rules::domain_prefix, "1 to 63 lowercase letters, digits and `-`, not starting or ending with `-`, without `aws`, `amazon` or `cognito`"),
                Attribute::optional_computed("access_token_validity_minutes", Ty::Number, "Lifetime of access tokens, in minutes.").default(60i64).range(5, 1440),
                Attribute::optional_computed("id_token_validity_minutes", Ty::Number, "Lifetime of ID tokens, in minutes.").default(60i64).range(5, 1440),
                Attribute::optional_computed("refresh_token_validity_days", Ty::Number, "Lifetime of refresh tokens, in days; longer than the access and ID tokens.").default(30i64).range(1, 3650),
                Attribute::optional("groups", Ty::map_of_strings(), "Groups of fans, name to description, such as `{ admin = \"Site staff\", moderator = \"Removes posts\" }`. A token carries its user's groups in `cognito:groups`.").rule(rules::group_description, "descriptions of at most 2048 characters"),
                Attribute::optional("tags", Ty::map_of_strings(), "Tags for the user pool, on top of the provider's `default_tags`. Keys starting with `aws:` are reserved by AWS."),
                Attribute::computed("tags_all", Ty::map_of_strings(), "All tags on the pool: the provider's `default_tags` overlaid with `tags`."),
                Attribute::computed("user_pool_id", Ty::String, "ID of the user pool, such as `ap-northeast-2_AbC123`."),
                Attribute::computed("user_pool_arn", Ty::String, "ARN of the user pool."),
                Attribute::computed("client_id", Ty::String, "ID of the public app client for the web frontend (it has no secret)."),
                Attribute::computed("issuer_url", Ty::String, "OpenID Connect issuer of the pool's tokens: what the API checks a token's `iss` against."),
                Attribute::computed("jwks_url", Ty::String, "URL of the pool's public keys, for checking token signatures."),
                Attribute::computed("domain", Ty::String, "Host name of the hosted UI, `<domain_prefix>.auth.<region>.amazoncognito.com`, or null without `domain_prefix`."),
            ],
            blocks: vec![],
        },
    }
}
