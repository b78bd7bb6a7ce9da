/*
 * heap: the buddy allocator over NUMA nodes and zones, with lazy scrubbing,
 * page offlining, and the accounting that memory claims live in.
 *
 * Locking (see lock.h for the ranks):
 *  - each node's free lists are under that node's lock;
 *  - the counters (free pages per node and in all, outstanding claims) and
 *    every domain's claim are under one account lock, held only for O(1)
 *    arithmetic.  An allocation first *reserves* its pages from the
 *    counters (the claims gate and claim consumption, atomically), then
 *    takes a buddy from the node it reserved on.  No lock is held across
 *    both, and none across scrubbing.
 *
 * Invariants (checked by heap_check):
 *   A = sum over nodes of node_avail[n]                    (account)
 *   C = global_claims + sum over nodes of node_claims[n]   (account)
 *   node_avail[n] = pages on node n's free lists           (when quiescent:
 *                   otherwise the lists hold node_avail[n] plus the pages
 *                   reserved by allocations in flight, never fewer)
 *   node need_scrub = free pages on node n with need_scrub (quiescent)
 *   every list: clean buddies first, then dirty ones
 *   every buddy: 2^order aligned, one node, one zone, order <= MAX_ORDER,
 *                first_dirty < 2^order or INVALID_DIRTY_IDX,
 *                and not mergeable with its buddy
 */
#ifndef MEMVISOR_HEAP_H
#define MEMVISOR_HEAP_H

#include <stdio.h>

#include "memvisor/base.h"
#include "memvisor/fault.h"
#include "memvisor/machine.h"

/*
 * Allocation flags, with Xen's meanings and bit positions (MEMF_*).
 */
#define MEMF_no_refcount (1u << 0)  /* not counted in tot_pages; never uses a claim */
#define MEMF_exact_node (1u << 4)   /* no fallback to other nodes */
#define MEMF_no_owner (1u << 5)     /* anonymous, on behalf of a domain */
#define MEMF_no_scrub (1u << 8)     /* the caller accepts dirty pages */
#define MEMF_tmem (1u << 9)         /* tmem's own: never asks tmem for memory */
#define MEMF_node(n) ((((unsigned)(n) + 1) & 0xffu) << 16)
#define MEMF_get_node(f) (((((f) >> 16) & 0xffu) - 1) & 0xffu)
#define MEMF_bits(n) (((unsigned)(n) & 0xffu) << 24)
#define MEMF_get_bits(f) (((f) >> 24) & 0xffu)
#define NUMA_NO_NODE 0xffu

/* The claims gate (specs 2.4). */
enum claim_gate {
    /* Xen HEAD: when unclaimed memory is short, only a domain whose own
     * claim covers the whole request may allocate. */
    CLAIM_GATE_HEAD = 0,
    /* The NUMA series' proposal: the request may be covered by the
     * domain's claim plus unclaimed memory. */
    CLAIM_GATE_SHORTFALL = 1,
};

#define CLAIM_TARGET_GLOBAL 0xffffffffu

/* One entry of a claim set: pages claimed on a node, or globally. */
struct claim_entry {
    uint64_t pages;
    uint32_t target; /* a node id, or CLAIM_TARGET_GLOBAL */
};

/*
 * A domain's claims.  The domain embeds this, but every field is protected
 * by the heap's account lock.
 *
 *   total = global + sum over nodes of node[n]
 */
struct heap_claims {
    uint64_t total;
    uint64_t global;
    uint64_t node[MAX_NUMNODES];
    /* Bumped by every stake, cancel and set: an allocation that failed
     * after consuming claim gives it back only if nothing changed. */
    uint64_t generation;
};

/* Who an allocation is for. */
struct heap_owner {
    /* The owner's claims; NULL for anonymous allocations.  Not consulted
     * for MEMF_no_refcount allocations. */
    struct heap_claims *claims;
    /* Nodes to prefer; 0 means all. */
    uint64_t node_affinity;
    /* Round-robin cursor over the affinity nodes; may be NULL. */
    _Atomic unsigned *last_alloc_node;
};

struct heap_config {
    enum claim_gate gate;
    /* Start idle scrubber threads (one per node). */
    bool background_scrub;
};

