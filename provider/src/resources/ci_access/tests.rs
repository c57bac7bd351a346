//! The trust and permission documents, and reading them back.

use super::state::{trusts, CiAccessState, Pipeline};

const PROVIDER: &str =
    "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com";

fn api() -> Pipeline {
    Pipeline {
        name: "api".into(),
        repository: "fansite/fansite-api".into(),
        refs: vec!["refs/tags/v*".into()],
        ecr_repository_arns: Some(vec![
            "arn:aws:ecr:ap-northeast-2:123456789012:repository/fansite-api".into(),
        ]),
        bucket_arns: None,
        distribution_arns: None,
    }
}

fn site() -> Pipeline {
    Pipeline {
        name: "site".into(),
        repository: "fansite/fansite-web".into(),
        refs: vec!["refs/tags/v*".into(), "refs/heads/main".into()],
        ecr_repository_arns: None,
        bucket_arns: Some(vec!["arn:aws:s3:::fansite-site".into()]),
        distribution_arns: Some(vec![
            "arn:aws:cloudfront::123456789012:distribution/E2QWRUHAPOMQZL".into(),
        ]),
    }
}

#[test]
fn trust_allows_only_the_repository_on_its_refs_through_the_provider() {
    let t = site().trust(PROVIDER);
    let v: serde_json::Value = serde_json::from_str(&t).expect("JSON");
    let s = &v["Statement"][0];
    assert_eq!(s["Action"], "sts:AssumeRoleWithWebIdentity");
    assert_eq!(s["Principal"]["Federated"], PROVIDER);
    assert_eq!(
        s["Condition"]["StringEquals"]["token.actions.githubusercontent.com:aud"],
        "sts.amazonaws.com"
    );
    assert_eq!(
        s["Condition"]["StringLike"]["token.actions.githubusercontent.com:sub"],
        serde_json::json!([
            "repo:fansite/fansite-web:ref:refs/tags/v*",
            "repo:fansite/fansite-web:ref:refs/heads/main"
        ])
    );
    assert_eq!(
        Pipeline::from_trust(&t),
        Some(("fansite/fansite-web".into(), site().refs))
    );
    assert!(trusts(&t, PROVIDER));
    assert!(!trusts(&t, "arn:aws:iam::1:oidc-provider/other"));
}

#[test]
fn each_pipeline_may_do_only_what_it_deploys() {
    let v: serde_json::Value = serde_json::from_str(&api().policy()).expect("JSON");
    let sids: Vec<&str> = v["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .filter_map(|s| s["Sid"].as_str())
        .collect();
    assert_eq!(
        sids,
        ["EcrLogin", "EcrPush"],
        "the API's role cannot touch S3 or CloudFront"
    );
    let v: serde_json::Value = serde_json::from_str(&site().policy()).expect("JSON");
    let sids: Vec<&str> = v["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .filter_map(|s| s["Sid"].as_str())
        .collect();
    assert_eq!(
        sids,
        ["SiteBucket", "SiteObjects", "Invalidate"],
        "the site's role cannot push images"
    );
    assert_eq!(
        v["Statement"][1]["Resource"],
        serde_json::json!(["arn:aws:s3:::fansite-site/*"])
    );
}

#[test]
fn the_policy_reads_back_as_its_inputs() {
    for p in [api(), site()] {
        let mut back = Pipeline {
            ecr_repository_arns: None,
            bucket_arns: None,
            distribution_arns: None,
            ..p.clone()
        };
        back.set_from_policy(&p.policy());
        assert_eq!(back, p);
    }
}

#[test]
fn role_names_and_sessions() {
    let s = CiAccessState {
        name: "fansite".into(),
        max_session_hours: 2,
        ..CiAccessState::default()
    };
    assert_eq!(s.role_name("api"), "fansite-api");
    assert_eq!(s.max_session_seconds(), 7200);
}

#[test]
fn iam_documents_are_url_decoded() {
    assert_eq!(
        crate::aws::iam::url_decoded("%7B%22a%22%3A%20%22b%2Fc%2A%22%7D"),
        "{\"a\": \"b/c*\"}"
    );
    assert_eq!(
        crate::aws::iam::url_decoded("100%"),
        "100%",
        "a stray % is kept"
    );
}

#[test]
fn rules_name_what_is_wrong() {
    use super::rules;
    assert!(rules::repository("fansite").is_some());
    assert!(rules::repository("fansite/api/x").is_some());
    assert!(rules::repository("fansite/fansite-api").is_none());
    assert!(rules::git_ref("v*").is_some());
    assert!(rules::ecr_repository_arn("arn:aws:ecr:ap-northeast-2:1:repository/api").is_none());
    assert!(rules::bucket_arn("arn:aws:s3:::site/x").is_some());
    assert!(rules::distribution_arn("arn:aws:cloudfront::1:distribution/E1").is_none());
}
