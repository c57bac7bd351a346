#!/usr/bin/env python3
"""Build a signed, reproducible Terraform provider release of terraform-provider-fansite.

Writes the layout HashiCorp's registries (the public registry, Terraform Cloud's
private registry, and any server speaking the Provider Registry Protocol) expect:

    terraform-provider-fansite_<v>_<os>_<arch>.zip   one per --binary
    terraform-provider-fansite_<v>_manifest.json     {"version": 1, "metadata": {"protocol_versions": ["6.0"]}}
    terraform-provider-fansite_<v>_SHA256SUMS        "<sha256>  <file>" for every zip and the manifest
    terraform-provider-fansite_<v>_SHA256SUMS.sig    binary detached GPG signature of SHA256SUMS

Usage:
    scripts/release.py --version 0.2.0 --out DIR \\
        --binary linux_amd64=target/release/terraform-provider-fansite \\
        [--binary darwin_arm64=PATH ...] [--public-key-out FILE.asc] [--force]

Environment:
    FANSITE_RELEASE_GPG_KEY         ASCII-armored RSA secret key that signs SHA256SUMS (required)
    FANSITE_RELEASE_GPG_PASSPHRASE  its passphrase, if it has one
    SOURCE_DATE_EPOCH               release timestamp; default: commit time of HEAD
                                    (`git log -1 --format=%ct` in this repository)

Reproducibility: two runs on the same commit, with the same binaries, key and
zlib, write byte-identical files. Zip entries carry a fixed timestamp (from
SOURCE_DATE_EPOCH, clamped to the zip epoch 1980-01-01) and a fixed compression
level. The signature is made with gpg's clock frozen (--faked-system-time T!)
and RSA PKCS#1 v1.5 signatures are deterministic, so the .sig is identical too.
T is SOURCE_DATE_EPOCH, or the time of the signing key's newest self-signature
if that is later (gpg refuses to sign with a key "created in the future").

Each zip holds one entry, terraform-provider-fansite_v<v> (plus ".exe" for
windows), stored with unix mode 0755: an entry without the exec bit installs
without complaint and then cannot be started by Terraform.

Prints the signing key's long key id and the path of every file written.
Exit status: 0 success, 1 failure (gpg, I/O), 2 bad arguments or environment.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

PROVIDER_TYPE = "fansite"
NAME = f"terraform-provider-{PROVIDER_TYPE}"
# Plugin protocol the provider speaks (tfprotov6).
PROTOCOL_VERSIONS = ["6.0"]
# Fixed deflate level: part of what makes the zips reproducible.
ZIP_COMPRESSLEVEL = 9
# Zip (DOS) timestamps can only express 1980-01-01 .. 2107-12-31.
ZIP_MIN_EPOCH = 315532800  # 1980-01-01T00:00:00Z
ZIP_MAX_EPOCH = 4354819198  # 2107-12-31T23:59:58Z
# Semantic version x.y.z with an optional -prerelease (no +build metadata).
VERSION_RE = re.compile(
    r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
    r"(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$"
)
PLATFORM_RE = re.compile(r"^([a-z0-9]+)_([a-z0-9]+)$")
# OpenPGP public key algorithm ids (RFC 4880 9.1) that are RSA.
RSA_ALGOS = {"1", "3"}  # 1 = RSA (sign and encrypt), 3 = RSA sign-only
ALGO_NAMES = {"1": "RSA", "2": "RSA-E", "3": "RSA-S", "16": "Elgamal", "17": "DSA",
              "18": "ECDH", "19": "ECDSA", "22": "EdDSA"}
KEY_ENV = "FANSITE_RELEASE_GPG_KEY"
PASSPHRASE_ENV = "FANSITE_RELEASE_GPG_PASSPHRASE"
REPO_ROOT = Path(__file__).resolve().parent.parent


class UsageError(Exception):
    """Bad arguments or environment: exit status 2."""


class ReleaseError(Exception):
    """The release could not be made (gpg, I/O): exit status 1."""


# --------------------------------------------------------------------------
# Arguments
# --------------------------------------------------------------------------

def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Build a signed, reproducible terraform-provider-fansite release.")
    parser.add_argument("--version", required=True, help="release version, x.y.z[-prerelease]")
    parser.add_argument("--out", required=True, type=Path, help="output directory")
    parser.add_argument("--binary", action="append", required=True, metavar="OS_ARCH=PATH",
                        help="provider binary for a platform, e.g. linux_amd64=target/release/"
                             f"{NAME} (repeatable)")
    parser.add_argument("--public-key-out", type=Path, metavar="FILE",
                        help="also export the ASCII-armored public signing key to FILE "
                             "(outside the release directory)")
    parser.add_argument("--force", action="store_true",
                        help="write into a non-empty --out, replacing this version's files")
    return parser.parse_args(argv)


def check_version(version):
    if not VERSION_RE.match(version):
        raise UsageError(f"bad --version {version!r}: expected a semantic version x.y.z "
                         "with an optional -prerelease, e.g. 0.2.0 or 0.3.0-rc.1")
    return version


def parse_binaries(specs):
    """Turn ["linux_amd64=/path", ...] into a dict {"linux_amd64": Path}."""
    binaries = {}
    for spec in specs:
        platform, sep, path = spec.partition("=")
        if not sep or not path or not PLATFORM_RE.match(platform):
            raise UsageError(f"bad --binary {spec!r}: expected OS_ARCH=PATH, "
                             "e.g. linux_amd64=target/release/terraform-provider-fansite")
        if platform in binaries:
            raise UsageError(f"bad --binary {spec!r}: platform {platform} given twice")
        file = Path(path)
        if not file.is_file():
            raise UsageError(f"--binary {platform}: no such file: {path}")
        binaries[platform] = file
    return binaries


def source_date_epoch():
    """SOURCE_DATE_EPOCH from the environment, else the commit time of HEAD."""
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if value is None:
        try:
            value = subprocess.run(
                ["git", "-C", str(REPO_ROOT), "log", "-1", "--format=%ct"],
                check=True, capture_output=True, text=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError) as err:
            raise UsageError("SOURCE_DATE_EPOCH is not set and the commit time of "
                             f"{REPO_ROOT} could not be read with git: {err}") from None
    if not value.isdigit():
        raise UsageError(f"bad SOURCE_DATE_EPOCH {value!r}: expected seconds since 1970")
    return int(value)


def prepare_out_dir(out, version, force):
    """Create --out; refuse a non-empty one unless --force (which clears this version)."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    existing = sorted(out.iterdir())
    if existing and not force:
        raise UsageError(f"--out {out} is not empty (use --force to replace this version's files)")
    if force:
        # Drop only this version's files, so a platform left out of this run
        # cannot linger next to a SHA256SUMS that does not list it.
        for path in existing:
            if path.name.startswith(f"{NAME}_{version}_") and path.is_file():
                path.unlink()


