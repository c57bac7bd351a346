//! The distribution's waits and deletes, with CloudFront as AWS answers (the
//! SDK's own test doubles): the local endpoint deploys a distribution at once,
//! deletes an enabled one, and lets go of its access control at once.

use std::sync::{Arc, Mutex};

use aws_sdk_cloudfront::operation::{
    create_distribution_with_tags::CreateDistributionWithTagsOutput,
    delete_distribution::DeleteDistributionOutput,
    delete_origin_access_control::DeleteOriginAccessControlOutput,
    get_distribution::GetDistributionOutput, get_distribution_config::GetDistributionConfigOutput,
    get_origin_access_control::GetOriginAccessControlOutput,
    update_distribution::UpdateDistributionOutput,
};
use aws_sdk_cloudfront::types::Distribution;
use aws_smithy_mocks::{mock, MockResponse, Rule};
use tokio::time::Instant;

use super::*;
use crate::aws::test_mocks::{self, refused, rest_xml_error};

const ID: &str = "E2QWRUHAPOMQZL";
const ROUTES_ARN: &str = "arn:aws:cloudfront::1:function/fansite-site-spa";

fn spec() -> DistSpec {
    DistSpec {
        name: "fansite-site".into(),
        bucket_domain: "fansite-site.s3.ap-northeast-2.amazonaws.com".into(),
        oac_id: "E2OAC".into(),
        api_origin: None,
        api_path_pattern: "/api/*".into(),
        api_origin_protocol: "https-only".into(),
        aliases: vec![],
        certificate_arn: None,
        price_class: "PriceClass_All".into(),
        web_acl_arn: "arn:aws:wafv2:us-east-1:1:global/webacl/fansite-site-waf/1".into(),
        site_routes_function_arn: Some(ROUTES_ARN.into()),
        api_origin_secret: None,
        enabled: true,
    }
}

/// A distribution as AWS describes it, with a configuration that someone
/// changed in the console (its comment), which a disable must keep.
fn distribution(status: &str, enabled: bool) -> Distribution {
    let mut cfg = config(&spec(), "ref").expect("config");
    cfg.enabled = enabled;
    cfg.comment = "changed in the console".into();
    Distribution::builder()
        .id(ID)
        .arn(format!("arn:aws:cloudfront::1:distribution/{ID}"))
        .status(status)
        .last_modified_time(aws_smithy_types::DateTime::from_secs(0))
        .in_progress_invalidation_batches(0)
        .domain_name("d111.cloudfront.net")
        .distribution_config(cfg)
        .build()
        .expect("distribution")
}

