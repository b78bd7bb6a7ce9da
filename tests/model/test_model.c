/*
 * Model-based test of the heap, domains, claims and physmap.
 *
 * A plain reference model (an owner per frame, counters, per-domain claims,
 * extent lists and a gfn array per HVM domain) predicts the result of each
 * random operation; the real host runs it; the two are compared, and every
 * checker runs after every step.  A failure prints the seed and step that
 * replay it:  MV_MODEL_SEED=<seed> MV_MODEL_OPS=<n> test_model
 *
 * Where the outcome is not determined by the counters alone (a large order
 * may fail for fragmentation; which node the pages come from), the model
 * checks that what happened is one of the allowed outcomes and adopts it.
 */
#include <stdint.h>
#include <stdio.h>

#include <xen/xen.h>
#include <xen/memory.h>

#include "../support.h"
#include "model_check.h"

#define RAM MiB(16)
#define NODES 2
#define MAX_DOMS 6
#define GFNS 4096
#define MAX_EXTENTS 4096
#define MAX_ANON 256

enum page_state { P_FREE, P_ANON, P_OWNED, P_OFFLINED };

struct mpage {
    uint8_t state;
    bool pending;   /* offlining: leaves the heap when freed */
    bool broken;
    int8_t owner;   /* model domain index for P_OWNED */
};

struct mextent {
    uint64_t mfn;
    unsigned order;
    bool extra;
};

struct mdom {
    bool used;
    bool hvm;
    struct domain *d;
    uint64_t tot, extra, max;
    uint64_t claim_global, claim_node[NODES];
    struct mextent *ext; /* PV domains */
    unsigned nr_ext;
    uint64_t *p2m;       /* HVM domains: gfn -> mfn or UINT64_MAX */
};

struct manon {
    uint64_t mfn;
    unsigned order;
};

struct model {
    struct hv *hv;
    struct tc_handle *tc;
    enum claim_gate gate;
    uint64_t nframes;
    struct mpage *page;
    uint64_t free_node[NODES];
    struct mdom dom[MAX_DOMS];
    struct manon anon[MAX_ANON];
    unsigned nr_anon;
    uint64_t rng;
    uint64_t step, seed;
    bool failed;
};

static uint64_t rnd(struct model *m, uint64_t n) { return n ? test_rng(&m->rng) % n : 0; }

static unsigned node_of(struct model *m, uint64_t mfn)
{
    return machine_mfn_node(m->hv->m, _mfn(mfn));
}

static uint64_t model_A(struct model *m)
{
    uint64_t a = 0;
    for (unsigned n = 0; n < NODES; n++)
        a += m->free_node[n];
    return a;
}

static uint64_t dom_claim(const struct mdom *d)
{
    uint64_t t = d->claim_global;
    for (unsigned n = 0; n < NODES; n++)
        t += d->claim_node[n];
    return t;
}

static uint64_t model_C(struct model *m)
{
    uint64_t c = 0;
    for (unsigned i = 0; i < MAX_DOMS; i++)
        if (m->dom[i].used)
            c += dom_claim(&m->dom[i]);
    return c;
}

static uint64_t node_claims(struct model *m, unsigned node)
{
    uint64_t c = 0;
    for (unsigned i = 0; i < MAX_DOMS; i++)
        if (m->dom[i].used)
            c += m->dom[i].claim_node[node];
    return c;
}

/* The claims gate of account.c, on the model. */
static bool gate_allows(struct model *m, const struct mdom *d, unsigned node, uint64_t pages)
{
    uint64_t unclaimed = sat_sub(model_A(m), model_C(m));
    uint64_t own = d ? dom_claim(d) : 0;

    if (pages > m->free_node[node])
        return false;
    if (m->gate == CLAIM_GATE_HEAD) {
        if (pages > unclaimed && own < pages)
            return false;
    } else if (pages > unclaimed + own) {
        return false;
    }
    return pages <= sat_sub(m->free_node[node], node_claims(m, node)) + (d ? d->claim_node[node] : 0);
}

