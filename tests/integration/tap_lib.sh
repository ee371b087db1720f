# tests/integration/tap_lib.sh - helpers for the TAP tests (POSIX sh):
# network namespaces that are removed at exit (also on failure), real
# traffic with ping and iperf3 inside them, and checks that nothing the
# test made is left.  Source after lib.sh, then call tap_setup.
#
# Names carry the test's pid so two runs (plain and sanitizer builds, or
# two people) never collide; interface names stay within 15 bytes.

TAP_NS=""
TAP_ID=$$

tap_cleanup() {
	it_cleanup
	for ns in $TAP_NS; do ip netns del "$ns" 2>/dev/null; done
	TAP_NS=""
}

# tap_setup TESTNAME: skip unless root with /dev/net/tun, ip, ping and
# iperf3; then it_setup with our cleanup in the trap.
tap_setup() {
	if [ "$(id -u)" != 0 ]; then
		skip "$1: needs root (TAP interfaces and network namespaces)"; exit 0
	fi
	if [ ! -c /dev/net/tun ]; then
		skip "$1: needs /dev/net/tun"; exit 0
	fi
	for tool in ip ping iperf3; do
		if ! command -v $tool >/dev/null 2>&1; then
			skip "$1: needs $tool (make deps)"; exit 0
		fi
	done
	probe="vnt-probe-$TAP_ID"
	if ! ip netns add "$probe" 2>/dev/null; then
		skip "$1: cannot create network namespaces here"; exit 0
	fi
	ip netns del "$probe"
	it_setup
	trap tap_cleanup EXIT
}

# tap_ns NAME: a fresh namespace (lo up), removed at exit.
tap_ns() {
	ip netns add "$1" || return 1
	TAP_NS="$TAP_NS $1"
	ip -n "$1" link set lo up
}

# tap_ns_del NAME: remove it now (and check it is gone).
tap_ns_del() {
	ip netns del "$1" 2>/dev/null
	TAP_NS=$(printf '%s\n' $TAP_NS | grep -vxF -- "$1" | tr '\n' ' ')
	! ip netns list | grep -qw -- "$1"
}

# tap_underlay NS1 NS2 IF1 IF2: a veth pair IF1 (in NS1, 10.99.0.1/24)
# - IF2 (in NS2, 10.99.0.2/24), up, for VXLAN between two "machines",
# with room for the 50 bytes VXLAN adds to a 1500-byte frame.
tap_underlay() {
	ip link add "$3" netns "$1" mtu 1600 type veth peer name "$4" netns "$2" mtu 1600 &&
		ip -n "$1" addr add 10.99.0.1/24 dev "$3" && ip -n "$2" addr add 10.99.0.2/24 dev "$4" &&
		ip -n "$1" link set "$3" up && ip -n "$2" link set "$4" up
}

# fresh_logs NAME...: empty these logs before their processes start again
# (a background child truncates its log only once it runs, so a wait
# could match the last run's line).
fresh_logs() {
	for lg in "$@"; do : >"$RUN/$lg.log"; done
}

# tap_guest LOGNAME SOCKET IFNAME NETNS ADDR [global options...]: start
# vnet-guest tap and wait until its interface is configured.
tap_guest() {
	lg=$1; sk=$2; ifn=$3; ns=$4; ad=$5; shift 5
	# Empty the log here: the background child truncates it only once it
	# runs, and a wait that saw the last run's line would pass at once.
	: >"$RUN/$lg.log"
	it_bg "$lg" "$GUEST" --socket "$sk" "$@" tap "$ifn" --netns "$ns" --addr "$ad"
	t0=$(date +%s.%N)
	if wait_log "$lg" "^tap: " 30; then
		[ -n "${TAP_DEBUG:-}" ] && echo "# $lg up after $(echo "$(date +%s.%N) $t0" | awk '{printf "%.1f", $1 - $2}') s"
		return 0
	fi
	eval "gp=\$PID_$lg"
	echo "# $lg (pid $gp) not up: state $(cat /proc/$gp/wchan 2>/dev/null) $(cat /proc/$gp/stack 2>/dev/null | head -5 | tr '\n' ' ')"
	if [ -n "${TAP_DEBUG:-}" ] && command -v gdb >/dev/null; then
		gdb -p "$gp" -batch -ex "thread apply all bt" 2>&1 | grep '^#' | sed 's/^/# /'
		ls -l "$RUN/$lg.log"; od -c "$RUN/$lg.log" | head -5; ls -l /proc/$gp/fd/1
	fi
	return 1
}

# wait_carrier NETNS IFNAME up|down [seconds]: wait for the carrier.
wait_carrier() {
	i=0; lim=$(( ${4:-5} * 10 ))
	while [ $i -lt $lim ]; do
		if ip -n "$1" link show "$2" 2>/dev/null | grep -q 'NO-CARRIER'; then
			[ "$3" = down ] && return 0
		elif ip -n "$1" link show "$2" >/dev/null 2>&1; then
			[ "$3" = up ] && return 0
		fi
		sleep 0.1; i=$((i + 1))
	done
	return 1
}

# tap_ping WHAT NETNS DEST [count]: no loss.  The first echo waits for
# ARP or neighbour discovery, which retries a lost solicitation after
# 1 s; -W 4 gives it time for that, while every echo must still come
# back.  A failure shows ping's summary, the neighbour table and the
# interface counters of NETNS, to tell a lost frame from a slow one.
tap_ping() {
	n=${4:-20}
	if ip netns exec "$2" ping -q -n -c "$n" -i 0.02 -W 4 "$3" >"$RUN/ping.out" 2>&1 &&
	   grep -q " $n received, 0% packet loss" "$RUN/ping.out"; then
		ok "$1: $n pings to $3, none lost ($(sed -n 's/^rtt //p' "$RUN/ping.out"))"
	else
		notok "$1: ping $3: $(tr '\n' ' ' <"$RUN/ping.out"); neighbours in $2: $(ip -n "$2" neigh | tr '\n' ';'); links: $(ip -n "$2" -s -o link | tr '\n' ';')"
	fi
}

