#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck disable=SC2317 # functions are called indirectly (measure)
# Section 2 of `make bench`: packets/s through the gateway namespace.
#
#   ns A (tunnel side)              ns G (gateway)                 ns B (IPv6 side)
#   a0 192.0.2.2, 2001:db8:1::2 <-> u0 192.0.2.1, 2001:db8:1::1
#                                   d0 2001:db8:2::1           <-> b0 2001:db8:2::2
#
# fwd_gen injects live frames (BPF_F_TEST_XDP_LIVE_FRAMES) out of a0 or b0
# and counts, with an XDP program on the other side's veth, what arrives.
#   decap: IPv6-in-UDP-in-IPv4 from 192.0.2.2:40000 (tunnel host
#          2001:db8:100::2) to 2001:db8:2::2; b0 counts the IPv6 packets.
#   encap: IPv6 from 2001:db8:2::2 to 2001:db8:100::2; a0 counts them
#          tunnelled to 192.0.2.2:40000.
# The gateway runs as users run it: `tspgw run`, the next-hop cache on.
# Paths: tspgw native XDP, generic XDP, tc only (encap: XDP on u0 only, the
# kernel routes into the tunnel device whose tc program encapsulates; there
# is no tc decap), the userspace relay (bench/fwd_relay.c), plain kernel
# IPv6 forwarding (2001:db8:1::2 <-> 2001:db8:2::2, no tunnel), and
# "direct": the generator straight into the sink on the gateway's veth,
# no forwarding at all (the set-up's own ceiling).
#
# The spread run: the same with a million tunnels loaded and the traffic
# spread over 65 536 of them (native XDP, the relay, kernel forwarding and
# "direct"); see spread_setup below.
#
# Usage: bench/fwd.sh OUTDIR. Writes OUTDIR/fwd.json, fwd.md, fwd.dat and
# fwd.log. Environment: FWD_SECONDS (1.5), FWD_ROUNDS (3), GEN_CPU (0),
# RELAY_CPU (1), FWD_SPREAD_TUNNELS (1000000; 0: no spread run),
# FWD_SPREAD_FLOWS (65536). Exit 0 ok, 1 could not run or prove a figure,
# 77 skipped.
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
OUT=${1:?usage: fwd.sh OUTDIR}
# shellcheck source=tests/e2e/lib.sh
. "$ROOT/tests/e2e/lib.sh"

SECONDS_EACH=${FWD_SECONDS:-1.5}
ROUNDS=${FWD_ROUNDS:-3}
GEN_CPU=${GEN_CPU:-0}
RELAY_CPU=${RELAY_CPU:-1}
SPREAD_TUNNELS=${FWD_SPREAD_TUNNELS:-1000000}
SPREAD_FLOWS=${FWD_SPREAD_FLOWS:-65536}
# bench/scale picks at most one tunnel in 8 (evenly spaced, no two alike).
((SPREAD_FLOWS > SPREAD_TUNNELS / 8)) && SPREAD_FLOWS=$((SPREAD_TUNNELS / 8))
FILL=$BUILD/bench/scale
TSPGW=$BUILD/tspgw
GEN=$BUILD/bench/fwd_gen
RELAY=$BUILD/bench/fwd_relay

e2e_require_root
e2e_require_tools ip ethtool nsenter python3 timeout
e2e_require_built bench "$TSPGW" "$GEN" "$RELAY" "$FILL" "$BUILD/xdp_pass.bpf.o"
e2e_init
e2e_require_bpf "$BUILD/xdp_pass.bpf.o"

