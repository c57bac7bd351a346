"""Benchmark: our provider against a Go (terraform-plugin-framework) peer.

For each provider, in one run and alternating between them:
  - schema: plugin start + `terraform providers schema -json`
  - validate: `terraform validate` of an example configuration
Reports medians, the ratio ours/peer, and each plugin's peak RSS (VmHWM read
from /proc by a wrapper while the plugin runs; the timed runs use the plugins
directly, without the wrapper). Writes target/bench/report.md.
"""
import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "target" / "bench"
# The workspace's version, as scripts/mirror.sh and make release read it.
VERSION = next(
    line.split('"')[1]
    for line in (ROOT / "Cargo.toml").read_text().splitlines()
    if line.startswith("version = ")
)
PLATFORM = f"{platform.system().lower()}_{'amd64' if platform.machine() in ('x86_64', 'AMD64') else 'arm64'}"

OURS_TF = """terraform {
  required_providers {
    fansite = { source = "fansite/fansite" }
  }
}
"""
PEER_TF = """terraform {
  required_providers {
    workato = { source = "local/workato" }
  }
}
"""
PEER_VALIDATE = """
resource "workato_folder" "fans" {
  name      = "fans"
  folder_id = "1"
}
"""


def mirror(name, host_path, binary, wrapper_python=None):
    """A filesystem mirror holding one provider (or a wrapper that records peak RSS)."""
    root = BENCH / name / "mirror"
    if root.exists():
        shutil.rmtree(root)
    ns, typ, version = host_path
    d = root / "registry.terraform.io" / ns / typ / version / PLATFORM
    d.mkdir(parents=True)
    exe = d / f"terraform-provider-{typ}_v{version}"
    if wrapper_python:
        rss_file = BENCH / name / "rss.txt"
        real = root / "bin" / binary.name
        real.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(binary, real)
        real.chmod(0o755)
        # The plugin's own peak (VmHWM of its post-exec memory), sampled while it
        # runs. getrusage of a child would count the forking wrapper's pages too.
        exe.write_text(
            f"#!{wrapper_python}\n"
            "import subprocess, sys, time\n"
            f"p = subprocess.Popen([{str(real)!r}] + sys.argv[1:])\n"
            "hwm = 0\n"
            "while p.poll() is None:\n"
            "    try:\n"
            "        for line in open(f'/proc/{p.pid}/status'):\n"
            "            if line.startswith('VmHWM:'):\n"
            "                hwm = max(hwm, int(line.split()[1]))\n"
            "    except OSError:\n"
            "        pass\n"
            "    time.sleep(0.002)\n"
            f"open({str(rss_file)!r}, 'a').write(str(hwm) + '\\n')\n"
            "sys.exit(p.returncode)\n"
        )
    else:
        shutil.copy(binary, exe)
    exe.chmod(0o755)
    rc = BENCH / name / "terraformrc"
    rc.write_text(
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path = "{root}"\n    include = ["registry.terraform.io/{ns}/{typ}"]\n  }}\n'
        f'  direct {{\n    exclude = ["registry.terraform.io/{ns}/{typ}"]\n  }}\n'
        "}\n"
    )
    return rc


def workdir(name, config, rc, tf):
    d = BENCH / name / "work"
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    (d / "main.tf").write_text(config)
    run(tf, ["init", "-input=false", "-no-color"], d, rc)
    return d


def env(rc):
    e = dict(os.environ)
    e.update(TF_CLI_CONFIG_FILE=str(rc), CHECKPOINT_DISABLE="1", TF_IN_AUTOMATION="1",
             AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_EC2_METADATA_DISABLED="true")
    e.pop("TF_LOG", None)
    return e


def run(tf, args, cwd, rc):
    p = subprocess.run([tf] + args, cwd=cwd, env=env(rc), capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"bench: terraform {' '.join(args)} failed in {cwd}:\n{p.stdout}\n{p.stderr}")
    return p.stdout


def timed(tf, args, cwd, rc):
    start = time.perf_counter()
    run(tf, args, cwd, rc)
    return time.perf_counter() - start


