/*
 * Page offlining and onlining (specs 1.8).
 *
 *   free     --offline-->  offlined (cut out of its buddy at once)
 *   in use   --offline-->  offlining --free--> offlined
 *   offlined --online-->   in use, then freed (dirty) as order 0
 *   offlining --online-->  in use
 *
 * A broken frame never comes back.  Offlining a free page lowers the free
 * count regardless of claims, so free can fall below outstanding; every
 * difference of the two saturates.
 */
#include "heap_internal.h"

/* Finds the free buddy that contains mfn.  Node lock held. */
static bool locate_free_buddy(struct heap *h, struct heap_node *n, uint64_t mfn,
                              uint64_t *head_out)
{
    for (unsigned k = 0; k <= MAX_ORDER; k++) {
        uint64_t cand = mfn & ~((UINT64_C(1) << k) - 1);
        struct frame *f;

        if (cand < n->start_mfn)
            break;
        f = heap_frame(h, cand);
        if (frame_state_bits(f) == (FRAME_FREE | FRAME_BUDDY_HEAD) &&
            mfn - cand < (UINT64_C(1) << f->order)) {
            *head_out = cand;
            return true;
        }
    }
    return false;
}

/* Cuts mfn out of its free buddy; the rest goes back as sub-buddies. */
static void buddy_carve_out(struct heap *h, struct heap_node *n, uint64_t head, uint64_t mfn)
{
    struct frame *hf = heap_frame(h, head);
    unsigned order = hf->order;
    uint32_t fd;

    scrub_stop_buddy(h, hf);
    fd = hf->first_dirty;
    buddy_list_del(h, n, head, order);
    while (order > 0) {
        uint64_t half, other;

        order--;
        half = UINT64_C(1) << order;
        if (mfn < head + half) {
            other = head + half;
        } else {
            other = head;
            head += half;
        }
        /* Keep dirtiness conservatively: the scrubber re-checks each page. */
        heap_frame(h, other)->first_dirty = fd == INVALID_DIRTY_IDX ? INVALID_DIRTY_IDX : 0;
        buddy_list_add(h, n, other, order);
    }
    assert(head == mfn);
}

static uint32_t owner_status(const struct frame *f)
{
    if (frame_owner(f) == DOMID_XEN)
        return OFFLINE_RESULT_ANONYMOUS;
    return OFFLINE_RESULT_OWNED | ((uint32_t)frame_owner(f) << OFFLINE_OWNER_SHIFT);
}

int heap_offline_page(struct heap *h, mfn_t mfn_, bool broken, uint32_t *status)
{
    uint64_t mfn = mfn_x(mfn_), head;
    struct heap_node *n;
    struct frame *f;
    bool reserved;
    int rc = 0;

    *status = 0;
    if (!machine_mfn_valid(h->m, mfn_))
        return -EINVAL;
    f = heap_frame(h, mfn);
    if (frame_state_bits(f) & FRAME_RESERVED) {
        *status = OFFLINE_RESULT_FAILED | OFFLINE_RESULT_XENPAGE |
                  ((uint32_t)DOMID_XEN << OFFLINE_OWNER_SHIFT);
        return -EPERM;
    }
    n = heap_node_of(h, mfn);
    /* Take the page from the free count first, in case it is free: the
     * count is always reserved before pages leave the lists. */
    reserved = account_take_free(h, n->id, 1) == 0;

    lock_acquire(&n->lock);
    switch (frame_state(f)) {
    case FRAME_FREE:
        if (!reserved || !locate_free_buddy(h, n, mfn, &head)) {
            rc = -EBUSY;
            break;
        }
        buddy_carve_out(h, n, head, mfn);
        reserved = false; /* the reservation is now the offlined page */
        if (f->need_scrub) {
            f->need_scrub = 0;
            atomic_fetch_sub(&n->need_scrub, 1);
        }
        frame_set_state(f, FRAME_OFFLINED);
        frame_list_push_tail(h, &n->offlined, mfn);
        atomic_fetch_add(&n->nr_offlined, 1);
        *status = OFFLINE_RESULT_OFFLINED;
        break;
    case FRAME_INUSE:
        frame_set_state(f, FRAME_OFFLINING);
        /* fall through */
    case FRAME_OFFLINING:
        *status = OFFLINE_RESULT_PENDING | owner_status(f);
        break;
    case FRAME_OFFLINED:
        *status = OFFLINE_RESULT_OFFLINED;
        break;
    }
    if (rc == 0 && broken)
        frame_set_state_bits(f, frame_state_bits(f) | FRAME_BROKEN);
    if (rc == 0 && (frame_state_bits(f) & FRAME_BROKEN))
        *status |= OFFLINE_RESULT_BROKEN;
    lock_release(&n->lock);
    if (reserved)
        account_add_free(h, n->id, 1);
    return rc;
}

int heap_online_page(struct heap *h, mfn_t mfn_, uint32_t *status)
{
    uint64_t mfn = mfn_x(mfn_);
    struct heap_node *n;
    struct frame *f;
    bool free_it = false;

    *status = 0;
    if (!machine_mfn_valid(h->m, mfn_))
        return -EINVAL;
    f = heap_frame(h, mfn);
    if (frame_state_bits(f) & FRAME_RESERVED) {
        *status = OFFLINE_RESULT_FAILED | OFFLINE_RESULT_XENPAGE;
        return -EPERM;
    }
    n = heap_node_of(h, mfn);
    lock_acquire(&n->lock);
    if (frame_state_bits(f) & FRAME_BROKEN) {
        lock_release(&n->lock);
        *status = OFFLINE_RESULT_FAILED | OFFLINE_RESULT_BROKEN;
        return -EINVAL;
    }
    switch (frame_state(f)) {
    case FRAME_OFFLINED:
        frame_list_remove(h, &n->offlined, mfn);
        atomic_fetch_sub(&n->nr_offlined, 1);
        frame_set_state(f, FRAME_INUSE);
        frame_set_owner(f, DOMID_XEN);
        free_it = true;
        break;
    case FRAME_OFFLINING:
        frame_set_state(f, FRAME_INUSE);
        break;
    default:
        break;
    }
    lock_release(&n->lock);
    /* Its contents are unknown: it goes back dirty. */
    if (free_it)
        heap_free_pages(h, mfn_, 0, true);
    *status = OFFLINE_RESULT_OFFLINED; /* PG_ONLINE_ONLINED */
    return 0;
}

int heap_query_page_offline(struct heap *h, mfn_t mfn_, uint32_t *status)
{
    uint64_t mfn = mfn_x(mfn_);
    struct heap_node *n;
    struct frame *f;

    *status = 0;
    if (!machine_mfn_valid(h->m, mfn_))
        return -EINVAL;
    f = heap_frame(h, mfn);
    if (frame_state_bits(f) & FRAME_RESERVED) {
        *status = OFFLINE_STATUS_ONLINE;
        return 0;
    }
    n = heap_node_of(h, mfn);
    lock_acquire(&n->lock);
    switch (frame_state(f)) {
    case FRAME_OFFLINED:
        *status = OFFLINE_STATUS_OFFLINED;
        break;
    case FRAME_OFFLINING:
        *status = OFFLINE_STATUS_OFFLINE_PENDING;
        break;
    default:
        *status = OFFLINE_STATUS_ONLINE;
        break;
    }
    if (frame_state_bits(f) & FRAME_BROKEN)
        *status |= OFFLINE_STATUS_BROKEN;
    lock_release(&n->lock);
    return 0;
}
