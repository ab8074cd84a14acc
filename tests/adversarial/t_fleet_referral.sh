#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck disable=SC2317 # helpers are called through e2e_check
# A drained gateway's referral is no amplifier (README "Security": "The
# fleet table and referrals").
#
# A drained gateway answers a create with RFC 5572's referral: 1301 and a
# broker list of up to 16 live gateways read from the shared database. With
# long names in the fleet table that reply is several kilobytes, for a
# create of about 300 bytes. An off-path attacker forges a victim's address
# (198.51.100.7) and walks the anonymous exchange blindly up to the create;
# the bytes the victim receives must stay within 3x the bytes forged in its
# name, as for any other reply to an unvalidated UDP peer. Then the same
# with 60 byte-identical retransmissions of the create: the referral goes
# out at most 1 + 3 times. A real client still gets the referral at once:
# over UDP shortened to what its budget allows now (least loaded first),
# over TCP the whole list.
set -u -o pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$HERE/../e2e/lib.sh"
# shellcheck source=tests/adversarial/adv_lib.sh
. "$HERE/adv_lib.sh"

adv_require
CONF=$E2E_TMP/config.yaml
DB=$E2E_TMP/assignments.sqlite
ROWS=40
adv_config "$CONF"
# A fleet member (its own name; a beat every 10 s, so the rows written
# below stay live for 30 s after each refresh).
sed -i 's/^gateway: {/gateway: {name: gw-self, heartbeat: 10, /' "$CONF"
adv_build "$CONF" || exit 1
e2e_check "tspgw run starts" adv_start "$CONF" "$E2E_TMP/run.log" || e2e_finish

# fleet_rows short|long: $ROWS live gateways in the shared table, each
# with room, beating now. short: IPv4 addresses (what gateway.advertise
# defaults to); long: 250-byte DNS names, the longest a referral carries.
fleet_rows() {
	python3 - "$DB" "$1" "$ROWS" <<'EOF'
import sqlite3, sys, time
db, kind, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = sqlite3.connect(db, timeout=10)
now = int(time.time())
c.execute("DELETE FROM gateways WHERE name LIKE 'gw-fleet-%'")
for i in range(rows):
    if kind == "short":
        adv = "203.0.113.%d" % (10 + i)
    else:
        label = ("gw%02d" % i) + "a" * 59                      # 63 bytes
        adv = ".".join([label, "b" * 63, "c" * 63, "d" * 50]) + ".example"  # 250 bytes
    c.execute("INSERT INTO gateways (name, advertise, tunnels, max_tunnels, draining, heartbeat)"
              " VALUES (?, ?, 0, 1000, 0, ?)", ("gw-fleet-%02d" % i, adv, now))
c.commit()
EOF
}

# drain_with short|long: fresh rows, then the drain, which makes the
# daemon read the fleet at once (logged).
drain_with() {
	fleet_rows "$1" || return 1
	e2e_ns "$NS_G" timeout 20 "$TSPGW" -c "$CONF" drain >/dev/null || return 1
	e2e_wait_for 10 grep -q "gateway gw-self drained" "$E2E_TMP/run.log"
}

# brokers_in FILE: how many brokers a gogoc_sim result's reply lists.
brokers_in() { adv_json "$1" 'j.get("raw","").count("<broker>")'; }

# udp_referral PORT MIN NAME: a real UDP client's create from PORT: 1301
# at once (no retransmission) listing MIN or more brokers; summary in
# NAME.txt. Before, a list over the budget went only after retransmissions
# had paid for it (more than gogoc's three tries may bring).
udp_referral() {
	adv_sim --server 192.0.2.1 --transport udp --type v6udpv4 --local-ip 192.0.2.3 \
		--local-port "$1" >/dev/null
	echo "over UDP: status $(adv_json "$E2E_TMP/sim.json" 'j.get("status")')," \
		"$(brokers_in "$E2E_TMP/sim.json") brokers, $(adv_json "$E2E_TMP/sim.json" 'len(j.get("raw",""))') bytes," \
		"$(adv_json "$E2E_TMP/sim.json" 'j.get("retransmits")') retransmissions" | tee "$E2E_TMP/$3.txt"
	[ "$(adv_json "$E2E_TMP/sim.json" 'j.get("status")')" = 1301 ] &&
		[ "$(brokers_in "$E2E_TMP/sim.json")" -ge "$2" ] &&
		[ "$(adv_json "$E2E_TMP/sim.json" 'j.get("retransmits")')" = 0 ]
}
legit_udp() { drain_with short && udp_referral 41000 8 udp; }
e2e_check "drained, $ROWS live gateways (IPv4): a real UDP client gets 1301 at once, with 8 or more of them" \
	legit_udp && e2e_log "$(cat "$E2E_TMP/udp.txt")"

