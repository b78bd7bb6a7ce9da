/*
 * Benchmarks of populate-on-demand, each beside its limit in the same run:
 * the sweep beside a plain zero check of the same bytes, demand faults
 * (one entry from the cache), and an 8 GiB guest with a 1 GiB target
 * booting with a scrubber beside memset writing those 8 GiB.
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
#include "memvisor/p2m.h"

#define REPS 5
#define MIB_PAGES(n) ((uint64_t)(n) << 8)

/* A PoD guest as libxc builds one: target, then PoD extents of `order`. */
static struct domain *pod_guest(struct hv *hv, uint64_t maxmem, uint64_t target, unsigned order)
{
    struct domain_config cfg = { .max_vcpus = 1, .cdf_flags = DOMAIN_CDF_HVM | DOMAIN_CDF_HAP };
    struct domain *d;

    if (domain_create(hv->domains, DOMID_ANY, &cfg, &d))
        exit(1);
    domain_set_max_pages(d, maxmem);
    if (p2m_pod_set_target(d, target, NULL))
        exit(1);
    for (uint64_t gfn = 0; gfn < maxmem; gfn += UINT64_C(1) << order)
        if (p2m_pod_mark(d, _gfn(gfn), order))
            exit(1);
    return d;
}

static void destroy(struct domain *d)
{
    (void)domain_kill(d);
    domain_put(d);
}

/* Reading 1 GiB of resident zero pages, the zero check's limit. */
static double bench_zero_check(struct hv *hv)
{
    struct domain *d = pod_guest(hv, MIB_PAGES(1024), MIB_PAGES(1024), SUPERPAGE_ORDER);
    struct p2m_entry e;
    uint64_t best = UINT64_MAX;

    /* Written, so that each page is its own resident memory (a page only
     * read would be the kernel's one shared zero page). */
    if (guest_boot_scrub(d, MIB_PAGES(1024)))
        exit(1);
    for (int r = 0; r < REPS; r++) {
        uint64_t t0 = mv_now_ns();
        bool zero = true;

        for (uint64_t gfn = 0; gfn < MIB_PAGES(1024); gfn += SUPERPAGE_PAGES) {
            p2m_lookup(d->p2m, _gfn(gfn), &e);
            zero &= pages_are_zero(machine_frame_bytes(hv->m, e.mfn), SUPERPAGE_PAGES);
        }
        best = min_u64(best, mv_now_ns() - t0);
        if (!zero)
            exit(1);
    }
    destroy(d);
    return gbps(GIB, best);
}

/* The emergency sweep through 1 GiB of 4 KiB pages that pass the quick
 * check and fail the full one (a byte at the end): every page replaced,
 * read whole and put back: the sweep's worst case per byte. */
static double bench_sweep(struct hv *hv)
{
    struct domain *d = pod_guest(hv, MIB_PAGES(1024), MIB_PAGES(1024), SUPERPAGE_ORDER);
    struct pod_stats st;
    uint64_t best = UINT64_MAX, swept = 0;

    for (uint64_t gfn = 0; gfn < MIB_PAGES(1024); gfn++)
        if (guest_fill(d, (gfn << PAGE_SHIFT) + PAGE_SIZE - 1, 1, 1))
            exit(1);
    for (int r = 0; r < REPS; r++) {
        uint64_t t0 = mv_now_ns(), got = p2m_pod_sweep(d);

        best = min_u64(best, mv_now_ns() - t0);
        if (got)
            exit(1);
    }
    p2m_pod_get_stats(d, &st);
    swept = st.swept_gfns / st.sweeps;
    destroy(d);
    return gbps(swept << PAGE_SHIFT, best);
}

/* Demand faults served from the cache: entries of `order`, one touch
 * each; ns per fault. */
static double bench_fault(struct hv *hv, unsigned order, uint64_t faults)
{
    uint64_t best = UINT64_MAX, pages = faults << order;

    for (int r = 0; r < REPS; r++) {
        struct domain *d = pod_guest(hv, pages, pages, order);
        uint64_t t0 = mv_now_ns();

        for (uint64_t i = 0; i < faults; i++)
            if (guest_touch(d, _gfn(i << order), 1))
                exit(1);
        best = min_u64(best, mv_now_ns() - t0);
        destroy(d);
    }
    return (double)best / (double)faults;
}

int main(void)
{
    struct hv *hv = bench_hv(UINT64_C(2) << 30, 1, false);
    double zc = bench_zero_check(hv), sweep = bench_sweep(hv), memset_gbps;
    double f4k = bench_fault(hv, 0, MIB_PAGES(64)), f2m = bench_fault(hv, SUPERPAGE_ORDER, 128);
    struct domain_info info;
    struct domain *d;
    uint64_t t0, boot_ns;

    bench_emit("zero_check_gbps", zc, "GB/s", NULL, 0, "pages_are_zero over 1 GiB of guest pages");
    bench_emit("pod_sweep_gbps", sweep, "GB/s", "zero_check_gbps", zc,
               "emergency sweep, 4 KiB pages read whole and put back (target >= 0.75)");
    bench_emit("pod_fault_4k_ns", f4k, "ns", NULL, 0,
               "first touch of a 4 KiB PoD entry, from the cache (target <= 2000)");
    bench_emit("pod_fault_2m_ns", f2m, "ns", "pod_fault_4k_ns", f4k,
               "first touch of a 2 MiB PoD entry, from the cache");

    /* An 8 GiB guest with a 1 GiB target, its scrubber zeroing everything
     * first, beside memset writing 1 GiB eight times. */
    memset_gbps = bench_memset_gbps(GIB, 2 * REPS);
    d = pod_guest(hv, MIB_PAGES(8192), MIB_PAGES(1024), GIGAPAGE_ORDER);
    t0 = mv_now_ns();
    if (guest_boot_scrub(d, MIB_PAGES(8192)))
        exit(1);
    boot_ns = mv_now_ns() - t0;
    domain_get_info(d, &info);
    destroy(d);
    bench_emit("pod_boot_8g_1g_s", (double)boot_ns / 1e9, "s", "memset_8g_s",
               8.0 * (double)GIB / memset_gbps / 1e9,
               "boot scrubber over maxmem 8 GiB, target 1 GiB, reclaim keeping it alive");
    bench_emit("pod_boot_peak_mib", (double)(info.peak_pages >> 8), "MiB", "target_mib", 1024,
               "the most the guest held (must not exceed its target)");
    hv_destroy(hv);
    return 0;
}
