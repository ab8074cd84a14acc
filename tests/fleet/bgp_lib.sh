# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=bash
# shellcheck disable=SC2034 # BIRD_A, BIRD_B, BIRD_U are for the suites that source this
# BIRD 2 on the layout of tests/fleet/anycast_topo.sh (t_move_bgp.sh,
# t_failover.sh): on gateways A and B, dist/bird.conf as shipped with only
# its site definitions replaced (and its log and connect retry made
# test-sized); on the upstream router U a BIRD that peers with both over
# eBGP and puts the best route it learns into its kernel. Each BIRD runs in
# its namespace with its own config, control socket and pid file in $T.
# Source after anycast_topo.sh, with ROOT, TABLE and PROTO (the gateways'
# routes.table and routes.protocol) set.
#
#   A: AS 64512, router id 198.51.100.2,  session 2001:db8:a::2 - 2001:db8:a::1 U
#   B: AS 64512, router id 198.51.100.10, session 2001:db8:b::2 - 2001:db8:b::1 U
#   U: AS 64513; protocols gw_a and gw_b
#
# When both announce a route (a user between two gateways), U prefers A's:
# same AS path, and A has the lower router id.

# bgp_gw_conf NAME: gateway NAME's config, $T/bird.NAME.conf.
bgp_gw_conf() {
	local id=198.51.100.2 up=2001:db8:a::1
	[ "$1" = b ] && id=198.51.100.10 up=2001:db8:b::1
	sed -e "s|^router id .*|router id $id;|" \
		-e "s|^define TSPGW_TABLE = .*|define TSPGW_TABLE = $TABLE;|" \
		-e "s|^define TSPGW_PROTOCOL = .*|define TSPGW_PROTOCOL = $PROTO;|" \
		-e "s|^define UPSTREAM = .*|define UPSTREAM = $up;|" \
		-e "s|^log syslog all;|log \"$T/bird.$1.log\" all;|" \
		-e "s|^\([[:space:]]*connect retry time\) .*|\1 2;|" \
		"$ROOT/dist/bird.conf" >"$T/bird.$1.conf"
}

# bgp_up_conf: U's config, $T/bird.up.conf. It accepts from the gateways
# what an upstream should (README "Routes and BGP"): the pools' /128s and
# delegation lengths and the anonymous /64, nothing else.
#
# Timers: U starts its sessions a second after BIRD starts and retries
# every 2 s (defaults 5 s and 120 s), so the suite does not wait on them.
# A hold time of 3 s (keepalives every second; the gateways' BIRDs take the
# lower of the two offers) bounds how long U keeps a silent gateway's
# routes: a session that ends cleanly, or whose link goes down (BIRD's
# `check link`, on for a direct session), drops at once, but a gateway that
# just stops answering is only noticed when the hold time runs out
# (default 240 s).
bgp_up_conf() {
	cat >"$T/bird.up.conf" <<EOF
router id 198.51.100.1;
log "$T/bird.up.log" all;
protocol device {}
protocol kernel kernel6 { ipv6 { import none; export all; }; }
filter from_gateways
{
	if net ~ [ 2001:db8:100::/64{128,128}, 2001:db8:200::/40{48,60}, 2001:db8:ffff::/64 ] then accept;
	reject;
}
template bgp tspgw_gw {
	local as 64513;
	connect delay time 1;
	connect retry time 2;
	hold time 3;
	keepalive time 1;
	debug { states, events };
	ipv6 { import filter from_gateways; export none; };
}
protocol bgp gw_a from tspgw_gw { neighbor 2001:db8:a::2 as 64512; }
protocol bgp gw_b from tspgw_gw { neighbor 2001:db8:b::2 as 64512; }
EOF
}

# bgp_anycast_conf: the anycast service address 192.0.2.1/32 (gateway.ipv4
# of both) over IPv4 sessions beside the IPv6 ones, appended to the three
# configs. dist/bird.conf announces the tunnels' routes, not the gateway's
# own addresses: this is the site's addition (README "Running a fleet").
# U prefers A's (local preference 200): A is the primary while it lives.
bgp_anycast_conf() {
	local g nb
	for g in a b; do
		nb=198.51.100.1
		[ $g = b ] && nb=198.51.100.9
		cat >>"$T/bird.$g.conf" <<EOF

# The site's addition: the anycast address, for as long as BIRD runs.
protocol static anycast4 { ipv4; route $ANY/32 unreachable; }
protocol bgp upstream4 {
	local as LOCAL_AS;
	neighbor $nb as UPSTREAM_AS;
	connect retry time 2;
	ipv4 { import none; export where proto = "anycast4"; };
}
EOF
	done
	cat >>"$T/bird.up.conf" <<EOF
protocol kernel kernel4 { ipv4 { import none; export all; }; }
template bgp tspgw_gw4 {
	local as 64513;
	connect delay time 1;
	connect retry time 2;
	hold time 3;
	keepalive time 1;
	debug { states, events };
}
protocol bgp gw_a4 from tspgw_gw4 {
	neighbor 198.51.100.2 as 64512;
	ipv4 { import filter { if net != $ANY/32 then reject; bgp_local_pref = 200; accept; }; export none; };
}
protocol bgp gw_b4 from tspgw_gw4 {
	neighbor 198.51.100.10 as 64512;
	ipv4 { import where net = $ANY/32; export none; };
}
EOF
}

