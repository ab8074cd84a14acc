#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck disable=SC2317 # helpers are called through e2e_check
# shellcheck disable=SC2015 # "check && check || report failure" is meant
# Nobody takes another user's tunnel through a second gateway (README
# "Security": "The fleet table and referrals").
#
# Gateways A and B share one assignment database and one SASL database.
# alice has a tunnel (and a /56) through A. mallory, with her own password,
# connects to B and tries every name a client controls: alice as the
# authorization identity (PLAIN, DIGEST-MD5, SCRAM-SHA-256), alice with
# case, blanks, a realm, bytes appended; her own lookalike accounts
# ("Alice", alice in another realm); and alice's address, prefix and DNS
# name claimed in the create. Each try is refused (300) or gets mallory's
# own address; afterwards alice's tunnel is still A's, in its maps, her
# row still names gw-a (served_seq unchanged), A never let go of her.
#
#   the two-gateway layout of tests/fleet/two_gw.sh; mallory's tries come
#   from 198.51.100.10 and up (one address each, so no per-source limit
#   or lockout decides instead of the password check)
set -u -o pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
# shellcheck source=tests/e2e/lib.sh
. "$ROOT/tests/e2e/lib.sh"
# shellcheck source=tests/adversarial/bg_lib.sh
. "$HERE/bg_lib.sh"

TSPGW=$BUILD/tspgw
TSPC=$BUILD/tspc
XDP_PASS=$BUILD/xdp_pass.bpf.o
LOGIN_AS=$HERE/login_as.py

e2e_require_root
e2e_require_tools ip ethtool nsenter python3 saslpasswd2 timeout
e2e_require_built all "$TSPGW" "$TSPC" "$XDP_PASS"
e2e_init
e2e_require_bpf "$XDP_PASS"

NS_C=ahc$$
NS_A=aha$$
NS_B=ahb$$
T=$E2E_TMP
DB=$T/fleet.sqlite
REALM=tspgw.example
# shellcheck source=tests/fleet/two_gw.sh
. "$ROOT/tests/fleet/two_gw.sh"

gw_config() {
	cat >"$T/$1.yaml" <<EOF
interfaces: {ipv4: u0, xdp_mode: native, tunnel_device: ah$1$$}
gateway: {ipv4: $2, ipv6: 2001:db8:2::1, name: gw-$1, heartbeat: 1}
anonymous: {prefix: 2001:db8:ffff::/64, layout: pubtsp, public: false}
pools: {hosts: 2001:db8:100::/64, prefixes: 2001:db8:200::/40}
data_plane: {pin_path: /sys/fs/bpf/tspgw-ah-$1-$$, max_tunnels: 1024,
             allowed_special_ranges: [documentation]}
broker:
  auth:
    mechanisms: [ANONYMOUS, PLAIN, DIGEST-MD5, SCRAM-SHA-256]
    sasldb: $T/sasldb2
    realm: $REALM
    server_name: $REALM
    failures: 1000
    failures_per_source: 1000
  database: $DB
  # misses: 0: alice's tunnel (no keepalives here) stays for the whole test
  keepalive: {default: 30, min: 1, max: 30, misses: 0}
EOF
}
gw_config a "$A"
gw_config b "$B"
adduser() { printf '%s\n' "$3" | saslpasswd2 -p -f "$T/sasldb2" -u "$2" -c "$1"; }
adduser alice "$REALM" secret || exit 1
adduser mallory "$REALM" m4llory || exit 1
# mallory's own accounts, with names made to look like alice's.
adduser Alice "$REALM" m4llory || exit 1
adduser alice other.example m4llory || exit 1
printf 'secret\n' >"$T/alice.pw"

two_gw_build /sys/fs/bpf/tspgw-ah || exit 1
for i in $(seq 10 49); do echo "addr add 198.51.100.$i/24 dev c1"; done | ip -n "$NS_C" -batch - || exit 1

start a
start b
e2e_check "gateways A and B on one database serve TSP" serving a || e2e_finish
e2e_check "  (B)" serving b || e2e_finish

sql() {
	python3 -c 'import sqlite3,sys
c = sqlite3.connect(sys.argv[1], timeout=10)
for r in c.execute(sys.argv[2], sys.argv[3:]): print("|".join("" if v is None else str(v) for v in r))' \
		"$DB" "$@"
}
holds() { on "$1" tunnel list --json | grep -q "\"address\":\"$2\""; }

