/*
 * The p2m radix tree.
 *
 * An entry is 64 bits: 0 is a hole; a leaf holds (mfn << 12) | (type << 4)
 * | P2ME_LEAF; a table holds the address of the next level's 512 entries
 * | P2ME_TABLE.  Levels: 4 (512 GiB per entry) down to 1 (4 KiB).
 */
#include <stdlib.h>

#include "memvisor/check.h"
#include "p2m_internal.h"

#define P2ME_KIND_MASK UINT64_C(0x3)
#define P2ME_LEAF UINT64_C(1)
#define P2ME_TABLE UINT64_C(2)
#define P2ME_TYPE_SHIFT 4
#define P2ME_TYPE_MASK UINT64_C(0xff)
#define P2ME_MFN_SHIFT 12

static unsigned level_order(unsigned level) { return (level - 1) * 9; }
static unsigned level_index(uint64_t gfn, unsigned level)
{
    return (unsigned)((gfn >> level_order(level)) & (P2M_ENTRIES - 1));
}
static bool p2me_is_leaf(p2me_t e) { return (e & P2ME_KIND_MASK) == P2ME_LEAF; }
static bool p2me_is_table(p2me_t e) { return (e & P2ME_KIND_MASK) == P2ME_TABLE; }
static p2me_t *p2me_table(p2me_t e) { return (p2me_t *)(uintptr_t)(e & ~P2ME_KIND_MASK); }
static uint64_t p2me_mfn(p2me_t e) { return e >> P2ME_MFN_SHIFT; }
static enum p2m_type p2me_type(p2me_t e)
{
    return (enum p2m_type)((e >> P2ME_TYPE_SHIFT) & P2ME_TYPE_MASK);
}
static p2me_t p2me_leaf(uint64_t mfn, enum p2m_type t)
{
    if (t == P2M_INVALID)
        return 0;
    if (!p2m_type_is_ram(t))
        mfn = 0; /* a PoD entry has no frame */
    return (mfn << P2ME_MFN_SHIFT) | ((uint64_t)t << P2ME_TYPE_SHIFT) | P2ME_LEAF;
}

int p2m_create(struct domain *d, struct fault_injector *fault, struct p2m **out)
{
    struct p2m *p = fault_calloc(fault, 1, sizeof(*p));

    if (!p)
        return -ENOMEM;
    lock_init(&p->lock, LOCK_RANK_P2M, "p2m");
    p->d = d;
    p->m = heap_machine(domain_table_heap(d->table));
    p->fault = fault;
    pod_init(&p->pod);
    *out = p;
    return 0;
}

static void table_free(struct p2m *p, p2me_t *t, unsigned level)
{
    for (unsigned i = 0; i < P2M_ENTRIES; i++)
        if (p2me_is_table(t[i]))
            table_free(p, p2me_table(t[i]), level - 1);
    free(t);
    p->nr_tables--;
}

/*
 * What an entry held goes from the counters and the M2P: its RAM pages
 * (whose frames no longer map back here) and its PoD entries.  Called
 * before the entry is overwritten or freed, so that every change of the
 * tree keeps nr_ram_pages, pod.entry_count and the M2P exact, a change
 * that fails halfway included (Xen's XSA-389).
 */
static void entry_forget(struct p2m *p, p2me_t e, unsigned level)
{
    uint64_t n = UINT64_C(1) << level_order(level);

    if (p2me_is_leaf(e) && p2m_type_is_ram(p2me_type(e))) {
        p->nr_ram_pages -= n;
        for (uint64_t i = 0; i < n; i++)
            machine_set_m2p(p->m, _mfn(p2me_mfn(e) + i), INVALID_GFN_RAW);
    } else if (p2me_is_leaf(e) && p2me_type(e) == P2M_POD) {
        p->pod.entry_count -= n;
    } else if (p2me_is_table(e)) {
        p2me_t *t = p2me_table(e);
        for (unsigned i = 0; i < P2M_ENTRIES; i++)
            entry_forget(p, t[i], level - 1);
    }
}

/* The counterpart for a new leaf for gfn. */
static void entry_note(struct p2m *p, p2me_t e, unsigned level, uint64_t gfn)
{
    uint64_t n = UINT64_C(1) << level_order(level);

    if (!p2me_is_leaf(e))
        return;
    if (p2m_type_is_ram(p2me_type(e))) {
        p->nr_ram_pages += n;
        for (uint64_t i = 0; i < n; i++)
            machine_set_m2p(p->m, _mfn(p2me_mfn(e) + i), gfn + i);
    } else if (p2me_type(e) == P2M_POD) {
        p->pod.entry_count += n;
    }
    p->max_mapped_gfn = max_u64(p->max_mapped_gfn, gfn + n - 1);
}

