#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# keepalived_failover.sh - the baseline for xdpha's failover benchmark:
# the outage a client sees when the VRRP master dies, keepalived doing the
# failover, in the topology of scripts/topo.sh (topo_l2 2).
#
# b1 (priority 200) and b2 (priority 100) run keepalived, VRRPv3 at the
# smallest advertisement interval keepalived accepts (10 ms), sharing the
# VIP on their b0; both run udp-echo on the wildcard address. The VIP is
# taken off their lo (topo_l2 puts it there for DSR), so only the master
# answers; the client reaches the VIP on-link, not through the steering
# node. A trial (bench/lib_failover.sh) streams 1000 datagrams/s to the
# VIP, crashes the master (SIGSTOP, then SIGKILL of keepalived and
# udp-echo: no priority-0 advertisement, the VIP stays on its b0 as after
# a crash) and measures the client's echo gap: b2 must miss three
# advertisements plus its skew, then take the VIP and send gratuitous ARP.
# Restore: the VIP off the dead b1's b0 (a rebooted node would not have
# it), udp-echo and keepalived started again; keepalived preempts (the
# default), so b1 is master again and every trial kills b1 and measures
# the same b1 -> b2 transition.
#
# stdout: {"keepalived_outage_ms": {"value": median, "unit": "ms", "p99",
# "trials", "advert_int_ms", "baseline": null, "ratio": null, ...}}
# Env: TRIALS (default 20), NAME (the entry's name, default
# keepalived_outage_ms; bench/takeover.sh runs it as keepalived_takeover_ms).
# Needs root and the keepalived package (apt-get installs it when missing).
# Exit 0 ok, 1 failure (JSON with "error").
set -u
XH_ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$XH_ROOT/build}
case $BUILD in /*) ;; *) BUILD=$(cd "$BUILD" 2>/dev/null && pwd || echo "$XH_ROOT/$BUILD") ;; esac
. "$XH_ROOT/scripts/topo.sh"
. "$XH_ROOT/bench/lib_failover.sh"

NAME=${NAME:-keepalived_outage_ms}
TRIALS=${TRIALS:-20}
PORT=7100
ADVERT=0.01		# s; keepalived 2.2 accepts [0.01, 255] for VRRPv3
NODES="b1 b2"
declare -A PRIO=([b1]=200 [b2]=100)
declare -A KA_PID=() ECHO_PID=()

fail() {
	log "FAIL: $*"
	jq -cn --arg n "$NAME" --arg e "$*" '{($n): {error: $e}}'
	exit 1
}

# keepalived, installed when missing
if ! command -v keepalived >/dev/null; then
	log "installing keepalived"
	{ apt-get install -y keepalived || { apt-get update &&
		apt-get install -y keepalived; }; } >&2 2>&1
	# the package enables a system service; this benchmark never uses it
	command -v keepalived >/dev/null || fail "keepalived not installed"
fi
KA_VERSION=$(keepalived --version 2>&1 | sed -n 's/^Keepalived v\([^ ]*\).*/\1/p')
log "keepalived $KA_VERSION, advert_int $ADVERT s, $TRIALS trials"

topo_init ""
KA_DIR=$XH_TMP/keepalived
mkdir -p "$KA_DIR"

