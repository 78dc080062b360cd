/* SPDX-License-Identifier: MIT */
#ifndef SGT_HARNESS_WORLD_H
#define SGT_HARNESS_WORLD_H

/* The harness's world: the library's objects and, next to each, its model. Internal. */

#include <stdarg.h>

#include "model.h"
#include "sgt/simiommu.h"
#include "sgt_harness.h"
#include "sgt_testkit.h"

/* The page size: 512 bytes, so that small tables cross many pages; 4 KiB for a real IOMMU. */
#ifndef SGT_H_SHIFT
#define SGT_H_SHIFT 9u
#endif
#define H_SHIFT SGT_H_SHIFT
#define H_PS (UINT64_C(1) << H_SHIFT)
#define H_FIXED_BASE UINT64_C(0x1000) /* the first frame, with the simulated devices only */
#define H_PAGES 256u
#define H_RAW_FIRST 240u /* the raw table's frames: kept out of every provider and allocation */
#define H_MAX_RUN 16u /* pages per provider */
#define H_QUARANTINE 4u
#define H_SMALL_IOVA UINT64_C(0x100000) /* the small IOVA window: maps may run out of space */
#define H_SMALL_IOVA_LEN UINT64_C(0x8000)
#define H_HUGE_SHIFT 24u /* SGT_OP_HUGE: 16 MiB pages, 4 to 16 GiB per table */
#define H_HUGE_MIN_PAGES 256u
#define H_HUGE_MAX_PAGES 1024u
#define H_ARENA_PATTERN                                                                            \
	0x5eedu /* sgt_test_mem_fill()'s seed for every simulated world */ /* the IOMMU device's   \
									      quarantine: IOVA     \
									      ranges held back     \
									      after unmap */

enum h_kind { H_EMPTY, H_OWNED, H_BORROWED, H_MAPPED, H_BMAPPED };

/* Which consumed handle of a slot is stale now (for SGT_OP_STALE_USE). */
enum h_stale { H_STALE_NONE, H_STALE_TABLE, H_STALE_BORROWED, H_STALE_MAPPING, H_STALE_BMAPPING };

struct h_slot {
	enum h_kind kind;
	enum h_stale stale;
	/*
	 * Separate storage per handle type: a transition leaves the old one stale, not reused. The
	 * owned tables live in one array of the harness (sgt_split() fills consecutive handles).
	 */
	struct sgt_table *t;
	struct sgt_borrowed b;
	struct sgt_mapping m;
	struct sgt_borrowed_mapping bm;
	struct m_table mt; /* the model's entries */
	int src; /* borrowed, bmapped: the slot it views */
	int users; /* views of this slot that are alive */
	bool owns_pages;
	int dev; /* mapped, bmapped */
	uint8_t dir;
	uint8_t *bounce; /* mapped on the bounce device: the model's bounce buffer */
	uint32_t *seg_lens; /* mapped: the model's DMA segment lengths */
	uint32_t num_segs;
	uint64_t iova_lo, iova_hi; /* mapped: the span of its DMA segments */
	/* owned (also while mapped): its chunk capacity and its tail chunk's free slots, as the
	 * model predicts them (m_chunk_allocs()) */
	uint32_t chunk_cap;
	uint32_t tail_room;
};

struct h_raw {
	struct sgt_chunk *chunk;
	struct sgt_sg_table sgt;
	struct m_table mt;
	bool mapped;
	int dev;
	uint8_t dir;
	uint32_t num_segs;
	uint8_t *bounce;
	bool unmapped_on[SGT_H_DEVS]; /* unmapped there and not mapped there since */
	uint64_t iova_lo, iova_hi;
};

/* The IOVA spans of the last H_QUARANTINE unmaps on the IOMMU device, oldest first. */
struct h_quarantine {
	uint64_t lo[H_QUARANTINE], hi[H_QUARANTINE];
	uint32_t n;
};

/*
 * The simulated devices' allocator: the platform's, except that one freed block of
 * H_RECYCLE_MIN bytes or more (a bounce pool) is kept for the next device of that size, so that
 * a reset world does not fault its pages in again.
 */
#define H_RECYCLE_MIN (64u << 10)
struct h_recycler {
	struct sgt_allocator alloc;
	void *block;
	size_t len;
};

struct sgt_harness {
	struct sgt_test_mem mem;
	uint8_t *pristine; /* the arena as the world starts (simulated devices only) */
	uint8_t dirty[H_PAGES]; /* pages that may differ from it (sgt_harness_reset()) */
	bool finished; /* sgt_harness_finish() passed and freed the devices */
	struct h_recycler recycler;
	uint64_t base; /* the arena's first frame */
	const struct sgt_harness_device *plug; /* device 0, when it is not simulated */
	struct sgt_device *plug_dev;
	uint8_t *shadow; /* the model's copy of the arena */
	uint8_t shadow_touched[H_PAGES]; /* pages the model wrote since the last compare */
	struct sgt_test_alloc alloc;
	struct sgt_table_params params;
	struct sgt_simiommu *sim[SGT_H_DEVS];
	struct sgt_device_params dp[SGT_H_DEVS];
	bool fail_map_pending[SGT_H_DEVS];
	bool small_iova; /* the iommu device has a 32 KiB window: maps may run out of IOVA space */
	uint64_t expect_reports[SGT_H_DEVS];
	uint64_t expect_kind[SGT_H_DEVS][SGT_REPORT_NUM_KINDS]; /* the same, per kind */
	struct h_quarantine quarantine;
	uint64_t expect_faults[SGT_H_DEVS];
	/* sgt_simiommu_changes() at the last bookkeeping check, plus one (0: never checked) */
	uint64_t checked_changes[SGT_H_DEVS];
	struct h_slot s[SGT_H_SLOTS];
	struct sgt_table tables[SGT_H_SLOTS];
	struct h_raw raw;
	uint32_t fail_alloc_next; /* SGT_OP_FAIL_ALLOC: fail this allocation of the next op */
	char why[512];
};

