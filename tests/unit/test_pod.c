/* Unit tests: populate-on-demand (specs A), guests that boot ballooned,
 * and a test for each row of the spec's bug-fix table (A14) that applies
 * here. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include <xen/xen.h>
#include <xen/memory.h>

#include "memvisor/guest.h"
#include "../memop.h"
#include "../support.h"

#define ADDR(p) ((uint64_t)(uintptr_t)(p))
#define MIB_PAGES(n) ((uint64_t)(n) << 8)

struct fx {
    struct hv *hv;
    struct hc_session *dom0;
    struct xen_memory_reservation *r;
    struct xen_pod_target *t;
    xen_pfn_t *ext;
};

static void fx_init(struct fx *fx, uint64_t ram)
{
    fx->hv = test_hv(ram, 1, false);
    if (hc_session_create(fx->hv, 0, true, &fx->dom0))
        exit(1);
    fx->r = hc_buffer_alloc(fx->dom0, sizeof(*fx->r));
    fx->t = hc_buffer_alloc(fx->dom0, sizeof(*fx->t));
    fx->ext = hc_buffer_alloc(fx->dom0, 1024 * sizeof(xen_pfn_t));
    if (!fx->r || !fx->t || !fx->ext)
        exit(1);
}

static void fx_fini(struct fx *fx)
{
    hc_session_destroy(fx->dom0);
    hv_destroy(fx->hv);
}

/* XENMEM_{set,get}_pod_target from dom0: rc, figures in fx->t. */
static long pod_target(struct fx *fx, unsigned cmd, domid_t domid, uint64_t target)
{
    fx->t->domid = domid;
    fx->t->target_pages = target;
    return hc_call(fx->dom0, HC_MEMORY_OP, cmd, ADDR(fx->t), 0, 0, 0);
}

/* One PoD extent from dom0: 1 if done. */
static long mark(struct fx *fx, domid_t domid, uint64_t gfn, unsigned order)
{
    fx->ext[0] = gfn;
    return test_memop(fx->dom0, fx->r, XENMEM_populate_physmap, domid, fx->ext, 1, order,
                 XENMEMF_populate_on_demand);
}

static long populate(struct fx *fx, domid_t domid, uint64_t gfn, unsigned order)
{
    fx->ext[0] = gfn;
    return test_memop(fx->dom0, fx->r, XENMEM_populate_physmap, domid, fx->ext, 1, order, 0);
}

static long decrease(struct fx *fx, domid_t domid, uint64_t gfn, unsigned order)
{
    fx->ext[0] = gfn;
    return test_memop(fx->dom0, fx->r, XENMEM_decrease_reservation, domid, fx->ext, 1, order, 0);
}

/*
 * A guest built as libxc's meminit_hvm builds one with PoD: the target
 * first, then the whole physmap PoD in 1 GiB, 2 MiB and 4 KiB extents.
 */
static struct domain *pod_guest(struct fx *fx, uint64_t maxmem, uint64_t target)
{
    struct domain *d = test_domain(fx->hv, true, maxmem);

    if (!d || pod_target(fx, XENMEM_set_pod_target, d->domid, target))
        return NULL;
    for (uint64_t gfn = 0; gfn < maxmem;) {
        unsigned order = 0;

        if (is_aligned_u64(gfn, GIGAPAGE_ORDER) && maxmem - gfn >= (UINT64_C(1) << 18))
            order = GIGAPAGE_ORDER;
        else if (is_aligned_u64(gfn, SUPERPAGE_ORDER) && maxmem - gfn >= SUPERPAGE_PAGES)
            order = SUPERPAGE_ORDER;
        if (mark(fx, d->domid, gfn, order) != 1)
            return NULL;
        gfn += UINT64_C(1) << order;
    }
    return d;
}

static struct pod_target figures(struct domain *d)
{
    struct pod_target t;

    p2m_pod_get_target(d, &t);
    return t;
}

/* The equations of specs A1 for a guest nothing was displaced from:
 * tot = populated + cache, and entries + populated = what the balloon
 * left (B). */
static void check_equations(struct domain *d, uint64_t b)
{
    struct pod_target t = figures(d);

    CHECK_EQ(t.tot_pages, p2m_nr_ram_pages(d->p2m) + t.pod_cache_pages);
    CHECK_EQ(t.pod_entries + p2m_nr_ram_pages(d->p2m), b);
}

