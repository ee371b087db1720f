#!/bin/sh
# bench/insns.sh - instructions per frame on one hop, counted by callgrind
# (exact and repeatable, whatever the machine's load, unlike timings).
#
#   BUILD=build [INSNS_SIDE=host|guest] sh bench/insns.sh [tx|rx] [SIZE] [SECONDS]
#
# Starts one vnet-host, drives it with `vnet-bench tx` (guest TX:
# transmitq -> link ring) or `vnet-bench rx` (link ring -> receiveq) for
# SECONDS (default 6), stops it, and prints
# "<dir> <size> B: <Ir> instructions / <frames> frames = <N> per frame".
#
# INSNS_SIDE=host (the default) runs vnet-host under `valgrind
# --tool=callgrind` and counts the whole device process (start-up and the
# link handshake included: a few million instructions, under 1% at the
# frame counts reached).  INSNS_SIDE=guest runs vnet-bench under it
# instead: the guest driver (guest/, vnet_tx_burst / vnet_rx_burst) and
# the bench's own peer side of the link (it sinks what the device
# transmits, or sources what the guest receives, as testpmd's other side
# would), the whole process too.  The driver's own share is the inclusive
# count of vnet_tx_burst / vnet_rx_burst (and vnet_kicks_take,
# vnet_tx_space) in INSNS_KEEP's file.
# INSNS_KEEP=FILE keeps callgrind's output there, for
# `callgrind_annotate --inclusive=yes FILE`: where the instructions go.
set -eu
BUILD=${BUILD:-build}
DIR=${1:-tx}
SIZE=${2:-64}
SECS=${3:-6}
SIDE=${INSNS_SIDE:-host}
case $SIDE in host|guest) ;; *) echo "insns: INSNS_SIDE is host or guest, not '$SIDE'" >&2; exit 2 ;; esac
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

CG="valgrind --tool=callgrind --callgrind-out-file=$WORK/cg.out"
HOST_CG=$CG
BENCH_CG="timeout $((SECS + 60))"
if [ "$SIDE" = guest ]; then
	HOST_CG=""
	BENCH_CG="$BENCH_CG $CG"
fi

$HOST_CG "$HOST" --system insns-h vdev virtio-net name a mac 52:54:00:00:00:0a \
	peer "$VNET_RUN_DIR/insns-b/peer" peerfeats 0x7fc3 >"$WORK/host.log" 2>&1 &
HPID=$!
i=0
while [ ! -S "$VNET_RUN_DIR/insns-h/a.vfio" ] && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ -S "$VNET_RUN_DIR/insns-h/a.vfio" ] || { echo "insns: vnet-host did not start" >&2; cat "$WORK/host.log" >&2; exit 1; }

out=$($BENCH_CG "$BENCH" "$DIR" --socket "$VNET_RUN_DIR/insns-h/a.vfio" \
	--peer-node "$VNET_RUN_DIR" insns-b peer --seconds "$SECS" --size "$SIZE")
frames=$(printf '%s\n' "$out" | sed -n 's/.*"frames": *\([0-9]*\).*/\1/p' | head -1)
kill "$HPID"
wait "$HPID" 2>/dev/null || true
HPID=""
ir=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$WORK/cg.out")
[ -n "${INSNS_KEEP:-}" ] && cp "$WORK/cg.out" "$INSNS_KEEP"
[ -n "$frames" ] && [ "$frames" -gt 0 ] && [ -n "$ir" ] && [ "$ir" -gt 0 ] || {
	echo "insns: no result (frames '$frames', Ir '$ir')" >&2
	printf '%s\n' "$out" >&2
	exit 1
}
[ "$SIDE" = guest ] && printf 'guest '
echo "$DIR $SIZE B: $ir instructions / $frames frames = $((ir / frames)) per frame"
