#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck disable=SC2317 # helpers are called through e2e_check
# shellcheck disable=SC2015 # "check && check || report failure" is meant: C runs when A or B fails
# Integration tests of the TSP client (build/tspc) against tspgw's broker:
# `tspgw run` in a gateway namespace, tspc in a client namespace, real
# tunnels over a TUN device, traffic to an IPv6 host behind the gateway.
#
#   ns cli: c0 192.0.2.2/24  <->  ns gw: u0 192.0.2.1/24, d0 2001:db8:2::1/64  <->  ns host: h0 2001:db8:2::2
#
# Covers: usage and failure exit codes, RUDP retransmission, version
# fallback and redirects (against a scripted fake broker), a hostile broker
# (hostile_broker.py: lying lengths, cut XML, garbage, DTDs, redirect loops,
# forged names), anonymous v6udpv4 over UDP (ping through the relay),
# DIGEST-MD5 with the same address after a keepalive-driven reconnect, PLAIN
# and SCRAM-SHA-256 over UDP and TCP, a router /56 with a hook script, v6v4
# (protocol 41) signalled over TCP with --route prefixes, anonymous
# reconnect to a new address, open files flat across reconnects, --once
# ending on a lost tunnel, and re-establishment after the client's IPv4
# address changes.
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
e2e_require_tools ip ethtool nsenter ping python3 saslpasswd2 timeout
e2e_require_built all "$TSPGW" "$TSPC" "$XDP_PASS"
e2e_init
e2e_require_bpf "$XDP_PASS"

NS_C=tcc$$
NS_G=tcg$$
NS_H=tch$$
PIN=/sys/fs/bpf/tspgw-client-$$
T=$E2E_TMP
CONF=$T/config.yaml
REALM=tspgw.example
GW=192.0.2.1
HOST6=2001:db8:2::2

# Keepalives every 2 s (the broker's maximum wins over tspc's 30), so a
# lost tunnel is noticed within about 3 x 5 s.
cat >"$CONF" <<EOF
interfaces: {ipv4: u0, ipv6: d0, xdp_mode: native, tunnel_device: tsc$$}
gateway: {ipv4: $GW, ipv6: 2001:db8:2::1, keepalive: 2001:db8:2::1}
anonymous: {prefix: 2001:db8:ffff::/64, layout: pubtsp, public: false}
pools:
  hosts: 2001:db8:100::/64
  prefixes: 2001:db8:200::/40
  prefix_length: {min: 48, max: 60, default: 56}
data_plane: {pin_path: $PIN, max_tunnels: 1024, allowed_special_ranges: [documentation]}
broker:
  auth:
    mechanisms: [ANONYMOUS, PLAIN, DIGEST-MD5, SCRAM-SHA-256]
    sasldb: $T/sasldb2
    realm: $REALM
    server_name: $REALM
    failures: 20
    failure_window: 60
  database: $T/assignments.sqlite
  keepalive: {default: 2, min: 1, max: 2, misses: 5}
  dns_servers: [2001:db8::53]
  dn_template: "%u.users.tspgw.example"
  limits:
    tunnels_per_ipv4: 64
    sessions_per_ipv4_per_minute: 500
    sessions_per_source: 64   # many tspc runs from one address; the cap is
                              # tested in tests/adversarial
    session_idle_timeout: 10
EOF

# --- helpers ------------------------------------------------------------------

# gw, start_gateway, gateway_serving, in_maps: tests/e2e/lib.sh
GW_NS=$NS_G
cli() { e2e_ns "$NS_C" "$@"; }

# tspc_fg NAME ARGS...: run tspc to completion (bounded); stdout in
# $T/NAME.out, stderr in $T/NAME.err; returns its exit status.
tspc_fg() {
	local name=$1
	shift
	cli timeout 40 "$TSPC" "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null
}

# tspc_bg NAME ARGS...: start tspc in the background (PID in $TSPC_PID,
# registered for cleanup). Run it in the main shell, not in e2e_check's
# subshell, so that it can be waited for.
tspc_bg() {
	local name=$1
	shift
	nsenter --net="/run/netns/$NS_C" -- "$TSPC" "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null &
	TSPC_PID=$!
	e2e_register_pid "$TSPC_PID"
}

