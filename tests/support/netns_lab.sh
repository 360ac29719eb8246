# Network-namespace lab for tests, the demo and benchmarks: one bridge namespace as the LAN and
# one namespace per host, each with eth0 on the bridge. Source it, call lab_init, add hosts.
# Everything is named after a unique lab id and removed by lab_cleanup (installed as an EXIT
# trap by lab_init), also when the caller fails or is interrupted.
# Addresses: only 198.18.0.0/15 and 2001:db8::/32.

LAB_SUPPORT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)  # tests/support, absolute
LAB_PIDS=()

# The lab's kubectl (and helm) are the ones built from the pinned release by
# scripts/kube-binaries.sh, whatever else is on the PATH.
LAB_KUBE_BIN=$(bash "$(dirname "${BASH_SOURCE[0]}")/../../scripts/kube-binaries.sh" --dir)
export PATH="$LAB_KUBE_BIN:$PATH"

lab_init() {  # lab_init PREFIX
  lab_remove_stale
  LAB_ID="${1:-l2a}-$$-$RANDOM"
  LAB_LAN="${LAB_ID}-lan"
  trap lab_cleanup EXIT
  trap 'exit 130' INT TERM
  ip netns add "$LAB_LAN"
  ip -n "$LAB_LAN" link set lo up
  lab_bridge br0
  lab_plain_switch "$LAB_LAN"
}

lab_bridge() {  # lab_bridge NAME: a switch (segment) in the LAN namespace, once
  ip -n "$LAB_LAN" link show "$1" >/dev/null 2>&1 && return 0
  ip -n "$LAB_LAN" link add "$1" type bridge
  # No MLD/IGMP snooping: the lab LAN floods multicast like a plain switch.
  ip -n "$LAB_LAN" link set "$1" type bridge mcast_snooping 0 forward_delay 0
  ip -n "$LAB_LAN" link set "$1" up
}

# A switch forwards frames; it does not validate IP headers. With br_netfilter in the kernel
# the bridge would drop malformed IPv4/IPv6 frames before they reach anyone.
lab_plain_switch() {  # lab_plain_switch NAMESPACE
  ip netns exec "$1" sysctl -qw net.bridge.bridge-nf-call-iptables=0 net.bridge.bridge-nf-call-ip6tables=0 \
    net.bridge.bridge-nf-call-arptables=0 2>/dev/null
  return 0
}

# Namespaces of labs whose shell died without cleaning up (kill -9, a crash): PREFIX-PID-N-HOST.
lab_remove_stale() {
  local ns pid
  for ns in $(ip netns list | awk '{print $1}'); do
    [[ $ns =~ ^[a-z0-9]+-([0-9]+)-[0-9]+-[a-z0-9-]+$ ]] || continue
    pid=${BASH_REMATCH[1]}
    kill -0 "$pid" 2>/dev/null && continue
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
    ip netns delete "$ns" 2>/dev/null
  done
  return 0
}

lab_ns() { echo "${LAB_ID}-$1"; }

lab_host() {  # lab_host NAME [IPV4/LEN] [IPV6/LEN]: a host with eth0 on the LAN
  local name=$1 ns
  ns=$(lab_ns "$1")
  ip netns add "$ns"
  # keep_addr_on_down: a node keeps its IPv6 address across a link flap, as a node whose network
  # manager re-adds it would (the kernel alone drops static IPv6 addresses on link down).
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
    net.ipv6.conf.all.keep_addr_on_down=1 net.ipv6.conf.default.keep_addr_on_down=1
  ip -n "$ns" link set lo up
  ip link add eth0 netns "$ns" type veth peer name "v-$name" netns "$LAB_LAN"
  ip -n "$LAB_LAN" link set "v-$name" master br0 up
  ip -n "$ns" link set eth0 up
  [[ -n "${2:-}" ]] && ip -n "$ns" addr add "$2" dev eth0
  [[ -n "${3:-}" ]] && ip -n "$ns" addr add "$3" dev eth0 nodad
  return 0
}

lab_mac() {  # lab_mac HOST [IFACE]
  ip -n "$(lab_ns "$1")" -j link show "${2:-eth0}" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])'
}

