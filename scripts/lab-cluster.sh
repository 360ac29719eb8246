#!/usr/bin/env bash
# The one-machine lab cluster behind `l2a-lab up|down|status` (and `make demo`): network
# namespaces on one LAN bridge shaped like a kind cluster — a control-plane node and N workers
# (labelled as kind labels them) plus a client outside the cluster — a control plane on the LAN
# (198.18.0.1:6443): `--control-plane lab` (the default) the lab API server, `--control-plane
# kube` etcd, kube-apiserver and kube-controller-manager (tests/support/kube_control_plane.sh);
# the project's CRDs and deploy/'s RBAC, `l2a operator` on the control plane and `l2a agent` on
# every node with their ServiceAccounts' tokens, and on each node a stand-in for kube-proxy:
# nftables DNAT of service traffic (198.18.0.128/25, 2001:db8::1:0/112 and 2001:db8::2:0/112,
# port 80) to a small HTTP backend answering with the node's name. On kube each worker's backend
# is a Pod (status set by the lab, as kwok does) and the real EndpointSlice controller lists it;
# on the lab server the lab publishes the EndpointSlice. Addresses only from 198.18.0.0/15 and
# 2001:db8::/32. State lives in /run/l2a-lab; `down` removes every namespace, link and process,
# also after a crash. With `--agents-from-image` (kube only) every node's agent is a podman
# container of the image `make image` builds, run as the DaemonSet runs it: the chart's
# arguments (with the lab's lease), its securityContext (every capability dropped but NET_RAW, a
# read-only root filesystem), NODE_NAME and the ServiceAccount token where a pod has it.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BUILD=${L2A_BUILD:-$ROOT/build}
L2A=$BUILD/l2a
LAB_BIN=$BUILD/l2a-lab
STATE=/run/l2a-lab
source "$ROOT/tests/support/netns_lab.sh"
source "$ROOT/tests/support/agent_pod.sh"
LAB_CONTROL_PLANE=lab  # l2a-lab up's default; --control-plane kube for the real one
LAB_ID=l2alab-0-0  # fixed: one lab cluster per machine; never taken for a stale test lab
LAB_LAN=$LAB_ID-lan

usage() {
  echo "usage: l2a-lab up [--control-plane lab|kube] [--workers N] [--lease-duration-ms MS] [--agents-from-image] | down | status" >&2
  exit 64
}

save_pid() { echo "$2" >>"$STATE/pids"; echo "$2" >"$STATE/$1.pid"; }

