# The real Kubernetes control plane for the lab (l2a-lab up --control-plane kube) and the tests:
# etcd, kube-apiserver (TLS, RBAC, service-account tokens) and kube-controller-manager, built
# from their published modules by scripts/kube-binaries.sh, running inside the lab's LAN
# namespace with the API server on 198.18.0.1:6443. Source after netns_lab.sh.
#
#   kcp_up DIR        start it (PKI, data and logs under DIR); sets LAB_API, LAB_KUBECONFIG
#                     (an admin client certificate) and adds the processes to LAB_PIDS
#   kcp_stop WHAT     stop etcd, kube-apiserver or kube-controller-manager (SIGTERM)
#   kcp_start WHAT    start it again with the same data
#   kcp_sa_kubeconfig NAMESPACE SERVICEACCOUNT FILE [SERVER]
#                     a kubeconfig holding a token of that ServiceAccount (what a pod gets)
#
# Addresses: the Service ClusterIP ranges are 198.19.0.0/20 and 2001:db8:ffff::/112, inside the
# lab's test ranges; etcd listens on the LAN namespace's own loopback.

KCP_BIN=$LAB_KUBE_BIN
KCP_SERVICE_CIDRS=198.19.0.0/20,2001:db8:ffff::/112
KCP_ISSUER=https://kubernetes.default.svc.cluster.local

kcp_require_binaries() {
  local b
  for b in etcd kube-apiserver kube-controller-manager kubectl; do
    [[ -x $KCP_BIN/$b ]] || {
      echo "kube control plane: error: $KCP_BIN/$b is missing; run scripts/kube-binaries.sh (make bootstrap does)" >&2
      return 1
    }
  done
}

# A CA, the API server's serving certificate, client certificates for the admin and the
# controller manager, and the service-account signing key pair.
kcp_pki() {  # kcp_pki DIR
  local d=$1/pki
  mkdir -p "$d"
  (
    cd "$d" || exit 1
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
      -keyout ca.key -out ca.crt -subj "/CN=l2a-lab-ca" 2>/dev/null || exit 1
    cert() {  # cert NAME SUBJECT [SAN]
      openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$1.key" \
        -out "$1.csr" -subj "$2" 2>/dev/null || return 1
      local ext="extendedKeyUsage=clientAuth"
      [[ -n ${3:-} ]] && ext="extendedKeyUsage=serverAuth
subjectAltName=$3"
      openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
        -out "$1.crt" -extfile <(echo "$ext") 2>/dev/null || return 1
      rm -f "$1.csr"
    }
    cert apiserver "/CN=kube-apiserver" \
      "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,IP:198.18.0.1,IP:127.0.0.1,IP:198.19.0.1" || exit 1
    cert admin "/O=system:masters/CN=kubernetes-admin" || exit 1
    cert controller-manager "/CN=system:kube-controller-manager" || exit 1
    openssl genrsa -out sa.key 2048 2>/dev/null || exit 1
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null || exit 1
  )
}

kcp_kubeconfig() {  # kcp_kubeconfig FILE SERVER USER_CERT_NAME
  local pki=$KCP_DIR/pki
  cat >"$1" <<YAML
apiVersion: v1
kind: Config
current-context: lab
clusters: [{name: lab, cluster: {server: "$2", certificate-authority: $pki/ca.crt}}]
contexts: [{name: lab, context: {cluster: lab, user: $3}}]
users: [{name: $3, user: {client-certificate: $pki/$3.crt, client-key: $pki/$3.key}}]
YAML
}

