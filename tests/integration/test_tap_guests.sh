#!/bin/sh
# Real TCP/IP over a vnet link: two network namespaces, each with the TAP
# of a `vnet-guest tap`, the guests on two vnet-hosts linked as peers.
# Ping, iperf3 TCP both ways (byte counts checked), UDP and TCP over
# IPv6, for peerfeats
# 0x0, 0x19c3, 0x7fc3 and auto.  The receiving kernels drop frames with
# bad checksums or broken segmentation, so traffic getting through is
# the check that offloads were mapped right.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tap_lib.sh"
tap_setup "tap guests"

NA="vnt-a-$TAP_ID"
NB="vnt-b-$TAP_ID"
TA="vta$TAP_ID"
TB="vtb$TAP_ID"
tap_ns "$NA" && tap_ns "$NB" || { notok "cannot create namespaces"; exit 1; }

# What the guests' TAPs must show for each mask: the offloads the device
# offered its guest for sending (peerfeats.c), as TUNSETOFFLOAD flags.
expect_offloads() {
	case $1 in
	0x0) echo "none" ;;
	0x19c3) echo "CSUM|TSO4|TSO6" ;;
	*) echo "CSUM|TSO4|TSO6|TSO_ECN|UFO" ;;	# 0x7fc3; auto before the peer is known
	esac
}

for pf in ${TAP_PFS:-0x0 0x19c3 0x7fc3 auto}; do
	t="peerfeats $pf"
	fresh_logs host_s1 host_s2
	start_host s1 a peer "$(node s2 b)" peerfeats $pf
	start_host s2 b peer "$(node s1 a)" peerfeats $pf
	if ! wait_log host_s1 "link up" 5; then
		notok "$t: no peer link: $(cat "$RUN/host_s1.log")"
		break
	fi
	if ! tap_guest ga "$(sock s1 a)" "$TA" "$NA" 10.77.0.1/24 --offloads --addr fd77::1/64 ||
	   ! tap_guest gb "$(sock s2 b)" "$TB" "$NB" 10.77.0.2/24 --offloads --addr fd77::2/64; then
		notok "$t: vnet-guest tap did not start: $(cat "$RUN/ga.log" "$RUN/gb.log" "$RUN/host_s1.log")"
		break
	fi
	want=$(expect_offloads $pf)
	if grep -q "offloads $want link up" "$RUN/ga.log" &&
	   grep -q "offloads $want link up" "$RUN/gb.log"; then
		ok "$t: both TAPs up with offloads $want"
	else
		notok "$t: TAP lines: $(grep '^tap:' "$RUN/ga.log" "$RUN/gb.log")"
	fi
	if wait_carrier "$NA" "$TA" up && wait_carrier "$NB" "$TB" up; then
		ok "$t: carrier up on both TAPs"
	else
		notok "$t: carrier: $(ip -n "$NA" link show "$TA")"
	fi
	tap_ping "$t" "$NA" 10.77.0.2
	tap_tcp "$t: A to B" "$NA" "$NB" 10.77.0.2
	ab=$TCP_RECV
	tap_tcp "$t: B to A" "$NA" "$NB" 10.77.0.2 -R
	ba=$TCP_RECV
	tap_udp "$t: A to B" "$NA" "$NB" 10.77.0.2
	# IPv6 takes the TSO6 / IPv6 checksum paths.
	tap_tcp "$t: A to B over IPv6" "$NA" "$NB" fd77::2
	ab=$((ab + TCP_RECV))

	# B's VM goes away: A's device shows link down, so A's TAP loses its
	# carrier (the guest B, whose device vanished, stops by itself).
	it_stop_pid "$PID_host_s2"
	check "$t: A's TAP loses its carrier when B's VM stops" wait_carrier "$NA" "$TA" down
	it_stop_pid "$PID_ga"
	it_stop_pid "$PID_gb"
	# What iperf3 received crossed the vnet link: each guest wrote at
	# least that many bytes (payload plus headers) into its TAP.
	rb=$(field "$RUN/gb.log" from_device_bytes)
	ra=$(field "$RUN/ga.log" from_device_bytes)
	drops=$(cat "$RUN/ga.log" "$RUN/gb.log" | sed -n 's/^dropped_[a-z_]*: *//p' | sort -u | tr '\n' ' ')
	if [ -n "$rb" ] && [ -n "$ra" ] && [ "$rb" -ge "$ab" ] && [ "$ra" -ge "$ba" ] &&
	   [ "$drops" = "0 " ]; then
		ok "$t: the guests' TAPs got $rb and $ra bytes from their devices (iperf3: $ab, $ba), none dropped"
	else
		notok "$t: guest counters (iperf3 $ab, $ba): $(tail -n 7 "$RUN/ga.log" "$RUN/gb.log")"
	fi
	# Offloads really in use: with TSO offered, kernel A handed its
	# device TSO frames and device B delivered GSO frames to kernel B;
	# with 0x0 neither happened (and no partial checksum either).
	gso_out=$(field "$RUN/ga.log" to_device_gso)
	gso_in=$(field "$RUN/gb.log" from_device_gso)
	csum_out=$(field "$RUN/ga.log" to_device_csum)
	if [ "$pf" = 0x0 ]; then
		[ "$gso_out" = 0 ] && [ "$gso_in" = 0 ] && [ "$csum_out" = 0 ]
	else
		[ "${gso_out:-0}" -gt 0 ] && [ "${gso_in:-0}" -gt 0 ] && [ "${csum_out:-0}" -gt 0 ]
	fi
	if [ $? -eq 0 ]; then
		ok "$t: offloads in use as offered: A sent $gso_out GSO and $csum_out partial-checksum frames, B received $gso_in GSO frames"
	else
		notok "$t: A sent $gso_out GSO / $csum_out partial-checksum frames, B received $gso_in GSO"
	fi
	it_stop_pid "$PID_host_s1"
	it_stop_pid "$PID_host_s2"
	tap_gone "$t" "$NA" "$TA"
	tap_gone "$t" "$NB" "$TB"
done

check "namespaces removed" tap_ns_del "$NA"
check "namespaces removed" tap_ns_del "$NB"
tap_check_clean "tap guests" s1 s2
exit $IT_FAILED
