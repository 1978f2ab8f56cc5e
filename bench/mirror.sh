#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# mirror.sh - the state mirror end to end through libxdpha: records per
# second and replication lag, over AF_XDP (copy mode on veth) and over the
# plain UDP socket, the same protocol and library, in one run on one veth
# pair with the member program attached on both ends.
#
# build/xh-mirror-node bench (pinned to CPU 0) puts records (16-byte keys,
# 64-byte values, over KEYS distinct keys) through libxdpha as fast as the
# mirror's window lets it; xh-mirror-node run on the other end (CPU 1)
# applies them to its table and acknowledges. The figure is what the
# sender saw acknowledged per second. Lag = put -> acknowledgement (the
# record applied at the peer and its ack back), every record, at half of
# the transport's own maximum rate (the median of the trials). Modes
# alternate within each trial. KEYS=10,000 keeps the tables in the cache,
# so the mirror is what is measured; a run over 100,000 keys (tables
# larger than this machine's share of the cache) is reported beside it.
#
# stdout: {"mirror_records_per_s": {"value", "unit", "baseline":
# "mirror_udp_records_per_s", "ratio", "lag_p50_ms", "lag_p99_ms", ...},
# "mirror_udp_records_per_s": {...}}. The table goes to stderr.
set -u
. "$(dirname "$0")/../scripts/topo.sh"
NODE=${NODE:-$BUILD/xh-mirror-node}
TRIALS=${MIRROR_TRIALS:-3}
DURATION=${MIRROR_DURATION:-3}
KEYS=${MIRROR_KEYS:-10000}
BIG_KEYS=100000

topo_init "xhmb$$-"
[ -x "$NODE" ] || die "$NODE not built (make)"
mkns a
mkns b
ip link add m0 netns "${XH_P}a" type veth peer name m0 netns "${XH_P}b" ||
	die "veth"
for n in a b; do
	nodad "$n" m0
	ns "$n" ip link set m0 up
	ns "$n" "$XDPHA" attach member m0 >/dev/null || die "attach member ($n)"
done
ns a ip addr add $NET4.1/24 dev m0
ns b ip addr add $NET4.2/24 dev m0
ns a ping -c1 -W1 -q $NET4.2 >/dev/null 2>&1 || true
ns b ping -c1 -W1 -q $NET4.1 >/dev/null 2>&1 || true

# run MODE KEYS RATE TAG: one sender run against a fresh receiver; its
# report in $XH_TMP/TAG.json
run() {
	local mode=$1 keys=$2 rate=$3 tag=$4 rx
	rm -f "$XH_TMP/rx.ready"
	ns_bg b taskset -c 1 "$NODE" run --dev m0 --local $NET4.2 \
		--peer $NET4.1 --transport "$mode" --ready "$XH_TMP/rx.ready" \
		2>>"$XH_TMP/rx.log"
	rx=$!
	wait_file "$XH_TMP/rx.ready" 5 || die "$mode: receiver did not start"
	ns a taskset -c 0 "$NODE" bench --dev m0 --local $NET4.1 \
		--peer $NET4.2 --transport "$mode" --keys "$keys" --rate "$rate" \
		--duration "$DURATION" >"$XH_TMP/$tag.json" 2>>"$XH_TMP/tx.log" ||
		die "$mode: bench failed: $(tail -n 3 "$XH_TMP/tx.log")"
	kill "$rx" 2>/dev/null
	wait "$rx" 2>/dev/null
	json "$XH_TMP/$tag.json" '.records > 0' >/dev/null ||
		die "$mode: nothing acknowledged"
}

median() { jq -s 'map(.records_per_s) | sort | .[length / 2 | floor]' "$@"; }

for k in $(seq 1 "$TRIALS"); do
	if [ $((k % 2)) -eq 1 ]; then order="afxdp udp"; else order="udp afxdp"; fi
	for mode in $order; do
		run "$mode" "$KEYS" 0 "max-$mode-$k"
		log "$mode #$k: $(jq -c '{records_per_s, lag_p99_ms, retransmitted}' "$XH_TMP/max-$mode-$k.json")"
	done
