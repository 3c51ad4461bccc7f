#!/usr/bin/env bash
# Installs the system packages the test suite needs (a real PostgreSQL server, and Chromium with its
# driver for the dashboard's browser tests, nginx for the reverse-proxy deployment tests) when they are
# missing.
# As root with apt-get (CI, fresh Debian machines) it installs them; otherwise it says what to install.
set -euo pipefail

need=()
if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null && ! command -v initdb >/dev/null; then
  need+=(postgresql)
fi
if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
  need+=(postgresql)
fi
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  need+=(chromium chromium-driver)
fi
if [ ! -x /usr/sbin/nginx ]; then
  need+=(nginx-light)
fi
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing system packages for the tests: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  exit 0
fi
echo "The test suite needs these system packages: ${need[*]}." >&2
echo "Install them (e.g. 'sudo apt-get install ${need[*]}') and run 'make test' again." >&2
exit 1
