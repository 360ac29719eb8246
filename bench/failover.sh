#!/usr/bin/env bash
# Fail-over benchmark (make bench-failover): l2a and keepalived side by side in the same lab and
# the same run. Three nodes with a kube-proxy stand-in backend, a client running the prober
# (`l2a-lab probe`: a TCP connect and an ARP request / Neighbor Solicitation per address every
# 10 ms). Each scenario breaks the node announcing the address, RUNS times per system:
#   kill9    kill -9 of the announcer (l2a agent / every keepalived process of the node)
#   sigstop  SIGSTOP of it for HOLD seconds, then SIGCONT (frozen, not dead)
#   ifdown   the announcing node's eth0 set down for HOLD seconds, then up
#   linkcut  the node's switch port taken off the LAN (the node sees no carrier change)
#   apidown  the same cut while the API server is down (stopped 5 s before; l2a's agents are
#            frozen and decide by their heartbeats; keepalived has no API server to lose)
#   oneway   the node's frames dropped at the switch (nftables on the bridge): it hears the LAN
#            but is not heard
#   starve   the announcer's processes held to 5 % of a CPU for 2 s (cgroup cpu quota)
#   sigterm  graceful stop
#   rolling  every node's announcer restarted in turn
#   drain    `l2a drain` of the announcing node (l2a only: keepalived has no planned move but
#            its graceful stop, the sigterm row); uncordoned after the run
# Systems: l2a at its defaults (4 s node lease; l2a-1s, a tuned 1 s lease, on request); keepalived (VRRP, Debian
# package) with its default timers (advert_int 1, VRRPv2) and tuned (VRRPv3, advert_int 0.1).
# keepalived announces an IPv4 address only (198.18.0.200); l2a its Service's IPv4 and IPv6.
# Prints one Markdown table: median and max over the runs of the longest TCP outage, the longest
# time nobody answered ARP/NDP, the total time two MACs answered, and lost requests.
# Usage: bench/failover.sh [SCENARIOS] [SYSTEMS]    (RUNS=10 by default)
set -uo pipefail
cd "$(dirname "$0")/.."
SCENARIOS=${1:-"kill9 sigstop ifdown linkcut apidown oneway starve sigterm rolling drain"}
SYSTEMS=${2:-"l2a-4s keepalived-default keepalived-tuned"}
RUNS=${RUNS:-10}
KA_VIP=198.18.0.200
source tests/support/netns_lab.sh
source tests/support/failover_lab.sh
lab_require_root
command -v keepalived >/dev/null || { echo "bench/failover.sh: keepalived is missing (scripts/bootstrap.sh installs it)" >&2; exit 1; }
lab_init failover
# A private copy of the binaries: a rebuild during the hour this runs must not change them.
mkdir -p "/tmp/$LAB_ID-bin" && cp "$FO_BUILD/l2a" "$FO_BUILD/l2a-lab" "/tmp/$LAB_ID-bin/"
FO_BUILD=/tmp/$LAB_ID-bin
fo_setup 3 || { echo "fail-over lab did not come up" >&2; exit 1; }
mapfile -t L2A_ADDRESSES < <(fo_service_addresses)
RESULTS=/tmp/$LAB_ID-results
: >"$RESULTS"

