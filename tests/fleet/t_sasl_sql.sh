#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# shellcheck disable=SC2317 # helpers are called through e2e_check
# shellcheck disable=SC2015 # "check && check || report failure" is meant
# Users in PostgreSQL (broker.auth.users: sql): libsasl2's sql auxprop
# plugin against a throwaway cluster, tspc logging in with every password
# mechanism; the database stopped, blackholed and back.
#
#   ns cli: c0 192.0.2.2/24 <-> u0 192.0.2.1/24  ns gw  d0 2001:db8:2::1 <-> h0 2001:db8:2::2  ns host
#                                  p0 198.51.100.1/24 <-> p1 198.51.100.50/24  ns db (PostgreSQL)
#
# Exit 0 = all passed, 1 = failures, 77 = skipped.
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
# shellcheck source=tests/e2e/lib.sh
. "$ROOT/tests/e2e/lib.sh"
# shellcheck source=tests/fleet/pg_lib.sh
. "$HERE/pg_lib.sh"

TSPGW=$BUILD/tspgw
TSPC=$BUILD/tspc
XDP_PASS=$BUILD/xdp_pass.bpf.o

e2e_require_root
e2e_require_tools ip ethtool nsenter ping python3 timeout
e2e_require_built all "$TSPGW" "$TSPC" "$XDP_PASS"
e2e_init
e2e_require_bpf "$XDP_PASS"
pg_require
[ -e /usr/lib/x86_64-linux-gnu/sasl2/libsql.so ] || ls /usr/lib/*/sasl2/libsql.so >/dev/null 2>&1 ||
	e2e_skip "libsasl2's sql plugin is not installed (make deps: libsasl2-modules-sql)"

NS_C=tqc$$
NS_G=tqg$$
NS_H=tqh$$
NS_D=tqd$$
PIN=/sys/fs/bpf/tspgw-sasl-sql-$$
T=$E2E_TMP
CONF=$T/config.yaml
REALM=tspgw.example
GW=192.0.2.1
DB_ADDR=198.51.100.50
HOST6=2001:db8:2::2
DBPW='gw pass'"'"'word'   # a quote and a space: the plugin's conninfo must escape them
CONNECT_TIMEOUT=2
RETRY_AFTER=2

printf '%s\n' "$DBPW" >"$T/db.pw"
cat >"$CONF" <<EOF
interfaces: {ipv4: u0, ipv6: d0, xdp_mode: native, tunnel_device: tsq$$}
gateway: {ipv4: $GW, ipv6: 2001:db8:2::1, keepalive: 2001:db8:2::1}
anonymous: {prefix: 2001:db8:ffff::/64, layout: pubtsp, public: false}
pools: {hosts: 2001:db8:100::/64, prefixes: 2001:db8:200::/40}
data_plane: {pin_path: $PIN, max_tunnels: 1024, allowed_special_ranges: [documentation]}
broker:
  auth:
    mechanisms: [ANONYMOUS, PLAIN, DIGEST-MD5, SCRAM-SHA-256]
    users: sql
    sql:
      host: $DB_ADDR
      database: tspgw
      user: tspgw_gw
      password_file: $T/db.pw
      table: tspgw_users
      connect_timeout: $CONNECT_TIMEOUT
      retry_after: $RETRY_AFTER
    realm: $REALM
    server_name: $REALM
    failures: 1000
  database: $T/assignments.sqlite
  keepalive: {default: 2, min: 1, max: 2, misses: 5}
  limits: {tunnels_per_ipv4: 64, sessions_per_ipv4_per_minute: 1000, sessions_per_source: 64}
EOF

# --- network and database ------------------------------------------------------

GW_NS=$NS_G
cli() { e2e_ns "$NS_C" "$@"; }
e2e_netns_add "$NS_C" "$NS_G" "$NS_H" "$NS_D" || exit 1
e2e_register_pin "$PIN"
e2e_on_exit "e2e_ns $NS_G $TSPGW -c $CONF detach >/dev/null 2>&1"
e2e_topo_client_gw_host "$NS_C" "$NS_G" "$NS_H" "$XDP_PASS" "$HOST6" || exit 1
e2e_veth "$NS_G" p0 "$NS_D" p1 || exit 1
ip -n "$NS_G" addr add 198.51.100.1/24 dev p0
ip -n "$NS_D" addr add $DB_ADDR/24 dev p1
DB_MAC=$(e2e_mac "$NS_D" p1)
ip -n "$NS_G" neigh replace $DB_ADDR lladdr "$DB_MAC" dev p0 nud permanent

pg_start "$NS_D" $DB_ADDR || exit 1
# The gateway's role may only read the users table.
pg_create_db tspgw tspgw_admin "admin-$$" || exit 1
pg_sql postgres "CREATE ROLE tspgw_gw LOGIN PASSWORD '${DBPW//\'/\'\'}'" || exit 1
pg_sql tspgw "$(cat <<'EOF'
CREATE TABLE tspgw_users (
	username     text NOT NULL,
	realm        text NOT NULL,
	password     text,
	scram_sha256 text,
	PRIMARY KEY (username, realm));
GRANT SELECT ON tspgw_users TO tspgw_gw;
EOF
)" || exit 1

# add_user NAME PASSWORD: a user with a clear-text password (what DIGEST-MD5
# needs), as the README says (quotes in NAME doubled here, in SQL).
add_user() {
	pg_sql tspgw "INSERT INTO tspgw_users (username, realm, password) VALUES
		('${1//\'/\'\'}', '$REALM', '${2//\'/\'\'}')"
}
# scram_secret PASSWORD: RFC 5802's stored form, as libsasl2 reads it.
scram_secret() {
	python3 - "$1" <<'EOF'
import base64, hashlib, hmac, os, sys
salt, it = os.urandom(16), 4096
sp = hashlib.pbkdf2_hmac("sha256", sys.argv[1].encode(), salt, it)
ck = hmac.new(sp, b"Client Key", "sha256").digest()
sk = hmac.new(sp, b"Server Key", "sha256").digest()
b = lambda x: base64.b64encode(x).decode()
print(f"SCRAM-SHA-256${it}:{b(salt)}${b(hashlib.sha256(ck).digest())}:{b(sk)}")
EOF
}
add_user alice secret
pg_sql tspgw "INSERT INTO tspgw_users (username, realm, scram_sha256) VALUES
	('carol', '$REALM', '$(scram_secret hunter3)')" || exit 1

# DEBUG=1: the gateway's debug log (libsasl2's and the plugin's messages).
e2e_bg "$NS_G" "$T/run.1.log" "$TSPGW" -c "$CONF" ${DEBUG:+-v} run
GW_PID=$E2E_BG_PID
e2e_check "tspgw run with users in PostgreSQL starts and serves TSP" gateway_serving 1 || e2e_finish

# --- helpers ------------------------------------------------------------------

# login NAME USER PASSWORD MECH MODE: tspc --print-only, output in
# $T/NAME.out/.err; its exit status. MODE v6v4 is signalled over TCP.
login() {
	printf '%s\n' "$3" >"$T/$1.pw"
	cli timeout 40 "$TSPC" ${DEBUG:+-v} --print-only --server "$GW" --user "$2" --password-file "$T/$1.pw" \
		--auth "$4" --mode "$5" --timeout 10 >"$T/$1.out" 2>"$T/$1.err" </dev/null
}
param() { grep "^$2=" "$T/$1.out" | tail -n 1 | cut -d= -f2-; }
# login_ok USER PASSWORD MECH...: each mechanism over UDP and TCP.
login_ok() {
	local user=$1 pw=$2 m mode n
	shift 2
	for m in "$@"; do
		for mode in v6udpv4 v6v4; do
			n=ok-$m-$mode-$RANDOM
			login "$n" "$user" "$pw" "$m" "$mode" || { echo "$m $mode: exit $?"; cat "$T/$n.err"; return 1; }
			[ "$(param "$n" TSP_AUTH_METHOD)" = "${m^^}" ] &&
				param "$n" TSP_CLIENT_ADDRESS_IPV6 | grep -q '^2001:db8:100::' ||
				{ echo "$m $mode:"; cat "$T/$n.out"; return 1; }
			# One v6v4 tunnel per client address: the next user's needs it.
			[ "$mode" = v6udpv4 ] || gw tunnel del --type v6v4 --remote 192.0.2.2 >/dev/null ||
				return 1
		done
	done
}
# login_refused CODE EXIT USER PASSWORD MECH [MODE]: refused with that TSP code.
login_refused() {
	local n=no-$RANDOM rc=0
	login "$n" "$3" "$4" "$5" "${6:-v6udpv4}" || rc=$?
	[ "$rc" = "$2" ] && grep -Eq "(\(| )$1( |\)|$)" "$T/$n.err" || { echo "exit $rc, want $2 ($1)"; cat "$T/$n.err"; return 1; }
}
anonymous_ok() {
	local n=anon-$RANDOM
	cli timeout 40 "$TSPC" --print-only --server "$GW" --timeout 10 >"$T/$n.out" 2>"$T/$n.err" </dev/null &&
		param "$n" TSP_CLIENT_ADDRESS_IPV6 | grep -q '^2001:db8:ffff:' || { cat "$T/$n.err"; return 1; }
}
ms() { date +%s%3N; }
# waited_ms: how long the gateway waited for the database before its last
# "unreachable" warning (the time its event loop stood still).
waited_ms() { grep "user database $DB_ADDR:5432 unreachable" "$T/run.1.log" | tail -n 1 | sed -n 's/.*, after \([0-9]*\) ms).*/\1/p'; }

