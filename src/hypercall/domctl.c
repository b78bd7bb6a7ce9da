/*
 * XEN_DOMCTL_*: creating, destroying and inspecting domains, their memory
 * limit, and the claim-set call.  Every domctl needs the control domain
 * (Xen's dummy XSM policy).
 */
#include <string.h>

#include "hypercall_internal.h"

#define CDF_KNOWN (XEN_DOMCTL_CDF_hvm | XEN_DOMCTL_CDF_hap | XEN_DOMCTL_CDF_s3_integrity | \
                   XEN_DOMCTL_CDF_oos_off | XEN_DOMCTL_CDF_xs_domain | XEN_DOMCTL_CDF_iommu | \
                   XEN_DOMCTL_CDF_nested_virt | XEN_DOMCTL_CDF_vpmu)
/* Xen 4.17's per-domain limit on vCPUs (HVM_MAX_VCPUS). */
#define MAX_VCPUS 128

_Static_assert(DOMAIN_CDF_HVM == XEN_DOMCTL_CDF_hvm, "CDF flags match Xen's");
_Static_assert(DOMAIN_CDF_HAP == XEN_DOMCTL_CDF_hap, "CDF flags match Xen's");
_Static_assert(sizeof(struct mv_domctl_claim_memory) <= sizeof(((struct xen_domctl *)0)->u),
               "the claim-set call fits in the domctl union");

/* Xen's emulation_flags_ok for a domU. */
static bool emulation_flags_ok(uint32_t cdf, uint32_t emu)
{
    if (cdf & XEN_DOMCTL_CDF_hvm)
        return emu == (XEN_X86_EMU_ALL & ~XEN_X86_EMU_VPCI) || emu == XEN_X86_EMU_LAPIC;
    return emu == 0 || emu == XEN_X86_EMU_PIT;
}

/* Xen's sanitise_domain_config, for what memvisor models. */
static int createdomain_config(const struct xen_domctl_createdomain *in, struct domain_config *cfg)
{
    if (in->flags & ~CDF_KNOWN)
        return -EINVAL;
    if ((in->flags & XEN_DOMCTL_CDF_hap) && !(in->flags & XEN_DOMCTL_CDF_hvm))
        return -EINVAL;
    if (in->iommu_opts & ~XEN_DOMCTL_IOMMU_no_sharept)
        return -EINVAL;
    if (in->iommu_opts && !(in->flags & XEN_DOMCTL_CDF_iommu))
        return -EINVAL;
    if (in->max_vcpus < 1 || in->max_vcpus > MAX_VCPUS)
        return -EINVAL;
    if (in->vmtrace_size)
        return -EOPNOTSUPP; /* no processor tracing here */
    if (in->cpupool_id != 0)
        return -ENOENT;     /* only the default pool exists */
    if (in->arch.misc_flags & ~XEN_X86_MSR_RELAXED)
        return -EINVAL;
    if (!emulation_flags_ok(in->flags, in->arch.emulation_flags))
        return -EOPNOTSUPP;

    memset(cfg, 0, sizeof(*cfg));
    cfg->cdf_flags = in->flags;
    cfg->max_vcpus = in->max_vcpus;
    cfg->ssidref = in->ssidref;
    memcpy(cfg->handle, in->handle, sizeof(cfg->handle));
    cfg->emulation_flags = in->arch.emulation_flags;
    cfg->misc_flags = in->arch.misc_flags;
    return 0;
}

static long createdomain(const struct hc_caller *c, struct xen_domctl *op)
{
    struct domain_config cfg;
    struct domain *d;
    domid_t domid = op->domain;
    long rc;

    rc = createdomain_config(&op->u.createdomain, &cfg);
    if (rc)
        return rc;
    /* Xen 4.17 picks a free id for 0 and anything at or above the
     * reserved range. */
    if (domid == 0 || domid >= DOMID_FIRST_RESERVED)
        domid = DOMID_ANY;
    rc = domain_create(c->hv->domains, domid, &cfg, &d);
    if (rc)
        return rc;
    op->domain = d->domid;
    mv_log(&c->hv->log, MV_LOG_INFO, "d%u: created (%s)", d->domid,
           (cfg.cdf_flags & XEN_DOMCTL_CDF_hvm) ? "HVM" : "PV");
    domain_put(d);
    return 0;
}

