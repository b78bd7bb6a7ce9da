/*
 * The heap's private structures, shared by its files:
 *   buddy.c    free lists, allocation, freeing and merging
 *   account.c  counters, the claims gate and reservations
 *   claims.c   staking, cancelling and claim sets
 *   scrub.c    idle scrubbers and the scrub abort handshake
 *   offline.c  page offlining and onlining
 *   heap_check.c  the invariant checker
 */
#ifndef MEMVISOR_HEAP_INTERNAL_H
#define MEMVISOR_HEAP_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "memvisor/heap.h"
#include "memvisor/lock.h"

/* A page's zone is fls(mfn): zone z holds MFNs in [2^(z-1), 2^z).  With
 * 32-bit frame numbers that is zones 1..32. */
#define NR_ZONES 33

/* Frame 0 is reserved and never listed, so index 0 ends a list. */
#define LIST_NIL 0u

struct frame_list {
    uint32_t head;
    uint32_t tail;
};

struct heap_node {
    struct mv_lock lock;          /* rank HEAP_NODE */
    unsigned id;
    uint64_t start_mfn, end_mfn;  /* constant */
    unsigned zone_lo, zone_hi;    /* zones with frames on this node; constant */

    /* Under lock. */
    struct frame_list free[NR_ZONES][MAX_ORDER + 1];
    uint32_t nonempty[NR_ZONES];  /* bit j: free[z][j] is not empty */
    uint64_t zone_avail[NR_ZONES];
    uint64_t list_pages;          /* = sum of zone_avail */
    struct frame_list offlined;   /* offlined and broken frames, order 0 */
    _Atomic uint64_t nr_offlined; /* written under lock, read by reports */

    /* Free pages with need_scrub.  Atomic: allocators and scrubbers
     * subtract what they cleaned after dropping the lock. */
    _Atomic uint64_t need_scrub;

    /* The idle scrubber; these fields are under lock. */
    pthread_t scrubber;
    bool scrubber_running;
    bool scrubber_stop;
    bool scrubber_sleeping;
    pthread_cond_t scrub_cond;
};

/*
 * The counters and every claim.  Under the account lock (rank
 * HEAP_ACCOUNT), held for O(1) work only.
 *
 *   total_avail = sum of node_avail[n]                       (A)
 *   outstanding = global_claims + sum of node_claims[n]      (C)
 */
struct heap_account {
    struct mv_lock lock;
    uint64_t total_avail;
    uint64_t outstanding;
    uint64_t global_claims;
    uint64_t node_avail[MAX_NUMNODES];
    uint64_t node_claims[MAX_NUMNODES];
};

struct heap {
    struct machine *m;
    struct fault_injector *fault;
    enum claim_gate gate;
    unsigned nr_nodes;
    uint64_t total_pages;         /* constant after boot */
    _Atomic unsigned anon_next_node;
    struct heap_reclaimer reclaimer; /* set once, before any allocation */
    struct heap_account acct;
    struct heap_node node[];
};

/*
 * What an allocation took from the counters, so that it can be given back
 * if no buddy turns out to fit.
 */
struct reservation {
    unsigned node;
    uint64_t pages;
    struct heap_claims *claims;
    uint64_t generation;
    uint64_t from_global;
    uint64_t from_own_node;
    uint64_t other_node_mask;  /* rare: claims on other nodes, see account.c */
    uint64_t from_other_node[MAX_NUMNODES];
};

/* account.c */
int account_reserve(struct heap *h, unsigned node, uint64_t pages,
                    struct heap_claims *claims, struct reservation *r);
void account_unreserve(struct heap *h, struct reservation *r);
/* For bulk allocation: under account_lock, one page at a time, the same
 * gate and consumption as account_reserve. */
void account_lock(struct heap *h);
void account_unlock(struct heap *h);
bool account_reserve_page_locked(struct heap *h, unsigned node, struct heap_claims *c);
void account_add_free(struct heap *h, unsigned node, uint64_t pages);
/* Offlining takes free pages out of the count regardless of claims. */
int account_take_free(struct heap *h, unsigned node, uint64_t pages);

/* buddy.c */
static inline struct frame *heap_frame(const struct heap *h, uint64_t mfn)
{
    return &h->m->frames[mfn];
}
static inline unsigned zone_of_mfn(uint64_t mfn) { return fls64(mfn); }
void buddy_list_add(struct heap *h, struct heap_node *n, uint64_t head, unsigned order);
void buddy_list_del(struct heap *h, struct heap_node *n, uint64_t head, unsigned order);
/* Frees a block of frames already marked free (state and need_scrub set),
 * merging it with free buddies.  Node lock held. */
void buddy_merge_and_list(struct heap *h, struct heap_node *n, uint64_t mfn,
                          unsigned order, uint32_t first_dirty);
struct heap_node *heap_node_of(struct heap *h, uint64_t mfn);
/* The allocator's pieces, for bulk.c. */
uint64_t node_take_block(struct heap *h, struct heap_node *n, unsigned zone_hi, unsigned order,
                         bool no_scrub, uint64_t *dirty);
unsigned alloc_first_node(struct heap *h, unsigned memflags, const struct heap_owner *owner);
/* Tries the nodes of one allocation in Xen's order, starting at `first`,
 * until try_node succeeds; returns that node, or -1. */
int alloc_walk_nodes(struct heap *h, unsigned memflags, const struct heap_owner *owner,
                     unsigned first, bool (*try_node)(void *arg, unsigned node), void *arg);

/* frame lists */
void frame_list_push_tail(struct heap *h, struct frame_list *l, uint64_t mfn);
void frame_list_push_head(struct heap *h, struct frame_list *l, uint64_t mfn);
void frame_list_remove(struct heap *h, struct frame_list *l, uint64_t mfn);

/* scrub.c */
/* Stops an idle scrub of a buddy head (the abort handshake).  Node lock
 * held. */
void scrub_stop_buddy(struct heap *h, struct frame *head);
/* Clears the need_scrub flags of frames the caller owns, scrubbing the
 * flagged pages first if `scrub` (contiguous ones in one go); returns how
 * many were flagged. */
uint64_t scrub_range(struct heap *h, uint64_t mfn, uint64_t nr_pages, bool scrub);
void scrub_wake_locked(struct heap_node *n);
void scrubber_init_node(struct heap_node *n);

/* A per-node free-list walk, for the checker and the scrubber. */
#define for_each_zone(n, z) for (unsigned z = (n)->zone_lo; z <= (n)->zone_hi; z++)

#endif