/* Claim consumption for an allocation of `pages` on `node`. */
static void consume(struct mdom *d, unsigned node, uint64_t pages)
{
    uint64_t left = min_u64(pages, dom_claim(d)), x;

    x = min_u64(left, d->claim_node[node]);
    d->claim_node[node] -= x;
    left -= x;
    x = min_u64(left, d->claim_global);
    d->claim_global -= x;
    left -= x;
    for (unsigned n = 0; left && n < NODES; n++) {
        x = min_u64(left, d->claim_node[n]);
        d->claim_node[n] -= x;
        left -= x;
    }
}

/* After an allocation that consumed claims on an unknown node (it failed
 * in assign), the real split must be one the gate allowed; with
 * allow_none, the heap may also have failed first (no consumption). */
static void adopt_consumption(struct model *m, struct mdom *md, uint64_t pages, unsigned nodes_mask,
                              bool allow_none)
{
    struct domain_info info;
    bool matched = false;

    domain_get_info(md->d, &info);
    if (allow_none) {
        bool same = md->claim_global == info.global_claim;
        for (unsigned k = 0; k < NODES; k++)
            same &= md->claim_node[k] == info.node_claims[k];
        if (same)
            return;
    }
    for (unsigned n = 0; n < NODES && !matched; n++) {
        struct mdom trial = *md;
        bool same = true;

        if (!(nodes_mask & (1u << n)) || !gate_allows(m, md, n, pages))
            continue;
        consume(&trial, n, pages);
        same = trial.claim_global == info.global_claim;
        for (unsigned k = 0; k < NODES; k++)
            same &= trial.claim_node[k] == info.node_claims[k];
        if (same) {
            *md = trial;
            matched = true;
        }
    }
    MCHECK(m, matched);
}

/* Frees a frame in the model (to the heap, or offlined if pending). */
static void page_release(struct model *m, uint64_t mfn)
{
    struct mpage *p = &m->page[mfn];

    if (p->pending) {
        p->state = P_OFFLINED;
        p->pending = false;
    } else {
        p->state = P_FREE;
        m->free_node[node_of(m, mfn)]++;
    }
    p->owner = -1;
}

static void block_take(struct model *m, uint64_t mfn, unsigned order, uint8_t state, int owner)
{
    for (uint64_t i = 0; i < (UINT64_C(1) << order); i++) {
        struct mpage *p = &m->page[mfn + i];
        MCHECK_EQ(m, p->state, P_FREE); /* never handed out twice */
        p->state = state;
        p->owner = (int8_t)owner;
    }
    m->free_node[node_of(m, mfn)] -= UINT64_C(1) << order;
}

static int dom_index(struct model *m)
{
    unsigned start = (unsigned)rnd(m, MAX_DOMS);

    for (unsigned i = 0; i < MAX_DOMS; i++)
        if (m->dom[(start + i) % MAX_DOMS].used)
            return (int)((start + i) % MAX_DOMS);
    return -1;
}

static void op_create(struct model *m)
{
    for (unsigned i = 0; i < MAX_DOMS; i++) {
        struct mdom *md = &m->dom[i];
        if (md->used)
            continue;
        memset(md, 0, sizeof(*md));
        md->hvm = rnd(m, 2);
        md->d = test_domain(m->hv, md->hvm, 0);
        MCHECK(m, md->d != NULL);
        if (!md->d)
            return;
        md->used = true;
        if (md->hvm) {
            md->p2m = malloc((GFNS + 512) * sizeof(uint64_t));
            for (unsigned g = 0; g < GFNS + 512; g++)
                md->p2m[g] = UINT64_MAX;
        } else {
            md->ext = malloc(MAX_EXTENTS * sizeof(*md->ext));
        }
        return;
    }
}

