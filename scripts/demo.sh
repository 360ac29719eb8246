#!/usr/bin/env bash
# make demo: the seed's story on one machine. A lab cluster shaped like a kind cluster (a
# control plane, two workers, a client on the same LAN; `l2a-lab up`) — with
# `--control-plane kube` (make demo CONTROL_PLANE=kube) on kube-apiserver, etcd and
# kube-controller-manager, else on the lab API server — then, with kubectl:
#   1. an IP pool and the httpd Service: it gets an external IP, but it is a ghost — curl from
#      the client gets nothing, `l2a whohas` finds no owner, `l2a explain` says why (no policy);
#   2. the seed's L2 announcement policy: a worker answers ARP/NDP, curl works over IPv6 and IPv4;
#   3. the announcing worker drops off the LAN silently (its switch port removed: no carrier
#      change, its agent and Lease live on — a node that dies quietly): how long until curl
#      answers again through the other worker; then it comes back, and the address stays.
# Everything is torn down at the end, also after a failure or Ctrl-C.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CONTROL_PLANE=lab
FROM_IMAGE=()
while (($#)); do
  case $1 in
    --control-plane) CONTROL_PLANE=${2:-}; shift 2 ;;
    --agents-from-image) FROM_IMAGE=(--agents-from-image); shift ;;  # kube only: agents as containers of make image
    *) echo "usage: scripts/demo.sh [--control-plane lab|kube] [--agents-from-image]" >&2; exit 64 ;;
  esac
done
[[ $CONTROL_PLANE == lab || $CONTROL_PLANE == kube ]] || { echo "demo: error: --control-plane must be lab or kube" >&2; exit 64; }
# The lab's kubectl: the one built from the pinned Kubernetes release.
PATH="$(bash scripts/kube-binaries.sh --dir):$PATH"
LAB_BIN=build/l2a-lab
L2A=$ROOT/build/l2a
CLIENT=l2alab-0-0-client
KUBECONFIG_LAB=/run/l2a-lab/kubeconfig
[[ $EUID -eq 0 ]] || { echo "make demo needs root (network namespaces)"; exit 1; }
trap '"$LAB_BIN" down >/dev/null 2>&1' EXIT
trap 'exit 130' INT TERM

bold() { printf '\n\033[1m%s\033[0m\n' "$*"; }
say() { printf '   %s\n' "$*"; }
# A command as the person at the client types it (kubectl talks to the lab API server).
run() {
  printf '\033[36mclient$\033[0m %s\n' "$*"
  ip netns exec "$CLIENT" env KUBECONFIG="$KUBECONFIG_LAB" KUBECACHEDIR=/run/l2a-lab/kubecache PATH="$ROOT/build:$PATH" \
    "$@" 2>&1 | sed 's/^/     /'
  return "${PIPESTATUS[0]}"
}
quiet() { ip netns exec "$CLIENT" env KUBECONFIG="$KUBECONFIG_LAB" KUBECACHEDIR=/run/l2a-lab/kubecache "$@" >/dev/null 2>&1; }
FAILED=()
expect() {  # expect DESCRIPTION CMD...: the demo's own assertions (make test runs the demo)
  local what=$1
  shift
  if "$@" >/dev/null 2>&1; then printf '   \033[32m✓ %s\033[0m\n' "$what"; else printf '   \033[31m✗ %s\033[0m\n' "$what"; FAILED+=("$what"); return 1; fi
}
in_client() { ip netns exec "$CLIENT" env KUBECONFIG="$KUBECONFIG_LAB" KUBECACHEDIR=/run/l2a-lab/kubecache "$@"; }
# When the fail-over is slow or missing: what each agent logged from the cut on, and the client's
# neighbour entries for the Service's addresses (which MAC it sends to, in which state).
failover_evidence() {
  local log
  for log in /run/l2a-lab/agent-*.log; do
    say "${log##*/} (from the cut on):"
    awk -v t="$CUT_AT" '$1 >= t' "$log" 2>/dev/null | head -30 | sed 's/^/     /'
  done
  say "client's neighbour entries:"
  ip -n "$CLIENT" neigh show | grep -F -e "$V6" -e "$V4" | sed 's/^/     /'
}
wait_for() {  # wait_for SECONDS CMD...
  local end=$(($(date +%s) + $1))
  shift
  until "$@"; do (($(date +%s) >= end)) && return 1; sleep 0.1; done
}

