//! Elastic Load Balancing v2: the service's Application Load Balancer, its
//! target group and its listeners.

use std::time::Duration;

use aws_sdk_elasticloadbalancingv2::error::ProvideErrorMetadata;
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, Certificate, FixedResponseActionConfig, HttpHeaderConditionConfig,
    IpAddressType, LoadBalancerSchemeEnum, LoadBalancerTypeEnum, Matcher, ProtocolEnum,
    RedirectActionConfig, RedirectActionStatusCodeEnum, RuleCondition, Tag, TargetTypeEnum,
};
use aws_sdk_elasticloadbalancingv2::Client;

use super::wait::{Missing, Seen, Wait};
use super::{aws_error, gone_is_done, gone_is_none, not_found_if, retry_eventual};
use crate::error::Result;

pub use super::Tags;

/// AWS's recommended policy: TLS 1.3, and TLS 1.2 for older clients.
pub const TLS_POLICY: &str = "ELBSecurityPolicy-TLS13-1-2-2021-06";

fn to_tags(tags: &Tags) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

#[derive(Clone, Debug, PartialEq)]
pub struct LoadBalancerInfo {
    pub arn: String,
    pub dns_name: String,
    pub zone_id: String,
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    pub state: String,
}

/// Creates an internet-facing ALB over `subnets` (dual stack when the subnets allow).
pub async fn create_load_balancer(
    c: &Client,
    name: &str,
    subnets: &[String],
    security_group: &str,
    tags: &Tags,
) -> Result<LoadBalancerInfo> {
    let out = c
        .create_load_balancer()
        .name(name)
        .r#type(LoadBalancerTypeEnum::Application)
        .scheme(LoadBalancerSchemeEnum::InternetFacing)
        .ip_address_type(IpAddressType::Ipv4)
        .set_subnets(Some(subnets.to_vec()))
        .security_groups(security_group)
        .set_tags(Some(to_tags(tags)))
        .send()
        .await
        .map_err(|e| aws_error("creating", &format!("load balancer {name:?}"), e))?;
    let lb = out.load_balancers().first();
    Ok(LoadBalancerInfo {
        arn: lb
            .and_then(|l| l.load_balancer_arn())
            .unwrap_or_default()
            .into(),
        dns_name: lb.and_then(|l| l.dns_name()).unwrap_or_default().into(),
        zone_id: lb
            .and_then(|l| l.canonical_hosted_zone_id())
            .unwrap_or_default()
            .into(),
        subnets: subnets.to_vec(),
        security_groups: vec![security_group.to_string()],
        state: lb
            .and_then(|l| l.state())
            .and_then(|s| s.code())
            .map(|c| c.as_str().to_string())
            .unwrap_or_default(),
    })
}

/// The ALB named `name`, or `None`.
pub async fn find_load_balancer(c: &Client, name: &str) -> Result<Option<LoadBalancerInfo>> {
    let out = match c.describe_load_balancers().names(name).send().await {
        Ok(o) => o,
        Err(e) => {
            let e = not_found_if("describing", &format!("load balancer {name:?}"), e, |e| {
                e.is_load_balancer_not_found_exception()
            });
            return if e.is_not_found() { Ok(None) } else { Err(e) };
        }
    };
    Ok(out.load_balancers().first().map(|l| LoadBalancerInfo {
        arn: l.load_balancer_arn().unwrap_or_default().into(),
        dns_name: l.dns_name().unwrap_or_default().into(),
        zone_id: l.canonical_hosted_zone_id().unwrap_or_default().into(),
        subnets: {
            let mut s: Vec<String> = l
                .availability_zones()
                .iter()
                .filter_map(|z| z.subnet_id().map(str::to_string))
                .collect();
            s.sort();
            s
        },
        security_groups: l.security_groups().to_vec(),
        state: l
            .state()
            .and_then(|s| s.code())
            .map(|c| c.as_str().to_string())
            .unwrap_or_default(),
    }))
}

