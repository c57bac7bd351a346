#!/usr/bin/env python3
"""Publish a release of terraform-provider-fansite to a Terraform Cloud (HCP Terraform) organization's private registry.

  TFE_TOKEN=... scripts/publish.py --dir RELEASE_DIR --version 0.2.0 --organization ORG \\
      [--namespace ORG] [--name fansite] [--key-id HEX16] [--address https://app.terraform.io] [--protocols 6.0]

RELEASE_DIR holds the release in HashiCorp's layout:
  terraform-provider-<name>_<version>_<os>_<arch>.zip   one per platform
  terraform-provider-<name>_<version>_SHA256SUMS        sha256 of each zip (and of the manifest)
  terraform-provider-<name>_<version>_SHA256SUMS.sig    detached GPG signature of SHA256SUMS (binary)
  terraform-provider-<name>_<version>_manifest.json     optional; metadata.protocol_versions gives the protocols

The provider itself (tfe_registry_provider, registry "private", namespace = organization) and the signing key
(tfe_registry_gpg_key; its id is the key id) must already exist: the tfe provider makes those. This script does
what no released tfe resource does, following
https://developer.hashicorp.com/terraform/cloud-docs/api-docs/private-registry/provider-versions-platforms and
https://developer.hashicorp.com/terraform/cloud-docs/registry/publish-providers:

  1. checks everything locally first (each zip's sha256 against SHA256SUMS, the key id) — no request before that;
  2. finds the version (GET) or creates it (POST .../versions: version, key-id, protocols);
  3. uploads SHA256SUMS and the .sig to the version's shasums-upload / shasums-sig-upload links, unless uploaded;
  4. for each zip: finds the platform (GET .../platforms/:os/:arch) or creates it (POST: os, arch, shasum,
     filename), and uploads the zip to its provider-binary-upload link, unless uploaded;
  5. reads the version and platforms back and says what is published.

Re-running it is safe: what exists is kept, what was uploaded is not sent again (the SHA256SUMS and .sig already
there are downloaded and compared with the local ones). The token comes from TFE_TOKEN and goes only to the API host
as `Authorization: Bearer`; it is never printed. Upload links are pre-signed secrets and are not printed either.
The key id is --key-id, else the issuer key id of the .sig (`gpg --list-packets`).

Python 3.11 standard library only. Exit status 0 when the release is published, 1 on any error.
"""
import argparse
import hashlib
import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

# The release's own hashing (scripts/ is on the path when this runs as a script).
from release import sha256_file

JSONAPI = "application/vnd.api+json"
PROTOCOLS = ("4.0", "5.0", "6.0")
DEFAULT_PROTOCOLS = ["6.0"]  # fansite speaks plugin protocol 6
SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
KEY_ID = re.compile(r"^[0-9A-F]{16}$")
SUMS_LINE = re.compile(r"^([0-9a-fA-F]{64}) [ *](.+)$")
OS_ARCH = re.compile(r"^[a-z0-9]+$")
RETRY_STATUSES = {429, 502, 503, 504}
ATTEMPTS = 4


class Failure(Exception):
    """Stops the run; the message is printed as is (it never holds the token)."""


def say(line):
    print(line, flush=True)


# --- the release on disk ------------------------------------------------------------------------------------------

