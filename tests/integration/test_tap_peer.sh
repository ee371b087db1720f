#!/bin/sh
# A host-peer TAP facing a scripted, partly hostile peer (tests/progs/
# tap_peer): good frames reach the kernel; a runt frame the TAP cannot take
# is dropped and counted with the link kept; a header no sender may
# write breaks the ring, the link drops with the reason, vnet-host keeps
# serving and the link re-forms for the next peer.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tap_lib.sh"
tap_setup "tap hostile peer"
NS="vnt-p-$TAP_ID"
T="vpp$TAP_ID"
PEER="$BUILD/tests/tap_peer"
tap_ns "$NS" || { notok "cannot create a namespace"; exit 1; }

it_bg host "$HOST" --system hp vdev tap ifname "$T" name vp peer "$(node bp p)" netns "$NS"
wait_for "$(node hp vp)" 5

rx_packets() { ip -n "$NS" -s link show "$T" | awk '/RX:/ { getline; print $2; exit }'; }
stats() { # pattern: SIGUSR1, then wait for the counters line
	kill -USR1 "$PID_host"
	wait_log host "$1" 5
}
peer() { # kind count
	timeout 20 "$PEER" --run-dir "$VNET_RUN_DIR" --system bp --name p --peer "$(node hp vp)" \
		--kind "$1" --count "$2" --timeout 10 >"$RUN/peer.log" 2>&1
}

before=$(rx_packets)
if peer good 100 && [ $(( $(rx_packets) - before )) -ge 100 ] &&
   stats "stats vp: .*from peer 100 frames"; then
	ok "100 good frames from the peer reached the kernel ($(( $(rx_packets) - before )) RX packets)"
else
	notok "good frames: RX $before -> $(rx_packets): $(cat "$RUN/peer.log"; grep stats "$RUN/host.log")"
fi

if peer runt 10 && stats "bad frame 10 " && ! grep -q "link down: peer broke a rule" "$RUN/host.log"; then
	ok "10 runt frames (10 bytes) a TAP cannot take: dropped, counted, link kept"
else
	notok "runt: $(cat "$RUN/peer.log"; grep -i "stats\|link\|dropped" "$RUN/host.log" | tail -n 5)"
fi

peer bad-flags 1
if wait_log host "vp: link down: peer broke a rule: bp/p.s transmit ring: .*flags 0x80" 5 && kill -0 "$PID_host"; then
	ok "a record no sender may write: link dropped with the reason, vnet-host keeps running"
else
	notok "bad-flags: $(cat "$RUN/peer.log"; grep -i "link" "$RUN/host.log" | tail -n 5)"
fi

before=$(rx_packets)
if peer good 5 && [ $(( $(rx_packets) - before )) -ge 5 ]; then
	ok "the link re-forms for the next peer and frames flow again"
else
	notok "after the broken ring: RX $before -> $(rx_packets): $(cat "$RUN/peer.log")"
fi

it_stop_pid "$PID_host"
tap_gone "after stop" "$NS" "$T"
check "namespace removed" tap_ns_del "$NS"
tap_check_clean "tap hostile peer" hp bp
exit $IT_FAILED
