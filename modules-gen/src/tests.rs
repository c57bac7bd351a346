//! The render core against the repository's own specs and templates, and
//! bad specs that must fail with a clear error and render nothing.

use std::path::{Path, PathBuf};

use super::*;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn templates() -> PathBuf {
    repo().join("templates")
}

const GOOD: &str = r#"
name              = "ws-a"
organization      = "org"
project           = "proj"
working_directory = "workspaces/a"
terraform_version = "1.11.4"
vcs_repo          = { identifier = "org/repo" }

[provider]
region = { expr = "var.region" }

[variables.region]
category    = "terraform"
description = "Region."
default     = "us-east-1"

[resources.network.main]
name       = "net"
cidr_block = "10.0.0.0/16"

[outputs.vpc_id]
value       = "fansite_network.main.vpc_id"
description = "VPC."
"#;

fn errors_of(specs: &[(&str, &str)]) -> Vec<String> {
    let loaded = match load_strs(specs) {
        Ok(l) => l,
        Err(e) => return e.0.iter().map(ToString::to_string).collect(),
    };
    match generate(&loaded, &templates(), Backend::Cloud) {
        Ok(files) => panic!("expected errors, rendered {} files", files.len()),
        Err(e) => e.0.iter().map(ToString::to_string).collect(),
    }
}

fn with(extra: &str) -> String {
    format!("{GOOD}\n{extra}")
}

#[test]
fn the_committed_output_is_what_the_specs_render() {
    let specs = load(&repo()).expect("the repository's specs load");
    assert_eq!(specs.len(), 3, "backend, frontend and observability");
    let files = generate(&specs, &templates(), Backend::Cloud).expect("they render");
    let mut stale = Vec::new();
    for (rel, text) in &files {
        let on_disk = std::fs::read_to_string(repo().join(rel)).ok();
        if let Some(d) = diff(rel, on_disk.as_deref(), text) {
            stale.push(d);
        }
    }
    assert!(stale.is_empty(), "run `make gen`:\n{}", stale.join("\n"));
    for (rel, text) in &files {
        assert!(is_generated(text), "{rel} starts with the header");
        assert!(
            !text.contains("/work/") && !text.contains(&repo().display().to_string()),
            "{rel} has no absolute path"
        );
        assert!(
            !text.contains("terraform.workspace"),
            "{rel} never branches on terraform.workspace"
        );
    }
    // The file set of the design: six per workspace and the bootstrap.
    for ws in [
        "workspaces/backend",
        "workspaces/frontend",
        "workspaces/observability",
    ] {
        for f in [
            "versions.tf",
            "providers.tf",
            "main.tf",
            "variables.tf",
            "outputs.tf",
            "README.md",
        ] {
            assert!(files.contains_key(&format!("{ws}/{f}")), "{ws}/{f}");
        }
    }
    for f in ["versions.tf", "variables.tf", "main.tf"] {
        assert!(
            files.contains_key(&format!("workspaces/bootstrap/{f}")),
            "bootstrap {f}"
        );
    }
}

#[test]
fn rendering_is_deterministic() {
    let specs = load(&repo()).expect("specs");
    let a = generate(&specs, &templates(), Backend::Cloud).expect("render");
    let b = generate(&specs, &templates(), Backend::Cloud).expect("render");
    assert_eq!(a, b);
}

