/*
 * Transactions (specs C6): snapshot isolation, optimistic, with
 * read-set validation.
 *
 * A transaction sees the store as it was when it started: the first time
 * it touches a path (reading it, finding it missing, or changing it) it
 * copies the node as it was then (from the tree if it has not changed
 * since, else from history.c) and records that version's generation;
 * from then on it sees only its copy.  At commit every recorded
 * generation must still be current (nothing it touched changed since it
 * started), or the commit fails with EAGAIN and nothing is applied.
 * (Xen 4.17 copies a node as it is at the first touch, so a node first
 * read late shows changes made after the start; here it does not, and
 * such a transaction fails to commit as it would have in Xen had it read
 * the node early.)  Otherwise the nodes it
 * removed are removed, the ones it created are created in the order it
 * created them (so children lists end up in its order), the ones it
 * changed are written, and the watch events it queued fire.
 */
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

#define TXN_HASH_BUCKETS 16

struct store_txn *store_txn_find(struct store_conn *c, uint32_t id)
{
    for (struct store_txn *t = c->txns; t; t = t->next)
        if (t->id == id)
            return t;
    return NULL;
}

int store_txn_start(struct store_ctx *ctx, uint32_t *id)
{
    struct store *s = ctx->s;
    struct store_conn *c = ctx->conn;
    struct store_domain *d = store_domain_get(s, c->domid, false);
    struct store_txn *t;

    /* Xen 4.17: more than the quota open at once is ENOSPC. */
    if (store_conn_quota(c) && d && d->nr_transactions >= s->cfg.quota.transactions)
        return -ENOSPC;
    t = calloc(1, sizeof(*t));
    if (!t || store_hash_init(&t->nodes, TXN_HASH_BUCKETS)) {
        free(t);
        return -ENOMEM;
    }
    /* Ids start at 1: 0 means "no transaction"; ids in use are skipped. */
    do {
        if (++c->next_txid == 0)
            c->next_txid = 1;
    } while (store_txn_find(c, c->next_txid));
    t->id = c->next_txid;
    t->conn = c;
    t->next = c->txns;
    c->txns = t;
    if (d)
        d->nr_transactions++;
    s->nr_txns++;
    t->start = ++s->generation;
    s->newest_start = t->start;
    *id = t->id;
    return 0;
}

static void txnode_free(struct store_txnode *n)
{
    free(n->children);
    free(n->value);
    free(n->perms);
    free(n->path);
    free(n);
}

static void unlink_txn(struct store_conn *c, struct store_txn *t)
{
    for (struct store_txn **pp = &c->txns; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            return;
        }
    }
}

/* Takes t off its connection and out of the counts, and drops the history
 * only it needed (before a commit applies: no need to keep what the tree
 * had for the committing transaction's sake). */
static void txn_close(struct store *s, struct store_txn *t)
{
    struct store_domain *d = store_domain_get(s, t->conn->domid, false);

    unlink_txn(t->conn, t);
    if (d && d->nr_transactions)
        d->nr_transactions--;
    s->nr_txns--;
    store_history_prune(s);
}

static void txn_free(struct store_txn *t)
{
    while (t->first) {
        struct store_txnode *n = t->first;
        t->first = n->next;
        txnode_free(n);
    }
    while (t->events) {
        struct store_pending_event *e = t->events;
        t->events = e->next;
        free(e);
    }
    store_hash_fini(&t->nodes);
    free(t);
}

void store_txn_drop_all(struct store *s, struct store_conn *c)
{
    while (c->txns) {
        struct store_txn *t = c->txns;

        txn_close(s, t);
        txn_free(t);
    }
}

static struct store_txnode *txn_lookup(struct store_txn *t, const char *path, size_t len,
                                       uint64_t hash)
{
    for (struct store_hentry *e = store_hash_bucket(&t->nodes, hash); e; e = e->next) {
        struct store_txnode *n = (struct store_txnode *)e;
        if (e->hash == hash && n->path_len == len && !memcmp(n->path, path, len))
            return n;
    }
    return NULL;
}

