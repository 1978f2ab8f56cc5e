#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# controller.sh - the controller's life cycle, with traffic flowing:
#  - a bad file is refused with FILE:LINE: reason, at start and on SIGHUP,
#    and a refused reload changes nothing;
#  - a good reload adds a backend;
#  - SIGTERM stops the controller and leaves the data plane forwarding
#    (no datagram lost while no controller runs);
#  - a restarted controller adopts the BFD sessions: no session flap, no
#    backend_down, no loss;
#  - the control socket serves only root;
#  - active-standby without preemption: a returning active stays standby.
set -u
. "$(dirname "$0")/../../scripts/topo.sh"

topo_init "xhk$$-"
topo_l2 3
IV=10 MULT=5
conf() {	# conf PREEMPT BACKENDS...
	local pre=$1 s="" i
	shift
	for i in "$@"; do s="$s{ address = \"$NET4.$((10 + i))\"; }, "; done
	cat <<EOF
controller: { socket = "$XH_TMP/ctl.sock"; log_level = "info"; };
heartbeat: { interval_ms = $IV; multiplier = $MULT; hold_down_ms = 300; slow_start_ms = 100; preempt = $pre; };
interfaces = ( { name = "s0"; role = "steer"; address = "$NET4.2"; } );
services = (
	{ vip = "$VIP4:7000/udp"; backends = ( ${s%, } ); },
	{ vip = "$VIP4:7100/udp"; mode = "active-standby"; backends = ( { address = "$NET4.11"; }, { address = "$NET4.12"; } ); }
);
EOF
}
export XDPHA_SOCKET=$XH_TMP/ctl.sock

# 1. a bad file is refused at start, naming file and line
printf 'heartbeat: { interval_ms = 10;\n  multiplier = 0; };\n' > "$XH_TMP/bad.conf"
out=$(ns s "$XDPHA" run -c "$XH_TMP/bad.conf" 2>&1) && die "bad file accepted"
echo "$out" | grep -q "$XH_TMP/bad.conf:2:" || die "error does not name file:line: $out"
log "bad file refused: $out"

conf true 1 2 > "$XH_TMP/x.conf"
start_ctl() {
	ns_bg s "$XDPHA" run -c "$XH_TMP/x.conf" 2>>"$XH_TMP/ctl.log"
	CTL=$!
}
start_ctl
for i in 1 2 3; do
	ns_bg "b$i" "$XDPHA" member --peer $NET4.2 --local $NET4.$((10 + i)) \
		--interval $IV --multiplier $MULT --slow-start 100
	ns_bg "b$i" "$TRAFFIC" udp-echo --port 7000 --id "b$i"
	ns_bg "b$i" "$TRAFFIC" udp-echo --port 7100 --id "b$i"
done
live() {	# live SERVICE-PORT: live backends of that service
	xdpha status --json 2>/dev/null | jq -r --arg p ":$1/" \
		'[.devices[].services[] | select(.service | contains($p)) | .backends[] | select(.live) | .addr] | join(" ")'
}
wait_live() {	# wait_live PORT "ADDRS"
	local i
	for i in $(seq 1 100); do
		[ "$(live "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	die "service :$1: live '$(live "$1")', expected '$2'"
}
wait_live 7000 "$NET4.11 $NET4.12"
ns_bg s "$XDPHA" events > "$XH_TMP/events.jsonl"
sleep 0.2

ns_bg c "$TRAFFIC" udp-client --dst $VIP4 --port 7000 --flows 16 --rate 500 \
	--duration 14 --outage-ms 8 --json "$XH_TMP/udp.json"
sleep 1

# 2. a refused reload changes nothing
cp "$XH_TMP/x.conf" "$XH_TMP/good.conf"
cp "$XH_TMP/bad.conf" "$XH_TMP/x.conf"
kill -HUP $CTL
sleep 0.5
grep -q "reload refused" "$XH_TMP/ctl.log" || die "no refusal logged"
jq -se 'any(.[]; .event == "config" and .state == "refused")' "$XH_TMP/events.jsonl" \
	>/dev/null || die "no config-refused event"
wait_live 7000 "$NET4.11 $NET4.12"
log "refused reload: running configuration intact"

# 3. a good reload adds b3
conf true 1 2 3 > "$XH_TMP/x.conf"
kill -HUP $CTL
wait_live 7000 "$NET4.11 $NET4.12 $NET4.13"
log "reload added b3"

# 4. SIGTERM: the data plane keeps forwarding without a controller
kill -TERM $CTL
wait $CTL 2>/dev/null
ns s "$XDPHA" --local status --json | jq -e '.devices[0].mode == "native"' >/dev/null ||
	die "the data plane went away with the controller"
log "controller stopped; data plane attached"
sleep 2

# 5. restart: sessions adopted, nothing flaps
start_ctl
sleep 1
wait_live 7000 "$NET4.11 $NET4.12 $NET4.13"
sleep 2
grep -q "adopted the session" "$XH_TMP/ctl.log" || die "sessions were not adopted: $(tail "$XH_TMP/ctl.log")"
grep -q '"backend_down"' "$XH_TMP/events.jsonl" && die "a backend went down: $(grep backend_down "$XH_TMP/events.jsonl")"
wait_file "$XH_TMP/udp.json" 20 || die "no udp report"
sleep 0.3
lost=$(jq .lost "$XH_TMP/udp.json")
[ "$lost" = 0 ] || die "$lost datagrams lost across reload, stop and restart: $(jq -c '[.flows[] | select(.lost > 0) | .outages]' "$XH_TMP/udp.json")"
log "stop and restart: 0 of $(jq .sent "$XH_TMP/udp.json") datagrams lost"

# 6. the control socket is root's
if command -v setpriv >/dev/null; then
	out=$(ns s setpriv --reuid 65534 --regid 65534 --clear-groups \
		"$XDPHA" -S "$XH_TMP/ctl.sock" status 2>&1) && die "non-root served: $out"
	log "non-root refused: ${out:0:80}"
fi

# 7. active-standby without preemption: b1 returns as the standby
conf false 1 2 3 > "$XH_TMP/x.conf"
kill -HUP $CTL
sleep 0.5
newflows() {
	ns c "$TRAFFIC" udp-client --dst $VIP4 --port 7100 --flows 4 --rate 100 \
		--duration 0.5 --json "$XH_TMP/as.json" 2>/dev/null
	jq -r '.responders | keys | join(" ")' "$XH_TMP/as.json"
}
[ "$(newflows)" = b1 ] || die "pair: b1 should be active first, got $(newflows)"
for p in $(ip netns pids "${XH_P}b1"); do kill -9 "$p"; done
sleep 0.3
[ "$(newflows)" = b2 ] || die "pair: b2 should have taken over, got $(newflows)"
ns_bg b1 "$XDPHA" member --peer $NET4.2 --local $NET4.11 --interval $IV \
	--multiplier $MULT --slow-start 100
ns_bg b1 "$TRAFFIC" udp-echo --port 7100 --id b1
sleep 1.5	# past hold-down
[ "$(newflows)" = b2 ] || die "pair without preemption: b1 took back over"
log "no preemption: b1 returned as the standby"
log "PASS"
exit 0
