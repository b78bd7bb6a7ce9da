/*
 * Benchmarks of the core: claims, the buddy allocator, populating and
 * destroying domains, scrubbing.  Each figure is printed beside the
 * physical limit measured in the same run (memset bandwidth, the kernel
 * populating anonymous memory) or the peer it competes with (glibc
 * malloc), as a ratio.  Times are the best of several repetitions.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <xen/xen.h>
#include <xen/memory.h>

#include "bench_util.h"
#include "memvisor/guest.h"
#include "memvisor/hv.h"
#include "memvisor/toolstack.h"

#define REPS 5

/* Clearing 1 GiB with memset; best of 10, as it is the noisiest figure. */
static double bench_memset(void)
{
    return bench_memset_gbps(GIB, 2 * REPS);
}

/* The kernel populating 1 GiB of anonymous memory (it zeroes every page). */
static double bench_linux_populate(void)
{
    uint64_t best = UINT64_MAX;

    for (int r = 0; r < REPS; r++) {
        uint64_t t0 = mv_now_ns();
        void *p = mmap(NULL, GIB, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        uint64_t t = mv_now_ns() - t0;

        if (p == MAP_FAILED)
            exit(1);
        munmap(p, GIB);
        best = min_u64(best, t);
    }
    return gbps(GIB, best);
}

/* Claim stake + cancel through the hypercall ABI, for a claim of `pages`. */
static double bench_claim(struct tc_handle *t, domid_t d, uint64_t pages)
{
    const int iters = 20000;
    uint64_t best = UINT64_MAX;

    for (int r = 0; r < REPS; r++) {
        uint64_t t0 = mv_now_ns();
        for (int i = 0; i < iters; i++) {
            if (tc_domain_claim_pages(t, d, pages) || tc_domain_claim_pages(t, d, 0)) {
                fprintf(stderr, "bench: claim of %llu pages failed\n", (unsigned long long)pages);
                exit(1);
            }
        }
        best = min_u64(best, mv_now_ns() - t0);
    }
    return (double)best / iters / 2; /* per call: a stake, or a cancel */
}

static void bench_claims(void)
{
    struct hv *hv = bench_hv(UINT64_C(1) << 40, 1, false); /* 1 TiB, sparse */
    struct tc_handle *t;
    domid_t d = DOMID_ANY;
    double one, gib, tib;

    if (tc_open(hv, 0, true, &t) || tc_domain_create(t, &d, true, 1) ||
        tc_domain_setmaxmem(t, d, UINT64_MAX))
        exit(1);
    one = bench_claim(t, d, 1);
    gib = bench_claim(t, d, GIB >> PAGE_SHIFT);
    tib = bench_claim(t, d, (UINT64_C(1) << 40) / PAGE_SIZE - 4096);
    bench_emit("claim_1page_ns", one, "ns", NULL, 0, "XENMEM_claim_pages through the hypercall ABI, in process");
    bench_emit("claim_1gib_ns", gib, "ns", "claim_1page_ns", one, NULL);
    bench_emit("claim_1tib_ns", tib, "ns", "claim_1page_ns", one, "1 TiB host");
    tc_close(t);
    hv_destroy(hv);
}

static uint64_t time_alloc_free_pairs(struct hv *hv, int iters)
{
    uint64_t best = UINT64_MAX;
    mfn_t mfn;

    for (int r = 0; r < REPS; r++) {
        uint64_t t0 = mv_now_ns();
        for (int i = 0; i < iters; i++) {
            if (heap_alloc_pages(hv->heap, 0, 0, NULL, &mfn))
                exit(1);
            heap_free_pages(hv->heap, mfn, 0, false);
        }
        best = min_u64(best, mv_now_ns() - t0);
    }
    return best;
}

static void bench_alloc_free(void)
{
    struct hv *hv = bench_hv(UINT64_C(1) << 30, 1, false);
    const int iters = 2000000;
    uint64_t best, pristine, best_malloc = UINT64_MAX;
    mfn_t hold;

    /* On a pristine heap each pair splits a 1 GiB block down to one page
     * and merges it back (18 levels each way). */
    pristine = time_alloc_free_pairs(hv, iters / 10);
    /* With one page held elsewhere, as on any live host, a pair takes and
     * returns a page without splitting or merging. */
    if (heap_alloc_pages(hv->heap, 0, 0, NULL, &hold))
        exit(1);
    best = time_alloc_free_pairs(hv, iters);
    for (int r = 0; r < REPS; r++) {
        uint64_t t0 = mv_now_ns();
        for (int i = 0; i < iters; i++) {
            void *volatile p = malloc(PAGE_SIZE);
            free(p);
        }
        best_malloc = min_u64(best_malloc, mv_now_ns() - t0);
    }
    bench_emit("malloc_free_4k_ns", (double)best_malloc / iters, "ns", NULL, 0,
               "glibc malloc(4096) + free, the peer");
    bench_emit("alloc_free_order0_ns", (double)best / iters, "ns", "malloc_free_4k_ns",
               (double)best_malloc / iters,
               "heap_alloc_pages + heap_free_pages, one thread; target: 100 ns or less");
    bench_emit("alloc_free_order0_pristine_ns", (double)pristine / (iters / 10), "ns",
               "alloc_free_order0_ns", (double)best / iters,
               "the same on an unfragmented heap: a full split and merge per pair");
    heap_free_pages(hv->heap, hold, 0, false);
    hv_destroy(hv);
}

#define POPULATE_BATCH 512

/* Populates gfns [0, pages) of d with extents of `order`; returns ns. */
static uint64_t populate(struct tc_handle *t, domid_t d, uint64_t pages, unsigned order)
{
    static uint64_t ext[POPULATE_BATCH];
    uint64_t per = UINT64_C(1) << order, nr = pages / per, t0 = mv_now_ns();
    unsigned batch = order == 0 ? POPULATE_BATCH : order == 9 ? 4 : 1;

    for (uint64_t i = 0; i < nr; i += batch) {
        uint64_t k = min_u64(batch, nr - i);
        for (uint64_t j = 0; j < k; j++)
            ext[j] = (i + j) * per;
        if (tc_populate_physmap(t, d, k, order, 0, ext) != (long)k) {
            fprintf(stderr, "bench: populate failed\n");
            exit(1);
        }
    }
    return mv_now_ns() - t0;
}

static domid_t new_domain(struct tc_handle *t, uint64_t max_pages)
{
    domid_t d = DOMID_ANY;

    if (tc_domain_create(t, &d, true, 1) || tc_domain_setmaxmem(t, d, max_pages * 4))
        exit(1);
    return d;
}

/* Every free page made resident and dirty: a domain takes all memory,
 * writes every page, and is destroyed. */
static void dirty_everything(struct hv *hv, struct tc_handle *t)
{
    struct tc_physinfo pi;
    domid_t d;
    uint64_t gfn = 0, ext[1];

    if (tc_physinfo(t, &pi))
        exit(1);
    d = new_domain(t, pi.free_pages);
    for (;;) {
        ext[0] = gfn;
        if (tc_populate_physmap(t, d, 1, 9, 0, ext) != 1)
            break;
        gfn += 512;
    }
    for (uint64_t m = 1; m < hv->m->nr_frames; m++)
        memset(machine_frame_bytes(hv->m, _mfn(m)), 0x5a, PAGE_SIZE);
    if (tc_domain_destroy(t, d))
        exit(1);
}

static void bench_populate(double memset_gbps)
{
    static const struct { unsigned order; const char *dirty, *clean; } kinds[] = {
        { 0, "populate_dirty_4k_gbps", "populate_clean_4k_gbps" },
        { 9, "populate_dirty_2m_gbps", "populate_clean_2m_gbps" },
        { 18, "populate_dirty_1g_gbps", "populate_clean_1g_gbps" },
    };
    const uint64_t pages = GIB >> PAGE_SHIFT;
    struct hv *hv = bench_hv(UINT64_C(3) << 30, 1, false);
    struct tc_handle *t;
    double dirty[3], clean[3];

    if (tc_open(hv, 0, true, &t))
        exit(1);
    for (unsigned k = 0; k < 3; k++) {
        uint64_t best_dirty = UINT64_MAX, best_clean = UINT64_MAX;

        for (int r = 0; r < 3; r++) {
            domid_t d;

            dirty_everything(hv, t);
            d = new_domain(t, pages);
            best_dirty = min_u64(best_dirty, populate(t, d, pages, kinds[k].order));
            (void)!tc_domain_destroy(t, d);
            heap_scrub_all(hv->heap);
            d = new_domain(t, pages);
            best_clean = min_u64(best_clean, populate(t, d, pages, kinds[k].order));
            (void)!tc_domain_destroy(t, d);
        }
        dirty[k] = gbps(GIB, best_dirty);
        clean[k] = gbps(GIB, best_clean);
    }
    for (unsigned k = 0; k < 3; k++)
        bench_emit(kinds[k].dirty, dirty[k], "GB/s", "memset_gbps", memset_gbps,
                   k == 0 ? "target: ratio >= 0.75" : NULL);
    for (unsigned k = 0; k < 3; k++)
        bench_emit(kinds[k].clean, clean[k], "GB/s", "memset_gbps", memset_gbps,
                   k == 1 ? "target: ratio >= 10" : NULL);
    tc_close(t);
    hv_destroy(hv);
}

static void bench_destroy_and_scrub(double memset_gbps)
{
    const uint64_t pages = GIB >> PAGE_SHIFT;
    struct hv *hv = bench_hv(UINT64_C(2) << 30, 2, false);
    uint64_t best_destroy = UINT64_MAX, best_scrub = UINT64_MAX;
    struct tc_handle *t;

    if (tc_open(hv, 0, true, &t))
        exit(1);
    for (int r = 0; r < REPS; r++) {
        domid_t d = new_domain(t, pages);
        uint64_t t0;

        populate(t, d, pages, 9);
        {
            /* The guest writes all of it: what the scrubbers then clean
             * is memory that was used (memory never written is zero
             * already, and a scrub leaves it alone). */
            struct domain *dom = domain_lookup(hv->domains, d);

            if (!dom || guest_dirty(dom, 0, pages, 1))
                exit(1);
            domain_put(dom);
        }
        t0 = mv_now_ns();
        if (tc_domain_destroy(t, d))
            exit(1);
        best_destroy = min_u64(best_destroy, mv_now_ns() - t0);
        /* The freed gigabyte is dirty: the idle scrubbers (one per node)
         * clean it. */
        t0 = mv_now_ns();
        heap_scrubbers_start(hv->heap);
        if (!heap_scrub_wait(hv->heap, UINT64_C(60) * 1000000000))
            exit(1);
        best_scrub = min_u64(best_scrub, mv_now_ns() - t0);
        heap_scrubbers_stop(hv->heap);
    }
    bench_emit("destroy_1gib_ms", (double)best_destroy / 1e6, "ms", NULL, 0,
               "1 GiB in 2 MiB extents; target: 5 ms or less");
    bench_emit("scrub_gbps", gbps(GIB, best_scrub), "GB/s", "memset_gbps", memset_gbps,
               "idle scrubbers, one per node (2 nodes); target: ratio >= 0.75");
    tc_close(t);
    hv_destroy(hv);
}

int main(int argc, char **argv)
{
    double memset_gbps, linux_gbps;

    (void)argc;
    (void)argv;
    memset_gbps = bench_memset();
    bench_emit("memset_gbps", memset_gbps, "GB/s", NULL, 0, "memset of 1 GiB resident memory");
    linux_gbps = bench_linux_populate();
    bench_emit("linux_populate_gbps", linux_gbps, "GB/s", "memset_gbps", memset_gbps,
               "mmap(MAP_POPULATE) of 1 GiB");
    bench_emit("frame_bytes", (double)sizeof(struct frame), "bytes", "xen_frame_bytes", 32,
               "frame table bytes per 4 KiB frame (Linux: 64)");
    bench_claims();
    bench_alloc_free();
    bench_populate(memset_gbps);
    bench_destroy_and_scrub(memset_gbps);
    return 0;
}
