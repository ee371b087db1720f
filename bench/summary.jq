# summary.jq - the results file of `make bench`, from the JSON lines of
# every trial (jq -s): vnet-bench's, the anchors', the limits'.  It holds
# the run's metadata, every figure as the median of its trials with the
# spread, the machine's limits, and the goals as same-run ratios.
#
# A figure is every line of one scenario, side, mode, size, TSO, ring,
# wait and tool: the trials of one measurement.  Each metric of a figure
# is {median, min, max, trials: [a value per trial, in trial order]}; the
# median of an even count is the mean of the middle two.
#
# A goal compares a figure of ours with an anchor's (or a fixed value):
#   ratio     = median(ours) / median(anchor)
#   ratio_min = min(ours) / max(anchor)      the spreads' extremes
#   ratio_max = max(ours) / min(anchor)
# and its verdict is "unsettled" when ratio_min <= target <= ratio_max:
# the spreads reach across the goal, so the trials cannot tell which side
# of it we are on.  Otherwise every pairing of trials agrees: "met" or
# "missed".
#
# Inputs (--arg / --argjson): date host load0 load1 kernel cpu cpus secs
# trials elapsed only huge (the huge page report), notes (--rawfile: what
# did not run, a line each), tinfo (--slurpfile: per trial load and time).

def r($d): if . == null then null else (. * pow(10; $d) | round / pow(10; $d)) end;
def median: sort | if length == 0 then null
                   elif length % 2 == 1 then .[(length - 1) / 2]
                   else (.[length / 2 - 1] + .[length / 2]) / 2 end;
# (rounded to 4 decimals: the inputs have 3 at most, and a product or a
# mean must not print as 34.266000000000005)
def spread: map(select(. != null) | r(4)) | if length == 0 then null
            else {median: (median | r(4)), min: min, max: max, trials: .} end;
def metrics: ["pps", "gbps", "frontend_pps", "sent_pps", "rtt_p50_us", "rtt_p99_us",
              "rtt_p999_us", "min_us", "p50_us", "p99_us", "notifications_per_frame",
              "wakeups_per_frame", "cpu_s", "insns_per_frame", "process_insns_per_frame",
              "frames_per_call"];
