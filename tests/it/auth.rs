//! fansite_auth against the resource contract's nine tests, and a fan who
//! signs up, logs in and reads their nickname back through what Terraform made.

use aws_sdk_cognitoidentityprovider::types::{AttributeType, AuthFlowType};
use aws_sdk_cognitoidentityprovider::Client;
use serde_json::Value;

use crate::fault_proxy::FaultProxy;
use crate::harness::{cognito, endpoint, run_name, Config, Terraform, Workspace};

/// A fansite_auth with the tests' defaults.
fn auth(region: &'static str, test: &str, tf: &Terraform) -> Config {
    Config::new("fansite_auth", region, run_name(test, tf))
        .with("tags = { app = \"fansite\" }")
        .with("groups = { admin = \"Site staff\" }")
}

/// A fansite_auth with the hosted UI: callback URLs and a domain prefix named after the test.
pub(crate) fn auth_with_hosted_ui(region: &'static str, test: &str, tf: &Terraform) -> Config {
    let auth = auth(region, test, tf);
    let prefix = prefix(&auth);
    auth.with("callback_urls = [\"https://fans.example.com/callback\"]")
        .with(&format!("domain_prefix = {prefix:?}"))
}

/// The domain prefix [`auth_with_hosted_ui`] gives.
fn prefix(auth: &Config) -> String {
    auth.name.to_lowercase().replace(['_', '.'], "-")
}

const ADDR: &str = "fansite_auth.test";
const SES_IDENTITY: &str = "arn:aws:ses:us-east-1:123456789012:identity/fans.example.com";

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// The ids of every pool on the endpoint with this name, over every page of
/// ListUserPools (at most 60 a page).
pub(crate) async fn live_pools(c: &Client, name: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let out = c
            .list_user_pools()
            .max_results(60)
            .set_next_token(next.take())
            .send()
            .await
            .expect("list user pools");
        ids.extend(
            out.user_pools()
                .iter()
                .filter(|p| p.name() == Some(name))
                .filter_map(|p| p.id().map(str::to_string)),
        );
        match out.next_token() {
            Some(token) if !token.is_empty() => next = Some(token.to_string()),
            _ => break,
        }
    }
    ids
}

/// Every part of the auth the endpoint has: each pool of this name, its app
/// clients, its groups and its hosted UI domain.
pub(crate) async fn live_parts(region: &str, name: &str) -> Vec<String> {
    let c = cognito(region).await;
    let mut parts = Vec::new();
    for pool in live_pools(&c, name).await {
        let clients = c
            .list_user_pool_clients()
            .user_pool_id(&pool)
            .max_results(60)
            .send()
            .await
            .expect("list user pool clients");
        parts.extend(
            clients
                .user_pool_clients()
                .iter()
                .map(|cl| format!("client {}", cl.client_id().unwrap_or_default())),
        );
        parts.extend(
            groups(&c, &pool)
                .await
                .into_iter()
                .map(|(group, _)| format!("group {group}")),
        );
        let domain = c
            .describe_user_pool()
            .user_pool_id(&pool)
            .send()
            .await
            .expect("describe pool")
            .user_pool()
            .and_then(|p| p.domain().map(str::to_string));
        if let Some(domain) = domain {
            parts.push(format!("domain {domain}"));
        }
        parts.push(format!("pool {pool}"));
    }
    parts
}

/// The pool a domain prefix points at, if the domain exists. A missing domain
/// is described as empty (or is ResourceNotFoundException); any other error
/// fails the test.
async fn domain_owner(c: &Client, prefix: &str) -> Option<String> {
    match c.describe_user_pool_domain().domain(prefix).send().await {
        Ok(d) => d
            .domain_description()
            .and_then(|d| d.user_pool_id().map(str::to_string)),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            None
        }
        Err(e) => panic!("describe user pool domain {prefix}: {e:?}"),
    }
}

