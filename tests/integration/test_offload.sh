#!/bin/sh
# peerfeats and offloads end to end: a TCP byte stream whose frames carry
# partial checksums or are TSO frames (when the sender's device offered
# them), through every pairing of {mask 0x0, 0x19c3, 0x7fc3, auto} x
# {receiving guest negotiates the offloads or not}.  The receiver checks
# every IP/TCP checksum and every payload byte: a wrong mask may cost
# speed (the device completes checksums and segments in software), never
# correctness.
set -u
. "$(dirname "$0")/lib.sh"
it_setup
OT="$BUILD/tests/offload_test"
MAC_A=52:54:00:00:05:0a
MAC_B=52:54:00:00:05:0b
BYTES=2000000

for mask in 0x0 0x19c3 0x7fc3 auto; do
	start_host vm1 a mac $MAC_A peer "$(node vm2 b)" peerfeats $mask
	start_host vm2 b mac $MAC_B peer "$(node vm1 a)" peerfeats $mask
	wait_log host_vm1 "link up" 5 || notok "mask $mask: no link"
	for rxoff in on off; do
		for mode in csum tso4 tso6; do
			flag=""; [ $rxoff = on ] && flag=--offloads
			it_bg recv "$OT" --socket "$(sock vm2 b)" --bytes $BYTES --timeout 10 $flag recv
			sleep 0.3
			"$OT" --socket "$(sock vm1 a)" --dst $MAC_B --mode $mode --bytes $BYTES send >"$RUN/send" 2>&1
			src=$?
			wait "$PID_recv"
			rrc=$?
			used=$(field "$RUN/send" mode)
			if [ $src -eq 0 ] && [ $rrc -eq 0 ]; then
				ok "mask $mask, receiver offloads $rxoff, sender asked $mode and used $used: $BYTES bytes intact, every checksum valid (receiver fixed $(field "$RUN/recv.log" fixed_by_receiver) itself)"
			else
				notok "mask $mask, receiver offloads $rxoff, mode $mode (used $used): send $src recv $rrc: $(cat "$RUN/send" "$RUN/recv.log")"
			fi
		done
	done
	kill -USR1 "$PID_host_vm2"; sleep 0.2
	grep -h "stats b" "$RUN/host_vm2.log" | tail -1 | sed "s/^/# mask $mask: /"
	it_stop_pid "$PID_host_vm1"
	it_stop_pid "$PID_host_vm2"
done
it_check_clean "after the offload matrix"
exit $IT_FAILED
