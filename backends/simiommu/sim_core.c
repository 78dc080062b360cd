// SPDX-License-Identifier: MIT
/*
 * The simulated IOMMU: construction and teardown, the ops table, faults,
 * fault injection, and the device's own reads and writes.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sgt/platform.h"
#include "sim_internal.h"

static const char *const s_fault_names[SGT_FAULT_NUM_KINDS] = {
	"access to unmapped address",
	"device write to a read-only (to-device) mapping",
	"device read from a write-only (from-device) mapping",
	"address above the device's DMA mask",
	"bounce copy-back: the CPU page is not reachable; its bytes were lost",
};

void sim_fault(struct sgt_simiommu *s, uint64_t addr, uint64_t len,
	       enum sgt_simiommu_fault_kind kind)
{
	if (s->num_faults < SIM_KEEP) {
		struct sgt_simiommu_fault *f = &s->faults[s->num_faults];

		f->addr = addr;
		f->len = len;
		f->kind = kind;
		snprintf(f->msg, sizeof(f->msg),
			 "%s: DMA fault at 0x%llx (access of %llu bytes): %s", s->dev.name,
			 (unsigned long long)addr, (unsigned long long)len, s_fault_names[kind]);
	}
	s->num_faults++;
}

static void s_aperture(struct sgt_simiommu *s, struct sgt_dma_caps *out)
{
	const struct sgt_dma_window msi = { 0xfee00000, 0xfeefffff };
	struct sgt_dma_window w = s->window;

	memset(out, 0, sizeof(*out));
	/* Every constraint: a table the device cannot take is refused, never mapped outside it. */
	out->guarantees = SGT_DMA_GUARANTEES_ALL;
	out->page_sizes = UINT64_C(1) << sim_shift(s);
	out->max_mappings = s->p.max_mappings;
	if (s->p.mode == SGT_SIMIOMMU_DIRECT) {
		out->windows[out->num_windows++] = (struct sgt_dma_window){ 0, s->mask };
		return;
	}
	if (s->p.mode == SGT_SIMIOMMU_IOMMU && s->p.reserve_msi && w.start <= msi.last &&
	    msi.start <= w.last) {
		if (w.start < msi.start)
			out->windows[out->num_windows++] =
				(struct sgt_dma_window){ w.start, msi.start - 1 };
		if (w.last > msi.last)
			out->windows[out->num_windows++] =
				(struct sgt_dma_window){ msi.last + 1, w.last };
		return;
	}
	out->windows[out->num_windows++] = w;
}

/* The windows a driver may use: the aperture's parts below the DMA mask. */
static int s_caps(struct sgt_device *dev, struct sgt_dma_caps *out)
{
	struct sgt_simiommu *s = sim_of(dev);
	uint32_t i, n = 0;

	s_aperture(s, out);
	for (i = 0; i < out->num_windows; i++) {
		struct sgt_dma_window w = out->windows[i];

		if (w.start > s->mask)
			continue;
		if (w.last > s->mask)
			w.last = s->mask;
		out->windows[n++] = w;
	}
	out->num_windows = n;
	return 0;
}

static const struct sgt_dma_ops s_ops = {
	.abi_version = SGT_DMA_OPS_ABI,
	.name = "simiommu",
	.map_sg = sim_map_sg,
	.unmap_sg = sim_unmap_sg,
	.sync_sg_for_cpu = sim_sync_for_cpu,
	.sync_sg_for_device = sim_sync_for_device,
	.caps = s_caps,
};

/*
 * The IOVA window (iommu: the aperture, clipped to the page table; the default one also to the
 * mask) or the bounce pool's window (under the mask).
 */
