// SPDX-License-Identifier: MIT
/*
 * A bounded printf subset for the debug layer's messages. The core is freestanding (no libc
 * snprintf, and a kernel's would not be reachable from user space), so it formats itself:
 * %s, %d, %u, %llu, %llx (with '#' for 0x), %p and %%. Output is always NUL-terminated and never
 * runs past @size, whatever the arguments.
 */
#include "internal.h"

struct s_out {
	char *buf;
	size_t size;
	size_t len;
};

static void s_put(struct s_out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len++] = c;
}

static void s_puts(struct s_out *o, const char *s)
{
	for (s = s ? s : "(null)"; *s; s++)
		s_put(o, *s);
}

/* v / 10 by shifts and adds: a 32-bit build has no 64-bit division without libgcc. */
static uint64_t s_div10(uint64_t v, unsigned int *out_rem)
{
	uint64_t q = (v >> 1) + (v >> 2), r;

	q += q >> 4;
	q += q >> 8;
	q += q >> 16;
	q += q >> 32;
	q >>= 3;
	r = v - q * 10;
	if (r > 9) {
		q++;
		r -= 10;
	}
	*out_rem = (unsigned int)r;
	return q;
}

static void s_putnum(struct s_out *o, uint64_t v, bool hex, bool prefix)
{
	char digits[24];
	unsigned int d;
	int n = 0;

	if (prefix)
		s_puts(o, "0x");
	do {
		if (hex) {
			d = (unsigned int)(v & 15);
			v >>= 4;
		} else {
			v = s_div10(v, &d);
		}
		digits[n++] = "0123456789abcdef"[d];
	} while (v);
	while (n)
		s_put(o, digits[--n]);
}

/* One conversion after the '%'; returns the first character after it. */
static const char *s_conv(struct s_out *o, const char *f, __builtin_va_list *ap)
{
	bool alt = *f == '#', ll;
	long long d;

	f += alt;
	ll = f[0] == 'l' && f[1] == 'l';
	f += ll ? 2 : 0;
	switch (*f) {
	case 's':
		s_puts(o, __builtin_va_arg(*ap, const char *));
		break;
	case 'd':
		d = ll ? __builtin_va_arg(*ap, long long) : __builtin_va_arg(*ap, int);
		if (d < 0)
			s_put(o, '-');
		s_putnum(o, d < 0 ? 0 - (uint64_t)d : (uint64_t)d, false, false);
		break;
	case 'u':
	case 'x':
		s_putnum(o,
			 ll ? __builtin_va_arg(*ap, unsigned long long)
			    : __builtin_va_arg(*ap, unsigned int),
			 *f == 'x', alt && *f == 'x');
		break;
	case 'p':
		s_putnum(o, (uintptr_t) __builtin_va_arg(*ap, const void *), true, true);
		break;
	case '%':
		s_put(o, '%');
		break;
	default: /* not supported: print it as it stands, consume nothing */
		s_put(o, '%');
		if (*f)
			s_put(o, *f);
		break;
	}
	return *f ? f + 1 : f;
}

size_t sgt__vformat(char *buf, size_t size, const char *fmt, __builtin_va_list ap)
{
	struct s_out o = { buf, size, 0 };
	__builtin_va_list aq;

	if (!buf || !size)
		return 0;
	__builtin_va_copy(aq, ap);
	while (*fmt) {
		if (*fmt != '%')
			s_put(&o, *fmt++);
		else
			fmt = s_conv(&o, fmt + 1, &aq);
	}
	__builtin_va_end(aq);
	buf[o.len] = '\0';
	return o.len;
}

size_t sgt__format(char *buf, size_t size, const char *fmt, ...)
{
	__builtin_va_list ap;
	size_t n;

	__builtin_va_start(ap, fmt);
	n = sgt__vformat(buf, size, fmt, ap);
	__builtin_va_end(ap);
	return n;
}
