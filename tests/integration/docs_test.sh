#!/usr/bin/env bash
# The reference and the binaries agree: every flag a subcommand accepts (from its --help) is in
# docs/configuration.md, every flag the reference names for a subcommand is accepted, and every
# l2a_ metric, Event reason and log event the code has is in docs/observability.md.
set -u
source "$(dirname "$0")/../support/netns_lab.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
L2A=${L2A:-$ROOT/build/l2a}
REF=$ROOT/docs/configuration.md

flags_of() {  # flags_of SUBCOMMAND: the long flags its --help lists (help flags aside) and the globals
  { "$L2A" "$1" --help; "$L2A" --help | sed -n '/^Options:/,/^Subcommands:/p'; } | grep -oE -- '--[a-z][a-z0-9-]+' |
    grep -vE -- '^--(help|help-all)$' | sort -u
}
section() {  # section SUBCOMMAND: the reference's section for it
  awk -v cmd="$1" '/^## / {on = index($0, "`l2a " cmd) > 0} on' "$REF"
}
documented_flags() {  # documented_flags SUBCOMMAND: long flags named in its section's tables
  if [[ $1 == announce || $1 == whohas ]]; then
    section announce | grep -E "^\\| $1 \\|" | grep -oE -- '`--[a-z][a-z0-9-]+' | tr -d '`' | sort -u
  else
    section "$1" | grep -E '^\| `--' | grep -oE -- '`--[a-z][a-z0-9-]+' | tr -d '`' | sort -u
  fi
}
for cmd in agent operator explain announce whohas; do
  missing=$(comm -23 <(flags_of "$cmd" | grep -vE -- '^--log-(level|format)$') <(documented_flags "$cmd") | tr '\n' ' ')
  check "every flag of l2a $cmd is in the reference${missing:+ (missing: $missing)}" test -z "$missing"
  phantom=$(comm -13 <(flags_of "$cmd") <(documented_flags "$cmd") | tr '\n' ' ')
  check "every flag the reference gives l2a $cmd is accepted${phantom:+ (not accepted: $phantom)}" test -z "$phantom"
done
for global in --log-level --log-format; do
  check "the global $global is in the reference" grep -qF -- "\`$global\`" "$REF"
done
OBS=$ROOT/docs/observability.md
undocumented() {  # undocumented NAME...: the names not in docs/observability.md as `NAME`
  local missing="" n
  for n in "$@"; do grep -qF -- "\`$n\`" "$OBS" || missing+="$n "; done
  echo "$missing"
}
metrics=$(grep -ohE '"l2a_[a-z_]+"' "$ROOT"/src/cli/*.cc | tr -d '"' | sort -u)
missing=$(undocumented $metrics)
check "every l2a_ metric the code exposes is in the reference${missing:+ (missing: $missing)}" test -z "$missing"
check "the reference lists metrics at all ($(wc -w <<<"$metrics") names)" test "$(wc -w <<<"$metrics")" -gt 10
# Event reasons: what the agent and the operator pass as a reason.
reasons=$(grep -rohE '"(Normal|Warning)", "[A-Za-z]+"|emplace_back\(svc, "[A-Za-z]+"' "$ROOT"/src | grep -oE '"[A-Z][A-Za-z]+"$' | tr -d '"' | sort -u)
missing=$(undocumented $reasons)
check "every Event reason is in the reference ($(wc -w <<<"$reasons") reasons)${missing:+ (missing: $missing)}" test -z "$missing"
check "  ...and there are some" test "$(wc -w <<<"$reasons")" -ge 6
# Log events: event=KEY in the code (the lab's own aside), and the informer's failed("KEY", ...).
events=$(grep -rohE 'event=[a-z_]+|failed\("[a-z_]+"' "$ROOT"/src --include=*.cc --include=*.h --exclude-dir=lab |
  sed -E 's/^event=//; s/^failed\("//; s/"$//' | sort -u)
missing=$(undocumented $events)
check "every log event is in the reference ($(wc -w <<<"$events") events)${missing:+ (missing: $missing)}" test -z "$missing"
# The pictures in docs/ are what scripts/diagrams.sh draws from their sources.
DRAWN=$(mktemp -d /tmp/l2a-docs-images.XXXXXX)
bash "$ROOT/scripts/diagrams.sh" "$DRAWN"
stale=$(diff -rq "$DRAWN" "$ROOT/docs/images" 2>&1 | tr '\n' ' ')
rm -rf "$DRAWN"
check "docs/images is what scripts/diagrams.sh draws${stale:+ (differs: $stale)}" test -z "$stale"
for image in $(grep -ohE 'images/[a-z-]+\.svg' "$ROOT"/docs/*.md | sort -u); do
  check "docs link $image, and it exists" test -s "$ROOT/docs/$image"
done
lab_finish
