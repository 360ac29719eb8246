#!/usr/bin/env bash
# Bad input on the wire: `l2a announce` claims one IPv4 and one IPv6 address; a second program
# (`l2a-lab hostile`) on the same LAN sends malformed, oversized, spoofed and storming ARP / NDP
# frames next to valid controls. No crash, no answer to anything invalid, every drop counted
# under its reason; then a flood of valid requests: answers held to the per-interface limit,
# the responder's CPU bounded (one thread), and valid requests answered again right after.
set -uo pipefail
cd "$(dirname "$0")/../.."
source tests/support/netns_lab.sh
lab_require_root
L2A=${L2A:-build/l2a}
L2A_LAB=${L2A_LAB:-build/l2a-lab}
V4=198.18.0.130
V6=2001:db8::1:130
LIMIT=2000
FLOOD_MS=3000

lab_init hostile
lab_host announcer 198.18.0.11/24 2001:db8::11/64
lab_host attacker 198.18.0.66/24 2001:db8::66/64
LOG=/tmp/$LAB_ID-announce.log
start_announcer() {  # start_announcer [EXTRA ARGS]: one announcement burst, then quiet
  lab_spawn announcer "$LOG" "$L2A" announce -i '^eth0$' --announce-count 1 "$@" "$V4" "$V6"
  ANNOUNCER=$LAB_LAST_PID
  lab_wait_for 5 grep -q "event=claimed address=$V6" "$LOG"
  sleep 0.3
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

start_announcer --max-replies-per-second "$LIMIT"
CASES=/tmp/$LAB_ID-cases.json
lab_exec attacker "$L2A_LAB" hostile --target4 "$V4" --target6 "$V6" >"$CASES"
echo "# hostile sender exit status $? (0: every case as expected)"
case_ok() { python3 -c 'import json,sys; c=[x for x in json.load(open(sys.argv[1])) if x["case"]==sys.argv[2]][0]; print(c); sys.exit(0 if c["ok"] else 1)' "$CASES" "$1"; }
check "the hostile sender ran every case" test "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$CASES")" -ge 20
while IFS= read -r name; do
  expect=$(python3 -c 'import json,sys; print([x for x in json.load(open(sys.argv[1])) if x["case"]==sys.argv[2]][0]["expectAnswer"])' "$CASES" "$name")
  if [[ $expect == True ]]; then check "answered: $name" case_ok "$name"; else check "no answer: $name" case_ok "$name"; fi
done < <(python3 -c 'import json,sys; [print(x["case"]) for x in json.load(open(sys.argv[1]))]' "$CASES")
check "the responder survived every hostile frame" kill -0 "$ANNOUNCER"

# A flood of valid requests, far above the limit.
FLOOD=/tmp/$LAB_ID-flood.json
t0=$(cpu_ticks "$ANNOUNCER")
lab_exec attacker "$L2A_LAB" hostile --target4 "$V4" --target6 "$V6" --flood-ms "$FLOOD_MS" >"$FLOOD"
t1=$(cpu_ticks "$ANNOUNCER")
read -r SENT ANSWERED < <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["sent"], d["answered"])' "$FLOOD")
HZ=$(getconf CLK_TCK)
CPU_PCT=$(((t1 - t0) * 100 * 1000 / HZ / FLOOD_MS))
echo "# flood with a limit of $LIMIT/s: $SENT requests in ${FLOOD_MS} ms, $ANSWERED answered, responder CPU ${CPU_PCT}% of a core"
check "the flood was far above the limit" test "$SENT" -ge $((LIMIT * FLOOD_MS / 1000 * 5))
check "answers stayed within the limit (and its burst)" test "$ANSWERED" -le $((LIMIT * (FLOOD_MS + 200) / 1000 + LIMIT / 10))
check "the responder still answered under the flood" test "$ANSWERED" -ge $((LIMIT * FLOOD_MS / 1000 / 2))
check "the responder used at most one core during the flood" test "$CPU_PCT" -le 105
check "the responder survived the flood" kill -0 "$ANNOUNCER"
check "arping is answered right after the flood" lab_exec attacker arping -c 1 -w 2 -I eth0 "$V4"
check "ndisc6 is answered right after the flood" lab_exec attacker ndisc6 -r 3 -w 500 "$V6" eth0

# Real clients asking for addresses this node does not claim: the socket's kernel filter keeps
# them from the responder altogether (no wake-up, nothing counted), and no answer comes.
no_answer() { ! lab_exec "$@"; }
check "arping for an unclaimed address gets no answer" \
  no_answer attacker arping -c 20 -i 0.05 -w 2 -I eth0 198.18.0.131
check "ndisc6 for an unclaimed address gets no answer" no_answer attacker ndisc6 -r 5 -w 200 2001:db8::1:131 eth0

kill -TERM "$ANNOUNCER"
lab_wait_for 5 grep -q "event=counters" "$LOG"
COUNTERS=$(grep "event=counters" "$LOG")
echo "# $COUNTERS"
# RARP, VLAN-tagged frames and requests about addresses not claimed here (the hostile cases "ARP
# for an address nobody claims" and "NS for a multicast target", the arping and ndisc6 above)
# never reach the responder: the socket's BPF filter drops them in the kernel.
not_counted() { ! grep -Eq "[\",]$1=" <<<"$COUNTERS"; }
for reason in not_claimed multicast_target; do
  check "nothing reached the responder to be counted as $reason" not_counted "$reason"
done
for reason in truncated arp_bad_format arp_bad_sender foreign_announcement \
  bad_hop_limit bad_checksum bad_icmp_code multicast_source bad_option_length \
  ipv6_length_mismatch ipv6_bad_version wrong_destination unspecified_source_with_link_layer rate_limited; do
  check "drops counted as $reason" grep -Eq "[\",]$reason=[1-9]" <<<"$COUNTERS"
done
check "1,000 gratuitous ARPs from another MAC counted as 1,000 conflicts" grep -Eq "foreign_announcement=1[0-9]{3}" <<<"$COUNTERS"

# The same flood with no limit, for comparison (figures only need the responder alive).
start_announcer
t0=$(cpu_ticks "$ANNOUNCER")
lab_exec attacker "$L2A_LAB" hostile --target4 "$V4" --target6 "$V6" --flood-ms "$FLOOD_MS" >"$FLOOD"
t1=$(cpu_ticks "$ANNOUNCER")
read -r SENT2 ANSWERED2 < <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["sent"], d["answered"])' "$FLOOD")
echo "# flood with no limit: $SENT2 requests, $ANSWERED2 answered, responder CPU $(((t1 - t0) * 100 * 1000 / HZ / FLOOD_MS))% of a core"
check "without a limit the responder answers more of the flood than with one" test "$ANSWERED2" -gt "$ANSWERED"
check "the responder survived the unlimited flood" kill -0 "$ANNOUNCER"
lab_finish
