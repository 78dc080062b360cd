/* SPDX-License-Identifier: MIT */
#ifndef SGT_AVL_H
#define SGT_AVL_H

/*
 * A small intrusive AVL tree keyed by uint64_t, for the backends' ordered maps (free IOVA blocks,
 * live mappings). Worst case O(log n) for every operation; no allocation (nodes are embedded in
 * the caller's structs). Keys are unique within a tree.
 */

#include <stddef.h>
#include <stdint.h>

struct sgt_avl_node {
	struct sgt_avl_node *left;
	struct sgt_avl_node *right;
	uint64_t key;
	int height;
};

#define sgt_avl_entry(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* Insert @n (with n->key set; the key must not be present); returns the new root. */
struct sgt_avl_node *sgt_avl_insert(struct sgt_avl_node *root, struct sgt_avl_node *n);
/* Remove the node with @key; returns the new root, the removed node in *@out (NULL if absent). */
struct sgt_avl_node *sgt_avl_remove(struct sgt_avl_node *root, uint64_t key,
				    struct sgt_avl_node **out);
struct sgt_avl_node *sgt_avl_find(struct sgt_avl_node *root, uint64_t key);
/* The node with the greatest key <= @key, or NULL. */
struct sgt_avl_node *sgt_avl_floor(struct sgt_avl_node *root, uint64_t key);
struct sgt_avl_node *sgt_avl_min(struct sgt_avl_node *root);
/* Checks ordering, heights and balance; returns the node count, or -1 if broken. */
long sgt_avl_check(const struct sgt_avl_node *root);

#endif /* SGT_AVL_H */
