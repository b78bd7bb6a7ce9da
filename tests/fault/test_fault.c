/*
 * Out-of-memory fault injection (SQLite's loop) for every operation that
 * allocates: fail the 1st allocation, then the 2nd, ... until the
 * operation succeeds without hitting a failure.  After each failed
 * attempt the operation must report the error and have changed nothing,
 * and every checker must pass.  Leaks show up under LeakSanitizer (the
 * ASan build).  Each operation also runs with every allocation failing
 * from the Nth on (persistent faults).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <xen/xen.h>
#include <xen/domctl.h>
#include <xen/memory.h>

#include "../support.h"

#define ADDR(p) ((uint64_t)(uintptr_t)(p))

/* What "changed nothing" compares. */
struct snapshot {
    uint64_t free_pages, outstanding, scrub;
    unsigned nr_domains;
    uint64_t tot[8], claim[8], ram[8];
};

struct fixture {
    struct hv *hv;
    struct hc_session *s;
    struct xen_domctl *domctl;
    struct xen_memory_reservation *resv;
    xen_pfn_t *ext;
    domid_t d[8];
    unsigned nr_d;
    uint64_t round; /* each attempt uses fresh gfns, so it needs fresh p2m tables */
};

/* A gfn 512 GiB further on every round: a new top-level p2m entry. */
static uint64_t fresh_gfn(struct fixture *fx, uint64_t offset)
{
    return ((fx->round % 100) << 27) + offset;
}

static void snap(struct fixture *fx, struct snapshot *out)
{
    struct heap_totals t;

    memset(out, 0, sizeof(*out));
    heap_get_totals(fx->hv->heap, &t);
    out->free_pages = t.free_pages;
    out->outstanding = t.outstanding_pages;
    out->scrub = t.scrub_pages;
    out->nr_domains = domain_table_count(fx->hv->domains);
    for (unsigned i = 0; i < fx->nr_d; i++) {
        struct domain *d = domain_lookup(fx->hv->domains, fx->d[i]);
        struct domain_info info;

        if (!d)
            continue;
        domain_get_info(d, &info);
        out->tot[i] = info.tot_pages;
        out->claim[i] = info.outstanding_pages;
        out->ram[i] = p2m_nr_ram_pages(d->p2m);
        domain_put(d);
    }
}

static bool snap_equal(const struct snapshot *a, const struct snapshot *b)
{
    return memcmp(a, b, sizeof(*a)) == 0;
}

static long op_createdomain(struct fixture *fx)
{
    memset(fx->domctl, 0, sizeof(*fx->domctl));
    fx->domctl->cmd = XEN_DOMCTL_createdomain;
    fx->domctl->interface_version = XEN_DOMCTL_INTERFACE_VERSION;
    fx->domctl->domain = DOMID_ANY;
    fx->domctl->u.createdomain.flags = XEN_DOMCTL_CDF_hvm | XEN_DOMCTL_CDF_hap;
    fx->domctl->u.createdomain.max_vcpus = 1;
    fx->domctl->u.createdomain.arch.emulation_flags = XEN_X86_EMU_LAPIC;
    return hc_call(fx->s, HC_DOMCTL, ADDR(fx->domctl), 0, 0, 0, 0);
}

static void undo_createdomain(struct fixture *fx)
{
    struct domain *d = domain_lookup(fx->hv->domains, fx->domctl->domain);

    if (d) {
        (void)domain_kill(d);
        domain_put(d);
    }
}

static long memop(struct fixture *fx, unsigned cmd, domid_t domid, uint64_t gfn, unsigned order)
{
    memset(fx->resv, 0, sizeof(*fx->resv));
    fx->ext[0] = gfn;
    set_xen_guest_handle(fx->resv->extent_start, fx->ext);
    fx->resv->nr_extents = 1;
    fx->resv->extent_order = order;
    fx->resv->domid = domid;
    return hc_call(fx->s, HC_MEMORY_OP, cmd, ADDR(fx->resv), 0, 0, 0);
}

/* A 2 MiB extent at a misaligned gfn: 512 small entries, several tables. */
static long op_populate_misaligned(struct fixture *fx)
{
    return memop(fx, XENMEM_populate_physmap, fx->d[0], fresh_gfn(fx, 3), 9) == 1 ? 0 : -ENOMEM;
}

