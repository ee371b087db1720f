#!/bin/sh
# Linux guests in QEMU (TCG) drive vdevs served as vhost-user backends.
#  1. A Linux guest on a vhost-user vdev whose peer is our vnet-guest on
#     another vnet-host: our test frames both ways (Linux pings, our
#     guest pongs; our guest pings, Linux pongs), every byte checked.
#  2. Two Linux guests linked as peers through two vnet-hosts: ping and
#     iperf3 over link-local IPv6, for virtio-pci modern (split),
#     packed=on, disable-modern=on (legacy) and microvm's virtio-mmio
#     (version 1, QEMU's default, and version 2); then with offloads;
#     then multiqueue (2 pairs, mq=on, split and packed): after ethtool -L
#     eth0 combined 2, iperf3 with several streams, and every pair of both
#     vdevs carries frames both ways.
#     The same two vnet-hosts serve every variant: each QEMU that goes
#     away and the next that comes is a frontend reconnect.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/qemu_lib.sh"

if ! qemu_prepare; then
	skip "Linux guests in QEMU: $QEMU_SKIP"
	exit 0
fi
it_setup
T0=$(date +%s)
N=20

# ---- 1. Linux guest <-> vnet-guest ---------------------------------------
MAC_L=52:54:00:00:06:0a
MAC_G=52:54:00:00:06:0b
it_bg host_vm1 "$HOST" --system vm1 vdev virtio-net name a mac $MAC_L \
	peer "$(node vm2 b)" vhost-user "$RUN/vu1.sock"
start_host vm2 b mac $MAC_G peer "$(node vm1 a)"
wait_for "$RUN/vu1.sock" 5
if ! wait_log host_vm1 "link up" 5; then
	notok "the vhost-user vdev's peer link did not come up: $(cat "$RUN/host_vm1.log")"
	exit 1
fi
it_bg pong "$GUEST" --socket "$(sock vm2 b)" pong --count $N --timeout 120
t=$(date +%s)
qemu_start lx1 "$RUN/vu1.sock" $MAC_L modern frames $MAC_G $N
if qemu_wait lx1 "VT-PING rc=" 120 && grep -q "VT-PING rc=0" "$RUN/lx1.log"; then
	ok "Linux virtio-net (pci modern, split) sent $N of our PING frames over vhost-user and the peer link; all $N PONGs came back intact ($(grep -o 'lx_frames: sent.*' "$RUN/lx1.log"), $(( $(date +%s) - t )) s from boot)"
else
	notok "Linux -> vnet-guest frames: $(grep -a 'VT-\|lx_frames\|virtio' "$RUN/lx1.log" | tail -20) $(cat "$RUN/pong.log")"
fi
wait "$PID_pong"
if qemu_wait lx1 "VT-PONG-START" 30; then
	sleep 1
	"$GUEST" --socket "$(sock vm2 b)" ping --count $N --timeout 20 $MAC_L >"$RUN/ping" 2>&1
	prc=$?
	qemu_wait lx1 "VT-PONG rc=" 30
	if [ $prc -eq 0 ] && [ "$(field "$RUN/ping" received)" = $N ] && [ "$(field "$RUN/ping" corrupted)" = 0 ] &&
	   grep -q "VT-PONG rc=0" "$RUN/lx1.log"; then
		ok "our vnet-guest's $N PINGs reached the Linux guest, which answered all of them intact (rtt_us $(field "$RUN/ping" rtt_us))"
	else
		notok "vnet-guest -> Linux frames: ping exit $prc: $(cat "$RUN/ping") $(grep -a 'VT-\|lx_frames' "$RUN/lx1.log" | tail -5)"
	fi
else
	notok "the Linux guest never started answering: $(tail -20 "$RUN/lx1.log")"
