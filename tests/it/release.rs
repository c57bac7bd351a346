//! The release as Terraform installs it: `scripts/release.py` lays the
//! provider out as HashiCorp's releases are, a Provider Registry Protocol
//! server (`tests/registry/serve.py`) serves it over HTTPS on loopback with a
//! CA made here, and real `terraform init` installs it, checks its signature
//! and hashes, and locks it. Also: `scripts/publish.py` against a stand-in of
//! Terraform Cloud's registry API, and the release workflow's linters.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{built_bin, endpoint, repo_root, scratch_dir, Terraform, Workspace};

/// The version being released: the workspace's own.
const VERSION: &str = env!("CARGO_PKG_VERSION");

fn run(cmd: &mut Command) -> Output {
    let shown = format!("{cmd:?}");
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{shown}: {e}"));
    assert!(
        out.status.success(),
        "{shown} exited {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Terraform's output with its diagnostic frame taken out and white space
/// folded, so that a message is found wherever Terraform wrapped it.
fn flat(out: &str) -> String {
    out.replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn python() -> PathBuf {
    let venv = repo_root().join(".tools/venv/bin/python");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("python3")
    }
}

fn sha256_hex(path: &Path) -> String {
    let out = run(Command::new("sha256sum").arg(path));
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .expect("a hash")
        .to_string()
}

/// A GnuPG home of its own with one new signing key: the key's long id and
/// its secret key, ASCII-armored, as `make release` takes it.
struct SigningKey {
    home: PathBuf,
    id: String,
    secret: String,
}

impl Drop for SigningKey {
    /// gpg started an agent for this home: it goes with the key.
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", &self.home)
            .args(["--kill", "all"])
            .status();
    }
}

fn gpg(home: &Path) -> Command {
    let mut c = Command::new("gpg");
    c.env("GNUPGHOME", home).args(["--batch", "--quiet"]);
    c
}

/// Signs `file` with `key` into `out`, detached, binary or ASCII-armored.
fn detach_sign(key: &SigningKey, file: &Path, out: &Path, armored: bool) {
    let mut c = gpg(&key.home);
    c.args(["--yes", "--detach-sign", "--local-user", &key.id]);
    if armored {
        c.arg("--armor");
    }
    run(c.arg("--output").arg(out).arg(file));
}

fn new_key(dir: &Path, name: &str, algo: &str) -> SigningKey {
    let home = dir.join(format!("gnupg-{name}"));
    std::fs::create_dir_all(&home).expect("gnupg home");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700))
            .expect("gnupg home mode");
    }
    run(gpg(&home).args([
        "--passphrase",
        "",
        "--quick-gen-key",
        &format!("fansite {name} <{name}@fansite.invalid>"),
        algo,
        "sign",
        "never",
    ]));
    let listing = run(gpg(&home).args(["--with-colons", "--list-secret-keys"]));
    let id = String::from_utf8_lossy(&listing.stdout)
        .lines()
        .find(|l| l.starts_with("sec:"))
        .and_then(|l| l.split(':').nth(4))
        .expect("the key's long id")
        .to_string();
    let secret = run(gpg(&home).args([
        "--pinentry-mode",
        "loopback",
        "--passphrase",
        "",
        "--armor",
        "--export-secret-keys",
        &id,
    ]));
    SigningKey {
        home,
        id,
        secret: String::from_utf8_lossy(&secret.stdout).into_owned(),
    }
}

/// `scripts/release.py` for this machine's binary into `out`, signed by `key`;
/// the public key goes to `<out>.pub.asc`.
fn release(out: &Path, key: &SigningKey, epoch: &str) -> Output {
    let mut c = Command::new(python());
    c.arg(repo_root().join("scripts/release.py"))
        .args(["--version", VERSION, "--force", "--out"])
        .arg(out)
        .arg("--binary")
        .arg(format!(
            "linux_amd64={}",
            built_bin("terraform-provider-fansite").display()
        ))
        .arg("--public-key-out")
        .arg(out.with_extension("pub.asc"))
        .env("FANSITE_RELEASE_GPG_KEY", &key.secret)
        .env_remove("FANSITE_RELEASE_GPG_PASSPHRASE")
        .env("SOURCE_DATE_EPOCH", epoch);
    run(&mut c)
}

