#!/usr/bin/env bash
# The real kubectl against the lab API server: apply the project's CRD manifests, then objects
# of those kinds; a Service created and changed with apply, its status written through the
# status subresource; labels and selectors; get -o yaml/json, describe, get -w, delete.
set -u
source "$(dirname "$0")/../support/netns_lab.sh"
LAB=${L2A_LAB:-build/l2a-lab}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIR=$(mktemp -d /tmp/l2a-kubectl-XXXX)
SERVER_PID=
cleanup() {
  [[ -n $SERVER_PID ]] && kill -9 $SERVER_PID 2>/dev/null
  jobs -p | xargs -r kill -9 2>/dev/null
  wait 2>/dev/null
  rm -rf "$DIR"
}
trap cleanup EXIT
lab_loopback_apiserver "$LAB" "$DIR" kubeconfig
SERVER_PID=$LOOPBACK_API_PID

field() {  # field KIND/NAME JSONPATH [-n NS]: kubectl get -o jsonpath
  kubectl get "$1" -o "jsonpath=$2" "${@:3}"
}

check "kubectl version reaches the server" lab_output_has "Server Version: v1.30" kubectl version
check "apply the project's CRDs" kubectl apply -f "$ROOT/deploy/crds/"
check "the CRDs are listed" lab_output_has "loadbalancerippools.l2announcer.io" kubectl get crd
check "a CRD is Established" test "$(field crd/loadbalancerippools.l2announcer.io '{.status.conditions[?(@.type=="Established")].status}')" = True

cat >"$DIR/pool.yaml" <<'YAML'
apiVersion: l2announcer.io/v1alpha1
kind: LoadBalancerIPPool
metadata:
  name: blue
spec:
  blocks:
  - cidr: 2001:db8:100::/120
  - start: 198.18.100.10
    stop: 198.18.100.20
YAML
check "apply a LoadBalancerIPPool" lab_output_has "loadbalancerippool.l2announcer.io/blue created" kubectl apply -f "$DIR/pool.yaml"
check "get it by its short name" lab_output_has "^blue " kubectl get l2ippool
sed -i 's/stop: 198.18.100.20/stop: 198.18.100.30/' "$DIR/pool.yaml"
check "apply a change" lab_output_has "configured" kubectl apply -f "$DIR/pool.yaml"
check "the change is stored" test "$(field l2ippool/blue '{.spec.blocks[1].stop}')" = 198.18.100.30
check "generation counts spec changes" test "$(field l2ippool/blue '{.metadata.generation}')" = 2
check "re-applying the same file changes nothing" lab_output_has "unchanged" kubectl apply -f "$DIR/pool.yaml"

cat >"$DIR/policy.yaml" <<'YAML'
apiVersion: l2announcer.io/v1alpha1
kind: L2AnnouncementPolicy
metadata:
  name: policy1
spec:
  serviceSelector:
    matchLabels: {announcement: l2}
  interfaces: [eth0]
  loadBalancerIPs: true
YAML
check "apply an L2AnnouncementPolicy" kubectl apply -f "$DIR/policy.yaml"

cat >"$DIR/svc.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata:
  name: httpd
  labels: {announcement: l2}
spec:
  type: LoadBalancer
  selector: {app: httpd}
  ports:
  - {name: http, port: 80, protocol: TCP}
YAML
check "apply a Service" lab_output_has "service/httpd created" kubectl apply -f "$DIR/svc.yaml"
sed -i 's/port: 80,/port: 8080,/' "$DIR/svc.yaml"
check "apply a changed port (strategic merge patch)" kubectl apply -f "$DIR/svc.yaml"
check "the Service has exactly the new port" test "$(field svc/httpd '{.spec.ports[*].port}')" = 8080
check "write status through the status subresource" kubectl patch svc httpd --subresource=status --type=merge \
  -p '{"status":{"loadBalancer":{"ingress":[{"ip":"198.18.100.10"}]}}}'
check "status is stored" test "$(field svc/httpd '{.status.loadBalancer.ingress[0].ip}')" = 198.18.100.10
check "a main-resource apply keeps the status" kubectl apply -f "$DIR/svc.yaml"
check "status survived" test "$(field svc/httpd '{.status.loadBalancer.ingress[0].ip}')" = 198.18.100.10
check "get -o yaml" lab_output_has "announcement: l2" kubectl get svc httpd -o yaml
check "describe" lab_output_has "^Labels: +announcement=l2" kubectl describe svc httpd

check "label a Service" kubectl label svc httpd color=blue
check "select by label" lab_output_has "^httpd " kubectl get svc -l color=blue
check "a selector that matches nothing" lab_output_has "No resources found" kubectl get svc -l color=red
check "overwrite a label" kubectl label svc httpd color=green --overwrite
check "remove a label" kubectl label svc httpd color-
check "the label is gone" test -z "$(field svc/httpd '{.metadata.labels.color}')"

kubectl get svc -w -o name >"$DIR/watch.out" 2>&1 &
WATCH=$!
lab_wait_for 5 grep -q "service/httpd" "$DIR/watch.out"
printf 'apiVersion: v1\nkind: Service\nmetadata: {name: watched}\nspec: {ports: [{port: 80}]}\n' | kubectl apply -f - >/dev/null
check "get -w sees a new Service" lab_wait_for 5 grep -q "service/watched" "$DIR/watch.out"
kill $WATCH 2>/dev/null

check "a protobuf body (kubectl create service) is refused with 415, saying JSON only" \
  lab_output_has "reads JSON request bodies only" kubectl create service clusterip typed --tcp=80:80
check "delete a Service" kubectl delete svc httpd
check "it is gone" lab_output_has "NotFound" kubectl get svc httpd
check "delete a custom resource" kubectl delete l2ippool blue
check "delete the CRDs" kubectl delete -f "$ROOT/deploy/crds/"
check "the custom kind is no longer served" lab_output_has "doesn't have a resource type|could not find the requested resource" kubectl get l2ippool
check "a malformed manifest is rejected with a message" lab_output_has "Invalid|invalid" \
  bash -c "echo '{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"Bad_Name\"},\"spec\":{}}' | kubectl apply -f -"
lab_finish