fi
it_bg pong2 "$GUEST" --socket "$(sock vm2 b)" pong --timeout 120
if qemu_wait lx1 "VT-PING2 rc=" 120 && grep -q "VT-PING2 rc=0" "$RUN/lx1.log" &&
   [ "$(grep -c 'rings started' "$RUN/host_vm1.log")" -ge 2 ] && grep -q "rings stopped" "$RUN/host_vm1.log"; then
	ok "after the Linux driver was reloaded (rings stopped and started again on the same connection) $N more PINGs came back intact"
else
	notok "after a driver reload: $(grep -a 'VT-\|lx_frames' "$RUN/lx1.log" | tail -6) $(grep 'rings' "$RUN/host_vm1.log")"
fi
it_stop_pid "$PID_pong2"
qemu_wait lx1 "VT-DONE" 30
qemu_end lx1
if grep -q "vhost-user frontend gone" "$RUN/host_vm1.log"; then
	ok "QEMU's leaving reset the vhost-user vdev, which listens again"
else
	notok "no frontend disconnect seen: $(grep -v debug "$RUN/host_vm1.log" | tail -5)"
fi
it_stop_pid "$PID_host_vm1"
if grep -q "bad_frame 0 .*needs_reset 0" "$RUN/host_vm1.log"; then
	ok "the vhost-user vdev counted no bad frame and never needed a reset"
else
	notok "vhost-user vdev counters: $(grep 'stats' "$RUN/host_vm1.log")"
fi

# ---- 1b. the backend goes away under a running QEMU and comes back --------
# QEMU (chardev reconnect=1) redials; the rings restart where the guest's
# used ring says, and frames flow again without the guest noticing more
# than a link blip.
it_bg pong3 "$GUEST" --socket "$(sock vm2 b)" pong --count 100000 --timeout 60
it_bg host_vm1 "$HOST" --system vm1 vdev virtio-net name a mac $MAC_L \
	peer "$(node vm2 b)" vhost-user "$RUN/vu1.sock"
wait_for "$RUN/vu1.sock" 5
wait_log host_vm1 "link up" 5
QEMU_CHARDEV_OPTS=",reconnect=1"
qemu_start lx2 "$RUN/vu1.sock" $MAC_L modern frames-loop $MAC_G 5
QEMU_CHARDEV_OPTS=""
if qemu_wait lx2 "VT-ROUND [0-9]* rc=0" 90; then
	it_stop_pid "$PID_host_vm1"
	sleep 2
	it_bg host_vm1b "$HOST" --system vm1 vdev virtio-net name a mac $MAC_L \
		peer "$(node vm2 b)" vhost-user "$RUN/vu1.sock"
	if qemu_wait lx2 "VT-LOOP" 120 && grep -q "VT-LOOP phase=3" "$RUN/lx2.log" &&
	   grep -q "rings started" "$RUN/host_vm1b.log"; then
		ok "vnet-host restarted under a running QEMU: QEMU reconnected, the rings restarted and frames flow again ($(grep -c 'VT-ROUND' "$RUN/lx2.log") rounds)"
	else
		notok "backend restart: $(grep -a 'VT-' "$RUN/lx2.log" | tail -8) // $(grep -v debug "$RUN/host_vm1b.log" | tail -10)"
	fi
	it_stop_pid "$PID_host_vm1b"
else
	notok "backend restart: no first round: $(grep -a 'VT-\|vhost' "$RUN/lx2.log" | tail -8)"
	it_stop_pid "$PID_host_vm1"
fi
qemu_end lx2
it_stop_pid "$PID_pong3"
it_stop_pid "$PID_host_vm2"
T1=$(date +%s)

