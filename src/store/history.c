/*
 * History: what nodes were, kept while an open transaction may still ask
 * (snapshot isolation).
 *
 * A transaction sees the store as it was when it started, at its start
 * generation S.  A node whose generation is <= S is still as it was
 * then.  Before a node changes or goes, its state is saved here if some
 * open transaction started while that state was current (started at or
 * after the node's generation); a saved version covers the transactions
 * started in [born, died).  A path with no node as of S, and no version
 * covering S, did not exist for the transaction.
 *
 * Versions nobody can need are dropped whenever a transaction ends: all
 * of them once none is open.  An open transaction keeps at most one
 * version of each node alive (the one current at its start), so the
 * history of a store is bounded by its size times its open transactions.
 */
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

#define HISTORY_BUCKETS 64

static struct store_past *find_past(struct store *s, const char *path, size_t len, uint64_t hash)
{
    if (!s->past.buckets)
        return NULL;
    for (struct store_hentry *e = store_hash_bucket(&s->past, hash); e; e = e->next) {
        struct store_past *p = (struct store_past *)e;
        if (e->hash == hash && p->path_len == len && !memcmp(p->path, path, len))
            return p;
    }
    return NULL;
}

uint64_t store_version_bytes(const struct store_version *v)
{
    return sizeof(*v) + v->value_len + v->nr_perms * sizeof(struct store_perm) + v->names_len;
}

static void version_free(struct store *s, struct store_version *v)
{
    s->past_bytes -= store_version_bytes(v);
    s->past_versions--;
    free(v->value);
    free(v->perms);
    free(v->names);
    free(v);
}

/* A transaction that cannot have its snapshot cannot commit. */
static void fail_snapshots(struct store *s, uint64_t born)
{
    for (struct store_conn *c = s->conns; c; c = c->next)
        for (struct store_txn *t = c->txns; t; t = t->next)
            if (t->start >= born)
                t->failed = true;
}

void store_history_save(struct store *s, struct store_node *n)
{
    struct store_version *v;
    struct store_past *p;
    const char *names;

    if (!s->nr_txns || s->newest_start < n->generation)
        return; /* no open transaction saw this state */
    if (!s->past.buckets && store_hash_init(&s->past, HISTORY_BUCKETS))
        goto nomem;
    p = find_past(s, n->path, n->path_len, n->h.hash);
    v = calloc(1, sizeof(*v));
    if (!v)
        goto nomem;
    names = store_node_names(n);
    v->born = n->generation;
    v->died = s->generation + 1; /* every transaction started so far */
    v->value = n->value_len ? malloc(n->value_len) : NULL;
    v->perms = malloc(n->nr_perms * sizeof(*v->perms));
    v->names = n->children_bytes ? malloc(n->children_bytes) : NULL;
    if ((n->value_len && !v->value) || !v->perms || (n->children_bytes && (!v->names || !names)))
        goto nomem_v;
    if (n->value_len)
        memcpy(v->value, n->value, n->value_len);
    v->value_len = n->value_len;
    memcpy(v->perms, n->perms, n->nr_perms * sizeof(*v->perms));
    v->nr_perms = n->nr_perms;
    if (n->children_bytes)
        memcpy(v->names, names, n->children_bytes);
    v->names_len = n->children_bytes;
    v->nr_children = n->nr_children;
    if (!p) {
        p = calloc(1, sizeof(*p));
        if (!p || !(p->path = malloc(n->path_len + 1))) {
            free(p);
            goto nomem_v;
        }
        memcpy(p->path, n->path, n->path_len + 1);
        p->path_len = n->path_len;
        p->h.hash = n->h.hash;
        if (store_hash_insert(&s->past, &p->h)) {
            free(p->path);
            free(p);
            goto nomem_v;
        }
    }
    v->next = p->versions;
    p->versions = v;
    s->past_versions++;
    s->past_bytes += store_version_bytes(v);
    return;
nomem_v:
    free(v->value);
    free(v->perms);
    free(v->names);
    free(v);
nomem:
    fail_snapshots(s, n->generation);
}

const struct store_version *store_history_find(struct store *s, const char *path, size_t len,
                                               uint64_t hash, uint64_t start)
{
    struct store_past *p = find_past(s, path, len, hash);

    for (const struct store_version *v = p ? p->versions : NULL; v; v = v->next)
        if (v->born <= start && start < v->died)
            return v;
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* Whether a transaction started in [born, died): starts is sorted. */
static bool needed(const uint64_t *starts, uint64_t n, const struct store_version *v)
{
    size_t lo = 0, hi = n;

    while (lo < hi) { /* the first start >= born */
        size_t mid = (lo + hi) / 2;
        if (starts[mid] < v->born)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && starts[lo] < v->died;
}

void store_history_prune(struct store *s)
{
    uint64_t *starts = NULL, n = 0;

    s->newest_start = 0;
    if (s->nr_txns) {
        starts = malloc(s->nr_txns * sizeof(*starts));
        if (!starts)
            return; /* kept, for now: the next end prunes */
        for (struct store_conn *c = s->conns; c; c = c->next) {
            for (struct store_txn *t = c->txns; t && n < s->nr_txns; t = t->next) {
                starts[n++] = t->start;
                s->newest_start = max_u64(s->newest_start, t->start);
            }
        }
        qsort(starts, n, sizeof(*starts), cmp_u64);
    }
    for (size_t b = 0; s->past_versions && b < s->past.nbuckets; b++) {
        struct store_hentry **pp = &s->past.buckets[b];

        while (*pp) {
            struct store_past *p = (struct store_past *)*pp;
            struct store_version **vp = &p->versions;

            while (*vp) {
                struct store_version *v = *vp;
                if (n && needed(starts, n, v)) {
                    vp = &v->next;
                } else {
                    *vp = v->next;
                    version_free(s, v);
                }
            }
            if (p->versions) {
                pp = &p->h.next;
            } else {
                *pp = p->h.next;
                s->past.count--;
                free(p->path);
                free(p);
            }
        }
    }
    free(starts);
}

void store_history_fini(struct store *s)
{
    uint64_t txns = s->nr_txns;

    s->nr_txns = 0; /* nothing is needed any more */
    store_history_prune(s);
    s->nr_txns = txns;
    store_hash_fini(&s->past);
}
