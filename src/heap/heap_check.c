/*
 * The heap checker: walks every free list and every frame and counts
 * violations of the invariants in heap.h (specs I2, I10, I11).  It needs a
 * quiescent heap: counts reserved by an allocation in flight, or a buddy
 * being scrubbed, would read as violations.
 */
#include <inttypes.h>

#include "memvisor/check.h"
#include "heap_internal.h"


/* Checks one buddy; returns its dirty pages.  `used`: the frame table's
 * written pages (machine_used_frame_map): frames on the others are zero,
 * i.e. free and clean, as a buddy's inside must be. */
static uint64_t check_buddy(struct mv_checker *c, struct heap *h, struct heap_node *n,
                            const uint64_t *used, uint64_t head, unsigned zone, unsigned order)
{
    struct frame *f = heap_frame(h, head);
    uint64_t size = UINT64_C(1) << order, dirty = 0;
    uint32_t fd = f->first_dirty;

    if (frame_state_bits(f) != (FRAME_FREE | FRAME_BUDDY_HEAD))
        mv_check_fail(c, "buddy %#" PRIx64 " has state %#x", head, frame_state_bits(f));
    if (f->order != order)
        mv_check_fail(c, "buddy %#" PRIx64 " on order-%u list has order %u", head, order, f->order);
    if (!is_aligned_u64(head, order))
        mv_check_fail(c, "buddy %#" PRIx64 " is not aligned to order %u", head, order);
    if (head < n->start_mfn || head + size > n->end_mfn) {
        mv_check_fail(c, "buddy %#" PRIx64 "+%" PRIu64 " is outside node %u", head, size, n->id);
        return 0;
    }
    if (zone_of_mfn(head) != zone || zone_of_mfn(head + size - 1) != zone)
        mv_check_fail(c, "buddy %#" PRIx64 " order %u straddles or misses zone %u", head, order, zone);
    if (fd != INVALID_DIRTY_IDX && fd >= size)
        mv_check_fail(c, "buddy %#" PRIx64 " first_dirty %u >= 2^%u", head, fd, order);
    if (__atomic_load_n(&f->scrub_state, __ATOMIC_ACQUIRE) != SCRUB_NOT_SCRUBBING)
        mv_check_fail(c, "buddy %#" PRIx64 " is being scrubbed", head);
    if (order < MAX_ORDER) {
        uint64_t buddy = head ^ size;
        if (buddy >= n->start_mfn && buddy + size <= n->end_mfn) {
            struct frame *bf = heap_frame(h, buddy);
            if (frame_state_bits(bf) == (FRAME_FREE | FRAME_BUDDY_HEAD) && bf->order == order)
                mv_check_fail(c, "buddies %#" PRIx64 " and %#" PRIx64 " (order %u) are not merged",
                          head, buddy, order);
        }
    }
    for (uint64_t i = 0; i < size; i++) {
        struct frame *t = heap_frame(h, head + i);

        if (!machine_frame_maybe_used(used, head + i)) {
            i = machine_next_table_page(head + i) - head - 1;
            continue;
        }
        if (i > 0 && frame_state_bits(t) != FRAME_FREE)
            mv_check_fail(c, "frame %#" PRIx64 " inside free buddy %#" PRIx64 " has state %#x",
                      head + i, head, frame_state_bits(t));
        if (t->need_scrub) {
            dirty++;
            if (fd == INVALID_DIRTY_IDX || i < fd)
                mv_check_fail(c, "dirty frame %#" PRIx64 " before first_dirty of buddy %#" PRIx64,
                          head + i, head);
        }
    }
    return dirty;
}