void hc_fill_domaininfo(struct domain *d, struct xen_domctl_getdomaininfo *info)
{
    struct domain_info di;

    domain_get_info(d, &di);
    memset(info, 0, sizeof(*info));
    info->domain = di.domid;
    if (di.state != DOMAIN_ALIVE)
        info->flags |= XEN_DOMINF_dying;
    else
        info->flags |= atomic_load(&d->paused) ? XEN_DOMINF_paused : XEN_DOMINF_blocked;
    if (di.cdf_flags & XEN_DOMCTL_CDF_hvm)
        info->flags |= XEN_DOMINF_hvm_guest;
    if (di.cdf_flags & XEN_DOMCTL_CDF_hap)
        info->flags |= XEN_DOMINF_hap;
    if (di.cdf_flags & XEN_DOMCTL_CDF_xs_domain)
        info->flags |= XEN_DOMINF_xs_domain;
    info->tot_pages = di.tot_pages;
    info->max_pages = di.max_pages;
    info->outstanding_pages = di.outstanding_pages;
    info->nr_online_vcpus = di.max_vcpus;
    info->max_vcpu_id = di.max_vcpus ? di.max_vcpus - 1 : XEN_INVALID_MAX_VCPU_ID;
    info->ssidref = di.ssidref;
    memcpy(info->handle, di.handle, sizeof(info->handle));
    info->cpupool = 0;
    info->gpaddr_bits = (di.cdf_flags & XEN_DOMCTL_CDF_hvm) ? 48 : 0;
    info->arch_config.emulation_flags = d->config.emulation_flags;
    info->arch_config.misc_flags = d->config.misc_flags;
}

struct first_at_or_after {
    struct domain *found;
};

static int take_first(void *arg, struct domain *d)
{
    domain_get(d);
    ((struct first_at_or_after *)arg)->found = d;
    return 1;
}

/* Xen 4.17: the domain asked for, or else the first one after it. */
static long getdomaininfo(const struct hc_caller *c, struct xen_domctl *op)
{
    struct first_at_or_after first = { NULL };

    if (op->domain >= DOMID_FIRST_RESERVED)
        return -EINVAL;
    (void)domain_for_each(c->hv->domains, op->domain, take_first, &first);
    if (!first.found)
        return -ESRCH;
    hc_fill_domaininfo(first.found, &op->u.getdomaininfo);
    op->domain = first.found->domid;
    domain_put(first.found);
    return 0;
}

static long claim_memory(const struct hc_caller *c, struct domain *d,
                         const struct mv_domctl_claim_memory *in)
{
    struct mv_memory_claim wire[MV_CLAIM_MAX_ENTRIES];
    struct claim_entry set[MV_CLAIM_MAX_ENTRIES];

    if (in->pad != 0 || in->nr_claims == 0)
        return -EINVAL;
    if (in->nr_claims > MV_CLAIM_MAX_ENTRIES)
        return -E2BIG;
    if (guest_copy_from(c->mem, wire, in->claims, in->nr_claims * sizeof(wire[0])))
        return -EFAULT;
    for (unsigned i = 0; i < in->nr_claims; i++) {
        if (wire[i].cmd != 0)
            return -EINVAL;
        set[i].pages = wire[i].pages;
        set[i].target = wire[i].target == MV_CLAIM_TARGET_GLOBAL ? CLAIM_TARGET_GLOBAL
                                                                 : wire[i].target;
    }
    return domain_claim_set(d, set, in->nr_claims);
}

/* XEN_DOMCTL_setvnumainfo (Xen's vnuma_init checks); memvisor keeps the
 * vnode-to-pnode map, which XENMEMF_vnode uses. */
