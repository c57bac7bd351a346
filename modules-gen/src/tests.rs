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

/// A resource that a variable switches on, as the backend's bastion is:
/// `count` is no argument of the resource but Terraform's meta-argument.
const SWITCHED: &str = r#"
[variables.bastion]
category    = "terraform"
description = "Developer access."
type        = "bool"
default     = false

[resources.bastion.dev]
count     = { expr = "var.bastion ? 1 : 0" }
name      = "dev"
vpc_id    = { expr = "fansite_network.main.vpc_id" }
subnet_id = { expr = "fansite_network.main.private_subnet_ids[0]" }

[outputs.bastion_command]
value       = "one(fansite_bastion.dev[*].port_forward_command)"
description = "Command."
"#;

#[test]
fn count_is_written_first_in_its_block_and_checked() {
    let loaded = load_strs(&[("a", &with(SWITCHED))]).expect("loads");
    let files = generate(&loaded, &templates(), Backend::Cloud).expect("renders");
    let main = &files["workspaces/a/main.tf"];
    // The meta-argument first, a blank line apart from the arguments (whose
    // `=` it is not aligned with).
    assert!(
        main.contains("resource \"fansite_bastion\" \"dev\" {\n  count = var.bastion ? 1 : 0\n\n  name      = \"dev\"\n  vpc_id    = fansite_network.main.vpc_id\n  subnet_id = fansite_network.main.private_subnet_ids[0]\n}\n"),
        "{main}"
    );
    assert!(
        main.contains("resource \"fansite_network\" \"main\" {\n  name       = \"net\""),
        "a resource without count has none:\n{main}"
    );
    assert!(files["workspaces/a/outputs.tf"]
        .contains("  value       = one(fansite_bastion.dev[*].port_forward_command)\n"));
    assert!(files["workspaces/a/variables.tf"]
        .contains("variable \"bastion\" {\n  description = \"Developer access.\"\n  type        = bool\n  default     = false\n}"));

    // A whole number is written as is.
    let fixed = with(&SWITCHED.replace("{ expr = \"var.bastion ? 1 : 0\" }", "2"));
    let loaded = load_strs(&[("a", &fixed)]).expect("loads");
    let files = generate(&loaded, &templates(), Backend::Cloud).expect("renders");
    assert!(files["workspaces/a/main.tf"].contains("{\n  count = 2\n\n  name      = \"dev\""));

    // Anything else is an error at the resource's table.
    let not_a_count = "count is Terraform's meta-argument: give a whole number";
    for (count, expected) in [
        ("\"one\"", not_a_count),
        ("-1", not_a_count),
        ("true", not_a_count),
        (
            "{ expr = \"var.switch ? 1 : 0\" }",
            "var.switch is not declared under [variables]",
        ),
    ] {
        let src = with(&SWITCHED.replace("{ expr = \"var.bastion ? 1 : 0\" }", count));
        let line = src
            .lines()
            .position(|l| l == "[resources.bastion.dev]")
            .map(|i| i + 1)
            .expect("the table");
        let prefix = format!("workspaces/a.toml:{line}: resources.bastion.dev.count: {expected}");
        let errors = errors_of(&[("a", &src)]);
        assert!(
            errors.iter().any(|e| e.starts_with(&prefix)),
            "count = {count}: expected {prefix}, got {errors:#?}"
        );
    }
}

