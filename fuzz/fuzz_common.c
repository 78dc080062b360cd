// SPDX-License-Identifier: MIT
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "fuzz_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int sgt_fuzz_verbose;

/*
 * Throughput counters, written when SGT_FUZZ_STATS names a folder: one file per process
 * (stats.<pid>), rewritten every second and at exit, so that AFL++'s short-lived persistent
 * children add up too. "Checked operations" are those that applied and passed every check.
 */
static struct {
	const char *dir;
	double start, last;
	uint64_t inputs, decoded, applied, skipped;
	uint64_t hist[5]; /* decoded operations per input: 0, 1, 2-3, 4-9, 10+ */
} s_stats;

static double s_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void s_stats_write(void)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/stats.%ld", s_stats.dir, (long)getpid());
	f = fopen(path, "w");
	if (!f)
		return;
	fprintf(f,
		"inputs %llu decoded %llu applied %llu skipped %llu seconds %.3f hist %llu %llu "
		"%llu %llu %llu\n",
		(unsigned long long)s_stats.inputs, (unsigned long long)s_stats.decoded,
		(unsigned long long)s_stats.applied, (unsigned long long)s_stats.skipped,
		s_now() - s_stats.start, (unsigned long long)s_stats.hist[0],
		(unsigned long long)s_stats.hist[1], (unsigned long long)s_stats.hist[2],
		(unsigned long long)s_stats.hist[3], (unsigned long long)s_stats.hist[4]);
	fclose(f);
}

static void s_stats_count(size_t decoded, size_t applied)
{
	double now;

	if (!s_stats.start) {
		s_stats.dir = getenv("SGT_FUZZ_STATS");
		if (!s_stats.dir || !*s_stats.dir) {
			s_stats.start = -1; /* off */
			return;
		}
		s_stats.start = s_stats.last = s_now();
		atexit(s_stats_write);
	}
	if (s_stats.start < 0)
		return;
	s_stats.inputs++;
	s_stats.decoded += decoded;
	s_stats.applied += applied;
	s_stats.skipped += decoded - applied;
	s_stats.hist[decoded == 0   ? 0
		     : decoded == 1 ? 1
		     : decoded < 4  ? 2
		     : decoded < 10 ? 3
				    : 4]++;
	now = s_now();
	if (now - s_stats.last >= 1.0) {
		s_stats.last = now;
		s_stats_write();
	}
}

/*
 * Each harness target's operation subset: an input's operation kinds are read modulo its size,
 * so the same bytes mean the same operations to the target and to sgt_decode --target.
 */
static const uint8_t s_from_pages_kinds[] = { SGT_OP_FROM_PAGES, SGT_OP_APPEND,	    SGT_OP_APPEND,
					      SGT_OP_SPLIT,	 SGT_OP_ITERATE,    SGT_OP_DROP,
					      SGT_OP_FAIL_ALLOC, SGT_OP_ALLOC_ORDER };
static const uint8_t s_copy_kinds[] = { SGT_OP_FROM_PAGES, SGT_OP_ALLOC_ORDER, SGT_OP_SPLIT,
					SGT_OP_BORROW,	   SGT_OP_COPY_TO,     SGT_OP_COPY_FROM,
					SGT_OP_ZERO,	   SGT_OP_ITERATE,     SGT_OP_DROP };
static const uint8_t s_simiommu_kinds[] = {
	SGT_OP_FROM_PAGES, SGT_OP_MAP,	     SGT_OP_MAP,       SGT_OP_WRAP_MAPPED,
	SGT_OP_UNMAP,	   SGT_OP_DEV_WRITE, SGT_OP_DEV_READ,  SGT_OP_SYNC_CPU,
	SGT_OP_SYNC_DEV,   SGT_OP_DROP,	     SGT_OP_RAW_MAP,   SGT_OP_RAW_UNMAP,
	SGT_OP_RAW_MISUSE, SGT_OP_FAIL_MAP,  SGT_OP_COPY_FROM,
};

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

/*
 * One world for every input, reset in between (sgt_harness_reset() leaves it as a new one
 * would be): building it afresh cost most of an input's time. Freed at exit, so that the leak
 * checker sees nothing.
 */
static struct sgt_harness *s_reused;

static void s_free_world(void)
{
	sgt_harness_free(s_reused);
	s_reused = NULL;
}

static struct sgt_harness *s_world(uint32_t seed)
{
	if (s_reused && sgt_harness_reset(s_reused, seed) == 0)
		return s_reused;
	if (!s_reused)
		atexit(s_free_world);
	sgt_harness_free(s_reused);
	s_reused = sgt_harness_new(seed);
	return s_reused;
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
	h = s_world(seed);
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
	s_stats_count(n, applied);
	return applied;
}
