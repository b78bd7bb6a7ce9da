/*
 * Model-based test of the p2m and populate-on-demand.
 *
 * The reference model is two plain arrays over a PoD guest's gfns: whether
 * each is backed (a hole or not), and its 4 KiB of contents (NULL: zero).
 * Whether a gfn that reads as zero is a PoD entry or a populated page is
 * the hypervisor's to decide (demand populate, reclaim), so after every
 * step the test walks the real p2m and checks that it refines the model:
 * a hole where the model has one, a PoD entry only where the model's page
 * is zero, a RAM page holding exactly the model's bytes and mapped back by
 * the M2P; and the figures: entry_count = the PoD gfns walked, tot_pages =
 * the RAM gfns walked + the cache.  Each operation's outcome is predicted
 * from the model and the last walk: an access to a hole faults; an access
 * to a PoD entry succeeds while the cache holds a page, must crash the
 * domain when the cache is empty and no populated page is zero, and may
 * do either when only the sweep could tell; set_pod_target's figures
 * follow spec A6 exactly; a crash or a destruction gives every page back.
 * A bystander guest's memory is compared whole after every step, and
 * every checker runs after every step.  A failure prints the seed and the
 * step that replay it:  MV_MODEL_SEED=<seed> MV_MODEL_OPS=<n> test_pod_model
 *
 * Every step walks the whole p2m and reads every populated page, so a run
 * without a seed takes a hundredth of MV_MODEL_OPS steps; a replay takes
 * MV_MODEL_OPS.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/xen.h>
#include <xen/memory.h>

#include "../memop.h"
#include "../support.h"
#include "model_check.h"

#define RAM MiB(96)
/* A 1 GiB entry to shatter, three 2 MiB ones and a tail of 4 KiB ones. */
#define GFNS ((UINT64_C(1) << GIGAPAGE_ORDER) + 3 * SUPERPAGE_PAGES + 100)
#define WINDOW 3072         /* where most of a guest's accesses go */
#define BYSTANDER_PAGES 64
#define ADDR(p) ((uint64_t)(uintptr_t)(p))

enum real_type { R_HOLE, R_POD, R_RAM };

struct model {
    struct hv *hv;
    struct hc_session *dom0, *guest;
    struct xen_memory_reservation *r0, *rg;
    struct xen_pod_target *t;
    xen_pfn_t *ext0, *extg;

    /* The PoD guest (NULL between lives), and the model of its memory. */
    struct domain *d;
    domid_t domid;
    uint8_t *present;
    uint8_t **bytes;
    uint32_t *nonzero;   /* per 2 MiB of gfns: how many bytes[] are set */
    uint64_t window;
    uint64_t run_gfn, run_left; /* a workload's pages still to dirty */

    /* The p2m as the last walk found it. */
    uint8_t *real;
    uint64_t pods, rams, zero_rams;

    /* A plain HVM guest whose memory nothing may touch. */
    struct domain *bystander;
    uint8_t by_fill[BYSTANDER_PAGES];

    uint64_t rng, seed, step;
    uint64_t lives, crashes, faults, sweeps_reclaimed;
    uint64_t dry, dry_nothing_zero; /* PoD accesses with an empty cache */
    bool failed;
};

static uint64_t rnd(struct model *m, uint64_t n) { return n ? test_rng(&m->rng) % n : 0; }

static struct pod_target figures(struct model *m)
{
    struct pod_target t;

    p2m_pod_get_target(m->d, &t);
    return t;
}

static void set_bytes(struct model *m, uint64_t gfn, const uint8_t *page)
{
    bool zero = page == NULL;

    for (size_t i = 0; page && i < PAGE_SIZE && (zero = page[i] == 0); i++)
        ;
    if (zero) {
        m->nonzero[gfn >> SUPERPAGE_ORDER] -= m->bytes[gfn] != NULL;
        free(m->bytes[gfn]);
        m->bytes[gfn] = NULL;
        return;
    }
    if (!m->bytes[gfn]) {
        REQUIRE((m->bytes[gfn] = malloc(PAGE_SIZE)) != NULL);
        m->nonzero[gfn >> SUPERPAGE_ORDER]++;
    }
    memcpy(m->bytes[gfn], page, PAGE_SIZE);
}

