/*
 * The heap's counters and the claims gate.
 *
 * An allocation reserves its pages here before it looks for a buddy: in one
 * section under the account lock it checks the gate, takes the pages from
 * the node's and the host's free counts, and consumes the owner's claim.
 * Because counts are reserved before pages are taken, a node's free lists
 * always hold at least node_avail[n] pages that nobody has reserved, so an
 * order-0 reservation always finds a page.  Larger orders can still fail
 * for fragmentation, zone or node limits, exactly as in Xen; the
 * reservation is then given back.
 */
#include "heap_internal.h"

/* Takes up to `want` pages from *claim into the account's matching sum. */
static uint64_t consume(uint64_t *claim, uint64_t *sum, uint64_t want)
{
    uint64_t x = min_u64(want, *claim);

    *claim -= x;
    *sum -= x;
    return x;
}

static bool gate_allows(const struct heap *h, uint64_t pages, unsigned node,
                        const struct heap_claims *c)
{
    const struct heap_account *a = &h->acct;
    uint64_t unclaimed = sat_sub(a->total_avail, a->outstanding);
    uint64_t own_total = c ? c->total : 0;
    uint64_t node_unclaimed = sat_sub(a->node_avail[node], a->node_claims[node]);

    if (pages > a->node_avail[node])
        return false;
    if (h->gate == CLAIM_GATE_HEAD) {
        /* outstanding + request > avail, and the owner's claim does not
         * cover the whole request: refuse. */
        if (pages > unclaimed && own_total < pages)
            return false;
    } else if (pages > unclaimed + own_total) {
        return false;
    }
    /* Other domains' claims on this node are protected too. */
    return pages <= node_unclaimed + (c ? c->node[node] : 0);
}

/* Takes `pages` from node's free count and consumes the claim: the
 * reservation proper.  Account lock held, gate already passed. */
static void reserve_locked(struct heap *h, unsigned node, uint64_t pages,
                           struct heap_claims *c, struct reservation *r)
{
    struct heap_account *a = &h->acct;

    lock_assert_held(&a->lock);
    r->node = node;
    r->pages = pages;
    r->claims = c;
    r->from_global = r->from_own_node = 0;
    r->other_node_mask = 0;
    r->generation = c ? c->generation : 0;
    a->total_avail -= pages;
    a->node_avail[node] -= pages;

    /*
     * Consume the claim in the same section: first the claim on the node
     * the pages come from, then the global claim, then claims on other
     * nodes (so that tot_pages + claims stays within max_pages).
     */
    if (c && c->total) {
        uint64_t left = min_u64(pages, c->total), used = left;

        r->from_own_node = consume(&c->node[node], &a->node_claims[node], left);
        left -= r->from_own_node;
        r->from_global = consume(&c->global, &a->global_claims, left);
        left -= r->from_global;
        for (unsigned n = 0; left && n < h->nr_nodes; n++) {
            uint64_t x = consume(&c->node[n], &a->node_claims[n], left);
            if (x) {
                r->from_other_node[n] = x;
                r->other_node_mask |= UINT64_C(1) << n;
                left -= x;
            }
        }
        assert(left == 0);
        BUG_ON(used > a->outstanding);
        c->total -= used;
        a->outstanding -= used;
    }
}

int account_reserve(struct heap *h, unsigned node, uint64_t pages,
                    struct heap_claims *c, struct reservation *r)
{
    int rc = -ENOMEM;

    lock_acquire(&h->acct.lock);
    if (gate_allows(h, pages, node, c)) {
        reserve_locked(h, node, pages, c, r);
        rc = 0;
    }
    lock_release(&h->acct.lock);
    return rc;
}

bool account_reserve_page_locked(struct heap *h, unsigned node, struct heap_claims *c)
{
    struct reservation r;

    if (!gate_allows(h, 1, node, c))
        return false;
    reserve_locked(h, node, 1, c, &r);
    return true;
}

void account_lock(struct heap *h) { lock_acquire(&h->acct.lock); }
void account_unlock(struct heap *h) { lock_release(&h->acct.lock); }

void account_unreserve(struct heap *h, struct reservation *r)
{
    struct heap_account *a = &h->acct;
    struct heap_claims *c = r->claims;

    lock_acquire(&a->lock);
    a->total_avail += r->pages;
    a->node_avail[r->node] += r->pages;
    /* Give back consumed claim unless the claim was changed meanwhile
     * (cancelled, replaced, or released by destroy). */
    if (c && c->generation == r->generation) {
        uint64_t back = r->from_global + r->from_own_node;

        c->global += r->from_global;
        a->global_claims += r->from_global;
        c->node[r->node] += r->from_own_node;
        a->node_claims[r->node] += r->from_own_node;
        for (uint64_t mask = r->other_node_mask; mask; mask &= mask - 1) {
            unsigned n = (unsigned)__builtin_ctzll(mask);
            c->node[n] += r->from_other_node[n];
            a->node_claims[n] += r->from_other_node[n];
            back += r->from_other_node[n];
        }
        c->total += back;
        a->outstanding += back;
    }
    lock_release(&a->lock);
}

void account_add_free(struct heap *h, unsigned node, uint64_t pages)
{
    struct heap_account *a = &h->acct;

    lock_acquire(&a->lock);
    a->total_avail += pages;
    a->node_avail[node] += pages;
    lock_release(&a->lock);
}

int account_take_free(struct heap *h, unsigned node, uint64_t pages)
{
    struct heap_account *a = &h->acct;
    int rc = 0;

    lock_acquire(&a->lock);
    /* If every free page on the node is reserved by allocations in
     * flight, offlining must wait for them. */
    if (a->node_avail[node] < pages) {
        rc = -EBUSY;
    } else {
        a->total_avail -= pages;
        a->node_avail[node] -= pages;
    }
    lock_release(&a->lock);
    return rc;
}

void heap_get_totals(struct heap *h, struct heap_totals *out)
{
    struct heap_account *a = &h->acct;

    out->scrub_pages = 0;
    out->offlined_pages = 0;
    for (unsigned n = 0; n < h->nr_nodes; n++) {
        out->scrub_pages += atomic_load(&h->node[n].need_scrub);
        out->offlined_pages += atomic_load(&h->node[n].nr_offlined);
    }
    lock_acquire(&a->lock);
    out->total_pages = h->total_pages;
    out->free_pages = a->total_avail;
    out->outstanding_pages = a->outstanding;
    lock_release(&a->lock);
}

void heap_get_node(struct heap *h, unsigned node, uint64_t *size_pages,
                   uint64_t *free_pages, uint64_t *claimed_pages)
{
    struct heap_account *a = &h->acct;

    assert(node < h->nr_nodes);
    *size_pages = h->node[node].end_mfn - h->node[node].start_mfn;
    lock_acquire(&a->lock);
    *free_pages = a->node_avail[node];
    if (claimed_pages)
        *claimed_pages = a->node_claims[node];
    lock_release(&a->lock);
}

uint64_t heap_scrub_pending(struct heap *h)
{
    uint64_t pending = 0;

    for (unsigned n = 0; n < h->nr_nodes; n++)
        pending += atomic_load(&h->node[n].need_scrub);
    return pending;
}
