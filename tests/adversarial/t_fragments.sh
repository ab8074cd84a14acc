#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck disable=SC2317,SC2016 # helpers are called through e2e_check; awk programs
# Fragmented tunnel packets are delivered, and spoofed fragments never pass.
#
#   ns cli                       ns gw (tspgw run)              ns host
#   c0 192.0.2.2-.4/24 <-veth->  u0 192.0.2.1/24
#                                d0 2001:db8:2::1/64  <-veth->  h0 2001:db8:2::2/64
#
# The client (scapy, tests/adversarial/frag_send.py) sends IPv6 echo
# requests inside v6udpv4 and v6v4 with the outer IPv4 packet cut into
# fragments, as behind a small path MTU. XDP cannot check a fragment: it
# passes it to the kernel (pass_fragment), which reassembles it; the
# daemon's slow path must then apply XDP's checks and deliver the packet
# on the tunnel device (decap_fragment). Before the slow path existed
# these packets were lost (the broker's socket ignored the v6udpv4 ones;
# protocol 41 got ICMP protocol-unreachable), so the delivery checks fail
# on that code. Spoofed, unbound and link-scoped ones must never reach the
# host, each counted by its reason; neither must ND and MLD messages with
# global addresses (the rule XDP applies, bpf/link_scope.h).
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
# shellcheck source=tests/e2e/lib.sh
. "$ROOT/tests/e2e/lib.sh"

TSPGW=$BUILD/tspgw
XDP_PASS=$BUILD/xdp_pass.bpf.o
SEND=$HERE/frag_send.py

e2e_require_root
e2e_require_tools ip ethtool nsenter timeout awk python3
/usr/bin/python3 -c 'import scapy.all' 2>/dev/null || e2e_skip "needs python3-scapy (make deps)"
e2e_require_built all "$TSPGW" "$XDP_PASS"
e2e_init
e2e_require_bpf "$XDP_PASS"

NS_C=tfrc$$
NS_G=tfrg$$
NS_H=tfrh$$
PIN=/sys/fs/bpf/tspgw-adv-frag-$$
TUNDEV=tfr$$
CONF=$E2E_TMP/config.yaml
T=$E2E_TMP

e2e_two_link_config "$CONF" "$PIN" "$TUNDEV"
cat >>"$CONF" <<EOF
broker:
  auth: {mechanisms: [ANONYMOUS], sasldb: $T/sasldb}
  database: $T/tunnels.db
EOF

gw() { e2e_ns "$NS_G" timeout 20 "$TSPGW" -c "$CONF" "$@"; }

bail() {
	echo "Bail out! $*"
	[ -e "$T/run.log" ] && sed 's/^/# /' "$T/run.log"
	e2e_finish
}

# counter NAME: one counter of `tspgw status --json` (XDP or slow path).
counter() {
	gw status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["counters"].get(sys.argv[1], "missing"))' "$1"
}

# ICMP destination-unreachable messages the client's kernel has received
# (the kernel answers unhandled protocol-41 packets with one).
client_unreachs() { e2e_ns "$NS_C" awk '$1 == "Icmp:" && $2 ~ /^[0-9]+$/ { print $4 }' /proc/net/snmp; }

# Echo requests the host's kernel has received.
host_echos() { e2e_ns "$NS_H" awk '$1 == "Icmp6InEchos" { print $2 }' /proc/net/snmp6; }

MAC_U0=
# send ARGS...: fragmented tunnel packets from the client (frag_send.py).
send() {
	e2e_ns "$NS_C" timeout 30 /usr/bin/python3 "$SEND" --iface c0 --dmac "$MAC_U0" --dst4 192.0.2.1 "$@"
}

# delivered COUNT SEND-ARGS...: COUNT fragmented echo requests reach the
# host, and pass_fragment and decap_fragment grow by at least COUNT.
delivered() {
	local n=$1 pf0 df0 e0 e1 pf1 df1 i
	shift
	pf0=$(counter pass_fragment) df0=$(counter decap_fragment) e0=$(host_echos)
	send --count "$n" "$@" || return 1
	for ((i = 0; i < 50; i++)); do
		e1=$(host_echos)
		[ $((e1 - e0)) -ge "$n" ] && break
		sleep 0.1
	done
	pf1=$(counter pass_fragment) df1=$(counter decap_fragment)
	echo "host echo requests: $e0 -> $e1 (want +$n)"
	echo "pass_fragment: $pf0 -> $pf1, decap_fragment: $df0 -> $df1"
	[ "$df1" != missing ] && [ $((e1 - e0)) -ge "$n" ] && [ $((pf1 - pf0)) -ge "$n" ] &&
		[ $((df1 - df0)) -ge "$n" ]
}

# tunnel_stats REMOTE: "rx_packets rx_bytes last_seen_s" of one tunnel
# (`tspgw tunnel list --json`; last_seen_s -1 when never seen).
tunnel_stats() {
	gw tunnel list --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
for t in (d["tunnels"] if isinstance(d, dict) else d):
    if t["remote"] == sys.argv[1]:
        s = t["last_seen_s"]
        print(t["rx_packets"], t["rx_bytes"], -1 if s is None else s)
        break
else:
    print("missing")' "$1"
}