struct heap;

int heap_create(struct machine *m, const struct heap_config *cfg,
                struct fault_injector *fault, struct heap **out) MV_MUST_CHECK;
/* Stops the scrubbers and frees the heap (not the machine). */
void heap_destroy(struct heap *h);

/*
 * Allocates 2^order contiguous frames.  Pages come back in use, anonymous
 * (owner DOMID_XEN), reference count 0, and scrubbed unless MEMF_no_scrub.
 * The claims gate and claim consumption happen atomically with taking the
 * pages from the free count.
 * 0, -EINVAL (order > MAX_ORDER, bad node), -ENOMEM.
 * *node_out (optional) receives the node the pages came from.
 */
int heap_alloc_pages(struct heap *h, unsigned order, unsigned memflags,
                     const struct heap_owner *owner, mfn_t *mfn_out) MV_MUST_CHECK;

/*
 * Allocates up to nr (<= HEAP_BULK_MAX) single pages with the outcome of
 * nr successive heap_alloc_pages(order 0) calls: the same gate and claim
 * consumption for each page, on the node the same round-robin picks,
 * stopping at the first that would fail.  But each lock is taken once,
 * each node's share comes as a few aligned blocks (up to 2 MiB), and
 * dirty pages are scrubbed a block at a time.  mfns[i] is the i-th page;
 * blocks[] (room for HEAP_BULK_MAX) the blocks they lie in, for the owner
 * to keep as extents.  Returns how many pages were allocated; 0 for
 * requests it does not batch (an address-width limit), which the caller
 * then makes one page at a time.
 */
#define HEAP_BULK_MAX 512
struct heap_block {
    mfn_t mfn;
    unsigned order;
    unsigned node;
};
unsigned heap_alloc_pages_bulk(struct heap *h, unsigned nr, unsigned memflags,
                               const struct heap_owner *owner, mfn_t *mfns,
                               struct heap_block *blocks, unsigned *nr_blocks);

/*
 * Frees 2^order in-use frames.  need_scrub marks them dirty (their bytes
 * may belong to the previous tenant).  Frames marked for offlining are kept
 * out of the heap.
 */
void heap_free_pages(struct heap *h, mfn_t mfn, unsigned order, bool need_scrub);

/*
 * The layer that holds otherwise free frames (tmem) registers a
 * reclaimer: an allocation the free lists cannot satisfy asks it to give
 * frames back, and retries, before it fails (unless MEMF_tmem).  reclaim
 * returns the frames it gave back (0: nothing more to give); freeable is
 * what it could give back now, which soft claims count as available.
 * Both are called with no heap lock held, except freeable, which must be
 * lock-free (an atomic read): staking reads it under the account lock.
 */
struct heap_reclaimer {
    uint64_t (*reclaim)(void *arg, unsigned order, uint64_t pages);
    uint64_t (*freeable)(void *arg);
    void *arg;
};
/* Set once, before any allocation. */
void heap_set_reclaimer(struct heap *h, const struct heap_reclaimer *r);
uint64_t heap_freeable(struct heap *h);

/*
 * Claims (specs 2.3-2.5, 2.8).  The caller holds the domain's lock and
 * passes the domain's tot_pages and max_pages read under it.
 */
/* Xen's domain_set_outstanding_pages: pages is an absolute total; 0
 * cancels.  -EINVAL (a claim exists, pages <= tot, pages > max), -ENOMEM. */
int heap_claim_stake(struct heap *h, struct heap_claims *c, uint64_t pages,
                     uint64_t tot_pages, uint64_t max_pages) MV_MUST_CHECK;
/* A soft claim (as the claims series proposed; Xen never shipped it): the
 * same, but freeable tmem memory counts as available, and the allocations
 * it covers make tmem give that memory back as they go.  Outstanding
 * claims may then exceed free memory, never free + freeable at staking. */
int heap_claim_stake_soft(struct heap *h, struct heap_claims *c, uint64_t pages,
                          uint64_t tot_pages, uint64_t max_pages) MV_MUST_CHECK;
