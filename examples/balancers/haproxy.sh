#!/bin/sh
# HAProxy as a peer of fnlb: the one definition of the HAProxy setup this project judges and measures.
# The guard runs it as the balancer under test, for FNLB_CMD:
#   FNLB_CMD='examples/balancers/haproxy.sh {listen} {nodes} {hc_interval} {upstream_timeout}' npm run test:guard
# and the benches (bench/lb-proxies.ts) run this same script, with the guard's four arguments and one
# optional one after them:
#   threads  HAProxy threads: by default HAProxy's own, a thread per core (so also as the guard runs
#            it); the benches give one per core explicitly
# Consistent hashing of the normalised path only (merged slashes, decoded unreserved characters, no
# trailing slash) with bounded loads (hash-balance-factor 125), active health checks on /version every
# hc_interval seconds, retries only of connections that failed. No management API: the guard skips
# what needs one and says why. Runs in the foreground until its process group is stopped, and removes
# its scratch directory (under TMPDIR) on TERM. Needs HAProxy 2.4 or later (Debian: apt-get install
# haproxy, or install.sh beside this).
set -eu
listen=$1 nodes=$2 interval=${3:-1} upstream_timeout=${4:-190} threads=${5:-}
case $threads in
'') nbthread='# nbthread: HAProxy default, a thread per core' ;;
*[!0-9]* | 0*)
  echo "haproxy.sh: threads must be a whole number from 1, not '$threads'" >&2
  exit 2
  ;;
*) nbthread="nbthread $threads" ;;
esac
# Debian installs haproxy in /usr/sbin, outside a user's PATH.
PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin
dir=$(mktemp -d "${TMPDIR:-/tmp}/fnguard-haproxy-XXXXXX")
trap 'rm -rf "$dir"' EXIT
trap 'exit 0' INT TERM
servers=$(echo "$nodes" | tr ',' '\n' | awk -v i="$interval" '{ printf "  server n%d %s check inter %ds fall 2 rise 1\n", NR, $0, i }')
cat >"$dir/haproxy.cfg" <<CONF
global
  maxconn 2000
  $nbthread
  # normalize-uri is experimental in HAProxy 2.4-2.6 (Debian 12 ships 2.6).
  expose-experimental-directives
defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server ${upstream_timeout}s
  option http-keep-alive
frontend fe
  bind $listen
  http-request normalize-uri path-merge-slashes
  http-request normalize-uri percent-decode-unreserved
  http-request normalize-uri percent-to-uppercase
  http-request replace-path (.+?)/+\$ \1
  default_backend fns
backend fns
  balance uri path-only
  hash-type consistent
  hash-balance-factor 125
  option httpchk GET /version
  retries 2
  retry-on conn-failure
  option redispatch
$servers
CONF
haproxy -db -f "$dir/haproxy.cfg"
