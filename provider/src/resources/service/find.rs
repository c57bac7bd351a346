//! Reading a fansite_service back from AWS.

use crate::aws::{autoscaling, cloudwatch, ec2, ecr, ecs, elbv2, lambda, logs, secrets, sns, Aws};
use crate::error::Result;
use crate::resources::{in_configured_order, null_if_unset, own_tags};

use super::defaults::{DEFAULT_ALARM_CPU, DEFAULT_EVALUATION_PERIODS};
use super::state::{
    split_running, Alerts, Deployment, HealthCheckBlock, RepositoryBlock, Scaling, ServiceState,
    Tags,
};

/// The import ids (`<cluster>/<service>`) of the region's services that
/// fansite_service made, as import asks: active ECS services whose load
/// balancer's target group is named as the service (import finds the load
/// balancer and the target group by that name). ECS services carry no tag of
/// the resource's own to filter on.
pub async fn list_services(aws: &Aws) -> Result<Vec<String>> {
    Ok(ecs::list_services(&aws.ecs)
        .await?
        .into_iter()
        .filter(|s| {
            let target_group = s
                .target_group_arn
                .as_deref()
                .and_then(|arn| arn.rsplit_once(":targetgroup/"))
                .and_then(|(_, rest)| rest.split('/').next());
            target_group == Some(s.name.as_str())
        })
        .map(|s| format!("{}/{}", s.cluster, s.name))
        .collect())
}

