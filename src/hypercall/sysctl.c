/*
 * XEN_SYSCTL_*: host information, the domain list, NUMA layout and page
 * offlining.  The control domain only.
 */
#include <string.h>

#include "hypercall_internal.h"

_Static_assert(OFFLINE_RESULT_OFFLINED == PG_OFFLINE_OFFLINED, "offline status bits match Xen's");
_Static_assert(OFFLINE_RESULT_PENDING == PG_OFFLINE_PENDING, "offline status bits match Xen's");
_Static_assert(OFFLINE_RESULT_FAILED == PG_OFFLINE_FAILED, "offline status bits match Xen's");
_Static_assert(OFFLINE_RESULT_XENPAGE == PG_OFFLINE_XENPAGE, "offline status bits match Xen's");
_Static_assert(OFFLINE_RESULT_ANONYMOUS == PG_OFFLINE_ANONYMOUS, "offline status bits match Xen's");
_Static_assert(OFFLINE_RESULT_OWNED == PG_OFFLINE_OWNED, "offline status bits match Xen's");
_Static_assert(OFFLINE_RESULT_BROKEN == PG_OFFLINE_BROKEN, "offline status bits match Xen's");
_Static_assert(OFFLINE_OWNER_SHIFT == PG_OFFLINE_OWNER_SHIFT, "offline status bits match Xen's");
_Static_assert(OFFLINE_STATUS_OFFLINED == PG_OFFLINE_STATUS_OFFLINED, "query bits match Xen's");
_Static_assert(OFFLINE_STATUS_ONLINE == PG_OFFLINE_STATUS_ONLINE, "query bits match Xen's");
_Static_assert(OFFLINE_STATUS_OFFLINE_PENDING == PG_OFFLINE_STATUS_OFFLINE_PENDING,
               "query bits match Xen's");
_Static_assert(OFFLINE_STATUS_BROKEN == PG_OFFLINE_STATUS_BROKEN, "query bits match Xen's");

static void physinfo(const struct hc_caller *c, struct xen_sysctl_physinfo *pi)
{
    struct hv *hv = c->hv;
    struct heap_totals t;

    /* free and outstanding in one locked read (specs 2.6, I13). */
    heap_get_totals(hv->heap, &t);
    memset(pi, 0, sizeof(*pi));
    pi->threads_per_core = 1;
    pi->cores_per_socket = hv->nr_cpus;
    pi->nr_cpus = hv->nr_cpus;
    pi->max_cpu_id = hv->nr_cpus - 1;
    pi->nr_nodes = heap_nr_nodes(hv->heap);
    pi->max_node_id = pi->nr_nodes - 1;
    pi->cpu_khz = hv->cpu_khz;
    pi->capabilities = XEN_SYSCTL_PHYSCAP_hvm | XEN_SYSCTL_PHYSCAP_pv | XEN_SYSCTL_PHYSCAP_hap |
                       XEN_SYSCTL_PHYSCAP_shadow;
    pi->total_pages = t.total_pages;
    pi->free_pages = t.free_pages;
    /* Xen always reports 0 here; memvisor reports the dirty free pages
     * its scrubbers have yet to clean (they are inside free_pages). */
    pi->scrub_pages = t.scrub_pages;
    pi->outstanding_pages = t.outstanding_pages;
    pi->max_mfn = hv->m->nr_frames - 1;
}

struct infolist_walk {
    const struct hc_caller *c;
    uint64_t buffer;
    uint32_t max;
    uint32_t done;
    long rc;
};

static int infolist_one(void *arg, struct domain *d)
{
    struct infolist_walk *w = arg;
    struct xen_domctl_getdomaininfo info;

    if (w->done == w->max)
        return 1;
    hc_fill_domaininfo(d, &info);
    if (guest_copy_to(w->c->mem, w->buffer + (uint64_t)w->done * sizeof(info), &info,
                      sizeof(info))) {
        w->rc = -EFAULT;
        return 1;
    }
    w->done++;
    return 0;
}

static long getdomaininfolist(const struct hc_caller *c, struct xen_sysctl_getdomaininfolist *l)
{
    struct infolist_walk w = { c, HANDLE_ADDR(l->buffer), l->max_domains, 0, 0 };

    (void)domain_for_each(c->hv->domains, l->first_domain, infolist_one, &w);
    if (w.rc)
        return w.rc;
    l->num_domains = w.done;
    return 0;
}

