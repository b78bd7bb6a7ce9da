/*
 * Populate-on-demand (specs A3 to A7, A11): the cache, PoD entries, the
 * target, demand populate and teardown.  Reclaim is in pod_reclaim.c.
 *
 * The cache holds pages the domain owns (counted in its tot_pages) that
 * no gfn maps: 2 MiB chunks and single pages, each list linked through
 * frame.pod_next.  Every cached page is zero and has only its allocation
 * reference.  Each demand populate takes the cache's pages at the order
 * of the PoD entry when it can, so superpages stay whole.
 */
#include <string.h>

#include "memvisor/check.h"
#include "memvisor/log.h"
#include "p2m_internal.h"

void pod_init(struct pod *pod)
{
    memset(pod, 0, sizeof(*pod));
    for (unsigned i = 0; i < POD_MRP_ENTRIES; i++)
        pod->mrp[i] = INVALID_GFN_RAW;
}

static void list_push(struct p2m *p, uint32_t *head, uint64_t mfn)
{
    p2m_frame(p, mfn)->pod_next = *head;
    *head = (uint32_t)mfn;
}

static uint64_t list_pop(struct p2m *p, uint32_t *head)
{
    uint64_t mfn = *head;

    *head = p2m_frame(p, mfn)->pod_next;
    p2m_frame(p, mfn)->pod_next = 0;
    return mfn;
}

void pod_cache_add(struct p2m *p, uint64_t mfn, unsigned order, bool zeroed)
{
    uint64_t nr = UINT64_C(1) << order;

    /* PoD promises zero-filled memory; pages from the heap and from the
     * zero checks are zero already, stolen ones are not. */
    if (!zeroed)
        machine_clear_frames(p->m, _mfn(mfn), nr);
    /* Any order: 2 MiB pieces as chunks, smaller ones as singles
     * (Xen's XSA-388 fix, 8ec13f68e0). */
    if (order >= SUPERPAGE_ORDER) {
        for (uint64_t i = 0; i < nr; i += SUPERPAGE_PAGES, p->pod.nr_super++)
            list_push(p, &p->pod.super, mfn + i);
    } else {
        for (uint64_t i = 0; i < nr; i++, p->pod.nr_single++)
            list_push(p, &p->pod.single, mfn + i);
    }
    p->pod.count += nr;
}

bool pod_cache_get(struct p2m *p, unsigned order, uint64_t *mfn)
{
    assert(order == 0 || order == SUPERPAGE_ORDER);
    if (order == SUPERPAGE_ORDER) {
        if (!p->pod.super)
            return false;
        *mfn = list_pop(p, &p->pod.super);
        p->pod.nr_super--;
    } else {
        if (!p->pod.single) {
            uint64_t chunk;

            if (!p->pod.super)
                return false;
            /* Break a chunk into singles; count does not change. */
            chunk = list_pop(p, &p->pod.super);
            p->pod.nr_super--;
            for (uint64_t i = SUPERPAGE_PAGES; i-- > 0; p->pod.nr_single++)
                list_push(p, &p->pod.single, chunk + i);
        }
        *mfn = list_pop(p, &p->pod.single);
        p->pod.nr_single--;
    }
    p->pod.count -= UINT64_C(1) << order;
    return true;
}

void pod_cache_shrink(struct p2m *p, uint64_t target)
{
    while (p->pod.count > target) {
        unsigned order = p->pod.count - target > SUPERPAGE_PAGES && p->pod.super
                       ? SUPERPAGE_ORDER : 0;
        uint64_t mfn;

        if (!pod_cache_get(p, order, &mfn))
            break;
        /* The allocation reference goes, and with it the pages. */
        if (domain_release_pages(p->d, _mfn(mfn), order))
            assert(!"a PoD cache page the domain does not own");
    }
}

/* Grows the cache to target pages from the heap (p2m_pod_set_cache_target
 * upwards): 2 MiB at a time while that much is wanted, else 4 KiB. */
static int cache_grow(struct p2m *p, uint64_t target)
{
    while (p->pod.count < target) {
        unsigned order = target - p->pod.count >= SUPERPAGE_PAGES ? SUPERPAGE_ORDER : 0;
        mfn_t mfn;
        int rc = domain_alloc_pages(p->d, order, 0, &mfn);

        if (rc && order) {
            order = 0;
            rc = domain_alloc_pages(p->d, order, 0, &mfn);
        }
        if (rc)
            return -ENOMEM; /* "Unable to allocate page for PoD cache" */
        /* The heap hands out scrubbed pages. */
        pod_cache_add(p, mfn_x(mfn), order, true);
    }
    return 0;
}

