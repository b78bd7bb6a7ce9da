/* Unit tests: domains (creation, domids, destroy, max_pages, ownership,
 * extents, page references). */
#include <pthread.h>

#include "../support.h"

static struct domain *create_with_id(struct hv *hv, domid_t id, int *rc)
{
    struct domain_config cfg = { .max_vcpus = 1 };
    struct domain *d = NULL;

    *rc = domain_create(hv->domains, id, &cfg, &d);
    return d;
}

static void test_domids(void)
{
    struct hv *hv = test_hv(MiB(32), 1, false);
    struct domain *a, *b, *c, *dup, *res;
    int rc;

    /* Domain 0 exists from the start. */
    res = domain_lookup(hv->domains, 0);
    CHECK(res != NULL);
    if (res) {
        CHECK(res->config.privileged);
        domain_put(res);
    }
    c = create_with_id(hv, 2, &rc);
    CHECK_EQ(rc, 0);
    a = create_with_id(hv, DOMID_ANY, &rc);
    CHECK_EQ(rc, 0);
    b = create_with_id(hv, DOMID_ANY, &rc);
    CHECK_EQ(rc, 0);
    REQUIRE(a && b && c);
    CHECK_EQ(a->domid, 1);
    CHECK_EQ(b->domid, 3); /* 2 is taken */
    dup = create_with_id(hv, 2, &rc);
    CHECK_EQ(rc, -EEXIST);
    CHECK(dup == NULL);
    res = create_with_id(hv, DOMID_FIRST_RESERVED, &rc);
    CHECK_EQ(rc, -EINVAL);
    CHECK_EQ(domain_table_count(hv->domains), 4);
    /* The rover moves on: a destroyed id is not reused at once. */
    REQUIRE(domain_kill(a) == 0);
    domain_put(a);
    a = create_with_id(hv, DOMID_ANY, &rc);
    REQUIRE(a);
    CHECK_EQ(a->domid, 4);
    CHECK(domain_lookup(hv->domains, 1) == NULL);
    domain_put(a);
    domain_put(b);
    domain_put(c);
    CHECK_HV(hv);
    hv_destroy(hv);
}

static void test_destroy_relinquishes(void)
{
    struct hv *hv = test_hv(MiB(64), 1, false);
    uint64_t before = test_free_pages(hv);
    struct domain *d = test_domain(hv, false, 10000);
    struct domain_info info;
    mfn_t mfn;

    REQUIRE(d);
    for (unsigned order = 0; order <= 9; order++)
        REQUIRE(domain_alloc_pages(d, order, 0, &mfn) == 0);
    REQUIRE(domain_alloc_pages(d, 0, MEMF_no_refcount, &mfn) == 0);
    domain_get_info(d, &info);
    CHECK_EQ(info.tot_pages, 1023);
    CHECK_EQ(info.extra_pages, 1);
    CHECK_EQ(test_free_pages(hv), before - 1024);
    CHECK_HV(hv);
    CHECK_EQ(domain_kill(d), 0);
    CHECK_EQ(test_free_pages(hv), before);
    CHECK_EQ(heap_scrub_pending(hv->heap), 1024); /* freed dirty */
    domain_get_info(d, &info);
    CHECK_EQ(info.state, DOMAIN_DEAD);
    CHECK_EQ(info.tot_pages, 0);
    /* A dead domain takes no pages. */
    CHECK_EQ(domain_alloc_pages(d, 0, 0, &mfn), -EINVAL);
    CHECK_EQ(test_free_pages(hv), before);
    domain_put(d);
    CHECK_HV(hv);
    hv_destroy(hv);
}

static void test_max_pages(void)
{
    struct hv *hv = test_hv(MiB(64), 1, false);
    struct domain *d = test_domain(hv, false, 16);
    mfn_t mfn;

    REQUIRE(d);
    CHECK_EQ(domain_alloc_pages(d, 5, 0, &mfn), -E2BIG);  /* 32 > 16 */
    REQUIRE(domain_alloc_pages(d, 4, 0, &mfn) == 0);
    CHECK_EQ(domain_alloc_pages(d, 0, 0, &mfn), -E2BIG);
    /* Extra pages do not count against max. */
    CHECK_EQ(domain_alloc_pages(d, 0, MEMF_no_refcount, &mfn), 0);
    /* Ratchet down below tot_pages: allowed; allocations then fail -EPERM. */
    domain_set_max_pages(d, 8);
    CHECK_EQ(domain_alloc_pages(d, 0, 0, &mfn), -EPERM);
    CHECK_HV(hv);
    domain_put(d);
    hv_destroy(hv);
}

