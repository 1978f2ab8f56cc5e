#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# ipip_decap.sh - IP-in-IP forwarding end to end, with no tunnel device
# anywhere: the steering node encapsulates (IPv4-in-IPv4 and IPv6-in-IPv6,
# service --fwd ipip), the member program on each backend's NIC
# decapsulates packets from the configured steering node, and the backend
# answers the client directly from the VIP. A UDP stream over two
# backends must lose nothing; frames from an unknown outer source are not
# decapsulated (counted pass_spoof).
set -u
. "$(dirname "$0")/../../scripts/topo.sh"

topo_init "xhi$$-"
topo_l2 2
xdpha attach steer s0 >/dev/null || die "attach steer"
xdpha service add "$VIP4:7000/udp" --fwd ipip --encap-src $NET4.2 >/dev/null ||
	die "service v4"
xdpha service add "[$VIP6]:7000/udp" --fwd ipip --encap-src $NET6::2 >/dev/null ||
	die "service v6"

# hex bytes of an address, for bpftool
hex4() { printf '%02x ' ${1//./ }; }
hex6() { python3 -c "import ipaddress,sys; print(' '.join('%02x' % b for b in ipaddress.IPv6Address(sys.argv[1]).packed))" "$1"; }

for i in 1 2; do
	ns "b$i" "$XDPHA" attach member b0 >/dev/null || die "attach member b$i"
	d=/sys/fs/bpf/xdpha/netns:${XH_P}b$i/b0
	# decapsulate what the steering node sends: {addr[16], family, pad}
	bpftool map update pinned "$d/xm_decap_v1" key hex $(hex4 $NET4.2) \
		00 00 00 00 00 00 00 00 00 00 00 00 04 00 00 00 value 1 0 0 0 ||
		die "decap source v4"
	bpftool map update pinned "$d/xm_decap_v1" key hex $(hex6 $NET6::2) \
		06 00 00 00 value 1 0 0 0 || die "decap source v6"
	xdpha backend add "$VIP4:7000/udp" $NET4.$((10 + i)) >/dev/null || die "backend v4"
	xdpha backend add "[$VIP6]:7000/udp" $NET6::$((10 + i)) >/dev/null || die "backend v6"
	ns_bg "b$i" "$TRAFFIC" udp-echo --port 7000 --id "b$i"
done
sleep 0.3

ns c "$TRAFFIC" udp-client --dst $VIP4 --port 7000 --flows 8 --rate 200 \
	--duration 2 --json "$XH_TMP/u4.json" 2>/dev/null
ns c "$TRAFFIC" udp-client --dst $VIP6 --port 7000 --flows 8 --rate 200 \
	--duration 2 --json "$XH_TMP/u6.json" 2>/dev/null
for f in u4 u6; do
	jq -e '.sent > 100 and .lost == 0 and (.responders | length) == 2' \
		"$XH_TMP/$f.json" >/dev/null ||
		die "$f: $(jq -c '{sent, echoed, lost, responders}' "$XH_TMP/$f.json")"
	log "$f: $(jq -c '{sent, echoed, lost, responders}' "$XH_TMP/$f.json")"
done
n=$(xdpha stats --json | jq '.counters.tx.packets')
[ "$n" -ge 200 ] || die "the steering node forwarded $n packets"
for i in 1 2; do
	d=/sys/fs/bpf/xdpha/netns:${XH_P}b$i/b0
	got=$(bpftool -j map dump pinned "$d/xm_stats" |
		jq '[.[] | select(.formatted.key == 4) | .formatted.values[].value.packets] | add')
	[ "${got:-0}" -gt 20 ] || die "b$i decapsulated ${got:-0} packets"
done

# an unknown outer source: b1 no longer trusts the steering node
d=/sys/fs/bpf/xdpha/netns:${XH_P}b1/b0
bpftool map delete pinned "$d/xm_decap_v1" key hex $(hex4 $NET4.2) \
	00 00 00 00 00 00 00 00 00 00 00 00 04 00 00 00 || die "delete source"
ns c "$TRAFFIC" udp-client --dst $VIP4 --port 7000 --flows 8 --rate 100 \
	--duration 1 --json "$XH_TMP/u4b.json" 2>/dev/null
spoof=$(bpftool -j map dump pinned "$d/xm_stats" |
	jq '[.[] | select(.formatted.key == 5) | .formatted.values[].value.packets] | add')
[ "${spoof:-0}" -gt 0 ] || die "b1 did not count the untrusted frames as spoofed"
jq -e '(.responders.b1 // 0) == 0' "$XH_TMP/u4b.json" >/dev/null ||
	die "b1 answered frames from an untrusted source"
log "untrusted source: $spoof frames passed undecapsulated, b1 answered none"
log "PASS"
exit 0