# --- logins -------------------------------------------------------------------

e2e_check "DIGEST-MD5, SCRAM-SHA-256 and PLAIN logins of a PostgreSQL user over UDP and TCP" \
	login_ok alice secret digest-md5 scram-sha-256 plain
t_wrong() {
	login_refused 300 3 alice nope digest-md5 && login_refused 300 3 alice nope scram-sha-256 &&
		login_refused 300 3 alice nope plain
}
e2e_check "wrong password: 300 (DIGEST-MD5, SCRAM-SHA-256, PLAIN)" t_wrong
t_unknown() {
	login_refused 300 3 mallory secret digest-md5 && login_refused 300 3 mallory secret scram-sha-256 &&
		login_refused 300 3 mallory secret plain
}
e2e_check "unknown user: 300 (every mechanism)" t_unknown
t_scram_secret() {
	login_ok carol hunter3 scram-sha-256 && login_refused 300 3 carol hunter3 digest-md5 &&
		login_refused 300 3 carol wrong scram-sha-256
}
e2e_check "a user with only a SCRAM secret (no clear text): SCRAM-SHA-256 works, DIGEST-MD5 is 300" \
	t_scram_secret
t_runtime_user() {
	login_refused 300 3 dave d4ve digest-md5 || return 1
	add_user dave d4ve && login_ok dave d4ve digest-md5
}
e2e_check "a user INSERTed while the gateway runs logs in at once (no restart, no reload)" t_runtime_user
# User names written as SQL (quotes, statements, backslashes, bytes that
# are not UTF-8): tests/adversarial/t_sql_names.sh.