int h_fail(struct sgt_harness *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const struct sgt_cpu *h_cpu(struct h_slot *s);
const struct sgt_dma *h_dma(struct h_slot *s);
struct h_slot *h_mapping_of(struct sgt_harness *h, struct h_slot *s);
struct sgt_simiommu *h_sim(struct sgt_harness *h, int dev);
struct sgt_device *h_device(struct sgt_harness *h, int dev);
bool h_plugged(const struct sgt_harness *h, int dev);
int h_dma_read(struct sgt_harness *h, int dev, uint64_t addr, void *buf, size_t n);
int h_dma_write(struct sgt_harness *h, int dev, uint64_t addr, const void *buf, size_t n);
int h_check_world(struct sgt_harness *h);
/* A table's invariants, entries and length against the model's (@i names it in messages). */
int h_check_entries(struct sgt_harness *h, int i, const struct sgt_cpu *c,
		    const struct m_table *mt);
/* The harness's own reading of a mapped table against device constraints; NULL when it holds. */
const char *h_segments_break(const struct sgt_sg_table *sgt, const struct sgt_device_params *p);
void h_shadow_write(struct sgt_harness *h, uint64_t addr, uint8_t v);
uint8_t h_shadow_read(const struct sgt_harness *h, uint64_t addr);
const uint8_t *h_shadow_at(const struct sgt_harness *h, uint64_t addr);
/* The index of the first byte where @a and @b differ, or @n when they agree. */
uint64_t h_first_diff(const uint8_t *a, const uint8_t *b, uint64_t n);
/*
 * Which allocation of this step SGT_OP_FAIL_ALLOC armed to fail, counted from here (1: the
 * next one), or 0 when none is armed. The model predicts from it whether a step fails with
 * -SGT_ENOMEM (m_chunk_allocs()); it never adopts the library's answer.
 */
uint64_t h_armed_nth(const struct sgt_harness *h);
/* Does a step whose @nth allocation is armed to fail (0: none) reach it in @allocs allocations? */
static inline bool h_reaches_armed(uint64_t nth, uint64_t allocs)
{
	return nth && nth <= allocs;
}
/* Table bytes [at, at + n) of the model's table @mt, in the shadow: copied out, written, or
 * compared (h_table_diff() returns the index of the first byte that differs, or @n). */
void h_table_read(struct sgt_harness *h, const struct m_table *mt, uint64_t at, uint8_t *buf,
		  uint64_t n);
void h_table_write(struct sgt_harness *h, const struct m_table *mt, uint64_t at, const uint8_t *buf,
		   uint64_t n);
uint64_t h_table_diff(struct sgt_harness *h, const struct m_table *mt, uint64_t at,
		      const uint8_t *buf, uint64_t n);
uint8_t h_pattern(uint32_t seed, uint64_t i);
/*
 * SGT_BAD_ARG: call public function number @which (modulo h_bad_arg_count()) with a bad
 * argument, @s a live slot; gives what it was, what it returned and what its documentation
 * promises. False when @s is not the kind the call needs (the step is skipped).
 */
bool h_bad_arg(struct sgt_harness *h, struct h_slot *s, uint32_t which, const char **what, int *got,
	       int *want);
uint32_t h_bad_arg_count(void);
bool h_device_reads(uint8_t dir);
bool h_device_writes(uint8_t dir);

/* operations (ops.c) */
int h_do_op(struct sgt_harness *h, struct sgt_op *op);
/* SGT_OP_HUGE (huge.c): what it draws, all derived from a normalised operation */
struct h_huge_params {
	uint32_t pages; /* H_HUGE_MIN_PAGES..H_HUGE_MAX_PAGES */
	bool runs; /* runs of contiguous frames, or all contiguous */
	uint32_t offset; /* in the first 16 MiB page */
	uint64_t size;
	uint32_t max_seg; /* the table's: 3 GiB or 4 GiB - 1 */
	uint64_t nents_len; /* 1..size */
	uint64_t split_skip, split_len;
	uint32_t dev_max_seg; /* the IOMMU device's: 0 (64 KiB), 2 GiB or 4 GiB - 1 */
	uint32_t seed;
};
struct h_huge_params h_huge_draw(const struct sgt_op *op);
int h_huge(struct sgt_harness *h, const struct sgt_op *op);

#endif /* SGT_HARNESS_WORLD_H */
