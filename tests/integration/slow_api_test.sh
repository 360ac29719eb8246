#!/usr/bin/env bash
# A slow kube-apiserver (the fault proxy answering every request late), two agents with a 4 s
# node Lease (renew deadline 3 s, retry period 1 s): 1.2 s late for 8 s — longer than a retry
# period, within the renew deadline — no agent loses its Lease or freezes, the address stays
# where it is (each request of a renewal may take what is left until the renew deadline, as
# client-go allows); 4 s late for 6 s — past the deadline, the control that the delay reaches
# the agents' Lease requests — both lose their Leases (frozen, still answering), and hold them
# again once the API server is quick. The lab API server's counterpart is kube_client_lab's
# ASlowApiServerWithinTheRenewDeadlineKeepsTheLeaseHeld.
set -u
cd "$(dirname "$0")/../.."
export CONTROL_PLANE=kube  # the fault proxy in front of kube-apiserver
source tests/support/netns_lab.sh
source tests/support/failover_lab.sh
lab_require_root
lab_init slowapi
fo_setup 2 || { echo "FAIL - the fail-over lab did not come up"; exit 1; }
fo_start_agents || { echo "FAIL - the agents did not become ready"; exit 1; }
mapfile -t ADDRESSES < <(fo_service_addresses)
V4=${ADDRESSES[0]}
check "one node answers for $V4" lab_wait_for 15 fo_owner "$V4"
OWNER=$(fo_owner "$V4")
echo "     $OWNER announces $V4"

metric() {  # metric NODE NAME: the agent's gauge
  lab_exec "$1" curl -sf --max-time 2 http://127.0.0.1:9611/metrics | awk -v g="$2" '$1 == g {print int($2)}'
}
lost() { cat "/tmp/$LAB_ID"-agent-*.log | grep -c "event=node_lease_lost"; }
held_by_all() { local n; for n in "${FO_NODES[@]}"; do [[ $(metric "$n" l2a_node_lease_held) == 1 ]] || return 1; done; }
check "both agents hold their node Lease" lab_wait_for 10 held_by_all
# How late the proxy answers now (ms): what the agents' requests wait.
late_ms() {
  ip netns exec "$LAB_LAN" curl -sk -o /dev/null -w '%{time_total}' https://198.18.0.1:6444/version |
    awk '{print int($1 * 1000)}'
}

# --- 1.2 s late: within the renew deadline ---------------------------------------------------
LOST0=$(lost)
check "the fault proxy delays every request 1.2 s for 8 s" lab_api_admin "fault?mode=delay&delayMs=1200&seconds=8"
LATE=$(late_ms)
FROZE=0
for ((i = 0; i < 16; i++)); do  # 8 s, both agents' l2a_frozen every half second
  for n in "${FO_NODES[@]}"; do [[ $(metric "$n" l2a_frozen) == 0 ]] || FROZE=1; done
  sleep 0.5
done
check "the fault proxy is quick again" lab_api_admin "fault?mode=none"
check "the API server answered ${LATE} ms late (>= 1200)" test "$LATE" -ge 1200
check "  ...and no agent lost its node Lease ($(( $(lost) - LOST0 )) lost)" test "$(lost)" -eq "$LOST0"
check "  ...nor froze" test "$FROZE" -eq 0
check "  ...and $V4 stayed with $OWNER" test "$(fo_owner "$V4")" = "$OWNER"

# --- 4 s late: past the renew deadline (the control) ------------------------------------------
sleep 2
LOST0=$(lost)
check "the fault proxy delays every request 4 s for 6 s" lab_api_admin "fault?mode=delay&delayMs=4000&seconds=6"
lost_by_all() { [[ $(( $(lost) - LOST0 )) -ge ${#FO_NODES[@]} ]]; }
check "4 s late: both agents lose their node Lease" lab_wait_for 8 lost_by_all
check "  ...and $OWNER, frozen, still answers for $V4" test "$(fo_owner "$V4")" = "$OWNER"
check "the fault proxy is quick again" lab_api_admin "fault?mode=none"
check "quick again: both agents hold their node Lease" lab_wait_for 20 held_by_all
check "  ...and one node answers for $V4" lab_wait_for 10 fo_owner "$V4"
lab_finish