def gen_bench(gen, count=1000, runs=5):
    """Times `fansite-gen render` of `count` workspaces (copies of the backend spec)."""
    root = BENCH / "gen"
    if root.exists():
        shutil.rmtree(root)
    (root / "workspaces").mkdir(parents=True)
    shutil.copytree(ROOT / "templates", root / "templates")
    spec = (ROOT / "workspaces" / "backend.toml").read_text()
    # Only one spec may render the API's release workflow and the surge
    # script (fansite-gen refuses a second): the copies after the first leave
    # out their [pipeline] and [loadtest] tables.
    alone = []
    skipping = False
    for line in spec.splitlines(keepends=True):
        header = line.strip()
        if header.startswith("["):
            skipping = header.startswith(("[pipeline", "[loadtest"))
        if not skipping:
            alone.append(line)
    alone = "".join(alone)
    for i in range(count):
        text = (spec if i == 0 else alone).replace('"fansite-backend"', f'"fansite-ws{i}"').replace('"workspaces/backend"', f'"workspaces/ws{i}"')
        (root / "workspaces" / f"ws{i}.toml").write_text(text)
    times = []
    for _ in range(runs):
        out = root / "out"
        if out.exists():
            shutil.rmtree(out)
        t = time.perf_counter()
        subprocess.run([gen, "render", "--root", str(root), "--out", str(out)], check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    files = sum(1 for _ in (root / "out").rglob("*") if _.is_file())
    return (f"fansite-gen render of {count} workspaces ({files} files, written to disk): "
            f"median {statistics.median(times) * 1000:.0f} ms over {runs} runs")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--terraform", required=True)
    ap.add_argument("--ours", required=True)
    ap.add_argument("--peer-payload", required=True)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--gen", help="fansite-gen binary: also time rendering 1,000 workspaces")
    a = ap.parse_args()
    BENCH.mkdir(parents=True, exist_ok=True)
    tf = a.terraform
    peer_bin = Path(a.peer_payload) / "registry.terraform.io/local/workato/0.16.0" / PLATFORM / "terraform-provider-workato_v0.16.0"
    ours_example = (ROOT / "examples/network/main.tf").read_text()

    sides = {
        "ours": (("fansite", "fansite", VERSION), Path(a.ours), OURS_TF, ours_example),
        "peer": (("local", "workato", "0.16.0"), peer_bin, PEER_TF, PEER_TF + PEER_VALIDATE),
    }
    dirs = {}
    for name, (addr, binary, schema_tf, validate_tf) in sides.items():
        rc = mirror(name, addr, binary)
        dirs[name] = (rc, workdir(f"{name}-schema", schema_tf, rc, tf), workdir(f"{name}-validate", validate_tf, rc, tf))

    # Terraform alone: the same commands on a configuration with no provider.
    base_dir = BENCH / "base" / "work"
    if base_dir.exists():
        shutil.rmtree(base_dir)
    base_dir.mkdir(parents=True)
    (base_dir / "main.tf").write_text('output "x" {\n  value = 1\n}\n')
    base_rc = dirs["ours"][0]
    run(tf, ["init", "-input=false", "-no-color"], base_dir, base_rc)

    times = {(n, k): [] for n in list(sides) + ["base"] for k in ("schema", "validate")}
    for _ in range(a.runs):
        times[("base", "schema")].append(timed(tf, ["providers", "schema", "-json"], base_dir, base_rc))
        times[("base", "validate")].append(timed(tf, ["validate", "-no-color"], base_dir, base_rc))
        for name in sides:
            rc, schema_dir, validate_dir = dirs[name]
            times[(name, "schema")].append(timed(tf, ["providers", "schema", "-json"], schema_dir, rc))
            times[(name, "validate")].append(timed(tf, ["validate", "-no-color"], validate_dir, rc))

    # Peak RSS: the same two commands through the recording wrapper.
    rss = {}
    for name, (addr, binary, schema_tf, validate_tf) in sides.items():
        rss_file = BENCH / f"{name}-rss" / "rss.txt"
        (BENCH / f"{name}-rss").mkdir(parents=True, exist_ok=True)
        rss_file.unlink(missing_ok=True)
        rc = mirror(f"{name}-rss", addr, binary, wrapper_python=sys.executable)
        w = workdir(f"{name}-rss-validate", validate_tf, rc, tf)
        rss_file.unlink(missing_ok=True)
        for _ in range(3):
            run(tf, ["providers", "schema", "-json"], w, rc)
            run(tf, ["validate", "-no-color"], w, rc)
        values = [int(x) for x in rss_file.read_text().split()] if rss_file.exists() else []
        rss[name] = max(values) / 1024 if values else float("nan")

    tf_version = run(tf, ["version"], BENCH, dirs["ours"][0]).splitlines()[0]
    size = {n: sides[n][1].stat().st_size / 1e6 for n in sides}
    med = {key: statistics.median(v) * 1000 for key, v in times.items()}
    lines = [
        f"# Benchmark ({tf_version}, {a.runs} runs each, alternating; {os.cpu_count()} cores)",
        "",
        "| measure | fansite (Rust) | peer (Go, plugin-framework) | ours / peer |",
        "| --- | ---: | ---: | ---: |",
    ]
    labels = {"schema": "plugin start + `providers schema -json`",
              "validate": "`terraform validate` of an example"}
    for k in ("schema", "validate"):
        o, p, b = med[("ours", k)], med[("peer", k)], med[("base", k)]
        lines.append(f"| {labels[k]}, median ms | {o:.0f} | {p:.0f} | {o / p:.2f} |")
        lines.append(f"| the same less Terraform alone ({b:.0f} ms): the plugin's share, ms | {o - b:.0f} | {p - b:.0f} | {(o - b) / (p - b):.2f} |")
    lines.append(f"| plugin peak RSS, MiB | {rss['ours']:.1f} | {rss['peer']:.1f} | {rss['ours'] / rss['peer']:.2f} |")
    lines.append(f"| plugin binary, MB | {size['ours']:.1f} | {size['peer']:.1f} | {size['ours'] / size['peer']:.2f} |")
    if a.gen:
        lines.append("")
        lines.append(gen_bench(a.gen))
    lines.append("")
    lines.append("Whole-command times include Terraform's own work, the same for both; 'Terraform alone' runs the")
    lines.append("same command on a configuration without any provider, and the plugin's share is the difference.")
    report = "\n".join(lines) + "\n"
    (BENCH / "report.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
