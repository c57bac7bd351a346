//! The only code that links the AWS SDK: client set-up here, one file per service.

pub mod autoscaling;
pub mod cloudfront;
pub mod cloudwatch;
pub mod cognito;
pub mod ec2;
pub mod ecr;
pub mod ecs;
pub mod elbv2;
pub mod iam;
pub mod instance;
pub mod lambda;
pub mod logs;
#[cfg(test)]
mod owner_tests;
pub mod rds;
pub mod route53;
pub mod s3;
pub mod secrets;
pub mod sns;
pub mod ssm;
#[cfg(test)]
pub(crate) mod test_fakes;
#[cfg(test)]
pub(crate) mod test_mocks;
pub mod wafv2;
pub mod wait;

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::future::Future;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::config::ProviderConfig;
use crate::diag::AttrPath;
use crate::error::{Error, Result};

/// The AWS side of a configured provider: clients built once and shared by every resource.
#[derive(Clone, Debug)]
pub struct Aws {
    pub region: String,
    pub default_tags: BTreeMap<String, String>,
    pub ec2: aws_sdk_ec2::Client,
    pub cognito: aws_sdk_cognitoidentityprovider::Client,
    pub rds: aws_sdk_rds::Client,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub autoscaling: aws_sdk_applicationautoscaling::Client,
    pub s3: aws_sdk_s3::Client,
    pub cloudfront: aws_sdk_cloudfront::Client,
    /// WAF for CloudFront: always in us-east-1, whatever `region` is.
    pub waf: aws_sdk_wafv2::Client,
    pub route53: aws_sdk_route53::Client,
    pub ecs: aws_sdk_ecs::Client,
    pub ecr: aws_sdk_ecr::Client,
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    pub iam: aws_sdk_iam::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    /// CloudWatch Logs in us-east-1, where a CloudFront web ACL's log group must be.
    pub waf_logs: aws_sdk_cloudwatchlogs::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    /// CloudWatch in us-east-1, where CloudFront and its web ACL publish their metrics.
    pub cloudwatch_global: aws_sdk_cloudwatch::Client,
    pub sns: aws_sdk_sns::Client,
    /// SNS in us-east-1, for the topic that alarms there notify.
    pub sns_global: aws_sdk_sns::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub ssm: aws_sdk_ssm::Client,
    /// The plugin's stop signal (Terraform's StopProvider): every operation's
    /// [`crate::ctx::Ctx`] ends when it fires.
    pub stop: crate::ctx::StopSignal,
}

impl Aws {
    /// CloudWatch in us-east-1 (`global`: CloudFront's and WAF's metrics) or in the provider's region.
    pub fn cloudwatch_at(&self, global: bool) -> &aws_sdk_cloudwatch::Client {
        if global {
            &self.cloudwatch_global
        } else {
            &self.cloudwatch
        }
    }

    /// CloudWatch Logs in us-east-1 (`global`: a CloudFront web ACL's logs) or in the provider's region.
    pub fn logs_at(&self, global: bool) -> &aws_sdk_cloudwatchlogs::Client {
        if global {
            &self.waf_logs
        } else {
            &self.logs
        }
    }