# --- keepalived -----------------------------------------------------------------------------
ka_start() {  # ka_start NODE: keepalived with the current KA_ADVERT/KA_VERSION, VRRP only
  local n=$1 prio=$((100 + ${1#node}))
  cat >"/tmp/$LAB_ID-ka-$n.conf" <<CONF
global_defs {
  router_id $n
  vrrp_version $KA_VERSION
  script_user root
  enable_script_security
}
vrrp_instance probe {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority $prio
  advert_int $KA_ADVERT
  virtual_ipaddress {
    $KA_VIP/24
  }
}
CONF
  lab_spawn "$n" "/tmp/$LAB_ID-ka-$n.log" keepalived --dont-fork --log-console --vrrp \
    -f "/tmp/$LAB_ID-ka-$n.conf" -p "/tmp/$LAB_ID-ka-$n.pid" -r "/tmp/$LAB_ID-ka-$n-vrrp.pid"
}
ka_pids() { ip netns pids "$(lab_ns "$1")" | while read -r p; do [[ $(cat /proc/$p/comm 2>/dev/null) == keepalived ]] && echo "$p"; done; }
ka_signal() { local p; for p in $(ka_pids "$1"); do kill "-$2" "$p" 2>/dev/null; done; }
ka_stop() {
  ka_signal "$1" TERM
  for _ in $(seq 60); do [[ -z $(ka_pids "$1") ]] && break; sleep 0.05; done
  ka_signal "$1" KILL
  for _ in $(seq 40); do [[ -z $(ka_pids "$1") ]] && break; sleep 0.05; done
}
ka_holder() {  # the node with the VIP configured (the VRRP master)
  local n
  for n in "${FO_NODES[@]}"; do
    ip -n "$(lab_ns "$n")" -br addr show dev eth0 | grep -q " $KA_VIP/" && { echo "$n"; return 0; }
  done
  return 1
}

# --- one system at a time -------------------------------------------------------------------
SYSTEM=""
targets() { if [[ $SYSTEM == l2a-* ]]; then echo "${L2A_ADDRESSES[@]}"; else echo "$KA_VIP"; fi; }
announcer() {  # the node announcing the (first) address now
  if [[ $SYSTEM == l2a-* ]]; then fo_owner "${L2A_ADDRESSES[0]}"; else ka_holder; fi
}
announcer_pids() {  # the announcer's processes on NODE
  if [[ $SYSTEM == l2a-* ]]; then echo "${FO_AGENT_PID[$1]}"; else ka_pids "$1"; fi
}
starve() {  # starve NODE SECONDS: its announcer held to 5 % of one CPU (cgroup v1 cpu quota)
  local cg=/sys/fs/cgroup/cpu/$LAB_ID-starve p
  mkdir -p "$cg" && echo 100000 >"$cg/cpu.cfs_period_us" && echo 5000 >"$cg/cpu.cfs_quota_us"
  for p in $(announcer_pids "$1"); do echo "$p" >"$cg/cgroup.procs"; done
  sleep "$2"
  for p in $(cat "$cg/cgroup.procs"); do echo "$p" >/sys/fs/cgroup/cpu/cgroup.procs; done
  rmdir "$cg"
}
start_one() { if [[ $SYSTEM == l2a-* ]]; then fo_start_agent "$1"; else ka_start "$1"; fi; }
stop_one() {  # stop_one NODE SIGNAL
  if [[ $SYSTEM == l2a-* ]]; then
    fo_stop_agent "$1" "$2"
  elif [[ $2 == TERM ]]; then
    ka_stop "$1"
  else
    ka_signal "$1" "$2"
  fi
}
l2a_admin() { ip netns exec "$LAB_LAN" env KUBECONFIG="$LAB_KUBECONFIG" "$FO_BUILD/l2a" "$@"; }
one_up() { if [[ $SYSTEM == l2a-* ]]; then fo_agent_ready "$1"; else [[ -n $(ka_pids "$1") ]]; fi; }
start_system() {
  case $SYSTEM in
    l2a-4s) FO_LEASE_MS=4000; HOLD=7 ;;
    l2a-1s) FO_LEASE_MS=1000; HOLD=3 ;;
    keepalived-default) KA_ADVERT=1; KA_VERSION=2; HOLD=7 ;;
    keepalived-tuned) KA_ADVERT=0.1; KA_VERSION=3; HOLD=3 ;;
  esac
  local n
  for n in "${FO_NODES[@]}"; do start_one "$n"; done
  for n in "${FO_NODES[@]}"; do lab_wait_for 20 one_up "$n"; done
}
stop_system() {
  local n
  for n in "${FO_NODES[@]}"; do stop_one "$n" CONT 2>/dev/null; stop_one "$n" TERM; done
}

# Back to one healthy announcer per address on every node, before the next run.
stable_single() {
  local a
  for a in $(targets); do
    [[ $(lab_exec client "$FO_BUILD/l2a" whohas "$a" -i eth0 --timeout 200 -o json | grep -o '"verdict":"[a-z]*"') == '"verdict":"owned"' ]] || return 1
  done
}
restore() {  # restore NODE: every announcer running again, links up, one owner per address
  local n=$1
  ip -n "$(lab_ns "$n")" link set eth0 up
  ip -n "$LAB_LAN" link set "v-$n" master br0 up
  stop_one "$n" CONT
  one_up "$n" 2>/dev/null || { stop_one "$n" KILL; start_one "$n"; lab_wait_for 20 one_up "$n"; }
  sleep 1
  lab_wait_for 30 stable_single || echo "  (no single owner 30 s after restoring $n)" >&2
  # l2a holds a node back from silence down for 10 s, then gives its addresses back: wait that
  # out, so the next run breaks the node that announces for good.
  if [[ $SYSTEM == l2a-* ]]; then sleep 10; lab_wait_for 30 stable_single; fi
  sleep 1
}

