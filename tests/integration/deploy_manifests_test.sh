#!/usr/bin/env bash
# The deploy manifests on the real control plane (kube-apiserver with RBAC), following
# docs/install.md step by step: the CRDs (ours and the optional Cilium ones) are accepted;
# `helm lint` passes; `helm install` creates the RBAC, the agent DaemonSet and the operator
# Deployment; what deploy/'s RBAC grants is exactly what the agent and the operator use
# (kubectl auth can-i as their ServiceAccounts; an operator and an agent then run with those
# tokens and do their work); `helm uninstall` removes it all; the committed plain manifest is
# `helm template` of the chart and applies the same objects; values change the flags.
set -u
source "$(dirname "$0")/../support/netns_lab.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
L2A=${L2A:-$ROOT/build/l2a}
lab_require_root
lab_init deploy
lab_control_plane_only || { echo "FAIL - the $LAB_CONTROL_PLANE control plane did not start"; exit 1; }
kubectl() { lab_kubectl "$@"; }
helm() { ip netns exec "$LAB_LAN" env KUBECONFIG="$LAB_KUBECONFIG" HELM_CACHE_HOME="/tmp/$LAB_ID-helm" \
  HELM_CONFIG_HOME="/tmp/$LAB_ID-helm" HELM_DATA_HOME="/tmp/$LAB_ID-helm" "$LAB_KUBE_BIN/helm" "$@"; }
CHART=$ROOT/deploy/helm/l2announcer
field() { kubectl get "$1" -n l2announcer -o "jsonpath=$2"; }

echo "# install.md step 1: the CRDs"
check "kubectl apply -f deploy/crds/ (structural schemas the real server accepts)" kubectl apply -f "$ROOT/deploy/crds/"
check "kubectl apply -f deploy/crds/cilium/" kubectl apply -f "$ROOT/deploy/crds/cilium/"
check "kubectl apply -f deploy/crds/metallb/ (MetalLB's kinds, for migrate's examples)" kubectl apply -f "$ROOT/deploy/crds/metallb/"
check "  ...namespace metallb-system, where MetalLB's documentation puts them" kubectl create namespace metallb-system
established() { [[ $(kubectl get crd "$1" -o jsonpath='{.status.conditions[?(@.type=="Established")].status}') == True ]]; }
for crd in loadbalancerippools.l2announcer.io l2announcementpolicies.l2announcer.io \
  ciliumloadbalancerippools.cilium.io ciliuml2announcementpolicies.cilium.io; do
  check "$crd is Established" lab_wait_for 10 established "$crd"
done
check "the pool CRD has printer columns" lab_output_has "IPs Available" kubectl get crd loadbalancerippools.l2announcer.io -o yaml
check "and the short name l2ippool" lab_output_has "l2ippool" kubectl get crd loadbalancerippools.l2announcer.io -o jsonpath='{.spec.names.shortNames}'
# Cilium's pool CRD claims ippool, ippools, lbippool and lbippools: ours must not, or `kubectl get
# ippool` is ambiguous in a cluster running both (the normal state during a migration).
no_shared_short_names() {
  local ours theirs
  ours=$(kubectl get crd loadbalancerippools.l2announcer.io -o jsonpath='{.spec.names.shortNames[*]}')
  theirs=$(kubectl get crd ciliumloadbalancerippools.cilium.io -o jsonpath='{.spec.names.shortNames[*]}')
  [[ -n $ours && -n $theirs ]] && ! comm -12 <(tr ' ' '\n' <<<"$ours" | sort) <(tr ' ' '\n' <<<"$theirs" | sort) | grep -q .
}
check "no short name is shared with Cilium's pool kind" no_shared_short_names
unambiguous() { ! kubectl get ippool 2>&1 | grep -qi 'could also match'; }
check "kubectl get ippool means Cilium's kind, unambiguously" unambiguous
cat >"/tmp/$LAB_ID-unknown.yaml" <<'YAML'
apiVersion: l2announcer.io/v1alpha1
kind: LoadBalancerIPPool
metadata: {name: with-unknown-field}
spec:
  blocks: [{cidr: 198.18.0.128/28, color: blue}]