static void op_destroy(struct model *m)
{
    int i = dom_index(m);
    struct mdom *md;

    if (i < 0)
        return;
    md = &m->dom[i];
    MCHECK_EQ(m, domain_kill(md->d), 0);
    for (uint64_t f = 0; f < m->nframes; f++)
        if (m->page[f].state == P_OWNED && m->page[f].owner == i)
            page_release(m, f);
    domain_put(md->d);
    free(md->ext);
    free(md->p2m);
    memset(md, 0, sizeof(*md));
}

static void op_set_max(struct model *m)
{
    int i = dom_index(m);

    if (i < 0)
        return;
    m->dom[i].max = rnd(m, 4) == 0 ? rnd(m, 64) : rnd(m, m->nframes + 100);
    domain_set_max_pages(m->dom[i].d, m->dom[i].max);
}

static void op_claim(struct model *m)
{
    int i = dom_index(m);
    struct mdom *md;
    uint64_t pages, counted;
    int expect, rc;

    if (i < 0)
        return;
    md = &m->dom[i];
    counted = md->tot - md->extra;
    switch (rnd(m, 4)) {
    case 0: pages = 0; break;
    case 1: pages = counted + 1 + rnd(m, 64); break;
    case 2: pages = counted + rnd(m, m->nframes); break;
    default: pages = rnd(m, m->nframes * 2); break;
    }
    if (pages == 0)
        expect = 0;
    else if (dom_claim(md) != 0)
        expect = -EINVAL;
    else if (pages <= counted || pages > md->max)
        expect = -EINVAL;
    else if (pages - counted > sat_sub(model_A(m), model_C(m)))
        expect = -ENOMEM;
    else
        expect = 0;
    rc = domain_claim_pages(md->d, pages);
    MCHECK_EQ(m, rc, expect);
    if (rc == 0) {
        memset(md->claim_node, 0, sizeof(md->claim_node));
        md->claim_global = pages ? pages - counted : 0;
    }
}

static void op_claim_set(struct model *m)
{
    int i = dom_index(m);
    struct claim_entry set[3];
    unsigned nr = 1 + (unsigned)rnd(m, 3);
    uint64_t total = 0, seen = 0;
    struct mdom *md;
    int expect = 0, rc;

    if (i < 0)
        return;
    md = &m->dom[i];
    for (unsigned k = 0; k < nr; k++) {
        unsigned t = (unsigned)rnd(m, NODES + 2);
        set[k].target = t == NODES ? CLAIM_TARGET_GLOBAL : t; /* NODES + 1: no such node */
        set[k].pages = rnd(m, 3) == 0 ? 0 : rnd(m, m->nframes / 2);
    }
    /* Validation, in the heap's order. */
    for (unsigned k = 0; k < nr && !expect; k++) {
        uint64_t bit = set[k].target == CLAIM_TARGET_GLOBAL ? 1u << NODES : UINT64_C(1) << set[k].target;
        if (set[k].target != CLAIM_TARGET_GLOBAL && set[k].target >= NODES)
            expect = -ENOENT;
        else if (seen & bit)
            expect = -EINVAL;
        seen |= bit;
        total += set[k].pages;
    }
    if (!expect && total != 0) {
        uint64_t counted = md->tot - md->extra;
        if (counted > md->max || total > md->max - counted)
            expect = -EINVAL;
        else if (total > sat_sub(model_A(m), model_C(m)) + dom_claim(md))
            expect = -ENOMEM;
        for (unsigned k = 0; k < nr && !expect; k++) {
            unsigned n = set[k].target;
            if (n != CLAIM_TARGET_GLOBAL &&
                set[k].pages > sat_sub(m->free_node[n], node_claims(m, n)) + md->claim_node[n])
                expect = -ENOMEM;
        }
    }
    rc = domain_claim_set(md->d, set, nr);
    MCHECK_EQ(m, rc, expect);
    if (rc == 0) {
        memset(md->claim_node, 0, sizeof(md->claim_node));
        md->claim_global = 0;
        for (unsigned k = 0; k < nr && total; k++) {
            if (set[k].target == CLAIM_TARGET_GLOBAL)
                md->claim_global = set[k].pages;
            else
                md->claim_node[set[k].target] = set[k].pages;
        }
    }
}

