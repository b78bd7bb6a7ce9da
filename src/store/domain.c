/*
 * Domains the store knows (specs C7): introduced ones, their quota usage,
 * and what happens when one goes (its nodes and its permission entries go
 * too, and @releaseDomain fires).  The quotas' names.
 */
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

/* Xen 4.17's names (xenstore-control quota) and descriptions. */
static const struct {
    const char *name;
    size_t offset;
    const char *what;
} quota_names[] = {
    { "nodes", offsetof(struct store_quota, nodes), "Nodes per domain" },
    { "watches", offsetof(struct store_quota, watches), "Watches per domain" },
    { "transactions", offsetof(struct store_quota, transactions), "Transactions per domain" },
    { "transaction-nodes", offsetof(struct store_quota, transaction_nodes),
      "Max. number of accessed nodes per transaction" },
    { "node-size", offsetof(struct store_quota, node_size), "Max. size of a node" },
    { "path-max", offsetof(struct store_quota, path_max), "Max. length of a node path" },
    { "permissions", offsetof(struct store_quota, node_perms),
      "Max. number of permissions per node" },
};

int store_quota_set(struct store_quota *q, const char *name, uint64_t value)
{
    if (value < 1 || value > UINT32_MAX)
        return -EINVAL;
    if (!strcmp(name, "node-permissions")) /* the name GET_QUOTA uses in later Xens */
        name = "permissions";
    for (size_t i = 0; i < ARRAY_SIZE(quota_names); i++) {
        if (!strcmp(name, quota_names[i].name)) {
            *(unsigned *)((char *)q + quota_names[i].offset) = (unsigned)value;
            return 0;
        }
    }
    return -EINVAL;
}

int store_quota_parse(struct store_quota *q, const char *setting)
{
    const char *eq = strchr(setting, '=');
    char name[32];
    uint64_t v;

    if (!eq || (size_t)(eq - setting) >= sizeof(name))
        return -EINVAL;
    memcpy(name, setting, (size_t)(eq - setting));
    name[eq - setting] = '\0';
    if (mv_parse_uint(eq + 1, 1, UINT32_MAX, &v))
        return -EINVAL;
    return store_quota_set(q, name, v);
}

bool store_quota_get(const struct store_quota *q, unsigned i, const char **name, unsigned *value,
                     const char **what)
{
    if (i >= ARRAY_SIZE(quota_names))
        return false;
    *name = quota_names[i].name;
    if (what)
        *what = quota_names[i].what;
    *value = *(const unsigned *)((const char *)q + quota_names[i].offset);
    return true;
}

struct store_domain *store_domain_get(struct store *s, domid_t domid, bool create)
{
    struct store_domain *d = s->domains[domid];

    if (!d && create) {
        d = calloc(1, sizeof(*d));
        if (!d)
            return NULL;
        d->domid = domid;
        d->target = STORE_MAX_DOMID;
        d->birth_gen = ++s->generation;
        s->domains[domid] = d;
    }
    return d;
}

bool store_domain_exists(struct store *s, uint32_t domid)
{
    if (domid >= STORE_MAX_DOMID)
        return false;
    if (s->cfg.domain_exists)
        return s->cfg.domain_exists(s->cfg.domain_arg, (domid_t)domid);
    return domid == 0 || (s->domains[domid] && s->domains[domid]->introduced);
}

void store_owned_adjust(struct store *s, uint32_t owner, int64_t delta)
{
    uint32_t before;

    if (owner >= STORE_MAX_DOMID)
        return;
    before = s->owned[owner];
    s->owned[owner] = (uint32_t)((int64_t)before + delta);
    s->nr_owners += (s->owned[owner] != 0) - (before != 0);
}

/* Drops a domain's entries from one node's permissions (the owner entry
 * stays: nodes it owns are deleted), as a change of the node. */
static void strip_entries(struct store *s, struct store_node *n, domid_t domid)
{
    uint16_t kept = 1;
    bool named = false;

    for (uint16_t i = 1; i < n->nr_perms; i++)
        named |= n->perms[i].id == domid;
    if (!named)
        return;
    store_history_save(s, n);
    for (uint16_t i = 1; i < n->nr_perms; i++)
        if (n->perms[i].id != domid)
            n->perms[kept++] = n->perms[i];
    s->bytes -= (uint64_t)(n->nr_perms - kept) * sizeof(struct store_perm);
    n->nr_perms = kept;
    n->generation = ++s->generation;
}

/* Deletes one owned node (and its subtree) if it is still there. */
static void delete_owned(struct store *s, const char *path, size_t len)
{
    struct store_node *n = store_tree_lookup(s, path, len);

    if (n) {
        store_fire(s, n->path, n->path_len, false);
        store_tree_delete(s, n, NULL, NULL);
    }
}

static void remove_owned(struct store *s, domid_t domid)
{
    uint32_t count = s->owned[domid], nr = 0;
    char **paths = count ? calloc(count, sizeof(*paths)) : NULL;

    /* First the paths (deleting while walking the hash would skip
     * entries), then the deletions, each of which may take others. */
    for (size_t b = 0; b < s->nodes.nbuckets; b++) {
        for (struct store_hentry *e = s->nodes.buckets[b]; e; e = e->next) {
            struct store_node *n = (struct store_node *)e;
            if (n->perms[0].id == domid && !n->parent) {
                /* "/" and the special nodes stay, with dom0 as owner. */
                store_history_save(s, n);
                store_owned_adjust(s, domid, -1);
                store_owned_adjust(s, 0, 1);
                n->perms[0].id = 0;
                n->generation = ++s->generation;
            } else if (n->perms[0].id == domid && paths && nr < count) {
                paths[nr++] = strndup(n->path, n->path_len);
            }
            strip_entries(s, n, domid);
        }
    }
    for (uint32_t i = 0; i < nr; i++) {
        if (paths[i])
            delete_owned(s, paths[i], strlen(paths[i]));
        free(paths[i]);
    }
    free(paths);
    /* Short of memory above: one at a time, rescanning. */
    for (bool again = s->owned[domid] != 0; again;) {
        /* (Everything it still owns has a parent now.) */
        again = false;
        for (size_t b = 0; b < s->nodes.nbuckets && !again; b++) {
            for (struct store_hentry *e = s->nodes.buckets[b]; e && !again; e = e->next) {
                struct store_node *n = (struct store_node *)e;
                if (n->perms[0].id == domid) {
                    delete_owned(s, n->path, n->path_len);
                    again = true;
                }
            }
        }
    }
}

void store_domain_remove(struct store *s, domid_t domid)
{
    struct store_domain *d = s->domains[domid];

    /* Its connections lose their watches and transactions, so the
     * cleanup below fires nothing at them; they are dead from now on. */
    for (struct store_conn *c = s->conns; c; c = c->next) {
        if (c->domid != domid || c->privileged)
            continue;
        store_watch_remove_all(s, c);
        store_txn_drop_all(s, c);
        c->dead = true;
    }
    /* Nodes it owns go with their subtrees; its entries elsewhere go. */
    remove_owned(s, domid);
    if (d) {
        s->domains[domid] = NULL;
        free(d);
    }
    store_fire_special(s, "@releaseDomain", domid);
}

void store_domain_gone(struct store *s, domid_t domid)
{
    if (domid == 0)
        return;
    lock_acquire(&s->lock);
    store_domain_remove(s, domid);
    lock_release(&s->lock);
}
