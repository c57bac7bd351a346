//! The checked model through the Handlebars templates (strict mode, no HTML
//! escaping). HCL bodies are built with `hcl`, so that every file is already
//! `terraform fmt`-clean; the templates lay out the files around them.

use std::collections::BTreeMap;
use std::path::Path;

use handlebars::Handlebars;
use serde_json::json;
use terraform_provider_fansite::schema::Block as SchemaBlock;

use crate::check::{output_ref, raw_expr, Model, Ws};
use crate::hcl::{Block, Body, Expr, Item};
use crate::spec::{Category, Grafana, WorkspaceSpec, COUNT, GRAFANA_URL_OUTPUT, OBSERVABILITY};
use crate::{header, GenError};

/// Where state lives: Terraform Cloud (what ships), or a local file (the demo).
/// The local form has no bootstrap and no Grafana part (`[grafana]`): the demo
/// runs offline, where hashicorp/aws and grafana/grafana cannot be installed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Cloud,
    Local,
}

pub type Rendered = BTreeMap<String, String>;

const TEMPLATES: &[&str] = &[
    "workspace/versions.tf",
    "workspace/providers.tf",
    "workspace/main.tf",
    "workspace/variables.tf",
    "workspace/outputs.tf",
    "workspace/README.md",
    "bootstrap/versions.tf",
    "bootstrap/variables.tf",
    "bootstrap/main.tf",
];

/// The hashicorp/tfe versions the generated code accepts.
const TFE_SOURCE: &str = "hashicorp/tfe";
const TFE_VERSION: &str = "~> 0.58";

/// The providers of the Grafana part (`[grafana]`), and the versions it accepts.
const AWS_SOURCE: &str = "hashicorp/aws";
const AWS_VERSION: &str = "~> 6.0";
const GRAFANA_SOURCE: &str = "grafana/grafana";
const GRAFANA_VERSION: &str = "~> 4.0";

/// The Grafana version of the Amazon Managed Grafana workspace (service accounts need 9.4 or later).
const GRAFANA_WORKSPACE_VERSION: &str = "10.4";

/// The AWS managed policy that lets Grafana read CloudWatch metrics, logs and alarms.
const GRAFANA_CLOUDWATCH_POLICY: &str =
    "arn:aws:iam::aws:policy/service-role/AmazonGrafanaCloudWatchAccess";

/// What the Grafana part's output is.
const GRAFANA_URL_DESCRIPTION: &str =
    "URL of the Amazon Managed Grafana workspace, where the dashboard is; sign in through IAM Identity Center.";

/// The address of the token the grafana provider signs in with.
const GRAFANA_TOKEN: &str = "aws_grafana_workspace_service_account_token.terraform";

/// The provider versions the generated code accepts: this release's minor
/// line (`~> 0.2` for 0.2.x), so a workspace takes the fixes of its release
/// line and nothing that may change its schema.
pub fn provider_version_constraint() -> String {
    let v = env!("CARGO_PKG_VERSION");
    let mut parts = v.split('.');
    format!(
        "~> {}.{}",
        parts.next().unwrap_or("0"),
        parts.next().unwrap_or("0")
    )
}

fn registry(templates: &Path) -> Result<Handlebars<'static>, GenError> {
    let mut h = Handlebars::new();
    h.set_strict_mode(true);
    h.register_escape_fn(handlebars::no_escape);
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

fn value_expr(v: &toml::Value, refs: &dyn Fn(&str, &str) -> String) -> Expr {
    if let Some(e) = raw_expr(v) {
        return Expr::raw(e);
    }
    if let Some((ws, out)) = output_ref(v) {
        return Expr::raw(refs(&ws, &out));
    }
    match v {
        toml::Value::String(s) => Expr::str(s),
        toml::Value::Integer(i) => Expr::Num(i.to_string()),
        toml::Value::Float(f) => Expr::Num(f.to_string()),
        toml::Value::Boolean(b) => Expr::Bool(*b),
        toml::Value::Datetime(d) => Expr::str(d.to_string()),
        toml::Value::Array(items) => {
            Expr::List(items.iter().map(|i| value_expr(i, refs)).collect())
        }
        toml::Value::Table(t) => Expr::Object(
            t.iter()
                .map(|(k, v)| (k.clone(), value_expr(v, refs)))
                .collect(),
        ),
    }
}

