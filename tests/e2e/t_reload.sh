#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck disable=SC2317 # helpers are called through e2e_check
# Reload without drops: `tspgw run` reads config.yaml again on SIGHUP and
# `tspgw reload` while tunnels carry traffic.
#
#   ns cli: c0 192.0.2.2, 192.0.2.3, 192.0.2.4  <->  ns gw: u0 192.0.2.1, d0 2001:db8:2::1  <->  ns host: h0 2001:db8:2::2, ::3
#
# Two anonymous tspc tunnels (from 192.0.2.2 and 192.0.2.3, each routing
# one of the host's addresses) are pinged every 10 ms while the gateway
# reloads ten times (limits, DNS servers, log level, keepalive bounds, a
# host pool grown and shrunk back, a restart-only key): none may be lost.
# Then: a DIGEST-MD5 session paused between challenge and answer completes
# after a reload withdraws DIGEST-MD5, which new sessions no longer get; a
# lowered broker.limits.max_tunnels refuses the next setup (301); an
# invalid file is refused with its FILE:LINE:COL and the old configuration
# keeps serving; a pool that would leave out a live tunnel's address is
# refused; a restart-only change is logged as such.
#
# Exit 0 = all passed, 1 = failures, 77 = skipped.
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
# shellcheck source=tests/e2e/lib.sh
. "$HERE/lib.sh"

TSPGW=$BUILD/tspgw
TSPC=$BUILD/tspc
XDP_PASS=$BUILD/xdp_pass.bpf.o
SIM=$ROOT/tests/broker/gogoc_sim.py

e2e_require_root
e2e_require_tools ip ethtool nsenter ping python3 saslpasswd2 timeout
e2e_require_built all "$TSPGW" "$TSPC" "$XDP_PASS"
e2e_init
e2e_require_bpf "$XDP_PASS"

NS_C=trc$$
NS_G=trg$$
NS_H=trh$$
PIN=/sys/fs/bpf/tspgw-reload-$$
TUNDEV=tsr$$
T=$E2E_TMP
CONF=$T/config.yaml
REALM=tspgw.example
GW=192.0.2.1
PINGS=800 # 8 s at one every 10 ms, per tunnel

# write_conf: the gateway's config.yaml from these settings (each reload
# test changes some and writes it again).
HOSTS=2001:db8:100::/64
MECHS="ANONYMOUS, DIGEST-MD5"
MAXT=1024
DNS=2001:db8::53
LEVEL=info
KA_MAX=2
CSUM=true
write_conf() {
	cat >"$CONF.new" <<EOF
interfaces: {ipv4: u0, ipv6: d0, xdp_mode: native, tunnel_device: $TUNDEV}
gateway: {ipv4: $GW, ipv6: 2001:db8:2::1, keepalive: 2001:db8:2::1}
anonymous: {prefix: 2001:db8:ffff::/64, layout: pubtsp, public: false}
pools:
  hosts: $HOSTS
  prefixes: 2001:db8:200::/40
data_plane:
  pin_path: $PIN
  max_tunnels: 1024
  allowed_special_ranges: [documentation]
  verify_udp_checksum: $CSUM
broker:
  auth:
    mechanisms: [$MECHS]
    sasldb: $T/sasldb2
    realm: $REALM
    server_name: $REALM
  database: $T/assignments.sqlite
  keepalive: {default: 2, min: 1, max: $KA_MAX, misses: 5}
  dns_servers: [$DNS]
  limits:
    max_tunnels: $MAXT
    tunnels_per_ipv4: 64
    sessions_per_ipv4_per_minute: 500
    sessions_per_source: 64
    session_idle_timeout: 30
  log_level: $LEVEL
EOF
	# Whole, never half-written, when the daemon reads it.
	mv "$CONF.new" "$CONF"
}
write_conf

# --- helpers ------------------------------------------------------------------

GW_NS=$NS_G
LOG=$T/run.1.log
cli() { e2e_ns "$NS_C" "$@"; }

tspc_bg() {
	local name=$1
	shift
	nsenter --net="/run/netns/$NS_C" -- "$TSPC" "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null &
	e2e_register_pid "$!"
	eval "PID_$name=\$!"
}
param() { grep "^$2=" "$T/$1.out" | tail -n 1 | cut -d= -f2-; }
tunnel_up() { e2e_wait_for 20 grep -q '^TSP_SESSION=' "$T/$1.out" || { tail -n 5 "$T/$1.err"; return 1; }; }

