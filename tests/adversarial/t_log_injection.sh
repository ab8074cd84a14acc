#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck disable=SC2317 # helpers are called through e2e_check
# Logs nobody can forge: a client puts a newline and a fake log line into
# its DIGEST-MD5 and PLAIN user names (bytes libsasl2 and the broker write
# into their messages). No line of `tspgw run` may then start with a
# timestamp and speak of user=mallory; every line starts with a timestamp;
# at the default level libsasl2's chatter stays out of the log, at debug
# (-v) it is there, prefixed once.
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
# shellcheck source=tests/e2e/lib.sh
. "$ROOT/tests/e2e/lib.sh"

TSPGW=${TSPGW:-$BUILD/tspgw}
SIM=$ROOT/tests/broker/gogoc_sim.py

e2e_require_root
e2e_require_tools ip ethtool nsenter python3 saslpasswd2 timeout
e2e_require_built all "$TSPGW"
e2e_init
[ -n "${KEEP_LOGS:-}" ] && e2e_on_exit "cp $E2E_TMP/*.log $KEEP_LOGS/"

NS_C=tlc$$
NS_G=tlg$$
PIN=/sys/fs/bpf/tspgw-adv-log-$$
T=$E2E_TMP
CONF=$T/config.yaml
REALM=tspgw.example
TS='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z'

# write_config LEVEL: the gateway's configuration with broker.log_level
# LEVEL ("" = unset: the default).
write_config() {
	cat >"$CONF" <<-EOF
		interfaces: {ipv4: u0, xdp_mode: generic, tunnel_device: tlt$$}
		gateway: {ipv4: 192.0.2.1, ipv6: 2001:db8:2::1}
		anonymous: {prefix: 2001:db8:ffff::/64, layout: pubtsp, public: false}
		pools: {hosts: 2001:db8:100::/64}
		data_plane: {pin_path: $PIN, max_tunnels: 64, allowed_special_ranges: [documentation]}
		broker:
		  auth:
		    mechanisms: [ANONYMOUS, PLAIN, DIGEST-MD5]
		    sasldb: $T/sasldb2
		    realm: $REALM
		    server_name: $REALM
		    failures: 0
		  database: $T/assignments.sqlite
		  limits: {sessions_per_ipv4_per_minute: 0}
	EOF
	if [ -n "$1" ]; then
		printf '  log_level: %s\n' "$1" >>"$CONF"
	fi
}

e2e_one_link_gateway "$NS_C" "$NS_G" "$PIN" "$CONF" || exit 1
printf 'secret\n' | saslpasswd2 -p -f "$T/sasldb2" -u "$REALM" -c alice

# start NAME ARGS...: tspgw ARGS run in the gateway namespace, log in
# $T/NAME.log; its PID in $T/gw.pid (e2e_check runs this in a subshell).
# Cleanup stops it too: it is registered by the main shell's e2e_on_exit.
start() {
	local name=$1
	shift
	e2e_bg "$NS_G" "$T/$name.log" "$TSPGW" -c "$CONF" "$@" run
	echo "$E2E_BG_PID" >"$T/gw.pid"
	e2e_wait_listen 15 "$NS_G" 3653 || {
		cat "$T/$name.log"
		return 1
	}
}

stop() { e2e_stop "$(cat "$T/gw.pid")" 5 || true; }
e2e_on_exit "[ -s $T/gw.pid ] && kill \$(cat $T/gw.pid) 2>/dev/null"

# A fake event line after a newline, as an attacker would write it.
FORGED=$'\n2026-12-02T00:00:00Z tunnel created user=mallory origin=v6udpv4 198.51.100.66:3653 address=2001:db8:100::66 keepalive=30s'

sim() {
	e2e_ns "$NS_C" timeout 30 python3 "$SIM" --server 192.0.2.1 --server-name "$REALM" \
		--transport tcp --type v6v4 "$@" >/dev/null 2>&1
	true # the logins fail; only the log matters
}

