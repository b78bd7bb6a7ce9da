/* Unit tests: tmem's contract (spec §1), its fragment allocator and its
 * eviction. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <xen/xen.h>
#include <xen/sysctl.h>
#include <xen/tmem.h>

#include "../../src/tmem/zpool.h"
#include "memvisor/guest.h"
#include "../support.h"

#define FLAGS(extra) ((TMEM_SPEC_VERSION << TMEM_POOL_VERSION_SHIFT) | (extra))
#define EPH FLAGS(0)
#define PERS FLAGS(TMEM_POOL_PERSIST)
#define SHARED FLAGS(TMEM_POOL_SHARED)

static const struct tmem_oid OID1 = { { 1, 2, 3 } };
static const struct tmem_oid OID2 = { { 7, 0, UINT64_MAX } };

/* A page: words from a small vocabulary (compressible) when
 * `compressible`, else noise. */
static void make_page(uint8_t *page, uint64_t seed, bool compressible)
{
    static const char *const words[] = { "memvisor ", "tmem ", "page ", "frame ", "pool ",
                                         "object ", "index ", "put ", "get ", "flush " };
    uint64_t x = seed * UINT64_C(0x9E3779B97F4A7C15) + 1;

    for (size_t i = 0; i < PAGE_SIZE;) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        if (!compressible) {
            page[i++] = (uint8_t)x;
            continue;
        }
        for (const char *w = words[(x >> 32) % 10]; *w && i < PAGE_SIZE; w++)
            page[i++] = (uint8_t)*w;
    }
}

static struct tmem *T(struct hv *hv) { return hv->tmem; }

static void destroy(struct domain *d)
{
    (void)domain_kill(d);
    domain_put(d);
}

static void test_new_pool_rules(void)
{
    struct hv *hv = test_hv(MiB(64), 1, false);
    struct domain *d = test_domain(hv, true, 1000);
    int ids[TMEM_MAX_POOLS];

    CHECK_EQ(tmem_new_pool(T(hv), d, 0, 0, 0), -EPERM); /* version 0 */
    CHECK_EQ(tmem_new_pool(T(hv), d, (2u << TMEM_POOL_VERSION_SHIFT), 0, 0), -EPERM);
    CHECK_EQ(tmem_new_pool(T(hv), d, FLAGS(TMEM_POOL_SHARED | TMEM_POOL_PERSIST), 1, 1), -EPERM);
    CHECK_EQ(tmem_new_pool(T(hv), d, FLAGS(1u << TMEM_POOL_PAGESIZE_SHIFT), 0, 0), -EPERM);
    CHECK_EQ(tmem_new_pool(T(hv), d, FLAGS(TMEM_POOL_PRECOMPRESSED), 0, 0), -EPERM);
    CHECK_EQ(tmem_new_pool(T(hv), d, FLAGS(1u << 8), 0, 0), -EPERM);
    CHECK_EQ(tmem_new_pool(T(hv), d, FLAGS(8), 0, 0), 0); /* bit 3 is not checked */
    for (int i = 1; i < TMEM_MAX_POOLS; i++)
        CHECK_EQ(ids[i] = tmem_new_pool(T(hv), d, i % 2 ? PERS : EPH, 0, 0), i);
    CHECK_EQ(tmem_new_pool(T(hv), d, EPH, 0, 0), -EPERM); /* no slot */
    CHECK_EQ(tmem_destroy_pool(T(hv), d, 5), 1);
    CHECK_EQ(tmem_destroy_pool(T(hv), d, 5), 0);
    CHECK_EQ(tmem_destroy_pool(T(hv), d, -1), 0);
    CHECK_EQ(tmem_destroy_pool(T(hv), d, 16), 0);
    CHECK_EQ(tmem_new_pool(T(hv), d, EPH, 0, 0), 5);
    CHECK_HV(hv);
    destroy(d);
    hv_destroy(hv);
}

static void test_ephemeral_exclusive_get(void)
{
    struct hv *hv = test_hv(MiB(64), 1, false);
    struct domain *d = test_domain(hv, true, 1000);
    uint8_t in[PAGE_SIZE], out[PAGE_SIZE];
    int pool = tmem_new_pool(T(hv), d, EPH, 0, 0);

    REQUIRE(pool == 0);
    make_page(in, 1, true);
    CHECK_EQ(tmem_get(T(hv), d, pool, &OID1, 0, out), -TMEM_EEMPTY);
    CHECK_EQ(tmem_put(T(hv), d, pool, &OID1, 0, in), 1);
    CHECK_EQ(tmem_put(T(hv), d, pool, &OID1, 1, in), 1);
    CHECK_EQ(tmem_get(T(hv), d, pool, &OID2, 0, out), 0); /* no such object */
    CHECK_EQ(tmem_get(T(hv), d, pool, &OID1, 9, out), 0); /* no such index */
    CHECK_EQ(tmem_get(T(hv), d, pool, &OID1, 0, out), 1);
    CHECK(memcmp(in, out, PAGE_SIZE) == 0);
    /* Exclusive: the page is gone, its neighbour stays. */
    CHECK_EQ(tmem_get(T(hv), d, pool, &OID1, 0, out), 0);
    CHECK_EQ(tmem_get(T(hv), d, pool, &OID1, 1, out), 1);
    CHECK_EQ(tmem_get(T(hv), d, pool, &OID1, 1, out), -TMEM_EEMPTY);
    /* Page operations on a pool that is not there. */
    CHECK_EQ(tmem_put(T(hv), d, 3, &OID1, 0, in), -ENODEV);
    CHECK_EQ(tmem_get(T(hv), d, -1, &OID1, 0, out), -ENODEV);
    CHECK_EQ(tmem_flush_page(T(hv), d, 16, &OID1, 0), -ENODEV);
    CHECK_HV(hv);
    destroy(d);
    hv_destroy(hv);
}

/* Persistent pools: gets do not consume, the pages count against the
 * domain, and a domain at max_pages cannot store one (spec §1.4). */
static void test_persistent(void)
{
    struct hv *hv = test_hv(MiB(64), 1, false);
    struct domain *d = test_domain(hv, true, 4);
    uint8_t in[PAGE_SIZE], out[PAGE_SIZE];
    struct domain_info info;
    uint64_t free0 = test_free_pages(hv);
    int pool = tmem_new_pool(T(hv), d, PERS, 0, 0);

    REQUIRE(pool == 0);
    for (uint32_t i = 0; i < 4; i++) {
        make_page(in, i, false); /* incompressible: a frame each */
        CHECK_EQ(tmem_put(T(hv), d, pool, &OID1, i, in), 1);
    }
    domain_get_info(d, &info);
    CHECK_EQ(info.tot_pages, 4);
    CHECK_EQ(free0 - test_free_pages(hv), 4);
    make_page(in, 99, false);
    CHECK_EQ(tmem_put(T(hv), d, pool, &OID1, 4, in), -ENOMEM);
    for (int r = 0; r < 2; r++) {
        CHECK_EQ(tmem_get(T(hv), d, pool, &OID1, 2, out), 1);
        make_page(in, 2, false);
        CHECK(memcmp(in, out, PAGE_SIZE) == 0);
    }
    CHECK_EQ(tmem_flush_page(T(hv), d, pool, &OID1, 2), 1);
    CHECK_EQ(tmem_get(T(hv), d, pool, &OID1, 2, out), 0);
    CHECK_EQ(tmem_flush_page(T(hv), d, pool, &OID1, 2), 1); /* nothing there: still 1 */
    domain_get_info(d, &info);
    CHECK_EQ(info.tot_pages, 3);
    CHECK_EQ(tmem_flush_object(T(hv), d, pool, &OID1), 1);
    CHECK_EQ(tmem_get(T(hv), d, pool, &OID1, 0, out), -TMEM_EEMPTY);
    domain_get_info(d, &info);
    CHECK_EQ(info.tot_pages, 0);
    CHECK_HV(hv);
    destroy(d);
    CHECK_EQ(test_free_pages(hv), free0);
    hv_destroy(hv);
}