/* A node as of a transaction's start: from the tree, or from history. */
struct snapshot {
    uint64_t generation;
    const uint8_t *value;
    uint32_t value_len;
    const struct store_perm *perms;
    uint16_t nr_perms;
    const char *names;
    uint32_t names_len, nr_children;
};

/* false: the path had no node at the transaction's start; -ENOMEM in
 * *err when the node's names cannot be listed. */
static bool snapshot_of(struct store *s, const struct store_txn *t, const char *path, size_t len,
                        uint64_t hash, struct snapshot *snap, int *err)
{
    struct store_node *n = store_tree_lookup(s, path, len);
    const struct store_version *v;

    *err = 0;
    if (n && n->generation <= t->start) {
        /* Unchanged since the start. */
        *snap = (struct snapshot){ n->generation, n->value, n->value_len, n->perms, n->nr_perms,
                                   store_node_names(n), n->children_bytes, n->nr_children };
        if (n->children_bytes && !snap->names)
            *err = -ENOMEM;
        return true;
    }
    v = store_history_find(s, path, len, hash, t->start);
    if (!v)
        return false;
    *snap = (struct snapshot){ v->born,  v->value, v->value_len,  v->perms,
                               v->nr_perms, v->names, v->names_len, v->nr_children };
    return true;
}

int store_txn_touch(struct store_ctx *ctx, const char *path, size_t len, struct store_txnode **out)
{
    struct store_txn *t = ctx->txn;
    uint64_t hash = store_hash_path(path, len);
    struct store_txnode *tn = txn_lookup(t, path, len, hash);
    struct snapshot snap;
    int err;

    if (tn) {
        *out = tn;
        return 0;
    }
    if (store_conn_quota(ctx->conn) && t->nr_nodes >= ctx->s->cfg.quota.transaction_nodes) {
        t->failed = true;
        return -ENOSPC;
    }
    tn = calloc(1, sizeof(*tn));
    if (!tn || !(tn->path = strndup(path, len)))
        goto nomem;
    tn->path_len = (uint32_t)len;
    tn->h.hash = hash;
    tn->recorded_gen = STORE_NO_GENERATION;
    if (snapshot_of(ctx->s, t, path, len, hash, &snap, &err)) {
        if (err)
            goto nomem;
        tn->recorded_gen = snap.generation;
        tn->exists = true;
        tn->value = snap.value_len ? malloc(snap.value_len) : NULL;
        tn->perms = malloc(snap.nr_perms * sizeof(*snap.perms));
        tn->children = snap.names_len ? malloc(snap.names_len) : NULL;
        if ((snap.value_len && !tn->value) || !tn->perms || (snap.names_len && !tn->children))
            goto nomem;
        if (snap.value_len)
            memcpy(tn->value, snap.value, snap.value_len);
        tn->value_len = snap.value_len;
        memcpy(tn->perms, snap.perms, snap.nr_perms * sizeof(*snap.perms));
        tn->nr_perms = snap.nr_perms;
        if (snap.names_len)
            memcpy(tn->children, snap.names, snap.names_len);
        tn->children_len = tn->children_cap = snap.names_len;
        tn->nr_children = snap.nr_children;
    }
    if (store_hash_insert(&t->nodes, &tn->h))
        goto nomem;
    if (t->last)
        t->last->next = tn;
    else
        t->first = tn;
    t->last = tn;
    t->nr_nodes++;
    *out = tn;
    return 0;
nomem:
    if (tn)
        txnode_free(tn);
    t->failed = true;
    return -ENOMEM;
}

int store_txn_queue_event(struct store_txn *t, const char *path, size_t len, bool exact)
{
    struct store_pending_event *e;

    /* One event per path; subtree matching wins over exact. */
    for (e = t->events; e; e = e->next) {
        if (e->path_len == len && !memcmp(e->path, path, len)) {
            e->exact &= exact;
            return 0;
        }
    }
    e = malloc(sizeof(*e) + len + 1);
    if (!e) {
        t->failed = true;
        return -ENOMEM;
    }
    e->next = NULL;
    e->exact = exact;
    e->path_len = (uint32_t)len;
    memcpy(e->path, path, len);
    e->path[len] = '\0';
    if (t->last_event)
        t->last_event->next = e;
    else
        t->events = e;
    t->last_event = e;
    return 0;
}