/// The service as AWS has it now, field by field. `None`: nothing of the
/// service is left.
///
/// Not refreshed, because AWS does not hold them (listed in the docs):
/// `keep_revisions` and `deployment.wait_for_steady_state` (how the provider
/// deploys), `vpc_id` (the groups' VPC, fixed at create),
/// `alerts.slack_webhook_url_wo_version` (when to write the write-only
/// webhook, whose value is never read back). A part that is gone keeps the
/// inputs it should be made again with.
pub async fn find_service(aws: &Aws, hints: &ServiceState) -> Result<Option<ServiceState>> {
    let cluster = hints.cluster();
    let Some(svc) = ecs::describe_service(&aws.ecs, &cluster, &hints.name).await? else {
        // The ECS service is gone (never made by a create that failed, or
        // deleted outside Terraform) while other parts remain: what remains is
        // kept, so that the next apply makes the service again in place and a
        // destroy (whose refresh comes first) still removes every part.
        if hints.alb_arn.is_some() || hints.log_group_name.is_some() || hints.cluster_arn.is_some()
        {
            return Ok(Some(ServiceState {
                service_arn: None,
                ..hints.clone()
            }));
        }
        return Ok(None);
    };
    let security_group_id = svc
        .security_groups
        .first()
        .cloned()
        .or(hints.security_group_id.clone());

    // Tags: the service's, less Name (set per part).
    let tags_all: Tags = svc
        .tags
        .iter()
        .filter(|(k, _)| k.as_str() != "Name")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();

    // What runs: the service's task definition.
    let td = ecs::describe_task_definition(&aws.ecs, &svc.task_definition).await?;
    let (spec, revision) = match td {
        Some((spec, revision)) => (Some(spec), Some(revision)),
        None => (None, hints.revision),
    };
    let (image, image_tag, image_digest) = spec
        .as_ref()
        .map(|s| split_running(&s.image, &s.labels))
        .unwrap_or_else(|| {
            (
                hints.image.clone(),
                hints.image_tag.clone(),
                hints.image_digest.clone(),
            )
        });
    let (repository, repository_arn) = find_repository(aws, hints).await?;
    let role = |arn: Option<&String>, hint: &Option<String>| match arn {
        Some(arn) => Some(arn.clone()).filter(|a| !a.is_empty()),
        None => hint.clone(),
    };

    // Load balancer, target group, listeners.
    let tg = elbv2::find_target_group(&aws.elb, &hints.name).await?;
    let health_check = match &tg {
        Some(tg) => {
            let found = HealthCheckBlock::from(&tg.health_check);
            (hints.health_check.is_some() || found != HealthCheckBlock::default()).then_some(found)
        }
        None => hints.health_check.clone(),
    };
    let lb = elbv2::find_load_balancer(&aws.elb, &hints.name).await?;
    let listeners = match &lb {
        Some(lb) => elbv2::listeners(&aws.elb, &lb.arn).await?,
        None => Vec::new(),
    };
    let certificate_arn = match &lb {
        Some(_) => listeners
            .iter()
            .find(|l| l.port == 443)
            .and_then(|l| l.certificate_arn.clone()),
        None => hints.certificate_arn.clone(),
    };

    // Who may reach the load balancer, from its group's rules. Rules removed
    // by hand read as `none`, so the plan puts them back.
    let alb_sg = lb
        .as_ref()
        .and_then(|lb| lb.security_groups.first().cloned());
    // The load balancer's group and the groups of `allow_to`: one call.
    let mut group_ids: Vec<String> = alb_sg.iter().cloned().collect();
    if security_group_id.is_some() {
        group_ids.extend(hints.allow_to.iter().map(|a| a.security_group_id.clone()));
    }
    let groups = if group_ids.is_empty() {
        Default::default()
    } else {
        ec2::security_groups(&aws.ec2, &group_ids).await?
    };
    let ingress = match alb_sg.as_ref().and_then(|sg| groups.get(sg)) {
        Some(g) => {
            let cloudfront =
                ec2::managed_prefix_list(&aws.ec2, ec2::CLOUDFRONT_ORIGIN_FACING).await?;
            match ec2::ingress_of(g, &cloudfront) {
                Some(ec2::Ingress::Internet) => "internet".to_string(),
                Some(ec2::Ingress::CloudFront { .. }) => "cloudfront".to_string(),
                None => "none".to_string(),
            }
        }
        None if alb_sg.is_some() => "none".to_string(),
        None => hints.ingress.clone(),
    };

    let origin = find_origin(aws, hints, &ingress, &listeners, certificate_arn.is_some()).await?;

    // Rules this service added to other groups: those still there.
    let allow_to = match &security_group_id {
        Some(task_sg) => hints
            .allow_to
            .iter()
            .filter(|a| {
                groups.get(&a.security_group_id).is_some_and(|g| {
                    ec2::sources_of(g, a.port, &hints.rule_marker()).contains(task_sg)
                })
            })
            .cloned()
            .collect(),
        None => hints.allow_to.clone(),
    };

    let retention = logs::retention(&aws.logs, &hints.log_group()).await?;

    let (autoscaling, desired_count) = find_scaling(aws, hints, svc.desired).await?;

    // Deployments: how ECS replaces tasks.
    let wait_for_steady_state = hints.wait_for_steady_state();
    // emulator: the local endpoint (moto 5.2.5) answers DescribeServices
    // without deploymentConfiguration, so the prior rollout is kept; AWS
    // always returns it.
    let rollout = svc.rollout.unwrap_or_else(|| hints.rollout());
    let deployment = Deployment {
        minimum_healthy_percent: rollout.minimum_healthy_percent,
        maximum_percent: rollout.maximum_percent,
        rollback: rollout.rollback,
        wait_for_steady_state,
    };
    let deployment =
        (hints.deployment.is_some() || deployment != Deployment::default()).then_some(deployment);

    let alerts = find_alerts(aws, hints).await?;

    let mut found = ServiceState {
        name: hints.name.clone(),
        cluster_name: hints.cluster_name.clone(),
        image,
        image_tag,
        container_port: spec
            .as_ref()
            .map_or(hints.container_port, |s| s.container_port),
        cpu: spec.as_ref().map_or(hints.cpu, |s| s.cpu),
        memory: spec.as_ref().map_or(hints.memory, |s| s.memory),
        environment: match &spec {
            Some(s) => null_if_unset(&hints.environment, s.environment.clone()),
            None => hints.environment.clone(),
        },
        secrets: match &spec {
            Some(s) => null_if_unset(&hints.secrets, s.secrets.clone()),
            None => hints.secrets.clone(),
        },
        desired_count,
        vpc_id: hints.vpc_id.clone(),
        public_subnet_ids: match &lb {
            Some(lb) => in_configured_order(&hints.public_subnet_ids, lb.subnets.clone()),
            None => hints.public_subnet_ids.clone(),
        },
        private_subnet_ids: in_configured_order(&hints.private_subnet_ids, svc.subnets.clone()),
        allow_to,
        certificate_arn,
        ingress,
        origin_secret_rotation: hints.origin_secret_rotation.clone(),
        log_retention_days: retention.unwrap_or(hints.log_retention_days),
        keep_revisions: hints.keep_revisions,
        tags: null_if_unset(&hints.tags, own_tags(&tags_all, &aws.default_tags)),
        tags_all,
        autoscaling,
        health_check,
        deployment,
        alerts: alerts.block,
        repository,
        repository_arn,
        image_digest,
        url: hints.url.clone(),
        alb_arn: lb.as_ref().map(|lb| lb.arn.clone()),
        alb_dns_name: match &lb {
            Some(lb) => Some(lb.dns_name.clone()),
            None => hints.alb_dns_name.clone(),
        },
        alb_zone_id: match &lb {
            Some(lb) => Some(lb.zone_id.clone()),
            None => hints.alb_zone_id.clone(),
        },
        cluster_arn: ecs::cluster_arn(&aws.ecs, &cluster).await?,
        service_arn: Some(svc.arn.clone()),
        task_definition_arn: Some(svc.task_definition.clone()),
        revision,
        target_group_arn: tg.map(|tg| tg.arn),
        security_group_id,
        alb_security_group_id: match &lb {
            Some(lb) => lb.security_groups.first().cloned(),
            None => hints.alb_security_group_id.clone(),
        },
        execution_role_arn: role(
            spec.as_ref().map(|s| &s.execution_role_arn),
            &hints.execution_role_arn,
        ),
        task_role_arn: role(
            spec.as_ref().map(|s| &s.task_role_arn),
            &hints.task_role_arn,
        ),
        log_group_name: retention.map(|_| hints.log_group()),
        alarm_topic_arn: alerts.topic_arn,
        alarm_name: alerts.alarm_name,
        notifier_function_arn: alerts.function_arn,
        webhook_secret_arn: alerts.secret_arn,
        origin_secret_arn: origin.secret_arn,
        origin_secret_version: origin.version,
        origin_rule_arn: origin.rule_arn,
    };
    if let Some(lb) = &lb {
        // http or https, by the certificate just read.
        found.url = Some(found.url_for(&lb.dns_name));
    }
    Ok(Some(found))
}

