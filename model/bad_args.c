// SPDX-License-Identifier: MIT
/*
 * Bad arguments to every public function (SGT_BAD_ARG): a NULL where a pointer is needed, a
 * context or direction that is no value of its enum, parameters out of range, a handle of the
 * wrong kind. Each call's expected error is the one its kernel-doc promises; the harness
 * checks afterwards, as after every step, that nothing changed (entries, memory, devices) and
 * that nothing was allocated. The unit tests try these one by one; here the fuzzers and the
 * property test reach them in any state, so a refusal that is only right in a fresh world
 * shows, and the corpora cover the refusal paths.
 */
#include <string.h>

#include "sgt/iova.h"
#include "sgt/user.h"
#include "world.h"

/* The names error.h documents, as the harness spells them (not the library's table). */
static int s_names(void)
{
	static const struct {
		int err;
		const char *name;
	} want[] = {
		{ 0, "0" },
		{ -SGT_EIO, "-EIO" },
		{ -SGT_E2BIG, "-E2BIG" },
		{ -SGT_ENOMEM, "-ENOMEM" },
		{ -SGT_EFAULT, "-EFAULT" },
		{ -SGT_EBUSY, "-EBUSY" },
		{ -SGT_EINVAL, "-EINVAL" },
		{ -SGT_ENOSPC, "-ENOSPC" },
		{ -SGT_ERANGE, "-ERANGE" },
		{ -SGT_EOVERFLOW, "-EOVERFLOW" },
		{ -SGT_EOPNOTSUPP, "-EOPNOTSUPP" },
		{ -SGT_ESTALE, "-ESTALE" },
	};
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (strcmp(sgt_errname(want[i].err), want[i].name) ||
		    !strcmp(sgt_strerror(want[i].err), "unknown error"))
			return -SGT_EIO;
	}
	return strcmp(sgt_errname(-4242), "-E?") || strcmp(sgt_strerror(-4242), "unknown error")
		       ? -SGT_EIO
		       : 0;
}

/* The calls without a result, on NULL: documented to do nothing (here: not to crash). */
static int s_void_calls_of_null(void)
{
	struct sgt_iova_stats st = { 0 };

	sgt_simiommu_set_inject(NULL, NULL);
	sgt_simiommu_clear_faults(NULL);
	sgt_iova_get_stats(NULL, &st);
	sgt_iova_cache_drain(NULL);
	sgt_iova_cache_free(NULL);
	sgt_iova_free(NULL);
	sgt_table_cleanup(NULL);
	sgt_borrowed_cleanup(NULL);
	sgt_mapping_cleanup(NULL);
	sgt_borrowed_mapping_cleanup(NULL);
	sgt_miter_stop(NULL);
	sgt_dma_debug_clear(NULL);
	return sgt_simiommu_free(NULL) || sgt_device_cleanup(NULL) ||
			       sgt_simiommu_num_faults(NULL) || sgt_simiommu_live_mappings(NULL) ||
			       st.live_ranges
		       ? -SGT_EIO
		       : 0;
}

static int s_true_is_wrong(bool v)
{
	return v ? -SGT_EIO : 0;
}

/* An unmapped raw table of @s (owned or borrowed), for the raw DMA API; NULL if it is mapped. */
static struct sgt_sg_table *s_unmapped_raw(struct h_slot *s)
{
	const struct sgt_sg_table *sgt;

	if ((s->kind != H_OWNED && s->kind != H_BORROWED) || sgt_cpu_sg_table(h_cpu(s), &sgt))
		return NULL;
	/* Only handed to calls that must refuse before they write anything. */
	return (struct sgt_sg_table *)(uintptr_t)sgt;
}

/*
 * A copy of up to four of @c's entries in two chunks of the harness's own (a raw table built by
 * hand, as another subsystem would), with invariant @k of sgt/sg_table.h broken in it by the
 * harness. sgt_sg_table_check() must refuse it and name that invariant, and must accept the
 * copy unbroken; sgt_borrowed_init() must refuse it. -SGT_EINVAL when all that holds, -SGT_EIO
 * when the check names another invariant or accepts the unbroken copy, 0 when it accepts the
 * broken one.
 */
static const struct {
	const char *rule; /* the invariant's number, as sgt_sg_table_check() starts its answer */
	const char *what;
} s_breaks[] = {
	{ "(1)", "a copy without a domain" },
	{ "(2)", "a copy without a head" },
	{ "(3)", "a copy with a chunk of no slots" },
	{ "(3)", "a copy with a chunk without entries" },
	{ "(3)", "a copy with a chunk over-full or a gap" },
	{ "(3)", "a copy whose chain loops" },
	{ "(3)", "a copy that counts one entry more" },
	{ "(4)", "a copy with an empty entry" },
	{ "(4)", "a copy with an offset of a page" },
	{ "(4)", "a copy with a frame past the domain" },
	{ "(5)", "a copy with a wrong total" },
	{ "(6)", "a copy with more segments than entries" },
	{ "(6)", "an unmapped copy with a direction" },
	{ "(6)", "an unmapped copy with a DMA length" },
	{ "(7)", "a copy with a reserved field set" },
	{ "(6)", "a mapped copy with an empty segment" },
	{ "(6)", "a mapped copy that misses bytes" },
	{ "(6)", "a mapped copy whose segment wraps" },
	{ "(1)", "a copy in a domain without map_page" },
	{ "(1)", "a copy in a domain of a page shift out of range" },
	{ "(1)", "a copy in a domain that allocates pages it cannot free" },
	{ "(2)", "an empty copy with a tail" },
	{ "(5)", "an empty copy with a length" },
	{ "(5)", "an empty copy with a DMA direction" },
};
#define S_NUM_BREAKS ((uint32_t)(sizeof(s_breaks) / sizeof(s_breaks[0])))

