# tests/integration/qemu_lib.sh - Linux guests in QEMU for the vhost-user
# tests (POSIX sh; source after lib.sh).
#
# qemu_prepare: finds qemu-system-x86_64 and busybox (static), fetches
# Debian's cloud kernel with `apt-get download` into a cache under
# $BUILD/ (never the repository), unpacks it (not installed), and builds
# an initramfs: busybox, the virtio modules, iperf3 and ethtool with
# their libraries, and lx_frames (tests/progs/lx_frames.c, linked
# statically).  Sets QEMU_SKIP to a reason when something cannot be had;
# without ethtool only the multiqueue variants cannot run (QEMU_MQ_SKIP).
#
# qemu_start NAME SOCK MAC VARIANT MODE [A1 [A2]]: boots a guest on the
# vhost-user socket SOCK in the background (log $RUN/NAME.log), bounded by
# a timeout.  VARIANT: modern (virtio-pci 1.x, split), packed, legacy
# (disable-modern=on), mmio (microvm, legacy virtio-mmio, QEMU's default),
# mmio2 (microvm, virtio-mmio version 2), offload (modern with
# host_mtu=9000, for vdevs with offloads in peerfeats), mq and mq_packed
# (modern, split or packed, with 2 queue pairs: netdev queues=2, mq=on;
# for vdevs with `queues 2`; the guest turns on both pairs with ethtool
# and runs QEMU_MQ_STREAMS iperf3 streams).  MODE, A1 and A2 are handed
# to the guest's /init on the kernel command line (vt_mode=...; see
# qemu_init.sh).

QEMU_BIN=$(command -v qemu-system-x86_64 2>/dev/null || true)
QEMU_CACHE=${QEMU_CACHE:-$BUILD/vhost-cache}
QEMU_TIMEOUT=${QEMU_TIMEOUT:-150}
QEMU_SKIP=""
QEMU_MQ_SKIP=""
# Linux picks a TCP connection's transmit queue by a random per-socket
# hash (XPS maps the one vCPU to both queues): n streams and iperf3's
# control connection all on the same one of 2 queues has the odds 2^-n,
# for each guest.
QEMU_MQ_STREAMS=${QEMU_MQ_STREAMS:-16}
QEMU_CHARDEV_OPTS=""	# e.g. ",reconnect=1": QEMU redials a backend that went away
# Load order matters: these are modules in Debian's cloud kernel.
QEMU_MODULES="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_mmio failover net_failover virtio_net"