static int s_window(struct sgt_simiommu *s)
{
	uint64_t reach = (sim_pt_max_page() << sim_shift(s)) - 1;
	uint64_t top = s->mask < reach ? s->mask : reach;

	if (s->p.mode == SGT_SIMIOMMU_BOUNCE) {
		uint64_t len = s->p.bounce_pool ? s->p.bounce_pool : (UINT64_C(4) << 20);

		s->window = (struct sgt_dma_window){ SIM_BOUNCE_BASE, SIM_BOUNCE_BASE + len - 1 };
		return s->window.last <= top && len <= (UINT64_C(1) << 32) ? 0 : -SGT_EINVAL;
	}
	if (s->p.mode == SGT_SIMIOMMU_DIRECT) {
		/* No IOVA space: the window is all the device can address. */
		s->window = (struct sgt_dma_window){ 0, top };
		return 0;
	}
	/* An explicit aperture may pass the mask (allocations stay under it); the default may not.
	 */
	s->window = s->p.iova_window;
	if (s->window.start == 0 && s->window.last == 0)
		s->window = (struct sgt_dma_window){ UINT64_C(1) << 20, top };
	if (s->window.last > reach)
		s->window.last = reach;
	return s->window.start <= s->window.last ? 0 : -SGT_EINVAL;
}

static int s_make_space(struct sgt_simiommu *s)
{
	const struct sgt_dma_window msi = { 0xfee00000, 0xfeefffff };
	struct sgt_iova_params ip = {
		.granule_shift = sim_shift(s),
		.windows = &s->window,
		.num_windows = 1,
		.reserved = &msi,
		.num_reserved = s->p.mode == SGT_SIMIOMMU_IOMMU && s->p.reserve_msi,
		.quarantine_len = s->p.mode == SGT_SIMIOMMU_IOMMU ? s->p.quarantine_len : 0,
		.magazine_size = 8,
		.alloc = &s->alloc,
		.caller_locks = true, /* every call is made under s->lock */
	};
	uint64_t len = s->window.last - s->window.start + 1;
	int err;

	if (s->p.mode == SGT_SIMIOMMU_DIRECT)
		return 0;
	err = sgt_iova_new(&ip, &s->iova);
	if (err || s->p.mode != SGT_SIMIOMMU_BOUNCE)
		return err;
	s->pool = s->alloc.alloc(s->alloc.ctx, (size_t)len, SGT_MAY_SLEEP);
	if (!s->pool)
		return -SGT_ENOMEM;
	memset(s->pool, 0, (size_t)len);
	return 0;
}

static void s_destroy(struct sgt_simiommu *s)
{
	sgt_iova_free(s->iova);
	if (s->pool)
		s->alloc.free(s->alloc.ctx, s->pool,
			      (size_t)(s->window.last - s->window.start + 1));
	sim_pt_free(s);
	pthread_mutex_destroy(&s->lock);
	s->alloc.free(s->alloc.ctx, s, sizeof(*s));
}

int sgt_simiommu_new(const struct sgt_simiommu_params *params, struct sgt_simiommu **out)
{
	const struct sgt_allocator *a;
	struct sgt_simiommu *s;
	int err;

	/* The same rules as a table's domain: page shift in range, map_page present. */
	if (!params || !out || sgt_memory_check(params->mem) || params->mode > SGT_SIMIOMMU_BOUNCE)
		return -SGT_EINVAL;
	if (params->device.alignment & (params->device.alignment - 1))
		return -SGT_EINVAL;
	a = params->alloc ? params->alloc : sgt_platform_allocator();
	if (!a || !a->alloc || !a->free)
		return -SGT_EINVAL;
	s = a->alloc(a->ctx, sizeof(*s), SGT_MAY_SLEEP);
	if (!s)
		return -SGT_ENOMEM;
	memset(s, 0, sizeof(*s));
	s->p = *params;
	s->alloc = *a;
	s->mask = params->device.dma_mask ? params->device.dma_mask : UINT64_MAX;
	s->dev = (struct sgt_device){ .ops = &s_ops, .impl = s, .params = params->device };
	if (pthread_mutex_init(&s->lock, NULL)) {
		a->free(a->ctx, s, sizeof(*s));
		return -SGT_ENOMEM;
	}
	err = s_window(s);
	if (!err)
		err = s_make_space(s);
	if (!err)
		err = sgt_device_init(&s->dev, &s_ops, s, &params->device, "simiommu");
	if (err) {
		s_destroy(s);
		return err;
	}
	*out = s;
	return 0;
}