YAML
check "a field the schema does not declare is refused (strict field validation)" \
  lab_output_has 'unknown field "spec.blocks\[0\].color"' kubectl apply -f "/tmp/$LAB_ID-unknown.yaml"

echo "# install.md step 3: the namespace, then the chart into it"
check "kubectl apply -f deploy/manifests/namespace.yaml" kubectl apply -f "$ROOT/deploy/manifests/namespace.yaml"
check "helm lint" helm lint "$CHART"
check "helm install -n l2announcer" helm install l2announcer "$CHART" -n l2announcer --set image.repository=registry.example/l2a
check "the release lives in that namespace" lab_output_has "^l2announcer[[:space:]]+l2announcer[[:space:]]" helm list -n l2announcer
# What Pod Security admission makes of the agent's pod (hostNetwork, NET_RAW): a pod made from
# the DaemonSet's template, created as a dry run where the DaemonSet controller would create it.
agent_pod() {  # agent_pod NAMESPACE: the DaemonSet's pod template as a Pod in NAMESPACE
  kubectl get ds l2a-agent -n l2announcer -o json | python3 -c 'import json,sys
ds = json.load(sys.stdin)
tpl = ds["spec"]["template"]
tpl["spec"]["nodeName"] = "any"
print(json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "agent-probe", "namespace": sys.argv[1],
                  "labels": tpl["metadata"]["labels"]}, "spec": tpl["spec"]}))' "$1"
}
admitted() { agent_pod l2announcer | kubectl create --dry-run=server -f - >/dev/null; }
check "the agent's pod is admitted in the namespace as deploy/ labels it" admitted
kubectl create namespace baseline-only >/dev/null 2>&1 || true
kubectl label namespace baseline-only pod-security.kubernetes.io/enforce=baseline --overwrite >/dev/null
printf 'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: l2a-agent, namespace: baseline-only}\n' | kubectl apply -f - >/dev/null
refused_by_baseline() {
  agent_pod baseline-only | kubectl create --dry-run=server -f - 2>&1 | grep -q 'violates PodSecurity "baseline'
}
check "  ...and refused where baseline is enforced (hostNetwork), which is why the label is needed" refused_by_baseline
python3 "$ROOT/scripts/values-table.py" "$CHART" >"/tmp/$LAB_ID-values.md"
check "the chart's README has the values table of values.yaml (scripts/values-table.py)" \
  diff -u <(sed -n '/^| value | default | meaning |$/,$p' "$CHART/README.md") "/tmp/$LAB_ID-values.md"
check "the agent DaemonSet is created" lab_output_has "l2a-agent" kubectl get ds -n l2announcer
check "it runs on the host network" test "$(field ds/l2a-agent '{.spec.template.spec.hostNetwork}')" = true
check "with NET_RAW only" test "$(field ds/l2a-agent '{.spec.template.spec.containers[0].securityContext.capabilities.add}')" = '["NET_RAW"]'
check "NODE_NAME comes from the downward API" test "$(field ds/l2a-agent '{.spec.template.spec.containers[0].env[0].valueFrom.fieldRef.fieldPath}')" = spec.nodeName
check "the image is the one set" test "$(field ds/l2a-agent '{.spec.template.spec.containers[0].image}')" = registry.example/l2a:0.1.0
check "the operator Deployment has 2 replicas" test "$(field deploy/l2a-operator '{.spec.replicas}')" = 2
check "and runs as non-root" test "$(field deploy/l2a-operator '{.spec.template.spec.containers[0].securityContext.runAsNonRoot}')" = true