void heap_claim_cancel(struct heap *h, struct heap_claims *c);
/*
 * Installs a claim set atomically, replacing the previous set.  Each entry
 * claims `pages` pages (an amount, not a total) on its node or globally.
 * A set of one {0, GLOBAL} entry cancels.  -ENOENT (no such node), -EINVAL
 * (duplicate target, too many entries, tot + claims > max), -ENOMEM
 * (globally, or on a node, not enough unclaimed memory).
 */
int heap_claim_set_install(struct heap *h, struct heap_claims *c,
                           const struct claim_entry *entries, unsigned nr_entries,
                           uint64_t tot_pages, uint64_t max_pages) MV_MUST_CHECK;
/* A consistent copy of a domain's claims. */
void heap_claims_read(struct heap *h, const struct heap_claims *c, struct heap_claims *out);

/* Free and outstanding pages, read atomically (physinfo). */
struct heap_totals {
    uint64_t total_pages;   /* frames the heap manages (free or not) */
    uint64_t free_pages;    /* A: includes dirty and claimed pages */
    uint64_t outstanding_pages; /* C */
    uint64_t scrub_pages;   /* free pages still to be scrubbed */
    uint64_t offlined_pages;
};
void heap_get_totals(struct heap *h, struct heap_totals *out);
/* Per-node memory size and free pages (numainfo). */
void heap_get_node(struct heap *h, unsigned node, uint64_t *size_pages,
                   uint64_t *free_pages, uint64_t *claimed_pages);
unsigned heap_nr_nodes(const struct heap *h);
struct machine *heap_machine(const struct heap *h);
enum claim_gate heap_claim_gate(const struct heap *h);

/*
 * Scrubbing.  Dirty free memory is cleaned by idle scrubber threads, or
 * synchronously on request.
 */
/* Scrubs every dirty free page now, in the calling thread. */
void heap_scrub_all(struct heap *h);
/* Waits until no dirty free page remains (the background scrubbers must
 * be running, or another thread scrubbing).  false on timeout. */
bool heap_scrub_wait(struct heap *h, uint64_t timeout_ns);
void heap_scrubbers_start(struct heap *h);
void heap_scrubbers_stop(struct heap *h);
uint64_t heap_scrub_pending(struct heap *h);

/*
 * Page offlining (specs 1.8).  status receives Xen's PG_OFFLINE_* bits
 * (same values as public/sysctl.h) with the owner in bits 16-31.
 */
#define OFFLINE_RESULT_OFFLINED (1u << 1)
#define OFFLINE_RESULT_PENDING (1u << 2)
#define OFFLINE_RESULT_FAILED (1u << 3)
#define OFFLINE_RESULT_XENPAGE (1u << 8)
#define OFFLINE_RESULT_ANONYMOUS (1u << 10)
#define OFFLINE_RESULT_OWNED (1u << 12)
#define OFFLINE_RESULT_BROKEN (1u << 13)
#define OFFLINE_OWNER_SHIFT 16
#define OFFLINE_STATUS_OFFLINED (1u << 1)
#define OFFLINE_STATUS_ONLINE (1u << 2)
#define OFFLINE_STATUS_OFFLINE_PENDING (1u << 3)
#define OFFLINE_STATUS_BROKEN (1u << 4)
/* A free page is offlined at once; a page in use is marked and leaves
 * when freed.  -EINVAL (no such frame), -EPERM (the hypervisor's own),
 * -EBUSY (every free page on the node is reserved by allocations in
 * flight: retry). */
int heap_offline_page(struct heap *h, mfn_t mfn, bool broken, uint32_t *status) MV_MUST_CHECK;
/* -EINVAL for a broken page, which never returns to the heap. */
int heap_online_page(struct heap *h, mfn_t mfn, uint32_t *status) MV_MUST_CHECK;
int heap_query_page_offline(struct heap *h, mfn_t mfn, uint32_t *status) MV_MUST_CHECK;

/*
 * The checker: counts violations of the invariants above (specs I2, I10,
 * I11), describing each on `report` if non-NULL.  The heap must be
 * quiescent: no allocation, free or scrub in flight.
 */
unsigned heap_check(struct heap *h, FILE *report);

#endif