static void test_release_splits_extents(void)
{
    struct hv *hv = test_hv(MiB(64), 1, false);
    uint64_t before = test_free_pages(hv);
    struct domain *d = test_domain(hv, false, 10000);
    struct domain_info info;
    mfn_t base;

    REQUIRE(d);
    REQUIRE(domain_alloc_pages(d, 4, 0, &base) == 0);
    CHECK_EQ(domain_release_pages(d, mfn_add(base, 5), 0), 0);
    domain_get_info(d, &info);
    CHECK_EQ(info.tot_pages, 15);
    CHECK_EQ(d->nr_extents, 4); /* orders 3, 2, 1 and 0 remain */
    CHECK(!domain_owns_page(d, mfn_add(base, 5)));
    CHECK(domain_owns_page(d, mfn_add(base, 4)));
    CHECK(domain_owns_page(d, mfn_add(base, 15)));
    CHECK_EQ(test_free_pages(hv), before - 15);
    CHECK_HV(hv);
    /* Twice, a page it never had, a misaligned block: -EINVAL, no change. */
    CHECK_EQ(domain_release_pages(d, mfn_add(base, 5), 0), -EINVAL);
    CHECK_EQ(domain_release_pages(d, _mfn(1), 0), -EINVAL);
    CHECK_EQ(domain_release_pages(d, mfn_add(base, 8), 4), -EINVAL);
    CHECK_EQ(domain_release_pages(d, mfn_add(base, 1), 1), -EINVAL);
    CHECK_EQ(domain_release_pages(d, _mfn(UINT64_MAX), 0), -EINVAL);
    /* A whole sub-extent. */
    CHECK_EQ(domain_release_pages(d, mfn_add(base, 8), 3), 0);
    domain_get_info(d, &info);
    CHECK_EQ(info.tot_pages, 7);
    CHECK_HV(hv);
    domain_put(d);
    hv_destroy(hv);
}

static void test_page_references(void)
{
    struct hv *hv = test_hv(MiB(64), 1, false);
    uint64_t before = test_free_pages(hv);
    struct domain *d = test_domain(hv, false, 100);
    struct domain *e = test_domain(hv, false, 100);
    mfn_t mfn;

    REQUIRE(d && e);
    REQUIRE(domain_alloc_pages(d, 0, 0, &mfn) == 0);
    CHECK(domain_get_page(d, mfn));
    CHECK(!domain_get_page(e, mfn)); /* not e's */
    /* The allocation reference goes; the page stays until the last put. */
    CHECK_EQ(domain_release_pages(d, mfn, 0), 0);
    CHECK_EQ(test_free_pages(hv), before - 1);
    CHECK(!domain_get_page(d, mfn));
    domain_put_page(hv->domains, mfn);
    CHECK_EQ(test_free_pages(hv), before);
    /* The same through destroy. */
    REQUIRE(domain_alloc_pages(d, 2, 0, &mfn) == 0);
    CHECK(domain_get_page(d, mfn_add(mfn, 1)));
    REQUIRE(domain_kill(d) == 0);
    CHECK_EQ(test_free_pages(hv), before - 1);
    domain_put_page(hv->domains, mfn_add(mfn, 1));
    CHECK_EQ(test_free_pages(hv), before);
    domain_put(d);
    domain_put(e);
    CHECK_HV(hv);
    hv_destroy(hv);
}

struct kill_arg {
    struct domain *d;
    int rc;
};

static void *killer(void *p)
{
    struct kill_arg *k = p;

    k->rc = domain_kill(k->d);
    return NULL;
}

static void test_concurrent_kill(void)
{
    struct hv *hv = test_hv(MiB(64), 1, false);
    uint64_t before = test_free_pages(hv);
    struct domain *d = test_domain(hv, false, 8000);
    struct kill_arg k[4];
    pthread_t th[4];
    mfn_t mfn;

    REQUIRE(d);
    for (int i = 0; i < 12; i++)
        REQUIRE(domain_alloc_pages(d, SUPERPAGE_ORDER, 0, &mfn) == 0);
    for (int i = 0; i < 4; i++) {
        k[i] = (struct kill_arg){ d, -1 };
        pthread_create(&th[i], NULL, killer, &k[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ(k[i].rc, 0);
    }
    CHECK_EQ(test_free_pages(hv), before);
    CHECK_EQ(domain_table_count(hv->domains), 1);
    domain_put(d);
    CHECK_HV(hv);
    hv_destroy(hv);
}

static int count_visit(void *arg, struct domain *d)
{
    unsigned *n = arg;

    (void)d;
    (*n)++;
    return 0;
}

static void test_for_each(void)
{
    struct hv *hv = test_hv(MiB(32), 1, false);
    struct domain *ds[5];
    unsigned n = 0;
    int rc;

    for (int i = 0; i < 5; i++) {
        ds[i] = create_with_id(hv, (domid_t)(10 * (i + 1)), &rc);
        REQUIRE(ds[i]);
    }
    CHECK_EQ(domain_for_each(hv->domains, 0, count_visit, &n), 0);
    CHECK_EQ(n, 6);
    n = 0;
    (void)domain_for_each(hv->domains, 25, count_visit, &n);
    CHECK_EQ(n, 3);
    for (int i = 0; i < 5; i++)
        domain_put(ds[i]);
    hv_destroy(hv);
}

HARNESS_MAIN("domain", TEST_ENTRY(test_domids), TEST_ENTRY(test_destroy_relinquishes),
             TEST_ENTRY(test_max_pages), TEST_ENTRY(test_release_splits_extents),
             TEST_ENTRY(test_page_references), TEST_ENTRY(test_concurrent_kill),
             TEST_ENTRY(test_for_each))
