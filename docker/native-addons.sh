#!/usr/bin/env bash
# Rebuilds the native addons of staged packages (every binding.gyp under <node_modules>) for the Node
# distribution <dist> (docker/node-dist.sh): the packages were installed, and their addons compiled,
# for the host's Node, and an image that runs another Node needs them built against its headers. Each
# addon's build is cached by package, version and Node version under ${FNGUARD_CACHE}/native, so a
# second staging (an installed package's image build) copies it instead of compiling again
# (better-sqlite3 takes about 80 s on 2 cores). An addon of an optional package that does not build
# (ssh2's crypto, cpu-features: each falls back to JavaScript without it) is removed rather than left
# built for another Node; a required one that does not build fails the script. A marker beside
# <node_modules> records the Node the addons were built for, so nothing is done twice.
# Needs what `npm ci` already needs to compile them: python3, make and a C++ compiler.
# Usage: docker/native-addons.sh <node_modules> <dist>
set -euo pipefail

modules=${1:?usage: docker/native-addons.sh <node_modules> <dist>}
dist=${2:?usage: docker/native-addons.sh <node_modules> <dist>}
cache=${FNGUARD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fnlb-guard}/native
version=$("$dist/bin/node" --version)
marker=$(dirname "$modules")/.native-addons
[ "$(cat "$marker" 2>/dev/null)" = "$version" ] && exit 0

# npm bundles node-gyp; the host's npm runs it under the image's Node, against that Node's headers.
gyp=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")/node_modules/node-gyp/bin/node-gyp.js
[ -f "$gyp" ] || {
  echo "native-addons: npm's node-gyp is not at $gyp" >&2
  exit 1
}
# Optional addons: their packages run without them.
OPTIONAL='ssh2 cpu-features'

say() { echo "native-addons: $*"; }

# The package a folder belongs to: the nearest folder above it (or itself) with a package.json.
package_of() {
  local dir=$1
  until [ -f "$dir/package.json" ]; do dir=$(dirname "$dir"); done
  echo "$dir"
}

while IFS= read -r -d '' file; do
  addon=$(dirname "$file")
  pkg=$(package_of "$addon")
  read -r name pkg_version < <(node -p 'const p = require(require("path").resolve(process.argv[1])); `${p.name} ${p.version}`' "$pkg/package.json")
  key="$version/$name@$pkg_version${addon#"$pkg"}"
  if [ -d "$cache/$key/Release" ]; then
    rm -rf "$addon/build"
    mkdir -p "$addon/build"
    cp -a "$cache/$key/Release" "$addon/build/"
    say "$name: cached build for node $version"
    continue
  fi
  say "$name: building for node $version"
  log=$(mktemp)
  if (cd "$addon" && PATH="$dist/bin:$PATH" "$dist/bin/node" "$gyp" rebuild --release \
    --nodedir="$dist" -j max) >"$log" 2>&1; then
    # Only the addons themselves: the objects they were linked from are tens of megabytes.
    find "$addon/build" -mindepth 1 -maxdepth 1 ! -name Release -exec rm -rf {} +
    find "$addon/build/Release" -mindepth 1 -maxdepth 1 ! -name '*.node' -exec rm -rf {} +
    mkdir -p "$cache/$key"
    rm -rf "$cache/$key/Release"
    cp -a "$addon/build/Release" "$cache/$key/"
  elif [[ " $OPTIONAL " == *" $name "* ]]; then
    say "$name: its optional addon did not build for node $version; removed (the package runs without it)"
    rm -rf "$addon/build"
  else
    tail -n 30 "$log" >&2
    echo "native-addons: $name did not build for node $version (above)" >&2
    rm -f "$log"
    exit 1
  fi
  rm -f "$log"
done < <(find "$modules" -name binding.gyp -not -path '*/test/*' -print0)
echo "$version" >"$marker"
