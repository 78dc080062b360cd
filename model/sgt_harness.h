/* SPDX-License-Identifier: MIT */
#ifndef SGT_HARNESS_H
#define SGT_HARNESS_H

/**
 * DOC: The harness: one reference model and one executor for property tests and fuzzers
 *
 * A harness owns a small world: simulated memory (frames 0x1000.., 512-byte pages), a counting
 * allocator that can fail its Nth allocation, three simulated-IOMMU devices (iommu, direct, bounce
 * modes, with device constraints drawn from a seed), a handful of table slots and one raw table
 * that is mapped through the raw DMA API as a driver would.
 *
 * Next to it lives the reference model, written to be obviously right rather than fast: plain
 * arrays of entries built page by page from the documented merge rules, a shadow copy of every
 * byte of memory, and for bounce mappings a shadow of the bounce buffer.
 *
 * sgt_harness_apply() performs one &struct sgt_op on the real library and on the model, then
 * checks everything: table invariants, entries, bytes (the whole arena against the shadow), DMA
 * segments against the device's constraints and the model's merge rules, what the device reads
 * through every DMA segment, fault and debug-report counts, and the simulated IOMMU's own
 * bookkeeping. sgt_harness_finish() drops everything and checks that no allocation, mapping or
 * IOVA range is left and that no unexpected report was made.
 *
 * Operations are plain data, so a fuzzer decodes them from bytes and a property test generates
 * them; both then speak the same language (sgt_op_describe()).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SGT_H_SLOTS 6
#define SGT_H_DEVS 3

/** enum sgt_op_kind - every operation the harness knows */
enum sgt_op_kind {
	SGT_OP_FROM_PAGES, /* slot <- owned table from pages */
	SGT_OP_APPEND, /* append pages to an owned slot */
	SGT_OP_ALLOC_ORDER, /* slot <- owned table over allocated pages */
	SGT_OP_SPLIT, /* slot2, slot2+1.. <- pieces of slot */
	SGT_OP_BORROW, /* slot2 <- borrowed view of slot's raw table */
	SGT_OP_MAP, /* map owned slot through device dev */
	SGT_OP_WRAP_MAPPED, /* slot2 <- borrowed mapping of mapped slot */
	SGT_OP_UNMAP, /* mapped slot -> owned */
	SGT_OP_ITERATE, /* walk every iterator the slot's type offers */
	SGT_OP_COPY_TO, /* copy to a buffer: skip, len */
	SGT_OP_COPY_FROM, /* copy from a buffer: skip, len, seed */
	SGT_OP_ZERO, /* zero: skip, len */
	SGT_OP_DEV_WRITE, /* the device writes table bytes [skip, skip+len) through the DMA */
	SGT_OP_DEV_READ, /* the device reads them */
	SGT_OP_SYNC_CPU, /* sync for the CPU */
	SGT_OP_SYNC_DEV, /* sync for the device */
	SGT_OP_DROP, /* drop whatever the slot holds */
	SGT_OP_STALE_USE, /* call everything on the slot's consumed handle: all -ESTALE */
	SGT_OP_RAW_MAP, /* map the raw table through dev (raw DMA API) */
	SGT_OP_RAW_UNMAP, /* unmap it correctly */
	SGT_OP_RAW_MISUSE, /* one DMA-API misuse on the raw table (variant) */
	SGT_OP_FAIL_ALLOC, /* the next operation's Nth allocation fails (n) */
	SGT_OP_FAIL_MAP, /* the next map on dev fails */
	SGT_OP_BAD_CALL, /* one call with bad input (n: enum sgt_op_bad): the documented error */
	SGT_OP_HUGE, /* a table past 4 GiB in a memory without bytes: build, count, split, map */
	SGT_OP_NUM_KINDS
};

