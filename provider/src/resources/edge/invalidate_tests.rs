//! Validation of `fansite_edge_invalidate`, which needs no AWS.

use super::*;

fn config(pairs: &[(&str, Dyn)]) -> Dyn {
    let mut c = Dyn::obj();
    c.set("distribution_id", "E2QWRUHAPOMQZL".into());
    for (k, v) in pairs {
        c.set(k, v.clone());
    }
    c
}

fn errors(c: &Dyn) -> Vec<(String, String)> {
    let mut d = Diags::default();
    EdgeInvalidate.validate(c, &mut d);
    d.0.into_iter()
        .map(|d| (d.path.unwrap_or_default().to_string(), d.summary))
        .collect()
}

#[test]
fn bad_inputs_are_reported_on_their_attribute() {
    type Case<'a> = (Vec<(&'a str, Dyn)>, &'a str, &'a str);
    let many: Vec<String> = (0..=MAX_PATHS).map(|i| format!("/p{i}")).collect();
    let wildcards: Vec<String> = (0..=MAX_WILDCARD_PATHS)
        .map(|i| format!("/p{i}/*"))
        .collect();
    let cases: Vec<Case> = vec![
        (
            vec![("distribution_id", "e2qwruhapomqzl".into())],
            "distribution_id",
            "Invalid distribution_id",
        ),
        (
            vec![("distribution_id", "".into())],
            "distribution_id",
            "Invalid distribution_id",
        ),
        (
            vec![(
                "distribution_id",
                "arn:aws:cloudfront::123456789012:distribution/E2QWRUHAPOMQZL".into(),
            )],
            "distribution_id",
            "Invalid distribution_id",
        ),
        (
            vec![("paths", Dyn::from_strings(["index.html"]))],
            "paths[0]",
            "Invalid paths",
        ),
        (
            vec![("paths", Dyn::from_strings(["/index.html", "assets/*"]))],
            "paths[1]",
            "Invalid paths",
        ),
        (
            vec![("paths", Dyn::from_strings(Vec::<String>::new()))],
            "paths",
            "No paths",
        ),
        (
            vec![("paths", Dyn::from_strings(many))],
            "paths",
            "Too many paths",
        ),
        (
            vec![("paths", Dyn::from_strings(wildcards))],
            "paths",
            "Too many wildcard paths",
        ),
        (
            vec![("timeout", "15 minutes".into())],
            "timeout",
            "Invalid timeout",
        ),
        (vec![("timeout", "15".into())], "timeout", "Invalid timeout"),
        (vec![("timeout", "2d".into())], "timeout", "Invalid timeout"),
    ];
    for (pairs, path, summary) in cases {
        let c = config(&pairs);
        let errs = errors(&c);
        assert!(
            errs.iter().any(|(p, s)| p == path && s == summary),
            "expected {summary:?} at {path}, got {errs:?}"
        );
        assert!(
            errs.iter().all(|(p, _)| p == path),
            "errors elsewhere than {path}: {errs:?}"
        );
    }
}

#[test]
fn good_and_unknown_inputs_pass() {
    for pairs in [
        vec![],
        vec![("paths", Dyn::from_strings(["/index.html", "/assets/*"]))],
        vec![("paths", Dyn::from_strings(["/*"]))],
        vec![("paths", Dyn::List(vec![Dyn::Unknown, Dyn::from("/a")]))],
        vec![("paths", Dyn::Unknown)],
        vec![("distribution_id", Dyn::Unknown)],
        vec![("wait", Dyn::Bool(false)), ("timeout", "1h30m".into())],
    ] {
        let errs = errors(&config(&pairs));
        assert!(errs.is_empty(), "{pairs:?}: {errs:?}");
    }
}

#[test]
fn paths_default_to_everything() {
    assert_eq!(paths_of(&config(&[])), vec!["/*".to_string()]);
    assert_eq!(
        paths_of(&config(&[("paths", Dyn::from_strings(["/a", "/b"]))])),
        vec!["/a".to_string(), "/b".to_string()]
    );
}

#[test]
fn progress_shows_the_first_paths() {
    let paths: Vec<String> = (1..=7).map(|i| format!("/p{i}")).collect();
    assert_eq!(shown(&paths[..2]), "/p1, /p2");
    assert_eq!(shown(&paths), "/p1, /p2, /p3, /p4, /p5 and 2 more");
}