echo "# what the RBAC grants, asked of the real authorizer"
answer() {  # answer SERVICEACCOUNT VERB RESOURCE[/SUBRESOURCE] [NAMESPACE]: yes or no
  local resource=${3%%/*} sub=()
  [[ $3 == */* ]] && sub=(--subresource "${3#*/}")
  kubectl auth can-i "$2" "$resource" "${sub[@]}" -n "${4:-default}" \
    --as="system:serviceaccount:l2announcer:$1" 2>/dev/null
}
can() { [[ $(answer "$@") == yes ]]; }
cannot() { [[ $(answer "$@") == no ]]; }
for need in "list services" "watch services" "list nodes" "watch nodes" "list endpointslices.discovery.k8s.io" \
  "watch l2announcementpolicies.l2announcer.io" "watch ciliuml2announcementpolicies.cilium.io" \
  "patch l2announcementpolicies.l2announcer.io/status" "create events" "watch l2announcements.l2announcer.io" \
  "create l2announcements.l2announcer.io" "patch l2announcements.l2announcer.io" "delete l2announcements.l2announcer.io" \
  "patch services/status" "watch l2advertisements.metallb.io" "watch ipaddresspools.metallb.io"; do
  check "the agent may $need" can l2a-agent $need
done
for need in "create leases.coordination.k8s.io" "update leases.coordination.k8s.io" "watch leases.coordination.k8s.io"; do
  check "the agent may $need in l2announcer" can l2a-agent $need l2announcer
done
check "the agent may not touch leases elsewhere" cannot l2a-agent update leases.coordination.k8s.io kube-system
check "the agent may not write Services (only their status: the Announced condition)" cannot l2a-agent patch services
check "the agent may not read Secrets" cannot l2a-agent list secrets
for need in "watch services" "patch services/status" "watch loadbalancerippools.l2announcer.io" \
  "patch ciliumloadbalancerippools.cilium.io/status" "create events" "watch ipaddresspools.metallb.io" "watch namespaces"; do
  check "the operator may $need" can l2a-operator $need
done
check "the operator may update its election lease" can l2a-operator update leases.coordination.k8s.io l2announcer
check "the operator may not change Services themselves" cannot l2a-operator update services

echo "# the chart's ServiceAccounts are enough: an operator and an agent at work with their tokens"
lab_host node1 198.18.0.11/24 2001:db8::11/64
lab_host client 198.18.0.100/24 2001:db8::100/64
lab_node_object node1 198.18.0.11 2001:db8::11
kubectl apply -f "$ROOT/examples/seed/l2announcer/pool.yaml" -f "$ROOT/examples/seed/l2announcer/l2policy.yaml" \
  -f "$ROOT/examples/seed/l2announcer/service.yaml" >/dev/null
lab_spawn lan "/tmp/$LAB_ID-operator.log" "$L2A" operator --kubeconfig "$(lab_component_kubeconfig operator)" \
  --metrics-bind 127.0.0.1:9612
lab_spawn node1 "/tmp/$LAB_ID-agent.log" "$L2A" agent --node-name node1 \
  --kubeconfig "$(lab_component_kubeconfig agent)" --interface '^eth0$'
address() { kubectl get svc httpd -o jsonpath='{.status.loadBalancer.ingress[0].ip}'; }
has_address() { [[ -n $(address) ]]; }
check "the operator gives the Service an address" lab_wait_for 15 has_address
announced() { lab_exec client "$L2A" whohas --timeout 300 "$(address)"; }
check "the agent announces it" lab_wait_for 15 announced
lab_exec lan curl -s http://127.0.0.1:9612/metrics >"/tmp/$LAB_ID-operator.metrics"
lab_exec node1 curl -s http://127.0.0.1:9611/metrics >"/tmp/$LAB_ID-agent.metrics"
check "the operator was refused nothing (its request counts have no 403)" \
  bash -c "grep -q '^l2a_api_requests_total' /tmp/$LAB_ID-operator.metrics && ! grep -q 'code=\"403\"' /tmp/$LAB_ID-operator.metrics"
check "nor the agent" \
  bash -c "grep -q '^l2a_api_requests_total' /tmp/$LAB_ID-agent.metrics && ! grep -q 'code=\"403\"' /tmp/$LAB_ID-agent.metrics"

echo "# signed heartbeats, set up as docs/install.md says"
check "kubectl create secret generic l2a-heartbeat --from-literal=keys=(a random key)" \
  kubectl -n l2announcer create secret generic l2a-heartbeat --from-literal=keys="$(openssl rand -hex 32)"
