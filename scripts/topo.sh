#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# topo.sh - test topologies in network namespaces, sourced by the tests,
# the demo and the benchmarks.
#
# Every namespace, pin and process belongs to one run prefix ($XH_P) and
# is removed by topo_cleanup, which topo_init installs as the EXIT trap.
# Addresses come from 198.18.0.0/15 and fd00:7868::/48 (benchmark and
# unique-local ranges) and exist only inside these namespaces.
#
# The L2 (DSR) topology: one segment, a Linux bridge in namespace "sw".
#
#   client c0 --+                      +-- b1 (VIP on lo, servers)
#               |-- br0 (ns sw) -------+-- b2
#   steer  s0 --+                      +-- ...
#
# The client routes the VIP through the steering node; xdpha on s0 rewrites
# the MACs and sends the frame back out (XDP_TX); the bridge delivers it to
# the backend, which answers the client directly from the VIP.

XH_ROOT=${XH_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
BUILD=${BUILD:-$XH_ROOT/build}
XDPHA=${XDPHA:-$BUILD/xdpha}
TRAFFIC=${TRAFFIC:-$BUILD/xh-traffic}

NET4=198.18.0
NET6=fd00:7868:0:1
VIP4=198.18.100.1
VIP6=fd00:7868:100::1

XH_PIDS=()

log() { printf '[%s] %s\n' "$(date +%T.%3N)" "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

# Run CMD in namespace NAME of this run (nsenter keeps /sys and bpffs,
# unlike 'ip netns exec').
ns() {
	local n=$1
	shift
	nsenter --net="/run/netns/${XH_P}$n" "$@"
}

# Start CMD in the background in namespace NAME; remember its pid.
ns_bg() {
	local n=$1
	shift
	nsenter --net="/run/netns/${XH_P}$n" "$@" &
	XH_PIDS+=($!)
}

xdpha() { ns s "$XDPHA" "$@"; }

# Remove this run's processes, namespaces and pins; keep the temp dir.
topo_teardown() {
	local p n
	for p in "${XH_PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	sleep 0.1
	for p in "${XH_PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	for n in $(ip netns list | awk '{print $1}' | grep "^${XH_P}" || true); do
		# detach and unpin what xdpha left in this namespace
		rm -rf "/sys/fs/bpf/xdpha/netns:$n" 2>/dev/null
		# and the status files of libxdpha applications killed there
		rm -f "/run/xdpha/mirror/netns:${n}_"* 2>/dev/null
		ip netns pids "$n" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$n" 2>/dev/null
	done
	rmdir /sys/fs/bpf/xdpha 2>/dev/null
	XH_PIDS=()
}

# forget_pids PIDS: reaped by the caller; taken out of XH_PIDS so that the
# teardown never signals a pid that may have been reused
forget_pids() {
	local p q keep=()
	for p in "${XH_PIDS[@]}"; do
		for q in "$@"; do [ "$p" = "$q" ] && continue 2; done
		keep+=("$p")
	done
	XH_PIDS=("${keep[@]}")
}

topo_cleanup() {
	local rc=$?
	topo_teardown
	[ -n "${XH_TMP:-}" ] && rm -rf "$XH_TMP"
	return $rc
}

# topo_init [PREFIX]: a fresh run prefix, a temp dir, the cleanup trap.
topo_init() {
	XH_P=${1:-xh$$-}
	XH_TMP=$(mktemp -d "/tmp/${XH_P}XXXX")
	trap topo_cleanup EXIT
	trap 'exit 130' INT TERM
	if [ "$(id -u)" -ne 0 ]; then
		log "needs root (network namespaces, XDP)"
		[ -n "${CI:-}" ] && exit 1
		exit 4
	fi
	[ -x "$XDPHA" ] || die "$XDPHA not built (make)"
	[ -x "$TRAFFIC" ] || die "$TRAFFIC not built (make)"
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
}

# A namespace whose IPv6 needs no duplicate address detection: until DAD
# of the link-local address ends (1-2 s), neighbour discovery cannot run,
# and a test would measure that instead of xdpha.
mkns() {
	ip netns add "${XH_P}$1" || die "ip netns add ${XH_P}$1"
	ns "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0
	ns "$1" ip link set lo up
}

# No DAD on DEV in NS either (a device moved in keeps its own settings).
nodad() { ns "$1" sysctl -qw "net.ipv6.conf.$2.accept_dad=0"; }

# Attach the counting XDP_PASS program to DEV in NS: a veth whose peer
# sends XDP_TX or redirected frames needs a program of its own.
xdp_pass_on() {
	ns "$1" ip link set dev "$2" xdpdrv obj "$BUILD/xh_pass_count.bpf.o" \
		program xt_pass_count
}

# Black hole: DEV in NS drops every frame it receives.
xdp_drop_on() {
	ns "$1" ip link set dev "$2" xdpdrv obj "$BUILD/xh_pass_count.bpf.o" \
		program xt_drop_all
}

# steer_node NS OCTET: a steering node in namespace NS (made already), its
# s0 at .OCTET on the bridge through port NS of sw (ported to br0 later by
# topo_l2, or at once when the bridge is up: PORT=1).
steer_node() {
	local n=$1 o=$2
	ip link add s0 netns "${XH_P}$n" type veth peer name "$n" \
		netns "${XH_P}sw"
	nodad "$n" s0
	nodad sw "$n"
	ns "$n" ip addr add $NET4.$o/24 dev s0
	ns "$n" ip -6 addr add $NET6::$o/64 dev s0 nodad
	ns "$n" ip link set s0 up
	ns "$n" sysctl -qw net.ipv4.ip_forward=1
	if [ -n "${PORT:-}" ]; then
		ns sw ip link set "$n" master br0
		ns sw ip link set "$n" up
		xdp_pass_on sw "$n"
	fi
}

# topo_l2 N: client, steering node, N backends on one bridge.
topo_l2() {
	local nb=$1 i
	mkns sw
	ns sw ip link add br0 type bridge
	nodad sw br0
	ns sw ip link set br0 up
	mkns c
	mkns s
	for i in $(seq 1 "$nb"); do mkns "b$i"; done

	# client
	ip link add c0 netns "${XH_P}c" type veth peer name c netns "${XH_P}sw"
	nodad c c0
	nodad sw c
	ns c ip addr add $NET4.1/24 dev c0
	ns c ip -6 addr add $NET6::1/64 dev c0 nodad
	ns c ip link set c0 up
	# kernel sockets behind veth send partial checksums, which a frame
	# forwarded by XDP carries to the far end: fill them in here
	ns c ethtool -K c0 tx off >/dev/null
	ns c ip route add $VIP4/32 via $NET4.2
	ns c ip -6 route add $VIP6/128 via $NET6::2
	steer_node s 2
	# backends: the VIP on lo, never answered for on the wire
	for i in $(seq 1 "$nb"); do
		ip link add b0 netns "${XH_P}b$i" type veth peer name "b$i" \
			netns "${XH_P}sw"
		nodad "b$i" b0
		nodad sw "b$i"
		ns "b$i" ip addr add $NET4.$((10 + i))/24 dev b0
		ns "b$i" ip -6 addr add $NET6::$((10 + i))/64 dev b0 nodad
		ns "b$i" ip addr add $VIP4/32 dev lo
		ns "b$i" ip -6 addr add $VIP6/128 dev lo
		ns "b$i" sysctl -qw net.ipv4.conf.all.arp_ignore=1 \
			net.ipv4.conf.all.arp_announce=2
		ns "b$i" ip link set b0 up
		ns "b$i" ethtool -K b0 tx off >/dev/null
	done
	for p in c s $(seq -f 'b%g' 1 "$nb"); do
		ns sw ip link set "$p" master br0
		ns sw ip link set "$p" up
	done
	# XDP_TX out of s0 needs a program on its peer
	xdp_pass_on sw s
	# Fill the neighbour tables before traffic, as a network that has run
	# for a while has them: the steering node knows the backends, the
	# client its gateway, the backends the client (DSR replies).
	ns c ping -c1 -W1 -q $NET4.2 >/dev/null 2>&1 || true
	ns c ping -6 -c1 -W1 -q $NET6::2 >/dev/null 2>&1 || true
	for i in $(seq 1 "$nb"); do
		ns s ping -c1 -W1 -q $NET4.$((10 + i)) >/dev/null 2>&1 || true
		ns s ping -6 -c1 -W1 -q $NET6::$((10 + i)) >/dev/null 2>&1 || true
		ns "b$i" ping -c1 -W1 -q $NET4.1 >/dev/null 2>&1 || true
		ns "b$i" ping -6 -c1 -W1 -q $NET6::1 >/dev/null 2>&1 || true
	done
}

# MAC and ifindex of DEV in namespace NS (not from /sys: nsenter keeps the
# sysfs of the initial namespace).
mac_of() { ns "$1" ip -j link show "$2" | jq -r '.[0].address'; }
ifindex_of() {
	local i
	i=$(ns "$1" ip -j link show "$2" | jq -r '.[0].ifindex')
	[ -n "$i" ] && [ "$i" != null ] || die "no device $2 in $1"
	echo "$i"
}

# Wait until FILE exists and is non-empty (up to SEC seconds).
wait_file() {
	local f=$1 t=${2:-10} i
	for i in $(seq 1 $((t * 20))); do
		[ -s "$f" ] && return 0
		sleep 0.05
	done
	return 1
}

# json FILE FILTER: jq on a report, failing loudly on bad JSON.
json() { jq -er "$2" "$1"; }