t_alice() {
	e2e_ns "$NS_C" timeout 40 "$TSPC" --server "$A" --user alice --password-file "$T/alice.pw" \
		--auth digest-md5 --router --print-only --timeout 5 >"$T/alice.out" 2>"$T/alice.err" </dev/null ||
		{ cat "$T/alice.err"; return 1; }
	holds a "$(grep '^TSP_CLIENT_ADDRESS_IPV6=' "$T/alice.out" | cut -d= -f2)"
}
e2e_check "alice's tunnel through A (DIGEST-MD5, a /56)" t_alice || e2e_finish
ALICE_ADDR=$(grep '^TSP_CLIENT_ADDRESS_IPV6=' "$T/alice.out" | cut -d= -f2)
ALICE_PREFIX=$(grep '^TSP_PREFIX=' "$T/alice.out" | cut -d= -f2)/$(grep '^TSP_PREFIXLEN=' "$T/alice.out" | cut -d= -f2)
ALICE_ROW=$(sql "SELECT gateway, served_seq FROM users WHERE name = 'alice'")
e2e_log "alice: $ALICE_ADDR, $ALICE_PREFIX, row: $ALICE_ROW"

# try N MECH AUTHCID [login_as.py options]: one of mallory's tries at B
# from 198.51.100.N, in the background (bg_lib.sh: each from its own
# address, nothing of one limits another); its result in $T/try.N.json.
TRIES=()
declare -A WANT WHAT
try() {
	local n=$1 mech=$2 authcid=$3
	shift 3
	bg_run "$n" e2e_ns "$NS_C" timeout 60 python3 "$LOGIN_AS" --server "$B" --server-name "$REALM" \
		--local "198.51.100.$n" --mech "$mech" --authcid "$authcid" --password m4llory \
		--out "$T/try.$n.json" "$@"
}
# judge N: EXPECT refused: the login was 300. own: the login and the
# create succeeded with an address that is not alice's and a prefix that
# does not overlap hers.
judge() {
	local n=$1
	cat "$T/try.$n.json" "$T/bg.$n.out" 2>/dev/null
	echo
	python3 - "$T/try.$n.json" "${WANT[$n]}" "$ALICE_ADDR" "$ALICE_PREFIX" <<'EOF'
import ipaddress, json, sys
r, want = json.load(open(sys.argv[1])), sys.argv[2]
alice, prefix = ipaddress.IPv6Address(sys.argv[3]), ipaddress.IPv6Network(sys.argv[4])
if want == "refused":
    sys.exit(0 if r.get("auth") == 300 else 1)
ok = r.get("auth") == 200 and r.get("status") == 200 and r.get("client_ipv6")
ok = ok and ipaddress.IPv6Address(r["client_ipv6"]) != alice
ok = ok and not (r.get("prefix") and ipaddress.IPv6Network(r["prefix"]).overlaps(prefix))
sys.exit(0 if ok else 1)
EOF
}

# alice_intact: her tunnel still in A's maps, not in B's; her row still
# names gw-a, with the same served_seq; A never let her tunnel go.
alice_intact() {
	local row
	row=$(sql "SELECT gateway, served_seq FROM users WHERE name = 'alice'")
	[ "$row" = "$ALICE_ROW" ] || { echo "alice's row: $row, was $ALICE_ROW"; return 1; }
	holds a "$ALICE_ADDR" || { echo "A no longer holds alice's tunnel"; return 1; }
	! holds b "$ALICE_ADDR" || { echo "B holds alice's address"; return 1; }
	! grep -q "taken-over user=alice " "$T/run.a.log" || { grep "taken-over" "$T/run.a.log"; return 1; }
}

# attempt N EXPECT DESCRIPTION MECH AUTHCID [options]: start one try;
# judged_all waits for the group and reports each. Whatever a try did to
# alice would last (her row, A letting go, the log line), so
# alice_intact after each group sees it.
attempt() {
	local n=$1
	WANT[$n]=$2 WHAT[$n]=$3
	TRIES+=("$n")
	shift 3
	try "$n" "$@"
}
judged_all() {
	local n
	bg_wait
	for n in "${TRIES[@]}"; do e2e_check "mallory at B, ${WHAT[$n]}: ${WANT[$n]}" judge "$n"; done
	TRIES=()
}