check "helm upgrade --reuse-values --set agent.heartbeatKeySecret=l2a-heartbeat" \
  helm upgrade l2announcer "$CHART" -n l2announcer --reuse-values --set agent.heartbeatKeySecret=l2a-heartbeat
check "  ...the DaemonSet mounts that Secret" \
  test "$(field ds/l2a-agent '{.spec.template.spec.volumes[?(@.name=="heartbeat-keys")].secret.secretName}')" = l2a-heartbeat
check "  ...and keeps the image set at install" test "$(field ds/l2a-agent '{.spec.template.spec.containers[0].image}')" = registry.example/l2a:0.1.0

echo "# helm uninstall, then the plain manifest"
check "helm uninstall" helm uninstall l2announcer -n l2announcer --wait
gone() { ! kubectl get clusterrole l2a-agent >/dev/null 2>&1 && ! kubectl get ds l2a-agent -n l2announcer >/dev/null 2>&1; }
check "its objects are gone" lab_wait_for 30 gone
check "and the namespace stays (the chart does not own it)" kubectl get namespace l2announcer
helm template l2announcer "$CHART" -n l2announcer >"/tmp/$LAB_ID-rendered.yaml"
check "the committed plain manifest is helm template -n l2announcer of the chart" \
  diff -u <(tail -n +3 "$ROOT/deploy/manifests/l2announcer.yaml") "/tmp/$LAB_ID-rendered.yaml"
check "kubectl apply -f deploy/manifests/l2announcer.yaml" kubectl apply -f "$ROOT/deploy/manifests/l2announcer.yaml"
check "the same objects exist" kubectl get ds/l2a-agent deploy/l2a-operator sa/l2a-agent sa/l2a-operator -n l2announcer
check "and the cluster roles" kubectl get clusterrole/l2a-agent clusterrole/l2a-operator
helm template l2announcer "$CHART" -n lb --set agent.interface='^bond0$' --set agent.leaseDurationMs=6000 \
  --set agent.nodeSelector.role=edge --set agent.logFormat=json >"/tmp/$LAB_ID-custom.yaml"
check "values and the release namespace change interfaces, timing, nodes, logs and namespace" \
  bash -c "grep -qF -- '--interface=^bond0\$' /tmp/$LAB_ID-custom.yaml &&
  grep -qF -- '--lease-duration-ms=6000' /tmp/$LAB_ID-custom.yaml && grep -qF -- '--namespace=lb' /tmp/$LAB_ID-custom.yaml &&
  grep -qF -- '--log-format=json' /tmp/$LAB_ID-custom.yaml && grep -qF 'role: edge' /tmp/$LAB_ID-custom.yaml"
helm template l2announcer "$CHART" -n l2announcer --set agent.heartbeatKeySecret=l2a-heartbeat >"/tmp/$LAB_ID-keys.yaml"
check "heartbeatKeySecret mounts the Secret's keys and passes the file" \
  bash -c "grep -qF -- '--heartbeat-key-file=/etc/l2a/heartbeat/keys' /tmp/$LAB_ID-keys.yaml &&
  grep -qF 'secretName: l2a-heartbeat' /tmp/$LAB_ID-keys.yaml"
check "  ...and kube-apiserver takes that DaemonSet (server-side dry run)" \
  kubectl apply --dry-run=server -f "/tmp/$LAB_ID-keys.yaml"

# --- every example in docs/ and examples/, as kube-apiserver takes it ---------------------------
mapfile -t DOC_EXAMPLES < <(python3 "$ROOT/tests/support/docs_yaml.py" "/tmp/$LAB_ID-docs" "$ROOT"/docs/*.md)
check "the docs have YAML examples (${#DOC_EXAMPLES[@]} blocks)" test "${#DOC_EXAMPLES[@]}" -ge 4
for example in "${DOC_EXAMPLES[@]}" "$ROOT"/examples/*/*/*.yaml "$ROOT"/examples/metallb/*.yaml; do
  check "kube-apiserver takes ${example#"$ROOT"/} (server-side dry run, strict field validation)" \
    kubectl apply --dry-run=server --validate=strict -f "$example"
done
lab_finish
