//! `[pipeline]`: the release workflow (GitHub Actions) of what a workspace
//! runs, rendered for that code's own repository as
//! `pipelines/<name>/.github/workflows/<name>-release.yml`, `<name>` being the
//! deployed resource's:
//!
//! - `service = "<name>"`: on a pushed tag vX.Y.Z, the image of
//!   `fansite_service.<name>` is built and pushed to its ECR repository as
//!   X.Y.Z, and the variable behind its `image_tag` is set to X.Y.Z;
//! - `edge = "<name>"`: on a pushed tag vX.Y.Z, the React app is built and
//!   uploaded to the bucket of `fansite_edge.<name>`, and the variable behind
//!   its `content_hash` is set to a hash of the build.
//!
//! Then a run is queued in the workspace, through the Terraform Cloud API.
//! What the spec already says is taken from it (the region, the image
//! repository or the bucket, the variable, the workspace and whether it
//! applies by itself); `[pipeline]` says the rest. Only the Terraform Cloud
//! form has the workflows.

use std::collections::BTreeMap;
use std::path::Path;

use handlebars::{handlebars_helper, Handlebars};
use serde::Deserialize;
use serde_json::json;

use crate::check::{raw_expr, Model};
use crate::spec::{line_at, line_of, WorkspaceSpec, TFC_HOST};
use crate::{header, GenError, Loaded};

/// `[pipeline]`: what is deployed, and what the spec cannot say about the workflow.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineSpec {
    /// What it deploys, one of the two: the image of `[resources.service.<name>]`,
    #[serde(default)]
    pub service: Option<String>,
    /// or the site of `[resources.edge.<name>]`.
    #[serde(default)]
    pub edge: Option<String>,
    /// The GitHub repository the workflow is committed to, `<owner>/<name>`:
    /// the only one it runs in, and the OIDC subject the AWS role trusts.
    pub repository: String,
    /// The repository variable that holds the ARN of the AWS role it assumes.
    pub role_variable: String,
    /// A service's: the Dockerfile, relative to the repository. Default `Dockerfile`.
    #[serde(default)]
    pub dockerfile: Option<String>,
    /// A site's: where `npm run build` writes the app. Default `build`.
    #[serde(default)]
    pub build_dir: Option<String>,
    /// A site's: the Node.js version it is built with. Default `24`.
    #[serde(default)]
    pub node_version: Option<String>,
}

const DEFAULT_DOCKERFILE: &str = "Dockerfile";
const DEFAULT_BUILD_DIR: &str = "build";
const DEFAULT_NODE_VERSION: &str = "24";

/// The table's header in a spec, where its errors point when no key of it does.
const TABLE: &str = "[pipeline]";

/// The runner of every job.
const RUNNER: &str = "ubuntu-24.04";

/// The actions the workflows use, each pinned to the commit of a release tag
/// of its repository (the tag's commit, not an annotated tag's object).
const CHECKOUT: &str = "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1";
const SETUP_NODE: &str = "actions/setup-node@820762786026740c76f36085b0efc47a31fe5020 # v7.0.0";
const UPLOAD_ARTIFACT: &str =
    "actions/upload-artifact@bbbca2ddaa5d8feaa63e36b76fdaad77386f024f # v7.0.0";
const DOWNLOAD_ARTIFACT: &str =
    "actions/download-artifact@3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c # v8.0.1";
const CONFIGURE_AWS_CREDENTIALS: &str =
    "aws-actions/configure-aws-credentials@e6de054238d6b7531b4efff3b6587d9aade6a06c # v6.2.3";
const AMAZON_ECR_LOGIN: &str =
    "aws-actions/amazon-ecr-login@03f1aad4c6c7ffd436567f42f9384779290529bd # v2.1.7";

/// The templates, under `templates/`: the two jobs every workflow has, and one
/// workflow per kind around them.
const TAG_JOB: &str = "pipelines/tag-job.yml";
const RUN_JOB: &str = "pipelines/run-job.yml";
const SERVICE_WORKFLOW: &str = "pipelines/service.yml";
const EDGE_WORKFLOW: &str = "pipelines/edge.yml";
const TEMPLATES: &[&str] = &[TAG_JOB, RUN_JOB, SERVICE_WORKFLOW, EDGE_WORKFLOW];

// `{{gh "needs.tag.outputs.version"}}` writes `${{ needs.tag.outputs.version }}`,
// which a template cannot hold as it is.
handlebars_helper!(github_expr: |e: str| format!("${{{{ {e} }}}}"));
// `{{quote x}}`: x as a double-quoted YAML string (a JSON string is one).
handlebars_helper!(yaml_quote: |text: str| serde_json::to_string(text).unwrap_or_default());

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Service,
    Edge,
}