pub async fn set_subnets(c: &Client, arn: &str, subnets: &[String]) -> Result<()> {
    c.set_subnets()
        .load_balancer_arn(arn)
        .set_subnets(Some(subnets.to_vec()))
        .send()
        .await
        .map_err(|e| aws_error("setting subnets of", &format!("load balancer {arn}"), e))?;
    Ok(())
}

/// The ALB's state (`provisioning`, `active`, `active_impaired`, `failed`)
/// with AWS's reason, or `None` when it is gone.
async fn load_balancer_seen(c: &Client, arn: &str) -> Result<Option<Seen>> {
    let part = format!("load balancer {arn}");
    match c
        .describe_load_balancers()
        .load_balancer_arns(arn)
        .send()
        .await
    {
        Ok(out) => Ok(out.load_balancers().first().map(|l| {
            let state = l.state();
            Seen::with_reason(
                state
                    .and_then(|s| s.code())
                    .map(|c| c.as_str())
                    .unwrap_or_default(),
                state.and_then(|s| s.reason()).unwrap_or_default(),
            )
        })),
        Err(e) => {
            let e = not_found_if("describing", &part, e, |e| {
                e.is_load_balancer_not_found_exception()
            });
            if e.is_not_found() {
                Ok(None)
            } else {
                Err(e)
            }
        }
    }
}

/// Waits until the ALB is active (provisioning takes a few minutes on AWS).
pub async fn wait_load_balancer_active(c: &Client, arn: &str, limit: Duration) -> Result<()> {
    let part = format!("load balancer {arn}");
    Wait {
        part: &part,
        goal: "active",
        done: &["active"],
        pending: &["provisioning"],
        missing: Missing::WhileNew,
        timeout: limit,
    }
    .until(|| load_balancer_seen(c, arn))
    .await
    .map(|_| ())
}

/// Deletes the ALB (its listeners go with it) and waits until it is gone. Gone is done.
pub async fn delete_load_balancer(c: &Client, arn: &str, limit: Duration) -> Result<()> {
    let part = format!("load balancer {arn}");
    match c.delete_load_balancer().load_balancer_arn(arn).send().await {
        Ok(_) => {}
        Err(e) => {
            return gone_is_done(Err(not_found_if("deleting", &part, e, |e| {
                e.is_load_balancer_not_found_exception()
            })));
        }
    }
    Wait {
        part: &part,
        goal: "deleted",
        done: &[],
        pending: &["active", "provisioning", "active_impaired", "failed"],
        missing: Missing::Done,
        timeout: limit,
    }
    .until(|| load_balancer_seen(c, arn))
    .await
    .map(|_| ())
}

/// How Elastic Load Balancing describes the network interfaces it makes for
/// the load balancer `arn`: "ELB app/<name>/<id>".
pub fn interface_description(arn: &str) -> String {
    let id = arn.split_once(":loadbalancer/").map_or(arn, |(_, r)| r);
    format!("ELB {id}")
}

/// How the load balancer decides a task is healthy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthCheck {
    pub path: String,
    pub interval_secs: i32,
    pub timeout_secs: i32,
    pub healthy_threshold: i32,
    pub unhealthy_threshold: i32,
    pub matcher: String,
}

/// Seconds a deregistered target keeps its open connections: long enough for a
/// Fastify request to finish, short enough that a deploy does not stall.
const DEREGISTRATION_DELAY_SECS: &str = "30";

