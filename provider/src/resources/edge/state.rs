//! The edge's state: its inputs, and the ids of every part made so far.

use std::collections::BTreeMap;

use crate::aws::cloudfront::DistSpec;
use crate::aws::wafv2::AclSpec;
use crate::value::Dyn;

use super::{DEFAULT_MANAGED_RULE_GROUPS, DEFAULT_RATE_LIMIT};

pub type Tags = BTreeMap<String, String>;

#[derive(Clone, Debug, PartialEq)]
pub struct EdgeState {
    pub name: String,
    pub api_origin: Option<String>,
    pub api_path_pattern: String,
    pub api_origin_protocol: String,
    pub aliases: Option<Vec<String>>,
    pub certificate_arn: Option<String>,
    pub hosted_zone_id: Option<String>,
    pub price_class: String,
    pub rate_limit: i64,
    pub managed_rule_groups: Vec<String>,
    pub geo_block: Option<Vec<String>>,
    pub content_hash: Option<String>,
    pub force_destroy: bool,
    pub tags: Option<Tags>,
    pub tags_all: Tags,
    pub bucket_made: bool,
    pub oac_id: Option<String>,
    pub distribution_id: Option<String>,
    pub distribution_arn: Option<String>,
    pub domain_name: Option<String>,
    pub web_acl_id: Option<String>,
    pub web_acl_arn: Option<String>,
    pub invalidation_id: Option<String>,
    pub timeouts: Dyn,
}

fn string(v: &Dyn, name: &str) -> Option<String> {
    v.get(name).as_str().map(str::to_string)
}

fn list(v: &Dyn, name: &str) -> Option<Vec<String>> {
    v.get(name).as_list().map(|_| v.get(name).string_list())
}

fn opt_list(l: &Option<Vec<String>>) -> Dyn {
    l.as_ref()
        .map(|l| Dyn::from_strings(l.iter().cloned()))
        .unwrap_or(Dyn::Null)
}

impl EdgeState {
    pub fn from_dyn(v: &Dyn) -> EdgeState {
        let name = string(v, "name").unwrap_or_default();
        EdgeState {
            bucket_made: v.get("bucket_name").as_str().is_some(),
            name,
            api_origin: string(v, "api_origin"),
            api_path_pattern: string(v, "api_path_pattern").unwrap_or_else(|| "/api/*".into()),
            api_origin_protocol: string(v, "api_origin_protocol")
                .unwrap_or_else(|| "https-only".into()),
            aliases: list(v, "aliases"),
            certificate_arn: string(v, "certificate_arn"),
            hosted_zone_id: string(v, "hosted_zone_id"),
            price_class: string(v, "price_class").unwrap_or_else(|| "PriceClass_All".into()),
            rate_limit: v.get("rate_limit").as_i64().unwrap_or(DEFAULT_RATE_LIMIT),
            managed_rule_groups: list(v, "managed_rule_groups").unwrap_or_else(|| {
                DEFAULT_MANAGED_RULE_GROUPS
                    .iter()
                    .map(|s| s.to_string())
                    .collect()
            }),
            geo_block: list(v, "geo_block"),
            content_hash: string(v, "content_hash"),
            force_destroy: v.get("force_destroy").as_bool().unwrap_or(false),
            tags: v.get("tags").as_map().map(|_| v.get("tags").string_map()),
            tags_all: v.get("tags_all").string_map(),
            oac_id: string(v, "origin_access_control_id"),
            distribution_id: string(v, "distribution_id"),
            distribution_arn: string(v, "distribution_arn"),
            domain_name: string(v, "domain_name"),
            web_acl_id: string(v, "web_acl_id"),
            web_acl_arn: string(v, "web_acl_arn"),
            invalidation_id: string(v, "invalidation_id"),
            timeouts: v.get("timeouts").clone(),
        }
    }

    pub fn to_dyn(&self) -> Dyn {
        let mut v = Dyn::obj();
        let opt = |s: &Option<String>| -> Dyn { s.clone().into() };
        v.set("name", self.name.clone().into());
        v.set("api_origin", opt(&self.api_origin));
        v.set("api_path_pattern", self.api_path_pattern.clone().into());
        v.set(
            "api_origin_protocol",
            self.api_origin_protocol.clone().into(),
        );
        v.set("aliases", opt_list(&self.aliases));
        v.set("certificate_arn", opt(&self.certificate_arn));
        v.set("hosted_zone_id", opt(&self.hosted_zone_id));
        v.set("price_class", self.price_class.clone().into());
        v.set("rate_limit", self.rate_limit.into());
        v.set(
            "managed_rule_groups",
            Dyn::from_strings(self.managed_rule_groups.iter().cloned()),
        );
        v.set("geo_block", opt_list(&self.geo_block));
        v.set("content_hash", opt(&self.content_hash));
        v.set("force_destroy", self.force_destroy.into());
        v.set(
            "tags",
            self.tags
                .as_ref()
                .map(|t| Dyn::from_string_map(t.iter()))
                .unwrap_or(Dyn::Null),
        );
        v.set("tags_all", Dyn::from_string_map(self.tags_all.iter()));
        let bucket = self.bucket_made.then(|| self.name.clone());
        v.set("bucket_name", opt(&bucket));
        v.set(
            "bucket_arn",
            opt(&bucket.map(|b| format!("arn:aws:s3:::{b}"))),
        );
        v.set("origin_access_control_id", opt(&self.oac_id));
        v.set("distribution_id", opt(&self.distribution_id));
        v.set("distribution_arn", opt(&self.distribution_arn));
        v.set("domain_name", opt(&self.domain_name));
        v.set("url", opt(&self.url()));
        v.set("web_acl_id", opt(&self.web_acl_id));
        v.set("web_acl_arn", opt(&self.web_acl_arn));
        v.set("invalidation_id", opt(&self.invalidation_id));
        v.set("timeouts", self.timeouts.clone());
        v
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
            enabled: true,
        }
    }

    pub fn oac_name(&self) -> String {
        format!("{}-oac", self.name)
    }
}

/// The bucket's regional domain name, what CloudFront fetches from.
pub fn bucket_domain(bucket: &str, region: &str) -> String {
    format!("{bucket}.s3.{region}.amazonaws.com")
}
