#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck disable=SC2317 # helpers are called through e2e_check
# TSP over UDP is no reflector or amplifier (README "Security": "TSP over
# UDP: no reflection, no amplification, no exhaustion").
#
# An off-path attacker forges a victim's address (198.51.100.7) and walks
# an anonymous exchange blindly (VERSION, AUTHENTICATE ANONYMOUS, create),
# then repeats the create's 8-byte header 100 times and the whole create 20
# times. Before the fix the victim got the 591-byte offer for every 8-byte
# datagram (16x in bytes, forever). Now: the bytes the victim receives stay
# within 3x the bytes forged in its name (IP bytes, headers included), the
# 8-byte replays are not answered, and the byte-identical ones at most 3
# times. Then 300 forged newcomers from the victim's address, beyond its
# session cap: their 522 refusals are rate-limited to one per /24 a second.
set -u -o pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$HERE/../e2e/lib.sh"
# shellcheck source=tests/adversarial/adv_lib.sh
. "$HERE/adv_lib.sh"

adv_require
CONF=$E2E_TMP/config.yaml
adv_config "$CONF"
adv_build "$CONF" || exit 1
e2e_check "tspgw run starts" adv_start "$CONF" "$E2E_TMP/run.log" || e2e_finish

forged() {
	adv_capture_start amp 60 || return 1
	e2e_ns "$NS_A" timeout 60 python3 "$SPOOF" amp --server 192.0.2.1 --victim "$VICTIM:40000" \
		--headers 100 --replays 20 --out "$E2E_TMP/amp_sent.json" || return 1
	adv_capture_stop amp || return 1
	cat "$E2E_TMP/amp_sent.json" "$E2E_TMP/amp.json"
}
e2e_check "forged exchange and replays sent in the victim's name" forged

factor() {
	local sent got
	sent=$(adv_json "$E2E_TMP/amp_sent.json" 'j["bytes"]')
	got=$(adv_json "$E2E_TMP/amp.json" "j['by_dst'].get('$VICTIM',{}).get('bytes',0)")
	echo "forged in the victim's name: $sent bytes; the victim received: $got bytes" \
		"(factor $(python3 -c "print(round($got/$sent, 2))"))"
	# The capture works: the capability line reached the victim.
	[ "$(adv_json "$E2E_TMP/amp.json" 'j["status"].get("CAP",0)')" -ge 1 ] || return 1
	[ "$got" -le $((3 * sent)) ]
}
e2e_check "the victim receives at most 3x the bytes forged in its name" factor

offers() {
	local n
	n=$(adv_json "$E2E_TMP/amp.json" 'j["offers"]')
	echo "tunnel offers received by the victim: $n"
	[ "$n" -ge 1 ] && [ "$n" -le 4 ]
}
e2e_check "the offer goes out once it fits the budget, at most 1+3 times, never for an 8-byte header" offers

legit() {
	adv_sim --server 192.0.2.1 --transport udp --type v6udpv4 --local-ip 192.0.2.3 \
		--local-port 41000 || return 1
	grep -q '"status": 200' "$E2E_TMP/sim.json"
}
e2e_check "a real UDP client (gogoc's exchange) still gets its tunnel" legit

retransmit() {
	# The reply to a create is lost once: the byte-identical retransmission
	# is answered from the cache (gogoc retransmits the same request).
	e2e_ns "$NS_A" timeout 30 python3 -c '
import sys
sys.path.insert(0, sys.argv[1])
import gogoc_sim as g
c = g.Rudp("192.0.2.1", 3653, ("192.0.2.3", 41001))
c.sendrecv(b"VERSION=2.0.2\r\n", drop_first_reply=True)
c.sendrecv(b"AUTHENTICATE ANONYMOUS\r\n\0")
a = c.sendrecv(g.command(g.create_request("v6udpv4", "192.0.2.3", 30, False, 0)), drop_first_reply=True)
print(a[:40], c.retransmits)
assert a.startswith(b"Content-length") and c.retransmits == 2
' "$ADV_ROOT/tests/broker"
}
e2e_check "a lost reply is answered again on a retransmission" retransmit

refusals() {
	local n
	adv_capture_start refused 60 || return 1
	e2e_ns "$NS_A" timeout 60 python3 "$SPOOF" refused --server 192.0.2.1 --src "$VICTIM" \
		--count 300 --gap 0.003 --out "$E2E_TMP/refused_sent.json" || return 1
	adv_capture_stop refused || return 1
	cat "$E2E_TMP/refused.json"
	n=$(adv_json "$E2E_TMP/refused.json" 'j["status"].get("522",0)')
	echo "522 answers to 300 refused datagrams in about a second: $n"
	[ "$n" -ge 1 ] && [ "$n" -le 3 ]
}
e2e_check "refusals (522) to one source prefix: at most one a second, not one per datagram" refusals

counters() {
	e2e_wait_for 15 grep -q "signalling guards:.*refused_dropped=[1-9]" "$E2E_TMP/run.log" || return 1
	grep "signalling guards:" "$E2E_TMP/run.log" | tail -1
}
e2e_check "the daemon logs what the guards held back" counters
e2e_check_no_leftovers
e2e_finish
