#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# lib_failover.sh - "kill the active, measure the client's outage", sourced
# by the failover benchmarks after scripts/topo.sh, on a topology they
# have already built and a service they have already started.
#
# One trial: a UDP stream (xh-traffic udp-client, 1 flow, FO_RATE pps, so
# 1 ms resolution at 1000 pps) runs from the client namespace to
# FO_DST:FO_PORT; once echoes flow, the active node is killed; the outage
# is the client's echo gap (the udp-client outage window) that contains
# the moment of the kill; once echoes flow again the stream stops, the
# killed node is restored and the pair is left to settle. Repeat.
#
# The caller describes its failover pair with commands (shell functions or
# programs; they run in this shell, their stdout goes to stderr except
# FO_ACTIVE's):
#
#   FO_ACTIVE          prints the name of the active node (e.g. b1), or
#                      nothing / fails when there is none (required)
#   FO_KILL NODE       kills the active node NODE
#                      (default fo_kill_ns: SIGSTOP, then SIGKILL, of every
#                      process in namespace NODE, as a crash would)
#   FO_START NODE      starts the service on NODE (optional)
#   FO_RESTORE NODE    brings the killed NODE back (default FO_START NODE)
#   FO_STEADY          succeeds when the pair is back in steady state
#                      (default: FO_ACTIVE names a node)
#
# and tunes it with:
#
#   FO_DST, FO_PORT    service address and UDP port (required)
#   FO_CLIENT          client namespace (default c)
#   FO_RATE            datagrams per second (default 1000)
#   FO_OUTAGE_MS       echo gap that counts as an outage (default: the
#                      udp-client default, 3 send intervals)
#   FO_PRE_MS          echoes flowing before the kill (default 500)
#   FO_POST_MS         stream kept running after recovery (default 300)
#   FO_RECOVER_S       give up on a trial after this long (default 10)
#   FO_STEADY_S        wait this long at most for FO_STEADY (default 20)
#   FO_SETTLE_MS       pause after steady state, before the next trial
#                      (default 300)
#   FO_KEEP_DIR        keep the udp-client reports there (debugging)
#
# fo_run N runs N trials in this shell (not in $(...): the restore commands
# start processes the caller must be able to track) and sets
#
#   FO_MEDIAN          median outage, ms (mean of the two middle values
#                      for an even count)
#   FO_P99             99th percentile, nearest rank, ms
#   FO_TRIALS_JSON     [{"trial", "killed", "kill_ms", "start_ms",
#                      "end_ms", "outage_ms", "lost", "to", "recovered",
#                      "other_outages"}, ...]: other_outages are the
#                      durations of the other gaps after the kill
#                      (scheduling noise, or a failover that stutters)
#   FO_NFAILED         trials without recovery within FO_RECOVER_S (their
#                      outage counts as what was observed, a lower bound)
#
# and returns 0 when every trial recovered. fo_summary_json prints
# {"median_ms", "p99_ms", "trials", "failed", "list"} on stdout.
# Times in a trial are ms since that trial's stream started.

FO_PIDS=()	# udp-client of the running trial, for fo_cleanup

# ms since the epoch, to the microsecond, without a fork
fo_now_ms() {
	local t=${EPOCHREALTIME/[.,]/}
	printf '%d.%03d' $((t / 1000)) $((t % 1000))
}

# A crash of NODE: freeze every process in its namespace first, so that
# none can react to the death of another (a parent-death signal, a
# graceful shutdown advertisement), then kill them all.
fo_kill_ns() {
	local pids
	pids=$(ip netns pids "${XH_P}$1" 2>/dev/null | tr '\n' ' ')
	[ -n "${pids// /}" ] || { log "fo_kill_ns: no process in $1"; return 1; }
	# shellcheck disable=SC2086
	kill -STOP $pids 2>/dev/null
	# shellcheck disable=SC2086
	kill -KILL $pids 2>/dev/null
	return 0
}

# Kill what fo_run started (a trial interrupted by a signal).
fo_cleanup() {
	local p
	for p in "${FO_PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	FO_PIDS=()
}

# fo_progress FILE: "sent echoed last_echo_ms elapsed_ms" (-1: no echo yet)
fo_progress() {
	jq -r '"\(.sent) \(.echoed) \(.last_echo_ms // -1) \(.elapsed_ms)"' \
		"$1" 2>/dev/null
}

# fo_wait_steady: FO_STEADY (or an active node) within FO_STEADY_S.
fo_wait_steady() {
	local i n=$((${FO_STEADY_S:-20} * 20)) a
	for ((i = 0; i < n; i++)); do
		if [ -n "${FO_STEADY:-}" ]; then
			$FO_STEADY >&2 && return 0
		else
			a=$($FO_ACTIVE 2>/dev/null) && [ -n "$a" ] && return 0
		fi
		sleep 0.05
	done
	return 1
}

