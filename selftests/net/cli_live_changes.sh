#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# cli_live_changes.sh - the xdpha command end to end, in each XDP mode.
#
# Client, steering node and three backends on one segment (scripts/topo.sh).
# A UDP stream of 16 flows with sequence numbers (IPv4 and IPv6) and 40
# long-lived TCP connections run through the VIPs while the operator
# (1) adds a backend, (2) drains one, (4) upgrades the program to a
# rebuilt object, (5) kills xdpha mid-command, and (3) removes a backend.
# Asserted: no flow moves and no datagram is lost except on the removed
# backend, and every TCP connection on a live backend still works. Then:
# bpftool shows named fields for every pinned map, the chain slot sees
# exactly the packets xdpha passes, and detach leaves no pin, link or
# program behind. Exit 0 pass, 1 fail, 4 skip (no root, outside CI).
set -u
. "$(dirname "$0")/../../scripts/topo.sh"

UDP=7000
TCP=7001
DUR=24		# client run time (s); the phases take about 14 s

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

run_mode() {
	local mode=$1 i t0 t_del prog0 prog1 dir

	log "== mode $mode"
	topo_l2 3
	dir=/sys/fs/bpf/xdpha/netns:${XH_P}s/s0
	xdpha attach steer s0 --mode "$mode" || die "attach $mode"
	for svc in $VIP4:$UDP/udp $VIP4:$TCP/tcp "[$VIP6]:$UDP/udp"; do
		xdpha service add "$svc" >/dev/null || die "service add $svc"
	done
	# backends b1, b2; MACs resolved from the neighbour table
	for i in 1 2; do
		xdpha backend add $VIP4:$UDP/udp $NET4.$((10 + i)) >/dev/null &&
		xdpha backend add $VIP4:$TCP/tcp $NET4.$((10 + i)) >/dev/null &&
		xdpha backend add "[$VIP6]:$UDP/udp" $NET6::$((10 + i)) >/dev/null ||
			die "backend add b$i"
	done
	for i in 1 2 3; do
		ns_bg "b$i" "$TRAFFIC" udp-echo --port $UDP --id "b$i"
		ns_bg "b$i" "$TRAFFIC" tcp-server --port $TCP --id "b$i"
	done
	sleep 0.3

	t0=$(now_ms)
	ns_bg c "$TRAFFIC" udp-client --dst $VIP4 --port $UDP --flows 16 \
		--rate 200 --duration $DUR --json "$XH_TMP/udp4-$mode.json"
	ns_bg c "$TRAFFIC" udp-client --dst $VIP6 --port $UDP --flows 8 \
		--rate 200 --duration $DUR --json "$XH_TMP/udp6-$mode.json"
	ns_bg c "$TRAFFIC" tcp-client --dst $VIP4 --port $TCP --conns 40 \
		--interval 100 --timeout 1000 --duration $DUR \
		--json "$XH_TMP/tcp-$mode.json"
	sleep 3

	log "(1) add backend b3 at $(( $(now_ms) - t0 )) ms"
	xdpha backend add $VIP4:$UDP/udp $NET4.13 >/dev/null &&
	xdpha backend add $VIP4:$TCP/tcp $NET4.13 >/dev/null &&
	xdpha backend add "[$VIP6]:$UDP/udp" $NET6::13 >/dev/null || die "add b3"
	sleep 2

	log "(2) drain b1 at $(( $(now_ms) - t0 )) ms"
	xdpha backend drain $VIP4:$UDP/udp $NET4.11 &&
	xdpha backend drain $VIP4:$TCP/tcp $NET4.11 &&
	xdpha backend drain "[$VIP6]:$UDP/udp" $NET6::11 || die "drain b1"
	sleep 2

	log "(4) upgrade to a rebuilt object at $(( $(now_ms) - t0 )) ms"
	prog0=$(bpftool -j prog show pinned "$dir/prog" | jq .id)
	xdpha upgrade s0 --obj "$BUILD/steer_rebuilt.bpf.o" >/dev/null || die upgrade
	prog1=$(bpftool -j prog show pinned "$dir/prog" | jq .id)
	[ "$prog0" != "$prog1" ] || die "upgrade: program id unchanged ($prog0)"
	bpftool -j map dump id "$(bpftool -j prog show pinned "$dir/prog" |
		jq '.map_ids[]' | while read -r m; do
			bpftool -j map show id "$m" | jq -r 'select(.name|endswith(".rodata")) | .id'
		done | head -1)" | grep -Eq '"xh_build_id": ?2' ||
		die "upgrade: the running program is not build 2"
	sleep 2

	log "(5) kill xdpha mid-command at $(( $(now_ms) - t0 )) ms"
	for i in 1 2 3 4 5; do
		ns s "$XDPHA" stats --interval 20 >/dev/null &
		local k=$!
		sleep 0.0$((RANDOM % 9 + 1))
		kill -9 $k 2>/dev/null
		wait $k 2>/dev/null
		ns s "$XDPHA" service add 198.18.200.$i:9/udp >/dev/null &
		k=$!
		sleep 0.00$((RANDOM % 9))
		kill -9 $k 2>/dev/null
		wait $k 2>/dev/null
	done
	# whatever the kills left is consistent: status reads, services known
	xdpha status --json > "$XH_TMP/status-$mode.json" || die "status after kills"
	[ "$(jq '[.devices[0].services[] | select(.service|startswith("198.18.100"))] | length' \
		"$XH_TMP/status-$mode.json")" = 2 ] || die "services lost after kills"
	sleep 1

	log "(3) remove backend b2"
	t_del=$(( $(now_ms) - t0 ))
	xdpha backend del $VIP4:$UDP/udp $NET4.12 &&
	xdpha backend del $VIP4:$TCP/tcp $NET4.12 &&
	xdpha backend del "[$VIP6]:$UDP/udp" $NET6::12 || die "del b2"

	log "waiting for the clients"
	wait_file "$XH_TMP/tcp-$mode.json" $((DUR + 10)) || die "no tcp report"
	wait_file "$XH_TMP/udp4-$mode.json" 10 || die "no udp4 report"
	wait_file "$XH_TMP/udp6-$mode.json" 10 || die "no udp6 report"
	sleep 0.5

	check_udp "$XH_TMP/udp4-$mode.json" "$t_del" udp4
	check_udp "$XH_TMP/udp6-$mode.json" "$t_del" udp6
	check_tcp "$XH_TMP/tcp-$mode.json"

	check_dump "$dir"
	check_chain "$dir"

	log "detach"
	local ifindex n
	ifindex=$(ifindex_of s s0)
	xdpha detach s0 || die detach
	[ ! -e "$dir" ] || die "detach left $dir: $(ls "$dir")"
	ns s ip link show s0 | grep -q 'xdp' && die "detach: s0 still has XDP"
	# (bpftool prints nothing at all when there is no link)
	n=$(bpftool -j link show | jq -s "[.[][]? | select(.type == \"xdp\" and .ifindex == $ifindex)] | length")
	[ "$n" = 0 ] || die "detach: an XDP link remains: $(bpftool -j link show)"
	bpftool -j prog show | jq -e "[.[] | select(.id == $prog1)] | length == 0" \
		>/dev/null || die "detach: program $prog1 still loaded"
	log "mode $mode: OK"
}

