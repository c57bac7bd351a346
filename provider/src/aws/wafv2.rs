//! WAFv2 web ACLs of scope CLOUDFRONT. CloudFront's web ACLs live in
//! us-east-1 whatever the stack's region: `Aws::waf` is a us-east-1 client.

use aws_sdk_wafv2::types::{
    AllowAction, BlockAction, CountryCode, DefaultAction, GeoMatchStatement,
    ManagedRuleGroupStatement, NoneAction, OverrideAction, RateBasedStatement,
    RateBasedStatementAggregateKeyType, Rule, RuleAction, Scope, Statement, VisibilityConfig,
};
use aws_sdk_wafv2::Client;

use super::{aws_error, build_error, gone_is_done, gone_is_none, not_found_if, retry_eventual};
use crate::error::Result;

/// WAF is still setting up a part the call names (a managed rule group for a
/// new web ACL, an ACL just made): terraform-provider-aws
/// `resourceWebACLCreate` and `resourceWebACLUpdate` retry it.
const UNAVAILABLE: &str = "WAFUnavailableEntityException";

/// What the resource puts in its web ACL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AclSpec {
    pub name: String,
    /// AWS managed rule groups, such as `AWSManagedRulesCommonRuleSet`.
    pub managed_rule_groups: Vec<String>,
    /// Requests per IP per 5 minutes before the IP is blocked.
    pub rate_limit: i64,
    /// Countries (ISO 3166 alpha-2) whose requests are blocked.
    pub geo_block: Vec<String>,
}

/// A web ACL as AWS describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AclInfo {
    pub id: String,
    pub arn: String,
    pub lock_token: String,
    pub spec: AclSpec,
}

const RATE_RULE: &str = "rate-limit-per-ip";
const GEO_RULE: &str = "geo-block";

fn visibility(metric: &str, part: &str) -> Result<VisibilityConfig> {
    VisibilityConfig::builder()
        .sampled_requests_enabled(true)
        .cloud_watch_metrics_enabled(true)
        .metric_name(
            metric
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect::<String>(),
        )
        .build()
        .map_err(|e| build_error(part, e))
}

fn rules(s: &AclSpec) -> Result<Vec<Rule>> {
    let part = format!("web ACL {:?}", s.name);
    let mut out = Vec::new();
    let mut priority = 0;
    if !s.geo_block.is_empty() {
        out.push(
            Rule::builder()
                .name(GEO_RULE)
                .priority(priority)
                .statement(
                    Statement::builder()
                        .geo_match_statement(
                            GeoMatchStatement::builder()
                                .set_country_codes(Some(
                                    s.geo_block
                                        .iter()
                                        .map(|c| CountryCode::from(c.as_str()))
                                        .collect(),
                                ))
                                .build(),
                        )
                        .build(),
                )
                .action(
                    RuleAction::builder()
                        .block(BlockAction::builder().build())
                        .build(),
                )
                .visibility_config(visibility(&format!("{}-{GEO_RULE}", s.name), &part)?)
                .build()
                .map_err(|e| build_error(&part, e))?,
        );
        priority += 1;
    }
    out.push(
        Rule::builder()
            .name(RATE_RULE)
            .priority(priority)
            .statement(
                Statement::builder()
                    .rate_based_statement(
                        RateBasedStatement::builder()
                            .limit(s.rate_limit)
                            .aggregate_key_type(RateBasedStatementAggregateKeyType::Ip)
                            .build()
                            .map_err(|e| build_error(&part, e))?,
                    )
                    .build(),
            )
            .action(
                RuleAction::builder()
                    .block(BlockAction::builder().build())
                    .build(),
            )
            .visibility_config(visibility(&format!("{}-{RATE_RULE}", s.name), &part)?)
            .build()
            .map_err(|e| build_error(&part, e))?,
    );
    priority += 1;
    for group in &s.managed_rule_groups {
        out.push(
            Rule::builder()
                .name(group)
                .priority(priority)
                .statement(
                    Statement::builder()
                        .managed_rule_group_statement(
                            ManagedRuleGroupStatement::builder()
                                .vendor_name("AWS")
                                .name(group)
                                .build()
                                .map_err(|e| build_error(&part, e))?,
                        )
                        .build(),
                )
                .override_action(
                    OverrideAction::builder()
                        .none(NoneAction::builder().build())
                        .build(),
                )
                .visibility_config(visibility(&format!("{}-{group}", s.name), &part)?)
                .build()
                .map_err(|e| build_error(&part, e))?,
        );
        priority += 1;
    }
    Ok(out)
}

