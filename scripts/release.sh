#!/usr/bin/env bash
# `make release VERSION=x.y.z`: the provider built as it ships (scripts/dist-build.sh)
# and laid out as HashiCorp's provider releases are (scripts/release.py): the
# platform zip, the manifest, SHA256SUMS and its binary GPG signature, in
# dist/<version>/. The key comes from the environment: FANSITE_RELEASE_GPG_KEY
# (an ASCII-armored RSA secret key) and FANSITE_RELEASE_GPG_PASSPHRASE if it has one.
# Two releases of the same commit are byte-identical: the zips' times and the
# signature's time are the commit's (SOURCE_DATE_EPOCH), and the build maps
# this checkout's paths away. Only this machine's platform is built here; the
# release workflow (.github/workflows/release.yml) builds the others.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=${1:-}
if [ -z "$VERSION" ]; then
  echo "release: usage: make release VERSION=x.y.z" >&2
  exit 2
fi
want=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
if [ "$VERSION" != "$want" ]; then
  echo "release: VERSION=$VERSION is not the workspace version $want (Cargo.toml): set the version there, and its CHANGELOG.md section, in the commit you release" >&2
  exit 2
fi
heading=$(grep -m1 -E "^## ${VERSION//./\\.}( |\$)" CHANGELOG.md || true)
if [ -z "$heading" ]; then
  echo "release: CHANGELOG.md has no \"## $VERSION\" section" >&2
  exit 2
fi
case "${heading,,}" in *unreleased*)
  echo "release: CHANGELOG.md says \"$heading\": give it the release date in the commit you release" >&2
  exit 2 ;;
esac
if [ -z "${FANSITE_RELEASE_GPG_KEY:-}" ]; then
  echo "release: FANSITE_RELEASE_GPG_KEY is not set: an ASCII-armored RSA secret key signs the release" >&2
  exit 2
fi
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  echo "release: warning: the work tree has uncommitted changes; this release is not the commit's" >&2
fi
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
scripts/dist-build.sh
OS=$(uname -s | tr '[:upper:]' '[:lower:]')
case "$(uname -m)" in x86_64) ARCH=amd64 ;; aarch64|arm64) ARCH=arm64 ;; *) ARCH=$(uname -m) ;; esac
BIN="${CARGO_TARGET_DIR:-target}/dist/terraform-provider-fansite"
# The public key beside the release (not in it): what the registry's
# `signing_keys` and the bootstrap's `release_gpg_public_key` take, and what
# the registry test installs `make release`'s own release with.
exec python3 scripts/release.py --version "$VERSION" --out "dist/$VERSION" --force \
  --binary "${OS}_$ARCH=$BIN" --public-key-out "dist/$VERSION.pub.asc"
