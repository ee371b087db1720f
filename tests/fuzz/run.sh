#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/fuzz/run.sh MODE BIN... - runs libFuzzer targets (make fuzz, make
# fuzz-smoke; README "Fuzzing").
#
#   fuzz   each target for FUZZ_SECONDS over its working corpus
#          $FUZZ_BUILD/corpus/<target>/ (seeded with a copy of the
#          repository's tests/fuzz/corpus/<target>/, which is never written)
#   smoke  first replays every committed input of tests/fuzz/corpus/<target>/
#          once (-runs=0), then fuzzes as above
#
# One fuzzer process at a time.  Prints one line per target: seconds,
# executions, final coverage (cov: and ft: of libFuzzer's last status
# line) and crashes; crash inputs go to $FUZZ_BUILD/crashes/<target>/, the
# whole output to $FUZZ_BUILD/logs/<target>.log.  Exits non-zero if any
# target crashed (or its replay failed).
set -u
mode=${1:?usage: run.sh fuzz|smoke BIN...}
shift
B=${FUZZ_BUILD:-build-fuzz}
S=${FUZZ_SECONDS:-60}
RSS=${FUZZ_RSS_MB:-1024}
fail=0

printf '%-14s %6s %12s %6s %7s %s\n' target seconds execs cov ft crashes
for bin in "$@"; do
	name=$(basename "$bin")
	t=${name#fuzz_}
	seeds=tests/fuzz/corpus/$t
	work=$B/corpus/$t
	crashes=$B/crashes/$t
	log=$B/logs/$t.log
	mkdir -p "$work" "$crashes" "$B/logs"
	[ -d "$seeds" ] && cp -n "$seeds"/* "$work"/ 2>/dev/null
	dict=
	for d in tests/fuzz/*.dict; do
		[ -e "$d" ] || continue
		case $t in "$(basename "$d" .dict)"*) dict=-dict=$d ;; esac
	done
	opts="-rss_limit_mb=$RSS -timeout=10 -artifact_prefix=$crashes/ -print_final_stats=1"
	before=$(ls "$crashes" | wc -l)
	: >"$log"
	if [ "$mode" = smoke ] && [ -d "$seeds" ]; then
		if ! "$bin" $opts -runs=0 "$seeds" >>"$log" 2>&1 </dev/null; then
			echo "$t: replaying $seeds FAILED (see $log):"
			tail -n 40 "$log"
			fail=1
			continue
		fi
	fi
	# stdin from /dev/null: an input naming /dev/stdin must not block.
	"$bin" $opts $dict -max_total_time="$S" "$work" >>"$log" 2>&1 </dev/null
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	found=$(($(ls "$crashes" | wc -l) - before))
	printf '%-14s %6s %12s %6s %7s %s\n' "$t" "$S" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$found"
	if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ]; then
		echo "$t: CRASHED (exit $rc); inputs in $crashes/, output in $log:"
		grep -E 'ERROR|SUMMARY|invariant|runtime error' "$log" | head -n 10
		fail=1
	fi
done
exit $fail
