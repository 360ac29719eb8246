#!/usr/bin/env bash
# A missing permission on the real control plane (kube-apiserver, RBAC) is an error that names
# it — in the log, in /readyz and in `l2a explain` — never read as "that kind is not installed"
# or "there is none": the operator without the right to list Cilium's pools (whose CRD is
# installed) waits, not ready, and starts once the permission is granted; the agent without the
# right to list EndpointSlices is not ready and says why; explain run by someone who may not
# read the agents' Leases says so instead of calling every node dead.
set -u
source "$(dirname "$0")/../support/netns_lab.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
L2A=${L2A:-$ROOT/build/l2a}
lab_require_root
[[ $LAB_CONTROL_PLANE == kube ]] || { echo "FAIL - RBAC needs the kube control plane"; exit 1; }
lab_init rbac
lab_control_plane || { echo "FAIL - the control plane did not start"; exit 1; }
kubectl() { lab_kubectl "$@"; }
kubectl apply -f "$ROOT/deploy/crds/" -f "$ROOT/deploy/crds/cilium/" >/dev/null
kubectl apply -f "$ROOT/examples/seed/cilium/pool.yaml" -f "$ROOT/examples/seed/cilium/service.yaml" >/dev/null
lab_host node1 198.18.0.11/24 2001:db8::11/64
lab_node_object node1 198.18.0.11 2001:db8::11
readyz() { lab_exec "$1" curl -s "http://127.0.0.1:$2/readyz"; }
# A ClusterRole of deploy/ without the rules that name RESOURCE.
without() {  # without CLUSTERROLE RESOURCE
  kubectl get clusterrole "$1" -o json | python3 -c 'import json,sys
role = json.load(sys.stdin)
for rule in role["rules"]:
    rule["resources"] = [r for r in rule["resources"] if r != sys.argv[1]]
role["rules"] = [r for r in role["rules"] if r["resources"]]
for key in ("resourceVersion", "uid", "creationTimestamp", "managedFields"):
    role["metadata"].pop(key, None)
print(json.dumps(role))' "$2" | kubectl replace -f - >/dev/null
}

echo "# the operator may not list Cilium's pools"
without l2a-operator ciliumloadbalancerippools
lab_spawn lan "/tmp/$LAB_ID-operator.log" "$L2A" operator --kubeconfig "$(lab_component_kubeconfig operator)" \
  --metrics-bind 127.0.0.1:9612
says() { lab_output_has "$3" readyz "$1" "$2"; }  # says HOST PORT PATTERN
check "its /readyz says not ready, naming the resource and the ServiceAccount" lab_wait_for 15 \
  says lan 9612 'not ready: discovery failed: .*ciliumloadbalancerippools.* is forbidden: User "system:serviceaccount:l2announcer:l2a-operator" cannot list'
check "its log says so (event=discovery_failed, forbidden)" grep -q 'event=discovery_failed.*forbidden' "/tmp/$LAB_ID-operator.log"
check "it allocates nothing meanwhile (it did not take the kind for missing)" \
  test -z "$(kubectl get svc httpd -o jsonpath='{.status.loadBalancer.ingress}')"
lab_deploy_rbac
check "permission granted: it becomes ready" lab_wait_for 20 says lan 9612 '^ready'
has_address() { [[ -n $(kubectl get svc httpd -o jsonpath='{.status.loadBalancer.ingress[0].ip}') ]]; }
check "and gives the seed's Service its addresses from the Cilium pool" lab_wait_for 10 has_address

echo "# the agent may not list EndpointSlices"
without l2a-agent endpointslices
lab_spawn node1 "/tmp/$LAB_ID-agent.log" "$L2A" agent --node-name node1 \
  --kubeconfig "$(lab_component_kubeconfig agent)" --interface '^eth0$'
check "its /readyz names the refused list" lab_wait_for 15 \
  says node1 9611 'not ready: discovery.k8s.io/endpointslices list_failed: .*forbidden: User "system:serviceaccount:l2announcer:l2a-agent" cannot list resource "endpointslices"'
check "its log says so" grep -q 'event=list_failed resource=discovery.k8s.io/endpointslices.*forbidden' "/tmp/$LAB_ID-agent.log"
lab_deploy_rbac
check "permission granted: it becomes ready" lab_wait_for 20 says node1 9611 '^ready'

echo "# l2a explain by someone who may read Services but not the agents' Leases"
kubectl apply -f - >/dev/null <<'YAML'
apiVersion: v1
kind: ServiceAccount
metadata: {name: viewer, namespace: default}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: l2a-viewer}
rules:
- apiGroups: ["", discovery.k8s.io, l2announcer.io, cilium.io, metallb.io]
  resources: [services, nodes, endpointslices, l2announcementpolicies, ciliuml2announcementpolicies,
    loadbalancerippools, ciliumloadbalancerippools, ipaddresspools, l2advertisements]
  verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: l2a-viewer}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: l2a-viewer}
subjects: [{kind: ServiceAccount, name: viewer, namespace: default}]
YAML
source "$LAB_ROOT/tests/support/kube_control_plane.sh"
kcp_sa_kubeconfig default viewer "/tmp/$LAB_ID-viewer.kubeconfig"
explain() { ip netns exec "$LAB_LAN" "$L2A" explain --kubeconfig "/tmp/$LAB_ID-viewer.kubeconfig" httpd; }
check_status "explain fails (exit 70), not a verdict" 70 explain
explain >"/tmp/$LAB_ID-explain.out" 2>&1
check "  ...with one line naming the Leases it may not list" grep -q \
  '^l2a: error: cannot list coordination.k8s.io/leases in l2announcer: .*forbidden: User "system:serviceaccount:default:viewer" cannot list resource "leases"' \
  "/tmp/$LAB_ID-explain.out"
check "  ...and nothing else (no verdict read from a partial view)" test "$(wc -l <"/tmp/$LAB_ID-explain.out")" -eq 1
lab_finish
