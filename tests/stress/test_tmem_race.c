/*
 * The tmem race: guests' vCPUs put, get and flush pages in their private,
 * persistent and shared pools while other threads take memory from the
 * heap (single pages and 2 MiB blocks, which make tmem give frames back),
 * evict, and read the figures.  Run under ThreadSanitizer in CI.
 *
 * Asserts: a get that finds a page finds the bytes last put under that
 * handle by that vCPU (each vCPU has handles of its own; shared-pool
 * pages carry their handle, so a page under the wrong handle shows); a
 * persistent page put is always there until flushed; every checker passes
 * at the end; and once everything is destroyed, free equals total.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../support.h"

#define GUESTS 3
#define VCPUS 2 /* per guest */
#define GRABBERS 2
#define HANDLES 64
#define FLAGS(extra) ((TMEM_SPEC_VERSION << TMEM_POOL_VERSION_SHIFT) | (extra))
#define UUID 4242

struct shared {
    struct hv *hv;
    struct domain *d[GUESTS];
    int eph[GUESTS], pers[GUESTS], shr[GUESTS];
    unsigned iterations;
    _Atomic bool stop;
    _Atomic unsigned bad_bytes, lost_persistent, errors, found, missed, grabbed;
};

struct vcpu {
    struct shared *sh;
    unsigned guest, id;
    uint64_t rng;
};

/* A page that names its handle and version in every word. */
static void fill(uint8_t *page, uint64_t tag, uint32_t version, bool compressible)
{
    for (size_t i = 0; i < PAGE_SIZE; i += 8) {
        uint64_t w = tag ^ ((uint64_t)version << 40) ^ (compressible ? 0 : i * 0x9E3779B97F4A7C15);

        memcpy(page + i, &w, 8);
    }
}

static void *vcpu_main(void *arg)
{
    struct vcpu *v = arg;
    struct shared *sh = v->sh;
    struct tmem *t = sh->hv->tmem;
    struct domain *d = sh->d[v->guest];
    uint32_t version[3][HANDLES] = { { 0 } }; /* 0: not stored */
    uint8_t in[PAGE_SIZE], out[PAGE_SIZE];

    for (unsigned it = 0; it < sh->iterations; it++) {
        unsigned kind = (unsigned)(test_rng(&v->rng) % 3);
        unsigned h = (unsigned)(test_rng(&v->rng) % HANDLES);
        int pool = kind == 0 ? sh->eph[v->guest]
                 : kind == 1 ? sh->pers[v->guest] : sh->shr[v->guest];
        /* Each vCPU its own object; shared-pool objects also name the guest. */
        struct tmem_oid oid = { { v->guest * 16 + v->id, kind, 0 } };
        uint64_t tag = oid.oid[0] << 48 | (uint64_t)kind << 40 | h;
        unsigned op = (unsigned)(test_rng(&v->rng) % 10);
        int rc;

        if (op < 5) {
            uint32_t ver = version[kind][h] + 1;

            fill(in, tag, ver, ver % 2);
            rc = tmem_put(t, d, pool, &oid, h, in);
            if (rc == 1)
                version[kind][h] = ver;
            else if (rc == -ENOMEM || rc == -ENOSPC)
                version[kind][h] = 0; /* and the old data is gone */
            else
                atomic_fetch_add(&sh->errors, 1);
        } else if (op < 9) {
            rc = tmem_get(t, d, pool, &oid, h, out);
            if (rc == 1) {
                fill(in, tag, version[kind][h], version[kind][h] % 2);
                if (version[kind][h] == 0 || memcmp(in, out, PAGE_SIZE) != 0)
                    atomic_fetch_add(&sh->bad_bytes, 1);
                atomic_fetch_add(&sh->found, 1);
                if (kind == 0)
                    version[kind][h] = 0; /* exclusive */
            } else if (rc == 0 || rc == -TMEM_EEMPTY) {
                if (kind == 1 && version[kind][h])
                    atomic_fetch_add(&sh->lost_persistent, 1);
                atomic_fetch_add(&sh->missed, 1);
                version[kind][h] = 0;
            } else {
                atomic_fetch_add(&sh->errors, 1);
            }
        } else {
            rc = tmem_flush_page(t, d, pool, &oid, h);
            if (rc != 1)
                atomic_fetch_add(&sh->errors, 1);
            version[kind][h] = 0;
        }
    }
    return NULL;
}

/* Takes memory from the heap and gives it back: single pages and 2 MiB
 * blocks, which tmem must give frames back for. */
