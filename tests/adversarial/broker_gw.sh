# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=bash
# A TSP gateway for the adversarial tests of the broker: `tspgw run` in a
# gateway namespace with users alice and bob, and a client side that is
# either one host (192.0.2.2 and 192.0.2.3 on c0) or, with BGW_NAT=1, a
# home network (198.51.100.2 and .3) behind a NAT whose public address is
# 192.0.2.2. Source it after tests/e2e/lib.sh and e2e_init.
#
#   BGW_NAT=0:  ns C: c0 192.0.2.2, .3  <->  ns G: u0 192.0.2.1, 2001:db8:2::1
#   BGW_NAT=1:  ns C: l1 198.51.100.2, .3 <-> ns N: l0 198.51.100.1 | w0 192.0.2.2
#               (nft masquerade) <-> ns G: u0 192.0.2.1
#
# bgw_setup writes $BGW_CONF with the `broker:` settings in $BGW_BROKER
# (YAML lines, indented two spaces) and starts the gateway; bgw_sim runs
# one gogoc-shaped session (tests/broker/gogoc_sim.py) from ns C, its JSON
# result in $BGW_T/last.json (bgw_field reads it).

BGW_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$BGW_ROOT/build}
TSPGW=$BUILD/tspgw
BGW_XDP_PASS=$BUILD/xdp_pass.bpf.o
BGW_SIM=$BGW_ROOT/tests/broker/gogoc_sim.py
BGW_REALM=tspgw.example
BGW_NAT=${BGW_NAT:-0}
BGW_T=$E2E_TMP # e2e_init first
# Set here, not in bgw_setup: e2e_check runs its command in a subshell.
BGW_NS_C=tac$$
BGW_NS_N=tan$$
BGW_NS_G=tag$$
BGW_PIN=/sys/fs/bpf/tspgw-adv-$$
BGW_CONF=$BGW_T/config.yaml
if [ "$BGW_NAT" = 1 ]; then
	BGW_PEER_NS=$BGW_NS_N BGW_PEER_DEV=w0
else
	BGW_PEER_NS=$BGW_NS_C BGW_PEER_DEV=c0
fi

bgw_require() {
	e2e_require_root
	e2e_require_tools ip ethtool nsenter python3 saslpasswd2 timeout "$@"
	e2e_require_built all "$TSPGW" "$BGW_XDP_PASS"
	e2e_require_bpf "$BGW_XDP_PASS"
}

bgw_config() {
	cat >"$BGW_CONF" <<CONF
interfaces: {ipv4: u0, ipv6: u0, xdp_mode: native, tunnel_device: tad$$}
gateway: {ipv4: 192.0.2.1, ipv6: 2001:db8:2::1, keepalive: 2001:db8:2::1}
anonymous: {prefix: 2001:db8:ffff::/64, layout: pubtsp, public: false}
pools:
  hosts: 2001:db8:100::/64
  prefixes: 2001:db8:200::/40
data_plane: {pin_path: $BGW_PIN, max_tunnels: 1024, allowed_special_ranges: [documentation]}
broker:
  database: $BGW_T/assignments.sqlite
  # misses: 0: no tunnel expires while a loaded machine runs the checks
  keepalive: {default: 30, min: 10, max: 60, misses: 0}
$BGW_BROKER
CONF
}

