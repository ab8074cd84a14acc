# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=bash
# A small Internet in network namespaces, for the demo and the scenario
# tests. Source after tests/e2e/lib.sh and e2e_init; call topo_build.
#
#   IPv6 host        gateway                  "internet" router       public client
#   h0 2001:db8:2::2 d0 2001:db8:2::1         r1 198.51.100.1/24  --  p0 198.51.100.10
#                    u0 192.0.2.1/30  ------  r0 192.0.2.2/30
#                                             r2 203.0.113.1/24   --  NAT box: o0 203.0.113.2
#                                                                      (nftables masquerade)
#                                                                      i0 192.0.2.65/26
#                                                                         |
#                                                               client behind NAT: c0 192.0.2.66/26
#
# Documentation addresses only. Namespaces are named with the caller's PID
# so parallel runs do not collide; lib.sh deletes them on exit.

TOPO_NS_H=th$$   # IPv6 host
TOPO_NS_G=tg$$   # gateway
TOPO_NS_R=tr$$   # the Internet's router
TOPO_NS_P=tp$$   # client with a public IPv4 address
TOPO_NS_N=tn$$   # NAT box
TOPO_NS_C=tc$$   # client behind the NAT

topo_build() {
	local xdp_pass=$1
	e2e_netns_add "$TOPO_NS_H" "$TOPO_NS_G" "$TOPO_NS_R" "$TOPO_NS_P" "$TOPO_NS_N" "$TOPO_NS_C" || return 1
	e2e_veth "$TOPO_NS_G" d0 "$TOPO_NS_H" h0 || return 1
	e2e_veth "$TOPO_NS_G" u0 "$TOPO_NS_R" r0 || return 1
	e2e_veth "$TOPO_NS_R" r1 "$TOPO_NS_P" p0 || return 1
	e2e_veth "$TOPO_NS_R" r2 "$TOPO_NS_N" o0 || return 1
	e2e_veth "$TOPO_NS_N" i0 "$TOPO_NS_C" c0 || return 1

	ip -n "$TOPO_NS_H" addr add 2001:db8:2::2/64 dev h0 nodad
	ip -n "$TOPO_NS_H" -6 route add default via 2001:db8:2::1
	ip -n "$TOPO_NS_G" addr add 2001:db8:2::1/64 dev d0 nodad
	ip -n "$TOPO_NS_G" addr add 192.0.2.1/30 dev u0
	ip -n "$TOPO_NS_G" route add default via 192.0.2.2
	ip -n "$TOPO_NS_R" addr add 192.0.2.2/30 dev r0
	ip -n "$TOPO_NS_R" addr add 198.51.100.1/24 dev r1
	ip -n "$TOPO_NS_R" addr add 203.0.113.1/24 dev r2
	ip -n "$TOPO_NS_P" addr add 198.51.100.10/24 dev p0
	ip -n "$TOPO_NS_P" route add default via 198.51.100.1
	ip -n "$TOPO_NS_N" addr add 203.0.113.2/24 dev o0
	ip -n "$TOPO_NS_N" addr add 192.0.2.65/26 dev i0
	ip -n "$TOPO_NS_N" route add default via 203.0.113.1
	ip -n "$TOPO_NS_C" addr add 192.0.2.66/26 dev c0
	ip -n "$TOPO_NS_C" route add default via 192.0.2.65
	for ns in "$TOPO_NS_R" "$TOPO_NS_N"; do
		e2e_ns "$ns" sysctl -qw net.ipv4.ip_forward=1 || return 1
	done
	# The NAT: everything from inside leaves as 203.0.113.2.
	e2e_ns "$TOPO_NS_N" nft -f - <<-EOF || return 1
		table ip nat {
			chain post {
				type nat hook postrouting priority srcnat; policy accept;
				oifname "o0" masquerade
			}
		}
	EOF
	# XDP_TX/redirect into a veth delivers only if the peer runs XDP.
	e2e_xdp_pass "$TOPO_NS_R" r0 "$xdp_pass" || return 1
	e2e_xdp_pass "$TOPO_NS_H" h0 "$xdp_pass" || return 1
	# Fixed neighbours on the gateway's links, so XDP's fib lookups
	# succeed from the first packet.
	ip -n "$TOPO_NS_G" neigh replace 192.0.2.2 lladdr "$(e2e_mac "$TOPO_NS_R" r0)" dev u0 nud permanent
	ip -n "$TOPO_NS_R" neigh replace 192.0.2.1 lladdr "$(e2e_mac "$TOPO_NS_G" u0)" dev r0 nud permanent
	ip -n "$TOPO_NS_G" neigh replace 2001:db8:2::2 lladdr "$(e2e_mac "$TOPO_NS_H" h0)" dev d0 nud permanent
	ip -n "$TOPO_NS_H" neigh replace 2001:db8:2::1 lladdr "$(e2e_mac "$TOPO_NS_G" d0)" dev h0 nud permanent
}

# topo_config FILE PIN TUNDEV SASLDB DB: the root config.yaml's settings,
# adapted to this network.
topo_config() {
	cat >"$1" <<-EOF
		interfaces: {ipv4: u0, ipv6: d0, xdp_mode: native, tunnel_device: $3}
		gateway: {ipv4: 192.0.2.1, ipv6: 2001:db8:2::1, keepalive: 2001:db8:2::1}
		anonymous: {prefix: 2001:db8:ffff::/64, layout: pubtsp, public: false}
		pools: {hosts: 2001:db8:100::/64, prefixes: 2001:db8:200::/40}
		data_plane: {pin_path: $2, max_tunnels: 4096, allowed_special_ranges: [documentation]}
		broker:
		  auth: {mechanisms: [ANONYMOUS, DIGEST-MD5], sasldb: $4, realm: tspgw.example, server_name: 192.0.2.1}
		  database: $5
		  keepalive: {default: 5, min: 1, max: 30, misses: 3}
		  dns_servers: [2001:db8::53]
	EOF
}

# Helpers for gogoc-shaped sessions ($SIM: tests/broker/gogoc_sim.py) and
# their JSON results, shared by the scenarios and the container test
# (short6 and json_field: lib.sh).
# sim NS OUT ARGS...: a session from NS to the gateway, JSON into OUT.
sim() {
	local ns=$1 out=$2
	shift 2
	e2e_ns "$ns" timeout 60 python3 "$SIM" --server 192.0.2.1 "$@" >"$out" 2>"$out.err"
	local rc=$?
	cat "$out" "$out.err"
	return $rc
}
field() { json_field "$1" "$2"; }
expect() {
	local got
	got=$(field "$1" "$2")
	[ "$got" = "$3" ] || { echo "$2 = '$got', want '$3'"; return 1; }
}