fn file_name(kind: &str) -> String {
    match kind {
        "zip" => format!("terraform-provider-fansite_{VERSION}_linux_amd64.zip"),
        "sums" => format!("terraform-provider-fansite_{VERSION}_SHA256SUMS"),
        "sig" => format!("terraform-provider-fansite_{VERSION}_SHA256SUMS.sig"),
        "manifest" => format!("terraform-provider-fansite_{VERSION}_manifest.json"),
        other => panic!("no release file {other}"),
    }
}

/// A CA made here and a certificate for localhost signed by it.
struct Tls {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

fn make_tls(dir: &Path) -> Tls {
    let p = |n: &str| dir.join(n);
    run(Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=fansite test CA",
        ])
        .arg("-keyout")
        .arg(p("ca.key"))
        .arg("-out")
        .arg(p("ca.pem")));
    run(Command::new("openssl")
        .args([
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
        ])
        .arg("-keyout")
        .arg(p("server.key"))
        .arg("-out")
        .arg(p("server.csr")));
    std::fs::write(
        p("san.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .expect("san.ext");
    run(Command::new("openssl")
        .args(["x509", "-req", "-days", "2", "-CAcreateserial"])
        .arg("-in")
        .arg(p("server.csr"))
        .arg("-CA")
        .arg(p("ca.pem"))
        .arg("-CAkey")
        .arg(p("ca.key"))
        .arg("-extfile")
        .arg(p("san.ext"))
        .arg("-out")
        .arg(p("server.pem")));
    Tls {
        ca: p("ca.pem"),
        cert: p("server.pem"),
        key: p("server.key"),
    }
}

/// A child process stopped when the test ends, however it ends.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(mut cmd: Command, port_file: &Path) -> Server {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the server");
    let mut server = Server { child, port: 0 };
    let start = Instant::now();
    loop {
        if let Some(port) = std::fs::read_to_string(port_file)
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            server.port = port;
            return server;
        }
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!("{cmd:?} exited {status} before it listened");
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{cmd:?} wrote no port to {} in 30 s",
            port_file.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The Provider Registry Protocol server for the release in `dir`.
fn serve_registry(dir: &Path, public_key: &Path, tls: &Tls) -> Server {
    let port_file = dir.with_extension("port");
    let _ = std::fs::remove_file(&port_file);
    let mut c = Command::new(python());
    c.arg(repo_root().join("tests/registry/serve.py"))
        .arg("--release-dir")
        .arg(dir)
        .arg("--public-key")
        .arg(public_key)
        .arg("--cert")
        .arg(&tls.cert)
        .arg("--key")
        .arg(&tls.key)
        .arg("--port-file")
        .arg(&port_file);
    start_server(c, &port_file)
}

/// A workspace that installs `source` from the registry, trusting the test
/// CA, with a CLI config of its own (no mirror: everything direct).
fn registry_workspace(
    tf: &Terraform,
    dir: &Path,
    name: &str,
    source: &str,
    tls: &Tls,
) -> Workspace {
    let ws_dir = dir.join(name);
    std::fs::create_dir_all(&ws_dir).expect("workspace dir");
    let rc = dir.join("terraformrc");
    std::fs::write(&rc, "# no mirror: providers come from their registries\n").expect("rc");
    let ws = Workspace::at(tf, &ws_dir, endpoint())
        .env("TF_CLI_CONFIG_FILE", rc.display().to_string())
        .env("SSL_CERT_FILE", tls.ca.display().to_string())
        .env("TF_PLUGIN_CACHE_DIR", "")
        .env("TF_REGISTRY_CLIENT_TIMEOUT", "30");
    ws.write(&format!(
        r#"terraform {{
  required_providers {{
    fansite = {{
      source  = "{source}"
      version = "{VERSION}"
    }}
  }}
}}
"#
    ));
    ws
}

