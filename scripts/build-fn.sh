#!/usr/bin/env bash
# Builds the real Fn server (github.com/fnproject/fn, cmd/fnserver) from a source tree the user
# provides and packs it into a local Docker image, without any registry, so the guard can be pointed at
# a real Fn build:
#
#   scripts/build-fn.sh --source /tmp/fn-0.3.753 --image fnguard-local/fnserver:0.3.753
#
# This script owns only the build and the image: it compiles the tree it is given (it never fetches,
# copies or commits Fn's code), writes nothing in this repository, and leaves no container behind.
# Tested with Fn v0.3.753 (Go modules, vendored) and 0.3.550 (GOPATH era, vendored, no go.mod): the
# mode is chosen by whether the tree has go.mod.
#
# Needs: go (cgo, so a C compiler too) and the SQLite headers: the server is built with
# `-tags libsqlite3`, linking the system libsqlite3 instead of the amalgamation Fn vendors (which a
# partial mirror may lack). On Debian: apt-get install golang-go gcc libsqlite3-dev; as root the script
# installs what is missing that way itself, and says so. And a Docker engine that answers.
#
# The image is made as docker/offline/bootstrap.sh makes its bases (docker/offline/image-tree.sh):
# `docker import` of a tree holding the binary at /usr/local/bin/fnserver, exactly the libraries `ldd`
# lists for it on this build host (so the C library is the very glibc it was linked against), libnss
# for names, and the host's CA bundle when there is one. WORKDIR is /app, so Fn's default database is sqlite3:///app/data/fn.db.
# The image runs no Docker engine of its own: Fn runs functions as sibling containers, so mount the
# engine's socket (-v /var/run/docker.sock:/var/run/docker.sock), and for http-stream functions (v0.3.7xx)
# share an iofs directory: FN_IOFS_PATH=<dir in the container>, FN_IOFS_DOCKER_PATH=<the same dir as
# the engine sees it>, bind-mounted.
set -euo pipefail
# shellcheck source=docker/offline/image-tree.sh
. "$(dirname "$0")/../docker/offline/image-tree.sh"

usage() {
  cat <<'EOF'
usage: scripts/build-fn.sh --source DIR --image NAME[:TAG] [--work DIR]
  --source DIR   an Fn source tree (a checkout or export of a tag; must contain cmd/fnserver)
  --image NAME   the image to produce, e.g. fnguard-local/fnserver:0.3.753
  --work DIR     where to build (default: a temporary directory under /tmp, removed afterwards)
EOF
}

say() { echo "build-fn: $*"; }
die() {
  echo "build-fn: error: $*" >&2
  exit 1
}

source_dir='' image='' work=''
while [ $# -gt 0 ]; do
  case "$1" in
    --source) source_dir=${2:-}; shift 2 || die "--source needs a directory" ;;
    --image) image=${2:-}; shift 2 || die "--image needs a name" ;;
    --work) work=${2:-}; shift 2 || die "--work needs a directory" ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done
[ -n "$source_dir" ] || { usage >&2; die "--source is required"; }
[ -n "$image" ] || { usage >&2; die "--image is required"; }
[ -d "$source_dir" ] || die "--source $source_dir is not a directory"
source_dir=$(cd "$source_dir" && pwd)
[ -f "$source_dir/cmd/fnserver/main.go" ] ||
  die "--source $source_dir is not an Fn source tree: cmd/fnserver/main.go is missing"
[ -d "$source_dir/vendor" ] ||
  die "--source $source_dir has no vendor/ directory: this script builds offline from vendored code only"

# --- tools ---------------------------------------------------------------------------------------
missing=()
command -v go >/dev/null 2>&1 || missing+=(golang-go)
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
[ -f /usr/include/sqlite3.h ] || missing+=(libsqlite3-dev)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing ${missing[*]} with apt-get (needed to build fnserver)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    die "missing ${missing[*]}: install them (Debian: apt-get install ${missing[*]}) or run as root to let this script do it"
  fi
