/* Unit tests: the hypercall ABI (Xen 4.17 structures), argument
 * validation, privilege, guest handles, multicall. */
#include <stdint.h>
#include <stdio.h>

#include <xen/xen.h>
#include <xen/domctl.h>
#include <xen/memory.h>
#include <xen/sysctl.h>
#include <xen/version.h>

#include "../support.h"

#define ADDR(p) ((uint64_t)(uintptr_t)(p))

struct fixture {
    struct hv *hv;
    struct hc_session *dom0;
    struct xen_domctl *domctl;
    struct xen_sysctl *sysctl;
    struct xen_memory_reservation *resv;
    xen_pfn_t *ext;
};

static void fixture_init(struct fixture *fx, uint64_t ram, unsigned nodes)
{
    fx->hv = test_hv(ram, nodes, false);
    if (hc_session_create(fx->hv, 0, true, &fx->dom0))
        exit(1);
    fx->domctl = hc_buffer_alloc(fx->dom0, sizeof(*fx->domctl));
    fx->sysctl = hc_buffer_alloc(fx->dom0, sizeof(*fx->sysctl));
    fx->resv = hc_buffer_alloc(fx->dom0, sizeof(*fx->resv));
    fx->ext = hc_buffer_alloc(fx->dom0, 1024 * sizeof(xen_pfn_t));
    if (!fx->domctl || !fx->sysctl || !fx->resv || !fx->ext)
        exit(1);
}

static void fixture_fini(struct fixture *fx)
{
    hc_session_destroy(fx->dom0);
    hv_destroy(fx->hv);
}

static long domctl(struct fixture *fx, struct hc_session *s, struct xen_domctl *buf,
                   uint32_t cmd, domid_t domid)
{
    buf->cmd = cmd;
    buf->interface_version = XEN_DOMCTL_INTERFACE_VERSION;
    buf->domain = domid;
    (void)fx;
    return hc_call(s, HC_DOMCTL, ADDR(buf), 0, 0, 0, 0);
}

static long sysctl(struct fixture *fx, uint32_t cmd)
{
    fx->sysctl->cmd = cmd;
    fx->sysctl->interface_version = XEN_SYSCTL_INTERFACE_VERSION;
    return hc_call(fx->dom0, HC_SYSCTL, ADDR(fx->sysctl), 0, 0, 0, 0);
}

static domid_t create_domain(struct fixture *fx, bool hvm, uint64_t max_kib)
{
    memset(fx->domctl, 0, sizeof(*fx->domctl));
    fx->domctl->u.createdomain.flags = hvm ? XEN_DOMCTL_CDF_hvm | XEN_DOMCTL_CDF_hap : 0;
    fx->domctl->u.createdomain.max_vcpus = 1;
    fx->domctl->u.createdomain.arch.emulation_flags = hvm ? XEN_X86_EMU_LAPIC : 0;
    if (domctl(fx, fx->dom0, fx->domctl, XEN_DOMCTL_createdomain, DOMID_ANY))
        return DOMID_INVALID;
    {
        domid_t id = fx->domctl->domain;
        memset(fx->domctl, 0, sizeof(*fx->domctl));
        fx->domctl->u.max_mem.max_memkb = max_kib;
        if (domctl(fx, fx->dom0, fx->domctl, XEN_DOMCTL_max_mem, id))
            return DOMID_INVALID;
        return id;
    }
}

static long memop(struct hc_session *s, unsigned cmd, struct xen_memory_reservation *r,
                  domid_t domid, xen_pfn_t *ext, uint64_t nr, unsigned order, unsigned flags)
{
    memset(r, 0, sizeof(*r));
    set_xen_guest_handle(r->extent_start, ext);
    r->nr_extents = nr;
    r->extent_order = order;
    r->mem_flags = flags;
    r->domid = domid;
    return hc_call(s, HC_MEMORY_OP, cmd, ADDR(r), 0, 0, 0);
}

static void test_unknown_ops(void)
{
    struct fixture fx;

    fixture_init(&fx, MiB(32), 1);
    CHECK_EQ(hc_call(fx.dom0, 99, 0, 0, 0, 0, 0), -ENOSYS);
    CHECK_EQ(hc_call(fx.dom0, 0, 0, 0, 0, 0, 0), -ENOSYS);
    CHECK_EQ(hc_call(fx.dom0, HC_MEMORY_OP, 63, ADDR(fx.resv), 0, 0, 0), -ENOSYS);
    memset(fx.domctl, 0, sizeof(*fx.domctl));
    CHECK_EQ(domctl(&fx, fx.dom0, fx.domctl, 999, 0), -ENOSYS);
    memset(fx.sysctl, 0, sizeof(*fx.sysctl));
    CHECK_EQ(sysctl(&fx, 999), -ENOSYS);
    CHECK_EQ(hc_call(fx.dom0, HC_XEN_VERSION, 77, 0, 0, 0, 0), -ENOSYS);
    fixture_fini(&fx);
}

