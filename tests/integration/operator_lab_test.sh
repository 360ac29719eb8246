#!/usr/bin/env bash
# l2a operator (LB-IPAM) against the lab API server, driven with the real kubectl: the seed's
# pool (cilium.io kind, addresses in 2001:db8::/32 plus an IPv4 block) and a labelled Service get
# addresses; restarts (operator and API server) reassign nothing; a pool edit keeps addresses; a
# newer overlapping pool is conflicting; bad input gives conditions and Events; a Service that
# stops qualifying is released; a second replica takes over when the active one dies.
set -u
source "$(dirname "$0")/../support/netns_lab.sh"
LAB=${L2A_LAB:-build/l2a-lab}
L2A=${L2A:-build/l2a}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIR=$(mktemp -d /tmp/l2a-operator-XXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$DIR"
}
trap cleanup EXIT
stop9() { kill -9 "$1" 2>/dev/null; wait "$1" 2>/dev/null; }
start_server() {
  "$LAB" apiserver --listen "127.0.0.1:${PORT:-0}" --data-dir "$DIR/data" >"$DIR/server.log" 2>&1 &
  SERVER=$!
  PIDS+=($SERVER)
  lab_wait_for 5 grep -q "serving http" "$DIR/server.log"
  URL=$(grep -o 'http://[^ ]*' "$DIR/server.log")
  PORT=${URL##*:}
}
start_operator() {  # start_operator NAME
  "$L2A" operator --kubeconfig "$KUBECONFIG" --identity "$1" --lease-duration-ms 3000 \
    --renew-deadline-ms 2000 --retry-period-ms 300 --metrics-bind 127.0.0.1:0 >>"$DIR/$1.log" 2>&1 &
  eval "OP_$1=$!"
  PIDS+=($!)
}
start_server
export KUBECONFIG=$DIR/kubeconfig KUBECACHEDIR=$DIR/cache
kubectl config set-cluster lab --server="$URL" >/dev/null
kubectl config set-context lab --cluster=lab >/dev/null
kubectl config use-context lab >/dev/null
q() { kubectl get "$@" 2>/dev/null; }
ips() { q svc "$1" -o jsonpath='{.status.loadBalancer.ingress[*].ip}'; }
cond() { q svc "$1" -o jsonpath="{.status.conditions[?(@.type==\"l2announcer.io/IPAMRequestSatisfied\")].$2}"; }
pool_field() { q "$1" -o jsonpath="$2"; }
has_ips() { [[ -n "$(ips "$1")" ]]; }

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
  kubectl create service loadbalancer "extra$i" --tcp=80:80 >/dev/null
done
check "five more Services get addresses" lab_wait_for 10 has_ips extra5
BEFORE=$(for s in httpd extra1 extra2 extra3 extra4 extra5; do echo "$s=$(ips $s)"; done)
stop9 $OP_a
start_operator a
stop9 $SERVER
start_server
kubectl create service loadbalancer after-restart --tcp=80:80 >/dev/null
check "a new Service after both restarts gets an address" lab_wait_for 15 has_ips after-restart
AFTER=$(for s in httpd extra1 extra2 extra3 extra4 extra5; do echo "$s=$(ips $s)"; done)
check "no address changed across operator and API server restarts" test "$BEFORE" = "$AFTER"
check "the new address is not one already in use" bash -c "! grep -qw -- '$(ips after-restart | cut -d' ' -f1)' <<<'$BEFORE'"

echo "# pool edits keep addresses"
kubectl patch ciliumloadbalancerippool seed-pool --type=merge -p \
  '{"spec":{"blocks":[{"cidr":"2001:db8::1:0/120"},{"cidr":"198.18.0.128/28"},{"cidr":"198.18.0.160/28"}]}}' >/dev/null
sleep 1
AFTER_EDIT=$(for s in httpd extra1 extra2 extra3 extra4 extra5; do echo "$s=$(ips $s)"; done)
check "adding a block changed no address" test "$BEFORE" = "$AFTER_EDIT"

echo "# a newer overlapping pool is conflicting"
kubectl apply -f - >/dev/null <<'YAML'
apiVersion: l2announcer.io/v1alpha1
kind: LoadBalancerIPPool
metadata: {name: overlapping}
spec:
  blocks: [{cidr: 198.18.0.128/25}]
YAML
check "marked conflicting" lab_wait_for 5 test "$(pool_field ippool/overlapping '{.status.conflicting}')" = True
check "with a PoolConflict condition naming the older pool" lab_output_has "seed-pool" \
  kubectl get ippool overlapping -o jsonpath='{.status.conditions[?(@.type=="PoolConflict")].message}'
check "the older pool keeps working" test "$(pool_field ciliumloadbalancerippool/seed-pool '{.status.conflicting}')" = False
kubectl delete ippool overlapping >/dev/null

echo "# bad input"
kubectl create service loadbalancer wants-outside --tcp=80:80 >/dev/null
kubectl annotate svc wants-outside l2announcer.io/ips=198.19.250.1 >/dev/null
check "a request outside every pool is unsatisfied: no_pool" lab_wait_for 5 test "$(cond wants-outside reason)" = no_pool
check "with a Warning Event" lab_wait_for 5 lab_output_has "IPAllocationFailed" kubectl get events -o jsonpath='{.items[*].reason}'
kubectl apply -f - >/dev/null 2>&1 <<'YAML'
apiVersion: cilium.io/v2
kind: CiliumLoadBalancerIPPool
metadata: {name: broken}
spec:
  blocks: [{cidr: 198.18.200.0/33}, {start: 198.18.201.9, stop: 198.18.201.1}]
YAML
check "an invalid pool gets a BlocksValid=False condition" lab_wait_for 5 lab_output_has "invalid CIDR" \
  kubectl get ciliumloadbalancerippool broken -o jsonpath='{.status.conditions[?(@.type=="BlocksValid")].message}'
check "and an Event" lab_wait_for 5 lab_output_has "InvalidBlocks" kubectl get events -o jsonpath='{.items[*].reason}'
check "the operator is still running" kill -0 $OP_a

echo "# a Service that stops qualifying is released"
kubectl patch svc extra1 --type=merge -p '{"spec":{"type":"ClusterIP"}}' >/dev/null
check "its ingress is removed" lab_wait_for 5 test -z "$(ips extra1)"
check "and its condition" test -z "$(cond extra1 reason)"

echo "# two replicas: one active, the other takes over"
start_operator b
sleep 1
check "the second replica waits" bash -c "! grep -q 'event=leading' '$DIR/b.log'"
stop9 $OP_a
kubectl create service loadbalancer after-failover --tcp=80:80 >/dev/null
check "the second replica takes over and allocates" lab_wait_for 10 has_ips after-failover
check "it logged leading" grep -q "event=leading" "$DIR/b.log"
lab_finish
