#!/usr/bin/env bash
# Installs dnsmasq's binary (Debian's dnsmasq-base: no service, nothing listens until a test starts it)
# when it is missing: the real resolver fnlb's -nodes-dns is tested against (tests/integration/support/dns-server.ts).
# Root, or sudo for apt. A second run only checks.
set -euo pipefail
if command -v dnsmasq >/dev/null 2>&1; then
  echo "dns: $(dnsmasq --version | head -1) present"
  exit 0
fi
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
echo "dns: installing dnsmasq-base with apt"
as_root apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dnsmasq-base >/dev/null
