#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck disable=SC2317 # helpers are called through e2e_check
# Link scope stays in the tunnel (README "Security").
#
#   ns cli 192.0.2.2 (c0) ─┐
#   ns host (h0)          ─┼─ br0 in ns sw ── u0 ns gw: 192.0.2.1, 2001:db8:2::1, ::9
#     2001:db8:2::2        │                   tspgw XDP + tc ingress on u0,
#     fe80::... (its own) ─┘                   tunnel device $TUNDEV
#
# One segment carries the tunnels' IPv4 and the IPv6 host, as on a gateway
# with one uplink. The client owns a static v6udpv4 tunnel (2001:db8:100::2)
# and, through it, sends what an attacker would (tunnel_attack.py): a Neighbor
# Advertisement claiming the host's address (link-local and global source,
# with extension headers), NS, RS, RA, Redirect, MLD reports, pings to the
# host's link-local address, from a link-local source, to multicast. Checks:
# the gateway's REACHABLE neighbour entry for the host keeps its MAC, no
# attack packet reaches the host (a capture on h0), drop_link_scope moved by
# exactly the number of packets and drop_spoof not at all (MLD reports are
# link traffic, not spoofing). Then what the gateway must still do: answer a
# ping to its own address and send Time Exceeded for hop limit 1, both
# through the tunnel, with those packets received on the tunnel device and
# not on u0.
#
# XDP_MODE=generic runs the same with generic XDP. Exit 0/1, 77 = skipped.
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
# shellcheck source=tests/e2e/lib.sh
. "$ROOT/tests/e2e/lib.sh"

TSPGW=$BUILD/tspgw
TUNCLIENT=$BUILD/tunclient
XDP_PASS=$BUILD/xdp_pass.bpf.o
ATTACK=$HERE/tunnel_attack.py
PY=/usr/bin/python3
MODE=${XDP_MODE:-native}

e2e_require_root
e2e_require_tools ip ethtool nsenter ping timeout awk
if ! [ -x "$PY" ] || ! "$PY" -c 'import scapy.all' 2>/dev/null; then
	e2e_skip "needs Debian's python3 with scapy (make deps: python3-scapy)"
fi
e2e_require_built all "$TSPGW" "$TUNCLIENT" "$XDP_PASS"

e2e_init
e2e_require_bpf "$XDP_PASS"

NS_C=tlsc$$
NS_G=tlsg$$
NS_H=tlsh$$
NS_S=tlss$$
PIN=/sys/fs/bpf/tspgw-adv-$$
TUNDEV=tls$$
TUN_K=tlk$$
CONF=$E2E_TMP/config.yaml
T=$E2E_TMP
MARKER=tspgw-adv-ls-$$
ATTACK_MAC=02:00:00:00:ba:d1

cat >"$CONF" <<EOF
interfaces:
  ipv4: u0
  ipv6: u0
  xdp_mode: $MODE
  tunnel_device: $TUNDEV
gateway:
  ipv4: 192.0.2.1
  ipv6: 2001:db8:2::1
tsp:
  port: 3653
pools:
  hosts: 2001:db8:100::/64
data_plane:
  pin_path: $PIN
  max_tunnels: 64
  allowed_special_ranges: [documentation]   # the test uses documentation addresses
EOF

gw() { e2e_ns "$NS_G" timeout 20 "$TSPGW" -c "$CONF" "$@"; }

# counter NAME: one counter, now.
counter() {
	gw status --json | "$PY" -c 'import json,sys; print(int(json.load(sys.stdin)["counters"][sys.argv[1]]))' "$1"
}

# snmp6 NS DEV FIELD: a per-interface IPv6 statistic.
# shellcheck disable=SC2016 # an awk program
snmp6() { e2e_ns "$1" awk -v f="$3" '$1 == f { print $2 }' "/proc/net/dev_snmp6/$2"; }

host_lladdr() { ip -n "$NS_G" -6 neigh show 2001:db8:2::2 dev u0 | awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1) }'; }

bail() {
	echo "Bail out! $*"
	e2e_finish
}

