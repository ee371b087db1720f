# table.jq - the Markdown table of a `make bench` results file.
def f($x; $d): if $x == null then "-" else ($x * pow(10; $d) | round / pow(10; $d) | tostring) end;
def mpps($x): f(($x // 0) / 1e6; 2);
"### vnet-bench \(.date) on \(.host) (\(.cpus) CPUs, load at start \(.load_average_at_start), \(.seconds_per_measurement) s per measurement)",
"",
"| scenario | frame | mode | Mpps | Gbit/s | notif./frame | wakeups/frame | CPU s bench (+hosts) | lost |",
"|---|---|---|---:|---:|---:|---:|---:|---:|",
(.results[] | select(.anchor != true and (.scenario | startswith("pingpong") | not) and .scenario != "e2e-sender"
                     and .side != "producer")
  | "| \(.scenario) | \(.size)\(if .tso then " TSO" else "" end) | \(.mode) | \(mpps(.pps)) | \(f(.gbps; 2)) | \(f(.notifications_per_frame; 4)) | \(f(.wakeups_per_frame; 4)) | \(f(.cpu_user_s + .cpu_sys_s; 2))\(if .other_cpu_s then " (+" + ([.other_cpu_s[] | f(.; 2)] | join(", ")) + ")" else "" end) | \(.lost) |"),
"",
"| ping-pong end to end | mode | samples | p50 us | p99 us | p99.9 us |",
"|---|---|---:|---:|---:|---:|",
(.results[] | select((.scenario | startswith("pingpong")) or .scenario == "veth-ping")
  | "| \(.scenario) | \(.mode // "kernel") | \(.samples) | \(f(.rtt_p50_us; 1)) | \(f(.rtt_p99_us; 1)) | \(f(.rtt_p999_us; 1)) |"),
"",
"| anchor | frame | ring | Mpps | Gbit/s |",
"|---|---|---|---:|---:|",
(.results[] | select(.anchor == true and .scenario != "veth-ping")
  | "| \(.scenario) (\(.tool)) | \(.size) | \(.ring // "-") | \(mpps(.pps)) | \(f(.gbps; 2)) |"),
"",
"| goal | ours | target | ratio | met |",
"|---|---:|---:|---:|---|",
(.goals[] | "| \(.goal) | \(if .unit == "pps" then mpps(.ours) + " Mpps" else f(.ours; 2) + " " + .unit end) | \(if .unit == "pps" then mpps(.target) + " Mpps" else f(.target; 2) + " " + .unit end) | \(f(.ratio; 3)) | \(if .met == null then "n/a" elif .met then "yes" else "no" end) |"),
"",
"Not run: \(.not_run | join("; "))."
