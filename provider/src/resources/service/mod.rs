//! `fansite_service`: the API on ECS Fargate behind an Application Load
//! Balancer, autoscaled, deployed by semver image tag without downtime, with a
//! CPU alarm to Slack.
//!
//! Lifecycle in order: schema, validate, read, plan, create, update, delete, import.

mod converge;
mod find;
pub mod notifier;
pub mod redeploy;
mod schema;
mod state;
#[cfg(test)]
mod tests;

use std::time::Duration;

use async_trait::async_trait;

use crate::aws::{ec2, ecr, ecs, logs, Aws};
use crate::diag::{AttrPath, Diags};
use crate::driver::{Composite, Part, Timeouts};
use crate::error::Result;
use crate::resource::Identity;
use crate::schema::{whole_in, Schema};
use crate::typed;
use crate::value::Dyn;

pub use state::ServiceState;

pub mod defaults {
    use std::time::Duration;

    /// Fastify's default port.
    pub const DEFAULT_CONTAINER_PORT: i32 = 3000;
    pub const DEFAULT_CPU: i32 = 512;
    pub const DEFAULT_MEMORY: i32 = 1024;
    /// Two tasks: one per availability zone of two, so one zone can fail.
    pub const DEFAULT_DESIRED_COUNT: i32 = 2;
    pub const DEFAULT_MIN_TASKS: i32 = 2;
    /// Five times the floor: a comeback or ticket day multiplies traffic many-fold in minutes.
    pub const DEFAULT_MAX_TASKS: i32 = 10;
    pub const DEFAULT_TARGET_CPU: i32 = 60;
    /// ECS's default quota of tasks per service.
    pub const MAX_TASKS: i64 = 5000;
    pub const DEFAULT_HEALTH_PATH: &str = "/health";
    pub const DEFAULT_TIMEZONE: &str = "Asia/Seoul";
    pub const DEFAULT_ALARM_CPU: i32 = 80;
    pub const DEFAULT_EVALUATION_PERIODS: i32 = 3;
    /// Tagged images an ECR repository keeps: a month of daily releases,
    /// far more than a rollback goes back.
    pub const DEFAULT_KEEP_IMAGES: i64 = 30;

    /// The load balancer (a few minutes per AWS documentation) and a first
    /// deployment reaching steady state (image pull, health checks: minutes).
    pub const DEFAULT_CREATE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
    /// A rolling deployment with minimum healthy 100 % starts the new tasks,
    /// waits for their health checks, then drains the old ones (30 s delay).
    pub const DEFAULT_UPDATE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
    /// The service drains, then the load balancer goes.
    pub const DEFAULT_DELETE_TIMEOUT: Duration = Duration::from_secs(20 * 60);
}
use defaults::*;

/// How far past its `timeouts` value an operation may run before it is cut
/// off: the waits inside stop at the value and report what they saw, which
/// says more than a cut-off would.
const OVERRUN: Duration = Duration::from_secs(30);

pub struct ServiceResource;

