#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck disable=SC2317 # helpers are called through e2e_check
# End-to-end scenarios through a small Internet (tests/e2e/topo_internet.sh):
# `tspgw run` on the gateway, gogoc-shaped clients (tests/broker/gogoc_sim.py,
# which carries tunnel data on its signalling socket as gogoc does) behind a
# NAT and on a public address, an IPv6 host behind the gateway.
#
#  1. anonymous v6udpv4 behind NAT: the address embeds the NAT's public
#     IPv4 address and port; traffic both ways; XDP counters carry it
#  2. v6anyv4: with NAT -> v6udpv4, without -> v6v4 carrying traffic
#  3. DIGEST-MD5 host and router: stable address and prefix from another
#     IPv4 address and across a gateway restart; a host behind the router
#     (a source in the delegated prefix) reaches the IPv6 host
#  4. NAT rebinding: the old mapping stops forwarding, the new one works
#     after re-establishment
#  5. keepalive expiry: a silent tunnel is removed, an active one stays
#  6. restart without loss: pings every 10 ms while the daemon is killed
#     and started again; none lost; the new daemon restored every tunnel
#     and knows them (a new session over one's origin replaces it)
#  7. spoofing: another tunnel's source, the anonymous prefix with a wrong
#     port, an outside address: never reach the host, counted
#  8. limits: a burst from a fresh IPv4 address gets exactly the cap
#     (12) and then 506, while another client still gets its tunnel
#  9. next-hop cache: the IPv6 host changes its MAC and the gateway's
#     neighbour entry follows while pings flow every 10 ms; XDP forwards to
#     the new MAC at once (route_gen bumped by the daemon's rtnetlink
#     listener), not after the cache's safety TTL, and the cache served them
#
# Exit 0 = all passed, 1 = failures, 77 = skipped.
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
. "$HERE/lib.sh"
. "$HERE/topo_internet.sh"

TSPGW=$BUILD/tspgw
XDP_PASS=$BUILD/xdp_pass.bpf.o
SIM=$ROOT/tests/broker/gogoc_sim.py

e2e_require_root
e2e_require_tools ip ethtool nsenter nft python3 saslpasswd2 timeout conntrack
e2e_require_built all "$TSPGW" "$XDP_PASS"
e2e_init
e2e_require_bpf "$XDP_PASS"

T=$E2E_TMP
PIN=/sys/fs/bpf/tspgw-scen-$$
CONF=$T/config.yaml
topo_config "$CONF" "$PIN" tss$$ "$T/sasldb2" "$T/db.sqlite"
# Small limits so scenario 8 is quick; room for the NAT address, whose
# silent tunnels live 3 x 30 s even across scenario 6's restart (they keep
# their negotiated keepalive).
sed -i 's/^  dns_servers:/  limits: {tunnels_per_ipv4: 12}\n  dns_servers:/' "$CONF"

# gw, start_gateway, in_maps: lib.sh
GW_NS=$TOPO_NS_G

counter() { gw status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["counters"][sys.argv[1]])' "$1"; }
host_echos() { e2e_ns "$TOPO_NS_H" awk '$1 == "Icmp6InEchos" { print $2 }' /proc/net/snmp6; }

e2e_say "A small Internet" \
	"IPv6 host <-> gateway (tspgw run) <-> router <-> public client 198.51.100.10" \
	"                                           <-> NAT 203.0.113.2 <-> client 192.0.2.66"
topo_build "$XDP_PASS" || { echo "Bail out! topology"; e2e_finish; }
e2e_register_pin "$PIN"
e2e_on_exit "e2e_ns $TOPO_NS_G $TSPGW -c $CONF detach >/dev/null 2>&1"
printf 'secret\n' | saslpasswd2 -p -f "$T/sasldb2" -u tspgw.example -c alice
printf 'hunter2\n' | saslpasswd2 -p -f "$T/sasldb2" -u tspgw.example -c rita
start_gateway 1
e2e_check "tspgw run on the gateway" gateway_serving 1 || e2e_finish

# --- 1 -----------------------------------------------------------------------

