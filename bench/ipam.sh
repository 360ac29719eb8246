#!/usr/bin/env bash
# LB-IPAM benchmark (part of make bench): N dual-stack Services (default 10,000) allocated from
# an IPv4 and an IPv6 pool by `l2a operator` (core 0) against the lab API server (core 1); then
# the operator is restarted and must re-import everything with 0 reassignments.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-10000}
DIR=$(mktemp -d /tmp/l2a-bench-ipam-XXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -9 $p 2>/dev/null; done; wait 2>/dev/null; rm -rf "$DIR"' EXIT
taskset -c 1 build/l2a-lab apiserver --listen 127.0.0.1:0 --history 50000 >"$DIR/server.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do grep -q "serving http" "$DIR/server.log" && break; sleep 0.05; done
URL=$(grep -o 'http://[^ ]*' "$DIR/server.log")
cat >"$DIR/kubeconfig" <<YAML
apiVersion: v1
kind: Config
current-context: lab
clusters: [{name: lab, cluster: {server: "$URL"}}]
contexts: [{name: lab, context: {cluster: lab}}]
YAML
KUBECONFIG=$DIR/kubeconfig kubectl apply -f deploy/crds/ >/dev/null
build/bench/l2a-bench-ipam populate "$URL" "$N"
requests() { curl -s "$URL/admin/counters" | python3 -c 'import json,sys; print(sum(c["count"] for c in json.load(sys.stdin)))'; }
cpu() { awk '{printf "%.2f", ($14+$15)/100}' /proc/$1/stat; }
rss() { awk '/VmRSS/ {printf "%.0f", $2/1024}' /proc/$1/status; }
run_operator() {
  taskset -c 0 build/l2a operator --kubeconfig "$DIR/kubeconfig" --log-level warn --lease-duration-ms 3000 \
    --renew-deadline-ms 2000 --retry-period-ms 500 --kube-api-qps 0 --metrics-bind 127.0.0.1:0 >>"$DIR/operator.log" 2>&1 &
  OP=$!
  PIDS+=($OP)
}
before=$(requests)
run_operator
wait_out=$(build/bench/l2a-bench-ipam wait "$URL" "$N")
secs=${wait_out#seconds=}; secs=${secs%% *}
lists=${wait_out##*lists=}
sleep 1
after=$(requests)
cpu1=$(cpu $OP); rss1=$(rss $OP)
build/bench/l2a-bench-ipam snapshot "$URL" >"$DIR/before.txt"
kill -9 $OP; wait $OP 2>/dev/null || true
before2=$(requests)
start=$(date +%s%N)
run_operator
# A canary created after the restart is answered only once the import pass is done.
curl -s -X POST -H 'Content-Type: application/json' "$URL/api/v1/namespaces/default/services" \
  -d '{"metadata":{"name":"canary"},"spec":{"type":"LoadBalancer","ports":[{"port":80}]}}' >/dev/null
until [[ -n "$(curl -s "$URL/api/v1/namespaces/default/services/canary" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("status",{}).get("loadBalancer",{}).get("ingress",""))')" ]]; do sleep 0.1; done
restart_secs=$(( ($(date +%s%N) - start) / 1000000 ))
sleep 1
after2=$(requests)
cpu2=$(cpu $OP); rss2=$(rss $OP)
build/bench/l2a-bench-ipam snapshot "$URL" | grep -v '^default/canary ' >"$DIR/after.txt"
changed=$(diff "$DIR/before.txt" "$DIR/after.txt" | grep -c '^>' || true)
echo "| $N dual-stack Services | first allocation | restart + re-import |"
echo "|---|---:|---:|"
echo "| wall time until all satisfied | ${secs} s | ${restart_secs} ms (canary answered) |"
echo "| operator CPU time | ${cpu1} s | ${cpu2} s |"
echo "| operator memory (RSS) | ${rss1} MiB | ${rss2} MiB |"
echo "| API requests (all clients, minus the benchmark's $lists list pages) | $((after - before - lists)) | $((after2 - before2 - 2)) |"
echo "| addresses reassigned | – | $changed |"
