#!/usr/bin/env bash
# Runs every fuzz target for a fixed time on its corpus. New finds go to a scratch directory
# first and are then merged into the repository's corpus with -merge=1, which keeps only the
# inputs that add coverage, so a long run does not flood the corpus.
# Usage: fuzz/run.sh BUILD_DIR SECONDS_PER_TARGET [TARGET...]
set -euo pipefail
build=${1:-build-fuzz}
seconds=${2:-60}
shift $(($# < 2 ? $# : 2))
here=$(cd "$(dirname "$0")" && pwd)
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(ethernet_fuzz arp_fuzz neighbor_solicitation_fuzz neighbor_advertisement_fuzz
  responder_fuzz kubeconfig_fuzz watch_decoder_fuzz api_objects_fuzz cluster_view_fuzz heartbeat_fuzz)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
status=0
printf '%-30s %8s %12s %10s %10s %s\n' target seconds executions new kept result
for target in "${targets[@]}"; do
  corpus="$here/corpus/$target"
  mkdir -p "$corpus" "$scratch/$target"
  log="$scratch/$target.log"
  result=ok
  "$build/fuzz/$target" -max_total_time="$seconds" -max_len=2048 -print_final_stats=1 \
    -artifact_prefix="$scratch/$target-" "$scratch/$target" "$corpus" >"$log" 2>&1 || result=CRASH
  before=$(find "$corpus" -type f | wc -l)
  "$build/fuzz/$target" -merge=1 "$corpus" "$scratch/$target" >>"$log" 2>&1 || result=CRASH
  after=$(find "$corpus" -type f | wc -l)
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | head -1)
  added=$(find "$scratch/$target" -type f | wc -l)
  printf '%-30s %8s %12s %10s %10s %s\n' "$target" "$seconds" "${executions:-?}" "$added" "$((after - before))" "$result"
  if [[ $result != ok ]]; then
    status=1
    grep -E "ERROR|SUMMARY|artifact" "$log" | head -5
    for a in "$scratch/$target"-crash-* "$scratch/$target"-leak-* "$scratch/$target"-timeout-*; do
      [[ -e $a ]] && cp "$a" "$here/" && echo "kept $here/$(basename "$a")"
    done
  fi
done
exit $status