# sessions NAME: how many parameter blocks tspc has printed.
sessions() { grep -c '^TSP_SESSION=' "$T/$1.out" 2>/dev/null || true; }

# wait_sessions NAME N SECONDS PID: until N blocks are out (gives up if
# tspc died).
wait_sessions() {
	local name=$1 n=$2 limit=$3 pid=$4 i
	for ((i = 0; i < limit * 10; i++)); do
		[ "$(sessions "$name")" -ge "$n" ] && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	[ "$(sessions "$name")" -ge "$n" ] || {
		echo "tspc printed $(sessions "$name") parameter block(s), wanted $n"
		tail -n 15 "$T/$name.err"
		return 1
	}
}

# param NAME KEY: KEY's value in the last block tspc printed.
param() { grep "^$2=" "$T/$1.out" | tail -n 1 | cut -d= -f2-; }
# param_at NAME KEY N: KEY's value in block N.
param_at() { grep "^$2=" "$T/$1.out" | sed -n "$3p" | cut -d= -f2-; }

# expect NAME KEY VALUE
expect() {
	local got
	got=$(param "$1" "$2")
	[ "$got" = "$3" ] || { echo "$2 = '$got', want '$3'"; return 1; }
}

ping_host() { cli ping -6 -c 3 -i 0.2 -W 2 "$HOST6"; }
tun_has() { cli ip -6 addr show dev tsp0 | grep "inet6 $1/128" >/dev/null; }
no_tun() { ! cli ip link show dev tsp0 >/dev/null 2>&1; }

# Stop tspc (SIGTERM); its exit status goes to $T/NAME.rc.
stop_tspc() {
	local rc=0
	e2e_stop "$2" 5 || rc=$?
	echo "$rc" >"$T/$1.rc"
}
rc_is() { [ "$(cat "$T/$1.rc")" = "$2" ] || { echo "exit status $(cat "$T/$1.rc"), want $2"; tail -n 5 "$T/$1.err"; return 1; }; }

