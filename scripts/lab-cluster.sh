#!/usr/bin/env bash
# The one-machine lab cluster behind `l2a-lab up|down|status` (and `make demo`): network
# namespaces on one LAN bridge shaped like a kind cluster — a control-plane node and N workers
# (labelled as kind labels them) plus a client outside the cluster — the lab API server on the
# LAN (198.18.0.1:6443), the project's CRDs, `l2a operator` on the control plane, `l2a agent` on
# every node, and on each node a stand-in for kube-proxy: nftables DNAT of service traffic
# (198.18.0.128/25, 2001:db8::1:0/112 and 2001:db8::2:0/112, port 80) to a small HTTP backend answering with the
# node's name; the lab publishes the matching EndpointSlice. Addresses only from 198.18.0.0/15
# and 2001:db8::/32. State lives in /run/l2a-lab; `down` removes every namespace, link and
# process, also after a crash.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BUILD=${L2A_BUILD:-$ROOT/build}
L2A=$BUILD/l2a
LAB_BIN=$BUILD/l2a-lab
STATE=/run/l2a-lab
source "$ROOT/tests/support/netns_lab.sh"
LAB_ID=l2alab-0-0  # fixed: one lab cluster per machine; never taken for a stale test lab
LAB_LAN=$LAB_ID-lan

usage() {
  echo "usage: l2a-lab up [--workers N] [--lease-duration-ms MS] | down | status" >&2
  exit 64
}

save_pid() { echo "$2" >>"$STATE/pids"; echo "$2" >"$STATE/$1.pid"; }

lab_up() {
  local workers=2 lease=2000
  while (($#)); do
    case $1 in
      --workers) workers=$2; shift 2 ;;
      --lease-duration-ms) lease=$2; shift 2 ;;
      --dual-stack) shift ;;  # always dual-stack
      *) usage ;;
    esac
  done
  [[ $workers =~ ^[0-9]+$ && $workers -ge 1 && $workers -le 20 ]] || { echo "l2a-lab: error: --workers must be 1 to 20" >&2; exit 64; }
  [[ -x $L2A && -x $LAB_BIN ]] || { echo "l2a-lab: error: build first (make build)" >&2; exit 1; }
  lab_down >/dev/null 2>&1
  mkdir -p "$STATE"
  : >"$STATE/pids"
  ip netns add "$LAB_LAN"
  ip -n "$LAB_LAN" link set lo up
  ip -n "$LAB_LAN" link add br0 type bridge
  ip -n "$LAB_LAN" link set br0 type bridge mcast_snooping 0 forward_delay 0
  ip -n "$LAB_LAN" link set br0 up
  lab_plain_switch "$LAB_LAN"
  LAB_PIDS=()
  lab_apiserver "$LAB_BIN" --data-dir "$STATE/data" || { echo "l2a-lab: error: API server did not start" >&2; exit 1; }
  save_pid apiserver "$LAB_API_PID"
  cp "$LAB_KUBECONFIG" "$STATE/kubeconfig"
  LAB_KUBECONFIG=$STATE/kubeconfig
  lab_kubectl apply -f "$ROOT/deploy/crds/" -f "$ROOT/deploy/crds/cilium/" >/dev/null

  local nodes="control-plane" i
  for ((i = 1; i <= workers; i++)); do nodes+=" worker$i"; done
  echo "$nodes" >"$STATE/nodes"
  i=10
  local endpoints=""
  for n in $nodes; do
    i=$((i + 1))
    lab_host "$n" "198.18.0.$i/24" "2001:db8::$i/64"
    lab_service_backend "$n" "198.18.0.$i" "2001:db8::$i" "$STATE/www-$n"
    save_pid "http-$n" "$LAB_LAST_PID"
    local role="worker" extra=""
    if [[ $n == control-plane ]]; then
      role=control-plane
      extra=", node.kubernetes.io/exclude-from-external-load-balancers: \"\""
    fi
    lab_kubectl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Node
metadata:
  name: $n
  labels: {kubernetes.io/hostname: $n, kubernetes.io/os: linux, kubernetes.io/arch: amd64, node-role.kubernetes.io/$role: ""$extra}
status:
  addresses: [{type: InternalIP, address: 198.18.0.$i}, {type: InternalIP, address: "2001:db8::$i"}]
YAML
    [[ $n != control-plane ]] && endpoints+="{addresses: [198.18.0.$i], nodeName: $n, conditions: {ready: true}},"
    ip netns exec "$(lab_ns "$n")" "$L2A" agent --node-name "$n" --kubeconfig "$LAB_KUBECONFIG" --interface '^eth0$' \
      --lease-duration-ms "$lease" --renew-deadline-ms $((lease * 3 / 4)) --retry-period-ms $((lease / 6)) \
      >"$STATE/agent-$n.log" 2>&1 &
    save_pid "agent-$n" $!
  done
  ip netns exec "$(lab_ns control-plane)" "$L2A" operator --kubeconfig "$LAB_KUBECONFIG" >"$STATE/operator.log" 2>&1 &
  save_pid operator $!
  lab_kubectl apply -f - >/dev/null <<YAML
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: httpd-lab, namespace: default, labels: {kubernetes.io/service-name: httpd}}
addressType: IPv4
endpoints: [${endpoints%,}]
ports: [{name: http, port: 8080, protocol: TCP}]
YAML
  lab_host client 198.18.0.100/24 2001:db8::100/64
  echo "$LAB_ID" >"$STATE/id"
  echo "lab cluster up: API server $LAB_API, nodes: $nodes, client namespace $(lab_ns client)"
  echo "  kubectl:   ip netns exec $(lab_ns client) env KUBECONFIG=$STATE/kubeconfig kubectl get nodes"
}

lab_down() {
  if [[ -f $STATE/pids ]]; then
    # Only processes still ours (their command line names the state directory): PIDs are reused.
    ours() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF "$STATE"; }
    while read -r pid; do ours "$pid" && kill -TERM "$pid" 2>/dev/null; done <"$STATE/pids"
    sleep 0.3
    while read -r pid; do ours "$pid" && kill -KILL "$pid" 2>/dev/null; done <"$STATE/pids"
  fi
  local ns
  for ns in $(ip netns list | awk '{print $1}' | grep "^$LAB_ID-" || true); do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
    ip netns delete "$ns" 2>/dev/null
  done
  rm -rf "$STATE"
  echo "lab cluster down"
}

lab_status() {
  [[ -f $STATE/id ]] || { echo "no lab cluster (l2a-lab up)"; return 1; }
  local k="ip netns exec $LAB_LAN env KUBECONFIG=$STATE/kubeconfig KUBECACHEDIR=$STATE/kubecache kubectl"
  echo "== nodes"; $k get nodes
  echo "== agents"
  local n
  for n in $(cat "$STATE/nodes"); do
    if kill -0 "$(cat "$STATE/agent-$n.pid")" 2>/dev/null; then echo "$n: agent running"; else echo "$n: agent NOT running"; fi
  done
  echo "== leases"; $k get leases -n kube-system -o custom-columns=NAME:.metadata.name,HOLDER:.spec.holderIdentity,RENEWED:.spec.renewTime
  echo "== services"; $k get svc -A
  echo "== who announces what"
  grep -h "event=announcing\|event=released" "$STATE"/agent-*.log | tail -20
}

case ${1:-} in
  up) shift; lab_up "$@" ;;
  down) lab_down ;;
  status) lab_status ;;
  *) usage ;;
esac
