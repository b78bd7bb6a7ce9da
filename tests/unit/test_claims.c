/* Unit tests: memory claims, Xen's semantics (specs 2.3-2.9, I1-I13) and
 * per-NUMA-node claim sets (specs 2.8). */
#include "../support.h"

static uint64_t claim_of(struct domain *d)
{
    struct domain_info info;

    domain_get_info(d, &info);
    return info.outstanding_pages;
}

/* Xen's tools/tests/mem-claim, through the hypercall ABI. */
static void test_mem_claim_scenario(void)
{
    struct hv *hv = test_hv(MiB(256), 1, false);
    struct tc_physinfo pi;
    struct tc_handle *t;
    domid_t domid = DOMID_ANY;
    uint64_t gfn = 0;

    REQUIRE(tc_open(hv, 0, true, &t) == 0);
    REQUIRE(tc_physinfo(t, &pi) == 0);
    CHECK_EQ(pi.outstanding_pages, 0);
    REQUIRE(tc_domain_create(t, &domid, true, 1) == 0);
    REQUIRE(tc_domain_setmaxmem(t, domid, UINT64_MAX) == 0);
    REQUIRE(tc_physinfo(t, &pi) == 0);
    CHECK_EQ(pi.outstanding_pages, 0);
    CHECK_EQ(tc_domain_claim_pages(t, domid, 1024), 0);
    REQUIRE(tc_physinfo(t, &pi) == 0);
    CHECK_EQ(pi.outstanding_pages, 1024);
    CHECK_EQ(tc_populate_physmap(t, domid, 1, 9, 0, &gfn), 1);
    REQUIRE(tc_physinfo(t, &pi) == 0);
    CHECK_EQ(pi.outstanding_pages, 512);
    CHECK_EQ(tc_domain_destroy(t, domid), 0);
    REQUIRE(tc_physinfo(t, &pi) == 0);
    CHECK_EQ(pi.outstanding_pages, 0);
    tc_close(t);
    CHECK_HV(hv);
    hv_destroy(hv);
}

static void test_staking_errors(void)
{
    struct hv *hv = test_hv(MiB(64), 1, false);
    uint64_t avail = test_free_pages(hv);
    struct domain *d = test_domain(hv, true, 0);
    mfn_t mfn;

    REQUIRE(d);
    /* max_pages 0: -EINVAL, not -ENOMEM (2.9 item 1). */
    CHECK_EQ(domain_claim_pages(d, 10), -EINVAL);
    domain_set_max_pages(d, avail * 2);
    /* More than free memory: -ENOMEM, nothing changes. */
    CHECK_EQ(domain_claim_pages(d, avail + 1), -ENOMEM);
    CHECK_EQ(test_outstanding(hv), 0);
    /* Above max_pages: -EINVAL. */
    domain_set_max_pages(d, 100);
    CHECK_EQ(domain_claim_pages(d, 101), -EINVAL);
    /* The claim is relative to tot_pages: 3 pages held, claim 10 -> 7. */
    for (int i = 0; i < 3; i++)
        REQUIRE(domain_alloc_pages(d, 0, 0, &mfn) == 0);
    CHECK_EQ(domain_claim_pages(d, 3), -EINVAL);  /* <= tot */
    CHECK_EQ(domain_claim_pages(d, 2), -EINVAL);
    CHECK_EQ(domain_claim_pages(d, 10), 0);
    CHECK_EQ(claim_of(d), 7);
    CHECK_EQ(test_outstanding(hv), 7);
    /* A second claim is refused while one exists (no replace). */
    CHECK_EQ(domain_claim_pages(d, 20), -EINVAL);
    CHECK_EQ(claim_of(d), 7);
    /* Cancel is idempotent and always succeeds. */
    CHECK_EQ(domain_claim_pages(d, 0), 0);
    CHECK_EQ(domain_claim_pages(d, 0), 0);
    CHECK_EQ(test_outstanding(hv), 0);
    CHECK_HV(hv);
    domain_put(d);
    hv_destroy(hv);
}