t_table_unusable() {
	# Without SELECT on the table every lookup would find no one (300,
	# counted against the user): the gateway's check sees the error.
	pg_sql tspgw "REVOKE SELECT ON tspgw_users FROM tspgw_gw" || return 1
	login_refused 310 4 alice secret digest-md5 v6v4 || return 1
	grep -q "user database $DB_ADDR:5432 unusable (.*permission denied" "$T/run.1.log" ||
		{ echo "no 'unusable' warning"; return 1; }
	pg_sql tspgw "GRANT SELECT ON tspgw_users TO tspgw_gw" || return 1
	local i
	for ((i = 0; i < 20; i++)); do
		login_ok alice secret digest-md5 >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	login_ok alice secret digest-md5
}
e2e_check "SELECT on the table revoked: 310 and 'unusable (permission denied)' logged; granted: logins again" \
	t_table_unusable

# --- the database down ----------------------------------------------------------

# A tunnel set up before the outage: alice over v6udpv4, keepalives every 2 s.
printf 'secret\n' >"$T/alice.pw"
nsenter --net="/run/netns/$NS_C" -- "$TSPC" --server "$GW" --user alice --password-file "$T/alice.pw" \
	--auth digest-md5 --once >"$T/alice.out" 2>"$T/alice.err" </dev/null &
