#!/usr/bin/env bash
# Prints the folder of a Node.js distribution (bin/node and the headers in include/node) for a major
# (24) or an exact version (24.22.3), fetched on first use from the npm registry's node-linux-<arch>
# package, which carries the official binary and headers, into the cache
# (${FNGUARD_CACHE:-~/.cache/fnlb-guard}/node-v<version>-linux-<arch>). A major resolves to its newest
# release on the registry, or, when the registry cannot be asked, to the newest one already cached.
# The offline bootstrap runs the images on it (a supported LTS, whatever Node the host has), and
# docker/native-addons.sh builds the images' native addons against its headers.
# Usage: docker/node-dist.sh <major|version>
set -euo pipefail

want=${1:?usage: docker/node-dist.sh <major|version>}
cache=${FNGUARD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fnlb-guard}
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64) arch=arm64 ;;
  *)
    echo "node-dist: no Node package on npm for $(uname -m)" >&2
    exit 1
    ;;
esac
package=node-linux-$arch
mkdir -p "$cache"

# The newest of versions given one per line.
newest() { sort -t. -k1,1n -k2,2n -k3,3n | tail -1; }

if [[ $want =~ ^[0-9]+$ ]]; then
  version=$(timeout 60 npm view "$package@$want" version --json 2>/dev/null |
    node -e 'const v = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log([v].flat().join("\n"))' |
    newest) || version=
  if [ -z "$version" ]; then
    version=$(find "$cache" -maxdepth 1 -name "node-v$want.*-linux-$arch" -printf '%f\n' |
      sed -e 's/^node-v//' -e "s/-linux-$arch\$//" | newest)
    [ -n "$version" ] || {
      echo "node-dist: cannot ask the npm registry for $package@$want, and none is cached in $cache" >&2
      exit 1
    }
  fi
elif [[ $want =~ ^v?[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  version=${want#v}
else
  echo "node-dist: '$want' is neither a major (24) nor a version (24.22.3)" >&2
  exit 2
fi

dir=$cache/node-v$version-linux-$arch
if [ ! -x "$dir/bin/node" ] || [ ! -f "$dir/include/node/node.h" ]; then
  fetch=$(mktemp -d "$cache/.fetch-XXXXXX")
  trap 'rm -rf "$fetch"' EXIT
  (cd "$fetch" && timeout 300 npm pack "$package@$version" --loglevel=error >/dev/null) || {
    echo "node-dist: could not fetch $package@$version from the npm registry" >&2
    exit 1
  }
  tar -xzf "$fetch"/*.tgz -C "$fetch"
  rm -rf "$dir"
  mv "$fetch/package" "$dir"
fi
echo "$dir"
