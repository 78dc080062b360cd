// SPDX-License-Identifier: MIT
/*
 * IOVA allocator: a buddy allocator whose free blocks sit in one AVL tree per order (keyed by the
 * first granule), with a per-order magazine of recently freed blocks and an optional quarantine,
 * all under one lock; live ranges in a radix tree of atomic slots (their lengths, by first
 * granule), so that a release validates with one lookup and one compare-and-swap; and per-thread
 * caches of free blocks (struct sgt_iova_cache) that allocate and release without the lock.
 * See sgt/iova.h for the contract.
 *
 * Bookkeeping nodes: a free block in a tree, a magazine or the quarantine is a node. A live range
 * or a block in a cache is not (a length in the radix tree, a granule number in the cache), but
 * it owns a node all the same: the spare list always holds at least one node for each of them
 * (v->reserve counts them), so that putting one back never allocates.
 */
#include "sgt/iova.h"

#include "sgt/platform.h"
#include "avl.h"

#define S_ORDERS 64
#define S_MAX_RESERVED 16
/*
 * Each reserved range splits at most one piece in two, so windows + reserved ranges bound the
 * pieces: the "no room" check in s_subtract() guards the array and cannot fire.
 */
#define S_MAX_PIECES (SGT_DMA_MAX_WINDOWS + S_MAX_RESERVED)
#define S_SPARES_MIN S_ORDERS /* one alloc splits at most 63 times */
#define S_SPARES_MAX 256
#define S_RADIX_SHIFT 9 /* inner nodes: 512 pointers */
#define S_RADIX_FAN (1u << S_RADIX_SHIFT)
#define S_LEAF_SHIFT 12 /* leaves: 4096 one-byte marks */
#define S_LEAF_SLOTS (1u << S_LEAF_SHIFT)
#define S_MARK_LARGE 255 /* a live range of more granules than a mark holds: see v->large */
#define S_CACHE_ORDERS 6 /* caches hold blocks of 1 to 32 granules (Linux's rcache: the same) */
#define S_CACHE_DEPTH 128 /* blocks of each order a cache holds */
#define S_CACHE_BATCH 16 /* blocks moved at a time: bounds a flush (the slowest step) to ~4 us */

struct s_block {
	struct sgt__avl_node node; /* key: first granule */
	struct s_block *next; /* magazine, quarantine or spare list */
	uint64_t granules; /* asked for, while a large live range */
	unsigned int order;
};

/*
 * The live ranges: a radix tree keyed by first granule whose leaves hold one mark per granule:
 * 0 when no live range starts there, else the granules it was asked for (1 to 254), or
 * S_MARK_LARGE for more, whose count is in the node kept in v->large. One byte a granule keeps
 * the leaves small enough to stay in cache: a release's one random access (measured: bench/).
 * Nodes are added under the lock and published with release stores; lookups run without it.
 * They are freed only with the allocator, so a lookup never meets a freed node.
 */
struct s_rnode {
	uint64_t slot[S_RADIX_FAN];
};

struct s_rleaf {
	uint8_t mark[S_LEAF_SLOTS];
};

/* Caller-owned, one thread at a time: see sgt/iova.h. */
struct sgt_iova_cache {
	struct sgt_iova *v;
	struct sgt_iova_cache *next; /* in the allocator's list, under its lock */
	uint32_t count[S_CACHE_ORDERS];
	uint64_t first[S_CACHE_ORDERS][S_CACHE_DEPTH]; /* free blocks, by first granule (LIFO) */
	/* What this cache's own steps changed (live, free, hits), added into sgt_iova_get_stats()
	 */
	struct sgt_iova_stats st;
};

/* A usable interval of granules, inclusive. */
struct s_piece {
	uint64_t first, last;
};

struct sgt_iova {
	struct sgt_allocator alloc;
	unsigned int shift;
	void *lock; /* everything but the live slots and the caches' contents */
	struct sgt__avl_node *free_tree[S_ORDERS];
	uint64_t live_root; /* the radix tree's top node */
	unsigned int live_levels; /* inner levels above the leaves */
	struct sgt__avl_node *large; /* large live ranges' nodes (key: first granule) */
	struct sgt_iova_cache *caches;
	uint64_t reserve; /* live ranges and cached blocks: each owns a spare node */
	struct s_block *mag[S_ORDERS];
	uint32_t mag_count[S_ORDERS];
	uint32_t mag_size;
	struct s_block *q_head, *q_tail;
	uint32_t q_len;
	struct s_block *spare;
	uint64_t num_spare;
	uint32_t num_pieces;
	struct s_piece pieces[S_MAX_PIECES];
	uint64_t usable;
	uint64_t lo_g, hi_g; /* the lowest and highest usable granules: where live ranges can be */
	struct sgt_iova_stats st;
};

static struct s_block *s_blk(struct sgt__avl_node *n)
{
	return n ? sgt__avl_entry(n, struct s_block, node) : NULL;
}

static uint64_t s_size(unsigned int order)
{
	return UINT64_C(1) << order;
}

/*
 * ---- spare nodes: allocation happens only here, before anything changes ----
 * In atomic context, as Linux's alloc_iova_fast() does: a DMA map may run where sleeping is not
 * allowed, and the allocator cannot know.
 */

static int s_top_up(struct sgt_iova *v)
{
	while (v->num_spare < v->reserve + S_SPARES_MIN) {
		struct s_block *b = v->alloc.alloc(v->alloc.ctx, sizeof(*b), SGT_ATOMIC);

		if (!b)
			return -SGT_ENOMEM;
		b->next = v->spare;
		v->spare = b;
		v->num_spare++;
	}
	return 0;
}

