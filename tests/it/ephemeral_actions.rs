//! The ephemeral resource and the actions, on Terraform 1.15 only (ephemeral
//! resources need 1.10, actions 1.14):
//!
//! - `fansite_database_credentials` opens at plan and at apply, gives the
//!   master user secret's values and the cluster's endpoints, reaches a
//!   provider configuration, and leaves no trace of the password in the
//!   state or a saved plan;
//! - `fansite_edge_invalidate`, from `terraform apply -invoke` and from an
//!   `action_trigger`, makes an invalidation of the configured paths that the
//!   endpoint lists, and says so as it goes;
//! - `fansite_service_redeploy` starts a new deployment of the revision the
//!   service runs and waits for it, and fails, saying what ECS reports, when
//!   the new tasks never start.

use serde_json::Value;

use crate::harness::{
    cloudfront, ecs, ecs_at, layer, rds, secrets, start_moto, terraform, Workspace,
};

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// `terraform apply -invoke=<action>`, which must succeed; returns stdout.
fn invoke(ws: &Workspace, action: &str) -> String {
    let invoke = format!("-invoke={action}");
    ws.ok(&[
        "apply",
        invoke.as_str(),
        "-auto-approve",
        "-input=false",
        "-no-color",
    ])
}

/// `out` with its lines joined and the diagnostics' left rule taken out:
/// Terraform wraps a diagnostic's detail to the width of a terminal.
fn unwrapped(out: &str) -> String {
    out.replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// How many lines of `out` say that `address` was opened.
fn opened(out: &str, address: &str) -> usize {
    out.lines()
        .filter(|l| l.contains(&format!("{address}: Opening complete")))
        .count()
}

/// Fails when `text` (what `what` names) holds `password`. The text is not
/// printed: it would show the password.
fn assert_no_password(what: &str, text: &str, password: &str) {
    assert!(!text.contains(password), "{what} holds the password");
}

/// The ephemeral resources of the database test: the cluster's credentials
/// checked against what the endpoint holds (postconditions, which Terraform
/// evaluates at each opening), and a second provider configuration that
/// signs its calls with them (the local endpoint takes any key), through
/// which the connection secret's credentials are opened again.
fn credentials_blocks(region: &str) -> String {
    format!(
        r#"
variable "expected_username" {{
  type = string
}}

variable "expected_password" {{
  type      = string
  sensitive = true
  ephemeral = true
}}

ephemeral "fansite_database_credentials" "db" {{
  cluster_identifier = fansite_database.test.name

  lifecycle {{
    postcondition {{
      condition     = self.username == var.expected_username && self.password == var.expected_password
      error_message = "The credentials are not those of the cluster's master user secret."
    }}
    postcondition {{
      condition     = self.host == fansite_database.test.writer_endpoint && self.reader_host == fansite_database.test.reader_endpoint && self.port == fansite_database.test.port
      error_message = "The endpoints are not the cluster's."
    }}
    postcondition {{
      condition     = self.secret_arn == fansite_database.test.master_secret_arn
      error_message = "The secret is not the cluster's master user secret."
    }}
  }}
}}

provider "fansite" {{
  alias      = "as_db"
  region     = "{region}"
  endpoint   = var.aws_endpoint
  access_key = ephemeral.fansite_database_credentials.db.username
  secret_key = ephemeral.fansite_database_credentials.db.password
}}

ephemeral "fansite_database_credentials" "connection" {{
  provider   = fansite.as_db
  secret_arn = fansite_database.test.connection_secret_arn

  lifecycle {{
    postcondition {{
      condition     = self.password == var.expected_password && self.host == fansite_database.test.writer_endpoint && self.port == fansite_database.test.port
      error_message = "The connection secret does not lead to the master user's credentials."
    }}
  }}
}}
"#
    )
}

const DB: &str = "ephemeral.fansite_database_credentials.db";
const CONNECTION: &str = "ephemeral.fansite_database_credentials.connection";

#[tokio::test]
async fn database_credentials_open_at_plan_and_apply_and_stay_out_of_state() {
    let Some(tf) = terraform("1.15") else {
        return;
    };
    let db =
        crate::database::database("us-west-2", "eph-db", tf).with("deletion_protection = false");
    // The ephemeral resource reads a cluster that exists: the database first.
    let ws = Workspace::applied(tf, "ephemeral-db", &db.hcl());
    let state = ws.state_values("fansite_database.test");
    // What the master user secret holds, asked of the endpoint.
    let cluster = rds(db.region)
        .await
        .describe_db_clusters()
        .db_cluster_identifier(&db.name)
        .send()
        .await
        .expect("cluster");
    let master = cluster.db_clusters()[0]
        .master_user_secret()
        .and_then(|m| m.secret_arn())
        .expect("RDS-managed master secret")
        .to_string();
    assert_eq!(s(&state["master_secret_arn"]), master);
    let held = secrets(db.region)
        .await
        .get_secret_value()
        .secret_id(&master)
        .send()
        .await
        .expect("master secret");
    let held: Value =
        serde_json::from_str(held.secret_string().unwrap_or_default()).expect("secret json");
    let (username, password) = (s(&held["username"]), s(&held["password"]));
    assert!(
        !username.is_empty() && !password.is_empty(),
        "the master secret holds a user name and a password"
    );
    let ws = ws
        .env("TF_VAR_expected_username", &username)
        .env("TF_VAR_expected_password", &password);

    // A change of the database's tags, so that the apply has an apply walk.
    let with_credentials = format!(
        "{}{}",
        db.clone()
            .with("tags = { app = \"fansite\", step = \"credentials\" }")
            .hcl(),
        credentials_blocks(db.region)
    );
    ws.write(&with_credentials);
    let plan = ws.plan();
    for address in [DB, CONNECTION] {
        assert!(
            opened(&plan, address) >= 1,
            "{address} opened at plan: {plan}"
        );
    }
    let applied = ws.apply();
    for address in [DB, CONNECTION] {
        assert!(
            opened(&applied, address) >= 2,
            "{address} opened at plan and again at apply: {applied}"
        );
    }
    assert!(applied.contains("1 changed"), "{applied}");

    // No trace of the password: not in the state, not in a saved plan.
    let raw = std::fs::read_to_string(ws.dir.join("terraform.tfstate")).expect("state file");
    assert_no_password("terraform.tfstate", &raw, &password);
    // Only the postconditions' results name it (`check_results`): no object of
    // it is kept.
    let kept: serde_json::Value = serde_json::from_str(&raw).expect("state json");
    let kept: Vec<&str> = kept["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter_map(|r| r["type"].as_str())
        .collect();
    assert!(
        !kept.contains(&"fansite_database_credentials"),
        "the state has no ephemeral resource: {kept:?}"
    );
    assert_no_password(
        "terraform show -json",
        &ws.ok(&["show", "-json"]),
        &password,
    );
    ws.ok(&["plan", "-out=tfplan", "-input=false", "-no-color"]);
    assert_no_password(
        "the saved plan",
        &ws.ok(&["show", "-json", "tfplan"]),
        &password,
    );

    // Without the ephemeral resources, as it was made; then nothing is left.
    ws.write(&db.hcl());
    let state = ws.state_values("fansite_database.test");
    ws.destroy();
    let left = crate::database::live_parts(db.region, &db.name, &state).await;
    assert!(left.is_empty(), "destroy left parts behind: {left:?}");
}

/// The invalidations of distribution `id` whose paths are `paths`, as the
/// endpoint lists them: (id, status).
async fn invalidations_of(id: &str, paths: &[&str]) -> Vec<(String, String)> {
    let cf = cloudfront().await;
    let listed = cf
        .list_invalidations()
        .distribution_id(id)
        .send()
        .await
        .expect("invalidations");
    let mut out = Vec::new();
    for item in listed
        .invalidation_list()
        .map(|l| l.items().to_vec())
        .unwrap_or_default()
    {
        let got = cf
            .get_invalidation()
            .distribution_id(id)
            .id(item.id())
            .send()
            .await
            .expect("invalidation");
        let Some(inv) = got.invalidation() else {
            continue;
        };
        let listed_paths: Vec<&str> = inv
            .invalidation_batch()
            .and_then(|b| b.paths())
            .map(|p| p.items().iter().map(String::as_str).collect())
            .unwrap_or_default();
        if listed_paths == paths {
            out.push((inv.id().to_string(), inv.status().to_string()));
        }
    }
    out
}

const ACTION: &str = r#"
action "fansite_edge_invalidate" "x" {
  config {
    distribution_id = fansite_edge.test.distribution_id
    paths           = ["/index.html"]
  }
}
"#;

#[tokio::test]
async fn edge_invalidate_drops_the_paths_when_invoked_and_when_triggered() {
    let Some(tf) = terraform("1.15") else {
        return;
    };
    let e = crate::edge::edge("us-east-2", "edge-inv", tf);
    let ws = Workspace::applied(tf, "edge-invalidate", &format!("{}{ACTION}", e.hcl()));
    let dist = s(&ws.state_values("fansite_edge.test")["distribution_id"]);
    assert!(invalidations_of(&dist, &["/index.html"]).await.is_empty());

    // terraform apply -invoke
    let out = invoke(&ws, "action.fansite_edge_invalidate.x");
    let made = invalidations_of(&dist, &["/index.html"]).await;
    assert_eq!(made.len(), 1, "one invalidation of /index.html: {made:?}");
    let (inv, status) = &made[0];
    assert!(
        status.eq_ignore_ascii_case("completed"),
        "{inv} is {status}"
    );
    for progress in [
        format!("invalidation {inv} of {dist} created for /index.html"),
        format!("waiting for every edge location to drop the paths of invalidation {inv}"),
        format!("invalidation {inv} of {dist} completed"),
    ] {
        assert!(out.contains(&progress), "progress {progress:?} in: {out}");
    }
    if let Some(l) = layer() {
        // The wait met the invalidation in progress, as on AWS.
        let effect = format!("CreateInvalidation {inv}: InProgress");
        assert!(l.effects().contains(&effect), "{:?}", l.effects());
    }
    // The invoke changed nothing Terraform manages.
    ws.assert_plan_empty();

    // From an action_trigger: an update of the edge invalidates after it.
    let triggered = e
        .clone()
        .with("tags = { app = \"fansite\", step = \"triggered\" }")
        .with(
            "lifecycle {\n    action_trigger {\n      events  = [after_update]\n      actions = [action.fansite_edge_invalidate.x]\n    }\n  }",
        );
    ws.write(&format!("{}{ACTION}", triggered.hcl()));
    let out = ws.apply();
    let made = invalidations_of(&dist, &["/index.html"]).await;
    assert_eq!(
        made.len(),
        2,
        "a second invalidation of /index.html: {made:?}"
    );
    let (second, _) = made
        .iter()
        .find(|(id, _)| id != inv)
        .expect("the triggered invalidation");
    assert!(
        out.contains(&format!("invalidation {second} of {dist} completed")),
        "{out}"
    );

    let state = ws.state_values("fansite_edge.test");
    ws.destroy();
    let left = crate::edge::live_parts(e.region, &e.name, &state).await;
    assert!(left.is_empty(), "destroy left parts behind: {left:?}");
}

/// The service's PRIMARY deployment (id, task definition) and how many
/// deployments it has, as `ecs` answers DescribeServices.
async fn primary_deployment(ecs: &aws_sdk_ecs::Client, name: &str) -> (String, String, usize) {
    let out = ecs
        .describe_services()
        .cluster(name)
        .services(name)
        .send()
        .await
        .expect("service");
    let svc = &out.services()[0];
    let primary = svc
        .deployments()
        .iter()
        .find(|d| d.status() == Some("PRIMARY"))
        .expect("a primary deployment");
    (
        primary.id().unwrap_or_default().to_string(),
        primary.task_definition().unwrap_or_default().to_string(),
        svc.deployments().len(),
    )
}

/// The redeploy action of a fansite_service `fansite_service.test`, with `extra` lines in its config.
fn redeploy_action(extra: &str) -> String {
    format!(
        r#"
action "fansite_service_redeploy" "x" {{
  config {{
    cluster = fansite_service.test.cluster_arn
    service = fansite_service.test.name
{extra}  }}
}}
"#
    )
}

#[tokio::test]
async fn service_redeploy_starts_a_new_deployment_of_the_same_revision() {
    let Some(tf) = terraform("1.15") else {
        return;
    };
    let svc = crate::service::service("us-west-1", "svc-redeploy", tf);
    let main_tf = format!("{}{}", svc.hcl(), redeploy_action(""));
    let ws = Workspace::applied(tf, "service-redeploy", &main_tf);
    let e = ecs(svc.region).await;
    let (before, td, _) = primary_deployment(&e, &svc.name).await;
    let state = ws.state_values("fansite_service.test");
    assert_eq!(td, s(&state["task_definition_arn"]));
    let revision = td.rsplit('/').next().unwrap_or_default().to_string();

    let out = invoke(&ws, "action.fansite_service_redeploy.x");
    let (after, now, count) = primary_deployment(&e, &svc.name).await;
    assert_ne!(after, before, "a new deployment was started");
    assert_eq!(now, td, "of the same task definition");
    assert_eq!(count, 1, "the new deployment alone is left");
    for progress in [
        format!(
            "new deployment {after} of {revision} started on ECS service {:?}",
            svc.name
        ),
        format!(
            "ECS service {:?} is stable: the new deployment of {revision} completed",
            svc.name
        ),
    ] {
        assert!(out.contains(&progress), "progress {progress:?} in: {out}");
    }
    if let Some(l) = layer() {
        let effect = format!("UpdateService {0}/{0}: new deployment of {td}", svc.name);
        assert!(l.effects().contains(&effect), "{:?}", l.effects());
        // The wait saw the old and the new tasks side by side, as on AWS,
        // when the windows are long enough for a poll to fall in them.
        if l.windows().base >= std::time::Duration::from_secs(1) {
            assert!(
                out.contains(&format!("ECS service {:?}: rolling (", svc.name)),
                "{out}"
            );
        }
    }
    // The redeploy changed nothing Terraform manages.
    ws.assert_plan_empty();

    ws.destroy();
    let left = crate::service::live_parts(svc.region, &svc.name, &state, None).await;
    assert!(left.is_empty(), "destroy left parts behind: {left:?}");
}

#[tokio::test]
async fn service_redeploy_whose_tasks_never_start_fails_with_what_ecs_reports() {
    let Some(tf) = terraform("1.15") else {
        return;
    };
    // An endpoint of this test's own, where no task of any service starts and 3 have failed.
    let url = start_moto(&[
        ("MOTO_ECS_SERVICE_RUNNING", "0"),
        ("MOTO_ECS_SERVICE_FAILED_TASKS", "3"),
    ]);
    let svc = crate::service::service("us-west-1", "svc-redeploy-bad", tf)
        .with("deployment {\n    wait_for_steady_state = false\n  }");
    let main_tf = format!(
        "{}{}",
        svc.hcl(),
        redeploy_action("    timeout = \"12s\"\n")
    );
    let ws = Workspace::with_endpoint(tf, "service-redeploy-failing", &main_tf, &url);
    ws.apply();
    let e = ecs_at(svc.region, &url).await;
    let (before, _, _) = primary_deployment(&e, &svc.name).await;

    let out = ws.fails(&[
        "apply",
        "-invoke=action.fansite_service_redeploy.x",
        "-auto-approve",
        "-input=false",
        "-no-color",
    ]);
    let (after, _, _) = primary_deployment(&e, &svc.name).await;
    assert_ne!(after, before, "the new deployment was started");
    let flat = unwrapped(&out);
    assert!(flat.contains("Error when invoking action"), "{out}");
    assert!(
        flat.contains(&format!(
            "redeploying {}:1 to ECS service \"{}\": still rolling (0 of 2 tasks running, 3 failed to start)",
            svc.name, svc.name
        )),
        "the error names the revision, the service and what ECS reports: {out}"
    );
    assert!(
        out.contains(&format!(
            "ECS service {:?}: rolling (0 of 2 tasks running, 3 failed to start)",
            svc.name
        )),
        "the progress says what ECS reports: {out}"
    );

    ws.destroy();
    let gone = e
        .describe_services()
        .cluster(&svc.name)
        .services(&svc.name)
        .send()
        .await
        .map(|o| o.services().iter().all(|s| s.status() != Some("ACTIVE")))
        .unwrap_or(true);
    assert!(gone, "the service is gone");
}
