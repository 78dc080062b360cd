// SPDX-License-Identifier: MIT
#include "fidelity_cases.h"

/* xorshift64: the same sequence in the kernel and on the host. */
static uint64_t s_next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static uint32_t s_pick(uint64_t *x, uint32_t n)
{
	return (uint32_t)(s_next(x) % n);
}

static const uint32_t s_max_segs[] = { 4096, 8192, 16384, 65536, 65536, 1u << 20 };
static const uint64_t s_boundaries[] = { 0x3fff, 0xffff, 0xffffffff, 0xffffffff, 0x1ffff };

/*
 * Shapes: single pages, contiguous runs that the core merges, scattered pages the IOMMU may merge,
 * mid-page offsets and tails, sub-page pieces (for swiotlb's 2 KiB slots).
 */
static void s_runs(uint64_t *x, unsigned int page_shift, struct sgt_fid_case *c)
{
	uint32_t ps = 1u << page_shift, i, page = s_pick(x, 4);

	c->num_runs = 1 + s_pick(x, SGT_FID_MAX_RUNS);
	for (i = 0; i < c->num_runs; i++) {
		struct sgt_fid_run *r = &c->runs[i];
		uint32_t pages = 1 + s_pick(x, 4);
		uint32_t kind = s_pick(x, 4);

		/* Adjacent to the previous run (a contiguous continuation) or a gap of pages. */
		page += s_pick(x, 3) == 0 ? 0 : 1 + s_pick(x, 3);
		if (page + pages > SGT_FID_POOL_PAGES)
			break;
		r->first_page = page;
		r->offset = kind == 1 ? s_pick(x, ps) & ~63u : 0;
		r->len = pages * ps - r->offset;
		if (kind == 2) /* a short tail */
			r->len -= s_pick(x, r->len - 1) & ~63u;
		if (kind == 3) /* a small piece */
			r->len = 64 + (s_pick(x, ps - 64) & ~63u);
		if (r->len > pages * ps - r->offset)
			r->len = pages * ps - r->offset;
		page += pages;
	}
	c->num_runs = i ? i : 1;
	if (!i) {
		c->runs[0] = (struct sgt_fid_run){ .first_page = 0, .offset = 0, .len = ps };
	}
}

void sgt_fid_case_get(uint32_t id, unsigned int page_shift, struct sgt_fid_case *out)
{
	uint64_t x = 0x9e3779b97f4a7c15ull ^ ((uint64_t)id * 0x100000001b3ull);
	struct sgt_fid_case c = { .id = id };

	(void)s_next(&x);
	s_runs(&x, page_shift, &c);
	c.max_segment = s_max_segs[s_pick(&x, sizeof(s_max_segs) / sizeof(s_max_segs[0]))];
	c.seg_boundary = s_boundaries[s_pick(&x, sizeof(s_boundaries) / sizeof(s_boundaries[0]))];
	c.dir = s_pick(&x, 3); /* bidirectional, to device, from device */
	*out = c;
}
