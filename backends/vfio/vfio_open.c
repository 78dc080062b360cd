// SPDX-License-Identifier: MIT
/*
 * Containers, groups and devices: every step of opening a VFIO device, each failure undone and
 * explained (the cause and the fix), and the IOMMU's capabilities turned into the IOVA
 * allocator's windows. Every system call goes through the container's &struct sgt_vfio_sys.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sgt/platform.h"
#include "vfio_internal.h"

/* ---- the real system calls ---- */

static int s_open(void *ctx, const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);

	(void)ctx;
	return fd < 0 ? -errno : fd;
}

static int s_close(void *ctx, int fd)
{
	(void)ctx;
	return close(fd) ? -errno : 0;
}

static int s_ioctl(void *ctx, int fd, unsigned long req, void *arg)
{
	int r = ioctl(fd, req, arg);

	(void)ctx;
	return r < 0 ? -errno : r;
}

static ssize_t s_readlink(void *ctx, const char *path, char *buf, size_t len)
{
	ssize_t r = readlink(path, buf, len);

	(void)ctx;
	return r < 0 ? -errno : r;
}

static ssize_t s_pread(void *ctx, int fd, void *buf, size_t len, off_t off)
{
	ssize_t r = pread(fd, buf, len, off);

	(void)ctx;
	return r < 0 ? -errno : r;
}

static ssize_t s_pwrite(void *ctx, int fd, const void *buf, size_t len, off_t off)
{
	ssize_t r = pwrite(fd, buf, len, off);

	(void)ctx;
	return r < 0 ? -errno : r;
}

static int s_mmap(void *ctx, int fd, size_t len, off_t off, void **out)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);

	(void)ctx;
	if (p == MAP_FAILED)
		return -errno;
	*out = p;
	return 0;
}

static int s_munmap(void *ctx, void *addr, size_t len)
{
	(void)ctx;
	return munmap(addr, len) ? -errno : 0;
}

static const struct sgt_vfio_sys s_real = {
	.open = s_open,
	.close = s_close,
	.ioctl = s_ioctl,
	.readlink = s_readlink,
	.pread = s_pread,
	.pwrite = s_pwrite,
	.mmap = s_mmap,
	.munmap = s_munmap,
};

/* ---- messages ---- */

static _Thread_local char s_open_msg[S_MSG];

void vfio_msg(struct sgt_vfio_container *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c ? c->msg : s_open_msg, S_MSG, fmt, ap);
	va_end(ap);
}

const char *sgt_vfio_last_error(const struct sgt_vfio_container *c)
{
	return c ? c->msg : s_open_msg;
}

int vfio_ioctl(struct sgt_vfio_container *c, int fd, unsigned long req, void *arg)
{
	return c->sys.ioctl(c->sys.ctx, fd, req, arg);
}

/* ---- containers ---- */

static int s_container_new(const struct sgt_vfio_params *p, struct sgt_vfio_container **out)
{
	const struct sgt_allocator *a = p && p->alloc ? p->alloc : sgt_platform_allocator();
	struct sgt_vfio_container *c = a->alloc(a->ctx, sizeof(*c), SGT_MAY_SLEEP);

	if (!c) {
		vfio_msg(NULL, "out of memory");
		return -SGT_ENOMEM;
	}
	memset(c, 0, sizeof(*c));
	c->alloc = *a;
	c->sys = p && p->sys ? *p->sys : s_real;
	snprintf(c->sysfs, sizeof(c->sysfs), "%s",
		 p && p->sysfs ? p->sysfs : "/sys/bus/pci/devices");
	snprintf(c->dev_dir, sizeof(c->dev_dir), "%s", p && p->dev_dir ? p->dev_dir : "/dev/vfio");
	c->fd = -1;
	pthread_mutex_init(&c->lock, NULL);
	*out = c;
	return 0;
}

static void s_container_free(struct sgt_vfio_container *c)
{
	if (c->iova)
		sgt_iova_free(c->iova);
	if (c->ranges)
		c->alloc.free(c->alloc.ctx, c->ranges, c->num_ranges * sizeof(*c->ranges));
	if (c->owns_fd && c->fd >= 0)
		(void)c->sys.close(c->sys.ctx, c->fd);
	pthread_mutex_destroy(&c->lock);
	c->alloc.free(c->alloc.ctx, c, sizeof(*c));
}