attack() {
	e2e_ns "$NS_C" timeout 60 "$PY" "$ATTACK" send --local 192.0.2.2:40000 --server 192.0.2.1:3653 \
		--src6 2001:db8:100::2 --gw6 2001:db8:2::9 --victim6 2001:db8:2::2 \
		--victim-ll "$HOST_LL" --mac "$ATTACK_MAC" --marker "$MARKER" "$@"
}

# --- topology ----------------------------------------------------------------

e2e_netns_add "$NS_C" "$NS_G" "$NS_H" "$NS_S" || bail "cannot create namespaces"
e2e_register_pin "$PIN"
e2e_on_exit "e2e_ns $NS_G timeout 10 $TSPGW -c $CONF detach >/dev/null 2>&1"
ip -n "$NS_S" link add br0 type bridge || bail "no bridge"
ip -n "$NS_S" link set br0 up || bail "bridge down"
e2e_veth "$NS_G" u0 "$NS_S" s0 || bail "veth u0"
e2e_veth "$NS_C" c0 "$NS_S" s1 || bail "veth c0"
e2e_veth "$NS_H" h0 "$NS_S" s2 || bail "veth h0"
for p in s0 s1 s2; do ip -n "$NS_S" link set "$p" master br0 || bail "bridge port $p"; done
for ns in "$NS_C" "$NS_G" "$NS_H"; do
	e2e_ns "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 >/dev/null
done
e2e_ns "$NS_H" sysctl -qw net.ipv6.conf.h0.accept_ra=0 >/dev/null
ip -n "$NS_C" addr add 192.0.2.2/24 dev c0
ip -n "$NS_G" addr add 192.0.2.1/24 dev u0
ip -n "$NS_G" addr add 2001:db8:2::1/64 dev u0 nodad
# A second address of the gateway: 2001:db8:2::1 is also the keepalive
# address, whose echo requests XDP answers itself.
ip -n "$NS_G" addr add 2001:db8:2::9/64 dev u0 nodad
ip -n "$NS_H" addr add 2001:db8:2::2/64 dev h0 nodad
ip -n "$NS_H" -6 route add default via 2001:db8:2::1 dev h0
# The uplink's frames from XDP_TX reach the bridge only if s0 runs XDP.
e2e_xdp_pass "$NS_S" s0 "$XDP_PASS" || bail "cannot attach xdp_pass to s0"

MAC_H0=$(e2e_mac "$NS_H" h0)
HOST_LL=$(ip -n "$NS_H" -6 -o addr show dev h0 scope link | awk '{ sub("/.*", "", $4); print $4 }')
[ -n "$HOST_LL" ] || bail "h0 has no link-local address"

attach_ok() {
	gw attach u0 --mode "$MODE" >"$T/attach.log" 2>&1 || { cat "$T/attach.log"; return 1; }
	cat "$T/attach.log"
}
e2e_check "attach ($MODE XDP)" attach_ok || bail "attach failed"
e2e_check "attach put tc ingress on u0" grep "tc ingress on u0: attached" "$T/attach.log"
e2e_check "tunnel add v6udpv4 192.0.2.2:40000 2001:db8:100::2" \
	gw tunnel add --type v6udpv4 --remote 192.0.2.2:40000 --address 2001:db8:100::2

# A REACHABLE (not permanent) neighbour entry for the host, as traffic makes it.
# Its link-local address too, so a packet to it could be forwarded at once.
# An entry that existed already goes STALE -> DELAY -> PROBE -> REACHABLE
# after traffic (about 5 s: delay_first_probe_time); a new one is REACHABLE
# at once. Ping once a second until it is, for at most 15 s.
reachable() {
	local i
	for i in $(seq 1 15); do
		e2e_ns "$NS_G" ping -n -c 1 -W 1 2001:db8:2::2 >/dev/null
		e2e_ns "$NS_G" ping -n -c 1 -W 1 "$HOST_LL%u0" >/dev/null
		if ip -n "$NS_G" -6 neigh show 2001:db8:2::2 dev u0 | grep -q "lladdr $MAC_H0 .*REACHABLE"; then
			ip -n "$NS_G" -6 neigh show 2001:db8:2::2 dev u0
			return 0
		fi
		sleep 1
	done
	ip -n "$NS_G" -6 neigh show 2001:db8:2::2 dev u0
	return 1
}
e2e_check "gateway has a REACHABLE entry for the host ($MAC_H0)" reachable

