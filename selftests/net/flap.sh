#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# flap.sh - anti-flap: b1's heartbeat flaps at 5 Hz (its NIC drops
# everything for 100 ms, then nothing for 100 ms) for FLAP_S seconds while
# a UDP stream runs over b1..b3. Asserted: flows on b2 and b3 lose
# nothing, and the controller rebuilds the tables at most once per
# hold-down window (the first failure excludes b1; a flapping b1 is never
# Up for a whole hold-down, so it never re-enters until it is stable).
set -u
. "$(dirname "$0")/../../scripts/topo.sh"

FLAP_S=${FLAP_S:-60}
HOLD=3000
topo_init "xhf$$-"
PIN=/sys/fs/bpf/xh-flap-$$
trap 'rm -f "$PIN"; topo_cleanup' EXIT
topo_l2 3
cat > "$XH_TMP/x.conf" <<EOF
controller: { socket = "$XH_TMP/ctl.sock"; log_level = "info"; };
heartbeat: { interval_ms = 10; multiplier = 5; hold_down_ms = $HOLD; slow_start_ms = 20; };
interfaces = ( { name = "s0"; role = "steer"; address = "$NET4.2"; } );
services = ( { vip = "$VIP4:7000/udp"; backends = ( { address = "$NET4.11"; },
	{ address = "$NET4.12"; }, { address = "$NET4.13"; } ); } );
EOF
export XDPHA_SOCKET=$XH_TMP/ctl.sock
ns_bg s "$XDPHA" run -c "$XH_TMP/x.conf" 2>"$XH_TMP/ctl.log"
for i in 1 2 3; do
	ns_bg "b$i" "$XDPHA" member --peer $NET4.2 --local $NET4.$((10 + i)) \
		--interval 10 --multiplier 5 --slow-start 20
	ns_bg "b$i" "$TRAFFIC" udp-echo --port 7000 --id "b$i"
done
for t in $(seq 1 100); do
	n=$(xdpha status --json 2>/dev/null | jq '[.devices[].services[].backends[] | select(.live)] | length')
	[ "$n" = 3 ] && break
	sleep 0.1
done
[ "$n" = 3 ] || die "backends not live: $(xdpha status)"
# the black hole, loaded once (the object's first program, xt_drop_all)
bpftool prog load "$BUILD/xh_pass_count.bpf.o" "$PIN" type xdp >/dev/null ||
	die "load the drop program"
bpftool prog show pinned "$PIN" | grep -q xt_drop_all || die "pinned the wrong program"

r0=$(xdpha status --json | jq .controller.table_rebuilds)
ns_bg c "$TRAFFIC" udp-client --dst $VIP4 --port 7000 --flows 16 --rate 500 \
	--duration $((FLAP_S + 4)) --outage-ms 8 --json "$XH_TMP/udp.json"
sleep 1
log "flapping b1 at 5 Hz for $FLAP_S s"
end=$(( $(date +%s) + FLAP_S ))
flaps=0
while [ "$(date +%s)" -lt "$end" ]; do
	ns b1 ip link set dev b0 xdpdrv pinned "$PIN"
	sleep 0.1
	ns b1 ip link set dev b0 xdpdrv off
	sleep 0.1
	flaps=$((flaps + 1))
done
r1=$(xdpha status --json | jq .controller.table_rebuilds)
wait_file "$XH_TMP/udp.json" 20 || die "no udp report"
sleep 0.3
windows=$(( (FLAP_S * 1000 + HOLD - 1) / HOLD ))
log "$flaps flaps; table rebuilds during them: $((r1 - r0)) (at most $windows windows of $HOLD ms)"
[ "$flaps" -ge "$FLAP_S" ] || die "only $flaps flaps in $FLAP_S s: the machine is too loaded to flap"
[ $((r1 - r0)) -ge 1 ] || die "b1 was never excluded"
[ $((r1 - r0)) -le "$windows" ] || die "$((r1 - r0)) rebuilds in $windows hold-down windows"
bad=$(jq '[.flows[] | select((.responders | has("b1") | not) and .lost > 0)] | length' "$XH_TMP/udp.json")
[ "$bad" = 0 ] || die "$bad flows on b2/b3 lost datagrams: $(jq -c '[.flows[] | select(.lost > 0) | {responders, lost}]' "$XH_TMP/udp.json")"
log "flows on b2/b3: no loss; $(jq -c '{sent, lost, responders}' "$XH_TMP/udp.json")"
log "PASS"
exit 0
