// SPDX-License-Identifier: BSD-2-Clause
/* libFuzzer harness: the SASL step inputs of the broker (broker/tsp_sasl.c
 * on libsasl2): the client's responses for each mechanism the broker can
 * offer. The first byte picks the mechanism (ANONYMOUS, PLAIN, DIGEST-MD5,
 * SCRAM-SHA-256) and whether the responses are base64 as on the wire
 * (decoded with tsp_b64_decode, as tsp_session.c does) or raw; the rest is
 * length-prefixed responses (fuzz_chunks.h), each given to tsp_sasl_step
 * until the exchange ends. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_chunks.h"
#include "tests/fuzz/fuzz_sasldb.h"
#include "broker/tsp_sasl.h"

static const char *const mechs[] = { "ANONYMOUS", "PLAIN", "DIGEST-MD5", "SCRAM-SHA-256" };
#define N_MECHS ((int)(sizeof(mechs) / sizeof(mechs[0])))

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct tsp_sasl_cfg cfg = {
		.realm = FUZZ_REALM,
		.server_name = FUZZ_SERVER,
		.allowed_mechs = mechs,
		.n_allowed = N_MECHS,
	};
	char err[256];

	(void)argc;
	(void)argv;
	cfg.sasldb_path = fuzz_sasldb_make();
	if (tsp_sasl_init(&cfg, err, sizeof(err))) {
		fprintf(stderr, "fuzz_sasl: %s\n", err);
		exit(1);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_chunks in = { data, size };
	struct tsp_sasl_session *s;
	const char *out = NULL;
	unsigned outlen = 0;
	const uint8_t *msg;
	size_t len;
	uint8_t sel;
	bool b64;
	enum tsp_sasl_result r;

	if (!fuzz_next_byte(&in, &sel))
		return 0;
	b64 = sel & 0x80;
	s = tsp_sasl_session_new("192.0.2.2:40000", "192.0.2.1:3653");
	if (!s)
		abort();
	r = tsp_sasl_start(s, mechs[(sel & 0x7f) % N_MECHS], NULL, 0, &out, &outlen);
	for (int steps = 0; r == TSP_SASL_CONTINUE && steps < 8 && fuzz_next_chunk(&in, &msg, &len);
	     steps++) {
		char raw[8192];
		unsigned rawlen = 0;

		if (b64) {
			if (tsp_b64_decode((const char *)msg, (unsigned)len, raw, sizeof(raw), &rawlen))
				break;
			r = tsp_sasl_step(s, raw, rawlen, &out, &outlen);
		} else {
			r = tsp_sasl_step(s, (const char *)msg, (unsigned)len, &out, &outlen);
		}
		if (outlen) {
			char enc[16384];
			unsigned enclen;

			tsp_b64_encode(out, outlen, enc, sizeof(enc), &enclen);
		}
	}
	if (r == TSP_SASL_DONE && !tsp_sasl_user(s))
		abort(); /* authenticated but nobody: the broker would serve "" */
	tsp_sasl_session_free(s);
	return 0;
}
