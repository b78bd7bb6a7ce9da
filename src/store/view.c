/*
 * Views: node access for a request, either on the tree or through its
 * transaction's private copies.  The requests in ops.c are written once,
 * against these.
 */
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"
#include "view.h"

int view_get(struct store_ctx *ctx, const char *path, size_t len, struct store_nodeview *v)
{
    memset(v, 0, sizeof(*v));
    v->path = path;
    v->path_len = len;
    if (ctx->txn) {
        struct store_txnode *tn;
        int rc = store_txn_touch(ctx, path, len, &tn);

        if (rc)
            return rc;
        v->txnode = tn;
        v->exists = tn->exists;
        v->value = tn->value;
        v->value_len = tn->value_len;
        v->perms = tn->perms;
        v->nr_perms = tn->nr_perms;
        v->generation = tn->recorded_gen;
        v->nr_children = tn->nr_children;
        v->children_bytes = tn->children_len;
        return 0;
    }
    v->node = store_tree_lookup(ctx->s, path, len);
    if (v->node) {
        v->exists = true;
        v->value = v->node->value;
        v->value_len = v->node->value_len;
        v->perms = v->node->perms;
        v->nr_perms = v->node->nr_perms;
        v->generation = v->node->generation;
        v->nr_children = v->node->nr_children;
        v->children_bytes = v->node->children_bytes;
    }
    return 0;
}

unsigned view_perm(const struct store_ctx *ctx, const struct store_nodeview *v)
{
    return store_perm_for_conn(ctx, v->perms, v->nr_perms, v->generation);
}

const char *view_names(const struct store_nodeview *v)
{
    if (v->txnode)
        return v->txnode->children;
    return v->node ? store_node_names(v->node) : NULL;
}

void view_event(struct store_ctx *ctx, const char *path, size_t len, bool exact)
{
    if (ctx->txn)
        (void)store_txn_queue_event(ctx->txn, path, len, exact); /* failure fails the commit */
    else
        store_fire(ctx->s, path, len, exact);
}

void view_event_old(struct store_ctx *ctx, const char *path, size_t len,
                    const struct store_old_perms *old)
{
    /* A transaction's events fire at commit, on the state then. */
    if (ctx->txn)
        (void)store_txn_queue_event(ctx->txn, path, len, false);
    else
        store_fire_old(ctx->s, path, len, false, old);
}

int view_set_value(struct store_ctx *ctx, struct store_nodeview *v, const uint8_t *value,
                   uint32_t len)
{
    uint8_t *copy = NULL;

    if (!v->txnode)
        return store_node_set_value(ctx->s, v->node, value, len);
    if (len) {
        copy = malloc(len);
        if (!copy) {
            ctx->txn->failed = true;
            return -ENOMEM;
        }
        memcpy(copy, value, len);
    }
    free(v->txnode->value);
    v->txnode->value = copy;
    v->txnode->value_len = len;
    v->txnode->modified = true;
    return 0;
}

int view_set_perms(struct store_ctx *ctx, struct store_nodeview *v, const struct store_perm *perms,
                   uint16_t nr)
{
    struct store_perm *copy;

    if (!v->txnode)
        return store_node_set_perms(ctx->s, v->node, perms, nr);
    copy = malloc(nr * sizeof(*perms));
    if (!copy) {
        ctx->txn->failed = true;
        return -ENOMEM;
    }
    memcpy(copy, perms, nr * sizeof(*perms));
    if (v->txnode->perms[0].id != perms[0].id && v->txnode->perms[0].id == ctx->conn->domid)
        ctx->txn->owned_delta--;
    free(v->txnode->perms);
    v->txnode->perms = copy;
    v->txnode->nr_perms = nr;
    v->txnode->modified = true;
    return 0;
}

static int txnode_add_child(struct store_txn *t, struct store_txnode *parent, const char *name,
                            size_t len)
{
    uint32_t need = parent->children_len + (uint32_t)len + 1;

    if (need > parent->children_cap) {
        uint32_t cap = (uint32_t)max_u64(need, (uint64_t)parent->children_cap * 2);
        char *grown = realloc(parent->children, cap);
        if (!grown) {
            t->failed = true;
            return -ENOMEM;
        }
        parent->children = grown;
        parent->children_cap = cap;
    }
    memcpy(parent->children + parent->children_len, name, len);
    parent->children[parent->children_len + len] = '\0';
    parent->children_len = need;
    parent->nr_children++;
    return 0;
}

static void txnode_remove_child(struct store_txnode *parent, const char *name, size_t len)
{
    for (uint32_t off = 0; off < parent->children_len;) {
        size_t l = strlen(parent->children + off);

        if (l == len && !memcmp(parent->children + off, name, len)) {
            memmove(parent->children + off, parent->children + off + l + 1,
                    parent->children_len - off - l - 1);
            parent->children_len -= (uint32_t)l + 1;
            parent->nr_children--;
            return;
        }
        off += (uint32_t)l + 1;
    }
}

