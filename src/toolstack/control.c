/*
 * The control library: libxenctrl's calls, encoded in Xen 4.17's structures
 * and sent through the hypercall ABI from shared buffers.
 */
#include <stdint.h>
#include <stdio.h>

#include <xen/xen.h>
#include <xen/domctl.h>
#include <xen/memory.h>
#include <xen/sysctl.h>
#include <xen/version.h>

#include <string.h>

#include "memvisor/client.h"
#include "memvisor/toolstack.h"

/* Extents per reservation call: larger requests are sent in pieces. */
#define TC_EXTENT_CHUNK 4096

/*
 * How calls reach the hypervisor: in process (an hc_session) or through
 * memvisord's socket (an mv_client).  Buffers come from the transport, so
 * the guest handles in the arguments are valid on the other side.
 */
struct tc_transport {
    void *(*alloc)(void *ctx, size_t bytes);
    long (*call)(void *ctx, unsigned op, const uint64_t args[6]);
    void (*close)(void *ctx);
    void *ctx;
};

struct tc_handle {
    struct tc_transport tr;
    struct xen_domctl *domctl;
    struct xen_sysctl *sysctl;
    struct xen_memory_reservation *resv;
    xen_pfn_t *extents;
    struct mv_memory_claim *claims;
    struct xen_domctl_getdomaininfo *infos;
    struct xen_sysctl_meminfo *meminfo;
    char *scratch; /* TC_SCRATCH bytes for small results */
};

#define TC_SCRATCH 16384

#define TC_MAX_INFOS 256

static void *session_alloc(void *ctx, size_t bytes) { return hc_buffer_alloc(ctx, bytes); }
static long session_call(void *ctx, unsigned op, const uint64_t args[6])
{
    return mv_hypercall(hc_session_caller(ctx), op, args);
}
static void session_close(void *ctx) { hc_session_destroy(ctx); }

static void *client_alloc(void *ctx, size_t bytes)
{
    return mv_client_alloc_pages(ctx, (bytes + PAGE_SIZE - 1) / PAGE_SIZE);
}
static long client_call(void *ctx, unsigned op, const uint64_t args[6])
{
    return mv_client_call(ctx, op, args);
}
static void client_close(void *ctx) { mv_client_close(ctx); }

/* Takes the buffers every call uses; the transport owns their memory. */
static int tc_setup(struct tc_handle *t)
{
    t->domctl = t->tr.alloc(t->tr.ctx, sizeof(*t->domctl));
    t->sysctl = t->tr.alloc(t->tr.ctx, sizeof(*t->sysctl));
    t->resv = t->tr.alloc(t->tr.ctx, sizeof(*t->resv));
    t->extents = t->tr.alloc(t->tr.ctx, TC_EXTENT_CHUNK * sizeof(xen_pfn_t));
    t->claims = t->tr.alloc(t->tr.ctx, MV_CLAIM_MAX_ENTRIES * sizeof(*t->claims));
    t->infos = t->tr.alloc(t->tr.ctx, TC_MAX_INFOS * sizeof(*t->infos));
    t->meminfo = t->tr.alloc(t->tr.ctx, MAX_NUMNODES * sizeof(*t->meminfo));
    t->scratch = t->tr.alloc(t->tr.ctx, TC_SCRATCH);
    return t->domctl && t->sysctl && t->resv && t->extents && t->claims && t->infos &&
           t->meminfo && t->scratch ? 0 : -ENOMEM;
}

int tc_open(struct hv *hv, domid_t self, bool privileged, struct tc_handle **out)
{
    struct tc_handle *t = calloc(1, sizeof(*t));
    struct hc_session *s;
    int rc;

    if (!t)
        return -ENOMEM;
    rc = hc_session_create(hv, self, privileged, &s);
    if (rc) {
        free(t);
        return rc;
    }
    t->tr = (struct tc_transport){ session_alloc, session_call, session_close, s };
    rc = tc_setup(t);
    if (rc) {
        tc_close(t);
        return rc;
    }
    *out = t;
    return 0;
}

