#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck disable=SC2317 # helpers are called through e2e_check
# End-to-end test of tspgw's data plane with static tunnels.
#
#   ns cli                       ns gw                          ns host
#   c0 192.0.2.2/24   <-veth->   u0 192.0.2.1/24
#      192.0.2.3/24              d0 2001:db8:2::1/64  <-veth->  h0 2001:db8:2::2/64
#   tunclient (UDP) tcu: 2001:db8:100::2     tspgw XDP on u0 and d0
#   tunclient (41)  tcv: 2001:db8:100::3
#
# The clients are userspace (TUN + socket, tests/e2e/tunclient.c): this
# kernel has neither sit nor FOU. Checks: pings and TCP both ways through a
# v6udpv4 and a v6v4 tunnel, counters, anti-spoofing (bound and anonymous
# addresses), tunnel del, and a clean detach.
#
# DEMO=1 narrates each step for a human (it is the project's live demo).
# VERBOSE=1 shows command output for passing checks too; KEEP_TMP=1 keeps the
# temp dir (config, logs). Exit 0 = all passed, 1 = failures, 77 = skipped.
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
# shellcheck source=tests/e2e/lib.sh
. "$HERE/lib.sh"

TSPGW=$BUILD/tspgw
TUNCLIENT=$BUILD/tunclient
XDP_PASS=$BUILD/xdp_pass.bpf.o

e2e_require_root
e2e_require_tools ip ethtool nsenter ping nc timeout ss sha256sum head awk
if command -v python3 >/dev/null 2>&1; then
	JSON=python3
elif command -v jq >/dev/null 2>&1; then
	JSON=jq
else
	e2e_skip "needs python3 or jq to read tspgw status --json"
fi
nc -h 2>&1 | grep -q -- '-N' || e2e_skip "nc is not netcat-openbsd (no -N); make deps installs it"
e2e_require_built all "$TSPGW" "$TUNCLIENT" "$XDP_PASS"

e2e_init
e2e_require_bpf "$XDP_PASS"

NS_C=tspc$$
NS_G=tspg$$
NS_H=tsph$$
PIN=/sys/fs/bpf/tspgw-e2e-$$
TUNDEV=tsgw$$
TUN_U=tcu$$
TUN_V=tcv$$
CONF=$E2E_TMP/config.yaml
T=$E2E_TMP
START=$SECONDS
PINGS=5

e2e_two_link_config "$CONF" "$PIN" "$TUNDEV"

# --- helpers -----------------------------------------------------------------

# gw (lib.sh): tspgw in the gateway's network namespace (host mounts: the
# real bpffs).
GW_NS=$NS_G

# Snapshot the counters (status --json) into a file.
snap() { gw status --json >"$1" 2>"$1.err"; }

# counter FILE NAME: one counter from a snapshot.
counter() {
	if [ "$JSON" = python3 ]; then
		python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["counters"][sys.argv[2]]))' "$1" "$2"
	else
		jq -er ".counters.$2" "$1"
	fi
}

# grew NAME MIN BEFORE AFTER: did counter NAME grow by at least MIN?
grew() {
	local name=$1 min=$2 a b
	a=$(counter "$3" "$name") || { echo "no counter $name in $3: $(head -c 300 "$3"; cat "$3.err")"; return 1; }
	b=$(counter "$4" "$name") || { echo "no counter $name in $4: $(head -c 300 "$4"; cat "$4.err")"; return 1; }
	echo "$name: $a -> $b (+$((b - a)), want >= $min)"
	[ $((b - a)) -ge "$min" ]
}

# tunnel_stat REMOTE FIELD: one field of a tunnel in `tunnel list --json`
# (REMOTE as listed, e.g. 192.0.2.2:40000); fails if missing or null.
tunnel_stat() {
	if [ "$JSON" = python3 ]; then
		gw tunnel list --json | python3 -c '
import json, sys
t = [t for t in json.load(sys.stdin) if t["remote"] == sys.argv[1]]
v = t[0][sys.argv[2]] if t else None
sys.exit(1) if v is None else print(int(v))' "$1" "$2"
	else
		gw tunnel list --json | jq -er --arg r "$1" ".[] | select(.remote == \$r) | .$2 | floor"
	fi
}