NS_A=fwda$$ NS_G=fwdg$$ NS_B=fwdb$$
PIN=/sys/fs/bpf/tspgw-fwd-$$
TUNDEV=fwt$$ RLYDEV=fwr$$
CONF=$E2E_TMP/config.yaml
PIN_S=/sys/fs/bpf/tspgw-fwds-$$ TUNDEV_S=fws$$ CONF_S=$E2E_TMP/config-spread.yaml
FLOWS=$E2E_TMP/flows.txt
RES=$E2E_TMP/res
mkdir -p "$RES" "$OUT"
LOG=$OUT/fwd.log
: >"$LOG"
# Fixed, locally administered MACs: the generator writes them into frames.
MAC_A0=02:00:00:00:01:01 MAC_U0=02:00:00:00:01:02
MAC_D0=02:00:00:00:02:01 MAC_B0=02:00:00:00:02:02

log() { printf '%s\n' "$*" >>"$LOG"; }
fail() {
	echo "fwd.sh: $*" >&2
	log "FAILED: $*"
	exit 1
}

e2e_two_link_config "$CONF" "$PIN" "$TUNDEV"
# What `tspgw run` needs besides: its address database. No keepalive
# expiry: nobody sends keepalives here.
cat >>"$CONF" <<EOF
broker:
  auth: {mechanisms: [ANONYMOUS]}
  database: $E2E_TMP/assignments.sqlite
  keepalive: {misses: 0}
EOF

# --- topology ------------------------------------------------------------------
e2e_netns_add "$NS_A" "$NS_G" "$NS_B" || fail "cannot create namespaces"
e2e_veth "$NS_A" a0 "$NS_G" u0 || fail "veth a0/u0"
e2e_veth "$NS_G" d0 "$NS_B" b0 || fail "veth d0/b0"
ip -n "$NS_A" link set a0 address $MAC_A0
ip -n "$NS_G" link set u0 address $MAC_U0
ip -n "$NS_G" link set d0 address $MAC_D0
ip -n "$NS_B" link set b0 address $MAC_B0
for ns in "$NS_A" "$NS_G" "$NS_B"; do
	e2e_ns "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 >/dev/null 2>&1
done
e2e_ns "$NS_G" sysctl -qw net.ipv6.conf.all.forwarding=1 >/dev/null || fail "forwarding"
ip -n "$NS_A" addr add 192.0.2.2/24 dev a0
ip -n "$NS_A" addr add 2001:db8:1::2/64 dev a0 nodad
ip -n "$NS_G" addr add 192.0.2.1/24 dev u0
ip -n "$NS_G" addr add 2001:db8:1::1/64 dev u0 nodad
ip -n "$NS_G" addr add 2001:db8:2::1/64 dev d0 nodad
ip -n "$NS_B" addr add 2001:db8:2::2/64 dev b0 nodad
ip -n "$NS_G" neigh replace 192.0.2.2 lladdr $MAC_A0 dev u0 nud permanent
ip -n "$NS_G" neigh replace 2001:db8:1::2 lladdr $MAC_A0 dev u0 nud permanent
ip -n "$NS_G" neigh replace 2001:db8:2::2 lladdr $MAC_B0 dev d0 nud permanent
# A veth takes XDP frames (the generator's XDP_TX) only when its receiving
# end has NAPI: a native XDP program, or GRO switched on. GRO on both
# gateway ends covers the paths without native XDP (and changes nothing for
# these single-frame flows: UDP is not aggregated without a socket asking).
e2e_ns "$NS_G" ethtool -K u0 gro on >/dev/null || fail "gro on u0"
e2e_ns "$NS_G" ethtool -K d0 gro on >/dev/null || fail "gro on d0"
e2e_on_exit "e2e_ns $NS_G timeout 10 $TSPGW -c $CONF detach"
e2e_register_pin "$PIN"

GWCONF=$CONF # the data plane gw talks to: $CONF_S in the spread run
gw() { e2e_ns "$NS_G" timeout 20 "$TSPGW" -c "$GWCONF" "$@"; }
jget() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): d=d[k]
print(d)' "$1" "$2"; }
snap_counters() { gw status --json >"$1" 2>>"$LOG" || fail "tspgw status --json"; }
fwd6() { e2e_ns "$NS_G" awk '$1 == "Ip6OutForwDatagrams" { print $2 }' /proc/net/snmp6; }

