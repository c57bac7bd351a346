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
    // 1 + 2 + 4 + 8, then 15 s before each of the other 17 polls
    assert!(
        started.elapsed() <= Duration::from_secs(15 + 17 * 15 + 1),
        "{:?}",
        started.elapsed()
    );
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

    let create = mock!(aws_sdk_cloudfront::Client::create_distribution_with_tags)
        .sequence()
        .http_status(
            400,
            Some(rest_xml_error(
                "InvalidWebACLId",
                "Web ACL is not accessible by the requester.",
            )),
        )
        .repeatedly()
        .build();
    let c = test_mocks::cloudfront(&[&create]);
    let err = test_mocks::in_operation(create_distribution(&c, &spec(), "ref", &Tags::new()))
        .await
        .expect_err("a real error");
    assert_eq!(err.code(), Some("InvalidWebACLId"));
    assert_eq!(create.num_calls(), 1);
}
