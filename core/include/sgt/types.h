/* SPDX-License-Identifier: MIT */
#ifndef SGT_TYPES_H
#define SGT_TYPES_H

/**
 * DOC: Types, limits and the export macro, from the platform
 *
 * Every public header takes its fixed-width types from here, so the same headers compile in user
 * space, freestanding, and in a Linux kernel build (Kbuild compiles with ``-nostdinc``, where
 * ``<stdint.h>`` does not exist and ``<linux/types.h>`` provides the same names).
 *
 * ``SGT_API`` marks the public functions: default visibility in the shared library (everything
 * else is hidden, so the ``sgt__`` internals are not exported). In a kernel the platform exports
 * the API with ``EXPORT_SYMBOL`` instead.
 */

#if defined(__KERNEL__)
#include <linux/limits.h>
#include <linux/stddef.h>
#include <linux/types.h>
#ifndef UINT64_C
#define UINT64_C(x) (x##ULL)
#endif
#ifndef UINT64_MAX
#define UINT64_MAX U64_MAX
#endif
#ifndef UINT32_MAX
#define UINT32_MAX U32_MAX
#endif
#ifndef UINTPTR_MAX
#define UINTPTR_MAX ULONG_MAX /* uintptr_t is unsigned long in the kernel */
#endif
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#endif

#if defined(__GNUC__) || defined(__clang__)
#define SGT_API __attribute__((visibility("default")))
#else
#define SGT_API
#endif

#endif /* SGT_TYPES_H */
