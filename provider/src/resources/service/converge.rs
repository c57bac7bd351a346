//! Making, changing and removing the service's parts, recording each id in
//! `cur` the moment the part exists, so that a failure loses nothing.

use crate::aws::{
    autoscaling, cloudwatch, ec2, ecr, ecs, elbv2, iam, lambda, logs, secrets, sns, Aws,
};
use crate::error::{all_of, Error, Result};

use super::defaults::DEFAULT_KEEP_IMAGES;
use super::notifier;
use super::state::{ServiceState, Tags};

/// Seconds ECS ignores load balancer health checks of a starting task: a
/// Fastify API on Fargate pulls its image and boots in well under a minute.
const HEALTH_CHECK_GRACE_SECS: i32 = 60;
/// The inline policy of the execution role that lets it read the service's secrets.
const SECRETS_POLICY: &str = "read-secrets";
/// How long after a new execution role, or a change to what it may read, the
/// first tasks are started: IAM is eventually consistent ("changes that you
/// make … take time to become visible", IAM User Guide, "Troubleshoot IAM:
/// changes that I make are not always immediately visible"), and a task
/// whose role cannot yet read its secrets fails with AccessDenied, which the
/// deployment circuit breaker counts. ECS offers no call that says the role
/// has propagated; IAM's changes are usually visible within seconds. Time
/// spent meanwhile (the load balancer provisioning, on AWS minutes) counts.
const IAM_SETTLE: std::time::Duration = std::time::Duration::from_secs(10);

/// Waits out what is left of [`IAM_SETTLE`] since `changed`.
async fn settle_iam(changed: Option<tokio::time::Instant>) {
    if let Some(at) = changed {
        let left = (at + IAM_SETTLE).saturating_duration_since(tokio::time::Instant::now());
        if !left.is_zero() {
            tracing::info!("waiting {left:?} for IAM to propagate the execution role's access");
            tokio::time::sleep(left.min(crate::ctx::remaining())).await;
        }
    }
}

fn part_tags(s: &ServiceState, name: &str) -> Tags {
    let mut t = s.tags_all.clone();
    t.insert("Name".into(), name.to_string());
    t
}

/// The owner tag of the service's account-global parts (its IAM roles).
fn owner(aws: &Aws, s: &ServiceState) -> String {
    crate::aws::owner("fansite_service", &s.name, &aws.region)
}

/// With a `repository`: makes it (or finds it), brings its settings to the
/// configuration, and resolves `image_tag` to the digest to run. Returns
/// `want` with `image` and `image_digest` filled in, and whether the image
/// is yet to be pushed (only in a repository made just now, which is empty).
/// `creating`: the state holds no lifecycle policy read back, so it is set.
async fn sync_repository(
    aws: &Aws,
    cur: &mut ServiceState,
    want: &ServiceState,
    creating: bool,
) -> Result<(ServiceState, bool)> {
    let mut want = want.clone();
    let (Some(block), Some(name)) = (want.repository.clone(), want.repository_name()) else {
        want.image_digest = None;
        return Ok((want, false));
    };
    let immutable = block.tag_immutability.unwrap_or(true);
    let scan = block.scan_on_push.unwrap_or(true);
    let tags = crate::aws::with_owner(&part_tags(&want, &name), &owner(aws, &want));
    let (repo, made_now) = match ecr::repository(&aws.ecr, None, &name).await? {
        Some(found) => {
            if block.create {
                let had = ecr::tags_of(&aws.ecr, &found.arn).await?;
                let theirs = had.get(crate::aws::OWNER_TAG).map(String::as_str);
                if !crate::aws::owned(theirs, &owner(aws, &want)) {
                    return Err(crate::aws::not_ours(
                        &format!("ECR repository {name:?}"),
                        theirs,
                        &owner(aws, &want),
                    ));
                }
                ecr::set_settings(&aws.ecr, &name, &found, immutable, scan).await?;
                ecr::set_tags(&aws.ecr, &found.arn, &had, &tags).await?;
            }
            (found, false)
        }
        None if block.create => (
            ecr::create_repository(&aws.ecr, &name, immutable, scan, &tags).await?,
            true,
        ),
        None => {
            return Err(Error::Invalid {
                path: crate::diag::AttrPath::attr("repository")
                    .then_index(0)
                    .then_attr("name"),
                why: format!("no ECR repository {name:?} in {}", aws.region),
            })
        }
    };
    cur.repository_arn = Some(repo.arn.clone());
    if block.create {
        let keep = block.keep_images.unwrap_or(DEFAULT_KEEP_IMAGES);
        let had = cur.repository.as_ref().and_then(|r| r.keep_images);
        if creating || made_now || had != Some(keep) {
            ecr::put_lifecycle(&aws.ecr, &name, keep).await?;
        }
    }
    cur.repository = want.repository.clone();
    want.image = repo.uri.clone();
    if want.image_digest.is_none() {
        match ecr::digest_of(&aws.ecr, None, &name, &want.image_tag).await? {
            ecr::Lookup::Digest(d) => want.image_digest = Some(d),
            _ if made_now => return Ok((want, true)),
            _ => {
                return Err(Error::Invalid {
                    path: crate::diag::AttrPath::attr("image_tag"),
                    why: format!(
                        "{:?} is not in ECR repository {name:?} ({}): push it first",
                        want.image_tag, repo.uri
                    ),
                })
            }
        }
    }
    Ok((want, false))
}

/// Refuses, before anything changes, to delete a repository this service
/// made while it holds images, unless `force_delete` says to.
async fn check_repository_deletable(aws: &Aws, cur: &ServiceState) -> Result<()> {
    let (Some(block), Some(name)) = (&cur.repository, cur.repository_name()) else {
        return Ok(());
    };
    if !block.create || block.force_delete || cur.repository_arn.is_none() {
        return Ok(());
    }
    if ecr::has_images(&aws.ecr, &name).await? {
        return Err(Error::Refused {
            action: "deleting".into(),
            part: format!("ECR repository {name:?}"),
            why: "it still holds images, which a delete would lose: delete them, or set `repository.force_delete = true` (and apply) to delete them with it. Nothing was changed".into(),
        });
    }
    Ok(())
}

