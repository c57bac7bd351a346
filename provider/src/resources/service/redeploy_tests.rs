//! Validation of `fansite_service_redeploy`, which needs no AWS.

use super::*;

fn config(pairs: &[(&str, Dyn)]) -> Dyn {
    let mut c = Dyn::obj();
    c.set("cluster", "fansite-api".into());
    c.set("service", "fansite-api".into());
    for (k, v) in pairs {
        c.set(k, v.clone());
    }
    c
}

fn errors(c: &Dyn) -> Vec<(String, String)> {
    let mut d = Diags::default();
    ServiceRedeploy.validate(c, &mut d);
    d.0.into_iter()
        .map(|d| (d.path.unwrap_or_default().to_string(), d.summary))
        .collect()
}

#[test]
fn bad_inputs_are_reported_on_their_attribute() {
    type Case<'a> = (Vec<(&'a str, Dyn)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (vec![("cluster", "".into())], "cluster", "Invalid cluster"),
        (
            vec![("cluster", "fansite api".into())],
            "cluster",
            "Invalid cluster",
        ),
        (
            vec![("cluster", "a".repeat(256).into())],
            "cluster",
            "Invalid cluster",
        ),
        (
            vec![(
                "cluster",
                "arn:aws:ecs:ap-northeast-2:123456789012:service/fansite-api/fansite-api".into(),
            )],
            "cluster",
            "Invalid cluster",
        ),
        (
            vec![(
                "cluster",
                "arn:aws:ecs:ap-northeast-2:123456789012:cluster/".into(),
            )],
            "cluster",
            "Invalid cluster",
        ),
        (vec![("service", "".into())], "service", "Invalid service"),
        (
            vec![("service", "fansite/api".into())],
            "service",
            "Invalid service",
        ),
        (
            vec![(
                "service",
                "arn:aws:ecs:ap-northeast-2:123456789012:cluster/fansite-api".into(),
            )],
            "service",
            "Invalid service",
        ),
        (
            vec![("timeout", "half an hour".into())],
            "timeout",
            "Invalid timeout",
        ),
        (vec![("timeout", "30".into())], "timeout", "Invalid timeout"),
    ];
    for (pairs, path, summary) in cases {
        let c = config(&pairs);
        let errs = errors(&c);
        assert!(
            errs.iter().any(|(p, s)| p == path && s == summary),
            "{pairs:?}: expected {summary:?} at {path}, got {errs:?}"
        );
        assert!(
            errs.iter().all(|(p, _)| p == path),
            "{pairs:?}: errors elsewhere than {path}: {errs:?}"
        );
    }
}

#[test]
fn names_arns_and_unknowns_pass() {
    for pairs in [
        vec![],
        vec![
            (
                "cluster",
                Dyn::from("arn:aws:ecs:ap-northeast-2:123456789012:cluster/fansite-api"),
            ),
            (
                "service",
                Dyn::from(
                    "arn:aws:ecs:ap-northeast-2:123456789012:service/fansite-api/fansite-api",
                ),
            ),
        ],
        vec![("cluster", Dyn::from("Fansite_API-2"))],
        vec![("cluster", Dyn::Unknown), ("service", Dyn::Unknown)],
        vec![("timeout", Dyn::from("45m"))],
    ] {
        let errs = errors(&config(&pairs));
        assert!(errs.is_empty(), "{pairs:?}: {errs:?}");
    }
}