static void test_interface_version_and_faults(void)
{
    struct fixture fx;
    struct xen_domctl on_stack;

    fixture_init(&fx, MiB(32), 1);
    memset(fx.domctl, 0, sizeof(*fx.domctl));
    fx.domctl->cmd = XEN_DOMCTL_getdomaininfo;
    fx.domctl->interface_version = XEN_DOMCTL_INTERFACE_VERSION - 1;
    CHECK_EQ(hc_call(fx.dom0, HC_DOMCTL, ADDR(fx.domctl), 0, 0, 0, 0), -EACCES);
    fx.sysctl->cmd = XEN_SYSCTL_physinfo;
    fx.sysctl->interface_version = 0x12;
    CHECK_EQ(hc_call(fx.dom0, HC_SYSCTL, ADDR(fx.sysctl), 0, 0, 0, 0), -EACCES);
    /* Handles outside the shared buffers. */
    memset(&on_stack, 0, sizeof(on_stack));
    on_stack.cmd = XEN_DOMCTL_getdomaininfo;
    on_stack.interface_version = XEN_DOMCTL_INTERFACE_VERSION;
    CHECK_EQ(hc_call(fx.dom0, HC_DOMCTL, ADDR(&on_stack), 0, 0, 0, 0), -EFAULT);
    CHECK_EQ(hc_call(fx.dom0, HC_DOMCTL, 0, 0, 0, 0, 0), -EFAULT);
    CHECK_EQ(hc_call(fx.dom0, HC_DOMCTL, UINT64_MAX - 8, 0, 0, 0, 0), -EFAULT);
    CHECK_EQ(hc_call(fx.dom0, HC_SYSCTL, ADDR(fx.sysctl) + sizeof(*fx.sysctl) - 8, 0, 0, 0, 0),
             -EFAULT);
    CHECK_EQ(hc_call(fx.dom0, HC_MEMORY_OP, XENMEM_current_reservation, 12345, 0, 0, 0), -EFAULT);
    CHECK_EQ(hc_call(fx.dom0, HC_MULTICALL, 16, 1, 0, 0, 0), -EFAULT);
    CHECK_HV(fx.hv);
    fixture_fini(&fx);
}

static void test_privilege(void)
{
    struct fixture fx;
    struct hc_session *guest;
    struct xen_domctl *gdomctl;
    struct xen_memory_reservation *gresv;
    xen_pfn_t *gext;
    domid_t self, other;
    domid_t *gdomid;

    fixture_init(&fx, MiB(64), 1);
    self = create_domain(&fx, true, 4096);
    other = create_domain(&fx, true, 4096);
    REQUIRE(self != DOMID_INVALID && other != DOMID_INVALID);
    REQUIRE(hc_session_create(fx.hv, self, false, &guest) == 0);
    gdomctl = hc_buffer_alloc(guest, sizeof(*gdomctl));
    gresv = hc_buffer_alloc(guest, sizeof(*gresv));
    gext = hc_buffer_alloc(guest, 64 * sizeof(xen_pfn_t));
    gdomid = hc_buffer_alloc(guest, sizeof(*gdomid));
    REQUIRE(gdomctl && gresv && gext && gdomid);

    memset(gdomctl, 0, sizeof(*gdomctl));
    CHECK_EQ(domctl(&fx, guest, gdomctl, XEN_DOMCTL_getdomaininfo, self), -EPERM);
    /* A guest acts on itself only. */
    gext[0] = 0;
    CHECK_EQ(memop(guest, XENMEM_populate_physmap, gresv, other, gext, 1, 0, 0), 0);
    CHECK_EQ(memop(guest, XENMEM_populate_physmap, gresv, DOMID_SELF, gext, 1, 0, 0), 1);
    gext[0] = 512;
    CHECK_EQ(memop(guest, XENMEM_populate_physmap, gresv, self, gext, 1, 0, 0), 1);
    /* ...with extents of at most 2 MiB. */
    gext[0] = 1 << 20;
    CHECK_EQ(memop(guest, XENMEM_populate_physmap, gresv, DOMID_SELF, gext, 1, 10, 0), 0);
    gext[0] = 1024;
    CHECK_EQ(memop(guest, XENMEM_populate_physmap, gresv, DOMID_SELF, gext, 1, 9, 0), 1);
    /* No exact-node requests; a plain node hint is ignored. */
    gext[0] = 2048;
    CHECK_EQ(memop(guest, XENMEM_populate_physmap, gresv, DOMID_SELF, gext, 1, 0,
                   XENMEMF_exact_node(0)), 0);
    CHECK_EQ(memop(guest, XENMEM_populate_physmap, gresv, DOMID_SELF, gext, 1, 0,
                   XENMEMF_node(0)), 1);
    /* Claims are for the control domain. */
    CHECK_EQ(memop(guest, XENMEM_claim_pages, gresv, self, NULL, 100, 0, 0), -EPERM);
    /* Reservation queries: self yes, others no. */
    *gdomid = DOMID_SELF;
    CHECK_EQ(hc_call(guest, HC_MEMORY_OP, XENMEM_current_reservation, ADDR(gdomid), 0, 0, 0), 515);
    *gdomid = other;
    CHECK_EQ(hc_call(guest, HC_MEMORY_OP, XENMEM_current_reservation, ADDR(gdomid), 0, 0, 0), -EPERM);
    *gdomid = self;
    CHECK_EQ(hc_call(guest, HC_MEMORY_OP, XENMEM_maximum_reservation, ADDR(gdomid), 0, 0, 0), 1024);
    /* The command line is the control domain's to read. */
    CHECK_EQ(hc_call(guest, HC_XEN_VERSION, XENVER_commandline, ADDR(gext), 0, 0, 0), -EPERM);
    hc_session_destroy(guest);
    CHECK_HV(fx.hv);
    fixture_fini(&fx);
}