# fo_trial I DIR: one trial; appends its JSON object to DIR/trials.
fo_trial() {
	local i=$1 dir=$2 pid json prog active kill_abs kill_rel t0 p k rec
	local echoed last elapsed need tries
	json=$dir/trial$i.json
	prog=$dir/trial$i.progress
	rm -f "$json" "$prog"

	active=$($FO_ACTIVE 2>/dev/null) || active=
	[ -n "$active" ] || { log "trial $i: no active node"; return 2; }

	nsenter --net="/run/netns/${XH_P}${FO_CLIENT:-c}" "$TRAFFIC" udp-client \
		--dst "$FO_DST" --port "$FO_PORT" --flows 1 \
		--rate "${FO_RATE:-1000}" \
		${FO_OUTAGE_MS:+--outage-ms "$FO_OUTAGE_MS"} \
		--json "$json" --progress-file "$prog" >&2 &
	pid=$!
	FO_PIDS+=("$pid")

	# echoes flowing for FO_PRE_MS, the last one recent
	need=$(( ${FO_PRE_MS:-500} * ${FO_RATE:-1000} * 9 / 10000 ))
	for ((tries = 0; ; tries++)); do
		if ((tries > 200)); then
			log "trial $i: no echoes from $FO_DST:$FO_PORT (active $active)"
			fo_cleanup
			return 2
		fi
		sleep 0.05
		p=$(fo_progress "$prog") || continue
		read -r _ echoed last elapsed <<<"$p"
		# the stream's start on the wall clock, from when the progress
		# file was written (its mtime) and the elapsed time it holds
		t0=$(awk -v m="$(stat -c %.6Y "$prog")" -v t="$elapsed" \
			'BEGIN { printf "%.3f", m * 1000 - t }')
		[ "$last" != -1 ] || continue
		awk -v e="$echoed" -v n="$need" -v l="$last" -v t="$elapsed" \
			'BEGIN { exit !(e >= n && t - l < 50) }' && break
	done

	kill_abs=$(fo_now_ms)
	${FO_KILL:-fo_kill_ns} "$active" >&2 || log "trial $i: kill $active failed"

	# recovered: echoes flowing again at least 100 ms after the kill
	k=$(awk -v a="$kill_abs" -v t="$t0" 'BEGIN { printf "%.3f", a - t }')
	rec=false
	for ((tries = 0; tries < ${FO_RECOVER_S:-10} * 20; tries++)); do
		sleep 0.05
		p=$(fo_progress "$prog") || continue
		read -r _ echoed last elapsed <<<"$p"
		if awk -v k="$k" -v l="$last" -v t="$elapsed" \
			'BEGIN { exit !(t - k >= 100 && l > k && t - l < 20) }'; then
			rec=true
			break
		fi
	done
	$rec || log "trial $i: no recovery within ${FO_RECOVER_S:-10} s"
	$rec && sleep "$(awk -v m="${FO_POST_MS:-300}" 'BEGIN { print m / 1000 }')"
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	FO_PIDS=()
	[ -s "$json" ] || { log "trial $i: no report"; return 2; }

	# the outage window of the kill: the longest one that ends after it
	# and starts no later than 100 ms after it (the kill takes a moment
	# to land; a window starts at the last echo before the gap). A short
	# scheduling gap can come just before the real one: longest, not first.
	t0=$(json "$json" '.start_unix_ms') || return 2
	kill_rel=$(awk -v a="$kill_abs" -v t="$t0" 'BEGIN { printf "%.3f", a - t }')
	jq -c --argjson i "$i" --arg node "$active" --argjson k "$kill_rel" \
		--argjson rec "$rec" '
		.flows[0] as $f
		| ([$f.outages[] | select(.end_ms >= $k and .start_ms <= $k + 100)]
		   | max_by(.duration_ms)) as $o
		| {trial: $i, killed: $node, kill_ms: $k,
		   start_ms: ($o.start_ms // null), end_ms: ($o.end_ms // null),
		   outage_ms: ($o.duration_ms // 0), lost: ($o.lost // 0),
		   to: ([$f.switches[] | select(.at_ms >= $k) | .to] | first),
		   recovered: ($rec and (($o.open // false) | not)),
		   other_outages: [$f.outages[]
			| select($o != null and .end_ms >= $k
				 and .start_ms != $o.start_ms)
			| .duration_ms]}' "$json" >>"$dir/trials" || return 2
	return 0
}

# fo_run N: N trials; see the header for inputs and outputs.
fo_run() {
	local n=$1 i dir rc=0 r t
	if [ -z "${FO_ACTIVE:-}" ] || [ -z "${FO_DST:-}" ] || [ -z "${FO_PORT:-}" ]; then
		log "fo_run: FO_ACTIVE, FO_DST and FO_PORT are required"
		return 2
	fi
	dir=$(mktemp -d "${XH_TMP:-/tmp}/fo.XXXX")
	: >"$dir/trials"
	FO_MEDIAN=null FO_P99=null FO_TRIALS_JSON='[]' FO_NFAILED=0
	fo_wait_steady || { log "fo_run: never steady before trial 1"; return 2; }

	for ((i = 1; i <= n; i++)); do
		fo_trial "$i" "$dir"
		r=$?
		((r == 2)) && { rc=2; break; }
		t=$(tail -n1 "$dir/trials")
		log "trial $i/$n: killed $(jq -r .killed <<<"$t")," \
			"outage $(jq -r .outage_ms <<<"$t") ms" \
			"(lost $(jq -r .lost <<<"$t"), now $(jq -r '.to // "?"' <<<"$t")," \
			"recovered $(jq -r .recovered <<<"$t"))"
		# restore the killed node, back to steady state
		${FO_RESTORE:-${FO_START:?fo_run: FO_RESTORE or FO_START needed}} \
			"$(jq -r .killed <<<"$t")" >&2 ||
			{ log "trial $i: restore failed"; rc=2; break; }
		fo_wait_steady ||
			{ log "trial $i: not steady after restore"; rc=2; break; }
		sleep "$(awk -v m="${FO_SETTLE_MS:-300}" 'BEGIN { print m / 1000 }')"
	done

	[ -n "${FO_KEEP_DIR:-}" ] && mkdir -p "$FO_KEEP_DIR" &&
		cp "$dir"/* "$FO_KEEP_DIR"/
	FO_TRIALS_JSON=$(jq -sc . "$dir/trials")
	FO_NFAILED=$(jq '[.[] | select(.recovered | not)] | length' <<<"$FO_TRIALS_JSON")
	if [ "$(jq length <<<"$FO_TRIALS_JSON")" -gt 0 ]; then
		FO_MEDIAN=$(jq '[.[].outage_ms] | sort | length as $n
			| if $n % 2 == 1 then .[($n - 1) / 2]
			  else (.[$n / 2 - 1] + .[$n / 2]) / 2 end
			| . * 1000 | round / 1000' <<<"$FO_TRIALS_JSON")
		FO_P99=$(jq '[.[].outage_ms] | sort | length as $n
			| .[(($n * 99 + 99) / 100 | floor) - 1]' <<<"$FO_TRIALS_JSON")
	fi
	((rc == 0 && FO_NFAILED > 0)) && rc=1
	return $rc
}

fo_summary_json() {
	jq -cn --argjson m "$FO_MEDIAN" --argjson p "$FO_P99" \
		--argjson l "$FO_TRIALS_JSON" --argjson f "$FO_NFAILED" \
		'{median_ms: $m, p99_ms: $p, trials: ($l | length), failed: $f,
		  list: $l}'
}

# fo_keepalived_baseline NAME: run bench/keepalived_failover.sh (TRIALS
# trials) alone on the machine, its result stored as NAME; sets KA_JSON
# (the entry, or {value: null, error} on failure or with KEEPALIVED=0),
# KA_MEDIAN (a number or null) and KA_ERR (why there is none).
fo_keepalived_baseline() {
	local name=$1 out rc
	KA_JSON=null KA_MEDIAN=null KA_ERR=
	if [ "${KEEPALIVED:-1}" != 1 ]; then
		KA_ERR="skipped (KEEPALIVED=0)"
	else
		log "baseline: bench/keepalived_failover.sh as $name ($TRIALS trials)"
		out=$(NAME=$name TRIALS=$TRIALS BUILD=$BUILD \
			bash "$XH_ROOT/bench/keepalived_failover.sh")
		rc=$?
		if KA_JSON=$(jq -ec --arg n "$name" '.[$n] // empty' <<<"$out" 2>/dev/null) &&
			((rc == 0)) &&
			KA_MEDIAN=$(jq -e '.value | numbers' <<<"$KA_JSON"); then
			return 0
		fi
		KA_ERR=$(jq -r --arg n "$name" '.[$n].error // empty' <<<"$out" 2>/dev/null)
		KA_ERR=${KA_ERR:-keepalived_failover.sh exited $rc without a result}
		log "baseline failed: $KA_ERR"
	fi
	KA_JSON=$(jq -cn --arg e "$KA_ERR" \
		'{value: null, unit: "ms", error: $e, baseline: null, ratio: null}')
	KA_MEDIAN=null
}

# The steady run's load (false failovers are counted under it): a busy
# loop per CPU, in sw, and a udp-client of LOAD_FLOWS flows x LOAD_RATE pps
# from c to VIP4:PORT for DURATION s, its report in $XH_TMP/steady.json.
# fo_load_describe sets LOAD, the text for logs and results; fo_load_run
# runs it to the end and reaps everything it started.
fo_load_describe() {
	LOAD="$(nproc) busy loops (sh, nice 0) + udp-client $LOAD_FLOWS flows x $LOAD_RATE pps through the VIP"
}

fo_load_run() {
	local busy=() i cl
	for ((i = 0; i < $(nproc); i++)); do
		ns_bg sw nice -n 0 sh -c 'while :; do :; done'
		busy+=($!)
	done
	ns_bg c "$TRAFFIC" udp-client --dst "$VIP4" --port "$PORT" \
		--flows "$LOAD_FLOWS" --rate "$LOAD_RATE" --duration "$DURATION" \
		--json "$XH_TMP/steady.json" 2>>"$XH_TMP/steady.log"
	cl=$!
	wait "$cl"
	kill -KILL "${busy[@]}" 2>/dev/null
	wait "${busy[@]}" 2>/dev/null
	forget_pids "${busy[@]}" "$cl"
}
