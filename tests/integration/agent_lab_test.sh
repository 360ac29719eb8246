#!/usr/bin/env bash
# l2a agent on three workers and a control-plane node (network namespaces on one LAN), with the
# control plane (CONTROL_PLANE kube or lab) and l2a operator on the LAN, each with its
# ServiceAccount's token under deploy/'s RBAC, checked from a client with l2a whohas, arping and
# ping: exactly one announcer per address, every address announced, spread over nodes, the
# control plane excluded by the policy's nodeSelector; policy edits and node label changes move
# announcements; Local services follow their endpoints; kill -9 of an announcer moves its
# addresses within the lease duration + 1 s, SIGTERM within 1 s; stopping the API server keeps
# every address announced; a Node deleted takes its node Lease with it (the garbage collector).
set -u
L2A=${L2A:-build/l2a}
LAB=${L2A_LAB:-build/l2a-lab}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
source "$(dirname "$0")/../support/netns_lab.sh"
lab_require_root
lab_init agent
lab_control_plane || { echo "FAIL - the $LAB_CONTROL_PLANE control plane did not start"; exit 1; }
LEASE_MS=2000
declare -A MAC_OF NODE_OF_MAC AGENT_PID IP_OF
NODES="cp w1 w2 w3"
i=10
for n in $NODES; do
  i=$((i + 1))
  IP_OF[$n]=198.18.0.$i
  lab_host "$n" "198.18.0.$i/24" "2001:db8::$i/64"
  MAC_OF[$n]=$(lab_mac "$n")
  NODE_OF_MAC[${MAC_OF[$n]}]=$n
  lab_add_port "$n" lan1  # a second LAN port, without an address, for the carrier test
  NODE_OF_MAC[$(lab_mac "$n" lan1)]=$n
done
lab_host client 198.18.0.100/24 2001:db8::100/64

lab_kubectl apply -f "$ROOT/deploy/crds/" >/dev/null
i=10
for n in $NODES; do
  i=$((i + 1))
  role=worker
  [[ $n == cp ]] && role=control-plane
  lab_node_object "$n" "198.18.0.$i" "2001:db8::$i" "$role"
done
AGENT_KUBECONFIG=$(lab_component_kubeconfig agent)
start_agent() {  # start_agent NODE [FLAG...]
  local node=$1
  shift
  lab_spawn "$node" "/tmp/$LAB_ID-agent-$node.log" "$L2A" agent --node-name "$node" --kubeconfig "$AGENT_KUBECONFIG" \
    --namespace "$L2A_NS" --interface '^(eth0|lan1)$' --lease-duration-ms $LEASE_MS --renew-deadline-ms 1500 \
    --retry-period-ms 300 --packet-rt-priority 5 "$@"
  AGENT_PID[$node]=$LAB_LAST_PID
}
for n in $NODES; do start_agent "$n"; done
lab_spawn lan "/tmp/$LAB_ID-operator.log" "$L2A" operator --kubeconfig "$(lab_component_kubeconfig operator)" \
  --namespace "$L2A_NS"

lab_kubectl apply -f "$ROOT/examples/seed/l2announcer/pool.yaml" >/dev/null
for s in 1 2 3 4 5 6; do
  sed "s/name: httpd/name: web$s/" "$ROOT/examples/seed/l2announcer/service.yaml" | lab_kubectl apply -f - >/dev/null
done
addresses() { lab_kubectl get svc -o jsonpath='{range .items[*]}{.status.loadBalancer.ingress[*].ip}{" "}{end}'; }
count_addresses() { [[ $(addresses | wc -w) -ge 12 ]]; }
check "six dual-stack Services get 12 addresses" lab_wait_for 15 count_addresses
ADDRS=$(addresses)

