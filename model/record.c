// SPDX-License-Identifier: MIT
/* Operations as bytes (sgt_record.h): the decoder and encoder of fuzz inputs. */
#include "sgt_record.h"

const struct sgt_record_field sgt_record_fields[SGT_RECORD_NUM_FIELDS] = {
	{ 0, 1 },  { 1, 1 },  { 2, 1 },	 { 3, 1 },  { 4, 1 },  { 5, 1 },
	{ 6, 1 },  { 7, 1 },  { 8, 1 },	 { 9, 1 },  { 10, 1 }, { 11, 1 },
	{ 12, 2 }, { 14, 2 }, { 16, 2 }, { 18, 2 }, { 20, 2 },
};

static uint16_t s_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

size_t sgt_fuzz_decode(const uint8_t *data, size_t size, uint32_t *out_seed, struct sgt_op *ops,
		       size_t max_ops)
{
	size_t n = 0;

	*out_seed = 0;
	if (size >= 4) {
		*out_seed = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 |
			    (uint32_t)data[3] << 24;
		data += 4;
		size -= 4;
	}
	for (; size >= SGT_FUZZ_RECORD && n < max_ops;
	     data += SGT_FUZZ_RECORD, size -= SGT_FUZZ_RECORD, n++) {
		struct sgt_op *op = &ops[n];

		*op = (struct sgt_op){
			.kind = data[0],
			.slot = data[1],
			.slot2 = data[2],
			.dev = data[3],
			.dir = data[4],
			.variant = data[5],
			.layout = data[6],
			.chunk_cap = data[7],
			.first_page = data[8],
			.num_pages = data[9],
			.max_seg = data[10],
			.n = data[11],
			.offset = s_u16(data + 12),
			.seed = s_u16(data + 14),
			/* Top bit: whole pages, a state random sizes rarely reach. */
			.size = data[17] & 0x80 ? SGT_OP_WHOLE_PAGES : s_u16(data + 16),
			.skip = s_u16(data + 18),
			.len = s_u16(data + 20),
		};
	}
	return n;
}

static void s_put16(uint8_t *p, uint64_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

const uint32_t sgt_op_max_segs[SGT_OP_NUM_MAX_SEGS] = { 0, 511, 512, 1024, 1536, 2048, UINT32_MAX };

/* The byte that decodes back to @max_seg, which the harness keeps only for its own values. */
static uint8_t s_max_seg_byte(uint32_t max_seg)
{
	uint8_t i;

	for (i = 0; i < SGT_OP_NUM_MAX_SEGS; i++) {
		if (sgt_op_max_segs[i] == max_seg)
			return i;
	}
	return (uint8_t)max_seg;
}

void sgt_fuzz_encode(const struct sgt_op *op, uint8_t *out)
{
	out[0] = op->kind;
	out[1] = op->slot;
	out[2] = op->slot2;
	out[3] = op->dev;
	out[4] = op->dir;
	out[5] = op->variant;
	out[6] = op->layout;
	out[7] = op->chunk_cap;
	out[8] = (uint8_t)op->first_page;
	out[9] = (uint8_t)op->num_pages;
	out[10] = s_max_seg_byte(op->max_seg);
	out[11] = (uint8_t)op->n;
	s_put16(out + 12, op->offset);
	s_put16(out + 14, op->seed);
	s_put16(out + 16, op->size == SGT_OP_WHOLE_PAGES ? 0x8000 : op->size & 0x7fff);
	s_put16(out + 18, op->skip);
	s_put16(out + 20, op->len);
}

void sgt_fuzz_encode_seed(uint32_t seed, uint8_t *out)
{
	out[0] = (uint8_t)seed;
	out[1] = (uint8_t)(seed >> 8);
	out[2] = (uint8_t)(seed >> 16);
	out[3] = (uint8_t)(seed >> 24);
}
