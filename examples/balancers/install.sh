#!/usr/bin/env bash
# Installs the peer balancers the wrappers beside this script run (nginx-light and HAProxy, Debian's
# packages) when they are missing: for the guard's tests on other balancers and the bench's columns.
# Root, or sudo for apt. A second run only checks.
set -euo pipefail
missing=()
command -v nginx >/dev/null 2>&1 || missing+=(nginx-light)
command -v haproxy >/dev/null 2>&1 || missing+=(haproxy)
if [ ${#missing[@]} -eq 0 ]; then
  echo "balancers: nginx $(nginx -v 2>&1 | sed 's/.*\///') and HAProxy $(haproxy -v | sed -n '1s/^HAProxy version \([^ ]*\).*/\1/p') present"
  exit 0
fi
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
echo "balancers: installing ${missing[*]} with apt"
as_root apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
