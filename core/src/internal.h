/* SPDX-License-Identifier: MIT */
#ifndef SGT_INTERNAL_H
#define SGT_INTERNAL_H

#include "sgt/sgt.h"

/* The handle states (SGT__STATE_*) are in sgt/table.h, for SGT_TABLE_INIT(). */

/*
 * Debug builds check the table invariants before and after every mutation. SGT__CHECK(expr) is
 * true when @expr holds; otherwise it reports through the platform and is false, so that where
 * the platform's assertion returns (a kernel WARNs) the caller refuses the operation: it fails
 * closed. Release builds evaluate nothing.
 */
#ifdef SGT_DEBUG_CHECKS
#define SGT__DEBUG_BUILD 1
#define SGT__CHECK(expr)                                                                           \
	((expr) ? true : (sgt_platform_assert_fail(#expr, __FILE__, __LINE__), false))
#else
#define SGT__DEBUG_BUILD 0
#define SGT__CHECK(expr) true
#endif
#define SGT__CHECK_VALID(sgt) SGT__CHECK(sgt_sg_table_is_valid(sgt))

#define SGT__MIN(a, b) ((a) < (b) ? (a) : (b))

#define SGT__DEVICE_MAGIC 0x5347d0e1u

static inline bool sgt__actx_valid(enum sgt_alloc_ctx actx)
{
	return actx == SGT_MAY_SLEEP || actx == SGT_ATOMIC;
}

/* The bounded formatter of fmt.c: %s %d %u %llu %llx %#llx %p %%; always NUL-terminates. */
size_t sgt__vformat(char *buf, size_t size, const char *fmt, __builtin_va_list ap);
size_t sgt__format(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * The DMA debug layer (dma_debug.c), called by dma.c only when dev->sgt__debug is set. A record
 * is allocated before the backend maps (so a failure leaves nothing mapped) and filled in once
 * the mapping is accepted.
 */
struct sgt__dbg_map;
int sgt__dbg_map_prepare(struct sgt_device *dev, const struct sgt_sg_table *sgt,
			 enum sgt_alloc_ctx actx, struct sgt__dbg_map **out);
void sgt__dbg_map_commit(struct sgt_device *dev, struct sgt__dbg_map *rec,
			 const struct sgt_sg_table *sgt, enum sgt_dma_dir dir);
void sgt__dbg_map_abort(struct sgt_device *dev, struct sgt__dbg_map *rec);
/* Checks an unmap against the record (reports misuse) and forgets the record when @will_unmap. */
int sgt__dbg_unmap(struct sgt_device *dev, const struct sgt_sg_table *sgt, uint32_t nents,
		   enum sgt_dma_dir dir, bool will_unmap);
int sgt__dbg_sync(struct sgt_device *dev, const struct sgt_sg_table *sgt, uint32_t nents,
		  enum sgt_dma_dir dir);
void sgt__dbg_report(struct sgt_device *dev, enum sgt_dma_report_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* 0 for a live handle, -SGT_ESTALE for a consumed one, -SGT_EINVAL for NULL or garbage. */
int sgt__cpu_live(const struct sgt_cpu *t);

/* The resolved form of &struct sgt_table_params: defaults applied, everything checked. */
struct sgt__params {
	struct sgt_allocator alloc;
	const struct sgt_memory *mem;
	uint32_t chunk_capacity;
};

int sgt__params_resolve(const struct sgt_table_params *params, struct sgt__params *out);

/* An empty owned table with resolved parameters (cannot fail). */
void sgt__table_init(struct sgt_table *t, const struct sgt__params *p);
/* Move a live owned table from @src into @dst; @src becomes stale. */
void sgt__table_move(struct sgt_table *dst, struct sgt_table *src);
/* Free one of @t's chunks, wherever its header lives (see resv.c). */
void sgt__chunk_free(struct sgt_table *t, struct sgt_chunk *c);
/* Free what an owned raw table owns: chunks, and pages when @t owns them. */
void sgt__table_release(struct sgt_table *t);

/*
 * The single mechanism by which tables grow: reserve room for N new entries (allocating every
 * chunk up front), put them one by one, then commit. Until commit the table is unchanged (puts
 * into the tail chunk's free slots are invisible past its num_ents), so abort restores it exactly.
 */
struct sgt__resv {
	struct sgt_table *t;
	struct sgt_chunk *new_head;
	struct sgt_chunk *new_tail;
	uint64_t num_new;
	uint64_t num_put;
	uint64_t added_len;
	struct sgt_chunk *cur;
	uint32_t cur_idx;
};

/*
 * @expect_growth: size new chunks for a table that grows by appends (as large as the table already
 * is, up to a full chunk) rather than the last one to fit
 * (one-shot constructors), as Linux does for sg_alloc_append_table_from_pages vs sg_alloc_table.
 */
int sgt__resv_init(struct sgt__resv *r, struct sgt_table *t, uint64_t num_new, bool expect_growth,
		   enum sgt_alloc_ctx actx);
/* Free slots in the table's tail chunk: entries that can be added without allocating. */
static inline uint32_t sgt__tail_room(const struct sgt_sg_table *sgt)
{
	return sgt->tail ? sgt->tail->capacity - sgt->tail->num_ents : 0;
}

/*
 * Reserve no more than was put: for a reservation of an upper bound that allocated nothing (it
 * fit the tail chunk), before the commit.
 */
static inline void sgt__resv_trim(struct sgt__resv *r)
{
	r->num_new = r->num_put;
}

/* Move the reservation on to its next chunk (the current one is full). */
void sgt__resv_next_chunk(struct sgt__resv *r);

/*
 * The reserved slots that can be put next, all in one chunk: returns the first and gives their
 * count in *@room (at least 1); NULL once every reserved entry is put (a pages provider that
 * answers differently the second time could ask for more). Callers write entries into them and
 * then say how many with sgt__resv_filled(), before asking again: builds write whole runs of
 * entries through a local cursor, which profiles showed to matter.
 */
static inline struct sgt_entry *sgt__resv_slots(struct sgt__resv *r, uint32_t *room)
{
	uint64_t left = r->num_new - r->num_put;

	if (!left)
		return NULL;
	if (r->cur_idx == r->cur->capacity)
		sgt__resv_next_chunk(r);
	*room = (uint32_t)SGT__MIN((uint64_t)(r->cur->capacity - r->cur_idx), left);
	return &r->cur->ents[r->cur_idx];
}

/* @n slots from sgt__resv_slots() were written, with @bytes bytes of entries in all. */
static inline void sgt__resv_filled(struct sgt__resv *r, uint32_t n, uint64_t bytes)
{
	r->cur_idx += n;
	r->num_put += n;
	r->added_len += bytes;
}

/* Put one entry: -SGT_EINVAL when every reserved entry is already put. */
static inline int sgt__resv_put(struct sgt__resv *r, uint64_t pfn, uint32_t offset, uint32_t len)
{
	uint32_t room;
	struct sgt_entry *e = sgt__resv_slots(r, &room);

	if (!e)
		return -SGT_EINVAL;
	*e = (struct sgt_entry){ .pfn = pfn, .offset = offset, .len = len };
	sgt__resv_filled(r, 1, len);
	return 0;
}

/* The frame array of a provider made by sgt_pages_from_array(), read inline; NULL otherwise. */
const uint64_t *sgt__pages_array(const struct sgt_pages *pages);
/*
 * Requires every reserved entry put; adds @merge_len to the last existing entry first. Returns 0,
 * or -SGT_EIO when a debug check fails and the platform's assertion returns; then nothing is
 * committed and the caller aborts the reservation.
 */
int sgt__resv_commit(struct sgt__resv *r, uint32_t merge_len);
void sgt__resv_abort(struct sgt__resv *r);

#endif /* SGT_INTERNAL_H */