#[async_trait]
impl Composite for ServiceResource {
    type State = ServiceState;
    const NAME: &'static str = "service";
    const TIMEOUTS: Timeouts = Timeouts {
        create: DEFAULT_CREATE_TIMEOUT,
        update: DEFAULT_UPDATE_TIMEOUT,
        delete: DEFAULT_DELETE_TIMEOUT,
    };
    const GRACE: Duration = OVERRUN;
    const PARTS: &'static [Part] = &[
        // The ECS service is made again with a new revision.
        Part {
            id: "service_arn",
            outputs: &["task_definition_arn", "revision"],
        },
        Part::alone("alarm_name"),
        Part::alone("alarm_topic_arn"),
        Part::alone("log_group_name"),
        Part::alone("target_group_arn"),
        Part::alone("alb_arn"),
        Part::alone("execution_role_arn"),
        Part::alone("task_role_arn"),
    ];

    fn schema(&self) -> Schema {
        schema::schema()
    }

    fn validate(&self, config: &Dyn, diags: &mut Diags) {
        validate_config(config, diags);
    }

    fn label(&self, state: &ServiceState) -> String {
        format!("service {:?}", state.name)
    }

    fn unmade(&self, want: &ServiceState) -> ServiceState {
        let mut cur = ServiceState {
            allow_to: Vec::new(),
            url: None,
            alb_arn: None,
            alb_dns_name: None,
            alb_zone_id: None,
            cluster_arn: None,
            service_arn: None,
            task_definition_arn: None,
            revision: None,
            target_group_arn: None,
            security_group_id: None,
            alb_security_group_id: None,
            execution_role_arn: None,
            task_role_arn: None,
            log_group_name: None,
            alarm_topic_arn: None,
            alarm_name: None,
            notifier_function_arn: None,
            webhook_secret_arn: None,
            origin_secret_arn: None,
            origin_secret_version: None,
            origin_rule_arn: None,
            repository_arn: None,
            ..want.clone()
        };
        cur.clear_slack_webhook();
        cur
    }

    fn has_parts(&self, state: &ServiceState) -> bool {
        state.cluster_arn.is_some() || state.log_group_name.is_some()
    }

    async fn find(&self, aws: &Aws, hints: &ServiceState) -> Result<Option<ServiceState>> {
        find::find_service(aws, hints).await
    }

    /// What really runs, after a rollback; parts that read finds only
    /// through the state are kept.
    async fn refresh_after_failure(&self, aws: &Aws, cur: ServiceState) -> ServiceState {
        if cur.service_arn.is_none() {
            return cur;
        }
        match find::find_service(aws, &cur).await {
            Ok(Some(mut found)) => {
                found.alb_security_group_id =
                    found.alb_security_group_id.or(cur.alb_security_group_id);
                found.alarm_topic_arn = found.alarm_topic_arn.or(cur.alarm_topic_arn);
                found.webhook_secret_arn = found.webhook_secret_arn.or(cur.webhook_secret_arn);
                found.origin_secret_arn = found.origin_secret_arn.or(cur.origin_secret_arn);
                found
            }
            _ => cur,
        }
    }

    async fn plan(
        &self,
        aws: Option<&Aws>,
        prior: Option<&Dyn>,
        mut planned: Dyn,
        config: &Dyn,
        diags: &mut Diags,
    ) -> Dyn {
        if let Some(mut b) = first(&planned, "autoscaling") {
            if b.get("min").is_null() {
                b.set("min", i64::from(DEFAULT_MIN_TASKS).into());
            }
            if b.get("max").is_null() {
                let max = match b.get("min") {
                    Dyn::Number(min) => Dyn::Number(i64::from(DEFAULT_MAX_TASKS).max(*min)),
                    _ => Dyn::Unknown,
                };
                b.set("max", max);
            }
            if b.get("target_cpu").is_null() {
                b.set("target_cpu", i64::from(DEFAULT_TARGET_CPU).into());
            }
            if b.get("scheduled").is_null() {
                b.set("scheduled", Dyn::List(vec![]));
            }
            planned.set("autoscaling", Dyn::List(vec![b]));
        }
        if let Some(mut b) = first(&planned, "alerts") {
            if b.get("cpu_threshold").is_null() {
                b.set("cpu_threshold", i64::from(DEFAULT_ALARM_CPU).into());
            }
            if b.get("evaluation_periods").is_null() {
                b.set(
                    "evaluation_periods",
                    i64::from(DEFAULT_EVALUATION_PERIODS).into(),
                );
            }
            planned.set("alerts", Dyn::List(vec![b]));
        }

        check_known_at_plan(config, diags);
        if let Some(aws) = aws {
            check_plan(aws, config, diags).await;
        }
        plan_image(aws, prior, &mut planned, config, diags).await;

        // A webhook: the deprecated `slack_webhook_url`, or the write-only
        // form's version (its value is in no plan).
        let has_webhook = first(&planned, "alerts").is_some_and(|a| {
            !a.get("slack_webhook_url").is_null()
                || !a.get("slack_webhook_url_wo_version").is_null()
        });
        if let Some(prior) = prior {
            let decoded = (
                typed::decode::<ServiceState>(prior),
                typed::decode::<ServiceState>(&planned),
            );
            let (before, after) = match decoded {
                (Ok(before), Ok(after)) => (before, after),
                (Err(e), _) | (_, Err(e)) => {
                    diags.error("Planning fansite_service failed", e.to_string());
                    return planned;
                }
            };
            if before.container_differs(&after) || planned.get("image_tag").is_unknown() {
                planned.set("task_definition_arn", Dyn::Unknown);
                planned.set("revision", Dyn::Unknown);
            }
            if before.certificate_arn != after.certificate_arn {
                planned.set(
                    "url",
                    before
                        .alb_dns_name
                        .as_deref()
                        .map(|d| Dyn::from(after.url_for(d)))
                        .unwrap_or(Dyn::Unknown),
                );
            }
            // The notifier's parts: gone without a webhook, made again when
            // read found them missing (the other parts are in `PARTS`).
            for part in ["notifier_function_arn", "webhook_secret_arn"] {
                if !has_webhook {
                    planned.set(part, Dyn::Null);
                } else if prior.get(part).is_null() {
                    planned.set(part, Dyn::Unknown);
                }
            }
        } else if !has_webhook {
            planned.set("notifier_function_arn", Dyn::Null);
            planned.set("webhook_secret_arn", Dyn::Null);
        }
        plan_origin(prior, &mut planned);
        planned
    }

    async fn create(&self, aws: &Aws, cur: &mut ServiceState, want: &ServiceState) -> Result<()> {
        converge::create_all(aws, cur, want).await
    }

    async fn update(&self, aws: &Aws, cur: &mut ServiceState, want: &ServiceState) -> Result<()> {
        converge::update_all(aws, cur, want).await
    }

    async fn delete(&self, aws: &Aws, cur: &ServiceState) -> Result<()> {
        converge::delete_all(aws, cur).await
    }

    async fn import(&self, aws: &Aws, id: &str, diags: &mut Diags) -> Option<ServiceState> {
        let Some((cluster, name)) = id
            .split_once('/')
            .filter(|(c, n)| !c.is_empty() && !n.is_empty() && !n.contains('/'))
        else {
            diags.error(
                "Invalid import ID",
                format!("{id:?}: import a fansite_service by \"<cluster>/<service>\", such as \"fan-api/fan-api\"."),
            );
            return None;
        };
        let hints = ServiceState {
            name: name.to_string(),
            cluster_name: (cluster != name).then(|| cluster.to_string()),
            ..ServiceState::default()
        };
        match find::find_service(aws, &hints).await {
            Ok(Some(mut found)) => {
                if found.target_group_arn.is_none() || found.alb_arn.is_none() {
                    diags.error(
                        "Cannot import a service that fansite_service did not make",
                        format!("ECS service {id} has no load balancer and target group named {name:?}: only a service made by fansite_service can be imported, since its parts are found by those names."),
                    );
                    return None;
                }
                // The count as it is: there is no configuration to keep yet.
                if let Ok(Some(svc)) = ecs::describe_service(&aws.ecs, &found.cluster(), name).await
                {
                    found.desired_count = svc.desired;
                }
                // Parts found by name.
                match crate::aws::sns::topic_named(&aws.sns, &found.topic_name()).await {
                    Ok(arn) => found.alarm_topic_arn = arn,
                    Err(e) => e.report(diags),
                }
                match crate::aws::secrets::secret_named(&aws.secrets, &found.webhook_secret_name())
                    .await
                {
                    Ok(arn) => found.webhook_secret_arn = arn,
                    Err(e) => e.report(diags),
                }
                match logs::retention(&aws.logs, &found.log_group()).await {
                    Ok(Some(days)) => {
                        found.log_retention_days = days;
                        found.log_group_name = Some(found.log_group());
                    }
                    Ok(None) => {}
                    Err(e) => e.report(diags),
                }
                let vpc = match &found.security_group_id {
                    Some(sg) => ec2::find_security_group(&aws.ec2, sg, 0, "")
                        .await
                        .ok()
                        .flatten()
                        .map(|g| g.vpc_id),
                    None => None,
                };
                found.vpc_id = vpc.unwrap_or_default();
                // Rules this service added to other groups, found by their marker.
                if let Some(sg) = &found.security_group_id {
                    match ec2::groups_allowing(&aws.ec2, &found.vpc_id, sg, &found.rule_marker())
                        .await
                    {
                        Ok(pairs) => {
                            found.allow_to = pairs
                                .into_iter()
                                .map(|(security_group_id, port)| state::AllowTo {
                                    security_group_id,
                                    port,
                                })
                                .collect()
                        }
                        Err(e) => e.report(diags),
                    }
                }
                // An image pinned from an ECR repository of this region: the
                // repository block, made here when it has this service's owner tag.
                if found.image_digest.is_some() {
                    if let Some((_, region, repo)) = ecr::parse_uri(&found.image) {
                        if region == aws.region {
                            let ours = crate::aws::owner("fansite_service", name, &aws.region);
                            let made = match ecr::repository(&aws.ecr, None, &repo).await {
                                Ok(Some(r)) => {
                                    ecr::tags_of(&aws.ecr, &r.arn).await.is_ok_and(|t| {
                                        crate::aws::owned(
                                            t.get(crate::aws::OWNER_TAG).map(String::as_str),
                                            &ours,
                                        )
                                    })
                                }
                                _ => false,
                            };
                            found.repository = Some(state::RepositoryBlock {
                                name: repo,
                                create: made,
                                keep_images: made.then_some(DEFAULT_KEEP_IMAGES),
                                tag_immutability: made.then_some(true),
                                scan_on_push: made.then_some(true),
                                force_delete: false,
                            });
                        }
                    }
                }
                // A second read fills in the alarm now that the topic is known,
                // and the repository's settings.
                match find::find_service(aws, &found).await {
                    Ok(Some(again)) => Some(again),
                    _ => Some(found),
                }
            }
            Ok(None) => {
                diags.error(
                    "Cannot import non-existent service",
                    format!(
                        "No ECS service {name:?} was found in cluster {cluster:?} in {}.",
                        aws.region
                    ),
                );
                None
            }
            Err(e) => {
                e.report(diags);
                None
            }
        }
    }

    /// The ECS service in its cluster, as import takes it.
    const IDENTITY: Option<Identity> = Some(Identity {
        regional: true,
        attributes: &[
            ("cluster", "Name of the ECS cluster the service runs in."),
            ("service", "Name of the ECS service, its `name`."),
        ],
        of_state: identity_of,
        import_id: import_id_of,
    });

    async fn list(&self, aws: &Aws) -> Result<Option<Vec<String>>> {
        find::list_services(aws).await.map(Some)
    }
}