static int s_no_pages(void *ctx, unsigned int order, uint64_t *out_pfn, enum sgt_alloc_ctx actx)
{
	(void)ctx, (void)order, (void)out_pfn, (void)actx;
	return -SGT_ENOMEM;
}

static int s_broken_copy(const struct sgt_cpu *c, unsigned int k)
{
	_Alignas(struct sgt_chunk)
		uint8_t abuf[sizeof(struct sgt_chunk) + 2 * sizeof(struct sgt_entry)];
	_Alignas(struct sgt_chunk) uint8_t bbuf[sizeof(abuf)];
	struct sgt_chunk *a = sgt_chunk_init(abuf, 2), *b = sgt_chunk_init(bbuf, 2), *tail;
	const struct sgt_sg_table *src;
	struct sgt_sg_table t;
	struct sgt_memory mem;
	struct sgt_ent_iter it;
	struct sgt_borrowed bw;
	const char *why = NULL;
	uint32_t n = 0;
	int err;

	if (sgt_cpu_sg_table(c, &src) || sgt_ent_iter_init(&it, c))
		return -SGT_EIO;
	memset(a->ents, 0, 2 * sizeof(*a->ents));
	memset(b->ents, 0, 2 * sizeof(*b->ents));
	mem = *src->mem;
	t = (struct sgt_sg_table){ .head = a, .mem = &mem }; /* an equal domain, to break */
	for (; n < 4 && sgt_ent_iter_next(&it); n++) {
		struct sgt_chunk *into = n < 2 ? a : b;

		into->ents[into->num_ents++] = (struct sgt_entry){ .pfn = it.ent->pfn,
								   .offset = it.ent->offset,
								   .len = it.ent->len };
		t.total_len += it.ent->len;
	}
	a->next = n > 2 ? b : NULL;
	tail = t.tail = n > 2 ? b : a;
	t.num_cpu_ents = n;
	if (!n || sgt_sg_table_check(&t, NULL))
		return -SGT_EIO;
	switch (k) {
	case 0:
		t.mem = NULL;
		break;
	case 1:
		t.head = NULL;
		break;
	case 2:
		a->capacity = 0;
		break;
	case 3:
		tail->ents = NULL;
		break;
	case 4:
		a->num_ents = n < 3 ? 3 : 1;
		break; /* more than its slots, or a gap */
	case 5:
		tail->next = a;
		break;
	case 6:
		t.num_cpu_ents++;
		break;
	case 7:
		tail->ents[0].len = 0;
		break;
	case 8:
		tail->ents[0].offset = 1u << src->mem->page_shift;
		break;
	case 9:
		tail->ents[0].pfn = UINT64_C(1) << (64 - src->mem->page_shift);
		break;
	case 10:
		t.total_len++;
		break;
	case 11:
		t.num_dma_ents = n + 1;
		break;
	case 12:
		t.dma_dir = SGT_DMA_TO_DEVICE;
		break;
	case 13:
		tail->ents[0].dma_len = 1;
		break;
	case 14:
		tail->ents[0].reserved = 1;
		break;
	case 15:
		t.num_dma_ents = 1;
		break; /* its DMA length is 0 */
	case 16:
		t.num_dma_ents = 1;
		a->ents[0].dma_len = 1;
		a->ents[0].dma_addr = 1;
		break;
	case 17:
		t.num_dma_ents = 1;
		a->ents[0].dma_len = 2;
		a->ents[0].dma_addr = UINT64_MAX;
		break;
	case 18:
		mem.map_page = NULL;
		break;
	case 19:
		mem.page_shift = SGT_PAGE_SHIFT_MAX + 1;
		break;
	case 20:
		mem.alloc_pages = s_no_pages;
		mem.free_pages = NULL;
		break;
	default: /* empty, with one thing that only a table with entries has */
		t = (struct sgt_sg_table){ .mem = src->mem };
		t.tail = k == 21 ? a : NULL;
		t.total_len = k == 22;
		t.dma_dir = k == 23 ? SGT_DMA_TO_DEVICE : 0;
		break;
	}
	err = sgt_sg_table_check(&t, &why);
	if (!err)
		return 0;
	if (err != -SGT_EINVAL || !why || strncmp(why, s_breaks[k].rule, 3) ||
	    sgt_borrowed_init(&bw, &t) != -SGT_EINVAL)
		return -SGT_EIO;
	return -SGT_EINVAL;
}

/*
 * The user-space platform's defaults: a table from SGT_TABLE_INIT() takes them at its first
 * growth, over a buffer of the harness's own (the identity domain: frame = address >> 12): a
 * pattern copied in must land in the buffer and come back. Or (odd @k) an alloc_order table of
 * the platform's pages, where a pattern zeroed must read back as zeros, and identity domains
 * refused out of range. 0, or -SGT_EIO where one differs.
 */
