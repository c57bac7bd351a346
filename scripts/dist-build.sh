#!/usr/bin/env bash
# The build that ships (`make release`, `make bench`): the `dist` profile, with
# the paths of this checkout and of cargo's registry remapped, so that the same
# commit built in another directory gives the same bytes. Both callers build the
# same packages with the same flags, so neither rebuilds what the other built.
#   scripts/dist-build.sh   (prints nothing but cargo's output; binaries in $CARGO_TARGET_DIR/dist)
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO_HOME=${CARGO_HOME:-$HOME/.cargo}
export RUSTFLAGS="--remap-path-prefix=$PWD=/fansite --remap-path-prefix=$CARGO_HOME=/cargo"
exec cargo build --locked --profile dist -p terraform-provider-fansite -p fansite-gen