# sim NAME ARGS...: one gogoc-shaped session; its JSON in $T/NAME.json.
sim() {
	local name=$1
	shift
	cli timeout 40 python3 "$SIM" --server "$GW" --server-name "$REALM" "$@" \
		>"$T/$name.json" 2>"$T/$name.err"
}
field() { json_field "$T/$1.json" "$2"; }

# reloads: how many reloads the daemon has finished (applied or refused).
reloads() { grep -cE "configuration reloaded from|reload refused" "$LOG" || true; }
# reloaded_since N: the daemon has finished more than N reloads. A function,
# so that a wait counts afresh at every try: a count taken once, right
# after the signal, stays below N+1 for good whenever the daemon had not
# logged the reload yet.
reloaded_since() { [ "$(reloads)" -gt "$1" ]; }
# reload_via HOW: `tspgw reload` or SIGHUP; waits (10 s at most) until the
# daemon's log shows it done.
reload_via() {
	local before
	before=$(reloads)
	if [ "$1" = command ]; then
		gw reload >>"$T/reload_cmd.log" 2>&1 || { cat "$T/reload_cmd.log"; return 1; }
	else
		kill -HUP "$GW_PID" || return 1
	fi
	e2e_wait_for 10 reloaded_since "$before" || {
		echo "no reload logged"
		tail -n 5 "$LOG"
		return 1
	}
}
# last_reload: the daemon's last line about a reload; last_has REGEX: it
# matches (else it is shown).
last_reload() { grep -E "configuration reloaded from|reload refused" "$LOG" | tail -n 1; }
last_has() {
	local l
	l=$(last_reload)
	grep -qE -- "$1" <<<"$l" || { echo "$l"; return 1; }
}

# --- network ------------------------------------------------------------------

e2e_netns_add "$NS_C" "$NS_G" "$NS_H" || exit 1
e2e_register_pin "$PIN"
e2e_on_exit "e2e_ns $NS_G $TSPGW -c $CONF detach >/dev/null 2>&1"
e2e_topo_client_gw_host "$NS_C" "$NS_G" "$NS_H" "$XDP_PASS" 2001:db8:2::2 2001:db8:2::3 || exit 1
printf 'secret\n' | saslpasswd2 -p -f "$T/sasldb2" -u "$REALM" -c alice
printf 'hunter2\n' | saslpasswd2 -p -f "$T/sasldb2" -u "$REALM" -c bob
printf 'secret\n' >"$T/alice.pw"

start_gateway 1
e2e_check "tspgw run starts and serves TSP" gateway_serving 1 || e2e_finish

# Two anonymous tunnels, each carrying one of the host's addresses, and
# alice's (a host address from pools.hosts) from the third address.
tspc_bg ta --server "$GW" --local 192.0.2.2 -i tra --no-default-route --route 2001:db8:2::2/128
tspc_bg tb --server "$GW" --local 192.0.2.3 -i trb --no-default-route --route 2001:db8:2::3/128
tspc_bg alice --server "$GW" --local 192.0.2.4 -i trl --no-default-route --user alice \
	--password-file "$T/alice.pw" --auth digest-md5
tunnels_up() { tunnel_up ta && tunnel_up tb && tunnel_up alice; }
e2e_check "two anonymous tunnels and alice's are up" tunnels_up
ALICE_ADDR=$(param alice TSP_CLIENT_ADDRESS_IPV6)

# --- ten reloads under traffic ---------------------------------------------------------------