# --- one measurement -------------------------------------------------------------
# gen DIR FILE: run fwd_gen for the direction (decap, encap, kdecap,
# kencap, ddecap, dencap; s... for the spread run) and store its JSON in
# FILE.
gen() {
	local dir=$1 file=$2 args
	case $dir in
	decap) args=(--gen "$NS_A:a0" --sink "$NS_B:b0" --smac $MAC_A0 --dmac $MAC_U0
		--frame udp4 --src4 192.0.2.2 --sport 40000 --dst4 192.0.2.1 --dport 3653
		--src6 2001:db8:100::2 --dst6 2001:db8:2::2 --expect ipv6 --want6 2001:db8:2::2) ;;
	encap) args=(--gen "$NS_B:b0" --sink "$NS_A:a0" --smac $MAC_B0 --dmac $MAC_D0
		--frame ipv6 --src6 2001:db8:2::2 --dst6 2001:db8:100::2
		--expect udp4 --want4 192.0.2.2 --want-port 40000) ;;
	kdecap) args=(--gen "$NS_A:a0" --sink "$NS_B:b0" --smac $MAC_A0 --dmac $MAC_U0
		--frame ipv6 --src6 2001:db8:1::2 --dst6 2001:db8:2::2 --expect ipv6 --want6 2001:db8:2::2) ;;
	kencap) args=(--gen "$NS_B:b0" --sink "$NS_A:a0" --smac $MAC_B0 --dmac $MAC_D0
		--frame ipv6 --src6 2001:db8:2::2 --dst6 2001:db8:1::2 --expect ipv6 --want6 2001:db8:1::2) ;;
	ddecap) args=(--gen "$NS_A:a0" --sink "$NS_G:u0" --smac $MAC_A0 --dmac $MAC_U0
		--frame udp4 --src4 192.0.2.2 --sport 40000 --dst4 192.0.2.1 --dport 3653
		--src6 2001:db8:100::2 --dst6 2001:db8:2::2 --expect udp4 --want4 192.0.2.1 --want-port 3653) ;;
	dencap) args=(--gen "$NS_B:b0" --sink "$NS_G:d0" --smac $MAC_B0 --dmac $MAC_D0
		--frame ipv6 --src6 2001:db8:2::2 --dst6 2001:db8:100::2 --expect ipv6 --want6 2001:db8:100::2) ;;
	# The spread run: the same, one frame per picked tunnel in turn.
	sdecap) args=(--gen "$NS_A:a0" --sink "$NS_B:b0" --smac $MAC_A0 --dmac $MAC_U0
		--frame udp4 --dst4 192.0.2.1 --dport 3653 --dst6 2001:db8:2::2
		--expect ipv6 --want6 2001:db8:2::2 --flows "$FLOWS" --flow-role src) ;;
	sencap) args=(--gen "$NS_B:b0" --sink "$NS_A:a0" --smac $MAC_B0 --dmac $MAC_D0
		--frame ipv6 --src6 2001:db8:2::2 --expect udp4 --flows "$FLOWS" --flow-role dst) ;;
	skdecap) args=(--gen "$NS_A:a0" --sink "$NS_B:b0" --smac $MAC_A0 --dmac $MAC_U0
		--frame ipv6 --dst6 2001:db8:2::2 --expect ipv6 --want6 2001:db8:2::2
		--flows "$FLOWS" --flow-role src) ;;
	skencap) args=(--gen "$NS_B:b0" --sink "$NS_A:a0" --smac $MAC_B0 --dmac $MAC_D0
		--frame ipv6 --src6 2001:db8:2::2 --expect ipv6 --flows "$FLOWS" --flow-role dst) ;;
	sddecap) args=(--gen "$NS_A:a0" --sink "$NS_G:u0" --smac $MAC_A0 --dmac $MAC_U0
		--frame udp4 --dst4 192.0.2.1 --dport 3653 --dst6 2001:db8:2::2
		--expect udp4 --want4 192.0.2.1 --want-port 3653 --flows "$FLOWS" --flow-role src) ;;
	sdencap) args=(--gen "$NS_B:b0" --sink "$NS_G:d0" --smac $MAC_B0 --dmac $MAC_D0
		--frame ipv6 --src6 2001:db8:2::2 --expect ipv6 --flows "$FLOWS" --flow-role dst) ;;
	esac
	# In the background and waited for: bash runs a trap (SIGTERM, ^C) only
	# between commands, and `wait` is one it interrupts; the cleanup then
	# stops the generator through the PID registry.
	timeout $((${SECONDS_EACH%.*} + 20)) "$GEN" "${args[@]}" --seconds "$SECONDS_EACH" \
		--cpu "$GEN_CPU" >"$file" 2>>"$LOG" &
	e2e_register_pid $!
	wait $! || fail "fwd_gen $dir failed (see $LOG)"
	log "$dir: $(cat "$file")"
}

