#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# run-bench.sh - run every benchmark and merge its entries into
# bench/results.json ({"name": {"value", "unit", "baseline", "ratio", ...}}).
# Each benchmark prints its table on stderr and a JSON object on stdout.
set -euo pipefail
BUILD=${BUILD:-build}
OUT=bench/results.json
[ -s "$OUT" ] || echo '{}' > "$OUT"
rc=0
for b in "$BUILD"/bench/*; do
	[ -x "$b" ] || continue
	echo "== $(basename "$b")"
	if json=$("$b"); then
		tmp=$(mktemp)
		jq --argjson new "$json" '. + $new' "$OUT" > "$tmp" && cat "$tmp" > "$OUT"; rm -f "$tmp"
	else
		echo "$(basename "$b"): failed" >&2
		rc=1
	fi
done
for s in bench/*.sh; do
	[ -f "$s" ] || continue
	# libraries are sourced, not run; keepalived's baseline is measured
	# inside failover.sh and takeover.sh, in the same run as xdpha's
	case $(basename "$s") in lib_*|keepalived_*) continue ;; esac
	echo "== $(basename "$s" .sh)"
	if json=$(BUILD=$BUILD bash "$s"); then
		tmp=$(mktemp)
		jq --argjson new "$json" '. + $new' "$OUT" > "$tmp" && cat "$tmp" > "$OUT"; rm -f "$tmp"
	else
		echo "$(basename "$s"): failed" >&2
		rc=1
	fi
done
echo "results: $OUT"
exit $rc
