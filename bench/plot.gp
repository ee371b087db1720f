# plot.gp - ours beside the anchors, from the same run: medians of the
# trials, the spread (min-max) as error bars.
#   gnuplot -e "data1='...'; data2='...'; outfile='...'; subtitle='...'" plot.gp
# data1: Mpps with 64-byte frames, data2: Gbit/s with large frames; rows
# "label median min max kind" (kind vnet or anchor), written by run.sh
# (plot.jq).
set terminal pngcairo size 1600,900 font "sans,10"
set output outfile
set multiplot layout 2,1 title "vnet-bench: ours (blue) beside the anchors (orange), same run\n".subtitle
set style fill solid 0.8 border -1
set boxwidth 0.7
set grid ytics
set xtics font "sans,8" rotate by -30
set yrange [0:*]
set datafile separator "\t"
color(k) = (k eq "vnet" ? 0x3070c0 : 0xe08030)
set ylabel "Mpps, 64-byte frames"
plot data1 using 0:2:(color(stringcolumn(5))):xticlabels(1) with boxes lc rgb variable notitle, \
     '' using 0:2:3:4 with yerrorbars lc rgb "black" pt -1 notitle, \
     '' using 0:4:(sprintf("%.2f", $2)) with labels offset 0,0.7 notitle
set ylabel "Gbit/s, 1514-byte and 64 KiB frames"
plot data2 using 0:2:(color(stringcolumn(5))):xticlabels(1) with boxes lc rgb variable notitle, \
     '' using 0:2:3:4 with yerrorbars lc rgb "black" pt -1 notitle, \
     '' using 0:4:(sprintf("%.1f", $2)) with labels offset 0,0.7 notitle
unset multiplot