lab_exec() {  # lab_exec HOST CMD...
  local ns
  ns=$(lab_ns "$1")
  shift
  ip netns exec "$ns" "$@"
}

# A service address the host accepts traffic for without its kernel answering ARP/NDP for it
# on the LAN: the address sits on lo, and arp_ignore=1 keeps eth0 silent about it (IPv6
# neighbour discovery only answers for addresses of the receiving interface).
lab_service_address() {  # lab_service_address HOST ADDR...
  local host=$1 ns
  ns=$(lab_ns "$host")
  shift
  ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.eth0.arp_ignore=1 \
    net.ipv4.conf.all.arp_announce=2
  local a
  for a in "$@"; do
    if [[ $a == *:* ]]; then
      ip -n "$ns" addr add "$a/128" dev lo nodad
    else
      ip -n "$ns" addr add "$a/32" dev lo
    fi
  done
}

lab_spawn() {  # lab_spawn HOST LOGFILE CMD...: background process in HOST; sets LAB_LAST_PID
  local host=$1 log=$2
  shift 2
  ip netns exec "$(lab_ns "$host")" "$@" >"$log" 2>&1 &
  LAB_LAST_PID=$!
  LAB_PIDS+=("$LAB_LAST_PID")
}

# Waits until COMMAND succeeds, at most SECONDS (fractional ok). Returns 1 on time-out.
lab_wait_for() {  # lab_wait_for SECONDS CMD...
  local deadline=$(($(date +%s%N) + ${1%.*} * 1000000000)) limit=$1
  shift
  while true; do
    "$@" >/dev/null 2>&1 && return 0
    (($(date +%s%N) >= deadline)) && { echo "timed out after ${limit}s: $*" >&2; return 1; }
    sleep 0.05
  done
}

# Whether PID is still a child of this shell. PIDs are reused (pid_max is 32768 here): a
# process we started long ago and that died may have handed its number to someone else's.
lab_is_child() {  # lab_is_child PID
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }  # after "PID (comm) ": state ppid ...
  local fields=($stat)
  [[ ${fields[1]} == "$$" ]]
}

lab_cleanup() {
  local rc=$?
  set +e  # the caller may run under errexit; cleaning up must go on past dead processes
  local pid
  for pid in "${LAB_PIDS[@]}"; do lab_is_child "$pid" && kill -TERM "$pid" 2>/dev/null; done
  for pid in "${LAB_PIDS[@]}"; do
    lab_is_child "$pid" || continue
    for _ in $(seq 20); do [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) =~ ^[^Z]$ ]] || break; sleep 0.05; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  LAB_PIDS=()
  local ns
  for ns in $(ip netns list | awk '{print $1}' | grep -F -- "$LAB_ID" || true); do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
    ip netns delete "$ns" 2>/dev/null
  done
  # LAB_KEEP_LOGS=DIR keeps the lab's logs there (debugging a failed run).
  if [[ -n ${LAB_KEEP_LOGS:-} ]]; then mkdir -p "$LAB_KEEP_LOGS" && cp /tmp/"$LAB_ID"-*.log "$LAB_KEEP_LOGS"/ 2>/dev/null; fi
  rm -rf /tmp/"$LAB_ID"-* 2>/dev/null
  return $rc
}

# Minimal assertion helpers: print what failed and count it.
LAB_FAILURES=0
LAB_CHECKS=0
check() {  # check DESCRIPTION CMD...: CMD must succeed
  local what=$1
  shift
  LAB_CHECKS=$((LAB_CHECKS + 1))
  if "$@" >/tmp/l2a-check-out.$$ 2>&1; then
    echo "ok   - $what"
  else
    echo "FAIL - $what (command: $*)"
    sed 's/^/       /' /tmp/l2a-check-out.$$
    LAB_FAILURES=$((LAB_FAILURES + 1))
  fi
  rm -f /tmp/l2a-check-out.$$
}

