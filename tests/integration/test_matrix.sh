#!/bin/sh
# Every transport and ring layout: the two-VM ping and a content-checked
# stream each way over {pci-modern, pci-legacy, mmio-v2, mmio-v1} x
# {split, packed where the transport allows} x {EVENT_IDX on, off} x
# {MSI-X, INTx where PCI; the line for MMIO}, then mixed pairs (the two
# sides in different shapes), each side's shape checked in info --json
# (IN_ORDER included: negotiated on 1.x transports unless declined);
# then a multiqueue cell per transport and ring layout (`queues 4`,
# --queues 4: every pair of both vdevs carries frames both ways, none
# lost, corrupted or reordered within a flow).
set -u
. "$(dirname "$0")/lib.sh"
it_setup
MAC_A=52:54:00:00:03:0a
MAC_B=52:54:00:00:03:0b
PINGS=${MATRIX_PINGS:-200}
FRAMES=${MATRIX_FRAMES:-20000}
CELLS=0

# Host options of a transport, and what info calls it.
host_opts() {
	case $1 in
	pci-modern) echo "" ;;
	pci-legacy) echo "legacy" ;;
	mmio-v2) echo "loc $2 intr $3" ;;
	mmio-v1) echo "legacy loc $2 intr $3" ;;
	esac
}
guest_base() { # transport: what a guest needs to find an MMIO device
	case $1 in
	mmio-*) echo "--loc $2 --intr $3" ;;
	*) echo "" ;;
	esac
}

start_pair() { # transport_a transport_b ["more vdev options" for both]
	# shellcheck disable=SC2046,SC2086
	start_host vm1 a mac $MAC_A peer "$(node vm2 b)" $(host_opts "$1" 0x1c0c0000 41) ${3:-} &&
	start_host vm2 b mac $MAC_B peer "$(node vm1 a)" $(host_opts "$2" 0x1c0d0000 42) ${3:-} &&
	wait_log host_vm1 "link up" 5 && wait_log host_vm2 "link up" 5
}

stop_pair() {
	it_stop_pid "$PID_host_vm1"
	it_stop_pid "$PID_host_vm2"
}

# expect_info label socket "guest opts" transport ring interrupts
expect_info() {
	# shellcheck disable=SC2086
	"$GUEST" --socket "$2" $3 info --json >"$RUN/info.json" 2>&1
	if grep -q "\"transport\": \"$4\"" "$RUN/info.json" &&
	   grep -q "\"ring\": \"$5\"" "$RUN/info.json" &&
	   grep -q "\"interrupts\": \"$6\"" "$RUN/info.json" &&
	   grep -q '"link_up": true' "$RUN/info.json"; then
		# IN_ORDER (bit 35) is for 1.x transports, unless declined.
		drv=$(sed -n 's/.*"driver_feature_names": \[\([^]]*\)\].*/\1/p' "$RUN/info.json")
		case "$4 $3" in
		pci-legacy*|mmio-v1*|*--no-in-order*) want=no ;;
		*) want=yes ;;
		esac
		case "$drv" in *'"IN_ORDER"'*) got=yes ;; *) got=no ;; esac
		[ "$want" = "$got" ] && return 0
		notok "$1: IN_ORDER negotiated: $got, expected $want: $drv"
		return 1
	fi
	notok "$1: info --json does not say $4 / $5 / $6: $(cat "$RUN/info.json")"
	return 1
}

# ", flows N and M" when the receivers counted flows (several pairs).
flows_said() {
	f1=$(field "$RUN/recv1.log" flows)
	f2=$(field "$RUN/recv.log" flows)
	[ -z "$f1$f2" ] || echo ", flows ${f1:-1} and ${f2:-1}"
}

