#!/usr/bin/env bash
# Runs every fuzz target for a fixed time on its corpus (new finds are added to the corpus in
# the repository). Usage: fuzz/run.sh BUILD_DIR SECONDS_PER_TARGET
set -euo pipefail
build=${1:-build-fuzz}
seconds=${2:-60}
here=$(cd "$(dirname "$0")" && pwd)
status=0
for target in ethernet_fuzz arp_fuzz neighbor_solicitation_fuzz neighbor_advertisement_fuzz responder_fuzz \
  kubeconfig_fuzz watch_decoder_fuzz api_objects_fuzz cluster_view_fuzz; do
  echo "== $target for ${seconds}s"
  "$build/fuzz/$target" -max_total_time="$seconds" -max_len=2048 -print_final_stats=1 \
    "$here/corpus/$target" 2>&1 | grep -E "^(stat::number_of_executed_units|stat::new_units_added|#.*DONE)|ERROR|SUMMARY" || status=1
done
exit $status
