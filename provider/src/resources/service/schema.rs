use crate::resources::ids;
use crate::schema::{Attribute, Block, NestedBlock, Nesting, Schema, Ty};

use super::defaults::*;
use super::rules;

fn block(name: &'static str, nesting: Nesting, block: Block) -> NestedBlock {
    NestedBlock {
        name,
        nesting,
        block,
    }
}

pub fn schema() -> Schema {
    let scheduled = Block {
        description: "A scheduled change of the bounds, for a fan event known in advance (a comeback, a ticket opening): raise `min` before it, lower it after.".into(),
        attributes: vec![
            Attribute::required("name", Ty::String, "Name of the scheduled action, unique within the service: letters, digits, `-` and `_`."),
            Attribute::required("schedule", Ty::String, "When: `at(2026-12-01T19:30:00)` once, or `cron(30 19 ? * FRI *)` again and again, as Application Auto Scaling takes it."),
            Attribute::optional_computed("timezone", Ty::String, &format!("IANA time zone of `schedule` (default `{DEFAULT_TIMEZONE}`).")).default(DEFAULT_TIMEZONE),
            Attribute::required("min", Ty::Number, "Tasks that run at least, from then on.").range(0, MAX_TASKS),
            Attribute::required("max", Ty::Number, "Tasks that run at most, from then on.").range(0, MAX_TASKS),
        ],
        blocks: vec![],
    };
    let autoscaling = Block {
        description: format!("Application Auto Scaling of the task count. Left out: {DEFAULT_MIN_TASKS} to {DEFAULT_MAX_TASKS} tasks at {DEFAULT_TARGET_CPU} % CPU. While autoscaling runs, it owns the desired count: a later apply does not reset it unless `desired_count` itself is changed."),
        attributes: vec![
            Attribute::optional_computed("min", Ty::Number, &format!("Tasks that always run (default {DEFAULT_MIN_TASKS}: one per zone of two).")).range(1, MAX_TASKS),
            Attribute::optional_computed("max", Ty::Number, &format!("Most tasks, at least `min` (default {DEFAULT_MAX_TASKS}, or `min` when that is larger).")).range(1, MAX_TASKS),
            Attribute::optional_computed("target_cpu", Ty::Number, &format!("Average CPU of the tasks, in percent, that scaling holds (default {DEFAULT_TARGET_CPU}).")).range(10, 90),
            Attribute::optional("requests_per_target", Ty::Number, "When set, a second policy also holds the load balancer's requests per task per minute at this number: it reacts to a rush before CPU does.").range(1, 100_000),
        ],
        blocks: vec![block("scheduled", Nesting::List, scheduled)],
    };
    let health_check = Block {
        description: "How the load balancer decides that a task is healthy.".into(),
        attributes: vec![
            Attribute::optional_computed(
                "path",
                Ty::String,
                &format!(
                    "HTTP path that answers when the API is up (default `{DEFAULT_HEALTH_PATH}`)."
                ),
            )
            .default(DEFAULT_HEALTH_PATH),
            Attribute::optional_computed(
                "interval",
                Ty::Number,
                "Seconds between checks (default 15).",
            )
            .range(5, 300)
            .default(15i64),
            Attribute::optional_computed(
                "timeout",
                Ty::Number,
                "Seconds a check may take, less than `interval` (default 5).",
            )
            .range(2, 120)
            .default(5i64),
            Attribute::optional_computed(
                "healthy_threshold",
                Ty::Number,
                "Passed checks in a row before a task gets traffic (default 2).",
            )
            .range(2, 10)
            .default(2i64),
            Attribute::optional_computed(
                "unhealthy_threshold",
                Ty::Number,
                "Failed checks in a row before a task is replaced (default 3).",
            )
            .range(2, 10)
            .default(3i64),
            Attribute::optional_computed(
                "matcher",
                Ty::String,
                "HTTP codes that count as healthy, such as `200` or `200-399` (default `200-399`).",
            )
            .default("200-399"),
        ],
        blocks: vec![],
    };
    let deployment = Block {
        description: "How a new revision replaces the running tasks. The defaults never run fewer healthy tasks than desired.".into(),
        attributes: vec![
            Attribute::optional_computed("minimum_healthy_percent", Ty::Number, "Healthy tasks kept during a deployment, in percent of the desired count (default 100).").default(100i64).range(0, 100),
            Attribute::optional_computed("maximum_percent", Ty::Number, "Tasks allowed during a deployment, in percent of the desired count, above `minimum_healthy_percent` (default 200).").default(200i64).range(100, 400),
            Attribute::optional_computed("rollback", Ty::Bool, "When the deployment circuit breaker stops a failing deployment, go back to the last revision that worked (default true). Either way, apply then fails and says which revision runs.").default(true),
            Attribute::optional_computed("wait_for_steady_state", Ty::Bool, "Wait, within `timeouts`, until the new revision runs every desired task healthily (default true). When false, apply returns once ECS has the change.").default(true).not_refreshed("how the provider deploys, not a setting of the service."),
        ],
        blocks: vec![],
    };
    let alerts = Block {
        description: format!("The CPU alarm: CloudWatch → SNS topic → (with a Slack webhook, `slack_webhook_url_wo`) a Lambda function that posts to Slack. Left out: the alarm at {DEFAULT_ALARM_CPU} % over {DEFAULT_EVALUATION_PERIODS} minutes, to the topic only."),
        attributes: vec![
            Attribute::optional_computed("cpu_threshold", Ty::Number, &format!("Average CPU, in percent, above which the alarm fires (default {DEFAULT_ALARM_CPU}).")).range(1, 100),
            Attribute::optional_computed("evaluation_periods", Ty::Number, &format!("Minutes in a row above the threshold before it fires (default {DEFAULT_EVALUATION_PERIODS}).")).range(1, 60),
            Attribute::optional("slack_webhook_url", Ty::String, "Deprecated: use `slack_webhook_url_wo` with `slack_webhook_url_wo_version`, which never enter the plan or the state. Slack incoming webhook (`https://hooks.slack.com/services/...`), kept in a Secrets Manager secret that only the notifier can read, never in the function's settings; it is also in the plan and the state (marked sensitive). Conflicts with `slack_webhook_url_wo`.").sensitive().deprecated("Use slack_webhook_url_wo with slack_webhook_url_wo_version: the write-only form never enters plan or state (Terraform 1.11 and later)."),
            Attribute::optional("slack_webhook_url_wo", Ty::String, "Slack incoming webhook (`https://hooks.slack.com/services/...`), write-only (Terraform 1.11 and later): Terraform hands it to the provider when it applies and never keeps it in the plan or the state, so it may come from an ephemeral value. It is written to a Secrets Manager secret that only the notifier can read (never to the function's settings) when the notifier is made and whenever `slack_webhook_url_wo_version` changes; a new value with the same version is not written. Needs `slack_webhook_url_wo_version`; conflicts with `slack_webhook_url`.").write_only(),
            Attribute::optional("slack_webhook_url_wo_version", Ty::String, "With `slack_webhook_url_wo`: any string, such as a hash of the webhook or the date it was issued. Terraform never shows a write-only value, so this is how a new webhook is seen: change it with the webhook, and the apply writes the new webhook to the secret (its new current version); while it stays the same, the secret keeps what it holds.").not_refreshed("the provider's own trigger for writing the write-only webhook; the secret holds the webhook, not this version, and refresh never reads the webhook back."),
        ],
        blocks: vec![],
    };
    let allow_to = Block {
        description: "A security group the tasks may reach, such as a fansite_database's: the ingress rule is added to that group, and removed on destroy.".into(),
        attributes: vec![
            Attribute::required("security_group_id", Ty::String, "The group to open, such as a fansite_database's `security_group_id`.").rule(ids::security_group, "a security group ID"),
            Attribute::optional_computed("port", Ty::Number, "Its TCP port (default 3306, MySQL).").default(3306i64).range(1, 65535),
        ],
        blocks: vec![],
    };
    let repository = Block {
        description: format!("The API's ECR repository, from which `image_tag` is pinned to its digest: at plan the tag must be in the repository (an error on `image_tag` otherwise), `image_digest` is the digest it names, and the task definition runs `<repository>@<digest>`, so that a tag pushed again never changes what runs; a tag that names another digest than the running one is drift, shown in the plan as a change of `image_digest`. With `create` (the default) the service makes the repository (named `name`, or the service's name, when there is none; taken over when it has this service's `{OWNER}` tag) with tag immutability, scan on push and a lifecycle policy, and deletes it on destroy. A repository made in the same apply as the service is empty, so that apply makes every part but the ECS service, with a warning: push `image_tag` to it, and the next apply starts the service.", OWNER = crate::aws::OWNER_TAG),
        attributes: vec![
            Attribute::optional_computed("name", Ty::String, "Name of the repository (default: the service's `name`). Changing it moves the service to another repository.").rule(rules::repository_name, "2 to 256 lowercase letters, digits and `._-/`, starting with a letter or digit"),
            Attribute::optional_computed("create", Ty::Bool, "Whether the service makes and owns the repository (default true). False: an existing repository, which the service only reads, is used; the settings below are then the repository's own and are left out.").default(true),
            Attribute::optional_computed("keep_images", Ty::Number, &format!("Tagged images the lifecycle policy keeps, newest first (default {DEFAULT_KEEP_IMAGES}); untagged ones expire a day after their push.")).range(1, 10_000),
            Attribute::optional_computed("tag_immutability", Ty::Bool, "Whether a pushed tag can never be pushed again with other content (default true): a release is then one image for good."),
            Attribute::optional_computed("scan_on_push", Ty::Bool, "Whether ECR scans each pushed image for known vulnerabilities (default true)."),
            Attribute::optional_computed("force_delete", Ty::Bool, "Whether destroy, or moving to another repository, deletes the repository with the images in it (default false: it then fails while images remain, and says so).").default(false).not_refreshed("how the provider deletes, not a setting of the repository."),
        ],
        blocks: vec![],
    };
    Schema {
        version: 1,
        block: Block {
            description: "The API on ECS Fargate across availability zones behind an Application Load Balancer: cluster, task definition, service with the deployment circuit breaker, task autoscaling, roles with least privilege, logs, and a CPU alarm to Slack. A new `image_tag` rolls out a new task definition revision without downtime.".into(),
            attributes: vec![
                Attribute::required("name", Ty::String, "Name of the service, and of its load balancer, target group, roles (`<name>-exec`, `<name>-task`), security groups and log group (`/ecs/<name>`): lowercase letters, digits and `-`, starting with a letter, at most 28. Changing it replaces the service.").force_new().rule(rules::name, "1 to 28 lowercase letters, digits and `-`, starting with a letter, with no `--` and no `-` at the end"),
                Attribute::optional("cluster_name", Ty::String, "An existing ECS cluster to run in. Left out, a cluster named `name` is made (with Container Insights) and removed with the service. Changing it replaces the service.").force_new().rule(rules::cluster_name, "1 to 255 letters, digits, `-` and `_`"),
                Attribute::optional_computed("image", Ty::String, "Image repository without a tag, such as `123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/fansite-api`, run as `<image>:<image_tag>`. Leave it out with a `repository` block: the image is then that ECR repository, and the service runs the digest its tag names (`image_digest`). One of the two is needed.").rule(rules::image, "an image repository without a tag"),
                Attribute::required("image_tag", Ty::String, "Semantic version of the image to run, `1.2.3` or `v1.2.3` (a pre-release such as `1.3.0-rc.1` too). `latest` and other moving tags are refused: a deploy must name what it runs. A change registers a new revision and rolls the service in place.").rule(rules::image_tag, "a semantic version, `1.2.3` or `v1.2.3`"),
                Attribute::optional_computed("container_port", Ty::Number, &format!("Port the API listens on in its container (default {DEFAULT_CONTAINER_PORT}, Fastify's).")).default(i64::from(DEFAULT_CONTAINER_PORT)).range(1, 65535),
                Attribute::optional_computed("cpu", Ty::Number, &format!("CPU units per task: 256, 512, 1024, 2048, 4096, 8192 or 16384 (default {DEFAULT_CPU}).")).default(i64::from(DEFAULT_CPU)),
                Attribute::optional_computed("memory", Ty::Number, &format!("Memory per task in MiB, a Fargate size for `cpu` (default {DEFAULT_MEMORY}).")).default(i64::from(DEFAULT_MEMORY)),
                Attribute::optional("environment", Ty::map_of_strings(), "Plain environment variables of the container. Put passwords in `secrets`, not here."),
                Attribute::optional("secrets", Ty::map_of_strings(), "Environment variables read from Secrets Manager or SSM Parameter Store when a task starts: name → the secret's full ARN as Secrets Manager gives it (ending in `-` and 6 characters), or `<arn>:<json key>::` for one key (a fansite_database's `connection_secret_arn`, say), or a parameter's ARN (`arn:aws:ssm:<region>:<account>:parameter/<name>`). Only the execution role can read them, and only these.").rule(rules::secret_reference, "full Secrets Manager secret ARNs (with the 6-character suffix, and `:<json key>::` for one key) or SSM parameter ARNs"),
                Attribute::optional_computed("desired_count", Ty::Number, &format!("Tasks to run (default {DEFAULT_DESIRED_COUNT}). With autoscaling, only a change of this value is applied; otherwise autoscaling decides.")).default(i64::from(DEFAULT_DESIRED_COUNT)).range(0, MAX_TASKS),
                Attribute::required("vpc_id", Ty::String, "VPC of the service, such as a fansite_network's `vpc_id`. Changing it replaces the service.").force_new().not_refreshed("a service names its subnets and groups, not their VPC; import reads it from the tasks' security group, and a change replaces the service.").rule(ids::vpc, "a VPC ID"),
                Attribute::required("public_subnet_ids", Ty::Set(Box::new(Ty::String)), "Public subnets for the load balancer, in at least two availability zones.").rule(ids::subnet, "subnet IDs"),
                Attribute::required("private_subnet_ids", Ty::Set(Box::new(Ty::String)), "Private subnets for the tasks, in at least two availability zones.").rule(ids::subnet, "subnet IDs"),
                Attribute::optional("certificate_arn", Ty::String, "ACM certificate for an HTTPS listener on 443 (TLS 1.3 and 1.2), in the provider's region (checked at plan time). With it, port 80 redirects to HTTPS; without it, port 80 serves.").rule(rules::certificate_arn, "an ACM certificate ARN"),
                Attribute::optional_computed("ingress", Ty::String, "Who may reach the load balancer: `internet` (the default: 80 and 443 from anywhere, IPv4 and IPv6) or `cloudfront` (only CloudFront's origin-facing addresses, AWS's managed prefix list `com.amazonaws.global.cloudfront.origin-facing`, so that fans cannot skip a fansite_edge's WAF by calling the load balancer directly). With `cloudfront` one port is open, the one CloudFront reaches the origin on: 443 with `certificate_arn` (the edge's `api_origin_protocol = \"https-only\"` and `api_origin` the API's own domain), else 80 (`http-only`). The prefix list counts as 55 of a security group's 60 inbound rules, which is why it is on one port only. Since every CloudFront distribution shares those addresses, the listener on that port also forwards only requests that carry the origin secret in the `X-Origin-Verify` header (a fansite_edge with `api_origin_secret_arn` sends it) and answers every other request `403`. Switching an existing service to `cloudfront` refuses CloudFront's requests until the edge sends the header: apply both together (the edge follows the service in one configuration).").default("internet").one_of(&["internet", "cloudfront"]),
                Attribute::optional("origin_secret_rotation", Ty::String, "With `ingress = \"cloudfront\"`: any string, such as the date of the rotation. When it changes, the origin secret is rotated in place: the listener accepts a new random value next to the current one, then the new value becomes current (`origin_secret_version` changes), and the edge sends it on its next apply (in the same apply when its `api_origin_secret_version` is this service's `origin_secret_version`). The listener accepts the current and the previous value, so no request is refused while CloudFront moves to the new one; the value before those is refused from the next rotation on (to retire a leaked value, rotate, apply the edge, rotate again).").not_refreshed("the provider's own trigger for a rotation; AWS keeps no such setting."),
                Attribute::optional_computed("log_retention_days", Ty::Number, "Days CloudWatch Logs keeps the container's output: 1, 3, 5, 7, 14, 30, 60, 90, ... 3653 (default 30).").default(30i64),
                Attribute::optional_computed("keep_revisions", Ty::Number, "Task definition revisions kept after a deploy, the running one included (default 5); older ones are deregistered once the new one is stable.").default(5i64).range(1, 100).not_refreshed("how many old task definition revisions the provider deregisters, not a setting of the service."),
                Attribute::optional("tags", Ty::map_of_strings(), "Tags for every part, on top of the provider's `default_tags`. Keys starting with `aws:` are reserved."),
                Attribute::computed("tags_all", Ty::map_of_strings(), "All tags on the service: the provider's `default_tags` overlaid with `tags`."),
                Attribute::computed("url", Ty::String, "URL of the API: `https://` plus the load balancer's name with a certificate, `http://` without."),
                Attribute::computed("alb_arn", Ty::String, "ARN of the load balancer."),
                Attribute::computed("alb_dns_name", Ty::String, "DNS name of the load balancer, for a Route53 alias or a CloudFront origin."),
                Attribute::computed("alb_zone_id", Ty::String, "Hosted zone of the load balancer, for a Route53 alias."),
                Attribute::computed("cluster_arn", Ty::String, "ARN of the ECS cluster."),
                Attribute::computed("service_arn", Ty::String, "ARN of the ECS service."),
                Attribute::computed("repository_arn", Ty::String, "With a `repository` block: ARN of the ECR repository, for a fansite_ci_access pipeline's `ecr_repository_arns`."),
                Attribute::computed("image_digest", Ty::String, "With a `repository` block: the digest (`sha256:…`) that `image_tag` names, which the task definition runs."),
                Attribute::computed("task_definition_arn", Ty::String, "ARN of the task definition revision the service runs."),
                Attribute::computed("revision", Ty::Number, "Number of that revision."),
                Attribute::computed("target_group_arn", Ty::String, "ARN of the load balancer's target group."),
                Attribute::computed("security_group_id", Ty::String, "Security group of the tasks: open on `container_port` to the load balancer only."),
                Attribute::computed("alb_security_group_id", Ty::String, "Security group of the load balancer: 80 and 443 from anywhere, or with `ingress = \"cloudfront\"` one port from CloudFront only."),
                Attribute::computed("execution_role_arn", Ty::String, "Role ECS starts tasks with: pulls the image, writes logs, reads the `secrets` (only those)."),
                Attribute::computed("task_role_arn", Ty::String, "Role the API itself runs as (no permissions of its own; attach what the API needs to it)."),
                Attribute::computed("log_group_name", Ty::String, "CloudWatch Logs group of the container's output."),
                Attribute::computed("alarm_topic_arn", Ty::String, "SNS topic the CPU alarm notifies; subscribe more endpoints to it."),
                Attribute::computed("alarm_name", Ty::String, "Name of the CPU alarm."),
                Attribute::computed("notifier_function_arn", Ty::String, "ARN of the Slack notifier function, when `alerts.slack_webhook_url_wo` (or the deprecated `alerts.slack_webhook_url`) is set."),
                Attribute::computed("webhook_secret_arn", Ty::String, "ARN of the secret holding the Slack webhook, when it is set; the notifier reads the webhook from it each time it runs."),
                Attribute::computed("origin_secret_arn", Ty::String, "With `ingress = \"cloudfront\"`: ARN of the Secrets Manager secret `fansite/<name>/origin-verify`, 64 random lowercase letters and digits made by the provider, that CloudFront must send in the `X-Origin-Verify` header; give it to a fansite_edge's `api_origin_secret_arn`. Its value is never in the plan or the state."),
                Attribute::computed("origin_secret_version", Ty::String, "The secret's current version (`AWSCURRENT`), which changes with each rotation; give it to a fansite_edge's `api_origin_secret_version`."),
                Attribute::computed("origin_rule_arn", Ty::String, "With `ingress = \"cloudfront\"`: ARN of the listener rule that forwards requests carrying the current or previous origin secret; the listener answers every other request `403`."),
            ],
            blocks: vec![
                block("allow_to", Nesting::List, allow_to),
                block("autoscaling", Nesting::OptionalSingle, autoscaling),
                block("health_check", Nesting::OptionalSingle, health_check),
                block("deployment", Nesting::OptionalSingle, deployment),
                block("alerts", Nesting::OptionalSingle, alerts),
                block("repository", Nesting::OptionalSingle, repository),
            ],
        },
    }
}
