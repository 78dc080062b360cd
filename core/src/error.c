// SPDX-License-Identifier: MIT
#include "internal.h"

struct s_errdesc {
	int code;
	const char *name;
	const char *text;
};

static const struct s_errdesc s_errors[] = {
	{ 0, "0", "success" },
	{ SGT_EIO, "-EIO", "input/output error" },
	{ SGT_E2BIG, "-E2BIG", "too many entries" },
	{ SGT_ENOMEM, "-ENOMEM", "out of memory" },
	{ SGT_EFAULT, "-EFAULT", "page not accessible" },
	{ SGT_EBUSY, "-EBUSY", "busy" },
	{ SGT_EINVAL, "-EINVAL", "invalid argument" },
	{ SGT_ENOSPC, "-ENOSPC", "no space left" },
	{ SGT_ERANGE, "-ERANGE", "range beyond what exists" },
	{ SGT_EOVERFLOW, "-EOVERFLOW", "value too large for its type" },
	{ SGT_EOPNOTSUPP, "-EOPNOTSUPP", "operation not supported" },
	{ SGT_ESTALE, "-ESTALE", "stale handle" },
};

static const struct s_errdesc *s_find(int err)
{
	size_t i;
	/* unsigned negation: -INT_MIN would overflow */
	unsigned int code = err < 0 ? 0u - (unsigned int)err : (unsigned int)err;

	for (i = 0; i < sizeof(s_errors) / sizeof(s_errors[0]); i++) {
		if ((unsigned int)s_errors[i].code == code)
			return &s_errors[i];
	}
	return NULL;
}

const char *sgt_strerror(int err)
{
	const struct s_errdesc *d = s_find(err);

	return d ? d->text : "unknown error";
}

const char *sgt_errname(int err)
{
	const struct s_errdesc *d = s_find(err);

	return d ? d->name : "-E?";
}
