#!/usr/bin/env bash
# make demo as a test: the seed's story asserts each of its steps (the ghost, the announcement
# over IPv6 and IPv4, the fail-over), and the lab cluster leaves nothing behind.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
source "$ROOT/tests/support/netns_lab.sh"
lab_require_root
check "the demo's steps all hold" bash "$ROOT/scripts/demo.sh"
check "no lab namespace is left" bash -c "! ip netns list | grep -q '^l2alab-'"
check "no lab process is left" bash -c "! pgrep -f 'l2a (agent|operator) .*run/l2a-lab' >/dev/null"
check "no lab state is left" test ! -e /run/l2a-lab
lab_finish
