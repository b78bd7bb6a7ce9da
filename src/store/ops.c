/*
 * The requests (specs C2), one function per message type, written against
 * views so that they behave the same in and out of transactions.
 *
 * Payloads are NUL-separated strings.  Permission errors are masked as Xen
 * does: a missing or forbidden node answers ENOENT only if the nearest
 * existing ancestor grants the access asked for, and EACCES otherwise, so
 * a guest cannot probe paths it may not see.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"
#include "view.h"


struct request {
    struct store_ctx *ctx;
    const struct xsd_sockmsg *hdr;
    const char *payload;
    uint32_t len;
    char *reply;
    uint32_t *reply_len;
};

static int reply_str(struct request *r, const char *s)
{
    size_t n = strlen(s) + 1;

    memcpy(r->reply, s, n);
    *r->reply_len = (uint32_t)n;
    return 0;
}

static int reply_ok(struct request *r)
{
    return reply_str(r, "OK");
}

/* Splits the payload into NUL-terminated strings: how many, or -EINVAL
 * if it does not end with a NUL. */
static int split_args(const struct request *r, const char **argv, size_t *arglen, int max)
{
    int n = 0;

    if (r->len == 0 || r->payload[r->len - 1] != '\0')
        return -EINVAL;
    for (uint32_t i = 0; i < r->len;) {
        size_t l = strlen(r->payload + i);
        if (n == max)
            return -EINVAL;
        argv[n] = r->payload + i;
        arglen[n] = l;
        n++;
        i += (uint32_t)l + 1;
    }
    return n;
}

/* Exactly one string. */
static int onearg(const struct request *r, const char **arg, size_t *len)
{
    return split_args(r, arg, len, 1) == 1 ? 0 : -EINVAL;
}

/* Canonicalises and applies the path-length quota. */
static int get_path(struct request *r, const char *in, size_t in_len, bool special, char *out,
                    size_t *out_len)
{
    struct store_conn *c = r->ctx->conn;
    int rc = store_canonical_path(c, in, in_len, special, out, out_len);

    if (rc)
        return rc;
    if (store_conn_quota(c) && out[0] == '/') {
        size_t rel = *out_len;
        if (rel > c->home_len && !memcmp(out, c->home, c->home_len) && out[c->home_len] == '/')
            rel -= c->home_len + 1;
        if (rel > r->ctx->s->cfg.quota.path_max)
            return -EINVAL;
    }
    return 0;
}

/* Error masking (errno_from_parents). */
static int masked(struct store_ctx *ctx, const char *path, size_t len, unsigned perm, int err)
{
    size_t l = len;

    if (err != -ENOENT && err != -EACCES)
        return err;
    while (l > 1) {
        struct store_nodeview v;
        int rc;

        l = store_parent_len(path, l);
        rc = view_get(ctx, path, l, &v);
        if (rc)
            return rc;
        if (v.exists)
            return (view_perm(ctx, &v) & perm) == perm ? err : -EACCES;
    }
    return -EACCES;
}

/* Looks a node up for an access; -ENOENT/-EACCES as the masking allows. */
static int get_node(struct request *r, const char *path, size_t len, unsigned perm,
                    struct store_nodeview *v)
{
    int rc = view_get(r->ctx, path, len, v);

    if (rc)
        return rc;
    if (!v->exists)
        return masked(r->ctx, path, len, perm, -ENOENT);
    if ((view_perm(r->ctx, v) & perm) != perm)
        return masked(r->ctx, path, len, perm, -EACCES);
    return 0;
}

/* A node's size for the node-size quota (Xen's: header, permissions,
 * value, children's names). */
static uint64_t node_size(uint16_t nr_perms, uint64_t value_len, uint64_t children_bytes)
{
    return 16 + 8 * (uint64_t)nr_perms + value_len + children_bytes;
}

static bool too_big(const struct store_ctx *ctx, uint64_t size)
{
    return store_conn_quota(ctx->conn) && size >= ctx->s->cfg.quota.node_size;
}

/*
 * Creates the missing nodes down to path (which is missing), the last
 * with value_len bytes to come: each takes its parent's permissions,
 * owned by the creator when it is a guest.  Every check (permission,
 * node count, the sizes of the nodes written, the existing parent's
 * included) comes before the first creation, so a refusal changes
 * nothing.
 */
