/*
 * The claim front-ends: they read tot_pages, max_pages and the dying state
 * under d->lock and hand them to the heap, which does the arithmetic under
 * its account lock.  Testing "dying" inside the same locked region closes
 * the window Xen still has at HEAD (specs 2.5).
 */
#include "domain_internal.h"

int domain_claim_pages(struct domain *d, uint64_t pages)
{
    int rc;

    lock_acquire(&d->lock);
    if (domain_is_dying(d))
        rc = -EINVAL;
    else
        rc = heap_claim_stake(d->table->heap, &d->claims, pages,
                              d->tot_pages - d->extra_pages, d->max_pages);
    lock_release(&d->lock);
    return rc;
}

int domain_claim_pages_soft(struct domain *d, uint64_t pages)
{
    int rc;

    lock_acquire(&d->lock);
    if (domain_is_dying(d))
        rc = -EINVAL;
    else
        rc = heap_claim_stake_soft(d->table->heap, &d->claims, pages,
                                   d->tot_pages - d->extra_pages, d->max_pages);
    lock_release(&d->lock);
    return rc;
}

int domain_claim_set(struct domain *d, const struct claim_entry *entries, unsigned nr_entries)
{
    int rc;

    lock_acquire(&d->lock);
    if (domain_is_dying(d))
        rc = -ESRCH;
    else
        rc = heap_claim_set_install(d->table->heap, &d->claims, entries, nr_entries,
                                    d->tot_pages - d->extra_pages, d->max_pages);
    lock_release(&d->lock);
    return rc;
}
