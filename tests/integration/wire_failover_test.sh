#!/usr/bin/env bash
# Node liveness on the wire (wire/heartbeats.h), on three nodes with their defaults but for the
# heartbeat key: the node announcing the Service is taken off the LAN silently (its switch port
# removed: no carrier change on the node, its Lease still live for 4 s) and another node answers
# well within a second — the client's probe measures it; back on the LAN it is held down and
# the address stays where it went; a one-way cut (the node hears the LAN but is not heard) ends
# with exactly one node answering; with the API server down the survivors still take over; on a
# second segment, a node cut off that segment only loses its addresses there (its interface is
# judged, not the node); heartbeats signed with another key are counted and ignored.
set -u
cd "$(dirname "$0")/../.."
source tests/support/netns_lab.sh
source tests/support/failover_lab.sh
lab_require_root
lab_init wire
printf 'right-key\n' >"/tmp/$LAB_ID-key"
printf 'wrong-key\n' >"/tmp/$LAB_ID-wrong-key"
# eth1 too: the second segment comes later (two segments, below).
FO_AGENT_ARGS=(--heartbeat-key-file "/tmp/$LAB_ID-key" --interface '^eth1$')
fo_setup 3 || { echo "FAIL - the fail-over lab did not come up"; exit 1; }
fo_start_agents || { echo "FAIL - the agents did not become ready"; exit 1; }
mapfile -t ADDRESSES < <(fo_service_addresses)
V4=${ADDRESSES[0]}
hears_all() { [[ $(fo_metric "$1" '^l2a_peer_heard\{') -eq 2 ]]; }
for n in "${FO_NODES[@]}"; do check "$n hears both other agents' heartbeats" lab_wait_for 10 hears_all "$n"; done
check "one node answers for $V4" lab_wait_for 15 fo_owner "$V4"
OWNER=$(fo_owner "$V4")
echo "     $OWNER announces $V4"

# silent_cut NAME: the prober watches while OWNER's switch port is taken off the LAN for 3 s
# (it stays off); sets GAP (longest TCP outage on V4, ms) and LOST.
silent_cut() {
  local probe=/tmp/$LAB_ID-probe-${1// /-}
  fo_probe_start "$probe" "${ADDRESSES[@]}"
  sleep 1
  ip -n "$LAB_LAN" link set "v-$OWNER" nomaster
  sleep 3
  fo_probe_stop
  read -r _ GAP LOST _ <<<"$(fo_probe_figures "$probe" | grep "^$V4 ")"
  echo "     $1: longest TCP outage ${GAP} ms, ${LOST} requests lost"
}

# --- a silent cut ---------------------------------------------------------------------------
silent_cut "silent cut"
check "a silent cut of $OWNER fails over well within a second (longest TCP outage ${GAP} ms < 1000)" test "${GAP:-99999}" -lt 1000
NEW=$(fo_owner "$V4")
check "another node answers now ($NEW)" test -n "$NEW" -a "$NEW" != "$OWNER"
check "  ...and counts it as a take-over the wire caused" test "$(fo_metric "$NEW" '^l2a_takeovers_total\{cause="wire"\}')" -ge 1
check "  ...with the Lease of $OWNER still live (the wire alone moved it)" \
  lab_output_has "$OWNER" lab_kubectl get lease -n "$L2A_NS" "l2a-node-$OWNER" -o jsonpath='{.spec.holderIdentity}'
explain_json() { ip netns exec "$(lab_ns client)" env KUBECONFIG="$LAB_KUBECONFIG" "$FO_BUILD/l2a" explain probe --probe -o json; }
wire_field() {  # wire_field KEY: the wire report on $V4, from explain --probe
  explain_json | python3 -c "import json,sys; a=[x for x in json.load(sys.stdin)['addresses'] if x['address'] == '$V4'][0]; print(' '.join(a['wire']['$1']) if isinstance(a['wire']['$1'], list) else a['wire']['$1'], a['probe']['result'])"
}
check "l2a explain --probe hears the heartbeats and names $OWNER held dead on the wire" lab_output_has "\b$OWNER\b" wire_field accused
check "  ...and its announcer by the wire ($NEW) is the one that answered" lab_output_has "^$NEW the expected node answered" wire_field owner
ip -n "$LAB_LAN" link set "v-$OWNER" master br0
sleep 3
check "back on the LAN, $OWNER is held down: the address stays on $NEW" test "$(fo_owner "$V4")" = "$NEW"
check "  ...and exactly one node answers (no two MACs)" fo_owner "$V4"
check "  ...$OWNER counts its peers' silence as nothing (it heard nobody, it judged nobody)" \
  test "$(fo_metric "$OWNER" '^l2a_wire_dead_transitions_total')" -eq 0

# --- a one-way cut --------------------------------------------------------------------------
ip netns exec "$LAB_LAN" nft add table bridge oneway
ip netns exec "$LAB_LAN" nft add chain bridge oneway forward '{ type filter hook forward priority 0; }'
ip netns exec "$LAB_LAN" nft add rule bridge oneway forward iifname "v-$NEW" drop
sleep 2
owners() { lab_exec client "$FO_BUILD/l2a" whohas "$V4" -i eth0 --timeout 300 -o json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["owners"]))'; }
check "a one-way cut of $NEW ends with exactly one node answering ($(owners) now)" test "$(owners)" = 1
LAST=$(fo_owner "$V4")
check "  ...one the others hear ($LAST)" test -n "$LAST" -a "$LAST" != "$NEW"
check "  ...and $NEW stands aside: it announces nothing" test "$(fo_metric "$NEW" '^l2a_announced_addresses')" -eq 0
ip netns exec "$LAB_LAN" nft delete table bridge oneway

