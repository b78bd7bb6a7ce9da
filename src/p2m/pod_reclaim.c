/*
 * PoD reclaim (specs A8, A9): zero checks, eager reclaim from the ring of
 * recently populated gfns, the emergency sweep, and decrease_reservation
 * of ranges while PoD entries are outstanding.
 *
 * A zero check turns a RAM entry back into a PoD entry, and only then
 * looks at the page's references and its bytes: a guest access holds a
 * reference on its page from the translation (under the p2m lock, which
 * the check holds) to the end of its copy, so after the entry is replaced
 * either the access has finished (and its bytes are seen) or the page has
 * a second reference (and the entry is put back).  Xen flushes TLBs at
 * that point for the same reason.
 */
#include "memvisor/check.h"
#include "p2m_internal.h"

/* The quick check: the first 16 machine words. */
#define QUICK_CHECK_WORDS 16

static bool quick_zero(const void *page)
{
    const uint64_t *w = page;
    uint64_t any = 0;

    for (unsigned i = 0; i < QUICK_CHECK_WORDS; i++)
        any |= w[i];
    return any == 0;
}

static unsigned frame_refs(struct p2m *p, uint64_t mfn)
{
    return __atomic_load_n(&p2m_frame(p, mfn)->count, __ATOMIC_ACQUIRE);
}

/* A page the domain holds alone, as ordinary RAM (not special: Xen's
 * PGC_extra and xenheap pages). */
static bool frame_eligible(struct p2m *p, uint64_t mfn)
{
    struct frame *f = p2m_frame(p, mfn);

    return frame_owner(f) == p->d->domid &&
           (frame_owner_flags(f) & (FRAME_ALLOCATED | FRAME_EXTRA)) == FRAME_ALLOCATED &&
           frame_refs(p, mfn) <= 1;
}

/* Puts back what a zero check took; a failure leaves a PoD entry where a
 * page was, so the domain cannot go on (Xen's XSA-247). */
static void restore(struct p2m *p, uint64_t gfn, uint64_t mfn, unsigned order)
{
    if (p2m_set_entry_locked(p, gfn, mfn, order, P2M_RAM_RW))
        domain_crash(p->d, "d%u: PoD zero check could not restore gfn %#llx", p->d->domid,
                     (unsigned long long)gfn);
}

unsigned pod_zero_check(struct p2m *p, const uint64_t *gfns, unsigned n)
{
    unsigned reclaimed = 0;

    for (unsigned i = 0; i < n; i++) {
        struct p2m_entry e;
        uint64_t mfn;
        void *page;

        p2m_lookup_locked(p, _gfn(gfns[i]), &e);
        /* The type first: only RAM has a frame to look at (9be0b2747b). */
        if (!p2m_type_is_ram(e.type) || !frame_eligible(p, mfn_x(e.mfn)))
            continue;
        mfn = mfn_x(e.mfn);
        page = machine_frame_bytes(p->m, e.mfn);
        if (!quick_zero(page))
            continue;
        /* Every set_entry is checked (XSA-247): a page must never reach
         * the cache while something still maps it. */
        if (p2m_set_entry_locked(p, gfns[i], 0, 0, P2M_POD))
            continue;
        if (frame_refs(p, mfn) > 1 || !pages_are_zero(page, 1)) {
            restore(p, gfns[i], mfn, 0);
            continue;
        }
        pod_cache_add(p, mfn, 0, true);
        p->pod.stats.reclaimed_4k++;
        reclaimed++;
    }
    return reclaimed;
}