/// Creates an IP target group for Fargate tasks; returns its ARN.
pub async fn create_target_group(
    c: &Client,
    name: &str,
    vpc_id: &str,
    port: i32,
    hc: &HealthCheck,
    tags: &Tags,
) -> Result<String> {
    let part = format!("target group {name:?}");
    let out = c
        .create_target_group()
        .name(name)
        .protocol(ProtocolEnum::Http)
        .port(port)
        .vpc_id(vpc_id)
        .target_type(TargetTypeEnum::Ip)
        .health_check_protocol(ProtocolEnum::Http)
        .health_check_path(&hc.path)
        .health_check_interval_seconds(hc.interval_secs)
        .health_check_timeout_seconds(hc.timeout_secs)
        .healthy_threshold_count(hc.healthy_threshold)
        .unhealthy_threshold_count(hc.unhealthy_threshold)
        .matcher(Matcher::builder().http_code(&hc.matcher).build())
        .set_tags(Some(to_tags(tags)))
        .send()
        .await
        .map_err(|e| aws_error("creating", &part, e))?;
    let arn = out
        .target_groups()
        .first()
        .and_then(|t| t.target_group_arn())
        .unwrap_or_default()
        .to_string();
    c.modify_target_group_attributes()
        .target_group_arn(&arn)
        .attributes(
            aws_sdk_elasticloadbalancingv2::types::TargetGroupAttribute::builder()
                .key("deregistration_delay.timeout_seconds")
                .value(DEREGISTRATION_DELAY_SECS)
                .build(),
        )
        .send()
        .await
        .map_err(|e| aws_error("setting attributes of", &part, e))?;
    Ok(arn)
}

#[derive(Clone, Debug, PartialEq)]
pub struct TargetGroupInfo {
    pub arn: String,
    pub port: i32,
    pub vpc_id: String,
    pub health_check: HealthCheck,
}

pub async fn find_target_group(c: &Client, name: &str) -> Result<Option<TargetGroupInfo>> {
    let out = match c.describe_target_groups().names(name).send().await {
        Ok(o) => o,
        Err(e) => {
            let e = not_found_if("describing", &format!("target group {name:?}"), e, |e| {
                e.is_target_group_not_found_exception()
            });
            return if e.is_not_found() { Ok(None) } else { Err(e) };
        }
    };
    Ok(out.target_groups().first().map(|t| TargetGroupInfo {
        arn: t.target_group_arn().unwrap_or_default().into(),
        port: t.port().unwrap_or_default(),
        vpc_id: t.vpc_id().unwrap_or_default().into(),
        health_check: HealthCheck {
            path: t.health_check_path().unwrap_or_default().into(),
            interval_secs: t.health_check_interval_seconds().unwrap_or_default(),
            timeout_secs: t.health_check_timeout_seconds().unwrap_or_default(),
            healthy_threshold: t.healthy_threshold_count().unwrap_or_default(),
            unhealthy_threshold: t.unhealthy_threshold_count().unwrap_or_default(),
            matcher: t
                .matcher()
                .and_then(|m| m.http_code())
                .unwrap_or_default()
                .into(),
        },
    }))
}

pub async fn modify_health_check(c: &Client, arn: &str, hc: &HealthCheck) -> Result<()> {
    c.modify_target_group()
        .target_group_arn(arn)
        .health_check_path(&hc.path)
        .health_check_interval_seconds(hc.interval_secs)
        .health_check_timeout_seconds(hc.timeout_secs)
        .healthy_threshold_count(hc.healthy_threshold)
        .unhealthy_threshold_count(hc.unhealthy_threshold)
        .matcher(Matcher::builder().http_code(&hc.matcher).build())
        .send()
        .await
        .map_err(|e| aws_error("modifying", &format!("target group {arn}"), e))?;
    Ok(())
}

/// Deletes the target group; retried while the load balancer just deleted still holds it.
pub async fn delete_target_group(c: &Client, arn: &str) -> Result<()> {
    let part = format!("target group {arn}");
    let res = retry_eventual(&["ResourceInUse"], || async {
        c.delete_target_group()
            .target_group_arn(arn)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                // emulator: the local endpoint (moto) answers TargetGroupNotFound
                // for a group that is gone; AWS's API reference gives
                // DeleteTargetGroup no such error (only ResourceInUse), so the
                // SDK has no variant to ask and the code is matched as a string.
                not_found_if("deleting", &part, e, |e| {
                    e.code() == Some("TargetGroupNotFound")
                })
            })
    })
    .await;
    gone_is_done(res)
}

fn forward(target_group: &str) -> Action {
    Action::builder()
        .r#type(ActionTypeEnum::Forward)
        .target_group_arn(target_group)
        .build()
}

