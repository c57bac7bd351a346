use super::*;

#[test]
fn durations_parse_like_terraform_users_write_them() {
    assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
    assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
    assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
    assert!(parse_duration("30").is_err());
    assert!(parse_duration("ten minutes").is_err());
    assert!(parse_duration("5d").unwrap_err().contains("unit 'd'"));
}

#[test]
fn resource_tags_win_over_default_tags() {
    let defaults = BTreeMap::from([
        ("team".to_string(), "platform".to_string()),
        ("env".to_string(), "prod".to_string()),
    ]);
    let mut tags = Dyn::obj();
    tags.set("env", "stage".into());
    let all = merge_tags(&defaults, &tags).string_map();
    assert_eq!(all.get("env").map(String::as_str), Some("stage"));
    assert_eq!(all.get("team").map(String::as_str), Some("platform"));
}

#[test]
fn unknown_tags_make_tags_all_unknown() {
    let mut tags = Dyn::obj();
    tags.set("x", Dyn::Unknown);
    assert!(merge_tags(&BTreeMap::new(), &tags).is_unknown());
}

/// An identity of two attributes whose import id is `<cluster>/<service>`,
/// the service's own taken from the state's `name`.
fn cluster_service_identity(regional: bool) -> Identity {
    Identity {
        regional,
        attributes: &[("cluster", "Cluster."), ("service", "Service.")],
        of_state: |state| {
            Some(vec![
                state.get("cluster").as_str()?.to_string(),
                state.get("name").as_str()?.to_string(),
            ])
        },
        import_id: |values| values.join("/"),
    }
}

fn object(pairs: &[(&str, Dyn)]) -> Dyn {
    let mut out = Dyn::obj();
    for (k, v) in pairs {
        out.set(k, v.clone());
    }
    out
}

#[test]
fn identity_of_a_known_state_has_the_region_and_each_attribute() {
    let state = object(&[("cluster", "fan".into()), ("name", "api".into())]);
    let value = cluster_service_identity(true)
        .value("ap-northeast-2", &state)
        .expect("a known identity");
    assert_eq!(
        value,
        object(&[
            ("region", "ap-northeast-2".into()),
            ("cluster", "fan".into()),
            ("service", "api".into()),
        ])
    );
    let global = cluster_service_identity(false)
        .value("ap-northeast-2", &state)
        .expect("a known identity");
    assert_eq!(
        global,
        object(&[("cluster", "fan".into()), ("service", "api".into())]),
        "no region without `regional`"
    );
}

#[test]
fn identity_is_none_while_a_value_is_unknown_null_or_empty() {
    let identity = cluster_service_identity(true);
    for name in [Dyn::Unknown, Dyn::Null, Dyn::str("")] {
        let state = object(&[("cluster", "fan".into()), ("name", name.clone())]);
        assert_eq!(identity.value("us-east-1", &state), None, "name {name:?}");
    }
    assert_eq!(identity.value("us-east-1", &Dyn::Null), None, "no state");
    assert_eq!(
        identity.value("us-east-1", &Dyn::Unknown),
        None,
        "unknown state"
    );
}

#[test]
fn import_id_of_an_identity_in_the_providers_region_or_without_one() {
    let identity = cluster_service_identity(true);
    for region in [Dyn::str("eu-west-1"), Dyn::Null] {
        let value = object(&[
            ("region", region.clone()),
            ("cluster", "fan".into()),
            ("service", "api".into()),
        ]);
        let mut diags = Diags::default();
        assert_eq!(
            identity.import_id_of("eu-west-1", &value, &mut diags),
            Some("fan/api".to_string()),
            "region {region:?}"
        );
        assert!(diags.0.is_empty(), "{diags:?}");
    }
}

#[test]
fn import_id_of_an_identity_in_another_region_is_an_error_at_region() {
    let value = object(&[
        ("region", "us-east-1".into()),
        ("cluster", "fan".into()),
        ("service", "api".into()),
    ]);
    let mut diags = Diags::default();
    let id = cluster_service_identity(true).import_id_of("eu-west-1", &value, &mut diags);
    assert_eq!(id, None);
    assert!(diags.has_errors(), "{diags:?}");
    assert_eq!(diags.0.len(), 1, "{diags:?}");
    let d = &diags.0[0];
    assert_eq!(d.summary, "Identity in another region");
    assert_eq!(d.path, Some(AttrPath::attr("region")));
    assert!(
        d.detail.contains("\"us-east-1\"") && d.detail.contains("\"eu-west-1\""),
        "{}",
        d.detail
    );
    // Without `regional` there is no region to check.
    let mut diags = Diags::default();
    let id = cluster_service_identity(false).import_id_of("eu-west-1", &value, &mut diags);
    assert_eq!(id.as_deref(), Some("fan/api"));
    assert!(diags.0.is_empty(), "{diags:?}");
}

#[test]
fn import_id_of_an_identity_without_an_attribute_is_an_error_at_it() {
    let identity = cluster_service_identity(true);
    for service in [Dyn::Null, Dyn::str(""), Dyn::Unknown] {
        let value = object(&[("cluster", "fan".into()), ("service", service.clone())]);
        let mut diags = Diags::default();
        assert_eq!(
            identity.import_id_of("eu-west-1", &value, &mut diags),
            None,
            "service {service:?}"
        );
        assert_eq!(diags.0.len(), 1, "{diags:?}");
        let d = &diags.0[0];
        assert_eq!(d.summary, "Missing identity attribute");
        assert_eq!(d.path, Some(AttrPath::attr("service")));
        assert!(d.detail.contains("\"service\""), "{}", d.detail);
    }
}