/// The `repository` block as ECR has it, and the repository's ARN (`None`
/// when it is gone). Only a repository the service made has its settings
/// read: one made elsewhere is the block's as configured.
async fn find_repository(
    aws: &Aws,
    hints: &ServiceState,
) -> Result<(Option<RepositoryBlock>, Option<String>)> {
    let (Some(block), Some(name)) = (&hints.repository, hints.repository_name()) else {
        return Ok((hints.repository.clone(), None));
    };
    let Some(found) = ecr::repository(&aws.ecr, None, &name).await? else {
        return Ok((Some(block.clone()), None));
    };
    let mut block = block.clone();
    if block.create {
        block.tag_immutability = Some(found.immutable);
        block.scan_on_push = Some(found.scan_on_push);
        // A policy other than the one the service writes reads as 0, so
        // that the plan writes it again.
        block.keep_images = Some(
            ecr::lifecycle(&aws.ecr, &name)
                .await?
                .as_deref()
                .and_then(ecr::kept_by)
                .unwrap_or(0),
        );
    }
    Ok((Some(block), Some(found.arn)))
}

/// The origin secret and the listener rule that asks for it, as AWS has them.
#[derive(Default)]
struct FoundOrigin {
    secret_arn: Option<String>,
    version: Option<String>,
    rule_arn: Option<String>,
}

/// The origin secret (by the state's ARN, or by its name when the load
/// balancer takes CloudFront only) and its rule. The rule counts only while
/// it does what it is for: on the listener that serves traffic, whose
/// default refuses the rest, accepting the secret's current value and
/// nothing but its current and previous ones. Otherwise it reads as gone, so
/// that the plan puts it right.
async fn find_origin(
    aws: &Aws,
    hints: &ServiceState,
    ingress: &str,
    listeners: &[elbv2::ListenerInfo],
    https: bool,
) -> Result<FoundOrigin> {
    let arn = match &hints.origin_secret_arn {
        Some(arn) => Some(arn.clone()),
        None if ingress == "cloudfront" => {
            secrets::secret_named(&aws.secrets, &hints.origin_secret_name()).await?
        }
        None => None,
    };
    let Some(arn) = arn else {
        return Ok(FoundOrigin::default());
    };
    let Some(versions) = secrets::versions(&aws.secrets, &arn).await? else {
        return Ok(FoundOrigin::default());
    };
    let traffic = if https { 443 } else { 80 };
    let rule = match listeners.iter().find(|l| l.port == traffic) {
        Some(l) if l.action == "fixed-response" => elbv2::origin_rule(&aws.elb, &l.arn).await?,
        _ => None,
    };
    let current = versions.current.value.expose();
    let previous = versions.previous.as_ref().map(|p| p.value.expose());
    let rule_arn = rule
        .filter(|r| {
            r.values.iter().any(|v| v == current)
                && r.values
                    .iter()
                    .all(|v| v == current || Some(v.as_str()) == previous)
        })
        .map(|r| r.arn);
    Ok(FoundOrigin {
        secret_arn: Some(arn),
        version: Some(versions.current.id),
        rule_arn,
    })
}