int tc_connect(const char *socket_path, struct tc_handle **out)
{
    struct tc_handle *t = calloc(1, sizeof(*t));
    struct mv_client *c;
    int rc;

    if (!t)
        return -ENOMEM;
    rc = mv_client_connect(socket_path, &c);
    if (rc) {
        free(t);
        return rc;
    }
    t->tr = (struct tc_transport){ client_alloc, client_call, client_close, c };
    rc = tc_setup(t);
    if (rc) {
        tc_close(t);
        return rc;
    }
    *out = t;
    return 0;
}

void tc_close(struct tc_handle *t)
{
    if (!t)
        return;
    t->tr.close(t->tr.ctx);
    free(t);
}

static long tc_hypercall(struct tc_handle *t, unsigned op, uint64_t a0, uint64_t a1)
{
    uint64_t args[6] = { a0, a1, 0, 0, 0, 0 };

    return t->tr.call(t->tr.ctx, op, args);
}

static long tc_domctl(struct tc_handle *t, uint32_t cmd, domid_t domid)
{
    t->domctl->cmd = cmd;
    t->domctl->interface_version = XEN_DOMCTL_INTERFACE_VERSION;
    t->domctl->domain = domid;
    return tc_hypercall(t, HC_DOMCTL, (uint64_t)(uintptr_t)t->domctl, 0);
}

static long tc_sysctl(struct tc_handle *t, uint32_t cmd)
{
    t->sysctl->cmd = cmd;
    t->sysctl->interface_version = XEN_SYSCTL_INTERFACE_VERSION;
    return tc_hypercall(t, HC_SYSCTL, (uint64_t)(uintptr_t)t->sysctl, 0);
}

int tc_physinfo(struct tc_handle *t, struct tc_physinfo *out)
{
    long rc;

    memset(t->sysctl, 0, sizeof(*t->sysctl));
    rc = tc_sysctl(t, XEN_SYSCTL_physinfo);
    if (rc)
        return (int)rc;
    out->total_pages = t->sysctl->u.physinfo.total_pages;
    out->free_pages = t->sysctl->u.physinfo.free_pages;
    out->outstanding_pages = t->sysctl->u.physinfo.outstanding_pages;
    out->scrub_pages = t->sysctl->u.physinfo.scrub_pages;
    out->nr_nodes = t->sysctl->u.physinfo.nr_nodes;
    out->nr_cpus = t->sysctl->u.physinfo.nr_cpus;
    out->cpu_khz = t->sysctl->u.physinfo.cpu_khz;
    return 0;
}

long tc_numainfo(struct tc_handle *t, struct tc_node_memory *out, unsigned max)
{
    struct xen_sysctl_numainfo *ni = &t->sysctl->u.numainfo;
    long rc;

    memset(t->sysctl, 0, sizeof(*t->sysctl));
    ni->num_nodes = max < MAX_NUMNODES ? max : MAX_NUMNODES;
    set_xen_guest_handle(ni->meminfo, t->meminfo);
    rc = tc_sysctl(t, XEN_SYSCTL_numainfo);
    if (rc)
        return rc;
    for (unsigned i = 0; i < ni->num_nodes; i++) {
        out[i].size_bytes = t->meminfo[i].memsize;
        out[i].free_bytes = t->meminfo[i].memfree;
    }
    return ni->num_nodes;
}

int tc_xen_version(struct tc_handle *t, unsigned *major, unsigned *minor, char extra[16])
{
    long v = tc_hypercall(t, HC_XEN_VERSION, XENVER_version, 0);
    long rc;

    if (v < 0)
        return (int)v;
    *major = (unsigned)(v >> 16);
    *minor = (unsigned)(v & 0xffff);
    rc = tc_hypercall(t, HC_XEN_VERSION, XENVER_extraversion, (uint64_t)(uintptr_t)t->scratch);
    if (rc)
        return (int)rc;
    memcpy(extra, t->scratch, 16);
    extra[15] = '\0';
    return 0;
}

int tc_domain_create(struct tc_handle *t, domid_t *domid, bool hvm, unsigned max_vcpus)
{
    return tc_domain_create_uuid(t, domid, hvm, max_vcpus, NULL);
}

