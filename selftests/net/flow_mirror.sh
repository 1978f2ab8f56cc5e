#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# flow_mirror.sh - the flow table mirror between two steering nodes.
#
# s and s2 serve the same VIP, but their backend sets differ (s: b1 b2;
# s2: b3 b2 b1, listed in another order so that their map ids differ too):
# without the mirror, Maglev at s2 would send about a third of the flows
# established through s to b3, which has no socket for them, and they
# would break. Checked:
#  - every confirmed flow of s is in s2's table, on the backend with the
#    same address (ids translated), reported over AF_XDP;
#  - the client moves to s2 (its route), and no connection breaks;
#  - s2 restarted with an empty table gets everything again by a resync;
#  - both controllers report the mirror in status --json.
set -u
. "$(dirname "$0")/../../scripts/topo.sh"

topo_init "xhfm$$-"
topo_l2 3
TCP=7000 CONNS=150

# a second steering node on the bridge, like s
mkns s2
PORT=1 steer_node s2 3
for i in 1 2 3; do ns s2 ping -c1 -W1 -q $NET4.$((10 + i)) >/dev/null 2>&1; done
ns s ping -c1 -W1 -q $NET4.3 >/dev/null 2>&1
ns s2 ping -c1 -W1 -q $NET4.2 >/dev/null 2>&1

bk() { local s="" i; for i in "$@"; do s="$s{ address = \"$NET4.$((10 + i))\"; heartbeat = false; }, "; done; echo "${s%, }"; }
conf() {	# conf NODE SELF PEER BACKENDS...
	local n=$1 self=$2 peer=$3
	shift 3
	cat <<C
controller: { socket = "$XH_TMP/$n.sock"; };
interfaces = ( { name = "s0"; address = "$self"; } );
services = ( { vip = "$VIP4:$TCP/tcp"; table_size = 251; backends = ( $(bk "$@") ); } );
mirror: { peer = "$peer"; key = "flow-mirror-test-key"; };
C
}
conf s $NET4.2 $NET4.3 1 2 > "$XH_TMP/s.conf"
conf s2 $NET4.3 $NET4.2 3 2 1 > "$XH_TMP/s2.conf"
start() { ns_bg "$1" "$XDPHA" run -c "$XH_TMP/$1.conf" 2>>"$XH_TMP/$1.log"; eval "PID_$1=$!"; }
start s
start s2
for i in 1 2 3; do
	ns_bg "b$i" "$TRAFFIC" tcp-server --port $TCP --id "b$i" 2>/dev/null
done
st() { ns "$1" "$XDPHA" -S "$XH_TMP/$1.sock" status --json 2>/dev/null; }
for i in $(seq 1 50); do
	[ "$(st s | jq -r '.controller.mirror.state')" = synced ] &&
	[ "$(st s2 | jq -r '.controller.mirror.state')" = synced ] && break
	sleep 0.1
done
st s | jq -e '.controller.mirror.state == "synced"' >/dev/null ||
	{ tail -5 "$XH_TMP/s.log" >&2; die "mirror of s not synced: $(st s | jq -c .controller.mirror)"; }
log "mirror: $(st s | jq -c '.controller.mirror | {transport, state, peer_state}')"

ns_bg c "$TRAFFIC" tcp-client --dst $VIP4 --port $TCP --conns $CONNS \
	--interval 50 --duration 8 --json "$XH_TMP/tc.json" 2>/dev/null
TC=$!
sleep 3

# flow tables: key -> backend address, on both nodes
flows() {	# flows NODE: "src:sport backend-address" lines, sorted
	local d=/sys/fs/bpf/xdpha/netns:${XH_P}$1/s0
	bpftool map dump pinned "$d/xh_backends_v1" -j |
		jq -r '.[].formatted | select(.value.family == 4) | "\(.key) \(.value.addr[0])"' > "$XH_TMP/$1.bk"
	bpftool map dump pinned "$d/xh_flows_v1" -j |
		jq -r '.[].formatted | "\(.key.src[0]):\(.key.sport) \(.value.backend)"' |
		while read -r k id; do
			echo "$k $(awk -v i="$id" '$1 == i { print $2 }' "$XH_TMP/$1.bk")"
		done | sort
}
flows s > "$XH_TMP/s.flows"
flows s2 > "$XH_TMP/s2.flows"
n1=$(wc -l < "$XH_TMP/s.flows")
((n1 >= CONNS)) || die "s has $n1 confirmed flows, expected $CONNS"
missing=$(comm -23 "$XH_TMP/s.flows" "$XH_TMP/s2.flows" | wc -l)
((missing == 0)) || {
	comm -23 "$XH_TMP/s.flows" "$XH_TMP/s2.flows" | head -5 >&2
	die "$missing of s's $n1 flows are not in s2's table with the same backend"
}
log "s2 holds all $n1 flows of s, on the same backends"
# the figures: status and stats through the controller
sm=$(ns s "$XDPHA" -S "$XH_TMP/s.sock" stats --json | jq -c .mirror)
jq -e '.records_sent >= '$n1' and .records_acked >= .records_sent and .transport == "afxdp-copy"' \
	<<<"$sm" >/dev/null || die "stats of s: mirror figures wrong: $sm"
log "stats of s: $(jq -c '{records_sent, records_acked, retransmitted, lag_ms}' <<<"$sm")"

# the client moves to s2: no connection breaks
ns c ip route replace $VIP4/32 via $NET4.3
wait $TC
jq -e '.broken == 0 and .opened == '$CONNS "$XH_TMP/tc.json" >/dev/null || {
	jq -c '{opened, broken, backends_broken}' "$XH_TMP/tc.json" >&2
	die "connections broke after moving to s2"
}
log "client moved to s2: $(jq -c '{opened, broken, pongs}' "$XH_TMP/tc.json")"

# s2 restarted with an empty flow table: a resync brings everything back
kill "$PID_s2"; wait "$PID_s2" 2>/dev/null
ns s2 "$XDPHA" --local detach s0 || die "detach s2"
start s2
for i in $(seq 1 50); do
	[ "$(st s2 | jq -r '.controller.mirror.peer_state')" = synced ] && break
	sleep 0.1
done
sleep 0.3
flows s2 > "$XH_TMP/s2.flows"
missing=$(comm -23 "$XH_TMP/s.flows" "$XH_TMP/s2.flows" | wc -l)
((missing == 0)) || die "after s2's restart, $missing flows did not come back (resync)"
log "s2 restarted empty: resync brought back all $n1 flows ($(st s2 | jq -c '.controller.mirror | {resyncs, records_applied}'))"
kill "$PID_s" "$PID_s2"
wait "$PID_s" "$PID_s2" 2>/dev/null
log "PASS"