# UDP: no flow changed responder before the removal; losses only on flows
# that the removed backend (b2) answered.
check_udp() {
	local f=$1 t_del=$2 what=$3 early bad
	jq -e '.sent > 0 and .echoed > 0' "$f" >/dev/null ||
		die "$what: no traffic: $(jq -c '{sent, echoed, lost}' "$f")"
	early=$(jq "[.flows[].switches[] | select(.at_ms < $t_del)] | length" "$f")
	[ "$early" = 0 ] || die "$what: $early flows moved before the removal: $(jq -c '[.flows[].switches[]]' "$f")"
	bad=$(jq '[.flows[] | select((.responders | has("b2") | not) and .lost > 0)] | length' "$f")
	[ "$bad" = 0 ] || die "$what: $bad flows not on b2 lost datagrams: $(jq -c '[.flows[] | select(.lost > 0) | {responders, lost, outages: [.outages[] | select(.lost > 0)]}]' "$f")"
	log "$what: $(jq -c '{sent, echoed, lost, max_gap_ms, responders}' "$f")"
}

# TCP: all opened; the broken ones were all on b2; the rest alive.
check_tcp() {
	local f=$1 on_b2
	jq -e '.opened == 40 and .failed_to_open == 0' "$f" >/dev/null ||
		die "tcp: not all connections opened: $(jq -c '{opened, failed_to_open}' "$f")"
	jq -e '[.broken_list[] | select(.backend != "b2")] | length == 0' "$f" >/dev/null ||
		die "tcp: connections broken on live backends: $(jq -c .broken_list "$f")"
	on_b2=$(jq '.backends.b2 // 0' "$f")
	jq -e ".alive == 40 - $on_b2" "$f" >/dev/null ||
		die "tcp: $(jq .alive "$f") alive, expected 40 - $on_b2 (on b2)"
	log "tcp: $(jq -c '{opened, broken, alive, backends}' "$f")"
}