#[test]
fn the_bootstrap_has_the_terraform_cloud_settings() {
    let specs = load(&repo()).expect("specs");
    let files = generate(&specs, &templates(), Backend::Cloud).expect("render");
    let main = &files["workspaces/bootstrap/main.tf"];
    for needle in [
        "resource \"tfe_project\" \"main\"",
        "resource \"tfe_workspace\" \"backend\"",
        "working_directory = \"workspaces/backend\"",
        "auto_apply        = false",
        "queue_all_runs    = false",
        "resource \"tfe_workspace_settings\" \"backend\"",
        // The backend's state is read by the frontend and observability, the frontend's by observability.
        "remote_state_consumer_ids = [tfe_workspace.frontend.id, tfe_workspace.observability.id]",
        "remote_state_consumer_ids = [tfe_workspace.observability.id]",
        "resource \"tfe_variable_set\" \"aws\"",
        "key             = \"AWS_ACCESS_KEY_ID\"",
        "category        = \"env\"",
        "resource \"tfe_run_trigger\" \"frontend_after_backend\"",
        "sourceable_id = tfe_workspace.backend.id",
        "resource \"tfe_workspace\" \"observability\"",
        "working_directory = \"workspaces/observability\"",
        "resource \"tfe_workspace_variable_set\" \"aws_observability\"",
        "resource \"tfe_run_trigger\" \"observability_after_backend\" {\n  workspace_id  = tfe_workspace.observability.id\n  sourceable_id = tfe_workspace.backend.id\n}",
        "resource \"tfe_run_trigger\" \"observability_after_frontend\" {\n  workspace_id  = tfe_workspace.observability.id\n  sourceable_id = tfe_workspace.frontend.id\n}",
    ] {
        assert!(main.contains(needle), "bootstrap has {needle:?}:\n{main}");
    }
    let vars = &files["workspaces/bootstrap/variables.tf"];
    assert!(
        vars.contains("variable \"aws_secret_access_key\""),
        "{vars}"
    );
    let frontend = &files["workspaces/frontend/main.tf"];
    assert!(
        frontend.contains("data \"tfe_outputs\" \"backend\""),
        "{frontend}"
    );
    let observability = &files["workspaces/observability/main.tf"];
    for needle in [
        "data \"tfe_outputs\" \"backend\"",
        "data \"tfe_outputs\" \"frontend\"",
        "alarm_topic_arn        = data.tfe_outputs.backend.nonsensitive_values.alarm_topic_arn",
        "web_acl_arn            = data.tfe_outputs.frontend.nonsensitive_values.web_acl_arn",
    ] {
        assert!(
            observability.contains(needle),
            "{needle} in:\n{observability}"
        );
    }
    let versions = &files["workspaces/backend/versions.tf"];
    assert!(
        versions.contains("cloud {") && versions.contains("name    = \"fansite-backend\""),
        "{versions}"
    );
}

#[test]
fn the_local_backend_swaps_the_cloud_block_and_reads_state_files() {
    let specs = load(&repo()).expect("specs");
    let files = generate(&specs, &templates(), Backend::Local).expect("render");
    let versions = &files["workspaces/backend/versions.tf"];
    assert!(
        versions.contains("backend \"local\"") && !versions.contains("cloud {"),
        "{versions}"
    );
    let main = &files["workspaces/frontend/main.tf"];
    assert!(
        main.contains("data \"terraform_remote_state\" \"backend\""),
        "{main}"
    );
    assert!(
        main.contains("\"../../workspaces/backend/terraform.tfstate\""),
        "{main}"
    );
    assert!(
        !files.keys().any(|k| k.contains("bootstrap")),
        "no bootstrap for a local backend"
    );
    let observability = &files["workspaces/observability/main.tf"];
    for needle in [
        "data \"terraform_remote_state\" \"backend\"",
        "data \"terraform_remote_state\" \"frontend\"",
        "\"../../workspaces/frontend/terraform.tfstate\"",
        "service_arn            = data.terraform_remote_state.backend.outputs.api_service_arn",
    ] {
        assert!(
            observability.contains(needle),
            "{needle} in:\n{observability}"
        );
    }
}

