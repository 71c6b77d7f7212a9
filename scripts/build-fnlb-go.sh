#!/usr/bin/env bash
# Builds the historic Go fnlb (github.com/fnproject/lb, 2017-2019) from a source tree the user provides,
# into one binary, so the guard can be pointed at it on the processes topology:
#
#   scripts/build-fnlb-go.sh --source /tmp/lb --out /tmp/fnlb-go
#   npx fnlb-guard --fnlb-command '/tmp/fnlb-go -nodes {nodes} -listen {listen} -mgmt-listen {mgmt} -hc-interval {hc_interval}'
#
# It compiles the tree it is given (it never fetches, copies or commits fnlb's code) in GOPATH mode,
# as the tree predates Go modules (glide, vendored), in a temporary GOPATH removed afterwards, with
# `-tags libsqlite3`: the system libsqlite3 instead of the SQLite amalgamation it vendors (which a
# partial mirror may lack). Tested with the tree at 1fc19e9 (its last commit), built by Go 1.19.
# Needs go (cgo, so a C compiler too) and the SQLite headers: on Debian, apt-get install golang-go gcc
# libsqlite3-dev.
set -euo pipefail

die() {
  echo "build-fnlb-go: error: $*" >&2
  exit 1
}
source_dir='' out=''
while [ $# -gt 0 ]; do
  case "$1" in
    --source) source_dir=${2:-}; shift 2 || die "--source needs a directory" ;;
    --out) out=${2:-}; shift 2 || die "--out needs a file" ;;
    -h | --help)
      echo "usage: scripts/build-fnlb-go.sh --source DIR --out FILE"
      exit 0
      ;;
    *) die "unknown argument: $1 (usage: --source DIR --out FILE)" ;;
  esac
done
[ -n "$source_dir" ] && [ -n "$out" ] || die "usage: scripts/build-fnlb-go.sh --source DIR --out FILE"
[ -f "$source_dir/main.go" ] && [ -d "$source_dir/lib" ] ||
  die "--source $source_dir is not an fnproject/lb tree: main.go or lib/ is missing"
command -v go >/dev/null 2>&1 || die "go is not installed (apt-get install golang-go gcc libsqlite3-dev)"

gopath=$(mktemp -d)
trap 'rm -rf "$gopath"' EXIT
mkdir -p "$gopath/src/github.com/fnproject"
cp -a "$source_dir" "$gopath/src/github.com/fnproject/lb"
out=$(realpath -m "$out")
(cd "$gopath/src/github.com/fnproject/lb" &&
  GOPATH=$gopath GO111MODULE=off GOFLAGS= go build -tags libsqlite3 -o "$out" .)
echo "build-fnlb-go: built $out"
