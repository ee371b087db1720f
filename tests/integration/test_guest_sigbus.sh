#!/bin/sh
# A guest truncates the RAM file it handed its device (DMA_MAP), as a
# hostile guest can: to 0 after DRIVER_OK, under a posted TX buffer,
# under posted RX buffers while the peer sends, and (from outside) under
# a running `vnet-guest send`.  Each time the SIGBUS guard swaps zero
# pages in: vnet-host lives, the device that was hit latches NEEDS_RESET
# (counted in device.mem_faults) and works again after the guest resets
# it with its memory back, and the process's other vdev still passes a
# ping.
set -u
. "$(dirname "$0")/lib.sh"
it_setup
BAD="$BUILD/tests/bad_guest"
MAC_A=52:54:00:00:0d:0a
MAC_B=52:54:00:00:0d:0b
MAC_V=52:54:00:00:0d:1a
MAC_W=52:54:00:00:0d:1b

# victim_counter NAME: device.mem_faults of vdev victim on vm1.
mem_faults() {
	"$HOST" stats --system vm1 | sed -n 's/^victim: .*mem_faults \([0-9]*\).*/\1/p'
}

# VICTIM_OPTS (test_threads.sh): more options of the attacked vdev.
# shellcheck disable=SC2086
it_bg host_vm1 "$HOST" --system vm1 vdev virtio-net name a mac $MAC_A peer "$(node vm2 b)" \
	vdev virtio-net name victim mac $MAC_V peer "$(node vm2 w)" ${VICTIM_OPTS:-}
it_bg host_vm2 "$HOST" --system vm2 vdev virtio-net name b mac $MAC_B peer "$(node vm1 a)" \
	vdev virtio-net name w mac $MAC_W peer "$(node vm1 victim)"
wait_for "$(sock vm1 victim)" 5 && wait_for "$(sock vm2 w)" 5
wait_log host_vm1 "victim: link up" 5 || notok "victim's link did not come up"

n=0
for c in ram-to-zero tx-buffer rx-buffers; do
	if [ $c = rx-buffers ]; then
		it_bg send "$GUEST" --socket "$(sock vm2 w)" send --seconds 4 --timeout 6 $MAC_V
		sleep 0.5
	fi
	"$BAD" --socket "$(sock vm1 victim)" --shrink $c --after-reset >"$RUN/bad" 2>&1
	rc=$?
	[ $c = rx-buffers ] && wait "$PID_send"
	n=$((n + 1))
	if [ $rc -eq 0 ] && grep -q "after_reset: works" "$RUN/bad" && kill -0 "$PID_host_vm1"; then
		ok "$c: vnet-host lives, the device latched NEEDS_RESET and works again after a reset with the memory back"
	else
		notok "$c: bad_guest exit $rc: $(tr '\n' ' ' <"$RUN/bad"); host: $(tail -3 "$RUN/host_vm1.log")"
	fi
done
# The window unmapped (DMA_UNMAP) under queues enabled before DRIVER_OK,
# and under a running device: the device drops every pointer into it.
for c in unmap-live unmap-running; do
	"$BAD" --socket "$(sock vm1 victim)" --shrink $c --after-reset >"$RUN/bad" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && grep -q "after_reset: works" "$RUN/bad" && kill -0 "$PID_host_vm1"; then
		ok "$c: NEEDS_RESET ($(grep -o 'needs reset: queue [0-9]: guest memory changed[^:]*' "$RUN/host_vm1.log" | tail -1)), works again after a reset with the memory mapped again"
	else
		notok "$c: bad_guest exit $rc: $(tr '\n' ' ' <"$RUN/bad"); host: $(tail -3 "$RUN/host_vm1.log")"
	fi
done
mf=$(mem_faults)
check "each truncation counted in device.mem_faults ($mf of $n)" [ "$mf" = $n ]
if grep -q "victim: guest memory at 0x0 .* lost its file: it was truncated under the device" "$RUN/host_vm1.log"; then
	ok "the reason is logged ($(grep -m1 'lost its file' "$RUN/host_vm1.log" | sed 's/.*warning: //'))"
else
	notok "no reason logged: $(tail -3 "$RUN/host_vm1.log")"
fi

# From outside: the RAM file of a running vnet-guest send, found through
# /proc (the guest unlinked its name), cut to nothing.
it_bg gsend "$GUEST" --socket "$(sock vm1 victim)" send --seconds 20 --timeout 25 $MAC_W
i=0
ram=""
while [ -z "$ram" ] && [ $i -lt 50 ]; do
	sleep 0.1
	ram=$(ls -l /proc/"$PID_gsend"/fd 2>/dev/null | sed -n 's/.* \([0-9]*\) -> \/dev\/shm\/vnet-guest-.*/\1/p' | head -n 1)
	i=$((i + 1))
done
sleep 0.5
if [ -n "$ram" ] && truncate -s 0 "/proc/$PID_gsend/fd/$ram"; then
	# Either side may touch the cut pages first: the device (a fault,
	# counted) or the guest itself (it dies of SIGBUS and detaches).
	i=0
	while [ "$(mem_faults)" = "$mf" ] && kill -0 "$PID_gsend" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	it_stop_pid "$PID_gsend"
	sleep 0.2
	if [ "$(mem_faults)" -gt "$mf" ]; then
		how="the device hit it first: fault counted"
	else
		how="the guest hit it first and died; detached before the device touched it"
	fi
	if kill -0 "$PID_host_vm1" && { [ "$(mem_faults)" -gt "$mf" ] ||
	   [ "$(grep -c 'victim.vfio: client detached' "$RUN/host_vm1.log")" -gt "$n" ]; }; then
		ok "a running vnet-guest's RAM cut from outside: vnet-host lives ($how)"
	else
		notok "outside truncation: host alive $(kill -0 "$PID_host_vm1" && echo yes || echo no), mem_faults $(mem_faults)"
	fi
else
	notok "could not find or truncate the running guest's RAM file (fd '$ram')"
fi

still_serving vm1 a vm2 b $MAC_B victim
it_stop_pid "$PID_host_vm1"
it_stop_pid "$PID_host_vm2"
it_check_clean "after the shrinking guests"
exit $IT_FAILED