# Every other reload changes what the first does back; both change live
# keys (the host pool grows to a /60 and shrinks back: alice's address is
# in both) and one key that needs a restart.
flip() {
	if [ "$1" = 0 ]; then
		HOSTS=2001:db8:100::/60 DNS=2001:db8::54 LEVEL=debug KA_MAX=3 MAXT=512 CSUM=false
	else
		HOSTS=2001:db8:100::/64 DNS=2001:db8::53 LEVEL=info KA_MAX=2 MAXT=1024 CSUM=true
	fi
	write_conf
}
cli ping -6 -i 0.01 -c "$PINGS" -W 2 2001:db8:2::2 >"$T/ping_a.out" 2>&1 &
PING_A=$!
e2e_register_pid "$PING_A"
cli ping -6 -i 0.01 -c "$PINGS" -W 2 2001:db8:2::3 >"$T/ping_b.out" 2>&1 &
PING_B=$!
e2e_register_pid "$PING_B"
sleep 0.5
ten_reloads() {
	local i how
	for ((i = 0; i < 10; i++)); do
		how="signal"
		[ $((i % 2)) = 0 ] && how="command"
		flip $((i % 2)) && reload_via "$how" || return 1
		last_has "configuration reloaded from" || return 1
		sleep 0.4
	done
}
e2e_check "ten reloads (five by tspgw reload, five by SIGHUP) while both tunnels carry pings" ten_reloads
e2e_wait_exit "$PING_A" 30
e2e_wait_exit "$PING_B" 30
no_loss() {
	local f
	for f in ping_a ping_b; do
		grep -q "$PINGS packets transmitted, $PINGS received" "$T/$f.out" ||
			{ tail -n 3 "$T/$f.out"; return 1; }
	done
}
e2e_check "  0 of 2 x $PINGS pings lost (one every 10 ms per tunnel)" no_loss
applied_logged() {
	grep -q "applied pools.hosts, broker.keepalive.max, broker.limits.max_tunnels, broker.dns_servers, broker.log_level" "$LOG" || {
		grep "configuration reloaded" "$LOG" | tail -n 2
		return 1
	}
}
e2e_check "  each reload names the keys it applied" applied_logged
restart_only_logged() {
	# Every other file differs from the running value, which stays true.
	[ "$(grep -c "data_plane.verify_udp_checksum changed: takes effect at restart; keeping the running value" "$LOG")" = 5 ] ||
		{ grep "takes effect at restart" "$LOG" | tail -n 3; return 1; }
}
e2e_check "  a restart-only key (data_plane.verify_udp_checksum) is logged as such, and kept" restart_only_logged
route_moved() {
	# The host pool ended a /64 again: its route too, the /60's gone.
	local r
	r=$(e2e_ns "$NS_G" ip -6 route show dev "$TUNDEV")
	if ! grep -q "^2001:db8:100::/64" <<<"$r" || grep -q "^2001:db8:100::/60" <<<"$r"; then
		echo "$r"
		return 1
	fi
	grep -q "route 2001:db8:100::/60 -> $TUNDEV" "$LOG"
}
e2e_check "  the host pool's route followed it (/60 added, then the /64 again)" route_moved
debug_lines() { grep -c "sasl: ANONYMOUS login of user=anonymous" "$LOG" || true; }
level_applied() {
	local before
	LEVEL=debug
	write_conf
	reload_via signal || return 1
	before=$(debug_lines)
	sim dbg1 --transport udp --local-port 42010 || { cat "$T/dbg1.json"; return 1; }
	[ "$(debug_lines)" -gt "$before" ] || { echo "no debug line at level debug"; return 1; }
	LEVEL=info
	write_conf
	reload_via command || return 1
	before=$(debug_lines)
	sim dbg2 --transport udp --local-port 42011 || { cat "$T/dbg2.json"; return 1; }
	[ "$(debug_lines)" = "$before" ] || { echo "debug lines at level info"; return 1; }
}
e2e_check "broker.log_level applies: debug lines at debug, none once back at info" level_applied

# --- a pool that would leave out a live tunnel --------------------------------------------

pool_refused() {
	HOSTS=2001:db8:300::/64
	write_conf
	reload_via command || return 1
	last_has "reload refused: pools.hosts: the new pool leaves out $ALICE_ADDR, held by a live tunnel \(user=alice\); the running configuration stays" ||
		return 1
	local r
	r=$(e2e_ns "$NS_G" ip -6 route show dev "$TUNDEV")
	if ! grep -q "^2001:db8:100::/64" <<<"$r" || grep -q "^2001:db8:300::" <<<"$r"; then
		echo "$r"
		return 1
	fi
}
e2e_check "a host pool leaving out alice's live address is refused; the old pool and route stay" pool_refused
HOSTS=2001:db8:100::/64

# --- a session in progress completes across a reload -------------------------------------

session_across_reload() {
	rm -f "$T/go" "$T/go.paused"
	cli timeout 40 python3 "$SIM" --server "$GW" --server-name "$REALM" --transport tcp \
		--type v6v4 --local-ip 192.0.2.4 --auth digest --user bob --password hunter2 \
		--pause-file "$T/go" >"$T/bob.json" 2>"$T/bob.err" &
	local sim_pid=$!
	e2e_wait_for 10 test -e "$T/go.paused" || { cat "$T/bob.err"; kill "$sim_pid"; return 1; }
	# Between DIGEST-MD5's challenge and bob's answer: DIGEST-MD5 withdrawn.
	MECHS=ANONYMOUS
	write_conf
	reload_via signal || { kill "$sim_pid"; return 1; }
	last_has "applied broker.auth.mechanisms" || { kill "$sim_pid"; return 1; }
	touch "$T/go"
	wait "$sim_pid" || { cat "$T/bob.json" "$T/bob.err"; return 1; }
	[ "$(field bob status)" = 200 ] || { cat "$T/bob.json"; return 1; }
}
e2e_check "a DIGEST-MD5 session paused mid-exchange completes after a reload withdraws DIGEST-MD5" session_across_reload
digest_withdrawn() {
	sim newdigest --transport tcp --type v6v4 --local-ip 192.0.2.4 --auth digest --user bob \
		--password hunter2 && { echo "DIGEST-MD5 still accepted"; return 1; }
	grep -q "300" "$T/newdigest.json" || { cat "$T/newdigest.json"; return 1; }
	sim anon1 --transport udp --local-port 42001 || { cat "$T/anon1.json"; return 1; }
	[ "$(field anon1 status)" = 200 ] && ! grep -q "AUTH=DIGEST-MD5" <<<"$(field anon1 capability)"
}
e2e_check "  then a new DIGEST-MD5 session is refused, CAPABILITY offers ANONYMOUS alone" digest_withdrawn
MECHS="ANONYMOUS, DIGEST-MD5"

