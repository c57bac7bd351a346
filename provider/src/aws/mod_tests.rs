use std::sync::atomic::{AtomicU32, Ordering};

use tokio::time::Instant;

use super::*;
use crate::ctx::{Ctx, Ended, StopSignal};

fn aws(code: &str) -> Error {
    Error::Aws {
        action: "creating".into(),
        part: "thing".into(),
        code: code.into(),
        message: "m".into(),
    }
}

fn not_found() -> Error {
    aws("InvalidVpcID.NotFound")
}

#[tokio::test(start_paused = true)]
async fn eventual_consistency_is_retried_until_it_clears() {
    let calls = AtomicU32::new(0);
    let res = retry_while_new(|| async {
        match calls.fetch_add(1, Ordering::SeqCst) {
            0 | 1 => Err(not_found()),
            _ => Ok(7),
        }
    })
    .await;
    assert_eq!(res.ok(), Some(7));
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    let calls = AtomicU32::new(0);
    let res = retry_eventual(&["DependencyViolation"], || async {
        match calls.fetch_add(1, Ordering::SeqCst) {
            0 | 1 => Err(aws("DependencyViolation")),
            _ => Ok(8),
        }
    })
    .await;
    assert_eq!(res.ok(), Some(8));
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

/// Retries `code` within a 30-minute operation until AWS stops answering it
/// after `clears`: how long the retry took and how many calls it made.
async fn retried_until_clear(code: &'static str, clears: Duration) -> (Duration, u32) {
    let ctx = Ctx::new(Duration::from_secs(30 * 60), StopSignal::new());
    let started = Instant::now();
    let calls = AtomicU32::new(0);
    let ended = ctx
        .run(Duration::ZERO, async {
            retry_eventual(&[code], || async {
                calls.fetch_add(1, Ordering::SeqCst);
                if started.elapsed() < clears {
                    Err(aws(code))
                } else {
                    Ok(())
                }
            })
            .await
        })
        .await;
    assert!(matches!(ended, Ended::Done(Ok(()))), "{ended:?}");
    (started.elapsed(), calls.load(Ordering::SeqCst))
}

/// A dependency that lingers for 10 minutes (an ENI of a deleted load
/// balancer, say) is waited out within a 30-minute delete: the old try count
/// gave up after about 16 s.
#[tokio::test(start_paused = true)]
async fn retries_run_until_the_operation_s_deadline_not_a_count() {
    let (waited, calls) =
        retried_until_clear("DependencyViolation", Duration::from_secs(600)).await;
    assert!(waited >= Duration::from_secs(600), "{waited:?}");
    // The pauses grow to 10 s and no further: AWS is asked again soon after it clears.
    assert!(waited <= Duration::from_secs(611), "{waited:?}");
    assert!(calls > 8);
}

/// A role that becomes assumable after 10 s (the realistic layer's window;
/// on AWS seconds to a minute) is retried at most a tenth later: a pause
/// that doubled from 200 ms asked again only after 12.6 s.
#[tokio::test(start_paused = true)]
async fn a_retry_asks_again_within_a_tenth_of_the_time_retried() {
    let (waited, _) =
        retried_until_clear("InvalidParameterValueException", Duration::from_secs(10)).await;
    assert!(waited <= Duration::from_secs(11), "{waited:?}");
}

#[tokio::test(start_paused = true)]
async fn retries_stop_at_the_deadline_with_aws_s_error() {
    let ctx = Ctx::new(Duration::from_secs(120), StopSignal::new());
    let started = Instant::now();
    let ended = ctx
        .run(Duration::ZERO, async {
            retry_eventual(&["DependencyViolation"], || async {
                Err::<(), _>(aws("DependencyViolation"))
            })
            .await
        })
        .await;
    let Ended::Done(Err(e)) = ended else {
        panic!("{ended:?}");
    };
    assert_eq!(e.code(), Some("DependencyViolation"));
    assert_eq!(started.elapsed(), Duration::from_secs(120));
}

#[tokio::test(start_paused = true)]
async fn not_found_is_not_retried_where_it_means_done() {
    let calls = AtomicU32::new(0);
    let res: Result<()> = retry_eventual(&["DependencyViolation"], || async {
        calls.fetch_add(1, Ordering::SeqCst);
        Err(not_found())
    })
    .await;
    assert!(res.is_err_and(|e| e.is_not_found()));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn a_real_error_stops_at_once() {
    let calls = AtomicU32::new(0);
    let res: Result<()> = retry_while_new(|| async {
        calls.fetch_add(1, Ordering::SeqCst);
        Err(aws("InvalidParameterValue"))
    })
    .await;
    assert_eq!(
        res.err()
            .and_then(|e| e.code().map(str::to_string))
            .as_deref(),
        Some("InvalidParameterValue")
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

/// A client of `$sdk` whose calls the SDK's test doubles (aws-smithy-mocks)
/// answer, rule by rule: `mock_client!` without the crate's `test-util`.
macro_rules! mocked {
    ($sdk:ident, $($rule:expr),+ $(,)?) => {{
        let mut answers = aws_smithy_mocks::MockResponseInterceptor::new()
            .rule_mode(aws_smithy_mocks::RuleMode::Sequential);
        $(answers = answers.with_rule(&$rule);)+
        crate::aws::test_mocks::answered_client!($sdk, answers)
    }};
}

/// A rule answering `$op` once with HTTP `$status` and `$body`.
macro_rules! answers {
    ($op:expr, $status:expr, $body:expr) => {
        aws_smithy_mocks::mock!($op)
            .sequence()
            .http_status($status, Some($body))
            .build()
    };
}

/// An error answer as the awsQuery services (RDS, IAM), CloudFront and Route53 send it.
fn query_error(code: &str) -> String {
    format!(
        "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>\
         <Message>m</Message></Error><RequestId>r</RequestId></ErrorResponse>"
    )
}

/// An error answer as EC2 sends it.
fn ec2_error(code: &str) -> String {
    format!(
        "<Response><Errors><Error><Code>{code}</Code><Message>m</Message></Error>\
         </Errors><RequestID>r</RequestID></Response>"
    )
}

/// An error answer as S3 sends it.
fn s3_error(code: &str) -> String {
    format!("<Error><Code>{code}</Code><Message>m</Message><RequestId>r</RequestId></Error>")
}

/// An error answer as the JSON services (Secrets Manager, ECS, Application Auto Scaling) send it.
fn json_error(code: &str, message: &str) -> String {
    serde_json::json!({ "__type": code, "message": message }).to_string()
}

/// A DescribeDBClusters that answers DBClusterNotFoundFault: the SDK's typed
/// error says the cluster does not exist, and so does ours.
#[tokio::test]
async fn typed_not_found_decides() {
    let rds = mocked!(
        aws_sdk_rds,
        answers!(
            aws_sdk_rds::Client::describe_db_clusters,
            404,
            query_error("DBClusterNotFoundFault")
        )
    );
    let err = rds
        .describe_db_clusters()
        .db_cluster_identifier("fansite-db")
        .send()
        .await
        .expect_err("the mocked answer is an error");
    let e = not_found_if("describing", "Aurora cluster", err, |e| {
        e.is_db_cluster_not_found_fault()
    });
    assert!(matches!(e, Error::NotFound { .. }), "{e:?}");

    let rule = answers!(
        aws_sdk_rds::Client::describe_db_clusters,
        404,
        query_error("DBClusterNotFoundFault")
    );
    let rds = mocked!(aws_sdk_rds, rule);
    let res = rds::describe_cluster(&rds, "fansite-db").await;
    assert!(matches!(res, Ok(None)), "{res:?}");
    assert_eq!(rule.num_calls(), 1);
}

/// A code that merely ends in "NotFound", from an operation whose SDK error
/// does not model it, is AWS's error, not "not found": the suffix is not read.
#[tokio::test]
async fn a_not_found_code_the_operation_does_not_model_is_aws_s_error() {
    // DescribeDBClusters models DBClusterNotFoundFault only.
    let rds = mocked!(
        aws_sdk_rds,
        answers!(
            aws_sdk_rds::Client::describe_db_clusters,
            404,
            query_error("DBInstanceNotFound")
        )
    );
    let res = rds::describe_cluster(&rds, "fansite-db").await;
    let Err(e) = res else {
        panic!("{res:?}");
    };
    assert_eq!(e.code(), Some("DBInstanceNotFound"));
    assert!(!e.is_not_found(), "{e:?}");

    // DescribeClusters models no not-found error at all.
    let ecs = mocked!(
        aws_sdk_ecs,
        answers!(
            aws_sdk_ecs::Client::describe_clusters,
            400,
            json_error("ClusterNotFoundException", "Cluster not found.")
        )
    );
    let res = ecs::cluster_arn(&ecs, "fansite-api").await;
    let Err(e) = res else {
        panic!("{res:?}");
    };
    assert_eq!(e.code(), Some("ClusterNotFoundException"));
    assert!(!e.is_not_found(), "{e:?}");

    // Not even on the operation that does model it: plain `aws_error` never guesses.
    let rds = mocked!(
        aws_sdk_rds,
        answers!(
            aws_sdk_rds::Client::describe_db_clusters,
            404,
            query_error("DBClusterNotFoundFault")
        )
    );
    let err = rds.describe_db_clusters().send().await.expect_err("mocked");
    let e = aws_error("describing", "Aurora clusters", err);
    assert_eq!(e.code(), Some("DBClusterNotFoundFault"));
    assert!(!e.is_not_found(), "{e:?}");
}

/// Every "does not exist" code is still not found where its operation answers
/// it: EC2's by its code (the EC2 SDK models no error shapes), the others by
/// the operation's typed error (or, where S3 models none, by its code).
#[tokio::test]
async fn every_no_such_code_is_not_found() {
    // EC2: the code.
    for code in [
        "InvalidGroup.NotFound",
        "InvalidVpcID.NotFound",
        "InvalidRoute.NotFound",
        "NatGatewayNotFound",
    ] {
        assert!(crate::error::is_not_found_code(code), "{code}");
    }
    let ec2 = mocked!(
        aws_sdk_ec2,
        answers!(
            aws_sdk_ec2::Client::describe_security_groups,
            400,
            ec2_error("InvalidGroup.NotFound")
        )
    );
    let res = ec2::find_security_group(&ec2, "sg-0123", 3306, "fansite").await;
    assert!(matches!(res, Ok(None)), "InvalidGroup.NotFound: {res:?}");

    // CloudFront.
    let cf = mocked!(
        aws_sdk_cloudfront,
        answers!(
            aws_sdk_cloudfront::Client::get_origin_access_control,
            404,
            query_error("NoSuchOriginAccessControl")
        )
    );
    let res = cloudfront::delete_oac(&cf, "E2OAC").await;
    assert!(res.is_ok(), "NoSuchOriginAccessControl: {res:?}");
    let cf = mocked!(
        aws_sdk_cloudfront,
        answers!(
            aws_sdk_cloudfront::Client::get_distribution,
            404,
            query_error("NoSuchDistribution")
        )
    );
    let res = cloudfront::get_distribution(&cf, "E2DIST").await;
    assert!(matches!(res, Ok(None)), "NoSuchDistribution: {res:?}");
    let cf = mocked!(
        aws_sdk_cloudfront,
        aws_smithy_mocks::mock!(aws_sdk_cloudfront::Client::create_invalidation)
            .then_output(|| {
                use aws_sdk_cloudfront::types::{Invalidation, InvalidationBatch, Paths};
                let batch = InvalidationBatch::builder()
                    .caller_reference("ref")
                    .paths(Paths::builder().quantity(1).items("/*").build().expect("paths"))
                    .build()
                    .expect("batch");
                let inv = Invalidation::builder()
                    .id("I2INVALIDATION")
                    .status("InProgress")
                    .create_time(aws_smithy_types::DateTime::from_secs(0))
                    .invalidation_batch(batch)
                    .build()
                    .expect("invalidation");
                aws_sdk_cloudfront::operation::create_invalidation::CreateInvalidationOutput::builder()
                    .invalidation(inv)
                    .build()
            }),
        answers!(
            aws_sdk_cloudfront::Client::get_invalidation,
            404,
            query_error("NoSuchInvalidation")
        )
    );
    let res = cloudfront::invalidate_all(&cf, "E2DIST", "ref", Duration::from_secs(60)).await;
    assert!(
        res.as_ref().is_err_and(Error::is_not_found),
        "NoSuchInvalidation: {res:?}"
    );

    // Route53: records to delete in a zone that is gone are gone (the
    // delete lists them first).
    let r53 = mocked!(
        aws_sdk_route53,
        answers!(
            aws_sdk_route53::Client::list_resource_record_sets,
            404,
            query_error("NoSuchHostedZone")
        )
    );
    let res = route53::alias_records(
        &r53,
        "Z0ZONE",
        &["fansite.example".to_string()],
        "d111.cloudfront.net",
        route53::RecordChange::Delete,
    )
    .await;
    assert!(res.is_ok(), "NoSuchHostedZone: {res:?}");

    // S3: ListObjectVersions and DeleteBucket model no errors; the code is read.
    let s3 = mocked!(
        aws_sdk_s3,
        answers!(
            aws_sdk_s3::Client::list_object_versions,
            404,
            s3_error("NoSuchBucket")
        )
    );
    let res = s3::has_objects(&s3, "fansite-site").await;
    assert!(matches!(res, Ok(false)), "NoSuchBucket: {res:?}");
    let s3 = mocked!(
        aws_sdk_s3,
        answers!(
            aws_sdk_s3::Client::get_bucket_tagging,
            200,
            format!(
                "<Tagging><TagSet><Tag><Key>{OWNER_TAG}</Key><Value>fansite_edge/fansite-site/us-east-1</Value></Tag></TagSet></Tagging>"
            )
        ),
        answers!(
            aws_sdk_s3::Client::delete_bucket,
            404,
            s3_error("NoSuchBucket")
        )
    );
    let res = s3::delete_bucket(
        &s3,
        "fansite-site",
        false,
        "fansite_edge/fansite-site/us-east-1",
    )
    .await;
    assert!(res.is_ok(), "NoSuchBucket: {res:?}");
    let s3 = mocked!(
        aws_sdk_s3,
        answers!(
            aws_sdk_s3::Client::get_bucket_tagging,
            404,
            s3_error("NoSuchBucket")
        )
    );
    let res = s3::delete_bucket(
        &s3,
        "fansite-site",
        true,
        "fansite_edge/fansite-site/us-east-1",
    )
    .await;
    assert!(res.is_ok(), "NoSuchBucket on GetBucketTagging: {res:?}");

    // IAM.
    let iam = mocked!(
        aws_sdk_iam,
        answers!(
            aws_sdk_iam::Client::get_role,
            404,
            query_error("NoSuchEntity")
        )
    );
    let res = iam::role_arn(&iam, "fansite-api-task").await;
    assert!(matches!(res, Ok(None)), "NoSuchEntity: {res:?}");

    // RDS.
    let rds = mocked!(
        aws_sdk_rds,
        answers!(
            aws_sdk_rds::Client::describe_db_clusters,
            404,
            query_error("DBClusterNotFoundFault")
        )
    );
    let res = rds::describe_cluster(&rds, "fansite-db").await;
    assert!(matches!(res, Ok(None)), "DBClusterNotFoundFault: {res:?}");

    // Secrets Manager.
    let sm = mocked!(
        aws_sdk_secretsmanager,
        answers!(
            aws_sdk_secretsmanager::Client::describe_secret,
            400,
            json_error(
                "ResourceNotFoundException",
                "Secrets Manager can't find the specified secret."
            )
        )
    );
    let res = secrets::read_secret(
        &sm,
        "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:fansite",
    )
    .await;
    assert!(
        matches!(res, Ok(None)),
        "ResourceNotFoundException: {res:?}"
    );

    // And what is not "does not exist" stays AWS's error.
    for code in [
        "DependencyViolation",
        "InvalidDBClusterStateFault",
        "Throttling",
        "LoadBalancerNotFound",
        "ClusterNotFoundException",
        "NoSuchBucket",
    ] {
        assert!(!crate::error::is_not_found_code(code), "{code}");
    }
    for code in ["DependencyViolation", "Throttling"] {
        let ec2 = mocked!(
            aws_sdk_ec2,
            answers!(
                aws_sdk_ec2::Client::describe_security_groups,
                400,
                ec2_error(code)
            )
        );
        let res = ec2::find_security_group(&ec2, "sg-0123", 3306, "fansite").await;
        assert!(
            res.as_ref()
                .is_err_and(|e| e.code() == Some(code) && !e.is_not_found()),
            "{code}: {res:?}"
        );
    }
    let rds = mocked!(
        aws_sdk_rds,
        answers!(
            aws_sdk_rds::Client::describe_db_clusters,
            400,
            query_error("InvalidDBClusterStateFault")
        )
    );
    let res = rds::describe_cluster(&rds, "fansite-db").await;
    assert!(
        res.as_ref().is_err_and(|e| !e.is_not_found()),
        "InvalidDBClusterStateFault: {res:?}"
    );
}

/// emulator: the local endpoint says a scalable target is missing with a
/// ValidationException; AWS with ObjectNotFoundException. Both are done; any
/// other ValidationException is an error.
#[tokio::test]
async fn a_missing_scalable_target_is_done_as_either_endpoint_says_it() {
    for (code, message, done) in [
        (
            "ObjectNotFoundException",
            "No scalable target registered",
            true,
        ),
        (
            "ValidationException",
            "No scalable target found for service namespace: rds",
            true,
        ),
        (
            "ValidationException",
            "Unsupported service namespace",
            false,
        ),
    ] {
        let aas = mocked!(
            aws_sdk_applicationautoscaling,
            answers!(
                aws_sdk_applicationautoscaling::Client::deregister_scalable_target,
                400,
                json_error(code, message)
            )
        );
        let res = autoscaling::stop_scaling(&aas, "fansite-db").await;
        assert_eq!(res.is_ok(), done, "{code} {message:?}: {res:?}");
    }
}

/// A listener that answers every request 400 and records each request's
/// `User-Agent`: enough to see what the SDK sends, without an endpoint.
fn user_agent_recorder() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && conn.read(&mut byte).is_ok_and(|n| n == 1) {
                head.push(byte[0]);
            }
            let text = String::from_utf8_lossy(&head).into_owned();
            let ua = text
                .lines()
                .find_map(|l| {
                    l.split_once(':')
                        .filter(|(k, _)| k.eq_ignore_ascii_case("user-agent"))
                        .map(|(_, v)| v.trim().to_string())
                })
                .unwrap_or_default();
            if let Ok(mut s) = record.lock() {
                s.push(ua);
            }
            let _ = conn.write_all(
                b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    (url, seen)
}

#[tokio::test]
async fn every_client_names_the_provider_and_its_version_in_its_user_agent() {
    let (url, seen) = user_agent_recorder();
    let config = ProviderConfig {
        region: Some("us-east-1".into()),
        access_key: Some("AKIDEXAMPLE".into()),
        secret_key: Some("secret".into()),
        endpoint: Some(url),
        max_retries: 0,
        ..ProviderConfig::default()
    };
    let aws = Aws::connect(&config, StopSignal::new())
        .await
        .expect("clients");
    // One call per client (each fails on the listener's 400).
    let _ = aws.ec2.describe_vpcs().send().await;
    let _ = aws.cognito.list_user_pools().max_results(1).send().await;
    let _ = aws.rds.describe_db_clusters().send().await;
    let _ = aws.secrets.list_secrets().send().await;
    let _ = aws
        .autoscaling
        .describe_scalable_targets()
        .service_namespace(aws_sdk_applicationautoscaling::types::ServiceNamespace::Ecs)
        .send()
        .await;
    let _ = aws.s3.list_buckets().send().await;
    let _ = aws.cloudfront.list_distributions().send().await;
    let _ = aws
        .waf
        .list_web_acls()
        .scope(aws_sdk_wafv2::types::Scope::Cloudfront)
        .send()
        .await;
    let _ = aws.route53.list_hosted_zones().send().await;
    let _ = aws.ecs.list_clusters().send().await;
    let _ = aws.elb.describe_load_balancers().send().await;
    let _ = aws.iam.list_roles().send().await;
    let _ = aws.logs.describe_log_groups().send().await;
    let _ = aws.waf_logs.describe_log_groups().send().await;
    let _ = aws.cloudwatch.describe_alarms().send().await;
    let _ = aws.sns.list_topics().send().await;
    let _ = aws.lambda.list_functions().send().await;
    let seen = seen.lock().expect("recorded").clone();
    assert_eq!(seen.len(), 17, "one request per client: {seen:?}");
    let want = format!(" fansite/{}", env!("CARGO_PKG_VERSION"));
    for ua in &seen {
        assert!(
            ua.starts_with("aws-sdk-rust/") && ua.ends_with(&want),
            "the SDK's user agent, then {want:?}: {ua:?}"
        );
    }
}