#[test]
fn bad_specs_fail_with_file_line_and_key() {
    let other = GOOD
        .replace("ws-a", "ws-b")
        .replace("workspaces/a", "workspaces/b");
    type Case<'a> = (&'a str, Vec<(&'a str, String)>, &'a str);
    let cases: Vec<Case> = vec![
        ("unknown key", vec![("a", with("colour = \"blue\""))], "workspaces/a.toml:"),
        ("unknown key", vec![("a", with("colour = \"blue\""))], "unknown field `colour`"),
        ("missing field", vec![("a", GOOD.replace("project           = \"proj\"\n", ""))], "missing field `project`"),
        ("missing workspace", vec![("a", GOOD.replace("vcs_repo", "reads = [\"nowhere\"]\nvcs_repo"))], "workspaces/a.toml:"),
        ("missing workspace", vec![("a", GOOD.replace("vcs_repo", "reads = [\"nowhere\"]\nvcs_repo"))], "no workspace \"nowhere\""),
        (
            "cycle",
            vec![
                ("a", GOOD.replace("vcs_repo", "reads = [\"b\"]\nvcs_repo")),
                ("b", other.replace("vcs_repo", "reads = [\"a\"]\nvcs_repo")),
            ],
            "in a cycle: a -> b -> a",
        ),
        ("undeclared variable", vec![("a", GOOD.replace("var.region", "var.zone"))], "provider.region: var.zone is not declared"),
        ("argument not in the schema", vec![("a", GOOD.replace("cidr_block = ", "cidr = "))], "resources.network.main.cidr: fansite_network has no argument \"cidr\""),
        ("missing required argument", vec![("a", GOOD.replace("cidr_block = \"10.0.0.0/16\"\n", ""))], "resources.network.main.cidr_block: fansite_network needs \"cidr_block\""),
        ("unknown resource", vec![("a", with("[resources.cache.main]\nname = \"x\""))], "has no resource fansite_cache"),
        ("output as argument", vec![("a", with("[resources.auth.fans]\nname = \"f\"\nuser_pool_id = \"x\""))], "user_pool_id is an output of fansite_auth"),
        (
            "secret not sensitive",
            vec![("a", with("[variables.slack_webhook_url]\ncategory = \"terraform\"\ndescription = \"Slack.\""))],
            "variables.slack_webhook_url.sensitive: slack_webhook_url holds a secret",
        ),
        (
            "secret argument from a plain variable",
            vec![("a", GOOD.replace("region = { expr = \"var.region\" }", "region = { expr = \"var.region\" }\nsecret_key = { expr = \"var.region\" }\naccess_key = \"AKIA\""))],
            "provider.secret_key is a secret, but var.region is not marked sensitive",
        ),
        (
            "secret argument as a literal",
            vec![("a", GOOD.replace("region = { expr = \"var.region\" }", "region = { expr = \"var.region\" }\naccess_key = \"AKIA\""))],
            "provider.access_key is a secret: give it from a sensitive variable",
        ),
        (
            "output of a workspace not read",
            vec![("a", with("[outputs.x]\nfrom = \"b.vpc_id\"\ndescription = \"x\"")), ("b", other.clone())],
            "\"b\" is not in this workspace's `reads`",
        ),
    ];
    for (what, specs, expected) in cases {
        let refs: Vec<(&str, &str)> = specs.iter().map(|(id, s)| (*id, s.as_str())).collect();
        let errors = errors_of(&refs);
        assert!(
            errors.iter().any(|e| e.contains(expected)),
            "{what}: expected an error with {expected:?}, got {errors:#?}"
        );
    }
}

#[test]
fn errors_point_at_the_line_of_the_key() {
    let spec = GOOD.replace("cidr_block = ", "cidr = ");
    let errors = errors_of(&[("a", &spec)]);
    let line = spec
        .lines()
        .position(|l| l.starts_with("[resources.network.main]"))
        .map(|i| i + 1)
        .unwrap_or(0);
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with(&format!("workspaces/a.toml:{line}: "))),
        "{errors:#?}"
    );
}

#[test]
fn a_thousand_workspaces_render() {
    let specs: Vec<(String, String)> = (0..1000)
        .map(|i| {
            (
                format!("ws{i}"),
                GOOD.replace("ws-a", &format!("ws-{i}"))
                    .replace("workspaces/a", &format!("workspaces/ws{i}")),
            )
        })
        .collect();
    let refs: Vec<(&str, &str)> = specs
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let loaded = load_strs(&refs).expect("load");
    let files = generate(&loaded, &templates(), Backend::Cloud).expect("render");
    assert_eq!(files.len(), 1000 * 6 + 3);
}

#[test]
fn workspaces_install_the_provider_from_their_organization_s_private_registry() {
    let specs = load(&repo()).expect("specs");
    let files = generate(&specs, &templates(), Backend::Cloud).expect("render");
    let constraint = render::provider_version_constraint();
    assert!(constraint.starts_with("~> 0."), "{constraint}");
    for ws in [
        "workspaces/backend",
        "workspaces/frontend",
        "workspaces/observability",
    ] {
        let versions = &files[&format!("{ws}/versions.tf")];
        assert!(
            versions.contains("source  = \"app.terraform.io/fansite/fansite\""),
            "{ws}: {versions}"
        );
        assert!(
            versions.contains(&format!("version = \"{constraint}\"")),
            "{ws}: {versions}"
        );
    }
    // The local form names the same address: the demo's mirror serves it.
    let local = generate(&specs, &templates(), Backend::Local).expect("render");
    assert!(local["workspaces/backend/versions.tf"]
        .contains("source  = \"app.terraform.io/fansite/fansite\""));
    assert_eq!(
        provider_sources(&specs).expect("sources"),
        ["app.terraform.io/fansite/fansite"]
    );
    // The bootstrap registers the key and the provider in that registry.
    let main = &files["workspaces/bootstrap/main.tf"];
    for needle in [
        "resource \"tfe_registry_gpg_key\" \"fansite\" {\n  organization = \"fansite\"\n  ascii_armor  = var.release_gpg_public_key\n}",
        "resource \"tfe_registry_provider\" \"fansite\" {\n  organization  = \"fansite\"\n  registry_name = \"private\"\n  name          = \"fansite\"\n}",
        "output \"fansite_registry_gpg_key_id\"",
    ] {
        assert!(main.contains(needle), "{needle} in:\n{main}");
    }
    assert!(
        files["workspaces/bootstrap/variables.tf"].contains("variable \"release_gpg_public_key\"")
    );
}

