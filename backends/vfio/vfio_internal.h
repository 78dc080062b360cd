/* SPDX-License-Identifier: MIT */
#ifndef SGT_VFIO_INTERNAL_H
#define SGT_VFIO_INTERNAL_H

#include <pthread.h>

#include "sgt/iova.h"
#include "sgt/vfio.h"

#define S_PATH 256
#define S_MSG 320

struct vfio_group {
	struct vfio_group *next;
	int fd;
	unsigned int id;
	uint32_t users;
};

struct vfio_region {
	struct vfio_region *next;
	uintptr_t addr;
	uint64_t len;
	uint64_t iova;
	uint64_t users; /* entries of live registered-mode mappings that lie in it */
};

struct sgt_vfio_container {
	struct sgt_vfio_sys sys;
	struct sgt_allocator alloc;
	char sysfs[S_PATH];
	char dev_dir[S_PATH];
	int fd;
	bool owns_fd;
	pthread_mutex_t lock; /* the IOVA allocator, the lists, the counters and the message */
	uint32_t type; /* the type sgt set; 0 when it did not set it */
	bool iommu_set; /* by sgt, or by the owner of an adopted container */
	struct sgt_dma_window *ranges;
	uint32_t num_ranges;
	uint64_t page_sizes;
	unsigned int page_shift;
	struct sgt_iova *iova;
	struct vfio_group *groups;
	struct vfio_region *regions;
	uint32_t num_devices;
	char msg[S_MSG];
};

struct sgt_vfio_device {
	struct sgt_vfio_container *c;
	struct vfio_group *g;
	int fd;
	struct sgt_device dev[2]; /* indexed by enum sgt_vfio_mode */
	uint64_t live; /* mappings made through it and not unmapped; under c->lock */
};

/* vfio_open.c */
void vfio_msg(struct sgt_vfio_container *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int vfio_ioctl(struct sgt_vfio_container *c, int fd, unsigned long req, void *arg);

/* vfio_map.c */
extern const struct sgt_dma_ops vfio_ops[2]; /* indexed by enum sgt_vfio_mode */
int vfio_map_errno(struct sgt_vfio_container *c, int err, uint64_t iova, uint64_t size);

#endif /* SGT_VFIO_INTERNAL_H */