uint64_t sgt_simiommu_free(struct sgt_simiommu *s)
{
	uint64_t leaks = 0;

	if (!s)
		return 0;
	/* The core's debug layer names every live mapping first, while it is still there. */
	(void)sgt_device_cleanup(&s->dev);
	while (s->maps) {
		sim_release_map(s, s->maps);
		leaks++;
	}
	s_destroy(s);
	return leaks;
}

struct sgt_device *sgt_simiommu_device(struct sgt_simiommu *s)
{
	return s ? &s->dev : NULL;
}

void sgt_simiommu_set_inject(struct sgt_simiommu *s, const struct sgt_simiommu_inject *inj)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->inj = inj ? *inj : (struct sgt_simiommu_inject){ 0 };
	s->maps_since_inject = 0;
	s->rng = s->inj.seed * UINT64_C(0x9e3779b97f4a7c15) + 1;
	pthread_mutex_unlock(&s->lock);
}

/* The counters are read under the device lock: other threads may be mapping. */
static uint64_t s_locked_read(const struct sgt_simiommu *s, const uint64_t *field)
{
	struct sgt_simiommu *w = (struct sgt_simiommu *)(uintptr_t)s;
	uint64_t v;

	pthread_mutex_lock(&w->lock);
	v = *field;
	pthread_mutex_unlock(&w->lock);
	return v;
}

uint64_t sgt_simiommu_num_faults(const struct sgt_simiommu *s)
{
	return s ? s_locked_read(s, &s->num_faults) : 0;
}

int sgt_simiommu_fault_at(const struct sgt_simiommu *s, uint64_t index,
			  struct sgt_simiommu_fault *out)
{
	if (!s || !out)
		return -SGT_EINVAL;
	if (index >= sgt_simiommu_num_faults(s) || index >= SIM_KEEP)
		return -SGT_ERANGE;
	*out = s->faults[index];
	return 0;
}

void sgt_simiommu_clear_faults(struct sgt_simiommu *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->num_faults = 0;
	pthread_mutex_unlock(&s->lock);
}

uint64_t sgt_simiommu_live_mappings(const struct sgt_simiommu *s)
{
	return s ? s_locked_read(s, &s->live) : 0;
}

uint64_t sgt_simiommu_changes(const struct sgt_simiommu *s)
{
	return s ? s_locked_read(s, &s->changes) : 0;
}

/* ---- the device's own accesses ---- */

/* Check every page of [addr, addr + len) before moving a byte: a fault moves nothing. */
static int s_check_access(struct sgt_simiommu *s, uint64_t addr, uint64_t len, bool write)
{
	unsigned int shift = sim_shift(s);
	uint64_t last = addr + (len - 1), page;

	if (last < addr || last > s->mask) {
		sim_fault(s, addr, len, SGT_FAULT_ABOVE_MASK);
		return -SGT_EFAULT;
	}
	for (page = addr >> shift; page <= last >> shift; page++) {
		struct sim_pte *pte = sim_pt_lookup(s, page);
		uint64_t at = page == addr >> shift ? addr : page << shift;

		if (!pte || (!pte->readers && !pte->writers)) {
			sim_fault(s, at, len, SGT_FAULT_UNMAPPED);
			return -SGT_EFAULT;
		}
		if (write ? !pte->writers : !pte->readers) {
			sim_fault(s, at, len, write ? SGT_FAULT_READ_ONLY : SGT_FAULT_WRITE_ONLY);
			return -SGT_EFAULT;
		}
	}
	return 0;
}

