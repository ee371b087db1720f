#!/bin/sh
# Live upgrade: a vnet-host is replaced by a new process mid-stream,
# while its guest's driver runs on (vfio-user migration, vnet-guest as
# the VMM: `--move-to`).  For PCI modern (split and packed), legacy PCI
# and MMIO v2, a vnet-guest streams content-checked frames to a peer
# guest; first the sender's vnet-host is replaced, then the receiver's.
# Afterwards: nothing lost, duplicated or reordered, no driver reset, the
# old process ended by itself and the peer saw one counted flap.  A
# destination started with other options refuses the state, naming the
# difference, and the source serves on.
set -u
. "$(dirname "$0")/lib.sh"
it_setup

N=${MOVE_FRAMES:-1000000}
SIZE=128

# fresh_logs NAME...: empty these logs before their processes start again.
fresh_logs() {
	for lg in "$@"; do : >"$RUN/$lg.log"; done
}

# run TAG SIDE VDEV_OPTS GUEST_OPTS: SIDE (send|recv) moves after N/4.
run() {
	tag=$1; side=$2; vopts=$3; gopts=$4
	notok_before=$IT_NOTOK
	fresh_logs host_vm1 host_vm2 host_new snd rcv
	# shellcheck disable=SC2086
	start_host vm1 a peer "$(node vm2 b)" $vopts
	# shellcheck disable=SC2086
	start_host vm2 b peer "$(node vm1 a)" $vopts
	if [ "$side" = send ]; then msys=vm1; mname=a; else msys=vm2; mname=b; fi
	# shellcheck disable=SC2086
	it_bg host_new "$HOST" --incoming --system "$msys" vdev virtio-net name "$mname" \
		peer "$(node "$([ $msys = vm1 ] && echo vm2 || echo vm1)" "$([ $msys = vm1 ] && echo b || echo a)")" $vopts
	wait_for "$(sock "$msys" "$mname").incoming" 5
	moveopt="--move-to $(sock "$msys" "$mname").incoming --move-after $((N / 4))"
	# shellcheck disable=SC2086
	it_bg rcv "$GUEST" --socket "$(sock vm2 b)" $gopts recv --count "$N" --timeout 10 \
		$([ "$side" = recv ] && echo "$moveopt")
	wait_log host_vm2 "b: driver ready" 5
	# shellcheck disable=SC2086
	"$GUEST" --socket "$(sock vm1 a)" $gopts send --count "$N" --size $SIZE \
		$([ "$side" = send ] && echo "$moveopt") 52:54:00:00:00:00 >"$RUN/snd.log" 2>&1
	src=$?
	wait "$PID_rcv"
	rrc=$?
	old=$([ "$side" = send ] && echo "$PID_host_vm1" || echo "$PID_host_vm2")
	i=0
	while kill -0 "$old" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	mover=$([ "$side" = send ] && echo snd || echo rcv)
	lost=$(field "$RUN/rcv.log" lost)
	# Nothing is lost either way: frames the mover queued move with its
	# rings; frames its peer had sent it and it had not taken are held
	# by the peer and handed to the new process first, and the peer's
	# guest's frames wait for the new link.
	if [ $src -eq 0 ] && [ $rrc -eq 0 ] && [ "$(field "$RUN/rcv.log" frames)" = "$N" ] &&
	   [ "$lost" = 0 ] && [ "$(field "$RUN/rcv.log" duplicates)" = 0 ] &&
	   [ "$(field "$RUN/rcv.log" out_of_order)" = 0 ] &&
	   [ "$(field "$RUN/rcv.log" content_errors)" = 0 ] &&
	   grep -q "device moved to" "$RUN/$mover.log"; then
		ok "$tag: the $side side's vnet-host replaced mid-stream; $(field "$RUN/rcv.log" frames) of $N frames, $lost lost, 0 duplicated, 0 reordered ($(grep -o 'in [0-9.]* ms' "$RUN/$mover.log") for the move)"
	else
		notok "$tag: $side side moved: send exit $src, recv exit $rrc; recv: $(tr '\n' ' ' <"$RUN/rcv.log"); mover: $(tr '\n' ' ' <"$RUN/$mover.log") (logs below)"
	fi
	# The driver never reset: no reset counted, and the new process took
	# the driver's state instead of a driver bringing the device up.
	if ! grep -q '^resets:' "$RUN/$mover.log" &&
	   grep -Eq "device state loaded \(status 0x(7|f)," "$RUN/host_new.log"; then
		ok "$tag: the moving driver never reset; the new process loaded its state"
	else
		notok "$tag: reset or no state loaded: $(grep -E 'resets|state' "$RUN/$mover.log" "$RUN/host_new.log" | tr '\n' ' ')"
	fi
	check "$tag: the old vnet-host ended by itself once its vdev had moved" \
		sh -c "! kill -0 $old 2>/dev/null && grep -q 'every vdev moved to another process' '$RUN/host_$msys.log'"
	# The peer saw the link go and come back: one flap, counted.
	peer=$([ "$side" = send ] && echo vm2 || echo vm1)
	it_stop_pid "$([ "$side" = send ] && echo "$PID_host_vm2" || echo "$PID_host_vm1")"
	it_stop_pid "$PID_host_new"
	flaps=$(sed -n 's/.*stats .*flaps \([0-9]*\).*/\1/p' "$RUN/host_$peer.log")
	check "$tag: the peer counted the link's flap ($flaps)" [ "${flaps:-0}" = 1 ]
	# The peer held what the old process had not taken, and handed it on.
	held=$(sed -n 's/.*stats .*moved_held \([0-9]*\) moved_lost \([0-9]*\).*/\1 \2/p' "$RUN/host_$peer.log")
	case "$side/$held" in
	send/*" 0") ok "$tag: the peer lost nothing it held for the move (held, lost: $held)" ;;
	recv/[1-9]*" 0") ok "$tag: the peer held $(echo "$held" | cut -d' ' -f1) frames for the move and handed them on" ;;
	*) notok "$tag: the peer's moved_held/moved_lost: '$held'" ;;
	esac
	# A failed case shows every process's side, the hosts' final stats
	# included (the peer's and the new one's are stopped by now).
	[ "$IT_NOTOK" = "$notok_before" ] || it_show_logs host_vm1 host_vm2 host_new snd rcv
}

run "pci-modern split" send "" ""
run "pci-modern packed" send "" "--packed"
run "legacy pci" send "legacy" ""
run "mmio v2" send "loc 0x10000000 intr 41" ""
run "pci-modern split" recv "" ""
run "pci-modern packed" recv "" "--packed"
run "legacy pci" recv "legacy" ""
run "mmio v2" recv "loc 0x10000000 intr 41" ""

# A destination with other options (two queue pairs) refuses the state,
# naming the difference; the source serves on and the stream completes.
notok_before=$IT_NOTOK
fresh_logs host_vm1 host_vm2 host_new snd rcv
start_host vm1 a peer "$(node vm2 b)"
start_host vm2 b peer "$(node vm1 a)"
it_bg host_new "$HOST" --incoming --system vm1 vdev virtio-net name a peer "$(node vm2 b)" queues 2
wait_for "$(sock vm1 a).incoming" 5
it_bg rcv "$GUEST" --socket "$(sock vm2 b)" recv --count 100000 --timeout 10
wait_log host_vm2 "b: driver ready" 5
"$GUEST" --socket "$(sock vm1 a)" send --count 100000 --size $SIZE \
	--move-to "$(sock vm1 a).incoming" --move-after 20000 52:54:00:00:00:00 >"$RUN/snd.log" 2>&1
src=$?
wait "$PID_rcv"
rrc=$?
if grep -q "state of a device with 1 queue pairs, this one has 2 (queues)" "$RUN/host_new.log"; then
	ok "other options: the destination refused the state: $(sed -n 's/.*device state refused: //p' "$RUN/host_new.log" | head -1)"
else
	notok "other options: no refusal naming the queues: $(tail -5 "$RUN/host_new.log" | tr '\n' ' ')"
fi
# The sender says the move failed (exit 1) but its stream went on through
# the source: the receiver got every frame.
if [ $src -eq 1 ] && [ $rrc -eq 0 ] && grep -q "moving the device to .* failed" "$RUN/snd.log" &&
   [ "$(field "$RUN/rcv.log" lost)" = 0 ] && kill -0 "$PID_host_vm1" 2>/dev/null; then
	ok "other options: the move failed and said so; the source served on and all 100000 frames arrived"
else
	notok "other options: send exit $src recv exit $rrc: $(tr '\n' ' ' <"$RUN/snd.log") recv: $(tr '\n' ' ' <"$RUN/rcv.log")"
fi
"$GUEST" --socket "$(sock vm1 a)" info >"$RUN/info" 2>&1
check "other options: a guest drives the source's device afterwards" [ $? -eq 0 ]
it_stop_pid "$PID_host_new"
it_stop_pid "$PID_host_vm1"
it_stop_pid "$PID_host_vm2"
[ "$IT_NOTOK" = "$notok_before" ] || it_show_logs host_vm1 host_vm2 host_new snd rcv
it_check_clean "move"