static void make_hole(struct model *m, uint64_t gfn)
{
    set_bytes(m, gfn, NULL);
    m->present[gfn] = 0;
    m->real[gfn] = R_HOLE;
}

/* A gfn for an access: mostly in the window, sometimes anywhere, sometimes
 * in the 4 KiB tail. */
static uint64_t pick_gfn(struct model *m)
{
    uint64_t r = rnd(m, 100);

    if (r < 65)
        return m->window + rnd(m, WINDOW);
    if (r < 85)
        return rnd(m, GFNS);
    return GFNS - 1 - rnd(m, 2 * SUPERPAGE_PAGES);
}

/* Whether the model has [gfn, end) all `present` and, for PoD, all zero. */
static bool model_all(struct model *m, uint64_t gfn, uint64_t end, uint8_t present)
{
    if (memchr(m->present + gfn, !present, end - gfn))
        return false;
    for (uint64_t g = gfn; present && g < end; g++) {
        if (m->nonzero[g >> SUPERPAGE_ORDER] == 0) {
            g |= SUPERPAGE_PAGES - 1; /* nothing set in this 2 MiB */
            continue;
        }
        if (m->bytes[g])
            return false;
    }
    return true;
}

/*
 * The refinement walk: the real p2m, entry by entry, against the model.
 */
static void walk(struct model *m)
{
    struct domain_info info;
    struct pod_target t;

    m->pods = m->rams = m->zero_rams = 0;
    for (uint64_t gfn = 0; gfn < GFNS && !m->failed;) {
        struct p2m_entry e;
        uint64_t end;

        p2m_lookup(m->d->p2m, _gfn(gfn), &e);
        end = min_u64(((gfn >> e.order) + 1) << e.order, GFNS);
        if (e.type == P2M_INVALID) {
            MCHECK(m, model_all(m, gfn, end, 0));
            memset(m->real + gfn, R_HOLE, end - gfn);
        } else if (e.type == P2M_POD) {
            MCHECK(m, model_all(m, gfn, end, 1));
            memset(m->real + gfn, R_POD, end - gfn);
            m->pods += end - gfn;
        } else {
            MCHECK_EQ(m, e.type, P2M_RAM_RW);
            for (uint64_t g = gfn; g < end; g++) {
                mfn_t mfn = mfn_add(e.mfn, g - gfn);
                const uint8_t *page = machine_frame_bytes(m->hv->m, mfn);

                MCHECK(m, m->present[g]);
                MCHECK(m, m->bytes[g] ? memcmp(page, m->bytes[g], PAGE_SIZE) == 0
                                      : pages_are_zero(page, 1));
                MCHECK_EQ(m, machine_m2p(m->hv->m, mfn), g);
                m->real[g] = R_RAM;
                m->rams++;
                m->zero_rams += !m->bytes[g];
            }
        }
        gfn = end;
    }
    if (m->failed)
        return; /* the counts are of a partial walk */
    t = figures(m);
    domain_get_info(m->d, &info);
    MCHECK_EQ(m, t.pod_entries, m->pods);
    MCHECK_EQ(m, t.tot_pages, m->rams + t.pod_cache_pages);
    MCHECK_EQ(m, info.tot_pages, t.tot_pages);
    MCHECK(m, !info.crashed);
}

static void check_bystander(struct model *m)
{
    static uint8_t page[PAGE_SIZE];
    struct domain_info info;

    domain_get_info(m->bystander, &info);
    MCHECK_EQ(m, info.tot_pages, BYSTANDER_PAGES);
    for (uint64_t gfn = 0; gfn < BYSTANDER_PAGES; gfn++) {
        MCHECK_EQ(m, guest_read(m->bystander, gfn << PAGE_SHIFT, page, PAGE_SIZE), 0);
        for (size_t i = 0; i < PAGE_SIZE; i++)
            if (page[i] != m->by_fill[gfn]) {
                MCHECK_EQ(m, page[i], m->by_fill[gfn]);
                break;
            }
    }
}

/*
 * Lives of the PoD guest.
 */
static void guest_gone(struct model *m)
{
    domain_put(m->d);
    m->d = NULL;
    hc_session_destroy(m->guest);
    m->guest = NULL;
    m->run_left = 0;
    for (uint64_t gfn = 0; gfn < GFNS; gfn++)
        make_hole(m, gfn);
}