static void *grabber(void *arg)
{
    struct shared *sh = arg;
    struct heap_owner anon = { 0 };
    mfn_t held[64];
    unsigned n = 0;
    uint64_t rng = 99;

    while (!atomic_load(&sh->stop)) {
        unsigned order = test_rng(&rng) % 4 == 0 ? SUPERPAGE_ORDER : 0;
        mfn_t mfn;

        if (n < 64 && heap_alloc_pages(sh->hv->heap, order, 0, &anon, &mfn) == 0) {
            /* Scrubbed: none of tmem's bytes. */
            if (!pages_are_zero(machine_frame_bytes(sh->hv->m, mfn), 1))
                atomic_fetch_add(&sh->bad_bytes, 1);
            if (order)
                heap_free_pages(sh->hv->heap, mfn, order, true);
            else
                held[n++] = mfn;
            atomic_fetch_add(&sh->grabbed, 1);
        } else {
            while (n > 0)
                heap_free_pages(sh->hv->heap, held[--n], 0, true);
            (void)tmem_evict_frames(sh->hv->tmem, 8);
        }
    }
    while (n > 0)
        heap_free_pages(sh->hv->heap, held[--n], 0, true);
    return NULL;
}

static void *monitor(void *arg)
{
    struct shared *sh = arg;
    struct tmem_stats st;
    char text[2048];

    while (!atomic_load(&sh->stop)) {
        tmem_get_stats(sh->hv->tmem, DOMID_INVALID, &st);
        (void)tmem_list(sh->hv->tmem, 0xFFFF, true, text, sizeof(text));
        (void)heap_freeable(sh->hv->heap);
    }
    return NULL;
}

static void test_tmem_race(void)
{
    struct shared sh;
    struct vcpu v[GUESTS * VCPUS];
    pthread_t th[GUESTS * VCPUS], gr[GRABBERS], mon;
    uint64_t all;

    memset(&sh, 0, sizeof(sh));
    sh.hv = test_hv(MiB(32), 1, true);
    sh.iterations = (unsigned)env_u64("MV_STRESS_ITERATIONS", 40000);
    all = test_free_pages(sh.hv);
    for (unsigned g = 0; g < GUESTS; g++) {
        sh.d[g] = test_domain(sh.hv, true, 100000);
        REQUIRE(sh.d[g] != NULL);
        REQUIRE(tmem_set_auth(sh.hv->tmem, sh.d[g]->domid, UUID, UUID, true) == 0);
        sh.eph[g] = tmem_new_pool(sh.hv->tmem, sh.d[g], FLAGS(0), 0, 0);
        sh.pers[g] = tmem_new_pool(sh.hv->tmem, sh.d[g], FLAGS(TMEM_POOL_PERSIST), 0, 0);
        sh.shr[g] = tmem_new_pool(sh.hv->tmem, sh.d[g], FLAGS(TMEM_POOL_SHARED), UUID, UUID);
        REQUIRE(sh.eph[g] == 0 && sh.pers[g] == 1 && sh.shr[g] == 2);
        REQUIRE(tmem_set_compress(sh.hv->tmem, sh.d[g]->domid, g % 3) == 0);
    }
    for (unsigned i = 0; i < GUESTS * VCPUS; i++) {
        v[i] = (struct vcpu){ &sh, i / VCPUS, i % VCPUS, i + 1 };
        REQUIRE(pthread_create(&th[i], NULL, vcpu_main, &v[i]) == 0);
    }
    for (unsigned i = 0; i < GRABBERS; i++)
        REQUIRE(pthread_create(&gr[i], NULL, grabber, &sh) == 0);
    REQUIRE(pthread_create(&mon, NULL, monitor, &sh) == 0);
    for (unsigned i = 0; i < GUESTS * VCPUS; i++)
        pthread_join(th[i], NULL);
    atomic_store(&sh.stop, true);
    for (unsigned i = 0; i < GRABBERS; i++)
        pthread_join(gr[i], NULL);
    pthread_join(mon, NULL);

    printf("tmem race: %u found, %u missed, %u heap grabs\n", atomic_load(&sh.found),
           atomic_load(&sh.missed), atomic_load(&sh.grabbed));
    CHECK_EQ(atomic_load(&sh.bad_bytes), 0);
    CHECK_EQ(atomic_load(&sh.lost_persistent), 0);
    CHECK_EQ(atomic_load(&sh.errors), 0);
    CHECK(atomic_load(&sh.found) > 0);
    /* The checkers want the scrubbers idle. */
    CHECK(heap_scrub_wait(sh.hv->heap, UINT64_C(10) * 1000000000));
    CHECK_HV(sh.hv);
    for (unsigned g = 0; g < GUESTS; g++) {
        (void)domain_kill(sh.d[g]);
        domain_put(sh.d[g]);
    }
    CHECK(heap_scrub_wait(sh.hv->heap, UINT64_C(10) * 1000000000));
    CHECK_EQ(test_free_pages(sh.hv), all);
    CHECK_HV(sh.hv);
    hv_destroy(sh.hv);
}

HARNESS_MAIN("tmem_race", TEST_ENTRY(test_tmem_race))
