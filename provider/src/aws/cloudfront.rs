//! CloudFront: the distribution in front of the site bucket (and the API),
//! its Origin Access Control, the function that serves the single-page app's
//! routes, and invalidations.

use std::time::Duration;

use aws_sdk_cloudfront::types::{
    Aliases, AllowedMethods, CacheBehavior, CacheBehaviors, CachedMethods, CustomErrorResponses,
    CustomHeaders, CustomOriginConfig, DefaultCacheBehavior, DistributionConfig, EventType,
    FunctionAssociation, FunctionAssociations, FunctionConfig, FunctionRuntime, FunctionStage,
    HttpVersion, InvalidationBatch, Method, MinimumProtocolVersion, Origin,
    OriginAccessControlConfig, OriginAccessControlOriginTypes, OriginAccessControlSigningBehaviors,
    OriginAccessControlSigningProtocols, OriginCustomHeader, OriginProtocolPolicy, Origins, Paths,
    PriceClass, S3OriginConfig, SslSupportMethod, Tag, Tags as CfTags, ViewerCertificate,
    ViewerProtocolPolicy,
};
use aws_sdk_cloudfront::Client;

use super::secrets::SecretValue;
use super::wait::{Missing, Seen, Wait};
use super::{
    aws_error, build_error, gone_is_done, gone_is_none, not_found_if, retry_eventual,
    retry_eventual_when, ORIGIN_HEADER,
};
use crate::error::{Error, Result};

pub use super::Tags;

/// AWS managed policies (the same ids in every account).
const CACHING_OPTIMIZED: &str = "658327ea-f89d-4fab-a63d-7e88639e58f6";
const CACHING_DISABLED: &str = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";
const ALL_VIEWER_EXCEPT_HOST_HEADER: &str = "b689b0a8-53d0-40ab-baf2-68738e2966ac";
const SECURITY_HEADERS: &str = "67f7725c-6f97-4210-82d7-5512b31e9d03";

const S3_ORIGIN: &str = "site";
const API_ORIGIN: &str = "api";

/// How a distribution's comment begins; the name of the edge that made it follows.
const EDGE_COMMENT: &str = "fansite_edge ";

/// The statuses a distribution has until it is gone: it is `Deployed` when
/// disabled and `InProgress` while a change reaches the edge locations
/// (terraform-provider-aws `waitDistributionDeleted`: pending `InProgress`,
/// `Deployed`).
const DISTRIBUTION_GOING: &[&str] = &["InProgress", "Deployed"];

/// An `If-Match` ETag that a change made meanwhile has outdated: read it again
/// and retry (terraform-provider-aws `resourceDistributionDelete` retries
/// PreconditionFailed and InvalidIfMatchVersion).
const STALE_ETAG: &[&str] = &["PreconditionFailed", "InvalidIfMatchVersion"];

/// What the resource sets on its distribution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DistSpec {
    pub name: String,
    pub bucket_domain: String,
    pub oac_id: String,
    pub api_origin: Option<String>,
    pub api_path_pattern: String,
    pub api_origin_protocol: String,
    pub aliases: Vec<String>,
    pub certificate_arn: Option<String>,
    pub price_class: String,
    pub web_acl_arn: String,
    /// The viewer-request function of the site's (default) behavior: the
    /// single-page app's routes get `/index.html` ([`SITE_ROUTES_CODE`]).
    pub site_routes_function_arn: Option<String>,
    /// What the API origin is sent in [`ORIGIN_HEADER`]: the service's origin
    /// secret, read at apply and never kept in state.
    pub api_origin_secret: Option<SecretValue>,
    pub enabled: bool,
}

/// A distribution as AWS describes it: what read compares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DistInfo {
    pub id: String,
    pub arn: String,
    pub domain_name: String,
    pub status: String,
    pub etag: String,
    pub caller_reference: String,
    pub enabled: bool,
    pub aliases: Vec<String>,
    pub price_class: String,
    pub web_acl_arn: String,
    pub certificate_arn: Option<String>,
    pub bucket_domain: Option<String>,
    pub api_origin: Option<String>,
    pub api_origin_protocol: Option<String>,
    pub api_path_pattern: Option<String>,
    /// What the API origin is sent in [`ORIGIN_HEADER`].
    pub api_origin_secret: Option<SecretValue>,
}

