#!/usr/bin/env bash
# TLS in the real client stack against `openssl s_server` on loopback, with a CA, a server
# certificate for 127.0.0.1 and a client certificate made here: verification is on by default
# (an unknown CA fails), the kubeconfig's CA data, client certificate and key are used, and
# insecure-skip-tls-verify turns verification off.
set -u
source "$(dirname "$0")/../support/netns_lab.sh"
GET=${KUBE_GET:-build/tests/support/kube_get}
DIR=$(mktemp -d /tmp/l2a-tls-XXXX)
SERVER=
trap '[[ -n $SERVER ]] && kill $SERVER 2>/dev/null; wait 2>/dev/null; rm -rf "$DIR"' EXIT
cd "$DIR"
quiet() { "$@" >/dev/null 2>&1; }
quiet openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 -subj /CN=l2a-test-ca
quiet openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.pem -days 1 -subj /CN=other-ca
quiet openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1
printf 'subjectAltName=IP:127.0.0.1\n' >san.ext
quiet openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 1 -extfile san.ext
quiet openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj /CN=l2a-agent
quiet openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 1
mkdir www && echo '{"gitVersion":"tls-ok"}' >www/version
PORT=$((20000 + RANDOM % 20000))
(cd www && exec openssl s_server -quiet -accept "127.0.0.1:$PORT" -cert ../server.pem -key ../server.key \
  -CAfile ../ca.pem -Verify 1 -WWW) >server.log 2>&1 &
SERVER=$!
lab_wait_for 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT"

b64() { base64 -w0 <"$1"; }
kubeconfig() {  # kubeconfig FILE CLUSTER_EXTRA USER_EXTRA
  cat >"$1" <<YAML
apiVersion: v1
kind: Config
current-context: t
clusters:
- name: c
  cluster:
    server: https://127.0.0.1:$PORT
$2
contexts:
- name: t
  context: {cluster: c, user: u}
users:
- name: u
  user:
$3
YAML
}
CLIENT="    client-certificate-data: $(b64 client.pem)
    client-key-data: $(b64 client.key)"
kubeconfig ok.yaml "    certificate-authority-data: $(b64 ca.pem)" "$CLIENT"
kubeconfig files.yaml "    certificate-authority: ca.pem" "    client-certificate: client.pem
    client-key: client.key"
kubeconfig system-trust.yaml "" "$CLIENT"
kubeconfig wrong-ca.yaml "    certificate-authority-data: $(b64 other-ca.pem)" "$CLIENT"
kubeconfig insecure.yaml "    insecure-skip-tls-verify: true" "$CLIENT"
kubeconfig no-client-cert.yaml "    certificate-authority-data: $(b64 ca.pem)" "    token: abc"

check "CA and client certificate from kubeconfig data: the request succeeds" lab_output_has "tls-ok" "$GET" ok.yaml /version
check "the same from files relative to the kubeconfig" lab_output_has "tls-ok" "$GET" files.yaml /version
check_status "verification is on by default: a server the system does not trust fails" 1 "$GET" system-trust.yaml /version
check "  ...with a certificate error" lab_output_has "certificate|SSL" "$GET" system-trust.yaml /version
check_status "a CA that did not sign the server fails" 1 "$GET" wrong-ca.yaml /version
check "insecure-skip-tls-verify accepts the server" lab_output_has "tls-ok" "$GET" insecure.yaml /version
check_status "no client certificate: the server refuses the handshake" 1 "$GET" no-client-cert.yaml /version
lab_finish
