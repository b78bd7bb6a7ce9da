/*
 * tmem's structures.
 *
 *   struct tmem ── shared[16] (host lock)
 *   domain ── client ── pools[16] (client lock)
 *                         └─ pool ── bucket[256] (bucket lock)
 *                              │        └─ objects (chained hash)
 *                              │            └─ pages (index hash)
 *                              └─ zpool: anonymous frames, or
 *                                 (persistent) frames the domain owns
 *
 * Lifetimes: a client lives as long as its domain (made on first use,
 * stopped at teardown, freed at release); a pool as long as some client's
 * table or some operation in flight holds a reference; an object while it
 * holds pages; a page while its slot in a zpool is allocated, so holding a
 * size class's lock with the slot in use pins page, object and pool (what
 * eviction relies on).
 *
 * Invariants (tmem_check, quiescent):
 *   pool.pages = sum over its objects of nr_pages; object.nr_pages > 0
 *   every page is in its object's index table under its index, and its
 *   zhandle's slot names it as owner
 *   a pool's zpool holds its pages' bytes: objects = pages, stored bytes =
 *   the sum of their lengths
 *   shared[i] is shared, and held by as many clients' tables as it counts
 */
#ifndef MEMVISOR_TMEM_INTERNAL_H
#define MEMVISOR_TMEM_INTERNAL_H

#include <stdatomic.h>

#include "memvisor/check.h"
#include "memvisor/lock.h"
#include "memvisor/tmem.h"
#include "compress.h"
#include "zpool.h"

#define TMEM_BUCKETS 256

struct tmem_object;

struct tmem_page {
    struct tmem_object *obj;
    struct zhandle h;
    uint32_t index;
    uint16_t len;   /* bytes stored: PAGE_SIZE when raw */
    uint8_t codec;  /* enum tmem_codec */
};

struct tmem_object {
    struct tmem_object *next; /* the bucket's chain */
    struct tmem_oid oid;
    struct tmem_pool *pool;
    uint32_t nr_pages;
    uint32_t cap;             /* index table slots: a power of two, or 0 */
    struct tmem_page **table; /* open addressing on index, linear probing */
};

struct tmem_bucket {
    struct mv_lock lock;
    uint32_t nr_objects;
    uint32_t cap;             /* chains: a power of two */
    struct tmem_object **chains;
};

struct tmem_pool_counters {
    _Atomic uint64_t puts, good_puts, dup_replaced, dup_flushed, no_mem_puts;
    _Atomic uint64_t gets, found_gets, flushes, flush_objs;
    _Atomic uint64_t compressed_pages, raw_pages, evicted_pages;
};

struct tmem_pool {
    struct tmem *t;
    struct tmem_client *client; /* private pools: the one client */
    int32_t id;                 /* private pools: its slot there */
    uint32_t flags;
    bool persistent, shared;
    uint64_t uuid[2];
    _Atomic unsigned refs;     /* table entries and operations in flight */
    _Atomic bool dying;
    _Atomic unsigned sharers;  /* clients whose table holds it */
    _Atomic uint64_t pages;
    struct zpool *zp;          /* the pages' bytes */
    struct tmem_pool_counters n;
    struct tmem_bucket bucket[TMEM_BUCKETS];
};

struct tmem_client {
    struct tmem *t;
    struct domain *d;
    struct tmem_client *next, *prev; /* the host's list (host lock) */
    struct mv_lock lock;       /* rank TMEM_CLIENT: pools[], auth[], dead */
    struct tmem_pool *pools[TMEM_MAX_POOLS];
    uint64_t auth[TMEM_MAX_AUTH][2];
    bool auth_used[TMEM_MAX_AUTH];
    bool dead;                 /* torn down: no more operations */
    _Atomic bool frozen;
    _Atomic unsigned codec;
    _Atomic uint32_t weight;
    /* Saving (client lock): a snapshot of each persistent pool's
     * handles, and where the stream has got to. */
    bool saving, was_frozen;
    struct tmem_save {
        struct tmem_handle *h;
        size_t n, next;
    } save[TMEM_MAX_POOLS];
    /* Live saving: persistent pages flushed since it began (log lock,
     * rank LEAF: flushes log under a bucket lock). */
    _Atomic bool migrating;
    struct mv_lock log_lock;
    struct tmem_handle *inv;
    size_t nr_inv, cap_inv, next_inv;
    bool inv_lost;             /* the log could not grow */
};

struct tmem {
    struct heap *heap;
    struct machine *m;
    struct domain_table *domains;
    struct fault_injector *fault;
    struct mv_lock lock;       /* rank TMEM_HOST: shared[], the client list */
    struct tmem_client *clients;
    struct tmem_pool *shared[TMEM_MAX_SHARED_POOLS];
    _Atomic uint64_t weight_total;
    _Atomic uint64_t eph_frames;     /* freeable: the heap may have them back */
    _Atomic uint64_t evicted_frames;
    _Atomic unsigned evict_cursor;
};

/* client.c */
struct tmem_client *tmem_client_of(struct domain *d);
struct tmem_client *tmem_client_get(struct tmem *t, struct domain *d, bool create);
/* Both locks held: a pool at slot (free) of c.  The id, or -errno. */
int tmem_pool_create_at(struct tmem *t, struct tmem_client *c, int slot, uint32_t flags,
                        uint64_t uuid_lo, uint64_t uuid_hi);
void tmem_log_invalidation(struct tmem_client *c, int32_t pool_id, const struct tmem_oid *oid,
                           uint32_t index);
struct tmem_pool *tmem_pool_get(struct tmem *t, struct domain *d, int32_t pool_id, int *rc);
void tmem_pool_put(struct tmem_pool *p);

/* page.c */
/* The handles of a pool's pages, into a new array (*n of them). */
int tmem_pool_handles(struct tmem_pool *p, int32_t id, struct tmem_handle **out, size_t *n);
/* 1 with the page's bytes copied out, 0 if it is not there. */
int tmem_pool_read(struct tmem_pool *p, const struct tmem_oid *oid, uint32_t index, void *page);
void tmem_pool_flush_all(struct tmem_pool *p);
size_t tmem_evict_one(void *arg, void *owner, struct zhandle h);
unsigned tmem_pool_check(struct tmem_pool *p, struct mv_checker *c, uint64_t *bytes);
void tmem_bucket_fini(struct tmem_bucket *b);
void tmem_bucket_init(struct tmem_bucket *b);

#endif
