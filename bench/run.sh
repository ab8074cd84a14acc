#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# `make bench`: runs the benchmarks, prints one table, and writes (generated,
# not committed)
#   build/bench/results.json  every figure, with how it was measured
#   build/bench/results.md    the same as Markdown tables
#   build/bench/pkt_cost.png  bar chart of section 1 (gnuplot)
#   build/bench/fwd.png       bar chart of section 2 (gnuplot)
# Needs root (BPF_PROG_RUN, network namespaces). Exit 77 = skipped.
# Benchmarks report; they never pass or fail anything (a non-zero exit only
# means a benchmark could not run or could not prove its figures).
#
# Environment: BUILD (default build); PKT_COST_ARGS, extra options for
# pkt_cost (e.g. "--rounds 3 --counts 1,10000" for a quick look);
# FWD_ROUNDS, FWD_SECONDS for section 2 (bench/fwd.sh; e.g. 1 and 1);
# FWD_SPREAD_TUNNELS (1000000; 0: no spread run), FWD_SPREAD_FLOWS (65536).
# BROKER_SCALE (section 3: factor on the setups per run, e.g. 0.2);
# SCALE_TUNNELS (section 4: tunnels to load, default 1000000).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

BUILD=${BUILD:-build}
OUT=$BUILD/bench

if [ "$(id -u)" != 0 ]; then
	echo "bench: skipped: needs root (BPF_PROG_RUN, network namespaces)" >&2
	exit 77
fi
for f in "$OUT/pkt_cost" "$OUT/helper_cost.bpf.o" "$OUT/fwd_gen" "$OUT/fwd_relay" "$OUT/broker_load" "$OUT/scale"; do
	if [ ! -e "$f" ]; then
		echo "bench: $f is missing: run \`make bench\`" >&2
		exit 1
	fi
done
mkdir -p "$OUT"
rm -f "$OUT/results.json" "$OUT/results.md" "$OUT/pkt_cost.png"
rm -f "$OUT/fwd.json" "$OUT/fwd.md" "$OUT/fwd.dat" "$OUT/fwd.png"
rm -f "$OUT"/broker.* "$OUT"/scale.* \
	"$OUT/broker_runs.jsonl" "$OUT/scale_steps.json"

# The machine, for the reports. Strings lose anything that would need
# escaping in JSON.
clean() { tr -d '"\\' | tr -s ' \t' ' ' | sed -e 's/^ //' -e 's/ $//'; }
cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1 | clean)
ncpu=$(nproc)
kernel=$(uname -r | clean)
mem_mb=$(awk '/^MemTotal/ { printf "%d", $2 / 1024 }' /proc/meminfo)
virt=$(lscpu 2>/dev/null | sed -n 's/^Hypervisor vendor:[[:space:]]*//p' | clean)
[ -n "$virt" ] && virt="$virt virtual machine" || virt="no hypervisor reported"
rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ "$rev" != unknown ] && ! git diff --quiet HEAD -- bpf 2>/dev/null; then
	rev="$rev+uncommitted bpf/ changes"
fi
when=$(date -u +%Y-%m-%dT%H:%M:%SZ)
machine="$cpu_model, $ncpu CPUs, $mem_mb MiB, $virt, Linux $kernel"

echo "tspgw benchmarks on $machine (tspgw $rev)"

# ---- section 1: per-packet cost of each BPF path -----------------------
echo "1. per-packet cost of each BPF path: running (about 3 minutes; log: $OUT/pkt_cost.log)"
t0=$(date +%s)
# shellcheck disable=SC2086 # PKT_COST_ARGS is a list of options
"$OUT/pkt_cost" --helpers "$OUT/helper_cost.bpf.o" --json "$OUT/pkt_cost.json" \
	--md "$OUT/pkt_cost.md" --dat "$OUT/pkt_cost.dat" ${PKT_COST_ARGS:-} \
	>"$OUT/pkt_cost.log" 2>&1
rc=$?
if [ $rc = 77 ]; then
	cat "$OUT/pkt_cost.log" >&2
	exit 77
fi
if [ $rc != 0 ]; then
	echo "bench: pkt_cost failed (exit $rc); its log:" >&2
	tail -n 20 "$OUT/pkt_cost.log" >&2
	exit 1
fi
echo "   done in $(($(date +%s) - t0)) s"

# ---- section 2: end-to-end forwarding ------------------------------------
echo "2. end-to-end forwarding, one tunnel and spread over 65 536 of 1 000 000: running (6-10 minutes; log: $OUT/fwd.log)"
t0=$(date +%s)
bash bench/fwd.sh "$OUT" 2>&1 | sed 's/^/   /'
rc=${PIPESTATUS[0]}
if [ "$rc" = 77 ]; then
	echo "bench: section 2 skipped" >&2
	exit 77
fi
if [ "$rc" != 0 ]; then
	echo "bench: fwd.sh failed (exit $rc); its log:" >&2
	tail -n 20 "$OUT/fwd.log" >&2
	exit 1
fi
echo "   done in $(($(date +%s) - t0)) s"

