# SPDX-License-Identifier: BSD-2-Clause
# Shared by the adversarial scripts (sourced after tests/e2e/lib.sh): a
# public-mode gateway in namespaces, attached with `tspgw attach`.
#
#   C (client, attacker)  c0 192.0.2.2   ---  u0 192.0.2.1   G (gateway)
#   H (IPv6 host)         h0 2001:db8:2::2 --- d0 2001:db8:2::1
#
# Anonymous prefix 2001:db8:ffff::/64 (pubtsp), public: true, so any
# origin may send from its own embedded address without a TSP session.
# pgw_setup ALLOWED: ALLOWED is the allowed_special_ranges list body.

PGW_C="advc$$" PGW_G="advg$$" PGW_H="advh$$"
PGW_PIN="/sys/fs/bpf/tspgw-adv-$$"
PGW_CONF=""
CRAFT="/usr/bin/python3 tests/adversarial/craft.py"

pgw_config() {
	PGW_CONF="$E2E_TMP/gw.yaml"
	cat >"$PGW_CONF" <<EOC
interfaces: {ipv4: u0, ipv6: d0, xdp_mode: native, tunnel_device: tadv$$}
gateway: {ipv4: 192.0.2.1, ipv6: 2001:db8:2::1}
anonymous: {prefix: 2001:db8:ffff::/64, layout: pubtsp, public: true}
pools: {hosts: 2001:db8:100::/64}
data_plane: {pin_path: $PGW_PIN, max_tunnels: 64, allowed_special_ranges: [$1]}
EOC
}

pgw_setup() {
	e2e_netns_add "$PGW_C" "$PGW_G" "$PGW_H" || return 1
	e2e_register_pin "$PGW_PIN"
	e2e_veth "$PGW_C" c0 "$PGW_G" u0 || return 1
	e2e_veth "$PGW_H" h0 "$PGW_G" d0 || return 1
	ip -n "$PGW_C" addr add 192.0.2.2/24 dev c0 &&
		ip -n "$PGW_G" addr add 192.0.2.1/24 dev u0 &&
		ip -n "$PGW_G" addr add 2001:db8:2::1/64 dev d0 nodad &&
		ip -n "$PGW_H" addr add 2001:db8:2::2/64 dev h0 nodad &&
		ip -n "$PGW_H" route add 2001:db8:ffff::/64 via 2001:db8:2::1 || return 1
	# XDP_TX/REDIRECT into a veth needs a program on the peer.
	e2e_xdp_pass "$PGW_C" c0 build/xdp_pass.bpf.o && e2e_xdp_pass "$PGW_H" h0 build/xdp_pass.bpf.o || return 1
	pgw_config "$1"
	e2e_on_exit "e2e_ns $PGW_G $TSPGW -c $PGW_CONF detach >/dev/null 2>&1"
	pgw attach >"$E2E_TMP/attach.log" 2>&1 || { cat "$E2E_TMP/attach.log"; return 1; }
}

pgw() { e2e_ns "$PGW_G" timeout 20 "$TSPGW" -c "$PGW_CONF" "$@"; }

# pgw_counter NAME: the counter's current total.
pgw_counter() {
	pgw status --json | python3 -c 'import json,sys; print(int(json.load(sys.stdin)["counters"][sys.argv[1]]))' "$1"
}

# pgw_sniff NS IFACE SECONDS KIND OUTFILE: a background capture (craft.py sniff).
pgw_sniff() {
	e2e_bg "$1" "$5" $CRAFT sniff "$2" "$3" "$4"
	sleep 3 # let the sniffer start (scapy takes a while to load)
}
