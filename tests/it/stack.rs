//! The whole stack through the realistic layer: network, database, service
//! with alerts, edge with the service as its API origin, and auth. It applies,
//! updates (a new image tag and a new Slack webhook) and destroys, and asks the
//! endpoint that nothing is left.

use serde_json::Value;

use crate::harness::{ecs, layer, run_name, secrets, Terraform, Workspace};

const REGION: &str = "us-east-1";
const FIRST_WEBHOOK: &str = "https://hooks.slack.com/services/T0FANSITE/B0STACK/firstsecret";
const NEXT_WEBHOOK: &str = "https://hooks.slack.com/services/T0FANSITE/B0STACK/nextsecret";

fn stack(name: &str, image_tag: &str, webhook: &str, rotation: &str) -> String {
    format!(
        r#"terraform {{
  required_providers {{
    fansite = {{ source = "fansite/fansite" }}
  }}
}}

variable "aws_endpoint" {{
  type    = string
  default = null
}}

provider "fansite" {{
  region   = "{REGION}"
  endpoint = var.aws_endpoint
}}

resource "fansite_network" "main" {{
  name       = "{name}"
  cidr_block = "10.44.0.0/16"
}}

resource "fansite_database" "main" {{
  name                = "{name}"
  vpc_id              = fansite_network.main.vpc_id
  subnet_ids          = fansite_network.main.private_subnet_ids
  deletion_protection = false
  skip_final_snapshot = true
  readers {{
    min = 1
    max = 2
  }}
}}

resource "fansite_service" "api" {{
  name               = "{name}"
  image              = "123456789012.dkr.ecr.{REGION}.amazonaws.com/fansite-api"
  image_tag          = "{image_tag}"
  vpc_id             = fansite_network.main.vpc_id
  public_subnet_ids  = fansite_network.main.public_subnet_ids
  private_subnet_ids = fansite_network.main.private_subnet_ids
  # Fans reach the API only through the edge (and its WAF).
  ingress                = "cloudfront"
  origin_secret_rotation = "{rotation}"
  secrets = {{
    DB_HOST = "${{fansite_database.main.connection_secret_arn}}:host::"
  }}
  allow_to {{
    security_group_id = fansite_database.main.security_group_id
    port              = 3306
  }}
  autoscaling {{
    min = 2
    max = 6
  }}
  alerts {{
    slack_webhook_url = "{webhook}"
  }}
}}

resource "fansite_edge" "site" {{
  name                = "{name}"
  api_origin          = fansite_service.api.alb_dns_name
  api_origin_protocol = "http-only"
  # The load balancer forwards only requests that carry the service's origin
  # secret; a rotation reaches the edge in the same apply.
  api_origin_secret_arn     = fansite_service.api.origin_secret_arn
  api_origin_secret_version = fansite_service.api.origin_secret_version
  force_destroy             = true
}}

resource "fansite_auth" "fans" {{
  name                = "{name}"
  callback_urls       = ["https://fans.example.com/auth/callback"]
  logout_urls         = ["https://fans.example.com/"]
  domain_prefix       = "{name}-login"
  deletion_protection = false
}}
"#
    )
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

async fn running_image(name: &str) -> String {
    let e = ecs(REGION).await;
    let svc = e
        .describe_services()
        .cluster(name)
        .services(name)
        .send()
        .await
        .expect("describe service")
        .services()[0]
        .clone();
    let td = e
        .describe_task_definition()
        .task_definition(svc.task_definition().unwrap_or_default())
        .send()
        .await
        .expect("task definition");
    td.task_definition()
        .and_then(|t| t.container_definitions().first())
        .and_then(|c| c.image())
        .unwrap_or_default()
        .to_string()
}

async fn secret_value(arn: &str) -> String {
    secrets(REGION)
        .await
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .expect("webhook secret")
        .secret_string()
        .unwrap_or_default()
        .to_string()
}