pub async fn create_web_acl(
    c: &Client,
    s: &AclSpec,
    tags: &[(String, String)],
) -> Result<(String, String)> {
    let part = format!("web ACL {:?}", s.name);
    let rules = rules(s)?;
    let visibility = visibility(&s.name, &part)?;
    let tags = tags
        .iter()
        .map(|(k, v)| {
            aws_sdk_wafv2::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| build_error(&part, e))
        })
        .collect::<Result<Vec<_>>>()?;
    let out = retry_eventual(&[UNAVAILABLE], || async {
        c.create_web_acl()
            .name(&s.name)
            .scope(Scope::Cloudfront)
            .default_action(
                DefaultAction::builder()
                    .allow(AllowAction::builder().build())
                    .build(),
            )
            .set_rules(Some(rules.clone()))
            .visibility_config(visibility.clone())
            .set_tags(Some(tags.clone()))
            .send()
            .await
            .map_err(|e| aws_error("creating", &part, e))
    })
    .await?;
    let summary = out.summary();
    Ok((
        summary.and_then(|s| s.id()).unwrap_or_default().to_string(),
        summary
            .and_then(|s| s.arn())
            .unwrap_or_default()
            .to_string(),
    ))
}

/// The id and ARN of the CLOUDFRONT web ACL with this name, if any.
pub async fn find_web_acl(c: &Client, name: &str) -> Result<Option<(String, String)>> {
    let out = c
        .list_web_acls()
        .scope(Scope::Cloudfront)
        .send()
        .await
        .map_err(|e| aws_error("listing", "web ACLs", e))?;
    Ok(out
        .web_acls()
        .iter()
        .find(|a| a.name() == Some(name))
        .map(|a| {
            (
                a.id().unwrap_or_default().to_string(),
                a.arn().unwrap_or_default().to_string(),
            )
        }))
}

/// The web ACL, or `None` when it is gone.
pub async fn get_web_acl(c: &Client, name: &str, id: &str) -> Result<Option<AclInfo>> {
    let part = format!("web ACL {name:?}");
    let out = match c
        .get_web_acl()
        .name(name)
        .id(id)
        .scope(Scope::Cloudfront)
        .send()
        .await
    {
        Ok(o) => o,
        Err(e) => {
            let e = not_found_if("describing", &part, e, |e| {
                e.is_waf_nonexistent_item_exception()
            });
            return if e.is_not_found() { Ok(None) } else { Err(e) };
        }
    };
    let Some(acl) = out.web_acl() else {
        return Ok(None);
    };
    let mut spec = AclSpec {
        name: acl.name().to_string(),
        managed_rule_groups: Vec::new(),
        rate_limit: 0,
        geo_block: Vec::new(),
    };
    let mut rules: Vec<&Rule> = acl.rules().iter().collect();
    rules.sort_by_key(|r| r.priority());
    for r in rules {
        let Some(st) = r.statement() else { continue };
        if let Some(m) = st.managed_rule_group_statement() {
            spec.managed_rule_groups.push(m.name().to_string());
        } else if let Some(rb) = st.rate_based_statement() {
            spec.rate_limit = rb.limit();
        } else if let Some(g) = st.geo_match_statement() {
            spec.geo_block = g
                .country_codes()
                .iter()
                .map(|c| c.as_str().to_string())
                .collect();
        }
    }
    Ok(Some(AclInfo {
        id: acl.id().to_string(),
        arn: acl.arn().to_string(),
        lock_token: out.lock_token().unwrap_or_default().to_string(),
        spec,
    }))
}

pub async fn update_web_acl(c: &Client, id: &str, lock_token: &str, s: &AclSpec) -> Result<()> {
    let part = format!("web ACL {:?}", s.name);
    let rules = rules(s)?;
    let visibility = visibility(&s.name, &part)?;
    retry_eventual(&[UNAVAILABLE], || async {
        c.update_web_acl()
            .name(&s.name)
            .id(id)
            .scope(Scope::Cloudfront)
            .lock_token(lock_token)
            .default_action(
                DefaultAction::builder()
                    .allow(AllowAction::builder().build())
                    .build(),
            )
            .set_rules(Some(rules.clone()))
            .visibility_config(visibility.clone())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_error("updating", &part, e))
    })
    .await
}

