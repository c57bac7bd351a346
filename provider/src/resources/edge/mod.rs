//! `fansite_edge`: S3 site bucket, CloudFront with Origin Access Control, a
//! WAF web ACL in us-east-1, Route53 alias records.
//!
//! Lifecycle in order: schema, validate, read, plan, create, update, delete, import.

mod converge;
mod find;
pub mod invalidate;
mod schema;
mod state;
#[cfg(test)]
mod tests;

use std::time::Duration;

use async_trait::async_trait;

use crate::aws::Aws;
use crate::diag::{AttrPath, Diags};
use crate::driver::{Composite, Part, Timeouts};
use crate::error::Result;
use crate::resource::Identity;
use crate::schema::Schema;
use crate::value::Dyn;

pub use state::EdgeState;

/// Per IP per 5 minutes: a fan refreshing a ticket page every few seconds stays
/// well under it; a script hammering the site does not.
pub const DEFAULT_RATE_LIMIT: i64 = 2000;
pub const DEFAULT_MANAGED_RULE_GROUPS: &[&str] = &[
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
];

/// A month of WAF logs: long enough to look back at a ticket day's attacks.
pub const DEFAULT_WAF_LOG_RETENTION_DAYS: i32 = 30;

/// A new distribution deploys to every edge location in 5–15 minutes (AWS documentation).
pub const DEFAULT_CREATE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// An update deploys again, and an invalidation of /* takes a few minutes more.
pub const DEFAULT_UPDATE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// Deleting waits for the distribution to deploy as disabled first.
pub const DEFAULT_DELETE_TIMEOUT: Duration = Duration::from_secs(45 * 60);

pub struct EdgeResource;

#[async_trait]
impl Composite for EdgeResource {
    type State = EdgeState;
    const NAME: &'static str = "edge";
    const TIMEOUTS: Timeouts = Timeouts {
        create: DEFAULT_CREATE_TIMEOUT,
        update: DEFAULT_UPDATE_TIMEOUT,
        delete: DEFAULT_DELETE_TIMEOUT,
    };
    const PARTS: &'static [Part] = &[
        // Missing (deleted outside Terraform, or an edge made before the
        // function existed): the next apply makes it and associates it.
        Part::alone("site_routes_function_arn"),
        Part {
            id: "distribution_id",
            outputs: &["distribution_arn", "domain_name", "url", "invalidation_id"],
        },
        Part {
            id: "web_acl_id",
            outputs: &["web_acl_arn"],
        },
    ];

    fn schema(&self) -> Schema {
        schema::schema()
    }

    fn validate(&self, config: &Dyn, diags: &mut Diags) {
        validate_config(config, diags);
    }

    fn derived(&self, _region: &str, state: &EdgeState) -> Vec<(&'static str, Dyn)> {
        vec![
            ("bucket_arn", state.bucket_arn().into()),
            ("url", state.url().into()),
        ]
    }

    fn label(&self, state: &EdgeState) -> String {
        format!("edge {:?}", state.name)
    }

    fn unmade(&self, want: &EdgeState) -> EdgeState {
        EdgeState {
            bucket_name: None,
            oac_id: None,
            distribution_id: None,
            distribution_arn: None,
            domain_name: None,
            web_acl_id: None,
            web_acl_arn: None,
            invalidation_id: None,
            site_routes_function_arn: None,
            ..want.clone()
        }
    }

    fn has_parts(&self, state: &EdgeState) -> bool {
        state.bucket_made()
    }

    async fn find(&self, aws: &Aws, hints: &EdgeState) -> Result<Option<EdgeState>> {
        find::find_edge(aws, hints).await
    }

    /// Without a distribution there is nothing to find the other parts by.
    async fn refresh_after_failure(&self, aws: &Aws, cur: EdgeState) -> EdgeState {
        if cur.distribution_id.is_some() {
            if let Ok(Some(found)) = find::find_edge(aws, &cur).await {
                return found;
            }
        }
        cur
    }

    async fn plan(
        &self,
        aws: Option<&Aws>,
        prior: Option<&Dyn>,
        mut planned: Dyn,
        config: &Dyn,
        diags: &mut Diags,
    ) -> Dyn {
        plan_origin_secret(aws, prior, &mut planned, config, diags).await;
        if let Some(name) = planned.get("name").as_str().map(str::to_string) {
            planned.set("bucket_name", Dyn::String(name.clone()));
            planned.set("bucket_arn", Dyn::String(format!("arn:aws:s3:::{name}")));
        }
        // The URL: the first alias when there is one, else the distribution's own name.
        let url = match planned.get("aliases") {
            Dyn::List(items) if !items.is_empty() => match items.first() {
                Some(Dyn::String(a)) => Dyn::String(format!("https://{a}")),
                _ => Dyn::Unknown,
            },
            Dyn::Unknown => Dyn::Unknown,
            _ => match planned.get("domain_name") {
                Dyn::String(d) => Dyn::String(format!("https://{d}")),
                _ => Dyn::Unknown,
            },
        };
        planned.set("url", url);
        if let Some(prior) = prior {
            let hash = planned.get("content_hash");
            if hash != prior.get("content_hash") && !hash.is_null() {
                planned.set("invalidation_id", Dyn::Unknown);
            }
        }
        planned
    }

    async fn create(&self, aws: &Aws, cur: &mut EdgeState, want: &EdgeState) -> Result<()> {
        converge::create_all(aws, cur, want).await
    }

    async fn update(&self, aws: &Aws, cur: &mut EdgeState, want: &EdgeState) -> Result<()> {
        converge::update_all(aws, cur, want).await
    }

    async fn delete(&self, aws: &Aws, cur: &EdgeState) -> Result<()> {
        converge::delete_all(aws, cur).await
    }

    async fn import(&self, aws: &Aws, id: &str, diags: &mut Diags) -> Option<EdgeState> {
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            diags.error(
                "Invalid import ID",
                format!("{id:?} is not a CloudFront distribution ID; import a fansite_edge by its distribution ID, such as \"E2QWRUHAPOMQZL\"."),
            );
            return None;
        }
        let hints = EdgeState {
            distribution_id: Some(id.to_string()),
            ..EdgeState::default()
        };
        match find::find_edge(aws, &hints).await {
            Ok(Some(found)) if !found.bucket_made() || found.web_acl_id.is_none() => {
                diags.error(
                    "Cannot import a distribution that fansite_edge did not make",
                    format!("Distribution {id} has no S3 origin bucket or no web ACL named \"<bucket>-waf\": only an edge made by fansite_edge can be imported."),
                );
                None
            }
            Ok(Some(found)) => Some(found),
            Ok(None) => {
                diags.error(
                    "Cannot import non-existent edge",
                    format!("No CloudFront distribution {id} was found."),
                );
                None
            }
            Err(e) => {
                e.report(diags);
                None
            }
        }
    }

    /// The distribution, as import takes it. CloudFront is global: no region.
    const IDENTITY: Option<Identity> = Some(Identity {
        regional: false,
        attributes: &[("distribution_id", "ID of the CloudFront distribution.")],
        of_state: identity_of,
        import_id: import_id_of,
    });

    async fn list(&self, aws: &Aws) -> Result<Option<Vec<String>>> {
        find::list_edges(aws).await.map(Some)
    }
}