/// A whole release, signed by a new RSA key, served over HTTPS on loopback,
/// installed by `terraform init`: the key id is printed, the lock file holds
/// the release's `zh:` hash and an `h1:` hash, and the installed binary starts
/// (its zip entry kept the exec bit). Then the three ways a release can be
/// wrong, each failing `init` with Terraform's own error.
async fn registry_init_installs_the_signed_release(tf: &Terraform) {
    let dir = scratch_dir(&format!("registry-{}", tf.version));
    let key = new_key(&dir, "release", "rsa3072");
    let other = new_key(&dir, "other", "rsa3072");
    let rel = dir.join("release");
    release(&rel, &key, "1764979200");
    let tls = make_tls(&dir);
    let server = serve_registry(&rel, &rel.with_extension("pub.asc"), &tls);
    let source = format!("localhost:{}/fansite/fansite", server.port);

    let ws = registry_workspace(tf, &dir, "good", &source, &tls);
    let out = ws.ok(&["init", "-input=false", "-no-color"]);
    assert!(
        out.contains(&format!(
            "Installed {source} v{VERSION} (self-signed, key ID {})",
            key.id
        )),
        "init names the key: {out}"
    );
    let lock = std::fs::read_to_string(ws.dir.join(".terraform.lock.hcl")).expect("lock file");
    let zip_hash = sha256_hex(&rel.join(file_name("zip")));
    assert!(
        lock.contains(&format!("provider \"{source}\""))
            && lock.contains(&format!("\"zh:{zip_hash}\""))
            && lock.contains("\"h1:"),
        "the lock file holds the release's hashes (zip {zip_hash}): {lock}"
    );
    // The installed plugin starts: Terraform reads its schema from it.
    let schema = ws.ok(&["providers", "schema", "-json"]);
    assert!(schema.contains("fansite_service"), "{schema}");

    // (a) SHA256SUMS signed by a key the registry does not list.
    let sig = rel.join(file_name("sig"));
    let good_sig = std::fs::read(&sig).expect("sig");
    detach_sign(&other, &rel.join(file_name("sums")), &sig, false);
    let ws = registry_workspace(tf, &dir, "wrong-key", &source, &tls);
    let out = flat(&ws.fails(&["init", "-input=false", "-no-color"]));
    assert!(
        out.contains("authentication signature from unknown issuer"),
        "a signature by another key: {out}"
    );

    // (b) An ASCII-armored signature where Terraform reads a binary one.
    detach_sign(&key, &rel.join(file_name("sums")), &sig, true);
    let ws = registry_workspace(tf, &dir, "armored", &source, &tls);
    let out = flat(&ws.fails(&["init", "-input=false", "-no-color"]));
    assert!(
        out.contains("error checking signature: openpgp: invalid data"),
        "an armored signature: {out}"
    );
    std::fs::write(&sig, &good_sig).expect("restore sig");

    // (c) A zip whose hash SHA256SUMS does not list (the registry reports the
    // zip's own hash, so only the signed checksum list can catch it).
    let zip = rel.join(file_name("zip"));
    let good_zip = std::fs::read(&zip).expect("zip");
    let mut other_zip = good_zip.clone();
    other_zip.extend_from_slice(b"\0");
    std::fs::write(&zip, &other_zip).expect("swap zip");
    let ws = registry_workspace(tf, &dir, "swapped-zip", &source, &tls);
    let out = flat(&ws.fails(&["init", "-input=false", "-no-color"]));
    assert!(
        out.contains(&format!(
            "checksum list has unexpected SHA-256 hash {zip_hash} (expected {})",
            sha256_hex(&zip)
        )),
        "a zip not in SHA256SUMS: {out}"
    );
    std::fs::write(&zip, &good_zip).expect("restore zip");
    drop(server);

    // `make release VERSION=<this version>`'s own release (the `dist` build,
    // signed by the team's key), when one was made in this checkout.
    let made = repo_root().join("dist").join(VERSION);
    let public = repo_root().join("dist").join(format!("{VERSION}.pub.asc"));
    if !(made.join(file_name("sums")).exists() && public.exists()) {
        eprintln!(
            "no {} from `make release`: only this test's own release was installed",
            made.display()
        );
        return;
    }
    let server = serve_registry(&made, &public, &tls);
    let source = format!("localhost:{}/fansite/fansite", server.port);
    let ws = registry_workspace(tf, &dir, "make-release", &source, &tls);
    let out = ws.ok(&["init", "-input=false", "-no-color"]);
    assert!(
        out.contains(&format!(
            "Installed {source} v{VERSION} (self-signed, key ID "
        )),
        "{out}"
    );
    let schema = ws.ok(&["providers", "schema", "-json"]);
    assert!(schema.contains("fansite_service"), "{schema}");
}
per_terraform!(registry_init_installs_the_signed_release);