static void test_target_and_demand_populate(void)
{
    struct fx fx;
    struct domain *d;
    struct p2m_entry e;
    struct pod_stats st;
    uint64_t free0;

    fx_init(&fx, GiB(2));
    free0 = test_free_pages(fx.hv);
    d = pod_guest(&fx, MIB_PAGES(2048), MIB_PAGES(64));
    REQUIRE(d);
    /* Set before anything was populated (085c366982): the cache holds the
     * target, the physmap is all PoD, nothing is mapped. */
    CHECK_EQ(pod_target(&fx, XENMEM_get_pod_target, d->domid, 0), 0);
    CHECK_EQ(fx.t->tot_pages, MIB_PAGES(64));
    CHECK_EQ(fx.t->pod_cache_pages, MIB_PAGES(64));
    CHECK_EQ(fx.t->pod_entries, MIB_PAGES(2048));
    CHECK_EQ(free0 - test_free_pages(fx.hv), MIB_PAGES(64));
    p2m_lookup(d->p2m, _gfn(12345), &e);
    CHECK_EQ(e.type, P2M_POD);
    CHECK_EQ(e.order, GIGAPAGE_ORDER);

    /* A first touch shatters the 1 GiB entry, then populates 2 MiB whole
     * from a chunk: a superpage mapping. */
    CHECK_EQ(guest_touch(d, _gfn(1000), 1), 0);
    p2m_lookup(d->p2m, _gfn(1000), &e);
    CHECK_EQ(e.type, P2M_RAM_RW);
    CHECK_EQ(e.order, SUPERPAGE_ORDER);
    p2m_lookup(d->p2m, _gfn(600), &e);
    CHECK_EQ(e.order, SUPERPAGE_ORDER);
    p2m_lookup(d->p2m, _gfn(2000), &e);
    CHECK_EQ(e.type, P2M_POD);
    CHECK_EQ(e.order, SUPERPAGE_ORDER);
    p2m_pod_get_stats(d, &st);
    CHECK_EQ(st.shatters, 1);
    CHECK_EQ(st.populated_2m, 1);
    check_equations(d, MIB_PAGES(2048));
    /* Its M2P maps back; the page reads zero. */
    {
        uint64_t v = 1;
        p2m_lookup(d->p2m, _gfn(1000), &e);
        CHECK_EQ(machine_m2p(fx.hv->m, e.mfn), 1000);
        CHECK_EQ(guest_read(d, 1000 << PAGE_SHIFT, &v, sizeof(v)), 0);
        CHECK_EQ(v, 0);
    }
    /* A lowered target never shrinks the cache; a raised one grows it. */
    CHECK_EQ(pod_target(&fx, XENMEM_set_pod_target, d->domid, MIB_PAGES(32)), 0);
    CHECK_EQ(fx.t->tot_pages, MIB_PAGES(64));
    CHECK_EQ(pod_target(&fx, XENMEM_set_pod_target, d->domid, MIB_PAGES(96)), 0);
    CHECK_EQ(fx.t->tot_pages, MIB_PAGES(96));
    CHECK_EQ(fx.t->pod_cache_pages, MIB_PAGES(96) - 512);
    /* Over max_pages, a PV domain, unknown, unprivileged. */
    CHECK_EQ(pod_target(&fx, XENMEM_set_pod_target, d->domid, MIB_PAGES(2048) + 1), -EINVAL);
    CHECK_EQ(pod_target(&fx, XENMEM_set_pod_target, 4000, 1), -ESRCH);
    {
        struct domain *pv = test_domain(fx.hv, false, 100);
        struct hc_session *g;
        struct xen_pod_target *gt;

        CHECK_EQ(pod_target(&fx, XENMEM_set_pod_target, pv->domid, 10), -EINVAL);
        REQUIRE(hc_session_create(fx.hv, d->domid, false, &g) == 0);
        gt = hc_buffer_alloc(g, sizeof(*gt));
        gt->domid = DOMID_SELF;
        CHECK_EQ(hc_call(g, HC_MEMORY_OP, XENMEM_get_pod_target, ADDR(gt), 0, 0, 0), -EPERM);
        hc_session_destroy(g);
        domain_kill(pv);
        domain_put(pv);
    }
    CHECK_HV(fx.hv);
    /* Destroying the domain gives everything back, cache included. */
    domain_kill(d);
    domain_put(d);
    CHECK_EQ(test_free_pages(fx.hv), free0);
    CHECK_HV(fx.hv);
    fx_fini(&fx);
}

