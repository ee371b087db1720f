#!/bin/sh
# The life of a peer link: either side killed (SIGKILL) or stopped
# (SIGTERM) mid-stream and started again, repeatedly.  The survivor keeps
# running and its guest keeps its device; each guest sees link down and
# up; frames in flight may be lost, never corrupted or duplicated; the
# link re-forms within a second of the restart; a restart after SIGKILL
# removes its own stale /dev/shm files; SIGTERM leaves nothing behind.
set -u
. "$(dirname "$0")/lib.sh"
it_setup
MAC_A=52:54:00:00:06:0a
MAC_B=52:54:00:00:06:0b
ROUNDS=${PEER_LIFE_ROUNDS:-3}
REFORM_MAX_MS=1000

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

start_a() { start_host vm1 a mac $MAC_A peer "$(node vm2 b)"; }
start_b() { start_host vm2 b mac $MAC_B peer "$(node vm1 a)"; }
shm_of() { # SYSTEM: this run's ring files of that system
	h=$(run_hashes | head -n 1)
	ls /dev/shm 2>/dev/null | grep "^vnet-$1:.*-$h-tx-" | sort
}
links_up() { grep -c "link up with" "$RUN/$1.log" 2>/dev/null || echo 0; }

# wait_links LOG N: until LOG shows N "link up" lines (2 s at most).
wait_links() {
	i=0
	while [ "$(links_up "$1")" -lt "$2" ] && [ $i -lt 200 ]; do sleep 0.01; i=$((i + 1)); done
	[ "$(links_up "$1")" -ge "$2" ]
}

link_state() { # socket: "true"/"false" as info --json says
	"$GUEST" --socket "$1" info --json 2>/dev/null | sed -n 's/.*"link_up": \([a-z]*\).*/\1/p'
}

start_a && start_b && wait_links host_vm1 1 && wait_links host_vm2 1 &&
	ok "the pair links up" || notok "no link: $(cat "$RUN/host_vm1.log" "$RUN/host_vm2.log")"

# --- the receiving side's host dies and comes back, repeatedly, while
# vm1's guest streams: the sender is not disturbed.
it_bg send "$GUEST" --socket "$(sock vm1 a)" send --seconds $((ROUNDS * 2 + 2)) --size 256 $MAC_B
sleep 0.3
worst=0
for r in $(seq 1 "$ROUNDS"); do
	if [ $((r % 2)) -eq 1 ]; then sig=KILL; else sig=TERM; fi
	it_bg recv "$GUEST" --socket "$(sock vm2 b)" recv --timeout 1
	sleep 0.4
	old_shm=$(shm_of vm2)
	old_ino=$(for f in $old_shm; do stat -c '%n:%i' "/dev/shm/$f"; done)
	kill -$sig "$PID_host_vm2"
	wait "$PID_host_vm2" 2>/dev/null
	wait "$PID_recv" 2>/dev/null
	if [ "$(field "$RUN/recv.log" content_errors)" = 0 ] && [ "$(field "$RUN/recv.log" duplicates)" = 0 ] &&
	   [ "$(field "$RUN/recv.log" frames)" -gt 0 ] 2>/dev/null; then
		ok "round $r: vm2's guest got $(field "$RUN/recv.log" frames) frames before SIG$sig of its host, none corrupted or duplicated"
	else
		notok "round $r: receiver: $(cat "$RUN/recv.log")"
	fi
	n1=$(grep -c "link down" "$RUN/host_vm1.log")
	sleep 0.3
	st=$(link_state "$(sock vm1 a)")
	[ "$st" = "" ] && st="(device busy: guest attached)"
	if [ "$n1" -ge "$r" ]; then ok "round $r: vm1 saw the link go down"; else notok "round $r: vm1 did not log link down"; fi
	if [ $sig = KILL ] && [ -n "$old_shm" ] && [ -n "$(shm_of vm2)" ]; then
		ok "round $r: SIGKILL left vm2's rings behind ($(shm_of vm2 | wc -l) files)"
	elif [ $sig = TERM ] && [ -z "$(shm_of vm2)" ] && [ ! -e "$(node vm2 b)" ] && [ ! -e "$(sock vm2 b)" ]; then
		ok "round $r: SIGTERM removed vm2's node, socket and rings"
	else
		notok "round $r: after SIG$sig: shm '$(shm_of vm2)' node $(ls "$VNET_RUN_DIR/vm2" 2>&1)"
	fi
	before=$(links_up host_vm1)
	t0=$(now_ms)
	start_b
	if wait_links host_vm1 $((before + 1)); then
		dt=$(( $(now_ms) - t0 ))
		[ $dt -gt $worst ] && worst=$dt
		if [ $dt -le $REFORM_MAX_MS ]; then
			ok "round $r: the link re-formed $dt ms after vm2 was started again"
		else
			notok "round $r: the link took $dt ms to re-form (more than $REFORM_MAX_MS)"
		fi
	else
		notok "round $r: no link after the restart: $(tail -5 "$RUN/host_vm2.log")"
	fi
	# A name may come back (the generation counts per process), the
	# file may not: compare inodes.
	left=""
	for fi in $old_ino; do
		f=${fi%:*}
		[ -e "$f" ] && [ "$(stat -c '%n:%i' "$f")" = "$fi" ] && left="$left $f"
	done
	if [ -z "$left" ]; then
		ok "round $r: none of the old process's ring files is left"
	else
		notok "round $r: stale rings still there:$left"
	fi
