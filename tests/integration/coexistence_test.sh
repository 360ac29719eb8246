#!/usr/bin/env bash
# Running beside another load balancer implementation (Cilium's LB-IPAM, MetalLB, kube-vip, k3s
# ServiceLB) on kube-apiserver: with --own-class-only the operator and the agents take only
# Services of loadBalancerClass l2announcer.io/l2 and leave class-less ones to the other; with
# --follow-cilium-pools=false the operator neither allocates from Cilium's pools nor writes their
# status.
set -u
source "$(dirname "$0")/../support/netns_lab.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
L2A=${L2A:-$ROOT/build/l2a}
lab_require_root
lab_init coexist
lab_control_plane || { echo "FAIL - the $LAB_CONTROL_PLANE control plane did not start"; exit 1; }
kubectl() { lab_kubectl "$@"; }
kubectl apply -f "$ROOT/deploy/crds/" -f "$ROOT/deploy/crds/cilium/" >/dev/null
lab_host n1 198.18.0.11/24 2001:db8::11/64
lab_host client 198.18.0.100/24 2001:db8::100/64
lab_node_object n1 198.18.0.11 2001:db8::11
kubectl apply -f - >/dev/null <<'YAML'
apiVersion: l2announcer.io/v1alpha1
kind: LoadBalancerIPPool
metadata: {name: ours}
spec: {blocks: [{cidr: 198.18.0.128/28}]}
---
apiVersion: cilium.io/v2alpha1
kind: CiliumLoadBalancerIPPool
metadata: {name: cilium-owned}
spec: {blocks: [{cidr: 198.18.0.160/28}]}
---
apiVersion: l2announcer.io/v1alpha1
kind: L2AnnouncementPolicy
metadata: {name: all}
spec: {loadBalancerIPs: true, interfaces: ["^eth0$"]}
---
apiVersion: v1
kind: Service
metadata: {name: classless, namespace: default}
spec: {type: LoadBalancer, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: ours, namespace: default}
spec: {type: LoadBalancer, loadBalancerClass: l2announcer.io/l2, ports: [{port: 80}]}
YAML
lab_spawn lan "/tmp/$LAB_ID-operator.log" "$L2A" operator --kubeconfig "$(lab_component_kubeconfig operator)" \
  --own-class-only --follow-cilium-pools=false
lab_spawn n1 "/tmp/$LAB_ID-agent.log" "$L2A" agent --node-name n1 --kubeconfig "$(lab_component_kubeconfig agent)" \
  --interface '^eth0$' --own-class-only
address() { kubectl get svc "$1" -o jsonpath='{.status.loadBalancer.ingress[0].ip}'; }
has_address() { [[ -n $(address "$1") ]]; }
check "the Service of class l2announcer.io/l2 gets an address from our pool" lab_wait_for 15 has_address ours
check "  ...198.18.0.128/28, not Cilium's pool" lab_output_has '^198\.18\.0\.1(2[89]|3[0-9]|4[0-3])$' address ours
check "  ...and is announced" lab_wait_for 10 lab_exec client "$L2A" whohas --timeout 300 "$(address ours)"
sleep 2
check "the class-less Service is left to the other implementation: no address" test -z "$(address classless)"
check "  ...and no condition of ours" \
  test -z "$(kubectl get svc classless -o jsonpath='{.status.conditions[?(@.type=="l2announcer.io/IPAMRequestSatisfied")].type}')"
check "Cilium's pool gets no status from us" test -z "$(kubectl get ciliumloadbalancerippool cilium-owned -o jsonpath='{.status}')"
check "the operator said it follows only its own pool kind" \
  bash -c "grep -q 'event=following_pools resource=l2announcer.io/v1alpha1/loadbalancerippools' /tmp/$LAB_ID-operator.log && ! grep -q 'following_pools resource=cilium' /tmp/$LAB_ID-operator.log"
# Another implementation assigns the class-less Service an address: our agents do not announce it.
kubectl patch svc classless --subresource=status --type=merge \
  -p '{"status":{"loadBalancer":{"ingress":[{"ip":"198.18.0.170"}]}}}' >/dev/null
sleep 3
check "an address another implementation gave a class-less Service is not announced by our agents" \
  bash -c "! ip netns exec $(lab_ns client) $L2A whohas --timeout 300 198.18.0.170"
lab_finish