static int s_platform(unsigned int k)
{
	static _Alignas(4096) uint8_t buf[3 * 4096];
	uint8_t in[600], out[600];
	struct sgt_table t = SGT_TABLE_INIT(t);
	uint64_t pfns[2] = { (uint64_t)(uintptr_t)buf >> 12, ((uint64_t)(uintptr_t)buf >> 12) + 2 };
	struct sgt_memory m;
	struct sgt_pages pages;
	size_t done = 0, i;
	int err;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 7 + 1);
	if (k % 2) {
		/* A pattern in, across the two blocks, then zeroed: zeros must come back. */
		err = sgt_table_init_alloc_order(&t, NULL, 3 * 4096, 1, SGT_MAY_SLEEP);
		if (!err && (sgt_copy_from_buffer(&t.cpu, 8000, in, sizeof(in), &done) ||
			     sgt_zero(&t.cpu, 8000, sizeof(out), &done) || done != sizeof(out) ||
			     sgt_copy_to_buffer(&t.cpu, 8000, out, sizeof(out), &done) || out[0] ||
			     memcmp(out, out + 1, sizeof(out) - 1)))
			err = -SGT_EIO;
		sgt_table_cleanup(&t);
		return err ? err
		       : sgt_memory_identity_init(&m, 12) ||
				       sgt_memory_identity_init(NULL, 12) != -SGT_EINVAL ||
				       sgt_memory_identity_init(&m, SGT_PAGE_SHIFT_MAX + 1) !=
					       -SGT_EINVAL
			       ? -SGT_EIO
			       : 0;
	}
	sgt_pages_from_array(&pages, pfns, 2);
	/* 600 bytes across the end of the first page and the start of the third. */
	err = sgt_table_append_pages(&t, &pages, 4096 - 300, 600, 4096, SGT_MAY_SLEEP);
	if (!err &&
	    (sgt_copy_from_buffer(&t.cpu, 0, in, sizeof(in), &done) || done != sizeof(in) ||
	     sgt_copy_to_buffer(&t.cpu, 0, out, sizeof(out), &done) || memcmp(in, out, 600) ||
	     memcmp(buf + 4096 - 300, in, 300) || memcmp(buf + 2 * 4096, in + 300, 300)))
		err = -SGT_EIO;
	sgt_table_cleanup(&t);
	return err;
}

/* A backend whose devices are all refused before use: its mapping ops must never run. */
static int s_never_map(struct sgt_device *dev, struct sgt_sg_table *sgt, enum sgt_dma_dir dir,
		       unsigned long attrs, void **out_priv, uint32_t *out_n,
		       enum sgt_alloc_ctx actx)
{
	(void)dev, (void)sgt, (void)dir, (void)attrs, (void)out_n, (void)out_priv, (void)actx;
	return -SGT_EIO;
}

static void s_never_unmap(struct sgt_device *dev, struct sgt_sg_table *sgt, void *priv,
			  enum sgt_dma_dir dir, unsigned long attrs)
{
	(void)dev, (void)sgt, (void)priv, (void)dir, (void)attrs;
}

static void *s_fail_alloc(void *ctx, size_t len, enum sgt_alloc_ctx actx)
{
	(void)ctx, (void)len, (void)actx;
	return NULL;
}

static void s_no_free(void *ctx, void *ptr, size_t len)
{
	(void)ctx, (void)ptr, (void)len;
}

/* An allocator that is always out of memory, and one without functions (refused). */
static const struct sgt_allocator s_no_memory = { .alloc = s_fail_alloc, .free = s_no_free };
static const struct sgt_allocator s_no_functions = { 0 };

static int s_caps_fail(struct sgt_device *dev, struct sgt_dma_caps *out)
{
	(void)dev, (void)out;
	return -SGT_EIO;
}

/*
 * sgt_device_init() with ops or parameters it must refuse (@k picks), or, for the last @k, a
 * valid device without a caps op, whose caps are then not supported. The error, or -SGT_EIO
 * when a device was made that should not have been.
 */
static int s_device_init(unsigned int k)
{
	struct sgt_dma_ops ops = { .abi_version = SGT_DMA_OPS_ABI,
				   .name = "probe",
				   .map_sg = s_never_map,
				   .unmap_sg = s_never_unmap };
	struct sgt_device_params p = { 0 };
	struct sgt_dma_caps caps;
	struct sgt_device d;
	int err;

	switch (k) {
	case 0:
		ops.abi_version++;
		break;
	case 1:
		ops.unmap_sg = NULL;
		break;
	case 2:
		p.alignment = 3;
		break;
	case 3:
		ops.caps = s_caps_fail;
		break;
	case 4: /* a constraint without a caps op to guarantee it */
		p.dma_mask = 0xffffffff;
		break;
	case 5:
		p.seg_boundary_mask = 0xffff;
		break;
	case 6:
		p.alignment = 8;
		break;
	case 7:
		err = sgt_device_init(&d, &ops, NULL, NULL, NULL);
		if (err)
			return -SGT_EIO;
		err = sgt_device_caps(&d, &caps);
		return sgt_device_cleanup(&d) ? -SGT_EIO : err;
	default: /* its debug layer: refused without memory, then on, cleared and off */
		if (sgt_device_init(&d, &ops, NULL, NULL, NULL))
			return -SGT_EIO;
		err = sgt_dma_debug_enable(
			      &d, &(struct sgt_dma_debug_params){ .alloc = &s_no_memory }) ==
					      -SGT_ENOMEM &&
				      !sgt_dma_debug_enable(&d, NULL) && !sgt_dma_debug_live(&d)
			      ? 0
			      : -SGT_EIO;
		sgt_dma_debug_clear(&d);
		return sgt_device_cleanup(&d) || sgt_dma_debug_num_reports(&d) ? -SGT_EIO : err;
	}
	err = sgt_device_init(&d, &ops, NULL, &p, NULL);
	if (!err)
		(void)sgt_device_cleanup(&d);
	return err ? err : -SGT_EIO;
}

