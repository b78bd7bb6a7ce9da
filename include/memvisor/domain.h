/*
 * domain: lifecycle, page ownership, tot/max pages and claims.
 *
 * A domain owns extents: 2^order blocks taken from the heap and given to it
 * whole.  Their head frames are linked on the domain's extent list, so
 * destroying a domain frees whole extents rather than single pages.
 * Freeing one page of an extent splits the extent first.
 *
 * Per domain, under d->lock (rank DOMAIN, Xen's page_alloc_lock):
 *   tot_pages   = sum of 2^order over the extent list
 *   extra_pages = pages of those extents marked FRAME_EXTRA
 *   pages counted by limits and claims = tot_pages - extra_pages
 * Under the heap's account lock: d->claims (heap.h).
 *
 * Across domains (domain_table_check):
 *   outstanding claims (C) = sum over domains of claims.total   (I1)
 *   a dying domain has no claim                                 (I8)
 *   no owned page has need_scrub set                            (I10)
 */
#ifndef MEMVISOR_DOMAIN_H
#define MEMVISOR_DOMAIN_H

#include <stdio.h>

#include "memvisor/base.h"
#include "memvisor/heap.h"
#include "memvisor/lock.h"

enum domain_state {
    DOMAIN_ALIVE = 0,
    DOMAIN_DYING = 1, /* claims released, pages being relinquished */
    DOMAIN_DEAD = 2,  /* everything released; gone from the table */
};

/* Creation flags (Xen's XEN_DOMCTL_CDF_* values). */
#define DOMAIN_CDF_HVM (1u << 0)
#define DOMAIN_CDF_HAP (1u << 1)

struct domain_config {
    uint32_t cdf_flags;
    uint32_t max_vcpus;
    uint32_t ssidref;
    uint8_t handle[16];
    bool privileged;        /* the control domain (dom0) */
    uint64_t node_affinity; /* 0: all nodes */
    /* x86 arch config, kept to report back (XEN_X86_EMU_*, XEN_X86_MSR_*). */
    uint32_t emulation_flags;
    uint32_t misc_flags;
};

struct domain_table;
struct p2m;
struct tmem_client;

struct domain {
    domid_t domid;
    struct domain_table *table;
    struct domain_config config;   /* constant */
    _Atomic unsigned refcount;

    struct mv_lock lock;           /* rank DOMAIN */
    /* Written under lock; read without it where a stale value is harmless. */
    _Atomic int state;
    /* Under lock. */
    uint64_t tot_pages;
    uint64_t extra_pages;
    uint64_t max_pages;
    uint32_t extents_head;         /* frame index of the first extent head; 0: none */
    uint64_t nr_extents;
    uint64_t peak_pages;           /* the most tot_pages - extra_pages ever held */
    char crash_reason[192];        /* set once, by domain_crash */

    _Atomic bool crashed;          /* domain_crash was called: it runs no more */
    /* Paused by its controller (Xen creates domUs paused; the toolstack
     * unpauses them when built): its guest model waits. */
    _Atomic bool paused;

    /* vNUMA (XEN_DOMCTL_setvnumainfo): each virtual node's physical one,
     * for XENMEMF_vnode.  Under lock. */
    unsigned nr_vnodes;
    uint8_t vnode_to_pnode[MAX_NUMNODES];
    /* ... and its memory ranges [start, end) in bytes, as the guest would
     * read them with XENMEM_get_vnumainfo. */
    unsigned nr_vmemranges;
    struct domain_vmemrange {
        uint64_t start, end;
        unsigned vnode;
    } vmemrange[4 * MAX_NUMNODES];

    /* Under the heap's account lock. */
    struct heap_claims claims;
    _Atomic unsigned last_alloc_node;
    struct heap_owner alloc_owner;

    /* Owned by the p2m layer (set by the domain_init hook). */
    struct p2m *p2m;
    /* Owned by the tmem layer: the domain's client, made on first use. */
    _Atomic(struct tmem_client *) tmem;
};

/*
 * Hooks for the layers above (the p2m): init runs at creation; teardown
 * while a dying domain is destroyed, before its pages are relinquished
 * (hypercalls still holding a reference may run after it, and must find
 * the domain dying); release when the last reference goes.
 */
struct domain_hooks {
    int (*init)(void *arg, struct domain *d);
    void (*teardown)(void *arg, struct domain *d);
    void (*release)(void *arg, struct domain *d);
    void *arg;
};

int domain_table_create(struct heap *h, struct fault_injector *fault,
                        const struct domain_hooks *hooks, struct domain_table **out) MV_MUST_CHECK;
/* Destroys every remaining domain, then the table. */
void domain_table_destroy(struct domain_table *t);
struct heap *domain_table_heap(const struct domain_table *t);

/*
 * Creates a domain.  domid DOMID_ANY picks a free one (round-robin from the
 * last one picked, skipping 0, as Xen does).  The new domain has
 * max_pages 0.  On success *out holds a reference the caller must put.
 * -EEXIST (domid in use), -EINVAL (reserved domid), -ENOMEM (no free
 * domid, or no memory).
 */
int domain_create(struct domain_table *t, domid_t domid, const struct domain_config *cfg,
                  struct domain **out) MV_MUST_CHECK;
