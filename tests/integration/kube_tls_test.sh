#!/usr/bin/env bash
# TLS in the real client stack against `openssl s_server` on loopback, with a CA, a server
# certificate for 127.0.0.1 and a client certificate made here: verification is on by default
# (an unknown CA fails), the kubeconfig's CA data, client certificate and key are used, and
# insecure-skip-tls-verify turns verification off. OpenSSL checks the server's address against
# its certificate (a certificate for another address fails); an IPv6 server and a server URL with
# a path (a proxy's prefix) work.
set -u
source "$(dirname "$0")/../support/netns_lab.sh"
GET=${KUBE_GET:-build/tests/support/kube_get}
DIR=$(mktemp -d /tmp/l2a-tls-XXXX)
SERVERS=()
trap 'for p in "${SERVERS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$DIR"' EXIT
cd "$DIR"
quiet() { "$@" >/dev/null 2>&1; }
quiet openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 -subj /CN=l2a-test-ca
quiet openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.pem -days 1 -subj /CN=other-ca
quiet openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1
printf 'subjectAltName=IP:127.0.0.1,IP:::1\n' >san.ext
quiet openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 1 -extfile san.ext
# Signed by the same CA, for another address only.
printf 'subjectAltName=IP:198.18.0.1\n' >other-san.ext
quiet openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out other-name.pem -days 1 \
  -extfile other-san.ext
quiet openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj /CN=l2a-agent
quiet openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 1
mkdir -p www/prefix && echo '{"gitVersion":"tls-ok"}' >www/version && echo '{"gitVersion":"prefix-ok"}' >www/prefix/version
serve() {  # serve ADDRESS:PORT CERTIFICATE: openssl s_server answering files from www/
  (cd www && exec openssl s_server -quiet -accept "$1" -cert "../$2" -key ../server.key \
    -CAfile ../ca.pem -Verify 1 -WWW) >>server.log 2>&1 &
  SERVERS+=($!)
}
PORT=$((20000 + RANDOM % 20000))
serve "127.0.0.1:$PORT" server.pem
serve "[::1]:$PORT" server.pem
serve "127.0.0.1:$((PORT + 1))" other-name.pem
lab_wait_for 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT && exec 4<>/dev/tcp/::1/$PORT && exec 5<>/dev/tcp/127.0.0.1/$((PORT + 1))"

b64() { base64 -w0 <"$1"; }
kubeconfig() {  # kubeconfig FILE CLUSTER_EXTRA USER_EXTRA [SERVER]
  cat >"$1" <<YAML
apiVersion: v1
kind: Config
current-context: t
clusters:
- name: c
  cluster:
    server: ${4:-https://127.0.0.1:$PORT}
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
kubeconfig ipv6.yaml "    certificate-authority-data: $(b64 ca.pem)" "$CLIENT" "https://[::1]:$PORT"
kubeconfig prefix.yaml "    certificate-authority-data: $(b64 ca.pem)" "$CLIENT" "https://127.0.0.1:$PORT/prefix/"
kubeconfig other-name.yaml "    certificate-authority-data: $(b64 ca.pem)" "$CLIENT" "https://127.0.0.1:$((PORT + 1))"
kubeconfig no-client-cert.yaml "    certificate-authority-data: $(b64 ca.pem)" "    token: abc"

check "CA and client certificate from kubeconfig data: the request succeeds" lab_output_has "tls-ok" "$GET" ok.yaml /version
check "the same from files relative to the kubeconfig" lab_output_has "tls-ok" "$GET" files.yaml /version
check_status "verification is on by default: a server the system does not trust fails" 1 "$GET" system-trust.yaml /version
check "  ...with a certificate error" lab_output_has "certificate|SSL" "$GET" system-trust.yaml /version
check_status "a CA that did not sign the server fails" 1 "$GET" wrong-ca.yaml /version
check "  ...and says the certificate did not verify" lab_output_has "certificate verify failed" "$GET" wrong-ca.yaml /version
check_status "a certificate from the right CA for another address fails" 1 "$GET" other-name.yaml /version
check "  ...and says the certificate did not verify" lab_output_has "certificate verify failed" "$GET" other-name.yaml /version
check "an IPv6 server ([::1]) with its certificate for ::1" lab_output_has "tls-ok" "$GET" ipv6.yaml /version
check "a server URL with a path: every request goes under it" lab_output_has "prefix-ok" "$GET" prefix.yaml /version
check "insecure-skip-tls-verify accepts the server" lab_output_has "tls-ok" "$GET" insecure.yaml /version
check_status "no client certificate: the server refuses the handshake" 1 "$GET" no-client-cert.yaml /version
lab_finish
