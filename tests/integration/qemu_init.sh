#!/bin/busybox sh
# /init of the vhost-user tests' Linux guests (copied into the initramfs
# by qemu_lib.sh).  Loads the virtio modules, brings eth0 up with its
# link-local IPv6 address only, runs the job named on the kernel command
# line and powers off.  Lines starting "VT-" are read by the test:
#   vt_mode=frames vt_a1=MAC vt_a2=N  lx_frames: N pings to MAC (our
#                                     vnet-guest pongs), then answers N,
#                                     reloads virtio_net, N pings again
#   vt_mode=frames-loop vt_a1=MAC vt_a2=N  rounds of N pings: until a
#                                     success, a failure, a success again
#   vt_mode=iperf-server              answers ping, serves one iperf3 run
#   vt_mode=iperf-client vt_a1=ADDR   pings ADDR, then iperf3 to it
#   vt_mode=iperf-long vt_a1=ADDR vt_a2=S  pings ADDR, says VT-IPERF-START,
#                                     then one iperf3 run of S seconds
#                                     (the test restarts a backend
#                                     meanwhile), its intervals as VT-IV
# and, with any mode:
#   vt_queues=N   ethtool -L eth0 combined N before eth0 goes up (the
#                 device has N pairs, mq=on); VT-CHANNELS says the pairs
#                 before and after, the transmit queues Linux uses and
#                 each one's CPUs (XPS)
#   vt_streams=N  iperf3 runs N parallel streams (-P N)
/bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/sbin /usr/bin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev

for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_mmio failover net_failover virtio_net; do
	insmod /lib/modules/$m.ko || echo "VT-WARN insmod $m failed"
done
for a in $(cat /proc/cmdline); do
	case $a in vt_*=*) export "$a" ;; esac
done

i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if [ ! -e /sys/class/net/eth0 ]; then
	echo "VT-RESULT fail no eth0"
	poweroff -f
fi
echo "VT-DRIVER $(cat /sys/class/net/eth0/device/features 2>/dev/null) $(basename "$(readlink /sys/class/net/eth0/device/driver)") mtu $(cat /sys/class/net/eth0/mtu)"
ip link set lo up
if [ -n "${vt_queues:-}" ]; then
	# Linux starts with as many pairs as vCPUs (one here); the frontend
	# turns VQ_PAIRS_SET into SET_VRING_ENABLE of the pairs' rings.
	# "MAX CURRENT" of ethtool -l's two "Combined:" lines.
	combined() { ethtool -l eth0 | awk '/^Combined:/ { printf "%s%s", s, $2; s = " " }'; }
	before=$(combined)
	ethtool -L eth0 combined "$vt_queues"
	rc=$?
	after=$(combined)
	set -- /sys/class/net/eth0/queues/tx-*
	echo "VT-CHANNELS rc=$rc max/current before: $before after: $after txqs: $# xps_cpus: $(cat /sys/class/net/eth0/queues/tx-*/xps_cpus 2>/dev/null | tr '\n' ' ')"
fi
# No duplicate address detection: the address is usable at once.
echo 0 >/proc/sys/net/ipv6/conf/eth0/accept_dad
ip link set eth0 up
i=0
while ! ip -6 addr show dev eth0 | grep -q fe80 && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
echo "VT-READY $(ip -6 addr show dev eth0 | sed -n 's/.*inet6 \(fe80[^ ]*\).*/\1/p')"

case $vt_mode in
frames)
	lx_frames eth0 ping "$vt_a1" "$vt_a2"
	echo "VT-PING rc=$?"
	echo "VT-PONG-START"
	lx_frames eth0 pong "$vt_a2"
	echo "VT-PONG rc=$?"
	# Driver reset: the frontend stops the rings (GET_VRING_BASE) and
	# starts them anew on the same connection.
	rmmod virtio_net
	insmod /lib/modules/virtio_net.ko
	i=0
	while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	ip link set eth0 up
	echo "VT-RELOADED"
	# Frames sent while the rings restart may be lost: wait until one
	# round trip works, then count.
	i=0
	until lx_frames eth0 ping "$vt_a1" 1 >/dev/null 2>&1 || [ $i -ge 20 ]; do i=$((i + 1)); done
	echo "VT-WARM tries=$i"
	lx_frames eth0 ping "$vt_a1" "$vt_a2"
	echo "VT-PING2 rc=$?"
	;;
