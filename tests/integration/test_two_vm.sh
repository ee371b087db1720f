#!/bin/sh
# Two VMs' devices linked as peers: info, ping and a content-checked
# stream each way, for both start orders.
set -u
. "$(dirname "$0")/lib.sh"
it_setup
MAC_A=52:54:00:00:01:0a
MAC_B=52:54:00:00:01:0b

start_pair() { # first second
	for vm in "$@"; do
		if [ "$vm" = vm1 ]; then
			start_host vm1 a mac $MAC_A peer "$(node vm2 b)" speed 25000 duplex full
		else
			start_host vm2 b mac $MAC_B peer "$(node vm1 a)"
		fi
	done
	wait_log host_vm1 "link up" 5 && wait_log host_vm2 "link up" 5
}

stop_pair() {
	it_stop_pid "$PID_host_vm1"
	it_stop_pid "$PID_host_vm2"
}

run_ping() { # label count size
	it_bg pong "$GUEST" --socket "$(sock vm2 b)" pong --count "$2" --timeout 20
	sleep 0.3
	"$GUEST" --socket "$(sock vm1 a)" ping --count "$2" --size "$3" --timeout 20 $MAC_B >"$RUN/ping" 2>&1
	rc=$?
	wait "$PID_pong"
	if [ $rc -eq 0 ] && [ "$(field "$RUN/ping" received)" = "$2" ] &&
	   [ "$(field "$RUN/ping" lost)" = 0 ] && [ "$(field "$RUN/ping" corrupted)" = 0 ]; then
		ok "$1: $2 pings of $3 bytes, none lost or corrupted ($(field "$RUN/ping" rtt_us))"
	else
		notok "$1: ping exit $rc: $(cat "$RUN/ping")"
	fi
}

run_stream() { # label from_vm from_name to_vm to_name to_mac count size
	it_bg recv "$GUEST" --socket "$(sock $4 $5)" recv --count "$7" --timeout 10
	sleep 0.3
	"$GUEST" --socket "$(sock $2 $3)" send --count "$7" --size "$8" "$6" >"$RUN/send" 2>&1
	src=$?
	wait "$PID_recv"
	rrc=$?
	got=$(field "$RUN/recv.log" frames)
	if [ $src -eq 0 ] && [ $rrc -eq 0 ] && [ "$got" = "$7" ]; then
		ok "$1: $7 frames of $8 bytes arrived in order with correct content ($(field "$RUN/recv.log" gbit_per_s) Gbit/s)"
	else
		notok "$1: send exit $src, recv exit $rrc: $(cat "$RUN/send" "$RUN/recv.log")"
	fi
}

if start_pair vm1 vm2; then ok "vm1 then vm2: the link comes up"; else notok "vm1 then vm2: no link"; fi

"$GUEST" --socket "$(sock vm1 a)" info --json >"$RUN/info.json" 2>&1
if grep -q '"transport": *"pci-modern"' "$RUN/info.json" && grep -q '"ring": *"packed"' "$RUN/info.json" &&
   grep -q '"link_up": *true' "$RUN/info.json" && grep -qi "\"mac\": *\"$MAC_A\"" "$RUN/info.json" &&
   grep -q '"driver_features": *"0x' "$RUN/info.json" && grep -q '"mtu": *1500' "$RUN/info.json" &&
   grep -q '"queue_size": *[0-9]' "$RUN/info.json"; then
	ok "info --json reports transport, ring, MAC, link, MTU, features"
else
	notok "info --json: $(cat "$RUN/info.json")"
fi
"$GUEST" --socket "$(sock vm2 b)" info >"$RUN/info.txt" 2>&1
check "info names negotiated features" grep -q "VERSION_1" "$RUN/info.txt"
# SPEED_DUPLEX (5.1.4): vm1's vdev was given speed and duplex, vm2's not.
if grep -q '"speed_mbps": *25000' "$RUN/info.json" && grep -q '"duplex": *"full"' "$RUN/info.json" &&
   grep -q "^speed_mbps: unknown" "$RUN/info.txt" && grep -q "^duplex: unknown" "$RUN/info.txt"; then
	ok "info reports the speed and duplex a vdev was given (25000 Mbit/s full), and unknown for one without"
else
	notok "speed/duplex: $(grep -h 'speed\|duplex' "$RUN/info.json" "$RUN/info.txt")"
fi

run_ping "vm1 -> vm2" 1000 128
run_ping "vm1 -> vm2 full-size" 200 1514
run_stream "stream vm1 -> vm2" vm1 a vm2 b $MAC_B 50000 1514
run_stream "stream vm2 -> vm1" vm2 b vm1 a $MAC_A 50000 64

# recv --count N counts loss as a failure (exit 1): seqs 0-4, then 10-14.
it_bg recv "$GUEST" --socket "$(sock vm2 b)" recv --count 10 --timeout 10
sleep 0.3
"$GUEST" --socket "$(sock vm1 a)" send --count 5 $MAC_B >/dev/null 2>&1
"$GUEST" --socket "$(sock vm1 a)" send --count 5 --first-seq 10 $MAC_B >/dev/null 2>&1
wait "$PID_recv"
rrc=$?
if [ $rrc -eq 1 ] && [ "$(field "$RUN/recv.log" frames)" = 10 ] && [ "$(field "$RUN/recv.log" lost)" = 5 ]; then
	ok "recv --count 10 with 5 frames lost in the middle exits 1 (lost 5)"
else
	notok "recv with loss: exit $rrc: $(tr '\n' ' ' <"$RUN/recv.log")"
fi
stop_pair
it_check_clean "after the first pair stopped"

if start_pair vm2 vm1; then ok "vm2 then vm1: the link comes up"; else notok "vm2 then vm1: no link"; fi
run_ping "reverse start order" 300 512
stop_pair
it_check_clean "after the second pair stopped"
exit $IT_FAILED