/* put-put-get coherence: a duplicate replaces, or fails having flushed. */
static void test_duplicate_puts(void)
{
    struct hv *hv = test_hv(MiB(64), 1, false);
    struct domain *d = test_domain(hv, true, 100);
    uint8_t a[PAGE_SIZE], b[PAGE_SIZE], out[PAGE_SIZE];
    struct tmem_stats st;

    for (int kind = 0; kind < 2; kind++) {
        int pool = tmem_new_pool(T(hv), d, kind ? PERS : EPH, 0, 0);

        make_page(a, 1, true);
        make_page(b, 2, false);
        CHECK_EQ(tmem_put(T(hv), d, pool, &OID1, 5, a), 1);
        CHECK_EQ(tmem_put(T(hv), d, pool, &OID1, 5, b), 1);
        CHECK_EQ(tmem_get(T(hv), d, pool, &OID1, 5, out), 1);
        CHECK(memcmp(b, out, PAGE_SIZE) == 0);
        if (!kind)
            CHECK_EQ(tmem_put(T(hv), d, pool, &OID1, 5, b), 1);
        /* The new data cannot be stored: the old is gone, -ENOSPC. */
        fault_arm(&hv->fault, 1, true);
        CHECK_EQ(tmem_put(T(hv), d, pool, &OID1, 5, a), -ENOSPC);
        fault_disarm(&hv->fault);
        CHECK_EQ(tmem_get(T(hv), d, pool, &OID1, 5, out), -TMEM_EEMPTY);
        CHECK_HV(hv);
    }
    tmem_get_stats(T(hv), d->domid, &st);
    CHECK_EQ(st.dup_puts_replaced, 2);
    CHECK_EQ(st.dup_puts_flushed, 2);
    destroy(d);
    hv_destroy(hv);
}

static void test_frozen(void)
{
    struct hv *hv = test_hv(MiB(64), 1, false);
    struct domain *d = test_domain(hv, true, 100);
    uint8_t in[PAGE_SIZE], out[PAGE_SIZE];
    int pool = tmem_new_pool(T(hv), d, PERS, 0, 0);

    make_page(in, 3, true);
    CHECK_EQ(tmem_put(T(hv), d, pool, &OID1, 0, in), 1);
    CHECK_EQ(tmem_put(T(hv), d, pool, &OID1, 1, in), 1);
    CHECK_EQ(tmem_set_frozen(T(hv), d->domid, true), 0);
    CHECK_EQ(tmem_set_frozen(T(hv), 4000, true), -ENOENT);
    CHECK_EQ(tmem_put(T(hv), d, pool, &OID1, 2, in), -TMEM_EFROZEN); /* a new handle */
    CHECK_EQ(tmem_put(T(hv), d, pool, &OID1, 0, in), 1);            /* a duplicate */
    CHECK_EQ(tmem_flush_page(T(hv), d, pool, &OID1, 1), -TMEM_EFROZEN);
    CHECK_EQ(tmem_get(T(hv), d, pool, &OID1, 1, out), 0); /* flushed all the same */
    CHECK_EQ(tmem_get(T(hv), d, pool, &OID1, 0, out), 1);
    CHECK_EQ(tmem_set_frozen(T(hv), 0xFFFF, false), 0);
    CHECK_EQ(tmem_put(T(hv), d, pool, &OID1, 2, in), 1);
    CHECK_HV(hv);
    destroy(d);
    hv_destroy(hv);
}

/* Shared pools: joined by UUID once authorised, else private; the pool
 * lives while a sharer holds it; nobody reaches another's private pool. */
static void test_shared_pools(void)
{
    struct hv *hv = test_hv(MiB(64), 1, false);
    struct domain *a = test_domain(hv, true, 100), *b = test_domain(hv, true, 100);
    uint8_t in[PAGE_SIZE], out[PAGE_SIZE];
    int pa, pb, priv_a, priv_b;

    make_page(in, 4, true);
    /* Unauthorised: each gets a private pool. */
    priv_a = tmem_new_pool(T(hv), a, SHARED, 11, 22);
    priv_b = tmem_new_pool(T(hv), b, SHARED, 11, 22);
    REQUIRE(priv_a == 0 && priv_b == 0);
    CHECK_EQ(tmem_put(T(hv), a, priv_a, &OID1, 0, in), 1);
    CHECK_EQ(tmem_get(T(hv), b, priv_b, &OID1, 0, out), -TMEM_EEMPTY);
    CHECK_EQ(tmem_get(T(hv), b, 1, &OID1, 0, out), -ENODEV);
    /* Authorised: the same pool. */
    CHECK_EQ(tmem_set_auth(T(hv), a->domid, 11, 22, true), 0);
    CHECK_EQ(tmem_set_auth(T(hv), b->domid, 11, 22, true), 0);
    CHECK_EQ(tmem_set_auth(T(hv), 4000, 11, 22, true), -ESRCH);
    pa = tmem_new_pool(T(hv), a, SHARED, 11, 22);
    pb = tmem_new_pool(T(hv), b, SHARED, 11, 22);
    REQUIRE(pa == 1 && pb == 1);
    CHECK_EQ(tmem_new_pool(T(hv), b, SHARED, 11, 22), 1); /* already joined */
    CHECK_EQ(tmem_put(T(hv), a, pa, &OID2, 3, in), 1);
    for (int r = 0; r < 2; r++) { /* shared gets do not consume */
        CHECK_EQ(tmem_get(T(hv), b, pb, &OID2, 3, out), 1);
        CHECK(memcmp(in, out, PAGE_SIZE) == 0);
    }
    CHECK_HV(hv);
    /* The owner leaves: the pool stays with b. */
    CHECK_EQ(tmem_destroy_pool(T(hv), a, pa), 1);
    CHECK_EQ(tmem_get(T(hv), b, pb, &OID2, 3, out), 1);
    CHECK_EQ(tmem_put(T(hv), b, pb, &OID2, 4, in), 1);
    CHECK_HV(hv);
    /* Revoking keeps those that joined; a new join is private. */
    CHECK_EQ(tmem_set_auth(T(hv), a->domid, 11, 22, false), 0);
    pa = tmem_new_pool(T(hv), a, SHARED, 11, 22);
    CHECK_EQ(tmem_get(T(hv), a, pa, &OID2, 3, out), -TMEM_EEMPTY);
    /* The all-ones UUID is never shared. */
    CHECK_EQ(tmem_set_auth(T(hv), a->domid, UINT64_MAX, UINT64_MAX, true), 0);
    CHECK_EQ(tmem_set_auth(T(hv), b->domid, UINT64_MAX, UINT64_MAX, true), 0);
    CHECK_EQ(tmem_put(T(hv), a, tmem_new_pool(T(hv), a, SHARED, UINT64_MAX, UINT64_MAX), &OID1,
                      0, in), 1);
    CHECK_EQ(tmem_get(T(hv), b, tmem_new_pool(T(hv), b, SHARED, UINT64_MAX, UINT64_MAX), &OID1,
                      0, out), -TMEM_EEMPTY);
    CHECK_HV(hv);
    /* 16 authorisations at most. */
    for (uint64_t i = 0; i < TMEM_MAX_AUTH - 1; i++)
        CHECK_EQ(tmem_set_auth(T(hv), a->domid, 100 + i, 0, true), 0);
    CHECK_EQ(tmem_set_auth(T(hv), a->domid, 999, 0, true), -ENOMEM);
    domain_kill(b); /* the last sharer: the pool goes */
    domain_put(b);
    CHECK_HV(hv);
    destroy(a);
    hv_destroy(hv);
}

