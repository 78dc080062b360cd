/* SPDX-License-Identifier: MIT */
#ifndef SGT_ERROR_H
#define SGT_ERROR_H

#include "sgt/types.h"

/**
 * DOC: Error codes
 *
 * Every fallible sgt function returns ``int``: 0 on success or a negative ``SGT_E*`` code. The
 * values are the platform's errno values (see below), so a kernel build passes them straight
 * through and a user-space caller can hand them to strerror(). Counts and
 * results go out through ``out_`` parameters, never through the return value, and there is no
 * thread-local error state.
 *
 * What each code means in sgt, so that callers and tests can tell the failure classes apart:
 *
 * - ``SGT_EINVAL``: a malformed argument: NULL where an object is needed, a zero where a positive
 *   value is needed, a page shift, order or ``max_segment`` out of range, a raw table that fails
 *   its invariant check, a handle that was never initialised.
 * - ``SGT_ERANGE``: a range that lies beyond what exists: a size larger than the pages provide, a
 *   split that runs past the end of the table, a length past the end in sgt_nents_for_len().
 * - ``SGT_EOVERFLOW``: a sum that does not fit its type (the 64-bit table length, a 64-bit offset
 *   plus length, a frame number past the memory domain's last frame).
 * - ``SGT_E2BIG``: more entries than a table can count (32-bit entry counts).
 * - ``SGT_ENOMEM``: an allocation failed; the operation was rolled back.
 * - ``SGT_ESTALE``: the handle was consumed by a state transition or dropped.
 * - ``SGT_EFAULT``: the memory domain could not give byte access to a page.
 * - ``SGT_EOPNOTSUPP``: the memory domain or backend lacks the operation (e.g. page allocation).
 */

/*
 * The numbers come from the platform where it has errno: <linux/errno.h> in a kernel, <errno.h> in
 * a hosted build (they differ between architectures: EOVERFLOW is 75 on x86 and 79 on MIPS). A
 * freestanding build has no errno; it uses the Linux asm-generic numbers.
 */
#if defined(__KERNEL__)
#include <linux/errno.h>
#define SGT__ERRNO_FROM_PLATFORM 1
#elif defined(__STDC_HOSTED__) && __STDC_HOSTED__
#include <errno.h>
#define SGT__ERRNO_FROM_PLATFORM 1
#endif

#ifdef SGT__ERRNO_FROM_PLATFORM
#define SGT_EIO EIO
#define SGT_E2BIG E2BIG
#define SGT_ENOMEM ENOMEM
#define SGT_EFAULT EFAULT
#define SGT_EBUSY EBUSY
#define SGT_EINVAL EINVAL
#define SGT_ENOSPC ENOSPC
#define SGT_ERANGE ERANGE
#define SGT_EOVERFLOW EOVERFLOW
#define SGT_EOPNOTSUPP EOPNOTSUPP
#define SGT_ESTALE ESTALE
#else
#define SGT_EIO 5
#define SGT_E2BIG 7
#define SGT_ENOMEM 12
#define SGT_EFAULT 14
#define SGT_EBUSY 16
#define SGT_EINVAL 22
#define SGT_ENOSPC 28
#define SGT_ERANGE 34
#define SGT_EOVERFLOW 75
#define SGT_EOPNOTSUPP 95
#define SGT_ESTALE 116
#endif

#if defined(__GNUC__) || defined(__clang__)
#define SGT_MUST_CHECK __attribute__((warn_unused_result))
#else
#define SGT_MUST_CHECK
#endif

#ifdef __cplusplus
extern "C" {
#endif

/**
 * sgt_strerror() - describe an sgt return code
 * @err: 0 or a negative ``SGT_E*`` code (a positive value is read as its negation)
 *
 * Context: any; no allocation.
 * Return: a static, NUL-terminated English description; "unknown error" for codes sgt never
 * returns. The string is owned by the library and must not be freed.
 */
SGT_API const char *sgt_strerror(int err);

/**
 * sgt_errname() - the symbolic name of an sgt return code
 * @err: 0 or a negative ``SGT_E*`` code
 *
 * Context: any; no allocation.
 * Return: "0", "-EINVAL", "-ENOMEM", ... as a static string; "-E?" for an unknown code.
 */
SGT_API const char *sgt_errname(int err);

#ifdef __cplusplus
}
#endif

#endif /* SGT_ERROR_H */
