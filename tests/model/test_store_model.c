/*
 * Model-based test of xenstore: the tree, permissions, quotas,
 * transactions and watch events.
 *
 * A plain reference model (an array of nodes found by linear search, each
 * transaction a list of private copies, children as name lists) predicts
 * the result of each random request from the control domain or one of two
 * guests, in or out of their transactions; the store runs it; results,
 * values, listings, permissions and the watch events every connection
 * receives are compared, and the store's checker runs after every step.
 * Every 64 steps the whole tree is compared.  A failure prints the seed
 * and step that replay it:
 *   MV_MODEL_SEED=<seed> MV_MODEL_OPS=<n> test_store_model
 */
#include <stdint.h>
#include <stdio.h>

#include "../store_support.h"
#include "../support.h"

#define M_NODES 256
#define M_PATH 96
#define M_VALUE 48
#define M_PERMS 4
#define M_CHILDREN 16
#define M_NAME 16
#define M_CONNS 3
#define M_TXNS 2         /* per connection, at most */
#define M_TXNODES 256
#define M_EVENTS 64
#define ABSENT UINT64_MAX

/* Rights, as on the wire; the owner has M_OWNER too. */
#define M_R 1
#define M_W 2
#define M_OWNER 8

/* The quotas the guests are held to: small, so that they bite. */
static const struct store_quota quota = { 10, 128, 2, 1024, 64, 3, 2048 };

struct mperm {
    uint32_t id;
    uint8_t rights;     /* M_R | M_W */
    bool ignore;        /* named a domain that did not exist */
};

/* A node's state; a transaction keeps copies of these. */
struct mstate {
    bool exists;
    char value[M_VALUE];
    unsigned vlen;
    struct mperm perms[M_PERMS];
    unsigned nperms;
    char children[M_CHILDREN][M_NAME];
    unsigned nchildren;
};

struct mnode {
    char path[M_PATH];
    struct mstate st;   /* st.exists: the slot is in use */
    uint64_t version;
};

struct mtxnode {
    char path[M_PATH];
    struct mstate st;
    uint64_t recorded;  /* its version at the start, or ABSENT */
    uint32_t owner;     /* its owner then (UINT32_MAX: absent) */
    bool modified;      /* value or permissions set, or created */
    bool was_deleted;
};

struct mevent {
    char path[M_PATH];
    bool exact;
};

struct mtxn {
    bool open;
    uint32_t id;
    bool failed;
    struct mnode snap[M_NODES]; /* the tree when it started: all it sees */
    struct mtxnode n[M_TXNODES];
    unsigned nr;
    struct mevent ev[M_EVENTS];
    unsigned nev;
};

struct mwatch {
    char path[M_PATH];   /* absolute */
    const char *token;
    unsigned strip;      /* a relative watch: the home and its '/' */
};

struct mconn {
    domid_t domid;
    bool priv;
    char home[24];
    struct store_conn *c;
    struct ts_events got;
    struct mtxn txn[M_TXNS];
    struct mwatch watch[2];
    unsigned nwatch;
    /* Events the model expects this step, "path|token". */
    char want[TS_MAX_EVENTS][128];
    unsigned nwant;
};

struct model {
    struct store *s;
    struct mnode node[M_NODES];
    uint64_t gen;
    struct mconn conn[M_CONNS];
    uint64_t rng, seed, step;
    bool failed;
    /* The transaction of the current request, or NULL. */
    struct mtxn *t;
    /* What happened, to show the run explored: results by errno, and
     * events delivered. */
    uint64_t results[64], events;
};

static uint64_t rnd(struct model *m, uint64_t n) { return n ? test_rng(&m->rng) % n : 0; }

#define MFAIL(m, ...)                                                                     \
    do {                                                                                  \
        fprintf(stderr, "  model: seed %" PRIu64 " step %" PRIu64 ": ", (m)->seed, (m)->step); \
        fprintf(stderr, __VA_ARGS__);                                                     \
        fprintf(stderr, "\n");                                                            \
        (m)->failed = true;                                                               \
        harness_failures++;                                                               \
    } while (0)

/* --- paths -------------------------------------------------------------- */

static size_t parent_len(const char *p)
{
    const char *slash = strrchr(p, '/');

    return !slash || slash == p ? 1 : (size_t)(slash - p);
}

static void parent_of(const char *p, char *out)
{
    size_t l = parent_len(p);

    memcpy(out, p, l);
    out[l] = '\0';
}

static const char *base_of(const char *p)
{
    return strrchr(p, '/') + 1;
}