fn methods(all: bool, part: &str) -> Result<AllowedMethods> {
    let list: Vec<Method> = if all {
        vec![
            Method::Get,
            Method::Head,
            Method::Options,
            Method::Put,
            Method::Patch,
            Method::Post,
            Method::Delete,
        ]
    } else {
        vec![Method::Get, Method::Head]
    };
    AllowedMethods::builder()
        .quantity(list.len() as i32)
        .set_items(Some(list))
        .cached_methods(
            CachedMethods::builder()
                .quantity(2)
                .items(Method::Get)
                .items(Method::Head)
                .build()
                .map_err(|e| build_error(part, e))?,
        )
        .build()
        .map_err(|e| build_error(part, e))
}

fn config(s: &DistSpec, caller_reference: &str) -> Result<DistributionConfig> {
    let part = format!("distribution {:?}", s.name);
    let mut origins = vec![Origin::builder()
        .id(S3_ORIGIN)
        .domain_name(&s.bucket_domain)
        .origin_access_control_id(&s.oac_id)
        .s3_origin_config(S3OriginConfig::builder().origin_access_identity("").build())
        .build()
        .map_err(|e| build_error(&part, e))?];
    let mut behaviors = Vec::new();
    if let Some(api) = &s.api_origin {
        let protocol = match s.api_origin_protocol.as_str() {
            "http-only" => OriginProtocolPolicy::HttpOnly,
            "match-viewer" => OriginProtocolPolicy::MatchViewer,
            _ => OriginProtocolPolicy::HttpsOnly,
        };
        let headers = s
            .api_origin_secret
            .iter()
            .map(|v| {
                OriginCustomHeader::builder()
                    .header_name(ORIGIN_HEADER)
                    .header_value(v.expose())
                    .build()
                    .map_err(|e| build_error(&part, e))
            })
            .collect::<Result<Vec<_>>>()?;
        origins.push(
            Origin::builder()
                .id(API_ORIGIN)
                .domain_name(api)
                .custom_headers(
                    CustomHeaders::builder()
                        .quantity(headers.len() as i32)
                        .set_items(Some(headers))
                        .build()
                        .map_err(|e| build_error(&part, e))?,
                )
                .custom_origin_config(
                    CustomOriginConfig::builder()
                        .http_port(80)
                        .https_port(443)
                        .origin_protocol_policy(protocol)
                        .build()
                        .map_err(|e| build_error(&part, e))?,
                )
                .build()
                .map_err(|e| build_error(&part, e))?,
        );
        behaviors.push(
            CacheBehavior::builder()
                .path_pattern(&s.api_path_pattern)
                .target_origin_id(API_ORIGIN)
                .viewer_protocol_policy(ViewerProtocolPolicy::RedirectToHttps)
                .cache_policy_id(CACHING_DISABLED)
                .origin_request_policy_id(ALL_VIEWER_EXCEPT_HOST_HEADER)
                .response_headers_policy_id(SECURITY_HEADERS)
                .allowed_methods(methods(true, &part)?)
                .compress(true)
                .build()
                .map_err(|e| build_error(&part, e))?,
        );
    }
    let cert = match &s.certificate_arn {
        Some(arn) => ViewerCertificate::builder()
            .acm_certificate_arn(arn)
            .ssl_support_method(SslSupportMethod::SniOnly)
            .minimum_protocol_version(MinimumProtocolVersion::TlSv122021)
            .build(),
        None => ViewerCertificate::builder()
            .cloud_front_default_certificate(true)
            .build(),
    };
    DistributionConfig::builder()
        .caller_reference(caller_reference)
        .comment(format!("{EDGE_COMMENT}{}", s.name))
        .enabled(s.enabled)
        .default_root_object("index.html")
        .origins(
            Origins::builder()
                .quantity(origins.len() as i32)
                .set_items(Some(origins))
                .build()
                .map_err(|e| build_error(&part, e))?,
        )
        .default_cache_behavior(
            DefaultCacheBehavior::builder()
                .target_origin_id(S3_ORIGIN)
                .viewer_protocol_policy(ViewerProtocolPolicy::RedirectToHttps)
                .cache_policy_id(CACHING_OPTIMIZED)
                .response_headers_policy_id(SECURITY_HEADERS)
                .allowed_methods(methods(false, &part)?)
                .compress(true)
                .function_associations(site_routes(s, &part)?)
                .build()
                .map_err(|e| build_error(&part, e))?,
        )
        .cache_behaviors(
            CacheBehaviors::builder()
                .quantity(behaviors.len() as i32)
                .set_items(Some(behaviors))
                .build()
                .map_err(|e| build_error(&part, e))?,
        )
        // No custom error responses: they apply to every behavior, so a
        // 403/404 → /index.html rule would turn the API's 404s and WAF's 403s
        // into 200s with the app's HTML. The app's routes are served by the
        // default behavior's function instead.
        .custom_error_responses(
            CustomErrorResponses::builder()
                .quantity(0)
                .build()
                .map_err(|e| build_error(&part, e))?,
        )
        .aliases(
            Aliases::builder()
                .quantity(s.aliases.len() as i32)
                .set_items(Some(s.aliases.clone()))
                .build()
                .map_err(|e| build_error(&part, e))?,
        )
        .viewer_certificate(cert)
        .price_class(PriceClass::from(s.price_class.as_str()))
        .http_version(HttpVersion::Http2and3)
        .is_ipv6_enabled(true)
        .web_acl_id(&s.web_acl_arn)
        .build()
        .map_err(|e| build_error(&part, e))
}

