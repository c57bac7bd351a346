#!/usr/bin/env bash
# `make test`: format check, unit tests, and end-to-end tests that drive real
# Terraform against one shared local AWS endpoint. Under CI=true a missing tool fails.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${CI:-}" = true ] && ! command -v cargo-nextest >/dev/null 2>&1; then
  echo "test: cargo-nextest is missing (CI=true)" >&2
  exit 1
fi
cargo fmt --all --check
# The committed workspaces/<part>/ and pipelines/<name>/ files must be what
# workspaces/*.toml render.
"${CARGO_TARGET_DIR:-target}/debug/fansite-gen" check
# The release workflow, and the release workflows fansite-gen renders for the
# API's and the site's repositories (pipelines/, checked just above against the
# specs): actionlint, zizmor and the workflow schema, no finding allowed.
scripts/lint-workflows.sh .github/workflows pipelines
rm -rf target/e2e
. scripts/endpoint.sh
echo "test: local AWS endpoint $FANSITE_AWS_ENDPOINT"
if command -v cargo-nextest >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
else
  cargo test --workspace --no-fail-fast
fi