/* a is b or below it. */
static bool is_at_or_below(const char *a, const char *b)
{
    size_t lb = strlen(b);

    if (!strcmp(b, "/"))
        return a[0] == '/';
    return !strncmp(a, b, lb) && (a[lb] == '\0' || a[lb] == '/');
}

/* --- the global tree -------------------------------------------------- */

static struct mnode *find_in(struct mnode *nodes, const char *path)
{
    for (unsigned i = 0; i < M_NODES; i++)
        if (nodes[i].st.exists && !strcmp(nodes[i].path, path))
            return &nodes[i];
    return NULL;
}

static struct mnode *gfind(struct model *m, const char *path)
{
    return find_in(m->node, path);
}

static void children_add(struct mstate *st, const char *name)
{
    if (st->nchildren < M_CHILDREN)
        snprintf(st->children[st->nchildren++], M_NAME, "%s", name);
}

static void children_remove(struct mstate *st, const char *name)
{
    for (unsigned i = 0; i < st->nchildren; i++) {
        if (!strcmp(st->children[i], name)) {
            memmove(&st->children[i], &st->children[i + 1], (st->nchildren - i - 1) * M_NAME);
            st->nchildren--;
            return;
        }
    }
}

static unsigned children_bytes(const struct mstate *st)
{
    unsigned b = 0;

    for (unsigned i = 0; i < st->nchildren; i++)
        b += (unsigned)strlen(st->children[i]) + 1;
    return b;
}

/* A new node in the global tree (its parent exists). */
static struct mnode *gcreate(struct model *m, const char *path, const struct mstate *st)
{
    char parent[M_PATH];
    struct mnode *p;

    for (unsigned i = 0; i < M_NODES; i++) {
        struct mnode *n = &m->node[i];
        if (n->st.exists)
            continue;
        snprintf(n->path, M_PATH, "%s", path);
        n->st = *st;
        n->st.exists = true;
        n->version = ++m->gen;
        parent_of(path, parent);
        p = gfind(m, parent);
        if (p && strcmp(path, "/")) {
            children_add(&p->st, base_of(path));
            p->version = ++m->gen;
        }
        return n;
    }
    MFAIL(m, "model out of nodes");
    return NULL;
}

/* Removes a node and everything below it. */
static void gdelete(struct model *m, const char *path)
{
    char parent[M_PATH], copy[M_PATH];
    struct mnode *p;

    snprintf(copy, sizeof(copy), "%s", path);
    for (unsigned i = 0; i < M_NODES; i++)
        if (m->node[i].st.exists && is_at_or_below(m->node[i].path, copy))
            m->node[i].st.exists = false;
    parent_of(copy, parent);
    p = gfind(m, parent);
    if (p) {
        children_remove(&p->st, base_of(copy));
        p->version = ++m->gen;
    }
}

/* --- views: a node as the current request sees it ---------------------- */

static struct mtxnode *tfind(struct mtxn *t, const char *path)
{
    for (unsigned i = 0; i < t->nr; i++)
        if (!strcmp(t->n[i].path, path))
            return &t->n[i];
    return NULL;
}

/* The state of path for the request: a transaction's copy (made on first
 * touch, of the node as it was when the transaction started), or the
 * global node. */
static struct mstate *view(struct model *m, const char *path)
{
    static struct mstate absent;
    struct mtxnode *tn;
    struct mnode *g = find_in(m->t ? m->t->snap : m->node, path);

    if (!m->t) {
        memset(&absent, 0, sizeof(absent));
        return g ? &g->st : &absent;
    }
    tn = tfind(m->t, path);
    if (tn)
        return &tn->st;
    if (m->t->nr == M_TXNODES) {
        MFAIL(m, "model transaction out of nodes");
        return &absent;
    }
    tn = &m->t->n[m->t->nr++];
    memset(tn, 0, sizeof(*tn));
    snprintf(tn->path, M_PATH, "%s", path);
    if (g) {
        tn->st = g->st;
        tn->recorded = g->version;
        tn->owner = g->st.perms[0].id;
    } else {
        tn->recorded = ABSENT;
        tn->owner = UINT32_MAX;
    }
    return &tn->st;
}

static unsigned perm_for(const struct mconn *c, const struct mperm *p, unsigned n)
{
    if (c->priv || p[0].id == c->domid)
        return M_R | M_W | M_OWNER;
    for (unsigned i = 1; i < n; i++)
        if (!p[i].ignore && p[i].id == c->domid)
            return p[i].rights;
    return p[0].rights;
}

static unsigned vperm(const struct mconn *c, const struct mstate *st)
{
    return perm_for(c, st->perms, st->nperms);
}