/// The default behavior's function associations: the site-routes function
/// on viewer requests, when it is made.
fn site_routes(s: &DistSpec, part: &str) -> Result<FunctionAssociations> {
    let items = s
        .site_routes_function_arn
        .iter()
        .map(|arn| {
            FunctionAssociation::builder()
                .function_arn(arn)
                .event_type(EventType::ViewerRequest)
                .build()
                .map_err(|e| build_error(part, e))
        })
        .collect::<Result<Vec<_>>>()?;
    FunctionAssociations::builder()
        .quantity(items.len() as i32)
        .set_items(Some(items))
        .build()
        .map_err(|e| build_error(part, e))
}

/// The CloudFront Function (cloudfront-js-2.0) on the site's behavior that
/// serves `/index.html` for the single-page app's routes (paths without a file
/// extension), and nothing else: the API's behavior has none, so the API's
/// statuses reach the client unchanged.
pub const SITE_ROUTES_CODE: &str = include_str!("site_routes.js");

/// The function's comment: which edge it belongs to. A function found by its
/// name is taken over only when it carries this edge's comment (functions
/// take no tags at creation).
pub fn site_routes_comment(edge: &str) -> String {
    format!("fansite_edge {edge}: single-page app routes to /index.html")
}

/// The function's name for the edge named `edge` (a bucket name): CloudFront
/// function names are 1 to 64 letters, digits, `-` and `_`, global to the
/// account. A name too long keeps a stable hash of the whole.
pub fn site_routes_name(edge: &str) -> String {
    let base = edge.replace('.', "-");
    let full = format!("{base}-spa");
    if full.len() <= 64 {
        return full;
    }
    // FNV-1a, 32 bits: the same name on every version of the provider.
    let hash = edge.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    format!("{}-{hash:08x}-spa", &base[..51])
}

/// A function as CloudFront describes it (its DEVELOPMENT stage).
struct FunctionSeen {
    arn: String,
    etag: String,
    comment: String,
}

async fn describe_function(c: &Client, name: &str) -> Result<Option<FunctionSeen>> {
    let part = format!("CloudFront function {name:?}");
    let out = gone_is_none(
        c.describe_function()
            .name(name)
            .stage(FunctionStage::Development)
            .send()
            .await
            .map_err(|e| not_found_if("describing", &part, e, |e| e.is_no_such_function_exists())),
    )?;
    Ok(out.and_then(|out| {
        out.function_summary().map(|f| FunctionSeen {
            arn: f
                .function_metadata()
                .map(|m| m.function_arn().to_string())
                .unwrap_or_default(),
            etag: out.e_tag().unwrap_or_default().to_string(),
            comment: f
                .function_config()
                .map(|c| c.comment().to_string())
                .unwrap_or_default(),
        })
    }))
}

/// The ARN of the edge's site-routes function, when it exists and is the edge's.
pub async fn find_site_routes(c: &Client, edge: &str) -> Result<Option<String>> {
    Ok(describe_function(c, &site_routes_name(edge))
        .await?
        .filter(|f| f.comment == site_routes_comment(edge))
        .map(|f| f.arn))
}

