#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# demo.sh - xdpha end to end: failures in, a report out.
#
# A client, a steering node running the controller (xdpha run), four
# active-active backends (b1..b4) and an active-standby pair (b5 active,
# b6 standby), each backend running xdpha member plus a real TCP and UDP
# server. Long-lived TCP connections and UDP streams with sequence
# numbers run through both VIPs while failures are injected:
#
#   1  b1: every process killed (SIGKILL)
#   2  b2: link down
#   3  b3: black hole (an XDP program on its NIC drops everything)
#   4  b5, the active of the pair: killed; b6 must take over
#   5  b1 and b5 come back; after the hold-down they take new flows again
#      (b5 preempts: new flows of the pair go to it)
#
# and the report says, per event, the outage in ms, the packets lost and
# the TCP connections broken (expected: only on the failed backend), then
# the event stream and what the notify hook received. Then, apart:
#
#   6  b7 and b8, an active-standby pair sharing a VIP of their own with no
#      load balancer in front (each runs the member controller, `xdpha run`
#      with role member): b7, the owner, is killed; b8 opens its gate and
#      announces, the client's neighbour entry for the VIP moves to b8's
#      MAC; b7 comes back and, after the hold-down, takes the VIP back.
#   7  state carried over: examples/kv_counter.c (a UDP service counting
#      each client's requests in libxdpha) on b7 and b8; 1,000 sessions
#      made through b7, b7 killed: b8 takes over holding all 1,000 and
#      answers every client's next request with the next count.
#
# usage: scripts/demo.sh [--check] [--conns N]
#   --check   assert instead of only reporting (the selftest runs this):
#             zero loss and zero broken connections on survivors,
#             detection within interval x multiplier + margin, the hook
#             ran with the right environment, the standby took over;
#             the pair's takeover within interval x multiplier + margin,
#             the client's neighbour entries following the owner.
set -u
. "$(dirname "$0")/topo.sh"

CHECK=false
CONNS=200
while [ $# -gt 0 ]; do
	case $1 in
	--check) CHECK=true ;;
	--conns) CONNS=$2; shift ;;
	-h|--help) sed -n '2,/^set -u/p' "$0" | sed 's/^# \{0,1\}//;/^set -u/d'; exit 0 ;;
	*) echo "usage: $0 [--check] [--conns N]" >&2; exit 2 ;;
	esac
	shift
done

IV=10		# heartbeat interval, ms
MULT=5		# detect multiplier
HOLD=2000	# hold-down, ms
MARGIN=40	# detection margin, ms (scheduling on a shared 2-core VM)
UDP=7000 TCP=7001 AS_UDP=7100 AS_TCP=7101
RATE=500	# datagrams/s per flow: 2 ms resolution

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
fail() { if $CHECK; then die "$*"; else log "NOTE: $*"; fi; }

topo_init "xhd$$-"
[ -n "${XH_KEEP:-}" ] && trap 'cp -r "$XH_TMP" /tmp/xh-demo-last; topo_cleanup' EXIT
log "building the topology (client, steering node, 6 backends, a member pair)"
topo_l2 8
# the pair b7/b8 shares PVIP4/PVIP6, reached on-link: no steering node
PVIP4=198.18.100.2 PVIP6=fd00:7868:100::2 P_UDP=7200
for i in 7 8; do
	ns "b$i" ip addr del $VIP4/32 dev lo
	ns "b$i" ip -6 addr del $VIP6/128 dev lo
done
ns c ip route add $PVIP4/32 dev c0
ns c ip -6 route add $PVIP6/128 dev c0

cat > "$XH_TMP/hook.sh" <<'EOF'
#!/bin/sh
# notify hook: what a VNFM would get
echo "event=$XDPHA_EVENT service=$XDPHA_SERVICE backend=$XDPHA_BACKEND state=$XDPHA_STATE reason=$XDPHA_REASON" >> "${0%/*}/hook.log"
EOF
chmod +x "$XH_TMP/hook.sh"