/* Built as libxc builds a PoD guest: the target first, then the whole
 * physmap PoD in 1 GiB, 2 MiB and 4 KiB extents. */
static void op_create(struct model *m)
{
    uint64_t target = 64 + rnd(m, 768);

    m->d = test_domain(m->hv, true, GFNS);
    REQUIRE(m->d != NULL);
    m->domid = m->d->domid;
    m->t->domid = m->domid;
    m->t->target_pages = target;
    MCHECK_EQ(m, hc_call(m->dom0, HC_MEMORY_OP, XENMEM_set_pod_target, ADDR(m->t), 0, 0, 0), 0);
    MCHECK_EQ(m, m->t->pod_cache_pages, target);
    for (uint64_t gfn = 0; gfn < GFNS;) {
        unsigned order = 0;

        if (is_aligned_u64(gfn, GIGAPAGE_ORDER) && GFNS - gfn >= (UINT64_C(1) << GIGAPAGE_ORDER))
            order = GIGAPAGE_ORDER;
        else if (is_aligned_u64(gfn, SUPERPAGE_ORDER) && GFNS - gfn >= SUPERPAGE_PAGES)
            order = SUPERPAGE_ORDER;
        m->ext0[0] = gfn;
        MCHECK_EQ(m, test_memop(m->dom0, m->r0, XENMEM_populate_physmap, m->domid, m->ext0, 1,
                                order,
                           XENMEMF_populate_on_demand), 1);
        gfn += UINT64_C(1) << order;
    }
    memset(m->present, 1, GFNS);
    m->window = rnd(m, GFNS - WINDOW);
    REQUIRE(hc_session_create(m->hv, m->domid, false, &m->guest) == 0);
    m->rg = hc_buffer_alloc(m->guest, sizeof(*m->rg));
    m->extg = hc_buffer_alloc(m->guest, 8 * sizeof(xen_pfn_t));
    REQUIRE(m->rg && m->extg);
    m->lives++;
}

/* Crashed by the access just made: dead, gone from the domain table, the
 * reason given, and every page it had back in the heap. */
static void crashed(struct model *m, uint64_t tot, uint64_t free_before)
{
    struct domain_info info;
    struct domain *again;

    domain_get_info(m->d, &info);
    MCHECK(m, info.crashed);
    MCHECK(m, strstr(info.crash_reason, "out of PoD memory") != NULL);
    MCHECK_EQ(m, info.state, DOMAIN_DEAD);
    again = domain_lookup(m->hv->domains, m->domid);
    MCHECK(m, again == NULL);
    if (again)
        domain_put(again);
    guest_gone(m);
    MCHECK_EQ(m, test_free_pages(m->hv), free_before + tot);
    m->crashes++;
}

static void op_kill(struct model *m)
{
    uint64_t tot = figures(m).tot_pages, free_before = test_free_pages(m->hv);

    MCHECK_EQ(m, domain_kill(m->d), 0);
    guest_gone(m);
    MCHECK_EQ(m, test_free_pages(m->hv), free_before + tot);
}

/*
 * The guest's own accesses, one page each.
 */
enum access { A_WRITE, A_READ, A_SCRUB, A_TOUCH };

static void access_one(struct model *m, uint64_t gfn, enum access kind, uint8_t byte)
{
    static uint8_t page[PAGE_SIZE], buf[PAGE_SIZE];
    uint64_t gaddr = gfn << PAGE_SHIFT;
    size_t off = rnd(m, PAGE_SIZE), len = 1 + rnd(m, min_u64(64, PAGE_SIZE - off));
    struct pod_target t = figures(m);
    uint64_t free_before = test_free_pages(m->hv);
    enum real_type type = m->real[gfn];
    int rc;

    if (kind == A_WRITE) {
        memset(buf, byte, len);
        rc = guest_write(m->d, gaddr + off, buf, len);
    } else if (kind == A_READ) {
        rc = guest_read(m->d, gaddr + off, buf, len);
    } else if (kind == A_SCRUB) {
        off = 0, len = PAGE_SIZE, byte = 0;
        rc = guest_fill(m->d, gaddr, 0, PAGE_SIZE); /* a scrubber */
    } else {
        rc = guest_touch(m->d, _gfn(gfn), 1);
    }

    if (type == R_HOLE) {
        MCHECK_EQ(m, rc, -EFAULT);
        m->faults++;
        return;
    }
    /* A populated page, or a cache to populate from, never fails; an
     * empty cache with nothing zero to reclaim always does. */
    if (type == R_RAM || t.pod_cache_pages > 0) {
        MCHECK_EQ(m, rc, 0);
    } else if (m->zero_rams == 0) {
        MCHECK_EQ(m, rc, -ESRCH);
        m->dry_nothing_zero++;
    } else {
        MCHECK(m, rc == 0 || rc == -ESRCH);
        m->dry++;
    }
    if (rc == -ESRCH) {
        crashed(m, t.tot_pages, free_before);
        return;
    }
    if (rc)
        return;
    if (m->bytes[gfn])
        memcpy(page, m->bytes[gfn], PAGE_SIZE);
    else
        memset(page, 0, PAGE_SIZE);
    if (kind == A_READ)
        MCHECK(m, memcmp(buf, page + off, len) == 0);
    if (kind == A_WRITE || kind == A_SCRUB) {
        memset(page + off, byte, len);
        set_bytes(m, gfn, page);
    }
}

