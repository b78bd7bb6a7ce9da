/*
 * The bare domain builder (toolstack.h): libxc's part of a build, without
 * libxl's xenstore and configuration (xl.c), through the same populate
 * loop (populate.c).
 *
 * Without claims it does what xl does: check that enough memory is free,
 * then populate, and find out halfway if something else took the memory
 * meanwhile.  With claims it stakes the whole total first, so it either
 * fails at once or cannot fail for lack of memory.
 */
#include "toolstack_internal.h"

void toolstack_build(struct tc_handle *t, const struct build_spec *spec, struct build_result *res)
{
    const struct ts_batches batches = { spec->batch_2m, spec->batch_4k };
    uint64_t total = spec->mem_pages;
    domid_t domid = DOMID_ANY;
    struct ts_pace pace;
    int rc;

    *res = (struct build_result){ 0 };
    ts_pace_start(&pace, spec->clock, spec->pace_bytes_per_sec);
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
    if (rc == 0)
        rc = ts_populate(t, domid, 0, total, 0, &batches, &pace);
    res->populated_pages = pace.bytes >> PAGE_SHIFT;
    if (rc) {
        res->rc = rc;
        res->delayed_failure = res->populated_pages > 0;
        if (domid != DOMID_ANY)
            (void)!tc_domain_destroy(t, domid);
        goto out;
    }
    /* Release whatever is left of the claim (libxc always does). */
    if (spec->use_claim)
        (void)!tc_domain_claim_pages(t, domid, 0);
    res->domid = domid;
out:
    res->elapsed_ns = mv_clock_now(spec->clock) - pace.start_ns;
}
