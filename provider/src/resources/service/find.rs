//! Reading a fansite_service back from AWS.

use crate::aws::{autoscaling, cloudwatch, ec2, ecs, elbv2, lambda, logs, secrets, sns, Aws};
use crate::error::Result;

use super::state::{split_image, Scaling, ServiceState, Tags};

/// Keeps the configured order when the set is the same.
fn same_set(hint: &[String], mut found: Vec<String>) -> Vec<String> {
    let mut h = hint.to_vec();
    h.sort();
    found.sort();
    if h == found {
        hint.to_vec()
    } else {
        found
    }
}

/// The service as AWS has it now; `hints` (the state) supply what AWS does not
/// hold. `None`: nothing of the service is left.
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
    let mut found = hints.clone();
    found.service_arn = Some(svc.arn.clone());
    found.cluster_arn = ecs::cluster_arn(&aws.ecs, &cluster).await?;
    found.private_subnet_ids = same_set(&hints.private_subnet_ids, svc.subnets.clone());
    found.security_group_id = svc
        .security_groups
        .first()
        .cloned()
        .or(hints.security_group_id.clone());

    // Tags: the service's, less the provider's defaults and Name.
    let own: Tags = svc
        .tags
        .iter()
        .filter(|(k, v)| aws.default_tags.get(*k) != Some(*v) && k.as_str() != "Name")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    found.tags = match (&hints.tags, own.is_empty()) {
        (None, true) => None,
        _ => Some(own),
    };
    found.tags_all = svc
        .tags
        .iter()
        .filter(|(k, _)| k.as_str() != "Name")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();

    // What runs: the service's task definition.
    found.task_definition_arn = Some(svc.task_definition.clone());
    if let Some((spec, revision)) =
        ecs::describe_task_definition(&aws.ecs, &svc.task_definition).await?
    {
        let (image, tag) = split_image(&spec.image);
        found.image = image;
        found.image_tag = tag;
        found.container_port = spec.container_port;
        found.cpu = spec.cpu;
        found.memory = spec.memory;
        found.environment = match (&hints.environment, spec.environment.is_empty()) {
            (None, true) => None,
            _ => Some(spec.environment),
        };
        found.secrets = match (&hints.secrets, spec.secrets.is_empty()) {
            (None, true) => None,
            _ => Some(spec.secrets),
        };
        found.revision = Some(revision);
        found.execution_role_arn = Some(spec.execution_role_arn).filter(|s| !s.is_empty());
        found.task_role_arn = Some(spec.task_role_arn).filter(|s| !s.is_empty());
    }

    // Load balancer, target group, listeners.
    found.target_group_arn = None;
    if let Some(tg) = elbv2::find_target_group(&aws.elb, &hints.name).await? {
        found.health_check = tg.health_check.clone();
        found.health_check_block =
            hints.health_check_block || found.health_check != super::state::default_health_check();
        found.target_group_arn = Some(tg.arn);
    }
    found.alb_arn = None;
    if let Some(lb) = elbv2::find_load_balancer(&aws.elb, &hints.name).await? {
        found.public_subnet_ids = same_set(&hints.public_subnet_ids, lb.subnets.clone());
        found.alb_dns_name = Some(lb.dns_name.clone());
        found.alb_zone_id = Some(lb.zone_id.clone());
        found.alb_security_group_id = lb.security_groups.first().cloned();
        let listeners = elbv2::listeners(&aws.elb, &lb.arn).await?;
        found.certificate_arn = listeners
            .iter()
            .find(|l| l.port == 443)
            .and_then(|l| l.certificate_arn.clone());
        found.url = Some(found.url_for(&lb.dns_name));
        found.alb_arn = Some(lb.arn);
    }

    // Rules this service added to other groups: those still there.
    if let Some(task_sg) = &found.security_group_id {
        let mut kept = Vec::new();
        for (sg, port) in &hints.allow_to {
            if let Some(g) =
                ec2::find_security_group(&aws.ec2, sg, *port, &hints.rule_marker()).await?
            {
                if g.sources.contains(task_sg) {
                    kept.push((sg.clone(), *port));
                }
            }
        }
        found.allow_to = kept;
    }

    found.log_group_name = None;
    if let Some(days) = logs::retention(&aws.logs, &hints.log_group()).await? {
        found.log_retention_days = days;
        found.log_group_name = Some(hints.log_group());
    }

    // Scaling: autoscaling owns the count while the count is within its bounds.
    match autoscaling::service_scaling(&aws.autoscaling, &cluster, &hints.name).await? {
        Some(s) => {
            found.scaling = Scaling {
                min: s.min,
                max: s.max,
                target_cpu: s.target_cpu.round() as i32,
                requests_per_target: s.requests_per_target.map(|(n, _)| n.round() as i32),
                scheduled: s.scheduled,
            };
            found.desired_count = if (s.min..=s.max).contains(&svc.desired) {
                hints.desired_count
            } else {
                svc.desired
            };
        }
        None => {
            found.scaling = Scaling {
                max: hints.scaling.min,
                scheduled: Vec::new(),
                requests_per_target: None,
                ..hints.scaling.clone()
            };
            found.desired_count = svc.desired;
        }
    }
    found.scaling_block = hints.scaling_block || found.scaling != Scaling::default_for();

    // Alerts.
    found.alarm_topic_arn = match &hints.alarm_topic_arn {
        Some(arn) if sns::topic_exists(&aws.sns, arn).await? => Some(arn.clone()),
        _ => None,
    };
    found.alarm_name = None;
    if let Some((_, threshold, periods, actions)) =
        cloudwatch::find_alarm(&aws.cloudwatch, &hints.alarm()).await?
    {
        found.alerts.cpu_threshold = threshold.round() as i32;
        found.alerts.evaluation_periods = periods;
        if found
            .alarm_topic_arn
            .as_ref()
            .is_some_and(|t| actions.contains(t))
        {
            found.alarm_name = Some(hints.alarm());
        }
    }
    found.notifier_function_arn = lambda::function(&aws.lambda, &hints.notifier_function())
        .await?
        .map(|(arn, _)| arn);
    found.alerts.slack_webhook_url = None;
    if let Some(arn) = &hints.webhook_secret_arn {
        match secrets::read_secret(&aws.secrets, arn).await? {
            Some((value, _)) => found.alerts.slack_webhook_url = Some(value),
            None => found.webhook_secret_arn = None,
        }
    }
    found.alerts_block = hints.alerts_block
        || found.alerts.slack_webhook_url.is_some()
        || found.alerts.cpu_threshold != super::defaults::DEFAULT_ALARM_CPU
        || found.alerts.evaluation_periods != super::defaults::DEFAULT_EVALUATION_PERIODS;
    Ok(Some(found))
}
