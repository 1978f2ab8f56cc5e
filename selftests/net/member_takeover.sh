#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# member_takeover.sh - an active/standby pair sharing a VIP, no load
# balancer in front (the first approach of DESIGN.md), end to end.
#
# topo_l2 2: the client c and two members on one bridge; b1 (priority 200)
# and b2 (priority 100) each run `xdpha run` with role member on b0, one
# group with VIP4 and VIP6, a UDP responder and a TCP server. The VIPs are
# taken off lo (topo_l2 puts them there for DSR): the controller adds them
# to b0 and the member program's gate decides who answers. The client
# reaches the VIPs on-link, so its neighbour entries say who owns them.
#
#  g  the gate: the standby drops (and counts) ARP/NS for the VIPs and
#     traffic to them; the owner passes both
#  a  the active's processes killed (controller and servers): the standby
#     takes over, the client's neighbour entries (v4 and v6) move to it,
#     its UDP streams resume (outage printed, < BOUND ms), new TCP
#     connections reach it
#  d  the old active comes back with preemption: it waits out the
#     hold-down, claims, the other yields, the neighbour entries move back
#  b  link down of the active's b0; link up: the lesser claimant yields
#  c  black hole: everything the active sends is dropped at its bridge
#     port (an XDP drop program on the port in sw; b0 runs the member
#     program); healed the same way
#  e  partition: the members' BFD and adverts are dropped between them
#     (nftables, bridge family, in sw), the client still reaches both:
#     both claim; healed: the lower yields (event), exactly one owner, the
#     client's traffic on it
#  d' the old active comes back without preemption: it stays standby;
#     the owner then dies while that standby is younger than startup_ms:
#     the standby takes over at once (it heard the owner)
#     reload (SIGHUP): a new VIP is refused (restart needed), a new
#     priority applies and reaches the peer in the adverts
#  k  the data path alone: the standby's controller stopped (SIGSTOP),
#     the owner cut off: the client's ARP request for the VIP makes the
#     standby's member program open the gate (TAKEN) and pass it; the
#     controller, resumed, confirms (event, kernel_takeovers)
#  f  arbiter: nothing moves on a kill until `xdpha member promote`
#
# Decapsulation, byte by byte and with a spoofed outer source, is
# selftests/prog_tests/member.c. Exit 0 pass, 1 fail, 4 skip (no root,
# outside CI).
set -u
. "$(dirname "$0")/../../scripts/topo.sh"

IV=5 MULT=4		# detection 20 ms
HOLD=1000 SLOW=100
# Longer than any scenario takes: a member that has heard its peer is past
# its startup wait for good, so each takeover must be immediate even when
# the standby started a moment ago.
STARTUP=5000
BOUND=500		# ms: the sanity bound on a takeover outage
UDP=7000 TCP=7001
RATE=1000		# datagrams/s: 1 ms resolution
GROUP=vnf

topo_init "xhmt$$-"
command -v nft >/dev/null || die "nft (nftables) is needed for the partition"
topo_l2 2
MAC1=$(mac_of b1 b0)
MAC2=$(mac_of b2 b0)
declare -A MAC=([1]=$MAC1 [2]=$MAC2)
declare -A MPIDS=() EVPID=()
T_START=$SECONDS

# the VIPs live on b0 (the controller adds them), reached on-link
for n in 1 2; do
	ns "b$n" ip addr del "$VIP4/32" dev lo
	ns "b$n" ip -6 addr del "$VIP6/128" dev lo
done
ns c ip route replace "$VIP4/32" dev c0
ns c ip -6 route replace "$VIP6/128" dev c0

diag() {
	local n
	for n in 1 2; do
		log "--- b$n: $(grp "$n")"
		tail -n 12 "$XH_TMP/m$n.log" >&2
	done
	log "--- client neighbours: $(ns c ip neigh show "$VIP4") / $(ns c ip -6 neigh show "$VIP6")"
}
fail() { diag; die "$*"; }