owner() {  # owner ADDR: the node whose MAC answers, "none", or "conflict"
  local out rc=0
  out=$(lab_exec client "$L2A" whohas --interface eth0 --timeout 300 -o json "$1") || rc=$?
  case $rc in
    0) echo "${NODE_OF_MAC[$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["owners"][0]["mac"])' "$out")]:-unknown}" ;;
    1) echo none ;;
    *) echo conflict ;;
  esac
}
all_unannounced() { local a; for a in $ADDRS; do [[ $(owner "$a") == none ]] || return 1; done; }
all_announced_once() {  # every address has exactly one owner, none on the control plane
  local a o
  for a in $ADDRS; do
    o=$(owner "$a")
    [[ $o == none || $o == conflict || $o == cp || $o == unknown ]] && return 1
  done
  return 0
}

echo "# no policy yet: the ghost"
check "nothing is announced without a policy" all_unannounced
lab_kubectl apply -f "$ROOT/examples/seed/l2announcer/l2policy.yaml" >/dev/null
check "with the seed policy every address has exactly one announcer, a worker" lab_wait_for 10 all_announced_once
# On a busy node the packet thread (answers, heartbeats) and the node Lease come first: the
# threads that watch, plan and write run at --control-nice (10); the packet thread is SCHED_RR
# at --packet-rt-priority (5 here).
thread_sched() {  # thread_sched PID NAME: "class/rt-priority/nice" of PID's threads named NAME, one line
  ps -L -o cls=,rtprio=,nice=,comm= -p "$1" |
    awk -v n="$2" '{c = $1 "/" $2 "/" $3; $1 = $2 = $3 = ""; sub(/^ +/, ""); if ($0 == n) print c}' | sort -u | xargs
}
W1=${AGENT_PID[w1]}
check "the packet thread real-time, the Lease's normal, informers, reconcile loop and records' writer at nice 10" \
  test "$(thread_sched "$W1" responder) $(thread_sched "$W1" "node lease") $(thread_sched "$W1" informer) $(thread_sched "$W1" "reconcile loop") $(thread_sched "$W1" "announcement re")" = "RR/5/- TS/-/0 TS/-/10 TS/-/10 TS/-/10"
declare -A OWNER
for a in $ADDRS; do OWNER[$a]=$(owner "$a"); done
USED=$(printf '%s\n' "${OWNER[@]}" | sort -u | wc -l)
echo "# owners: $(for a in $ADDRS; do printf '%s=%s ' "$a" "${OWNER[$a]}"; done)"
check "addresses are spread over more than one worker" test "$USED" -ge 2
FIRST=$(echo $ADDRS | cut -d' ' -f1)
V4=$(echo $ADDRS | tr ' ' '\n' | grep -v : | head -1)
V6=$(echo $ADDRS | tr ' ' '\n' | grep : | head -1)
check "arping sees the owner's MAC" lab_output_has "${MAC_OF[${OWNER[$V4]}]}" lab_exec client arping -c 1 -w 1 -I eth0 "$V4"
check "ndisc6 gets an answer for an IPv6 address" lab_exec client ndisc6 -q -1 -r 2 -w 500 "$V6" eth0

echo "# who announces what, in the API: L2Announcement records and the Announced condition"
# One record per Service address, naming the node whose MAC the wire answers with.
records_match() {
  local a rec
  for a in $ADDRS; do
    rec=$(lab_kubectl get l2announcements -A -o jsonpath="{range .items[?(@.status.address==\"$a\")]}{.status.node} {.status.macs} {.status.interfaceNames}{\"\\n\"}{end}")
    [[ $(wc -l <<<"$rec") -eq 1 && $rec == "${OWNER[$a]} ${MAC_OF[${OWNER[$a]}]} eth0" ]] || return 1
  done
}
check "every address has one record naming the node, MAC and interface the wire answers with" lab_wait_for 10 records_match
WEB_V4=$(lab_kubectl get svc web1 -o jsonpath='{.status.loadBalancer.ingress[0].ip}')
check "  ...shown by kubectl get with their columns" \
  lab_output_has "web1-$WEB_V4 +web1 +$WEB_V4 +${OWNER[$WEB_V4]} +eth0 +${MAC_OF[${OWNER[$WEB_V4]}]}" \
  lab_kubectl get l2announcements -n default
