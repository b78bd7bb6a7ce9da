/*
 * The store and its connections; the typed helpers for in-process
 * callers; Xen's error names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

#define NODE_HASH_BUCKETS 1024
#define WATCH_HASH_BUCKETS 256

/* Xen's names (xsd_errors, in xs_wire.h); EINVAL for the rest, as Xen. */
const char *store_error_name(int err)
{
    if (err < 0)
        err = -err;
    for (size_t i = 0; i < ARRAY_SIZE(xsd_errors); i++)
        if (xsd_errors[i].errnum == err)
            return xsd_errors[i].errstring;
    return "EINVAL";
}

int store_error_from_name(const char *name, size_t len)
{
    for (size_t i = 0; i < ARRAY_SIZE(xsd_errors); i++)
        if (strnlen(name, len) == strlen(xsd_errors[i].errstring) &&
            !memcmp(name, xsd_errors[i].errstring, strlen(xsd_errors[i].errstring)))
            return -xsd_errors[i].errnum;
    return -EINVAL;
}

void store_config_default(struct store_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->quota = (struct store_quota){ 1000, 128, 10, 1024, 2048, 5, 2048 };
    cfg->log.level = MV_LOG_WARN;
}

/* The tree a fresh xenstored has (setup_structure): "/", /tool,
 * /tool/xenstored and the special nodes, owned by dom0, readable by none. */
static int initial_tree(struct store *s)
{
    static const struct store_perm dom0_only = { 0, STORE_PERM_NONE };
    static const char *const specials[] = { "@releaseDomain", "@introduceDomain" };
    struct store_node *tool, *n;
    int rc;

    rc = store_tree_create(s, "/", 1, NULL, &dom0_only, 1, &s->root);
    if (!rc)
        rc = store_tree_create(s, "/tool", 5, s->root, &dom0_only, 1, &tool);
    if (!rc)
        rc = store_tree_create(s, "/tool/xenstored", 15, tool, &dom0_only, 1, &n);
    for (size_t i = 0; i < ARRAY_SIZE(specials) && !rc; i++)
        rc = store_tree_create(s, specials[i], strlen(specials[i]), NULL, &dom0_only, 1, &n);
    return rc;
}

int store_create(const struct store_config *cfg, struct store **out)
{
    struct store *s = calloc(1, sizeof(*s));
    int rc = -ENOMEM;

    if (!s)
        return -ENOMEM;
    s->cfg = *cfg;
    lock_init(&s->lock, LOCK_RANK_STORE, "xenstore");
    s->owned = calloc(STORE_MAX_DOMID, sizeof(*s->owned));
    s->check_owned = calloc(STORE_MAX_DOMID, sizeof(*s->check_owned));
    if (!s->owned || !s->check_owned || store_hash_init(&s->nodes, NODE_HASH_BUCKETS) ||
        store_hash_init(&s->watches, WATCH_HASH_BUCKETS))
        goto fail;
    rc = initial_tree(s);
    if (rc)
        goto fail;
    *out = s;
    return 0;
fail:
    store_destroy(s);
    return rc;
}

void store_destroy(struct store *s)
{
    if (!s)
        return;
    while (s->conns)
        store_conn_close(s->conns);
    for (size_t b = 0; b < s->nodes.nbuckets; b++) {
        struct store_hentry *e = s->nodes.buckets[b];
        while (e) {
            struct store_node *n = (struct store_node *)e;
            e = e->next;
            free(n->path);
            free(n->value);
            free(n->perms);
            free(n->names);
            free(n);
        }
    }
    store_history_fini(s);
    for (size_t d = 0; d < STORE_MAX_DOMID; d++)
        free(s->domains[d]);
    store_hash_fini(&s->nodes);
    store_hash_fini(&s->watches);
    free(s->owned);
    free(s->check_owned);
    lock_fini(&s->lock);
    free(s);
}

int store_conn_open(struct store *s, domid_t domid, bool privileged,
                    const struct store_event_sink *sink, struct store_conn **out)
{
    struct store_conn *c;
    int rc = 0;

    c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->s = s;
    c->domid = domid;
    c->privileged = privileged;
    if (sink)
        c->sink = *sink;
    c->home_len = (uint32_t)snprintf(c->home, sizeof(c->home), "/local/domain/%u", domid);
    lock_acquire(&s->lock);
    if (!privileged && (!s->domains[domid] || !s->domains[domid]->introduced)) {
        rc = -ENOENT; /* a guest connects once the toolstack introduced it */
    } else {
        c->next = s->conns;
        if (s->conns)
            s->conns->prev = c;
        s->conns = c;
        s->nr_conns++;
    }
    lock_release(&s->lock);
    if (rc) {
        free(c);
        return rc;
    }
    *out = c;
    return 0;
}