/* Compression: LZ4 by default, zstd on request, raw for noise; every page
 * comes back exact. */
static void test_compression(void)
{
    struct hv *hv = test_hv(MiB(64), 1, false);
    struct domain *d = test_domain(hv, true, 100);
    uint8_t in[PAGE_SIZE], out[PAGE_SIZE];
    struct tmem_stats st;
    int pool = tmem_new_pool(T(hv), d, EPH, 0, 0);

    for (unsigned codec = 0; codec < 3; codec++) {
        CHECK_EQ(tmem_set_compress(T(hv), d->domid, codec), 0);
        for (uint32_t i = 0; i < 64; i++) {
            make_page(in, codec * 1000 + i, i % 4 != 0);
            CHECK_EQ(tmem_put(T(hv), d, pool, &OID1, codec * 1000 + i, in), 1);
        }
        for (uint32_t i = 0; i < 64; i++) {
            make_page(in, codec * 1000 + i, i % 4 != 0);
            CHECK_EQ(tmem_get(T(hv), d, pool, &OID1, codec * 1000 + i, out), 1);
            CHECK(memcmp(in, out, PAGE_SIZE) == 0);
        }
    }
    CHECK_EQ(tmem_set_compress(T(hv), d->domid, 3), -EINVAL);
    tmem_get_stats(T(hv), d->domid, &st);
    CHECK_EQ(st.compressed_pages, 2 * 48);
    CHECK_EQ(st.raw_pages, 64 + 2 * 16);
    CHECK_HV(hv);
    destroy(d);
    hv_destroy(hv);
}

/* A host whose memory tmem fills: puts go on, evicting the oldest pages
 * whole zspages at a time; persistent pages are never evicted; every
 * frame comes back when the domains go. */
static void test_eviction(void)
{
    struct hv *hv = test_hv(MiB(32), 1, false);
    struct domain *d = test_domain(hv, true, 1000);
    uint64_t free0 = test_free_pages(hv), puts = 2 * free0;
    uint8_t in[PAGE_SIZE], out[PAGE_SIZE];
    struct tmem_stats st;
    int pool = tmem_new_pool(T(hv), d, EPH, 0, 0), pers = tmem_new_pool(T(hv), d, PERS, 0, 0);
    unsigned found = 0;

    make_page(in, 7, false);
    CHECK_EQ(tmem_put(T(hv), d, pers, &OID2, 0, in), 1);
    for (uint32_t i = 0; i < puts; i++) {
        make_page(in, i, i % 2);
        CHECK_EQ(tmem_put(T(hv), d, pool, &OID1, i, in), 1);
    }
    tmem_get_stats(T(hv), d->domid, &st);
    CHECK(st.evicted_pages > 0);
    CHECK(st.eph_frames <= free0);
    CHECK_EQ(st.pers_pages, 1);
    CHECK_EQ(test_free_pages(hv), 0);
    /* The newest pages are there and exact; the oldest were evicted. */
    for (uint32_t i = puts - 64; i < puts; i++) {
        make_page(in, i, i % 2);
        if (tmem_get(T(hv), d, pool, &OID1, i, out) == 1) {
            found++;
            CHECK(memcmp(in, out, PAGE_SIZE) == 0);
        }
    }
    CHECK(found >= 60);
    CHECK_EQ(tmem_get(T(hv), d, pool, &OID1, 0, out), 0);
    make_page(in, 7, false);
    CHECK_EQ(tmem_get(T(hv), d, pers, &OID2, 0, out), 1);
    CHECK(memcmp(in, out, PAGE_SIZE) == 0);
    CHECK_HV(hv);
    /* The heap asks for frames back. */
    CHECK_EQ(tmem_evict_frames(T(hv), 100), 100);
    CHECK(test_free_pages(hv) >= 100);
    CHECK_HV(hv);
    destroy(d);
    CHECK_EQ(test_free_pages(hv), free0);
    hv_destroy(hv);
}

/* The heap's four ways of asking for memory back: a page, a 2 MiB block
 * (served by evicting the zspages inside one), free pages up to a mark,
 * a number of frames. */
static void test_relinquish(void)
{
    struct hv *hv = test_hv(MiB(32), 1, false);
    struct domain *d = test_domain(hv, true, 100), *e = test_domain(hv, true, 100);
    uint64_t all = test_free_pages(hv);
    static _Alignas(PAGE_SIZE) uint8_t zero[PAGE_SIZE];
    struct heap_owner anon = { 0 };
    uint8_t in[PAGE_SIZE];
    mfn_t mfn;
    int pool;

    /* A shared pool, in two clients' tables: its frames count once. */
    REQUIRE(tmem_set_auth(T(hv), d->domid, 9, 9, true) == 0);
    REQUIRE(tmem_set_auth(T(hv), e->domid, 9, 9, true) == 0);
    pool = tmem_new_pool(T(hv), d, SHARED, 9, 9);
    REQUIRE(pool == 0 && tmem_new_pool(T(hv), e, SHARED, 9, 9) == 0);

    for (uint32_t i = 0; i < all + 100; i++) {
        make_page(in, i, false);
        CHECK_EQ(tmem_put(T(hv), d, pool, &OID1, i, in), 1);
    }
    REQUIRE(test_free_pages(hv) < 4);
    /* tmem's own allocations never ask tmem. */
    CHECK_EQ(heap_alloc_pages(hv->heap, SUPERPAGE_ORDER, MEMF_tmem, &anon, &mfn), -ENOMEM);
    CHECK_EQ(heap_alloc_pages(hv->heap, SUPERPAGE_ORDER, 0, &anon, &mfn), 0);
    for (uint64_t i = 0; i < SUPERPAGE_PAGES; i++)
        CHECK(memcmp(machine_frame_bytes(hv->m, mfn_add(mfn, i)), zero, PAGE_SIZE) == 0);
    heap_free_pages(hv->heap, mfn, SUPERPAGE_ORDER, false);
    CHECK_HV(hv);
    CHECK_EQ(heap_alloc_pages(hv->heap, 0, 0, &anon, &mfn), 0);
    heap_free_pages(hv->heap, mfn, 0, false);
    CHECK_EQ(tmem_relinquish_block(T(hv), 20), -ENOMEM); /* bigger than the host */
    tmem_evict_until_free(T(hv), 2000);
    CHECK(test_free_pages(hv) >= 2000);
    CHECK_HV(hv);
    destroy(e);
    destroy(d);
    CHECK_EQ(test_free_pages(hv), all);
    hv_destroy(hv);
}

/* Weights: the client over its share is the one evicted (the test the
 * right way round). */