/* What an allocation for md (or anonymous) of 2^order pages must do. */
struct alloc_prediction {
    bool may_succeed;   /* some candidate node passes the gate */
    bool must_succeed;  /* and order 0, so a page is surely found */
    unsigned nodes;     /* candidate nodes */
};

static struct alloc_prediction predict_alloc(struct model *m, const struct mdom *md, unsigned order,
                                             unsigned memflags)
{
    struct alloc_prediction p = { false, false, 0 };
    unsigned node = MEMF_get_node(memflags);
    const struct mdom *gate_dom = (memflags & (MEMF_no_refcount | MEMF_no_owner)) ? NULL : md;

    for (unsigned n = 0; n < NODES; n++) {
        if (node != NUMA_NO_NODE && (memflags & MEMF_exact_node) && n != node)
            continue;
        p.nodes |= 1u << n;
        if (gate_allows(m, gate_dom, n, UINT64_C(1) << order))
            p.may_succeed = true;
    }
    p.must_succeed = p.may_succeed && order == 0;
    return p;
}

static unsigned random_memflags(struct model *m)
{
    switch (rnd(m, 6)) {
    case 0: return MEMF_no_refcount;
    case 1: return MEMF_node(rnd(m, NODES));
    case 2: return MEMF_node(rnd(m, NODES)) | MEMF_exact_node;
    default: return 0;
    }
}

static unsigned random_order(struct model *m)
{
    static const unsigned orders[] = { 0, 0, 0, 0, 1, 2, 3, 4, 9 };
    return orders[rnd(m, ARRAY_SIZE(orders))];
}

/* Whether assign will refuse (-EPERM/-E2BIG) after the heap gave pages. */
static int predict_assign(const struct mdom *md, unsigned order, bool extra)
{
    uint64_t counted = md->tot - md->extra, nr = UINT64_C(1) << order;

    if (extra)
        return 0;
    if (counted > md->max)
        return -EPERM;
    if (nr > md->max - counted)
        return -E2BIG;
    return 0;
}

static void op_pv_alloc(struct model *m)
{
    int i = dom_index(m);
    unsigned order = random_order(m), memflags = random_memflags(m);
    bool extra = memflags & MEMF_no_refcount;
    struct alloc_prediction p;
    struct mdom *md;
    mfn_t mfn;
    int rc, assign;

    if (i < 0 || m->dom[i].hvm || m->dom[i].nr_ext == MAX_EXTENTS)
        return;
    md = &m->dom[i];
    p = predict_alloc(m, md, order, memflags);
    assign = predict_assign(md, order, extra);
    rc = domain_alloc_pages(md->d, order, memflags, &mfn);
    if (rc == 0) {
        unsigned node = node_of(m, mfn_x(mfn));

        MCHECK(m, p.may_succeed && assign == 0);
        MCHECK(m, (p.nodes >> node) & 1);
        MCHECK(m, gate_allows(m, extra ? NULL : md, node, UINT64_C(1) << order));
        MCHECK(m, is_aligned_u64(mfn_x(mfn), order));
        if (!extra)
            consume(md, node, UINT64_C(1) << order);
        block_take(m, mfn_x(mfn), order, P_OWNED, i);
        md->tot += UINT64_C(1) << order;
        if (extra)
            md->extra += UINT64_C(1) << order;
        md->ext[md->nr_ext++] = (struct mextent){ mfn_x(mfn), order, extra };
    } else if (rc == -ENOMEM) {
        MCHECK(m, !p.must_succeed);
    } else {
        /* The heap gave pages, assign refused them: claim consumed, lost. */
        MCHECK(m, p.may_succeed);
        MCHECK_EQ(m, rc, assign);
        if (!extra)
            adopt_consumption(m, md, UINT64_C(1) << order, p.nodes, false);
    }
}