/* Xen's errno_from_parents: the real error only if the nearest existing
 * ancestor grants the access. */
static int masked(struct model *m, struct mconn *c, const char *path, unsigned perm, int err)
{
    char p[M_PATH];

    snprintf(p, sizeof(p), "%s", path);
    while (strcmp(p, "/")) {
        struct mstate *st;
        char up[M_PATH];

        parent_of(p, up);
        snprintf(p, sizeof(p), "%s", up);
        st = view(m, p);
        if (st->exists)
            return (vperm(c, st) & perm) == perm ? err : -EACCES;
    }
    return -EACCES;
}

static int get_node(struct model *m, struct mconn *c, const char *path, unsigned perm,
                    struct mstate **out)
{
    struct mstate *st = view(m, path);

    *out = st;
    if (!st->exists)
        return masked(m, c, path, perm, -ENOENT);
    if ((vperm(c, st) & perm) != perm)
        return masked(m, c, path, perm, -EACCES);
    return 0;
}

/* What a transaction changes in a domain's node count: its copies'
 * owners now, less their owners when first touched. */
static int64_t owned_delta(const struct mtxn *t, domid_t d)
{
    int64_t delta = 0;

    for (unsigned i = 0; t && i < t->nr; i++) {
        delta += t->n[i].st.exists && t->n[i].st.perms[0].id == d;
        delta -= t->n[i].owner == d;
    }
    return delta;
}

/* Nodes owned by a domain, as the request sees the store. */
static int64_t owned(struct model *m, domid_t d)
{
    int64_t n = 0;

    for (unsigned i = 0; i < M_NODES; i++)
        if (m->node[i].st.exists && m->node[i].st.perms[0].id == d)
            n++;
    return n + owned_delta(m->t, d);
}

static bool too_big(const struct mconn *c, unsigned nperms, unsigned vlen, unsigned cbytes)
{
    return !c->priv && 16 + 8 * nperms + vlen + cbytes >= quota.node_size;
}

/* --- events ------------------------------------------------------------ */

static void want_event(struct mconn *c, const struct mwatch *w, const char *path)
{
    if (c->nwant < TS_MAX_EVENTS) {
        const char *p = path;
        if (w->strip && strlen(path) > w->strip)
            p += w->strip;
        snprintf(c->want[c->nwant++], 128, "%s|%s", p, w->token);
    }
}

/* Whether a guest may see a change at path: it can read the node or its
 * parent (as they are now), or the node's old permissions allowed it. */
static bool may_see(struct model *m, struct mconn *c, const char *path, const struct mstate *old)
{
    char parent[M_PATH];
    struct mnode *n;

    if (c->priv)
        return true;
    if (old && (vperm(c, old) & M_R))
        return true;
    n = gfind(m, path);
    if (n && (vperm(c, &n->st) & M_R))
        return true;
    parent_of(path, parent);
    n = gfind(m, parent);
    return n && (vperm(c, &n->st) & M_R);
}

/* An event at path, now (outside transactions). */
static void fire(struct model *m, const char *path, bool exact, const struct mstate *old)
{
    for (unsigned i = 0; i < M_CONNS; i++) {
        struct mconn *c = &m->conn[i];
        for (unsigned w = 0; w < c->nwatch; w++) {
            const struct mwatch *wa = &c->watch[w];
            bool match = exact ? !strcmp(wa->path, path) : is_at_or_below(path, wa->path);
            if (match && may_see(m, c, path, old))
                want_event(c, wa, path);
        }
    }
}

/* An event for the request: now, or when its transaction commits. */
static void event(struct model *m, const char *path, bool exact, const struct mstate *old)
{
    struct mtxn *t = m->t;

    if (!t) {
        fire(m, path, exact, old);
        return;
    }
    for (unsigned i = 0; i < t->nev; i++) {
        if (!strcmp(t->ev[i].path, path)) {
            t->ev[i].exact &= exact;
            return;
        }
    }
    if (t->nev < M_EVENTS) {
        snprintf(t->ev[t->nev].path, M_PATH, "%s", path);
        t->ev[t->nev++].exact = exact;
    }
}

/* --- the requests, as the model sees them ------------------------------ */

static void set_value(struct model *m, struct mstate *st, const char *value, unsigned vlen)
{
    memcpy(st->value, value, vlen);
    st->vlen = vlen;
    if (m->t) {
        ((struct mtxnode *)((char *)st - offsetof(struct mtxnode, st)))->modified = true;
    } else {
        ((struct mnode *)((char *)st - offsetof(struct mnode, st)))->version = ++m->gen;
    }
}