static void op_access(struct model *m)
{
    access_one(m, pick_gfn(m), (enum access)rnd(m, 4), (uint8_t)rnd(m, 4) /* zero often */);
}

/* A workload starts dirtying a run of pages, one a step from now on. */
static void op_workload(struct model *m)
{
    m->run_left = 64 + rnd(m, 1024);
    m->run_gfn = min_u64(pick_gfn(m), GFNS - m->run_left);
}

static void workload_step(struct model *m)
{
    m->run_left--;
    access_one(m, m->run_gfn++, A_WRITE, (uint8_t)(1 + rnd(m, 255)));
}

/*
 * The guest's balloon driver: decrease_reservation of 1 to 4 aligned
 * extents from its own session.  An extent succeeds exactly when it has
 * no hole; the one that fails may have removed some of its pages.
 */
static void op_decrease(struct model *m)
{
    unsigned order = rnd(m, 3) == 0 ? SUPERPAGE_ORDER : 0, n = 1 + (unsigned)rnd(m, 4);
    uint64_t size = UINT64_C(1) << order;
    long rc;

    for (unsigned i = 0; i < n; i++)
        m->extg[i] = min_u64(pick_gfn(m), GFNS - size) & ~(size - 1);
    rc = test_memop(m->guest, m->rg, XENMEM_decrease_reservation, DOMID_SELF, m->extg, n, order, 0);
    MCHECK(m, rc >= 0 && rc <= n);
    for (unsigned i = 0; i < n && i <= rc; i++) {
        uint64_t gfn = m->extg[i];
        bool hole = false;

        for (uint64_t g = gfn; g < gfn + size; g++)
            hole |= m->real[g] == R_HOLE;
        if (i < rc) {
            MCHECK(m, !hole);
            for (uint64_t g = gfn; g < gfn + size; g++)
                make_hole(m, g);
            continue;
        }
        MCHECK(m, hole);
        /* What the failing extent removed, the walk confirms the rest. */
        for (uint64_t g = gfn; g < gfn + size; g++) {
            struct p2m_entry e;

            p2m_lookup(m->d->p2m, _gfn(g), &e);
            if (e.type == P2M_INVALID)
                make_hole(m, g);
        }
    }
}

/* XENMEM_set_pod_target from dom0, predicted by spec A6. */
static void op_set_target(struct model *m)
{
    struct pod_target t = figures(m);
    uint64_t populated = t.tot_pages - t.pod_cache_pages, free_pages = test_free_pages(m->hv);
    uint64_t target, want;
    long rc;

    if (rnd(m, 10) == 0)
        target = GFNS + 1 + rnd(m, 100);
    else
        target = t.tot_pages > 256 ? t.tot_pages - 256 + rnd(m, 320) : rnd(m, 320);
    m->t->domid = m->domid;
    m->t->target_pages = target;
    rc = hc_call(m->dom0, HC_MEMORY_OP, XENMEM_set_pod_target, ADDR(m->t), 0, 0, 0);
    if (target > GFNS) {
        MCHECK_EQ(m, rc, -EINVAL);
        return;
    }
    want = target - populated;
    if ((populated > 0 && t.pod_entries == 0) || target < t.tot_pages)
        want = t.pod_cache_pages;
    else if (populated > 0 && want > t.pod_entries)
        want = t.pod_entries;
    if (want > t.pod_cache_pages && want - t.pod_cache_pages > free_pages) {
        MCHECK(m, rc == 0 || rc == -ENOMEM);
        if (rc)
            return;
    }
    MCHECK_EQ(m, rc, 0);
    MCHECK_EQ(m, m->t->pod_cache_pages, want);
    MCHECK_EQ(m, m->t->tot_pages, populated + want);
    MCHECK_EQ(m, m->t->pod_entries, t.pod_entries);
}

