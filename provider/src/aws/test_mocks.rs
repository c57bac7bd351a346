//! Clients whose calls the SDK's own test doubles (aws-smithy-mocks) answer,
//! for the unit tests of waits and retries that the local endpoint cannot
//! show (it is never slow and never refuses a call for a state).

use aws_smithy_mocks::{MockResponse, MockResponseInterceptor, Rule, RuleMode};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;

/// A `$sdk` client whose calls `$answers` (a `MockResponseInterceptor`)
/// answers, with test credentials and no retries: the one way every test
/// double of the SDK is built (`mocked_client!` here, `mocked!` in `mod_tests.rs`).
macro_rules! answered_client {
    ($sdk:ident, $answers:expr) => {
        $sdk::Client::from_conf(
            $sdk::Config::builder()
                .behavior_version($sdk::config::BehaviorVersion::latest())
                .region($sdk::config::Region::new("ap-northeast-2"))
                .credentials_provider($sdk::config::Credentials::new(
                    "AKIDEXAMPLE",
                    "secret",
                    None,
                    None,
                    "mocked",
                ))
                .retry_config($sdk::config::retry::RetryConfig::disabled())
                .http_client(aws_smithy_mocks::create_mock_http_client())
                .interceptor($answers)
                .build(),
        )
    };
}
pub(crate) use answered_client;

macro_rules! mocked_client {
    ($name:ident, $sdk:ident) => {
        /// A client answered by `rules`: the first rule that matches a call and
        /// has answers left gives the answer.
        pub fn $name(rules: &[&Rule]) -> $sdk::Client {
            let mut answers = MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
            for rule in rules {
                answers = answers.with_rule(rule);
            }
            answered_client!($sdk, answers)
        }
    };
}

mocked_client!(rds, aws_sdk_rds);
mocked_client!(ec2, aws_sdk_ec2);
mocked_client!(secrets, aws_sdk_secretsmanager);
mocked_client!(autoscaling, aws_sdk_applicationautoscaling);
mocked_client!(elb, aws_sdk_elasticloadbalancingv2);
mocked_client!(iam, aws_sdk_iam);
mocked_client!(s3, aws_sdk_s3);
mocked_client!(ecs, aws_sdk_ecs);
mocked_client!(lambda, aws_sdk_lambda);
mocked_client!(cloudfront, aws_sdk_cloudfront);
mocked_client!(waf, aws_sdk_wafv2);
mocked_client!(route53, aws_sdk_route53);
mocked_client!(cognito, aws_sdk_cognitoidentityprovider);

/// An error answer as the awsQuery services (RDS, ELB) send it.
pub fn query_error(code: &str, message: &str) -> String {
    format!(
        "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>\
         <Message>{message}</Message></Error><RequestId>r</RequestId></ErrorResponse>"
    )
}

/// An error answer as CloudFront and Route53 (REST-XML) send it.
pub fn rest_xml_error(code: &str, message: &str) -> String {
    query_error(code, message)
}

/// An error answer as S3 sends it.
pub fn s3_error(code: &str, message: &str) -> String {
    format!(
        "<Error><Code>{code}</Code><Message>{message}</Message><RequestId>r</RequestId></Error>"
    )
}

/// An error answer as EC2 sends it.
pub fn ec2_error(code: &str, message: &str) -> String {
    format!(
        "<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error>\
         </Errors><RequestID>r</RequestID></Response>"
    )
}

/// An error answer as the JSON services (Secrets Manager, Application Auto Scaling) send it.
pub fn json_error(code: &str, message: &str) -> String {
    serde_json::json!({ "__type": code, "message": message }).to_string()
}

/// An HTTP 400 answer with `body`, for a rule that computes its answers.
pub fn refused<O, E>(body: String) -> MockResponse<O, E> {
    MockResponse::Http(HttpResponse::new(
        StatusCode::try_from(400).expect("a valid status"),
        SdkBody::from(body),
    ))
}

/// A rule that answers every call of its operation (`mock!(Client::op)`)
/// with HTTP `status` and `body`: a part that is not there, say.
pub fn always<I, O, E>(
    rule: aws_smithy_mocks::RuleBuilder<I, O, E>,
    status: u16,
    body: String,
) -> Rule
where
    I: std::fmt::Debug + Send + Sync + 'static,
    O: std::fmt::Debug + Send + Sync + 'static,
    E: std::fmt::Debug + Send + Sync + std::error::Error + 'static,
{
    rule.sequence()
        .http_status(status, Some(body))
        .repeatedly()
        .build()
}

macro_rules! unanswered {
    ($sdk:ident) => {
        $sdk::Client::from_conf(
            $sdk::Config::builder()
                .behavior_version($sdk::config::BehaviorVersion::latest())
                .region($sdk::config::Region::new("ap-northeast-2"))
                .build(),
        )
    };
}

/// An [`super::Aws`] whose EC2, RDS, Secrets Manager and Application Auto
/// Scaling are the given clients; the other services are never called.
pub fn aws(
    ec2: aws_sdk_ec2::Client,
    rds: aws_sdk_rds::Client,
    secrets: aws_sdk_secretsmanager::Client,
    autoscaling: aws_sdk_applicationautoscaling::Client,
) -> super::Aws {
    super::Aws {
        region: "ap-northeast-2".into(),
        default_tags: Default::default(),
        ec2,
        cognito: unanswered!(aws_sdk_cognitoidentityprovider),
        rds,
        secrets,
        autoscaling,
        s3: unanswered!(aws_sdk_s3),
        cloudfront: unanswered!(aws_sdk_cloudfront),
        waf: unanswered!(aws_sdk_wafv2),
        route53: unanswered!(aws_sdk_route53),
        ecs: unanswered!(aws_sdk_ecs),
        ecr: unanswered!(aws_sdk_ecr),
        elb: unanswered!(aws_sdk_elasticloadbalancingv2),
        iam: unanswered!(aws_sdk_iam),
        logs: unanswered!(aws_sdk_cloudwatchlogs),
        waf_logs: unanswered!(aws_sdk_cloudwatchlogs),
        cloudwatch: unanswered!(aws_sdk_cloudwatch),
        cloudwatch_global: unanswered!(aws_sdk_cloudwatch),
        sns: unanswered!(aws_sdk_sns),
        sns_global: unanswered!(aws_sdk_sns),
        lambda: unanswered!(aws_sdk_lambda),
        ssm: unanswered!(aws_sdk_ssm),
        stop: crate::ctx::StopSignal::new(),
    }
}

/// Runs `op` as an operation with an hour's timeout: outside one, every wait
/// and retry is bounded by [`crate::ctx::OUTSIDE_OPERATION`] (2 minutes).
pub async fn in_operation<T: std::fmt::Debug>(op: impl std::future::Future<Output = T>) -> T {
    let ctx = crate::ctx::Ctx::new(
        std::time::Duration::from_secs(3600),
        crate::ctx::StopSignal::new(),
    );
    match ctx.run(std::time::Duration::ZERO, op).await {
        crate::ctx::Ended::Done(out) => out,
        other => panic!("the operation did not finish: {other:?}"),
    }
}
