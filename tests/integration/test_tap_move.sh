#!/bin/sh
# A host-peer TAP (`vdev tap`) taken over by a new vnet-host mid-stream:
# `vnet-host --incoming` asks the running one to hand the tap vdev over
# (control socket "handover NAME"), which keeps the interface
# (TUNSETPERSIST) with its addresses, lets its peer take what is in its
# ring, tells the peer that the vdev moves (the peer holds what it sent
# meanwhile) and exits; the new one takes the same interface and links.
# A TCP stream from the guest's namespace to the host's completes across
# it; the interface keeps its index and addresses; the old process ended.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tap_lib.sh"
tap_setup "tap move"

NH="vnt-mh-$TAP_ID"
NG="vnt-mg-$TAP_ID"
TH="vmh$TAP_ID"
TG="vmg$TAP_ID"
tap_ns "$NH" && tap_ns "$NG" || { notok "cannot create namespaces"; exit 1; }

tap_opts() {
	echo vdev tap ifname "$TH" name vp peer "$(node vm a)" netns "$NH" \
		addr 10.80.0.1/24 addr fd80::1/64
}

# shellcheck disable=SC2046
it_bg host_hp "$HOST" --system hp $(tap_opts)
wait_for "$(node hp vp)" 5
start_host vm a peer "$(node hp vp)"
wait_log host_hp "vp: link up" 5
if ! tap_guest g "$(sock vm a)" "$TG" "$NG" 10.80.0.2/24 --addr fd80::2/64; then
	notok "vnet-guest tap did not start: $(cat "$RUN/g.log")"
	exit 1
fi
wait_carrier "$NH" "$TH" up
idx0=$(ip -n "$NH" -o link show "$TH" | cut -d: -f1)
tap_ping "before the move" "$NG" 10.80.0.1 10

# 8 s of TCP from the guest's side to the host's; 2 s in, the takeover.
iperf_server "$NH" 10.80.0.1
it_bg iperf_cli timeout 30 ip netns exec "$NG" iperf3 -c 10.80.0.1 -t 8 -i 0.5 -f m
sleep 2
# shellcheck disable=SC2046
it_bg host_hp2 "$HOST" --incoming --system hp $(tap_opts)
wait "$PID_iperf_cli"
crc=$?
wait "$PID_iperf_srv" 2>/dev/null
zero=$(grep -c " 0.00 Mbits/sec" "$RUN/iperf_cli.log")
rate=$(sed -n 's/.* \([0-9.]* Mbits\/sec\).*receiver.*/\1/p' "$RUN/iperf_cli.log")
if [ $crc -eq 0 ] && [ -n "$rate" ] && grep -q "took over $TH" "$RUN/host_hp2.log"; then
	ok "a TCP stream (8 s) completed across the TAP's takeover: $rate, $zero half-second intervals without data"
else
	notok "TCP across the takeover: iperf3 exit $crc: $(tail -n 6 "$RUN/iperf_cli.log" | tr '\n' ' ') new: $(tr '\n' ' ' <"$RUN/host_hp2.log")"
fi
i=0
while kill -0 "$PID_host_hp" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check "the old vnet-host handed the TAP over and ended by itself" \
	sh -c "! kill -0 $PID_host_hp 2>/dev/null && grep -q 'handed $TH and the peer link over' '$RUN/host_hp.log'"
idx1=$(ip -n "$NH" -o link show "$TH" | cut -d: -f1)
addrs=$(ip -n "$NH" -o addr show dev "$TH" | grep -o 'inet6\? [0-9a-f.:]*/[0-9]*' | tr '\n' ' ')
if [ -n "$idx0" ] && [ "$idx0" = "$idx1" ] && echo "$addrs" | grep -q "10.80.0.1/24" &&
   echo "$addrs" | grep -q "fd80::1/64"; then
	ok "the same interface (index $idx1) kept its addresses: $addrs"
else
	notok "interface after the takeover: index $idx0 -> $idx1, addresses '$addrs'"
fi
wait_carrier "$NH" "$TH" up
tap_ping "after the move" "$NG" 10.80.0.1 10
tap_ping "after the move, IPv6 to the host" "$NG" fd80::1 5
# The new process is the TAP's only owner: it goes when that one stops.
it_stop_pid "$PID_g"
it_stop_pid "$PID_host_vm"
it_stop_pid "$PID_host_hp2"
tap_gone "the TAP went with the new process" "$NH" "$TH"
check "namespaces removed" tap_ns_del "$NH"
check "namespaces removed" tap_ns_del "$NG"
it_check_clean "tap move"
