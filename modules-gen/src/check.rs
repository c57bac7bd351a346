//! Validates a set of specs into the model that renders: workspace
//! dependencies, variables and secrets, and every argument against the
//! provider's own schema (the one the plugin serves), so that a spec that
//! renders also plans.

use std::collections::{BTreeMap, BTreeSet};

use terraform_provider_fansite::config::provider_schema;
use terraform_provider_fansite::resources;
use terraform_provider_fansite::schema::{Block, Mode, Nesting};

use crate::spec::{
    line_of, Category, GrafanaSpec, COUNT, GRAFANA_URL_OUTPUT, MAX_TOKEN_SECONDS, OBSERVABILITY,
};
use crate::{Errors, GenError, Loaded};

/// Words that make a variable a secret: it must be `sensitive`.
const SECRET_WORDS: &[&str] = &[
    "password",
    "secret",
    "token",
    "webhook",
    "private_key",
    "access_key",
];

/// The checked set, ready to render.
pub struct Model {
    pub workspaces: Vec<Ws>,
    pub provider: Block,
    /// Resource schemas by type without `fansite_`.
    pub resources: BTreeMap<String, Block>,
}

pub struct Ws {
    pub loaded: Loaded,
    /// Ids of the workspaces that read this one's outputs (its remote-state consumers).
    pub readers: Vec<String>,
}

