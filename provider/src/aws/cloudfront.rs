//! CloudFront: the distribution in front of the site bucket (and the API),
//! its Origin Access Control, and invalidations.

use std::time::Duration;

use aws_sdk_cloudfront::client::Waiters;
use aws_sdk_cloudfront::types::{
    Aliases, AllowedMethods, CacheBehavior, CacheBehaviors, CachedMethods, CustomErrorResponse,
    CustomErrorResponses, CustomOriginConfig, DefaultCacheBehavior, DistributionConfig,
    HttpVersion, InvalidationBatch, Method, MinimumProtocolVersion, Origin,
    OriginAccessControlConfig, OriginAccessControlOriginTypes, OriginAccessControlSigningBehaviors,
    OriginAccessControlSigningProtocols, OriginProtocolPolicy, Origins, Paths, PriceClass,
    S3OriginConfig, SslSupportMethod, Tag, Tags as CfTags, ViewerCertificate, ViewerProtocolPolicy,
};
use aws_sdk_cloudfront::Client;

use super::{aws_error, build_error, not_found_if, waiter_error};
use crate::error::{Error, Result};

pub use super::Tags;

/// AWS managed policies (the same ids in every account).
const CACHING_OPTIMIZED: &str = "658327ea-f89d-4fab-a63d-7e88639e58f6";
const CACHING_DISABLED: &str = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";
const ALL_VIEWER_EXCEPT_HOST_HEADER: &str = "b689b0a8-53d0-40ab-baf2-68738e2966ac";
const SECURITY_HEADERS: &str = "67f7725c-6f97-4210-82d7-5512b31e9d03";

const S3_ORIGIN: &str = "site";
/// Invalidations of /* take one to a few minutes (AWS documentation): a poll every 10 s.
const INVALIDATION_POLL: Duration = Duration::from_secs(10);
const API_ORIGIN: &str = "api";

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
        origins.push(
            Origin::builder()
                .id(API_ORIGIN)
                .domain_name(api)
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
    let errors = [403, 404]
        .into_iter()
        .map(|code| {
            CustomErrorResponse::builder()
                .error_code(code)
                .response_page_path("/index.html")
                .response_code("200")
                .error_caching_min_ttl(10)
                .build()
                .map_err(|e| build_error(&part, e))
        })
        .collect::<Result<Vec<_>>>()?;
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
        .comment(format!("fansite_edge {}", s.name))
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
        .custom_error_responses(
            CustomErrorResponses::builder()
                .quantity(errors.len() as i32)
                .set_items(Some(errors))
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

pub async fn delete_oac(c: &Client, id: &str) -> Result<()> {
    let part = format!("origin access control {id}");
    let etag = match c.get_origin_access_control().id(id).send().await {
        Ok(o) => o.e_tag().unwrap_or_default().to_string(),
        Err(e) => {
            let e = not_found_if("describing", &part, e, |e| {
                e.is_no_such_origin_access_control()
            });
            return if e.is_not_found() { Ok(()) } else { Err(e) };
        }
    };
    match c
        .delete_origin_access_control()
        .id(id)
        .if_match(etag)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) => {
            let e = not_found_if("deleting", &part, e, |e| {
                e.is_no_such_origin_access_control()
            });
            if e.is_not_found() {
                Ok(())
            } else {
                Err(e)
            }
        }
    }
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
    let out = c
        .create_distribution_with_tags()
        .distribution_config_with_tags(
            aws_sdk_cloudfront::types::DistributionConfigWithTags::builder()
                .distribution_config(config(s, caller_reference)?)
                .tags(CfTags::builder().set_items(Some(tag_items)).build())
                .build(),
        )
        .send()
        .await
        .map_err(|e| aws_error("creating", &part, e))?;
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

/// A distribution change reaches every edge location in 5–15 minutes (AWS
/// documentation); the waiter polls until it is deployed or `timeout`.
pub async fn wait_deployed(c: &Client, id: &str, timeout: Duration) -> Result<()> {
    c.wait_until_distribution_deployed()
        .id(id)
        .wait(timeout)
        .await
        .map(|_| ())
        .map_err(|e| {
            waiter_error(
                "waiting for",
                &format!("distribution {id}"),
                "not deployed",
                timeout,
                e,
                |e| e.is_no_such_distribution(),
            )
        })
}

/// Disables the distribution, waits until that is deployed, then deletes it. Gone is done.
pub async fn delete_distribution(
    c: &Client,
    id: &str,
    spec: &DistSpec,
    timeout: Duration,
) -> Result<()> {
    let Some(d) = get_distribution(c, id).await? else {
        return Ok(());
    };
    let etag = if d.enabled {
        let off = DistSpec {
            enabled: false,
            ..spec.clone()
        };
        update_distribution(c, id, &d.etag, &off, &d.caller_reference).await?;
        wait_deployed(c, id, timeout).await?;
        get_distribution(c, id)
            .await?
            .map(|d| d.etag)
            .unwrap_or_default()
    } else {
        d.etag
    };
    match c.delete_distribution().id(id).if_match(etag).send().await {
        Ok(_) => Ok(()),
        Err(e) => {
            let e = not_found_if("deleting", &format!("distribution {id}"), e, |e| {
                e.is_no_such_distribution()
            });
            if e.is_not_found() {
                Ok(())
            } else {
                Err(e)
            }
        }
    }
}

/// Invalidates every path, and waits until the edge caches have dropped them.
pub async fn invalidate_all(
    c: &Client,
    id: &str,
    caller_reference: &str,
    timeout: Duration,
) -> Result<String> {
    let part = format!("invalidation of distribution {id}");
    let out = c
        .create_invalidation()
        .distribution_id(id)
        .invalidation_batch(
            InvalidationBatch::builder()
                .caller_reference(caller_reference)
                .paths(
                    Paths::builder()
                        .quantity(1)
                        .items("/*")
                        .build()
                        .map_err(|e| build_error(&part, e))?,
                )
                .build()
                .map_err(|e| build_error(&part, e))?,
        )
        .send()
        .await
        .map_err(|e| aws_error("creating", &part, e))?;
    let inv = out
        .invalidation()
        .map(|i| i.id().to_string())
        .unwrap_or_default();
    // emulator: polled here rather than with the SDK's waiter, which matches
    // the status "Completed" exactly; the local endpoint says "COMPLETED".
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let out = c
            .get_invalidation()
            .distribution_id(id)
            .id(&inv)
            .send()
            .await
            .map_err(|e| {
                not_found_if("waiting for", &part, e, |e| {
                    e.is_no_such_invalidation() || e.is_no_such_distribution()
                })
            })?;
        let status = out
            .invalidation()
            .map(|i| i.status().to_string())
            .unwrap_or_default();
        if status.eq_ignore_ascii_case("completed") {
            return Ok(inv);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(Error::Timeout {
                action: "waiting for".into(),
                part,
                state: status,
                after: timeout,
            });
        }
        tokio::time::sleep(INVALIDATION_POLL).await;
    }
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