void pod_empty_cache(struct p2m *p)
{
    /* The pages stay with the dying domain, which relinquishes them. */
    p->pod.super = p->pod.single = 0;
    p->pod.nr_super = p->pod.nr_single = 0;
    p->pod.count = 0;
}

int p2m_pod_mark(struct domain *d, gfn_t gfn_, unsigned order)
{
    struct p2m *p = d->p2m;
    uint64_t gfn = gfn_x(gfn_), left = UINT64_C(1) << order;
    /* Naturally aligned chunks (Xen's XSA-388 fix, 182c737b9b). */
    unsigned chunk = (unsigned)__builtin_ctzll(gfn | left);
    int rc = 0;

    if (!domain_is_translated(d) || order > MAX_ORDER)
        return -EINVAL;
    if (gfn >= P2M_GFN_LIMIT || left > P2M_GFN_LIMIT - gfn)
        return -EINVAL;
    lock_acquire(&p->lock);
    for (; left && !rc; gfn += UINT64_C(1) << chunk, left -= UINT64_C(1) << chunk) {
        uint64_t n = UINT64_C(1) << chunk;

        if (p->dead || domain_is_dying(d)) {
            rc = -EINVAL;
            break;
        }
        /* Only holes and PoD entries may become PoD. */
        for (uint64_t i = 0; i < n && !rc;) {
            struct p2m_entry e;

            p2m_lookup_locked(p, _gfn(gfn + i), &e);
            if (e.type != P2M_INVALID && e.type != P2M_POD)
                rc = -EBUSY;
            i = ((((gfn + i) >> e.order) + 1) << e.order) - gfn; /* past the entry */
        }
        /* The p2m counts the entries it replaces and adds (entry_count
         * += 2^chunk - PoD entries there), under the same lock. */
        if (!rc)
            rc = p2m_set_range_locked(p, _gfn(gfn), INVALID_MFN, chunk, P2M_POD);
    }
    lock_release(&p->lock);
    return rc;
}

static void fill_target(struct p2m *p, struct pod_target *out)
{
    if (!out)
        return;
    out->tot_pages = domain_tot_pages(p->d);
    out->pod_cache_pages = p->pod.count;
    out->pod_entries = p->pod.entry_count;
}

int p2m_pod_set_target(struct domain *d, uint64_t target, struct pod_target *out)
{
    struct p2m *p = d->p2m;
    uint64_t tot, populated, pod_target;
    struct domain_info info;
    int rc = 0;

    if (!domain_is_translated(d))
        return -EINVAL;
    domain_get_info(d, &info);
    lock_acquire(&p->lock);
    if (target > info.max_pages) {
        rc = -EINVAL;
        goto out;
    }
    tot = domain_tot_pages(d);
    populated = tot - p->pod.count;
    /* No PoD entries left: P == B, nothing to do.  With nothing populated
     * the target may be set before the physmap exists (085c366982). */
    if (populated > 0 && p->pod.entry_count == 0)
        goto out;
    if (domain_is_dying(d) || p->dead)
        goto out;
    /* The cache never shrinks because the target went down: the guest
     * could fault before its balloon driver catches up. */
    if (target < tot)
        goto out;
    pod_target = target - populated;
    /* Never cache more than the entries can take (B < T'). */
    if (populated > 0 && pod_target > p->pod.entry_count)
        pod_target = p->pod.entry_count;
    /* The cache can outnumber the entries when populate_physmap replaced
     * some (Xen's p2m_add_page; Xen asserts against it, then shrinks). */
    if (pod_target < p->pod.count)
        pod_cache_shrink(p, pod_target);
    else
        rc = cache_grow(p, pod_target);
out:
    fill_target(p, out);
    lock_release(&p->lock);
    return rc;
}

void p2m_pod_get_target(struct domain *d, struct pod_target *out)
{
    lock_acquire(&d->p2m->lock);
    fill_target(d->p2m, out);
    lock_release(&d->p2m->lock);
}

void p2m_pod_get_stats(struct domain *d, struct pod_stats *out)
{
    struct domain_info info;

    domain_get_info(d, &info);
    lock_acquire(&d->p2m->lock);
    *out = d->p2m->pod.stats;
    lock_release(&d->p2m->lock);
    out->max_tot_pages = info.peak_pages;
}

static void out_of_memory(struct p2m *p)
{
    domain_crash(p->d, "d%u out of PoD memory! (tot=%llu ents=%llu cache=%llu)", p->d->domid,
                 (unsigned long long)domain_tot_pages(p->d),
                 (unsigned long long)p->pod.entry_count, (unsigned long long)p->pod.count);
}

