#!/usr/bin/env python3
"""A local stand-in for the Terraform Cloud private-registry routes that scripts/publish.py uses.

Plain HTTP on 127.0.0.1 (port 0: the kernel picks one, written to --port-file atomically), state in memory.
It serves, under /api/v2, what
https://developer.hashicorp.com/terraform/cloud-docs/api-docs/private-registry/provider-versions-platforms
documents for private providers:

  POST   /organizations/:org/registry-providers/private/:namespace/:name/versions
  GET    /organizations/:org/registry-providers/private/:namespace/:name/versions[/:version]
  DELETE /organizations/:org/registry-providers/private/:namespace/:name/versions/:version
  POST   .../versions/:version/platforms
  GET    .../versions/:version/platforms[/:os/:arch]
  DELETE .../versions/:version/platforms/:os/:arch

and, in place of Archivist (https://archivist.terraform.io/v1/object/<secret>), the upload links those answers carry:

  PUT    /_archivist/v1/object/<secret>   store the body (GET gives it back, as the *-download links do)

It checks each request as the documentation gives it and answers a JSON:API `errors` document naming what was
wrong when one deviates:
  * 401 when `Authorization: Bearer <--token>` is missing or wrong (the API answers 401 for an absent or invalid token);
  * 415 when a POST's Content-Type is not application/vnd.api+json (or a GET's, when it sends one);
  * 400 when the body is not JSON; 422 when `data`, `data.type` or a required attribute is missing or of the wrong
    type or form ("Malformed request body (missing attributes, wrong types, etc.)");
  * 403 for a registry other than `private`; 404 for an unknown organization/provider/version/platform, or a
    namespace other than the organization;
  * 422 "Version has already been taken" when a version is created twice (likewise for a platform) — the duplicate
    answer is not documented; this is the likely one;
  * uploads: 405 unless PUT, 400 if they carry an Authorization header (Archivist URLs are pre-signed; the API token
    must not go there), 411 without Content-Length, 409 when the object was already uploaded, 422 when a provider
    binary's sha256 is not the platform's `shasum`.
Stricter than the real service in places: go-tfe creates versions with a UUID as key-id and sends no data.type,
and its integration tests pass, so the service evidently checks neither; here key-id must be 16 hex digits and
data.type the documented value (for platforms either of the two the documentation gives).

Every request is appended to --log as one JSON line: method, path, status, a digest of the checks, the JSON body of
POSTs, and for uploads the object kind, sha256 and size. GET /_standin/state (no auth) answers the state as JSON.

  tests/registry/tfc_standin.py --token T --port-file /tmp/port --log /tmp/log.jsonl \\
      [--provider ORG/NAME ...] [--gpg-key-id HEX16 ...]

--provider registers private providers (namespace = ORG), as tfe_registry_provider would; without any, every
ORG/ORG/NAME is taken to exist. --gpg-key-id registers the keys of the organization, as tfe_registry_gpg_key would;
with any, a version's key-id must be one of them.
"""
import argparse
import hashlib
import json
import os
import re
import secrets
import signal
import string
import sys
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

JSONAPI = "application/vnd.api+json"
PROTOCOLS = {"4.0", "5.0", "6.0"}
VERSION_TYPE = "registry-provider-versions"
# The request-body table says "registry-provider-platforms", the sample payloads "registry-provider-version-platforms".
PLATFORM_TYPES = {"registry-provider-version-platforms", "registry-provider-platforms"}
SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
KEY_ID = re.compile(r"^[0-9A-Fa-f]{16}$")
SHASUM = re.compile(r"^[0-9a-f]{64}$")
OS_ARCH = re.compile(r"^[a-z0-9]+$")
API = "/api/v2"
ARCHIVIST = "/_archivist/v1/object/"


def now():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_id(prefix):
    alphabet = string.ascii_letters + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(16))


class Reject(Exception):
    """A request that deviates: answered with `status` and a JSON:API errors document."""

    def __init__(self, status, title, detail, pointer=None):
        super().__init__(detail)
        self.status, self.title, self.detail, self.pointer = status, title, detail, pointer

    def document(self):
        error = {"status": str(self.status), "title": self.title, "detail": self.detail}
        if self.pointer:
            error["source"] = {"pointer": self.pointer}
        return {"errors": [error]}