/// Makes the edge's site-routes function, or takes over the one of this
/// edge's that a failed create or an earlier edge left (its code brought up
/// to date), and publishes it to LIVE, the stage a distribution runs. Returns
/// its ARN. A function of that name that is not this edge's is refused.
pub async fn ensure_site_routes(c: &Client, edge: &str) -> Result<String> {
    let name = site_routes_name(edge);
    let part = format!("CloudFront function {name:?}");
    let comment = site_routes_comment(edge);
    let config = FunctionConfig::builder()
        .comment(&comment)
        .runtime(FunctionRuntime::CloudfrontJs20)
        .build()
        .map_err(|e| build_error(&part, e))?;
    let code = aws_sdk_cloudfront::primitives::Blob::new(SITE_ROUTES_CODE.as_bytes());
    let (arn, etag) = match describe_function(c, &name).await? {
        None => {
            let out = c
                .create_function()
                .name(&name)
                .function_config(config)
                .function_code(code)
                .send()
                .await
                .map_err(|e| aws_error("creating", &part, e))?;
            let arn = out
                .function_summary()
                .and_then(|f| f.function_metadata())
                .map(|m| m.function_arn().to_string())
                .unwrap_or_default();
            (arn, out.e_tag().unwrap_or_default().to_string())
        }
        Some(f) if f.comment != comment => {
            return Err(Error::Refused {
                action: "taking over".into(),
                part,
                why: format!("CloudFront function names are global to the AWS account, and this one is not fansite_edge {edge:?}'s (its comment is {:?}). Choose another `name`, or delete that function.", f.comment),
            })
        }
        Some(f) => {
            let had = c
                .get_function()
                .name(&name)
                .stage(FunctionStage::Development)
                .send()
                .await
                .map_err(|e| aws_error("reading", &part, e))?;
            let same = had
                .function_code()
                .is_some_and(|b| b.as_ref() == SITE_ROUTES_CODE.as_bytes());
            if same {
                (f.arn, f.etag)
            } else {
                let out = c
                    .update_function()
                    .name(&name)
                    .if_match(&f.etag)
                    .function_config(config)
                    .function_code(code)
                    .send()
                    .await
                    .map_err(|e| aws_error("updating", &part, e))?;
                (f.arn, out.e_tag().unwrap_or_default().to_string())
            }
        }
    };
    c.publish_function()
        .name(&name)
        .if_match(etag)
        .send()
        .await
        .map_err(|e| aws_error("publishing", &part, e))?;
    Ok(arn)
}

/// Deletes the edge's site-routes function. Gone is done, and so is a
/// function of that name that is not this edge's (it is left alone).
///
/// CloudFront refuses it (`FunctionInUse`) while a distribution is associated
/// with it, and for a while after that distribution is deleted (CloudFront
/// API, DeleteFunction: "you can't delete a function if it's associated with
/// a cache behavior"; terraform-provider-aws deletes the distribution first):
/// retried until the operation's deadline. A stale ETag is read again.
pub async fn delete_site_routes(c: &Client, edge: &str) -> Result<()> {
    let name = site_routes_name(edge);
    let part = format!("CloudFront function {name:?}");
    let codes = [&["FunctionInUse"][..], STALE_ETAG].concat();
    gone_is_done(
        retry_eventual(&codes, || async {
            let Some(f) = describe_function(c, &name).await? else {
                return Ok(());
            };
            if f.comment != site_routes_comment(edge) {
                return Ok(());
            }
            c.delete_function()
                .name(&name)
                .if_match(f.etag)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| not_found_if("deleting", &part, e, |e| e.is_no_such_function_exists()))
        })
        .await,
    )
}

/// Turns CloudFront's additional metrics of the distribution on or off: the
/// cache hit rate, origin latency and error rates by status (401, 403, 404,
/// 502, 503, 504) in CloudWatch (us-east-1), each minute. CreateMonitoringSubscription
/// sets the status whether or not a subscription exists (terraform-provider-aws
/// `aws_cloudfront_monitoring_subscription` creates and updates with it).
/// Each metric is billed as a CloudWatch custom metric.
pub async fn set_additional_metrics(c: &Client, id: &str, on: bool) -> Result<()> {
    use aws_sdk_cloudfront::types::{
        MonitoringSubscription, RealtimeMetricsSubscriptionConfig,
        RealtimeMetricsSubscriptionStatus,
    };
    let part = format!("additional metrics of distribution {id}");
    let status = if on {
        RealtimeMetricsSubscriptionStatus::Enabled
    } else {
        RealtimeMetricsSubscriptionStatus::Disabled
    };
    c.create_monitoring_subscription()
        .distribution_id(id)
        .monitoring_subscription(
            MonitoringSubscription::builder()
                .realtime_metrics_subscription_config(
                    RealtimeMetricsSubscriptionConfig::builder()
                        .realtime_metrics_subscription_status(status)
                        .build()
                        .map_err(|e| build_error(&part, e))?,
                )
                .build(),
        )
        .send()
        .await
        .map_err(|e| aws_error("setting", &part, e))?;
    Ok(())
}