/// The identity's values in a state: the cluster (`cluster_name`, else the
/// service's own, named `name`) and the service's name.
fn identity_of(state: &Dyn) -> Option<Vec<String>> {
    let name = state.get("name").as_str()?;
    let cluster = match state.get("cluster_name") {
        Dyn::Null => name,
        other => other.as_str()?,
    };
    Some(vec![cluster.to_string(), name.to_string()])
}

/// The import id of an identity: `<cluster>/<service>`.
fn import_id_of(values: &[String]) -> String {
    values.join("/")
}

/// With a `repository`: its defaults, the image (the repository's URL), its
/// ARN, and the digest `image_tag` names, which must be in the repository.
async fn plan_image(
    aws: Option<&Aws>,
    prior: Option<&Dyn>,
    planned: &mut Dyn,
    config: &Dyn,
    diags: &mut Diags,
) {
    let Some(mut repo) = first(planned, "repository") else {
        planned.set("repository_arn", Dyn::Null);
        planned.set("image_digest", Dyn::Null);
        return;
    };
    // Defaults where the configuration leaves a setting out: Terraform
    // proposes the prior value there, which may be drift read back.
    let given = first(config, "repository").unwrap_or(Dyn::Null);
    if given.get("name").is_null() {
        repo.set("name", planned.get("name").clone());
    }
    let create = repo.get("create").as_bool();
    let settings: [(&str, Dyn); 3] = [
        ("keep_images", DEFAULT_KEEP_IMAGES.into()),
        ("tag_immutability", true.into()),
        ("scan_on_push", true.into()),
    ];
    for (attr, default) in settings {
        match create {
            Some(true) if given.get(attr).is_null() => repo.set(attr, default),
            Some(false) => repo.set(attr, Dyn::Null),
            _ => {}
        }
    }
    planned.set("repository", Dyn::List(vec![repo.clone()]));
    let same_repository = prior.is_some_and(|p| {
        first(p, "repository").is_some_and(|r| r.get("name") == repo.get("name"))
            && !p.get("repository_arn").is_null()
    });
    let unknown = |planned: &mut Dyn| {
        if !same_repository {
            planned.set("image", Dyn::Unknown);
            planned.set("repository_arn", Dyn::Unknown);
        }
        planned.set("image_digest", Dyn::Unknown);
    };
    let (Some(aws), Some(name), Some(create)) = (aws, repo.get("name").as_str(), create) else {
        unknown(planned);
        return;
    };
    let path = |attr: &str| AttrPath::attr("repository").then_index(0).then_attr(attr);
    let found = match ecr::repository(&aws.ecr, None, name).await {
        Ok(found) => found,
        Err(e) => {
            diags.attr_error(path("name"), "Cannot read the repository", e.to_string());
            return;
        }
    };
    let Some(found) = found else {
        let running_from = prior
            .filter(|p| !p.get("service_arn").is_null())
            .and_then(|p| first(p, "repository"))
            .and_then(|r| r.get("name").as_str().map(str::to_string))
            .filter(|old| old != name);
        if let Some(old) = running_from {
            diags.attr_error(
                path("name"),
                "Cannot move to an empty repository",
                format!("The service runs from ECR repository {old:?}; {name:?} does not exist in {}, and a repository made now would be empty, so the service could not move to it. Make {name:?} and push {} to it first, then use it with create = false; or keep the name.", aws.region, planned.get("image_tag").as_str().unwrap_or("image_tag")),
            );
            unknown(planned);
            return;
        }
        if create {
            diags.warning(
                Some(AttrPath::attr("image_tag")),
                "The service starts once its image is pushed",
                format!("ECR repository {name:?} is made by this apply, and is empty: the apply makes every part of the service but the ECS service itself. Push the image to it (`docker push <repository_url>:{}`, or a release workflow), then apply again: the service then starts, pinned to the image's digest.", planned.get("image_tag").as_str().unwrap_or("<image_tag>")),
            );
        } else {
            diags.attr_error(
                path("name"),
                "Unknown repository",
                format!("No ECR repository {name:?} in {}: with create = false the repository must exist; leave create out to have the service make it.", aws.region),
            );
        }
        unknown(planned);
        return;
    };
    if create {
        let ours = crate::aws::owner(
            "fansite_service",
            planned.get("name").as_str().unwrap_or_default(),
            &aws.region,
        );
        match ecr::tags_of(&aws.ecr, &found.arn).await {
            Ok(tags) => {
                let theirs = tags.get(crate::aws::OWNER_TAG).map(String::as_str);
                if !crate::aws::owned(theirs, &ours) {
                    let why =
                        crate::aws::not_ours(&format!("ECR repository {name:?}"), theirs, &ours);
                    diags.attr_error(
                        path("name"),
                        "Repository not made by this service",
                        format!("{why}. To use a repository made elsewhere, set create = false."),
                    );
                }
            }
            Err(e) => diags.attr_error(path("name"), "Cannot read the repository", e.to_string()),
        }
    }
    planned.set("image", found.uri.clone().into());
    planned.set("repository_arn", found.arn.clone().into());
    let Some(tag) = planned.get("image_tag").as_str().map(str::to_string) else {
        planned.set("image_digest", Dyn::Unknown);
        return;
    };
    match ecr::digest_of(&aws.ecr, None, name, &tag).await {
        Ok(ecr::Lookup::Digest(d)) => planned.set("image_digest", d.into()),
        Ok(_) => {
            diags.attr_error(
                AttrPath::attr("image_tag"),
                "Image not pushed",
                format!("{tag:?} is not in ECR repository {name:?} ({}): push it first (`docker push {}:{tag}`); a deploy runs only an image that exists.", found.uri, found.uri),
            );
            planned.set("image_digest", Dyn::Unknown);
        }
        Err(e) => {
            diags.attr_error(
                AttrPath::attr("image_tag"),
                "Cannot read the image",
                e.to_string(),
            );
            planned.set("image_digest", Dyn::Unknown);
        }
    }
}

