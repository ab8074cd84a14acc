#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# No relay to special-purpose IPv4 (README "Security"). A public-mode
# gateway: an anonymous client sends through its tunnel packets for
# anonymous addresses embedding 127.0.0.1, multicast, broadcast, 0/8,
# private and shared addresses and the gateway itself; an IPv6 host makes
# the gateway's kernel answer (echo replies, via the tc slow path) to such
# addresses. Nothing may leave the uplink, and drop_special_dst counts each.
# Private/shared targets are never real here (documentation addresses
# only): "refused" is shown by the counter and an empty capture. Allowed
# ranges are tried with the client's own documentation address, with and
# without `documentation` in allowed_special_ranges.
set -u
cd "$(dirname "$0")/../.."
. tests/e2e/lib.sh
TSPGW=build/tspgw
e2e_init
e2e_require_root
e2e_require_tools ip ethtool nsenter python3 timeout
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import scapy' 2>/dev/null || e2e_skip "no scapy for /usr/bin/python3"
e2e_require_built all "$TSPGW" build/xdp_pass.bpf.o
e2e_require_bpf build/xdp_pass.bpf.o
. tests/adversarial/public_gw.sh

pgw_setup documentation || { e2e_not_ok "setup"; e2e_finish; }
GW_MAC=$(e2e_mac "$PGW_G" u0)
D0_MAC=$(e2e_mac "$PGW_G" d0)
TARGETS="127.0.0.1 224.0.0.1 255.255.255.255 0.0.0.1 169.254.0.1 10.0.0.1 172.16.0.1 192.168.0.1 100.64.0.1 192.0.2.1 192.0.2.255"
N=$(echo $TARGETS | wc -w)
LIST=$(for t in $TARGETS; do printf 'anon:%s:4000,' "$t"; done)
LIST=${LIST%,}
special_src_is() { test "$(pgw_counter drop_special_src)" -eq "$1"; }

# 1. Through the tunnel (XDP decap then encap).
before=$(pgw_counter drop_special_dst)
pgw_sniff "$PGW_C" c0 10 encap "$E2E_TMP/sniff1"
SNIFF=$E2E_BG_PID
e2e_ns "$PGW_C" $CRAFT tunnel c0 "$GW_MAC" 192.0.2.2 40000 "$LIST"
e2e_wait_exit "$SNIFF" 25
after=$(pgw_counter drop_special_dst)
e2e_check "through a tunnel: drop_special_dst +$N ($before -> $after)" test $((after - before)) -eq "$N"
e2e_check "through a tunnel: nothing encapsulated left the uplink ($(cat "$E2E_TMP/sniff1"))" \
	test "$(cat "$E2E_TMP/sniff1")" = 0

# 2. Kernel replies (tc slow path): echo requests from the IPv6 side with
# spoofed anonymous sources naming refused endpoints.
before=$(pgw_counter drop_special_dst)
tc_before=$(pgw_counter encap_tc)
pgw_sniff "$PGW_C" c0 10 encap "$E2E_TMP/sniff2"
SNIFF=$E2E_BG_PID
e2e_ns "$PGW_H" $CRAFT ping6 h0 "$D0_MAC" "$LIST" 2001:db8:2::1
e2e_wait_exit "$SNIFF" 25
after=$(pgw_counter drop_special_dst)
e2e_check "echo replies: drop_special_dst +$N ($before -> $after)" test $((after - before)) -eq "$N"
e2e_check "echo replies: encap_tc unchanged" test "$(pgw_counter encap_tc)" = "$tc_before"
e2e_check "echo replies: nothing left the uplink ($(cat "$E2E_TMP/sniff2"))" test "$(cat "$E2E_TMP/sniff2")" = 0

# 3. The control, allowed (documentation): the client's own anonymous
# address gets the echo reply through tc, and the packet through XDP.
pgw_sniff "$PGW_C" c0 10 encap "$E2E_TMP/sniff3"
SNIFF=$E2E_BG_PID
e2e_ns "$PGW_H" $CRAFT ping6 h0 "$D0_MAC" anon:192.0.2.2:4000 2001:db8:2::1
e2e_ns "$PGW_C" $CRAFT tunnel c0 "$GW_MAC" 192.0.2.2 40000 anon:192.0.2.2:4000
e2e_wait_exit "$SNIFF" 25
e2e_check "allowed documentation endpoint: both reached the client ($(cat "$E2E_TMP/sniff3"))" \
	test "$(cat "$E2E_TMP/sniff3")" = 2

# 4. The same with documentation no longer allowed (re-attach).
pgw_config ""
pgw attach >"$E2E_TMP/attach2.log" 2>&1 || cat "$E2E_TMP/attach2.log"
before=$(pgw_counter drop_special_dst)
pgw_sniff "$PGW_C" c0 10 encap "$E2E_TMP/sniff4"
SNIFF=$E2E_BG_PID
e2e_ns "$PGW_H" $CRAFT ping6 h0 "$D0_MAC" anon:192.0.2.2:4000 2001:db8:2::1
e2e_wait_exit "$SNIFF" 25
after=$(pgw_counter drop_special_dst)
e2e_check "documentation not allowed: refused (drop_special_dst $before -> $after)" test $((after - before)) -eq 1
e2e_check "documentation not allowed: nothing reached the client" test "$(cat "$E2E_TMP/sniff4")" = 0
# ... and decapsulation from such a source too.
before=$(pgw_counter drop_special_src)
e2e_ns "$PGW_C" $CRAFT tunnel c0 "$GW_MAC" 192.0.2.2 40000 2001:db8:2::2
e2e_check "documentation not allowed: drop_special_src +1" \
	e2e_wait_for 5 special_src_is $((before + 1))
e2e_check_no_leftovers
e2e_finish
