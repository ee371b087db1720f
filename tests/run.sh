#!/bin/sh
# tests/run.sh - runs every unit test (cmocka) and integration script, each
# under a timeout, and ends with one line: "N passed, N failed, N skipped".
#
#   BUILD=build sh tests/run.sh [FILTER]
#
# Unit tests count their cmocka cases.  Integration scripts print one line
# per check: "ok - what", "not ok - what" or "skip - what: why"; a script
# that exits non-zero without saying "not ok" counts as one failure.
set -u
BUILD=${BUILD:-build}
FILTER=${1:-}
UNIT_TIMEOUT=${UNIT_TIMEOUT:-300}
INTEG_TIMEOUT=${INTEG_TIMEOUT:-600}
export BUILD
passed=0
failed=0
skipped=0
failures=""
log_dir=$(mktemp -d "${TMPDIR:-/tmp}/vnet-tests.XXXXXX")

# Fresh, private run directory for everything the integration tests start.
export VNET_TEST_LOGS="$log_dir"

note_fail() { failures="$failures
  $1"; }

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	case "$name" in *"$FILTER"*) ;; *) continue ;; esac
	out="$log_dir/$name.log"
	timeout -k 5 "$UNIT_TIMEOUT" "$t" >"$out" 2>&1
	rc=$?
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out" | awk '{s+=$1} END {print s+0}')
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out" | awk '{s+=$1} END {print s+0}')
	s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$out" | awk '{s+=$1} END {print s+0}')
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
	if [ "$f" -ne 0 ]; then
		echo "FAIL unit $name (exit $rc, $f failed); log:"
		sed 's/^/    /' "$out" | tail -40
		note_fail "unit $name"
	else
		echo "pass unit $name ($p cases)"
	fi
done

for t in tests/integration/test_*.sh; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .sh)
	case "$name" in *"$FILTER"*) ;; *) continue ;; esac
	out="$log_dir/$name.log"
	timeout -k 10 "$INTEG_TIMEOUT" sh "$t" >"$out" 2>&1
	rc=$?
	p=$(grep -c '^ok - ' "$out")
	f=$(grep -c '^not ok - ' "$out")
	s=$(grep -c '^skip - ' "$out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $name exited $rc" >>"$out"
	fi
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
	grep -E '^(ok|not ok|skip) - ' "$out" | sed "s/^/  [$name] /"
	if [ "$f" -ne 0 ]; then
		# The checks that passed are listed above: what is left is
		# the failures and what the script printed to explain them
		# (e.g. it_show_logs), which may come before later checks.
		echo "FAIL integration $name (exit $rc); its output but the checks that passed:"
		grep -v '^ok - ' "$out" | tail -200 | sed 's/^/    /'
		note_fail "integration $name"
	fi
done

if [ -n "$failures" ]; then
	echo "failed:$failures"
fi
echo "logs: $log_dir"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