# --- a lowered limit takes effect ------------------------------------------------------------

limit_lowered() {
	MAXT=2
	write_conf
	reload_via command || return 1
	sim over --transport udp --local-port 42002
	[ "$(field over status)" = 301 ] || { cat "$T/over.json"; return 1; }
	MAXT=1024
	write_conf
	reload_via signal || return 1
	sim under --transport udp --local-port 42003
	[ "$(field under status)" = 200 ] || { cat "$T/under.json"; return 1; }
}
e2e_check "broker.limits.max_tunnels lowered under the live count refuses the next setup (301); raised again, served" limit_lowered

# --- an invalid file is refused whole ----------------------------------------------------------

invalid_refused() {
	local before out
	MAXT=2
	write_conf
	# A later key with a bad value: nothing of the file may be applied.
	sed -i 's/^  log_level: .*/  log_level: loud/' "$CONF"
	# tspgw reload reads the file first: it refuses it, signalling nothing.
	before=$(reloads)
	out=$(gw reload 2>&1) && { echo "$out"; return 1; }
	grep -qE "$CONF:[0-9]+:[0-9]+: .*log_level" <<<"$out" || { echo "$out"; return 1; }
	sleep 0.5
	[ "$(reloads)" = "$before" ] || { echo "the daemon was signalled"; return 1; }
	# SIGHUP: the daemon refuses it.
	reload_via signal || return 1
	last_has "reload refused: $CONF:[0-9]+:[0-9]+: .*log_level.*; the running configuration stays" ||
		return 1
	# The running limit (1024) still holds: a setup is served.
	sim still --transport udp --local-port 42004
	[ "$(field still status)" = 200 ] || { cat "$T/still.json"; return 1; }
}
e2e_check "an invalid file is refused with its FILE:LINE:COL (by tspgw reload, and by the daemon on SIGHUP); the running configuration keeps serving" invalid_refused
MAXT=1024
write_conf

still_forwarding() {
	cli ping -6 -i 0.01 -c 100 -W 2 2001:db8:2::2 | grep -q "100 packets transmitted, 100 received" &&
		cli ping -6 -i 0.01 -c 100 -W 2 2001:db8:2::3 | grep -q "100 packets transmitted, 100 received"
}
e2e_check "both tunnels still forward, none of 2 x 100 pings lost" still_forwarding
alive() { kill -0 "$GW_PID" && ! grep -qE "AddressSanitizer|runtime error" "$LOG"; }
e2e_check "the daemon is still running" alive

other_config() {
	# Another configuration (its own database): its daemon is not this one.
	local before out
	sed "s|$T/assignments.sqlite|$T/other.sqlite|" "$CONF" >"$T/other.yaml"
	: >"$T/other.sqlite"
	before=$(reloads)
	out=$(e2e_ns "$NS_G" timeout 20 "$TSPGW" -c "$T/other.yaml" reload 2>&1) && { echo "$out"; return 1; }
	grep -q "no tspgw run holds $T/other.sqlite (broker.database) open" <<<"$out" || { echo "$out"; return 1; }
	sleep 0.5
	[ "$(reloads)" = "$before" ]
}
e2e_check "tspgw reload with another configuration's database signals nothing" other_config

stop_gateway TERM
no_daemon() {
	local out
	out=$(gw reload 2>&1) && { echo "$out"; return 1; }
	grep -q "no tspgw run holds $T/assignments.sqlite (broker.database) open" <<<"$out" ||
		{ echo "$out"; return 1; }
}
e2e_check "stopped: tspgw reload says no daemon holds the database" no_daemon

e2e_check_no_leftovers
e2e_finish