# delivered_counted REMOTE COUNT BYTES SEND-ARGS...: as delivered, and the
# tunnel's own stats count them (slow path: XDP never saw these packets
# whole): rx_packets +COUNT, rx_bytes +COUNT*BYTES, last seen during the
# send (a tunnel that only sends fragmented packets must not expire).
delivered_counted() {
	local remote=$1 n=$2 bytes=$3 p0 b0 l0 p1 b1 l1 t0 took
	shift 3
	read -r p0 b0 l0 <<<"$(tunnel_stats "$remote")"
	[ "$p0" != missing ] || { echo "no tunnel $remote"; return 1; }
	t0=$SECONDS
	delivered "$n" "$@" || return 1
	read -r p1 b1 l1 <<<"$(tunnel_stats "$remote")"
	took=$((SECONDS - t0 + 1))
	echo "tunnel $remote: rx_packets $p0 -> $p1, rx_bytes $b0 -> $b1," \
		"last_seen_s $l0 -> $l1 (want 0..$took: during the send)"
	[ $((p1 - p0)) -eq "$n" ] && [ $((b1 - b0)) -eq $((n * bytes)) ] &&
		awk -v l="$l1" -v t="$took" 'BEGIN { exit !(l >= 0 && l <= t) }'
}

# refused REASON COUNT SEND-ARGS...: COUNT fragmented packets never reach
# the host and counter REASON grows by COUNT; decap_fragment does not move.
refused() {
	local reason=$1 n=$2 r0 r1 df0 df1 e0 e1 i
	shift 2
	r0=$(counter "$reason") df0=$(counter decap_fragment) e0=$(host_echos)
	[ "$r0" != missing ] || { echo "no counter $reason"; return 1; }
	send --count "$n" "$@" || return 1
	for ((i = 0; i < 50; i++)); do
		r1=$(counter "$reason")
		[ $((r1 - r0)) -ge "$n" ] && break
		sleep 0.1
	done
	sleep 0.5 # anything that slipped through would have arrived by now
	r1=$(counter "$reason") df1=$(counter decap_fragment) e1=$(host_echos)
	echo "$reason: $r0 -> $r1 (want +$n); decap_fragment: $df0 -> $df1; host echos: $e0 -> $e1"
	[ $((r1 - r0)) -eq "$n" ] && [ "$df0" = "$df1" ] && [ "$e0" = "$e1" ]
}

# The gateway's neighbour table, both families, without the states (they
# age on their own).
neigh_table() { ip -n "$NS_G" neigh show | awk '{ $NF = ""; print }' | sort; }

# link_msg_refused COUNT SEND-ARGS...: as refused frag_drop_link_scope, and
# the gateway's neighbour table is the same afterwards.
link_msg_refused() {
	local n0 n1
	n0=$(neigh_table)
	refused frag_drop_link_scope "$@" || return 1
	n1=$(neigh_table)
	[ "$n0" = "$n1" ] || { echo "neighbour table changed:"; diff <(echo "$n0") <(echo "$n1"); return 1; }
}

# status_shows NAME...: the human `tspgw status` lists these counters.
status_shows() {
	local out name
	out=$(gw status) || return 1
	for name in "$@"; do
		grep -qE "^  $name +[0-9]+$" <<<"$out" || { echo "$out"; echo "missing: $name"; return 1; }
	done
}

# --- topology ----------------------------------------------------------------

e2e_netns_add "$NS_C" "$NS_G" "$NS_H" || bail "cannot create namespaces"
e2e_veth "$NS_C" c0 "$NS_G" u0 || bail "cannot create veth c0/u0"
e2e_veth "$NS_G" d0 "$NS_H" h0 || bail "cannot create veth d0/h0"
for ns in "$NS_C" "$NS_G" "$NS_H"; do
	e2e_ns "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 >/dev/null 2>&1
done
e2e_ns "$NS_G" sysctl -qw net.ipv6.conf.all.forwarding=1 >/dev/null || bail "forwarding"
for a in 192.0.2.2 192.0.2.3 192.0.2.4; do
	ip -n "$NS_C" addr add "$a/24" dev c0 || bail "client address $a"
done
ip -n "$NS_G" addr add 192.0.2.1/24 dev u0 || bail "gateway address"
ip -n "$NS_G" addr add 2001:db8:2::1/64 dev d0 nodad || bail "gateway IPv6 address"
ip -n "$NS_H" addr add 2001:db8:2::2/64 dev h0 nodad || bail "host address"
ip -n "$NS_H" -6 route add default via 2001:db8:2::1 dev h0 || bail "host route"
MAC_U0=$(e2e_mac "$NS_G" u0)
for a in 192.0.2.2 192.0.2.3 192.0.2.4; do
	ip -n "$NS_G" neigh replace "$a" lladdr "$(e2e_mac "$NS_C" c0)" dev u0 nud permanent
