#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# xsk_transport.sh - the mirror transports (user/xport.h) end to end: two
# namespaces joined by one veth pair, the member program on both ends.
# For IPv4 and IPv6, build/xh-xport-test sends numbered payloads of mixed
# sizes (8 bytes to the MTU's limit) and checks every byte of the echo:
#   AF_XDP -> AF_XDP  both ends build and parse frames themselves (UDP
#                     checksums verified on receive)
#   UDP -> UDP        the baseline, with the member program attached and
#                     no socket in xm_xsks: mirror frames pass to the stack
#   AF_XDP -> UDP     the stack accepts our frames (IPv6: our checksums)
#   UDP -> AF_XDP     and we accept the stack's (partial checksums)
# While an AF_XDP transport is open its socket holds the queue's slot in
# xm_xsks, a second one is refused, and a frame to another address is
# dropped and counted; after close the slot is empty again; xm_stats
# counted every frame redirected to a socket (redirect_xsk).
#
# bpftool cannot show who holds an XSKMAP slot (the kernel refuses lookups
# from user space: every key reads "Operation not supported"), so
# `xh-xport-test probe` asks the kernel directly: inserting a throwaway
# socket with BPF_NOEXIST fails with EEXIST exactly when the slot is taken.
set -u
. "$(dirname "$0")/../../scripts/topo.sh"
. "$(dirname "$0")/../../scripts/xport_topo.sh"
N=${XSK_TEST_COUNT:-5000}

topo_init "xhx$$-"
if ! xport_topo; then
	[ -n "${CI:-}" ] && die "native XDP on veth unavailable"
	log "SKIP: native XDP on veth unavailable"
	exit 4
fi
ns b ip addr add $NET4.3/24 dev m0	# ours, but not the transport's

PIN_A=/sys/fs/bpf/xdpha/netns:${XH_P}a/m0
PIN_B=/sys/fs/bpf/xdpha/netns:${XH_P}b/m0

probe() { ns "$1" "$XPORT" probe --dev m0; }

# redirect_xsk packets of a pin directory, summed over CPUs
redirected() {
	bpftool -j map dump pinned "$1/xm_stats" |
		jq '[.[] | select(.formatted.key == 11) |
		     .formatted.values[].value.packets] | add // 0'
}

# case NAME FAMILY PING_MODE ECHO_MODE [PING_OPTS] [ECHO_OPTS]
xcase() {
	local name=$1 fam=$2 pm=$3 em=$4 popts=${5:-} eopts=${6:-}
	local la lb r=$XH_TMP/$name
	if [ "$fam" = 4 ]; then la=$NET4.1 lb=$NET4.2; else la=$NET6::1 lb=$NET6::2; fi
	rm -f "$r.ready"
	ns_bg b "$XPORT" echo --mode "$em" --dev m0 --local "$lb" --peer "$la" \
		--ready "$r.ready" --json "$r.echo.json" $eopts 2>"$r.echo.err"
	local epid=$!
	wait_file "$r.ready" 5 || die "$name: echo did not start: $(cat "$r.echo.err")"
	if [ "$em" = xsk ]; then
		[ "$(probe b)" = registered ] ||
			die "$name: the echo's socket is not in xm_xsks"
	fi
	ns a "$XPORT" ping --mode "$pm" --dev m0 --local "$la" --peer "$lb" \
		--count "$N" --json "$r.ping.json" $popts 2>"$r.ping.err"
	local rc=$?
	kill -TERM "$epid" 2>/dev/null
	wait "$epid" 2>/dev/null
	[ -s "$r.ping.json" ] || die "$name: no report: $(cat "$r.ping.err")"
	log "$name: $(jq -c '{mode, ok, bad, dup, lost, max_payload}' "$r.ping.json") echo $(jq -c '{mode, echoed}' "$r.echo.json")"
	[ "$rc" -eq 0 ] || die "$name: ping failed (exit $rc): $(jq -c . "$r.ping.json")"
	json "$r.ping.json" ".ok == $N and .bad == 0 and .dup == 0" >/dev/null ||
		die "$name: $(jq -c . "$r.ping.json")"
	json "$r.echo.json" ".echoed == $N" >/dev/null ||
		die "$name: echo: $(jq -c . "$r.echo.json")"
	for f in "$r.ping.json:$pm" "$r.echo.json:$em"; do
		case ${f##*:} in
		xsk) json "${f%:*}" '.mode | startswith("afxdp-")' >/dev/null ||
			die "$name: mode $(jq -r .mode "${f%:*}")" ;;
		udp) json "${f%:*}" '.mode == "udp"' >/dev/null ||
			die "$name: mode $(jq -r .mode "${f%:*}")" ;;
		esac
	done
	if [ "$em" = xsk ]; then
		[ "$(probe b)" = empty ] ||
			die "$name: xm_xsks still holds a socket after close"
	fi
}

