// SPDX-License-Identifier: MIT
/*
 * sgt_decode FILE...: print an "ops" fuzz input as a readable list of operations, without
 * running it. Slot numbers are hints that the harness resolves when it runs; `fuzz_ops -v FILE`
 * shows them resolved, with each step's outcome.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_common.h"

int main(int argc, char **argv)
{
	static uint8_t buf[1 << 20];
	struct sgt_op ops[SGT_FUZZ_MAX_OPS];
	char line[256];
	uint32_t seed;
	size_t len, n, i;
	int a;

	for (a = 1; a < argc; a++) {
		FILE *f = fopen(argv[a], "rb");

		if (!f) {
			fprintf(stderr, "sgt_decode: cannot open %s\n", argv[a]);
			return 2;
		}
		len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		n = sgt_fuzz_decode(buf, len, &seed, ops, SGT_FUZZ_MAX_OPS);
		printf("%s: %zu bytes, harness seed %u, %zu operations\n", argv[a], len, seed, n);
		for (i = 0; i < n; i++) {
			sgt_op_describe(&ops[i], line, sizeof(line));
			printf("  %3zu %s\n", i, line);
		}
	}
	return 0;
}