static void test_consumption_and_frees(void)
{
    struct hv *hv = test_hv(MiB(64), 1, false);
    struct domain *d = test_domain(hv, false, 4096);
    mfn_t mfn, big;

    REQUIRE(d);
    REQUIRE(domain_claim_pages(d, 1000) == 0);
    /* Every refcounted allocation consumes min(claim, request). */
    REQUIRE(domain_alloc_pages(d, 0, 0, &mfn) == 0);
    CHECK_EQ(claim_of(d), 999);
    REQUIRE(domain_alloc_pages(d, SUPERPAGE_ORDER, 0, &big) == 0);
    CHECK_EQ(claim_of(d), 487);
    CHECK_EQ(test_outstanding(hv), 487);
    /* Frees never restore a claim (I3). */
    CHECK_EQ(domain_release_pages(d, mfn, 0), 0);
    CHECK_EQ(claim_of(d), 487);
    CHECK_EQ(domain_release_pages(d, big, SUPERPAGE_ORDER), 0);
    CHECK_EQ(claim_of(d), 487);
    /* Extra (no_refcount) allocations never consume it. */
    REQUIRE(domain_alloc_pages(d, 0, MEMF_no_refcount, &mfn) == 0);
    CHECK_EQ(claim_of(d), 487);
    /* Used up: a second claim is accepted (2.9 item 2). */
    while (claim_of(d) > 0)
        REQUIRE(domain_alloc_pages(d, 0, 0, &mfn) == 0);
    CHECK_EQ(domain_claim_pages(d, 2000), 0);
    CHECK_HV(hv);
    domain_put(d);
    hv_destroy(hv);
}

/* Others (and anonymous or no_refcount allocations) cannot take claimed
 * memory; the holder can (I5, I6, 2.9 item 6). */
static void test_gate_protects(void)
{
    struct hv *hv = test_hv(MiB(64), 1, false);
    uint64_t avail = test_free_pages(hv), got = 0;
    struct domain *holder = test_domain(hv, false, avail);
    struct domain *other = test_domain(hv, false, avail);
    mfn_t mfn;

    REQUIRE(holder && other);
    REQUIRE(domain_claim_pages(holder, avail - 10) == 0);
    /* 10 unclaimed pages: the other domain gets exactly those. */
    while (domain_alloc_pages(other, 0, 0, &mfn) == 0)
        got++;
    CHECK_EQ(got, 10);
    CHECK_EQ(heap_alloc_pages(hv->heap, 0, 0, NULL, &mfn), -ENOMEM);
    CHECK_EQ(domain_alloc_pages(holder, 0, MEMF_no_refcount, &mfn), -ENOMEM);
    /* The holder's claim is honoured to the last page. */
    got = 0;
    while (domain_alloc_pages(holder, 0, 0, &mfn) == 0)
        got++;
    CHECK_EQ(got, avail - 10);
    CHECK_EQ(test_outstanding(hv), 0);
    CHECK_EQ(test_free_pages(hv), 0);
    CHECK_HV(hv);
    domain_put(holder);
    domain_put(other);
    hv_destroy(hv);
}

/* Xen HEAD refuses a holder whose claim covers only part of a request,
 * even when unclaimed pages would cover the rest; the shortfall gate of
 * the NUMA series allows it (specs 2.4). */
static void test_head_gate_conservatism(void)
{
    for (int gate = 0; gate < 2; gate++) {
        struct hv_config cfg;
        struct hv *hv;
        struct domain *d, *e;
        uint64_t avail;
        mfn_t mfn;

        hv_config_default(&cfg);
        cfg.ram_bytes = MiB(64);
        cfg.background_scrub = false;
        cfg.gate = gate ? CLAIM_GATE_SHORTFALL : CLAIM_GATE_HEAD;
        REQUIRE(hv_create(&cfg, &hv, NULL) == 0);
        avail = test_free_pages(hv);
        d = test_domain(hv, false, avail);
        e = test_domain(hv, false, avail);
        REQUIRE(d && e);
        /* e claims all but 2 pages; d claims 1: one page is unclaimed. */
        REQUIRE(domain_claim_pages(e, avail - 2) == 0);
        REQUIRE(domain_claim_pages(d, 1) == 0);
        CHECK_EQ(domain_alloc_pages(d, 1, 0, &mfn), gate ? 0 : -ENOMEM);
        CHECK_HV(hv);
        domain_put(d);
        domain_put(e);
        hv_destroy(hv);
    }
}

