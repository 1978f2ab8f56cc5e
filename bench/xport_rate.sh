#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# xport_rate.sh - frames per second through the mirror transports
# (user/xport.h): AF_XDP (copy mode on veth) against the UDP socket
# (sendmmsg/recvmmsg), in one run on one veth pair with the member program
# attached on both ends, as the mirror runs.
#
# build/xh-xport-test blast sends as fast as the transport takes frames
# (pinned to CPU 0), sink counts what arrives (busy-polling, CPU 1) from
# its first frame for DURATION seconds; the figure is the sink's: frames
# delivered per second. Two payload sizes: 1400 bytes (a batch of mirror
# records, what the mirror sends under load) and 64 bytes (one record a
# frame). Modes alternate within each trial, so load from elsewhere hits
# both alike; each figure is the median of TRIALS.
#
# stdout: {"xport_afxdp_frames_per_s": {"value", "unit", "baseline":
# "xport_udp_frames_per_s", "ratio", ...}, "xport_udp_frames_per_s",
# and the same for 64-byte payloads as xport_afxdp_small_frames_per_s /
# xport_udp_small_frames_per_s}. The table goes to stderr.
set -u
. "$(dirname "$0")/../scripts/topo.sh"
. "$(dirname "$0")/../scripts/xport_topo.sh"
TRIALS=${XPORT_TRIALS:-5}
DURATION=${XPORT_DURATION:-2}

topo_init "xhr$$-"
xport_topo || die "the member program cannot be attached"

# run MODE SIZE -> the sink's report in $XH_TMP/MODE-SIZE-N.json
run() {
	local mode=$1 size=$2 k=$3 r=$XH_TMP/$1-$2-$3
	rm -f "$r.ready"
	ns_bg b "$XPORT" sink --mode "$mode" --dev m0 --local $NET4.2 \
		--peer $NET4.1 --duration "$DURATION" --cpu 1 \
		--ready "$r.ready" --json "$r.json" 2>/dev/null
	local sink=$!
	wait_file "$r.ready" 5 || die "$mode: sink did not start"
	ns a "$XPORT" blast --mode "$mode" --dev m0 --local $NET4.1 \
		--peer $NET4.2 --size "$size" --cpu 0 \
		--duration "$(awk "BEGIN { print $DURATION + 0.5 }")" \
		--json "$XH_TMP/tx-$mode-$size-$k.json" 2>/dev/null || die "$mode: blast failed"
	wait "$sink" 2>/dev/null
	json "$r.json" '.frames > 0' >/dev/null || die "$mode $size: nothing arrived"
}

for size in 1400 64; do
	for k in $(seq 1 "$TRIALS"); do
		if [ $((k % 2)) -eq 1 ]; then order="xsk udp"; else order="udp xsk"; fi
		for mode in $order; do
			run "$mode" "$size" "$k"
			log "$mode $size B #$k: $(jq '.frames_per_s' "$XH_TMP/$mode-$size-$k.json") frames/s"
		done
	done
done

# summary MODE SIZE: median, every trial, kernel drops at the receiver
summary() {
	local mode=$1 size=$2
	jq -s --argjson size "$size" '
		(map(.frames_per_s) | sort) as $l |
		{ value: $l[(($l | length) / 2 | floor)], list: $l,
		  rx_dropped: (map(.stats.k_rx_dropped + .stats.k_rx_ring_full) | add),
		  mode: .[0].mode }' "$XH_TMP/$mode-$size"-[0-9]*.json
}
entries='{}'
for size in 1400 64; do
	x=$(summary xsk "$size")
	u=$(summary udp "$size")
	if [ "$size" = 64 ]; then sfx=_small; else sfx=; fi
	entries=$(jq -n --argjson e "$entries" --argjson x "$x" --argjson u "$u" \
		--arg xn "xport_afxdp${sfx}_frames_per_s" \
		--arg un "xport_udp${sfx}_frames_per_s" \
		--argjson size "$size" --argjson trials "$TRIALS" \
		--argjson dur "$DURATION" '
		def e($v; $mode; $l; $drop; $ratio): {
			value: $v, unit: "frames/s", baseline: $un, ratio: $ratio,
			payload_bytes: $size, frame_bytes: ($size + 42),
			mode: $mode, trials: $trials, seconds: $dur, list: $l,
			rx_dropped: $drop };
		$e + {
		  ($xn): e($x.value; $x.mode; $x.list; $x.rx_dropped;
			   (($x.value / $u.value) * 1000 | round) / 1000),
		  ($un): e($u.value; $u.mode; $u.list; $u.rx_dropped; 1) }')
	log "$(printf '%-5s B payload: AF_XDP (%s) %s frames/s, UDP %s frames/s, ratio %s' \
		"$size" "$(jq -r .mode <<<"$x")" "$(jq .value <<<"$x")" \
		"$(jq .value <<<"$u")" \
		"$(jq -r --arg n "xport_afxdp${sfx}_frames_per_s" '.[$n].ratio' <<<"$entries")")"
done
echo "$entries"
