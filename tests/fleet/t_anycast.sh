#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck disable=SC2317 # helpers are called through e2e_check
# shellcheck disable=SC2015 # "check && check || report failure" is meant
# Anonymous tunnels anycast (the Public TSP model): gateways A and B share
# one IPv4 address (192.0.2.1) and one anonymous /64. The upstream router
# sends the client's IPv4 traffic to A and the /64's IPv6 traffic to B, so
# a client whose tunnel A set up sends through A and receives through B,
# which has never heard of it: in public mode B encapsulates from the
# address alone (it embeds the client's IPv4 address and port), from the
# shared address, which the client's socket and its NAT accept.
#
#   client C c0 192.0.2.66/26 -- i0 192.0.2.65  NAT N (masquerade)  o0 203.0.113.2
#                                    -- r0 203.0.113.1  router U  ra4 198.51.100.1/29 -- u0 .2  A (192.0.2.1/32)
#                                                         ra6 2001:db8:a::1   -- d0 ::2
#                                                         rb4 198.51.100.9/29 -- u0 .10 B (192.0.2.1/32)
#                                                         rb6 2001:db8:b::1   -- d0 ::2
#   host H h0 2001:db8:2::2 -- rh 2001:db8:2::1
#   U routes 192.0.2.1/32 via A, 2001:db8:ffff::/64 via B.
#
# Exit 0 = all passed, 1 = failures, 77 = skipped.
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
# shellcheck source=tests/e2e/lib.sh
. "$ROOT/tests/e2e/lib.sh"

TSPGW=$BUILD/tspgw
TSPC=$BUILD/tspc
XDP_PASS=$BUILD/xdp_pass.bpf.o

e2e_require_root
e2e_require_tools ip ethtool nsenter nft ping python3 timeout
e2e_require_built all "$TSPGW" "$TSPC" "$XDP_PASS"
e2e_init
e2e_require_bpf "$XDP_PASS"

NS_C=tyc$$
NS_N=tyn$$
NS_U=tyu$$
NS_H=tyh$$
NS_A=tya$$
NS_B=tyb$$
T=$E2E_TMP
ANY=192.0.2.1
HOST6=2001:db8:2::2

# gw_config NAME PUBLIC: the two gateways differ only in name, pins, tunnel
# device and their own databases (anonymous tunnels need none shared).
gw_config() {
	cat >"$T/$1.yaml" <<EOF
interfaces: {ipv4: u0, ipv6: d0, xdp_mode: native, tunnel_device: ty$1$$}
gateway: {ipv4: $ANY, ipv6: 2001:db8:1::1, keepalive: 2001:db8:1::1, name: gw-$1}
anonymous: {prefix: 2001:db8:ffff::/64, layout: pubtsp, public: $2}
pools: {hosts: 2001:db8:100::/64}
data_plane: {pin_path: /sys/fs/bpf/tspgw-any-$1-$$, max_tunnels: 1024,
             allowed_special_ranges: [documentation]}
broker:
  auth: {mechanisms: [ANONYMOUS], sasldb: $T/sasldb2}
  database: $T/$1.sqlite
  keepalive: {default: 30, min: 1, max: 30, misses: 3}
EOF
}

ns_of() { if [ "$1" = a ]; then echo "$NS_A"; else echo "$NS_B"; fi; }
on() { e2e_ns "$(ns_of "$1")" timeout 20 "$TSPGW" -c "$T/$1.yaml" "${@:2}"; }
counter() {
	on "$1" status --json | python3 -c 'import json,sys; print(int(json.load(sys.stdin)["counters"][sys.argv[1]]))' "$2"
}

# --- network ------------------------------------------------------------------

e2e_netns_add "$NS_C" "$NS_N" "$NS_U" "$NS_H" "$NS_A" "$NS_B" || exit 1
for g in a b; do
	e2e_register_pin "/sys/fs/bpf/tspgw-any-$g-$$"
	e2e_on_exit "on $g detach >/dev/null 2>&1"
done
e2e_veth "$NS_C" c0 "$NS_N" i0 || exit 1
e2e_veth "$NS_N" o0 "$NS_U" r0 || exit 1
e2e_veth "$NS_H" h0 "$NS_U" rh || exit 1
e2e_veth "$NS_A" u0 "$NS_U" ra4 || exit 1
e2e_veth "$NS_A" d0 "$NS_U" ra6 || exit 1
e2e_veth "$NS_B" u0 "$NS_U" rb4 || exit 1
e2e_veth "$NS_B" d0 "$NS_U" rb6 || exit 1
ip -n "$NS_C" addr add 192.0.2.66/26 dev c0
ip -n "$NS_C" route add default via 192.0.2.65
ip -n "$NS_N" addr add 192.0.2.65/26 dev i0
ip -n "$NS_N" addr add 203.0.113.2/24 dev o0
ip -n "$NS_N" route add default via 203.0.113.1
e2e_ns "$NS_N" sysctl -qw net.ipv4.ip_forward=1
e2e_ns "$NS_N" nft -f - <<EOF || exit 1
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
# The anycast choice a BGP router would make: IPv4 to A, the /64 to B.
ip -n "$NS_U" route add $ANY/32 via 198.51.100.2
ip -n "$NS_U" -6 route add 2001:db8:ffff::/64 via 2001:db8:b::2
ip -n "$NS_U" -6 route add 2001:db8:1::1/128 via 2001:db8:a::2
e2e_ns "$NS_U" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
i=0
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
for d in r0 rh ra4 ra6 rb4 rb6; do e2e_xdp_pass "$NS_U" $d "$XDP_PASS" || exit 1; done
e2e_xdp_pass "$NS_N" o0 "$XDP_PASS" && e2e_xdp_pass "$NS_H" h0 "$XDP_PASS" || exit 1

