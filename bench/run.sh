#!/bin/sh
# bench/run.sh - `make bench`: every scenario of vnet-bench and its anchors
# in one run, on this machine, BENCH_TRIALS times over.
#
#   ring        the peer link's frame ring alone, two processes
#   tx / rx     one hop: guest driver -> device, device -> guest driver
#               (the bench is also the vdev's peer: sink / source)
#   dpdk        DPDK 22.11 testpmd: virtio-user -> vhost and vhost ->
#               virtio-user (txonly / rxonly)
#   face        the same virtio-user frontend driving OUR vhost-user face
#               (a vnet-host vdev; vnet-bench is its peer: sink / source)
#   e2e         guest A -> host A -> host B -> guest B
#   mq          end to end with 1, then 2 queue pairs in use: vnet-guest
#               (the library) on vdevs with `queues 2 threads 2 cpus
#               0,1`, each pair on a data-path thread of its own
#   ping        round trips end to end
#   insns       instructions per 64 B frame on one hop, counted by
#               callgrind: vnet-host (bench/insns.sh) and, as its anchor,
#               DPDK's vhost backend (bench/insns_dpdk.sh), TX and RX
#   limits      the machine: eventfd wake-up (same core, across cores),
#               cache-line transfer (vnet-bench limits)
#   veth        a veth pair between two network namespaces: iperf3 TCP,
#               iperf3 UDP 64 B, ping
#
# Every vnet scenario runs event-driven and with --poll, at 64, 1514 (1518
# with the FCS) and 65535 bytes (the last as TSO frames where a guest
# driver sends them).  The whole list is one trial; trials repeat it, so
# trial k of ours and trial k of its anchor run minutes apart at most, and
# a load that drifts over the run hits both alike.  Every figure is the
# median of its trials, with the spread (min-max) beside it; a ratio to an
# anchor is "unsettled" when the spreads reach across its goal (see
# bench/summary.jq).
#
# Writes bench/results/<date>-<host>.json, .md (the tables) and .png (the
# plot).  Environment:
#   BUILD           build dir (build)
#   BENCH_TRIALS    trials (5)
#   BENCH_SECONDS   whole seconds per measurement and trial (3)
#   BENCH_ONLY      a subset of: ring onehop dpdk face e2e mq ping insns limits
#                   veth
#   BENCH_SIZES     frame sizes of the vnet scenarios (64 1514 65535)
#   BENCH_POLL_US   spin bound in poll mode, guests and hosts (50)
#   BENCH_PIN       0: let ring, one hop and the DPDK runs float instead
#                   of pinning them to CPUs 0 and 1
#   BENCH_HUGEPAGES auto: as root, reserve huge pages for the run (guest
#                   RAM and DPDK's) and give them back at the end; 0: 4 KiB
#                   pages throughout
#   BENCH_OUT       results dir (bench/results)
#
# Needs root for the veth anchor (namespaces) and the huge pages; without
# it those are skipped and the JSON says so.  Everything it starts is
# stopped and everything it creates removed (the huge page pool set back),
# also on failure or ^C.
set -u
BUILD=${BUILD:-build}
SECS=${BENCH_SECONDS:-3}
TRIALS=${BENCH_TRIALS:-5}
OUT=${BENCH_OUT:-bench/results}
ONLY=${BENCH_ONLY:-ring onehop dpdk face e2e mq ping insns limits veth}
SIZES=${BENCH_SIZES:-64 1514 65535}
POLL_US=${BENCH_POLL_US:-50}
HUGE_WANT=${BENCH_HUGEPAGES:-auto}
BENCH=$BUILD/vnet-bench
HOST=$BUILD/vnet-host
[ -x "$BENCH" ] && [ -x "$HOST" ] || { echo "bench: build first (make)"; exit 2; }
case "$SECS" in '' | *[!0-9]* | 0) echo "bench: BENCH_SECONDS: whole seconds, at least 1"; exit 2 ;; esac
case "$TRIALS" in '' | *[!0-9]* | 0) echo "bench: BENCH_TRIALS: at least 1"; exit 2 ;; esac

START=$(date +%s)
STAMP=$(date -u +%Y-%m-%dT%H%M)
HOSTNAME_S=$(hostname -s 2>/dev/null || echo host)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
WORK=$(mktemp -d /tmp/vnet-bench.XXXXXX)
JL=$WORK/results.jsonl
NOTES=$WORK/notes
: >"$JL"
: >"$NOTES"
: >"$WORK/trials.jsonl"
export VNET_RUN_DIR=$WORK/run
mkdir -p "$VNET_RUN_DIR" "$OUT"
NS_A=vnb-a-$$
NS_B=vnb-b-$$
PIDS=""
HOST_PIN=""
TRIAL=0
NR=/proc/sys/vm/nr_hugepages
HUGE_ORIG=""	# set while the pool holds pages of ours
HUGE_ADDED=0

log() { printf '%s bench: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
# note: what did not run, and why (the JSON's not_run).
note() { log "$*"; printf '%s\n' "$*" >>"$NOTES"; }
want() { case " $ONLY " in *" $1 "*) return 0 ;; esac; return 1; }
has_size() { case " $SIZES " in *" $1 "*) return 0 ;; esac; return 1; }