bk_list() {
	local i s=""
	for i in "$@"; do s="$s{ address = \"$NET4.$((10 + i))\"; }, "; done
	echo "${s%, }"
}
cat > "$XH_TMP/xdpha.conf" <<EOF
controller: {
	socket = "$XH_TMP/xdpha.sock";
	log_level = "info";
	notify: { program = "$XH_TMP/hook.sh"; timeout_ms = 2000; };
};
heartbeat: {
	interval_ms = $IV;
	multiplier = $MULT;
	hold_down_ms = $HOLD;
	preempt = true;
	slow_start_ms = 100;
};
interfaces = ( { name = "s0"; role = "steer"; address = "$NET4.2"; address6 = "$NET6::2"; } );
services = (
	{ vip = "$VIP4:$UDP/udp"; backends = ( $(bk_list 1 2 3 4) ); },
	{ vip = "$VIP4:$TCP/tcp"; backends = ( $(bk_list 1 2 3 4) ); },
	{ vip = "$VIP4:$AS_UDP/udp"; mode = "active-standby"; backends = ( $(bk_list 5 6) ); },
	{ vip = "$VIP4:$AS_TCP/tcp"; mode = "active-standby"; backends = ( $(bk_list 5 6) ); }
);
EOF
export XDPHA_SOCKET=$XH_TMP/xdpha.sock
# the pair's member controllers (same heartbeat; b7 priority 200, b8 100)
for i in 7 8; do
	cat > "$XH_TMP/pair$i.conf" <<EOF
controller: { socket = "$XH_TMP/pair$i.sock"; log_level = "info"; };
heartbeat: { interval_ms = $IV; multiplier = $MULT; hold_down_ms = $HOLD;
	     preempt = true; slow_start_ms = 100; };
interfaces = ( { name = "b0"; role = "member"; address = "$NET4.$((10 + i))"; } );
groups = ( { name = "pair"; id = 1; vips = [ "$PVIP4", "$PVIP6" ];
	     priority = $((i == 7 ? 200 : 100)); peers = [ "$NET4.$((25 - i))" ]; } );
EOF
done

start_backend() {
	local i=$1
	ns_bg "b$i" "$XDPHA" -v member --peer $NET4.2 --local $NET4.$((10 + i)) \
		--interval $IV --multiplier $MULT --slow-start 100 \
		--check-tcp $NET4.$((10 + i)):$TCP 2>>"$XH_TMP/member$i.log"
	ns_bg "b$i" "$TRAFFIC" udp-echo --port $UDP --id "b$i"
	ns_bg "b$i" "$TRAFFIC" udp-echo --port $AS_UDP --id "b$i"
	ns_bg "b$i" "$TRAFFIC" tcp-server --port $TCP --id "b$i"
	ns_bg "b$i" "$TRAFFIC" tcp-server --port $AS_TCP --id "b$i"
}

start_pair_member() {
	local i=$1 t
	rm -f "$XH_TMP/pair$i.sock"
	ns_bg "b$i" "$XDPHA" run -c "$XH_TMP/pair$i.conf" 2>>"$XH_TMP/pair$i.log"
	ns_bg "b$i" "$TRAFFIC" udp-echo --port $P_UDP --id "b$i"
	for t in $(seq 1 100); do
		[ -S "$XH_TMP/pair$i.sock" ] && break
		sleep 0.05
	done
	ns_bg sw "$XDPHA" -S "$XH_TMP/pair$i.sock" events >> "$XH_TMP/pair-events.jsonl" 2>/dev/null
}

log "starting the controller"
ns_bg s "$XDPHA" run -c "$XH_TMP/xdpha.conf" 2>"$XH_TMP/controller.log"
for i in 1 2 3 4 5 6; do start_backend $i; done
log "starting the member pair b7 (priority 200), b8 (priority 100)"
start_pair_member 7
start_pair_member 8