fn redirect_to_https() -> Action {
    Action::builder()
        .r#type(ActionTypeEnum::Redirect)
        .redirect_config(
            RedirectActionConfig::builder()
                .protocol("HTTPS")
                .port("443")
                .status_code(RedirectActionStatusCodeEnum::Http301)
                .build(),
        )
        .build()
}

pub use super::ORIGIN_HEADER;

/// What a refused request gets: a listener's default action when only
/// requests with [`ORIGIN_HEADER`] are forwarded.
fn refuse() -> Action {
    Action::builder()
        .r#type(ActionTypeEnum::FixedResponse)
        .fixed_response_config(
            FixedResponseActionConfig::builder()
                .status_code("403")
                .content_type("text/plain")
                .message_body("Forbidden")
                .build(),
        )
        .build()
}

/// The condition of the origin rule: [`ORIGIN_HEADER`] is one of `values`.
/// ALB compares header values without regard to case, which is why the
/// secrets are made of lowercase letters and digits.
fn origin_condition(values: &[String]) -> RuleCondition {
    RuleCondition::builder()
        .field("http-header")
        .http_header_config(
            HttpHeaderConditionConfig::builder()
                .http_header_name(ORIGIN_HEADER)
                .set_values(Some(values.to_vec()))
                .build(),
        )
        .build()
}

/// The listeners as the service wants them.
#[derive(Clone, Copy, Debug)]
pub struct ListenerSpec<'a> {
    pub target_group: &'a str,
    /// HTTPS on 443 with it (and 80 redirecting there); HTTP on 80 without.
    pub certificate: Option<&'a str>,
    /// The origin secrets accepted in [`ORIGIN_HEADER`]: with them, the
    /// listener that serves traffic forwards only requests that carry one
    /// (a rule) and answers every other request 403 (its default action).
    pub origin_values: Option<&'a [String]>,
}

impl ListenerSpec<'_> {
    /// The port that serves the API: 443 with a certificate, else 80.
    pub fn traffic_port(&self) -> i32 {
        if self.certificate.is_some() {
            443
        } else {
            80
        }
    }
}

/// A listener as the service reads it: its port, its default action's type
/// (`forward`, `redirect` or `fixed-response`) and its certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListenerInfo {
    pub arn: String,
    pub port: i32,
    pub action: String,
    pub certificate_arn: Option<String>,
}

/// The listener rule that forwards requests carrying [`ORIGIN_HEADER`].
#[derive(Clone, PartialEq, Eq)]
pub struct OriginRule {
    pub arn: String,
    /// The values it accepts (origin secrets: never logged).
    pub values: Vec<String>,
}

impl std::fmt::Debug for OriginRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OriginRule")
            .field("arn", &self.arn)
            .field("values", &format_args!("({} hidden)", self.values.len()))
            .finish()
    }
}

