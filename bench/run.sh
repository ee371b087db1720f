#!/bin/sh
# bench/run.sh - `make bench`: every scenario of vnet-bench and its anchors
# in one run, on this machine, one after the other.
#
#   ring        the peer link's frame ring alone, two processes
#   tx / rx     one hop: guest driver -> device, device -> guest driver
#               (the bench is also the vdev's peer: sink / source)
#   e2e         guest A -> host A -> host B -> guest B
#   pingpong    round trips end to end
#   anchors     DPDK 22.11 testpmd: virtio-user -> vhost and vhost ->
#               virtio-user (txonly / rxonly); a veth pair between two
#               network namespaces: iperf3 TCP, iperf3 UDP 64 B, ping
#
# Every vnet scenario runs event-driven and with --poll, at 64, 1514 (1518
# with the FCS) and 65535 bytes (the last as TSO frames where a guest
# driver sends them).  Writes bench/results/<date>-<host>.json, .md (the
# table) and .png (the plot).  Environment: BUILD (build dir),
# BENCH_SECONDS (per measurement, default 3), BENCH_POLL_US (spin bound in
# poll mode, guests and hosts, default 50), BENCH_PIN (0: let ring and one
# hop float instead of pinning them to CPUs 0 and 1), BENCH_OUT (results
# dir), BENCH_ONLY (space separated subset of: ring onehop e2e ping dpdk
# veth).
#
# Needs root for the veth anchor (namespaces); it is skipped otherwise.
# Everything it starts is stopped and everything it creates removed, also
# on failure or ^C.
set -u
BUILD=${BUILD:-build}
SECS=${BENCH_SECONDS:-3}
OUT=${BENCH_OUT:-bench/results}
ONLY=${BENCH_ONLY:-ring onehop e2e ping dpdk veth}
POLL_US=${BENCH_POLL_US:-50}
BENCH=$BUILD/vnet-bench
HOST=$BUILD/vnet-host
[ -x "$BENCH" ] && [ -x "$HOST" ] || { echo "bench: build first (make)"; exit 2; }

START=$(date +%s)
STAMP=$(date -u +%Y-%m-%dT%H%M)
HOSTNAME_S=$(hostname -s 2>/dev/null || echo host)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
WORK=$(mktemp -d /tmp/vnet-bench.XXXXXX)
JL=$WORK/results.jsonl
: >"$JL"
export VNET_RUN_DIR=$WORK/run
mkdir -p "$VNET_RUN_DIR" "$OUT"
NS_A=vnb-a-$$
NS_B=vnb-b-$$
PIDS=""
HOST_PIN=""

log() { printf '%s bench: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
want() { case " $ONLY " in *" $1 "*) return 0 ;; esac; return 1; }

