# tests/integration/lib.sh - shared helpers for the scripted integration
# tests (POSIX sh).  Source it, then call it_setup.  Every process started
# with it_bg is stopped at exit (TERM, then KILL after a bound), and the
# private run directory is removed; it_check_clean verifies that nothing
# was left in the run directory or /dev/shm.
#
# Output: one line per check, "ok - what", "not ok - what" or
# "skip - what: why" (counted by tests/run.sh).

BUILD=${BUILD:-build}
HOST="$BUILD/vnet-host"
GUEST="$BUILD/vnet-guest"
IT_PIDS=""
IT_FAILED=0
IT_NOTOK=0	# failed checks so far (a part of a script compares before and after)

# IT_PREFIX: a label before every check (a script run again under other
# options by another one, as test_threads runs test_multiqueue).
ok() { echo "ok - ${IT_PREFIX:-}$*"; }
notok() { echo "not ok - ${IT_PREFIX:-}$*"; IT_FAILED=1; IT_NOTOK=$((IT_NOTOK + 1)); }
skip() { echo "skip - ${IT_PREFIX:-}$*"; }
check() { # check "what" command...
	what=$1; shift
	if "$@"; then ok "$what"; else notok "$what"; fi
}

it_setup() {
	RUN=$(mktemp -d "${TMPDIR:-/tmp}/vnet-it.XXXXXX")
	export VNET_RUN_DIR="$RUN/run"
	mkdir -p "$VNET_RUN_DIR"
	SHM_BEFORE=$(ls /dev/shm 2>/dev/null | grep '^vnet' | sort)
	trap it_cleanup EXIT
	trap 'exit 130' INT TERM
}

# it_bg NAME cmd... : start in the background, output to $RUN/NAME.log.
it_bg() {
	name=$1; shift
	# Empty the log now, not when the child gets to run: a wait_log right
	# after restarting a process must not match the last run's lines.
	: >"$RUN/$name.log"
	"$@" >"$RUN/$name.log" 2>&1 &
	IT_PIDS="$IT_PIDS $!"
	eval "PID_$name=$!"
}

it_stop_pid() { # pid: TERM, wait up to 5 s, then KILL
	p=$1
	kill -TERM "$p" 2>/dev/null || return 0
	i=0
	while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	kill -KILL "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	return 0
}

it_cleanup() {
	for p in $IT_PIDS; do it_stop_pid "$p"; done
	if [ "${IT_KEEP:-0}" = 1 ]; then echo "kept $RUN"; else rm -rf "$RUN"; fi
}

# it_show_logs NAME...: the last lines (IT_LOG_LINES, 30) of each NAME's
# log in $RUN, as "#" comments, so that a failure shows every process's
# side of it (run.sh counts only ok / not ok / skip lines).
it_show_logs() {
	for lg in "$@"; do
		echo "# --- $lg.log, last ${IT_LOG_LINES:-30} lines:"
		tail -n "${IT_LOG_LINES:-30}" "$RUN/$lg.log" 2>/dev/null | sed 's/^/#   /'
	done
}

# wait_for PATH [seconds]: wait until PATH exists.
wait_for() {
	i=0; lim=$(( ${2:-5} * 10 ))
	while [ ! -e "$1" ] && [ $i -lt $lim ]; do sleep 0.1; i=$((i + 1)); done
	[ -e "$1" ]
}

# wait_log NAME PATTERN [seconds]: wait until NAME's log matches.
wait_log() {
	i=0; lim=$(( ${3:-5} * 10 ))
	while ! grep -q -- "$2" "$RUN/$1.log" 2>/dev/null && [ $i -lt $lim ]; do
		sleep 0.1; i=$((i + 1))
	done
	grep -q -- "$2" "$RUN/$1.log" 2>/dev/null
}

# counter FILE GROUP NAME: one counter from `vnet-host stats --json`
# output saved in FILE (the first vdev's).
counter() {
	sed -n "s/.*\"$2\": {[^}]*\"$3\": \([0-9]*\).*/\1/p" "$1" | head -n 1
}

# still_serving SYS_A A SYS_B B MAC_B VICTIM: after an attack on vdev
# VICTIM of SYS_A, the same process's vdev A still passes 50 pings to B
# (MAC_B, in SYS_B), and a normal guest drives the victim again.
still_serving() {
	it_bg pong "$GUEST" --socket "$(sock "$3" "$4")" pong --count 50 --timeout 20
	sleep 0.3
	"$GUEST" --socket "$(sock "$1" "$2")" ping --count 50 --timeout 20 "$5" >"$RUN/ping" 2>&1
	check "the other vdev of the same process still passes 50 pings" [ $? -eq 0 ]
	wait "$PID_pong"
	"$GUEST" --socket "$(sock "$1" "$6")" info >"$RUN/info" 2>&1
	check "a normal guest drives the attacked device afterwards" [ $? -eq 0 ]
}

# field FILE KEY: value of "KEY: value" (first match).
field() { sed -n "s/^$2: *//p" "$1" | head -n 1; }

# recv_whole N: vnet-guest recv's $RUN/recv.log says N frames arrived,
# none lost, corrupted, or out of order within its flow.
recv_whole() {
	[ "$(field "$RUN/recv.log" frames)" = "$1" ] && [ "$(field "$RUN/recv.log" lost)" = 0 ] &&
		[ "$(field "$RUN/recv.log" content_errors)" = 0 ] &&
		[ "$(field "$RUN/recv.log" out_of_order)" = 0 ]
}