static struct s_block *s_take_spare(struct sgt_iova *v)
{
	struct s_block *b = v->spare;

	v->spare = b->next;
	v->num_spare--;
	return b;
}

static void s_give_spare(struct sgt_iova *v, struct s_block *b)
{
	if (v->num_spare >= v->reserve + S_SPARES_MAX) {
		v->alloc.free(v->alloc.ctx, b, sizeof(*b));
		return;
	}
	b->next = v->spare;
	v->spare = b;
	v->num_spare++;
}

/* ---- live ranges: the radix tree ---- */

/* The bit where an inner node of @level (1 above the leaves) starts indexing. */
static inline unsigned int s_level_shift(unsigned int level)
{
	return S_LEAF_SHIFT + (level - 1) * S_RADIX_SHIFT;
}

static inline void *s_load_node(const uint64_t *slot)
{
	return (void *)(uintptr_t)__atomic_load_n(slot, __ATOMIC_ACQUIRE);
}

/* The mark of granule @g, or NULL when no leaf holds it (then no live range starts there). */
static inline uint8_t *s_mark_at(const struct sgt_iova *v, uint64_t g)
{
	const uint64_t *slot = &v->live_root;
	unsigned int level;
	struct s_rnode *n;
	struct s_rleaf *leaf;

	for (level = v->live_levels; level; level--) {
		n = s_load_node(slot);
		if (!n)
			return NULL;
		slot = &n->slot[(g >> s_level_shift(level)) & (S_RADIX_FAN - 1)];
	}
	leaf = s_load_node(slot);
	return leaf ? &leaf->mark[g & (S_LEAF_SLOTS - 1)] : NULL;
}

static int s_new_node(struct sgt_iova *v, uint64_t *slot, size_t size)
{
	void *n = v->alloc.alloc(v->alloc.ctx, size, SGT_ATOMIC);

	if (!n)
		return -SGT_ENOMEM;
	__builtin_memset(n, 0, size);
	__atomic_store_n(slot, (uint64_t)(uintptr_t)n, __ATOMIC_RELEASE);
	return 0;
}

/* Make sure granule @g has a mark (under the lock); -SGT_ENOMEM changes nothing visible. */
static int s_mark_path(struct sgt_iova *v, uint64_t g)
{
	uint64_t *slot = &v->live_root;
	unsigned int level;
	struct s_rnode *n;

	for (level = v->live_levels; level; level--) {
		if (!*slot && s_new_node(v, slot, sizeof(struct s_rnode)))
			return -SGT_ENOMEM;
		n = s_load_node(slot);
		slot = &n->slot[(g >> s_level_shift(level)) & (S_RADIX_FAN - 1)];
	}
	return *slot ? 0 : s_new_node(v, slot, sizeof(struct s_rleaf));
}

static inline uint8_t s_mark_for(uint64_t granules)
{
	return granules < S_MARK_LARGE ? (uint8_t)granules : S_MARK_LARGE;
}

/*
 * Record a live range of @granules at @g, whose mark exists and is 0 (the block is the
 * caller's). A large one keeps @b as its record (in v->large, under the lock); returns whether
 * it did.
 */
static inline bool s_live_set(struct sgt_iova *v, uint64_t g, uint64_t granules, struct s_block *b)
{
	uint8_t mark = s_mark_for(granules);

	if (mark == S_MARK_LARGE) {
		b->granules = granules;
		v->large = sgt__avl_insert(v->large, &b->node);
	}
	__atomic_store_n(s_mark_at(v, g), mark, __ATOMIC_RELEASE);
	return mark == S_MARK_LARGE;
}

/*
 * End the live range of @granules at @g: true when there was one, and only for one of two
 * callers that race to free it. A large one (under the lock) gives its node back in *@out.
 */
static inline bool s_live_take(struct sgt_iova *v, uint64_t g, uint64_t granules,
			       struct s_block **out)
{
	uint8_t *mark = s_mark_at(v, g), want = s_mark_for(granules);
	struct sgt__avl_node *n = NULL;