attacks() {
	e2e_ns "$NS_C" timeout 30 python3 "$ROOT/tests/adversarial/forge_login.py" \
		--server 192.0.2.1 --server-name "$REALM" --forged "$FORGED"
	sim --auth digest --user "bob$FORGED" --password x
	# A valid login, so the log holds a real tunnel line to compare.
	e2e_ns "$NS_C" timeout 30 python3 "$SIM" --server 192.0.2.1 --server-name "$REALM" \
		--transport tcp --type v6v4 --auth digest --user alice --password secret >/dev/null 2>&1
}

no_forged_line() {
	local log=$1
	# The fake line must not stand on its own, nor its key=value pairs
	# outside a quoted value (escaped quotes are \x22: no \" inside).
	if grep -E "^(2026-12-02T00:00:00Z|$TS tunnel [a-z]+ user=mallory)" "$log"; then
		echo "a forged line starts with a timestamp"
		return 1
	fi
	if sed -E 's/"[^"]*"//g' "$log" | grep 'user=mallory'; then
		echo "user=mallory outside quotes"
		return 1
	fi
	# The attack reached the log (escaped), or the test proves nothing.
	grep -q 'mallory' "$log" || grep -q 'authentication failed' "$log"
}

every_line_stamped() {
	local log=$1
	[ -s "$log" ] || return 1
	if grep -vE "^$TS " "$log"; then
		echo "lines without a timestamp (above)"
		return 1
	fi
}

real_event_logged() {
	grep -qE "^$TS tunnel created user=alice origin=v6v4 192\.0\.2\.2 " "$1"
}

no_libsasl2_chatter() {
	# At info: none of libsasl2's messages (its step-by-step trace, its
	# quotes of the client's bytes) and no debug line.
	! grep -E 'libsasl2|debug:|server step|unrecognized pair|canonify' "$1"
}

libsasl2_once_prefixed() {
	grep -qE "^$TS debug: libsasl2: \"" "$1" || return 1
	! grep -E 'sasl: sasl:|libsasl2: libsasl2:|sasl: libsasl2:' "$1"
}

# --- default level -------------------------------------------------------------

write_config ""
e2e_check "tspgw run starts (default log level)" start info || e2e_finish
attacks
stop
e2e_check "no forged line: the newline and key=value in user names are escaped" no_forged_line "$T/info.log"
e2e_check "every line of the daemon starts with an RFC 3339 timestamp" every_line_stamped "$T/info.log"
e2e_check "the real login is one tunnel line" real_event_logged "$T/info.log"
e2e_check "default level: no libsasl2 chatter" no_libsasl2_chatter "$T/info.log"

# --- debug: -v ---------------------------------------------------------------

e2e_check "tspgw -v run starts" start debug -v || e2e_finish
attacks
stop
e2e_check "debug: still no forged line" no_forged_line "$T/debug.log"
e2e_check "debug: every line starts with a timestamp" every_line_stamped "$T/debug.log"
e2e_check "debug: libsasl2's messages are there, prefixed once" libsasl2_once_prefixed "$T/debug.log"

# --- broker.log_level -------------------------------------------------------

write_config warn
quiet_run() {
	start warn || return 1
	attacks
	stop
	cat "$T/warn.log"
	! grep -q 'tunnel created' "$T/warn.log" && ! grep -q 'serving TSP' "$T/warn.log"
}
e2e_check "broker.log_level: warn leaves out the info lines" quiet_run

bad_level() {
	write_config loud
	local out
	out=$(e2e_ns "$NS_G" timeout 10 "$TSPGW" -c "$CONF" run 2>&1)
	echo "$out"
	grep -qE "^$TS error: tspgw: .*config.yaml:[0-9]+:[0-9]+: .*log_level" <<<"$out"
}
e2e_check "an unknown broker.log_level is a FILE:LINE:COL error, logged as a stamped line" bad_level

e2e_check_no_leftovers
e2e_finish