fi
timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1 ||
  die "no Docker engine answers (try: bash docker/offline/bootstrap.sh)"

# --- build ---------------------------------------------------------------------------------------
own_work=no
if [ -z "$work" ]; then
  work=$(mktemp -d /tmp/fn-build.XXXXXX)
  own_work=yes
fi
mkdir -p "$work"
work=$(cd "$work" && pwd)
cleanup() { if [ "$own_work" = yes ]; then rm -rf "$work"; fi; }
trap cleanup EXIT

version=$(sed -n 's/^var Version = "\(.*\)"/\1/p' "$source_dir/api/version/version.go" 2>/dev/null || true)
say "building fnserver ${version:-(unknown version)} from $source_dir with $(go version | awk '{print $3}')"

# Offline and reproducible: vendored code only, no module proxy, the C library linked dynamically.
export CGO_ENABLED=1 GOFLAGS='' GOPROXY=off GOTOOLCHAIN=local
started=$SECONDS
if [ -f "$source_dir/go.mod" ]; then
  (cd "$source_dir" && go build -mod=vendor -tags libsqlite3 -o "$work/fnserver" ./cmd/fnserver) ||
    die "go build failed in $source_dir (module mode, -mod=vendor)"
else
  # Before go.mod, Fn builds in GOPATH mode at its import path: a throwaway GOPATH links to the tree.
  gopath="$work/gopath"
  mkdir -p "$gopath/src/github.com/fnproject"
  ln -sfn "$source_dir" "$gopath/src/github.com/fnproject/fn"
  (cd "$gopath/src/github.com/fnproject/fn" &&
    GOPATH=$gopath GO111MODULE=off go build -tags libsqlite3 -o "$work/fnserver" ./cmd/fnserver) ||
    die "go build failed in $source_dir (GOPATH mode, GO111MODULE=off)"
fi
say "built fnserver in $((SECONDS - started))s ($(du -h "$work/fnserver" | cut -f1))"

# --- image tree ----------------------------------------------------------------------------------
root=$(new_tree "$work") || die "cannot make an image tree under $work"
mkdir -p "$root/usr/local/bin" "$root/app/data"
cp "$work/fnserver" "$root/usr/local/bin/fnserver"
# The libraries the binary loads (libsqlite3, libc, libm, ...) and the dynamic loader, from this host.
linked=$(ldd "$work/fnserver") || die "ldd cannot read $work/fnserver"
if grep -q 'not found' <<<"$linked"; then
  die "fnserver needs a library this host lacks: $(grep 'not found' <<<"$linked")"
fi
# shellcheck disable=SC2046
copy_into "$root" $(libraries_of "$work/fnserver")
add_system_files "$root" ''
# CA certificates, for a registry or an https database when the image is used with one.
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  mkdir -p "$root/etc/ssl/certs"
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
else
  say "note: /etc/ssl/certs/ca-certificates.crt is absent here (apt-get install ca-certificates); the image has no CA bundle"
fi

# --- image ---------------------------------------------------------------------------------------
tar --numeric-owner -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
  --change 'WORKDIR /app' \
  --change 'EXPOSE 8080' \
  --change "LABEL fnlb-guard=1 fnlb-guard.fn-version=${version:-unknown}" \
  --change 'ENTRYPOINT ["/usr/local/bin/fnserver"]' - "$image" >/dev/null ||
  die "docker import of $image failed"

# The loader resolving every library inside the image proves the C library there is the one needed.
if ! check=$(docker run --rm --label fnlb-guard=1 --entrypoint /lib64/ld-linux-x86-64.so.2 "$image" \
  --list /usr/local/bin/fnserver 2>&1) || grep -q 'not found' <<<"$check"; then
  die "the image $image cannot load fnserver's libraries: $check"
fi
say "image $image ready ($(docker image inspect --format '{{.Size}}' "$image" | awk '{printf "%.1f MB", $1 / 1e6}'))"
say "run it with the engine's socket: docker run -d -p 8080:8080 -v /var/run/docker.sock:/var/run/docker.sock $image"