/* 4 KiB faults when the cache has no 2 MiB chunk: the entry splinters. */
static void test_splinter(void)
{
    struct fx fx;
    struct domain *d;
    struct p2m_entry e;
    struct pod_stats st;

    fx_init(&fx, GiB(1));
    d = pod_guest(&fx, MIB_PAGES(8), 100); /* under 512: single pages */
    REQUIRE(d);
    CHECK_EQ(figures(d).pod_cache_pages, 100);
    CHECK_EQ(guest_touch(d, _gfn(513), 1), 0);
    p2m_lookup(d->p2m, _gfn(513), &e);
    CHECK_EQ(e.type, P2M_RAM_RW);
    CHECK_EQ(e.order, 0);
    p2m_lookup(d->p2m, _gfn(514), &e);
    CHECK_EQ(e.type, P2M_POD);
    CHECK_EQ(e.order, 0);
    p2m_pod_get_stats(d, &st);
    CHECK_EQ(st.splinters, 1);
    CHECK_EQ(st.populated_4k, 1);
    check_equations(d, MIB_PAGES(8));
    CHECK_HV(fx.hv);
    domain_kill(d);
    domain_put(d);
    fx_fini(&fx);
}

/* populate_physmap over PoD entries takes them out of entry_count
 * (Xen's p2m_add_page), so the cache can outnumber the entries; a target
 * at or above tot_pages then brings it down to them (Xen asserts there,
 * then shrinks). */
static void test_populate_over_pod(void)
{
    struct fx fx;
    struct domain *d;
    uint64_t free0;

    fx_init(&fx, GiB(1));
    free0 = test_free_pages(fx.hv);
    d = pod_guest(&fx, 1024, 1024);
    REQUIRE(d);
    CHECK_EQ(figures(d).pod_cache_pages, 1024);
    /* Room to populate on top (xl mem-max). */
    domain_set_max_pages(d, 2048);
    CHECK_EQ(populate(&fx, d->domid, 0, SUPERPAGE_ORDER), 1);
    CHECK_EQ(populate(&fx, d->domid, 600, 0), 1);
    CHECK_EQ(figures(d).pod_entries, 1024 - 513);
    CHECK_EQ(figures(d).pod_cache_pages, 1024);
    CHECK_EQ(figures(d).tot_pages, 1024 + 513);
    CHECK_HV(fx.hv);
    CHECK_EQ(pod_target(&fx, XENMEM_set_pod_target, d->domid, 2048), 0);
    CHECK_EQ(fx.t->pod_cache_pages, 1024 - 513);
    CHECK_EQ(fx.t->tot_pages, 1024);
    check_equations(d, 1024);
    CHECK_EQ(free0 - test_free_pages(fx.hv), 1024);
    CHECK_HV(fx.hv);
    domain_kill(d);
    domain_put(d);
    fx_fini(&fx);
}

/* Scenario (a): a balloon driver that inflates at boot to maxmem - target
 * before the guest works: never backed by more than its target. */
static void test_boot_balloon_first(void)
{
    struct fx fx;
    struct domain *d;
    struct domain_info info;
    const uint64_t maxmem = MIB_PAGES(8192), target = MIB_PAGES(1024);

    fx_init(&fx, GiB(2));
    d = pod_guest(&fx, maxmem, target);
    REQUIRE(d);
    CHECK_EQ(guest_balloon_inflate(fx.hv, d, maxmem, maxmem - target, SUPERPAGE_ORDER),
             (int64_t)(maxmem - target));
    CHECK_EQ(figures(d).pod_entries, target);
    CHECK_EQ(figures(d).pod_cache_pages, target);
    check_equations(d, target);
    /* The guest now uses all it has, with data. */
    CHECK_EQ(guest_dirty(d, 0, target, 7), 0);
    CHECK_EQ(guest_verify(d, 0, target, 7), 0);
    CHECK_EQ(figures(d).pod_entries, 0);
    CHECK_EQ(figures(d).pod_cache_pages, 0);
    domain_get_info(d, &info);
    CHECK(!info.crashed);
    CHECK(info.peak_pages <= target);
    CHECK_EQ(info.tot_pages, target);
    CHECK_HV(fx.hv);
    domain_kill(d);
    domain_put(d);
    fx_fini(&fx);
}

