# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=bash
# shellcheck disable=SC2034 # PID_A, PID_B, T, HOST6 are for the suites that source this
# Two gateways behind one upstream router, sharing an anycast IPv4 address,
# for the fleet suites (t_anycast.sh, t_failover.sh, t_move_bgp.sh). Source after
# tests/e2e/lib.sh and e2e_init, with TSPGW and XDP_PASS set; write the
# gateways' configs as $T/a.yaml and $T/b.yaml, then anycast_topo_build.
#
#   client C c0 192.0.2.66/26 -- i0 192.0.2.65  NAT N (masquerade)  o0 203.0.113.2
#                                    -- r0 203.0.113.1  router U
#   U ra4 198.51.100.1/29 -- u0 .2   A (192.0.2.1/32)   U ra6 2001:db8:a::1 -- d0 ::2 A
#   U rb4 198.51.100.9/29 -- u0 .10  B (192.0.2.1/32)   U rb6 2001:db8:b::1 -- d0 ::2 B
#   host H h0 2001:db8:2::2 -- rh 2001:db8:2::1 U
#
# U routes 192.0.2.1/32 and the keepalive address 2001:db8:1::1 via A;
# each suite adds the IPv6 routes that make its point (anycast_route).
# `anycast_topo_build bgp` leaves U without routes to the gateways' service
# addresses: BIRD brings them (tests/fleet/bgp_lib.sh).

NS_C=tyc$$
NS_N=tyn$$
NS_U=tyu$$
NS_H=tyh$$
NS_A=tya$$
NS_B=tyb$$
T=$E2E_TMP
ANY=192.0.2.1
HOST6=2001:db8:2::2
PID_A="" PID_B=""

ns_of() { if [ "$1" = a ]; then echo "$NS_A"; else echo "$NS_B"; fi; }
# on NAME ARGS...: a tspgw command with gateway NAME's config, in its namespace.
on() { e2e_ns "$(ns_of "$1")" timeout 20 "$TSPGW" -c "$T/$1.yaml" "${@:2}"; }
counter() {
	on "$1" status --json | python3 -c 'import json,sys; print(int(json.load(sys.stdin)["counters"][sys.argv[1]]))' "$2"
}

# start NAME TAG: `tspgw run` for gateway NAME (log run.NAME.TAG.log); PID
# in PID_A or PID_B.
start() {
	e2e_bg "$(ns_of "$1")" "$T/run.$1.$2.log" "$TSPGW" -c "$T/$1.yaml" run
	if [ "$1" = a ]; then PID_A=$E2E_BG_PID; else PID_B=$E2E_BG_PID; fi
}
# serving NAME.TAG: that daemon serves TSP (within 10 s).
serving() { e2e_wait_for 10 grep -q "serving TSP" "$T/run.$1.log" || { cat "$T/run.$1.log"; return 1; }; }
ping_host() { e2e_ns "$NS_C" ping -6 -c "$1" -i 0.2 -W 2 "$HOST6"; }
# anycast_route A|B PREFIX...: U sends these IPv6 prefixes to that gateway
# (what BGP would choose).
anycast_route() {
	local via=2001:db8:a::2 p
	[ "$1" = b ] && via=2001:db8:b::2
	for p in "${@:2}"; do ip -n "$NS_U" -6 route replace "$p" via "$via" || return 1; done
}

# shellcheck disable=SC2120 # the argument is optional
anycast_topo_build() {
	local g d i=0 by_hand=1
	[ "${1:-}" = bgp ] && by_hand=0
	e2e_netns_add "$NS_C" "$NS_N" "$NS_U" "$NS_H" "$NS_A" "$NS_B" || return 1
	for g in a b; do
		e2e_register_pin "/sys/fs/bpf/tspgw-any-$g-$$"
		e2e_on_exit "on $g detach >/dev/null 2>&1"
	done
	e2e_veth "$NS_C" c0 "$NS_N" i0 || return 1
	e2e_veth "$NS_N" o0 "$NS_U" r0 || return 1
	e2e_veth "$NS_H" h0 "$NS_U" rh || return 1
	e2e_veth "$NS_A" u0 "$NS_U" ra4 || return 1
	e2e_veth "$NS_A" d0 "$NS_U" ra6 || return 1
	e2e_veth "$NS_B" u0 "$NS_U" rb4 || return 1
	e2e_veth "$NS_B" d0 "$NS_U" rb6 || return 1
	ip -n "$NS_C" addr add 192.0.2.66/26 dev c0
	ip -n "$NS_C" route add default via 192.0.2.65
	ip -n "$NS_N" addr add 192.0.2.65/26 dev i0
	ip -n "$NS_N" addr add 203.0.113.2/24 dev o0
	ip -n "$NS_N" route add default via 203.0.113.1
	e2e_ns "$NS_N" sysctl -qw net.ipv4.ip_forward=1
	e2e_ns "$NS_N" nft -f - <<-EOF || return 1
	table ip nat {
		chain post {
			type nat hook postrouting priority srcnat; policy accept;
			oifname "o0" masquerade
		}
	}
	EOF
	ip -n "$NS_H" addr add $HOST6/64 dev h0 nodad
	ip -n "$NS_H" -6 route add default via 2001:db8:2::1
	ip -n "$NS_U" addr add 203.0.113.1/24 dev r0
	ip -n "$NS_U" addr add 2001:db8:2::1/64 dev rh nodad
	ip -n "$NS_U" addr add 198.51.100.1/29 dev ra4
	ip -n "$NS_U" addr add 198.51.100.9/29 dev rb4
	ip -n "$NS_U" addr add 2001:db8:a::1/64 dev ra6 nodad
	ip -n "$NS_U" addr add 2001:db8:b::1/64 dev rb6 nodad
	if [ $by_hand = 1 ]; then
		ip -n "$NS_U" route add $ANY/32 via 198.51.100.2
		ip -n "$NS_U" -6 route add 2001:db8:1::1/128 via 2001:db8:a::2
	fi
	e2e_ns "$NS_U" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	for g in "$NS_A" "$NS_B"; do
		ip -n "$g" addr add "198.51.100.$((2 + 8 * i))/29" dev u0
		ip -n "$g" addr add $ANY/32 dev u0
		ip -n "$g" addr add "2001:db8:$([ $i = 0 ] && echo a || echo b)::2/64" dev d0 nodad
		ip -n "$g" addr add 2001:db8:1::1/128 dev d0 nodad
		ip -n "$g" route add default via "198.51.100.$((1 + 8 * i))" src $ANY
		ip -n "$g" -6 route add default via "2001:db8:$([ $i = 0 ] && echo a || echo b)::1"
		e2e_ns "$g" sysctl -qw net.ipv6.conf.all.forwarding=1
		i=$((i + 1))
	done
	# Redirected frames reach a veth only when its peer runs XDP.
	for d in r0 rh ra4 ra6 rb4 rb6; do e2e_xdp_pass "$NS_U" $d "$XDP_PASS" || return 1; done
	e2e_xdp_pass "$NS_N" o0 "$XDP_PASS" && e2e_xdp_pass "$NS_H" h0 "$XDP_PASS" || return 1
}
