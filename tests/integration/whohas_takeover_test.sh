#!/usr/bin/env bash
# whohas exit statuses (0 one owner, 1 nobody, 2 conflict), probing from a host without an
# IPv4 address (RFC 5227 probe), and take-over: when node2 starts announcing after node1
# stopped, the client's kernel neighbour cache moves to node2 from the gratuitous ARP /
# unsolicited NA alone, without waiting for the entry to expire. `whohas --watch` prints that
# story as it happens: owner, conflict, the other owner, silence.
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

echo "# whohas --watch: one timestamped line per change of owner, conflict or silence"
lab_spawn client /tmp/$LAB_ID-watch4.json "$L2A" whohas --watch -o json -i eth0 $V4
W4=$LAB_LAST_PID
lab_spawn client /tmp/$LAB_ID-watch6.txt "$L2A" whohas --watch --interval 50 $V6
W6=$LAB_LAST_PID
check "the watch starts with node2 as the owner" lab_wait_for 3 grep -q "$MAC2" /tmp/$LAB_ID-watch4.json
lab_spawn node1 /tmp/$LAB_ID-n1.log "$L2A" announce -i eth0 $V4 $V6
N1=$LAB_LAST_PID
check "...node1 answers too: a conflict line" lab_wait_for 3 grep -q '"conflict"' /tmp/$LAB_ID-watch4.json
kill -TERM $N2
wait $N2
check "...node2 stops: node1 alone" lab_wait_for 3 \
  grep -qF "\"verdict\":\"owned\",\"owners\":[\"$MAC1\"],\"previous\":{\"verdict\":\"conflict\"" /tmp/$LAB_ID-watch4.json
kill -TERM $N1
wait $N1
check "...node1 stops: nobody" lab_wait_for 3 grep -q '"nobody"' /tmp/$LAB_ID-watch4.json
kill -TERM $W4 $W6  # (a script's background jobs ignore SIGINT: bash sets them so)
check_status "the watch ends on SIGTERM with exit 0 (JSON)" 0 wait $W4
check_status "...and the text one" 0 wait $W6
check "the JSON lines tell the story in order, each change once, with how long the state before lasted" python3 - \
  /tmp/$LAB_ID-watch4.json "$MAC1" "$MAC2" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
mac1, mac2 = sys.argv[2], sys.argv[3]
states = [(l["verdict"], sorted(l["owners"])) for l in lines]
want = [("owned", [mac2]), ("conflict", sorted([mac1, mac2])), ("owned", [mac1]), ("nobody", [])]
it = iter(states)
assert all(w in it for w in want), states  # in this order (a lost answer may add a line between)
assert all(a != b for a, b in zip(states, states[1:])), states  # a line per change only
assert all(l["previous"]["lastedMs"] > 0 for l in lines[1:]) and "previous" not in lines[0], lines
assert [l["time"] for l in lines] == sorted(l["time"] for l in lines), lines
PY
check "the text lines name the owners and what came before" python3 - /tmp/$LAB_ID-watch6.txt "$MAC1" "$MAC2" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
mac1, mac2 = sys.argv[2], sys.argv[3]
stamp = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z 2001:db8::201 "
for pattern in (stamp + "owned by " + mac2 + "$", stamp + "conflict: ", stamp + "owned by " + mac1 + r" \(after \d+ ms of conflict\)$",
                stamp + "nobody answers \\(" + mac1 + r" answered for \d+ ms\)$"):
    assert re.search(pattern, text, re.M), (pattern, text)
PY
check_status "--watch with an interval under 10 ms: usage error" 64 lab_exec client "$L2A" whohas --watch --interval 5 $V4
rm -f /tmp/$LAB_ID-n1.log /tmp/$LAB_ID-n2.log /tmp/$LAB_ID-watch4.json /tmp/$LAB_ID-watch6.txt
lab_finish