/* Where the device's bytes at @addr live, for one page at most; NULL if the CPU page is gone. */
static uint8_t *s_target(struct sgt_simiommu *s, uint64_t addr, uint64_t *out_pfn)
{
	unsigned int shift = sim_shift(s);
	uint64_t off = addr & ((UINT64_C(1) << shift) - 1);
	uint8_t *page;

	if (s->p.mode == SGT_SIMIOMMU_BOUNCE) {
		*out_pfn = UINT64_MAX;
		return s->pool + (addr - s->window.start);
	}
	*out_pfn = sim_pt_lookup(s, addr >> shift)->pfn;
	page = s->p.mem->map_page(s->p.mem->ctx, *out_pfn);
	return page ? page + off : NULL;
}

static int s_access(struct sgt_simiommu *s, uint64_t addr, uint8_t *buf, size_t len, bool write)
{
	uint64_t ps, pfn;
	size_t done = 0, n;
	int err;

	if (!s || (!buf && len))
		return -SGT_EINVAL;
	ps = UINT64_C(1) << sim_shift(s);
	if (len == 0)
		return 0;
	pthread_mutex_lock(&s->lock);
	err = s_check_access(s, addr, len, write);
	while (!err && done < len) {
		uint64_t at = addr + done;
		uint8_t *p = s_target(s, at, &pfn);

		n = (size_t)(ps - (at & (ps - 1)));
		n = n < len - done ? n : len - done;
		if (!p) {
			sim_fault(s, at, len, SGT_FAULT_UNMAPPED);
			err = -SGT_EFAULT;
			break;
		}
		if (write)
			memcpy(p, buf + done, n);
		else
			memcpy(buf + done, p, n);
		if (pfn != UINT64_MAX && s->p.mem->unmap_page)
			s->p.mem->unmap_page(s->p.mem->ctx, pfn, p - (at & (ps - 1)));
		done += n;
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

int sgt_simiommu_dma_read(struct sgt_simiommu *s, uint64_t addr, void *buf, size_t len)
{
	return s_access(s, addr, buf, len, false);
}

int sgt_simiommu_dma_write(struct sgt_simiommu *s, uint64_t addr, const void *buf, size_t len)
{
	/* s_access only reads through buf when writing to the device's memory. */
	return s_access(s, addr, (uint8_t *)(uintptr_t)buf, len, true);
}

/* IOVA ranges the live mappings hold (one per mapping, or one per entry in bounce mode). */
static int s_count_maps(const struct sgt_simiommu *s, uint64_t *out_maps, uint64_t *out_ranges)
{
	const struct sim_map *m, *prev = NULL;

	*out_maps = *out_ranges = 0;
	for (m = s->maps; m; prev = m, m = m->next) {
		if (m->prev != prev || *out_maps > s->live)
			return -SGT_EINVAL; /* broken links, or a cycle */
		(*out_maps)++;
		*out_ranges += s->p.mode == SGT_SIMIOMMU_BOUNCE ? m->num_cpu_ents : 1;
	}
	return 0;
}

int sgt_simiommu_check(struct sgt_simiommu *s, const char **out_why)
{
	struct sgt_iova_stats st = { 0 };
	uint64_t maps, ranges;
	const char *why = NULL;

	if (!s) {
		if (out_why)
			*out_why = "no device";
		return -SGT_EINVAL;
	}
	pthread_mutex_lock(&s->lock);
	if (s_count_maps(s, &maps, &ranges))
		why = "mapping list broken";
	else if (maps != s->live)
		why = "live mapping count differs from the mapping list";
	else if (s->iova && sgt_iova_check(s->iova, &why) == 0) {
		sgt_iova_get_stats(s->iova, &st);
		if (st.live_ranges != ranges)
			why = "IOVA ranges in use differ from those of the live mappings";
	}
	pthread_mutex_unlock(&s->lock);
	if (out_why)
		*out_why = why;
	return why ? -SGT_EINVAL : 0;
}