# --- a silent cut while the API server is down ------------------------------------------------
sleep 11  # every hold-down over
lab_api_stop
wire_only() { [[ $(fo_metric "$1" '^l2a_wire_only') -eq 1 ]]; }
for n in "${FO_NODES[@]}"; do check "API server down: $n is frozen but decides by the wire" lab_wait_for 15 wire_only "$n"; done
OWNER=$(fo_owner "$V4")
silent_cut "silent cut with the API server down"
check "with the API server down, a silent cut of $OWNER still fails over within a second (${GAP} ms)" test "${GAP:-99999}" -lt 1000
OUTAGE_NEW=$(fo_owner "$V4")
check "  ...to a node that hears the others ($OUTAGE_NEW)" test -n "$OUTAGE_NEW" -a "$OUTAGE_NEW" != "$OWNER"
ip -n "$LAB_LAN" link set "v-$OWNER" master br0
lab_api_start
not_wire_only() { [[ $(fo_metric "$1" '^l2a_wire_only') -eq 0 ]]; }
for n in "${FO_NODES[@]}"; do check "API server back: $n decides by its Lease again" lab_wait_for 30 not_wire_only "$n"; done
sleep 2
check "  ...and exactly one node answers for $V4" fo_owner "$V4"

# --- two segments: a node cut off one of them only -------------------------------------------
# A second switch (br1): every node and the client get eth1 on it; a Service announced there
# only. Its owner's eth1 switch port is taken away: the node is still heard on eth0, so it is
# not dead — its eth1 is, for every observer, and the address moves to another node's eth1.
for n in "${FO_NODES[@]}"; do lab_add_port "$n" eth1 br1; done
lab_add_port client eth1 br1
ip -n "$(lab_ns client)" addr add 198.19.100.100/24 dev eth1
lab_kubectl patch l2announcementpolicy probe-policy --type merge \
  -p '{"spec":{"serviceSelector":{"matchLabels":{"io.kubernetes.service.name":"probe"}}}}' >/dev/null
lab_kubectl apply -f - >/dev/null <<'YAML'
apiVersion: l2announcer.io/v1alpha1
kind: LoadBalancerIPPool
metadata: {name: segment2-pool}
spec:
  blocks: [{cidr: 198.19.100.128/28}]