/// Whether the distribution's additional metrics are on (no subscription: off).
pub async fn additional_metrics(c: &Client, id: &str) -> Result<bool> {
    use aws_sdk_cloudfront::types::RealtimeMetricsSubscriptionStatus;
    let part = format!("additional metrics of distribution {id}");
    let out = gone_is_none(
        c.get_monitoring_subscription()
            .distribution_id(id)
            .send()
            .await
            .map_err(|e| {
                not_found_if("reading", &part, e, |e| {
                    e.is_no_such_monitoring_subscription() || e.is_no_such_distribution()
                })
            }),
    )?;
    Ok(out
        .as_ref()
        .and_then(|out| out.monitoring_subscription())
        .and_then(|m| m.realtime_metrics_subscription_config())
        .is_some_and(|r| {
            r.realtime_metrics_subscription_status() == &RealtimeMetricsSubscriptionStatus::Enabled
        }))
}

/// Removes the distribution's monitoring subscription. None is done.
pub async fn delete_additional_metrics(c: &Client, id: &str) -> Result<()> {
    let part = format!("additional metrics of distribution {id}");
    gone_is_done(
        c.delete_monitoring_subscription()
            .distribution_id(id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                not_found_if("deleting", &part, e, |e| {
                    e.is_no_such_monitoring_subscription() || e.is_no_such_distribution()
                })
            }),
    )
}

pub async fn create_oac(c: &Client, name: &str) -> Result<String> {
    let part = format!("origin access control {name:?}");
    let out = c
        .create_origin_access_control()
        .origin_access_control_config(
            OriginAccessControlConfig::builder()
                .name(name)
                .description("Lets only its CloudFront distribution read the site bucket")
                .origin_access_control_origin_type(OriginAccessControlOriginTypes::S3)
                .signing_behavior(OriginAccessControlSigningBehaviors::Always)
                .signing_protocol(OriginAccessControlSigningProtocols::Sigv4)
                .build()
                .map_err(|e| build_error(&part, e))?,
        )
        .send()
        .await
        .map_err(|e| aws_error("creating", &part, e))?;
    Ok(out
        .origin_access_control()
        .map(|o| o.id().to_string())
        .unwrap_or_default())
}

/// The id of the origin access control with this name, if any.
pub async fn find_oac(c: &Client, name: &str) -> Result<Option<String>> {
    let out = c
        .list_origin_access_controls()
        .send()
        .await
        .map_err(|e| aws_error("listing", "origin access controls", e))?;
    Ok(out
        .origin_access_control_list()
        .map(|l| l.items())
        .unwrap_or_default()
        .iter()
        .find(|o| o.name() == name)
        .map(|o| o.id().to_string()))
}

/// Deletes the origin access control. Gone is done.
///
/// CloudFront refuses it (`OriginAccessControlInUse`) while a distribution
/// uses it, and for a while after that distribution is deleted, until every
/// edge location has let go of it (CloudFront API, DeleteOriginAccessControl;
/// terraform-provider-aws waits for the distribution to be deleted first): the
/// delete is retried until the operation's deadline. A stale ETag is read again.
pub async fn delete_oac(c: &Client, id: &str) -> Result<()> {
    let part = format!("origin access control {id}");
    let codes = [&["OriginAccessControlInUse"][..], STALE_ETAG].concat();
    gone_is_done(
        retry_eventual(&codes, || async {
            let etag = match c.get_origin_access_control().id(id).send().await {
                Ok(o) => o.e_tag().unwrap_or_default().to_string(),
                Err(e) => {
                    return Err(not_found_if("describing", &part, e, |e| {
                        e.is_no_such_origin_access_control()
                    }))
                }
            };
            c.delete_origin_access_control()
                .id(id)
                .if_match(etag)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| {
                    not_found_if("deleting", &part, e, |e| {
                        e.is_no_such_origin_access_control()
                    })
                })
        })
        .await,
    )
}

pub async fn create_distribution(
    c: &Client,
    s: &DistSpec,
    caller_reference: &str,
    tags: &Tags,
) -> Result<DistInfo> {
    let part = format!("distribution {:?}", s.name);
    let tag_items = tags
        .iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| build_error(&part, e))
        })
        .collect::<Result<Vec<_>>>()?;
    let request = aws_sdk_cloudfront::types::DistributionConfigWithTags::builder()
        .distribution_config(config(s, caller_reference)?)
        .tags(CfTags::builder().set_items(Some(tag_items)).build())
        .build();
    // A web ACL made seconds ago may not be readable by CloudFront yet:
    // "InvalidWebACLId: Unable to verify read permissions on Web ACL. Please
    // retry the request." (aws/aws-sdk-java#2901). Any other InvalidWebACLId
    // is a real error.
    let out = retry_eventual_when(&[("InvalidWebACLId", "retry")], || async {
        c.create_distribution_with_tags()
            .distribution_config_with_tags(request.clone())
            .send()
            .await
            .map_err(|e| aws_error("creating", &part, e))
    })
    .await?;
    let d = out.distribution().ok_or_else(|| Error::Incomplete {
        action: "creating".into(),
        part: part.clone(),
        missing: "distribution".into(),
    })?;
    Ok(info(d, out.e_tag().unwrap_or_default()))
}

