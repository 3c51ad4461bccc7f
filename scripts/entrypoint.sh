#!/bin/sh
# The container's entrypoint (Dockerfile), also run directly by tests/deploy with the compose file's
# environment. Settings come from SAFESPHERE_* variables (core/config.py); this script only picks the
# listening address and hands the process over to the server, so signals reach it.
#   entrypoint.sh [serve]      migrate (once, under a lock) and serve
#   entrypoint.sh healthcheck  exit 0 when this instance's /health answers "healthy"
#   entrypoint.sh ARGS...      any other safesphere command (db backup, users create, keys create ...)
set -eu
host="${SAFESPHERE_LISTEN_HOST:-0.0.0.0}"
port="${SAFESPHERE_LISTEN_PORT:-8000}"
workers="${SAFESPHERE_LISTEN_WORKERS:-1}"
safesphere="${SAFESPHERE_BIN:-safesphere}"

case "${1:-serve}" in
  serve)
    exec "$safesphere" serve --host "$host" --port "$port" --workers "$workers"
    ;;
  healthcheck)
    exec python3 -c "import json, sys, urllib.request
try:
    body = json.load(urllib.request.urlopen('http://127.0.0.1:$port/health', timeout=3))
except Exception as exc:
    sys.exit(f'unhealthy: {exc}')
sys.exit(0 if body.get('status') == 'healthy' else f'unhealthy: {body}')"
    ;;
  *)
    exec "$safesphere" "$@"
    ;;
esac