frames-loop)
	# Rounds of N pings until one succeeded, later ones failed (the
	# backend went away) and one succeeded again (it came back).
	phase=0 r=0
	while [ $r -lt 80 ] && [ $phase -lt 3 ]; do
		lx_frames eth0 ping "$vt_a1" "$vt_a2" >/tmp/lx.out 2>&1
		rc=$?
		echo "VT-ROUND $r rc=$rc"
		case $phase$rc in
		00) phase=1 ;;
		1[1-9]) phase=2 ;;
		20) phase=3 ;;
		esac
		r=$((r + 1))
		[ $rc -eq 0 ] || sleep 1
	done
	echo "VT-LOOP phase=$phase"
	;;
iperf-server)
	echo "VT-SERVER-START"
	iperf3 -s -1 >/tmp/iperf.out 2>&1
	rc=$?
	# iperf-long's short first run: serve the long one too.
	if [ "${vt_a1:-}" = twice ]; then
		iperf3 -s -1 >/tmp/iperf.out 2>&1
		rc=$?
	fi
	echo "VT-IPERF-SERVER rc=$rc"
	;;
iperf-client)
	i=0
	until ping -c 1 -W 1 "$vt_a1%eth0" >/dev/null 2>&1 || [ $i -ge 30 ]; do i=$((i + 1)); done
	ping -c 5 -W 2 "$vt_a1%eth0" >/tmp/ping.out 2>&1
	echo "VT-PING rc=$? $(grep -o '[0-9]* packets received' /tmp/ping.out)"
	# The server may still be starting: up to 11 tries; rc is the last
	# try's (an until loop's own status is always 0).
	i=0
	while :; do
		iperf3 -c "$vt_a1%eth0" -t 2 -P "${vt_streams:-1}" -f m >/tmp/iperf.out 2>&1
		rc=$?
		[ $rc -eq 0 ] || [ $i -ge 10 ] && break
		sleep 1; i=$((i + 1))
	done
	# With several streams the last receiver line is their sum.
	echo "VT-IPERF rc=$rc $(grep receiver /tmp/iperf.out | tail -n 1)"
	;;
iperf-long)
	i=0
	until ping -c 1 -W 1 "$vt_a1%eth0" >/dev/null 2>&1 || [ $i -ge 30 ]; do i=$((i + 1)); done
	# The server may still be starting: a short first run.
	i=0
	until iperf3 -c "$vt_a1%eth0" -t 1 >/dev/null 2>&1 || [ $i -ge 10 ]; do
		sleep 1; i=$((i + 1))
	done
	echo "VT-IPERF-START"
	# The server starts its second run right after the first; a refused
	# connect is retried, a failure later is the result.
	i=0
	while :; do
		iperf3 -c "$vt_a1%eth0" -t "$vt_a2" -i 0.5 -f m >/tmp/iperf.out 2>&1
		rc=$?
		grep -q "unable to connect" /tmp/iperf.out && [ $i -lt 10 ] || break
		sleep 1; i=$((i + 1))
	done
	grep "sec" /tmp/iperf.out | sed 's/^/VT-IV /'
	echo "VT-IPERF rc=$rc $(grep receiver /tmp/iperf.out)"
	;;
*)
	echo "VT-RESULT fail unknown mode '$vt_mode'"
	;;
esac
echo "VT-STATS $(cat /sys/class/net/eth0/statistics/rx_packets) rx $(cat /sys/class/net/eth0/statistics/tx_packets) tx"
echo "VT-DONE"
poweroff -f
