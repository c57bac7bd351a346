//! Write-only attributes (Terraform 1.11 and later), with fansite_service's
//! Slack webhook: `alerts.slack_webhook_url_wo` reaches the secret the
//! notifier reads and nothing else (not the state, not a saved plan, not
//! Terraform's trace log), and is written again only when
//! `alerts.slack_webhook_url_wo_version` changes. The deprecated
//! `alerts.slack_webhook_url` still works, with a warning.

use serde_json::Value;

use crate::harness::{endpoint, lambda, Config, Terraform, Workspace};
use crate::service::{live_parts, secret_at, service, state_holds};

const ADDR: &str = "fansite_service.test";
const FIRST: &str = "https://hooks.slack.com/services/T0/B0/first";
const SECOND: &str = "https://hooks.slack.com/services/T0/B0/second";

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// `svc` with `alerts` set to `lines` (each indented by 4, without a newline at the end).
fn alerts(svc: &Config, lines: &str) -> Config {
    svc.clone().with(&format!("alerts {{\n{lines}\n  }}"))
}

/// `svc` whose alarms post to the write-only webhook `url` (an HCL
/// expression: a string in quotes, or a reference) at `version`.
fn write_only(svc: &Config, url: &str, version: &str) -> Config {
    alerts(
        svc,
        &format!(
            "    slack_webhook_url_wo         = {url}\n    slack_webhook_url_wo_version = \"{version}\""
        ),
    )
}

/// An ephemeral variable for the webhook: its value is in no plan file and
/// no state, and Terraform takes it only where an attribute is write-only.
fn webhook_variable(_: &Config) -> String {
    "variable \"alerts_webhook\" {\n  type      = string\n  sensitive = true\n  ephemeral = true\n}\n"
        .to_string()
}

/// Fails when `text` (what `what` names) holds `url`, as written or with
/// JSON's escaped slashes. The text is not printed: it would show the URL.
fn assert_no_trace(what: &str, text: &str, url: &str) {
    let bare = url.trim_start_matches("https://");
    assert!(
        !text.contains(bare) && !text.contains(&bare.replace('/', "\\/")),
        "{what} holds the write-only webhook"
    );
}