check_status() {  # check_status DESCRIPTION EXPECTED CMD...: CMD must exit EXPECTED
  local what=$1 expected=$2 rc=0
  shift 2
  LAB_CHECKS=$((LAB_CHECKS + 1))
  "$@" >/tmp/l2a-check-out.$$ 2>&1 || rc=$?
  if [[ $rc == "$expected" ]]; then
    echo "ok   - $what"
  else
    echo "FAIL - $what: exit $rc, wanted $expected (command: $*)"
    sed 's/^/       /' /tmp/l2a-check-out.$$
    LAB_FAILURES=$((LAB_FAILURES + 1))
  fi
  rm -f /tmp/l2a-check-out.$$
}

lab_finish() {
  echo "# $LAB_CHECKS checks, $LAB_FAILURES failed"
  [[ $LAB_FAILURES == 0 && $LAB_CHECKS -gt 0 ]]
}

lab_http_server() {  # lab_http_server HOST TEXT: HTTP on port 80 (IPv4 and IPv6) answering TEXT
  local host=$1 dir
  dir=$(mktemp -d "/tmp/${LAB_ID}-www-XXXX")
  echo "$2" >"$dir/index.html"
  lab_spawn "$host" "$dir.log" python3 "$LAB_SUPPORT_DIR/http_backend.py" 80 "$dir"
  lab_wait_for 10 lab_exec "$host" curl -sf -o /dev/null "http://127.0.0.1/"
}

# A kube-proxy stand-in on HOST: nftables DNAT of service traffic (198.18.0.128/25,
# 2001:db8::1:0/112 and 2001:db8::2:0/112, TCP port 80) to an HTTP backend on the host's own
# :8080 that answers "served by HOST". Sets LAB_LAST_PID to the backend.
lab_service_backend() {  # lab_service_backend HOST NODE_IPV4 NODE_IPV6 DIR
  local host=$1 v4=$2 v6=$3 dir=$4
  lab_exec "$host" nft -f - <<NFT
table inet l2a-lab-proxy {
  chain prerouting {
    type nat hook prerouting priority dstnat;
    ip daddr 198.18.0.128/25 tcp dport 80 dnat ip to $v4:8080
    ip6 daddr { 2001:db8::1:0/112, 2001:db8::2:0/112 } tcp dport 80 dnat ip6 to [$v6]:8080
  }
}
NFT
  mkdir -p "$dir"
  echo "served by $host" >"$dir/index.html"
  lab_spawn "$host" "$dir.log" python3 "$LAB_SUPPORT_DIR/http_backend.py" 8080 "$dir"
}

lab_require_root() {
  if [[ $EUID -ne 0 ]]; then
    echo "FAIL - network-namespace tests need root (CI runs them as root)"
    exit 1
  fi
}

# The MAC the kernel of HOST has in its neighbour table for ADDR ("" when none or incomplete).
lab_neigh_mac() {  # lab_neigh_mac HOST ADDR
  ip -n "$(lab_ns "$1")" -j neigh show "$2" dev eth0 |
    python3 -c 'import json,sys; e=json.load(sys.stdin); print(e[0].get("lladdr","") if e else "")'
}

lab_neigh_is() {  # lab_neigh_is HOST ADDR MAC: HOST's kernel maps ADDR to MAC
  [[ "$(lab_neigh_mac "$1" "$2")" == "$3" ]]
}

lab_output_has() {  # lab_output_has PATTERN CMD...: CMD's output matches PATTERN (grep -Ei)
  local pattern=$1
  shift
  "$@" 2>&1 | grep -Eqi -- "$pattern"
}

lab_add_port() {  # lab_add_port HOST IFACE [BRIDGE]: one more veth from HOST to a segment (br0), no address
  local ns bridge=${3:-br0}
  ns=$(lab_ns "$1")
  lab_bridge "$bridge"
  ip link add "$2" netns "$ns" type veth peer name "v-$1-$2" netns "$LAB_LAN"
  ip -n "$LAB_LAN" link set "v-$1-$2" master "$bridge" up
  ip -n "$ns" link set "$2" up
}

