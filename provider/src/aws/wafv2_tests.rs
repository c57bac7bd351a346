//! The web ACL's create and delete, with WAF as AWS answers (the SDK's own
//! test doubles): the local endpoint never refuses them for a state.

use aws_sdk_wafv2::operation::{
    create_web_acl::CreateWebAclOutput, delete_web_acl::DeleteWebAclOutput,
    get_web_acl::GetWebAclOutput,
};
use aws_sdk_wafv2::types::{WebAcl, WebAclSummary};
use aws_smithy_mocks::mock;

use super::*;
use crate::aws::test_mocks::{self, json_error};

fn spec() -> AclSpec {
    AclSpec {
        name: "fansite-site-waf".into(),
        managed_rule_groups: vec!["AWSManagedRulesCommonRuleSet".into()],
        rate_limit: 2000,
        geo_block: vec![],
    }
}

/// E3: the delete is retried while CloudFront still holds the web ACL for the
/// distribution just deleted, and a lock token that a change meanwhile
/// outdated is read again before the next try.
#[tokio::test(start_paused = true)]
async fn delete_waits_out_the_association_and_rereads_the_lock_token() {
    let tokens = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let n = tokens.clone();
    let get = mock!(aws_sdk_wafv2::Client::get_web_acl).then_compute_output(move |_| {
        let i = n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        GetWebAclOutput::builder()
            .web_acl(
                WebAcl::builder()
                    .name("fansite-site-waf")
                    .id("acl-1")
                    .arn("arn:aws:wafv2:us-east-1:1:global/webacl/fansite-site-waf/acl-1")
                    .build()
                    .expect("acl"),
            )
            .lock_token(format!("token-{i}"))
            .build()
    });
    let sent = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = sent.clone();
    let answers = std::sync::Arc::new(std::sync::Mutex::new(vec![
        "WAFAssociatedItemException",
        "WAFAssociatedItemException",
        "WAFOptimisticLockException",
        "WAFUnavailableEntityException",
    ]));
    let delete = mock!(aws_sdk_wafv2::Client::delete_web_acl).then_compute_response(move |input| {
        log.lock()
            .expect("lock")
            .push(input.lock_token().unwrap_or_default().to_string());
        let mut left = answers.lock().expect("lock");
        if left.is_empty() {
            aws_smithy_mocks::MockResponse::Output(DeleteWebAclOutput::builder().build())
        } else {
            test_mocks::refused(json_error(left.remove(0), "not now"))
        }
    });
    let c = test_mocks::waf(&[&get, &delete]);
    test_mocks::in_operation(delete_web_acl(&c, "fansite-site-waf", "acl-1"))
        .await
        .expect("deleted");
    assert_eq!(
        *sent.lock().expect("lock"),
        vec!["token-0", "token-1", "token-2", "token-3", "token-4"],
        "each try with the lock token read just before"
    );
}

/// C3: a web ACL already gone is deleted.
#[tokio::test(start_paused = true)]
async fn delete_of_a_gone_web_acl_is_done() {
    let get = mock!(aws_sdk_wafv2::Client::get_web_acl)
        .sequence()
        .http_status(400, Some(json_error("WAFNonexistentItemException", "gone")))
        .build();
    let c = test_mocks::waf(&[&get]);
    test_mocks::in_operation(delete_web_acl(&c, "fansite-site-waf", "acl-1"))
        .await
        .expect("gone is done");
}

/// E7: WAF not yet ready with a managed rule group for a new ACL is retried;
/// another refusal is a real error at once.
#[tokio::test(start_paused = true)]
async fn create_retries_an_entity_not_yet_available() {
    let create = mock!(aws_sdk_wafv2::Client::create_web_acl)
        .sequence()
        .http_status(
            400,
            Some(json_error(
                "WAFUnavailableEntityException",
                "AWS WAF couldn't retrieve the resource that you requested. Retry your request.",
            )),
        )
        .times(2)
        .output(|| {
            CreateWebAclOutput::builder()
                .summary(
                    WebAclSummary::builder()
                        .id("acl-1")
                        .arn("arn:aws:wafv2:us-east-1:1:global/webacl/fansite-site-waf/acl-1")
                        .build(),
                )
                .build()
        })
        .build();
    let c = test_mocks::waf(&[&create]);
    let (id, _) = test_mocks::in_operation(create_web_acl(&c, &spec(), &[]))
        .await
        .expect("created");
    assert_eq!(id, "acl-1");
    assert_eq!(create.num_calls(), 3);

    let create = test_mocks::always(
        mock!(aws_sdk_wafv2::Client::create_web_acl),
        400,
        json_error("WAFInvalidParameterException", "bad"),
    );
    let c = test_mocks::waf(&[&create]);
    let err = test_mocks::in_operation(create_web_acl(&c, &spec(), &[]))
        .await
        .expect_err("a real error");
    assert_eq!(err.code(), Some("WAFInvalidParameterException"));
    assert_eq!(create.num_calls(), 1);
}

/// The web ACL logs to its `aws-waf-logs-` group by the ARN WAF takes (no
/// `:*`, in the web ACL's account), with a fan's `authorization` and `cookie`
/// headers redacted; a log group or web ACL not yet usable is retried.
#[tokio::test(start_paused = true)]
async fn logging_goes_to_the_edge_s_group_with_secrets_redacted() {
    use aws_sdk_wafv2::operation::put_logging_configuration::PutLoggingConfigurationOutput;
    const ACL: &str = "arn:aws:wafv2:us-east-1:123456789012:global/webacl/fansite-site-waf/1";
    let group = log_group_name("fansite-site");
    assert_eq!(group, "aws-waf-logs-fansite-site");
    let arn = log_group_arn(ACL, &group);
    assert_eq!(
        arn,
        "arn:aws:logs:us-east-1:123456789012:log-group:aws-waf-logs-fansite-site"
    );
    let sent = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = sent.clone();
    let put = mock!(aws_sdk_wafv2::Client::put_logging_configuration)
        .sequence()
        .http_status(
            400,
            Some(json_error(
                "WAFUnavailableEntityException",
                "AWS WAF couldn't retrieve the resource that you requested. Retry your request.",
            )),
        )
        .times(2)
        .output(move || PutLoggingConfigurationOutput::builder().build())
        .build();
    let record = mock!(aws_sdk_wafv2::Client::put_logging_configuration)
        .match_requests(move |r| {
            let l = r.logging_configuration().expect("configuration");
            log.lock().expect("lock").push((
                l.resource_arn().to_string(),
                l.log_destination_configs().to_vec(),
                l.redacted_fields()
                    .iter()
                    .filter_map(|f| f.single_header().map(|h| h.name().to_string()))
                    .collect::<Vec<_>>(),
            ));
            false
        })
        .then_output(|| PutLoggingConfigurationOutput::builder().build());
    let c = test_mocks::waf(&[&record, &put]);
    test_mocks::in_operation(put_logging(&c, ACL, &arn))
        .await
        .expect("logging");
    assert_eq!(put.num_calls(), 3);
    let sent = sent.lock().expect("lock").clone();
    assert_eq!(sent.len(), 3, "{sent:?}");
    for (acl, to, redacted) in sent {
        assert_eq!(acl, ACL);
        assert_eq!(to, vec![arn.clone()]);
        assert_eq!(redacted, vec!["authorization", "cookie"]);
    }
}
