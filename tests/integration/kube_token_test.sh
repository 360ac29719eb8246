#!/usr/bin/env bash
# Bearer tokens from the kubeconfig's tokenFile (as in-cluster service-account tokens): sent as
# "Authorization: Bearer", and re-read when the file changes (rotation) by a running client.
set -u
source "$(dirname "$0")/../support/netns_lab.sh"
GET=${KUBE_GET:-build/tests/support/kube_get}
DIR=$(mktemp -d /tmp/l2a-token-XXXX)
SERVER=
trap '[[ -n $SERVER ]] && kill $SERVER 2>/dev/null; wait 2>/dev/null; rm -rf "$DIR"' EXIT
PORT=$((20000 + RANDOM % 20000))
python3 - "$PORT" "$DIR/headers.log" >"$DIR/server.out" 2>&1 <<'PY' &
import http.server, sys
port, log = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(log, "a") as f:
            f.write((self.headers.get("Authorization") or "none") + "|" + (self.headers.get("User-Agent") or "") + "\n")
        body = b'{"kind":"Status","status":"Success"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
PY
SERVER=$!
lab_wait_for 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT"
echo -n "first-token" >"$DIR/token"
cat >"$DIR/kubeconfig" <<YAML
apiVersion: v1
kind: Config
current-context: c
clusters: [{name: x, cluster: {server: "http://127.0.0.1:$PORT"}}]
contexts: [{name: c, context: {cluster: x, user: u}}]
users: [{name: u, user: {tokenFile: token}}]
YAML
"$GET" "$DIR/kubeconfig" /version 2 1000 >"$DIR/get.out" 2>&1 &
GETTER=$!
sleep 0.4
printf 'rotated-token\n' >"$DIR/token.new" && mv "$DIR/token.new" "$DIR/token"
wait $GETTER
check "both requests succeeded" test "$(grep -c 'status 200' "$DIR/get.out")" = 2
check "the first carried the first token" test "$(sed -n 1p "$DIR/headers.log" | cut -d'|' -f1)" = "Bearer first-token"
check "the second, from the same client, the rotated one" test "$(sed -n 2p "$DIR/headers.log" | cut -d'|' -f1)" = "Bearer rotated-token"
check "User-Agent is l2a/<version>" lab_output_has "^l2a/[0-9]+\.[0-9]+\.[0-9]+$" bash -c "sed -n 1p '$DIR/headers.log' | cut -d'|' -f2"
lab_finish
