// SPDX-License-Identifier: MIT
#include "avl.h"

static int s_height(const struct sgt__avl_node *n)
{
	return n ? n->height : 0;
}

static void s_update(struct sgt__avl_node *n)
{
	int l = s_height(n->left), r = s_height(n->right);

	n->height = 1 + (l > r ? l : r);
}

static struct sgt__avl_node *s_rotate_right(struct sgt__avl_node *n)
{
	struct sgt__avl_node *l = n->left;

	n->left = l->right;
	l->right = n;
	s_update(n);
	s_update(l);
	return l;
}

static struct sgt__avl_node *s_rotate_left(struct sgt__avl_node *n)
{
	struct sgt__avl_node *r = n->right;

	n->right = r->left;
	r->left = n;
	s_update(n);
	s_update(r);
	return r;
}

static struct sgt__avl_node *s_balance(struct sgt__avl_node *n)
{
	int bf;

	s_update(n);
	bf = s_height(n->left) - s_height(n->right);
	if (bf > 1) {
		if (s_height(n->left->left) < s_height(n->left->right))
			n->left = s_rotate_left(n->left);
		return s_rotate_right(n);
	}
	if (bf < -1) {
		if (s_height(n->right->right) < s_height(n->right->left))
			n->right = s_rotate_right(n->right);
		return s_rotate_left(n);
	}
	return n;
}

struct sgt__avl_node *sgt__avl_insert(struct sgt__avl_node *root, struct sgt__avl_node *n)
{
	if (!root) {
		n->left = n->right = NULL;
		n->height = 1;
		return n;
	}
	if (n->key < root->key)
		root->left = sgt__avl_insert(root->left, n);
	else
		root->right = sgt__avl_insert(root->right, n);
	return s_balance(root);
}

static struct sgt__avl_node *s_remove_min(struct sgt__avl_node *root, struct sgt__avl_node **out)
{
	if (!root->left) {
		*out = root;
		return root->right;
	}
	root->left = s_remove_min(root->left, out);
	return s_balance(root);
}

struct sgt__avl_node *sgt__avl_remove(struct sgt__avl_node *root, uint64_t key,
				      struct sgt__avl_node **out)
{
	struct sgt__avl_node *succ;

	if (!root) {
		*out = NULL;
		return NULL;
	}
	if (key < root->key) {
		root->left = sgt__avl_remove(root->left, key, out);
	} else if (key > root->key) {
		root->right = sgt__avl_remove(root->right, key, out);
	} else {
		*out = root;
		if (!root->right)
			return root->left;
		root->right = s_remove_min(root->right, &succ);
		succ->left = root->left;
		succ->right = root->right;
		root = succ;
	}
	return s_balance(root);
}

struct sgt__avl_node *sgt__avl_find(struct sgt__avl_node *root, uint64_t key)
{
	while (root && root->key != key)
		root = key < root->key ? root->left : root->right;
	return root;
}

struct sgt__avl_node *sgt__avl_floor(struct sgt__avl_node *root, uint64_t key)
{
	struct sgt__avl_node *best = NULL;

	while (root) {
		if (root->key == key)
			return root;
		if (root->key < key) {
			best = root;
			root = root->right;
		} else {
			root = root->left;
		}
	}
	return best;
}

struct sgt__avl_node *sgt__avl_min(struct sgt__avl_node *root)
{
	while (root && root->left)
		root = root->left;
	return root;
}

static long s_check(const struct sgt__avl_node *n, const uint64_t *lo, const uint64_t *hi)
{
	long l, r;
	int bf;

	if (!n)
		return 0;
	if ((lo && n->key <= *lo) || (hi && n->key >= *hi))
		return -1;
	l = s_check(n->left, lo, &n->key);
	r = s_check(n->right, &n->key, hi);
	bf = s_height(n->left) - s_height(n->right);
	if (l < 0 || r < 0 || bf > 1 || bf < -1)
		return -1;
	if (n->height !=
	    1 + (s_height(n->left) > s_height(n->right) ? s_height(n->left) : s_height(n->right)))
		return -1;
	return l + r + 1;
}

long sgt__avl_check(const struct sgt__avl_node *root)
{
	return s_check(root, NULL, NULL);
}