#[test]
fn a_provider_source_is_named_in_the_spec() {
    let src = GOOD.replace(
        "vcs_repo          = { identifier = \"org/repo\" }",
        "vcs_repo          = { identifier = \"org/repo\" }\nprovider_source   = \"tfe.example.com/org/fansite\"",
    );
    let loaded = load_strs(&[("a", &src)]).expect("loads");
    let files = generate(&loaded, &templates(), Backend::Cloud).expect("renders");
    assert!(files["workspaces/a/versions.tf"].contains("source  = \"tfe.example.com/org/fansite\""));
    // Not Terraform Cloud's registry: the bootstrap registers nothing.
    assert!(!files["workspaces/bootstrap/main.tf"].contains("tfe_registry_provider"));
    assert!(!files["workspaces/bootstrap/variables.tf"].contains("release_gpg_public_key"));
    let public = GOOD.replace(
        "vcs_repo          = { identifier = \"org/repo\" }",
        "vcs_repo          = { identifier = \"org/repo\" }\nprovider_source   = \"fansite/fansite\"",
    );
    let loaded = load_strs(&[("a", &public)]).expect("loads");
    assert_eq!(
        provider_sources(&loaded).expect("sources"),
        ["registry.terraform.io/fansite/fansite"]
    );
}

#[test]
fn a_bad_provider_source_is_an_error_at_its_key() {
    for (source, says) in [
        ("fansite", "use [<host>/]<namespace>/fansite"),
        ("a/b/c/d", "use [<host>/]<namespace>/fansite"),
        ("app.terraform.io/org/other", "must end in \"/fansite\""),
        ("app.terraform.io/other-org/fansite", "a private registry serves only its own organization's workspaces: use \"app.terraform.io/org/fansite\""),
        ("bad host!/org/fansite", "is not a registry host name"),
        ("localhost:99999/org/fansite", "is not a registry host name"),
        ("app.terraform.io/org$/fansite", "must be letters, digits"),
    ] {
        let src = GOOD.replace(
            "vcs_repo          = { identifier = \"org/repo\" }",
            &format!("vcs_repo          = {{ identifier = \"org/repo\" }}\nprovider_source   = \"{source}\""),
        );
        let errors = errors_of(&[("a", &src)]);
        assert_eq!(errors.len(), 1, "{source}: {errors:?}");
        assert!(
            errors[0].starts_with("workspaces/a.toml:8: provider_source: ") && errors[0].contains(says),
            "{source}: {errors:?}"
        );
    }
}

/// A `fansite_observability` with its required arguments, for the Grafana specs.
const OBSERVED: &str = r#"
[resources.observability.main]
name                   = "obs"
alarm_topic_arn        = "arn:aws:sns:us-east-1:123456789012:obs-alarms"
service_arn            = "arn:aws:ecs:us-east-1:123456789012:service/api/api"
alb_arn                = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/api/0123456789abcdef"
service_log_group_name = "/ecs/api"
"#;

fn with_grafana(grafana: &str) -> String {
    with(&format!("{OBSERVED}\n[grafana]\n{grafana}\n"))
}

