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
 * Invariants (p2m_check):
 *   nr_ram_pages = pages mapped with type RAM, and each is owned by the domain
 *   m2p[mfn] = gfn for every RAM page mapped at gfn
 *   the PoD invariants (specs A12, listed in src/p2m/p2m_internal.h)
 *
 * Populate-on-demand (specs A): a PoD entry is a placeholder with no frame;
 * the first access with P2M_ALLOC backs it from the domain's PoD cache of
 * zeroed pages, reclaiming zero pages from the guest when the cache is
 * empty, and crashing the domain when nothing can be had.
 */
#ifndef MEMVISOR_P2M_H
#define MEMVISOR_P2M_H

#include <stdio.h>

#include "memvisor/domain.h"
#include "memvisor/fault.h"

enum p2m_type {
    P2M_INVALID = 0, /* nothing mapped */
    P2M_RAM_RW = 1,  /* ordinary guest RAM */
    P2M_POD = 2,     /* populate-on-demand: backed from the PoD cache on first access */
};

/* Types with a machine frame behind them (Xen's P2M_RAM_TYPES). */
static inline bool p2m_type_is_ram(enum p2m_type t) { return t == P2M_RAM_RW; }

/* Xen's PoD constants. */
#define SUPERPAGE_PAGES (UINT64_C(1) << SUPERPAGE_ORDER)
#define POD_MRP_ENTRIES 32    /* the ring of recently populated gfns */
/* Gfns the sweep zero-checks per batch: Xen's is 16.  The sweep walks
 * down while hardware prefetchers follow ascending streams, so each batch
 * is checked upwards; 64 (256 KiB runs) measured 0.88 of a plain zero
 * check's bandwidth against 0.67 for 16.  The sweep may pass its limit by
 * up to a batch before it sees what it reclaimed, as Xen's does. */
#define POD_SWEEP_STRIDE 64
#define POD_SWEEP_LIMIT 1024  /* gfns a sweep looks at before it may stop */

/* What a lookup may do (Xen's p2m_query_t): P2M_ALLOC populates PoD. */
enum p2m_query {
    P2M_QUERY = 0,
    P2M_ALLOC = 1,
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

/* Counts violations of the p2m's invariants (quiescent).  The PoD cache's
 * pages are checked to be zero too: a full read of them. */
unsigned p2m_check(struct p2m *p, FILE *report);

/*
 * The translation of gfn for an access: with P2M_ALLOC a PoD entry is
 * populated first (a crash of the domain if it cannot be).  On success
 * the page has one more reference, for the caller to drop with
 * domain_put_page.  -ENOENT: nothing there (or PoD, for a query);
 * -ESRCH: the domain is dying, or was crashed by this access (and has
 * been destroyed: on_crash=destroy); -ENOMEM: a PoD entry could not be
 * split for want of a table.
 */
int p2m_get_page(struct domain *d, gfn_t gfn, enum p2m_query q, mfn_t *mfn) MV_MUST_CHECK;

/*
 * PoD, for the toolstack (specs A4, A6, A9).
 */
struct pod_target {
    uint64_t tot_pages;       /* the domain's pages (populated + cache) */
    uint64_t pod_cache_pages; /* count */
    uint64_t pod_entries;     /* entry_count */
};

struct pod_stats {
    uint64_t populated_4k, populated_2m; /* demand populates */
    uint64_t splinters;                  /* 2 MiB entries split for want of a chunk */
    uint64_t shatters;                   /* 1 GiB entries split */
    uint64_t reclaimed_4k, reclaimed_2m; /* zero pages taken back (eager or sweep) */
    uint64_t sweeps, swept_gfns;         /* emergency sweeps, and gfns they looked at */
    uint64_t stolen;                     /* pages stolen into the cache by decrease_reservation */
    uint64_t max_tot_pages;              /* the most pages the domain held at once */
};

/* Marks [gfn, gfn + 2^order) populate-on-demand, in naturally aligned
 * chunks (Xen's guest_physmap_mark_populate_on_demand).  -EINVAL (not
 * translated, dying, beyond the p2m), -EBUSY (a chunk holds something
 * other than holes and PoD entries: nothing of that chunk changes),
 * -ENOMEM. */
int p2m_pod_mark(struct domain *d, gfn_t gfn, unsigned order) MV_MUST_CHECK;
/* XENMEM_set_pod_target's body (p2m_pod_set_mem_target): the cache grows
 * to what the target needs, never shrinks for it.  -EINVAL (not
 * translated), -ENOMEM.  out (may be NULL) gets the figures after. */
int p2m_pod_set_target(struct domain *d, uint64_t target_pages,
                       struct pod_target *out) MV_MUST_CHECK;
void p2m_pod_get_target(struct domain *d, struct pod_target *out);
void p2m_pod_get_stats(struct domain *d, struct pod_stats *out);
/* Runs the emergency sweep now, as a fault with an empty cache would (for
 * tools and benchmarks); returns the pages it reclaimed. */
uint64_t p2m_pod_sweep(struct domain *d);
/* decrease_reservation of a PoD-aware range: the number of pages it dealt
 * with (p2m_pod_decrease_reservation), each now a hole. */
uint64_t p2m_pod_decrease_reservation(struct domain *d, gfn_t gfn, unsigned order);

/*
 * Guests' own accesses to their memory, as a vCPU's would be: every page
 * is translated with P2M_ALLOC (a PoD entry is populated), and held by a
 * reference while its bytes are copied.  gaddr is a guest-physical byte
 * address.  -EFAULT: a hole; -ESRCH: the domain is dying or was crashed.
 */
int guest_read(struct domain *d, uint64_t gaddr, void *buf, size_t len) MV_MUST_CHECK;
int guest_write(struct domain *d, uint64_t gaddr, const void *buf, size_t len) MV_MUST_CHECK;
/* Writes len bytes of `byte`, as a guest's memset would. */
int guest_fill(struct domain *d, uint64_t gaddr, int byte, size_t len) MV_MUST_CHECK;
/* Zeroes nr pages from gfn, page by page as a guest's memset of 0 would,
 * but writing only a page that is not zero already: the bytes end the
 * same, and memory never written (or only read: the kernel's zero page)
 * stays unbacked.  -EFAULT on a hole, after zeroing the pages before it. */
int guest_zero(struct domain *d, gfn_t gfn, uint64_t nr) MV_MUST_CHECK;
/* Touches (reads a byte of) each of nr pages from gfn.  Accesses also
 * give -ENOMEM as p2m_get_page does. */
int guest_touch(struct domain *d, gfn_t gfn, uint64_t nr) MV_MUST_CHECK;

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