/// A block's arguments in the schema's order: attributes, then nested blocks.
fn body_of(args: &toml::Table, schema: &SchemaBlock, refs: &dyn Fn(&str, &str) -> String) -> Body {
    let mut items = Vec::new();
    for a in &schema.attributes {
        if let Some(v) = args.get(a.name) {
            items.push(Item::Attr(a.name.to_string(), value_expr(v, refs)));
        }
    }
    for b in &schema.blocks {
        // One table is one block; an array of tables (`[[...]]`) is one block each.
        let tables: Vec<&toml::Table> = match args.get(b.name) {
            Some(toml::Value::Table(t)) => vec![t],
            Some(toml::Value::Array(a)) => a.iter().filter_map(toml::Value::as_table).collect(),
            _ => vec![],
        };
        for t in tables {
            items.push(Item::Block(Block {
                kind: b.name.to_string(),
                labels: vec![],
                body: body_of(t, &b.block, refs),
            }));
        }
    }
    Body { items }
}

/// The Grafana part of a workspace (Terraform Cloud form only): the aws and
/// grafana providers, the Grafana workspace with its role, service account and
/// token, the CloudWatch data source and the dashboard, and its URL as an output.
struct GrafanaPart {
    providers: Vec<String>,
    blocks: Vec<String>,
    output: String,
    /// (type, name) of each resource, for the README.
    rows: Vec<(String, String)>,
    /// One sentence for the README.
    summary: String,
}