impl Kind {
    /// The resource type without `fansite_`, which is also the key naming it.
    fn resource(self) -> &'static str {
        match self {
            Kind::Service => "service",
            Kind::Edge => "edge",
        }
    }

    /// The argument whose variable the workflow sets in Terraform Cloud.
    fn argument(self) -> &'static str {
        match self {
            Kind::Service => "image_tag",
            Kind::Edge => "content_hash",
        }
    }
}

/// `<account>.dkr.ecr.<region>.amazonaws.com/<repository>`, split.
struct Ecr {
    account: String,
    region: String,
    repository: String,
}

/// What is deployed, as the spec says it.
enum Target {
    Service { image: String, ecr: Ecr },
    Edge { bucket: String },
}

/// A `[pipeline]` resolved against its spec: where its workflow goes, which
/// template writes it, and the values.
struct Resolved {
    path: String,
    template: &'static str,
    ctx: serde_json::Value,
    /// The key naming what is deployed, and its line (for a second spec writing the same path).
    key: String,
    line: usize,
}

/// Errors of one spec's `[pipeline]`.
struct Found<'a> {
    l: &'a Loaded,
    errors: Vec<GenError>,
}

impl Found<'_> {
    fn err(&mut self, line: usize, key: &str, message: impl Into<String>) {
        self.errors
            .push(GenError::spec(&self.l.file, line, key, message));
    }

    fn line(&self, needle: &str) -> usize {
        line_of(&self.l.src, needle)
    }

    /// The line of `key = ...` in the `[pipeline]` table, or of the table.
    fn key_line(&self, key: &str) -> usize {
        let src = self.l.src.as_str();
        let Some(start) = src.find(TABLE) else {
            return 1;
        };
        let mut offset = start;
        for (i, line) in src[start..].split('\n').enumerate() {
            if i > 0 {
                let t = line.trim_start();
                if t.starts_with('[') {
                    break;
                }
                if t.strip_prefix(key)
                    .is_some_and(|rest| rest.trim_start().starts_with('='))
                {
                    return line_at(src, offset);
                }
            }
            offset += line.len() + 1;
        }
        line_at(src, start)
    }
}

/// A string the spec gives: as it is, or as `{ expr = "var.<name>" }` of a
/// variable with a string default.
fn string_of(s: &WorkspaceSpec, v: &toml::Value) -> Option<String> {
    if let Some(text) = v.as_str() {
        return Some(text.to_string());
    }
    let name = variable_of(v)?;
    s.variables
        .get(name)?
        .default
        .as_ref()?
        .as_str()
        .map(str::to_string)
}

/// The variable an argument is given from: `{ expr = "var.<name>" }`.
fn variable_of(v: &toml::Value) -> Option<&str> {
    let name = raw_expr(v)?.trim().strip_prefix("var.")?;
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    ok.then_some(name)
}

/// `<owner>/<name>`, as GitHub names them.
fn repository_ok(r: &str) -> bool {
    let Some((owner, name)) = r.split_once('/') else {
        return false;
    };
    let owner_ok = !owner.is_empty()
        && owner.len() <= 39
        && !owner.starts_with('-')
        && owner.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let name_ok = !name.is_empty()
        && name.len() <= 100
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    owner_ok && name_ok
}

/// A GitHub variable name as `vars.<name>` reads it, upper-case.
fn variable_name_ok(v: &str) -> bool {
    v.chars()
        .next()
        .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
        && v.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && !v.starts_with("GITHUB_")
}

/// A path inside the repository: relative, without `.` or `..`.
fn relative_path_ok(p: &str) -> bool {
    !p.is_empty()
        && p.split('/').all(|c| !c.is_empty() && c != "." && c != "..")
        && p.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'))
}

/// `24`, `24.4` or `24.4.1`.
fn node_version_ok(v: &str) -> bool {
    let parts: Vec<&str> = v.split('.').collect();
    parts.len() <= 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

/// An AWS region name, such as `ap-northeast-2`.
fn region_ok(r: &str) -> bool {
    r.contains('-')
        && !r.starts_with('-')
        && !r.ends_with('-')
        && r.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// An S3 bucket name: 3 to 63 lowercase letters, digits, `-` and `.`.
fn bucket_ok(b: &str) -> bool {
    (3..=63).contains(&b.len())
        && b.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
}

/// A private ECR repository, without a tag: `<account>.dkr.ecr.<region>.amazonaws.com/<repository>`.
fn ecr_of(image: &str) -> Option<Ecr> {
    let (host, repository) = image.split_once('/')?;
    let (account, rest) = host.split_once(".dkr.ecr.")?;
    let region = rest.strip_suffix(".amazonaws.com")?;
    let ok = account.len() == 12
        && account.chars().all(|c| c.is_ascii_digit())
        && region_ok(region)
        && repository.len() <= 256
        && repository.split('/').all(|p| !p.is_empty())
        && repository.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-' | '/')
        });
    ok.then(|| Ecr {
        account: account.to_string(),
        region: region.to_string(),
        repository: repository.to_string(),
    })
}