/// Two releases of the same binary at the same commit time are the same bytes;
/// the zip holds one entry, the binary, with mode 0755; SHA256SUMS covers the
/// zip and the manifest; the signature is binary OpenPGP and verifies.
#[test]
fn a_release_is_reproducible_executable_and_signed() {
    let dir = scratch_dir("release-reproducible");
    let key = new_key(&dir, "release", "rsa3072");
    let (a, b) = (dir.join("a"), dir.join("b"));
    release(&a, &key, "1764979200");
    release(&b, &key, "1764979200");
    let mut names: Vec<String> = std::fs::read_dir(&a)
        .expect("release dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut want: Vec<String> = ["manifest", "sums", "sig", "zip"].map(file_name).into();
    want.sort();
    assert_eq!(names, want, "HashiCorp's release layout");
    for n in &names {
        assert_eq!(
            std::fs::read(a.join(n)).expect("a"),
            std::fs::read(b.join(n)).expect("b"),
            "{n} is byte-identical in two releases of the same commit"
        );
    }
    let entries = run(Command::new(python()).args([
        "-c",
        "import sys, zipfile\nfor i in zipfile.ZipFile(sys.argv[1]).infolist(): print(i.filename, oct(i.external_attr >> 16), i.create_system)",
    ]).arg(a.join(file_name("zip"))));
    assert_eq!(
        String::from_utf8_lossy(&entries.stdout).trim(),
        format!("terraform-provider-fansite_v{VERSION} 0o100755 3"),
        "one entry, the binary, executable"
    );
    let sums = std::fs::read_to_string(a.join(file_name("sums"))).expect("sums");
    let zip_line = format!(
        "{}  {}",
        sha256_hex(&a.join(file_name("zip"))),
        file_name("zip")
    );
    let manifest_line = format!(
        "{}  {}",
        sha256_hex(&a.join(file_name("manifest"))),
        file_name("manifest")
    );
    assert!(sums.lines().any(|l| l == zip_line), "{sums}");
    assert!(sums.lines().any(|l| l == manifest_line), "{sums}");
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join(file_name("manifest"))).expect("manifest"))
            .expect("manifest json");
    assert_eq!(
        manifest["metadata"]["protocol_versions"],
        serde_json::json!(["6.0"])
    );
    let sig = std::fs::read(a.join(file_name("sig"))).expect("sig");
    assert!(
        !sig.starts_with(b"-----BEGIN"),
        "the signature is binary, not armored"
    );
    run(gpg(&key.home)
        .arg("--verify")
        .arg(a.join(file_name("sig")))
        .arg(a.join(file_name("sums"))));
    // Another commit time gives other zips (the time is the commit's, not now).
    let c = dir.join("c");
    release(&c, &key, "1764979260");
    assert_ne!(
        std::fs::read(a.join(file_name("zip"))).expect("a"),
        std::fs::read(c.join(file_name("zip"))).expect("c")
    );
}

/// Terraform Cloud and the public registry take RSA or DSA keys only: a
/// release signed by another kind would be refused there, so it is refused here.
#[test]
fn a_release_key_that_is_not_rsa_is_refused() {
    let dir = scratch_dir("release-not-rsa");
    let key = new_key(&dir, "ed", "ed25519");
    let out = Command::new(python())
        .arg(repo_root().join("scripts/release.py"))
        .args(["--version", VERSION, "--out"])
        .arg(dir.join("out"))
        .arg("--binary")
        .arg(format!(
            "linux_amd64={}",
            built_bin("terraform-provider-fansite").display()
        ))
        .env("FANSITE_RELEASE_GPG_KEY", &key.secret)
        .output()
        .expect("run release.py");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is EdDSA, not RSA"),
        "says an RSA key is needed: {err}"
    );
    assert!(
        !err.contains("PRIVATE KEY BLOCK"),
        "never prints the key: {err}"
    );
    assert!(
        !dir.join("out").join(file_name("sig")).exists(),
        "nothing signed"
    );
}

