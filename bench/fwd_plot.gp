# SPDX-License-Identifier: BSD-2-Clause
# Bar chart of section 2 (bench/fwd.sh): delivered Mpps per path, one bar
# per direction, each labelled with its value. A path without a direction
# (tc only has no decap) has NaN there and no bar.
#
#   gnuplot -e "datafile='build/bench/fwd.dat'; outfile='build/bench/fwd.png'; \
#               subtitle='...'" bench/fwd_plot.gp
#
# The data file (written by fwd_report.py): a comment line, then per
# path: "label" Mpps(decap) Mpps(encap).

if (!exists("subtitle")) subtitle = ""

set terminal pngcairo size 1500,700 font "DejaVu Sans,11"
set output outfile
set title "tspgw: packets/s through the gateway namespace (veth, live frames; tspgw run; spread: traffic over many of the tunnels loaded)\n{/*0.8 ".subtitle."}"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border rgb "#333333"
set boxwidth 0.95 relative
set yrange [0:*]
set offsets 0, 0, graph 0.12, 0
set ylabel "delivered Mpps"
set grid ytics lc rgb "#dddddd"
set xtics rotate by -20 left nomirror font ",10"
set ytics nomirror
set key top left opaque box
set bmargin 7
set rmargin 6

bw = 1.0 / 3
plot datafile using 2:xtic(1) title "decap: tunnel in, IPv6 out" lc rgb "#4292c6", \
     datafile using 3 title "encap: IPv6 in, tunnel out" lc rgb "#e6550d", \
     datafile using ($0 - bw / 2):2:(sprintf("%.2f", $2)) with labels offset 0,0.7 font ",9" notitle, \
     datafile using ($0 + bw / 2):3:(sprintf("%.2f", $3)) with labels offset 0,0.7 font ",9" notitle
