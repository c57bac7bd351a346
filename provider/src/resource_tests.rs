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