static void op_pv_release(struct model *m)
{
    int i = dom_index(m);
    struct mdom *md;
    uint64_t mfn;
    unsigned order;
    int found = -1, rc;

    if (i < 0 || m->dom[i].hvm)
        return;
    md = &m->dom[i];
    if (md->nr_ext && rnd(m, 8)) {
        struct mextent *e = &md->ext[rnd(m, md->nr_ext)];
        order = (unsigned)rnd(m, e->order + 1);
        mfn = e->mfn + (rnd(m, UINT64_C(1) << (e->order - order)) << order);
    } else {
        order = (unsigned)rnd(m, 3);
        mfn = rnd(m, m->nframes + 8) & ~((UINT64_C(1) << order) - 1);
    }
    for (unsigned k = 0; k < md->nr_ext; k++) {
        struct mextent *e = &md->ext[k];
        if (e->order >= order && mfn >= e->mfn && mfn - e->mfn < (UINT64_C(1) << e->order))
            found = (int)k;
    }
    rc = domain_release_pages(md->d, _mfn(mfn), order);
    MCHECK_EQ(m, rc, found >= 0 ? 0 : -EINVAL);
    if (rc == 0 && found >= 0) {
        struct mextent e = md->ext[found];
        md->ext[found] = md->ext[--md->nr_ext];
        while (e.order > order) {
            uint64_t half;
            e.order--;
            half = UINT64_C(1) << e.order;
            if (mfn < e.mfn + half) {
                md->ext[md->nr_ext++] = (struct mextent){ e.mfn + half, e.order, e.extra };
            } else {
                md->ext[md->nr_ext++] = (struct mextent){ e.mfn, e.order, e.extra };
                e.mfn += half;
            }
        }
        for (uint64_t f = 0; f < (UINT64_C(1) << order); f++)
            page_release(m, mfn + f);
        md->tot -= UINT64_C(1) << order;
        if (e.extra)
            md->extra -= UINT64_C(1) << order;
    }
}

static void op_hvm_populate(struct model *m)
{
    int i = dom_index(m);
    unsigned order = rnd(m, 4) ? 0 : SUPERPAGE_ORDER;
    uint64_t gfn = rnd(m, GFNS), ext = gfn;
    struct alloc_prediction p;
    struct mdom *md;
    int assign;
    long rc;

    if (i < 0 || !m->dom[i].hvm)
        return;
    md = &m->dom[i];
    p = predict_alloc(m, md, order, 0);
    assign = predict_assign(md, order, false);
    rc = tc_populate_physmap(m->tc, md->d->domid, 1, order, 0, &ext);
    if (rc == 1) {
        struct p2m_entry e;
        uint64_t mfn;
        unsigned node;

        p2m_lookup(md->d->p2m, _gfn(gfn), &e);
        MCHECK_EQ(m, e.type, P2M_RAM_RW);
        mfn = mfn_x(e.mfn);
        node = node_of(m, mfn);
        MCHECK(m, p.may_succeed && assign == 0);
        MCHECK(m, gate_allows(m, md, node, UINT64_C(1) << order));
        consume(md, node, UINT64_C(1) << order);
        block_take(m, mfn, order, P_OWNED, i);
        md->tot += UINT64_C(1) << order;
        /* Replaced mappings leave their pages with the domain. */
        for (uint64_t k = 0; k < (UINT64_C(1) << order); k++)
            md->p2m[gfn + k] = mfn + k;
    } else {
        MCHECK_EQ(m, rc, 0);
        MCHECK(m, !p.must_succeed || assign != 0);
        /* A short count hides whether the heap or assign refused. */
        if (p.may_succeed && assign != 0)
            adopt_consumption(m, md, UINT64_C(1) << order, p.nodes, order > 0);
    }
}