live_count() {
	xdpha status --json 2>/dev/null |
		jq '[.devices[].services[].backends[] | select(.live)] | length'
}
for t in $(seq 1 100); do
	[ "$(live_count)" = 12 ] && break
	sleep 0.1
done
[ "$(live_count)" = 12 ] || die "backends not all live: $(xdpha status 2>&1; cat "$XH_TMP/controller.log")"
log "all 12 backend entries live (4+4 active-active, 2+2 active-standby)"
ns_bg s "$XDPHA" events > "$XH_TMP/events.jsonl"

DUR=30
T0=$(now_ms)
ns_bg c "$TRAFFIC" udp-client --dst $VIP4 --port $UDP --flows 32 --rate $RATE \
	--duration $DUR --outage-ms 8 --json "$XH_TMP/udp.json"
ns_bg c "$TRAFFIC" udp-client --dst $VIP4 --port $AS_UDP --flows 4 --rate $RATE \
	--duration $DUR --outage-ms 8 --json "$XH_TMP/as_udp.json"
ns_bg c "$TRAFFIC" tcp-client --dst $VIP4 --port $TCP --conns "$CONNS" \
	--interval 200 --timeout 1500 --connect-rate 1000 --duration $DUR \
	--json "$XH_TMP/tcp.json"
ns_bg c "$TRAFFIC" tcp-client --dst $VIP4 --port $AS_TCP --conns 20 \
	--interval 200 --timeout 1500 --duration $DUR --json "$XH_TMP/as_tcp.json"
sleep $(( CONNS / 1000 + 3 ))

declare -A EV_T EV_WHAT EV_BK
ev() { EV_T[$1]=$(( $(now_ms) - T0 )); EV_WHAT[$1]=$2; EV_BK[$1]=$3; log "event $1 at ${EV_T[$1]} ms: $2"; }

ev 1 "b1: all processes killed (SIGKILL)" b1
for p in $(ip netns pids "${XH_P}b1"); do kill -9 "$p"; done
sleep 3
ev 2 "b2: link down" b2
ns b2 ip link set b0 down
sleep 3
ev 3 "b3: black hole (XDP drop on its NIC)" b3
xdp_drop_on b3 b0
sleep 3
ev 4 "b5 (active of the pair): killed" b5
for p in $(ip netns pids "${XH_P}b5"); do kill -9 "$p"; done
sleep 3
ev 5 "b1 and b5 restarted" b1
start_backend 1
start_backend 5
sleep $(( HOLD / 1000 + 3 ))
# new flows of the pair after the return: b5 preempted
ns c "$TRAFFIC" udp-client --dst $VIP4 --port $AS_UDP --flows 4 --rate 100 \
	--duration 1 --json "$XH_TMP/as_new.json" 2>/dev/null
ns c "$TRAFFIC" udp-client --dst $VIP4 --port $UDP --flows 16 --rate 100 \
	--duration 1 --json "$XH_TMP/aa_new.json" 2>/dev/null
log "waiting for the clients to finish"
for f in udp as_udp tcp as_tcp; do
	wait_file "$XH_TMP/$f.json" $((DUR + 10)) || die "no report $f"
done
sleep 0.5

