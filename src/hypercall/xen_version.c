/*
 * XENVER_*: what the hypervisor says about itself.  memvisor reports the
 * Xen interface it implements (4.17) and names itself in the extra
 * version, so nobody mistakes it for Xen.
 */
#include <string.h>

#include "hypercall_internal.h"

#define MV_XEN_MAJOR 4
#define MV_XEN_MINOR 17

static long copy_string_out(const struct hc_caller *c, uint64_t arg, const char *s, size_t field)
{
    char buf[1024];

    assert(field <= sizeof(buf));
    memset(buf, 0, field);
    strncpy(buf, s, field - 1);
    return guest_copy_to(c->mem, arg, buf, field) ? -EFAULT : 0;
}

long do_xen_version(const struct hc_caller *c, uint64_t cmd, uint64_t arg)
{
    switch (cmd) {
    case XENVER_version:
        return (MV_XEN_MAJOR << 16) | MV_XEN_MINOR;
    case XENVER_extraversion:
        return copy_string_out(c, arg, "-memvisor", sizeof(xen_extraversion_t));
    case XENVER_compile_info: {
        struct xen_compile_info info;

        memset(&info, 0, sizeof(info));
        strncpy(info.compiler, "gcc/clang (memvisor)", sizeof(info.compiler) - 1);
        strncpy(info.compile_by, "memvisor", sizeof(info.compile_by) - 1);
        strncpy(info.compile_domain, "memvisor", sizeof(info.compile_domain) - 1);
        strncpy(info.compile_date, __DATE__, sizeof(info.compile_date) - 1);
        return guest_copy_to(c->mem, arg, &info, sizeof(info)) ? -EFAULT : 0;
    }
    case XENVER_capabilities:
        return copy_string_out(c, arg, "xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64",
                               sizeof(xen_capabilities_info_t));
    case XENVER_changeset:
        return copy_string_out(c, arg, "memvisor", sizeof(xen_changeset_info_t));
    case XENVER_platform_parameters: {
        xen_platform_parameters_t p = { .virt_start = UINT64_C(0xFFFF800000000000) };
        return guest_copy_to(c->mem, arg, &p, sizeof(p)) ? -EFAULT : 0;
    }
    case XENVER_get_features: {
        xen_feature_info_t fi;

        if (guest_copy_from(c->mem, &fi, arg, sizeof(fi)))
            return -EFAULT;
        /* No optional guest features are offered. */
        fi.submap = 0;
        return guest_copy_to(c->mem, arg, &fi, sizeof(fi)) ? -EFAULT : 0;
    }
    case XENVER_pagesize:
        return PAGE_SIZE;
    case XENVER_guest_handle: {
        struct domain *d = domain_lookup(c->hv->domains, c->domid);
        xen_domain_handle_t handle = { 0 };

        if (d) {
            memcpy(handle, d->config.handle, sizeof(handle));
            domain_put(d);
        }
        return guest_copy_to(c->mem, arg, handle, sizeof(handle)) ? -EFAULT : 0;
    }
    case XENVER_commandline: {
        char line[128];

        if (!c->privileged)
            return -EPERM;
        snprintf(line, sizeof(line), "memvisor ram=%lluM nodes=%u",
                 (unsigned long long)(c->hv->config.ram_bytes >> 20), c->hv->config.nr_nodes);
        return copy_string_out(c, arg, line, sizeof(xen_commandline_t));
    }
    case XENVER_build_id:
        if (!c->privileged)
            return -EPERM;
        return -ENODATA;
    default:
        return -ENOSYS;
    }
}
