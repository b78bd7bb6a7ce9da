/*
 * XENMEM_*: reservations, claims and reservation queries (specs 1.10,
 * 2.3), following Xen 4.17's common/memory.c.
 *
 * increase_reservation, decrease_reservation and populate_physmap return
 * the number of extents done; an early error returns the start index
 * (cmd >> MEMOP_EXTENT_SHIFT), as Xen does.  Each extent takes and drops
 * the locks it needs, so a request of millions of extents never holds a
 * heap lock for its whole length.
 */
#include "hypercall_internal.h"

#define MEMOP_EXTENT_SHIFT 6
#define MEMOP_CMD_MASK ((1u << MEMOP_EXTENT_SHIFT) - 1)
/* The largest extent order per caller (memop-max-order): the control
 * domain may use 1 GiB extents, other domains 2 MiB. */
#define MEMOP_MAX_ORDER_CTL 18
#define MEMOP_MAX_ORDER_DOMU 9

struct memop_args {
    struct domain *d;
    uint64_t extent_list; /* guest handle of xen_pfn_t[]; 0 is NULL */
    uint64_t nr_extents;
    unsigned extent_order;
    unsigned memflags;
    bool pod;             /* XENMEMF_populate_on_demand */
    uint64_t nr_done;
};

static unsigned caller_max_order(const struct hc_caller *c)
{
    return c->privileged ? MEMOP_MAX_ORDER_CTL : MEMOP_MAX_ORDER_DOMU;
}

/* The part of the extent list still to do must be addressable. */
static bool extent_list_ok(const struct hc_caller *c, const struct memop_args *a)
{
    uint64_t left = a->nr_extents - a->nr_done;

    if (left > UINT64_MAX / sizeof(xen_pfn_t))
        return false;
    return guest_range_ok(c->mem, a->extent_list + a->nr_done * sizeof(xen_pfn_t),
                          left * sizeof(xen_pfn_t));
}

static int extent_read(const struct hc_caller *c, const struct memop_args *a, uint64_t i,
                       uint64_t *pfn)
{
    xen_pfn_t v;
    int rc = guest_copy_from(c->mem, &v, a->extent_list + i * sizeof(v), sizeof(v));

    *pfn = v;
    return rc;
}

static int extent_write(const struct hc_caller *c, const struct memop_args *a, uint64_t i,
                        uint64_t pfn)
{
    xen_pfn_t v = (xen_pfn_t)pfn;

    return guest_copy_to(c->mem, a->extent_list + i * sizeof(v), &v, sizeof(v));
}

/* Extents of one page go through the bulk path in batches; a batch that
 * comes back short is followed by the single-extent path for the extent
 * it stopped at, which succeeds or fails exactly as Xen's would. */
static bool can_batch(const struct memop_args *a, uint64_t i)
{
    return a->extent_order == 0 && !MEMF_get_bits(a->memflags) && a->nr_extents - i > 1;
}

static void increase_reservation(const struct hc_caller *c, struct memop_args *a)
{
    if (a->extent_list && !extent_list_ok(c, a))
        return;
    if (a->extent_order > caller_max_order(c))
        return;
    for (uint64_t i = a->nr_done; i < a->nr_extents; i++) {
        if (can_batch(a, i)) {
            mfn_t mfns[HEAP_BULK_MAX];
            unsigned n = (unsigned)min_u64(HEAP_BULK_MAX, a->nr_extents - i);
            unsigned got = domain_alloc_pages_bulk(a->d, n, a->memflags, mfns);

            for (unsigned k = 0; k < got; k++)
                if (!domain_is_translated(a->d) && a->extent_list &&
                    extent_write(c, a, i + k, mfn_x(mfns[k])))
                    return; /* the pages stay with the domain, as in Xen */
            a->nr_done = i + got;
            i += got;
            if (i == a->nr_extents)
                return;
        }
        mfn_t mfn;

        if (domain_alloc_pages(a->d, a->extent_order, a->memflags, &mfn))
            return;
        /* Tell a PV guest where its new page is. */
        if (!domain_is_translated(a->d) && a->extent_list &&
            extent_write(c, a, i, mfn_x(mfn)))
            return;
        a->nr_done = i + 1;
    }
}

