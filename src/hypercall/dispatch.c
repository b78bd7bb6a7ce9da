/*
 * The hypercall entry point, multicall, and the privilege rule for
 * targets.
 */
#include "hypercall_internal.h"

int hc_lookup_target(const struct hc_caller *c, domid_t domid, struct domain **out)
{
    struct domain *d;

    if (domid == DOMID_SELF)
        domid = c->domid;
    if (!c->privileged && domid != c->domid)
        return -EPERM;
    d = domain_lookup(c->hv->domains, domid);
    if (!d)
        return -ESRCH;
    *out = d;
    return 0;
}

/*
 * Runs each entry of a multicall list and writes its result back into the
 * entry, as Xen does.  libxenctrl on x86-64 wraps every memory_op in a
 * one-entry multicall.  Nested multicalls are refused.
 */
static long do_multicall(const struct hc_caller *c, uint64_t list, uint64_t nr_calls)
{
    for (uint64_t i = 0; i < nr_calls; i++) {
        uint64_t addr = list + i * sizeof(struct multicall_entry);
        struct multicall_entry call;
        uint64_t args[6];

        if (i > (UINT64_MAX - list) / sizeof(call) ||
            guest_copy_from(c->mem, &call, addr, sizeof(call)))
            return -EFAULT;
        for (unsigned a = 0; a < 6; a++)
            args[a] = call.args[a];
        if (call.op == HC_MULTICALL)
            call.result = (xen_ulong_t)-EINVAL;
        else if (call.op > UINT32_MAX)
            call.result = (xen_ulong_t)-ENOSYS;
        else
            call.result = (xen_ulong_t)mv_hypercall(c, (unsigned)call.op, args);
        if (guest_copy_to(c->mem, addr + offsetof(struct multicall_entry, result),
                          &call.result, sizeof(call.result)))
            return -EFAULT;
    }
    return 0;
}

long mv_hypercall(const struct hc_caller *c, unsigned op, const uint64_t args[6])
{
    switch (op) {
    case HC_MEMORY_OP:
        return do_memory_op(c, args[0], args[1]);
    case HC_MULTICALL:
        return do_multicall(c, args[0], args[1]);
    case HC_XEN_VERSION:
        return do_xen_version(c, args[0], args[1]);
    case HC_SYSCTL:
        return do_sysctl(c, args[0]);
    case HC_DOMCTL:
        return do_domctl(c, args[0]);
    case HC_TMEM_OP:
        return do_tmem_op(c, args[0]);
    default:
        return -ENOSYS;
    }
}
