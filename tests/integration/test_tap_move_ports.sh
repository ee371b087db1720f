#!/bin/sh
# Host-peer TAPs with their own bridge and VXLAN port taken over by a new
# vnet-host mid-stream (`vnet-host --incoming`, host/tap/tap_move.c).
# One vnet-host serves two tap vdevs in namespace NH:
#   vpa: TAP in bridge BRA, which vnet-host made; the test gives BRA the
#        host's addresses, so a guest (namespace GA) talks to BRA;
#   vpb: TAP in bridge BRB with VXLAN port vxlan$VNI to 10.99.0.2, which
#        vnet-host made; a veth underlay leads to namespace NR, the "other
#        machine", whose own VXLAN device carries 10.82.0.1, which a
#        guest (namespace GB) reaches through TAP -> bridge -> VXLAN.
# First, incoming processes with other options are refused, each naming
# the difference, and the running one serves on.  Then, with a TCP
# stream through each port, the right options take both vdevs over; the
# streams complete (the outage is counted: 100-ms intervals without
# data); the TAPs, bridges (with their addresses) and the VXLAN port keep
# their index and membership; the old process ended without deleting
# what it made; and when the new one ends, all of it is gone.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tap_lib.sh"
tap_setup "tap move with bridge and vxlan ports"

NH="vnt-ph-$TAP_ID"; NR="vnt-pr-$TAP_ID"
GA="vnt-pa-$TAP_ID"; GB="vnt-pb-$TAP_ID"
TA="vpa$TAP_ID"; TB="vpb$TAP_ID"
BRA="bra$TAP_ID"; BRB="brb$TAP_ID"
VNI=4343; VX="vxlan$VNI"
for ns in "$NH" "$NR" "$GA" "$GB"; do
	tap_ns "$ns" || { notok "cannot create namespace $ns"; exit 1; }
done
# The underlay (10.99.0.1 here, 10.99.0.2 on the other machine) and the
# other machine's VXLAN device.
if ! tap_underlay "$NH" "$NR" "pxu$TAP_ID" "pxv$TAP_ID" ||
   ! ip -n "$NR" link add "$VX" type vxlan id $VNI remote 10.99.0.1 dstport 4789 ||
   ! ip -n "$NR" addr add 10.82.0.1/24 dev "$VX" || ! ip -n "$NR" link set "$VX" up; then
	notok "cannot make the underlay"; exit 1
fi

# tap_opts [BRIDGE_A [BRIDGE_B [VXLAN_B]]]: the tap vdevs' options
# ("-" leaves the word out).
tap_opts() {
	bra=${1:-$BRA}; brb=${2:-$BRB}; vxb=${3:-$VNI@10.99.0.2}
	# shellcheck disable=SC2046 # the words are meant to split
	echo vdev tap ifname "$TA" name vpa peer "$(node vm a)" netns "$NH" \
		$([ "$bra" = - ] || echo bridge "$bra")
	# shellcheck disable=SC2046
	echo vdev tap ifname "$TB" name vpb peer "$(node vm b)" netns "$NH" \
		$([ "$brb" = - ] || echo bridge "$brb") $([ "$vxb" = - ] || echo vxlan "$vxb")
}

# shellcheck disable=SC2046
it_bg host_hp "$HOST" --system hp $(tap_opts)
wait_for "$(node hp vpb)" 5
it_bg host_vm "$HOST" --system vm vdev virtio-net name a peer "$(node hp vpa)" \
	vdev virtio-net name b peer "$(node hp vpb)"
wait_for "$(sock vm b)" 5
wait_log host_hp "vpa: link up" 5 && wait_log host_hp "vpb: link up" 5
ip -n "$NH" addr add 10.81.0.1/24 dev "$BRA"
ip -n "$NH" addr add fd81::1/64 dev "$BRA" nodad
if ! tap_guest ga "$(sock vm a)" "vga$TAP_ID" "$GA" 10.81.0.2/24 --addr fd81::2/64 ||
   ! tap_guest gb "$(sock vm b)" "vgb$TAP_ID" "$GB" 10.82.0.2/24; then
	notok "vnet-guest tap did not start: $(cat "$RUN/ga.log" "$RUN/gb.log")"
	exit 1
fi
wait_carrier "$NH" "$TA" up && wait_carrier "$NH" "$TB" up
tap_ping "before: guest A to bridge $BRA" "$GA" 10.81.0.1 10
tap_ping "before: guest B through $BRB and $VX to the other machine" "$GB" 10.82.0.1 10

# state: "INDEX MASTER" of each link, and BRA's addresses.
state() {
	for l in "$TA" "$BRA" "$TB" "$BRB" "$VX"; do
		ip -n "$NH" -o link show "$l" 2>/dev/null |
			sed -n 's/^\([0-9]*\): .*master \([^ ]*\).*/\1 \2/p; t; s/^\([0-9]*\): .*/\1 -/p'
	done | tr '\n' ' '
	ip -n "$NH" -o addr show dev "$BRA" scope global |
		grep -o 'inet6\? [0-9a-f.:]*/[0-9]*' | tr '\n' ' '
}
state0=$(state)

# refused WHAT PATTERN [tap_opts args]: an incoming vnet-host with these
# options ends by itself with an error naming PATTERN, and the running
# one serves on.
refused() {
	what=$1; pat=$2; shift 2
	# shellcheck disable=SC2046
	timeout 10 "$HOST" --incoming --system hp $(tap_opts "$@") >"$RUN/refused.log" 2>&1
	rc=$?
	if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q -- "$pat" "$RUN/refused.log" &&
	   kill -0 "$PID_host_hp" 2>/dev/null && ! grep -q "handed" "$RUN/host_hp.log"; then
		ok "refused, $what: $(grep -m1 -- "$pat" "$RUN/refused.log")"
	else
		notok "$what: exit $rc: $(tr '\n' ' ' <"$RUN/refused.log")"
	fi
}
refused "a bridge that is a veth" "pxu$TAP_ID is a veth, not a bridge" "pxu$TAP_ID"
refused "the TAP in another bridge" "TAP $TB is a port of $BRB; the options say bridge $BRA" \
	"$BRA" "$BRA" -