/// The origin secret's parts: none unless only CloudFront may reach the
/// load balancer; made again when read found them gone or wrong; a new
/// version on a rotation; the rule moves with the listener that serves
/// traffic when the certificate comes or goes.
fn plan_origin(prior: Option<&Dyn>, planned: &mut Dyn) {
    const PARTS: [&str; 3] = [
        "origin_secret_arn",
        "origin_secret_version",
        "origin_rule_arn",
    ];
    let ingress = planned.get("ingress").clone();
    if ingress.is_unknown() {
        for part in PARTS {
            planned.set(part, Dyn::Unknown);
        }
        return;
    }
    if ingress.as_str() != Some("cloudfront") {
        for part in PARTS {
            planned.set(part, Dyn::Null);
        }
        return;
    }
    let Some(prior) = prior else {
        return;
    };
    let changed = |name: &str| prior.get(name) != planned.get(name);
    let rotated = changed("origin_secret_rotation");
    let moved = changed("certificate_arn");
    for part in PARTS {
        let again = match part {
            "origin_secret_version" => rotated,
            "origin_rule_arn" => moved,
            _ => false,
        };
        if again || prior.get(part).is_null() {
            planned.set(part, Dyn::Unknown);
        }
    }
}

fn first(v: &Dyn, name: &str) -> Option<Dyn> {
    v.get(name).as_list().and_then(|l| l.first()).cloned()
}