class Blob:
    """An Archivist object: one upload URL, one file."""

    def __init__(self, kind, owner):
        self.secret = secrets.token_urlsafe(24)
        self.kind = kind  # "shasums" | "shasums-sig" | "provider-binary"
        self.owner = owner  # the Version or Platform it belongs to
        self.data = None
        self.uploaded_at = None

    @property
    def uploaded(self):
        return self.data is not None

    def summary(self):
        if self.data is None:
            return {"uploaded": False}
        return {"uploaded": True, "sha256": hashlib.sha256(self.data).hexdigest(), "size": len(self.data),
                "uploaded-at": self.uploaded_at}


class Platform:
    def __init__(self, state, version, os_, arch, shasum, filename):
        self.id = new_id("provpltfrm-")
        self.version, self.os, self.arch, self.shasum, self.filename = version, os_, arch, shasum, filename
        self.binary = state.blob("provider-binary", self)


class Version:
    def __init__(self, state, provider, version, key_id, protocols):
        self.id = new_id("provver-")
        self.provider, self.version, self.key_id, self.protocols = provider, version, key_id, protocols
        self.created_at = self.updated_at = now()
        self.shasums = state.blob("shasums", self)
        self.shasums_sig = state.blob("shasums-sig", self)
        self.platforms = {}  # (os, arch) -> Platform


class Provider:
    def __init__(self, organization, namespace, name):
        self.id = new_id("prov-")
        self.organization, self.namespace, self.name = organization, namespace, name
        self.versions = {}  # version string -> Version

    def path(self):
        return f"{API}/organizations/{self.organization}/registry-providers/private/{self.namespace}/{self.name}"


class State:
    def __init__(self, providers, key_ids):
        self.lock = threading.RLock()
        self.auto_providers = not providers
        self.providers = {}
        for org, name in providers:
            self.providers[(org, org, name)] = Provider(org, org, name)
        self.key_ids = {k.upper() for k in key_ids}
        self.blobs = {}  # secret -> Blob

    def blob(self, kind, owner):
        b = Blob(kind, owner)
        self.blobs[b.secret] = b
        return b

    def snapshot(self):
        providers = []
        for p in self.providers.values():
            versions = {}
            for v in p.versions.values():
                sums_text = v.shasums.data.decode("utf-8", "replace") if v.shasums.data else ""
                listed = {}
                for line in sums_text.splitlines():
                    parts = line.split()
                    if len(parts) == 2:
                        listed[parts[1].lstrip("*")] = parts[0]
                versions[v.version] = {
                    "id": v.id,
                    "key-id": v.key_id,
                    "protocols": v.protocols,
                    "created-at": v.created_at,
                    "shasums": v.shasums.summary(),
                    "shasums-sig": v.shasums_sig.summary(),
                    "platforms": {
                        f"{pl.os}_{pl.arch}": {
                            "id": pl.id,
                            "os": pl.os,
                            "arch": pl.arch,
                            "filename": pl.filename,
                            "shasum": pl.shasum,
                            "listed-in-shasums": listed.get(pl.filename) == pl.shasum if v.shasums.data else None,
                            "binary": pl.binary.summary(),
                        }
                        for pl in v.platforms.values()
                    },
                }
            providers.append({"id": p.id, "organization": p.organization, "namespace": p.namespace,
                              "name": p.name, "versions": versions})
        return {"providers": providers}


def require(cond, status, title, detail, pointer=None):
    if not cond:
        raise Reject(status, title, detail, pointer)


def attribute(attrs, key, kind):
    pointer = f"/data/attributes/{key}"
    require(key in attrs, 422, "invalid attribute", f"data.attributes.{key} is required", pointer)
    value = attrs[key]
    if kind == "string":
        require(isinstance(value, str), 422, "invalid attribute",
                f"data.attributes.{key} must be a string, got {type(value).__name__}", pointer)
        require(value != "", 422, "invalid attribute", f"data.attributes.{key} can't be blank", pointer)
    elif kind == "array":
        require(isinstance(value, list), 422, "invalid attribute",
                f"data.attributes.{key} must be an array, got {type(value).__name__}", pointer)
    return value


