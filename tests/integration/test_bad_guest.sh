#!/bin/sh
# A guest that writes garbage descriptors gets DEVICE_NEEDS_RESET with the
# reason logged; the same vnet-host keeps serving its other vdev (a ping
# through it still works), and the attacked device works again after a
# reset.
set -u
. "$(dirname "$0")/lib.sh"
it_setup
BAD="$BUILD/tests/bad_guest"
MAC_A=52:54:00:00:03:0a
MAC_B=52:54:00:00:03:0b
# VICTIM_OPTS (test_threads.sh): more options of the attacked vdev.
# shellcheck disable=SC2086
it_bg host_vm1 "$HOST" --system vm1 vdev virtio-net name a mac $MAC_A peer "$(node vm2 b)" \
	vdev virtio-net name victim ${VICTIM_OPTS:-}
wait_for "$(sock vm1 victim)" 5
start_host vm2 b mac $MAC_B peer "$(node vm1 a)"
wait_log host_vm1 "link up" 5 || notok "link did not come up"

for c in oob-addr addr-overflow len-past-ram loop bad-next bad-head avail-jump writable-tx nested-indirect; do
	"$BAD" --socket "$(sock vm1 victim)" --case $c --after-reset >"$RUN/bad" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && grep -q "after_reset: clean" "$RUN/bad"; then
		ok "garbage '$c' -> DEVICE_NEEDS_RESET, clean after reset"
	else
		notok "garbage '$c': exit $rc: $(cat "$RUN/bad")"
	fi
done
if grep -q "needs reset: transmitq" "$RUN/host_vm1.log"; then
	ok "the reasons are logged ($(grep -m1 'needs reset' "$RUN/host_vm1.log" | sed 's/.*needs reset: //'))"
else
	notok "no reason logged: $(tail -5 "$RUN/host_vm1.log")"
fi

check "vnet-host is still running" kill -0 "$PID_host_vm1"
still_serving vm1 a vm2 b $MAC_B victim
it_stop_pid "$PID_host_vm1"
it_stop_pid "$PID_host_vm2"
it_check_clean "after the hostile guest"
exit $IT_FAILED
