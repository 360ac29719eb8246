#!/usr/bin/env bash
# Responder benchmark (make bench): in a fresh lab, one node answers for two pairs of
# addresses — its own (198.18.0.11, 2001:db8::11: the kernel answers) and service addresses
# (198.18.0.200, 2001:db8::200: `l2a announce` answers, pinned to one core). A client measures
# answer latency one request at a time and the answer rate with a window of requests in
# flight, for both, in the same run. Prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
L2A=${L2A:-build/l2a}
GEN=build/bench/l2a-bench-neighbor
COUNT=${COUNT:-20000}
SECONDS_RATE=${SECONDS_RATE:-5}
source tests/support/netns_lab.sh
lab_require_root
lab_init bench
lab_host node 198.18.0.11/24 2001:db8::11/64
lab_host client 198.18.0.100/24 2001:db8::100/64
lab_service_address node 198.18.0.200 2001:db8::200
lab_spawn node /dev/null taskset -c 0 "$L2A" announce --log-level warn -i '^eth0$' \
  198.18.0.200 2001:db8::200
lab_wait_for 5 lab_exec client "$L2A" whohas --timeout 200 198.18.0.200
CLIENT_LL=$(ip -n "$(lab_ns client)" -6 -o addr show dev eth0 scope link | awk '{print $4}' | cut -d/ -f1)

measure() {  # measure ANSWERER TARGET SOURCE
  local lat rate
  lat=$(lab_exec client taskset -c 1 "$GEN" --mode latency --count "$COUNT" --target "$2" --source "$3")
  rate=$(lab_exec client taskset -c 1 "$GEN" --mode rate --seconds "$SECONDS_RATE" --target "$2" --source "$3")
  python3 - "$1" "$2" "$lat" "$rate" <<'PY'
import sys
who, target, lat, rate = sys.argv[1:]
kv = lambda s: dict(x.split("=", 1) for x in s.split())
l, r = kv(lat), kv(rate)
print(f"| {who} | {target} | {int(float(r['answers_per_s'])):,} | {l['p50_us']} | {l['p99_us']} | {l['max_us']} | {l['lost']}/{int(l['samples'])+int(l['lost'])} |")
PY
}

echo "| answered by | address | answers/s (window 64) | p50 µs | p99 µs | max µs | lost |"
echo "|---|---|---:|---:|---:|---:|---:|"
measure "kernel" 198.18.0.11 198.18.0.100
measure "l2a (1 core)" 198.18.0.200 198.18.0.100
measure "kernel" 2001:db8::11 "$CLIENT_LL"
measure "l2a (1 core)" 2001:db8::200 "$CLIENT_LL"

echo
bash bench/lan_noise.sh
echo
bash bench/kube.sh
echo
bash bench/ipam.sh
echo
build/bench/l2a-bench-plan --nodes 20 100 1000 --addresses 10000 50000
echo
bash bench/agents.sh
echo
bash bench/at_rest.sh
