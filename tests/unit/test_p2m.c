/* Unit tests: the p2m (4 KiB, 2 MiB and 1 GiB entries, splitting) and the
 * physmap operations built on it. */
#include "../support.h"

static void test_entries_and_split(void)
{
    struct hv *hv = test_hv(GiB(2), 1, false);
    struct domain *d = test_domain(hv, true, PAGES(GiB(2)));
    struct p2m_entry e;
    mfn_t big, sp;
    struct p2m *p;

    REQUIRE(d);
    p = d->p2m;
    REQUIRE(domain_alloc_pages(d, GIGAPAGE_ORDER, 0, &big) == 0);
    REQUIRE(domain_alloc_pages(d, SUPERPAGE_ORDER, 0, &sp) == 0);

    p2m_lock(p);
    CHECK_EQ(p2m_set_range_locked(p, _gfn(UINT64_C(1) << 18), big, GIGAPAGE_ORDER, P2M_RAM_RW), 0);
    CHECK_EQ(p2m_set_range_locked(p, _gfn(0), sp, SUPERPAGE_ORDER, P2M_RAM_RW), 0);
    p2m_unlock(p);
    CHECK_EQ(p2m_nr_ram_pages(p), (UINT64_C(1) << 18) + 512);

    p2m_lookup(p, _gfn((UINT64_C(1) << 18) + 12345), &e);
    CHECK_EQ(e.type, P2M_RAM_RW);
    CHECK_EQ(e.order, GIGAPAGE_ORDER);
    CHECK_EQ(mfn_x(e.mfn), mfn_x(big) + 12345);
    p2m_lookup(p, _gfn(511), &e);
    CHECK_EQ(e.order, SUPERPAGE_ORDER);
    CHECK_EQ(mfn_x(e.mfn), mfn_x(sp) + 511);
    p2m_lookup(p, _gfn(512), &e);
    CHECK_EQ(e.type, P2M_INVALID);
    CHECK_EQ(p2m_check(p, stderr), 0);

    /* Unmapping one 4 KiB page inside the 1 GiB entry splits it twice;
     * every other translation is unchanged. */
    p2m_lock(p);
    CHECK_EQ(p2m_set_range_locked(p, _gfn((UINT64_C(1) << 18) + 700), INVALID_MFN, 0, P2M_INVALID), 0);
    p2m_unlock(p);
    p2m_lookup(p, _gfn((UINT64_C(1) << 18) + 700), &e);
    CHECK_EQ(e.type, P2M_INVALID);
    p2m_lookup(p, _gfn((UINT64_C(1) << 18) + 701), &e);
    CHECK_EQ(e.order, 0);
    CHECK_EQ(mfn_x(e.mfn), mfn_x(big) + 701);
    p2m_lookup(p, _gfn((UINT64_C(1) << 18) + 512 * 7), &e);
    CHECK_EQ(e.order, SUPERPAGE_ORDER);
    CHECK_EQ(mfn_x(e.mfn), mfn_x(big) + 512 * 7);
    CHECK_EQ(p2m_nr_ram_pages(p), (UINT64_C(1) << 18) + 511);
    CHECK_EQ(p2m_max_mapped_gfn(p), (UINT64_C(1) << 19) - 1);

    /* Out of range. */
    p2m_lock(p);
    CHECK_EQ(p2m_set_range_locked(p, _gfn(P2M_GFN_LIMIT), sp, 0, P2M_RAM_RW), -EINVAL);
    CHECK_EQ(p2m_set_range_locked(p, _gfn(P2M_GFN_LIMIT - 1), sp, 1, P2M_RAM_RW), -EINVAL);
    p2m_unlock(p);
    domain_put(d);
    hv_destroy(hv);
}

