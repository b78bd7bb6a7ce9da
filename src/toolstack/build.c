/*
 * The domain builder: what libxl and libxc do to give an HVM guest its
 * memory (specs 3), reduced to memory.
 *
 * Without claims it does what xl does: check that enough memory is free,
 * then populate, and find out halfway if something else took the memory
 * meanwhile.  With claims it stakes the whole total first, so it either
 * fails at once or cannot fail for lack of memory.
 */
#include <time.h>

#include "memvisor/toolstack.h"

#define BUILD_MAX_BATCH 512
#define PAGES_2M (UINT64_C(1) << SUPERPAGE_ORDER)

/* Sleeps until `pages` placed since `start` are due at the pace. */
static void pace(const struct build_spec *spec, uint64_t start, uint64_t pages)
{
    uint64_t due, now = mv_now_ns();

    if (!spec->pace_bytes_per_sec)
        return;
    due = start + (uint64_t)((double)(pages << PAGE_SHIFT) * 1e9 / (double)spec->pace_bytes_per_sec);
    if (due > now) {
        struct timespec ts = { (time_t)((due - now) / 1000000000u), (long)((due - now) % 1000000000u) };
        nanosleep(&ts, NULL);
    }
}

/* Populates [gfn, gfn + nr) with 4 KiB extents; returns pages placed. */
static uint64_t populate_4k(struct tc_handle *t, const struct build_spec *spec, domid_t domid,
                            uint64_t gfn, uint64_t nr, unsigned batch, uint64_t start)
{
    uint64_t ext[BUILD_MAX_BATCH], placed = 0;

    while (placed < nr) {
        uint64_t k = min_u64(batch, nr - placed);
        long done;

        for (uint64_t i = 0; i < k; i++)
            ext[i] = gfn + placed + i;
        done = tc_populate_physmap(t, domid, k, 0, 0, ext);
        if (done > 0)
            placed += (uint64_t)done;
        if (done < (long)k)
            break;
        pace(spec, start, gfn + placed);
    }
    return placed;
}

void toolstack_build(struct tc_handle *t, const struct build_spec *spec, struct build_result *res)
{
    uint64_t start = mv_now_ns(), total = spec->mem_pages, gfn = 0;
    unsigned batch_2m = spec->batch_2m ? spec->batch_2m : 4;
    unsigned batch_4k = spec->batch_4k ? spec->batch_4k : 256;
    uint64_t ext[BUILD_MAX_BATCH];
    domid_t domid = DOMID_ANY;
    int rc;

    *res = (struct build_result){ 0 };
    if (batch_2m > BUILD_MAX_BATCH)
        batch_2m = BUILD_MAX_BATCH;
    if (batch_4k > BUILD_MAX_BATCH)
        batch_4k = BUILD_MAX_BATCH;

    if (!spec->use_claim) {
        /* xl's check: free memory, less what others have claimed. */
        struct tc_physinfo pi;
        rc = tc_physinfo(t, &pi);
        if (rc == 0 && sat_sub(pi.free_pages, pi.outstanding_pages) < total)
            rc = -ENOMEM;
        if (rc) {
            res->rc = rc;
            res->refused_at_once = rc == -ENOMEM;
            goto out;
        }
    }
    rc = tc_domain_create(t, &domid, true, 1);
    if (rc == 0)
        rc = tc_domain_setmaxmem(t, domid, total << (PAGE_SHIFT - 10));
    if (rc == 0 && spec->use_claim) {
        rc = spec->soft_claim ? tc_domain_claim_pages_soft(t, domid, total)
                              : tc_domain_claim_pages(t, domid, total);
        res->refused_at_once = rc == -ENOMEM;
    }
    if (rc)
        goto fail;

    /* 2 MiB extents; where no 2 MiB block is free, that chunk in 4 KiB. */
    while (total - gfn >= PAGES_2M) {
        uint64_t k = min_u64(batch_2m, (total - gfn) / PAGES_2M);
        long done;

        for (uint64_t i = 0; i < k; i++)
            ext[i] = gfn + i * PAGES_2M;
        done = tc_populate_physmap(t, domid, k, SUPERPAGE_ORDER, 0, ext);
        if (done > 0) {
            gfn += (uint64_t)done * PAGES_2M;
            res->populated_pages += (uint64_t)done * PAGES_2M;
        }
        if (done < (long)k) {
            uint64_t placed = populate_4k(t, spec, domid, gfn, PAGES_2M, batch_4k, start);
            res->populated_pages += placed;
            if (placed < PAGES_2M) {
                rc = -ENOMEM;
                goto fail;
            }
            gfn += PAGES_2M;
        }
        pace(spec, start, gfn);
    }
    if (gfn < total) {
        uint64_t placed = populate_4k(t, spec, domid, gfn, total - gfn, batch_4k, start);
        res->populated_pages += placed;
        if (placed < total - gfn) {
            rc = -ENOMEM;
            goto fail;
        }
    }
    /* Release whatever is left of the claim (libxc always does). */
    if (spec->use_claim)
        (void)!tc_domain_claim_pages(t, domid, 0);
    res->domid = domid;
    goto out;

fail:
    res->rc = rc;
    res->delayed_failure = res->populated_pages > 0;
    if (domid != DOMID_ANY)
        (void)!tc_domain_destroy(t, domid);
out:
    res->elapsed_ns = mv_now_ns() - start;
}