/** enum sgt_op_misuse - variants of SGT_OP_RAW_MISUSE */
enum sgt_op_misuse {
	SGT_MISUSE_DOUBLE_UNMAP, /* needs the raw table unmapped after a map */
	SGT_MISUSE_NEVER_MAPPED, /* unmap of a table never mapped on that device */
	SGT_MISUSE_WRONG_DIR, /* needs it mapped */
	SGT_MISUSE_MAPPED_NENTS, /* needs it mapped with fewer DMA than CPU entries */
	SGT_MISUSE_WRONG_NENTS, /* needs it mapped */
	SGT_MISUSE_SYNC_UNMAPPED, /* needs it unmapped */
	SGT_MISUSE_SYNC_WRONG_DIR, /* needs it mapped */
	SGT_MISUSE_SYNC_BEYOND, /* needs it mapped */
	SGT_MISUSE_SEGMENTS_CHANGED, /* a DMA address changed, then a sync; needs it mapped */
	SGT_MISUSE_NUM
};

/**
 * enum sgt_op_bad - variants of SGT_OP_BAD_CALL: inputs the other operations never make, each
 * with the error its documentation promises, and nothing changed (the world checks that follow)
 */
enum sgt_op_bad {
	SGT_BAD_OFFSET_ONE_PAGE, /* from_pages with an offset of exactly one page */
	SGT_BAD_ZERO_PAGES, /* from_pages from a provider with no page */
	SGT_BAD_ORDER_TOO_LARGE, /* alloc_order with blocks past 2^31 bytes */
	SGT_BAD_NENTS_FOR_LEN, /* nents_for_len(len % (total + 2)) on slot: 0, inside, end, past */
	SGT_BAD_SPLIT_PAST_END, /* split of one byte at the table's end */
	SGT_BAD_SPLIT_ZERO_LEN, /* split with a zero length among the lengths */
	SGT_BAD_SPLIT_NONE, /* split into zero tables */
	SGT_BAD_COPY_NULL, /* copy to a NULL buffer */
	SGT_BAD_CHECK_SEGMENTS, /* sgt_dma_check_segments() on a mapped slot against constraints
				   drawn from seed: its verdict against the harness's own */
	SGT_BAD_CAPS, /* sgt_device_caps() on dev: what the simulator must say */
	SGT_BAD_ARG, /* a public function with a bad argument (model/bad_args.c; seed picks) */
	SGT_BAD_NUM
};

/** enum sgt_op_layout - how a pages provider's frames are laid out */
enum sgt_op_layout {
	SGT_LAYOUT_CONTIGUOUS,
	SGT_LAYOUT_REVERSED,
	SGT_LAYOUT_SCATTERED, /* every other frame */
	SGT_LAYOUT_RANDOM, /* from seed, repeats allowed */
	SGT_LAYOUT_CONTINUE, /* append: carry on from the frame after the table's last byte */
	SGT_LAYOUT_NUM
};

/**
 * struct sgt_op - one operation, as plain data
 *
 * Fields an operation does not use are ignored. Values out of range are reduced into range by
 * the harness (so any bytes decode to something meaningful); sgt_op_describe() shows the values
 * as reduced.
 */
struct sgt_op {
	uint8_t kind; /* enum sgt_op_kind */
	uint8_t slot;
	uint8_t slot2;
	uint8_t dev; /* device: 0 iommu, 1 direct, 2 bounce */
	uint8_t dir; /* enum sgt_dma_dir, 0..2 */
	uint8_t variant; /* misuse kind */
	uint8_t layout; /* enum sgt_op_layout */
	uint8_t chunk_cap; /* 0: default; else 1.. */
	uint16_t first_page;
	uint16_t num_pages;
	uint32_t offset;
	uint32_t max_seg;
	uint32_t seed;
	uint32_t n; /* FAIL_ALLOC: which allocation; ALLOC_ORDER: order; SPLIT: pieces */
	uint64_t size; /* bytes for FROM_PAGES/APPEND/ALLOC_ORDER */
	uint64_t skip;
	uint64_t len;
};

/*
 * SGT_OP_WHOLE_PAGES - a size meaning "every byte of the pages after the offset", so that
 * tables end on page boundaries (where appends can merge); normalisation replaces it.
 */
#define SGT_OP_WHOLE_PAGES UINT64_MAX

struct sgt_harness;