# cell label "guest opts A" "guest opts B": ping A->B, stream A->B
# (1514 bytes) and B->A (64 bytes), every frame's content checked.  Each
# sender starts once the receiver's device logged UP again (its driver is
# up; with several pairs, it set them).
UP="driver ready"
cell() {
	label=$1; ga=$2; gb=$3
	n=$(grep -c -- "$UP" "$RUN/host_vm2.log")
	# shellcheck disable=SC2086
	it_bg pong "$GUEST" --socket "$(sock vm2 b)" $gb pong --count "$PINGS" --timeout 20
	driver_up host_vm2 "$n" "$UP"
	# shellcheck disable=SC2086
	"$GUEST" --socket "$(sock vm1 a)" $ga ping --count "$PINGS" --size 256 --timeout 20 $MAC_B >"$RUN/ping" 2>&1
	prc=$?
	wait "$PID_pong"
	n=$(grep -c -- "$UP" "$RUN/host_vm2.log")
	# shellcheck disable=SC2086
	it_bg recv "$GUEST" --socket "$(sock vm2 b)" $gb recv --count "$FRAMES" --timeout 10
	driver_up host_vm2 "$n" "$UP"
	# shellcheck disable=SC2086
	"$GUEST" --socket "$(sock vm1 a)" $ga send --count "$FRAMES" --size 1514 $MAC_B >"$RUN/send" 2>&1
	s1=$?
	wait "$PID_recv"
	r1=$?
	got1=$(field "$RUN/recv.log" frames)
	cp "$RUN/recv.log" "$RUN/recv1.log"
	n=$(grep -c -- "$UP" "$RUN/host_vm1.log")
	# shellcheck disable=SC2086
	it_bg recv "$GUEST" --socket "$(sock vm1 a)" $ga recv --count "$FRAMES" --timeout 10
	driver_up host_vm1 "$n" "$UP"
	# shellcheck disable=SC2086
	"$GUEST" --socket "$(sock vm2 b)" $gb send --count "$FRAMES" --size 64 $MAC_A >"$RUN/send2" 2>&1
	s2=$?
	wait "$PID_recv"
	r2=$?
	got2=$(field "$RUN/recv.log" frames)
	CELLS=$((CELLS + 1))
	# recv's exit says lost or corrupted; out_of_order is within a flow
	# (with several pairs, flows may pass each other, but never a frame
	# its own flow's earlier one).
	if [ $prc -eq 0 ] && [ "$(field "$RUN/ping" lost)" = 0 ] &&
	   [ "$(field "$RUN/ping" corrupted)" = 0 ] &&
	   [ $s1 -eq 0 ] && [ $r1 -eq 0 ] && [ "$got1" = "$FRAMES" ] &&
	   [ $s2 -eq 0 ] && [ $r2 -eq 0 ] && [ "$got2" = "$FRAMES" ] &&
	   [ "$(field "$RUN/recv1.log" out_of_order)" = 0 ] &&
	   [ "$(field "$RUN/recv.log" out_of_order)" = 0 ]; then
		ok "$label: $PINGS pings, $FRAMES x 1514 B a->b and $FRAMES x 64 B b->a intact and in order$(flows_said) (rtt $(field "$RUN/ping" rtt_us))"
	else
		notok "$label: ping $prc, a->b send $s1 recv $r1 ($got1), b->a send $s2 recv $r2 ($got2): $(cat "$RUN/ping" "$RUN/send" "$RUN/recv1.log" "$RUN/send2" "$RUN/recv.log")"
	fi
}

# One transport on both sides, every guest configuration it allows.
for tr in pci-modern pci-legacy mmio-v2 mmio-v1; do
	if ! start_pair $tr $tr; then
		notok "$tr: the pair did not come up: $(cat "$RUN/host_vm1.log" "$RUN/host_vm2.log")"
		stop_pair
		continue
	fi
	case $tr in
	pci-modern) rings="split packed"; irqs="msix intx" ;;
	mmio-v2) rings="split packed"; irqs="line" ;;
	pci-legacy) rings="split"; irqs="msix intx" ;;
	mmio-v1) rings="split"; irqs="line" ;;
	esac
	for ring in $rings; do
		for ev in on off; do
			for irq in $irqs; do
				ga="$(guest_base $tr 0x1c0c0000 41)"
				gb="$(guest_base $tr 0x1c0d0000 42)"
				extra=""
				[ $ring = split ] && extra="$extra --no-packed"
				[ $ev = off ] && extra="$extra --no-event-idx"
				[ $irq = intx ] && extra="$extra --intx"
				name="$tr $ring event-idx-$ev $irq"
				expect_info "$name" "$(sock vm1 a)" "$ga$extra" $tr $ring $irq &&
				cell "$name" "$ga$extra" "$gb$extra"
			done
		done
	done
	stop_pair
done
it_check_clean "after the single-transport matrix"