/* Xen's numainfo: per-node size and free memory, and distances. */
static long numainfo(const struct hc_caller *c, struct xen_sysctl_numainfo *ni, bool *copyback)
{
    unsigned nr_nodes = heap_nr_nodes(c->hv->heap), n = nr_nodes;
    uint64_t meminfo = HANDLE_ADDR(ni->meminfo), distance = HANDLE_ADDR(ni->distance);

    if (meminfo || distance) {
        if (n > ni->num_nodes)
            n = ni->num_nodes;
        for (unsigned i = 0; i < n; i++) {
            if (meminfo) {
                struct xen_sysctl_meminfo mi;
                uint64_t size, free_pages;

                heap_get_node(c->hv->heap, i, &size, &free_pages, NULL);
                mi.memsize = size << PAGE_SHIFT;
                mi.memfree = free_pages << PAGE_SHIFT;
                if (guest_copy_to(c->mem, meminfo + i * sizeof(mi), &mi, sizeof(mi)))
                    return -EFAULT;
            }
            if (distance) {
                uint32_t row[MAX_NUMNODES];
                for (unsigned j = 0; j < n; j++)
                    row[j] = machine_node_distance(i, j);
                if (guest_copy_to(c->mem, distance + (uint64_t)i * n * sizeof(row[0]), row,
                                  n * sizeof(row[0])))
                    return -EFAULT;
            }
        }
    }
    if (ni->num_nodes != n) {
        ni->num_nodes = n;
        *copyback = true;
    }
    return 0;
}

static long page_offline_op(const struct hc_caller *c, struct xen_sysctl_page_offline_op *po)
{
    uint64_t status = HANDLE_ADDR(po->status);
    uint64_t count;

    if (po->end < po->start || po->end >= c->hv->m->nr_frames)
        return -EINVAL;
    if (po->cmd != sysctl_page_offline && po->cmd != sysctl_page_online &&
        po->cmd != sysctl_query_page_offline)
        return -EINVAL;
    count = (uint64_t)po->end - po->start + 1;
    /* Check the status array before changing anything. */
    if (!guest_range_ok(c->mem, status, count * sizeof(uint32_t)))
        return -EFAULT;
    for (uint64_t i = 0; i < count; i++) {
        mfn_t mfn = _mfn(po->start + i);
        uint32_t st;
        int rc;

        switch (po->cmd) {
        case sysctl_page_offline:
            rc = heap_offline_page(c->hv->heap, mfn, false, &st);
            break;
        case sysctl_page_online:
            rc = heap_online_page(c->hv->heap, mfn, &st);
            break;
        default:
            rc = heap_query_page_offline(c->hv->heap, mfn, &st);
            break;
        }
        if (guest_copy_to(c->mem, status + i * sizeof(st), &st, sizeof(st)))
            return -EFAULT;
        if (rc)
            return rc;
    }
    return 0;
}

long do_sysctl(const struct hc_caller *c, uint64_t arg)
{
    struct xen_sysctl op;
    bool copyback = false;
    long rc;

    if (guest_copy_from(c->mem, &op, arg, sizeof(op)))
        return -EFAULT;
    if (op.interface_version != XEN_SYSCTL_INTERFACE_VERSION)
        return -EACCES;
    if (!c->privileged)
        return -EPERM;

    switch (op.cmd) {
    case XEN_SYSCTL_physinfo:
        physinfo(c, &op.u.physinfo);
        rc = 0;
        copyback = true;
        break;
    case XEN_SYSCTL_getdomaininfolist:
        rc = getdomaininfolist(c, &op.u.getdomaininfolist);
        copyback = rc == 0;
        break;
    case XEN_SYSCTL_numainfo:
        rc = numainfo(c, &op.u.numainfo, &copyback);
        copyback &= rc == 0;
        break;
    case XEN_SYSCTL_page_offline_op:
        rc = page_offline_op(c, &op.u.page_offline);
        break;
    case MV_SYSCTL_tmem_op: {
        struct mv_sysctl_tmem_op t;

        memcpy(&t, &op.u, sizeof(t));
        rc = sysctl_tmem_op(c, &t);
        break;
    }
    default:
        rc = -ENOSYS;
        break;
    }
    if (copyback && guest_copy_to(c->mem, arg, &op, sizeof(op)))
        rc = -EFAULT;
    return rc;
}