# proof NAME FILE WHAT BEFORE AFTER: the path's own counter moved by at
# least what the sink counted, so every delivered frame took that path.
# AFTER "sink": the sink's own count (the paths with no gateway).
proof() {
	python3 "$HERE/fwd_proof.py" "$2" "$3" "$4" "$5" >"$E2E_TMP/why" || fail "$1: $(cat "$E2E_TMP/why")"
}

# gw_start CONF LOG ARGS...: `tspgw run` as users run it, the next-hop
# cache on as configured by default, in the background; sets GW_PID. Waits
# (bounded) until the daemon says the cache is on.
gw_start() {
	local conf=$1 glog=$2
	shift 2
	e2e_bg "$NS_G" "$glog" "$TSPGW" -c "$conf" run "$@"
	GW_PID=$E2E_BG_PID
	e2e_wait_for 60 grep -q "next-hop cache on" "$glog" ||
		fail "tspgw run did not start with the next-hop cache on: $(tail -3 "$glog")"
}
# gw_stop LOG: SIGTERM to the daemon, its log into ours.
gw_stop() {
	e2e_stop "$GW_PID" 10 || fail "tspgw run did not stop cleanly"
	cat "$1" >>"$LOG"
}

# measure_gw NAME DIR FILE COUNTER NH: gen DIR between two snapshots of
# the gateway's counters, then, as proof does, COUNTER must have moved by
# at least what the sink counted; with NH=1 the next-hop cache must have
# served the path (fwd_proof.py --nh).
measure_gw() {
	local name=$1 dir=$2 file=$3 nh=()
	[ "$5" = 1 ] && nh=(--nh)
	snap_counters "$E2E_TMP/c0.json"
	gen "$dir" "$file"
	snap_counters "$E2E_TMP/c1.json"
	python3 "$HERE/fwd_proof.py" "$file" "$4" --snap "$E2E_TMP/c0.json" "$E2E_TMP/c1.json" "${nh[@]}" \
		>"$E2E_TMP/why" || fail "$name: $(cat "$E2E_TMP/why")"
}