# --- report --------------------------------------------------------------
down="b1 b2 b3 b5"
printf '\n%-4s %-42s %10s %6s %8s\n' "#" "event" "outage ms" "lost" "tcp brk"
for e in 1 2 3 4; do
	t=${EV_T[$e]}
	f=$XH_TMP/udp.json
	[ $e = 4 ] && f=$XH_TMP/as_udp.json
	read -r out lost < <(jq -r --argjson t "$t" '
		[.flows[].outages[] | select(.start_ms >= $t - 100 and .start_ms <= $t + 1000)]
		| "\((map(.duration_ms) | max // 0) | floor) \(map(.lost) | add // 0)"' "$f")
	brk=$(jq -r --arg b "${EV_BK[$e]}" '.backends_broken[$b] // 0' \
		"$XH_TMP/$([ $e = 4 ] && echo as_tcp || echo tcp).json")
	printf '%-4s %-42s %10s %6s %8s\n' "$e" "${EV_WHAT[$e]}" "$out" "$lost" "$brk"
	OUT[$e]=$out
done
printf '%-4s %-42s\n' 5 "${EV_WHAT[5]}"
echo
jq -r '"UDP active-active: \(.sent) sent, \(.echoed) echoed, \(.lost) lost; responders \(.responders)"' "$XH_TMP/udp.json"
jq -r '"UDP active-standby: \(.sent) sent, \(.echoed) echoed, \(.lost) lost; responders \(.responders)"' "$XH_TMP/as_udp.json"
jq -r '"TCP active-active: \(.opened) opened, \(.broken) broken \(.backends_broken), \(.alive) alive"' "$XH_TMP/tcp.json"
jq -r '"TCP active-standby: \(.opened) opened, \(.broken) broken \(.backends_broken), \(.alive) alive"' "$XH_TMP/as_tcp.json"
jq -r '"new flows of the pair after the return: \(.responders)"' "$XH_TMP/as_new.json"
jq -r '"new active-active flows after the return: \(.responders)"' "$XH_TMP/aa_new.json"
echo
echo "event stream (xdpha events):"
grep -v '"event":"session"' "$XH_TMP/events.jsonl" | sed 's/^/  /'
echo
echo "notify hook received:"
sed 's/^/  /' "$XH_TMP/hook.log" 2>/dev/null
echo

# --- checks --------------------------------------------------------------
for e in 1 2 3 4; do
	# A black hole on the backend's NIC is one-way: its heartbeats still
	# reach us, so it is the member that detects (our packets stop) and
	# says Down; that is up to a second detection time.
	detect=$((IV * MULT + MARGIN))
	[ $e = 3 ] && detect=$((2 * IV * MULT + MARGIN))
	[ "${OUT[$e]}" -le "$detect" ] ||
		fail "event $e: outage ${OUT[$e]} ms > $detect ms ($IV ms x $MULT + margin)"
	[ "${OUT[$e]}" -gt 0 ] || fail "event $e: no outage seen at all (did the failure land?)"
done
# flows that never touched a failed backend lost nothing
bad=$(jq --arg d "$down" '[.flows[] | select([.responders | keys[] | IN($d | split(" ")[])] | any | not) | select(.lost > 0)] | length' "$XH_TMP/udp.json")
[ "$bad" = 0 ] || fail "$bad UDP flows on surviving backends lost datagrams"
for f in tcp as_tcp; do
	bad=$(jq --arg d "$down" '[.backends_broken | keys[] | select(IN($d | split(" ")[]) | not)] | length' "$XH_TMP/$f.json")
	[ "$bad" = 0 ] || fail "$f: connections broken on surviving backends: $(jq -c .backends_broken "$XH_TMP/$f.json")"
	jq -e '.failed_to_open == 0' "$XH_TMP/$f.json" >/dev/null || fail "$f: connections failed to open"
done
jq -e --argjson n "$CONNS" '.opened == $n' "$XH_TMP/tcp.json" >/dev/null ||
	fail "not all $CONNS TCP connections opened"
# the standby took over, and the pair never had two actives: a flow of
# the pair answered by b5 until the kill, then by b6, never back and forth
jq -e '[.flows[] | .switch_count <= 1] | all' "$XH_TMP/as_udp.json" >/dev/null ||
	fail "active-standby flows switched more than once: $(jq -c '[.flows[].switches]' "$XH_TMP/as_udp.json")"
jq -e '.responders.b6 > 0' "$XH_TMP/as_udp.json" >/dev/null || fail "the standby never answered"
jq -e '(.responders | keys) == ["b5"]' "$XH_TMP/as_new.json" >/dev/null ||
	fail "after the return, new flows of the pair not on b5 (preemption): $(jq -c .responders "$XH_TMP/as_new.json")"
jq -e '.responders.b1 > 0 and (.responders.b2 // 0) == 0 and (.responders.b3 // 0) == 0' \
	"$XH_TMP/aa_new.json" >/dev/null ||
	fail "new active-active flows after the return: $(jq -c .responders "$XH_TMP/aa_new.json")"
for b in $NET4.11 $NET4.12 $NET4.13 $NET4.15; do
	grep -q "event=backend_down service=.* backend=$b state=down reason=." "$XH_TMP/hook.log" ||
		fail "the notify hook did not see $b go down"
done
grep -q "event=backend_up .* backend=$NET4.11 state=up" "$XH_TMP/hook.log" ||
	fail "the notify hook did not see b1 come back"
jq -se --arg s "$VIP4:$AS_UDP/udp" --arg b "$NET4.16" \
	'any(.[]; .event == "active" and .service == $s and .backend == $b)' \
	"$XH_TMP/events.jsonl" >/dev/null ||
	fail "no event saying b6 became active"
# --- 6: the active-standby pair, no load balancer ------------------------
pair_state() {
	ns "b$1" "$XDPHA" -S "$XH_TMP/pair$1.sock" status --json 2>/dev/null |
		jq -r '.controller.groups[0] | "\(.state)/\(.gate)"'
}
pair_owner() {
	local s7 s8
	s7=$(pair_state 7) s8=$(pair_state 8)
	if [ "$s7" = active/yes ] && [ "$s8" = standby/no ]; then echo b7
	elif [ "$s8" = active/yes ] && [ "$s7" != active/yes ]; then echo b8
	else echo none; fi
}
wait_owner() {
	local t
	for t in $(seq 1 $(( ${2:-5} * 20 ))); do
		[ "$(pair_owner)" = "$1" ] && return 0
		sleep 0.05
	done
	return 1
}
# the client's neighbour entries for the pair's VIPs, and whose MAC it is
declare -A WHO=([$(mac_of b7 b0)]=b7 [$(mac_of b8 b0)]=b8)
neigh_pair() {
	local m4 m6
	m4=$(ns c ip -j neigh show $PVIP4 dev c0 | jq -r '.[0].lladdr // "none"')
	m6=$(ns c ip -j -6 neigh show $PVIP6 dev c0 | jq -r '.[0].lladdr // "none"')
	echo "$PVIP4 -> $m4 (${WHO[$m4]:-?}), $PVIP6 -> $m6 (${WHO[$m6]:-?})"
}
wait_neigh() {
	local t m
	m=$(mac_of "$1" b0)
	for t in $(seq 1 40); do
		[ "$(neigh_pair)" = "$PVIP4 -> $m ($1), $PVIP6 -> $m ($1)" ] && return 0
		sleep 0.05
	done
	return 1
}

echo
log "act 6: the member pair b7/b8 sharing $PVIP4 and $PVIP6, no load balancer"
wait_owner b7 5 || fail "pair: b7 does not own the VIPs ($(pair_state 7), b8 $(pair_state 8))"
ns c ping -c1 -W1 -q $PVIP4 >/dev/null || fail "pair: the client cannot reach $PVIP4"
ns c ping -6 -c1 -W1 -q $PVIP6 >/dev/null || fail "pair: the client cannot reach $PVIP6"
N_BEFORE=$(neigh_pair)
PDUR=$(( HOLD / 1000 + 6 ))
ns_bg c "$TRAFFIC" udp-client --dst $PVIP4 --port $P_UDP --rate $RATE \
	--duration $PDUR --outage-ms 8 --json "$XH_TMP/pair4.json" 2>/dev/null
ns_bg c "$TRAFFIC" udp-client --dst $PVIP6 --port $P_UDP --rate $RATE \
	--duration $PDUR --outage-ms 8 --json "$XH_TMP/pair6.json" 2>/dev/null
sleep 1
P_KILL=$(now_ms)
log "b7 (owner of the pair): every process killed (SIGKILL)"
for p in $(ip netns pids "${XH_P}b7"); do kill -9 "$p"; done
wait_owner b8 2 || fail "pair: b8 did not take over ($(pair_state 8))"
wait_neigh b8 || fail "pair: the client's neighbour entries did not move to b8: $(neigh_pair)"
N_TAKEOVER=$(neigh_pair)
sleep 1
log "b7 restarted"
P_BACK=$(now_ms)
start_pair_member 7
wait_owner b7 $(( HOLD / 1000 + 3 )) || fail "pair: b7 did not take the VIPs back after the hold-down"
P_PREEMPT=$(( $(now_ms) - P_BACK ))
wait_neigh b7 || fail "pair: the client's neighbour entries did not move back to b7: $(neigh_pair)"
N_BACK=$(neigh_pair)
wait_file "$XH_TMP/pair4.json" $(( PDUR + 5 )) && wait_file "$XH_TMP/pair6.json" 5 ||
	die "no report of the pair's streams"
sleep 0.3
# the client's echo gap around a moment (unix ms), and the longest one
# from a moment on: "duration lost"
pair_gap() {
	jq -r --argjson k "$2" '(.start_unix_ms) as $t0 | ($k - $t0) as $kr
		| [.flows[0].outages[] | select(.end_ms >= $kr and .start_ms <= $kr + 100)]
		| max_by(.duration_ms) // {duration_ms: 0, lost: 0}
		| "\(.duration_ms | floor) \(.lost)"' "$1"
}
pair_gap_after() {
	jq -r --argjson k "$2" '(.start_unix_ms) as $t0 | ($k - $t0) as $kr
		| [.flows[0].outages[] | select(.start_ms >= $kr)]
		| max_by(.duration_ms) // {duration_ms: 0, lost: 0}
		| "\(.duration_ms | floor) \(.lost)"' "$1"
}
read -r PO4 PL4 < <(pair_gap "$XH_TMP/pair4.json" "$P_KILL")
read -r PO6 PL6 < <(pair_gap "$XH_TMP/pair6.json" "$P_KILL")
read -r PH4 PHL4 < <(pair_gap_after "$XH_TMP/pair4.json" "$P_BACK")
read -r PH6 PHL6 < <(pair_gap_after "$XH_TMP/pair6.json" "$P_BACK")

printf '\n%-4s %-42s %10s %6s\n' "#" "member pair (no load balancer)" "outage ms" "lost"
printf '%-4s %-42s %10s %6s\n' 6 "b7 (owner) killed, b8 takes over: IPv4" "$PO4" "$PL4"
printf '%-4s %-42s %10s %6s\n' "" "                                  IPv6" "$PO6" "$PL6"
printf '%-4s %-42s %10s %6s\n' "" "b7 back, takes over $P_PREEMPT ms later: IPv4" "$PH4" "$PHL4"
printf '%-4s %-42s %10s %6s\n' "" "                                  IPv6" "$PH6" "$PHL6"
echo
echo "client's neighbour entries (ip neigh in the client's namespace):"
echo "  before:         $N_BEFORE"
echo "  after the kill: $N_TAKEOVER"
echo "  b7 back:        $N_BACK"
jq -r '"UDP to the pair (IPv4): \(.sent) sent, \(.echoed) echoed, \(.lost) lost; responders \(.responders)"' "$XH_TMP/pair4.json"
jq -r '"UDP to the pair (IPv6): \(.sent) sent, \(.echoed) echoed, \(.lost) lost; responders \(.responders)"' "$XH_TMP/pair6.json"
echo
echo "the pair's ownership events (xdpha events of b7 and b8):"
grep '"event":"owner"' "$XH_TMP/pair-events.jsonl" | sed 's/^/  /'
echo

detect=$((IV * MULT + MARGIN))
for o in "$PO4" "$PO6"; do
	[ "$o" -le "$detect" ] || fail "pair: takeover outage $o ms > $detect ms ($IV ms x $MULT + margin)"
	[ "$o" -gt 0 ] || fail "pair: no outage seen at the kill (did it land?)"
done
[ "$P_PREEMPT" -ge "$HOLD" ] ||
	fail "pair: b7 took the VIPs back $P_PREEMPT ms after its restart, within its hold-down ($HOLD ms)"
grep '"event":"owner"' "$XH_TMP/pair-events.jsonl" | grep -q '"state":"standby".*better member' ||
	fail "pair: no event of b8 yielding to b7"

# --- 7: state carried over (libxdpha) ---------------------------------------
KV=$BUILD/xdpha-kv-counter KV_PORT=7300 SESS=1000
kv_stats() { ns c "$KV" ask --dst $PVIP4 --port $KV_PORT --stats 2>/dev/null; }
# wait_kv NAME: the service answers the VIP from bNAME
wait_kv() {
	local t
	for t in $(seq 1 20); do
		[ "$(kv_stats | jq -r .name)" = "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
log "act 7: xdpha-kv-counter on b7 and b8, counters per client in libxdpha, mirrored over AF_XDP"
for i in 7 8; do
	ns_bg "b$i" "$KV" serve --dev b0 --local $NET4.$((10 + i)) \
		--peer $NET4.$((25 - i)) --vip $PVIP4 --port $KV_PORT --name "b$i" \
		2>>"$XH_TMP/kv.log"
done
wait_kv b7 || fail "kv: b7 does not answer on $PVIP4:$KV_PORT"
ns c "$KV" ask --dst $PVIP4 --port $KV_PORT --clients $SESS --rounds 3 \
	>"$XH_TMP/kv1.json" || fail "kv: requests to b7 lost: $(cat "$XH_TMP/kv1.json")"
sleep 0.2
KV_B7=$(kv_stats)
log "b7 (active): $(jq -r '"\(.records) sessions, \(.sent) changes mirrored, \(.acked) acknowledged by b8"' <<<"$KV_B7")"
log "b7: every process killed (SIGKILL)"
K_KILL=$(now_ms)
for p in $(ip netns pids "${XH_P}b7"); do kill -9 "$p"; done
wait_owner b8 2 || fail "kv: b8 did not take over ($(pair_state 8))"
wait_kv b8 || fail "kv: b8 does not answer after the takeover"
K_UP=$(( $(now_ms) - K_KILL ))
KV_B8=$(kv_stats)
ns c "$KV" ask --dst $PVIP4 --port $KV_PORT --clients $SESS --rounds 1 \
	>"$XH_TMP/kv2.json" || fail "kv: requests to b8 lost: $(cat "$XH_TMP/kv2.json")"
K_CARRIED=$(jq -r .records <<<"$KV_B8")
K_CONT=$(jq '[.counts[] | select(. == 4)] | length' "$XH_TMP/kv2.json")
printf '\n%-4s %-58s %s\n' "#" "state carried over (libxdpha, examples/kv_counter.c)" ""
printf '%-4s %-58s %s\n' 7 "sessions made through b7 (3 requests each)" "$SESS"
printf '%-4s %-58s %s\n' "" "b7 killed; b8 answers the VIP again within" "$K_UP ms"
printf '%-4s %-58s %s\n' "" "records b8 holds after the takeover (carried over)" "$K_CARRIED"
printf '%-4s %-58s %s\n' "" "clients whose next request b8 counted 4 (continued)" "$K_CONT of $SESS"
echo "  b8's mirror: $(jq -c '{transport, applied, resyncs}' <<<"$KV_B8")"
grep '^b8: active' "$XH_TMP/kv.log" | sed 's/^/  /'
echo
[ "$K_CARRIED" = $SESS ] || fail "kv: b8 holds $K_CARRIED records after the takeover, not $SESS"
[ "$K_CONT" = $SESS ] || fail "kv: only $K_CONT of $SESS clients continued their count on b8"
if $CHECK; then log "PASS"; fi
exit 0