s1() {
	local d0 e0
	d0=$(counter decap)
	e0=$(counter encap)
	sim "$TOPO_NS_C" "$T/s1.json" --local-port 40000 --ping 5 --ping-dst 2001:db8:2::2 || return 1
	expect "$T/s1.json" client_ipv4 203.0.113.2 || return 1
	# 203.0.113.2 = cb00:7102, port 40000 = 9c40 (NAT keeps the port when free)
	expect "$T/s1.json" client_ipv6 2001:0db8:ffff:0000:cb00:7102:9c40:0000 || return 1
	expect "$T/s1.json" pings_answered 5 || return 1
	echo "decap $d0 -> $(counter decap), encap $e0 -> $(counter encap)"
	[ $(($(counter decap) - d0)) -ge 5 ] && [ $(($(counter encap) - e0)) -ge 5 ]
}
e2e_check "1. anonymous v6udpv4 behind NAT: embeds 203.0.113.2:40000, both ways in XDP" s1

# --- 2 -----------------------------------------------------------------------

s2_nat() {
	sim "$TOPO_NS_C" "$T/s2a.json" --type v6anyv4 --local-port 40001 --ping 3 --ping-dst 2001:db8:2::2 &&
		expect "$T/s2a.json" type v6udpv4 && expect "$T/s2a.json" pings_answered 3
}
s2_direct() {
	sim "$TOPO_NS_P" "$T/s2b.json" --transport tcp --type v6anyv4 || return 1
	expect "$T/s2b.json" type v6v4 || return 1
	# Carry traffic over protocol 41 with the test relay (TUN + raw socket).
	local addr pid
	addr=$(short6 "$(field "$T/s2b.json" client_ipv6)")
	e2e_bg "$TOPO_NS_P" "$T/tc41.log" "$BUILD/tunclient" --tun t41 --type v6v4 \
		--server 192.0.2.1 --local 198.51.100.10 --pidfile "$T/tc41.pid" --duration 60
	pid=$E2E_BG_PID
	e2e_wait_file 5 "$T/tc41.pid" "$pid" || { cat "$T/tc41.log"; return 1; }
	ip -n "$TOPO_NS_P" link set dev t41 addrgenmode none mtu 1280 &&
		ip -n "$TOPO_NS_P" addr add "$addr/128" dev t41 nodad &&
		ip -n "$TOPO_NS_P" link set dev t41 up &&
		ip -n "$TOPO_NS_P" -6 route add 2001:db8:2::/64 dev t41 || { e2e_stop "$pid" 2; return 1; }
	e2e_ns "$TOPO_NS_P" ping -n -c 3 -i 0.2 -W 1 -w 6 2001:db8:2::2
	local rc=$?
	e2e_stop "$pid" 2
	return $rc
}
e2e_check "2. v6anyv4 behind NAT gets v6udpv4 and works" s2_nat
e2e_check "2. v6anyv4 without NAT gets v6v4 (protocol 41) and works" s2_direct

# --- 3 -----------------------------------------------------------------------

s3_host() {
	sim "$TOPO_NS_C" "$T/s3a.json" --auth digest --user alice --password secret \
		--server-name 192.0.2.1 --local-port 41000 --ping 3 --ping-dst 2001:db8:2::2 || return 1
	expect "$T/s3a.json" pings_answered 3 || return 1
	sim "$TOPO_NS_P" "$T/s3b.json" --auth digest --user alice --password secret \
		--server-name 192.0.2.1 --ping 3 --ping-dst 2001:db8:2::2 || return 1
	[ "$(field "$T/s3a.json" client_ipv6)" = "$(field "$T/s3b.json" client_ipv6)" ] ||
		{ echo "address changed"; return 1; }
	expect "$T/s3b.json" pings_answered 3
}
s3_router() {
	sim "$TOPO_NS_C" "$T/s3c.json" --auth digest --user rita --password hunter2 \
		--server-name 192.0.2.1 --router --prefix-len 56 --local-port 41001 \
		--ping 3 --ping-src prefix --ping-dst 2001:db8:2::2 || return 1
	expect "$T/s3c.json" prefix_len 56 && expect "$T/s3c.json" pings_answered 3
}
e2e_check "3. DIGEST-MD5 host: same address from the NAT and from 198.51.100.10" s3_host
e2e_check "3. DIGEST-MD5 router: a host behind it (prefix::1) reaches the IPv6 host" s3_router