if [[ $CONTROL_PLANE == kube ]]; then
  bold "0. A lab cluster: kube-apiserver, etcd and kube-controller-manager + 2 workers + a client, on one LAN (network namespaces)"
else
  bold "0. A lab cluster: the lab API server + 2 workers + a client, on one LAN (network namespaces)"
fi
printf '\033[36m#\033[0m %s\n' "l2a-lab up --control-plane $CONTROL_PLANE --workers 2 ${FROM_IMAGE[*]}"
"$LAB_BIN" up --control-plane "$CONTROL_PLANE" --workers 2 "${FROM_IMAGE[@]}" | sed 's/^/     /'
((PIPESTATUS[0] == 0)) || { echo "make demo: the lab cluster did not come up (l2a-lab up failed; see above)" >&2; exit 1; }
run kubectl get nodes

bold "1. An IP pool and the httpd Service (labelled announcement: l2)"
run cat examples/seed/cilium/pool.yaml
run kubectl apply -f examples/seed/cilium/pool.yaml -f examples/seed/cilium/service.yaml
has_ip() { [[ -n $(ip netns exec "$CLIENT" env KUBECONFIG="$KUBECONFIG_LAB" kubectl get svc httpd -o jsonpath='{.status.loadBalancer.ingress[0].ip}' 2>/dev/null) ]]; }
wait_for 15 has_ip
run kubectl get svc httpd
V6=$(ip netns exec "$CLIENT" env KUBECONFIG="$KUBECONFIG_LAB" kubectl get svc httpd -o jsonpath='{.status.loadBalancer.ingress[?(@.ip contains ":")].ip}' 2>/dev/null)
IPS=$(ip netns exec "$CLIENT" env KUBECONFIG="$KUBECONFIG_LAB" kubectl get svc httpd -o jsonpath='{.status.loadBalancer.ingress[*].ip}')
V6=$(tr ' ' '\n' <<<"$IPS" | grep : | head -1)
V4=$(tr ' ' '\n' <<<"$IPS" | grep -v : | head -1)
say "The Service has external IPs $V6 and $V4 — in the API server only. From the client:"
run curl -s -m 3 "http://[$V6]/"
say "curl gets nothing back, not even 'unreachable': nobody answers the neighbour solicitation."
run l2a whohas --timeout 500 "$V6"
run l2a explain httpd
expect "the Service has an IPv6 and an IPv4 address" test -n "$V6" -a -n "$V4"
expect "ghost: curl gets no answer" bash -c "! ip netns exec $CLIENT curl -s -m 1 'http://[$V6]/'"
expect "ghost: whohas finds no owner (exit 1)" bash -c "ip netns exec $CLIENT $L2A whohas --timeout 300 $V4; [ \$? -eq 1 ]"
expect "explain stops at the policies" bash -c "ip netns exec $CLIENT env KUBECONFIG=$KUBECONFIG_LAB $L2A explain httpd | grep -q 'stops at policies'"

bold "2. The seed's L2 announcement policy (interfaces eth0, not on the control plane)"
run cat examples/seed/cilium/l2policy.yaml
run kubectl apply -f examples/seed/cilium/l2policy.yaml
answered() { ip netns exec "$CLIENT" "$L2A" whohas --timeout 200 "$V6" >/dev/null 2>&1; }
wait_for 10 answered
run l2a whohas "$V6"
run l2a whohas "$V4"
run curl -s -m 3 "http://[$V6]/"
run curl -s -m 3 "http://$V4/"
run l2a explain httpd --probe
OWNER=$(ip netns exec "$CLIENT" env KUBECONFIG="$KUBECONFIG_LAB" "$L2A" explain httpd -o json 2>/dev/null |
  python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["addresses"][0]["owner"])')
