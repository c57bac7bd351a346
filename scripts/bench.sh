#!/usr/bin/env bash
# `make bench`: our provider (`dist` build) against a Go provider built on
# terraform-plugin-framework, side by side in one run (scripts/bench.py);
# then the provider at scale on the local endpoint (scripts/bench_scale.py).
set -euo pipefail
cd "$(dirname "$0")/.."
PEER_VERSION=0.16.0
# (pip show fails when it is not installed: a fresh clone.)
have=$( (.tools/venv/bin/pip show workato-terraform-provider 2>/dev/null || true) | sed -n 's/^Version: //p')
if [ "$have" != "$PEER_VERSION" ]; then
  echo "bench: installing the peer (PyPI workato-terraform-provider==$PEER_VERSION)"
  .tools/venv/bin/pip install -q --disable-pip-version-check "workato-terraform-provider==$PEER_VERSION"
fi
# The `dist` profile is what ships: release with fat LTO and size optimisation,
# built as `make release` builds it.
scripts/dist-build.sh
OURS="${CARGO_TARGET_DIR:-target}/dist/terraform-provider-fansite"
GEN="${CARGO_TARGET_DIR:-target}/dist/fansite-gen"
PEER_DIR=$(.tools/venv/bin/python -c 'import workato_terraform_provider, os; print(os.path.dirname(workato_terraform_provider.__file__))')
if [ -n "${TERRAFORM:-}" ]; then TF=$TERRAFORM
elif command -v terraform >/dev/null 2>&1; then TF=$(command -v terraform)
else TF=$PWD/.tools/bin/terraform
fi
.tools/venv/bin/python scripts/bench.py --terraform "$TF" --ours "$OURS" --peer-payload "$PEER_DIR/payload" --runs "${RUNS:-15}" --gen "$GEN"
# At scale (scripts/bench_scale.py): the whole stack through the realistic
# layer against its critical path, plans of 200 composites, the TLS stacks.
# BENCH_ONLY=stack (or plan, build) runs one of them.
cargo build -q -p fansite-tests --bin fansite-realistic
only=()
for part in ${BENCH_ONLY:-}; do only+=(--only "$part"); done
exec .tools/venv/bin/python scripts/bench_scale.py --terraform "$TF" --rc target/bench/ours/terraformrc \
  --layer "${CARGO_TARGET_DIR:-target}/debug/fansite-realistic" "${only[@]}"
