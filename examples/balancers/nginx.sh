#!/bin/sh
# nginx as a peer of fnlb: the one definition of the nginx setup this project judges and measures.
# The guard runs it as the balancer under test, for FNLB_CMD:
#   FNLB_CMD='examples/balancers/nginx.sh {listen} {nodes} {hc_interval} {upstream_timeout}' npm run test:guard
# and the benches (bench/lb-proxies.ts) run this same script, with the guard's four arguments and two
# optional ones after them:
#   workers  worker processes: 1 by default, as the guard runs it; the benches give one per core
#   balance  hash (default): consistent hashing of the path, as below, the setup the guard judges;
#            round-robin: nginx's default balancing with everything else alike, what a balancer that
#            knows nothing of routes does (a row of the workload bench)
# Consistent hashing of the normalised path (nginx's $uri is decoded, with merged slashes; a trailing
# slash is dropped here), passive health (a node that fails a connection is skipped for hc_interval
# seconds, shared by the workers), retries only of connections that failed. Open-source nginx has no
# active health checks and no management API; the guard skips what needs them and says why. Runs in
# the foreground until its process group is stopped, and removes its scratch directory (under
# TMPDIR) on TERM. Needs nginx (Debian: apt-get install nginx-light, or install.sh beside this).
set -eu
listen=$1 nodes=$2 interval=${3:-1} upstream_timeout=${4:-190} workers=${5:-1} balance=${6:-hash}
case $workers in
'' | *[!0-9]* | 0*)
  echo "nginx.sh: workers must be a whole number from 1, not '$workers'" >&2
  exit 2
  ;;
esac
case $balance in
hash) balance='hash $route consistent;' ;;
round-robin) balance='# round robin: nginx default' ;;
*)
  echo "nginx.sh: balance must be hash or round-robin, not '$balance'" >&2
  exit 2
  ;;
esac
# One worker is this foreground process itself; more run under nginx's master. As root the master
# would switch its workers to nobody, who cannot enter the scratch directory: they stay root.
master=on user=
[ "$workers" -gt 1 ] || master=off
[ "$(id -u)" -ne 0 ] || user='user root;'
# Debian installs nginx in /usr/sbin, outside a user's PATH.
PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin
dir=$(mktemp -d "${TMPDIR:-/tmp}/fnguard-nginx-XXXXXX")
trap 'rm -rf "$dir"' EXIT
trap 'exit 0' INT TERM
servers=$(echo "$nodes" | tr ',' '\n' | sed "s/.*/    server &   max_fails=1 fail_timeout=${interval}s;/")
cat >"$dir/nginx.conf" <<CONF
$user
worker_processes $workers;
daemon off;
master_process $master;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  map \$uri \$route { ~^(?<trimmed>.+?)/+\$ \$trimmed; default \$uri; }
  upstream fn {
    zone fn 1m;
    $balance
$servers
    keepalive 64;
  }
  server {
    listen $listen;
    location / {
      proxy_pass http://fn;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_next_upstream error;
      proxy_read_timeout ${upstream_timeout}s;
    }
  }
}
CONF
nginx -p "$dir" -c "$dir/nginx.conf"
