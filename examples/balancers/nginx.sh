#!/bin/sh
# nginx as the balancer under test, for FNLB_CMD:
#   FNLB_CMD='examples/balancers/nginx.sh {listen} {nodes} {hc_interval} {upstream_timeout}' npm run test:guard
# Consistent hashing of the normalised path (nginx's $uri is decoded, with merged slashes; a trailing
# slash is dropped here), passive health (a node that fails a connection is skipped for hc_interval
# seconds), retries only of connections that failed. Open-source nginx has no active health checks
# and no management API; the guard skips what needs them and says why. Runs in the foreground until
# the guard stops its process group. Needs nginx (Debian: apt-get install nginx-light).
set -eu
listen=$1 nodes=$2 interval=${3:-1} upstream_timeout=${4:-190}
dir=$(mktemp -d "${TMPDIR:-/tmp}/fnguard-nginx-XXXXXX")
trap 'rm -rf "$dir"' EXIT
trap 'exit 0' INT TERM
servers=$(echo "$nodes" | tr ',' '\n' | sed "s/.*/    server &   max_fails=1 fail_timeout=${interval}s;/")
cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
daemon off;
master_process off;
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
    hash \$route consistent;
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