int tc_domain_create_uuid(struct tc_handle *t, domid_t *domid, bool hvm, unsigned max_vcpus,
                          const uint8_t uuid[16])
{
    struct xen_domctl_createdomain *cd = &t->domctl->u.createdomain;
    long rc;

    memset(t->domctl, 0, sizeof(*t->domctl));
    if (uuid)
        memcpy(cd->handle, uuid, sizeof(cd->handle));
    cd->flags = hvm ? (XEN_DOMCTL_CDF_hvm | XEN_DOMCTL_CDF_hap) : 0;
    cd->max_vcpus = max_vcpus;
    cd->max_grant_frames = -1;
    cd->max_maptrack_frames = -1;
    cd->grant_opts = XEN_DOMCTL_GRANT_version(1);
    cd->arch.emulation_flags = hvm ? XEN_X86_EMU_LAPIC : 0;
    rc = tc_domctl(t, XEN_DOMCTL_createdomain, *domid);
    if (rc)
        return (int)rc;
    *domid = t->domctl->domain;
    return 0;
}

int tc_domain_destroy(struct tc_handle *t, domid_t domid)
{
    memset(t->domctl, 0, sizeof(*t->domctl));
    return (int)tc_domctl(t, XEN_DOMCTL_destroydomain, domid);
}

int tc_domain_pause(struct tc_handle *t, domid_t domid, bool pause)
{
    memset(t->domctl, 0, sizeof(*t->domctl));
    return (int)tc_domctl(t, pause ? XEN_DOMCTL_pausedomain : XEN_DOMCTL_unpausedomain, domid);
}

int tc_domain_setvnuma(struct tc_handle *t, domid_t domid, unsigned nr_vnodes,
                       const unsigned *vnode_to_pnode, const uint64_t *vnode_end_gfn,
                       unsigned nr_vcpus)
{
    struct xen_domctl_vnuma *v = &t->domctl->u.vnuma;
    unsigned *to_pnode = (unsigned *)t->scratch, *cpu = to_pnode + MAX_NUMNODES;
    xen_vmemrange_t *ranges = (xen_vmemrange_t *)(cpu + 64);
    uint64_t start = 0;

    if (!nr_vnodes || nr_vnodes > 16 || nr_vcpus > 64)
        return -EINVAL;
    memset(t->domctl, 0, sizeof(*t->domctl));
    for (unsigned i = 0; i < nr_vnodes; i++) {
        to_pnode[i] = vnode_to_pnode[i];
        ranges[i] = (xen_vmemrange_t){ start << PAGE_SHIFT, vnode_end_gfn[i] << PAGE_SHIFT, 0, i };
        start = vnode_end_gfn[i];
    }
    for (unsigned i = 0; i < nr_vcpus; i++)
        cpu[i] = i % nr_vnodes;
    v->nr_vnodes = nr_vnodes;
    v->nr_vmemranges = nr_vnodes;
    v->nr_vcpus = nr_vcpus;
    v->vnode_to_pnode.p = to_pnode;
    v->vcpu_to_vnode.p = cpu;
    v->vmemrange.p = ranges;
    return (int)tc_domctl(t, XEN_DOMCTL_setvnumainfo, domid);
}

int tc_domain_setmaxmem(struct tc_handle *t, domid_t domid, uint64_t max_kib)
{
    memset(t->domctl, 0, sizeof(*t->domctl));
    t->domctl->u.max_mem.max_memkb = max_kib;
    return (int)tc_domctl(t, XEN_DOMCTL_max_mem, domid);
}

static long tc_memory_op(struct tc_handle *t, unsigned cmd)
{
    return tc_hypercall(t, HC_MEMORY_OP, cmd, (uint64_t)(uintptr_t)t->resv);
}

int tc_domain_set_pod_target(struct tc_handle *t, domid_t domid, uint64_t target_pages)
{
    struct xen_pod_target *pt = (struct xen_pod_target *)t->scratch;

    memset(pt, 0, sizeof(*pt));
    pt->target_pages = target_pages;
    pt->domid = domid;
    return (int)tc_hypercall(t, HC_MEMORY_OP, XENMEM_set_pod_target, (uint64_t)(uintptr_t)pt);
}