static void test_eviction_weights(void)
{
    struct hv *hv = test_hv(MiB(64), 1, false);
    struct domain *a = test_domain(hv, true, 100), *b = test_domain(hv, true, 100);
    uint8_t in[PAGE_SIZE];
    struct tmem_stats sa, sb;
    int pa = tmem_new_pool(T(hv), a, EPH, 0, 0), pb = tmem_new_pool(T(hv), b, EPH, 0, 0);

    for (uint32_t i = 0; i < 300; i++) {
        make_page(in, i, false);
        CHECK_EQ(tmem_put(T(hv), a, pa, &OID1, i, in), 1);
        if (i < 100)
            CHECK_EQ(tmem_put(T(hv), b, pb, &OID1, i, in), 1);
    }
    /* a holds 3/4 of the pages but only 1/2 of the weight. */
    CHECK_EQ(tmem_set_weight(T(hv), a->domid, 1), 0);
    CHECK_EQ(tmem_set_weight(T(hv), b->domid, 1), 0);
    CHECK_EQ(tmem_evict_frames(T(hv), 50), 50);
    tmem_get_stats(T(hv), a->domid, &sa);
    tmem_get_stats(T(hv), b->domid, &sb);
    CHECK_EQ(sa.evicted_pages, 50);
    CHECK_EQ(sb.evicted_pages, 0);
    /* b weighted 9 to 1: a stays over its share. */
    CHECK_EQ(tmem_set_weight(T(hv), b->domid, 9), 0);
    CHECK_EQ(tmem_evict_frames(T(hv), 200), 200);
    tmem_get_stats(T(hv), b->domid, &sb);
    CHECK_EQ(sb.evicted_pages, 0);
    CHECK_HV(hv);
    destroy(a);
    destroy(b);
    hv_destroy(hv);
}

/* A host whose free memory tmem has soaked up builds a domain, through
 * the toolstack's builder and the hypercall ABI: xl's free-memory check
 * and a hard claim see only free memory and refuse; a soft claim counts
 * what tmem can give back, and the build takes it, scrubbed. */
static void test_soft_claim_build(void)
{
    struct hv *hv = test_hv(MiB(64), 1, false);
    struct domain *a = test_domain(hv, true, 100), *b;
    uint64_t all = test_free_pages(hv), want = all / 2, freeable;
    struct build_spec spec = { .mem_pages = want, .use_claim = true, .batch_2m = 4,
                               .batch_4k = 64 };
    static _Alignas(PAGE_SIZE) uint8_t out[PAGE_SIZE];
    struct build_result res;
    struct tmem_stats st;
    struct tc_handle *t;
    uint8_t in[PAGE_SIZE];
    int pool = tmem_new_pool(T(hv), a, EPH, 0, 0);

    REQUIRE(tc_open(hv, 0, true, &t) == 0);
    for (uint32_t i = 0; i < all; i++) {
        make_page(in, i, false);
        CHECK_EQ(tmem_put(T(hv), a, pool, &OID1, i, in), 1);
    }
    tmem_get_stats(T(hv), DOMID_INVALID, &st);
    freeable = heap_freeable(hv->heap);
    CHECK_EQ(freeable, st.eph_frames);
    CHECK(test_free_pages(hv) < 16);
    toolstack_build(t, &spec, &res);
    CHECK(res.rc == -ENOMEM && res.refused_at_once && res.populated_pages == 0);
    spec.use_claim = false;
    toolstack_build(t, &spec, &res);
    CHECK(res.rc == -ENOMEM && res.refused_at_once && res.populated_pages == 0);
    CHECK_EQ(heap_freeable(hv->heap), freeable);
    CHECK_HV(hv);
    /* The soft claim, and the build under it. */
    spec.use_claim = spec.soft_claim = true;
    toolstack_build(t, &spec, &res);
    CHECK_EQ(res.rc, 0);
    CHECK_EQ(res.populated_pages, want);
    CHECK_EQ(test_outstanding(hv), 0);
    tmem_get_stats(T(hv), DOMID_INVALID, &st);
    CHECK(st.eph_frames <= freeable - (want - 16));
    CHECK(st.eph_frames >= freeable - want - 16);
    /* Not a byte of what tmem held reaches the new domain. */
    b = domain_lookup(hv->domains, res.domid);
    REQUIRE(b != NULL);
    for (uint64_t gfn = 0; gfn < want; gfn++) {
        CHECK_EQ(guest_read(b, gfn << PAGE_SHIFT, out, PAGE_SIZE), 0);
        if (!pages_are_zero(out, 1)) {
            CHECK(!"a page of the new domain holds tmem's bytes");
            break;
        }
    }
    CHECK_HV(hv);
    /* The soft claim through the ABI: more than free + freeable is refused. */
    {
        struct domain *c = test_domain(hv, true, UINT32_MAX);

        REQUIRE(c != NULL);
        CHECK_EQ(tc_domain_claim_pages_soft(t, c->domid, test_free_pages(hv) +
                                                         heap_freeable(hv->heap) + 2), -ENOMEM);
        CHECK_EQ(tc_domain_claim_pages(t, c->domid, heap_freeable(hv->heap)), -ENOMEM);
        CHECK_EQ(tc_domain_claim_pages_soft(t, c->domid, heap_freeable(hv->heap)), 0);
        CHECK_EQ(tc_domain_claim_pages(t, c->domid, 0), 0);
        destroy(c);
    }
    /* What is freeable really is: all of it comes back. */
    freeable = heap_freeable(hv->heap);
    CHECK_EQ(tmem_evict_frames(T(hv), UINT64_MAX), freeable);
    CHECK_EQ(heap_freeable(hv->heap), 0);
    CHECK_HV(hv);
    tc_close(t);
    destroy(a);
    (void)domain_kill(b);
    domain_put(b);
    CHECK_EQ(test_free_pages(hv), all);
    hv_destroy(hv);
}

