// SPDX-License-Identifier: MIT
/*
 * Reservations: how every table grows. All allocation happens in sgt__resv_init(); puts and the
 * commit cannot fail for lack of memory, which is what makes "on failure the table is unchanged"
 * hold for every constructor by construction rather than by per-caller unwinding.
 */
#include "internal.h"

/*
 * The first chunk of an owned table keeps its header in the handle (t->sgt__first), so that its
 * allocation is its entries and nothing more: Linux's one-entry table takes 32 bytes, and so
 * does sgt's. Every later chunk is one allocation, header and entries together.
 */
static struct sgt_chunk *s_chunk_alloc(struct sgt_table *t, bool first, uint32_t slots,
				       enum sgt_alloc_ctx actx)
{
	const struct sgt_allocator *a = &t->sgt__alloc;
	struct sgt_entry *ents;
	void *mem;

	if (!first) {
		mem = a->alloc(a->ctx, sgt_chunk_size(slots), actx);
		return mem ? sgt_chunk_init(mem, slots) : NULL;
	}
	ents = a->alloc(a->ctx, (size_t)slots * sizeof(*ents), actx);
	if (!ents)
		return NULL;
	t->sgt__first = (struct sgt_chunk){ .capacity = slots, .ents = ents };
	return &t->sgt__first;
}

void sgt__chunk_free(struct sgt_table *t, struct sgt_chunk *c)
{
	const struct sgt_allocator *a = &t->sgt__alloc;

	if (c == &t->sgt__first)
		a->free(a->ctx, c->ents, (size_t)c->capacity * sizeof(*c->ents));
	else
		a->free(a->ctx, c, sgt_chunk_size(c->capacity));
}

static void s_free_chain(struct sgt_table *t, struct sgt_chunk *c)
{
	while (c) {
		struct sgt_chunk *next = c->next;

		sgt__chunk_free(t, c);
		c = next;
	}
}

static int s_alloc_chain(struct sgt__resv *r, uint64_t need, uint32_t cap, bool expect_growth,
			 enum sgt_alloc_ctx actx)
{
	/*
	 * A table that grows by appends gets chunks as large as the table already is (at least what
	 * this call needs, at most a full chunk): geometric growth, so a small table does not pay
	 * for a full chunk and a large one pays one chunk header per full chunk.
	 */
	uint64_t grow = expect_growth ? r->t->sgt__own.num_cpu_ents : 0;

	while (need) {
		/* The first chunk of an empty table has its header in the handle: one slot more. */
		bool first = !r->t->sgt__own.head && !r->new_head;
		uint64_t room = (uint64_t)cap + first;
		uint32_t slots = (uint32_t)SGT__MIN(room, need > grow ? need : grow);
		struct sgt_chunk *c = s_chunk_alloc(r->t, first, slots, actx);

		if (!c) {
			s_free_chain(r->t, r->new_head);
			r->new_head = r->new_tail = NULL;
			return -SGT_ENOMEM;
		}
		if (r->new_tail)
			r->new_tail->next = c;
		else
			r->new_head = c;
		r->new_tail = c;
		need -= SGT__MIN((uint64_t)slots, need);
	}
	return 0;
}

int sgt__resv_init(struct sgt__resv *r, struct sgt_table *t, uint64_t num_new, bool expect_growth,
		   enum sgt_alloc_ctx actx)
{
	struct sgt_sg_table *sgt = &t->sgt__own;
	uint32_t tail_free = sgt__tail_room(sgt);
	int err;

	if (!sgt__actx_valid(actx))
		return -SGT_EINVAL;
	if (num_new > UINT32_MAX - (uint64_t)sgt->num_cpu_ents)
		return -SGT_E2BIG;
	*r = (struct sgt__resv){ .t = t, .num_new = num_new };
	err = s_alloc_chain(r, num_new - SGT__MIN((uint64_t)tail_free, num_new),
			    t->sgt__chunk_capacity, expect_growth, actx);
	if (err)
		return err;
	if (tail_free) {
		r->cur = sgt->tail;
		r->cur_idx = sgt->tail->num_ents;
	} else {
		r->cur = r->new_head;
	}
	return 0;
}

void sgt__resv_next_chunk(struct sgt__resv *r)
{
	r->cur = r->cur == r->t->sgt__own.tail ? r->new_head : r->cur->next;
	r->cur_idx = 0;
}

int sgt__resv_commit(struct sgt__resv *r, uint32_t merge_len)
{
	struct sgt_sg_table *sgt = &r->t->sgt__own;
	uint64_t left = r->num_new;
	struct sgt_chunk *c;
	uint32_t n;

	/* Fails closed where the platform's assertion returns (a kernel): nothing committed. */
	if (!SGT__CHECK(r->num_put == r->num_new) || !SGT__CHECK_VALID(sgt))
		return -SGT_EIO;
	if (merge_len)
		sgt->tail->ents[sgt->tail->num_ents - 1].len += merge_len;
	if (sgt->tail) {
		n = (uint32_t)SGT__MIN((uint64_t)sgt__tail_room(sgt), left);
		sgt->tail->num_ents += n;
		left -= n;
	}
	for (c = r->new_head; c; c = c->next) {
		c->num_ents = (uint32_t)SGT__MIN((uint64_t)c->capacity, left);
		left -= c->num_ents;
	}
	if (r->new_head) {
		if (sgt->tail)
			sgt->tail->next = r->new_head;
		else
			sgt->head = r->new_head;
		sgt->tail = r->new_tail;
	}
	sgt->num_cpu_ents += (uint32_t)r->num_new;
	sgt->total_len += r->added_len + merge_len;
	*r = (struct sgt__resv){ 0 };
	/* Past the point of no return: a broken result can only be reported. */
	(void)SGT__CHECK_VALID(sgt);
	return 0;
}

void sgt__resv_abort(struct sgt__resv *r)
{
	s_free_chain(r->t, r->new_head);
	*r = (struct sgt__resv){ 0 };
}