run_one() {  # run_one SCENARIO RUN
  local scenario=$1 run=$2 victim out
  victim=$(announcer) || { echo "  no announcer before $scenario run $run" >&2; return 1; }
  if [[ $scenario == apidown ]]; then lab_api_stop; sleep 5; fi
  out=/tmp/$LAB_ID-probe-$SYSTEM-$scenario-$run.json
  fo_probe_start "$out" $(targets) || return 1
  sleep 1
  local tail=$((HOLD / 2 + 2))
  case $scenario in
    kill9) stop_one "$victim" KILL; sleep "$HOLD" ;;
    sigterm) stop_one "$victim" TERM; sleep "$HOLD" ;;
    drain) l2a_admin drain "$victim" >/dev/null || echo "  l2a drain $victim failed" >&2; sleep "$HOLD" ;;
    sigstop) stop_one "$victim" STOP; sleep "$HOLD"; stop_one "$victim" CONT; sleep "$tail" ;;
    ifdown) ip -n "$(lab_ns "$victim")" link set eth0 down; sleep "$HOLD"
            ip -n "$(lab_ns "$victim")" link set eth0 up; sleep "$tail" ;;
    linkcut) ip -n "$LAB_LAN" link set "v-$victim" nomaster; sleep "$HOLD"
             ip -n "$LAB_LAN" link set "v-$victim" master br0; sleep "$tail" ;;
    apidown) ip -n "$LAB_LAN" link set "v-$victim" nomaster; sleep "$HOLD"
             ip -n "$LAB_LAN" link set "v-$victim" master br0; sleep "$tail" ;;
    starve) starve "$victim" 2; sleep "$tail" ;;
    oneway) ip netns exec "$LAB_LAN" nft add table bridge oneway
            ip netns exec "$LAB_LAN" nft add chain bridge oneway forward '{ type filter hook forward priority 0; }'
            ip netns exec "$LAB_LAN" nft add rule bridge oneway forward iifname "v-$victim" drop; sleep "$HOLD"
            ip netns exec "$LAB_LAN" nft delete table bridge oneway; sleep "$tail" ;;
    rolling)
      local n
      for n in "${FO_NODES[@]}"; do
        stop_one "$n" TERM; start_one "$n"; lab_wait_for 20 one_up "$n"; sleep 1
      done
      sleep "$tail" ;;
  esac
  fo_probe_stop
  [[ $scenario == apidown ]] && lab_api_start
  [[ $scenario == drain ]] && l2a_admin uncordon "$victim" >/dev/null
  restore "$victim"
  local line
  while read -r line; do
    echo "$SYSTEM $scenario $run $line" >>"$RESULTS"
  done < <(fo_probe_figures "$out")
  echo "  $SYSTEM $scenario run $run: $(fo_probe_figures "$out" | tr '\n' ';')" >&2
}

# Scenario by scenario, every system in turn: the systems of one row are measured minutes apart,
# not an hour apart, so a noisy spell of the machine falls on all of them alike.
for scenario in $SCENARIOS; do
  for SYSTEM in $SYSTEMS; do
    [[ $scenario == drain && $SYSTEM != l2a-* ]] && continue
    start_system
    lab_wait_for 30 stable_single || echo "  $SYSTEM: no single owner at start" >&2
    for ((r = 1; r <= RUNS; r++)); do run_one "$scenario" "$r"; done
    stop_system
  done
done

# --- the table ------------------------------------------------------------------------------
python3 - "$RESULTS" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    system, scenario, run, address, gap, lost, unanswered, overlap, longest_overlap, connects = line.split()
    family = "IPv6" if ":" in address else "IPv4"
    rows.setdefault((scenario, system, family), []).append(
        (int(gap), int(unanswered), int(overlap), int(lost)))
names = {"l2a-4s": "l2a defaults (40 ms heartbeats, 4 s lease)", "l2a-1s": "l2a, 1 s lease",
         "keepalived-default": "keepalived, advert_int 1 (default)",
         "keepalived-tuned": "keepalived, VRRPv3 advert_int 0.1"}
print("| scenario | system | family | runs | TCP outage ms, median / max | nobody answers ARP/NDP ms, median / max | two MACs answer ms, median / max | lost requests, median / max |")
print("|---|---|---|---:|---:|---:|---:|---:|")
for (scenario, system, family), v in rows.items():
    def col(i):
        xs = [x[i] for x in v]
        return f"{statistics.median(xs):g} / {max(xs)}"
    print(f"| {scenario} | {names.get(system, system)} | {family} | {len(v)} | {col(0)} | {col(1)} | {col(2)} | {col(3)} |")
PY