static void decrease_reservation(const struct hc_caller *c, struct memop_args *a)
{
    if (!extent_list_ok(c, a) || a->extent_order > caller_max_order(c))
        return;
    for (uint64_t i = a->nr_done; i < a->nr_extents; i++) {
        uint64_t gmfn, done, pod_done = 0;

        if (extent_read(c, a, i, &gmfn))
            return;
        if (domain_is_translated(a->d))
            pod_done = p2m_pod_decrease_reservation(a->d, _gfn(gmfn), a->extent_order);
        if (pod_done == 0) {
            if (physmap_remove_range(a->d, _gfn(gmfn), a->extent_order, &done))
                return;
        } else {
            /* The pages PoD did not deal with; exactly pod_done of them
             * may be found gone already (7867181b2a). */
            for (uint64_t j = 0; j + pod_done < (UINT64_C(1) << a->extent_order); j++) {
                int rc = physmap_remove_page(a->d, _gfn(gmfn + j));

                if (rc == -ENOENT && pod_done)
                    pod_done--;
                else if (rc)
                    return;
            }
        }
        a->nr_done = i + 1;
    }
}

/* PoD extents (specs A4): entries only, no pages; any order up to
 * MAX_ORDER; never on oneself (XSA-30). */
static void populate_on_demand(const struct hc_caller *c, struct memop_args *a)
{
    if (a->extent_order > MAX_ORDER)
        return;
    for (uint64_t i = a->nr_done; i < a->nr_extents; i++) {
        uint64_t gpfn;

        if (c->domid == a->d->domid || extent_read(c, a, i, &gpfn))
            return;
        /* A PV domain has no p2m: Xen skips its PoD extents. */
        if (domain_is_translated(a->d) && p2m_pod_mark(a->d, _gfn(gpfn), a->extent_order) < 0)
            return;
        a->nr_done = i + 1;
    }
}

static void populate_physmap(const struct hc_caller *c, struct memop_args *a)
{
    if (!extent_list_ok(c, a))
        return;
    if (a->pod) {
        populate_on_demand(c, a);
        return;
    }
    if (a->extent_order > caller_max_order(c))
        return;
    for (uint64_t i = a->nr_done; i < a->nr_extents; i++) {
        uint64_t gpfn;
        mfn_t mfn;

        if (can_batch(a, i)) {
            xen_pfn_t gfns[HEAP_BULK_MAX];
            uint64_t g64[HEAP_BULK_MAX];
            mfn_t mfns[HEAP_BULK_MAX];
            unsigned n = (unsigned)min_u64(HEAP_BULK_MAX, a->nr_extents - i), got;

            if (guest_copy_from(c->mem, gfns, a->extent_list + i * sizeof(xen_pfn_t),
                                n * sizeof(xen_pfn_t)))
                return;
            for (unsigned k = 0; k < n; k++)
                g64[k] = gfns[k];
            got = physmap_populate_bulk(a->d, g64, n, a->memflags, mfns);
            for (unsigned k = 0; k < got; k++)
                if (!domain_is_translated(a->d) && extent_write(c, a, i + k, mfn_x(mfns[k])))
                    return;
            a->nr_done = i + got;
            i += got;
            if (i == a->nr_extents)
                return;
        }

        if (extent_read(c, a, i, &gpfn))
            return;
        if (physmap_populate(a->d, _gfn(gpfn), a->extent_order, a->memflags, &mfn))
            return;
        /* A PV guest learns the machine address of its new page. */
        if (!domain_is_translated(a->d) && extent_write(c, a, i, mfn_x(mfn)))
            return;
        a->nr_done = i + 1;
    }
}