static void test_reservation_orders_and_limits(void)
{
    struct fixture fx;
    domid_t hvm, pv;
    long rc;

    fixture_init(&fx, GiB(2), 2);
    hvm = create_domain(&fx, true, UINT64_MAX);
    pv = create_domain(&fx, false, UINT64_MAX);
    REQUIRE(hvm != DOMID_INVALID && pv != DOMID_INVALID);
    for (unsigned order = 0; order <= 18; order += 9) {
        fx.ext[0] = UINT64_C(1) << 20;
        CHECK_EQ(memop(fx.dom0, XENMEM_populate_physmap, fx.resv, hvm, fx.ext, 1, order, 0), 1);
        CHECK_EQ(memop(fx.dom0, XENMEM_decrease_reservation, fx.resv, hvm, fx.ext, 1, order, 0), 1);
    }
    CHECK_EQ(memop(fx.dom0, XENMEM_populate_physmap, fx.resv, hvm, fx.ext, 1, 19, 0), 0);
    /* Counts too large to encode a continuation: nothing done. */
    CHECK_EQ(memop(fx.dom0, XENMEM_populate_physmap, fx.resv, hvm, fx.ext,
                   (UINT32_MAX >> 6) + 1, 0, 0), 0);
    /* An extent list running past its buffer: nothing allocated. */
    {
        uint64_t before = test_free_pages(fx.hv);
        CHECK_EQ(memop(fx.dom0, XENMEM_populate_physmap, fx.resv, hvm, fx.ext, 1025, 0, 0), 0);
        CHECK_EQ(memop(fx.dom0, XENMEM_increase_reservation, fx.resv, pv, fx.ext + 1000, 100, 0, 0), 0);
        CHECK_EQ(test_free_pages(fx.hv), before);
    }
    /* A continuation: start at extent 2 of 4. */
    for (int i = 0; i < 4; i++)
        fx.ext[i] = 100 + (xen_pfn_t)i;
    memset(fx.resv, 0, sizeof(*fx.resv));
    set_xen_guest_handle(fx.resv->extent_start, fx.ext);
    fx.resv->nr_extents = 4;
    fx.resv->domid = hvm;
    rc = hc_call(fx.dom0, HC_MEMORY_OP, XENMEM_populate_physmap | (2 << 6), ADDR(fx.resv), 0, 0, 0);
    CHECK_EQ(rc, 4);
    rc = hc_call(fx.dom0, HC_MEMORY_OP, XENMEM_populate_physmap | (9 << 6), ADDR(fx.resv), 0, 0, 0);
    CHECK_EQ(rc, 9); /* start beyond the end: returned as is */
    /* Exact node, and a node that does not exist. */
    CHECK_EQ(memop(fx.dom0, XENMEM_increase_reservation, fx.resv, pv, fx.ext, 8, 0,
                   XENMEMF_exact_node(1)), 8);
    for (int i = 0; i < 8; i++)
        CHECK_EQ(machine_mfn_node(fx.hv->m, _mfn(fx.ext[i])), 1);
    CHECK_EQ(memop(fx.dom0, XENMEM_increase_reservation, fx.resv, pv, fx.ext, 1, 0,
                   XENMEMF_node(70)), 0);
    CHECK_EQ(memop(fx.dom0, XENMEM_increase_reservation, fx.resv, pv, fx.ext, 1, 0,
                   XENMEMF_node(3)), 0);
    /* Address width: 20 bits means below 1 MiB. */
    CHECK_EQ(memop(fx.dom0, XENMEM_increase_reservation, fx.resv, pv, fx.ext, 4, 0,
                   XENMEMF_address_bits(20)), 4);
    for (int i = 0; i < 4; i++)
        CHECK(fx.ext[i] < 256);
    CHECK_EQ(memop(fx.dom0, XENMEM_increase_reservation, fx.resv, pv, fx.ext, 1, 0,
                   XENMEMF_address_bits(12)), 0);
    /* Decrease stops at the first page the domain does not have. */
    fx.ext[0] = 102; /* populated by the continuation above */
    fx.ext[1] = 5000;
    fx.ext[2] = 103;
    CHECK_EQ(memop(fx.dom0, XENMEM_decrease_reservation, fx.resv, hvm, fx.ext, 3, 0, 0), 1);
    /* Bad domains: nothing done. */
    CHECK_EQ(memop(fx.dom0, XENMEM_populate_physmap, fx.resv, 4000, fx.ext, 1, 0, 0), 0);
    CHECK_EQ(memop(fx.dom0, XENMEM_populate_physmap, fx.resv, DOMID_FIRST_RESERVED + 3, fx.ext, 1, 0, 0), 0);
    /* Populate-on-demand: a hole becomes a PoD entry; a mapped page is
     * EBUSY (nothing done). */
    fx.ext[0] = 5000;
    CHECK_EQ(memop(fx.dom0, XENMEM_populate_physmap, fx.resv, hvm, fx.ext, 1, 0,
                   XENMEMF_populate_on_demand), 1);
    fx.ext[0] = 103;
    CHECK_EQ(memop(fx.dom0, XENMEM_populate_physmap, fx.resv, hvm, fx.ext, 1, 0,
                   XENMEMF_populate_on_demand), 0);
    CHECK_HV(fx.hv);
    fixture_fini(&fx);
}

