// SPDX-License-Identifier: MIT
#include "fuzz_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sgt_fuzz_verbose;

static uint16_t s_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

size_t sgt_fuzz_decode(const uint8_t *data, size_t size, uint32_t *out_seed, struct sgt_op *ops,
		       size_t max_ops)
{
	size_t n = 0;

	*out_seed = 0;
	if (size >= 4) {
		*out_seed = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 |
			    (uint32_t)data[3] << 24;
		data += 4;
		size -= 4;
	}
	for (; size >= SGT_FUZZ_RECORD && n < max_ops;
	     data += SGT_FUZZ_RECORD, size -= SGT_FUZZ_RECORD, n++) {
		struct sgt_op *op = &ops[n];

		*op = (struct sgt_op){
			.kind = data[0],
			.slot = data[1],
			.slot2 = data[2],
			.dev = data[3],
			.dir = data[4],
			.variant = data[5],
			.layout = data[6],
			.chunk_cap = data[7],
			.first_page = data[8],
			.num_pages = data[9],
			.max_seg = data[10],
			.n = data[11],
			.offset = s_u16(data + 12),
			.seed = s_u16(data + 14),
			/* Top bit: whole pages, a state random sizes rarely reach. */
			.size = data[17] & 0x80 ? SGT_OP_WHOLE_PAGES : s_u16(data + 16),
			.skip = s_u16(data + 18),
			.len = s_u16(data + 20),
		};
	}
	return n;
}

static void s_put16(uint8_t *p, uint64_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* The byte that decodes back to @max_seg, which the harness keeps only for its own values. */
static uint8_t s_max_seg_byte(uint32_t max_seg)
{
	static const uint32_t values[] = { 0, 511, 512, 1024, 1536, 2048, UINT32_MAX };
	uint8_t i;

	for (i = 0; i < 7; i++) {
		if (values[i] == max_seg)
			return i;
	}
	return (uint8_t)max_seg;
}

void sgt_fuzz_encode(const struct sgt_op *op, uint8_t *out)
{
	out[0] = op->kind;
	out[1] = op->slot;
	out[2] = op->slot2;
	out[3] = op->dev;
	out[4] = op->dir;
	out[5] = op->variant;
	out[6] = op->layout;
	out[7] = op->chunk_cap;
	out[8] = (uint8_t)op->first_page;
	out[9] = (uint8_t)op->num_pages;
	out[10] = s_max_seg_byte(op->max_seg);
	out[11] = (uint8_t)op->n;
	s_put16(out + 12, op->offset);
	s_put16(out + 14, op->seed);
	s_put16(out + 16, op->size == SGT_OP_WHOLE_PAGES ? 0x8000 : op->size & 0x7fff);
	s_put16(out + 18, op->skip);
	s_put16(out + 20, op->len);
}

/*
 * Each harness target's operation subset: an input's operation kinds are read modulo its size,
 * so the same bytes mean the same operations to the target and to sgt_decode --target.
 */
static const uint8_t s_from_pages_kinds[] = { SGT_OP_FROM_PAGES, SGT_OP_APPEND, SGT_OP_APPEND, SGT_OP_SPLIT, SGT_OP_ITERATE, SGT_OP_DROP, SGT_OP_FAIL_ALLOC, SGT_OP_ALLOC_ORDER };
static const uint8_t s_copy_kinds[] = { SGT_OP_FROM_PAGES, SGT_OP_ALLOC_ORDER, SGT_OP_SPLIT, SGT_OP_BORROW, SGT_OP_COPY_TO, SGT_OP_COPY_FROM, SGT_OP_ZERO, SGT_OP_ITERATE, SGT_OP_DROP };
static const uint8_t s_simiommu_kinds[] = { SGT_OP_FROM_PAGES, SGT_OP_MAP, SGT_OP_MAP, SGT_OP_WRAP_MAPPED, SGT_OP_UNMAP, SGT_OP_DEV_WRITE, SGT_OP_DEV_READ, SGT_OP_SYNC_CPU, SGT_OP_SYNC_DEV, SGT_OP_DROP, SGT_OP_RAW_MAP, SGT_OP_RAW_UNMAP, SGT_OP_RAW_MISUSE, SGT_OP_FAIL_MAP, SGT_OP_COPY_FROM, };

static const struct {
	const char *name;
	const uint8_t *kinds;
	size_t num;
} s_targets[] = {
	{ "ops", NULL, 0 },
	{ "from_pages", s_from_pages_kinds, sizeof(s_from_pages_kinds) },
	{ "copy", s_copy_kinds, sizeof(s_copy_kinds) },
	{ "simiommu", s_simiommu_kinds, sizeof(s_simiommu_kinds) },
};

int sgt_fuzz_target_kinds(const char *target, const uint8_t **out_kinds, size_t *out_num)
{
	size_t i;

	for (i = 0; i < sizeof(s_targets) / sizeof(s_targets[0]); i++) {
		if (!strcmp(target, s_targets[i].name)) {
			*out_kinds = s_targets[i].kinds;
			*out_num = s_targets[i].num;
			return 0;
		}
	}
	return -1;
}

void sgt_fuzz_map_kinds(const uint8_t *kinds, size_t num_kinds, struct sgt_op *ops, size_t n)
{
	size_t i;

	for (i = 0; kinds && i < n; i++)
		ops[i].kind = kinds[ops[i].kind % num_kinds];
}

size_t sgt_fuzz_run_target(const char *target, const uint8_t *data, size_t size, int verbose)
{
	const uint8_t *kinds = NULL;
	size_t num = 0;

	if (sgt_fuzz_target_kinds(target, &kinds, &num))
		abort();
	return sgt_fuzz_run(data, size, kinds, num, verbose);
}

static void s_fail(struct sgt_harness *h, size_t step, const struct sgt_op *op)
{
	char buf[256];

	if (op)
		sgt_op_describe(op, buf, sizeof(buf));
	fprintf(stderr, "sgt fuzz: MISMATCH at step %zu%s%s\nsgt fuzz: %s\n", step,
		op ? ": " : " (end of sequence)", op ? buf : "", sgt_harness_why(h));
	abort();
}

size_t sgt_fuzz_run(const uint8_t *data, size_t size, const uint8_t *kinds, size_t num_kinds,
		    int verbose)
{
	struct sgt_op ops[SGT_FUZZ_MAX_OPS];
	struct sgt_harness *h;
	size_t n, i, applied = 0;
	uint32_t seed;
	char buf[256];
	int r;

	n = sgt_fuzz_decode(data, size, &seed, ops, SGT_FUZZ_MAX_OPS);
	h = sgt_harness_new(seed);
	if (!h)
		return 0;
	sgt_fuzz_map_kinds(kinds, num_kinds, ops, n);
	for (i = 0; i < n; i++) {
		r = sgt_harness_apply(h, &ops[i]);
		if (verbose) {
			sgt_op_describe(&ops[i], buf, sizeof(buf));
			fprintf(stderr, "  %3zu %-8s %s\n", i,
				r == SGT_H_OK	     ? "ok"
				: r == SGT_H_SKIPPED ? "skipped"
						     : "MISMATCH",
				buf);
		}
		if (r == SGT_H_MISMATCH)
			s_fail(h, i, &ops[i]);
		applied += r == SGT_H_OK;
	}
	if (sgt_harness_finish(h) == SGT_H_MISMATCH)
		s_fail(h, n, NULL);
	sgt_harness_free(h);
	return applied;
}
