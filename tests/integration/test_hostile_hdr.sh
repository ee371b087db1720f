#!/bin/sh
# A guest that sends malformed virtio-net headers between good frames,
# with offloads allowed by peerfeats (common/net_hdr.h is the rule): its
# own device drops each bad one (drops.bad_frame counts them), nothing bad
# reaches the link (it never drops: flaps 0 and dropped_broken 0 on both
# sides), and the peer's guest receives every good frame, in order.
set -u
. "$(dirname "$0")/lib.sh"
it_setup
BAD="$BUILD/tests/bad_guest"
MAC_A=52:54:00:00:0b:0a
MAC_B=52:54:00:00:0b:0b


for mask in 0x7fc3 0x19c3 auto; do
	start_host hv1 a mac $MAC_A peer "$(node hv2 b)" peerfeats $mask
	start_host hv2 b mac $MAC_B peer "$(node hv1 a)" peerfeats $mask
	wait_log host_hv1 "link up" 5 || notok "mask $mask: no link"
	it_bg recv "$GUEST" --socket "$(sock hv2 b)" --offloads recv --count 9 --timeout 15
	wait_log host_hv2 "driver ready" 5
	sleep 0.3
	"$BAD" --socket "$(sock hv1 a)" --bad-headers --dst $MAC_B >"$RUN/bad" 2>&1
	brc=$?
	wait "$PID_recv"
	rrc=$?
	nbad=$(field "$RUN/bad" bad_sent)
	"$HOST" stats --system hv1 --json >"$RUN/s1.json" 2>&1
	"$HOST" stats --system hv2 --json >"$RUN/s2.json" 2>&1
	bad1=$(counter "$RUN/s1.json" drops bad_frame)
	fl1=$(counter "$RUN/s1.json" link flaps)
	fl2=$(counter "$RUN/s2.json" link flaps)
	br2=$(counter "$RUN/s2.json" link dropped_broken)
	txf=$(counter "$RUN/s1.json" tx frames)
	if [ $brc -eq 0 ] && [ -n "$nbad" ] && [ "$bad1" = "$nbad" ] && [ "$txf" = 9 ]; then
		ok "mask $mask: the sender's device refused all $nbad bad headers (bad_frame $bad1) and sent the 9 good frames ($(field "$RUN/bad" features))"
	else
		notok "mask $mask: bad_guest exit $brc, bad_sent '$nbad', bad_frame '$bad1', tx frames '$txf': $(cat "$RUN/bad")"
	fi
	if [ "$fl1" = 0 ] && [ "$fl2" = 0 ] && [ "$br2" = 0 ]; then
		ok "mask $mask: the link never dropped (flaps 0 on both sides, dropped_broken 0 at the peer)"
	else
		notok "mask $mask: flaps $fl1 / $fl2, peer dropped_broken $br2; $(grep -h 'link down' "$RUN"/host_hv*.log | head -3)"
	fi
	if [ $rrc -eq 0 ] && [ "$(field "$RUN/recv.log" frames)" = 9 ] && [ "$(field "$RUN/recv.log" lost)" = 0 ]; then
		ok "mask $mask: the peer's guest got every good frame, none lost or corrupted"
	else
		notok "mask $mask: recv exit $rrc: $(tr '\n' ' ' <"$RUN/recv.log")"
	fi
	if grep -q "refuses: GSO with gso_size 0" "$RUN/host_hv1.log" &&
	   grep -q "refuses: checksum position past the frame" "$RUN/host_hv1.log"; then
		ok "mask $mask: the sender's log names the broken rules"
	else
		notok "mask $mask: no reasons logged: $(grep -h refuses "$RUN/host_hv1.log" | head -3)"
	fi
	it_stop_pid "$PID_host_hv1"
	it_stop_pid "$PID_host_hv2"
done
it_check_clean "after the hostile headers"
exit $IT_FAILED
