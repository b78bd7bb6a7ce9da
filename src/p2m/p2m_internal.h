/*
 * The p2m layer's private parts.
 *   p2m.c          the radix tree: entries, splitting, accounting, M2P
 *   pod.c          populate-on-demand: the cache, targets, demand populate
 *   pod_reclaim.c  zero checks, eager reclaim, the emergency sweep, and
 *                  decrease_reservation of PoD ranges
 *   physmap.c      populate_physmap / decrease_reservation bodies
 *   guest_access.c guests reading and writing their memory
 *
 * One lock per domain, p2m->lock (rank P2M), guards the tree and the PoD
 * state together.  Xen splits them (a gfn lock, then the PoD lock) so that
 * faults on different gfns of one guest can run at once; here a guest's
 * accesses take the lock only to translate and take a page reference, so
 * one lock costs little and makes every counter update atomic with the
 * p2m change that justifies it (Xen's cc950c49ae).
 */
#ifndef MEMVISOR_P2M_INTERNAL_H
#define MEMVISOR_P2M_INTERNAL_H

#include "memvisor/check.h"
#include "memvisor/lock.h"
#include "memvisor/machine.h"
#include "memvisor/p2m.h"

#define P2M_LEVELS 4
#define P2M_ENTRIES 512

typedef uint64_t p2me_t;

/* A 2 MiB populate in the ring of recently populated gfns (pod.mrp). */
#define POD_LAST_SUPERPAGE (UINT64_C(1) << 63)

/* The PoD state (specs A3).  Invariants (pod_check):
 *   entry_count = sum of 2^order over the PoD entries of the tree
 *   count = 512 * nr_super + nr_single; every cached page is owned by the
 *           domain, holds only its allocation reference, is unmapped and
 *           zero
 *   tot_pages = RAM pages mapped + count (+ pages displaced by a populate
 *               over a mapped gfn, which Xen leaves with the domain)
 */
struct pod {
    uint32_t super;          /* 2 MiB chunks, linked through frame.pod_next; 0: none */
    uint32_t single;         /* 4 KiB pages, likewise */
    uint64_t nr_super, nr_single;
    uint64_t count;          /* pages in the cache */
    uint64_t entry_count;    /* PoD entries in the p2m, in pages */
    uint64_t reclaim_single; /* where the emergency sweep resumes */
    uint64_t max_guest;      /* highest gfn ever demand-populated */
    uint64_t mrp[POD_MRP_ENTRIES]; /* recently populated gfns; INVALID_GFN_RAW: empty */
    unsigned mrp_idx;
    struct pod_stats stats;
};

struct p2m {
    struct mv_lock lock; /* rank P2M */
    struct domain *d;
    struct machine *m;
    struct fault_injector *fault;
    p2me_t root[P2M_ENTRIES]; /* level 4 */
    bool dead;                /* under lock: torn down */
    uint64_t nr_ram_pages;    /* under lock */
    uint64_t nr_tables;       /* under lock */
    uint64_t max_mapped_gfn;  /* under lock: highest gfn ever mapped (Xen's max_mapped_pfn) */
    struct pod pod;           /* under lock */
};

static inline struct frame *p2m_frame(const struct p2m *p, uint64_t mfn)
{
    return &p->m->frames[mfn];
}

/* pod.c */
void pod_init(struct pod *pod);
/* Demand-populates the PoD entry of `order` covering gfn (specs A7).
 * true: the caller retries its walk; false: it could not (the domain may
 * have been crashed). */
bool pod_demand_populate(struct p2m *p, uint64_t gfn, unsigned order);
/* Adds 2^order owned, unmapped pages at mfn to the cache; zeroes them
 * first unless they are known to be zero. */
void pod_cache_add(struct p2m *p, uint64_t mfn, unsigned order, bool zeroed);
/* Takes 2^order (0 or 9) pages out of the cache; false if it cannot. */
bool pod_cache_get(struct p2m *p, unsigned order, uint64_t *mfn);
/* Shrinks the cache to target pages, freeing what it takes out. */
void pod_cache_shrink(struct p2m *p, uint64_t target);
void pod_empty_cache(struct p2m *p);
unsigned pod_check_locked(struct p2m *p, struct mv_checker *c);

/* pod_reclaim.c */
/* Zero-checks the 4 KiB pages at gfns[] (n <= POD_SWEEP_STRIDE); returns
 * how many were reclaimed into the cache. */
unsigned pod_zero_check(struct p2m *p, const uint64_t *gfns, unsigned n);
/* Zero-checks the 2 MiB frame at an aligned gfn: 512 or 0. */
unsigned pod_zero_check_superpage(struct p2m *p, uint64_t gfn);
void pod_eager_reclaim(struct p2m *p);
void pod_emergency_sweep(struct p2m *p);

/* p2m.c */
int p2m_set_entry_locked(struct p2m *p, uint64_t gfn, uint64_t mfn, unsigned order,
                         enum p2m_type t) MV_MUST_CHECK;

#endif