/* Scenario (b): the boot scrubber zeroes all 8 GiB first, the balloon
 * inflates later: reclaim keeps it alive, and it never holds more than
 * its target. */
static void test_boot_scrubber_first(void)
{
    struct fx fx;
    struct domain *d;
    struct domain_info info;
    struct pod_stats st;
    const uint64_t maxmem = MIB_PAGES(8192), target = MIB_PAGES(1024);

    fx_init(&fx, GiB(2));
    d = pod_guest(&fx, maxmem, target);
    REQUIRE(d);
    CHECK_EQ(guest_boot_scrub(d, maxmem), 0);
    domain_get_info(d, &info);
    CHECK(!info.crashed);
    CHECK(info.peak_pages <= target);
    p2m_pod_get_stats(d, &st);
    CHECK(st.reclaimed_2m + st.reclaimed_4k > 0);
    check_equations(d, maxmem);
    CHECK_HV(fx.hv);
    /* The balloon catches up; the guest then works in what is left. */
    CHECK_EQ(guest_balloon_inflate(fx.hv, d, maxmem, maxmem - target, SUPERPAGE_ORDER),
             (int64_t)(maxmem - target));
    CHECK_EQ(guest_dirty(d, 0, target, 3), 0);
    CHECK_EQ(guest_verify(d, 0, target, 3), 0);
    domain_get_info(d, &info);
    CHECK(!info.crashed);
    CHECK(info.peak_pages <= target);
    CHECK_HV(fx.hv);
    domain_kill(d);
    domain_put(d);
    fx_fini(&fx);
}

/* Scenario (c): no balloon driver, a workload that dirties memory: the
 * domain is crashed when the cache runs dry, with its figures named; its
 * memory goes back; the host and another guest carry on. */
static void test_out_of_pod_memory(void)
{
    struct fx fx;
    struct domain *d, *other;
    struct domain_info info;
    uint64_t free0;
    domid_t domid;
    int rc;

    fx_init(&fx, GiB(2));
    free0 = test_free_pages(fx.hv);
    other = pod_guest(&fx, MIB_PAGES(64), MIB_PAGES(64));
    REQUIRE(other);
    CHECK_EQ(guest_dirty(other, 0, MIB_PAGES(64), 11), 0);
    d = pod_guest(&fx, MIB_PAGES(1024), MIB_PAGES(128));
    REQUIRE(d);
    domid = d->domid;
    rc = guest_dirty(d, 0, MIB_PAGES(1024), 5);
    CHECK_EQ(rc, -ESRCH);
    domain_get_info(d, &info);
    CHECK(info.crashed);
    CHECK(strstr(info.crash_reason, "out of PoD memory") != NULL);
    CHECK(strstr(info.crash_reason, "ents=") != NULL);
    CHECK_EQ(info.state, DOMAIN_DEAD);
    CHECK(info.peak_pages <= MIB_PAGES(128));
    CHECK(domain_lookup(fx.hv->domains, domid) == NULL);
    domain_put(d);
    /* Everything it had is free again; the other guest is untouched. */
    CHECK_EQ(free0 - test_free_pages(fx.hv), MIB_PAGES(64));
    CHECK_EQ(guest_verify(other, 0, MIB_PAGES(64), 11), 0);
    CHECK_HV(fx.hv);
    domain_kill(other);
    domain_put(other);
    CHECK_EQ(test_free_pages(fx.hv), free0);
    fx_fini(&fx);
}

/* XSA-30 (54c82f9962): a guest may not mark PoD on itself. */
static void test_no_pod_on_oneself(void)
{
    struct fx fx;
    struct domain *d;
    struct hc_session *g;
    struct xen_memory_reservation *r;
    xen_pfn_t *ext;

    fx_init(&fx, GiB(1));
    d = test_domain(fx.hv, true, 1024);
    REQUIRE(d && hc_session_create(fx.hv, d->domid, false, &g) == 0);
    r = hc_buffer_alloc(g, sizeof(*r));
    ext = hc_buffer_alloc(g, sizeof(*ext));
    ext[0] = 10;
    CHECK_EQ(test_memop(g, r, XENMEM_populate_physmap, DOMID_SELF, ext, 1, 0,
                   XENMEMF_populate_on_demand), 0);
    CHECK_EQ(figures(d).pod_entries, 0);
    /* The toolstack may; a mapped gfn is EBUSY; a PV guest's PoD extents
     * are skipped as Xen skips them. */
    CHECK_EQ(mark(&fx, d->domid, 10, 0), 1);
    CHECK_EQ(populate(&fx, d->domid, 20, 0), 1);
    CHECK_EQ(mark(&fx, d->domid, 16, 3), 0);
    CHECK_EQ(figures(d).pod_entries, 1);
    hc_session_destroy(g);
    CHECK_HV(fx.hv);
    domain_kill(d);
    domain_put(d);
    fx_fini(&fx);
}

