/*
 * tmem: transcendent memory (specs tmem.md).  A key-addressed page store
 * that guests put pages into and get them back from; ephemeral pools soak
 * up otherwise free memory and are evicted when it is wanted, persistent
 * pools keep every page put until it is flushed and are charged to their
 * domain.  Pages are compressed (LZ4, or zstd for clients that ask) and
 * packed into frames by a fragment allocator.
 *
 * The contract (spec §1): a client per domain, made on its first use, with
 * up to 16 pools; a page is addressed by (pool, 192-bit object id, 32-bit
 * index).  Results: 1 (done, or found), 0 (a miss), or a negative errno;
 * -TMEM_EFROZEN and -TMEM_EEMPTY are tmem's own, and a duplicate put that
 * cannot store its new data flushes the old and fails with -ENOSPC.
 *
 * Locking: nothing global on put or get.  A page operation takes its
 * client's lock only to find and pin the pool, then the lock of the
 * object's bucket (256 per pool) for the operation, and a size class's
 * lock inside the fragment allocator.  Compression runs with no lock held.
 */
#ifndef MEMVISOR_TMEM_H
#define MEMVISOR_TMEM_H

#include <stdio.h>

#include "memvisor/domain.h"
#include "memvisor/heap.h"

#define TMEM_EFROZEN 1000
#define TMEM_EEMPTY 1001

#define TMEM_MAX_POOLS 16        /* per client */
#define TMEM_MAX_SHARED_POOLS 16 /* per host */
#define TMEM_MAX_AUTH 16         /* authorised shared-pool UUIDs per client */

/* NEW_POOL flags, spelled as xen/tmem.h spells them (so both may be
 * included). */
#define TMEM_POOL_PERSIST 1
#define TMEM_POOL_SHARED 2
#define TMEM_POOL_PRECOMPRESSED 4
#define TMEM_POOL_PAGESIZE_SHIFT 4
#define TMEM_POOL_PAGESIZE_MASK 0xf
#define TMEM_POOL_VERSION_SHIFT 24
#define TMEM_POOL_VERSION_MASK 0xff
#define TMEM_POOL_RESERVED_BITS 0x00ffff00
#define TMEM_SPEC_VERSION 1

struct tmem_oid {
    uint64_t oid[3];
};

struct tmem;

int tmem_create(struct heap *h, struct domain_table *domains, struct fault_injector *fault,
                struct tmem **out) MV_MUST_CHECK;
/* Every client must have been torn down (their domains destroyed). */
void tmem_destroy(struct tmem *t);

/* The domain hooks: a dying domain's pools are flushed and its client
 * stops (teardown); the client is freed with the domain (release). */
void tmem_domain_teardown(struct tmem *t, struct domain *d);
void tmem_domain_release(struct tmem *t, struct domain *d);

/*
 * A guest's operations, as d.  -ENODEV: d is dying, or (page operations)
 * pool_id names no pool of d's; -ENOMEM: d's client cannot be made.
 */
/* The new pool's id (0-15).  -EPERM: a bad version, page size or reserved
 * bit, PRECOMPRESSED, shared and persistent together, or no free slot
 * (here or, for a new shared pool, on the host).  A shared pool whose UUID
 * d is not authorised for (or the all-ones UUID) is made private. */
int tmem_new_pool(struct tmem *t, struct domain *d, uint32_t flags, uint64_t uuid_lo,
                  uint64_t uuid_hi) MV_MUST_CHECK;
/* 1 once flushed (leaving a shared pool others still use), 0 for an
 * empty or out-of-range slot, -EBUSY while a live save runs. */
int tmem_destroy_pool(struct tmem *t, struct domain *d, int32_t pool_id);
/* 1; -TMEM_EFROZEN (a new handle while frozen), -ENOSPC (a duplicate put
 * failed: the old data is gone), -ENOMEM. */
int tmem_put(struct tmem *t, struct domain *d, int32_t pool_id, const struct tmem_oid *oid,
             uint32_t index, const void *page);
/* 1 with the page copied to `page`; 0: not there; -TMEM_EEMPTY: the pool
 * holds nothing; -EIO: the stored data is damaged.  Private ephemeral
 * pools give the page up (exclusive get), after the copy. */
int tmem_get(struct tmem *t, struct domain *d, int32_t pool_id, const struct tmem_oid *oid,
             uint32_t index, void *page);
/* 1 (whether or not there was anything), or -TMEM_EFROZEN when d is
 * frozen (the flush is done all the same). */
int tmem_flush_page(struct tmem *t, struct domain *d, int32_t pool_id,
                    const struct tmem_oid *oid, uint32_t index);
int tmem_flush_object(struct tmem *t, struct domain *d, int32_t pool_id,
                      const struct tmem_oid *oid);

/*
 * Control (spec §4.2), for the toolstack.
 */
/* Per-client settings: weight (eviction share) and compression codec
 * (0 off, 1 LZ4, 2 zstd). */
int tmem_set_weight(struct tmem *t, domid_t domid, uint32_t weight);
int tmem_set_compress(struct tmem *t, domid_t domid, unsigned codec);
/* Lets domid join (or, !allow, no longer join) shared pools with this
 * UUID.  -ENOMEM: its 16 slots are full; -ESRCH: no such domain. */
int tmem_set_auth(struct tmem *t, domid_t domid, uint64_t uuid_lo, uint64_t uuid_hi,
                  bool allow) MV_MUST_CHECK;

/*
 * The toolstack's control operations (spec §4.2, XEN_SYSCTL_tmem_op).
 * domid TMEM_ALL_CLIENTS names every client where an operation allows it.
 */
