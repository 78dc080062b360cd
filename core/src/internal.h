/* SPDX-License-Identifier: MIT */
#ifndef SGT_INTERNAL_H
#define SGT_INTERNAL_H

#include "sgt/sgt.h"

/*
 * Handle states. Distinct magic values rather than small integers, so that a handle that was never
 * initialised (garbage or zero) is told apart from a live one or a stale one.
 */
#define SGT__STATE_OWNED 0x5347a001u
#define SGT__STATE_BORROWED 0x5347a002u
#define SGT__STATE_MANAGED 0x5347a003u
#define SGT__STATE_BORROWED_MAPPING 0x5347a004u
#define SGT__STATE_STALE 0x5347deadu

#ifdef SGT_DEBUG_CHECKS
#define SGT__ASSERT(expr) ((expr) ? (void)0 : sgt_platform_assert_fail(#expr, __FILE__, __LINE__))
#else
#define SGT__ASSERT(expr) ((void)0)
#endif
/* Debug builds check the table invariants before and after every mutation. */
#define SGT__ASSERT_VALID(sgt) SGT__ASSERT(sgt_sg_table_is_valid(sgt))

#define SGT__MIN(a, b) ((a) < (b) ? (a) : (b))

/* 0 for a live handle, -SGT_ESTALE for a consumed one, -SGT_EINVAL for NULL or garbage. */
int sgt__cpu_live(const struct sgt_cpu *t);

/* The resolved form of &struct sgt_table_params: defaults applied, everything checked. */
struct sgt__params {
	struct sgt_allocator alloc;
	const struct sgt_memory *mem;
	uint32_t chunk_capacity;
};

int sgt__params_resolve(const struct sgt_table_params *params, struct sgt__params *out);
int sgt__memory_check(const struct sgt_memory *mem);

/* An empty owned table with resolved parameters (cannot fail). */
void sgt__table_init(struct sgt_table *t, const struct sgt__params *p);
/* Move a live owned table from @src into @dst; @src becomes stale. */
void sgt__table_move(struct sgt_table *dst, struct sgt_table *src);
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
 * @expect_growth: size every new chunk at full capacity (appends) rather than the last one to fit
 * (one-shot constructors), as Linux does for sg_alloc_append_table_from_pages vs sg_alloc_table.
 */
int sgt__resv_init(struct sgt__resv *r, struct sgt_table *t, uint64_t num_new, bool expect_growth);
int sgt__resv_put(struct sgt__resv *r, uint64_t pfn, uint32_t offset, uint32_t len);
/* Requires every reserved entry put; adds @merge_len to the last existing entry first. */
void sgt__resv_commit(struct sgt__resv *r, uint32_t merge_len);
void sgt__resv_abort(struct sgt__resv *r);

#endif /* SGT_INTERNAL_H */