# The run-directory hashes in this run's peer ring names, as the hosts
# logged them ("rings /dev/shm/vnet-SYS:NAME-HASH-tx-*").
run_hashes() {
	cat "$RUN"/*.log 2>/dev/null |
		sed -n 's|.*rings /dev/shm/vnet-[^ ]*-\([0-9a-f]\{8\}\)-tx-.*|\1|p' | sort -u
}

# it_check_clean WHAT: run dir holds no sockets or files, /dev/shm holds
# no vnet file that was not there before.
it_check_clean() {
	left=$(find "$VNET_RUN_DIR" -mindepth 1 ! -type d 2>/dev/null)
	shm_now=$(ls /dev/shm 2>/dev/null | grep '^vnet' | sort)
	shm_new=$(printf '%s\n' "$shm_now" | grep -vxF -- "$(printf '%s\n' "$SHM_BEFORE")" | grep . || true)
	# Other runs may share this machine: peer rings carry a hash of the
	# run directory (vnet-host logs "rings /dev/shm/vnet-SYS:NAME-HASH-tx-*"),
	# so only files of this run's hashes count once any host has logged.
	hashes=$(run_hashes)
	if [ -n "$hashes" ] && [ -n "$shm_new" ]; then
		shm_new=$(printf '%s\n' "$shm_new" | grep -F -- "$(printf -- '-%s-\n' $hashes)" || true)
	fi
	if [ -z "$left" ] && [ -z "$shm_new" ]; then
		ok "$1: nothing left in the run directory or /dev/shm"
	else
		notok "$1: left behind: $left $shm_new"
	fi
}

# host SYSTEM NAME [vdev options...]: start a vnet-host with one vdev
# and wait for its vfio-user socket.
start_host() {
	sys=$1; nm=$2; shift 2
	it_bg "host_$sys" "$HOST" --system "$sys" vdev virtio-net name "$nm" "$@"
	wait_for "$VNET_RUN_DIR/$sys/$nm.vfio" 5
}

sock() { echo "$VNET_RUN_DIR/$1/$2.vfio"; }
node() { echo "$VNET_RUN_DIR/$1/$2"; }

# start_pair "host opts a" "host opts b": vdev a (MAC_A) in system vm1
# and vdev b (MAC_B) in vm2, peers, once their link is up; stop_pair.
start_pair() { # "host opts a" "host opts b"
	# shellcheck disable=SC2086
	start_host vm1 a mac $MAC_A peer "$(node vm2 b)" $1 &&
	# shellcheck disable=SC2086
	start_host vm2 b mac $MAC_B peer "$(node vm1 a)" $2 &&
	wait_log host_vm1 "link up" 5 && wait_log host_vm2 "link up" 5
}

stop_pair() {
	it_stop_pid "$PID_host_vm1"
	it_stop_pid "$PID_host_vm2"
}

# wait_more NAME PATTERN N: until NAME's log has more than N lines
# matching PATTERN (bounded, 10 s).
wait_more() {
	i=0
	while [ "$(grep -c -- "$2" "$RUN/$1.log")" -le "$3" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

# driver_up NAME N [PATTERN]: until NAME's log has more than N lines of
# PATTERN ("driver ready" by default: a frame that comes before its driver
# is up is dropped as the device's "no_driver"; bounded, 10 s), and a
# moment for what the driver asks right after.
driver_up() {
	wait_more "$1" "${3:-driver ready}" "$2"
	sleep 0.1
}

# pairs_used SYSTEM KEY N: the first N pairs of the system's vdev all have
# KEY (tx_frames / rx_frames) above zero in `vnet-host stats --json`.
pairs_used() {
	"$HOST" stats --system "$1" --json >"$RUN/stats_$1.json" 2>&1 || return 1
	"$HOST" stats --system "$1" >"$RUN/stats_$1.txt" 2>&1 || return 1
	vals=$(grep -o "\"$2\": [0-9]*" "$RUN/stats_$1.json" | head -n "$3" | sed 's/.*: //')
	[ "$(echo "$vals" | grep -c .)" -eq "$3" ] || return 1
	# The text line of a device with several pairs says the same per
	# pair ("pairs: in_use N rx_frames ... tx_frames ...").  Frames may
	# arrive between the two queries, so only the text's own values are
	# checked: none of the first `pairs` is 0.
	if grep -q '"queue_pairs": 1,' "$RUN/stats_$1.json"; then
		txt=1
	elif [ "$2" = rx_frames ]; then
		txt=$(sed -n 's/.*; pairs: in_use [0-9]* rx_frames \([0-9 ]*\) tx_frames.*/\1/p' "$RUN/stats_$1.txt")
	else
		txt=$(sed -n 's/.*; pairs: in_use [0-9]* rx_frames [0-9 ]* tx_frames \([0-9 ]*\).*/\1/p' "$RUN/stats_$1.txt")
	fi
	[ "$(echo $txt | wc -w)" -ge "$3" ] || return 1
	! echo $txt | tr ' ' '\n' | head -n "$3" | grep -qx 0 || return 1
	! echo "$vals" | grep -qx 0
}

# pairs_busy SYSTEM N: the first N pairs of the system's vdev carried
# frames both ways (each pair's receiveq and transmitq).
pairs_busy() { pairs_used "$1" rx_frames "$2" && pairs_used "$1" tx_frames "$2"; }