# stat_ge REMOTE FIELD MIN: is that tunnel's FIELD at least MIN?
stat_ge() {
	local v
	v=$(tunnel_stat "$1" "$2") || { echo "no $2 for $1 in: $(gw tunnel list --json)"; return 1; }
	echo "$1 $2 = $v (want >= $3)"
	[ "$v" -ge "$3" ]
}

# stat_le REMOTE FIELD MAX
stat_le() {
	local v
	v=$(tunnel_stat "$1" "$2") || { echo "no $2 for $1 in: $(gw tunnel list --json)"; return 1; }
	echo "$1 $2 = $v (want <= $3)"
	[ "$v" -le "$3" ]
}

# Echo requests the host's kernel has received (its own netns's snmp6).
host_echos() { e2e_ns "$NS_H" awk '$1 == "Icmp6InEchos" { print $2 }' /proc/net/snmp6; }

# ping_ok NS ARGS...: PINGS echo requests, all must be answered, bounded.
ping_ok() {
	local ns=$1
	shift
	e2e_ns "$ns" ping -n -c "$PINGS" -i 0.2 -W 1 -w 6 "$@"
}

# no_reply NS SRC DST: 3 pings from SRC get no answer (ping fails).
no_reply() {
	! e2e_ns "$1" timeout 5 ping -n -c 3 -i 0.2 -W 1 -I "$2" "$3"
}

# tcp_transfer NAME SRC_NS DST_NS DST_ADDR PORT: 1 MiB over TCP, compared.
tcp_transfer() {
	local name=$1 src=$2 dst=$3 addr=$4 port=$5 lpid rc=0
	head -c 1048576 /dev/urandom >"$T/$name.in"
	e2e_ns "$dst" timeout 20 nc -6 -n -l "$addr" "$port" >"$T/$name.out" 2>"$T/$name.lerr" </dev/null &
	lpid=$!
	e2e_register_pid "$lpid"
	if ! e2e_wait_listen 5 "$dst" "$port"; then
		echo "no listener on $addr port $port"
		return 1
	fi
	e2e_ns "$src" timeout 20 nc -6 -n -N -w 10 "$addr" "$port" <"$T/$name.in" 2>"$T/$name.serr" || rc=$?
	# The listener ends by itself once the sender has closed.
	e2e_wait_exit "$lpid" 5 || echo "listener: exit $?: $(cat "$T/$name.lerr")"
	[ "$rc" = 0 ] || { echo "sender: exit $rc: $(cat "$T/$name.serr")"; return 1; }
	local a b
	a=$(sha256sum <"$T/$name.in" | cut -d' ' -f1)
	b=$(sha256sum <"$T/$name.out" | cut -d' ' -f1)
	echo "sent $(stat -c %s "$T/$name.in") bytes, received $(stat -c %s "$T/$name.out")"
	[ "$a" = "$b" ]
}

# start_client NAME TUN TYPE LOCAL SERVER: a tunclient in the client ns.
# The clients outlive any run of this script (bounded: 300 s), also on a
# loaded machine where it takes over two minutes.
start_client() {
	local name=$1 tun=$2 type=$3 local=$4 server=$5
	e2e_bg "$NS_C" "$T/$name.log" "$TUNCLIENT" --tun "$tun" --type "$type" \
		--local "$local" --server "$server" --pidfile "$T/$name.pid" --duration 300
	eval "PID_$name=\$E2E_BG_PID"
	e2e_wait_file 5 "$T/$name.pid" "$E2E_BG_PID" || {
		echo "tunclient $name did not start: $(cat "$T/$name.log")"
		return 1
	}
}