ALICE_PID=$!
e2e_register_pid "$ALICE_PID"
ping_host() { cli ping -6 -c 3 -i 0.2 -W 2 "$HOST6" >/dev/null; }
alice_up() { e2e_wait_for 15 grep -q '^TSP_SESSION=' "$T/alice.out" && ping_host || { cat "$T/alice.err"; return 1; }; }
e2e_check "alice's tunnel up (DIGEST-MD5 from PostgreSQL): ping through it" alice_up

pg_stop
t_down_310() {
	local t0 t1 n=down-$RANDOM rc=0
	# Over TCP: the time is the gateway's (UDP adds the retransmission
	# the signalling guard asks of an unvalidated source, about 2 s).
	t0=$(ms)
	login "$n" alice secret digest-md5 v6v4 || rc=$?
	t1=$(ms)
	echo "first login with the database stopped: exit $rc after $((t1 - t0)) ms, the gateway waited $(waited_ms) ms"
	[ "$rc" = 4 ] && grep -q "answered 310" "$T/$n.err" || { cat "$T/$n.err"; return 1; }
	[ $((t1 - t0)) -lt 1500 ] && [ "$(waited_ms)" -lt 500 ] || { echo "too slow"; return 1; }
	grep -q "user database $DB_ADDR:5432 unreachable" "$T/run.1.log" || { echo "no warning logged"; return 1; }
}
e2e_check "database stopped: an authenticated setup is answered 310 within 1.5 s, a warning logged" t_down_310
t_down_anonymous() {
	login_refused 310 4 alice secret scram-sha-256 && login_refused 310 4 alice secret plain &&
		anonymous_ok
}
e2e_check "  SCRAM-SHA-256 and PLAIN 310 too; an anonymous setup is served" t_down_anonymous
t_tunnel_stays() {
	# Past a few keepalive intervals: still the first session, forwarding.
	sleep 3
	kill -0 "$ALICE_PID" && [ "$(grep -c '^TSP_SESSION=' "$T/alice.out")" = 1 ] && ping_host ||
		{ cat "$T/alice.err"; return 1; }
	! grep -q "unanswered" "$T/alice.err"
}
e2e_check "  alice's tunnel keeps forwarding, its keepalives answered" t_tunnel_stays

pg_start_again || exit 1
t_back() {
	local i
	for ((i = 0; i < 20; i++)); do
		login_ok alice secret digest-md5 >/dev/null 2>&1 && break
		sleep 0.5
	done
	login_ok alice secret digest-md5 scram-sha-256 && grep -q "user database $DB_ADDR:5432 reachable again" "$T/run.1.log"
}
e2e_check "database started again: logins work by themselves (logged)" t_back

# --- the database unreachable (packets dropped) ----------------------------------