/* sgt_simiommu_new() with parameters it must refuse (@k picks): its error, or -SGT_EIO. */
static int s_simiommu_new(struct sgt_harness *h, unsigned int k)
{
	struct sgt_simiommu_params p = { .mode = SGT_SIMIOMMU_IOMMU, .mem = &h->mem.mem };
	struct sgt_simiommu *sim = NULL;
	int err;

	switch (k) {
	case 0:
		p.mode = (enum sgt_simiommu_mode)7;
		break;
	case 1:
		p.mem = NULL;
		break;
	case 2:
		p.device.alignment = 6;
		break;
	case 3:
		p.alloc = &s_no_functions;
		break;
	case 4:
		p.iova_window = (struct sgt_dma_window){ 0x20000, 0x10000 };
		break;
	case 5: /* a bounce pool above the mask */
		p.mode = SGT_SIMIOMMU_BOUNCE;
		p.device.dma_mask = 0xffff;
		break;
	default: /* a bounce pool past 4 GiB */
		p.mode = SGT_SIMIOMMU_BOUNCE;
		p.bounce_pool = UINT64_C(8) << 30;
		break;
	}
	err = sgt_simiommu_new(&p, &sim);
	if (!err)
		sgt_simiommu_free(sim);
	return err ? err : -SGT_EIO;
}

/*
 * sgt_iova_new() with parameters it must refuse (@k picks): windows missing, too many,
 * overlapping or reversed, a granule out of range, reserved ranges too many or reversed, and
 * windows that leave no usable granule (too small, or all reserved). Its error, or -SGT_EIO.
 */
static int s_iova_new(unsigned int k)
{
	struct sgt_dma_window w[SGT_DMA_MAX_WINDOWS + 1] = { { 0x10000, 0x1ffff },
							     { 0x18000, 0x2ffff } };
	struct sgt_dma_window r[17] = { { 0, 0xfffff } };
	struct sgt_iova_params p = { .granule_shift = 12, .windows = w, .num_windows = 1 };
	struct sgt_iova *v = NULL;
	int err;

	switch (k) {
	case 0:
		p.windows = NULL;
		break;
	case 1:
		p.num_windows = 0;
		break;
	case 2:
		p.num_windows = SGT_DMA_MAX_WINDOWS + 1;
		break;
	case 3:
		p.granule_shift = 70;
		break;
	case 4:
		p.num_reserved = 17;
		p.reserved = r;
		break;
	case 5:
		p.num_reserved = 1;
		break; /* without the ranges */
	case 6:
		w[0] = (struct sgt_dma_window){ 0x2000, 0x1000 };
		break;
	case 7:
		p.num_windows = 2;
		break; /* the two overlap */
	case 8:
		p.num_reserved = 1;
		p.reserved = r;
		r[0] = (struct sgt_dma_window){ 9, 8 };
		break;
	case 9:
		w[0] = (struct sgt_dma_window){ 0x10001, 0x10ffe };
		break; /* no whole granule */
	default:
		p.num_reserved = 1;
		p.reserved = r;
		break; /* everything reserved */
	}
	err = sgt_iova_new(&p, &v);
	if (!err)
		sgt_iova_free(v);
	return err ? err : -SGT_EIO;
}

/* Calls S_CALL(want, what, expr) numbered from 0 in order, by __COUNTER__. */
#define S_CALL(wanted, name, expr)                                                                 \
	case __COUNTER__ - s_base:                                                                 \
		*what = (name);                                                                    \
		*want = (wanted);                                                                  \
		*got = (expr);                                                                     \
		return true
/* The same, for a call that needs @cond of the slot: skipped otherwise. */
#define S_CALL_IF(cond, wanted, name, expr)                                                        \
	case __COUNTER__ - s_base:                                                                 \
		if (!(cond))                                                                       \
			return false;                                                              \
		*what = (name);                                                                    \
		*want = (wanted);                                                                  \
		*got = (expr);                                                                     \
		return true

enum { s_base = __COUNTER__ + 1 };