static void undo_populate_misaligned(struct fixture *fx)
{
    for (uint64_t i = 0; i < 512; i++)
        (void)memop(fx, XENMEM_decrease_reservation, fx->d[0], fresh_gfn(fx, 3 + i), 0);
}

/* Removing one page of a 1 GiB mapping splits it (two new tables). */
static long op_decrease_in_gigapage(struct fixture *fx)
{
    return memop(fx, XENMEM_decrease_reservation, fx->d[1], (UINT64_C(1) << 18) + 77, 0) == 1
               ? 0 : -ENOMEM;
}

/* A new d1 with a whole 1 GiB mapping again. */
static void undo_decrease_in_gigapage(struct fixture *fx)
{
    struct tc_handle *t;
    domid_t d = DOMID_ANY;

    if (tc_open(fx->hv, 0, true, &t))
        exit(1);
    (void)!tc_domain_destroy(t, fx->d[1]);
    if (tc_domain_create(t, &d, true, 1) || tc_domain_setmaxmem(t, d, UINT64_MAX))
        exit(1);
    tc_close(t);
    fx->d[1] = d;
    if (memop(fx, XENMEM_populate_physmap, d, UINT64_C(1) << 18, 18) != 1)
        exit(1);
}

static long op_claimed_populate(struct fixture *fx)
{
    return memop(fx, XENMEM_populate_physmap, fx->d[2], fresh_gfn(fx, 0), 0) == 1 ? 0 : -ENOMEM;
}

static void undo_claimed_populate(struct fixture *fx)
{
    (void)memop(fx, XENMEM_decrease_reservation, fx->d[2], fresh_gfn(fx, 0), 0);
}

/* 100 single-page extents at fresh gfns: the bulk path, with tables to
 * build for them; on failure nothing may be placed. */
static long op_populate_bulk(struct fixture *fx)
{
    long rc;

    memset(fx->resv, 0, sizeof(*fx->resv));
    for (unsigned i = 0; i < 100; i++)
        fx->ext[i] = fresh_gfn(fx, 7 * i);
    set_xen_guest_handle(fx->resv->extent_start, fx->ext);
    fx->resv->nr_extents = 100;
    fx->resv->domid = fx->d[0];
    rc = hc_call(fx->s, HC_MEMORY_OP, XENMEM_populate_physmap, ADDR(fx->resv), 0, 0, 0);
    if (rc == 100)
        return 0;
    /* A partial result is a real change: undo it, and report it. */
    for (long i = 0; i < rc; i++)
        (void)memop(fx, XENMEM_decrease_reservation, fx->d[0], fresh_gfn(fx, 7 * i), 0);
    return rc == 0 ? -ENOMEM : -EIO;
}

static void undo_populate_bulk(struct fixture *fx)
{
    for (unsigned i = 0; i < 100; i++)
        (void)memop(fx, XENMEM_decrease_reservation, fx->d[0], fresh_gfn(fx, 7 * i), 0);
}

static long op_anon_alloc(struct fixture *fx)
{
    mfn_t mfn;
    int rc = heap_alloc_pages(fx->hv->heap, 3, 0, NULL, &mfn);

    if (rc == 0)
        fx->ext[100] = mfn_x(mfn);
    return rc;
}

static void undo_anon_alloc(struct fixture *fx)
{
    heap_free_pages(fx->hv->heap, _mfn(fx->ext[100]), 3, false);
}

struct fault_op {
    const char *name;
    long (*run)(struct fixture *fx);
    void (*undo)(struct fixture *fx);
};

static const struct fault_op ops[] = {
    { "createdomain", op_createdomain, undo_createdomain },
    { "populate 2M misaligned", op_populate_misaligned, undo_populate_misaligned },
    { "decrease inside 1G", op_decrease_in_gigapage, undo_decrease_in_gigapage },
    { "populate under a claim", op_claimed_populate, undo_claimed_populate },
    { "anonymous alloc", op_anon_alloc, undo_anon_alloc },
    { "populate 100 x 4K (bulk)", op_populate_bulk, undo_populate_bulk },
};