tunnel_tc_ingress() {
	local out
	out=$(gw status) || return 1
	echo "$out" | grep "tc ingress"
	echo "$out" | grep -q "tc ingress:    u0 prog [0-9]"
}
e2e_check "status shows tc ingress on u0" tunnel_tc_ingress

# --- the attacks ----------------------------------------------------------------

KINDS=(na_override na_global na_global_hbh ns rs ra redirect mld1_report mld2_report
	mld2_report_unspec ll_ping ll_src_ping mc_ping mc_ping_global)

e2e_bg "$NS_H" "$T/sniff.log" "$PY" "$ATTACK" sniff --iface h0 --seconds 8 \
	--out "$T/sniff.txt" --marker "$MARKER"
SNIFF_PID=$E2E_BG_PID
e2e_wait_file 15 "$T/sniff.txt.ready" "$SNIFF_PID" || bail "capture did not start: $(cat "$T/sniff.log")"
sleep 0.5

# A missing counter reads as a value no delta can match.
ls0=$(counter drop_link_scope) || ls0=-1000000
sp0=$(counter drop_spoof)
dc0=$(counter decap)
pk0=$(counter pass_kernel)
e2e_check "send ${#KINDS[@]} link-scope packets through the tunnel" attack "${KINDS[@]}"
sleep 1
ls1=$(counter drop_link_scope) || ls1=-2000000
sp1=$(counter drop_spoof)
dc1=$(counter decap)
pk1=$(counter pass_kernel)

exact() {
	echo "$1: $2 -> $3 (want +$4)"
	[ $(($3 - $2)) -eq "$4" ]
}
e2e_check "drop_link_scope +${#KINDS[@]}, one per packet" exact drop_link_scope "$ls0" "$ls1" "${#KINDS[@]}"
e2e_check "drop_spoof +0 (MLD reports are not spoofing)" exact drop_spoof "$sp0" "$sp1" 0
e2e_check "nothing decapsulated or passed to the kernel" \
	exact "decap+pass_kernel" $((dc0 + pk0)) $((dc1 + pk1)) 0

neigh_kept() {
	local mac
	mac=$(host_lladdr)
	ip -n "$NS_G" -6 neigh show 2001:db8:2::2 dev u0
	[ "$mac" = "$MAC_H0" ]
}
e2e_check "gateway's neighbour entry for the host still has $MAC_H0" neigh_kept
no_attacker_neigh() {
	! ip -n "$NS_G" -6 neigh show | grep -i "$ATTACK_MAC"
}
e2e_check "no neighbour entry of the gateway has the attacker's MAC" no_attacker_neigh
no_ra_route() {
	! ip -n "$NS_G" -6 route show | grep -E "2001:db8:bad|default"
}
e2e_check "no route or prefix learnt from the RA" no_ra_route

e2e_wait_exit "$SNIFF_PID" 15 >/dev/null
host_saw_nothing() {
	cat "$T/sniff.txt" 2>/dev/null || { cat "$T/sniff.log"; return 1; }
	grep -qx "count 0" "$T/sniff.txt"
}
e2e_check "capture on the host: no attack packet arrived" host_saw_nothing

# --- a stock client kernel ------------------------------------------------------