/// Deletes the repository this service made, if it made one.
async fn delete_repository(aws: &Aws, cur: &ServiceState) -> Result<()> {
    if let (Some(block), Some(name)) = (&cur.repository, cur.repository_name()) {
        if block.create && cur.repository_arn.is_some() {
            ecr::delete_repository(&aws.ecr, &name, block.force_delete).await?;
        }
    }
    Ok(())
}

/// The log group and the roles the tasks run with, each in `cur` as it
/// exists. Returns when the execution role was made, if it was just now.
async fn make_access(
    aws: &Aws,
    cur: &mut ServiceState,
    want: &ServiceState,
) -> Result<Option<tokio::time::Instant>> {
    logs::ensure_log_group(
        &aws.logs,
        &want.log_group(),
        want.log_retention_days,
        &part_tags(want, &want.log_group()),
    )
    .await?;
    cur.log_group_name = Some(want.log_group());
    let (exec, made) = iam::ensure_role_made(
        &aws.iam,
        &want.execution_role(),
        "ecs-tasks.amazonaws.com",
        &part_tags(want, &want.execution_role()),
        &owner(aws, want),
    )
    .await?;
    let iam_changed = made.then(tokio::time::Instant::now);
    cur.execution_role_arn = Some(exec);
    iam::attach_policy(
        &aws.iam,
        &want.execution_role(),
        iam::ECS_TASK_EXECUTION_POLICY,
    )
    .await?;
    sync_secrets_policy(aws, want).await?;
    let task = iam::ensure_role(
        &aws.iam,
        &want.task_role(),
        "ecs-tasks.amazonaws.com",
        &part_tags(want, &want.task_role()),
        &owner(aws, want),
    )
    .await?;
    cur.task_role_arn = Some(task);
    Ok(iam_changed)
}

/// The cluster: made (ECS may refuse the first one of an account for a
/// while, see [`ecs::create_cluster`]) or, when the service runs in one it
/// does not own, found.
async fn make_cluster(aws: &Aws, cur: &mut ServiceState, want: &ServiceState) -> Result<()> {
    let cluster = want.cluster();
    cur.cluster_arn = Some(if want.owns_cluster() {
        ecs::create_cluster(&aws.ecs, &cluster, &part_tags(want, &cluster)).await?
    } else {
        ecs::cluster_arn(&aws.ecs, &cluster)
            .await?
            .ok_or_else(|| Error::Invalid {
                path: crate::diag::AttrPath::attr("cluster_name"),
                why: format!("ECS cluster {cluster:?} was not found in {}", aws.region),
            })?
    });
    Ok(())
}

/// The way in: the security groups and their rules, the load balancer (until
/// it is active), its target group and listeners. Each id is in `cur` as
/// soon as its part exists. Returns the tasks' group and the target group.
async fn make_front(
    aws: &Aws,
    cur: &mut ServiceState,
    want: &ServiceState,
) -> Result<(String, String)> {
    // Security groups: the load balancer's open to the world on 80 and 443
    // (or to CloudFront only); the tasks' open on the container port to the
    // load balancer only.
    let alb_sg = ensure_security_group(
        aws,
        want,
        &want.alb_security_group(),
        &format!("Load balancer of {}: the API's public entry", want.name),
    )
    .await?;
    cur.alb_security_group_id = Some(alb_sg.clone());
    ec2::set_load_balancer_ingress(&aws.ec2, &alb_sg, want.alb_ingress(), &want.rule_marker())
        .await?;

    // The load balancer, its target group and listeners; the tasks' group
    // and its rules meanwhile (the load balancer takes minutes to provision).
    let lb = match elbv2::find_load_balancer(&aws.elb, &want.name).await? {
        Some(lb) => lb,
        None => {
            elbv2::create_load_balancer(
                &aws.elb,
                &want.name,
                &want.public_subnet_ids,
                &alb_sg,
                &part_tags(want, &want.name),
            )
            .await?
        }
    };
    cur.alb_arn = Some(lb.arn.clone());
    cur.alb_dns_name = Some(lb.dns_name.clone());
    cur.alb_zone_id = Some(lb.zone_id.clone());
    cur.url = Some(want.url_for(&lb.dns_name));
    let mut tasks = cur.clone();
    let (grouped, active) = tokio::join!(make_task_group(aws, &mut tasks, want, &alb_sg), async {
        let tg = match elbv2::find_target_group(&aws.elb, &want.name).await? {
            Some(tg) => tg.arn,
            None => {
                elbv2::create_target_group(
                    &aws.elb,
                    &want.name,
                    &want.vpc_id,
                    want.container_port,
                    &want.health_check(),
                    &part_tags(want, &want.name),
                )
                .await?
            }
        };
        cur.target_group_arn = Some(tg.clone());
        elbv2::wait_load_balancer_active(&aws.elb, &lb.arn, crate::ctx::remaining()).await?;
        sync_listeners(aws, cur, want, &lb.arn, &tg).await?;
        Ok::<String, Error>(tg)
    });
    cur.security_group_id = tasks.security_group_id;
    cur.allow_to = tasks.allow_to;
    Ok((grouped?, active?))
}