/* The last name in a transaction's child list. */
static const char *txnode_last_child(const struct store_txnode *tn, size_t *len)
{
    uint32_t start = tn->children_len - 1; /* at the last NUL */

    while (start > 0 && tn->children[start - 1] != '\0')
        start--;
    *len = tn->children_len - 1 - start;
    return tn->children + start;
}

int view_create(struct store_ctx *ctx, struct store_nodeview *parent, const char *path, size_t len,
                const struct store_perm *perms, uint16_t nr, struct store_nodeview *out)
{
    struct store_txnode *tn;
    size_t blen;
    const char *base = store_basename(path, len, &blen);
    int rc;

    if (!ctx->txn) {
        struct store_node *n;
        rc = store_tree_create(ctx->s, path, len, parent->node, perms, nr, &n);
        if (rc)
            return rc;
        return view_get(ctx, path, len, out);
    }
    rc = store_txn_touch(ctx, path, len, &tn);
    if (rc)
        return rc;
    free(tn->perms);
    tn->perms = malloc(nr * sizeof(*perms));
    if (!tn->perms || txnode_add_child(ctx->txn, parent->txnode, base, blen)) {
        ctx->txn->failed = true;
        return -ENOMEM;
    }
    memcpy(tn->perms, perms, nr * sizeof(*perms));
    tn->nr_perms = nr;
    tn->exists = true;
    tn->modified = true;
    tn->created_seq = ++ctx->txn->seq;
    if (perms[0].id == ctx->conn->domid)
        ctx->txn->owned_delta++;
    return view_get(ctx, path, len, out);
}

struct delete_walk {
    struct store_ctx *ctx;
    const char *root;
    size_t root_len;
    int rc;
};

static void fire_deleted(void *arg, struct store_node *n)
{
    struct delete_walk *w = arg;

    /* Descendants fire exact watches; the root fires for its subtree. */
    store_fire(w->ctx->s, n->path, n->path_len, n->path_len != w->root_len);
}

/* Removes a path from a transaction's view, depth first. */
/* Takes one node, whose children are gone, out of a transaction's view. */
static int txn_delete_one(struct store_ctx *ctx, struct store_txnode *tn, const char *path,
                          size_t len, bool root)
{
    struct store_txnode *parent;
    size_t blen;
    const char *base = store_basename(path, len, &blen);
    int rc;

    if (tn->exists && tn->perms && tn->perms[0].id == ctx->conn->domid)
        ctx->txn->owned_delta--;
    tn->exists = false;
    tn->was_deleted = true;
    tn->created_seq = 0;
    tn->modified = false;
    free(tn->value);
    tn->value = NULL;
    tn->value_len = 0;
    rc = store_txn_touch(ctx, path, store_parent_len(path, len), &parent);
    if (rc)
        return rc;
    txnode_remove_child(parent, base, blen);
    return store_txn_queue_event(ctx->txn, path, len, !root);
}

/*
 * Removes a path and its subtree from a transaction's view, children
 * first.  Without recursion (a tree may be thousands of levels deep):
 * descend to the last child until there is none, take that node out,
 * climb back to its parent, and so on until the root itself goes.
 */
static int txn_delete(struct store_ctx *ctx, const char *path, size_t len)
{
    char *cur = malloc(STORE_PATH_BUF);
    size_t clen = len;
    int rc = 0;

    if (!cur) {
        ctx->txn->failed = true;
        return -ENOMEM;
    }
    memcpy(cur, path, len);
    for (;;) {
        struct store_txnode *tn;

        rc = store_txn_touch(ctx, cur, clen, &tn);
        if (rc)
            break;
        if (tn->nr_children) {
            size_t nlen;
            const char *name = txnode_last_child(tn, &nlen);

            if (clen + 1 + nlen > STORE_PATH_BUF) {
                rc = -EINVAL;
                break;
            }
            if (clen > 1)
                cur[clen++] = '/';
            memcpy(cur + clen, name, nlen);
            clen += nlen;
            continue;
        }
        rc = txn_delete_one(ctx, tn, cur, clen, clen == len);
        if (rc || clen == len)
            break;
        clen = store_parent_len(cur, clen);
    }
    free(cur);
    return rc;
}

int view_delete(struct store_ctx *ctx, struct store_nodeview *v)
{
    struct delete_walk w = { ctx, v->path, v->path_len, 0 };

    if (ctx->txn)
        return txn_delete(ctx, v->path, v->path_len);
    store_tree_delete(ctx->s, v->node, fire_deleted, &w);
    return 0;
}
