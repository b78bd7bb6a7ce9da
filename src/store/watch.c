/*
 * Watches (specs C5).  A watch is (path, token, depth) on a connection;
 * watches are hashed by path, so a change at /a/b/c finds its watchers by
 * looking up /a/b/c, /a/b, /a and / rather than scanning every watch.
 * Relative watches report relative paths.
 */
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

/* The levels of path below base (both canonical); base is a prefix. */
static int depth_below(const char *path, size_t len, size_t base_len)
{
    int depth = 0;

    if (base_len == 1) /* "/" */
        base_len = 0;
    for (size_t i = base_len; i < len; i++)
        depth += path[i] == '/';
    return depth;
}

static struct store_watch *find_watch(struct store *s, const struct store_conn *c, const char *path,
                                      size_t path_len, const char *token, size_t token_len)
{
    uint64_t hash = store_hash_path(path, path_len);

    for (struct store_hentry *e = store_hash_bucket(&s->watches, hash); e; e = e->next) {
        struct store_watch *w = (struct store_watch *)e;
        if (w->conn == c && w->path_len == path_len && !memcmp(w->path, path, path_len) &&
            w->token_len == token_len && !memcmp(w->token, token, token_len))
            return w;
    }
    return NULL;
}

void store_send_event(struct store_watch *w, const char *path, size_t len)
{
    struct store_conn *c = w->conn;

    if (!c->sink.event || c->dead)
        return;
    /* Relative watches get relative paths (the home and its '/' stripped). */
    if (w->strip && len > w->strip) {
        path += w->strip;
        len -= w->strip;
    }
    /* An event that could not be sent in one message is dropped, as Xen does. */
    if (len + w->token_len + 2 > XENSTORE_PAYLOAD_MAX)
        return;
    c->sink.event(c->sink.arg, path, len, w->token, w->token_len);
}

int store_watch_add(struct store_ctx *ctx, const char *path, size_t path_len, const char *token,
                    size_t token_len, int depth, uint32_t strip)
{
    struct store *s = ctx->s;
    struct store_conn *c = ctx->conn;
    struct store_domain *d = store_domain_get(s, c->domid, false);
    struct store_watch *w;

    if (find_watch(s, c, path, path_len, token, token_len))
        return -EEXIST;
    if (store_conn_quota(c) && d && d->nr_watches >= s->cfg.quota.watches)
        return -E2BIG; /* Xen 4.17 */
    w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->path = malloc(path_len + 1);
    w->token = malloc(token_len + 1);
    if (!w->path || !w->token)
        goto nomem;
    memcpy(w->path, path, path_len);
    w->path[path_len] = '\0';
    memcpy(w->token, token, token_len);
    w->token[token_len] = '\0';
    w->path_len = (uint32_t)path_len;
    w->token_len = (uint32_t)token_len;
    w->depth = depth;
    w->strip = strip;
    w->conn = c;
    w->h.hash = store_hash_path(path, path_len);
    if (store_hash_insert(&s->watches, &w->h))
        goto nomem;
    w->conn_next = c->watches;
    c->watches = w;
    if (d)
        d->nr_watches++;
    s->nr_watches++;
    s->bytes += path_len + token_len;
    return 0;
nomem:
    free(w->path);
    free(w->token);
    free(w);
    return -ENOMEM;
}

static void watch_free(struct store *s, struct store_watch *w)
{
    struct store_domain *d = store_domain_get(s, w->conn->domid, false);

    store_hash_remove(&s->watches, &w->h);
    if (d && d->nr_watches)
        d->nr_watches--;
    s->nr_watches--;
    s->bytes -= w->path_len + w->token_len;
    free(w->path);
    free(w->token);
    free(w);
}

int store_watch_remove(struct store_ctx *ctx, const char *path, size_t path_len, const char *token,
                       size_t token_len)
{
    struct store_watch *w = find_watch(ctx->s, ctx->conn, path, path_len, token, token_len);

    if (!w)
        return -ENOENT;
    for (struct store_watch **pp = &ctx->conn->watches; *pp; pp = &(*pp)->conn_next) {
        if (*pp == w) {
            *pp = w->conn_next;
            break;
        }
    }
    watch_free(ctx->s, w);
    return 0;
}