fn grafana_part(
    s: &WorkspaceSpec,
    g: &Grafana,
    refs: &dyn Fn(&str, &str) -> String,
) -> GrafanaPart {
    // `check` makes sure that [provider] has a region.
    let region = s
        .provider
        .get("region")
        .map(|v| value_expr(v, refs))
        .unwrap_or(Expr::Null);
    let mut aws = Block::new("provider", &["aws"]).attr("region", region.clone());
    if let Some(tags) = s
        .provider
        .get("default_tags")
        .and_then(toml::Value::as_table)
        .and_then(|t| t.get("tags"))
    {
        aws = aws.block(Block::new("default_tags", &[]).attr("tags", value_expr(tags, refs)));
    }
    let url = "\"https://${aws_grafana_workspace.main.endpoint}\"";
    let grafana = Block::new("provider", &["grafana"])
        .attr("url", Expr::raw(url))
        .attr("auth", Expr::raw(format!("{GRAFANA_TOKEN}.key")));
    let token_comment = "\
# The grafana provider signs in with this token's key. The aws provider has no
# ephemeral resource for it, so the key is kept in this workspace's state, for
# seconds_to_live after the apply that made it; then it stops working. A later
# run replaces the token first: start it with -replace on this resource and
# without refresh (the expired key cannot read the Grafana resources).
";
    let blocks = vec![
        Block::new("data", &["aws_caller_identity", "current"]).render(),
        Block::new("data", &["aws_iam_policy_document", "grafana_assume"])
            .block(
                Block::new("statement", &[])
                    .attr("actions", Expr::strings(["sts:AssumeRole"]))
                    .block(
                        Block::new("principals", &[])
                            .attr("type", Expr::str("Service"))
                            .attr("identifiers", Expr::strings(["grafana.amazonaws.com"])),
                    )
                    .block(
                        Block::new("condition", &[])
                            .attr("test", Expr::str("StringEquals"))
                            .attr("variable", Expr::str("aws:SourceAccount"))
                            .attr(
                                "values",
                                Expr::List(vec![Expr::raw(
                                    "data.aws_caller_identity.current.account_id",
                                )]),
                            ),
                    ),
            )
            .render(),
        Block::new("resource", &["aws_iam_role", "grafana"])
            .attr("name", Expr::str(format!("{}-grafana", g.name)))
            .attr(
                "assume_role_policy",
                Expr::raw("data.aws_iam_policy_document.grafana_assume.json"),
            )
            .render(),
        Block::new(
            "resource",
            &["aws_iam_role_policy_attachment", "grafana_cloudwatch"],
        )
        .attr("role", Expr::raw("aws_iam_role.grafana.name"))
        .attr("policy_arn", Expr::str(GRAFANA_CLOUDWATCH_POLICY))
        .render(),
        Block::new("resource", &["aws_grafana_workspace", "main"])
            .attr("name", Expr::str(&g.name))
            .attr(
                "description",
                Expr::str(format!(
                    "The dashboard of fansite_{OBSERVABILITY}.{} in {}.",
                    g.observability, s.name
                )),
            )
            .attr("account_access_type", Expr::str("CURRENT_ACCOUNT"))
            .attr("authentication_providers", Expr::strings(["AWS_SSO"]))
            .attr("permission_type", Expr::str("SERVICE_MANAGED"))
            .attr("data_sources", Expr::strings(["CLOUDWATCH"]))
            .attr("role_arn", Expr::raw("aws_iam_role.grafana.arn"))
            .attr("grafana_version", Expr::str(GRAFANA_WORKSPACE_VERSION))
            .render(),
        Block::new(
            "resource",
            &["aws_grafana_workspace_service_account", "terraform"],
        )
        .attr("name", Expr::str("terraform"))
        .attr("grafana_role", Expr::str("ADMIN"))
        .attr("workspace_id", Expr::raw("aws_grafana_workspace.main.id"))
        .render(),
        format!(
            "{token_comment}{}",
            Block::new(
                "resource",
                &["aws_grafana_workspace_service_account_token", "terraform"],
            )
            .attr("name", Expr::str("terraform"))
            .attr(
                "service_account_id",
                Expr::raw("aws_grafana_workspace_service_account.terraform.service_account_id"),
            )
            .attr(
                "seconds_to_live",
                Expr::Num(g.spec.token_seconds.to_string())
            )
            .attr("workspace_id", Expr::raw("aws_grafana_workspace.main.id"))
            .render()
        ),
        Block::new("resource", &["grafana_data_source", "cloudwatch"])
            .attr("type", Expr::str("cloudwatch"))
            .attr("name", Expr::str(format!("{}-cloudwatch", g.name)))
            .attr(
                "json_data_encoded",
                Expr::Call(
                    "jsonencode".into(),
                    vec![Expr::Object(vec![
                        ("authType".into(), Expr::str("ec2_iam_role")),
                        ("defaultRegion".into(), region),
                    ])],
                ),
            )
            .render(),
        Block::new("resource", &["grafana_dashboard", &g.observability])
            .attr(
                "config_json",
                Expr::raw(format!(
                    "fansite_{OBSERVABILITY}.{}.grafana_dashboard_json",
                    g.observability
                )),
            )
            .render(),
    ];
    let rows: Vec<(String, String)> = [
        ("aws_iam_role", "grafana"),
        ("aws_iam_role_policy_attachment", "grafana_cloudwatch"),
        ("aws_grafana_workspace", "main"),
        ("aws_grafana_workspace_service_account", "terraform"),
        ("aws_grafana_workspace_service_account_token", "terraform"),
        ("grafana_data_source", "cloudwatch"),
        ("grafana_dashboard", g.observability.as_str()),
    ]
    .iter()
    .map(|(t, n)| (t.to_string(), n.to_string()))
    .collect();
    GrafanaPart {
        providers: vec![aws.render(), grafana.render()],
        blocks,
        output: Block::new("output", &[GRAFANA_URL_OUTPUT])
            .attr("description", Expr::str(GRAFANA_URL_DESCRIPTION))
            .attr("value", Expr::raw(url))
            .render(),
        rows,
        summary: format!(
            "the Amazon Managed Grafana workspace `{}` (sign-in through IAM Identity Center) shows the dashboard of `fansite_{OBSERVABILITY}.{}` through a CloudWatch data source. The grafana provider signs in with a service-account token that lives {} seconds, and whose key is in the state for that time. The local form (`--backend local`) leaves Grafana out.",
            g.name, g.observability, g.spec.token_seconds
        ),
    }
}