static void fixture_init(struct fixture *fx)
{
    struct tc_handle *t;

    memset(fx, 0, sizeof(*fx));
    fx->hv = test_hv(GiB(2), 1, false);
    if (hc_session_create(fx->hv, 0, true, &fx->s))
        exit(1);
    fx->domctl = hc_buffer_alloc(fx->s, sizeof(*fx->domctl));
    fx->resv = hc_buffer_alloc(fx->s, sizeof(*fx->resv));
    fx->ext = hc_buffer_alloc(fx->s, 128 * sizeof(xen_pfn_t));
    if (!fx->domctl || !fx->resv || !fx->ext || tc_open(fx->hv, 0, true, &t))
        exit(1);
    for (unsigned i = 0; i < 3; i++) {
        domid_t d = DOMID_ANY;
        if (tc_domain_create(t, &d, true, 1) || tc_domain_setmaxmem(t, d, UINT64_MAX))
            exit(1);
        fx->d[fx->nr_d++] = d;
    }
    /* d1 has a 1 GiB mapping; d2 a claim. */
    if (memop(fx, XENMEM_populate_physmap, fx->d[1], UINT64_C(1) << 18, 18) != 1 ||
        tc_domain_claim_pages(t, fx->d[2], 1000))
        exit(1);
    tc_close(t);
}

static void run_loop(struct fixture *fx, const struct fault_op *op, bool persistent)
{
    unsigned attempts = 0;

    for (long n = 1; n < 1000; n++) {
        struct snapshot before, after;
        long rc;

        fx->round++;
        snap(fx, &before);
        fault_arm(&fx->hv->fault, n, persistent);
        rc = op->run(fx);
        fault_disarm(&fx->hv->fault);
        attempts++;
        if (rc == 0) {
            /* The injection point lay beyond the operation: done. */
            if (fault_nr_failures(&fx->hv->fault) == 0) {
                op->undo(fx);
                CHECK_HV(fx->hv);
                printf("  %-26s %s: %u attempts\n", op->name, persistent ? "persistent" : "transient",
                       attempts);
                return;
            }
            /* It recovered from the failure (a batch that fell short is
             * finished page by page): fine, if consistent. */
            op->undo(fx);
            CHECK_HV(fx->hv);
            continue;
        }
        CHECK_EQ(rc, -ENOMEM);
        snap(fx, &after);
        if (!snap_equal(&before, &after)) {
            fprintf(stderr, "  %s: failure at allocation %ld changed state\n", op->name, n);
            CHECK(!"a failed operation changed state");
        }
        CHECK_HV(fx->hv);
    }
    CHECK(!"the operation never succeeded");
}

static void test_oom_loops(void)
{
    struct fixture fx;

    fixture_init(&fx);
    for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
        run_loop(&fx, &ops[i], false);
        run_loop(&fx, &ops[i], true);
    }
    hc_session_destroy(fx.s);
    hv_destroy(fx.hv);
}

/* Building a host: the allocations for dom0 fail cleanly. */
static void test_host_creation_oom(void)
{
    struct hv *hv = test_hv(MiB(32), 1, false);
    struct domain *d;
    unsigned done = 0;

    /* Domain creation is the allocating part of building a host. */
    for (long n = 1; n < 100 && !done; n++) {
        struct domain_config cfg = { .max_vcpus = 1 };
        unsigned before = domain_table_count(hv->domains);
        int rc;

        fault_arm(&hv->fault, n, true);
        rc = domain_create(hv->domains, DOMID_ANY, &cfg, &d);
        fault_disarm(&hv->fault);
        if (rc == 0) {
            done = 1;
            CHECK_EQ(domain_table_count(hv->domains), before + 1);
            (void)domain_kill(d);
            domain_put(d);
        } else {
            CHECK_EQ(rc, -ENOMEM);
            CHECK_EQ(domain_table_count(hv->domains), before);
        }
    }
    CHECK(done);
    CHECK_HV(hv);
    hv_destroy(hv);
}

/*
 * tmem under out-of-memory: each operation, failing at its 1st, 2nd, ...
 * allocation (metadata or frames), reports -ENOMEM (-ENOSPC for a
 * duplicate put, whose old data must then be gone) and otherwise changes
 * nothing but, as ever, which ephemeral pages are kept.
 */
#define TFLAGS(extra) ((TMEM_SPEC_VERSION << TMEM_POOL_VERSION_SHIFT) | (extra))

