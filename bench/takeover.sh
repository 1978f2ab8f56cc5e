#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# takeover.sh - the VIP takeover of an active/standby member pair (the
# first approach of DESIGN.md: a shared VIP, no load balancer in front):
# the outage a client sees when the owner crashes, against keepalived
# (VRRPv3) doing the same job in the same topology, plus the false
# takeovers of a loaded steady run.
#
# 1. Baseline: bench/keepalived_failover.sh, run first on a topology of
#    its own, as keepalived_takeover_ms (it already is this measurement:
#    b1 and b2 share the VIP on b0, the client reaches it on-link, the
#    master's processes are crashed). When it fails, its error is
#    reported and xdpha's figure keeps baseline null.
# 2. Takeover trials (bench/lib_failover.sh), topo_l2 2: b1 (priority
#    200) and b2 (priority 100) each run `xdpha run` with role member on
#    b0 and udp-echo, one group with VIP4; the VIP is taken off their lo
#    and the client reaches it on-link, so the gate decides who answers
#    and the client follows the announcements. Heartbeat at the defaults
#    of user/config.c (1 ms x 8), those of the steering side. FO_ACTIVE is
#    the member whose gate is open; a trial crashes every process in its
#    namespace (SIGSTOP, then SIGKILL: controller and udp-echo; the member
#    program and its open gate stay, as after a crash of the controller)
#    and measures the client's echo gap: detection, the standby's claim
#    and its gratuitous ARP. Restore: controller and udp-echo started
#    again; the restarted controller closes the gate left open and comes
#    back as the standby. Preemption is off, so no trial waits out a
#    hold-down or measures a planned handback: the kills alternate b1,
#    b2, b1, ..., each the crash of the owner of a pair in steady state
#    (both up, the standby next in line, its session Up).
# 3. Steady run, same topology and timers, nothing injected: DURATION s
#    with every core kept busy (one niced-0 busy loop per core) and a
#    udp-client stream through the VIP; false takeovers = owner events
#    claiming the group (state active, and data-path takeovers undone)
#    in both members' `xdpha events`.
#
# stdout: {"takeover_outage_ms": {...}, "keepalived_takeover_ms": {...},
#          "false_takeovers": {...}}
# Env: TRIALS (20), IV heartbeat interval ms (1), MULT multiplier (8),
# DURATION steady run s (300; 0 skips it), KEEPALIVED (1; 0 skips the
# baseline), LOAD_FLOWS (4), LOAD_RATE (1000 pps per flow), FO_KEEP_DIR
# (keep the reports, events and logs there).
# Exit 0 ok (also when only the baseline failed), 1 failure (JSON with
# "error").
set -u
XH_ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$XH_ROOT/build}
case $BUILD in /*) ;; *) BUILD=$(cd "$BUILD" 2>/dev/null && pwd || echo "$XH_ROOT/$BUILD") ;; esac
. "$XH_ROOT/scripts/topo.sh"
. "$XH_ROOT/bench/lib_failover.sh"

NAME=takeover_outage_ms
KA_NAME=keepalived_takeover_ms
TRIALS=${TRIALS:-20}
IV=${IV:-1}
MULT=${MULT:-8}
DURATION=${DURATION:-300}
SLOW=100		# slow start: a restarted member's session comes Up sooner
KEEPALIVED=${KEEPALIVED:-1}
LOAD_FLOWS=${LOAD_FLOWS:-4}
LOAD_RATE=${LOAD_RATE:-1000}
PORT=7300
GROUP=vnf
NODES="b1 b2"
declare -A PRIO=([b1]=200 [b2]=100) PEER=([b1]=12 [b2]=11)
declare -A MB_PIDS=() EV_PID=()

fail() {
	local n
	log "FAIL: $*"
	for n in $NODES; do
		[ -n "${XH_TMP:-}" ] && [ -s "$XH_TMP/$n.log" ] &&
			{ log "--- $n.log (tail)"; tail -n 15 "$XH_TMP/$n.log" >&2; }
	done
	jq -cn --arg n "$NAME" --arg e "$*" '{($n): {error: $e}}'
	exit 1
}

# --- 1. the baseline, alone on the machine ----------------------------
fo_keepalived_baseline $KA_NAME

# --- 2. xdpha ---------------------------------------------------------
topo_init ""
trap 'fo_cleanup; topo_cleanup' EXIT
log "xdpha member pair: heartbeat ${IV} ms x ${MULT}, no preemption, $TRIALS trials"
topo_l2 2
for n in $NODES; do
	ns "$n" ip addr del "$VIP4/32" dev lo
	ns "$n" ip -6 addr del "$VIP6/128" dev lo
	cat >"$XH_TMP/$n.conf" <<-EOF
	controller: { socket = "$XH_TMP/$n.sock"; log_level = "info"; };
	heartbeat: { interval_ms = $IV; multiplier = $MULT; slow_start_ms = $SLOW; };
	interfaces = ( { name = "b0"; role = "member"; mode = "native";
			 address = "$NET4.$((10 + ${n#b}))"; } );
	groups = ( { name = "$GROUP"; id = 9; vips = [ "$VIP4" ];
		     priority = ${PRIO[$n]}; peers = [ "$NET4.${PEER[$n]}" ];
		     preempt = false; } );
	EOF
done
ns c ip route replace "$VIP4/32" dev c0


# start_member bN: controller and udp-echo in bN, an event reader in sw
# (FO_RESTORE too)
start_member() {
	local n=$1 i
	rm -f "$XH_TMP/$n.sock"
	ns_bg "$n" "$XDPHA" run -c "$XH_TMP/$n.conf" 2>>"$XH_TMP/$n.log"
	MB_PIDS[$n]=$!
	ns_bg "$n" "$TRAFFIC" udp-echo --port "$PORT" --id "$n" \
		2>>"$XH_TMP/echo-$n.log"
	MB_PIDS[$n]+=" $!"
	for i in $(seq 1 100); do
		[ -S "$XH_TMP/$n.sock" ] && break
		sleep 0.05
	done
	[ -S "$XH_TMP/$n.sock" ] || { log "$n: controller did not start"; return 1; }
	if [ -n "${EV_PID[$n]:-}" ]; then
		kill "${EV_PID[$n]}" 2>/dev/null
		wait "${EV_PID[$n]}" 2>/dev/null
		forget_pids "${EV_PID[$n]}"
	fi
	ns_bg sw "$XDPHA" -S "$XH_TMP/$n.sock" events >>"$XH_TMP/events-$n.jsonl" \
		2>>"$XH_TMP/events.log"
	EV_PID[$n]=$!
}

# FO_KILL: crash bN, reap what we started there
kill_member() {
	local n=$1
	fo_kill_ns "$n" || return 1
	# shellcheck disable=SC2086
	wait ${MB_PIDS[$n]} 2>/dev/null
	# shellcheck disable=SC2086
	forget_pids ${MB_PIDS[$n]}
	MB_PIDS[$n]=
	return 0
}

grp() {
	[ -S "$XH_TMP/$1.sock" ] || return 1
	ns sw "$XDPHA" -S "$XH_TMP/$1.sock" status --json 2>/dev/null |
		jq -c '.controller.groups[0] // empty'
}

alive() {
	local p
	[ -n "${MB_PIDS[$1]:-}" ] || return 1
	for p in ${MB_PIDS[$1]}; do
		kill -0 "$p" 2>/dev/null || return 1
	done
}

# FO_ACTIVE: the live member whose gate is open
active_member() {
	local n
	for n in $NODES; do
		alive "$n" || continue
		[ "$(grp "$n" | jq -r '"\(.state)/\(.gate)"')" = active/yes ] &&
			{ echo "$n"; return 0; }
	done
	return 1
}

# FO_STEADY: both up; one owns, the other is its standby, next in line,
# its session Up and the owner's claim heard
steady() {
	local a s
	a=$(active_member) || return 1
	[ "$a" = b1 ] && s=b2 || s=b1
	alive "$s" || return 1
	grp "$s" | jq -e '.state == "standby" and .gate == "no" and .next_in_line
		and .peers[0].session == "up" and .peers[0].heard
		and .peers[0].claims' >/dev/null
}

for n in $NODES; do start_member "$n" || fail "$n: controller did not start"; done
for t in $(seq 1 100); do
	steady && break
	sleep 0.1
done
steady || fail "the pair did not come up: b1 $(grp b1), b2 $(grp b2)"
log "pair up: $(active_member) owns $VIP4"
# the client's neighbour entry for the VIP, as a running client has it
ns c ping -c1 -W1 -q "$VIP4" >/dev/null || fail "the client cannot reach $VIP4"

# events before the trials (the first claim) are not the trials'
declare -A EV0=()
for n in $NODES; do EV0[$n]=$(wc -l <"$XH_TMP/events-$n.jsonl"); done
# since_mark: both members' events after EV0, tagged with the member
since_mark() {
	local n
	for n in $NODES; do
		tail -n "+$((EV0[$n] + 1))" "$XH_TMP/events-$n.jsonl" |
			jq -c --arg m "$n" '. + {member: $m}'
	done
}
# claims: owner events that open a gate (a claim, or a data-path
# takeover that had to be undone)
claims() {
	jq -s '[.[] | select(.event == "owner" and
		(.state == "active" or (.reason | test("undone"))))] | length'
}

FO_DST=$VIP4 FO_PORT=$PORT FO_CLIENT=c
FO_ACTIVE=active_member FO_KILL=kill_member FO_RESTORE=start_member
FO_START=start_member FO_STEADY=steady
fo_run "$TRIALS"
rc=$?
log "xdpha member pair ${IV} ms x ${MULT}: $TRIALS trials, outage median" \
	"$FO_MEDIAN ms, p99 $FO_P99 ms, $FO_NFAILED failed"
[ -n "${FO_KEEP_DIR:-}" ] && cp "$XH_TMP"/events-*.jsonl "$XH_TMP"/*.log "$FO_KEEP_DIR"/
((rc == 0)) || fail "takeover trials failed (rc $rc, $FO_NFAILED without recovery)"
# each kill is one claim by the survivor; any other claim is a takeover
# nobody asked for (mid-trials)
XH_EXTRA=$(($(since_mark | claims) - $(jq length <<<"$FO_TRIALS_JSON")))
((XH_EXTRA == 0)) || log "$XH_EXTRA owner claims during the trials besides the takeovers"
XH_MEDIAN=$FO_MEDIAN XH_P99=$FO_P99 XH_TRIALS_JSON=$FO_TRIALS_JSON

# --- 3. steady run under load ------------------------------------------
FT=null
if awk -v d="$DURATION" 'BEGIN { exit !(d > 0) }'; then
	steady || fail "not steady before the steady run"
	fo_load_describe
	OWNER=$(active_member)
	log "steady run: $DURATION s, $LOAD; $OWNER owns"
	for n in $NODES; do EV0[$n]=$(wc -l <"$XH_TMP/events-$n.jsonl"); done
	fo_load_run
	sleep 0.2	# the last events
	for n in $NODES; do
		kill -0 "${EV_PID[$n]}" 2>/dev/null ||
			fail "steady run: the event stream of $n died ($(tail -n 2 "$XH_TMP/events.log"))"
	done
	since_mark >"$XH_TMP/steady-events.jsonl"
	NFALSE=$(claims <"$XH_TMP/steady-events.jsonl")
	NSESS=$(jq -s '[.[] | select(.event == "session" and .state == "down")] | length' \
		"$XH_TMP/steady-events.jsonl")
	NOW_OWNER=$(active_member)
	[ -s "$XH_TMP/steady.json" ] || fail "steady run: no udp-client report"
	log "steady run: $NFALSE false takeovers, $NSESS session downs, owner" \
		"$OWNER -> ${NOW_OWNER:-none};" \
		"$(jq -r '"client: \(.sent) sent, \(.lost) lost, outages \([.flows[].outages | length] | add)"' \
		"$XH_TMP/steady.json")"
	((NFALSE == 0)) || grep '"owner"' "$XH_TMP/steady-events.jsonl" | head -n 20 >&2
	FT=$(jq -c --argjson v "$NFALSE" --argjson s "$NSESS" --argjson d "$DURATION" \
		--argjson i "$IV" --argjson m "$MULT" --arg l "$LOAD" \
		--arg o "$OWNER" --arg no "${NOW_OWNER:-}" \
		--slurpfile ev "$XH_TMP/steady-events.jsonl" '
		{value: $v, unit: "takeovers with no failure injected",
		 duration_s: $d, interval_ms: $i, multiplier: $m, load: $l,
		 owner_before: $o, owner_after: $no, session_downs: $s,
		 owner_events: [$ev[] | select(.event == "owner")
			| {member, time_ms, state, reason}],
		 client_sent: .sent, client_lost: .lost,
		 client_outages: ([.flows[].outages | length] | add),
		 baseline: null, ratio: null}' "$XH_TMP/steady.json") ||
		fail "steady run: bad report"
	[ -n "${FO_KEEP_DIR:-}" ] && cp "$XH_TMP"/steady* "$FO_KEEP_DIR"/
fi

# --- report -------------------------------------------------------------
jq -cn --arg n "$NAME" --arg kn "$KA_NAME" --argjson m "$XH_MEDIAN" \
	--argjson p "$XH_P99" --argjson l "$XH_TRIALS_JSON" --argjson i "$IV" \
	--argjson mu "$MULT" --argjson ka "$KA_JSON" --argjson kam "$KA_MEDIAN" \
	--argjson ft "$FT" --argjson x "$XH_EXTRA" '
	{($n): {value: $m, unit: "ms", p99: $p, trials: ($l | length),
		baseline: (if $kam == null then null else $kn end),
		ratio: (if $kam == null or $kam == 0 then null
			else ($m / $kam * 1000 | round / 1000) end),
		interval_ms: $i, multiplier: $mu, detect_ms: ($i * $mu),
		preempt: false,
		min_ms: ([$l[].outage_ms] | min), max_ms: ([$l[].outage_ms] | max),
		list_ms: [$l[].outage_ms], killed: [$l[].killed],
		other_claims: $x},
	 ($kn): $ka}
	+ (if $ft == null then {} else {false_takeovers: $ft} end)'