/// The tasks' security group, open on the container port to the load
/// balancer's group, and the rules `allow_to` gives it elsewhere.
async fn make_task_group(
    aws: &Aws,
    cur: &mut ServiceState,
    want: &ServiceState,
    alb_sg: &str,
) -> Result<String> {
    let task_sg = ensure_security_group(
        aws,
        want,
        &want.task_security_group(),
        &format!(
            "Tasks of {}: the container port from the load balancer only",
            want.name
        ),
    )
    .await?;
    cur.security_group_id = Some(task_sg.clone());
    ec2::allow_from(
        &aws.ec2,
        &task_sg,
        alb_sg,
        want.container_port,
        &want.rule_marker(),
    )
    .await?;
    for a in &want.allow_to {
        ec2::allow_from(
            &aws.ec2,
            &a.security_group_id,
            &task_sg,
            a.port,
            &want.rule_marker(),
        )
        .await?;
        if !cur.allow_to.contains(a) {
            cur.allow_to.push(a.clone());
        }
    }
    Ok(task_sg)
}

/// The alert fields of `from` (a copy of the state [`sync_alerts`] ran on).
fn record_alerts(cur: &mut ServiceState, from: ServiceState) {
    cur.alarm_topic_arn = from.alarm_topic_arn;
    cur.alarm_name = from.alarm_name;
    cur.notifier_function_arn = from.notifier_function_arn;
    cur.webhook_secret_arn = from.webhook_secret_arn;
    cur.alerts = from.alerts;
}

/// Makes every part. Parts an earlier create left (found by name) are taken
/// over.
///
/// A composite is one node of Terraform's graph, so what Terraform would run
/// side by side for raw resources runs side by side here: the alarm and its
/// Slack notifier (whose function waits for its own role to propagate)
/// beside all the rest; within the rest, the cluster, the log group and
/// roles, and the groups, load balancer and listeners; the task definition
/// and the service follow once those are done. Each chain records its ids in
/// the state as it goes, all are recorded before an error is returned, and
/// every chain's error is reported.
pub async fn create_all(aws: &Aws, cur: &mut ServiceState, want: &ServiceState) -> Result<()> {
    // The image's repository, and the digest to run.
    let (resolved, waiting) = sync_repository(aws, cur, want, true).await?;
    let want = &resolved;
    cur.image = want.image.clone();
    // The alarm and its notifier need nothing of the service (the alarm
    // names it; CloudWatch takes a metric before it has data).
    let mut alerting = cur.clone();
    let (served, alerted) = tokio::join!(
        make_service(aws, cur, want, waiting),
        sync_alerts(aws, &mut alerting, want),
    );
    record_alerts(cur, alerting);
    all_of([served, alerted])
}

/// Everything but the alerts: the cluster, access and way in side by side,
/// then the first revision and the service, its wait and its scaling.
/// `waiting`: the image is not pushed yet, so the service is not made.
async fn make_service(
    aws: &Aws,
    cur: &mut ServiceState,
    want: &ServiceState,
    waiting: bool,
) -> Result<()> {
    let cluster = want.cluster();
    // Each chain on its own copy of the state; what each made goes back.
    let (mut clustering, mut accessing) = (cur.clone(), cur.clone());
    let (clustered, accessed, fronted) = tokio::join!(
        make_cluster(aws, &mut clustering, want),
        make_access(aws, &mut accessing, want),
        make_front(aws, cur, want),
    );
    cur.cluster_arn = clustering.cluster_arn;
    cur.log_group_name = accessing.log_group_name;
    cur.execution_role_arn = accessing.execution_role_arn;
    cur.task_role_arn = accessing.task_role_arn;
    let iam_changed = accessed.as_ref().ok().copied().flatten();
    let (task_sg, tg) = match (all_of([clustered, accessed.map(|_| ())]), fronted) {
        (Ok(()), Ok(ids)) => ids,
        (others, front) => return all_of([front.map(|_| ()), others]),
    };

    if waiting {
        // The repository was made just now, so the image cannot be in it yet:
        // the ECS service is made by the first apply after the push (read
        // finds it missing, and the plan shows it made).
        tracing::warn!(
            "{:?} is not pushed to the new repository yet: the ECS service is made by the next apply",
            want.image_tag
        );
        cur.image_digest = None;
        return Ok(());
    }

    // The first revision, then the service.
    let with_roles = ServiceState {
        execution_role_arn: cur.execution_role_arn.clone(),
        task_role_arn: cur.task_role_arn.clone(),
        ..want.clone()
    };
    let (td, revision) = ecs::register_task_definition(
        &aws.ecs,
        &with_roles.task_spec(&aws.region),
        &part_tags(want, &want.family()),
    )
    .await?;
    let spec = ecs::ServiceSpec {
        cluster: cluster.clone(),
        name: want.name.clone(),
        task_definition: td.clone(),
        desired_count: want.desired_count,
        subnets: want.private_subnet_ids.clone(),
        security_group: task_sg.clone(),
        target_group_arn: tg.clone(),
        container_port: want.container_port,
        rollout: want.rollout(),
        health_check_grace_secs: HEALTH_CHECK_GRACE_SECS,
    };
    settle_iam(iam_changed).await;
    // A service of the same name deleted a moment ago (outside Terraform,
    // say) drains first: ECS refuses a new one until it is INACTIVE.
    if ecs::service_status(&aws.ecs, &cluster, &want.name)
        .await?
        .as_deref()
        == Some("DRAINING")
    {
        ecs::wait_service_inactive(&aws.ecs, &cluster, &want.name, crate::ctx::remaining()).await?;
    }
    cur.service_arn =
        Some(ecs::create_service(&aws.ecs, &spec, &part_tags(want, &want.name)).await?);
    cur.task_definition_arn = Some(td.clone());
    cur.revision = Some(revision);
    cur.image_digest = want.image_digest.clone();
    if want.wait_for_steady_state() {
        ecs::wait_stable(&aws.ecs, &cluster, &want.name, &td, crate::ctx::remaining()).await?;
    }

    sync_scaling(aws, cur, want, false).await
}

