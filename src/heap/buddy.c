/*
 * The binary buddy allocator (specs 1.3, 1.5, 1.6).
 *
 * Free lists are per node, zone and order.  A page's zone is fls(mfn), so
 * an address-width limit is a zone limit.  In every list clean buddies sit
 * at the head and dirty ones at the tail: allocation takes from the head,
 * the scrubber from the tail.
 */
#include "heap_internal.h"

void buddy_list_add(struct heap *h, struct heap_node *n, uint64_t head, unsigned order)
{
    struct frame *f = heap_frame(h, head);
    unsigned zone = zone_of_mfn(head);
    struct frame_list *l = &n->free[zone][order];

    lock_assert_held(&n->lock);
    assert(is_aligned_u64(head, order));
    frame_set_state_bits(f, FRAME_FREE | FRAME_BUDDY_HEAD);
    f->order = (uint8_t)order;
    if (f->first_dirty == INVALID_DIRTY_IDX)
        frame_list_push_head(h, l, head);
    else
        frame_list_push_tail(h, l, head);
    n->nonempty[zone] |= 1u << order;
    n->zone_avail[zone] += UINT64_C(1) << order;
    n->list_pages += UINT64_C(1) << order;
}

void buddy_list_del(struct heap *h, struct heap_node *n, uint64_t head, unsigned order)
{
    unsigned zone = zone_of_mfn(head);
    struct frame_list *l = &n->free[zone][order];

    lock_assert_held(&n->lock);
    frame_list_remove(h, l, head);
    if (l->head == LIST_NIL)
        n->nonempty[zone] &= ~(1u << order);
    n->zone_avail[zone] -= UINT64_C(1) << order;
    n->list_pages -= UINT64_C(1) << order;
    frame_set_state_bits(heap_frame(h, head), FRAME_FREE);
}

/*
 * Finds a buddy of at least `order` in zones [zone_lo, zone_hi], highest
 * zone first (the allocator prefers splitting in high memory to an exact
 * fit low down).  Only each list's head is examined: if the head is dirty,
 * the whole list is.  Dirty buddies are taken for order-0 requests (one
 * page is cheap to scrub) or when use_dirty.
 */
static uint64_t node_find_buddy(struct heap *h, struct heap_node *n, unsigned zone_lo,
                                unsigned zone_hi, unsigned order, bool use_dirty,
                                unsigned *found_order)
{
    unsigned lo = zone_lo > n->zone_lo ? zone_lo : n->zone_lo;
    unsigned hi = zone_hi < n->zone_hi ? zone_hi : n->zone_hi;

    for (unsigned z = hi + 1; z-- > lo;) {
        uint32_t mask;

        if (n->zone_avail[z] < (UINT64_C(1) << order))
            continue;
        mask = n->nonempty[z] & ~((1u << order) - 1);
        while (mask) {
            unsigned j = (unsigned)__builtin_ctz(mask);
            uint64_t head = n->free[z][j].head;
            struct frame *f = heap_frame(h, head);

            mask &= mask - 1;
            if (f->first_dirty == INVALID_DIRTY_IDX) {
                *found_order = j;
                return head;
            }
            if (order == 0 || use_dirty) {
                scrub_stop_buddy(h, f);
                *found_order = j;
                return head;
            }
        }
    }
    return LIST_NIL;
}

/*
 * Splits the buddy at head (already off its list) down to `order`.  The
 * lower halves go back on the free lists; the allocation continues in the
 * upper half, so the block returned is the highest-addressed one.
 */
static uint64_t buddy_split(struct heap *h, struct heap_node *n, uint64_t head,
                            unsigned found_order, unsigned order)
{
    uint32_t fd = heap_frame(h, head)->first_dirty;

    while (found_order > order) {
        uint32_t half;

        found_order--;
        half = 1u << found_order;
        /* The lower half is dirty only if first_dirty falls inside it. */
        heap_frame(h, head)->first_dirty =
            (fd != INVALID_DIRTY_IDX && fd < half) ? fd : INVALID_DIRTY_IDX;
        buddy_list_add(h, n, head, found_order);
        /* The upper half: shift first_dirty, or assume dirty from 0. */
        if (fd != INVALID_DIRTY_IDX)
            fd = fd >= half ? fd - half : 0;
        head += half;
    }
    return head;
}

