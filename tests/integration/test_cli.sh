#!/bin/sh
# Bad command lines and config files are refused at start with a message
# naming the word and where it was; nothing is left behind.
set -u
. "$(dirname "$0")/lib.sh"
it_setup

# refused "what" pattern args... : exit non-zero, message matches pattern.
refused() {
	what=$1; pat=$2; shift 2
	"$HOST" "$@" >"$RUN/out" 2>&1
	rc=$?
	if [ $rc -ne 0 ] && grep -qiE -- "$pat" "$RUN/out"; then
		ok "$what (exit $rc: $(head -n 1 "$RUN/out"))"
	else
		notok "$what: exit $rc, output: $(cat "$RUN/out")"
	fi
}

refused "unknown option names the word" "bogus" vdev virtio-net bogus 1
refused "bad MAC names the word" "mac" vdev virtio-net mac 52:54:00:zz:00:01
refused "multicast MAC refused" "multicast" vdev virtio-net mac 01:00:5e:00:00:01
refused "missing value" "peer" vdev virtio-net peer
refused "unknown device type" "virtio-blk|type" vdev virtio-blk
refused "no vdev" "no vdev" --system x
refused "peerfeats outside 0x7fc3" "peerfeats" vdev virtio-net peerfeats 0x8000
refused "peerfeats breaking a dependency" "needs|depend" vdev virtio-net peerfeats 0x800
refused "duplicate names" "name" vdev virtio-net name a vdev virtio-net name a
refused "loc without intr" "intr" vdev virtio-net loc 0x1c0c0000
refused "bad system name" "system.*\\.\\./x|\\.\\./x.*system" --system ../x vdev virtio-net

printf '# a config file\nvdev virtio-net name ok1\n\nvdev virtio-net name ok2 mac nonsense\n' >"$RUN/bad.cfg"
refused "bad config line names file:line and word" "bad.cfg:4.*mac|mac.*bad.cfg:4" --config "$RUN/bad.cfg"
refused "missing config file" "nope.cfg" --config "$RUN/nope.cfg"
refused "intr without loc" "intr without loc" vdev virtio-net intr 41

# Things a new user tries (each once refused with a clear word, never a
# hang or a silent retry forever).
mkfifo "$RUN/fifo.cfg"
timeout 5 "$HOST" --config "$RUN/fifo.cfg" >"$RUN/out" 2>&1
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "is a FIFO; expected a regular file" "$RUN/out"; then
	ok "--config naming a FIFO is refused at once ($(head -n 1 "$RUN/out"))"
else
	notok "--config FIFO: exit $rc: $(cat "$RUN/out")"
fi
refused "--config naming a directory" "is a directory" --config "$RUN"
refused "a vdev whose peer is its own node" "its own node" --system self vdev virtio-net name a peer "$(node self a)"
: >"$RUN/plain"
refused "a peer that is a regular file" "is a regular file, not a vdev's node" --system pf vdev virtio-net name a peer "$RUN/plain"
refused "a peer that is a directory" "is a directory, not a vdev's node" --system pd vdev virtio-net name a peer "$RUN"
args=""
i=0
while [ $i -lt 33 ]; do args="$args vdev virtio-net name n$i"; i=$((i + 1)); done
# shellcheck disable=SC2086
refused "33 vdevs: the error names the limit" "at most 32" --system many $args
"$GUEST" --socket "$RUN/none.vfio" ping 52:54:00:zz:00:01 >"$RUN/out" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q "is not a MAC address" "$RUN/out" && ! grep -q "connect" "$RUN/out"; then
	ok "vnet-guest refuses a bad MAC before connecting (exit 2: $(head -n 1 "$RUN/out"))"
else
	notok "vnet-guest bad MAC: exit $rc: $(cat "$RUN/out")"
fi

"$HOST" --help >"$RUN/help" 2>&1
check "--help prints usage and exits 0" grep -q "peerfeats" "$RUN/help"

# --version: every tool prints the one version the build carries.
want=$(cat "$BUILD/version.stamp" 2>/dev/null || cat VERSION)
for tool in vnet-host vnet-guest vnet-bench; do
	got=$("$BUILD/$tool" --version 2>&1)
	check "$tool --version prints '$tool $want'" [ "$got" = "$tool $want" ]
done