pub async fn listeners(c: &Client, lb_arn: &str) -> Result<Vec<ListenerInfo>> {
    let out = match c
        .describe_listeners()
        .load_balancer_arn(lb_arn)
        .send()
        .await
    {
        Ok(o) => o,
        Err(e) => {
            let e = not_found_if("listing", &format!("listeners of {lb_arn}"), e, |e| {
                e.is_load_balancer_not_found_exception() || e.is_listener_not_found_exception()
            });
            return if e.is_not_found() {
                Ok(Vec::new())
            } else {
                Err(e)
            };
        }
    };
    let mut out: Vec<ListenerInfo> = out
        .listeners()
        .iter()
        .map(|l| ListenerInfo {
            arn: l.listener_arn().unwrap_or_default().into(),
            port: l.port().unwrap_or_default(),
            action: l
                .default_actions()
                .first()
                .and_then(|a| a.r#type())
                .map(|t| t.as_str().to_string())
                .unwrap_or_default(),
            certificate_arn: l
                .certificates()
                .first()
                .and_then(|c| c.certificate_arn())
                .map(str::to_string),
        })
        .collect();
    out.sort_by_key(|l| l.port);
    Ok(out)
}

/// The listener's rule on [`ORIGIN_HEADER`], if it has one.
pub async fn origin_rule(c: &Client, listener_arn: &str) -> Result<Option<OriginRule>> {
    let part = format!("rules of listener {listener_arn}");
    let out = gone_is_none(
        c.describe_rules()
            .listener_arn(listener_arn)
            .send()
            .await
            .map_err(|e| {
                not_found_if("listing", &part, e, |e| {
                    e.is_listener_not_found_exception() || e.is_rule_not_found_exception()
                })
            }),
    )?;
    Ok(out.and_then(|out| {
        out.rules().iter().find_map(|r| {
            if r.is_default() == Some(true) {
                return None;
            }
            let header = r.conditions().iter().find_map(|c| {
                c.http_header_config().filter(|h| {
                    h.http_header_name()
                        .is_some_and(|n| n.eq_ignore_ascii_case(ORIGIN_HEADER))
                })
            })?;
            Some(OriginRule {
                arn: r.rule_arn().unwrap_or_default().to_string(),
                values: header.values().to_vec(),
            })
        })
    }))
}

/// Makes or changes the listeners so that they are what `want` asks for,
/// in an order that never refuses a request that both the old and the new
/// listeners accept: HTTPS exists before port 80 redirects to it; the
/// origin rule accepts the new secrets before the listener refuses the rest,
/// and the listener forwards everything again before the rule goes. Returns
/// the origin rule, when `want` has one.
pub async fn converge_listeners(
    c: &Client,
    lb_arn: &str,
    want: ListenerSpec<'_>,
    tags: &Tags,
) -> Result<Option<OriginRule>> {
    let had = listeners(c, lb_arn).await?;
    let part = |port: i32| format!("listener {port} of {lb_arn}");
    let traffic = want.traffic_port();
    let traffic_default = if want.origin_values.is_some() {
        refuse()
    } else {
        forward(want.target_group)
    };
    let mut arns = std::collections::BTreeMap::new();
    // HTTPS first: a redirect to a port with no listener would drop traffic.
    if let Some(cert) = want.certificate {
        let arn = match had.iter().find(|l| l.port == 443) {
            None => {
                let out = c
                    .create_listener()
                    .load_balancer_arn(lb_arn)
                    .protocol(ProtocolEnum::Https)
                    .port(443)
                    .ssl_policy(TLS_POLICY)
                    .certificates(Certificate::builder().certificate_arn(cert).build())
                    .default_actions(traffic_default.clone())
                    .set_tags(Some(to_tags(tags)))
                    .send()
                    .await
                    .map_err(|e| aws_error("creating", &part(443), e))?;
                listener_arn(out.listeners())
            }
            Some(l) => {
                if l.certificate_arn.as_deref() != Some(cert) {
                    c.modify_listener()
                        .listener_arn(&l.arn)
                        .certificates(Certificate::builder().certificate_arn(cert).build())
                        .send()
                        .await
                        .map_err(|e| aws_error("modifying", &part(443), e))?;
                }
                l.arn.clone()
            }
        };
        arns.insert(443, arn);
    }
    let http_default = if want.certificate.is_some() {
        redirect_to_https()
    } else {
        traffic_default.clone()
    };
    let arn = match had.iter().find(|l| l.port == 80) {
        None => {
            let out = c
                .create_listener()
                .load_balancer_arn(lb_arn)
                .protocol(ProtocolEnum::Http)
                .port(80)
                .default_actions(http_default)
                .set_tags(Some(to_tags(tags)))
                .send()
                .await
                .map_err(|e| aws_error("creating", &part(80), e))?;
            listener_arn(out.listeners())
        }
        Some(l) => l.arn.clone(),
    };
    arns.insert(80, arn);

    // The origin rule on the listener that serves traffic, before it refuses
    // what the rule does not forward; none on the other. 443 first: when a
    // certificate comes, HTTPS accepts the origin's requests before port 80
    // redirects there.
    let mut rule = None;
    for (port, arn) in arns.iter().rev() {
        let now = had.iter().find(|l| &l.arn == arn);
        let (default, want_action) = if *port == traffic {
            (traffic_default.clone(), want_action_type(want))
        } else {
            (redirect_to_https(), "redirect")
        };
        let want_values = want.origin_values.filter(|_| *port == traffic);
        let found = origin_rule(c, arn).await?;
        if let Some(values) = want_values {
            rule = Some(set_origin_rule(c, arn, found.as_ref(), values, want, tags).await?);
        }
        if now.is_some_and(|l| l.action != want_action) {
            c.modify_listener()
                .listener_arn(arn)
                .default_actions(default)
                .send()
                .await
                .map_err(|e| aws_error("modifying", &part(*port), e))?;
        }
        if let (None, Some(found)) = (want_values, found) {
            delete_rule(c, &found.arn).await?;
        }
    }

    // No certificate any more: HTTP serves again before HTTPS goes.
    if want.certificate.is_none() {
        if let Some(l) = had.iter().find(|l| l.port == 443) {
            gone_is_done(
                c.delete_listener()
                    .listener_arn(&l.arn)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| {
                        not_found_if("deleting", &part(443), e, |e| {
                            e.is_listener_not_found_exception()
                        })
                    }),
            )?;
        }
    }
    Ok(rule)
}