/* Marks a block taken off the free lists as in use; returns its dirty pages. */
static uint64_t block_mark_inuse(struct heap *h, uint64_t mfn, unsigned order)
{
    uint64_t dirty = 0;

    for (uint64_t i = 0; i < (UINT64_C(1) << order); i++) {
        struct frame *f = heap_frame(h, mfn + i);

        BUG_ON(frame_state_bits(f) != FRAME_FREE);
        frame_set_state_bits(f, FRAME_INUSE);
        dirty += f->need_scrub;
        frame_set_owner(f, DOMID_XEN);
        frame_set_owner_flags(f, 0);
        f->count = 0;
        f->type_info = 0;
    }
    return dirty;
}

/* The next node in mask after `after`, wrapping; mask is not empty. */
static unsigned next_node_in(uint64_t mask, unsigned after, unsigned nr_nodes)
{
    for (unsigned i = 1; i <= nr_nodes; i++) {
        unsigned n = (after + i) % nr_nodes;
        if (mask & (UINT64_C(1) << n))
            return n;
    }
    return after;
}

static uint64_t all_nodes_mask(const struct heap *h)
{
    return h->nr_nodes == 64 ? UINT64_MAX : (UINT64_C(1) << h->nr_nodes) - 1;
}

static uint64_t owner_affinity(const struct heap *h, const struct heap_owner *owner)
{
    uint64_t all = all_nodes_mask(h);
    uint64_t aff = owner && owner->node_affinity ? owner->node_affinity & all : all;

    return aff ? aff : all;
}

/*
 * Node choice (specs 1.5): the requested node; else round-robin over the
 * owner's affinity, so a domain's memory interleaves; else round-robin for
 * anonymous memory.
 */
unsigned alloc_first_node(struct heap *h, unsigned memflags, const struct heap_owner *owner)
{
    unsigned req = MEMF_get_node(memflags);

    if (req != NUMA_NO_NODE)
        return req;
    if (owner && owner->last_alloc_node)
        return next_node_in(owner_affinity(h, owner),
                            atomic_load_explicit(owner->last_alloc_node, memory_order_relaxed),
                            h->nr_nodes);
    return atomic_fetch_add_explicit(&h->anon_next_node, 1, memory_order_relaxed) % h->nr_nodes;
}

/*
 * The nodes to try in each pass: the first node completely; then (unless
 * an exact node was asked for) the rest of the affinity mask; then every
 * other node once.
 */
static uint64_t alloc_candidates(struct heap *h, unsigned memflags, const struct heap_owner *owner,
                                 unsigned pass, uint64_t tried, unsigned first)
{
    if (pass == 0)
        return UINT64_C(1) << first;
    if ((memflags & MEMF_exact_node) && MEMF_get_node(memflags) != NUMA_NO_NODE)
        return 0;
    if (pass == 1)
        return owner_affinity(h, owner) & ~tried;
    return all_nodes_mask(h) & ~tried;
}

int alloc_walk_nodes(struct heap *h, unsigned memflags, const struct heap_owner *owner,
                     unsigned first, bool (*try_node)(void *arg, unsigned node), void *arg)
{
    uint64_t tried = 0;

    for (unsigned pass = 0; pass < 3; pass++) {
        uint64_t candidates = alloc_candidates(h, memflags, owner, pass, tried, first);

        /* Walk candidates starting at `first`, for interleaving. */
        for (unsigned i = 0; i < h->nr_nodes && candidates; i++) {
            unsigned node = (first + i) % h->nr_nodes;

            if (!(candidates & (UINT64_C(1) << node)))
                continue;
            candidates &= ~(UINT64_C(1) << node);
            tried |= UINT64_C(1) << node;
            if (try_node(arg, node))
                return (int)node;
        }
    }
    return -1;
}

/*
 * Takes a block of 2^order off node n's lists: clean buddies first (unless
 * no_scrub), then dirty ones; splits it and marks it in use.  Returns the
 * block (LIST_NIL if none fits) and its dirty pages, which leave the free
 * pool's dirty count now and are the caller's to clean.  Node lock held.
 */
uint64_t node_take_block(struct heap *h, struct heap_node *n, unsigned zone_hi, unsigned order,
                         bool no_scrub, uint64_t *dirty)
{
    unsigned found_order;
    uint64_t head, mfn;

    lock_assert_held(&n->lock);
    head = node_find_buddy(h, n, 1, zone_hi, order, no_scrub, &found_order);
    if (head == LIST_NIL && !no_scrub)
        head = node_find_buddy(h, n, 1, zone_hi, order, true, &found_order);
    if (head == LIST_NIL)
        return LIST_NIL;
    buddy_list_del(h, n, head, found_order);
    mfn = buddy_split(h, n, head, found_order, order);
    *dirty = block_mark_inuse(h, mfn, order);
    if (*dirty)
        atomic_fetch_sub(&n->need_scrub, *dirty);
    return mfn;
}

