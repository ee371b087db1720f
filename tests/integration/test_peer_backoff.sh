#!/bin/sh
# A peer that keeps breaking the ring (tests/progs/bad_peer --repeat) is
# counted in the victim's link.dropped_broken each time, both sides' logs
# name who broke which rule, and the victim backs off before each new
# link: the gaps between links grow (200, 400, 800, 1600 ms of back-off),
# although the peer itself retries every 200 ms.  The victim keeps
# serving, and an honest peer links once the back-off has passed.
set -u
. "$(dirname "$0")/lib.sh"
it_setup
BAD="$BUILD/tests/bad_peer"
MAC_A=52:54:00:00:0c:0a
MAC_B=52:54:00:00:0c:0b
ROUNDS=5


start_host vm1 a mac $MAC_A || notok "victim did not start"
"$BAD" --run-dir "$VNET_RUN_DIR" --system bad --name p --peer "$(node vm1 a)" \
	--attack hdr-gso --repeat $ROUNDS --timeout 40 >"$RUN/bad.out" 2>"$RUN/bad.err"
rc=$?
ups=$(field "$RUN/bad.out" up_ms)
"$HOST" stats --system vm1 --json >"$RUN/s.json" 2>&1
broken=$(counter "$RUN/s.json" link dropped_broken)
refused=$(counter "$RUN/s.json" link refused)
if [ $rc -eq 0 ] && [ "$broken" = $ROUNDS ]; then
	ok "$ROUNDS broken rings, each counted in dropped_broken ($broken; $refused connections refused while backing off)"
else
	notok "bad_peer exit $rc, dropped_broken '$broken': $(cat "$RUN/bad.out" "$RUN/bad.err" | tail -5)"
fi

# Gaps between link-ups: each at least its back-off, and growing.
set -- $ups
gaps=""
prev=""
grow=1
i=0
want=200
for t in "$@"; do
	if [ -n "$prev" ]; then
		g=$((t - prev))
		gaps="$gaps $g"
		[ $g -ge $want ] || grow=0
		[ $i -gt 0 ] && [ $g -le "$last" ] && grow=0
		last=$g
		i=$((i + 1))
		want=$((want * 2))
	fi
	prev=$t
done
if [ $# -eq $ROUNDS ] && [ $grow = 1 ]; then
	ok "the re-forms back off: gaps between links$gaps ms (at least 200, 400, 800, 1600)"
else
	notok "no back-off: links at '$ups' ms, gaps$gaps"
fi

if grep -q "peer bad/p broke a rule: bad/p's transmit ring: record .*unknown gso_type.*next one in 1600 ms" "$RUN/host_vm1.log"; then
	ok "the victim's log names the peer, the ring and the rule, and the back-off"
else
	notok "victim's log: $(grep -m2 'broke a rule' "$RUN/host_vm1.log")"
fi
if grep -q "peer closed it: you broke a rule: bad/p's transmit ring: record" "$RUN/bad.err"; then
	ok "the peer is told it broke the rule ($(grep -m1 'you broke a rule' "$RUN/bad.err" | sed 's/.*closed it: //' | cut -c1-90))"
else
	notok "peer's log: $(grep -m2 'down' "$RUN/bad.err")"
fi

check "the victim is still running" kill -0 "$PID_host_vm1"
start_host vm2 b mac $MAC_B peer "$(node vm1 a)"
if wait_log host_vm1 "link up with vm2/b" 10; then
	ok "an honest peer links after the back-off"
else
	notok "no link with the honest peer: $(tail -3 "$RUN/host_vm1.log")"
fi
it_stop_pid "$PID_host_vm2"
it_stop_pid "$PID_host_vm1"
it_check_clean "after the repeat offender"
exit $IT_FAILED
