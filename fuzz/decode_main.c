// SPDX-License-Identifier: MIT
/*
 * sgt_decode [--target T] FILE...: print a fuzz input of harness target T (default "ops") as a
 * readable list of operations, without running it. Slot numbers are hints that the harness
 * resolves when it runs; `fuzz_T -v FILE` shows them resolved, with each step's outcome.
 * sgt_decode [--target T] --test NAME FILE: print a unit test that replays the input's
 * operations, ready to paste into tests/unit/test_regressions.cpp.
 * sgt_decode --target T --from-ops OUT FILE...: rewrite "ops" inputs for target T (s_from_ops).
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

static size_t s_read(const char *path, uint8_t *buf, size_t size)
{
	FILE *f = fopen(path, "rb");
	size_t len;

	if (!f) {
		fprintf(stderr, "sgt_decode: cannot open %s\n", path);
		exit(2);
	}
	len = fread(buf, 1, size, f);
	fclose(f);
	return len;
}

/* A gtest with the operations as aggregates, in struct sgt_op's field order. */
static void s_print_test(const char *target, const char *name, const char *path, uint32_t seed,
			 const struct sgt_op *ops, size_t n)
{
	char line[256];
	size_t i;

	printf("// Found by fuzzing (target %s): %s\n", target, path);
	printf("// Fields: kind, slot, slot2, dev, dir, variant, layout, chunk_cap, first_page,\n"
	       "// num_pages, offset, max_seg, seed, n, size, skip, len.\n");
	printf("TEST(Regressions, %s)\n{\n\treplay(\n\t\t{\n", name);
	for (i = 0; i < n; i++) {
		const struct sgt_op *o = &ops[i];

		sgt_op_describe(o, line, sizeof(line));
		printf("\t\t\t// %s\n", line);
		printf("\t\t\tsgt_op{ %u, %u, %u, %u, %u, %u, %u, %u, %u, %u, %uu, %uu, %uu, %uu, "
		       "%lluull, %lluull, %lluull },\n",
		       o->kind, o->slot, o->slot2, o->dev, o->dir, o->variant, o->layout,
		       o->chunk_cap, o->first_page, o->num_pages, o->offset, o->max_seg, o->seed,
		       o->n, (unsigned long long)o->size, (unsigned long long)o->skip,
		       (unsigned long long)o->len);
	}
	printf("\t\t},\n\t\t%uu);\n}\n", seed);
}

/*
 * --from-ops OUT FILE...: rewrite "ops" inputs (e.g. exported property-test sequences) for a
 * target with an operation subset: operations of kinds outside the subset are dropped and each
 * kind byte becomes its index in the subset, so the target runs the same operations. Writes
 * OUT/<name of FILE>; inputs left without an operation are skipped.
 */
static int s_from_ops(const uint8_t *kinds, size_t num_kinds, const char *out_dir, char **files,
		      int num_files)
{
	static uint8_t in[1 << 20], out[SGT_FUZZ_MAX_LEN];
	int f;

	for (f = 0; f < num_files; f++) {
		size_t len = s_read(files[f], in, sizeof(in)), at = SGT_FUZZ_SEED_BYTES, n = 0, k;
		const char *base = strrchr(files[f], '/');
		char path[4096];
		FILE *o;

		if (len < SGT_FUZZ_SEED_BYTES)
			continue;
		memcpy(out, in, SGT_FUZZ_SEED_BYTES);
		for (; at + SGT_FUZZ_RECORD <= len && n < SGT_FUZZ_MAX_OPS; at += SGT_FUZZ_RECORD) {
			for (k = 0; k < num_kinds && kinds[k] != in[at]; k++)
				;
			if (k == num_kinds)
				continue;
			memcpy(out + SGT_FUZZ_SEED_BYTES + n * SGT_FUZZ_RECORD, in + at,
			       SGT_FUZZ_RECORD);
			out[SGT_FUZZ_SEED_BYTES + n * SGT_FUZZ_RECORD] = (uint8_t)k;
			n++;
		}
		if (!n)
			continue;
		snprintf(path, sizeof(path), "%s/%s", out_dir, base ? base + 1 : files[f]);
		o = fopen(path, "wb");
		if (!o || fwrite(out, 1, SGT_FUZZ_SEED_BYTES + n * SGT_FUZZ_RECORD, o) !=
				  SGT_FUZZ_SEED_BYTES + n * SGT_FUZZ_RECORD) {
			fprintf(stderr, "sgt_decode: cannot write %s\n", path);
			if (o)
				fclose(o);
			return 2;
		}
		fclose(o);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static uint8_t buf[1 << 20];
	struct sgt_op ops[SGT_FUZZ_MAX_OPS];
	const char *target = "ops", *test = NULL, *from_ops = NULL;
	const uint8_t *kinds;
	size_t len, n, i, num_kinds;
	char line[256];
	uint32_t seed;
	int a = 1;

	if (argc == 2 && !strcmp(argv[1], "--dict"))
		return s_dict();
	for (; a + 1 < argc && argv[a][0] == '-'; a += 2) {
		if (!strcmp(argv[a], "--target"))
			target = argv[a + 1];
		else if (!strcmp(argv[a], "--test"))
			test = argv[a + 1];
		else if (!strcmp(argv[a], "--from-ops"))
			from_ops = argv[a + 1];
		else
			break;
	}
	if (sgt_fuzz_target_kinds(target, &kinds, &num_kinds)) {
		fprintf(stderr,
			"sgt_decode: %s is not a harness target (ops, from_pages, copy, "
			"simiommu)\n",
			target);
		return 2;
	}
	if (from_ops && !kinds) {
		fprintf(stderr, "sgt_decode: --from-ops is for the targets with a subset\n");
		return 2;
	}
	if (from_ops)
		return s_from_ops(kinds, num_kinds, from_ops, argv + a, argc - a);
	for (; a < argc; a++) {
		len = s_read(argv[a], buf, sizeof(buf));
		n = sgt_fuzz_decode(buf, len, &seed, ops, SGT_FUZZ_MAX_OPS);
		sgt_fuzz_map_kinds(kinds, num_kinds, ops, n);
		if (test) {
			s_print_test(target, test, argv[a], seed, ops, n);
			continue;
		}
		printf("%s: %zu bytes, target %s, harness seed %u, %zu operations\n", argv[a], len,
		       target, seed, n);
		for (i = 0; i < n; i++) {
			sgt_op_describe(&ops[i], line, sizeof(line));
			printf("  %3zu %s\n", i, line);
		}
	}
	return 0;
}
