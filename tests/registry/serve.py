#!/usr/bin/env python3
"""A Terraform Provider Registry Protocol server over HTTPS on loopback, for end-to-end tests.

Serves a release directory written by scripts/release.py so that a real
`terraform init` can install the provider from `localhost:<port>/<ns>/<type>`,
verifying the GPG signature and checksums exactly as it does against the
public registry.

Usage:
    serve.py --release-dir DIR --public-key KEY.asc --cert CERT.pem --key KEY.pem \\
             --port-file FILE [--namespace fansite] [--type fansite]

Listens on 127.0.0.1, on an ephemeral port; writes the port number to
--port-file once listening (atomically: temp file then rename). Serves until
SIGTERM or SIGINT, then exits 0 and removes the port file. Logs one line per
request to stderr. Terraform must trust --cert (e.g. SSL_CERT_FILE=ca.pem) and
the certificate must name "localhost".

Routes (https://developer.hashicorp.com/terraform/internals/remote-service-discovery,
https://developer.hashicorp.com/terraform/internals/provider-registry-protocol):
    GET /.well-known/terraform.json                      {"providers.v1": "/v1/providers/"}
    GET /v1/providers/<ns>/<type>/versions               versions with protocols and platforms
    GET /v1/providers/<ns>/<type>/<v>/download/<os>/<arch>
    GET /files/<name>                                    a file of --release-dir

The release directory is read at every request: versions are the
terraform-provider-<type>_<v>_SHA256SUMS files present, protocols come from
the _manifest.json next to them, platforms from the zips present, and the
`shasum` of a download is computed from the zip as it is on disk then, so a
test can swap files (a zip, the .sig) while the server runs.

download_url, shasums_url and shasums_signature_url are relative ("/files/...").
Terraform resolves each against the URL of the download response
(resp.Request.URL.ResolveReference in internal/getproviders/registry_client.go),
as the protocol allows, so they work whatever host name the client used.
"""

import argparse
import http.server
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import urllib.parse
from pathlib import Path

# The release's own hashing: scripts/release.py.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from release import sha256_file  # noqa: E402

VERSION_RE = r"[0-9]+\.[0-9]+\.[0-9]+(?:-[0-9A-Za-z.-]+)?"
FILES_PREFIX = "/files/"


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Provider Registry Protocol test server (HTTPS).")
    parser.add_argument("--release-dir", required=True, type=Path,
                        help="directory written by scripts/release.py")
    parser.add_argument("--public-key", required=True, type=Path,
                        help="ASCII-armored public key that signed the SHA256SUMS")
    parser.add_argument("--cert", required=True, type=Path, help="server certificate (PEM)")
    parser.add_argument("--key", required=True, type=Path, help="server private key (PEM)")
    parser.add_argument("--port-file", required=True, type=Path,
                        help="file to write the listening port number to")
    parser.add_argument("--namespace", default="fansite", help="provider namespace (default fansite)")
    parser.add_argument("--type", default="fansite", help="provider type (default fansite)")
    return parser.parse_args(argv)


