// SPDX-License-Identifier: BSD-2-Clause
/* Corpus replay without libFuzzer: runs LLVMFuzzerTestOneInput once per
 * file named on the command line, under ASan/UBSan (make test-fuzz-corpus).
 * A sanitizer report aborts the process, so reaching the end means every
 * file passed; the runner counts the files. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int replay(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, len = 0;

	if (!f) {
		perror(path);
		return -1;
	}
	for (;;) {
		if (len == cap) {
			uint8_t *n = realloc(buf, cap ? cap * 2 : 4096);

			if (!n) {
				free(buf);
				fclose(f);
				return -1;
			}
			buf = n;
			cap = cap ? cap * 2 : 4096;
		}
		size_t got = fread(buf + len, 1, cap - len, f);

		len += got;
		if (got == 0)
			break;
	}
	fclose(f);
	/* An exact-size copy, so ASan sees a read past the input's end. */
	uint8_t *exact = malloc(len ? len : 1);

	if (!exact) {
		free(buf);
		return -1;
	}
	for (size_t i = 0; i < len; i++)
		exact[i] = buf[i];
	free(buf);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	return 0;
}

int main(int argc, char **argv)
{
	int failed = 0;

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++)
		if (replay(argv[i]))
			failed++;
	printf("%d replayed, %d unreadable\n", argc - 1 - failed, failed);
	return failed ? 1 : 0;
}