/* The API version and a type1 driver: without them nothing else can work. */
static int s_container_check(struct sgt_vfio_container *c)
{
	int v = vfio_ioctl(c, c->fd, VFIO_GET_API_VERSION, NULL);

	if (v != VFIO_API_VERSION) {
		vfio_msg(NULL, "VFIO API version %d, sgt speaks %d: not a VFIO container", v,
			 VFIO_API_VERSION);
		return -SGT_EOPNOTSUPP;
	}
	if (vfio_ioctl(c, c->fd, VFIO_CHECK_EXTENSION, (void *)(uintptr_t)VFIO_TYPE1v2_IOMMU) <=
		    0 &&
	    vfio_ioctl(c, c->fd, VFIO_CHECK_EXTENSION, (void *)(uintptr_t)VFIO_TYPE1_IOMMU) <= 0) {
		vfio_msg(NULL,
			 "no type1 IOMMU driver in VFIO: load it (modprobe vfio_iommu_type1)");
		return -SGT_EOPNOTSUPP;
	}
	return 0;
}

static int s_read_info(struct sgt_vfio_container *c);

/*
 * Check a container just opened or adopted and take over its IOMMU if one is already set
 * (GET_INFO answers only then; VFIO does not say which type the owner chose). Frees @c on
 * failure.
 */
static int s_container_start(struct sgt_vfio_container *c, struct sgt_vfio_container **out)
{
	struct vfio_iommu_type1_info probe = { .argsz = sizeof(probe) };
	int err = s_container_check(c);

	if (!err && !vfio_ioctl(c, c->fd, VFIO_IOMMU_GET_INFO, &probe)) {
		c->iommu_set = true;
		err = s_read_info(c);
	}
	if (err) {
		s_container_free(c);
		return err;
	}
	*out = c;
	return 0;
}

int sgt_vfio_container_open(const struct sgt_vfio_params *params, struct sgt_vfio_container **out)
{
	struct sgt_vfio_container *c;
	char path[S_PATH + 8];
	int err;

	if (!out)
		return -SGT_EINVAL;
	err = s_container_new(params, &c);
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/vfio", c->dev_dir);
	c->fd = c->sys.open(c->sys.ctx, path, O_RDWR);
	if (c->fd < 0) {
		err = c->fd == -EACCES || c->fd == -EPERM ? -SGT_EFAULT : -SGT_EOPNOTSUPP;
		vfio_msg(
			NULL, "cannot open %s: %s", path,
			err == -SGT_EFAULT
				? "permission denied: run as root, or give your user the VFIO nodes"
				: "no VFIO in this kernel: load it (modprobe vfio-pci)");
		c->fd = -1;
		s_container_free(c);
		return err;
	}
	c->owns_fd = true;
	return s_container_start(c, out);
}

int sgt_vfio_container_adopt(const struct sgt_vfio_params *params, int fd,
			     struct sgt_vfio_container **out)
{
	struct sgt_vfio_container *c;
	int err;

	if (!out || fd < 0)
		return -SGT_EINVAL;
	err = s_container_new(params, &c);
	if (err)
		return err;
	c->fd = fd;
	return s_container_start(c, out);
}

int sgt_vfio_container_close(struct sgt_vfio_container *c)
{
	if (!c)
		return 0;
	if (c->num_devices || c->regions || c->groups)
		return -SGT_EBUSY;
	s_container_free(c);
	return 0;
}

/* ---- the IOMMU's capabilities ---- */

/* The lowest IOVA handed out: the first page stays unused. */
#define S_IOVA_MIN 0x1000u

static const struct vfio_info_cap_header *s_cap(const void *info, uint32_t argsz, uint32_t off)
{
	const struct vfio_info_cap_header *h;

	if (!off || off < sizeof(struct vfio_iommu_type1_info) || off > argsz - sizeof(*h))
		return NULL;
	h = (const struct vfio_info_cap_header *)((const char *)info + off);
	return h;
}

