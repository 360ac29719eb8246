#!/usr/bin/env bash
# The reference and the binaries agree: every flag a subcommand accepts (from its --help) is in
# docs/configuration.md, every flag the reference names for a subcommand is accepted, and every
# l2a_ metric the code exposes is in the reference.
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
metrics=$(grep -ohE '"l2a_[a-z_]+"' "$ROOT"/src/cli/*.cc | tr -d '"' | sort -u)
undocumented=""
for m in $metrics; do grep -qF -- "$m" "$REF" || undocumented+="$m "; done
check "every l2a_ metric the code exposes is in the reference${undocumented:+ (missing: $undocumented)}" test -z "$undocumented"
check "the reference lists metrics at all ($(wc -w <<<"$metrics") names)" test "$(wc -w <<<"$metrics")" -gt 10
lab_finish
