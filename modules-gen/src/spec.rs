//! The workspace spec: one TOML file per Terraform Cloud workspace in
//! `workspaces/`, parsed strictly (unknown keys are errors) into typed values.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::GenError;

/// One workspace, as its spec file says.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceSpec {
    /// The Terraform Cloud workspace name.
    pub name: String,
    pub organization: String,
    pub project: String,
    /// Where its generated configuration lives, relative to the repository root.
    pub working_directory: String,
    pub terraform_version: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub trigger_patterns: Vec<String>,
    /// Apply without a human confirming. Default false: a push plans, a person applies.
    #[serde(default)]
    pub auto_apply: bool,
    /// Whether the workspace's first run queues before its VCS settings are done. Default false.
    #[serde(default)]
    pub queue_all_runs: bool,
    #[serde(default = "default_execution_mode")]
    pub execution_mode: String,
    pub vcs_repo: VcsRepo,
    /// Where Terraform installs the provider from: `[<host>/]<namespace>/fansite`.
    /// Default: the organization's private registry, `app.terraform.io/<organization>/fansite`.
    #[serde(default)]
    pub provider_source: Option<String>,
    /// Other workspaces (their spec file names, without `.toml`) whose outputs this one reads.
    #[serde(default)]
    pub reads: Vec<String>,
    /// Arguments of the `provider "fansite"` block.
    #[serde(default)]
    pub provider: toml::Table,
    #[serde(default)]
    pub variables: BTreeMap<String, VariableSpec>,
    /// `[resources.<type>.<name>]`: composite resources, `<type>` without `fansite_`:
    /// their arguments, and optionally Terraform's `count` (see [`COUNT`]).
    #[serde(default)]
    pub resources: BTreeMap<String, BTreeMap<String, toml::Table>>,
    #[serde(default)]
    pub outputs: BTreeMap<String, OutputSpec>,
    /// `[grafana]`: the dashboard of a `fansite_observability` in Amazon Managed Grafana too.
    #[serde(default)]
    pub grafana: Option<GrafanaSpec>,
    /// `[pipeline]`: the release workflow of what this workspace runs (see `workflows`).
    #[serde(default)]
    pub pipeline: Option<crate::workflows::PipelineSpec>,
    /// `[loadtest]`: the ticket-day surge, a k6 script (see `loadtest`).
    #[serde(default)]
    pub loadtest: Option<crate::loadtest::LoadtestSpec>,
}

/// `[grafana]`: an Amazon Managed Grafana workspace (through `hashicorp/aws`)
/// with a CloudWatch data source and the dashboard of one `fansite_observability`
/// (through `grafana/grafana`). Only the Terraform Cloud form has it: the local
/// form (`--backend local`) leaves it out.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrafanaSpec {
    /// The switch: true renders the Grafana part.
    pub enabled: bool,
    /// Name of the Grafana workspace; its IAM role is `<name>-grafana`. Default: the workspace's name.
    #[serde(default)]
    pub name: Option<String>,
    /// The `fansite_observability` (its name under `[resources.observability]`) whose
    /// `grafana_dashboard_json` becomes the dashboard. Default: the spec's only one.
    #[serde(default)]
    pub observability: Option<String>,
    /// How long the service-account token the grafana provider signs in with
    /// lives, in seconds (its key is in the state for that long). Default 3600.
    #[serde(default = "default_token_seconds")]
    pub token_seconds: i64,
}

fn default_token_seconds() -> i64 {
    3600
}

/// The longest a Grafana service-account token may live: 30 days.
pub const MAX_TOKEN_SECONDS: i64 = 30 * 24 * 3600;

/// The Grafana part as it renders: the settings, the Grafana workspace's name
/// and the `fansite_observability` it shows.
pub struct Grafana<'a> {
    pub spec: &'a GrafanaSpec,
    pub name: String,
    pub observability: String,
}

/// The registry host of Terraform Cloud, where the organization's private registry serves the provider.
pub const TFC_HOST: &str = "app.terraform.io";

/// The provider's type name in every source address.
pub const PROVIDER_TYPE: &str = "fansite";

/// A provider source address, split: `host/namespace/type`, with Terraform's
/// default host filled in when the address has two parts.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ProviderSource {
    pub host: String,
    pub namespace: String,
    pub name: String,
}

impl ProviderSource {
    /// Parses `[<host>/]<namespace>/<type>` as Terraform does for `source`;
    /// the error says what is allowed.
    pub fn parse(s: &str) -> Result<ProviderSource, String> {
        let parts: Vec<&str> = s.split('/').collect();
        let (host, namespace, name) = match parts.as_slice() {
            [ns, name] => ("registry.terraform.io", *ns, *name),
            [host, ns, name] => (*host, *ns, *name),
            _ => return Err(format!("{s:?}: use [<host>/]<namespace>/{PROVIDER_TYPE}, such as \"{TFC_HOST}/<organization>/{PROVIDER_TYPE}\"")),
        };
        let label = |p: &str| {
            !p.is_empty()
                && p.len() <= 64
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                && !p.starts_with('-')
        };
        let host_ok = !host.is_empty()
            && host.split(':').count() <= 2
            && host.split(':').next().is_some_and(|h| {
                h.split('.').all(|l| {
                    !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                })
            })
            && host
                .split(':')
                .nth(1)
                .is_none_or(|p| p.parse::<u16>().is_ok());
        if !host_ok {
            return Err(format!("{s:?}: {host:?} is not a registry host name"));
        }
        if !label(namespace) {
            return Err(format!(
                "{s:?}: the namespace {namespace:?} must be letters, digits, '-' and '_'"
            ));
        }
        if name != PROVIDER_TYPE {
            return Err(format!("{s:?}: the provider's type is {PROVIDER_TYPE:?}, so the address must end in \"/{PROVIDER_TYPE}\""));
        }
        Ok(ProviderSource {
            host: host.to_ascii_lowercase(),
            namespace: namespace.to_string(),
            name: name.to_string(),
        })
    }

