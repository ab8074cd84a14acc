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
# The layout: tests/fleet/anycast_topo.sh; U sends 192.0.2.1 to A and the
# anonymous /64 to B.
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

# shellcheck source=tests/fleet/anycast_topo.sh
. "$HERE/anycast_topo.sh"

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

anycast_topo_build || exit 1
# The anycast choice a BGP router would make: IPv4 to A, the /64 to B.
anycast_route b 2001:db8:ffff::/64

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
	# Warm up first (bounded): the first echoes after a setup wait for
	# neighbour resolution along the path (handed to the kernel, not
	# counted as XDP work); the counted run then shows the steady state.
	local try ok=0
	for try in 1 2 3 4 5; do ping_host 1 >/dev/null && { ok=1; break; }; done
	[ "$ok" = 1 ] || { echo "no echo answered in $try tries"; return 1; }
	ping_host 3 >/dev/null
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