/// The listeners and, with `ingress = "cloudfront"`, the origin secret and
/// the listener rule that forwards only requests carrying it in
/// [`elbv2::ORIGIN_HEADER`] (every other request is answered 403).
///
/// The rule accepts the secret's current value and its previous one, so that
/// an edge still sending the previous value after a rotation is served. A
/// rotation (a new `origin_secret_rotation`) first makes the rule accept a
/// new value next to the current one, then makes the new value current: at
/// no moment is a request refused that carries the value the edge sends. The
/// value before the current one is refused from then on.
pub(super) async fn sync_listeners(
    aws: &Aws,
    cur: &mut ServiceState,
    want: &ServiceState,
    lb: &str,
    tg: &str,
) -> Result<()> {
    let tags = part_tags(want, &want.name);
    if !want.from_cloudfront() {
        elbv2::converge_listeners(&aws.elb, lb, listener_spec(want, tg, None), &tags).await?;
        cur.origin_rule_arn = None;
        if let Some(arn) = &cur.origin_secret_arn {
            secrets::delete_secret(&aws.secrets, arn).await?;
        }
        cur.origin_secret_arn = None;
        cur.origin_secret_version = None;
        cur.origin_secret_rotation = want.origin_secret_rotation.clone();
        return Ok(());
    }
    // Rotated only when the state knew the secret: one just made or found by
    // name (a create that failed left it) is taken as it is.
    let name = want.origin_secret_name();
    let (arn, known) = match &cur.origin_secret_arn {
        Some(arn) => (arn.clone(), true),
        None => match secrets::secret_named(&aws.secrets, &name).await? {
            Some(arn) => (arn, false),
            None => {
                let value = secrets::random_value(&aws.secrets).await?;
                let arn = secrets::create_secret(
                    &aws.secrets,
                    &name,
                    &format!(
                        "What CloudFront sends in {} to the load balancer of {}",
                        elbv2::ORIGIN_HEADER,
                        want.name
                    ),
                    value.expose(),
                    &part_tags(want, &name),
                )
                .await?;
                (arn, false)
            }
        },
    };
    cur.origin_secret_arn = Some(arn.clone());
    let had = secrets::versions(&aws.secrets, &arn)
        .await?
        .ok_or_else(|| Error::Incomplete {
            action: "reading".into(),
            part: format!("secret {arn}"),
            missing: "its current version (it was deleted meanwhile)".into(),
        })?;
    let rotate = known && cur.origin_secret_rotation != want.origin_secret_rotation;
    let (rule, version) = if rotate {
        let next = secrets::random_value(&aws.secrets).await?;
        let values = vec![
            next.expose().to_string(),
            had.current.value.expose().to_string(),
        ];
        // The rule accepts the new value before it becomes current.
        let rule =
            elbv2::converge_listeners(&aws.elb, lb, listener_spec(want, tg, Some(&values)), &tags)
                .await?;
        let id = secrets::put_value(&aws.secrets, &arn, next.expose()).await?;
        tracing::info!("rotated the origin secret of service {:?}", want.name);
        (rule, id)
    } else {
        let mut values = vec![had.current.value.expose().to_string()];
        values.extend(had.previous.map(|p| p.value.expose().to_string()));
        let rule =
            elbv2::converge_listeners(&aws.elb, lb, listener_spec(want, tg, Some(&values)), &tags)
                .await?;
        (rule, had.current.id)
    };
    cur.origin_rule_arn = rule.map(|r| r.arn);
    cur.origin_secret_version = Some(version);
    cur.origin_secret_rotation = want.origin_secret_rotation.clone();
    Ok(())
}

fn listener_spec<'a>(
    want: &'a ServiceState,
    target_group: &'a str,
    origin_values: Option<&'a [String]>,
) -> elbv2::ListenerSpec<'a> {
    elbv2::ListenerSpec {
        target_group,
        certificate: want.certificate_arn.as_deref(),
        origin_values,
    }
}

/// The security group `name` in the VPC: the one an earlier create left, or a new one.
async fn ensure_security_group(
    aws: &Aws,
    want: &ServiceState,
    name: &str,
    description: &str,
) -> Result<String> {
    match ec2::security_group_named(&aws.ec2, &want.vpc_id, name).await? {
        Some(id) => Ok(id),
        None => {
            ec2::create_security_group(
                &aws.ec2,
                &want.vpc_id,
                name,
                description,
                &part_tags(want, name),
            )
            .await
        }
    }
}

/// The execution role may read exactly the secrets the task names.
async fn sync_secrets_policy(aws: &Aws, want: &ServiceState) -> Result<()> {
    let arns = want.secret_arns();
    if arns.is_empty() {
        iam::delete_inline_policy(&aws.iam, &want.execution_role(), SECRETS_POLICY).await
    } else {
        // ECS reads a Secrets Manager secret with GetSecretValue and an SSM
        // parameter with GetParameters (ECS Developer Guide, "Required IAM
        // permissions for Amazon ECS secrets").
        let (parameters, secrets): (Vec<String>, Vec<String>) = arns
            .into_iter()
            .partition(|a| a.split(':').nth(2) == Some("ssm"));
        iam::put_inline_policy(
            &aws.iam,
            &want.execution_role(),
            SECRETS_POLICY,
            &iam::allow_each(&[
                (&["secretsmanager:GetSecretValue"], secrets),
                (&["ssm:GetParameters"], parameters),
            ]),
        )
        .await
    }
}

/// Registers the service's scaling; with `only_if_changed`, only when what read
/// found registered (in `cur`) differs from what is wanted.
async fn sync_scaling(
    aws: &Aws,
    cur: &mut ServiceState,
    want: &ServiceState,
    only_if_changed: bool,
) -> Result<()> {
    let cluster = want.cluster();
    if only_if_changed && cur.scaling() == want.scaling() {
        cur.autoscaling = want.autoscaling.clone();
        return Ok(());
    }
    if want.scaling().autoscaled() {
        let with_arns = ServiceState {
            alb_arn: cur.alb_arn.clone(),
            target_group_arn: cur.target_group_arn.clone(),
            ..want.clone()
        };
        autoscaling::scale_service(
            &aws.autoscaling,
            &cluster,
            &want.name,
            &with_arns.service_scaling(),
        )
        .await?;
    } else {
        autoscaling::stop_service_scaling(&aws.autoscaling, &cluster, &want.name).await?;
    }
    cur.autoscaling = want.autoscaling.clone();
    Ok(())
}