# mconf N PRIO PEER PREEMPT ARBITER
mconf() {
	cat <<EOF
controller: { socket = "$XH_TMP/m$1.sock"; log_level = "info"; };
heartbeat: { interval_ms = $IV; multiplier = $MULT; hold_down_ms = $HOLD;
	     slow_start_ms = $SLOW; };
interfaces = ( { name = "b0"; role = "member"; mode = "native";
		 address = "$NET4.1$1"; address6 = "$NET6::1$1"; } );
groups = ( { name = "$GROUP"; id = 7; vips = [ "$VIP4", "$VIP6" ];
	     priority = $2; peers = [ "$NET4.1$3" ]; startup_ms = $STARTUP;
	     preempt = $4; arbiter = $5; } );
EOF
}


# start_member N [PREEMPT [ARBITER]]: controller, servers, event reader
start_member() {
	local n=$1 pre=${2:-true} arb=${3:-false} prio=200 peer=2 i
	[ "$n" = 2 ] && prio=100 peer=1
	mconf "$n" $prio $peer "$pre" "$arb" >"$XH_TMP/m$n.conf"
	rm -f "$XH_TMP/m$n.sock"
	ns_bg "b$n" "$XDPHA" run -c "$XH_TMP/m$n.conf" 2>>"$XH_TMP/m$n.log"
	MPIDS[$n]=$!
	ns_bg "b$n" "$TRAFFIC" udp-echo --port $UDP --id "b$n" 2>>"$XH_TMP/srv$n.log"
	MPIDS[$n]+=" $!"
	ns_bg "b$n" "$TRAFFIC" tcp-server --port $TCP --id "b$n" 2>>"$XH_TMP/srv$n.log"
	MPIDS[$n]+=" $!"
	for i in $(seq 1 100); do
		[ -S "$XH_TMP/m$n.sock" ] && break
		sleep 0.05
	done
	[ -S "$XH_TMP/m$n.sock" ] || fail "b$n: controller did not start"
	if [ -n "${EVPID[$n]:-}" ]; then
		kill "${EVPID[$n]}" 2>/dev/null
		wait "${EVPID[$n]}" 2>/dev/null
		forget_pids "${EVPID[$n]}"
	fi
	ns_bg sw "$XDPHA" -S "$XH_TMP/m$n.sock" events >>"$XH_TMP/ev$n.jsonl" \
		2>>"$XH_TMP/evreader.log"
	EVPID[$n]=$!
}

# kill_member N: a crash of every process in bN (SIGSTOP first, so none
# reacts to another's death), the member program left as it was
kill_member() {
	local n=$1 pids
	pids=$(ip netns pids "${XH_P}b$n" | tr '\n' ' ')
	[ -n "${pids// /}" ] || fail "kill b$n: nothing runs there"
	# shellcheck disable=SC2086
	kill -STOP $pids
	# shellcheck disable=SC2086
	kill -KILL $pids
	# shellcheck disable=SC2086
	wait ${MPIDS[$n]} 2>/dev/null
	# shellcheck disable=SC2086
	forget_pids ${MPIDS[$n]}
	MPIDS[$n]=
}