    pub async fn connect(config: &ProviderConfig, stop: crate::ctx::StopSignal) -> Result<Aws> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(https_client())
            .retry_config(
                RetryConfig::standard().with_max_attempts(config.max_retries.saturating_add(1)),
            );
        if let Some(region) = &config.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let (Some(access_key), Some(secret_key)) = (&config.access_key, &config.secret_key) {
            loader = loader.credentials_provider(Credentials::new(
                access_key,
                secret_key,
                None,
                None,
                "fansite-provider-block",
            ));
        }
        if let Some(profile) = &config.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(endpoint) = &config.endpoint {
            loader = loader.endpoint_url(endpoint);
        }
        let shared = loader.load().await;
        let Some(region) = shared.region().map(|r| r.to_string()) else {
            return Err(Error::Invalid {
                path: AttrPath::attr("region"),
                why: "No AWS region: set `region` in the provider block, or AWS_REGION.".into(),
            });
        };
        // One client per service, at its `endpoints {}` URL when given.
        macro_rules! client {
            ($sdk:ident, $key:literal) => {{
                let mut b = $sdk::config::Builder::from(&shared).interceptor(ProviderUserAgent);
                if let Some(url) = config.endpoints.get($key) {
                    b = b.endpoint_url(url);
                }
                $sdk::Client::from_conf(b.build())
            }};
            ($sdk:ident, $key:literal, global) => {{
                let mut b = $sdk::config::Builder::from(&shared)
                    .interceptor(ProviderUserAgent)
                    .region(Region::new(CLOUDFRONT_WAF_REGION));
                if let Some(url) = config.endpoints.get($key) {
                    b = b.endpoint_url(url);
                }
                $sdk::Client::from_conf(b.build())
            }};
        }
        Ok(Aws {
            region,
            default_tags: config.default_tags.clone(),
            ec2: client!(aws_sdk_ec2, "ec2"),
            cognito: client!(aws_sdk_cognitoidentityprovider, "cognito_idp"),
            rds: client!(aws_sdk_rds, "rds"),
            secrets: client!(aws_sdk_secretsmanager, "secretsmanager"),
            autoscaling: client!(aws_sdk_applicationautoscaling, "application_autoscaling"),
            s3: {
                let mut b =
                    aws_sdk_s3::config::Builder::from(&shared).interceptor(ProviderUserAgent);
                if let Some(url) = config.endpoints.get("s3") {
                    b = b.endpoint_url(url);
                }
                // emulator: a local endpoint has no per-bucket host names;
                // on AWS (no endpoint set) virtual-hosted style is kept.
                let custom = config.endpoint.is_some() || config.endpoints.contains_key("s3");
                aws_sdk_s3::Client::from_conf(b.force_path_style(custom).build())
            },
            cloudfront: client!(aws_sdk_cloudfront, "cloudfront"),
            waf: {
                let mut b = aws_sdk_wafv2::config::Builder::from(&shared)
                    .interceptor(ProviderUserAgent)
                    .region(Region::new(CLOUDFRONT_WAF_REGION));
                if let Some(url) = config.endpoints.get("wafv2") {
                    b = b.endpoint_url(url);
                }
                aws_sdk_wafv2::Client::from_conf(b.build())
            },
            waf_logs: {
                let mut b = aws_sdk_cloudwatchlogs::config::Builder::from(&shared)
                    .interceptor(ProviderUserAgent)
                    .region(Region::new(CLOUDFRONT_WAF_REGION));
                if let Some(url) = config.endpoints.get("logs") {
                    b = b.endpoint_url(url);
                }
                aws_sdk_cloudwatchlogs::Client::from_conf(b.build())
            },
            route53: client!(aws_sdk_route53, "route53"),
            ecs: client!(aws_sdk_ecs, "ecs"),
            ecr: client!(aws_sdk_ecr, "ecr"),
            elb: client!(aws_sdk_elasticloadbalancingv2, "elbv2"),
            iam: client!(aws_sdk_iam, "iam"),
            logs: client!(aws_sdk_cloudwatchlogs, "logs"),
            cloudwatch: client!(aws_sdk_cloudwatch, "cloudwatch"),
            cloudwatch_global: client!(aws_sdk_cloudwatch, "cloudwatch", global),
            sns: client!(aws_sdk_sns, "sns"),
            sns_global: client!(aws_sdk_sns, "sns", global),
            lambda: client!(aws_sdk_lambda, "lambda"),
            ssm: client!(aws_sdk_ssm, "ssm"),
            stop,
        })
    }
}

/// What every AWS call of this provider adds to its `User-Agent`: the
/// provider and its version, so that CloudTrail's `userAgent` and AWS support
/// can tell which release made a call.
pub const USER_AGENT: &str = concat!("fansite/", env!("CARGO_PKG_VERSION"));

/// Appends [`USER_AGENT`] to the SDK's own `User-Agent`. The SDK's app name
/// cannot carry a `/`, and the SDK writes its user agent just before signing;
/// SigV4 never signs `User-Agent`, so appending to it just before the request
/// is sent, after the SDK's own interceptors, leaves the signature valid.
#[derive(Debug)]
struct ProviderUserAgent;

impl Intercept for ProviderUserAgent {
    fn name(&self) -> &'static str {
        "ProviderUserAgent"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> std::result::Result<(), BoxError> {
        let headers = context.request_mut().headers_mut();
        let value = match headers.get("user-agent") {
            Some(sdk) => format!("{sdk} {USER_AGENT}"),
            None => USER_AGENT.to_string(),
        };
        headers.insert("user-agent", value);
        Ok(())
    }
}