ka_cleanup() {
	local n p
	fo_cleanup
	for p in "${KA_PID[@]}" "${ECHO_PID[@]}"; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	# keepalived's VRRP child is not ours: take it by its pid file
	for p in "$KA_DIR"/*.pid; do
		[ -s "$p" ] && kill -KILL "$(cat "$p")" 2>/dev/null
	done
}
trap 'ka_cleanup; topo_cleanup' EXIT

ka_conf() {
	local n=$1
	cat >"$KA_DIR/$n.conf" <<-EOF
	global_defs {
		router_id xh-$n
		vrrp_version 3
		# no strict RFC mode (no iptables, no VMAC needed)
	}
	vrrp_instance xh {
		state BACKUP
		interface b0
		virtual_router_id 51
		priority ${PRIO[$n]}
		advert_int $ADVERT
		virtual_ipaddress {
			$VIP4/32 dev b0
		}
	}
	EOF
}

# start_node NODE: udp-echo and keepalived in NODE's namespace
start_node() {
	local n=$1 i
	nsenter --net="/run/netns/${XH_P}$n" "$TRAFFIC" udp-echo --port $PORT \
		--id "$n" >&2 &
	ECHO_PID[$n]=$!
	rm -f "$KA_DIR/$n.pid" "$KA_DIR/$n-vrrp.pid"
	nsenter --net="/run/netns/${XH_P}$n" keepalived --vrrp --dont-fork \
		--log-console --log-detail --no-syslog \
		--use-file="$KA_DIR/$n.conf" --pid="$KA_DIR/$n.pid" \
		--vrrp_pid="$KA_DIR/$n-vrrp.pid" >>"$KA_DIR/$n.log" 2>&1 &
	KA_PID[$n]=$!
	# up when its VRRP child has written its pid file
	for i in $(seq 1 100); do
		[ -s "$KA_DIR/$n-vrrp.pid" ] && return 0
		kill -0 "${KA_PID[$n]}" 2>/dev/null || break
		sleep 0.05
	done
	log "keepalived on $n did not start:"
	tail -n 20 "$KA_DIR/$n.log" >&2
	return 1
}

has_vip() { ns "$1" ip -4 -o addr show dev b0 | grep -q " $VIP4/"; }
alive() { kill -0 "${KA_PID[$1]:-0}" 2>/dev/null; }

# the live node holding the VIP (FO_ACTIVE)
active_node() {
	local n
	for n in $NODES; do
		alive "$n" && has_vip "$n" && { echo "$n"; return 0; }
	done
	return 1
}

# FO_KILL: crash NODE, then reap our children
kill_node() {
	local n=$1
	fo_kill_ns "$n" || return 1
	wait "${KA_PID[$n]}" "${ECHO_PID[$n]}" 2>/dev/null
	rm -f "$KA_DIR/$n.pid" "$KA_DIR/$n-vrrp.pid"
	unset "KA_PID[$n]" "ECHO_PID[$n]"
	return 0
}

# FO_RESTORE: the node comes back as after a reboot
restore_node() {
	ns "$1" ip addr del "$VIP4/32" dev b0 2>/dev/null
	start_node "$1"
}

# FO_STEADY: every node up, exactly one holds the VIP, and it is b1
steady() {
	local n holders=""
	for n in $NODES; do
		alive "$n" || return 1
		has_vip "$n" && holders+="$n "
	done
	[ "$holders" = "b1 " ]
}

topo_l2 2
# the service lives on the VRRP master only, reached on-link
ns c ip route replace "$VIP4/32" dev c0
for n in $NODES; do
	ns "$n" ip addr del "$VIP4/32" dev lo
	ka_conf "$n"
	ns "$n" keepalived --config-test="$KA_DIR/$n.test" --use-file="$KA_DIR/$n.conf" \
		>/dev/null 2>&1
	if grep -qi 'outside range\|not valid\|ignoring' "$KA_DIR/$n.test" 2>/dev/null; then
		cat "$KA_DIR/$n.test" >&2
		fail "keepalived rejects the configuration (advert_int $ADVERT)"
	fi
done
for n in $NODES; do
	start_node "$n" || fail "keepalived cannot run here (see stderr)"
done

FO_DST=$VIP4 FO_PORT=$PORT FO_CLIENT=c
FO_ACTIVE=active_node FO_KILL=kill_node FO_RESTORE=restore_node
FO_START=start_node FO_STEADY=steady
fo_run "$TRIALS"
rc=$?
log "keepalived $KA_VERSION: $TRIALS trials," \
	"outage median $FO_MEDIAN ms, p99 $FO_P99 ms, $FO_NFAILED failed"
((rc == 0)) || {
	for n in $NODES; do
		log "--- $n.log (tail)"
		tail -n 15 "$KA_DIR/$n.log" >&2
	done
	fail "failover trials failed (rc $rc, $FO_NFAILED without recovery)"
}

jq -cn --arg n "$NAME" --argjson m "$FO_MEDIAN" --argjson p "$FO_P99" \
	--argjson a "$(awk -v a="$ADVERT" 'BEGIN { print a * 1000 }')" \
	--arg v "$KA_VERSION" --argjson l "$FO_TRIALS_JSON" '
	{($n): {value: $m, unit: "ms", p99: $p, trials: ($l | length),
		advert_int_ms: $a, keepalived_version: $v,
		min_ms: ([$l[].outage_ms] | min), max_ms: ([$l[].outage_ms] | max),
		list_ms: [$l[].outage_ms],
		baseline: null, ratio: null}}'