/* Copy the IOVA ranges out of the capability chain; no fixed limit on their number. */
static int s_take_ranges(struct sgt_vfio_container *c,
			 const struct vfio_iommu_type1_info_cap_iova_range *r, uint32_t argsz,
			 uint32_t off)
{
	uint32_t i, n = r->nr_iovas;
	struct sgt_dma_window *w;

	if ((uint64_t)off + sizeof(*r) + (uint64_t)n * sizeof(r->iova_ranges[0]) > argsz || !n)
		return -SGT_EIO;
	w = c->alloc.alloc(c->alloc.ctx, n * sizeof(*w), SGT_MAY_SLEEP);
	if (!w)
		return -SGT_ENOMEM;
	for (i = 0; i < n; i++)
		w[i] = (struct sgt_dma_window){ r->iova_ranges[i].start, r->iova_ranges[i].end };
	/* Never IOVA 0: to many devices and drivers it means "no address" (iommu-dma skips it). */
	if (w[0].start == 0 && w[0].last >= S_IOVA_MIN) {
		w[0].start = S_IOVA_MIN;
	} else if (w[0].start == 0) {
		memmove(w, w + 1, (n - 1) * sizeof(*w));
		n--;
	}
	c->ranges = w;
	c->num_ranges = n;
	return n ? 0 : -SGT_EIO;
}

static int s_parse_info(struct sgt_vfio_container *c, const struct vfio_iommu_type1_info *info)
{
	const struct vfio_info_cap_header *h;
	uint32_t off = info->flags & VFIO_IOMMU_INFO_CAPS ? info->cap_offset : 0, hops = 0;
	int err = 0;

	c->page_sizes = info->iova_pgsizes;
	for (h = s_cap(info, info->argsz, off); h && !err && hops < 64;
	     off = h->next, h = s_cap(info, info->argsz, off), hops++) {
		if (h->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE && !c->ranges)
			err = s_take_ranges(c, (const void *)h, info->argsz, off);
	}
	if (!err && !c->ranges) {
		/* An old kernel without the capability: all of the address space but page 0. */
		c->ranges = c->alloc.alloc(c->alloc.ctx, sizeof(*c->ranges), SGT_MAY_SLEEP);
		if (!c->ranges)
			return -SGT_ENOMEM;
		c->ranges[0] = (struct sgt_dma_window){ 0x1000, UINT64_MAX };
		c->num_ranges = 1;
	}
	return err;
}

/* GET_INFO twice: once for the size the capability chain needs, then for all of it. */
static int s_get_info(struct sgt_vfio_container *c, struct vfio_iommu_type1_info **out)
{
	struct vfio_iommu_type1_info probe = { .argsz = sizeof(probe) }, *info;
	int err = vfio_ioctl(c, c->fd, VFIO_IOMMU_GET_INFO, &probe);
	uint32_t size = probe.argsz > sizeof(probe) ? probe.argsz : sizeof(probe);

	if (err) {
		vfio_msg(c, "VFIO_IOMMU_GET_INFO failed (%s)", strerror(-err));
		return -SGT_EIO;
	}
	if (size > 1u << 20)
		return -SGT_EIO;
	info = c->alloc.alloc(c->alloc.ctx, size, SGT_MAY_SLEEP);
	if (!info)
		return -SGT_ENOMEM;
	memset(info, 0, size);
	info->argsz = size;
	err = vfio_ioctl(c, c->fd, VFIO_IOMMU_GET_INFO, info);
	if (err || info->argsz > size) {
		c->alloc.free(c->alloc.ctx, info, size);
		vfio_msg(c, "VFIO_IOMMU_GET_INFO failed (%s)", err ? strerror(-err) : "grew");
		return -SGT_EIO;
	}
	info->argsz = size;
	*out = info;
	return 0;
}

static int s_read_info(struct sgt_vfio_container *c)
{
	struct vfio_iommu_type1_info *info;
	struct sgt_iova_params ip = { 0 };
	int err = s_get_info(c, &info);

	if (err)
		return err;
	err = s_parse_info(c, info);
	c->alloc.free(c->alloc.ctx, info, info->argsz);
	if (!err && !(c->page_sizes & 0xfffff000u)) {
		vfio_msg(c, "the IOMMU reports no page size sgt can use (0x%llx)",
			 (unsigned long long)c->page_sizes);
		err = -SGT_EOPNOTSUPP;
	}
	if (!err) {
		c->page_shift = (unsigned int)__builtin_ctzll(c->page_sizes & ~0xfffull);
		ip.granule_shift = c->page_shift;
		ip.windows = c->ranges;
		ip.num_windows = c->num_ranges;
		ip.alloc = &c->alloc;
		ip.caller_locks = true; /* every call is made under c->lock */
		err = sgt_iova_new(&ip, &c->iova);
	}
	if (err && c->ranges) {
		c->alloc.free(c->alloc.ctx, c->ranges, c->num_ranges * sizeof(*c->ranges));
		c->ranges = NULL;
		c->num_ranges = 0;
	}
	return err;
}

