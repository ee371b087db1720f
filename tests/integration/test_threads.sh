#!/bin/sh
# Data-path threads (vdev options `threads N` and `cpus LIST`,
# host/dp/threads.c): a vdev's queue pairs run on threads of their own,
# pair K on thread K mod N, while the control plane stays on the main
# loop and parks them whenever it works.
#  - The options are checked, naming what was wrong.
#  - The threads are there, named vnet-dpI, pinned where asked.
#  - RSS at the sender with four transmitqs on two threads feeding the
#    same link rings: nothing lost or reordered within a flow.
#  - A capture records every frame the threads send.
#  - The peer's process goes and comes back mid-stream: the link re-forms
#    and traffic flows again; a guest killed mid-stream leaves the device
#    usable.
#  - SIGTERM ends the process cleanly, leaving nothing behind.
#  - Then every check of test_multiqueue again, with `threads 2`, and
#    those of test_bad_guest and test_guest_sigbus on a vdev whose pairs
#    run on threads.
set -u
. "$(dirname "$0")/lib.sh"
it_setup
MAC_A=52:54:00:00:0b:0a
MAC_B=52:54:00:00:0b:0b
FRAMES=${MQ_FRAMES:-20000}

# ---- the options ---------------------------------------------------------
for bad in "queues 2 threads 3|threads 3 is more than the 2 queue pairs" \
	   "threads 2|threads 2 is more than the 1 queue pair" \
	   "queues 2 threads 0|threads '0' is out of range; expected 1..8" \
	   "queues 2 cpus 0|cpus needs threads" \
	   "queues 2 threads 2 cpus 0,x|cpus '0,x': 'x'" \
	   "queues 2 threads 2 cpus 99999|CPU 99999 is out of range"; do
	args=${bad%%|*}
	want=${bad#*|}
	# shellcheck disable=SC2086
	timeout 5 "$HOST" --system bad vdev virtio-net name x $args >"$RUN/bad" 2>&1
	rc=$?
	if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -qF -- "$want" "$RUN/bad"; then
		ok "'$args' is refused: $(head -n 1 "$RUN/bad")"
	else
		notok "'$args': exit $rc: $(cat "$RUN/bad")"
	fi
done

# ---- the threads ---------------------------------------------------------
if start_pair "queues 4 threads 2 cpus 0" "queues 4 threads 4"; then
	ok "two 4-pair vdevs on 2 and 4 data-path threads are linked"
else
	notok "the pair did not come up: $(cat "$RUN/host_vm1.log" "$RUN/host_vm2.log")"
	exit 1
fi
# dp_threads PID: the vnet-dp threads of a process, "TID NAME CPUS" each.
dp_threads() {
	for t in /proc/"$1"/task/*; do
		n=$(cat "$t/comm" 2>/dev/null)
		case "$n" in vnet-dp*)
			echo "${t##*/} $n $(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "$t/status")" ;;
		esac
	done
}
dp_threads "$PID_host_vm1" >"$RUN/threads_a"
dp_threads "$PID_host_vm2" >"$RUN/threads_b"
if [ "$(wc -l <"$RUN/threads_a")" -eq 2 ] && [ "$(wc -l <"$RUN/threads_b")" -eq 4 ] &&
   grep -q " vnet-dp0 " "$RUN/threads_a" && grep -q " vnet-dp1 " "$RUN/threads_a" &&
   grep -q " vnet-dp3 " "$RUN/threads_b"; then
	ok "the processes run 2 and 4 data-path threads, named vnet-dp0.. ($(tr '\n' ';' <"$RUN/threads_a"))"
else
	notok "data-path threads: $(cat "$RUN/threads_a" "$RUN/threads_b" | tr '\n' ';')"
fi
if [ "$(awk '{print $3}' "$RUN/threads_a" | sort -u)" = 0 ]; then
	ok "cpus 0 pins both threads of vdev a to CPU 0"
else
	notok "cpus 0: $(cat "$RUN/threads_a" | tr '\n' ';')"
