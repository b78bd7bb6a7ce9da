/*
 * The claims race: builder threads claim, populate and destroy domains
 * while demand threads allocate and free anonymously and guests balloon,
 * with the idle scrubbers running.  Run under ThreadSanitizer in CI.
 *
 * Asserts: a claimed build never fails for lack of memory (it is refused
 * at once or it completes); outstanding claims never exceed free memory;
 * and once every domain is destroyed and scrubbing is done, free equals
 * total and every free page is clean.
 */
#include <pthread.h>
#include <time.h>

#include <stdint.h>
#include <stdio.h>

#include <xen/xen.h>
#include <xen/memory.h>

#include "../support.h"

#define BUILDERS 8
#define DEMANDERS 4
#define NODE_BUILDERS 2

struct shared {
    struct hv *hv;
    unsigned iterations;
    _Atomic bool stop;
    _Atomic unsigned builds_ok, builds_refused, delayed_failures, other_errors;
    _Atomic unsigned claim_violations, samples;
    _Atomic unsigned node_builds_ok;
    _Atomic unsigned dirty_handouts; /* allocations that came back with old bytes */
};

/* A guest at work: writes into some of its pages. */
static void touch_domain(struct hv *hv, domid_t domid, uint64_t pages)
{
    struct domain *d = domain_lookup(hv->domains, domid);

    if (!d)
        return;
    for (uint64_t gfn = 0; gfn < pages; gfn += 61) {
        struct p2m_entry e;

        p2m_lookup(d->p2m, _gfn(gfn), &e);
        if (e.type == P2M_RAM_RW)
            memset(machine_frame_bytes(hv->m, e.mfn), 0xd7, 64);
    }
    domain_put(d);
}

struct worker {
    struct shared *sh;
    uint64_t seed;
};

static void *builder(void *arg)
{
    struct worker *w = arg;
    struct shared *sh = w->sh;
    uint64_t rng = w->seed;
    domid_t live[3] = { DOMID_INVALID, DOMID_INVALID, DOMID_INVALID };
    struct tc_handle *t;

    if (tc_open(sh->hv, 0, true, &t))
        return NULL;
    for (unsigned i = 0; i < sh->iterations; i++) {
        struct build_spec spec = { 0 };
        struct build_result r;
        unsigned slot = (unsigned)(test_rng(&rng) % 3);

        spec.mem_pages = PAGES(MiB(4)) + (test_rng(&rng) % PAGES(MiB(40)));
        spec.use_claim = true;
        spec.batch_2m = 1 + (unsigned)(test_rng(&rng) % 4);
        spec.batch_4k = 64;
        toolstack_build(t, &spec, &r);
        if (r.rc == 0) {
            atomic_fetch_add(&sh->builds_ok, 1);
            touch_domain(sh->hv, r.domid, spec.mem_pages);
            if (live[slot] != DOMID_INVALID)
                (void)!tc_domain_destroy(t, live[slot]);
            live[slot] = r.domid;
        } else if (r.refused_at_once) {
            atomic_fetch_add(&sh->builds_refused, 1);
            CHECK_EQ(r.populated_pages, 0);
        } else if (r.delayed_failure) {
            atomic_fetch_add(&sh->delayed_failures, 1);
        } else {
            atomic_fetch_add(&sh->other_errors, 1);
        }
    }
    for (unsigned s = 0; s < 3; s++)
        if (live[s] != DOMID_INVALID)
            (void)!tc_domain_destroy(t, live[s]);
    tc_close(t);
    return NULL;
}

/* Builds with a per-node claim set and exact-node 4 KiB populates: a node
 * claim guarantees pages on that node. */
