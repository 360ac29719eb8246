#!/usr/bin/env bash
# The pictures in docs/: every docs/diagrams/*.dot drawn by graphviz, and the fail-over timeline
# (docs/diagrams/failover.tsv, the figures of docs/benchmarks.md) by scripts/failover-chart.py,
# as SVG into docs/images/ (or OUT_DIR: the docs test draws them again and compares).
# Usage: scripts/diagrams.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-docs/images}
command -v dot >/dev/null || { echo "diagrams: graphviz's dot is missing (scripts/bootstrap.sh installs it)" >&2; exit 1; }
mkdir -p "$OUT"
for source in docs/diagrams/*.dot; do
  dot -Tsvg "$source" -o "$OUT/$(basename "$source" .dot).svg"
done
python3 scripts/failover-chart.py docs/diagrams/failover.tsv "$OUT/failover-timeline.svg"