/* The toolstack's controls: client info, pools, freeable, flush, list. */
static void test_control(void)
{
    struct hv *hv = test_hv(MiB(64), 1, false);
    struct domain *d = test_domain(hv, true, 1000);
    struct tmem_client_info ci;
    struct tmem_pool_info pi[TMEM_MAX_POOLS];
    uint8_t in[PAGE_SIZE];
    char text[4096];
    size_t n;

    tmem_get_client_info(T(hv), d->domid, &ci);
    CHECK(ci.version == 1 && ci.maxpools == 16 && ci.nr_pools == 0 && ci.flags == 0);
    CHECK_EQ(tmem_new_pool(T(hv), d, EPH, 0, 0), 0);
    CHECK_EQ(tmem_new_pool(T(hv), d, PERS, 0, 0), 1);
    for (uint32_t i = 0; i < 300; i++) {
        make_page(in, i, false);
        CHECK_EQ(tmem_put(T(hv), d, 0, &OID1, i, in), 1);
        CHECK_EQ(tmem_put(T(hv), d, 1, &OID2, i, in), 1);
    }
    tmem_get_client_info(T(hv), d->domid, &ci);
    CHECK_EQ(ci.nr_pools, 2);
    CHECK_EQ(ci.flags, TMEM_INFO_COMPRESS);
    ci.weight = 7;
    ci.flags = 0;
    CHECK_EQ(tmem_set_client_info(T(hv), d->domid, &ci), 0);
    tmem_get_client_info(T(hv), d->domid, &ci);
    CHECK(ci.weight == 7 && ci.flags == 0);
    ci.version = 2;
    CHECK_EQ(tmem_set_client_info(T(hv), d->domid, &ci), -EOPNOTSUPP);
    ci.version = 1;
    ci.maxpools = 17;
    CHECK_EQ(tmem_set_client_info(T(hv), d->domid, &ci), -ERANGE);
    ci.maxpools = 16;
    CHECK_EQ(tmem_set_client_info(T(hv), 4000, &ci), -ENOENT);
    CHECK_EQ(tmem_get_pools(T(hv), d->domid, pi, TMEM_MAX_POOLS), 2);
    CHECK(pi[0].id == 0 && pi[0].flags == EPH && pi[0].n_pages == 0);
    CHECK(pi[1].id == 1 && pi[1].flags == PERS && pi[1].n_pages == 300);
    CHECK_EQ(tmem_get_pools(T(hv), d->domid, pi, 1), 1);
    CHECK_EQ(tmem_freeable_mb(T(hv)), heap_freeable(hv->heap) >> 8);
    CHECK_EQ(heap_freeable(hv->heap), 300); /* raw pages: a frame each */
    CHECK_EQ(tmem_flush_kb(T(hv), 400), 400);
    CHECK_EQ(heap_freeable(hv->heap), 200);
    n = tmem_list(T(hv), TMEM_ALL_CLIENTS, true, text, sizeof(text));
    CHECK_EQ(n, strlen(text));
    CHECK(strncmp(text, "G=", 2) == 0);
    CHECK(strstr(text, "C=CI:1,ww:7") != NULL);
    CHECK(strstr(text, "P=CI:1,PI:1,PT:PP") != NULL);
    CHECK(strstr(text, "Pc:300") != NULL);
    CHECK_EQ(tmem_list(T(hv), d->domid, false, text, 8), 7); /* cut short, terminated */
    CHECK_EQ(tmem_destroy_client_pools(T(hv), d->domid), 0);
    tmem_get_client_info(T(hv), d->domid, &ci);
    CHECK_EQ(ci.nr_pools, 0);
    CHECK_EQ(tmem_destroy_client_pools(T(hv), 4000), -ENOENT);
    CHECK_HV(hv);
    destroy(d);
    hv_destroy(hv);
}

/* A live save of persistent pools while the guest flushes and puts, and a
 * restore into another domain: it ends up with exactly what is left. */
static void test_save_restore(void)
{
    struct hv *hv = test_hv(MiB(64), 1, false);
    struct domain *a = test_domain(hv, true, 1000), *b = test_domain(hv, true, 1000);
    static struct { struct tmem_handle h; uint8_t page[PAGE_SIZE]; } stream[40];
    struct tmem_handle inv[4], h;
    struct tmem_pool_info pi[TMEM_MAX_POOLS];
    struct tmem_client_info ci;
    uint8_t in[PAGE_SIZE], out[PAGE_SIZE];
    int n = 0, nr_inv = 0, pools, rc;

    CHECK_EQ(tmem_save_begin(T(hv), a->domid, true), -ENOENT); /* no client */
    CHECK_EQ(tmem_new_pool(T(hv), a, EPH, 0, 0), 0);
    CHECK_EQ(tmem_new_pool(T(hv), a, PERS, 0, 0), 1);
    for (uint32_t i = 0; i < 20; i++) {
        make_page(in, i, i % 3 == 0);
        CHECK_EQ(tmem_put(T(hv), a, 1, &OID1, i, in), 1);
    }
    CHECK_EQ(tmem_save_begin(T(hv), a->domid, true), 0);
    CHECK_EQ(tmem_save_begin(T(hv), a->domid, true), -EBUSY);
    tmem_get_client_info(T(hv), a->domid, &ci);
    CHECK_EQ(ci.flags & (TMEM_INFO_FROZEN | TMEM_INFO_MIGRATING),
             TMEM_INFO_FROZEN | TMEM_INFO_MIGRATING);
    /* The guest goes on meanwhile. */
    CHECK_EQ(tmem_flush_page(T(hv), a, 1, &OID1, 3), -TMEM_EFROZEN);
    CHECK_EQ(tmem_put(T(hv), a, 1, &OID1, 5, in), -ENOSPC); /* a duplicate fails */
    CHECK_EQ(tmem_put(T(hv), a, 1, &OID1, 99, in), -TMEM_EFROZEN);
    CHECK_EQ(tmem_destroy_pool(T(hv), a, 1), -EBUSY);
    /* The stream. */
    pools = tmem_get_pools(T(hv), a->domid, pi, TMEM_MAX_POOLS);
    CHECK_EQ(pools, 2);
    CHECK_EQ(tmem_save_next_page(T(hv), a->domid, 0, &h, out), -EINVAL); /* ephemeral */
    while ((rc = tmem_save_next_page(T(hv), a->domid, 1, &stream[n].h, stream[n].page)) == 1)
        n++;
    CHECK_EQ(rc, 0);
    CHECK_EQ(n, 18);
    while (tmem_save_next_inv(T(hv), a->domid, &inv[nr_inv]) == 1)
        nr_inv++;
    CHECK_EQ(nr_inv, 2);
    CHECK(inv[0].index == 3 && inv[1].index == 5 && inv[0].pool_id == 1);
    CHECK_EQ(tmem_save_end(T(hv), a->domid), 0);
    tmem_get_client_info(T(hv), a->domid, &ci);
    CHECK_EQ(ci.flags & (TMEM_INFO_FROZEN | TMEM_INFO_MIGRATING), 0);
    CHECK_HV(hv);

    /* The restore, as xc_tmem did it. */
    CHECK_EQ(tmem_restore_begin(T(hv), b->domid), 0);
    CHECK_EQ(tmem_restore_begin(T(hv), b->domid), -EEXIST);
    CHECK_EQ(tmem_restore_begin(T(hv), 4000), -ESRCH);
    pi[1].n_pages = 5;
    CHECK_EQ(tmem_set_pools(T(hv), b->domid, &pi[1], 1), -EINVAL);
    pi[0].n_pages = pi[1].n_pages = 0;
    CHECK_EQ(tmem_set_pools(T(hv), b->domid, pi, 2), 2);
    for (int i = 0; i < n; i++)
        CHECK_EQ(tmem_put(T(hv), b, (int32_t)stream[i].h.pool_id, &stream[i].h.oid,
                          stream[i].h.index, stream[i].page), 1);
    for (int i = 0; i < nr_inv; i++)
        CHECK_EQ(tmem_flush_page(T(hv), b, (int32_t)inv[i].pool_id, &inv[i].oid, inv[i].index), 1);
    for (uint32_t i = 0; i < 20; i++) {
        rc = tmem_get(T(hv), b, 1, &OID1, i, out);
        if (i == 3 || i == 5) {
            CHECK_EQ(rc, 0);
            continue;
        }
        CHECK_EQ(rc, 1);
        make_page(in, i, i % 3 == 0);
        CHECK(memcmp(in, out, PAGE_SIZE) == 0);
    }
    CHECK_HV(hv);
    destroy(a);
    destroy(b);
    hv_destroy(hv);
}

/* The guest's tmem_op hypercall, from its own session. */
static long tmem_op(struct hc_session *s, struct tmem_op *op, uint32_t cmd, int32_t pool,
                    uint64_t oid0, uint32_t index, uint64_t cmfn)
{
    memset(op, 0, sizeof(*op));
    op->cmd = cmd;
    op->pool_id = pool;
    if (cmd == TMEM_NEW_POOL) {
        op->u.creat.flags = (uint32_t)cmfn;
    } else {
        op->u.gen.oid.oid[0] = oid0;
        op->u.gen.index = index;
        op->u.gen.cmfn = cmfn;
    }
    return hc_call(s, HC_TMEM_OP, (uint64_t)(uintptr_t)op, 0, 0, 0, 0);
}