int tc_domain_get_pod_target(struct tc_handle *t, domid_t domid, uint64_t *tot_pages,
                             uint64_t *cache_pages, uint64_t *entries)
{
    struct xen_pod_target *pt = (struct xen_pod_target *)t->scratch;
    long rc;

    memset(pt, 0, sizeof(*pt));
    pt->domid = domid;
    rc = tc_hypercall(t, HC_MEMORY_OP, XENMEM_get_pod_target, (uint64_t)(uintptr_t)pt);
    if (rc)
        return (int)rc;
    *tot_pages = pt->tot_pages;
    *cache_pages = pt->pod_cache_pages;
    *entries = pt->pod_entries;
    return 0;
}

static int claim_pages(struct tc_handle *t, domid_t domid, uint64_t nr_pages, unsigned flags)
{
    memset(t->resv, 0, sizeof(*t->resv));
    t->resv->nr_extents = nr_pages;
    t->resv->mem_flags = flags;
    t->resv->domid = domid;
    return (int)tc_memory_op(t, XENMEM_claim_pages);
}

int tc_domain_claim_pages(struct tc_handle *t, domid_t domid, uint64_t nr_pages)
{
    return claim_pages(t, domid, nr_pages, 0);
}

int tc_domain_claim_pages_soft(struct tc_handle *t, domid_t domid, uint64_t nr_pages)
{
    return claim_pages(t, domid, nr_pages, MV_XENMEMF_soft_claim);
}

int tc_domain_claim_set(struct tc_handle *t, domid_t domid, const struct claim_entry *set,
                        unsigned nr)
{
    struct mv_domctl_claim_memory req = { 0 };

    if (nr > MV_CLAIM_MAX_ENTRIES)
        return -E2BIG;
    for (unsigned i = 0; i < nr; i++) {
        t->claims[i].pages = set[i].pages;
        t->claims[i].cmd = 0;
        t->claims[i].target = set[i].target == CLAIM_TARGET_GLOBAL ? MV_CLAIM_TARGET_GLOBAL
                                                                   : set[i].target;
    }
    memset(t->domctl, 0, sizeof(*t->domctl));
    req.claims = (uint64_t)(uintptr_t)t->claims;
    req.nr_claims = nr;
    memcpy(&t->domctl->u, &req, sizeof(req));
    return (int)tc_domctl(t, MV_DOMCTL_claim_memory, domid);
}

static void dominfo_from_xen(const struct xen_domctl_getdomaininfo *x, struct tc_dominfo *out)
{
    out->domid = x->domain;
    out->dying = x->flags & XEN_DOMINF_dying;
    out->hvm = x->flags & XEN_DOMINF_hvm_guest;
    out->paused = x->flags & XEN_DOMINF_paused;
    memcpy(out->uuid, x->handle, sizeof(out->uuid));
    out->tot_pages = x->tot_pages;
    out->max_pages = x->max_pages;
    out->outstanding_pages = x->outstanding_pages;
    out->max_vcpus = x->max_vcpu_id + 1;
}

int tc_domain_getinfo(struct tc_handle *t, domid_t domid, struct tc_dominfo *out)
{
    long rc;

    memset(t->domctl, 0, sizeof(*t->domctl));
    rc = tc_domctl(t, XEN_DOMCTL_getdomaininfo, domid);
    if (rc)
        return (int)rc;
    /* getdomaininfo answers for the first domain at or after domid. */
    if (t->domctl->domain != domid)
        return -ESRCH;
    dominfo_from_xen(&t->domctl->u.getdomaininfo, out);
    return 0;
}

long tc_domain_list(struct tc_handle *t, domid_t first, struct tc_dominfo *out, unsigned max)
{
    struct xen_sysctl_getdomaininfolist *l = &t->sysctl->u.getdomaininfolist;
    long rc;

    if (max > TC_MAX_INFOS)
        max = TC_MAX_INFOS;
    memset(t->sysctl, 0, sizeof(*t->sysctl));
    l->first_domain = first;
    l->max_domains = max;
    set_xen_guest_handle(l->buffer, t->infos);
    rc = tc_sysctl(t, XEN_SYSCTL_getdomaininfolist);
    if (rc)
        return rc;
    for (unsigned i = 0; i < l->num_domains; i++)
        dominfo_from_xen(&t->infos[i], &out[i]);
    return l->num_domains;
}