lab_up() {
  local workers=2 lease=2000 from_image=0
  while (($#)); do
    case $1 in
      --agents-from-image) from_image=1; shift ;;
      --workers) workers=$2; shift 2 ;;
      --lease-duration-ms) lease=$2; shift 2 ;;
      --control-plane) LAB_CONTROL_PLANE=$2; shift 2 ;;
      --dual-stack) shift ;;  # always dual-stack
      *) usage ;;
    esac
  done
  [[ $workers =~ ^[0-9]+$ && $workers -ge 1 && $workers -le 20 ]] || { echo "l2a-lab: error: --workers must be 1 to 20" >&2; exit 64; }
  [[ $LAB_CONTROL_PLANE == lab || $LAB_CONTROL_PLANE == kube ]] || { echo "l2a-lab: error: --control-plane must be lab or kube" >&2; exit 64; }
  [[ -x $L2A && -x $LAB_BIN ]] || { echo "l2a-lab: error: build first (make build)" >&2; exit 1; }
  if ((from_image)); then
    [[ $LAB_CONTROL_PLANE == kube ]] || { echo "l2a-lab: error: --agents-from-image needs --control-plane kube (pods' in-cluster credentials are TLS)" >&2; exit 64; }
    bash "$ROOT/scripts/image.sh" --from binary "$BUILD" >/dev/null || { echo "l2a-lab: error: make image failed" >&2; exit 1; }
  fi
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
  L2A_LAB=$LAB_BIN lab_control_plane "$STATE/control-plane" || { echo "l2a-lab: error: the $LAB_CONTROL_PLANE control plane did not start" >&2; exit 1; }
  local p
  for p in "${LAB_PIDS[@]}"; do echo "$p" >>"$STATE/pids"; done
  save_pid apiserver "${KCP_APISERVER_PID:-$LAB_API_PID}"
  echo "$LAB_CONTROL_PLANE" >"$STATE/control-plane-kind"
  cp "$LAB_KUBECONFIG" "$STATE/kubeconfig"
  LAB_KUBECONFIG=$STATE/kubeconfig
  lab_kubectl apply -f "$ROOT/deploy/crds/" -f "$ROOT/deploy/crds/cilium/" >/dev/null
  local agent_kubeconfig operator_kubeconfig
  agent_kubeconfig=$(lab_component_kubeconfig agent) && operator_kubeconfig=$(lab_component_kubeconfig operator) ||
    { echo "l2a-lab: error: no credentials for the agents and the operator" >&2; exit 1; }

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
    local role=worker
    [[ $n == control-plane ]] && role=control-plane
    lab_node_object "$n" "198.18.0.$i" "2001:db8::$i" "$role"
    if [[ $n != control-plane ]]; then
      # The backend of the httpd Service: a Pod the real EndpointSlice controller lists, or on
      # the lab server (no controllers) the EndpointSlice itself.
      if [[ $LAB_CONTROL_PLANE == kube ]]; then
        lab_backend_pod "$n" "198.18.0.$i" "2001:db8::$i" app=httpd
      else
        endpoints+="{addresses: [198.18.0.$i], nodeName: $n, conditions: {ready: true}},"
      fi
    fi
    if ((from_image)); then
      agent_container "$n" "$lease" || { echo "l2a-lab: error: the agent container on $n did not start; see $STATE/agent-$n.log" >&2; exit 1; }
    else
      ip netns exec "$(lab_ns "$n")" "$L2A" agent --node-name "$n" --kubeconfig "$agent_kubeconfig" \
        --namespace "$L2A_NS" --interface '^eth0$' \
        --lease-duration-ms "$lease" --renew-deadline-ms $((lease * 3 / 4)) --retry-period-ms $((lease / 6)) \
        >"$STATE/agent-$n.log" 2>&1 &
      save_pid "agent-$n" $!
    fi
  done
  ip netns exec "$(lab_ns control-plane)" "$L2A" operator --kubeconfig "$operator_kubeconfig" \
    --namespace "$L2A_NS" >"$STATE/operator.log" 2>&1 &
  save_pid operator $!
  if [[ $LAB_CONTROL_PLANE == lab ]]; then
    lab_kubectl apply -f - >/dev/null <<YAML
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: httpd-lab, namespace: default, labels: {kubernetes.io/service-name: httpd}}
addressType: IPv4
endpoints: [${endpoints%,}]
ports: [{name: http, port: 8080, protocol: TCP}]
YAML
  fi
  lab_host client 198.18.0.100/24 2001:db8::100/64
  # Up means every agent ready (informers listed, records read, responder running): an agent
  # still waiting on a just-started API server would otherwise be missing from the first fail-over.
  local end=$((SECONDS + 60))
  for n in $nodes; do
    until ip netns exec "$(lab_ns "$n")" curl -sf -o /dev/null --max-time 1 http://127.0.0.1:9611/readyz; do
      ((SECONDS < end)) || { echo "l2a-lab: error: the agent on $n is not ready after 60 s: $(ip netns exec "$(lab_ns "$n")" curl -s --max-time 1 http://127.0.0.1:9611/readyz); see $STATE/agent-$n.log" >&2; exit 1; }
      sleep 0.1
    done
  done
  echo "$LAB_ID" >"$STATE/id"
  echo "lab cluster up: $LAB_CONTROL_PLANE control plane at $LAB_API, nodes: $nodes, client namespace $(lab_ns client)"
  echo "  kubectl:   ip netns exec $(lab_ns client) env KUBECONFIG=$STATE/kubeconfig kubectl get nodes"
}

# agent_container NODE LEASE_MS: NODE's agent from the image, as the chart's DaemonSet runs it
# (tests/support/agent_pod.sh), with the lab's lease.
agent_container() {
  local n=$1 lease=$2 sa=$STATE/serviceaccount chart=$STATE/chart.yaml version
  [[ -f $sa/token ]] || agent_pod_serviceaccount "$sa" "$LAB_CP_DIR/pki/ca.crt" || return 1
  "$LAB_KUBE_BIN/helm" template l2announcer "$ROOT/deploy/helm/l2announcer" -n "$L2A_NS" \
    --set agent.interface='^eth0$' --set agent.leaseDurationMs="$lease" --set agent.renewDeadlineMs=$((lease * 3 / 4)) \
    --set agent.retryPeriodMs=$((lease / 6)) >"$chart" || return 1
  version=$("$L2A" version | awk '{print $2}')
  agent_pod_run "$LAB_ID-agent-$n" "$n" "$sa" "localhost/l2a:$version" "$chart" \
    -d --log-driver k8s-file --log-opt path="$STATE/agent-$n.log" >/dev/null || return 1
  echo "$(podman inspect --format '{{.State.Pid}}' "$LAB_ID-agent-$n")" >"$STATE/agent-$n.pid"
}

lab_down() {
  # Agent containers (--agents-from-image) first: podman owns them.
  command -v podman >/dev/null &&
    podman ps -a --format '{{.Names}}' 2>/dev/null | grep "^$LAB_ID-agent-" | xargs -r podman rm -f >/dev/null 2>&1
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
  local k="ip netns exec $LAB_LAN env KUBECONFIG=$STATE/kubeconfig KUBECACHEDIR=$STATE/kubecache $LAB_KUBE_BIN/kubectl"
  echo "== nodes"; $k get nodes
  echo "== agents"
  local n
  for n in $(cat "$STATE/nodes"); do
    if kill -0 "$(cat "$STATE/agent-$n.pid")" 2>/dev/null; then echo "$n: agent running"; else echo "$n: agent NOT running"; fi
  done
  echo "== leases"; $k get leases -n "$L2A_NS" -o custom-columns=NAME:.metadata.name,HOLDER:.spec.holderIdentity,RENEWED:.spec.renewTime
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