/* A PoD extent from dom0 (1 GiB, 2 MiB or 4 KiB, aligned or not): it
 * goes in naturally aligned chunks, each made PoD unless it holds a
 * populated page, which stops the extent there. */
static void op_mark(struct model *m)
{
    static const unsigned orders[] = { 0, 0, 3, SUPERPAGE_ORDER, GIGAPAGE_ORDER };
    unsigned order = orders[rnd(m, 5)];
    uint64_t size = UINT64_C(1) << order, gfn = rnd(m, 4) ? pick_gfn(m) : rnd(m, GFNS);
    unsigned chunk;
    bool ok = true;
    long rc;

    gfn = min_u64(gfn, GFNS - size);
    chunk = (unsigned)__builtin_ctzll(gfn | size);
    m->ext0[0] = gfn;
    rc = test_memop(m->dom0, m->r0, XENMEM_populate_physmap, m->domid, m->ext0, 1, order,
               XENMEMF_populate_on_demand);
    for (uint64_t c = gfn; c < gfn + size && ok; c += UINT64_C(1) << chunk) {
        for (uint64_t g = c; g < c + (UINT64_C(1) << chunk); g++)
            ok &= m->real[g] != R_RAM;
        for (uint64_t g = c; ok && g < c + (UINT64_C(1) << chunk); g++) {
            m->present[g] = 1;
            m->real[g] = R_POD;
        }
    }
    MCHECK_EQ(m, rc, ok ? 1 : 0);
}

/* populate_physmap from dom0 over holes and PoD entries: new zero pages
 * (over PoD entries, entry_count goes down with them). */
static void op_populate(struct model *m)
{
    unsigned order = rnd(m, 4) == 0 ? SUPERPAGE_ORDER : 0;
    uint64_t size = UINT64_C(1) << order, gfn = min_u64(pick_gfn(m), GFNS - size) & ~(size - 1);
    struct pod_target t = figures(m);
    uint64_t free_pages = test_free_pages(m->hv);
    long rc;

    for (uint64_t g = gfn; g < gfn + size; g++)
        if (m->real[g] == R_RAM)
            return;
    m->ext0[0] = gfn;
    rc = test_memop(m->dom0, m->r0, XENMEM_populate_physmap, m->domid, m->ext0, 1, order, 0);
    /* Short of memory, or (2 MiB) of a free 2 MiB block. */
    if (t.tot_pages + size > GFNS || free_pages < size)
        MCHECK_EQ(m, rc, 0);
    else if (order == 0)
        MCHECK_EQ(m, rc, 1);
    if (rc != 1)
        return;
    for (uint64_t g = gfn; g < gfn + size; g++) {
        m->present[g] = 1;
        set_bytes(m, g, NULL);
    }
}

/* The toolstack removing one page (guest_remove_page). */
static void op_remove(struct model *m)
{
    uint64_t gfn = pick_gfn(m);
    int rc = physmap_remove_page(m->d, _gfn(gfn));

    if (m->real[gfn] == R_HOLE) {
        MCHECK_EQ(m, rc, -ENOENT);
    } else if (m->real[gfn] == R_POD) {
        MCHECK_EQ(m, rc, -EINVAL);
    } else {
        MCHECK_EQ(m, rc, 0);
        make_hole(m, gfn);
    }
}

/* The emergency sweep on demand: it only ever takes zero pages. */
static void op_sweep(struct model *m)
{
    uint64_t got = p2m_pod_sweep(m->d);

    MCHECK(m, got <= m->zero_rams);
    m->sweeps_reclaimed += got;
}