/// The alarm and its topic always; the Slack notifier (role, secret, function,
/// subscription) only with a webhook.
async fn sync_alerts(aws: &Aws, cur: &mut ServiceState, want: &ServiceState) -> Result<()> {
    let topic = match &cur.alarm_topic_arn {
        Some(arn) => arn.clone(),
        None => {
            sns::create_topic(
                &aws.sns,
                &want.topic_name(),
                &part_tags(want, &want.topic_name()),
            )
            .await?
        }
    };
    let new_topic = cur.alarm_topic_arn.as_ref() != Some(&topic);
    cur.alarm_topic_arn = Some(topic.clone());
    let notifier_ready = cur.notifier_function_arn.is_some()
        && cur.webhook_secret_arn.is_some()
        && cur.slack_webhook_url() == want.slack_webhook_url()
        && cur.slack_webhook_url_wo_version() == want.slack_webhook_url_wo_version()
        && !new_topic;
    let webhook = want.has_slack_webhook();
    if webhook && !notifier_ready {
        let secret = sync_webhook_secret(aws, cur, want).await?;
        let role = want.notifier_role();
        let role_arn = iam::ensure_role(
            &aws.iam,
            &role,
            "lambda.amazonaws.com",
            &part_tags(want, &role),
            &owner(aws, want),
        )
        .await?;
        iam::attach_policy(&aws.iam, &role, iam::LAMBDA_BASIC_EXECUTION_POLICY).await?;
        iam::put_inline_policy(
            &aws.iam,
            &role,
            "read-webhook",
            &iam::allow(
                &["secretsmanager:GetSecretValue"],
                std::slice::from_ref(&secret),
            ),
        )
        .await?;
        logs::ensure_log_group(
            &aws.logs,
            &want.notifier_log_group(),
            want.log_retention_days,
            &part_tags(want, &want.notifier_log_group()),
        )
        .await?;
        let f = lambda::FunctionSpec {
            name: want.notifier_function(),
            role_arn,
            handler: notifier::HANDLER.into(),
            zip: notifier::package(),
            environment: [(notifier::SECRET_ENV.to_string(), secret)]
                .into_iter()
                .collect(),
        };
        let arn = lambda::ensure_function(&aws.lambda, &f, &part_tags(want, &f.name)).await?;
        cur.notifier_function_arn = Some(arn.clone());
        lambda::allow_sns(&aws.lambda, &f.name, &topic).await?;
        sns::subscribe_lambda(&aws.sns, &topic, &arn).await?;
    } else if !webhook && (cur.notifier_function_arn.is_some() || cur.webhook_secret_arn.is_some())
    {
        remove_notifier(aws, cur).await?;
    }
    let alarm_current = cur.alarm_name.is_some()
        && !new_topic
        && (cur.alerts().cpu_threshold, cur.alerts().evaluation_periods)
            == (
                want.alerts().cpu_threshold,
                want.alerts().evaluation_periods,
            );
    if alarm_current {
        cur.alerts = want.alerts.clone();
        return Ok(());
    }
    let alarm = cloudwatch::CpuAlarm {
        name: want.alarm(),
        cluster: want.cluster(),
        service: want.name.clone(),
        threshold: f64::from(want.alerts().cpu_threshold),
        evaluation_periods: want.alerts().evaluation_periods,
        topic_arn: topic,
    };
    cloudwatch::put_cpu_alarm(&aws.cloudwatch, &alarm, &part_tags(want, &want.alarm())).await?;
    cur.alarm_name = Some(want.alarm());
    cur.alerts = want.alerts.clone();
    Ok(())
}

async fn remove_notifier(aws: &Aws, cur: &mut ServiceState) -> Result<()> {
    if let Some(arn) = &cur.notifier_function_arn {
        if let Some(topic) = &cur.alarm_topic_arn {
            for (sub, endpoint) in sns::subscriptions(&aws.sns, topic).await? {
                if &endpoint == arn {
                    let _ = aws.sns.unsubscribe().subscription_arn(sub).send().await;
                }
            }
        }
    }
    lambda::delete_function(&aws.lambda, &cur.notifier_function()).await?;
    cur.notifier_function_arn = None;
    logs::delete_log_group(&aws.logs, &cur.notifier_log_group()).await?;
    iam::delete_role(&aws.iam, &cur.notifier_role(), &owner(aws, cur)).await?;
    if let Some(arn) = &cur.webhook_secret_arn {
        secrets::delete_secret(&aws.secrets, arn).await?;
    }
    cur.webhook_secret_arn = None;
    cur.clear_slack_webhook();
    Ok(())
}

