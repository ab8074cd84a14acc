#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck disable=SC2317 # helpers are called through e2e_check
# Integration tests of the TSP broker: `tspgw run` in a gateway namespace,
# sessions driven byte for byte as gogoc sends them (tests/broker/gogoc_sim.py)
# over UDP and TCP, and checks that accepted tunnels appear in the BPF maps
# and carry traffic through the XDP path.
#
#   ns cli: c0 192.0.2.2/24, 192.0.2.3/24, 192.0.2.4/24  <->  ns gw: u0 192.0.2.1/24, d0 2001:db8:2::1/64  <->  ns host: h0 2001:db8:2::2
#
# Exit 0 = all passed, 1 = failures, 77 = skipped.
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
# shellcheck source=tests/e2e/lib.sh
. "$ROOT/tests/e2e/lib.sh"

TSPGW=$BUILD/tspgw
XDP_PASS=$BUILD/xdp_pass.bpf.o
SIM=$HERE/gogoc_sim.py

e2e_require_root
e2e_require_tools ip ethtool nsenter ping python3 saslpasswd2 timeout unshare
e2e_require_built all "$TSPGW" "$XDP_PASS"
e2e_init
e2e_require_bpf "$XDP_PASS"

NS_C=tbc$$
NS_G=tbg$$
NS_H=tbh$$
PIN=/sys/fs/bpf/tspgw-broker-$$
T=$E2E_TMP
CONF=$T/config.yaml
REALM=tspgw.example

cat >"$CONF" <<EOF
interfaces: {ipv4: u0, ipv6: d0, xdp_mode: native, tunnel_device: tsb$$}
gateway: {ipv4: 192.0.2.1, ipv6: 2001:db8:2::1, keepalive: 2001:db8:2::1}
anonymous: {prefix: 2001:db8:ffff::/64, layout: pubtsp, public: false}
pools:
  hosts: 2001:db8:100::/64
  prefixes: 2001:db8:200::/40
  prefix_length: {min: 48, max: 60, default: 56}
data_plane: {pin_path: $PIN, max_tunnels: 1024, allowed_special_ranges: [documentation]}
broker:
  auth:
    mechanisms: [ANONYMOUS, PLAIN, DIGEST-MD5]
    sasldb: $T/sasldb2
    realm: $REALM
    server_name: $REALM
    failures: 3
    failure_window: 60
  database: $T/assignments.sqlite
  keepalive: {default: 2, min: 1, max: 10, misses: 2}
  lifetime: 1             # minutes: the gogoc-shaped client below outlives two
  dns_servers: [2001:db8::53]
  dn_template: "%u.users.tspgw.example"
  limits:
    tunnels_per_ipv4: 8
    sessions_per_ipv4_per_minute: 40
    sessions_per_source: 64   # the suite runs many sessions from 192.0.2.2;
                              # the cap of 8 is tested in tests/adversarial
    session_idle_timeout: 10
EOF

# --- helpers ------------------------------------------------------------------

# gw, start_gateway, in_maps, short6: tests/e2e/lib.sh
GW_NS=$NS_G

# sim ARGS...: one gogoc-shaped session from the client namespace; JSON
# result in $T/last.json.
sim() {
	e2e_ns "$NS_C" timeout 30 python3 "$SIM" --server 192.0.2.1 --server-name "$REALM" "$@" \
		>"$T/last.json" 2>"$T/last.err"
	local rc=$?
	cat "$T/last.json" "$T/last.err"
	return $rc
}

# field NAME: a field of the last session's JSON.
field() { json_field "$T/last.json" "$1"; }

# expect FIELD VALUE
expect() {
	local got
	got=$(field "$1")
	[ "$got" = "$2" ] || { echo "$1 = '$got', want '$2'"; return 1; }
}

# tunnel_set: every tunnel in the maps, one "type remote address prefix"
# line each, sorted: what a check that must change nothing compares.
tunnel_set() {
	gw tunnel list --json | python3 -c '
import json, sys
for t in sorted(json.load(sys.stdin), key=lambda t: (t["type"], t["remote"])):
    print(t["type"], t["remote"], t["address"], t.get("prefix", "-"))'
}

# --- network ------------------------------------------------------------------

