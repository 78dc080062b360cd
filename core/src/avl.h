/* SPDX-License-Identifier: MIT */
#ifndef SGT__AVL_H
#define SGT__AVL_H

/*
 * A small intrusive AVL tree keyed by uint64_t, for ordered maps (the DMA debug layer's live
 * mappings; the backends' free IOVA blocks). Worst case O(log n) for every operation; no allocation
 * (nodes are embedded in the caller's structs). Keys are unique within a tree.
 */

#include "sgt/types.h"

struct sgt__avl_node {
	struct sgt__avl_node *left;
	struct sgt__avl_node *right;
	uint64_t key;
	int height;
};

#define sgt__avl_entry(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* Insert @n (with n->key set; the key must not be present); returns the new root. */
struct sgt__avl_node *sgt__avl_insert(struct sgt__avl_node *root, struct sgt__avl_node *n);
/* Remove the node with @key; returns the new root, the removed node in *@out (NULL if absent). */
struct sgt__avl_node *sgt__avl_remove(struct sgt__avl_node *root, uint64_t key,
				      struct sgt__avl_node **out);
struct sgt__avl_node *sgt__avl_find(struct sgt__avl_node *root, uint64_t key);
/* The node with the greatest key <= @key, or NULL. */
struct sgt__avl_node *sgt__avl_floor(struct sgt__avl_node *root, uint64_t key);
struct sgt__avl_node *sgt__avl_min(struct sgt__avl_node *root);
/* Checks ordering, heights and balance; returns the node count, or -1 if broken. */
long sgt__avl_check(const struct sgt__avl_node *root);

#endif /* SGT__AVL_H */