/// The secret the notifier reads the webhook from, holding the configured
/// webhook: the state's, one an earlier create left (found by its name, and
/// written, since what it holds is not known), or a new one. The deprecated
/// `slack_webhook_url` is written when it differs from the state's; the
/// write-only `slack_webhook_url_wo`, which no state holds, only when
/// `slack_webhook_url_wo_version` differs from the state's. `cur` records the
/// secret and what it holds. The webhook is never logged.
pub(super) async fn sync_webhook_secret(
    aws: &Aws,
    cur: &mut ServiceState,
    want: &ServiceState,
) -> Result<String> {
    let changed = match want.slack_webhook_url() {
        Some(url) => cur.slack_webhook_url() != Some(url),
        None => cur.slack_webhook_url_wo_version() != want.slack_webhook_url_wo_version(),
    };
    let secret = match &cur.webhook_secret_arn {
        Some(arn) => {
            if changed {
                secrets::put_value(&aws.secrets, arn, webhook_of(want)?).await?;
            }
            arn.clone()
        }
        None => match secrets::secret_named(&aws.secrets, &want.webhook_secret_name()).await? {
            Some(arn) => {
                secrets::put_value(&aws.secrets, &arn, webhook_of(want)?).await?;
                arn
            }
            None => {
                secrets::create_secret(
                    &aws.secrets,
                    &want.webhook_secret_name(),
                    &format!("Slack webhook the alarms of {} post to", want.name),
                    webhook_of(want)?,
                    &part_tags(want, &want.webhook_secret_name()),
                )
                .await?
            }
        },
    };
    cur.webhook_secret_arn = Some(secret.clone());
    cur.set_slack_webhook_url(want.slack_webhook_url().cloned());
    cur.set_slack_webhook_url_wo_version(want.slack_webhook_url_wo_version().cloned());
    Ok(secret)
}

/// The webhook to write: the deprecated `slack_webhook_url`, or the
/// write-only `slack_webhook_url_wo` that Terraform passes with the
/// configuration at apply.
fn webhook_of(want: &ServiceState) -> Result<&str> {
    want.slack_webhook_url()
        .or(want.slack_webhook_url_wo())
        .map(String::as_str)
        .ok_or_else(|| Error::Invalid {
            path: crate::diag::AttrPath::attr("alerts")
                .then_index(0)
                .then_attr("slack_webhook_url_wo"),
            why: "the webhook's secret is to be written, and Terraform passed no slack_webhook_url_wo: set slack_webhook_url_wo with slack_webhook_url_wo_version".into(),
        })
}

/// Changes what differs, in an order that keeps the API serving: access is
/// widened before a new revision needs it; a new revision is registered
/// before the service moves to it, and old ones are deregistered only once
/// it is stable; access is narrowed last.
pub async fn update_all(aws: &Aws, cur: &mut ServiceState, want: &ServiceState) -> Result<()> {
    let (Some(task_sg), Some(alb_sg), Some(lb), Some(tg)) = (
        cur.security_group_id.clone(),
        cur.alb_security_group_id.clone(),
        cur.alb_arn.clone(),
        cur.target_group_arn.clone(),
    ) else {
        return create_all(aws, cur, want).await;
    };
    if cur.service_arn.is_none() {
        // The ECS service is gone (or waits for its first image): made
        // again, taking over what remains.
        return create_all(aws, cur, want).await;
    }
    // A repository given up is deleted last; refused now if that would lose images.
    let old_repository = (cur.repository_name() != want.repository_name()).then(|| cur.clone());
    if let Some(old) = &old_repository {
        check_repository_deletable(aws, old).await?;
    }
    let (mut resolved, waiting) = sync_repository(aws, cur, want, false).await?;
    if waiting {
        // A repository made again just now: what runs is kept until the image is pushed.
        resolved.image = cur.image.clone();
        resolved.image_tag = cur.image_tag.clone();
        resolved.image_digest = cur.image_digest.clone();
    }
    let want = &resolved;
    let cluster = want.cluster();
    let old_port = cur.container_port;

    // Widen first: the new container port, new allow_to groups, new secrets.
    if cur.container_port != want.container_port {
        ec2::allow_from(
            &aws.ec2,
            &task_sg,
            &alb_sg,
            want.container_port,
            &want.rule_marker(),
        )
        .await?;
    }
    for a in want.allow_to.iter().filter(|a| !cur.allow_to.contains(a)) {
        ec2::allow_from(
            &aws.ec2,
            &a.security_group_id,
            &task_sg,
            a.port,
            &want.rule_marker(),
        )
        .await?;
    }
    sync_secrets_policy(aws, want).await?;
    let iam_changed = (cur.secret_arns() != want.secret_arns()).then(tokio::time::Instant::now);
    if cur.log_retention_days != want.log_retention_days {
        logs::ensure_log_group(
            &aws.logs,
            &want.log_group(),
            want.log_retention_days,
            &part_tags(want, &want.log_group()),
        )
        .await?;
        if cur.notifier_function_arn.is_some() {
            logs::ensure_log_group(
                &aws.logs,
                &want.notifier_log_group(),
                want.log_retention_days,
                &part_tags(want, &want.notifier_log_group()),
            )
            .await?;
        }
        cur.log_retention_days = want.log_retention_days;
    }
    let listeners_changed = cur.certificate_arn != want.certificate_arn
        || cur.ingress != want.ingress
        || (want.from_cloudfront()
            && (cur.origin_secret_rotation != want.origin_secret_rotation
                || cur.origin_secret_arn.is_none()
                || cur.origin_rule_arn.is_none()));
    if cur.ingress != want.ingress || cur.alb_ingress() != want.alb_ingress() {
        ec2::set_load_balancer_ingress(&aws.ec2, &alb_sg, want.alb_ingress(), &want.rule_marker())
            .await?;
    }
    cur.ingress = want.ingress.clone();
    if cur.health_check() != want.health_check() {
        elbv2::modify_health_check(&aws.elb, &tg, &want.health_check()).await?;
    }
    cur.health_check = want.health_check.clone();
    if listeners_changed {
        sync_listeners(aws, cur, want, &lb, &tg).await?;
        cur.certificate_arn = want.certificate_arn.clone();
        cur.url = cur.alb_dns_name.as_deref().map(|d| want.url_for(d));
    }
    if sorted(&cur.public_subnet_ids) != sorted(&want.public_subnet_ids) {
        elbv2::set_subnets(&aws.elb, &lb, &want.public_subnet_ids).await?;
    }
    cur.public_subnet_ids = want.public_subnet_ids.clone();

    // A new revision when the container changes; then the service moves to it.
    let new_td = if cur.container_differs(want) || cur.task_definition_arn.is_none() {
        let with_roles = ServiceState {
            execution_role_arn: cur.execution_role_arn.clone(),
            task_role_arn: cur.task_role_arn.clone(),
            ..want.clone()
        };
        Some(
            ecs::register_task_definition(
                &aws.ecs,
                &with_roles.task_spec(&aws.region),
                &part_tags(want, &want.family()),
            )
            .await?,
        )
    } else {
        None
    };
    // The desired count is sent only when the configuration changed it:
    // otherwise autoscaling owns it, and a deploy must not reset it.
    let desired = (cur.desired_count != want.desired_count).then_some(want.desired_count);
    let port_changed = cur.container_port != want.container_port;
    let subnets_changed = sorted(&cur.private_subnet_ids) != sorted(&want.private_subnet_ids);
    let service_changed =
        new_td.is_some() || desired.is_some() || cur.rollout() != want.rollout() || subnets_changed;
    if service_changed {
        if new_td.is_some() {
            settle_iam(iam_changed).await;
        }
        ecs::update_service(
            &aws.ecs,
            &cluster,
            &want.name,
            &ecs::ServiceUpdate {
                task_definition: new_td.as_ref().map(|(arn, _)| arn.clone()),
                load_balancer: port_changed.then(|| (tg.clone(), want.container_port)),
                desired_count: desired,
                network: subnets_changed
                    .then(|| (want.private_subnet_ids.clone(), task_sg.clone())),
                rollout: want.rollout(),
                health_check_grace_secs: HEALTH_CHECK_GRACE_SECS,
            },
        )
        .await?;
        cur.desired_count = want.desired_count;
        cur.private_subnet_ids = want.private_subnet_ids.clone();
        if let Some((arn, revision)) = &new_td {
            // What the service is asked to run; a rollback below puts back what runs.
            cur.task_definition_arn = Some(arn.clone());
            cur.revision = Some(*revision);
            cur.image = want.image.clone();
            cur.image_tag = want.image_tag.clone();
            cur.image_digest = want.image_digest.clone();
            cur.container_port = want.container_port;
            cur.cpu = want.cpu;
            cur.memory = want.memory;
            cur.environment = want.environment.clone();
            cur.secrets = want.secrets.clone();
        }
    }
    cur.deployment = want.deployment;
    cur.keep_revisions = want.keep_revisions;
    if let Some(td) = cur.task_definition_arn.clone() {
        if service_changed && want.wait_for_steady_state() {
            ecs::wait_stable(&aws.ecs, &cluster, &want.name, &td, crate::ctx::remaining()).await?;
        }
        if new_td.is_some() {
            deregister_old_revisions(aws, want, &td).await?;
        }
    }

    sync_scaling(aws, cur, want, true).await?;
    sync_alerts(aws, cur, want).await?;
    if cur.tags_all != want.tags_all {
        set_all_tags(aws, cur, want).await?;
    }
    cur.tags = want.tags.clone();
    cur.tags_all = want.tags_all.clone();

    // Narrow last: the old container port, groups no longer allowed.
    if old_port != want.container_port {
        ec2::revoke_from(&aws.ec2, &task_sg, &alb_sg, old_port, &want.rule_marker()).await?;
    }
    for a in cur.allow_to.iter().filter(|a| !want.allow_to.contains(a)) {
        ec2::revoke_from(
            &aws.ec2,
            &a.security_group_id,
            &task_sg,
            a.port,
            &want.rule_marker(),
        )
        .await?;
    }
    cur.allow_to = want.allow_to.clone();
    if let Some(old) = &old_repository {
        delete_repository(aws, old).await?;
        if want.repository.is_none() {
            cur.repository = None;
            cur.repository_arn = None;
        }
    }
    Ok(())
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v
}

