#!/usr/bin/env bash
# Kubernetes client / lab API server benchmark (part of make bench): the lab server pinned to
# core 0, the client on core 1. Prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=$(mktemp -d /tmp/l2a-bench-kube-XXXX)
trap 'kill -9 $SERVER 2>/dev/null; rm -rf "$DIR"' EXIT
taskset -c 0 build/l2a-lab apiserver --listen 127.0.0.1:0 --history 20000 >"$DIR/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 100); do grep -q "serving http" "$DIR/server.log" && break; sleep 0.05; done
URL=$(grep -o 'http://[^ ]*' "$DIR/server.log")
taskset -c 1 ${KUBE_BENCH:-build/bench/l2a-bench-kube} "$URL" "$@"
echo "| lab server RSS after the run | $(awk '/VmRSS/ {printf "%.0f MiB", $2/1024}' /proc/$SERVER/status) |"
