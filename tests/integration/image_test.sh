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
lab_require_root
lab_init image
BUILD=${FO_BUILD:-build}
IMAGE_LOG=/tmp/$LAB_ID-image.log
check "scripts/image.sh builds the image with podman, no registry" bash -c "bash scripts/image.sh '$BUILD' >'$IMAGE_LOG' 2>&1"
VERSION=$("$BUILD/l2a" version | awk '{print $2}')
IMAGE=localhost/l2a:$VERSION
SIZE_MB=$(($(podman image inspect "$IMAGE" --format '{{.Size}}') / 1024 / 1024))
echo "     $(cat "$IMAGE_LOG")"
check "the image is small: ${SIZE_MB} MiB <= 60" test "$SIZE_MB" -le 60
check "it is written as an OCI archive" bash -c "tar -tf '$BUILD/l2a-image.tar' | grep -qx index.json"
check "its labels record the Debian packages of its libraries" \
  lab_output_has 'libcurl4=' podman image inspect "$IMAGE" --format '{{index .Labels "io.l2announcer.debian-packages"}}'
PODMAN=(podman --runtime runc run --rm --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
check "l2a version runs in it" lab_output_has "^l2a $VERSION\$" "${PODMAN[@]}" "$IMAGE" version

# --- the seed story with agents from the image -----------------------------------------------
# The fail-over lab (tests/support/failover_lab.sh): control plane, operator, three nodes with
# backends, a client, the dual-stack Service "probe" with its addresses — all but the agents.
fo_setup 3 || { echo "FAIL - the fail-over lab did not come up"; exit 1; }
# A pod's ServiceAccount volume: token, CA, namespace.
SA=/tmp/$LAB_ID-serviceaccount
mkdir -p "$SA"
lab_kubectl create token l2a-agent -n "$L2A_NS" --duration=1h >"$SA/token"
cp "$LAB_CP_DIR/pki/ca.crt" "$SA/ca.crt"
echo "$L2A_NS" >"$SA/namespace"
# The DaemonSet's arguments, as the chart renders them by default.
mapfile -t AGENT_ARGS < <(helm template l2announcer deploy/helm/l2announcer -n "$L2A_NS" |
  python3 -c 'import sys, yaml
for d in yaml.safe_load_all(sys.stdin):
    if d and d["kind"] == "DaemonSet":
        print("\n".join(d["spec"]["template"]["spec"]["containers"][0]["args"]))')
agent_container() {  # agent_container NAME NODE [PODMAN ARGS...]: the agent as the DaemonSet runs it
  local name=$1 n=$2
  shift 2
  "${PODMAN[@]}" --name "$LAB_ID-$name" --network "ns:/run/netns/$(lab_ns "$n")" --read-only \
    -e NODE_NAME="$n" -e KUBERNETES_SERVICE_HOST=198.18.0.1 -e KUBERNETES_SERVICE_PORT=6443 \
    -v "$SA:/var/run/secrets/kubernetes.io/serviceaccount:ro" "$@" "$IMAGE" "${AGENT_ARGS[@]}" --interface='^eth0$'
}
lab_stop_containers() { podman ps -a --format '{{.Names}}' | grep "^$LAB_ID-" | xargs -r podman rm -f >/dev/null 2>&1; }
trap 'lab_stop_containers; lab_cleanup' EXIT
for n in "${FO_NODES[@]}"; do
  agent_container "$n" "$n" --cap-drop ALL --cap-add NET_RAW >"/tmp/$LAB_ID-agent-$n.log" 2>&1 &
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
check "no container exited" bash -c "[[ \$(podman ps --format '{{.Names}}' | grep -c '^$LAB_ID-') -eq 3 ]]"

# --- without NET_RAW ------------------------------------------------------------------------
agent_container nocap node1 --cap-drop ALL >"/tmp/$LAB_ID-nocap.out" 2>"/tmp/$LAB_ID-nocap.err" </dev/null
STATUS=$?
check "without NET_RAW the agent stops (status $STATUS, 70)" test "$STATUS" -eq 70
check "  ...with one line naming the capability" \
  bash -c "[[ \$(wc -l <'/tmp/$LAB_ID-nocap.err') -eq 1 ]] && grep -q 'CAP_NET_RAW' '/tmp/$LAB_ID-nocap.err'"

# --- the demo's seed story on a lab cluster whose agents run from the image -------------------
lab_stop_containers
lab_cleanup  # this test's lab first: one control plane at a time on two cores
trap - EXIT
check "make demo's story holds with every agent from the image (l2a-lab up --agents-from-image)" \
  bash -c "bash scripts/demo.sh --control-plane kube --agents-from-image >'/tmp/$LAB_ID-demo.log' 2>&1"
grep -q "FAILED" "/tmp/$LAB_ID-demo.log" && sed 's/^/       /' "/tmp/$LAB_ID-demo.log" | tail -30
grep -E "took over|answered again" "/tmp/$LAB_ID-demo.log" | sed 's/^ */     demo: /'
lab_finish
