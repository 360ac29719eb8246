#!/usr/bin/env bash
# The L2 data plane alone (l2a announce, no Kubernetes), on one machine. In fresh network namespaces — a LAN bridge, two
# "nodes" serving HTTP on a service address, and a client — it shows the ghost (nobody answers
# ARP/NDP for the service IP), then `l2a announce` on node1, then a hand-over to node2 that the
# client follows at once. Everything is torn down at the end, also after a failure or Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
L2A=${L2A:-build/l2a}
source tests/support/netns_lab.sh
lab_require_root

V4=198.18.0.200
V6=2001:db8::200
bold() { printf '\n\033[1m%s\033[0m\n' "$*"; }
say() { printf '   %s\n' "$*"; }
run() {  # run HOST CMD...: print the command as a person would type it on HOST, then run it
  local host=$1
  shift
  printf '\033[36m%s$\033[0m %s\n' "$host" "$*"
  lab_exec "$host" "$@" 2>&1 | sed 's/^/     /' || true
}

lab_init demo
bold "1. A LAN (bridge) with two nodes and a client, in network namespaces"
lab_host node1 198.18.0.11/24 2001:db8::11/64
lab_host node2 198.18.0.12/24 2001:db8::12/64
lab_host client 198.18.0.100/24 2001:db8::100/64
for n in node1 node2; do
  lab_service_address $n $V4 $V6
  lab_http_server $n "hello from $n"
done
MAC1=$(lab_mac node1)
MAC2=$(lab_mac node2)
say "node1 eth0 $MAC1 198.18.0.11  | node2 eth0 $MAC2 198.18.0.12  | client 198.18.0.100"
say "Both nodes accept traffic for the service IP $V4 / $V6 (on lo, arp_ignore=1),"
say "but their kernels do not answer ARP/NDP for it on the LAN."

bold "2. The ghost: the service IP exists, but nobody answers 'who has it?'"
run client arping -c 1 -w 1 -I eth0 $V4
run client ndisc6 -1 -r 1 -w 500 $V6 eth0
run client "$L2A" whohas --timeout 500 $V4
run client curl -s -m 2 "http://$V4/"
say "curl gets nothing back, not even 'unreachable': the client never learns a MAC to send to."

bold "3. l2a announce on node1"
printf '\033[36mnode1$\033[0m %s\n' "$L2A announce --interface eth0 $V4 $V6 &"
lab_spawn node1 "/tmp/$LAB_ID-node1.log" "$L2A" announce --interface eth0 $V4 $V6
NODE1=$LAB_LAST_PID
lab_wait_for 5 lab_exec client "$L2A" whohas --timeout 200 $V4
run client "$L2A" whohas $V4
run client "$L2A" whohas $V6
run client arping -c 1 -w 1 -I eth0 $V4
run client curl -s -m 2 "http://$V4/"
run client curl -s -m 2 "http://[$V6]/"
run client ip neigh show $V4
run client ip neigh show $V6

bold "4. Hand-over: node1's announcer stops, node2's starts"
kill -TERM $NODE1
wait $NODE1 || true
say "node1 released the addresses (exit $?). The client still caches node1's MAC:"
run client ip neigh show $V4
sleep 1  # the kernel ignores neighbour updates within 1 s (locktime) of the last one
printf '\033[36mnode2$\033[0m %s\n' "$L2A announce --interface eth0 $V4 $V6 &"
start=$(date +%s%N)
lab_spawn node2 "/tmp/$LAB_ID-node2.log" "$L2A" announce --interface eth0 $V4 $V6
lab_wait_for 5 lab_neigh_is client $V4 "$MAC2"
lab_wait_for 5 lab_neigh_is client $V6 "$MAC2"
ms=$((($(date +%s%N) - start) / 1000000))
say "The client's neighbour cache moved to node2 ${ms} ms after node2 started, from its"
say "gratuitous ARP / unsolicited NA alone — without waiting for the old entry to expire:"
run client ip neigh show $V4
run client ip neigh show $V6
run client curl -s -m 2 "http://$V4/"
run client curl -s -m 2 "http://[$V6]/"
run client "$L2A" whohas $V4

bold "Summary"
say "ghost: no answer to ARP/NDP   → announce on node1: curl reaches node1 (IPv4 and IPv6)"
say "hand-over to node2: client followed in ${ms} ms, no cache expiry needed"
say "Tearing down every namespace and process."
rm -f "/tmp/$LAB_ID-node1.log" "/tmp/$LAB_ID-node2.log"