# Readiness for systemd (Type=notify): READY=1 once the vdevs serve,
# STOPPING=1 at shutdown, on the socket NOTIFY_SOCKET names.
it_bg notify "$BUILD/tests/notify_listen" "$RUN/notify.sock" 20
wait_for "$RUN/notify.sock" 5
it_bg nfy env NOTIFY_SOCKET="$RUN/notify.sock" "$HOST" --system nfy vdev virtio-net name n1
if wait_log notify "READY=1" 5 && [ -S "$(sock nfy n1)" ]; then
	ok "sd_notify READY=1 once the vdev's socket is there"
else
	notok "READY=1: notify: $(cat "$RUN/notify.log"); host: $(cat "$RUN/nfy.log")"
fi
it_stop_pid "$PID_nfy"
if wait_log notify "STOPPING=1" 5; then
	ok "sd_notify STOPPING=1 at shutdown"
else
	notok "STOPPING=1: notify: $(cat "$RUN/notify.log")"
fi

# A good config file starts.
printf 'vdev virtio-net name c1 # first\nvdev virtio-net name c2 mac 52:54:00:aa:bb:cc\n' >"$RUN/good.cfg"
it_bg cfg "$HOST" --system cfg --config "$RUN/good.cfg"
if wait_for "$(sock cfg c2)" 5 && [ -S "$(sock cfg c1)" ]; then
	ok "a good config file starts both vdevs"
else
	notok "good config: $(cat "$RUN/cfg.log")"
fi

# The counters of the running process, through its control socket.
"$HOST" stats --system cfg --json >"$RUN/stats.json" 2>&1
if grep -q '"system": "cfg"' "$RUN/stats.json" && grep -q '"name": "c1"' "$RUN/stats.json" &&
   grep -q '"name": "c2"' "$RUN/stats.json" && grep -q '"drops": {' "$RUN/stats.json"; then
	ok "vnet-host stats --json reads both vdevs' counters from the running process"
else
	notok "stats --json: $(cat "$RUN/stats.json")"
fi
"$HOST" stats --system cfg >"$RUN/stats.txt" 2>&1
check "vnet-host stats prints one line per vdev" [ "$(grep -c '^c[12]: link ' "$RUN/stats.txt")" = 2 ]
refused "stats of a system that is not running" "no-such.*not running|No such file" stats --system no-such
refused "stats with a bad system name" "not a valid name" stats --system ../x

# A second process with the same system and name is refused; the first
# keeps serving.
"$HOST" --system cfg vdev virtio-net name c1 >"$RUN/dup" 2>&1
rc=$?
if [ $rc -ne 0 ] && grep -q "held by a running vnet-host (pid $PID_cfg)" "$RUN/dup" &&
   kill -0 "$PID_cfg" 2>/dev/null; then
	ok "a second process with the same system is told which pid holds it ($(grep -o 'system.*' "$RUN/dup" | head -n 1))"
else
	notok "duplicate live name: exit $rc: $(cat "$RUN/dup")"
fi
it_stop_pid "$PID_cfg"

# vhost-user: the frontend owns the transport; a live backend's socket is
# not taken over, a stale one is.
refused "vhost-user with legacy is refused" "legacy.*vhost-user" vdev virtio-net legacy vhost-user "$RUN/vu.sock"
it_bg vu1 "$HOST" --system vu1 vdev virtio-net name v vhost-user "$RUN/vu.sock"
wait_for "$RUN/vu.sock" 5
refused "a second backend on a live vhost-user socket is refused" "in use" --system vu2 vdev virtio-net name v vhost-user "$RUN/vu.sock"
it_stop_pid "$PID_vu1"
if [ ! -e "$RUN/vu.sock" ]; then ok "the vhost-user socket is removed at a clean stop"; else notok "vu.sock left behind"; fi
"$HOST" --system vu1 vdev virtio-net name v vhost-user "$RUN/vu.sock" >"$RUN/vu1.log" 2>&1 &
vp=$!
wait_for "$RUN/vu.sock" 5
kill -KILL $vp; wait $vp 2>/dev/null
it_bg vu3 "$HOST" --system vu3 vdev virtio-net name v vhost-user "$RUN/vu.sock"
if wait_log vu3 "ready" 5 && kill -0 "$PID_vu3" 2>/dev/null; then
	ok "a stale vhost-user socket (its process was killed) is replaced"
else
	notok "stale vhost-user socket: $(cat "$RUN/vu3.log")"
fi
it_stop_pid "$PID_vu3"
rm -rf "$VNET_RUN_DIR"/vu1	# the killed process could not tidy its run dir
it_check_clean "after the refusals and a clean stop"
exit $IT_FAILED
