#!/bin/sh
# Guests come and go: a guest that exits mid-stream, a new guest attaching
# afterwards, and a second guest refused while one is attached.
set -u
. "$(dirname "$0")/lib.sh"
it_setup
MAC_A=52:54:00:00:02:0a
MAC_B=52:54:00:00:02:0b
start_host vm1 a mac $MAC_A peer "$(node vm2 b)"
start_host vm2 b mac $MAC_B peer "$(node vm1 a)"
wait_log host_vm1 "link up" 5 || notok "link did not come up"

# A receiving guest killed mid-stream: the sender is not blocked.
it_bg recv1 "$GUEST" --socket "$(sock vm2 b)" recv --timeout 10
sleep 0.3
it_bg send1 "$GUEST" --socket "$(sock vm1 a)" send --seconds 2 --size 512 $MAC_B
sleep 0.7
kill -KILL "$PID_recv1"
wait "$PID_send1"
rc=$?
if [ $rc -eq 0 ]; then ok "sender finishes although its receiver was killed mid-stream"; else notok "sender exit $rc: $(cat "$RUN/send1.log")"; fi
wait_log host_vm2 "detached" 5 && ok "vm2 saw its guest go away" || notok "no detach logged: $(tail -5 "$RUN/host_vm2.log")"

# A sending guest killed mid-stream, then new guests on both sides work.
it_bg send2 "$GUEST" --socket "$(sock vm1 a)" send --seconds 5 --size 256 $MAC_B
sleep 0.5
kill -KILL "$PID_send2"
sleep 0.3
it_bg pong "$GUEST" --socket "$(sock vm2 b)" pong --count 100 --timeout 20
sleep 0.3
"$GUEST" --socket "$(sock vm1 a)" ping --count 100 --timeout 20 $MAC_B >"$RUN/ping" 2>&1
rc=$?
if [ $rc -eq 0 ] && [ "$(field "$RUN/ping" lost)" = 0 ]; then
	ok "new guests attach after guests were killed, and ping works"
else
	notok "ping after re-attach: exit $rc: $(cat "$RUN/ping")"
fi

# While pong is attached, a second guest is refused clearly.
it_bg pong2 "$GUEST" --socket "$(sock vm2 b)" pong --timeout 5
sleep 0.5
"$GUEST" --socket "$(sock vm2 b)" info >"$RUN/busy" 2>&1
rc=$?
if [ $rc -ne 0 ] && grep -qi "busy" "$RUN/busy"; then
	ok "a second guest on a device in use is refused ($(head -n 1 "$RUN/busy"))"
else
	notok "second guest: exit $rc: $(cat "$RUN/busy")"
fi
check "the first guest is still attached" kill -0 "$PID_pong2"
it_stop_pid "$PID_pong2"
it_stop_pid "$PID_host_vm1"
it_stop_pid "$PID_host_vm2"
it_check_clean "after guests came and went"
exit $IT_FAILED