# ---- 2. two Linux guests, peers through two vnet-hosts ----------------------
# pair_run SYSA SYSB "VDEV OPTIONS" VARIANTS...: two vnet-hosts with one
# vhost-user vdev each, linked; for each variant a Linux guest on each
# (iperf3 server on A, client on B).  The hosts serve every variant in turn.
pair_run() {
	sa=$1 sb=$2 vo=$3; shift 3
	# shellcheck disable=SC2086
	it_bg host_$sa "$HOST" --system $sa vdev virtio-net name c mac $MAC_A \
		peer "$(node $sb d)" $vo vhost-user "$RUN/$sa.sock"
	# shellcheck disable=SC2086
	it_bg host_$sb "$HOST" --system $sb vdev virtio-net name d mac $MAC_B \
		peer "$(node $sa c)" $vo vhost-user "$RUN/$sb.sock"
	wait_for "$RUN/$sa.sock" 5 && wait_for "$RUN/$sb.sock" 5
	if ! wait_log host_$sa "link up" 5; then
		notok "the two vhost-user vdevs did not link: $(cat "$RUN/host_$sa.log" "$RUN/host_$sb.log")"
		return
	fi
	for var in "$@"; do
		t=$(date +%s)
		qemu_start srv_$var "$RUN/$sa.sock" $MAC_A $var iperf-server
		qemu_start cli_$var "$RUN/$sb.sock" $MAC_B $var iperf-client "$LL_A"
		qemu_wait cli_$var "VT-DONE" 140
		qemu_wait srv_$var "VT-DONE" 20
		drv=$(sed -n 's/^VT-DRIVER \([01]*\) .*/\1/p' "$RUN/cli_$var.log" | head -n 1)
		pl=$(sed -n 's/^VT-PING rc=\([0-9]*\) \([0-9]*\) packets received.*/\1 \2/p' "$RUN/cli_$var.log")
		ip=$(sed -n 's/^VT-IPERF rc=0 .* \([0-9.]* Mbits\/sec\).*receiver.*/\1/p' "$RUN/cli_$var.log")
		if [ "$pl" = "0 5" ]; then
			ok "$var: two Linux guests ping each other through two vhost-user vdevs and their peer link (5 of 5)"
		else
			notok "$var: ping: $(grep -a 'VT-\|virtio\|error' "$RUN/cli_$var.log" | tail -15) // $(grep -a 'VT-' "$RUN/srv_$var.log" | tail -5)"
		fi
		if [ -n "$ip" ] && grep -q "VT-IPERF-SERVER rc=0" "$RUN/srv_$var.log"; then
			ok "$var: iperf3 between the two Linux guests: $ip ($(( $(date +%s) - t )) s for both boots and runs)"
		else
			notok "$var: iperf3: $(grep -a 'VT-' "$RUN/cli_$var.log" | tail -5) // $(grep -a 'VT-' "$RUN/srv_$var.log" | tail -5)"
		fi
		case $var in
		*packed) want=packed ;;
		*) want=split ;;
		esac
		# VERSION_1 (bit 32; Linux's string is bit 0 first) only for
		# the modern interfaces.
		case $var in
		legacy|mmio) v1=0 iface="legacy interface" ;;
		*) v1=1 iface="VERSION_1" ;;
		esac
		if grep 'rings started' "$RUN/host_$sb.log" | tail -n 1 | grep -q "rings started ($want" &&
		   [ "$(echo "$drv" | cut -c33)" = $v1 ]; then
			ok "$var: the vdev ran $want rings, $iface (Linux driver features: ${drv:-?})"
		else
			notok "$var: expected $want rings and VERSION_1=$v1: '$drv' $(grep 'rings started' "$RUN/host_$sb.log" | tail -2)"
		fi
		if [ "$var" = offload ]; then
			# Linux's features string is bit 0 first: CSUM (0), GUEST_CSUM
			# (1), HOST_TSO4 (11) must be on with peerfeats 0x7fc3.
			mtu=$(sed -n 's/^VT-DRIVER [01]* [a-z_]* mtu \([0-9]*\).*/\1/p' "$RUN/cli_$var.log")
			if [ "$(echo "$drv" | cut -c1-2)" = 11 ] && [ "$(echo "$drv" | cut -c12)" = 1 ] &&
			   [ "$mtu" = 9000 ] && grep -q "MTU 9000" "$RUN/host_$sb.log"; then
				ok "$var: Linux negotiated checksum and TSO offloads through vhost-user, and QEMU's host_mtu=9000 reached the vdev"
			else
				notok "$var: features '$drv' mtu '$mtu': $(grep -a 'VT-DRIVER' "$RUN/cli_$var.log") $(grep MTU "$RUN/host_$sb.log")"
			fi
		fi
		case $var in mq*) mq_check $var ;; esac
		qemu_end cli_$var
		qemu_end srv_$var
	done
	it_stop_pid "$(eval echo \$PID_host_$sa)"
	it_stop_pid "$(eval echo \$PID_host_$sb)"
	if grep -q "bad_frame 0 .*needs_reset 0" "$RUN/host_$sa.log" &&
	   grep -q "bad_frame 0 .*needs_reset 0" "$RUN/host_$sb.log"; then
		ok "$vo ($*): both vhost-user vdevs counted no bad frame and never needed a reset"
	else
		notok "$vo ($*): vdev counters: $(grep -h 'stats' "$RUN/host_$sa.log" "$RUN/host_$sb.log")"
	fi
}

