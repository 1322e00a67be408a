#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests when it is missing (no browser download of
# a test tool's own: playwright-core drives this one). Idempotent; `npm run setup:browser` and
# `npm test` call it. Set CHROMIUM_PATH to use a Chromium elsewhere.
set -euo pipefail
browser="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$browser" ]; then exit 0; fi
if [ -n "${CHROMIUM_PATH:-}" ]; then
  echo "CHROMIUM_PATH=$CHROMIUM_PATH is not an executable" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "chromium is missing and this user cannot install it: apt-get install chromium as root" >&2; exit 1; }
  sudo="sudo"
fi
echo "Installing Debian's chromium for the browser tests..."
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
[ -x "$browser" ] || { echo "chromium did not install at $browser" >&2; exit 1; }