# The lab's control plane on the LAN: an address on the bridge (inside the LAN namespace), the
# lab API server listening there, and a kubeconfig for it. Sets LAB_API and LAB_KUBECONFIG.
lab_apiserver() {  # lab_apiserver LAB_BINARY [EXTRA ARGS...]
  local binary=$1
  shift
  ip -n "$LAB_LAN" addr add 198.18.0.1/24 dev br0 2>/dev/null
  ip -n "$LAB_LAN" addr add 2001:db8::1/64 dev br0 nodad 2>/dev/null
  LAB_API_LOG=/tmp/$LAB_ID-apiserver.log
  ip netns exec "$LAB_LAN" "$binary" apiserver --listen 198.18.0.1:6443 "$@" >"$LAB_API_LOG" 2>&1 &
  LAB_API_PID=$!
  LAB_PIDS+=("$LAB_API_PID")
  lab_wait_for 5 grep -q "serving http" "$LAB_API_LOG" || return 1
  LAB_API=http://198.18.0.1:6443
  LAB_KUBECONFIG=/tmp/$LAB_ID-kubeconfig
  cat >"$LAB_KUBECONFIG" <<YAML
apiVersion: v1
kind: Config
current-context: lab
clusters: [{name: lab, cluster: {server: "$LAB_API"}}]
contexts: [{name: lab, context: {cluster: lab, user: lab}}]
users: [{name: lab, user: {}}]
YAML
}

lab_bench_nodes() {  # lab_bench_nodes N: hosts n1..nN on the LAN (198.18.0.11 on), their Node objects, one policy announcing every LoadBalancer address on eth0
  local i
  for ((i = 1; i <= $1; i++)); do
    lab_host "n$i" "198.18.0.$((10 + i))/24"
    printf 'apiVersion: v1\nkind: Node\nmetadata: {name: n%s}\n' "$i" | lab_kubectl apply -f - >/dev/null
  done
  lab_kubectl apply -f - >/dev/null <<'YAML'
apiVersion: l2announcer.io/v1alpha1
kind: L2AnnouncementPolicy
metadata: {name: all}
spec: {loadBalancerIPs: true, interfaces: ["^eth0$"]}
YAML
}

lab_kubectl() {  # kubectl against the lab API server, from the LAN namespace
  ip netns exec "$LAB_LAN" env KUBECONFIG="$LAB_KUBECONFIG" KUBECACHEDIR="/tmp/$LAB_ID-kubecache" kubectl "$@"
}

# A lab API server on loopback for tests that need no network namespaces. Writes its log in DIR,
# sets LOOPBACK_API_PID and LOOPBACK_API_URL, and with "kubeconfig" as the third argument points
# KUBECONFIG (and KUBECACHEDIR) at it. The caller kills LOOPBACK_API_PID in its cleanup.
lab_loopback_apiserver() {  # lab_loopback_apiserver LAB_BINARY DIR [kubeconfig]
  "$1" apiserver --listen 127.0.0.1:0 >"$2/server.log" 2>&1 &
  LOOPBACK_API_PID=$!
  lab_wait_for 5 grep -q "serving http" "$2/server.log" || return 1
  LOOPBACK_API_URL=$(grep -o 'http://[^ ]*' "$2/server.log")
  if [[ ${3:-} == kubeconfig ]]; then
    export KUBECONFIG=$2/kubeconfig KUBECACHEDIR=$2/cache
    kubectl config set-cluster lab --server="$LOOPBACK_API_URL" >/dev/null
    kubectl config set-context lab --cluster=lab >/dev/null
    kubectl config use-context lab >/dev/null
  fi
}

# The control plane the cluster tests run against, on the LAN at 198.18.0.1:6443:
# CONTROL_PLANE=kube (the default: etcd, kube-apiserver with TLS and RBAC, kube-controller-manager;
# tests/support/kube_control_plane.sh) or CONTROL_PLANE=lab (the lab API server, l2a-lab apiserver).
# Either way the project's namespace and the RBAC of deploy/ are applied, and l2a's components
# get their credentials from lab_component_kubeconfig.
LAB_CONTROL_PLANE=${CONTROL_PLANE:-kube}
LAB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
L2A_NS=l2announcer  # where the agents' and the operator's Leases live (deploy/ puts them there)