/// Deregisters revisions of the family beyond the newest `keep_revisions`; never `running`.
pub async fn deregister_old_revisions(aws: &Aws, want: &ServiceState, running: &str) -> Result<()> {
    let revisions = ecs::active_revisions(&aws.ecs, &want.family()).await?;
    let keep = usize::try_from(want.keep_revisions.max(1)).unwrap_or(1);
    let surplus = revisions.len().saturating_sub(keep);
    for arn in revisions
        .iter()
        .take(surplus)
        .filter(|a| a.as_str() != running)
    {
        ecs::deregister_task_definition(&aws.ecs, arn).await?;
    }
    Ok(())
}

/// Retags every part with the tags of `want`, each with its own `Name`.
async fn set_all_tags(aws: &Aws, cur: &ServiceState, want: &ServiceState) -> Result<()> {
    let (had, now) = (
        |name: &str| part_tags(cur, name),
        |name: &str| part_tags(want, name),
    );
    if let Some(arn) = &cur.service_arn {
        ecs::set_service_tags(&aws.ecs, arn, &had(&cur.name), &now(&want.name)).await?;
    }
    if let (true, Some(arn)) = (cur.owns_cluster(), &cur.cluster_arn) {
        let c = cur.cluster();
        ecs::set_service_tags(&aws.ecs, arn, &had(&c), &now(&c)).await?;
    }
    if let Some(arn) = &cur.task_definition_arn {
        let f = cur.family();
        ecs::set_service_tags(&aws.ecs, arn, &had(&f), &now(&f)).await?;
    }
    for arn in [&cur.alb_arn, &cur.target_group_arn].into_iter().flatten() {
        elbv2::set_tags(&aws.elb, arn, &had(&cur.name), &now(&want.name)).await?;
    }
    for (id, name) in [
        (&cur.security_group_id, cur.task_security_group()),
        (&cur.alb_security_group_id, cur.alb_security_group()),
    ] {
        if let Some(id) = id {
            ec2::set_tags(&aws.ec2, id, &had(&name), &now(&name)).await?;
        }
    }
    let notifier = cur.notifier_function_arn.is_some();
    let mut roles = vec![cur.execution_role(), cur.task_role()];
    let mut groups = vec![cur.log_group()];
    if notifier {
        roles.push(cur.notifier_role());
        groups.push(cur.notifier_log_group());
    }
    for role in roles {
        iam::set_role_tags(&aws.iam, &role, &had(&role), &now(&role)).await?;
    }
    for group in groups {
        logs::set_log_group_tags(&aws.logs, &group, &had(&group), &now(&group)).await?;
    }
    if let Some((arn, ..)) = cloudwatch::find_alarm(&aws.cloudwatch, &cur.alarm()).await? {
        let a = cur.alarm();
        cloudwatch::set_alarm_tags(&aws.cloudwatch, &arn, &had(&a), &now(&a)).await?;
    }
    if let Some(arn) = &cur.alarm_topic_arn {
        let t = cur.topic_name();
        sns::set_topic_tags(&aws.sns, arn, &had(&t), &now(&t)).await?;
    }
    if let Some(arn) = &cur.notifier_function_arn {
        let f = cur.notifier_function();
        lambda::set_function_tags(&aws.lambda, arn, &had(&f), &now(&f)).await?;
    }
    if let Some(arn) = &cur.webhook_secret_arn {
        let n = cur.webhook_secret_name();
        secrets::set_tags(&aws.secrets, arn, &had(&n), &now(&n)).await?;
    }
    if let Some(arn) = &cur.origin_secret_arn {
        let n = cur.origin_secret_name();
        secrets::set_tags(&aws.secrets, arn, &had(&n), &now(&n)).await?;
    }
    if let Some(arn) = &cur.origin_rule_arn {
        elbv2::set_tags(&aws.elb, arn, &had(&cur.name), &now(&want.name)).await?;
    }
    Ok(())
}