/* A new child of parent (whose state is pst), as WRITE or MKDIR makes it. */
static struct mstate *create(struct model *m, struct mconn *c, const char *path,
                             struct mstate *pst)
{
    struct mstate st;

    memset(&st, 0, sizeof(st));
    st.exists = true;
    memcpy(st.perms, pst->perms, sizeof(st.perms));
    st.nperms = pst->nperms;
    if (!c->priv)
        st.perms[0].id = c->domid;
    if (!m->t)
        return &gcreate(m, path, &st)->st;
    {
        struct mstate *tst = view(m, path);
        struct mtxnode *tn = (struct mtxnode *)((char *)tst - offsetof(struct mtxnode, st));
        *tst = st;
        tn->modified = true;
        children_add(pst, base_of(path));
        return tst;
    }
}

static int create_path(struct model *m, struct mconn *c, const char *path, unsigned vlen,
                       struct mstate **out)
{
    char chain[8][M_PATH], p[M_PATH];
    unsigned missing = 0;
    struct mstate *pst;

    snprintf(p, sizeof(p), "%s", path);
    for (;;) {
        char up[M_PATH];
        snprintf(chain[missing++], M_PATH, "%s", p);
        parent_of(p, up);
        snprintf(p, sizeof(p), "%s", up);
        pst = view(m, p);
        if (pst->exists)
            break;
    }
    if (!(vperm(c, pst) & M_W))
        return -EACCES;
    if (!c->priv && owned(m, c->domid) + missing > (int64_t)quota.nodes)
        return -ENOSPC;
    if (too_big(c, pst->nperms, pst->vlen,
                children_bytes(pst) + (unsigned)strlen(base_of(chain[missing - 1])) + 1))
        return -ENOSPC;
    for (unsigned i = missing - 1; i > 0; i--)
        if (too_big(c, pst->nperms, 0, (unsigned)strlen(base_of(chain[i - 1])) + 1))
            return -ENOSPC;
    if (too_big(c, pst->nperms, vlen, 0))
        return -ENOSPC;
    while (missing--)
        pst = create(m, c, chain[missing], pst);
    *out = pst;
    return 0;
}

static int m_write(struct model *m, struct mconn *c, const char *path, const char *value,
                   unsigned vlen)
{
    struct mstate *st = view(m, path);
    int rc;

    if (st->exists) {
        if (!(vperm(c, st) & M_W))
            return masked(m, c, path, M_W, -EACCES);
        if (too_big(c, st->nperms, vlen, children_bytes(st)))
            return -ENOSPC;
    } else if ((rc = create_path(m, c, path, vlen, &st))) {
        return rc;
    }
    set_value(m, st, value, vlen);
    event(m, path, false, NULL);
    return 0;
}

static int m_mkdir(struct model *m, struct mconn *c, const char *path)
{
    struct mstate *st = view(m, path);
    int rc;

    if (st->exists)
        return vperm(c, st) & M_W ? 0 : masked(m, c, path, M_W, -EACCES);
    rc = create_path(m, c, path, 0, &st);
    if (!rc)
        event(m, path, false, NULL);
    return rc;
}

/* Every node at or below path (existing, in the request's view),
 * children before parents. */
static void tdelete(struct model *m, const char *path, bool root)
{
    struct mstate *st = view(m, path);
    struct mtxnode *tn = (struct mtxnode *)((char *)st - offsetof(struct mtxnode, st));
    char parent[M_PATH];

    while (st->nchildren) {
        char child[M_PATH];
        snprintf(child, sizeof(child), "%s/%s", strcmp(path, "/") ? path : "",
                 st->children[st->nchildren - 1]);
        tdelete(m, child, false);
    }
    memset(st, 0, sizeof(*st));
    tn->was_deleted = true;
    tn->modified = false;
    parent_of(path, parent);
    children_remove(view(m, parent), base_of(path));
    event(m, path, !root, NULL);
}

/* Outside a transaction: events for the subtree, post-order, each with
 * the node still there, then the removal. */
static void gfire_subtree(struct model *m, const char *path, bool root)
{
    struct mnode *n = gfind(m, path);

    for (unsigned i = n ? n->st.nchildren : 0; i-- > 0;) {
        char child[M_PATH];
        snprintf(child, sizeof(child), "%s/%s", strcmp(path, "/") ? path : "", n->st.children[i]);
        gfire_subtree(m, child, false);
    }
    fire(m, path, !root, NULL);
}