/* Offlining lowers free memory below outstanding claims; nothing wraps
 * (2.9 item 7). */
static void test_offline_below_claims(void)
{
    struct hv *hv = test_hv(MiB(16), 1, false);
    uint64_t avail = test_free_pages(hv), got = 0;
    struct domain *d = test_domain(hv, false, avail);
    struct tc_physinfo pi;
    struct tc_handle *t;
    uint32_t status;
    mfn_t mfn;

    REQUIRE(d);
    REQUIRE(domain_claim_pages(d, avail) == 0);
    for (uint64_t f = 100; f < 110; f++)
        REQUIRE(heap_offline_page(hv->heap, _mfn(f), false, &status) == 0);
    REQUIRE(tc_open(hv, 0, true, &t) == 0);
    REQUIRE(tc_physinfo(t, &pi) == 0);
    CHECK_EQ(pi.free_pages, avail - 10);
    CHECK_EQ(pi.outstanding_pages, avail);
    CHECK_EQ(sat_sub(pi.free_pages, pi.outstanding_pages), 0);
    /* Staking by another domain sees no room. */
    {
        struct domain *e = test_domain(hv, false, 100);
        REQUIRE(e);
        CHECK_EQ(domain_claim_pages(e, 1), -ENOMEM);
        domain_put(e);
    }
    /* The holder gets what exists; the rest of its claim is unusable. */
    while (domain_alloc_pages(d, 0, 0, &mfn) == 0)
        got++;
    CHECK_EQ(got, avail - 10);
    CHECK_EQ(claim_of(d), 10);
    CHECK_EQ(test_outstanding(hv), 10);
    tc_close(t);
    CHECK_HV(hv);
    domain_put(d);
    hv_destroy(hv);
}

/* Lowering max_pages does not shrink a claim (2.9 item 9); destroy
 * releases it (I8); a dying domain cannot claim. */
static void test_max_lowering_and_destroy(void)
{
    struct hv *hv = test_hv(MiB(64), 1, false);
    struct domain *d = test_domain(hv, false, 5000);

    REQUIRE(d);
    REQUIRE(domain_claim_pages(d, 4000) == 0);
    domain_set_max_pages(d, 10);
    CHECK_EQ(claim_of(d), 4000);
    CHECK_EQ(domain_kill(d), 0);
    CHECK_EQ(test_outstanding(hv), 0);
    CHECK_EQ(claim_of(d), 0);
    /* Still referenced, dying: refused, and nothing changes. */
    CHECK_EQ(domain_claim_pages(d, 5), -EINVAL);
    CHECK_EQ(domain_claim_set(d, &(struct claim_entry){ 5, CLAIM_TARGET_GLOBAL }, 1), -ESRCH);
    CHECK_EQ(test_outstanding(hv), 0);
    domain_put(d);
    CHECK_HV(hv);
    hv_destroy(hv);
}