class Release:
    def __init__(self, directory, name, version):
        self.dir = directory
        self.prefix = f"terraform-provider-{name}_{version}"
        self.sums_name = f"{self.prefix}_SHA256SUMS"
        self.sig_name = f"{self.sums_name}.sig"
        self.manifest_name = f"{self.prefix}_manifest.json"
        self.sums_path = os.path.join(directory, self.sums_name)
        self.sig_path = os.path.join(directory, self.sig_name)
        self.platforms = []  # (os, arch, filename, path, sha256, size)

    def check(self):
        """Everything that can be checked without the network. Raises Failure listing every problem found."""
        if not os.path.isdir(self.dir):
            raise Failure(f"--dir {self.dir}: not a directory")
        problems = []
        for path in (self.sums_path, self.sig_path):
            if not os.path.isfile(path):
                problems.append(f"missing {path}")
        if problems:
            raise Failure("; ".join(problems))

        listed = {}
        with open(self.sums_path, "r", encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                line = line.rstrip("\r\n")
                if not line.strip():
                    continue
                m = SUMS_LINE.match(line)
                if not m:
                    problems.append(f"{self.sums_name} line {n} is not '<sha256>  <file name>': {line[:100]!r}")
                    continue
                digest, filename = m.group(1).lower(), m.group(2)
                if filename in listed:
                    problems.append(f"{self.sums_name} lists {filename} twice")
                listed[filename] = digest

        zips = sorted(f for f in os.listdir(self.dir)
                      if f.startswith(self.prefix + "_") and f.endswith(".zip"))
        for filename in zips:
            tail = filename[len(self.prefix) + 1:-len(".zip")]
            parts = tail.split("_")
            if len(parts) != 2 or not all(OS_ARCH.match(p) for p in parts):
                problems.append(f"{filename}: expected {self.prefix}_<os>_<arch>.zip")
                continue
            path = os.path.join(self.dir, filename)
            actual = sha256_file(path)
            if filename not in listed:
                problems.append(f"{filename} is not listed in {self.sums_name}")
            elif listed[filename] != actual:
                problems.append(f"{filename}: sha256 {actual} does not match {self.sums_name} ({listed[filename]})")
            else:
                self.platforms.append((parts[0], parts[1], filename, path, actual, os.path.getsize(path)))
        for filename, digest in sorted(listed.items()):
            path = os.path.join(self.dir, filename)
            if filename.endswith(".zip") and filename not in zips:
                problems.append(f"{self.sums_name} lists {filename}, which is not in {self.dir}")
            elif not filename.endswith(".zip") and os.path.isfile(path) and sha256_file(path) != digest:
                problems.append(f"{filename}: sha256 does not match {self.sums_name}")
        if not zips and not problems:
            problems.append(f"no {self.prefix}_<os>_<arch>.zip in {self.dir}")
        if problems:
            raise Failure("the release does not check out, nothing was sent:\n  " + "\n  ".join(problems))

    def protocols(self):
        path = os.path.join(self.dir, self.manifest_name)
        if not os.path.isfile(path):
            return None
        try:
            with open(path, "r", encoding="utf-8") as f:
                manifest = json.load(f)
            protocols = manifest["metadata"]["protocol_versions"]
            if not isinstance(protocols, list) or not all(isinstance(p, str) for p in protocols):
                raise ValueError("metadata.protocol_versions is not a list of strings")
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise Failure(f"{self.manifest_name}: cannot read metadata.protocol_versions: {e}")
        return protocols


def key_id_from_signature(sig_path):
    """The issuer key id of a detached signature, from `gpg --list-packets`, in a throw-away home directory."""
    gpg = shutil.which("gpg")
    if gpg is None:
        raise Failure("gpg is not installed: pass --key-id (the id of the organization's GPG key, 16 hex digits)")
    with tempfile.TemporaryDirectory(prefix="publish-gpg-") as home:
        os.chmod(home, 0o700)
        proc = subprocess.run([gpg, "--batch", "--no-tty", "--homedir", home, "--list-packets", sig_path],
                              capture_output=True, text=True, timeout=60)
    found = re.findall(r"^:signature packet: algo \d+, keyid ([0-9A-Fa-f]{16})", proc.stdout, re.M)
    if not found:
        found = re.findall(r"\(issuer key ID ([0-9A-Fa-f]{16})\)", proc.stdout)
    ids = sorted({k.upper() for k in found})
    if len(ids) != 1:
        why = "no signature packet" if not ids else f"several issuers ({', '.join(ids)})"
        err = proc.stderr.strip().splitlines()
        raise Failure(f"cannot tell the key id from {sig_path}: {why}"
                      + (f" (gpg: {err[-1]})" if err else "") + "; pass --key-id")
    return ids[0]


# --- HTTP ---------------------------------------------------------------------------------------------------------

class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are not followed: urllib would carry the Authorization header to wherever they point."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class HTTPFailure(Failure):
    def __init__(self, message, status):
        super().__init__(message)
        self.status = status


class Client:
    def __init__(self, address, token):
        self.address = address.rstrip("/")
        self.token = token
        self.opener = urllib.request.build_opener(NoRedirect)

    def scrub(self, text):
        return text.replace(self.token, "[TFE_TOKEN]") if self.token else text

    @staticmethod
    def where(url):
        """An upload/download URL as it may be shown: its host only (the path is the secret)."""
        parts = urllib.parse.urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}/…"

    def api_url(self, path):
        return f"{self.address}/api/v2/{path}"

    def absolute(self, link):
        return urllib.parse.urljoin(self.address + "/", link)

    def send(self, request, shown, timeout):
        """(status, body bytes) of a request, retrying what the API asks to retry. Raises Failure if unreachable."""
        delay = 1.0
        for attempt in range(1, ATTEMPTS + 1):
            try:
                with self.opener.open(request, timeout=timeout) as resp:
                    return resp.status, resp.read()
            except urllib.error.HTTPError as e:
                body = e.read()
                if e.code in RETRY_STATUSES and attempt < ATTEMPTS:
                    retry_after = e.headers.get("Retry-After", "")
                    time.sleep(min(float(retry_after), 30.0) if retry_after.isdigit() else delay)
                    delay *= 2
                    continue
                return e.code, body
            except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
                if attempt < ATTEMPTS:
                    time.sleep(delay)
                    delay *= 2
                    continue
                reason = getattr(e, "reason", e)
                raise Failure(f"{request.get_method()} {shown}: no answer after {ATTEMPTS} attempts: "
                              f"{self.scrub(str(reason))}")
        raise AssertionError("unreachable")

    def errors(self, status, body):
        """The errors[].detail (else title) of a JSON:API error document, else the start of the body."""
        text = body.decode("utf-8", "replace")
        try:
            doc = json.loads(text)
            messages = []
            for err in doc.get("errors", []):
                if isinstance(err, dict):
                    msg = err.get("detail") or err.get("title") or json.dumps(err)
                    pointer = (err.get("source") or {}).get("pointer") if isinstance(err.get("source"), dict) else None
                    messages.append(f"{msg} ({pointer})" if pointer else str(msg))
                else:
                    messages.append(str(err))
            if messages:
                return self.scrub("; ".join(messages))
        except (ValueError, AttributeError):
            pass
        text = " ".join(text.split())
        return self.scrub(text[:300]) if text else "(no body)"

    def hint(self, status):
        return {
            401: " — the token in TFE_TOKEN was refused (missing, invalid or expired; the API answers 401 only for "
                 "the token)",
            403: " — forbidden (provider versions and platforms exist only in the 'private' registry)",
            404: " — not found, or not visible to this token: check the organization, that the private provider "
                 "exists (tfe_registry_provider), and that the token's team can manage the private registry "
                 "(the API answers 404 for both)",
            429: " — rate limited, even after retrying",
        }.get(status, "")

    def api(self, what, method, path, document=None, allow=()):
        """Call the API; answer (status, JSON document). Statuses other than 2xx and `allow` raise HTTPFailure."""
        url = self.api_url(path)
        data = json.dumps(document).encode() if document is not None else None
        req = urllib.request.Request(url, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}",
            "Content-Type": JSONAPI,
            "Accept": JSONAPI,
            "User-Agent": "fansite-publish/1",
        })
        status, body = self.send(req, url, timeout=60)
        if 200 <= status < 300 or status in allow:
            try:
                return status, (json.loads(body) if body.strip() else None)
            except ValueError:
                if 200 <= status < 300:
                    raise HTTPFailure(f"{what}: {method} {url} answered HTTP {status} with a body that is not JSON: "
                                      f"{self.errors(status, body)}", status)
                return status, None
        raise HTTPFailure(f"{what}: {method} {url} answered HTTP {status}: {self.errors(status, body)}"
                          f"{self.hint(status)}", status)

    def upload(self, what, link, path):
        """PUT a file to a pre-signed upload link, as `curl -T` does: no Authorization header."""
        url = self.absolute(link)
        with open(path, "rb") as f:
            data = f.read()
        req = urllib.request.Request(url, data=data, method="PUT", headers={
            "Content-Type": "application/octet-stream",
            "Accept": "application/json, */*",
            "User-Agent": "fansite-publish/1",
        })
        status, body = self.send(req, self.where(url), timeout=600)
        if not 200 <= status < 300:
            raise HTTPFailure(f"{what}: PUT {self.where(url)} (upload link) answered HTTP {status}: "
                              f"{self.errors(status, body)}", status)
        return len(data)

    def download(self, what, link):
        url = self.absolute(link)
        req = urllib.request.Request(url, method="GET", headers={"User-Agent": "fansite-publish/1"})
        status, body = self.send(req, self.where(url), timeout=120)
        if not 200 <= status < 300:
            raise HTTPFailure(f"{what}: GET {self.where(url)} (download link) answered HTTP {status}: "
                              f"{self.errors(status, body)}", status)
        return body