fn info(d: &aws_sdk_cloudfront::types::Distribution, etag: &str) -> DistInfo {
    let cfg = d.distribution_config();
    let origins: &[Origin] = cfg
        .and_then(|c| c.origins())
        .map(|o| o.items())
        .unwrap_or_default();
    let api = origins.iter().find(|o| o.id() == API_ORIGIN);
    let s3 = origins.iter().find(|o| o.id() == S3_ORIGIN);
    let api_path = cfg
        .and_then(|c| c.cache_behaviors())
        .and_then(|b| {
            b.items()
                .iter()
                .find(|b| b.target_origin_id() == API_ORIGIN)
        })
        .map(|b| b.path_pattern().to_string());
    DistInfo {
        id: d.id().to_string(),
        arn: d.arn().to_string(),
        domain_name: d.domain_name().to_string(),
        status: d.status().to_string(),
        etag: etag.to_string(),
        caller_reference: cfg
            .map(|c| c.caller_reference().to_string())
            .unwrap_or_default(),
        enabled: cfg.is_some_and(|c| c.enabled()),
        aliases: cfg
            .and_then(|c| c.aliases())
            .map(|a| a.items().to_vec())
            .unwrap_or_default(),
        price_class: cfg
            .and_then(|c| c.price_class())
            .map(|p| p.as_str().to_string())
            .unwrap_or_default(),
        web_acl_arn: cfg
            .and_then(|c| c.web_acl_id())
            .unwrap_or_default()
            .to_string(),
        certificate_arn: cfg
            .and_then(|c| c.viewer_certificate())
            .and_then(|v| v.acm_certificate_arn())
            .filter(|a| !a.is_empty())
            .map(str::to_string),
        bucket_domain: s3.map(|o| o.domain_name().to_string()),
        api_origin: api.map(|o| o.domain_name().to_string()),
        api_origin_protocol: api
            .and_then(|o| o.custom_origin_config())
            .map(|c| c.origin_protocol_policy().as_str().to_string()),
        api_path_pattern: api_path,
        api_origin_secret: api
            .and_then(|o| o.custom_headers())
            .and_then(|h| {
                h.items()
                    .iter()
                    .find(|h| h.header_name().eq_ignore_ascii_case(ORIGIN_HEADER))
            })
            .map(|h| SecretValue::new(h.header_value())),
    }
}

/// A distribution as ListDistributions summarizes it: what says whose it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DistSummary {
    pub id: String,
    /// The edge its comment names, when a fansite_edge made it.
    pub edge: Option<String>,
    /// The domain of its site (S3) origin.
    pub bucket_domain: Option<String>,
}

/// Every distribution of the account: ListDistributions, paged (it takes no filter).
pub async fn list_distributions(c: &Client) -> Result<Vec<DistSummary>> {
    let mut out = Vec::new();
    let mut marker = None;
    loop {
        let page = c
            .list_distributions()
            .set_marker(marker)
            .send()
            .await
            .map_err(|e| aws_error("listing", "distributions", e))?;
        let Some(list) = page.distribution_list() else {
            return Ok(out);
        };
        out.extend(list.items().iter().map(|d| {
            DistSummary {
                id: d.id().to_string(),
                edge: d
                    .comment()
                    .strip_prefix(EDGE_COMMENT)
                    .filter(|name| !name.is_empty())
                    .map(str::to_string),
                bucket_domain: d
                    .origins()
                    .and_then(|o| o.items().iter().find(|o| o.id() == S3_ORIGIN))
                    .map(|o| o.domain_name().to_string()),
            }
        }));
        marker = list
            .next_marker()
            .filter(|m| !m.is_empty())
            .map(str::to_string);
        if !list.is_truncated() || marker.is_none() {
            return Ok(out);
        }
    }
}

/// The distribution, or `None` when it is gone.
pub async fn get_distribution(c: &Client, id: &str) -> Result<Option<DistInfo>> {
    match c.get_distribution().id(id).send().await {
        Ok(out) => Ok(out
            .distribution()
            .map(|d| info(d, out.e_tag().unwrap_or_default()))),
        Err(e) => {
            let e = not_found_if("describing", &format!("distribution {id}"), e, |e| {
                e.is_no_such_distribution()
            });
            if e.is_not_found() {
                Ok(None)
            } else {
                Err(e)
            }
        }
    }
}

