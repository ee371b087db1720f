#!/bin/sh
# The peer is hostile: a test peer (tests/progs/bad_peer.c) links to a
# real vdev like a real vdev would, then breaks one rule of the shared
# rings or of the socket protocol.  Every time the victim drops the link
# (or refuses the hello) with a logged reason, keeps running, keeps its
# guest, and later links with an honest peer and passes traffic.
set -u
. "$(dirname "$0")/lib.sh"
it_setup
BAD="$BUILD/tests/bad_peer"
MAC_A=52:54:00:00:07:0a
MAC_B=52:54:00:00:07:0b
BAD_MAC=52:54:00:ba:ad:02

start_host vm1 a mac $MAC_A || notok "victim did not start"
# The victim's guest keeps sending towards the peer, so the victim's TX
# ring has records in it (and fills when nobody consumes them).
it_bg tx "$GUEST" --socket "$(sock vm1 a)" send --seconds 120 --timeout 120 --size 200 $BAD_MAC

n=0
for attack in prod-past prod-back len-past-slot len-huge len-short off-misalign \
	      hdr-gso hdr-csum bell-flood never-consume cons-past; do
	n=$((n + 1))
	downs=$(grep -c "link down" "$RUN/host_vm1.log")
	"$BAD" --run-dir "$VNET_RUN_DIR" --system bad --name "p$n" --peer "$(node vm1 a)" \
		--attack $attack --timeout 10 >"$RUN/bad.out" 2>&1
	rc=$?
	sleep 0.1
	why=$(grep "link down" "$RUN/host_vm1.log" | sed -n "$((downs + 1))p" | sed 's/.*link down: //')
	if [ $rc -eq 0 ] && [ -n "$why" ] && kill -0 "$PID_host_vm1" 2>/dev/null &&
	   kill -0 "$PID_tx" 2>/dev/null; then
		ok "$attack: the victim dropped the link ($why) and goes on"
	else
		notok "$attack: bad_peer exit $rc ($(cat "$RUN/bad.out")); victim said '$why'; $(tail -3 "$RUN/host_vm1.log")"
	fi
done

# Eleven broken links in a row: the victim now backs off (up to
# PEER_BACKOFF_MAX_MS) and refuses connections meanwhile; wait that out,
# so that the hellos below are refused for what they are.
bo=$(grep -o 'next one in [0-9]* ms' "$RUN/host_vm1.log" | tail -1 | grep -o '[0-9][0-9]*')
sleep $(( ${bo:-0} / 1000 + 1 ))
for attack in hello-version hello-size hello-geom; do
	"$BAD" --run-dir "$VNET_RUN_DIR" --system bad --name h --peer "$(node vm1 a)" \
		--attack $attack --timeout 5 >"$RUN/bad.out" 2>&1
	rc=$?
	last=$(grep -i "refus\|hello" "$RUN/host_vm1.log" | tail -1 | sed 's/.*info: //; s/.*warning: //')
	if [ $rc -eq 0 ] && kill -0 "$PID_host_vm1" 2>/dev/null &&
	   ! printf '%s' "$last" | grep -q "backing off"; then
		ok "$attack: refused ($last)"
	else
		notok "$attack: bad_peer exit $rc: $(cat "$RUN/bad.out"); $(tail -3 "$RUN/host_vm1.log")"
	fi
done

# Another uid: the node is 0600 in a 0700 directory, so it cannot even
# reach it; with the permissions opened up on purpose, SO_PEERCRED still
# refuses it.
if [ "$(id -u)" != 0 ]; then
	skip "another uid is refused: needs root to run a process as uid 65534"
elif ! command -v setpriv >/dev/null 2>&1; then
	skip "another uid is refused: setpriv (util-linux) not found"
else
	other="setpriv --reuid=65534 --regid=65534 --clear-groups"
	$other "$BAD" --run-dir /nonexistent --system bad --name u --peer "$(node vm1 a)" \
		--attack hello-plain --timeout 3 >"$RUN/bad.out" 2>&1
	rc=$?
	if [ $rc -eq 2 ] && grep -q "Permission denied" "$RUN/bad.out"; then
		ok "uid 65534 cannot reach the node (mode 0600 in a 0700 directory)"
	else
		notok "uid 65534 reached the node: exit $rc: $(cat "$RUN/bad.out")"
	fi
	chmod 0711 "$RUN" "$VNET_RUN_DIR" "$VNET_RUN_DIR/vm1"
	chmod 0666 "$(node vm1 a)"
	$other "$BAD" --run-dir /nonexistent --system bad --name u --peer "$(node vm1 a)" \
		--attack hello-plain --timeout 3 >"$RUN/bad.out" 2>&1
	rc=$?
	sleep 0.1
	if [ $rc -eq 0 ] && grep -q "peer uid 65534 is not ours" "$RUN/host_vm1.log"; then
		ok "uid 65534 refused by SO_PEERCRED and logged ($(grep "peer uid 65534" "$RUN/host_vm1.log" | tail -1 | sed 's/.*warning: //'))"
	else
		notok "uid 65534 not refused: exit $rc: $(cat "$RUN/bad.out"); $(tail -3 "$RUN/host_vm1.log")"
	fi
	chmod 0700 "$RUN" "$VNET_RUN_DIR" "$VNET_RUN_DIR/vm1"
	chmod 0600 "$(node vm1 a)"
fi

it_stop_pid "$PID_tx"
# An honest peer now: the victim links and passes traffic.
start_host vm2 b mac $MAC_B peer "$(node vm1 a)"
if wait_log host_vm2 "link up" 10; then
	it_bg pong "$GUEST" --socket "$(sock vm2 b)" pong --count 100 --timeout 10
	sleep 0.3
	"$GUEST" --socket "$(sock vm1 a)" ping --count 100 --timeout 10 $MAC_B >"$RUN/ping" 2>&1
	prc=$?
	wait "$PID_pong"
	if [ $prc -eq 0 ]; then
		ok "after every attack the victim links with an honest peer: 100 pings, none lost"
	else
		notok "ping after the attacks: $(cat "$RUN/ping")"
	fi
else
	notok "no link with the honest peer: $(tail -5 "$RUN/host_vm1.log")"
fi
it_stop_pid "$PID_host_vm2"
it_stop_pid "$PID_host_vm1"
it_check_clean "after the hostile peers"
exit $IT_FAILED
