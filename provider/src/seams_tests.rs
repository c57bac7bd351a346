//! The seams, as tests: only `tf.rs` speaks the plugin protocol's crate, and
//! only `aws/` names the AWS SDK's types.

use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `<crate>::` path of a crate whose name starts with `prefix`, with its line.
fn uses_of(text: &str, prefix: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find(prefix) {
            let before = rest[..at].chars().last();
            let tail = &rest[at..];
            let name: String = tail
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let is_ident_start = before.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
            if is_ident_start && tail[name.len()..].starts_with("::") {
                found.push((n + 1, name.clone()));
            }
            rest = &tail[name.len().max(1)..];
        }
    }
    found
}

fn violations(prefix: &str, allowed: impl Fn(&Path) -> bool) -> Vec<String> {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    assert!(files.len() > 20, "found only {} source files", files.len());
    let mut out = Vec::new();
    for file in files {
        let rel = file.strip_prefix(&src).expect("under src").to_path_buf();
        if allowed(&rel) || rel == Path::new("seams_tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("read");
        for (line, name) in uses_of(&text, prefix) {
            out.push(format!("{}:{line}: {name}", rel.display()));
        }
    }
    out
}

#[test]
fn only_tf_rs_names_tf_provider() {
    let found = violations("tf_provider", |p| {
        p == Path::new("tf.rs") || p == Path::new("tf_tests.rs")
    });
    assert!(
        found.is_empty(),
        "tf_provider outside tf.rs:\n{}",
        found.join("\n")
    );
}

#[test]
fn only_aws_names_the_aws_sdk() {
    let found = violations("aws_sdk_", |p| p.starts_with("aws"));
    assert!(
        found.is_empty(),
        "aws_sdk_* types outside aws/:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_sees_a_use() {
    let text =
        "use aws_sdk_route53::types::ChangeAction;\nlet f = \"aws_sdk_ec2=warn\";\nmy_aws_sdk_x::y";
    assert_eq!(
        uses_of(text, "aws_sdk_"),
        vec![(1, "aws_sdk_route53".to_string())]
    );
}