/// GetDistribution answering each of `states` in turn (`None`:
/// NoSuchDistribution), the last one from then on.
fn states(states: Vec<Option<(&'static str, bool)>>) -> Rule {
    let left = Arc::new(Mutex::new(states));
    mock!(aws_sdk_cloudfront::Client::get_distribution).then_compute_response(move |_| {
        let mut left = left.lock().expect("lock");
        let s = if left.len() > 1 {
            left.remove(0)
        } else {
            left[0]
        };
        match s {
            Some((status, enabled)) => MockResponse::Output(
                GetDistributionOutput::builder()
                    .distribution(distribution(status, enabled))
                    .e_tag(format!("ETAG-{status}"))
                    .build(),
            ),
            None => refused(rest_xml_error("NoSuchDistribution", "gone")),
        }
    })
}

/// E4 and E3: the delete disables the configuration AWS has (only Enabled
/// changes), waits until that is deployed, retries DistributionNotDisabled and
/// a stale ETag, and returns only once the distribution is gone.
#[tokio::test(start_paused = true)]
async fn delete_disables_what_aws_has_then_waits_until_gone() {
    let get = states(vec![
        Some(("Deployed", true)),
        Some(("InProgress", false)),
        Some(("InProgress", false)),
        Some(("Deployed", false)),
        // the delete tries: three reads of the ETag
        Some(("Deployed", false)),
        Some(("Deployed", false)),
        Some(("Deployed", false)),
        // still there after the delete, then gone
        Some(("Deployed", false)),
        None,
    ]);
    let get_config = mock!(aws_sdk_cloudfront::Client::get_distribution_config).then_output(|| {
        GetDistributionConfigOutput::builder()
            .distribution_config(
                distribution("Deployed", true)
                    .distribution_config()
                    .cloned()
                    .expect("config"),
            )
            .e_tag("ETAG-CONFIG")
            .build()
    });
    let sent = Arc::new(Mutex::new(Vec::new()));
    let log = sent.clone();
    let update = mock!(aws_sdk_cloudfront::Client::update_distribution).then_compute_response(
        move |input| {
            let cfg = input.distribution_config().expect("config");
            log.lock().expect("lock").push((
                input.if_match().unwrap_or_default().to_string(),
                cfg.enabled(),
                cfg.comment().to_string(),
            ));
            MockResponse::Output(UpdateDistributionOutput::builder().build())
        },
    );
    let delete = mock!(aws_sdk_cloudfront::Client::delete_distribution)
        .sequence()
        .http_status(
            409,
            Some(rest_xml_error(
                "DistributionNotDisabled",
                "The distribution you are trying to delete has not been disabled.",
            )),
        )
        .http_status(
            412,
            Some(rest_xml_error(
                "PreconditionFailed",
                "The precondition given in one or more of the request-header fields evaluated to false.",
            )),
        )
        .output(|| DeleteDistributionOutput::builder().build())
        .build();
    let c = test_mocks::cloudfront(&[&get, &get_config, &update, &delete]);
    test_mocks::in_operation(delete_distribution(&c, ID, Duration::from_secs(2700)))
        .await
        .expect("deleted");
    assert_eq!(
        *sent.lock().expect("lock"),
        vec![(
            "ETAG-CONFIG".to_string(),
            false,
            "changed in the console".to_string()
        )],
        "one update, of the configuration AWS has, with only Enabled changed"
    );
    assert_eq!(delete.num_calls(), 3);
    assert_eq!(get.num_calls(), 9, "polled until NoSuchDistribution");
}

/// E3: a distribution still deploying an earlier change is waited for before
/// it is disabled, and one already disabled is not updated again.
#[tokio::test(start_paused = true)]
async fn delete_of_a_disabled_distribution_waits_for_its_deployment() {
    let get = states(vec![
        Some(("InProgress", false)),
        Some(("InProgress", false)),
        Some(("Deployed", false)),
        Some(("Deployed", false)),
        None,
    ]);
    let delete = mock!(aws_sdk_cloudfront::Client::delete_distribution)
        .then_output(|| DeleteDistributionOutput::builder().build());
    let update = mock!(aws_sdk_cloudfront::Client::update_distribution)
        .then_output(|| UpdateDistributionOutput::builder().build());
    let c = test_mocks::cloudfront(&[&get, &delete, &update]);
    test_mocks::in_operation(delete_distribution(&c, ID, Duration::from_secs(2700)))
        .await
        .expect("deleted");
    assert_eq!(update.num_calls(), 0);
    assert_eq!(delete.num_calls(), 1);
}

/// C3: a distribution that is already gone is deleted.
#[tokio::test(start_paused = true)]
async fn delete_of_a_gone_distribution_is_done() {
    let get = states(vec![None]);
    let c = test_mocks::cloudfront(&[&get]);
    test_mocks::in_operation(delete_distribution(&c, ID, Duration::from_secs(2700)))
        .await
        .expect("gone is done");
}

/// C4: the deployment wait is ours: a poll at once, then at most every 15 s
/// (the SDK's waiter waits 60 s first and up to 35 minutes between polls),
/// and a distribution just made that is not yet visible is waited out.
#[tokio::test(start_paused = true)]
async fn deployment_is_polled_at_most_every_fifteen_seconds() {
    let mut s = vec![None];
    s.extend(vec![Some(("InProgress", true)); 20]);
    s.push(Some(("Deployed", true)));
    let get = states(s);
    let c = test_mocks::cloudfront(&[&get]);
    let started = Instant::now();
    test_mocks::in_operation(wait_deployed(&c, ID, Duration::from_secs(1800)))
        .await
        .expect("deployed");
    assert_eq!(get.num_calls(), 22);
    // never more than 15 s between two polls
    assert!(
        started.elapsed() <= Duration::from_secs(15 + 17 * 15 + 1),
        "{:?}",
        started.elapsed()
    );
}

/// E1: the single-page app's fallback is the site behavior's viewer-request
/// function, never a custom error response: those apply to every behavior,
/// and turned the API's 404s and WAF's 403s into 200s with the app's HTML.
/// The API's behavior runs no function.
#[test]
fn the_app_fallback_is_the_site_behavior_s_function_only() {
    let spec = DistSpec {
        api_origin: Some("api.fans.example.com".into()),
        ..spec()
    };
    let cfg = config(&spec, "ref").expect("config");
    assert_eq!(
        cfg.custom_error_responses().map(|e| e.quantity()),
        Some(0),
        "no distribution-wide error responses"
    );
    let site = cfg
        .default_cache_behavior()
        .and_then(|b| b.function_associations())
        .map(|f| f.items().to_vec())
        .unwrap_or_default();
    assert_eq!(site.len(), 1);
    assert_eq!(site[0].function_arn(), ROUTES_ARN);
    assert_eq!(site[0].event_type(), &EventType::ViewerRequest);
    let api = cfg.cache_behaviors().map(|b| b.items()).unwrap_or_default();
    assert_eq!(api.len(), 1);
    assert_eq!(api[0].path_pattern(), "/api/*");
    assert!(
        api[0]
            .function_associations()
            .is_none_or(|f| f.quantity() == 0),
        "the API's behavior runs no function"
    );
}

/// E1: what the function does to each kind of path, run by Node.js (the
/// cloudfront-js-2.0 runtime is ECMAScript 5.1 with some later features,
/// which Node runs alike): the app's routes get /index.html, files and the
/// root keep their path. Under CI=true, a missing `node` fails the test.
#[test]
fn the_site_routes_function_sends_only_app_routes_to_index_html() {
    let dir = std::env::temp_dir().join(format!("fansite-site-routes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let script = dir.join("run.js");
    let cases = [
        ("/", "/"),
        ("/artists/123", "/index.html"),
        ("/tickets/", "/index.html"),
        ("/login", "/index.html"),
        ("/assets/app.3f9c.js", "/assets/app.3f9c.js"),
        ("/favicon.ico", "/favicon.ico"),
        ("/index.html", "/index.html"),
    ];
    let mut js = String::from(SITE_ROUTES_CODE);
    js.push_str("\nvar cases = ");
    js.push_str(&serde_json::to_string(&cases).expect("json"));
    js.push_str(";\ncases.forEach(function (c) {\n  var out = handler({ request: { uri: c[0], headers: {} } });\n  console.log(c[0] + ' ' + out.uri);\n});\n");
    std::fs::write(&script, js).expect("script");
    let out = match std::process::Command::new("node").arg(&script).output() {
        Ok(out) => out,
        Err(e) if std::env::var("CI").as_deref() != Ok("true") => {
            eprintln!("skipped: node is not installed here ({e})");
            return;
        }
        Err(e) => panic!("node is needed for this test (CI=true): {e}"),
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen = String::from_utf8_lossy(&out.stdout).into_owned();
    let want: String = cases.iter().map(|(i, o)| format!("{i} {o}\n")).collect();
    assert_eq!(seen, want);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Function names are global to the account and at most 64 characters of
/// letters, digits, `-` and `_`: a bucket name's dots become dashes, and a long
/// name keeps a stable hash of the whole (two long names that share 51
/// characters do not collide).
#[test]
fn site_routes_names_fit_cloudfront_s_rules() {
    assert_eq!(site_routes_name("fansite-site"), "fansite-site-spa");
    assert_eq!(site_routes_name("fans.example.com"), "fans-example-com-spa");
    let a = site_routes_name(&format!("{}a", "x".repeat(62)));
    let b = site_routes_name(&format!("{}b", "x".repeat(62)));
    for n in [&a, &b] {
        assert!(n.len() <= 64, "{n}");
        assert!(
            n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "{n}"
        );
    }
    assert_ne!(a, b);
    assert_eq!(
        a,
        site_routes_name(&format!("{}a", "x".repeat(62))),
        "stable"
    );
}

fn function_summary(comment: &str) -> aws_sdk_cloudfront::types::FunctionSummary {
    aws_sdk_cloudfront::types::FunctionSummary::builder()
        .name("fansite-site-spa")
        .function_config(
            FunctionConfig::builder()
                .comment(comment)
                .runtime(FunctionRuntime::CloudfrontJs20)
                .build()
                .expect("config"),
        )
        .function_metadata(
            aws_sdk_cloudfront::types::FunctionMetadata::builder()
                .function_arn(ROUTES_ARN)
                .last_modified_time(aws_smithy_types::DateTime::from_secs(0))
                .build()
                .expect("metadata"),
        )
        .build()
        .expect("summary")
}

/// A new edge makes its function and publishes it (a distribution runs only
/// the LIVE stage); one of this edge's left by a failed create is taken over,
/// its code brought up to date; a function of that name that is not this
/// edge's is refused, and left alone on delete.
#[tokio::test(start_paused = true)]
async fn the_site_routes_function_is_made_published_or_taken_over_only_when_ours() {
    use aws_sdk_cloudfront::operation::{
        create_function::CreateFunctionOutput, describe_function::DescribeFunctionOutput,
        get_function::GetFunctionOutput, publish_function::PublishFunctionOutput,
        update_function::UpdateFunctionOutput,
    };
    let missing = test_mocks::always(
        mock!(aws_sdk_cloudfront::Client::describe_function),
        404,
        rest_xml_error("NoSuchFunctionExists", "no"),
    );
    let create = mock!(aws_sdk_cloudfront::Client::create_function)
        .match_requests(|r| {
            r.function_code()
                .is_some_and(|c| c.as_ref() == SITE_ROUTES_CODE.as_bytes())
                && r.function_config().is_some_and(|c| {
                    c.runtime() == &FunctionRuntime::CloudfrontJs20
                        && c.comment() == site_routes_comment("fansite-site")
                })
        })
        .then_output(|| {
            CreateFunctionOutput::builder()
                .function_summary(function_summary(&site_routes_comment("fansite-site")))
                .e_tag("ETAG-NEW")
                .build()
        });
    let publish = mock!(aws_sdk_cloudfront::Client::publish_function)
        .match_requests(|r| {
            r.if_match() == Some("ETAG-NEW") || r.if_match() == Some("ETAG-UPDATED")
        })
        .then_output(|| PublishFunctionOutput::builder().build());
    let c = test_mocks::cloudfront(&[&missing, &create, &publish]);
    let arn = test_mocks::in_operation(ensure_site_routes(&c, "fansite-site"))
        .await
        .expect("made");
    assert_eq!(arn, ROUTES_ARN);
    assert_eq!((create.num_calls(), publish.num_calls()), (1, 1));

    // Ours, with old code: updated, then published.
    let ours = mock!(aws_sdk_cloudfront::Client::describe_function).then_output(|| {
        DescribeFunctionOutput::builder()
            .function_summary(function_summary(&site_routes_comment("fansite-site")))
            .e_tag("ETAG-OLD")
            .build()
    });
    let old_code = mock!(aws_sdk_cloudfront::Client::get_function).then_output(|| {
        GetFunctionOutput::builder()
            .function_code(aws_sdk_cloudfront::primitives::Blob::new(
                "function handler(e) { return e.request; }",
            ))
            .e_tag("ETAG-OLD")
            .build()
    });
    let update = mock!(aws_sdk_cloudfront::Client::update_function)
        .match_requests(|r| r.if_match() == Some("ETAG-OLD"))
        .then_output(|| {
            UpdateFunctionOutput::builder()
                .e_tag("ETAG-UPDATED")
                .build()
        });
    let c = test_mocks::cloudfront(&[&ours, &old_code, &update, &publish]);
    test_mocks::in_operation(ensure_site_routes(&c, "fansite-site"))
        .await
        .expect("taken over");
    assert_eq!((update.num_calls(), publish.num_calls()), (1, 2));

    // Not ours: refused, nothing changed; and left alone by delete.
    let theirs = mock!(aws_sdk_cloudfront::Client::describe_function).then_output(|| {
        DescribeFunctionOutput::builder()
            .function_summary(function_summary("the marketing team's redirects"))
            .e_tag("ETAG-THEIRS")
            .build()
    });
    let delete = mock!(aws_sdk_cloudfront::Client::delete_function).then_output(|| {
        aws_sdk_cloudfront::operation::delete_function::DeleteFunctionOutput::builder().build()
    });
    let c = test_mocks::cloudfront(&[&theirs, &delete]);
    let err = test_mocks::in_operation(ensure_site_routes(&c, "fansite-site"))
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("marketing"), "{err}");
    test_mocks::in_operation(delete_site_routes(&c, "fansite-site"))
        .await
        .expect("left alone");
    assert_eq!(delete.num_calls(), 0);
}

/// E3 for the function: its delete is retried while CloudFront still holds it
/// for the distribution just deleted (FunctionInUse), each time with a fresh
/// ETag; a function already gone is done.
#[tokio::test(start_paused = true)]
async fn site_routes_function_in_use_is_retried_until_let_go() {
    use aws_sdk_cloudfront::operation::{
        delete_function::DeleteFunctionOutput, describe_function::DescribeFunctionOutput,
    };
    let describe = mock!(aws_sdk_cloudfront::Client::describe_function).then_output(|| {
        DescribeFunctionOutput::builder()
            .function_summary(function_summary(&site_routes_comment("fansite-site")))
            .e_tag("ETAG")
            .build()
    });
    let delete = mock!(aws_sdk_cloudfront::Client::delete_function)
        .sequence()
        .http_status(
            409,
            Some(rest_xml_error(
                "FunctionInUse",
                "Cannot delete function, it's in use by a distribution.",
            )),
        )
        .times(3)
        .output(|| DeleteFunctionOutput::builder().build())
        .build();
    let c = test_mocks::cloudfront(&[&describe, &delete]);
    test_mocks::in_operation(delete_site_routes(&c, "fansite-site"))
        .await
        .expect("deleted");
    assert_eq!((describe.num_calls(), delete.num_calls()), (4, 4));

    let gone = test_mocks::always(
        mock!(aws_sdk_cloudfront::Client::describe_function),
        404,
        rest_xml_error("NoSuchFunctionExists", "no"),
    );
    let c = test_mocks::cloudfront(&[&gone]);
    test_mocks::in_operation(delete_site_routes(&c, "fansite-site"))
        .await
        .expect("gone is done");
}

/// E3: the origin access control is retried while CloudFront still holds it
/// for the distribution just deleted, each time with a fresh ETag.
#[tokio::test(start_paused = true)]
async fn access_control_in_use_is_retried_until_let_go() {
    let get = mock!(aws_sdk_cloudfront::Client::get_origin_access_control).then_output(|| {
        GetOriginAccessControlOutput::builder()
            .e_tag("ETAG")
            .build()
    });
    let delete = mock!(aws_sdk_cloudfront::Client::delete_origin_access_control)
        .sequence()
        .http_status(
            409,
            Some(rest_xml_error(
                "OriginAccessControlInUse",
                "The origin access control is being used by distribution E2QWRUHAPOMQZL.",
            )),
        )
        .times(3)
        .output(|| DeleteOriginAccessControlOutput::builder().build())
        .build();
    let c = test_mocks::cloudfront(&[&get, &delete]);
    test_mocks::in_operation(delete_oac(&c, "E2OAC"))
        .await
        .expect("deleted");
    assert_eq!(delete.num_calls(), 4);
    assert_eq!(get.num_calls(), 4);
}

/// E7: CloudFront that cannot read a web ACL made seconds ago asks to retry;
/// an InvalidWebACLId that does not is a real error at once.
#[tokio::test(start_paused = true)]
async fn a_new_web_acl_not_yet_readable_is_retried() {
    let create = mock!(aws_sdk_cloudfront::Client::create_distribution_with_tags)
        .sequence()
        .http_status(
            400,
            Some(rest_xml_error(
                "InvalidWebACLId",
                "Unable to verify read permissions on Web ACL. Please retry the request.",
            )),
        )
        .times(2)
        .output(|| {
            CreateDistributionWithTagsOutput::builder()
                .distribution(distribution("InProgress", true))
                .e_tag("ETAG")
                .build()
        })
        .build();
    let c = test_mocks::cloudfront(&[&create]);
    let d = test_mocks::in_operation(create_distribution(&c, &spec(), "ref", &Tags::new()))
        .await
        .expect("created");
    assert_eq!(d.id, ID);
    assert_eq!(create.num_calls(), 3);

    let create = test_mocks::always(
        mock!(aws_sdk_cloudfront::Client::create_distribution_with_tags),
        400,
        rest_xml_error(
            "InvalidWebACLId",
            "Web ACL is not accessible by the requester.",
        ),
    );
    let c = test_mocks::cloudfront(&[&create]);
    let err = test_mocks::in_operation(create_distribution(&c, &spec(), "ref", &Tags::new()))
        .await
        .expect_err("a real error");
    assert_eq!(err.code(), Some("InvalidWebACLId"));
    assert_eq!(create.num_calls(), 1);
}

/// The additional metrics: set with CreateMonitoringSubscription whether on
/// or off, and read as off when the distribution has no subscription.
#[tokio::test(start_paused = true)]
async fn additional_metrics_are_set_and_read_back() {
    use aws_sdk_cloudfront::operation::create_monitoring_subscription::CreateMonitoringSubscriptionOutput;
    use aws_sdk_cloudfront::types::RealtimeMetricsSubscriptionStatus as Status;
    let set = |want: Status| {
        mock!(aws_sdk_cloudfront::Client::create_monitoring_subscription)
            .match_requests(move |r| {
                r.distribution_id() == Some(ID)
                    && r.monitoring_subscription()
                        .and_then(|m| m.realtime_metrics_subscription_config())
                        .is_some_and(|c| c.realtime_metrics_subscription_status() == &want)
            })
            .then_output(|| CreateMonitoringSubscriptionOutput::builder().build())
    };
    let (on, off) = (set(Status::Enabled), set(Status::Disabled));
    let none = test_mocks::always(
        mock!(aws_sdk_cloudfront::Client::get_monitoring_subscription),
        404,
        rest_xml_error(
            "NoSuchMonitoringSubscription",
            "A monitoring subscription does not exist for the specified distribution.",
        ),
    );
    let c = test_mocks::cloudfront(&[&on, &off, &none]);
    set_additional_metrics(&c, ID, true).await.expect("on");
    set_additional_metrics(&c, ID, false).await.expect("off");
    assert_eq!((on.num_calls(), off.num_calls()), (1, 1));
    assert!(!additional_metrics(&c, ID).await.expect("read"));
}

/// The origin secret goes to the API origin only, in X-Origin-Verify, and
/// reads back from the distribution; its value is never in `Debug` output.
#[test]
fn the_origin_secret_is_sent_to_the_api_origin_only() {
    let spec = DistSpec {
        api_origin: Some("api.fans.example.com".into()),
        api_origin_secret: Some(SecretValue::new("s3cr3tvalue")),
        ..spec()
    };
    let cfg = config(&spec, "ref").expect("config");
    let origins = cfg
        .origins()
        .map(|o| o.items().to_vec())
        .unwrap_or_default();
    let headers = |id: &str| -> Vec<(String, String)> {
        origins
            .iter()
            .find(|o| o.id() == id)
            .and_then(|o| o.custom_headers())
            .map(|h| {
                h.items()
                    .iter()
                    .map(|h| (h.header_name().to_string(), h.header_value().to_string()))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(
        headers(API_ORIGIN),
        vec![("X-Origin-Verify".to_string(), "s3cr3tvalue".to_string())]
    );
    assert!(headers(S3_ORIGIN).is_empty(), "the bucket gets no header");
    let d = Distribution::builder()
        .id(ID)
        .arn("arn")
        .domain_name("d.cloudfront.net")
        .status("Deployed")
        .last_modified_time(aws_smithy_types::DateTime::from_secs(0))
        .in_progress_invalidation_batches(0)
        .distribution_config(cfg)
        .build()
        .expect("distribution");
    let read = info(&d, "etag");
    assert_eq!(
        read.api_origin_secret,
        Some(SecretValue::new("s3cr3tvalue"))
    );
    assert!(
        !format!("{spec:?}{read:?}").contains("s3cr3tvalue"),
        "the value is kept out of Debug output"
    );
}