static int m_rm(struct model *m, struct mconn *c, const char *path)
{
    struct mstate *st;
    int rc = get_node(m, c, path, M_W, &st);

    if (rc == -ENOENT) {
        char parent[M_PATH];
        parent_of(path, parent);
        return view(m, parent)->exists ? 0 : -ENOENT;
    }
    if (rc)
        return rc;
    if (!strcmp(path, "/"))
        return -EINVAL;
    if (m->t) {
        tdelete(m, path, true);
    } else {
        gfire_subtree(m, path, true);
        gdelete(m, path);
    }
    return 0;
}

static const char perm_letter[4] = { 'n', 'r', 'w', 'b' };

static bool domain_exists(uint32_t id)
{
    return id <= 2;
}

static int m_set_perms(struct model *m, struct mconn *c, const char *path,
                       const struct mperm *perms, unsigned n)
{
    struct mstate *st, old;
    int rc;

    if (!c->priv && n > quota.node_perms)
        return -ENOSPC;
    if (!domain_exists(perms[0].id))
        return -ENOENT;
    rc = get_node(m, c, path, M_W | M_OWNER, &st);
    if (rc)
        return rc;
    if (!c->priv && perms[0].id != st->perms[0].id)
        return -EPERM;
    if (too_big(c, n, st->vlen, children_bytes(st)))
        return -ENOSPC;
    old = *st;
    memcpy(st->perms, perms, n * sizeof(*perms));
    for (unsigned i = 1; i < n; i++)
        st->perms[i].ignore = !domain_exists(perms[i].id);
    st->nperms = n;
    if (m->t)
        ((struct mtxnode *)((char *)st - offsetof(struct mtxnode, st)))->modified = true;
    else
        ((struct mnode *)((char *)st - offsetof(struct mnode, st)))->version = ++m->gen;
    event(m, path, false, &old);
    return 0;
}

/* Commits m->t: Xen's checks in Xen's order, then the removals, then
 * every copy that exists (parents first) becomes the node, children's
 * order included; versions move where the store's generations do. */
static int m_commit(struct model *m, struct mconn *c)
{
    struct mtxn *t = m->t;
    int64_t delta = owned_delta(t, c->domid);

    if (t->failed)
        return -ENOMEM;
    m->t = NULL;
    if (!c->priv && delta > 0 && owned(m, c->domid) + delta > (int64_t)quota.nodes)
        return -ENOSPC;
    for (unsigned i = 0; i < t->nr; i++) {
        struct mnode *g = gfind(m, t->n[i].path);
        if ((g ? g->version : ABSENT) != t->n[i].recorded)
            return -EAGAIN;
    }
    for (unsigned i = 0; i < t->nr; i++)
        if (t->n[i].was_deleted && gfind(m, t->n[i].path))
            gdelete(m, t->n[i].path);
    for (unsigned depth = 0; depth < 8; depth++) {
        for (unsigned i = 0; i < t->nr; i++) {
            struct mtxnode *tn = &t->n[i];
            unsigned d = 0;
            struct mnode *g;

            for (const char *p = tn->path + 1; *p; p++)
                d += *p == '/';
            d += strcmp(tn->path, "/") != 0;
            if (!tn->st.exists || d != depth)
                continue;
            g = gfind(m, tn->path);
            if (!g) {
                /* Created: its parent (placed already) changes too. */
                char parent[M_PATH];
                struct mnode *p;
                for (unsigned k = 0; k < M_NODES && !g; k++)
                    if (!m->node[k].st.exists)
                        g = &m->node[k];
                if (!g) {
                    MFAIL(m, "model out of nodes");
                    return -ENOMEM;
                }
                snprintf(g->path, M_PATH, "%s", tn->path);
                g->version = ++m->gen;
                parent_of(tn->path, parent);
                if ((p = gfind(m, parent)))
                    p->version = ++m->gen;
            } else if (tn->modified) {
                g->version = ++m->gen;
            }
            g->st = tn->st;
        }
    }
    for (unsigned i = 0; i < t->nev; i++)
        fire(m, t->ev[i].path, t->ev[i].exact, NULL);
    return 0;
}

/* --- running a request on both ------------------------------------------ */

static void random_path(struct model *m, struct mconn *c, char *rel, char *abs)
{
    static const char *const bases[] = { "/", "/local/domain/1", "/local/domain/2",
                                         "/local/domain/0", "" };
    static const char *const names[] = { "a", "b", "c" };
    const char *base = bases[rnd(m, ARRAY_SIZE(bases))];
    unsigned depth = 1 + (unsigned)rnd(m, 3);
    size_t n = 0;

    rel[0] = '\0';
    if (*base)
        n = (size_t)snprintf(rel, M_PATH, "%s", strcmp(base, "/") ? base : "");
    for (unsigned i = 0; i < depth; i++)
        n += (size_t)snprintf(rel + n, M_PATH - n, "%s%s", n || *base ? "/" : "",
                              names[rnd(m, ARRAY_SIZE(names))]);
    if (*base)
        snprintf(abs, M_PATH, "%s", rel);
    else
        snprintf(abs, M_PATH, "%.23s/%.64s", c->home, rel);
}