static int create_path(struct request *r, const char *path, size_t len, uint32_t value_len,
                       struct store_nodeview *out)
{
    struct store_ctx *ctx = r->ctx;
    struct store *s = ctx->s;
    size_t ends[XENSTORE_PAYLOAD_MAX / 2], l = len, base_len;
    struct store_perm perms[XENSTORE_PAYLOAD_MAX / 2];
    unsigned missing = 0;
    struct store_nodeview parent;
    uint16_t nr;
    int rc;

    /* Up to the nearest node that exists ("/" always does). */
    for (;;) {
        ends[missing++] = l;
        l = store_parent_len(path, l);
        rc = view_get(ctx, path, l, &parent);
        if (rc)
            return rc;
        if (parent.exists)
            break;
    }
    if (!(view_perm(ctx, &parent) & STORE_PERM_WRITE))
        return -EACCES;
    if (store_conn_quota(ctx->conn)) {
        int64_t owned =
            (int64_t)s->owned[ctx->conn->domid] + (ctx->txn ? ctx->txn->owned_delta : 0);
        if (owned + missing > s->cfg.quota.nodes)
            return -ENOSPC;
    }
    /* The parent gains a name; each new node but the last holds one. */
    store_basename(path, ends[missing - 1], &base_len);
    if (too_big(ctx,
                node_size(parent.nr_perms, parent.value_len, parent.children_bytes + base_len + 1)))
        return -ENOSPC;
    for (unsigned i = missing - 1; i > 0; i--) {
        store_basename(path, ends[i - 1], &base_len);
        if (too_big(ctx, node_size(parent.nr_perms, 0, base_len + 1)))
            return -ENOSPC;
    }
    if (too_big(ctx, node_size(parent.nr_perms, value_len, 0)))
        return -ENOSPC;

    nr = parent.nr_perms;
    memcpy(perms, parent.perms, nr * sizeof(*perms));
    if (!ctx->conn->privileged) {
        perms[0].id = ctx->conn->domid;
        perms[0].perms &= STORE_PERM_READ | STORE_PERM_WRITE;
    }
    while (missing--) {
        rc = view_create(ctx, &parent, path, ends[missing], perms, nr, &parent);
        if (rc)
            return rc;
    }
    *out = parent;
    return 0;
}

/* The request's one argument, a path, and the node there, which the
 * caller must be allowed to access with perm. */
static int path_node(struct request *r, bool special, unsigned perm, char *path, size_t *plen,
                     struct store_nodeview *v)
{
    const char *arg;
    size_t alen;
    int rc;

    if ((rc = onearg(r, &arg, &alen)) || (rc = get_path(r, arg, alen, special, path, plen)))
        return rc;
    return get_node(r, path, *plen, perm, v);
}

static int do_read(struct request *r)
{
    char path[STORE_PATH_BUF];
    struct store_nodeview v;
    size_t plen;
    int rc = path_node(r, false, STORE_PERM_READ, path, &plen, &v);

    if (rc)
        return rc;
    if (v.value_len)
        memcpy(r->reply, v.value, v.value_len);
    *r->reply_len = v.value_len;
    return 0;
}

static int do_write(struct request *r)
{
    struct store_ctx *ctx = r->ctx;
    char path[STORE_PATH_BUF];
    struct store_nodeview v;
    size_t alen = strnlen(r->payload, r->len), plen;
    uint32_t vlen;
    int rc;

    if (alen == r->len)
        return -EINVAL; /* no NUL after the path */
    vlen = r->len - (uint32_t)alen - 1;
    rc = get_path(r, r->payload, alen, false, path, &plen);
    if (rc)
        return rc;
    rc = view_get(ctx, path, plen, &v);
    if (rc)
        return rc;
    if (v.exists) {
        if (!(view_perm(ctx, &v) & STORE_PERM_WRITE))
            return masked(ctx, path, plen, STORE_PERM_WRITE, -EACCES);
        if (too_big(ctx, node_size(v.nr_perms, vlen, v.children_bytes)))
            return -ENOSPC;
    } else if ((rc = create_path(r, path, plen, vlen, &v))) {
        return rc;
    }
    rc = view_set_value(ctx, &v, (const uint8_t *)r->payload + alen + 1, vlen);
    if (rc)
        return rc;
    view_event(ctx, path, plen, false);
    return reply_ok(r);
}

