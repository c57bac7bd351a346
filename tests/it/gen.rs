//! fansite-gen's output against real Terraform: `terraform fmt -check`,
//! `init` and `validate` with the provider from the local mirror, and the
//! local-backend variant applied on the endpoint (backend, frontend, then
//! observability). Also the CLI's refusals.

use std::path::Path;
use std::process::Command;

use crate::harness::{built_bin, endpoint, repo_root, scratch_dir, Terraform, Workspace};

fn gen(args: &[&str]) -> std::process::Output {
    Command::new(built_bin("fansite-gen"))
        .args(args)
        .output()
        .expect("run fansite-gen")
}

fn render(out: &Path, backend: &str) {
    let root = repo_root();
    let o = gen(&[
        "render",
        "--root",
        root.to_str().unwrap_or("."),
        "--out",
        out.to_str().unwrap_or("."),
        "--backend",
        backend,
    ]);
    assert!(
        o.status.success(),
        "render: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

async fn gen_output_is_fmt_clean_and_validates(tf: &Terraform) {
    let cloud = scratch_dir("gen-cloud");
    render(&cloud, "cloud");
    let local = scratch_dir("gen-local");
    render(&local, "local");
    for dir in [&cloud, &local] {
        let ws = Workspace::at(tf, dir, endpoint());
        ws.ok(&["fmt", "-check", "-recursive", "-diff"]);
    }
    // The backend as it ships (cloud block): init without the backend, then validate.
    let backend = Workspace::at(tf, &cloud.join("workspaces/backend"), endpoint());
    backend.ok(&["init", "-backend=false", "-input=false"]);
    backend.ok(&["validate", "-no-color"]);
    // The frontend, observability and the bootstrap need hashicorp/tfe
    // (tfe_outputs, tfe_*), and observability's Grafana part hashicorp/aws and
    // grafana/grafana, none of which can be installed on this offline machine:
    // they are parsed and fmt-checked above; the frontend and observability
    // are validated in their local variant (which leaves Grafana out) below.
    for part in [
        "workspaces/backend",
        "workspaces/frontend",
        "workspaces/observability",
    ] {
        let ws = Workspace::at(tf, &local.join(part), endpoint());
        ws.ok(&["init", "-input=false"]);
        ws.ok(&["validate", "-no-color"]);
    }
}
per_terraform!(gen_output_is_fmt_clean_and_validates);

/// The observability workspace's Grafana part is in what ships (the cloud
/// form, parsed and fmt-checked by real Terraform), and the local form that
/// the demo applies offline leaves it out.
async fn gen_grafana_is_in_the_cloud_form_only(tf: &Terraform) {
    let cloud = scratch_dir(&format!("gen-grafana-cloud-{}", tf.version));
    render(&cloud, "cloud");
    let local = scratch_dir(&format!("gen-grafana-local-{}", tf.version));
    render(&local, "local");
    let part = "workspaces/observability";
    for dir in [&cloud, &local] {
        Workspace::at(tf, &dir.join(part), endpoint()).ok(&["fmt", "-check", "-diff"]);
    }
    let read = |dir: &Path, file: &str| {
        std::fs::read_to_string(dir.join(part).join(file)).expect("rendered file")
    };
    let main = read(&cloud, "main.tf");
    for needle in [
        "resource \"aws_grafana_workspace\" \"main\"",
        "resource \"aws_grafana_workspace_service_account_token\" \"terraform\"",
        "resource \"grafana_data_source\" \"cloudwatch\"",
        "config_json = fansite_observability.main.grafana_dashboard_json",
    ] {
        assert!(main.contains(needle), "{needle} in:\n{main}");
    }
    assert!(read(&cloud, "providers.tf").contains("provider \"grafana\""));
    for file in ["versions.tf", "providers.tf", "main.tf", "outputs.tf"] {
        let text = read(&local, file);
        assert!(!text.contains("grafana"), "local {file}:\n{text}");
    }
}
per_terraform!(gen_grafana_is_in_the_cloud_form_only);

async fn gen_local_backend_applies_backend_frontend_then_observability(tf: &Terraform) {
    let dir = scratch_dir(&format!("gen-apply-{}", tf.version));
    render(&dir, "local");
    let backend = Workspace::at(tf, &dir.join("workspaces/backend"), endpoint());
    let frontend = Workspace::at(tf, &dir.join("workspaces/frontend"), endpoint());
    let observability = Workspace::at(tf, &dir.join("workspaces/observability"), endpoint());
    backend.ok(&["init", "-input=false"]);
    frontend.ok(&["init", "-input=false"]);
    observability.ok(&["init", "-input=false"]);
    // Each Terraform version gets its own region, so that the stacks' regional
    // names do not meet; IAM names are global, so the two versions' runs of
    // this test take turns (the `generated-stack` group in .config/nextest.toml).
    let region = if tf.version.starts_with("1.15") {
        "eu-west-1"
    } else {
        "eu-west-2"
    };
    let var = format!("aws_region={region}");
    backend.ok(&[
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-var",
        &var,
    ]);
    backend.ok(&[
        "plan",
        "-detailed-exitcode",
        "-input=false",
        "-no-color",
        "-var",
        &var,
    ]);
    frontend.ok(&[
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-var",
        &var,
    ]);
    let pool = backend.ok(&["output", "-raw", "user_pool_id"]);
    let read = frontend.ok(&["output", "-raw", "cognito_user_pool_id"]);
    assert!(!pool.is_empty());
    assert_eq!(read, pool, "the frontend reads the backend's output");
    let alb = backend.ok(&["output", "-raw", "api_alb_dns_name"]);
    let edge = frontend.state_values("fansite_edge.site");
    assert_eq!(
        edge["api_origin"],
        alb.as_str(),
        "CloudFront sends /api/* to the API's load balancer"
    );
    // Observability reads both: the backend's service, load balancer, logs,
    // database and sign-in, the frontend's distribution, web ACL and WAF logs.
    observability.ok(&[
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-var",
        &var,
    ]);
    observability.ok(&[
        "plan",
        "-detailed-exitcode",
        "-input=false",
        "-no-color",
        "-var",
        &var,
    ]);
    let watched = observability.state_values("fansite_observability.main");
    for (argument, workspace, output) in [
        ("alarm_topic_arn", &backend, "alarm_topic_arn"),
        ("service_arn", &backend, "api_service_arn"),
        ("alb_arn", &backend, "api_alb_arn"),
        ("service_log_group_name", &backend, "api_log_group_name"),
        ("database_cluster_id", &backend, "database_cluster_id"),
        ("user_pool_id", &backend, "user_pool_id"),
        ("user_pool_client_id", &backend, "user_pool_client_id"),
        ("distribution_id", &frontend, "distribution_id"),
        ("web_acl_arn", &frontend, "web_acl_arn"),
        ("waf_log_group_name", &frontend, "waf_log_group_name"),
    ] {
        let value = workspace.ok(&["output", "-raw", output]);
        assert!(!value.is_empty(), "{output}");
        assert_eq!(
            watched[argument],
            value.as_str(),
            "observability's {argument} is the output {output}"
        );
    }
    assert!(!observability
        .ok(&["output", "-raw", "dashboard_url"])
        .is_empty());
    // The Grafana dashboard model that the cloud form gives grafana_dashboard:
    // its panels' data source is the `datasource` variable.
    let model: serde_json::Value = serde_json::from_str(
        watched["grafana_dashboard_json"]
            .as_str()
            .expect("grafana_dashboard_json"),
    )
    .expect("a JSON dashboard model");
    assert!(
        model["templating"]["list"]
            .as_array()
            .is_some_and(|vars| vars.iter().any(|v| v["name"] == "datasource")),
        "a `datasource` variable: {model}"
    );
    observability.ok(&[
        "destroy",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-var",
        &var,
    ]);
    frontend.ok(&[
        "destroy",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-var",
        &var,
    ]);
    backend.ok(&[
        "destroy",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-var",
        &var,
    ]);
}
per_terraform!(gen_local_backend_applies_backend_frontend_then_observability);

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir").flatten() {
        let p = e.path();
        let t = to.join(e.file_name());
        if p.is_dir() {
            copy_dir(&p, &t);
        } else {
            std::fs::copy(&p, &t).expect("copy");
        }
    }
}

