//! fansite_service against the resource contract's nine tests, plus its
//! deployment behaviour: calls in order, the desired count left to
//! autoscaling, failing tasks, and the Slack notifier's code.
//!
//! The local endpoint runs no ECS tasks: it reports MOTO_ECS_SERVICE_RUNNING
//! (2, see `harness::ECS_RUNNING_TASKS`) running for each service. What
//! depends on tasks really starting and failing (the circuit breaker's
//! rollback) is tested in `provider/src/aws/ecs_tests.rs` with the SDK's test
//! doubles instead.

use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};
use serde_json::Value;

use crate::fault_proxy::FaultProxy;
use crate::harness::{
    autoscaling, cloudwatch, ec2, ecs, ecs_at, elb, elb_at, endpoint, iam, lambda, log_groups,
    logs, repo_root, secrets, sns, start_moto, state_differences, Config, Terraform, Workspace,
};

const ADDR: &str = "fansite_service.test";
const WEBHOOK: &str = "https://hooks.slack.com/services/T0FANSITE/B0ALERTS/secretpart123";

/// A fansite_service with the tests' defaults, in a fansite_network of its own.
pub(crate) fn service(region: &'static str, test: &str, tf: &Terraform) -> Config {
    // At most 28 characters: a load balancer's name is at most 32.
    let name = format!(
        "{test}-{}-{}",
        tf.version.replace('.', ""),
        std::process::id() % 100_000
    );
    Config::new("fansite_service", region, name)
        .attr(
            "image",
            format!("\"123456789012.dkr.ecr.{region}.amazonaws.com/fansite-api\""),
        )
        .attr("vpc_id", "fansite_network.net.vpc_id")
        .attr("public_subnet_ids", "fansite_network.net.public_subnet_ids")
        .attr(
            "private_subnet_ids",
            "fansite_network.net.private_subnet_ids",
        )
        .with("image_tag = \"1.0.0\"")
        .with("tags = { app = \"fansite\" }")
        .extra(network)
}

/// The service's fansite_network, named as the service.
fn network(svc: &Config) -> String {
    format!(
        "resource \"fansite_network\" \"net\" {{\n  name         = \"{}\"\n  cidr_block   = \"10.70.0.0/16\"\n  nat_strategy = \"none\"\n}}\n",
        svc.name
    )
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

fn update() -> Vec<(String, Vec<String>)> {
    vec![(ADDR.to_string(), vec!["update".to_string()])]
}

/// What a database would give the service: its security group (made through
/// the API in the network) and a connection secret.
pub(crate) struct Db {
    pub(crate) sg: String,
    pub(crate) secret: String,
}

/// Applies the network alone, then makes a stand-in database group and secret.
pub(crate) async fn setup(svc: &Config, tf: &Terraform, test: &str) -> (Workspace, Db) {
    let ws = Workspace::applied(tf, test, &svc.clone().extras_only().hcl());
    let vpc = s(&ws.state_values("fansite_network.net")["vpc_id"]);
    let sg = ec2(svc.region)
        .await
        .create_security_group()
        .vpc_id(&vpc)
        .group_name(format!("{}-db", svc.name))
        .description("database")
        .send()
        .await
        .expect("db group")
        .group_id()
        .unwrap_or_default()
        .to_string();
    let secret = secrets(svc.region)
        .await
        .create_secret()
        .name(format!("fansite/{}/connection", svc.name))
        .secret_string(r#"{"host":"db.local","username":"fan"}"#)
        .send()
        .await
        .expect("secret")
        .arn()
        .unwrap_or_default()
        .to_string();
    (ws, Db { sg, secret })
}

/// The full service the tests start from: secrets, the database's group, alerts to Slack.
pub(crate) fn full(svc: Config, db: &Db) -> Config {
    svc.with("environment = { NODE_ENV = \"production\" }")
        .with(&format!(
            "secrets = {{ DB_HOST = \"{}:host::\", DB_USER = \"{}:username::\" }}",
            db.secret, db.secret
        ))
        .with(&format!(
            "allow_to {{\n    security_group_id = \"{}\"\n  }}",
            db.sg
        ))
        .with(&format!(
            "alerts {{\n    slack_webhook_url = \"{WEBHOOK}\"\n  }}"
        ))
}

/// Whether the endpoint has the security group: InvalidGroup.NotFound means
/// no; any other error fails the test.
pub(crate) async fn group_exists(region: &str, sg: &str) -> bool {
    match ec2(region)
        .await
        .describe_security_groups()
        .group_ids(sg)
        .send()
        .await
    {
        Ok(_) => true,
        Err(e)
            if aws_sdk_ec2::error::ProvideErrorMetadata::code(&e)
                == Some("InvalidGroup.NotFound") =>
        {
            false
        }
        Err(e) => panic!("describe security groups {sg}: {e:?}"),
    }
}

/// Whether the endpoint has the secret `id` (a name or an ARN), not
/// scheduled for deletion: ResourceNotFoundException means no; any other
/// error fails the test.
pub(crate) async fn secret_live(region: &str, id: &str) -> bool {
    match secrets(region)
        .await
        .describe_secret()
        .secret_id(id)
        .send()
        .await
    {
        Ok(d) => d.deleted_date().is_none(),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            false
        }
        Err(e) => panic!("describe secret {id}: {e:?}"),
    }
}

/// Whether the endpoint has the Lambda function: ResourceNotFoundException
/// means no; any other error fails the test.
async fn function_exists(region: &str, name: &str) -> bool {
    match lambda(region)
        .await
        .get_function()
        .function_name(name)
        .send()
        .await
    {
        Ok(_) => true,
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            false
        }
        Err(e) => panic!("get function {name}: {e:?}"),
    }
}

/// Every ECS failure in `failures` is a missing one (reason MISSING), as
/// DescribeClusters and DescribeServices report what they do not have;
/// any other reason fails the test.
fn only_missing(call: &str, failures: &[aws_sdk_ecs::types::Failure]) {
    assert!(
        failures.iter().all(|f| f.reason() == Some("MISSING")),
        "{call}: {failures:?}"
    );
}

/// Every part of the service the endpoint still has, by kind. Only each
/// call's own not-found error means a part is gone; any other error fails
/// the test.
pub(crate) async fn live_parts(
    region: &str,
    name: &str,
    state: &Value,
    db_sg: Option<&str>,
) -> Vec<String> {
    let mut parts = Vec::new();
    let e = ecs(region).await;
    let cluster = name;
    match e
        .describe_services()
        .cluster(cluster)
        .services(name)
        .send()
        .await
    {
        Ok(out) => {
            only_missing("describe services", out.failures());
            parts.extend(
                out.services()
                    .iter()
                    .filter(|s| s.status() == Some("ACTIVE"))
                    .map(|s| format!("service {}", s.service_name().unwrap_or_default())),
            );
        }
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_cluster_not_found_exception()) => {}
        Err(err) => panic!("describe services {name}: {err:?}"),
    }
    let out = e
        .describe_clusters()
        .clusters(cluster)
        .send()
        .await
        .expect("describe clusters");
    only_missing("describe clusters", out.failures());
    parts.extend(
        out.clusters()
            .iter()
            .filter(|c| c.status() == Some("ACTIVE"))
            .map(|c| format!("cluster {}", c.cluster_name().unwrap_or_default())),
    );
    let out = e
        .list_task_definitions()
        .family_prefix(name)
        .status(aws_sdk_ecs::types::TaskDefinitionStatus::Active)
        .send()
        .await
        .expect("list task definitions");
    parts.extend(
        out.task_definition_arns()
            .iter()
            .map(|a| format!("task definition {a}")),
    );
    let lb = elb(region).await;
    match lb.describe_load_balancers().names(name).send().await {
        Ok(out) => parts.extend(out.load_balancers().iter().map(|l| {
            format!(
                "load balancer {}",
                l.load_balancer_name().unwrap_or_default()
            )
        })),
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_load_balancer_not_found_exception()) => {}
        Err(err) => panic!("describe load balancers {name}: {err:?}"),
    }
    match lb.describe_target_groups().names(name).send().await {
        Ok(out) => parts.extend(
            out.target_groups()
                .iter()
                .map(|t| format!("target group {}", t.target_group_name().unwrap_or_default())),
        ),
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_target_group_not_found_exception()) => {}
        Err(err) => panic!("describe target groups {name}: {err:?}"),
    }
    for key in ["security_group_id", "alb_security_group_id"] {
        let sg = s(&state[key]);
        if !sg.is_empty() && group_exists(region, &sg).await {
            parts.push(format!("security group {sg}"));
        }
    }
    if let Some(db_sg) = db_sg {
        let task_sg = s(&state["security_group_id"]);
        let g = ec2(region)
            .await
            .describe_security_groups()
            .group_ids(db_sg)
            .send()
            .await
            .expect("db group");
        let opened = g.security_groups()[0]
            .ip_permissions()
            .iter()
            .flat_map(|p| p.user_id_group_pairs())
            .any(|p| p.group_id() == Some(task_sg.as_str()));
        if opened {
            parts.push(format!("rule on {db_sg}"));
        }
    }
    let i = iam().await;
    for role in ["exec", "task", "notifier"] {
        let role = format!("{name}-{role}");
        match i.get_role().role_name(&role).send().await {
            Ok(_) => parts.push(format!("role {role}")),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_no_such_entity_exception()) => {}
            Err(err) => panic!("get role {role}: {err:?}"),
        }
    }
    for prefix in [format!("/ecs/{name}"), format!("/aws/lambda/{name}-slack")] {
        parts.extend(
            log_groups(region, &prefix)
                .await
                .iter()
                .map(|g| format!("log group {}", g.log_group_name().unwrap_or_default())),
        );
    }
    let topics = sns(region)
        .await
        .list_topics()
        .send()
        .await
        .expect("topics");
    parts.extend(
        topics
            .topics()
            .iter()
            .filter_map(|t| t.topic_arn())
            .filter(|a| a.ends_with(&format!(":{name}-alarms")))
            .map(|a| format!("topic {a}")),
    );
    let alarms = cloudwatch(region)
        .await
        .describe_alarms()
        .alarm_names(format!("{name}-cpu-high"))
        .send()
        .await
        .expect("alarms");
    parts.extend(
        alarms
            .metric_alarms()
            .iter()
            .map(|a| format!("alarm {}", a.alarm_name().unwrap_or_default())),
    );
    if function_exists(region, &format!("{name}-slack")).await {
        parts.push(format!("function {name}-slack"));
    }
    if secret_live(region, &format!("fansite/{name}/slack-webhook")).await {
        parts.push("webhook secret".into());
    }
    if secret_live(region, &format!("fansite/{name}/origin-verify")).await {
        parts.push("origin secret".into());
    }
    let targets = autoscaling(region)
        .await
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_ids(format!("service/{cluster}/{name}"))
        .send()
        .await
        .expect("scalable targets");
    parts.extend(
        targets
            .scalable_targets()
            .iter()
            .map(|t| format!("scalable target {}", t.resource_id())),
    );
    parts
}