# --- 6 (before 3's restart check: it restarts the daemon) ----------------------

# Killed and started again here, in the script's own shell, not inside a
# check: only there is the new daemon's PID registered, to be stopped at the
# end.
sim "$TOPO_NS_P" "$T/s6.json" --local-port 42000 --ping 600 --interval 0.01 \
	--ping-dst 2001:db8:2::2 >/dev/null &
S6_PID=$!
e2e_register_pid "$S6_PID"
# Its tunnel is up (198.51.100.10:42000 = c633:640a:a410) and the pings
# flow: now the daemon dies.
e2e_wait_for 15 in_maps 2001:db8:ffff:0:c633:640a:a410:0
sleep 0.5
stop_gateway KILL
# Nothing changes the maps while no daemon runs: this is what it finds.
tsp_tunnels_in_maps >"$T/s6.at-kill" 2>&1
sleep 0.4
start_gateway 2
e2e_wait_exit "$S6_PID" 60
echo $? >"$T/s6.rc"
s6() {
	gateway_serving 2 || return 1
	[ "$(cat "$T/s6.rc")" = 0 ] || { echo "gogoc_sim: exit status $(cat "$T/s6.rc")"; cat "$T/s6.json" "$T/s6.json.err"; return 1; }
	expect "$T/s6.json" pings_sent 600 && expect "$T/s6.json" pings_answered 600
}
e2e_check "6. pings every 10 ms while the daemon is SIGKILLed and restarted: none lost" s6
s6_restored() {
	local want got
	gateway_serving 2 || return 1
	want=$(cat "$T/s6.at-kill")
	got=$(sed -n 's/.*restored \([0-9]*\) tunnels from the pinned maps.*/\1/p' "$T/run.2.log")
	echo "tunnels of the broker in the maps at the kill: $want; restored: ${got:-none}"
	[ "$want" -gt 0 ] && [ "$got" = "$want" ]
}
e2e_check "6. the restarted daemon restored as many tunnels as the maps held" s6_restored
s6_knows() {
	# Were the pinging client's tunnel unknown to it, this would be "created".
	gateway_serving 2 || return 1
	sim "$TOPO_NS_P" "$T/s6b.json" --local-port 42000 >/dev/null || return 1
	expect "$T/s6b.json" status 200 || return 1
	grep "tunnel replaced user=anonymous origin=v6udpv4 198.51.100.10:42000" "$T/run.2.log"
}
e2e_check "6. the restarted daemon knows the tunnels: a session over one's origin replaces it" s6_knows

s3_restart() {
	sim "$TOPO_NS_C" "$T/s3d.json" --auth digest --user rita --password hunter2 \
		--server-name 192.0.2.1 --router --prefix-len 56 --local-port 41002 || return 1
	[ "$(field "$T/s3c.json" client_ipv6)" = "$(field "$T/s3d.json" client_ipv6)" ] &&
		[ "$(field "$T/s3c.json" prefix)" = "$(field "$T/s3d.json" prefix)" ]
}
e2e_check "3. after the restart rita gets the same address and prefix" s3_restart

# --- 4 -----------------------------------------------------------------------

s4() {
	local old new
	sim "$TOPO_NS_C" "$T/s4a.json" --local-port 43000 --keepalive 1 || return 1
	old=$(field "$T/s4a.json" client_ipv6)
	# The NAT forgets its mappings and maps the next flow to another port.
	e2e_ns "$TOPO_NS_N" conntrack -F >/dev/null 2>&1
	e2e_ns "$TOPO_NS_N" nft flush chain ip nat post
	e2e_ns "$TOPO_NS_N" nft add rule ip nat post oifname o0 meta l4proto udp masquerade to :50000-50010
	e2e_ns "$TOPO_NS_N" nft add rule ip nat post oifname o0 masquerade
	# Old binding: packets now arrive from a port it does not know.
	sim "$TOPO_NS_C" "$T/s4b.json" --local-port 43000 --ping 3 --ping-dst 2001:db8:2::2 || return 1
	new=$(field "$T/s4b.json" client_ipv6)
	echo "old $old, new $new"
	[ "$old" != "$new" ] || { echo "the mapping did not change"; return 1; }
	expect "$T/s4b.json" pings_answered 3 || return 1
	# The old address, now arriving through the new mapping, is not forwarded.
	sim "$TOPO_NS_C" "$T/s4c.json" --local-port 43000 --ping 2 --ping-src "$old" --ping-dst 2001:db8:2::2 || return 1
	expect "$T/s4c.json" pings_answered 0
}
e2e_check "4. NAT rebinding: a new mapping gets a new tunnel that works; the old address no longer passes" s4
e2e_check "4. the old mapping's tunnel is gone (silent, expired)" \
	e2e_wait_for 15 not_in_maps "$(short6 "$(field "$T/s4a.json" client_ipv6 2>/dev/null || echo ::)")"

