//! Markdown docs rendered from the schema: `docs/index.md` for the provider and
//! `docs/resources/<name>.md` for each resource. A test fails when the committed
//! files differ; `make docs` rewrites them.

use std::fmt::Write;

use crate::schema::{Attribute, Block, Mode, Nesting, Schema};

const HEADER: &str = "<!-- Generated from the provider schema by `make docs`. Do not edit. -->\n";

fn attribute_line(a: &Attribute) -> String {
    let mut tags = vec![a.ty.hcl()];
    if a.force_new {
        tags.push("forces replacement".into());
    }
    if a.sensitive {
        tags.push("sensitive".into());
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

pub fn render_resource(full_name: &str, schema: &Schema, example: &str, import_id: &str) -> String {
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
    out
}

pub fn render_provider(schema: &Schema, example: &str, resources: &[String]) -> String {
    let mut out = String::from(HEADER);
    let _ = writeln!(out, "# fansite Provider\n\n{}\n", schema.block.description);
    let _ = writeln!(out, "## Example Usage\n\n```terraform\n{}```\n", example);
    out.push_str("## Resources\n\n");
    for r in resources {
        let short = r.trim_start_matches("fansite_");
        let _ = writeln!(out, "- [`{r}`](resources/{short}.md)");
    }
    out.push_str("\n## Guides\n\n- [The API behind CloudFront only](guides/api-behind-cloudfront.md): origin protection, the origin secret and its rotation, HTTPS to the load balancer\n");
    out.push_str("\n## Schema\n\n");
    block_sections(&mut out, &schema.block, "###");
    out
}

#[cfg(test)]
#[path = "docs_tests.rs"]
mod tests;
