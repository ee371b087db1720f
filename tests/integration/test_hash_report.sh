#!/bin/sh
# VIRTIO_NET_F_HASH_REPORT (virtio 5.1.6.4.4): the receiving guest asks
# for it (vnet-guest --hash-report), its device fills the 20-byte header's
# hash_value and hash_report for every frame, and recv checks each
# reported hash against the library's own (vnet_rss_hash) and counts the
# report types.  Two vnet-hosts and two vnet-guests: without RSS (one
# pair, VIRTIO_NET_CTRL_MQ_HASH_CONFIG sets the types), with RSS (4 pairs,
# the RSS configuration's types and key; the sender's device steers), a
# type that does not apply (NONE), frames without a flow (NONE), and a
# sender with the 20-byte header whose frames arrive intact.
set -u
. "$(dirname "$0")/lib.sh"
it_setup
MAC_A=52:54:00:00:0b:0a
MAC_B=52:54:00:00:0b:0b
FRAMES=${HASH_FRAMES:-5000}


# hashed label "guest opts a" "send opts" "guest opts b" TYPE [ready]:
# FRAMES frames a -> b, all delivered intact, every one reported as
# hash type TYPE with the hash the library computes.  ready: a line of
# vdev b's or a's log to wait for (after the receiver's driver) before
# sending: its configuration reached the device (or the peer's).
hashed() {
	label=$1; ga=$2; so=$3; gb=$4; type=$5; ready_log=${6:-host_vm2}; ready_pat=${7:-driver ready}
	before=$(grep -c -- "$ready_pat" "$RUN/$ready_log.log")
	# shellcheck disable=SC2086
	it_bg recv "$GUEST" --socket "$(sock vm2 b)" $gb recv --count "$FRAMES" --timeout 10
	wait_more "$ready_log" "$ready_pat" "$before"
	sleep 0.1
	# shellcheck disable=SC2086
	"$GUEST" --socket "$(sock vm1 a)" $ga send $so --count "$FRAMES" --size 512 $MAC_B \
		>"$RUN/send" 2>&1
	src=$?
	wait "$PID_recv"
	rrc=$?
	if [ $src -eq 0 ] && [ $rrc -eq 0 ] && [ "$(field "$RUN/recv.log" frames)" = "$FRAMES" ] &&
	   [ "$(field "$RUN/recv.log" lost)" = 0 ] &&
	   [ "$(field "$RUN/recv.log" content_errors)" = 0 ] &&
	   [ "$(field "$RUN/recv.log" hash_mismatches)" = 0 ] &&
	   [ "$(field "$RUN/recv.log" "hash_$type")" = "$FRAMES" ]; then
		ok "$label: $FRAMES frames intact, each reported $type with the hash the library computes"
	else
		notok "$label: send exit $src, recv exit $rrc: $(cat "$RUN/send" "$RUN/recv.log" | tr '\n' ' ')"
	fi
}

# Bad words: refused before connecting, naming the option.
"$GUEST" --socket "$RUN/none.vfio" --hash-types udp4 info >"$RUN/bad" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q -- "--hash-types udp4: expected ipv4, tcpv4" "$RUN/bad"; then
	ok "vnet-guest --hash-types udp4 is refused: $(head -n 1 "$RUN/bad")"
else
	notok "--hash-types udp4: exit $rc: $(cat "$RUN/bad")"
fi

# ---- one pair: HASH_CONFIG ---------------------------------------------------
start_pair "" "" || { notok "the pair did not come up: $(cat "$RUN"/host_*.log)"; exit 1; }
"$GUEST" --socket "$(sock vm2 b)" --hash-report info >"$RUN/info" 2>&1
if [ "$(field "$RUN/info" hash_report)" = on ] && [ "$(field "$RUN/info" net_header_bytes)" = 20 ] &&
   grep -q "^driver_feature_names: .* HASH_REPORT" "$RUN/info"; then
	ok "--hash-report: HASH_REPORT negotiated on a one-pair device, 20-byte header (5.1.6)"
else
	notok "info with --hash-report: $(cat "$RUN/info")"
fi
"$GUEST" --socket "$(sock vm2 b)" info >"$RUN/info" 2>&1
if [ "$(field "$RUN/info" hash_report)" = off ] && [ "$(field "$RUN/info" net_header_bytes)" = 12 ]; then
	ok "without --hash-report the guest declines it and keeps the 12-byte header"
else
	notok "info without --hash-report: $(cat "$RUN/info")"
fi
hashed "one pair, every type (HASH_CONFIG)" "" "--flows 16" "--hash-report" udpv4 \
	host_vm2 "hash report: types 0x3f,"
hashed "one pair, --hash-types ipv4" "" "--flows 16" "--hash-types ipv4" ipv4 \
	host_vm2 "hash report: types 0x1,"
hashed "one pair, --hash-types tcpv4,ipv6: no type applies to IPv4/UDP" "" "--flows 16" \
	"--hash-types tcpv4,ipv6" none host_vm2 "hash report: types 0xa,"
hashed "frames without a flow (not IP)" "" "" "--hash-report" none \
	host_vm2 "hash report: types 0x3f,"
hashed "split ring, no MRG_RXBUF, a sender with the 20-byte header too" \
	"--hash-report --no-packed --no-mrg-rxbuf" "--flows 16" \
	"--hash-report --no-packed --no-mrg-rxbuf" udpv4 host_vm2 "hash report: types 0x3f,"
stop_pair

# ---- 4 pairs with RSS: the RSS configuration's types and key ---------------
start_pair "queues 4" "queues 4" || notok "the 4-pair pair did not come up"
hashed "4 pairs, RSS steered by the sender, hash reported by the receiver" "" "--flows 16" \
	"--queues 4 --rss --hash-report" udpv4 host_vm1 "steers by RSS"
"$HOST" stats --system vm2 --json >"$RUN/stats_vm2.json" 2>&1
rx=$(grep -o '"rx_frames": [0-9]*' "$RUN/stats_vm2.json" | head -n 4 | sed 's/.*: //' | tr '\n' ' ')
case " $rx" in
*" 0 "*) notok "RSS with hash report: a receive queue got nothing: $rx" ;;
*) ok "RSS with hash report: all 4 receive queues carried frames ($rx)" ;;
esac
hashed "4 pairs, RSS with --hash-types ipv4" "" "--flows 16" \
	"--queues 4 --rss --hash-types ipv4" ipv4 host_vm1 "steers by RSS"
stop_pair

it_check_clean "after the hash report tests"
exit $IT_FAILED
