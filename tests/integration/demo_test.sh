#!/usr/bin/env bash
# make demo as a test, on the control plane CONTROL_PLANE names (make demo: lab; make demo
# CONTROL_PLANE=kube: kube-apiserver): the seed's story asserts each of its steps (the ghost, the
# announcement over IPv6 and IPv4, the fail-over), and the lab cluster leaves nothing behind.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
source "$ROOT/tests/support/netns_lab.sh"
lab_require_root
check "the demo's steps all hold on the $LAB_CONTROL_PLANE control plane" bash "$ROOT/scripts/demo.sh" --control-plane "$LAB_CONTROL_PLANE"
check "no lab namespace is left" bash -c "! ip netns list | grep -q '^l2alab-'"
check "no lab process is left" bash -c "! pgrep -f '[r]un/l2a-lab' >/dev/null"
check "no lab state is left" test ! -e /run/l2a-lab
lab_finish
