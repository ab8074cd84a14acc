#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck disable=SC2317 # helpers are called through e2e_check
# IPv6 signalling peers are peers (README "Security": "IPv6 signalling
# peers"). Before the fix every IPv6 client was keyed as 0.0.0.0: three
# wrong passwords from one IPv6 host refused another host's correct login,
# session rate limits did not apply over IPv6, and logs said
# "from 0.0.0.0:0". Throttles are now keyed by the IPv6 /64
# (broker.limits.ipv6_prefix_len) and logs show the real address and port.
set -u -o pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$HERE/../e2e/lib.sh"
# shellcheck source=tests/adversarial/adv_lib.sh
. "$HERE/adv_lib.sh"

adv_require
CONF=$E2E_TMP/config.yaml
adv_config "$CONF" "    sessions_per_ipv4_per_minute: 10"
adv_build "$CONF" || exit 1
e2e_check "tspgw run starts" adv_start "$CONF" "$E2E_TMP/run.log" || e2e_finish

# login SRC PASSWORD: PLAIN over TCP/IPv6 from SRC, a v6v4 tunnel to the
# IPv4 address it claims.
login() {
	adv_sim --server 2001:db8:2::1 --transport tcp --auth plain --user alice --password "$2" \
		--type v6v4 --client-ipv4 192.0.2.2 --local-ip "$1"
}

failures() {
	local i
	for i in 1 2 3; do
		login 2001:db8:2::a wrong >/dev/null
		grep -q "300 Authentication failed" "$E2E_TMP/sim.json" || return 1
	done
}
e2e_check "three wrong passwords from 2001:db8:2::a get 300" failures

refused_same_64() {
	! login 2001:db8:2::a secret && grep -q 300 "$E2E_TMP/sim.json" || return 1
	! login 2001:db8:2::b secret && grep -q 300 "$E2E_TMP/sim.json"
}
e2e_check "  then that /64 is refused, also from another of its addresses" refused_same_64

other_64() {
	login 2001:db8:3::c secret || return 1
	grep -q '"status": 200' "$E2E_TMP/sim.json"
}
e2e_check "another IPv6 host (another /64) still logs in" other_64

logged() {
	grep "authentication failed from" "$E2E_TMP/run.log" | head -3
	grep -q "authentication failed from \[2001:db8:2::a\]:[0-9]" "$E2E_TMP/run.log" &&
		! grep -q "from 0.0.0.0:0" "$E2E_TMP/run.log"
}
e2e_check "logs name the IPv6 address and port" logged

rate() {
	e2e_ns "$NS_A" timeout 30 python3 -c '
import socket
codes = []
for i in range(15):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.settimeout(5)
    s.bind(("2001:db8:3::c", 0))
    s.connect(("2001:db8:2::1", 3653))
    s.sendall(b"VERSION=2.0.2\r\n")
    codes.append(s.recv(100)[:3])
    s.close()
print(codes.count(b"522"), "of", len(codes), "refused with 522")
assert codes[0] == b"CAP" and b"522" in codes
'
}
e2e_check "the session rate (10 a minute) applies to an IPv6 /64" rate
e2e_check_no_leftovers
e2e_finish