static int do_mkdir(struct request *r)
{
    char path[STORE_PATH_BUF];
    struct store_nodeview v;
    const char *arg;
    size_t alen, plen;
    int rc;

    if ((rc = onearg(r, &arg, &alen)) || (rc = get_path(r, arg, alen, false, path, &plen)) ||
        (rc = view_get(r->ctx, path, plen, &v)))
        return rc;
    if (v.exists) {
        /* Already there: nothing happens, and no watch fires. */
        if (!(view_perm(r->ctx, &v) & STORE_PERM_WRITE))
            return masked(r->ctx, path, plen, STORE_PERM_WRITE, -EACCES);
        return reply_ok(r);
    }
    rc = create_path(r, path, plen, 0, &v);
    if (rc)
        return rc;
    view_event(r->ctx, path, plen, false);
    return reply_ok(r);
}

static int do_rm(struct request *r)
{
    char path[STORE_PATH_BUF];
    struct store_nodeview v, parent;
    const char *arg;
    size_t alen, plen;
    int rc;

    if ((rc = onearg(r, &arg, &alen)) || (rc = get_path(r, arg, alen, false, path, &plen)))
        return rc;
    rc = get_node(r, path, plen, STORE_PERM_WRITE, &v);
    if (rc == -ENOENT) {
        /* Already gone: fine, if the parent is there. */
        rc = view_get(r->ctx, path, store_parent_len(path, plen), &parent);
        if (rc)
            return rc;
        return parent.exists ? reply_ok(r) : -ENOENT;
    }
    if (rc)
        return rc;
    if (plen == 1)
        return -EINVAL; /* not "/" */
    rc = view_delete(r->ctx, &v);
    return rc ? rc : reply_ok(r);
}

static int do_directory(struct request *r)
{
    char path[STORE_PATH_BUF];
    struct store_nodeview v;
    const char *names;
    size_t plen;
    int rc = path_node(r, false, STORE_PERM_READ, path, &plen, &v);

    if (rc)
        return rc;
    /* Only a long list of children is too big; then DIRECTORY_PART. */
    if (v.children_bytes > XENSTORE_PAYLOAD_MAX)
        return -E2BIG;
    names = view_names(&v);
    if (v.children_bytes && !names)
        return -ENOMEM;
    if (v.children_bytes)
        memcpy(r->reply, names, v.children_bytes);
    *r->reply_len = v.children_bytes;
    return 0;
}

/*
 * "gen\0" and the whole names from a byte offset into the list that fit
 * in the rest of the payload; the last part ends with an empty name.
 * An offset past the end answers "gen\0\0".  Xen's arithmetic exactly.
 */
static int do_directory_part(struct request *r)
{
    char path[STORE_PATH_BUF];
    const char *argv[2], *names;
    size_t arglen[2], plen;
    struct store_nodeview v;
    uint32_t genlen, maxlen, len = 0;
    uint64_t offset;
    int rc;

    if (split_args(r, argv, arglen, 2) != 2 || mv_parse_uint(argv[1], 0, UINT32_MAX, &offset))
        return -EINVAL;
    if ((rc = get_path(r, argv[0], arglen[0], false, path, &plen)) ||
        (rc = get_node(r, path, plen, STORE_PERM_READ, &v)))
        return rc;
    genlen = (uint32_t)snprintf(r->reply, 24, "%llu", (unsigned long long)v.generation) + 1;
    if (offset >= v.children_bytes) {
        r->reply[genlen] = '\0';
        *r->reply_len = genlen + 1;
        return 0;
    }
    names = view_names(&v);
    if (!names)
        return -ENOMEM;
    names += offset;
    maxlen = XENSTORE_PAYLOAD_MAX - genlen - 1;
    for (;;) {
        uint32_t l = (uint32_t)strnlen(names + len, v.children_bytes - offset - len);
        if (len + l >= maxlen)
            break;
        len += l + 1;
        if (offset + len >= v.children_bytes)
            break;
    }
    memcpy(r->reply + genlen, names, len);
    if (offset + len >= v.children_bytes)
        r->reply[genlen + len++] = '\0';
    *r->reply_len = genlen + len;
    return 0;
}

static int do_get_perms(struct request *r)
{
    char path[STORE_PATH_BUF];
    struct store_nodeview v;
    size_t plen;
    int rc = path_node(r, true, STORE_PERM_READ, path, &plen, &v);

    if (rc)
        return rc;
    *r->reply_len =
        (uint32_t)store_perms_format(v.perms, v.nr_perms, r->reply, XENSTORE_PAYLOAD_MAX);
    return 0;
}

/*
 * In Xen's order: the list (EINVAL), its length for a guest (ENOSPC), the
 * owner's existence (ENOENT), the node and the caller's ownership of it,
 * a guest giving it away (EPERM), the node's new size (ENOSPC).
 */
