//! Validation of `fansite_database_credentials`, which needs no AWS.

use super::*;

const SECRET: &str =
    "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:fansite/main/connection-AbCdEf";

fn config(pairs: &[(&str, Dyn)]) -> Dyn {
    let mut c = Dyn::obj();
    for (k, v) in pairs {
        c.set(k, v.clone());
    }
    c
}

fn errors(c: &Dyn) -> Vec<(String, String)> {
    let mut d = Diags::default();
    DatabaseCredentials.validate(c, &mut d);
    d.0.into_iter()
        .map(|d| (d.path.unwrap_or_default().to_string(), d.summary))
        .collect()
}

#[test]
fn bad_inputs_are_reported_on_their_attribute() {
    type Case<'a> = (Vec<(&'a str, Dyn)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec![],
            "cluster_identifier",
            "Missing cluster_identifier or secret_arn",
        ),
        (
            vec![
                ("cluster_identifier", "fansite-main".into()),
                ("secret_arn", SECRET.into()),
            ],
            "secret_arn",
            "Conflicting cluster_identifier and secret_arn",
        ),
        (
            vec![
                ("cluster_identifier", Dyn::Unknown),
                ("secret_arn", SECRET.into()),
            ],
            "secret_arn",
            "Conflicting cluster_identifier and secret_arn",
        ),
        (
            vec![("cluster_identifier", "1fansite".into())],
            "cluster_identifier",
            "Invalid cluster_identifier",
        ),
        (
            vec![("cluster_identifier", "fansite--main".into())],
            "cluster_identifier",
            "Invalid cluster_identifier",
        ),
        (
            vec![("cluster_identifier", "fansite-".into())],
            "cluster_identifier",
            "Invalid cluster_identifier",
        ),
        (
            vec![("cluster_identifier", "fansite_main".into())],
            "cluster_identifier",
            "Invalid cluster_identifier",
        ),
        (
            vec![("cluster_identifier", "".into())],
            "cluster_identifier",
            "Invalid cluster_identifier",
        ),
        (
            vec![("cluster_identifier", "a".repeat(64).into())],
            "cluster_identifier",
            "Invalid cluster_identifier",
        ),
        (
            vec![("secret_arn", "fansite/main/connection".into())],
            "secret_arn",
            "Invalid secret_arn",
        ),
        (
            vec![(
                "secret_arn",
                "arn:aws:rds:ap-northeast-2:123456789012:cluster:fansite-main".into(),
            )],
            "secret_arn",
            "Invalid secret_arn",
        ),
        (
            vec![(
                "secret_arn",
                "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:".into(),
            )],
            "secret_arn",
            "Invalid secret_arn",
        ),
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
fn one_source_given_or_not_yet_known_passes() {
    for pairs in [
        vec![("cluster_identifier", Dyn::from("fansite-main"))],
        vec![("cluster_identifier", Dyn::from("Fansite-Main-2"))],
        vec![("secret_arn", Dyn::from(SECRET))],
        vec![(
            "secret_arn",
            Dyn::from(
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-0a1b2c-Xy12Zw",
            ),
        )],
        vec![("cluster_identifier", Dyn::Unknown)],
        vec![("secret_arn", Dyn::Unknown)],
    ] {
        let errs = errors(&config(&pairs));
        assert!(errs.is_empty(), "{pairs:?}: {errs:?}");
    }
}

#[test]
fn the_result_attributes_are_computed_and_sensitive() {
    let block = schema().block;
    for name in ["username", "password", "host", "reader_host", "port"] {
        let a = block.attribute(name).expect(name);
        assert!(a.is_computed() && a.sensitive, "{name}");
    }
    let secret = block.attribute("secret_arn").expect("secret_arn");
    assert!(
        secret.is_computed(),
        "secret_arn is filled in from the cluster"
    );
}