# --- publishing ---------------------------------------------------------------------------------------------------

def data_of(doc, what):
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), dict):
        raise Failure(f"{what}: the answer is not a JSON:API document with a 'data' object")
    data = doc["data"]
    data.setdefault("attributes", {})
    data.setdefault("links", {})
    return data


def find_or_create(client, what, get_path, post_path, document):
    """GET the object; create it on 404; on a 409/422 from the create (it exists after all), GET it again."""
    status, doc = client.api(f"read {what}", "GET", get_path, allow=(404,))
    if status != 404:
        return "exists", data_of(doc, what)
    try:
        _, doc = client.api(f"create {what}", "POST", post_path, document)
        return "created", data_of(doc, what)
    except HTTPFailure as e:
        if e.status not in (409, 422):
            raise
        status, doc = client.api(f"read {what}", "GET", get_path, allow=(404,))
        if status == 404:
            raise  # a real 422: the body was refused
        return "exists (the create said so)", data_of(doc, what)


def publish(args, token):
    release = Release(args.dir, args.name, args.version)
    release.check()
    say(f"checked: {len(release.platforms)} zip(s) match {release.sums_name}: "
        + ", ".join(f"{o}_{a}" for o, a, *_ in release.platforms))

    if args.key_id:
        key_id, key_source = args.key_id, "--key-id"
    else:
        key_id, key_source = key_id_from_signature(release.sig_path), f"issuer of {release.sig_name}"
    say(f"key id: {key_id} ({key_source})")

    if args.protocols:
        protocols, proto_source = args.protocols, "--protocols"
    else:
        protocols = release.protocols()
        proto_source = release.manifest_name
        if protocols is None:
            protocols, proto_source = DEFAULT_PROTOCOLS, f"default, no {release.manifest_name}"
    bad = [p for p in protocols if p not in PROTOCOLS]
    if bad or not protocols:
        raise Failure(f"protocols {protocols} ({proto_source}): each must be one of {', '.join(PROTOCOLS)}")
    say(f"protocols: {', '.join(protocols)} ({proto_source})")
    if args.namespace != args.organization:
        say(f"note: namespace {args.namespace!r} is not the organization {args.organization!r}; the API expects "
            "them equal for private providers")

    client = Client(args.address, token)
    q = lambda s: urllib.parse.quote(s, safe="")  # noqa: E731
    provider_path = (f"organizations/{q(args.organization)}/registry-providers/private/"
                     f"{q(args.namespace)}/{q(args.name)}")
    versions_path = f"{provider_path}/versions"
    version_path = f"{versions_path}/{q(args.version)}"
    label = f"{args.namespace}/{args.name} {args.version}"

    # 1. the version
    how, version = find_or_create(client, f"version {label}", version_path, versions_path, {
        "data": {"type": "registry-provider-versions",
                 "attributes": {"version": args.version, "key-id": key_id, "protocols": protocols}}})
    attrs = version["attributes"]
    say(f"version {label}: {how} ({version.get('id', '?')})")
    their_key = str(attrs.get("key-id", "")).upper()
    all_sums_there = attrs.get("shasums-uploaded") is True and attrs.get("shasums-sig-uploaded") is True
    if their_key and their_key != key_id:
        if not all_sums_there:
            raise Failure(f"version {label} exists with key-id {their_key}, but {release.sig_name} is signed by "
                          f"{key_id}: delete the version (DELETE /api/v2/{version_path}) or pass --key-id "
                          f"{their_key} if that is the signing key")
        say(f"note: version {label} was created with key-id {their_key}, not {key_id}")
    if how == "exists" and sorted(attrs.get("protocols") or []) != sorted(protocols):
        say(f"note: version {label} has protocols {attrs.get('protocols')}, not {protocols} (left as is)")

    # 2. SHA256SUMS and its signature
    for flag, up, down, name, path in (
            ("shasums-uploaded", "shasums-upload", "shasums-download", release.sums_name, release.sums_path),
            ("shasums-sig-uploaded", "shasums-sig-upload", "shasums-sig-download", release.sig_name,
             release.sig_path)):
        short = name[len(release.prefix) + 1:]
        if attrs.get(flag) is True:
            link = version["links"].get(down)
            if not link:
                say(f"{short}: already uploaded (not compared: no {down} link)")
                continue
            theirs = hashlib.sha256(client.download(f"download {short}", link)).hexdigest()
            if theirs != sha256_file(path):
                raise Failure(f"{short} of version {label} was already uploaded with other bytes (sha256 {theirs}) "
                              f"than {path}; delete the version to publish these files")
            say(f"{short}: already uploaded (same bytes)")
            continue
        link = version["links"].get(up)
        if not link:
            raise Failure(f"version {label}: {flag} is false but the answer has no {up} link")
        size = client.upload(f"upload {short}", link, path)
        say(f"{short}: uploaded ({size} bytes)")

    # 3. the platforms
    platforms_path = f"{version_path}/platforms"
    for os_, arch, filename, path, digest, _size in release.platforms:
        plat = f"{os_}_{arch}"
        how, platform = find_or_create(client, f"platform {plat} of {label}",
                                       f"{platforms_path}/{q(os_)}/{q(arch)}", platforms_path, {
                                           "data": {"type": "registry-provider-version-platforms",
                                                    "attributes": {"os": os_, "arch": arch, "shasum": digest,
                                                                   "filename": filename}}})
        pattrs = platform["attributes"]
        their_sum = str(pattrs.get("shasum", "")).lower()
        if their_sum and their_sum != digest:
            raise Failure(f"platform {plat} of {label} exists with shasum {their_sum}, but {filename} has {digest}: "
                          f"delete the platform (DELETE /api/v2/{platforms_path}/{os_}/{arch}) to publish this zip")
        if how == "exists" and pattrs.get("filename") not in (None, filename):
            say(f"note: platform {plat} has filename {pattrs.get('filename')!r}, not {filename!r} (left as is)")
        say(f"platform {plat}: {how} ({platform.get('id', '?')})")
        if pattrs.get("provider-binary-uploaded") is True:
            say(f"{filename}: already uploaded")
            continue
        link = platform["links"].get("provider-binary-upload")
        if not link:
            raise Failure(f"platform {plat}: provider-binary-uploaded is false but the answer has no "
                          "provider-binary-upload link")
        size = client.upload(f"upload {filename}", link, path)
        say(f"{filename}: uploaded ({size} bytes)")

    # 4. read it back
    _, doc = client.api(f"read version {label}", "GET", version_path)
    attrs = data_of(doc, f"version {label}")["attributes"]
    missing = [n for n, f in ((release.sums_name, "shasums-uploaded"), (release.sig_name, "shasums-sig-uploaded"))
               if attrs.get(f) is not True]
    for os_, arch, filename, *_ in release.platforms:
        _, doc = client.api(f"read platform {os_}_{arch}", "GET", f"{platforms_path}/{q(os_)}/{q(arch)}")
        if data_of(doc, f"platform {os_}_{arch}")["attributes"].get("provider-binary-uploaded") is not True:
            missing.append(filename)
    if missing:
        raise Failure(f"version {label}: the API does not show as uploaded: {', '.join(missing)} "
                      "(if the uploads succeeded this may lag; re-run to upload whatever is still missing)")
    say(f"published: {label} — SHA256SUMS, signature and {len(release.platforms)} platform(s) uploaded")


