#!/bin/sh
# iperf_compare.sh - iperf3 over vnet beside iperf3 over a veth pair, in
# the same run on the same machine (README "Benchmarks": the kernel
# veth pair is the anchor a user would otherwise pick).  Not part of
# `make check` (it takes about 10 x SECS seconds); run as root:
#
#   BUILD=build SECS=5 sh tests/integration/iperf_compare.sh
#
# GUEST_OPTS adds vnet-guest global options (e.g. "--busy-poll 50").
#
# Paths measured, each with iperf3 TCP one stream, both directions:
#   veth          two namespaces joined by a veth pair
#   vnet guests   two namespaces on `vnet-guest tap`, the guests' vdevs
#                 peers across two vnet-hosts (peerfeats auto: TSO/CSUM
#                 offloads end to end), and again with peerfeats 0x0
#   host peer     a namespace on a `vdev tap` (host-peer TAP) and one on
#                 a guest's `vnet-guest tap`
# Prints one line per path: Gbit/s each way and iperf3's retransmits.
# With JSON=FILE it also writes them as a JSON array of
#   {"path", "a_to_b_gbps", "a_to_b_retransmits", "b_to_a_gbps",
#    "b_to_a_retransmits", "seconds"}
# (for bench/ to pick up).  A is the first namespace: veth end A, guest
# A, or the host's TAP.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tap_lib.sh"
SECS=${SECS:-5}
tap_setup "iperf compare"

NA="vnc-a-$TAP_ID"; NB="vnc-b-$TAP_ID"
for ns in "$NA" "$NB"; do tap_ns "$ns" || exit 1; done
RESULTS="$RUN/results"
: >"$RESULTS"

JSON_ROWS="$RUN/json_rows"
: >"$JSON_ROWS"

# measure LABEL: iperf3 from NA to 10.79.0.2 in NB, then reversed.
measure() {
	line="$1"
	row="{\"path\": \"$(echo "$1" | sed 's/ *$//')\", \"seconds\": $SECS"
	for dir in "" "-R"; do
		iperf_server "$NB" 10.79.0.2
		timeout $((SECS + 20)) ip netns exec "$NA" iperf3 -c 10.79.0.2 -t "$SECS" -J $dir \
			>"$RUN/iperf.json" 2>&1
		wait "$PID_iperf_srv" 2>/dev/null
		bps=$(iperf_field "$RUN/iperf.json" sum_received bits_per_second)
		rt=$(iperf_field "$RUN/iperf.json" sum_sent retransmits)
		line="$line $(echo "${bps:-0}" | awk '{printf "%8.2f", $1 / 1e9}') $(printf '%7s' "${rt:-?}")"
		k=$([ -z "$dir" ] && echo a_to_b || echo b_to_a)
		row="$row, \"${k}_gbps\": $(echo "${bps:-0}" | awk '{printf "%.3f", $1 / 1e9}'), \"${k}_retransmits\": ${rt:-null}"
	done
	echo "$line" >>"$RESULTS"
	echo "$row}" >>"$JSON_ROWS"
	echo "# $line"
}

# 1. veth
ip link add "vca$TAP_ID" netns "$NA" type veth peer name "vcb$TAP_ID" netns "$NB"
ip -n "$NA" addr add 10.79.0.1/24 dev "vca$TAP_ID"
ip -n "$NB" addr add 10.79.0.2/24 dev "vcb$TAP_ID"
ip -n "$NA" link set "vca$TAP_ID" up
ip -n "$NB" link set "vcb$TAP_ID" up
measure "$(printf '%-26s' 'veth pair')"
ip -n "$NA" link del "vca$TAP_ID"

# 2. vnet guests, with and without offloads
for pf in auto 0x0; do
	fresh_logs host_s1 host_s2
	start_host s1 a peer "$(node s2 b)" peerfeats $pf
	start_host s2 b peer "$(node s1 a)" peerfeats $pf
	wait_log host_s1 "link up" 5
	tap_guest ga "$(sock s1 a)" "vca$TAP_ID" "$NA" 10.79.0.1/24 --offloads ${GUEST_OPTS:-} &&
		tap_guest gb "$(sock s2 b)" "vcb$TAP_ID" "$NB" 10.79.0.2/24 --offloads ${GUEST_OPTS:-} &&
		wait_carrier "$NA" "vca$TAP_ID" up && wait_carrier "$NB" "vcb$TAP_ID" up &&
		measure "$(printf '%-26s' "vnet guests peerfeats $pf")"
	for p in "$PID_ga" "$PID_gb" "$PID_host_s1" "$PID_host_s2"; do it_stop_pid "$p"; done
done

# 3. host peer: NA on the host's TAP, NB behind a guest
fresh_logs host_hp host_vm
it_bg host_hp "$HOST" --system hp vdev tap ifname "vca$TAP_ID" name vp peer "$(node vm a)" \
	peerfeats auto netns "$NA" addr 10.79.0.1/24
wait_for "$(node hp vp)" 5
start_host vm a peer "$(node hp vp)" peerfeats auto
tap_guest g "$(sock vm a)" "vcb$TAP_ID" "$NB" 10.79.0.2/24 --offloads ${GUEST_OPTS:-} &&
	wait_carrier "$NA" "vca$TAP_ID" up && wait_carrier "$NB" "vcb$TAP_ID" up &&
	measure "$(printf '%-26s' 'host peer TAP <-> guest')"
for p in "$PID_g" "$PID_host_vm" "$PID_host_hp"; do it_stop_pid "$p"; done

echo
echo "iperf3 TCP, 1 stream, ${SECS} s each way, $(nproc) CPUs, $(uname -r)"
printf '%-26s %8s %7s %8s %7s\n' "path" "A->B" "retr" "B->A" "retr"
printf '%-26s %8s %7s %8s %7s\n' "" "Gbit/s" "" "Gbit/s" ""
cat "$RESULTS"
if [ -n "${JSON:-}" ]; then
	{ echo "["; sed '$!s/$/,/' "$JSON_ROWS"; echo "]"; } >"$JSON"
	echo "JSON written to $JSON"
fi
exit 0
