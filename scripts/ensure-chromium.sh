#!/usr/bin/env bash
# Installs Debian's Chromium when /usr/bin/chromium is missing (the browser tests use it; no downloads).
set -euo pipefail
if [ -x /usr/bin/chromium ] || [ -n "${SKIP_CHROMIUM_INSTALL:-}" ]; then exit 0; fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "Chromium is missing at /usr/bin/chromium: install it with 'apt-get install -y chromium'." >&2
  exit 1
fi
echo "Installing Debian's Chromium (apt-get install -y chromium)..." >&2
apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