/** Results of sgt_harness_apply(): the step ran and agreed, did not apply, or disagreed. */
#define SGT_H_OK 0
#define SGT_H_SKIPPED 1
#define SGT_H_MISMATCH (-1)

/** sgt_harness_new() - a fresh world; @seed draws the device constraints. NULL on ENOMEM. */
struct sgt_harness *sgt_harness_new(uint32_t seed);

struct sgt_device;
struct sgt_device_params;
struct sgt_memory;

/*
 * struct sgt_harness_device - a real device in place of the simulated IOMMU (device 0), e.g.
 * VFIO with QEMU's edu doing the DMA (tests/vfio/). The harness's memory is then an identity
 * domain (frame = address >> page shift), so that frames are the process's addresses; the
 * model and every check stay the same, except what only a simulator can report: device 0's
 * faults (a disallowed access is not made) and its own count of live mappings; and the
 * after-every-step reading of every mapped byte through device 0, which the DEV_READ operations
 * do instead.
 * @open:      make the device with the constraints the harness drew from its seed
 * @close:     tear it down; returns the mappings it still had
 * @dma_read:  the device reads @n bytes at DMA address @addr; 0 or an sgt error
 * @dma_write: the device writes them
 */
struct sgt_harness_device {
	struct sgt_device *(*open)(void *ctx, const struct sgt_device_params *params);
	uint64_t (*close)(void *ctx, struct sgt_device *dev);
	int (*dma_read)(void *ctx, uint64_t addr, void *buf, size_t n);
	int (*dma_write)(void *ctx, uint64_t addr, const void *buf, size_t n);
	void *ctx;
};

/* A harness whose device 0 is @plug (kept by pointer: it must outlive the harness). */
struct sgt_harness *sgt_harness_new_with(uint32_t seed, const struct sgt_harness_device *plug);

/**
 * sgt_harness_reset() - start a new sequence in a finished world, reusing its memory
 * @h:    a harness whose sgt_harness_finish() returned SGT_H_OK (simulated devices only)
 * @seed: as for sgt_harness_new()
 *
 * Leaves @h exactly as sgt_harness_new(@seed) would make it (the outcome trace test,
 * tests/trace/, replays every input through one reused world), but restores only the memory
 * pages the last sequence changed and reuses the bounce pool's allocation. Fuzzers call it
 * between inputs.
 *
 * Return: 0; -1 when @h was not finished cleanly, has a real device, or the devices could not
 * be made again (then free @h: its state is undefined).
 */
int sgt_harness_reset(struct sgt_harness *h, uint32_t seed);

/** sgt_harness_free() - free the world (whatever state it is in) */
void sgt_harness_free(struct sgt_harness *h);

/**
 * sgt_harness_apply() - perform one operation on the library and the model, and check
 * @h:  the harness
 * @op: the operation. Normalised in place (out-of-range values reduced), and its slots are
 *      hints: each is resolved to the first slot from the hint on that the operation can use,
 *      and written back, so sgt_op_describe() afterwards shows what really ran.
 *
 * Return: SGT_H_OK; SGT_H_SKIPPED when the operation's precondition does not hold in the
 * current state (nothing was done); SGT_H_MISMATCH when the library and the model disagree or a
 * check failed (sgt_harness_why() says which).
 */
int sgt_harness_apply(struct sgt_harness *h, struct sgt_op *op);

/**
 * sgt_harness_finish() - drop everything and run the end-of-sequence checks
 *
 * Return: SGT_H_OK or SGT_H_MISMATCH.
 */
int sgt_harness_finish(struct sgt_harness *h);

/** sgt_harness_why() - the last mismatch, readable; "" if none */
const char *sgt_harness_why(const struct sgt_harness *h);

/** sgt_op_describe() - the operation as one readable line, e.g. "map slot 1 on iommu, to-device" */
void sgt_op_describe(const struct sgt_op *op, char *buf, size_t len);

/** sgt_op_normalise() - reduce an operation's values into range (sgt_harness_apply() does it) */
void sgt_op_normalise(struct sgt_op *op);

#ifdef __cplusplus
}
#endif

#endif /* SGT_HARNESS_H */