pub async fn update_distribution(
    c: &Client,
    id: &str,
    etag: &str,
    s: &DistSpec,
    caller_reference: &str,
) -> Result<()> {
    c.update_distribution()
        .id(id)
        .if_match(etag)
        .distribution_config(config(s, caller_reference)?)
        .send()
        .await
        .map_err(|e| aws_error("updating", &format!("distribution {id}"), e))?;
    Ok(())
}

/// What a poll of the distribution sees: its status (`InProgress`, `Deployed`).
async fn distribution_seen(c: &Client, id: &str) -> Result<Option<Seen>> {
    Ok(get_distribution(c, id)
        .await?
        .map(|d| Seen::status(d.status)))
}

/// A distribution change reaches every edge location in 5–15 minutes (AWS
/// documentation): polls until it is `Deployed` (terraform-provider-aws
/// `waitDistributionDeployed`: pending `InProgress`, target `Deployed`). A
/// distribution just made may not be visible for a moment.
pub async fn wait_deployed(c: &Client, id: &str, timeout: Duration) -> Result<()> {
    wait_status(c, id, Missing::WhileNew, timeout).await
}

async fn wait_status(c: &Client, id: &str, missing: Missing, timeout: Duration) -> Result<()> {
    let part = format!("distribution {id}");
    Wait {
        part: &part,
        goal: "deployed",
        done: &["Deployed"],
        pending: &["InProgress"],
        missing,
        timeout,
    }
    .until(|| distribution_seen(c, id))
    .await
    .map(|_| ())
}

/// Turns the distribution off, changing only `Enabled` in the configuration
/// AWS has (terraform-provider-aws `disableDistribution`): a configuration
/// rebuilt from state could name a certificate or access control that is gone
/// since, and the update would fail. Gone is done.
async fn disable_distribution(c: &Client, id: &str) -> Result<()> {
    let part = format!("distribution {id}");
    retry_eventual(STALE_ETAG, || async {
        let out = c
            .get_distribution_config()
            .id(id)
            .send()
            .await
            .map_err(|e| not_found_if("describing", &part, e, |e| e.is_no_such_distribution()))?;
        let Some(mut cfg) = out.distribution_config().cloned() else {
            return Err(Error::Incomplete {
                action: "describing".into(),
                part: part.clone(),
                missing: "distribution config".into(),
            });
        };
        if !cfg.enabled {
            return Ok(());
        }
        cfg.enabled = false;
        c.update_distribution()
            .id(id)
            .if_match(out.e_tag().unwrap_or_default())
            .distribution_config(cfg)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| not_found_if("disabling", &part, e, |e| e.is_no_such_distribution()))
    })
    .await
}

/// Deletes the distribution as CloudFront requires: disabled, and that
/// deployed, then DeleteDistribution with the current ETag; then waits until
/// it is gone, so that its origin access control and web ACL can go next.
/// Gone is done.
pub async fn delete_distribution(c: &Client, id: &str, timeout: Duration) -> Result<()> {
    let part = format!("distribution {id}");
    let Some(d) = get_distribution(c, id).await? else {
        return Ok(());
    };
    // A change still deploying is waited for first (terraform-provider-aws
    // `disableDistribution`), then the disabling is.
    // A distribution that goes meanwhile is done: not found ends these waits.
    if d.status != "Deployed" {
        gone_is_done(wait_status(c, id, Missing::Fails, timeout).await)?;
    }
    if d.enabled {
        gone_is_done(disable_distribution(c, id).await)?;
        gone_is_done(wait_status(c, id, Missing::Fails, timeout).await)?;
    }
    // "DistributionNotDisabled" until the disabling is seen everywhere
    // (terraform-provider-aws retries it), and a stale ETag: read again.
    let codes = [&["DistributionNotDisabled"][..], STALE_ETAG].concat();
    let deleted = retry_eventual(&codes, || async {
        let Some(d) = get_distribution(c, id).await? else {
            return Ok(());
        };
        c.delete_distribution()
            .id(id)
            .if_match(d.etag)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| not_found_if("deleting", &part, e, |e| e.is_no_such_distribution()))
    })
    .await;
    gone_is_done(deleted)?;
    Wait {
        part: &part,
        goal: "deleted",
        done: &[],
        pending: DISTRIBUTION_GOING,
        missing: Missing::Done,
        timeout,
    }
    .until(|| distribution_seen(c, id))
    .await
    .map(|_| ())
}