async fn groups(c: &Client, pool: &str) -> Vec<(String, String)> {
    c.list_groups()
        .user_pool_id(pool)
        .send()
        .await
        .expect("list groups")
        .groups()
        .iter()
        .map(|g| {
            (
                g.group_name().unwrap_or_default().to_string(),
                g.description().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Destroys (turning deletion protection off first when `protected`) and asks
/// the endpoint that no pool of this name and no domain is left.
pub(crate) async fn destroy_and_check(ws: &Workspace, auth: &Config, protected: bool) {
    if protected {
        let off = auth.clone().with("deletion_protection = false");
        ws.write(&off.hcl());
        ws.apply();
    }
    ws.destroy();
    let c = cognito(auth.region).await;
    let left = live_pools(&c, &auth.name).await;
    assert!(left.is_empty(), "destroy left pools behind: {left:?}");
    assert_eq!(
        domain_owner(&c, &prefix(auth)).await,
        None,
        "domain left behind"
    );
}

fn update() -> Vec<(String, Vec<String>)> {
    vec![(ADDR.to_string(), vec!["update".to_string()])]
}

async fn auth_apply_then_plan_is_empty(tf: &Terraform) {
    let auth = auth_with_hosted_ui("eu-north-1", "auth-apply", tf);
    let ws = Workspace::applied(tf, "auth-apply", &auth.hcl());
    ws.assert_plan_empty();
    let state = ws.state_values(ADDR);
    let pool = s(&state["user_pool_id"]);
    assert!(pool.starts_with("eu-north-1_"), "{state}");
    assert_eq!(
        s(&state["issuer_url"]),
        format!("https://cognito-idp.eu-north-1.amazonaws.com/{pool}")
    );
    assert_eq!(
        s(&state["domain"]),
        format!("{}.auth.eu-north-1.amazoncognito.com", prefix(&auth))
    );
    assert_eq!(
        state["tags_all"]["suite"], "e2e",
        "default_tags reach tags_all"
    );
    // Asked of AWS, not the state.
    let c = cognito(auth.region).await;
    assert_eq!(live_pools(&c, &auth.name).await, vec![pool.clone()]);
    let described = c
        .describe_user_pool()
        .user_pool_id(&pool)
        .send()
        .await
        .expect("describe pool");
    let p = described.user_pool().expect("pool");
    let nickname = p
        .schema_attributes()
        .iter()
        .find(|a| a.name() == Some("nickname"))
        .expect("nickname attribute");
    assert_eq!(nickname.required(), Some(true), "nickname is required");
    assert!(
        p.schema_attributes()
            .iter()
            .all(|a| !a.name().unwrap_or_default().starts_with("custom:")),
        "no custom attributes"
    );
    let tags = p.user_pool_tags().expect("tags");
    assert_eq!(tags.get("suite").map(String::as_str), Some("e2e"));
    assert_eq!(tags.get("app").map(String::as_str), Some("fansite"));
    assert_eq!(
        p.deletion_protection().map(|d| d.as_str()),
        Some("ACTIVE"),
        "deletion protection is on by default"
    );
    assert_eq!(
        p.email_configuration()
            .and_then(|e| e.email_sending_account())
            .map(|a| a.as_str()),
        Some("COGNITO_DEFAULT")
    );
    let client = c
        .describe_user_pool_client()
        .user_pool_id(&pool)
        .client_id(s(&state["client_id"]))
        .send()
        .await
        .expect("describe client");
    let client = client.user_pool_client().expect("client");
    assert_eq!(
        client.client_secret(),
        None,
        "a public client has no secret"
    );
    let flows: Vec<&str> = client
        .explicit_auth_flows()
        .iter()
        .map(|f| f.as_str())
        .collect();
    for f in [
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_USER_SRP_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    ] {
        assert!(flows.contains(&f), "{f} in {flows:?}");
    }
    assert_eq!(domain_owner(&c, &prefix(&auth)).await, Some(pool.clone()));
    assert_eq!(
        groups(&c, &pool).await,
        vec![("admin".into(), "Site staff".into())]
    );
    destroy_and_check(&ws, &auth, true).await;
}
per_terraform!(auth_apply_then_plan_is_empty);

async fn auth_fan_signs_up_logs_in_and_reads_nickname(tf: &Terraform) {
    let auth = auth("eu-south-1", "auth-signup", tf);
    let ws = Workspace::applied(tf, "auth-signup", &auth.hcl());
    let state = ws.state_values(ADDR);
    let (pool, client_id) = (s(&state["user_pool_id"]), s(&state["client_id"]));
    let c = cognito(auth.region).await;
    let email = format!("fan-{}@example.com", std::process::id());
    let attr = |k: &str, v: &str| {
        AttributeType::builder()
            .name(k)
            .value(v)
            .build()
            .expect("attribute")
    };
    c.sign_up()
        .client_id(&client_id)
        .username(&email)
        .password("Lightstick#2026")
        .user_attributes(attr("email", &email))
        .user_attributes(attr("nickname", "minji_fan"))
        .send()
        .await
        .expect("sign up");
    // The endpoint sends no email, so the fan is confirmed as an administrator would.
    c.admin_confirm_sign_up()
        .user_pool_id(&pool)
        .username(&email)
        .send()
        .await
        .expect("confirm");
    let auth_out = c
        .initiate_auth()
        .client_id(&client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", &email)
        .auth_parameters("PASSWORD", "Lightstick#2026")
        .send()
        .await
        .expect("log in with USER_PASSWORD_AUTH");
    let token = auth_out
        .authentication_result()
        .and_then(|r| r.access_token())
        .expect("access token")
        .to_string();
    let user = c
        .get_user()
        .access_token(&token)
        .send()
        .await
        .expect("get user");
    let nickname = user
        .user_attributes()
        .iter()
        .find(|a| a.name() == "nickname")
        .and_then(|a| a.value());
    assert_eq!(nickname, Some("minji_fan"));
    // A wrong password is refused.
    let wrong = c
        .initiate_auth()
        .client_id(&client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", &email)
        .auth_parameters("PASSWORD", "not-the-password")
        .send()
        .await;
    assert!(wrong.is_err(), "wrong password accepted");
    destroy_and_check(&ws, &auth, true).await;
}
per_terraform!(auth_fan_signs_up_logs_in_and_reads_nickname);

async fn auth_in_place_changes_update_without_replacing(tf: &Terraform) {
    let mut auth = auth_with_hosted_ui("eu-west-3", "auth-inplace", tf);
    let ws = Workspace::applied(tf, "auth-inplace", &auth.hcl());
    let first = ws.state_values(ADDR);
    let pool = s(&first["user_pool_id"]);
    let client_id = s(&first["client_id"]);
    let new_prefix = format!("{}-new", prefix(&auth));
    let steps: Vec<(&str, String)> = vec![
        ("password length", "password_minimum_length = 12".into()),
        ("password symbols", "password_require_symbols = false".into()),
        ("temporary password", "temporary_password_validity_days = 3".into()),
        ("mfa", "mfa = \"on\"".into()),
        ("tags", "tags = { app = \"fansite\", tier = \"auth\" }".into()),
        ("callback urls", "callback_urls = [\"https://fans.example.com/callback\", \"http://localhost:5173/callback\"]".into()),
        ("logout urls", "logout_urls = [\"https://fans.example.com/\"]".into()),
        ("access token", "access_token_validity_minutes = 30".into()),
        ("id token", "id_token_validity_minutes = 30".into()),
        ("refresh token", "refresh_token_validity_days = 7".into()),
        ("groups", "groups = { admin = \"Staff\", moderator = \"Removes posts\" }".into()),
        ("domain", format!("domain_prefix = {new_prefix:?}")),
        ("email identity", format!("email_source_arn = {SES_IDENTITY:?}")),
        ("email sender", "email_sending_account = \"DEVELOPER\"".into()),
        ("email from", "email_from = \"Fans <no-reply@fans.example.com>\"".into()),
        ("deletion protection", "deletion_protection = false".into()),
    ];
    for (what, line) in steps {
        auth = auth.with(&line);
        ws.write(&auth.hcl());
        assert_eq!(ws.planned_actions(), update(), "{what}: plan says update");
        ws.apply();
        ws.assert_plan_empty();
        let now = ws.state_values(ADDR);
        assert_eq!(s(&now["user_pool_id"]), pool, "{what}: same pool");
        assert_eq!(s(&now["client_id"]), client_id, "{what}: same client");
    }
    // Asked of AWS.
    let c = cognito(auth.region).await;
    let p = c
        .describe_user_pool()
        .user_pool_id(&pool)
        .send()
        .await
        .expect("pool");
    let pw = p
        .user_pool()
        .and_then(|p| p.policies())
        .and_then(|p| p.password_policy())
        .expect("password policy");
    assert_eq!(pw.minimum_length(), Some(12));
    assert!(!pw.require_symbols());
    let email = p
        .user_pool()
        .and_then(|p| p.email_configuration())
        .expect("email configuration");
    assert_eq!(
        (
            email.email_sending_account().map(|a| a.as_str()),
            email.source_arn(),
            email.from()
        ),
        (
            Some("DEVELOPER"),
            Some(SES_IDENTITY),
            Some("Fans <no-reply@fans.example.com>")
        )
    );
    let mfa = c
        .get_user_pool_mfa_config()
        .user_pool_id(&pool)
        .send()
        .await
        .expect("mfa config");
    assert_eq!(mfa.mfa_configuration().map(|m| m.as_str()), Some("ON"));
    assert_eq!(
        groups(&c, &pool).await,
        vec![
            ("admin".into(), "Staff".into()),
            ("moderator".into(), "Removes posts".into())
        ]
    );
    assert_eq!(
        domain_owner(&c, &new_prefix).await,
        Some(pool.clone()),
        "new domain"
    );
    assert_eq!(
        domain_owner(&c, &prefix(&auth)).await,
        None,
        "old domain removed"
    );
    ws.destroy();
    assert!(live_pools(&c, &auth.name).await.is_empty());
    assert_eq!(domain_owner(&c, &new_prefix).await, None);
}
per_terraform!(auth_in_place_changes_update_without_replacing);

async fn auth_replacing_changes_plan_a_replace(tf: &Terraform) {
    let auth = auth("eu-west-1", "auth-replace", tf);
    let ws = Workspace::applied(tf, "auth-replace", &auth.hcl());
    // With deletion protection on (the default), a replacement is refused at plan time.
    let renamed = auth.clone().named(format!("{}-2", auth.name));
    ws.write(&renamed.hcl());
    let diags = ws.plan_diagnostics();
    assert!(
        diags.iter().any(|d| d.severity == "error"
            && d.summary == "Replacing the user pool is blocked by deletion protection"
            && d.code.contains("name")),
        "{diags:#?}"
    );
    // Without it, the plan replaces, and warns that every user goes with the pool.
    let unprotected = auth.clone().with("deletion_protection = false");
    ws.write(&unprotected.hcl());
    ws.apply();
    let renamed = unprotected.clone().named(format!("{}-2", auth.name));
    ws.write(&renamed.hcl());
    assert_eq!(
        ws.planned_actions(),
        vec![(
            ADDR.to_string(),
            vec!["delete".to_string(), "create".to_string()]
        )],
        "name"
    );
    let plan = ws.plan();
    assert!(
        plan.contains("Replacing the user pool deletes every user"),
        "{plan}"
    );
    ws.write(&unprotected.hcl());
    destroy_and_check(&ws, &unprotected, false).await;
}
per_terraform!(auth_replacing_changes_plan_a_replace);

async fn auth_import_gives_an_empty_plan(tf: &Terraform) {
    // The local endpoint's DescribeUserPool does not name the pool's domain,
    // so an import there cannot find it: this configuration has none.
    let auth = auth("ca-central-1", "auth-import", tf)
        .with("callback_urls = [\"https://fans.example.com/callback\"]")
        .with("access_token_validity_minutes = 15");
    let ws = Workspace::applied(tf, "auth-import", &auth.hcl());
    let applied = ws.state_values(ADDR);
    let pool = s(&applied["user_pool_id"]);

    ws.assert_imports_as_applied(ADDR, &pool, &auth.hcl(), &applied);

    let other = "fansite_auth.other";
    ws.write(&format!(
        "{}\nresource \"fansite_auth\" \"other\" {{\n  name = \"other\"\n}}\n",
        auth.hcl()
    ));
    let bad = ws.import_fails(other, "vpc-123");
    assert!(bad.contains("Invalid import ID"), "{bad}");
    let bad = ws.import_fails(other, "ca-central-1_missing0");
    assert!(
        bad.contains("Cannot import non-existent user pool"),
        "{bad}"
    );

    ws.write(&auth.hcl());
    destroy_and_check(&ws, &auth, true).await;
}
per_terraform!(auth_import_gives_an_empty_plan);

async fn auth_drift_is_shown_and_repaired(tf: &Terraform) {
    let auth = auth("ap-south-1", "auth-drift", tf)
        .with("groups = { admin = \"Site staff\", moderator = \"Removes posts\" }");
    let ws = Workspace::applied(tf, "auth-drift", &auth.hcl());
    let state = ws.state_values(ADDR);
    let pool = s(&state["user_pool_id"]);
    let c = cognito(auth.region).await;
    // Someone shortens passwords and turns MFA off in the console, and deletes a group.
    c.update_user_pool()
        .user_pool_id(&pool)
        .policies(
            aws_sdk_cognitoidentityprovider::types::UserPoolPolicyType::builder()
                .password_policy(
                    aws_sdk_cognitoidentityprovider::types::PasswordPolicyType::builder()
                        .minimum_length(6)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("drift the pool");
    c.set_user_pool_mfa_config()
        .user_pool_id(&pool)
        .mfa_configuration(aws_sdk_cognitoidentityprovider::types::UserPoolMfaType::Off)
        .send()
        .await
        .expect("turn MFA off");
    c.delete_group()
        .user_pool_id(&pool)
        .group_name("moderator")
        .send()
        .await
        .expect("delete a group");
    let plan = ws.plan();
    for shown in ["password_minimum_length", "mfa", "moderator"] {
        assert!(plan.contains(shown), "plan shows {shown}: {plan}");
    }
    assert_eq!(ws.planned_actions(), update());
    ws.apply();
    ws.assert_plan_empty();
    let p = c
        .describe_user_pool()
        .user_pool_id(&pool)
        .send()
        .await
        .expect("pool");
    let min = p
        .user_pool()
        .and_then(|p| p.policies())
        .and_then(|p| p.password_policy())
        .and_then(|p| p.minimum_length());
    assert_eq!(min, Some(8), "repaired");
    assert_eq!(groups(&c, &pool).await.len(), 2, "group made again");

    // The app client deleted by hand: the plan makes a new one in place.
    c.delete_user_pool_client()
        .user_pool_id(&pool)
        .client_id(s(&state["client_id"]))
        .send()
        .await
        .expect("delete client");
    assert_eq!(ws.planned_actions(), update(), "client gone");
    ws.apply();
    ws.assert_plan_empty();
    let new_client = s(&ws.state_values(ADDR)["client_id"]);
    assert_ne!(new_client, s(&state["client_id"]));
    assert_eq!(s(&ws.state_values(ADDR)["user_pool_id"]), pool);
    destroy_and_check(&ws, &auth, true).await;
}
per_terraform!(auth_drift_is_shown_and_repaired);

async fn auth_deleted_pool_is_recreated(tf: &Terraform) {
    let auth = auth("ap-northeast-2", "auth-gone", tf);
    let ws = Workspace::applied(tf, "auth-gone", &auth.hcl());
    let pool = s(&ws.state_values(ADDR)["user_pool_id"]);
    let c = cognito(auth.region).await;
    c.update_user_pool()
        .user_pool_id(&pool)
        .deletion_protection(
            aws_sdk_cognitoidentityprovider::types::DeletionProtectionType::Inactive,
        )
        .send()
        .await
        .expect("unprotect");
    c.delete_user_pool()
        .user_pool_id(&pool)
        .send()
        .await
        .expect("delete pool");
    assert_eq!(
        ws.planned_actions(),
        vec![(ADDR.to_string(), vec!["create".to_string()])],
        "plan re-creates"
    );
    ws.apply();
    ws.assert_plan_empty();
    assert_ne!(s(&ws.state_values(ADDR)["user_pool_id"]), pool);
    destroy_and_check(&ws, &auth, true).await;
}
per_terraform!(auth_deleted_pool_is_recreated);

async fn auth_destroy_leaves_no_parts(tf: &Terraform) {
    let auth = auth_with_hosted_ui("us-east-2", "auth-destroy", tf);
    let ws = Workspace::applied(tf, "auth-destroy", &auth.hcl());
    let pool = s(&ws.state_values(ADDR)["user_pool_id"]);
    let c = cognito(auth.region).await;
    // Protected: destroy is refused before anything is deleted.
    let out = ws.fails(&["destroy", "-auto-approve", "-input=false", "-no-color"]);
    assert!(out.contains("Deletion protection is on"), "{out}");
    assert_eq!(live_pools(&c, &auth.name).await, vec![pool.clone()]);
    assert_eq!(domain_owner(&c, &prefix(&auth)).await, Some(pool));
    destroy_and_check(&ws, &auth, true).await;
    // Destroying again with nothing in state is a no-op, not an error.
    ws.destroy();
}
per_terraform!(auth_destroy_leaves_no_parts);

async fn auth_bad_inputs_fail_on_their_attribute(tf: &Terraform) {
    let auth = auth("us-west-1", "auth-bad", tf);
    let ws = Workspace::new(tf, "auth-bad", &auth.hcl());
    // (what, configuration, summary, text of the line Terraform points at)
    let cases: Vec<(&str, Config, &str, &str)> = vec![
        (
            "name",
            auth.clone().named("fan site!"),
            "Invalid name",
            "name",
        ),
        (
            "short passwords",
            auth.clone().with("password_minimum_length = 4"),
            "Invalid password_minimum_length",
            "password_minimum_length",
        ),
        (
            "fractional length",
            auth.clone().with("password_minimum_length = 8.5"),
            "Invalid password_minimum_length",
            "password_minimum_length",
        ),
        (
            "mfa",
            auth.clone().with("mfa = \"sometimes\""),
            "Invalid mfa",
            "mfa",
        ),
        (
            "access token",
            auth.clone().with("access_token_validity_minutes = 2"),
            "Invalid access_token_validity_minutes",
            "access_token_validity_minutes",
        ),
        (
            "refresh shorter than access",
            auth.clone()
                .with("access_token_validity_minutes = 1440")
                .with("refresh_token_validity_days = 1"),
            "Refresh tokens must outlive access and ID tokens",
            "refresh_token_validity_days",
        ),
        (
            "http callback",
            auth.clone()
                .with("callback_urls = [\"http://fans.example.com/cb\"]"),
            "Invalid callback_urls",
            "callback_urls",
        ),
        (
            "domain with capitals",
            auth.clone()
                .with("callback_urls = [\"https://a.example.com\"]")
                .with("domain_prefix = \"Fans\""),
            "Invalid domain_prefix",
            "domain_prefix",
        ),
        (
            "reserved word in domain",
            auth.clone()
                .with("callback_urls = [\"https://a.example.com\"]")
                .with("domain_prefix = \"fan-cognito\""),
            "Invalid domain_prefix",
            "domain_prefix",
        ),
        (
            "domain without callbacks",
            auth.clone().with("domain_prefix = \"fans-login\""),
            "Hosted UI without callback URLs",
            "domain_prefix",
        ),
        (
            "group name",
            auth.clone().with("groups = { \"site admins\" = \"x\" }"),
            "Invalid group name",
            "site admins",
        ),
        (
            "ses without identity",
            auth.clone().with("email_sending_account = \"DEVELOPER\""),
            "SES sending without an identity",
            "email_sending_account",
        ),
        (
            "ses identity",
            auth.clone()
                .with("email_source_arn = \"arn:aws:iam::1:role/x\""),
            "Invalid email_source_arn",
            "email_source_arn",
        ),
        (
            "reserved tag",
            auth.clone().with("tags = { \"aws:owner\" = \"x\" }"),
            "Reserved tag key",
            "aws:owner",
        ),
        (
            "provider endpoint",
            auth.clone()
                .provider("  endpoints {\n    cognito_idp = \"localhost:1\"\n  }\n"),
            "Invalid endpoint URL",
            "cognito_idp",
        ),
    ];
    for (what, config, summary, code) in cases {
        ws.write(&config.hcl());
        ws.assert_plan_error(what, summary, code);
    }
    // A good configuration with Cognito's own sender plans with a warning.
    ws.write(&auth.hcl());
    let diags = ws.plan_diagnostics();
    assert!(
        diags.iter().any(|d| d.severity == "warning"
            && d.summary == "Cognito's own email sender has a small daily quota"),
        "{diags:#?}"
    );
    let c = cognito(auth.region).await;
    assert!(
        live_pools(&c, &auth.name).await.is_empty(),
        "bad input made a pool"
    );
}
per_terraform!(auth_bad_inputs_fail_on_their_attribute);

async fn auth_fault_midway_keeps_ids_and_destroy_cleans_up(tf: &Terraform) {
    let proxy = FaultProxy::start(endpoint(), "CreateUserPoolClient");
    let auth = auth_with_hosted_ui("us-west-2", "auth-fault", tf).provider(format!(
        "  endpoints {{\n    cognito_idp = {:?}\n  }}\n",
        proxy.url
    ));
    let ws = Workspace::new(tf, "auth-fault", &auth.hcl());
    let out = ws.apply_fails();
    assert!(
        proxy.matched() >= 1,
        "the proxy failed CreateUserPoolClient"
    );
    assert!(
        out.contains("InjectedFault"),
        "the error names AWS's code: {out}"
    );
    assert!(
        out.contains(&format!("creating app client \"{}-web\"", auth.name)),
        "the error names the action and part: {out}"
    );
    // The state holds the pool made before the fault, and AWS has it.
    let state = ws.state_values(ADDR);
    let pool = s(&state["user_pool_id"]);
    assert!(!pool.is_empty(), "state keeps the pool id: {state}");
    assert_eq!(state["client_id"], Value::Null, "{state}");
    assert_eq!(
        state["deletion_protection"], false,
        "protection goes on last: {state}"
    );
    let c = cognito(auth.region).await;
    assert_eq!(live_pools(&c, &auth.name).await, vec![pool]);
    // The next plan replaces the tainted pool; destroy removes it, though the
    // configuration asks for deletion protection: the half-made pool never had it.
    let plan = ws.plan();
    assert!(plan.contains("tainted"), "{plan}");
    destroy_and_check(&ws, &auth, false).await;
}
per_terraform!(auth_fault_midway_keeps_ids_and_destroy_cleans_up);