# The gateway's frames to the database go to a MAC no one has: its check
# gives up after connect_timeout.
ip -n "$NS_G" neigh replace $DB_ADDR lladdr 02:00:00:00:00:99 dev p0 nud permanent
t_blackhole() {
	local t0 t1 ta n=bh-$RANDOM rc=0 arc=0 lpid w
	t0=$(ms)
	login "$n" alice secret digest-md5 v6v4 &
	lpid=$!
	# An anonymous client arriving while the gateway waits on the database
	# (the login's lookup starts well within a second): it waits too.
	sleep 1
	anonymous_ok || arc=$?
	ta=$(ms)
	wait "$lpid" || rc=$?
	t1=$(ms)
	w=$(waited_ms)
	echo "unreachable database: the gateway waited $w ms, the login got 310 after $((t1 - t0)) ms;"
	echo "an anonymous setup started 1 s in was done $((ta - t0)) ms in"
	[ "$rc" = 4 ] && grep -q "answered 310" "$T/$n.err" || { echo "exit $rc"; cat "$T/$n.err"; return 1; }
	[ "$arc" = 0 ] || { echo "anonymous setup failed"; return 1; }
	# tcp_user_timeout (connect_timeout) plus the kernel's last
	# retransmission: measured about 2.4 s for 2 s.
	[ -n "$w" ] && [ "$w" -ge $((CONNECT_TIMEOUT * 1000 - 100)) ] &&
		[ "$w" -lt $((CONNECT_TIMEOUT * 1000 + 1500)) ] &&
		[ $((t1 - t0)) -lt $((CONNECT_TIMEOUT * 1000 + 3000)) ] || { echo "outside the bound"; return 1; }
	t0=$(ms)
	login_refused 310 4 alice secret digest-md5 v6v4 || return 1
	t1=$(ms)
	echo "held: the next login 310 after $((t1 - t0)) ms"
	[ $((t1 - t0)) -lt 1000 ]
}
e2e_check "database unreachable: 310 within the connect_timeout bound, anonymous still served, then held" \
	t_blackhole
ip -n "$NS_G" neigh replace $DB_ADDR lladdr "$DB_MAC" dev p0 nud permanent
e2e_check "reachable again: logins work by themselves" t_back

# --- the database frozen: connections taken, queries never answered -----------

# SIGSTOP on the server and its backends: their kernel still accepts and
# acknowledges, nothing answers. The gateway's check gives up after
# connect_timeout instead of waiting forever.
pg_procs() { echo "$PG_PID" $(pgrep -P "$PG_PID"); }
kill -STOP $(pg_procs)
e2e_on_exit "kill -CONT $(pg_procs) 2>/dev/null"
t_frozen() {
	local t0 t1 n=fz-$RANDOM rc=0 w
	t0=$(ms)
	login "$n" alice secret digest-md5 v6v4 || rc=$?
	t1=$(ms)
	w=$(waited_ms)
	echo "frozen database: the gateway waited $w ms, the login got 310 after $((t1 - t0)) ms"
	[ "$rc" = 4 ] && grep -q "answered 310" "$T/$n.err" || { echo "exit $rc"; cat "$T/$n.err"; return 1; }
	grep "user database $DB_ADDR:5432 unreachable" "$T/run.1.log" | tail -n 1 | grep -q "no answer within" &&
		[ -n "$w" ] && [ "$w" -lt $((CONNECT_TIMEOUT * 1000 + 1500)) ] &&
		[ $((t1 - t0)) -lt $((CONNECT_TIMEOUT * 1000 + 3000)) ] || { echo "outside the bound"; return 1; }
}
e2e_check "database frozen (SIGSTOP): 310 after connect_timeout, no hang" t_frozen
kill -CONT $(pg_procs)
e2e_check "thawed: logins work by themselves" t_back

kill -TERM "$ALICE_PID" 2>/dev/null
e2e_wait_exit "$ALICE_PID" 5 2>/dev/null
{
	kill -TERM "$GW_PID"
	e2e_wait_exit "$GW_PID" 5
	echo $? >"$T/stop.rc"
} 2>/dev/null
t_stop() { [ "$(cat "$T/stop.rc")" = 0 ] || { echo "exit status $(cat "$T/stop.rc")"; return 1; }; }
e2e_check "SIGTERM stops the gateway (exit 0)" t_stop
pg_stop
e2e_check_no_leftovers
e2e_finish
