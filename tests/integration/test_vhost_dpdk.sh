#!/bin/sh
# DPDK's virtio-user (dpdk-testpmd) drives a vdev served as a vhost-user
# backend; the vdev's peer is a vfio-user vdev with our vnet-guest on it.
#   txonly: testpmd -> vhost-user vdev -> peer link -> vnet-guest recv
#           (every frame testpmd counted as sent arrives, once)
#   rxonly: vnet-guest send -> peer link -> vhost-user vdev -> testpmd
#           (testpmd receives every frame)
# for split and packed rings, with IN_ORDER (virtio-user's default) and
# without, and with MRG_RXBUF off; all variants run against the same
# vnet-host, so each new testpmd is a frontend reconnect.
# Then multiqueue: one testpmd (flowgen, --rxq=2 --txq=2) drives two
# vhost-user vdevs with `queues 2`, linked as peers, through virtio-user
# with queues=2; both pairs of both vdevs carry frames each way.
# Then the same with the pairs on data-path threads (`threads 2`).
set -u
. "$(dirname "$0")/lib.sh"

TESTPMD=$(command -v dpdk-testpmd 2>/dev/null || true)
if [ -z "$TESTPMD" ]; then
	skip "DPDK virtio-user: dpdk-testpmd not found (Debian package dpdk-dev; make deps installs it)"
	exit 0
fi
it_setup
MAC_VU=52:54:00:00:05:0a
MAC_G=52:54:00:00:05:0b
VU="$RUN/vu.sock"
PREFIX="vnet-it-$$"

tp_cleanup() {
	rm -rf "/var/run/dpdk/$PREFIX" "${XDG_RUNTIME_DIR:-/nonexistent}/dpdk/$PREFIX" 2>/dev/null
	it_cleanup
}
trap tp_cleanup EXIT

it_bg host_vm1 "$HOST" --system vm1 vdev virtio-net name a mac $MAC_VU \
	peer "$(node vm2 b)" vhost-user "$VU"
start_host vm2 b mac $MAC_G peer "$(node vm1 a)"
if wait_for "$VU" 5 && wait_log host_vm1 "link up" 5; then
	ok "vhost-user vdev listens on its socket and its peer link is up"
else
	notok "vhost-user vdev did not come up: $(cat "$RUN/host_vm1.log")"
	exit 1
fi

