#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck disable=SC2317 # helpers are called through e2e_check
# Lockouts that punish the attacker, not the NAT (README "Security" ->
# "Lockouts that punish the attacker, not the NAT"). Two hosts behind one
# NAT (198.51.100.2 and .3, seen by the gateway as 192.0.2.2):
#   - five wrong passwords for alice lock out alice from that address, and
#     only her: anonymous users behind the NAT still get tunnels, bob still
#     logs in; alice is served again once broker.auth.failure_window passes;
#   - five requests for a mechanism the broker does not offer lock nobody
#     out (they are no failed login).
# On the code before per-user counting, the whole address was refused
# after the fifth failure: anonymous users and bob included, and after five
# unoffered-mechanism requests too.
set -u -o pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$HERE/../e2e/lib.sh"
e2e_init
BGW_NAT=1
# shellcheck source=tests/adversarial/broker_gw.sh
. "$HERE/broker_gw.sh"
bgw_require nft

WINDOW=30
BGW_BROKER="$(bgw_auth_yaml)
    failures: 5
    failure_window: $WINDOW"
if bgw_setup >"$BGW_T/setup.log" 2>&1; then
	e2e_ok "gateway behind a NAT (198.51.100.2 and .3 seen as 192.0.2.2) is up"
else
	e2e_not_ok "gateway behind a NAT is up"
	sed 's/^/#   /' "$BGW_T/setup.log"
	e2e_finish
fi
T=$BGW_T

# login HOST AUTH USER PASSWORD: a whole session (v6udpv4 over UDP, from
# a port of its own); prints the status it ended with.
login() {
	local host=$1 auth=$2 user=$3 pass=$4
	bgw_sim --transport udp --auth "$auth" --user "$user" --password "$pass" \
		--type v6udpv4 --local-ip "$host" >/dev/null 2>&1
	if grep -q "300 Authentication failed" "$T/last.err" "$T/last.json" 2>/dev/null; then
		echo 300
	else
		bgw_field status
	fi
}

expect_login() {
	local want=$1 got
	shift
	got=$(login "$@")
	echo "$* -> $got (want $want)"
	[ "$got" = "$want" ]
}

# Five wrong passwords for alice in a row (one process: all within the
# window even on a loaded machine), each a session of its own as gogoc's.
wrong_five() {
	bgw_py "$BGW_NS_C" "
for i in range(5):
    c=g.Rudp('192.0.2.1',3653,('198.51.100.2',0))
    assert c.sendrecv(b'VERSION=2.0.2\r\n').startswith(b'CAPABILITY')
    c.sendrecv(b'AUTHENTICATE PLAIN\r\n\0')
    r=c.sendrecv(b'\0alice\0guess%d\r\n' % i)
    print(i, r); assert r.startswith(b'300 '); c.close()"
}
e2e_check "five wrong passwords for alice get 300" wrong_five
e2e_check "alice is now refused from behind the NAT, even with her password" \
	expect_login 300 198.51.100.2 plain alice secret
e2e_check "  logged as a refused login for alice" \
	grep -q 'login refused from 192.0.2.2:[0-9]* user="alice" mech=PLAIN reason=user-failures' \
	"$T/run.log"
e2e_check "an anonymous user behind the same NAT still gets a tunnel" \
	expect_login 200 198.51.100.3 anonymous "" ""
e2e_check "bob behind the same NAT still logs in (DIGEST-MD5)" \
	expect_login 200 198.51.100.3 digest bob hunter2
e2e_check "bob behind the same NAT still logs in (PLAIN)" \
	expect_login 200 198.51.100.2 plain bob hunter2

after_window() {
	# Counted from alice's first failure; wait it out (bounded).
	local i
	for ((i = 0; i < WINDOW + 10; i++)); do
		[ "$(login 198.51.100.2 plain alice secret)" = 200 ] && return 0
		sleep 1
	done
	return 1
}
e2e_check "alice is served again once failure_window ($WINDOW s) has passed" after_window

# Five sessions asking for SCRAM-SHA-256, which this broker does not
# offer (one process: all within the window even on a loaded machine).
unoffered() {
	bgw_py "$BGW_NS_C" "
for i in range(5):
    c=g.Tcp('192.0.2.1',3653,('198.51.100.2',0))
    assert c.sendrecv(b'VERSION=2.0.2\r\n').startswith(b'CAPABILITY')
    r=c.sendrecv(b'AUTHENTICATE SCRAM-SHA-256\r\n\0')
    print(i, r); assert r.startswith(b'300 '); c.close()"
}
e2e_check "a mechanism not offered gets 300 (five times)" unoffered
e2e_check "  and locks nobody out: alice logs in from behind the NAT" \
	expect_login 200 198.51.100.2 plain alice secret
e2e_check "  nor bob" expect_login 200 198.51.100.3 plain bob hunter2

e2e_check_no_leftovers
e2e_finish