/// Invalidates every path, and waits until the edge caches have dropped them.
pub async fn invalidate_all(
    c: &Client,
    id: &str,
    caller_reference: &str,
    timeout: Duration,
) -> Result<String> {
    let inv = create_invalidation(c, id, &["/*".to_string()], caller_reference).await?;
    wait_invalidation_completed(c, id, &inv, timeout).await?;
    Ok(inv)
}

/// Asks CloudFront to drop `paths` (each starting with `/`, `*` at the end
/// for a prefix) from every edge cache; returns the invalidation's id.
/// `caller_reference` must be new for each invalidation: CloudFront takes a
/// reference it has seen as a retry of that request (CreateInvalidation API,
/// `CallerReference`).
pub async fn create_invalidation(
    c: &Client,
    id: &str,
    paths: &[String],
    caller_reference: &str,
) -> Result<String> {
    let part = format!("invalidation of distribution {id}");
    let quantity = i32::try_from(paths.len()).map_err(|e| build_error(&part, e))?;
    let out = c
        .create_invalidation()
        .distribution_id(id)
        .invalidation_batch(
            InvalidationBatch::builder()
                .caller_reference(caller_reference)
                .paths(
                    Paths::builder()
                        .quantity(quantity)
                        .set_items(Some(paths.to_vec()))
                        .build()
                        .map_err(|e| build_error(&part, e))?,
                )
                .build()
                .map_err(|e| build_error(&part, e))?,
        )
        .send()
        .await
        .map_err(|e| not_found_if("creating", &part, e, |e| e.is_no_such_distribution()))?;
    out.invalidation()
        .map(|i| i.id().to_string())
        .filter(|i| !i.is_empty())
        .ok_or_else(|| Error::Incomplete {
            action: "creating".into(),
            part,
            missing: "invalidation id".into(),
        })
}

/// Polls the invalidation `inv` of distribution `id` until it is
/// `Completed`: the edge caches have dropped its paths (the SDK's
/// `InvalidationCompleted` waiter: pending `InProgress`, target `Completed`).
pub async fn wait_invalidation_completed(
    c: &Client,
    id: &str,
    inv: &str,
    timeout: Duration,
) -> Result<()> {
    let part = format!("invalidation {inv} of distribution {id}");
    // emulator: the local endpoint says "COMPLETED" where AWS says
    // "Completed" (the only status the SDK's waiter accepts); the status is
    // compared without case.
    Wait {
        part: &part,
        goal: "completed",
        done: &["Completed"],
        pending: &["InProgress"],
        missing: Missing::Fails,
        timeout,
    }
    .until(|| async {
        let out = c
            .get_invalidation()
            .distribution_id(id)
            .id(inv)
            .send()
            .await
            .map_err(|e| {
                not_found_if("waiting for", &part, e, |e| {
                    e.is_no_such_invalidation() || e.is_no_such_distribution()
                })
            })?;
        Ok(out.invalidation().map(|i| {
            let status = i.status();
            if status.eq_ignore_ascii_case("completed") {
                Seen::status("Completed")
            } else if status.eq_ignore_ascii_case("inprogress") {
                Seen::status("InProgress")
            } else {
                Seen::status(status)
            }
        }))
    })
    .await
    .map(|_| ())
}

pub async fn tags(c: &Client, arn: &str) -> Result<Tags> {
    let out = c
        .list_tags_for_resource()
        .resource(arn)
        .send()
        .await
        .map_err(|e| aws_error("listing tags of", arn, e))?;
    Ok(out
        .tags()
        .map(|t| t.items())
        .unwrap_or_default()
        .iter()
        .map(|t| {
            (
                t.key().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect())
}

pub async fn set_tags(c: &Client, arn: &str, had: &Tags, want: &Tags) -> Result<()> {
    let part = arn.to_string();
    let changed = want
        .iter()
        .filter(|(k, v)| had.get(*k) != Some(*v))
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| build_error(&part, e))
        })
        .collect::<Result<Vec<_>>>()?;
    if !changed.is_empty() {
        c.tag_resource()
            .resource(arn)
            .tags(CfTags::builder().set_items(Some(changed)).build())
            .send()
            .await
            .map_err(|e| aws_error("tagging", &part, e))?;
    }
    let removed: Vec<String> = had
        .keys()
        .filter(|k| !want.contains_key(*k))
        .cloned()
        .collect();
    if !removed.is_empty() {
        c.untag_resource()
            .resource(arn)
            .tag_keys(
                aws_sdk_cloudfront::types::TagKeys::builder()
                    .set_items(Some(removed))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| aws_error("untagging", &part, e))?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "cloudfront_tests.rs"]
mod tests;