/* XSA-388 (182c737b9b): misaligned ranges go in aligned chunks, for
 * populate and for decrease. */
static void test_misaligned_ranges(void)
{
    struct fx fx;
    struct domain *d;
    struct p2m_entry e;

    fx_init(&fx, GiB(1));
    d = test_domain(fx.hv, true, MIB_PAGES(64));
    REQUIRE(d);
    CHECK_EQ(mark(&fx, d->domid, 3, SUPERPAGE_ORDER), 1); /* [3, 515) */
    CHECK_EQ(figures(d).pod_entries, 512);
    p2m_lookup(d->p2m, _gfn(2), &e);
    CHECK_EQ(e.type, P2M_INVALID);
    p2m_lookup(d->p2m, _gfn(514), &e);
    CHECK_EQ(e.type, P2M_POD);
    p2m_lookup(d->p2m, _gfn(515), &e);
    CHECK_EQ(e.type, P2M_INVALID);
    /* Decrease [259, 771): 256 PoD pages are dealt with; the other 256
     * were holes already, so the extent fails (7867181b2a: exactly
     * pod_done ENOENTs are tolerated). */
    CHECK_EQ(decrease(&fx, d->domid, 259, SUPERPAGE_ORDER), 0);
    CHECK_EQ(figures(d).pod_entries, 256);
    /* Decrease [3, 259): all PoD, done. */
    CHECK_EQ(decrease(&fx, d->domid, 3, 8), 1);
    CHECK_EQ(figures(d).pod_entries, 0);
    CHECK_HV(fx.hv);
    domain_kill(d);
    domain_put(d);
    fx_fini(&fx);
}

/* 578f90e3e5 / 7867181b2a: a range of PoD entries and RAM: PoD deals with
 * its part, the generic path with the rest, and the extent succeeds. */
static void test_decrease_mixed(void)
{
    struct fx fx;
    struct domain *d;
    uint64_t tot;

    fx_init(&fx, GiB(1));
    d = pod_guest(&fx, MIB_PAGES(16), MIB_PAGES(16));
    REQUIRE(d);
    CHECK_EQ(guest_dirty(d, 0, 8, 1), 0); /* 2 MiB populated, dirty */
    tot = figures(d).tot_pages;
    /* The cache covers every entry: nothing to steal; the 16 RAM pages
     * (of the 2 MiB frame the touch populated) go by the generic path. */
    CHECK_EQ(decrease(&fx, d->domid, 0, 4), 1);
    CHECK_EQ(figures(d).tot_pages, tot - 16);
    CHECK_EQ(p2m_nr_ram_pages(d->p2m), 512 - 16);
    CHECK_HV(fx.hv);
    domain_kill(d);
    domain_put(d);
    fx_fini(&fx);
}

/* While entries outnumber the cache, RAM given back is stolen into the
 * cache: whole 2 MiB frames when they are zero (a8a3ef6318, 513c203a00),
 * every M2P cleared (8e4d495cb8), any order accepted (XSA-388,
 * 8ec13f68e0), never a special page (XSA-507). */
