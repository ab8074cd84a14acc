# SPDX-License-Identifier: BSD-2-Clause
# Bar chart of bench/pkt_cost's figures: ns/packet per path, one bar per
# tunnel count (the kernel-loop figures), log scale (the paths span 1 ns
# to over 1 us), each bar
# labelled with its value, each path's target drawn as a black line.
#
#   gnuplot -e "datafile='build/bench/pkt_cost.dat'; outfile='build/bench/pkt_cost.png'; \
#               ncounts=3; subtitle='...'" bench/plot.gp
#
# The data file (written by pkt_cost --dat): a header line of column titles
# (every clause skips it), then per path: "label" target(or NaN) ns@count1 ...

if (!exists("ncounts")) ncounts = 3
if (!exists("subtitle")) subtitle = ""

set terminal pngcairo size 1500,820 font "DejaVu Sans,11"
set output outfile
set title "tspgw: per-packet cost of each XDP path (BPF\\_PROG\\_RUN kernel loop, net of harness)\n{/*0.8 ".subtitle."}"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border rgb "#333333"
set boxwidth 0.95 relative
set logscale y
set yrange [1:5000]
set ylabel "ns per packet (log scale)"
set grid ytics mytics lc rgb "#dddddd"
set xtics rotate by -28 left nomirror font ",10"
set ytics nomirror
set key top left opaque box autotitle columnheader
set bmargin 9
set rmargin 4

# Bar j (1-based) of the cluster at x = row: centred as gnuplot's
# clustered histogram places it.
bw = 1.0 / (ncounts + 1)
xpos(row, j) = row + (j - (ncounts + 1) / 2.0) * bw
clamp(v) = v < 1 ? 1 : v
colours = "#9ecae1 #4292c6 #08306b #41ab5d #e6550d"

plot for [j=1:ncounts] datafile using (clamp(column(j+2))):xtic(1) \
        title columnheader(j+2) lc rgb word(colours, j), \
     for [j=1:ncounts] datafile using (xpos($0, j)):(clamp(column(j+2))):(sprintf("%.0f", column(j+2))) \
        with labels rotate by 90 left offset 0,0.4 font ",8" notitle, \
     datafile using ($0 - 0.45):2:(0.9):(0) with vectors nohead lw 3 lc rgb "black" \
        title "target"
