/*
 * Memory claims: staking, cancelling, and claim sets (specs 2.3-2.8).
 *
 * A claim reserves a count of pages, not frames.  Staking is O(1)
 * arithmetic under the account lock; allocation consumes it (account.c).
 * The caller holds the domain's lock, so tot_pages, max_pages and the
 * dying state cannot change underneath (lock order: domain, then account).
 */
#include "heap_internal.h"

static void claims_clear_locked(struct heap *h, struct heap_claims *c)
{
    struct heap_account *a = &h->acct;

    lock_assert_held(&a->lock);
    BUG_ON(c->total > a->outstanding || c->global > a->global_claims);
    a->outstanding -= c->total;
    a->global_claims -= c->global;
    for (unsigned n = 0; n < h->nr_nodes; n++) {
        BUG_ON(c->node[n] > a->node_claims[n]);
        a->node_claims[n] -= c->node[n];
        c->node[n] = 0;
    }
    c->total = 0;
    c->global = 0;
    c->generation++;
}

void heap_claim_cancel(struct heap *h, struct heap_claims *c)
{
    lock_acquire(&h->acct.lock);
    claims_clear_locked(h, c);
    lock_release(&h->acct.lock);
}

static int claim_stake(struct heap *h, struct heap_claims *c, uint64_t pages, uint64_t tot_pages,
                       uint64_t max_pages, bool soft)
{
    struct heap_account *a = &h->acct;
    uint64_t claim;
    int rc = 0;

    lock_acquire(&a->lock);
    if (pages == 0) {
        /* Cancel: always succeeds, even with no claim. */
        claims_clear_locked(h, c);
        goto out;
    }
    /* No replacing or updating: cancel first. */
    if (c->total != 0) {
        rc = -EINVAL;
        goto out;
    }
    if (pages <= tot_pages || pages > max_pages) {
        rc = -EINVAL;
        goto out;
    }
    claim = pages - tot_pages;
    if (claim > sat_sub(a->total_avail + (soft ? heap_freeable(h) : 0), a->outstanding)) {
        rc = -ENOMEM;
        goto out;
    }
    c->global = claim;
    c->total = claim;
    c->generation++;
    a->global_claims += claim;
    a->outstanding += claim;
out:
    lock_release(&a->lock);
    return rc;
}

int heap_claim_stake(struct heap *h, struct heap_claims *c, uint64_t pages,
                     uint64_t tot_pages, uint64_t max_pages)
{
    return claim_stake(h, c, pages, tot_pages, max_pages, false);
}

int heap_claim_stake_soft(struct heap *h, struct heap_claims *c, uint64_t pages,
                          uint64_t tot_pages, uint64_t max_pages)
{
    return claim_stake(h, c, pages, tot_pages, max_pages, true);
}

static int claim_set_validate(const struct heap *h, const struct claim_entry *e,
                              unsigned nr, uint64_t *total_out)
{
    uint64_t seen_nodes = 0, total = 0;
    bool seen_global = false;

    if (nr == 0 || nr > h->nr_nodes + 1)
        return -EINVAL;
    for (unsigned i = 0; i < nr; i++) {
        if (e[i].target == CLAIM_TARGET_GLOBAL) {
            if (seen_global)
                return -EINVAL;
            seen_global = true;
        } else if (e[i].target >= h->nr_nodes) {
            return -ENOENT;
        } else {
            if (seen_nodes & (UINT64_C(1) << e[i].target))
                return -EINVAL;
            seen_nodes |= UINT64_C(1) << e[i].target;
        }
        if (e[i].pages > UINT64_MAX - total)
            return -EINVAL;
        total += e[i].pages;
    }
    *total_out = total;
    return 0;
}

int heap_claim_set_install(struct heap *h, struct heap_claims *c,
                           const struct claim_entry *e, unsigned nr,
                           uint64_t tot_pages, uint64_t max_pages)
{
    struct heap_account *a = &h->acct;
    uint64_t total;
    int rc;

    rc = claim_set_validate(h, e, nr, &total);
    if (rc)
        return rc;
    if (total == 0) {
        heap_claim_cancel(h, c);
        return 0;
    }
    if (tot_pages > max_pages || total > max_pages - tot_pages)
        return -EINVAL;

    lock_acquire(&a->lock);
    /* The new set replaces the old one, so the old one's pages count as
     * available to it. */
    if (total > sat_sub(a->total_avail, a->outstanding) + c->total) {
        rc = -ENOMEM;
        goto out;
    }
    for (unsigned i = 0; i < nr; i++) {
        unsigned n = e[i].target;
        if (n == CLAIM_TARGET_GLOBAL)
            continue;
        if (e[i].pages > sat_sub(a->node_avail[n], a->node_claims[n]) + c->node[n]) {
            rc = -ENOMEM;
            goto out;
        }
    }
    claims_clear_locked(h, c);
    for (unsigned i = 0; i < nr; i++) {
        if (e[i].target == CLAIM_TARGET_GLOBAL) {
            c->global = e[i].pages;
            a->global_claims += e[i].pages;
        } else {
            c->node[e[i].target] = e[i].pages;
            a->node_claims[e[i].target] += e[i].pages;
        }
    }
    c->total = total;
    a->outstanding += total;
out:
    lock_release(&a->lock);
    return rc;
}

void heap_claims_read(struct heap *h, const struct heap_claims *c, struct heap_claims *out)
{
    lock_acquire(&h->acct.lock);
    *out = *c;
    lock_release(&h->acct.lock);
}