static void test_steal_for_cache(void)
{
    struct fx fx;
    struct domain *d;
    struct pod_stats st;
    struct p2m_entry e;
    mfn_t special;
    uint64_t cache;

    fx_init(&fx, GiB(4));
    d = pod_guest(&fx, MIB_PAGES(2048), MIB_PAGES(4));
    REQUIRE(d);
    /* A zero 2 MiB frame, populated: giving back one 4 KiB page of it
     * takes the whole frame back (the rest stays PoD). */
    CHECK_EQ(guest_touch(d, _gfn(512), 1), 0);
    cache = figures(d).pod_cache_pages;
    CHECK_EQ(decrease(&fx, d->domid, 700, 0), 1);
    p2m_pod_get_stats(d, &st);
    CHECK_EQ(st.reclaimed_2m, 1);
    CHECK_EQ(figures(d).pod_cache_pages, cache + 512);
    p2m_lookup(d->p2m, _gfn(701), &e);
    CHECK_EQ(e.type, P2M_POD);
    p2m_lookup(d->p2m, _gfn(700), &e);
    CHECK_EQ(e.type, P2M_INVALID);
    /* A dirty 2 MiB frame given back whole is stolen and scrubbed; no
     * frame of it maps back to the guest. */
    CHECK_EQ(guest_dirty(d, 1024, 512, 9), 0);
    p2m_lookup(d->p2m, _gfn(1024), &e);
    REQUIRE(e.order == SUPERPAGE_ORDER);
    CHECK_EQ(decrease(&fx, d->domid, 1024, SUPERPAGE_ORDER), 1);
    for (uint64_t k = 0; k < 512; k++)
        CHECK_EQ(machine_m2p(fx.hv->m, _mfn(mfn_x(e.mfn) + k)), UINT64_MAX);
    p2m_pod_get_stats(d, &st);
    CHECK_EQ(st.stolen, 512);
    CHECK_HV(fx.hv); /* the cache holds zero pages only */
    /* A 1 GiB extent of RAM given back: order 18 into the cache as
     * chunks. */
    CHECK_EQ(decrease(&fx, d->domid, UINT64_C(1) << 18, GIGAPAGE_ORDER), 1);
    CHECK_EQ(populate(&fx, d->domid, UINT64_C(1) << 18, GIGAPAGE_ORDER), 1);
    CHECK_EQ(guest_dirty(d, UINT64_C(1) << 18, 4, 2), 0);
    CHECK_EQ(decrease(&fx, d->domid, UINT64_C(1) << 18, GIGAPAGE_ORDER), 1);
    p2m_pod_get_stats(d, &st);
    CHECK_EQ(st.stolen, 512 + (UINT64_C(1) << 18));
    CHECK_HV(fx.hv);
    /* A special page (Xen's PGC_extra: shared_info and the like) is never
     * stolen: the generic path removes it. */
    REQUIRE(domain_alloc_pages(d, 0, MEMF_no_refcount, &special) == 0);
    p2m_lock(d->p2m);
    CHECK_EQ(p2m_set_range_locked(d->p2m, _gfn(2000), special, 0, P2M_RAM_RW), 0);
    p2m_unlock(d->p2m);
    CHECK_EQ(decrease(&fx, d->domid, 2000, 0), 1);
    p2m_pod_get_stats(d, &st);
    CHECK_EQ(st.stolen, 512 + (UINT64_C(1) << 18));
    CHECK(!domain_owns_page(d, special));
    CHECK_HV(fx.hv);
    domain_kill(d);
    domain_put(d);
    fx_fini(&fx);
}

/* 556c69f4ef: no eager reclaim while the cache covers the entries; and
 * XSA-150 (101ce53266): with the cache dry, at most the 32 ring slots are
 * looked at per fault before the sweep. */
static void test_eager_reclaim_bounds(void)
{
    struct fx fx;
    struct domain *d;
    struct pod_stats st;

    fx_init(&fx, GiB(1));
    d = pod_guest(&fx, MIB_PAGES(64), MIB_PAGES(64));
    REQUIRE(d);
    CHECK_EQ(guest_touch(d, _gfn(0), MIB_PAGES(64)), 0);
    p2m_pod_get_stats(d, &st);
    CHECK_EQ(st.reclaimed_2m + st.reclaimed_4k, 0);
    domain_kill(d);
    domain_put(d);

    /* Target 4 MiB of 64: touching 2 MiB frames one after the other, each
     * fault after the first two reclaims the oldest (zero) frame from the
     * ring and goes on. */
    d = pod_guest(&fx, MIB_PAGES(64), MIB_PAGES(4));
    REQUIRE(d);
    CHECK_EQ(guest_touch(d, _gfn(0), MIB_PAGES(64)), 0);
    p2m_pod_get_stats(d, &st);
    CHECK_EQ(st.reclaimed_2m, 30);
    CHECK_EQ(st.sweeps, 0);
    CHECK(domain_tot_pages(d) <= MIB_PAGES(4));
    check_equations(d, MIB_PAGES(64));
    CHECK_HV(fx.hv);
    domain_kill(d);
    domain_put(d);
    fx_fini(&fx);
}

