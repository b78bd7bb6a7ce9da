/*
 * Helpers shared by tests: small hosts, and assertions that every checker
 * agrees the host is consistent.
 */
#ifndef MEMVISOR_TEST_SUPPORT_H
#define MEMVISOR_TEST_SUPPORT_H

#include "harness.h"
#include "memvisor/hv.h"
#include "memvisor/toolstack.h"

#define MiB(x) ((uint64_t)(x) << 20)
#define GiB(x) ((uint64_t)(x) << 30)
#define PAGES(bytes) ((bytes) >> PAGE_SHIFT)

/* A host without background scrubbing unless asked: tests decide when
 * memory is scrubbed. */
/* A host on clock (NULL: the real one; a virtual clock turns background
 * scrubbing off). */
static inline struct hv *test_hv_on(uint64_t ram_bytes, unsigned nodes, bool scrub,
                                    struct mv_clock *clock)
{
    struct hv_config cfg;
    const char *why = NULL;
    struct hv *hv = NULL;

    hv_config_default(&cfg);
    cfg.ram_bytes = ram_bytes;
    cfg.nr_nodes = nodes;
    cfg.background_scrub = scrub;
    cfg.clock = clock;
    cfg.log.level = MV_LOG_ERROR;
    if (hv_create(&cfg, &hv, &why)) {
        fprintf(stderr, "cannot create a test host: %s\n", why ? why : "?");
        exit(1);
    }
    return hv;
}

static inline struct hv *test_hv(uint64_t ram_bytes, unsigned nodes, bool scrub)
{
    return test_hv_on(ram_bytes, nodes, scrub, NULL);
}

/* A virtual clock whose first participant is the calling thread. */
static inline struct mv_clock *test_virtual_clock(void)
{
    struct mv_clock *c;

    if (mv_clock_virtual_create(&c)) {
        fprintf(stderr, "cannot create a virtual clock\n");
        exit(1);
    }
    return c;
}

/* Every checker, quiescent.  Prints what is wrong. */
#define CHECK_HV(hv) CHECK_EQ(hv_check((hv), stderr), 0)

static inline uint64_t test_free_pages(struct hv *hv)
{
    struct heap_totals t;

    heap_get_totals(hv->heap, &t);
    return t.free_pages;
}

static inline uint64_t test_outstanding(struct hv *hv)
{
    struct heap_totals t;

    heap_get_totals(hv->heap, &t);
    return t.outstanding_pages;
}

/* A domain with a maximum, created directly in the domain layer. */
static inline struct domain *test_domain(struct hv *hv, bool hvm, uint64_t max_pages)
{
    struct domain_config cfg = { .max_vcpus = 1, .cdf_flags = hvm ? DOMAIN_CDF_HVM | DOMAIN_CDF_HAP : 0 };
    struct domain *d = NULL;

    if (domain_create(hv->domains, DOMID_ANY, &cfg, &d))
        return NULL;
    domain_set_max_pages(d, max_pages);
    return d;
}

/* A number from the environment (MV_MODEL_OPS, ...), or dflt. */
static inline uint64_t env_u64(const char *name, uint64_t dflt)
{
    const char *v = getenv(name);
    uint64_t x;

    return v && mv_parse_uint(v, 0, UINT64_MAX, &x) == 0 ? x : dflt;
}

static inline uint64_t test_rng(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

#endif