/// An SDK builder refused a request the provider built: names the part.
pub fn build_error(part: &str, e: impl std::fmt::Display) -> Error {
    Error::Build {
        part: part.into(),
        message: e.to_string(),
    }
}

/// Treats "not found" as done, as every delete does.
pub fn gone_is_done(res: Result<()>) -> Result<()> {
    match res {
        Err(e) if e.is_not_found() => Ok(()),
        other => other,
    }
}

/// Treats "not found" as nothing there, as every describe does.
pub fn gone_is_none<T>(res: Result<T>) -> Result<Option<T>> {
    match res {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// The header in which CloudFront sends the origin secret to a service's
/// load balancer (a fansite_edge's origin custom header), and which that
/// load balancer's listener asks for when the service takes requests from
/// CloudFront only. AWS's pattern: "Restricting access to Application Load
/// Balancers" (CloudFront Developer Guide).
pub const ORIGIN_HEADER: &str = "X-Origin-Verify";

/// Tags by key, as every AWS service takes them.
pub type Tags = std::collections::BTreeMap<String, String>;

/// The tag on a part whose name is global to the account (an IAM role, an S3
/// bucket, a CloudFront-scope web ACL) that says which resource made it:
/// `<resource type>/<name>/<region>`. A part found by such a name is taken
/// over (a create that resumes) or deleted only when it carries this
/// resource's value: the same `name` in another region, another tool's part or
/// one made by hand is left alone.
pub const OWNER_TAG: &str = "fansite:owner";

/// The [`OWNER_TAG`] value of the resource `kind` (`fansite_service`, ...) named `name` in `region`.
pub fn owner(kind: &str, name: &str, region: &str) -> String {
    format!("{kind}/{name}/{region}")
}

/// `tags` with this resource's [`OWNER_TAG`].
pub fn with_owner(tags: &Tags, owner: &str) -> Tags {
    let mut t = tags.clone();
    t.insert(OWNER_TAG.to_string(), owner.to_string());
    t
}

/// Whether a part found by its global name is this resource's, from the
/// [`OWNER_TAG`] value it carries (`None`: it has none).
pub fn owned(found: Option<&str>, ours: &str) -> bool {
    found == Some(ours)
}

/// The refusal to take over `part`, a global name held by something else.
pub fn not_ours(part: &str, found: Option<&str>, ours: &str) -> Error {
    let whose = match found {
        Some(other) => format!("it belongs to {other} (its {OWNER_TAG} tag)"),
        None => format!("it has no {OWNER_TAG} tag, so it was not made by this resource"),
    };
    Error::Refused {
        action: "taking over".into(),
        part: part.into(),
        why: format!(
            "the name is global to the AWS account and already in use: {whose}. \
             Choose another `name`, or, if it is this resource's ({ours}), tag it {OWNER_TAG}={ours}"
        ),
    }
}

/// What a retag sends: the tags to set (new or changed) and the keys to remove.
pub fn tag_changes(had: &Tags, want: &Tags) -> (Tags, Vec<String>) {
    let set = want
        .iter()
        .filter(|(k, v)| had.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let removed = had
        .keys()
        .filter(|k| !want.contains_key(*k))
        .cloned()
        .collect();
    (set, removed)
}

/// Web ACLs for CloudFront (scope CLOUDFRONT) exist only in us-east-1.
pub const CLOUDFRONT_WAF_REGION: &str = "us-east-1";

/// Turns an SDK error into ours: the action, the part, AWS's code and message.
/// It never says "not found": only the operation's own error can tell that
/// (see [`not_found_if`]).
pub fn aws_error<E, R>(action: &str, part: &str, err: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: Debug,
{
    match err.code() {
        Some(code) => Error::Aws {
            action: action.to_string(),
            part: part.to_string(),
            code: code.to_string(),
            message: err.message().unwrap_or_default().to_string(),
        },
        None => Error::Request {
            action: action.to_string(),
            part: part.to_string(),
            message: DisplayErrorContext(&err).to_string(),
        },
    }
}

/// Turns an SDK error into ours: [`Error::NotFound`] when `gone` says the
/// operation's error means the part does not exist, else as [`aws_error`].
///
/// `gone` asks the operation's typed error, such as
/// `DescribeDBClustersError::is_db_cluster_not_found_fault`: each call names
/// the answers that mean "does not exist" for it. A code compared as a string
/// in `gone` is one the SDK has no variant for (EC2's, whose SDK models no
/// error shapes, and some of S3's), or one the local endpoint sends where AWS
/// sends another (each marked `emulator:`).
pub fn not_found_if<E, R>(
    action: &str,
    part: &str,
    err: SdkError<E, R>,
    gone: impl FnOnce(&E) -> bool,
) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: Debug,
{
    if err.as_service_error().is_some_and(gone) {
        Error::NotFound {
            action: action.to_string(),
            part: part.to_string(),
        }
    } else {
        aws_error(action, part, err)
    }
}

/// The shortest pause of an eventual-consistency retry. Each pause is a
/// tenth of the time retried so far, from this up to
/// [`EVENTUAL_CONSISTENCY_MAX_DELAY`] (as [`wait::pause_after`]): a pause
/// that doubled retried a role that became assumable after 10 s only after
/// 12.6 s; a tenth adds at most 1 s to it.
const EVENTUAL_CONSISTENCY_FIRST_DELAY: Duration = Duration::from_millis(200);
/// terraform-provider-aws polls its retries at most every 10 s
/// (`tfresource.RetryWhen`'s backoff); the same here.
const EVENTUAL_CONSISTENCY_MAX_DELAY: Duration = Duration::from_secs(10);

/// Runs `op` again while AWS answers one of `codes`, until the current
/// operation's deadline ([`crate::ctx::remaining`]); never a fixed count.
///
/// For answers AWS gives only until it catches up: a dependency that lingers
/// after its owner is deleted (`DependencyViolation`), a role not yet
/// assumable, a part still in use. Not found is *not* retried: a delete that
/// gets it is done at once. Each caller names its codes and, in a comment, the
/// AWS behaviour they answer.
pub async fn retry_eventual<T, F, Fut>(codes: &[&str], op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    retry_until_deadline(|e| e.code().is_some_and(|c| codes.contains(&c)), op).await
}

/// As [`retry_eventual`], for answers whose code alone does not tell a
/// passing state from a real error: each `(code, message part)` pair retries
/// an answer with that code whose message contains the part (an empty part
/// matches any message). For example Application Auto Scaling's
/// `ValidationException` "Unable to assume IAM role" while its service-linked
/// role is being made, which is a real error with any other message.
pub async fn retry_eventual_when<T, F, Fut>(answers: &[(&str, &str)], op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    retry_until_deadline(
        |e| answers.iter().any(|(code, part)| answered(e, code, part)),
        op,
    )
    .await
}

/// Whether AWS answered `code` with a message that contains `part` (any
/// message when `part` is empty).
pub fn answered(e: &Error, code: &str, part: &str) -> bool {
    match e {
        Error::Aws {
            code: c, message, ..
        } => c == code && message.contains(part),
        _ => false,
    }
}

/// Runs `op` again while what it names is not found, until the current
/// operation's deadline: for calls about a part that was just made (EC2 and
/// IAM document that a new resource may not be visible to other calls for a
/// while: "eventual consistency").
pub async fn retry_while_new<T, F, Fut>(op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    retry_until_deadline(Error::is_not_found, op).await
}

async fn retry_until_deadline<T, F, Fut>(passing: impl Fn(&Error) -> bool, mut op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let ctx = crate::ctx::current();
    let started = tokio::time::Instant::now();
    let mut tries = 1u32;
    loop {
        match op().await {
            Err(e) if passing(&e) => {
                let left = ctx.remaining();
                if left.is_zero() {
                    return Err(e);
                }
                tracing::info!(error = %e, tries, left_s = left.as_secs(), "retrying while AWS catches up");
                let delay = wait::pause_after(
                    started.elapsed(),
                    EVENTUAL_CONSISTENCY_FIRST_DELAY,
                    EVENTUAL_CONSISTENCY_MAX_DELAY,
                );
                tokio::time::sleep(delay.min(left)).await;
                tries += 1;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
#[path = "mod_tests.rs"]
mod tests;

/// The SDK's HTTP client on rustls with ring, the crypto tonic's TLS already
/// uses: one TLS stack in the binary (the SDK's default client would add
/// aws-lc-rs, a second one, and its C build). Trusted roots are the
/// platform's, as with the default client.
pub fn https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls;
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}
