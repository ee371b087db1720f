#!/bin/sh
# Guest RAM on huge pages (vnet-guest --hugepages): two guests on huge
# pages ping each other through their vdevs, info says where the RAM is,
# and a guest that asks for more huge pages than are free is refused
# with the counts.  Needs root (it reserves pages for its run and gives
# them back); skips with a message otherwise.
set -u
. "$(dirname "$0")/lib.sh"
it_setup
NR=/proc/sys/vm/nr_hugepages
MAC_A=52:54:00:00:0e:0a
MAC_B=52:54:00:00:0e:0b
RESERVE=64	# 2 MiB pages: two guests of 64 MiB

if [ "$(id -u)" != 0 ] || [ ! -w "$NR" ]; then
	skip "huge page guests: needs root to reserve huge pages ($NR)"
	exit 0
fi
orig=$(cat "$NR")
give_back() { echo "$orig" >"$NR"; }
trap 'give_back; it_cleanup' EXIT
free_pages() { sed -n 's/^HugePages_Free: *//p' /proc/meminfo; }
# Pages in use or promised (a shared mapping reserves them; they leave
# Free only when touched).
taken() { awk '/^HugePages_Free:/ { f = $2 } /^HugePages_Rsvd:/ { r = $2 } END { print r - f }' /proc/meminfo; }

echo $((orig + RESERVE)) >"$NR"
if [ "$(cat "$NR")" -lt $((orig + RESERVE)) ]; then
	skip "huge page guests: the kernel could not reserve $RESERVE huge pages (memory fragmented)"
	exit 0
fi
free0=$(free_pages)
taken0=$(taken)

start_host hv1 a mac $MAC_A peer "$(node hv2 b)"
start_host hv2 b mac $MAC_B peer "$(node hv1 a)"
wait_log host_hv1 "link up" 5 || notok "no link"
it_bg pong "$GUEST" --socket "$(sock hv2 b)" --hugepages --ram 64M pong --count 500 --timeout 20
sleep 0.5
used=$(( $(taken) - taken0 ))
"$GUEST" --socket "$(sock hv1 a)" --hugepages --ram 64M ping --count 500 --timeout 20 $MAC_B >"$RUN/ping" 2>&1
prc=$?
wait "$PID_pong"
if [ $prc -eq 0 ] && [ "$used" -ge 32 ]; then
	ok "two guests on huge pages: 500 pings, none lost (the waiting guest held $used huge pages)"
else
	notok "huge page ping: exit $prc, pages held $used: $(tail -3 "$RUN/ping") $(tail -3 "$RUN/pong.log")"
fi
"$GUEST" --socket "$(sock hv1 a)" --hugepages --ram 64M info --json >"$RUN/info" 2>&1
check "info says the RAM is on huge pages" grep -q '"ram_pages": *"huge"' "$RUN/info"
check "the pages are given back when the guests end" [ "$(free_pages)" = "$free0" ]

too=$(( (free0 + 1) * 2 ))
"$GUEST" --socket "$(sock hv1 a)" --hugepages --ram ${too}M info >"$RUN/too" 2>&1
rc=$?
if [ $rc -ne 0 ] && grep -q "needed, $free0 free" "$RUN/too"; then
	ok "more huge pages than are free: refused with the counts ($(grep -o 'guest RAM on huge pages:.*' "$RUN/too" | head -n 1))"
else
	notok "too many huge pages: exit $rc: $(cat "$RUN/too")"
fi
"$GUEST" --socket "$(sock hv1 a)" --hugepages --ram 3M info >"$RUN/odd" 2>&1
rc=$?
if [ $rc -ne 0 ] && grep -q "not a whole number of" "$RUN/odd"; then
	ok "a RAM size that is not whole huge pages is refused"
else
	notok "odd size: exit $rc: $(cat "$RUN/odd")"
fi
it_stop_pid "$PID_host_hv1"
it_stop_pid "$PID_host_hv2"
give_back
check "the reserved huge pages are given back ($orig)" [ "$(cat "$NR")" = "$orig" ]
it_check_clean "after the huge page guests"
exit $IT_FAILED