void store_watch_remove_all(struct store *s, struct store_conn *c)
{
    while (c->watches) {
        struct store_watch *w = c->watches;
        c->watches = w->conn_next;
        watch_free(s, w);
    }
}

/* May the watcher see this change?  It must be able to read the node or
 * its parent (what is left of them after the change), or the node as it
 * was before a change of its permissions. */
static bool may_see(struct store *s, struct store_watch *w, const char *path, size_t len,
                    const struct store_old_perms *old)
{
    struct store_ctx ctx = { s, w->conn, NULL };
    struct store_node *n;

    if (w->conn->privileged)
        return true;
    if (old && (store_perm_for_conn(&ctx, old->perms, old->nr, old->generation) & STORE_PERM_READ))
        return true;
    n = store_tree_lookup(s, path, len);
    if (n && (store_perm_for_conn(&ctx, n->perms, n->nr_perms, n->generation) & STORE_PERM_READ))
        return true;
    n = store_tree_lookup(s, path, store_parent_len(path, len));
    return n && (store_perm_for_conn(&ctx, n->perms, n->nr_perms, n->generation) & STORE_PERM_READ);
}

/* Watches on exactly `base` (a prefix of path, or path itself). */
static void fire_at(struct store *s, const char *path, size_t len, size_t base_len,
                    const struct store_old_perms *old)
{
    uint64_t hash = store_hash_path(path, base_len);

    for (struct store_hentry *e = store_hash_bucket(&s->watches, hash); e; e = e->next) {
        struct store_watch *w = (struct store_watch *)e;

        if (e->hash != hash || w->path_len != base_len || memcmp(w->path, path, base_len))
            continue;
        if (w->depth >= 0 && depth_below(path, len, base_len) > w->depth)
            continue;
        if (may_see(s, w, path, len, old))
            store_send_event(w, path, len);
    }
}

void store_fire_old(struct store *s, const char *path, size_t len, bool exact,
                    const struct store_old_perms *old)
{
    if (s->nr_watches == 0)
        return;
    fire_at(s, path, len, len, old);
    if (exact)
        return;
    /* Every ancestor, up to "/". */
    for (size_t i = len; i-- > 1;)
        if (path[i] == '/')
            fire_at(s, path, len, i, old);
    if (len > 1)
        fire_at(s, path, len, 1, old);
}

void store_fire(struct store *s, const char *path, size_t len, bool exact)
{
    store_fire_old(s, path, len, exact, NULL);
}

/*
 * @introduceDomain and @releaseDomain: plain watchers get the bare name,
 * watchers with a depth get "<name>/<domid>", and one can watch
 * "<name>/<domid>" directly.  Only those allowed to read the special node
 * are told.
 */
void store_fire_special(struct store *s, const char *name, domid_t domid)
{
    char full[48];
    size_t name_len = strlen(name);
    struct store_node *special = store_tree_lookup(s, name, name_len);
    int full_len = snprintf(full, sizeof(full), "%s/%u", name, domid);

    if (s->nr_watches == 0)
        return;
    for (int pass = 0; pass < 2; pass++) {
        const char *p = pass ? full : name;
        size_t plen = pass ? (size_t)full_len : name_len;
        uint64_t hash = store_hash_path(p, plen);

        for (struct store_hentry *e = store_hash_bucket(&s->watches, hash); e; e = e->next) {
            struct store_watch *w = (struct store_watch *)e;
            struct store_ctx ctx = { s, w->conn, NULL };

            if (e->hash != hash || w->path_len != plen || memcmp(w->path, p, plen))
                continue;
            if (!w->conn->privileged &&
                (!special || !(store_perm_for_conn(&ctx, special->perms, special->nr_perms,
                                                   special->generation) & STORE_PERM_READ)))
                continue;
            if (pass == 0 && w->depth > 0)
                store_send_event(w, full, (size_t)full_len);
            else
                store_send_event(w, p, plen);
        }
    }
}