# --- 5 -----------------------------------------------------------------------

s5() {
	local quiet busy
	sim "$TOPO_NS_P" "$T/s5a.json" --local-port 44000 --keepalive 1 || return 1
	quiet=$(short6 "$(field "$T/s5a.json" client_ipv6)")
	# The busy one pings every 0.5 s for 8 s: it must stay.
	sim "$TOPO_NS_P" "$T/s5b.json" --local-port 44001 --keepalive 1 --ping 16 --interval 0.5 &
	busy=$!
	sleep 1
	# Entered the maps (the log says so once it has: a look at the maps
	# could come after its 3 s on a loaded machine).
	grep -hq "tunnel created user=anonymous origin=v6udpv4 198.51.100.10:44000 address=$quiet " "$T"/run.*.log ||
		{ echo "quiet tunnel never created"; return 1; }
	e2e_wait_for 8 not_in_maps "$quiet" || { echo "silent tunnel still there"; return 1; }
	# The busy one (198.51.100.10:44001 = c633:640a:abe1) stays: looked
	# at 4 s after it came up (past its 3 s of silence), while it pings.
	e2e_wait_for 15 in_maps 2001:db8:ffff:0:c633:640a:abe1:0 || { echo "busy tunnel never up"; return 1; }
	sleep 4
	in_maps 2001:db8:ffff:0:c633:640a:abe1:0 || { echo "active tunnel expired"; return 1; }
	wait "$busy" || return 1
	expect "$T/s5b.json" pings_answered 16 || return 1
	expect "$T/s5b.json" client_ipv6 2001:0db8:ffff:0000:c633:640a:abe1:0000 || return 1
	grep -h "tunnel expired" "$T"/run.*.log | grep -q ":44000"
}
e2e_check "5. keepalive: the silent tunnel is removed and logged, the active one stays" s5

# --- 7 -----------------------------------------------------------------------

s7() {
	local e0 e1 s0 s1 alice
	alice=$(field "$T/s3b.json" client_ipv6)
	e0=$(host_echos)
	s0=$(counter drop_spoof)
	# From the NAT client's tunnel: alice's address, the anonymous prefix
	# with the wrong port, and an address outside every range.
	sim "$TOPO_NS_C" "$T/s7a.json" --local-port 45000 --ping 2 --ping-src "$alice" --ping-dst 2001:db8:2::2
	expect "$T/s7a.json" pings_answered 0 || return 1
	sim "$TOPO_NS_C" "$T/s7b.json" --local-port 45001 --ping 2 --ping-src 2001:db8:ffff:0:cb00:7102:afc9:0 \
		--ping-dst 2001:db8:2::2
	expect "$T/s7b.json" pings_answered 0 || return 1
	sim "$TOPO_NS_C" "$T/s7c.json" --local-port 45002 --ping 2 --ping-src 2001:db8:9999::1 --ping-dst 2001:db8:2::2
	expect "$T/s7c.json" pings_answered 0 || return 1
	e1=$(host_echos)
	s1=$(counter drop_spoof)
	echo "host echo requests $e0 -> $e1; drop_spoof $s0 -> $s1"
	[ "$e0" = "$e1" ] && [ $((s1 - s0)) -ge 6 ]
}
e2e_check "7. spoofed sources never reach the IPv6 host and are counted" s7

# --- 8 -----------------------------------------------------------------------