# tspgw_run MODE ROUND: `tspgw run` in MODE, one static tunnel, both
# directions.
tspgw_run() {
	local mode=$1 r=$2 glog=$E2E_TMP/run.$1.$2.log args want=xdp
	case $mode in
	native | generic) args=(u0 --ipv6-iface d0 --mode "$mode") ;;
	# XDP on the IPv4 side only: IPv6 from b0 goes up d0's stack.
	tc) args=(u0 --ipv6-iface u0 --mode native) ;;
	esac
	gw_start "$CONF" "$glog" "${args[@]}"
	gw tunnel add --type v6udpv4 --remote 192.0.2.2:40000 --address 2001:db8:100::2 >>"$LOG" 2>&1 ||
		fail "tunnel add"
	[ "$mode" = generic ] && want=xdpgeneric
	ip -n "$NS_G" -d link show dev u0 | grep -q " $want " || fail "u0 is not in $want mode"
	if [ "$mode" = tc ]; then
		! ip -n "$NS_G" -d link show dev d0 | grep -q xdp || fail "d0 has XDP in tc mode"
		# The kernel routes into the tunnel device: no next-hop cache.
		measure_gw "tc encap" encap "$RES/tc.encap.$r.json" encap_tc 0
	else
		ip -n "$NS_G" -d link show dev d0 | grep -q " $want " || fail "d0 is not in $want mode"
		measure_gw "$mode decap" decap "$RES/$mode.decap.$r.json" decap 1
		measure_gw "$mode encap" encap "$RES/$mode.encap.$r.json" encap 1
	fi
	gw_stop "$glog"
	gw detach >>"$LOG" 2>&1 || fail "tspgw detach"
}

# Busy time of one CPU so far, in clock ticks (user..softirq, steal left out).
cpu_busy() { awk -v c="cpu$1" '$1 == c { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }

# relay_gen DIR FILE: gen, plus the relay CPU's busy time per delivered
# packet (warm-up included on both sides). It leaves out what the relay
# costs on the generator's CPU (the UDP or IPv6 receive), so it
# underestimates the relay's cost per packet.
relay_gen() {
	local b0 b1 hz
	hz=$(getconf CLK_TCK)
	b0=$(cpu_busy "$RELAY_CPU")
	gen "$1" "$2"
	b1=$(cpu_busy "$RELAY_CPU")
	python3 - "$2" "$((b1 - b0))" "$hz" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); ticks, hz = int(sys.argv[2]), int(sys.argv[3])
d["relay_cpu_busy_s"] = ticks / hz
d["relay_cpu_ns_per_pkt"] = round(ticks / hz * 1e9 / d["delivered_total"]) if d["delivered_total"] else None
json.dump(d, open(sys.argv[1], "w"))
PY
}

# relay_run ROUND [spread]: fwd_relay in G on its own CPU, TUN routed
# both ways; with "spread", for all the picked tunnels.
relay_run() {
	local r=$1 pid rlog=$E2E_TMP/relay.$1.${2:-one}.log key=relay peer=(--peer 192.0.2.2:40000)
	local dd=decap de=encap
	if [ "${2:-}" = spread ]; then
		key=relay_spread peer=(--flows "$FLOWS") dd=sdecap de=sencap
	fi
	e2e_bg "$NS_G" "$rlog" "$RELAY" --tun "$RLYDEV" --listen 192.0.2.1:3653 \
		"${peer[@]}" --cpu "$RELAY_CPU" --batch 64
	pid=$E2E_BG_PID
	e2e_wait_for 5 grep -q ready "$rlog" || fail "fwd_relay did not start: $(cat "$rlog")"
	ip -n "$NS_G" link set dev "$RLYDEV" addrgenmode none mtu 1480 up &&
		ip -n "$NS_G" -6 route replace 2001:db8:100::/64 dev "$RLYDEV" &&
		ip -n "$NS_G" -6 route replace 2001:db8:ffff::/64 dev "$RLYDEV" || fail "relay TUN set-up"
	relay_gen $dd "$RES/$key.decap.$r.json"
	relay_gen $de "$RES/$key.encap.$r.json"
	e2e_stop "$pid" 5 || fail "fwd_relay did not stop cleanly"
	log "$key: $(tail -1 "$rlog")"
	local j
	j=$(tail -1 "$rlog")
	echo "$j" >"$E2E_TMP/relay.json"
	proof "$key decap" "$RES/$key.decap.$r.json" relay.tun_out 0 "$(jget "$E2E_TMP/relay.json" tun_out)"
	proof "$key encap" "$RES/$key.encap.$r.json" relay.udp_out 0 "$(jget "$E2E_TMP/relay.json" udp_out)"
}

