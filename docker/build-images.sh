#!/usr/bin/env bash
# Builds the project images from the compiled dist/ (in a checkout, compiled here first when out of
# date; an installed package ships it compiled):
#   fnguard/fn-node, fnguard/fnlb, and one image per function (localhost/fnlb-guard/primes, echo, sleep, crash,
#   garble, hostile) from docker/function.Dockerfile with its FUNCTION build argument.
# The images carry only what fn-node, fnlb and the functions run: docker/image-deps.mjs stages the
# closure of the runtime dependencies as they are installed on disk (not the suite's Vitest,
# Testcontainers and PostgreSQL). So it needs no lockfile, no TypeScript and no dev dependency: it
# runs alike from a checkout after `npm ci` and from the package installed in a project. The staged
# native addons (better-sqlite3's) were compiled for this host's Node; on a base that runs another
# (the offline bootstrap's Node LTS, named by its fnlb-guard.node-version label) they are rebuilt for
# it (docker/native-addons.sh, against that Node's headers from docker/node-dist.sh; cached). The staging goes
# to dist/docker-deps, or, when the package's folder is not writable (a global install), to
# $TMPDIR/fnlb-guard-images-<uid>. An image whose inputs (base, dist/src, Dockerfile, dependencies)
# are unchanged is not rebuilt at all: a run with nothing to do takes about 2 s.
# FNGUARD_NODE_BASE names the Node base image; by default the offline bootstrap's
# fnguard/base-node:local when it exists (a Node LTS from the npm registry), else the public
# node:<major>-bookworm-slim of the Node running this script (22 or 24 LTS where users run the guard),
# whose addons are the host's own.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "build-images: $*"; }

# Where the staging and the lock go: beside the build when this folder is writable.
if [ -w . ] && { [ ! -e dist ] || [ -w dist ]; }; then
  work=dist
else
  work=${TMPDIR:-/tmp}/fnlb-guard-images-$(id -u)
fi
mkdir -p "$work"
# Two test runs at once (each containers topology runs this) take turns: the staging below and the
# image tags are shared.
exec 9>"$work/.build-images.lock"
flock 9

# A checkout compiles its sources; an installed package has no sources to compile (and no tsc).
if [ -f tsconfig.build.json ]; then npx tsc -p tsconfig.build.json; fi

base=${FNGUARD_NODE_BASE:-}
if [ -z "$base" ] && docker image inspect fnguard/base-node:local >/dev/null 2>&1; then
  base=fnguard/base-node:local
fi
if [ -z "$base" ]; then base="node:$(node -p 'process.versions.node.split(".")[0]')-bookworm-slim"; fi
base_id=$(docker image inspect --format '{{.Id}}' "$base" 2>/dev/null || echo "$base")
# The Node the base runs, where it says (the offline base's label), else this host's.
host_node=$(node --version)
base_node=$(docker image inspect --format '{{index .Config.Labels "fnlb-guard.node-version"}}' "$base" 2>/dev/null || true)
[[ $base_node == v[0-9]* ]] || base_node=$host_node

# Production dependencies, restaged only when what is installed changed, or when their addons were
# rebuilt for another Node than the base's; then rebuilt for the base's Node when it is not the host's.
deps=$work/docker-deps
if [ -f "$deps/.native-addons" ] && [ "$(cat "$deps/.native-addons")" != "$base_node" ]; then rm -rf "$deps"; fi
node docker/image-deps.mjs "$deps"
if [ "$base_node" != "$host_node" ]; then
  docker/native-addons.sh "$deps/node_modules" "$(docker/node-dist.sh "$base_node")"
fi
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
  # The Dockerfiles copy the staged packages from dist/docker-deps/node_modules, wherever they are.
  local staged=()
  if [ "$with_deps" = yes ]; then staged=(-C "$deps" node_modules); fi
  local args=(--label fnlb-guard=1 --label "fnlb-guard.inputs=$inputs" -t "$tag" -f "$dockerfile" "$@")
  args+=(--build-arg "NODE_IMAGE=$base")
  # The legacy builder: it needs no buildx plugin, and Testcontainers builds with it too.
  tar -c --transform "s,^node_modules,dist/docker-deps/node_modules," "${paths[@]}" "${staged[@]}" |
    DOCKER_BUILDKIT=0 docker build -q "${args[@]}" - >/dev/null 2>"$deps/build.log" || {
    cat "$deps/build.log" >&2
    exit 1
  }
  say "built $tag"
}

build fnguard/fn-node docker/fn-node.Dockerfile yes
build fnguard/fnlb docker/fnlb.Dockerfile yes
for function in primes echo sleep crash garble hostile; do
  build "localhost/fnlb-guard/$function" docker/function.Dockerfile no --build-arg "FUNCTION=$function"
done

# A rebuild leaves the previous image of each tag dangling: remove ours, never anyone else's.
docker image prune -f --filter label=fnlb-guard=1 >/dev/null