/// The `autoscaling {}` block and the desired count, as Application Auto
/// Scaling and ECS have them (`desired`: what the service runs for now).
async fn find_scaling(
    aws: &Aws,
    hints: &ServiceState,
    desired: i32,
) -> Result<(Option<Scaling>, i32)> {
    // Scaling: autoscaling owns the count while the count is within its bounds.
    let (scaling, desired_count) = match autoscaling::service_scaling(
        &aws.autoscaling,
        &hints.cluster(),
        &hints.name,
    )
    .await?
    {
        Some(s) => (
            Scaling {
                min: s.min,
                max: s.max,
                target_cpu: s.target_cpu.round() as i32,
                requests_per_target: s.requests_per_target.map(|(n, _)| n.round() as i32),
                scheduled: s.scheduled,
            },
            if (s.min..=s.max).contains(&desired) {
                hints.desired_count
            } else {
                desired
            },
        ),
        None => (
            Scaling {
                max: hints.scaling().min,
                scheduled: Vec::new(),
                requests_per_target: None,
                ..hints.scaling()
            },
            desired,
        ),
    };
    let autoscaling =
        (hints.autoscaling.is_some() || scaling != Scaling::default()).then_some(scaling);
    Ok((autoscaling, desired_count))
}

/// The webhook's secret (`None` when it is gone, so that the plan makes it
/// again), and the deprecated `slack_webhook_url` read back from it. With
/// the write-only `slack_webhook_url_wo` (the state has its version) the
/// value is never read: DescribeSecret only says whether the secret is
/// there, and the version is kept from the state, since AWS does not hold it.
pub(super) async fn find_webhook(
    aws: &Aws,
    hints: &ServiceState,
) -> Result<(Option<String>, Option<String>)> {
    let Some(arn) = &hints.webhook_secret_arn else {
        return Ok((None, None));
    };
    if hints.slack_webhook_url_wo_version().is_some() {
        let live = secrets::version_ids(&aws.secrets, arn).await?.is_some();
        return Ok((None, live.then(|| arn.clone())));
    }
    Ok(match secrets::read_secret(&aws.secrets, arn).await? {
        Some((value, _)) => (Some(value), Some(arn.clone())),
        None => (None, None),
    })
}

/// The alerts' parts as AWS has them.
struct FoundAlerts {
    block: Option<Alerts>,
    topic_arn: Option<String>,
    alarm_name: Option<String>,
    function_arn: Option<String>,
    secret_arn: Option<String>,
}

/// The alarm, its topic, and the Slack notifier with its webhook.
async fn find_alerts(aws: &Aws, hints: &ServiceState) -> Result<FoundAlerts> {
    // Alerts.
    let alarm_topic_arn = match &hints.alarm_topic_arn {
        Some(arn) if sns::topic_exists(&aws.sns, arn).await? => Some(arn.clone()),
        _ => None,
    };
    let mut alerts = hints.alerts();
    let mut alarm_name = None;
    if let Some((_, threshold, periods, actions)) =
        cloudwatch::find_alarm(&aws.cloudwatch, &hints.alarm()).await?
    {
        alerts.cpu_threshold = threshold.round() as i32;
        alerts.evaluation_periods = periods;
        if alarm_topic_arn
            .as_ref()
            .is_some_and(|t| actions.contains(t))
        {
            alarm_name = Some(hints.alarm());
        }
    }
    let notifier_function_arn = lambda::function(&aws.lambda, &hints.notifier_function())
        .await?
        .map(|(arn, _)| arn);
    let (slack_webhook_url, webhook_secret_arn) = find_webhook(aws, hints).await?;
    alerts.slack_webhook_url = slack_webhook_url;
    // Write-only: never in a state (its version is kept from the state).
    alerts.slack_webhook_url_wo = None;
    let block = (hints.alerts.is_some()
        || alerts.slack_webhook_url.is_some()
        || alerts.cpu_threshold != DEFAULT_ALARM_CPU
        || alerts.evaluation_periods != DEFAULT_EVALUATION_PERIODS)
        .then_some(alerts);
    Ok(FoundAlerts {
        block,
        topic_arn: alarm_topic_arn,
        alarm_name,
        function_arn: notifier_function_arn,
        secret_arn: webhook_secret_arn,
    })
}