stop_pid() { # pid: SIGTERM, then SIGKILL after 3 s
	kill "$1" 2>/dev/null || return 0
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

cleanup() {
	for p in $PIDS; do stop_pid "$p"; done
	PIDS=""
	ip netns del "$NS_A" 2>/dev/null
	ip netns del "$NS_B" 2>/dev/null
	rm -f /dev/shm/vnet-bench* 2>/dev/null
	rm -rf /var/run/dpdk/vnb-* 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Adds a JSON line (a vnet-bench result, or an anchor's) to the results.
add() { [ -n "$1" ] && printf '%s\n' "$1" >>"$JL"; }

# ---- vnet-host ------------------------------------------------------------
# start_host SYSTEM NAME ARGS...: one vnet-host with one vdev, its pid in
# $HPID; returns once its vfio-user socket is there.
start_host() {
	sys=$1
	nm=$2
	shift 2
	$HOST_PIN "$HOST" --system "$sys" vdev virtio-net name "$nm" "$@" >"$WORK/host-$sys.log" 2>&1 &
	HPID=$!
	PIDS="$PIDS $HPID"
	i=0
	while [ ! -S "$VNET_RUN_DIR/$sys/$nm.vfio" ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}
stop_hosts() {
	for p in $PIDS; do stop_pid "$p"; done
	PIDS=""
}

# Where each side gets a core of its own, pin it as testpmd pins its
# forwarding lcores (the guest side on CPU 0, the device on CPU 1): ring
# and one hop.  End to end has four processes for two CPUs and floats.
PIN0=""
PIN1=""
PIN=""
if [ "${BENCH_PIN:-1}" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
	PIN0="taskset -c 0"
	PIN1="taskset -c 1"
	PIN="--pin"
fi

modes="event poll"
sizes="64 1514 65535"
size_args() { # size -> vnet-bench args
	[ "$1" = 65535 ] && echo "--size 65535 --tso" || echo "--size $1"
}
mode_args() { [ "$1" = poll ] && echo "--poll --poll-us $POLL_US" || echo ""; }

run_bench() { # label timeout args...: one JSON line per side to the results
	lbl=$1
	to=$2
	shift 2
	out=$(timeout "$to" ${BENCH_PIN:-} "$BENCH" "$@" --label "$lbl" 2>>"$WORK/bench.err")
	rc=$?
	[ $rc -eq 0 ] || log "$lbl ($*) failed: exit $rc; $(tail -2 "$WORK/bench.err" | tr '\n' ' ')"
	printf '%s\n' "$out" | while read -r l; do add "$l"; done
}

# ---- scenario: the ring alone ---------------------------------------------
if want ring; then
	for s in $sizes; do
		for m in $modes; do
			log "ring $s B $m"
			run_bench ring $((SECS + 10)) ring --size "$s" --seconds "$SECS" $PIN $(mode_args $m)
		done
	done
	# The same waits on epoll + read/write, the host's way: does io_uring
	# pay off?
	for s in 64 1514; do
		log "ring $s B event, epoll instead of io_uring"
		run_bench ring-epoll $((SECS + 10)) ring --size "$s" --seconds "$SECS" $PIN --epoll
	done
fi

# ---- scenario: one hop ----------------------------------------------------
# In poll mode the hosts busy-poll too (VNET_POLL_US, host/evloop.c), as
# a vhost PMD does; event mode leaves them purely event-driven.
host_env() { [ "$1" = poll ] && echo "VNET_POLL_US=$POLL_US" || echo "VNET_POLL_US=0"; }
if want onehop; then
	for m in $modes; do
		export $(host_env $m)
		HOST_PIN=$PIN1
		start_host h1 a mac 52:54:00:00:00:0a peer "$VNET_RUN_DIR/bench/peer" peerfeats 0x7fc3
		HOST_PIN=""
		H1=$HPID
		for dir in tx rx; do
			for s in $sizes; do
				log "one hop guest $dir $s B $m"
				BENCH_PIN=$PIN0 run_bench "onehop-$dir" $((SECS + 20)) "$dir" --socket "$VNET_RUN_DIR/h1/a.vfio" \
					--peer-node "$VNET_RUN_DIR" bench peer --seconds "$SECS" \
					--cpu-pid "$H1" $(size_args "$s") $(mode_args $m)
			done
		done
		stop_hosts
	done
fi

# ---- scenarios end to end: two hosts, two guests --------------------------
if want e2e || want ping; then
	A=$VNET_RUN_DIR/h1/a.vfio
	B=$VNET_RUN_DIR/h2/b.vfio
	for m in $modes; do
		export $(host_env $m)
		start_host h1 a mac 52:54:00:00:00:0a peer "$VNET_RUN_DIR/h2/b" peerfeats 0x7fc3
		H1=$HPID
		start_host h2 b mac 52:54:00:00:00:0b peer "$VNET_RUN_DIR/h1/a" peerfeats 0x7fc3
		H2=$HPID
		sleep 0.5
		for s in $sizes; do
			want e2e || break
			log "end to end $s B $m"
			timeout $((SECS + 25)) "$BENCH" recv --socket "$B" --seconds "$SECS" \
				--cpu-pid "$H1" --cpu-pid "$H2" --label e2e \
				$(size_args "$s") $(mode_args $m) >"$WORK/recv.out" 2>>"$WORK/bench.err" &
			RP=$!
			sleep 0.3
			run_bench e2e-sender $((SECS + 20)) send --socket "$A" --dst 52:54:00:00:00:0b \
				--seconds "$SECS" $(size_args "$s") $(mode_args $m)
			wait $RP || log "e2e receiver $s $m failed"
			while read -r l; do add "$l"; done <"$WORK/recv.out"
		done
		if want ping; then
			log "ping-pong end to end $m"
			timeout $((SECS + 25)) "$BENCH" pong --socket "$B" --seconds $((SECS + 15)) \
				$(mode_args $m) >/dev/null 2>>"$WORK/bench.err" &
			RP=$!
			sleep 0.3
			run_bench pingpong $((SECS + 20)) ping --socket "$A" --dst 52:54:00:00:00:0b \
				--seconds "$SECS" --cpu-pid "$H1" --cpu-pid "$H2" $(mode_args $m)
			wait $RP
		fi
		stop_hosts
	done
	# Four processes on two CPUs: spinning hosts take the CPU the guests
	# need.  The same end-to-end runs with only the guests polling:
	export VNET_POLL_US=0
	start_host h1 a mac 52:54:00:00:00:0a peer "$VNET_RUN_DIR/h2/b" peerfeats 0x7fc3
	H1=$HPID
	start_host h2 b mac 52:54:00:00:00:0b peer "$VNET_RUN_DIR/h1/a" peerfeats 0x7fc3
	H2=$HPID
	sleep 0.5
	if want e2e; then
		log "end to end 64 B, guests polling, hosts event-driven"
		timeout $((SECS + 25)) "$BENCH" recv --socket "$B" --seconds "$SECS" \
			--cpu-pid "$H1" --cpu-pid "$H2" --label e2e-guestpoll \
			--size 64 $(mode_args poll) >"$WORK/recv.out" 2>>"$WORK/bench.err" &
		RP=$!
		sleep 0.3
		run_bench e2e-sender $((SECS + 20)) send --socket "$A" --dst 52:54:00:00:00:0b \
			--seconds "$SECS" --size 64 $(mode_args poll)
		wait $RP || log "e2e receiver (guests polling) failed"
		while read -r l; do add "$l"; done <"$WORK/recv.out"
	fi
	if want ping; then
		log "ping-pong end to end, guests polling, hosts event-driven"
		timeout $((SECS + 25)) "$BENCH" pong --socket "$B" --seconds $((SECS + 15)) \
			$(mode_args poll) >/dev/null 2>>"$WORK/bench.err" &
		RP=$!
		sleep 0.3
		run_bench pingpong-guestpoll $((SECS + 20)) ping --socket "$A" --dst 52:54:00:00:00:0b \
			--seconds "$SECS" --cpu-pid "$H1" --cpu-pid "$H2" $(mode_args poll)
		wait $RP
	fi
	stop_hosts
fi

# ---- anchor: DPDK testpmd, vhost-user backend and virtio-user frontend -----
# testpmd's main lcore only prints; the forwarding lcores are CPU 1
# (vhost) and CPU 0 (virtio-user), so the two never share a core.
# --stats-period 1 prints "Rx-pps:" once a second; the median of the
# non-zero seconds of the receiving side is taken.
dpdk_pair() { # label rx_side(vhost|virtio) size [packed]
	lbl=$1
	rxs=$2
	sz=$3
	pk=${4:-}
	sock=$WORK/dpdk.sock
	rm -f "$sock"
	if [ "$rxs" = vhost ]; then vm=rxonly; um=txonly; else vm=txonly; um=rxonly; fi
	uargs=""
	ring=split
	[ -n "$pk" ] && uargs=",packed_vq=1" && ring=packed
	timeout -s INT $((SECS + 60)) dpdk-testpmd -l 0,1 --main-lcore 0 --no-huge -m 1024 --no-pci \
		--file-prefix vnb-h$$ --vdev "net_vhost0,iface=$sock,queues=1" -- \
		--forward-mode=$vm --txpkts="$sz" --stats-period 1 --nb-cores=1 \
		>"$WORK/dpdk-vhost.out" 2>&1 &
	vp=$!
	i=0
	while [ ! -S "$sock" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	timeout -s INT $((SECS + 50)) dpdk-testpmd -l 0,1 --main-lcore 1 --no-huge -m 1024 --no-pci \
		--single-file-segments --file-prefix vnb-u$$ \
		--vdev "net_virtio_user0,path=$sock,queues=1$uargs" -- \
		--forward-mode=$um --txpkts="$sz" --stats-period 1 --nb-cores=1 \
		>"$WORK/dpdk-virtio.out" 2>&1 &
	up=$!
	if [ "$rxs" = vhost ]; then f=$WORK/dpdk-vhost.out; else f=$WORK/dpdk-virtio.out; fi
	# Start-up (mbuf pools in plain pages) takes seconds and varies with
	# the load: measure from the first second with traffic on.
	i=0
	while ! grep 'Rx-pps:' "$f" 2>/dev/null | awk '$2 > 0 { ok = 1 } END { exit !ok }' &&
		[ $i -lt 400 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	sleep $((SECS + 1))
	kill -INT $up 2>/dev/null
	wait $up 2>/dev/null
	kill -INT $vp 2>/dev/null
	wait $vp 2>/dev/null
	# The median of the seconds with traffic, the first (ramp) left out.
	pps=$(grep 'Rx-pps:' "$f" | awk '$2 > 0 { n++; if (n > 1) print $2 }' | sort -n |
		awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print 0 }')
	[ "$pps" -gt 0 ] 2>/dev/null || log "$lbl $sz: no Rx-pps from testpmd (see $f)"
	add "{\"scenario\":\"$lbl\",\"anchor\":true,\"tool\":\"dpdk-testpmd\",\"size\":$sz,\"ring\":\"$ring\",\"pps\":${pps:-0},\"gbps\":$(awk "BEGIN { printf \"%.3f\", ${pps:-0} * $sz * 8 / 1e9 }")}"
	rm -rf /var/run/dpdk/vnb-h$$ /var/run/dpdk/vnb-u$$
}
if want dpdk; then
	if command -v dpdk-testpmd >/dev/null; then
		for s in 64 1514; do
			log "DPDK virtio-user -> vhost $s B"
			dpdk_pair dpdk-virtio-to-vhost vhost "$s"
			log "DPDK vhost -> virtio-user $s B"
			dpdk_pair dpdk-vhost-to-virtio virtio "$s"
		done
		log "DPDK virtio-user -> vhost 64 B, packed ring"
		dpdk_pair dpdk-virtio-to-vhost vhost 64 packed
	else
		log "skip DPDK anchor: no dpdk-testpmd (Debian's dpdk-dev)"
	fi
fi

# ---- anchor: a veth pair between two network namespaces -------------------
if want veth; then
	if [ "$(id -u)" = 0 ] && ip netns add "$NS_A" 2>/dev/null && ip netns add "$NS_B"; then
		ip link add vnbA$$ type veth peer name vnbB$$ &&
			ip link set vnbA$$ netns "$NS_A" && ip link set vnbB$$ netns "$NS_B" &&
			ip -n "$NS_A" addr add 10.203.0.1/24 dev vnbA$$ &&
			ip -n "$NS_B" addr add 10.203.0.2/24 dev vnbB$$ &&
			ip -n "$NS_A" link set vnbA$$ up && ip -n "$NS_B" link set vnbB$$ up &&
			ip -n "$NS_A" link set lo up && ip -n "$NS_B" link set lo up
		iperf() { # label args...
			lbl=$1
			shift
			ip netns exec "$NS_B" iperf3 -s -1 -p 5299 >/dev/null 2>&1 &
			sp=$!
			sleep 0.5
			ip netns exec "$NS_A" timeout $((SECS + 10)) iperf3 -c 10.203.0.2 -p 5299 -t "$SECS" -J "$@" \
				>"$WORK/iperf-$lbl.json" 2>&1
			wait $sp 2>/dev/null
		}
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
		ip netns exec "$NS_A" ping -c 3000 -i 0.0002 -s 22 10.203.0.2 >"$WORK/ping.out" 2>&1
		sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' "$WORK/ping.out" | sort -n >"$WORK/ping.txt"
		n=$(wc -l <"$WORK/ping.txt")
		if [ "$n" -gt 0 ]; then
			q() { sed -n "$(awk "BEGIN { i = int($1 * ($n - 1) + 1.5); print (i > $n ? $n : i) }")p" "$WORK/ping.txt"; }
			add "{\"scenario\":\"veth-ping\",\"anchor\":true,\"tool\":\"ping\",\"size\":64,\"samples\":$n,\"rtt_p50_us\":$(awk "BEGIN { print $(q 0.5) * 1000 }"),\"rtt_p99_us\":$(awk "BEGIN { print $(q 0.99) * 1000 }"),\"rtt_p999_us\":$(awk "BEGIN { print $(q 0.999) * 1000 }")}"
		fi
		ip netns del "$NS_A"
		ip netns del "$NS_B"
	else
		log "skip veth anchor: needs root and network namespaces"
	fi
fi

# ---- results ---------------------------------------------------------------
BASE=$OUT/$STAMP-$HOSTNAME_S
ELAPSED=$(($(date +%s) - START))
jq -s --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg host "$HOSTNAME_S" \
	--arg load "$LOAD0" --arg kernel "$(uname -r)" --arg cpu "$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)" \
	--argjson cpus "$(nproc)" --argjson secs "$SECS" --argjson elapsed "$ELAPSED" \
	-f bench/summary.jq "$JL" >"$BASE.json" || { log "cannot assemble $BASE.json"; exit 1; }
jq -r -f bench/table.jq "$BASE.json" >"$BASE.md"
jq -r -f bench/plot.jq "$BASE.json" >"$WORK/plot.dat"
awk -F'\t' -v d="$WORK" '{ f = d "/plot" $1 ".dat"; sub(/^[12]\t/, ""); print > f }' "$WORK/plot.dat"
touch "$WORK/plot1.dat" "$WORK/plot2.dat"
if command -v gnuplot >/dev/null && [ -s "$WORK/plot1.dat" ] && [ -s "$WORK/plot2.dat" ]; then
	gnuplot -e "data1='$WORK/plot1.dat'; data2='$WORK/plot2.dat'; outfile='$BASE.png'; subtitle='$STAMP $HOSTNAME_S, load at start $LOAD0'" \
		bench/plot.gp 2>"$WORK/gnuplot.err" || log "gnuplot failed: $(cat "$WORK/gnuplot.err")"
else
	log "no plot: gnuplot missing or nothing to plot"
fi
cat "$BASE.md"
log "wrote $BASE.json $BASE.md $BASE.png in ${ELAPSED}s"