# --------------------------------------------------------------------------
# Archives, manifest, checksums
# --------------------------------------------------------------------------

def write_zip(path, entry_name, binary, epoch):
    """Write a one-entry zip: the binary as `entry_name`, mode 0755, fixed timestamp."""
    clamped = min(max(epoch, ZIP_MIN_EPOCH), ZIP_MAX_EPOCH)
    info = zipfile.ZipInfo(entry_name, date_time=time.gmtime(clamped)[:6])
    info.create_system = 3  # unix, so that external_attr holds a unix mode
    info.external_attr = (0o100755 << 16)  # regular file, rwxr-xr-x
    data = binary.read_bytes()
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED,
                         compresslevel=ZIP_COMPRESSLEVEL)


def manifest_json():
    """HashiCorp's registry manifest, laid out exactly like terraform-registry-manifest.json
    in HashiCorp's provider scaffolding (which goreleaser publishes verbatim)."""
    return ('{\n'
            '  "version": 1,\n'
            '  "metadata": {\n'
            f'    "protocol_versions": {json.dumps(PROTOCOL_VERSIONS)}\n'
            '  }\n'
            '}\n')


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sha256sums(files):
    """SHA256SUMS text: '<hex>  <name>' per file, sorted by name (sha256sum's format)."""
    return "".join(f"{sha256_file(f)}  {f.name}\n" for f in sorted(files, key=lambda f: f.name))


# --------------------------------------------------------------------------
# GPG
# --------------------------------------------------------------------------