say "The announcer is $OWNER."
expect "whohas names one owner for IPv6 and IPv4" bash -c "ip netns exec $CLIENT $L2A whohas $V6 && ip netns exec $CLIENT $L2A whohas $V4"
expect "curl over IPv6 answers from a worker" bash -c "ip netns exec $CLIENT curl -s -m 2 'http://[$V6]/' | grep -q 'served by worker'"
expect "curl over IPv4 answers from a worker" bash -c "ip netns exec $CLIENT curl -s -m 2 'http://$V4/' | grep -q 'served by worker'"
expect "explain --probe: the expected node answered" bash -c "ip netns exec $CLIENT env KUBECONFIG=$KUBECONFIG_LAB $L2A explain httpd --probe"

bold "3. The announcing worker ($OWNER) drops off the LAN silently"
LAN=l2alab-0-0-lan
printf '\033[36m#\033[0m ip -n %s link set v-%s nomaster   (its switch port removed: no carrier change on %s, its agent and Lease live on)\n' "$LAN" "$OWNER" "$OWNER"
served_elsewhere() {
  local out
  out=$(ip netns exec "$CLIENT" curl -s --connect-timeout 0.1 -m 0.3 "http://[$V6]/" 2>/dev/null) && [[ -n $out && $out != *"$OWNER"* ]]
}
start=$(date +%s%N)
CUT_AT=$(date +%Y-%m-%dT%H:%M:%S)
ip -n "$LAN" link set "v-$OWNER" nomaster
if wait_for 20 served_elsewhere; then
  ms=$((($(date +%s%N) - start) / 1000000))
  run curl -s -m 3 "http://[$V6]/"
  run curl -s -m 3 "http://$V4/"
  run l2a whohas "$V6"
  NEW=$(in_client curl -s -m 2 "http://[$V6]/" | awk '{print $NF}')  # "served by NODE"
  say "curl answered again through $NEW ${ms} ms after the cut. $OWNER's Lease was still live (2 s in the lab):"
  say "the other agents stopped hearing its heartbeats (every 40 ms; silent for 200 ms = gone)."
  expect "silent cut: fail-over well within the Lease (under 1.5 s)" test "$ms" -le 1500 || failover_evidence
  expect "IPv4 also served by the new announcer" bash -c "ip netns exec $CLIENT curl -s -m 2 'http://$V4/' | grep -qv '$OWNER'"
  printf '\033[36m#\033[0m ip -n %s link set v-%s master br0   (%s back on the LAN)\n' "$LAN" "$OWNER" "$OWNER"
  ip -n "$LAN" link set "v-$OWNER" master br0
  sleep 3
  run l2a whohas "$V6"
  say "$OWNER is back and heard again, but held down for 10 s: the address stays on $NEW (no bounce back)."
  NEW_MAC=$(ip -n "l2alab-0-0-$NEW" link show eth0 | awk '/ether/ {print $2}')
  expect "back on the LAN, $OWNER does not take the address back" \
    bash -c "ip netns exec $CLIENT $L2A whohas -o json $V6 | grep -q '$NEW_MAC'"
  sleep 9
  say "The hold-down is over, and still nothing moves: an address stays with its announcer while"
  say "that node may announce it (agents run with --rebalance take theirs back, a few a second)."
  run kubectl get l2announcements
  expect "after the hold-down, $OWNER still does not take the address back" \
    bash -c "ip netns exec $CLIENT $L2A whohas -o json $V6 | grep -q '$NEW_MAC'"
  expect "the L2Announcement records name $NEW" bash -c "ip netns exec $CLIENT env KUBECONFIG=$KUBECONFIG_LAB \
    kubectl get l2announcements -o jsonpath='{.items[*].status.node}' | grep -qw '$NEW'"
else
  ms="(no answer within 20 s)"
  say "curl did not answer again within 20 s"
  failover_evidence
  FAILED+=("fail-over")
fi

bold "Summary"
say "1. pool + Service: external IPs $V6, $V4 — a ghost: nobody answered ARP/NDP, curl got nothing"
say "2. L2 announcement policy: $OWNER answered, curl worked over IPv6 and IPv4"
say "3. $OWNER dropped off the LAN silently: another worker took over in ${ms} ms, and kept the address when it came back"
say "Tearing the lab cluster down (l2a-lab down)."
if ((${#FAILED[@]})); then
  say "FAILED: ${FAILED[*]}"
  exit 1
fi
