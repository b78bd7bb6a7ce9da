/*
 * Bulk allocation of single pages.
 *
 * Populating a guest in 4 KiB extents asks for hundreds of thousands of
 * single pages.  heap_alloc_pages_bulk gives the same result as the same
 * number of successive heap_alloc_pages(order 0) calls: each page passes
 * the same claims gate and consumes the claim the same way, on the node
 * the same round-robin would pick, and the first refusal ends the run.
 * But it takes the account lock once and each node's lock once, takes
 * each node's share as a few aligned blocks (the owner keeps them as
 * extents, so destroying it frees them whole), and scrubs a block at a
 * time, where streaming stores reach memory bandwidth (a lone 4 KiB clear
 * reaches about a third of it).
 */
#include "heap_internal.h"

struct page_reserve {
    struct heap *h;
    struct heap_claims *claims;
};

static bool try_reserve_page(void *arg, unsigned node)
{
    struct page_reserve *r = arg;

    return account_reserve_page_locked(r->h, node, r->claims);
}

/* The next node after `after` in the owner's round-robin (see
 * alloc_first_node), without touching the shared cursor. */
static unsigned next_first(struct heap *h, unsigned memflags, const struct heap_owner *owner,
                           unsigned after)
{
    struct heap_owner o;
    _Atomic unsigned cursor;

    if (MEMF_get_node(memflags) != NUMA_NO_NODE || !owner || !owner->last_alloc_node)
        return alloc_first_node(h, memflags, owner);
    o = *owner;
    atomic_init(&cursor, after);
    o.last_alloc_node = &cursor;
    return alloc_first_node(h, memflags, &o);
}

/*
 * Takes `count` reserved pages off node n as few blocks as possible (up to
 * 2 MiB each; order 0 always succeeds once reserved) and appends them to
 * blocks[].  Node lock held.
 */
static unsigned take_blocks(struct heap *h, struct heap_node *n, unsigned count, bool no_scrub,
                            struct heap_block *blocks, unsigned nr_blocks)
{
    unsigned order = SUPERPAGE_ORDER;

    while (count) {
        uint64_t dirty = 0, mfn;

        while ((1u << order) > count)
            order--;
        mfn = node_take_block(h, n, NR_ZONES - 1, order, no_scrub, &dirty);
        if (mfn == LIST_NIL) {
            BUG_ON(order == 0);
            order--;
            continue;
        }
        blocks[nr_blocks].mfn = _mfn(mfn);
        blocks[nr_blocks].order = order;
        blocks[nr_blocks].node = n->id;
        nr_blocks++;
        count -= 1u << order;
    }
    return nr_blocks;
}

/* Whether every single allocation of this kind starts on the same node. */
static bool first_node_is_fixed(struct heap *h, unsigned memflags, const struct heap_owner *owner)
{
    if (MEMF_get_node(memflags) != NUMA_NO_NODE || h->nr_nodes == 1)
        return true;
    return owner && owner->last_alloc_node && owner->node_affinity &&
           __builtin_popcountll(owner->node_affinity) == 1;
}

unsigned heap_alloc_pages_bulk(struct heap *h, unsigned nr, unsigned memflags,
                               const struct heap_owner *owner, mfn_t *mfns,
                               struct heap_block *blocks, unsigned *nr_blocks)
{
    uint8_t page_node[HEAP_BULK_MAX];
    unsigned per_node[MAX_NUMNODES] = { 0 }, cur_block[MAX_NUMNODES] = { 0 };
    uint64_t cur_off[MAX_NUMNODES] = { 0 };
    unsigned req_node = MEMF_get_node(memflags), done = 0, last = 0, nb = 0;
    unsigned fixed_first;
    bool fixed;
    struct page_reserve pr = { h, NULL };
    bool no_scrub = memflags & MEMF_no_scrub;

    *nr_blocks = 0;
    if (nr > HEAP_BULK_MAX)
        nr = HEAP_BULK_MAX;
    /* Address-width limits can fail on a node that passes the gate: those
     * go one page at a time. */
    if (nr == 0 || MEMF_get_bits(memflags) ||
        (req_node != NUMA_NO_NODE && req_node >= h->nr_nodes))
        return 0;
    if (fault_should_fail(h->fault))
        return 0;
    if (owner && !(memflags & (MEMF_no_refcount | MEMF_no_owner)))
        pr.claims = owner->claims;
    if (owner && owner->last_alloc_node)
        last = atomic_load_explicit(owner->last_alloc_node, memory_order_relaxed);

    /* Reserve page by page, as successive single allocations would.  When
     * every page starts from the same node (one node, or a node asked
     * for), the walk over the others is needed only when it refuses. */
    fixed = first_node_is_fixed(h, memflags, owner);
    fixed_first = fixed ? next_first(h, memflags, owner, last) : 0;
    account_lock(h);
    for (; done < nr; done++) {
        unsigned first = fixed ? fixed_first : next_first(h, memflags, owner, last);
        int node = (int)first;

        if (!(fixed && account_reserve_page_locked(h, first, pr.claims)))
            node = alloc_walk_nodes(h, memflags, owner, first, try_reserve_page, &pr);
        if (node < 0)
            break;
        page_node[done] = (uint8_t)node;
        per_node[node]++;
        last = (unsigned)node;
    }
    account_unlock(h);
    if (done == 0)
        return 0;
    if (owner && owner->last_alloc_node)
        atomic_store_explicit(owner->last_alloc_node, last, memory_order_relaxed);

    /* Each node's share as few blocks as possible, one lock each. */
    for (unsigned node = 0; node < h->nr_nodes; node++) {
        unsigned first_block = nb;

        if (!per_node[node])
            continue;
        lock_acquire(&h->node[node].lock);
        nb = take_blocks(h, &h->node[node], per_node[node], no_scrub, blocks, nb);
        lock_release(&h->node[node].lock);
        /* Scrub outside the lock; each block in one go. */
        for (unsigned b = first_block; b < nb; b++)
            scrub_range(h, mfn_x(blocks[b].mfn), UINT64_C(1) << blocks[b].order, !no_scrub);
        cur_block[node] = first_block;
    }

    /* Hand the pages out on the nodes the single allocations would have
     * used: each node's blocks are consecutive in blocks[]. */
    for (unsigned i = 0; i < done; i++) {
        unsigned node = page_node[i], b = cur_block[node];

        mfns[i] = mfn_add(blocks[b].mfn, cur_off[node]);
        if (++cur_off[node] == (UINT64_C(1) << blocks[b].order)) {
            cur_block[node]++;
            cur_off[node] = 0;
        }
    }
    *nr_blocks = nb;
    return done;
}