static int do_set_perms(struct request *r)
{
    struct store_ctx *ctx = r->ctx;
    struct store_perm perms[XENSTORE_PAYLOAD_MAX / 3], old_perms[XENSTORE_PAYLOAD_MAX / 3];
    struct store_old_perms old = { old_perms, 0, 0 };
    char path[STORE_PATH_BUF];
    struct store_nodeview v;
    size_t alen = strnlen(r->payload, r->len), plen;
    uint16_t nr;
    int rc;

    if (alen == r->len)
        return -EINVAL;
    rc = store_perms_parse(r->payload + alen + 1, r->len - alen - 1, perms, &nr, ARRAY_SIZE(perms));
    if (rc)
        return rc == -ENOSPC ? -EINVAL : rc;
    if (store_conn_quota(ctx->conn) && nr > ctx->s->cfg.quota.node_perms)
        return -ENOSPC;
    if (!store_domain_exists(ctx->s, perms[0].id))
        return -ENOENT;
    /* Entries for domains that do not exist are kept but ignored. */
    for (uint16_t i = 1; i < nr; i++)
        if (!store_domain_exists(ctx->s, perms[i].id) && perms[i].id != STORE_DOMID_ANY)
            perms[i].perms |= STORE_PERM_IGNORE;
    /* Xen's domain_alloc_permrefs: a domain named here is known from now
     * on, so the entry stays live when the toolstack introduces it later
     * (libxl sets a new domain's permissions before introducing it). */
    for (uint16_t i = 0; i < nr; i++)
        if (perms[i].id < STORE_MAX_DOMID && !(perms[i].perms & STORE_PERM_IGNORE) &&
            !store_domain_get(ctx->s, (domid_t)perms[i].id, true))
            return -ENOMEM;
    if ((rc = get_path(r, r->payload, alen, true, path, &plen)) ||
        (rc = get_node(r, path, plen, STORE_PERM_WRITE | STORE_PERM_OWNER, &v)))
        return rc;
    if (store_conn_quota(ctx->conn) && perms[0].id != v.perms[0].id)
        return -EPERM; /* a guest may not give its node away */
    if (too_big(ctx, node_size(nr, v.value_len, v.children_bytes)))
        return -ENOSPC;
    old.nr = v.nr_perms;
    old.generation = v.generation;
    memcpy(old_perms, v.perms, v.nr_perms * sizeof(*old_perms));
    rc = view_set_perms(ctx, &v, perms, nr);
    if (rc)
        return rc;
    view_event_old(ctx, path, plen, &old);
    return reply_ok(r);
}

static int do_watch(struct request *r)
{
    const char *argv[3];
    size_t arglen[3], plen;
    char path[STORE_PATH_BUF];
    uint64_t depth = 0;
    int n = split_args(r, argv, arglen, 3), rc;
    uint32_t strip;

    if (n < 2 || (n == 3 && mv_parse_uint(argv[2], 0, XENSTORE_PAYLOAD_MAX, &depth)))
        return -EINVAL;
    rc = get_path(r, argv[0], arglen[0], true, path, &plen);
    if (rc)
        return rc;
    /* A relative watch reports paths relative to the home. */
    strip = argv[0][0] != '/' && argv[0][0] != '@' ? r->ctx->conn->home_len + 1 : 0;
    rc = store_watch_add(r->ctx, path, plen, argv[1], arglen[1], n == 3 ? (int)depth : -1, strip);
    if (rc)
        return rc;
    /* The first event, even if the node does not exist, after the OK. */
    {
        struct store_conn *c = r->ctx->conn;
        const char *p = path + strip;
        size_t pl = plen - strip;

        /* (An event too long for one message is dropped, as Xen does.) */
        c->initial_pending = pl + arglen[1] + 2 <= XENSTORE_PAYLOAD_MAX;
        if (c->initial_pending) {
            memcpy(c->initial, p, pl);
            memcpy(c->initial + pl, argv[1], arglen[1]);
            c->initial_path_len = (uint32_t)pl;
            c->initial_token_len = (uint32_t)arglen[1];
        }
    }
    return reply_ok(r);
}