/// The edge sends the service's current origin secret, and the load
/// balancer forwards that and refuses a request without it (asked of the
/// endpoint's listener rules; its security group lets in CloudFront only).
/// The value is in neither state. Returns it.
async fn assert_only_the_edge_gets_through(ws: &Workspace) -> String {
    let svc = ws.state_values("fansite_service.api");
    let edge = ws.state_values("fansite_edge.site");
    let arn = s(&svc["origin_secret_arn"]);
    let (version, current) = crate::service::secret_at(REGION, &arn, "AWSCURRENT")
        .await
        .expect("origin secret");
    assert_eq!(s(&edge["api_origin_secret_version"]), version);
    let sent = crate::edge::origin_header(&s(&edge["distribution_id"])).await;
    assert_eq!(
        sent.as_deref(),
        Some(current.as_str()),
        "the edge sends the current value"
    );
    let lb = s(&svc["alb_arn"]);
    assert_eq!(
        crate::service::listener_answer(REGION, &lb, 80, Some(&current)).await,
        "forward"
    );
    assert_eq!(
        crate::service::listener_answer(REGION, &lb, 80, None).await,
        "fixed-response 403",
        "a request to the load balancer without the header is refused"
    );
    assert!(!crate::service::state_holds(ws, &[&current]));
    current
}

/// What the layer did that only AWS would do: the test is about nothing if
/// none of it happened. (The provider waits for RDS, Lambda and CloudFront to
/// be ready before it changes them, so their refusals need not happen; the
/// parts' states did, and an interface outliving its owner can only be
/// waited out by retrying the delete.)
fn assert_layer_behaved_like_aws(effects: &[String]) {
    for expected in [
        "CreateNatGateway",
        "DeleteDBInstance sent after its window: done",
        "DeleteService",
        "refused: DependencyViolation",
    ] {
        assert!(
            effects.iter().any(|e| e.contains(expected)),
            "the realistic layer never did {expected:?}: {effects:#?}"
        );
    }
}

async fn stack_applies_updates_and_destroys_on_realistic_aws(tf: &Terraform) {
    let Some(layer) = layer() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "the whole-stack test needs the realistic layer (FANSITE_REALISTIC=0 under CI=true)"
        );
        return;
    };
    let name = run_name("stack", tf);
    let ws = Workspace::new(tf, "stack", &stack(&name, "1.0.0", FIRST_WEBHOOK, "1"));
    ws.apply();
    ws.assert_plan_empty();
    assert!(running_image(&name).await.ends_with(":1.0.0"));
    let first = assert_only_the_edge_gets_through(&ws).await;

    // A new release, a new webhook and a new origin secret, in one apply.
    ws.write(&stack(&name, "1.1.0", NEXT_WEBHOOK, "2"));
    ws.apply();
    ws.assert_plan_empty();
    assert!(
        running_image(&name).await.ends_with(":1.1.0"),
        "the service runs {}",
        running_image(&name).await
    );
    let svc = ws.state_values("fansite_service.api");
    // The load balancer lets in CloudFront's origin-facing addresses only,
    // on 80 (the edge reaches it over HTTP: it has no certificate).
    assert_eq!(
        crate::service::load_balancer_ingress(REGION, &s(&svc["alb_security_group_id"])).await,
        vec!["80 from com.amazonaws.global.cloudfront.origin-facing".to_string()]
    );
    let secret = s(&svc["webhook_secret_arn"]);
    assert_eq!(secret_value(&secret).await, NEXT_WEBHOOK);
    let next = assert_only_the_edge_gets_through(&ws).await;
    assert_ne!(next, first, "the origin secret was rotated");
    let lb = s(&svc["alb_arn"]);
    assert_eq!(
        crate::service::listener_answer(REGION, &lb, 80, Some(&first)).await,
        "forward",
        "the value before the rotation is still accepted"
    );

    let states: Vec<(&str, Value)> = [
        "fansite_network.main",
        "fansite_database.main",
        "fansite_service.api",
        "fansite_edge.site",
    ]
    .into_iter()
    .map(|a| (a, ws.state_values(a)))
    .collect();
    ws.destroy();
    let mut left = crate::network::live_parts(REGION, &name).await;
    left.extend(crate::database::live_parts(REGION, &name, &states[1].1).await);
    left.extend(crate::service::live_parts(REGION, &name, &states[2].1, None).await);
    left.extend(crate::edge::live_parts(REGION, &name, &states[3].1).await);
    left.extend(
        crate::auth::live_pools(&crate::harness::cognito(REGION).await, &name)
            .await
            .into_iter()
            .map(|p| format!("user pool {p}")),
    );
    assert!(left.is_empty(), "destroy left parts behind: {left:#?}");
    assert_layer_behaved_like_aws(&layer.effects());
}

per_terraform!(stack_applies_updates_and_destroys_on_realistic_aws);