class Handler(BaseHTTPRequestHandler):
    server_version = "tfc-standin/1"
    protocol_version = "HTTP/1.1"

    # --- plumbing -------------------------------------------------------------------------------------------------

    def log_message(self, fmt, *args):  # quiet; the JSON-lines log is the record
        pass

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def dispatch(self, method):
        self.entry = {"time": now(), "method": method, "path": urlsplit(self.path).path}
        self.checks = []
        self.body = b""
        status, headers, payload = 500, {}, b""
        try:
            self.body = self.read_body()
            status, headers, payload = self.route(method)
        except Reject as r:
            status, headers, payload = r.status, {"Content-Type": JSONAPI}, json.dumps(r.document()).encode()
            self.entry["error"] = r.detail
        except Exception as e:  # a bug in the stand-in: say so, loudly
            status, headers = 500, {"Content-Type": JSONAPI}
            payload = json.dumps({"errors": [{"status": "500", "title": "stand-in error", "detail": repr(e)}]}).encode()
            self.entry["error"] = repr(e)
        self.entry["status"] = status
        if self.checks:
            self.entry["checks"] = self.checks
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(payload)
        self.server.write_log(self.entry)

    def read_body(self):
        length = self.headers.get("Content-Length")
        if length is None:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                raise Reject(411, "length required", "send the body with a Content-Length (chunked bodies are not read)")
            return b""
        return self.rfile.read(int(length))

    def json_answer(self, status, document):
        return status, {"Content-Type": JSONAPI}, json.dumps(document).encode()

    def base_url(self):
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    # --- checks ---------------------------------------------------------------------------------------------------

    def check_auth(self):
        auth = self.headers.get("Authorization")
        require(auth is not None, 401, "unauthorized", "no Authorization header; send 'Authorization: Bearer <token>'")
        scheme, _, token = auth.partition(" ")
        require(scheme == "Bearer", 401, "unauthorized",
                f"Authorization scheme must be 'Bearer', got '{scheme[:20]}'")
        require(secrets.compare_digest(token.encode(), self.server.token.encode()), 401, "unauthorized",
                "the bearer token is not valid")
        self.checks.append("auth")

    def check_content_type(self, method):
        ctype = self.headers.get("Content-Type")
        if method in ("POST", "PATCH"):
            require(ctype is not None, 415, "unsupported media type",
                    f"{method} needs 'Content-Type: {JSONAPI}'")
        if ctype is not None:
            require(ctype.strip() == JSONAPI, 415, "unsupported media type",
                    f"Content-Type must be '{JSONAPI}' (no parameters), got '{ctype[:80]}'")
            self.checks.append("content-type")
        accept = self.headers.get("Accept")
        if accept is not None:
            kinds = [a.split(";")[0].strip() for a in accept.split(",")]
            require(any(k in (JSONAPI, "application/json", "*/*", "application/*") for k in kinds), 406,
                    "not acceptable", f"Accept must allow {JSONAPI}, got '{accept[:80]}'")

    def document(self, expected_types):
        try:
            doc = json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise Reject(400, "bad request", f"the body is not JSON: {e}")
        self.entry["body"] = doc
        require(isinstance(doc, dict) and isinstance(doc.get("data"), dict), 422, "invalid document",
                "the body must be a JSON:API document with a top-level 'data' object", "/data")
        data = doc["data"]
        require("type" in data, 422, "invalid document", "data.type is required", "/data/type")
        require(data["type"] in expected_types, 422, "invalid document",
                f"data.type must be {' or '.join(repr(t) for t in sorted(expected_types))}, got {data['type']!r}",
                "/data/type")
        attrs = data.get("attributes")
        require(isinstance(attrs, dict), 422, "invalid document", "data.attributes must be an object",
                "/data/attributes")
        self.checks.append("body")
        return attrs

    # --- routing --------------------------------------------------------------------------------------------------

    def route(self, method):
        path = urlsplit(self.path).path
        if path == "/_standin/state" and method == "GET":
            with self.server.state.lock:
                return self.json_answer(200, self.server.state.snapshot())
        if path.startswith(ARCHIVIST):
            return self.archivist(method, path[len(ARCHIVIST):])
        if not path.startswith(API + "/"):
            raise Reject(404, "not found", f"no route for {method} {path}")
        self.check_auth()
        self.check_content_type(method)
        parts = [unquote(p) for p in path[len(API) + 1:].rstrip("/").split("/")]
        # organizations/:org/registry-providers/:registry/:namespace/:name/versions[/:version[/platforms[/:os/:arch]]]
        if len(parts) < 7 or parts[0] != "organizations" or parts[2] != "registry-providers" or parts[6] != "versions":
            raise Reject(404, "not found", f"no route for {method} {path}")
        org, registry, namespace, name = parts[1], parts[3], parts[4], parts[5]
        rest = parts[7:]
        with self.server.state.lock:
            require(registry == "private", 403, "forbidden",
                    f"registry_name must be 'private' for provider versions and platforms, got '{registry}'")
            provider = self.provider(org, namespace, name)
            if rest == []:
                if method == "POST":
                    return self.create_version(provider)
                if method == "GET":
                    return self.list_versions(provider)
            elif len(rest) == 1:
                if method == "GET":
                    return self.json_answer(200, {"data": self.version_doc(self.version(provider, rest[0]))})
                if method == "DELETE":
                    v = self.version(provider, rest[0])
                    del provider.versions[v.version]
                    for blob in [v.shasums, v.shasums_sig] + [p.binary for p in v.platforms.values()]:
                        self.server.state.blobs.pop(blob.secret, None)
                    return 204, {}, b""
            elif len(rest) == 2 and rest[1] == "platforms":
                v = self.version(provider, rest[0])
                if method == "POST":
                    return self.create_platform(v)
                if method == "GET":
                    return self.json_answer(200, {"data": [self.platform_doc(p) for p in v.platforms.values()],
                                                  "links": {"self": self.base_url() + urlsplit(self.path).path},
                                                  "meta": {"pagination": {"current-page": 1, "page-size": 20,
                                                                          "prev-page": None, "next-page": None,
                                                                          "total-pages": 1,
                                                                          "total-count": len(v.platforms)}}})
            elif len(rest) == 4 and rest[1] == "platforms":
                v = self.version(provider, rest[0])
                pl = v.platforms.get((rest[2], rest[3]))
                require(pl is not None, 404, "not found",
                        f"platform {rest[2]}/{rest[3]} of version {v.version} not found")
                if method == "GET":
                    return self.json_answer(200, {"data": self.platform_doc(pl)})
                if method == "DELETE":
                    del v.platforms[(pl.os, pl.arch)]
                    self.server.state.blobs.pop(pl.binary.secret, None)
                    return 204, {}, b""
            if len(rest) in (0, 1, 2, 4):
                raise Reject(405, "method not allowed", f"no route for {method} {path}")
            raise Reject(404, "not found", f"no route for {method} {path}")

    def provider(self, org, namespace, name):
        st = self.server.state
        require(namespace == org, 404, "not found",
                f"provider {org}/private/{namespace}/{name} not found (for private providers the namespace is the "
                f"organization name, '{org}')")
        key = (org, namespace, name)
        if key not in st.providers:
            require(st.auto_providers, 404, "not found", f"provider {org}/private/{namespace}/{name} not found")
            st.providers[key] = Provider(org, namespace, name)
        return st.providers[key]

    def version(self, provider, version):
        v = provider.versions.get(version)
        require(v is not None, 404, "not found",
                f"version {version} of {provider.namespace}/{provider.name} not found")
        return v

    # --- versions -------------------------------------------------------------------------------------------------

    def create_version(self, provider):
        attrs = self.document({VERSION_TYPE})
        version = attribute(attrs, "version", "string")
        require(SEMVER.match(version) is not None, 422, "invalid attribute",
                f"data.attributes.version must be a valid semver version, got {version!r}", "/data/attributes/version")
        key_id = attribute(attrs, "key-id", "string")
        require(KEY_ID.match(key_id) is not None, 422, "invalid attribute",
                f"data.attributes.key-id must be a GPG key id (16 hex digits), got {key_id!r}",
                "/data/attributes/key-id")
        st = self.server.state
        require(not st.key_ids or key_id.upper() in st.key_ids, 422, "invalid attribute",
                f"data.attributes.key-id {key_id} is not a GPG key of namespace {provider.namespace}",
                "/data/attributes/key-id")
        protocols = attribute(attrs, "protocols", "array")
        require(len(protocols) > 0, 422, "invalid attribute", "data.attributes.protocols can't be empty",
                "/data/attributes/protocols")
        for p in protocols:
            require(isinstance(p, str) and p in PROTOCOLS, 422, "invalid attribute",
                    f"data.attributes.protocols must hold only {sorted(PROTOCOLS)}, got {p!r}",
                    "/data/attributes/protocols")
        require(version not in provider.versions, 422, "invalid attribute", "Version has already been taken",
                "/data/attributes/version")
        v = Version(st, provider, version, key_id, protocols)
        provider.versions[version] = v
        return self.json_answer(201, {"data": self.version_doc(v)})

    def list_versions(self, provider):
        data = [self.version_doc(v) for v in provider.versions.values()]
        return self.json_answer(200, {"data": data, "links": {"self": self.base_url() + provider.path() + "/versions"},
                                      "meta": {"pagination": {"current-page": 1, "page-size": 20, "prev-page": None,
                                                              "next-page": None, "total-pages": 1,
                                                              "total-count": len(data)}}})

    def blob_link(self, blob):
        return f"{self.base_url()}{ARCHIVIST}{blob.secret}"

    def version_doc(self, v):
        links = {}
        for blob, name in ((v.shasums, "shasums"), (v.shasums_sig, "shasums-sig")):
            links[f"{name}-download" if blob.uploaded else f"{name}-upload"] = self.blob_link(blob)
        return {
            "id": v.id,
            "type": VERSION_TYPE,
            "attributes": {
                "version": v.version,
                "created-at": v.created_at,
                "updated-at": v.updated_at,
                "key-id": v.key_id,
                "protocols": v.protocols,
                "permissions": {"can-delete": True, "can-upload-asset": True},
                "shasums-uploaded": v.shasums.uploaded,
                "shasums-sig-uploaded": v.shasums_sig.uploaded,
            },
            "relationships": {
                "registry-provider": {"data": {"id": v.provider.id, "type": "registry-providers"}},
                "platforms": {
                    "data": [{"id": p.id, "type": "registry-provider-platforms"} for p in v.platforms.values()],
                    "links": {"related": f"{v.provider.path()}/versions/{v.version}/platforms"},
                },
            },
            "links": links,
        }

    # --- platforms ------------------------------------------------------------------------------------------------

    def create_platform(self, v):
        attrs = self.document(PLATFORM_TYPES)
        os_ = attribute(attrs, "os", "string")
        arch = attribute(attrs, "arch", "string")
        for key, value in (("os", os_), ("arch", arch)):
            require(OS_ARCH.match(value) is not None, 422, "invalid attribute",
                    f"data.attributes.{key} must be lower-case letters and digits (e.g. linux, amd64), got {value!r}",
                    f"/data/attributes/{key}")
        shasum = attribute(attrs, "shasum", "string")
        require(SHASUM.match(shasum) is not None, 422, "invalid attribute",
                f"data.attributes.shasum must be a sha256 in lower-case hex (64 digits), got {shasum!r}",
                "/data/attributes/shasum")
        filename = attribute(attrs, "filename", "string")
        require("/" not in filename and "\\" not in filename, 422, "invalid attribute",
                f"data.attributes.filename must be a file name, not a path: {filename!r}", "/data/attributes/filename")
        require((os_, arch) not in v.platforms, 422, "invalid attribute",
                f"Platform {os_}/{arch} has already been taken", "/data/attributes/os")
        pl = Platform(self.server.state, v, os_, arch, shasum, filename)
        v.platforms[(os_, arch)] = pl
        return self.json_answer(201, {"data": self.platform_doc(pl)})

    def platform_doc(self, pl):
        link = "provider-binary-download" if pl.binary.uploaded else "provider-binary-upload"
        return {
            "id": pl.id,
            "type": "registry-provider-platforms",
            "attributes": {
                "os": pl.os,
                "arch": pl.arch,
                "filename": pl.filename,
                "shasum": pl.shasum,
                "permissions": {"can-delete": True, "can-upload-asset": True},
                "provider-binary-uploaded": pl.binary.uploaded,
            },
            "relationships": {
                "registry-provider-version": {"data": {"id": pl.version.id, "type": VERSION_TYPE}},
            },
            "links": {link: self.blob_link(pl.binary)},
        }

    # --- Archivist ------------------------------------------------------------------------------------------------

    def archivist(self, method, secret):
        st = self.server.state
        with st.lock:
            blob = st.blobs.get(secret)
            require(blob is not None, 404, "not found", "no such object (unknown upload URL)")
            owner = blob.owner
            v = owner if isinstance(owner, Version) else owner.version
            upload = {"object": blob.kind, "version": v.version}
            if isinstance(owner, Platform):
                upload.update(os=owner.os, arch=owner.arch, filename=owner.filename)
            self.entry["upload"] = upload
            if method == "GET":
                require(blob.uploaded, 404, "not found", "nothing has been uploaded to this object")
                return 200, {"Content-Type": "application/octet-stream"}, blob.data
            require(method == "PUT", 405, "method not allowed",
                    f"upload with PUT (as `curl -T` does), not {method}")
            require(self.headers.get("Authorization") is None, 400, "bad request",
                    "upload URLs are pre-signed: send no Authorization header to them (the API token must not leave "
                    "the API host)")
            require(self.headers.get("Content-Length") is not None, 411, "length required",
                    "send the file with a Content-Length")
            upload.update(sha256=hashlib.sha256(self.body).hexdigest(), size=len(self.body),
                          content_type=self.headers.get("Content-Type"))
            require(len(self.body) > 0, 422, "unprocessable entity", "the upload is empty")
            require(not blob.uploaded, 409, "conflict", f"{blob.kind} of version {v.version} was already uploaded")
            if isinstance(owner, Platform):
                require(upload["sha256"] == owner.shasum, 422, "unprocessable entity",
                        f"the uploaded file's sha256 {upload['sha256']} is not the platform's shasum {owner.shasum}")
            blob.data = self.body
            blob.uploaded_at = now()
            v.updated_at = blob.uploaded_at
            return 200, {}, b""


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, token, state, log_path):
        super().__init__(("127.0.0.1", 0), Handler)
        self.token, self.state, self.log_path = token, state, log_path
        self.log_lock = threading.Lock()

    def write_log(self, entry):
        if not self.log_path:
            return
        line = json.dumps(entry, sort_keys=True) + "\n"
        with self.log_lock, open(self.log_path, "a", encoding="utf-8") as f:
            f.write(line)


def write_atomically(path, text):
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--token", required=True, help="the bearer token the API accepts")
    ap.add_argument("--port-file", required=True, help="where to write the port (atomically) once listening")
    ap.add_argument("--log", help="append one JSON line per request to this file")
    ap.add_argument("--provider", action="append", default=[], metavar="ORG/NAME",
                    help="a private provider that exists (namespace = ORG); repeatable; default: any")
    ap.add_argument("--gpg-key-id", action="append", default=[], metavar="HEX16",
                    help="a GPG key id of the organization; repeatable; default: any 16-hex key id")
    args = ap.parse_args()
    providers = []
    for p in args.provider:
        org, sep, name = p.partition("/")
        if not sep or not org or not name or "/" in name:
            ap.error(f"--provider must be ORG/NAME, got {p!r}")
        providers.append((org, name))
    for k in args.gpg_key_id:
        if not KEY_ID.match(k):
            ap.error(f"--gpg-key-id must be 16 hex digits, got {k!r}")
    server = Server(args.token, State(providers, args.gpg_key_id), args.log)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    write_atomically(args.port_file, f"{server.server_address[1]}\n")
    print(f"tfc-standin: listening on http://127.0.0.1:{server.server_address[1]}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
