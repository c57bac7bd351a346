//! The provider as Terraform sees it: schema, process behaviour.

use std::process::Command;

use serde_json::Value;

use crate::harness::{repo_root, Terraform, Workspace};

const CONFIG: &str = r#"
terraform {
  required_providers {
    fansite = { source = "fansite/fansite" }
  }
}
variable "aws_endpoint" {
  type = string
}
provider "fansite" {
  region   = "us-east-1"
  endpoint = var.aws_endpoint
}
"#;

fn descriptions_missing(block: &Value, path: &str, out: &mut Vec<String>) {
    if let Some(attrs) = block["attributes"].as_object() {
        for (name, a) in attrs {
            if a["description"].as_str().unwrap_or_default().len() < 10 {
                out.push(format!("{path}.{name}"));
            }
        }
    }
    if let Some(blocks) = block["block_types"].as_object() {
        for (name, b) in blocks {
            descriptions_missing(&b["block"], &format!("{path}.{name}"), out);
        }
    }
}

async fn provider_schema_has_a_description_on_every_attribute(tf: &Terraform) {
    let ws = Workspace::new(tf, "provider-schema", CONFIG);
    let json: Value =
        serde_json::from_str(&ws.ok(&["providers", "schema", "-json"])).expect("schema json");
    let p = &json["provider_schemas"]["registry.terraform.io/fansite/fansite"];
    let provider = &p["provider"]["block"];
    for attr in [
        "region",
        "access_key",
        "secret_key",
        "profile",
        "endpoint",
        "max_retries",
    ] {
        assert!(
            provider["attributes"][attr].is_object(),
            "provider.{attr} missing: {provider}"
        );
    }
    assert_eq!(provider["attributes"]["secret_key"]["sensitive"], true);
    assert!(provider["block_types"]["endpoints"].is_object());
    assert!(provider["block_types"]["default_tags"].is_object());
    let network = &p["resource_schemas"]["fansite_network"]["block"];
    assert!(
        network["attributes"]["vpc_id"]["computed"] == true,
        "{network}"
    );
    let mut missing = Vec::new();
    descriptions_missing(provider, "provider", &mut missing);
    // Every resource Terraform sees, not a chosen few.
    let resources = p["resource_schemas"].as_object().expect("resource schemas");
    let names: Vec<&str> = resources.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "fansite_auth",
            "fansite_bastion",
            "fansite_ci_access",
            "fansite_database",
            "fansite_edge",
            "fansite_network",
            "fansite_observability",
            "fansite_service"
        ],
        "the resources served"
    );
    for (name, r) in resources {
        descriptions_missing(&r["block"], name, &mut missing);
    }
    assert!(
        missing.is_empty(),
        "attributes without a description: {missing:?}"
    );
}
per_terraform!(provider_schema_has_a_description_on_every_attribute);

/// Terraform 1.15 sees every kind the provider serves beside resources, the
/// identities, and the write-only and deprecated attributes.
#[tokio::test]
async fn provider_schema_on_terraform_1_15_has_the_newer_protocol_features() {
    let Some(tf) = crate::harness::terraform("1.15") else {
        return;
    };
    let ws = Workspace::new(tf, "provider-schema-newer", CONFIG);
    let json: Value =
        serde_json::from_str(&ws.ok(&["providers", "schema", "-json"])).expect("schema json");
    let p = &json["provider_schemas"]["registry.terraform.io/fansite/fansite"];
    let keys = |kind: &str| -> Vec<String> {
        p[kind]
            .as_object()
            .unwrap_or_else(|| panic!("no {kind} in {p}"))
            .keys()
            .cloned()
            .collect()
    };
    assert_eq!(
        keys("ephemeral_resource_schemas"),
        ["fansite_database_credentials"]
    );
    assert_eq!(
        keys("action_schemas"),
        ["fansite_edge_invalidate", "fansite_service_redeploy"]
    );
    let composites = [
        "fansite_auth",
        "fansite_database",
        "fansite_edge",
        "fansite_network",
        "fansite_service",
    ];
    assert_eq!(keys("list_resource_schemas"), composites);
    assert_eq!(keys("resource_identity_schemas"), composites);
    let network = &p["resource_identity_schemas"]["fansite_network"]["attributes"];
    assert_eq!(network["vpc_id"]["required_for_import"], true, "{network}");
    assert_eq!(network["region"]["optional_for_import"], true, "{network}");
    let alerts = &p["resource_schemas"]["fansite_service"]["block"]["block_types"]["alerts"]
        ["block"]["attributes"];
    assert_eq!(
        alerts["slack_webhook_url_wo"]["write_only"], true,
        "{alerts}"
    );
    assert_eq!(alerts["slack_webhook_url"]["deprecated"], true, "{alerts}");
    let mut missing = Vec::new();
    for kind in [
        "ephemeral_resource_schemas",
        "action_schemas",
        "list_resource_schemas",
    ] {
        for (name, schema) in p[kind].as_object().expect("schemas") {
            let block = if schema["schema"].is_object() {
                &schema["schema"]["block"]
            } else {
                &schema["block"]
            };
            descriptions_missing(block, name, &mut missing);
        }
    }
    assert!(
        missing.is_empty(),
        "attributes without a description: {missing:?}"
    );
}