static void check_rc(struct model *m, const char *what, const char *path, int got, int want)
{
    m->results[-want < 64 ? -want : 63]++;
    if (got != want)
        MFAIL(m, "%s %s: store says %d, model %d", what, path, got, want);
}

/* The transaction the request runs in: none, or one of c's. */
static uint32_t pick_txn(struct model *m, struct mconn *c)
{
    unsigned open[M_TXNS], n = 0;

    m->t = NULL;
    for (unsigned i = 0; i < M_TXNS; i++)
        if (c->txn[i].open)
            open[n++] = i;
    if (!n || rnd(m, 2))
        return 0;
    m->t = &c->txn[open[rnd(m, n)]];
    return m->t->id;
}

static void format_perms(const struct mstate *st, char *out, size_t cap)
{
    size_t off = 0;

    out[0] = '\0';
    for (unsigned i = 0; i < st->nperms && off < cap; i++)
        off += (size_t)snprintf(out + off, cap - off, "%s%c%u", i ? "," : "",
                                perm_letter[st->perms[i].rights], st->perms[i].id);
}

static void format_children(const struct mstate *st, char *out, size_t cap)
{
    size_t off = 0;

    out[0] = '\0';
    for (unsigned i = 0; i < st->nchildren && off < cap; i++)
        off += (size_t)snprintf(out + off, cap - off, "%s%s", i ? "," : "", st->children[i]);
}

static void op_request(struct model *m, struct mconn *c)
{
    char rel[M_PATH], abs[M_PATH], value[M_VALUE];
    uint32_t tx = pick_txn(m, c);
    unsigned kind = (unsigned)rnd(m, 100);
    int got, want;

    random_path(m, c, rel, abs);
    if (kind < 30) {
        unsigned vlen = (unsigned)rnd(m, 40);
        for (unsigned i = 0; i < vlen; i++)
            value[i] = (char)('a' + rnd(m, 26));
        got = store_write(c->c, tx, rel, value, vlen);
        want = m_write(m, c, abs, value, vlen);
        check_rc(m, "write", abs, got, want);
    } else if (kind < 48) {
        char buf[XENSTORE_PAYLOAD_MAX];
        size_t len = 0;
        struct mstate *st;
        got = store_read(c->c, tx, rel, buf, sizeof(buf), &len);
        want = get_node(m, c, abs, M_R, &st);
        check_rc(m, "read", abs, got, want);
        if (!got && !want && (len != st->vlen || memcmp(buf, st->value, len)))
            MFAIL(m, "read %s: store has %.*s, model %.*s", abs, (int)len, buf, (int)st->vlen,
                  st->value);
    } else if (kind < 56) {
        got = store_mkdir(c->c, tx, rel);
        want = m_mkdir(m, c, abs);
        check_rc(m, "mkdir", abs, got, want);
    } else if (kind < 68) {
        got = store_rm(c->c, tx, rel);
        want = m_rm(m, c, abs);
        check_rc(m, "rm", abs, got, want);
    } else if (kind < 80) {
        struct mstate *st;
        char expect[512];
        const char *list = ts_dir(c->c, tx, rel, &got);
        want = get_node(m, c, abs, M_R, &st);
        check_rc(m, "directory", abs, got, want);
        if (!got && !want) {
            format_children(st, expect, sizeof(expect));
            if (strcmp(list, expect))
                MFAIL(m, "directory %s: store lists %s, model %s", abs, list, expect);
        }
    } else if (kind < 86) {
        char buf[256], expect[256];
        size_t len = 0;
        struct mstate *st;
        got = store_get_perms(c->c, tx, rel, buf, sizeof(buf), &len);
        want = get_node(m, c, abs, M_R, &st);
        check_rc(m, "get_perms", abs, got, want);
        if (!got && !want) {
            for (size_t i = 0; i + 1 < len; i++)
                if (buf[i] == '\0')
                    buf[i] = ',';
            buf[len ? len - 1 : 0] = '\0';
            format_perms(st, expect, sizeof(expect));
            if (strcmp(buf, expect))
                MFAIL(m, "get_perms %s: store has %s, model %s", abs, buf, expect);
        }
    } else {
        struct mperm perms[M_PERMS];
        unsigned n = 1 + (unsigned)rnd(m, M_PERMS);
        char wire[64];
        size_t off = 0;
        for (unsigned i = 0; i < n; i++) {
            perms[i].id = (uint32_t)rnd(m, 4); /* domain 3 does not exist */
            perms[i].rights = (uint8_t)rnd(m, 4);
            perms[i].ignore = false;
            off += (size_t)snprintf(wire + off, sizeof(wire) - off, "%c%u",
                                    perm_letter[perms[i].rights], perms[i].id) +
                1;
        }
        /* Guests mostly keep themselves as owner. */
        if (!c->priv && rnd(m, 4)) {
            perms[0].id = c->domid;
            wire[1] = (char)('0' + c->domid);
        }
        got = store_set_perms(c->c, tx, rel, wire, off);
        want = m_set_perms(m, c, abs, perms, n);
        check_rc(m, "set_perms", abs, got, want);
    }
    m->t = NULL;
}