/// One spec's `[pipeline]` against the spec: `Ok(None)` without one, its
/// errors (file, line and key) when it does not resolve. What `check` reports
/// itself (a required argument missing, an undeclared variable) is left to it.
fn resolve(l: &Loaded) -> Result<Option<Resolved>, Vec<GenError>> {
    let Some(p) = &l.spec.pipeline else {
        return Ok(None);
    };
    let s = &l.spec;
    let mut f = Found {
        l,
        errors: Vec::new(),
    };
    let table = f.line(TABLE);

    let kind = match (&p.service, &p.edge) {
        (Some(n), None) => Some((Kind::Service, n.as_str())),
        (None, Some(n)) => Some((Kind::Edge, n.as_str())),
        _ => {
            f.err(
                table,
                "pipeline",
                "name what the pipeline deploys, one of: service = \"<name>\" (the image of a fansite_service) or edge = \"<name>\" (the site of a fansite_edge)",
            );
            None
        }
    };
    if !repository_ok(&p.repository) {
        let line = f.key_line("repository");
        f.err(
            line,
            "pipeline.repository",
            format!(
                "{:?}: use <owner>/<name>, the GitHub repository the workflow is committed to",
                p.repository
            ),
        );
    }
    if !variable_name_ok(&p.role_variable) {
        let line = f.key_line("role_variable");
        f.err(
            line,
            "pipeline.role_variable",
            format!(
                "{:?}: a GitHub variable name: upper-case letters, digits and '_', not starting with a digit or GITHUB_",
                p.role_variable
            ),
        );
    }
    type Check = fn(&str) -> bool;
    let settings: [(&str, &Option<String>, Kind, Check, &str); 3] = [
        (
            "dockerfile",
            &p.dockerfile,
            Kind::Service,
            relative_path_ok,
            "a path inside the repository, such as \"Dockerfile\"",
        ),
        (
            "build_dir",
            &p.build_dir,
            Kind::Edge,
            relative_path_ok,
            "a folder inside the repository, such as \"build\"",
        ),
        (
            "node_version",
            &p.node_version,
            Kind::Edge,
            node_version_ok,
            "a Node.js version, such as \"24\" or \"24.4.1\"",
        ),
    ];
    for (key, value, owner, ok, what) in settings {
        let Some(value) = value else {
            continue;
        };
        let line = f.key_line(key);
        match kind {
            Some((k, _)) if k != owner => f.err(
                line,
                &format!("pipeline.{key}"),
                format!(
                    "{key} is a setting of a pipeline with {} = \"<name>\", and this one has {} = ...",
                    owner.resource(),
                    k.resource()
                ),
            ),
            _ if !ok(value) => f.err(
                line,
                &format!("pipeline.{key}"),
                format!("{value:?}: use {what}"),
            ),
            _ => {}
        }
    }
    let region = s.provider.get("region").and_then(|v| string_of(s, v));
    match &region {
        Some(r) if region_ok(r) => {}
        Some(r) => f.err(
            table,
            "provider.region",
            format!("{r:?} is not an AWS region, such as \"ap-northeast-2\": the pipeline signs in to AWS there"),
        ),
        None => f.err(
            table,
            "provider.region",
            "the pipeline signs in to AWS in the stack's region: give region under [provider] as a string, or as { expr = \"var.<name>\" } of a variable with a default",
        ),
    }

    let Some((kind, name)) = kind else {
        return Err(f.errors);
    };
    let ty = kind.resource();
    let Some(args) = s.resources.get(ty).and_then(|m| m.get(name)) else {
        let names: Vec<&str> = s
            .resources
            .get(ty)
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let line = f.key_line(ty);
        f.err(
            line,
            &format!("pipeline.{ty}"),
            if names.is_empty() {
                format!("there is no [resources.{ty}.{name}]: this spec declares no fansite_{ty}")
            } else {
                format!(
                    "there is no [resources.{ty}.{name}] in this spec; it has: {}",
                    names.join(", ")
                )
            },
        );
        return Err(f.errors);
    };
    let resource_line = f.line(&format!("[resources.{ty}.{name}]"));

    // The variable behind the argument the workflow changes.
    let argument = kind.argument();
    let argument_key = format!("resources.{ty}.{name}.{argument}");
    let set_through = format!(
        "the pipeline sets {argument} through a variable in Terraform Cloud: give it as {{ expr = \"var.<name>\" }}"
    );
    let variable = match args.get(argument) {
        // fansite_service requires image_tag: check reports it missing.
        None if kind == Kind::Service => None,
        None => {
            f.err(resource_line, &argument_key, set_through);
            None
        }
        Some(v) => match variable_of(v) {
            None => {
                f.err(resource_line, &argument_key, set_through);
                None
            }
            // Undeclared: check reports it.
            Some(var) => match s.variables.get(var) {
                Some(declared) if declared.description.contains("${{") => {
                    let line = f.line(&format!("[variables.{var}]"));
                    f.err(
                        line,
                        &format!("variables.{var}.description"),
                        "the workflow carries this description, which cannot hold \"${{\" (GitHub would read an expression)",
                    );
                    None
                }
                Some(declared) => Some((var.to_string(), declared.description.clone())),
                None => None,
            },
        },
    };

    let target = match kind {
        Kind::Service => {
            let key = format!("resources.{ty}.{name}.image");
            match args.get("image").map(|v| string_of(s, v)) {
                // Required: check reports it missing.
                None => None,
                Some(None) => {
                    f.err(
                        resource_line,
                        &key,
                        "the pipeline pushes to the image repository: give image as a string, or as { expr = \"var.<name>\" } of a variable with a default",
                    );
                    None
                }
                Some(Some(image)) => match ecr_of(&image) {
                    None => {
                        f.err(
                            resource_line,
                            &key,
                            format!("{image:?} is not an ECR repository such as \"123456789012.dkr.ecr.<region>.amazonaws.com/<name>\", which the pipeline pushes to"),
                        );
                        None
                    }
                    Some(ecr) => {
                        if let Some(r) = region.as_ref().filter(|r| **r != ecr.region) {
                            f.err(
                                resource_line,
                                &key,
                                format!(
                                    "the image's registry is in {}, and the pipeline signs in to the stack's region {r} (provider.region): push to a repository in {r}",
                                    ecr.region
                                ),
                            );
                        }
                        Some(Target::Service { image, ecr })
                    }
                },
            }
        }
        Kind::Edge => {
            let key = format!("resources.{ty}.{name}.name");
            match args.get("name").map(|v| string_of(s, v)) {
                // Required: check reports it missing.
                None => None,
                Some(None) => {
                    f.err(
                        resource_line,
                        &key,
                        "the pipeline uploads to the edge's bucket, which is its name: give name as a string, or as { expr = \"var.<name>\" } of a variable with a default",
                    );
                    None
                }
                Some(Some(bucket)) if !bucket_ok(&bucket) => {
                    f.err(
                        resource_line,
                        &key,
                        format!("{bucket:?} is not an S3 bucket name (3 to 63 lowercase letters, digits, '-' and '.'), which the pipeline uploads to"),
                    );
                    None
                }
                Some(Some(bucket)) => Some(Target::Edge { bucket }),
            }
        }
    };

    if !f.errors.is_empty() {
        return Err(f.errors);
    }
    let (Some(region), Some((variable, description)), Some(target)) = (region, variable, target)
    else {
        return Err(f.errors);
    };
    let workflow = format!("{name}-release");
    let file = format!(".github/workflows/{workflow}.yml");
    let mut ctx = json!({
        "header": header(&l.file, false),
        "name": name,
        "workflow": workflow,
        "file": file,
        "resource": format!("fansite_{ty}.{name}"),
        "repository": p.repository,
        "role_variable": p.role_variable,
        "role_ref": format!("vars.{}", p.role_variable),
        "region": region,
        "organization": s.organization,
        "workspace": s.name,
        "auto_apply": s.auto_apply,
        "variable": variable,
        "variable_description": description,
        "runner": RUNNER,
        "tfc_host": TFC_HOST,
        "actions": {
            "checkout": CHECKOUT,
            "setup_node": SETUP_NODE,
            "upload_artifact": UPLOAD_ARTIFACT,
            "download_artifact": DOWNLOAD_ARTIFACT,
            "configure_aws_credentials": CONFIGURE_AWS_CREDENTIALS,
            "amazon_ecr_login": AMAZON_ECR_LOGIN,
        },
    });
    let template = match target {
        Target::Service { image, ecr } => {
            ctx["image"] = json!(image);
            ctx["account"] = json!(ecr.account);
            ctx["ecr_repository"] = json!(ecr.repository);
            ctx["dockerfile"] = json!(p.dockerfile.as_deref().unwrap_or(DEFAULT_DOCKERFILE));
            ctx["run_needs"] = json!("[tag, image]");
            ctx["run_value"] = json!("needs.tag.outputs.version");
            SERVICE_WORKFLOW
        }
        Target::Edge { bucket } => {
            ctx["bucket"] = json!(bucket);
            ctx["build_dir"] = json!(p.build_dir.as_deref().unwrap_or(DEFAULT_BUILD_DIR));
            ctx["node_version"] = json!(p.node_version.as_deref().unwrap_or(DEFAULT_NODE_VERSION));
            ctx["run_needs"] = json!("upload");
            ctx["run_value"] = json!("needs.upload.outputs.content_hash");
            EDGE_WORKFLOW
        }
    };
    Ok(Some(Resolved {
        path: format!("pipelines/{name}/{file}"),
        template,
        ctx,
        key: format!("pipeline.{ty}"),
        line: f.key_line(ty),
    }))
}