# iperf_field FILE SECTION KEY: KEY's number in the last "SECTION" object
# of iperf3 -J output (its end summary).
iperf_field() {
	sed -n "/\"$2\"[[:space:]]*:/,/}/p" "$1" |
		sed -n "s/.*\"$3\":[[:space:]]*\([0-9.][0-9.e+-]*\).*/\1/p" | tail -n 1
}

# iperf_server NETNS ADDR: a one-shot iperf3 server, ready on return.
iperf_server() {
	it_bg iperf_srv timeout 30 ip netns exec "$1" iperf3 -s -1 -B "$2"
	i=0
	while ! ip netns exec "$1" ss -ltn 2>/dev/null | grep -q ":5201 " && [ $i -lt 50 ]; do
		sleep 0.1; i=$((i + 1))
	done
}

# tap_tcp WHAT CLIENT_NS SERVER_NS SERVER_ADDR [-R]: iperf3 TCP for 1 s.
# The server can only have received what the client sent, and all of it
# but what was still in flight when the timer ended: socket buffers and
# queues, a few MB whatever the speed (iperf3 stops counting at the end
# of the interval, so the two rarely match).  So: more than 1 MB, and
# at most 16 MiB short.  (A share of what was sent made this a speed
# test: a run slowed down by a loaded machine sends less in its second,
# and the same bytes in flight became more than 10 % of it.)
tap_tcp() {
	what=$1; cns=$2; sns=$3; sad=$4; shift 4
	iperf_server "$sns" "$sad"
	timeout 20 ip netns exec "$cns" iperf3 -c "$sad" -t 1 -J "$@" >"$RUN/iperf.json" 2>&1
	rc=$?
	wait "$PID_iperf_srv" 2>/dev/null
	sent=$(iperf_field "$RUN/iperf.json" sum_sent bytes)
	recv=$(iperf_field "$RUN/iperf.json" sum_received bytes)
	bps=$(iperf_field "$RUN/iperf.json" sum_received bits_per_second)
	TCP_RECV=${recv:-0}
	if [ $rc -eq 0 ] && [ -n "$sent" ] && [ -n "$recv" ] && [ "$recv" -gt 1000000 ] &&
	   [ "$recv" -le "$sent" ] && [ $((sent - recv)) -le 16777216 ]; then
		ok "$what: iperf3 TCP $sent bytes sent, $recv received ($(echo "$bps" | awk '{printf "%.2f", $1 / 1e9}') Gbit/s)"
	else
		notok "$what: iperf3 TCP exit $rc, sent '$sent' received '$recv': $(tail -n 5 "$RUN/iperf.json")"
	fi
}

# tap_udp WHAT CLIENT_NS SERVER_NS SERVER_ADDR: 1 s of UDP at 100 Mbit/s
# with 2 MB socket buffers; datagrams arrive (loss below 5 %: UDP may
# lose on a busy machine, a broken checksum or offload loses everything).
# On failure the message says where the kernel dropped.
tap_udp() {
	iperf_server "$3" "$4"
	timeout 20 ip netns exec "$2" iperf3 -c "$4" -u -b 100M -l 1400 -w 2M -t 1 -J >"$RUN/iperf.json" 2>&1
	rc=$?
	wait "$PID_iperf_srv" 2>/dev/null
	pk=$(iperf_field "$RUN/iperf.json" sum packets)
	lost=$(iperf_field "$RUN/iperf.json" sum lost_percent)
	if [ $rc -eq 0 ] && [ -n "$pk" ] && [ "$pk" -gt 1000 ] &&
	   awk -v l="$lost" 'BEGIN { exit !(l < 5) }'; then
		ok "$1: iperf3 UDP $pk datagrams, ${lost}% lost"
	else
		notok "$1: iperf3 UDP exit $rc, packets '$pk' lost '$lost%'; server: $(ip netns exec "$3" nstat -az UdpInDatagrams UdpRcvbufErrors UdpInCsumErrors 2>&1 | tail -n 3 | tr -s ' \n' ' ')"
	fi
}

# tap_check_clean WHAT SYSTEM...: as it_check_clean, but /dev/shm is
# searched only for ring files of this test's systems
# (vnet-SYSTEM:NAME-...), so another person's test running at the same
# time on a shared machine cannot fail this one.
tap_check_clean() {
	what=$1; shift
	left=$(find "$VNET_RUN_DIR" -mindepth 1 ! -type d 2>/dev/null)
	shm_new=""
	for sy in "$@"; do
		for f in $(ls /dev/shm 2>/dev/null | grep "^vnet-$sy:" || true); do
			printf '%s\n' "$SHM_BEFORE" | grep -qxF -- "$f" || shm_new="$shm_new $f"
		done
	done
	if [ -z "$left" ] && [ -z "$shm_new" ]; then
		ok "$what: nothing left in the run directory or /dev/shm"
	else
		notok "$what: left behind: $left $shm_new"
	fi
}

# tap_gone WHAT NETNS IFNAME...: the interfaces no longer exist.
tap_gone() {
	what=$1; ns=$2; shift 2
	left=""
	for ifn in "$@"; do
		ip -n "$ns" link show "$ifn" >/dev/null 2>&1 && left="$left $ifn"
	done
	if [ -z "$left" ]; then ok "$what: interfaces gone ($*)"; else notok "$what: left:$left"; fi
}