class TempGnupgHome:
    """A fresh, private GNUPGHOME; its gpg-agent is stopped and the directory removed on exit."""

    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="fansite-gpg-")
        os.chmod(self.path, 0o700)
        self.env = dict(os.environ, GNUPGHOME=self.path, LC_ALL="C")
        return self

    def __exit__(self, *exc):
        subprocess.run(["gpgconf", "--kill", "all"], env=self.env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        shutil.rmtree(self.path, ignore_errors=True)

    def gpg(self, *args, stdin=b"", what="gpg"):
        """Run gpg in this home; return stdout as text; raise ReleaseError with gpg's stderr."""
        cmd = ["gpg", "--homedir", self.path, "--batch", "--no-tty", *args]
        try:
            proc = subprocess.run(cmd, input=stdin, capture_output=True, env=self.env)
        except OSError as err:
            raise ReleaseError(f"cannot run gpg: {err}") from None
        if proc.returncode != 0:
            # gpg's stderr names keys and files, never secret material or passphrases.
            detail = proc.stderr.decode(errors="replace").strip()
            hint = ""
            if "passphrase" in detail.lower():
                hint = f"\n(the key is passphrase-protected: check {PASSPHRASE_ENV})"
            raise ReleaseError(f"{what} failed (gpg exit {proc.returncode}):\n{detail}{hint}")
        return proc.stdout.decode(errors="replace")


def colon_records(text):
    return [line.split(":") for line in text.splitlines() if line]


class SigningKey:
    """The imported secret key: primary key id, fingerprint and the (sub)key that signs."""

    def __init__(self, home):
        records = colon_records(home.gpg("--with-colons", "--fixed-list-mode",
                                         "--list-secret-keys", what="listing the secret key"))
        primaries = [r for r in records if r[0] == "sec"]
        if len(primaries) != 1:
            raise UsageError(f"{KEY_ENV} must hold exactly one secret key, "
                             f"it holds {len(primaries)}")
        primary = primaries[0]
        self.key_id = primary[4]
        if primary[3] not in RSA_ALGOS:
            algo = ALGO_NAMES.get(primary[3], f"algorithm {primary[3]}")
            raise UsageError(f"the key in {KEY_ENV} ({self.key_id}) is {algo}, not RSA: "
                             "Terraform Cloud and the public registry accept RSA (or DSA) "
                             "signing keys; this release takes RSA")
        self.fingerprint = self._fingerprint_after(records, records.index(primary))

        # The key gpg should sign with: the primary if it can sign and its secret is
        # here, else the newest usable signing subkey. It is pinned with "<fpr>!".
        candidates = []
        for i, rec in enumerate(records):
            if rec[0] not in ("sec", "ssb"):
                continue
            rec = rec + [""] * (15 - len(rec))  # pad short records
            revoked_or_expired = rec[1] in ("r", "e", "i", "d")
            secret_missing = rec[14] in ("#", ">")  # "#": stub, ">": on a smartcard
            if "s" in rec[11] and not revoked_or_expired and not secret_missing:
                candidates.append((rec[0] == "sec", int(rec[5] or 0), rec,
                                   self._fingerprint_after(records, i)))
        if not candidates:
            raise UsageError(f"the key in {KEY_ENV} ({self.key_id}) has no usable "
                             "signing key with its secret part")
        candidates.sort(key=lambda c: (c[0], c[1]), reverse=True)
        _, _, signer, self.signer_fingerprint = candidates[0]
        if signer[3] not in RSA_ALGOS:
            algo = ALGO_NAMES.get(signer[3], f"algorithm {signer[3]}")
            raise UsageError(f"the signing subkey {signer[4]} of {self.key_id} is {algo}, not RSA")
        self.signer_key_id = signer[4]
        self.newest_self_time = self._newest_self_time(home)

    @staticmethod
    def _fingerprint_after(records, index):
        """The fpr record that follows the key record at `index` in --with-colons output."""
        for nxt in records[index + 1:]:
            if nxt[0] == "fpr":
                return nxt[9]
            if nxt[0] in ("sec", "ssb", "pub", "sub"):
                break
        raise ReleaseError("gpg listed a key without a fingerprint")

    def _newest_self_time(self, home):
        """Latest creation time among the key, its subkeys and its self-signatures.

        gpg will not use a key, subkey or self-signature dated after its (faked)
        clock, so the signature time must not be earlier than this.
        """
        records = colon_records(home.gpg("--with-colons", "--fixed-list-mode", "--list-sigs",
                                         self.fingerprint, what="listing the key's signatures"))
        times = [int(r[5]) for r in records
                 if r[0] in ("pub", "sub") and r[5].isdigit()]
        times += [int(r[5]) for r in records
                  if r[0] == "sig" and r[4] == self.key_id and r[5].isdigit()]
        return max(times)


def import_key(home):
    """Import the secret key from the environment into `home`; check it is RSA."""
    armored = os.environ.get(KEY_ENV, "")
    if not armored.strip():
        raise UsageError(f"{KEY_ENV} is not set: an ASCII-armored RSA secret key signs the release")
    if "-----BEGIN PGP PRIVATE KEY BLOCK-----" not in armored:
        raise UsageError(f"{KEY_ENV} is not an ASCII-armored secret key "
                         "(no '-----BEGIN PGP PRIVATE KEY BLOCK-----' line)")
    # The secret key reaches gpg on stdin only; it is never written outside the temp home.
    home.gpg("--import", stdin=armored.encode(), what=f"importing {KEY_ENV}")
    return SigningKey(home)


def sign_sums(home, key, sums_path, sig_path, epoch):
    """Write a binary detached signature of SHA256SUMS; return the signature time used."""
    passphrase = os.environ.get(PASSPHRASE_ENV, "")
    # The passphrase goes to gpg on stdin (--passphrase-fd 0), never on a command line.
    pass_args = ["--pinentry-mode", "loopback", "--passphrase-fd", "0"]
    pass_stdin = passphrase.encode() + b"\n"

    # Freeze gpg's clock so the signature packet's creation time, the only
    # varying input of an RSA PKCS#1 v1.5 signature, is the same on every run.
    sign_time = max(epoch, key.newest_self_time)
    frozen = f"{sign_time}!"
    home.gpg(*pass_args, "--faked-system-time", frozen,
             "--local-user", f"{key.signer_fingerprint}!",  # "!": exactly this (sub)key
             "--digest-algo", "SHA256", "--detach-sign",  # no --armor: binary signature
             "--yes", "--output", str(sig_path), str(sums_path),
             stdin=pass_stdin, what="signing SHA256SUMS")

    # Check the result: binary (not armored), good, made by our key at the frozen time.
    signature = sig_path.read_bytes()
    if not signature or not signature[0] & 0x80:  # OpenPGP packets start with bit 7 set
        raise ReleaseError(f"{sig_path} is not a binary OpenPGP signature")
    status = home.gpg("--faked-system-time", frozen, "--status-fd", "1",
                      "--verify", str(sig_path), str(sums_path),
                      what="verifying the new signature")
    valid = [line.split() for line in status.splitlines()
             if line.startswith("[GNUPG:] VALIDSIG ")]
    if not valid:
        raise ReleaseError("gpg did not report a valid signature on SHA256SUMS")
    if valid[0][4] != str(sign_time):  # VALIDSIG <fpr> <date> <timestamp> ...
        raise ReleaseError(f"gpg ignored --faked-system-time: signature time {valid[0][4]}, "
                           f"wanted {sign_time}; the signature would not be reproducible")
    return sign_time


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

def release(args):
    version = check_version(args.version)
    binaries = parse_binaries(args.binary)
    epoch = source_date_epoch()
    out = args.out
    if args.public_key_out is not None and args.public_key_out.resolve().parent == out.resolve():
        raise UsageError("--public-key-out must not be inside the release directory")

    with TempGnupgHome() as home:
        # Key problems (missing, not RSA, unusable) are reported before anything is written.
        key = import_key(home)
        prepare_out_dir(out, version, args.force)
        written = []
        try:
            for platform in sorted(binaries):
                os_name = PLATFORM_RE.match(platform).group(1)
                entry = f"{NAME}_v{version}" + (".exe" if os_name == "windows" else "")
                path = out / f"{NAME}_{version}_{platform}.zip"
                written.append(path)
                write_zip(path, entry, binaries[platform], epoch)

            manifest = out / f"{NAME}_{version}_manifest.json"
            written.append(manifest)
            manifest.write_text(manifest_json())

            sums = out / f"{NAME}_{version}_SHA256SUMS"
            sums_text = sha256sums(written)
            written.append(sums)
            sums.write_text(sums_text)

            sig = out / f"{NAME}_{version}_SHA256SUMS.sig"
            written.append(sig)
            sign_time = sign_sums(home, key, sums, sig, epoch)
        except BaseException:
            # Leave no half-made release behind.
            for path in written:
                path.unlink(missing_ok=True)
            raise

        if args.public_key_out is not None:
            public = home.gpg("--armor", "--export", key.fingerprint,
                              what="exporting the public key")
            args.public_key_out.parent.mkdir(parents=True, exist_ok=True)
            args.public_key_out.write_text(public)
            written.append(args.public_key_out)

    print(f"key_id: {key.key_id}")
    if key.signer_key_id != key.key_id:
        print(f"signing_subkey_id: {key.signer_key_id}")
    print(f"signature_time: {sign_time}")
    for path in written:
        print(f"file: {path}")


def main(argv=None):
    try:
        release(parse_args(argv))
    except UsageError as err:
        print(f"release.py: error: {err}", file=sys.stderr)
        return 2
    except ReleaseError as err:
        print(f"release.py: error: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        print(f"release.py: error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
