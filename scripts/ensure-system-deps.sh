#!/usr/bin/env bash
# Pre-test step: makes sure the system packages the tests use are installed (Debian's Chromium for
# Playwright, sipp for real SIP traffic, iproute2 and arping for the VIP and network-namespace tests,
# promtool from prometheus for the example alert rules' unit tests, systemd-analyze (systemd) for the
# units in deploy/, postgresql for the tests that run against a real PostgreSQL: harness/postgres-server.ts).
# As root it installs what is missing; otherwise it names exactly what to install and fails.
set -euo pipefail

# command -> Debian package
declare -A needed=(
  [/usr/bin/chromium]=chromium
  [sipp]=sip-tester
  [ip]=iproute2
  [arping]=arping
  [promtool]=prometheus
  [systemd-analyze]=systemd
)

missing=()
for cmd in "${!needed[@]}"; do
  if ! command -v "$cmd" >/dev/null 2>&1; then missing+=("${needed[$cmd]}"); fi
done
# Debian keeps initdb and pg_ctl off PATH, under /usr/lib/postgresql/<version>/bin.
if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || ! compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null; then
  missing+=(postgresql)
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "Missing system packages for the tests: ${missing[*]}" >&2
  echo "Install them with:  sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "Installing system packages for the tests: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq
apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >/dev/null
