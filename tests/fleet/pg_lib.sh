# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=bash
# A throwaway PostgreSQL cluster for the fleet tests. Source it after
# tests/e2e/lib.sh and e2e_init:
#
#   . "$TOP/tests/e2e/lib.sh"; . "$TOP/tests/fleet/pg_lib.sh"
#   e2e_init; e2e_require_root; pg_require
#   e2e_netns_add "$DB_NS"; ip -n "$DB_NS" addr add 192.0.2.50/24 dev ...
#   pg_start "$DB_NS" 192.0.2.50          # initdb, start, wait until ready
#   pg_create_db tspgw tspgw "$PASSWORD"  # a role that owns a database
#   conninfo=$(pg_conninfo tspgw tspgw "$PASSWORD")            # over TCP
#   conninfo=$(pg_conninfo_socket tspgw tspgw "$PASSWORD")     # unix socket
#   pg_sql tspgw "SELECT count(*) FROM users"   # as the superuser, -At
#
# Or all of that for the usual case, a database for the gateways:
#   pg_start_db "$DB_NS" 203.0.113.50 tspgw tspgw "$PASSWORD"
#   broker.database: "$PG_CONNINFO"       # over the unix socket
#   pg_stop; pg_start_again               # the database down, then back
#
# Or, for a suite run on SQLite or on PostgreSQL (KIND sqlite or pg):
#   fleet_database "$KIND" "$DB_NS"       # broker.database: "$DATABASE"
#
# The cluster is its own: initdb in a temporary directory owned by the
# `postgres` OS user (initdb refuses root), the server started in the
# given network namespace (listening on the given address and on a unix
# socket in the temporary directory), never the machine's system cluster
# or service. fsync is off: the data is thrown away. The server runs in
# the foreground of a registered process, so the suite's cleanup and its
# leftover check see it; pg_stop asks for a fast shutdown first.

PG_BIN=""
PG_DIR=""        # temporary directory: data/, the socket, the log
PG_NS=""
PG_ADDR=""
PG_PORT=5432
PG_PID=""

# The binaries of the newest installed major version, and the OS user to
# run them as. Missing: skip outside CI, fail in CI (make deps installs
# them, so a missing server there is a broken set-up, not a skip).
pg_require() {
	local d
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] && PG_BIN=$d
	done
	if [ -z "$PG_BIN" ] || ! id postgres >/dev/null 2>&1; then
		if [ "${CI:-}" = true ]; then
			e2e_err "PostgreSQL server binaries or the postgres user are missing (make deps installs postgresql)"
			exit 1
		fi
		e2e_skip "PostgreSQL is not installed (make deps installs it)"
	fi
	e2e_require_tools setpriv psql pg_isready
}

# Run a command as the postgres OS user (setpriv execs: no extra process).
_pg_as() { setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; }

# pg_start NS ADDR: a new cluster, started in NS, listening on ADDR.
pg_start() {
	PG_NS=$1 PG_ADDR=$2
	PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tspgw-pg.XXXXXX") || return 1
	e2e_on_exit "rm -rf -- '$PG_DIR'"
	chown postgres:postgres "$PG_DIR" || return 1
	chmod 0700 "$PG_DIR"
	# Local (socket) connections are trusted: the socket lives in a
	# directory only postgres and root can enter. TCP needs a password.
	if ! _pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth-local=trust \
		--auth-host=scram-sha-256 -E UTF8 --locale=C >"$PG_DIR/initdb.log" 2>&1; then
		e2e_err "initdb failed: $(tail -n 5 "$PG_DIR/initdb.log")"
		return 1
	fi
	# Gateways connect over TCP from the test's documentation networks.
	local net
	for net in 192.0.2.0/24 198.51.100.0/24 203.0.113.0/24 2001:db8::/32; do
		printf 'host all all %s scram-sha-256\n' "$net" >>"$PG_DIR/data/pg_hba.conf"
	done
	pg_start_again
}