static void op_transaction(struct model *m, struct mconn *c)
{
    unsigned i = (unsigned)rnd(m, M_TXNS);
    struct mtxn *t = &c->txn[i];
    int got, want;

    if (!t->open) {
        unsigned open = 0;
        uint32_t id = 0;
        for (unsigned k = 0; k < M_TXNS; k++)
            open += c->txn[k].open;
        got = store_transaction_start(c->c, &id);
        want = !c->priv && open >= quota.transactions ? -ENOSPC : 0;
        check_rc(m, "transaction_start", "", got, want);
        if (!got) {
            memset(t, 0, sizeof(*t));
            t->open = true;
            t->id = id;
            memcpy(t->snap, m->node, sizeof(t->snap));
        }
        return;
    }
    {
        bool commit = rnd(m, 5) != 0;
        got = store_transaction_end(c->c, t->id, commit);
        m->t = t;
        want = commit ? m_commit(m, c) : 0;
        m->t = NULL;
        check_rc(m, commit ? "commit" : "abort", "", got, want);
        t->open = false;
    }
}

/* Every connection received what the model expected this step (in any
 * order: one request's events are a set). */
static int cmp_str(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void compare_events(struct model *m)
{
    for (unsigned i = 0; i < M_CONNS; i++) {
        struct mconn *c = &m->conn[i];
        bool same = c->got.n == c->nwant;

        m->events += c->got.n;
        qsort(c->got.ev, c->got.n, sizeof(c->got.ev[0]), cmp_str);
        qsort(c->want, c->nwant, sizeof(c->want[0]), cmp_str);
        for (unsigned k = 0; same && k < c->nwant; k++)
            same = !strcmp(c->got.ev[k], c->want[k]);
        if (!same) {
            MFAIL(m, "d%u: %u events, model %u", c->domid, c->got.n, c->nwant);
            for (unsigned k = 0; k < c->got.n; k++)
                fprintf(stderr, "    store: %s\n", c->got.ev[k]);
            for (unsigned k = 0; k < c->nwant; k++)
                fprintf(stderr, "    model: %s\n", c->want[k]);
        }
        c->got.n = c->nwant = 0;
    }
}

/* The whole tree, as dom0 sees it outside transactions. */
static void compare_tree(struct model *m)
{
    struct mconn *c = &m->conn[0];
    unsigned count = 0;

    for (unsigned i = 0; i < M_NODES && !m->failed; i++) {
        struct mnode *n = &m->node[i];
        char expect[512], buf[XENSTORE_PAYLOAD_MAX];
        size_t len;
        int err;
        const char *list;

        if (!n->st.exists)
            continue;
        count++;
        if (store_read(c->c, 0, n->path, buf, sizeof(buf), &len) || len != n->st.vlen ||
            memcmp(buf, n->st.value, len))
            MFAIL(m, "tree: %s differs", n->path);
        list = ts_dir(c->c, 0, n->path, &err);
        format_children(&n->st, expect, sizeof(expect));
        if (err || strcmp(list, expect))
            MFAIL(m, "tree: %s lists %s, model %s", n->path, list, expect);
        format_perms(&n->st, expect, sizeof(expect));
        if (strcmp(ts_get_perms(c->c, n->path), expect))
            MFAIL(m, "tree: %s perms %s, model %s", n->path, ts_get_perms(c->c, n->path), expect);
    }
    {
        struct store_stats st;
        store_stats(m->s, &st);
        /* The store also has @introduceDomain and @releaseDomain. */
        if (st.nodes != count + 2)
            MFAIL(m, "tree: the store has %" PRIu64 " nodes, the model %u", st.nodes - 2, count);
    }
}

static void run_model(uint64_t seed, uint64_t ops)
{
    static struct model m;
    struct store_config cfg;
    static const char *const initial[] = { "/local/domain/1", "/local/domain/2" };

    memset(&m, 0, sizeof(m));
    m.seed = m.rng = seed;
    store_config_default(&cfg);
    cfg.quota = quota;
    cfg.log.level = MV_LOG_ERROR;
    REQUIRE(store_create(&cfg, &m.s) == 0);
    for (unsigned i = 0; i < M_CONNS; i++) {
        struct mconn *c = &m.conn[i];
        c->domid = (domid_t)i;
        c->priv = i == 0;
        snprintf(c->home, sizeof(c->home), "/local/domain/%u", i);
    }
    m.conn[0].c = ts_conn(m.s, 0, true, &m.conn[0].got);

    /* The model's start: the store's initial tree, then the guests'
     * homes, made through the store and mirrored. */
    {
        struct mstate root = { .exists = true, .perms = { { 0, 0, false } }, .nperms = 1 };
        gcreate(&m, "/", &root);
        gcreate(&m, "/tool", &root);
        gcreate(&m, "/tool/xenstored", &root);
    }
    for (unsigned i = 0; i < ARRAY_SIZE(initial); i++) {
        char perm[8];
        REQUIRE(store_introduce(m.conn[0].c, (domid_t)(i + 1)) == 0);
        REQUIRE(store_mkdir(m.conn[0].c, 0, initial[i]) == 0);
        REQUIRE(m_mkdir(&m, &m.conn[0], initial[i]) == 0);
        snprintf(perm, sizeof(perm), "n%u", i + 1);
        REQUIRE(store_set_perms(m.conn[0].c, 0, initial[i], perm, strlen(perm) + 1) == 0);
        REQUIRE(m_set_perms(&m, &m.conn[0], initial[i],
                            (struct mperm[]){ { i + 1, 0, false } }, 1) == 0);
    }
    for (unsigned i = 1; i < M_CONNS; i++)
        m.conn[i].c = ts_conn(m.s, (domid_t)i, false, &m.conn[i].got);
    /* Watches: everyone on "/", and guest 1 on its relative "a". */
    for (unsigned i = 0; i < M_CONNS; i++) {
        struct mconn *c = &m.conn[i];
        REQUIRE(store_watch(c->c, "/", "all") == 0);
        c->watch[c->nwatch++] = (struct mwatch){ "/", "all", 0 };
    }
    REQUIRE(store_watch(m.conn[1].c, "a", "rel") == 0);
    m.conn[1].watch[m.conn[1].nwatch] =
        (struct mwatch){ "", "rel", (unsigned)strlen(m.conn[1].home) + 1 };
    snprintf(m.conn[1].watch[m.conn[1].nwatch].path, M_PATH, "%s/a", m.conn[1].home);
    m.conn[1].nwatch++;
    for (unsigned i = 0; i < M_CONNS; i++)
        m.conn[i].got.n = 0;

    for (m.step = 0; m.step < ops && !m.failed; m.step++) {
        struct mconn *c = &m.conn[rnd(&m, M_CONNS)];

        if (rnd(&m, 100) < 12)
            op_transaction(&m, c);
        else
            op_request(&m, c);
        compare_events(&m);
        if (store_check(m.s, stderr))
            MFAIL(&m, "the store's checker failed");
        if (m.step % 64 == 0)
            compare_tree(&m);
    }
    if (!m.failed)
        compare_tree(&m);
    CHECK(!m.failed);
    printf("store model, seed %" PRIu64 ": %" PRIu64 " operations%s: %" PRIu64 " ok, %" PRIu64
           " ENOENT, %" PRIu64 " EACCES, %" PRIu64 " ENOSPC, %" PRIu64 " EAGAIN, %" PRIu64
           " EPERM, %" PRIu64 " EINVAL; %" PRIu64 " watch events\n",
           seed, m.step, m.failed ? " (FAILED)" : "", m.results[0], m.results[ENOENT],
           m.results[EACCES], m.results[ENOSPC], m.results[EAGAIN], m.results[EPERM],
           m.results[EINVAL], m.events);
    store_destroy(m.s);
}

static void test_store_model(void)
{
    uint64_t ops = env_u64("MV_MODEL_OPS", 1000000);
    uint64_t seed = env_u64("MV_MODEL_SEED", 0);

    if (seed) {
        run_model(seed, ops);
        return;
    }
    seed = mv_now_ns();
    for (unsigned r = 0; r < 4; r++)
        run_model(seed + r, ops / 4);
}

HARNESS_MAIN("store_model", TEST_ENTRY(test_store_model))