# tun_up TUN ADDR MTU: the client side of a tunnel interface.
tun_up() {
	# No link-local address: the TUN would send router solicitations and
	# MLD reports from it, which the gateway drops (drop_link_scope), and
	# the counters checked here would move for them.
	ip -n "$NS_C" link set dev "$1" addrgenmode none mtu "$3" &&
		ip -n "$NS_C" addr add "$2/128" dev "$1" nodad &&
		ip -n "$NS_C" link set dev "$1" up
}

attach_ok() {
	local rc=0
	gw attach u0 --ipv6-iface d0 --mode native >"$T/attach.log" 2>&1 || rc=$?
	cat "$T/attach.log"
	[ "$rc" = 0 ] || return "$rc"
	e2e_has_xdp "$NS_G" u0 || { echo "no XDP on u0 after attach"; return 1; }
	e2e_has_xdp "$NS_G" d0 || { echo "no XDP on d0 after attach"; return 1; }
}

# list_has STRING...: tunnel list mentions every STRING.
list_has() {
	local out s
	out=$(gw tunnel list 2>&1) || { echo "$out"; return 1; }
	echo "$out"
	for s in "$@"; do
		grep -qF -- "$s" <<<"$out" || { echo "missing: $s"; return 1; }
	done
}

# same WHAT A B
same() {
	echo "$1: $2 -> $3"
	[ -n "$2" ] && [ "$2" = "$3" ]
}

no_xdp() {
	local dev bad=0
	for dev in "$@"; do
		if e2e_has_xdp "$NS_G" "$dev"; then
			ip -n "$NS_G" -d link show dev "$dev"
			bad=1
		fi
	done
	return "$bad"
}

no_tundev() {
	! ip -n "$NS_G" link show dev "$TUNDEV" 2>/dev/null
}

no_pins() {
	[ ! -e "$PIN" ] && return 0
	ls -la "$PIN"
	[ -z "$(ls -A "$PIN")" ]
}

# reattach_no_loss: attach again (new programs swapped in with
# bpf_link_update / tc replace) while 300 pings cross the tunnel every 10 ms;
# not one may be lost, and the tunnel must still be there.
reattach_no_loss() {
	local ppid rc=0 out
	e2e_ns "$NS_C" ping -n -c 300 -i 0.01 -W 1 -w 15 2001:db8:2::2 >"$T/reattach.ping" 2>&1 &
	ppid=$!
	e2e_register_pid "$ppid"
	sleep 1
	gw attach u0 --ipv6-iface d0 --mode native >"$T/reattach.log" 2>&1 || rc=$?
	cat "$T/reattach.log"
	wait "$ppid" || { echo "ping: $(tail -3 "$T/reattach.ping")"; return 1; }
	[ "$rc" = 0 ] || return "$rc"
	grep -q "replaced in place" "$T/reattach.log" || { echo "programs were not replaced in place"; return 1; }
	out=$(tail -2 "$T/reattach.ping")
	echo "$out"
	grep -q " 0% packet loss" <<<"$out"
}