# kernel_run ROUND: no tspgw, no relay: plain IPv6 forwarding, and the
# generator straight into a sink on the gateway's own veths.
kernel_run() {
	local r=$1 k0 k1
	k0=$(fwd6)
	gen kdecap "$RES/kernel.decap.$r.json"
	k1=$(fwd6)
	proof "kernel decap" "$RES/kernel.decap.$r.json" Ip6OutForwDatagrams "$k0" "$k1"
	k0=$(fwd6)
	gen kencap "$RES/kernel.encap.$r.json"
	k1=$(fwd6)
	proof "kernel encap" "$RES/kernel.encap.$r.json" Ip6OutForwDatagrams "$k0" "$k1"
	gen ddecap "$RES/direct.decap.$r.json"
	proof "direct decap" "$RES/direct.decap.$r.json" sink 0 sink
	gen dencap "$RES/direct.encap.$r.json"
	proof "direct encap" "$RES/direct.encap.$r.json" sink 0 sink
}

# --- the spread run: a million tunnels, traffic over 65 536 of them -----------
# The data plane sized for 2^20 tunnels, filled by bench/scale (the
# broker's own assign and map-insert functions, as section 4 does), which
# also writes the picked tunnels (origin, host) to $FLOWS; fwd_gen sends
# one frame per picked tunnel in turn, and fwd_relay relays for all of them.
# The picked origins are in the three documentation /24s: 192.0.2.0/24 is
# on-link on u0 (each address a permanent neighbour at a0's MAC), the two
# others are routed via a0, so every tunnelled frame reaches a0's sink.
spread_setup() {
	local i
	for ((i = 3; i < 255; i++)); do
		echo "neigh replace 192.0.2.$i lladdr $MAC_A0 dev u0 nud permanent"
	done >"$E2E_TMP/neigh.batch"
	ip -n "$NS_G" -batch "$E2E_TMP/neigh.batch" &&
		ip -n "$NS_G" route replace 198.51.100.0/24 via 192.0.2.2 dev u0 &&
		ip -n "$NS_G" route replace 203.0.113.0/24 via 192.0.2.2 dev u0 || fail "spread routes"
	sed -e "s|max_tunnels: 1024|max_tunnels: 1048576|" -e "s|$PIN|$PIN_S|" \
		-e "s|tunnel_device: $TUNDEV|tunnel_device: $TUNDEV_S|" \
		-e "s|assignments.sqlite|assignments-spread.sqlite|" "$CONF" >"$CONF_S"
	cat >>"$CONF_S" <<EOF
  limits: {max_tunnels: 1048576}
EOF
	e2e_on_exit "e2e_ns $NS_G timeout 10 $TSPGW -c $CONF_S detach"
	e2e_register_pin "$PIN_S"
}