static void test_hypercall(void)
{
    struct hv *hv = test_hv(MiB(64), 1, false);
    struct domain *d = test_domain(hv, true, 100), *pv = test_domain(hv, false, 100);
    uint8_t in[PAGE_SIZE], out[PAGE_SIZE];
    struct hc_session *s, *ps;
    struct tmem_op *op;
    mfn_t mfn, pv_mfn;
    int pool;

    REQUIRE(hc_session_create(hv, d->domid, false, &s) == 0);
    REQUIRE((op = hc_buffer_alloc(s, sizeof(*op))) != NULL);
    for (uint64_t gfn = 0; gfn < 8; gfn++)
        REQUIRE(physmap_populate(d, _gfn(gfn), 0, 0, &mfn) == 0);
    make_page(in, 5, true);
    CHECK_EQ(guest_write(d, 5 << PAGE_SHIFT, in, PAGE_SIZE), 0);

    pool = (int)tmem_op(s, op, TMEM_NEW_POOL, 0, 0, 0, EPH);
    CHECK_EQ(pool, 0);
    CHECK_EQ(tmem_op(s, op, TMEM_PUT_PAGE, pool, 42, 7, 5), 1);
    CHECK_EQ(tmem_op(s, op, TMEM_GET_PAGE, pool, 42, 7, 6), 1);
    CHECK_EQ(guest_read(d, 6 << PAGE_SHIFT, out, PAGE_SIZE), 0);
    CHECK(memcmp(in, out, PAGE_SIZE) == 0);
    CHECK_EQ(tmem_op(s, op, TMEM_GET_PAGE, pool, 42, 7, 6), -EEMPTY);
    CHECK_EQ(tmem_op(s, op, TMEM_PUT_PAGE, pool, 42, 7, 50), -EFAULT); /* a hole */
    CHECK_EQ(tmem_op(s, op, TMEM_PUT_PAGE, 9, 42, 7, 5), -ENODEV);
    CHECK_EQ(tmem_op(s, op, TMEM_FLUSH_PAGE, pool, 42, 7, 0), 1);
    CHECK_EQ(tmem_op(s, op, TMEM_FLUSH_OBJECT, pool, 42, 0, 0), 1);
    CHECK_EQ(tmem_op(s, op, TMEM_NEW_POOL, 0, 0, 0, 0), -EPERM); /* version 0 */
    CHECK_EQ(tmem_op(s, op, TMEM_DESTROY_POOL, pool, 0, 0, 0), 1);
    CHECK_EQ(tmem_op(s, op, 0, 0, 0, 0, 0), -EOPNOTSUPP);
    CHECK_EQ(tmem_op(s, op, TMEM_AUTH, 0, 0, 0, 0), -EOPNOTSUPP);
    CHECK_EQ(tmem_op(s, op, TMEM_RESTORE_NEW, 0, 0, 0, 0), -EOPNOTSUPP);
    CHECK_EQ(tmem_op(s, op, 3, 0, 0, 0, 0), -ENOSYS); /* the obsolete NEW_PAGE */
    CHECK_EQ(tmem_op(s, op, 9, 0, 0, 0, 0), -ENOSYS);
    CHECK_EQ(hc_call(s, HC_TMEM_OP, 16, 0, 0, 0, 0), -EFAULT);

    /* A PV guest names its own frames; another domain's is refused. */
    REQUIRE(hc_session_create(hv, pv->domid, false, &ps) == 0);
    REQUIRE((op = hc_buffer_alloc(ps, sizeof(*op))) != NULL);
    REQUIRE(domain_alloc_pages(pv, 0, 0, &pv_mfn) == 0);
    pool = (int)tmem_op(ps, op, TMEM_NEW_POOL, 0, 0, 0, PERS);
    CHECK_EQ(pool, 0);
    CHECK_EQ(tmem_op(ps, op, TMEM_PUT_PAGE, pool, 1, 1, mfn_x(pv_mfn)), 1);
    CHECK_EQ(tmem_op(ps, op, TMEM_PUT_PAGE, pool, 1, 2, mfn_x(mfn)), -EFAULT);
    CHECK_EQ(tmem_op(ps, op, TMEM_GET_PAGE, pool, 1, 1, mfn_x(mfn)), -EFAULT);
    CHECK_HV(hv);
    hc_session_destroy(ps);
    hc_session_destroy(s);
    destroy(pv);
    destroy(d);
    hv_destroy(hv);
}

/* XEN_SYSCTL_tmem_op from dom0. */
static long raw_sysctl(struct hc_session *s, struct xen_sysctl *sc,
                       const struct mv_sysctl_tmem_op *op)
{
    memset(sc, 0, sizeof(*sc));
    sc->cmd = MV_SYSCTL_tmem_op;
    sc->interface_version = XEN_SYSCTL_INTERFACE_VERSION;
    memcpy(&sc->u, op, sizeof(*op));
    return hc_call(s, HC_SYSCTL, (uint64_t)(uintptr_t)sc, 0, 0, 0, 0);
}

static long tmem_sysctl(struct hc_session *s, struct xen_sysctl *sc, uint32_t cmd, uint32_t cli,
                        int32_t pool, uint32_t arg, void *buf, uint32_t len)
{
    struct mv_sysctl_tmem_op op = { cmd, pool, cli, len, arg, 0, { 0 }, (uint64_t)(uintptr_t)buf };

    return raw_sysctl(s, sc, &op);
}