attempt 10 refused "PLAIN, authzid alice" plain mallory --authzid alice
attempt 11 refused "PLAIN, authzid alice@$REALM" plain mallory --authzid "alice@$REALM"
attempt 12 refused "PLAIN as alice with her own password" plain alice
attempt 13 refused "PLAIN as ALICE" plain ALICE
attempt 14 refused "PLAIN as 'alice '" plain 'alice '
attempt 15 refused "PLAIN as ' alice'" plain ' alice'
attempt 16 refused "PLAIN as 'alice\\t'" plain 'alice\t'
attempt 17 refused "PLAIN as alice@$REALM" plain "alice@$REALM"
attempt 18 refused "PLAIN as 'alice' + NBSP" plain 'alice\xc2\xa0'
attempt 19 refused "PLAIN as alice + 0xff" plain 'alice\xff'
attempt 20 refused "PLAIN, authzid 'alice' + NUL" plain mallory --authzid 'alice\x00'
attempt 21 refused "DIGEST-MD5, authzid alice" digest-md5 mallory --authzid alice
attempt 22 refused "DIGEST-MD5 as alice with her own password" digest-md5 alice
attempt 23 refused "DIGEST-MD5 as 'alice' + NUL + 'x'" digest-md5 'alice\x00x'
attempt 24 refused "DIGEST-MD5 as 'Alice' in realm $REALM, authzid alice" digest-md5 Alice --authzid alice
attempt 25 refused "SCRAM-SHA-256, authzid alice" scram-sha-256 mallory --authzid alice
attempt 26 refused "SCRAM-SHA-256 as alice with her own password" scram-sha-256 alice
judged_all
e2e_check "  alice's tunnel still A's, her row unchanged, A never let it go" alice_intact
attempt 30 own "PLAIN as her lookalike account Alice" plain Alice
attempt 31 own "PLAIN as alice@other.example (her account in another realm)" plain alice@other.example
attempt 32 own "DIGEST-MD5 as alice in realm other.example" digest-md5 alice --realm other.example
attempt 33 own "PLAIN as mallory, claiming alice's address, prefix and DNS name" plain mallory \
	--claim-ipv6 "$ALICE_ADDR" --claim-prefix "$ALICE_PREFIX" --claim-dn alice.tspgw.example
attempt 34 own "DIGEST-MD5 as mallory, claiming alice's address and prefix" digest-md5 mallory \
	--claim-ipv6 "$ALICE_ADDR" --claim-prefix "$ALICE_PREFIX"
attempt 35 own "SCRAM-SHA-256 as mallory, claiming alice's prefix" scram-sha-256 mallory \
	--claim-prefix "$ALICE_PREFIX"
attempt 36 own "ANONYMOUS, claiming alice's address" anonymous "" --claim-ipv6 "$ALICE_ADDR"
judged_all
e2e_check "  alice's tunnel still A's, her row unchanged, A never let it go" alice_intact

t_rows() {
	local names
	names=$(sql "SELECT name FROM users ORDER BY name" | tr '\n' ',')
	echo "users: $names"
	[ "$names" = "Alice,alice,alice@other.example,mallory," ] || return 1
	# The accounts that logged in are B's now; alice's is A's.
	[ "$(sql "SELECT count(*) FROM users WHERE gateway = 'gw-b'")" = 3 ]
}
e2e_check "the database: rows for alice, mallory and her two accounts, no other name" t_rows

t_alice_forwards() {
	# Her tunnel still works end to end: a setup again through A keeps
	# the same address (nothing changed her row).
	e2e_ns "$NS_C" timeout 40 "$TSPC" --server "$A" --user alice --password-file "$T/alice.pw" \
		--auth digest-md5 --router --print-only --timeout 5 >"$T/alice2.out" 2>"$T/alice2.err" </dev/null ||
		{ cat "$T/alice2.err"; return 1; }
	[ "$(grep '^TSP_CLIENT_ADDRESS_IPV6=' "$T/alice2.out" | cut -d= -f2)" = "$ALICE_ADDR" ]
}
e2e_check "alice sets up again through A: the same address" t_alice_forwards

for p in "$PID_A" "$PID_B"; do e2e_stop "$p" 5 2>/dev/null; done
e2e_check_no_leftovers
e2e_finish
