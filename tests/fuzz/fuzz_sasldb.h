/* SPDX-License-Identifier: BSD-2-Clause */
/* A throwaway sasldb for the harnesses that authenticate (fuzz_sasl.c,
 * fuzz_tsp_session.c): user FUZZ_USER with FUZZ_PASS in realm FUZZ_REALM,
 * made once per process with saslpasswd2 in a fresh /tmp directory that is
 * removed at exit. The seeds use these credentials, so PLAIN logins and
 * what follows them are reachable. */
#ifndef TSPGW_FUZZ_SASLDB_H
#define TSPGW_FUZZ_SASLDB_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FUZZ_SERVER "192.0.2.1"
#define FUZZ_REALM "tsp.example"
#define FUZZ_USER "alice"
#define FUZZ_PASS "secret"

static char fuzz_dir[64];
static char fuzz_sasldb[128];

static void fuzz_sasldb_cleanup(void)
{
	char cmd[128];

	if (!fuzz_dir[0])
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fuzz_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", fuzz_dir);
}

/* Returns the sasldb path; exits when it cannot be made (no sasl2-bin):
 * a harness without its users would fuzz far less than it claims. */
static const char *fuzz_sasldb_make(void)
{
	static const char *const bins[] = { "/usr/sbin/saslpasswd2", "/usr/bin/saslpasswd2" };
	const char *bin = NULL;
	char cmd[512];
	FILE *p;

	for (size_t i = 0; i < sizeof(bins) / sizeof(bins[0]); i++)
		if (access(bins[i], X_OK) == 0)
			bin = bins[i];
	snprintf(fuzz_dir, sizeof(fuzz_dir), "/tmp/tspgw-fuzz-XXXXXX");
	if (!bin || !mkdtemp(fuzz_dir)) {
		fprintf(stderr, "fuzz: need saslpasswd2 (sasl2-bin) and /tmp\n");
		exit(1);
	}
	atexit(fuzz_sasldb_cleanup);
	snprintf(fuzz_sasldb, sizeof(fuzz_sasldb), "%s/sasldb2", fuzz_dir);
	snprintf(cmd, sizeof(cmd), "%s -p -f '%s' -u '%s' -c '%s' >/dev/null 2>&1", bin,
		 fuzz_sasldb, FUZZ_REALM, FUZZ_USER);
	p = popen(cmd, "w");
	if (!p || (fprintf(p, "%s\n", FUZZ_PASS), pclose(p)) != 0) {
		fprintf(stderr, "fuzz: saslpasswd2 failed\n");
		exit(1);
	}
	return fuzz_sasldb;
}

#endif