/// Removes every part, in dependency order: the service, then what served
/// it and what it ran with. Chains that need nothing of each other run side
/// by side, as Terraform would run raw resources: the alarm and its notifier
/// beside the service's teardown, and once the service is gone, the load
/// balancer (whose interfaces linger for minutes) beside the roles, log
/// group and cluster. Every chain runs to its end or its first error.
pub async fn delete_all(aws: &Aws, cur: &ServiceState) -> Result<()> {
    check_repository_deletable(aws, cur).await?;
    let cluster = cur.cluster();
    let alerts = async {
        cloudwatch::delete_alarm(&aws.cloudwatch, &cur.alarm()).await?;
        let mut c = cur.clone();
        remove_notifier(aws, &mut c).await?;
        if let Some(topic) = &cur.alarm_topic_arn {
            sns::delete_topic(&aws.sns, topic).await?;
        }
        Ok::<(), Error>(())
    };
    let service = async {
        autoscaling::stop_service_scaling(&aws.autoscaling, &cluster, &cur.name).await?;
        // Scaled to 0, deleted, and waited for until INACTIVE (whether or not
        // the state still names it: one deleted outside Terraform may be
        // draining).
        ecs::delete_service(&aws.ecs, &cluster, &cur.name, crate::ctx::remaining()).await?;
        let (front, ran) = tokio::join!(delete_front(aws, cur), async {
            for arn in ecs::active_revisions(&aws.ecs, &cur.family()).await? {
                ecs::deregister_task_definition(&aws.ecs, &arn).await?;
            }
            iam::delete_role(&aws.iam, &cur.execution_role(), &owner(aws, cur)).await?;
            iam::delete_role(&aws.iam, &cur.task_role(), &owner(aws, cur)).await?;
            logs::delete_log_group(&aws.logs, &cur.log_group()).await?;
            if cur.owns_cluster() && cur.cluster_arn.is_some() {
                ecs::delete_cluster(&aws.ecs, &cluster).await?;
            }
            Ok::<(), Error>(())
        });
        all_of([front, ran])
    };
    let (alerted, served) = tokio::join!(alerts, service);
    all_of([alerted, served])?;
    delete_repository(aws, cur).await
}

/// The load balancer (until its interfaces are released), its target group,
/// the origin secret and the security groups.
async fn delete_front(aws: &Aws, cur: &ServiceState) -> Result<()> {
    if let Some(lb) = &cur.alb_arn {
        elbv2::delete_load_balancer(&aws.elb, lb, crate::ctx::remaining()).await?;
        // Its interfaces outlive it and hold its security group; the group's
        // delete below retries while they linger, should they outlast this.
        let release = crate::ctx::within(ec2::LOAD_BALANCER_INTERFACES_RELEASE);
        match ec2::wait_interfaces_released(&aws.ec2, &elbv2::interface_description(lb), release)
            .await
        {
            Err(Error::Timeout { .. }) => {
                tracing::warn!(
                    "the interfaces of load balancer {lb} are still in use after {release:?}"
                )
            }
            other => other?,
        }
    }
    if let Some(tg) = &cur.target_group_arn {
        elbv2::delete_target_group(&aws.elb, tg).await?;
    }
    // The origin secret, by name too: a create that failed after making it
    // leaves it otherwise.
    let origin = match &cur.origin_secret_arn {
        Some(arn) => Some(arn.clone()),
        None => secrets::secret_named(&aws.secrets, &cur.origin_secret_name()).await?,
    };
    if let Some(arn) = origin {
        secrets::delete_secret(&aws.secrets, &arn).await?;
    }
    if let Some(task_sg) = &cur.security_group_id {
        for a in &cur.allow_to {
            ec2::revoke_from(
                &aws.ec2,
                &a.security_group_id,
                task_sg,
                a.port,
                &cur.rule_marker(),
            )
            .await?;
        }
        ec2::delete_security_group(&aws.ec2, task_sg).await?;
    }
    if let Some(sg) = &cur.alb_security_group_id {
        ec2::delete_security_group(&aws.ec2, sg).await?;
    }
    Ok(())
}
