# summary.jq - the results file of `make bench` from vnet-bench's JSON
# lines and the anchors' (jq -s): run metadata, every result, and the
# issue's goals as same-run ratios.
def ours($s; $side; $mode; $size):
  map(select(.scenario == $s and .side == $side and .mode == $mode and .size == $size)) | first;
def anchor($s; $size):
  map(select(.anchor == true and .scenario == $s and .size == $size and ((.ring // "split") == "split"))) | first;
def ratio($a; $b): if ($a // null) == null or ($b // null) == null or $b == 0 then null
                   else (($a / $b) * 1000 | round / 1000) end;
def goal($name; $ours; $unit; $target; $what):
  { goal: $name, ours: $ours, target: $target, unit: $unit, compared_with: $what,
    ratio: ratio($ours; $target), met: (if $ours == null or $target == null then null
                                        elif $unit == "us" then $ours < $target
                                        else $ours >= $target end) };
. as $r
| ($r | anchor("dpdk-virtio-to-vhost"; 64).pps) as $d_v2h
| ($r | anchor("dpdk-vhost-to-virtio"; 64).pps) as $d_h2v
| ($r | anchor("veth-udp"; 64).pps) as $veth_udp
| ($r | anchor("veth-tcp"; 65535).gbps) as $veth_tcp
| {
    date: $date, host: $host, kernel: $kernel, cpu_model: $cpu, cpus: $cpus,
    load_average_at_start: $load, seconds_per_measurement: $secs,
    elapsed_s: $elapsed,
    not_run: ["DPDK virtio-user driving our vdev: the vhost-user face is not on this branch"],
    results: $r,
    goals: ([
      ("poll", "event") as $m |
      goal("one hop guest TX 64 B \($m) >= DPDK virtio-user->vhost 64 B";
           ($r | ours("onehop-tx"; "tx"; $m; 64).pps); "pps"; $d_v2h; "dpdk-virtio-to-vhost"),
      goal("one hop guest RX 64 B \($m) >= DPDK vhost->virtio-user 64 B";
           ($r | ours("onehop-rx"; "rx"; $m; 64).pps); "pps"; $d_h2v; "dpdk-vhost-to-virtio"),
      goal("one hop guest TX 1514 B \($m) vs DPDK virtio-user->vhost 1514 B";
           ($r | ours("onehop-tx"; "tx"; $m; 1514).pps); "pps";
           ($r | anchor("dpdk-virtio-to-vhost"; 1514).pps); "dpdk-virtio-to-vhost"),
      goal("one hop guest RX 1514 B \($m) vs DPDK vhost->virtio-user 1514 B";
           ($r | ours("onehop-rx"; "rx"; $m; 1514).pps); "pps";
           ($r | anchor("dpdk-vhost-to-virtio"; 1514).pps); "dpdk-vhost-to-virtio"),
      goal("end to end 64 B \($m) >= half of DPDK one hop 64 B";
           ($r | ours("e2e"; "recv"; $m; 64).pps); "pps";
           (if $d_v2h then $d_v2h / 2 else null end); "dpdk-virtio-to-vhost / 2"),
      goal("end to end 64 B \($m) >= 10 x veth UDP 64 B";
           ($r | ours("e2e"; "recv"; $m; 64).pps); "pps";
           (if $veth_udp then $veth_udp * 10 else null end); "veth-udp x 10"),
      goal("end to end 1518 B (1514 + FCS) \($m) >= 50 Gbit/s";
           ($r | ours("e2e"; "recv"; $m; 1514).gbps); "Gbit/s"; 50; "fixed"),
      goal("end to end 64 KiB TSO \($m) >= veth TCP";
           ($r | ours("e2e"; "recv"; $m; 65535).gbps); "Gbit/s"; $veth_tcp; "veth-tcp")
    ] + [
      goal("ping-pong end to end poll: p50 round trip < 5 us";
           ($r | ours("pingpong"; "ping"; "poll"; 64).rtt_p50_us); "us"; 5; "fixed"),
      goal("ping-pong end to end event: p50 round trip vs veth ping p50";
           ($r | ours("pingpong"; "ping"; "event"; 64).rtt_p50_us); "us";
           ($r | anchor("veth-ping"; 64).rtt_p50_us); "veth-ping")
    ])
  }