# Start the cluster pg_start made (again, after pg_stop).
pg_start_again() {
	e2e_bg "$PG_NS" "$PG_DIR/server.log" setpriv --reuid=postgres --regid=postgres \
		--init-groups -- "$PG_BIN/postgres" -D "$PG_DIR/data" -k "$PG_DIR" \
		-c listen_addresses="$PG_ADDR" -p "$PG_PORT" -c fsync=off \
		-c synchronous_commit=off -c full_page_writes=off -c max_connections=300 \
		-c log_min_messages=warning
	PG_PID=$E2E_BG_PID
	local i
	for ((i = 0; i < 300; i++)); do
		if ! kill -0 "$PG_PID" 2>/dev/null; then
			e2e_err "PostgreSQL did not start: $(tail -n 5 "$PG_DIR/server.log")"
			return 1
		fi
		pg_isready -q -h "$PG_DIR" -p "$PG_PORT" && return 0
		sleep 0.1
	done
	e2e_err "PostgreSQL not ready within 30 s: $(tail -n 5 "$PG_DIR/server.log")"
	return 1
}

# Fast shutdown (SIGINT: ends sessions, no waiting for clients), bounded.
pg_stop() {
	[ -n "$PG_PID" ] || return 0
	kill -INT "$PG_PID" 2>/dev/null || true
	e2e_wait_exit "$PG_PID" 10 || true
	PG_PID=""
}

# pg_sql DB SQL...: run SQL as the superuser over the socket; -At output.
pg_sql() {
	local db=$1
	shift
	_pg_as psql -X -q -v ON_ERROR_STOP=1 -At -h "$PG_DIR" -p "$PG_PORT" -U postgres -d "$db" -c "$*"
}

# pg_create_db DB ROLE PASSWORD: a login role and a database it owns.
pg_create_db() {
	local db=$1 role=$2 pw=$3
	pg_sql postgres "CREATE ROLE \"$role\" LOGIN PASSWORD '$pw'" || return 1
	pg_sql postgres "CREATE DATABASE \"$db\" OWNER \"$role\"" || return 1
}

# pg_start_db NS ADDR DB ROLE PASSWORD: a new cluster started in NS on
# ADDR, with a login role that owns database DB; PG_CONNINFO is then the
# gateways' connection string, over the cluster's unix socket (gateways in
# other namespaces reach it; the socket is local, so PostgreSQL trusts it
# and the string holds no password, as broker.database requires).
# shellcheck disable=SC2034 # read by the scripts that source this
PG_CONNINFO=""
pg_start_db() {
	pg_start "$1" "$2" || return 1
	pg_create_db "$3" "$4" "$5" || return 1
	# shellcheck disable=SC2034 # read by the scripts that source this
	PG_CONNINFO="host=$PG_DIR port=$PG_PORT dbname=$3 user=$4 connect_timeout=3"
}

# fleet_database KIND NS: DATABASE, the gateways' broker.database, for a
# suite that runs on either kind: sqlite, a file in $E2E_TMP; pg, a
# throwaway cluster in a new namespace NS (on 203.0.113.50), its
# PG_CONNINFO. pg_require first, for pg.
# shellcheck disable=SC2034 # DATABASE: read by the scripts that source this
fleet_database() {
	DATABASE=$E2E_TMP/fleet.sqlite
	[ "$1" = pg ] || return 0
	e2e_netns_add "$2" || return 1
	ip -n "$2" addr add 203.0.113.50/32 dev lo
	pg_start_db "$2" 203.0.113.50 tspgw tspgw "pw-$$" || return 1
	DATABASE=$PG_CONNINFO
}

# pg_conninfo DB ROLE PASSWORD: a libpq connection string over TCP to the
# cluster's address (the way a gateway on another machine connects).
pg_conninfo() {
	printf 'postgresql://%s:%s@%s:%s/%s?connect_timeout=3\n' "$2" "$3" "$PG_ADDR" "$PG_PORT" "$1"
}

# pg_conninfo_socket DB ROLE PASSWORD: the same over the unix socket (for
# a process outside the cluster's namespace; root can enter the directory).
pg_conninfo_socket() {
	printf 'host=%s port=%s dbname=%s user=%s password=%s connect_timeout=3\n' \
		"$PG_DIR" "$PG_PORT" "$1" "$2" "$3"
}
