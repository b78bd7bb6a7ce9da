/* Unit tests: lazy scrubbing.  The background scrubbers, the abort
 * handshake, and the canary test: no page ever reaches a new owner with a
 * byte of its previous tenant's data. */
#include <pthread.h>

#include "../support.h"

#define CANARY 0xC5

/* Writes the canary over every page the domain has mapped. */
static void write_canary(struct hv *hv, struct domain *d, uint64_t nr_gfns)
{
    for (uint64_t gfn = 0; gfn < nr_gfns; gfn++) {
        struct p2m_entry e;

        p2m_lookup(d->p2m, _gfn(gfn), &e);
        if (e.type == P2M_RAM_RW)
            memset(machine_frame_bytes(hv->m, e.mfn), CANARY, PAGE_SIZE);
    }
}

/* Counts mapped pages that are not all zero. */
static uint64_t count_unclean(struct hv *hv, struct domain *d, uint64_t nr_gfns, uint64_t *mapped)
{
    uint64_t unclean = 0;

    *mapped = 0;
    for (uint64_t gfn = 0; gfn < nr_gfns; gfn++) {
        struct p2m_entry e;

        p2m_lookup(d->p2m, _gfn(gfn), &e);
        if (e.type != P2M_RAM_RW)
            continue;
        (*mapped)++;
        if (!pages_are_zero(machine_frame_bytes(hv->m, e.mfn), 1))
            unclean++;
    }
    return unclean;
}

/* Populates gfns [0, nr) mixing 2 MiB and 4 KiB extents until memory runs
 * out; returns pages placed. */
static uint64_t populate_mixed(struct tc_handle *t, domid_t domid, uint64_t nr, uint64_t *rng)
{
    uint64_t gfn = 0, placed = 0;

    while (gfn + 512 <= nr) {
        uint64_t ext = gfn;
        if (test_rng(rng) % 3 == 0) {
            if (tc_populate_physmap(t, domid, 1, SUPERPAGE_ORDER, 0, &ext) == 1)
                placed += 512;
            else
                break;
        } else {
            uint64_t e4[512];
            long done;
            for (unsigned i = 0; i < 512; i++)
                e4[i] = gfn + i;
            done = tc_populate_physmap(t, domid, 512, 0, 0, e4);
            placed += done > 0 ? (uint64_t)done : 0;
            if (done < 512)
                break;
        }
        gfn += 512;
    }
    return placed;
}

static void canary_round(bool background, bool sync_scrub_between, uint64_t seed)
{
    struct hv *hv = test_hv(MiB(256), 2, background);
    uint64_t rng = seed, nr = PAGES(MiB(256)), mapped, placed;
    struct tc_handle *t;
    struct domain *d;
    domid_t a = DOMID_ANY, b = DOMID_ANY;

    REQUIRE(tc_open(hv, 0, true, &t) == 0);
    REQUIRE(tc_domain_create(t, &a, true, 1) == 0);
    REQUIRE(tc_domain_setmaxmem(t, a, nr * 4) == 0);
    placed = populate_mixed(t, a, nr, &rng);
    CHECK(placed > nr / 2);
    d = domain_lookup(hv->domains, a);
    REQUIRE(d);
    write_canary(hv, d, nr);
    domain_put(d);
    REQUIRE(tc_domain_destroy(t, a) == 0);
    if (sync_scrub_between)
        heap_scrub_all(hv->heap);

    /* The next owner takes everything it can, at once. */
    REQUIRE(tc_domain_create(t, &b, true, 1) == 0);
    REQUIRE(tc_domain_setmaxmem(t, b, nr * 4) == 0);
    placed = populate_mixed(t, b, nr, &rng);
    CHECK(placed > nr / 2);
    d = domain_lookup(hv->domains, b);
    REQUIRE(d);
    CHECK_EQ(count_unclean(hv, d, nr, &mapped), 0);
    CHECK_EQ(mapped, placed);
    domain_put(d);

    /* Anonymous allocations are scrubbed too. */
    for (int i = 0; i < 64; i++) {
        mfn_t mfn;
        if (heap_alloc_pages(hv->heap, 0, 0, NULL, &mfn) == 0) {
            CHECK(pages_are_zero(machine_frame_bytes(hv->m, mfn), 1));
            heap_free_pages(hv->heap, mfn, 0, true);
        }
    }
    tc_close(t);
    heap_scrubbers_stop(hv->heap);
    CHECK_HV(hv);
    hv_destroy(hv);
}

static void test_canary_never_leaks(void)
{
    for (uint64_t seed = 1; seed <= 3; seed++) {
        canary_round(true, false, seed);   /* scrubbers racing the next owner */
        canary_round(false, false, seed);  /* only scrub-on-allocation */
        canary_round(false, true, seed);   /* scrubbed before the next owner */
    }
}