/* Tries one node: reserve, find, split.  0 and the block, or -ENOMEM. */
static int alloc_from_node(struct heap *h, unsigned node_id, unsigned order, unsigned memflags,
                           unsigned zone_hi, struct heap_claims *claims, uint64_t *mfn_out)
{
    struct heap_node *n = &h->node[node_id];
    bool no_scrub = memflags & MEMF_no_scrub;
    struct reservation r;
    uint64_t mfn, dirty = 0;

    if (account_reserve(h, node_id, UINT64_C(1) << order, claims, &r))
        return -ENOMEM;
    lock_acquire(&n->lock);
    mfn = node_take_block(h, n, zone_hi, order, no_scrub, &dirty);
    lock_release(&n->lock);
    if (mfn == LIST_NIL) {
        account_unreserve(h, &r);
        return -ENOMEM;
    }
    /* Scrub outside the lock. */
    if (dirty)
        scrub_range(h, mfn, UINT64_C(1) << order, !no_scrub);
    *mfn_out = mfn;
    return 0;
}

struct single_alloc {
    struct heap *h;
    unsigned order, memflags, zone_hi;
    struct heap_claims *claims;
    uint64_t mfn;
};

static bool try_alloc_from_node(void *arg, unsigned node)
{
    struct single_alloc *a = arg;

    return alloc_from_node(a->h, node, a->order, a->memflags, a->zone_hi, a->claims, &a->mfn) == 0;
}

/* Reclaims one allocation makes before it fails. */
#define RECLAIM_TRIES 8

void heap_set_reclaimer(struct heap *h, const struct heap_reclaimer *r)
{
    h->reclaimer = *r;
}

uint64_t heap_freeable(struct heap *h)
{
    return h->reclaimer.freeable ? h->reclaimer.freeable(h->reclaimer.arg) : 0;
}

/* Frames to ask for: the block itself; for a request its claim does not
 * cover, also what outstanding claims hold beyond free memory (soft
 * claims on tmem's frames), so that the gate lets it through after. */
static uint64_t reclaim_wanted(struct heap *h, unsigned order, struct heap_claims *c)
{
    struct heap_claims mine = { 0 };
    struct heap_totals t;
    uint64_t pages = UINT64_C(1) << order;

    if (c)
        heap_claims_read(h, c, &mine);
    if (mine.total >= pages)
        return pages; /* a claimant takes what it claimed, as it goes */
    heap_get_totals(h, &t);
    return pages + sat_sub(t.outstanding_pages + pages, t.free_pages);
}

int heap_alloc_pages(struct heap *h, unsigned order, unsigned memflags,
                     const struct heap_owner *owner, mfn_t *mfn_out)
{
    unsigned req_node = MEMF_get_node(memflags);
    unsigned bits = MEMF_get_bits(memflags);
    struct single_alloc a = { h, order, memflags, NR_ZONES - 1, NULL, 0 };
    int node;

    if (order > MAX_ORDER)
        return -EINVAL;
    if (req_node != NUMA_NO_NODE && req_node >= h->nr_nodes)
        return -EINVAL;
    if (bits) {
        /* bits_to_zone: address bits to the highest usable zone. */
        unsigned z = bits > PAGE_SHIFT ? bits - PAGE_SHIFT : 1;
        a.zone_hi = z < a.zone_hi ? z : a.zone_hi;
        /* A block of 2^order frames needs MFNs of at least 2^order. */
        if (a.zone_hi < order + 1)
            return -ENOMEM;
    }
    if (fault_should_fail(h->fault))
        return -ENOMEM;
    if (owner && !(memflags & (MEMF_no_refcount | MEMF_no_owner)))
        a.claims = owner->claims;

    node = alloc_walk_nodes(h, memflags, owner, alloc_first_node(h, memflags, owner),
                            try_alloc_from_node, &a);
    /* Short: tmem gives frames back, and the allocation tries again. */
    for (unsigned tries = 0; node < 0 && tries < RECLAIM_TRIES && h->reclaimer.reclaim &&
                             !(memflags & MEMF_tmem); tries++) {
        if (h->reclaimer.reclaim(h->reclaimer.arg, order, reclaim_wanted(h, order, a.claims)) == 0)
            break;
        node = alloc_walk_nodes(h, memflags, owner, alloc_first_node(h, memflags, owner),
                                try_alloc_from_node, &a);
    }
    if (node < 0)
        return -ENOMEM;
    if (owner && owner->last_alloc_node)
        atomic_store_explicit(owner->last_alloc_node, (unsigned)node, memory_order_relaxed);
    *mfn_out = _mfn(a.mfn);
    return 0;
}