/// Checks of values that may become known only at plan (another resource's
/// output): each `secrets` value, as validate checks known ones.
fn check_known_at_plan(config: &Dyn, diags: &mut Diags) {
    if let Some(secrets) = config.get("secrets").as_map() {
        for (k, v) in secrets {
            if let Some(why) = v.as_str().and_then(rules::secret_reference) {
                diags.attr_error(
                    AttrPath::attr("secrets").then_key(k),
                    "Invalid secrets",
                    why,
                );
            }
        }
    }
}

/// An ALB listener takes only a certificate of its own region: one from
/// another region (CloudFront's, in us-east-1, say) would fail CreateListener
/// after the load balancer, groups and target group were made.
fn check_certificate_region(region: &str, config: &Dyn, diags: &mut Diags) {
    let Some(cert) = config.get("certificate_arn").as_str() else {
        return;
    };
    let in_region = cert.split(':').nth(3).unwrap_or_default();
    if rules::certificate_arn(cert).is_none() && in_region != region {
        diags.attr_error(
            AttrPath::attr("certificate_arn"),
            "Certificate in another region",
            format!("The certificate is in {in_region:?}, but the load balancer is in {region:?}: a load balancer's listener takes an ACM certificate of its own region (the one CloudFront uses is always in us-east-1). Request or import the certificate in {region} and use that ARN."),
        );
    }
}

/// Checks that need AWS but no part of this resource: subnets, the cluster,
/// the certificate's region.
async fn check_plan(aws: &Aws, config: &Dyn, diags: &mut Diags) {
    check_certificate_region(&aws.region, config, diags);
    let Some(vpc) = config.get("vpc_id").as_str() else {
        return;
    };
    let given: Vec<(&str, Vec<String>)> = ["public_subnet_ids", "private_subnet_ids"]
        .into_iter()
        .filter_map(|attr| {
            let ids: Option<Vec<String>> = config
                .get(attr)
                .as_list()?
                .iter()
                .map(|s| s.as_str().map(str::to_string))
                .collect();
            Some((attr, ids.filter(|i| !i.is_empty())?))
        })
        .collect();
    crate::resources::check_subnets(
        aws,
        vpc,
        &given,
        "The service must survive the loss of a zone: list subnets in at least two availability zones",
        diags,
    )
    .await;
    if let Some(cluster) = config.get("cluster_name").as_str() {
        match ecs::cluster_arn(&aws.ecs, cluster).await {
            Ok(Some(_)) => {}
            Ok(None) => diags.attr_error(
                AttrPath::attr("cluster_name"),
                "Unknown cluster",
                format!("No active ECS cluster {cluster:?} in {}; leave cluster_name out to have one made.", aws.region),
            ),
            Err(e) => diags.attr_error(AttrPath::attr("cluster_name"), "Unknown cluster", e.to_string()),
        }
    }
}

/// Why `tag` is not a semantic version, if it is not.
pub fn semver_problem(tag: &str) -> Option<String> {
    if tag == "latest" {
        return Some("\"latest\" moves: a deploy must name the version it runs, such as \"1.4.2\" or \"v1.4.2\".".into());
    }
    let core_and_rest = tag.strip_prefix('v').unwrap_or(tag);
    let (core_pre, build) = match core_and_rest.split_once('+') {
        Some((a, b)) => (a, Some(b)),
        None => (core_and_rest, None),
    };
    let (core, pre) = match core_pre.split_once('-') {
        Some((a, b)) => (a, Some(b)),
        None => (core_pre, None),
    };
    let ident_ok = |s: &str| {
        !s.is_empty()
            && s.split('.')
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    };
    let nums: Vec<&str> = core.split('.').collect();
    let num_ok = |n: &str| {
        !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) && (n == "0" || !n.starts_with('0'))
    };
    let ok = nums.len() == 3
        && nums.iter().all(|n| num_ok(n))
        && pre.is_none_or(ident_ok)
        && build.is_none_or(ident_ok);
    (!ok).then(|| format!("{tag:?} is not a semantic version: use MAJOR.MINOR.PATCH such as \"1.4.2\" or \"v1.4.2\" (a pre-release such as \"1.5.0-rc.1\" too)."))
}

/// The memory sizes Fargate allows for `cpu` units, in MiB.
pub fn fargate_memory(cpu: i64) -> Option<Vec<i64>> {
    let range = |lo: i64, hi: i64, step: i64| {
        (lo..=hi)
            .step_by(usize::try_from(step).unwrap_or(1024))
            .collect::<Vec<_>>()
    };
    Some(match cpu {
        256 => vec![512, 1024, 2048],
        512 => range(1024, 4096, 1024),
        1024 => range(2048, 8192, 1024),
        2048 => range(4096, 16384, 1024),
        4096 => range(8192, 30720, 1024),
        8192 => range(16384, 61440, 4096),
        16384 => range(32768, 122880, 8192),
        _ => return None,
    })
}

