# The fail-over lab, shared by the fail-over benchmark (bench/failover.sh) and the chaos suite
# (tests/chaos/chaos.sh): the control plane (CONTROL_PLANE kube — l2a's components then reach it
# through the fault proxy — or lab), the operator with one pool, N nodes each with a kube-proxy
# stand-in backend, a client, one L2 policy and one dual-stack Service "probe"; agents started,
# signalled and restarted per node; the prober (`l2a-lab probe`) in the client.
# Source after netns_lab.sh; call fo_setup after lab_init. Addresses only from 198.18.0.0/15
# and 2001:db8::/32.

FO_BUILD=${FO_BUILD:-build}
declare -A FO_AGENT_PID=()
FO_NODES=()
FO_LEASE_MS=4000
FO_AGENT_ARGS=()  # more arguments for every agent

fo_setup() {  # fo_setup NODES: everything but the agents
  local count=$1 i
  L2A_LAB=$FO_BUILD/l2a-lab lab_control_plane || return 1
  L2A_LAB=$FO_BUILD/l2a-lab lab_fault_proxy || return 1
  FO_AGENT_KUBECONFIG=$(lab_component_kubeconfig agent) || return 1
  FO_OPERATOR_KUBECONFIG=$(lab_component_kubeconfig operator) || return 1
  lab_kubectl apply -f deploy/crds/ >/dev/null || return 1
  FO_NODES=()
  for ((i = 1; i <= count; i++)); do
    local n=node$i
    FO_NODES+=("$n")
    lab_host "$n" "198.18.0.$((10 + i))/24" "2001:db8::$((10 + i))/64"
    lab_service_backend "$n" "198.18.0.$((10 + i))" "2001:db8::$((10 + i))" "/tmp/$LAB_ID-www-$n"
    lab_node_object "$n" "198.18.0.$((10 + i))" "2001:db8::$((10 + i))" || return 1
  done
  lab_host client 198.18.0.100/24 2001:db8::100/64
  lab_kubectl apply -f - >/dev/null <<'YAML'
apiVersion: l2announcer.io/v1alpha1
kind: LoadBalancerIPPool
metadata: {name: probe-pool}
spec:
  blocks: [{cidr: 198.18.0.128/28}, {cidr: "2001:db8::1:0/124"}]
---
apiVersion: l2announcer.io/v1alpha1
kind: L2AnnouncementPolicy
metadata: {name: probe-policy}
spec: {loadBalancerIPs: true, interfaces: ["^eth0$"]}
---
apiVersion: v1
kind: Service
metadata: {name: probe, namespace: default}
spec:
  type: LoadBalancer
  ipFamilyPolicy: RequireDualStack
  ipFamilies: [IPv4, IPv6]
  ports: [{name: http, port: 80, protocol: TCP}]
YAML
  fo_start_operator
  lab_wait_for 15 fo_service_has_addresses || return 1
}

fo_start_operator() {
  lab_spawn "${FO_NODES[0]}" "/tmp/$LAB_ID-operator.log" "$FO_BUILD/l2a" operator \
    --kubeconfig "$FO_OPERATOR_KUBECONFIG" --namespace "$L2A_NS" --metrics-bind 127.0.0.1:9612
  FO_OPERATOR_PID=$LAB_LAST_PID
}

fo_service_addresses() {  # the probe Service's addresses, one per line
  lab_kubectl get svc probe -o jsonpath='{range .status.loadBalancer.ingress[*]}{.ip}{"\n"}{end}' 2>/dev/null
}
fo_service_has_addresses() { [[ $(fo_service_addresses | wc -l) -eq 2 ]]; }