/* Many single-page extents in one hypercall: the bulk path must behave
 * as that many separate populates, stopping at the first failure.  The
 * gfns are distinct, so each placed page stays mapped where it landed. */
static void op_hvm_populate_many(struct model *m)
{
    int i = dom_index(m);
    unsigned n = 2 + (unsigned)rnd(m, 63);
    uint64_t gfns[64], ext[64], base = rnd(m, GFNS);
    struct mdom *md;
    long rc;

    if (i < 0 || !m->dom[i].hvm)
        return;
    md = &m->dom[i];
    for (unsigned k = 0; k < n; k++) {
        bool dup;
        do {
            gfns[k] = rnd(m, 4) ? (base + k) % GFNS : rnd(m, GFNS);
            dup = false;
            for (unsigned j = 0; j < k; j++)
                dup |= gfns[j] == gfns[k];
        } while (dup);
        ext[k] = gfns[k];
    }
    rc = tc_populate_physmap(m->tc, md->d->domid, n, 0, 0, ext);
    MCHECK(m, rc >= 0 && rc <= (long)n);
    /* Replay on the model, one page at a time. */
    for (long k = 0; k < rc; k++) {
        struct p2m_entry e;
        unsigned node;

        p2m_lookup(md->d->p2m, _gfn(gfns[k]), &e);
        MCHECK_EQ(m, e.type, P2M_RAM_RW);
        node = node_of(m, mfn_x(e.mfn));
        MCHECK(m, predict_assign(md, 0, false) == 0);
        MCHECK(m, gate_allows(m, md, node, 1));
        consume(md, node, 1);
        block_take(m, mfn_x(e.mfn), 0, P_OWNED, i);
        md->tot++;
        md->p2m[gfns[k]] = mfn_x(e.mfn);
    }
    if (rc < (long)n) {
        /* The extent that stopped it could not have been certain. */
        struct alloc_prediction p = predict_alloc(m, md, 0, 0);
        int assign = predict_assign(md, 0, false);

        MCHECK(m, !p.must_succeed || assign != 0);
        if (p.may_succeed && assign != 0)
            adopt_consumption(m, md, 1, p.nodes, false);
    }
}

static void op_hvm_decrease(struct model *m)
{
    int i = dom_index(m);
    unsigned order = rnd(m, 4) ? 0 : SUPERPAGE_ORDER;
    uint64_t gfn, ext;
    struct mdom *md;
    long expect = 1, rc;

    if (i < 0 || !m->dom[i].hvm)
        return;
    md = &m->dom[i];
    gfn = rnd(m, GFNS);
    if (order == SUPERPAGE_ORDER && rnd(m, 2))
        gfn &= ~UINT64_C(511);
    ext = gfn;
    rc = tc_decrease_reservation(m->tc, md->d->domid, 1, order, &ext);
    /* Page by page until the first hole. */
    for (uint64_t k = 0; k < (UINT64_C(1) << order); k++) {
        uint64_t mfn = md->p2m[gfn + k];
        if (mfn == UINT64_MAX) {
            expect = 0;
            break;
        }
        md->p2m[gfn + k] = UINT64_MAX;
        page_release(m, mfn);
        md->tot--;
    }
    MCHECK_EQ(m, rc, expect);
}