	*out = NULL;
	if (want == S_MARK_LARGE) {
		n = sgt__avl_find(v->large, g);
		if (!n || s_blk(n)->granules != granules)
			return false;
	}
	if (!mark ||
	    !__atomic_compare_exchange_n(mark, &want, 0, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		return false;
	if (n) {
		v->large = sgt__avl_remove(v->large, g, &n);
		*out = s_blk(n);
	}
	return true;
}

/* The granules of the live range whose mark is @mark at @g. */
static uint64_t s_mark_granules(const struct sgt_iova *v, uint64_t g, uint8_t mark)
{
	struct sgt__avl_node *n;

	if (mark != S_MARK_LARGE)
		return mark;
	n = sgt__avl_find(v->large, g);
	return n ? s_blk(n)->granules : 0;
}

/*
 * The live range with the greatest first granule <= @g under @slot (@level, covering granules
 * from @base): its first granule and mark. Visits what lies below @g only.
 */
static bool s_floor_in(const uint64_t *slot, unsigned int level, uint64_t base, uint64_t g,
		       uint64_t *out_g, uint8_t *out_mark)
{
	const struct s_rnode *n = s_load_node(slot);
	const struct s_rleaf *leaf = (const void *)n;
	unsigned int sh = level ? s_level_shift(level) : 0;
	uint64_t i;

	if (!n)
		return false;
	for (i = (g - base) >> sh;; i--) {
		uint64_t child = base + (i << sh), top = child + ((UINT64_C(1) << sh) - 1);

		if (!level) {
			/* Eight marks at a time while they are all 0 (an aligned word). */
			uint64_t w;

			if ((i & 7) == 7) {
				__builtin_memcpy(&w, &leaf->mark[i - 7], sizeof(w));
				if (!w) {
					if (i == 7)
						return false;
					i -= 7;
					continue;
				}
			}
			*out_mark = __atomic_load_n(&leaf->mark[i], __ATOMIC_ACQUIRE);
			*out_g = child;
			if (*out_mark)
				return true;
		} else if (s_floor_in(&n->slot[i], level - 1, child, top < g ? top : g, out_g,
				      out_mark)) {
			return true;
		}
		if (i == 0)
			return false;
	}
}

/* The live range with the greatest first granule <= @g: its first granule and granules. */
static bool s_live_floor(const struct sgt_iova *v, uint64_t g, uint64_t *out_g,
			 uint64_t *out_granules)
{
	unsigned int bits = S_LEAF_SHIFT + v->live_levels * S_RADIX_SHIFT;
	uint8_t mark;

	if (bits < 64 && g >> bits)
		g = (UINT64_C(1) << bits) - 1;
	if (!s_floor_in(&v->live_root, v->live_levels, 0, g, out_g, &mark))
		return false;
	*out_granules = s_mark_granules(v, *out_g, mark);
	return true;
}

static void s_free_radix(struct sgt_iova *v, uint64_t slot, unsigned int level)
{
	struct s_rnode *n = (struct s_rnode *)(uintptr_t)slot;
	unsigned int i;

	if (!n)
		return;
	for (i = 0; level && i < S_RADIX_FAN; i++)
		s_free_radix(v, n->slot[i], level - 1);
	v->alloc.free(v->alloc.ctx, n, level ? sizeof(struct s_rnode) : sizeof(struct s_rleaf));
}

/* Inner levels above the leaves that the highest usable granule needs. */
static unsigned int s_levels_for(uint64_t max_g)
{
	unsigned int bits = max_g ? 64 - (unsigned int)__builtin_clzll(max_g) : 1;

	return bits <= S_LEAF_SHIFT ? 0 : (bits - S_LEAF_SHIFT + S_RADIX_SHIFT - 1) / S_RADIX_SHIFT;
}

/* ---- free trees ---- */

static void s_tree_insert(struct sgt_iova *v, struct s_block *b, uint64_t first, unsigned order)
{
	b->node.key = first;
	b->order = order;
	v->free_tree[order] = sgt__avl_insert(v->free_tree[order], &b->node);
}

/* Put a free block back, merging with its buddy as long as the buddy is free too. */
static void s_coalesce_insert(struct sgt_iova *v, struct s_block *b)
{
	uint64_t first = b->node.key;
	unsigned int order = b->order;
	struct sgt__avl_node *buddy;

	while (order + 1 < S_ORDERS) {
		v->free_tree[order] =
			sgt__avl_remove(v->free_tree[order], first ^ s_size(order), &buddy);
		if (!buddy)
			break;
		s_give_spare(v, s_blk(buddy));
		first &= ~s_size(order);
		order++;
	}
	s_tree_insert(v, b, first, order);
}

static void s_flush_magazines(struct sgt_iova *v)
{
	unsigned int k;

	for (k = 0; k < S_ORDERS; k++) {
		while (v->mag[k]) {
			struct s_block *b = v->mag[k];

			v->mag[k] = b->next;
			s_coalesce_insert(v, b);
		}
		v->mag_count[k] = 0;
	}
}

/* A free block now available for reuse: its order's magazine if there is room, else the trees. */
static void s_put_free(struct sgt_iova *v, struct s_block *b)
{
	/* Count first: coalescing below changes b->order to that of the merged block. */
	v->st.free_granules += s_size(b->order);
	if (v->mag_count[b->order] < v->mag_size) {
		b->next = v->mag[b->order];
		v->mag[b->order] = b;
		v->mag_count[b->order]++;
	} else {
		s_coalesce_insert(v, b);
	}
}

static bool s_magazines_hold_blocks(const struct sgt_iova *v)
{
	unsigned int k;

	for (k = 0; k < S_ORDERS; k++) {
		if (v->mag_count[k])
			return true;
	}
	return false;
}

/* ---- allocation ---- */

static inline bool s_fits(uint64_t first, unsigned order, uint64_t lim_g)
{
	return first + (s_size(order) - 1) <= lim_g;
}

static struct s_block *s_from_magazine(struct sgt_iova *v, unsigned k, uint64_t lim_g)
{
	struct s_block **pp;

	for (pp = &v->mag[k]; *pp; pp = &(*pp)->next) {
		struct s_block *b = *pp;

		if (s_fits(b->node.key, k, lim_g)) {
			*pp = b->next;
			v->mag_count[k]--;
			return b;
		}
	}
	return NULL;
}

/* The lowest block of the smallest order >= k that fits under the limit, split down to k. */
static struct s_block *s_from_trees(struct sgt_iova *v, unsigned k, uint64_t lim_g)
{
	struct sgt__avl_node *n = NULL;
	struct s_block *b;
	unsigned int j;

	for (j = k; j < S_ORDERS; j++) {
		n = sgt__avl_min(v->free_tree[j]);
		/* Splitting keeps the lowest 2^k granules, so only those must fit. */
		if (n && s_fits(n->key, k, lim_g))
			break;
	}
	if (j == S_ORDERS)
		return NULL;
	v->free_tree[j] = sgt__avl_remove(v->free_tree[j], n->key, &n);
	b = s_blk(n);
	while (j > k) {
		j--;
		s_tree_insert(v, s_take_spare(v), b->node.key + s_size(j), j);
	}
	b->order = k;
	return b;
}

/* Highest granule index whose last byte is <= limit; false if none. */
static inline bool s_limit_granule(const struct sgt_iova *v, uint64_t limit, uint64_t *out)
{
	uint64_t mask = s_size(v->shift) - 1;

	if ((limit & mask) == mask) {
		*out = limit >> v->shift;
		return true;
	}
	if ((limit >> v->shift) == 0)
		return false;
	*out = (limit >> v->shift) - 1;
	return true;
}

static inline unsigned int s_order_for(uint64_t granules)
{
	unsigned int k = granules > 1 ? 64 - (unsigned int)__builtin_clzll(granules - 1) : 0;

	return k < S_ORDERS ? k : S_ORDERS - 1;
}

static inline uint64_t s_granules(const struct sgt_iova *v, uint64_t len)
{
	return (len >> v->shift) + ((len & (s_size(v->shift) - 1)) != 0);
}

/*
 * A free block of order @k under @lim_g, taken out of the magazines or the trees (flushing the
 * magazines when that is the only way), with a slot ready for its live range; or NULL with the
 * reason in *@err. Under the lock; the node it was in is the caller's.
 */
static struct s_block *s_take_block(struct sgt_iova *v, unsigned int k, uint64_t lim_g, bool count,
				    int *err)
{
	struct s_block *b;

	*err = s_top_up(v);
	if (*err)
		return NULL;
	b = s_from_magazine(v, k, lim_g);
	if (b && count)
		v->st.magazine_hits++;
	if (!b)
		b = s_from_trees(v, k, lim_g);
	if (!b && s_magazines_hold_blocks(v)) {
		s_flush_magazines(v);
		v->st.flushes++;
		b = s_from_trees(v, k, lim_g);
	}
	*err = b ? s_mark_path(v, b->node.key) : -SGT_ENOSPC;
	if (b && *err) {
		/* Back among the free blocks, as far as anyone can tell (it never stopped
		 * counting). */
		v->st.free_granules -= s_size(k);
		s_put_free(v, b);
		return NULL;
	}
	if (b)
		v->st.free_granules -= s_size(k);
	return b;
}

/* The checks every allocation makes: the order and highest granule, or an error. */
static inline int s_alloc_args(const struct sgt_iova *v, uint64_t len, uint64_t limit,
			       uint64_t *granules, unsigned int *k, uint64_t *lim_g)
{
	if (len == 0)
		return -SGT_EINVAL;
	*granules = s_granules(v, len);
	*k = s_order_for(*granules);
	if (s_size(*k) < *granules || !s_limit_granule(v, limit, lim_g))
		return -SGT_ENOSPC;
	return 0;
}

int sgt_iova_alloc(struct sgt_iova *v, uint64_t len, uint64_t limit, uint64_t *out_addr)
{
	uint64_t lim_g, granules;
	struct s_block *b;
	unsigned int k;
	int err;

	if (!v || !out_addr)
		return -SGT_EINVAL;
	err = s_alloc_args(v, len, limit, &granules, &k, &lim_g);
	if (err)
		return err;
	sgt_platform_lock(v->lock);
	b = s_take_block(v, k, lim_g, true, &err);
	if (b) {
		*out_addr = b->node.key << v->shift;
		/* A small range's node becomes a spare, which it keeps (v->reserve counts it). */
		if (!s_live_set(v, b->node.key, granules, b)) {
			v->reserve++;
			s_give_spare(v, b);
		}
		v->st.live_ranges++;
		v->st.live_granules += s_size(k);
	}
	sgt_platform_unlock(v->lock);
	return err;
}

/*
 * A block that stopped being live or cached goes to a magazine or the trees, or first to the
 * quarantine when it was live and there is one.
 */
static void s_retire_node(struct sgt_iova *v, struct s_block *b, bool was_live)
{
	if (!v->q_len || !was_live) {
		s_put_free(v, b);
		return;
	}
	/* Quarantine: the range waits in a FIFO; the oldest one leaves when it is full. */
	b->next = NULL;
	if (v->q_tail)
		v->q_tail->next = b;
	else
		v->q_head = b;
	v->q_tail = b;
	if (++v->st.quarantined > v->q_len) {
		b = v->q_head;
		v->q_head = b->next;
		if (!v->q_head)
			v->q_tail = NULL;
		v->st.quarantined--;
		s_put_free(v, b);
	}
}

/* The same for a block without a node: it takes the spare v->reserve kept for it. */
static void s_retire(struct sgt_iova *v, uint64_t g, unsigned int k, bool was_live)
{
	struct s_block *b = s_take_spare(v);

	v->reserve--;
	b->node.key = g;
	b->order = k;
	s_retire_node(v, b, was_live);
}

int sgt_iova_release(struct sgt_iova *v, uint64_t addr, uint64_t len)
{
	struct s_block *large;
	uint64_t granules;
	unsigned int k;
	int err = 0;

	if (!v || (addr & (s_size(v->shift) - 1)) || len == 0)
		return -SGT_EINVAL;
	granules = s_granules(v, len);
	k = s_order_for(granules);
	sgt_platform_lock(v->lock);
	if (s_live_take(v, addr >> v->shift, granules, &large)) {
		v->st.live_ranges--;
		v->st.live_granules -= s_size(k);
		if (large)
			s_retire_node(v, large, true);
		else
			s_retire(v, addr >> v->shift, k, true);
	} else {
		err = -SGT_EINVAL;
	}
	sgt_platform_unlock(v->lock);
	return err;
}

bool sgt_iova_is_live(const struct sgt_iova *v, uint64_t addr)
{
	uint64_t g, granules;
	bool live;

	if (!v)
		return false;
	sgt_platform_lock(v->lock); /* for large ranges' records */
	live = s_live_floor(v, addr >> v->shift, &g, &granules) &&
	       (addr >> v->shift) - g < s_size(s_order_for(granules));
	sgt_platform_unlock(v->lock);
	return live;
}

/* Add what a cache's own steps changed (live, free, hits) into @to. */
static void s_add_cache_counts(struct sgt_iova_stats *to, const struct sgt_iova_cache *c)
{
	to->live_ranges += c->st.live_ranges;
	to->live_granules += c->st.live_granules;
	to->free_granules += c->st.free_granules;
	to->magazine_hits += c->st.magazine_hits;
}

void sgt_iova_get_stats(const struct sgt_iova *v, struct sgt_iova_stats *out)
{
	const struct sgt_iova_cache *c;

	if (!v || !out)
		return;
	sgt_platform_lock(v->lock);
	*out = v->st;
	/* The caches' own steps, counted apart (wrapping sums of what they added and took). */
	for (c = v->caches; c; c = c->next)
		s_add_cache_counts(out, c);
	sgt_platform_unlock(v->lock);
}

/* ---- per-thread caches ---- */

int sgt_iova_cache_new(struct sgt_iova *v, struct sgt_iova_cache **out)
{
	struct sgt_iova_cache *c;

	if (!v || !out)
		return -SGT_EINVAL;
	c = v->alloc.alloc(v->alloc.ctx, sizeof(*c), SGT_MAY_SLEEP);
	if (!c)
		return -SGT_ENOMEM;
	__builtin_memset(c, 0, sizeof(*c));
	c->v = v;
	sgt_platform_lock(v->lock);
	c->next = v->caches;
	v->caches = c;
	sgt_platform_unlock(v->lock);
	*out = c;
	return 0;
}

/* Hand the @n oldest blocks of order @k back to the allocator (under its lock). */
static void s_cache_flush(struct sgt_iova_cache *c, unsigned int k, uint32_t n)
{
	struct sgt_iova *v = c->v;
	uint32_t i;

	for (i = 0; i < n; i++)
		s_retire(v, c->first[k][i], k, false);
	c->st.free_granules -= n * s_size(k);
	c->count[k] -= n;
	__builtin_memmove(c->first[k], c->first[k] + n, c->count[k] * sizeof(c->first[k][0]));
}

void sgt_iova_cache_drain(struct sgt_iova_cache *c)
{
	unsigned int k;

	if (!c)
		return;
	sgt_platform_lock(c->v->lock);
	for (k = 0; k < S_CACHE_ORDERS; k++)
		s_cache_flush(c, k, c->count[k]);
	sgt_platform_unlock(c->v->lock);
}

void sgt_iova_cache_free(struct sgt_iova_cache *c)
{
	struct sgt_iova_cache **pp;
	struct sgt_iova *v;

	if (!c)
		return;
	v = c->v;
	sgt_iova_cache_drain(c);
	sgt_platform_lock(v->lock);
	for (pp = &v->caches; *pp != c; pp = &(*pp)->next)
		;
	*pp = c->next;
	/* Its counters become the allocator's. */
	s_add_cache_counts(&v->st, c);
	sgt_platform_unlock(v->lock);
	v->alloc.free(v->alloc.ctx, c, sizeof(*c));
}

/* Up to S_CACHE_BATCH blocks of order @k under @lim_g from the allocator; 0 if at least one. */
static int s_cache_refill(struct sgt_iova_cache *c, unsigned int k, uint64_t lim_g)
{
	struct sgt_iova *v = c->v;
	struct s_block *b;
	int err = 0;

	sgt_platform_lock(v->lock);
	while (c->count[k] < S_CACHE_BATCH && (b = s_take_block(v, k, lim_g, false, &err))) {
		c->first[k][c->count[k]++] = b->node.key;
		c->st.free_granules += s_size(k);
		v->reserve++;
		s_give_spare(v, b);
	}
	sgt_platform_unlock(v->lock);
	return c->count[k] ? 0 : err;
}

int sgt_iova_cache_alloc(struct sgt_iova_cache *c, uint64_t len, uint64_t limit, uint64_t *out_addr)
{
	uint64_t lim_g, g, granules;
	unsigned int k;
	int err;

	if (!c || !out_addr)
		return -SGT_EINVAL;
	err = s_alloc_args(c->v, len, limit, &granules, &k, &lim_g);
	if (err || k >= S_CACHE_ORDERS)
		return err ? err : sgt_iova_alloc(c->v, len, limit, out_addr);
	if (!c->count[k] && s_cache_refill(c, k, lim_g) == -SGT_ENOMEM)
		return -SGT_ENOMEM;
	/* The newest block, when it lies under the limit; otherwise the allocator's search. */
	if (!c->count[k] || !s_fits(c->first[k][c->count[k] - 1], k, lim_g))
		return sgt_iova_alloc(c->v, len, limit, out_addr);
	g = c->first[k][--c->count[k]];
	s_live_set(c->v, g, granules, NULL); /* small: no node */
	c->st.live_ranges++;
	c->st.live_granules += s_size(k);
	c->st.free_granules -= s_size(k);
	c->st.magazine_hits++;
	*out_addr = g << c->v->shift;
	return 0;
}

int sgt_iova_cache_release(struct sgt_iova_cache *c, uint64_t addr, uint64_t len)
{
	struct sgt_iova *v = c ? c->v : NULL;
	struct s_block *large;
	uint64_t granules;
	unsigned int k;

	if (!v || (addr & (s_size(v->shift) - 1)) || len == 0)
		return -SGT_EINVAL;
	granules = s_granules(v, len);
	k = s_order_for(granules);
	/* Quarantine is the allocator's, and large blocks are not cached. */
	if (k >= S_CACHE_ORDERS || v->q_len)
		return sgt_iova_release(v, addr, len);
	if (!s_live_take(v, addr >> v->shift, granules, &large))
		return -SGT_EINVAL;
	if (c->count[k] == S_CACHE_DEPTH) {
		sgt_platform_lock(v->lock);
		s_cache_flush(c, k, S_CACHE_BATCH);
		sgt_platform_unlock(v->lock);
	}
	c->first[k][c->count[k]++] = addr >> v->shift;
	c->st.live_ranges--;
	c->st.live_granules -= s_size(k);
	c->st.free_granules += s_size(k);
	return 0;
}

/* ---- construction: windows minus reserved ranges, cut into aligned blocks ---- */

/* Granules wholly inside [start, last]; false if there are none. */
static bool s_window_granules(unsigned int shift, const struct sgt_dma_window *w,
			      struct s_piece *out)
{
	uint64_t mask = s_size(shift) - 1;
	uint64_t first = (w->start >> shift) + ((w->start & mask) != 0);
	uint64_t last;

	if ((w->last & mask) == mask)
		last = w->last >> shift;
	else if ((w->last >> shift) == 0)
		return false;
	else
		last = (w->last >> shift) - 1;
	if (w->start > w->last || first > last)
		return false;
	out->first = first;
	out->last = last;
	return true;
}

/* Remove the granules a reserved range touches from every piece. */
static int s_subtract(struct sgt_iova *v, const struct sgt_dma_window *r)
{
	uint64_t rf = r->start >> v->shift, rl = r->last >> v->shift;
	uint32_t i, n = v->num_pieces;

	for (i = 0; i < n; i++) {
		struct s_piece *p = &v->pieces[i];

		if (p->first > p->last || rl < p->first || rf > p->last)
			continue;
		if (rf > p->first && rl < p->last) {
			if (v->num_pieces == S_MAX_PIECES)
				return -SGT_EINVAL;
			v->pieces[v->num_pieces++] = (struct s_piece){ rl + 1, p->last };
			p->last = rf - 1;
		} else if (rf <= p->first && rl >= p->last) {
			*p = (struct s_piece){ 1, 0 }; /* emptied */
		} else if (rf <= p->first) {
			p->first = rl + 1;
		} else {
			p->last = rf - 1;
		}
	}
	return 0;
}

static int s_add_piece_blocks(struct sgt_iova *v, const struct s_piece *p)
{
	uint64_t a = p->first;
	unsigned int k;
	int err;

	while (p->first <= p->last && a <= p->last) {
		for (k = S_ORDERS - 1; k > 0; k--) {
			if ((a & (s_size(k) - 1)) == 0 && s_size(k) - 1 <= p->last - a)
				break;
		}
		err = s_top_up(v);
		if (err)
			return err;
		s_tree_insert(v, s_take_spare(v), a, k);
		v->st.free_granules += s_size(k);
		v->usable += s_size(k);
		if (a + (s_size(k) - 1) == UINT64_MAX)
			break;
		a += s_size(k);
	}
	return 0;
}

static bool s_overlap(const struct sgt_dma_window *a, const struct sgt_dma_window *b)
{
	return a->start <= b->last && b->start <= a->last;
}

static int s_params_check(const struct sgt_iova_params *p)
{
	uint32_t i, j;

	if (!p || !p->windows || p->num_windows == 0 || p->num_windows > SGT_DMA_MAX_WINDOWS)
		return -SGT_EINVAL;
	if (p->granule_shift < SGT_PAGE_SHIFT_MIN || p->granule_shift > SGT_PAGE_SHIFT_MAX)
		return -SGT_EINVAL;
	if (p->num_reserved > S_MAX_RESERVED || (p->num_reserved && !p->reserved))
		return -SGT_EINVAL;
	for (i = 0; i < p->num_windows; i++) {
		if (p->windows[i].start > p->windows[i].last)
			return -SGT_EINVAL;
		for (j = 0; j < i; j++) {
			if (s_overlap(&p->windows[i], &p->windows[j]))
				return -SGT_EINVAL;
		}
	}
	for (i = 0; i < p->num_reserved; i++) {
		if (p->reserved[i].start > p->reserved[i].last)
			return -SGT_EINVAL;
	}
	return 0;
}

static int s_build(struct sgt_iova *v, const struct sgt_iova_params *p)
{
	uint64_t max_g = 0, min_g = UINT64_MAX;
	uint32_t i;
	int err = 0;

	for (i = 0; i < p->num_windows; i++) {
		if (s_window_granules(v->shift, &p->windows[i], &v->pieces[v->num_pieces]))
			v->num_pieces++;
	}
	for (i = 0; i < p->num_reserved && !err; i++)
		err = s_subtract(v, &p->reserved[i]);
	for (i = 0; i < v->num_pieces; i++) {
		if (v->pieces[i].first > v->pieces[i].last)
			continue;
		max_g = v->pieces[i].last > max_g ? v->pieces[i].last : max_g;
		min_g = v->pieces[i].first < min_g ? v->pieces[i].first : min_g;
	}
	v->live_levels = s_levels_for(max_g);
	v->lo_g = min_g;
	v->hi_g = max_g;
	for (i = 0; i < v->num_pieces && !err; i++)
		err = s_add_piece_blocks(v, &v->pieces[i]);
	if (!err && v->usable == 0)
		err = -SGT_EINVAL;
	return err;
}

int sgt_iova_new(const struct sgt_iova_params *params, struct sgt_iova **out)
{
	const struct sgt_allocator *a;
	struct sgt_iova *v;
	int err = s_params_check(params);

	if (err || !out)
		return -SGT_EINVAL;
	a = params->alloc ? params->alloc : sgt_platform_allocator();
	if (!a || !a->alloc || !a->free)
		return -SGT_EINVAL;
	v = a->alloc(a->ctx, sizeof(*v), SGT_MAY_SLEEP);
	if (!v)
		return -SGT_ENOMEM;
	*v = (struct sgt_iova){ .alloc = *a,
				.shift = params->granule_shift,
				.mag_size = params->magazine_size,
				.q_len = params->quarantine_len,
				.lock = params->caller_locks ? NULL : sgt_platform_lock_new() };
	/* The platform's lock functions take NULL for "no lock". */
	err = v->lock || params->caller_locks ? s_build(v, params) : -SGT_ENOMEM;
	if (err) {
		sgt_iova_free(v);
		return err;
	}
	*out = v;
	return 0;
}

static void s_free_tree(struct sgt_iova *v, struct sgt__avl_node *n)
{
	if (!n)
		return;
	s_free_tree(v, n->left);
	s_free_tree(v, n->right);
	v->alloc.free(v->alloc.ctx, s_blk(n), sizeof(struct s_block));
}

static void s_free_list(struct sgt_iova *v, struct s_block *b)
{
	while (b) {
		struct s_block *next = b->next;

		v->alloc.free(v->alloc.ctx, b, sizeof(*b));
		b = next;
	}
}

void sgt_iova_free(struct sgt_iova *v)
{
	unsigned int k;

	if (!v)
		return;
	while (v->caches) {
		struct sgt_iova_cache *c = v->caches;

		v->caches = c->next;
		v->alloc.free(v->alloc.ctx, c, sizeof(*c));
	}
	for (k = 0; k < S_ORDERS; k++) {
		s_free_tree(v, v->free_tree[k]);
		s_free_list(v, v->mag[k]);
	}
	s_free_radix(v, v->live_root, v->live_levels);
	s_free_tree(v, v->large);
	s_free_list(v, v->q_head);
	s_free_list(v, v->spare);
	sgt_platform_lock_free(v->lock);
	v->alloc.free(v->alloc.ctx, v, sizeof(*v));
}

/* ---- the invariant check ---- */

/* Is every granule of the block inside the usable pieces (which are disjoint)? */
static bool s_in_usable(const struct sgt_iova *v, uint64_t first, unsigned order)
{
	uint64_t last = first + (s_size(order) - 1), covered = 0;
	uint32_t i;

	for (i = 0; i < v->num_pieces; i++) {
		const struct s_piece *p = &v->pieces[i];
		uint64_t lo = p->first > first ? p->first : first;
		uint64_t hi = p->last < last ? p->last : last;

		if (p->first <= p->last && lo <= hi)
			covered += hi - lo + 1;
	}
	return covered == s_size(order);
}

/* Does the block [first, first + 2^order) overlap any node of @root other than @self? */
static bool s_overlaps_tree(struct sgt__avl_node *root, const struct s_block *self, uint64_t first,
			    unsigned order)
{
	struct s_block *b = s_blk(sgt__avl_floor(root, first + (s_size(order) - 1)));

	if (b == self)
		b = s_blk(sgt__avl_floor(root, first ? first - 1 : 0));
	if (!b || b == self)
		return false;
	return b->node.key + (s_size(b->order) - 1) >= first;
}

/* Does the block [first, first + 2^order) overlap a live range? */
static bool s_overlaps_live(const struct sgt_iova *v, uint64_t first, unsigned int order)
{
	uint64_t g, granules;

	if (!s_live_floor(v, first + (s_size(order) - 1), &g, &granules))
		return false;
	return g + (s_size(s_order_for(granules)) - 1) >= first;
}

/*
 * A block's own checks; @self is its node (NULL for a live or cached block); @vs_live: whether to
 * look for a live range overlapping it too.
 */
static const char *s_check_range(const struct sgt_iova *v, uint64_t first, unsigned int order,
				 const struct s_block *self, bool vs_live)
{
	unsigned int k;

	if (first & (s_size(order) - 1))
		return "block not aligned to its size";
	if (!s_in_usable(v, first, order))
		return "block outside the windows or inside a reserved range";
	for (k = 0; k < S_ORDERS; k++) {
		if (s_overlaps_tree(v->free_tree[k], self, first, order))
			return "block overlaps a free block";
	}
	if (vs_live && s_overlaps_live(v, first, order))
		return "block overlaps a live range";
	return NULL;
}

static const char *s_check_block(const struct sgt_iova *v, const struct s_block *b)
{
	return s_check_range(v, b->node.key, b->order, b, true);
}

/*
 * A free tree's block: its live-range overlaps are found from the other side, where each live
 * range is checked against every tree (a floor query per tree block would scan the radix).
 */
static const char *s_check_tree_block(const struct sgt_iova *v, const struct s_block *b)
{
	return s_check_range(v, b->node.key, b->order, b, false);
}

struct s_walk {
	const struct sgt_iova *v;
	uint64_t granules;
	uint64_t live_ranges;
	uint64_t large_ranges;
	uint64_t next_live; /* the first granule after the last live range seen */
	const char *why;
};

static void s_check_subtree(struct s_walk *w, const struct sgt__avl_node *n, int order)
{
	const struct s_block *b;

	if (!n || w->why)
		return;
	b = s_blk((struct sgt__avl_node *)(uintptr_t)n);
	if (order >= 0 && b->order != (unsigned)order)
		w->why = "free block in the tree of another order";
	else if (!w->why)
		w->why = s_check_tree_block(w->v, b);
	w->granules += s_size(b->order);
	s_check_subtree(w, n->left, order);
	s_check_subtree(w, n->right, order);
}

/*
 * The live ranges in order: each checked, none overlapping the one before. Only the usable span
 * is walked (a window of a few granules has a 4096-mark leaf to itself).
 */
static void s_check_live(struct s_walk *w, uint64_t slot, unsigned int level, uint64_t base)
{
	const struct s_rnode *n = (const struct s_rnode *)(uintptr_t)slot;
	const struct s_rleaf *leaf = (const void *)n;
	unsigned int k, sh = level ? s_level_shift(level) : 0;
	uint64_t i, end = level ? S_RADIX_FAN : S_LEAF_SLOTS, granules;

	if (!n)
		return;
	i = w->v->lo_g > base ? (w->v->lo_g - base) >> sh : 0;
	if (w->v->hi_g >= base && ((w->v->hi_g - base) >> sh) + 1 < end)
		end = ((w->v->hi_g - base) >> sh) + 1;
	for (; i < end && !w->why; i++) {
		uint64_t g = base + (i << sh);

		if (level) {
			s_check_live(w, n->slot[i], level - 1, g);
			continue;
		}
		if ((i & 7) == 0 && i + 8 <= end) {
			uint64_t word;

			__builtin_memcpy(&word, &leaf->mark[i], sizeof(word));
			if (!word) {
				i += 7; /* eight empty marks */
				continue;
			}
		}
		if (!leaf->mark[i])
			continue;
		granules = s_mark_granules(w->v, g, leaf->mark[i]);
		k = s_order_for(granules);
		if (!granules)
			w->why = "a large live range without its record";
		else if (w->live_ranges && g < w->next_live)
			w->why = "live ranges overlap";
		else
			w->why = s_check_range(w->v, g, k, NULL, false); /* vs live: the walk */
		w->live_ranges++;
		w->large_ranges += leaf->mark[i] == S_MARK_LARGE;
		w->granules += s_size(k);
		w->next_live = g + s_size(k);
	}
}

static const char *s_check(const struct sgt_iova *v)
{
	struct s_walk w = { v, 0, 0, 0, 0, NULL };
	struct sgt_iova_stats st;
	uint64_t free_g, live_g, q = 0, cached = 0;
	const struct sgt_iova_cache *c;
	const struct s_block *b;
	unsigned int k, i;

	for (k = 0; k < S_ORDERS && !w.why; k++) {
		if (sgt__avl_check(v->free_tree[k]) < 0)
			w.why = "free tree unbalanced or out of order";
		s_check_subtree(&w, v->free_tree[k], (int)k);
		for (b = v->mag[k]; b && !w.why; b = b->next) {
			w.granules += s_size(b->order);
			w.why = s_check_block(v, b);
		}
	}
	for (c = v->caches; c && !w.why; c = c->next) {
		for (k = 0; k < S_CACHE_ORDERS && !w.why; k++) {
			for (i = 0; i < c->count[k] && !w.why; i++, cached++) {
				w.granules += s_size(k);
				w.why = s_check_range(v, c->first[k][i], k, NULL, true);
			}
		}
	}
	free_g = w.granules;
	s_check_live(&w, v->live_root, v->live_levels, 0);
	live_g = w.granules - free_g;
	for (b = v->q_head; b && !w.why; b = b->next, q++) {
		w.granules += s_size(b->order);
		w.why = s_check_block(v, b);
	}
	if (w.why)
		return w.why;
	st = v->st;
	for (c = v->caches; c; c = c->next)
		s_add_cache_counts(&st, c);
	if (free_g != st.free_granules || live_g != st.live_granules ||
	    w.live_ranges != st.live_ranges)
		return "granule counters disagree with the blocks";
	if (q != st.quarantined || w.granules != v->usable)
		return "blocks do not add up to the usable space";
	if (sgt__avl_check(v->large) != (long)w.large_ranges)
		return "large live ranges and their records disagree";
	if (v->reserve != w.live_ranges - w.large_ranges + cached || v->num_spare < v->reserve)
		return "fewer spare nodes than live ranges and cached blocks";
	return NULL;
}

int sgt_iova_check(const struct sgt_iova *v, const char **out_why)
{
	const char *why = "no allocator";

	if (v) {
		sgt_platform_lock(v->lock);
		why = s_check(v);
		sgt_platform_unlock(v->lock);
	}
	if (out_why)
		*out_why = why;
	return why ? -SGT_EINVAL : 0;
}