def parse_args(argv):
    ap = argparse.ArgumentParser(
        description="Publish a terraform-provider-fansite release to a Terraform Cloud private registry "
                    "(token from TFE_TOKEN).")
    ap.add_argument("--dir", required=True, help="the release directory")
    ap.add_argument("--version", required=True, help="the version, bare semver (0.2.0)")
    ap.add_argument("--organization", required=True, help="the Terraform Cloud organization")
    ap.add_argument("--namespace", help="the provider namespace (default and, for private providers, "
                                        "necessarily: the organization)")
    ap.add_argument("--name", default="fansite", help="the provider name (default: fansite)")
    ap.add_argument("--key-id", help="the GPG key id (16 hex digits) as Terraform Cloud knows it "
                                     "(tfe_registry_gpg_key's id); default: the .sig's issuer")
    ap.add_argument("--address", default="https://app.terraform.io",
                    help="Terraform Cloud / Enterprise address (default: https://app.terraform.io)")
    ap.add_argument("--protocols", type=lambda s: [p.strip() for p in s.split(",") if p.strip()],
                    help="comma-separated plugin protocols, e.g. 6.0 (default: the manifest's, else 6.0)")
    args = ap.parse_args(argv)
    args.namespace = args.namespace or args.organization
    if args.version.startswith("v") and SEMVER.match(args.version[1:]):
        ap.error(f"--version takes the bare version, {args.version[1:]}, as in the file names")
    if not SEMVER.match(args.version):
        ap.error(f"--version {args.version!r} is not a semantic version")
    if args.key_id is not None:
        key = args.key_id.upper().removeprefix("0X")
        if re.fullmatch(r"[0-9A-F]{40}", key):
            key = key[-16:]  # a v4 fingerprint ends with the long key id
        if not KEY_ID.match(key):
            ap.error(f"--key-id must be a GPG key id, 16 hex digits (e.g. 32966F3FB5AC1129), got {args.key_id!r}")
        args.key_id = key
    for flag, value in (("--organization", args.organization), ("--namespace", args.namespace),
                        ("--name", args.name)):
        if not value or "/" in value:
            ap.error(f"{flag} must be a non-empty name without '/'")
    address = urllib.parse.urlsplit(args.address)
    if address.scheme not in ("https", "http") or not address.hostname or address.path.strip("/") or address.query:
        ap.error(f"--address must be a base URL like https://app.terraform.io, got {args.address!r}")
    if address.scheme == "http" and not is_loopback(address.hostname):
        ap.error("--address must be https (plain http only to a loopback address): the token is sent to it")
    return args


def is_loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    token = os.environ.get("TFE_TOKEN", "").strip()
    if not token:
        print("publish.py: error: TFE_TOKEN is not set (an API token of a team that can manage the private "
              "registry)", file=sys.stderr)
        return 1
    try:
        publish(args, token)
    except Failure as e:
        print(f"publish.py: error: {str(e).replace(token, '[TFE_TOKEN]')}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("publish.py: interrupted; re-run to finish (what is done stays done)", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
