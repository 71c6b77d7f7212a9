#!/usr/bin/env bash
# The body of the fnlb-guard GitHub Action (action.yml), and what .ci/run calls to prove it: runs
# `fnlb-guard --action` from the caller's directory, which reads the Action's inputs (INPUT_*, every one
# a setting of guard/settings/table.ts), prepares what the chosen topology needs (the containers and
# swarm topologies build this project's images, functions included, on the machine's base images or
# the public ones), and writes the step's outputs `report` and `verdict` to $GITHUB_OUTPUT. Exits with
# fnlb-guard's status (0 pass, 1 fail, 2 input, 3 unreachable).
set -uo pipefail
package=$(cd "$(dirname "$0")/.." && pwd)

# The caller's Node runs the guard (the action does not change it for the job's later steps).
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' || {
  echo "fnlb-guard: Node 20 or later is needed, found $(node --version)" >&2
  exit 2
}
exec node "$package/dist/guard/cli/main.js" --action
