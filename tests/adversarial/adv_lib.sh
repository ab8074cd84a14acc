# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=bash
# The adversarial tests' network: source after tests/e2e/lib.sh and
# e2e_init, then adv_build CONF.
#
#   ns A (attacker, clients)          ns G (gateway)              ns V (victim, sink)
#   c0 192.0.2.2/25, 192.0.2.3   --   u0 192.0.2.1/25             
#      2001:db8:2::a..f/64               2001:db8:2::1/64
#      2001:db8:3::c/64                  2001:db8:3::1/64
#                                     w0 192.0.2.129/25     --    v0 192.0.2.130/25
#                                     198.51.100.0/24, 203.0.113.0/24 -> V
#
# The attacker forges sources in 198.51.100.0/24 and 203.0.113.0/24; the
# gateway's replies to them go to ns V, where the victim (198.51.100.7)
# lives and the rest is dropped. spoof.py capture on v0 counts them.
# Documentation addresses only.

ADV_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ADV_ROOT=$(cd "$ADV_DIR/../.." && pwd)
BUILD=${BUILD:-$ADV_ROOT/build}
TSPGW=$BUILD/tspgw
XDP_PASS=$BUILD/xdp_pass.bpf.o
SIM=$ADV_ROOT/tests/broker/gogoc_sim.py
SPOOF=$ADV_DIR/spoof.py
NS_A=ava$$
NS_G=avg$$
NS_V=avv$$
PIN=/sys/fs/bpf/tspgw-adv-$$
REALM=tspgw.example
VICTIM=198.51.100.7

adv_require() {
	e2e_require_root
	e2e_require_tools ip ethtool nsenter python3 saslpasswd2 timeout
	e2e_require_built all "$TSPGW" "$XDP_PASS"
	e2e_init
	e2e_require_bpf "$XDP_PASS"
}

# adv_config FILE [LIMIT_LINES]: the gateway's config; extra lines go
# under broker.limits (four spaces indented).
adv_config() {
	cat >"$1" <<EOF2
interfaces: {ipv4: u0, xdp_mode: native, tunnel_device: tav$$}
gateway: {ipv4: 192.0.2.1, ipv6: 2001:db8:2::1, keepalive: 2001:db8:2::1}
anonymous: {prefix: 2001:db8:ffff::/64, layout: pubtsp, public: false}
pools: {hosts: 2001:db8:100::/64, prefixes: 2001:db8:200::/40}
data_plane: {pin_path: $PIN, max_tunnels: 4096, allowed_special_ranges: [documentation]}
broker:
  auth:
    mechanisms: [ANONYMOUS, PLAIN, DIGEST-MD5]
    sasldb: $E2E_TMP/sasldb2
    realm: $REALM
    server_name: $REALM
    failures: 3
    failure_window: 60
  database: $E2E_TMP/assignments.sqlite
  dns_servers: [2001:db8::53]
  limits:
    tunnels_per_ipv4: 0
${2:-}
EOF2
}

adv_build() {
	local conf=$1 ns
	e2e_netns_add "$NS_A" "$NS_G" "$NS_V" || return 1
	e2e_register_pin "$PIN"
	e2e_on_exit "e2e_ns $NS_G $TSPGW -c $conf detach >/dev/null 2>&1"
	e2e_veth "$NS_A" c0 "$NS_G" u0 || return 1
	e2e_veth "$NS_G" w0 "$NS_V" v0 || return 1
	ip -n "$NS_A" addr add 192.0.2.2/25 dev c0
	ip -n "$NS_A" addr add 192.0.2.3/25 dev c0
	for a in a b c d e f; do ip -n "$NS_A" addr add "2001:db8:2::$a/64" dev c0 nodad; done
	ip -n "$NS_A" addr add 2001:db8:3::c/64 dev c0 nodad
	ip -n "$NS_G" addr add 192.0.2.1/25 dev u0
	ip -n "$NS_G" addr add 2001:db8:2::1/64 dev u0 nodad
	ip -n "$NS_G" addr add 2001:db8:3::1/64 dev u0 nodad
	ip -n "$NS_G" addr add 192.0.2.129/25 dev w0
	ip -n "$NS_V" addr add 192.0.2.130/25 dev v0
	ip -n "$NS_V" addr add "$VICTIM/32" dev v0
	ip -n "$NS_G" route add 198.51.100.0/24 via 192.0.2.130 dev w0
	ip -n "$NS_G" route add 203.0.113.0/24 via 192.0.2.130 dev w0
	# Forged sources arrive on u0 but route out of w0: no reverse-path
	# filter (as on a gateway with asymmetric routes).
	for ns in all default u0; do
		e2e_ns "$NS_G" sysctl -qw "net.ipv4.conf.$ns.rp_filter=0" || return 1
	done
	e2e_xdp_pass "$NS_A" c0 "$XDP_PASS" || return 1
	ip -n "$NS_A" neigh replace 192.0.2.1 lladdr "$(e2e_mac "$NS_G" u0)" dev c0 nud permanent
	for a in 192.0.2.2 192.0.2.3; do
		ip -n "$NS_G" neigh replace "$a" lladdr "$(e2e_mac "$NS_A" c0)" dev u0 nud permanent
	done
	ip -n "$NS_G" neigh replace 192.0.2.130 lladdr "$(e2e_mac "$NS_V" v0)" dev w0 nud permanent
	printf 'secret\n' | saslpasswd2 -p -f "$E2E_TMP/sasldb2" -u "$REALM" -c alice
}

# adv_start CONF LOG: tspgw run in ns G, waited for; PID in $ADV_GW.
adv_start() {
	e2e_bg "$NS_G" "$2" "$TSPGW" -c "$1" run
	ADV_GW=$E2E_BG_PID
	e2e_wait_for 15 grep -q "serving TSP" "$2" || {
		cat "$2"
		return 1
	}
}

# adv_capture_start NAME SECONDS: count what the gateway sends into ns V.
adv_capture_start() {
	rm -f "$E2E_TMP/$1.json" "$E2E_TMP/$1.stop" "$E2E_TMP/$1.ready"
	e2e_bg "$NS_V" "$E2E_TMP/$1.log" python3 "$SPOOF" capture --dev v0 --seconds "$2" \
		--stop "$E2E_TMP/$1.stop" --ready "$E2E_TMP/$1.ready" --out "$E2E_TMP/$1.json"
	e2e_wait_for 5 test -e "$E2E_TMP/$1.ready"
}

# adv_capture_stop NAME: end the capture (after a moment for stragglers).
adv_capture_stop() {
	sleep 0.5
	touch "$E2E_TMP/$1.stop"
	e2e_wait_for 10 test -s "$E2E_TMP/$1.json"
}

# adv_sim ARGS...: gogoc_sim from ns A; its JSON in $E2E_TMP/sim.json.
adv_sim() {
	e2e_ns "$NS_A" timeout 40 python3 "$SIM" --server-name "$REALM" "$@" \
		>"$E2E_TMP/sim.json" 2>"$E2E_TMP/sim.err"
	local rc=$?
	cat "$E2E_TMP/sim.json" "$E2E_TMP/sim.err"
	return $rc
}

# adv_json FILE EXPR: evaluate a Python expression over the JSON in FILE (j).
adv_json() {
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