/// Terraform's output, stdout and stderr together, of a run that must succeed.
fn traced(ws: &Workspace, args: &[&str]) -> String {
    let out = ws.run(args);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // On failure, only its last lines, less any with a webhook: a trace is long.
    assert!(
        out.status.success(),
        "terraform {} failed (exit {:?}); its last lines: {}",
        args.join(" "),
        out.status.code(),
        text.lines()
            .rev()
            .take(40)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .filter(|l| !l.contains("hooks.slack.com"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    text
}

/// A saved plan of `ws`, as `terraform show -json` gives it.
fn saved_plan(ws: &Workspace) -> Value {
    ws.ok(&["plan", "-out=p", "-input=false", "-no-color"]);
    serde_json::from_str(&ws.ok(&["show", "-json", "p"])).expect("plan json")
}

/// The secret's current value, as the endpoint has it (what the notifier reads).
async fn current_webhook(region: &str, arn: &str) -> String {
    secret_at(region, arn, "AWSCURRENT")
        .await
        .map(|(_, value)| value)
        .unwrap_or_else(|| panic!("secret {arn} has no current value"))
}

/// Applies a service whose alarms post to `slack_webhook_url_wo`, then
/// checks that the webhook is in the secret and nowhere in the state, a
/// saved plan or a trace log; that a new value under the same version is
/// neither planned nor written, even by an update of something else; and
/// that a new version writes it (the value then from an ephemeral variable).
async fn service_write_only_webhook_stays_out_of_plan_state_and_logs(tf: &Terraform) {
    let svc = service("eu-west-3", "svc-wo", tf);
    let r = svc.region;
    let ws = Workspace::applied(tf, "service-write-only", &svc.clone().extras_only().hcl());

    // Made with the first webhook: the secret holds it, the state only its version.
    ws.write(&write_only(&svc, &format!("\"{FIRST}\""), "1").hcl());
    let out = ws.apply();
    assert_no_trace("the apply's output", &out, FIRST);
    let state = ws.state_values(ADDR);
    let arn = s(&state["webhook_secret_arn"]);
    assert!(!arn.is_empty(), "a webhook secret: {state:#}");
    assert_eq!(current_webhook(r, &arn).await, FIRST);
    assert_eq!(state["alerts"][0]["slack_webhook_url_wo"], Value::Null);
    assert_eq!(state["alerts"][0]["slack_webhook_url_wo_version"], "1");
    assert_eq!(state["alerts"][0]["slack_webhook_url"], Value::Null);

    // The notifier reads the webhook from that secret when it runs.
    let f = lambda(r)
        .await
        .get_function()
        .function_name(format!("{}-slack", svc.name))
        .send()
        .await
        .expect("the notifier function");
    let env = f
        .configuration()
        .and_then(|c| c.environment())
        .and_then(|e| e.variables())
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        env.get("SLACK_WEBHOOK_SECRET_ARN"),
        Some(&arn),
        "the notifier reads the secret"
    );
    assert_no_trace("the notifier's settings", &format!("{env:?}"), FIRST);

    // Nowhere in the state, as shown or as stored, nor in a saved plan, which
    // is empty. The plan's `configuration` is Terraform's copy of main.tf as
    // written, where a literal is what the file says; the ephemeral
    // variable below keeps the webhook out of that too.
    assert_no_trace("terraform show -json", &ws.ok(&["show", "-json"]), FIRST);
    assert!(
        !state_holds(&ws, &["hooks.slack.com/services/T0/B0/first"]),
        "terraform.tfstate holds the webhook"
    );
    let mut plan = saved_plan(&ws);
    let actions: Vec<Value> = plan["resource_changes"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|c| c["change"]["actions"].clone())
        .collect();
    assert!(
        actions.iter().all(|a| *a == serde_json::json!(["no-op"])),
        "the plan after apply is empty: {actions:?}"
    );
    if let Some(plan) = plan.as_object_mut() {
        plan.remove("configuration");
    }
    assert_no_trace("the saved plan", &plan.to_string(), FIRST);
    ws.assert_plan_empty();

    // Terraform's trace log, which has the provider's own log lines.
    let trace = Workspace::at(tf, &ws.dir, endpoint()).env("TF_LOG", "trace");
    let out = traced(&trace, &["plan", "-input=false", "-no-color"]);
    assert!(
        out.contains("provider configured"),
        "the trace has the provider's own log lines"
    );
    assert_no_trace("the plan's trace log", &out, FIRST);

    // Another webhook, from an ephemeral variable, under the same version:
    // nothing to plan, and the secret keeps the first one.
    let from_variable = svc.clone().extra(webhook_variable);
    let rotated = Workspace::at(tf, &ws.dir, endpoint()).env("TF_VAR_alerts_webhook", SECOND);
    rotated.write(&write_only(&from_variable, "var.alerts_webhook", "1").hcl());
    rotated.assert_plan_empty();
    assert_eq!(current_webhook(r, &arn).await, FIRST);

    // An update of the alarm alone does not write it either.
    rotated.write(
        &alerts(
            &from_variable,
            "    cpu_threshold                = 70\n    slack_webhook_url_wo         = var.alerts_webhook\n    slack_webhook_url_wo_version = \"1\"",
        )
        .hcl(),
    );
    let out = rotated.apply();
    assert!(
        out.contains("1 changed"),
        "{}",
        out.replace("hooks.slack.com", "…")
    );
    assert_eq!(ws.state_values(ADDR)["alerts"][0]["cpu_threshold"], 70);
    assert_eq!(
        current_webhook(r, &arn).await,
        FIRST,
        "the same version: the secret is not written"
    );

    // A new version writes it, in the same secret; traced, the apply shows it nowhere.
    rotated.write(
        &alerts(
            &from_variable,
            "    cpu_threshold                = 70\n    slack_webhook_url_wo         = var.alerts_webhook\n    slack_webhook_url_wo_version = \"2\"",
        )
        .hcl(),
    );
    let trace = Workspace::at(tf, &ws.dir, endpoint())
        .env("TF_VAR_alerts_webhook", SECOND)
        .env("TF_LOG", "trace");
    let out = traced(
        &trace,
        &["apply", "-auto-approve", "-input=false", "-no-color"],
    );
    assert_no_trace("the apply's trace log", &out, SECOND);
    assert_no_trace("the apply's trace log", &out, FIRST);
    let state = ws.state_values(ADDR);
    assert_eq!(s(&state["webhook_secret_arn"]), arn, "the same secret");
    assert_eq!(state["alerts"][0]["slack_webhook_url_wo_version"], "2");
    assert_eq!(current_webhook(r, &arn).await, SECOND);
    rotated.assert_plan_empty();

    // Neither webhook is anywhere in the state or, with the variable, in a saved plan.
    let shown = ws.ok(&["show", "-json"]);
    assert_no_trace("terraform show -json", &shown, SECOND);
    assert_no_trace("terraform show -json", &shown, FIRST);
    assert!(
        !state_holds(
            &ws,
            &[
                "hooks.slack.com/services/T0/B0/first",
                "hooks.slack.com/services/T0/B0/second"
            ]
        ),
        "terraform.tfstate holds a webhook"
    );
    let plan = saved_plan(&rotated).to_string();
    assert_no_trace("the saved plan", &plan, SECOND);
    assert_no_trace("the saved plan", &plan, FIRST);

    rotated.destroy();
    let left = live_parts(r, &svc.name, &state, None).await;
    assert!(left.is_empty(), "destroy left parts behind: {left:?}");
    assert_eq!(
        secret_at(r, &arn, "AWSCURRENT").await,
        None,
        "the webhook's secret is deleted"
    );
}
per_terraform!(service_write_only_webhook_stays_out_of_plan_state_and_logs);

/// `terraform validate -json` of `ws`: whether the configuration is valid,
/// and its diagnostics.
fn validate(ws: &Workspace) -> (bool, Vec<Value>) {
    let out = ws.run(&["validate", "-json", "-no-color"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "validate -json: {e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (
        v["valid"] == true,
        v["diagnostics"].as_array().cloned().unwrap_or_default(),
    )
}

/// The deprecated `slack_webhook_url` validates with a warning that names
/// its replacement; the write-only form without one. Both at once, and the
/// write-only form without its version, are errors at the attribute.
async fn service_deprecated_webhook_warns_at_validate(tf: &Terraform) {
    const OLD: &str = "https://hooks.slack.com/services/T0/B0/old";
    let svc = service("eu-south-1", "svc-depr", tf);
    let ws = Workspace::new(
        tf,
        "service-deprecated",
        &alerts(&svc, &format!("    slack_webhook_url = \"{OLD}\"")).hcl(),
    );
    let (valid, diags) = validate(&ws);
    assert!(valid, "{diags:#?}");
    assert!(
        diags.iter().any(|d| d["severity"] == "warning"
            && d["summary"] == "Deprecated attribute"
            && s(&d["detail"]).contains("`slack_webhook_url` is deprecated: Use slack_webhook_url_wo with slack_webhook_url_wo_version")),
        "a deprecation warning naming the replacement: {diags:#?}"
    );
    for d in &diags {
        assert_no_trace("a warning", &s(&d["detail"]), OLD);
    }

    ws.write(&write_only(&svc, &format!("\"{FIRST}\""), "1").hcl());
    let (valid, diags) = validate(&ws);
    assert!(valid, "{diags:#?}");
    assert!(
        diags.iter().all(|d| d["summary"] != "Deprecated attribute"),
        "{diags:#?}"
    );

    let cases = [
        (
            "both",
            format!("    slack_webhook_url            = \"{OLD}\"\n    slack_webhook_url_wo         = \"{FIRST}\"\n    slack_webhook_url_wo_version = \"1\""),
            "Conflicting Slack webhooks",
            "slack_webhook_url_wo ",
        ),
        (
            "no version",
            format!("    slack_webhook_url_wo = \"{FIRST}\""),
            "Missing slack_webhook_url_wo_version",
            "alerts",
        ),
    ];
    for (what, lines, summary, code) in cases {
        ws.write(&alerts(&svc, &lines).hcl());
        let (valid, diags) = validate(&ws);
        assert!(!valid, "{what}: {diags:#?}");
        assert!(
            diags.iter().any(|d| d["severity"] == "error"
                && d["summary"] == summary
                && s(&d["snippet"]["code"]).contains(code)),
            "{what}: expected {summary:?} at a line with {code:?}: {diags:#?}"
        );
        for d in &diags {
            assert_no_trace(what, &s(&d["detail"]), FIRST);
            assert_no_trace(what, &s(&d["detail"]), OLD);
        }
    }
}
per_terraform!(service_deprecated_webhook_warns_at_validate);
