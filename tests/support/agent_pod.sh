# The agent as the chart's DaemonSet runs it, as a podman container of the l2a image in a lab
# node's network namespace: the chart's arguments, podman options made from the container's
# securityContext (tests/support/daemonset_pod.py: nothing the chart does not grant), NODE_NAME,
# in-cluster configuration and the ServiceAccount volume where a pod has it. Used by the image test
# and `l2a-lab up --agents-from-image`. Needs netns_lab.sh (lab_ns, lab_kubectl, L2A_NS).

# The ulimits this machine's hard limits allow (podman's defaults are above them).
AGENT_POD_PODMAN=(podman --runtime runc run --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
AGENT_POD_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# agent_pod_serviceaccount DIR CA: a pod's ServiceAccount volume for l2a-agent (token, CA, namespace)
agent_pod_serviceaccount() {
  mkdir -p "$1"
  lab_kubectl create token l2a-agent -n "$L2A_NS" --duration=24h >"$1/token" || return 1
  cp "$2" "$1/ca.crt" && echo "$L2A_NS" >"$1/namespace"
}

# agent_pod_ask CHART QUESTION: daemonset_pod.py's answer about the rendered chart in file CHART
agent_pod_ask() { python3 "$AGENT_POD_HERE/daemonset_pod.py" "$2" <"$1"; }

# agent_pod_run NAME NODE SA IMAGE CHART [PODMAN OPTIONS...]: start the container NAME. With
# AGENT_POD_CAPS=none the capabilities the chart adds are not added (the missing-capability case).
agent_pod_run() {
  local name=$1 node=$2 sa=$3 image=$4 chart=$5 args security
  shift 5
  mapfile -t args < <(agent_pod_ask "$chart" args)
  mapfile -t security < <(agent_pod_ask "$chart" podman)
  [[ ${AGENT_POD_CAPS:-} == none ]] && mapfile -t security < <(printf '%s\n' "${security[@]}" | grep -v '^--cap-add=')
  "${AGENT_POD_PODMAN[@]}" --name "$name" --network "ns:/run/netns/$(lab_ns "$node")" "${security[@]}" \
    -e NODE_NAME="$node" -e KUBERNETES_SERVICE_HOST=198.18.0.1 -e KUBERNETES_SERVICE_PORT=6443 \
    -v "$sa:/var/run/secrets/kubernetes.io/serviceaccount:ro" "$@" "$image" "${args[@]}"
}