/* A reference to a domain (dying ones included), or NULL. */
struct domain *domain_lookup(struct domain_table *t, domid_t domid);
void domain_get(struct domain *d);
void domain_put(struct domain *d);

/*
 * Destroys a domain (Xen's domain_kill): marks it dying, releases its
 * claim, tears down the layers above, relinquishes every page (freed
 * dirty), and removes it from the table.  A concurrent second call waits
 * for the first to finish.  Returns 0.
 */
int domain_kill(struct domain *d);

static inline bool domain_is_dying(const struct domain *d)
{
    return atomic_load_explicit(&((struct domain *)d)->state, memory_order_acquire) != DOMAIN_ALIVE;
}

/*
 * Crashes d (Xen's domain_crash): it runs no more, and the reason is kept
 * for domain_get_info and the log.  The caller may hold any lock; whoever
 * next holds none destroys the domain with domain_kill (memvisor's
 * on_crash is destroy).  Only the first reason is kept.
 */
void domain_crash(struct domain *d, const char *fmt, ...) MV_PRINTF(2, 3);
static inline bool domain_is_crashed(const struct domain *d)
{
    return atomic_load_explicit(&((struct domain *)d)->crashed, memory_order_acquire);
}
/* tot_pages - extra_pages, the pages counted against max_pages. */
uint64_t domain_tot_pages(struct domain *d);

/* Sets max_pages (Xen's XEN_DOMCTL_max_mem: lowering below tot_pages is
 * allowed; claims are not re-validated). */
void domain_set_max_pages(struct domain *d, uint64_t max_pages);

/* XENMEM_claim_pages: pages is an absolute total; 0 cancels.  -EINVAL also
 * for a dying domain. */
int domain_claim_pages(struct domain *d, uint64_t pages) MV_MUST_CHECK;
/* A soft claim: freeable tmem memory counts as available (heap.h). */
int domain_claim_pages_soft(struct domain *d, uint64_t pages) MV_MUST_CHECK;
/* The claim-set call (specs 2.8); -ESRCH for a dying domain. */
int domain_claim_set(struct domain *d, const struct claim_entry *entries,
                     unsigned nr_entries) MV_MUST_CHECK;

/*
 * Allocates 2^order frames and gives them to d (Xen's
 * alloc_domheap_pages).  Refcounted allocations consume d's claim.
 * MEMF_no_owner gives anonymous pages allocated on d's behalf.
 * 0, -EINVAL (dying, bad order or node), -E2BIG/-EPERM (over max_pages),
 * -ENOMEM.
 */
int domain_alloc_pages(struct domain *d, unsigned order, unsigned memflags,
                       mfn_t *mfn_out) MV_MUST_CHECK;
/* Up to nr single pages for d, as successive domain_alloc_pages(order 0)
 * calls would give them (see heap_alloc_pages_bulk); returns how many. */
unsigned domain_alloc_pages_bulk(struct domain *d, unsigned nr, unsigned memflags, mfn_t *mfns);
/* Gives already allocated anonymous frames to d (Xen's assign_pages). */
int domain_assign_pages(struct domain *d, mfn_t mfn, unsigned order,
                        unsigned memflags) MV_MUST_CHECK;
/*
 * Releases d's allocation reference on 2^order frames at mfn, which must
 * lie inside one of d's extents (the extent is split as needed).  Frames
 * whose last reference this was go back to the heap dirty.
 * -EINVAL if d does not own them.
 */
int domain_release_pages(struct domain *d, mfn_t mfn, unsigned order) MV_MUST_CHECK;
/* True if d owns mfn through its allocation reference. */
bool domain_owns_page(struct domain *d, mfn_t mfn);

/* Page references (Xen's get_page/put_page).  get fails unless d owns the
 * page.  The last put frees the page. */
bool domain_get_page(struct domain *d, mfn_t mfn);
void domain_put_page(struct domain_table *t, mfn_t mfn);

struct domain_info {
    domid_t domid;
    enum domain_state state;
    uint32_t cdf_flags;
    bool privileged;
    uint64_t tot_pages;      /* excluding extra pages */
    uint64_t extra_pages;
    uint64_t max_pages;
    uint64_t outstanding_pages;
    uint64_t node_claims[MAX_NUMNODES];
    uint64_t global_claim;
    uint32_t max_vcpus;
    uint32_t ssidref;
    uint8_t handle[16];
    uint64_t peak_pages;
    bool crashed;
    char crash_reason[192];
};
void domain_get_info(struct domain *d, struct domain_info *out);

/*
 * Visits every domain with domid >= first, in domid order, with a
 * reference held during the call.  Stops early when fn returns non-zero,
 * and returns that value.
 */
int domain_for_each(struct domain_table *t, domid_t first,
                    int (*fn)(void *arg, struct domain *d), void *arg);
unsigned domain_table_count(struct domain_table *t);

/* Checks one domain's invariants (quiescent); counts violations. */
unsigned domain_check(struct domain *d, FILE *report);
/* Checks every domain and the cross-domain invariants, and runs the heap
 * checker. */
unsigned domain_table_check(struct domain_table *t, FILE *report);

#endif
