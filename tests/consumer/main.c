// SPDX-License-Identifier: MIT
/* Builds a table over a real buffer with the platform defaults, copies through it, checks. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sgt/sgt.h>

/* A table defined without a call, as a driver would define a static one. */
static struct sgt_table s_table = SGT_TABLE_INIT(s_table);

int main(void)
{
	enum { LEN = 3 * 4096 + 123 };
	unsigned char *buf = calloc(1, LEN), out[LEN];
	uint64_t first = (uint64_t)(uintptr_t)buf >> 12, pfns[5];
	uint32_t off = (uint32_t)((uintptr_t)buf & 4095), num = 0;
	struct sgt_pages pages;
	struct sgt_table t;
	size_t n = 0;
	int err, i;

	for (i = 0; i < 5; i++)
		pfns[i] = first + (uint64_t)i;
	sgt_pages_from_array(&pages, pfns, 5);
	err = sgt_table_init_from_pages(&t, NULL, &pages, off, LEN, SGT_MAX_SEGMENT_UNLIMITED,
					SGT_MAY_SLEEP);
	if (err) {
		fprintf(stderr, "init: %s\n", sgt_strerror(err));
		return 1;
	}
	for (i = 0; i < LEN; i++)
		out[i] = (unsigned char)i;
	err = sgt_copy_from_buffer(&t.cpu, 0, out, LEN, &n);
	if (!err)
		err = sgt_cpu_info(&t.cpu, &num, NULL);
	sgt_table_cleanup(&t);
	if (err || n != LEN || num != 1 || memcmp(buf, out, LEN)) {
		fprintf(stderr, "consumer: wrong result (%s, %zu bytes, %u entries)\n",
			sgt_strerror(err), n, num);
		return 1;
	}
	free(buf);
	if (sgt_cpu_check(&s_table.cpu)) {
		fprintf(stderr, "consumer: SGT_TABLE_INIT did not make a live table\n");
		return 1;
	}
	sgt_table_cleanup(&s_table);
	printf("consumer: ok, %zu bytes through one entry\n", n);
	return 0;
}