fo_start_agent() {  # fo_start_agent NODE: with lease FO_LEASE_MS (renew deadline 3/4, retry 1/4)
  local n=$1
  lab_spawn "$n" "/tmp/$LAB_ID-agent-$n.log" "$FO_BUILD/l2a" agent --node-name "$n" \
    --kubeconfig "$FO_AGENT_KUBECONFIG" --namespace "$L2A_NS" --interface '^eth0$' --lease-duration-ms "$FO_LEASE_MS" \
    --renew-deadline-ms $((FO_LEASE_MS * 3 / 4)) --retry-period-ms $((FO_LEASE_MS / 4)) \
    --metrics-bind 127.0.0.1:9611 "${FO_AGENT_ARGS[@]}"
  FO_AGENT_PID[$n]=$LAB_LAST_PID
}

fo_agent_ready() { lab_exec "$1" curl -sf -o /dev/null http://127.0.0.1:9611/readyz; }

fo_start_agents() {
  local n
  for n in "${FO_NODES[@]}"; do fo_start_agent "$n"; done
  for n in "${FO_NODES[@]}"; do lab_wait_for 20 fo_agent_ready "$n" || return 1; done
}

fo_stop_agent() {  # fo_stop_agent NODE SIGNAL: signal it and, unless STOP/CONT, reap it
  local n=$1 signal=$2 pid=${FO_AGENT_PID[$1]}
  lab_is_child "$pid" || return 0  # gone already (its number may be someone else's now)
  kill "-$signal" "$pid" 2>/dev/null
  [[ $signal == STOP || $signal == CONT ]] && return 0
  # Until it is gone or a zombie (kill -0 still succeeds on a zombie).
  for _ in $(seq 100); do [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) =~ ^[^Z]$ ]] || break; sleep 0.05; done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}

fo_metric() {  # fo_metric NODE PATTERN: the sum of NODE's agent's samples matching PATTERN
  lab_exec "$1" curl -sf --max-time 2 http://127.0.0.1:9611/metrics | awk -v p="$2" '$0 ~ p && $1 !~ /^#/ {s += $NF} END {print s + 0}'
}

fo_node_of_mac() {  # fo_node_of_mac MAC: the node whose eth0 has MAC
  local n
  for n in "${FO_NODES[@]}"; do
    [[ $(lab_mac "$n") == "$1" ]] && { echo "$n"; return 0; }
  done
  return 1
}

fo_owner() {  # fo_owner ADDRESS: the one node answering for ADDRESS on the LAN (fails otherwise)
  local json
  json=$(lab_exec client "$FO_BUILD/l2a" whohas "$1" -i eth0 --timeout 300 -o json) || return 1
  fo_node_of_mac "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["owners"][0]["mac"])' <<<"$json")"
}

fo_probe_start() {  # fo_probe_start OUTFILE ADDRESS...: the prober in the client (on FO_PROBE_INTERFACE, eth0), until fo_probe_stop
  local out=$1 a args=(--interface "${FO_PROBE_INTERFACE:-eth0}")
  shift
  for a in "$@"; do args+=(--target "$a"); done
  rm -f "$out.ready"
  ip netns exec "$(lab_ns client)" "$FO_BUILD/l2a-lab" probe "${args[@]}" --ready-file "$out.ready" >"$out" 2>"$out.err" &
  FO_PROBE_PID=$!
  LAB_PIDS+=("$FO_PROBE_PID")
  lab_wait_for 5 test -f "$out.ready"
}

fo_probe_stop() {
  kill -TERM "$FO_PROBE_PID" 2>/dev/null
  wait "$FO_PROBE_PID" 2>/dev/null
}

# One line per address from a prober's output: ADDRESS longestGapMs lost longestUnansweredMs
# overlapMs longestOverlapMs connects (open gaps count up to the end of the run).
fo_probe_figures() {  # fo_probe_figures OUTFILE
  python3 - "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for address, s in d["targets"].items():
    longest_overlap = max([p["lengthMs"] for p in s["overlaps"]] or [0])
    print(address, round(s["longestGapMs"]), s["lost"], round(s["longestUnansweredMs"]),
          round(s["overlapMs"]), round(longest_overlap), s["connects"])
PY
}