static void test_claim_pages_validation(void)
{
    struct fixture fx;
    domid_t d;

    fixture_init(&fx, MiB(64), 1);
    d = create_domain(&fx, true, 4096);
    REQUIRE(d != DOMID_INVALID);
    CHECK_EQ(memop(fx.dom0, XENMEM_claim_pages, fx.resv, d, fx.ext, 10, 0, 0), -EINVAL);
    CHECK_EQ(memop(fx.dom0, XENMEM_claim_pages, fx.resv, d, NULL, 10, 1, 0), -EINVAL);
    CHECK_EQ(memop(fx.dom0, XENMEM_claim_pages, fx.resv, d, NULL, 10, 0, XENMEMF_node(0)), -EINVAL);
    CHECK_EQ(memop(fx.dom0, XENMEM_claim_pages, fx.resv, DOMID_SELF, NULL, 10, 0, 0), -EINVAL);
    CHECK_EQ(memop(fx.dom0, XENMEM_claim_pages, fx.resv, 777, NULL, 10, 0, 0), -EINVAL);
    memset(fx.resv, 0, sizeof(*fx.resv));
    fx.resv->nr_extents = 10;
    fx.resv->domid = d;
    CHECK_EQ(hc_call(fx.dom0, HC_MEMORY_OP, XENMEM_claim_pages | (1 << 6), ADDR(fx.resv), 0, 0, 0),
             -EINVAL);
    CHECK_EQ(test_outstanding(fx.hv), 0);
    CHECK_EQ(memop(fx.dom0, XENMEM_claim_pages, fx.resv, d, NULL, 10, 0, 0), 0);
    CHECK_EQ(test_outstanding(fx.hv), 10);
    CHECK_EQ(memop(fx.dom0, XENMEM_claim_pages, fx.resv, d, NULL, 5000, 0, 0), -EINVAL);
    fixture_fini(&fx);
}

static void test_multicall(void)
{
    struct fixture fx;
    struct multicall_entry *calls;
    domid_t d;

    fixture_init(&fx, MiB(64), 1);
    d = create_domain(&fx, true, 4096);
    REQUIRE(d != DOMID_INVALID);
    calls = hc_buffer_alloc(fx.dom0, 4 * sizeof(*calls));
    REQUIRE(calls);
    memset(fx.resv, 0, sizeof(*fx.resv));
    fx.resv->nr_extents = 64;
    fx.resv->domid = d;
    calls[0].op = HC_MEMORY_OP;
    calls[0].args[0] = XENMEM_claim_pages;
    calls[0].args[1] = ADDR(fx.resv);
    calls[1].op = HC_XEN_VERSION;
    calls[1].args[0] = XENVER_version;
    calls[2].op = 200;
    calls[3].op = HC_MULTICALL;
    calls[3].args[0] = ADDR(calls);
    calls[3].args[1] = 1;
    CHECK_EQ(hc_call(fx.dom0, HC_MULTICALL, ADDR(calls), 4, 0, 0, 0), 0);
    CHECK_EQ((long)calls[0].result, 0);
    CHECK_EQ((long)calls[1].result, 0x40011);
    CHECK_EQ((long)calls[2].result, -ENOSYS);
    CHECK_EQ((long)calls[3].result, -EINVAL);
    CHECK_EQ(test_outstanding(fx.hv), 64);
    /* A list that runs past its buffer. */
    CHECK_EQ(hc_call(fx.dom0, HC_MULTICALL, ADDR(calls), 5, 0, 0, 0), -EFAULT);
    CHECK_EQ(hc_call(fx.dom0, HC_MULTICALL, UINT64_MAX - 8, 3, 0, 0, 0), -EFAULT);
    fixture_fini(&fx);
}