static int cmp_created(const void *a, const void *b)
{
    const struct store_txnode *x = *(struct store_txnode *const *)a,
                              *y = *(struct store_txnode *const *)b;

    return x->created_seq < y->created_seq ? -1 : x->created_seq > y->created_seq;
}

/* Writes the transaction's changes into the tree (validated already). */
static int apply(struct store *s, struct store_txn *t)
{
    struct store_txnode **created;
    uint32_t nr_created = 0;
    int rc = 0;

    /* What it removed goes first (whole subtrees: every global child was
     * in the view when it was removed, so nothing else goes with them). */
    for (struct store_txnode *n = t->first; n; n = n->next) {
        struct store_node *g;
        if (n->was_deleted && (g = store_tree_lookup(s, n->path, n->path_len)))
            store_tree_delete(s, g, NULL, NULL);
        if (n->exists && n->created_seq)
            nr_created++;
    }
    created = nr_created ? calloc(nr_created, sizeof(*created)) : NULL;
    if (nr_created && !created)
        return -ENOMEM;
    nr_created = 0;
    for (struct store_txnode *n = t->first; n; n = n->next) {
        if (!n->exists)
            continue;
        if (n->created_seq) {
            created[nr_created++] = n;
        } else if (n->modified) {
            struct store_node *g = store_tree_lookup(s, n->path, n->path_len);
            if (g && (store_node_set_value(s, g, n->value, n->value_len) ||
                      store_node_set_perms(s, g, n->perms, n->nr_perms)))
                rc = -ENOMEM;
        }
    }
    /* Parents were created before their children. */
    if (nr_created > 1)
        qsort(created, nr_created, sizeof(*created), cmp_created);
    for (uint32_t i = 0; i < nr_created; i++) {
        struct store_txnode *n = created[i];
        struct store_node *parent =
            store_tree_lookup(s, n->path, store_parent_len(n->path, n->path_len));
        struct store_node *g = store_tree_lookup(s, n->path, n->path_len);

        if (!g && (!parent || store_tree_create(s, n->path, n->path_len, parent, n->perms,
                                                n->nr_perms, &g))) {
            rc = -ENOMEM;
            continue;
        }
        if (store_node_set_value(s, g, n->value, n->value_len))
            rc = -ENOMEM;
    }
    free(created);
    return rc;
}

int store_txn_end(struct store_ctx *ctx, bool commit)
{
    struct store *s = ctx->s;
    struct store_txn *t = ctx->txn;
    struct store_conn *c = ctx->conn;
    int rc = 0;

    txn_close(s, t);
    if (!commit)
        goto out;
    if (t->failed) {
        rc = -ENOMEM;
        goto out;
    }
    if (store_conn_quota(c) && t->owned_delta > 0 &&
        s->owned[c->domid] + (uint64_t)t->owned_delta > s->cfg.quota.nodes) {
        rc = -ENOSPC;
        goto out;
    }
    for (struct store_txnode *n = t->first; n; n = n->next) {
        struct store_node *g = store_tree_lookup(s, n->path, n->path_len);
        if ((g ? g->generation : STORE_NO_GENERATION) != n->recorded_gen) {
            rc = -EAGAIN;
            goto out;
        }
    }
    rc = apply(s, t);
    if (rc)
        mv_log(&s->cfg.log, MV_LOG_ERROR, "xenstore: transaction %u of d%u applied in part: %s",
               t->id, c->domid, mv_strerror(rc));
    for (struct store_pending_event *e = t->events; e; e = e->next)
        store_fire(s, e->path, e->path_len, e->exact);
out:
    txn_free(t);
    ctx->txn = NULL;
    return rc;
}