#define TMEM_ALL_CLIENTS 0xFFFFu

/* xen_tmem_client: flags as the sysctl's bitfield lays them out. */
#define TMEM_INFO_FROZEN 1u
#define TMEM_INFO_COMPRESS 2u
#define TMEM_INFO_MIGRATING 4u
struct tmem_client_info {
    uint32_t version;  /* TMEM_SPEC_VERSION */
    uint32_t maxpools; /* TMEM_MAX_POOLS */
    uint32_t nr_pools;
    uint32_t flags;
    uint32_t weight;
};

/* xen_tmem_pool_info: flags persist (bit 0), shared (1), auth (2),
 * pagebits (4-11), version (24-31), as NEW_POOL's. */
#define TMEM_INFO_POOL_AUTH 4u
struct tmem_pool_info {
    uint32_t flags;
    uint32_t id;
    uint64_t n_pages;
    uint64_t uuid[2];
};

/* A page's handle in save streams (xc_tmem's tmem_handle). */
struct tmem_handle {
    uint32_t pool_id;
    uint32_t index;
    struct tmem_oid oid;
};

/* FREEZE/THAW for one client or all: 0, -ENOENT (no such client). */
int tmem_set_frozen(struct tmem *t, domid_t domid, bool frozen);
/* Evicts until kb KiB have gone back to the heap or nothing more can be
 * evicted (FLUSH, all clients only); the KiB freed. */
uint64_t tmem_flush_kb(struct tmem *t, uint64_t kb);
/* Destroys every pool of one client or all (DESTROY: Xen's thawed
 * instead).  0, -ENOENT. */
int tmem_destroy_client_pools(struct tmem *t, domid_t domid);
/* GET_CLIENT_INFO: a client that does not exist reads as an empty one. */
void tmem_get_client_info(struct tmem *t, domid_t domid, struct tmem_client_info *out);
/* SET_CLIENT_INFO: weight and compression.  -EOPNOTSUPP (version),
 * -ERANGE (maxpools > 16), -ENOENT. */
int tmem_set_client_info(struct tmem *t, domid_t domid, const struct tmem_client_info *in);
/* GET_POOLS: up to max pools of domid's; the count. */
int tmem_get_pools(struct tmem *t, domid_t domid, struct tmem_pool_info *out, unsigned max);
/* SET_POOLS (restore): makes the client if need be, then each pool at its
 * id; n_pages must be 0.  The number made, or -errno for the first. */
int tmem_set_pools(struct tmem *t, domid_t domid, const struct tmem_pool_info *in, unsigned n);
/* QUERY_FREEABLE_MB. */
uint64_t tmem_freeable_mb(struct tmem *t);
/* LIST: statistics as text (spec §5's keys) into buf; the length. */
size_t tmem_list(struct tmem *t, domid_t domid, bool long_format, char *buf, size_t len);

/*
 * Saving and restoring persistent pools (xc_tmem's stream, spec §4.3).
 * SAVE_BEGIN freezes the client (live: also logs every persistent page
 * flushed from then on, and fails duplicate puts, flushing them);
 * SAVE_GET_NEXT_PAGE gives the pages of a persistent pool one by one, as
 * they are at that moment (a cursor that survives flushes meanwhile);
 * SAVE_GET_NEXT_INV gives the log; SAVE_END restores the frozen state.
 */
int tmem_save_begin(struct tmem *t, domid_t domid, bool live) MV_MUST_CHECK;
/* 1 with *h and page filled, 0 at the end; -EINVAL (not a persistent
 * pool), -ENOENT (no save begun). */
int tmem_save_next_page(struct tmem *t, domid_t domid, int32_t pool_id, struct tmem_handle *h,
                        void *page);
int tmem_save_next_inv(struct tmem *t, domid_t domid, struct tmem_handle *h);
int tmem_save_end(struct tmem *t, domid_t domid);
/* RESTORE_BEGIN: makes the client; -EEXIST. */
int tmem_restore_begin(struct tmem *t, domid_t domid) MV_MUST_CHECK;

/*
 * Giving memory back to the heap (spec §3, the RFC's relinquish calls).
 * tmem_evict_frames releases `frames` frames (or as many as can be: the
 * count), a zspage at a time, from the client most over its share;
 * tmem_evict_until_free evicts until the heap has `pages` free pages;
 * tmem_relinquish_block frees a whole aligned block of 2^order frames,
 * where tmem holds the most of one whose other frames are free (0, or
 * -ENOMEM: no such block; -EBUSY: an object in it was busy).  The heap's
 * reclaimer calls the first for single pages and the last for blocks.
 */
uint64_t tmem_evict_frames(struct tmem *t, uint64_t frames);
uint64_t tmem_evict_until_free(struct tmem *t, uint64_t pages);
int tmem_relinquish_block(struct tmem *t, unsigned order);

struct tmem_stats {
    uint64_t eph_pages, pers_pages;   /* pages stored */
    uint64_t eph_frames, pers_frames; /* frames holding them */
    uint64_t stored_bytes;            /* their compressed (or raw) bytes */
    uint64_t compressed_pages, raw_pages;
    uint64_t puts, good_puts, dup_puts_replaced, dup_puts_flushed, no_mem_puts;
    uint64_t gets, found_gets, flushes, evicted_pages, evicted_frames;
};
/* One client's figures, or the host's for DOMID_INVALID. */
void tmem_get_stats(struct tmem *t, domid_t domid, struct tmem_stats *out);

/* Counts violations of tmem's invariants (quiescent). */
unsigned tmem_check(struct tmem *t, FILE *report);

#endif