static void check_node(struct mv_checker *c, struct heap *h, struct heap_node *n,
                       const uint64_t *used, uint64_t acct_node_avail)
{
    uint64_t listed = 0, dirty = 0, offlined = 0, census_free = 0;

    lock_acquire(&n->lock);
    for (unsigned z = 0; z < NR_ZONES; z++) {
        uint64_t zone_pages = 0;

        for (unsigned j = 0; j <= MAX_ORDER; j++) {
            struct frame_list *l = &n->free[z][j];
            bool seen_dirty = false;
            uint64_t nr = 0, prev = LIST_NIL;

            if (((n->nonempty[z] >> j) & 1) != (l->head != LIST_NIL))
                mv_check_fail(c, "node %u zone %u order %u: nonempty bit is wrong", n->id, z, j);
            for (uint64_t b = l->head; b != LIST_NIL; b = heap_frame(h, b)->next) {
                struct frame *f = heap_frame(h, b);

                if (f->prev != prev)
                    mv_check_fail(c, "node %u zone %u order %u: broken prev link at %#" PRIx64,
                              n->id, z, j, b);
                if (f->first_dirty == INVALID_DIRTY_IDX && seen_dirty)
                    mv_check_fail(c, "node %u zone %u order %u: clean buddy %#" PRIx64 " after a dirty one",
                              n->id, z, j, b);
                seen_dirty |= f->first_dirty != INVALID_DIRTY_IDX;
                dirty += check_buddy(c, h, n, used, b, z, j);
                zone_pages += UINT64_C(1) << j;
                prev = b;
                if (++nr > h->m->nr_frames) {
                    mv_check_fail(c, "node %u zone %u order %u: list has a cycle", n->id, z, j);
                    break;
                }
            }
            if (l->tail != prev)
                mv_check_fail(c, "node %u zone %u order %u: tail is wrong", n->id, z, j);
        }
        if (zone_pages != n->zone_avail[z])
            mv_check_fail(c, "node %u zone %u: avail %" PRIu64 " but %" PRIu64 " pages listed",
                      n->id, z, n->zone_avail[z], zone_pages);
        listed += zone_pages;
    }
    if (listed != n->list_pages)
        mv_check_fail(c, "node %u: list_pages %" PRIu64 " but %" PRIu64 " listed", n->id,
                  n->list_pages, listed);
    if (listed != acct_node_avail)
        mv_check_fail(c, "node %u: node_avail %" PRIu64 " but %" PRIu64 " pages listed", n->id,
                  acct_node_avail, listed);
    if (dirty != atomic_load(&n->need_scrub))
        mv_check_fail(c, "node %u: need_scrub %" PRIu64 " but %" PRIu64 " dirty free pages", n->id,
                  (uint64_t)atomic_load(&n->need_scrub), dirty);

    for (uint64_t b = n->offlined.head; b != LIST_NIL; b = heap_frame(h, b)->next) {
        if (frame_state(heap_frame(h, b)) != FRAME_OFFLINED)
            mv_check_fail(c, "frame %#" PRIx64 " on the offlined list is not offlined", b);
        if (++offlined > h->m->nr_frames)
            break;
    }
    if (offlined != atomic_load(&n->nr_offlined))
        mv_check_fail(c, "node %u: nr_offlined %" PRIu64 " but %" PRIu64 " listed", n->id,
                  (uint64_t)atomic_load(&n->nr_offlined), offlined);

    /* Census: every frame in the free state is on a list. */
    for (uint64_t mfn = n->start_mfn; mfn < n->end_mfn; mfn++) {
        const struct frame *f = heap_frame(h, mfn);

        if (!machine_frame_maybe_used(used, mfn)) {
            uint64_t next = min_u64(machine_next_table_page(mfn), n->end_mfn);

            census_free += next - mfn; /* zero frames: free */
            mfn = next - 1;
            continue;
        }
        if (frame_state(f) == FRAME_FREE && !(frame_state_bits(f) & FRAME_RESERVED))
            census_free++;
        if ((frame_state_bits(f) & FRAME_BROKEN) && frame_state(f) != FRAME_OFFLINED &&
            frame_state(f) != FRAME_OFFLINING)
            mv_check_fail(c, "broken frame %#" PRIx64 " is back in service", mfn);
    }
    if (census_free != listed)
        mv_check_fail(c, "node %u: %" PRIu64 " frames are free but %" PRIu64 " are listed", n->id,
                  census_free, listed);
    lock_release(&n->lock);
}

unsigned heap_check(struct heap *h, FILE *report)
{
    struct mv_checker c = { report, "heap check", 0 };
    struct {
        uint64_t total_avail, outstanding, global_claims;
        uint64_t node_avail[MAX_NUMNODES], node_claims[MAX_NUMNODES];
    } a;
    uint64_t sum_avail = 0, sum_claims = 0, *used = machine_used_frame_map(h->m);

    lock_acquire(&h->acct.lock);
    a.total_avail = h->acct.total_avail;
    a.outstanding = h->acct.outstanding;
    a.global_claims = h->acct.global_claims;
    for (unsigned i = 0; i < h->nr_nodes; i++) {
        a.node_avail[i] = h->acct.node_avail[i];
        a.node_claims[i] = h->acct.node_claims[i];
    }
    lock_release(&h->acct.lock);

    for (unsigned i = 0; i < h->nr_nodes; i++) {
        check_node(&c, h, &h->node[i], used, a.node_avail[i]);
        sum_avail += a.node_avail[i];
        sum_claims += a.node_claims[i];
    }
    if (sum_avail != a.total_avail)
        mv_check_fail(&c, "total_avail %" PRIu64 " != sum of node_avail %" PRIu64, a.total_avail,
                  sum_avail);
    if (a.outstanding != a.global_claims + sum_claims)
        mv_check_fail(&c, "outstanding %" PRIu64 " != global %" PRIu64 " + node claims %" PRIu64,
                  a.outstanding, a.global_claims, sum_claims);
    free(used);
    if (a.total_avail > h->total_pages)
        mv_check_fail(&c, "total_avail %" PRIu64 " > total_pages %" PRIu64, a.total_avail,
                  h->total_pages);
    return c.violations;
}
