//! The edge's state: its inputs, and the ids of every part made so far.

use crate::aws::cloudfront::DistSpec;
use crate::aws::wafv2::AclSpec;
use serde::{Deserialize, Serialize};

use super::{DEFAULT_MANAGED_RULE_GROUPS, DEFAULT_RATE_LIMIT, DEFAULT_WAF_LOG_RETENTION_DAYS};

pub use crate::resources::Tags;

/// The edge as the schema has it; `bucket_arn` and `url` are derived from it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EdgeState {
    pub name: String,
    pub api_origin: Option<String>,
    pub api_path_pattern: String,
    pub api_origin_protocol: String,
    /// The secret whose value is sent to the API origin, and which version of it.
    pub api_origin_secret_arn: Option<String>,
    pub api_origin_secret_version: Option<String>,
    pub aliases: Option<Vec<String>>,
    pub certificate_arn: Option<String>,
    pub hosted_zone_id: Option<String>,
    pub price_class: String,
    pub rate_limit: i64,
    pub managed_rule_groups: Vec<String>,
    pub geo_block: Option<Vec<String>>,
    pub content_hash: Option<String>,
    pub force_destroy: bool,
    pub waf_logs: bool,
    pub waf_log_retention_days: i32,
    pub additional_metrics: bool,
    pub tags: Option<Tags>,
    pub tags_all: Tags,
    /// The bucket's name once it is made: the edge's `name`.
    pub bucket_name: Option<String>,
    #[serde(rename = "origin_access_control_id")]
    pub oac_id: Option<String>,
    pub distribution_id: Option<String>,
    pub distribution_arn: Option<String>,
    pub domain_name: Option<String>,
    pub web_acl_id: Option<String>,
    pub web_acl_arn: Option<String>,
    pub invalidation_id: Option<String>,
    /// The CloudFront Function that serves the app's routes `/index.html`.
    pub site_routes_function_arn: Option<String>,
}

impl Default for EdgeState {
    fn default() -> Self {
        EdgeState {
            name: String::new(),
            api_origin: None,
            api_path_pattern: "/api/*".into(),
            api_origin_protocol: "https-only".into(),
            api_origin_secret_arn: None,
            api_origin_secret_version: None,
            aliases: None,
            certificate_arn: None,
            hosted_zone_id: None,
            price_class: "PriceClass_All".into(),
            rate_limit: DEFAULT_RATE_LIMIT,
            managed_rule_groups: DEFAULT_MANAGED_RULE_GROUPS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            geo_block: None,
            content_hash: None,
            force_destroy: false,
            waf_logs: true,
            waf_log_retention_days: DEFAULT_WAF_LOG_RETENTION_DAYS,
            additional_metrics: true,
            tags: None,
            tags_all: Tags::new(),
            bucket_name: None,
            oac_id: None,
            distribution_id: None,
            distribution_arn: None,
            domain_name: None,
            web_acl_id: None,
            web_acl_arn: None,
            invalidation_id: None,
            site_routes_function_arn: None,
        }
    }
}

impl EdgeState {
    /// Whether the bucket was made.
    pub fn bucket_made(&self) -> bool {
        self.bucket_name.is_some()
    }

    pub fn bucket_arn(&self) -> Option<String> {
        self.bucket_name
            .as_ref()
            .map(|b| format!("arn:aws:s3:::{b}"))
    }

    pub fn url(&self) -> Option<String> {
        match self.aliases.as_ref().and_then(|a| a.first()) {
            Some(alias) => Some(format!("https://{alias}")),
            None => self.domain_name.as_ref().map(|d| format!("https://{d}")),
        }
    }

    pub fn acl_spec(&self) -> AclSpec {
        AclSpec {
            name: format!("{}-waf", self.name),
            managed_rule_groups: self.managed_rule_groups.clone(),
            rate_limit: self.rate_limit,
            geo_block: self.geo_block.clone().unwrap_or_default(),
        }
    }

    pub fn dist_spec(&self, region: &str) -> DistSpec {
        DistSpec {
            name: self.name.clone(),
            bucket_domain: bucket_domain(&self.name, region),
            oac_id: self.oac_id.clone().unwrap_or_default(),
            api_origin: self.api_origin.clone(),
            api_path_pattern: self.api_path_pattern.clone(),
            api_origin_protocol: self.api_origin_protocol.clone(),
            aliases: self.aliases.clone().unwrap_or_default(),
            certificate_arn: self.certificate_arn.clone(),
            price_class: self.price_class.clone(),
            web_acl_arn: self.web_acl_arn.clone().unwrap_or_default(),
            site_routes_function_arn: self.site_routes_function_arn.clone(),
            // Read from Secrets Manager when the distribution is written.
            api_origin_secret: None,
            enabled: true,
        }
    }

    /// The web ACL's log group (in us-east-1).
    pub fn waf_log_group(&self) -> String {
        crate::aws::wafv2::log_group_name(&self.name)
    }

    pub fn oac_name(&self) -> String {
        format!("{}-oac", self.name)
    }
}

/// The bucket's regional domain name, what CloudFront fetches from.
pub fn bucket_domain(bucket: &str, region: &str) -> String {
    format!("{bucket}.s3.{region}.amazonaws.com")
}