fn is_ident(s: &str) -> bool {
    s.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The `var.<name>` references in an expression.
pub fn var_refs(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = expr.as_bytes();
    let mut i = 0;
    while let Some(pos) = expr[i..].find("var.") {
        let start = i + pos;
        let before_ok = start == 0
            || !(bytes[start - 1].is_ascii_alphanumeric()
                || bytes[start - 1] == b'_'
                || bytes[start - 1] == b'.');
        let name: String = expr[start + 4..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        if before_ok && !name.is_empty() {
            out.push(name.clone());
        }
        i = start + 4 + name.len();
    }
    out
}

/// A reference to another workspace's output: `{ output = "<workspace>.<output>" }`.
pub fn output_ref(v: &toml::Value) -> Option<(String, String)> {
    let t = v.as_table()?;
    if t.len() != 1 {
        return None;
    }
    let s = t.get("output")?.as_str()?;
    let (ws, out) = s.split_once('.')?;
    Some((ws.to_string(), out.to_string()))
}

/// A raw expression: `{ expr = "var.region" }`.
pub fn raw_expr(v: &toml::Value) -> Option<&str> {
    let t = v.as_table()?;
    if t.len() != 1 {
        return None;
    }
    t.get("expr")?.as_str()
}

struct Checker<'a> {
    ws: &'a Loaded,
    all: &'a BTreeMap<String, &'a Loaded>,
    errors: Vec<GenError>,
}

impl Checker<'_> {
    fn err(&mut self, needle: &str, key: &str, message: impl Into<String>) {
        let line = line_of(&self.ws.src, needle);
        self.errors
            .push(GenError::spec(&self.ws.file, line, key, message));
    }

    /// Every value in an argument tree: references resolve, secrets come from sensitive variables.
    fn check_value(&mut self, needle: &str, key: &str, v: &toml::Value, sensitive: bool) {
        if let Some(expr) = raw_expr(v) {
            let refs = var_refs(expr);
            for name in &refs {
                match self.ws.spec.variables.get(name) {
                    Some(var) if var.category == Category::Terraform => {
                        if sensitive && !var.sensitive {
                            self.err(needle, key, format!("{key} is a secret, but var.{name} is not marked sensitive = true"));
                        }
                    }
                    Some(_) => self.err(needle, key, format!("var.{name} is an env-category variable; Terraform code can only read terraform-category variables")),
                    None => self.err(needle, key, format!("var.{name} is not declared under [variables] in this spec")),
                }
            }
            if sensitive && refs.is_empty() {
                self.err(needle, key, format!("{key} is a secret: give it from a sensitive variable, such as {{ expr = \"var.{}\" }}", key.rsplit('.').next().unwrap_or(key)));
            }
            return;
        }
        if let Some((ws, out)) = output_ref(v) {
            if !self.ws.spec.reads.contains(&ws) {
                self.err(needle, key, format!("reads the output {ws}.{out}, but {ws:?} is not in this workspace's `reads`"));
            } else if let Some(src) = self.all.get(&ws) {
                if !src.spec.outputs.contains_key(&out) {
                    self.err(
                        needle,
                        key,
                        format!(
                            "workspace {ws:?} has no output {out:?}; it has: {}",
                            src.spec
                                .outputs
                                .keys()
                                .cloned()
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    );
                }
            }
            return;
        }
        if sensitive {
            self.err(
                needle,
                key,
                format!(
                    "{key} is a secret: give it from a sensitive variable, not a value in the spec"
                ),
            );
            return;
        }
        match v {
            toml::Value::Array(items) => {
                for item in items {
                    self.check_value(needle, key, item, false);
                }
            }
            toml::Value::Table(t) => {
                for (k, item) in t {
                    self.check_value(needle, &format!("{key}.{k}"), item, false);
                }
            }
            _ => {}
        }
    }

    /// A resource's `count`: a whole number, or an expression whose variables
    /// are declared terraform-category ones.
    fn check_count(&mut self, needle: &str, key: &str, v: &toml::Value) {
        match v {
            toml::Value::Integer(n) if *n >= 0 => {}
            _ if raw_expr(v).is_some() => self.check_value(needle, key, v, false),
            _ => self.err(
                needle,
                key,
                "count is Terraform's meta-argument: give a whole number, or an expression such as { expr = \"var.bastion ? 1 : 0\" }",
            ),
        }
    }

    /// `[grafana]`: a name and a token lifetime that AWS takes and, when it is
    /// on, the `fansite_observability` it shows, the region its providers use,
    /// and no output of the spec's own under the name of the one it adds.
    fn check_grafana(&mut self, g: &GrafanaSpec) {
        let ws: &Loaded = self.ws;
        let s = &ws.spec;
        let needle = "[grafana]";
        if let Some(name) = &g.name {
            let ok = !name.is_empty()
                && name.len() <= 55
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            if !ok {
                self.err(
                    needle,
                    "grafana.name",
                    format!("{name:?}: use 1 to 55 letters, digits and '-' (the Grafana workspace's IAM role is <name>-grafana)"),
                );
            }
        }
        if !(1..=MAX_TOKEN_SECONDS).contains(&g.token_seconds) {
            self.err(
                needle,
                "grafana.token_seconds",
                format!(
                    "{}: a Grafana service-account token lives 1 to {MAX_TOKEN_SECONDS} seconds (30 days)",
                    g.token_seconds
                ),
            );
        }
        if !g.enabled {
            return;
        }
        let names = s.observability_names();
        match &g.observability {
            Some(n) if !names.contains(n) => self.err(
                needle,
                "grafana.observability",
                if names.is_empty() {
                    format!("there is no [resources.{OBSERVABILITY}.{n}] in this spec: Grafana shows a fansite_{OBSERVABILITY}'s grafana_dashboard_json")
                } else {
                    format!("there is no [resources.{OBSERVABILITY}.{n}] in this spec; it has: {}", names.join(", "))
                },
            ),
            Some(_) => {}
            None if names.is_empty() => self.err(
                needle,
                "grafana.observability",
                format!("Grafana shows a fansite_{OBSERVABILITY}'s grafana_dashboard_json, and this spec declares none: add [resources.{OBSERVABILITY}.<name>]"),
            ),
            None if names.len() > 1 => self.err(
                needle,
                "grafana.observability",
                format!("this spec declares several fansite_{OBSERVABILITY} ({}): name the one Grafana shows", names.join(", ")),
            ),
            None => {}
        }
        if !s.provider.contains_key("region") {
            self.err(
                needle,
                "provider.region",
                "the Grafana part needs region under [provider]: the aws provider and the CloudWatch data source take it",
            );
        }
        if s.outputs.contains_key(GRAFANA_URL_OUTPUT) {
            self.err(
                &format!("[outputs.{GRAFANA_URL_OUTPUT}]"),
                &format!("outputs.{GRAFANA_URL_OUTPUT}"),
                format!("with [grafana] enabled the workspace outputs {GRAFANA_URL_OUTPUT} itself (the Grafana workspace's URL): name this output otherwise"),
            );
        }
    }

    /// The arguments of one block against its schema.
    fn check_args(
        &mut self,
        needle: &str,
        prefix: &str,
        args: &toml::Table,
        schema: &Block,
        what: &str,
    ) {
        for (k, v) in args {
            let key = format!("{prefix}{k}");
            if let Some(a) = schema.attributes.iter().find(|a| a.name == k) {
                if a.mode == Mode::Computed {
                    self.err(
                        needle,
                        &key,
                        format!("{k} is an output of {what}, not an argument"),
                    );
                    continue;
                }
                self.check_value(needle, &key, v, a.sensitive);
            } else if let Some(b) = schema.blocks.iter().find(|b| b.name == k) {
                match v {
                    toml::Value::Table(t) if raw_expr(v).is_none() && output_ref(v).is_none() => {
                        self.check_args(
                            needle,
                            &format!("{key}."),
                            t,
                            &b.block,
                            &format!("{what} block {k}"),
                        );
                    }
                    toml::Value::Array(items)
                        if b.nesting == Nesting::List
                            && items.iter().all(toml::Value::is_table) =>
                    {
                        for (i, item) in items.iter().enumerate() {
                            if let Some(t) = item.as_table() {
                                self.check_args(
                                    needle,
                                    &format!("{key}[{i}]."),
                                    t,
                                    &b.block,
                                    &format!("{what} block {k}"),
                                );
                            }
                        }
                    }
                    _ => self.err(
                        needle,
                        &key,
                        format!("{k} is a block of {what}: write it as a table (or, when it repeats, an array of tables)"),
                    ),
                }
            } else {
                let mut known: Vec<&str> = schema
                    .attributes
                    .iter()
                    .filter(|a| a.mode != Mode::Computed)
                    .map(|a| a.name)
                    .chain(schema.blocks.iter().map(|b| b.name))
                    .collect();
                known.sort();
                self.err(
                    needle,
                    &key,
                    format!("{what} has no argument {k:?}; it has: {}", known.join(", ")),
                );
            }
        }
        for a in schema
            .attributes
            .iter()
            .filter(|a| a.mode == Mode::Required)
        {
            if !args.contains_key(a.name) {
                self.err(
                    needle,
                    &format!("{prefix}{}", a.name),
                    format!("{what} needs {:?}", a.name),
                );
            }
        }
    }
}

/// Validates the set of specs; all errors are returned together.
pub fn check(specs: &[Loaded]) -> Result<Model, Errors> {
    let provider = provider_schema().block;
    let resource_schemas: BTreeMap<String, Block> = resources::all()
        .iter()
        .map(|r| (r.name().to_string(), r.schema().block))
        .collect();
    let all: BTreeMap<String, &Loaded> = specs.iter().map(|l| (l.id.clone(), l)).collect();
    let mut errors = Vec::new();

    let mut names: BTreeMap<&str, &str> = BTreeMap::new();
    let mut dirs: BTreeMap<&str, &str> = BTreeMap::new();
    for l in specs {
        let mut c = Checker {
            ws: l,
            all: &all,
            errors: Vec::new(),
        };
        let s = &l.spec;
        if let Some(other) = names.insert(&s.name, &l.id) {
            c.err(
                "name",
                "name",
                format!(
                    "workspace name {:?} is also used by workspaces/{other}.toml",
                    s.name
                ),
            );
        }
        if let Some(other) = dirs.insert(&s.working_directory, &l.id) {
            c.err(
                "working_directory",
                "working_directory",
                format!(
                    "{:?} is also the working directory of workspaces/{other}.toml",
                    s.working_directory
                ),
            );
        }
        if s.working_directory.starts_with('/')
            || s.working_directory
                .split('/')
                .any(|p| p == ".." || p.is_empty())
        {
            c.err(
                "working_directory",
                "working_directory",
                "use a relative path inside the repository, such as \"workspaces/backend\"",
            );
        }
        if !is_ident(&l.id) {
            c.err(
                "name",
                "",
                format!(
                    "the spec file name {:?} must be an identifier (letters, digits, '_' and '-')",
                    l.id
                ),
            );
        }
        if !["remote", "local", "agent"].contains(&s.execution_mode.as_str()) {
            c.err(
                "execution_mode",
                "execution_mode",
                format!(
                    "{:?}: use \"remote\", \"local\" or \"agent\"",
                    s.execution_mode
                ),
            );
        }
        let v = &s.terraform_version;
        if !(v.split('.').count() == 3 && v.split('.').all(|p| p.parse::<u32>().is_ok())) {
            c.err(
                "terraform_version",
                "terraform_version",
                format!("{v:?} is not an exact version such as \"1.11.4\""),
            );
        }
        if let Some(source) = &s.provider_source {
            match crate::spec::ProviderSource::parse(source) {
                Err(why) => c.err("provider_source", "provider_source", why),
                Ok(p) if p.is_tfc_private() && p.namespace != s.organization => c.err(
                    "provider_source",
                    "provider_source",
                    format!(
                        "{source:?}: a private registry serves only its own organization's workspaces: use \"{}\"",
                        crate::spec::ProviderSource::private(&s.organization)
                    ),
                ),
                Ok(_) => {}
            }
        }
        for r in &s.reads {
            if r == &l.id {
                c.err("reads", "reads", "a workspace cannot read its own outputs");
            } else if !all.contains_key(r) {
                c.err(
                    "reads",
                    "reads",
                    format!("no workspace {r:?}: there is no workspaces/{r}.toml"),
                );
            }
        }
        for (name, var) in &s.variables {
            let needle = format!("[variables.{name}]");
            if !is_ident(name) {
                c.err(
                    &needle,
                    &format!("variables.{name}"),
                    "a variable name must be an identifier",
                );
            }
            let lower = name.to_ascii_lowercase();
            if let Some(word) = SECRET_WORDS.iter().find(|w| lower.contains(*w)) {
                if !var.sensitive {
                    c.err(&needle, &format!("variables.{name}.sensitive"), format!("{name} holds a secret (its name has {word:?}): mark it sensitive = true"));
                }
            }
            if var.sensitive && var.default.is_some() {
                c.err(&needle, &format!("variables.{name}.default"), "a sensitive variable cannot have a default in the spec: its value is set in Terraform Cloud");
            }
            if var.category == Category::Env
                && (var.default.is_some() || var.ty.is_some() || var.hcl)
            {
                c.err(&needle, &format!("variables.{name}"), "an env-category variable has no type, hcl or default: it is an environment variable of the run");
            }
        }
        let provider_args = s.provider.clone();
        c.check_args(
            "[provider]",
            "provider.",
            &provider_args,
            &provider,
            "the fansite provider",
        );
        for (ty, by_name) in &s.resources {
            let Some(schema) = resource_schemas.get(ty) else {
                let needle = format!("[resources.{ty}");
                c.err(
                    &needle,
                    &format!("resources.{ty}"),
                    format!(
                        "the fansite provider has no resource fansite_{ty}; it has: {}",
                        resource_schemas
                            .keys()
                            .map(|k| format!("fansite_{k}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
                continue;
            };
            for (name, args) in by_name {
                let needle = format!("[resources.{ty}.{name}]");
                if !is_ident(name) {
                    c.err(
                        &needle,
                        &format!("resources.{ty}.{name}"),
                        "a resource name must be an identifier",
                    );
                }
                // `count` is Terraform's, not an argument of the resource.
                let mut args = args.clone();
                if let Some(count) = args.remove(COUNT) {
                    c.check_count(&needle, &format!("resources.{ty}.{name}.{COUNT}"), &count);
                }
                c.check_args(
                    &needle,
                    &format!("resources.{ty}.{name}."),
                    &args,
                    schema,
                    &format!("fansite_{ty}"),
                );
            }
        }
        for (name, out) in &s.outputs {
            let needle = format!("[outputs.{name}]");
            match (&out.value, &out.from) {
                (Some(_), None) => {}
                (None, Some(from)) => {
                    let v = toml::Value::Table(toml::Table::from_iter([(
                        "output".to_string(),
                        toml::Value::String(from.clone()),
                    )]));
                    if output_ref(&v).is_none() {
                        c.err(
                            &needle,
                            &format!("outputs.{name}.from"),
                            format!("{from:?}: use \"<workspace>.<output>\""),
                        );
                    } else {
                        c.check_value(&needle, &format!("outputs.{name}.from"), &v, false);
                    }
                }
                _ => c.err(
                    &needle,
                    &format!("outputs.{name}"),
                    "give exactly one of value (an expression) or from (\"<workspace>.<output>\")",
                ),
            }
            for var in var_refs(out.value.as_deref().unwrap_or("")) {
                if !s.variables.contains_key(&var) {
                    c.err(
                        &needle,
                        &format!("outputs.{name}.value"),
                        format!("var.{var} is not declared under [variables] in this spec"),
                    );
                }
            }
        }
        if let Some(g) = &s.grafana {
            c.check_grafana(g);
        }
        errors.extend(c.errors);
    }
    // [pipeline]: the release workflows (`workflows`).
    errors.extend(crate::workflows::check(specs));
    // [loadtest]: the ticket-day surge (`loadtest`).
    errors.extend(crate::loadtest::check(specs));

    // Cycles in `reads`.
    let mut state: BTreeMap<&str, u8> = BTreeMap::new();
    fn visit<'a>(
        id: &'a str,
        all: &'a BTreeMap<String, &'a Loaded>,
        state: &mut BTreeMap<&'a str, u8>,
        path: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        match state.get(id) {
            Some(2) => return None,
            Some(1) => {
                let start = path.iter().position(|p| *p == id).unwrap_or(0);
                let mut cycle: Vec<String> = path[start..].iter().map(|s| s.to_string()).collect();
                cycle.push(id.to_string());
                return Some(cycle);
            }
            _ => {}
        }
        state.insert(id, 1);
        path.push(id);
        if let Some(l) = all.get(id) {
            for r in &l.spec.reads {
                if let Some((k, _)) = all.get_key_value(r.as_str()) {
                    if let Some(c) = visit(k, all, state, path) {
                        return Some(c);
                    }
                }
            }
        }
        path.pop();
        state.insert(id, 2);
        None
    }
    for id in all.keys() {
        let mut path = Vec::new();
        if let Some(cycle) = visit(id, &all, &mut state, &mut path) {
            let first = all.get(cycle[0].as_str()).copied();
            if let Some(l) = first {
                errors.push(GenError::spec(
                    &l.file,
                    line_of(&l.src, "reads"),
                    "reads",
                    format!(
                        "workspaces read each other's outputs in a cycle: {}",
                        cycle.join(" -> ")
                    ),
                ));
            }
            break;
        }
    }

    if !errors.is_empty() {
        return Err(Errors(errors));
    }
    let mut readers: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for l in specs {
        for r in &l.spec.reads {
            readers.entry(r.clone()).or_default().insert(l.id.clone());
        }
    }
    Ok(Model {
        workspaces: specs
            .iter()
            .map(|l| Ws {
                loaded: l.clone(),
                readers: readers
                    .get(&l.id)
                    .map(|s| s.iter().cloned().collect())
                    .unwrap_or_default(),
            })
            .collect(),
        provider,
        resources: resource_schemas,
    })
}