/// Every `[pipeline]` of the set: its settings, what it takes from its spec,
/// and no two writing the same workflow. `check::check` reports these errors
/// with its own.
pub fn check(specs: &[Loaded]) -> Vec<GenError> {
    let mut errors = Vec::new();
    let mut paths: BTreeMap<String, &str> = BTreeMap::new();
    for l in specs {
        match resolve(l) {
            Ok(Some(r)) => {
                if let Some(other) = paths.insert(r.path.clone(), l.file.as_str()) {
                    errors.push(GenError::spec(
                        &l.file,
                        r.line,
                        &r.key,
                        format!(
                            "{} is also the workflow of {other}'s [pipeline]: deploy a resource of another name",
                            r.path
                        ),
                    ));
                }
            }
            Ok(None) => {}
            Err(e) => errors.extend(e),
        }
    }
    errors
}

fn registry(templates: &Path) -> Result<Handlebars<'static>, GenError> {
    let mut h = Handlebars::new();
    h.set_strict_mode(true);
    h.register_escape_fn(handlebars::no_escape);
    h.register_helper("gh", Box::new(github_expr));
    h.register_helper("quote", Box::new(yaml_quote));
    let partial = templates.join("partials/header.hbs");
    let text = std::fs::read_to_string(&partial)
        .map_err(|e| GenError::Template(format!("{}: {e}", partial.display())))?;
    h.register_partial("header", text)
        .map_err(|e| GenError::Template(format!("{}: {e}", partial.display())))?;
    for name in TEMPLATES {
        let path = templates.join(format!("{name}.hbs"));
        let text = std::fs::read_to_string(&path)
            .map_err(|e| GenError::Template(format!("{}: {e}", path.display())))?;
        h.register_template_string(name, text)
            .map_err(|e| GenError::Template(format!("{}: {e}", path.display())))?;
    }
    Ok(h)
}

