#!/usr/bin/env bash
# The body of the fnlb-guard GitHub Action (action.yml), and what .ci/run calls to prove it. Installs
# the package the `package` input names (INPUT_PACKAGE: an npm spec or a packed tarball; by default
# the release this action is, fnlb-guard@<its version>) into a folder of the runner's own, with its
# runtime dependencies only, never the repository's dev tools; then runs `fnlb-guard --action` from
# the caller's directory, which reads the Action's inputs (INPUT_*, every one a setting of
# guard/settings/table.ts), prepares what the chosen topology needs (the containers and swarm
# topologies build the project's images, functions included, from the installed package), and writes
# the step's outputs `report` and `verdict` to $GITHUB_OUTPUT. Exits with fnlb-guard's status (0 pass,
# 1 fail, 2 input, 3 unreachable); 2 as well when the package cannot be installed.
set -uo pipefail
action=$(cd "$(dirname "$0")/.." && pwd)

# The caller's Node runs the guard (the action does not change it for the job's later steps).
node -e 'const [major, minor] = process.versions.node.split(".").map(Number);
  process.exit(major > 22 || (major === 22 && minor >= 12) || (major === 20 && minor >= 19) ? 0 : 1)' || {
  echo "fnlb-guard: Node 20.19 or 22.12 or later is needed, found $(node --version)" >&2
  exit 2
}

spec=${INPUT_PACKAGE:-}
if [ -z "$spec" ]; then
  spec="fnlb-guard@$(node -p "require('$action/package.json').version")"
fi
prefix=${RUNNER_TEMP:-${TMPDIR:-/tmp}}/fnlb-guard-package
mkdir -p "$prefix"
[ -f "$prefix/package.json" ] || echo '{"private":true}' >"$prefix/package.json"
echo "fnlb-guard: installing $spec"
if ! npm install --prefix "$prefix" --no-audit --no-fund --no-save --loglevel=error "$spec" >&2; then
  echo "fnlb-guard: could not install the package $spec (the action's package input)" >&2
  exit 2
fi
exec node "$prefix/node_modules/fnlb-guard/dist/guard/cli/main.js" --action
