#!/bin/sh
# bench/insns_dpdk.sh - the anchor of bench/insns.sh: instructions per
# frame of DPDK's vhost backend on one hop, counted by callgrind.
#
#   sh bench/insns_dpdk.sh [tx|rx] [SIZE] [SECONDS]
#
# DPDK testpmd with net_vhost (the device side, as vnet-host is) runs
# under `valgrind --tool=callgrind --instr-atstart=no`; testpmd with
# net_virtio_user (the guest side, as vnet-bench is) runs natively.  tx:
# the guest transmits (virtio-user txonly -> vhost rxonly, the vhost
# library's dequeue); rx: the guest receives (vhost txonly -> virtio-user
# rxonly, its enqueue).
#
# Instrumented from the start, the vhost-user handshake is so slow that
# virtio-user gives up.  So both testpmd run interactively (commands on a
# pipe): the handshake happens uninstrumented; then the vhost side starts
# forwarding, instrumentation goes on, virtio-user forwards for SECONDS
# and stops, instrumentation goes off, and the vhost side's forward
# statistics give the frames, every one of them inside the window.
#
# Prints "dpdk <dir> <size> B: <Ir> instructions / <frames> frames = <N>
# per frame; rte_vhost_<dequeue|enqueue>_burst <M> per frame, <F> frames
# per call".  The whole process includes testpmd's own forwarding engine
# (for rx: building each frame, which a device does not do); the vhost
# library's inclusive count is the device's work, the figure to hold
# against vnet-host's (bench/insns.sh counts its whole process).  Frames
# per call say how full the rings were: at few frames per call the fixed
# cost of a call weighs more.  Memory is plain pages (--no-huge), as
# bench/insns.sh's vnet-bench uses.
set -eu
DIR=${1:-tx}
SIZE=${2:-64}
SECS=${3:-6}
case $DIR in
tx) VMODE=rxonly; UMODE=txonly; FN=rte_vhost_dequeue_burst; COUNT=RX-packets ;;
rx) VMODE=txonly; UMODE=rxonly; FN=rte_vhost_enqueue_burst; COUNT=TX-packets ;;
*) echo "insns_dpdk: tx or rx, not '$DIR'" >&2; exit 2 ;;
esac
for c in valgrind callgrind_control callgrind_annotate dpdk-testpmd; do
	command -v $c >/dev/null || { echo "insns_dpdk: needs $c" >&2; exit 2; }
done

WORK=$(mktemp -d /tmp/vnet-insns-dpdk.XXXXXX)
SOCK=$WORK/vhost.sock
PFX=vnb-insns-$$
VP=""
UP=""
cleanup() {
	exec 3>&- 4>&- 2>/dev/null || true
	for p in $UP $VP; do kill -INT "$p" 2>/dev/null || true; done
	for p in $UP $VP; do wait "$p" 2>/dev/null || true; done
	rm -rf "$WORK" "/var/run/dpdk/$PFX-v" "/var/run/dpdk/$PFX-u"
}
trap cleanup EXIT

# await FILE PATTERN TENTHS: until FILE shows PATTERN.
await() {
	for _ in $(seq 1 "$3"); do
		grep -aq "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "insns_dpdk: no '$2' in $1 after $(($3 / 10)) s" >&2
	tail -20 "$1" >&2
	exit 1
}

mkfifo "$WORK/v.in" "$WORK/u.in"
timeout -s INT $((SECS + 400)) valgrind --tool=callgrind --instr-atstart=no \
	--callgrind-out-file="$WORK/cg.out" \
	dpdk-testpmd -l 0,1 --main-lcore 0 --no-huge -m 1024 --no-pci --file-prefix "$PFX-v" \
	--vdev "net_vhost0,iface=$SOCK,queues=1" -- -i --forward-mode=$VMODE \
	--txpkts="$SIZE" --nb-cores=1 <"$WORK/v.in" >"$WORK/v.out" 2>&1 &
VP=$!
exec 3>"$WORK/v.in"
await "$WORK/v.out" "testpmd>" 3000
timeout -s INT $((SECS + 400)) dpdk-testpmd -l 0,1 --main-lcore 1 --no-huge -m 1024 \
	--no-pci --file-prefix "$PFX-u" --single-file-segments \
	--vdev "net_virtio_user0,path=$SOCK,queues=1" -- -i --forward-mode=$UMODE \
	--txpkts="$SIZE" --nb-cores=1 <"$WORK/u.in" >"$WORK/u.out" 2>&1 &
UP=$!
exec 4>"$WORK/u.in"
await "$WORK/u.out" "testpmd>" 3000
await "$WORK/v.out" "virtio is now ready for processing" 3000
# valgrind runs as the timeout's child.
VG=$(pgrep -P "$VP" | head -n 1)
[ -n "$VG" ] || { echo "insns_dpdk: valgrind is not running" >&2; exit 1; }

echo start >&3
sleep 1
callgrind_control -z "$VG" >/dev/null
callgrind_control -i on "$VG" >/dev/null
echo start >&4
sleep "$SECS"
echo stop >&4
sleep 1
callgrind_control -i off "$VG" >/dev/null
callgrind_control -d "$VG" >/dev/null
echo stop >&3
# testpmd's output to a file is block-buffered: the statistics are there
# once it has exited.
echo quit >&4
echo quit >&3
exec 3>&- 4>&-
wait "$UP" || true
wait "$VP" || true
UP=""
VP=""

frames=$(grep -a -A3 "Forward statistics for port 0" "$WORK/v.out" |
	sed -n "s/.*$COUNT: *\([0-9]*\).*/\1/p" | head -n 1)
dump=""
for f in "$WORK"/cg.out.*; do [ -f "$f" ] && dump=$f && break; done
[ -n "$dump" ] || { echo "insns_dpdk: callgrind wrote no dump" >&2; exit 1; }
ir=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$dump")
lib=$(callgrind_annotate --inclusive=yes "$dump" | sed -n "s/^ *\([0-9,]*\) .*:$FN .*/\1/p" |
	head -n 1 | tr -d ,)
# Calls of FN: callgrind names a function once, "(id) name", and by its
# id after that; every "cfn=(id)" line is followed by its "calls=" line.
calls=$(awk -v fn="$FN" '
	!id && match($0, /^c?fn=\([0-9]+\) /) && substr($0, RLENGTH + 1) == fn {
		id = substr($0, index($0, "(") + 1); sub(/\).*/, "", id) }
	id && $0 ~ "^cfn=\\(" id "\\)" { want = 1; next }
	want && /^calls=/ { split($1, c, "="); n += c[2] }
	{ want = 0 }
	END { print n + 0 }' "$dump")
[ -n "${INSNS_KEEP:-}" ] && cp "$dump" "$INSNS_KEEP"
[ -n "$frames" ] && [ "$frames" -gt 0 ] && [ -n "$ir" ] && [ -n "$lib" ] && [ "$calls" -gt 0 ] || {
	echo "insns_dpdk: no result (frames '$frames', Ir '$ir', $FN '$lib', calls '$calls')" >&2
	exit 1
}
echo "dpdk $DIR $SIZE B: $ir instructions / $frames frames = $((ir / frames)) per frame;" \
	"$FN $((lib / frames)) per frame, $(awk "BEGIN { printf \"%.1f\", $frames / $calls }") frames per call"
