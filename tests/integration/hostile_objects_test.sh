#!/usr/bin/env bash
# Hostile objects on the real control plane: for each kind the agents and the operator read, a
# field of the wrong type or shape that kube-apiserver lets through (annotations, custom objects
# whose schema preserves unknown fields, Cilium's kinds) — a Lease's interfaces annotation
# {"eth0": true} (once it killed every agent at once), a node weight of NaN, a policy and a pool
# with wrong-typed fields, a Service asking for garbage addresses. Then: no process exits, every
# address stays announced by exactly one node, a new Service still gets an address and is
# announced, and each object's problem is visible (a metric, a condition).
set -u
source "$(dirname "$0")/../support/netns_lab.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
L2A=${L2A:-$ROOT/build/l2a}
lab_require_root
lab_init hostileobj
lab_control_plane || { echo "FAIL - the $LAB_CONTROL_PLANE control plane did not start"; exit 1; }
kubectl() { lab_kubectl "$@"; }
kubectl apply -f "$ROOT/deploy/crds/" -f "$ROOT/deploy/crds/cilium/" >/dev/null
NODES="w1 w2 w3"
declare -A AGENT NODE_OF_MAC
i=10
for n in $NODES; do
  i=$((i + 1))
  lab_host "$n" "198.18.0.$i/24" "2001:db8::$i/64"
  NODE_OF_MAC[$(lab_mac "$n")]=$n
  lab_node_object "$n" "198.18.0.$i" "2001:db8::$i"
done
lab_host client 198.18.0.100/24 2001:db8::100/64
AGENT_KUBECONFIG=$(lab_component_kubeconfig agent)
for n in $NODES; do
  lab_spawn "$n" "/tmp/$LAB_ID-agent-$n.log" "$L2A" agent --node-name "$n" --kubeconfig "$AGENT_KUBECONFIG" \
    --interface '^eth0$' --lease-duration-ms 2000 --renew-deadline-ms 1500 --retry-period-ms 300
  AGENT[$n]=$LAB_LAST_PID
done
lab_spawn lan "/tmp/$LAB_ID-operator.log" "$L2A" operator --kubeconfig "$(lab_component_kubeconfig operator)"
OPERATOR=$LAB_LAST_PID
kubectl apply -f "$ROOT/examples/seed/l2announcer/pool.yaml" -f "$ROOT/examples/seed/l2announcer/l2policy.yaml" >/dev/null
service() {  # service NAME
  sed "s/name: httpd/name: $1/" "$ROOT/examples/seed/l2announcer/service.yaml" | kubectl apply -f - >/dev/null
}
service steady
addresses() { kubectl get svc "$1" -o jsonpath='{.status.loadBalancer.ingress[*].ip}'; }
two_addresses() { [[ $(addresses "$1" | wc -w) -eq 2 ]]; }
check "a dual-stack Service gets two addresses" lab_wait_for 15 two_addresses steady
one_owner() {  # one_owner ADDRESS: exactly one node answers
  local json
  json=$(lab_exec client "$L2A" whohas --interface eth0 --timeout 300 -o json "$1") || return 1
  [[ -n ${NODE_OF_MAC[$(python3 -c 'import json,sys; print(json.load(sys.stdin)["owners"][0]["mac"])' <<<"$json")]:-} ]]
}
all_announced() { local a; for a in $(addresses "$1"); do one_owner "$a" || return 1; done; }
check "each of its addresses has exactly one announcer" lab_wait_for 15 all_announced steady

echo "# the hostile objects"
kubectl apply -f - >/dev/null <<'YAML'
apiVersion: v1
kind: Node
metadata:
  name: ghost
  annotations: {l2announcer.io/weight: "nan"}
---
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata:
  name: l2a-node-ghost
  namespace: l2announcer
  annotations: {l2announcer.io/interfaces: '{"eth0":true}'}