rb0=$(redirected "$PIN_B")
ra0=$(redirected "$PIN_A")
xsk_b=0 xsk_a=0
for fam in 4 6; do
	xcase "xsk-xsk-v$fam" $fam xsk xsk --rx-csum --rx-csum
	xsk_b=$((xsk_b + N)) xsk_a=$((xsk_a + N))
	xcase "udp-udp-v$fam" $fam udp udp
	xcase "xsk-udp-v$fam" $fam xsk udp
	xsk_a=$((xsk_a + N))
	xcase "udp-xsk-v$fam" $fam udp xsk
	xsk_b=$((xsk_b + N))
done
mode=$(jq -r .mode "$XH_TMP/xsk-xsk-v4.ping.json")
log "AF_XDP mode on veth: $mode (zero-copy refused, copy mode chosen by itself)"

# while a transport is open: its slot taken, a second one refused, a
# frame to another of our addresses dropped and counted
rm -f "$XH_TMP/hold.ready"
ns_bg b "$XPORT" echo --mode xsk --dev m0 --local $NET4.2 --peer $NET4.1 \
	--ready "$XH_TMP/hold.ready" --json "$XH_TMP/hold.json" 2>/dev/null
hold=$!
wait_file "$XH_TMP/hold.ready" 5 || die "hold: echo did not start"
bpftool map dump pinned "$PIN_B/xm_xsks" >"$XH_TMP/xsks.dump" 2>&1 ||
	die "bpftool map dump pinned $PIN_B/xm_xsks: $(cat "$XH_TMP/xsks.dump")"
grep -q '^00 00 00 00' "$XH_TMP/xsks.dump" || die "xm_xsks dump: no key 0"
[ "$(probe b)" = registered ] || die "hold: the socket is not in xm_xsks"
if ns b "$XPORT" sink --mode xsk --dev m0 --local $NET4.2 --peer $NET4.1 \
	--duration 0.1 --json /dev/null 2>"$XH_TMP/second.err"; then
	die "a second AF_XDP transport on the same queue was accepted"
fi
log "second transport on queue 0 refused: $(tail -1 "$XH_TMP/second.err")"
ns a bash -c "echo stray > /dev/udp/$NET4.3/7868" || die "stray datagram"
sleep 0.3
kill -TERM "$hold"
wait "$hold" 2>/dev/null
json "$XH_TMP/hold.json" '.stats.rx_drop.dst >= 1 and .echoed == 0' >/dev/null ||
	die "a frame to $NET4.3 was not dropped as dst: $(jq -c .stats "$XH_TMP/hold.json")"
[ "$(probe b)" = empty ] || die "hold: xm_xsks still holds a socket after close"
xsk_b=$((xsk_b + 1))

rb=$(($(redirected "$PIN_B") - rb0))
ra=$(($(redirected "$PIN_A") - ra0))
log "redirect_xsk: b $rb (expected $xsk_b), a $ra (expected $xsk_a)"
[ "$rb" -eq "$xsk_b" ] || die "b: redirect_xsk $rb, expected $xsk_b"
[ "$ra" -eq "$xsk_a" ] || die "a: redirect_xsk $ra, expected $xsk_a"
log "PASS"
exit 0
