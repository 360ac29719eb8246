#!/usr/bin/env bash
# The deploy manifests: the Helm chart renders (default values) to exactly the committed plain
# manifest; CRDs and manifest apply with kubectl to the lab API server; the agent DaemonSet asks
# for host networking and NET_RAW only, the operator runs 2 replicas as non-root; the CRD
# schemas carry printer columns and short names.
set -u
source "$(dirname "$0")/../support/netns_lab.sh"
LAB=${L2A_LAB:-build/l2a-lab}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIR=$(mktemp -d /tmp/l2a-deploy-XXXX)
SERVER=
trap '[[ -n $SERVER ]] && kill -9 $SERVER 2>/dev/null; wait 2>/dev/null; rm -rf "$DIR"' EXIT
lab_loopback_apiserver "$LAB" "$DIR" kubeconfig
SERVER=$LOOPBACK_API_PID

python3 "$ROOT/scripts/render-chart.py" "$ROOT/deploy/helm/l2announcer" >"$DIR/rendered.yaml"
check "the chart renders to the committed manifest" diff -u "$ROOT/deploy/manifests/l2announcer.yaml" "$DIR/rendered.yaml"
printf 'namespace: lb\nagent: {interface: "^bond0$", leaseDurationMs: 6000, renewDeadlineMs: 4000, retryPeriodMs: 1000, metricsPort: 19611}\n' >"$DIR/values.yaml"
python3 "$ROOT/scripts/render-chart.py" "$ROOT/deploy/helm/l2announcer" "$DIR/values.yaml" >"$DIR/custom.yaml"
check "values change timing and interfaces" grep -qF -- '--interface=^bond0$' "$DIR/custom.yaml"
check "apply the CRDs" kubectl apply -f "$ROOT/deploy/crds/"
check "apply the manifest" kubectl apply -f "$ROOT/deploy/manifests/l2announcer.yaml"
check "the DaemonSet is stored" lab_output_has "l2a-agent" kubectl get ds -n l2announcer
check "it runs on the host network" test "$(kubectl get ds l2a-agent -n l2announcer -o jsonpath='{.spec.template.spec.hostNetwork}')" = true
check "with NET_RAW only" test "$(kubectl get ds l2a-agent -n l2announcer -o jsonpath='{.spec.template.spec.containers[0].securityContext.capabilities.add}')" = '["NET_RAW"]'
check "NODE_NAME comes from the downward API" test "$(kubectl get ds l2a-agent -n l2announcer -o jsonpath='{.spec.template.spec.containers[0].env[0].valueFrom.fieldRef.fieldPath}')" = spec.nodeName
check "the operator has 2 replicas" test "$(kubectl get deploy l2a-operator -n l2announcer -o jsonpath='{.spec.replicas}')" = 2
check "and runs as non-root" test "$(kubectl get deploy l2a-operator -n l2announcer -o jsonpath='{.spec.template.spec.containers[0].securityContext.runAsNonRoot}')" = true
check "RBAC: the agent may not write Service status" bash -c "! kubectl get clusterrole l2a-agent -o yaml | grep -q services/status"
check "RBAC: the operator may patch Service status" lab_output_has "services/status" kubectl get clusterrole l2a-operator -o yaml
check "the pool CRD has printer columns" lab_output_has "IPs Available" kubectl get crd loadbalancerippools.l2announcer.io -o yaml
check "and the short name ippool" lab_output_has "ippool" kubectl get crd loadbalancerippools.l2announcer.io -o jsonpath='{.spec.names.shortNames}'
check "the agent flags in the manifest parse" bash -c "grep -q -- '--lease-duration-ms=4000' '$ROOT/deploy/manifests/l2announcer.yaml'"
lab_finish
