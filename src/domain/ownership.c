/*
 * Page ownership: extents, assignment, release and references.
 *
 * Each frame a domain owns carries owner = domid, FRAME_ALLOCATED and a
 * reference count holding the allocation reference.  The first frame of
 * each extent also carries FRAME_EXTENT_HEAD and the extent's order, and is
 * linked on the domain's extent list.
 */
#include "domain_internal.h"

/* Extents taken off a dying domain per pass, so that d->lock is never held
 * for the whole of a large domain. */
#define RELINQUISH_BATCH 64

static uint32_t count_drop(struct frame *f)
{
    return __atomic_sub_fetch(&f->count, 1, __ATOMIC_ACQ_REL);
}

static void extent_list_add(struct domain *d, uint64_t head, unsigned order)
{
    struct frame *f = domain_frame(d, head);

    lock_assert_held(&d->lock);
    frame_set_owner_flags(f, frame_owner_flags(f) | FRAME_EXTENT_HEAD);
    f->order = (uint8_t)order;
    f->prev = 0;
    f->next = d->extents_head;
    if (d->extents_head)
        domain_frame(d, d->extents_head)->prev = (uint32_t)head;
    d->extents_head = (uint32_t)head;
    d->nr_extents++;
}

static void extent_list_del(struct domain *d, uint64_t head)
{
    struct frame *f = domain_frame(d, head);

    lock_assert_held(&d->lock);
    if (f->prev)
        domain_frame(d, f->prev)->next = f->next;
    else
        d->extents_head = f->next;
    if (f->next)
        domain_frame(d, f->next)->prev = f->prev;
    f->next = f->prev = 0;
    frame_set_owner_flags(f, frame_owner_flags(f) & (uint8_t)~FRAME_EXTENT_HEAD);
    d->nr_extents--;
}

static bool frame_owned_by(const struct frame *f, const struct domain *d)
{
    unsigned st = frame_state(f);

    return (st == FRAME_INUSE || st == FRAME_OFFLINING) && frame_owner(f) == d->domid &&
           (frame_owner_flags(f) & FRAME_ALLOCATED);
}

/* Xen's assign_pages, d->lock held. */
static int assign_locked(struct domain *d, uint64_t mfn, unsigned order, bool extra)
{
    uint64_t nr = UINT64_C(1) << order;

    lock_assert_held(&d->lock);
    if (domain_is_dying(d))
        return -EINVAL;
    if (!extra) {
        uint64_t counted = d->tot_pages - d->extra_pages;
        if (counted > d->max_pages)
            return -EPERM; /* inconsistent: max was lowered below tot */
        if (nr > d->max_pages - counted)
            return -E2BIG; /* over-allocation */
    }
    /* Xen's tot_pages is an unsigned int. */
    if (d->tot_pages + nr > UINT32_MAX)
        return -E2BIG;
    for (uint64_t i = 0; i < nr; i++) {
        struct frame *f = domain_frame(d, mfn + i);

        assert(frame_state(f) == FRAME_INUSE || frame_state(f) == FRAME_OFFLINING);
        frame_set_owner(f, d->domid);
        frame_set_owner_flags(f, FRAME_ALLOCATED | (extra ? FRAME_EXTRA : 0));
        __atomic_store_n(&f->count, 1, __ATOMIC_RELEASE);
    }
    extent_list_add(d, mfn, order);
    d->tot_pages += nr;
    if (extra)
        d->extra_pages += nr;
    d->peak_pages = max_u64(d->peak_pages, d->tot_pages - d->extra_pages);
    return 0;
}

static bool memflags_extra(unsigned memflags)
{
    return memflags & (MEMF_no_refcount | MEMF_no_owner);
}

int domain_assign_pages(struct domain *d, mfn_t mfn, unsigned order, unsigned memflags)
{
    int rc;

    if (order > MAX_ORDER)
        return -EINVAL;
    lock_acquire(&d->lock);
    rc = assign_locked(d, mfn_x(mfn), order, memflags_extra(memflags));
    lock_release(&d->lock);
    return rc;
}

