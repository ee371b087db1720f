#!/bin/sh
# Packet capture (host/dev/capture.c) and `vnet-host stats --interval`:
#  (a) `capture FILE` during a 1000-frame ping: tcpdump reads the file back,
#      and its frames per direction (by source MAC) are the device's tx and
#      rx frame counters;
#  (b) a live `vnet-host capture NAME -w -` read by tcpdump shows the
#      traffic, one whose reader goes away stops, and one whose reader
#      never reads neither slows nor stalls
#      the link: a 3-second stream arrives whole, vnet-host answers stats,
#      and the capture's dropped counter grows instead;
#  (c) `vnet-host stats --interval 1` prints a line of rates per second;
#  (d) bad capture requests are refused with clear errors.
set -u
. "$(dirname "$0")/lib.sh"
it_setup
MAC_A=52:54:00:00:03:0a
MAC_B=52:54:00:00:03:0b

if ! command -v tcpdump >/dev/null 2>&1; then
	skip "capture: tcpdump is missing (Debian package tcpdump; make deps installs it)"
	exit 0
fi

start_pair() { # vm1's extra options...
	start_host vm1 a mac $MAC_A peer "$(node vm2 b)" "$@" &&
		start_host vm2 b mac $MAC_B peer "$(node vm1 a)" &&
		wait_log host_vm1 "link up" 5 && wait_log host_vm2 "link up" 5
}

stop_pair() {
	it_stop_pid "$PID_host_vm1"
	it_stop_pid "$PID_host_vm2"
}

ping_b() { # count: vm1's guest pings vm2's; output in $RUN/ping
	it_bg pong "$GUEST" --socket "$(sock vm2 b)" pong --count "$1" --timeout 20
	sleep 0.3
	"$GUEST" --socket "$(sock vm1 a)" ping --count "$1" --size 128 --timeout 20 $MAC_B \
		>"$RUN/ping" 2>&1
	prc=$?
	wait "$PID_pong"
	[ $prc -eq 0 ] && [ "$(field "$RUN/ping" received)" = "$1" ]
}

# wait_n NAME PATTERN N: wait (5 s) until NAME's log has N lines matching.
wait_n() {
	i=0
	while [ "$(grep -c -- "$2" "$RUN/$1.log" 2>/dev/null)" -lt "$3" ] && [ $i -lt 50 ]; do
		sleep 0.1; i=$((i + 1))
	done
	[ "$(grep -c -- "$2" "$RUN/$1.log" 2>/dev/null)" -ge "$3" ]
}

# from_mac FILE MAC: frames in a pcap whose source is MAC.
from_mac() {
	tcpdump -n -e -r "$1" 2>/dev/null | grep -ci "^[^ ]* $2 > " || true
}

# ---- (a) capture FILE ------------------------------------------------------
PCAP="$RUN/a.pcap"
if start_pair capture "$PCAP"; then ok "capture FILE: the pair links"; else notok "capture FILE: no link"; fi
if ping_b 1000; then ok "capture FILE: 1000 pings answered"; else notok "capture FILE: ping: $(cat "$RUN/ping")"; fi
"$HOST" stats --system vm1 --json >"$RUN/stats_a.json" 2>&1
stop_pair	# the file is complete once vnet-host has stopped
tx=$(counter "$RUN/stats_a.json" tx frames)
rx=$(counter "$RUN/stats_a.json" rx frames)
cf=$(counter "$RUN/stats_a.json" capture frames)
got_tx=$(from_mac "$PCAP" $MAC_A)
got_rx=$(from_mac "$PCAP" $MAC_B)
all=$(tcpdump -n -e -r "$PCAP" 2>/dev/null | grep -c "^[0-9]")
if [ -n "$tx" ] && [ "$tx" -ge 1000 ] && [ "$got_tx" = "$tx" ] && [ "$got_rx" = "$rx" ] &&
   [ "$all" = "$cf" ]; then
	ok "capture FILE: tcpdump reads $got_tx frames from $MAC_A and $got_rx to it = tx $tx, rx $rx frames counted ($cf captured)"
else
	notok "capture FILE: pcap has $got_tx from A, $got_rx from B, $all in all; counters tx '$tx' rx '$rx' capture '$cf'"
fi
it_check_clean "after capture FILE"

# ---- (b) live capture --------------------------------------------------------
start_pair || notok "live: no link"

# A reader that takes everything: tcpdump on the stream, live.
mkfifo "$RUN/live.fifo"
it_bg tcpd tcpdump -n -e -r "$RUN/live.fifo"
it_bg livecap "$HOST" capture --system vm1 a -w "$RUN/live.fifo"
wait_n host_vm1 "live capture started" 1
ping_b 100 || notok "live: ping: $(cat "$RUN/ping")"
sleep 0.5
it_stop_pid "$PID_livecap"	# ^C: tcpdump sees the end of the stream
i=0; while kill -0 "$PID_tcpd" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
n_a=$(grep -ci "^[^ ]* $MAC_A > " "$RUN/tcpd.log")
n_b=$(grep -ci "^[^ ]* $MAC_B > " "$RUN/tcpd.log")
if [ "$n_a" = 100 ] && [ "$n_b" = 100 ]; then
	ok "live: vnet-host capture a -w FIFO | tcpdump -r shows the 100 pings and 100 replies"
else
	notok "live: tcpdump saw $n_a from A, $n_b from B: $(tail -5 "$RUN/tcpd.log"; cat "$RUN/livecap.log")"
fi
check "live: the capture ends when its client stops" wait_n host_vm1 "live capture ended" 1

