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

/*
 * No threads here: the lock is a no-op, and callers serialise the calls for one device. It still
 * hands out a non-NULL token, because NULL means "out of memory" to the debug layer.
 */
static char s_lock_token;

void *sgt_platform_lock_new(void)
{
	return &s_lock_token;
}

void sgt_platform_lock_free(void *lock)
{
	(void)lock;
}

void sgt_platform_lock(void *lock)
{
	(void)lock;
}

void sgt_platform_unlock(void *lock)
{
	(void)lock;
}

void sgt_platform_assert_fail(const char *expr, const char *file, int line)
{
	(void)expr;
	(void)file;
	(void)line;
	__builtin_trap();
}