---
apiVersion: l2announcer.io/v1alpha1
kind: L2AnnouncementPolicy
metadata: {name: segment2-policy}
spec:
  serviceSelector: {matchLabels: {io.kubernetes.service.name: segment2}}
  interfaces: ["^eth1$"]
  loadBalancerIPs: true
---
apiVersion: v1
kind: Service
metadata:
  name: segment2
  namespace: default
  annotations: {l2announcer.io/ips: 198.19.100.130}
spec:
  type: LoadBalancer
  ipFamilyPolicy: SingleStack
  ipFamilies: [IPv4]
  ports: [{name: http, port: 80, protocol: TCP}]
YAML
S2=198.19.100.130
s2_owner() {  # the one node whose eth1 answers ARP for $S2 on the second segment
  local macs n
  macs=$(lab_exec client arping -c 3 -w 2 -I eth1 "$S2" 2>/dev/null | grep -oiE '([0-9a-f]{2}:){5}[0-9a-f]{2}' | tr 'A-F' 'a-f' | sort -u)
  [[ $(wc -w <<<"$macs") -eq 1 ]] || return 1
  for n in "${FO_NODES[@]}"; do [[ $(lab_mac "$n" eth1) == "$macs" ]] && { echo "$n"; return 0; }; done
  return 1
}
check "a node's eth1 answers ARP for $S2 on the second segment" lab_wait_for 20 s2_owner
S2_OWNER=$(s2_owner)
PROBE_OWNER=$(fo_owner "$V4")
echo "     $S2_OWNER announces $S2 on eth1; $PROBE_OWNER announces $V4 on eth0"
S2_PROBE=/tmp/$LAB_ID-probe-segment2
FO_PROBE_INTERFACE=eth1 fo_probe_start "$S2_PROBE" "$S2"
sleep 1
ip -n "$LAB_LAN" link set "v-$S2_OWNER-eth1" nomaster
sleep 3
fo_probe_stop
read -r _ _ _ S2_SILENT _ <<<"$(fo_probe_figures "$S2_PROBE")"
moved() { local o; o=$(s2_owner) && [[ $o != "$S2_OWNER" ]]; }
check "$S2_OWNER cut off the second segment only: another node's eth1 answers for $S2" moved
check "  ...well within a second (nobody answered ARP for ${S2_SILENT} ms < 1000)" test "${S2_SILENT:-99999}" -lt 1000
S2_NEW=$(s2_owner)
silent_not_dead() {
  [[ $(fo_metric "$S2_NEW" "^l2a_peer_interfaces_silent\\{peer=\"$S2_OWNER\"\\}") -eq 1 &&
     $(fo_metric "$S2_NEW" "^l2a_peer_excluded\\{peer=\"$S2_OWNER\"\\}") -eq 0 ]]
}
check "  ...counted by $S2_NEW as one interface of $S2_OWNER gone silent, not the node" silent_not_dead
check "  ...and $V4 on the first segment stays with $PROBE_OWNER" test "$(fo_owner "$V4")" = "$PROBE_OWNER"
ip -n "$LAB_LAN" link set "v-$S2_OWNER-eth1" master br1
sleep 3
check "back on the second segment, $S2_OWNER's eth1 is held down: $S2 stays on $S2_NEW" test "$(s2_owner)" = "$S2_NEW"

# --- a wrong key ----------------------------------------------------------------------------
STRAY=node3
fo_stop_agent "$STRAY" TERM
FO_AGENT_ARGS=(--heartbeat-key-file "/tmp/$LAB_ID-wrong-key")
fo_start_agent "$STRAY"
rejected() { [[ $(fo_metric node1 '^l2a_heartbeats_rejected_total\{reason="bad_hmac"\}') -gt 0 ]]; }
check "heartbeats signed with another key are counted as rejected" lab_wait_for 10 rejected
heard_stray() { fo_metric node1 "^l2a_heartbeats_received_total\\{peer=\"$STRAY\"\\}"; }
BEFORE=$(heard_stray)
sleep 1
check "  ...and give node1 no word of $STRAY (heard ${BEFORE} before the new key, $(heard_stray) now)" \
  test "$(heard_stray)" = "$BEFORE"
lab_finish
