"""`make bench`, second part: the provider at scale, on the local endpoint.

  stack   The whole stack (network per_az over 3 zones, database with 2
          readers, service with alerts, edge with the service as its API
          origin, auth) applied and destroyed through the realistic layer,
          against the critical path of its AWS waits: the longest chain of
          waits that depend on each other, in the layer's windows
          (CRITICAL_PATH below says which waits and why).
  plan    `terraform plan` of 200 composites (40 stacks of 5) in one
          configuration, against the same 200 planned as 5 configurations of
          40: wall time and AWS calls (counted by a proxy in front of the
          endpoint).
  build   The TLS stacks compiled into the plugin (`cargo tree`).

Appends its table to target/bench/report.md and prints it.
"""
import argparse
import http.client
import json
import http.server
import os
import re
import shutil
import socket
import socketserver
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "target" / "bench"
REGION = "us-east-1"
ZONES = ["us-east-1a", "us-east-1b", "us-east-1c"]

# The layer's windows for the stack: a base window of 10 s (on AWS each of
# these waits is minutes) and 10 ms per call (on AWS a call takes tens of
# milliseconds): the ratio of a call to a wait stays about AWS's, so that the
# comparison with the critical path is about waits, as on AWS. 10 s is also
# the time the service allows IAM to propagate a new execution role
# (IAM_SETTLE), which the layer's role window must not exceed.
SCALE = 5.0
LATENCY = 0.01

# The critical path of the stack's AWS waits, in windows of the layer
# (tests/realistic/world.rs). Each step waits for the one before it; what
# waits beside it (shorter) is named in brackets.
CRITICAL_PATH = {
    "apply": [
        ("network", "NAT gateways pending (3 zones side by side)", 1),
        ("database", "cluster creating, backing-up (needs the subnets)", 2),
        ("database", "writer and 2 readers creating, backing-up (side by side; need the cluster)", 2),
        ("database", "reader scaling refused while Application Auto Scaling's service-linked role is made "
                     "(first use in the account; the target needs the writer: Aurora Auto Scaling adds no "
                     "replica to a cluster registered before its primary)", 1),
        ("service", "execution role propagating before the first tasks start (needs the database's group "
                    "and secret) [beside it: ECS's first cluster refused, 1; the notifier's role propagating, "
                    "then its function pending, 2]", 1),
        ("service", "scaling target refused until the new service exists", 1),
        ("edge", "distribution deploying (needs the load balancer's name) [auth beside it all: user pool "
                 "domain creating, 1]", 1),
    ],
    "destroy": [
        ("edge", "distribution deploying as disabled", 1),
        ("edge", "access control, function and web ACL held by the deleted distribution", 1),
        ("service", "service draining (its origin must outlive the edge)", 1),
        ("service", "load balancer's interfaces lingering, holding its security group", 2),
        ("database", "instances deleting, then the cluster (its group is the service's allow_to)", 2),
        ("network", "NAT gateways deleting, their interfaces lingering (side by side)", 1),
    ],
}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, what, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"bench: {what} did not start on port {port}")


