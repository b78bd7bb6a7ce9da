/*
 * Physmap operations: the bodies of populate_physmap and
 * decrease_reservation (Xen's guest_physmap_add_page and
 * guest_remove_page).
 */
#include "memvisor/p2m.h"

int physmap_populate(struct domain *d, gfn_t gfn, unsigned order, unsigned memflags,
                     mfn_t *mfn_out)
{
    mfn_t mfn;
    int rc;

    if (order > MAX_ORDER)
        return -EINVAL;
    /* Validate and build the p2m tables before allocating: a bad gfn or a
     * table allocation failure must not consume a claim. */
    if (domain_is_translated(d)) {
        p2m_lock(d->p2m);
        rc = p2m_prepare_range_locked(d->p2m, gfn, order);
        p2m_unlock(d->p2m);
        if (rc)
            return rc;
    }
    rc = domain_alloc_pages(d, order, memflags, &mfn);
    if (rc)
        return rc;
    if (domain_is_translated(d)) {
        p2m_lock(d->p2m);
        rc = p2m_set_range_locked(d->p2m, gfn, mfn, order, P2M_RAM_RW);
        p2m_unlock(d->p2m);
        if (rc) {
            /* Dying meanwhile, or a concurrent populate replaced the
             * tables prepared above and a new one could not be had: give
             * the pages back (the claim they used is lost, as in Xen).  If
             * destroy already took them, there is nothing to do. */
            if (domain_release_pages(d, mfn, order) != 0)
                assert(domain_is_dying(d));
            return rc;
        }
    }
    *mfn_out = mfn;
    return 0;
}

unsigned physmap_populate_bulk(struct domain *d, const uint64_t *gfns, unsigned nr,
                               unsigned memflags, mfn_t *mfns)
{
    unsigned ready = nr, got, mapped;

    if (nr > HEAP_BULK_MAX)
        nr = ready = HEAP_BULK_MAX;
    if (domain_is_translated(d)) {
        /* Tables first, as in physmap_populate; a gfn that cannot be
         * mapped ends the batch there. */
        p2m_lock(d->p2m);
        ready = p2m_prepare_pages_locked(d->p2m, gfns, nr);
        p2m_unlock(d->p2m);
    }
    got = domain_alloc_pages_bulk(d, ready, memflags, mfns);
    if (got == 0 || !domain_is_translated(d))
        return got;
    p2m_lock(d->p2m);
    mapped = p2m_set_pages_locked(d->p2m, gfns, mfns, got, P2M_RAM_RW);
    /* Dying meanwhile (or tables replaced): the rest go back. */
    for (unsigned j = mapped; j < got; j++)
        if (domain_release_pages(d, mfns[j], 0) != 0)
            assert(domain_is_dying(d));
    p2m_unlock(d->p2m);
    return mapped;
}

int physmap_remove_page(struct domain *d, gfn_t gfn)
{
    struct p2m_entry e;
    int rc;

    if (!domain_is_translated(d)) {
        /* PV: the guest names machine frames. */
        if (gfn_x(gfn) == INVALID_GFN_RAW)
            return -EINVAL;
        return domain_release_pages(d, _mfn(gfn_x(gfn)), 0);
    }
    p2m_lock(d->p2m);
    p2m_lookup_locked(d->p2m, gfn, &e);
    if (e.type == P2M_INVALID) {
        rc = -ENOENT;
    } else if (!p2m_type_is_ram(e.type)) {
        rc = -EINVAL; /* a PoD entry has no page (Xen: "page number invalid") */
    } else {
        rc = p2m_set_range_locked(d->p2m, gfn, INVALID_MFN, 0, P2M_INVALID);
        if (rc == 0)
            rc = domain_release_pages(d, e.mfn, 0);
    }
    p2m_unlock(d->p2m);
    return rc;
}

int physmap_remove_range(struct domain *d, gfn_t gfn, unsigned order, uint64_t *done)
{
    uint64_t nr = UINT64_C(1) << order;
    int rc = 0;

    *done = 0;
    if (order > MAX_ORDER)
        return -EINVAL;
    if (domain_is_translated(d) && order > 0 && is_aligned_u64(gfn_x(gfn), order)) {
        struct p2m_entry e;

        /* Fast path: one superpage entry maps exactly this range. */
        p2m_lock(d->p2m);
        p2m_lookup_locked(d->p2m, gfn, &e);
        if (e.type == P2M_RAM_RW && e.order == order) {
            rc = p2m_set_range_locked(d->p2m, gfn, INVALID_MFN, order, P2M_INVALID);
            if (rc == 0)
                rc = domain_release_pages(d, e.mfn, order);
            p2m_unlock(d->p2m);
            if (rc == 0)
                *done = nr;
            return rc;
        }
        p2m_unlock(d->p2m);
    } else if (!domain_is_translated(d) && order > 0 &&
               domain_release_pages(d, _mfn(gfn_x(gfn)), order) == 0) {
        *done = nr;
        return 0;
    }
    for (uint64_t i = 0; i < nr; i++) {
        rc = physmap_remove_page(d, gfn_add(gfn, i));
        if (rc)
            return rc;
        (*done)++;
    }
    return 0;
}