#[test]
fn grafana_is_in_the_cloud_form_and_left_out_of_the_local_form() {
    let specs = load(&repo()).expect("specs");
    let cloud = generate(&specs, &templates(), Backend::Cloud).expect("render");
    let ws = "workspaces/observability";
    let main = &cloud[&format!("{ws}/main.tf")];
    for needle in [
        "resource \"fansite_observability\" \"main\"",
        "data \"aws_iam_policy_document\" \"grafana_assume\"",
        "identifiers = [\"grafana.amazonaws.com\"]",
        "resource \"aws_iam_role_policy_attachment\" \"grafana_cloudwatch\" {\n  role       = aws_iam_role.grafana.name\n  policy_arn = \"arn:aws:iam::aws:policy/service-role/AmazonGrafanaCloudWatchAccess\"\n}",
        "resource \"aws_grafana_workspace\" \"main\"",
        "account_access_type      = \"CURRENT_ACCOUNT\"",
        "authentication_providers = [\"AWS_SSO\"]",
        "permission_type          = \"SERVICE_MANAGED\"",
        "data_sources             = [\"CLOUDWATCH\"]",
        "role_arn                 = aws_iam_role.grafana.arn",
        "resource \"aws_grafana_workspace_service_account\" \"terraform\"",
        "grafana_role = \"ADMIN\"",
        // The token is short-lived, and the comment above it says that its key is in the state.
        "so the key is kept in this workspace's state",
        "resource \"aws_grafana_workspace_service_account_token\" \"terraform\"",
        "seconds_to_live    = 3600",
        "resource \"grafana_data_source\" \"cloudwatch\"",
        "  type = \"cloudwatch\"",
        "  json_data_encoded = jsonencode({\n    authType      = \"ec2_iam_role\"\n    defaultRegion = var.aws_region\n  })",
        "resource \"grafana_dashboard\" \"main\" {\n  config_json = fansite_observability.main.grafana_dashboard_json\n}",
    ] {
        assert!(main.contains(needle), "{needle} in:\n{main}");
    }
    let providers = &cloud[&format!("{ws}/providers.tf")];
    for needle in [
        "provider \"fansite\" {",
        "provider \"aws\" {\n  region = var.aws_region\n  default_tags {",
        "provider \"grafana\" {\n  url  = \"https://${aws_grafana_workspace.main.endpoint}\"\n  auth = aws_grafana_workspace_service_account_token.terraform.key\n}",
    ] {
        assert!(providers.contains(needle), "{needle} in:\n{providers}");
    }
    let versions = &cloud[&format!("{ws}/versions.tf")];
    for needle in [
        "source  = \"hashicorp/tfe\"",
        "source  = \"hashicorp/aws\"",
        "source  = \"grafana/grafana\"",
    ] {
        assert!(versions.contains(needle), "{needle} in:\n{versions}");
    }
    assert!(cloud[&format!("{ws}/outputs.tf")].contains("output \"grafana_url\""));
    assert!(cloud[&format!("{ws}/README.md")].contains("\n- Grafana: "));
    // Only the workspace whose spec switches it on has it.
    for other in ["workspaces/backend", "workspaces/frontend"] {
        for f in ["versions.tf", "providers.tf", "main.tf", "outputs.tf"] {
            assert!(
                !cloud[&format!("{other}/{f}")].contains("grafana"),
                "{other}/{f}"
            );
        }
    }
    // The local form: the fansite part alone, which the demo applies offline.
    let local = generate(&specs, &templates(), Backend::Local).expect("render");
    for f in ["versions.tf", "providers.tf", "main.tf", "outputs.tf"] {
        let text = &local[&format!("{ws}/{f}")];
        assert!(
            !text.contains("grafana")
                && !text.contains("hashicorp/aws")
                && !text.contains("provider \"aws\""),
            "{ws}/{f} of the local form:\n{text}"
        );
    }
    assert!(local[&format!("{ws}/main.tf")].contains("resource \"fansite_observability\" \"main\""));
    assert!(!local[&format!("{ws}/README.md")].contains("\n- Grafana: "));
}