bail() {
	echo "Bail out! $*"
	for f in "$T"/*.log; do
		[ -e "$f" ] && { echo "# --- $f"; sed 's/^/# /' "$f"; }
	done
	e2e_finish
}

# --- topology ----------------------------------------------------------------

e2e_say "Building the test network" \
	"Three network namespaces joined by veth pairs: a tunnel client (IPv4 only)," \
	"the gateway, and an IPv6 host. Nothing touches this machine's own interfaces." \
	"Permanent neighbour entries make the XDP FIB lookups succeed at once."

e2e_netns_add "$NS_C" "$NS_G" "$NS_H" || bail "cannot create namespaces"
e2e_veth "$NS_C" c0 "$NS_G" u0 || bail "cannot create veth c0/u0"
e2e_veth "$NS_G" d0 "$NS_H" h0 || bail "cannot create veth d0/h0"
for ns in "$NS_C" "$NS_G" "$NS_H"; do
	e2e_ns "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 >/dev/null 2>&1
done
e2e_ns "$NS_G" sysctl -qw net.ipv6.conf.all.forwarding=1 >/dev/null

ip -n "$NS_C" addr add 192.0.2.2/24 dev c0
ip -n "$NS_C" addr add 192.0.2.3/24 dev c0
ip -n "$NS_G" addr add 192.0.2.1/24 dev u0
ip -n "$NS_G" addr add 2001:db8:2::1/64 dev d0 nodad
ip -n "$NS_H" addr add 2001:db8:2::2/64 dev h0 nodad
ip -n "$NS_H" -6 route add default via 2001:db8:2::1 dev h0

MAC_C0=$(e2e_mac "$NS_C" c0)
MAC_U0=$(e2e_mac "$NS_G" u0)
MAC_D0=$(e2e_mac "$NS_G" d0)
MAC_H0=$(e2e_mac "$NS_H" h0)
ip -n "$NS_C" neigh replace 192.0.2.1 lladdr "$MAC_U0" dev c0 nud permanent
ip -n "$NS_G" neigh replace 192.0.2.2 lladdr "$MAC_C0" dev u0 nud permanent
ip -n "$NS_G" neigh replace 192.0.2.3 lladdr "$MAC_C0" dev u0 nud permanent
ip -n "$NS_G" neigh replace 2001:db8:2::2 lladdr "$MAC_H0" dev d0 nud permanent
ip -n "$NS_H" neigh replace 2001:db8:2::1 lladdr "$MAC_D0" dev h0 nud permanent

# A veth delivers XDP-redirected frames only if its peer runs XDP too.
e2e_xdp_pass "$NS_C" c0 "$XDP_PASS" || bail "cannot attach xdp_pass to c0"
e2e_xdp_pass "$NS_H" h0 "$XDP_PASS" || bail "cannot attach xdp_pass to h0"

# Whatever happens, detach before the namespaces go (pins live in the host's
# bpffs); the pin path is removed by lib.sh's cleanup in any case.
e2e_on_exit "e2e_ns $NS_G timeout 10 $TSPGW -c $CONF detach"
e2e_register_pin "$PIN"

if [ "$E2E_DEMO" = 1 ]; then
	e2e_say "The gateway's configuration ($CONF)"
	sed 's/^/      /' "$CONF"
fi

# --- a. v6udpv4 tunnel: ping both ways ---------------------------------------

e2e_say "a. Attach the data plane" \
	"tspgw loads the XDP program on u0 (IPv4 side) and d0 (IPv6 side), pins its" \
	"maps under $PIN and creates the slow-path tunnel device $TUNDEV."
e2e_check "a. tspgw attach u0 --ipv6-iface d0 --mode native" attach_ok ||
	bail "attach failed: $(cat "$T/attach.log")"

e2e_say "a. Add a static v6udpv4 tunnel" \
	"Origin 192.0.2.2 port 40000 may send as 2001:db8:100::2; packets to that" \
	"address are encapsulated towards it."
e2e_check "a. tunnel add v6udpv4 192.0.2.2:40000 2001:db8:100::2" \
	gw tunnel add --type v6udpv4 --remote 192.0.2.2:40000 --address 2001:db8:100::2
e2e_check "a. tunnel list shows it" list_has 192.0.2.2 2001:db8:100::2

e2e_say "a. Start the tunnel client" \
	"tunclient (userspace: TUN + UDP socket bound to 192.0.2.2:40000) sends the" \
	"IPv6 packets of its TUN to 192.0.2.1:3653 and writes back what comes from there."
start_client U "$TUN_U" v6udpv4 192.0.2.2:40000 192.0.2.1:3653 || bail "tunclient (v6udpv4) did not start"
tun_up "$TUN_U" 2001:db8:100::2 1472 || bail "cannot configure $TUN_U"
ip -n "$NS_C" -6 route add 2001:db8:2::/64 dev "$TUN_U" || bail "cannot route via $TUN_U"

snap "$T/c0.json" || bail "tspgw status --json failed: $(cat "$T/c0.json.err")"
e2e_say "a. Ping the IPv6 host from the client, through the tunnel"
e2e_check "a. ping cli -> host (2001:db8:2::2) via v6udpv4" ping_ok "$NS_C" 2001:db8:2::2
e2e_say "a. Ping the client from the IPv6 host" \
	"XDP on d0 looks 2001:db8:100::2 up, prepends IPv4+UDP and redirects to u0."
e2e_check "a. ping host -> cli (2001:db8:100::2) via v6udpv4" ping_ok "$NS_H" 2001:db8:100::2

# --- b. TCP both ways ---------------------------------------------------------

e2e_say "b. TCP through the tunnel: 1 MiB each way, checksums compared"
e2e_check "b. TCP 1 MiB cli -> host" tcp_transfer up "$NS_C" "$NS_H" 2001:db8:2::2 5001
e2e_check "b. TCP 1 MiB host -> cli" tcp_transfer down "$NS_H" "$NS_C" 2001:db8:100::2 5002

# --- c. counters ---------------------------------------------------------------

snap "$T/c1.json"
e2e_say "c. The data plane's counters" \
	"decap: tunnel packets unwrapped and forwarded in XDP; encap: IPv6 packets" \
	"wrapped and sent in XDP. Both must have grown by at least the pings."
e2e_show gw status
if [ "$E2E_DEMO" = 1 ] && command -v bpftool >/dev/null 2>&1; then
	e2e_say "c. The same counters, straight from the pinned per-CPU map" \
		"(key = enum tspgw_counter: 0 decap, 1 encap, ... one value per CPU)"
	printf '    $ bpftool map dump pinned %s/counters | head -n 11\n' "$PIN"
	bpftool map dump pinned "$PIN/counters" 2>&1 | head -n 11 | sed 's/^/      /'
	if [ "$JSON" = python3 ]; then
		e2e_say "c. All of it, one line per counter (enum tspgw_counter order)"
		bpftool -j map dump pinned "$PIN/counters" 2>/dev/null | python3 -c '
import json, sys
# The names in enum order: `tspgw status --json` lists the XDP counters first.
names = list(json.load(open(sys.argv[1]))["counters"])
for e in json.load(sys.stdin):
    k = e["key"] if isinstance(e["key"], int) else int(e["key"][0], 16)
    vals = [v["value"] if isinstance(v["value"], int) else
            int.from_bytes(bytes(int(b, 16) for b in v["value"]), "little") for v in e["values"]]
    name = names[k] if k < len(names) else "?"
    print("      %2d %-15s total %-8d %s" % (k, name, sum(vals),
          " ".join("cpu%d=%d" % (i, v) for i, v in enumerate(vals))))
' "$T/c1.json"
	fi
fi
e2e_check "c. decap grew by >= $((2 * PINGS)) (pings)" grew decap $((2 * PINGS)) "$T/c0.json" "$T/c1.json"
e2e_check "c. encap grew by >= $((2 * PINGS)) (pings)" grew encap $((2 * PINGS)) "$T/c0.json" "$T/c1.json"

e2e_say "c. Keepalive" \
	"Echo requests to the keepalive address (2001:db8:2::1) are answered by XDP" \
	"itself, in place, without reaching the gateway's kernel."
snap "$T/k0.json"
e2e_check "c. keepalive ping to 2001:db8:2::1 answered" ping_ok "$NS_C" 2001:db8:2::1
snap "$T/k1.json"
e2e_check "c. keepalive grew by >= $PINGS" grew keepalive "$PINGS" "$T/k0.json" "$T/k1.json"

e2e_say "c. Slow path" \
	"The gateway's own kernel pings the client: the route for the host pool leads" \
	"into $TUNDEV, whose tc egress program encapsulates (encap_tc); the reply is" \
	"decapsulated by XDP and handed to the kernel, for it is addressed to it."
snap "$T/t0.json"
e2e_check "c. gateway kernel -> cli via the tunnel device (tc)" ping_ok "$NS_G" 2001:db8:100::2
snap "$T/t1.json"
e2e_check "c. encap_tc grew by >= $PINGS" grew encap_tc "$PINGS" "$T/t0.json" "$T/t1.json"

# --- d. anti-spoofing ----------------------------------------------------------

# spoof_case LABEL TUN SRC [TABLE]: SRC on the client's TUN (deprecated, so
# it is used only when asked for), pings from it: no reply, nothing at the
# host, drop_spoof grows.
spoof_case() {
	local label=$1 tun=$2 src=$3 table=${4:-} e0 e1
	ip -n "$NS_C" addr add "$src/128" dev "$tun" nodad preferred_lft 0
	[ -n "$table" ] && ip -n "$NS_C" -6 rule add from "$src" lookup "$table" pref 100
	snap "$T/s0.json"
	e0=$(host_echos)
	e2e_check "$label: no reply" no_reply "$NS_C" "$src" 2001:db8:2::2
	e1=$(host_echos)
	snap "$T/s1.json"
	e2e_check "$label: nothing reached the host" same "host Icmp6InEchos" "$e0" "$e1"
	e2e_check "$label: drop_spoof grew" grew drop_spoof 3 "$T/s0.json" "$T/s1.json"
	[ -n "$table" ] && ip -n "$NS_C" -6 rule del from "$src" lookup "$table" pref 100
	ip -n "$NS_C" addr del "$src/128" dev "$tun"
}

e2e_say "d. Anti-spoofing" \
	"The client now sends from 2001:db8:100::99, which its tunnel does not own." \
	"XDP drops it before the kernel sees it (drop_spoof), the host gets nothing."
spoof_case "d. v6udpv4 src 2001:db8:100::99 (not bound)" "$TUN_U" 2001:db8:100::99
e2e_say "d. Anonymous address with the wrong port" \
	"2001:db8:ffff:0:c000:202:9c41:0 embeds 192.0.2.2 port 40001 (pubtsp), but the" \
	"packet comes from port 40000: the embedded origin does not match, dropped."
spoof_case "d. v6udpv4 anon src embedding port 40001" "$TUN_U" 2001:db8:ffff:0:c000:202:9c41:0

e2e_say "d. The tunnel's own stats (tunnel list, from its binding record)" \
	"Received: the pings both ways, the TCP transfers, the keepalives and the slow" \
	"path's replies; sent: XDP and tc encapsulation; dropped: the 6 spoofed pings."
e2e_show gw tunnel list
if [ "$E2E_DEMO" = 1 ] && command -v bpftool >/dev/null 2>&1; then
	e2e_say "d. The same, straight from the pinned map: each binding carries its .stats"
	printf '    $ bpftool map dump pinned %s/bindings\n' "$PIN"
	bpftool map dump pinned "$PIN/bindings" 2>&1 | sed 's/^/      /'
fi
e2e_check "d. rx_packets >= $((4 * PINGS))" stat_ge 192.0.2.2:40000 rx_packets $((4 * PINGS))
e2e_check "d. rx_bytes >= 1 MiB (TCP up)" stat_ge 192.0.2.2:40000 rx_bytes 1048576
e2e_check "d. tx_packets >= $((3 * PINGS))" stat_ge 192.0.2.2:40000 tx_packets $((3 * PINGS))
e2e_check "d. tx_bytes >= 1 MiB (TCP down)" stat_ge 192.0.2.2:40000 tx_bytes 1048576
e2e_check "d. spoof_drops >= 6" stat_ge 192.0.2.2:40000 spoof_drops 6
e2e_check "d. last seen within the last 60 s" stat_le 192.0.2.2:40000 last_seen_s 60

# --- e. v6v4 tunnel -------------------------------------------------------------

e2e_say "e. A v6v4 (protocol 41) tunnel" \
	"Second client address 192.0.2.3, a raw-socket tunclient, 2001:db8:100::3." \
	"A source-routing rule sends what comes from 2001:db8:100::3 into its TUN."
e2e_check "e. tunnel add v6v4 192.0.2.3 2001:db8:100::3" \
	gw tunnel add --type v6v4 --remote 192.0.2.3 --address 2001:db8:100::3
start_client V "$TUN_V" v6v4 192.0.2.3 192.0.2.1 || bail "tunclient (v6v4) did not start"
tun_up "$TUN_V" 2001:db8:100::3 1480 || bail "cannot configure $TUN_V"
ip -n "$NS_C" -6 route add 2001:db8:2::/64 dev "$TUN_V" table 100
ip -n "$NS_C" -6 rule add from 2001:db8:100::3 lookup 100 pref 100

snap "$T/e0.json"
e2e_check "e. ping cli -> host via v6v4" ping_ok "$NS_C" -I 2001:db8:100::3 2001:db8:2::2
e2e_check "e. ping host -> cli (2001:db8:100::3) via v6v4" ping_ok "$NS_H" 2001:db8:100::3
snap "$T/e1.json"
e2e_check "e. decap grew by >= $((2 * PINGS))" grew decap $((2 * PINGS)) "$T/e0.json" "$T/e1.json"
e2e_check "e. encap grew by >= $((2 * PINGS))" grew encap $((2 * PINGS)) "$T/e0.json" "$T/e1.json"
e2e_check "e. TCP 1 MiB host -> cli via v6v4" tcp_transfer down4 "$NS_H" "$NS_C" 2001:db8:100::3 5003
spoof_case "e. v6v4 src 2001:db8:100::98 (not bound)" "$TUN_V" 2001:db8:100::98 100
spoof_case "e. v6v4 anon src embedding 192.0.2.4" "$TUN_V" 2001:db8:ffff:0:c000:204:0:0 100

e2e_say "e. Delete the v6v4 tunnel: its packets are no longer accepted (drop_unbound)"
snap "$T/u0.json"
e2e_check "e. tunnel del v6v4 192.0.2.3" gw tunnel del --type v6v4 --remote 192.0.2.3
e2e_check "e. after del: no reply" no_reply "$NS_C" 2001:db8:100::3 2001:db8:2::2
snap "$T/u1.json"
e2e_check "e. after del: drop_unbound grew" grew drop_unbound 3 "$T/u0.json" "$T/u1.json"
e2e_check "e. the v6udpv4 tunnel still works" ping_ok "$NS_C" 2001:db8:2::2

if [ "$E2E_DEMO" = 1 ]; then
	e2e_say "Counters at the end"
	gw status 2>&1 | sed 's/^/      /'
	e2e_say "The tunnel clients' own counters"
	for c in U V; do
		eval "pid=\$PID_$c"
		kill -USR1 "$pid" 2>/dev/null
	done
	sleep 0.2
	cat "$T/U.log" "$T/V.log" 2>/dev/null | sed 's/^/      /'
fi

# --- replace without loss ---------------------------------------------------

e2e_say "Attach again while traffic flows" \
	"The programs are swapped atomically (bpf_link_update, tc replace) and the" \
	"pinned maps are reused: 300 pings 10 ms apart must all come back."
e2e_check "attach again while pinging every 10 ms: no loss, tunnel kept" reattach_no_loss
e2e_check "the tunnel survived the replacement" list_has 192.0.2.2 2001:db8:100::2

# --- f. detach -----------------------------------------------------------------

e2e_say "f. Detach" \
	"Removes the XDP programs, the tunnel device and every pin."
e2e_check "f. tspgw detach" gw detach
e2e_check "f. no XDP left on u0 and d0" no_xdp u0 d0
e2e_check "f. tunnel device $TUNDEV is gone" no_tundev
e2e_check "f. no pins under $PIN" no_pins
e2e_check "f. ping through the tunnel now fails" no_reply "$NS_C" 2001:db8:100::2 2001:db8:2::2

for c in U V; do
	eval "pid=\${PID_$c:-}"
	[ -n "$pid" ] && e2e_stop "$pid" 3
done
if [ "$E2E_VERBOSE" = 1 ] || [ "$E2E_FAILED" -gt 0 ]; then
	sed 's/^/# /' "$T/U.log" "$T/V.log" 2>/dev/null
fi
e2e_check_no_leftovers
e2e_log "took $((SECONDS - START)) s"
e2e_finish