void store_conn_close(struct store_conn *c)
{
    struct store *s = c->s;

    lock_acquire(&s->lock);
    store_watch_remove_all(s, c);
    store_txn_drop_all(s, c);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->nr_conns--;
    lock_release(&s->lock);
    free(c);
}

enum xsd_sockmsg_type store_conn_request(struct store_conn *c, const struct xsd_sockmsg *hdr,
                             const uint8_t *payload, uint8_t *reply, uint32_t *reply_len)
{
    struct store_ctx ctx = { c->s, c, NULL };
    enum xsd_sockmsg_type type;

    lock_acquire(&c->s->lock);
    c->initial_pending = false;
    type = store_dispatch(&ctx, hdr, payload, reply, reply_len);
    lock_release(&c->s->lock);
    return type;
}

void store_conn_after_reply(struct store_conn *c)
{
    lock_acquire(&c->s->lock);
    if (c->initial_pending && c->sink.event && !c->dead)
        c->sink.event(c->sink.arg, c->initial, c->initial_path_len,
                      c->initial + c->initial_path_len, c->initial_token_len);
    c->initial_pending = false;
    lock_release(&c->s->lock);
}

int store_reader_next(const struct store_reader *r, uint32_t *off, struct xsd_sockmsg *hdr,
                      const uint8_t **payload)
{
    if (r->len - *off < STORE_HEADER_BYTES)
        return 0;
    memcpy(hdr, r->buf + *off, sizeof(*hdr));
    if (hdr->len > XENSTORE_PAYLOAD_MAX)
        return -EPROTO;
    if (r->len - *off - STORE_HEADER_BYTES < hdr->len)
        return 0;
    *payload = r->buf + *off + STORE_HEADER_BYTES;
    *off += STORE_HEADER_BYTES + hdr->len;
    return 1;
}

void store_reader_consume(struct store_reader *r, uint32_t off)
{
    memmove(r->buf, r->buf + off, r->len - off);
    r->len -= off;
}

void store_stats(struct store *s, struct store_stats *out)
{
    lock_acquire(&s->lock);
    out->nodes = s->nodes.count;
    out->bytes = s->bytes;
    out->watches = s->nr_watches;
    out->transactions = s->nr_txns;
    out->connections = s->nr_conns;
    out->generation = s->generation;
    out->past_versions = s->past_versions;
    out->past_bytes = s->past_bytes;
    lock_release(&s->lock);
}

/*
 * The typed helpers: each builds the message a client would send.
 */
struct msg {
    uint8_t payload[XENSTORE_PAYLOAD_MAX + 2];
    uint32_t len;
};

static int msg_add(struct msg *m, const void *data, size_t len, bool nul)
{
    if (m->len + len + nul > XENSTORE_PAYLOAD_MAX)
        return -E2BIG;
    memcpy(m->payload + m->len, data, len);
    m->len += (uint32_t)len;
    if (nul)
        m->payload[m->len++] = '\0';
    return 0;
}

static int msg_add_str(struct msg *m, const char *s)
{
    return msg_add(m, s, strlen(s), true);
}

/* Sends m; the reply lands in reply/reply_len.  0 or -errno. */
static int call(struct store_conn *c, enum xsd_sockmsg_type type, uint32_t tx, const struct msg *m,
                uint8_t *reply, uint32_t *reply_len)
{
    struct xsd_sockmsg hdr = { type, 0, tx, m->len };
    enum xsd_sockmsg_type got = store_conn_request(c, &hdr, m->payload, reply, reply_len);

    if (got == XS_ERROR)
        return store_error_from_name((const char *)reply, *reply_len);
    store_conn_after_reply(c);
    return 0;
}

static int simple_call(struct store_conn *c, enum xsd_sockmsg_type type, uint32_t tx,
                       const struct msg *m)
{
    uint8_t reply[XENSTORE_PAYLOAD_MAX + 1];
    uint32_t len;

    return call(c, type, tx, m, reply, &len);
}

static int copy_out(const uint8_t *reply, uint32_t len, void *buf, size_t cap, size_t *out_len)
{
    if (len > cap)
        return -E2BIG;
    memcpy(buf, reply, len);
    *out_len = len;
    return 0;
}