    /// The organization's private registry in Terraform Cloud.
    pub fn private(organization: &str) -> ProviderSource {
        ProviderSource {
            host: TFC_HOST.into(),
            namespace: organization.to_string(),
            name: PROVIDER_TYPE.into(),
        }
    }

    /// Whether Terraform Cloud's private registry serves it (so the bootstrap registers it).
    pub fn is_tfc_private(&self) -> bool {
        self.host == TFC_HOST
    }
}

impl std::fmt::Display for ProviderSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.host, self.namespace, self.name)
    }
}

impl WorkspaceSpec {
    /// Where this workspace's Terraform installs the provider from. Call after
    /// `check`, which reports a `provider_source` that does not parse.
    pub fn provider_source(&self) -> ProviderSource {
        self.provider_source
            .as_deref()
            .and_then(|s| ProviderSource::parse(s).ok())
            .unwrap_or_else(|| ProviderSource::private(&self.organization))
    }
}

impl WorkspaceSpec {
    /// The `fansite_observability` resources of the spec, by name.
    pub fn observability_names(&self) -> Vec<String> {
        self.resources
            .get(OBSERVABILITY)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The Grafana part when it is switched on and its dashboard resolves.
    /// Call after `check`, which reports one that does not.
    pub fn grafana(&self) -> Option<Grafana<'_>> {
        let g = self.grafana.as_ref().filter(|g| g.enabled)?;
        let names = self.observability_names();
        let observability = match &g.observability {
            Some(n) => names.iter().find(|m| *m == n)?.clone(),
            None if names.len() == 1 => names[0].clone(),
            None => return None,
        };
        Some(Grafana {
            spec: g,
            name: g.name.clone().unwrap_or_else(|| self.name.clone()),
            observability,
        })
    }
}

/// The key of a `[resources.<type>.<name>]` table that is no argument of the
/// resource but Terraform's `count` meta-argument, written first in its block:
/// a whole number, or an expression such as `{ expr = "var.bastion ? 1 : 0" }`
/// for a resource that a variable switches on.
pub const COUNT: &str = "count";

/// The resource type (without `fansite_`) whose dashboard Grafana shows.
pub const OBSERVABILITY: &str = "observability";

/// The output the Grafana part adds: the Grafana workspace's URL.
pub const GRAFANA_URL_OUTPUT: &str = "grafana_url";

fn default_execution_mode() -> String {
    "remote".into()
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VcsRepo {
    /// `<owner>/<repository>`.
    pub identifier: String,
    #[serde(default = "default_branch")]
    pub branch: String,
}

fn default_branch() -> String {
    "main".into()
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    Terraform,
    Env,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariableSpec {
    pub category: Category,
    pub description: String,
    #[serde(default)]
    pub sensitive: bool,
    /// The value is HCL (a list or map), not a string.
    #[serde(default)]
    pub hcl: bool,
    /// Terraform type, such as `string` or `list(string)`. Default `string`.
    #[serde(rename = "type", default)]
    pub ty: Option<String>,
    /// Default value, as TOML; a variable without one is set in Terraform Cloud.
    #[serde(default)]
    pub default: Option<toml::Value>,
    /// The default is `null`.
    #[serde(default)]
    pub nullable_default: bool,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    /// An HCL expression, such as `fansite_database.main.writer_endpoint`.
    #[serde(default)]
    pub value: Option<String>,
    /// Or another workspace's output passed on: `"<workspace>.<output>"`.
    #[serde(default)]
    pub from: Option<String>,
    pub description: String,
    #[serde(default)]
    pub sensitive: bool,
}

/// The 1-based line of a byte offset.
pub fn line_at(src: &str, offset: usize) -> usize {
    src[..offset.min(src.len())].matches('\n').count() + 1
}

/// The line where `needle` first appears (the start of a table or a key), or 1.
pub fn line_of(src: &str, needle: &str) -> usize {
    src.find(needle).map(|o| line_at(src, o)).unwrap_or(1)
}

/// Parses one spec file; errors name the file, the line and the key.
pub fn parse(file: &str, src: &str) -> Result<WorkspaceSpec, GenError> {
    toml::from_str::<WorkspaceSpec>(src).map_err(|e| {
        let line = e.span().map(|s| line_at(src, s.start)).unwrap_or(1);
        let message = e.message().to_string();
        let key = message
            .split('`')
            .nth(1)
            .filter(|_| message.contains("field"))
            .unwrap_or("")
            .to_string();
        GenError::spec(file, line, &key, message)
    })
}