refused "another VXLAN remote" "$VX's remote is 10.99.0.2; the options say 10.99.0.3" \
	"$BRA" "$BRB" "$VNI@10.99.0.3"
refused "a VXLAN port that does not exist" "vxlan4344 (netns $NH): no such interface" \
	"$BRA" "$BRB" "4344@10.99.0.2"
refused "the VXLAN port left out (the running process says no)" \
	"vdev vpb has bridge $BRB vxlan $VX; the incoming vnet-host names bridge $BRB" \
	"$BRA" "$BRB" -
check "after the refusals, the running vnet-host kept every link as it was" [ "$(state)" = "$state0" ]
tap_ping "after the refusals: guest B through $VX" "$GB" 10.82.0.1 5

# 8 s of TCP through each port; 2 s in, the takeover.
iperf_server "$NH" 10.81.0.1; PID_srv_a=$PID_iperf_srv
iperf_server "$NR" 10.82.0.1; PID_srv_b=$PID_iperf_srv
it_bg iperf_a timeout 30 ip netns exec "$GA" iperf3 -c 10.81.0.1 -t 8 -i 0.1 -f m
it_bg iperf_b timeout 30 ip netns exec "$GB" iperf3 -c 10.82.0.1 -t 8 -i 0.1 -f m
# txdrop IFNAME: frames the kernel dropped on a TAP (no process reading).
txdrop() { ip -n "$NH" -s -o link show "$1" | sed -n 's/.*TX:[^\\]*\\ *[0-9]* *[0-9]* *[0-9]* *\([0-9]*\).*/\1/p'; }
drop_a=$(txdrop "$TA"); drop_b=$(txdrop "$TB")
sleep 2
# shellcheck disable=SC2046
it_bg host_hp2 "$HOST" --incoming --system hp $(tap_opts)
for s in a b; do
	eval "wait \$PID_iperf_$s"; crc=$?
	[ $s = a ] && drops=$(($(txdrop "$TA") - drop_a)) || drops=$(($(txdrop "$TB") - drop_b))
	zero=$(grep -c " 0.00 Mbits/sec" "$RUN/iperf_$s.log")
	rate=$(sed -n 's/.* \([0-9.]* Mbits\/sec\).*receiver.*/\1/p' "$RUN/iperf_$s.log")
	if [ $crc -eq 0 ] && [ -n "$rate" ]; then
		ok "guest $s: a TCP stream (8 s) completed across the takeover: $rate, $zero 100-ms intervals without data, $drops frames to the TAP dropped by the kernel"
	else
		notok "guest $s: iperf3 exit $crc: $(tail -n 6 "$RUN/iperf_$s.log" | tr '\n' ' ')"
	fi
done
wait "$PID_srv_a" 2>/dev/null; wait "$PID_srv_b" 2>/dev/null
if grep -q "vpa: took over $TA with bridge $BRA from .*ours to delete now: the bridge" "$RUN/host_hp2.log" &&
   grep -q "vpb: took over $TB with bridge $BRB vxlan $VX from .*ours to delete now: the bridge and the VXLAN port" \
	"$RUN/host_hp2.log"; then
	ok "the new vnet-host took over both TAPs with their bridges and VXLAN port, and owns them"
else
	notok "the new vnet-host: $(tr '\n' ' ' <"$RUN/host_hp2.log")"
fi
i=0
while kill -0 "$PID_host_hp" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check "the old vnet-host handed over what it made and ended by itself" \
	sh -c "! kill -0 $PID_host_hp 2>/dev/null && grep -q 'vpb: what we made ($BRB, $VX) is the new process' '$RUN/host_hp.log'"
state1=$(state)
if [ "$state1" = "$state0" ] &&
   echo "$state0" | grep -q "^[0-9]* $BRA [0-9]* - [0-9]* $BRB [0-9]* - [0-9]* $BRB inet" &&
   echo "$state0" | grep -q "inet 10.81.0.1/24" && echo "$state0" | grep -q "inet6 fd81::1/64"; then
	ok "the same links with the same bridge ports and addresses: $state1"
else
	notok "links before: '$state0' after: '$state1'"
fi
if ip -n "$NH" -d link show "$VX" | grep -q "vxlan id $VNI remote 10.99.0.2 .*dstport 4789"; then
	ok "$VX is as it was: id $VNI remote 10.99.0.2 dstport 4789"
else
	notok "$VX: $(ip -n "$NH" -d link show "$VX" | tr '\n' ' ')"
fi
wait_carrier "$NH" "$TA" up && wait_carrier "$NH" "$TB" up
tap_ping "after: guest A to bridge $BRA" "$GA" 10.81.0.1 10
tap_ping "after: guest A to bridge $BRA over IPv6" "$GA" fd81::1 5
tap_ping "after: guest B through $BRB and $VX" "$GB" 10.82.0.1 10

# The new process owns everything the first one made: it goes with it.
for p in "$PID_ga" "$PID_gb" "$PID_host_vm" "$PID_host_hp2"; do it_stop_pid "$p"; done
tap_gone "the new vnet-host removed what the first one made" "$NH" "$TA" "$TB" "$BRA" "$BRB" "$VX"
for ns in "$NH" "$NR" "$GA" "$GB"; do check "namespace $ns removed" tap_ns_del "$ns"; done
tap_check_clean "tap move ports" hp vm
exit $IT_FAILED