# Every pinned map dumps with named fields (an empty one must at least
# carry BTF, which is what names the fields).
check_dump() {
	local dir=$1 m n
	for m in xh_vips_v1 xh_services_v1 xh_backends_v1 xh_svc_bk_v1 \
		 xh_flows_v1 xh_flown_v1 xh_stats xh_svc_stats xh_bk_stats \
		 xh_bfd_v1 xh_ifaces_v1; do
		n=$(bpftool -j map dump pinned "$dir/$m" | jq length)
		if [ "$n" -gt 0 ]; then
			bpftool -j map dump pinned "$dir/$m" |
				jq -e '.[0].formatted | (.value // .values) | type == "object" or type == "array"' \
				>/dev/null || die "bpftool map dump $m: no named fields"
		else
			bpftool -j map show pinned "$dir/$m" | jq -e '.btf_id > 0' \
				>/dev/null || die "map $m has no BTF"
		fi
	done
	bpftool map dump pinned "$dir/xh_backends_v1" | grep -q '"last_seen_ns"' ||
		die "bpftool: xh_backends_v1 without field names"
	bpftool map dump pinned "$dir/xh_vips_v1" | grep -q '"svc_id"' ||
		die "bpftool: xh_vips_v1 without field names"
}

pass_total() {
	xdpha stats --json | jq '[.counters | to_entries[] | select(.key|startswith("pass_")) | .value.packets] | add'
}

chain_seen() {
	local id map
	id=$(bpftool -j prog show pinned "$1/chain_prog" | jq .id)
	map=$(bpftool -j prog show id "$id" | jq '.map_ids[0]')
	bpftool -j map dump id "$map" | jq '[.[0].formatted.values[].value] | add'
}

# The chain slot sees exactly what xdpha passes: pass - seen stays
# constant, read in a window where no packet arrived (pass equal before
# and after reading the chained program's counter).
snapshot() {
	local a b s i
	for i in $(seq 1 50); do
		a=$(pass_total); s=$(chain_seen "$1"); b=$(pass_total)
		[ "$a" = "$b" ] && { echo $((a - s)); return 0; }
	done
	return 1
}

check_chain() {
	local dir=$1 d0 d1 s0 s1
	xdpha chain s0 "$BUILD/xh_pass_count.bpf.o" xt_pass_count >/dev/null ||
		die "chain"
	d0=$(snapshot "$dir") || die "chain: no quiet window"
	s0=$(chain_seen "$dir")
	ns c ping -c 30 -i 0.01 -q $NET4.2 >/dev/null		# to the node itself
	ns c ping -6 -c 20 -i 0.01 -q $NET6::2 >/dev/null
	d1=$(snapshot "$dir") || die "chain: no quiet window"
	s1=$(chain_seen "$dir")
	[ $((s1 - s0)) -ge 50 ] || die "chain: the chained program saw $((s1 - s0)) packets, expected >= 50 (the pings)"
	[ "$d0" = "$d1" ] || die "chain: passed and chained differ by $((d1 - d0)) packets"
	xdpha status --json | jq -e '.devices[0].chain.prog_name == "xt_pass_count"' >/dev/null ||
		die "chain: status does not show the chained program"
	xdpha chain s0 --remove || die "chain --remove"
	[ ! -e "$dir/chain_prog" ] || die "chain --remove left the pin"
	log "chain: $((s1 - s0)) packets seen, all passed by xdpha"
}

topo_init "xhl$$"
for mode in native generic; do
	XH_P="xhl$$${mode:0:1}-"
	run_mode "$mode"
	topo_teardown
done
log "PASS"
exit 0
