//! The ticket-day surge (`loadtests/surge.js`, rendered by fansite-gen from
//! `[loadtest]`) run by real k6 against the local stand-in of the site
//! (`tests/loadtest/standin.py`), scaled down to a few seconds: it passes when
//! the site is quick and correct, and k6 fails it with its threshold code
//! when the site is slow or errs, naming the threshold that was crossed.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::harness::{built_bin, free_port, in_ci, repo_root, scratch_dir, wait_for_port};

/// The exit status of `k6 run` when a threshold is crossed.
const THRESHOLDS_CROSSED: i32 = 99;

/// A local run: the rates a twentieth, the durations a two-hundredth (about 4 s).
const SCALE: &str = "0.05";
const TIME_SCALE: &str = "0.005";

const SCENARIOS: [&str; 3] = ["browse", "api", "auth"];

/// k6 from .tools (scripts/tools.sh installs it). Missing: under CI=true the
/// test fails; elsewhere it says so and does nothing.
fn k6() -> Option<PathBuf> {
    let k6 = std::env::var_os("K6")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".tools/venv/bin/k6"));
    let runs = Command::new(&k6)
        .arg("version")
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success());
    if runs {
        return Some(k6);
    }
    assert!(
        !in_ci(),
        "no k6 at {} (CI=true): run `make tools` or set K6",
        k6.display()
    );
    eprintln!("no k6 at {}: run `make tools`; not run", k6.display());
    None
}

fn python() -> PathBuf {
    let venv = repo_root().join(".tools/venv/bin/python");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("python3")
    }
}