/// The default action's type the traffic listener should have.
fn want_action_type(want: ListenerSpec<'_>) -> &'static str {
    if want.origin_values.is_some() {
        "fixed-response"
    } else {
        "forward"
    }
}

fn listener_arn(listeners: &[aws_sdk_elasticloadbalancingv2::types::Listener]) -> String {
    listeners
        .first()
        .and_then(|l| l.listener_arn())
        .unwrap_or_default()
        .to_string()
}

/// The origin rule of the listener `listener`, accepting `values`: made
/// (priority 1, so that it is evaluated first) or changed.
async fn set_origin_rule(
    c: &Client,
    listener: &str,
    found: Option<&OriginRule>,
    values: &[String],
    want: ListenerSpec<'_>,
    tags: &Tags,
) -> Result<OriginRule> {
    let part = format!("origin rule of listener {listener}");
    match found {
        Some(r) if r.values == values => Ok(r.clone()),
        Some(r) => {
            c.modify_rule()
                .rule_arn(&r.arn)
                .conditions(origin_condition(values))
                .actions(forward(want.target_group))
                .send()
                .await
                .map_err(|e| aws_error("modifying", &part, e))?;
            Ok(OriginRule {
                arn: r.arn.clone(),
                values: values.to_vec(),
            })
        }
        None => {
            let out = c
                .create_rule()
                .listener_arn(listener)
                .priority(1)
                .conditions(origin_condition(values))
                .actions(forward(want.target_group))
                .set_tags(Some(to_tags(tags)))
                .send()
                .await
                .map_err(|e| aws_error("creating", &part, e))?;
            Ok(OriginRule {
                arn: out
                    .rules()
                    .first()
                    .and_then(|r| r.rule_arn())
                    .unwrap_or_default()
                    .to_string(),
                values: values.to_vec(),
            })
        }
    }
}

/// Deletes a listener rule. Gone is done.
pub async fn delete_rule(c: &Client, arn: &str) -> Result<()> {
    gone_is_done(
        c.delete_rule()
            .rule_arn(arn)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                not_found_if("deleting", &format!("listener rule {arn}"), e, |e| {
                    e.is_rule_not_found_exception()
                })
            }),
    )
}

pub async fn set_tags(c: &Client, arn: &str, had: &Tags, want: &Tags) -> Result<()> {
    let gone: Vec<String> = had
        .keys()
        .filter(|k| !want.contains_key(*k))
        .cloned()
        .collect();
    if !gone.is_empty() {
        c.remove_tags()
            .resource_arns(arn)
            .set_tag_keys(Some(gone))
            .send()
            .await
            .map_err(|e| aws_error("untagging", arn, e))?;
    }
    if had != want && !want.is_empty() {
        c.add_tags()
            .resource_arns(arn)
            .set_tags(Some(to_tags(want)))
            .send()
            .await
            .map_err(|e| aws_error("tagging", arn, e))?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "elbv2_tests.rs"]
mod tests;