/// How the load balancer's listener on `port` answers a request that
/// carries `header` in X-Origin-Verify (`None`: no such header), evaluated
/// from the endpoint's listener and rules as ALB evaluates them: rules in
/// order of priority, an http-header condition matching when the header is
/// one of its values (compared without regard to case), else the default
/// action. Answers `forward` or `fixed-response <status>`. Only the
/// conditions the provider makes are understood; any other fails the test.
pub(crate) async fn listener_answer(
    region: &str,
    lb_arn: &str,
    port: i32,
    header: Option<&str>,
) -> String {
    let e = elb(region).await;
    let listeners = e
        .describe_listeners()
        .load_balancer_arn(lb_arn)
        .send()
        .await
        .expect("listeners");
    let listener = listeners
        .listeners()
        .iter()
        .find(|l| l.port() == Some(port))
        .unwrap_or_else(|| panic!("no listener on {port}"));
    let rules = e
        .describe_rules()
        .listener_arn(listener.listener_arn().unwrap_or_default())
        .send()
        .await
        .expect("rules");
    let answer = |actions: &[aws_sdk_elasticloadbalancingv2::types::Action]| {
        let a = &actions[0];
        match a.fixed_response_config() {
            Some(f) => format!("fixed-response {}", f.status_code().unwrap_or_default()),
            None => a
                .r#type()
                .map(|t| t.as_str().to_string())
                .unwrap_or_default(),
        }
    };
    let mut ordered: Vec<_> = rules
        .rules()
        .iter()
        .filter(|r| r.is_default() != Some(true))
        .collect();
    ordered.sort_by_key(|r| r.priority().and_then(|p| p.parse::<i32>().ok()));
    for rule in ordered {
        let matches = rule.conditions().iter().all(|c| {
            assert_eq!(
                c.field(),
                Some("http-header"),
                "a condition the test does not evaluate"
            );
            let h = c.http_header_config().expect("http-header config");
            assert!(
                h.values().iter().all(|v| !v.contains(['*', '?'])),
                "wildcards are not evaluated here"
            );
            h.http_header_name()
                .is_some_and(|n| n.eq_ignore_ascii_case("X-Origin-Verify"))
                && header.is_some_and(|v| h.values().iter().any(|w| w.eq_ignore_ascii_case(v)))
        });
        if matches {
            return answer(rule.actions());
        }
    }
    answer(listener.default_actions())
}

/// The secret's value at `stage` (`AWSCURRENT`, `AWSPREVIOUS`), if it has one.
/// ResourceNotFoundException (no such secret, or no version at that stage)
/// means none, as does InvalidRequestException for a secret scheduled for
/// deletion; any other error fails the test.
pub(crate) async fn secret_at(region: &str, arn: &str, stage: &str) -> Option<(String, String)> {
    let e = match secrets(region)
        .await
        .get_secret_value()
        .secret_id(arn)
        .version_stage(stage)
        .send()
        .await
    {
        Ok(v) => {
            return Some((
                v.version_id().unwrap_or_default().to_string(),
                v.secret_string().unwrap_or_default().to_string(),
            ))
        }
        Err(e) => e,
    };
    let not_found = e
        .as_service_error()
        .is_some_and(|e| e.is_resource_not_found_exception());
    // A secret scheduled for deletion refuses reads with InvalidRequestException.
    let refused = e
        .as_service_error()
        .is_some_and(|e| e.is_invalid_request_exception());
    if not_found || (refused && !secret_live(region, arn).await) {
        return None;
    }
    panic!("get secret value {arn} at {stage}: {e:?}")
}

/// Whether any of `values` is in the workspace's state file.
pub(crate) fn state_holds(ws: &Workspace, values: &[&str]) -> bool {
    let state = std::fs::read_to_string(ws.dir.join("terraform.tfstate")).expect("state file");
    values.iter().any(|v| state.contains(v))
}

/// Whether the endpoint has an ACTIVE ECS service `name` in cluster `name`.
/// A missing cluster means no; any other error fails the test.
async fn service_active(e: &aws_sdk_ecs::Client, name: &str) -> bool {
    match e
        .describe_services()
        .cluster(name)
        .services(name)
        .send()
        .await
    {
        Ok(o) => o.services().iter().any(|s| s.status() == Some("ACTIVE")),
        Err(err) => {
            let code = aws_sdk_ecs::error::ProvideErrorMetadata::code(&err);
            assert_eq!(
                code,
                Some("ClusterNotFoundException"),
                "describe services: {err:?}"
            );
            false
        }
    }
}

pub(crate) async fn destroy_and_check(ws: &Workspace, svc: &Config, db: Option<&Db>) {
    let state = ws.state_values(ADDR);
    ws.destroy();
    let left = live_parts(svc.region, &svc.name, &state, db.map(|d| d.sg.as_str())).await;
    assert!(left.is_empty(), "destroy left parts behind: {left:?}");
}

async fn service_info(region: &str, name: &str) -> aws_sdk_ecs::types::Service {
    ecs(region)
        .await
        .describe_services()
        .cluster(name)
        .services(name)
        .send()
        .await
        .expect("service")
        .services()[0]
        .clone()
}

async fn task_definition(region: &str, arn: &str) -> aws_sdk_ecs::types::TaskDefinition {
    ecs(region)
        .await
        .describe_task_definition()
        .task_definition(arn)
        .send()
        .await
        .expect("task definition")
        .task_definition()
        .expect("task definition")
        .clone()
}

/// The TCP ports `sg` lets in from `source`.
async fn ports_from(region: &str, sg: &str, source: &str) -> Vec<i32> {
    let g = ec2(region)
        .await
        .describe_security_groups()
        .group_ids(sg)
        .send()
        .await
        .expect("group");
    let mut ports: Vec<i32> = g.security_groups()[0]
        .ip_permissions()
        .iter()
        .filter(|p| {
            p.user_id_group_pairs()
                .iter()
                .any(|u| u.group_id() == Some(source))
        })
        .filter_map(|p| p.from_port())
        .collect();
    ports.sort();
    ports
}

