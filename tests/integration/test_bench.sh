#!/bin/sh
# test_bench.sh - vnet-bench's scenarios work end to end (not how fast:
# speed lives in `make bench`): each run, 1 second, must complete, move
# frames and lose none.  This exercises the driver's external wait/kick
# API (vnet_wait_arm / vnet_wait_end / vnet_kicks_take, io_uring) and the
# bench acting as a vdev's peer (sink and source), plain and TSO frames.
#
#   BUILD=build sh tests/integration/test_bench.sh
set -u
. "$(dirname "$0")/lib.sh"
it_setup
BENCH=$BUILD/vnet-bench
[ -x "$BENCH" ] || { notok "vnet-bench: $BENCH is not built (run make)"; exit 1; }

# jget JSON-LINE KEY: a number from vnet-bench's JSON line.
jget() { printf '%s\n' "$1" | sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" | head -n 1; }

# moved WHAT OUTPUT: the last line has frames > 0 and lost == 0.
moved() {
	line=$(printf '%s\n' "$2" | tail -n 1)
	fr=$(jget "$line" frames)
	lost=$(jget "$line" lost)
	if [ -n "$fr" ] && [ "$fr" -gt 0 ] && [ "$lost" = 0 ]; then
		ok "$1: $fr frames, none lost"
	else
		notok "$1: '$line'"
	fi
}

for m in "" "--poll"; do
	out=$(timeout 20 "$BENCH" ring --seconds 1 --size 1514 $m 2>"$RUN/ring.err")
	moved "ring ${m:-event}" "$out"
done

start_host h1 a mac 52:54:00:00:00:0a peer "$VNET_RUN_DIR/bench/peer" peerfeats 0x7fc3 ||
	notok "vnet-host did not start"
for args in "tx --size 64" "rx --size 64" "tx --size 65535 --tso" "rx --size 65535 --tso" \
	"tx --size 1514 --poll" "rx --size 1514 --poll"; do
	out=$(timeout 30 "$BENCH" $args --seconds 1 --socket "$(sock h1 a)" \
		--peer-node "$VNET_RUN_DIR" bench peer 2>"$RUN/onehop.err")
	moved "one hop $args" "$out"
done
it_stop_pid "$PID_host_h1"

start_host h1 a mac 52:54:00:00:00:0a peer "$(node h2 b)" peerfeats 0x7fc3 ||
	notok "vm h1 did not start"
start_host h2 b mac 52:54:00:00:00:0b peer "$(node h1 a)" peerfeats 0x7fc3 ||
	notok "vm h2 did not start"
wait_log host_h1 "link up" 5 || notok "the peer link did not come up"
for args in "--size 1514" "--size 65535 --tso"; do
	it_bg recv timeout 30 "$BENCH" recv --socket "$(sock h2 b)" --seconds 1 $args
	sleep 0.3
	sout=$(timeout 30 "$BENCH" send --socket "$(sock h1 a)" --dst 52:54:00:00:00:0b \
		--seconds 1 $args 2>"$RUN/send.err")
	wait "$PID_recv"
	rout=$(grep '^{' "$RUN/recv.log")
	moved "end to end $args (receiver)" "$rout"
	sent=$(jget "$sout" frames)
	got=$(jget "$rout" frames)
	check "end to end $args: the receiver got all $sent frames sent" [ "$sent" = "$got" ]
done
it_bg pong timeout 30 "$BENCH" pong --socket "$(sock h2 b)" --seconds 10
sleep 0.3
out=$(timeout 30 "$BENCH" ping --socket "$(sock h1 a)" --dst 52:54:00:00:00:0b --count 500 \
	--seconds 5 2>"$RUN/ping.err")
wait "$PID_pong"
n=$(jget "$out" samples)
check "ping-pong: 500 round trips measured (got ${n:-none})" [ "${n:-0}" = 500 ]
it_stop_pid "$PID_host_h1"
it_stop_pid "$PID_host_h2"
it_check_clean "after the benchmarks"
[ "$IT_FAILED" = 0 ]