static void free_all_tables(struct p2m *p)
{
    for (unsigned i = 0; i < P2M_ENTRIES; i++) {
        entry_forget(p, p->root[i], P2M_LEVELS);
        if (p2me_is_table(p->root[i]))
            table_free(p, p2me_table(p->root[i]), P2M_LEVELS - 1);
        p->root[i] = 0;
    }
}

void p2m_teardown(struct p2m *p)
{
    lock_acquire(&p->lock);
    /* Nothing PoD happens after this (specs A11): the cache's pages stay
     * with the dying domain, which relinquishes them with the rest. */
    pod_empty_cache(p);
    free_all_tables(p);
    p->dead = true;
    lock_release(&p->lock);
}

void p2m_destroy(struct p2m *p)
{
    if (!p)
        return;
    free_all_tables(p);
    lock_fini(&p->lock);
    free(p);
}

void p2m_lock(struct p2m *p) { lock_acquire(&p->lock); }
void p2m_unlock(struct p2m *p) { lock_release(&p->lock); }

void p2m_lookup_locked(struct p2m *p, gfn_t gfn_, struct p2m_entry *out)
{
    uint64_t gfn = gfn_x(gfn_);
    p2me_t *t = p->root;

    lock_assert_held(&p->lock);
    out->type = P2M_INVALID;
    out->mfn = INVALID_MFN;
    out->order = level_order(P2M_LEVELS);
    if (gfn >= P2M_GFN_LIMIT)
        return;
    for (unsigned level = P2M_LEVELS; level >= 1; level--) {
        p2me_t e = t[level_index(gfn, level)];

        out->order = level_order(level);
        if (p2me_is_leaf(e)) {
            out->type = p2me_type(e);
            if (p2m_type_is_ram(out->type))
                out->mfn = _mfn(p2me_mfn(e) + (gfn & ((UINT64_C(1) << out->order) - 1)));
            return;
        }
        if (!p2me_is_table(e))
            return;
        t = p2me_table(e);
    }
}

void p2m_lookup(struct p2m *p, gfn_t gfn, struct p2m_entry *out)
{
    lock_acquire(&p->lock);
    p2m_lookup_locked(p, gfn, out);
    lock_release(&p->lock);
}

/*
 * Makes the entry at `slot` (at `level`) a table.  A leaf is split into
 * 512 leaves of the next order down: the same translations.
 */
static int entry_make_table(struct p2m *p, p2me_t *slot, unsigned level)
{
    p2me_t old = *slot, *t;

    if (p2me_is_table(old))
        return 0;
    t = fault_calloc(p->fault, P2M_ENTRIES, sizeof(*t));
    if (!t)
        return -ENOMEM;
    if (p2me_is_leaf(old)) {
        uint64_t step = UINT64_C(1) << level_order(level - 1);
        for (unsigned i = 0; i < P2M_ENTRIES; i++)
            t[i] = p2me_leaf(p2me_mfn(old) + i * step, p2me_type(old));
    }
    p->nr_tables++;
    *slot = (p2me_t)(uintptr_t)t | P2ME_TABLE;
    return 0;
}

/*
 * Ensures the tables exist for an entry of `order` at gfn (splitting a
 * larger leaf in the way), without changing any translation.
 */
static int prepare_entry_locked(struct p2m *p, uint64_t gfn, unsigned order)
{
    unsigned target = order / 9 + 1;
    p2me_t *t = p->root;

    for (unsigned level = P2M_LEVELS; level > target; level--) {
        p2me_t *slot = &t[level_index(gfn, level)];
        int rc;

        if (!p2me_is_table(*slot)) {
            rc = entry_make_table(p, slot, level);
            if (rc)
                return rc;
        }
        t = p2me_table(*slot);
    }
    return 0;
}

/* The largest of 1G, 2M, 4K that is aligned at g (and m) and fits in left. */
static unsigned piece_order(uint64_t g, uint64_t m, bool check_m, uint64_t left)
{
    for (unsigned cand = GIGAPAGE_ORDER; cand > 0; cand -= 9)
        if (is_aligned_u64(g, cand) && (!check_m || is_aligned_u64(m, cand)) &&
            left >= (UINT64_C(1) << cand))
            return cand;
    return 0;
}

int p2m_prepare_range_locked(struct p2m *p, gfn_t gfn_, unsigned order)
{
    uint64_t gfn = gfn_x(gfn_), nr = UINT64_C(1) << order;

    lock_assert_held(&p->lock);
    if (p->dead || order > MAX_ORDER || gfn >= P2M_GFN_LIMIT || nr > P2M_GFN_LIMIT - gfn)
        return -EINVAL;
    /* An mfn block of 2^order is 2^order aligned, so the pieces depend on
     * the gfn alone. */
    for (uint64_t done = 0; done < nr;) {
        unsigned o = piece_order(gfn + done, 0, false, nr - done);
        int rc = prepare_entry_locked(p, gfn + done, o);

        if (rc)
            return rc;
        done += UINT64_C(1) << o;
    }
    return 0;
}