/// The identity's values in a state: the distribution id, once made.
fn identity_of(state: &Dyn) -> Option<Vec<String>> {
    Some(vec![state.get("distribution_id").as_str()?.to_string()])
}

/// The import id of an identity: its distribution id.
fn import_id_of(values: &[String]) -> String {
    values.concat()
}

/// The version of the origin secret to send: the one the configuration
/// names; else, once made, the one sent, unless the secret has been rotated
/// since (its current version, read now, differs), so that a rotation shows
/// as a change of the edge; and none without a secret.
async fn plan_origin_secret(
    aws: Option<&Aws>,
    prior: Option<&Dyn>,
    planned: &mut Dyn,
    config: &Dyn,
    diags: &mut Diags,
) {
    let path = || AttrPath::attr("api_origin_secret_arn");
    let arn = planned.get("api_origin_secret_arn").clone();
    if arn.is_null() {
        planned.set("api_origin_secret_version", Dyn::Null);
        return;
    }
    if let (Some(aws), Some(arn)) = (aws, arn.as_str()) {
        let region = arn.split(':').nth(3).unwrap_or_default();
        if region != aws.region {
            diags.attr_error(
                path(),
                "Secret in another region",
                format!("The secret is in {region:?}, but the provider reads secrets in {:?}: give the edge a provider of the service's region (the service and its edge usually share one).", aws.region),
            );
            return;
        }
    }
    if !config.get("api_origin_secret_version").is_null() {
        return;
    }
    let Some(prior) = prior else {
        planned.set("api_origin_secret_version", Dyn::Unknown);
        return;
    };
    let sent = prior.get("api_origin_secret_version");
    if prior.get("api_origin_secret_arn") != &arn || sent.is_null() || arn.is_unknown() {
        planned.set("api_origin_secret_version", Dyn::Unknown);
        return;
    }
    let (Some(aws), Some(arn)) = (aws, arn.as_str()) else {
        return;
    };
    match crate::aws::secrets::version_ids(&aws.secrets, arn).await {
        Ok(Some((current, _))) if sent.as_str() == Some(current.as_str()) => {}
        Ok(Some(_)) => planned.set("api_origin_secret_version", Dyn::Unknown),
        Ok(None) => diags.attr_error(
            path(),
            "Unknown secret",
            format!(
                "Secret {arn} was not found in {}, or is scheduled for deletion.",
                aws.region
            ),
        ),
        Err(e) => diags.attr_error(path(), "Unknown secret", e.to_string()),
    }
}

/// The rules declared on single attributes (`Attribute::rule`).
pub(crate) mod rules {
    pub use crate::resources::ids::secret_arn;

