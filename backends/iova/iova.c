// SPDX-License-Identifier: MIT
/*
 * IOVA allocator: a buddy allocator whose free blocks sit in one AVL tree per order (keyed by the
 * first granule), with a per-order magazine of recently freed blocks and an optional quarantine.
 * See sgt/iova.h for the contract.
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

struct s_block {
	struct sgt__avl_node node; /* key: first granule */
	struct s_block *next; /* magazine, quarantine or spare list */
	uint64_t len; /* bytes asked for, while live */
	unsigned int order;
};

/* A usable interval of granules, inclusive. */
struct s_piece {
	uint64_t first, last;
};

struct sgt_iova {
	struct sgt_allocator alloc;
	unsigned int shift;
	struct sgt__avl_node *free_tree[S_ORDERS];
	struct sgt__avl_node *live;
	struct s_block *mag[S_ORDERS];
	uint32_t mag_count[S_ORDERS];
	uint32_t mag_size;
	struct s_block *q_head, *q_tail;
	uint32_t q_len;
	struct s_block *spare;
	uint32_t num_spare;
	uint32_t num_pieces;
	struct s_piece pieces[S_MAX_PIECES];
	uint64_t usable;
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
	while (v->num_spare < S_SPARES_MIN) {
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
	if (v->num_spare >= S_SPARES_MAX) {
		v->alloc.free(v->alloc.ctx, b, sizeof(*b));
		return;
	}
	b->next = v->spare;
	v->spare = b;
	v->num_spare++;
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

static bool s_fits(uint64_t first, unsigned order, uint64_t lim_g)
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
			v->st.magazine_hits++;
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
static bool s_limit_granule(const struct sgt_iova *v, uint64_t limit, uint64_t *out)
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

static unsigned int s_order_for(uint64_t granules)
{
	unsigned int k = 0;

	while (k + 1 < S_ORDERS && s_size(k) < granules)
		k++;
	return k;
}

int sgt_iova_alloc(struct sgt_iova *v, uint64_t len, uint64_t limit, uint64_t *out_addr)
{
	uint64_t granules, lim_g;
	struct s_block *b;
	unsigned int k;
	int err;

	if (!v || !out_addr || len == 0)
		return -SGT_EINVAL;
	granules = (len >> v->shift) + ((len & (s_size(v->shift) - 1)) != 0);
	k = s_order_for(granules);
	if (s_size(k) < granules || !s_limit_granule(v, limit, &lim_g))
		return -SGT_ENOSPC;
	err = s_top_up(v);
	if (err)
		return err;
	b = s_from_magazine(v, k, lim_g);
	if (!b)
		b = s_from_trees(v, k, lim_g);
	if (!b && s_magazines_hold_blocks(v)) {
		s_flush_magazines(v);
		v->st.flushes++;
		b = s_from_trees(v, k, lim_g);
	}
	if (!b)
		return -SGT_ENOSPC;
	b->len = len;
	v->live = sgt__avl_insert(v->live, &b->node);
	v->st.live_ranges++;
	v->st.live_granules += s_size(k);
	v->st.free_granules -= s_size(k);
	*out_addr = b->node.key << v->shift;
	return 0;
}

int sgt_iova_release(struct sgt_iova *v, uint64_t addr, uint64_t len)
{
	struct sgt__avl_node *n;
	struct s_block *b;

	if (!v || (addr & (s_size(v->shift) - 1)))
		return -SGT_EINVAL;
	n = sgt__avl_find(v->live, addr >> v->shift);
	if (!n || s_blk(n)->len != len)
		return -SGT_EINVAL;
	v->live = sgt__avl_remove(v->live, n->key, &n);
	b = s_blk(n);
	v->st.live_ranges--;
	v->st.live_granules -= s_size(b->order);
	if (!v->q_len) {
		s_put_free(v, b);
		return 0;
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
	return 0;
}

bool sgt_iova_is_live(const struct sgt_iova *v, uint64_t addr)
{
	struct s_block *b;

	if (!v)
		return false;
	b = s_blk(sgt__avl_floor(v->live, addr >> v->shift));

	return b && (addr >> v->shift) - b->node.key < s_size(b->order);
}

void sgt_iova_get_stats(const struct sgt_iova *v, struct sgt_iova_stats *out)
{
	if (v && out)
		*out = v->st;
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
	uint32_t i;
	int err = 0;

	for (i = 0; i < p->num_windows; i++) {
		if (s_window_granules(v->shift, &p->windows[i], &v->pieces[v->num_pieces]))
			v->num_pieces++;
	}
	for (i = 0; i < p->num_reserved && !err; i++)
		err = s_subtract(v, &p->reserved[i]);
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
				.q_len = params->quarantine_len };
	err = s_build(v, params);
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
	for (k = 0; k < S_ORDERS; k++) {
		s_free_tree(v, v->free_tree[k]);
		s_free_list(v, v->mag[k]);
	}
	s_free_tree(v, v->live);
	s_free_list(v, v->q_head);
	s_free_list(v, v->spare);
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

static const char *s_check_block(const struct sgt_iova *v, const struct s_block *b)
{
	unsigned int k;

	if (b->node.key & (s_size(b->order) - 1))
		return "block not aligned to its size";
	if (!s_in_usable(v, b->node.key, b->order))
		return "block outside the windows or inside a reserved range";
	for (k = 0; k < S_ORDERS; k++) {
		if (s_overlaps_tree(v->free_tree[k], b, b->node.key, b->order))
			return "block overlaps a free block";
	}
	if (s_overlaps_tree(v->live, b, b->node.key, b->order))
		return "block overlaps a live range";
	return NULL;
}

struct s_walk {
	const struct sgt_iova *v;
	uint64_t granules;
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
		w->why = s_check_block(w->v, b);
	w->granules += s_size(b->order);
	s_check_subtree(w, n->left, order);
	s_check_subtree(w, n->right, order);
}

int sgt_iova_check(const struct sgt_iova *v, const char **out_why)
{
	struct s_walk w = { v, 0, NULL };
	uint64_t free_g = 0, live_g, q = 0;
	const struct s_block *b;
	unsigned int k;

	if (!v) {
		if (out_why)
			*out_why = "no allocator";
		return -SGT_EINVAL;
	}
	for (k = 0; k < S_ORDERS && !w.why; k++) {
		if (sgt__avl_check(v->free_tree[k]) < 0)
			w.why = "free tree unbalanced or out of order";
		s_check_subtree(&w, v->free_tree[k], (int)k);
		for (b = v->mag[k]; b && !w.why; b = b->next) {
			w.granules += s_size(b->order);
			w.why = s_check_block(v, b);
		}
	}
	free_g = w.granules;
	if (!w.why && sgt__avl_check(v->live) < 0)
		w.why = "live tree unbalanced or out of order";
	s_check_subtree(&w, v->live, -1);
	live_g = w.granules - free_g;
	for (b = v->q_head; b && !w.why; b = b->next, q++) {
		w.granules += s_size(b->order);
		w.why = s_check_block(v, b);
	}
	if (!w.why && (free_g != v->st.free_granules || live_g != v->st.live_granules))
		w.why = "granule counters disagree with the blocks";
	if (!w.why && (q != v->st.quarantined || w.granules != v->usable))
		w.why = "blocks do not add up to the usable space";
	if (out_why)
		*out_why = w.why;
	return w.why ? -SGT_EINVAL : 0;
}