static long set_vnuma(const struct hc_caller *c, struct domain *d,
                      const struct xen_domctl_vnuma *v)
{
    unsigned to_pnode[MAX_NUMNODES], cpu_node;
    unsigned nr_nodes = heap_nr_nodes(c->hv->heap);
    xen_vmemrange_t range;
    struct domain_vmemrange ranges[ARRAY_SIZE(d->vmemrange)];

    if (v->nr_vnodes == 0 || v->nr_vnodes > MAX_NUMNODES || v->pad ||
        v->nr_vcpus != d->config.max_vcpus || v->nr_vmemranges == 0 ||
        v->nr_vmemranges > 4 * (uint32_t)MAX_NUMNODES)
        return -EINVAL;
    if (guest_copy_from(c->mem, to_pnode, HANDLE_ADDR(v->vnode_to_pnode), v->nr_vnodes * sizeof(unsigned)))
        return -EFAULT;
    for (unsigned i = 0; i < v->nr_vnodes; i++)
        if (to_pnode[i] >= nr_nodes)
            return -EINVAL;
    for (unsigned i = 0; i < v->nr_vcpus; i++) {
        if (guest_copy_from(c->mem, &cpu_node, HANDLE_ADDR(v->vcpu_to_vnode) + i * sizeof(unsigned),
                            sizeof(cpu_node)))
            return -EFAULT;
        if (cpu_node >= v->nr_vnodes)
            return -EINVAL;
    }
    for (unsigned i = 0; i < v->nr_vmemranges; i++) {
        if (guest_copy_from(c->mem, &range, HANDLE_ADDR(v->vmemrange) + i * sizeof(range), sizeof(range)))
            return -EFAULT;
        if (range.nid >= v->nr_vnodes || range.start >= range.end || range.flags)
            return -EINVAL;
        ranges[i] = (struct domain_vmemrange){ range.start, range.end, range.nid };
    }
    lock_acquire(&d->lock);
    d->nr_vnodes = v->nr_vnodes;
    for (unsigned i = 0; i < v->nr_vnodes; i++)
        d->vnode_to_pnode[i] = (uint8_t)to_pnode[i];
    d->nr_vmemranges = v->nr_vmemranges;
    memcpy(d->vmemrange, ranges, v->nr_vmemranges * sizeof(ranges[0]));
    lock_release(&d->lock);
    return 0;
}

/* Xen refuses both on oneself and on a dying domain. */
static long pause_unpause(const struct hc_caller *c, struct domain *d, bool pause)
{
    if (d->domid == c->domid)
        return -EINVAL;
    if (domain_is_dying(d))
        return -EINVAL;
    if (pause) {
        atomic_store(&d->paused, true);
        return 0;
    }
    if (atomic_exchange(&d->paused, false))
        hv_call_hook(c->hv, &c->hv->on_unpause, d->domid);
    return 0;
}

long do_domctl(const struct hc_caller *c, uint64_t arg)
{
    struct xen_domctl op;
    struct domain *d = NULL;
    bool copyback = false;
    long rc;

    if (guest_copy_from(c->mem, &op, arg, sizeof(op)))
        return -EFAULT;
    if (op.interface_version != XEN_DOMCTL_INTERFACE_VERSION)
        return -EACCES;
    if (!c->privileged)
        return -EPERM;

    switch (op.cmd) {
    case XEN_DOMCTL_createdomain:
        rc = createdomain(c, &op);
        copyback = rc == 0;
        break;
    case XEN_DOMCTL_getdomaininfo:
        rc = getdomaininfo(c, &op);
        copyback = rc == 0;
        break;
    case XEN_DOMCTL_destroydomain:
    case XEN_DOMCTL_pausedomain:
    case XEN_DOMCTL_unpausedomain:
    case XEN_DOMCTL_setvnumainfo:
    case XEN_DOMCTL_max_mem:
    case MV_DOMCTL_claim_memory:
        d = op.domain < DOMID_FIRST_RESERVED ? domain_lookup(c->hv->domains, op.domain) : NULL;
        if (!d) {
            rc = -ESRCH;
            break;
        }
        if (op.cmd == XEN_DOMCTL_destroydomain) {
            /* A domain cannot destroy itself this way. */
            rc = d->domid == c->domid ? -EINVAL : domain_kill(d);
            if (rc == 0)
                mv_log(&c->hv->log, MV_LOG_INFO, "d%u: destroyed", d->domid);
        } else if (op.cmd == XEN_DOMCTL_setvnumainfo) {
            rc = set_vnuma(c, d, &op.u.vnuma);
        } else if (op.cmd == XEN_DOMCTL_pausedomain || op.cmd == XEN_DOMCTL_unpausedomain) {
            rc = pause_unpause(c, d, op.cmd == XEN_DOMCTL_pausedomain);
        } else if (op.cmd == XEN_DOMCTL_max_mem) {
            /* max_pages = min(max_memkb / 4, UINT_MAX); lowering below
             * tot_pages is allowed ("ratchet down"). */
            domain_set_max_pages(d, min_u64(op.u.max_mem.max_memkb >> (PAGE_SHIFT - 10),
                                            UINT32_MAX));
            rc = 0;
        } else {
            struct mv_domctl_claim_memory in;
            memcpy(&in, &op.u, sizeof(in));
            rc = claim_memory(c, d, &in);
        }
        domain_put(d);
        break;
    default:
        rc = -ENOSYS;
        break;
    }
    if (copyback && guest_copy_to(c->mem, arg, &op, sizeof(op)))
        rc = -EFAULT;
    return rc;
}