done
wait "$PID_send"
rc=$?
if [ $rc -eq 0 ]; then
	ok "vm1's guest streamed through $ROUNDS restarts of its peer (exit 0; $(field "$RUN/send.log" frames) frames sent)"
else
	notok "vm1's sender exit $rc: $(cat "$RUN/send.log")"
fi
echo "# worst re-form time: $worst ms"

# --- the sending side's host is killed mid-stream; vm2's guest stays,
# sees link down and up, and receives the new stream intact.
it_bg recv "$GUEST" --socket "$(sock vm2 b)" recv --timeout 3
sleep 0.3
it_bg send "$GUEST" --socket "$(sock vm1 a)" send --seconds 5 --size 512 $MAC_B
sleep 0.6
kill -KILL "$PID_host_vm1"
wait "$PID_host_vm1" 2>/dev/null
wait "$PID_send" 2>/dev/null
sleep 0.3
before=$(links_up host_vm2)
t0=$(now_ms)
start_a
if wait_links host_vm2 $((before + 1)); then
	ok "vm1 killed and restarted: the link re-formed in $(( $(now_ms) - t0 )) ms"
else
	notok "vm1 restart: no link: $(tail -5 "$RUN/host_vm1.log")"
fi
"$GUEST" --socket "$(sock vm1 a)" send --count 20000 --size 512 --first-seq 100000000 $MAC_B >"$RUN/send2" 2>&1
src=$?
wait "$PID_recv"
if [ $src -eq 0 ] && [ "$(field "$RUN/recv.log" content_errors)" = 0 ] &&
   [ "$(field "$RUN/recv.log" duplicates)" = 0 ] &&
   grep -q "link down" "$RUN/host_vm2.log" && [ "$(field "$RUN/recv.log" frames)" -gt 20000 ] 2>/dev/null; then
	ok "vm2's guest kept its device across vm1's death: $(field "$RUN/recv.log" frames) frames, none corrupted or duplicated"
else
	notok "survivor's guest: send2 $src: $(cat "$RUN/send2" "$RUN/recv.log")"
fi
st=$(link_state "$(sock vm2 b)")
if [ "$st" = true ]; then ok "vm2's guest sees the link up again"; else notok "vm2 link state '$st'"; fi

it_stop_pid "$PID_host_vm1"
it_stop_pid "$PID_host_vm2"
it_check_clean "after the restarts and a final SIGTERM"
exit $IT_FAILED