# spread_tspgw_run ROUND: attach, fill, `tspgw run` (it takes the million
# tunnels back from the pinned maps), both directions, detach (which
# removes the maps: every round fills them again).
spread_tspgw_run() {
	local r=$1 glog=$E2E_TMP/run.spread.$1.log entries restored t0
	GWCONF=$CONF_S
	gw attach u0 --ipv6-iface d0 --mode native >>"$LOG" 2>&1 || fail "tspgw attach (spread)"
	t0=$(date +%s)
	e2e_ns "$NS_G" timeout 300 "$FILL" "$CONF_S" "$SPREAD_TUNNELS" "$SPREAD_FLOWS" "$FLOWS" \
		>"$E2E_TMP/fill.json" 2>>"$LOG" || fail "the fill failed: $(cat "$E2E_TMP/fill.json")"
	log "spread fill: $(cat "$E2E_TMP/fill.json")"
	printf '   round %d/%d: spread: %d tunnels filled in %d s\n' "$r" "$ROUNDS" \
		"$SPREAD_TUNNELS" $(($(date +%s) - t0))
	[ "$(wc -l <"$FLOWS")" = "$SPREAD_FLOWS" ] || fail "$FLOWS has not $SPREAD_FLOWS flows"
	gw_start "$CONF_S" "$glog" u0 --ipv6-iface d0 --mode native
	restored=$(sed -n 's/.*restored \([0-9]*\) tunnels.*/\1/p' "$glog" | tail -1)
	snap_counters "$E2E_TMP/s.json"
	entries=$(jget "$E2E_TMP/s.json" maps.bindings.entries)
	[ "${restored:-0}" -ge "$SPREAD_TUNNELS" ] && [ "$entries" -ge "$SPREAD_TUNNELS" ] ||
		fail "spread: tspgw run restored ${restored:-0} tunnels, bindings hold $entries"
	measure_gw "native spread decap" sdecap "$RES/native_spread.decap.$r.json" decap 1
	measure_gw "native spread encap" sencap "$RES/native_spread.encap.$r.json" encap 1
	gw_stop "$glog"
	gw detach >>"$LOG" 2>&1 || fail "tspgw detach (spread)"
	GWCONF=$CONF
}

# The baselines over the same picked tunnels (the flows file of the first
# fill, which the first round makes before these; every fill is the
# same): the relay relays for all of them; kernel
# forwarding gets the same inner IPv6 packets, from the tunnels' host
# addresses (decap) and to them, routed back to a0 (encap).
spread_relay_run() {
	relay_run "$1" spread
}
spread_kernel_run() {
	local r=$1 k0 k1
	ip -n "$NS_G" -6 route replace 2001:db8:ffff::/64 via 2001:db8:1::2 dev u0 ||
		fail "route to the tunnel hosts"
	k0=$(fwd6)
	gen skdecap "$RES/kernel_spread.decap.$r.json"
	k1=$(fwd6)
	proof "kernel spread decap" "$RES/kernel_spread.decap.$r.json" Ip6OutForwDatagrams "$k0" "$k1"
	k0=$(fwd6)
	gen skencap "$RES/kernel_spread.encap.$r.json"
	k1=$(fwd6)
	proof "kernel spread encap" "$RES/kernel_spread.encap.$r.json" Ip6OutForwDatagrams "$k0" "$k1"
	ip -n "$NS_G" -6 route del 2001:db8:ffff::/64 via 2001:db8:1::2 dev u0 || fail "route del"
	gen sddecap "$RES/direct_spread.decap.$r.json"
	proof "direct spread decap" "$RES/direct_spread.decap.$r.json" sink 0 sink
	gen sdencap "$RES/direct_spread.encap.$r.json"
	proof "direct spread encap" "$RES/direct_spread.encap.$r.json" sink 0 sink
}

# --- rounds: every path in turn, order reversed every other round ----------------
order=(native generic tc relay kernel)
if ((SPREAD_TUNNELS >= 8)); then
	order+=(spread_tspgw spread_relay spread_kernel)
	spread_setup
fi
for ((r = 1; r <= ROUNDS; r++)); do
	run=("${order[@]}")
	if ((r % 2 == 0)); then
		run=()
		for ((i = ${#order[@]} - 1; i >= 0; i--)); do run+=("${order[i]}"); done
	fi
	for p in "${run[@]}"; do
		printf '   round %d/%d: %s\n' "$r" "$ROUNDS" "$p"
		case $p in
		native | generic | tc) tspgw_run "$p" "$r" ;;
		relay) relay_run "$r" ;;
		kernel) kernel_run "$r" ;;
		spread_*) "${p}_run" "$r" ;;
		esac
	done
done

python3 "$HERE/fwd_report.py" "$RES" "$OUT" "$SECONDS_EACH" "$ROUNDS" "$GEN_CPU" "$RELAY_CPU" \
	"$SPREAD_TUNNELS" "$SPREAD_FLOWS" ||
	fail "fwd_report.py failed"
