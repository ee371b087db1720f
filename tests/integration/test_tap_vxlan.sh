#!/bin/sh
# Beyond one machine: a vnet link's frames carried over VXLAN.  Two
# namespaces stand for two machines joined by an underlay (a veth pair
# the test makes).  On each, one vnet-host has a guest's virtio-net vdev
# whose peer is a host-peer TAP (`vdev tap`) in that machine's
# namespace; vnet-host makes a bridge there with the TAP and a VXLAN port
# (created with libnl) to the other machine.  The guests' stacks (each in
# its own namespace, `vnet-guest tap`) reach each other through
# guest -> vnet -> TAP -> bridge -> VXLAN -> underlay -> and back up.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tap_lib.sh"
tap_setup "tap vxlan"

M1="vnt-m1-$TAP_ID"; M2="vnt-m2-$TAP_ID"
G1="vnt-g1-$TAP_ID"; G2="vnt-g2-$TAP_ID"
VNI=4242
for ns in "$M1" "$M2" "$G1" "$G2"; do
	tap_ns "$ns" || { notok "cannot create namespace $ns"; exit 1; }
done
# The underlay: 10.99.0.1 on machine 1, 10.99.0.2 on machine 2.
if ! tap_underlay "$M1" "$M2" "vxu$TAP_ID" "vxv$TAP_ID"; then
	notok "cannot make the underlay"; exit 1
fi

machine() { # N remote-underlay
	it_bg "host_m$1" "$HOST" --system "m$1" \
		vdev virtio-net name a peer "$(node "m$1" vp)" peerfeats auto \
		vdev tap ifname "vp$1x$TAP_ID" name vp peer "$(node "m$1" a)" peerfeats auto \
			netns "vnt-m$1-$TAP_ID" bridge "br$1x$TAP_ID" vxlan "$VNI@$2"
	wait_for "$(sock "m$1" a)" 5
}
machine 1 10.99.0.2
machine 2 10.99.0.1
for m in 1 2; do
	if wait_log "host_m$m" "vp: link up" 5 &&
	   grep -q "vdev vp: tap vp${m}x$TAP_ID netns vnt-m$m-$TAP_ID bridge br${m}x$TAP_ID vxlan vxlan$VNI to" \
		"$RUN/host_m$m.log"; then
		ok "machine $m: guest vdev linked to the host TAP, bridged with vxlan$VNI"
	else
		notok "machine $m: $(cat "$RUN/host_m$m.log")"
	fi
done
if ip -n "$M1" -d link show "vxlan$VNI" | grep -q "vxlan id $VNI remote 10.99.0.2" &&
   ip -n "$M1" link show "vxlan$VNI" | grep -q "master br1x$TAP_ID" &&
   ip -n "$M1" link show "vp1x$TAP_ID" | grep -q "master br1x$TAP_ID"; then
	ok "machine 1: vxlan$VNI to 10.99.0.2 and the TAP are ports of br1x$TAP_ID"
else
	notok "machine 1 links: $(ip -n "$M1" -d link show)"
fi

tap_guest g1 "$(sock m1 a)" "vg1x$TAP_ID" "$G1" 192.168.77.1/24 --offloads &&
	tap_guest g2 "$(sock m2 a)" "vg2x$TAP_ID" "$G2" 192.168.77.2/24 --offloads ||
	notok "vnet-guest tap did not start: $(cat "$RUN/g1.log" "$RUN/g2.log")"

tap_ping "guest on machine 1 to guest on machine 2" "$G1" 192.168.77.2
tap_tcp "guest 1 to guest 2 over VXLAN" "$G1" "$G2" 192.168.77.2
tap_tcp "guest 2 to guest 1 over VXLAN" "$G1" "$G2" 192.168.77.2 -R
# The frames really crossed the underlay inside VXLAN: at least the 20
# pings (how many TCP adds depends on the speed and on GSO, which sends
# up to 64 KiB as one packet).
vx=$(ip -n "$M1" -s link show "vxlan$VNI" | awk '/TX:/ { getline; print $2; exit }')
if [ -n "$vx" ] && [ "$vx" -ge 20 ]; then
	ok "vxlan$VNI on machine 1 sent $vx packets"
else
	notok "vxlan$VNI counters: $(ip -n "$M1" -s link show "vxlan$VNI")"
fi

for p in "$PID_g1" "$PID_g2" "$PID_host_m1" "$PID_host_m2"; do it_stop_pid "$p"; done
tap_gone "machine 1: vnet-host removed what it made" "$M1" "vp1x$TAP_ID" "br1x$TAP_ID" "vxlan$VNI"
tap_gone "machine 2: vnet-host removed what it made" "$M2" "vp2x$TAP_ID" "br2x$TAP_ID" "vxlan$VNI"
for ns in "$M1" "$M2" "$G1" "$G2"; do check "namespace $ns removed" tap_ns_del "$ns"; done
tap_check_clean "tap vxlan" m1 m2
exit $IT_FAILED