/* One reservation op, in chunks of TC_EXTENT_CHUNK extents. */
static long tc_reservation(struct tc_handle *t, unsigned op, domid_t domid, uint64_t nr,
                           unsigned order, unsigned mem_flags, uint64_t *extents)
{
    uint64_t done = 0;

    while (done < nr) {
        uint64_t chunk = min_u64(nr - done, TC_EXTENT_CHUNK);
        long rc;

        memset(t->resv, 0, sizeof(*t->resv));
        if (extents) {
            for (uint64_t i = 0; i < chunk; i++)
                t->extents[i] = extents[done + i];
            set_xen_guest_handle(t->resv->extent_start, t->extents);
        }
        t->resv->nr_extents = chunk;
        t->resv->extent_order = order;
        t->resv->mem_flags = mem_flags;
        t->resv->domid = domid;
        rc = tc_memory_op(t, op);
        if (rc < 0)
            return done ? (long)done : rc;
        if (extents && op != XENMEM_decrease_reservation)
            for (long i = 0; i < rc; i++)
                extents[done + (uint64_t)i] = t->extents[i];
        done += (uint64_t)rc;
        if ((uint64_t)rc < chunk)
            break;
    }
    return (long)done;
}

long tc_populate_physmap(struct tc_handle *t, domid_t domid, uint64_t nr, unsigned order,
                         unsigned mem_flags, uint64_t *extents)
{
    return tc_reservation(t, XENMEM_populate_physmap, domid, nr, order, mem_flags, extents);
}

long tc_decrease_reservation(struct tc_handle *t, domid_t domid, uint64_t nr, unsigned order,
                             const uint64_t *extents)
{
    return tc_reservation(t, XENMEM_decrease_reservation, domid, nr, order, 0,
                          (uint64_t *)extents);
}

long tc_increase_reservation(struct tc_handle *t, domid_t domid, uint64_t nr, unsigned order,
                             unsigned mem_flags, uint64_t *extents)
{
    return tc_reservation(t, XENMEM_increase_reservation, domid, nr, order, mem_flags, extents);
}

/* XEN_SYSCTL_tmem_op (memvisor keeps Xen 4.12's, removed from 4.17). */
static long tc_tmem(struct tc_handle *t, uint32_t cmd, uint32_t cli_id, uint32_t arg, void *buf,
                    uint32_t len)
{
    struct mv_sysctl_tmem_op *op = (struct mv_sysctl_tmem_op *)&t->sysctl->u;

    memset(t->sysctl, 0, sizeof(*t->sysctl));
    op->cmd = cmd;
    op->pool_id = -1;
    op->cli_id = cli_id;
    op->arg = arg;
    op->len = len;
    op->buf = (uint64_t)(uintptr_t)buf;
    return tc_sysctl(t, MV_SYSCTL_tmem_op);
}

int tc_tmem_freeze(struct tc_handle *t, domid_t domid, bool freeze)
{
    return (int)tc_tmem(t, freeze ? MV_TMEM_OP_FREEZE : MV_TMEM_OP_THAW, domid, 0, NULL, 0);
}

long tc_tmem_list(struct tc_handle *t, domid_t domid, bool long_format, char *out, size_t cap)
{
    long rc;

    if (cap == 0)
        return -EINVAL;
    if (cap > TC_SCRATCH)
        cap = TC_SCRATCH;
    rc = tc_tmem(t, MV_TMEM_OP_LIST, domid, long_format, t->scratch, (uint32_t)cap);
    if (rc < 0)
        return rc;
    if ((size_t)rc >= cap)
        rc = (long)cap - 1;
    memcpy(out, t->scratch, (size_t)rc);
    out[rc] = '\0';
    return rc;
}