async fn service_apply_then_plan_is_empty(tf: &Terraform) {
    let svc = service("eu-west-1", "svc-apply", tf);
    let (ws, db) = setup(&svc, tf, "service-apply").await;
    let svc = full(svc, &db);
    ws.write(&svc.hcl());
    let out = ws.apply();
    // Terraform quotes the configuration's own line under the deprecation
    // warning of `slack_webhook_url` (`│   112:     slack_webhook_url = ...`):
    // that is the user's file, not a value the provider printed.
    let printed: Vec<&str> = out
        .lines()
        .filter(|l| {
            let quoted = l.trim_start_matches(['│', ' ']);
            !quoted
                .split_once(':')
                .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
        })
        .collect();
    assert!(
        !printed.join("\n").contains("secretpart123"),
        "the webhook is never printed: {out}"
    );
    assert!(out.contains("Deprecated attribute"), "{out}");
    ws.assert_plan_empty();
    let state = ws.state_values(ADDR);
    let r = svc.region;

    // The service, asked of the endpoint.
    let service = service_info(r, &svc.name).await;
    assert_eq!(service.desired_count(), 2);
    assert_eq!(
        service.launch_type(),
        Some(&aws_sdk_ecs::types::LaunchType::Fargate)
    );
    let net = service
        .network_configuration()
        .and_then(|n| n.awsvpc_configuration())
        .expect("awsvpc");
    let mut subnets = net.subnets().to_vec();
    subnets.sort();
    let mut private: Vec<String> = ws.state_values("fansite_network.net")["private_subnet_ids"]
        .as_array()
        .expect("subnets")
        .iter()
        .map(s)
        .collect();
    private.sort();
    assert_eq!(subnets, private, "tasks run in the private subnets");
    assert_eq!(net.security_groups(), [s(&state["security_group_id"])]);
    assert_eq!(
        net.assign_public_ip(),
        Some(&aws_sdk_ecs::types::AssignPublicIp::Disabled)
    );
    assert_eq!(
        service.load_balancers()[0].target_group_arn(),
        Some(s(&state["target_group_arn"]).as_str())
    );

    // The revision: image by semver tag, Fargate size, secrets by valueFrom, logs.
    let td = task_definition(r, &s(&state["task_definition_arn"])).await;
    let c = &td.container_definitions()[0];
    assert_eq!(
        c.image(),
        Some(format!("123456789012.dkr.ecr.{r}.amazonaws.com/fansite-api:1.0.0").as_str())
    );
    assert_eq!((td.cpu(), td.memory()), (Some("512"), Some("1024")));
    assert_eq!(
        td.network_mode(),
        Some(&aws_sdk_ecs::types::NetworkMode::Awsvpc)
    );
    let mut secrets_from: Vec<(String, String)> = c
        .secrets()
        .iter()
        .map(|x| (x.name().to_string(), x.value_from().to_string()))
        .collect();
    secrets_from.sort();
    assert_eq!(
        secrets_from,
        vec![
            ("DB_HOST".into(), format!("{}:host::", db.secret)),
            ("DB_USER".into(), format!("{}:username::", db.secret))
        ]
    );
    assert!(c
        .environment()
        .iter()
        .any(|kv| kv.name() == Some("NODE_ENV")));
    assert_eq!(c.port_mappings()[0].container_port(), Some(3000));
    let log = c.log_configuration().expect("logs");
    assert_eq!(
        log.options()
            .and_then(|o| o.get("awslogs-group"))
            .map(String::as_str),
        Some(format!("/ecs/{}", svc.name).as_str())
    );

    // Least privilege: the execution role reads exactly the named secret.
    let policy = iam()
        .await
        .get_role_policy()
        .role_name(format!("{}-exec", svc.name))
        .policy_name("read-secrets")
        .send()
        .await
        .expect("policy");
    let doc: Value = serde_json::from_str(&urldecode(policy.policy_document())).expect("json");
    assert_eq!(
        doc["Statement"][0]["Resource"],
        serde_json::json!([db.secret]),
        "{doc}"
    );
    assert_eq!(
        doc["Statement"][0]["Action"],
        serde_json::json!(["secretsmanager:GetSecretValue"])
    );

    // Security groups: the world reaches the load balancer only; the load
    // balancer reaches the container port only; the tasks reach the database.
    let alb_sg = s(&state["alb_security_group_id"]);
    let task_sg = s(&state["security_group_id"]);
    assert_eq!(
        load_balancer_ingress(r, &alb_sg).await,
        vec!["443 from anywhere", "80 from anywhere"]
    );
    assert_eq!(ports_from(r, &task_sg, &alb_sg).await, vec![3000]);
    let tg = ec2(r)
        .await
        .describe_security_groups()
        .group_ids(&task_sg)
        .send()
        .await
        .expect("task sg");
    assert!(
        tg.security_groups()[0]
            .ip_permissions()
            .iter()
            .all(|p| p.ip_ranges().is_empty()),
        "no CIDR reaches the tasks"
    );
    assert_eq!(ports_from(r, &db.sg, &task_sg).await, vec![3306]);

    // The load balancer: internet-facing over the public subnets, port 80 forwarding.
    let lbs = elb(r)
        .await
        .describe_load_balancers()
        .names(&svc.name)
        .send()
        .await
        .expect("alb");
    let lb = &lbs.load_balancers()[0];
    assert_eq!(
        lb.scheme(),
        Some(&aws_sdk_elasticloadbalancingv2::types::LoadBalancerSchemeEnum::InternetFacing)
    );
    assert_eq!(
        s(&state["url"]),
        format!("http://{}", lb.dns_name().unwrap_or_default())
    );
    let listeners = elb(r)
        .await
        .describe_listeners()
        .load_balancer_arn(lb.load_balancer_arn().unwrap_or_default())
        .send()
        .await
        .expect("listeners");
    assert_eq!(listeners.listeners().len(), 1);
    assert_eq!(listeners.listeners()[0].port(), Some(80));
    let tgs = elb(r)
        .await
        .describe_target_groups()
        .names(&svc.name)
        .send()
        .await
        .expect("tg");
    assert_eq!(tgs.target_groups()[0].health_check_path(), Some("/health"));
    assert_eq!(
        tgs.target_groups()[0].target_type(),
        Some(&aws_sdk_elasticloadbalancingv2::types::TargetTypeEnum::Ip)
    );

    // Autoscaling: 2..10 at 60 % CPU.
    let targets = autoscaling(r)
        .await
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Ecs)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .resource_ids(format!("service/{}/{}", svc.name, svc.name))
        .send()
        .await
        .expect("targets");
    let t = &targets.scalable_targets()[0];
    assert_eq!((t.min_capacity(), t.max_capacity()), (2, 10));

    // Alerts: alarm → topic → the notifier, whose settings hold no webhook.
    let alarms = cloudwatch(r)
        .await
        .describe_alarms()
        .alarm_names(format!("{}-cpu-high", svc.name))
        .send()
        .await
        .expect("alarm");
    let a = &alarms.metric_alarms()[0];
    assert_eq!(a.threshold(), Some(80.0));
    assert_eq!(a.alarm_actions(), [s(&state["alarm_topic_arn"])]);
    let f = lambda(r)
        .await
        .get_function()
        .function_name(format!("{}-slack", svc.name))
        .send()
        .await
        .expect("function");
    let env = f
        .configuration()
        .and_then(|c| c.environment())
        .and_then(|e| e.variables())
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        env.get("SLACK_WEBHOOK_SECRET_ARN"),
        Some(&s(&state["webhook_secret_arn"]))
    );
    assert!(
        !format!("{env:?}").contains("hooks.slack.com"),
        "the webhook is not in the function's settings"
    );
    let held = secrets(r)
        .await
        .get_secret_value()
        .secret_id(s(&state["webhook_secret_arn"]))
        .send()
        .await
        .expect("secret");
    assert_eq!(held.secret_string(), Some(WEBHOOK));
    let subs = sns(r)
        .await
        .list_subscriptions_by_topic()
        .topic_arn(s(&state["alarm_topic_arn"]))
        .send()
        .await
        .expect("subs");
    assert_eq!(
        subs.subscriptions()[0].endpoint(),
        Some(s(&state["notifier_function_arn"]).as_str())
    );
    let groups = log_groups(r, &format!("/ecs/{}", svc.name)).await;
    assert_eq!(groups[0].retention_in_days(), Some(30));
    destroy_and_check(&ws, &svc, Some(&db)).await;
}
per_terraform!(service_apply_then_plan_is_empty);

/// The inbound rules of the load balancer's group `sg`, as the endpoint has
/// them: "<port> from anywhere" or "<port> from <prefix list name>".
pub(crate) async fn load_balancer_ingress(region: &str, sg: &str) -> Vec<String> {
    let c = ec2(region).await;
    let lists = c
        .describe_managed_prefix_lists()
        .send()
        .await
        .expect("prefix lists");
    let name_of = |id: &str| {
        lists
            .prefix_lists()
            .iter()
            .find(|l| l.prefix_list_id() == Some(id))
            .and_then(|l| l.prefix_list_name())
            .unwrap_or(id)
            .to_string()
    };
    let out = c
        .describe_security_groups()
        .group_ids(sg)
        .send()
        .await
        .expect("the load balancer's group");
    let mut rules = Vec::new();
    for p in out.security_groups()[0].ip_permissions() {
        let port = p.from_port().unwrap_or_default();
        if !p.ip_ranges().is_empty() || !p.ipv6_ranges().is_empty() {
            rules.push(format!("{port} from anywhere"));
        }
        for l in p.prefix_list_ids() {
            rules.push(format!(
                "{port} from {}",
                name_of(l.prefix_list_id().unwrap_or_default())
            ));
        }
    }
    rules.sort();
    rules.dedup();
    rules
}