static void test_createdomain_validation(void)
{
    static const struct {
        uint32_t flags, vcpus, emu, pool, iommu;
        int rc;
    } cases[] = {
        { XEN_DOMCTL_CDF_hvm | XEN_DOMCTL_CDF_hap, 1, XEN_X86_EMU_LAPIC, 0, 0, 0 },
        { 0, 1, 0, 0, 0, 0 },
        { 1u << 20, 1, 0, 0, 0, -EINVAL },                         /* unknown flag */
        { XEN_DOMCTL_CDF_hap, 1, 0, 0, 0, -EINVAL },               /* HAP without HVM */
        { XEN_DOMCTL_CDF_hvm, 0, XEN_X86_EMU_LAPIC, 0, 0, -EINVAL }, /* no vCPU */
        { XEN_DOMCTL_CDF_hvm, 1, XEN_X86_EMU_PIT, 0, 0, -EOPNOTSUPP },
        { 0, 1, XEN_X86_EMU_LAPIC, 0, 0, -EOPNOTSUPP },
        { 0, 1, 0, 5, 0, -ENOENT },                                 /* no such pool */
        { 0, 1, 0, 0, 1, -EINVAL },                                 /* IOMMU opts without IOMMU */
    };
    struct fixture fx;

    fixture_init(&fx, MiB(32), 1);
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        unsigned before = domain_table_count(fx.hv->domains);

        memset(fx.domctl, 0, sizeof(*fx.domctl));
        fx.domctl->u.createdomain.flags = cases[i].flags;
        fx.domctl->u.createdomain.max_vcpus = cases[i].vcpus;
        fx.domctl->u.createdomain.arch.emulation_flags = cases[i].emu;
        fx.domctl->u.createdomain.cpupool_id = cases[i].pool;
        fx.domctl->u.createdomain.iommu_opts = cases[i].iommu;
        CHECK_EQ(domctl(&fx, fx.dom0, fx.domctl, XEN_DOMCTL_createdomain, 0), cases[i].rc);
        CHECK_EQ(domain_table_count(fx.hv->domains), before + (cases[i].rc == 0));
    }
    /* An explicit domid, then the same one again. */
    memset(fx.domctl, 0, sizeof(*fx.domctl));
    fx.domctl->u.createdomain.max_vcpus = 1;
    CHECK_EQ(domctl(&fx, fx.dom0, fx.domctl, XEN_DOMCTL_createdomain, 42), 0);
    CHECK_EQ(fx.domctl->domain, 42);
    CHECK_EQ(domctl(&fx, fx.dom0, fx.domctl, XEN_DOMCTL_createdomain, 42), -EEXIST);
    fixture_fini(&fx);
}

