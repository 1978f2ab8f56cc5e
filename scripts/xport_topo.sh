#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# xport_topo.sh - the mirror transports' topology, sourced after topo.sh
# by selftests/net/xsk_transport.sh and bench/xport_rate.sh:
#
#   ns a: m0 $NET4.1 $NET6::1 ---- veth ---- ns b: m0 $NET4.2 $NET6::2
#
# with the member program on both ends (it redirects mirror frames into
# the AF_XDP socket of their queue) and both neighbour tables filled.
# XPORT names the test and benchmark driver.

XPORT=${XPORT:-$BUILD/xh-xport-test}

# xport_topo: 0, or 1 when the member program cannot be attached (the
# caller decides between skip and fail; the reason is logged).
xport_topo() {
	local n out
	[ -x "$XPORT" ] || die "$XPORT not built (make)"
	mkns a
	mkns b
	ip link add m0 netns "${XH_P}a" type veth peer name m0 \
		netns "${XH_P}b" || die "veth"
	for n in a b; do
		nodad "$n" m0
		ns "$n" ip link set m0 up
	done
	ns a ip addr add $NET4.1/24 dev m0
	ns b ip addr add $NET4.2/24 dev m0
	ns a ip -6 addr add $NET6::1/64 dev m0 nodad
	ns b ip -6 addr add $NET6::2/64 dev m0 nodad
	for n in a b; do
		if ! out=$(ns "$n" "$XDPHA" attach member m0 2>&1); then
			log "attach member in $n: $out"
			return 1
		fi
	done
	# the AF_XDP transport reads the peer's MAC from the neighbour
	# table; the UDP one would queue its first frames
	ns a ping -c1 -W1 -q $NET4.2 >/dev/null 2>&1 || true
	ns a ping -6 -c1 -W1 -q $NET6::2 >/dev/null 2>&1 || true
	ns b ping -c1 -W1 -q $NET4.1 >/dev/null 2>&1 || true
	ns b ping -6 -c1 -W1 -q $NET6::1 >/dev/null 2>&1 || true
	return 0
}