kcp_start() {  # kcp_start etcd|kube-apiserver|kube-controller-manager
  local pki=$KCP_DIR/pki
  case $1 in
    etcd)
      ip netns exec "$LAB_LAN" "$KCP_BIN/etcd" --name lab --data-dir "$KCP_DIR/etcd" \
        --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
        --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
        --initial-cluster lab=http://127.0.0.1:2380 --listen-metrics-urls http://127.0.0.1:2381 \
        --log-level warn >>"$KCP_DIR/etcd.log" 2>&1 &
      KCP_ETCD_PID=$!
      LAB_PIDS+=("$KCP_ETCD_PID")
      lab_wait_for 20 ip netns exec "$LAB_LAN" curl -sf http://127.0.0.1:2381/health || return 1
      ;;
    kube-apiserver)
      ip netns exec "$LAB_LAN" "$KCP_BIN/kube-apiserver" \
        --etcd-servers=http://127.0.0.1:2379 --bind-address=0.0.0.0 --secure-port=6443 \
        --advertise-address=198.18.0.1 \
        --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
        --client-ca-file="$pki/ca.crt" --authorization-mode=RBAC \
        --service-account-issuer="$KCP_ISSUER" --api-audiences="$KCP_ISSUER" \
        --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
        --service-cluster-ip-range="$KCP_SERVICE_CIDRS" \
        --profiling=false --v=1 >>"$KCP_DIR/kube-apiserver.log" 2>&1 &
      KCP_APISERVER_PID=$!
      LAB_PIDS+=("$KCP_APISERVER_PID")
      lab_wait_for 60 ip netns exec "$LAB_LAN" curl -sf --cacert "$pki/ca.crt" \
        --cert "$pki/admin.crt" --key "$pki/admin.key" https://198.18.0.1:6443/readyz || return 1
      ;;
    kube-controller-manager)
      ip netns exec "$LAB_LAN" "$KCP_BIN/kube-controller-manager" \
        --kubeconfig="$KCP_DIR/controller-manager.kubeconfig" \
        --authentication-kubeconfig="$KCP_DIR/controller-manager.kubeconfig" \
        --authorization-kubeconfig="$KCP_DIR/controller-manager.kubeconfig" \
        --controllers=endpointslice-controller,endpointslice-mirroring-controller,serviceaccount-controller,serviceaccount-token-controller,namespace-controller,garbage-collector-controller,root-ca-certificate-publisher-controller \
        --service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
        --use-service-account-credentials=true --leader-elect=false \
        --bind-address=127.0.0.1 --secure-port=10257 --v=1 >>"$KCP_DIR/kube-controller-manager.log" 2>&1 &
      KCP_CONTROLLER_MANAGER_PID=$!
      LAB_PIDS+=("$KCP_CONTROLLER_MANAGER_PID")
      ;;
    *) echo "kcp_start: unknown component $1" >&2; return 1 ;;
  esac
}

kcp_stop() {  # kcp_stop etcd|kube-apiserver|kube-controller-manager [SIGNAL]
  local pid
  case $1 in
    etcd) pid=$KCP_ETCD_PID ;;
    kube-apiserver) pid=$KCP_APISERVER_PID ;;
    kube-controller-manager) pid=$KCP_CONTROLLER_MANAGER_PID ;;
  esac
  lab_is_child "$pid" || return 0
  kill "-${2:-TERM}" "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}

kcp_up() {  # kcp_up DIR
  KCP_DIR=$1
  kcp_require_binaries || return 1
  mkdir -p "$KCP_DIR"
  ip -n "$LAB_LAN" addr add 198.18.0.1/24 dev br0 2>/dev/null
  ip -n "$LAB_LAN" addr add 2001:db8::1/64 dev br0 nodad 2>/dev/null
  kcp_pki "$KCP_DIR" || { echo "kube control plane: error: making the PKI failed" >&2; return 1; }
  LAB_API=https://198.18.0.1:6443
  LAB_KUBECONFIG=$KCP_DIR/admin.kubeconfig
  kcp_kubeconfig "$LAB_KUBECONFIG" "$LAB_API" admin
  kcp_kubeconfig "$KCP_DIR/controller-manager.kubeconfig" "https://127.0.0.1:6443" controller-manager
  kcp_start etcd || { echo "kube control plane: error: etcd did not start; see $KCP_DIR/etcd.log" >&2; return 1; }
  kcp_start kube-apiserver || {
    echo "kube control plane: error: kube-apiserver did not become ready; see $KCP_DIR/kube-apiserver.log" >&2
    return 1
  }
  kcp_start kube-controller-manager
  # Pods need their namespace's default ServiceAccount, which the controller manager makes.
  lab_wait_for 60 lab_kubectl get serviceaccount default -n default || {
    echo "kube control plane: error: no default ServiceAccount; see $KCP_DIR/kube-controller-manager.log" >&2
    return 1
  }
}

kcp_sa_kubeconfig() {  # kcp_sa_kubeconfig NAMESPACE SERVICEACCOUNT FILE [SERVER]
  local token=$3.token
  lab_kubectl create token "$2" -n "$1" --duration=48h >"$token" || return 1
  cat >"$3" <<YAML
apiVersion: v1
kind: Config
current-context: lab
clusters: [{name: lab, cluster: {server: "${4:-$LAB_API}", certificate-authority: $KCP_DIR/pki/ca.crt}}]
contexts: [{name: lab, context: {cluster: lab, user: $2, namespace: $1}}]
users: [{name: $2, user: {tokenFile: $token}}]
YAML
}