static void test_domain_info_and_lists(void)
{
    struct fixture fx;
    struct xen_domctl_getdomaininfo *infos;
    struct xen_domctl_getdomaininfo *gi;
    domid_t a, b, c;

    fixture_init(&fx, MiB(64), 1);
    a = create_domain(&fx, true, 4096);
    b = create_domain(&fx, false, 8192);
    c = create_domain(&fx, true, UINT64_MAX);
    REQUIRE(a != DOMID_INVALID && b != DOMID_INVALID && c != DOMID_INVALID);
    fx.ext[0] = 0;
    REQUIRE(memop(fx.dom0, XENMEM_populate_physmap, fx.resv, a, fx.ext, 1, 9, 0) == 1);

    memset(fx.domctl, 0, sizeof(*fx.domctl));
    CHECK_EQ(domctl(&fx, fx.dom0, fx.domctl, XEN_DOMCTL_getdomaininfo, a), 0);
    gi = &fx.domctl->u.getdomaininfo;
    CHECK_EQ(gi->domain, a);
    CHECK_EQ(gi->tot_pages, 512);
    CHECK_EQ(gi->max_pages, 1024);
    CHECK(gi->flags & XEN_DOMINF_hvm_guest);
    CHECK(!(gi->flags & XEN_DOMINF_dying));
    /* max_mem of "unlimited" is capped at UINT_MAX pages. */
    memset(fx.domctl, 0, sizeof(*fx.domctl));
    CHECK_EQ(domctl(&fx, fx.dom0, fx.domctl, XEN_DOMCTL_getdomaininfo, c), 0);
    CHECK_EQ(fx.domctl->u.getdomaininfo.max_pages, UINT32_MAX);
    /* The next domain at or after the one asked for. */
    memset(fx.domctl, 0, sizeof(*fx.domctl));
    CHECK_EQ(domctl(&fx, fx.dom0, fx.domctl, XEN_DOMCTL_getdomaininfo, c + 1), -ESRCH);
    CHECK_EQ(domctl(&fx, fx.dom0, fx.domctl, XEN_DOMCTL_getdomaininfo, b), 0);
    CHECK_EQ(fx.domctl->domain, b);
    CHECK_EQ(domctl(&fx, fx.dom0, fx.domctl, XEN_DOMCTL_getdomaininfo, DOMID_SELF), -EINVAL);

    infos = hc_buffer_alloc(fx.dom0, 2 * sizeof(*infos));
    REQUIRE(infos);
    memset(fx.sysctl, 0, sizeof(*fx.sysctl));
    fx.sysctl->u.getdomaininfolist.first_domain = 0;
    fx.sysctl->u.getdomaininfolist.max_domains = 2;
    set_xen_guest_handle(fx.sysctl->u.getdomaininfolist.buffer, infos);
    CHECK_EQ(sysctl(&fx, XEN_SYSCTL_getdomaininfolist), 0);
    CHECK_EQ(fx.sysctl->u.getdomaininfolist.num_domains, 2);
    CHECK_EQ(infos[0].domain, 0);
    CHECK_EQ(infos[1].domain, a);
    fx.sysctl->u.getdomaininfolist.first_domain = b;
    CHECK_EQ(sysctl(&fx, XEN_SYSCTL_getdomaininfolist), 0);
    CHECK_EQ(fx.sysctl->u.getdomaininfolist.num_domains, 2);
    CHECK_EQ(infos[0].domain, b);
    CHECK_EQ(infos[1].domain, c);
    fx.sysctl->u.getdomaininfolist.first_domain = 0;
    fx.sysctl->u.getdomaininfolist.max_domains = 3; /* one more than the buffer holds */
    CHECK_EQ(sysctl(&fx, XEN_SYSCTL_getdomaininfolist), -EFAULT);

    /* Destroy: not ourselves, not unknown domains. */
    memset(fx.domctl, 0, sizeof(*fx.domctl));
    CHECK_EQ(domctl(&fx, fx.dom0, fx.domctl, XEN_DOMCTL_destroydomain, 0), -EINVAL);
    CHECK_EQ(domctl(&fx, fx.dom0, fx.domctl, XEN_DOMCTL_destroydomain, 999), -ESRCH);
    CHECK_EQ(domctl(&fx, fx.dom0, fx.domctl, XEN_DOMCTL_destroydomain, a), 0);
    CHECK_EQ(domctl(&fx, fx.dom0, fx.domctl, XEN_DOMCTL_max_mem, a), -ESRCH);
    CHECK_HV(fx.hv);
    fixture_fini(&fx);
}

static void test_physinfo_numainfo(void)
{
    struct fixture fx;
    struct xen_sysctl_meminfo *mi;
    uint32_t *dist;
    struct heap_totals t;

    fixture_init(&fx, MiB(256), 4);
    memset(fx.sysctl, 0, sizeof(*fx.sysctl));
    CHECK_EQ(sysctl(&fx, XEN_SYSCTL_physinfo), 0);
    heap_get_totals(fx.hv->heap, &t);
    CHECK_EQ(fx.sysctl->u.physinfo.total_pages, t.total_pages);
    CHECK_EQ(fx.sysctl->u.physinfo.free_pages, t.free_pages);
    CHECK_EQ(fx.sysctl->u.physinfo.outstanding_pages, 0);
    CHECK_EQ(fx.sysctl->u.physinfo.nr_nodes, 4);
    CHECK_EQ(fx.sysctl->u.physinfo.max_mfn, PAGES(MiB(256)) - 1);
    CHECK(fx.sysctl->u.physinfo.capabilities & XEN_SYSCTL_PHYSCAP_hvm);

    /* Just the count. */
    memset(fx.sysctl, 0, sizeof(*fx.sysctl));
    CHECK_EQ(sysctl(&fx, XEN_SYSCTL_numainfo), 0);
    CHECK_EQ(fx.sysctl->u.numainfo.num_nodes, 4);
    mi = hc_buffer_alloc(fx.dom0, 4 * sizeof(*mi));
    dist = hc_buffer_alloc(fx.dom0, 16 * sizeof(*dist));
    REQUIRE(mi && dist);
    set_xen_guest_handle(fx.sysctl->u.numainfo.meminfo, mi);
    set_xen_guest_handle(fx.sysctl->u.numainfo.distance, dist);
    CHECK_EQ(sysctl(&fx, XEN_SYSCTL_numainfo), 0);
    CHECK_EQ(mi[1].memsize, MiB(64));
    CHECK_EQ(mi[1].memfree, MiB(64));
    CHECK_EQ(mi[0].memfree, MiB(64) - PAGE_SIZE); /* frame 0 */
    CHECK_EQ(dist[0], 10);
    CHECK_EQ(dist[1], 20);
    CHECK_EQ(dist[5], 10);
    fx.sysctl->u.numainfo.num_nodes = 5; /* more than the buffers hold */
    set_xen_guest_handle(fx.sysctl->u.numainfo.distance, (uint32_t *)NULL);
    CHECK_EQ(sysctl(&fx, XEN_SYSCTL_numainfo), 0); /* clipped to the 4 nodes */
    CHECK_EQ(fx.sysctl->u.numainfo.num_nodes, 4);
    fixture_fini(&fx);
}

