#!/usr/bin/env bash
# l2a operator (LB-IPAM) against the control plane (CONTROL_PLANE=kube: kube-apiserver, etcd and
# kube-controller-manager; lab: the lab API server), driven with kubectl, the operator holding
# its ServiceAccount's token under deploy/'s RBAC: the seed's pool (cilium.io kind, addresses in
# 2001:db8::/32 plus an IPv4 block) and a labelled Service get addresses; restarts (operator and
# API server) reassign nothing; a pool edit keeps addresses; a newer overlapping pool is
# conflicting; bad input gives conditions and Events; a Service that stops qualifying is
# released; a second replica takes over when the active one dies.
set -u
source "$(dirname "$0")/../support/netns_lab.sh"
L2A=${L2A:-build/l2a}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
lab_require_root
lab_init operator
lab_control_plane || { echo "FAIL - the $LAB_CONTROL_PLANE control plane did not start"; exit 1; }
OPERATOR_KUBECONFIG=$(lab_component_kubeconfig operator)
stop9() { kill -9 "$1" 2>/dev/null; wait "$1" 2>/dev/null; }
declare -A METRICS_PORT=([a]=9612 [b]=9613)
start_operator() {  # start_operator NAME
  lab_spawn lan "/tmp/$LAB_ID-$1.log" "$L2A" operator --kubeconfig "$OPERATOR_KUBECONFIG" \
    --namespace "$L2A_NS" --identity "$1" --lease-duration-ms 3000 \
    --renew-deadline-ms 2000 --retry-period-ms 300 --metrics-bind "127.0.0.1:${METRICS_PORT[$1]}"
  eval "OP_$1=$LAB_LAST_PID"
}
kubectl() { lab_kubectl "$@"; }
q() { kubectl get "$@" 2>/dev/null; }
ips() { q svc "$1" -o jsonpath='{.status.loadBalancer.ingress[*].ip}'; }
cond() { q svc "$1" -o jsonpath="{.status.conditions[?(@.type==\"l2announcer.io/IPAMRequestSatisfied\")].$2}"; }
pool_field() { q "$1" -o jsonpath="$2"; }
has_ips() { [[ -n "$(ips "$1")" ]]; }
lb_service() {  # lb_service NAME: what kubectl create service loadbalancer NAME --tcp=80:80 makes
  printf 'apiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: default}\nspec: {type: LoadBalancer, ports: [{port: 80, protocol: TCP}]}\n' "$1" |
    kubectl apply -f - >/dev/null
}
check "apply the project's CRDs and Cilium's" kubectl apply -f "$ROOT/deploy/crds/" -f "$ROOT/deploy/crds/cilium/"
check "apply the seed's pool (cilium.io kind)" kubectl apply -f "$ROOT/examples/seed/cilium/pool.yaml"
check "apply the seed's Service" kubectl apply -f "$ROOT/examples/seed/cilium/service.yaml"
start_operator a
check "the Service gets addresses" lab_wait_for 10 has_ips httpd
FIRST=$(ips httpd)
echo "# httpd got: $FIRST"
check "an IPv4 address from the pool" lab_output_has "198\.18\.0\.1[2-4][0-9]" echo "$FIRST"
check "an IPv6 address in 2001:db8::/32" lab_output_has "2001:db8:" echo "$FIRST"
check "condition satisfied" test "$(cond httpd reason)" = satisfied
check "an IPAllocated Event" lab_wait_for 5 lab_output_has "IPAllocated" kubectl get events -o jsonpath='{.items[*].reason}'
check "kubectl get shows the EXTERNAL-IP" lab_output_has "198\.18\.0\.1[2-4][0-9]" kubectl get svc httpd
check "the pool shows its counts" lab_wait_for 5 lab_output_has "^seed-pool +False +[0-9]+" kubectl get ciliumloadbalancerippools

echo "# restarts reassign nothing"
kubectl apply -f "$ROOT/examples/seed/l2announcer/pool.yaml" >/dev/null
for i in 1 2 3 4 5; do
  lb_service "extra$i"
done
check "five more Services get addresses" lab_wait_for 10 has_ips extra5
BEFORE=$(for s in httpd extra1 extra2 extra3 extra4 extra5; do echo "$s=$(ips $s)"; done)
stop9 $OP_a
start_operator a
lab_api_stop KILL
lab_api_start
lb_service "after-restart"
check "a new Service after both restarts gets an address" lab_wait_for 15 has_ips after-restart
AFTER=$(for s in httpd extra1 extra2 extra3 extra4 extra5; do echo "$s=$(ips $s)"; done)
check "every Service had addresses before the restarts" bash -c "! grep -q '=$' <<<'$BEFORE'"
check "no address changed across operator and API server restarts" test "$BEFORE" = "$AFTER"
check "the new address is not one already in use" bash -c "! grep -qw -- '$(ips after-restart | cut -d' ' -f1)' <<<'$BEFORE'"