/// `../..` from one working directory to another.
fn relative(from: &str, to: &str) -> String {
    let depth = from.split('/').filter(|p| !p.is_empty()).count();
    format!("{}{to}", "../".repeat(depth))
}

fn version_floor(v: &str) -> String {
    let mut parts = v.split('.');
    format!(
        ">= {}.{}.0",
        parts.next().unwrap_or("1"),
        parts.next().unwrap_or("0")
    )
}

struct Ctx<'a> {
    model: &'a Model,
    by_id: BTreeMap<&'a str, &'a Ws>,
    backend: Backend,
}

impl Ctx<'_> {
    /// How a workspace reads another's output.
    fn output_ref(&self, ws: &Ws, source: &str, out: &str) -> String {
        match self.backend {
            Backend::Local => format!("data.terraform_remote_state.{source}.outputs.{out}"),
            Backend::Cloud => {
                let sensitive = self
                    .by_id
                    .get(source)
                    .and_then(|s| s.loaded.spec.outputs.get(out))
                    .is_some_and(|o| o.sensitive);
                let _ = ws;
                let field = if sensitive {
                    "values"
                } else {
                    "nonsensitive_values"
                };
                format!("data.tfe_outputs.{source}.{field}.{out}")
            }
        }
    }

    fn workspace_files(&self, h: &Handlebars, ws: &Ws, out: &mut Rendered) -> Result<(), GenError> {
        let l = &ws.loaded;
        let s = &l.spec;
        let refs = |source: &str, o: &str| self.output_ref(ws, source, o);
        let cloud = self.backend == Backend::Cloud;
        let needs_tfe = cloud && !s.reads.is_empty();
        // The Grafana part needs hashicorp/aws and grafana/grafana: the local
        // form, which runs offline against the local endpoint, leaves it out.
        let grafana = if cloud {
            s.grafana().map(|g| grafana_part(s, &g, &refs))
        } else {
            None
        };

        let data: Vec<String> = s
            .reads
            .iter()
            .filter_map(|r| self.by_id.get(r.as_str()).map(|src| (r, src)))
            .map(|(r, src)| match self.backend {
                Backend::Cloud => Block::new("data", &["tfe_outputs", r])
                    .attr("organization", Expr::str(&src.loaded.spec.organization))
                    .attr("workspace", Expr::str(&src.loaded.spec.name))
                    .render(),
                Backend::Local => Block::new("data", &["terraform_remote_state", r])
                    .attr("backend", Expr::str("local"))
                    .attr(
                        "config",
                        Expr::Object(vec![(
                            "path".into(),
                            Expr::str(format!(
                                "{}/terraform.tfstate",
                                relative(&s.working_directory, &src.loaded.spec.working_directory)
                            )),
                        )]),
                    )
                    .render(),
            })
            .collect();
        let resources: Vec<String> = s
            .resources
            .iter()
            .flat_map(|(ty, by_name)| by_name.iter().map(move |(name, args)| (ty, name, args)))
            .filter_map(|(ty, name, args)| {
                let schema = self.model.resources.get(ty)?;
                let ty = format!("fansite_{ty}");
                let mut body = body_of(args, schema, &refs);
                if let Some(count) = args.get(COUNT) {
                    // The meta-argument first, a blank line apart from the arguments.
                    let mut items = vec![Item::Attr(COUNT.into(), value_expr(count, &refs))];
                    if !body.items.is_empty() {
                        items.push(Item::Blank);
                    }
                    items.append(&mut body.items);
                    body.items = items;
                }
                Some(
                    Block {
                        kind: "resource".into(),
                        labels: vec![ty, name.clone()],
                        body,
                    }
                    .render(),
                )
            })
            .collect();
        let mut providers = vec![Block {
            kind: "provider".into(),
            labels: vec!["fansite".into()],
            body: body_of(&s.provider, &self.model.provider, &refs),
        }
        .render()];
        let variables: Vec<String> = s
            .variables
            .iter()
            .filter(|(_, v)| v.category == Category::Terraform)
            .map(|(name, v)| {
                let mut b = Block::new("variable", &[name])
                    .attr("description", Expr::str(&v.description))
                    .attr(
                        "type",
                        Expr::raw(v.ty.clone().unwrap_or_else(|| "string".into())),
                    );
                if v.nullable_default {
                    b = b.attr("default", Expr::Null);
                } else if let Some(d) = &v.default {
                    b = b.attr("default", value_expr(d, &refs));
                }
                if v.sensitive {
                    b = b.attr("sensitive", Expr::Bool(true));
                }
                b.render()
            })
            .collect();
        let mut outputs: Vec<(String, String)> = s
            .outputs
            .iter()
            .map(|(name, o)| {
                let value = match (&o.value, o.from.as_deref().and_then(|f| f.split_once('.'))) {
                    (Some(v), _) => v.clone(),
                    (None, Some((source, out))) => refs(source, out),
                    (None, None) => "null".into(),
                };
                let mut b = Block::new("output", &[name])
                    .attr("description", Expr::str(&o.description))
                    .attr("value", Expr::raw(value));
                if o.sensitive {
                    b = b.attr("sensitive", Expr::Bool(true));
                }
                (name.clone(), b.render())
            })
            .collect();
        let mut resource_rows: Vec<serde_json::Value> = s
            .resources
            .iter()
            .flat_map(|(ty, m)| {
                m.keys()
                    .map(move |n| json!({"type": format!("fansite_{ty}"), "name": n}))
            })
            .collect();
        let mut output_rows: Vec<(String, serde_json::Value)> = s
            .outputs
            .iter()
            .map(|(n, o)| {
                (
                    n.clone(),
                    json!({"name": n, "description": o.description, "sensitive": o.sensitive}),
                )
            })
            .collect();
        let mut grafana_blocks: Vec<String> = Vec::new();
        let mut grafana_summary = String::new();
        if let Some(part) = grafana {
            providers.extend(part.providers);
            grafana_blocks = part.blocks;
            outputs.push((GRAFANA_URL_OUTPUT.to_string(), part.output));
            output_rows.push((
                GRAFANA_URL_OUTPUT.to_string(),
                json!({"name": GRAFANA_URL_OUTPUT, "description": GRAFANA_URL_DESCRIPTION, "sensitive": false}),
            ));
            resource_rows.extend(part.rows.iter().map(|(t, n)| json!({"type": t, "name": n})));
            grafana_summary = part.summary;
        }
        // The outputs in name order, the Grafana part's among the spec's.
        outputs.sort_by(|a, b| a.0.cmp(&b.0));
        output_rows.sort_by(|a, b| a.0.cmp(&b.0));
        let outputs: Vec<String> = outputs.into_iter().map(|(_, text)| text).collect();
        let output_rows: Vec<serde_json::Value> =
            output_rows.into_iter().map(|(_, row)| row).collect();
        let ctx = json!({
            "header": header(&l.file, false),
            "md_header": header(&l.file, true),
            "cloud": cloud,
            "organization": s.organization,
            "workspace_name": s.name,
            "project": s.project,
            "required_version": version_floor(&s.terraform_version),
            "terraform_version": s.terraform_version,
            "fansite_source": s.provider_source().to_string(),
            "fansite_version": provider_version_constraint(),
            "needs_tfe": needs_tfe,
            "tfe_source": TFE_SOURCE,
            "tfe_version": TFE_VERSION,
            "grafana": !grafana_blocks.is_empty(),
            "aws_source": AWS_SOURCE,
            "aws_version": AWS_VERSION,
            "grafana_source": GRAFANA_SOURCE,
            "grafana_version": GRAFANA_VERSION,
            "grafana_summary": grafana_summary,
            "providers": providers,
            "data": data,
            "resources": resources,
            "grafana_blocks": grafana_blocks,
            "variables": variables,
            "outputs": outputs,
            "description": s.description,
            "working_directory": s.working_directory,
            "trigger_patterns": s.trigger_patterns,
            "auto_apply": s.auto_apply,
            "reads": s.reads.iter().filter_map(|r| self.by_id.get(r.as_str()).map(|w| json!({"id": r, "name": w.loaded.spec.name}))).collect::<Vec<_>>(),
            "readers": ws.readers.iter().filter_map(|r| self.by_id.get(r.as_str()).map(|w| json!({"id": r, "name": w.loaded.spec.name}))).collect::<Vec<_>>(),
            "resource_rows": resource_rows,
            "variable_rows": s.variables.iter().map(|(n, v)| json!({
                "name": n,
                "category": match v.category { Category::Terraform => "terraform", Category::Env => "env" },
                "sensitive": v.sensitive,
                "set_in": if v.default.is_some() || v.nullable_default { "default in variables.tf" } else { "Terraform Cloud (bootstrap)" },
                "description": v.description,
            })).collect::<Vec<_>>(),
            "output_rows": output_rows,
        });
        for file in [
            "versions.tf",
            "providers.tf",
            "main.tf",
            "variables.tf",
            "outputs.tf",
            "README.md",
        ] {
            let text = h
                .render(&format!("workspace/{file}"), &ctx)
                .map_err(|e| GenError::Template(format!("templates/workspace/{file}.hbs: {e}")))?;
            out.insert(format!("{}/{file}", s.working_directory), text);
        }
        Ok(())
    }

    fn bootstrap_files(&self, h: &Handlebars, out: &mut Rendered) -> Result<(), GenError> {
        let wss = &self.model.workspaces;
        let Some(first) = wss.first() else {
            return Ok(());
        };
        let dir = match first.loaded.spec.working_directory.rsplit_once('/') {
            Some((parent, _)) => format!("{parent}/bootstrap"),
            None => "bootstrap".into(),
        };
        let org = first.loaded.spec.organization.clone();
        let mut blocks: Vec<String> = Vec::new();
        let mut variables: Vec<String> = vec![
            Block::new("variable", &["vcs_oauth_token_id"])
                .attr("description", Expr::str("OAuth token ID of the VCS connection the workspaces run from (Organization settings → VCS providers)."))
                .attr("type", Expr::raw("string"))
                .render(),
            Block::new("variable", &["aws_access_key_id"])
                .attr("description", Expr::str("AWS access key ID for every workspace's runs (environment variable AWS_ACCESS_KEY_ID)."))
                .attr("type", Expr::raw("string"))
                .attr("sensitive", Expr::Bool(true))
                .render(),
            Block::new("variable", &["aws_secret_access_key"])
                .attr("description", Expr::str("AWS secret access key for every workspace's runs (environment variable AWS_SECRET_ACCESS_KEY)."))
                .attr("type", Expr::raw("string"))
                .attr("sensitive", Expr::Bool(true))
                .render(),
        ];
        // Projects, once each.
        let mut projects: BTreeMap<(String, String), String> = BTreeMap::new();
        for w in wss {
            let key = (
                w.loaded.spec.organization.clone(),
                w.loaded.spec.project.clone(),
            );
            let n = projects.len();
            projects.entry(key).or_insert_with(|| {
                if n == 0 {
                    "main".to_string()
                } else {
                    format!("p{n}")
                }
            });
        }
        for ((o, p), id) in &projects {
            blocks.push(
                Block::new("resource", &["tfe_project", id])
                    .attr("organization", Expr::str(o))
                    .attr("name", Expr::str(p))
                    .render(),
            );
        }
        for w in wss {
            let s = &w.loaded.spec;
            let id = &w.loaded.id;
            let project = &projects[&(s.organization.clone(), s.project.clone())];
            let mut b = Block::new("resource", &["tfe_workspace", id])
                .attr("name", Expr::str(&s.name))
                .attr("organization", Expr::str(&s.organization))
                .attr("project_id", Expr::raw(format!("tfe_project.{project}.id")));
            if !s.description.is_empty() {
                b = b.attr("description", Expr::str(&s.description));
            }
            b = b
                .attr("working_directory", Expr::str(&s.working_directory))
                .attr(
                    "trigger_patterns",
                    Expr::strings(s.trigger_patterns.clone()),
                )
                .attr("auto_apply", Expr::Bool(s.auto_apply))
                .attr("queue_all_runs", Expr::Bool(s.queue_all_runs))
                .attr("terraform_version", Expr::str(&s.terraform_version))
                .attr("tag_names", Expr::strings(s.tags.clone()))
                .block(
                    Block::new("vcs_repo", &[])
                        .attr("identifier", Expr::str(&s.vcs_repo.identifier))
                        .attr("branch", Expr::str(&s.vcs_repo.branch))
                        .attr("oauth_token_id", Expr::raw("var.vcs_oauth_token_id")),
                );
            blocks.push(b.render());
            blocks.push(
                Block::new("resource", &["tfe_workspace_settings", id])
                    .attr("workspace_id", Expr::raw(format!("tfe_workspace.{id}.id")))
                    .attr("execution_mode", Expr::str(&s.execution_mode))
                    .attr("global_remote_state", Expr::Bool(false))
                    .attr(
                        "remote_state_consumer_ids",
                        Expr::List(
                            w.readers
                                .iter()
                                .map(|r| Expr::raw(format!("tfe_workspace.{r}.id")))
                                .collect(),
                        ),
                    )
                    .render(),
            );
            let released = crate::workflows::variable_set_by_pipeline(&w.loaded);
            for (name, v) in &s.variables {
                if v.default.is_some() || v.nullable_default {
                    continue;
                }
                let input = format!("{id}_{name}");
                let category = match v.category {
                    Category::Terraform => "terraform",
                    Category::Env => "env",
                };
                let mut var = Block::new("variable", &[&input])
                    .attr(
                        "description",
                        Expr::str(format!(
                            "{} ({} variable {name} of workspace {})",
                            v.description, category, s.name
                        )),
                    )
                    .attr("type", Expr::raw("string"));
                if v.sensitive {
                    var = var.attr("sensitive", Expr::Bool(true));
                }
                variables.push(var.render());
                let mut tfe_var = Block::new("resource", &["tfe_variable", &input])
                    .attr("workspace_id", Expr::raw(format!("tfe_workspace.{id}.id")))
                    .attr("key", Expr::str(name))
                    .attr("value", Expr::raw(format!("var.{input}")))
                    .attr("category", Expr::str(category))
                    .attr("hcl", Expr::Bool(v.hcl))
                    .attr("sensitive", Expr::Bool(v.sensitive))
                    .attr("description", Expr::str(&v.description));
                if released.as_deref() == Some(name.as_str()) {
                    // The release workflow sets it on every pushed tag: the
                    // bootstrap gives only its first value, and a later apply
                    // of the bootstrap does not roll the service back.
                    tfe_var = tfe_var.blank().block(
                        Block::new("lifecycle", &[])
                            .attr("ignore_changes", Expr::List(vec![Expr::raw("value")])),
                    );
                }
                blocks.push(tfe_var.render());
            }
        }
        // One variable set with the AWS keys, shared by every workspace.
        blocks.push(
            Block::new("resource", &["tfe_variable_set", "aws"])
                .attr(
                    "name",
                    Expr::str(format!(
                        "{}-aws",
                        projects
                            .keys()
                            .next()
                            .map(|k| k.1.clone())
                            .unwrap_or_default()
                    )),
                )
                .attr(
                    "description",
                    Expr::str("AWS keys for the runs of every fansite workspace."),
                )
                .attr("organization", Expr::str(&org))
                .render(),
        );
        for (id, key, var) in [
            (
                "aws_access_key_id",
                "AWS_ACCESS_KEY_ID",
                "aws_access_key_id",
            ),
            (
                "aws_secret_access_key",
                "AWS_SECRET_ACCESS_KEY",
                "aws_secret_access_key",
            ),
        ] {
            blocks.push(
                Block::new("resource", &["tfe_variable", id])
                    .attr("variable_set_id", Expr::raw("tfe_variable_set.aws.id"))
                    .attr("key", Expr::str(key))
                    .attr("value", Expr::raw(format!("var.{var}")))
                    .attr("category", Expr::str("env"))
                    .attr("sensitive", Expr::Bool(true))
                    .render(),
            );
        }
        for w in wss {
            let id = &w.loaded.id;
            blocks.push(
                Block::new(
                    "resource",
                    &["tfe_workspace_variable_set", &format!("aws_{id}")],
                )
                .attr("variable_set_id", Expr::raw("tfe_variable_set.aws.id"))
                .attr("workspace_id", Expr::raw(format!("tfe_workspace.{id}.id")))
                .render(),
            );
        }
        // A run of a workspace that is read queues a run of each reader.
        for w in wss {
            for r in &w.loaded.spec.reads {
                blocks.push(
                    Block::new(
                        "resource",
                        &["tfe_run_trigger", &format!("{}_after_{r}", w.loaded.id)],
                    )
                    .attr(
                        "workspace_id",
                        Expr::raw(format!("tfe_workspace.{}.id", w.loaded.id)),
                    )
                    .attr("sourceable_id", Expr::raw(format!("tfe_workspace.{r}.id")))
                    .render(),
                );
            }
        }
        // The private registry that serves the provider: its signing key and
        // the provider, once per organization whose workspaces install from it.
        // Versions and their files are uploaded by scripts/publish.py (the tfe
        // provider has no resources for them).
        let private: std::collections::BTreeSet<String> = wss
            .iter()
            .map(|w| w.loaded.spec.provider_source())
            .filter(|p| p.is_tfc_private())
            .map(|p| p.namespace)
            .collect();
        if !private.is_empty() {
            variables.push(
                Block::new("variable", &["release_gpg_public_key"])
                    .attr("description", Expr::str("ASCII-armored public key of the RSA key that signs the provider's releases (the key of `make release`), for the private registry."))
                    .attr("type", Expr::raw("string"))
                    .render(),
            );
        }
        for ns in &private {
            let id = ns.replace(|c: char| !c.is_ascii_alphanumeric() && c != '_', "_");
            blocks.push(
                Block::new("resource", &["tfe_registry_gpg_key", &id])
                    .attr("organization", Expr::str(ns))
                    .attr("ascii_armor", Expr::raw("var.release_gpg_public_key"))
                    .render(),
            );
            blocks.push(
                Block::new("resource", &["tfe_registry_provider", &id])
                    .attr("organization", Expr::str(ns))
                    // A private provider's namespace is its organization:
                    // the tfe provider refuses to be told it.
                    .attr("registry_name", Expr::str("private"))
                    .attr("name", Expr::str(crate::spec::PROVIDER_TYPE))
                    .render(),
            );
            blocks.push(
                Block::new("output", &[&format!("{id}_registry_gpg_key_id")])
                    .attr(
                        "description",
                        Expr::str(format!(
                            "The key ID that scripts/publish.py gives each version it uploads to {}.",
                            crate::spec::ProviderSource::private(ns)
                        )),
                    )
                    .attr("value", Expr::raw(format!("tfe_registry_gpg_key.{id}.id")))
                    .render(),
            );
        }
        let ctx = json!({
            "header": header("workspaces/*.toml", false),
            "organization": org,
            "tfe_source": TFE_SOURCE,
            "tfe_version": TFE_VERSION,
            "blocks": blocks,
            "variables": variables,
        });
        for file in ["versions.tf", "variables.tf", "main.tf"] {
            let text = h
                .render(&format!("bootstrap/{file}"), &ctx)
                .map_err(|e| GenError::Template(format!("templates/bootstrap/{file}.hbs: {e}")))?;
            out.insert(format!("{dir}/{file}"), text);
        }
        Ok(())
    }
}

/// Renders every file of the checked set.
pub fn render(model: &Model, templates: &Path, backend: Backend) -> Result<Rendered, GenError> {
    let h = registry(templates)?;
    let ctx = Ctx {
        model,
        by_id: model
            .workspaces
            .iter()
            .map(|w| (w.loaded.id.as_str(), w))
            .collect(),
        backend,
    };
    let mut out = Rendered::new();
    for ws in &model.workspaces {
        ctx.workspace_files(&h, ws, &mut out)?;
    }
    if backend == Backend::Cloud {
        ctx.bootstrap_files(&h, &mut out)?;
    }
    Ok(out)
}