# --- helpers ------------------------------------------------------------------

PID_A="" PID_B=""
start() {
	e2e_bg "$(ns_of "$1")" "$T/run.$1.$2.log" "$TSPGW" -c "$T/$1.yaml" run
	if [ "$1" = a ]; then PID_A=$E2E_BG_PID; else PID_B=$E2E_BG_PID; fi
}
serving() { e2e_wait_for 10 grep -q "serving TSP" "$T/run.$1.log" || { cat "$T/run.$1.log"; return 1; }; }
ping_host() { e2e_ns "$NS_C" ping -6 -c "$1" -i 0.2 -W 2 "$HOST6"; }

# --- public mode: out through A, back through B ---------------------------------

gw_config a true
gw_config b true
start a 1
start b 1
e2e_check "gateways A and B (public mode, one anycast address) serve TSP" serving a.1 || e2e_finish
e2e_check "  (B)" serving b.1 || e2e_finish

nsenter --net="/run/netns/$NS_C" -- "$TSPC" --server $ANY --local 0.0.0.0:42001 --once \
	--keepalive 5 >"$T/tspc.out" 2>"$T/tspc.err" </dev/null &
TSPC_PID=$!
e2e_register_pid "$TSPC_PID"
t_setup() {
	e2e_wait_for 15 grep -q '^TSP_SESSION=' "$T/tspc.out" || { cat "$T/tspc.err"; return 1; }
	local got
	got=$(grep '^TSP_CLIENT_ADDRESS_IPV6=' "$T/tspc.out" | cut -d= -f2)
	[[ "$got" == 2001:db8:ffff:0:cb00:7102:* ]] || {
		echo "address $got, want 2001:db8:ffff:0:cb00:7102:PORT:0 (the NAT's 203.0.113.2 embedded)"
		return 1
	}
}
e2e_check "tspc behind a NAT: its anonymous tunnel is set up through A, the address embeds the NAT's 203.0.113.2" t_setup

t_asymmetric() {
	local a0 b0 a1 b1 ad0 ad1
	a0=$(counter a encap) b0=$(counter b encap) ad0=$(counter a decap)
	ping_host 10 >"$T/ping.out" || { cat "$T/ping.out"; return 1; }
	a1=$(counter a encap) b1=$(counter b encap) ad1=$(counter a decap)
	echo "A decap +$((ad1 - ad0)), A encap +$((a1 - a0)), B encap +$((b1 - b0))"
	# Every echo answered; in XDP all but the first few, which wait for
	# neighbour resolution in the kernel (pass_no_neigh).
	grep -q " 10 received" "$T/ping.out" && [ $((ad1 - ad0)) -ge 8 ] &&
		[ $((b1 - b0)) -ge 8 ] && [ $((a1 - a0)) = 0 ]
}
e2e_check "pings reach the host out through A and come back through B, which has no tunnel for the client" \
	t_asymmetric
t_b_stateless() { [ "$(on b tunnel list --json)" = "[]" ]; }
e2e_check "  B holds no binding: its replies came from the address alone" t_b_stateless

# --- the same without public mode: B cannot deliver -------------------------------

{
	kill -TERM "$PID_B"
	e2e_wait_exit "$PID_B" 5
} 2>/dev/null
gw_config b false
start b 2
e2e_check "B restarted without public mode" serving b.2
t_dropped() {
	local d0 d1
	d0=$(counter b drop_no_tunnel)
	! ping_host 3 >/dev/null || { echo "pings still answered"; return 1; }
	d1=$(counter b drop_no_tunnel)
	echo "B drop_no_tunnel +$((d1 - d0))"
	[ $((d1 - d0)) -ge 3 ]
}
e2e_check "  then B drops the replies (drop_no_tunnel): the return path needed public mode" t_dropped

e2e_stop "$TSPC_PID" 5 2>/dev/null
for p in "$PID_A" "$PID_B"; do e2e_stop "$p" 5 2>/dev/null; done
e2e_check_no_leftovers
e2e_finish
