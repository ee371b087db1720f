#!/bin/sh
# test_ring2proc.sh - the split and the packed virtqueue across two processes
# (tests/progs/ring2proc.c): driver in the parent, device in a forked child,
# ring and buffers in a memfd mapped at different addresses, eventfd
# doorbells both ways.  Each run must bring every frame back with correct
# content; the notifications-per-frame figure is printed with the result,
# and must show that suppression works (far below one per frame).
#
#   BUILD=build sh tests/integration/test_ring2proc.sh
set -u
BUILD=${BUILD:-build}
BIN="$BUILD/tests/ring2proc"
FRAMES=${RING2PROC_FRAMES:-1000000}
# Notifications (kicks + interrupts) per frame above this mean suppression
# is not working: without it every frame would cost at least one.
MAX_NOTIFY=0.5
SUMMARY=""

if [ ! -x "$BIN" ]; then
	echo "not ok - ring2proc: $BIN is not built (run make)"
	exit 1
fi

# field NAME LINE: the value after NAME on the result line.
field() {
	printf '%s\n' "$2" | awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }'
}

run() {
	what=$1
	shift
	out=$(timeout -k 5 150 "$BIN" "$@" 2>&1)
	rc=$?
	line=$(printf '%s\n' "$out" | grep '^frames ')
	frames=$(field frames "$line")
	mfps=$(field Mframes/s "$line")
	kicks=$(field kicks/frame "$line")
	irqs=$(field interrupts/frame "$line")
	notes=$(field notifications/frame "$line")
	if [ "$rc" -eq 0 ] && printf '%s\n' "$out" | grep -q '^PASS$'; then
		echo "ok - ring2proc $what: $frames frames intact, $mfps Mframes/s, notifications/frame $notes (kicks $kicks, interrupts $irqs)"
		SUMMARY="$SUMMARY
# $(printf '%-48s' "$what") notifications/frame $notes  Mframes/s $mfps"
	else
		echo "not ok - ring2proc $what: exit $rc"
		printf '%s\n' "$out" | sed 's/^/# /'
		return
	fi
	if [ -n "$notes" ] && awk -v n="$notes" -v m="$MAX_NOTIFY" 'BEGIN { exit !(n < m) }'; then
		echo "ok - ring2proc $what: notifications suppressed ($notes per frame < $MAX_NOTIFY)"
	else
		echo "not ok - ring2proc $what: notifications/frame '$notes' not below $MAX_NOTIFY"
	fi
}

run "event-idx" --frames "$FRAMES" --event-idx
run "no-event-idx" --frames "$FRAMES" --no-event-idx
run "indirect, event-idx" --frames "$FRAMES" --indirect --event-idx
# Without the busy-poll every idle moment is a sleep on an eventfd, so
# these exercise the re-enable/re-check/sleep protocol on both sides.
run "event-idx, sleep only" --frames "$FRAMES" --event-idx --spin 0
run "no-event-idx, sleep only" --frames "$FRAMES" --no-event-idx --spin 0
# A small ring with odd-sized frames: many wake-ups and index wraps.
run "qsize 16, indirect, 1001-byte frames, sleep only" --frames 100000 \
	--qsize 16 --indirect --size 1001 --spin 0

# The packed ring (2.8): suppression through the event structures, DESC
# mode with EVENT_IDX, ENABLE/DISABLE without.
run "packed, event-idx" --packed --frames "$FRAMES" --event-idx
run "packed, no-event-idx" --packed --frames "$FRAMES" --no-event-idx
run "packed, indirect, event-idx" --packed --frames "$FRAMES" --indirect --event-idx
# A queue size that is no power of two, sleeping on every idle moment,
# and a tiny ring where 3-slot chains straddle the end on most laps.
run "packed, qsize 255, event-idx, sleep only" --packed --frames "$FRAMES" \
	--qsize 255 --event-idx --spin 0
run "packed, qsize 7, indirect, 1001-byte frames, sleep only" --packed \
	--frames 100000 --qsize 7 --indirect --size 1001 --spin 0

echo "# notifications per frame (kicks + interrupts), split vs packed:$SUMMARY"
exit 0