static uint32_t s_dma_avail(struct sgt_vfio_container *c)
{
	struct vfio_iommu_type1_info *info;
	const struct vfio_info_cap_header *h;
	uint32_t off, hops = 0, avail = UINT32_MAX;

	if (s_get_info(c, &info))
		return avail;
	off = info->flags & VFIO_IOMMU_INFO_CAPS ? info->cap_offset : 0;
	for (h = s_cap(info, info->argsz, off); h && hops < 64;
	     off = h->next, h = s_cap(info, info->argsz, off), hops++) {
		if (h->id == VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL &&
		    off + sizeof(struct vfio_iommu_type1_info_dma_avail) <= info->argsz)
			avail = ((const struct vfio_iommu_type1_info_dma_avail *)h)->avail;
	}
	c->alloc.free(c->alloc.ctx, info, info->argsz);
	return avail;
}

int sgt_vfio_get_info(struct sgt_vfio_container *c, struct sgt_vfio_info *out)
{
	if (!c || !out)
		return -SGT_EINVAL;
	pthread_mutex_lock(&c->lock);
	*out = (struct sgt_vfio_info){ .num_ranges = c->num_ranges,
				       .page_sizes = c->page_sizes,
				       .dma_avail = c->iommu_set ? s_dma_avail(c) : UINT32_MAX,
				       .type = c->type };
	pthread_mutex_unlock(&c->lock);
	return 0;
}

int sgt_vfio_range(const struct sgt_vfio_container *c, uint32_t index, struct sgt_dma_window *out)
{
	if (!c || !out || index >= c->num_ranges)
		return -SGT_EINVAL;
	*out = c->ranges[index];
	return 0;
}

/* ---- groups ---- */

static int s_group_id(struct sgt_vfio_container *c, const char *pci_addr, unsigned int *out)
{
	char path[S_PATH + 64], link[S_PATH];
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s/iommu_group", c->sysfs, pci_addr);
	n = c->sys.readlink(c->sys.ctx, path, link, sizeof(link) - 1);
	if (n < 0) {
		vfio_msg(NULL,
			 "%s has no IOMMU group (%s): the device does not exist, or the IOMMU is "
			 "off (boot with intel_iommu=on or amd_iommu=on)",
			 pci_addr, strerror((int)-n));
		return -SGT_EOPNOTSUPP;
	}
	link[n] = 0;
	base = strrchr(link, '/');
	base = base ? base + 1 : link;
	if (sscanf(base, "%u", out) != 1) {
		vfio_msg(NULL, "%s: cannot read its IOMMU group from %s", pci_addr, link);
		return -SGT_EOPNOTSUPP;
	}
	return 0;
}

/* Set the IOMMU on the first group: type1v2 when there is one, else type1. */
static int s_set_iommu(struct sgt_vfio_container *c)
{
	uint32_t type = VFIO_TYPE1v2_IOMMU;
	int err;

	if (vfio_ioctl(c, c->fd, VFIO_CHECK_EXTENSION, (void *)(uintptr_t)type) <= 0)
		type = VFIO_TYPE1_IOMMU;
	err = vfio_ioctl(c, c->fd, VFIO_SET_IOMMU, (void *)(uintptr_t)type);
	if (err) {
		vfio_msg(NULL,
			 err == -EPERM
				 ? "VFIO_SET_IOMMU: not permitted: the platform has no "
				   "interrupt remapping (enable it in the IOMMU, or load "
				   "vfio_iommu_type1 with allow_unsafe_interrupts=1 at your risk)"
				 : "VFIO_SET_IOMMU failed: %s",
			 strerror(-err));
		return -SGT_EOPNOTSUPP;
	}
	c->type = type;
	c->iommu_set = true;
	err = s_read_info(c);
	if (err) {
		vfio_msg(NULL, "%s", c->msg);
		c->type = 0;
		c->iommu_set = false;
	}
	return err;
}

static void s_group_put(struct sgt_vfio_container *c, struct vfio_group *g)
{
	struct vfio_group **pp;

	if (--g->users)
		return;
	for (pp = &c->groups; *pp != g; pp = &(*pp)->next)
		;
	*pp = g->next;
	(void)vfio_ioctl(c, g->fd, VFIO_GROUP_UNSET_CONTAINER, NULL);
	(void)c->sys.close(c->sys.ctx, g->fd);
	c->alloc.free(c->alloc.ctx, g, sizeof(*g));
}

