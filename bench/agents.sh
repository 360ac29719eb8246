#!/usr/bin/env bash
# Agent scale benchmark (part of make bench): N agents (network namespaces on one LAN) and S
# announced Services (one address each) with the lab API server, the operator and one L2 policy.
# Measures, at steady state (every write done, the API quiet), API requests per second (from the
# server's counters), agent and operator CPU and memory, heartbeat frames per second on the LAN
# (an nftables counter on the bridge), the spread of addresses over the nodes, then kill -9 of the busiest agent and the time
# until every address is announced again. Who announces how many comes from each agent's
# l2a_announced_addresses gauge (its plan's claims, not its logs); after the kill, from each
# survivor's l2a_claimed_addresses (what its responder answers for: claimed on the silence
# before any plan counts them). One Markdown row per run.
# Usage: bench/agents.sh "3 20" "1 100 1000 10000"    (HEARTBEAT_MS=0: heartbeats off, Leases alone;
#        PACKET_RT=10: the agents' packet threads real-time; LEASE_RENEWALS=0: node Leases never
#        stretched; REST_SECONDS=35: the window the figures at rest are measured over;
#        OTHER_SERVICES=N: as many ClusterIP Services besides, as most of a cluster's are;
#        PAUSE_SECONDS=8: the first agent stopped that long at rest, then resumed — how long until
#        every address is announced exactly once again; UPDATES_PER_SECOND=1: after the figures at
#        rest, one Service's labels changed that often for REST_SECONDS — the agents' CPU then, and
#        what each of their plans planned)
set -uo pipefail
cd "$(dirname "$0")/.."
NODES_LIST=${1:-"3 20"}
SERVICES_LIST=${2:-"1 100 1000 10000"}
LEASE_MS=${LEASE_MS:-4000}
HEARTBEAT_MS=${HEARTBEAT_MS:-40}
PACKET_RT=${PACKET_RT:-0}  # --packet-rt-priority of every agent (0: normal scheduling)
LEASE_RENEWALS=${LEASE_RENEWALS:-50}  # --lease-renewals-per-second (the cluster's; 0: no bound)
PERF_OUT=${PERF_OUT:-}  # a file: perf records the first agent at rest (20 s, call graphs) into it
# A file: the first agent runs under heaptrack (its preload library, so the agent keeps its pid),
# which writes raw data there; read with /usr/lib/heaptrack/libexec/heaptrack_interpret < FILE.
HEAP_OUT=${HEAP_OUT:-}
SMAPS_OUT=${SMAPS_OUT:-}  # a file: the first agent's /proc/PID/smaps at rest (what each mapping holds)
AGENT_ENV=${AGENT_ENV:-}  # VAR=VALUE words for every agent (e.g. LD_PRELOAD=...: another allocator)
AGENT_ARGS=${AGENT_ARGS:-}  # more flags for every agent (e.g. "--record-qps 1000": to rest sooner)
OTHER_SERVICES=${OTHER_SERVICES:-0}
PAUSE_SECONDS=${PAUSE_SECONDS:-0}  # stop the first agent that long at rest (SIGSTOP), then resume it
UPDATES_PER_SECOND=${UPDATES_PER_SECOND:-0}  # Services changed per second after the figures at rest
L2A=${L2A:-build/l2a}  # another binary to compare (e.g. the previous build's, copied aside)
L2A_LAB=${L2A_LAB:-build/l2a-lab}  # the lab API server (a copy aside lets the tree build meanwhile)
source tests/support/netns_lab.sh
lab_require_root
echo "| agents | heartbeat ms | services | API req/s (steady, all agents and the operator) | per-Service leases would need (req/s) | agent CPU (% of a core, each) | agent RSS (MiB, max) | operator CPU (% of a core) | operator RSS (MiB; after a restart) | heartbeat frames/s on the LAN | addresses per node min / mean / max (kept against rendezvous hashing) | kill -9 → all its addresses elsewhere (of which: detection → claimed) |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
run() {  # run NODES SERVICES
  local nodes=$1 services=$2
  lab_init bench
  # Each watch holds a worker of the lab API server: about ten per agent, a dozen for the operator.
  lab_apiserver "$L2A_LAB" --history 100000 --workers $((nodes * 12 + 64)) >/dev/null
  lab_deploy_rbac  # the l2announcer namespace, where the Leases live
  lab_kubectl apply -f deploy/crds/ >/dev/null
  local i pids=() names=()
  lab_bench_nodes "$nodes"
  # Every heartbeat frame entering the bridge, counted once.
  ip netns exec "$LAB_LAN" nft add table bridge heartbeats
  ip netns exec "$LAB_LAN" nft add chain bridge heartbeats in '{ type filter hook prerouting priority 0; }'
  ip netns exec "$LAB_LAN" nft add rule bridge heartbeats in ether type 0x88b5 counter
  # Services with their addresses already in status (no operator: only the agents load the API).
  for ((s = 0; s < services; s++)); do
    # An ordinary Service: labels, an annotation, a selector, one port.
    printf '{"metadata":{"name":"s%d","namespace":"default","labels":{"app":"shop-%d","tier":"web"},"annotations":{"team.example/owner":"platform"}},"spec":{"type":"LoadBalancer","selector":{"app":"shop-%d"},"ports":[{"name":"http","port":80,"targetPort":8080,"protocol":"TCP"}]}}' "$s" "$s" "$s"
    printf '\n'
  done | ip netns exec "$LAB_LAN" python3 -c '
import json, sys, urllib.request
def create(body):
    req = urllib.request.Request("http://198.18.0.1:6443/api/v1/namespaces/default/services", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST")
    urllib.request.urlopen(req).read()
# The others: the same ordinary Service, of type ClusterIP (no address of ours).
for i in range(int(sys.argv[1])):
    create({"metadata": {"name": "c%d" % i, "namespace": "default", "labels": {"app": "internal-%d" % i, "tier": "backend"}, "annotations": {"team.example/owner": "platform"}}, "spec": {"type": "ClusterIP", "selector": {"app": "internal-%d" % i}, "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]}})
for i, line in enumerate(sys.stdin):
    body = json.loads(line)
    create(body)
    ip = "198.19.%d.%d" % (i // 256, i % 256)
    st = json.dumps({"status": {"loadBalancer": {"ingress": [{"ip": ip}]}}}).encode()
    req = urllib.request.Request("http://198.18.0.1:6443/api/v1/namespaces/default/services/%s/status" % body["metadata"]["name"], data=st, headers={"Content-Type": "application/merge-patch+json"}, method="PATCH")
    urllib.request.urlopen(req).read()
' "$OTHER_SERVICES"
  # The operator, with a pool holding every address: it imports them (nothing to allocate) and
  # then sits on its informers, as in a cluster at rest.
  lab_kubectl apply -f - >/dev/null <<'YAML'
apiVersion: l2announcer.io/v1alpha1
kind: LoadBalancerIPPool
metadata: {name: bench}
spec: {blocks: [{cidr: 198.19.0.0/16}]}
YAML
  lab_spawn n1 "/tmp/$LAB_ID-operator.log" "$L2A" operator --kubeconfig "$LAB_KUBECONFIG" --metrics-bind "" \
    --kube-api-qps 0
  local operator=$LAB_LAST_PID
  local wrap
  for ((i = 1; i <= nodes; i++)); do
    # shellcheck disable=SC2206 # AGENT_ENV is words, split on purpose
    wrap=(env $AGENT_ENV)
    [[ $i == 1 && -n $HEAP_OUT ]] &&
      wrap+=(LD_PRELOAD=/usr/lib/heaptrack/libheaptrack_preload.so DUMP_HEAPTRACK_OUTPUT="$HEAP_OUT")
    # shellcheck disable=SC2086 # AGENT_ARGS is flags, split on purpose
    lab_spawn "n$i" "/tmp/$LAB_ID-agent-n$i.log" "${wrap[@]}" "$L2A" agent --node-name "n$i" --kubeconfig "$LAB_KUBECONFIG" \
      --interface '^eth0$' --lease-duration-ms "$LEASE_MS" --renew-deadline-ms $((LEASE_MS * 3 / 4)) \
      --retry-period-ms $((LEASE_MS / 4)) --metrics-bind "198.18.0.$((10 + i)):9611" --log-level info \
      --heartbeat-interval-ms "$HEARTBEAT_MS" --packet-rt-priority "$PACKET_RT" \
      --lease-renewals-per-second "$LEASE_RENEWALS" $AGENT_ARGS
    pids+=("$LAB_LAST_PID")
  done
  # claims [SKIP [GAUGE]]: each agent's GAUGE (l2a_announced_addresses), one line per node in
  # node order (node SKIP left out). All agents are asked at once, by one curl from the LAN
  # (each agent's metrics on its address there): one after another, 20 agents on a loaded
  # machine took seconds, and that was counted as the take-over's.
  claims() {
    local i dir urls=() gauge=${2:-l2a_announced_addresses}
    dir=$(mktemp -d)
    for ((i = 1; i <= nodes; i++)); do
      [[ $i == "${1:-0}" ]] && continue
      urls+=(-o "$dir/$i" "http://198.18.0.$((10 + i)):9611/metrics")
    done
    ip netns exec "$LAB_LAN" curl -s --parallel --parallel-max 200 --max-time 2 "${urls[@]}" 2>/dev/null
    for ((i = 1; i <= nodes; i++)); do
      [[ -f $dir/$i ]] && awk -v g="$gauge" '$1 == g {print int($2)}' "$dir/$i"
    done
    rm -rf "$dir"
  }
  total() { claims "$@" | awk '{s += $1} END {print s + 0}'; }
  # Converged: every address claimed exactly once (the sum of the gauges), three times in a row
  # a second apart (hand-overs between agents coming up are over).
  settled() {
    local k
    for k in 1 2 3; do [[ $(total) -eq $services ]] || return 1; sleep 1; done
  }
  lab_wait_for 300 settled
  sleep $((3 + services / 2000))
  counters() { ip netns exec "$LAB_LAN" curl -s --max-time 10 http://198.18.0.1:6443/admin/counters | python3 -c 'import json,sys; print(sum(c["count"] for c in json.load(sys.stdin)))'; }
  # Steady state: the agents' records and conditions and the operator's conditions written
  # (20 writes/s each: minutes at 10,000 Services). Quiet = at most 2 requests/s per agent
  # (Lease renewals) and 5 more, over 5 s; at most 15 minutes.
  local quiet_from q0 q1
  quiet_from=$(date +%s)
  q0=$(counters)
  for ((k = 0; k < 180; k++)); do
    sleep 5
    q1=$(counters)
    (( q1 - q0 <= (nodes * 2 + 5) * 5 )) && break
    q0=$q1
  done
  echo "bench/agents.sh: $nodes agents, $services Services: quiet $(( $(date +%s) - quiet_from )) s after converging" >&2
  cpu() { local t=0 p; for p in "${pids[@]}"; do t=$((t + $(awk '{print $14+$15}' /proc/$p/stat))); done; echo $t; }
  local r0 c0 r1 c1 o0 o1 h0 h1
  ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
  frames() { ip netns exec "$LAB_LAN" nft list chain bridge heartbeats in | awk '{for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1)}'; }
  snapshot() { ip netns exec "$LAB_LAN" curl -s --max-time 10 http://198.18.0.1:6443/admin/counters > "$1"; }
  snapshot "/tmp/$LAB_ID-counters0.json"
  # Each figure over the time between its own two readings (reading 100 agents' CPU takes
  # seconds on a loaded machine: a fixed 10 s overstated the rates by a third).
  now() { date +%s.%N; }
  local tr0 tc0 to0 th0 tr1 tc1 to1 th1
  r0=$(counters); tr0=$(now); c0=$(cpu); tc0=$(now); o0=$(ticks "$operator"); to0=$(now); h0=$(frames); th0=$(now)
  # Longer than anything periodic at rest (an optional kind is looked for every 30 s): 10 s
  # showed the operator at 0.4 % or 19 % by chance.
  sleep "${REST_SECONDS:-35}"
  r1=$(counters); tr1=$(now); c1=$(cpu); tc1=$(now); o1=$(ticks "$operator"); to1=$(now); h1=$(frames); th1=$(now)
  snapshot "/tmp/$LAB_ID-counters1.json"
  echo "bench/agents.sh: node Lease durations (s: agents): $(claims 0 l2a_node_lease_duration_seconds | sort -n | uniq -c |
    awk '{printf "%s%s: %s", (NR > 1 ? ", " : ""), $2, $1}')" >&2
  # What the requests were (verb and resource, a second), the most frequent first.
  python3 - "/tmp/$LAB_ID-counters0.json" "/tmp/$LAB_ID-counters1.json" "$(now)" "$tr0" <<'PY' >&2 || true
import collections, json, sys
def load(path):
    c = collections.Counter()
    for e in json.load(open(path)):
        c[(e["verb"], e["resource"])] += e["count"]
    return c
a, b = load(sys.argv[1]), load(sys.argv[2])
span = float(sys.argv[3]) - float(sys.argv[4])  # about the snapshots' span
rates = sorted((round((b[k] - a[k]) / span, 1), k) for k in b if b[k] > a[k])
print("bench/agents.sh: requests/s by verb and resource:", ", ".join(f"{v} {r} {x}" for x, (v, r) in reversed(rates[-6:])))
PY
  if [[ -n $PERF_OUT ]]; then
    perf record -q -F 499 --call-graph dwarf,16384 -p "${pids[0]}" -o "$PERF_OUT" -- sleep 20 >/dev/null 2>&1
  fi
  local op_cpu op_rss
  op_cpu=$(python3 -c "print(round(($o1 - $o0) / ($to1 - $to0), 2))")
  op_rss=$(awk '/VmRSS/ {print int($2/1024)}' "/proc/$operator/status")
  # The largest agent's, in MiB to a tenth (not rounded down: a goal of 30 MiB is read here).
  local rss p largest
  largest=$(for p in "${pids[@]}"; do echo "$(awk '/VmRSS/ {print $2}' "/proc/$p/status") $p"; done | sort -n | tail -1)
  rss=$(awk '{printf "%.1f", $1 / 1024}' <<<"$largest")
  largest=${largest#* }  # its pid
  # Of the RSS, what is the agent's own (anonymous) and what mapped files (its binary, shared
  # libraries).
  awk '/^Rss(Anon|File):/ {printf " %s %.1f MiB", $1, $2 / 1024}' "/proc/${pids[0]}/status" |
    sed 's|^|bench/agents.sh: first agent at rest:|; s|$|\n|' >&2
  [[ -n $SMAPS_OUT ]] && cp "/proc/${pids[0]}/smaps" "$SMAPS_OUT"
  # Every agent's: RSS / anonymous, by node (the largest is not always the first).
  local ai
  for ai in "${!pids[@]}"; do
    awk -v n="n$((ai + 1))" '/^VmRSS:/ {r = $2} /^RssAnon:/ {a = $2} END {printf "%s %.1f/%.1f\n", n, r / 1024, a / 1024}' \
      "/proc/${pids[$ai]}/status"
  done | sort -t' ' -k2 -rn | tr '\n' ' ' | sed 's|^|bench/agents.sh: agents at rest, RSS/anonymous MiB, largest first: |; s|$|\n|' >&2
  [[ -n $SMAPS_OUT ]] && cp "/proc/$largest/smaps" "$SMAPS_OUT.largest"
  if ((UPDATES_PER_SECOND > 0)); then
    # One Service after another gets a new label (what a plan reads: each is a change of one
    # Service), paced; the agents' CPU over that time against at rest, and from their metrics
    # what their plans did meanwhile (summed over the agents).
    plan_metrics() {  # "full changed planned seconds computed", summed over the agents
      local i
      for ((i = 1; i <= nodes; i++)); do
        ip netns exec "$LAB_LAN" curl -s --max-time 5 "http://198.18.0.$((10 + i)):9611/metrics"
      done | awk '$1 == "l2a_plans_total{scope=\"full\"}" {f += $2} $1 == "l2a_plans_total{scope=\"changed\"}" {c += $2}
        $1 == "l2a_addresses_planned_total" {a += $2} $1 == "l2a_plan_duration_seconds_sum" {s += $2}
        $1 == "l2a_plan_duration_seconds_count" {n += $2} END {printf "%d %d %d %.6f %d", f, c, a, s, n}'
    }
    local m0 m1 u0 u1 tu0 tu1 updated
    m0=$(plan_metrics); u0=$(cpu); tu0=$(now)
    updated=$(ip netns exec "$LAB_LAN" python3 -c '
import json, sys, time, urllib.request
rate, seconds, services = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
start, n = time.monotonic(), 0
while time.monotonic() - start < seconds:
    body = json.dumps({"metadata": {"labels": {"revision": str(n)}}}).encode()
    req = urllib.request.Request("http://198.18.0.1:6443/api/v1/namespaces/default/services/s%d" % (n * 7919 % services), data=body,
                                 headers={"Content-Type": "application/merge-patch+json"}, method="PATCH")
    urllib.request.urlopen(req).read()
    n += 1
    time.sleep(max(0.0, start + n / rate - time.monotonic()))
print(n)
' "$UPDATES_PER_SECOND" "${REST_SECONDS:-35}" "$services")
    sleep 2  # the last change planned
    u1=$(cpu); tu1=$(now); m1=$(plan_metrics)
    python3 - "$m0" "$m1" "$updated" "$(python3 -c "print(round(($u1 - $u0) / ($tu1 - $tu0) / $nodes, 2))")" "$nodes" <<'PY' >&2
import sys
(f0, c0, a0, s0, n0), (f1, c1, a1, s1, n1) = ([float(x) for x in m.split()] for m in sys.argv[1:3])
updated, cpu, nodes = int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
plans = n1 - n0
print(f"bench/agents.sh: {updated} Services changed one at a time: agent CPU {cpu} % each; "
      f"{int(plans)} plans on {nodes} agents ({int(f1 - f0)} full, {int(c1 - c0)} of what changed), "
      f"{(a1 - a0) / max(plans, 1):.1f} addresses planned per plan, "
      f"{(s1 - s0) / max(plans, 1) * 1000:.1f} ms per pass (snapshot to the responder told)")
PY
  fi
  if ((PAUSE_SECONDS > 0)); then
    # The first agent stopped (a VM stall, a long GC-like pause) past its Lease, then resumed:
    # the others take its addresses, it comes back, and every address must end up announced
    # exactly once again — from the agents' gauges, every 2 s for up to 90 s.
    kill -STOP "${pids[0]}"; sleep "$PAUSE_SECONDS"; kill -CONT "${pids[0]}"
    local resumed settled_at once=0 sums=() k sum
    resumed=$(date +%s%N)
    for ((k = 0; k < 45; k++)); do
      sum=$(total)
      sums+=("$sum")
      if [[ $sum -eq $services ]]; then
        ((once++ == 0)) && settled_at=$(date +%s%N)
        ((once >= 3)) && break
      else
        once=0
      fi
      sleep 2
    done
    if ((once >= 3)); then
      echo "bench/agents.sh: paused ${PAUSE_SECONDS} s: every address announced once again $(( (settled_at - resumed) / 1000000 )) ms after it resumed (at most 2 s late: polled)" >&2
    else
      echo "bench/agents.sh: paused ${PAUSE_SECONDS} s: NOT every address announced once within 90 s" >&2
    fi
    echo "bench/agents.sh: paused: addresses announced (sum of the gauges, every 2 s): ${sums[*]}" >&2
  fi
  # The operator restarted: it lists every Service again and re-imports their addresses.
  kill -TERM "$operator"; wait "$operator" 2>/dev/null
  lab_spawn n1 "/tmp/$LAB_ID-operator2.log" "$L2A" operator --kubeconfig "$LAB_KUBECONFIG" --metrics-bind "" \
    --kube-api-qps 0
  operator=$LAB_LAST_PID
  sleep $((5 + services / 1000))
  local op_rss_restart
  op_rss_restart=$(awk '/VmRSS/ {print int($2/1024)}' "/proc/$operator/status")
  local rps cpu_pct per_service
  rps=$(python3 -c "print(round(($r1 - $r0 - 2) / ($tr1 - $tr0), 1))")
  cpu_pct=$(python3 -c "print(round(($c1 - $c0) / ($tc1 - $tc0) / $nodes, 2))")
  per_service=$(python3 -c "print(round($services / ($LEASE_MS * 3 / 4 / 1000), 1))")
  # Spread, and kill -9 of the busiest agent: time until the others claim every address again.
  local spread victim=1 most=-1 c
  mapfile -t per_node < <(claims)
  spread=$(printf '%s\n' "${per_node[@]}" | awk 'NR == 1 {lo = $1; hi = $1} {s += $1; if ($1 < lo) lo = $1; if ($1 > hi) hi = $1}
    END {printf "%d / %.1f / %d", lo, s / NR, hi}')
  # Of them, held where rendezvous hashing would not put them (stickiness: the start's order).
  spread="$spread ($(total 0 l2a_kept_addresses) kept)"
  for ((i = 1; i <= nodes; i++)); do
    c=${per_node[$((i - 1))]:-0}
    ((c > most)) && { most=$c; victim=$i; }
  done
  local start killed_at
  start=$(date +%s%N)
  killed_at=$(date -u +%Y-%m-%dT%H:%M:%S.%3N)
  kill -9 "${pids[$((victim - 1))]}"
  all_elsewhere() { [[ $(total "$victim" l2a_claimed_addresses) -ge $services ]]; }
  local ms="-"
  if [[ $most -gt 0 ]] && lab_wait_for 60 all_elsewhere; then
    ms="$(( ($(date +%s%N) - start) / 1000000 )) ms ($most addresses)"
    # Of that, the survivors' own part: from the change that woke a pass (the victim heard
    # silent, its Lease expired) to answering for every address it took — from the passes
    # logged after the kill (event=took_over, written just after the claims: given a moment),
    # the slowest of them; the phases go to stderr.
    sleep 2
    local own
    own=$(for ((i = 1; i <= nodes; i++)); do
      [[ $i == "$victim" ]] && continue
      awk -v t="$killed_at" '$1 >= t && /event=took_over/' "/tmp/$LAB_ID-agent-n$i.log"
    done)
    [[ -n $own ]] && printf '%s\n' "$own" >&2
    own=$(printf '%s\n' "$own" | sed -n 's/.* after_ms=\([0-9]*\).*/\1/p' | awk '$1 > m {m = $1} END {printf "%d", m}')
    ms="$ms; taken $own ms after detection"
  fi
  echo "| $nodes | $HEARTBEAT_MS | $services | $rps | $per_service | $cpu_pct | $rss | $op_cpu | $op_rss; $op_rss_restart | $(python3 -c "print(round(($h1 - $h0) / ($th1 - $th0)))") | $spread | $ms |"
  lab_cleanup
  trap - EXIT
}
for n in $NODES_LIST; do
  for s in $SERVICES_LIST; do run "$n" "$s"; done
done
