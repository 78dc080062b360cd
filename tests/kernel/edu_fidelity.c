// SPDX-License-Identifier: MIT
/*
 * The kernel's half of the fidelity comparison: every case of fidelity_cases.c mapped through the
 * real DMA API in this VM's mode, its segment list printed for the host, which maps the same case
 * through the simulated IOMMU and compares (tests/kernel/fidelity_compare.cpp). The line:
 *   SGT-FID <case> ok <first dma address> <count> <len>:<offset from the first segment> ...
 *   SGT-FID <case> refused <error>
 */
#include <linux/kernel.h>
#include <linux/slab.h>

#include "edu_test.h"
#include "fidelity_cases.h"

#define S_LINE 1000

static int s_case(struct edu_test *t, const struct sgt_fid_case *c, char *line)
{
	struct edu_run runs[SGT_FID_MAX_RUNS];
	struct sgt_kernel_device kd;
	struct sgt_dma_iter it;
	struct sgt_table tbl;
	struct sgt_mapping m;
	u64 first = 0;
	u32 n = 0;
	unsigned int i;
	int len, err;

	for (i = 0; i < c->num_runs; i++)
		runs[i] = (struct edu_run){ c->runs[i].first_page, c->runs[i].offset,
					    c->runs[i].len };
	edu_constrain(t, c->max_segment, c->seg_boundary);
	err = edu_device(t, &kd);
	if (err)
		return err;
	err = edu_table(t, &tbl, runs, c->num_runs, c->max_segment);
	if (err)
		goto dev;
	err = sgt_table_map(&tbl, sgt_kernel_dev(&kd), (enum sgt_dma_dir)c->dir, 0, &m,
			    SGT_MAY_SLEEP);
	if (err) {
		pr_info("SGT-FID %u refused %d\n", c->id, err);
		sgt_table_cleanup(&tbl);
		err = 0;
		goto dev;
	}
	err = sgt_dma_info(&m.dma, &n);
	if (!err)
		err = sgt_dma_iter_init(&it, &m.dma);
	len = 0;
	while (!err && sgt_dma_iter_next(&it)) {
		if (!it.index)
			first = it.dma_addr;
		len += scnprintf(line + len, S_LINE - len, " 0x%x:0x%llx", it.dma_len,
				 it.dma_addr - first);
	}
	if (!err)
		pr_info("SGT-FID %u ok 0x%llx %u%s\n", c->id, first, n, line);
	sgt_mapping_cleanup(&m);
dev:
	edu_device_done(t, &kd);
	return err;
}

void edu_test_fidelity(struct edu_test *t)
{
	char *line = kmalloc(S_LINE, GFP_KERNEL);
	struct sgt_fid_case c;
	unsigned int id, failed = 0;
	int err;

	if (!line) {
		edu_check(t, false, "fidelity", "no memory");
		return;
	}
	for (id = 0; id < SGT_FID_NUM_CASES; id++) {
		sgt_fid_case_get(id, PAGE_SHIFT, &c);
		err = s_case(t, &c, line);
		if (err)
			failed++;
		edu_check(t, !err, "fidelity", "case %u: %d", id, err);
	}
	edu_constrain(t, t->orig_max_seg, t->orig_boundary);
	kfree(line);
	if (!failed)
		pr_info("SGT-TEST ok fidelity %u cases\n", SGT_FID_NUM_CASES);
}
