use super::*;

fn config(pairs: &[(&str, Dyn)]) -> Dyn {
    let mut c = Dyn::obj();
    for (k, v) in pairs {
        c.set(k, v.clone());
    }
    c
}

fn error_paths(diags: &Diags) -> Vec<String> {
    diags
        .0
        .iter()
        .map(|d| d.path.clone().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn bad_values_are_reported_on_their_attribute() {
    let cases: Vec<(&str, Dyn, &str)> = vec![
        ("region", "Mars-1".into(), "Invalid AWS region"),
        ("endpoint", "localhost:5000".into(), "Invalid endpoint URL"),
        ("max_retries", Dyn::Number(-1), "Invalid max_retries"),
        ("max_retries", Dyn::Number(1000), "Invalid max_retries"),
        ("max_retries", Dyn::Float(1.5), "Invalid max_retries"),
    ];
    for (attr, value, summary) in cases {
        let mut diags = Diags::default();
        parse_provider_config(&config(&[(attr, value.clone())]), &mut diags);
        assert_eq!(
            error_paths(&diags),
            vec![attr.to_string()],
            "{attr} = {value:?}"
        );
        assert_eq!(diags.0[0].summary, summary);
    }
}

#[test]
fn keys_come_in_pairs_and_exclude_a_profile() {
    let mut diags = Diags::default();
    parse_provider_config(&config(&[("access_key", "AKIA".into())]), &mut diags);
    assert_eq!(error_paths(&diags), vec!["secret_key"]);

    let mut diags = Diags::default();
    parse_provider_config(
        &config(&[
            ("access_key", "AKIA".into()),
            ("secret_key", "s".into()),
            ("profile", "p".into()),
        ]),
        &mut diags,
    );
    assert_eq!(error_paths(&diags), vec!["profile"]);
}

#[test]
fn per_service_endpoint_errors_point_into_the_block() {
    let mut endpoints = Dyn::obj();
    endpoints.set("ec2", "ftp://x".into());
    let mut diags = Diags::default();
    parse_provider_config(
        &config(&[("endpoints", Dyn::List(vec![endpoints]))]),
        &mut diags,
    );
    assert_eq!(error_paths(&diags), vec!["endpoints[0].ec2"]);
}

#[test]
fn a_good_config_parses_with_defaults() {
    let mut tags = Dyn::obj();
    tags.set(
        "tags",
        Dyn::from_string_map([(&"team".to_string(), &"platform".to_string())]),
    );
    let mut diags = Diags::default();
    let c = parse_provider_config(
        &config(&[
            ("region", "ap-northeast-2".into()),
            ("endpoint", "http://127.0.0.1:5000".into()),
            ("default_tags", Dyn::List(vec![tags])),
        ]),
        &mut diags,
    );
    assert!(!diags.has_errors(), "{diags:?}");
    assert_eq!(c.max_retries, 10);
    assert_eq!(
        c.default_tags.get("team").map(String::as_str),
        Some("platform")
    );
    assert!(is_region_name("us-gov-west-1"));
}
