#!/usr/bin/env bash
# Interface selection and link following: an interface without any IP address, a macvlan
# device, the regex choosing one interface among several, an interface that appears after
# start, one that goes down and comes back up (re-announced), one that is deleted.
# (VLAN and bond devices cannot be created on this kernel: CONFIG_VLAN_8021Q and
# CONFIG_BONDING are off. See docs/testing.md.)
set -u
L2A=${L2A:-build/l2a}
source "$(dirname "$0")/../support/netns_lab.sh"
lab_require_root
lab_init ifaces
V4=198.18.0.202
V6=2001:db8::202
lab_host node1 198.18.0.11/24 2001:db8::11/64
lab_host client 198.18.0.100/24 2001:db8::100/64
lab_add_port node1 lan2
lab_service_address node1 $V4 $V6
MAC_ETH0=$(lab_mac node1 eth0)
MAC_LAN2=$(lab_mac node1 lan2)

echo "# only the selected interface answers, and it needs no IP address"
lab_spawn node1 /tmp/$LAB_ID-a.log "$L2A" announce -i '^lan2$' $V4 $V6
PID=$LAB_LAST_PID
check "lan2 (no address) answers ARP" lab_wait_for 3 lab_output_has "$MAC_LAN2" lab_exec client "$L2A" whohas --timeout 200 $V4
check "lan2 answers NDP" lab_output_has "$MAC_LAN2" lab_exec client "$L2A" whohas --timeout 300 $V6
check_status "exactly one owner: eth0 does not answer" 0 lab_exec client "$L2A" whohas --timeout 300 $V4
kill -TERM $PID; wait $PID

echo "# a macvlan device"
ip -n "$(lab_ns node1)" link add link eth0 name mv0 type macvlan mode bridge
ip -n "$(lab_ns node1)" link set mv0 up
MAC_MV0=$(lab_mac node1 mv0)
lab_spawn node1 /tmp/$LAB_ID-b.log "$L2A" announce -i '^mv0$' $V4 $V6
PID=$LAB_LAST_PID
check "macvlan answers ARP with its own MAC" lab_wait_for 3 lab_output_has "$MAC_MV0" lab_exec client "$L2A" whohas --timeout 200 $V4
check "macvlan answers NDP with its own MAC" lab_output_has "$MAC_MV0" lab_exec client "$L2A" whohas --timeout 300 $V6
kill -TERM $PID; wait $PID

echo "# an interface that appears after start, then goes down, up, and away"
lab_spawn node1 /tmp/$LAB_ID-c.log "$L2A" announce -i '^late0$' $V4 $V6
PID=$LAB_LAST_PID
sleep 0.3
check_status "nothing answers before late0 exists" 1 lab_exec client "$L2A" whohas --timeout 300 $V4
lab_add_port node1 late0
MAC_LATE=$(lab_mac node1 late0)
check "late0 answers once it appears" lab_wait_for 3 lab_output_has "$MAC_LATE" lab_exec client "$L2A" whohas --timeout 200 $V4
ip -n "$(lab_ns node1)" link set late0 down
check "late0 down: nobody answers" lab_wait_for 3 lab_exec client bash -c "! $L2A whohas --timeout 200 $V4"
# Point the client's cache elsewhere: only a fresh announcement can correct it.
lab_exec client ip neigh replace $V4 lladdr 02:00:00:00:99:99 dev eth0 nud stale
lab_exec client ip neigh replace $V6 lladdr 02:00:00:00:99:99 dev eth0 nud stale
sleep 1.1
ip -n "$(lab_ns node1)" link set late0 up
check "late0 up again: announced, client cache corrected (IPv4)" lab_wait_for 3 lab_neigh_is client $V4 "$MAC_LATE"
check "late0 up again: announced, client cache corrected (IPv6)" lab_wait_for 3 lab_neigh_is client $V6 "$MAC_LATE"
ip -n "$(lab_ns node1)" link del late0
check "late0 deleted: nobody answers" lab_wait_for 3 lab_exec client bash -c "! $L2A whohas --timeout 200 $V4"
check "announce survives its interface's deletion" kill -0 $PID
check "the log shows the port going down" grep -q "event=port_down" /tmp/$LAB_ID-c.log
kill -TERM $PID; wait $PID
check "announce exits 0" test $? -eq 0
rm -f /tmp/$LAB_ID-?.log
lab_finish
