#!/usr/bin/env bash
# Node liveness on the wire (wire/heartbeats.h), on three nodes with their defaults but for the
# heartbeat key: the node announcing the Service is taken off the LAN silently (its switch port
# removed: no carrier change on the node, its Lease still live for 4 s) and another node answers
# well within a second — the client's probe measures it; back on the LAN it is held down and
# the address stays where it went; a one-way cut (the node hears the LAN but is not heard) ends
# with exactly one node answering; heartbeats signed with another key are counted and ignored.
set -u
cd "$(dirname "$0")/../.."
source tests/support/netns_lab.sh
source tests/support/failover_lab.sh
lab_require_root
lab_init wire
printf 'right-key\n' >"/tmp/$LAB_ID-key"
printf 'wrong-key\n' >"/tmp/$LAB_ID-wrong-key"
FO_AGENT_ARGS=(--heartbeat-key-file "/tmp/$LAB_ID-key")
fo_setup 3 || { echo "FAIL - the fail-over lab did not come up"; exit 1; }
fo_start_agents || { echo "FAIL - the agents did not become ready"; exit 1; }
mapfile -t ADDRESSES < <(fo_service_addresses)
V4=${ADDRESSES[0]}
metric() {  # metric NODE PATTERN: the sum of the agent's samples matching PATTERN
  lab_exec "$1" curl -sf http://127.0.0.1:9611/metrics | awk -v p="$2" '$0 ~ p && $1 !~ /^#/ {s += $NF} END {print s + 0}'
}
hears_all() { [[ $(metric "$1" '^l2a_peer_heard\{') -eq 2 ]]; }
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
check "  ...and counts it as a take-over the wire caused" test "$(metric "$NEW" '^l2a_takeovers_total\{cause="wire"\}')" -ge 1
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
  test "$(metric "$OWNER" '^l2a_wire_dead_transitions_total')" -eq 0

# --- a one-way cut --------------------------------------------------------------------------
ip netns exec "$LAB_LAN" nft add table bridge oneway
ip netns exec "$LAB_LAN" nft add chain bridge oneway forward '{ type filter hook forward priority 0; }'
ip netns exec "$LAB_LAN" nft add rule bridge oneway forward iifname "v-$NEW" drop
sleep 2
owners() { lab_exec client "$FO_BUILD/l2a" whohas "$V4" -i eth0 --timeout 300 -o json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["owners"]))'; }
check "a one-way cut of $NEW ends with exactly one node answering ($(owners) now)" test "$(owners)" = 1
LAST=$(fo_owner "$V4")
check "  ...one the others hear ($LAST)" test -n "$LAST" -a "$LAST" != "$NEW"
check "  ...and $NEW stands aside: it announces nothing" test "$(metric "$NEW" '^l2a_announced_addresses')" -eq 0
ip netns exec "$LAB_LAN" nft delete table bridge oneway

# --- a silent cut while the API server is down ------------------------------------------------
sleep 11  # every hold-down over
lab_api_stop
wire_only() { [[ $(metric "$1" '^l2a_wire_only') -eq 1 ]]; }
for n in "${FO_NODES[@]}"; do check "API server down: $n is frozen but decides by the wire" lab_wait_for 15 wire_only "$n"; done
OWNER=$(fo_owner "$V4")
silent_cut "silent cut with the API server down"
check "with the API server down, a silent cut of $OWNER still fails over within a second (${GAP} ms)" test "${GAP:-99999}" -lt 1000
OUTAGE_NEW=$(fo_owner "$V4")
check "  ...to a node that hears the others ($OUTAGE_NEW)" test -n "$OUTAGE_NEW" -a "$OUTAGE_NEW" != "$OWNER"
ip -n "$LAB_LAN" link set "v-$OWNER" master br0
lab_api_start
not_wire_only() { [[ $(metric "$1" '^l2a_wire_only') -eq 0 ]]; }
for n in "${FO_NODES[@]}"; do check "API server back: $n decides by its Lease again" lab_wait_for 30 not_wire_only "$n"; done
sleep 2
check "  ...and exactly one node answers for $V4" fo_owner "$V4"

# --- a wrong key ----------------------------------------------------------------------------
STRAY=node3
fo_stop_agent "$STRAY" TERM
FO_AGENT_ARGS=(--heartbeat-key-file "/tmp/$LAB_ID-wrong-key")
fo_start_agent "$STRAY"
rejected() { [[ $(metric node1 '^l2a_heartbeats_rejected_total\{reason="bad_hmac"\}') -gt 0 ]]; }
check "heartbeats signed with another key are counted as rejected" lab_wait_for 10 rejected
heard_stray() { metric node1 "^l2a_heartbeats_received_total\\{peer=\"$STRAY\"\\}"; }
BEFORE=$(heard_stray)
sleep 1
check "  ...and give node1 no word of $STRAY (heard ${BEFORE} before the new key, $(heard_stray) now)" \
  test "$(heard_stray)" = "$BEFORE"
lab_finish