/* Sets one aligned entry of order 0, 9 or 18. */
int p2m_set_entry_locked(struct p2m *p, uint64_t gfn, uint64_t mfn, unsigned order,
                         enum p2m_type type)
{
    unsigned target = order / 9 + 1;
    p2me_t *t = p->root;
    p2me_t *slot;
    int rc;

    for (unsigned level = P2M_LEVELS; level > target; level--) {
        slot = &t[level_index(gfn, level)];
        if (!p2me_is_table(*slot)) {
            /* Unmapping inside a hole needs no table. */
            if (*slot == 0 && type == P2M_INVALID)
                return 0;
            rc = entry_make_table(p, slot, level);
            if (rc)
                return rc;
        }
        t = p2me_table(*slot);
    }
    slot = &t[level_index(gfn, target)];
    entry_forget(p, *slot, target);
    if (p2me_is_table(*slot))
        table_free(p, p2me_table(*slot), target - 1);
    *slot = p2me_leaf(mfn, type);
    entry_note(p, *slot, target, gfn);
    return 0;
}

int p2m_set_range_locked(struct p2m *p, gfn_t gfn_, mfn_t mfn_, unsigned order,
                         enum p2m_type type)
{
    uint64_t gfn = gfn_x(gfn_), mfn = mfn_x(mfn_), nr = UINT64_C(1) << order;

    lock_assert_held(&p->lock);
    if (p->dead || order > MAX_ORDER || gfn >= P2M_GFN_LIMIT || nr > P2M_GFN_LIMIT - gfn)
        return -EINVAL;
    for (uint64_t done = 0; done < nr;) {
        uint64_t g = gfn + done, m = mfn + done;
        unsigned o = piece_order(g, m, p2m_type_is_ram(type), nr - done);
        int rc;

        rc = p2m_set_entry_locked(p, g, m, o, type);
        if (rc)
            return rc;
        done += UINT64_C(1) << o;
    }
    return 0;
}

/*
 * Page arrays (bulk populate): the level-1 table of the last 2 MiB region
 * touched is remembered, so consecutive gfns cost one table lookup, not a
 * walk each.
 */
struct l1_cursor {
    uint64_t region; /* gfn >> 9 of the cached table, or UINT64_MAX */
    p2me_t *l1;
};

/* The level-1 slot for gfn, creating tables (and splitting leaves) on the
 * way; NULL when a table cannot be had. */
static p2me_t *l1_slot(struct p2m *p, uint64_t gfn, struct l1_cursor *cur)
{
    p2me_t *t = p->root;

    if (cur->region == gfn >> 9)
        return &cur->l1[level_index(gfn, 1)];
    for (unsigned level = P2M_LEVELS; level > 1; level--) {
        p2me_t *slot = &t[level_index(gfn, level)];

        if (!p2me_is_table(*slot) && entry_make_table(p, slot, level))
            return NULL;
        t = p2me_table(*slot);
    }
    cur->region = gfn >> 9;
    cur->l1 = t;
    return &t[level_index(gfn, 1)];
}

unsigned p2m_prepare_pages_locked(struct p2m *p, const uint64_t *gfns, unsigned nr)
{
    struct l1_cursor cur = { UINT64_MAX, NULL };

    lock_assert_held(&p->lock);
    if (p->dead)
        return 0;
    for (unsigned i = 0; i < nr; i++)
        if (gfns[i] >= P2M_GFN_LIMIT || !l1_slot(p, gfns[i], &cur))
            return i;
    return nr;
}

unsigned p2m_set_pages_locked(struct p2m *p, const uint64_t *gfns, const mfn_t *mfns,
                              unsigned nr, enum p2m_type type)
{
    struct l1_cursor cur = { UINT64_MAX, NULL };

    lock_assert_held(&p->lock);
    if (p->dead)
        return 0;
    for (unsigned i = 0; i < nr; i++) {
        p2me_t *slot;

        if (gfns[i] >= P2M_GFN_LIMIT || !(slot = l1_slot(p, gfns[i], &cur)))
            return i;
        entry_forget(p, *slot, 1);
        *slot = p2me_leaf(mfn_x(mfns[i]), type);
        entry_note(p, *slot, 1, gfns[i]);
    }
    return nr;
}