#[test]
fn the_backend_s_bastion_is_off_unless_var_bastion() {
    let specs = load(&repo()).expect("specs");
    let files = generate(&specs, &templates(), Backend::Local).expect("render");
    let main = &files["workspaces/backend/main.tf"];
    for needle in [
        "resource \"fansite_bastion\" \"dev\" {\n  count = var.bastion ? 1 : 0\n\n",
        "  mode      = \"ssm\"\n",
        "  subnet_id = fansite_network.main.private_subnet_ids[0]\n",
        "  allow_to {\n    security_group_id = fansite_database.main.security_group_id\n    port              = 3306\n  }\n",
        "  port_forward {\n    host = fansite_database.main.writer_endpoint\n  }\n",
    ] {
        assert!(main.contains(needle), "{needle} in:\n{main}");
    }
    let variables = &files["workspaces/backend/variables.tf"];
    assert!(
        variables.contains("variable \"bastion\" {\n  description = \"Developer access to the database through Session Manager: true makes the bastion (fansite_bastion.dev).\"\n  type        = bool\n  default     = false\n}"),
        "{variables}"
    );
    let outputs = &files["workspaces/backend/outputs.tf"];
    for needle in [
        "value       = one(fansite_bastion.dev[*].port_forward_command)",
        "value       = one(fansite_bastion.dev[*].developer_policy_json)",
    ] {
        assert!(outputs.contains(needle), "{needle} in:\n{outputs}");
    }
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

/// A service whose autoscaling a `[loadtest]` drives, for the load-test cases.
const SERVED: &str = r#"
[resources.service.api]
name               = "api"
image              = "123456789012.dkr.ecr.us-east-1.amazonaws.com/api"
image_tag          = "1.0.0"
vpc_id             = { expr = "fansite_network.main.vpc_id" }
public_subnet_ids  = { expr = "fansite_network.main.public_subnet_ids" }
private_subnet_ids = { expr = "fansite_network.main.private_subnet_ids" }
autoscaling        = { min = 2, max = 20, requests_per_target = 1000 }
"#;

const SITE: &str = "base_url = \"https://fans.example.com\"";

fn with_loadtest(loadtest: &str) -> String {
    with(&format!("{SERVED}\n[loadtest]\n{loadtest}\n"))
}

/// The surge of the one spec `src`, which must check.
fn surge_of(src: &str) -> loadtest::Plan {
    let specs = load_strs(&[("a", src)]).expect("the spec parses");
    let all: Vec<&Loaded> = specs.iter().collect();
    loadtest::plan(&specs[0], &all)
        .expect("no errors")
        .expect("a [loadtest]")
}

#[test]
fn the_surge_is_ten_times_the_baseline_held_past_cooldown_and_task_start() {
    let specs = load(&repo()).expect("specs");
    let all: Vec<&Loaded> = specs.iter().collect();
    let backend = specs.iter().find(|l| l.id == "backend").expect("backend");
    let p = loadtest::plan(backend, &all)
        .expect("the backend's [loadtest] checks")
        .expect("the backend has [loadtest]");
    // The cooldown is the provider's own; a task's start is the spec's.
    assert_eq!(
        p.cooldown_seconds,
        i64::from(terraform_provider_fansite::aws::autoscaling::SCALE_OUT_COOLDOWN_SECS)
    );
    assert_eq!((p.cooldown_seconds, p.task_start_seconds), (60, 120));
    assert!(
        p.hold_seconds > p.cooldown_seconds + p.task_start_seconds,
        "the surge ({} s) outlasts a scale-out cooldown and a task's start ({} s)",
        p.hold_seconds,
        p.cooldown_seconds + p.task_start_seconds
    );
    assert!(
        p.hold_seconds >= p.alarm_seconds + p.round_seconds(),
        "and the alarm's 3 minutes before them"
    );
    assert_eq!(p.hold_seconds, 180 + 2 * (60 + 120));
    assert!(p.jump_seconds <= 10, "the rush comes within seconds");
    assert_eq!(p.surge_factor, 10);
    for s in p.scenarios() {
        assert_eq!(s.peak, 10 * s.rate, "{}: ten times its baseline", s.name);
    }
    assert_eq!((p.browse.rate, p.api.rate, p.auth.rate), (60, 30, 3));
    assert_eq!(
        (p.browse.p95_ms, p.api.p95_ms, p.auth.p95_ms),
        (500, 800, 1200)
    );
    assert_eq!(p.total_seconds(), 120 + 10 + 540 + 60 + 120);
    assert_eq!(p.planned_iterations(), 560_325.0);
    assert_eq!(p.max_dropped(), 5603, "1 % of the planned iterations");
    // The API's load fits [resources.service.api]'s autoscaling: the baseline
    // at the floor, the surge under the ceiling.
    assert_eq!(
        p.tasks,
        loadtest::Tasks {
            min: 2,
            max: 20,
            target_cpu: "60".into(),
            requests_per_target: Some(1000),
        }
    );
    assert_eq!(p.tasks_for(p.api.rate), Some(2));
    assert_eq!(p.tasks_for(p.api.peak), Some(18));
    assert_eq!(
        p.waf,
        Some(loadtest::Waf {
            edge: "site".into(),
            file: "workspaces/frontend.toml".into(),
            rate_limit: 2000,
        }),
        "WAF's limit from the frontend's fansite_edge (the provider's default)"
    );
    assert_eq!(p.edge_requests_per_second(), 600 * 3 + 300);
    assert_eq!(
        p.cognito_url, "https://cognito-idp.ap-northeast-2.amazonaws.com/",
        "from the region of [provider], var.aws_region's default"
    );

    let files = generate(&specs, &templates(), Backend::Cloud).expect("render");
    let js = &files[loadtest::OUTPUT];
    assert!(
        js.starts_with("// Generated by fansite-gen from workspaces/backend.toml. Do not edit.\n"),
        "{js}"
    );
    assert!(is_generated(js));
    for needle in [
        "executor: 'ramping-arrival-rate'",
        "const DEFAULT_BASE_URL = 'https://fans.example.com';",
        "const DEFAULT_COGNITO_URL = 'https://cognito-idp.ap-northeast-2.amazonaws.com/';",
        "const SURGE_FACTOR = 10;",
        "const SECONDS = { baseline: 120, jump: 10, hold: 540, rampDown: 60, recovery: 120 };",
        "const RATES = { browse: 60, api: 30, auth: 3 };",
        "const P95_MS = { browse: 500, api: 800, auth: 1200 };",
        "const MAX_ERROR_RATE = 0.01;",
        "const MIN_CHECKS_RATE = 0.99;",
        "const MAX_DROPPED_PERCENT = 1;",
        "'http_req_duration{scenario:browse}': [`p(95)<${P95_MS.browse}`],",
        "'http_req_duration{scenario:api}': [`p(95)<${P95_MS.api}`],",
        "'http_req_duration{scenario:auth}': [`p(95)<${P95_MS.auth}`],",
        "http_req_failed: [`rate<${MAX_ERROR_RATE}`],",
        "dropped_iterations: [`count<=${MAX_DROPPED}`],",
        "checks: [`rate>${MIN_CHECKS_RATE}`],",
        "__ENV.BASE_URL",
        "positive('SCALE')",
        "positive('TIME_SCALE')",
        // The numbers, explained.
        "//   held         540 s  = 180 s for the target-tracking alarm to fire",
        "180 s each: the scale-out cooldown, 60 s (the provider's)",
        "and 120 s for a new Fargate task to start",
        "//   baseline   30 requests a second, 1800 a minute: 2 tasks, within min 2",
        "//   surge     300 requests a second, 18000 a minute: 18 tasks, within max 20",
        "spread the load over 315 addresses or more",
        "iterations planned: 560325 at SCALE=1",
    ] {
        assert!(js.contains(needle), "{needle:?} in:\n{js}");
    }
    // The local form has it too: it is no Terraform.
    let local = generate(&specs, &templates(), Backend::Local).expect("render");
    assert_eq!(local.get(loadtest::OUTPUT), Some(js));
}

#[test]
fn a_loadtest_takes_production_defaults_and_derives_the_rest() {
    let p = surge_of(&with_loadtest(SITE));
    assert_eq!(p.surge_factor, 10);
    assert_eq!((p.browse.rate, p.api.rate, p.auth.rate), (60, 30, 3));
    assert_eq!((p.browse.peak, p.api.peak, p.auth.peak), (600, 300, 30));
    assert_eq!(p.hold_seconds, 540);
    assert_eq!(
        (p.max_error_rate, p.min_checks_rate, p.max_dropped_percent),
        (0.01, 0.99, 1.0)
    );
    assert_eq!(p.service, "api", "the spec's only fansite_service");
    assert_eq!(p.email_domain, "fans.example.com");
    assert_eq!(
        p.cognito_url,
        "https://cognito-idp.us-east-1.amazonaws.com/"
    );
    assert_eq!(p.waf, None, "no fansite_edge in the set");

    // A slower task start and more rounds hold the surge longer.
    let p = surge_of(&with_loadtest(&format!(
        "{SITE}\ntask_start_seconds = 200\nscale_out_rounds = 3\nsurge_factor = 8"
    )));
    assert_eq!(p.hold_seconds, 180 + 3 * (60 + 200));
    assert!(p.hold_seconds > p.cooldown_seconds + p.task_start_seconds);
    assert_eq!((p.api.rate, p.api.peak), (30, 240));

    // Autoscaling left to the provider: 2 to 10 tasks at 60 % CPU, on CPU alone.
    let plain = with(&format!(
        "{}\n[loadtest]\n{SITE}\n",
        SERVED.replace(
            "autoscaling        = { min = 2, max = 20, requests_per_target = 1000 }\n",
            ""
        )
    ));
    let p = surge_of(&plain);
    assert_eq!(
        p.tasks,
        loadtest::Tasks {
            min: 2,
            max: 10,
            target_cpu: "60".into(),
            requests_per_target: None,
        }
    );
    assert_eq!(p.tasks_for(p.api.peak), None);

    // Rendered only for the spec that has [loadtest].
    let loaded = load_strs(&[("a", &with_loadtest(SITE))]).expect("load");
    let files = generate(&loaded, &templates(), Backend::Cloud).expect("render");
    let js = &files[loadtest::OUTPUT];
    assert!(js.starts_with("// Generated by fansite-gen from workspaces/a.toml. Do not edit.\n"));
    assert!(js.contains("2 to 20 tasks at 60 % CPU and 1000 requests a task"));
    let loaded = load_strs(&[("a", GOOD)]).expect("load");
    let files = generate(&loaded, &templates(), Backend::Cloud).expect("render");
    assert!(!files.contains_key(loadtest::OUTPUT));
}

#[test]
fn bad_loadtest_settings_fail_with_file_line_and_key() {
    let other = with_loadtest(SITE)
        .replace("ws-a", "ws-b")
        .replace("workspaces/a", "workspaces/b");
    // (what, spec, the error's words, the line it is at: the first line that
    // starts with this, or "" when the parser says where)
    let cases: Vec<(&str, String, &str, &str)> = vec![
        ("unknown key", with_loadtest(&format!("{SITE}\ncolour = 1")), "unknown field `colour`", ""),
        ("no site", with_loadtest("surge_factor = 10"), "missing field `base_url`", ""),
        ("unknown scenario key", with_loadtest(&format!("{SITE}\n\n[loadtest.api]\nrps = 3")), "unknown field `rps`", ""),
        ("a site with a path", with_loadtest("base_url = \"https://fans.example.com/app\""), "loadtest.base_url: \"https://fans.example.com/app\": the site's origin", "base_url ="),
        ("a site that is no URL", with_loadtest("base_url = \"fans.example.com\""), "loadtest.base_url: \"fans.example.com\": the site's origin", "base_url ="),
        ("a quote in the site", with_loadtest("base_url = \"https://fans.example.com'\""), "loadtest.base_url:", "base_url ="),
        ("no rush", with_loadtest(&format!("{SITE}\nsurge_factor = 1")), "loadtest.surge_factor: 1: the rush is 2 to 50 times the baseline", "surge_factor ="),
        ("a slow rush", with_loadtest(&format!("{SITE}\njump_seconds = 120")), "loadtest.jump_seconds: 120: the rush comes within seconds: 1 to 60", "jump_seconds ="),
        ("no round", with_loadtest(&format!("{SITE}\nscale_out_rounds = 0")), "loadtest.scale_out_rounds: 0: the surge is held for 1 to 10 rounds", "scale_out_rounds ="),
        ("an instant task", with_loadtest(&format!("{SITE}\ntask_start_seconds = 5")), "loadtest.task_start_seconds: 5: a new Fargate task takes 30 to 900 seconds", "task_start_seconds ="),
        ("a short baseline", with_loadtest(&format!("{SITE}\nbaseline_seconds = 1")), "loadtest.baseline_seconds: 1:", "baseline_seconds ="),
        ("no error allowed", with_loadtest(&format!("{SITE}\nmax_error_rate = 0")), "loadtest.max_error_rate: 0: a share of the requests, above 0 and below 1", "max_error_rate ="),
        ("an error rate over 1", with_loadtest(&format!("{SITE}\nmax_error_rate = 1.5")), "loadtest.max_error_rate: 1.5:", "max_error_rate ="),
        ("every check", with_loadtest(&format!("{SITE}\nmin_checks_rate = 1")), "loadtest.min_checks_rate: 1: a share of the checks", "min_checks_rate ="),
        ("dropped below 0", with_loadtest(&format!("{SITE}\nmax_dropped_percent = -1")), "loadtest.max_dropped_percent: -1: a percentage of the planned iterations", "max_dropped_percent ="),
        ("mostly writes", with_loadtest(&format!("{SITE}\nwrites_percent = 80")), "loadtest.writes_percent: 80: 0 to 50 percent", "writes_percent ="),
        ("no API calls", with_loadtest(&format!("{SITE}\n\n[loadtest.api]\nrate = 0")), "loadtest.api.rate: 0: 1 to 100000 iterations a second", "rate = 0"),
        ("no latency", with_loadtest(&format!("{SITE}\n\n[loadtest.browse]\np95_ms = 0")), "loadtest.browse.p95_ms: 0: a p95 latency of 1 to 60000 milliseconds", "p95_ms = 0"),
        (
            "a baseline above the floor",
            with_loadtest(&format!("{SITE}\n\n[loadtest.api]\nrate = 40")),
            "loadtest.api.rate: 40 API requests a second at the baseline need 3 tasks at requests_per_target 1000, more than autoscaling.min 2",
            "rate = 40",
        ),
        (
            "a surge above the ceiling",
            with_loadtest(&format!("{SITE}\nsurge_factor = 20\n\n[loadtest.api]\nrate = 30")),
            "loadtest.api.rate: 600 API requests a second at the surge (20 times 30) need 36 tasks at requests_per_target 1000, more than autoscaling.max 20",
            "rate = 30",
        ),
        (
            "sign-ups over Cognito's quota",
            with_loadtest(&format!("{SITE}\n\n[loadtest.auth]\nrate = 6")),
            "loadtest.auth.rate: 60 sign-ups a second at the surge (10 times 6) pass Cognito's default quota of 50 a second",
            "rate = 6",
        ),
        (
            "a service that is not there",
            with_loadtest(&format!("{SITE}\nservice = \"web\"")),
            "loadtest.service: there is no [resources.service.web] in this spec; it has: api",
            "service =",
        ),
        (
            "no service",
            with(&format!("[loadtest]\n{SITE}\n")),
            "loadtest.service: the surge is derived from a fansite_service's autoscaling, and this spec declares none",
            "[loadtest]",
        ),
        (
            "autoscaling by expression",
            with_loadtest(SITE).replace("min = 2,", "min = { expr = \"var.region\" },"),
            "loadtest.service: the surge is derived from resources.service.api.autoscaling, and its min is not a number written in the spec",
            "[loadtest]",
        ),
        (
            "no region to find Cognito by",
            with_loadtest(SITE).replace("region = { expr = \"var.region\" }\n", ""),
            "loadtest.cognito_url: give cognito_url",
            "[loadtest]",
        ),
        (
            "Cognito somewhere odd",
            with_loadtest(&format!("{SITE}\ncognito_url = \"ftp://cognito\"")),
            "loadtest.cognito_url: \"ftp://cognito\": an http or https URL",
            "cognito_url =",
        ),
    ];
    for (what, src, expected, at) in &cases {
        let errors = errors_of(&[("a", src)]);
        assert!(
            errors.iter().any(|e| e.contains(expected)),
            "{what}: expected an error with {expected:?}, got {errors:#?}"
        );
        if !at.is_empty() {
            let line = src
                .lines()
                .position(|l| l.starts_with(at))
                .map(|i| i + 1)
                .expect("the line");
            let prefix = format!("workspaces/a.toml:{line}: ");
            assert!(
                errors
                    .iter()
                    .any(|e| e.starts_with(&prefix) && e.contains(expected)),
                "{what}: expected {prefix}{expected}, got {errors:#?}"
            );
        }
    }
    // Two specs would render the same file: the second is refused at its table.
    let errors = errors_of(&[("a", &with_loadtest(SITE)), ("b", &other)]);
    let line = other
        .lines()
        .position(|l| l == "[loadtest]")
        .map(|i| i + 1)
        .expect("the table");
    let expected = format!("workspaces/b.toml:{line}: loadtest: loadtests/surge.js is rendered from the [loadtest] of workspaces/a.toml already");
    assert!(
        errors.iter().any(|e| e.starts_with(&expected)),
        "expected {expected}, got {errors:#?}"
    );
}

// --- [pipeline]: the release workflows (`workflows`) ------------------------

/// A fansite_service whose image the API's release workflow pushes, and the
/// variables it takes the image repository from and sets the tag of.
const RELEASED_API: &str = r#"
[variables.image]
category    = "terraform"
description = "Image repository of the API."
default     = "123456789012.dkr.ecr.us-east-1.amazonaws.com/api"

[variables.image_tag]
category    = "terraform"
description = "Tag of the API image."

[resources.service.api]
name               = "api"
image              = { expr = "var.image" }
image_tag          = { expr = "var.image_tag" }
vpc_id             = { expr = "fansite_network.main.vpc_id" }
public_subnet_ids  = { expr = "fansite_network.main.public_subnet_ids" }
private_subnet_ids = { expr = "fansite_network.main.private_subnet_ids" }
"#;

/// A fansite_edge whose bucket the site's release workflow uploads to, and
/// the variable behind its content_hash.
const RELEASED_SITE: &str = r#"
[variables.content_hash]
category         = "terraform"
description      = "Hash of the build."
nullable_default = true

[resources.edge.site]
name         = "ws-a-site"
content_hash = { expr = "var.content_hash" }
"#;

const API_PIPELINE: &str = "[pipeline]
service       = \"api\"
repository    = \"org/api\"
role_variable = \"API_ROLE_ARN\"
";

const SITE_PIPELINE: &str = "[pipeline]
edge          = \"site\"
repository    = \"org/web\"
role_variable = \"SITE_ROLE_ARN\"
";

const API_WORKFLOW: &str = "pipelines/api/.github/workflows/api-release.yml";
const SITE_WORKFLOW: &str = "pipelines/site/.github/workflows/site-release.yml";

/// GOOD with the released API and its `[pipeline]`, more settings of which follow.
fn with_released_api(settings: &str) -> String {
    with(&format!("{RELEASED_API}\n{API_PIPELINE}{settings}"))
}

/// The lines of a workflow's `run: |` scripts.
fn run_script_lines(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut script_of: Option<usize> = None;
    for line in text.lines() {
        let depth = line.len() - line.trim_start().len();
        if let Some(run) = script_of {
            if line.trim().is_empty() || depth > run {
                out.push(line);
                continue;
            }
            script_of = None;
        }
        if line.trim_start().starts_with("run: |") {
            script_of = Some(depth);
        }
    }
    out
}

#[test]
fn the_api_and_the_site_have_release_workflows() {
    let specs = load(&repo()).expect("specs");
    let files = generate(&specs, &templates(), Backend::Cloud).expect("render");
    let workflows: Vec<&str> = files
        .keys()
        .map(String::as_str)
        .filter(|k| k.starts_with("pipelines/"))
        .collect();
    assert_eq!(
        workflows,
        [API_WORKFLOW, SITE_WORKFLOW],
        "the backend's and the frontend's; observability has no [pipeline]"
    );
    let api = &files[API_WORKFLOW];
    for needle in [
        "# Generated by fansite-gen from workspaces/backend.toml. Do not edit.\n",
        "on:\n  push:\n    tags:\n      - \"v*.*.*\"\n\npermissions: {}\n",
        "if: github.repository == 'fansite/fansite-api'",
        "re='^v(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)$'",
        // From backend.toml: the default of var.api_image, the region, the Dockerfile.
        "IMAGE: \"123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/fansite-api\"",
        "role-to-assume: ${{ vars.FANSITE_API_ROLE_ARN }}",
        "aws-region: \"ap-northeast-2\"",
        "allowed-account-ids: \"123456789012\"",
        "DOCKERFILE: \"Dockerfile\"",
        "docker push \"$IMAGE:$VERSION\"",
        // The tag without its v, into var.image_tag of fansite-backend, and a run.
        "echo \"version=${GITHUB_REF_NAME#v}\" >> \"$GITHUB_OUTPUT\"",
        "TFC_ORGANIZATION: \"fansite\"",
        "TFC_WORKSPACE: \"fansite-backend\"",
        "TFC_VARIABLE: \"image_tag\"",
        "VALUE: ${{ needs.tag.outputs.version }}",
        "TFC_TOKEN: ${{ secrets.TFC_TOKEN }}",
        "\"$api/organizations/$TFC_ORGANIZATION/workspaces/$TFC_WORKSPACE\"",
        "tfc --request PATCH --data @- \"$api/workspaces/$ws/vars/$var\"",
        "tfc --request POST --data @- \"$api/runs\"",
        // The workspace has auto_apply = false, and the workflow says so.
        "auto_apply = false, so a person confirms the plan in Terraform Cloud",
    ] {
        assert!(api.contains(needle), "{needle} in:\n{api}");
    }
    let site = &files[SITE_WORKFLOW];
    for needle in [
        "# Generated by fansite-gen from workspaces/frontend.toml. Do not edit.\n",
        "if: github.repository == 'fansite/fansite-web'",
        "node-version: \"24\"",
        "package-manager-cache: false",
        "npm ci\n          npm run build\n",
        "path: \"build\"",
        // The edge's name is its bucket.
        "BUCKET: \"fansite-site-ap-northeast-2\"",
        "role-to-assume: ${{ vars.FANSITE_SITE_ROLE_ARN }}",
        "--exclude index.html --delete",
        "TFC_WORKSPACE: \"fansite-frontend\"",
        "TFC_VARIABLE: \"content_hash\"",
        "VALUE: ${{ needs.upload.outputs.content_hash }}",
        "fansite_edge invalidates every CloudFront path when its",
        "auto_apply = false, so a person confirms the plan in Terraform Cloud",
    ] {
        assert!(site.contains(needle), "{needle} in:\n{site}");
    }
    // What scripts/lint-workflows.sh checks, as far as the text shows it.
    for (rel, text) in [(API_WORKFLOW, api), (SITE_WORKFLOW, site)] {
        assert!(text.contains("\npermissions: {}\n"), "{rel}");
        for line in run_script_lines(text) {
            assert!(
                !line.contains("${{"),
                "{rel}: an expression in a run script: {line}"
            );
        }
        let uses: Vec<&str> = text
            .lines()
            .filter(|l| l.trim_start().starts_with("- uses: "))
            .collect();
        assert!(!uses.is_empty(), "{rel}");
        for line in uses {
            let (_, pin) = line.split_once('@').expect("owner/repo@ref");
            let (sha, version) = pin.split_once(" # v").expect("a # vX.Y.Z comment");
            assert!(
                sha.len() == 40 && sha.chars().all(|c| c.is_ascii_hexdigit()),
                "{rel}: pinned to a commit: {line}"
            );
            assert_eq!(version.split('.').count(), 3, "{rel}: {line}");
        }
        assert_eq!(
            text.matches("persist-credentials: false").count(),
            text.matches("- uses: actions/checkout@").count(),
            "{rel}: no credentials left in .git"
        );
    }
    // The edge takes content_hash from the variable the workflow sets.
    assert!(files["workspaces/frontend/main.tf"]
        .contains("  content_hash              = var.content_hash\n"));
    // The local form, for the demo, has no workflows.
    let local = generate(&specs, &templates(), Backend::Local).expect("render");
    assert!(!local.keys().any(|k| k.starts_with("pipelines/")));
}

#[test]
fn a_workflow_is_rendered_only_for_a_spec_with_a_pipeline() {
    let workflows = |files: &Rendered| -> Vec<String> {
        files
            .keys()
            .filter(|k| k.starts_with("pipelines/"))
            .cloned()
            .collect()
    };
    let without = with(RELEASED_API);
    let loaded = load_strs(&[("a", &without)]).expect("loads");
    let files = generate(&loaded, &templates(), Backend::Cloud).expect("renders");
    assert!(workflows(&files).is_empty(), "no [pipeline], no workflow");

    let api = with_released_api("");
    let loaded = load_strs(&[("a", &api)]).expect("loads");
    let files = generate(&loaded, &templates(), Backend::Cloud).expect("renders");
    assert_eq!(workflows(&files), [API_WORKFLOW]);
    let text = &files[API_WORKFLOW];
    for needle in [
        "# Generated by fansite-gen from workspaces/a.toml. Do not edit.\n",
        "name: api-release\n",
        "if: github.repository == 'org/api'",
        // From the spec: the image repository, its account and region, the workspace.
        "IMAGE: \"123456789012.dkr.ecr.us-east-1.amazonaws.com/api\"",
        "aws-region: \"us-east-1\"",
        "registries: \"123456789012\"",
        "role-to-assume: ${{ vars.API_ROLE_ARN }}",
        "DOCKERFILE: \"Dockerfile\"",
        "TFC_ORGANIZATION: \"org\"",
        "TFC_WORKSPACE: \"ws-a\"",
        "TFC_VARIABLE: \"image_tag\"",
        "TFC_VARIABLE_DESCRIPTION: \"Tag of the API image.\"",
        "auto_apply = false",
    ] {
        assert!(text.contains(needle), "{needle} in:\n{text}");
    }
    let local = generate(&loaded, &templates(), Backend::Local).expect("renders");
    assert!(workflows(&local).is_empty(), "the local form has none");

    // A site, with its settings, in a workspace that applies by itself.
    let site = with(&format!(
        "{RELEASED_SITE}\n{SITE_PIPELINE}build_dir     = \"dist\"\nnode_version  = \"22\"\n"
    ))
    .replace(
        "vcs_repo          =",
        "auto_apply        = true\nvcs_repo          =",
    );
    let loaded = load_strs(&[("a", &site)]).expect("loads");
    let files = generate(&loaded, &templates(), Backend::Cloud).expect("renders");
    assert_eq!(workflows(&files), [SITE_WORKFLOW]);
    let text = &files[SITE_WORKFLOW];
    for needle in [
        "name: site-release\n",
        "if: github.repository == 'org/web'",
        "node-version: \"22\"",
        "path: \"dist\"",
        "BUCKET: \"ws-a-site\"",
        "aws-region: \"us-east-1\"",
        "role-to-assume: ${{ vars.SITE_ROLE_ARN }}",
        "TFC_VARIABLE: \"content_hash\"",
        "The workspace has auto_apply = true: the run applies after its plan.",
    ] {
        assert!(text.contains(needle), "{needle} in:\n{text}");
    }
    assert!(!text.contains("auto_apply = false"), "{text}");
}

#[test]
fn bad_pipeline_settings_fail_with_file_line_and_key() {
    let site = |edge: &str| with(&format!("{edge}\n{SITE_PIPELINE}"));
    // (what, the spec, the start of the line the error names ("" for a
    // TOML error: the file only), the key and the message)
    let cases: Vec<(&str, String, &str, &str)> = vec![
        (
            "unknown key",
            with_released_api("colour = \"blue\"\n"),
            "",
            "unknown field `colour`",
        ),
        (
            "no repository",
            with(&format!(
                "{RELEASED_API}\n{}",
                API_PIPELINE.replace("repository    = \"org/api\"\n", "")
            )),
            "",
            "missing field `repository`",
        ),
        (
            "both kinds",
            with_released_api("edge          = \"site\"\n"),
            "[pipeline]",
            "pipeline: name what the pipeline deploys, one of: service = \"<name>\"",
        ),
        (
            "neither kind",
            with(&format!(
                "{RELEASED_API}\n{}",
                API_PIPELINE.replace("service       = \"api\"\n", "")
            )),
            "[pipeline]",
            "pipeline: name what the pipeline deploys",
        ),
        (
            "a service that is not there",
            with(&format!(
                "{RELEASED_API}\n{}",
                API_PIPELINE.replace("\"api\"", "\"web\"")
            )),
            "service ",
            "pipeline.service: there is no [resources.service.web] in this spec; it has: api",
        ),
        (
            "no fansite_edge",
            with(&format!(
                "{RELEASED_API}\n{}",
                API_PIPELINE.replace("service       = \"api\"", "edge          = \"site\"")
            )),
            "edge ",
            "pipeline.edge: there is no [resources.edge.site]: this spec declares no fansite_edge",
        ),
        (
            "a repository without its owner",
            with_released_api("").replace("\"org/api\"", "\"api\""),
            "repository ",
            "pipeline.repository: \"api\": use <owner>/<name>",
        ),
        (
            "a variable name GitHub keeps",
            with_released_api("").replace("\"API_ROLE_ARN\"", "\"GITHUB_ROLE\""),
            "role_variable ",
            "pipeline.role_variable: \"GITHUB_ROLE\": a GitHub variable name",
        ),
        (
            "a lower-case variable name",
            with_released_api("").replace("\"API_ROLE_ARN\"", "\"api-role\""),
            "role_variable ",
            "pipeline.role_variable: \"api-role\": a GitHub variable name",
        ),
        (
            "a Dockerfile outside the repository",
            with_released_api("dockerfile    = \"../Dockerfile\"\n"),
            "dockerfile ",
            "pipeline.dockerfile: \"../Dockerfile\": use a path inside the repository",
        ),
        (
            "a site's setting in a service's pipeline",
            with_released_api("build_dir     = \"dist\"\n"),
            "build_dir ",
            "pipeline.build_dir: build_dir is a setting of a pipeline with edge = \"<name>\", and this one has service = ...",
        ),
        (
            "a Node.js version that is not one",
            site(RELEASED_SITE).replace(
                "role_variable = \"SITE_ROLE_ARN\"\n",
                "role_variable = \"SITE_ROLE_ARN\"\nnode_version  = \"lts\"\n",
            ),
            "node_version ",
            "pipeline.node_version: \"lts\": use a Node.js version",
        ),
        (
            "an image tag that is not a variable",
            with_released_api("").replace(
                "image_tag          = { expr = \"var.image_tag\" }",
                "image_tag          = \"1.0.0\"",
            ),
            "[resources.service.api]",
            "resources.service.api.image_tag: the pipeline sets image_tag through a variable in Terraform Cloud",
        ),
        (
            "an image that is not in ECR",
            with_released_api("").replace(
                "123456789012.dkr.ecr.us-east-1.amazonaws.com/api",
                "ghcr.io/org/api",
            ),
            "[resources.service.api]",
            "resources.service.api.image: \"ghcr.io/org/api\" is not an ECR repository",
        ),
        (
            "an image in another region",
            with_released_api("").replace("ecr.us-east-1", "ecr.eu-west-1"),
            "[resources.service.api]",
            "resources.service.api.image: the image's registry is in eu-west-1, and the pipeline signs in to the stack's region us-east-1",
        ),
        (
            "no region",
            with_released_api("").replace("default     = \"us-east-1\"\n", ""),
            "[pipeline]",
            "provider.region: the pipeline signs in to AWS in the stack's region",
        ),
        (
            "a site without content_hash",
            site(&RELEASED_SITE.replace("content_hash = { expr = \"var.content_hash\" }\n", "")),
            "[resources.edge.site]",
            "resources.edge.site.content_hash: the pipeline sets content_hash through a variable",
        ),
        (
            "a bucket that the spec does not name",
            site(&RELEASED_SITE.replace(
                "name         = \"ws-a-site\"",
                "name         = { expr = \"var.content_hash\" }",
            )),
            "[resources.edge.site]",
            "resources.edge.site.name: the pipeline uploads to the edge's bucket, which is its name",
        ),
    ];
    for (what, src, at, expected) in cases {
        let errors = errors_of(&[("a", &src)]);
        let prefix = if at.is_empty() {
            "workspaces/a.toml:".to_string()
        } else {
            let line = src
                .lines()
                .position(|l| l.starts_with(at))
                .map(|i| i + 1)
                .expect("the line the error names");
            format!("workspaces/a.toml:{line}: ")
        };
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with(&prefix) && e.contains(expected)),
            "{what}: expected {prefix}...{expected}, got {errors:#?}"
        );
    }

    // Two specs cannot write the same workflow.
    let other = GOOD
        .replace("ws-a", "ws-b")
        .replace("workspaces/a", "workspaces/b");
    let b = format!("{other}\n{RELEASED_API}\n{API_PIPELINE}");
    let errors = errors_of(&[("a", &with_released_api("")), ("b", &b)]);
    let line = b
        .lines()
        .position(|l| l.starts_with("service "))
        .map(|i| i + 1)
        .expect("service = ...");
    let expected = format!("workspaces/b.toml:{line}: pipeline.service: {API_WORKFLOW} is also the workflow of workspaces/a.toml's [pipeline]");
    assert!(
        errors.iter().any(|e| e.starts_with(&expected)),
        "expected {expected}, got {errors:#?}"
    );
}

#[test]
fn a_variable_the_release_workflow_sets_is_left_to_it_by_the_bootstrap() {
    let specs = load(&repo()).expect("specs");
    let files = generate(&specs, &templates(), Backend::Cloud).expect("render");
    let main = &files["workspaces/bootstrap/main.tf"];
    let block = |name: &str| -> String {
        let start = main
            .find(&format!("resource \"tfe_variable\" \"{name}\""))
            .unwrap_or_else(|| panic!("{name} in {main}"));
        let end = main[start..]
            .find("\n}\n")
            .map_or(main.len(), |e| start + e);
        main[start..end].to_string()
    };
    // api-release.yml sets image_tag on every tag: a later bootstrap apply
    // must not set it back to its first value.
    assert!(
        block("backend_image_tag").contains("lifecycle {\n    ignore_changes = [value]\n  }"),
        "{}",
        block("backend_image_tag")
    );
    assert!(!block("backend_slack_webhook_url").contains("ignore_changes"));
}
