//! Markdown docs rendered from the schema: `docs/index.md` for the provider and
//! `docs/resources/<name>.md` for each resource. A test fails when the committed
//! files differ; `make docs` rewrites them.

use std::fmt::Write;

use crate::resource::Identity;
use crate::schema::{Attribute, Block, Mode, Nesting, Schema};

const HEADER: &str = "<!-- Generated from the provider schema by `make docs`. Do not edit. -->\n";

fn attribute_line(a: &Attribute) -> String {
    let mut tags = vec![a.ty.hcl()];
    if a.force_new {
        tags.push("forces replacement".into());
    }
    if a.write_only {
        tags.push("write-only".into());
    } else if a.sensitive {
        tags.push("sensitive".into());
    }
    if a.deprecated.is_some() {
        tags.push("deprecated".into());
    }
    if let Some(d) = &a.default {
        let shown = match d {
            crate::value::Dyn::String(s) => format!("`\"{s}\"`"),
            crate::value::Dyn::Number(n) => format!("`{n}`"),
            crate::value::Dyn::Bool(b) => format!("`{b}`"),
            _ => String::new(),
        };
        if !shown.is_empty() {
            tags.push(format!("default {shown}"));
        }
    }
    let mut description = a.description.clone();
    for c in &a.checks {
        description.push(' ');
        description.push_str(&c.describe());
    }
    if a.write_only {
        description.push_str(" Write-only (Terraform 1.11 and later): the value reaches AWS and never plan or state.");
    }
    if let Some(message) = a.deprecated {
        let _ = write!(description, " **Deprecated:** {message}");
    }
    format!("- `{}` ({}) {}\n", a.name, tags.join(", "), description)
}

fn block_sections(out: &mut String, block: &Block, heading: &str) {
    let groups = [
        ("Required", Mode::Required),
        ("Optional", Mode::Optional),
        ("Optional", Mode::OptionalComputed),
        ("Read-only", Mode::Computed),
    ];
    let mut done = Vec::new();
    for (title, _) in groups {
        if done.contains(&title) {
            continue;
        }
        done.push(title);
        let attrs: Vec<&Attribute> = block
            .attributes
            .iter()
            .filter(|a| groups.iter().any(|(t, m)| *t == title && *m == a.mode))
            .collect();
        let blocks: Vec<_> = if title == "Optional" {
            block.blocks.iter().collect()
        } else {
            vec![]
        };
        if attrs.is_empty() && blocks.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{heading} {title}\n");
        for a in attrs {
            out.push_str(&attribute_line(a));
        }
        for b in blocks {
            let kind = match b.nesting {
                Nesting::OptionalSingle => "block, at most one",
                Nesting::List => "block list",
            };
            let _ = writeln!(
                out,
                "- `{}` ({kind}) {} See [below](#nested-block-{}).",
                b.name, b.block.description, b.name
            );
        }
        out.push('\n');
    }
    for b in &block.blocks {
        let _ = writeln!(
            out,
            "<a id=\"nested-block-{}\"></a>\n{heading} Nested block `{}`\n",
            b.name, b.name
        );
        for a in &b.block.attributes {
            out.push_str(&attribute_line(a));
        }
        out.push('\n');
    }
}

/// The inputs read keeps from the state, each with the reason.
fn not_refreshed(out: &mut String, block: &Block) {
    let mut lines = Vec::new();
    let mut walk = |prefix: &str, b: &Block| {
        for a in &b.attributes {
            if let Some(why) = a.not_refreshed {
                lines.push(format!("- `{prefix}{}`: {why}\n", a.name));
            }
        }
    };
    walk("", block);
    for nested in &block.blocks {
        walk(&format!("{}.", nested.name), &nested.block);
    }
    if lines.is_empty() {
        return;
    }
    out.push_str("## Not refreshed\n\nRead (and so `terraform plan`) takes every other input back from AWS and shows a change made outside Terraform as drift. These it keeps from the state, because AWS does not hold them:\n\n");
    for l in lines {
        out.push_str(&l);
    }
    out.push('\n');
}

pub fn render_resource(
    full_name: &str,
    schema: &Schema,
    example: &str,
    import_id: &str,
    identity: Option<&Identity>,
) -> String {
    let mut out = String::from(HEADER);
    let _ = writeln!(
        out,
        "# {full_name} (Resource)\n\n{}\n",
        schema.block.description
    );
    let _ = writeln!(out, "## Example Usage\n\n```terraform\n{}```\n", example);
    out.push_str("## Schema\n\n");
    block_sections(&mut out, &schema.block, "###");
    not_refreshed(&mut out, &schema.block);
    let _ = writeln!(
        out,
        "## Import\n\nImport by {import_id}:\n\n```terraform\nimport {{\n  to = {full_name}.example\n  id = \"<{import_id}>\"\n}}\n```\n\nor `terraform import {full_name}.example <{import_id}>`."
    );
    if let Some(identity) = identity {
        identity_sections(&mut out, full_name, identity);
    }
    out
}