e2e_netns_add "$NS_C" "$NS_G" "$NS_H" || exit 1
e2e_register_pin "$PIN"
e2e_register_pin "$PIN-userns" # rootless_eperm
e2e_on_exit "e2e_ns $NS_G $TSPGW -c $CONF detach >/dev/null 2>&1"
e2e_veth "$NS_C" c0 "$NS_G" u0 || exit 1
e2e_veth "$NS_G" d0 "$NS_H" h0 || exit 1
ip -n "$NS_C" addr add 192.0.2.2/24 dev c0
ip -n "$NS_C" addr add 192.0.2.3/24 dev c0
# An anonymous v6v4 tunnel of its own address: the v6v4 origin is the
# IPv4 address alone, and only its owner may replace it (ownership).
ip -n "$NS_C" addr add 192.0.2.4/24 dev c0
# Fresh addresses for the limits' exact boundaries: nothing else uses them.
ip -n "$NS_C" addr add 192.0.2.5/24 dev c0
ip -n "$NS_C" addr add 192.0.2.6/24 dev c0
# The long-lived gogoc-shaped client of the lifetime checks.
ip -n "$NS_C" addr add 192.0.2.7/24 dev c0
ip -n "$NS_G" addr add 192.0.2.1/24 dev u0
ip -n "$NS_G" addr add 2001:db8:2::1/64 dev d0 nodad
ip -n "$NS_H" addr add 2001:db8:2::2/64 dev h0 nodad
ip -n "$NS_H" -6 route add default via 2001:db8:2::1
e2e_xdp_pass "$NS_C" c0 "$XDP_PASS"
e2e_xdp_pass "$NS_H" h0 "$XDP_PASS"
for a in 192.0.2.2 192.0.2.3 192.0.2.4 192.0.2.5 192.0.2.6 192.0.2.7; do
	ip -n "$NS_G" neigh replace "$a" lladdr "$(e2e_mac "$NS_C" c0)" dev u0 nud permanent
done
ip -n "$NS_C" neigh replace 192.0.2.1 lladdr "$(e2e_mac "$NS_G" u0)" dev c0 nud permanent
ip -n "$NS_G" neigh replace 2001:db8:2::2 lladdr "$(e2e_mac "$NS_H" h0)" dev d0 nud permanent
ip -n "$NS_H" neigh replace 2001:db8:2::1 lladdr "$(e2e_mac "$NS_G" d0)" dev h0 nud permanent
printf 'secret\n' | saslpasswd2 -p -f "$T/sasldb2" -u "$REALM" -c alice
printf 'hunter2\n' | saslpasswd2 -p -f "$T/sasldb2" -u "$REALM" -c bob

start_gateway 1
e2e_check "tspgw run starts and serves TSP" gateway_serving 1 || e2e_finish

