/*
 * Views: a node as the current request sees it (see view.c).
 */
#ifndef MEMVISOR_STORE_VIEW_H
#define MEMVISOR_STORE_VIEW_H

#include "store_internal.h"

struct store_nodeview {
    const char *path;
    size_t path_len;
    bool exists;
    const uint8_t *value;
    uint32_t value_len;
    const struct store_perm *perms;
    uint16_t nr_perms;
    uint64_t generation;
    uint32_t nr_children;
    uint32_t children_bytes;
    struct store_node *node;     /* outside a transaction */
    struct store_txnode *txnode; /* inside one */
};

/* The node at a canonical path (touching it, in a transaction).  0, or
 * -ENOSPC/-ENOMEM from the transaction. */
int view_get(struct store_ctx *ctx, const char *path, size_t len, struct store_nodeview *v);
unsigned view_perm(const struct store_ctx *ctx, const struct store_nodeview *v);
/* The children's names, NUL-separated (children_bytes of them); NULL
 * when there are none, or no memory for the list. */
const char *view_names(const struct store_nodeview *v);
int view_set_value(struct store_ctx *ctx, struct store_nodeview *v, const uint8_t *value,
                   uint32_t len);
int view_set_perms(struct store_ctx *ctx, struct store_nodeview *v, const struct store_perm *perms,
                   uint16_t nr);
/* Creates a child of parent (which exists) with no value. */
int view_create(struct store_ctx *ctx, struct store_nodeview *parent, const char *path, size_t len,
                const struct store_perm *perms, uint16_t nr, struct store_nodeview *out);
/* Removes the node and its subtree, with their watch events. */
int view_delete(struct store_ctx *ctx, struct store_nodeview *v);
/* Fires (or, in a transaction, queues) the watches on a path. */
void view_event(struct store_ctx *ctx, const char *path, size_t len, bool exact);
/* The same after a change of permissions (old: what they were). */
void view_event_old(struct store_ctx *ctx, const char *path, size_t len,
                    const struct store_old_perms *old);

#endif