/// Import by identity and `terraform query`, for a resource with an identity.
fn identity_sections(out: &mut String, full_name: &str, identity: &Identity) {
    let _ = writeln!(
        out,
        "\n### Identity\n\nWith Terraform 1.12 and later, the state holds the resource's identity, and an `import` block can name it instead of an ID:\n"
    );
    if identity.regional {
        out.push_str("- `region` (string) AWS region of the object. Optional on import: left out, the provider's region.\n");
    }
    for (name, description) in identity.attributes {
        let _ = writeln!(out, "- `{name}` (string) {description} Required on import.");
    }
    let fields: String = identity
        .attributes
        .iter()
        .map(|(name, _)| format!("    {name} = \"<{name}>\"\n"))
        .collect();
    let _ = writeln!(
        out,
        "\n```terraform\nimport {{\n  to = {full_name}.example\n  identity = {{\n{fields}  }}\n}}\n```\n"
    );
    let _ = writeln!(
        out,
        "## List (`terraform query`)\n\nWith Terraform 1.14 and later, a `list` block in a `.tfquery.hcl` file finds every {full_name} the provider made in its region, by their tags and names. `terraform query -generate-config-out=generated.tf` writes a resource block and an `import` block (by identity) for each; its plan imports them and changes nothing.\n\n```terraform\nlist \"{full_name}\" \"all\" {{\n  provider = fansite\n  config {{\n    # name = \"...\" # only the one of this name\n  }}\n}}\n```"
    );
}

/// `docs/ephemeral-resources/<name>.md`.
pub fn render_ephemeral(full_name: &str, schema: &Schema, example: &str) -> String {
    render_other(
        full_name,
        "Ephemeral Resource",
        "Ephemeral resources need Terraform 1.10 or later. Their values are opened for the run and are never written to plan or state: pass them to write-only arguments or to a provider's configuration.",
        schema,
        example,
    )
}

/// `docs/actions/<name>.md`.
pub fn render_action(full_name: &str, schema: &Schema, example: &str) -> String {
    render_other(
        full_name,
        "Action",
        &format!("Actions need Terraform 1.14 or later. Run one with `terraform apply -invoke=action.{full_name}.<name>`, or from a resource's `lifecycle {{ action_trigger {{ ... }} }}`."),
        schema,
        example,
    )
}

/// The page of what the provider serves beside resources: its kind, what
/// that kind needs, the example and the schema.
fn render_other(
    full_name: &str,
    kind: &str,
    needs: &str,
    schema: &Schema,
    example: &str,
) -> String {
    let mut out = String::from(HEADER);
    let _ = writeln!(
        out,
        "# {full_name} ({kind})\n\n{}\n\n{needs}\n",
        schema.block.description
    );
    let _ = writeln!(out, "## Example Usage\n\n```terraform\n{example}```\n");
    out.push_str("## Schema\n\n");
    block_sections(&mut out, &schema.block, "###");
    out
}

pub fn render_provider(
    schema: &Schema,
    example: &str,
    resources: &[String],
    ephemerals: &[String],
    actions: &[String],
) -> String {
    let mut out = String::from(HEADER);
    let _ = writeln!(out, "# fansite Provider\n\n{}\n", schema.block.description);
    let _ = writeln!(out, "## Example Usage\n\n```terraform\n{}```\n", example);
    for (title, names, dir) in [
        ("Resources", resources, "resources"),
        (
            "Ephemeral resources (Terraform 1.10 and later)",
            ephemerals,
            "ephemeral-resources",
        ),
        ("Actions (Terraform 1.14 and later)", actions, "actions"),
    ] {
        if names.is_empty() {
            continue;
        }
        let _ = writeln!(out, "## {title}\n");
        for r in names {
            let short = r.trim_start_matches("fansite_");
            let _ = writeln!(out, "- [`{r}`]({dir}/{short}.md)");
        }
        out.push('\n');
    }
    out.push_str("## Protocol\n\nThe provider speaks plugin protocol 6 up to 6.10 (Terraform 1.15). Each feature needs the Terraform version that brought it: ephemeral resources 1.10, write-only arguments 1.11, resource identity (`import { identity }`) 1.12, list resources (`terraform query`) and actions 1.14. A deprecated argument that is set gets a warning at validate with every version; Terraform 1.15 also shows its deprecation message where a configuration refers to it. With an older Terraform everything else works as before.\n");
    out.push_str("\n## Guides\n\n- [The API behind CloudFront only](guides/api-behind-cloudfront.md): origin protection, the origin secret and its rotation, HTTPS to the load balancer\n");
    out.push_str("\n## Schema\n\n");
    block_sections(&mut out, &schema.block, "###");
    out
}

#[cfg(test)]
#[path = "docs_tests.rs"]
mod tests;