static void test_claim_sets(void)
{
    struct hv *hv = test_hv(MiB(128), 2, false);
    uint64_t node_free[2], size, claimed;
    struct domain *d = test_domain(hv, false, PAGES(MiB(128)));
    struct domain *other = test_domain(hv, false, PAGES(MiB(128)));
    struct domain_info info;
    mfn_t mfn;

    REQUIRE(d && other);
    heap_get_node(hv->heap, 0, &size, &node_free[0], NULL);
    heap_get_node(hv->heap, 1, &size, &node_free[1], NULL);

    /* Validation. */
    CHECK_EQ(domain_claim_set(d, (struct claim_entry[]){ { 10, 7 } }, 1), -ENOENT);
    CHECK_EQ(domain_claim_set(d, (struct claim_entry[]){ { 10, 0 }, { 5, 0 } }, 2), -EINVAL);
    CHECK_EQ(domain_claim_set(d, (struct claim_entry[]){ { 1, CLAIM_TARGET_GLOBAL },
                                                         { 1, CLAIM_TARGET_GLOBAL } }, 2), -EINVAL);
    CHECK_EQ(domain_claim_set(d, (struct claim_entry[]){ { node_free[0] + 1, 0 } }, 1), -ENOMEM);
    CHECK_EQ(domain_claim_set(d, (struct claim_entry[]){ { PAGES(MiB(128)) + 1, 0 } }, 1), -EINVAL);
    CHECK_EQ(test_outstanding(hv), 0);

    /* Node 0 almost whole, plus a global part. */
    REQUIRE(domain_claim_set(d, (struct claim_entry[]){ { node_free[0] - 8, 0 },
                                                        { 100, CLAIM_TARGET_GLOBAL } }, 2) == 0);
    CHECK_EQ(test_outstanding(hv), node_free[0] - 8 + 100);
    domain_get_info(d, &info);
    CHECK_EQ(info.node_claims[0], node_free[0] - 8);
    CHECK_EQ(info.global_claim, 100);
    heap_get_node(hv->heap, 0, &size, &node_free[0], &claimed);
    CHECK_EQ(claimed, node_free[0] - 8);

    /* Another domain gets at most the 8 unclaimed pages of node 0. */
    {
        uint64_t got = 0;
        while (domain_alloc_pages(other, 0, MEMF_node(0) | MEMF_exact_node, &mfn) == 0)
            got++;
        CHECK_EQ(got, 8);
        /* ...but node 1 is open to it. */
        CHECK_EQ(domain_alloc_pages(other, 0, MEMF_node(1) | MEMF_exact_node, &mfn), 0);
    }
    /* The holder allocating on node 0 consumes its node-0 claim first. */
    REQUIRE(domain_alloc_pages(d, 0, MEMF_node(0) | MEMF_exact_node, &mfn) == 0);
    domain_get_info(d, &info);
    CHECK_EQ(info.node_claims[0], node_free[0] - 8 - 1);
    CHECK_EQ(info.global_claim, 100);
    /* On node 1 it consumes the global claim. */
    REQUIRE(domain_alloc_pages(d, 0, MEMF_node(1) | MEMF_exact_node, &mfn) == 0);
    domain_get_info(d, &info);
    CHECK_EQ(info.global_claim, 99);
    CHECK_HV(hv);

    /* A new set replaces the old one atomically. */
    REQUIRE(domain_claim_set(d, (struct claim_entry[]){ { 50, 1 } }, 1) == 0);
    domain_get_info(d, &info);
    CHECK_EQ(info.node_claims[0], 0);
    CHECK_EQ(info.node_claims[1], 50);
    CHECK_EQ(info.global_claim, 0);
    CHECK_EQ(test_outstanding(hv), 50);
    /* A legacy claim on top of a set is refused (a claim exists). */
    CHECK_EQ(domain_claim_pages(d, 5000), -EINVAL);
    /* {0, GLOBAL} clears. */
    CHECK_EQ(domain_claim_set(d, (struct claim_entry[]){ { 0, CLAIM_TARGET_GLOBAL } }, 1), 0);
    CHECK_EQ(test_outstanding(hv), 0);
    CHECK_HV(hv);
    domain_put(d);
    domain_put(other);
    hv_destroy(hv);
}

HARNESS_MAIN("claims", TEST_ENTRY(test_mem_claim_scenario), TEST_ENTRY(test_staking_errors),
             TEST_ENTRY(test_consumption_and_frees), TEST_ENTRY(test_gate_protects),
             TEST_ENTRY(test_head_gate_conservatism), TEST_ENTRY(test_offline_below_claims),
             TEST_ENTRY(test_max_lowering_and_destroy), TEST_ENTRY(test_claim_sets))