fn env_name_ok(k: &str) -> bool {
    k.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn validate_config(config: &Dyn, diags: &mut Diags) {
    validate_image(config, diags);
    validate_task(config, diags);
    validate_network(config, diags);
    validate_autoscaling(config, diags);
    validate_health_check_and_deployment(config, diags);
    validate_tags(config, diags);
}

/// The rules declared on single attributes (`Attribute::rule`).
pub(crate) mod rules {
    use super::{semver_problem, state};

    pub fn name(name: &str) -> Option<String> {
        let ok = !name.is_empty()
            && name.len() <= 28
            && name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !name.ends_with('-')
            && !name.contains("--");
        (!ok).then(|| format!("{name:?}: use 1 to 28 lowercase letters, digits and '-', starting with a letter, with no '--' and no '-' at the end (the load balancer's name is limited to 32)."))
    }

    pub fn cluster_name(c: &str) -> Option<String> {
        let ok = !c.is_empty()
            && c.len() <= 255
            && c.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        (!ok).then(|| format!("{c:?}: use 1 to 255 letters, digits, '-' and '_'."))
    }

    pub fn image(image: &str) -> Option<String> {
        let (_, tag) = state::split_image(image);
        if image.is_empty() || image.contains(char::is_whitespace) || image.contains('@') {
            Some(format!("{image:?} is not an image repository such as \"123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/fansite-api\"."))
        } else if !tag.is_empty() {
            Some(format!("{image:?} has the tag {tag:?} in it: give the repository in image and the version in image_tag."))
        } else {
            None
        }
    }

    pub fn image_tag(tag: &str) -> Option<String> {
        semver_problem(tag)
    }

    /// A `secrets` value: the full ARN of a Secrets Manager secret (with the
    /// 6-character suffix Secrets Manager adds to its name), optionally with
    /// `:<json key>:<version stage>:<version id>`, or of an SSM parameter.
    /// A partial secret ARN works in ECS but matches nothing in the execution
    /// role's policy, so the task could not read it.
    pub fn secret_reference(v: &str) -> Option<String> {
        let parts: Vec<&str> = v.split(':').collect();
        let arn = parts.first() == Some(&"arn")
            && parts.len() >= 6
            && !parts[1].is_empty()
            && !parts[3].is_empty()
            && !parts[4].is_empty();
        let parameter = arn
            && parts[2] == "ssm"
            && parts.len() == 6
            && parts[5]
                .strip_prefix("parameter/")
                .is_some_and(|n| !n.is_empty());
        let secret = arn
            && parts[2] == "secretsmanager"
            && parts[5] == "secret"
            && (parts.len() == 7 || parts.len() == 10)
            && has_secret_suffix(parts[6]);
        if parameter || secret {
            return None;
        }
        let partial = arn
            && parts[2] == "secretsmanager"
            && parts[5] == "secret"
            && parts.get(6).is_some_and(|n| !n.is_empty());
        Some(if partial {
            format!("{v:?} is a partial secret ARN: the execution role's policy must name the full ARN, with the 6 characters Secrets Manager adds to the name (\"…:secret:<name>-AbCdEf\"); use the ARN Secrets Manager gives (a fansite_database's `connection_secret_arn`, say), with \":<json key>::\" after it for one key.")
        } else {
            format!("{v:?} is not a Secrets Manager secret ARN or an SSM parameter ARN; use \"arn:aws:secretsmanager:<region>:<account>:secret:<name>-AbCdEf\" as Secrets Manager gives it (with \":<json key>::\" after it for one key), or \"arn:aws:ssm:<region>:<account>:parameter/<name>\".")
        })
    }

    /// Whether a secret's name ends in the "-" and 6 letters or digits that
    /// Secrets Manager adds to it in the ARN.
    fn has_secret_suffix(name: &str) -> bool {
        name.rsplit_once('-').is_some_and(|(base, suffix)| {
            !base.is_empty()
                && suffix.len() == 6
                && suffix.chars().all(|c| c.is_ascii_alphanumeric())
        })
    }

    /// An ECR repository name: 2 to 256 of lowercase letters, digits and
    /// `._-/`, each `/`-separated part starting with a letter or digit.
    pub fn repository_name(n: &str) -> Option<String> {
        let ok = (2..=256).contains(&n.len())
            && n.split('/').all(|part| {
                part.chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                    && part
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
            });
        (!ok).then(|| format!("{n:?}: use 2 to 256 lowercase letters, digits, '.', '_', '-' and '/', each part between '/' starting with a letter or digit."))
    }

    pub fn certificate_arn(c: &str) -> Option<String> {
        (!(c.starts_with("arn:") && c.contains(":acm:") && c.contains(":certificate/"))).then(|| format!("{c:?} is not an ACM certificate ARN such as \"arn:aws:acm:ap-northeast-2:123456789012:certificate/...\"."))
    }
}

/// The image: given, or an ECR repository's.
fn validate_image(config: &Dyn, diags: &mut Diags) {
    let repo = first(config, "repository");
    match (config.get("image").is_null(), &repo) {
        (true, None) => diags.attr_error(
            AttrPath::attr("image"),
            "Missing image",
            "Set image (an image repository without a tag), or add a repository {} block: the service then makes an ECR repository and runs the digest image_tag names in it.",
        ),
        (false, Some(_)) => diags.attr_error(
            AttrPath::attr("image"),
            "image with a repository block",
            "With a repository block, the image is that ECR repository: leave image out.",
        ),
        _ => {}
    }
    let Some(r) = repo else {
        return;
    };
    if r.get("create").as_bool() == Some(false) {
        for attr in ["keep_images", "tag_immutability", "scan_on_push"] {
            if !r.get(attr).is_null() {
                diags.attr_error(
                    AttrPath::attr("repository").then_index(0).then_attr(attr),
                    "Setting of a repository made elsewhere",
                    format!("With create = false the repository is only read: its {attr} is its own. Leave {attr} out, or leave create out to have the service make and manage the repository."),
                );
            }
        }
        if r.get("force_delete").as_bool() == Some(true) {
            diags.attr_error(
                AttrPath::attr("repository").then_index(0).then_attr("force_delete"),
                "Setting of a repository made elsewhere",
                "With create = false the service never deletes the repository: leave force_delete out.",
            );
        }
    }
}

/// The task: Fargate size, environment and secrets.
fn validate_task(config: &Dyn, diags: &mut Diags) {
    let a = AttrPath::attr;
    let cpu = config.get("cpu").as_i64();
    if let Some(c) = cpu {
        if fargate_memory(c).is_none() {
            diags.attr_error(
                a("cpu"),
                "Invalid cpu",
                format!(
                    "{c} is not a Fargate size; use 256, 512, 1024, 2048, 4096, 8192 or 16384."
                ),
            );
        }
    }
    if let Some(m) = config.get("memory").as_i64() {
        let c = cpu.unwrap_or(i64::from(DEFAULT_CPU));
        if let Some(allowed) = fargate_memory(c) {
            if !allowed.contains(&m) {
                let (lo, hi) = (
                    allowed.first().copied().unwrap_or(0),
                    allowed.last().copied().unwrap_or(0),
                );
                diags.attr_error(a("memory"), "Invalid memory for cpu", format!("Fargate does not run {c} CPU units with {m} MiB; with {c} use {lo} to {hi} MiB ({}).", allowed.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")));
            }
        }
    }
    let env = config
        .get("environment")
        .as_map()
        .cloned()
        .unwrap_or_default();
    for k in env.keys() {
        if !env_name_ok(k) {
            diags.attr_error(
                a("environment").then_key(k),
                "Invalid variable name",
                format!("{k:?}: use letters, digits and '_', not starting with a digit."),
            );
        } else if ["PASSWORD", "SECRET", "TOKEN", "API_KEY"]
            .iter()
            .any(|w| k.to_ascii_uppercase().contains(w))
        {
            diags.warning(Some(a("environment").then_key(k)), "Secret in plain environment", format!("{k} looks like a secret: plain environment values are visible in the task definition. Put it in Secrets Manager and list it in `secrets` instead."));
        }
    }
    if let Some(secrets) = config.get("secrets").as_map() {
        for k in secrets.keys() {
            if !env_name_ok(k) {
                diags.attr_error(
                    a("secrets").then_key(k),
                    "Invalid variable name",
                    format!("{k:?}: use letters, digits and '_', not starting with a digit."),
                );
            }
            if env.contains_key(k) {
                diags.attr_error(
                    a("secrets").then_key(k),
                    "Variable set twice",
                    format!("{k} is in both environment and secrets; keep it in secrets only."),
                );
            }
        }
    }
}

/// Where it runs: the VPC, subnets, access to other groups, the certificate, logs.
fn validate_network(config: &Dyn, diags: &mut Diags) {
    let a = AttrPath::attr;
    for attr in ["public_subnet_ids", "private_subnet_ids"] {
        if let Some(list) = config.get(attr).as_list() {
            if list.len() < 2 && !list.iter().any(Dyn::is_unknown) {
                diags.attr_error(a(attr), "Too few subnets", "List subnets in at least two availability zones, so that the service survives the loss of one.");
            }
        }
    }
    if let Some(why) = config
        .get("log_retention_days")
        .as_i64()
        .and_then(logs::retention_refused)
    {
        diags.attr_error(a("log_retention_days"), "Invalid log_retention_days", why);
    }
    let ingress = config.get("ingress");
    if !config.get("origin_secret_rotation").is_null()
        && !ingress.is_unknown()
        && ingress.as_str() != Some("cloudfront")
    {
        diags.attr_error(
            a("origin_secret_rotation"),
            "Origin secret without CloudFront ingress",
            "origin_secret_rotation rotates the secret CloudFront sends to the load balancer, which only a service with ingress = \"cloudfront\" has: set ingress = \"cloudfront\", or leave origin_secret_rotation out.",
        );
    }
}

/// The `autoscaling` block and its schedules.
fn validate_autoscaling(config: &Dyn, diags: &mut Diags) {
    let a = AttrPath::attr;
    if let Some(b) = first(config, "autoscaling") {
        let p = |n: &str| a("autoscaling").then_index(0).then_attr(n);
        let min = whole_in(b.get("min"), 1, MAX_TASKS);
        let max = whole_in(b.get("max"), 1, MAX_TASKS);
        let min_v = min.unwrap_or(i64::from(DEFAULT_MIN_TASKS));
        if let Some(max) = max.filter(|m| *m < min_v) {
            diags.attr_error(
                p("max"),
                "Invalid autoscaling.max",
                format!(
                    "max ({max}) is below min ({min_v}); use a number from {min_v} to {MAX_TASKS}."
                ),
            );
        }
        let mut names = std::collections::BTreeSet::new();
        for (i, s) in b
            .get("scheduled")
            .as_list()
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let sp = |n: &str| {
                a("autoscaling")
                    .then_index(0)
                    .then_attr("scheduled")
                    .then_index(i)
                    .then_attr(n)
            };
            if let Some(n) = s.get("name").as_str() {
                let ok = !n.is_empty()
                    && n.len() <= 200
                    && n.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
                if !ok {
                    diags.attr_error(
                        sp("name"),
                        "Invalid scheduled name",
                        format!("{n:?}: use letters, digits, '-' and '_'."),
                    );
                } else if !names.insert(n.to_string()) {
                    diags.attr_error(
                        sp("name"),
                        "Duplicate scheduled name",
                        format!("{n:?} is used twice; each scheduled action needs its own name."),
                    );
                }
            }
            if let Some(sch) = s.get("schedule").as_str() {
                let ok = ["at(", "cron(", "rate("].iter().any(|p| sch.starts_with(p))
                    && sch.ends_with(')');
                if !ok {
                    diags.attr_error(sp("schedule"), "Invalid schedule", format!("{sch:?}: use at(2026-12-01T19:30:00), cron(30 19 ? * FRI *) or rate(1 day)."));
                }
            }
            let smin = whole_in(s.get("min"), 0, MAX_TASKS);
            let smax = whole_in(s.get("max"), 0, MAX_TASKS);
            if let (Some(lo), Some(hi)) = (smin, smax) {
                if hi < lo {
                    diags.attr_error(
                        sp("max"),
                        "Invalid scheduled max",
                        format!("max ({hi}) is below min ({lo})."),
                    );
                }
            }
        }
    }
}

/// The `health_check`, `deployment` and `alerts` blocks.
fn validate_health_check_and_deployment(config: &Dyn, diags: &mut Diags) {
    let a = AttrPath::attr;
    if let Some(b) = first(config, "health_check") {
        let p = |n: &str| a("health_check").then_index(0).then_attr(n);
        if let Some(path) = b.get("path").as_str().filter(|s| !s.starts_with('/')) {
            diags.attr_error(
                p("path"),
                "Invalid health_check.path",
                format!("{path:?} must start with '/', as in \"/health\"."),
            );
        }
        let interval = whole_in(b.get("interval"), 5, 300).unwrap_or(15);
        if let Some(t) = whole_in(b.get("timeout"), 2, 120) {
            if t >= interval {
                diags.attr_error(
                    p("timeout"),
                    "Invalid health_check.timeout",
                    format!("timeout ({t}) must be shorter than interval ({interval})."),
                );
            }
        }
        if let Some(m) = b.get("matcher").as_str() {
            let ok = !m.is_empty()
                && m.split(',').all(|part| {
                    let mut ends = part.splitn(2, '-');
                    ends.all(|n| n.len() == 3 && n.chars().all(|c| c.is_ascii_digit()))
                });
            if !ok {
                diags.attr_error(
                    p("matcher"),
                    "Invalid health_check.matcher",
                    format!("{m:?}: use HTTP codes such as \"200\", \"200,204\" or \"200-399\"."),
                );
            }
        }
    }
    if let Some(b) = first(config, "deployment") {
        let p = |n: &str| a("deployment").then_index(0).then_attr(n);
        let min = whole_in(b.get("minimum_healthy_percent"), 0, 100);
        let max = whole_in(b.get("maximum_percent"), 100, 400);
        if min.unwrap_or(100) == 100 && max == Some(100) {
            diags.attr_error(p("maximum_percent"), "Deployment cannot start", "With minimum_healthy_percent 100, maximum_percent must be above 100, or ECS can neither start a new task nor stop an old one.");
        }
    }
    if let Some(b) = first(config, "alerts") {
        let p = |n: &str| a("alerts").then_index(0).then_attr(n);
        for attr in ["slack_webhook_url", "slack_webhook_url_wo"] {
            if let Some(url) = b.get(attr).as_str() {
                if !url.starts_with("https://") || url.len() < 12 {
                    // Never echo the URL: it is a credential.
                    diags.attr_error(p(attr), format!("Invalid {attr}"), "A Slack incoming webhook is an https:// URL, such as https://hooks.slack.com/services/T…/B…/….");
                }
            }
        }
        let (url, wo, version) = (
            b.get("slack_webhook_url"),
            b.get("slack_webhook_url_wo"),
            b.get("slack_webhook_url_wo_version"),
        );
        if !wo.is_null() && !url.is_null() {
            diags.attr_error(p("slack_webhook_url_wo"), "Conflicting Slack webhooks", "Set slack_webhook_url_wo (write-only, with slack_webhook_url_wo_version) or the deprecated slack_webhook_url, not both: alerts post to one webhook.");
        }
        if !wo.is_null() && version.is_null() {
            diags.attr_error(p("slack_webhook_url_wo_version"), "Missing slack_webhook_url_wo_version", "slack_webhook_url_wo is write-only: Terraform never shows its value in a plan or keeps it in the state, so a new webhook cannot be seen by itself. Set slack_webhook_url_wo_version to any string (a hash of the webhook, the date it was issued) and change it with the webhook: the new webhook is written to the secret then.");
        }
        if wo.is_null() && !version.is_null() {
            diags.attr_error(p("slack_webhook_url_wo_version"), "slack_webhook_url_wo_version without slack_webhook_url_wo", "slack_webhook_url_wo_version says when slack_webhook_url_wo changed: set slack_webhook_url_wo with it, or leave both out.");
        }
    }
}

/// Tag keys the provider sets itself.
fn validate_tags(config: &Dyn, diags: &mut Diags) {
    let a = AttrPath::attr;
    if let Some(tags) = config.get("tags").as_map() {
        for key in tags.keys() {
            if key.to_ascii_lowercase().starts_with("aws:") {
                diags.attr_error(
                    a("tags").then_key(key),
                    "Reserved tag key",
                    format!("{key:?}: keys starting with \"aws:\" are reserved by AWS."),
                );
            } else if key == "Name" {
                diags.attr_error(
                    a("tags").then_key(key),
                    "Reserved tag key",
                    "\"Name\" is set on each part from `name`.",
                );
            }
        }
    }
}
