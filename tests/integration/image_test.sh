#!/usr/bin/env bash
# The container image (scripts/image.sh, make image) built with podman from the binary just
# built, and run as the DaemonSet runs it: two nodes' agents are containers in the nodes'
# network namespaces with the chart's own arguments and environment (NODE_NAME), every
# capability dropped but NET_RAW, a read-only root filesystem and the ServiceAccount credentials
# mounted where a pod has them (in-cluster config: what deploy/ grants is all they get), on
# kube-apiserver. The seed story: a Service gets an address, a node answers ARP and NDP for it,
# curl works, a silent cut of that node fails over. Without NET_RAW the agent stops with one
# line naming the capability. Then make demo's whole story on `l2a-lab up --agents-from-image`.
set -u
cd "$(dirname "$0")/../.."
source tests/support/netns_lab.sh
source tests/support/failover_lab.sh
source tests/support/agent_pod.sh
lab_require_root
lab_init image
BUILD=${FO_BUILD:-build}
IMAGE_LOG=/tmp/$LAB_ID-image.log
check "scripts/image.sh builds the Dockerfile with podman, no registry (from the binary just built)" bash -c "bash scripts/image.sh --from binary '$BUILD' >'$IMAGE_LOG' 2>&1"
VERSION=$("$BUILD/l2a" version | awk '{print $2}')
IMAGE=localhost/l2a:$VERSION
SIZE_MB=$(($(podman image inspect "$IMAGE" --format '{{.Size}}') / 1024 / 1024))
echo "     $(cat "$IMAGE_LOG")"
check "the image is small: ${SIZE_MB} MiB <= 60" test "$SIZE_MB" -le 60
check "it is written as an OCI archive" bash -c "tar -tf '$BUILD/l2a-image.tar' | grep -qx index.json"
check "its labels record the Debian packages of its libraries" \
  lab_output_has 'libcpp-httplib0.11=' podman image inspect "$IMAGE" --format '{{index .Labels "io.l2announcer.debian-packages"}}'
check "l2a version runs in it" lab_output_has "^l2a $VERSION\$" "${AGENT_POD_PODMAN[@]}" --rm "$IMAGE" version

# --- pushed to a registry as docs/install.md says, and pulled back from it ---------------------
# A registry of our own on loopback (Debian's docker-registry), on a port nobody holds.
REGISTRY_DIR=/tmp/$LAB_ID-registry
for port in $(shuf -i 20000-29999 -n 20); do ss -ltn "( sport = :$port )" | grep -q LISTEN || break; done
REGISTRY=127.0.0.1:$port
mkdir -p "$REGISTRY_DIR"
printf 'version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: %s/data}}\nhttp: {addr: %s}\n' \
  "$REGISTRY_DIR" "$REGISTRY" >"$REGISTRY_DIR/config.yml"
docker-registry serve "$REGISTRY_DIR/config.yml" >"$REGISTRY_DIR/log" 2>&1 &
REGISTRY_PID=$!
LAB_PIDS+=("$REGISTRY_PID")  # stopped by lab_cleanup whatever happens
lab_wait_for 10 curl -sf "http://$REGISTRY/v2/" >/dev/null
check "skopeo copy oci-archive:$BUILD/l2a-image.tar docker://$REGISTRY/l2a:$VERSION" \
  skopeo copy -q --dest-tls-verify=false "oci-archive:$BUILD/l2a-image.tar" "docker://$REGISTRY/l2a:$VERSION"
check "  ...and podman pulls it back from the registry" podman pull -q --tls-verify=false "$REGISTRY/l2a:$VERSION"
kill "$REGISTRY_PID"; wait "$REGISTRY_PID" 2>/dev/null
check "  ...the same image" test "$(podman image inspect "$REGISTRY/l2a:$VERSION" --format '{{.Digest}}')" = \
  "$(podman image inspect "$IMAGE" --format '{{.Digest}}')"
# The agents below run from the image as pulled from the registry.
PULLED=$REGISTRY/l2a:$VERSION
check "  ...which runs" lab_output_has "^l2a $VERSION\$" "${AGENT_POD_PODMAN[@]}" --rm "$PULLED" version

# --- the seed story with agents from the image -----------------------------------------------
# The fail-over lab (tests/support/failover_lab.sh): control plane, operator, three nodes with
# backends, a client, the dual-stack Service "probe" with its addresses — all but the agents.
fo_setup 3 || { echo "FAIL - the fail-over lab did not come up"; exit 1; }
SA=/tmp/$LAB_ID-serviceaccount
agent_pod_serviceaccount "$SA" "$LAB_CP_DIR/pki/ca.crt"
# The DaemonSet as the chart renders it by default, on this lab's interface.
CHART=/tmp/$LAB_ID-chart.yaml
helm template l2announcer deploy/helm/l2announcer -n "$L2A_NS" --set agent.interface='^eth0$' >"$CHART"
mapfile -t AGENT_ARGS < <(agent_pod_ask "$CHART" args)
mapfile -t SECURITY < <(agent_pod_ask "$CHART" podman)
echo "     the chart's securityContext as podman options: ${SECURITY[*]}"
check "  ...drop every capability, add only NET_RAW, read-only root" \
  bash -c "[[ '${SECURITY[*]}' == *--cap-drop=ALL* && '${SECURITY[*]}' == *--cap-add=NET_RAW* && '${SECURITY[*]}' == *--read-only* && \$(printf '%s\n' ${SECURITY[*]} | grep -c cap-add) -eq 1 ]]"
