/*
 * Model-based test of tmem against a plain map.
 *
 * The model is a map from (pool, object, index) to the seed of the page
 * stored there, for pools of three clients: private ephemeral, persistent
 * and shared (a UUID all three are authorised for, and one none is).
 * Random operations (new and destroy pool, put, get, flush page and
 * object, freeze and thaw, eviction, compression on and off) run on the
 * real tmem; each result is checked against the model.  Persistent pools
 * must match it exactly; an ephemeral pool may have lost pages to
 * eviction, never kept a stale one: a get that finds a page must find
 * the model's bytes, and a page the model does not have is never found.
 * A bystander guest holds most of the host, so that puts evict and, with
 * nothing ephemeral left, fail.  Every checker runs after every step, and
 * every persistent page is read back every 64 steps.  A failure prints the seed and step:
 *   MV_MODEL_SEED=<seed> MV_MODEL_OPS=<n> test_tmem_model
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../support.h"
#include "model_check.h"

#define CLIENTS 3
#define MPOOLS 64
#define OIDS 3
#define INDEXES 16
#define UUID_SHARED 77
#define UUID_UNAUTHORISED 78
#define BALLAST_LEAVES 320 /* free frames for tmem */
#define FLAGS(extra) ((TMEM_SPEC_VERSION << TMEM_POOL_VERSION_SHIFT) | (extra))

enum kind { EPH, PERS, SHARED };

struct mpool {
    bool used;
    enum kind kind;
    unsigned sharers;
    uint32_t seed[OIDS][INDEXES]; /* 0: absent */
};

struct model {
    struct hv *hv;
    struct domain *d[CLIENTS], *ballast;
    int slot[CLIENTS][TMEM_MAX_POOLS]; /* model pool, or -1 */
    bool frozen[CLIENTS];
    struct mpool pool[MPOOLS];
    uint64_t rng, seed, step;
    uint64_t found_gets, evicted_gets, nomem_puts;
    bool failed;
};

static uint64_t rnd(struct model *m, uint64_t n) { return n ? test_rng(&m->rng) % n : 0; }

static void page_of(uint32_t seed, uint8_t *page)
{
    uint64_t x = seed * UINT64_C(0x9E3779B97F4A7C15) + 1;

    for (size_t i = 0; i < PAGE_SIZE; i += 8) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        /* Half the pages compress (few distinct words), half do not. */
        uint64_t w = seed % 2 ? x : (x >> 61) * UINT64_C(0x0101010101010101);

        memcpy(page + i, &w, 8);
    }
}

static struct tmem *T(struct model *m) { return m->hv->tmem; }

static unsigned pool_pages(const struct mpool *p)
{
    unsigned n = 0;

    for (unsigned o = 0; o < OIDS; o++)
        for (unsigned i = 0; i < INDEXES; i++)
            n += p->seed[o][i] != 0;
    return n;
}

static int shared_pool(struct model *m)
{
    for (int i = 0; i < MPOOLS; i++)
        if (m->pool[i].used && m->pool[i].kind == SHARED)
            return i;
    return -1;
}

static int new_mpool(struct model *m, enum kind k)
{
    for (int i = 0; i < MPOOLS; i++)
        if (!m->pool[i].used) {
            memset(&m->pool[i], 0, sizeof(m->pool[i]));
            m->pool[i].used = true;
            m->pool[i].kind = k;
            m->pool[i].sharers = 1;
            return i;
        }
    return -1;
}

static void op_new_pool(struct model *m, unsigned c)
{
    static const uint32_t flags[] = { FLAGS(0), FLAGS(TMEM_POOL_PERSIST), FLAGS(TMEM_POOL_SHARED),
                                      FLAGS(TMEM_POOL_SHARED) };
    unsigned k = (unsigned)rnd(m, 4);
    uint64_t uuid = k == 3 ? UUID_UNAUTHORISED : UUID_SHARED;
    int slot = -1, want, rc;

    for (int i = 0; i < TMEM_MAX_POOLS && slot < 0; i++)
        if (m->slot[c][i] < 0)
            slot = i;
    rc = tmem_new_pool(T(m), m->d[c], flags[k], uuid, uuid);
    want = slot;
    if (slot >= 0 && k == 2 && shared_pool(m) >= 0)
        for (int i = 0; i < TMEM_MAX_POOLS; i++)
            if (m->slot[c][i] == shared_pool(m))
                want = i; /* joined already */
    if (want < 0) {
        MCHECK_EQ(m, rc, -EPERM);
        return;
    }
    MCHECK_EQ(m, rc, want);
    if (rc != want || rc != slot)
        return;
    if (k == 2 && shared_pool(m) >= 0) {
        m->slot[c][slot] = shared_pool(m);
        m->pool[shared_pool(m)].sharers++;
    } else {
        /* An unauthorised UUID makes a private ephemeral pool. */
        m->slot[c][slot] = new_mpool(m, k == 2 ? SHARED : k == 1 ? PERS : EPH);
        REQUIRE(m->slot[c][slot] >= 0);
    }
}