static void test_page_offline_op(void)
{
    struct fixture fx;
    uint32_t *status;
    uint64_t before;

    fixture_init(&fx, MiB(32), 1);
    status = hc_buffer_alloc(fx.dom0, 8 * sizeof(*status));
    REQUIRE(status);
    before = test_free_pages(fx.hv);
    memset(fx.sysctl, 0, sizeof(*fx.sysctl));
    fx.sysctl->u.page_offline.cmd = sysctl_page_offline;
    fx.sysctl->u.page_offline.start = 300;
    fx.sysctl->u.page_offline.end = 303;
    set_xen_guest_handle(fx.sysctl->u.page_offline.status, status);
    CHECK_EQ(sysctl(&fx, XEN_SYSCTL_page_offline_op), 0);
    CHECK_EQ(status[0], PG_OFFLINE_OFFLINED);
    CHECK_EQ(test_free_pages(fx.hv), before - 4);
    fx.sysctl->u.page_offline.cmd = sysctl_query_page_offline;
    CHECK_EQ(sysctl(&fx, XEN_SYSCTL_page_offline_op), 0);
    CHECK_EQ(status[3], PG_OFFLINE_STATUS_OFFLINED);
    fx.sysctl->u.page_offline.cmd = sysctl_page_online;
    CHECK_EQ(sysctl(&fx, XEN_SYSCTL_page_offline_op), 0);
    CHECK_EQ(test_free_pages(fx.hv), before);
    /* Bad ranges and a status array too small: nothing changes. */
    fx.sysctl->u.page_offline.cmd = sysctl_page_offline;
    fx.sysctl->u.page_offline.start = 10;
    fx.sysctl->u.page_offline.end = 9;
    CHECK_EQ(sysctl(&fx, XEN_SYSCTL_page_offline_op), -EINVAL);
    fx.sysctl->u.page_offline.end = (uint32_t)PAGES(MiB(32));
    CHECK_EQ(sysctl(&fx, XEN_SYSCTL_page_offline_op), -EINVAL);
    fx.sysctl->u.page_offline.end = 10 + 8;
    CHECK_EQ(sysctl(&fx, XEN_SYSCTL_page_offline_op), -EFAULT);
    fx.sysctl->u.page_offline.cmd = 9;
    fx.sysctl->u.page_offline.end = 11;
    CHECK_EQ(sysctl(&fx, XEN_SYSCTL_page_offline_op), -EINVAL);
    CHECK_EQ(test_free_pages(fx.hv), before);
    /* Frame 0 is the hypervisor's. */
    fx.sysctl->u.page_offline.cmd = sysctl_page_offline;
    fx.sysctl->u.page_offline.start = 0;
    fx.sysctl->u.page_offline.end = 0;
    CHECK_EQ(sysctl(&fx, XEN_SYSCTL_page_offline_op), -EPERM);
    CHECK(status[0] & PG_OFFLINE_XENPAGE);
    CHECK_HV(fx.hv);
    fixture_fini(&fx);
}

