//! `fansite-gen`'s core: workspace specs in, files out. Nothing here writes to
//! disk; the CLI (`main.rs`) does, after the whole set has rendered.
//!
//! 1. `spec`: each `workspaces/<id>.toml` parsed strictly into a typed spec.
//! 2. `check`: the set validated: dependencies, variables, secrets, and every
//!    argument against the provider's own schema.
//! 3. `render`: the validated model through the Handlebars templates in
//!    `templates/`, with HCL bodies from `hcl` (aligned as `terraform fmt` does).
//! 4. `workflows`: for a spec with `[pipeline]`, the GitHub Actions workflow
//!    that releases what it deploys (`pipelines/<name>/`), for that code's repository.
//! 5. `loadtest`: for the spec with `[loadtest]`, the k6 script of the
//!    ticket-day surge (`loadtests/surge.js`), its numbers derived from the
//!    spec and the autoscaling of the service it drives.

pub mod check;
pub mod hcl;
pub mod loadtest;
pub mod render;
pub mod spec;
pub mod workflows;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

pub use render::{Backend, Rendered};

/// What goes wrong, with where: the spec file, its line, and the key.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GenError {
    #[error("{file}:{line}: {key}{sep}{message}", sep = if key.is_empty() { "" } else { ": " })]
    Spec {
        file: String,
        line: usize,
        key: String,
        message: String,
    },
    #[error("{0}")]
    Io(String),
    #[error("{0}")]
    Template(String),
    #[error("{path}: exists without the fansite-gen header, so it was not written over; move it away or add it to the spec")]
    NotGenerated { path: String },
}

impl GenError {
    pub fn spec(file: &str, line: usize, key: &str, message: impl Into<String>) -> GenError {
        GenError::Spec {
            file: file.to_string(),
            line,
            key: key.to_string(),
            message: message.into(),
        }
    }
}

/// A loaded spec: its id (the file name without `.toml`), its path as shown
/// in headers and errors (relative to the repository), its text and content.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub id: String,
    pub file: String,
    pub src: String,
    pub spec: spec::WorkspaceSpec,
}

/// Every error found, not only the first.
#[derive(Debug, PartialEq, Eq)]
pub struct Errors(pub Vec<GenError>);

impl fmt::Display for Errors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.0 {
            writeln!(f, "error: {e}")?;
        }
        Ok(())
    }
}

/// Reads every `*.toml` in `<root>/workspaces`, sorted by name.
pub fn load(root: &Path) -> Result<Vec<Loaded>, Errors> {
    let dir = root.join("workspaces");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| Errors(vec![GenError::Io(format!("{}: {e}", dir.display()))]))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        let id = p
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let file = format!("workspaces/{id}.toml");
        let src = match std::fs::read_to_string(&p) {
            Ok(s) => s,
            Err(e) => {
                errors.push(GenError::Io(format!("{file}: {e}")));
                continue;
            }
        };
        match spec::parse(&file, &src) {
            Ok(spec) => out.push(Loaded {
                id,
                file,
                src,
                spec,
            }),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(Errors(errors))
    }
}

/// Specs from memory (for tests and the benchmark): (id, text) pairs.
pub fn load_strs(specs: &[(&str, &str)]) -> Result<Vec<Loaded>, Errors> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (id, src) in specs {
        let file = format!("workspaces/{id}.toml");
        match spec::parse(&file, src) {
            Ok(spec) => out.push(Loaded {
                id: id.to_string(),
                file,
                src: src.to_string(),
                spec,
            }),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(Errors(errors))
    }
}

/// Checks the set and renders every file: path (relative to the output root) → text.
pub fn generate(
    specs: &[Loaded],
    templates: &Path,
    backend: Backend,
) -> Result<BTreeMap<String, String>, Errors> {
    let model = check::check(specs)?;
    let mut files = render::render(&model, templates, backend).map_err(|e| Errors(vec![e]))?;
    // The release workflows of the specs with [pipeline] (`workflows`): they
    // call Terraform Cloud, so the local form has none.
    if backend == Backend::Cloud {
        files.extend(workflows::render(&model, templates).map_err(|e| Errors(vec![e]))?);
    }
    // The ticket-day load test of the spec with [loadtest] (`loadtest`), in both forms.
    files.extend(loadtest::render(&model, templates).map_err(|e| Errors(vec![e]))?);
    Ok(files)
}

/// The provider source addresses the checked specs install from, each once, sorted.
pub fn provider_sources(specs: &[Loaded]) -> Result<Vec<String>, Errors> {
    check::check(specs)?;
    let set: std::collections::BTreeSet<String> = specs
        .iter()
        .map(|l| l.spec.provider_source().to_string())
        .collect();
    Ok(set.into_iter().collect())
}

/// The first line of every generated file: what made it, from which spec.
pub fn header(spec_file: &str, markdown: bool) -> String {
    if markdown {
        format!("<!-- Generated by fansite-gen from {spec_file}. Do not edit. -->")
    } else {
        format!("# Generated by fansite-gen from {spec_file}. Do not edit.")
    }
}

/// Whether `text` starts with a fansite-gen header.
pub fn is_generated(text: &str) -> bool {
    let first = text.lines().next().unwrap_or("");
    first.starts_with("# Generated by fansite-gen from ")
        || first.starts_with("<!-- Generated by fansite-gen from ")
        || first.starts_with("// Generated by fansite-gen from ")
}

/// A unified diff of `old` → `new` for `path`, or `None` when equal.
pub fn diff(path: &str, old: Option<&str>, new: &str) -> Option<String> {
    let old_text = old.unwrap_or("");
    if old == Some(new) {
        return None;
    }
    let d = similar::TextDiff::from_lines(old_text, new);
    Some(
        d.unified_diff()
            .context_radius(3)
            .header(
                &if old.is_some() {
                    format!("a/{path}")
                } else {
                    "/dev/null".to_string()
                },
                &format!("b/{path}"),
            )
            .to_string(),
    )
}

#[cfg(test)]
mod tests;