int store_read(struct store_conn *c, uint32_t tx, const char *path, char *value, size_t cap,
               size_t *len)
{
    uint8_t reply[XENSTORE_PAYLOAD_MAX + 1];
    struct msg m = { .len = 0 };
    uint32_t rlen;
    int rc;

    if ((rc = msg_add_str(&m, path)) || (rc = call(c, XS_READ, tx, &m, reply, &rlen)))
        return rc;
    return copy_out(reply, rlen, value, cap, len);
}

int store_write(struct store_conn *c, uint32_t tx, const char *path, const void *value, size_t len)
{
    struct msg m = { .len = 0 };
    int rc;

    if ((rc = msg_add_str(&m, path)) || (rc = msg_add(&m, value, len, false)))
        return rc;
    return simple_call(c, XS_WRITE, tx, &m);
}

static int path_call(struct store_conn *c, enum xsd_sockmsg_type type, uint32_t tx,
                     const char *path)
{
    struct msg m = { .len = 0 };
    int rc = msg_add_str(&m, path);

    return rc ? rc : simple_call(c, type, tx, &m);
}

int store_mkdir(struct store_conn *c, uint32_t tx, const char *path)
{
    return path_call(c, XS_MKDIR, tx, path);
}

int store_rm(struct store_conn *c, uint32_t tx, const char *path)
{
    return path_call(c, XS_RM, tx, path);
}

int store_directory(struct store_conn *c, uint32_t tx, const char *path, char *buf, size_t cap,
                    size_t *len)
{
    uint8_t reply[XENSTORE_PAYLOAD_MAX + 1];
    struct msg m = { .len = 0 };
    uint32_t rlen;
    int rc;

    if ((rc = msg_add_str(&m, path)) || (rc = call(c, XS_DIRECTORY, tx, &m, reply, &rlen)))
        return rc;
    return copy_out(reply, rlen, buf, cap, len);
}

int store_set_perms(struct store_conn *c, uint32_t tx, const char *path, const char *perms,
                    size_t len)
{
    struct msg m = { .len = 0 };
    int rc;

    if ((rc = msg_add_str(&m, path)) || (rc = msg_add(&m, perms, len, false)))
        return rc;
    return simple_call(c, XS_SET_PERMS, tx, &m);
}

int store_get_perms(struct store_conn *c, uint32_t tx, const char *path, char *buf, size_t cap,
                    size_t *len)
{
    uint8_t reply[XENSTORE_PAYLOAD_MAX + 1];
    struct msg m = { .len = 0 };
    uint32_t rlen;
    int rc;

    if ((rc = msg_add_str(&m, path)) || (rc = call(c, XS_GET_PERMS, tx, &m, reply, &rlen)))
        return rc;
    return copy_out(reply, rlen, buf, cap, len);
}

static int two_call(struct store_conn *c, enum xsd_sockmsg_type type, const char *a, const char *b)
{
    struct msg m = { .len = 0 };
    int rc;

    if ((rc = msg_add_str(&m, a)) || (rc = msg_add_str(&m, b)))
        return rc;
    return simple_call(c, type, 0, &m);
}

int store_watch(struct store_conn *c, const char *path, const char *token)
{
    return two_call(c, XS_WATCH, path, token);
}

int store_unwatch(struct store_conn *c, const char *path, const char *token)
{
    return two_call(c, XS_UNWATCH, path, token);
}

int store_transaction_start(struct store_conn *c, uint32_t *tx)
{
    uint8_t reply[XENSTORE_PAYLOAD_MAX + 1];
    struct msg m = { .len = 1, .payload = { 0 } };
    uint32_t rlen;
    uint64_t id;
    int rc = call(c, XS_TRANSACTION_START, 0, &m, reply, &rlen);

    if (rc)
        return rc;
    if (rlen < 2 || mv_parse_uint((const char *)reply, 1, UINT32_MAX, &id))
        return -EIO;
    *tx = (uint32_t)id;
    return 0;
}

int store_transaction_end(struct store_conn *c, uint32_t tx, bool commit)
{
    return path_call(c, XS_TRANSACTION_END, tx, commit ? "T" : "F");
}

int store_introduce(struct store_conn *c, domid_t domid)
{
    struct msg m = { .len = 0 };
    char id[8];
    int rc;

    snprintf(id, sizeof(id), "%u", domid);
    if ((rc = msg_add_str(&m, id)) || (rc = msg_add_str(&m, "0")) || (rc = msg_add_str(&m, "1")))
        return rc;
    return simple_call(c, XS_INTRODUCE, 0, &m);
}

int store_release(struct store_conn *c, domid_t domid)
{
    char id[8];

    snprintf(id, sizeof(id), "%u", domid);
    return path_call(c, XS_RELEASE, 0, id);
}