static void op_anon(struct model *m)
{
    if (m->nr_anon && (m->nr_anon == MAX_ANON || rnd(m, 2))) {
        unsigned k = (unsigned)rnd(m, m->nr_anon);
        struct manon a = m->anon[k];

        m->anon[k] = m->anon[--m->nr_anon];
        heap_free_pages(m->hv->heap, _mfn(a.mfn), a.order, true);
        for (uint64_t f = 0; f < (UINT64_C(1) << a.order); f++)
            page_release(m, a.mfn + f);
    } else {
        unsigned order = random_order(m), memflags = random_memflags(m) & ~MEMF_no_refcount;
        struct alloc_prediction p = predict_alloc(m, NULL, order, memflags);
        mfn_t mfn;
        int rc = heap_alloc_pages(m->hv->heap, order, memflags, NULL, &mfn);

        if (rc == 0) {
            MCHECK(m, p.may_succeed);
            MCHECK(m, gate_allows(m, NULL, node_of(m, mfn_x(mfn)), UINT64_C(1) << order));
            block_take(m, mfn_x(mfn), order, P_ANON, -1);
            m->anon[m->nr_anon++] = (struct manon){ mfn_x(mfn), order };
        } else {
            MCHECK_EQ(m, rc, -ENOMEM);
            MCHECK(m, !p.must_succeed);
        }
    }
}

static void op_offline(struct model *m)
{
    uint64_t mfn = rnd(m, m->nframes + 2);
    struct mpage *p = mfn < m->nframes ? &m->page[mfn] : NULL;
    uint32_t status;
    int rc;

    switch (rnd(m, 3)) {
    case 0: {
        bool broken = rnd(m, 4) == 0;
        rc = heap_offline_page(m->hv->heap, _mfn(mfn), broken, &status);
        if (!p) {
            MCHECK_EQ(m, rc, -EINVAL);
        } else if (mfn == 0) {
            MCHECK_EQ(m, rc, -EPERM);
        } else {
            MCHECK_EQ(m, rc, 0);
            if (p->state == P_FREE) {
                MCHECK(m, status & OFFLINE_RESULT_OFFLINED);
                p->state = P_OFFLINED;
                m->free_node[node_of(m, mfn)]--;
            } else if (p->state == P_OFFLINED) {
                MCHECK(m, status & OFFLINE_RESULT_OFFLINED);
            } else {
                MCHECK(m, status & OFFLINE_RESULT_PENDING);
                p->pending = true;
            }
            p->broken |= broken;
        }
        break;
    }
    case 1:
        rc = heap_online_page(m->hv->heap, _mfn(mfn), &status);
        if (!p)
            MCHECK_EQ(m, rc, -EINVAL);
        else if (mfn == 0)
            MCHECK_EQ(m, rc, -EPERM);
        else if (p->broken)
            MCHECK_EQ(m, rc, -EINVAL);
        else {
            MCHECK_EQ(m, rc, 0);
            if (p->state == P_OFFLINED) {
                p->state = P_FREE;
                m->free_node[node_of(m, mfn)]++;
            }
            p->pending = false;
        }
        break;
    default:
        rc = heap_query_page_offline(m->hv->heap, _mfn(mfn), &status);
        if (!p) {
            MCHECK_EQ(m, rc, -EINVAL);
        } else if (mfn > 0) {
            MCHECK_EQ(m, rc, 0);
            MCHECK_EQ(m, status & ~OFFLINE_STATUS_BROKEN,
                      p->state == P_OFFLINED ? OFFLINE_STATUS_OFFLINED
                      : p->pending ? OFFLINE_STATUS_OFFLINE_PENDING : OFFLINE_STATUS_ONLINE);
            MCHECK_EQ(m, !!(status & OFFLINE_STATUS_BROKEN), p->broken);
        }
        break;
    }
}