unsigned pod_zero_check_superpage(struct p2m *p, uint64_t gfn)
{
    struct p2m_entry e;
    uint64_t mfn0;
    uint8_t *bytes;

    if (!is_aligned_u64(gfn, SUPERPAGE_ORDER))
        return 0;
    p2m_lookup_locked(p, _gfn(gfn), &e);
    if (!p2m_type_is_ram(e.type) || !is_aligned_u64(mfn_x(e.mfn), SUPERPAGE_ORDER))
        return 0;
    mfn0 = mfn_x(e.mfn);
    bytes = machine_frame_bytes(p->m, e.mfn);
    /* All 512 RAM of one type, contiguous from an aligned frame, each
     * eligible, each passing the quick check. */
    for (uint64_t i = 0; i < SUPERPAGE_PAGES; i++) {
        if (e.order < SUPERPAGE_ORDER && i) {
            struct p2m_entry ei;
            p2m_lookup_locked(p, _gfn(gfn + i), &ei);
            if (ei.type != e.type || mfn_x(ei.mfn) != mfn0 + i)
                return 0;
        }
        if (!frame_eligible(p, mfn0 + i) || !quick_zero(bytes + (i << PAGE_SHIFT)))
            return 0;
    }
    if (p2m_set_entry_locked(p, gfn, 0, SUPERPAGE_ORDER, P2M_POD))
        return 0;
    for (uint64_t i = 0; i < SUPERPAGE_PAGES; i++) {
        if (frame_refs(p, mfn0 + i) > 1) {
            restore(p, gfn, mfn0, SUPERPAGE_ORDER);
            return 0;
        }
    }
    if (!pages_are_zero(bytes, SUPERPAGE_PAGES)) {
        restore(p, gfn, mfn0, SUPERPAGE_ORDER);
        return 0;
    }
    pod_cache_add(p, mfn0, SUPERPAGE_ORDER, true);
    p->pod.stats.reclaimed_2m++;
    return SUPERPAGE_PAGES;
}

void pod_eager_reclaim(struct p2m *p)
{
    unsigned i = 0;

    /* One slot always; while the cache is empty, the rest of the ring. */
    do {
        unsigned idx = (p->pod.mrp_idx + i++) % POD_MRP_ENTRIES;
        uint64_t gfn = p->pod.mrp[idx];

        if (gfn == INVALID_GFN_RAW)
            continue;
        if (gfn & POD_LAST_SUPERPAGE) {
            gfn &= ~POD_LAST_SUPERPAGE;
            /* The whole 2 MiB, else its pages one by one (which splits
             * it, deliberately: better than running out). */
            if (!pod_zero_check_superpage(p, gfn))
                for (uint64_t x = 0; x < SUPERPAGE_PAGES; x++) {
                    uint64_t g = gfn + x;
                    pod_zero_check(p, &g, 1);
                }
        } else {
            pod_zero_check(p, &gfn, 1);
        }
        p->pod.mrp[idx] = INVALID_GFN_RAW;
    } while (p->pod.count == 0 && i < POD_MRP_ENTRIES);
}

void pod_emergency_sweep(struct p2m *p)
{
    uint64_t gfns[POD_SWEEP_STRIDE], i, start, limit;
    unsigned j = 0;

    if (p->pod.reclaim_single == 0)
        p->pod.reclaim_single = p->pod.max_guest;
    start = p->pod.reclaim_single;
    limit = start > POD_SWEEP_LIMIT ? start - POD_SWEEP_LIMIT : 0;
    p->pod.stats.sweeps++;
    /* Downwards, 4 KiB only (8f7e8f7b56), gfn 0 never; stop once past the
     * limit with something reclaimed.  A hole or PoD range is passed in
     * one step, stopping where Xen's gfn-by-gfn walk would.  A batch is
     * filled from its end, so that it is checked upwards. */
    for (i = start; i > 0; i--) {
        struct p2m_entry e;
        uint64_t low = i;

        p2m_lookup_locked(p, _gfn(i), &e);
        if (p2m_type_is_ram(e.type)) {
            gfns[POD_SWEEP_STRIDE - ++j] = i;
            if (j == POD_SWEEP_STRIDE) {
                pod_zero_check(p, gfns, j);
                j = 0;
            }
        } else {
            low = max_u64(i & ~((UINT64_C(1) << e.order) - 1), 1);
        }
        p->pod.stats.swept_gfns += i - low + 1;
        if (p->pod.count > 0 && low < limit) {
            i = min_u64(i, limit - 1);
            break;
        }
        i = low;
    }
    if (j)
        pod_zero_check(p, gfns + POD_SWEEP_STRIDE - j, j);
    p->pod.reclaim_single = i ? i - 1 : 0;
}

uint64_t p2m_pod_sweep(struct domain *d)
{
    struct p2m *p = d->p2m;
    uint64_t before;

    lock_acquire(&p->lock);
    before = p->pod.count;
    if (!p->dead && !domain_is_dying(d))
        pod_emergency_sweep(p);
    before = p->pod.count - before;
    lock_release(&p->lock);
    return before;
}

/* Special pages (Xen's is_special_page) are never stolen (XSA-507); nor
 * is a page something else holds a reference on at this moment (a
 * guest's access in flight: it must not land in the cache). */
