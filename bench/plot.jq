# plot.jq - gnuplot data from a results file: panel, label, value.
# Panel 1: Mpps with 64-byte frames; panel 2: Gbit/s with large frames.
def best($xs): ($xs | map(.pps // 0) | max // 0);
.results as $r
| ( [ ["ring", "consumer"], ["onehop-tx", "tx"], ["onehop-rx", "rx"], ["e2e", "recv"] ][] as [$s, $side]
    | ("event", "poll") as $m
    | $r[] | select(.scenario == $s and .side == $side and .mode == $m and .size == 64)
    | "1\t\($s) \($m)\t\(.pps / 1e6)\tvnet" ),
  ( $r[] | select(.anchor == true and .size == 64 and .pps > 0)
    | "1\t\(.scenario | sub("dpdk-"; "dpdk ") | sub("-to-"; "->"))\(if .ring == "packed" then " pk" else "" end)\t\(.pps / 1e6)\tanchor" ),
  ( [ ["ring", "consumer"], ["onehop-tx", "tx"], ["onehop-rx", "rx"], ["e2e", "recv"] ][] as [$s, $side]
    | (1514, 65535) as $z | ("event", "poll") as $m
    | $r[] | select(.scenario == $s and .side == $side and .mode == $m and .size == $z)
    | "2\t\($s) \($z) \($m)\t\(.gbps)\tvnet" ),
  ( $r[] | select(.anchor == true and (.size == 1514 or .scenario == "veth-tcp") and .gbps > 0)
    | "2\t\(.scenario | sub("dpdk-"; "dpdk ") | sub("-to-"; "->")) \(.size)\t\(.gbps)\tanchor" )
