#!/bin/sh
# Picks the process to run in the single nessus-mcp image.
set -eu
role="${1:-gateway}"
[ "$#" -gt 0 ] && shift
case "$role" in
  gateway) exec node /app/apps/gateway/dist/main.js "$@" ;;
  worker)  exec node /app/apps/worker/dist/main.js "$@" ;;
  sim)     exec node /app/packages/nessus-sim/dist/bin.js "$@" ;;
  stdio)   exec node /app/apps/gateway/dist/stdio.js "$@" ;;
  *) echo "usage: nessus-mcp gateway|worker|sim|stdio" >&2; exit 2 ;;
esac