def long_key_id(public_key_file):
    """The 16-hex long key id of the (single) primary key in an armored public key file.

    Asks gpg, in a throwaway GNUPGHOME, to parse the key without importing it.
    """
    home = tempfile.mkdtemp(prefix="fansite-registry-gpg-")
    try:
        os.chmod(home, 0o700)
        proc = subprocess.run(
            ["gpg", "--homedir", home, "--batch", "--no-tty", "--with-colons",
             "--import-options", "show-only", "--import", str(public_key_file)],
            capture_output=True, text=True, env=dict(os.environ, GNUPGHOME=home, LC_ALL="C"))
    finally:
        subprocess.run(["gpgconf", "--kill", "all"], env=dict(os.environ, GNUPGHOME=home),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        shutil.rmtree(home, ignore_errors=True)
    if proc.returncode != 0:
        sys.exit(f"serve.py: gpg cannot read --public-key {public_key_file}:\n{proc.stderr.strip()}")
    # "pub" record, field 5: long key id (gpg's DETAILS, --with-colons).
    ids = [line.split(":")[4] for line in proc.stdout.splitlines() if line.startswith("pub:")]
    if len(ids) != 1:
        sys.exit(f"serve.py: --public-key {public_key_file} must hold exactly one public key, "
                 f"it holds {len(ids)}")
    return ids[0]


class Release:
    """Reads the release directory (anew on every call)."""

    def __init__(self, directory, provider_type):
        self.dir = directory
        self.prefix = f"terraform-provider-{provider_type}_"

    def versions(self):
        """Versions that have a SHA256SUMS file, sorted."""
        pattern = re.compile(re.escape(self.prefix) + f"({VERSION_RE})_SHA256SUMS$")
        found = [m.group(1) for p in self.dir.iterdir() if (m := pattern.match(p.name))]
        return sorted(found)

    def protocols(self, version):
        """protocol_versions from the version's manifest; "5.0" without one, as the registry does."""
        manifest = self.dir / f"{self.prefix}{version}_manifest.json"
        try:
            return json.loads(manifest.read_text())["metadata"]["protocol_versions"]
        except FileNotFoundError:
            return ["5.0"]

    def platforms(self, version):
        """[(os, arch)] of the zips present for a version, sorted."""
        pattern = re.compile(re.escape(f"{self.prefix}{version}_") + r"([a-z0-9]+)_([a-z0-9]+)\.zip$")
        return sorted((m.group(1), m.group(2)) for p in self.dir.iterdir()
                      if (m := pattern.match(p.name)))

    def file(self, name):
        """Path of a plain file directly in the release directory, or None."""
        if not name or "/" in name or "\\" in name or name.startswith("."):
            return None
        path = self.dir / name
        return path if path.is_file() else None


class Handler(http.server.BaseHTTPRequestHandler):
    """Request handler; the server carries release, namespace, type and signing key."""

    protocol_version = "HTTP/1.1"  # keep-alive; every response has a Content-Length
    server_version = "fansite-test-registry"
    timeout = 60  # drop idle keep-alive connections

    def do_GET(self):
        self.route(send_body=True)

    def do_HEAD(self):
        self.route(send_body=False)

    def route(self, send_body):
        srv = self.server
        path = urllib.parse.urlsplit(self.path).path
        base = f"/v1/providers/{re.escape(srv.namespace)}/{re.escape(srv.provider_type)}/"
        if path == "/.well-known/terraform.json":
            return self.send_json(200, {"providers.v1": "/v1/providers/"}, send_body)
        if path.startswith(FILES_PREFIX):
            return self.send_file(path[len(FILES_PREFIX):], send_body)
        # Terraform lower-cases namespace and type in provider addresses.
        if re.fullmatch(base + "versions", path, re.IGNORECASE):
            return self.send_json(200, self.versions_doc(), send_body)
        m = re.fullmatch(base + f"({VERSION_RE})/download/([a-z0-9]+)/([a-z0-9]+)", path,
                         re.IGNORECASE)
        if m:
            doc = self.download_doc(*m.groups())
            if doc is None:
                return self.send_json(404, {"errors": [
                    f"no package for version {m.group(1)} on {m.group(2)}_{m.group(3)}"]}, send_body)
            return self.send_json(200, doc, send_body)
        return self.send_json(404, {"errors": ["Not Found"]}, send_body)

    def versions_doc(self):
        release = self.server.release
        return {"versions": [
            {"version": v,
             "protocols": release.protocols(v),
             "platforms": [{"os": o, "arch": a} for o, a in release.platforms(v)]}
            for v in release.versions()]}

    def download_doc(self, version, os_name, arch):
        release = self.server.release
        if version not in release.versions() or (os_name, arch) not in release.platforms(version):
            return None
        filename = f"{release.prefix}{version}_{os_name}_{arch}.zip"
        sums = f"{release.prefix}{version}_SHA256SUMS"
        return {
            "protocols": release.protocols(version),
            "os": os_name,
            "arch": arch,
            "filename": filename,
            "download_url": FILES_PREFIX + filename,
            "shasums_url": FILES_PREFIX + sums,
            "shasums_signature_url": FILES_PREFIX + sums + ".sig",
            # The zip as it is now, not as SHA256SUMS says: Terraform must catch a mismatch.
            "shasum": sha256_file(release.dir / filename),
            "signing_keys": {"gpg_public_keys": [{
                "key_id": self.server.key_id,
                "ascii_armor": self.server.ascii_armor,
                "trust_signature": "",
                "source": "",
                "source_url": None,
            }]},
        }

    def send_json(self, status, doc, send_body):
        body = (json.dumps(doc, indent=2) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def send_file(self, name, send_body):
        path = self.server.release.file(urllib.parse.unquote(name))
        if path is None:
            return self.send_json(404, {"errors": [f"no file {name!r}"]}, send_body)
        with open(path, "rb") as file:
            size = os.fstat(file.fileno()).st_size
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            if send_body:
                shutil.copyfileobj(file, self.wfile)

    def log_message(self, format, *args):
        sys.stderr.write(f"serve.py: {self.address_string()} {format % args}\n")
        sys.stderr.flush()


class RegistryServer(http.server.ThreadingHTTPServer):
    """Threaded HTTPS server; the TLS handshake runs in each request's thread."""

    daemon_threads = True

    def __init__(self, address, ssl_context, **state):
        super().__init__(address, Handler)
        self.ssl_context = ssl_context
        for name, value in state.items():
            setattr(self, name, value)

    def finish_request(self, request, client_address):
        # Wrapping here, not around the listening socket, keeps a slow or failed
        # handshake from blocking accept() for everybody else.
        request.settimeout(Handler.timeout)
        try:
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as err:
            sys.stderr.write(f"serve.py: {client_address[0]} TLS handshake failed: {err}\n")
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            tls.close()


def write_port_file(path, port):
    """Write the port so that readers never see a partial file: temp file, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w") as file:
        file.write(f"{port}\n")
    os.replace(tmp, path)


def main(argv=None):
    args = parse_args(argv)
    if not args.release_dir.is_dir():
        sys.exit(f"serve.py: --release-dir {args.release_dir} is not a directory")
    key_id = long_key_id(args.public_key)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)

    server = RegistryServer(
        ("127.0.0.1", 0), context,
        release=Release(args.release_dir, args.type.lower()),
        namespace=args.namespace.lower(),
        provider_type=args.type.lower(),
        key_id=key_id,
        ascii_armor=args.public_key.read_text())
    port = server.server_address[1]

    # SIGTERM (and Ctrl-C) leave serve_forever through SystemExit: clean exit 0.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    write_port_file(args.port_file, port)
    sys.stderr.write(f"serve.py: serving {args.release_dir} as "
                     f"localhost:{port}/{args.namespace}/{args.type} (key {key_id})\n")
    sys.stderr.flush()
    try:
        server.serve_forever()
    finally:
        server.server_close()
        args.port_file.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