void buddy_merge_and_list(struct heap *h, struct heap_node *n, uint64_t mfn,
                          unsigned order, uint32_t first_dirty)
{
    lock_assert_held(&n->lock);
    while (order < MAX_ORDER) {
        uint64_t size = UINT64_C(1) << order;
        uint64_t buddy = mfn ^ size;
        struct frame *bf;
        uint32_t bfd;

        /* Never merge across a node boundary. */
        if (buddy < n->start_mfn || buddy + size > n->end_mfn)
            break;
        bf = heap_frame(h, buddy);
        if (frame_state_bits(bf) != (FRAME_FREE | FRAME_BUDDY_HEAD) || bf->order != order)
            break;
        scrub_stop_buddy(h, bf);
        bfd = bf->first_dirty;
        buddy_list_del(h, n, buddy, order);
        if (buddy < mfn) {
            /* The buddy is the lower half. */
            first_dirty = bfd != INVALID_DIRTY_IDX ? bfd
                        : first_dirty != INVALID_DIRTY_IDX ? (uint32_t)size + first_dirty
                        : INVALID_DIRTY_IDX;
            mfn = buddy;
        } else if (first_dirty == INVALID_DIRTY_IDX && bfd != INVALID_DIRTY_IDX) {
            first_dirty = (uint32_t)size + bfd;
        }
        order++;
    }
    heap_frame(h, mfn)->first_dirty = first_dirty;
    buddy_list_add(h, n, mfn, order);
}

/*
 * Frees a block that contains frames marked for offlining: those become
 * offlined, the rest are freed as maximal sub-blocks.  Returns the pages
 * that went back to the free lists.
 */
static uint64_t free_around_offlining(struct heap *h, struct heap_node *n, uint64_t mfn,
                                      unsigned order, bool need_scrub)
{
    uint64_t size = UINT64_C(1) << order;
    bool has_offlining = false;

    for (uint64_t i = 0; i < size && !has_offlining; i++)
        has_offlining = frame_state(heap_frame(h, mfn + i)) == FRAME_OFFLINING;
    if (!has_offlining) {
        buddy_merge_and_list(h, n, mfn, order, need_scrub ? 0 : INVALID_DIRTY_IDX);
        if (need_scrub)
            atomic_fetch_add(&n->need_scrub, size);
        return size;
    }
    if (order == 0) {
        struct frame *f = heap_frame(h, mfn);

        frame_set_state(f, FRAME_OFFLINED);
        f->need_scrub = 0;
        frame_list_push_tail(h, &n->offlined, mfn);
        atomic_fetch_add(&n->nr_offlined, 1);
        return 0;
    }
    return free_around_offlining(h, n, mfn, order - 1, need_scrub) +
           free_around_offlining(h, n, mfn + size / 2, order - 1, need_scrub);
}

void heap_free_pages(struct heap *h, mfn_t mfn_t_, unsigned order, bool need_scrub)
{
    uint64_t mfn = mfn_x(mfn_t_), size = UINT64_C(1) << order, freed;
    struct heap_node *n = heap_node_of(h, mfn);
    bool offlining = false;

    BUG_ON(order > MAX_ORDER || !is_aligned_u64(mfn, order) || mfn + size > n->end_mfn);
    lock_acquire(&n->lock);
    for (uint64_t i = 0; i < size; i++) {
        struct frame *f = heap_frame(h, mfn + i);
        unsigned st = frame_state(f);

        BUG_ON(st != FRAME_INUSE && st != FRAME_OFFLINING);
        BUG_ON(frame_state_bits(f) & FRAME_RESERVED);
        if (st == FRAME_OFFLINING)
            offlining = true;
        else
            frame_set_state_bits(f, FRAME_FREE);
        f->need_scrub = need_scrub;
        frame_set_owner_flags(f, 0);
        f->count = 0;
        f->type_info = 0;
    }
    if (!offlining) {
        buddy_merge_and_list(h, n, mfn, order, need_scrub ? 0 : INVALID_DIRTY_IDX);
        if (need_scrub)
            atomic_fetch_add(&n->need_scrub, size);
        freed = size;
    } else {
        /* The offlining frames kept their state in the loop above. */
        freed = free_around_offlining(h, n, mfn, order, need_scrub);
    }
    if (need_scrub)
        scrub_wake_locked(n);
    lock_release(&n->lock);
    account_add_free(h, n->id, freed);
}