#[test]
fn provider_started_by_hand_explains_itself_and_exits() {
    let bin =
        std::fs::read_dir(repo_root().join(".tools/mirror/registry.terraform.io/fansite/fansite"))
            .expect("the mirror exists: run `make mirror`")
            .flatten()
            .flat_map(|v| std::fs::read_dir(v.path()).into_iter().flatten().flatten())
            .flat_map(|p| std::fs::read_dir(p.path()).into_iter().flatten().flatten())
            .map(|f| f.path())
            .next()
            .expect("a provider binary in the mirror");
    let out = Command::new(&bin)
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .output()
        .expect("run provider");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.contains("is a Terraform plugin"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn provider_reports_its_version() {
    let bin = repo_root().join(format!(
        ".tools/mirror/registry.terraform.io/fansite/fansite/{v}/linux_amd64/terraform-provider-fansite_v{v}",
        v = env!("CARGO_PKG_VERSION")
    ));
    let out = Command::new(&bin)
        .arg("--version")
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .output()
        .expect("run provider");
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("terraform-provider-fansite {}\n", env!("CARGO_PKG_VERSION"))
    );
}

/// The full HTTPS example of docs/guides/api-behind-cloudfront.md: the whole
/// file is left as it is by `terraform fmt`, and its fansite resources
/// validate with the provider. Its certificates and DNS records come from
/// hashicorp/aws, which cannot be installed on this offline machine: for
/// `validate`, those blocks are taken out and their outputs given as
/// literals.
async fn the_https_example_is_fmt_clean_and_its_fansite_parts_validate(tf: &Terraform) {
    let example =
        std::fs::read_to_string(repo_root().join("examples/api-behind-cloudfront/main.tf"))
            .expect("the example");
    let ws = Workspace::new(tf, "https-example", CONFIG);
    std::fs::write(ws.dir.join("main.tf"), &example).expect("write");
    ws.ok(&["fmt", "-check", "-diff", "main.tf"]);

    let mut kept = Vec::new();
    let mut skipping: Option<&str> = None;
    for line in example.lines() {
        if let Some(end) = skipping {
            if line == end {
                skipping = None;
            }
            continue;
        }
        if line.starts_with("resource \"aws_") || line.starts_with("provider \"aws\"") {
            skipping = Some("}");
            continue;
        }
        if line == "    aws = {" {
            skipping = Some("    }");
            continue;
        }
        kept.push(line);
    }
    let fansite_only = kept
        .join("\n")
        .replace(
            "aws_acm_certificate_validation.api.certificate_arn",
            "\"arn:aws:acm:ap-northeast-2:123456789012:certificate/0e1f2a3b-api\"",
        )
        .replace(
            "aws_acm_certificate_validation.site.certificate_arn",
            "\"arn:aws:acm:us-east-1:123456789012:certificate/0e1f2a3b-site\"",
        )
        .replace("aws_route53_record.api.fqdn", "var.api_domain");
    assert!(!fansite_only.contains("aws_"), "{fansite_only}");
    ws.write(&fansite_only);
    ws.ok(&["init", "-input=false"]);
    ws.ok(&["validate", "-no-color"]);
}
per_terraform!(the_https_example_is_fmt_clean_and_its_fansite_parts_validate);
