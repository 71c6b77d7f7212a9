#!/usr/bin/env bash
# Installs dnsmasq's binary (Debian's dnsmasq-base: no service, nothing listens until a test starts it)
# when it is missing: the real resolver fnlb's -nodes-dns is tested against (tests/integration/support/dns-server.ts).
# Root, or sudo for apt. A second run only checks.
set -euo pipefail
exec bash "$(dirname "$0")/apt-install.sh" dns dnsmasq dnsmasq-base
