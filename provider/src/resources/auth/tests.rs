//! Unit tests of what needs no AWS: validation, the state's shape, import ids.

use super::*;
use crate::diag::Diags;

fn config(pairs: &[(&str, Dyn)]) -> Dyn {
    let mut c = Dyn::obj();
    c.set("name", "fans".into());
    for (k, v) in pairs {
        c.set(k, v.clone());
    }
    c
}

fn errors(c: &Dyn) -> Vec<(String, String)> {
    let mut d = Diags::default();
    // Through the driver: the declared checks, then the resource's own.
    crate::resource::Resource::validate(&crate::driver::Driver(AuthResource), c, &mut d);
    d.0.into_iter()
        .map(|d| (d.path.unwrap_or_default().to_string(), d.summary))
        .collect()
}

#[test]
fn bad_inputs_are_reported_on_their_attribute() {
    let urls = |u: &[&str]| Dyn::from_strings(u.iter().copied());
    let group = |k: &str| Dyn::from_string_map([(&k.to_string(), &"x".to_string())]);
    type Case<'a> = (Vec<(&'a str, Dyn)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (vec![("name", "fan site!".into())], "name", "Invalid name"),
        (
            vec![("password_minimum_length", 5i64.into())],
            "password_minimum_length",
            "Invalid password_minimum_length",
        ),
        (
            vec![("password_minimum_length", Dyn::Float(8.5))],
            "password_minimum_length",
            "Invalid password_minimum_length",
        ),
        (
            vec![("temporary_password_validity_days", 400i64.into())],
            "temporary_password_validity_days",
            "Invalid temporary_password_validity_days",
        ),
        (vec![("mfa", "sometimes".into())], "mfa", "Invalid mfa"),
        (
            vec![("access_token_validity_minutes", 2i64.into())],
            "access_token_validity_minutes",
            "Invalid access_token_validity_minutes",
        ),
        (
            vec![
                ("access_token_validity_minutes", 1440i64.into()),
                ("refresh_token_validity_days", 1i64.into()),
            ],
            "refresh_token_validity_days",
            "Refresh tokens must outlive access and ID tokens",
        ),
        (
            vec![("callback_urls", urls(&["http://fans.example.com/cb"]))],
            "callback_urls[0]",
            "Invalid callback_urls",
        ),
        (
            vec![(
                "logout_urls",
                urls(&["https://ok.example.com", "https://x.example.com/#a"]),
            )],
            "logout_urls[1]",
            "Invalid logout_urls",
        ),
        (
            vec![
                ("domain_prefix", "Fans".into()),
                ("callback_urls", urls(&["https://a.example.com"])),
            ],
            "domain_prefix",
            "Invalid domain_prefix",
        ),
        (
            vec![
                ("domain_prefix", "my-cognito-fans".into()),
                ("callback_urls", urls(&["https://a.example.com"])),
            ],
            "domain_prefix",
            "Invalid domain_prefix",
        ),
        (
            vec![("domain_prefix", "fans".into())],
            "domain_prefix",
            "Hosted UI without callback URLs",
        ),
        (
            vec![("groups", group("site admins"))],
            "groups[\"site admins\"]",
            "Invalid group name",
        ),
        (
            vec![("tags", group("aws:owner"))],
            "tags[\"aws:owner\"]",
            "Reserved tag key",
        ),
    ];
    for (pairs, path, summary) in cases {
        let got = errors(&config(&pairs));
        assert!(
            got.iter().any(|(p, s)| p == path && s == summary),
            "{pairs:?}: expected {summary:?} at {path}, got {got:?}"
        );
    }
}

#[test]
fn good_inputs_pass() {
    let c = config(&[
        ("mfa", "on".into()),
        (
            "callback_urls",
            Dyn::from_strings([
                "https://fans.example.com/callback",
                "http://localhost:5173/callback",
            ]),
        ),
        ("domain_prefix", "fan-site-1".into()),
        (
            "groups",
            Dyn::from_string_map([(&"admin".to_string(), &"Staff".to_string())]),
        ),
        ("refresh_token_validity_days", 30i64.into()),
    ]);
    assert_eq!(errors(&c), vec![]);
    // Unknown values pass validation: they are checked when known.
    let c = config(&[
        ("domain_prefix", Dyn::Unknown),
        ("callback_urls", Dyn::Unknown),
    ]);
    assert_eq!(errors(&c), vec![]);
}