#[test]
fn the_grafana_switch_turns_the_part_on_and_off() {
    let off = with_grafana("enabled = false");
    let loaded = load_strs(&[("a", &off)]).expect("loads");
    let files = generate(&loaded, &templates(), Backend::Cloud).expect("renders");
    assert_eq!(files.len(), 6 + 3, "the same file set");
    for (rel, text) in &files {
        if rel.ends_with(".tf") {
            assert!(!text.contains("grafana"), "{rel}:\n{text}");
        }
    }

    let on = with_grafana("enabled = true");
    let loaded = load_strs(&[("a", &on)]).expect("loads");
    let files = generate(&loaded, &templates(), Backend::Cloud).expect("renders");
    assert_eq!(files.len(), 6 + 3, "the same file set");
    let main = &files["workspaces/a/main.tf"];
    for needle in [
        // The defaults: the workspace's name, the spec's only fansite_observability, an hour.
        "resource \"aws_grafana_workspace\" \"main\" {\n  name                     = \"ws-a\"",
        "name               = \"ws-a-grafana\"",
        "seconds_to_live    = 3600",
        "defaultRegion = var.region",
        "resource \"grafana_dashboard\" \"main\" {\n  config_json = fansite_observability.main.grafana_dashboard_json\n}",
    ] {
        assert!(main.contains(needle), "{needle} in:\n{main}");
    }
    assert!(
        files["workspaces/a/providers.tf"].contains("provider \"aws\" {\n  region = var.region\n}")
    );
    let outputs = &files["workspaces/a/outputs.tf"];
    let url = outputs.find("output \"grafana_url\"").expect("grafana_url");
    let vpc = outputs.find("output \"vpc_id\"").expect("vpc_id");
    assert!(url < vpc, "outputs in name order:\n{outputs}");

    // Named settings, and the local form without the part.
    let named = with_grafana(
        "enabled = true\nname = \"fans\"\nobservability = \"main\"\ntoken_seconds = 900",
    );
    let loaded = load_strs(&[("a", &named)]).expect("loads");
    let files = generate(&loaded, &templates(), Backend::Cloud).expect("renders");
    let main = &files["workspaces/a/main.tf"];
    assert!(
        main.contains("name                     = \"fans\""),
        "{main}"
    );
    assert!(main.contains("seconds_to_live    = 900"), "{main}");
    let local = generate(&loaded, &templates(), Backend::Local).expect("renders");
    for (rel, text) in &local {
        if rel.ends_with(".tf") {
            assert!(!text.contains("grafana"), "{rel}:\n{text}");
        }
    }
}

#[test]
fn bad_grafana_settings_fail_with_file_line_and_key() {
    let line_of_grafana = |src: &str| {
        src.lines()
            .position(|l| l == "[grafana]")
            .map(|i| i + 1)
            .unwrap_or(0)
    };
    let two = with(&format!(
        "{OBSERVED}\n{}\n[grafana]\nenabled = true\n",
        OBSERVED.replace("observability.main", "observability.other")
    ));
    let cases: Vec<(&str, String, String)> = vec![
        (
            "no switch",
            with_grafana("name = \"fans\""),
            "missing field `enabled`".into(),
        ),
        (
            "unknown key",
            with_grafana("enabled = true\ncolour = \"blue\""),
            "unknown field `colour`".into(),
        ),
        (
            "no fansite_observability",
            with("[grafana]\nenabled = true\n"),
            "grafana.observability: Grafana shows a fansite_observability's grafana_dashboard_json, and this spec declares none".into(),
        ),
        (
            "a fansite_observability that is not there",
            with_grafana("enabled = true\nobservability = \"site\""),
            "grafana.observability: there is no [resources.observability.site] in this spec; it has: main".into(),
        ),
        (
            "several, none named",
            two.clone(),
            "grafana.observability: this spec declares several fansite_observability (main, other): name the one Grafana shows".into(),
        ),
        (
            "no region",
            with_grafana("enabled = true").replace("region = { expr = \"var.region\" }\n", ""),
            "provider.region: the Grafana part needs region under [provider]".into(),
        ),
        (
            "a name AWS does not take",
            with_grafana("enabled = true\nname = \"fan site\""),
            "grafana.name: \"fan site\": use 1 to 55 letters, digits and '-'".into(),
        ),
        (
            "a token that lives too long",
            with_grafana("enabled = true\ntoken_seconds = 2592001"),
            "grafana.token_seconds: 2592001: a Grafana service-account token lives 1 to 2592000 seconds".into(),
        ),
        (
            "a token that does not live",
            with_grafana("enabled = false\ntoken_seconds = 0"),
            "grafana.token_seconds: 0: a Grafana service-account token lives 1 to 2592000 seconds".into(),
        ),
        (
            "the output the part adds",
            with_grafana("enabled = true\n\n[outputs.grafana_url]\nvalue = \"\\\"x\\\"\"\ndescription = \"x\""),
            "outputs.grafana_url: with [grafana] enabled the workspace outputs grafana_url itself".into(),
        ),
    ];
    for (what, src, expected) in cases {
        let errors = errors_of(&[("a", &src)]);
        assert!(
            errors.iter().any(|e| e.contains(&expected)),
            "{what}: expected an error with {expected:?}, got {errors:#?}"
        );
        // Errors of the [grafana] table point at its line.
        if expected.starts_with("grafana.") {
            let at = format!("workspaces/a.toml:{}: ", line_of_grafana(&src));
            assert!(
                errors
                    .iter()
                    .any(|e| e.starts_with(&at) && e.contains(&expected)),
                "{what}: expected {at}..., got {errors:#?}"
            );
        }
    }
}
