#!/bin/sh
# bench/insns.sh - instructions the device spends per frame on one hop,
# counted by callgrind (exact and repeatable, whatever the machine's load,
# unlike timings).
#
#   BUILD=build sh bench/insns.sh [tx|rx] [SIZE] [SECONDS]
#
# Starts one vnet-host under `valgrind --tool=callgrind`, drives it with
# `vnet-bench tx` (guest TX: transmitq -> link ring) or `vnet-bench rx`
# (link ring -> receiveq) for SECONDS (default 6), stops it, and prints
# "<dir> <size> B: <Ir> instructions / <frames> frames = <N> per frame".
# The whole process is counted (start-up and the link handshake included:
# a few million instructions, under 1% at the frame counts reached).
# INSNS_KEEP=FILE keeps callgrind's output there, for
# `callgrind_annotate --inclusive=yes FILE`: where the instructions go.
set -eu
BUILD=${BUILD:-build}
DIR=${1:-tx}
SIZE=${2:-64}
SECS=${3:-6}
HOST=$BUILD/vnet-host
BENCH=$BUILD/vnet-bench
command -v valgrind >/dev/null || { echo "insns: needs valgrind" >&2; exit 2; }
[ -x "$HOST" ] && [ -x "$BENCH" ] || { echo "insns: build first (make)" >&2; exit 2; }

WORK=$(mktemp -d /tmp/vnet-insns.XXXXXX)
export VNET_RUN_DIR=$WORK/run
mkdir -p "$VNET_RUN_DIR"
HPID=""
cleanup() {
	[ -n "$HPID" ] && kill "$HPID" 2>/dev/null && wait "$HPID" 2>/dev/null
	rm -rf "$WORK"
	rm -f /dev/shm/vnet-insns-* 2>/dev/null || true
}
trap cleanup EXIT

valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.out" \
	"$HOST" --system insns-h vdev virtio-net name a mac 52:54:00:00:00:0a \
	peer "$VNET_RUN_DIR/insns-b/peer" peerfeats 0x7fc3 >"$WORK/host.log" 2>&1 &
HPID=$!
i=0
while [ ! -S "$VNET_RUN_DIR/insns-h/a.vfio" ] && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ -S "$VNET_RUN_DIR/insns-h/a.vfio" ] || { echo "insns: vnet-host did not start" >&2; cat "$WORK/host.log" >&2; exit 1; }

out=$(timeout $((SECS + 60)) "$BENCH" "$DIR" --socket "$VNET_RUN_DIR/insns-h/a.vfio" \
	--peer-node "$VNET_RUN_DIR" insns-b peer --seconds "$SECS" --size "$SIZE")
frames=$(printf '%s\n' "$out" | sed -n 's/.*"frames": *\([0-9]*\).*/\1/p' | head -1)
kill "$HPID"
wait "$HPID" 2>/dev/null || true
HPID=""
ir=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$WORK/cg.out")
[ -n "${INSNS_KEEP:-}" ] && cp "$WORK/cg.out" "$INSNS_KEEP"
[ -n "$frames" ] && [ "$frames" -gt 0 ] && [ -n "$ir" ] || {
	echo "insns: no result (frames '$frames', Ir '$ir')" >&2
	printf '%s\n' "$out" >&2
	exit 1
}
echo "$DIR $SIZE B: $ir instructions / $frames frames = $((ir / frames)) per frame"