fi
"$HOST" stats --system vm1 --json >"$RUN/stats_a.json" 2>&1
if grep -q '"threads": 2' "$RUN/stats_a.json" &&
   [ "$(grep -o '"thread": [0-9-]*' "$RUN/stats_a.json" | tr '\n' ' ')" = '"thread": 0 "thread": 1 "thread": 0 "thread": 1 ' ]; then
	ok "stats --json: threads 2, pairs 1-4 on threads 0 1 0 1"
else
	notok "stats --json: $(cat "$RUN/stats_a.json")"
fi

# ---- RSS at the sender, four transmitqs on two threads ------------------
# The receiving guest sets RSS; the sending device then puts each frame
# on the ring of its receive queue, so both of its threads write every
# ring: each ring's producer end is taken per pass.
told=$(grep -c "steers by RSS" "$RUN/host_vm1.log")
ready=$(grep -c "driver ready" "$RUN/host_vm2.log")
it_bg recv "$GUEST" --socket "$(sock vm2 b)" --queues 4 --rss recv --count "$FRAMES" --timeout 20
wait_more host_vm2 "driver ready" "$ready"
wait_more host_vm1 "steers by RSS" "$told"
"$GUEST" --socket "$(sock vm1 a)" --queues 4 send --flows 32 --count "$FRAMES" --size 512 $MAC_B \
	>"$RUN/send" 2>&1
src=$?
wait "$PID_recv"
rrc=$?
if [ $src -eq 0 ] && [ $rrc -eq 0 ] && recv_whole "$FRAMES"; then
	ok "RSS at the sender from 4 transmitqs on 2 threads: $FRAMES frames, none lost, corrupted or reordered within a flow"
else
	notok "RSS with threads: send exit $src, recv exit $rrc: $(cat "$RUN/send" "$RUN/recv.log" | tr '\n' ' ')"
fi
"$HOST" stats --system vm1 --json >"$RUN/stats_a.json" 2>&1
"$HOST" stats --system vm2 --json >"$RUN/stats_b.json" 2>&1
tx=$(grep -o '"tx_frames": [0-9]*' "$RUN/stats_a.json" | head -n 4 | sed 's/.*: //' | tr '\n' ' ')
rx=$(grep -o '"rx_frames": [0-9]*' "$RUN/stats_b.json" | head -n 4 | sed 's/.*: //' | tr '\n' ' ')
if ! echo " $tx $rx " | grep -q ' 0 ' && [ "$(echo $tx $rx | wc -w)" -eq 8 ]; then
	ok "every transmitq of the sender and every receiveq of the receiver carried frames (tx $tx; rx $rx)"
else
	notok "pairs used: tx $tx; rx $rx"
fi

# ---- a guest killed mid-stream, then the peer's process replaced --------
ready=$(grep -c "driver ready" "$RUN/host_vm2.log")
it_bg sink "$GUEST" --socket "$(sock vm2 b)" --queues 4 recv --count 100000000 --timeout 30
wait_more host_vm2 "driver ready" "$ready"
# runtime TIDS: each thread's time on a CPU so far, ns (schedstat).
runtime() { for tid in $1; do cut -d' ' -f1 "/proc/$PID_host_vm1/task/$tid/schedstat"; done; }
tids=$(awk '{print $1}' "$RUN/threads_a")
before=$(runtime "$tids")
it_bg flood "$GUEST" --socket "$(sock vm1 a)" --queues 4 send --count 100000000 --size 256 $MAC_B
sleep 1
after=$(runtime "$tids")
# Both of the sender's data-path threads ran the flood: each spent over
# 10 ms on a CPU in that second (an idle one spends well under 1 ms: a
# few wake-ups when the main loop works).
ran=$(printf '%s\n%s\n' "$before" "$after" |
	awk '{ v[NR] = $1 } END { n = NR / 2; for (i = 1; i <= n; i++) printf "%d ", (v[i + n] - v[i]) / 1000000 }')
busy=0
for ms in $ran; do [ "$ms" -gt 10 ] && busy=$((busy + 1)); done
if [ "$busy" -eq 2 ]; then
	ok "both data-path threads of the sender ran the flood: ${ran}ms on a CPU in its first second (/proc/PID/task/TID/schedstat; over 10 ms each)"
else
	notok "$busy of 2 data-path threads ran the flood: ${ran}ms on a CPU in its first second"