# bgw_setup: namespaces, links, users, config, gateway running. Call it
# from the test's own shell (not through e2e_check).
bgw_setup() {
	e2e_on_exit bgw_stop
	e2e_netns_add "$BGW_NS_C" "$BGW_NS_G" || return 1
	e2e_register_pin "$BGW_PIN"
	e2e_on_exit "e2e_ns $BGW_NS_G $TSPGW -c $BGW_CONF detach >/dev/null 2>&1"
	if [ "$BGW_NAT" = 1 ]; then
		e2e_netns_add "$BGW_NS_N" || return 1
		e2e_veth "$BGW_NS_C" l1 "$BGW_NS_N" l0 || return 1
		e2e_veth "$BGW_NS_N" w0 "$BGW_NS_G" u0 || return 1
		ip -n "$BGW_NS_C" addr add 198.51.100.2/24 dev l1
		ip -n "$BGW_NS_C" addr add 198.51.100.3/24 dev l1
		ip -n "$BGW_NS_C" route add default via 198.51.100.1
		ip -n "$BGW_NS_N" addr add 198.51.100.1/24 dev l0
		ip -n "$BGW_NS_N" addr add 192.0.2.2/24 dev w0
		e2e_ns "$BGW_NS_N" sysctl -qw net.ipv4.ip_forward=1 || return 1
		e2e_ns "$BGW_NS_N" nft -f - <<'NFT' || return 1
table ip nat {
	chain post {
		type nat hook postrouting priority srcnat;
		oifname "w0" masquerade
	}
}
NFT
		e2e_xdp_pass "$BGW_NS_N" w0 "$BGW_XDP_PASS"
	else
		e2e_veth "$BGW_NS_C" c0 "$BGW_NS_G" u0 || return 1
		ip -n "$BGW_NS_C" addr add 192.0.2.2/24 dev c0
		ip -n "$BGW_NS_C" addr add 192.0.2.3/24 dev c0
		e2e_xdp_pass "$BGW_NS_C" c0 "$BGW_XDP_PASS"
	fi
	ip -n "$BGW_NS_G" addr add 192.0.2.1/24 dev u0
	ip -n "$BGW_NS_G" addr add 2001:db8:2::1/64 dev u0 nodad
	local a
	for a in 192.0.2.2 192.0.2.3; do
		ip -n "$BGW_NS_G" neigh replace "$a" lladdr "$(e2e_mac "$BGW_PEER_NS" "$BGW_PEER_DEV")" \
			dev u0 nud permanent
	done
	printf 'secret\n' | saslpasswd2 -p -f "$BGW_T/sasldb2" -u "$BGW_REALM" -c alice || return 1
	printf 'hunter2\n' | saslpasswd2 -p -f "$BGW_T/sasldb2" -u "$BGW_REALM" -c bob || return 1
	bgw_config
	bgw_start
}

# bgw_start: run the gateway; its log is $BGW_T/run.log, its PID in
# $BGW_T/tspgw.pid (bgw_pid).
bgw_start() {
	e2e_bg "$BGW_NS_G" "$BGW_T/run.log" "$TSPGW" -c "$BGW_CONF" run
	echo "$E2E_BG_PID" >"$BGW_T/tspgw.pid"
	e2e_wait_for 10 grep -q "serving TSP" "$BGW_T/run.log" || {
		cat "$BGW_T/run.log"
		return 1
	}
}

bgw_pid() { cat "$BGW_T/tspgw.pid"; }

# Stop the gateway whose PID is in the file (also one started from an
# e2e_check subshell, which lib.sh's own registry does not see).
bgw_stop() {
	local pid
	pid=$(cat "$BGW_T/tspgw.pid" 2>/dev/null) || return 0
	[ -n "$pid" ] && e2e_stop "$pid" 3
	rm -f "$BGW_T/tspgw.pid"
}

# The broker settings every test shares: auth with a sasldb of alice and bob.
bgw_auth_yaml() {
	cat <<YAML
  auth:
    mechanisms: [ANONYMOUS, PLAIN, DIGEST-MD5]
    sasldb: $BGW_T/sasldb2
    realm: $BGW_REALM
    server_name: $BGW_REALM
YAML
}

# bgw_sim ARGS...: one gogoc-shaped session from ns C.
bgw_sim() {
	e2e_ns "$BGW_NS_C" timeout 30 python3 "$BGW_SIM" --server 192.0.2.1 \
		--server-name "$BGW_REALM" "$@" >"$BGW_T/last.json" 2>"$BGW_T/last.err"
	local rc=$?
	cat "$BGW_T/last.json" "$BGW_T/last.err"
	return $rc
}

# bgw_field NAME: a field of the last session's JSON ("" when absent).
bgw_field() {
	python3 -c 'import json,sys
try: v=json.load(open(sys.argv[1])).get(sys.argv[2])
except ValueError: v=None
print("" if v is None else v)' "$BGW_T/last.json" "$1"
}

# bgw_gw ARGS...: a tspgw command in the gateway namespace.
bgw_gw() { e2e_ns "$BGW_NS_G" timeout 20 "$TSPGW" -c "$BGW_CONF" "$@"; }

# bgw_tunnels: `tspgw tunnel list --json`.
bgw_tunnels() { bgw_gw tunnel list --json; }

# bgw_py NS SCRIPT: a Python snippet in a namespace, with gogoc_sim
# importable as g.
bgw_py() {
	local ns=$1
	shift
	e2e_ns "$ns" timeout 60 python3 -c "
import socket,struct,sys,time
sys.path.insert(0,'$BGW_ROOT/tests/broker')
import gogoc_sim as g
$1"
}