uint64_t p2m_max_mapped_gfn(struct p2m *p)
{
    uint64_t g;

    lock_acquire(&p->lock);
    g = p->max_mapped_gfn;
    lock_release(&p->lock);
    return g;
}

uint64_t p2m_nr_ram_pages(struct p2m *p)
{
    uint64_t n;

    lock_acquire(&p->lock);
    n = p->nr_ram_pages;
    lock_release(&p->lock);
    return n;
}

struct p2m_checker {
    struct p2m *p;
    struct mv_checker c;
    uint64_t ram_pages, extra_pages, pod_entries;
};

static void check_table(struct p2m_checker *c, p2me_t *t, unsigned level, uint64_t base_gfn)
{
    for (unsigned i = 0; i < P2M_ENTRIES; i++) {
        p2me_t e = t[i];
        uint64_t gfn = base_gfn + ((uint64_t)i << level_order(level));

        if (p2me_is_table(e)) {
            if (level == 1) {
                mv_check_fail(&c->c, "d%u gfn %#llx: a table below level 1", c->p->d->domid,
                              (unsigned long long)gfn);
                continue;
            }
            check_table(c, p2me_table(e), level - 1, gfn);
        } else if (p2me_is_leaf(e) && p2me_type(e) == P2M_POD) {
            c->pod_entries += UINT64_C(1) << level_order(level);
        } else if (p2me_is_leaf(e) && p2m_type_is_ram(p2me_type(e))) {
            uint64_t n = UINT64_C(1) << level_order(level);
            bool m2p_ok = true;

            for (uint64_t k = 0; k < n; k++) {
                m2p_ok &= machine_m2p(c->p->m, _mfn(p2me_mfn(e) + k)) == gfn + k;
                c->extra_pages += !!(frame_owner_flags(p2m_frame(c->p, p2me_mfn(e) + k)) &
                                     FRAME_EXTRA);
            }
            if (!m2p_ok)
                mv_check_fail(&c->c, "d%u gfn %#llx: the M2P does not map back", c->p->d->domid,
                              (unsigned long long)gfn);
            if (!is_aligned_u64(p2me_mfn(e), level_order(level)))
                mv_check_fail(&c->c, "d%u gfn %#llx: superpage mfn %#llx misaligned",
                              c->p->d->domid, (unsigned long long)gfn,
                              (unsigned long long)p2me_mfn(e));
            /* Sample the first and last frame: the whole range belongs to
             * one extent by construction. */
            if (!domain_owns_page(c->p->d, _mfn(p2me_mfn(e))) ||
                !domain_owns_page(c->p->d, _mfn(p2me_mfn(e) + n - 1)))
                mv_check_fail(&c->c, "d%u gfn %#llx maps mfn %#llx it does not own",
                              c->p->d->domid, (unsigned long long)gfn,
                              (unsigned long long)p2me_mfn(e));
            c->ram_pages += n;
        }
    }
}

unsigned p2m_check(struct p2m *p, FILE *report)
{
    struct p2m_checker c = { p, { report, "p2m check", 0 }, 0, 0, 0 };
    uint64_t tot;

    lock_acquire(&p->lock);
    check_table(&c, p->root, P2M_LEVELS, 0);
    if (c.ram_pages != p->nr_ram_pages)
        mv_check_fail(&c.c, "d%u nr_ram_pages %llu but %llu mapped", p->d->domid,
                      (unsigned long long)p->nr_ram_pages, (unsigned long long)c.ram_pages);
    if (c.pod_entries != p->pod.entry_count)
        mv_check_fail(&c.c, "d%u PoD entry_count %llu but %llu PoD entries", p->d->domid,
                      (unsigned long long)p->pod.entry_count,
                      (unsigned long long)c.pod_entries);
    pod_check_locked(p, &c.c);
    /* tot_pages = populated + cache, plus any page a populate displaced
     * (which Xen leaves with the domain, unmapped). */
    tot = domain_tot_pages(p->d);
    if (!p->dead && tot < c.ram_pages - c.extra_pages + p->pod.count)
        mv_check_fail(&c.c, "d%u tot_pages %llu < %llu mapped + %llu cached", p->d->domid,
                      (unsigned long long)tot, (unsigned long long)(c.ram_pages - c.extra_pages),
                      (unsigned long long)p->pod.count);
    lock_release(&p->lock);
    return c.c.violations;
}

int p2m_domain_init(void *arg, struct domain *d)
{
    return p2m_create(d, arg, &d->p2m);
}

void p2m_domain_teardown(void *arg, struct domain *d)
{
    (void)arg;
    p2m_teardown(d->p2m);
}

void p2m_domain_release(void *arg, struct domain *d)
{
    (void)arg;
    p2m_destroy(d->p2m);
    d->p2m = NULL;
}