# The anonymous (pubtsp) address embeds the IPv4 address and the port.
anon_addr() {
	printf '2001:db8:ffff:0:c000:%x:%x:0' $((0x0200 + ${1##*.})) "$2"
}

# --- network ------------------------------------------------------------------

e2e_netns_add "$NS_C" "$NS_G" "$NS_H" || exit 1
e2e_register_pin "$PIN"
e2e_on_exit "e2e_ns $NS_G $TSPGW -c $CONF detach >/dev/null 2>&1"
e2e_veth "$NS_C" c0 "$NS_G" u0 || exit 1
e2e_veth "$NS_G" d0 "$NS_H" h0 || exit 1
ip -n "$NS_C" addr add 192.0.2.2/24 dev c0
ip -n "$NS_G" addr add "$GW"/24 dev u0
ip -n "$NS_G" addr add 2001:db8:2::1/64 dev d0 nodad
ip -n "$NS_H" addr add $HOST6/64 dev h0 nodad
ip -n "$NS_H" -6 route add default via 2001:db8:2::1
e2e_xdp_pass "$NS_C" c0 "$XDP_PASS"
e2e_xdp_pass "$NS_H" h0 "$XDP_PASS"
for a in 192.0.2.2 192.0.2.3; do
	ip -n "$NS_G" neigh replace "$a" lladdr "$(e2e_mac "$NS_C" c0)" dev u0 nud permanent
done
ip -n "$NS_C" neigh replace "$GW" lladdr "$(e2e_mac "$NS_G" u0)" dev c0 nud permanent
ip -n "$NS_G" neigh replace $HOST6 lladdr "$(e2e_mac "$NS_H" h0)" dev d0 nud permanent
ip -n "$NS_H" neigh replace 2001:db8:2::1 lladdr "$(e2e_mac "$NS_G" d0)" dev h0 nud permanent
printf 'secret\n' | saslpasswd2 -p -f "$T/sasldb2" -u "$REALM" -c alice
printf 'hunter2\n' | saslpasswd2 -p -f "$T/sasldb2" -u "$REALM" -c bob

start_gateway 1
e2e_check "tspgw run starts and serves TSP" gateway_serving 1 || e2e_finish

# --- usage and failures ----------------------------------------------------------

usage_errors() {
	local rc
	cli "$TSPC" >/dev/null 2>"$T/u.err"; rc=$?
	[ "$rc" = 2 ] && grep -q "no server" "$T/u.err" || { echo "no args: $rc"; cat "$T/u.err"; return 1; }
	cli "$TSPC" --bogus >/dev/null 2>&1; rc=$?
	[ "$rc" = 2 ] || { echo "--bogus: $rc"; return 1; }
	cli "$TSPC" --server "$GW" --mode v6udpv4 --transport tcp >/dev/null 2>&1; rc=$?
	[ "$rc" = 2 ] || { echo "v6udpv4 over tcp: $rc"; return 1; }
	cli "$TSPC" --server "$GW" --hook "$T/no-such-hook" >/dev/null 2>"$T/u.err"; rc=$?
	[ "$rc" = 2 ] && grep -q "hook .*no-such-hook cannot be run" "$T/u.err" || { echo "missing hook: $rc"; cat "$T/u.err"; return 1; }
	cli "$TSPC" --help | grep "Exit codes" >/dev/null
}
e2e_check "usage errors exit 2; --help documents the exit codes" usage_errors

refused_port() {
	local rc=0
	tspc_fg refused --print-only --server "$GW":3999 || rc=$?
	[ "$rc" = 5 ] && grep -q "connection refused" "$T/refused.err" || { echo "rc=$rc"; cat "$T/refused.err"; return 1; }
}
e2e_check "no broker on the port: exit 5 with 'connection refused'" refused_port

wrong_password() {
	local rc=0
	tspc_fg wrongpw --print-only --server "$GW" --user alice --password nope --auth digest-md5 || rc=$?
	[ "$rc" = 3 ] && grep -q "300" "$T/wrongpw.err" || { echo "rc=$rc"; cat "$T/wrongpw.err"; return 1; }
}
e2e_check "wrong DIGEST-MD5 password: exit 3 (300)" wrong_password

bad_prefix() {
	local rc=0
	tspc_fg badprefix --print-only --server "$GW" --user bob --password hunter2 --router --prefix-len 40 || rc=$?
	[ "$rc" = 4 ] && grep -q "507" "$T/badprefix.err" || { echo "rc=$rc"; cat "$T/badprefix.err"; return 1; }
}
e2e_check "prefix length out of the broker's bounds: exit 4, code 507 printed" bad_prefix

print_only() {
	tspc_fg printonly --print-only --server "$GW" || { cat "$T/printonly.err"; return 1; }
	expect printonly TSP_TUNNEL_MODE v6udpv4 && expect printonly TSP_AUTH_METHOD ANONYMOUS &&
		expect printonly TSP_VERSION 2.0.2 && expect printonly TSP_KEEPALIVE_INTERVAL 2 || return 1
	expect printonly TSP_CLIENT_ADDRESS_IPV6 "$(anon_addr 192.0.2.2 "$(param printonly TSP_LOCAL_PORT)")" || return 1
	no_tun || { echo "--print-only created a TUN"; return 1; }
}
e2e_check "--print-only negotiates, prints the parameters, configures nothing" print_only

anyv4() {
	tspc_fg any1 --print-only --server "$GW" --mode v6anyv4 || return 1
	expect any1 TSP_TUNNEL_MODE v6v4 || return 1
	# Claiming another address than the broker sees looks like a NAT.
	tspc_fg any2 --print-only --server "$GW" --mode v6anyv4 --client-v4 198.51.100.7 || return 1
	expect any2 TSP_TUNNEL_MODE v6udpv4
}
e2e_check "v6anyv4: v6v4 without NAT, v6udpv4 behind one" anyv4

# A scripted broker on port 3700: it drops the first VERSION=2.0.2 datagram
# (tspc must retransmit it with the same sequence), answers 2.0.2 with 302
# (tspc must retry 2.0.1 in a new session) and 2.0.1 with a 1302 redirect
# to the real broker on 3653. It logs "PORT SEQ PAYLOAD" per datagram.
cat >"$T/fake.py" <<'EOF'
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("192.0.2.1", 3700))
log = open(sys.argv[1], "a", buffering=1)
seen = set()
while True:
    d, a = s.recvfrom(65536)
    if len(d) < 8:
        continue
    seq = struct.unpack("!I", d[:4])[0]
    p = d[8:]
    log.write("%d %08x %r\n" % (a[1], seq, p))
    if p.startswith(b"VERSION=2.0.2"):
        if (a, seq) not in seen:
            seen.add((a, seq))
            continue
        r = b"302 Unsupported client version\r\n"
    elif p.startswith(b"VERSION="):
        r = (b"1302 Unsupported client version\r\n<tunnel action=\"list\" type=\"broker\">"
             b"<broker><address type=\"ipv4\">192.0.2.1</address></broker></tunnel>\r\n")
    else:
        r = b""
    s.sendto(d[:8] + r, a)
EOF
e2e_bg "$NS_G" "$T/fake.py.log" python3 "$T/fake.py" "$T/fake.log"
fake_listening() { [ -n "$(e2e_ns "$NS_G" ss -Hlun 'sport = :3700')" ]; }
e2e_wait_for 5 fake_listening
fallback_redirect() {
	local ports
	tspc_fg fake --print-only --server "$GW":3700 -v || { tail -n 20 "$T/fake.err" "$T/fake.out"; return 1; }
	cat "$T/fake.log"
	# the first try and its retransmission: same port, same sequence
	[ "$(grep -c "VERSION=2.0.2" "$T/fake.log")" = 2 ] || { echo "no retransmission"; return 1; }
	[ "$(grep "VERSION=2.0.2" "$T/fake.log" | cut -d' ' -f1,2 | sort -u | wc -l)" = 1 ] || return 1
	grep "VERSION=2.0.2" "$T/fake.log" | head -n 1 | grep " f00000f0 " >/dev/null ||
		{ echo "first sequence not 0xF00000F0"; return 1; }
	# 2.0.1 in a new session: another source port, the sequence from the start
	ports=$(grep -E "VERSION=2.0.[12]" "$T/fake.log" | cut -d' ' -f1 | sort -u | wc -l)
	[ "$ports" = 2 ] || { echo "2.0.1 was not sent from a new socket"; return 1; }
	grep "VERSION=2.0.1" "$T/fake.log" | grep " f00000f0 " >/dev/null || return 1
	expect fake TSP_BROKER 192.0.2.1 && expect fake TSP_VERSION 2.0.2 && grep -q "redirected" "$T/fake.err"
}
e2e_check "RUDP retransmits with the same sequence; 302 falls back in a new session; 1302 redirects" fallback_redirect

# --- a misbehaving broker -----------------------------------------------------------

# hostile_broker.py serves one misbehaviour per port, 3710-3719, over UDP
# (v6udpv4) and TCP (v6v4): tspc must end with its exit code and a clear
# one-line message, within its timeouts, whatever comes back.
e2e_bg "$NS_G" "$T/hostile.log" python3 "$HERE/hostile_broker.py" 192.0.2.1 3710
e2e_wait_for 5 grep -q ready "$T/hostile.log"
# PORT_OFFSET UDP_RC UDP_MESSAGE TCP_RC TCP_MESSAGE
HOSTILE_CASES=(
	"0 1 Content-length_that_is_not_a_number 1 malformed_Content-length"
	"1 1 shorter_than_its_Content-length 5 reply_stopped_after"
	"2 1 not_well-formed 1 not_well-formed"
	"3 1 is_not_TSP 1 is_not_TSP"
	"4 1 carries_a_DTD 1 carries_a_DTD"
	"5 1 IPv4_address 1 IPv4_address"
	"6 1 answered_VERSION_with_something 1 answered_VERSION_with_something"
	"7 1 more_than_5_redirects 1 more_than_5_redirects"
)
hostile_one() {
	local off=$1 mode=$2 want=$3 msg=${4//_/ } name="hostile-$1-$2" rc=0
	tspc_fg "$name" --print-only --server "$GW:$((3710 + off))" --mode "$mode" --timeout 1 || rc=$?
	[ "$rc" = "$want" ] && grep -q "error: .*$msg" "$T/$name.err" ||
		{ echo "port $((3710 + off)) over $mode: exit $rc, want $want and '$msg'"; cat -v "$T/$name.err"; return 1; }
	# no terminal control characters from the broker, one line per message
	! LC_ALL=C grep -q '[[:cntrl:]]' "$T/$name.err" || { echo "$name: control characters"; cat -v "$T/$name.err"; return 1; }
}
hostile() {
	local c off urc umsg trc tmsg fails=0
	for c in "${HOSTILE_CASES[@]}"; do
		read -r off urc umsg trc tmsg <<<"$c"
		hostile_one "$off" v6udpv4 "$urc" "$umsg" || fails=1
		hostile_one "$off" v6v4 "$trc" "$tmsg" || fails=1
	done
	return $fails
}
e2e_check "a hostile broker (huge or lying Content-length, cut XML, garbage, DTD, bad addresses, redirect loop): exit code and a clean message" hostile
forged_dn() {
	local mode
	for mode in v6udpv4 v6v4; do
		tspc_fg "forged-$mode" --print-only --server "$GW:3718" --mode "$mode" --timeout 1 ||
			{ cat "$T/forged-$mode.err"; return 1; }
		[ "$(grep -c '^TSP_PREFIX=' "$T/forged-$mode.out")" = 1 ] && expect "forged-$mode" TSP_PREFIX "" &&
			expect "forged-$mode" TSP_CLIENT_DNS_NAME "" || { cat "$T/forged-$mode.out"; return 1; }
	done
}
e2e_check "  a client name carrying a newline cannot add a line to the parameters" forged_dn
bad_redirect_entry() {
	tspc_fg badlist --print-only --server "$GW:3719" --timeout 1 || { cat "$T/badlist.err"; return 1; }
	grep -q "is not HOST\[:PORT\]; trying the next broker" "$T/badlist.err" && expect badlist TSP_BROKER 192.0.2.1 ||
		{ cat "$T/badlist.err"; return 1; }
}
e2e_check "  a redirect list entry that is no host name is skipped for the next one" bad_redirect_entry

# --- anonymous v6udpv4 ---------------------------------------------------------------

tspc_bg anon --server "$GW" --once
ANON_PID=$TSPC_PID
anon_up() {
	wait_sessions anon 1 15 "$ANON_PID" || return 1
	expect anon TSP_TUNNEL_MODE v6udpv4 && expect anon TSP_TRANSPORT udp &&
		expect anon TSP_CLIENT_ADDRESS_IPV4 192.0.2.2 || return 1
	local a
	a=$(anon_addr 192.0.2.2 "$(param anon TSP_LOCAL_PORT)")
	expect anon TSP_CLIENT_ADDRESS_IPV6 "$a" && tun_has "$a" && in_maps "$a"
}
e2e_check "anonymous v6udpv4 over UDP: address embeds 192.0.2.2 and the port, on tsp0" anon_up
anon_ping() {
	ping_host || return 1
	cli ip -6 route show default | grep "dev tsp0" >/dev/null || { echo "no default route via tsp0"; return 1; }
	cli ip link show dev tsp0 | grep "mtu 1280" >/dev/null
}
e2e_check "  ping $HOST6 through the relay (default route and MTU 1280 on tsp0)" anon_ping
# Keepalives go every 2 s; let a few go out, then count the answers tspc
# saw (its closing line, at SIGTERM).
sleep 5
stop_tspc anon "$ANON_PID"
e2e_check "  SIGTERM: exit 0 and tsp0 is gone" bash -c "[ \"\$(cat $T/anon.rc)\" = 0 ] && ! nsenter --net=/run/netns/$NS_C ip link show dev tsp0 2>/dev/null"
keepalives_answered() {
	local line sent answered
	line=$(grep -o "keepalives [0-9]* sent, [0-9]* answered" "$T/anon.err") ||
		{ echo "no keepalive count"; tail -n 5 "$T/anon.err"; return 1; }
	echo "$line"
	read -r _ sent _ answered _ <<<"$line"
	sent=${sent%,}
	# The last one may still have been on its way.
	[ "$sent" -ge 2 ] && [ "$answered" -ge $((sent - 1)) ] && ! grep -q "unanswered" "$T/anon.err"
}
e2e_check "  keepalives are answered: tspc counted an answer to each (but the last)" keepalives_answered

# --- DIGEST-MD5 host: same address across a keepalive-driven reconnect -------------

printf 'secret\n' >"$T/alice.pw"
tspc_bg alice --server "$GW" --user alice --password-file "$T/alice.pw" --auth digest-md5
ALICE_PID=$TSPC_PID
alice_up() {
	wait_sessions alice 1 15 "$ALICE_PID" || return 1
	expect alice TSP_AUTH_METHOD DIGEST-MD5 && expect alice TSP_CLIENT_DNS_NAME alice.users.tspgw.example || return 1
	param alice TSP_CLIENT_ADDRESS_IPV6 | grep '^2001:db8:100::' >/dev/null || { echo "not from the host pool"; return 1; }
	ping_host
}
e2e_check "DIGEST-MD5 host: address from the pool, ping through the tunnel" alice_up
alice_reconnect() {
	local port addr
	port=$(param alice TSP_LOCAL_PORT)
	addr=$(param alice TSP_CLIENT_ADDRESS_IPV6)
	gw tunnel del --type v6udpv4 --remote 192.0.2.2:"$port" || return 1
	wait_sessions alice 2 45 "$ALICE_PID" || return 1
	grep -q "keepalives in a row unanswered" "$T/alice.err" || { echo "not keepalive-driven"; return 1; }
	[ "$(param alice TSP_LOCAL_PORT)" != "$port" ] || { echo "same source port"; return 1; }
	expect alice TSP_CLIENT_ADDRESS_IPV6 "$addr" && expect alice TSP_SESSION 2 || return 1
	tun_has "$addr" && ping_host
}
e2e_check "  gateway tunnel deleted: keepalives miss, tspc re-establishes with the same address" alice_reconnect
stop_tspc alice "$ALICE_PID"
e2e_check "  SIGTERM: exit 0" rc_is alice 0

# Every password mechanism, over both transports (v6v4 is signalled over
# TCP), logs alice in to the address she had with DIGEST-MD5.
sasl_mechanisms() {
	local addr m mode rc
	addr=$(param alice TSP_CLIENT_ADDRESS_IPV6)
	for m in PLAIN SCRAM-SHA-256; do
		for mode in v6udpv4 v6v4; do
			tspc_fg "mech-$m-$mode" --print-only --server "$GW" --user alice --password secret \
				--auth "$m" --mode "$mode" || { cat "$T/mech-$m-$mode.err"; return 1; }
			expect "mech-$m-$mode" TSP_AUTH_METHOD "$m" && expect "mech-$m-$mode" TSP_TUNNEL_MODE "$mode" &&
				expect "mech-$m-$mode" TSP_CLIENT_ADDRESS_IPV6 "$addr" || return 1
		done
	done
	# with no --auth, the strongest offered
	tspc_fg mech-any --print-only --server "$GW" --user alice --password secret || return 1
	expect mech-any TSP_AUTH_METHOD SCRAM-SHA-256 || return 1
	for m in PLAIN SCRAM-SHA-256; do
		rc=0
		tspc_fg "mech-$m-bad" --print-only --server "$GW" --user alice --password wrong --auth "$m" || rc=$?
		[ "$rc" = 3 ] && grep -q "$m authentication failed (300" "$T/mech-$m-bad.err" ||
			{ echo "$m, wrong password: rc=$rc"; cat "$T/mech-$m-bad.err"; return 1; }
	done
}
e2e_check "PLAIN and SCRAM-SHA-256 over UDP and TCP: alice's address; a wrong password exits 3" sasl_mechanisms

# --- router with a /56 and a hook ------------------------------------------------------

cat >"$T/hook.sh" <<EOF
#!/bin/sh
env | grep '^TSP_' | sort >"$T/hook.\$TSP_OPERATION"
EOF
chmod +x "$T/hook.sh"
tspc_bg bob --server "$GW" --user bob --password hunter2 --router --prefix-len 56 --hook "$T/hook.sh" --once
BOB_PID=$TSPC_PID
bob_up() {
	wait_sessions bob 1 15 "$BOB_PID" || return 1
	expect bob TSP_HOST_TYPE router && expect bob TSP_PREFIXLEN 56 || return 1
	param bob TSP_PREFIX | grep -E '^2001:db8:2[0-9a-f]{2}:[0-9a-f]*00::$|^2001:db8:2[0-9a-f]{2}::$' >/dev/null ||
		{ echo "prefix $(param bob TSP_PREFIX) not a /56 from 2001:db8:200::/40"; return 1; }
	grep -q "delegated prefix $(param bob TSP_PREFIX)/56" "$T/bob.err"
}
e2e_check "router: a /56 delegated, printed on stdout and stderr" bob_up
bob_hook() {
	local f=$T/hook.TSP_TUNNEL_CREATION
	e2e_wait_for 5 test -s "$f" || { echo "hook did not run"; return 1; }
	grep -qx "TSP_PREFIX=$(param bob TSP_PREFIX)" "$f" && grep -qx "TSP_PREFIXLEN=56" "$f" &&
		grep -qx "TSP_CLIENT_ADDRESS_IPV6=$(param bob TSP_CLIENT_ADDRESS_IPV6)" "$f" &&
		grep -qx "TSP_SERVER_ADDRESS_IPV4=$GW" "$f" && grep -qx "TSP_TUNNEL_INTERFACE=tsp0" "$f" &&
		grep -qx "TSP_TUNNEL_MODE=v6udpv4" "$f" && grep -qx "TSP_OPERATION=TSP_TUNNEL_CREATION" "$f" ||
		{ cat "$f"; return 1; }
}
e2e_check "  the hook ran with the tunnel parameters in its environment" bob_hook
bob_prefix_ping() {
	# A host of the delegated prefix (here on the client's lo) reaches
	# the IPv6 host through the tunnel.
	local a
	a="$(param bob TSP_PREFIX)1"
	cli ip -6 addr add "$a/128" dev lo nodad || return 1
	cli ping -6 -c 3 -i 0.2 -W 2 -I "$a" "$HOST6"
}
e2e_check "  an address of the delegated prefix reaches $HOST6" bob_prefix_ping
stop_tspc bob "$BOB_PID"
e2e_check "  SIGTERM: exit 0 and the hook runs for teardown" bash -c \
	"[ \"\$(cat $T/bob.rc)\" = 0 ] && grep -qx TSP_OPERATION=TSP_TUNNEL_TEARDOWN $T/hook.TSP_TUNNEL_TEARDOWN"

# --- v6v4 over TCP ---------------------------------------------------------------------------

tspc_bg v6v4 --server "$GW" --mode v6v4 --once --no-default-route --route 2001:db8:2::/64 \
	--route 2001:db8:3:1::5/48
V6V4_PID=$TSPC_PID
v6v4_up() {
	wait_sessions v6v4 1 15 "$V6V4_PID" || return 1
	expect v6v4 TSP_TUNNEL_MODE v6v4 && expect v6v4 TSP_TRANSPORT tcp &&
		expect v6v4 TSP_CLIENT_ADDRESS_IPV6 2001:db8:ffff:0:c000:202:: || return 1
	ping_host
}
e2e_check "v6v4 signalled over TCP: protocol 41 over a raw socket, ping through it" v6v4_up
v6v4_routes() {
	cli ip -6 route show dev tsp0 >"$T/routes"
	grep -q "^2001:db8:2::/64 " "$T/routes" && grep -q "^2001:db8:3::/48 " "$T/routes" &&
		! cli ip -6 route show default | grep -q "dev tsp0" || { cat "$T/routes"; return 1; }
}
e2e_check "  --route: the given prefixes (host bits cleared) and no default route on tsp0" v6v4_routes
stop_tspc v6v4 "$V6V4_PID"
e2e_check "  SIGTERM: exit 0" rc_is v6v4 0

# --- anonymous keepalive-driven reconnect: a new port, a new address ------------------------

tspc_bg anon2 --server "$GW"
ANON2_PID=$TSPC_PID
anon_reconnect() {
	local port old new
	wait_sessions anon2 1 15 "$ANON2_PID" || return 1
	port=$(param anon2 TSP_LOCAL_PORT)
	old=$(param anon2 TSP_CLIENT_ADDRESS_IPV6)
	gw tunnel del --type v6udpv4 --remote 192.0.2.2:"$port" || return 1
	wait_sessions anon2 2 45 "$ANON2_PID" || return 1
	new=$(param anon2 TSP_CLIENT_ADDRESS_IPV6)
	[ "$new" = "$(anon_addr 192.0.2.2 "$(param anon2 TSP_LOCAL_PORT)")" ] || { echo "new address $new"; return 1; }
	[ "$new" != "$old" ] || { echo "address did not change"; return 1; }
	tun_has "$new" && ! tun_has "$old" || { echo "tsp0 has the wrong address"; cli ip -6 addr show dev tsp0; return 1; }
	ping_host
}
e2e_check "anonymous: after the gateway drops the tunnel, a new session moves tsp0 to the new address" anon_reconnect

# SIGHUP asks for a new session without waiting for keepalives.
sighup() {
	kill -HUP "$ANON2_PID"
	wait_sessions anon2 3 15 "$ANON2_PID" && grep -q "SIGHUP" "$T/anon2.err" && ping_host
}
e2e_check "  SIGHUP re-establishes at once" sighup
# Sockets are replaced on every re-establishment: none may pile up.
fds() { find "/proc/$ANON2_PID/fd" -mindepth 1 | wc -l; }
fds_flat() {
	local before after n=3 i
	before=$(fds)
	for ((i = 1; i <= n; i++)); do
		kill -HUP "$ANON2_PID"
		wait_sessions anon2 $((3 + i)) 15 "$ANON2_PID" || return 1
	done
	after=$(fds)
	[ "$after" = "$before" ] || { echo "$before open files before $n reconnects, $after after"; ls -l "/proc/$ANON2_PID/fd"; return 1; }
	ping_host
}
e2e_check "  three more re-establishments: the number of open files stays the same" fds_flat

# The client's IPv4 address changes: 192.0.2.2 goes, 192.0.2.3 comes.
addr_change() {
	cli ip addr del 192.0.2.2/24 dev c0 || return 1
	sleep 2
	cli ip addr add 192.0.2.3/24 dev c0 || return 1
	cli ip neigh replace "$GW" lladdr "$(e2e_mac "$NS_G" u0)" dev c0 nud permanent
	wait_sessions anon2 7 45 "$ANON2_PID" || return 1
	grep -Eq "local address 192.0.2.2 is gone|source address towards the broker changed" "$T/anon2.err" ||
		{ echo "not re-established for the address change"; return 1; }
	expect anon2 TSP_CLIENT_ADDRESS_IPV4 192.0.2.3 && expect anon2 TSP_LOCAL_ADDRESS_IPV4 192.0.2.3 || return 1
	param anon2 TSP_CLIENT_ADDRESS_IPV6 | grep ':c000:203:' >/dev/null || return 1
	ping_host
}
e2e_check "  the local IPv4 address changes: tspc notices and re-establishes from 192.0.2.3" addr_change
stop_tspc anon2 "$ANON2_PID"
e2e_check "  SIGTERM: exit 0" rc_is anon2 0

# --- --once ends on a lost tunnel ---------------------------------------------------------

tspc_bg once --server "$GW" --once
ONCE_PID=$TSPC_PID
once_lost() {
	local rc=0
	wait_sessions once 1 15 "$ONCE_PID" || return 1
	gw tunnel del --type v6udpv4 --remote 192.0.2.3:"$(param once TSP_LOCAL_PORT)" || return 1
	e2e_wait_exit "$ONCE_PID" 40 || rc=$?
	echo "$rc" >"$T/once.rc"
}
once_lost
e2e_check "--once: a lost tunnel ends tspc with exit 5, tsp0 removed" bash -c \
	"[ \"\$(cat $T/once.rc)\" = 5 ] && grep -q 'tunnel lost' $T/once.err && ! nsenter --net=/run/netns/$NS_C ip link show dev tsp0 2>/dev/null"

grep -h "tunnel \(created\|moved\|replaced\)" "$T/run.1.log" | head -20 | sed 's/^/# /'
stop_gateway TERM >/dev/null 2>&1
e2e_check_no_leftovers
e2e_finish
