#!/usr/bin/env bash
# Leader election between processes against the lab API server: exactly one leader at a time;
# kill -9 of the leader (no release) moves leadership after the lease duration (2 s); SIGTERM
# (release) moves it at once.
set -u
source "$(dirname "$0")/../support/netns_lab.sh"
LAB=${L2A_LAB:-build/l2a-lab}
CONTENDER=${LEASE_CONTENDER:-build/tests/support/lease_contender}
DIR=$(mktemp -d /tmp/l2a-election-XXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$DIR"
}
trap cleanup EXIT
lab_loopback_apiserver "$LAB" "$DIR"
PIDS+=("$LOOPBACK_API_PID")
URL=$LOOPBACK_API_URL
declare -A PID_OF
for id in a b c; do
  "$CONTENDER" "$URL" election "$id" >"$DIR/$id.log" 2>&1 &
  PID_OF[$id]=$!
  PIDS+=($!)
done

leaders() {  # the contenders whose last line says leading
  local id
  for id in a b c; do
    [[ -d /proc/${PID_OF[$id]} ]] || continue
    [[ "$(tail -n 1 "$DIR/$id.log" 2>/dev/null)" == "leading $id" ]] && echo "$id"
  done
}
one_leader() { [[ $(leaders | wc -l) == 1 ]]; }
# exactly one leader, and not the one named (a killed process stays in /proc until it is reaped)
one_leader_but() { one_leader && [[ "$(leaders)" != "$1" ]]; }

check "one leader is elected" lab_wait_for 5 one_leader
FIRST=$(leaders)
sleep 1
check "still exactly one leader a second later" one_leader
check "and it is the same one" test "$(leaders)" = "$FIRST"

kill -9 "${PID_OF[$FIRST]}"
killed_at=$(date +%s%N)
wait "${PID_OF[$FIRST]}" 2>/dev/null
check "after kill -9 another takes over within lease duration + 1 s" lab_wait_for 3 one_leader_but "$FIRST"
ms=$((($(date +%s%N) - killed_at) / 1000000))
SECOND=$(leaders)
check "the new leader is another contender" test "$SECOND" != "$FIRST"
echo "# take-over after kill -9: ${ms} ms (lease duration 2000 ms)"
check "take-over waited for the lease to expire (>= 1 s)" test "$ms" -ge 1000

kill -TERM "${PID_OF[$SECOND]}"
termed_at=$(date +%s%N)
check "after SIGTERM (release) the last one takes over within 1 s" lab_wait_for 1 one_leader_but "$SECOND"
ms=$((($(date +%s%N) - termed_at) / 1000000))
echo "# take-over after release: ${ms} ms"
check "the released leader logged that it stopped" lab_wait_for 2 grep -q "stopped $SECOND" "$DIR/$SECOND.log"
lab_finish
