// SPDX-License-Identifier: MIT
/*
 * Fuzz target "iova": allocation and free sequences against a reference that knows which
 * granules are live, quarantined or reserved. An allocation must succeed exactly when a free,
 * usable, size-aligned slot exists under the limit, must land in one, and the allocator's own
 * invariants must hold after every step.
 *
 * Steps go through the allocator or one of two per-thread caches (the op byte's top bits); when
 * an allocation finds no room that the reference says exists, the caches are drained (the room
 * may be in them) and it is tried once more.
 *
 * Input: byte 0 quarantine length, byte 1 magazine size, then 4-byte steps: op, a, b, c.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sgt/iova.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define G 4096u
#define FIRST 16u /* the window in granules: [FIRST, FIRST + NUM) */
#define NUM 200u
#define MAX_LIVE 256u
#define QMAX 8u

struct ref {
	bool busy[NUM], reserved[NUM];
	uint64_t addr[MAX_LIVE], len[MAX_LIVE], n[MAX_LIVE];
	uint32_t live;
	uint64_t qfirst[QMAX + 1], qn[QMAX + 1];
	uint32_t qcount, qlen;
};

static void s_mark(struct ref *r, uint64_t g, uint64_t n, bool v)
{
	for (uint64_t i = 0; i < n; i++)
		r->busy[g - FIRST + i] = v;
}

static bool s_slot_exists(const struct ref *r, uint64_t n, uint64_t lim_g)
{
	for (uint64_t g = (FIRST + n - 1) / n * n; g + n - 1 < FIRST + NUM && g + n - 1 <= lim_g;
	     g += n) {
		bool ok = true;

		for (uint64_t i = 0; i < n && ok; i++)
			ok = !r->busy[g - FIRST + i] && !r->reserved[g - FIRST + i];
		if (ok)
			return true;
	}
	return false;
}

static void s_check(struct sgt_iova *v, const char *what)
{
	const char *why = NULL;

	if (sgt_iova_check(v, &why)) {
		fprintf(stderr, "sgt fuzz iova: invariant broken after %s: %s\n", what, why);
		abort();
	}
}

struct path {
	struct sgt_iova *v;
	struct sgt_iova_cache *cache[2];
	struct sgt_iova_cache *c; /* this step's: NULL for the allocator itself */
};

static int s_path_alloc(const struct path *pa, uint64_t len, uint64_t lim, uint64_t *addr)
{
	return pa->c ? sgt_iova_cache_alloc(pa->c, len, lim, addr)
		     : sgt_iova_alloc(pa->v, len, lim, addr);
}

static int s_path_release(const struct path *pa, uint64_t addr, uint64_t len)
{
	return pa->c ? sgt_iova_cache_release(pa->c, addr, len)
		     : sgt_iova_release(pa->v, addr, len);
}

static void s_alloc(const struct path *pa, struct ref *r, const uint8_t *p)
{
	uint64_t len = 1 + (((uint64_t)p[1] << 8 | p[2]) % (40 * G));
	uint64_t lim = p[3] < 64 ? (FIRST + p[3] % NUM) * G - 1 : UINT64_MAX;
	uint64_t lim_g = lim == UINT64_MAX ? UINT64_MAX : (lim + 1) / G - 1;
	uint64_t granules = (len + G - 1) / G, n = 1, addr = 0;
	bool expect;
	int err;

	while (n < granules)
		n <<= 1;
	expect = r->live < MAX_LIVE && s_slot_exists(r, n, lim_g);
	if (r->live == MAX_LIVE)
		return;
	err = s_path_alloc(pa, len, lim, &addr);
	if (err == -SGT_ENOSPC && expect) {
		sgt_iova_cache_drain(pa->cache[0]);
		sgt_iova_cache_drain(pa->cache[1]);
		err = s_path_alloc(pa, len, lim, &addr);
	}
	if (err != (expect ? 0 : -SGT_ENOSPC)) {
		fprintf(stderr, "sgt fuzz iova: alloc(%llu, limit %#llx) = %s, reference says %s\n",
			(unsigned long long)len, (unsigned long long)lim, sgt_errname(err),
			expect ? "a slot exists" : "no slot");
		abort();
	}
	if (err)
		return;
	uint64_t g = addr / G;
	if (g % n || g < FIRST || g + n > FIRST + NUM || g + n - 1 > lim_g) {
		fprintf(stderr, "sgt fuzz iova: range %#llx+%llu granules misplaced\n",
			(unsigned long long)addr, (unsigned long long)n);
		abort();
	}
	for (uint64_t i = 0; i < n; i++) {
		if (r->busy[g - FIRST + i] || r->reserved[g - FIRST + i]) {
			fprintf(stderr,
				"sgt fuzz iova: %#llx overlaps a live or reserved granule\n",
				(unsigned long long)addr);
			abort();
		}
	}
	s_mark(r, g, n, true);
	r->addr[r->live] = addr;
	r->len[r->live] = len;
	r->n[r->live++] = n;
}