/// The workspace variable a spec's `[pipeline]` sets through the Terraform
/// Cloud API on each release (`image_tag`, say), if it has one.
pub fn variable_set_by_pipeline(l: &Loaded) -> Option<String> {
    resolve(l)
        .ok()
        .flatten()
        .and_then(|r| r.ctx["variable"].as_str().map(str::to_string))
}

/// The workflows of the checked set's `[pipeline]` tables: path → text.
pub fn render(model: &Model, templates: &Path) -> Result<BTreeMap<String, String>, GenError> {
    let mut resolved = Vec::new();
    for w in &model.workspaces {
        match resolve(&w.loaded) {
            Ok(Some(r)) => resolved.push(r),
            Ok(None) => {}
            Err(errors) => {
                return Err(errors.into_iter().next().unwrap_or_else(|| {
                    GenError::Template(format!("{}: [pipeline] does not resolve", w.loaded.file))
                }))
            }
        }
    }
    let mut out = BTreeMap::new();
    if resolved.is_empty() {
        return Ok(out);
    }
    let h = registry(templates)?;
    let render_one = |name: &str, ctx: &serde_json::Value| {
        h.render(name, ctx)
            .map_err(|e| GenError::Template(format!("templates/{name}.hbs: {e}")))
    };
    for r in resolved {
        let mut ctx = r.ctx;
        // The jobs every workflow has, written into it as they are.
        for (key, name) in [("tag_job", TAG_JOB), ("run_job", RUN_JOB)] {
            let text = render_one(name, &ctx)?;
            ctx[key] = json!(text.trim_end_matches('\n'));
        }
        out.insert(r.path, render_one(r.template, &ctx)?);
    }
    Ok(out)
}
