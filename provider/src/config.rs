//! The `provider "fansite"` block: its schema, its checks, and its parsed form.

use std::collections::BTreeMap;

use crate::diag::{AttrPath, Diags};
use crate::schema::{Attribute, Block, NestedBlock, Nesting, Schema, Ty};
use crate::value::Dyn;

/// Services whose endpoint can be overridden one by one in `endpoints {}`.
pub const SERVICES: &[(&str, &str)] = &[
    ("application_autoscaling", "Application Auto Scaling"),
    ("cloudfront", "CloudFront"),
    ("cloudwatch", "CloudWatch (alarms)"),
    ("cognito_idp", "Cognito user pools (cognito-idp)"),
    ("ec2", "EC2 (VPC, subnets, security groups)"),
    ("ecr", "ECR (image repositories)"),
    ("ecs", "ECS"),
    ("elbv2", "Elastic Load Balancing v2"),
    ("iam", "IAM"),
    ("lambda", "Lambda"),
    ("logs", "CloudWatch Logs"),
    ("rds", "RDS"),
    ("route53", "Route53"),
    ("s3", "S3"),
    ("secretsmanager", "Secrets Manager"),
    ("sns", "SNS"),
    (
        "ssm",
        "Systems Manager (parameters, Session Manager documents)",
    ),
    ("wafv2", "WAFv2 (always called in us-east-1 for CloudFront)"),
];

/// Default for `max_retries`: enough for throttling bursts during a large apply.
pub const DEFAULT_MAX_RETRIES: i64 = 10;

pub fn provider_schema() -> Schema {
    let endpoints = Block {
        description: "Per-service endpoint URLs; each overrides `endpoint` for that service."
            .into(),
        attributes: SERVICES
            .iter()
            .map(|(s, label)| {
                Attribute::optional(s, Ty::String, &format!("Endpoint URL for the {label} API."))
            })
            .collect(),
        blocks: vec![],
    };
    let default_tags = Block {
        description: "Tags added to every part that every resource of this provider makes.".into(),
        attributes: vec![Attribute::optional(
            "tags",
            Ty::map_of_strings(),
            "Tags added to every part; a resource's own `tags` win on the same key.",
        )],
        blocks: vec![],
    };
    Schema {
        version: 1,
        block: Block {
            description: "The fansite provider: composite AWS resources for a highly available fan community site.".into(),
            attributes: vec![
                Attribute::optional("region", Ty::String, "AWS region, such as `ap-northeast-2`. Default: `AWS_REGION`, then `AWS_DEFAULT_REGION`, then the profile's region."),
                Attribute::optional("access_key", Ty::String, "AWS access key ID. Default: the standard AWS credential chain (environment, shared files, SSO, container and instance roles).").sensitive(),
                Attribute::optional("secret_key", Ty::String, "AWS secret access key; set together with `access_key`.").sensitive(),
                Attribute::optional("profile", Ty::String, "Named profile from the shared AWS config and credentials files."),
                Attribute::optional("endpoint", Ty::String, "One endpoint URL for every AWS service, such as a local AWS endpoint `http://127.0.0.1:5000`."),
                Attribute::optional("max_retries", Ty::Number, "How many times a throttled, 5xx or timed-out AWS call is retried, with backoff (default 10)."),
            ],
            blocks: vec![
                NestedBlock { name: "endpoints", nesting: Nesting::OptionalSingle, block: endpoints },
                NestedBlock { name: "default_tags", nesting: Nesting::OptionalSingle, block: default_tags },
            ],
        },
    }
}

/// The provider block, checked.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProviderConfig {
    pub region: Option<String>,
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
    pub profile: Option<String>,
    pub endpoint: Option<String>,
    pub endpoints: BTreeMap<String, String>,
    pub default_tags: BTreeMap<String, String>,
    pub max_retries: u32,
}

fn first_block(config: &Dyn, name: &str) -> Dyn {
    config
        .get(name)
        .as_list()
        .and_then(|l| l.first())
        .cloned()
        .unwrap_or(Dyn::Null)
}

/// Parses and checks the provider block. Errors name the attribute.
pub fn parse_provider_config(config: &Dyn, diags: &mut Diags) -> ProviderConfig {
    let s = |name: &str| config.get(name).as_str().map(str::to_string);
    let mut out = ProviderConfig {
        region: s("region"),
        access_key: s("access_key"),
        secret_key: s("secret_key"),
        profile: s("profile"),
        endpoint: s("endpoint"),
        max_retries: 0,
        ..Default::default()
    };
    if let Some(region) = &out.region {
        if !is_region_name(region) {
            diags.attr_error(
                AttrPath::attr("region"),
                "Invalid AWS region",
                format!("{region:?} is not a region name; use one like \"us-east-1\" or \"ap-northeast-2\"."),
            );
        }
    }
    match (&out.access_key, &out.secret_key) {
        (Some(_), None) => diags.attr_error(
            AttrPath::attr("secret_key"),
            "Missing secret_key",
            "access_key is set, so secret_key must be set too.",
        ),
        (None, Some(_)) => diags.attr_error(
            AttrPath::attr("access_key"),
            "Missing access_key",
            "secret_key is set, so access_key must be set too.",
        ),
        _ => {}
    }
    if out.access_key.is_some() && out.profile.is_some() {
        diags.attr_error(
            AttrPath::attr("profile"),
            "Conflicting credentials",
            "Set either access_key and secret_key, or profile, not both.",
        );
    }
    if let Some(endpoint) = &out.endpoint {
        check_url(endpoint, AttrPath::attr("endpoint"), diags);
    }
    let endpoints = first_block(config, "endpoints");
    for (service, url) in endpoints.string_map() {
        check_url(
            &url,
            AttrPath::attr("endpoints")
                .then_index(0)
                .then_attr(&service),
            diags,
        );
        out.endpoints.insert(service, url);
    }
    out.default_tags = first_block(config, "default_tags").get("tags").string_map();
    match config.get("max_retries") {
        Dyn::Number(n) if (0..=100).contains(n) => out.max_retries = u32::try_from(*n).unwrap_or(0),
        Dyn::Float(f) => diags.attr_error(
            AttrPath::attr("max_retries"),
            "Invalid max_retries",
            format!("{f} is not a whole number; use a number from 0 to 100."),
        ),
        Dyn::Number(n) => diags.attr_error(
            AttrPath::attr("max_retries"),
            "Invalid max_retries",
            format!("{n} is out of range; use a number from 0 to 100."),
        ),
        _ => out.max_retries = DEFAULT_MAX_RETRIES as u32,
    }
    out
}

fn is_region_name(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()))
}

fn check_url(url: &str, path: AttrPath, diags: &mut Diags) {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let host_ok = rest.is_some_and(|r| {
        let host = r.split(['/', '?']).next().unwrap_or("");
        !host.is_empty() && !host.contains(' ')
    });
    if !host_ok {
        diags.attr_error(
            path,
            "Invalid endpoint URL",
            format!("{url:?} is not an http:// or https:// URL with a host, such as \"http://127.0.0.1:5000\"."),
        );
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