static void *node_builder(void *arg)
{
    struct worker *w = arg;
    struct shared *sh = w->sh;
    uint64_t rng = w->seed, ext[256];
    struct tc_handle *t;

    if (tc_open(sh->hv, 0, true, &t))
        return NULL;
    for (unsigned i = 0; i < sh->iterations; i++) {
        unsigned node = (unsigned)(test_rng(&rng) % 2);
        uint64_t pages = 256 * (1 + test_rng(&rng) % 16), done = 0;
        struct claim_entry set = { pages, node };
        domid_t d = DOMID_ANY;

        if (tc_domain_create(t, &d, true, 1) || tc_domain_setmaxmem(t, d, pages * 4)) {
            atomic_fetch_add(&sh->other_errors, 1);
            continue;
        }
        if (tc_domain_claim_set(t, d, &set, 1) == 0) {
            while (done < pages) {
                long n;
                for (unsigned k = 0; k < 256; k++)
                    ext[k] = done + k;
                n = tc_populate_physmap(t, d, 256, 0, (node + 1) << 8 | (1 << 17), ext);
                if (n != 256) {
                    atomic_fetch_add(&sh->delayed_failures, 1);
                    break;
                }
                done += 256;
            }
            if (done == pages)
                atomic_fetch_add(&sh->node_builds_ok, 1);
        } else {
            atomic_fetch_add(&sh->builds_refused, 1);
        }
        (void)!tc_domain_destroy(t, d);
    }
    tc_close(t);
    return NULL;
}

/* Anonymous demand: takes and gives back blocks the toolstack cannot see. */
static void *demander(void *arg)
{
    struct worker *w = arg;
    struct shared *sh = w->sh;
    uint64_t rng = w->seed;
    struct { mfn_t mfn; unsigned order; } held[64];
    unsigned nr = 0;

    while (!atomic_load(&sh->stop)) {
        if (nr && (nr == 64 || test_rng(&rng) % 2)) {
            unsigned k = (unsigned)(test_rng(&rng) % nr);
            heap_free_pages(sh->hv->heap, held[k].mfn, held[k].order, true);
            held[k] = held[--nr];
        } else {
            unsigned order = (unsigned)(test_rng(&rng) % 10);
            mfn_t mfn;
            if (heap_alloc_pages(sh->hv->heap, order, 0, NULL, &mfn) == 0) {
                uint8_t *bytes = machine_frame_bytes(sh->hv->m, mfn);
                if (!pages_are_zero(bytes, UINT64_C(1) << order))
                    atomic_fetch_add(&sh->dirty_handouts, 1);
                memset(bytes, 0xa5, PAGE_SIZE);
                held[nr].mfn = mfn;
                held[nr].order = order;
                nr++;
            }
        }
    }
    while (nr--)
        heap_free_pages(sh->hv->heap, held[nr].mfn, held[nr].order, true);
    return NULL;
}

/* physinfo, sampled: outstanding claims never exceed free memory. */
static void *monitor(void *arg)
{
    struct shared *sh = arg;
    struct timespec pause = { 0, 100 * 1000 };

    while (!atomic_load(&sh->stop)) {
        struct heap_totals t;

        heap_get_totals(sh->hv->heap, &t);
        if (t.outstanding_pages > t.free_pages)
            atomic_fetch_add(&sh->claim_violations, 1);
        atomic_fetch_add(&sh->samples, 1);
        nanosleep(&pause, NULL);
    }
    return NULL;
}

