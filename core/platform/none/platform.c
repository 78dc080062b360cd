// SPDX-License-Identifier: MIT
/*
 * The freestanding platform: no allocator and no memory domain by default (callers pass their
 * own in &struct sgt_table_params), and a failed debug assertion traps.
 */
#include "sgt/platform.h"

const struct sgt_allocator *sgt_platform_allocator(void)
{
	return NULL;
}

const struct sgt_memory *sgt_platform_memory(void)
{
	return NULL;
}

void sgt_platform_assert_fail(const char *expr, const char *file, int line)
{
	(void)expr;
	(void)file;
	(void)line;
	__builtin_trap();
}