fn get_json(url: &str) -> serde_json::Value {
    let out = run(Command::new(python()).args([
        "-c",
        "import sys, urllib.request\nsys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())",
        url,
    ]));
    serde_json::from_slice(&out.stdout).expect("json")
}

fn publish(dir: &Path, port: u16, token: &str) -> Output {
    Command::new(python())
        .arg(repo_root().join("scripts/publish.py"))
        .arg("--dir")
        .arg(dir)
        .args([
            "--version",
            VERSION,
            "--organization",
            "fansite",
            "--address",
        ])
        .arg(format!("http://127.0.0.1:{port}"))
        .env("TFE_TOKEN", token)
        .stdin(Stdio::null())
        .output()
        .expect("run publish.py")
}

/// A release published through Terraform Cloud's private registry API: the
/// stand-in checks every request as the API documentation gives it (it
/// refuses a wrong path, header, body or token) and holds what was uploaded.
/// The version is made with the signing key's id; SHA256SUMS, its signature
/// and the platform zip arrive byte for byte; a second run uploads nothing; a
/// wrong token fails without printing it.
#[test]
fn publish_uploads_a_release_through_the_terraform_cloud_api() {
    let dir = scratch_dir("publish");
    let key = new_key(&dir, "release", "rsa3072");
    let rel = dir.join("release");
    release(&rel, &key, "1764979200");
    let token = "standin-token-5f2b9c";
    let port_file = dir.join("tfc.port");
    let log = dir.join("tfc.jsonl");
    let mut c = Command::new(python());
    c.arg(repo_root().join("tests/registry/tfc_standin.py"))
        .args([
            "--token",
            token,
            "--provider",
            "fansite/fansite",
            "--gpg-key-id",
            &key.id,
        ])
        .arg("--port-file")
        .arg(&port_file)
        .arg("--log")
        .arg(&log);
    let server = start_server(c, &port_file);

    let out = publish(&rel, server.port, token);
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "publish: {said}");
    assert!(!said.contains(token), "the token is never printed: {said}");
    let state = get_json(&format!("http://127.0.0.1:{}/_standin/state", server.port));
    let v = &state["providers"][0]["versions"][VERSION];
    assert_eq!(state["providers"][0]["namespace"], "fansite", "{state}");
    assert_eq!(v["key-id"], key.id.as_str(), "{state}");
    assert_eq!(v["protocols"], serde_json::json!(["6.0"]), "{state}");
    for (part, file) in [("shasums", "sums"), ("shasums-sig", "sig")] {
        assert_eq!(v[part]["uploaded"], true, "{part}: {state}");
        assert_eq!(
            v[part]["sha256"],
            sha256_hex(&rel.join(file_name(file))).as_str(),
            "{part} arrived byte for byte: {state}"
        );
    }
    let platform = &v["platforms"]["linux_amd64"];
    let zip_hash = sha256_hex(&rel.join(file_name("zip")));
    assert_eq!(platform["filename"], file_name("zip").as_str(), "{state}");
    assert_eq!(platform["shasum"], zip_hash.as_str(), "{state}");
    assert_eq!(platform["listed-in-shasums"], true, "{state}");
    assert_eq!(platform["binary"]["sha256"], zip_hash.as_str(), "{state}");

    // Again: everything is there, so nothing is created or uploaded.
    let before = std::fs::read_to_string(&log).expect("log").lines().count();
    let out = publish(&rel, server.port, token);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let again: Vec<serde_json::Value> = std::fs::read_to_string(&log)
        .expect("log")
        .lines()
        .skip(before)
        .map(|l| serde_json::from_str(l).expect("log line"))
        .collect();
    assert!(!again.is_empty());
    assert!(
        again.iter().all(|r| r["method"] == "GET"),
        "a second run only reads: {again:?}"
    );

    // A wrong token: a clear failure, the token not echoed.
    let out = publish(&rel, server.port, "not-the-token-8d1e");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("401"), "{err}");
    assert!(!err.contains("not-the-token-8d1e"), "{err}");
    drop(server);
}
