#!/usr/bin/env bash
# Agents at rest (part of make bench): N agents (network namespaces on one LAN) with the lab API
# server and one L2 policy, nothing changing. Per build, over 20 s: the agents' CPU (mean, % of a
# core), the first agent's CPU by thread, and its packet thread's context switches per second.
# Two builds in the same run, one after the other (this machine is noisy): BEFORE (a binary
# copied aside, optional) and build/l2a.
# Usage: bench/at_rest.sh "3 20"    (L2A_BEFORE=/tmp/l2a-before: also that build; HEARTBEAT_MS=40)
set -uo pipefail
cd "$(dirname "$0")/.."
NODES_LIST=${1:-"3 20"}
HEARTBEAT_MS=${HEARTBEAT_MS:-40}
L2A=${L2A:-build/l2a}
L2A_BEFORE=${L2A_BEFORE:-}
L2A_LAB=${L2A_LAB:-build/l2a-lab}
source tests/support/netns_lab.sh
lab_require_root
echo "| build | agents | heartbeat ms | agent CPU (% of a core, mean) | first agent's CPU by thread (%) | its packet thread's context switches/s | RSS (MiB) |"
echo "|---|---:|---:|---:|---|---:|---:|"
ticks() { awk '{print $14 + $15}' "$1"; }
run() {  # run LABEL BINARY NODES
  local label=$1 binary=$2 nodes=$3 i pids=()
  lab_init rest
  lab_apiserver "$L2A_LAB" >/dev/null
  lab_deploy_rbac
  lab_kubectl apply -f deploy/crds/ >/dev/null
  lab_bench_nodes "$nodes"
  for ((i = 1; i <= nodes; i++)); do
    lab_spawn "n$i" "/tmp/$LAB_ID-agent-n$i.log" "$binary" agent --node-name "n$i" --kubeconfig "$LAB_KUBECONFIG" \
      --interface '^eth0$' --lease-duration-ms 4000 --renew-deadline-ms 3000 --retry-period-ms 1000 \
      --metrics-bind 127.0.0.1:9611 --heartbeat-interval-ms "$HEARTBEAT_MS"
    pids+=("$LAB_LAST_PID")
  done
  # Every agent heard by the first (its Lease and the others' taken, the first plans made).
  heard_all() {
    lab_exec n1 curl -s --max-time 2 http://127.0.0.1:9611/metrics |
      awk -v want=$((nodes - 1)) '$1 ~ /^l2a_peer_heard/ && $2 == 1 {n++} END {exit !(n >= want)}'
  }
  [[ $HEARTBEAT_MS -gt 0 ]] && lab_wait_for 60 heard_all
  sleep 10
  local p=${pids[0]} t all0=0 all1=0 q packet
  packet=$(grep -l '^responder$' /proc/"$p"/task/*/comm | head -1 | xargs dirname)
  declare -A t0
  for t in /proc/"$p"/task/*; do t0[$t]=$(ticks "$t/stat"); done
  for q in "${pids[@]}"; do all0=$((all0 + $(ticks /proc/"$q"/stat))); done
  local s0 s1
  s0=$(awk '/^(non)?voluntary_ctxt_switches/ {s += $2} END {print s}' "$packet/status")
  sleep 20
  s1=$(awk '/^(non)?voluntary_ctxt_switches/ {s += $2} END {print s}' "$packet/status")
  for q in "${pids[@]}"; do all1=$((all1 + $(ticks /proc/"$q"/stat))); done
  # By thread name (several informers share one), in % of a core (100 ticks = 1 s; 20 s).
  local by_thread
  by_thread=$(for t in /proc/"$p"/task/*; do echo "$(cat "$t/comm")|$(( $(ticks "$t/stat") - ${t0[$t]:-0} ))"; done |
    awk -F'|' '{c[$1] += $2} END {for (n in c) if (c[n] > 0) printf "%s %.2f, ", n, c[n] / 20}' | sed 's/, $//')
  echo "| $label | $nodes | $HEARTBEAT_MS | $(python3 -c "print(round(($all1 - $all0) / 20 / $nodes, 2))") | $by_thread | $(( (s1 - s0) / 20 )) | $(awk '/VmRSS/ {print int($2 / 1024)}' /proc/"$p"/status) |"
  lab_cleanup
  trap - EXIT
}
for n in $NODES_LIST; do
  [[ -n $L2A_BEFORE ]] && run before "$L2A_BEFORE" "$n"
  run this "$L2A" "$n"
done