lab_control_plane() {  # lab_control_plane [DIR]: start it (state in DIR) and install deploy/'s RBAC
  lab_control_plane_only "$@" && lab_deploy_rbac
}

lab_control_plane_only() {  # lab_control_plane_only [DIR]: start it, nothing installed
  LAB_CP_DIR=${1:-/tmp/$LAB_ID-control-plane}
  mkdir -p "$LAB_CP_DIR"
  case $LAB_CONTROL_PLANE in
    kube)
      source "$LAB_ROOT/tests/support/kube_control_plane.sh"
      kcp_up "$LAB_CP_DIR" || return 1
      ;;
    lab)
      lab_apiserver "${L2A_LAB:-$LAB_ROOT/build/l2a-lab}" --data-dir "$LAB_CP_DIR/data" || return 1
      ;;
    *) echo "CONTROL_PLANE must be kube or lab, not $LAB_CONTROL_PLANE" >&2; return 1 ;;
  esac
}

# deploy/manifests/namespace.yaml, and the ServiceAccounts, roles and bindings of
# deploy/manifests/l2announcer.yaml, as an operator installs them (the DaemonSet and Deployment
# are not: the lab runs l2a itself).
lab_deploy_rbac() {
  lab_kubectl apply -f "$LAB_ROOT/deploy/manifests/namespace.yaml" >/dev/null || return 1
  python3 - "$LAB_ROOT/deploy/manifests/l2announcer.yaml" <<'PY' | lab_kubectl apply -f - >/dev/null
import sys, yaml
rbac = {"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d.get("kind") in rbac]
print(yaml.safe_dump_all(docs))
PY
}

# A kubeconfig for l2a's agent or operator: on kube, a token of its ServiceAccount, so RBAC
# judges it as on a real cluster; on the lab server (which has no RBAC), the admin's.
lab_component_kubeconfig() {  # lab_component_kubeconfig agent|operator: prints the file
  local file=$LAB_CP_DIR/$1.kubeconfig
  if [[ ! -f $file ]]; then
    if [[ $LAB_CONTROL_PLANE == kube ]]; then
      kcp_sa_kubeconfig "$L2A_NS" "l2a-$1" "$file" "${LAB_FAULT_PROXY:-$LAB_API}" || return 1
    else
      cp "$LAB_KUBECONFIG" "$file"
    fi
  fi
  echo "$file"
}

# Faults for l2a's components: on kube a fault proxy (l2a-lab proxy, TLS) in front of
# kube-apiserver at 198.18.0.1:6444, which lab_component_kubeconfig then points them at; the lab
# API server injects them itself. Call before the first lab_component_kubeconfig.
lab_fault_proxy() {
  [[ $LAB_CONTROL_PLANE == kube ]] || return 0
  local pki=$LAB_CP_DIR/pki log=$LAB_CP_DIR/fault-proxy.log
  ip netns exec "$LAB_LAN" "${L2A_LAB:-$LAB_ROOT/build/l2a-lab}" proxy --listen 198.18.0.1:6444 \
    --upstream 127.0.0.1:6443 --admin 127.0.0.1:6445 --cert "$pki/apiserver.crt" --key "$pki/apiserver.key" \
    --ca "$pki/ca.crt" >"$log" 2>&1 &
  LAB_PIDS+=($!)
  lab_wait_for 5 grep -q "serving" "$log" || return 1
  LAB_FAULT_PROXY=https://198.18.0.1:6444
}

# POST /admin/WHAT (fault?..., close-watches, outage?seconds=N) where l2a's components' API
# requests go through: the fault proxy on kube, the lab API server itself on lab. Fails when
# refused. With an empty body (Content-Length: 0): the fault proxy's HTTP server answers 400 to
# a POST without one.
lab_api_admin() {  # lab_api_admin WHAT
  local url=http://198.18.0.1:6443/admin/$1
  [[ $LAB_CONTROL_PLANE == kube ]] && url=http://127.0.0.1:6445/admin/$1
  ip netns exec "$LAB_LAN" curl -sf -X POST -d '' "$url" >/dev/null
}

# Stop and start the API server (keeping its data): an outage as a restart or crash gives one.
lab_api_stop() {  # lab_api_stop [KILL|TERM]
  if [[ $LAB_CONTROL_PLANE == kube ]]; then
    kcp_stop kube-apiserver "${1:-TERM}"
  else
    kill "-${1:-TERM}" "$LAB_API_PID" 2>/dev/null
    wait "$LAB_API_PID" 2>/dev/null
  fi
  return 0
}
lab_api_start() {
  if [[ $LAB_CONTROL_PLANE == kube ]]; then
    kcp_start kube-apiserver
  else
    lab_apiserver "${L2A_LAB:-$LAB_ROOT/build/l2a-lab}" --data-dir "$LAB_CP_DIR/data"
  fi
}

# A Node object shaped as kind makes them (its labels; the control plane excluded from external
# load balancers), with its addresses and a Ready condition in its status, as a kubelet reports.
lab_node_object() {  # lab_node_object NAME IPV4 IPV6 [control-plane|worker]
  local role=${4:-worker} extra=""
  [[ $role == control-plane ]] && extra=", node.kubernetes.io/exclude-from-external-load-balancers: \"\""
  lab_kubectl apply -f - >/dev/null <<YAML || return 1
apiVersion: v1
kind: Node
metadata:
  name: $1
  labels: {kubernetes.io/hostname: $1, kubernetes.io/os: linux, kubernetes.io/arch: amd64, node-role.kubernetes.io/$role: ""$extra}
YAML
  local now
  now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  lab_kubectl patch node "$1" --subresource=status --type=merge -p "{\"status\": {
    \"addresses\": [{\"type\": \"InternalIP\", \"address\": \"$2\"}, {\"type\": \"InternalIP\", \"address\": \"$3\"}, {\"type\": \"Hostname\", \"address\": \"$1\"}],
    \"conditions\": [{\"type\": \"Ready\", \"status\": \"True\", \"reason\": \"KubeletReady\", \"message\": \"lab node\", \"lastHeartbeatTime\": \"$now\", \"lastTransitionTime\": \"$now\"}]}}" >/dev/null
}

# The Pod of an HTTP backend the lab runs on NODE itself (host network, the node's addresses),
# with the status a kubelet would report once it runs — set by the lab, as kwok does — so the
# real EndpointSlice controller lists it for every Service that selects LABEL=VALUE.
lab_backend_pod() {  # lab_backend_pod NODE IPV4 IPV6 LABEL=VALUE [PORT]
  local node=$1 v4=$2 v6=$3 key=${4%%=*} value=${4#*=} port=${5:-8080} now
  lab_kubectl apply -f - >/dev/null <<YAML || return 1
apiVersion: v1
kind: Pod
metadata: {name: $value-$node, namespace: default, labels: {$key: $value}}
spec:
  nodeName: $node
  hostNetwork: true
  containers: [{name: http, image: l2a-lab/http, ports: [{containerPort: $port, name: http}]}]
YAML
  now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  local ready="\"status\": \"True\", \"lastTransitionTime\": \"$now\""
  lab_kubectl patch pod "$value-$node" -n default --subresource=status --type=merge -p "{\"status\": {
    \"phase\": \"Running\", \"hostIP\": \"$v4\", \"hostIPs\": [{\"ip\": \"$v4\"}, {\"ip\": \"$v6\"}],
    \"podIP\": \"$v4\", \"podIPs\": [{\"ip\": \"$v4\"}, {\"ip\": \"$v6\"}], \"startTime\": \"$now\",
    \"conditions\": [{\"type\": \"PodScheduled\", $ready}, {\"type\": \"Initialized\", $ready},
                     {\"type\": \"ContainersReady\", $ready}, {\"type\": \"Ready\", $ready}],
    \"containerStatuses\": [{\"name\": \"http\", \"image\": \"l2a-lab/http\", \"imageID\": \"\", \"ready\": true,
      \"restartCount\": 0, \"started\": true, \"state\": {\"running\": {\"startedAt\": \"$now\"}}}]}}" >/dev/null
}
