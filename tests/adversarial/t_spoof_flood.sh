#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# A spoofing flood costs legitimate tunnels nothing (README "Security").
# While one raw socket floods the gateway for several seconds with tunnel
# packets from forged origins whose inner sources are not their own, a
# legitimate anonymous tunnel sends its packets through: every one of them
# reaches the IPv6 host (0 % loss), none of the flood does, and drop_spoof
# counts the flood.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh
TSPGW=build/tspgw
e2e_init
e2e_require_root
e2e_require_tools ip ethtool nsenter python3 timeout
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import scapy' 2>/dev/null || e2e_skip "no scapy for /usr/bin/python3"
e2e_require_built all "$TSPGW" build/xdp_pass.bpf.o
e2e_require_bpf build/xdp_pass.bpf.o
. tests/adversarial/public_gw.sh

LEGIT=300
FLOOD_S=${FLOOD_SECONDS:-8}

pgw_setup documentation || { e2e_not_ok "setup"; e2e_finish; }
GW_MAC=$(e2e_mac "$PGW_G" u0)
H=2001:db8:2::2
ip -n "$PGW_G" -6 neigh replace "$H" lladdr "$(e2e_mac "$PGW_H" h0)" dev d0 nud permanent

# Echo requests the IPv6 host's kernel received (its own counter: a
# capture in userspace could itself lose packets under the flood).
h_echos() { e2e_ns "$PGW_H" awk '$1 == "Icmp6InEchos" { print $2 }' /proc/net/snmp6; }

s0=$(pgw_counter drop_spoof)
d0=$(pgw_counter decap)
h0=$(h_echos)
e2e_bg "$PGW_C" "$E2E_TMP/flooded" $CRAFT flood c0 "$GW_MAC" "$FLOOD_S"
flooder=$E2E_BG_PID
sleep 2 # the flood is on
e2e_ns "$PGW_C" $CRAFT tunnel c0 "$GW_MAC" 192.0.2.2 40000 "$H" --count "$LEGIT"
e2e_wait_exit "$flooder" $((FLOOD_S + 20))
sleep 1
flooded=$(cat "$E2E_TMP/flooded" 2>/dev/null)
arrived=$(($(h_echos) - h0))
s1=$(pgw_counter drop_spoof)
d1=$(pgw_counter decap)
e2e_log "flood: ${flooded:-?} forged packets in ${FLOOD_S} s; legitimate: $LEGIT sent, ${arrived:-?} arrived"

e2e_check "the flood ran (at least 10 000 forged packets: ${flooded:-none})" \
	test "${flooded:-0}" -ge 10000
e2e_check "every legitimate tunnel packet arrived, nothing of the flood did (${arrived:-?} of $LEGIT)" \
	test "${arrived:-x}" = "$LEGIT"
e2e_check "decap counts exactly the legitimate packets (+$((d1 - d0)))" test $((d1 - d0)) -eq "$LEGIT"
e2e_check "drop_spoof counts the whole flood (+$((s1 - s0)) for ${flooded:-?} sent)" \
	test $((s1 - s0)) -eq "${flooded:-0}"
e2e_check_no_leftovers
e2e_finish