static void test_sysctl(void)
{
    struct hv *hv = test_hv(MiB(64), 1, false);
    struct domain *d = test_domain(hv, true, 1000), *e = test_domain(hv, true, 1000);
    struct hc_session *s, *g;
    struct xen_sysctl *sc, *gsc;
    struct tmem_client_info *ci;
    struct tmem_pool_info *pi;
    uint8_t *buf, in[PAGE_SIZE], out[PAGE_SIZE];
    struct tmem_handle h;
    int pool;

    REQUIRE(hc_session_create(hv, 0, true, &s) == 0);
    REQUIRE(hc_session_create(hv, d->domid, false, &g) == 0);
    sc = hc_buffer_alloc(s, sizeof(*sc));
    gsc = hc_buffer_alloc(g, sizeof(*gsc));
    ci = hc_buffer_alloc(s, sizeof(*ci));
    pi = hc_buffer_alloc(s, TMEM_MAX_POOLS * sizeof(*pi));
    buf = hc_buffer_alloc(s, 2 * PAGE_SIZE);
    REQUIRE(sc && gsc && ci && pi && buf);
    pool = tmem_new_pool(T(hv), d, PERS, 0, 0);
    for (uint32_t i = 0; i < 4; i++) {
        make_page(in, i, true);
        CHECK_EQ(tmem_put(T(hv), d, pool, &OID1, i, in), 1);
    }
    /* Privileged only; pad must be 0; unknown commands. */
    CHECK_EQ(tmem_sysctl(g, gsc, MV_TMEM_OP_FREEZE, d->domid, 0, 0, NULL, 0), -EPERM);
    {
        struct mv_sysctl_tmem_op bad = { MV_TMEM_OP_FREEZE, 0, d->domid, 0, 0, 1, { 0 }, 0 };

        CHECK_EQ(raw_sysctl(s, sc, &bad), -EINVAL);
    }
    CHECK_EQ(tmem_sysctl(s, sc, 77, d->domid, 0, 0, NULL, 0), -EOPNOTSUPP);
    CHECK_EQ(tmem_sysctl(s, sc, MV_TMEM_OP_FREEZE, 0x9000, 0, 0, NULL, 0), -EINVAL);
    CHECK_EQ(tmem_sysctl(s, sc, MV_TMEM_OP_FREEZE, d->domid, 0, 0, NULL, 0), 0);
    make_page(in, 9, true);
    CHECK_EQ(tmem_put(T(hv), d, pool, &OID1, 9, in), -TMEM_EFROZEN);
    CHECK_EQ(tmem_sysctl(s, sc, MV_TMEM_OP_THAW, MV_TMEM_OP_ALL_CLIENTS, 0, 0, NULL, 0), 0);
    CHECK_EQ(tmem_sysctl(s, sc, MV_TMEM_OP_GET_CLIENT_INFO, d->domid, 0, 0, ci, sizeof(*ci)), 0);
    CHECK(ci->version == 1 && ci->nr_pools == 1);
    ci->weight = 3;
    CHECK_EQ(tmem_sysctl(s, sc, MV_TMEM_OP_SET_CLIENT_INFO, d->domid, 0, 0, ci, sizeof(*ci)), 0);
    CHECK_EQ(tmem_sysctl(s, sc, MV_TMEM_OP_GET_POOLS, d->domid, 0, 0, pi, 33), -EINVAL);
    CHECK_EQ(tmem_sysctl(s, sc, MV_TMEM_OP_GET_POOLS, d->domid, 0, 0, pi, 17 * 32), -EINVAL);
    CHECK_EQ(tmem_sysctl(s, sc, MV_TMEM_OP_GET_POOLS, d->domid, 0, 0, pi, 16 * 32), 1);
    CHECK(pi[0].n_pages == 4 && pi[0].flags == PERS);
    CHECK_EQ(tmem_sysctl(s, sc, MV_TMEM_OP_QUERY_FREEABLE_MB, 0, 0, 0, NULL, 0), 0);
    CHECK_EQ(tmem_sysctl(s, sc, MV_TMEM_OP_FLUSH, d->domid, 0, 4, NULL, 0), -EINVAL);
    CHECK(tmem_sysctl(s, sc, MV_TMEM_OP_LIST, MV_TMEM_OP_ALL_CLIENTS, 0, 1, buf, 4096) > 0);
    CHECK(strstr((char *)buf, "ww:3") != NULL);
    CHECK_EQ(tmem_sysctl(s, sc, MV_TMEM_OP_LIST, 0, 0, 1, (void *)16, 4096), -EFAULT);
    /* Save one page and restore it into another domain. */
    CHECK_EQ(tmem_sysctl(s, sc, MV_TMEM_OP_SAVE_BEGIN, d->domid, 0, 0, NULL, 0), 0);
    CHECK_EQ(tmem_sysctl(s, sc, MV_TMEM_OP_SAVE_GET_NEXT_PAGE, d->domid, pool, 0, buf, 100),
             -EINVAL);
    CHECK_EQ(tmem_sysctl(s, sc, MV_TMEM_OP_SAVE_GET_NEXT_PAGE, d->domid, pool, 0, buf,
                         2 * PAGE_SIZE), 1);
    memcpy(&h, buf, sizeof(h));
    CHECK_EQ(tmem_sysctl(s, sc, MV_TMEM_OP_SAVE_GET_NEXT_INV, d->domid, 0, 0, buf + 64, 32), 0);
    CHECK_EQ(tmem_sysctl(s, sc, MV_TMEM_OP_SAVE_END, d->domid, 0, 0, NULL, 0), 0);
    CHECK_EQ(tmem_sysctl(s, sc, MV_TMEM_OP_RESTORE_BEGIN, e->domid, 0, 0, NULL, 0), 0);
    CHECK_EQ(tmem_sysctl(s, sc, MV_TMEM_OP_RESTORE_BEGIN, e->domid, 0, 0, NULL, 0), -EEXIST);
    pi[0].n_pages = 0;
    CHECK_EQ(tmem_sysctl(s, sc, MV_TMEM_OP_SET_POOLS, e->domid, 0, 0, pi, 32), 1);
    CHECK_EQ(tmem_sysctl(s, sc, MV_TMEM_OP_RESTORE_PUT_PAGE, e->domid, 0, h.index,
                         buf + sizeof(h), 100), -EINVAL);
    {
        struct mv_sysctl_tmem_op op = { MV_TMEM_OP_RESTORE_PUT_PAGE, 0, e->domid, PAGE_SIZE,
                                        h.index, 0, { h.oid.oid[0], h.oid.oid[1], h.oid.oid[2] },
                                        (uint64_t)(uintptr_t)(buf + sizeof(h)) };

        CHECK_EQ(raw_sysctl(s, sc, &op), 1);
    }
    CHECK_EQ(tmem_get(T(hv), e, 0, &h.oid, h.index, out), 1);
    make_page(in, h.index, true);
    CHECK(memcmp(in, out, PAGE_SIZE) == 0);
    /* SET_AUTH lets e join d's shared pool. */
    pi[0] = (struct tmem_pool_info){ TMEM_INFO_POOL_AUTH, 0, 0, { 5, 6 } };
    CHECK_EQ(tmem_sysctl(s, sc, MV_TMEM_OP_SET_AUTH, d->domid, 0, 0, pi, 32), 0);
    CHECK_EQ(tmem_sysctl(s, sc, MV_TMEM_OP_SET_AUTH, e->domid, 0, 0, pi, 32), 0);
    CHECK_EQ(tmem_new_pool(T(hv), d, SHARED, 5, 6), 1);
    CHECK_EQ(tmem_new_pool(T(hv), e, SHARED, 5, 6), 1);
    CHECK_EQ(tmem_put(T(hv), d, 1, &OID2, 0, in), 1);
    CHECK_EQ(tmem_get(T(hv), e, 1, &OID2, 0, out), 1);
    CHECK_EQ(tmem_sysctl(s, sc, MV_TMEM_OP_DESTROY, MV_TMEM_OP_ALL_CLIENTS, 0, 0, NULL, 0), 0);
    CHECK_EQ(tmem_get(T(hv), e, 1, &OID2, 0, out), -ENODEV);
    CHECK_HV(hv);
    hc_session_destroy(g);
    hc_session_destroy(s);
    destroy(d);
    destroy(e);
    hv_destroy(hv);
}

/* A guest's page cache using tmem as its victim cache: the second pass
 * over a working set four times its cache finds most pages in tmem, and
 * every page read is the disk's. */
static void test_guest_pagecache(void)
{
    struct hv *hv = test_hv(MiB(64), 1, false);
    struct domain *d = test_domain(hv, true, 1000);
    struct guest_pagecache *pc;
    struct guest_pagecache_stats st;
    uint8_t buf[PAGE_SIZE];
    mfn_t mfn;

    for (uint64_t gfn = 0; gfn < 64; gfn++)
        REQUIRE(physmap_populate(d, _gfn(gfn), 0, 0, &mfn) == 0);
    REQUIRE(guest_pagecache_create(hv, d, 0, 64, &pc) == 0);
    for (int pass = 0; pass < 2; pass++)
        for (uint32_t i = 0; i < 256; i++)
            CHECK_EQ(guest_pagecache_read(pc, i % 4, i / 4, buf), 0);
    guest_pagecache_stats(pc, &st);
    CHECK_EQ(st.reads, 512);
    CHECK_EQ(st.hits + st.tmem_hits + st.disk_reads, 512);
    CHECK(st.tmem_puts >= 256 + 192 - 64);
    CHECK(st.tmem_hits >= 192);
    CHECK(st.disk_reads <= 256 + 64);
    CHECK_HV(hv);
    guest_pagecache_destroy(pc);
    destroy(d);
    hv_destroy(hv);
}