static void test_xen_version(void)
{
    struct fixture fx;
    char *buf;

    fixture_init(&fx, MiB(32), 1);
    buf = hc_buffer_alloc(fx.dom0, 1024);
    REQUIRE(buf);
    CHECK_EQ(hc_call(fx.dom0, HC_XEN_VERSION, XENVER_version, 0, 0, 0, 0), (4 << 16) | 17);
    CHECK_EQ(hc_call(fx.dom0, HC_XEN_VERSION, XENVER_pagesize, 0, 0, 0, 0), 4096);
    CHECK_EQ(hc_call(fx.dom0, HC_XEN_VERSION, XENVER_extraversion, ADDR(buf), 0, 0, 0), 0);
    CHECK(strcmp(buf, "-memvisor") == 0);
    CHECK_EQ(hc_call(fx.dom0, HC_XEN_VERSION, XENVER_capabilities, ADDR(buf), 0, 0, 0), 0);
    CHECK(strstr(buf, "hvm-3.0-x86_64") != NULL);
    CHECK_EQ(hc_call(fx.dom0, HC_XEN_VERSION, XENVER_commandline, ADDR(buf), 0, 0, 0), 0);
    CHECK(strstr(buf, "memvisor") != NULL);
    CHECK_EQ(hc_call(fx.dom0, HC_XEN_VERSION, XENVER_extraversion, 8, 0, 0, 0), -EFAULT);
    CHECK_EQ(hc_call(fx.dom0, HC_XEN_VERSION, XENVER_build_id, ADDR(buf), 0, 0, 0), -ENODATA);
    fixture_fini(&fx);
}

static void test_claim_set_domctl(void)
{
    struct fixture fx;
    struct mv_memory_claim *claims;
    struct mv_domctl_claim_memory req;
    domid_t d;

    fixture_init(&fx, MiB(128), 2);
    d = create_domain(&fx, true, UINT64_MAX);
    REQUIRE(d != DOMID_INVALID);
    claims = hc_buffer_alloc(fx.dom0, 3 * sizeof(*claims));
    REQUIRE(claims);
    claims[0] = (struct mv_memory_claim){ 1000, 0, 0 };
    claims[1] = (struct mv_memory_claim){ 2000, 0, 1 };
    claims[2] = (struct mv_memory_claim){ 50, 0, MV_CLAIM_TARGET_GLOBAL };
    memset(fx.domctl, 0, sizeof(*fx.domctl));
    req = (struct mv_domctl_claim_memory){ ADDR(claims), 3, 0 };
    memcpy(&fx.domctl->u, &req, sizeof(req));
    CHECK_EQ(domctl(&fx, fx.dom0, fx.domctl, MV_DOMCTL_claim_memory, d), 0);
    CHECK_EQ(test_outstanding(fx.hv), 3050);
    /* cmd must be 0; pad must be 0; the array must be readable. */
    claims[1].cmd = 1;
    CHECK_EQ(domctl(&fx, fx.dom0, fx.domctl, MV_DOMCTL_claim_memory, d), -EINVAL);
    claims[1].cmd = 0;
    req.nr_claims = 4;
    memcpy(&fx.domctl->u, &req, sizeof(req));
    CHECK_EQ(domctl(&fx, fx.dom0, fx.domctl, MV_DOMCTL_claim_memory, d), -EFAULT);
    req.nr_claims = MV_CLAIM_MAX_ENTRIES + 1;
    memcpy(&fx.domctl->u, &req, sizeof(req));
    CHECK_EQ(domctl(&fx, fx.dom0, fx.domctl, MV_DOMCTL_claim_memory, d), -E2BIG);
    req.nr_claims = 1;
    req.pad = 1;
    memcpy(&fx.domctl->u, &req, sizeof(req));
    CHECK_EQ(domctl(&fx, fx.dom0, fx.domctl, MV_DOMCTL_claim_memory, d), -EINVAL);
    claims[0] = (struct mv_memory_claim){ 1, 0, 9 };
    req.pad = 0;
    memcpy(&fx.domctl->u, &req, sizeof(req));
    CHECK_EQ(domctl(&fx, fx.dom0, fx.domctl, MV_DOMCTL_claim_memory, d), -ENOENT);
    CHECK_EQ(test_outstanding(fx.hv), 3050);
    claims[0] = (struct mv_memory_claim){ 0, 0, MV_CLAIM_TARGET_GLOBAL };
    CHECK_EQ(domctl(&fx, fx.dom0, fx.domctl, MV_DOMCTL_claim_memory, d), 0);
    CHECK_EQ(test_outstanding(fx.hv), 0);
    CHECK_HV(fx.hv);
    fixture_fini(&fx);
}

HARNESS_MAIN("hypercall", TEST_ENTRY(test_unknown_ops),
             TEST_ENTRY(test_interface_version_and_faults), TEST_ENTRY(test_privilege),
             TEST_ENTRY(test_reservation_orders_and_limits),
             TEST_ENTRY(test_claim_pages_validation), TEST_ENTRY(test_multicall),
             TEST_ENTRY(test_createdomain_validation), TEST_ENTRY(test_domain_info_and_lists),
             TEST_ENTRY(test_physinfo_numainfo), TEST_ENTRY(test_page_offline_op),
             TEST_ENTRY(test_xen_version), TEST_ENTRY(test_claim_set_domctl))