static void test_claims_race(void)
{
    struct shared sh;
    struct worker bw[BUILDERS + NODE_BUILDERS], dw[DEMANDERS];
    pthread_t bt[BUILDERS + NODE_BUILDERS], dt[DEMANDERS], mt;
    const char *iters = getenv("MV_STRESS_ITERATIONS");
    uint64_t total, v;
    bool all_clean = true;

    memset(&sh, 0, sizeof(sh));
    sh.hv = test_hv(MiB(256), 2, true);
    sh.iterations = iters && mv_parse_uint(iters, 1, 100000, &v) == 0 ? (unsigned)v : 60;
    total = test_free_pages(sh.hv);

    pthread_create(&mt, NULL, monitor, &sh);
    for (unsigned i = 0; i < DEMANDERS; i++) {
        dw[i] = (struct worker){ &sh, 1000 + i };
        pthread_create(&dt[i], NULL, demander, &dw[i]);
    }
    for (unsigned i = 0; i < BUILDERS + NODE_BUILDERS; i++) {
        bw[i] = (struct worker){ &sh, 1 + i };
        pthread_create(&bt[i], NULL, i < BUILDERS ? builder : node_builder, &bw[i]);
    }
    for (unsigned i = 0; i < BUILDERS + NODE_BUILDERS; i++)
        pthread_join(bt[i], NULL);
    atomic_store(&sh.stop, true);
    for (unsigned i = 0; i < DEMANDERS; i++)
        pthread_join(dt[i], NULL);
    pthread_join(mt, NULL);

    printf("  builds: %u ok, %u node-claimed ok, %u refused at once, %u delayed failures, "
           "%u other errors; %u physinfo samples\n",
           sh.builds_ok, sh.node_builds_ok, sh.builds_refused, sh.delayed_failures,
           sh.other_errors, sh.samples);
    CHECK_EQ(sh.delayed_failures, 0);
    CHECK_EQ(sh.other_errors, 0);
    CHECK_EQ(sh.claim_violations, 0);
    CHECK_EQ(sh.dirty_handouts, 0);
    CHECK(sh.builds_ok > 0);
    CHECK(sh.samples > 0);

    /* Everything destroyed (dom0 holds nothing); scrubbing finishes. */
    CHECK_EQ(domain_table_count(sh.hv->domains), 1);
    CHECK(heap_scrub_wait(sh.hv->heap, UINT64_C(60) * 1000000000));
    heap_scrubbers_stop(sh.hv->heap);
    CHECK_EQ(test_free_pages(sh.hv), total);
    CHECK_EQ(test_outstanding(sh.hv), 0);
    for (uint64_t f = 1; f < sh.hv->m->nr_frames && all_clean; f++)
        all_clean = pages_are_zero(machine_frame_bytes(sh.hv->m, _mfn(f)), 1);
    CHECK(all_clean);
    CHECK_HV(sh.hv);
    hv_destroy(sh.hv);
}

struct long_populate {
    struct hv *hv;
    domid_t d;
    long done;
    _Atomic bool finished;
};

static void *long_populate(void *arg)
{
    struct long_populate *lp = arg;
    struct hc_session *s;
    struct xen_memory_reservation *r;
    xen_pfn_t *ext;
    const uint64_t nr = PAGES(MiB(768));

    if (hc_session_create(lp->hv, 0, true, &s))
        return NULL;
    r = hc_buffer_alloc(s, sizeof(*r));
    ext = hc_buffer_alloc(s, nr * sizeof(*ext));
    if (r && ext) {
        for (uint64_t i = 0; i < nr; i++)
            ext[i] = i;
        memset(r, 0, sizeof(*r));
        set_xen_guest_handle(r->extent_start, ext);
        r->nr_extents = nr;
        r->domid = lp->d;
        lp->done = hc_call(s, HC_MEMORY_OP, XENMEM_populate_physmap, (uint64_t)(uintptr_t)r, 0, 0, 0);
    }
    atomic_store(&lp->finished, true);
    hc_session_destroy(s);
    return NULL;
}

/* One hypercall populating 196608 single pages never holds a heap lock for
 * its whole length: another thread allocates and frees all along. */
static void test_long_populate_does_not_block(void)
{
    struct long_populate lp = { 0 };
    struct domain *d;
    unsigned during = 0;
    pthread_t th;

    lp.hv = test_hv(GiB(1), 2, false);
    d = test_domain(lp.hv, true, PAGES(GiB(1)));
    REQUIRE(d);
    lp.d = d->domid;
    pthread_create(&th, NULL, long_populate, &lp);
    while (!atomic_load(&lp.finished)) {
        mfn_t mfn;

        if (heap_alloc_pages(lp.hv->heap, 0, 0, NULL, &mfn) == 0) {
            heap_free_pages(lp.hv->heap, mfn, 0, false);
            during++;
        }
    }
    pthread_join(th, NULL);
    printf("  %u allocations by another thread during one populate of %ld extents\n", during,
           lp.done);
    CHECK_EQ(lp.done, (long)PAGES(MiB(768)));
    CHECK(during > 10);
    domain_put(d);
    CHECK_HV(lp.hv);
    hv_destroy(lp.hv);
}

HARNESS_MAIN("stress", TEST_ENTRY(test_claims_race), TEST_ENTRY(test_long_populate_does_not_block))