/// The script as fansite-gen renders it from the repository's specs, into
/// a scratch directory of `test`'s own.
fn rendered_surge(test: &str) -> PathBuf {
    let out = scratch_dir(&format!("loadtest-{test}-render"));
    let root = repo_root();
    let o = Command::new(built_bin("fansite-gen"))
        .args(["render", "--root"])
        .arg(&root)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run fansite-gen");
    assert!(
        o.status.success(),
        "render: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let script = out.join("loadtests/surge.js");
    assert!(script.is_file(), "fansite-gen renders loadtests/surge.js");
    script
}

/// The stand-in of the site, stopped when the test ends however it ends.
struct Standin {
    child: Child,
    url: String,
}

impl Standin {
    fn start(args: &[&str]) -> Standin {
        let port = free_port();
        let child = Command::new(python())
            .arg(repo_root().join("tests/loadtest/standin.py"))
            .args(["--port", &port.to_string()])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the stand-in");
        let standin = Standin {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        wait_for_port(port, Duration::from_secs(30));
        standin
    }

    /// What it served, by kind.
    fn stats(&self) -> Value {
        let out = Command::new(python())
            .args([
                "-c",
                "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode())",
            ])
            .arg(format!("{}/_standin/stats", self.url))
            .output()
            .expect("ask the stand-in");
        serde_json::from_slice(&out.stdout).expect("stats as JSON")
    }
}

impl Drop for Standin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A k6 run of `script` against `site`: its output, and the summary export.
fn surge(k6: &Path, script: &Path, site: &Standin, name: &str) -> (Output, Value) {
    let summary = scratch_dir(&format!("loadtest-{name}-run")).join("summary.json");
    let out = Command::new(k6)
        .args(["run", "--quiet", "--no-color", "--no-usage-report"])
        .arg("--summary-export")
        .arg(&summary)
        .args(["-e", &format!("BASE_URL={}", site.url)])
        .args(["-e", &format!("COGNITO_URL={}/", site.url)])
        .args(["-e", "COGNITO_CLIENT_ID=standin"])
        .args(["-e", &format!("SCALE={SCALE}")])
        .args(["-e", &format!("TIME_SCALE={TIME_SCALE}")])
        .arg(script)
        .env("K6_NO_USAGE_REPORT", "true")
        .stdin(Stdio::null())
        .output()
        .expect("run k6");
    let text = std::fs::read_to_string(&summary).unwrap_or_else(|e| {
        panic!(
            "no summary from k6 ({e}), exit {:?}:\n{}",
            out.status.code(),
            describe(&out)
        )
    });
    (
        out,
        serde_json::from_str(&text).expect("the summary is JSON"),
    )
}

fn describe(out: &Output) -> String {
    format!(
        "--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Whether the summary says the threshold `expr` on `metric` was crossed.
fn crossed(summary: &Value, metric: &str, expr: &str) -> bool {
    let t = &summary["metrics"][metric]["thresholds"][expr];
    assert!(
        t.is_boolean(),
        "the summary has the threshold {metric} {expr}: {}",
        summary["metrics"][metric]
    );
    t.as_bool() == Some(true)
}

#[test]
fn loadtest_surge_passes_on_a_quick_site_and_each_scenario_runs() {
    let Some(k6) = k6() else {
        return;
    };
    let script = rendered_surge("quick");
    let site = Standin::start(&[]);
    let (out, summary) = surge(&k6, &script, &site, "quick");
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    for scenario in SCENARIOS {
        let checks = &summary["metrics"][format!("checks{{scenario:{scenario}}}").as_str()];
        assert!(
            checks["passes"].as_u64().is_some_and(|n| n > 0),
            "the {scenario} scenario ran its checks: {checks}"
        );
        assert_eq!(checks["fails"].as_u64(), Some(0), "{scenario}: {checks}");
        let duration = format!("http_req_duration{{scenario:{scenario}}}");
        assert!(
            summary["metrics"][duration.as_str()]["p(95)"].is_number(),
            "{duration} in {summary}"
        );
    }
    assert_eq!(
        summary["metrics"]["http_req_failed"]["value"].as_f64(),
        Some(0.0)
    );
    assert_eq!(
        summary["metrics"]["dropped_iterations"]["count"].as_u64(),
        Some(0)
    );
    for (metric, expr) in [
        ("http_req_duration{scenario:browse}", "p(95)<500"),
        ("http_req_duration{scenario:api}", "p(95)<800"),
        ("http_req_duration{scenario:auth}", "p(95)<1200"),
        ("http_req_failed", "rate<0.01"),
        ("checks", "rate>0.99"),
    ] {
        assert!(!crossed(&summary, metric, expr), "{metric} {expr}");
    }
    // Each scenario reached its part of the site: pages and their assets,
    // the posts API (writes with a fan's token), and Cognito.
    let served = site.stats();
    for kind in [
        "page",
        "asset",
        "GET /api/posts",
        "GET /api/posts/{id}",
        "POST /api/posts",
        "SignUp",
        "InitiateAuth",
    ] {
        assert!(
            served[kind].as_u64().is_some_and(|n| n > 0),
            "the stand-in served {kind}: {served}"
        );
    }
    assert!(served.get("POST /api/posts 401").is_none(), "{served}");
}

/// 600 ms an answer crosses browse's p95 (500 ms), not the API's (800 ms) or
/// sign-in's (1200 ms): k6 exits 99 and names it.
#[test]
fn loadtest_surge_fails_on_a_slow_site_naming_the_p95() {
    let Some(k6) = k6() else {
        return;
    };
    let script = rendered_surge("slow");
    let site = Standin::start(&["--slow-ms", "600"]);
    let (out, summary) = surge(&k6, &script, &site, "slow");
    assert_eq!(
        out.status.code(),
        Some(THRESHOLDS_CROSSED),
        "{}",
        describe(&out)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("thresholds on metrics")
            && stderr.contains("http_req_duration{scenario:browse}"),
        "k6 names the crossed threshold: {stderr}"
    );
    assert!(crossed(
        &summary,
        "http_req_duration{scenario:browse}",
        "p(95)<500"
    ));
    assert!(!crossed(
        &summary,
        "http_req_duration{scenario:api}",
        "p(95)<800"
    ));
    assert!(!crossed(
        &summary,
        "http_req_duration{scenario:auth}",
        "p(95)<1200"
    ));
}

/// One request in ten answered 503: the error rate and the checks cross.
#[test]
fn loadtest_surge_fails_on_a_failing_site_naming_the_error_rate() {
    let Some(k6) = k6() else {
        return;
    };
    let script = rendered_surge("failing");
    let site = Standin::start(&["--error-rate", "0.1"]);
    let (out, summary) = surge(&k6, &script, &site, "failing");
    assert_eq!(
        out.status.code(),
        Some(THRESHOLDS_CROSSED),
        "{}",
        describe(&out)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("thresholds on metrics") && stderr.contains("http_req_failed"),
        "k6 names the crossed threshold: {stderr}"
    );
    assert!(crossed(&summary, "http_req_failed", "rate<0.01"));
    assert!(crossed(&summary, "checks", "rate>0.99"));
    assert!(
        site.stats()["injected 503"].as_u64().is_some_and(|n| n > 0),
        "the stand-in failed requests"
    );
}