done
declare -A MAX=()
for mode in afxdp udp; do
	MAX[$mode]=$(median "$XH_TMP"/max-"$mode"-[0-9]*.json)
done
# lag at half of each transport's maximum
for k in $(seq 1 "$TRIALS"); do
	for mode in afxdp udp; do
		run "$mode" "$KEYS" $((${MAX[$mode]%.*} / 2)) "lag-$mode-$k"
		log "$mode at $((${MAX[$mode]%.*} / 2))/s #$k: $(jq -c '{records_per_s, lag_p50_ms, lag_p99_ms}' "$XH_TMP/lag-$mode-$k.json")"
	done
done
for mode in afxdp udp; do
	run "$mode" "$BIG_KEYS" 0 "big-$mode"
	log "$mode over $BIG_KEYS keys: $(jq -c '{records_per_s}' "$XH_TMP/big-$mode.json")"
done

# summary MODE: figures of one transport
summary() {
	local m=$1
	jq -n --slurpfile max <(cat "$XH_TMP"/max-"$m"-[0-9]*.json) \
		--slurpfile lag <(cat "$XH_TMP"/lag-"$m"-[0-9]*.json) \
		--slurpfile big "$XH_TMP/big-$m.json" '
		def med(f): (map(f) | sort) as $l | $l[($l | length) / 2 | floor];
		{ value: ($max | med(.records_per_s)),
		  list: ($max | map(.records_per_s)),
		  lag_p50_ms: ($lag | med(.lag_p50_ms)),
		  lag_p99_ms: ($lag | med(.lag_p99_ms)),
		  lag_rate: $lag[0].rate,
		  lag_p99_at_max_ms: ($max | med(.lag_p99_ms)),
		  big: $big[0].records_per_s,
		  retransmitted: ($max | map(.retransmitted) | add),
		  mode: $max[0].transport }'
}
x=$(summary afxdp)
u=$(summary udp)
jq -n --argjson x "$x" --argjson u "$u" --argjson keys "$KEYS" \
	--argjson big "$BIG_KEYS" --argjson trials "$TRIALS" \
	--argjson dur "$DURATION" '
	def r3: . * 1000 | round / 1000;
	def e($s; $ratio; $big_ratio): {
		value: ($s.value | round), unit: "records/s",
		baseline: "mirror_udp_records_per_s", ratio: $ratio,
		lag_p50_ms: $s.lag_p50_ms, lag_p99_ms: $s.lag_p99_ms,
		lag_at_records_per_s: $s.lag_rate,
		lag_p99_at_max_ms: $s.lag_p99_at_max_ms,
		mode: $s.mode, value_bytes: 64, key_bytes: 16, keys: $keys,
		trials: $trials, seconds: $dur, list: ($s.list | map(round)),
		retransmitted: $s.retransmitted,
		records_per_s_100k_keys: ($s.big | round),
		ratio_100k_keys: $big_ratio };
	{ mirror_records_per_s: e($x; ($x.value / $u.value | r3);
				  ($x.big / $u.big | r3)),
	  mirror_udp_records_per_s: e($u; 1; 1) }' >"$XH_TMP/out.json" ||
	die "summary failed"
jq -r '.mirror_records_per_s as $x | .mirror_udp_records_per_s as $u |
	"AF_XDP (\($x.mode)) \($x.value) records/s, UDP \($u.value), ratio \($x.ratio); lag at half rate p50/p99: AF_XDP \($x.lag_p50_ms)/\($x.lag_p99_ms) ms, UDP \($u.lag_p50_ms)/\($u.lag_p99_ms) ms; over 100,000 keys: \($x.records_per_s_100k_keys) vs \($u.records_per_s_100k_keys) (ratio \($x.ratio_100k_keys))"' \
	"$XH_TMP/out.json" >&2
cat "$XH_TMP/out.json"