static int s_group_attach(struct sgt_vfio_container *c, unsigned int id, struct vfio_group *g)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	char path[S_PATH + 16];
	int err;

	snprintf(path, sizeof(path), "%s/%u", c->dev_dir, id);
	g->fd = c->sys.open(c->sys.ctx, path, O_RDWR);
	if (g->fd < 0) {
		err = g->fd;
		vfio_msg(NULL, "cannot open %s: %s", path,
			 err == -EACCES || err == -EPERM ? "permission denied: run as root, or "
							   "chown the group node to your user"
			 : err == -EBUSY ? "busy: another process has the group open"
					 : "no such group: bind the device to vfio-pci first");
		return err == -EACCES || err == -EPERM ? -SGT_EFAULT
		       : err == -EBUSY		       ? -SGT_EBUSY
						       : -SGT_EOPNOTSUPP;
	}
	err = vfio_ioctl(c, g->fd, VFIO_GROUP_GET_STATUS, &st);
	if (!err && !(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		vfio_msg(NULL,
			 "IOMMU group %u is not viable: bind every device in "
			 "/sys/kernel/iommu_groups/%u/devices to vfio-pci (or unbind it)",
			 id, id);
		err = -SGT_EOPNOTSUPP;
	} else if (!err) {
		err = vfio_ioctl(c, g->fd, VFIO_GROUP_SET_CONTAINER, &c->fd);
		if (err) {
			vfio_msg(NULL, "VFIO_GROUP_SET_CONTAINER failed for group %u: %s", id,
				 strerror(-err));
			err = -SGT_EOPNOTSUPP;
		}
	} else {
		vfio_msg(NULL, "VFIO_GROUP_GET_STATUS failed for group %u: %s", id, strerror(-err));
		err = -SGT_EIO;
	}
	if (!err && !c->iommu_set) {
		err = s_set_iommu(c);
		if (err)
			(void)vfio_ioctl(c, g->fd, VFIO_GROUP_UNSET_CONTAINER, NULL);
	}
	if (err)
		(void)c->sys.close(c->sys.ctx, g->fd);
	return err;
}

static int s_group_get(struct sgt_vfio_container *c, unsigned int id, struct vfio_group **out)
{
	struct vfio_group *g;
	int err;

	for (g = c->groups; g; g = g->next) {
		if (g->id == id) {
			g->users++;
			*out = g;
			return 0;
		}
	}
	g = c->alloc.alloc(c->alloc.ctx, sizeof(*g), SGT_MAY_SLEEP);
	if (!g) {
		vfio_msg(NULL, "out of memory");
		return -SGT_ENOMEM;
	}
	err = s_group_attach(c, id, g);
	if (err) {
		c->alloc.free(c->alloc.ctx, g, sizeof(*g));
		return err;
	}
	*g = (struct vfio_group){ .next = c->groups, .fd = g->fd, .id = id, .users = 1 };
	c->groups = g;
	*out = g;
	return 0;
}

/* ---- devices ---- */

static int s_device_fd(struct sgt_vfio_container *c, struct vfio_group *g, const char *pci_addr)
{
	int fd = vfio_ioctl(c, g->fd, VFIO_GROUP_GET_DEVICE_FD, (void *)(uintptr_t)pci_addr);

	if (fd < 0)
		vfio_msg(NULL, "VFIO_GROUP_GET_DEVICE_FD(%s) failed: %s", pci_addr, strerror(-fd));
	return fd < 0 ? -SGT_EOPNOTSUPP : fd;
}

static int s_sgt_devices(struct sgt_vfio_device *d, const struct sgt_device_params *params)
{
	struct sgt_device_params p = { .dma_mask = UINT64_MAX };
	int i, err = 0;

	if (params)
		p = *params;
	for (i = 0; i < 2 && !err; i++)
		err = sgt_device_init(&d->dev[i], &vfio_ops[i], d, &p, NULL);
	if (err)
		vfio_msg(NULL, "the device's DMA constraints are not ones VFIO can honour (%d)",
			 err);
	return err;
}

