#!/usr/bin/env bash
# Builds the project images from the compiled dist/ (built here first when out of date):
#   fnguard/fn-node, fnguard/fnlb, and one image per function (fnguard/primes, echo, sleep, crash,
#   garble, hostile) from docker/function.Dockerfile with its FUNCTION build argument.
# The images carry only what fn-node, fnlb and the functions run: docker/image-deps.mjs names the
# closure of the runtime dependencies in the lockfile (not the suite's Vitest, Testcontainers and
# PostgreSQL) and they are copied from the host's node_modules into dist/docker-deps/ (better-sqlite3 is native and was built
# for this host's Node, which the offline base image is). An image whose inputs (base, dist/src,
# Dockerfile, lockfile) are unchanged is not rebuilt at all: a run with nothing to do takes about 2 s.
# FNGUARD_NODE_BASE names the Node base image; by default the offline bootstrap's
# fnguard/base-node:local when it exists, else the Dockerfiles' public node:20-bookworm-slim.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "build-images: $*"; }
[ -d node_modules ] || { echo "build-images: run npm ci first" >&2; exit 1; }

# Two test runs at once (each containers topology runs this) take turns: the staging below and the
# image tags are shared.
mkdir -p dist
exec 9>dist/.build-images.lock
flock 9

npx tsc -p tsconfig.build.json

# Production dependencies, restaged only when the lockfile changed.
deps=dist/docker-deps
stamp=$(cat package-lock.json docker/image-deps.mjs | sha256sum | cut -d' ' -f1)
if [ "$(cat "$deps/.stamp" 2>/dev/null || true)" != "$stamp" ]; then
  rm -rf "$deps"
  mkdir -p "$deps"
  # Top-level packages only: a package's nested node_modules holds its own dependencies.
  node docker/image-deps.mjs | grep -E '^node_modules/(@[^/]+/)?[^/]+$' |
    while read -r package; do cp -a --parents "$package" "$deps/"; done
  echo "$stamp" >"$deps/.stamp"
  say "staged production dependencies ($(du -sh "$deps" | cut -f1))"
fi

base=${FNGUARD_NODE_BASE:-}
if [ -z "$base" ] && docker image inspect fnguard/base-node:local >/dev/null 2>&1; then
  base=fnguard/base-node:local
fi
base_id=$(if [ -n "$base" ]; then docker image inspect --format '{{.Id}}' "$base"; else echo public; fi)
code_hash=$(find package.json dist/src -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)

# Builds one image from a tar of just the paths it needs (sending the whole repository as context
# costs seconds per image), unless the image was already built from the same inputs.
build() {
  local tag=$1 dockerfile=$2 with_deps=$3
  shift 3
  local inputs
  inputs=$(printf '%s\n' "$base_id" "$code_hash" "$(sha256sum "$dockerfile")" "$@" \
    "$([ "$with_deps" = yes ] && cat "$deps/.stamp")" | sha256sum | cut -c1-16)
  if [ "$(docker image inspect --format '{{index .Config.Labels "fnlb-guard.inputs"}}' "$tag" 2>/dev/null)" = "$inputs" ]; then
    say "$tag up to date"
    return
  fi
  local paths=(package.json dist/src "$dockerfile")
  if [ "$with_deps" = yes ]; then paths+=("$deps/node_modules"); fi
  local args=(--label fnlb-guard=1 --label "fnlb-guard.inputs=$inputs" -t "$tag" -f "$dockerfile" "$@")
  if [ -n "$base" ]; then args+=(--build-arg "NODE_IMAGE=$base"); fi
  # The legacy builder: it needs no buildx plugin, and Testcontainers builds with it too.
  tar -c "${paths[@]}" | DOCKER_BUILDKIT=0 docker build -q "${args[@]}" - >/dev/null 2>"$deps/build.log" || {
    cat "$deps/build.log" >&2
    exit 1
  }
  say "built $tag"
}

build fnguard/fn-node docker/fn-node.Dockerfile yes
build fnguard/fnlb docker/fnlb.Dockerfile yes
for function in primes echo sleep crash garble hostile; do
  build "fnguard/$function" docker/function.Dockerfile no --build-arg "FUNCTION=$function"
done

# A rebuild leaves the previous image of each tag dangling: remove ours, never anyone else's.
docker image prune -f --filter label=fnlb-guard=1 >/dev/null