# ---- sections 3 and 4: the broker, and a million tunnels ----------------
# Each in namespaces of its own, cleaned up by its script; a section that
# fails is reported as such and the others still run.
sec3=ok
echo "3. broker: setups/s and latency over UDP and TCP, idle sessions, by database (about 1.5 min; log: $OUT/broker.log)"
t0=$(date +%s)
bash bench/broker.sh >"$OUT/broker.log" 2>&1 || sec3=failed
# Authenticated setups/s by database (SQLite, PostgreSQL; one and two
# gateways), into the same raw results (about 1 min more at scale 1 on this machine).
bash bench/broker_db.sh >>"$OUT/broker.log" 2>&1 || sec3=failed
echo "   $sec3 in $(($(date +%s) - t0)) s"
sec4=ok
echo "4. scale: ${SCALE_TUNNELS:-1000000} tunnels, memory, restart (about 30 s; log: $OUT/scale.log)"
t0=$(date +%s)
bash bench/scale.sh >"$OUT/scale.log" 2>&1 || sec4=failed
echo "   $sec4 in $(($(date +%s) - t0)) s"
python3 bench/report_broker_scale.py "$OUT" || { sec3=failed; sec4=failed; }
for sec in 3 4; do
	v=sec$sec
	log=$([ $sec = 3 ] && echo broker || echo scale)
	if [ "${!v}" != ok ]; then
		echo "bench: section $sec failed; the end of $OUT/$log.log:" >&2
		tail -n 15 "$OUT/$log.log" >&2
	fi
done
# section_json NAME STATUS: the section's JSON, or why there is none.
section_json() {
	if [ "$2" = ok ] && [ -s "$OUT/$1.json" ]; then
		sed -e '2,$s/^/    /' "$OUT/$1.json"
	else
		printf '{"status": "failed: see %s.log"}' "$1"
	fi
}
section_md() {
	if [ "$2" = ok ] && [ -s "$OUT/$1.md" ]; then
		cat "$OUT/$1.md"
	else
		echo "Failed: see \`$OUT/$1.log\`."
	fi
}

# ---- plot ---------------------------------------------------------------
if ! command -v gnuplot >/dev/null 2>&1; then
	echo "bench: installing gnuplot-nox for the plot"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q gnuplot-nox >"$OUT/apt.log" 2>&1 ||
		{ apt-get update -q >>"$OUT/apt.log" 2>&1 &&
			apt-get install -y -q gnuplot-nox >>"$OUT/apt.log" 2>&1; }
fi
plot=""
if command -v gnuplot >/dev/null 2>&1; then
	ncounts=$(($(head -1 "$OUT/pkt_cost.dat" | grep -o '"' | wc -l) / 2))
	if gnuplot -e "datafile='$OUT/pkt_cost.dat'; outfile='$OUT/pkt_cost.png'; ncounts=$ncounts; subtitle='$machine; $when'" \
		bench/plot.gp 2>"$OUT/plot.log"; then
		plot="$OUT/pkt_cost.png"
	else
		echo "bench: gnuplot failed, no plot (see $OUT/plot.log)" >&2
	fi
	if gnuplot -e "datafile='$OUT/fwd.dat'; outfile='$OUT/fwd.png'; subtitle='$machine; $when'" \
		bench/fwd_plot.gp 2>>"$OUT/plot.log"; then
		plot="${plot:+$plot }$OUT/fwd.png"
	else
		echo "bench: gnuplot failed on section 2, no plot (see $OUT/plot.log)" >&2
	fi
else
	echo "bench: gnuplot is not installed and could not be installed: no plot (see $OUT/apt.log)" >&2
fi

# ---- reports --------------------------------------------------------------
{
	printf '{\n  "generated": "%s",\n  "tspgw": "%s",\n' "$when" "$rev"
	printf '  "machine": {"cpu": "%s", "cpus": %s, "memory_mib": %s, "virtualization": "%s", "kernel": "%s"},\n' \
		"$cpu_model" "$ncpu" "$mem_mb" "$virt" "$kernel"
	printf '  "sections": {\n    "1_pkt_cost": '
	sed -e '2,$s/^/    /' "$OUT/pkt_cost.json" | sed -e '$s/$/,/'
	printf '    "2_forwarding": '
	sed -e '2,$s/^/    /' "$OUT/fwd.json" | sed -e '$s/$/,/'
	printf '    "3_broker": '
	section_json broker "$sec3"
	printf ',\n    "4_scale": '
	section_json scale "$sec4"
	printf '\n  }\n}\n'
} >"$OUT/results.json"

{
	echo "# tspgw benchmarks"
	echo
	echo "Generated $when by \`make bench\` (tspgw $rev) on: $machine."
	echo "How each figure is measured: bench/README.md."
	echo
	echo "## 1. Per-packet cost of each BPF path (ns/packet)"
	echo
	cat "$OUT/pkt_cost.md"
	echo
	[ -e "$OUT/pkt_cost.png" ] && echo "![ns/packet per path and tunnel count](pkt_cost.png)" && echo
	echo "## 2. End-to-end forwarding (packets/s through the gateway namespace)"
	echo
	cat "$OUT/fwd.md"
	echo
	[ -e "$OUT/fwd.png" ] && echo "![delivered packets/s per path](fwd.png)" && echo
	echo "## 3. Broker (tunnel setups/s, setup latency, idle sessions)"
	echo
	section_md broker "$sec3"
	echo
	echo "## 4. Scale and memory (map bytes per tunnel, broker restart)"
	echo
	section_md scale "$sec4"
} >"$OUT/results.md"

echo
cat "$OUT/pkt_cost.md"
echo
echo "2. End-to-end forwarding (packets/s through the gateway namespace)"
echo
cat "$OUT/fwd.md"
echo
echo "3. Broker: tunnel setups through \`tspgw run\`"
section_md broker "$sec3"
echo
echo "4. Scale and memory"
section_md scale "$sec4"
written="$OUT/results.json $OUT/results.md"
[ -n "$plot" ] && written="$written $plot"
echo "Written: $written"
[ "$sec3" = ok ] && [ "$sec4" = ok ] || exit 1
