#!/usr/bin/env bash
# Drain, on three nodes against kube-apiserver with the client's prober running: `l2a drain` of
# the node announcing the Service moves its addresses make before break — no request lost — and
# the drained node announces nothing until `l2a uncordon`; a cordoned node and one labelled
# node.kubernetes.io/exclude-from-external-load-balancers are avoided alike, unless every agent
# runs with --avoid-cordoned-nodes=false; `l2a explain` says why the node is left out.
set -u
cd "$(dirname "$0")/../.."
source tests/support/netns_lab.sh
source tests/support/failover_lab.sh
lab_require_root
lab_init drain
fo_setup 3 || { echo "FAIL - the fail-over lab did not come up"; exit 1; }
fo_start_agents || { echo "FAIL - the agents did not become ready"; exit 1; }
mapfile -t ADDRESSES < <(fo_service_addresses)
V4=${ADDRESSES[0]}
V6=${ADDRESSES[1]}
metric() {  # metric NODE PATTERN: the sum of the agent's samples matching PATTERN
  lab_exec "$1" curl -sf http://127.0.0.1:9611/metrics | awk -v p="$2" '$0 ~ p && $1 !~ /^#/ {s += $NF} END {print s + 0}'
}
l2a_user() { ip netns exec "$(lab_ns client)" env KUBECONFIG="$LAB_KUBECONFIG" "$FO_BUILD/l2a" "$@"; }
both_owned_by() { [[ $(fo_owner "$V4") == "$1" && $(fo_owner "$V6") == "$1" ]]; }
neither_owned_by() { local a o; for a in "$V4" "$V6"; do o=$(fo_owner "$a") || return 1; [[ $o != "$1" ]] || return 1; done; }
check "one node answers for $V4 and $V6" lab_wait_for 15 both_owned_by "$(fo_owner "$V4")"
OWNER=$(fo_owner "$V4")
echo "     $OWNER announces both addresses (rendezvous hashing puts them there)"

# watched NAME leave|return CMD...: runs CMD while the prober watches, waits until OWNER answers
# for neither address (leave) or for both again (return), then 1 s more; sets LOST (both
# addresses) and GAP.
watched() {
  local name=$1 probe=/tmp/$LAB_ID-probe-$1 until=neither_owned_by
  [[ $2 == return ]] && until=both_owned_by
  shift 2
  fo_probe_start "$probe" "$V4" "$V6"
  sleep 1
  "$@" >"/tmp/$LAB_ID-$name.out" 2>&1
  lab_wait_for 10 "$until" "$OWNER"
  local moved=$?
  sleep 1
  fo_probe_stop
  LOST=0 GAP=0
  local address gap lost rest
  while read -r address gap lost rest; do
    LOST=$((LOST + lost))
    ((gap > GAP)) && GAP=$gap
  done < <(fo_probe_figures "$probe")
  echo "     $name: ${LOST} requests lost, longest TCP outage ${GAP} ms"
  return $moved
}

echo "# l2a drain"
check "l2a drain $OWNER: both addresses leave it" watched drain leave l2a_user drain "$OWNER"
check "  ...it says so in one line" grep -q "^node/$OWNER drained: " "/tmp/$LAB_ID-drain.out"
check "  ...make before break: no request lost (lost $LOST, longest TCP outage $GAP ms)" test "$LOST" -eq 0
NEW=$(fo_owner "$V4")
check "  ...$NEW took them, counted as a take-over by drain" test "$(metric "$NEW" '^l2a_takeovers_total\{cause="drain"\}')" -ge 1
check "  ...$OWNER announces nothing" lab_wait_for 5 test "$(metric "$OWNER" '^l2a_announced_addresses ')" -eq 0
check "  ...the Node carries the label" lab_output_has true \
  lab_kubectl get node "$OWNER" -o jsonpath='{.metadata.labels.l2announcer\.io/drain}'
check "  ...l2a explain says why $OWNER is left out" lab_output_has "excluded $OWNER: drained \(label l2announcer.io/drain" \
  l2a_user explain probe
sleep 3
check "  ...and it stays so" neither_owned_by "$OWNER"
check_status "l2a drain again: exit 0, it was already drained" 0 l2a_user drain "$OWNER"
check "  ...in one line" lab_output_has "^node/$OWNER was already drained$" l2a_user drain "$OWNER"
check_status "l2a drain of a node that does not exist: exit 1" 1 l2a_user drain no-such-node
check "  ...naming it" lab_output_has "^l2a: error: node no-such-node not found$" l2a_user drain no-such-node

echo "# l2a uncordon"
check "l2a uncordon $OWNER: allowed back, its addresses return" watched uncordon return l2a_user uncordon "$OWNER"
check "  ...make before break: no request lost (lost $LOST, longest TCP outage $GAP ms)" test "$LOST" -eq 0
check "  ...the label is gone" test -z "$(lab_kubectl get node "$OWNER" -o jsonpath='{.metadata.labels.l2announcer\.io/drain}')"

echo "# kubectl cordon and the exclude-from-external-load-balancers label"
check "kubectl cordon $OWNER: its addresses leave it" watched cordon leave lab_kubectl cordon "$OWNER"
check "  ...no request lost (lost $LOST)" test "$LOST" -eq 0
check "l2a uncordon tells that the node is still cordoned" \
  lab_output_has "^node/$OWNER is still cordoned \(spec.unschedulable\)" l2a_user uncordon "$OWNER"
check "kubectl uncordon $OWNER: they return" watched uncordon2 return lab_kubectl uncordon "$OWNER"
check "labelled exclude-from-external-load-balancers: they leave it" \
  watched exclude leave lab_kubectl label node "$OWNER" node.kubernetes.io/exclude-from-external-load-balancers=
check "  ...no request lost (lost $LOST)" test "$LOST" -eq 0
lab_kubectl label node "$OWNER" node.kubernetes.io/exclude-from-external-load-balancers- >/dev/null
check "the label removed: they return" lab_wait_for 10 both_owned_by "$OWNER"

echo "# agents run with --avoid-cordoned-nodes=false"
FO_AGENT_ARGS=(--avoid-cordoned-nodes=false)
for n in "${FO_NODES[@]}"; do fo_stop_agent "$n" TERM; fo_start_agent "$n"; done
for n in "${FO_NODES[@]}"; do lab_wait_for 20 fo_agent_ready "$n"; done
check "restarted: $OWNER announces both addresses again" lab_wait_for 15 both_owned_by "$OWNER"
lab_kubectl cordon "$OWNER" >/dev/null
sleep 3
check "cordoned, $OWNER keeps them" both_owned_by "$OWNER"
check "  ...and explain agrees when told the same" lab_output_has "announcer: $OWNER on" \
  l2a_user explain probe --avoid-cordoned-nodes=false
lab_kubectl uncordon "$OWNER" >/dev/null
lab_finish
