#!/usr/bin/env bash
# The body of the fnguard GitHub Action (action.yml), and what .ci/run calls to prove it: reads the
# action's inputs from INPUT_* variables, prepares what the chosen topology needs (the project's images
# for containers), runs `fnguard` from the caller's directory, and writes the outputs `report` (the
# fnguard.json path) and `verdict` (pass, fail, skipped, or error when no report was written) to
# $GITHUB_OUTPUT when that is set. Exits with fnguard's status (0 pass, 1 fail, 2 input, 3 unreachable).
#   INPUT_FNLB_IMAGE  INPUT_FNLB_COMMAND  INPUT_FNLB_ARGS  INPUT_NODE_IMAGE  INPUT_NODE_PRESET
#   INPUT_TOPOLOGY    INPUT_ONLY          INPUT_BASELINE   INPUT_BOUNDS (NAME=VALUE, one per line)
#   INPUT_REPORTS (default fnguard-reports)  INPUT_PUBLIC_BASES (1: images on public node/postgres bases)
set -uo pipefail
package=$(cd "$(dirname "$0")/.." && pwd)

args=()
add() { if [ -n "${2:-}" ]; then args+=("$1" "$2"); fi; }
add --fnlb-image "${INPUT_FNLB_IMAGE:-}"
add --fnlb-cmd "${INPUT_FNLB_COMMAND:-}"
add --fnlb-args "${INPUT_FNLB_ARGS:-}"
add --node-image "${INPUT_NODE_IMAGE:-}"
add --node-preset "${INPUT_NODE_PRESET:-}"
add --topology "${INPUT_TOPOLOGY:-}"
add --only "${INPUT_ONLY:-}"
add --baseline "${INPUT_BASELINE:-}"
while IFS= read -r bound; do
  bound=$(echo "$bound" | tr -d '[:space:]')
  if [ -n "$bound" ]; then args+=(--bound "$bound"); fi
done <<<"${INPUT_BOUNDS:-}"
reports=${INPUT_REPORTS:-fnguard-reports}
args+=(--reports "$reports")

# The containers topology runs the project's node and function images (and its fnlb unless another
# image is under test): built here, on public bases where no offline bootstrap made local ones.
topology=${INPUT_TOPOLOGY:-auto}
if [ "$topology" = containers ] || { [ "$topology" = auto ] && [ -n "${INPUT_FNLB_IMAGE:-}${INPUT_NODE_IMAGE:-}" ]; }; then
  if [ "${INPUT_PUBLIC_BASES:-1}" = 1 ]; then
    bash "$package/docker/offline/bootstrap.sh" --public-bases || exit 3
  else
    bash "$package/docker/build-images.sh" || exit 3
  fi
fi

# The caller's Node runs the guard (the action does not change it for the job's later steps).
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' || {
  echo "fnguard: Node 20 or later is needed, found $(node --version)" >&2
  exit 2
}
report=$(realpath -m "$reports/fnguard.json")
# An earlier run's report must not be read as this run's verdict.
rm -f "$report"
node "$package/dist/guard/cli/main.js" "${args[@]}"
status=$?

if [ -f "$report" ]; then
  verdict=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).verdict)' "$report")
else
  verdict=error
fi
echo "fnguard: verdict $verdict (exit $status), report $report"
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  { echo "report=$report"; echo "verdict=$verdict"; } >>"$GITHUB_OUTPUT"
fi
exit "$status"