echo "# pool edits keep addresses, and status is written only when it changes"
rv() { q "$1" -o jsonpath='{.metadata.resourceVersion}'; }
allocated_events() {  # allocated_events SERVICE: how many IPAllocated Events it has had
  kubectl get events -n default -o json | python3 -c 'import json,sys
print(sum(e.get("count", 1) for e in json.load(sys.stdin)["items"]
          if e["reason"] == "IPAllocated" and e["involvedObject"]["name"] == sys.argv[1]))' "$1"
}
HTTPD_RV=$(rv svc/httpd)
kubectl patch ciliumloadbalancerippool seed-pool --type=merge -p \
  '{"spec":{"blocks":[{"cidr":"2001:db8::1:0/120"},{"cidr":"198.18.0.128/28"},{"cidr":"198.18.0.160/28"}]}}' >/dev/null
sleep 1
AFTER_EDIT=$(for s in httpd extra1 extra2 extra3 extra4 extra5; do echo "$s=$(ips $s)"; done)
check "adding a block changed no address" test "$BEFORE" = "$AFTER_EDIT"
check "nor rewrote a Service's status (httpd's resourceVersion is still $HTTPD_RV)" test "$(rv svc/httpd)" = "$HTTPD_RV"
check "httpd has had one IPAllocated Event" test "$(allocated_events httpd)" = 1
writes() {  # writes KIND: the active operator's status writes of KIND (service or pool)
  lab_exec lan curl -s "http://127.0.0.1:${METRICS_PORT[a]}/metrics" |
    awk -v k="$1" '$1 == "l2a_ipam_status_writes_total{kind=\""k"\"}" {print $2}'
}
WRITES_BEFORE="$(writes service) $(writes pool)"
kubectl label svc extra2 touched=yes >/dev/null
sleep 1
check "a pass over every Service and pool that changes nothing writes nothing (service, pool writes: $WRITES_BEFORE)" \
  test "$(writes service) $(writes pool)" = "$WRITES_BEFORE"

echo "# a newer overlapping pool is conflicting"
kubectl apply -f - >/dev/null <<'YAML'
apiVersion: l2announcer.io/v1alpha1
kind: LoadBalancerIPPool
metadata: {name: overlapping}
spec:
  blocks: [{cidr: 198.18.0.128/25}]
YAML
conflicting() { [[ $(pool_field l2ippool/overlapping '{.status.conflicting}') == True ]]; }
check "marked conflicting" lab_wait_for 5 conflicting
check "with a PoolConflict condition naming the older pool" lab_output_has "seed-pool" \
  kubectl get l2ippool overlapping -o jsonpath='{.status.conditions[?(@.type=="PoolConflict")].message}'
check "the older pool keeps working" test "$(pool_field ciliumloadbalancerippool/seed-pool '{.status.conditions[?(@.type=="cilium.io/PoolConflict")].status}')" = False
kubectl delete l2ippool overlapping >/dev/null

echo "# bad input"
lb_service "wants-outside"
kubectl annotate svc wants-outside l2announcer.io/ips=198.19.250.1 >/dev/null
no_pool() { [[ $(cond wants-outside reason) == no_pool ]]; }
check "a request outside every pool is unsatisfied: no_pool" lab_wait_for 5 no_pool
check "with a Warning Event" lab_wait_for 5 lab_output_has "IPAllocationFailed" kubectl get events -o jsonpath='{.items[*].reason}'
kubectl apply -f - >/dev/null 2>&1 <<'YAML'
apiVersion: cilium.io/v2
kind: CiliumLoadBalancerIPPool
metadata: {name: broken}
spec:
  blocks: [{cidr: 198.18.200.0/33}, {start: 198.18.201.9, stop: 198.18.201.1}]
YAML
check "an invalid pool gets a BlocksValid=False condition" lab_wait_for 5 lab_output_has "invalid CIDR" \
  kubectl get ciliumloadbalancerippool broken -o jsonpath='{.status.conditions[?(@.type=="cilium.io/BlocksValid")].message}'
check "and an Event" lab_wait_for 5 lab_output_has "InvalidBlocks" kubectl get events -o jsonpath='{.items[*].reason}'
check "the operator is still running" kill -0 $OP_a