static void compare(struct model *m)
{
    struct heap_totals t;

    heap_get_totals(m->hv->heap, &t);
    MCHECK_EQ(m, t.free_pages, model_A(m));
    MCHECK_EQ(m, t.outstanding_pages, model_C(m));
    for (unsigned n = 0; n < NODES; n++) {
        uint64_t size, free_pages, claimed;
        heap_get_node(m->hv->heap, n, &size, &free_pages, &claimed);
        MCHECK_EQ(m, free_pages, m->free_node[n]);
        MCHECK_EQ(m, claimed, node_claims(m, n));
    }
    for (unsigned i = 0; i < MAX_DOMS; i++) {
        struct mdom *md = &m->dom[i];
        struct domain_info info;

        if (!md->used)
            continue;
        domain_get_info(md->d, &info);
        MCHECK_EQ(m, info.tot_pages, md->tot - md->extra);
        MCHECK_EQ(m, info.extra_pages, md->extra);
        MCHECK_EQ(m, info.max_pages, md->max);
        MCHECK_EQ(m, info.outstanding_pages, dom_claim(md));
        MCHECK_EQ(m, info.global_claim, md->claim_global);
    }
    if (hv_check(m->hv, stderr) != 0) {
        fprintf(stderr, "model: seed %" PRIu64 " step %" PRIu64 ": checkers failed\n", m->seed, m->step);
        m->failed = true;
    }
}

static void run_model(uint64_t seed, uint64_t ops, enum claim_gate gate)
{
    struct hv_config cfg;
    struct model m;

    memset(&m, 0, sizeof(m));
    hv_config_default(&cfg);
    cfg.ram_bytes = RAM;
    cfg.nr_nodes = NODES;
    cfg.background_scrub = false;
    cfg.gate = gate;
    cfg.log.level = MV_LOG_ERROR;
    REQUIRE(hv_create(&cfg, &m.hv, NULL) == 0);
    REQUIRE(tc_open(m.hv, 0, true, &m.tc) == 0);
    m.gate = gate;
    m.seed = seed;
    m.rng = seed;
    m.nframes = m.hv->m->nr_frames;
    m.page = calloc(m.nframes, sizeof(*m.page));
    REQUIRE(m.page);
    m.page[0].state = P_ANON; /* the hypervisor's */
    for (unsigned n = 0; n < NODES; n++)
        heap_get_node(m.hv->heap, n, &(uint64_t){ 0 }, &m.free_node[n], NULL);

    for (m.step = 0; m.step < ops && !m.failed; m.step++) {
        uint64_t r = rnd(&m, 100);

        if (r < 3) op_create(&m);
        else if (r < 5) op_destroy(&m);
        else if (r < 9) op_set_max(&m);
        else if (r < 17) op_claim(&m);
        else if (r < 22) op_claim_set(&m);
        else if (r < 40) op_pv_alloc(&m);
        else if (r < 52) op_pv_release(&m);
        else if (r < 62) op_hvm_populate(&m);
        else if (r < 68) op_hvm_populate_many(&m);
        else if (r < 78) op_hvm_decrease(&m);
        else if (r < 90) op_anon(&m);
        else if (r < 97) op_offline(&m);
        else heap_scrub_all(m.hv->heap);
        compare(&m);
    }
    CHECK(!m.failed);
    printf("model: gate %s, seed %" PRIu64 ": %" PRIu64 " operations%s\n",
           gate == CLAIM_GATE_HEAD ? "head" : "shortfall", seed, m.step,
           m.failed ? " (FAILED)" : "");
    for (unsigned i = 0; i < MAX_DOMS; i++) {
        if (m.dom[i].used) {
            domain_put(m.dom[i].d);
            free(m.dom[i].ext);
            free(m.dom[i].p2m);
        }
    }
    tc_close(m.tc);
    hv_destroy(m.hv);
    free(m.page);
}

static void test_model(void)
{
    uint64_t ops = env_u64("MV_MODEL_OPS", 1000000);
    uint64_t seed = env_u64("MV_MODEL_SEED", 0);
    unsigned runs = 4;

    if (seed) {
        run_model(seed, ops, (enum claim_gate)env_u64("MV_MODEL_GATE", 0));
        return;
    }
    seed = mv_now_ns();
    /* Both gates, two seeds each; ops in all. */
    for (unsigned r = 0; r < runs; r++)
        run_model(seed + r, ops / runs, r % 2 ? CLAIM_GATE_SHORTFALL : CLAIM_GATE_HEAD);
}

HARNESS_MAIN("model", TEST_ENTRY(test_model))
