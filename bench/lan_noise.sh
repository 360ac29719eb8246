#!/usr/bin/env bash
# What a LAN's other ARP / NDP traffic costs a node (part of make bench): one node runs
# `l2a announce` (pinned to one core) for CLAIMS addresses; a client on the LAN sends valid
# requests for an address the node does not claim (ARP and NS alternating, as fast as one
# thread sends) for FLOOD_MS. Per build: the announcer's CPU during the flood and the requests
# its responder counted. Rows: two claims (one per family) with the noise outside them; 2,000
# claims (every other address of a /21 and of a /117) with the noise between two of them, which
# the kernel filter's merged ranges let through. Two builds in the same run (this machine is
# noisy): L2A_BEFORE (a binary copied aside, optional) and build/l2a.
# Usage: bench/lan_noise.sh    (L2A_BEFORE=/tmp/l2a-before; FLOOD_MS=5000)
set -uo pipefail
cd "$(dirname "$0")/.."
L2A=${L2A:-build/l2a}
L2A_BEFORE=${L2A_BEFORE:-}
L2A_LAB=${L2A_LAB:-build/l2a-lab}
FLOOD_MS=${FLOOD_MS:-5000}
source tests/support/netns_lab.sh
lab_require_root
echo "| build | addresses claimed | noise for | requests sent (per s) | counted by the responder | announcer CPU (% of a core) |"
echo "|---|---:|---|---:|---:|---:|"
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
run() {  # run LABEL BINARY CLAIMS
  local label=$1 binary=$2 claims=$3 addresses=() noise4 noise6 where i
  if [[ $claims -eq 2 ]]; then
    addresses=(198.18.0.200 2001:db8::200)
    noise4=198.18.0.99 noise6=2001:db8::99 where="another address"
  else
    for ((i = 0; i < claims / 2; i++)); do
      addresses+=("198.19.$((i * 2 / 256)).$((i * 2 % 256))" "$(printf '2001:db8::1:%x' $((i * 2)))")
    done
    noise4=198.19.1.1 noise6=2001:db8::1:101 where="an address between two claimed"
  fi
  lab_init noise
  lab_host node 198.18.0.11/24 2001:db8::11/64
  lab_host client 198.18.0.100/24 2001:db8::100/64
  local log=/tmp/$LAB_ID-announce.log
  lab_spawn node "$log" taskset -c 0 "$binary" announce -i '^eth0$' --announce-count 1 "${addresses[@]}"
  local pid=$LAB_LAST_PID
  lab_wait_for 20 grep -q "event=claimed address=${addresses[-1]}" "$log"
  sleep 1
  local t0 t1 out
  t0=$(ticks "$pid")
  out=$(lab_exec client taskset -c 1 "$L2A_LAB" hostile --target4 "$noise4" --target6 "$noise6" --flood-ms "$FLOOD_MS" --listen-ms 200)
  t1=$(ticks "$pid")
  kill -TERM "$pid"
  lab_wait_for 5 grep -q "event=counters" "$log"
  local sent counted
  sent=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["sent"])' "$out")
  counted=$(grep -o 'requests=[0-9]*' "$log" | tail -1 | cut -d= -f2)
  echo "| $label | $claims | $where | $sent ($((sent * 1000 / FLOOD_MS))) | $counted | $(python3 -c "print(round(($t1 - $t0) * 100 / $(getconf CLK_TCK) / ($FLOOD_MS / 1000), 1))") |"
  lab_cleanup
  trap - EXIT
}
for claims in 2 2000; do
  [[ -n $L2A_BEFORE ]] && run before "$L2A_BEFORE" "$claims"
  run this "$L2A" "$claims"
done
