/* SPDX-License-Identifier: BSD-2-Clause */
/* The assignment database's schema, as one list of versioned steps with
 * the same tables in both dialects (SQLite, PostgreSQL). Step v brings
 * version v to v + 1; a new version appends a step and never edits an old
 * one, so every existing database can be brought forward. SQLite keeps its
 * version in PRAGMA user_version (as it always has); PostgreSQL in the one
 * row of schema_version. */
#ifndef TSPGW_ASSIGN_SCHEMA_H
#define TSPGW_ASSIGN_SCHEMA_H

#define ADB_SCHEMA_VERSION 5

struct adb_migration {
	const char *sqlite;
	const char *pg;
};

extern const struct adb_migration adb_migrations[ADB_SCHEMA_VERSION];

#endif