static bool stealable(struct p2m *p, uint64_t mfn, uint64_t n)
{
    for (uint64_t k = 0; k < n; k++)
        if (!frame_eligible(p, mfn + k))
            return false;
    return true;
}

/* One aligned chunk (Xen's decrease_reservation in p2m-pod.c). */
static uint64_t decrease_chunk(struct p2m *p, uint64_t gfn, unsigned order)
{
    uint64_t nr = UINT64_C(1) << order, pod = 0, ram = 0, ret = 0, n;
    bool steal;

    if (p->pod.entry_count == 0 || p->dead || domain_is_dying(p->d))
        return 0;
    steal = p->pod.entry_count > p->pod.count;
    for (uint64_t i = 0; i < nr; i += n) {
        struct p2m_entry e;

        p2m_lookup_locked(p, _gfn(gfn + i), &e);
        n = UINT64_C(1) << min_u64(order, e.order);
        if (e.type == P2M_POD)
            pod += n;
        else if (p2m_type_is_ram(e.type) && stealable(p, mfn_x(e.mfn), n))
            ram += n;
    }
    if (!pod && !steal)
        return 0;
    if (pod == nr) {
        /* All PoD: one change, and the caller is done.  A partial change
         * of a large range cannot be told apart, so it crashes. */
        if (p2m_set_entry_locked(p, gfn, 0, order, P2M_INVALID)) {
            if (order)
                domain_crash(p->d, "d%u: PoD decrease_reservation failed halfway",
                             p->d->domid);
            return 0;
        }
        ret = nr;
        goto out;
    }
    /* A balloon driver that returns 4 KiB pages: try to take the whole
     * 2 MiB frame back, leaving the rest PoD (a8a3ef6318, 513c203a00). */
    if (steal && order < SUPERPAGE_ORDER && ram == nr &&
        pod_zero_check_superpage(p, gfn & ~(uint64_t)(SUPERPAGE_PAGES - 1))) {
        pod = nr;
        ram = 0;
    }
    for (uint64_t i = 0; i < nr && (pod > 0 || (steal && ram > 0)); i += n) {
        struct p2m_entry e;
        unsigned cur;

        p2m_lookup_locked(p, _gfn(gfn + i), &e);
        cur = (unsigned)min_u64(order, e.order);
        n = UINT64_C(1) << cur;
        if (e.type == P2M_POD) {
            if (p2m_set_entry_locked(p, gfn + i, 0, cur, P2M_INVALID)) {
                domain_crash(p->d, "d%u: PoD decrease_reservation failed", p->d->domid);
                return ret;
            }
            pod -= n;
            ret += n;
        } else if (steal && p2m_type_is_ram(e.type) && stealable(p, mfn_x(e.mfn), n)) {
            uint64_t mfn = mfn_x(e.mfn) & ~(n - 1);

            /* Unmapping clears the M2P of each frame (8e4d495cb8). */
            if (p2m_set_entry_locked(p, gfn + i, 0, cur, P2M_INVALID)) {
                domain_crash(p->d, "d%u: PoD decrease_reservation failed", p->d->domid);
                return ret;
            }
            pod_cache_add(p, mfn, cur, false);
            p->pod.stats.stolen += n;
            steal = p->pod.entry_count > p->pod.count;
            ram -= n;
            ret += n;
        }
    }
out:
    /* Liabilities never fall below assets. */
    if (p->pod.entry_count < p->pod.count)
        pod_cache_shrink(p, p->pod.entry_count);
    return ret;
}

uint64_t p2m_pod_decrease_reservation(struct domain *d, gfn_t gfn_, unsigned order)
{
    struct p2m *p = d->p2m;
    uint64_t gfn = gfn_x(gfn_), left = UINT64_C(1) << order, ret = 0;
    unsigned chunk = (unsigned)__builtin_ctzll(gfn | left);

    if (!domain_is_translated(d) || order > MAX_ORDER || gfn >= P2M_GFN_LIMIT ||
        left > P2M_GFN_LIMIT - gfn)
        return 0;
    lock_acquire(&p->lock);
    for (; left; gfn += UINT64_C(1) << chunk, left -= UINT64_C(1) << chunk)
        ret += decrease_chunk(p, gfn, chunk);
    lock_release(&p->lock);
    return ret;
}
