#!/usr/bin/env bash
# The lab API server against kube-apiserver: the same requests (create with defaulting, get,
# update with optimistic concurrency, each patch type, status, lists with label and field
# selectors and paging, watches from a resourceVersion with a selector, 410, CRD schema checks,
# pruning and strict field validation) sent to both by tests/integration/differential.py, and
# the answers compared after normalising uids, times, versions and allocations. What the lab
# server does differently on purpose is listed in docs/lab.md. Beside it, a quiet watch through
# l2a's client with its default options must stay open across kube-apiserver's bookmarks.
set -u
source "$(dirname "$0")/../support/netns_lab.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LAB=${L2A_LAB:-$ROOT/build/l2a-lab}
lab_require_root
LAB_CONTROL_PLANE=kube
lab_init diff
lab_control_plane_only || { echo "FAIL - kube-apiserver did not start"; exit 1; }
ip netns exec "$LAB_LAN" "$LAB" apiserver --listen 127.0.0.1:7443 --history 20 >"/tmp/$LAB_ID-lab.log" 2>&1 &
LAB_PIDS+=($!)
check "the lab API server starts beside it" lab_wait_for 5 grep -q "serving http" "/tmp/$LAB_ID-lab.log"
# A quiet watch with the client's defaults outlives kube-apiserver's bookmark period (about a
# minute): the client's idle cut-off must not end it first (it did at 60 s).
lab_kubectl create namespace quiet >/dev/null
ip netns exec "$LAB_LAN" "$QUIET_WATCH" "$LAB_KUBECONFIG" quiet 75 >"/tmp/$LAB_ID-quiet.out" 2>&1 &
QUIET=$!
PKI=$LAB_CP_DIR/pki
check "kube-apiserver and the lab server answer alike" \
  ip netns exec "$LAB_LAN" python3 "$ROOT/tests/integration/differential.py" https://198.18.0.1:6443 \
  "$PKI/ca.crt" "$PKI/admin.crt" "$PKI/admin.key" http://127.0.0.1:7443
wait "$QUIET"
QUIET_RC=$?
check "a quiet watch stays open 75 s, kept alive by bookmarks ($(cat "/tmp/$LAB_ID-quiet.out"))" test "$QUIET_RC" = 0
lab_finish