/// An ACM certificate on the endpoint (the load balancer refuses unknown ones),
/// requested with boto3 from the tools' Python: the tests link no ACM client.
fn certificate(region: &str, domain: &str) -> String {
    let python = repo_root().join(".tools/venv/bin/python");
    let out = std::process::Command::new(&python)
        .args([
            "-c",
            "import sys, boto3; print(boto3.client('acm', endpoint_url=sys.argv[1], region_name=sys.argv[2]).request_certificate(DomainName=sys.argv[3])['CertificateArn'])",
            endpoint(),
            region,
            domain,
        ])
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn urldecode(s: &str) -> String {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() + 1 {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..(i + 3).min(s.len())], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One in-place change to a configuration, and a check of it on the endpoint.
type Change = Box<dyn Fn(Config) -> Config>;

async fn service_in_place_changes_update_without_replacing(tf: &Terraform) {
    // ECS through a recording proxy: the endpoint's DescribeServices omits
    // deploymentConfiguration, so the deployment step is checked in what
    // UpdateService was sent.
    let proxy = FaultProxy::record(endpoint());
    let svc = service("us-west-2", "svc-inplace", tf)
        .provider(format!("  endpoints {{\n    ecs = {:?}\n  }}\n", proxy.url));
    let (ws, db) = setup(&svc, tf, "service-inplace").await;
    let base = full(svc.clone(), &db).with("keep_revisions = 2");
    ws.write(&base.hcl());
    ws.apply();
    let arn = s(&ws.state_values(ADDR)["service_arn"]);
    let first_td = s(&ws.state_values(ADDR)["task_definition_arn"]);
    let secret = db.secret.clone();
    let cert = certificate(svc.region, "api.fans.example.com");
    let changes: Vec<(&str, Change)> = vec![
        (
            "image_tag",
            Box::new(|c: Config| c.with("image_tag = \"v1.1.0\"")),
        ),
        (
            "cpu and memory",
            Box::new(|c: Config| c.with("cpu = 1024").with("memory = 2048")),
        ),
        (
            "environment",
            Box::new(|c: Config| {
                c.with("environment = { NODE_ENV = \"production\", LOG_LEVEL = \"warn\" }")
            }),
        ),
        (
            "secrets",
            Box::new(move |c: Config| {
                c.with(&format!("secrets = {{ DB_HOST = \"{secret}:host::\" }}"))
            }),
        ),
        (
            "container_port",
            Box::new(|c: Config| c.with("container_port = 8080")),
        ),
        (
            "desired_count",
            Box::new(|c: Config| c.with("desired_count = 3")),
        ),
        (
            "health_check",
            Box::new(|c: Config| {
                c.with("health_check {\n    path     = \"/ready\"\n    interval = 10\n  }")
            }),
        ),
        (
            "autoscaling",
            Box::new(|c: Config| {
                c.with("autoscaling {\n    min                 = 3\n    max                 = 30\n    target_cpu          = 50\n    requests_per_target = 800\n    scheduled {\n      name     = \"comeback\"\n      schedule = \"at(2026-12-12T19:45:00)\"\n      min      = 10\n      max      = 40\n    }\n  }")
            }),
        ),
        (
            "deployment",
            Box::new(|c: Config| c.with("deployment {\n    maximum_percent = 150\n  }")),
        ),
        (
            "alerts",
            Box::new(|c: Config| {
                c.with("alerts {\n    cpu_threshold      = 70\n    evaluation_periods = 5\n    slack_webhook_url  = \"https://hooks.slack.com/services/T0FANSITE/B0ALERTS/rotated456\"\n  }")
            }),
        ),
        (
            "log_retention_days",
            Box::new(|c: Config| c.with("log_retention_days = 90")),
        ),
        (
            "certificate_arn",
            Box::new(move |c: Config| c.with(&format!("certificate_arn = \"{cert}\""))),
        ),
        (
            "ingress from CloudFront only",
            Box::new(|c: Config| c.with("ingress = \"cloudfront\"")),
        ),
        (
            "allow_to removed",
            Box::new(|c: Config| c.without("allow_to")),
        ),
        (
            "tags",
            Box::new(|c: Config| c.with("tags = { app = \"fansite\", team = \"platform\" }")),
        ),
        (
            "alerts without Slack",
            Box::new(|c: Config| c.with("alerts {\n    cpu_threshold = 70\n  }")),
        ),
    ];
    let mut cur = base.clone();
    for (what, change) in &changes {
        cur = change(cur);
        ws.write(&cur.hcl());
        assert_eq!(
            ws.planned_actions(),
            update(),
            "{what}: planned as an update"
        );
        ws.apply();
        ws.assert_plan_empty();
        assert_eq!(
            s(&ws.state_values(ADDR)["service_arn"]),
            arn,
            "{what}: the same service"
        );
    }
    let state = ws.state_values(ADDR);
    let r = svc.region;
    assert_retagged(r, &svc.name, &state).await;
    let td = task_definition(r, &s(&state["task_definition_arn"])).await;
    let c = &td.container_definitions()[0];
    assert!(
        c.image().unwrap_or_default().ends_with(":v1.1.0"),
        "{:?}",
        c.image()
    );
    assert_eq!((td.cpu(), td.memory()), (Some("1024"), Some("2048")));
    assert_eq!(c.port_mappings()[0].container_port(), Some(8080));
    let mut environment: Vec<(&str, &str)> = c
        .environment()
        .iter()
        .map(|e| (e.name().unwrap_or_default(), e.value().unwrap_or_default()))
        .collect();
    environment.sort();
    assert_eq!(
        environment,
        [("LOG_LEVEL", "warn"), ("NODE_ENV", "production")],
        "the environment"
    );
    let secret_names: Vec<&str> = c.secrets().iter().map(|x| x.name()).collect();
    assert_eq!(secret_names, ["DB_HOST"], "the secrets, narrowed");
    let tg = elb(r)
        .await
        .describe_target_groups()
        .target_group_arns(s(&state["target_group_arn"]))
        .send()
        .await
        .expect("target group");
    let tg = &tg.target_groups()[0];
    assert_eq!(
        (tg.health_check_path(), tg.health_check_interval_seconds()),
        (Some("/ready"), Some(10)),
        "the health check"
    );
    let groups = logs(r)
        .await
        .describe_log_groups()
        .log_group_name_prefix(format!("/ecs/{}", svc.name))
        .send()
        .await
        .expect("log groups");
    assert_eq!(
        groups
            .log_groups()
            .iter()
            .find(|g| g.log_group_name() == Some(&format!("/ecs/{}", svc.name)))
            .and_then(|g| g.retention_in_days()),
        Some(90),
        "the log retention"
    );
    let deployments: Vec<Value> = proxy
        .calls()
        .iter()
        .filter(|(op, _)| op == "UpdateService")
        .filter_map(|(_, body)| serde_json::from_str::<Value>(body).ok())
        .map(|b| b["deploymentConfiguration"]["maximumPercent"].clone())
        .collect();
    assert_eq!(
        deployments.last(),
        Some(&serde_json::json!(150)),
        "the deployment's maximum_percent, as UpdateService was sent it: {deployments:?}"
    );
    assert_eq!(service_info(r, &svc.name).await.desired_count(), 3);
    let task_sg = s(&state["security_group_id"]);
    assert_eq!(
        ports_from(r, &task_sg, &s(&state["alb_security_group_id"])).await,
        vec![8080],
        "the old port is closed"
    );
    assert!(
        ports_from(r, &db.sg, &task_sg).await.is_empty(),
        "allow_to removed: the database's rule is gone"
    );
    assert!(s(&state["url"]).starts_with("https://"));
    // ingress = "cloudfront": the load balancer's group lets in only
    // CloudFront's origin-facing addresses, on 443 (it has a certificate).
    assert_eq!(
        load_balancer_ingress(r, &s(&state["alb_security_group_id"])).await,
        vec!["443 from com.amazonaws.global.cloudfront.origin-facing".to_string()]
    );
    let lb = s(&state["alb_arn"]);
    let listeners = elb(r)
        .await
        .describe_listeners()
        .load_balancer_arn(&lb)
        .send()
        .await
        .expect("listeners");
    let mut ports: Vec<(i32, String)> = listeners
        .listeners()
        .iter()
        .map(|l| {
            (
                l.port().unwrap_or_default(),
                l.default_actions()[0]
                    .r#type()
                    .map(|t| t.as_str().to_string())
                    .unwrap_or_default(),
            )
        })
        .collect();
    ports.sort();
    assert_eq!(
        ports,
        vec![
            (80, "redirect".to_string()),
            (443, "fixed-response".to_string())
        ],
        "HTTPS forwards only requests with the origin secret"
    );
    let origin = s(&state["origin_secret_arn"]);
    let (_, current) = secret_at(r, &origin, "AWSCURRENT")
        .await
        .expect("origin secret");
    assert_eq!(
        listener_answer(r, &lb, 443, Some(&current)).await,
        "forward"
    );
    assert_eq!(
        listener_answer(r, &lb, 443, None).await,
        "fixed-response 403"
    );
    let policies = autoscaling(r)
        .await
        .describe_scaling_policies()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(format!("service/{}/{}", svc.name, svc.name))
        .send()
        .await
        .expect("policies");
    assert_eq!(
        policies.scaling_policies().len(),
        2,
        "CPU and requests per target"
    );
    let scheduled = autoscaling(r)
        .await
        .describe_scheduled_actions()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(format!("service/{}/{}", svc.name, svc.name))
        .send()
        .await
        .expect("scheduled");
    assert_eq!(
        scheduled.scheduled_actions()[0].scheduled_action_name(),
        "comeback"
    );
    // keep_revisions = 2: older revisions are deregistered once a new one is stable.
    let active = ecs(r)
        .await
        .list_task_definitions()
        .family_prefix(&svc.name)
        .status(aws_sdk_ecs::types::TaskDefinitionStatus::Active)
        .send()
        .await
        .expect("revisions");
    assert_eq!(
        active.task_definition_arns().len(),
        2,
        "{:?}",
        active.task_definition_arns()
    );
    assert!(
        !active.task_definition_arns().contains(&first_td),
        "the first revision is deregistered"
    );
    // Alerts without Slack: the notifier's parts are gone, the alarm stays.
    assert!(state["notifier_function_arn"].is_null());
    assert!(!function_exists(r, &format!("{}-slack", svc.name)).await);
    let alarms = cloudwatch(r)
        .await
        .describe_alarms()
        .alarm_names(format!("{}-cpu-high", svc.name))
        .send()
        .await
        .expect("alarm");
    assert_eq!(alarms.metric_alarms()[0].threshold(), Some(70.0));
    destroy_and_check(&ws, &svc, Some(&db)).await;
}
per_terraform!(service_in_place_changes_update_without_replacing);

/// `ingress = "cloudfront"`: the listener forwards only requests that carry
/// the origin secret, which the provider makes in Secrets Manager and keeps
/// out of plan and state; rotations run in place, accepting the previous
/// value next to the new one; a rule removed by hand, or a listener made to
/// forward everything, is drift; back to the internet, the rule and secret go.
async fn service_origin_secret_guards_the_listener_and_rotates_in_place(tf: &Terraform) {
    let svc = service("eu-north-1", "svc-origin", tf).with("ingress = \"cloudfront\"");
    let ws = Workspace::applied(tf, "service-origin", &svc.hcl());
    ws.assert_plan_empty();
    let r = svc.region;
    let state = ws.state_values(ADDR);
    let lb = s(&state["alb_arn"]);
    let arn = s(&state["origin_secret_arn"]);
    let (v1, first) = secret_at(r, &arn, "AWSCURRENT")
        .await
        .expect("origin secret");
    assert_eq!(s(&state["origin_secret_version"]), v1);
    assert_eq!(first.len(), 64, "64 random characters");
    assert!(first
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
    assert_eq!(
        load_balancer_ingress(r, &s(&state["alb_security_group_id"])).await,
        vec!["80 from com.amazonaws.global.cloudfront.origin-facing".to_string()]
    );
    assert_eq!(
        listener_answer(r, &lb, 80, None).await,
        "fixed-response 403",
        "no header"
    );
    assert_eq!(
        listener_answer(r, &lb, 80, Some("guessed")).await,
        "fixed-response 403",
        "a wrong header"
    );
    assert_eq!(listener_answer(r, &lb, 80, Some(&first)).await, "forward");
    assert!(!state_holds(&ws, &[&first]), "the secret is not in state");

    // A rotation: the new value and the one before are accepted.
    let rotated = svc.clone().with("origin_secret_rotation = \"2026-12\"");
    ws.write(&rotated.hcl());
    assert_eq!(ws.planned_actions(), update());
    let plan = ws.plan();
    assert!(plan.contains("origin_secret_version"), "{plan}");
    assert!(!plan.contains(&first), "the secret is not in the plan");
    ws.apply();
    ws.assert_plan_empty();
    let (v2, second) = secret_at(r, &arn, "AWSCURRENT").await.expect("rotated");
    assert_ne!(second, first, "a new value");
    assert_eq!(
        secret_at(r, &arn, "AWSPREVIOUS").await.map(|p| p.1),
        Some(first.clone())
    );
    assert_eq!(s(&ws.state_values(ADDR)["origin_secret_version"]), v2);
    assert_eq!(
        s(&ws.state_values(ADDR)["origin_secret_arn"]),
        arn,
        "the same secret"
    );
    assert_eq!(listener_answer(r, &lb, 80, Some(&second)).await, "forward");
    assert_eq!(
        listener_answer(r, &lb, 80, Some(&first)).await,
        "forward",
        "the previous value still serves the edge until it sends the new one"
    );
    // The next rotation retires the first value.
    let again = svc.clone().with("origin_secret_rotation = \"2027-01\"");
    ws.write(&again.hcl());
    ws.apply();
    let (_, third) = secret_at(r, &arn, "AWSCURRENT")
        .await
        .expect("rotated again");
    assert_eq!(
        listener_answer(r, &lb, 80, Some(&first)).await,
        "fixed-response 403"
    );
    assert_eq!(listener_answer(r, &lb, 80, Some(&second)).await, "forward");
    assert_eq!(listener_answer(r, &lb, 80, Some(&third)).await, "forward");
    assert!(!state_holds(&ws, &[&first, &second, &third]));

    // Drift: the rule deleted and the listener forwarding everything, by hand.
    let e = elb(r).await;
    let rule = s(&ws.state_values(ADDR)["origin_rule_arn"]);
    e.delete_rule()
        .rule_arn(&rule)
        .send()
        .await
        .expect("delete rule");
    let listener = e
        .describe_listeners()
        .load_balancer_arn(&lb)
        .send()
        .await
        .expect("listeners")
        .listeners()[0]
        .listener_arn()
        .unwrap_or_default()
        .to_string();
    e.modify_listener()
        .listener_arn(&listener)
        .default_actions(
            aws_sdk_elasticloadbalancingv2::types::Action::builder()
                .r#type(aws_sdk_elasticloadbalancingv2::types::ActionTypeEnum::Forward)
                .target_group_arn(s(&ws.state_values(ADDR)["target_group_arn"]))
                .build(),
        )
        .send()
        .await
        .expect("forward everything");
    assert_eq!(listener_answer(r, &lb, 80, None).await, "forward");
    let plan = ws.plan();
    assert!(plan.contains("origin_rule_arn"), "rule drift: {plan}");
    assert_eq!(ws.planned_actions(), update());
    ws.apply();
    ws.assert_plan_empty();
    assert_eq!(
        listener_answer(r, &lb, 80, None).await,
        "fixed-response 403",
        "repaired"
    );
    assert_eq!(listener_answer(r, &lb, 80, Some(&third)).await, "forward");

    // Back to the internet: everything is forwarded, the rule and the secret go.
    ws.write(&svc.clone().without("ingress").hcl());
    ws.apply();
    ws.assert_plan_empty();
    assert_eq!(listener_answer(r, &lb, 80, None).await, "forward");
    let state = ws.state_values(ADDR);
    assert!(state["origin_secret_arn"].is_null() && state["origin_rule_arn"].is_null());
    let d = secrets(r)
        .await
        .describe_secret()
        .secret_id(&arn)
        .send()
        .await;
    assert!(
        d.map_or(true, |d| d.deleted_date().is_some()),
        "the origin secret is deleted"
    );
    destroy_and_check(&ws, &svc, None).await;
}
per_terraform!(service_origin_secret_guards_the_listener_and_rotates_in_place);

/// A tag change reaches every part the service keeps, not only the ECS
/// service, the load balancer and the groups: the alarm (whose tags
/// PutMetricAlarm ignores once it exists), the topic, the roles, the log
/// group, the cluster and the revision that runs.
async fn assert_retagged(r: &str, name: &str, state: &Value) {
    let team = |tags: Vec<(String, String)>, what: &str| {
        assert!(
            tags.iter().any(|(k, v)| k == "team" && v == "platform"),
            "{what} retagged: {tags:?}"
        );
    };
    let i = iam().await;
    for role in ["exec", "task"] {
        let tags = i
            .list_role_tags()
            .role_name(format!("{name}-{role}"))
            .send()
            .await
            .expect("role tags");
        team(
            tags.tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect(),
            role,
        );
    }
    let cw = cloudwatch(r).await;
    let alarm = cw
        .describe_alarms()
        .alarm_names(format!("{name}-cpu-high"))
        .send()
        .await
        .expect("alarm");
    let tags = cw
        .list_tags_for_resource()
        .resource_arn(alarm.metric_alarms()[0].alarm_arn().unwrap_or_default())
        .send()
        .await
        .expect("alarm tags");
    team(
        tags.tags()
            .iter()
            .map(|t| {
                (
                    t.key().unwrap_or_default().into(),
                    t.value().unwrap_or_default().into(),
                )
            })
            .collect(),
        "alarm",
    );
    let tags = sns(r)
        .await
        .list_tags_for_resource()
        .resource_arn(s(&state["alarm_topic_arn"]))
        .send()
        .await
        .expect("topic tags");
    team(
        tags.tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect(),
        "topic",
    );
    let e = ecs(r).await;
    for key in ["cluster_arn", "task_definition_arn"] {
        let tags = e
            .list_tags_for_resource()
            .resource_arn(s(&state[key]))
            .send()
            .await
            .expect("ecs tags");
        team(
            tags.tags()
                .iter()
                .map(|t| {
                    (
                        t.key().unwrap_or_default().into(),
                        t.value().unwrap_or_default().into(),
                    )
                })
                .collect(),
            key,
        );
    }
}

async fn service_deploy_registers_then_rolls_then_deregisters_and_keeps_the_count(tf: &Terraform) {
    let proxy = FaultProxy::record(endpoint());
    let svc = service("eu-central-1", "svc-deploy", tf)
        .provider(format!("  endpoints {{\n    ecs = {:?}\n  }}\n", proxy.url))
        .with("keep_revisions = 1");
    let (ws, _) = setup(&svc, tf, "service-deploy").await;
    ws.write(&svc.hcl());
    ws.apply();
    let before = s(&ws.state_values(ADDR)["task_definition_arn"]);
    // Autoscaling (here: the API, as Application Auto Scaling would) raised the count.
    ecs(svc.region)
        .await
        .update_service()
        .cluster(&svc.name)
        .service(&svc.name)
        .desired_count(5)
        .send()
        .await
        .expect("scale out");
    ws.assert_plan_empty();
    let from = proxy.calls().len();
    let answered_from = proxy.answers().len();
    ws.write(&svc.clone().with("image_tag = \"1.1.0\"").hcl());
    assert_eq!(ws.planned_actions(), update());
    ws.apply();
    // Zero downtime, as ECS reported it to the provider throughout the deploy:
    // every DescribeServices answer shows at least the desired count running,
    // and the rollout (two deployments, the new one in progress) was seen.
    let mut rolling_seen = 0;
    for (op, body) in &proxy.answers()[answered_from..] {
        if op != "DescribeServices" {
            continue;
        }
        let v: Value = serde_json::from_str(body).expect("DescribeServices answer");
        for svc_json in v["services"].as_array().into_iter().flatten() {
            let (running, desired) = (
                svc_json["runningCount"].as_i64().unwrap_or_default(),
                svc_json["desiredCount"].as_i64().unwrap_or_default(),
            );
            assert!(
                running >= desired,
                "only {running} of {desired} tasks ran during the deploy: {svc_json}"
            );
            if svc_json["deployments"].as_array().map_or(0, Vec::len) > 1 {
                rolling_seen += 1;
            }
        }
    }
    assert!(
        rolling_seen > 0,
        "the deploy was never seen rolling: the test shows nothing"
    );
    let calls: Vec<(String, String)> = proxy.calls()[from..].to_vec();
    let at = |op: &str| {
        calls.iter().position(|(o, _)| o == op).unwrap_or_else(|| {
            panic!(
                "no {op} in {:?}",
                calls.iter().map(|c| &c.0).collect::<Vec<_>>()
            )
        })
    };
    let register = at("RegisterTaskDefinition");
    let update_at = at("UpdateService");
    let stable_at = calls
        .iter()
        .enumerate()
        .skip(update_at)
        .find(|(_, (o, _))| o == "DescribeServices")
        .map(|(i, _)| i)
        .expect("a wait after the update");
    let deregister = at("DeregisterTaskDefinition");
    assert!(
        register < update_at && update_at < stable_at && stable_at < deregister,
        "register, update, wait, deregister: {:?}",
        calls.iter().map(|c| &c.0).collect::<Vec<_>>()
    );
    let body: Value = serde_json::from_str(&calls[update_at].1).expect("UpdateService body");
    assert!(
        body.get("desiredCount").is_none(),
        "a deploy leaves the count to autoscaling: {body}"
    );
    assert_eq!(
        body["deploymentConfiguration"]["minimumHealthyPercent"], 100,
        "{body}"
    );
    assert_eq!(
        body["deploymentConfiguration"]["maximumPercent"], 200,
        "{body}"
    );
    assert_eq!(
        body["deploymentConfiguration"]["deploymentCircuitBreaker"],
        serde_json::json!({"enable": true, "rollback": true})
    );
    let deregistered: Value = serde_json::from_str(&calls[deregister].1).expect("body");
    assert_eq!(
        s(&deregistered["taskDefinition"]),
        before,
        "the old revision goes, after the new one is stable"
    );
    assert_eq!(
        service_info(svc.region, &svc.name).await.desired_count(),
        5,
        "the count autoscaling set is kept"
    );
    ws.assert_plan_empty();
    // An explicit change of desired_count is still applied.
    ws.write(
        &svc.clone()
            .with("image_tag = \"1.1.0\"")
            .with("desired_count = 4")
            .hcl(),
    );
    ws.apply();
    assert_eq!(service_info(svc.region, &svc.name).await.desired_count(), 4);
    destroy_and_check(&ws, &svc, None).await;
}
per_terraform!(service_deploy_registers_then_rolls_then_deregisters_and_keeps_the_count);

async fn service_failing_tasks_fail_the_apply_and_destroy_cleans_up(tf: &Terraform) {
    // An endpoint of this test's own, where no task of any service starts and 3 have failed.
    let url = start_moto(&[
        ("MOTO_ECS_SERVICE_RUNNING", "0"),
        ("MOTO_ECS_SERVICE_FAILED_TASKS", "3"),
    ]);
    let svc = service("eu-west-1", "svc-failing", tf).with("timeouts {\n    create = \"12s\"\n  }");
    let net_only = svc.clone().extras_only();
    let ws = Workspace::with_endpoint(tf, "service-failing", &net_only.hcl(), &url);
    ws.apply();
    ws.write(&svc.hcl());
    let out = ws.apply_fails();
    assert!(
        out.contains("0 of 2 tasks running, 3 failed to start"),
        "the error says what ECS reports: {out}"
    );
    assert!(
        out.contains(&format!("deploying {}:1 to ECS service", svc.name)),
        "{out}"
    );
    let state = ws.state_values(ADDR);
    assert!(
        s(&state["service_arn"]).contains(&svc.name),
        "state keeps the service: {state}"
    );
    assert!(s(&state["alb_arn"]).contains(":loadbalancer/"), "{state}");
    let plan = ws.plan();
    assert!(plan.contains("tainted"), "{plan}");
    ws.destroy();
    let e = ecs_at(svc.region, &url).await;
    assert!(!service_active(&e, &svc.name).await, "the service is gone");
}
per_terraform!(service_failing_tasks_fail_the_apply_and_destroy_cleans_up);

/// Ctrl-C during a long wait: Terraform sends StopProvider, the wait ends at
/// once (not at the 10-minute timeout), the state keeps every part made, and
/// destroy then removes them all.
async fn service_ctrl_c_during_the_deploy_wait_keeps_every_id_and_destroy_cleans_up(
    tf: &Terraform,
) {
    // No task ever starts here, so the steady-state wait would last the whole timeout.
    let url = start_moto(&[("MOTO_ECS_SERVICE_RUNNING", "0")]);
    let svc = service("eu-west-1", "svc-stopped", tf).with("timeouts {\n    create = \"10m\"\n  }");
    let net_only = svc.clone().extras_only();
    let ws = Workspace::with_endpoint(tf, "service-stopped", &net_only.hcl(), &url);
    ws.apply();
    ws.write(&svc.hcl());
    let args = ["apply", "-auto-approve", "-input=false", "-no-color"];
    let child = ws.spawn(&args);
    // Wait until the service exists: the apply is then in its steady-state wait.
    let e = ecs_at(svc.region, &url).await;
    let started = std::time::Instant::now();
    loop {
        if service_active(&e, &svc.name).await {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(180),
            "the service never appeared"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let pid = child.id().to_string();
    let interrupted = std::time::Instant::now();
    let kill = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill -INT");
    assert!(kill.success());
    let (ok, out) = ws.finish(child, &args);
    let took = interrupted.elapsed();
    assert!(!ok, "an interrupted apply fails: {out}");
    // Far inside the 10-minute wait it would otherwise have sat out.
    assert!(
        took < std::time::Duration::from_secs(60),
        "terraform took {took:?} to stop: {out}"
    );
    let said = out.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        said.contains("stopped because Terraform asked the provider to stop"),
        "{out}"
    );
    let state = ws.state_values(ADDR);
    for key in [
        "cluster_arn",
        "service_arn",
        "alb_arn",
        "target_group_arn",
        "security_group_id",
        "alb_security_group_id",
        "execution_role_arn",
        "task_role_arn",
        "log_group_name",
        "task_definition_arn",
    ] {
        assert!(
            state[key].as_str().is_some_and(|v| !v.is_empty()),
            "state keeps {key}: {state}"
        );
    }
    ws.destroy();
    assert!(!service_active(&e, &svc.name).await, "the service is gone");
    let lbs = elb_at(svc.region, &url)
        .await
        .describe_load_balancers()
        .send()
        .await
        .expect("list load balancers");
    assert!(
        lbs.load_balancers()
            .iter()
            .all(|lb| lb.load_balancer_name() != Some(svc.name.as_str())),
        "the load balancer is gone"
    );
}
per_terraform!(service_ctrl_c_during_the_deploy_wait_keeps_every_id_and_destroy_cleans_up);

async fn service_replacing_changes_plan_a_replace(tf: &Terraform) {
    let svc = service("ap-northeast-2", "svc-replace", tf);
    let (ws, _) = setup(&svc, tf, "service-replace").await;
    ws.write(&svc.hcl());
    ws.apply();
    for (what, changed) in [
        ("name", svc.clone().named(format!("{}x", svc.name))),
        (
            "cluster_name",
            svc.clone()
                .with(&format!("cluster_name = \"{}\"", svc.name)),
        ),
    ] {
        ws.write(&changed.hcl());
        let actions = ws.planned_actions();
        assert!(
            actions.iter().any(|(a, acts)| a == ADDR
                && acts.contains(&"delete".to_string())
                && acts.contains(&"create".to_string())),
            "{what}: {actions:?}"
        );
    }
    ws.write(&svc.hcl());
    destroy_and_check(&ws, &svc, None).await;
}
per_terraform!(service_replacing_changes_plan_a_replace);

async fn service_import_gives_an_empty_plan(tf: &Terraform) {
    let svc = service("us-east-2", "svc-import", tf);
    let (ws, db) = setup(&svc, tf, "service-import").await;
    let svc = full(svc, &db).with("health_check {\n    path = \"/ready\"\n  }");
    ws.write(&svc.hcl());
    ws.apply();
    let applied = ws.state_values(ADDR);
    let id = format!("{}/{}", svc.name, svc.name);
    ws.ok(&["state", "rm", ADDR]);
    ws.import(ADDR, &id);
    ws.assert_plan_empty();
    let differ = state_differences(&applied, &ws.state_values(ADDR), &[]);
    assert!(differ.is_empty(), "imported state differs: {differ:?}");
    // The import {} block.
    ws.ok(&["state", "rm", ADDR]);
    ws.write(&format!(
        "{}\nimport {{\n  to = {ADDR}\n  id = \"{id}\"\n}}\n",
        svc.hcl()
    ));
    let plan = ws.plan();
    assert!(
        plan.contains("1 to import, 0 to add, 0 to change, 0 to destroy"),
        "{plan}"
    );
    ws.apply();
    let differ = state_differences(&applied, &ws.state_values(ADDR), &[]);
    assert!(
        differ.is_empty(),
        "state imported by import {{}} differs: {differ:?}"
    );
    ws.write(&svc.hcl());
    ws.assert_plan_empty();
    // Bad and missing ids.
    ws.ok(&["state", "rm", ADDR]);
    let bad = ws.import_fails(ADDR, "just-a-name");
    assert!(bad.contains("Invalid import ID"), "{bad}");
    let missing = ws.import_fails(ADDR, "nope/nope");
    assert!(
        missing.contains("Cannot import non-existent service"),
        "{missing}"
    );
    ws.import(ADDR, &id);
    destroy_and_check(&ws, &svc, Some(&db)).await;
}
per_terraform!(service_import_gives_an_empty_plan);

async fn service_drift_is_shown_and_repaired(tf: &Terraform) {
    let svc = service("eu-west-2", "svc-drift", tf);
    let (ws, db) = setup(&svc, tf, "service-drift").await;
    let svc = full(svc, &db);
    ws.write(&svc.hcl());
    ws.apply();
    let state = ws.state_values(ADDR);
    let r = svc.region;
    // Through the API: the health check path, the database's rule, the alarm, the count.
    elb(r)
        .await
        .modify_target_group()
        .target_group_arn(s(&state["target_group_arn"]))
        .health_check_path("/")
        .send()
        .await
        .expect("modify tg");
    ec2(r)
        .await
        .revoke_security_group_ingress()
        .group_id(&db.sg)
        .ip_permissions(
            aws_sdk_ec2::types::IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(3306)
                .to_port(3306)
                .user_id_group_pairs(
                    aws_sdk_ec2::types::UserIdGroupPair::builder()
                        .group_id(s(&state["security_group_id"]))
                        .description(format!("fansite_service {}", svc.name))
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("revoke");
    // ... and closes the load balancer to the internet.
    for port in [80, 443] {
        ec2(r)
            .await
            .revoke_security_group_ingress()
            .group_id(s(&state["alb_security_group_id"]))
            .ip_protocol("tcp")
            .from_port(port)
            .to_port(port)
            .cidr_ip("0.0.0.0/0")
            .send()
            .await
            .expect("revoke the world");
    }
    cloudwatch(r)
        .await
        .delete_alarms()
        .alarm_names(format!("{}-cpu-high", svc.name))
        .send()
        .await
        .expect("delete alarm");
    ecs(r)
        .await
        .update_service()
        .cluster(&svc.name)
        .service(&svc.name)
        .desired_count(20)
        .send()
        .await
        .expect("scale");
    let plan = ws.plan();
    // The configuration leaves the health check to its defaults: the plan
    // shows the changed block going, and apply puts the default back.
    assert!(
        plan.contains("path                = \"/\" -> null"),
        "health check drift: {plan}"
    );
    assert!(plan.contains("allow_to"), "rule drift: {plan}");
    assert!(plan.contains("alarm_name"), "alarm drift: {plan}");
    assert!(
        plan.contains("\"none\" -> \"internet\""),
        "ingress drift: {plan}"
    );
    assert!(
        plan.contains("20 -> 2"),
        "a count outside autoscaling's bounds is drift: {plan}"
    );
    assert_eq!(ws.planned_actions(), update());
    ws.apply();
    ws.assert_plan_empty();
    assert_eq!(
        ports_from(r, &db.sg, &s(&state["security_group_id"])).await,
        vec![3306]
    );
    let alarms = cloudwatch(r)
        .await
        .describe_alarms()
        .alarm_names(format!("{}-cpu-high", svc.name))
        .send()
        .await
        .expect("alarm");
    assert_eq!(alarms.metric_alarms().len(), 1, "the alarm is back");
    assert_eq!(
        load_balancer_ingress(r, &s(&state["alb_security_group_id"])).await,
        vec!["443 from anywhere", "80 from anywhere"],
        "the load balancer is open again"
    );
    let tg = elb(r)
        .await
        .describe_target_groups()
        .names(&svc.name)
        .send()
        .await
        .expect("tg");
    assert_eq!(tg.target_groups()[0].health_check_path(), Some("/health"));
    assert_eq!(service_info(r, &svc.name).await.desired_count(), 2);

    // State records what really runs: the service moved to an older image,
    // as the circuit breaker's rollback moves it, shows as drift.
    let running = task_definition(r, &s(&ws.state_values(ADDR)["task_definition_arn"])).await;
    let c = &running.container_definitions()[0];
    let repo = c
        .image()
        .unwrap_or_default()
        .rsplit_once(':')
        .map(|(r, _)| r.to_string())
        .unwrap_or_default();
    let older = aws_sdk_ecs::types::ContainerDefinition::builder()
        .name("app")
        .image(format!("{repo}:0.9.0"))
        .essential(true)
        .set_port_mappings(Some(c.port_mappings().to_vec()))
        .set_environment(Some(c.environment().to_vec()))
        .set_secrets(Some(c.secrets().to_vec()))
        .set_log_configuration(c.log_configuration().cloned())
        .build();
    let older = ecs(r)
        .await
        .register_task_definition()
        .family(&svc.name)
        .requires_compatibilities(aws_sdk_ecs::types::Compatibility::Fargate)
        .network_mode(aws_sdk_ecs::types::NetworkMode::Awsvpc)
        .cpu("512")
        .memory("1024")
        .set_execution_role_arn(running.execution_role_arn().map(str::to_string))
        .set_task_role_arn(running.task_role_arn().map(str::to_string))
        .container_definitions(older)
        .send()
        .await
        .expect("older revision");
    let older_arn = older
        .task_definition()
        .and_then(|t| t.task_definition_arn())
        .unwrap_or_default()
        .to_string();
    ecs(r)
        .await
        .update_service()
        .cluster(&svc.name)
        .service(&svc.name)
        .task_definition(&older_arn)
        .send()
        .await
        .expect("roll back");
    let plan = ws.plan();
    assert!(
        plan.contains("\"0.9.0\" -> \"1.0.0\""),
        "the image that runs is read back: {plan}"
    );
    assert_eq!(ws.planned_actions(), update());
    ws.apply();
    ws.assert_plan_empty();
    let now = task_definition(
        r,
        service_info(r, &svc.name)
            .await
            .task_definition()
            .unwrap_or_default(),
    )
    .await;
    assert!(now.container_definitions()[0]
        .image()
        .unwrap_or_default()
        .ends_with(":1.0.0"));
    destroy_and_check(&ws, &svc, Some(&db)).await;
}
per_terraform!(service_drift_is_shown_and_repaired);

async fn service_deleted_service_is_recreated(tf: &Terraform) {
    let svc = service("ca-central-1", "svc-deleted", tf);
    let (ws, db) = setup(&svc, tf, "service-deleted").await;
    let svc = full(svc, &db);
    ws.write(&svc.hcl());
    ws.apply();
    let old = ws.state_values(ADDR);
    ecs(svc.region)
        .await
        .delete_service()
        .cluster(&svc.name)
        .service(&svc.name)
        .force(true)
        .send()
        .await
        .expect("delete service");
    // Read keeps what remains, so the service is made again in place.
    let actions = ws.planned_actions();
    assert_eq!(
        actions,
        vec![(ADDR.to_string(), vec!["update".to_string()])],
        "the service is made again in place"
    );
    ws.apply();
    ws.assert_plan_empty();
    let new = ws.state_values(ADDR);
    // What the old service left was taken over, not orphaned or duplicated.
    for key in [
        "alb_arn",
        "target_group_arn",
        "security_group_id",
        "alb_security_group_id",
        "execution_role_arn",
        "webhook_secret_arn",
    ] {
        assert_eq!(new[key], old[key], "{key} taken over");
    }
    // The ECS service deleted again, then a destroy: its refresh must not
    // drop the resource, or the load balancer, groups and roles are orphaned.
    ecs(svc.region)
        .await
        .delete_service()
        .cluster(&svc.name)
        .service(&svc.name)
        .force(true)
        .send()
        .await
        .expect("delete service");
    destroy_and_check(&ws, &svc, Some(&db)).await;
}
per_terraform!(service_deleted_service_is_recreated);

async fn service_destroy_leaves_no_parts(tf: &Terraform) {
    let svc = service("sa-east-1", "svc-destroy", tf);
    let (ws, db) = setup(&svc, tf, "service-destroy").await;
    let svc = full(svc, &db);
    ws.write(&svc.hcl());
    ws.apply();
    let state = ws.state_values(ADDR);
    let made = live_parts(svc.region, &svc.name, &state, Some(&db.sg)).await;
    // With the notifier's own log group, made beforehand with the service's
    // retention (Lambda would make it on the first run, keeping logs forever).
    assert_eq!(made.len(), 18, "every part is counted: {made:?}");
    assert!(
        made.contains(&format!("log group /aws/lambda/{}-slack", svc.name)),
        "{made:?}"
    );
    destroy_and_check(&ws, &svc, Some(&db)).await;
    // The database's own group stays: only the rule the service added went.
    assert!(ec2(svc.region)
        .await
        .describe_security_groups()
        .group_ids(&db.sg)
        .send()
        .await
        .is_ok());
}
per_terraform!(service_destroy_leaves_no_parts);

async fn service_bad_inputs_fail_on_their_attribute(tf: &Terraform) {
    let svc = service("us-west-1", "svc-bad", tf);
    let (ws, _) = setup(&svc, tf, "service-bad").await;
    let cases: Vec<(&str, Config, &str, &str)> = vec![
        ("name", svc.clone().named("Fan_API"), "Invalid name", "name"),
        ("latest", svc.clone().with("image_tag = \"latest\""), "Invalid image_tag", "image_tag"),
        ("not semver", svc.clone().with("image_tag = \"1.2\""), "Invalid image_tag", "image_tag"),
        ("cpu", svc.clone().with("cpu = 300"), "Invalid cpu", "cpu"),
        ("memory for cpu", svc.clone().with("cpu = 256").with("memory = 4096"), "Invalid memory for cpu", "memory"),
        ("secret arn", svc.clone().with("secrets = { DB_HOST = \"db.local\" }"), "Invalid secrets", "DB_HOST"),
        ("partial secret arn", svc.clone().with("secrets = { DB_HOST = \"arn:aws:secretsmanager:us-west-1:123456789012:secret:fansite/db:host::\" }"), "Invalid secrets", "DB_HOST"),
        ("certificate region (plan time)", svc.clone().with("certificate_arn = \"arn:aws:acm:us-east-1:123456789012:certificate/0b3f8a52-7e1c-4d9a-9c61-2f8e5a7d4b10\""), "Certificate in another region", "certificate_arn"),
        ("env name", svc.clone().with("environment = { \"1BAD\" = \"x\" }"), "Invalid variable name", "1BAD"),
        ("retention", svc.clone().with("log_retention_days = 10"), "Invalid log_retention_days", "log_retention_days"),
        ("autoscaling max", svc.clone().with("autoscaling {\n    min = 5\n    max = 3\n  }"), "Invalid autoscaling.max", "max"),
        ("schedule", svc.clone().with("autoscaling {\n    scheduled {\n      name     = \"x\"\n      schedule = \"tomorrow\"\n      min      = 1\n      max      = 2\n    }\n  }"), "Invalid schedule", "schedule"),
        ("health timeout", svc.clone().with("health_check {\n    interval = 10\n    timeout  = 10\n  }"), "Invalid health_check.timeout", "timeout"),
        ("deployment", svc.clone().with("deployment {\n    maximum_percent = 100\n  }"), "Deployment cannot start", "maximum_percent"),
        ("webhook", svc.clone().with("alerts {\n    slack_webhook_url = \"http://example.com/hook\"\n  }"), "Invalid slack_webhook_url", "slack_webhook_url"),
        ("certificate", svc.clone().with("certificate_arn = \"my-cert\""), "Invalid certificate_arn", "certificate_arn"),
        (
            "one zone (plan time)",
            svc.clone().attr("private_subnet_ids", "[fansite_network.net.public_subnet_ids[0], fansite_network.net.private_subnet_ids[0]]"),
            "Subnets in one availability zone",
            "private_subnet_ids",
        ),
        ("unknown cluster (plan time)", svc.clone().with("cluster_name = \"no-such-cluster\""), "Unknown cluster", "cluster_name"),
        ("bad timeout", svc.clone().with("timeouts {\n    create = \"soon\"\n  }"), "Invalid duration", "create"),
        ("reserved tag", svc.clone().with("tags = { Name = \"x\" }"), "Reserved tag key", "Name"),
        ("rotation without CloudFront", svc.clone().with("origin_secret_rotation = \"2026-12\""), "Origin secret without CloudFront ingress", "origin_secret_rotation"),
        ("image and repository", svc.clone().with("repository {}"), "image with a repository block", "image"),
        ("no image", svc.clone().without("image"), "Missing image", "resource \"fansite_service\""),
        ("repository name", svc.clone().without("image").with("repository {\n    name = \"Fan_API\"\n  }"), "Invalid repository.name", "Fan_API"),
        ("setting of a used repository", svc.clone().without("image").with("repository {\n    create      = false\n    keep_images = 3\n  }"), "Setting of a repository made elsewhere", "keep_images"),
        ("unknown repository (plan time)", svc.clone().without("image").with("repository {\n    name   = \"no-such-repository\"\n    create = false\n  }"), "Unknown repository", "no-such-repository"),
    ];
    for (what, config, summary, code) in cases {
        ws.write(&config.hcl());
        let diags = ws.assert_plan_error(what, summary, code);
        assert!(
            diags.iter().all(|d| !d.detail.contains("example.com/hook")),
            "{what}: the webhook is never echoed"
        );
    }
    let made = match ecs(svc.region)
        .await
        .describe_services()
        .cluster(&svc.name)
        .services(&svc.name)
        .send()
        .await
    {
        Ok(o) => !o.services().is_empty(),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_cluster_not_found_exception()) =>
        {
            false
        }
        Err(e) => panic!("describe services {}: {e:?}", svc.name),
    };
    assert!(!made, "bad input made a service");
    ws.write(&svc.clone().extras_only().hcl());
    ws.destroy();
}
per_terraform!(service_bad_inputs_fail_on_their_attribute);

async fn service_fault_midway_keeps_ids_and_destroy_cleans_up(tf: &Terraform) {
    let proxy = FaultProxy::start(endpoint(), "CreateService");
    let svc = service("us-west-2", "svc-fault", tf)
        .provider(format!("  endpoints {{\n    ecs = {:?}\n  }}\n", proxy.url));
    let (ws, db) = setup(&svc, tf, "service-fault").await;
    let svc = full(svc, &db);
    ws.write(&svc.hcl());
    let out = ws.apply_fails();
    assert!(proxy.matched() >= 1, "the proxy failed CreateService");
    assert!(
        out.contains("InjectedFault"),
        "the error names AWS's code: {out}"
    );
    assert!(
        out.contains(&format!("creating ECS service \"{}\"", svc.name)),
        "the error names the action and part: {out}"
    );
    let state = ws.state_values(ADDR);
    for key in [
        "alb_arn",
        "target_group_arn",
        "security_group_id",
        "alb_security_group_id",
        "execution_role_arn",
        "task_role_arn",
        "log_group_name",
        "cluster_arn",
    ] {
        assert!(!s(&state[key]).is_empty(), "state keeps {key}: {state}");
    }
    let made = live_parts(svc.region, &svc.name, &state, Some(&db.sg)).await;
    assert!(
        made.iter().any(|p| p.starts_with("load balancer")),
        "{made:?}"
    );
    let plan = ws.plan();
    assert!(plan.contains("tainted"), "{plan}");
    destroy_and_check(&ws, &svc, Some(&db)).await;
}
per_terraform!(service_fault_midway_keeps_ids_and_destroy_cleans_up);

/// The service's chains run side by side (the cluster; the log group and
/// roles; the groups and load balancer; the alarm and its notifier): when
/// two fail at once (the load balancer's create and the notifier function's),
/// what every chain made before is in the state and exists, and destroy
/// removes it all. (Made in turn, the load balancer's failure stopped the
/// rest: the alarm's topic and the notifier were never made.)
async fn service_two_failures_at_once_keep_every_id(tf: &Terraform) {
    let elb_proxy = FaultProxy::start(endpoint(), "CreateLoadBalancer");
    let lambda_proxy = FaultProxy::start(endpoint(), "POST /2015-03-31/functions");
    let svc = service("us-west-2", "svc-two", tf).provider(format!(
        "  endpoints {{\n    elbv2  = {:?}\n    lambda = {:?}\n  }}\n",
        elb_proxy.url, lambda_proxy.url
    ));
    let (ws, db) = setup(&svc, tf, "service-two-faults").await;
    let svc = full(svc, &db);
    ws.write(&svc.hcl());
    let out = ws.apply_fails();
    assert!(
        elb_proxy.matched() >= 1,
        "the load balancer's create was sent"
    );
    assert!(
        lambda_proxy.matched() >= 1,
        "the notifier's create was sent though the load balancer's failed"
    );
    // Both errors are reported, each as a diagnostic of its own.
    for part in [
        format!("creating load balancer \"{}\" failed", svc.name),
        format!("creating Lambda function \"{}-slack\" failed", svc.name),
    ] {
        assert!(out.contains(&part), "the errors name {part:?}: {out}");
    }
    assert!(
        out.matches("InjectedFault").count() >= 2,
        "each error names AWS's code: {out}"
    );
    let state = ws.state_values(ADDR);
    for key in [
        "cluster_arn",
        "log_group_name",
        "execution_role_arn",
        "task_role_arn",
        "alb_security_group_id",
        "alarm_topic_arn",
        "webhook_secret_arn",
    ] {
        assert!(!s(&state[key]).is_empty(), "state keeps {key}: {state}");
    }
    for key in ["alb_arn", "notifier_function_arn", "service_arn"] {
        assert_eq!(state[key], Value::Null, "{key}: {state}");
    }
    let made = live_parts(svc.region, &svc.name, &state, Some(&db.sg)).await;
    assert!(made.iter().any(|p| p.starts_with("cluster")), "{made:?}");
    for part in ["webhook secret", "topic ", "role ", "log group /ecs/"] {
        assert!(
            made.iter().any(|p| p.starts_with(part)),
            "{part:?} exists: {made:?}"
        );
    }
    destroy_and_check(&ws, &svc, Some(&db)).await;
}
per_terraform!(service_two_failures_at_once_keep_every_id);

/// Runs the notifier's own code (the source the plugin ships) against the
/// secret Terraform made, with an alarm as SNS delivers it. Lambda cannot run
/// functions on the local endpoint, so Python runs the handler here; only the
/// HTTPS post to Slack is captured instead of sent.
async fn service_slack_notifier_posts_the_alarm(tf: &Terraform) {
    let svc = service("ap-northeast-1", "svc-slack", tf);
    let (ws, db) = setup(&svc, tf, "service-slack").await;
    let svc = full(svc, &db);
    ws.write(&svc.hcl());
    ws.apply();
    let f = lambda(svc.region)
        .await
        .get_function()
        .function_name(format!("{}-slack", svc.name))
        .send()
        .await
        .expect("function");
    let conf = f.configuration().expect("configuration");
    assert_eq!(conf.handler(), Some("notifier.handler"));
    let secret_arn = conf
        .environment()
        .and_then(|e| e.variables())
        .and_then(|v| v.get("SLACK_WEBHOOK_SECRET_ARN"))
        .cloned()
        .expect("secret env");
    let dir = ws.dir.join("notifier");
    std::fs::create_dir_all(&dir).expect("dir");
    // The file the plugin embeds (include_str!) and zips for Lambda.
    std::fs::copy(
        repo_root().join("provider/src/resources/service/notifier.py"),
        dir.join("notifier.py"),
    )
    .expect("source");
    let alarm = serde_json::json!({
        "AlarmName": format!("{}-cpu-high", svc.name),
        "AlarmArn": format!("arn:aws:cloudwatch:{}:123456789012:alarm:{}-cpu-high", svc.region, svc.name),
        "NewStateValue": "ALARM",
        "NewStateReason": "Threshold Crossed: 3 datapoints were greater than the threshold (80.0).",
    });
    let driver = r#"
import json, sys, urllib.request
sys.path.insert(0, sys.argv[1])
import notifier
sent = []
class Response:
    def __enter__(self): return self
    def __exit__(self, *a): return False
    def read(self): return b"ok"
def capture(request, timeout=None):
    sent.append({"url": request.full_url, "body": json.loads(request.data)})
    return Response()
urllib.request.urlopen = capture
event = {"Records": [{"Sns": {"Message": sys.argv[2]}}]}
result = notifier.handler(event, None)
print(json.dumps({"result": result, "sent": sent}))
"#;
    let python = repo_root().join(".tools/venv/bin/python");
    let out = std::process::Command::new(&python)
        .args([
            "-c",
            driver,
            dir.to_str().unwrap_or_default(),
            &alarm.to_string(),
        ])
        .env("SLACK_WEBHOOK_SECRET_ARN", &secret_arn)
        .env("AWS_ENDPOINT_URL", endpoint())
        .env("AWS_DEFAULT_REGION", svc.region)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(got["result"]["posted"], 1);
    let sent = &got["sent"][0];
    assert_eq!(
        s(&sent["url"]),
        WEBHOOK,
        "posted to the webhook from the secret"
    );
    let text = s(&sent["body"]["text"]);
    assert!(
        text.contains(&format!("*{}-cpu-high* is ALARM", svc.name)),
        "{text}"
    );
    assert!(text.contains("Threshold Crossed"), "{text}");
    assert!(text.contains(&format!("https://{r}.console.aws.amazon.com/cloudwatch/home?region={r}#alarmsV2:alarm/{}-cpu-high", svc.name, r = svc.region)), "{text}");
    destroy_and_check(&ws, &svc, Some(&db)).await;
}
per_terraform!(service_slack_notifier_posts_the_alarm);