int sgt_vfio_device_open(struct sgt_vfio_container *c, const char *pci_addr,
			 const struct sgt_device_params *params, struct sgt_vfio_device **out)
{
	struct sgt_vfio_device *d;
	struct vfio_group *g = NULL;
	unsigned int id;
	int err;

	if (!c || !pci_addr || !out)
		return -SGT_EINVAL;
	d = c->alloc.alloc(c->alloc.ctx, sizeof(*d), SGT_MAY_SLEEP);
	if (!d) {
		vfio_msg(NULL, "out of memory");
		return -SGT_ENOMEM;
	}
	memset(d, 0, sizeof(*d));
	d->c = c;
	d->fd = -1;
	pthread_mutex_lock(&c->lock);
	err = s_group_id(c, pci_addr, &id);
	if (!err)
		err = s_group_get(c, id, &g);
	if (!err) {
		d->fd = s_device_fd(c, g, pci_addr);
		err = d->fd < 0 ? d->fd : s_sgt_devices(d, params);
	}
	if (!err) {
		d->g = g;
		c->num_devices++;
	} else {
		if (d->fd >= 0)
			(void)c->sys.close(c->sys.ctx, d->fd);
		if (g)
			s_group_put(c, g);
	}
	pthread_mutex_unlock(&c->lock);
	if (err) {
		c->alloc.free(c->alloc.ctx, d, sizeof(*d));
		snprintf(c->msg, sizeof(c->msg), "%s", s_open_msg);
		return err;
	}
	*out = d;
	return 0;
}

uint64_t sgt_vfio_device_close(struct sgt_vfio_device *d)
{
	struct sgt_vfio_container *c;
	uint64_t live;

	if (!d)
		return 0;
	c = d->c;
	(void)sgt_device_cleanup(&d->dev[SGT_VFIO_PER_TABLE]);
	(void)sgt_device_cleanup(&d->dev[SGT_VFIO_REGISTERED]);
	pthread_mutex_lock(&c->lock);
	live = d->live;
	(void)c->sys.close(c->sys.ctx, d->fd);
	s_group_put(c, d->g);
	c->num_devices--;
	pthread_mutex_unlock(&c->lock);
	c->alloc.free(c->alloc.ctx, d, sizeof(*d));
	return live;
}

struct sgt_device *sgt_vfio_dev(struct sgt_vfio_device *d, enum sgt_vfio_mode mode)
{
	if (!d || (mode != SGT_VFIO_PER_TABLE && mode != SGT_VFIO_REGISTERED))
		return NULL;
	return &d->dev[mode];
}

int sgt_vfio_device_fd(const struct sgt_vfio_device *d)
{
	return d ? d->fd : -1;
}

int sgt_vfio_region_map(struct sgt_vfio_device *d, uint32_t index, void **out, size_t *out_len)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri), .index = index };
	struct sgt_vfio_container *c = d ? d->c : NULL;
	int err;

	if (!d || !out || !out_len)
		return -SGT_EINVAL;
	err = vfio_ioctl(c, d->fd, VFIO_DEVICE_GET_REGION_INFO, &ri);
	if (err || !(ri.flags & VFIO_REGION_INFO_FLAG_MMAP) || !ri.size)
		return -SGT_EINVAL;
	err = c->sys.mmap(c->sys.ctx, d->fd, ri.size, (off_t)ri.offset, out);
	if (err)
		return err == -ENOMEM ? -SGT_ENOMEM : -SGT_EINVAL;
	*out_len = ri.size;
	return 0;
}

void sgt_vfio_region_unmap(struct sgt_vfio_device *d, void *addr, size_t len)
{
	if (d && addr)
		(void)d->c->sys.munmap(d->c->sys.ctx, addr, len);
}

int sgt_vfio_enable_bus_master(struct sgt_vfio_device *d)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri), .index = VFIO_PCI_CONFIG_REGION_INDEX };
	struct sgt_vfio_container *c = d ? d->c : NULL;
	uint16_t cmd;

	if (!d)
		return -SGT_EINVAL;
	if (vfio_ioctl(c, d->fd, VFIO_DEVICE_GET_REGION_INFO, &ri))
		return -SGT_EIO;
	if (c->sys.pread(c->sys.ctx, d->fd, &cmd, 2, (off_t)(ri.offset + PCI_COMMAND)) != 2)
		return -SGT_EIO;
	cmd |= PCI_COMMAND_MASTER;
	if (c->sys.pwrite(c->sys.ctx, d->fd, &cmd, 2, (off_t)(ri.offset + PCI_COMMAND)) != 2)
		return -SGT_EIO;
	return 0;
}