/* A guest swapping through a persistent pool, then (at max_pages, where
 * tmem can store nothing for it) to its disk: every page comes back. */
static void test_guest_swap(void)
{
    struct hv *hv = test_hv(MiB(64), 1, false);

    for (int full = 0; full < 2; full++) {
        struct domain *d = test_domain(hv, true, full ? 32 : 1000);
        struct guest_swap *sw;
        struct guest_swap_stats st;
        uint8_t in[PAGE_SIZE], out[PAGE_SIZE];
        mfn_t mfn;

        for (uint64_t gfn = 0; gfn < 32; gfn++) {
            REQUIRE(physmap_populate(d, _gfn(gfn), 0, 0, &mfn) == 0);
            make_page(in, gfn, gfn % 2);
            CHECK_EQ(guest_write(d, gfn << PAGE_SHIFT, in, PAGE_SIZE), 0);
        }
        REQUIRE(guest_swap_create(hv, d, &sw) == 0);
        for (uint32_t gfn = 0; gfn < 32; gfn++)
            CHECK_EQ(guest_swap_out(sw, _gfn(gfn), 100 + gfn * 3), 0);
        for (uint64_t gfn = 0; gfn < 32; gfn++)
            CHECK_EQ(guest_fill(d, gfn << PAGE_SHIFT, 0, PAGE_SIZE), 0);
        for (uint32_t gfn = 0; gfn < 32; gfn++) {
            CHECK_EQ(guest_swap_in(sw, 100 + gfn * 3, _gfn(31 - gfn)), 0);
            CHECK_EQ(guest_read(d, (uint64_t)(31 - gfn) << PAGE_SHIFT, out, PAGE_SIZE), 0);
            make_page(in, gfn, gfn % 2);
            CHECK(memcmp(in, out, PAGE_SIZE) == 0);
        }
        CHECK_EQ(guest_swap_in(sw, 100, _gfn(0)), -ENOENT); /* freed */
        guest_swap_stats(sw, &st);
        CHECK_EQ(st.tmem_stored, full ? 0 : 32);
        CHECK_EQ(st.disk_stored, full ? 32 : 0);
        CHECK_HV(hv);
        guest_swap_destroy(sw);
        destroy(d);
    }
    hv_destroy(hv);
}

/* The fragment allocator alone: shapes, objects across frame boundaries,
 * frames back when a zspage empties. */
static int src_get(void *arg, mfn_t *mfn)
{
    struct hv *hv = arg;
    struct heap_owner anon = { 0 };

    return heap_alloc_pages(hv->heap, 0, 0, &anon, mfn) ? -ENOMEM : 0;
}

static void src_put(void *arg, mfn_t mfn)
{
    struct hv *hv = arg;

    heap_free_pages(hv->heap, mfn, 0, true);
}

static void test_zpool(void)
{
    struct hv *hv = test_hv(MiB(64), 1, false);
    struct zpool_frame_source src = { src_get, src_put, hv };
    struct mv_checker c = { stderr, "zpool", 0 };
    uint8_t in[PAGE_SIZE], out[PAGE_SIZE];
    struct zhandle h[200];
    struct zpool_stats st;
    struct zpool *zp;
    uint64_t free0 = test_free_pages(hv);
    unsigned frames, slots;

    zpool_class_shape(zpool_class_of(4096), &frames, &slots);
    CHECK(frames == 1 && slots == 1);
    zpool_class_shape(zpool_class_of(1344), &frames, &slots);
    CHECK(frames == 1 && slots == 3);
    zpool_class_shape(zpool_class_of(1376), &frames, &slots);
    CHECK(frames == 4 && slots == 11);
    /* Every class: no frame count wastes less than the one chosen. */
    for (unsigned cls = 0; cls < ZPOOL_NR_CLASSES; cls++) {
        size_t size = (cls + 1) * ZPOOL_CLASS_STEP;

        zpool_class_shape(cls, &frames, &slots);
        for (unsigned k = 1; k <= ZPOOL_MAX_FRAMES; k++)
            CHECK((k * PAGE_SIZE / size * size) * frames <= slots * size * k);
    }
    CHECK_EQ(zpool_class_of(1), 0);
    CHECK_EQ(zpool_class_of(32), 0);
    CHECK_EQ(zpool_class_of(33), 1);
    REQUIRE(zpool_create(hv->m, &src, NULL, &zp) == 0);
    CHECK_EQ(zpool_store(zp, in, 0, NULL, &h[0]), -EINVAL);
    CHECK_EQ(zpool_store(zp, in, PAGE_SIZE + 1, NULL, &h[0]), -EINVAL);
    /* 1376-byte objects: 11 in 4 frames, some across a boundary. */
    for (unsigned i = 0; i < 16; i++) {
        make_page(in, i, false);
        CHECK_EQ(zpool_store(zp, in, 1376, &h[i], &h[i]), 0);
    }
    zpool_get_stats(zp, &st);
    CHECK_EQ(st.frames, 8);
    CHECK_EQ(st.objects, 16);
    CHECK_EQ(st.stored_bytes, 16 * 1376);
    for (unsigned i = 0; i < 16; i++) {
        uint8_t scratch[PAGE_SIZE];

        make_page(in, i, false);
        zpool_load(zp, h[i], out, 1376);
        CHECK(memcmp(in, out, 1376) == 0);
        CHECK(memcmp(in, zpool_map(zp, h[i], 1376, scratch), 1376) == 0);
    }
    CHECK_EQ(zpool_check(zp, &c), 0);
    /* The first zspage empties: its frames go back at once. */
    for (unsigned i = 0; i < 11; i++)
        zpool_free(zp, h[i], 1376);
    zpool_get_stats(zp, &st);
    CHECK_EQ(st.frames, 4);
    CHECK_EQ(zpool_check(zp, &c), 0);
    zpool_destroy(zp);
    CHECK_EQ(test_free_pages(hv), free0);
    CHECK_HV(hv);
    hv_destroy(hv);
}

HARNESS_MAIN("tmem", TEST_ENTRY(test_new_pool_rules), TEST_ENTRY(test_ephemeral_exclusive_get),
             TEST_ENTRY(test_persistent), TEST_ENTRY(test_duplicate_puts), TEST_ENTRY(test_frozen),
             TEST_ENTRY(test_shared_pools), TEST_ENTRY(test_compression),
             TEST_ENTRY(test_eviction), TEST_ENTRY(test_eviction_weights),
             TEST_ENTRY(test_relinquish),
             TEST_ENTRY(test_soft_claim_build),
             TEST_ENTRY(test_control), TEST_ENTRY(test_save_restore),
             TEST_ENTRY(test_hypercall), TEST_ENTRY(test_sysctl),
             TEST_ENTRY(test_guest_pagecache), TEST_ENTRY(test_guest_swap), TEST_ENTRY(test_zpool))
