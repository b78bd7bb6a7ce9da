/*
 * The store checker: walks the tree, the hash, the watches and the
 * connections and counts violations of the invariants in
 * store_internal.h.
 */
#include <inttypes.h>
#include <string.h>

#include "memvisor/check.h"
#include "store_internal.h"

/* The node's built list of names is its children's, in order. */
static bool names_match(const struct store_node *n)
{
    uint32_t off = 0;

    for (const struct store_node *ch = n->first_child; ch; ch = ch->next_sibling) {
        size_t blen;
        const char *base = store_basename(ch->path, ch->path_len, &blen);

        if (off + blen + 1 > n->children_bytes || memcmp(n->names + off, base, blen) ||
            n->names[off + blen] != '\0')
            return false;
        off += (uint32_t)blen + 1;
    }
    return off == n->children_bytes;
}

static void check_node(struct mv_checker *c, struct store *s, struct store_node *n,
                       uint32_t *owned, uint64_t *walked)
{
    uint32_t nr = 0, bytes = 0;
    struct store_node *prev = NULL;

    (*walked)++;
    if (store_tree_lookup(s, n->path, n->path_len) != n)
        mv_check_fail(c, "node %s is not in the hash", n->path);
    if (n->nr_perms < 1)
        mv_check_fail(c, "node %s has no permissions", n->path);
    else if (n->perms[0].id < STORE_MAX_DOMID)
        owned[n->perms[0].id]++;
    if (n->names_valid && (n->names_cap < n->children_bytes || !names_match(n)))
        mv_check_fail(c, "node %s: its list of names is stale", n->path);
    if (n->generation > s->generation)
        mv_check_fail(c, "node %s has generation %" PRIu64 " > %" PRIu64, n->path, n->generation,
                      s->generation);
    for (struct store_node *ch = n->first_child; ch; ch = ch->next_sibling) {
        size_t blen, plen = store_parent_len(ch->path, ch->path_len);

        if (ch->parent != n || ch->prev_sibling != prev)
            mv_check_fail(c, "node %s: broken links at %s", n->path, ch->path);
        if (plen != n->path_len || memcmp(ch->path, n->path, plen))
            mv_check_fail(c, "node %s is listed under %s", ch->path, n->path);
        store_basename(ch->path, ch->path_len, &blen);
        bytes += (uint32_t)blen + 1;
        nr++;
        prev = ch;
        check_node(c, s, ch, owned, walked);
    }
    if (prev != n->last_child)
        mv_check_fail(c, "node %s: wrong last child", n->path);
    if (nr != n->nr_children || bytes != n->children_bytes)
        mv_check_fail(c, "node %s: %u children (%u bytes) but counts %u (%u bytes)", n->path, nr,
                      bytes, n->nr_children, n->children_bytes);
}

/* owned[d] = the nodes whose owner is d, for every d: counted into the
 * store's zeroed scratch array, compared where a node has an owner, and
 * zeroed again; nr_owners then says no other domain owns any. */
static void check_owned(struct mv_checker *c, struct store *s, uint32_t *count)
{
    uint32_t owners = 0;

    for (size_t b = 0; b < s->nodes.nbuckets; b++) {
        for (struct store_hentry *e = s->nodes.buckets[b]; e; e = e->next) {
            uint32_t d = ((struct store_node *)e)->perms[0].id;
            if (d < STORE_MAX_DOMID && count[d]) {
                if (count[d] != s->owned[d])
                    mv_check_fail(c, "d%u owns %u nodes, counted %u", d, count[d], s->owned[d]);
                count[d] = 0;
                owners++;
            }
        }
    }
    if (owners != s->nr_owners)
        mv_check_fail(c, "%u domains own nodes, counted %u", owners, s->nr_owners);
}

/* The saved versions: each needed by an open transaction, in order. */
static void check_history(struct mv_checker *c, struct store *s)
{
    uint64_t versions = 0, bytes = 0;

    for (size_t b = 0; b < s->past.nbuckets; b++) {
        for (struct store_hentry *e = s->past.buckets[b]; e; e = e->next) {
            struct store_past *p = (struct store_past *)e;

            if (!p->versions)
                mv_check_fail(c, "history of %s is empty", p->path);
            for (struct store_version *v = p->versions; v; v = v->next) {
                bool needed = false;

                versions++;
                bytes += store_version_bytes(v);
                if (v->born >= v->died || (v->next && v->next->died > v->born))
                    mv_check_fail(c, "history of %s: versions out of order", p->path);
                for (struct store_conn *cn = s->conns; cn && !needed; cn = cn->next)
                    for (struct store_txn *t = cn->txns; t && !needed; t = t->next)
                        needed = v->born <= t->start && t->start < v->died;
                if (!needed)
                    mv_check_fail(c, "history of %s: a version no transaction needs", p->path);
            }
        }
    }
    if (versions != s->past_versions || bytes != s->past_bytes)
        mv_check_fail(c, "history: %" PRIu64 " versions (%" PRIu64 " bytes), counted %" PRIu64
                      " (%" PRIu64 ")", versions, bytes, s->past_versions, s->past_bytes);
}

unsigned store_check_locked(struct store *s, FILE *report)
{
    struct mv_checker c = { report, "xenstore check", 0 };
    uint32_t *owned = s->check_owned;
    uint64_t walked = 0, specials = 0, watches = 0, txns = 0, conns = 0;

    check_node(&c, s, s->root, owned, &walked);
    /* The special nodes stand outside the tree. */
    for (size_t b = 0; b < s->nodes.nbuckets; b++) {
        for (struct store_hentry *e = s->nodes.buckets[b]; e; e = e->next) {
            struct store_node *n = (struct store_node *)e;
            if (n->path[0] == '@') {
                specials++;
                if (n->perms[0].id < STORE_MAX_DOMID)
                    owned[n->perms[0].id]++;
            } else if (!n->parent && n != s->root) {
                mv_check_fail(&c, "node %s is in the hash but not the tree", n->path);
            }
        }
    }
    if (walked + specials != s->nodes.count)
        mv_check_fail(&c, "%" PRIu64 " nodes reachable, %zu in the hash", walked + specials,
                      s->nodes.count);
    check_owned(&c, s, owned);
    check_history(&c, s);

    for (struct store_conn *cn = s->conns; cn; cn = cn->next) {
        conns++;
        for (struct store_watch *w = cn->watches; w; w = w->conn_next) {
            watches++;
            if (w->conn != cn)
                mv_check_fail(&c, "a watch on %s points at another connection", w->path);
        }
        for (struct store_txn *t = cn->txns; t; t = t->next) {
            txns++;
            if (t->conn != cn)
                mv_check_fail(&c, "transaction %u points at another connection", t->id);
        }
    }
    if (conns != s->nr_conns || watches != s->nr_watches || watches != s->watches.count ||
        txns != s->nr_txns)
        mv_check_fail(&c, "counts: %" PRIu64 "/%" PRIu64 " connections, %" PRIu64 "/%" PRIu64
                      "/%zu watches, %" PRIu64 "/%" PRIu64 " transactions", conns, s->nr_conns,
                      watches, s->nr_watches, s->watches.count, txns, s->nr_txns);
    return c.violations;
}

unsigned store_check(struct store *s, FILE *report)
{
    unsigned v;

    lock_acquire(&s->lock);
    v = store_check_locked(s, report);
    lock_release(&s->lock);
    return v;
}