condition_says() {  # condition_says SERVICE STATUS MESSAGE_REGEX
  local c
  c=$(lab_kubectl get svc "$1" -o jsonpath='{range .status.conditions[?(@.type=="l2announcer.io/Announced")]}{.status} {.message}{end}')
  [[ $c =~ ^$2\ $3 ]]
}
check "Service web1 carries l2announcer.io/Announced=True naming its announcer" \
  lab_wait_for 10 condition_says web1 True ".*$WEB_V4 by ${OWNER[$WEB_V4]}"
check "  ...beside the operator's IPAM condition (merged by type, not replaced)" lab_output_has "IPAMRequestSatisfied" \
  lab_kubectl get svc web1 -o jsonpath='{.status.conditions[*].type}'

echo "# metrics and health"
metric() {  # metric NODE_IP NAME_REGEX: sum of matching samples
  lab_exec client curl -s "http://$1:9611/metrics" | awk -v re="^$2" '$0 ~ re {s += $NF} END {print s + 0}'
}
W1_IP=198.18.0.12
check "/healthz answers" lab_output_has "^ok" lab_exec client curl -sf "http://$W1_IP:9611/healthz"
check "/readyz answers ready" lab_output_has "^ready" lab_exec client curl -sf "http://$W1_IP:9611/readyz"
lab_exec client curl -s "http://$W1_IP:9611/metrics" >"/tmp/$LAB_ID-metrics.txt"
check "/metrics passes promtool check metrics (a real Prometheus parser and linter)" \
  bash -c "promtool check metrics <'/tmp/$LAB_ID-metrics.txt'"
check "the API request counter is exposed" grep -q '^l2a_api_requests_total{verb="list"' "/tmp/$LAB_ID-metrics.txt"
# Requests reach the owner's responder; another node's kernel filter keeps them from its own.
V4_OWNER_IP=${IP_OF[${OWNER[$V4]}]}
OTHER_IP=${IP_OF[$(for n in w1 w2 w3; do [[ $n != "${OWNER[$V4]}" ]] && echo "$n"; done | head -1)]}
before=$(metric "$V4_OWNER_IP" 'l2a_arp_requests_total')
other_before=$(metric "$OTHER_IP" 'l2a_arp_requests_total')
for _ in 1 2 3 4 5; do lab_exec client arping -q -c 1 -w 1 -I eth0 "$V4" >/dev/null 2>&1; done
after=$(metric "$V4_OWNER_IP" 'l2a_arp_requests_total')
other_after=$(metric "$OTHER_IP" 'l2a_arp_requests_total')
check "ARP requests from a client move the owner's counter ($before -> $after)" test "$after" -ge $((before + 5))
check "...and not another node's ($other_before -> $other_after)" test "$other_after" -lt $((other_before + 5))
skipped0=$(metric $W1_IP 'l2a_reconciles_total\{plan="unchanged"')
computed0=$(metric $W1_IP 'l2a_reconciles_total\{plan="computed"')
sleep 2.5
skipped1=$(metric $W1_IP 'l2a_reconciles_total\{plan="unchanged"')
computed1=$(metric $W1_IP 'l2a_reconciles_total\{plan="computed"')
check "a quiet cluster's resyncs skip planning (unchanged $skipped0 -> $skipped1, computed $computed0 -> $computed1)" \
  test "$skipped1" -ge $((skipped0 + 2)) -a "$computed1" -eq "$computed0"
announced=0
for ip in 198.18.0.12 198.18.0.13 198.18.0.14; do announced=$((announced + $(metric $ip 'l2a_announced_addresses'))); done
check "the nodes' l2a_announced_addresses add up to 12" test "$announced" -eq 12