grp() {
	ns "b$1" "$XDPHA" -S "$XH_TMP/m$1.sock" status --json 2>/dev/null |
		jq -c '.controller.groups[0] // empty'
}
# is N STATE/GATE, e.g. is 1 active/yes
is() { [ "$(grp "$1" | jq -r '"\(.state)/\(.gate)"')" = "$2" ]; }
# exactly one owner: N active with its gate open, the other standby, shut
owner_is() {
	local o=$1 s=$((3 - $1))
	is "$o" active/yes && is "$s" standby/no
}
# wait_for SECONDS WHAT CMD...: poll CMD every 50 ms
wait_for() {
	local t=$1 what=$2 i
	shift 2
	for ((i = 0; i < t * 20; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	fail "$what (not within $t s)"
}

neigh4() { ns c ip -j neigh show "$VIP4" dev c0 | jq -r '.[0].lladdr // "none"'; }
neigh6() { ns c ip -j -6 neigh show "$VIP6" dev c0 | jq -r '.[0].lladdr // "none"'; }
neigh_on() { [ "$(neigh4)" = "${MAC[$1]}" ] && [ "$(neigh6)" = "${MAC[$1]}" ]; }
wait_neigh() {
	local i
	for ((i = 0; i < 40; i++)); do
		neigh_on "$1" && return 0
		sleep 0.05
	done
	fail "client's neighbour entries not on b$1 (${MAC[$1]}): v4 $(neigh4), v6 $(neigh6)"
}

# ev_mark N: lines of bN's events so far; ev_since N MARK: the rest
ev_mark() { wc -l <"$XH_TMP/ev$1.jsonl"; }
ev_since() { tail -n "+$(($2 + 1))" "$XH_TMP/ev$1.jsonl"; }
# owner events of bN since MARK with STATE
owner_events() {
	ev_since "$1" "$2" | jq -c --arg s "$3" 'select(.event == "owner" and .state == $s)'
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# streams TAG SECONDS: a UDP stream to each VIP, in the background
streams() {
	local tag=$1 d=$2
	ns_bg c "$TRAFFIC" udp-client --dst "$VIP4" --port $UDP --rate $RATE \
		--duration "$d" --json "$XH_TMP/$tag.v4.json" 2>>"$XH_TMP/client.log"
	ST_PIDS="$!"
	ns_bg c "$TRAFFIC" udp-client --dst "$VIP6" --port $UDP --rate $RATE \
		--duration "$d" --json "$XH_TMP/$tag.v6.json" 2>>"$XH_TMP/client.log"
	ST_PIDS+=" $!"
}
streams_wait() {
	# shellcheck disable=SC2086
	wait $ST_PIDS
	# shellcheck disable=SC2086
	forget_pids $ST_PIDS
	[ -s "$XH_TMP/$1.v4.json" ] && [ -s "$XH_TMP/$1.v6.json" ] ||
		fail "$1: no udp-client report"
}
# outage TAG FAMILY AT_MS: the client's echo gap around AT (unix ms):
# "duration lost open to", to = the responder after the last switch
outage() {
	jq -r --argjson k "$3" '
		(.start_unix_ms) as $t0 | ($k - $t0) as $kr | .flows[0] as $f
		| ([$f.outages[] | select(.end_ms >= $kr and .start_ms <= $kr + 100)]
		   | max_by(.duration_ms)) as $o
		| "\($o.duration_ms // 0) \($o.lost // 0) \($o.open // false) \([$f.switches[] | select(.at_ms >= $kr) | .to] | last // "none")"' \
		"$XH_TMP/$1.$2.json"
}
# check_takeover TAG AT_MS TO: each family's stream moved to bTO, its gap
# around AT below BOUND; prints the two outages
check_takeover() {
	local tag=$1 at=$2 to=$3 fam d l open who
	for fam in v4 v6; do
		read -r d l open who < <(outage "$tag" $fam "$at")
		log "$tag: $fam outage $d ms, $l lost, resumed on $who"
		[ "$open" = false ] || fail "$tag: the $fam stream never resumed"
		[ "$who" = "b$to" ] || fail "$tag: the $fam stream went to '$who', not b$to"
		awk -v d="$d" 'BEGIN { exit !(d > 0) }' ||
			fail "$tag: no $fam outage at all (did the failure land?)"
		awk -v d="$d" -v b=$BOUND 'BEGIN { exit !(d < b) }' ||
			fail "$tag: $fam outage $d ms >= $BOUND ms"
		OUT[$tag.$fam]=$d
	done
}
declare -A OUT=()

# tcp_to N: new TCP connections to both VIPs are served by bN
tcp_to() {
	local dst got
	for dst in "$VIP4" "$VIP6"; do
		ns c "$TRAFFIC" tcp-client --dst "$dst" --port $TCP --conns 2 \
			--interval 50 --timeout 500 --duration 0.3 \
			--json "$XH_TMP/tcp.json" 2>>"$XH_TMP/client.log"
		got=$(jq -r '.backends | keys | join(" ")' "$XH_TMP/tcp.json")
		[ "$got" = "b$1" ] ||
			fail "TCP to $dst: served by '$got', not b$1 ($(jq -c '{opened, failed_to_open, open_errors}' "$XH_TMP/tcp.json"))"
	done
}

# xm_ctr N INDEX: a counter of bN's member program (enum xm_ctr_id)
CTR_PASS_VIP=2 CTR_PASS_ARP=3 CTR_DROP_VIP=7 CTR_DROP_ARP=8 CTR_DROP_ORPHAN=13
xm_ctr() {
	bpftool -j map dump pinned "/sys/fs/bpf/xdpha/netns:${XH_P}b$1/b0/xm_stats" |
		jq --argjson i "$2" '[.[] | select(.formatted.key == $i)
			| .formatted.values[].value.packets] | add'
}

# --- the pair comes up --------------------------------------------------
start_member 1
start_member 2
wait_for 5 "b1 the owner, b2 standby" owner_is 1
wait_for 2 "b2 next in line" eval '[ "$(grp 2 | jq -r .next_in_line)" = true ]'
ns c ping -c1 -W1 -q "$VIP4" >/dev/null || fail "client cannot reach $VIP4"
ns c ping -6 -c1 -W1 -q "$VIP6" >/dev/null || fail "client cannot reach $VIP6"
wait_neigh 1
tcp_to 1
log "pair up: b1 ($MAC1) owns $VIP4 and $VIP6, b2 ($MAC2) standby next in line"

# --- g: the gate ----------------------------------------------------------
# namespace s serves as a second client: its ARP/NS for the VIPs reach both
# members; frames sent straight to b2's MAC must die in b2's gate
ns s ip route add "$VIP4/32" dev s0
ns s ip -6 route add "$VIP6/128" dev s0
a2=$(xm_ctr 2 $CTR_DROP_ARP) v2=$(xm_ctr 2 $CTR_DROP_VIP)
a1=$(xm_ctr 1 $CTR_PASS_ARP) v1=$(xm_ctr 1 $CTR_PASS_VIP)
ns s ping -c2 -i0.2 -W1 -q "$VIP4" >/dev/null || fail "s cannot reach $VIP4 on b1"
ns s ping -6 -c2 -i0.2 -W1 -q "$VIP6" >/dev/null || fail "s cannot reach $VIP6 on b1"
ns s ip neigh replace "$VIP4" lladdr "$MAC2" dev s0 nud permanent
ns s ip -6 neigh replace "$VIP6" lladdr "$MAC2" dev s0 nud permanent
ns s ping -c3 -i0.2 -W1 -q "$VIP4" >/dev/null && fail "the standby answered $VIP4"
ns s ping -6 -c3 -i0.2 -W1 -q "$VIP6" >/dev/null && fail "the standby answered $VIP6"
ns s ip neigh del "$VIP4" dev s0
ns s ip -6 neigh del "$VIP6" dev s0
da=$(($(xm_ctr 2 $CTR_DROP_ARP) - a2)) dv=$(($(xm_ctr 2 $CTR_DROP_VIP) - v2))
pa=$(($(xm_ctr 1 $CTR_PASS_ARP) - a1)) pv=$(($(xm_ctr 1 $CTR_PASS_VIP) - v1))
log "gate: standby b2 dropped $da ARP/NS and $dv VIP packets; owner b1 passed $pa ARP/NS and $pv VIP packets"
((da >= 2)) || fail "standby b2: drop_arp rose by $da, expected >= 2 (an ARP request and an NS)"
((dv >= 6)) || fail "standby b2: drop_vip rose by $dv, expected >= 6 (3 pings per family)"
((pa >= 2 && pv >= 4)) || fail "owner b1: pass_arp +$pa, pass_vip +$pv"
[ "$(xm_ctr 1 $CTR_DROP_VIP)" = 0 ] || fail "owner b1 dropped VIP traffic"

# --- a: the active's processes killed -------------------------------------
m2=$(ev_mark 2)
streams kill 2.5
sleep 1
T=$(now_ms)
kill_member 1
wait_for 2 "b2 took over after b1 was killed" is 2 active/yes
wait_neigh 2
streams_wait kill
check_takeover kill "$T" 2
tcp_to 2
owner_events 2 "$m2" active | grep -q . || fail "no owner event from b2"
log "a: b1 killed: b2 took over (v4 ${OUT[kill.v4]} ms, v6 ${OUT[kill.v6]} ms), neighbours on $MAC2"
# b1's data path knows its controller is gone: after a second of silence
# it stops answering ARP/ND for the VIPs it still holds (the rule itself:
# prog_tests/member.c arp_orphan), so a client resolving the VIP again
# gets b2 only
ctl=$(ns b1 "$XDPHA" --local stats b0 --json | jq -c '{controller_silent_ms, controller_max_age_ms}')
jq -e '.controller_max_age_ms == 1000 and .controller_silent_ms > 1000' <<<"$ctl" >/dev/null ||
	fail "a: b1's controller heartbeat in the data path: $ctl"
o0=$(xm_ctr 1 $CTR_DROP_ORPHAN)
ns c ip neigh flush to $VIP4 dev c0
ns c ping -c 1 -W 1 -q $VIP4 >/dev/null 2>&1 || fail "a: the VIP does not answer after a flush"
[ "$(neigh4)" = "${MAC[2]}" ] || fail "a: the client resolved $VIP4 to $(neigh4), not b2"
o1=$(xm_ctr 1 $CTR_DROP_ORPHAN)
((o1 > o0)) || fail "a: b1 answered (or did not see) the ARP request: drop_arp_orphan $o0 -> $o1"
log "a: b1's controller silent $(jq -r '.controller_silent_ms | floor' <<<"$ctl") ms: b1 dropped the client's ARP request for the VIP ($((o1 - o0)) drop_arp_orphan), b2 answered"

# --- d: the old active returns, with preemption ---------------------------
m2=$(ev_mark 2)
T=$(now_ms)
start_member 1 true
wait_for 5 "b1 back: standby first, hearing b2's claim" eval \
	'is 1 standby/no || is 1 active/yes'
is 1 active/yes && fail "b1 claimed at once, hold-down ${HOLD} ms ignored"
wait_for 5 "b1 preempts after the hold-down" owner_is 1
dt=$(($(now_ms) - T))
((dt >= HOLD)) || fail "b1 preempted $dt ms after its start, hold-down is $HOLD ms"
wait_neigh 1
owner_events 2 "$m2" standby | grep -q 'better member' ||
	fail "b2 did not log its yield: $(ev_since 2 "$m2" | grep owner)"
tcp_to 1
log "d: b1 back: preempted $dt ms after its start (hold-down $HOLD ms), b2 yielded, neighbours on $MAC1"

# --- b: link down ---------------------------------------------------------
streams linkdown 2.5
sleep 1
T=$(now_ms)
ns b1 ip link set b0 down
wait_for 2 "b2 took over after b1's link went down" is 2 active/yes
wait_neigh 2
streams_wait linkdown
check_takeover linkdown "$T" 2
m2=$(ev_mark 2)
ns b1 ip link set b0 up
# the link took b1's own IPv6 address (and its prefix route) with it, as
# it does (keep_addr_on_down 0); the host's network configuration would
# put it back. The VIPs are the controller's to restore.
ns b1 ip -6 addr replace "$NET6::11/64" dev b0 nodad
wait_for 5 "one owner (b1) after b1's link came back" owner_is 1
wait_neigh 1
owner_events 2 "$m2" standby | grep -q . || fail "b2 logged no yield after the link came back"
tcp_to 1
log "b: b1's link down: b2 took over (v4 ${OUT[linkdown.v4]} ms, v6 ${OUT[linkdown.v6]} ms); link up: b2 yielded"

# --- c: black hole ----------------------------------------------------------
streams hole 2.5
sleep 1
T=$(now_ms)
xdp_drop_on sw b1
wait_for 2 "b2 took over from the black-holed b1" is 2 active/yes
wait_neigh 2
streams_wait hole
check_takeover hole "$T" 2
m2=$(ev_mark 2)
ns sw ip link set dev b1 xdpdrv off
wait_for 5 "one owner (b1) after the black hole" owner_is 1
wait_neigh 1
owner_events 2 "$m2" standby | grep -q . || fail "b2 logged no yield after the black hole"
tcp_to 1
log "c: b1 black-holed: b2 took over (v4 ${OUT[hole.v4]} ms, v6 ${OUT[hole.v6]} ms); healed: b2 yielded"

# --- e: partition between the members -------------------------------------
m1=$(ev_mark 1) m2=$(ev_mark 2)
ns sw nft -f - <<EOF || fail "nft: cannot partition"
table bridge xhpart {
	chain cut {
		type filter hook forward priority 0; policy accept;
		iifname "b1" oifname "b2" udp dport { 3784, 7869 } drop
		iifname "b2" oifname "b1" udp dport { 3784, 7869 } drop
	}
}
EOF
wait_for 2 "both claim in the partition" eval 'is 1 active/yes && is 2 active/yes'
# the client follows the last announcement: b2's
wait_neigh 2
streams heal 2
sleep 0.7
T=$(now_ms)
ns sw nft delete table bridge xhpart
wait_for 5 "exactly one owner (b1) after the partition healed" owner_is 1
wait_neigh 1
streams_wait heal
read -r d l open who < <(outage heal v4 "$T")
[ "$who" = b1 ] && [ "$open" = false ] ||
	fail "after the heal the v4 stream is on '$who' (open outage: $open), not b1"
read -r d6 _ open who < <(outage heal v6 "$T")
[ "$who" = b1 ] && [ "$open" = false ] ||
	fail "after the heal the v6 stream is on '$who' (open outage: $open), not b1"
owner_events 2 "$m2" standby | grep -q 'better member claims' ||
	fail "b2 did not log a yield: $(ev_since 2 "$m2" | grep owner)"
owner_events 1 "$m1" active | grep 'yields (lower priority)' |
	grep -q "\"backend\":\"$NET4.11\"" ||
	fail "b1 did not log the conflict: $(ev_since 1 "$m1" | grep owner)"
[ "$(owner_events 1 "$m1" standby | wc -l)" = 0 ] || fail "b1 yielded in the partition"
tcp_to 1
log "e: partition: both claimed; healed: b2 yielded, b1 alone owns, client back on b1 (gap v4 $d ms, v6 $d6 ms)"

# --- d': the old active returns, without preemption -----------------------
streams nopre 2.5
sleep 1
T=$(now_ms)
kill_member 1
wait_for 2 "b2 took over after b1 was killed again" is 2 active/yes
wait_neigh 2
streams_wait nopre
check_takeover nopre "$T" 2
m1=$(ev_mark 1)
T_B1=$(now_ms)
start_member 1 false
wait_for 5 "b1 back as standby" is 1 standby/no
sleep "$(awk -v h=$HOLD 'BEGIN { print h / 1000 + 0.7 }')"
owner_is 2 || fail "without preemption, b1 should stay standby past the hold-down"
[ "$(grp 1 | jq -r .next_in_line)" = true ] || fail "b1 (standby) not next in line"
neigh_on 2 || fail "client's neighbour entries left b2: v4 $(neigh4), v6 $(neigh6)"
owner_events 1 "$m1" active | grep -q . && fail "b1 claimed without preemption"
tcp_to 2
log "d': b1 killed again (v4 ${OUT[nopre.v4]} ms, v6 ${OUT[nopre.v6]} ms); back without preemption: standby past the hold-down"

# --- reload (SIGHUP) ---------------------------------------------------------
# a change that needs a restart (a VIP more) is refused and changes nothing;
# a new priority applies at once: b2 hears it in b1's adverts
hup() {	# hup N: SIGHUP to bN's controller, wait for its config event
	local m n=$1 i
	m=$(ev_mark "$n")
	kill -HUP "${MPIDS[$n]%% *}"
	for i in $(seq 1 50); do
		ev_since "$n" "$m" | jq -r 'select(.event == "config") | .state' | grep -q . && break
		sleep 0.05
	done
	ev_since "$n" "$m" | jq -r 'select(.event == "config") | .state' | tail -1
}
cp "$XH_TMP/m1.conf" "$XH_TMP/m1.good"
sed -i "s|vips = \[ \"$VIP4\", \"$VIP6\" \]|vips = [ \"$VIP4\", \"$VIP6\", \"$NET4.99\" ]|" "$XH_TMP/m1.conf"
[ "$(hup 1)" = refused ] || fail "reload: a new VIP was not refused"
is 1 standby/no || fail "reload: a refused reload changed b1's state"
sed "s|priority = 200|priority = 50|" "$XH_TMP/m1.good" > "$XH_TMP/m1.conf"
[ "$(hup 1)" = loaded ] || fail "reload: a new priority was not loaded"
for i in $(seq 1 40); do
	[ "$(grp 2 | jq -r '.peers[0].priority')" = 50 ] && break
	sleep 0.05
done
[ "$(grp 2 | jq -r '.peers[0].priority')" = 50 ] || fail "reload: b2 did not hear b1's new priority"
owner_is 2 || fail "reload: ownership moved"
log "reload: a new VIP refused (restart needed), a new priority (50) applied and advertised; b2 still owns"
cp "$XH_TMP/m1.good" "$XH_TMP/m1.conf"
[ "$(hup 1)" = loaded ] || fail "reload: the original file was not loaded back"

# the owner dies while its standby is young (started less than startup_ms
# ago): having heard the owner, the standby takes over at once
streams young 2
sleep 0.5
T=$(now_ms)
kill_member 2
wait_for 2 "b1 took over from b2 (b1 restarted a moment ago)" is 1 active/yes
wait_neigh 1
streams_wait young
check_takeover young "$T" 1
log "d': b2 killed $(( T - T_B1 )) ms after b1's restart: b1 took over (v4 ${OUT[young.v4]} ms, v6 ${OUT[young.v6]} ms)"

# --- k: the data path takes over alone ----------------------------------------
# b2's controller is stopped (SIGSTOP) and b1 cut off (link down): the first
# ARP request for the VIP that reaches b2 finds the owner's stamp stale,
# and b2's member program opens the gate by itself (NO -> TAKEN) and lets
# the request through; the client gets its answer from b2 with no user
# space involved. b2's controller, resumed, confirms the takeover.
m2=$(ev_mark 2)
start_member 2
wait_for 5 "b2 standby, next in line" eval \
	'is 2 standby/no && [ "$(grp 2 | jq -r .next_in_line)" = true ]'
kill -STOP "${MPIDS[2]%% *}"
ns b1 ip link set b0 down
# longer than the controller heartbeat's age: the takeover is the data
# path's own (TAKEN), so it answers ARP although its controller is silent
sleep 1.2
ns c ip neigh flush to $VIP4 dev c0
ns c ping -c 3 -i 0.2 -W 1 -q $VIP4 >/dev/null 2>&1 ||
	{ kill -CONT "${MPIDS[2]%% *}"; fail "k: the VIP did not answer with b2's controller stopped"; }
gate=$(ns b2 "$XDPHA" --local stats b0 --json | jq -c '{gate: .groups[0].gate, takeovers: .counters.takeover.packets}')
[ "$(neigh4)" = "${MAC[2]}" ] ||
	{ kill -CONT "${MPIDS[2]%% *}"; fail "k: the client's entry for $VIP4 is $(neigh4), not b2's"; }
jq -e '.gate == "taken" and .takeovers >= 1' <<<"$gate" >/dev/null ||
	{ kill -CONT "${MPIDS[2]%% *}"; fail "k: b2's data path did not take over: $gate"; }
kill -CONT "${MPIDS[2]%% *}"
wait_for 2 "b2's controller confirmed the takeover" is 2 active/yes
owner_events 2 "$m2" active | grep -q 'data path took over' ||
	fail "k: no event saying the data path took over"
[ "$(grp 2 | jq -r .kernel_takeovers)" -ge 1 ] || fail "k: kernel_takeovers not counted"
log "k: b2's controller stopped, b1 cut off: b2's data path took over by itself ($gate), the client resolved the VIP to b2; resumed, the controller confirmed"
# b1 back: the healed partition leaves b1 (higher) the owner (its own
# IPv6 address put back, as in b)
ns b1 ip link set b0 up
ns b1 ip -6 addr replace "$NET6::11/64" dev b0 nodad
wait_for 5 "b1 owns again after its link came back" owner_is 1
kill_member 2

# --- f: arbiter --------------------------------------------------------------
kill_member 1
sleep 0.2
m1=$(ev_mark 1) m2=$(ev_mark 2)
start_member 1 true true
start_member 2 true true
wait_for 5 "arbiter mode: both up, neither claims" eval \
	'is 1 standby/no && is 2 standby/no && [ "$(grp 2 | jq -r ".peers[0].session")" = up ]'
ns b1 "$XDPHA" -S "$XH_TMP/m1.sock" member promote $GROUP >/dev/null ||
	fail "member promote on b1 refused"
wait_for 2 "b1 owns after promote" owner_is 1
wait_neigh 1
[ "$(grp 2 | jq -r .next_in_line)" = false ] ||
	fail "arbiter mode: the data path of b2 may take over by itself"
streams arbiter 3
sleep 0.7
T=$(now_ms)
kill_member 1
K=$(now_ms)	# the kill landed by now (T is before it: for the window)
sleep 1
is 2 standby/no || fail "arbiter mode: b2 moved on its own"
owner_events 2 "$m2" active | grep -q . && fail "arbiter mode: b2 logged a claim"
P=$(now_ms)
ns b2 "$XDPHA" -S "$XH_TMP/m2.sock" member promote $GROUP >/dev/null ||
	fail "member promote on b2 refused"
wait_for 2 "b2 owns after promote" is 2 active/yes
wait_neigh 2
streams_wait arbiter
for fam in v4 v6; do
	read -r d l open who < <(outage arbiter $fam "$T")
	[ "$open" = false ] && [ "$who" = b2 ] ||
		fail "arbiter: the $fam stream did not resume on b2 ($who, open $open)"
	awk -v d="$d" -v w=$((P - K)) 'BEGIN { exit !(d >= w) }' ||
		fail "arbiter: $fam outage $d ms, shorter than the $((P - K)) ms from kill to promote"
done
owner_events 2 "$m2" active | grep -q 'promoted' || fail "no promote event from b2"
log "f: arbiter: nothing moved for $((P - K)) ms after the kill; promote: b2 owns (gap v4 $d ms)"

log "PASS ($((SECONDS - T_START)) s): takeover outages (ms) kill v4/v6 ${OUT[kill.v4]}/${OUT[kill.v6]}, link down ${OUT[linkdown.v4]}/${OUT[linkdown.v6]}, black hole ${OUT[hole.v4]}/${OUT[hole.v6]}, kill again ${OUT[nopre.v4]}/${OUT[nopre.v6]}, young standby ${OUT[young.v4]}/${OUT[young.v6]} (bound $BOUND)"
exit 0