def figkey: [.scenario, .side // "", .mode // "", .size // 0, .tso // false, .ring // "",
             .wait // "", .tool // ""];
def name: [.scenario, .side, .mode, (if .size == null then null else .size | tostring end),
           (if .tso then "TSO" else null end),
           (if .ring == "packed" then "packed" else null end)]
          | map(select(. != null and . != "")) | join(" ");

# Wake-ups in one round trip end to end: guest A kicks host A (1), host A
# rings host B's doorbell (2), host B interrupts guest B (3), and the way
# back is the same three (guest B -> host B -> host A -> guest A).
def WAKEUPS: 6;

# Figures in the order of the tables: ours from the ring outwards, then
# the limits and the anchors; event before poll, small frames first.
def order: .scenario as $s
  | [(["ring", "ring-epoll", "onehop-tx", "onehop-rx", "vhost-face-tx", "vhost-face-rx",
       "e2e", "e2e-guestpoll", "e2e-sender", "e2e-mq1", "e2e-mq2", "pingpong", "pingpong-guestpoll",
       "insns-tx", "insns-rx", "dpdk-insns-tx", "dpdk-insns-rx",
       "limit-eventfd", "limit-cacheline", "dpdk-virtio-to-vhost", "dpdk-vhost-to-virtio",
       "veth-tcp", "veth-udp", "veth-ping"] | index($s)) // 99,
     .side // "", .mode // "", .ring == "packed", .size // 0, .tso // false];
def figures:
  map(if .cpu_user_s != null then . + {cpu_s: (.cpu_user_s + .cpu_sys_s)} else . end)
  | group_by(figkey)
  | map(sort_by(.trial) as $runs | $runs[0] as $f
        | ({scenario: $f.scenario, side: $f.side, mode: $f.mode, size: $f.size, tso: $f.tso,
            ring: $f.ring, wait: $f.wait, tool: $f.tool, anchor: ($f.anchor // false),
            in_order: $f.in_order, hugepages: $f.hugepages} | with_entries(select(.value != null)))
        + {trials: ($runs | length)}
        + (reduce metrics[] as $m ({}; ($runs | map(.[$m]) | spread) as $s
                                      | if $s == null then . else .[$m] = $s end))
        + (if $f.other_cpu_s != null
           then {hosts_cpu_s: [range($f.other_cpu_s | length) as $i
                                | $runs | map(.other_cpu_s[$i]) | median]}
           else {} end)
        + (if any($runs[]; .lost != null) then {lost: ($runs | map(.lost // 0) | add)} else {} end)
        + {runs: $runs})
  | sort_by(order);

def fig($figs; $s; $side; $mode; $size):
  $figs | map(select(.scenario == $s and .side == $side and .mode == $mode and .size == $size))
  | first;
def anc($figs; $s; $size):
  $figs | map(select(.anchor and .scenario == $s and .size == $size and (.ring // "split") == "split"))
  | first;
def fixed($v): {median: $v, min: $v, max: $v};

# goal(name; ours; anchor; target; better; unit): ours and anchor are
# {figure: text, s: a metric's spread or null}.
def goal($name; $o; $a; $target; $better; $unit):
  {goal: $name, unit: $unit, target: $target, better: $better,
   ours: ({figure: $o.figure} + ($o.s // {} | {median, min, max})),
   anchor: ({figure: $a.figure} + ($a.s // {} | {median, min, max}))}
  + (if $o.s == null or $a.s == null or $a.s.min <= 0 or $a.s.median <= 0
     then {ratio: null, ratio_min: null, ratio_max: null, verdict: "not measured"}
     else ($o.s.median / $a.s.median) as $q | ($o.s.min / $a.s.max) as $lo
          | ($o.s.max / $a.s.min) as $hi
          | {ratio: ($q | r(3)), ratio_min: ($lo | r(3)), ratio_max: ($hi | r(3)),
             verdict: (if $lo <= $target and $target <= $hi then "unsettled"
                       elif ($better == "higher") == ($lo > $target) then "met"
                       else "missed" end)}
     end);
def of($f; $m): {figure: ($f | if . == null then null else name end), s: ($f[$m]? // null)};

. as $lines
| figures as $figs
# The limits, per trial: a round trip needs WAKEUPS wake-ups, each at
# least the cheaper of a same-core and a cross-core one (the scheduler
# picks where each woken process runs).
| ($lines | map(select(.scenario == "limit-eventfd")) | group_by(.trial)
   | map({same: (map(select(.side == "same-core")) | first | .p50_us),
          cross: (map(select(.side == "cross-core")) | first | .p50_us)})) as $lt
| {wakeups_per_round_trip: WAKEUPS,
   basis: "p50 eventfd wake-up, the cheaper of same-core and cross-core, per trial",
   eventfd_wakeup_same_core: (fig($figs; "limit-eventfd"; "same-core"; null; null)
                              | {p50_us, p99_us, min_us}),
   eventfd_wakeup_cross_core: (fig($figs; "limit-eventfd"; "cross-core"; null; null)
                               | {p50_us, p99_us, min_us}),
   cacheline_transfer_cross_core: (fig($figs; "limit-cacheline"; "cross-core"; null; null)
                                   | {p50_us, p99_us, min_us}),
   round_trip_us: ($lt | map([.same, .cross] | map(select(. != null)) | min
                             | if . == null then null else . * WAKEUPS end) | spread),
   round_trip_same_core_us: ($lt | map(.same | if . == null then null else . * WAKEUPS end) | spread),
   round_trip_cross_core_us: ($lt | map(.cross | if . == null then null else . * WAKEUPS end) | spread)
  } as $lim
| ($figs | map(select((.scenario | startswith("pingpong")) and .side == "ping" and .rtt_p50_us != null)
               | . as $p
               | {figure: name, rtt_p50_us: ($p.rtt_p50_us | {median, min, max})}
                 + (if $lim.round_trip_us == null then {}
                    else {limit_us: ($lim.round_trip_us.median | r(2)),
                          multiple: ($p.rtt_p50_us.median / $lim.round_trip_us.median | r(2)),
                          multiple_min: ($p.rtt_p50_us.min / $lim.round_trip_us.max | r(2)),
                          multiple_max: ($p.rtt_p50_us.max / $lim.round_trip_us.min | r(2))} end)
                 + (if $lim.round_trip_same_core_us == null then {}
                    else {multiple_same_core: ($p.rtt_p50_us.median / $lim.round_trip_same_core_us.median | r(2))} end)
                 + (if $lim.round_trip_cross_core_us == null then {}
                    else {multiple_cross_core: ($p.rtt_p50_us.median / $lim.round_trip_cross_core_us.median | r(2))} end)
              )) as $pp
| anc($figs; "dpdk-virtio-to-vhost"; 64) as $d_v2h
| anc($figs; "dpdk-vhost-to-virtio"; 64) as $d_h2v
| {
    date: $date, host: $host, kernel: $kernel, cpu_model: $cpu, cpus: $cpus,
    load: {at_start: $load0, at_end: $load1},
    trials: $trials, seconds_per_measurement: $secs, elapsed_s: $elapsed,
    per_trial: $tinfo,
    only: ($only | split(" ") | map(select(. != ""))),
    hugepages: $huge,
    not_run: ($notes | split("\n") | map(select(. != ""))),
    limits: $lim,
    pingpong_vs_limit: $pp,
    figures: $figs,
    goals: ([
      ("poll", "event") as $m |
      goal("one hop guest TX 64 B \($m) >= 1.0 x DPDK virtio-user -> vhost 64 B";
           of(fig($figs; "onehop-tx"; "tx"; $m; 64); "pps"); of($d_v2h; "pps"); 1; "higher"; "pps"),
      goal("one hop guest RX 64 B \($m) >= 1.0 x DPDK vhost -> virtio-user 64 B";
           of(fig($figs; "onehop-rx"; "rx"; $m; 64); "pps"); of($d_h2v; "pps"); 1; "higher"; "pps"),
      goal("our vhost-user face, host \($m): virtio-user TX 64 B >= 1.0 x into DPDK's vhost";
           of(fig($figs; "vhost-face-tx"; "frontend"; $m; 64); "pps"); of($d_v2h; "frontend_pps");
           1; "higher"; "pps"),
      goal("our vhost-user face, host \($m): virtio-user RX 64 B >= 1.0 x from DPDK's vhost";
           of(fig($figs; "vhost-face-rx"; "frontend"; $m; 64); "pps"); of($d_h2v; "frontend_pps");
           1; "higher"; "pps"),
      goal("one hop guest TX 1514 B \($m) >= 1.0 x DPDK virtio-user -> vhost 1514 B";
           of(fig($figs; "onehop-tx"; "tx"; $m; 1514); "pps");
           of(anc($figs; "dpdk-virtio-to-vhost"; 1514); "pps"); 1; "higher"; "pps"),
      goal("one hop guest RX 1514 B \($m) >= 1.0 x DPDK vhost -> virtio-user 1514 B";
           of(fig($figs; "onehop-rx"; "rx"; $m; 1514); "pps");
           of(anc($figs; "dpdk-vhost-to-virtio"; 1514); "pps"); 1; "higher"; "pps"),
      goal("end to end 64 B \($m) >= 0.5 x DPDK one hop 64 B (virtio-user -> vhost)";
           of(fig($figs; "e2e"; "recv"; $m; 64); "pps"); of($d_v2h; "pps"); 0.5; "higher"; "pps"),
      goal("end to end 1514 B \($m) >= 0.5 x DPDK one hop 1514 B in Gbit/s";
           of(fig($figs; "e2e"; "recv"; $m; 1514); "gbps");
           of(anc($figs; "dpdk-virtio-to-vhost"; 1514); "gbps"); 0.5; "higher"; "Gbit/s"),
      goal("end to end 64 B \($m) >= 10 x veth UDP 64 B";
           of(fig($figs; "e2e"; "recv"; $m; 64); "pps"); of(anc($figs; "veth-udp"; 64); "pps");
           10; "higher"; "pps"),
      goal("end to end 1518 B (1514 + FCS) \($m) >= 50 Gbit/s";
           of(fig($figs; "e2e"; "recv"; $m; 1514); "gbps"); {figure: "fixed", s: fixed(50)};
           1; "higher"; "Gbit/s"),
      goal("end to end 64 KiB TSO \($m) >= veth TCP";
           of(fig($figs; "e2e"; "recv"; $m; 65535); "gbps"); of(anc($figs; "veth-tcp"; 65535); "gbps");
           1; "higher"; "Gbit/s")
    ] + [
      ("pingpong", "pingpong-guestpoll") as $s | ("event", "poll") as $m
      | fig($figs; $s; "ping"; $m; 64) | select(. != null) as $p
      | goal("ping-pong end to end p50, \($s) \($m) <= 1.2 x the wake-up limit (\(WAKEUPS) x eventfd wake-up)";
             of($p; "rtt_p50_us"); {figure: "limits", s: $lim.round_trip_us}; 1.2; "lower"; "us")
    ] + [
      (["tx", 200], ["rx", 250]) | . as [$d, $t] |
      goal("device instructions per 64 B frame, \($d | ascii_upcase) <= \($t)";
           of(fig($figs; "insns-\($d)"; "device"; null; 64); "insns_per_frame");
           {figure: "fixed", s: fixed($t)}; 1; "lower"; "instructions"),
      goal("device instructions per 64 B frame, \($d | ascii_upcase), vs DPDK's vhost library";
           of(fig($figs; "insns-\($d)"; "device"; null; 64); "insns_per_frame");
           of(anc($figs; "dpdk-insns-\($d)"; 64); "insns_per_frame"); 1; "lower"; "instructions")
    ] + [
      goal("ping-pong end to end poll: p50 round trip < 5 us";
           of(fig($figs; "pingpong"; "ping"; "poll"; 64); "rtt_p50_us"); {figure: "fixed", s: fixed(5)};
           1; "lower"; "us"),
      goal("ping-pong end to end event: p50 round trip vs veth ping p50";
           of(fig($figs; "pingpong"; "ping"; "event"; 64); "rtt_p50_us");
           of(anc($figs; "veth-ping"; 64); "rtt_p50_us"); 1; "lower"; "us")
    ])
  }