echo "# MetalLB's and kube-vip's annotations, read unchanged"
annotated_service() {  # annotated_service NAME ANNOTATIONS-FLOW-MAP
  printf 'apiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: default, annotations: %s}\nspec: {type: LoadBalancer, ipFamilyPolicy: SingleStack, ipFamilies: [IPv4], ports: [{port: %s, protocol: TCP}]}\n' \
    "$1" "$2" "${3:-80}" | kubectl apply -f - >/dev/null
}
annotated_service mlb '{metallb.io/loadBalancerIPs: 198.18.0.170}'
check "metallb.io/loadBalancerIPs: the Service gets the address it asks for" lab_wait_for 10 lab_output_has "^198.18.0.170$" ips mlb
annotated_service mlb-old '{metallb.universe.tf/loadBalancerIPs: 198.18.0.171}'
check "metallb.universe.tf/loadBalancerIPs too" lab_wait_for 10 lab_output_has "^198.18.0.171$" ips mlb-old
annotated_service kvip '{kube-vip.io/loadbalancerIPs: 198.18.0.172}'
check "kube-vip.io/loadbalancerIPs too" lab_wait_for 10 lab_output_has "^198.18.0.172$" ips kvip
annotated_service from-pool '{metallb.io/address-pool: seed-pool-l2a}'
in_l2a_pool() { [[ $(ips from-pool) =~ ^198\.18\.0\.1(4[4-9]|5[0-9])$ ]]; }
check "metallb.io/address-pool: an address from that pool only (198.18.0.144/28)" lab_wait_for 10 in_l2a_pool
annotated_service no-such-pool '{metallb.io/address-pool: nope}'
unknown_pool() { [[ $(cond no-such-pool message) == *"the pool the service names (nope) does not exist"* ]]; }
check "  ...a pool that does not exist: unsatisfied, and the condition says so" lab_wait_for 10 unknown_pool
annotated_service share-http '{metallb.io/allow-shared-ip: web}' 80
annotated_service share-https '{metallb.universe.tf/allow-shared-ip: web}' 443
shared() { [[ -n $(ips share-http) && $(ips share-http) == "$(ips share-https)" ]]; }
check "metallb.io/allow-shared-ip: two Services with the key and other ports share one address" lab_wait_for 10 shared
kubectl delete svc mlb mlb-old kvip from-pool no-such-pool share-http share-https >/dev/null

echo "# l2a migrate of the seed's Cilium pool, as the API server returns it, keeps every address"
BEFORE_MIGRATE=$(for s in httpd extra1 extra2 extra3 extra4 extra5; do echo "$s=$(ips $s)"; done)
kubectl get ciliumloadbalancerippool seed-pool -o yaml >"/tmp/$LAB_ID-cilium-pool.yaml"
check "l2a migrate prints the equivalent LoadBalancerIPPool" lab_output_has "^kind: LoadBalancerIPPool$" \
  "$L2A" migrate -f "/tmp/$LAB_ID-cilium-pool.yaml"
"$L2A" migrate -f "/tmp/$LAB_ID-cilium-pool.yaml" >"/tmp/$LAB_ID-migrated-pool.yaml"
check "  ...which the API server takes" kubectl apply -f "/tmp/$LAB_ID-migrated-pool.yaml"
kubectl delete ciliumloadbalancerippool seed-pool >/dev/null
own_pool_serves() { [[ $(pool_field l2ippool/seed-pool '{.status.conflicting}') == False ]]; }
check "the Cilium pool deleted: the migrated one (same blocks) serves" lab_wait_for 10 own_pool_serves
sleep 1
AFTER_MIGRATE=$(for s in httpd extra1 extra2 extra3 extra4 extra5; do echo "$s=$(ips $s)"; done)
check "  ...and every Service kept its addresses" test "$BEFORE_MIGRATE" = "$AFTER_MIGRATE"
rm -f "/tmp/$LAB_ID-cilium-pool.yaml" "/tmp/$LAB_ID-migrated-pool.yaml"

echo "# a Service that stops qualifying is released"
kubectl patch svc extra1 --type=merge -p '{"spec":{"type":"ClusterIP"}}' >/dev/null
no_ips() { [[ -z $(ips "$1") ]]; }
check "its ingress is removed" lab_wait_for 5 no_ips extra1
check "and its condition" test -z "$(cond extra1 reason)"

echo "# two replicas: one active, the other takes over; a replica that loses its Lease steps down"
start_operator b
sleep 1
check "the second replica waits" bash -c "! grep -q 'event=leading' '/tmp/$LAB_ID-b.log'"
kill -STOP "$OP_a"  # frozen longer than its 3 s lease: b takes over meanwhile
lb_service "during-freeze"
check "the second replica takes over while the first is frozen, and allocates" lab_wait_for 10 has_ips during-freeze
kill -CONT "$OP_a"
check "the thawed replica steps down in process (no exit)" lab_wait_for 10 grep -q "event=stepped_down" "/tmp/$LAB_ID-a.log"
check "  ...and keeps running, campaigning again" kill -0 "$OP_a"
lb_service "after-thaw"
check "a Service created after the thaw gets addresses" lab_wait_for 10 has_ips after-thaw
sleep 1
check "  ...with exactly one IPAllocated Event: the two replicas never both wrote" test "$(allocated_events after-thaw)" = 1
check "the thawed replica wrote nothing after it lost its Lease (its skipped writes are counted instead)" \
  bash -c "! grep -q 'event=service_addresses service=default/after-thaw' '/tmp/$LAB_ID-a.log'"
stop9 $OP_b
lb_service "after-failover"
check "the first replica, campaigning again, takes over from the killed one and allocates" lab_wait_for 10 has_ips after-failover
check "it logged leading twice (two terms in one process)" test "$(grep -c 'event=leading' "/tmp/$LAB_ID-a.log")" = 2
lab_finish