# mq_check VARIANT (in pair_run, both guests done, the hosts still up):
# each guest turned on its second pair (ethtool -L; QEMU, which runs the
# controlq, enabled the pair's rings with SET_VRING_ENABLE), each vdev
# took 2 pairs in use, and every pair of both vdevs carried frames both
# ways: the client's streams on both transmitqs, the server's answers on
# both of its own.
mq_check() {
	chs=$(sed -n 's/^VT-CHANNELS //p' "$RUN/srv_$1.log" | tr -d '\r')
	chc=$(sed -n 's/^VT-CHANNELS //p' "$RUN/cli_$1.log" | tr -d '\r')
	if two_pairs "$chs" && two_pairs "$chc"; then
		ok "$1: ethtool -L eth0 combined 2 in both Linux guests ($chc)"
	else
		notok "$1: ethtool -L eth0 combined 2: server '$chs', client '$chc'"
	fi
	pairs_busy $sa 2
	ba=$?
	pairs_busy $sb 2
	bb=$?
	if [ $ba -eq 0 ] && [ $bb -eq 0 ] && grep -q "2 queue pairs in use" "$RUN/host_$sa.log" &&
	   grep -q "2 queue pairs in use" "$RUN/host_$sb.log"; then
		ok "$1: both vdevs had 2 pairs in use, and each pair of both carried frames both ways ($QEMU_MQ_STREAMS iperf3 streams; $(pairs_said $sa); $(pairs_said $sb))"
	else
		notok "$1: not every pair carried frames: $(pairs_said $sa); $(pairs_said $sb); $(grep -h "pairs\|vring\|VRING" "$RUN/host_$sa.log" "$RUN/host_$sb.log" | tail -12)"
	fi
}
# two_pairs "VT-CHANNELS line": ethtool succeeded, 2 pairs of 2 after it,
# Linux transmits on 2 queues.
two_pairs() { case $1 in "rc=0 "*" after: 2 2 txqs: 2 "*) return 0 ;; esac; return 1; }
# pairs_said SYSTEM: the text stats' frames per pair (from pairs_busy).
pairs_said() { sed -n "s/.*; pairs: in_use [0-9]* \(.*\)/$1 \1/p" "$RUN/stats_$1.txt" 2>/dev/null | head -n 1; }

MAC_A=52:54:00:00:06:1a
MAC_B=52:54:00:00:06:1b
LL_A=$(mac_ll6 $MAC_A)
# VHOST_QEMU_VARIANTS: the variants to run (all by default).
only() { for v in $1; do case " ${VHOST_QEMU_VARIANTS:-$1} " in *" $v "*) printf '%s ' $v ;; esac; done; }
plain=$(only "modern packed legacy mmio mmio2")
[ -z "$plain" ] || pair_run vm3 vm4 "peerfeats 0x0" $plain
# The offloads peerfeats allows reach a real driver: checksum offload and
# TSO negotiated by Linux, GSO frames across the link, a jumbo MTU.
[ -z "$(only offload)" ] || pair_run vm5 vm6 "peerfeats 0x7fc3" offload
# Multiqueue: vdevs with `queues 2`, QEMU mq=on; fresh vdevs for each
# ring layout, so their per-pair counters are that run's alone.
if [ -n "$QEMU_MQ_SKIP" ]; then
	skip "two Linux guests with 2 queue pairs: $QEMU_MQ_SKIP"