s8() {
	local p
	# 198.51.100.11: a second address of the public client, only used
	# here: the cap (12) counts from none.
	ip -n "$TOPO_NS_P" addr add 198.51.100.11/24 dev p0 2>/dev/null
	for p in $(seq 46000 46011); do
		sim "$TOPO_NS_P" "$T/s8.json" --local-ip 198.51.100.11 --local-port "$p" >/dev/null 2>&1
		expect "$T/s8.json" status 200 || { echo "tunnel $((p - 45999)) of 12 refused"; return 1; }
	done
	sim "$TOPO_NS_P" "$T/s8.json" --local-ip 198.51.100.11 --local-port 46012 >/dev/null 2>&1
	expect "$T/s8.json" status 506 || { echo "the 13th was not refused"; return 1; }
	sim "$TOPO_NS_C" "$T/s8c.json" --local-port 46100 >/dev/null || return 1
	expect "$T/s8c.json" status 200
}
e2e_check "8. a burst from one IPv4 address: the 12th tunnel given, the 13th refused (506); another client served" s8

# --- 9 -----------------------------------------------------------------------

s9() {
	local addr pid hit0 hit1 old new=02:00:00:00:0e:09 sent got rc=0
	grep -q "next-hop cache on" "$(ls -t "$T"/run.*.log | head -n 1)" ||
		{ echo "the daemon did not turn the next-hop cache on"; return 1; }
	sim "$TOPO_NS_P" "$T/s9.json" --transport tcp --type v6v4 || return 1
	addr=$(short6 "$(field "$T/s9.json" client_ipv6)")
	e2e_bg "$TOPO_NS_P" "$T/tc9.log" "$BUILD/tunclient" --tun t49 --type v6v4 \
		--server 192.0.2.1 --local 198.51.100.10 --pidfile "$T/tc9.pid" --duration 60
	pid=$E2E_BG_PID
	e2e_wait_file 5 "$T/tc9.pid" "$pid" || { cat "$T/tc9.log"; return 1; }
	ip -n "$TOPO_NS_P" link set dev t49 addrgenmode none mtu 1280 &&
		ip -n "$TOPO_NS_P" addr add "$addr/128" dev t49 nodad &&
		ip -n "$TOPO_NS_P" link set dev t49 up &&
		ip -n "$TOPO_NS_P" -6 route add 2001:db8:2::/64 dev t49 || { e2e_stop "$pid" 2; return 1; }
	old=$(e2e_mac "$TOPO_NS_H" h0)
	hit0=$(counter nh_hit)
	# 150 echo requests 10 ms apart, not waiting for replies: a stale
	# next hop loses every reply until the entry expires (100 jiffies:
	# 0.1-1 s, 40 pings at HZ=250); following the change loses at most the
	# one or two in flight between the two commands below.
	e2e_ns "$TOPO_NS_P" ping -n -q -i 0.01 -c 150 -W 1 2001:db8:2::2 >"$T/s9.ping" 2>&1 &
	local ping_pid=$!
	sleep 0.5
	ip -n "$TOPO_NS_H" link set dev h0 address "$new" &&
		ip -n "$TOPO_NS_G" neigh replace 2001:db8:2::2 lladdr "$new" dev d0 nud permanent || rc=1
	wait "$ping_pid"
	hit1=$(counter nh_hit)
	cat "$T/s9.ping"
	sent=$(sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1/p' "$T/s9.ping")
	got=$(sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\2/p' "$T/s9.ping")
	# Back as topo_build left it.
	ip -n "$TOPO_NS_H" link set dev h0 address "$old"
	ip -n "$TOPO_NS_G" neigh replace 2001:db8:2::2 lladdr "$old" dev d0 nud permanent
	e2e_stop "$pid" 2
	echo "sent $sent, answered $got; nh_hit $hit0 -> $hit1"
	[ "$rc" = 0 ] && [ -n "$got" ] && [ "$sent" = 150 ] && [ $((sent - got)) -le 5 ] &&
		[ $((hit1 - hit0)) -ge 150 ]
}
e2e_check "9. next-hop cache: XDP follows a neighbour change at once (<= 5 of 150 pings lost)" s9

grep -h "tunnel " "$T"/run.*.log | sed 's/^/# /' | tail -30
stop_gateway TERM
e2e_check_no_leftovers
e2e_finish
