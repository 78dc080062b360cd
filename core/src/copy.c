// SPDX-License-Identifier: MIT
/* Copy and zero helpers (sg_pcopy_to_buffer, sg_pcopy_from_buffer, sg_zero_buffer). */
#include "internal.h"

enum s_xfer_op {
	S_TO_BUFFER,
	S_FROM_BUFFER,
	S_ZERO,
};

/* The caller's buffer, in whichever direction it goes. */
struct s_buf {
	char *dst;
	const char *src;
};

static void s_move(enum s_xfer_op op, void *page, const struct s_buf *b, size_t done, size_t n)
{
	switch (op) {
	case S_TO_BUFFER:
		__builtin_memcpy(b->dst + done, page, n);
		break;
	case S_FROM_BUFFER:
		__builtin_memcpy(page, b->src + done, n);
		break;
	case S_ZERO:
	default:
		__builtin_memset(page, 0, n);
		break;
	}
}

static int s_xfer(const struct sgt_cpu *t, uint64_t skip, struct s_buf buf, size_t len,
		  enum s_xfer_op op, size_t *out_done)
{
	struct sgt_miter m;
	size_t done = 0, n;
	int err;

	if (out_done)
		*out_done = 0;
	err = sgt__cpu_live(t);
	if (!err && !buf.dst && !buf.src && len && op != S_ZERO)
		err = -SGT_EINVAL;
	if (!err)
		err = sgt_miter_start(&m, t, skip);
	if (err)
		return err;
	while (done < len && sgt_miter_next(&m)) {
		n = SGT__MIN(m.len, len - done);
		s_move(op, m.addr, &buf, done, n);
		m.consumed = n;
		done += n;
	}
	err = sgt_miter_error(&m);
	sgt_miter_stop(&m);
	if (out_done)
		*out_done = done;
	return err;
}

int sgt_copy_to_buffer(const struct sgt_cpu *t, uint64_t skip, void *buf, size_t len,
		       size_t *out_copied)
{
	return s_xfer(t, skip, (struct s_buf){ .dst = buf }, len, S_TO_BUFFER, out_copied);
}

int sgt_copy_from_buffer(const struct sgt_cpu *t, uint64_t skip, const void *buf, size_t len,
			 size_t *out_copied)
{
	return s_xfer(t, skip, (struct s_buf){ .src = buf }, len, S_FROM_BUFFER, out_copied);
}

int sgt_zero(const struct sgt_cpu *t, uint64_t skip, size_t len, size_t *out_zeroed)
{
	return s_xfer(t, skip, (struct s_buf){ 0 }, len, S_ZERO, out_zeroed);
}