else
	[ -z "$(only mq)" ] || pair_run vm9 vm10 "peerfeats 0x0 queues 2" mq
	[ -z "$(only mq_packed)" ] || pair_run vm11 vm12 "peerfeats 0x0 queues 2" mq_packed
fi
T2=$(date +%s)

# ---- 3. a TCP stream across a backend restart ------------------------------
# Two Linux guests, iperf3 from B to A for 12 s; 3 s in, B's vnet-host is
# stopped and started again.  QEMU (reconnect=1) redials, the rings start
# where the guest's used ring says, and TCP retransmits what the outage
# lost: the stream completes.  The outage is the time from stopping the
# old process to the new one's rings running again.
if [ -z "${VHOST_QEMU_VARIANTS:-}" ]; then
	it_bg host_vm7 "$HOST" --system vm7 vdev virtio-net name c mac $MAC_A \
		peer "$(node vm8 d)" vhost-user "$RUN/vm7.sock"
	it_bg host_vm8 "$HOST" --system vm8 vdev virtio-net name d mac $MAC_B \
		peer "$(node vm7 c)" vhost-user "$RUN/vm8.sock"
	wait_for "$RUN/vm7.sock" 5 && wait_for "$RUN/vm8.sock" 5
	wait_log host_vm7 "link up" 5
	qemu_start srv_rs "$RUN/vm7.sock" $MAC_A modern iperf-server twice
	QEMU_CHARDEV_OPTS=",reconnect=1"
	qemu_start cli_rs "$RUN/vm8.sock" $MAC_B modern iperf-long "$LL_A" 12
	QEMU_CHARDEV_OPTS=""
	if qemu_wait cli_rs "VT-IPERF-START" 120; then
		sleep 3
		t0=$(date +%s%N)
		it_stop_pid "$PID_host_vm8"
		it_bg host_vm8b "$HOST" --system vm8 vdev virtio-net name d mac $MAC_B \
			peer "$(node vm7 c)" vhost-user "$RUN/vm8.sock"
		wait_log host_vm8b "rings started" 20
		outage=$(( ($(date +%s%N) - t0) / 1000000 ))
		qemu_wait cli_rs "VT-DONE" 60
		zero=$(grep -c "VT-IV .* 0.00 Mbits/sec" "$RUN/cli_rs.log")
		ip=$(sed -n 's/^VT-IPERF rc=0 .* \([0-9.]* Mbits\/sec\).*receiver.*/\1/p' "$RUN/cli_rs.log")
		if [ -n "$ip" ] && grep -q "rings started" "$RUN/host_vm8b.log"; then
			ok "a TCP stream (iperf3, 12 s) completed across a vnet-host restart: $ip; the device was away $outage ms (stop to rings running again), $zero half-second intervals without data"
		else
			notok "TCP across a backend restart: $(grep -a 'VT-' "$RUN/cli_rs.log" | tail -8) // $(grep -v debug "$RUN/host_vm8b.log" | tail -6)"
		fi
		it_stop_pid "$PID_host_vm8b"
	else
		notok "TCP across a backend restart: the stream did not start: $(grep -a 'VT-' "$RUN/cli_rs.log" | tail -5)"
		it_stop_pid "$PID_host_vm8"
	fi
	qemu_end cli_rs
	qemu_end srv_rs
	it_stop_pid "$PID_host_vm7"
fi
T3=$(date +%s)
echo "# timing: Linux guest <-> vnet-guest $((T1 - T0)) s; two Linux guests, all variants $((T2 - T1)) s; TCP across a restart $((T3 - T2)) s"
it_check_clean "after every QEMU and vnet-host stopped"
exit $IT_FAILED
