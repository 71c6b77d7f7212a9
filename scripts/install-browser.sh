#!/usr/bin/env bash
# Installs Debian's chromium when it is missing: the headless browser tests/browser/guard-html.test.ts
# opens the guard's HTML report in (through puppeteer-core, which downloads no browser of its own).
# Root, or sudo for apt. A second run only checks.
set -euo pipefail
exec bash "$(dirname "$0")/apt-install.sh" browser chromium chromium