    pub fn bucket_name(name: &str) -> Option<String> {
        let ok = (3..=63).contains(&name.len())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
            && name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric())
            && name
                .chars()
                .last()
                .is_some_and(|c| c.is_ascii_alphanumeric())
            && !name.contains("..");
        (!ok).then(|| format!("{name:?} is not an S3 bucket name: use 3 to 63 lowercase letters, digits, '-' and '.', starting and ending with a letter or digit."))
    }

    pub fn api_path(p: &str) -> Option<String> {
        (!p.starts_with('/') || p == "/*").then(|| format!("{p:?}: use a path under the site such as \"/api/*\" (not \"/*\", which is the site itself)."))
    }

    pub fn host_name(o: &str) -> Option<String> {
        (o.contains("://") || o.contains('/') || o.is_empty()).then(|| format!("{o:?}: give a host name only, such as \"api-123.ap-northeast-2.elb.amazonaws.com\" (no scheme, no path)."))
    }

    pub fn managed_rule_group(g: &str) -> Option<String> {
        (!g.starts_with("AWSManagedRules")).then(|| {
            format!(
                "{g:?} is not an AWS managed rule group such as \"AWSManagedRulesCommonRuleSet\"."
            )
        })
    }

    pub fn country_code(c: &str) -> Option<String> {
        (!(c.len() == 2 && c.chars().all(|x| x.is_ascii_uppercase())))
            .then(|| format!("{c:?} is not an ISO 3166 alpha-2 code such as \"KR\"."))
    }

    pub fn us_east_1_certificate(arn: &str) -> Option<String> {
        (!arn.starts_with("arn:aws:acm:us-east-1:")).then(|| format!("{arn:?}: CloudFront takes ACM certificates from us-east-1 only, such as \"arn:aws:acm:us-east-1:123456789012:certificate/...\"."))
    }
}

fn validate_config(config: &Dyn, diags: &mut Diags) {
    let aliases = config
        .get("aliases")
        .as_list()
        .map(|l| !l.is_empty())
        .unwrap_or(false);
    let cert = config.get("certificate_arn");
    if aliases && cert.is_null() {
        diags.attr_error(AttrPath::attr("aliases"), "Aliases without a certificate", "CloudFront serves aliases only with a certificate for them: set certificate_arn to an ACM certificate in us-east-1.");
    }
    if !config.get("hosted_zone_id").is_null() && !aliases && !config.get("aliases").is_unknown() {
        diags.attr_error(
            AttrPath::attr("hosted_zone_id"),
            "Hosted zone without aliases",
            "Records are made for each of aliases; set aliases too.",
        );
    }
    // CloudFront checks the origin's certificate against the origin's name
    // (SNI, and the Host header is not forwarded): an ALB's certificate is for
    // the site's own domain, never `*.elb.amazonaws.com`, so HTTPS to that
    // name fails every request with 502 (CloudFront Developer Guide,
    // "HTTP 502 status code (Bad Gateway)").
    if let Some(origin) = config.get("api_origin").as_str() {
        let protocol = config.get("api_origin_protocol");
        let https = protocol.is_null() || protocol.as_str() == Some("https-only");
        let host = origin.trim_end_matches('.').to_ascii_lowercase();
        if https && host.ends_with(".elb.amazonaws.com") {
            let path = if protocol.is_null() {
                "api_origin"
            } else {
                "api_origin_protocol"
            };
            diags.attr_error(
                AttrPath::attr(path),
                "HTTPS to a load balancer's own name",
                format!("CloudFront would reach {origin:?} over HTTPS (api_origin_protocol \"https-only\", the default) and check its certificate against that name, which no ACM certificate of the load balancer covers: every API request would fail with 502. Set api_origin_protocol = \"http-only\", or point api_origin at the API's own domain, which the load balancer's certificate covers."),
            );
        }
    }
    if !config.get("api_origin_secret_arn").is_null() && config.get("api_origin").is_null() {
        diags.attr_error(
            AttrPath::attr("api_origin_secret_arn"),
            "Origin secret without an API origin",
            "The secret is sent to api_origin: set api_origin too, or leave api_origin_secret_arn out.",
        );
    }
    if !config.get("api_origin_secret_version").is_null()
        && config.get("api_origin_secret_arn").is_null()
    {
        diags.attr_error(
            AttrPath::attr("api_origin_secret_version"),
            "Secret version without a secret",
            "api_origin_secret_version names a version of api_origin_secret_arn: set that too, or leave the version out.",
        );
    }
    if let Some(why) = config
        .get("waf_log_retention_days")
        .as_i64()
        .and_then(crate::aws::logs::retention_refused)
    {
        diags.attr_error(
            AttrPath::attr("waf_log_retention_days"),
            "Invalid waf_log_retention_days",
            why,
        );
    }
    if let Some(tags) = config.get("tags").as_map() {
        for key in tags.keys() {
            if key.to_ascii_lowercase().starts_with("aws:") {
                diags.attr_error(
                    AttrPath::attr("tags").then_key(key),
                    "Reserved tag key",
                    format!("{key:?}: keys starting with \"aws:\" are reserved by AWS."),
                );
            }
        }
    }
}
