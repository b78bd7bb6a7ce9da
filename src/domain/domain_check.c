/*
 * The domain checkers (quiescent): one domain's extents and counters, and
 * the invariants across domains (specs I1, I8, I10 for owned pages).
 */
#include <inttypes.h>
#include <stdlib.h>

#include "domain_internal.h"
#include "memvisor/check.h"


static void check_domain(struct mv_checker *c, struct domain *d)
{
    uint64_t pages = 0, extra = 0, extents = 0;
    struct heap_claims claims;
    uint64_t node_sum = 0;

    lock_acquire(&d->lock);
    for (uint64_t head = d->extents_head; head; head = domain_frame(d, head)->next) {
        struct frame *hf = domain_frame(d, head);
        uint64_t size = UINT64_C(1) << hf->order;

        if (!(frame_owner_flags(hf) & FRAME_EXTENT_HEAD))
            mv_check_fail(c, "d%u: extent %#" PRIx64 " lacks its head flag", d->domid, head);
        if (!is_aligned_u64(head, hf->order))
            mv_check_fail(c, "d%u: extent %#" PRIx64 " is not aligned to order %u", d->domid, head,
                      hf->order);
        for (uint64_t i = 0; i < size; i++) {
            struct frame *f = domain_frame(d, head + i);
            unsigned st = frame_state(f);

            if (st != FRAME_INUSE && st != FRAME_OFFLINING)
                mv_check_fail(c, "d%u: owned frame %#" PRIx64 " has state %u", d->domid, head + i, st);
            if (frame_owner(f) != d->domid || !(frame_owner_flags(f) & FRAME_ALLOCATED))
                mv_check_fail(c, "d%u: frame %#" PRIx64 " is on its list but owned by %u (flags %#x)",
                          d->domid, head + i, frame_owner(f), frame_owner_flags(f));
            if (i > 0 && (frame_owner_flags(f) & FRAME_EXTENT_HEAD))
                mv_check_fail(c, "d%u: frame %#" PRIx64 " inside an extent has the head flag",
                          d->domid, head + i);
            if (__atomic_load_n(&f->count, __ATOMIC_ACQUIRE) == 0)
                mv_check_fail(c, "d%u: owned frame %#" PRIx64 " has no reference", d->domid, head + i);
            if (f->need_scrub)
                mv_check_fail(c, "d%u: owned frame %#" PRIx64 " still needs scrubbing (I10)",
                          d->domid, head + i);
            if (frame_owner_flags(f) & FRAME_EXTRA)
                extra++;
        }
        pages += size;
        if (++extents > d->nr_extents)
            break;
    }
    if (extents != d->nr_extents)
        mv_check_fail(c, "d%u: %" PRIu64 " extents listed, nr_extents %" PRIu64, d->domid, extents,
                  d->nr_extents);
    if (pages != d->tot_pages)
        mv_check_fail(c, "d%u: tot_pages %" PRIu64 " but extents hold %" PRIu64, d->domid,
                  d->tot_pages, pages);
    if (extra != d->extra_pages)
        mv_check_fail(c, "d%u: extra_pages %" PRIu64 " but %" PRIu64 " extra frames", d->domid,
                  d->extra_pages, extra);
    lock_release(&d->lock);

    heap_claims_read(d->table->heap, &d->claims, &claims);
    for (unsigned n = 0; n < MAX_NUMNODES; n++)
        node_sum += claims.node[n];
    if (claims.total != claims.global + node_sum)
        mv_check_fail(c, "d%u: claim total %" PRIu64 " != global %" PRIu64 " + nodes %" PRIu64,
                  d->domid, claims.total, claims.global, node_sum);
    if (domain_is_dying(d) && claims.total)
        mv_check_fail(c, "d%u: dying with a claim of %" PRIu64 " (I8)", d->domid, claims.total);
}

unsigned domain_check(struct domain *d, FILE *report)
{
    struct mv_checker c = { report, "domain check", 0 };

    check_domain(&c, d);
    return c.violations;
}

struct table_walk {
    struct mv_checker *c;
    uint64_t claims_sum;
    uint64_t tot_sum;
    uint64_t *owned; /* allocated pages per domid, from the frame census */
};

static int check_one(void *arg, struct domain *d)
{
    struct table_walk *w = arg;
    struct heap_claims claims;
    uint64_t tot;

    check_domain(w->c, d);
    heap_claims_read(d->table->heap, &d->claims, &claims);
    w->claims_sum += claims.total;
    lock_acquire(&d->lock);
    tot = d->tot_pages;
    lock_release(&d->lock);
    w->tot_sum += tot;
    if (w->owned && w->owned[d->domid] != tot)
        mv_check_fail(w->c, "d%u: %" PRIu64 " frames carry its ownership, tot_pages %" PRIu64,
                  d->domid, w->owned[d->domid], tot);
    return 0;
}

unsigned domain_table_check(struct domain_table *t, FILE *report)
{
    struct mv_checker c = { report, "domain check", 0 };
    struct table_walk w = { &c, 0, 0, NULL };
    uint64_t census = 0;
    struct heap_totals totals;

    unsigned max_id = 0;

    /* Census: frames holding an allocation reference, by owner. */
    lock_acquire(&t->lock);
    for (unsigned id = domain_table_next_locked(t, 0); id < DOMID_FIRST_RESERVED;
         id = domain_table_next_locked(t, id + 1))
        max_id = id;
    lock_release(&t->lock);
    w.owned = calloc(max_id + 1, sizeof(*w.owned));
    if (w.owned) {
        /* Frames whose table page was never written are free. */
        uint64_t *used = machine_used_frame_map(t->m);

        for (uint64_t mfn = 0; mfn < t->m->nr_frames; mfn++) {
            const struct frame *f = &t->m->frames[mfn];
            domid_t owner;

            if (!machine_frame_maybe_used(used, mfn)) {
                mfn = machine_next_table_page(mfn) - 1;
                continue;
            }
            owner = frame_owner(f);
            if (!(frame_owner_flags(f) & FRAME_ALLOCATED))
                continue;
            if (owner > max_id)
                mv_check_fail(&c, "frame %#" PRIx64 " is allocated to d%u, which does not exist",
                              mfn, owner);
            else
                w.owned[owner]++;
            census++;
        }
        free(used);
    }
    (void)domain_for_each(t, 0, check_one, &w);
    /* Every allocated frame belongs to a live domain. */
    if (w.owned && census != w.tot_sum)
        mv_check_fail(&c, "%" PRIu64 " frames carry an allocation reference, domains own %" PRIu64,
                  census, w.tot_sum);
    free(w.owned);

    heap_get_totals(t->heap, &totals);
    if (totals.outstanding_pages != w.claims_sum)
        mv_check_fail(&c, "outstanding claims %" PRIu64 " != sum over domains %" PRIu64 " (I1)",
                  totals.outstanding_pages, w.claims_sum);
    return c.violations + heap_check(t->heap, report);
}