bool pod_demand_populate(struct p2m *p, uint64_t gfn, unsigned order)
{
    uint64_t base = gfn & ~((UINT64_C(1) << order) - 1), mfn;

    if (p->dead || domain_is_dying(p->d) || domain_is_crashed(p->d))
        return false;
    if (order == GIGAPAGE_ORDER) {
        /* No 1 GiB cache: shatter into 2 MiB PoD entries and retry.  A
         * failed shatter is a failure, not a retry (XSA-246). */
        p->pod.stats.shatters++;
        return p2m_set_entry_locked(p, base, 0, SUPERPAGE_ORDER, P2M_POD) == 0;
    }
    /* Reclaim only when the entries outnumber the cache (556c69f4ef),
     * boundedly (XSA-150); sweep only when the cache is empty. */
    if (p->pod.entry_count > p->pod.count)
        pod_eager_reclaim(p);
    if (p->pod.count == 0)
        pod_emergency_sweep(p);
    if (p->pod.count == 0) {
        out_of_memory(p);
        return false;
    }
    p->pod.max_guest = max_u64(p->pod.max_guest, gfn);
    if (!pod_cache_get(p, order, &mfn)) {
        /* No chunk for a 2 MiB entry: splinter it into 4 KiB ones. */
        p->pod.stats.splinters++;
        return p2m_set_entry_locked(p, base, 0, 0, P2M_POD) == 0;
    }
    if (p2m_set_entry_locked(p, base, mfn, order, P2M_RAM_RW)) {
        pod_cache_add(p, mfn, order, true);
        return false;
    }
    /* entry_count went down with the entry; the M2P was set with it. */
    p->pod.mrp[p->pod.mrp_idx++ % POD_MRP_ENTRIES] =
        base | (order == SUPERPAGE_ORDER ? POD_LAST_SUPERPAGE : 0);
    if (order == SUPERPAGE_ORDER)
        p->pod.stats.populated_2m++;
    else
        p->pod.stats.populated_4k++;
    return true;
}

/* Checks the cache's pages: owned, unmapped, only the allocation
 * reference, zero. */
static uint64_t check_cached(struct p2m *p, struct mv_checker *c, uint32_t head,
                             unsigned order, uint64_t expect)
{
    uint64_t n = 0, pages = UINT64_C(1) << order;

    for (uint64_t mfn = head; mfn; mfn = p2m_frame(p, mfn)->pod_next) {
        if (++n > expect) {
            mv_check_fail(c, "d%u PoD cache: more than %llu on a list", p->d->domid,
                          (unsigned long long)expect);
            break;
        }
        if (!is_aligned_u64(mfn, order))
            mv_check_fail(c, "d%u PoD chunk %#llx misaligned", p->d->domid,
                          (unsigned long long)mfn);
        for (uint64_t i = 0; i < pages; i++) {
            struct frame *f = p2m_frame(p, mfn + i);

            if (frame_owner(f) != p->d->domid ||
                (frame_owner_flags(f) & (FRAME_ALLOCATED | FRAME_EXTRA)) != FRAME_ALLOCATED ||
                __atomic_load_n(&f->count, __ATOMIC_ACQUIRE) != 1)
                mv_check_fail(c, "d%u PoD cache page %#llx: not the domain's alone",
                              p->d->domid, (unsigned long long)(mfn + i));
            if (machine_m2p(p->m, _mfn(mfn + i)) != INVALID_GFN_RAW)
                mv_check_fail(c, "d%u PoD cache page %#llx is mapped", p->d->domid,
                              (unsigned long long)(mfn + i));
        }
        if (!machine_frames_are_zero(p->m, _mfn(mfn), pages))
            mv_check_fail(c, "d%u PoD cache page %#llx is not zero", p->d->domid,
                          (unsigned long long)mfn);
    }
    if (n != expect)
        mv_check_fail(c, "d%u PoD cache: %llu on a list, counted %llu", p->d->domid,
                      (unsigned long long)n, (unsigned long long)expect);
    return n;
}

unsigned pod_check_locked(struct p2m *p, struct mv_checker *c)
{
    unsigned before = c->violations;

    if (p->pod.count != p->pod.nr_super * SUPERPAGE_PAGES + p->pod.nr_single)
        mv_check_fail(c, "d%u PoD count %llu != 512 * %llu + %llu", p->d->domid,
                      (unsigned long long)p->pod.count, (unsigned long long)p->pod.nr_super,
                      (unsigned long long)p->pod.nr_single);
    check_cached(p, c, p->pod.super, SUPERPAGE_ORDER, p->pod.nr_super);
    check_cached(p, c, p->pod.single, 0, p->pod.nr_single);
    if (p->dead && (p->pod.count || p->pod.entry_count))
        mv_check_fail(c, "d%u PoD state after teardown", p->d->domid);
    return c->violations - before;
}