echo "# policy edits move announcements"
lab_kubectl patch l2announcementpolicy seed-policy --type=merge -p '{"spec":{"interfaces":["^nomatch$"]}}' >/dev/null
check "an interfaces regex that matches nothing: nothing announced" lab_wait_for 5 all_unannounced
lab_kubectl patch l2announcementpolicy seed-policy --type=merge -p '{"spec":{"interfaces":["(?i)^ETH0\\z"]}}' >/dev/null
check "back to eth0, named in Go's syntax as Cilium's manifests are ((?i)^ETH0\\z): all announced again" lab_wait_for 5 all_announced_once

echo "# node label changes move announcements"
lab_kubectl label node w1 node-role.kubernetes.io/control-plane= >/dev/null
not_on_w1() { local a; for a in $ADDRS; do [[ $(owner "$a") == w1 ]] && return 1; done; all_announced_once; }
check "w1 labelled control-plane: it announces nothing, the others everything" lab_wait_for 5 not_on_w1
lab_kubectl label node w1 node-role.kubernetes.io/control-plane- >/dev/null
sleep 3
check "label removed: w1 takes nothing back, each address stays with the node that kept it (stickiness)" not_on_w1
check "  ...and explain says why: kept by its holder, rendezvous hashing preferring w1" \
  lab_output_has "kept: .* holds it and may still announce it, so it keeps it \(rendezvous hashing prefers w1" \
  bash -c "for s in web1 web2 web3 web4 web5 web6; do ip netns exec $LAB_LAN env KUBECONFIG=$LAB_KUBECONFIG $L2A explain \$s; done"
w1_share() { local a n=0; for a in $ADDRS; do [[ $(owner "$a") == w1 ]] && n=$((n + 1)); done; echo "$n"; }
w1_back() { all_announced_once && [[ $(w1_share) -gt 0 ]]; }
kill -TERM "${AGENT_PID[w1]}"; wait "${AGENT_PID[w1]}" 2>/dev/null
start_agent w1 --rebalance --rebalance-rate 1
check "w1's agent run with --rebalance takes its share back" lab_wait_for 15 w1_back
lab_wait_for 10 bash -c "[[ \$(grep -c event=announcing /tmp/$LAB_ID-agent-w1.log) -ge 2 ]]"
# At most one a second: the first two it took back are a second apart or more.
gap_ms() {
  grep event=announcing "/tmp/$LAB_ID-agent-w1.log" | head -2 | cut -d' ' -f1 |
    python3 -c 'import sys, datetime; t=[datetime.datetime.fromisoformat(l.strip()) for l in sys.stdin]; print(int((t[1]-t[0]).total_seconds()*1000) if len(t) == 2 else -1)'
}
GAP=$(gap_ms)
check "  ...at the rate asked for, one a second (${GAP} ms between the first two)" test "$GAP" -ge 900
check "  ...counted as rebalanced" test "$(metric "$W1_IP" l2a_rebalanced_total)" -ge 2

echo "# kill -9 of an announcer"
for a in $ADDRS; do OWNER[$a]=$(owner "$a"); done
VICTIM=${OWNER[$FIRST]}
kill -9 "${AGENT_PID[$VICTIM]}"
start=$(date +%s%N)
moved() { local o; o=$(owner "$FIRST"); [[ $o != none && $o != conflict && $o != "$VICTIM" ]]; }
check "its address moves to another worker within lease duration + 1 s" lab_wait_for 4 moved
ms=$((($(date +%s%N) - start) / 1000000))
echo "# fail-over after kill -9 of $VICTIM: ${ms} ms (lease ${LEASE_MS} ms; the killed responder keeps answering only until its process is gone)"
check "  ...measured within $((LEASE_MS + 1000)) ms" test "$ms" -le $((LEASE_MS + 1000))
start_agent "$VICTIM"
check "the restarted agent rejoins: all announced once" lab_wait_for 6 all_announced_once