agent_container() { agent_pod_run "$LAB_ID-$1" "$2" "$SA" "$PULLED" "$CHART" --rm; }
lab_stop_containers() { podman ps -a --format '{{.Names}}' | grep "^$LAB_ID-" | xargs -r podman rm -f >/dev/null 2>&1; }
trap 'lab_stop_containers; lab_cleanup' EXIT
for n in "${FO_NODES[@]}"; do
  agent_container "$n" "$n" >"/tmp/$LAB_ID-agent-$n.log" 2>&1 &
done
check "the chart's agent arguments were read" test "${#AGENT_ARGS[@]}" -gt 5
mapfile -t ADDRESSES < <(fo_service_addresses)
V4=${ADDRESSES[0]} V6=${ADDRESSES[1]}
check "a node's agent container answers ARP for $V4 (arping)" lab_wait_for 30 lab_exec client arping -c 1 -w 1 -I eth0 "$V4"
check "  ...and NDP for $V6 (ndisc6)" lab_wait_for 10 lab_exec client ndisc6 -1 -r 1 "$V6" eth0
OWNER=$(fo_owner "$V4")
check "curl reaches the Service through $OWNER" lab_output_has "served by $OWNER" lab_exec client curl -s -m 3 "http://$V4/"
served_elsewhere() { lab_exec client curl -s -m 1 "http://$V4/" | grep -q "served by" && ! lab_exec client curl -s -m 1 "http://$V4/" | grep -q "$OWNER"; }
ip -n "$LAB_LAN" link set "v-$OWNER" nomaster
check "a silent cut of $OWNER fails over to another node's agent container" lab_wait_for 5 served_elsewhere
ip -n "$LAB_LAN" link set "v-$OWNER" master br0

# --- the chart's probes and resources against what the containers do -------------------------
# A kubelet probes a host-network pod on the node's own addresses.
while read -r kind path port; do
  for n in "${FO_NODES[@]}"; do
    check "the chart's $kind probe (GET $path on port $port) answers 200 on $n" \
      lab_wait_for 10 lab_exec "$n" curl -sf -o /dev/null "http://127.0.0.1:$port$path"
  done
done < <(agent_pod_ask "$CHART" probes)
read -r MEM_REQUEST MEM_LIMIT CPU_REQUEST < <(agent_pod_ask "$CHART" resources)
container_pid() { podman inspect --format '{{.State.Pid}}' "$LAB_ID-$1"; }
for n in "${FO_NODES[@]}"; do
  pid=$(container_pid "$n")
  ticks0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  sleep 5
  ticks1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  rss=$(($(awk '/^VmRSS/ {print $2}' "/proc/$pid/status") / 1024))
  cpu=$(((ticks1 - ticks0) * 1000 / $(getconf CLK_TCK) / 5))
  echo "     $n's agent container: RSS $rss MiB (chart request ${MEM_REQUEST} MiB, limit ${MEM_LIMIT} MiB), CPU ${cpu}m over 5 s (request ${CPU_REQUEST}m)"
  check "  ...$n's agent fits the chart's memory request" test "$rss" -le "$MEM_REQUEST"
done
check "no container exited" bash -c "[[ \$(podman ps --format '{{.Names}}' | grep -c '^$LAB_ID-') -eq 3 ]]"

# --- without NET_RAW ------------------------------------------------------------------------
AGENT_POD_CAPS=none agent_container nocap node1 >"/tmp/$LAB_ID-nocap.out" 2>"/tmp/$LAB_ID-nocap.err" </dev/null
STATUS=$?
check "without NET_RAW the agent stops (status $STATUS, 70)" test "$STATUS" -eq 70
check "  ...with one line naming the capability" \
  bash -c "[[ \$(wc -l <'/tmp/$LAB_ID-nocap.err') -eq 1 ]] && grep -q 'CAP_NET_RAW' '/tmp/$LAB_ID-nocap.err'"

# --- the demo's seed story on a lab cluster whose agents run from the image -------------------
lab_stop_containers
podman rmi "$PULLED" >/dev/null 2>&1  # the registry's tag of the same image
lab_cleanup  # this test's lab first: one control plane at a time on two cores
trap - EXIT
check "make demo's story holds with every agent from the image (l2a-lab up --agents-from-image)" \
  bash -c "bash scripts/demo.sh --control-plane kube --agents-from-image >'/tmp/$LAB_ID-demo.log' 2>&1"
grep -q "FAILED" "/tmp/$LAB_ID-demo.log" && sed 's/^/       /' "/tmp/$LAB_ID-demo.log" | tail -30
grep -E "took over|answered again" "/tmp/$LAB_ID-demo.log" | sed 's/^ */     demo: /'
lab_finish