/// Deletes the web ACL. Gone is done.
///
/// WAF refuses it (`WAFAssociatedItemException`) while CloudFront still
/// associates it with a distribution, which lasts a while after the
/// distribution is deleted; `WAFUnavailableEntityException` passes too, and a
/// lock token outdated by a change meanwhile (`WAFOptimisticLockException`)
/// is read again (terraform-provider-aws `resourceWebACLDelete` retries all
/// three).
pub async fn delete_web_acl(c: &Client, name: &str, id: &str) -> Result<()> {
    let part = format!("web ACL {name:?}");
    let codes = [
        "WAFAssociatedItemException",
        UNAVAILABLE,
        "WAFOptimisticLockException",
    ];
    gone_is_done(
        retry_eventual(&codes, || async {
            let Some(info) = get_web_acl(c, name, id).await? else {
                return Ok(());
            };
            c.delete_web_acl()
                .name(name)
                .id(id)
                .scope(Scope::Cloudfront)
                .lock_token(&info.lock_token)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| {
                    not_found_if("deleting", &part, e, |e| {
                        e.is_waf_nonexistent_item_exception()
                    })
                })
        })
        .await,
    )
}

/// The log group a CloudFront web ACL logs to: WAF takes only CloudWatch Logs
/// groups whose name starts with `aws-waf-logs-`, in us-east-1 for scope
/// CLOUDFRONT (AWS WAF Developer Guide, "Sending web ACL traffic logs to an
/// Amazon CloudWatch Logs log group").
pub fn log_group_name(edge: &str) -> String {
    format!("aws-waf-logs-{edge}")
}

/// The log group's ARN as WAF takes it (without DescribeLogGroups' `:*`), in
/// the web ACL's partition, region and account.
pub fn log_group_arn(acl_arn: &str, group: &str) -> String {
    // arn:<partition>:wafv2:<region>:<account>:global/webacl/<name>/<id>
    let parts: Vec<&str> = acl_arn.split(':').collect();
    let partition = parts.get(1).copied().unwrap_or("aws");
    let region = parts
        .get(3)
        .copied()
        .unwrap_or(super::CLOUDFRONT_WAF_REGION);
    let account = parts.get(4).copied().unwrap_or_default();
    format!("arn:{partition}:logs:{region}:{account}:log-group:{group}")
}

/// The request headers WAF's logs never show: a fan's session token and cookies.
pub const REDACTED_HEADERS: [&str; 2] = ["authorization", "cookie"];

/// Sends the web ACL's logs to `destination` (a log group ARN), with
/// [`REDACTED_HEADERS`] redacted. WAF sets the log group's resource policy for
/// log delivery itself. A web ACL or log group just made may not be usable yet
/// (`WAFUnavailableEntityException`): retried.
pub async fn put_logging(c: &Client, acl_arn: &str, destination: &str) -> Result<()> {
    use aws_sdk_wafv2::types::{FieldToMatch, LoggingConfiguration, SingleHeader};
    let part = format!("logging of web ACL {acl_arn}");
    let redacted = REDACTED_HEADERS
        .iter()
        .map(|h| {
            Ok(FieldToMatch::builder()
                .single_header(
                    SingleHeader::builder()
                        .name(*h)
                        .build()
                        .map_err(|e| build_error(&part, e))?,
                )
                .build())
        })
        .collect::<Result<Vec<_>>>()?;
    let config = LoggingConfiguration::builder()
        .resource_arn(acl_arn)
        .log_destination_configs(destination)
        .set_redacted_fields(Some(redacted))
        .build()
        .map_err(|e| build_error(&part, e))?;
    retry_eventual(&[UNAVAILABLE], || async {
        c.put_logging_configuration()
            .logging_configuration(config.clone())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_error("setting", &part, e))
    })
    .await
}

/// Where the web ACL logs to, and the headers it redacts; `None` when it does not log.
pub async fn logging(c: &Client, acl_arn: &str) -> Result<Option<(Vec<String>, Vec<String>)>> {
    let part = format!("logging of web ACL {acl_arn}");
    let out = gone_is_none(
        c.get_logging_configuration()
            .resource_arn(acl_arn)
            .send()
            .await
            .map_err(|e| {
                not_found_if("reading", &part, e, |e| {
                    e.is_waf_nonexistent_item_exception()
                })
            }),
    )?;
    Ok(out.and_then(|out| {
        out.logging_configuration().map(|l| {
            (
                l.log_destination_configs().to_vec(),
                l.redacted_fields()
                    .iter()
                    .filter_map(|f| f.single_header().map(|h| h.name().to_ascii_lowercase()))
                    .collect(),
            )
        })
    }))
}

/// Stops the web ACL's logging. Not logging is done.
pub async fn delete_logging(c: &Client, acl_arn: &str) -> Result<()> {
    let part = format!("logging of web ACL {acl_arn}");
    gone_is_done(
        c.delete_logging_configuration()
            .resource_arn(acl_arn)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                not_found_if("deleting", &part, e, |e| {
                    e.is_waf_nonexistent_item_exception()
                })
            }),
    )
}

#[cfg(test)]
#[path = "wafv2_tests.rs"]
mod tests;