#[test]
fn gen_cli_checks_diffs_and_refuses() {
    let root = scratch_dir("gen-cli");
    copy_dir(&repo_root().join("workspaces"), &root.join("workspaces"));
    copy_dir(&repo_root().join("templates"), &root.join("templates"));
    let r = root.to_str().unwrap_or(".");
    assert!(gen(&["render", "--root", r]).status.success());
    // The release workflows of the specs with [pipeline], each in a folder of
    // its own (scripts/test.sh lints the committed ones, which check compares).
    for workflow in [
        "pipelines/api/.github/workflows/api-release.yml",
        "pipelines/site/.github/workflows/site-release.yml",
    ] {
        let text = std::fs::read_to_string(root.join(workflow)).expect(workflow);
        assert!(
            text.starts_with("# Generated by fansite-gen from workspaces/"),
            "{workflow}"
        );
    }
    let o = gen(&["check", "--root", r]);
    assert!(
        o.status.success(),
        "fresh output checks clean: {}",
        String::from_utf8_lossy(&o.stdout)
    );

    // A hand edit: check fails with a unified diff naming the file; diff shows it and exits 0.
    let main = root.join("workspaces/backend/main.tf");
    let text = std::fs::read_to_string(&main).expect("main.tf");
    std::fs::write(&main, text.replace("10.20.0.0/16", "10.99.0.0/16")).expect("edit");
    let o = gen(&["check", "--root", r]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout.contains("--- a/workspaces/backend/main.tf")
            && stdout.contains("+  cidr_block   = \"10.20.0.0/16\""),
        "{stdout}"
    );
    let o = gen(&["diff", "--root", r]);
    assert!(o.status.success() && String::from_utf8_lossy(&o.stdout).contains("10.99.0.0/16"));
    assert!(gen(&["render", "--root", r]).status.success());
    assert_eq!(
        std::fs::read_to_string(&main).expect("main.tf"),
        text,
        "render puts it back"
    );

    // A file without the header is never written over, and nothing else is written either.
    let outputs = root.join("workspaces/backend/outputs.tf");
    std::fs::write(&outputs, "# mine\n").expect("write");
    std::fs::write(
        &main,
        "# Generated by fansite-gen from workspaces/backend.toml. Do not edit.\nstale\n",
    )
    .expect("write");
    let o = gen(&["render", "--root", r]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr)
        .contains("workspaces/backend/outputs.tf: exists without the fansite-gen header"));
    assert_eq!(
        std::fs::read_to_string(&outputs).expect("outputs"),
        "# mine\n"
    );
    assert!(
        std::fs::read_to_string(&main)
            .expect("main")
            .contains("stale"),
        "nothing was written"
    );

    // A bad spec: an error with file, line and key, and no file written.
    let out = scratch_dir("gen-cli-bad");
    let spec = root.join("workspaces/backend.toml");
    let good = std::fs::read_to_string(&spec).expect("spec");
    std::fs::write(
        &spec,
        good.replace(
            "auto_apply        = false",
            "auto_apply        = false\ncolour = \"blue\"",
        ),
    )
    .expect("write");
    let o = gen(&["render", "--root", r, "--out", out.to_str().unwrap_or(".")]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr.contains("workspaces/backend.toml:") && stderr.contains("colour"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_dir(&out).expect("out").count(),
        0,
        "no file written"
    );
}