static void op_bystander(struct model *m)
{
    uint64_t gfn = rnd(m, BYSTANDER_PAGES);

    m->by_fill[gfn] = (uint8_t)rnd(m, 256);
    MCHECK_EQ(m, guest_fill(m->bystander, gfn << PAGE_SHIFT, m->by_fill[gfn], PAGE_SIZE), 0);
}

static void run_model(uint64_t seed, uint64_t ops)
{
    struct model m;

    memset(&m, 0, sizeof(m));
    m.seed = m.rng = seed;
    m.hv = test_hv(RAM, 1, false);
    m.present = calloc(GFNS, 1);
    m.real = calloc(GFNS, 1);
    m.bytes = calloc(GFNS, sizeof(*m.bytes));
    m.nonzero = calloc((GFNS >> SUPERPAGE_ORDER) + 1, sizeof(*m.nonzero));
    REQUIRE(m.present && m.real && m.bytes && m.nonzero);
    REQUIRE(hc_session_create(m.hv, 0, true, &m.dom0) == 0);
    m.r0 = hc_buffer_alloc(m.dom0, sizeof(*m.r0));
    m.t = hc_buffer_alloc(m.dom0, sizeof(*m.t));
    m.ext0 = hc_buffer_alloc(m.dom0, sizeof(xen_pfn_t));
    REQUIRE(m.r0 && m.t && m.ext0);
    m.bystander = test_domain(m.hv, true, BYSTANDER_PAGES);
    REQUIRE(m.bystander != NULL);
    REQUIRE(physmap_populate(m.bystander, _gfn(0), 6, 0, &(mfn_t){ 0 }) == 0);
    for (uint64_t gfn = 0; gfn < BYSTANDER_PAGES; gfn++)
        op_bystander(&m);

    for (m.step = 0; m.step < ops && !m.failed; m.step++) {
        uint64_t r = rnd(&m, 100);

        if (!m.d) op_create(&m);
        else if (m.run_left && r < 80) workload_step(&m);
        else if (r < 5) op_workload(&m);
        else if (r < 48) op_access(&m);
        else if (r < 55) op_decrease(&m);
        else if (r < 63) op_set_target(&m);
        else if (r < 70) op_mark(&m);
        else if (r < 77) op_populate(&m);
        else if (r < 83) op_remove(&m);
        else if (r < 88) op_sweep(&m);
        else if (r < 89) rnd(&m, 5) ? op_sweep(&m) : op_kill(&m);
        else op_bystander(&m);
        if (m.d)
            walk(&m);
        check_bystander(&m);
        if (hv_check(m.hv, stderr) != 0) {
            fprintf(stderr, "model: seed %" PRIu64 " step %" PRIu64 ": checkers failed\n",
                    m.seed, m.step);
            m.failed = true;
        }
    }
    CHECK(!m.failed);
    printf("pod model, seed %" PRIu64 ": %" PRIu64 " operations%s: %" PRIu64 " guests, %" PRIu64
           " crashed; with the cache empty, %" PRIu64 " accesses to PoD (%" PRIu64
           " with nothing zero); %" PRIu64 " faults on holes, %" PRIu64 " pages swept back\n",
           seed, m.step, m.failed ? " (FAILED)" : "", m.lives, m.crashes,
           m.dry + m.dry_nothing_zero, m.dry_nothing_zero, m.faults, m.sweeps_reclaimed);
    if (m.d)
        op_kill(&m);
    MCHECK_EQ(&m, domain_kill(m.bystander), 0);
    domain_put(m.bystander);
    hc_session_destroy(m.dom0);
    CHECK_HV(m.hv);
    hv_destroy(m.hv);
    for (uint64_t gfn = 0; gfn < GFNS; gfn++)
        free(m.bytes[gfn]);
    free(m.bytes);
    free(m.nonzero);
    free(m.present);
    free(m.real);
}

static void test_pod_model(void)
{
    uint64_t seed = env_u64("MV_MODEL_SEED", 0), ops;

    /* A replay runs exactly the steps asked for. */
    if (seed) {
        run_model(seed, env_u64("MV_MODEL_OPS", 10000));
        return;
    }
    ops = env_u64("MV_MODEL_OPS", 1000000) / 100;
    seed = mv_now_ns();
    for (unsigned r = 0; r < 2; r++)
        run_model(seed + r, ops / 2);
}

HARNESS_MAIN("pod_model", TEST_ENTRY(test_pod_model))