/* Xen's construct_memop_from_reservation and propagate_node.  A vnode
 * request names one of the target domain's virtual nodes: any caller may
 * make it, exact or not, and it goes to that vnode's physical node. */
static int memflags_from_reservation(const struct hc_caller *c, struct domain *d,
                                     const struct xen_memory_reservation *r, unsigned *out)
{
    unsigned bits = XENMEMF_get_address_bits(r->mem_flags);
    unsigned node = XENMEMF_get_node(r->mem_flags);
    unsigned max_bits = fls64(c->hv->m->nr_frames - 1) + PAGE_SHIFT;
    unsigned memflags = 0;

    if (bits != 0 && bits < max_bits) {
        if (bits <= PAGE_SHIFT)
            return -EINVAL;
        memflags = MEMF_bits(bits);
    }
    if (r->mem_flags & XENMEMF_vnode) {
        int rc = 0;

        lock_acquire(&d->lock);
        if (d->nr_vnodes && node >= d->nr_vnodes) {
            rc = -EINVAL;
        } else if (d->nr_vnodes) {
            memflags |= MEMF_node(d->vnode_to_pnode[node]);
            if (r->mem_flags & XENMEMF_exact_node_request)
                memflags |= MEMF_exact_node;
        }
        lock_release(&d->lock);
        *out = memflags;
        return rc;
    }
    if (node != NUMA_NO_NODE) {
        if (c->privileged) {
            if (node >= MAX_NUMNODES)
                return -EINVAL;
            memflags |= MEMF_node(node);
            if (r->mem_flags & XENMEMF_exact_node_request)
                memflags |= MEMF_exact_node;
        } else if (r->mem_flags & XENMEMF_exact_node_request) {
            return -EINVAL;
        }
        /* Otherwise an unprivileged node hint is ignored. */
    }
    *out = memflags;
    return 0;
}

static long reservation_op(const struct hc_caller *c, unsigned op, uint64_t start_extent,
                           uint64_t arg)
{
    struct xen_memory_reservation r;
    struct memop_args a = { 0 };

    if (guest_copy_from(c->mem, &r, arg, sizeof(r)))
        return (long)start_extent;
    /* Too large to encode a continuation. */
    if (r.nr_extents > (UINT32_MAX >> MEMOP_EXTENT_SHIFT))
        return (long)start_extent;
    if (start_extent >= r.nr_extents)
        return (long)start_extent;
    if (hc_lookup_target(c, r.domid, &a.d))
        return (long)start_extent;
    if (memflags_from_reservation(c, a.d, &r, &a.memflags)) {
        domain_put(a.d);
        return (long)start_extent;
    }
    a.pod = op == XENMEM_populate_physmap && (r.mem_flags & XENMEMF_populate_on_demand);
    a.extent_list = HANDLE_ADDR(r.extent_start);
    a.nr_extents = r.nr_extents;
    a.extent_order = r.extent_order;
    a.nr_done = start_extent;

    switch (op) {
    case XENMEM_increase_reservation:
        increase_reservation(c, &a);
        break;
    case XENMEM_decrease_reservation:
        decrease_reservation(c, &a);
        break;
    default:
        populate_physmap(c, &a);
        break;
    }
    domain_put(a.d);
    return (long)a.nr_done;
}

/* XENMEM_claim_pages (specs 2.3): the checks in Xen's order; memvisor's
 * MV_XENMEMF_soft_claim makes it a soft claim. */
