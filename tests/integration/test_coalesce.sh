#!/bin/sh
# Interrupt coalescing (NOTF_COAL, VQ_NOTF_COAL; virtio 5.1.6.5.6): the
# guest sets it through the control queue, the device reports it back
# (VQ_GET) and forgets it at reset, and a held interrupt still arrives
# (by its timer) so a ping-pong loses nothing.  A legacy device has no
# such feature and the tool says so.
set -u
. "$(dirname "$0")/lib.sh"
it_setup
MAC_A=52:54:00:00:07:0a
MAC_B=52:54:00:00:07:0b

start_host vm1 a mac $MAC_A peer "$(node vm2 b)"
start_host vm2 b mac $MAC_B peer "$(node vm1 a)"
if wait_log host_vm1 "link up" 5 && wait_log host_vm2 "link up" 5; then
	ok "the pair is up"
else
	notok "the pair did not come up: $(cat "$RUN/host_vm1.log" "$RUN/host_vm2.log")"
	exit 1
fi

"$GUEST" --socket "$(sock vm2 b)" --coalesce-rx 16,3000 --coalesce-tx 32,500 info >"$RUN/info" 2>&1
if [ "$(field "$RUN/info" coalesce_rx_frames)" = 16 ] && [ "$(field "$RUN/info" coalesce_rx_usecs)" = 3000 ] &&
   [ "$(field "$RUN/info" coalesce_tx_frames)" = 32 ] && [ "$(field "$RUN/info" coalesce_tx_usecs)" = 500 ]; then
	ok "the device reports the coalescing the guest set (rx 16 frames / 3000 us, tx 32 / 500)"
else
	notok "coalescing as reported: $(grep coalesce "$RUN/info")"
fi
# The guest closed (the device was reset): 5.1.6.5.6 says back to none.
"$GUEST" --socket "$(sock vm2 b)" info >"$RUN/info" 2>&1
if [ "$(field "$RUN/info" coalesce_rx_frames)" = 0 ] && [ "$(field "$RUN/info" coalesce_tx_usecs)" = 0 ]; then
	ok "a device reset sets coalescing back to none"
else
	notok "after reset: $(grep coalesce "$RUN/info")"
fi

# rx_coalesced: vdev b's receive interrupts held so far.
rx_coalesced() {
	"$HOST" stats --system vm2 | sed -n 's/^b: .*; rx: .* irqs_coalesced \([0-9]*\);.*/\1/p'
}

# One ping at a time (--window 1): each is a single used buffer, far
# below the 8 frames the receiver asks for, so its interrupt is held and
# only the timer (2 ms) sends it.  Every ping must still be answered,
# and most of the receiver's interrupts must have been held (the guest
# sleeps on them between pings).
c0=$(rx_coalesced)
it_bg pong "$GUEST" --socket "$(sock vm2 b)" --coalesce-rx 8,2000 pong --count 100 --timeout 20
sleep 0.3
"$GUEST" --socket "$(sock vm1 a)" ping --count 100 --window 1 --timeout 20 $MAC_B >"$RUN/ping" 2>&1
prc=$?
wait "$PID_pong"
c1=$(rx_coalesced)
if [ $prc -eq 0 ] && [ "$(field "$RUN/ping" received)" = 100 ] && [ "$((${c1:-0} - ${c0:-0}))" -ge 50 ]; then
	ok "100 pings answered while the receiver's interrupts were held and sent by their timer ($((c1 - c0)) held)"
else
	notok "ping exit $prc, held before ${c0:-?} after ${c1:-?}: $(cat "$RUN/ping")"
fi
# Without coalescing nothing is held.
it_bg pong "$GUEST" --socket "$(sock vm2 b)" pong --count 50 --timeout 20
sleep 0.3
"$GUEST" --socket "$(sock vm1 a)" ping --count 50 --window 1 --timeout 20 $MAC_B >"$RUN/ping" 2>&1
prc=$?
wait "$PID_pong"
c2=$(rx_coalesced)
if [ $prc -eq 0 ] && [ "$c2" = "$c1" ]; then
	ok "without coalescing no interrupt is held"
else
	notok "ping exit $prc, held ${c1:-?} -> ${c2:-?}"
fi

it_stop_pid "$PID_host_vm1"
it_stop_pid "$PID_host_vm2"

# A legacy device offers no NOTF_COAL (bit 53 is beyond 0.9.5's 32).
start_host vm3 c legacy
"$GUEST" --socket "$(sock vm3 c)" --coalesce-rx 8,100 info >"$RUN/legacy" 2>&1
rc=$?
if [ $rc -ne 0 ] && grep -q "offers no NOTF_COAL" "$RUN/legacy"; then
	ok "on a legacy device --coalesce-rx fails with a clear error"
else
	notok "legacy: exit $rc: $(cat "$RUN/legacy")"
fi
it_stop_pid "$PID_host_vm3"
it_check_clean "after the coalescing tests"
exit $IT_FAILED