static int do_unwatch(struct request *r)
{
    const char *argv[2];
    size_t arglen[2], plen;
    char path[STORE_PATH_BUF];
    int rc;

    if (split_args(r, argv, arglen, 2) != 2)
        return -EINVAL;
    rc = get_path(r, argv[0], arglen[0], true, path, &plen);
    if (rc)
        return rc;
    rc = store_watch_remove(r->ctx, path, plen, argv[1], arglen[1]);
    return rc ? rc : reply_ok(r);
}

static int do_transaction_start(struct request *r)
{
    uint32_t id;
    char buf[16];
    int rc;

    if (r->ctx->txn)
        return -EBUSY; /* no nesting */
    if (r->len > 1 || (r->len == 1 && r->payload[0] != '\0'))
        return -EINVAL;
    rc = store_txn_start(r->ctx, &id);
    if (rc)
        return rc;
    snprintf(buf, sizeof(buf), "%u", id);
    return reply_str(r, buf);
}

static int do_transaction_end(struct request *r)
{
    const char *arg;
    size_t alen;
    int rc;

    if (!r->ctx->txn)
        return -ENOENT;
    if (onearg(r, &arg, &alen) || alen != 1 || (arg[0] != 'T' && arg[0] != 'F'))
        return -EINVAL;
    rc = store_txn_end(r->ctx, arg[0] == 'T');
    return rc ? rc : reply_ok(r);
}

static int parse_domid(const char *s, uint32_t max, uint32_t *out)
{
    uint64_t v;

    if (mv_parse_uint(s, 0, max, &v))
        return -EINVAL;
    *out = (uint32_t)v;
    return 0;
}

static int do_introduce(struct request *r)
{
    struct store *s = r->ctx->s;
    const char *argv[3];
    size_t arglen[3];
    uint32_t domid, evtchn;
    struct store_domain *d;

    if (split_args(r, argv, arglen, 3) != 3 ||
        parse_domid(argv[0], DOMID_FIRST_RESERVED - 1, &domid) ||
        parse_domid(argv[2], UINT32_MAX, &evtchn) || evtchn == 0 || domid == 0)
        return -EINVAL;
    /* On a host, only a domain that exists (the gfn and event channel
     * name its ring, which memvisor does not map: guests connect in
     * process). */
    if (s->cfg.domain_exists && !s->cfg.domain_exists(s->cfg.domain_arg, (domid_t)domid))
        return -ENOENT;
    d = store_domain_get(s, (domid_t)domid, true);
    if (!d)
        return -ENOMEM;
    if (!d->introduced) {
        d->introduced = true;
        store_fire_special(s, "@introduceDomain", (domid_t)domid);
    }
    return reply_ok(r);
}

static int do_release(struct request *r)
{
    const char *arg;
    size_t alen;
    uint32_t domid;

    if (onearg(r, &arg, &alen) || parse_domid(arg, DOMID_FIRST_RESERVED - 1, &domid))
        return -EINVAL;
    if (domid == 0 || domid == r->ctx->conn->domid)
        return -EINVAL;
    if (!r->ctx->s->domains[domid] || !r->ctx->s->domains[domid]->introduced)
        return -ENOENT;
    store_domain_remove(r->ctx->s, (domid_t)domid);
    return reply_ok(r);
}

static int do_get_domain_path(struct request *r)
{
    const char *arg;
    size_t alen;
    uint32_t domid;
    char buf[32];

    if (onearg(r, &arg, &alen) || parse_domid(arg, STORE_MAX_DOMID - 1, &domid))
        return -EINVAL;
    snprintf(buf, sizeof(buf), "/local/domain/%u", domid);
    return reply_str(r, buf);
}

static int do_is_domain_introduced(struct request *r)
{
    const char *arg;
    size_t alen;
    uint32_t domid;

    if (onearg(r, &arg, &alen) || parse_domid(arg, STORE_MAX_DOMID - 1, &domid))
        return -EINVAL;
    if (domid == DOMID_SELF || domid == 0)
        return reply_str(r, "T");
    return reply_str(r, r->ctx->s->domains[domid] && r->ctx->s->domains[domid]->introduced ? "T"
                                                                                        : "F");
}

static int do_resume(struct request *r)
{
    const char *arg;
    size_t alen;
    uint32_t domid;

    if (onearg(r, &arg, &alen) || parse_domid(arg, DOMID_FIRST_RESERVED - 1, &domid))
        return -EINVAL;
    if (domid != 0 && (!r->ctx->s->domains[domid] || !r->ctx->s->domains[domid]->introduced))
        return -ENOENT;
    return reply_ok(r);
}

