#!/usr/bin/env bash
# whohas exit statuses (0 one owner, 1 nobody, 2 conflict), probing from a host without an
# IPv4 address (RFC 5227 probe), and take-over: when node2 starts announcing after node1
# stopped, the client's kernel neighbour cache moves to node2 from the gratuitous ARP /
# unsolicited NA alone, without waiting for the entry to expire.
set -u
L2A=${L2A:-build/l2a}
source "$(dirname "$0")/../support/netns_lab.sh"
lab_require_root
lab_init whohas
V4=198.18.0.201
V6=2001:db8::201
lab_host node1 198.18.0.11/24 2001:db8::11/64
lab_host node2 198.18.0.12/24 2001:db8::12/64
lab_host client 198.18.0.100/24 2001:db8::100/64
lab_host bare  # no addresses at all
lab_service_address node1 $V4 $V6
lab_service_address node2 $V4 $V6
MAC1=$(lab_mac node1)
MAC2=$(lab_mac node2)

check_status "nobody: exit 1" 1 lab_exec client "$L2A" whohas --timeout 300 $V4

lab_spawn node1 /tmp/$LAB_ID-n1.log "$L2A" announce -i eth0 $V4 $V6
N1=$LAB_LAST_PID
check "node1 answers" lab_wait_for 3 lab_exec client "$L2A" whohas --timeout 200 $V6
check_status "one owner: exit 0" 0 lab_exec client "$L2A" whohas --timeout 300 $V4
check_status "probe from a host without IPv4 (sender 0.0.0.0): exit 0" 0 \
  lab_exec bare "$L2A" whohas --interface eth0 --timeout 300 $V4
check_status "NS from a host without global IPv6: exit 0" 0 \
  lab_exec bare "$L2A" whohas --interface eth0 --timeout 300 $V6
check "client learns node1 for IPv4" lab_exec client ping -c 1 -W 2 $V4
check "client learns node1 for IPv6" lab_exec client ping -c 1 -W 2 $V6
check "neighbour entry is node1 (IPv4)" lab_neigh_is client $V4 $MAC1

lab_spawn node2 /tmp/$LAB_ID-n2.log "$L2A" announce -i eth0 $V4 $V6
N2=$LAB_LAST_PID
sleep 0.5
check_status "two owners: exit 2 (IPv4 conflict)" 2 lab_exec client "$L2A" whohas --timeout 500 $V4
check_status "two owners: exit 2 (IPv6 conflict)" 2 lab_exec client "$L2A" whohas --timeout 500 $V6
OUT=$(lab_exec client "$L2A" whohas --timeout 500 -o json $V4)
check "json lists both MACs in a conflict" python3 -c "
import json,sys; d=json.loads(sys.argv[1]); assert d['verdict']=='conflict', d
assert sorted(o['mac'] for o in d['owners'])==sorted(['$MAC1','$MAC2']), d" "$OUT"

kill -TERM $N1 $N2
wait $N1 $N2
check_status "released: exit 1" 1 lab_exec client "$L2A" whohas --timeout 300 $V4

echo "# take-over: node1 answers, then node2 takes over; the client sends nothing meanwhile"
lab_spawn node1 /tmp/$LAB_ID-n1.log "$L2A" announce -i eth0 $V4 $V6
N1=$LAB_LAST_PID
check "node1 answers again" lab_wait_for 3 lab_exec client "$L2A" whohas --timeout 200 $V4
check "client reaches node1 over IPv4" lab_exec client ping -c 1 -W 2 $V4
check "client reaches node1 over IPv6" lab_exec client ping -c 1 -W 2 $V6
check "client cache: node1 (IPv4)" lab_neigh_is client $V4 $MAC1
check "client cache: node1 (IPv6)" lab_neigh_is client $V6 $MAC1
kill -TERM $N1
wait $N1
sleep 1.1  # past the neighbour table's locktime (1 s), so an update may override
lab_spawn node2 /tmp/$LAB_ID-n2.log "$L2A" announce -i eth0 $V4 $V6
N2=$LAB_LAST_PID
check "client cache moves to node2 for IPv4 from the gratuitous ARP" \
  lab_wait_for 2 lab_neigh_is client $V4 $MAC2
check "client cache moves to node2 for IPv6 from the unsolicited NA" \
  lab_wait_for 2 lab_neigh_is client $V6 $MAC2
check "client reaches node2 over IPv4" lab_exec client ping -c 1 -W 2 $V4
rm -f /tmp/$LAB_ID-n1.log /tmp/$LAB_ID-n2.log
lab_finish
