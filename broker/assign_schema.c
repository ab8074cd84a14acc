// SPDX-License-Identifier: BSD-2-Clause
/* The schema steps: see assign_schema.h.
 *
 * Addresses: SQLite stores them as 16-byte big-endian BLOBs (SQLite
 * compares BLOBs with memcmp(), which is numeric order, so range queries
 * use the index). PostgreSQL stores them as inet (hosts, /128) and cidr
 * (prefixes), so the database itself refuses a second holder of an
 * address (UNIQUE) and overlapping prefixes (a GiST exclusion constraint
 * with the && operator): two gateways sharing the database can never
 * hand out the same address, whatever happens in their code. */
#include "broker/assign_schema.h"

const struct adb_migration adb_migrations[ADB_SCHEMA_VERSION] = {
	/* 0 -> 1 */
	{
		.sqlite =
			"CREATE TABLE users ("
			"  name        TEXT PRIMARY KEY,"
			"  host        BLOB NOT NULL UNIQUE CHECK (length(host) = 16),"
			"  prefix      BLOB CHECK (prefix IS NULL OR length(prefix) = 16),"
			"  plen        INTEGER NOT NULL DEFAULT 0,"
			/* Which allocator (pools.id) issued host and prefix: only
			 * those go back to that allocator's free list on release. */
			"  host_pool   INTEGER,"
			"  prefix_pool INTEGER,"
			"  origin_ipv4 TEXT,"    /* last seen origin, for the records */
			"  origin_port INTEGER," /* 0 for v6v4 */
			"  tunnel_type TEXT,"
			"  dns_servers TEXT,"    /* as listed in the last router request */
			"  created     INTEGER NOT NULL," /* Unix seconds */
			"  assigned    INTEGER NOT NULL," /* last change of host or prefix */
			"  last_seen   INTEGER"
			");"
			"CREATE INDEX users_prefix ON users(prefix);"
			/* AUTOINCREMENT: an allocator id is never reused, so a user
			 * row can never be mistaken for one issued by a later one. */
			"CREATE TABLE pools (id INTEGER PRIMARY KEY AUTOINCREMENT,"
			" name TEXT NOT NULL UNIQUE);"
			"CREATE TABLE free_blocks ("
			"  pool INTEGER NOT NULL, plen INTEGER NOT NULL, idx INTEGER NOT NULL,"
			"  PRIMARY KEY (pool, plen, idx)"
			") WITHOUT ROWID;",
		.pg =
			"CREATE TABLE users ("
			"  name        text PRIMARY KEY,"
			"  host        inet NOT NULL UNIQUE"
			"              CHECK (family(host) = 6 AND masklen(host) = 128),"
			"  prefix      cidr CHECK (prefix IS NULL OR family(prefix) = 6),"
			"  plen        integer NOT NULL DEFAULT 0,"
			"  host_pool   bigint,"
			"  prefix_pool bigint,"
			"  origin_ipv4 text,"
			"  origin_port integer,"
			"  tunnel_type text,"
			"  dns_servers text,"
			"  created     bigint NOT NULL,"
			"  assigned    bigint NOT NULL,"
			"  last_seen   bigint,"
			"  CONSTRAINT users_prefix_overlap"
			"    EXCLUDE USING gist (prefix inet_ops WITH &&)"
			");"
			/* Sequences never go back: an allocator id is never reused. */
			"CREATE TABLE pools (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
			" name text NOT NULL UNIQUE);"
			"CREATE TABLE free_blocks ("
			"  pool bigint NOT NULL, plen integer NOT NULL, idx bigint NOT NULL,"
			"  PRIMARY KEY (pool, plen, idx)"
			");",
	},
	/* 1 -> 2: requests to end a user's tunnel, written by the operator's
	 * CLI and taken by the daemon (assign_ops.c). */
	{
		.sqlite = "CREATE TABLE end_requests ("
			  "  name      TEXT PRIMARY KEY,"
			  "  requested INTEGER NOT NULL" /* Unix seconds */
			  ");",
		.pg = "CREATE TABLE end_requests ("
		      "  name      text PRIMARY KEY,"
		      "  requested bigint NOT NULL"
		      ");",
	},
	/* 2 -> 3: the gateways sharing this database (fleet_db.c): each
	 * beats its row; a drain is the operator's mark on it. */
	{
		.sqlite = "CREATE TABLE gateways ("
			  "  name        TEXT PRIMARY KEY,"
			  "  advertise   TEXT NOT NULL DEFAULT '',"  /* where clients are referred */
			  "  tunnels     INTEGER NOT NULL DEFAULT 0,"
			  "  max_tunnels INTEGER NOT NULL DEFAULT 0,"
			  "  draining    INTEGER NOT NULL DEFAULT 0,"
			  "  heartbeat   INTEGER NOT NULL DEFAULT 0"  /* Unix seconds, 0 = never */
			  ");",
		.pg = "CREATE TABLE gateways ("
		      "  name        text PRIMARY KEY,"
		      "  advertise   text NOT NULL DEFAULT '',"
		      "  tunnels     bigint NOT NULL DEFAULT 0,"
		      "  max_tunnels bigint NOT NULL DEFAULT 0,"
		      "  draining    boolean NOT NULL DEFAULT false,"
		      "  heartbeat   bigint NOT NULL DEFAULT 0"
		      ");",
	},
	/* 3 -> 4: which gateway serves each user's tunnel now, and when that
	 * last changed (served_seq, increasing across the fleet): a gateway
	 * reads the rows whose served_seq passed its cursor and ends its own
	 * tunnel of any user another gateway now serves (fleet_db.h). */
	{
		.sqlite = "ALTER TABLE users ADD COLUMN gateway TEXT;"
			  "ALTER TABLE users ADD COLUMN served_seq INTEGER;"
			  "CREATE INDEX users_served_seq ON users (served_seq);",
		/* PostgreSQL also tells every gateway at once (LISTEN
		 * tspgw_changes, assign_db_pg.c) when a user moves, an
		 * operator asks for a tunnel's end or a drain mark changes:
		 * the gateways then read what changed, instead of asking the
		 * server every few hundred milliseconds. */
		.pg = "ALTER TABLE users ADD COLUMN gateway text, ADD COLUMN served_seq bigint;"
		      "CREATE SEQUENCE users_served;"
		      "CREATE INDEX users_served_seq ON users (served_seq);"
		      "CREATE FUNCTION tspgw_notify() RETURNS trigger LANGUAGE plpgsql AS"
		      " $$BEGIN PERFORM pg_notify('tspgw_changes', TG_TABLE_NAME); RETURN NULL;"
		      " END$$;"
		      "CREATE TRIGGER users_served AFTER UPDATE OF gateway ON users"
		      " FOR EACH STATEMENT EXECUTE FUNCTION tspgw_notify();"
		      "CREATE TRIGGER end_requested AFTER INSERT OR UPDATE ON end_requests"
		      " FOR EACH STATEMENT EXECUTE FUNCTION tspgw_notify();"
		      "CREATE TRIGGER gateway_drained AFTER INSERT OR UPDATE OF draining ON gateways"
		      " FOR EACH STATEMENT EXECUTE FUNCTION tspgw_notify();",
	},
	/* 4 -> 5: when a gateway last used each allocator (Unix seconds,
	 * written at its start, then by a heartbeat or reload once the mark
	 * is an hour old, ASSIGN_POOL_MARK_S): gateways sharing
	 * the database with different pools (a rolling configuration change,
	 * pools per site) forget only the allocators nobody used for a day,
	 * never one another gateway is handing addresses from. */
	{
		.sqlite = "ALTER TABLE pools ADD COLUMN used_at INTEGER;",
		.pg = "ALTER TABLE pools ADD COLUMN used_at bigint;",
	},
};
