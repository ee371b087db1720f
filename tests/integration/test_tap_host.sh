#!/bin/sh
# The host's network stack as a peer: a namespace on the host-peer TAP
# (`vdev tap`, QNX's vp0) talking to a namespace behind a guest
# (`vnet-guest tap`).  Ping, iperf3 TCP both ways and UDP, with matching
# and with mismatched peerfeats (the TAP's offloads follow the mask or
# the peer's guest, and a wrong mask costs speed, never correctness);
# the TAP's carrier follows the peer link when the guest's VM stops and
# comes back.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tap_lib.sh"
tap_setup "tap host peer"

NH="vnt-h-$TAP_ID"
NG="vnt-g-$TAP_ID"
TH="vph$TAP_ID"
TG="vpg$TAP_ID"
tap_ns "$NH" && tap_ns "$NG" || { notok "cannot create namespaces"; exit 1; }

start_taphost() { # peerfeats
	it_bg host_hp "$HOST" --system hp vdev tap ifname "$TH" name vp peer "$(node vm a)" \
		peerfeats "$1" netns "$NH" addr 10.78.0.1/24 addr fd78::1/64
	wait_for "$(node hp vp)" 5
}

# host-side mask, guest-side mask, the TAP's offloads once linked
for combo in "auto auto CSUM|TSO4|TSO6|TSO_ECN|UFO" "0x0 0x7fc3 none" "0x7fc3 0x0 CSUM|TSO4|TSO6|TSO_ECN|UFO"; do
	set -- $combo
	t="tap peerfeats $1, vm peerfeats $2"
	fresh_logs host_hp host_vm
	start_taphost "$1"
	start_host vm a peer "$(node hp vp)" peerfeats "$2"
	if ! wait_log host_hp "vp: link up" 5; then
		notok "$t: no link: $(cat "$RUN/host_hp.log")"
		break
	fi
	if ! tap_guest g "$(sock vm a)" "$TG" "$NG" 10.78.0.2/24 --offloads --addr fd78::2/64; then
		notok "$t: vnet-guest tap did not start: $(cat "$RUN/g.log")"
		break
	fi
	# The TAP starts with no offloads and logs every change.
	if [ "$3" = none ]; then
		wait_carrier "$NH" "$TH" up && ! grep -q "$TH offloads" "$RUN/host_hp.log"
	else
		wait_carrier "$NH" "$TH" up && wait_log host_hp "$TH offloads $3 " 5
	fi
	if [ $? -eq 0 ]; then
		ok "$t: host TAP carrier up, offloads $3"
	else
		notok "$t: host TAP: $(ip -n "$NH" link show "$TH"; grep offloads "$RUN/host_hp.log")"
	fi
	tap_ping "$t" "$NH" 10.78.0.2
	tap_ping "$t: IPv6 to the host" "$NG" fd78::1 5
	tap_tcp "$t: host to guest" "$NH" "$NG" 10.78.0.2
	tap_tcp "$t: guest to host" "$NH" "$NG" 10.78.0.2 -R
	tap_udp "$t: guest to host" "$NG" "$NH" 10.78.0.1

	# The guest's VM goes away: the host's interface loses its carrier,
	# and gets it back when the VM returns.
	it_stop_pid "$PID_g"
	it_stop_pid "$PID_host_vm"
	check "$t: host TAP carrier down while the VM is away" wait_carrier "$NH" "$TH" down
	fresh_logs host_vm
	start_host vm a peer "$(node hp vp)" peerfeats "$2"
	check "$t: host TAP carrier up when the VM is back" wait_carrier "$NH" "$TH" up
	it_stop_pid "$PID_host_vm"
	it_stop_pid "$PID_host_hp"
	# The TAP hands its peer TSO frames only when the mask lets it; the
	# guest sends TSO to the TAP when its own mask says the TAP takes it.
	gso_to=$(sed -n 's/.*stats vp: .*to peer [0-9]* frames [0-9]* bytes (\([0-9]*\) gso).*/\1/p' "$RUN/host_hp.log")
	gso_from=$(sed -n 's/.*from peer [0-9]* frames [0-9]* bytes (\([0-9]*\) gso).*/\1/p' "$RUN/host_hp.log")
	case "$1/$2" in
	auto/auto) [ "${gso_to:-0}" -gt 0 ] && [ "${gso_from:-0}" -gt 0 ] ;;
	0x0/*) [ "$gso_to" = 0 ] && [ "${gso_from:-0}" -gt 0 ] ;;
	*) [ "${gso_to:-0}" -gt 0 ] && [ "$gso_from" = 0 ] ;;
	esac
	if [ $? -eq 0 ]; then
		ok "$t: GSO frames TAP to peer $gso_to, peer to TAP $gso_from, as the masks allow"
	else
		notok "$t: GSO frames TAP to peer '$gso_to', peer to TAP '$gso_from'"
	fi
	if grep -q "stats vp: .*to peer [1-9][0-9]* frames" "$RUN/host_hp.log" &&
	   grep -q "drops: link down [0-9]* truncated 0 bad frame 0 tap refused 0" "$RUN/host_hp.log"; then
		ok "$t: host TAP counters: $(sed -n 's/.*stats vp: //p' "$RUN/host_hp.log" | cut -c1-160)"
	else
		notok "$t: host TAP counters: $(grep stats "$RUN/host_hp.log")"
	fi
	tap_gone "$t" "$NH" "$TH"
	tap_gone "$t" "$NG" "$TG"
done

check "namespaces removed" tap_ns_del "$NH"
check "namespaces removed" tap_ns_del "$NG"
tap_check_clean "tap host peer" hp vm
exit $IT_FAILED
