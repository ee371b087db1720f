#!/bin/sh
# The dirty-page log (vfio-user DMA_LOGGING, what a VMM migrating a
# running guest copies again) is complete: a receiving guest logs its RAM
# while the peer streams frames in and keeps its own hands off, then
# compares the device's report with a diff of the RAM (tests/progs/
# dirty_check.c): every page the device changed must be reported.  Split
# and packed rings.
set -u
. "$(dirname "$0")/lib.sh"
it_setup

DIRTY="$BUILD/tests/dirty_check"
for layout in split packed; do
	opt=$([ $layout = packed ] && echo --packed)
	start_host vm1 a peer "$(node vm2 b)"
	start_host vm2 b peer "$(node vm1 a)"
	# shellcheck disable=SC2086
	it_bg dirty "$DIRTY" --socket "$(sock vm2 b)" $opt
	if ! wait_log dirty "^ready" 10; then
		notok "$layout: dirty_check did not start: $(cat "$RUN/dirty.log")"
		continue
	fi
	# Fewer frames than the receiver posted buffers: it never reposts.
	# shellcheck disable=SC2086
	"$GUEST" --socket "$(sock vm1 a)" $opt send --count 200 --size 1000 52:54:00:00:00:00 >"$RUN/snd.log" 2>&1
	wait "$PID_dirty"
	rc=$?
	d=$(field "$RUN/dirty.log" diff_pages)
	if [ $rc -eq 0 ] && [ "$(field "$RUN/dirty.log" missing)" = 0 ]; then
		ok "$layout: the log reported every page the device wrote ($d pages changed; $(field "$RUN/dirty.log" reported_pages) reported, $(field "$RUN/dirty.log" extra) beyond them)"
	else
		notok "$layout: dirty_check exit $rc: $(tr '\n' ' ' <"$RUN/dirty.log") send: $(tr '\n' ' ' <"$RUN/snd.log")"
	fi
	it_stop_pid "$PID_host_vm1"
	it_stop_pid "$PID_host_vm2"
done
it_check_clean "dirty log"