echo "# SIGTERM of an announcer"
for a in $ADDRS; do OWNER[$a]=$(owner "$a"); done
VICTIM=${OWNER[$FIRST]}
kill -TERM "${AGENT_PID[$VICTIM]}"
start=$(date +%s%N)
check "its address moves within 3 s" lab_wait_for 3 moved
ms=$((($(date +%s%N) - start) / 1000000))
echo "# fail-over after SIGTERM of $VICTIM: ${ms} ms"
check "the agent logged releasing its lease" lab_wait_for 5 grep -q "event=node_lease_released" "/tmp/$LAB_ID-agent-$VICTIM.log"
start_agent "$VICTIM"
lab_wait_for 6 all_announced_once

echo "# externalTrafficPolicy: Local follows the endpoints"
lab_kubectl apply -f - >/dev/null <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: local, namespace: default, labels: {announcement: l2}}
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  ipFamilyPolicy: SingleStack
  ipFamilies: [IPv4]
  selector: {app: local}
  ports: [{port: 80, protocol: TCP}]
YAML
local_ip() { lab_kubectl get svc local -o jsonpath='{.status.loadBalancer.ingress[0].ip}'; }
lab_wait_for 10 bash -c "[[ -n \$(ip netns exec $LAB_LAN env KUBECONFIG=$LAB_KUBECONFIG kubectl get svc local -o jsonpath='{.status.loadBalancer.ingress[0].ip}') ]]"
LOCAL=$(local_ip)
local_owner_is() { [[ $(owner "$LOCAL") == "$1" ]]; }
check "Local service without endpoints: not announced" local_owner_is none
slice() {  # slice NODE: the Local Service's one ready endpoint is on NODE
  if [[ $LAB_CONTROL_PLANE == kube ]]; then
    # A backend Pod there; the real EndpointSlice controller writes the slice.
    lab_kubectl delete pod -l app=local --wait=false >/dev/null 2>&1
    local i=$((11 + ${1#w}))
    lab_backend_pod "$1" "198.18.0.$i" "2001:db8::$i" app=local 80
    return
  fi
  lab_kubectl apply -f - >/dev/null <<YAML
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: local-1, namespace: default, labels: {kubernetes.io/service-name: local}}
addressType: IPv4
endpoints: [{addresses: [198.18.0.50], nodeName: $1, conditions: {ready: true}}]
ports: [{port: 80, protocol: TCP}]
YAML
}
slice w3
check "endpoint on w3: w3 announces it" lab_wait_for 5 local_owner_is w3
slice w2
check "endpoint moved to w2: so does the announcement" lab_wait_for 5 local_owner_is w2

echo "# the announcing interface loses its carrier"
lab_kubectl patch l2announcementpolicy seed-policy --type=merge -p '{"spec":{"interfaces":["^lan1$"]}}' >/dev/null
check "announced on lan1 instead" lab_wait_for 6 all_announced_once
VICTIM=$(owner "$FIRST")
ip -n "$(lab_ns "$VICTIM")" link set lan1 down
start=$(date +%s%N)
check "lan1 down on the announcer: its address moves, its agent still alive" lab_wait_for 3 moved
ms=$((($(date +%s%N) - start) / 1000000))
echo "# move after carrier loss on $VICTIM: ${ms} ms (no lease expiry involved)"
check "  ...the agent published the interface as down" lab_output_has '\"lan1\":\{[^}]*\"up\":false' \
  lab_kubectl get lease -n "$L2A_NS" "l2a-node-$VICTIM" -o jsonpath='{.metadata.annotations.l2announcer\.io/interfaces}'
check "  ...and its lease is still held" kill -0 "${AGENT_PID[$VICTIM]}"
ip -n "$(lab_ns "$VICTIM")" link set lan1 up
lab_kubectl patch l2announcementpolicy seed-policy --type=merge -p '{"spec":{"interfaces":["^eth0$"]}}' >/dev/null
lab_wait_for 6 all_announced_once

echo "# the announcer is cut from the API server but not from the LAN"
VICTIM=$(owner "$FIRST")
ip netns exec "$(lab_ns "$VICTIM")" nft -f - <<'NFT'
table inet cut {
  chain output { type filter hook output priority 0; ip daddr 198.18.0.1 tcp dport 6443 drop; }
}
NFT
start=$(date +%s%N)
check "another node takes over; the cut-off node, frozen, sees its announcement and releases" lab_wait_for 6 moved
ms=$((($(date +%s%N) - start) / 1000000))
echo "# single announcer again ${ms} ms after the cut (lease ${LEASE_MS} ms)"
# It lets go on the new owner's announcement (a conflict it loses), or — hearing its peers'
# heartbeats say its Lease expired — as a hand-over to the node now announcing it.
check "  ...the cut-off agent logged letting the address go" lab_wait_for 2 \
  grep -qE "event=(conflict address=$FIRST .*action=release|handed_over address=$FIRST )" "/tmp/$LAB_ID-agent-$VICTIM.log"
check "  ...every address has exactly one announcer" all_announced_once
ip netns exec "$(lab_ns "$VICTIM")" nft delete table inet cut
check "reconnected: still exactly one announcer each" lab_wait_for 6 all_announced_once

echo "# the API server stops: announcements stay"
lab_api_stop KILL
sleep $(( (LEASE_MS * 2 + 1000) / 1000 ))
check "every address still announced exactly once after 2 lease durations without the API" all_announced_once
check "agents say they are frozen" lab_output_has "node_lease_lost" cat /tmp/$LAB_ID-agent-w*.log
lab_api_start
sleep 3
check "API server back: still exactly one announcer each" lab_wait_for 6 all_announced_once

echo "# a node removed from the cluster: its Lease goes with it"
# The node Lease names its Node (kind, name, uid) as owner, so the garbage collector
# (kube-controller-manager's) deletes it with the Node and it stops counting toward the cluster.
lease_owner() { lab_kubectl get lease "l2a-node-$1" -n "$L2A_NS" -o jsonpath='{range .metadata.ownerReferences[*]}{.apiVersion} {.kind} {.name} {.uid}{end}'; }
owned_by_node() { [[ $(lease_owner "$1") == "v1 Node $1 $(lab_kubectl get node "$1" -o jsonpath='{.metadata.uid}')" ]]; }
check "cp's node Lease names Node cp and its uid as owner" lab_wait_for 5 owned_by_node cp
kill -TERM "${AGENT_PID[cp]}"; wait "${AGENT_PID[cp]}" 2>/dev/null
lab_kubectl delete node cp >/dev/null
lease_gone() { lab_output_has "NotFound" lab_kubectl get lease l2a-node-cp -n "$L2A_NS"; }
check "Node cp deleted: the garbage collector deletes its Lease" lab_wait_for 30 lease_gone
lab_node_object cp 198.18.0.11 2001:db8::11 control-plane
start_agent cp
check "Node cp made again (a new uid) and its agent back: its Lease names the new Node" lab_wait_for 10 owned_by_node cp
sleep 5
check "  ...and stays (the garbage collector finds its owner)" owned_by_node cp
echo "# a Node deleted and made again under the same name while its agent runs"
UID_BEFORE=$(lab_kubectl get node w2 -o jsonpath='{.metadata.uid}')
lab_kubectl delete node w2 >/dev/null
lab_node_object w2 198.18.0.13 2001:db8::13 worker
check "Node w2 has a new uid" test "$(lab_kubectl get node w2 -o jsonpath='{.metadata.uid}')" != "$UID_BEFORE"
check "  ...and w2's running agent names it on its Lease within 10 s" lab_wait_for 10 owned_by_node w2
sleep 5
check "  ...and the Lease stays" owned_by_node w2
check "  ...its agent still running" kill -0 "${AGENT_PID[w2]}"
lab_finish