static void s_free(const struct path *pa, struct ref *r, const uint8_t *p)
{
	uint32_t k;

	if (!r->live)
		return;
	k = p[1] % r->live;
	if (p[3] & 1 && s_path_release(pa, r->addr[k], r->len[k] + G) != -SGT_EINVAL) {
		fprintf(stderr, "sgt fuzz iova: release with a wrong length accepted\n");
		abort();
	}
	if (s_path_release(pa, r->addr[k], r->len[k])) {
		fprintf(stderr, "sgt fuzz iova: release of a live range refused\n");
		abort();
	}
	if (p[2] & 1 && s_path_release(pa, r->addr[k], r->len[k]) != -SGT_EINVAL) {
		fprintf(stderr, "sgt fuzz iova: double free accepted\n");
		abort();
	}
	r->qfirst[r->qcount] = r->addr[k] / G;
	r->qn[r->qcount++] = r->n[k];
	if (r->qcount > r->qlen) {
		s_mark(r, r->qfirst[0], r->qn[0], false);
		memmove(r->qfirst, r->qfirst + 1, (r->qcount - 1) * sizeof(r->qfirst[0]));
		memmove(r->qn, r->qn + 1, (r->qcount - 1) * sizeof(r->qn[0]));
		r->qcount--;
	}
	r->live--;
	r->addr[k] = r->addr[r->live];
	r->len[k] = r->len[r->live];
	r->n[k] = r->n[r->live];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct sgt_dma_window win = { FIRST * G, (FIRST + NUM) * G - 1 };
	const struct sgt_dma_window res[2] = { { 60 * G + 5, 70 * G }, { 150 * G, 150 * G } };
	struct ref *r = calloc(1, sizeof(*r));
	struct sgt_iova *v = NULL;
	struct path pa = { 0 };
	size_t i;

	if (!r || size < 2) {
		free(r);
		return 0;
	}
	r->qlen = data[0] % (QMAX + 1);
	struct sgt_iova_params p = {
		12, &win, 1, res, 2, r->qlen, data[1] % 2 ? 8 : 0, NULL, false
	};
	for (i = 60; i <= 70; i++)
		r->reserved[i - FIRST] = true;
	r->reserved[150 - FIRST] = true;
	if (sgt_iova_new(&p, &v)) {
		free(r);
		return 0;
	}
	pa.v = v;
	if (sgt_iova_cache_new(v, &pa.cache[0]) || sgt_iova_cache_new(v, &pa.cache[1])) {
		fprintf(stderr, "sgt fuzz iova: out of memory for the caches\n");
		abort();
	}
	for (i = 2; i + 4 <= size; i += 4) {
		/* top bits 01 and 10: a cache; 00 and 11: the allocator itself */
		unsigned int via = data[i] >> 6;

		pa.c = via == 1 || via == 2 ? pa.cache[via - 1] : NULL;
		if ((data[i] & 0x3f) % 3)
			s_alloc(&pa, r, data + i);
		else
			s_free(&pa, r, data + i);
		s_check(v, (data[i] & 0x3f) % 3 ? "alloc" : "free");
	}
	sgt_iova_cache_free(pa.cache[0]);
	s_check(v, "freeing a cache");
	sgt_iova_free(v);
	free(r);
	return 0;
}