static void op_destroy_pool(struct model *m, unsigned c)
{
    int slot = (int)rnd(m, TMEM_MAX_POOLS + 1) - 1, mp;
    int rc = tmem_destroy_pool(T(m), m->d[c], slot);

    mp = slot >= 0 ? m->slot[c][slot] : -1;
    MCHECK_EQ(m, rc, mp >= 0 ? 1 : 0);
    if (mp < 0)
        return;
    m->slot[c][slot] = -1;
    if (--m->pool[mp].sharers == 0)
        m->pool[mp].used = false;
}

/* A slot of c's, mostly one with a pool. */
static int pick_slot(struct model *m, unsigned c)
{
    int tries = 8, s;

    do
        s = (int)rnd(m, TMEM_MAX_POOLS);
    while (m->slot[c][s] < 0 && --tries);
    return s;
}

static void op_put(struct model *m, unsigned c)
{
    int s = pick_slot(m, c), mp = m->slot[c][s];
    unsigned o = (unsigned)rnd(m, OIDS), i = (unsigned)rnd(m, INDEXES);
    struct tmem_oid oid = { { o, 0, 0 } };
    uint32_t seed = (uint32_t)rnd(m, UINT32_MAX - 1) + 1;
    uint8_t page[PAGE_SIZE];
    int rc;

    page_of(seed, page);
    rc = tmem_put(T(m), m->d[c], s, &oid, i, page);
    if (mp < 0) {
        MCHECK_EQ(m, rc, -ENODEV);
        return;
    }
    if (m->frozen[c] && !m->pool[mp].seed[o][i]) {
        MCHECK_EQ(m, rc, -TMEM_EFROZEN);
        return;
    }
    /* Frozen with the model's page there: a duplicate, unless eviction
     * took it (ephemeral), which makes it a new handle. */
    if (m->frozen[c] && m->pool[mp].kind != PERS && rc == -TMEM_EFROZEN) {
        m->pool[mp].seed[o][i] = 0;
        return;
    }
    /* Out of memory only with nothing left to evict (a duplicate's old
     * data is gone then: -ENOSPC). */
    if (rc == -ENOMEM || rc == -ENOSPC) {
        MCHECK_EQ(m, heap_freeable(m->hv->heap), 0);
        if (m->pool[mp].kind == PERS || !m->pool[mp].seed[o][i])
            MCHECK_EQ(m, rc, m->pool[mp].seed[o][i] ? -ENOSPC : -ENOMEM);
        m->pool[mp].seed[o][i] = 0;
        m->nomem_puts++;
        return;
    }
    MCHECK_EQ(m, rc, 1);
    if (rc == 1)
        m->pool[mp].seed[o][i] = seed;
}

static void op_get(struct model *m, unsigned c)
{
    int s = pick_slot(m, c), mp = m->slot[c][s];
    unsigned o = (unsigned)rnd(m, OIDS), i = (unsigned)rnd(m, INDEXES);
    struct tmem_oid oid = { { o, 0, 0 } };
    uint8_t page[PAGE_SIZE], want[PAGE_SIZE];
    struct mpool *p;
    int rc = tmem_get(T(m), m->d[c], s, &oid, i, page);

    if (mp < 0) {
        MCHECK_EQ(m, rc, -ENODEV);
        return;
    }
    p = &m->pool[mp];
    if (p->seed[o][i] == 0) {
        /* Empty pools say so first; ephemeral ones may be empty early. */
        if (pool_pages(p) == 0)
            MCHECK_EQ(m, rc, -TMEM_EEMPTY);
        else if (p->kind == PERS)
            MCHECK_EQ(m, rc, 0);
        else
            MCHECK(m, rc == 0 || rc == -TMEM_EEMPTY);
        return;
    }
    if (rc == 1) {
        page_of(p->seed[o][i], want);
        MCHECK(m, memcmp(page, want, PAGE_SIZE) == 0);
        m->found_gets++;
        if (p->kind == EPH)
            p->seed[o][i] = 0; /* exclusive */
        return;
    }
    MCHECK(m, p->kind != PERS);
    MCHECK(m, rc == 0 || rc == -TMEM_EEMPTY);
    p->seed[o][i] = 0; /* evicted */
    m->evicted_gets++;
}

static void op_flush(struct model *m, unsigned c)
{
    int s = pick_slot(m, c), mp = m->slot[c][s];
    unsigned o = (unsigned)rnd(m, OIDS), i = (unsigned)rnd(m, INDEXES);
    struct tmem_oid oid = { { o, 0, 0 } };
    bool object = rnd(m, 4) == 0;
    int rc = object ? tmem_flush_object(T(m), m->d[c], s, &oid)
                    : tmem_flush_page(T(m), m->d[c], s, &oid, i);

    if (mp < 0) {
        MCHECK_EQ(m, rc, -ENODEV);
        return;
    }
    MCHECK_EQ(m, rc, m->frozen[c] ? -TMEM_EFROZEN : 1);
    for (unsigned x = 0; x < INDEXES; x++)
        if (object || x == i)
            m->pool[mp].seed[o][x] = 0;
}

