#!/usr/bin/env bash
# Churn soak (make bench-churn): three agents and the operator on kube-apiserver while, for
# DURATION seconds (default 600), Services are created and deleted 20 at a time, node Leases
# (with their Nodes) come and go, and on every node a veth port the agents select is created and
# deleted — what a busy cluster does to l2a's per-object maps, per-port counters and metric
# series. Measured after WARMUP seconds (default 180, longer than the two minutes a gone port's
# counters are kept) and at the end: each process's RSS and number of metric series. Flat is
# good. Prints a Markdown table.
set -uo pipefail
cd "$(dirname "$0")/.."
L2A=${L2A:-build/l2a}
DURATION=${DURATION:-600}
WARMUP=${WARMUP:-180}
source tests/support/netns_lab.sh
lab_require_root
lab_init churn
lab_control_plane || { echo "control plane did not start" >&2; exit 1; }
lab_kubectl apply -f deploy/crds/ >/dev/null
NODES="n1 n2 n3"
declare -A PID
i=10
for n in $NODES; do
  i=$((i + 1))
  lab_host "$n" "198.18.0.$i/24" "2001:db8::$i/64"
  lab_node_object "$n" "198.18.0.$i" "2001:db8::$i"
done
AGENT_KUBECONFIG=$(lab_component_kubeconfig agent)
for n in $NODES; do
  lab_spawn "$n" "/tmp/$LAB_ID-agent-$n.log" "$L2A" agent --node-name "$n" --kubeconfig "$AGENT_KUBECONFIG" \
    --interface '^(eth0|vc[0-9]+)$' --log-level warn
  PID[$n]=$LAB_LAST_PID
done
lab_spawn lan "/tmp/$LAB_ID-operator.log" "$L2A" operator --kubeconfig "$(lab_component_kubeconfig operator)" \
  --metrics-bind 127.0.0.1:9612 --log-level warn
PID[operator]=$LAB_LAST_PID
lab_kubectl apply -f - >/dev/null <<'YAML'
apiVersion: l2announcer.io/v1alpha1
kind: LoadBalancerIPPool
metadata: {name: churn}
spec: {blocks: [{cidr: 198.18.2.0/24}]}
---
apiVersion: l2announcer.io/v1alpha1
kind: L2AnnouncementPolicy
metadata: {name: churn}
spec: {loadBalancerIPs: true, interfaces: ["^eth0$", "^vc[0-9]+$"]}
YAML

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
series() {  # series HOST PORT: metric samples exposed
  lab_exec "$1" curl -s "http://127.0.0.1:$2/metrics" | grep -vc '^#'
}
snapshot() {  # snapshot NAME: "component rss series" lines into /tmp/$LAB_ID-NAME
  {
    for n in $NODES; do echo "agent-$n $(rss_kib "${PID[$n]}") $(series "$n" 9611)"; done
    echo "operator $(rss_kib "${PID[operator]}") $(series lan 9612)"
  } >"/tmp/$LAB_ID-$1"
}

round=0
churn_round() {
  round=$((round + 1))
  local k docs=""
  for ((k = 0; k < 20; k++)); do
    docs+="apiVersion: v1
kind: Service
metadata: {name: c$round-$k, namespace: default, labels: {churn-round: r$round}}
spec: {type: LoadBalancer, ports: [{port: 80}]}
---
"
  done
  lab_kubectl apply -f - >/dev/null <<<"$docs"
  lab_kubectl delete svc -l "churn-round=r$((round - 1))" --wait=false >/dev/null 2>&1
  lab_kubectl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Node
metadata: {name: ghost$round}
---
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: l2a-node-ghost$round, namespace: l2announcer}
spec: {holderIdentity: ghost$round, leaseDurationSeconds: 2}
YAML
  lab_kubectl delete node "ghost$((round - 1))" --wait=false >/dev/null 2>&1
  lab_kubectl delete lease -n l2announcer "l2a-node-ghost$((round - 1))" --wait=false >/dev/null 2>&1
  for n in $NODES; do
    ip -n "$(lab_ns "$n")" link del "vc$((round - 1))" 2>/dev/null
    lab_add_port "$n" "vc$round"
  done
}

end_warmup=$(($(date +%s) + WARMUP))
while (($(date +%s) < end_warmup)); do churn_round; sleep 1; done
snapshot start
start_round=$round
end=$(($(date +%s) + DURATION))
while (($(date +%s) < end)); do churn_round; sleep 1; done
snapshot end
alive=yes
for p in "${PID[@]}"; do kill -0 "$p" 2>/dev/null || alive=no; done

echo "Churn soak: $((round - start_round)) rounds in ${DURATION} s after ${WARMUP} s of warm-up (each round: 20 Services created and the previous 20 deleted, a node Lease and Node created and the previous deleted, a veth port created and the previous deleted on each node); every process alive: $alive"
echo
echo "| process | RSS start (MiB) | RSS end (MiB) | metric series start | metric series end |"
echo "|---|---:|---:|---:|---:|"
join "/tmp/$LAB_ID-start" "/tmp/$LAB_ID-end" | while read -r name rss0 s0 rss1 s1; do
  awk -v n="$name" -v r0="$rss0" -v r1="$rss1" -v s0="$s0" -v s1="$s1" \
    'BEGIN {printf "| %s | %.1f | %.1f | %d | %d |\n", n, r0 / 1024, r1 / 1024, s0, s1}'
done