class Endpoint:
    """The local endpoint (moto_server) and the realistic layer in front of it."""

    def __init__(self, layer_bin, scale, latency):
        port = free_port()
        BENCH.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, MOTO_ECS_SERVICE_RUNNING="2", MOTO_IAM_LOAD_MANAGED_POLICIES="true")
        self.moto = subprocess.Popen([str(ROOT / ".tools/bin/moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                                     stdout=open(BENCH / "moto.log", "w"), stderr=subprocess.STDOUT, env=env)
        wait_port(port, "moto_server")
        env = dict(os.environ, FANSITE_REALISTIC_SCALE=str(scale), FANSITE_REALISTIC_LATENCY=str(latency))
        self.layer = subprocess.Popen([layer_bin, f"http://127.0.0.1:{port}"], stdout=subprocess.PIPE,
                                      stderr=open(BENCH / "realistic.log", "w"), env=env, text=True)
        self.url = self.layer.stdout.readline().strip()
        if not self.url.startswith("http://"):
            sys.exit("bench: the realistic layer did not start; see target/bench/realistic.log")

    def stop(self):
        for p in (self.layer, self.moto):
            p.terminate()
            p.wait()


class Counter:
    """A proxy that forwards every call to `upstream` and counts them."""

    def __init__(self, upstream):
        up = urllib.parse.urlparse(upstream)
        counter = self
        self.calls = 0
        self.lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def forward(self):
                with counter.lock:
                    counter.calls += 1
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else None
                conn = http.client.HTTPConnection(up.hostname, up.port, timeout=300)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection",)}
                conn.request(self.command, self.path, body=body, headers=headers)
                r = conn.getresponse()
                data = r.read()
                self.send_response(r.status)
                for k, v in r.getheaders():
                    if k.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                conn.close()

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = forward

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def take(self):
        with self.lock:
            n, self.calls = self.calls, 0
        return n


def tf_env(rc, endpoint):
    e = dict(os.environ)
    e.update(TF_CLI_CONFIG_FILE=str(rc), CHECKPOINT_DISABLE="1", TF_IN_AUTOMATION="1",
             AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_EC2_METADATA_DISABLED="true",
             TF_VAR_aws_endpoint=endpoint)
    e.pop("TF_LOG", None)
    return e


def terraform(tf, args, cwd, rc, endpoint):
    start = time.perf_counter()
    p = subprocess.run([tf] + args, cwd=cwd, env=tf_env(rc, endpoint), capture_output=True, text=True)
    took = time.perf_counter() - start
    if p.returncode != 0:
        sys.exit(f"bench: terraform {' '.join(args)} failed in {cwd}:\n{p.stdout[-4000:]}\n{p.stderr[-4000:]}")
    return took, p.stdout


HEAD = """terraform {
  required_providers {
    fansite = { source = "fansite/fansite" }
  }
}

variable "aws_endpoint" {
  type = string
}

provider "fansite" {
  region   = "%s"
  endpoint = var.aws_endpoint
}
""" % REGION


def stack(name, cidr, zones, nat, readers, webhook=True):
    """One stack: the five composites, as examples/ and tests/it/stack.rs have them."""
    alerts = """
  alerts {
    slack_webhook_url_wo         = "https://hooks.slack.com/services/T0FANSITE/B0BENCH/secret"
    slack_webhook_url_wo_version = "1"
  }""" if webhook else ""
    r = name.replace("-", "_")
    return f"""
resource "fansite_network" "{r}" {{
  name               = "{name}"
  cidr_block         = "{cidr}"
  availability_zones = {zones!r}
  nat_strategy       = "{nat}"
}}

resource "fansite_database" "{r}" {{
  name                = "{name}"
  vpc_id              = fansite_network.{r}.vpc_id
  subnet_ids          = fansite_network.{r}.private_subnet_ids
  deletion_protection = false
  skip_final_snapshot = true
  readers {{
    min = {readers}
    max = {max(readers, 1) + 1}
  }}
}}

resource "fansite_service" "{r}" {{
  name               = "{name}"
  image              = "123456789012.dkr.ecr.{REGION}.amazonaws.com/fansite-api"
  image_tag          = "1.0.0"
  vpc_id             = fansite_network.{r}.vpc_id
  public_subnet_ids  = fansite_network.{r}.public_subnet_ids
  private_subnet_ids = fansite_network.{r}.private_subnet_ids
  ingress            = "cloudfront"
  secrets = {{
    DB_HOST = "${{fansite_database.{r}.connection_secret_arn}}:host::"
  }}
  allow_to {{
    security_group_id = fansite_database.{r}.security_group_id
    port              = 3306
  }}
  autoscaling {{
    min = 2
    max = 6
  }}{alerts}
}}

resource "fansite_edge" "{r}" {{
  name                      = "{name}"
  api_origin                = fansite_service.{r}.alb_dns_name
  api_origin_protocol       = "http-only"
  api_origin_secret_arn     = fansite_service.{r}.origin_secret_arn
  api_origin_secret_version = fansite_service.{r}.origin_secret_version
  force_destroy             = true
}}

resource "fansite_auth" "{r}" {{
  name                = "{name}"
  callback_urls       = ["https://fans.example.com/auth/callback"]
  logout_urls         = ["https://fans.example.com/"]
  domain_prefix       = "{name}-login"
  deletion_protection = false
}}
""".replace("'", '"')


def workdir(name, config, tf, rc, endpoint):
    d = BENCH / name
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    (d / "main.tf").write_text(config)
    terraform(tf, ["init", "-input=false", "-no-color"], d, rc, endpoint)
    return d


def bench_stack(tf, rc, layer_bin):
    ep = Endpoint(layer_bin, SCALE, LATENCY)
    try:
        window = 2.0 * SCALE
        d = workdir("stack", HEAD + stack("bench-stack", "10.60.0.0/16", ZONES, "per_az", 2), tf, rc, ep.url)
        applied, out_a = terraform(tf, ["apply", "-auto-approve", "-input=false", "-no-color"], d, rc, ep.url)
        destroyed, out_d = terraform(tf, ["destroy", "-auto-approve", "-input=false", "-no-color"], d, rc, ep.url)
        (d / "apply.log").write_text(out_a)
        (d / "destroy.log").write_text(out_d)
    finally:
        ep.stop()
    rows = []
    for phase, took, out in (("apply", applied, out_a), ("destroy", destroyed, out_d)):
        path = sum(n for _, _, n in CRITICAL_PATH[phase]) * window
        rows.append((phase, took, path, each_took(out)))
    return window, rows


def each_took(out):
    """What each composite took, from Terraform's "Creation complete after 1m2s" lines."""
    took = {}
    for m in re.finditer(r"^(fansite_\w+)\.\w+: (?:Creation|Destruction) complete after (?:(\d+)m)?(\d+)s", out, re.M):
        took[m.group(1).removeprefix("fansite_")] = int(m.group(2) or 0) * 60 + int(m.group(3))
    return took


def plan(tf, d, rc, counter):
    """`terraform plan` of `d`, which must show no changes: its time and AWS calls."""
    counter.take()
    took, out = terraform(tf, ["plan", "-input=false", "-no-color"], d, rc, counter.url)
    if "No changes." not in out:
        sys.exit(f"bench: the plan of an unchanged configuration in {d} is not empty:\n{out[-4000:]}")
    return took, counter.take()


def bench_plan(tf, rc, layer_bin, stacks=40, split=5):
    """Applies `stacks` light stacks once (single NAT, 2 zones, no readers, no
    notifier), then plans them as one configuration and as `split`."""
    ep = Endpoint(layer_bin, 0, 0)
    counter = Counter(ep.url)
    try:
        def cfg(names):
            return HEAD + "".join(stack(n, f"10.{i % 200}.0.0/16", ZONES[:2], "single", 0, webhook=False)
                                  for i, n in names)
        everyone = [(i, f"b{i:02d}") for i in range(stacks)]
        one = workdir("plan-200", cfg(everyone), tf, rc, counter.url)
        counter.take()
        made, _ = terraform(tf, ["apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=10"],
                            one, rc, counter.url)
        made_calls = counter.take()
        # The same resources as 5 configurations of 40: each holds the state
        # of its stacks (moved from the one configuration's state).
        per = stacks // split
        parts = []
        for k in range(split):
            names = everyone[k * per:(k + 1) * per]
            d = workdir(f"plan-40-{k}", cfg(names), tf, rc, counter.url)
            parts.append((d, names))
        state = subprocess.run([tf, "state", "pull"], cwd=one, env=tf_env(rc, counter.url),
                               capture_output=True, text=True, check=True).stdout
        full = json.loads(state)
        for d, names in parts:
            keep = {n for _, n in names}
            s = dict(full)
            s["resources"] = [r for r in full["resources"] if r["name"] in keep]
            s["lineage"] = full["lineage"] + f"-{d.name}"
            (d / "terraform.tfstate").write_text(json.dumps(s))
        counter.take()
        plan_one, calls_one = plan(tf, one, rc, counter)
        plan_parts, calls_parts = 0.0, 0
        for d, _ in parts:
            took, calls = plan(tf, d, rc, counter)
            plan_parts += took
            calls_parts += calls
        terraform(tf, ["destroy", "-auto-approve", "-input=false", "-no-color", "-parallelism=10"],
                  one, rc, counter.url)
    finally:
        ep.stop()
    return stacks * 5, made, made_calls, (plan_one, calls_one), (plan_parts, calls_parts)


def tls_stacks():
    found = []
    for crate in ("ring", "aws-lc-rs", "aws-lc-sys", "openssl-sys"):
        p = subprocess.run(["cargo", "tree", "-p", "terraform-provider-fansite", "-e", "normal", "-i", crate],
                           cwd=ROOT, capture_output=True, text=True)
        if p.returncode == 0 and p.stdout.strip():
            found.append(crate)
    return found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--terraform", required=True)
    ap.add_argument("--rc", required=True, help="a terraformrc whose filesystem mirror holds the plugin")
    ap.add_argument("--layer", required=True, help="the fansite-realistic binary")
    ap.add_argument("--only", choices=["stack", "plan", "build"], action="append")
    a = ap.parse_args()
    a.rc = str(Path(a.rc).resolve())
    only = set(a.only or ["stack", "plan", "build"])
    lines = ["", "## At scale, on the local endpoint", ""]
    if "stack" in only:
        window, rows = bench_stack(a.terraform, a.rc, a.layer)
        lines += [
            f"Whole stack (network per_az over 3 zones, database with 2 readers, service with alerts, edge, auth) "
            f"through the realistic layer, one window = {window:.0f} s, {LATENCY * 1000:.0f} ms per call:",
            "",
            "| phase | took, s | critical path of its AWS waits, s | took / critical path |",
            "| --- | ---: | ---: | ---: |",
        ]
        for phase, took, path, each in rows:
            lines.append(f"| `terraform {phase}` | {took:.1f} | {path:.0f} | {took / path:.2f} |")
        total_took = sum(r[1] for r in rows)
        total_path = sum(r[2] for r in rows)
        lines.append(f"| both | {total_took:.1f} | {total_path:.0f} | {total_took / total_path:.2f} |")
        lines.append("")
        for phase, _, _, each in rows:
            lines.append(f"Each composite's {phase}, s (Terraform's own count): "
                         + ", ".join(f"{k} {v}" for k, v in each.items()) + ".")
        lines.append("")
        for phase, steps in CRITICAL_PATH.items():
            lines.append(f"Critical path of {phase}: " + " → ".join(f"{part}: {what} ({n} × {window:.0f} s)"
                                                                for part, what, n in steps) + ".")
        lines.append("")
    if "plan" in only:
        n, made, made_calls, (t1, c1), (t5, c5) = bench_plan(a.terraform, a.rc, a.layer)
        lines += [
            f"`terraform plan` of {n} composites, unchanged (applied once in {made:.0f} s, {made_calls} AWS calls):",
            "",
            "| plan | wall time, s | AWS calls |",
            "| --- | ---: | ---: |",
            f"| one configuration of {n} | {t1:.1f} | {c1} |",
            f"| 5 configurations of {n // 5}, one after another | {t5:.1f} | {c5} |",
            f"| one / five | {t1 / t5:.2f} | {c1 / c5:.2f} |",
            "",
        ]
    if "build" in only:
        stacks = tls_stacks()
        lines.append(f"Crypto crates compiled into the plugin: {', '.join(stacks) or 'none'} "
                     f"({'one TLS stack' if stacks == ['ring'] else 'more than one TLS stack'}).")
        lines.append("")
    text = "\n".join(lines) + "\n"
    report = BENCH / "report.md"
    with report.open("a") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