rootless_eperm() {
	# In a user namespace of its own (a rootless container) the process
	# holds CAP_BPF there, which bpf(2) does not honour: the refusal must
	# say so, not blame a seccomp profile.
	local conf=$T/userns.yaml out
	cat >"$conf" <<EOF
interfaces: {ipv4: u0, ipv6: d0, xdp_mode: generic, tunnel_device: tsu$$}
gateway: {ipv4: 192.0.2.1, ipv6: 2001:db8:2::1}
data_plane: {pin_path: $PIN-userns, max_tunnels: 64, allowed_special_ranges: [documentation]}
EOF
	# shellcheck disable=SC2016 # expanded by the inner shell
	out=$(timeout 20 unshare --user --map-root-user --net sh -c \
		'ip link add u0 type veth peer name d0 && ip link set u0 up && ip link set d0 up &&
		 exec "$1" -c "$2" attach' sh "$TSPGW" "$conf" 2>&1)
	echo "$out"
	grep -q "belong to a user namespace" <<<"$out" && ! grep -q seccomp <<<"$out"
}
e2e_check "in a user namespace, bpf(2)'s refusal is put down to it, not to seccomp" rootless_eperm

# --- lifetime (started here, checked at the end) --------------------------------

# gogoc on Unix never acts on the lifetime it is given: it keeps its tunnel
# and its keepalives (every 2 s here) going. This one does so for 150 s,
# two and a half lifetimes, through the rest of the suite and its daemon
# restarts; the checks at the end ask whether its keepalives were answered
# all along. Before renewal its binding went at 60 s, and gogoc would
# have set up again only after three unanswered keepalives.
LIFE_FOR=150
e2e_bg "$NS_C" "$T/life.log" timeout $((LIFE_FOR + 40)) python3 "$SIM" --server 192.0.2.1 \
	--server-name "$REALM" --local-ip 192.0.2.7 --local-port 49000 --keepalive 2 \
	--keepalive-for "$LIFE_FOR"
LIFE_PID=$E2E_BG_PID
life_accepted() { grep -q '"accepted": true' "$T/life.log"; }
e2e_check "a gogoc-shaped client that will outlive its lifetime gets its tunnel" \
	e2e_wait_for 20 life_accepted

# --- anonymous ----------------------------------------------------------------

anon_udp() {
	sim --transport udp --type v6udpv4 --local-port 41000 --keepalive 2 --ping 3 || return 1
	# Into the maps at once: its 4 s of silence may be over before the
	# next check on a loaded machine.
	in_maps 2001:db8:ffff:0:c000:202:a028:0
	echo $? >"$T/anon_udp.in_maps"
	expect status 200 && expect type v6udpv4 && expect client_ipv4 192.0.2.2 || return 1
	# pubtsp: 192.0.2.2 = c000:0202, port 41000 = a028
	expect client_ipv6 2001:0db8:ffff:0000:c000:0202:a028:0000 || return 1
	expect keepalive 2 && expect pings_answered 3 && expect dns_server True
}
e2e_check "UDP anonymous v6udpv4: address embeds 192.0.2.2:41000, keepalives answered in XDP" anon_udp
anon_udp_in_maps() { [ "$(cat "$T/anon_udp.in_maps" 2>/dev/null)" = 0 ]; }
e2e_check "  its binding is in the BPF maps (anon_udp)" anon_udp_in_maps

anon_tcp() {
	sim --transport tcp --type v6v4 || return 1
	expect status 200 && expect type v6v4 && expect client_ipv6 2001:0db8:ffff:0000:c000:0202:0000:0000
}
e2e_check "TCP anonymous v6v4: address embeds 192.0.2.2, no port" anon_tcp
e2e_check "  its binding is in the BPF maps" in_maps 2001:db8:ffff:0:c000:202::

anyv4_nat() {
	# The client claims an address the broker does not see: a NAT.
	sim --transport udp --type v6anyv4 --client-ipv4 198.51.100.77 --local-port 41001 || return 1
	expect type v6udpv4
}
anyv4_direct() {
	sim --transport tcp --type v6anyv4 --local-ip 192.0.2.4 || return 1
	expect type v6v4
}
e2e_check "v6anyv4 behind a NAT gets v6udpv4" anyv4_nat
e2e_check "v6anyv4 without NAT gets v6v4" anyv4_direct
udp_over_tcp() {
	sim --transport tcp --type v6udpv4
	expect status 303
}
e2e_check "v6udpv4 over TCP is refused with 303" udp_over_tcp

same_origin_replaces() {
	sim --transport udp --type v6udpv4 --local-port 41010 >/dev/null || return 1
	sim --transport udp --type v6udpv4 --local-port 41010 >/dev/null || return 1
	grep -q "tunnel replaced user=anonymous origin=v6udpv4 192.0.2.2:41010" "$T/run.1.log" || return 1
	[ "$(gw tunnel list --json | grep -o '"remote":"192.0.2.2:41010"' | wc -l)" = 1 ]
}
e2e_check "a new session over a live tunnel's origin replaces it (one binding)" same_origin_replaces

reject_releases() {
	sim --transport udp --type v6udpv4 --local-port 41002 --reject || return 1
	# The offer was made (port 41002 = a02a), then rejected.
	expect status 200 && expect client_ipv6 2001:0db8:ffff:0000:c000:0202:a02a:0000 || return 1
	not_in_maps 2001:db8:ffff:0:c000:202:a02a:0
}
e2e_check "reject: nothing enters the maps" reject_releases

# --- authentication -----------------------------------------------------------

digest_host() {
	sim --transport udp --auth digest --user alice --password secret --type v6udpv4 \
		--local-port 42000 --ping 2 --ping-dst 2001:db8:2::2 || return 1
	expect status 200 && expect pings_answered 2 && expect client_dn alice.users.tspgw.example || return 1
	field client_ipv6 >"$T/alice.addr"
	in_maps "$(short6 "$(cat "$T/alice.addr")")"
}
e2e_check "DIGEST-MD5 over UDP: host address from the pool, traffic to the IPv6 host" digest_host

alice_again() {
	sim --transport tcp --auth digest --user alice --password secret --type v6v4 --local-ip 192.0.2.3 || return 1
	[ "$(field client_ipv6)" = "$(cat "$T/alice.addr")" ] || { echo "address changed"; return 1; }
	# The binding moved: the old origin is gone, the new one has the address.
	gw tunnel list --json | python3 -c '
import json,sys
t=[x for x in json.load(sys.stdin) if x["address"]==sys.argv[1]]
print(t); sys.exit(0 if len(t)==1 and t[0]["remote"]=="192.0.2.3" and t[0]["user"]=="alice" else 1)' "$(short6 "$(cat "$T/alice.addr")")"
}
e2e_check "DIGEST-MD5 over TCP from another IPv4 address: same address, binding moved" alice_again

digest_router() {
	sim --transport udp --auth digest --user bob --password hunter2 --type v6udpv4 --router \
		--prefix-len 56 --local-port 42001 || return 1
	expect status 200 && expect prefix_len 56 || return 1
	field prefix >"$T/bob.prefix"
	gw tunnel list --json | grep -q "\"prefix\":\"$(cat "$T/bob.prefix")\""
}
e2e_check "DIGEST-MD5 router: a /56 delegated from the pool and routed" digest_router

bad_prefix() {
	sim --transport udp --auth digest --user bob --password hunter2 --router --prefix-len 40 \
		--local-port 42002
	expect status 507
}
e2e_check "a prefix length outside the bounds gets 507" bad_prefix

plain_ok() {
	sim --transport tcp --auth plain --user alice --password secret --type v6v4 --local-ip 192.0.2.3 || return 1
	[ "$(field client_ipv6)" = "$(cat "$T/alice.addr")" ]
}
e2e_check "PLAIN over TCP: same stable address" plain_ok
wrong_password() {
	! sim --transport tcp --auth plain --user alice --password nope --local-ip 192.0.2.3 &&
		grep -q "300 Authentication failed" "$T/last.json"
}
e2e_check "wrong password gets 300" wrong_password

# --- tunnels by user ------------------------------------------------------------

# bob's router tunnel, kept alive by its keepalives (every 2 s) until
# `tunnel del --user` ends it.
e2e_bg "$NS_C" "$T/bob-ka.log" timeout 100 python3 "$SIM" --server 192.0.2.1 \
	--server-name "$REALM" --auth digest --user bob --password hunter2 --router \
	--prefix-len 56 --local-port 42050 --keepalive 2 --keepalive-for 60
BOB_PID=$E2E_BG_PID
bob_up() { grep -q '"accepted": true' "$T/bob-ka.log"; }
e2e_check "bob (a DIGEST-MD5 router) holds a tunnel, kept alive" e2e_wait_for 20 bob_up

user_show_json() {
	gw user show bob --json >"$T/bob.json" || return 1
	cat "$T/bob.json"
	python3 - "$T/bob.json" "$(cat "$T/bob.prefix")" <<'PY'
import json, sys
u = json.load(open(sys.argv[1]))
assert u["user"] == "bob" and u["prefix"] == sys.argv[2], "address or prefix"
assert u["address"].startswith("2001:db8:100::"), "address from the host pool"
assert u["created"].endswith("Z") and u["assigned"].endswith("Z")
t = u["tunnels"]
assert len(t) == 1 and t[0]["remote"] == "192.0.2.2:42050" and t[0]["type"] == "v6udpv4", t
assert t[0]["user"] == "bob" and t[0]["keepalive_s"] == 2
assert t[0]["last_seen_s"] is not None and t[0]["last_seen_s"] < 15, "its keepalives are seen"
for k in ("rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "spoof_drops"):
    assert isinstance(t[0][k], int), k
assert u["last_router_setup"]["origin"] == "v6udpv4 192.0.2.2:42050", u["last_router_setup"]
PY
}
e2e_check "user show bob --json: address, prefix, current origin, last seen, counters" user_show_json
user_show_text() {
	local out
	out=$(gw user show bob) || return 1
	echo "$out"
	grep -q "^prefix  *$(cat "$T/bob.prefix")$" <<<"$out" &&
		grep -q "^tunnel  *v6udpv4 192.0.2.2:42050, " <<<"$out" &&
		grep -q "^counters  *rx [0-9]* packets" <<<"$out"
}
e2e_check "  and as text" user_show_text
list_by_user() {
	gw tunnel list --user bob --json | python3 -c '
import json, sys
t = json.load(sys.stdin); print(t)
assert [(x["remote"], x["user"]) for x in t] == [("192.0.2.2:42050", "bob")]' || return 1
	# alice's list does not hold bob's tunnel, whatever alice holds now.
	! gw tunnel list --user alice --json | grep -q 42050
}
e2e_check "tunnel list --user bob: bob's tunnel only" list_by_user

by_user_refusals() {
	local conf=$T/nodb.yaml out rc
	sed "s|^  database: .*|  database: $T/nowhere/assignments.sqlite|" "$CONF" >"$conf"
	out=$(e2e_ns "$NS_G" "$TSPGW" -c "$conf" user show bob 2>&1); rc=$?
	echo "$out"
	[ $rc = 1 ] && grep -q "the daemon's database $T/nowhere/assignments.sqlite is not reachable" <<<"$out" ||
		return 1
	e2e_ns "$NS_G" "$TSPGW" -c "$conf" tunnel list --user bob >/dev/null 2>&1 && return 1
	e2e_ns "$NS_G" "$TSPGW" -c "$conf" tunnel del --user bob >/dev/null 2>&1 && return 1
	[ ! -e "$T/nowhere" ] || { echo "a database was created"; return 1; }
	out=$(gw user show nobody 2>&1); rc=$?
	echo "$out"
	[ $rc = 1 ] && grep -q "no user nobody in the daemon's database" <<<"$out" || return 1
	gw user show >/dev/null 2>&1; [ $? = 2 ] || return 1
	gw tunnel del --user bob --type v6v4 >/dev/null 2>&1; [ $? = 2 ] || return 1
	gw tunnel add --user bob --type v6v4 --remote 192.0.2.9 --address 2001:db8:100::99 \
		>/dev/null 2>&1; [ $? = 2 ] || return 1
	# bob's tunnel is still there after all that.
	in_maps "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["address"])' "$T/bob.json")"
}
e2e_check "by user: refused clearly without the daemon's database (none created), unknown users and bad options" \
	by_user_refusals

del_by_user() {
	local out addr
	addr=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["address"])' "$T/bob.json")
	out=$(gw tunnel del --user bob) || return 1
	echo "$out"
	grep -q "tunnel deleted user=bob origin=v6udpv4 192.0.2.2:42050 address=$addr by=operator" <<<"$out" ||
		return 1
	not_in_maps "$addr" || { echo "bob's binding is still in the maps"; return 1; }
	# The daemon hears of it through the database and logs it.
	e2e_wait_for 10 grep -q "tunnel deleted user=bob origin=v6udpv4 192.0.2.2:42050 .*by=operator" \
		"$T/run.1.log" || { echo "the daemon did not log it"; return 1; }
	gw user show bob --json | python3 -c 'import json,sys; assert json.load(sys.stdin)["tunnels"] == []'
}
e2e_check "tunnel del --user bob ends bob's tunnel at once; the daemon forgets it and logs it" del_by_user
e2e_stop "$BOB_PID" 3
bob_again() {
	local rc
	gw tunnel del --user bob >/dev/null 2>&1; rc=$?
	[ $rc = 1 ] || { echo "a second del: exit $rc, want 1"; return 1; }
	sim --transport udp --auth digest --user bob --password hunter2 --type v6udpv4 --router \
		--prefix-len 56 --local-port 42051 >/dev/null || return 1
	expect status 200 && [ "$(field prefix)" = "$(cat "$T/bob.prefix")" ]
}
e2e_check "  a second del finds none; bob sets up again with his prefix" bob_again
del_by_user_json() {
	gw tunnel del --user bob --json | python3 -c '
import json, sys
d = json.load(sys.stdin); print(d)
assert d["user"] == "bob" and [t["remote"] for t in d["deleted"]] == ["192.0.2.2:42051"]' || return 1
	e2e_wait_for 10 grep -q "tunnel deleted user=bob origin=v6udpv4 192.0.2.2:42051 .*by=operator" \
		"$T/run.1.log"
}
e2e_check "  tunnel del --user --json: what was deleted, as JSON; the daemon logs it" del_by_user_json

# --- retransmissions and bad input -------------------------------------------

raw() { e2e_ns "$NS_C" timeout 20 python3 -c "$1"; }
PY_PRE='
import socket,struct,sys,time
sys.path.insert(0,"'"$HERE"'")
import gogoc_sim as g
'
retransmit() {
	raw "$PY_PRE"'
c=g.Rudp("192.0.2.1",3653,("192.0.2.2",43000))
c.sendrecv(b"VERSION=2.0.2\r\n", drop_first_reply=True)
c.sendrecv(b"AUTHENTICATE ANONYMOUS\r\n\0")
x=g.create_request("v6udpv4","192.0.2.2",30,False,0)
a=c.sendrecv(g.command(x), drop_first_reply=True)
print(a[:60], c.retransmits)
assert a.startswith(b"Content-length") and c.retransmits==2
c.send(g.command("<tunnel action=\"accept\"></tunnel>\r\n"))
'
}
e2e_check "retransmitted requests are answered again, not processed twice" retransmit
e2e_check "  one tunnel for that origin in the maps" in_maps 2001:db8:ffff:0:c000:202:a7f8:0

# Every reply lost once: each request is sent twice. Answering the second
# copy by processing it again would fail: a second AUTHENTICATE in an
# authenticated session, a DIGEST-MD5 response whose nonce was used, an
# accept after the session ended.
lost_replies() {
	sim --transport udp --type v6udpv4 --local-port 43001 --drop-first-replies || return 1
	# VERSION, AUTHENTICATE, create, accept: each sent twice
	expect status 200 && expect requests 4 && expect retransmits 4 || return 1
	sim --transport udp --auth digest --user alice --password secret --type v6udpv4 \
		--local-port 43002 --drop-first-replies || return 1
	# Each request sent twice at least: an answer bigger than the budget of
	# a peer not yet proven waits for a third copy.
	expect status 200 && expect client_ipv6 "$(cat "$T/alice.addr")" || return 1
	[ "$(field retransmits)" -ge "$(field requests)" ] && [ "$(field requests)" -ge 6 ]
}
e2e_check "every reply lost once (anonymous, DIGEST-MD5): each retransmission answered from the cache" lost_replies

empty_datagram() {
	raw "$PY_PRE"'
c=g.Rudp("192.0.2.1",3653)
print(c.recv())   # an empty datagram first: answered (empty)
print(c.sendrecv(b"VERSION=2.0.2\r\n"))
'
}
e2e_check "an empty datagram is answered" empty_datagram

bad_version() { raw "$PY_PRE"'
c=g.Rudp("192.0.2.1",3653); r=c.sendrecv(b"VERSION=1.9.9\r\n"); print(r); assert r.startswith(b"302 ")'; }
e2e_check "unsupported version gets 302" bad_version

# unchanged_but_expired BEFORE AFTER: tunnel_set AFTER holds nothing new, and
# whatever left BEFORE expired meanwhile (the run's log says so).
unchanged_but_expired() {
	python3 - "$1" "$2" "$T"/run.*.log <<'PY'
import sys
before = set(open(sys.argv[1]).read().splitlines())
after = set(open(sys.argv[2]).read().splitlines())
expired = [l + " " for f in sys.argv[3:] for l in open(f).read().splitlines() if "tunnel expired" in l]
ok = True
for t in sorted(after - before):
    print("new or changed:", t); ok = False
for t in sorted(before - after):
    if not any(" address=%s " % t.split()[2] in l for l in expired):
        print("gone, not expired:", t); ok = False
print(len(before), "tunnels before,", len(after), "after")
sys.exit(0 if ok else 1)
PY
}
bad_inputs() {
	tunnel_set >"$T/bad.before" || return 1
	bad_inputs_answers || return 1
	tunnel_set >"$T/bad.after" || return 1
	unchanged_but_expired "$T/bad.before" "$T/bad.after"
}
bad_inputs_answers() {
	raw "$PY_PRE"'
def sess():
    c=g.Rudp("192.0.2.1",3653); c.sendrecv(b"VERSION=2.0.2\r\n"); c.sendrecv(b"AUTHENTICATE ANONYMOUS\r\n\0"); return c
cases={
 "garbage": b"\x00\xff garbage\r\n",
 "lying length": b"Content-length: 900\r\n<tunnel action=\"create\" type=\"v6udpv4\"></tunnel>\r\n",
 "huge length": b"Content-length: 99999999\r\n<tunnel/>",
 "unknown action": g.command("<tunnel action=\"explode\" type=\"v6udpv4\"><client><address type=\"ipv4\">192.0.2.2</address></client></tunnel>\r\n"),
 "xml bomb": g.command("<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY a \"aaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]><tunnel action=\"create\" type=\"v6udpv4\"><client><address type=\"ipv4\">&b;</address></client></tunnel>\r\n"),
 "truncated xml": g.command("<tunnel action=\"create\" type=\"v6udpv4\"><client><addr"),
 "bad ipv4": g.command("<tunnel action=\"create\" type=\"v6udpv4\"><client><address type=\"ipv4\">192.0.2.300</address></client></tunnel>\r\n"),
}
want={"bad ipv4": b"501 "}
for name,msg in cases.items():
    r=sess().sendrecv(msg)
    body=r.split(b"\r\n",1)[1] if r.startswith(b"Content-length") else r
    print(name, r[:70])
    assert body.startswith(want.get(name, b"500 ")), name
c=sess(); r=c.sendrecv(g.command(g.create_request("v6xyz","192.0.2.2",30,False,0))); print(r[:60]); assert b"303 " in r
'
}
e2e_check "bad input gets 500/501/303 and changes nothing" bad_inputs
e2e_check "  the broker still serves" sim --transport udp --type v6udpv4 --local-port 41003

tcp_garbage() {
	raw '
import socket
s=socket.create_connection(("192.0.2.1",3653),timeout=5)
s.sendall(b"\x16\x03\x01 not tsp at all\r\n")
r=s.recv(100); print(r); assert r.startswith(b"500 ")
assert s.recv(100)==b""   # and the connection is closed
'
}
e2e_check "TCP garbage gets 500 and the connection is closed" tcp_garbage

# --- limits -------------------------------------------------------------------

per_ipv4_cap() {
	# 8 tunnels per IPv4 address, counted from one that has none: the
	# 8th is still given, the 9th is refused with 506. One process makes
	# the nine, quickly: a tunnel that expired on the way (20 s without
	# traffic) would free a place.
	raw "$PY_PRE"'
codes=[]
for port in range(44000, 44009):
    a=g.parser().parse_args(["--server","192.0.2.1","--local-ip","192.0.2.5","--local-port",str(port)])
    codes.append(g.session(a).get("status"))
print(codes)
assert codes[:8]==[200]*8, "refused before the 9th"
assert codes[8]==506, "the 9th was not refused with 506"
' || return 1
	n=$(gw tunnel list --json | grep -o '"remote":"192.0.2.5:' | wc -l)
	[ "$n" = 8 ] || { echo "$n tunnels from 192.0.2.5 in the maps, want 8"; return 1; }
	# 192.0.2.3 is another address: it still gets its tunnel.
	sim --transport udp --type v6udpv4 --local-ip 192.0.2.3 --local-port 44100 >/dev/null || return 1
	expect status 200
}
e2e_check "tunnels per IPv4 address: the 8th given, the 9th refused with 506; another address still served" per_ipv4_cap


# --- keepalive expiry ----------------------------------------------------------

expiry() {
	local addr
	sim --transport udp --type v6udpv4 --local-ip 192.0.2.3 --local-port 45000 --keepalive 1 || return 1
	addr=$(short6 "$(field client_ipv6)")
	# It entered the maps (the log says so once it has: a look at the maps
	# could come after its 2 s on a loaded machine).
	grep -q "tunnel created user=anonymous origin=v6udpv4 192.0.2.3:45000 address=$addr " "$T/run.1.log" ||
		{ echo "not created"; return 1; }
	# keepalive 1 s x 2 misses: gone within a few seconds of silence.
	e2e_wait_for 10 not_in_maps "$addr" || { echo "still there"; return 1; }
	grep "tunnel expired" "$T/run.1.log" | grep -q "45000"
}
e2e_check "a silent tunnel expires after its keepalive intervals (logged)" expiry

# --- restart --------------------------------------------------------------------

# A tunnel the restarted daemon must know (keepalive 10 s x 2 misses: it
# outlives the restart).
sim --transport udp --type v6udpv4 --local-ip 192.0.2.4 --local-port 48000 --keepalive 10 >"$T/pre-restart.out"
stop_gateway KILL
# The daemon is dead: nothing changes the maps until it is back.
tsp_tunnels_in_maps >"$T/at-kill.count" 2>&1
start_gateway 2
e2e_check "SIGKILL and restart: the daemon serves again" gateway_serving 2

restored_all() {
	local want got
	want=$(cat "$T/at-kill.count")
	got=$(sed -n 's/.*restored \([0-9]*\) tunnels from the pinned maps.*/\1/p' "$T/run.2.log")
	echo "tunnels of the broker in the maps at the kill: $want; restored: ${got:-none}"
	[ "$want" -gt 0 ] && [ "$got" = "$want" ]
}
e2e_check "  it restored as many tunnels as the pinned maps held" restored_all
knows_restored() {
	# Were the tunnel unknown to the daemon, this would be "created".
	sim --transport udp --type v6udpv4 --local-ip 192.0.2.4 --local-port 48000 >/dev/null || return 1
	expect status 200 || return 1
	grep "tunnel replaced user=anonymous origin=v6udpv4 192.0.2.4:48000" "$T/run.2.log"
}
e2e_check "  it knows them: a session over a restored tunnel's origin replaces it" knows_restored

stable_after_restart() {
	sim --transport udp --auth digest --user alice --password secret --local-ip 192.0.2.3 \
		--local-port 42010 || return 1
	[ "$(field client_ipv6)" = "$(cat "$T/alice.addr")" ]
}
e2e_check "after the restart alice still gets her address" stable_after_restart

session_rate() {
	# 40 new sessions per address per minute, counted from one that has
	# had none: the 40th is still served, the 41st is refused with 522,
	# while 192.0.2.3 is still served. A session starts with
	# AUTHENTICATE: VERSION is answered without one.
	raw "$PY_PRE"'
codes=[]
for i in range(41):
    c=g.Rudp("192.0.2.1",3653,("192.0.2.6",0))
    assert c.sendrecv(b"VERSION=2.0.2\r\n").startswith(b"CAPABILITY")
    try:
        r=c.sendrecv(b"AUTHENTICATE ANONYMOUS\r\n\0", tries=1)
    except g.TspError:
        r=b"---"
    c.close()
    codes.append(r[:3].decode())
print(" ".join(codes))
assert codes[:40]==["200"]*40, "refused before the 41st session"
assert codes[40]=="522", "the 41st session was not refused with 522"
' || return 1
	sim --transport udp --type v6udpv4 --local-ip 192.0.2.3 --local-port 46000 --keepalive 30 >/dev/null &&
		expect status 200
}
e2e_check "sessions per address per minute: the 40th served, the 41st refused with 522; others served" session_rate

# max_sessions bounds sessions in progress: a finished UDP session, kept
# 10 s only to answer a retransmitted accept, holds no slot. With
# max_sessions 3, four setups in a row are all served.
sed 's/^    session_idle_timeout: 10$/&\n    max_sessions: 3/' "$CONF" >"$T/max3.yaml"
stop_gateway TERM
CONF=$T/max3.yaml start_gateway max3
finished_not_counted() {
	local p
	grep -q "max_sessions: 3" "$T/max3.yaml" || return 1
	gateway_serving max3 || return 1
	for p in 47000 47001 47002 47003; do
		sim --transport udp --type v6udpv4 --local-ip 192.0.2.3 --local-port "$p" >/dev/null 2>&1
		expect status 200 || { echo "setup from port $p refused"; return 1; }
	done
}
e2e_check "max_sessions counts sessions in progress, not finished ones lingering" finished_not_counted
# Back to the suite's config.
stop_gateway TERM
start_gateway 3
e2e_check "  back to the suite's config: the daemon serves" gateway_serving 3

auth_throttle() {
	local i
	for i in 1 2 3; do
		sim --transport tcp --auth plain --user bob --password wrong --local-ip 192.0.2.3 >/dev/null 2>&1
	done
	# The right password is now refused too until the window passes.
	! sim --transport tcp --auth plain --user bob --password hunter2 --local-ip 192.0.2.3 >/dev/null 2>&1 &&
		grep -q "300" "$T/last.json"
}
e2e_check "repeated failed logins from one address are refused for a while" auth_throttle

# The lifetime client's end: bounded by its own duration (and timeout).
e2e_wait_exit "$LIFE_PID" $((LIFE_FOR + 45))
life_outlived() {
	local res
	res=$(tail -n 1 "$T/life.log")
	echo "$res"
	python3 - "$res" "$LIFE_FOR" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
want = int(sys.argv[2])
ok = True
def need(cond, what):
    global ok
    if not cond:
        print("not so:", what); ok = False
need(r.get("status") == 200 and r.get("lifetime_min") == 1, "a tunnel with a 1-minute lifetime")
# gogoc gives up after three unanswered keepalives in a row: never so.
need(r.get("ka_worst_missed_run", 99) < 3, "never three keepalives unanswered in a row")
# Answered past the end of its second lifetime (120 s after it was made).
need((r.get("ka_last_answer_s") or 0) >= 125, "answered after two lifetimes")
need(r.get("ka_answered", 0) >= 0.9 * r.get("ka_sent", 0), "nine in ten keepalives answered")
sys.exit(0 if ok else 1)
PY
}
e2e_check "a busy gogoc client keeps its tunnel past its lifetime (keepalives answered for 150 s)" \
	life_outlived
life_renewed_logged() {
	local origin="origin=v6udpv4 192.0.2.7:49000"
	grep -h "tunnel renewed user=anonymous $origin " "$T"/run.*.log | grep -q "renewals=" || {
		echo "no renewal logged"
		return 1
	}
	! grep -h "tunnel expired user=anonymous $origin .*reason=lifetime" "$T"/run.*.log
}
e2e_check "  its renewals are logged, and it never expired by its lifetime" life_renewed_logged

stop_gateway TERM
echo $? >"$T/stop.rc"
stopped_cleanly() {
	[ "$(cat "$T/stop.rc")" = 0 ] || { echo "exit status $(cat "$T/stop.rc")"; return 1; }
	grep -q "stopping; the data plane stays attached" "$T/run.3.log"
}
e2e_check "SIGTERM stops the daemon cleanly (exit 0; the data plane stays)" stopped_cleanly
grep -h "^20.*tunnel " "$T"/run.*.log | head -40 | sed 's/^/# /'
e2e_check_no_leftovers
e2e_finish