done
ip -n "$NS_G" neigh replace 2001:db8:2::2 lladdr "$(e2e_mac "$NS_H" h0)" dev d0 nud permanent
ip -n "$NS_H" neigh replace 2001:db8:2::1 lladdr "$(e2e_mac "$NS_G" d0)" dev h0 nud permanent
e2e_xdp_pass "$NS_C" c0 "$XDP_PASS" || bail "cannot attach xdp_pass to c0"
e2e_xdp_pass "$NS_H" h0 "$XDP_PASS" || bail "cannot attach xdp_pass to h0"
e2e_on_exit "e2e_ns $NS_G timeout 10 $TSPGW -c $CONF detach"
e2e_register_pin "$PIN"

e2e_bg "$NS_G" "$T/run.log" "$TSPGW" -c "$CONF" run u0 --ipv6-iface d0 --mode native
RUN_PID=$E2E_BG_PID
e2e_wait_for 30 grep -q "serving TSP" "$T/run.log" || bail "tspgw run did not start"

gw tunnel add --type v6udpv4 --remote 192.0.2.2:40000 --address 2001:db8:100::2 ||
	bail "tunnel add v6udpv4"
gw tunnel add --type v6v4 --remote 192.0.2.3 --address 2001:db8:100::3 || bail "tunnel add v6v4"

UNREACH0=$(client_unreachs)
U="--type v6udpv4 --src4 192.0.2.2 --sport 40000"
V="--type v6v4 --src4 192.0.2.3"
# shellcheck disable=SC2086
{
	# 1248 bytes: IPv6 header, ICMPv6 echo header, 1200 data bytes.
	e2e_check "v6udpv4, outer IPv4 fragmented: reaches the host, counted in the tunnel's stats" \
		delivered_counted 192.0.2.2:40000 3 1248 $U --src6 2001:db8:100::2 --dst6 2001:db8:2::2
	e2e_check "v6v4, outer IPv4 fragmented: reaches the host, counted in the tunnel's stats" \
		delivered_counted 192.0.2.3 3 1248 $V --src6 2001:db8:100::3 --dst6 2001:db8:2::2
	e2e_check "v6udpv4 fragments, spoofed inner source: never delivered, frag_drop_spoof" \
		refused frag_drop_spoof 3 $U --src6 2001:db8:100::99 --dst6 2001:db8:2::2
	e2e_check "v6v4 fragments, another tunnel's inner source: never delivered, frag_drop_spoof" \
		refused frag_drop_spoof 3 $V --src6 2001:db8:100::2 --dst6 2001:db8:2::2
	e2e_check "v6udpv4 fragments from an unbound port: never delivered, frag_drop_unbound" \
		refused frag_drop_unbound 3 --type v6udpv4 --src4 192.0.2.2 --sport 40001 \
		--src6 2001:db8:100::2 --dst6 2001:db8:2::2
	e2e_check "v6v4 fragments from an unbound address: never delivered, frag_drop_unbound" \
		refused frag_drop_unbound 3 --type v6v4 --src4 192.0.2.4 \
		--src6 2001:db8:100::3 --dst6 2001:db8:2::2
	e2e_check "v6udpv4 fragments to a link-scoped destination: frag_drop_link_scope" \
		refused frag_drop_link_scope 2 $U --src6 2001:db8:100::2 --dst6 ff02::1
	e2e_check "v6v4 fragments from a link-local source: frag_drop_link_scope" \
		refused frag_drop_link_scope 2 $V --src6 fe80::3 --dst6 2001:db8:2::2
	# The tunnel's own global addresses do not make ND or MLD routable:
	# XDP refuses them unfragmented (t_link_scope.sh), the slow path too.
	e2e_check "v6udpv4 fragments, an NA for the host's address: frag_drop_link_scope, neighbours unchanged" \
		link_msg_refused 2 $U --src6 2001:db8:100::2 --dst6 2001:db8:2::1 --msg na \
		--target 2001:db8:2::2
	e2e_check "v6v4 fragments, an NA for the host's address: frag_drop_link_scope, neighbours unchanged" \
		link_msg_refused 2 $V --src6 2001:db8:100::3 --dst6 2001:db8:2::1 --msg na \
		--target 2001:db8:2::2
	e2e_check "v6udpv4 fragments, an MLDv2 report behind Hop-by-Hop: frag_drop_link_scope" \
		refused frag_drop_link_scope 2 $U --src6 2001:db8:100::2 --dst6 2001:db8:2::1 --msg mld2
}
e2e_check "no ICMP protocol-unreachable came back for any protocol-41 fragment" \
	test "$(client_unreachs)" = "$UNREACH0"
e2e_check "tspgw status lists the slow path's counters" \
	status_shows decap_fragment frag_drop_spoof frag_drop_unbound frag_drop_link_scope
e2e_check "tspgw run is still running" kill -0 "$RUN_PID"

e2e_check_no_leftovers
e2e_finish