static int do_set_target(struct request *r)
{
    const char *argv[2];
    size_t arglen[2];
    uint32_t domid, target;
    struct store_domain *d;

    if (split_args(r, argv, arglen, 2) != 2 ||
        parse_domid(argv[0], DOMID_FIRST_RESERVED - 1, &domid) ||
        parse_domid(argv[1], DOMID_FIRST_RESERVED - 1, &target))
        return -EINVAL;
    d = r->ctx->s->domains[domid];
    if (!d || !d->introduced || !store_domain_exists(r->ctx->s, target))
        return -ENOENT;
    d->target = target;
    return reply_ok(r);
}

static int do_reset_watches(struct request *r)
{
    struct store_conn *c = r->ctx->conn;

    store_watch_remove_all(r->ctx->s, c);
    store_txn_drop_all(r->ctx->s, c);
    r->ctx->txn = NULL;
    return reply_ok(r);
}

static int do_control(struct request *r)
{
    return store_control(r->ctx, r->payload, r->len, r->reply, r->reply_len);
}

typedef int (*handler_fn)(struct request *r);

static const struct {
    handler_fn fn;
    bool priv;      /* the control domain only */
    bool uses_txn;  /* the header's tx_id selects a transaction */
} handlers[XS_TYPE_COUNT] = {
    [XS_CONTROL] = { do_control, true, false },
    [XS_DIRECTORY] = { do_directory, false, true },
    [XS_READ] = { do_read, false, true },
    [XS_GET_PERMS] = { do_get_perms, false, true },
    [XS_WATCH] = { do_watch, false, false },
    [XS_UNWATCH] = { do_unwatch, false, false },
    [XS_TRANSACTION_START] = { do_transaction_start, false, false },
    [XS_TRANSACTION_END] = { do_transaction_end, false, true },
    [XS_INTRODUCE] = { do_introduce, true, false },
    [XS_RELEASE] = { do_release, true, false },
    [XS_GET_DOMAIN_PATH] = { do_get_domain_path, false, false },
    [XS_WRITE] = { do_write, false, true },
    [XS_MKDIR] = { do_mkdir, false, true },
    [XS_RM] = { do_rm, false, true },
    [XS_SET_PERMS] = { do_set_perms, false, true },
    [XS_IS_DOMAIN_INTRODUCED] = { do_is_domain_introduced, true, false },
    [XS_RESUME] = { do_resume, true, false },
    [XS_SET_TARGET] = { do_set_target, true, false },
    [XS_RESET_WATCHES] = { do_reset_watches, false, false },
    [XS_DIRECTORY_PART] = { do_directory_part, false, true },
};

enum xsd_sockmsg_type store_dispatch(struct store_ctx *ctx, const struct xsd_sockmsg *hdr,
                         const uint8_t *payload, uint8_t *reply, uint32_t *reply_len)
{
    struct request r = { ctx, hdr, (const char *)payload, hdr->len, (char *)reply, reply_len };
    int rc;

    *reply_len = 0;
    ctx->txn = NULL;
    if (hdr->type >= XS_TYPE_COUNT || !handlers[hdr->type].fn) {
        rc = -ENOSYS;
    } else if (handlers[hdr->type].priv && !ctx->conn->privileged) {
        rc = -EACCES;
    } else if (ctx->conn->dead) {
        rc = -EIO;
    } else if (hdr->tx_id && (handlers[hdr->type].uses_txn || hdr->type == XS_TRANSACTION_START)) {
        /* A tx_id naming no transaction of this connection is ENOENT;
         * TRANSACTION_START inside one is EBUSY (no nesting). */
        ctx->txn = store_txn_find(ctx->conn, hdr->tx_id);
        rc = ctx->txn ? handlers[hdr->type].fn(&r) : -ENOENT;
    } else {
        rc = handlers[hdr->type].fn(&r);
    }
    if (rc == 0 && *reply_len > XENSTORE_PAYLOAD_MAX)
        rc = -E2BIG;
    if (ctx->s->log_requests)
        mv_log(&ctx->s->cfg.log, MV_LOG_INFO, "xenstore: d%u type %u tx %u -> %s",
               ctx->conn->domid, hdr->type, hdr->tx_id, rc ? store_error_name(rc) : "ok");
    if (rc) {
        const char *name = store_error_name(rc);
        size_t n = strlen(name) + 1;

        memcpy(reply, name, n);
        *reply_len = (uint32_t)n;
        return XS_ERROR;
    }
    return (enum xsd_sockmsg_type)hdr->type;
}
