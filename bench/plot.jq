# plot.jq - gnuplot data from a results file: panel, label, median, min,
# max, kind (vnet or anchor), tab-separated.  Panel 1: Mpps with 64-byte
# frames; panel 2: Gbit/s with large frames.  Medians of the trials, the
# spread as error bars.
def row($p; $name; $s; $k; $kind): "\($p)\t\($name)\t\($s.median / $k)\t\($s.min / $k)\t\($s.max / $k)\t\($kind)";
def short: sub("dpdk-"; "dpdk ") | sub("-to-"; "->");
.figures as $f
| ( [ ["ring", "consumer"], ["onehop-tx", "tx"], ["onehop-rx", "rx"], ["vhost-face-tx", "frontend"],
      ["vhost-face-rx", "frontend"], ["e2e", "recv"] ][] as [$s, $side]
    | ("event", "poll") as $m
    | $f[] | select(.scenario == $s and .side == $side and .mode == $m and .size == 64 and .pps != null)
    | row(1; "\($s) \($m)"; .pps; 1e6; "vnet") ),
  ( $f[] | select(.anchor == true and .size == 64 and .pps != null and .pps.median > 0)
    | row(1; "\(.scenario | short)\(if .ring == "packed" then " pk" else "" end)"; .pps; 1e6; "anchor") ),
  ( [ ["ring", "consumer"], ["onehop-tx", "tx"], ["onehop-rx", "rx"], ["e2e", "recv"] ][] as [$s, $side]
    | (1514, 65535) as $z | ("event", "poll") as $m
    | $f[] | select(.scenario == $s and .side == $side and .mode == $m and .size == $z and .gbps != null)
    | row(2; "\($s) \($z) \($m)"; .gbps; 1; "vnet") ),
  ( $f[] | select(.anchor == true and (.size == 1514 or .scenario == "veth-tcp") and .gbps != null
                  and .gbps.median > 0)
    | row(2; "\(.scenario | short) \(.size)"; .gbps; 1; "anchor") )
