#!/bin/sh
# make demo: two VMs' virtio-net devices linked as peers, with traffic.
#
#   vm1: vnet-host --system vm1 vdev virtio-net name a peer <run>/vm2/b
#   vm2: vnet-host --system vm2 vdev virtio-net name b peer <run>/vm1/a
#
# A vnet-guest drives each device.  The demo shows what each guest
# negotiated, runs a 1000-frame ping from vm1 to vm2, a one-second stream
# each way, prints the figures and the devices' counters, and stops
# everything, leaving nothing in /dev/shm or the run directory.
#
# TRANSPORT picks the devices' shape (make demo TRANSPORT=...):
#   modern (default)  virtio-pci 1.x
#   legacy            legacy 0.9.5 virtio-pci       (vdev option legacy)
#   mmio              virtio-mmio version 2         (loc ADDR intr N)
#   mmio-legacy       virtio-mmio version 1         (legacy loc ADDR intr N)
set -u
. "$(dirname "$0")/lib.sh"
it_setup
[ -x "$HOST" ] && [ -x "$GUEST" ] || { echo "demo: build first (make)"; exit 2; }

say() { printf '\n== %s\n' "$*"; }
fail() { echo "demo: $*"; for f in "$RUN"/*.log; do echo "--- $f"; tail -20 "$f"; done; exit 1; }

TRANSPORT=${TRANSPORT:-modern}
case $TRANSPORT in
modern) OPT1=""; OPT2=""; G1=""; G2="" ;;
legacy) OPT1="legacy"; OPT2="legacy"; G1=""; G2="" ;;
mmio) OPT1="loc 0x1c0c0000 intr 41"; OPT2="loc 0x1c0d0000 intr 42"
      G1="--loc 0x1c0c0000 --intr 41"; G2="--loc 0x1c0d0000 --intr 42" ;;
mmio-legacy) OPT1="legacy loc 0x1c0c0000 intr 41"; OPT2="legacy loc 0x1c0d0000 intr 42"
      G1="--loc 0x1c0c0000 --intr 41"; G2="--loc 0x1c0d0000 --intr 42" ;;
*) echo "demo: TRANSPORT=$TRANSPORT: expected modern, legacy, mmio or mmio-legacy"; exit 2 ;;
esac
# The guest tool's options for the device on vm1 / vm2.
gopt() { if [ "$1" = vm1 ]; then echo "$G1"; else echo "$G2"; fi; }

say "starting two VMs' devices ($TRANSPORT), linked as peers (run directory $VNET_RUN_DIR)"
# shellcheck disable=SC2086
start_host vm1 a mac 52:54:00:00:00:0a peer "$(node vm2 b)" $OPT1 || fail "vm1 did not start"
# shellcheck disable=SC2086
start_host vm2 b mac 52:54:00:00:00:0b peer "$(node vm1 a)" $OPT2 || fail "vm2 did not start"
wait_log host_vm1 "link up" 5 || fail "the peer link did not come up"
cat "$RUN/host_vm1.log" "$RUN/host_vm2.log" | grep -E '^vdev|link up' | sed 's/^/  /'

for vm in vm1 vm2; do
	nm=a; [ $vm = vm2 ] && nm=b
	say "$vm guest: vnet-guest --socket $(sock $vm $nm) $(gopt $vm) info"
	# shellcheck disable=SC2046
	"$GUEST" --socket "$(sock $vm $nm)" $(gopt $vm) info | sed 's/^/  /' || fail "info on $vm failed"
done

say "ping: 1000 echo frames from the vm1 guest to the vm2 guest"
# shellcheck disable=SC2086
it_bg pong "$GUEST" --socket "$(sock vm2 b)" $G2 pong --count 1000 --timeout 20
sleep 0.3
# shellcheck disable=SC2086
"$GUEST" --socket "$(sock vm1 a)" $G1 ping --count 1000 --size 256 --timeout 20 52:54:00:00:00:0b \
	>"$RUN/ping.out" 2>&1
rc=$?
sed 's/^/  /' "$RUN/ping.out"
[ $rc -eq 0 ] || fail "ping failed (exit $rc)"
wait "$PID_pong" 2>/dev/null

stream() { # from_vm from_name to_vm to_name to_mac
	say "stream: one second of 1514-byte frames, $1 guest -> $3 guest"
	# shellcheck disable=SC2046
	it_bg "recv_$3" "$GUEST" --socket "$(sock $3 $4)" $(gopt $3) recv --timeout 3
	sleep 0.3
	# shellcheck disable=SC2046
	"$GUEST" --socket "$(sock $1 $2)" $(gopt $1) send --seconds 1 --size 1514 "$5" >"$RUN/send_$1.out" 2>&1 ||
		fail "send from $1 failed"
	eval "rp=\$PID_recv_$3"
	wait "$rp"
	rrc=$?
	echo "  sender ($1):"; sed 's/^/    /' "$RUN/send_$1.out"
	echo "  receiver ($3):"; sed 's/^/    /' "$RUN/recv_$3.log"
	sent=$(field "$RUN/send_$1.out" frames)
	got=$(field "$RUN/recv_$3.log" frames)
	[ "$rrc" -eq 0 ] && [ "$sent" = "$got" ] || fail "stream $1 -> $3: sent $sent, received $got (exit $rrc)"
}
stream vm1 a vm2 b 52:54:00:00:00:0b
stream vm2 b vm1 a 52:54:00:00:00:0a

say "device counters: vnet-host stats --system vm1 / vm2 (also logged on SIGUSR1 and at exit)"
for vm in vm1 vm2; do
	"$HOST" stats --system $vm | sed 's/; /\n      /g; s/^/  /'
done

say "stopping"
it_stop_pid "$PID_host_vm1"
it_stop_pid "$PID_host_vm2"
it_check_clean "demo"
[ "$IT_FAILED" = 0 ] || exit 1
echo "demo: done"