spec: {holderIdentity: ghost, leaseDurationSeconds: 2147483647}
---
apiVersion: cilium.io/v2alpha1
kind: CiliumL2AnnouncementPolicy
metadata: {name: bad-policy}
spec: {interfaces: eth0, serviceSelector: {matchLabels: 5}, loadBalancerIPs: "yes"}
---
apiVersion: cilium.io/v2alpha1
kind: CiliumLoadBalancerIPPool
metadata: {name: bad-pool}
spec: {blocks: "x", serviceSelector: {matchExpressions: "y"}, disabled: "no"}
---
apiVersion: l2announcer.io/v1alpha1
kind: L2AnnouncementPolicy
metadata: {name: bad-selector}
spec: {serviceSelector: {matchLabels: {announcement: 5}}, loadBalancerIPs: true}
---
apiVersion: v1
kind: Service
metadata:
  name: garbage
  namespace: default
  annotations: {l2announcer.io/ips: "not-an-address,::::"}
spec: {type: LoadBalancer, ports: [{port: 80}]}
YAML
kubectl annotate node w1 l2announcer.io/weight=-inf --overwrite >/dev/null
kubectl annotate lease -n l2announcer l2a-node-w2 'l2announcer.io/interfaces={"eth0":true}' --overwrite >/dev/null
sleep 5
alive() {
  local n
  kill -0 "$OPERATOR" || { echo "the operator exited: $(tail -3 "/tmp/$LAB_ID-operator.log")"; return 1; }
  for n in $NODES; do
    kill -0 "${AGENT[$n]}" || { echo "the agent on $n exited: $(tail -3 "/tmp/$LAB_ID-agent-$n.log")"; return 1; }
  done
}
check "every agent and the operator still run" alive
check "every address of the steady Service still has exactly one announcer" all_announced steady
service after
check "a new Service still gets its addresses" lab_wait_for 15 two_addresses after
check "and is announced" lab_wait_for 15 all_announced after

echo "# each problem is visible"
malformed() {  # malformed NODE: that agent's l2a_malformed_objects
  lab_exec "$1" curl -s http://127.0.0.1:9611/metrics | awk '$1 == "l2a_malformed_objects" {print $2}'
}
counted() { [[ $(malformed w3) -ge 1 ]]; }
check "agents count the malformed Lease and weights (l2a_malformed_objects on w3: $(malformed w3))" lab_wait_for 10 counted
check "  ...and log each once" grep -q 'event=malformed_object node=w3 problem="Node ghost: .*weight' "/tmp/$LAB_ID-agent-w3.log"
condition() {  # condition KIND/NAME TYPE: that condition's status
  kubectl get "$1" -o jsonpath="{.status.conditions[?(@.type==\"$2\")].status}"
}
malformed_policy() { [[ $(condition ciliuml2announcementpolicy/bad-policy MalformedObject) == True ]]; }
check "the malformed Cilium policy gets MalformedObject=True" lab_wait_for 10 malformed_policy
bad_selector() { [[ $(condition l2announcementpolicy/bad-selector InvalidServiceSelector) == True ]]; }
check "the policy whose selector has a number for a label value gets InvalidServiceSelector=True" lab_wait_for 10 bad_selector
bad_pool() { [[ $(condition ciliumloadbalancerippool/bad-pool cilium.io/BlocksValid) == False ]]; }
check "the malformed pool gets cilium.io/BlocksValid=False" lab_wait_for 10 bad_pool
garbage() {
  [[ $(kubectl get svc garbage -o jsonpath='{.status.conditions[?(@.type=="l2announcer.io/IPAMRequestSatisfied")].reason}') == invalid_request ]]
}
check "the Service asking for garbage addresses is refused with invalid_request" lab_wait_for 10 garbage
republished() {
  kubectl get lease -n l2announcer l2a-node-w2 -o jsonpath='{.metadata.annotations.l2announcer\.io/interfaces}' | grep -q mac
}
check "w2 republished its own interfaces over the bad annotation" lab_wait_for 10 republished
lab_finish
