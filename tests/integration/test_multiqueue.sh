#!/bin/sh
# Multiqueue (VIRTIO_NET_F_MQ, virtio 5.1.2 and 5.1.6.5.5): vdevs with
# `queues 4`, guests with --queues N.  The guest sets the pairs in use
# through the control queue; its frames of several flows spread over the
# transmitqs by their addresses and ports, transmitq K feeds the link's
# ring pair K and the receiving device delivers it to receiveq K (with a
# one-pair peer, the flow's hash picks), and every frame arrives once,
# whole, and in order within its flow.  Over PCI modern (split and packed), legacy PCI
# and MMIO v2; fewer pairs on either side work with what both have; a
# reset sets the pairs again.
#
# MQ_THREADS (test_threads.sh): options added to every vdev with several
# pairs, e.g. "threads 2": the same checks with the pairs on data-path
# threads.
set -u
. "$(dirname "$0")/lib.sh"
it_setup
MQ_THREADS=${MQ_THREADS:-}
# start_pair's options, with MQ_THREADS where a vdev has several pairs.
mq_start_pair() {
	a=$1; b=$2
	case "$a" in *queues*) a="$a $MQ_THREADS" ;; esac
	case "$b" in *queues*) b="$b $MQ_THREADS" ;; esac
	start_pair "$a" "$b"
}
MAC_A=52:54:00:00:0a:0a
MAC_B=52:54:00:00:0a:0b
FRAMES=${MQ_FRAMES:-20000}

# b_driver_up N: vdev b's driver is up (driver_up, lib.sh).
b_driver_up() { driver_up host_vm2 "$1"; }

# start_recv "guest opts b": the receiver in the background, once up.
start_recv() {
	ready=$(grep -c "driver ready" "$RUN/host_vm2.log")
	# shellcheck disable=SC2086
	it_bg recv "$GUEST" --socket "$(sock vm2 b)" $1 recv --count "$FRAMES" --timeout 10
	b_driver_up "$ready"
}

# stream label "guest opts a" "guest opts b" pairs: FRAMES frames a -> b,
# content-checked, none lost or reordered within its flow; both devices
# used the first `pairs` pairs.
stream() {
	label=$1; ga=$2; gb=$3; pairs=$4
	start_recv "$gb"
	# shellcheck disable=SC2086
	"$GUEST" --socket "$(sock vm1 a)" $ga send --count "$FRAMES" --size 512 $MAC_B \
		>"$RUN/send" 2>&1
	src=$?
	wait "$PID_recv"
	rrc=$?
	if [ $src -eq 0 ] && [ $rrc -eq 0 ] && recv_whole "$FRAMES"; then
		ok "$label: $FRAMES frames, none lost, corrupted or reordered within a flow ($(field "$RUN/recv.log" flows) flows)"
	else
		notok "$label: send exit $src, recv exit $rrc: $(cat "$RUN/send" "$RUN/recv.log" | tr '\n' ' ')"
	fi
	if pairs_used vm1 tx_frames "$pairs" && pairs_used vm2 rx_frames "$pairs"; then
		ok "$label: the sender's $pairs transmitqs and the receiver's $pairs receiveqs all carried frames"
	else
		notok "$label: pairs not all used: $(cat "$RUN/stats_vm1.json" "$RUN/stats_vm2.json" | tr -d '\n')"
	fi
}