/* Every persistent page reads back (a non-destructive get). */
static void verify_persistent(struct model *m)
{
    uint8_t page[PAGE_SIZE], want[PAGE_SIZE];

    for (unsigned c = 0; c < CLIENTS; c++)
        for (int s = 0; s < TMEM_MAX_POOLS; s++) {
            struct mpool *p = m->slot[c][s] >= 0 ? &m->pool[m->slot[c][s]] : NULL;

            if (!p || p->kind != PERS)
                continue;
            for (unsigned o = 0; o < OIDS; o++)
                for (unsigned i = 0; i < INDEXES; i++) {
                    struct tmem_oid oid = { { o, 0, 0 } };
                    int rc = tmem_get(T(m), m->d[c], s, &oid, i, page);

                    if (!p->seed[o][i]) {
                        MCHECK(m, rc == 0 || rc == -TMEM_EEMPTY);
                        continue;
                    }
                    page_of(p->seed[o][i], want);
                    MCHECK_EQ(m, rc, 1);
                    MCHECK(m, rc != 1 || memcmp(page, want, PAGE_SIZE) == 0);
                }
        }
}

static void run_model(uint64_t seed, uint64_t ops)
{
    struct model m;

    memset(&m, 0, sizeof(m));
    memset(m.slot, -1, sizeof(m.slot));
    m.seed = m.rng = seed;
    /* Small enough that ephemeral pools are evicted. */
    m.hv = test_hv(MiB(24), 1, false);
    for (unsigned c = 0; c < CLIENTS; c++) {
        m.d[c] = test_domain(m.hv, true, 100000);
        REQUIRE(m.d[c] != NULL);
        REQUIRE(tmem_set_auth(T(&m), m.d[c]->domid, UUID_SHARED, UUID_SHARED, true) == 0);
    }
    /* A guest holding most of the host, so that tmem runs short. */
    m.ballast = test_domain(m.hv, true, UINT32_MAX);
    REQUIRE(m.ballast != NULL);
    for (uint64_t gfn = 0; test_free_pages(m.hv) > BALLAST_LEAVES; gfn++) {
        mfn_t mfn;

        REQUIRE(physmap_populate(m.ballast, _gfn(gfn), 0, 0, &mfn) == 0);
    }
    for (m.step = 0; m.step < ops && !m.failed; m.step++) {
        unsigned c = (unsigned)rnd(&m, CLIENTS);
        uint64_t r = rnd(&m, 100);

        if (r < 2) {
            op_new_pool(&m, c);
        } else if (r < 3) {
            op_destroy_pool(&m, c);
        } else if (r < 50) {
            op_put(&m, c);
        } else if (r < 80) {
            op_get(&m, c);
        } else if (r < 92) {
            op_flush(&m, c);
        } else if (r < 95) {
            /* Frozen a quarter of the time a client is looked at here. */
            m.frozen[c] = !m.frozen[c] && rnd(&m, 4) == 0;
            MCHECK_EQ(&m, tmem_set_frozen(T(&m), m.d[c]->domid, m.frozen[c]), 0);
        } else if (r < 98) {
            (void)tmem_evict_frames(T(&m), 1 + rnd(&m, 4));
        } else {
            MCHECK_EQ(&m, tmem_set_compress(T(&m), m.d[c]->domid, (unsigned)rnd(&m, 3)), 0);
        }
        if (m.step % 64 == 63)
            verify_persistent(&m);
        if (hv_check(m.hv, stderr) != 0) {
            fprintf(stderr, "model: seed %" PRIu64 " step %" PRIu64 ": checkers failed\n",
                    m.seed, m.step);
            m.failed = true;
        }
    }
    CHECK(!m.failed);
    printf("tmem model, seed %" PRIu64 ": %" PRIu64 " operations%s: %" PRIu64
           " gets found their page, %" PRIu64 " found it evicted, %" PRIu64
           " puts out of memory\n",
           seed, m.step, m.failed ? " (FAILED)" : "", m.found_gets, m.evicted_gets,
           m.nomem_puts);
    for (unsigned c = 0; c < CLIENTS; c++) {
        (void)domain_kill(m.d[c]);
        domain_put(m.d[c]);
    }
    (void)domain_kill(m.ballast);
    domain_put(m.ballast);
    CHECK_HV(m.hv);
    hv_destroy(m.hv);
}

static void test_tmem_model(void)
{
    uint64_t seed = env_u64("MV_MODEL_SEED", 0), ops;

    /* A replay runs exactly the steps asked for. */
    if (seed) {
        run_model(seed, env_u64("MV_MODEL_OPS", 10000));
        return;
    }
    ops = env_u64("MV_MODEL_OPS", 1000000) / 40;
    seed = mv_now_ns();
    for (unsigned r = 0; r < 2; r++)
        run_model(seed + r, ops / 2);
}

HARNESS_MAIN("tmem_model", TEST_ENTRY(test_tmem_model))