# bgp_start NAME: BIRD NAME (a, b or up) in its namespace, config checked
# first. Call it in the suite's own shell (the PID is registered there).
bgp_start() {
	local ns=$NS_U
	[ "$1" = a ] && ns=$NS_A
	[ "$1" = b ] && ns=$NS_B
	bird -p -c "$T/bird.$1.conf" || return 1
	e2e_bg "$ns" "$T/bird.$1.out" bird -f -c "$T/bird.$1.conf" -s "$T/bird.$1.ctl" \
		-P "$T/bird.$1.pid"
	case $1 in
	a) BIRD_A=$E2E_BG_PID ;;
	b) BIRD_B=$E2E_BG_PID ;;
	*) BIRD_U=$E2E_BG_PID ;;
	esac
}
birdc_on() { birdc -s "$T/bird.$1.ctl" "${@:2}"; }

# bgp_up_state PROTO: that session's state at U (Established, Active, ...).
bgp_up_state() {
	birdc_on up show protocols "$1" | awk -v p="$1" '$1 == p { print $6; exit }'
}
bgp_established() {
	local p
	for p in "$@"; do [ "$(bgp_up_state "$p")" = Established ] || return 1; done
}
bgp_show_logs() { tail -n 8 "$T"/bird.*.log "$T"/bird.*.out 2>/dev/null; }

# bgp_down_after SINCE PROTO...: from U's log (its clock, milliseconds), how
# long after SINCE (epoch seconds) the last of these sessions went down,
# and why (BIRD's event before it: Link down, Error: Hold timer expired,
# ...). Fails if one did not go down after SINCE.
bgp_down_after() {
	python3 - "$T/bird.up.log" "$@" <<'EOF'
import re, sys, time
log, since, protos = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
line = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\.(\d{3}) <[A-Z]+> (\w+): (.*)")
down, last = {}, {}
for l in open(log):
    m = line.match(l)
    if not m:
        continue
    t = time.mktime(time.strptime(m.group(1), "%Y-%m-%d %H:%M:%S")) + int(m.group(2)) / 1000
    p, what = m.group(3), m.group(4)
    if p not in protos or t < since - 0.001:
        continue
    if what == "State changed to stop" and p not in down:
        down[p] = (t, last.get(p, "?"))
    if what != "BGP session closed" and not what.startswith("State changed"):
        last[p] = what
missing = [p for p in protos if p not in down]
if missing:
    sys.exit("not down since then: " + " ".join(missing))
t, why = max(down.values())
print("%.2f s (%s)" % (max(0.0, t - since), why))
EOF
}

# bgp_from NET: the protocols U's BIRD has a route for NET from (exactly
# that network), one a line, the best first.
bgp_from() {
	local out
	out=$(birdc_on up show route "$1") || grep -q "Network not found" <<<"$out" ||
		{ echo "birdc: $out"; return 1; }
	sed -n 's/.*unicast \[\([a-z0-9_]*\) .*/\1/p' <<<"$out"
}
# bgp_only NET PROTO: U's BIRD learns NET from PROTO and from nobody else.
bgp_only() {
	local got
	got=$(bgp_from "$1") || return 1
	[ "$got" = "$2" ] || { echo "U learns $1 from: ${got:-nobody} (want only $2)" | tr '\n' ' '; return 1; }
}
# bgp_best NET PROTO: U's best route for NET is PROTO's.
bgp_best() {
	local got
	got=$(bgp_from "$1") || return 1
	[ "${got%%$'\n'*}" = "$2" ] || { echo "U learns $1 from: ${got:-nobody} (want $2 first)" | tr '\n' ' '; return 1; }
}
# kernel_via NET NEXTHOP: U's kernel routes NET by BIRD to NEXTHOP.
kernel_via() {
	local r fam=-4
	[[ "$1" == *:* ]] && fam=-6
	r=$(ip -n "$NS_U" $fam route show "$1" proto bird) || return 1
	grep -q "via $2 " <<<"$r" || { echo "U's kernel route to $1: ${r:-none}"; return 1; }
}