fi
kill -KILL "$PID_flood" 2>/dev/null
wait "$PID_flood" 2>/dev/null
# The receiver's process goes while frames are in flight, and a new one
# takes its place.
it_stop_pid "$PID_host_vm2"
kill -KILL "$PID_sink" 2>/dev/null
wait "$PID_sink" 2>/dev/null
downs=$(grep -c "link down" "$RUN/host_vm1.log")
ups=$(grep -c "link up" "$RUN/host_vm1.log")
start_host vm2 b mac $MAC_B peer "$(node vm1 a)" queues 4 threads 4
wait_more host_vm1 "link up" "$ups"
if [ "$downs" -ge 1 ] && [ "$(grep -c "link up" "$RUN/host_vm1.log")" -gt "$ups" ] &&
   kill -0 "$PID_host_vm1" 2>/dev/null; then
	ok "a guest killed mid-stream, then the peer's process replaced: the link went down and came up again"
else
	notok "link after the peer's restart: $(grep "link" "$RUN/host_vm1.log" | tr '\n' ' ')"
fi
ready=$(grep -c "driver ready" "$RUN/host_vm2.log")
it_bg recv "$GUEST" --socket "$(sock vm2 b)" --queues 4 recv --count "$FRAMES" --timeout 20
wait_more host_vm2 "driver ready" "$ready"
"$GUEST" --socket "$(sock vm1 a)" --queues 4 send --count "$FRAMES" --size 512 $MAC_B >"$RUN/send" 2>&1
src=$?
wait "$PID_recv"
if [ $src -eq 0 ] && recv_whole "$FRAMES"; then
	ok "afterwards a new guest streams $FRAMES frames over the new link, none lost or reordered"
else
	notok "stream after the restart: send exit $src: $(cat "$RUN/send" "$RUN/recv.log" | tr '\n' ' ')"
fi

# ---- SIGTERM -------------------------------------------------------------
kill -TERM "$PID_host_vm1"
i=0
while kill -0 "$PID_host_vm1" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
wait "$PID_host_vm1"
rc1=$?
it_stop_pid "$PID_host_vm2"
if [ $rc1 -eq 0 ]; then
	ok "SIGTERM ends a process with data-path threads: exit 0"
else
	notok "SIGTERM: exit $rc1: $(tail -n 5 "$RUN/host_vm1.log")"
fi
it_check_clean "after both processes ended"

# ---- a capture of what the threads send ----------------------------------
start_pair "queues 2 threads 2 capture $RUN/a.pcap" "queues 2" ||
	notok "the capture pair did not come up"
ready=$(grep -c "driver ready" "$RUN/host_vm2.log")
it_bg recv "$GUEST" --socket "$(sock vm2 b)" --queues 2 recv --count 5000 --timeout 20
wait_more host_vm2 "driver ready" "$ready"
"$GUEST" --socket "$(sock vm1 a)" --queues 2 send --count 5000 --size 128 $MAC_B >"$RUN/send" 2>&1
wait "$PID_recv"
"$HOST" stats --system vm1 --json >"$RUN/stats_a.json" 2>&1
n=$(counter "$RUN/stats_a.json" capture frames)
if [ "$(field "$RUN/recv.log" frames)" = 5000 ] && [ "${n:-0}" -ge 5000 ]; then
	ok "a capture on a vdev with 2 threads recorded every frame sent ($n)"
else
	notok "capture with threads: recorded ${n:-?}: $(cat "$RUN/recv.log" "$RUN/stats_a.json" | tr '\n' ' ')"
fi
stop_pair

# ---- test_multiqueue with threads ----------------------------------------
MQ_THREADS="threads 2" IT_PREFIX="threads 2: " sh "$(dirname "$0")/test_multiqueue.sh" ||
	IT_FAILED=1

# ---- a hostile guest on a threaded vdev ------------------------------------
# Its garbage descriptors and its truncated RAM hit a data-path thread: the
# queue latches broken there, the main loop sets NEEDS_RESET, the process
# and its other vdev go on (test_bad_guest, test_guest_sigbus).
for t in test_bad_guest test_guest_sigbus; do
	VICTIM_OPTS="queues 2 threads 2" IT_PREFIX="threads 2: " \
		sh "$(dirname "$0")/$t.sh" || IT_FAILED=1
done
exit $IT_FAILED
