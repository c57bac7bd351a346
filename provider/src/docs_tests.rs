//! The committed docs match the schema. `make docs` (UPDATE_DOCS=1) rewrites them.

use std::path::PathBuf;

use super::*;
use crate::config::provider_schema;
use crate::resources;
use crate::tf::served_resource_names;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn check(path: PathBuf, want: String) {
    if std::env::var("UPDATE_DOCS").as_deref() == Ok("1") {
        std::fs::create_dir_all(path.parent().expect("docs path has a parent"))
            .expect("create docs dir");
        std::fs::write(&path, want).expect("write docs");
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "{} is stale: run `make docs` and commit the result",
        path.display()
    );
}

#[test]
fn docs_are_generated_from_the_current_schema() {
    let all = resources::all();
    for r in &all {
        let name = r.name();
        let example = std::fs::read_to_string(repo().join(format!("examples/{name}/main.tf")))
            .unwrap_or_else(|_| panic!("examples/{name}/main.tf is missing"));
        let id = match name {
            "network" => "VPC ID",
            "auth" => "user pool ID",
            "database" => "cluster identifier",
            "edge" => "distribution ID",
            "service" => "`<cluster>/<service>`",
            "observability" => "dashboard name",
            "ci_access" => "name",
            "bastion" => "name",
            _ => "ID",
        };
        check(
            repo().join(format!("docs/resources/{name}.md")),
            render_resource(
                &format!("fansite_{name}"),
                &r.schema(),
                &example,
                id,
                r.identity().as_ref(),
            ),
        );
    }
    let served = resources::served();
    let example_of = |name: &str| {
        std::fs::read_to_string(repo().join(format!("examples/{name}/main.tf")))
            .unwrap_or_else(|_| panic!("examples/{name}/main.tf is missing"))
    };
    for e in &served.ephemerals {
        check(
            repo().join(format!("docs/ephemeral-resources/{}.md", e.name())),
            render_ephemeral(
                &format!("fansite_{}", e.name()),
                &e.schema(),
                &example_of(e.name()),
            ),
        );
    }
    for a in &served.actions {
        check(
            repo().join(format!("docs/actions/{}.md", a.name())),
            render_action(
                &format!("fansite_{}", a.name()),
                &a.schema(),
                &example_of(a.name()),
            ),
        );
    }
    let full = |names: Vec<&str>| -> Vec<String> {
        names.into_iter().map(|n| format!("fansite_{n}")).collect()
    };
    let example = std::fs::read_to_string(repo().join("examples/provider/provider.tf"))
        .expect("examples/provider/provider.tf");
    check(
        repo().join("docs/index.md"),
        render_provider(
            &provider_schema(),
            &example,
            &served_resource_names(&all),
            &full(served.ephemerals.iter().map(|e| e.name()).collect()),
            &full(served.actions.iter().map(|a| a.name()).collect()),
        ),
    );
}

/// The guide shows the example as it is in examples/, which the end-to-end
/// tests check with Terraform.
#[test]
fn the_origin_protection_guide_shows_the_example() {
    let example = std::fs::read_to_string(repo().join("examples/api-behind-cloudfront/main.tf"))
        .expect("examples/api-behind-cloudfront/main.tf");
    let guide = std::fs::read_to_string(repo().join("docs/guides/api-behind-cloudfront.md"))
        .expect("docs/guides/api-behind-cloudfront.md");
    assert!(
        guide.contains(&format!("```terraform\n{example}```")),
        "docs/guides/api-behind-cloudfront.md does not show examples/api-behind-cloudfront/main.tf as it is"
    );
}

/// The release guide shows its example as it is, which `make demo` applies.
#[test]
fn the_release_guide_shows_the_example() {
    let example = std::fs::read_to_string(repo().join("examples/release/main.tf"))
        .expect("examples/release/main.tf");
    let guide = std::fs::read_to_string(repo().join("docs/guides/release.md"))
        .expect("docs/guides/release.md");
    assert!(
        guide.contains(&format!("```terraform\n{example}```")),
        "docs/guides/release.md does not show examples/release/main.tf as it is"
    );
}

#[test]
fn every_attribute_has_a_description() {
    fn walk(b: &Block, path: &str) {
        for a in &b.attributes {
            assert!(
                a.description.len() > 10,
                "{path}.{} has no real description",
                a.name
            );
        }
        for nb in &b.blocks {
            assert!(
                !nb.block.description.is_empty(),
                "{path}.{} block has no description",
                nb.name
            );
            walk(&nb.block, &format!("{path}.{}", nb.name));
        }
    }
    walk(&provider_schema().block, "provider");
    for r in resources::all() {
        walk(&r.schema().block, r.name());
    }
    let served = resources::served();
    for e in &served.ephemerals {
        walk(&e.schema().block, e.name());
    }
    for a in &served.actions {
        walk(&a.schema().block, a.name());
    }
}