int domain_alloc_pages(struct domain *d, unsigned order, unsigned memflags, mfn_t *mfn_out)
{
    struct heap *h = d->table->heap;
    mfn_t mfn;
    int rc;

    if (domain_is_dying(d))
        return -EINVAL;
    rc = heap_alloc_pages(h, order, memflags, &d->alloc_owner, &mfn);
    if (rc)
        return rc;
    if (memflags & MEMF_no_owner) {
        /* Anonymous pages on d's behalf: no owner, no claim. */
        *mfn_out = mfn;
        return 0;
    }
    rc = domain_assign_pages(d, mfn, order, memflags);
    if (rc) {
        /* Any claim this consumed is lost, as in Xen (specs 2.4). */
        heap_free_pages(h, mfn, order, (memflags & MEMF_no_scrub) != 0);
        return rc;
    }
    *mfn_out = mfn;
    return 0;
}

unsigned domain_alloc_pages_bulk(struct domain *d, unsigned nr, unsigned memflags, mfn_t *mfns)
{
    struct heap_block blocks[HEAP_BULK_MAX];
    bool extra = memflags_extra(memflags);
    unsigned got, nr_blocks, assigned = 0;

    if (memflags & MEMF_no_owner)
        return 0;
    /* Ask only for what max_pages lets the domain take: the page that
     * would go over is left to the single-page path, which fails it as
     * Xen does. */
    lock_acquire(&d->lock);
    if (domain_is_dying(d)) {
        nr = 0;
    } else if (!extra) {
        uint64_t counted = d->tot_pages - d->extra_pages;
        nr = (unsigned)min_u64(nr, counted > d->max_pages ? 0 : d->max_pages - counted);
    }
    lock_release(&d->lock);
    got = heap_alloc_pages_bulk(d->table->heap, nr, memflags, &d->alloc_owner, mfns, blocks,
                                &nr_blocks);

    /* The blocks become extents: destroying the domain frees them whole. */
    lock_acquire(&d->lock);
    while (assigned < nr_blocks &&
           assign_locked(d, mfn_x(blocks[assigned].mfn), blocks[assigned].order, extra) == 0)
        assigned++;
    lock_release(&d->lock);
    if (assigned == nr_blocks)
        return got;
    /* Dying meanwhile, or max lowered under us: give everything back. */
    for (unsigned b = 0; b < nr_blocks; b++) {
        if (b < assigned) {
            if (domain_release_pages(d, blocks[b].mfn, blocks[b].order) != 0)
                assert(domain_is_dying(d));
        } else {
            heap_free_pages(d->table->heap, blocks[b].mfn, blocks[b].order,
                            (memflags & MEMF_no_scrub) != 0);
        }
    }
    return 0;
}

/* Finds d's extent that contains [mfn, mfn + 2^order).  d->lock held. */
static bool extent_locate(struct domain *d, uint64_t mfn, unsigned order, uint64_t *head_out)
{
    for (unsigned k = order; k <= MAX_ORDER; k++) {
        uint64_t cand = mfn & ~((UINT64_C(1) << k) - 1);
        struct frame *f = domain_frame(d, cand);

        if ((frame_owner_flags(f) & FRAME_EXTENT_HEAD) && frame_owned_by(f, d)) {
            if (f->order >= order && mfn - cand < (UINT64_C(1) << f->order)) {
                *head_out = cand;
                return true;
            }
            return false;
        }
    }
    return false;
}

/* Frees [mfn, mfn + nr) as maximal aligned blocks. */
static void free_range(struct domain_table *t, uint64_t mfn, uint64_t nr)
{
    while (nr) {
        unsigned order = fls64(nr) - 1;

        if (mfn && (unsigned)__builtin_ctzll(mfn) < order)
            order = (unsigned)__builtin_ctzll(mfn);
        heap_free_pages(t->heap, _mfn(mfn), order, true);
        mfn += UINT64_C(1) << order;
        nr -= UINT64_C(1) << order;
    }
}

/*
 * Drops the allocation references of a released block and frees each frame
 * whose last reference this was.  Whoever brings a count to zero frees that
 * frame, so a concurrent domain_put_page never frees one twice.  No lock
 * held.
 */
