/*
 * p2m: a domain's guest-physical to machine map, and the physmap
 * operations that move pages in and out of a guest.
 *
 * A 4-level radix tree of 512-entry tables, as x86 paging: leaves at level
 * 1 map 4 KiB, at level 2 2 MiB, at level 3 1 GiB.  Mapping a smaller piece
 * inside a superpage splits it first; a split is an equivalent mapping, so
 * a failure halfway (out of memory) leaves every translation unchanged.
 *
 * Translated (HVM) domains use the p2m; non-translated (PV) domains see
 * machine frames directly (gfn == mfn), as in Xen.
 *
 * Locking: p2m->lock (rank P2M), held across a lookup and the change that
 * depends on it.  Pages are allocated before it is taken and released
 * while it is held (domain and heap locks rank after it).
 *
 * Invariant (p2m_check):
 *   nr_ram_pages = pages mapped with type RAM, and each is owned by the domain
 */
#ifndef MEMVISOR_P2M_H
#define MEMVISOR_P2M_H

#include <stdio.h>

#include "memvisor/domain.h"
#include "memvisor/fault.h"

enum p2m_type {
    P2M_INVALID = 0, /* nothing mapped */
    P2M_RAM_RW = 1,  /* ordinary guest RAM */
};

/* Largest guest frame number + 1: 2^36 frames (256 TiB). */
#define P2M_GFN_LIMIT (UINT64_C(1) << 36)

struct p2m_entry {
    enum p2m_type type;
    mfn_t mfn;      /* for the gfn looked up (not the superpage base) */
    unsigned order; /* the mapping's (or the hole's) order: 0, 9, 18 or 27 */
};

struct p2m;

int p2m_create(struct domain *d, struct fault_injector *fault, struct p2m **out) MV_MUST_CHECK;
/* Empties a dying domain's p2m: later changes fail with -EINVAL.  The
 * pages themselves belong to the domain, which relinquishes them. */
void p2m_teardown(struct p2m *p);
void p2m_destroy(struct p2m *p);

/* Looks up gfn without changing anything. */
void p2m_lookup(struct p2m *p, gfn_t gfn, struct p2m_entry *out);
void p2m_lookup_locked(struct p2m *p, gfn_t gfn, struct p2m_entry *out);
/* Maps [gfn, gfn + 2^order) to [mfn, ...) with type t, in the largest
 * aligned pieces that fit.  P2M_INVALID unmaps.  p2m lock held.
 * -EINVAL (range beyond P2M_GFN_LIMIT), -ENOMEM (a table). */
int p2m_set_range_locked(struct p2m *p, gfn_t gfn, mfn_t mfn, unsigned order,
                         enum p2m_type t) MV_MUST_CHECK;
/* Creates the tables a later p2m_set_range_locked of a 2^order-aligned
 * mfn block at gfn will need, so that it cannot fail for memory.  No
 * translation changes.  -EINVAL, -ENOMEM. */
int p2m_prepare_range_locked(struct p2m *p, gfn_t gfn, unsigned order) MV_MUST_CHECK;
/* The same for single pages at gfns[]: returns how many, from the start,
 * are ready (or were set); a gfn beyond the limit or a table that cannot
 * be had stops it.  p2m lock held. */
unsigned p2m_prepare_pages_locked(struct p2m *p, const uint64_t *gfns, unsigned nr);
unsigned p2m_set_pages_locked(struct p2m *p, const uint64_t *gfns, const mfn_t *mfns,
                              unsigned nr, enum p2m_type t);
void p2m_lock(struct p2m *p);
void p2m_unlock(struct p2m *p);
uint64_t p2m_nr_ram_pages(struct p2m *p);
/* The highest gfn ever mapped; never decreases (Xen's max_mapped_pfn). */
uint64_t p2m_max_mapped_gfn(struct p2m *p);

/* Counts violations of the p2m's invariants (quiescent). */
unsigned p2m_check(struct p2m *p, FILE *report);

/*
 * Physmap operations (the bodies of Xen's memory_op front-ends).
 */
static inline bool domain_is_translated(const struct domain *d)
{
    return d->config.cdf_flags & DOMAIN_CDF_HVM;
}

/*
 * Allocates 2^order pages for d and maps them at gfn (populate_physmap).
 * For a non-translated domain nothing is mapped; *mfn_out tells the guest
 * where its pages are.  Existing mappings in the range are replaced, the
 * pages behind them staying with the domain (as Xen does).
 */
int physmap_populate(struct domain *d, gfn_t gfn, unsigned order, unsigned memflags,
                     mfn_t *mfn_out) MV_MUST_CHECK;
/*
 * populate_physmap of nr single pages at gfns[] in one pass (nr <=
 * HEAP_BULK_MAX): the same outcome as nr successive physmap_populate
 * calls up to the first that would fail, which is left undone.  Returns
 * how many were placed; mfns[] receives their frames.
 */
unsigned physmap_populate_bulk(struct domain *d, const uint64_t *gfns, unsigned nr,
                               unsigned memflags, mfn_t *mfns);
/*
 * Unmaps and releases one page (Xen's guest_remove_page).  For a
 * non-translated domain gfn is the mfn.  -ENOENT: nothing there;
 * -EINVAL: not the domain's page.
 */
int physmap_remove_page(struct domain *d, gfn_t gfn) MV_MUST_CHECK;
/* As physmap_remove_page for a whole aligned 2^order range, taking the
 * fast path when one superpage entry maps it exactly.  Returns pages
 * removed before any error in *done. */
int physmap_remove_range(struct domain *d, gfn_t gfn, unsigned order, uint64_t *done) MV_MUST_CHECK;

/* The domain hooks that give every domain a p2m (arg: the fault injector). */
int p2m_domain_init(void *arg, struct domain *d);
void p2m_domain_teardown(void *arg, struct domain *d);
void p2m_domain_release(void *arg, struct domain *d);

#endif