/* A misaligned range is mapped in the largest pieces that fit. */
static void test_misaligned_range(void)
{
    struct hv *hv = test_hv(MiB(64), 1, false);
    struct domain *d = test_domain(hv, true, 4096);
    struct p2m_entry e;
    mfn_t sp;

    REQUIRE(d);
    REQUIRE(domain_alloc_pages(d, SUPERPAGE_ORDER, 0, &sp) == 0);
    p2m_lock(d->p2m);
    CHECK_EQ(p2m_set_range_locked(d->p2m, _gfn(3), sp, SUPERPAGE_ORDER, P2M_RAM_RW), 0);
    p2m_unlock(d->p2m);
    for (uint64_t g = 3; g < 3 + 512; g += 37) {
        p2m_lookup(d->p2m, _gfn(g), &e);
        CHECK_EQ(e.type, P2M_RAM_RW);
        CHECK_EQ(e.order, 0);
        CHECK_EQ(mfn_x(e.mfn), mfn_x(sp) + g - 3);
    }
    CHECK_EQ(p2m_nr_ram_pages(d->p2m), 512);
    CHECK_EQ(p2m_check(d->p2m, stderr), 0);
    domain_put(d);
    hv_destroy(hv);
}

static void test_physmap_hvm(void)
{
    struct hv *hv = test_hv(MiB(64), 1, false);
    uint64_t before = test_free_pages(hv), done;
    struct domain *d = test_domain(hv, true, 4096);
    struct p2m_entry e;
    mfn_t mfn;

    REQUIRE(d);
    REQUIRE(physmap_populate(d, _gfn(1024), SUPERPAGE_ORDER, 0, &mfn) == 0);
    REQUIRE(physmap_populate(d, _gfn(5), 0, 0, &mfn) == 0);
    CHECK_EQ(test_free_pages(hv), before - 513);
    /* Removing one page of the superpage. */
    CHECK_EQ(physmap_remove_page(d, _gfn(1030)), 0);
    CHECK_EQ(physmap_remove_page(d, _gfn(1030)), -ENOENT);
    CHECK_EQ(physmap_remove_page(d, _gfn(99999)), -ENOENT);
    p2m_lookup(d->p2m, _gfn(1031), &e);
    CHECK_EQ(e.type, P2M_RAM_RW);
    CHECK_EQ(test_free_pages(hv), before - 512);
    CHECK_HV(hv);
    /* A range with a hole stops at the hole. */
    CHECK_EQ(physmap_remove_range(d, _gfn(1024), SUPERPAGE_ORDER, &done), -ENOENT);
    CHECK_EQ(done, 6);
    /* Whole superpage fast path. */
    REQUIRE(physmap_populate(d, _gfn(4096), SUPERPAGE_ORDER, 0, &mfn) == 0);
    CHECK_EQ(physmap_remove_range(d, _gfn(4096), SUPERPAGE_ORDER, &done), 0);
    CHECK_EQ(done, 512);
    /* Populating over an existing mapping keeps the old page with the
     * domain, as Xen does. */
    REQUIRE(physmap_populate(d, _gfn(5), 0, 0, &mfn) == 0);
    CHECK_EQ(p2m_nr_ram_pages(d->p2m), 1 + (512 - 7));
    CHECK_HV(hv);
    /* Beyond the p2m: refused before anything is allocated. */
    CHECK_EQ(physmap_populate(d, _gfn(P2M_GFN_LIMIT), 0, 0, &mfn), -EINVAL);
    domain_put(d);
    hv_destroy(hv);
}

static void test_physmap_pv(void)
{
    struct hv *hv = test_hv(MiB(64), 1, false);
    struct domain *d = test_domain(hv, false, 4096);
    struct domain *e = test_domain(hv, false, 4096);
    uint64_t done;
    mfn_t mfn, other;

    REQUIRE(d && e);
    REQUIRE(physmap_populate(d, _gfn(0), 4, 0, &mfn) == 0);
    REQUIRE(physmap_populate(e, _gfn(0), 0, 0, &other) == 0);
    /* PV guests name machine frames; only their own. */
    CHECK_EQ(physmap_remove_page(d, _gfn(mfn_x(other))), -EINVAL);
    CHECK_EQ(physmap_remove_page(d, _gfn(mfn_x(mfn) + 3)), 0);
    CHECK_EQ(physmap_remove_range(d, _gfn(mfn_x(mfn) + 8), 3, &done), 0);
    CHECK_EQ(done, 8);
    CHECK_EQ(physmap_remove_page(d, INVALID_GFN), -EINVAL);
    CHECK_HV(hv);
    domain_put(d);
    domain_put(e);
    hv_destroy(hv);
}

HARNESS_MAIN("p2m", TEST_ENTRY(test_entries_and_split), TEST_ENTRY(test_misaligned_range),
             TEST_ENTRY(test_physmap_hvm), TEST_ENTRY(test_physmap_pv))