# A client whose tunnel interface has a link-local address, as every stock
# client's does: when it comes up its kernel sends MLD reports (from :: and
# from fe80::) and router solicitations into the tunnel on its own. Its own
# origin (port 40002) and address, so nothing else moves its counters.
stock_client() {
	local sp0 ls0 sp1 ls1 i
	gw tunnel add --type v6udpv4 --remote 192.0.2.2:40002 --address 2001:db8:100::5 || return 1
	e2e_bg "$NS_C" "$T/K.log" "$TUNCLIENT" --tun "$TUN_K" --type v6udpv4 \
		--local 192.0.2.2:40002 --server 192.0.2.1:3653 --pidfile "$T/K.pid" --duration 60
	e2e_wait_file 10 "$T/K.pid" "$E2E_BG_PID" || { cat "$T/K.log"; return 1; }
	sp0=$(counter drop_spoof) || return 1
	ls0=$(counter drop_link_scope) || ls0=-1000000
	e2e_ns "$NS_C" sysctl -qw "net.ipv6.conf.$TUN_K.accept_ra=1" "net.ipv6.conf.$TUN_K.router_solicitations=3" \
		"net.ipv6.conf.$TUN_K.router_solicitation_interval=1" >/dev/null
	ip -n "$NS_C" link set dev "$TUN_K" addrgenmode random mtu 1472 &&
		ip -n "$NS_C" addr add 2001:db8:100::5/128 dev "$TUN_K" nodad &&
		ip -n "$NS_C" link set dev "$TUN_K" up || return 1
	# Reports and solicitations go out within a few seconds of "up".
	for ((i = 0; i < 60; i++)); do
		ls1=$(counter drop_link_scope) || ls1=-2000000
		[ $((ls1 - ls0)) -ge 3 ] && break
		sleep 0.2
	done
	sleep 1
	sp1=$(counter drop_spoof)
	ls1=$(counter drop_link_scope) || ls1=-2000000
	echo "client kernel's own packets: drop_link_scope $ls0 -> $ls1, drop_spoof $sp0 -> $sp1"
	[ $((ls1 - ls0)) -ge 3 ] && [ "$sp1" = "$sp0" ]
}
e2e_check "a stock client kernel's MLD reports and RS: drop_link_scope, not drop_spoof" stock_client

# --- what still works, and where the kernel sees it ----------------------------

ue0=$(snmp6 "$NS_G" u0 Icmp6InEchos)
te0=$(snmp6 "$NS_G" "$TUNDEV" Icmp6InEchos)
td0=$(counter pass_tun_dev) || td0=-1000000
e2e_check "ping to the gateway's own 2001:db8:2::9 is answered through the tunnel" attack ping_gw
ue1=$(snmp6 "$NS_G" u0 Icmp6InEchos)
te1=$(snmp6 "$NS_G" "$TUNDEV" Icmp6InEchos)
e2e_check "the echo request arrived on the tunnel device ($TUNDEV)" exact Icmp6InEchos "$te0" "$te1" 1
e2e_check "and not on u0" exact "u0 Icmp6InEchos" "$ue0" "$ue1" 0

tr0=$(snmp6 "$NS_G" "$TUNDEV" Ip6InReceives)
e2e_check "hop limit 1 to the host: Time Exceeded comes back through the tunnel" attack hop1
tr1=$(snmp6 "$NS_G" "$TUNDEV" Ip6InReceives)
td1=$(counter pass_tun_dev) || td1=-2000000
e2e_check "the hop-limit-1 packet was received on the tunnel device" exact "$TUNDEV Ip6InReceives" "$tr0" "$tr1" 1
e2e_check "pass_tun_dev +2 (ping, hop limit 1)" exact pass_tun_dev "$td0" "$td1" 2

tundev_sysctls() {
	local k v bad=0
	for k in accept_ra accept_redirects; do
		v=$(e2e_ns "$NS_G" cat "/proc/sys/net/ipv6/conf/$TUNDEV/$k")
		echo "$TUNDEV $k=$v"
		[ "$v" = 0 ] || bad=1
	done
	return "$bad"
}
e2e_check "tunnel device: accept_ra=0, accept_redirects=0" tundev_sysctls

detach_clean() {
	gw detach || return 1
	! e2e_ns "$NS_G" tc filter show dev u0 ingress | grep -q .
}
e2e_check "detach removes the tc ingress filter from u0" detach_clean

e2e_check_no_leftovers
e2e_finish