#[test]
fn state_round_trips_and_derives_the_urls() {
    let mut v = config(&[("domain_prefix", "fans".into())]);
    v.set("user_pool_id", "ap-northeast-2_Abc123".into());
    let s: AuthState = crate::typed::decode(&v).unwrap();
    assert_eq!(s.mfa, Mfa::Optional);
    assert!(s.deletion_protection);
    let out = crate::driver::Driver(AuthResource)
        .encode("ap-northeast-2", &s, &Dyn::Null)
        .unwrap();
    assert_eq!(
        out.get("issuer_url").as_str(),
        Some("https://cognito-idp.ap-northeast-2.amazonaws.com/ap-northeast-2_Abc123")
    );
    assert_eq!(
        out.get("jwks_url").as_str(),
        Some("https://cognito-idp.ap-northeast-2.amazonaws.com/ap-northeast-2_Abc123/.well-known/jwks.json")
    );
    assert_eq!(
        out.get("domain").as_str(),
        Some("fans.auth.ap-northeast-2.amazoncognito.com")
    );
    assert_eq!(crate::typed::decode::<AuthState>(&out).unwrap(), s);
    assert_eq!(s.client_settings().name, "fans-web");
}

#[test]
fn import_ids_are_pool_ids() {
    assert!(is_pool_id("us-east-1_AbC123"));
    assert!(!is_pool_id("AbC123"));
    assert!(!is_pool_id("us-east-1_"));
    assert!(!is_pool_id("vpc-123"));
}

/// A1: Cognito returns the callback and logout URLs sorted; read keeps the
/// configured order when the set is the same, so an unsorted configuration
/// plans no change.
#[tokio::test]
async fn urls_read_back_sorted_keep_the_configured_order() {
    let callback = ["https://fans.example.com/cb", "http://localhost:3000/cb"];
    let logout = ["https://fans.example.com/", "http://localhost:3000/"];
    let aws = crate::aws::test_fakes::pool_with_sorted_urls(
        "ap-northeast-2_AbC123",
        "client1",
        &callback,
        &logout,
    );
    let hints = AuthState {
        name: "fans".into(),
        user_pool_id: Some("ap-northeast-2_AbC123".into()),
        client_id: Some("client1".into()),
        callback_urls: Some(callback.iter().map(|u| u.to_string()).collect()),
        logout_urls: Some(logout.iter().map(|u| u.to_string()).collect()),
        ..AuthState::default()
    };
    let found = crate::aws::test_mocks::in_operation(find::find_auth(&aws, &hints))
        .await
        .expect("read")
        .expect("found");
    assert_eq!(found.callback_urls, hints.callback_urls);
    assert_eq!(found.logout_urls, hints.logout_urls);

    // A URL changed outside Terraform is drift, shown as AWS has it.
    let other = AuthState {
        callback_urls: Some(vec!["https://other.example.com/cb".into()]),
        ..hints
    };
    let found = crate::aws::test_mocks::in_operation(find::find_auth(&aws, &other))
        .await
        .expect("read")
        .expect("found");
    assert_eq!(
        found.callback_urls,
        Some(vec![
            "http://localhost:3000/cb".to_string(),
            "https://fans.example.com/cb".to_string()
        ])
    );
}

/// A3: SES sending needs its identity, a From address needs one too, and the
/// identity is an SES ARN.
#[test]
fn email_sending_checks() {
    let dev = config(&[("email_sending_account", "DEVELOPER".into())]);
    assert!(errors(&dev).contains(&(
        "email_sending_account".to_string(),
        "SES sending without an identity".to_string()
    )));
    let from = config(&[("email_from", "Fans <no-reply@fans.example.com>".into())]);
    assert!(errors(&from).contains(&(
        "email_from".to_string(),
        "From address without an identity".to_string()
    )));
    let bad = config(&[("email_source_arn", "arn:aws:iam::1:role/x".into())]);
    assert!(errors(&bad).contains(&(
        "email_source_arn".to_string(),
        "Invalid email_source_arn".to_string()
    )));
    let good = config(&[
        ("email_sending_account", "DEVELOPER".into()),
        (
            "email_source_arn",
            "arn:aws:ses:us-east-1:123456789012:identity/fans.example.com".into(),
        ),
        ("email_from", "Fans <no-reply@fans.example.com>".into()),
    ]);
    assert_eq!(errors(&good), vec![]);
}

/// A3: a pool made with Cognito's own sender is planned with a warning about
/// its daily quota; one with SES, or one that exists already, without.
#[tokio::test]
async fn cognito_default_sender_is_warned_about_at_create() {
    let planned = |account: &str| {
        let mut p = config(&[]);
        p.set("email_sending_account", account.into());
        p
    };
    let warnings = |d: &Diags| {
        d.0.iter()
            .filter(|d| d.summary == "Cognito's own email sender has a small daily quota")
            .count()
    };
    let mut d = Diags::default();
    AuthResource
        .plan(None, None, planned("COGNITO_DEFAULT"), &config(&[]), &mut d)
        .await;
    assert_eq!(warnings(&d), 1);
    let mut d = Diags::default();
    AuthResource
        .plan(None, None, planned("DEVELOPER"), &config(&[]), &mut d)
        .await;
    assert_eq!(warnings(&d), 0);
    let mut d = Diags::default();
    let prior = planned("COGNITO_DEFAULT");
    AuthResource
        .plan(
            None,
            Some(&prior),
            planned("COGNITO_DEFAULT"),
            &config(&[]),
            &mut d,
        )
        .await;
    assert_eq!(warnings(&d), 0);
}