# testpmd ARGS MODE SECONDS: runs testpmd for SECONDS (it exits when its
# stdin closes), killed by timeout on any path; output in $RUN/tp.log.
# SECONDS "stop": until the file $RUN/tp.stop appears (at most 60 s), so
# a testpmd slow to start on a loaded machine still gets its whole run.
testpmd() {
	args=$1 mode=$2 secs=$3
	if [ "$secs" = stop ]; then
		rm -f "$RUN/tp.stop"
		secs=60
		hold() { i=0; while [ ! -e "$RUN/tp.stop" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done; }
	else
		hold() { sleep "$secs"; }
	fi
	hold | timeout -k 2 $((secs + 25)) stdbuf -oL "$TESTPMD" --no-huge -m 1024 --no-pci \
		--single-file-segments -l 0-1 --file-prefix "$PREFIX" --log-level=lib.eal:4 \
		--vdev "net_virtio_user0,path=$VU,queues=1,mac=$MAC_VU$args" -- \
		--forward-mode="$mode" --nb-cores=1 --eth-peer=0,$MAC_G >"$RUN/tp.log" 2>&1
}

# The numbers from testpmd's final "Forward statistics" block.
tp_stat() { grep -a -A2 "Forward statistics for port 0" "$RUN/tp.log" | sed -n "s/.*$1: *\([0-9]*\).*/\1/p" | head -n 1; }

# Frames the vhost-user vdev has put on the peer link so far (its
# counters, logged on SIGUSR1).
vdev_tx() {
	n0=$(grep -c "stats a:" "$RUN/host_vm1.log")
	kill -USR1 "$PID_host_vm1"
	i=0
	while [ "$(grep -c "stats a:" "$RUN/host_vm1.log")" -le "$n0" ] && [ $i -lt 50 ]; do
		sleep 0.1; i=$((i + 1))
	done
	grep "stats a:" "$RUN/host_vm1.log" | tail -n 1 | sed -n 's/.*; tx: frames \([0-9]*\) .*/\1/p'
}
TX_BEFORE=0
# ... and delivered to testpmd's RX ring.
vdev_rx() {
	"$HOST" stats --system vm1 | sed -n 's/^a: .*; rx: frames \([0-9]*\) .*/\1/p'
}

# Frames vdev b has delivered to its guest so far (vnet-host stats).
guest_rx() {
	"$HOST" stats --system vm2 | sed -n 's/^b: .*; rx: frames \([0-9]*\) .*/\1/p'
}
RX_BEFORE=0

run_txonly() { # label args
	# The receiver runs until stopped (--timeout 0): testpmd may take
	# long to start on a loaded machine, and an idle timeout would end
	# the receiver before the first frame.
	it_bg recv "$GUEST" --socket "$(sock vm2 b)" recv --timeout 0
	sleep 0.3
	testpmd "$2" txonly 3
	trc=$?
	STARTS=$(grep -c "rings started" "$RUN/host_vm1.log")
	tx_now=$(vdev_tx)
	fwd=$(( ${tx_now:-0} - TX_BEFORE ))
	TX_BEFORE=${tx_now:-0}
	# Stop the receiver once its device delivered all the vdev forwarded
	# (bounded), and a moment more for it to take the last ones.
	i=0
	while [ "$(( $(guest_rx) - RX_BEFORE ))" -lt "$fwd" ] && [ $i -lt 150 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	sleep 0.5
	RX_BEFORE=$(guest_rx)
	kill -TERM "$PID_recv" 2>/dev/null
	wait "$PID_recv"
	sent=$(tp_stat TX-packets)
	got=$(field "$RUN/recv.log" other_frames)
	bad=$(field "$RUN/recv.log" content_errors)
	# testpmd counts a frame as sent once it is in the ring; what is still
	# there when it stops the ring (at most a ring's worth, 256) the
	# device never took.  Everything the device took must arrive, once.
	if [ $trc -eq 0 ] && [ -n "$sent" ] && [ "$sent" -gt 0 ] && [ "$got" = "$fwd" ] &&
	   [ "$bad" = 0 ] && [ "$fwd" -le "$sent" ] && [ $((sent - fwd)) -le 256 ]; then
		ok "$1 txonly: testpmd sent $sent frames, the vdev took $fwd ($((sent - fwd)) left in the ring at stop), all $fwd arrived at the vnet-guest, once each"
	else
		notok "$1 txonly: testpmd exit $trc sent '$sent', vdev forwarded '$fwd', guest got '$got': $(tail -20 "$RUN/tp.log") $(cat "$RUN/recv.log")"
	fi
}

run_rxonly() { # label args
	n=100000
	: >"$RUN/tp.log"
	testpmd "$2" rxonly stop &
	tp=$!
	# Wait until this testpmd forwards: its port is up (one more ring
	# start) and it has flushed its RX queues (testpmd drops what
	# arrives before forwarding starts), which it says by asking for
	# enter.
	i=0
	while { [ "$(grep -c "rings started" "$RUN/host_vm1.log")" -le "$STARTS" ] ||
		! grep -aq "Press enter to exit" "$RUN/tp.log" 2>/dev/null; } && [ $i -lt 150 ]; do
		sleep 0.1; i=$((i + 1))
	done
	rx0=$(vdev_rx)
	"$GUEST" --socket "$(sock vm2 b)" send --count $n --size 256 $MAC_VU >"$RUN/send" 2>&1
	src=$?
	# Stop testpmd once the vdev put every frame in its RX ring (bounded),
	# and a moment more for it to take the last ones.
	i=0
	while [ "$(( $(vdev_rx) - rx0 ))" -lt $n ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	sleep 0.5
	: >"$RUN/tp.stop"
	wait $tp
	trc=$?
	STARTS=$(grep -c "rings started" "$RUN/host_vm1.log")
	got=$(tp_stat RX-packets)
	if [ $src -eq 0 ] && [ $trc -eq 0 ] && [ "$got" = $n ]; then
		ok "$1 rxonly: testpmd received all $n frames the vnet-guest sent"
	else
		notok "$1 rxonly: send exit $src, testpmd exit $trc received '$got' of $n: $(tail -20 "$RUN/tp.log") $(cat "$RUN/send")"
	fi
}

STARTS=0
RUNS=0
for v in "split-in-order:,in_order=1" "split:,in_order=0" \
	 "packed-in-order:,packed_vq=1,in_order=1" "packed:,packed_vq=1,in_order=0" \
	 "split-nomrg:,mrg_rxbuf=0" "packed-nomrg:,packed_vq=1,mrg_rxbuf=0"; do
	label=${v%%:*}
	args=${v#*:}
	run_txonly "$label" "$args"
	run_rxonly "$label" "$args"
	RUNS=$((RUNS + 2))
done

starts=$(grep -c "rings started" "$RUN/host_vm1.log")
gone=$(grep -c "vhost-user frontend gone" "$RUN/host_vm1.log")
if [ "$starts" -ge $RUNS ] && [ "$gone" -ge $RUNS ] && kill -0 "$PID_host_vm1" 2>/dev/null; then
	ok "one vnet-host served $RUNS testpmd runs in turn: each frontend's leaving reset the device, the next reconnected"
else
	notok "reconnect: $starts ring starts, $gone disconnects: $(grep -v debug "$RUN/host_vm1.log" | tail -20)"
fi
started=$(grep "rings started" "$RUN/host_vm1.log")
if echo "$started" | grep -q "(packed, in order" && echo "$started" | grep -q "(packed, [0-9]" &&
   echo "$started" | grep -q "(split, in order" && echo "$started" | grep -q "(split, [0-9]"; then
	ok "both ring layouts were negotiated, each with and without IN_ORDER"
else
	notok "ring layouts: $started"
fi

# ---- multiqueue -------------------------------------------------------
# vdevs c (vm3) and d (vm4), `queues 2`, peers; testpmd's ports 0 and 1 are
# virtio-user queues=2 on them (cq=1, virtio-user's own control queue:
# its VQ_PAIRS_SET becomes SET_VRING_ENABLE of the second pair's rings).
# flowgen sends on every queue of both ports, 1024 flows (destination
# addresses), and takes what arrives: each vdev's transmit passes take
# frames from both transmitqs, and its receive steering spreads the
# flows over both receiveqs.
mq_pairs() { # SYSTEM: "rx0 rx1 tx0 tx1 in_use" of its vdev
	"$HOST" stats --system "$1" --json 2>/dev/null |
		jq -r '.vdevs[0] | "\(.pairs[0].rx_frames) \(.pairs[1].rx_frames) \(.pairs[0].tx_frames) \(.pairs[1].tx_frames) \(.queue_pairs_in_use)"' 2>/dev/null
}
mq_busy() { # "rx0 rx1 tx0 tx1 in_use": every pair both ways, two in use
	set -- $1
	[ $# -eq 5 ] && [ "$1" -gt 0 ] && [ "$2" -gt 0 ] && [ "$3" -gt 0 ] && [ "$4" -gt 0 ] && [ "$5" = 2 ]
}
# mq_run "extra vdev options" "label": the run above, once per option set.
mq_run() {
	it_bg host_vm3 "$HOST" --system vm3 vdev virtio-net name c mac $MAC_C queues 2 $1 \
		peer "$(node vm4 d)" vhost-user "$RUN/vc.sock"
	it_bg host_vm4 "$HOST" --system vm4 vdev virtio-net name d mac $MAC_D queues 2 $1 \
		vhost-user "$RUN/vd.sock"
	if wait_for "$RUN/vc.sock" 5 && wait_for "$RUN/vd.sock" 5 && wait_log host_vm3 "link up" 5; then
		rm -f "$RUN/tp.stop"
		{ i=0; while [ ! -e "$RUN/tp.stop" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done; } |
			timeout -k 2 85 stdbuf -oL "$TESTPMD" --no-huge -m 1024 --no-pci \
			--single-file-segments -l 0-1 --file-prefix "$PREFIX" --log-level=lib.eal:4 \
			--vdev "net_virtio_user0,path=$RUN/vc.sock,queues=2,cq=1,mac=$MAC_C" \
			--vdev "net_virtio_user1,path=$RUN/vd.sock,queues=2,cq=1,mac=$MAC_D" -- \
			--forward-mode=flowgen --rxq=2 --txq=2 --nb-cores=1 \
			--eth-peer=0,$MAC_D --eth-peer=1,$MAC_C >"$RUN/tp.log" 2>&1 &
		tp=$!
		# Until both vdevs' pairs have carried frames both ways (bounded:
		# testpmd may take long to start on a loaded machine).
		i=0
		while { ! mq_busy "$(mq_pairs vm3)" || ! mq_busy "$(mq_pairs vm4)"; } && [ $i -lt 300 ]; do
			sleep 0.2; i=$((i + 1))
		done
		c=$(mq_pairs vm3)
		d=$(mq_pairs vm4)
		: >"$RUN/tp.stop"
		wait $tp
		trc=$?
		if mq_busy "$c" && mq_busy "$d"; then
			ok "multiqueue$2: testpmd on virtio-user queues=2, two pairs in use on each vdev, frames on both pairs each way (c rx0 rx1 tx0 tx1: $c; d: $d)"
		else
			notok "multiqueue$2: pairs (rx0 rx1 tx0 tx1 in_use) c '$c' d '$d', testpmd exit $trc: $(tail -20 "$RUN/tp.log") $(grep -v debug "$RUN/host_vm3.log" | tail -10)"
		fi
		if grep -q "2 queue pairs in use" "$RUN/host_vm3.log" &&
		   grep -q "2 queue pairs in use" "$RUN/host_vm4.log"; then
			ok "multiqueue$2: both vdevs learned the second pair from the frontend's SET_VRING_ENABLE"
		else
			notok "multiqueue$2: no '2 queue pairs in use': $(grep -v debug "$RUN/host_vm3.log" | tail -10)"
		fi
	else
		notok "multiqueue$2 vdevs did not come up: $(cat "$RUN/host_vm3.log" "$RUN/host_vm4.log")"
	fi
	it_stop_pid "$PID_host_vm3"
	it_stop_pid "$PID_host_vm4"
	for h in host_vm3 host_vm4; do
		if grep -q "bad_frame 0 .*needs_reset 0" "$RUN/$h.log"; then
			ok "multiqueue$2: $h counted no bad frame and never needed a reset"
		else
			notok "multiqueue$2: $h counters: $(grep 'stats' "$RUN/$h.log")"
		fi
	done
}

if ! command -v jq >/dev/null 2>&1; then
	skip "DPDK virtio-user multiqueue: jq not found (Debian package jq; make deps installs it)"
else
	MAC_C=52:54:00:00:05:0c
	MAC_D=52:54:00:00:05:0d
	mq_run "" ""
	# The pairs on data-path threads (host/dp/threads.c): the frontend's
	# messages stay on the main loop, each pair's rings on its thread.
	mq_run "threads 2" " (threads 2)"
fi

it_stop_pid "$PID_host_vm1"
it_stop_pid "$PID_host_vm2"
if grep -q "bad_frame 0 .*needs_reset 0" "$RUN/host_vm1.log"; then
	ok "the vhost-user vdev counted no bad frame from testpmd and never needed a reset"
else
	notok "vhost-user vdev counters: $(grep 'stats' "$RUN/host_vm1.log")"
fi
if [ ! -e "$VU" ]; then ok "the vhost-user socket is removed at exit"; else notok "$VU left behind"; fi
it_check_clean "after testpmd and both hosts stopped"
exit $IT_FAILED