# A reader that goes away: head takes 2000 bytes and exits; the capture
# client sees EPIPE and stops, and vnet-host ends the capture.
timeout 10 sh -c "'$HOST' capture --system vm1 a -w - | head -c 2000 >'$RUN/head.out'" &
HPIPE=$!
IT_PIDS="$IT_PIDS $HPIPE"
wait_n host_vm1 "live capture started" 2
ping_b 100 || notok "reader gone: ping: $(cat "$RUN/ping")"
wait $HPIPE
hrc=$?
if [ $hrc -eq 0 ] && [ "$(wc -c <"$RUN/head.out")" = 2000 ] &&
   wait_n host_vm1 "live capture ended" 2; then
	ok "live: when the reader goes away (| head -c 2000) the capture stops and vnet-host ends it"
else
	notok "live: reader gone: exit $hrc, $(wc -c <"$RUN/head.out") bytes: $(tail -3 "$RUN/host_vm1.log")"
fi

stream() { # label: a 3-second stream vm1 -> vm2; its rate in $rate
	it_bg recv "$GUEST" --socket "$(sock vm2 b)" recv --timeout 3
	sleep 0.3
	"$GUEST" --socket "$(sock vm1 a)" send --seconds 3 --size 256 $MAC_B >"$RUN/send" 2>&1
	src=$?
	wait "$PID_recv"
	rrc=$?
	sent=$(field "$RUN/send" frames)
	got=$(field "$RUN/recv.log" frames)
	rate=$(field "$RUN/send" mframes_per_s)
	[ $src -eq 0 ] && [ $rrc -eq 0 ] && [ -n "$sent" ] && [ "$sent" = "$got" ] &&
		[ "$(field "$RUN/recv.log" lost)" = 0 ]
}

# (c) while a stream flows: rates every second.
timeout 3.5 "$HOST" stats --system vm1 --interval 1 >"$RUN/rates" 2>&1 &
RPID=$!
IT_PIDS="$IT_PIDS $RPID"
if stream; then base=$rate; ok "live: without a capture, 3 s of 256-byte frames arrive whole ($base Mframes/s)"
else base=""; notok "live: stream without capture: $(cat "$RUN/send" "$RUN/recv.log")"; fi
wait $RPID
lines=$(grep -c '^a: tx [0-9]* frames/s [0-9.]* Mbit/s, rx [0-9]* frames/s [0-9.]* Mbit/s, drops [0-9]*/s, irqs/frame [0-9.]*$' "$RUN/rates")
busy=$(grep -c '^a: tx [1-9][0-9]* frames/s' "$RUN/rates")
if [ "$lines" = 3 ] && [ "$busy" -ge 2 ]; then
	ok "stats --interval 1: 3 lines of rates in 3.5 s ($(sed -n 2p "$RUN/rates"))"
else
	notok "stats --interval 1: $lines lines, $busy with traffic: $(cat "$RUN/rates")"
fi

# A reader that never reads: a FIFO held open by a process that sleeps.
mkfifo "$RUN/stall.fifo"
it_bg holder sh -c "exec sleep 60 <>'$RUN/stall.fifo'"
sleep 0.2
it_bg stallcap "$HOST" capture --system vm1 a -w "$RUN/stall.fifo"
wait_n host_vm1 "live capture started" 3
if stream; then
	ok "live: with a reader that never reads, 3 s of frames still arrive whole ($rate Mframes/s, $base without)"
else
	notok "live: stream with a stalled capture: $(cat "$RUN/send" "$RUN/recv.log")"
fi
if timeout 3 "$HOST" stats --system vm1 --json >"$RUN/stats_b.json" 2>&1; then
	ok "live: vnet-host answers stats while the capture's reader stalls"
else
	notok "live: stats did not answer: $(cat "$RUN/stats_b.json")"
fi
dropped=$(counter "$RUN/stats_b.json" capture dropped)
captured=$(counter "$RUN/stats_b.json" capture frames)
if [ -n "$dropped" ] && [ "$dropped" -gt 0 ]; then
	ok "live: frames the stalled reader could not take are dropped and counted ($dropped of $captured)"
else
	notok "live: capture dropped '$dropped': $(cat "$RUN/stats_b.json")"
fi
"$HOST" stats --system vm1 >"$RUN/stats_b.txt" 2>&1
check "live: the text line shows the capture group" grep -q "capture: frames [0-9]* dropped [1-9]" "$RUN/stats_b.txt"

# (d) bad requests
"$HOST" capture --system vm1 b -w "$RUN/x.pcap" >"$RUN/bad1" 2>&1
rc1=$?
"$HOST" capture --system vm1 a -w "$RUN/y.pcap" >"$RUN/bad2" 2>&1
rc2=$?
"$HOST" capture --system vm1 '../a' -w "$RUN/z.pcap" >"$RUN/bad3" 2>&1
rc3=$?
if [ $rc1 -ne 0 ] && grep -q "no vdev 'b' in system vm1" "$RUN/bad1" &&
   [ $rc2 -ne 0 ] && grep -q "already running" "$RUN/bad2" &&
   [ $rc3 -eq 2 ] && grep -q "not a vdev name" "$RUN/bad3"; then
	ok "capture: an unknown vdev, a second capture and a bad name are refused with clear errors"
else
	notok "capture: bad requests: $(cat "$RUN/bad1" "$RUN/bad2" "$RUN/bad3")"
fi
"$HOST" --system vm3 vdev virtio-net name c capture "$(printf 'a\tb')" >"$RUN/bad4" 2>&1
check "capture FILE with a control character is refused at start" grep -q "capture .* contains control character" "$RUN/bad4"

it_stop_pid "$PID_stallcap"
it_stop_pid "$PID_holder"
check "live: the stalled capture ends when its client is stopped" wait_n host_vm1 "live capture ended" 3
stop_pair
rm -f "$RUN/live.fifo" "$RUN/stall.fifo"
it_check_clean "after the live captures"
exit $IT_FAILED