# Multiqueue (VIRTIO_NET_F_MQ, 5.1.2) on every transport and ring layout:
# MQ is feature bit 22, so the legacy interfaces (PCI and MMIO v1) offer
# it too (5.1.3.2 names no exception), and our device serves every queue
# on each transport.  Fresh vdevs with `queues N` per cell, so each pair's
# counters are the cell's own: the cell's traffic both ways, then every
# pair of both vdevs carried frames both ways (vnet-host stats --json).
MQ=${MATRIX_MQ:-4}
UP="$MQ queue pairs in use"
# Half the cells run the pairs on data-path threads (`threads 2`).
for shape in "pci-modern split 0" "pci-modern packed 2" "pci-legacy split 2" \
	     "mmio-v2 split 0" "mmio-v2 packed 2" "mmio-v1 split 0"; do
	# shellcheck disable=SC2086
	set -- $shape
	tr=$1 ring=$2 thr=$3
	mqn="$tr $ring, $MQ queue pairs"
	vopts="queues $MQ"
	if [ "$thr" != 0 ]; then
		mqn="$mqn on $thr threads"
		vopts="$vopts threads $thr"
	fi
	if ! start_pair $tr $tr "$vopts"; then
		notok "$mqn: the pair did not come up: $(cat "$RUN/host_vm1.log" "$RUN/host_vm2.log")"
		stop_pair
		continue
	fi
	extra=" --queues $MQ"
	[ $ring = split ] && extra="$extra --no-packed"
	ga="$(guest_base $tr 0x1c0c0000 41)$extra"
	gb="$(guest_base $tr 0x1c0d0000 42)$extra"
	case $tr in pci-*) irq=msix ;; *) irq=line ;; esac
	if expect_info "$mqn" "$(sock vm1 a)" "$ga" $tr $ring $irq; then
		if grep -q "\"queue_pairs\": $MQ," "$RUN/info.json"; then
			cell "$mqn" "$ga" "$gb"
			if pairs_busy vm1 "$MQ" && pairs_busy vm2 "$MQ"; then
				ok "$mqn: all $MQ pairs of both vdevs carried frames both ways"
			else
				notok "$mqn: not every pair carried frames both ways: $(cat "$RUN/stats_vm1.json" "$RUN/stats_vm2.json" 2>/dev/null | tr -d '\n')"
			fi
		else
			notok "$mqn: the guest does not use $MQ pairs: $(cat "$RUN/info.json")"
		fi
	fi
	stop_pair
done
UP="driver ready"
it_check_clean "after the multiqueue cells"

# Mixed pairs: each side its own shape; the link carries the 1.x header
# whatever the guests use.
mixed() { # label trA "guest opts A" ringA irqA trB "guest opts B" ringB irqB
	if ! start_pair "$2" "$6"; then
		notok "$1: the pair did not come up"
		stop_pair
		return
	fi
	ga="$(guest_base "$2" 0x1c0c0000 41) $3"
	gb="$(guest_base "$6" 0x1c0d0000 42) $7"
	expect_info "$1 (side a)" "$(sock vm1 a)" "$ga" "$2" "$4" "$5" &&
	expect_info "$1 (side b)" "$(sock vm2 b)" "$gb" "$6" "$8" "$9" &&
	cell "$1" "$ga" "$gb"
	stop_pair
}
mixed "pci-legacy split msix <-> mmio-v2 packed" pci-legacy "" split msix mmio-v2 "" packed line
mixed "mmio-v1 split <-> pci-modern packed intx" mmio-v1 "" split line pci-modern "--intx" packed intx
mixed "pci-modern split no-event-idx <-> pci-legacy intx" pci-modern "--no-packed --no-event-idx" split msix pci-legacy "--intx" split intx
mixed "mmio-v2 split no-mrg-rxbuf <-> mmio-v1 no-indirect" mmio-v2 "--no-packed --no-mrg-rxbuf" split line mmio-v1 "--no-indirect" split line
mixed "pci-modern packed no-in-order <-> mmio-v2 packed in-order" pci-modern "--no-in-order" packed msix mmio-v2 "" packed line
mixed "pci-modern split in-order <-> pci-modern split no-in-order" pci-modern "--no-packed" split msix pci-modern "--no-packed --no-in-order" split msix
it_check_clean "after the mixed pairs"
echo "# matrix: $CELLS cells run"
exit $IT_FAILED
