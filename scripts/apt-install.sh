#!/usr/bin/env bash
# apt-install.sh LABEL COMMAND PACKAGE: installs Debian's PACKAGE with apt when COMMAND is missing
# (scripts/install-dns.sh, scripts/install-browser.sh), printing lines that start with LABEL.
# Root, or sudo for apt. A second run only checks, and prints the version present.
set -euo pipefail
label=$1 command=$2 package=$3
if command -v "$command" >/dev/null 2>&1; then
  echo "$label: $("$command" --version 2>/dev/null | head -1) present"
  exit 0
fi
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
echo "$label: installing $package with apt"
as_root apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null
