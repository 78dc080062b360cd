// SPDX-License-Identifier: MIT
/*
 * sgt_decode FILE...: print an "ops" fuzz input as a readable list of operations, without
 * running it. Slot numbers are hints that the harness resolves when it runs; `fuzz_ops -v FILE`
 * shows them resolved, with each step's outcome.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

/*
 * --dict: a libFuzzer dictionary of whole operation records, one per operation kind in useful
 * variants (each device and direction for maps, whole-page and short sizes, each misuse), so
 * the fuzzer can splice complete operations into its inputs.
 */
static int s_dict(void)
{
	uint8_t rec[SGT_FUZZ_RECORD];
	unsigned kind, v, i, n = 0;

	for (kind = 0; kind < SGT_OP_NUM_KINDS; kind++) {
		for (v = 0; v < 9; v++) {
			struct sgt_op op = { .kind = (uint8_t)kind,
					     .dev = (uint8_t)(v % 3),
					     .dir = (uint8_t)(v / 3),
					     .variant = (uint8_t)v,
					     .layout = (uint8_t)(v % SGT_LAYOUT_NUM),
					     .num_pages = 4,
					     .max_seg = v % 2 ? 512 : 1536,
					     .n = v % 3,
					     .size = v % 2 ? SGT_OP_WHOLE_PAGES : 700,
					     .len = 600,
					     .seed = (uint32_t)v };

			sgt_fuzz_encode(&op, rec);
			printf("op_%u_%u=\"", kind, v);
			for (i = 0; i < SGT_FUZZ_RECORD; i++)
				printf("\\x%02x", rec[i]);
			printf("\"\n");
			n++;
		}
	}
	fprintf(stderr, "sgt_decode: %u dictionary entries\n", n);
	return 0;
}

int main(int argc, char **argv)
{
	static uint8_t buf[1 << 20];
	struct sgt_op ops[SGT_FUZZ_MAX_OPS];
	char line[256];
	uint32_t seed;
	size_t len, n, i;
	int a;

	if (argc == 2 && !strcmp(argv[1], "--dict"))
		return s_dict();
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
