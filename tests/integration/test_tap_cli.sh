#!/bin/sh
# TAP endpoints refuse what cannot work, at start, with the step and
# libnl's (or the kernel's) own message, and leave nothing behind: no
# interface, no socket, no /dev/shm file.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tap_lib.sh"
tap_setup "tap cli"
T="vpc$TAP_ID"

refused() { # what pattern cmd...
	what=$1; pat=$2; shift 2
	# Bounded: a command that wrongly starts must not hang the test.
	timeout -s INT 10 "$@" >"$RUN/out" 2>&1
	rc=$?
	if [ $rc -ne 0 ] && grep -q -- "$pat" "$RUN/out" && ! ip link show "$T" >/dev/null 2>&1; then
		ok "$what: refused (exit $rc): $(grep -- "$pat" "$RUN/out" | head -n 1)"
	else
		notok "$what: exit $rc: $(cat "$RUN/out")"
	fi
}

refused "missing namespace" "netns vnt-none-$TAP_ID: cannot open /run/netns/vnt-none-$TAP_ID: No such file or directory (create it with 'ip netns add')" \
	"$HOST" --system c vdev tap ifname "$T" netns "vnt-none-$TAP_ID"
refused "MTU the TAP cannot take (libnl's message)" "$T: set MTU 65535: Invalid input data or parameter" \
	"$HOST" --system c vdev tap ifname "$T" mtu 65535
refused "the same address twice (libnl's message)" "add address 10.81.0.1/24: Object exists" \
	"$HOST" --system c vdev tap ifname "$T" addr 10.81.0.1/24 addr 10.81.0.1/24
refused "bad option word" "argument 8: mtu 'big' is not a number" "$HOST" --system c vdev tap ifname "$T" mtu big
refused "vnet-guest tap: bad address" "--addr 10.0.0.1: has no /PREFIX" \
	"$GUEST" --socket /nonexistent tap "$T" --addr 10.0.0.1
refused "vnet-guest tap: no interface name" "tap needs the interface name" \
	"$GUEST" --socket /nonexistent tap

# A TAP another process holds is refused, and the holder keeps it.
it_bg holder "$HOST" --system c vdev tap ifname "$T" name hold
wait_log holder "ready" 5
timeout -s INT 10 "$HOST" --system d vdev tap ifname "$T" >"$RUN/out" 2>&1
rc=$?
if [ $rc -ne 0 ] && grep -q "$T: TUNSETIFF: Device or resource busy (another process has this TAP open)" "$RUN/out" &&
   ip link show "$T" >/dev/null 2>&1; then
	ok "TAP in use: refused, the holder keeps it"
else
	notok "TAP in use: exit $rc: $(cat "$RUN/out")"
fi
it_stop_pid "$PID_holder"
check "the holder's TAP is gone after it stopped" sh -c "! ip link show $T >/dev/null 2>&1"

# Someone deletes the interface under a running vnet-host: it says so,
# stops reading the TAP (no spinning on a dead fd) and keeps serving.
fresh_logs holder
it_bg holder "$HOST" --system c vdev tap ifname "$T" name hold
wait_log holder "ready" 5
ip link del "$T"
if wait_log holder "hold: TAP $T is gone" 5 && sleep 1 && kill -0 "$PID_holder" &&
   [ "$(ps -o times= -p "$PID_holder" | tr -d ' ')" -lt 2 ]; then
	ok "TAP deleted under vnet-host: logged, not spinning, still running"
else
	notok "TAP deleted under vnet-host: $(cat "$RUN/holder.log"; ps -o times= -p "$PID_holder")"
fi
it_stop_pid "$PID_holder"

# ...and under vnet-guest tap: it stops with a message.
start_host c0 a
tap_ns "vnt-c-$TAP_ID"
tap_guest g "$(sock c0 a)" "$T" "vnt-c-$TAP_ID" 10.82.0.1/24
ip -n "vnt-c-$TAP_ID" link del "$T"
i=0; while kill -0 "$PID_g" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
wait "$PID_g"; rc=$?
if [ $rc -eq 1 ] && grep -q "tap: stopped: the TAP interface was deleted" "$RUN/g.log"; then
	ok "TAP deleted under vnet-guest tap: it stops (exit 1) and says why"
else
	notok "TAP deleted under vnet-guest: exit $rc: $(cat "$RUN/g.log")"
fi
it_stop_pid "$PID_host_c0"
check "namespace removed" tap_ns_del "vnt-c-$TAP_ID"
tap_check_clean "tap cli" c d c0
exit $IT_FAILED