static void release_block(struct domain_table *t, uint64_t mfn, unsigned order)
{
    uint64_t nr = UINT64_C(1) << order, i;

    for (i = 0; i < nr; i++)
        if (count_drop(&t->m->frames[mfn + i]) != 0)
            break;
    if (i == nr) {
        heap_free_pages(t->heap, _mfn(mfn), order, true);
        return;
    }
    /* Frame i is still referenced: its holder frees it.  Free the frames
     * before it as blocks, and those after it one by one. */
    free_range(t, mfn, i);
    for (i++; i < nr; i++)
        if (count_drop(&t->m->frames[mfn + i]) == 0)
            heap_free_pages(t->heap, _mfn(mfn + i), 0, true);
}

/* Takes a block's frames out of d's accounting.  d->lock held. */
static void block_disown_locked(struct domain *d, uint64_t mfn, unsigned order)
{
    uint64_t nr = UINT64_C(1) << order;
    bool extra = frame_owner_flags(domain_frame(d, mfn)) & FRAME_EXTRA;

    for (uint64_t i = 0; i < nr; i++)
        frame_set_owner_flags(domain_frame(d, mfn + i), 0);
    d->tot_pages -= nr;
    if (extra)
        d->extra_pages -= nr;
}

int domain_release_pages(struct domain *d, mfn_t mfn_, unsigned order)
{
    uint64_t mfn = mfn_x(mfn_), head;
    unsigned eorder;

    if (order > MAX_ORDER || !is_aligned_u64(mfn, order) ||
        !machine_mfn_valid(d->table->m, mfn_) ||
        !machine_mfn_valid(d->table->m, _mfn(mfn + (UINT64_C(1) << order) - 1)))
        return -EINVAL;
    lock_acquire(&d->lock);
    if (!extent_locate(d, mfn, order, &head)) {
        lock_release(&d->lock);
        return -EINVAL;
    }
    /* Split the extent until [mfn, 2^order) stands alone. */
    eorder = domain_frame(d, head)->order;
    extent_list_del(d, head);
    while (eorder > order) {
        uint64_t half;

        eorder--;
        half = UINT64_C(1) << eorder;
        if (mfn < head + half) {
            extent_list_add(d, head + half, eorder);
        } else {
            extent_list_add(d, head, eorder);
            head += half;
        }
    }
    block_disown_locked(d, mfn, order);
    lock_release(&d->lock);
    release_block(d->table, mfn, order);
    return 0;
}

bool domain_owns_page(struct domain *d, mfn_t mfn)
{
    bool owned;

    if (!machine_mfn_valid(d->table->m, mfn))
        return false;
    lock_acquire(&d->lock);
    owned = frame_owned_by(domain_frame(d, mfn_x(mfn)), d);
    lock_release(&d->lock);
    return owned;
}

bool domain_get_page(struct domain *d, mfn_t mfn)
{
    bool ok;

    if (!machine_mfn_valid(d->table->m, mfn))
        return false;
    lock_acquire(&d->lock);
    ok = frame_owned_by(domain_frame(d, mfn_x(mfn)), d);
    if (ok)
        __atomic_add_fetch(&domain_frame(d, mfn_x(mfn))->count, 1, __ATOMIC_ACQ_REL);
    lock_release(&d->lock);
    return ok;
}

void domain_put_page(struct domain_table *t, mfn_t mfn)
{
    if (count_drop(&t->m->frames[mfn_x(mfn)]) == 0)
        heap_free_pages(t->heap, mfn, 0, true);
}

void domain_relinquish_all(struct domain *d)
{
    struct { uint64_t mfn; unsigned order; } batch[RELINQUISH_BATCH];

    assert(domain_is_dying(d));
    for (;;) {
        unsigned nr = 0;

        lock_acquire(&d->lock);
        while (nr < RELINQUISH_BATCH && d->extents_head) {
            uint64_t head = d->extents_head;
            unsigned order = domain_frame(d, head)->order;

            extent_list_del(d, head);
            block_disown_locked(d, head, order);
            batch[nr].mfn = head;
            batch[nr].order = order;
            nr++;
        }
        lock_release(&d->lock);
        if (nr == 0)
            break;
        for (unsigned i = 0; i < nr; i++)
            release_block(d->table, batch[i].mfn, batch[i].order);
    }
}
