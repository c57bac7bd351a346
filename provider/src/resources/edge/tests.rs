//! Unit tests of what needs no AWS: validation and the state's shape.

use super::*;
use crate::diag::Diags;

fn config(pairs: &[(&str, Dyn)]) -> Dyn {
    let mut c = Dyn::obj();
    c.set("name", "fansite-web".into());
    for (k, v) in pairs {
        c.set(k, v.clone());
    }
    c
}

fn errors(c: &Dyn) -> Vec<(String, String)> {
    let mut d = Diags::default();
    // Through the driver: the declared checks, then the resource's own.
    crate::resource::Resource::validate(&crate::driver::Driver(EdgeResource), c, &mut d);
    d.0.into_iter()
        .map(|d| (d.path.unwrap_or_default().to_string(), d.summary))
        .collect()
}

#[test]
fn bad_inputs_are_reported_on_their_attribute() {
    type Case<'a> = (Vec<(&'a str, Dyn)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (vec![("name", "Fan_Site".into())], "name", "Invalid name"),
        (
            vec![("api_path_pattern", "/*".into())],
            "api_path_pattern",
            "Invalid api_path_pattern",
        ),
        (
            vec![("api_origin", "https://api.example.com".into())],
            "api_origin",
            "Invalid api_origin",
        ),
        (
            vec![("api_origin_protocol", "tls".into())],
            "api_origin_protocol",
            "Invalid api_origin_protocol",
        ),
        (
            vec![("price_class", "PriceClass_Cheap".into())],
            "price_class",
            "Invalid price_class",
        ),
        (
            vec![("rate_limit", 10i64.into())],
            "rate_limit",
            "Invalid rate_limit",
        ),
        (
            vec![("managed_rule_groups", Dyn::from_strings(["MyRules"]))],
            "managed_rule_groups[0]",
            "Invalid managed_rule_groups",
        ),
        (
            vec![("waf_log_retention_days", 10i64.into())],
            "waf_log_retention_days",
            "Invalid waf_log_retention_days",
        ),
        (
            vec![("geo_block", Dyn::from_strings(["kor"]))],
            "geo_block[0]",
            "Invalid geo_block",
        ),
        (
            vec![("aliases", Dyn::from_strings(["fans.example.com"]))],
            "aliases",
            "Aliases without a certificate",
        ),
        (
            vec![(
                "certificate_arn",
                "arn:aws:acm:ap-northeast-2:1:certificate/x".into(),
            )],
            "certificate_arn",
            "Invalid certificate_arn",
        ),
        (
            vec![("hosted_zone_id", "Z123".into())],
            "hosted_zone_id",
            "Hosted zone without aliases",
        ),
        // E2: HTTPS to an ALB's own name fails every request with 502.
        (
            vec![(
                "api_origin",
                "fan-api-123.ap-northeast-2.elb.amazonaws.com".into(),
            )],
            "api_origin",
            "HTTPS to a load balancer's own name",
        ),
        (
            vec![
                (
                    "api_origin",
                    "fan-api-123.ap-northeast-2.elb.amazonaws.com".into(),
                ),
                ("api_origin_protocol", "https-only".into()),
            ],
            "api_origin_protocol",
            "HTTPS to a load balancer's own name",
        ),
    ];
    for (pairs, path, summary) in cases {
        let got = errors(&config(&pairs));
        assert!(
            got.iter().any(|(p, s)| p == path && s == summary),
            "{pairs:?}: expected {summary:?} at {path}, got {got:?}"
        );
    }
    assert_eq!(errors(&config(&[])), vec![]);
    // Plain HTTP to the load balancer, or HTTPS to the API's own domain, is fine.
    let alb = "fan-api-123.ap-northeast-2.elb.amazonaws.com";
    assert_eq!(
        errors(&config(&[
            ("api_origin", alb.into()),
            ("api_origin_protocol", "http-only".into())
        ])),
        vec![]
    );
    assert_eq!(
        errors(&config(&[("api_origin", "api.fans.example.com".into())])),
        vec![]
    );
}

#[test]
fn state_round_trips_and_derives_the_url() {
    let mut v = config(&[("aliases", Dyn::from_strings(["fans.example.com"]))]);
    v.set("bucket_name", "fansite-web".into());
    v.set("domain_name", "d111.cloudfront.net".into());
    let s = crate::typed::decode::<EdgeState>(&v).unwrap();
    assert_eq!(s.url().as_deref(), Some("https://fans.example.com"));
    assert_eq!(s.rate_limit, DEFAULT_RATE_LIMIT);
    assert_eq!(s.managed_rule_groups.len(), 3);
    assert_eq!(
        crate::typed::decode::<EdgeState>(&crate::typed::encode(&s).unwrap()).unwrap(),
        s
    );
    assert_eq!(s.acl_spec().name, "fansite-web-waf");
    assert_eq!(
        s.dist_spec("ap-northeast-2").bucket_domain,
        "fansite-web.s3.ap-northeast-2.amazonaws.com"
    );
    let plain = EdgeState { aliases: None, ..s };
    assert_eq!(plain.url().as_deref(), Some("https://d111.cloudfront.net"));
}

/// E6: CloudFront does not keep the aliases' order; read keeps the
/// configured order when the set is the same (and with it the URL, which is
/// the first alias).
#[tokio::test]
async fn aliases_read_back_reordered_keep_the_configured_order() {
    let aws = crate::aws::test_fakes::distribution_with_aliases(
        "E2QWRUHAPOMQZL",
        "fansite-site",
        &["www.fans.example.com", "fans.example.com"],
    );
    let hints = EdgeState {
        name: "fansite-site".into(),
        bucket_name: Some("fansite-site".into()),
        oac_id: Some("E2OAC".into()),
        distribution_id: Some("E2QWRUHAPOMQZL".into()),
        aliases: Some(vec![
            "fans.example.com".into(),
            "www.fans.example.com".into(),
        ]),
        ..EdgeState::default()
    };
    let found = crate::aws::test_mocks::in_operation(find::find_edge(&aws, &hints))
        .await
        .expect("read")
        .expect("found");
    assert_eq!(found.aliases, hints.aliases);
    assert_eq!(found.url().as_deref(), Some("https://fans.example.com"));
}
