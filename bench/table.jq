# table.jq - the Markdown tables of a `make bench` results file: every
# figure as "median (min–max)" over the trials, the limits, the ratios to
# the anchors with their verdicts (summary.jq defines them).
def f($x; $d): if $x == null then "-" else ($x * pow(10; $d) | round / pow(10; $d) | tostring) end;
# median (min–max), scaled down by $k
def sp($s; $k; $d): if $s == null then "-"
  elif $s.min == $s.max then f($s.median / $k; $d)
  else "\(f($s.median / $k; $d)) (\(f($s.min / $k; $d))–\(f($s.max / $k; $d)))" end;
def med($s; $d): if $s == null then "-" else f($s.median; $d) end;
def frame: "\(.size)\(if .tso then " TSO" else "" end)\(if .ring == "packed" then " packed" else "" end)\(if .in_order then " in order" else "" end)";
def n($all): if .trials == $all then "\(.trials)" else "\(.trials) of \($all)" end;
def val($x; $unit): if $x == null then "-" elif $unit == "pps" then f($x / 1e6; 2) + " Mpps"
                    else f($x; 2) + " " + $unit end;
.trials as $all
| .limits as $lim
| "### vnet-bench \(.date) on \(.host)",
"",
"\(.cpu_model), \(.cpus) CPUs, kernel \(.kernel); load \(.load.at_start) at the start, \(.load.at_end) at the end; \(.trials) trials of \(.seconds_per_measurement) s per measurement, \(.elapsed_s) s in all; huge pages: \(if .hugepages.used then "\(.hugepages.pages_reserved) of \(.hugepages.page_kb) kB reserved for the run\(if .hugepages.given_back then " and given back" else ", NOT given back" end)" else "no (\(.hugepages.note // "not asked"))" end).",
"",
"Every figure is the median of its trials, the spread (min–max) in brackets.",
"",
"| scenario | frame | mode | Mpps | Gbit/s | notif./frame | wakeups/frame | CPU s bench (+hosts) | lost | trials |",
"|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
(.figures[] | select(.anchor != true and (.scenario | startswith("pingpong") or startswith("limit-") or startswith("insns-") | not)
                     and .scenario != "e2e-sender" and .side != "producer")
  | "| \(.scenario) | \(frame) | \(.mode // "-") | \(sp(.pps; 1e6; 2)) | \(sp(.gbps; 1; 2)) | \(med(.notifications_per_frame; 4)) | \(med(.wakeups_per_frame; 4)) | \(med(.cpu_s; 2))\(if .hosts_cpu_s then " (+" + ([.hosts_cpu_s[] | f(.; 2)] | join(", ")) + ")" else "" end) | \(.lost // "-") | \(n($all)) |"),
"",
"| multiqueue end to end (vnet-guest, vdevs `queues 2 threads 2 cpus 0,1`) | pairs in use | Mpps | frames per receive queue, each trial |",
"|---|---:|---:|---|",
(.figures[] | select(.scenario | startswith("e2e-mq"))
  | "| \(.scenario) | \(.runs[0].pairs) | \(sp(.pps; 1e6; 3)) | \([.runs[] | .rx_frames_per_queue | map(tostring) | join(" / ")] | join("; ")) |"),
"",
"| ping-pong end to end | mode | p50 us | p99 us | p99.9 us | p50 / limit | trials |",
"|---|---|---:|---:|---:|---:|---:|",
(.figures[] | select((.scenario | startswith("pingpong")) and .side == "ping" or .scenario == "veth-ping")
  | . as $p
  | ([$lim.round_trip_us.median // empty] | first) as $l
  | "| \(.scenario) | \(.mode // "kernel") | \(sp(.rtt_p50_us; 1; 1)) | \(sp(.rtt_p99_us; 1; 1)) | \(sp(.rtt_p999_us; 1; 1)) | \(if $l and .anchor != true then f($p.rtt_p50_us.median / $l; 2) + " x" else "-" end) | \(n($all)) |"),
"",
"| instructions per 64 B frame (callgrind) | device's share | whole process | frames per call | trials |",
"|---|---:|---:|---:|---:|",
(.figures[] | select(.scenario | test("^(dpdk-)?insns-"))
  | "| \(if .anchor then "DPDK vhost library (rte_vhost_\(if (.scenario | endswith("tx")) then "dequeue" else "enqueue" end)_burst)" else "vnet-host" end), guest \(.scenario | sub(".*-"; "") | ascii_upcase) | \(sp(.insns_per_frame; 1; 0)) | \(if .anchor then sp(.process_insns_per_frame; 1; 0) else sp(.insns_per_frame; 1; 0) end) | \(if .anchor then sp(.frames_per_call; 1; 1) else "-" end) | \(n($all)) |"),
"",
"| limit (vnet-bench limits) | p50 us | p99 us | min us |",
"|---|---:|---:|---:|",
"| eventfd wake-up, same core | \(sp($lim.eventfd_wakeup_same_core.p50_us; 1; 2)) | \(sp($lim.eventfd_wakeup_same_core.p99_us; 1; 2)) | \(med($lim.eventfd_wakeup_same_core.min_us; 2)) |",
"| eventfd wake-up, across cores | \(sp($lim.eventfd_wakeup_cross_core.p50_us; 1; 2)) | \(sp($lim.eventfd_wakeup_cross_core.p99_us; 1; 2)) | \(med($lim.eventfd_wakeup_cross_core.min_us; 2)) |",
"| cache-line transfer, across cores | \(sp($lim.cacheline_transfer_cross_core.p50_us; 1; 3)) | \(sp($lim.cacheline_transfer_cross_core.p99_us; 1; 3)) | \(med($lim.cacheline_transfer_cross_core.min_us; 3)) |",
"| round trip end to end: \($lim.wakeups_per_round_trip) wake-ups (the cheaper kind) | \(sp($lim.round_trip_us; 1; 1)) | | |",
"| the same, all on one core / all across cores | \(med($lim.round_trip_same_core_us; 1)) / \(med($lim.round_trip_cross_core_us; 1)) | | |",
"",
"| anchor | frame | Mpps | Gbit/s | virtio-user's own Mpps | huge pages | trials |",
"|---|---|---:|---:|---:|---|---:|",
(.figures[] | select(.anchor == true and .scenario != "veth-ping" and (.scenario | startswith("dpdk-insns-") | not))
  | "| \(.scenario) (\(.tool)) | \(frame) | \(sp(.pps; 1e6; 2)) | \(sp(.gbps; 1; 2)) | \(sp(.frontend_pps; 1e6; 2)) | \(if .hugepages == null then "-" elif .hugepages then "yes" else "no" end) | \(n($all)) |"),
"",
"A ratio is ours / the anchor's, medians; in brackets min(ours) / max(anchor) – max(ours) / min(anchor). Unsettled: that range holds the target, so these trials cannot tell which side of the goal we are on.",
"",
"| goal | ours | anchor | ratio | target | verdict |",
"|---|---:|---:|---:|---:|---|",
(.goals[] | select(.ours.median != null) | "| \(.goal) | \(val(.ours.median; .unit)) | \(val(.anchor.median; .unit)) | \(if .ratio == null then "-" else "\(f(.ratio; 3)) (\(f(.ratio_min; 3))–\(f(.ratio_max; 3)))" end) | \(if .better == "higher" then ">= " else "<= " end)\(.target) | \(if .verdict == "unsettled" then "**unsettled**" else .verdict end) |"),
"",
([.goals[] | select(.ours.median == null)] | length) as $nm
| (if $nm > 0 then "\($nm) goals not measured in this run (their scenario is not in it): see the JSON.\n" else empty end),
(if (.not_run | length) > 0 then "Not run: \(.not_run | join("; "))." else empty end)