qemu_kernel() { # fetch and unpack the cloud kernel; sets KDIR KVER
	pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[^ ]*-cloud-amd64\)$/\1/p' | head -n 1)
	if [ -z "$pkg" ]; then
		# No package lists: use whatever an earlier run left.
		pkg=$(ls -d "$QEMU_CACHE"/linux-image-*-cloud-amd64 2>/dev/null | head -n 1)
		pkg=${pkg##*/}
	fi
	[ -n "$pkg" ] || return 1
	KVER=${pkg#linux-image-}
	KDIR="$QEMU_CACHE/$pkg"
	if [ ! -f "$KDIR/boot/vmlinuz-$KVER" ]; then
		mkdir -p "$QEMU_CACHE"
		rm -f "$QEMU_CACHE/$pkg"_*.deb
		(cd "$QEMU_CACHE" && apt-get download -q "$pkg" >/dev/null 2>&1) || return 1
		rm -rf "$KDIR.tmp"
		dpkg-deb -x "$QEMU_CACHE/$pkg"_*.deb "$KDIR.tmp" || return 1
		rm -f "$QEMU_CACHE/$pkg"_*.deb
		mv "$KDIR.tmp" "$KDIR"
	fi
	[ -f "$KDIR/boot/vmlinuz-$KVER" ]
}

qemu_copy_bin() { # file dest-root: the file and the libraries it loads
	mkdir -p "$2$(dirname "$1")"
	cp -L "$1" "$2$1"
	for lib in $(ldd "$1" 2>/dev/null | sed -n 's/.*=> \(\/[^ ]*\).*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) .*/\1/p'); do
		mkdir -p "$2$(dirname "$lib")"
		cp -L "$lib" "$2$lib"
	done
}

qemu_prepare() {
	if [ -z "$QEMU_BIN" ]; then QEMU_SKIP="qemu-system-x86_64 not found (Debian package qemu-system-x86)"; return 1; fi
	BUSYBOX=/bin/busybox
	if ! [ -x "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
		QEMU_SKIP="no static busybox (Debian package busybox-static)"; return 1
	fi
	IPERF3=$(command -v iperf3 2>/dev/null || true)
	if [ -z "$IPERF3" ]; then QEMU_SKIP="iperf3 not found (Debian package iperf3)"; return 1; fi
	if ! command -v cpio >/dev/null 2>&1; then QEMU_SKIP="cpio not found"; return 1; fi
	if ! qemu_kernel; then
		QEMU_SKIP="cannot fetch Debian's cloud kernel with apt-get download (run apt-get update?)"; return 1
	fi
	root="$QEMU_CACHE/initrd-root"
	rm -rf "$root"
	mkdir -p "$root/bin" "$root/lib/modules" "$root/proc" "$root/sys" "$root/dev" "$root/tmp"
	cp "$BUSYBOX" "$root/bin/busybox"
	for m in $QEMU_MODULES; do
		f=$(find "$KDIR/lib/modules/$KVER" -name "$m.ko" | head -n 1)
		if [ -z "$f" ]; then QEMU_SKIP="kernel $KVER has no module $m"; return 1; fi
		cp "$f" "$root/lib/modules/"
	done
	qemu_copy_bin "$IPERF3" "$root"
	ETHTOOL=$(PATH="$PATH:/usr/sbin:/sbin" command -v ethtool 2>/dev/null || true)
	if [ -n "$ETHTOOL" ]; then
		qemu_copy_bin "$ETHTOOL" "$root"
	else
		QEMU_MQ_SKIP="ethtool not found (Debian package ethtool)"
	fi
	if ! gcc -static -O2 -std=gnu11 -D_GNU_SOURCE -I. -o "$root/bin/lx_frames" \
		tests/progs/lx_frames.c guest/frame.c common/log.c 2>"$QEMU_CACHE/lx_frames.err"; then
		QEMU_SKIP="cannot link lx_frames statically: $(cat "$QEMU_CACHE/lx_frames.err")"; return 1
	fi
	cp tests/integration/qemu_init.sh "$root/init"
	chmod 755 "$root/init"
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$QEMU_CACHE/initrd.gz" || {
		QEMU_SKIP="cannot build the initramfs"; return 1; }
	KERNEL="$KDIR/boot/vmlinuz-$KVER"
	INITRD="$QEMU_CACHE/initrd.gz"
	return 0
}

# TSC frequency for microvm's kernel line (no calibration source there).
qemu_tsc_khz() {
	mhz=$(sed -n 's/^cpu MHz[[:space:]]*: *\([0-9]*\).*/\1/p' /proc/cpuinfo | head -n 1)
	echo $(( ${mhz:-2000} * 1000 ))
}

qemu_start() { # NAME SOCK MAC VARIANT MODE [A1 [A2]]
	qn=$1 qsock=$2 qmac=$3 qvar=$4
	qappend="console=ttyS0 panic=-1 loglevel=4 vt_mode=$5 vt_a1=${6:-} vt_a2=${7:-}"
	dev="virtio-net-pci,netdev=n0,mac=$qmac,vectors=0"
	netdev=""
	machine="pc"
	case $qvar in
	modern) dev="$dev,disable-legacy=on" ;;
	packed) dev="$dev,disable-legacy=on,packed=on" ;;
	mq|mq_packed)
		# vectors=0 as for every variant here: QEMU 7.2 under TCG dies
		# (SIGSEGV in msix_set_vector_notifiers, from vhost_net_start)
		# when a vhost-user virtio-net-pci has MSI-X, one pair or two.
		dev="$dev,disable-legacy=on,mq=on"
		[ "$qvar" = mq_packed ] && dev="$dev,packed=on"
		netdev=",queues=2"
		qappend="$qappend vt_queues=2 vt_streams=$QEMU_MQ_STREAMS"
		;;
	legacy) dev="$dev,disable-modern=on" ;;
	offload) dev="$dev,disable-legacy=on,host_mtu=9000" ;;
	mmio|mmio2)
		machine="microvm,pit=on,pic=on,rtc=on"
		dev="virtio-net-device,netdev=n0,mac=$qmac"
		qappend="$qappend tsc_early_khz=$(qemu_tsc_khz)"
		;;
	esac
	qextra=""
	# QEMU's virtio-mmio is version 1 (legacy) unless told otherwise.
	[ "$qvar" = mmio2 ] && qextra="-global virtio-mmio.force-legacy=false"
	it_bg "$qn" timeout -k 5 "$QEMU_TIMEOUT" "$QEMU_BIN" -M "$machine" -accel tcg -m 256 -smp 1 \
		-nodefaults -no-user-config -display none -serial stdio -monitor none -no-reboot \
		-kernel "$KERNEL" -initrd "$INITRD" -append "$qappend" \
		-object memory-backend-memfd,id=mem,size=256M,share=on -numa node,memdev=mem \
		-chardev "socket,id=c0,path=$qsock$QEMU_CHARDEV_OPTS" -netdev "vhost-user,id=n0,chardev=c0$netdev" \
		-device "$dev" $qextra </dev/null
}

# qemu_wait NAME PATTERN SECONDS: wait for the guest's serial output.
qemu_wait() { wait_log "$1" "$2" "$3"; }

# qemu_end NAME: wait for the guest to power off (bounded), else stop it.
qemu_end() {
	eval "qp=\$PID_$1"
	i=0
	while kill -0 "$qp" 2>/dev/null && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
	it_stop_pid "$qp"
}

# Link-local IPv6 address (EUI-64) of a MAC: the guests talk over fe80::
# only, so no address of any network outside the link is ever used.
mac_ll6() {
	set -- $(echo "$1" | tr ':' ' ')
	b0=$(( 0x$1 ^ 2 ))
	printf 'fe80::%x:%x:%x:%x\n' $(( b0 * 256 + 0x$2 )) $(( 0x$3 * 256 + 0xff )) $(( 0xfe * 256 + 0x$4 )) $(( 0x$5 * 256 + 0x$6 ))
}