/* PV guests get machine frames through increase_reservation. */
static void test_canary_pv_increase(void)
{
    struct hv *hv = test_hv(MiB(64), 1, true);
    uint64_t nr = PAGES(MiB(48)), *mfns = calloc(nr, sizeof(*mfns));
    struct tc_handle *t;
    domid_t a = DOMID_ANY, b = DOMID_ANY;
    long got;

    REQUIRE(mfns);
    REQUIRE(tc_open(hv, 0, true, &t) == 0);
    REQUIRE(tc_domain_create(t, &a, false, 1) == 0);
    REQUIRE(tc_domain_setmaxmem(t, a, nr * 4) == 0);
    got = tc_increase_reservation(t, a, nr, 0, 0, mfns);
    CHECK_EQ(got, (long)nr);
    for (long i = 0; i < got; i++)
        memset(machine_frame_bytes(hv->m, _mfn(mfns[i])), CANARY, PAGE_SIZE);
    REQUIRE(tc_domain_destroy(t, a) == 0);
    REQUIRE(tc_domain_create(t, &b, false, 1) == 0);
    REQUIRE(tc_domain_setmaxmem(t, b, nr * 4) == 0);
    got = tc_increase_reservation(t, b, nr, 0, 0, mfns);
    CHECK_EQ(got, (long)nr);
    for (long i = 0; i < got; i++)
        CHECK(pages_are_zero(machine_frame_bytes(hv->m, _mfn(mfns[i])), 1));
    tc_close(t);
    heap_scrubbers_stop(hv->heap);
    CHECK_HV(hv);
    hv_destroy(hv);
    free(mfns);
}

static void test_background_scrubbers_clean_everything(void)
{
    struct hv *hv = test_hv(MiB(128), 2, true);
    struct domain *d = test_domain(hv, false, PAGES(MiB(128)));
    mfn_t mfn;
    int n = 0;

    REQUIRE(d);
    while (n < 40 && domain_alloc_pages(d, SUPERPAGE_ORDER, 0, &mfn) == 0) {
        memset(machine_frame_bytes(hv->m, mfn), 0xab, PAGE_SIZE << SUPERPAGE_ORDER);
        n++;
    }
    REQUIRE(n == 40);
    REQUIRE(domain_kill(d) == 0);
    domain_put(d);
    CHECK(heap_scrub_wait(hv->heap, UINT64_C(10) * 1000000000));
    CHECK_EQ(heap_scrub_pending(hv->heap), 0);
    heap_scrubbers_stop(hv->heap);
    CHECK_HV(hv);
    /* free equals total, and every free page is clean. */
    CHECK_EQ(test_free_pages(hv), PAGES(MiB(128)) - 1);
    for (uint64_t f = 1; f < hv->m->nr_frames; f++)
        if (!pages_are_zero(machine_frame_bytes(hv->m, _mfn(f)), 1)) {
            CHECK(!"a free page is not clean");
            break;
        }
    hv_destroy(hv);
}

struct churn_arg {
    struct hv *hv;
    uint64_t seed;
    unsigned bad;
};

/* Frees big dirty blocks and immediately allocates from them while the
 * scrubbers work on them: the abort handshake runs again and again. */
static void *churn(void *p)
{
    struct churn_arg *a = p;
    uint64_t rng = a->seed;

    for (int round = 0; round < 300; round++) {
        unsigned order = 6 + (unsigned)(test_rng(&rng) % 6);
        mfn_t big, small[8];
        unsigned got = 0;

        if (heap_alloc_pages(a->hv->heap, order, 0, NULL, &big))
            continue;
        memset(machine_frame_bytes(a->hv->m, big), 0x5d, PAGE_SIZE << order);
        heap_free_pages(a->hv->heap, big, order, true);
        for (unsigned i = 0; i < 8; i++) {
            unsigned o = (unsigned)(test_rng(&rng) % 3);
            if (heap_alloc_pages(a->hv->heap, o * 3, 0, NULL, &small[got]) == 0) {
                if (!pages_are_zero(machine_frame_bytes(a->hv->m, small[got]), 1u << (o * 3)))
                    a->bad++;
                heap_free_pages(a->hv->heap, small[got], o * 3, true);
            }
        }
    }
    return NULL;
}

static void test_scrub_abort_handshake(void)
{
    struct hv *hv = test_hv(MiB(64), 1, true);
    struct churn_arg args[3];
    pthread_t th[3];

    for (int i = 0; i < 3; i++) {
        args[i] = (struct churn_arg){ hv, (uint64_t)i + 11, 0 };
        pthread_create(&th[i], NULL, churn, &args[i]);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ(args[i].bad, 0);
    }
    CHECK(heap_scrub_wait(hv->heap, UINT64_C(10) * 1000000000));
    heap_scrubbers_stop(hv->heap);
    CHECK_HV(hv);
    CHECK_EQ(test_free_pages(hv), PAGES(MiB(64)) - 1);
    hv_destroy(hv);
}

HARNESS_MAIN("scrub", TEST_ENTRY(test_canary_never_leaks), TEST_ENTRY(test_canary_pv_increase),
             TEST_ENTRY(test_background_scrubbers_clean_everything),
             TEST_ENTRY(test_scrub_abort_handshake))