/* A guest zeroing its memory (guest_zero): every page is faulted in from
 * the cache and reads back zero, written ones included; a hole ends it
 * with -EFAULT after the pages before it. */
static void test_guest_zero(void)
{
    struct fx fx;
    struct domain *d;
    struct pod_stats st;
    uint64_t word = 1;

    fx_init(&fx, GiB(1));
    d = pod_guest(&fx, MIB_PAGES(8), MIB_PAGES(4));
    REQUIRE(d);
    CHECK_EQ(guest_dirty(d, 0, 64, 4), 0);
    CHECK_EQ(guest_zero(d, _gfn(0), 1000), 0);
    p2m_pod_get_stats(d, &st);
    CHECK_EQ(st.populated_2m * SUPERPAGE_PAGES + st.populated_4k, 1024);
    for (uint64_t gfn = 0; gfn < 1000; gfn++) {
        CHECK_EQ(guest_read(d, (gfn << PAGE_SHIFT) + 2048, &word, sizeof(word)), 0);
        CHECK_EQ(word, 0);
    }
    CHECK_EQ(guest_zero(d, _gfn(MIB_PAGES(8) - 2), 4), -EFAULT);
    CHECK_EQ(guest_zero(d, _gfn(UINT64_MAX - 1), 4), -EFAULT);
    CHECK_HV(fx.hv);
    domain_kill(d);
    domain_put(d);
    fx_fini(&fx);
}

/* The emergency sweep: 4 KiB pages, downwards from the highest gfn
 * populated; it finds the one zero page among dirty ones. */
static void test_emergency_sweep(void)
{
    struct fx fx;
    struct domain *d;
    struct pod_stats st;
    struct domain_info info;

    fx_init(&fx, GiB(1));
    d = pod_guest(&fx, MIB_PAGES(8), 64);
    REQUIRE(d);
    CHECK_EQ(guest_dirty(d, 0, 64, 4), 0);
    /* One page goes back to zero; the ring only has dirty pages ahead of
     * it, so the sweep is what finds it. */
    CHECK_EQ(guest_fill(d, 10 << PAGE_SHIFT, 0, PAGE_SIZE), 0);
    CHECK_EQ(guest_dirty(d, 100, 1, 4), 0);
    p2m_pod_get_stats(d, &st);
    CHECK_EQ(st.sweeps, 1);
    CHECK_EQ(st.reclaimed_4k, 1);
    CHECK(st.swept_gfns >= 1);
    domain_get_info(d, &info);
    CHECK(!info.crashed);
    CHECK_EQ(guest_verify(d, 100, 1, 4), 0);
    CHECK_HV(fx.hv);
    domain_kill(d);
    domain_put(d);
    fx_fini(&fx);
}

/* 9be0b2747b: the ring may name gfns that are holes or PoD by the time it
 * is looked at: only RAM is looked at as a page. */
static void test_reclaim_skips_non_ram(void)
{
    struct fx fx;
    struct domain *d;
    struct domain_info info;

    fx_init(&fx, GiB(1));
    d = pod_guest(&fx, MIB_PAGES(8), 8);
    REQUIRE(d);
    CHECK_EQ(guest_touch(d, _gfn(0), 8), 0);
    CHECK_EQ(decrease(&fx, d->domid, 0, 3), 1); /* the ring's gfns: holes now */
    CHECK_EQ(guest_touch(d, _gfn(16), 8), 0);
    domain_get_info(d, &info);
    CHECK(!info.crashed);
    CHECK_HV(fx.hv);
    domain_kill(d);
    domain_put(d);
    fx_fini(&fx);
}

/* XSA-246 (a1c6c67689), XSA-247 (a3d64de8e8), XSA-389 (74a11c43fd): a p2m
 * change that fails for memory (a table) is a failure, never a loop, never
 * a page in the cache that is still mapped, and the counters stay exact
 * for whatever part did change. */