static long claim_pages(const struct hc_caller *c, uint64_t arg)
{
    struct xen_memory_reservation r;
    struct domain *d;
    long rc;

    if (guest_copy_from(c->mem, &r, arg, sizeof(r)))
        return -EFAULT;
    if (HANDLE_ADDR(r.extent_start) != 0 || r.extent_order != 0 ||
        (r.mem_flags & ~MV_XENMEMF_soft_claim) != 0)
        return -EINVAL;
    /* Looked up by id only: DOMID_SELF is not accepted, and an unknown
     * domain is -EINVAL, not -ESRCH. */
    d = r.domid < DOMID_FIRST_RESERVED ? domain_lookup(c->hv->domains, r.domid) : NULL;
    if (!d)
        return -EINVAL;
    if (!c->privileged)
        rc = -EPERM;
    else if (r.mem_flags & MV_XENMEMF_soft_claim)
        rc = domain_claim_pages_soft(d, r.nr_extents);
    else
        rc = domain_claim_pages(d, r.nr_extents);
    domain_put(d);
    return rc;
}

/* XENMEM_set_pod_target / XENMEM_get_pod_target (specs A6): both fill
 * in the figures on success. */
static long pod_target_op(const struct hc_caller *c, unsigned op, uint64_t arg)
{
    struct xen_pod_target t;
    struct pod_target out;
    struct domain *d;
    long rc = 0;

    if (guest_copy_from(c->mem, &t, arg, sizeof(t)))
        return -EFAULT;
    d = domain_lookup(c->hv->domains, t.domid == DOMID_SELF ? c->domid : t.domid);
    if (!d)
        return -ESRCH;
    if (!c->privileged)
        rc = -EPERM;
    else if (op == XENMEM_set_pod_target)
        rc = p2m_pod_set_target(d, t.target_pages, &out);
    else
        p2m_pod_get_target(d, &out);
    if (rc == 0) {
        t.tot_pages = out.tot_pages;
        t.pod_cache_pages = out.pod_cache_pages;
        t.pod_entries = out.pod_entries;
        if (guest_copy_to(c->mem, arg, &t, sizeof(t)))
            rc = -EFAULT;
    }
    domain_put(d);
    return rc;
}

static long reservation_query(const struct hc_caller *c, unsigned op, uint64_t arg)
{
    struct domain_info info;
    struct domain *d;
    domid_t domid;
    long rc;

    if (guest_copy_from(c->mem, &domid, arg, sizeof(domid)))
        return -EFAULT;
    rc = hc_lookup_target(c, domid, &d);
    if (rc)
        return rc;
    domain_get_info(d, &info);
    switch (op) {
    case XENMEM_current_reservation:
        rc = (long)info.tot_pages;
        break;
    case XENMEM_maximum_reservation:
        rc = (long)info.max_pages;
        break;
    default: /* XENMEM_maximum_gpfn */
        rc = domain_is_translated(d) ? (long)p2m_max_mapped_gfn(d->p2m) : 0;
        break;
    }
    domain_put(d);
    return rc;
}

long do_memory_op(const struct hc_caller *c, uint64_t cmd, uint64_t arg)
{
    unsigned op = (unsigned)(cmd & MEMOP_CMD_MASK);
    uint64_t start_extent = cmd >> MEMOP_EXTENT_SHIFT;

    switch (op) {
    case XENMEM_increase_reservation:
    case XENMEM_decrease_reservation:
    case XENMEM_populate_physmap:
        return reservation_op(c, op, start_extent, arg);
    }
    /* Only the reservation ops have continuations. */
    if (start_extent)
        return -EINVAL;
    switch (op) {
    case XENMEM_claim_pages:
        return claim_pages(c, arg);
    case XENMEM_current_reservation:
    case XENMEM_maximum_reservation:
    case XENMEM_maximum_gpfn:
        return reservation_query(c, op, arg);
    case XENMEM_maximum_ram_page:
        return (long)c->hv->m->nr_frames;
    case XENMEM_set_pod_target:
    case XENMEM_get_pod_target:
        return pod_target_op(c, op, arg);
    case XENMEM_get_sharing_freed_pages:
    case XENMEM_get_sharing_shared_pages:
        /* No page sharing: nothing saved, nothing shared. */
        return 0;
    default:
        return -ENOSYS;
    }
}
