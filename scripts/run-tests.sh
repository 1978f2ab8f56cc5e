#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# run-tests.sh - run every test suite and print the one closing line
# "N passed, N failed[, N skipped]" that make test ends with.
#
# Suites: build/selftests/test_progs (BPF through BPF_PROG_TEST_RUN, each
# subtest one result), build/selftests/unit/test_* (cmocka, each test one
# result), selftests/net/*.sh (namespaces and real traffic, each script one
# result; exit 0 pass, 4 skip, else fail). Outside CI a suite that cannot
# get root skips; with CI set it fails.
set -u
BUILD=${BUILD:-build}
RES=$BUILD/results
rm -rf "$RES"
mkdir -p "$RES"
passed=0 failed=0 skipped=0

add() { passed=$((passed + $1)); failed=$((failed + $2)); skipped=$((skipped + $3)); }

echo "== test_progs (BPF programs through BPF_PROG_TEST_RUN)"
timeout 600 "$BUILD/selftests/test_progs" -c "$RES/test_progs.counts"
rc=$?
if [ -s "$RES/test_progs.counts" ]; then
	# passed=P failed=F skipped=S
	eval "$(tr ' ' '\n' < "$RES/test_progs.counts" | sed 's/^/tp_/')"
	add "${tp_passed:-0}" "${tp_failed:-0}" "${tp_skipped:-0}"
	[ "$rc" -ne 0 ] && [ "${tp_failed:-0}" -eq 0 ] && add 0 1 0
else
	echo "test_progs: exited $rc without counts" >&2
	add 0 1 0
fi

for t in "$BUILD"/selftests/unit/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	echo "== $name (cmocka)"
	out=$(timeout 300 "$t" 2>&1)
	rc=$?
	echo "$out"
	p=$(echo "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {print s+0}')
	f=$(echo "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {print s+0}')
	s=$(echo "$out" | sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {print s+0}')
	add "$p" "$f" "$s"
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "$name: exited $rc" >&2
		add 0 1 0
	fi
done

for t in selftests/net/*.sh; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .sh)
	echo "== net/$name"
	BUILD=$BUILD timeout 900 bash "$t"
	rc=$?
	case $rc in
	0) echo "net/$name: PASS"; add 1 0 0 ;;
	4) echo "net/$name: SKIP"; add 0 0 1 ;;
	*) echo "net/$name: FAIL (exit $rc)"; add 0 1 0 ;;
	esac
done

line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
[ "$failed" -eq 0 ]