static void test_failed_p2m_changes(void)
{
    struct fx fx;
    struct domain *d;
    struct domain_info info;

    fx_init(&fx, GiB(1));
    d = pod_guest(&fx, MIB_PAGES(2048), MIB_PAGES(8));
    REQUIRE(d);
    /* The 1 GiB shatter needs a table. */
    fault_arm(&fx.hv->fault, 1, true);
    CHECK_EQ(guest_touch(d, _gfn(5), 1), -ENOMEM);
    fault_disarm(&fx.hv->fault);
    domain_get_info(d, &info);
    CHECK(!info.crashed);
    CHECK_HV(fx.hv);
    CHECK_EQ(guest_touch(d, _gfn(5), 1), 0);
    /* Marking a misaligned range whose pieces need tables, failing at
     * each point in turn: what changed is counted. */
    for (long n = 1; n < 8; n++) {
        fault_arm(&fx.hv->fault, n, true);
        (void)decrease(&fx, d->domid, (UINT64_C(1) << 18) + 3, 0);
        (void)mark(&fx, d->domid, (UINT64_C(1) << 18) + 3, 0);
        fault_disarm(&fx.hv->fault);
        CHECK_HV(fx.hv);
    }
    /* Giving back 4 KiB of a zero 2 MiB frame takes the frame back as one
     * PoD entry, whose split then finds no table: a partial change that
     * cannot be undone crashes the domain, as in Xen, rather than leave a
     * page in the cache that something maps. */
    CHECK_EQ(guest_touch(d, _gfn(1024), 1), 0);
    fault_arm(&fx.hv->fault, 1, true);
    (void)decrease(&fx, d->domid, 1024, 0);
    fault_disarm(&fx.hv->fault);
    domain_get_info(d, &info);
    CHECK(info.crashed);
    CHECK_EQ(guest_touch(d, _gfn(1024), 1), -ESRCH);
    domain_get_info(d, &info);
    CHECK_EQ(info.state, DOMAIN_DEAD);
    CHECK_HV(fx.hv);
    domain_put(d);
    fx_fini(&fx);
}

/* cc950c49ae, ad4312d764: the counters change with the p2m under one
 * lock, and get_pod_target reads them together: while two vCPUs fault
 * pages in, every snapshot has entries + populated = B and
 * tot = populated + cache. */
struct vcpu_arg {
    struct domain *d;
    uint64_t gfn, nr;
    int rc;
};

static void *vcpu(void *arg)
{
    struct vcpu_arg *a = arg;

    a->rc = guest_dirty(a->d, a->gfn, a->nr, a->gfn);
    return NULL;
}

static void test_snapshots_consistent(void)
{
    struct fx fx;
    struct domain *d;
    struct vcpu_arg a[2];
    pthread_t th[2];
    const uint64_t b = MIB_PAGES(64);
    unsigned bad = 0, snaps = 0;

    fx_init(&fx, GiB(1));
    d = pod_guest(&fx, b, b);
    REQUIRE(d);
    for (int i = 0; i < 2; i++) {
        a[i] = (struct vcpu_arg){ d, (uint64_t)i * b / 2, b / 2, 0 };
        REQUIRE(pthread_create(&th[i], NULL, vcpu, &a[i]) == 0);
    }
    for (;;) {
        struct pod_target t = figures(d);
        uint64_t populated = t.tot_pages - t.pod_cache_pages;

        snaps++;
        bad += t.pod_entries + populated != b || t.tot_pages != b;
        if (t.pod_entries == 0)
            break;
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ(a[i].rc, 0);
    }
    CHECK_EQ(bad, 0);
    CHECK(snaps > 0);
    CHECK_EQ(guest_verify(d, 0, b / 2, 0), 0);
    CHECK_EQ(guest_verify(d, b / 2, b / 2, b / 2), 0);
    CHECK_HV(fx.hv);
    domain_kill(d);
    domain_put(d);
    fx_fini(&fx);
}

HARNESS_MAIN("pod", TEST_ENTRY(test_target_and_demand_populate), TEST_ENTRY(test_splinter),
             TEST_ENTRY(test_populate_over_pod),
             TEST_ENTRY(test_boot_balloon_first), TEST_ENTRY(test_boot_scrubber_first),
             TEST_ENTRY(test_out_of_pod_memory), TEST_ENTRY(test_no_pod_on_oneself),
             TEST_ENTRY(test_misaligned_ranges), TEST_ENTRY(test_decrease_mixed),
             TEST_ENTRY(test_steal_for_cache), TEST_ENTRY(test_eager_reclaim_bounds),
             TEST_ENTRY(test_emergency_sweep), TEST_ENTRY(test_guest_zero), TEST_ENTRY(test_reclaim_skips_non_ram),
             TEST_ENTRY(test_failed_p2m_changes), TEST_ENTRY(test_snapshots_consistent))