legit_tcp() {
	e2e_ns "$NS_G" timeout 20 "$TSPGW" -c "$CONF" undrain >/dev/null &&
		e2e_wait_for 10 grep -q "gateway gw-self no longer drained" "$E2E_TMP/run.log" || return 1
	drain_with long || return 1
	adv_sim --server 192.0.2.1 --transport tcp --type v6v4 --local-ip 192.0.2.3 >/dev/null
	REFERRAL_BYTES=$(adv_json "$E2E_TMP/sim.json" 'len(j.get("raw",""))')
	echo "over TCP: status $(adv_json "$E2E_TMP/sim.json" 'j.get("status")')," \
		"$(brokers_in "$E2E_TMP/sim.json") brokers, $REFERRAL_BYTES bytes" | tee "$E2E_TMP/tcp.txt"
	[ "$(adv_json "$E2E_TMP/sim.json" 'j.get("status")')" = 1301 ] &&
		[ "$(brokers_in "$E2E_TMP/sim.json")" = 16 ] && [ "$REFERRAL_BYTES" -gt 4000 ]
}
e2e_check "  with 250-byte names: over TCP the referral lists 16, over 4 kB" legit_tcp &&
	e2e_log "$(cat "$E2E_TMP/tcp.txt")"

legit_udp_long() { udp_referral 41001 1 udplong; }
e2e_check "  over UDP the referral goes at once, shortened to the budget" legit_udp_long &&
	e2e_log "$(cat "$E2E_TMP/udplong.txt")"

# forged NAME PORT REPLAYS: the blind exchange from the victim's PORT,
# then REPLAYS copies of the create; what was sent in NAME_sent.json,
# what the victim received in NAME.json.
forged() {
	fleet_rows long || return 1
	adv_capture_start "$1" 60 || return 1
	e2e_ns "$NS_A" timeout 60 python3 "$SPOOF" amp --server 192.0.2.1 --victim "$VICTIM:$2" \
		--headers 0 --replays "$3" --gap 0.02 --out "$E2E_TMP/$1_sent.json" || return 1
	adv_capture_stop "$1"
}
# within NAME MAX_REFERRALS: at most 3x the bytes, at most that many 1301s.
within() {
	local sent got n
	sent=$(adv_json "$E2E_TMP/$1_sent.json" 'j["bytes"]')
	got=$(adv_json "$E2E_TMP/$1.json" "j['by_dst'].get('$VICTIM',{}).get('bytes',0)")
	n=$(adv_json "$E2E_TMP/$1.json" 'j["status"].get("1301",0)')
	echo "forged in the victim's name: $sent bytes; the victim received $got bytes" \
		"(factor $(python3 -c "print(round($got/$sent, 2))")), $n referrals" | tee "$E2E_TMP/$1.txt"
	# The capture works: the capability line reached the victim.
	[ "$(adv_json "$E2E_TMP/$1.json" 'j["status"].get("CAP",0)')" -ge 1 ] || return 1
	[ "$got" -le $((3 * sent)) ] && [ "$n" -le "$2" ]
}

blind() { forged blind 40100 0 && within blind 1; }
e2e_check "forged create to the drained gateway: the victim gets at most 3x, one shortened referral at most" blind &&
	e2e_log "$(cat "$E2E_TMP/blind.txt")"

replayed() { forged replayed 40101 60 && within replayed 4; }
e2e_check "  and with 60 replays of the create: at most 3x, the referral at most 1+3 times" replayed &&
	e2e_log "$(cat "$E2E_TMP/replayed.txt")"

e2e_check_no_leftovers
e2e_finish
