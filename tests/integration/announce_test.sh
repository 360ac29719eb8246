#!/usr/bin/env bash
# l2a announce against real clients: the ghost first (nobody answers), then arping, ndisc6,
# ping, curl and the kernel's neighbour table all see the announcing node's MAC, for IPv4 and
# IPv6; the node's own kernel never answers for the service address; release stops answers.
set -u
L2A=${L2A:-build/l2a}
source "$(dirname "$0")/../support/netns_lab.sh"
lab_require_root
lab_init announce
V4=198.18.0.200
V6=2001:db8::200
lab_host node1 198.18.0.11/24 2001:db8::11/64
lab_host client 198.18.0.100/24 2001:db8::100/64
lab_service_address node1 $V4 $V6
lab_http_server node1 "served-by-node1"
MAC1=$(lab_mac node1)

echo "# the ghost: the node accepts traffic for $V4/$V6 but nobody answers ARP/NDP"
check_status "whohas finds no IPv4 owner" 1 lab_exec client "$L2A" whohas --timeout 300 $V4
check_status "whohas finds no IPv6 owner" 1 lab_exec client "$L2A" whohas --timeout 300 $V6
check_status "arping gets no answer" 1 lab_exec client arping -q -c 1 -w 1 -I eth0 $V4
check_status "ndisc6 gets no answer" 2 lab_exec client ndisc6 -q -1 -r 1 -w 300 $V6 eth0
check_status "curl over IPv4 fails" 28 lab_exec client curl -s -m 1 "http://$V4/"

echo "# l2a announce on node1"
lab_spawn node1 /tmp/$LAB_ID-announce.log "$L2A" announce -i '^eth0$' $V4 $V6
ANNOUNCER=$LAB_LAST_PID
check "whohas names node1 within 3 s" lab_wait_for 3 lab_exec client "$L2A" whohas --timeout 200 $V4
check "whohas prints node1's MAC" lab_output_has "$MAC1" lab_exec client "$L2A" whohas $V4
check "arping sees node1's MAC" lab_output_has "$MAC1" lab_exec client arping -c 1 -w 1 -I eth0 $V4
check "ndisc6 sees node1's MAC" lab_output_has "Target link-layer address: $MAC1" \
  lab_exec client ndisc6 -1 -r 2 -w 500 $V6 eth0
check "ping over IPv4 answers" lab_exec client ping -c 1 -W 2 $V4
check "ping over IPv6 answers" lab_exec client ping -c 1 -W 2 $V6
check "kernel neighbour table has node1's MAC for $V4" lab_neigh_is client $V4 "$MAC1"
check "kernel neighbour table has node1's MAC for $V6" lab_neigh_is client $V6 "$MAC1"
check "curl over IPv4 reaches node1" lab_output_has served-by-node1 lab_exec client curl -sf -m 3 "http://$V4/"
check "curl over IPv6 reaches node1" lab_output_has served-by-node1 lab_exec client curl -sf -m 3 "http://[$V6]/"
JSON=$(lab_exec client "$L2A" whohas -o json $V6)
check "whohas --output json names one owner" python3 -c "
import json,sys; d=json.loads(sys.argv[1]); assert d['verdict']=='owned', d
assert [o['mac'] for o in d['owners']]==['$MAC1'], d" "$JSON"
arp_answers() { lab_exec client arping -c 2 -w 2 -I eth0 $V4 | grep -ci "$MAC1"; }
check "two ARP requests get exactly two answers (the node's kernel stays silent)" \
  test "$(arp_answers)" = 2

echo "# release"
kill -TERM $ANNOUNCER
wait $ANNOUNCER
check "announce exits 0 on SIGTERM" test $? -eq 0
check "announce logged its release" grep -q "event=released address=$V4" /tmp/$LAB_ID-announce.log
check_status "whohas finds no IPv4 owner after release" 1 lab_exec client "$L2A" whohas --timeout 300 $V4
check_status "whohas finds no IPv6 owner after release" 1 lab_exec client "$L2A" whohas --timeout 300 $V6
rm -f /tmp/$LAB_ID-announce.log
lab_finish