struct tmem_snap {
    struct tmem_stats st;
    struct tmem_client_info ci;
    uint64_t free_pages;
};

static void tmem_snap(struct hv *hv, struct domain *d, struct tmem_snap *out)
{
    memset(out, 0, sizeof(*out));
    tmem_get_stats(hv->tmem, DOMID_INVALID, &out->st);
    /* Attempts are counted whatever happens. */
    out->st.puts = out->st.no_mem_puts = out->st.dup_puts_flushed = 0;
    tmem_get_client_info(hv->tmem, d->domid, &out->ci);
    out->free_pages = test_free_pages(hv);
}

static void test_tmem_oom(void)
{
    struct hv *hv = test_hv(MiB(64), 1, false);
    struct domain *d = test_domain(hv, true, 100000);
    static const struct tmem_oid oid = { { 5, 6, 7 } };
    uint8_t page[PAGE_SIZE];
    uint32_t index = 0;

    REQUIRE(tmem_new_pool(hv->tmem, d, TFLAGS(0), 0, 0) == 0);
    REQUIRE(tmem_new_pool(hv->tmem, d, TFLAGS(TMEM_POOL_PERSIST), 0, 0) == 1);
    for (unsigned op = 0; op < 6; op++) {
        bool done = false;

        for (long n = 1; n < 200 && !done; n++) {
            struct tmem_snap before, after;
            long rc;

            /* Half compressible, half not: both kinds of store. */
            for (size_t i = 0; i < PAGE_SIZE; i++)
                page[i] = (uint8_t)(op % 2 ? i * 131 + n : i / 64);
            index++;
            if (op == 4) /* a duplicate: its first put succeeds */
                REQUIRE(tmem_put(hv->tmem, d, 1, &oid, index, page) == 1);
            tmem_snap(hv, d, &before);
            fault_arm(&hv->fault, n, n % 2);
            switch (op) {
            case 0: rc = tmem_new_pool(hv->tmem, d, TFLAGS(TMEM_POOL_PERSIST), 0, 0); break;
            case 1: rc = tmem_put(hv->tmem, d, 0, &oid, index, page); break;
            case 2: rc = tmem_put(hv->tmem, d, 1, &oid, index, page); break;
            case 3: rc = tmem_set_auth(hv->tmem, d->domid, n, n, true); break;
            case 4: rc = tmem_put(hv->tmem, d, 1, &oid, index, page); break;
            default: rc = tmem_save_begin(hv->tmem, d->domid, true); break;
            }
            fault_disarm(&hv->fault);
            if (rc >= 0) {
                done = fault_nr_failures(&hv->fault) == 0;
                if (op == 0)
                    CHECK_EQ(tmem_destroy_pool(hv->tmem, d, (int32_t)rc), 1);
                if (op == 5)
                    CHECK_EQ(tmem_save_end(hv->tmem, d->domid), 0);
                CHECK_HV(hv);
                continue;
            }
            tmem_snap(hv, d, &after);
            if (op == 4) {
                /* The old data went first: one page fewer, and not there. */
                CHECK_EQ(rc, -ENOSPC);
                CHECK_EQ(after.st.pers_pages + 1, before.st.pers_pages);
                CHECK_EQ(tmem_get(hv->tmem, d, 1, &oid, index, page) <= 0, 1);
            } else {
                CHECK_EQ(rc, -ENOMEM);
                /* Ephemeral pages may be evicted at any time (a put short
                 * of frames does so); all else is as it was. */
                CHECK_EQ(after.st.pers_pages, before.st.pers_pages);
                CHECK_EQ(after.st.pers_frames, before.st.pers_frames);
                CHECK_EQ(after.ci.nr_pools, before.ci.nr_pools);
                CHECK(after.st.eph_pages <= before.st.eph_pages);
                CHECK_EQ(after.free_pages - before.free_pages,
                         before.st.eph_frames - after.st.eph_frames);
            }
            CHECK_HV(hv);
        }
        CHECK(done);
    }
    (void)domain_kill(d);
    domain_put(d);
    CHECK_HV(hv);
    hv_destroy(hv);
}

HARNESS_MAIN("fault", TEST_ENTRY(test_oom_loops), TEST_ENTRY(test_host_creation_oom),
             TEST_ENTRY(test_tmem_oom))
