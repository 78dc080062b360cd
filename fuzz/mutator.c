// SPDX-License-Identifier: MIT
/* The record-level mutator (sgt_mutator.h). */
#include "sgt_mutator.h"

#include <stdbool.h>
#include <string.h>

#include "sgt_record.h"

#define S_SEED SGT_FUZZ_SEED_BYTES
#define S_REC SGT_FUZZ_RECORD

/* splitmix64: any state works, zero included. */
static uint64_t s_next(uint64_t *rng)
{
	uint64_t z = (*rng += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static size_t s_below(uint64_t *rng, size_t n)
{
	return n ? (size_t)(s_next(rng) % n) : 0;
}

/* How many records an input of @max_size bytes may hold. */
static size_t s_cap(size_t max_size)
{
	size_t cap = (max_size - S_SEED) / S_REC;

	return cap < SGT_FUZZ_MAX_OPS ? cap : SGT_FUZZ_MAX_OPS;
}

static size_t s_records(size_t size)
{
	return size < S_SEED ? 0 : (size - S_SEED) / S_REC;
}

static uint8_t *s_rec(uint8_t *data, size_t i)
{
	return data + S_SEED + i * S_REC;
}

/* Opens a gap at @at and copies @rec into it; the caller checks there is room. */
static size_t s_insert(uint8_t *data, size_t n, size_t at, const uint8_t *rec)
{
	uint8_t tmp[S_REC];

	memcpy(tmp, rec, S_REC); /* @rec may point into @data */
	memmove(s_rec(data, at + 1), s_rec(data, at), (n - at) * S_REC);
	memcpy(s_rec(data, at), tmp, S_REC);
	return n + 1;
}

static size_t s_delete(uint8_t *data, size_t n, size_t at)
{
	memmove(s_rec(data, at), s_rec(data, at + 1), (n - at - 1) * S_REC);
	return n - 1;
}

static void s_random_record(uint64_t *rng, uint8_t *rec)
{
	size_t i;

	for (i = 0; i < S_REC; i++)
		rec[i] = (uint8_t)s_next(rng);
	rec[sgt_record_fields[SGT_RECORD_KIND_FIELD].at] = (uint8_t)s_below(rng, SGT_OP_NUM_KINDS);
}

/* One field: a random value, a nudge of a few, or a boundary value. */
static void s_mutate_field(uint64_t *rng, uint8_t *rec)
{
	size_t f = s_below(rng, SGT_RECORD_NUM_FIELDS);
	const struct sgt_record_field *fd = &sgt_record_fields[f];
	uint32_t v = fd->width == 1 ? rec[fd->at] : (uint32_t)(rec[fd->at] | rec[fd->at + 1] << 8);
	uint32_t max = fd->width == 1 ? 0xffu : 0xffffu;

	if (f == SGT_RECORD_KIND_FIELD) {
		v = (uint32_t)s_below(rng, SGT_OP_NUM_KINDS);
	} else {
		switch (s_below(rng, 4)) {
		case 0:
			v = (uint32_t)s_next(rng);
			break;
		case 1:
			v += 1 + (uint32_t)s_below(rng, 8);
			break;
		case 2:
			v -= 1 + (uint32_t)s_below(rng, 8);
			break;
		default: {
			static const uint32_t edges[] = { 0,	  1,	  0x7f,	 0x80,
							  0xff,	  0x100,  0x1ff, 0x200,
							  0x7fff, 0x8000, 0xffff };
			v = edges[s_below(rng, sizeof(edges) / sizeof(edges[0]))];
		}
		}
	}
	v &= max;
	rec[fd->at] = (uint8_t)v;
	if (fd->width == 2)
		rec[fd->at + 1] = (uint8_t)(v >> 8);
}

static void s_mutate_bytes(uint64_t *rng, uint8_t *rec, sgt_byte_mutator bytes)
{
	uint8_t tmp[S_REC * 2];
	size_t k;

	if (!bytes) {
		rec[s_below(rng, S_REC)] ^= (uint8_t)(1u << s_below(rng, 8));
		return;
	}
	memset(tmp, 0, sizeof(tmp));
	memcpy(tmp, rec, S_REC);
	k = bytes(tmp, S_REC, S_REC); /* may shrink: the rest stays zero */
	(void)k;
	memcpy(rec, tmp, S_REC);
}

/* Which mutation: growth while short, shrinking near the cap, only what the records allow. */
static enum sgt_mutation s_pick(uint64_t *rng, size_t n, size_t cap, size_t other_n)
{
	enum sgt_mutation m = (enum sgt_mutation)s_below(rng, SGT_MUT_NUM);
	bool grows = m == SGT_MUT_INSERT || m == SGT_MUT_DUPLICATE || m == SGT_MUT_SPLICE;

	if (n < 8 && n < cap && s_below(rng, 2))
		m = other_n && s_below(rng, 2) ? SGT_MUT_SPLICE : SGT_MUT_INSERT;
	else if (n > cap / 2 && grows && s_below(rng, 2))
		m = SGT_MUT_DELETE;
	if (m == SGT_MUT_SPLICE && !other_n)
		m = SGT_MUT_DUPLICATE;
	if (n >= cap && (m == SGT_MUT_INSERT || m == SGT_MUT_DUPLICATE || m == SGT_MUT_SPLICE))
		m = n ? SGT_MUT_DELETE : SGT_MUT_SEED;
	if (!n && m != SGT_MUT_INSERT && m != SGT_MUT_SPLICE && m != SGT_MUT_SEED)
		m = cap ? SGT_MUT_INSERT : SGT_MUT_SEED;
	if (n < 2 && (m == SGT_MUT_SWAP || m == SGT_MUT_MOVE))
		m = SGT_MUT_FIELD;
	return m;
}

static size_t s_splice(uint8_t *data, size_t n, size_t cap, uint64_t *rng, const uint8_t *other,
		       size_t other_n)
{
	size_t from = s_below(rng, other_n), at = s_below(rng, n + 1), len, i;

	len = other_n - from;
	if (len > cap - n)
		len = cap - n;
	len = 1 + s_below(rng, len < 8 ? len : 8);
	memmove(s_rec(data, at + len), s_rec(data, at), (n - at) * S_REC);
	for (i = 0; i < len; i++)
		memcpy(s_rec(data, at + i), other + S_SEED + (from + i) * S_REC, S_REC);
	return n + len;
}

static size_t s_apply(enum sgt_mutation m, uint8_t *data, size_t n, size_t cap, uint64_t *rng,
		      const uint8_t *other, size_t other_n, sgt_byte_mutator bytes)
{
	uint8_t rec[S_REC], tmp[S_REC];
	size_t a = s_below(rng, n), b = s_below(rng, n);

	switch (m) {
	case SGT_MUT_INSERT:
		s_random_record(rng, rec);
		return s_insert(data, n, s_below(rng, n + 1), rec);
	case SGT_MUT_DELETE:
		return s_delete(data, n, a);
	case SGT_MUT_DUPLICATE:
		return s_insert(data, n, s_below(rng, n + 1), s_rec(data, a));
	case SGT_MUT_SWAP:
		memcpy(tmp, s_rec(data, a), S_REC);
		memcpy(s_rec(data, a), s_rec(data, b), S_REC);
		memcpy(s_rec(data, b), tmp, S_REC);
		return n;
	case SGT_MUT_MOVE:
		memcpy(rec, s_rec(data, a), S_REC);
		n = s_delete(data, n, a);
		return s_insert(data, n, s_below(rng, n + 1), rec);
	case SGT_MUT_FIELD:
		s_mutate_field(rng, s_rec(data, a));
		return n;
	case SGT_MUT_SPLICE:
		return s_splice(data, n, cap, rng, other, other_n);
	case SGT_MUT_SEED:
		if (s_below(rng, 2))
			data[s_below(rng, S_SEED)] ^= (uint8_t)(1u << s_below(rng, 8));
		else
			sgt_fuzz_encode_seed((uint32_t)s_next(rng), data);
		return n;
	case SGT_MUT_BYTES:
	case SGT_MUT_NUM:
	default:
		s_mutate_bytes(rng, s_rec(data, a), bytes);
		return n;
	}
}

size_t sgt_mutate(uint8_t *data, size_t size, size_t max_size, uint64_t *rng, const uint8_t *other,
		  size_t other_size, sgt_byte_mutator bytes, enum sgt_mutation *out_kind)
{
	size_t cap, n, other_n = s_records(other ? other_size : 0), rounds, i;
	enum sgt_mutation m = SGT_MUT_SEED;

	if (max_size < S_SEED)
		return size < max_size ? size : max_size;
	if (size < S_SEED) {
		memset(data + size, 0, S_SEED - size);
		size = S_SEED;
	}
	cap = s_cap(max_size);
	n = s_records(size);
	if (n > cap)
		n = cap;
	rounds = 1 + s_below(rng, 3);
	for (i = 0; i < rounds; i++) {
		m = s_pick(rng, n, cap, other_n);
		n = s_apply(m, data, n, cap, rng, other, other_n, bytes);
	}
	if (out_kind)
		*out_kind = m;
	return S_SEED + n * S_REC;
}

size_t sgt_crossover(const uint8_t *a, size_t a_size, const uint8_t *b, size_t b_size, uint8_t *out,
		     size_t max_out, uint64_t *rng)
{
	size_t na = s_records(a_size), nb = s_records(b_size), cap, keep, from, take;

	if (max_out < S_SEED)
		return 0;
	cap = s_cap(max_out);
	memset(out, 0, S_SEED);
	memcpy(out, a, a_size < S_SEED ? a_size : S_SEED);
	keep = s_below(rng, (na < cap ? na : cap) + 1);
	memcpy(out + S_SEED, a + S_SEED, keep * S_REC);
	from = s_below(rng, nb + 1);
	take = nb - from < cap - keep ? nb - from : cap - keep;
	if (take)
		memcpy(out + S_SEED + keep * S_REC, b + S_SEED + from * S_REC, take * S_REC);
	return S_SEED + (keep + take) * S_REC;
}