bool h_bad_arg(struct sgt_harness *h, struct h_slot *s, uint32_t which, const char **what, int *got,
	       int *want)
{
	const struct sgt_cpu *c = h_cpu(s);
	struct sgt_table_params big = h->params, other = h->params;
	struct sgt_memory other_mem = h->mem.mem;
	bool owned = s->kind == H_OWNED && !s->users && !s->owns_pages;
	bool mapped = s->kind == H_MAPPED;
	struct sgt_sg_table *raw = s_unmapped_raw(s);
	const struct sgt_sg_table *any_raw = NULL;
	struct sgt_simiommu *sim = h_sim(h, 0);
	struct sgt_device *dev = h_device(h, 0);
	uint64_t pfn = h->base, len = 1, addr = 0;
	struct sgt_borrowed_mapping bm;
	struct sgt_dma_page_iter dpi;
	struct sgt_simiommu_fault f;
	struct sgt_dma_iter di;
	struct sgt_ent_iter ei;
	struct sgt_page_iter pi;
	struct sgt_device_params dp = { 0 };
	struct sgt_iova_cache *cache = NULL;
	struct sgt_iova *iova = NULL;
	struct sgt_simiommu *no_sim = NULL;
	struct sgt_borrowed b;
	struct sgt_mapping m;
	struct sgt_miter mi;
	struct sgt_pages pages;
	struct sgt_table t;
	struct sgt_dma_caps caps;
	struct sgt_sg_table empty = { .mem = &h->mem.mem };
	struct sgt_device zero_dev = { 0 };
	const char *why = NULL;
	uint32_t n = 0;
	uint8_t byte = 0;

	big.chunk_capacity = SGT_CHUNK_CAPACITY_MAX + 1;
	other.mem = &other_mem; /* an equal domain at another address: another domain */
	sgt_pages_from_array(&pages, &pfn, 1);
	if (sgt_cpu_sg_table(c, &any_raw))
		any_raw = NULL;
	which %= h_bad_arg_count();
	if (which < S_NUM_BREAKS) {
		/* A broken copy: any slot has a table to copy. */
		*what = s_breaks[which].what;
		*want = -SGT_EINVAL;
		*got = s_broken_copy(c, which);
		return true;
	}
	switch (which - S_NUM_BREAKS) {
		S_CALL(0, "error names", s_names());
		S_CALL(-SGT_EINVAL, "table_init(NULL)", sgt_table_init(NULL, &h->params));
		S_CALL(-SGT_EINVAL, "table_init, capacity past the max", sgt_table_init(&t, &big));
		S_CALL(-SGT_EINVAL, "from_pages(NULL table)",
		       sgt_table_init_from_pages(NULL, &h->params, &pages, 0, 1, H_PS,
						 SGT_MAY_SLEEP));
		S_CALL(-SGT_EINVAL, "from_pages(NULL pages)",
		       sgt_table_init_from_pages(&t, &h->params, NULL, 0, 1, H_PS, SGT_MAY_SLEEP));
		S_CALL(-SGT_EINVAL, "from_pages in no context",
		       sgt_table_init_from_pages(&t, &h->params, &pages, 0, 1, H_PS,
						 (enum sgt_alloc_ctx)7));
		S_CALL(-SGT_EINVAL, "from_pages, max_segment under a page",
		       sgt_table_init_from_pages(&t, &h->params, &pages, 0, 1, H_PS - 1,
						 SGT_MAY_SLEEP));
		S_CALL(-SGT_EINVAL, "from_pages of zero bytes",
		       sgt_table_init_from_pages(&t, &h->params, &pages, 0, 0, H_PS,
						 SGT_MAY_SLEEP));
		S_CALL(-SGT_EINVAL, "from_pages, bad params",
		       sgt_table_init_from_pages(&t, &big, &pages, 0, 1, H_PS, SGT_MAY_SLEEP));
		S_CALL(-SGT_EINVAL, "append(NULL table)",
		       sgt_table_append_pages(NULL, &pages, 0, 1, H_PS, SGT_MAY_SLEEP));
		S_CALL_IF(owned, -SGT_EINVAL, "append(NULL pages)",
			  sgt_table_append_pages(s->t, NULL, 0, 1, H_PS, SGT_MAY_SLEEP));
		S_CALL_IF(owned, -SGT_EINVAL, "append in no context",
			  sgt_table_append_pages(s->t, &pages, 0, 1, H_PS, (enum sgt_alloc_ctx)7));
		S_CALL(-SGT_EINVAL, "alloc_order(NULL table)",
		       sgt_table_init_alloc_order(NULL, &h->params, H_PS, 0, SGT_MAY_SLEEP));
		S_CALL(-SGT_EINVAL, "alloc_order in no context",
		       sgt_table_init_alloc_order(&t, &h->params, H_PS, 0, (enum sgt_alloc_ctx)7));
		S_CALL(-SGT_EINVAL, "alloc_order, bad params",
		       sgt_table_init_alloc_order(&t, &big, H_PS, 0, SGT_MAY_SLEEP));
		S_CALL(-SGT_EINVAL, "borrowed_init(NULL handle)", sgt_borrowed_init(NULL, any_raw));
		S_CALL(-SGT_EINVAL, "borrowed_init(NULL table)", sgt_borrowed_init(&b, NULL));
		S_CALL(-SGT_EINVAL, "cpu_check(NULL)", sgt_cpu_check(NULL));
		S_CALL(-SGT_EINVAL, "cpu_sg_table(NULL)", sgt_cpu_sg_table(NULL, &any_raw));
		S_CALL(-SGT_EINVAL, "cpu_sg_table(no out)", sgt_cpu_sg_table(c, NULL));
		S_CALL(-SGT_EINVAL, "cpu_info(NULL)", sgt_cpu_info(NULL, &n, &len));
		S_CALL(-SGT_EINVAL, "nents_for_len(NULL)", sgt_nents_for_len(NULL, 1, &n));
		S_CALL(-SGT_EINVAL, "nents_for_len(no out)", sgt_nents_for_len(c, 1, NULL));
		S_CALL(-SGT_EINVAL, "split(NULL)",
		       sgt_split(NULL, 0, 1, &len, &h->params, &t, SGT_MAY_SLEEP));
		S_CALL(-SGT_EINVAL, "split(no lengths)",
		       sgt_split(c, 0, 1, NULL, &h->params, &t, SGT_MAY_SLEEP));
		S_CALL(-SGT_EINVAL, "split(no outputs)",
		       sgt_split(c, 0, 1, &len, &h->params, NULL, SGT_MAY_SLEEP));
		S_CALL(-SGT_EINVAL, "split into another memory domain",
		       sgt_split(c, 0, 1, &len, &other, &t, SGT_MAY_SLEEP));
		S_CALL_IF(owned, -SGT_EINVAL, "split into its own handle",
			  sgt_split(c, 0, 1, &len, &h->params, s->t, SGT_MAY_SLEEP));
		S_CALL(-SGT_EINVAL, "ent_iter_init(NULL iterator)", sgt_ent_iter_init(NULL, c));
		S_CALL(-SGT_EINVAL, "ent_iter_init(NULL handle)", sgt_ent_iter_init(&ei, NULL));
		S_CALL(-SGT_EINVAL, "page_iter_init(NULL iterator)",
		       sgt_page_iter_init(NULL, c, 0));
		S_CALL(-SGT_EINVAL, "page_iter_init(NULL handle)",
		       sgt_page_iter_init(&pi, NULL, 0));
		S_CALL(-SGT_EINVAL, "miter_start(NULL walk)", sgt_miter_start(NULL, c, 0));
		S_CALL(-SGT_EINVAL, "miter_start(NULL handle)", sgt_miter_start(&mi, NULL, 0));
		S_CALL(-SGT_EINVAL, "miter_error(NULL)", sgt_miter_error(NULL));
		S_CALL(0, "miter_next(NULL) is the end", s_true_is_wrong(sgt_miter_next(NULL)));
		S_CALL(0, "ent_iter_next(NULL) is the end",
		       s_true_is_wrong(sgt_ent_iter_next(NULL)));
		S_CALL(-SGT_EINVAL, "copy_from_buffer(NULL buffer)",
		       sgt_copy_from_buffer(c, 0, NULL, 1, NULL));
		S_CALL(-SGT_EINVAL, "copy_to_buffer(NULL handle)",
		       sgt_copy_to_buffer(NULL, 0, &byte, 1, NULL));
		S_CALL(-SGT_EINVAL, "zero(NULL handle)", sgt_zero(NULL, 0, 1, NULL));
		S_CALL(-SGT_EINVAL, "sg_table_check(NULL)", sgt_sg_table_check(NULL, &why));
		S_CALL(0, "sg_first(NULL) has no entry",
		       s_true_is_wrong(sgt_sg_first(NULL, NULL) || sgt_sg_last(NULL) ||
				       sgt_sg_next(NULL) || sgt_sg_table_is_valid(NULL)));
		S_CALL(-SGT_EINVAL, "table_map(NULL table)",
		       sgt_table_map(NULL, dev, SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP));
		S_CALL_IF(owned, -SGT_EINVAL, "table_map(no device)",
			  sgt_table_map(s->t, NULL, SGT_DMA_TO_DEVICE, 0, &m, SGT_MAY_SLEEP));
		S_CALL_IF(owned && dev, -SGT_EINVAL, "table_map, bad direction",
			  sgt_table_map(s->t, dev, (enum sgt_dma_dir)9, 0, &m, SGT_MAY_SLEEP));
		S_CALL_IF(owned && dev, -SGT_EINVAL, "table_map(no output)",
			  sgt_table_map(s->t, dev, SGT_DMA_TO_DEVICE, 0, NULL, SGT_MAY_SLEEP));
		S_CALL_IF(
			owned && dev, -SGT_EINVAL, "table_map in no context",
			sgt_table_map(s->t, dev, SGT_DMA_TO_DEVICE, 0, &m, (enum sgt_alloc_ctx)7));
		S_CALL(-SGT_EINVAL, "mapping_unmap(NULL)", sgt_mapping_unmap(NULL, &t));
		S_CALL_IF(mapped, -SGT_EINVAL, "mapping_unmap(no output)",
			  sgt_mapping_unmap(&s->m, NULL));
		S_CALL(-SGT_EINVAL, "dma_info(NULL)", sgt_dma_info(NULL, &n));
		S_CALL_IF(mapped, -SGT_EINVAL, "dma_info(no out)", sgt_dma_info(h_dma(s), NULL));
		S_CALL(-SGT_EINVAL, "sync_for_cpu(NULL)", sgt_dma_sync_for_cpu(NULL));
		S_CALL(-SGT_EINVAL, "sync_for_device(NULL)", sgt_dma_sync_for_device(NULL));
		S_CALL(-SGT_EINVAL, "dma_iter_init(NULL handle)", sgt_dma_iter_init(&di, NULL));
		S_CALL_IF(mapped, -SGT_EINVAL, "dma_iter_init(NULL iterator)",
			  sgt_dma_iter_init(NULL, h_dma(s)));
		S_CALL(-SGT_EINVAL, "dma_page_iter_init(NULL handle)",
		       sgt_dma_page_iter_init(&dpi, NULL));
		S_CALL(0, "dma_iter_next(NULL) is the end",
		       s_true_is_wrong(sgt_dma_iter_next(NULL) || sgt_dma_page_iter_next(NULL)));
		S_CALL(-SGT_EINVAL, "borrowed_mapping_init(NULL handle)",
		       sgt_borrowed_mapping_init(NULL, any_raw, dev, SGT_DMA_TO_DEVICE));
		S_CALL(-SGT_EINVAL, "borrowed_mapping_init(NULL table)",
		       sgt_borrowed_mapping_init(&bm, NULL, dev, SGT_DMA_TO_DEVICE));
		S_CALL_IF(raw, -SGT_EINVAL, "borrowed_mapping_init of an unmapped table",
			  sgt_borrowed_mapping_init(&bm, raw, dev, SGT_DMA_TO_DEVICE));
		S_CALL(-SGT_EINVAL, "borrowed_mapping_init_foreign(no owner state)",
		       sgt_borrowed_mapping_init_foreign(&bm, any_raw, dev, SGT_DMA_TO_DEVICE,
							 NULL));
		S_CALL_IF(raw, -SGT_EINVAL, "raw map_sg(no device)",
			  sgt_dma_map_sg(NULL, raw, SGT_DMA_TO_DEVICE, 0, &n, SGT_MAY_SLEEP));
		S_CALL_IF(raw && dev, -SGT_EINVAL, "raw map_sg(no count)",
			  sgt_dma_map_sg(dev, raw, SGT_DMA_TO_DEVICE, 0, NULL, SGT_MAY_SLEEP));
		S_CALL_IF(
			raw && dev, -SGT_EINVAL, "raw map_sg in no context",
			sgt_dma_map_sg(dev, raw, SGT_DMA_TO_DEVICE, 0, &n, (enum sgt_alloc_ctx)7));
		S_CALL_IF(dev, -SGT_EINVAL, "raw map_sg(no table)",
			  sgt_dma_map_sg(dev, NULL, SGT_DMA_TO_DEVICE, 0, &n, SGT_MAY_SLEEP));
		S_CALL_IF(raw && dev, -SGT_EINVAL, "raw map_sg, bad direction",
			  sgt_dma_map_sg(dev, raw, (enum sgt_dma_dir)9, 0, &n, SGT_MAY_SLEEP));
		S_CALL_IF(dev, -SGT_EINVAL, "raw map_sg of an empty table",
			  sgt_dma_map_sg(dev, &empty, SGT_DMA_TO_DEVICE, 0, &n, SGT_MAY_SLEEP));
		S_CALL_IF(mapped && dev, -SGT_EINVAL, "raw map_sg of a mapped table",
			  sgt_dma_map_sg(dev, (struct sgt_sg_table *)(uintptr_t)any_raw,
					 SGT_DMA_TO_DEVICE, 0, &n, SGT_MAY_SLEEP));
		S_CALL_IF(mapped, -SGT_EINVAL, "raw unmap_sg, bad direction",
			  sgt_dma_unmap_sg(h_device(h, s->dev),
					   (struct sgt_sg_table *)(uintptr_t)any_raw, 1,
					   (enum sgt_dma_dir)9, 0));
		S_CALL_IF(mapped, -SGT_EINVAL, "raw sync_sg_for_cpu, bad direction",
			  sgt_dma_sync_sg_for_cpu(h_device(h, s->dev), any_raw, 1,
						  (enum sgt_dma_dir)9));
		S_CALL_IF(mapped, -SGT_EINVAL, "borrowed_mapping_init, bad direction",
			  sgt_borrowed_mapping_init(&bm, any_raw, h_device(h, s->dev),
						    (enum sgt_dma_dir)9));
		S_CALL_IF(mapped && h_device(h, (s->dev + 1) % SGT_H_DEVS), -SGT_EINVAL,
			  "borrowed_mapping_init for another device than sgt mapped for",
			  sgt_borrowed_mapping_init(&bm, any_raw,
						    h_device(h, (s->dev + 1) % SGT_H_DEVS),
						    (enum sgt_dma_dir)s->dir));
		S_CALL(-SGT_EINVAL, "raw unmap_sg(no table)",
		       sgt_dma_unmap_sg(dev, NULL, 1, SGT_DMA_TO_DEVICE, 0));
		S_CALL(-SGT_EINVAL, "raw sync_sg_for_cpu(no table)",
		       sgt_dma_sync_sg_for_cpu(dev, NULL, 1, SGT_DMA_TO_DEVICE));
		S_CALL(-SGT_EINVAL, "raw sync_sg_for_device(no device)",
		       sgt_dma_sync_sg_for_device(NULL, any_raw, 1, SGT_DMA_TO_DEVICE));
		S_CALL(-SGT_EINVAL, "device_caps(NULL device)", sgt_device_caps(NULL, &caps));
		S_CALL_IF(dev, -SGT_EINVAL, "device_caps(no out)", sgt_device_caps(dev, NULL));
		S_CALL(-SGT_EINVAL, "check_segments(NULL table)",
		       sgt_dma_check_segments(NULL, &dp, &why));
		S_CALL(-SGT_EINVAL, "check_segments(no params)",
		       sgt_dma_check_segments(any_raw, NULL, &why));
		S_CALL_IF(dev, -SGT_EBUSY, "debug_enable twice", sgt_dma_debug_enable(dev, NULL));
		S_CALL(-SGT_EINVAL, "debug_enable(NULL)", sgt_dma_debug_enable(NULL, NULL));
		S_CALL(-SGT_EINVAL, "device_init(NULL)",
		       sgt_device_init(NULL, NULL, NULL, NULL, ""));
		S_CALL(0, "report name out of range",
		       s_true_is_wrong(strcmp(sgt_dma_report_name((enum sgt_dma_report_kind)999),
					      "unknown") != 0 ||
				       sgt_dma_debug_count(NULL, SGT_REPORT_DOUBLE_UNMAP) ||
				       sgt_dma_debug_num_reports(NULL) ||
				       sgt_dma_debug_live(NULL)));
		S_CALL(-SGT_EINVAL, "simiommu_new(NULL params)", sgt_simiommu_new(NULL, &no_sim));
		S_CALL(-SGT_EINVAL, "simiommu dma_read(NULL)",
		       sgt_simiommu_dma_read(NULL, addr, &byte, 1));
		S_CALL(-SGT_EINVAL, "simiommu dma_write(NULL)",
		       sgt_simiommu_dma_write(NULL, addr, &byte, 1));
		S_CALL_IF(sim, -SGT_ERANGE, "simiommu fault_at past the kept",
			  sgt_simiommu_fault_at(sim, UINT64_MAX, &f));
		S_CALL_IF(sim, -SGT_EINVAL, "simiommu fault_at(no out)",
			  sgt_simiommu_fault_at(sim, 0, NULL));
		S_CALL(-SGT_EINVAL, "simiommu_check(NULL)", sgt_simiommu_check(NULL, &why));
		S_CALL(0, "simiommu queries of NULL",
		       s_true_is_wrong(sgt_simiommu_device(NULL) || sgt_simiommu_changes(NULL)));
		S_CALL(-SGT_EINVAL, "simiommu fault_at(NULL)", sgt_simiommu_fault_at(NULL, 0, &f));
		S_CALL(0, "the void calls of NULL do nothing", s_void_calls_of_null());
		S_CALL(-SGT_EINVAL, "iova_new(NULL)", sgt_iova_new(NULL, &iova));
		S_CALL(-SGT_EINVAL, "iova_alloc(NULL)", sgt_iova_alloc(NULL, 1, UINT64_MAX, &addr));
		S_CALL(-SGT_EINVAL, "iova_release(NULL)", sgt_iova_release(NULL, 0, 1));
		S_CALL(-SGT_EINVAL, "iova_cache_new(NULL)", sgt_iova_cache_new(NULL, &cache));
		S_CALL(-SGT_EINVAL, "iova_cache_alloc(NULL)",
		       sgt_iova_cache_alloc(NULL, 1, UINT64_MAX, &addr));
		S_CALL(-SGT_EINVAL, "iova_cache_release(NULL)", sgt_iova_cache_release(NULL, 0, 1));
		S_CALL(-SGT_EINVAL, "iova_check(NULL)", sgt_iova_check(NULL, &why));
		S_CALL(0, "iova_is_live(NULL)", s_true_is_wrong(sgt_iova_is_live(NULL, 0)));
		S_CALL(-SGT_EINVAL, "device_init, another ABI", s_device_init(0));
		S_CALL(-SGT_EINVAL, "device_init without unmap_sg", s_device_init(1));
		S_CALL(-SGT_EINVAL, "device_init, alignment 3", s_device_init(2));
		S_CALL(-SGT_EIO, "device_init, the caps op's error", s_device_init(3));
		S_CALL(-SGT_EOPNOTSUPP, "device_init, a mask nobody guarantees", s_device_init(4));
		S_CALL(-SGT_EOPNOTSUPP, "device_init, a boundary nobody guarantees",
		       s_device_init(5));
		S_CALL(-SGT_EOPNOTSUPP, "device_init, an alignment nobody guarantees",
		       s_device_init(6));
		S_CALL(-SGT_EOPNOTSUPP, "caps of a device without a caps op", s_device_init(7));
		S_CALL(0, "a debug layer refused without memory, then on and off",
		       s_device_init(8));
		S_CALL(-SGT_EINVAL, "device_caps of a device never initialised",
		       sgt_device_caps(&zero_dev, &caps));
		S_CALL(-SGT_EINVAL, "debug_enable on a device never initialised",
		       sgt_dma_debug_enable(&zero_dev, NULL));
		S_CALL_IF(dev, -SGT_EINVAL, "debug_enable with an allocator without functions",
			  sgt_dma_debug_enable(
				  dev, &(struct sgt_dma_debug_params){ .alloc = &s_no_functions }));
		S_CALL(-SGT_EINVAL, "simiommu_new, no mode", s_simiommu_new(h, 0));
		S_CALL(-SGT_EINVAL, "simiommu_new without memory", s_simiommu_new(h, 1));
		S_CALL(-SGT_EINVAL, "simiommu_new, alignment 6", s_simiommu_new(h, 2));
		S_CALL(-SGT_EINVAL, "simiommu_new, an allocator without functions",
		       s_simiommu_new(h, 3));
		S_CALL(-SGT_EINVAL, "simiommu_new, a reversed window", s_simiommu_new(h, 4));
		S_CALL(-SGT_EINVAL, "simiommu_new, a bounce pool above the mask",
		       s_simiommu_new(h, 5));
		S_CALL(-SGT_EINVAL, "simiommu_new, a bounce pool past 4 GiB", s_simiommu_new(h, 6));
		S_CALL(-SGT_EINVAL, "iova_new without windows", s_iova_new(0));
		S_CALL(-SGT_EINVAL, "iova_new, zero windows", s_iova_new(1));
		S_CALL(-SGT_EINVAL, "iova_new, too many windows", s_iova_new(2));
		S_CALL(-SGT_EINVAL, "iova_new, granule out of range", s_iova_new(3));
		S_CALL(-SGT_EINVAL, "iova_new, too many reserved ranges", s_iova_new(4));
		S_CALL(-SGT_EINVAL, "iova_new, reserved ranges missing", s_iova_new(5));
		S_CALL(-SGT_EINVAL, "iova_new, a reversed window", s_iova_new(6));
		S_CALL(-SGT_EINVAL, "iova_new, overlapping windows", s_iova_new(7));
		S_CALL(-SGT_EINVAL, "iova_new, a reversed reserved range", s_iova_new(8));
		S_CALL(-SGT_EINVAL, "iova_new, no whole granule", s_iova_new(9));
		S_CALL(-SGT_EINVAL, "iova_new, everything reserved", s_iova_new(10));
		S_CALL_IF(dev, 0, "debug queries past the kept and out of range",
			  s_true_is_wrong(sgt_dma_debug_msg(dev, UINT64_MAX) != NULL ||
					  sgt_dma_debug_count(dev, (enum sgt_dma_report_kind)999)));
		S_CALL(0, "the platform's defaults and identity memory", s_platform(0));
		S_CALL(0, "the platform's pages", s_platform(1));
	default:
		return false;
	}
}

enum { s_end = __COUNTER__ };

uint32_t h_bad_arg_count(void)
{
	return S_NUM_BREAKS + (s_end - s_base);
}