# Bad words on vnet-guest's command line: refused before connecting,
# naming the option and what it takes.
for bad in "--queues 9|--queues 9: expected 1..8" "--queues 0|--queues 0: expected 1..8" \
	   "--rss-table 1,2,3|--rss-table 1,2,3: expected queue pairs 0..7" \
	   "--rss-table 8|--rss-table 8: expected" "--rss-table 1,|--rss-table 1,: expected"; do
	args=${bad%%|*}
	want=${bad#*|}
	# shellcheck disable=SC2086
	"$GUEST" --socket "$RUN/none.vfio" $args info >"$RUN/bad" 2>&1
	rc=$?
	if [ $rc -ne 0 ] && grep -qF -- "$want" "$RUN/bad"; then
		ok "vnet-guest $args is refused: $(head -n 1 "$RUN/bad")"
	else
		notok "vnet-guest $args: exit $rc: $(cat "$RUN/bad")"
	fi
done
"$GUEST" --socket "$RUN/none.vfio" send --flows 16385 52:54:00:00:0a:0b >"$RUN/bad" 2>&1
rc=$?
if [ $rc -ne 0 ] && grep -q -- "--flows 16385: expected 0..16384" "$RUN/bad"; then
	ok "vnet-guest send --flows 16385 is refused"
else
	notok "send --flows 16385: exit $rc: $(cat "$RUN/bad")"
fi

# ---- PCI modern, 4 pairs each ---------------------------------------------
if mq_start_pair "queues 4" "queues 4" && grep -q "peer link up with .*4 ring pairs" "$RUN/host_vm1.log"; then
	ok "two vdevs with 4 queue pairs each are linked with 4 ring pairs"
else
	notok "the pair did not come up: $(cat "$RUN/host_vm1.log" "$RUN/host_vm2.log")"
	exit 1
fi
"$GUEST" --socket "$(sock vm2 b)" --queues 4 info >"$RUN/info" 2>&1
if [ "$(field "$RUN/info" queue_pairs)" = 4 ] && [ "$(field "$RUN/info" max_queue_pairs)" = 4 ] &&
   [ "$(field "$RUN/info" queues)" = 9 ] && grep -q "^controlq: index 8 " "$RUN/info" &&
   grep -q "^transmitq4: index 7 " "$RUN/info" &&
   grep -q "^driver_feature_names: .* MQ " "$RUN/info"; then
	ok "info: MQ negotiated, 4 pairs (queues 0-7) and the controlq at 8 (5.1.2)"
else
	notok "info with --queues 4: $(cat "$RUN/info")"
fi
"$GUEST" --socket "$(sock vm2 b)" info >"$RUN/info1" 2>&1
if [ "$(field "$RUN/info1" queue_pairs)" = 1 ] && grep -q "^controlq: index 2 " "$RUN/info1" &&
   ! grep -q "^driver_feature_names: .* MQ " "$RUN/info1"; then
	ok "a guest without --queues declines MQ and finds the controlq at 2"
else
	notok "info without --queues: $(cat "$RUN/info1")"
fi

stream "pci-modern packed, 4 pairs" "--queues 4" "--queues 4" 4
stop_pair
mq_start_pair "queues 4" "queues 4" || notok "the pair did not come up again"
stream "pci-modern split, 4 pairs" "--queues 4 --no-packed" "--queues 4 --no-packed" 4

# Ping over the pairs: every request answered, each from its flow.
ready=$(grep -c "driver ready" "$RUN/host_vm2.log")
it_bg pong "$GUEST" --socket "$(sock vm2 b)" --queues 4 pong --count 400 --timeout 20
b_driver_up "$ready"
"$GUEST" --socket "$(sock vm1 a)" --queues 4 ping --count 400 --timeout 20 $MAC_B >"$RUN/ping" 2>&1
prc=$?
wait "$PID_pong"
if [ $prc -eq 0 ] && [ "$(field "$RUN/ping" received)" = 400 ]; then
	ok "400 pings over 4 pairs, all answered"
else
	notok "ping over 4 pairs: exit $prc: $(cat "$RUN/ping")"
fi

# RSS chosen at the sender: the receiving guest sets RSS (--rss: its
# table over 4 pairs), its device tells the sending device, and a sender
# using one transmitq still fills all 4 receive queues, each from its
# own ring.
stop_pair
mq_start_pair "queues 4" "queues 4" || notok "the pair did not come up again"
"$GUEST" --socket "$(sock vm2 b)" --queues 4 --rss info >"$RUN/info" 2>&1
if [ "$(field "$RUN/info" rss)" = on ] && [ "$(field "$RUN/info" rss_table)" = 128 ] &&
   grep -q "^driver_feature_names: .* RSS " "$RUN/info"; then
	ok "--rss: RSS negotiated with a 128-entry table"
else
	notok "info with --rss: $(cat "$RUN/info")"
fi
# RSS without MQ (bit 22 declined) still has max_virtqueue_pairs pairs, so
# the controlq sits after them (5.1.2), where the device looks for it.
"$GUEST" --socket "$(sock vm2 b)" --queues 4 --rss --decline 400000 info >"$RUN/info_nomq" 2>&1
if [ "$(field "$RUN/info_nomq" rss)" = on ] && [ "$(field "$RUN/info_nomq" queue_pairs)" = 4 ] &&
   grep -q "^controlq: index 8 " "$RUN/info_nomq" &&
   ! grep -q "^driver_feature_names: .* MQ " "$RUN/info_nomq"; then
	ok "--rss with MQ declined: 4 pairs, RSS set, the controlq at 8"
else
	notok "info with --rss, MQ declined: $(cat "$RUN/info_nomq")"
fi
# The sender starts once the receiver's configuration reached its device
# (info above left one such line; wait for the next, bounded).
told=$(grep -c "steers by RSS" "$RUN/host_vm1.log")
start_recv "--queues 4 --rss"
wait_more host_vm1 "steers by RSS" "$told"
"$GUEST" --socket "$(sock vm1 a)" send --flows 16 --count "$FRAMES" --size 512 $MAC_B >"$RUN/send" 2>&1
src=$?
wait "$PID_recv"
if [ $src -eq 0 ] && recv_whole "$FRAMES"; then
	ok "one transmitq to an RSS receiver: $FRAMES frames, none lost or reordered within a flow"
else
	notok "RSS stream: send exit $src: $(cat "$RUN/send" "$RUN/recv.log" | tr '\n' ' ')"
fi
if pairs_used vm2 rx_frames 4 && pairs_used vm1 tx_frames 1 && ! pairs_used vm1 tx_frames 2; then
	ok "the sending device steered by the receiver's RSS: 1 transmitq used, 4 receive queues filled"
else
	notok "RSS steering: $(cat "$RUN/stats_vm1.json" "$RUN/stats_vm2.json" | tr -d '\n')"
fi

# A table of the receiver's own (--rss-table 1,3): flows go to pairs 2
# and 4 only (counted from 1), a table naming a pair it does not have
# is refused, saying so.
stop_pair
mq_start_pair "queues 4" "queues 4" || notok "the pair did not come up again"
"$GUEST" --socket "$(sock vm2 b)" --queues 4 --rss-table 0,5 info >"$RUN/bad_table" 2>&1
rc=$?
if [ $rc -ne 0 ] && grep -q "names queue 5; there are 4" "$RUN/bad_table"; then
	ok "--rss-table naming pair 5 of 4 is refused with the reason"
else
	notok "--rss-table 0,5: exit $rc: $(cat "$RUN/bad_table")"
fi
told=$(grep -c "steers by RSS" "$RUN/host_vm1.log")
start_recv "--queues 4 --rss-table 1,3"
wait_more host_vm1 "steers by RSS" "$told"
"$GUEST" --socket "$(sock vm1 a)" send --flows 16 --count "$FRAMES" --size 512 $MAC_B >"$RUN/send" 2>&1
src=$?
wait "$PID_recv"
"$HOST" stats --system vm2 --json >"$RUN/stats_vm2.json" 2>&1
rx=$(grep -o '"rx_frames": [0-9]*' "$RUN/stats_vm2.json" | head -n 4 | sed 's/.*: //' | tr '\n' ' ')
set -- $rx
if [ $src -eq 0 ] && [ "$(field "$RUN/recv.log" frames)" = "$FRAMES" ] &&
   [ "$(field "$RUN/recv.log" lost)" = 0 ] && [ "${1:-x}" = 0 ] && [ "${3:-x}" = 0 ] &&
   [ "${2:-0}" -gt 0 ] && [ "${4:-0}" -gt 0 ]; then
	ok "--rss-table 1,3: all $FRAMES frames on receive queues 2 and 4 (per pair: $rx)"
else
	notok "--rss-table 1,3: send exit $src, per pair: $rx: $(cat "$RUN/recv.log" | tr '\n' ' ')"
fi

# Fewer pairs on one side: the guest takes what it asked for.
stop_pair
mq_start_pair "queues 4" "queues 4" || notok "the pair did not come up again"
stream "4-pair devices, guests using 2 and 3 pairs" "--queues 2" "--queues 3" 2

# A reset mid-stream: the pairs are set again (the receiver keeps 4).
stop_pair
mq_start_pair "queues 4" "queues 4" || notok "the pair did not come up again"
start_recv "--queues 4"
"$GUEST" --socket "$(sock vm1 a)" --queues 4 send --count "$FRAMES" --reset-after 5000 \
	--size 512 $MAC_B >"$RUN/send" 2>&1
src=$?
wait "$PID_recv"
if [ $src -eq 0 ] && [ "$(field "$RUN/recv.log" lost)" = 0 ] &&
   [ "$(field "$RUN/recv.log" frames)" = "$FRAMES" ] &&
   [ "$(field "$RUN/recv.log" content_errors)" = 0 ]; then
	ok "a sender reset 3 times mid-stream: nothing lost or corrupted"
else
	notok "reset mid-stream: send exit $src: $(cat "$RUN/send" "$RUN/recv.log" | tr '\n' ' ')"
fi
n=$(grep -c "4 queue pairs in use" "$RUN/host_vm1.log")
if [ "$n" -ge 4 ]; then
	ok "the device took VQ_PAIRS_SET at open and after each of the 3 resets ($n times)"
else
	notok "VQ_PAIRS_SET after resets: $n times: $(grep "queue pairs" "$RUN/host_vm1.log")"
fi
stop_pair

# ---- one side with one pair ---------------------------------------------
if mq_start_pair "queues 4" "" && grep -q "peer link up with .*1 ring pair)" "$RUN/host_vm1.log"; then
	ok "a 4-pair vdev and a 1-pair vdev link with the one ring pair both have"
else
	notok "the mixed pair: $(grep "link" "$RUN/host_vm1.log")"
fi
"$GUEST" --socket "$(sock vm2 b)" --queues 4 info >"$RUN/info" 2>&1
if [ "$(field "$RUN/info" queue_pairs)" = 1 ] && grep -q "the device has 1 (no MQ), using 1" "$RUN/info"; then
	ok "--queues 4 on a one-pair device: it says so and uses one"
else
	notok "--queues 4 on one pair: $(cat "$RUN/info")"
fi
stream "4 pairs to a one-pair device" "--queues 4" "--queues 4" 1
stop_pair

# ---- legacy PCI and MMIO v2 -------------------------------------------------
mq_start_pair "legacy queues 2" "loc 0x1c0d0000 intr 42 queues 2" ||
	notok "legacy / mmio pair did not come up"
stream "pci-legacy to mmio-v2, 2 pairs" "--queues 2" "--loc 0x1c0d0000 --intr 42 --queues 2" 2
stop_pair

it_check_clean "after the multiqueue tests"
exit $IT_FAILED