# Background processes: started with bg_add, forgotten with bg_done once
# waited for, so cleanup never signals a pid that may have been reused.
bg_add() { PIDS="$PIDS $1"; }
bg_done() {
	rest=""
	for p in $PIDS; do [ "$p" = "$1" ] || rest="$rest $p"; done
	PIDS=$rest
}
stop_pid() { # pid: SIGTERM, then SIGKILL after 3 s
	kill "$1" 2>/dev/null || { bg_done "$1"; return 0; }
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	bg_done "$1"
	return 0
}

# Gives back the pages this run added: the pool shrinks by as many (not
# to the size it had: someone else may have changed it meanwhile).
huge_give_back() {
	[ -n "$HUGE_ORIG" ] || return 0
	back=$(($(cat "$NR") - HUGE_ADDED))
	[ $back -ge 0 ] || back=0
	echo $back >"$NR" 2>/dev/null || log "cannot give back $HUGE_ADDED huge pages ($NR)"
	HUGE_ORIG=""
}

cleanup() {
	for p in $PIDS; do stop_pid "$p"; done
	PIDS=""
	ip netns del "$NS_A" 2>/dev/null
	ip netns del "$NS_B" 2>/dev/null
	huge_give_back
	rm -f /dev/shm/vnet-bench* 2>/dev/null
	rm -rf /var/run/dpdk/vnb-*-$$ 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# Adds a JSON line (a vnet-bench result, or an anchor's) to the results,
# with the trial it belongs to.
add() {
	[ -n "$1" ] || return 0
	printf '%s\n' "$1" | sed "s/^{/{\"trial\":$TRIAL,/" >>"$JL"
}

# ---- huge pages -------------------------------------------------------------
# The most guest RAM alive at once: one hop has one guest, end to end two;
# a guest has 64 MiB, 512 MiB with 64 KiB TSO frames (vnet-bench's
# open_dev).  DPDK's runs are two testpmd of 512 MiB each (-m 512: with
# its default pools testpmd took about 370 MiB), the face one.  The runs
# follow each other, so the reservation is the largest of these.
HUGE_USED=false
HUGE_PAGES=0
HUGE_KB=$(sed -n 's/^Hugepagesize: *\([0-9]*\) kB$/\1/p' /proc/meminfo)
HUGE_NOTE=""
GUEST_HUGE=""
huge_need_mb() {
	n=128
	if has_size 65535; then
		want onehop && n=512
		want e2e && n=1024
	fi
	if { want dpdk || want face; } && [ $n -lt 1024 ]; then n=1024; fi
	echo $n
}
huge_setup() {
	HUGE_BEFORE=$(cat "$NR" 2>/dev/null || echo 0)
	if [ "$HUGE_WANT" = 0 ]; then
		HUGE_NOTE="BENCH_HUGEPAGES=0: 4 KiB pages"
		return
	fi
	if [ "$(id -u)" != 0 ] || [ ! -w "$NR" ]; then
		HUGE_NOTE="not root: 4 KiB pages (huge pages need $NR)"
		return
	fi
	# Guest RAM is whole huge pages: 64 MiB must be a multiple of them.
	if [ -z "$HUGE_KB" ] || [ "$HUGE_KB" -gt 65536 ] || [ $((65536 % HUGE_KB)) != 0 ]; then
		HUGE_NOTE="huge page size '${HUGE_KB:-none}' kB does not divide 64 MiB: 4 KiB pages"
		return
	fi
	need=$(($(huge_need_mb) * 1024 / HUGE_KB))
	# HUGE_ADDED first: a ^C right after the write still gives them back.
	HUGE_ADDED=$need
	HUGE_ORIG=$HUGE_BEFORE
	echo $((HUGE_ORIG + need)) >"$NR" 2>/dev/null
	got=$(($(cat "$NR") - HUGE_ORIG))
	[ $got -ge 0 ] || got=0
	HUGE_ADDED=$got
	free=$(sed -n 's/^HugePages_Free: *//p' /proc/meminfo)
	if [ "$got" -ge "$need" ] && [ "${free:-0}" -ge "$need" ]; then
		HUGE_USED=true
		HUGE_PAGES=$got
		GUEST_HUGE=--hugepages
		log "reserved $got huge pages of $HUGE_KB kB for the run (pool $HUGE_ORIG -> $(cat "$NR"))"
	else
		huge_give_back
		HUGE_NOTE="the kernel gave $got of $need huge pages (memory fragmented?): 4 KiB pages"
	fi
	[ -z "$HUGE_NOTE" ] || note "huge pages: $HUGE_NOTE"
}

# ---- vnet-host ------------------------------------------------------------
# start_host SOCKET SYSTEM NAME ARGS...: one vnet-host with one vdev, its
# pid in $HPID; returns once SOCKET (its vfio-user or vhost-user socket)
# is there.
start_host() {
	hs=$1
	sys=$2
	nm=$3
	shift 3
	$HOST_PIN "$HOST" --system "$sys" vdev virtio-net name "$nm" "$@" >"$WORK/host-$sys.log" 2>&1 &
	HPID=$!
	bg_add $HPID
	i=0
	while [ ! -S "$hs" ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -S "$hs" ] || log "vnet-host $sys did not come up: $(tail -2 "$WORK/host-$sys.log" | tr '\n' ' ')"
}
stop_hosts() {
	for p in $PIDS; do stop_pid "$p"; done
}
vfio() { echo "$VNET_RUN_DIR/$1/$2.vfio"; }

# Where each side gets a core of its own, pin it as testpmd pins its
# forwarding lcores (the guest side on CPU 0, the device on CPU 1): ring,
# one hop and the face.  End to end has four processes for two CPUs and
# floats.
PIN0=""
PIN1=""
PIN=""
if [ "${BENCH_PIN:-1}" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
	PIN0="taskset -c 0"
	PIN1="taskset -c 1"
	PIN="--pin"
fi

modes="event poll"
size_args() { # size -> vnet-bench args
	[ "$1" = 65535 ] && echo "--size 65535 --tso" || echo "--size $1"
}
mode_args() { [ "$1" = poll ] && echo "--poll --poll-us $POLL_US" || echo ""; }
# In poll mode the hosts busy-poll too (VNET_POLL_US, host/evloop.c), as
# a vhost PMD does; event mode leaves them purely event-driven.
host_env() { [ "$1" = poll ] && echo "VNET_POLL_US=$POLL_US" || echo "VNET_POLL_US=0"; }

run_bench() { # label timeout args...: one JSON line per side to the results
	lbl=$1
	to=$2
	shift 2
	out=$(timeout "$to" $RUN_PIN "$BENCH" "$@" --label "$lbl" 2>>"$WORK/bench.err")
	rc=$?
	[ $rc -eq 0 ] || log "$lbl ($*) failed: exit $rc; $(tail -2 "$WORK/bench.err" | tr '\n' ' ')"
	printf '%s\n' "$out" | while read -r l; do add "$l"; done
}
RUN_PIN=""

# ---- scenario: the ring alone ---------------------------------------------
pass_ring() {
	for s in $SIZES; do
		for m in $modes; do
			log "ring $s B $m"
			run_bench ring $((SECS + 10)) ring --size "$s" --seconds "$SECS" $PIN $(mode_args $m)
		done
	done
	# The same waits on epoll + read/write, the host's way: does io_uring
	# pay off?
	for s in 64 1514; do
		has_size $s || continue
		log "ring $s B event, epoll instead of io_uring"
		run_bench ring-epoll $((SECS + 10)) ring --size "$s" --seconds "$SECS" $PIN --epoll
	done
}

# ---- scenario: one hop ----------------------------------------------------
pass_onehop() {
	for m in $modes; do
		export $(host_env $m)
		HOST_PIN=$PIN1
		start_host "$(vfio h1 a)" h1 a mac 52:54:00:00:00:0a peer "$VNET_RUN_DIR/bench/peer" peerfeats 0x7fc3
		HOST_PIN=""
		H1=$HPID
		for dir in tx rx; do
			for s in $SIZES; do
				log "one hop guest $dir $s B $m"
				RUN_PIN=$PIN0 run_bench "onehop-$dir" $((SECS + 20)) "$dir" --socket "$(vfio h1 a)" \
					--peer-node "$VNET_RUN_DIR" bench peer --seconds "$SECS" \
					--cpu-pid "$H1" $(size_args "$s") $(mode_args $m) $GUEST_HUGE
			done
		done
		stop_hosts
	done
}

# ---- DPDK testpmd ----------------------------------------------------------
# testpmd's main lcore only prints; the other of CPUs 0 and 1 forwards.
# --stats-period 1 prints "Rx-pps:" and "Tx-pps:" once a second; a figure
# is the median of the non-zero seconds, the first (the ramp) left out.
# Memory: huge pages when this run reserved them (--in-memory: no
# hugetlbfs mount needed, nothing left behind), plain pages otherwise.
dpdk_mem() {
	if [ "$HUGE_USED" = true ]; then echo "--in-memory -m 512"; else echo "--no-huge -m 1024"; fi
}
# testpmd_start NAME MAIN_LCORE MODE SIZE VDEV [EAL ARGS]: pid in $TP,
# output in $WORK/NAME.out; timeout ends it whatever happens.
testpmd_start() {
	tn=$1
	tm=$2
	tf=$3
	tz=$4
	tv=$5
	shift 5
	timeout -s INT $((SECS + 60)) dpdk-testpmd -l 0,1 --main-lcore "$tm" $(dpdk_mem) --no-pci \
		--file-prefix "vnb-$tn-$$" "$@" --vdev "$tv" -- \
		--forward-mode="$tf" --txpkts="$tz" --stats-period 1 --nb-cores=1 \
		>"$WORK/$tn.out" 2>&1 &
	TP=$!
	bg_add $TP
}
testpmd_stop() { # pid: SIGINT (testpmd prints its totals and exits)
	kill -INT "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	bg_done "$1"
}
# tp_wait FILE COUNTER N: until COUNTER (Rx-pps / Tx-pps) showed traffic
# in N seconds.  Start-up (mbuf pools) takes seconds and varies with the
# load, so a measurement starts from the first second with traffic (at
# most 40 s), and waits for its seconds rather than sleeping for them:
# testpmd prints a second late on a loaded machine, and a short run
# (test_bench's 1 s) could then end with only the ramp second, which
# tp_pps leaves out.
tp_wait() {
	i=0
	while [ "$(grep "$2:" "$1" 2>/dev/null | awk '$2 > 0 { n++ } END { print n + 0 }')" -lt "$3" ] &&
		[ $i -lt $((($3 + 40) * 10)) ]; do
		sleep 0.1
		i=$((i + 1))
	done
}
# tp_pps FILE COUNTER: the median of the seconds with traffic, the first
# (ramp) left out.
tp_pps() {
	grep "$2:" "$1" 2>/dev/null | awk '$2 > 0 { n++; if (n > 1) print $2 }' | sort -n |
		awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print 0 }'
}
# tp_total FILE WHAT: TX-packets / RX-packets of testpmd's final totals.
tp_total() {
	grep -a -A3 "Forward statistics for port 0" "$1" 2>/dev/null |
		sed -n "s/.*$2: *\([0-9]*\).*/\1/p" | head -n 1
}
gbps() { awk "BEGIN { printf \"%.3f\", ${1:-0} * $2 * 8 / 1e9 }"; }

# dpdk_pair LABEL RX_SIDE(vhost|virtio) SIZE [packed]: DPDK's frontend
# and DPDK's backend.  pps is the receiver's count (the one hop anchor);
# frontend_pps is virtio-user's own count, the figure the face is
# compared on (same frontend, same counter).
dpdk_pair() {
	lbl=$1
	rxs=$2
	sz=$3
	pk=${4:-}
	sock=$WORK/dpdk.sock
	rm -f "$sock"
	if [ "$rxs" = vhost ]; then vm=rxonly; um=txonly; fc=Tx-pps; else vm=txonly; um=rxonly; fc=Rx-pps; fi
	uargs=""
	ring=split
	[ -n "$pk" ] && uargs=",packed_vq=1" && ring=packed
	testpmd_start dpdk-vhost 0 $vm "$sz" "net_vhost0,iface=$sock,queues=1"
	vp=$TP
	i=0
	while [ ! -S "$sock" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	testpmd_start dpdk-virtio 1 $um "$sz" "net_virtio_user0,path=$sock,queues=1$uargs" --single-file-segments
	up=$TP
	if [ "$rxs" = vhost ]; then f=$WORK/dpdk-vhost.out; else f=$WORK/dpdk-virtio.out; fi
	# SECS seconds after the ramp, for the receiver's count and for
	# virtio-user's own (frontend_pps).
	tp_wait "$f" Rx-pps $((SECS + 1))
	tp_wait "$WORK/dpdk-virtio.out" $fc $((SECS + 1))
	testpmd_stop $up
	testpmd_stop $vp
	pps=$(tp_pps "$f" Rx-pps)
	fpps=$(tp_pps "$WORK/dpdk-virtio.out" $fc)
	[ "$pps" -gt 0 ] 2>/dev/null || log "$lbl $sz: no Rx-pps from testpmd (see $f)"
	add "{\"scenario\":\"$lbl\",\"anchor\":true,\"tool\":\"dpdk-testpmd\",\"size\":$sz,\"ring\":\"$ring\",\"hugepages\":$HUGE_USED,\"pps\":${pps:-0},\"gbps\":$(gbps "$pps" "$sz"),\"frontend_pps\":${fpps:-0}}"
	rm -rf /var/run/dpdk/vnb-dpdk-vhost-$$ /var/run/dpdk/vnb-dpdk-virtio-$$
}
pass_dpdk() {
	for s in 64 1514; do
		has_size $s || continue
		log "DPDK virtio-user -> vhost $s B"
		dpdk_pair dpdk-virtio-to-vhost vhost "$s"
		log "DPDK vhost -> virtio-user $s B"
		dpdk_pair dpdk-vhost-to-virtio virtio "$s"
	done
	if has_size 64; then
		log "DPDK virtio-user -> vhost 64 B, packed ring"
		dpdk_pair dpdk-virtio-to-vhost vhost 64 packed
	fi
}

# ---- our vhost-user face under DPDK's virtio-user ---------------------------
# face_run DIR(tx|rx) SIZE MODE: testpmd's virtio-user, as in dpdk_pair
# (same EAL arguments, forwarding on CPU 0), drives a vnet-host vdev's
# vhost-user face; the device runs on CPU 1, where DPDK's vhost forwards.
# Where DPDK's vhost hands frames to its own rxonly / txonly, our device
# hands them to its peer link, whose far end is vnet-bench sink / source
# (event-driven, on CPU 1 too: it must not spin where the device runs).
# The figure is virtio-user's own count, as dpdk_pair's frontend_pps.
# The source starts once testpmd's rings are up: before, the device drops
# what it gets (no driver), and a source and device busy doing that on
# CPU 1 would slow the start of testpmd, whose main lcore is there too.
FACE_MAC=52:54:00:00:00:0c
host_log_wait() { # SYSTEM PATTERN: until the host logged it (at most 40 s)
	i=0
	while ! grep -q "$2" "$WORK/host-$1.log" 2>/dev/null && [ $i -lt 400 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}
face_peer() { # sink|source ARGS...: the vdev's peer, pid in $pp
	$PIN1 timeout $((SECS + 80)) "$BENCH" "$@" --peer-node "$VNET_RUN_DIR" bench peer \
		--seconds $((SECS + 70)) --label "vhost-face-$dir" >"$WORK/face-peer.out" 2>>"$WORK/bench.err" &
	pp=$!
	bg_add $pp
}
face_run() {
	dir=$1
	sz=$2
	m=$3
	sock=$WORK/face.sock
	rm -f "$sock"
	export $(host_env $m)
	HOST_PIN=$PIN1
	start_host "$sock" hf v mac $FACE_MAC peer "$VNET_RUN_DIR/bench/peer" peerfeats 0x7fc3 \
		vhost-user "$sock"
	HOST_PIN=""
	if [ "$dir" = tx ]; then
		# Linked before testpmd sends: a device without a link drops.
		face_peer sink
		host_log_wait hf "peer link up"
		testpmd_start face 1 txonly "$sz" "net_virtio_user0,path=$sock,queues=1" --single-file-segments
		fc=Tx-pps
		tot=TX-packets
	else
		testpmd_start face 1 rxonly "$sz" "net_virtio_user0,path=$sock,queues=1" --single-file-segments
		host_log_wait hf "rings started"
		face_peer source --dst $FACE_MAC --size "$sz"
		fc=Rx-pps
		tot=RX-packets
	fi
	up=$TP
	tp_wait "$WORK/face.out" $fc $((SECS + 1))
	testpmd_stop $up
	# The peer prints its count when told to stop.
	kill -TERM $pp 2>/dev/null
	wait $pp || log "vhost-face-$dir: vnet-bench's peer failed: $(tail -2 "$WORK/bench.err" | tr '\n' ' ')"
	bg_done $pp
	stop_hosts
	pps=$(tp_pps "$WORK/face.out" $fc)
	[ "$pps" -gt 0 ] 2>/dev/null || log "vhost-face-$dir $sz $m: no $fc from testpmd (see $WORK/face.out)"
	pf=$(sed -n 's/.*"frames":\([0-9]*\).*/\1/p' "$WORK/face-peer.out" | head -n 1)
	# What virtio-user and the device agreed on (vnet-host logs it).
	io=false
	grep -q "rings started (split, in order" "$WORK/host-hf.log" && io=true
	add "{\"scenario\":\"vhost-face-$dir\",\"side\":\"frontend\",\"mode\":\"$m\",\"tool\":\"dpdk-testpmd\",\"size\":$sz,\"ring\":\"split\",\"in_order\":$io,\"hugepages\":$HUGE_USED,\"pps\":${pps:-0},\"gbps\":$(gbps "$pps" "$sz"),\"frontend_frames\":$(tp_total "$WORK/face.out" $tot | grep . || echo 0),\"peer_frames\":${pf:-0}}"
	rm -rf /var/run/dpdk/vnb-face-$$
}
pass_face() {
	for m in $modes; do
		log "DPDK virtio-user -> our vhost-user face 64 B, host $m"
		face_run tx 64 $m
		log "our vhost-user face -> DPDK virtio-user 64 B, host $m"
		face_run rx 64 $m
	done
}

# ---- scenarios end to end: two hosts, two guests --------------------------
e2e_one() { # label size mode: one receiver, one sender
	timeout $((SECS + 25)) "$BENCH" recv --socket "$(vfio h2 b)" --seconds "$SECS" \
		--cpu-pid "$H1" --cpu-pid "$H2" --label "$1" $GUEST_HUGE \
		$(size_args "$2") $(mode_args $3) >"$WORK/recv.out" 2>>"$WORK/bench.err" &
	RP=$!
	bg_add $RP
	sleep 0.3
	run_bench e2e-sender $((SECS + 20)) send --socket "$(vfio h1 a)" --dst 52:54:00:00:00:0b \
		--seconds "$SECS" $(size_args "$2") $(mode_args $3) $GUEST_HUGE
	wait $RP || log "$1 receiver $2 $3 failed"
	bg_done $RP
	while read -r l; do add "$l"; done <"$WORK/recv.out"
}
ping_one() { # label mode
	timeout $((SECS + 25)) "$BENCH" pong --socket "$(vfio h2 b)" --seconds $((SECS + 15)) \
		$(mode_args $2) $GUEST_HUGE >/dev/null 2>>"$WORK/bench.err" &
	RP=$!
	bg_add $RP
	sleep 0.3
	run_bench "$1" $((SECS + 20)) ping --socket "$(vfio h1 a)" --dst 52:54:00:00:00:0b \
		--seconds "$SECS" --cpu-pid "$H1" --cpu-pid "$H2" $(mode_args $2) $GUEST_HUGE
	wait $RP
	bg_done $RP
}
start_pair() {
	start_host "$(vfio h1 a)" h1 a mac 52:54:00:00:00:0a peer "$VNET_RUN_DIR/h2/b" peerfeats 0x7fc3
	H1=$HPID
	start_host "$(vfio h2 b)" h2 b mac 52:54:00:00:00:0b peer "$VNET_RUN_DIR/h1/a" peerfeats 0x7fc3
	H2=$HPID
	sleep 0.5
}
pass_e2e() {
	for m in $modes; do
		export $(host_env $m)
		start_pair
		if want e2e; then
			for s in $SIZES; do
				log "end to end $s B $m"
				e2e_one e2e "$s" $m
			done
		fi
		if want ping; then
			log "ping-pong end to end $m"
			ping_one pingpong $m
		fi
		stop_hosts
	done
	# Four processes on two CPUs: spinning hosts take the CPU the guests
	# need.  The same end-to-end runs with only the guests polling:
	export VNET_POLL_US=0
	start_pair
	if want e2e && has_size 64; then
		log "end to end 64 B, guests polling, hosts event-driven"
		e2e_one e2e-guestpoll 64 poll
	fi
	if want ping; then
		log "ping-pong end to end, guests polling, hosts event-driven"
		ping_one pingpong-guestpoll poll
	fi
	stop_hosts
}

# ---- the machine's limits ----------------------------------------------------
pass_limits() {
	log "limits: eventfd wake-up, cache-line transfer"
	run_bench limits $((SECS + 20)) limits --seconds "$SECS"
}

# ---- anchor: a veth pair between two network namespaces -------------------
veth_up() {
	[ "$(id -u)" = 0 ] && ip netns add "$NS_A" 2>/dev/null && ip netns add "$NS_B" &&
		ip link add vnbA$$ type veth peer name vnbB$$ &&
		ip link set vnbA$$ netns "$NS_A" && ip link set vnbB$$ netns "$NS_B" &&
		ip -n "$NS_A" addr add 10.203.0.1/24 dev vnbA$$ &&
		ip -n "$NS_B" addr add 10.203.0.2/24 dev vnbB$$ &&
		ip -n "$NS_A" link set vnbA$$ up && ip -n "$NS_B" link set vnbB$$ up &&
		ip -n "$NS_A" link set lo up && ip -n "$NS_B" link set lo up
}
iperf() { # label args...
	lbl=$1
	shift
	ip netns exec "$NS_B" timeout $((SECS + 15)) iperf3 -s -1 -p 5299 >/dev/null 2>&1 &
	sp=$!
	bg_add $sp
	sleep 0.5
	ip netns exec "$NS_A" timeout $((SECS + 10)) iperf3 -c 10.203.0.2 -p 5299 -t "$SECS" -J "$@" \
		>"$WORK/iperf-$lbl.json" 2>&1
	wait $sp 2>/dev/null
	bg_done $sp
}
pass_veth() {
	log "veth iperf3 TCP"
	iperf tcp
	g=$(jq -r '.end.sum_received.bits_per_second // 0' "$WORK/iperf-tcp.json" 2>/dev/null)
	add "{\"scenario\":\"veth-tcp\",\"anchor\":true,\"tool\":\"iperf3\",\"size\":65535,\"pps\":0,\"gbps\":$(awk "BEGIN { printf \"%.3f\", ${g:-0} / 1e9 }")}"
	# 22 bytes of UDP payload: a 64-byte Ethernet frame with FCS is
	# 60 bytes without, ours are 64 without: 14 + 20 + 8 + 22.
	log "veth iperf3 UDP 64 B"
	iperf udp -u -l 22 -b 0
	jq -r '[.end.sum.packets // 0, .end.sum.lost_packets // 0, .end.sum.seconds // 1] | @tsv' \
		"$WORK/iperf-udp.json" >"$WORK/udp.tsv" 2>/dev/null
	read -r pk lost secs <"$WORK/udp.tsv" || { pk=0; lost=0; secs=1; }
	add "{\"scenario\":\"veth-udp\",\"anchor\":true,\"tool\":\"iperf3\",\"size\":64,\"sent_pps\":$(awk "BEGIN { printf \"%.0f\", $pk / $secs }"),\"pps\":$(awk "BEGIN { printf \"%.0f\", ($pk - $lost) / $secs }"),\"gbps\":$(awk "BEGIN { printf \"%.3f\", ($pk - $lost) / $secs * 64 * 8 / 1e9 }")}"
	log "veth ping"
	ip netns exec "$NS_A" timeout 30 ping -c 3000 -i 0.0002 -s 22 10.203.0.2 >"$WORK/ping.out" 2>&1
	sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' "$WORK/ping.out" | sort -n >"$WORK/ping.txt"
	n=$(wc -l <"$WORK/ping.txt")
	if [ "$n" -gt 0 ]; then
		q() { sed -n "$(awk "BEGIN { i = int($1 * ($n - 1) + 1.5); print (i > $n ? $n : i) }")p" "$WORK/ping.txt"; }
		add "{\"scenario\":\"veth-ping\",\"anchor\":true,\"tool\":\"ping\",\"size\":64,\"samples\":$n,\"rtt_p50_us\":$(awk "BEGIN { print $(q 0.5) * 1000 }"),\"rtt_p99_us\":$(awk "BEGIN { print $(q 0.99) * 1000 }"),\"rtt_p999_us\":$(awk "BEGIN { print $(q 0.999) * 1000 }")}"
	fi
}

# ---- scenario: multiqueue end to end ------------------------------------------
# vnet-guest (the library, content-checked frames of 16 flows, spread over
# the pairs by flow) sends to vnet-guest with --queues 1, then 2, through
# two vdevs with 2 pairs on 2 data-path threads pinned to CPUs 0 and 1.
# Every frame is checked and counted; each line records the frames each
# receive queue took (the device's counters), so a run shows whether
# every pair carried traffic.  Six processes' threads on this machine's
# CPUs: with two CPUs the pairs cannot add CPU time, which is the ceiling
# on the speed-up (README).
GUEST=$BUILD/vnet-guest
mq_rx() { # SYSTEM: the receive queues' frames, "a,b"
	"$HOST" stats --system "$1" --json 2>/dev/null |
		grep -o '"rx_frames": [0-9]*' | sed 's/.*: //' | head -n 2 | paste -sd, -
}
pass_mq() {
	[ -x "$GUEST" ] || { note "mq: no $GUEST"; return; }
	n=$((SECS * 400000))
	cpus=0
	[ "$(nproc)" -ge 2 ] && cpus=0,1
	for np in 1 2; do
		log "multiqueue end to end 64 B, $np pair(s) in use"
		start_host "$(vfio q1 a)" q1 a mac 52:54:00:00:00:1a peer "$VNET_RUN_DIR/q2/b" \
			queues 2 threads 2 cpus $cpus
		start_host "$(vfio q2 b)" q2 b mac 52:54:00:00:00:1b peer "$VNET_RUN_DIR/q1/a" \
			queues 2 threads 2 cpus $cpus
		sleep 0.5
		timeout $((SECS + 40)) "$GUEST" --socket "$(vfio q2 b)" --queues $np recv \
			--count $n --timeout $((SECS + 30)) >"$WORK/mq.recv" 2>>"$WORK/bench.err" &
		RP=$!
		bg_add $RP
		# Frames sent before the receiver's driver is up would be
		# dropped (no_driver): wait for it (bounded).
		i=0
		while ! grep -q "driver ready" "$WORK/host-q2.log" && [ $i -lt 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		sleep 0.1
		timeout $((SECS + 40)) "$GUEST" --socket "$(vfio q1 a)" --queues $np send --flows 16 \
			--count $n --size 64 52:54:00:00:00:1b >"$WORK/mq.send" 2>>"$WORK/bench.err" ||
			log "mq $np: sender failed: $(tail -2 "$WORK/mq.send" | tr '\n' ' ')"
		wait $RP || log "mq $np: receiver failed: $(tail -2 "$WORK/mq.recv" | tr '\n' ' ')"
		bg_done $RP
		fps=$(sed -n 's/^mframes_per_s: //p' "$WORK/mq.recv" | head -n 1)
		got=$(sed -n 's/^frames: //p' "$WORK/mq.recv" | head -n 1)
		rxq=$(mq_rx q2)
		if [ -n "$fps" ] && [ -n "$got" ]; then
			add "{\"scenario\":\"e2e-mq$np\",\"side\":\"recv\",\"mode\":\"event\",\"size\":64,\"pairs\":$np,\"pps\":$(awk "BEGIN { print $fps * 1e6 }"),\"gbps\":$(awk "BEGIN { print $fps * 64 * 8 / 1e3 }"),\"lost\":$((n - got)),\"rx_frames_per_queue\":[${rxq:-}]}"
		fi
		stop_hosts
	done
}

# ---- scenario: instructions per frame ---------------------------------------
# Counted, not timed: the same on a loaded machine.  Ours is the whole
# vnet-host process; DPDK's, its vhost library's inclusive count (the
# device's work; the whole testpmd process beside it), and how many frames
# each of its calls moved.
pass_insns() {
	for d in tx rx; do
		log "instructions per frame, $d 64 B: vnet-host"
		o=$(BUILD=$BUILD sh bench/insns.sh $d 64 "$SECS" 2>>"$WORK/bench.err")
		n=$(printf '%s\n' "$o" | sed -n 's/.* = \([0-9]*\) per frame.*/\1/p')
		if [ -n "$n" ]; then
			add "{\"scenario\":\"insns-$d\",\"side\":\"device\",\"tool\":\"callgrind\",\"size\":64,\"insns_per_frame\":$n}"
		else
			log "insns $d: no result (see $WORK/bench.err)"
		fi
		command -v dpdk-testpmd >/dev/null || continue
		log "instructions per frame, $d 64 B: DPDK's vhost"
		o=$(sh bench/insns_dpdk.sh $d 64 "$SECS" 2>>"$WORK/bench.err")
		n=$(printf '%s\n' "$o" | sed -n 's/.*_burst \([0-9]*\) per frame.*/\1/p')
		w=$(printf '%s\n' "$o" | sed -n 's/.* = \([0-9]*\) per frame;.*/\1/p')
		c=$(printf '%s\n' "$o" | sed -n 's/.*, \([0-9.]*\) frames per call.*/\1/p')
		if [ -n "$n" ] && [ -n "$w" ] && [ -n "$c" ]; then
			add "{\"scenario\":\"dpdk-insns-$d\",\"side\":\"device\",\"tool\":\"callgrind\",\"anchor\":true,\"size\":64,\"insns_per_frame\":$n,\"process_insns_per_frame\":$w,\"frames_per_call\":$c}"
		else
			log "insns_dpdk $d: no result (see $WORK/bench.err)"
		fi
	done
}

# ---- the run: every trial runs everything, ours and the anchors ---------------
huge_setup
if { want dpdk || want face; } && ! command -v dpdk-testpmd >/dev/null; then
	note "DPDK anchor and the vhost-user face: no dpdk-testpmd (Debian's dpdk-dev)"
	ONLY=$(printf ' %s ' $ONLY | sed 's/ dpdk / /; s/ face / /')
fi
if want face && ! has_size 64; then
	note "vhost-user face: measured at 64 B only, not in BENCH_SIZES"
	ONLY=$(printf ' %s ' $ONLY | sed 's/ face / /')
fi
if want insns && ! command -v valgrind >/dev/null; then
	note "instructions per frame: no valgrind"
	ONLY=$(printf ' %s ' $ONLY | sed 's/ insns / /')
fi
if want veth && ! veth_up; then
	note "veth anchor: needs root and network namespaces"
	ONLY=$(printf ' %s ' $ONLY | sed 's/ veth / /')
fi
TRIAL=1
while [ $TRIAL -le "$TRIALS" ]; do
	t0=$(date +%s)
	l0=$(cut -d' ' -f1-3 /proc/loadavg)
	log "trial $TRIAL of $TRIALS (load $l0)"
	want ring && pass_ring
	want onehop && pass_onehop
	want dpdk && pass_dpdk
	want face && pass_face
	if want e2e || want ping; then pass_e2e; fi
	want mq && pass_mq
	want insns && pass_insns
	want limits && pass_limits
	want veth && pass_veth
	printf '{"trial":%d,"load_at_start":"%s","seconds":%d}\n' $TRIAL "$l0" $(($(date +%s) - t0)) \
		>>"$WORK/trials.jsonl"
	TRIAL=$((TRIAL + 1))
done
ip netns del "$NS_A" 2>/dev/null
ip netns del "$NS_B" 2>/dev/null
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
huge_give_back
HUGE_AFTER=$(cat "$NR" 2>/dev/null || echo 0)

# ---- results ---------------------------------------------------------------
BASE=$OUT/$STAMP-$HOSTNAME_S
ELAPSED=$(($(date +%s) - START))
HUGE_JSON=$(jq -n --argjson used "$HUGE_USED" --argjson pages "$HUGE_PAGES" \
	--argjson kb "${HUGE_KB:-0}" --argjson before "$HUGE_BEFORE" --argjson after "$HUGE_AFTER" \
	--arg note "$HUGE_NOTE" \
	'{used: $used, page_kb: $kb, pages_reserved: $pages, pool_before: $before,
	  pool_after: $after, given_back: ($after == $before)}
	 + (if $note == "" then {} else {note: $note} end)')
jq -s --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg host "$HOSTNAME_S" \
	--arg load0 "$LOAD0" --arg load1 "$LOAD1" --arg kernel "$(uname -r)" \
	--arg cpu "$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)" \
	--argjson cpus "$(nproc)" --argjson secs "$SECS" --argjson trials "$TRIALS" \
	--argjson elapsed "$ELAPSED" --arg only "$ONLY" --argjson huge "$HUGE_JSON" \
	--rawfile notes "$NOTES" --slurpfile tinfo "$WORK/trials.jsonl" \
	-f bench/summary.jq "$JL" >"$BASE.json" || { log "cannot assemble $BASE.json"; exit 1; }
jq -r -f bench/table.jq "$BASE.json" >"$BASE.md" || log "cannot write the table $BASE.md"
jq -r -f bench/plot.jq "$BASE.json" >"$WORK/plot.dat" || log "cannot write the plot's data"
awk -F'\t' -v d="$WORK" '{ f = d "/plot" $1 ".dat"; sub(/^[12]\t/, ""); print > f }' "$WORK/plot.dat"
touch "$WORK/plot1.dat" "$WORK/plot2.dat"
if command -v gnuplot >/dev/null && [ -s "$WORK/plot1.dat" ] && [ -s "$WORK/plot2.dat" ]; then
	gnuplot -e "data1='$WORK/plot1.dat'; data2='$WORK/plot2.dat'; outfile='$BASE.png'; subtitle='$STAMP $HOSTNAME_S, medians of $TRIALS trials (bars: min-max), load $LOAD0 -> $LOAD1'" \
		bench/plot.gp 2>"$WORK/gnuplot.err" || log "gnuplot failed: $(cat "$WORK/gnuplot.err")"
else
	log "no plot: gnuplot missing or nothing to plot"
fi
cat "$BASE.md"
# Name only what is there (a run of the instructions scenario alone has
# nothing to plot).
written=
for f in "$BASE.json" "$BASE.md" "$BASE.png"; do
	if [ -s "$f" ]; then written="$written $f"; fi
done
log "wrote$written in ${ELAPSED}s"
