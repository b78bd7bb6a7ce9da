/*
 * tmem's pages (spec §1.3): objects in a pool's buckets, pages in an
 * object's index table, and put, get and the flushes; eviction of
 * ephemeral pages (spec §2.7, with the over-quota test the right way
 * round); the figures and the checker.
 *
 * A page operation holds one bucket lock.  Compression happens before it
 * is taken, decompression under it (the stored bytes must stay put).
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "tmem_internal.h"

#define BUCKET_MIN_CHAINS 4
#define OBJECT_MIN_SLOTS 4
/* Evictions a put tries before it gives up for want of memory (Xen's
 * ensure-avail budget). */
#define PUT_EVICT_TRIES 10

static uint64_t oid_hash(const struct tmem_oid *oid)
{
    uint64_t h = oid->oid[0] * UINT64_C(0x9E3779B97F4A7C15);

    h ^= (oid->oid[1] + (h >> 29)) * UINT64_C(0xBF58476D1CE4E5B9);
    h ^= (oid->oid[2] + (h >> 31)) * UINT64_C(0x94D049BB133111EB);
    return h ^ (h >> 32);
}

static bool oid_eq(const struct tmem_oid *a, const struct tmem_oid *b)
{
    return a->oid[0] == b->oid[0] && a->oid[1] == b->oid[1] && a->oid[2] == b->oid[2];
}

static struct tmem_bucket *bucket_of(struct tmem_pool *p, uint64_t h)
{
    return &p->bucket[h % TMEM_BUCKETS];
}

void tmem_bucket_init(struct tmem_bucket *b)
{
    lock_init(&b->lock, LOCK_RANK_TMEM_BUCKET, "tmem bucket");
    b->nr_objects = 0;
    b->cap = 0;
    b->chains = NULL;
}

void tmem_bucket_fini(struct tmem_bucket *b)
{
    assert(b->nr_objects == 0);
    free(b->chains);
    lock_fini(&b->lock);
}

/*
 * Objects: chained in their bucket's table, which doubles when it holds
 * more objects than chains.  Bucket lock held throughout.
 */
static struct tmem_object **chain_of(struct tmem_bucket *b, uint64_t h)
{
    return &b->chains[(h / TMEM_BUCKETS) & (b->cap - 1)];
}

static struct tmem_object *object_find(struct tmem_bucket *b, const struct tmem_oid *oid,
                                       uint64_t h)
{
    if (!b->cap)
        return NULL;
    for (struct tmem_object *o = *chain_of(b, h); o; o = o->next)
        if (oid_eq(&o->oid, oid))
            return o;
    return NULL;
}

static int bucket_grow(struct tmem *t, struct tmem_bucket *b)
{
    uint32_t cap = b->cap ? b->cap * 2 : BUCKET_MIN_CHAINS;
    struct tmem_object **chains = fault_calloc(t->fault, cap, sizeof(*chains));

    if (!chains)
        return -ENOMEM;
    for (uint32_t i = 0; i < b->cap; i++)
        for (struct tmem_object *o = b->chains[i], *next; o; o = next) {
            struct tmem_object **to = &chains[(oid_hash(&o->oid) / TMEM_BUCKETS) & (cap - 1)];

            next = o->next;
            o->next = *to;
            *to = o;
        }
    free(b->chains);
    b->chains = chains;
    b->cap = cap;
    return 0;
}

static struct tmem_object *object_new(struct tmem_pool *p, struct tmem_bucket *b,
                                      const struct tmem_oid *oid, uint64_t h)
{
    struct tmem_object *o;

    if (b->nr_objects >= b->cap && bucket_grow(p->t, b))
        return NULL;
    o = fault_calloc(p->t->fault, 1, sizeof(*o));
    if (!o)
        return NULL;
    o->oid = *oid;
    o->pool = p;
    o->next = *chain_of(b, h);
    *chain_of(b, h) = o;
    b->nr_objects++;
    return o;
}

static void object_free(struct tmem_bucket *b, struct tmem_object *o)
{
    struct tmem_object **pp = chain_of(b, oid_hash(&o->oid));

    while (*pp != o)
        pp = &(*pp)->next;
    *pp = o->next;
    b->nr_objects--;
    free(o->table);
    free(o);
}

/*
 * An object's pages: open addressing on the index, linear probing,
 * deletion by shifting back (no tombstones); at most 3/4 full.
 */
static uint32_t slot_of(const struct tmem_object *o, uint32_t index)
{
    return (uint32_t)((index * UINT64_C(0x9E3779B97F4A7C15)) >> 32) & (o->cap - 1);
}

static struct tmem_page *page_find(const struct tmem_object *o, uint32_t index)
{
    if (!o->cap)
        return NULL;
    for (uint32_t i = slot_of(o, index);; i = (i + 1) & (o->cap - 1)) {
        struct tmem_page *pg = o->table[i];

        if (!pg || pg->index == index)
            return pg;
    }
}

static void table_place(struct tmem_object *o, struct tmem_page *pg)
{
    uint32_t i = slot_of(o, pg->index);

    while (o->table[i])
        i = (i + 1) & (o->cap - 1);
    o->table[i] = pg;
}

/* The page at (oid, index) in bucket b, or NULL.  Bucket lock held. */
static struct tmem_page *page_lookup(struct tmem_bucket *b, const struct tmem_oid *oid,
                                     uint64_t h, uint32_t index)
{
    struct tmem_object *o = object_find(b, oid, h);

    return o ? page_find(o, index) : NULL;
}

/* Room for one more page.  -ENOMEM. */
static int object_reserve(struct tmem *t, struct tmem_object *o)
{
    uint32_t cap = o->cap ? o->cap * 2 : OBJECT_MIN_SLOTS, old_cap = o->cap;
    struct tmem_page **old = o->table, **table;

    if ((uint64_t)(o->nr_pages + 1) * 4 <= (uint64_t)o->cap * 3)
        return 0;
    table = fault_calloc(t->fault, cap, sizeof(*table));
    if (!table)
        return -ENOMEM;
    o->table = table;
    o->cap = cap;
    for (uint32_t i = 0; i < old_cap; i++)
        if (old[i])
            table_place(o, old[i]);
    free(old);
    return 0;
}

static void table_remove(struct tmem_object *o, struct tmem_page *pg)
{
    uint32_t i = slot_of(o, pg->index), j;

    while (o->table[i] != pg)
        i = (i + 1) & (o->cap - 1);
    o->table[i] = NULL;
    /* Shift back the run that follows, so lookups never stop short. */
    for (j = (i + 1) & (o->cap - 1); o->table[j]; j = (j + 1) & (o->cap - 1)) {
        struct tmem_page *m = o->table[j];
        uint32_t home = slot_of(o, m->index);

        /* m may move to i if i lies cyclically in [home, j). */
        if (((j - home) & (o->cap - 1)) >= ((j - i) & (o->cap - 1))) {
            o->table[i] = m;
            o->table[j] = NULL;
            i = j;
        }
    }
}

/*
 * Removing a page (bucket lock held): from its object (which goes with its
 * last page), and from the pool's figures.  free_bytes: whether to free
 * its slot too (eviction frees the slot itself).
 */
static void page_remove(struct tmem_pool *p, struct tmem_bucket *b, struct tmem_page *pg,
                        bool free_bytes)
{
    struct tmem_object *o = pg->obj;

    /* A live save sends this flush after the pages (spec §4.3). */
    if (p->persistent && atomic_load(&p->client->migrating))
        tmem_log_invalidation(p->client, p->id, &o->oid, pg->index);
    table_remove(o, pg);
    if (free_bytes)
        zpool_free(p->zp, pg->h, pg->len);
    if (--o->nr_pages == 0)
        object_free(b, o);
    atomic_fetch_sub(&p->pages, 1);
    free(pg);
}

/* One try at a put, the bucket lock taken and dropped here.  *dup says
 * whether a duplicate's old data has gone (in this try or an earlier one:
 * a duplicate may still be put while frozen).  1, -ENODEV, -TMEM_EFROZEN,
 * -ENOSPC (a duplicate while migrating), -ENOMEM (no frame), -EDQUOT (the
 * domain at max_pages), -ENOBUFS (no memory for the metadata). */
static int put_once(struct tmem_pool *p, bool frozen, const struct tmem_oid *oid, uint64_t h,
                    uint32_t index, const void *bytes, size_t len, enum tmem_codec codec, bool *dup)
{
    struct tmem_bucket *b = bucket_of(p, h);
    struct tmem_object *o;
    struct tmem_page *pg, *old;
    int rc = -ENOMEM;

    lock_acquire(&b->lock);
    if (atomic_load(&p->dying)) {
        rc = -ENODEV;
        goto out;
    }
    o = object_find(b, oid, h);
    old = o ? page_find(o, index) : NULL;
    if (!old && !*dup && frozen) {
        rc = -TMEM_EFROZEN;
        goto out;
    }
    /* A duplicate: the old data goes first, so that a failure below
     * leaves nothing stale to read (spec §1.3). */
    if (old) {
        page_remove(p, b, old, true);
        *dup = true;
        /* While migrating every duplicate fails (the flush is logged). */
        if (p->client && atomic_load(&p->client->migrating)) {
            rc = -ENOSPC;
            goto out;
        }
        o = object_find(b, oid, h);
    }
    if (!o && !(o = object_new(p, b, oid, h))) {
        rc = -ENOBUFS;
        goto out;
    }
    pg = fault_calloc(p->t->fault, 1, sizeof(*pg));
    if (pg) {
        /* Whole before the zpool names it as a slot's owner: an evictor
         * reads it (then fails to take our bucket lock). */
        pg->obj = o;
        pg->index = index;
        pg->len = (uint16_t)len;
        pg->codec = (uint8_t)codec;
    }
    if (!pg || object_reserve(p->t, o) || (rc = zpool_store(p->zp, bytes, len, pg, &pg->h))) {
        free(pg);
        if (o->nr_pages == 0)
            object_free(b, o);
        /* Only a want of frames is worth evicting for. */
        rc = rc == -EDQUOT || rc == -ENOMEM ? rc : -ENOBUFS;
        goto out;
    }
    table_place(o, pg);
    o->nr_pages++;
    atomic_fetch_add(&p->pages, 1);
    atomic_fetch_add(codec == TMEM_CODEC_RAW ? &p->n.raw_pages : &p->n.compressed_pages, 1);
    rc = 1;
out:
    lock_release(&b->lock);
    return rc;
}

int tmem_put(struct tmem *t, struct domain *d, int32_t pool_id, const struct tmem_oid *oid,
             uint32_t index, const void *page)
{
    uint8_t buf[TMEM_COMPRESS_BUF];
    const void *bytes = page;
    uint64_t h = oid_hash(oid);
    enum tmem_codec codec;
    struct tmem_client *c;
    struct tmem_pool *p;
    bool dup = false;
    size_t len = 0;
    int rc;

    p = tmem_pool_get(t, d, pool_id, &rc);
    if (!p)
        return rc;
    atomic_fetch_add(&p->n.puts, 1);
    c = tmem_client_of(d);
    codec = atomic_load_explicit(&c->codec, memory_order_relaxed);
    if (codec != TMEM_CODEC_RAW)
        len = tmem_compress(codec, page, buf);
    if (len) {
        bytes = buf;
    } else {
        len = PAGE_SIZE;
        codec = TMEM_CODEC_RAW;
    }
    /* Short of frames, ephemeral pages are evicted (with no lock held) and
     * the put tries again, a bounded number of times (Xen's ensure-avail).
     * A domain at max_pages gets no persistent page that way. */
    for (int tries = 0;; tries++) {
        rc = put_once(p, atomic_load(&c->frozen), oid, h, index, bytes, len, codec, &dup);
        if (rc != -ENOMEM || tries == PUT_EVICT_TRIES || tmem_evict_frames(t, 1) == 0)
            break;
    }
    if (rc == -EDQUOT || rc == -ENOBUFS)
        rc = -ENOMEM;
    if (rc == 1)
        atomic_fetch_add(dup ? &p->n.dup_replaced : &p->n.good_puts, 1);
    else if (rc == -ENOMEM || rc == -ENOSPC)
        atomic_fetch_add(dup ? &p->n.dup_flushed : &p->n.no_mem_puts, 1);
    if (rc == -ENOMEM && dup)
        rc = -ENOSPC;
    tmem_pool_put(p);
    return rc;
}

/* The page's bytes into `page` (bucket lock held): 1, or -EIO. */
static int copy_out(struct tmem_pool *p, struct tmem_page *pg, void *page)
{
    uint8_t scratch[PAGE_SIZE];
    const void *bytes = zpool_map(p->zp, pg->h, pg->len, scratch);

    if (pg->codec == TMEM_CODEC_RAW) {
        memcpy(page, bytes, PAGE_SIZE);
        return 1;
    }
    return tmem_decompress(pg->codec, bytes, pg->len, page) ? -EIO : 1;
}

int tmem_get(struct tmem *t, struct domain *d, int32_t pool_id, const struct tmem_oid *oid,
             uint32_t index, void *page)
{
    struct tmem_pool *p;
    struct tmem_bucket *b;
    struct tmem_page *pg;
    uint64_t h = oid_hash(oid);
    int rc;

    p = tmem_pool_get(t, d, pool_id, &rc);
    if (!p)
        return rc;
    atomic_fetch_add(&p->n.gets, 1);
    if (atomic_load(&p->pages) == 0) {
        tmem_pool_put(p);
        return -TMEM_EEMPTY;
    }
    b = bucket_of(p, h);
    lock_acquire(&b->lock);
    pg = page_lookup(b, oid, h, index);
    rc = pg ? copy_out(p, pg, page) : 0;
    if (rc == 1) {
        atomic_fetch_add(&p->n.found_gets, 1);
        /* Exclusive get, once the copy is done (spec §1.3's quirk). */
        if (!p->persistent && !p->shared)
            page_remove(p, b, pg, true);
        else
            zpool_touch(p->zp, pg->h);
    }
    lock_release(&b->lock);
    tmem_pool_put(p);
    return rc;
}

/* The flushes' result: frozen is the caller's own state (Xen checks the
 * pool owner's, which for a shared pool is somebody else's). */
static int flush_result(struct domain *d)
{
    return atomic_load(&tmem_client_of(d)->frozen) ? -TMEM_EFROZEN : 1;
}

int tmem_flush_page(struct tmem *t, struct domain *d, int32_t pool_id,
                    const struct tmem_oid *oid, uint32_t index)
{
    uint64_t h = oid_hash(oid);
    struct tmem_pool *p;
    struct tmem_bucket *b;
    struct tmem_page *pg;
    int rc;

    p = tmem_pool_get(t, d, pool_id, &rc);
    if (!p)
        return rc;
    atomic_fetch_add(&p->n.flushes, 1);
    b = bucket_of(p, h);
    lock_acquire(&b->lock);
    pg = page_lookup(b, oid, h, index);
    if (pg)
        page_remove(p, b, pg, true);
    rc = flush_result(d);
    lock_release(&b->lock);
    tmem_pool_put(p);
    return rc;
}

/* Bucket lock held.  A removal may shift a later page into the slot just
 * emptied, so a slot is looked at until it is empty; the last removal
 * frees the object, so the count, not the table, ends the loop. */
static void object_flush(struct tmem_pool *p, struct tmem_bucket *b, struct tmem_object *o)
{
    for (uint32_t i = 0, left = o->nr_pages; left;) {
        if (o->table[i]) {
            left--;
            page_remove(p, b, o->table[i], true);
        } else {
            i++;
        }
    }
}

int tmem_flush_object(struct tmem *t, struct domain *d, int32_t pool_id,
                      const struct tmem_oid *oid)
{
    uint64_t h = oid_hash(oid);
    struct tmem_pool *p;
    struct tmem_bucket *b;
    struct tmem_object *o;
    int rc;

    p = tmem_pool_get(t, d, pool_id, &rc);
    if (!p)
        return rc;
    atomic_fetch_add(&p->n.flush_objs, 1);
    b = bucket_of(p, h);
    lock_acquire(&b->lock);
    o = object_find(b, oid, h);
    if (o)
        object_flush(p, b, o);
    rc = flush_result(d);
    lock_release(&b->lock);
    tmem_pool_put(p);
    return rc;
}

void tmem_pool_flush_all(struct tmem_pool *p)
{
    for (unsigned i = 0; i < TMEM_BUCKETS; i++) {
        struct tmem_bucket *b = &p->bucket[i];

        lock_acquire(&b->lock);
        for (uint32_t c = 0; c < b->cap; c++)
            while (b->chains && b->chains[c])
                object_flush(p, b, b->chains[c]);
        lock_release(&b->lock);
    }
}

int tmem_pool_handles(struct tmem_pool *p, int32_t id, struct tmem_handle **out, size_t *n)
{
    size_t cap = atomic_load(&p->pages) + 64, got = 0;
    struct tmem_handle *h = malloc(cap * sizeof(*h));

    if (!h)
        return -ENOMEM;
    for (unsigned i = 0; i < TMEM_BUCKETS; i++) {
        struct tmem_bucket *b = &p->bucket[i];

        lock_acquire(&b->lock);
        for (uint32_t ch = 0; ch < b->cap; ch++)
            for (struct tmem_object *o = b->chains[ch]; o; o = o->next)
                for (uint32_t s = 0; s < o->cap; s++) {
                    struct tmem_handle *more;

                    if (!o->table[s])
                        continue;
                    if (got == cap) {
                        more = realloc(h, 2 * cap * sizeof(*h));
                        if (!more) {
                            lock_release(&b->lock);
                            free(h);
                            return -ENOMEM;
                        }
                        h = more;
                        cap *= 2;
                    }
                    h[got++] = (struct tmem_handle){ (uint32_t)id, o->table[s]->index, o->oid };
                }
        lock_release(&b->lock);
    }
    *out = h;
    *n = got;
    return 0;
}

int tmem_pool_read(struct tmem_pool *p, const struct tmem_oid *oid, uint32_t index, void *page)
{
    uint64_t h = oid_hash(oid);
    struct tmem_bucket *b = bucket_of(p, h);
    struct tmem_page *pg;
    int rc = 0;

    lock_acquire(&b->lock);
    pg = page_lookup(b, oid, h, index);
    if (pg)
        rc = copy_out(p, pg, page);
    lock_release(&b->lock);
    return rc;
}

/*
 * Eviction.
 */
/* zpool's callback, the size class's lock held: only try the bucket. */
size_t tmem_evict_one(void *arg, void *owner, struct zhandle h)
{
    struct tmem_page *pg = owner;
    struct tmem_pool *p = pg->obj->pool;
    struct tmem_bucket *b = bucket_of(p, oid_hash(&pg->obj->oid));
    size_t len = pg->len;

    (void)arg;
    (void)h;
    if (!lock_try_acquire_reverse(&b->lock))
        return 0;
    atomic_fetch_add(&p->n.evicted_pages, 1);
    page_remove(p, b, pg, false);
    lock_release(&b->lock);
    return len;
}

static uint64_t client_eph_pages(struct tmem_client *c)
{
    uint64_t n = 0;

    for (unsigned i = 0; i < TMEM_MAX_POOLS; i++)
        if (c->pools[i] && !c->pools[i]->persistent)
            n += atomic_load(&c->pools[i]->pages);
    return n;
}

/* c's ephemeral pools that hold pages, each with a reference, into out
 * (room for TMEM_MAX_POOLS); how many. */
static unsigned hold_eph_pools(struct tmem_client *c, struct tmem_pool **out)
{
    unsigned n = 0;

    lock_acquire(&c->lock);
    for (unsigned i = 0; i < TMEM_MAX_POOLS; i++) {
        struct tmem_pool *p = c->pools[i];

        if (p && !p->persistent && atomic_load(&p->pages)) {
            atomic_fetch_add(&p->refs, 1);
            out[n++] = p;
        }
    }
    lock_release(&c->lock);
    return n;
}

/* Evicts one zspage of c's ephemeral pools (host lock held); frames freed. */
static unsigned evict_from(struct tmem *t, struct tmem_client *c)
{
    struct tmem_pool *pools[TMEM_MAX_POOLS];
    unsigned n = hold_eph_pools(c, pools), frames = 0;
    unsigned start = atomic_fetch_add(&t->evict_cursor, 1);

    for (unsigned i = 0; i < n && !frames; i++)
        frames = zpool_evict(pools[(start + i) % n]->zp, tmem_evict_one, NULL);
    for (unsigned i = 0; i < n; i++)
        tmem_pool_put(pools[i]);
    return frames;
}

/*
 * The client to evict from: one over its share of ephemeral pages by
 * weight, the most over first (eph * total > all * weight: Xen's test was
 * the wrong way round, spec §2.7); with no weights or nobody over, the
 * one with the most.  Host lock held.
 */
static struct tmem_client *pick_victim(struct tmem *t, struct tmem_client *skip)
{
    uint64_t total = atomic_load(&t->weight_total), all = 0;
    struct tmem_client *best = NULL;
    double best_excess = 0;

    for (struct tmem_client *c = t->clients; c; c = c->next)
        all += client_eph_pages(c);
    for (struct tmem_client *c = t->clients; c; c = c->next) {
        uint64_t eph = client_eph_pages(c), w = atomic_load(&c->weight);
        double excess;

        if (c == skip || eph == 0)
            continue;
        /* Over share by eph - all * w / total pages; unweighted: eph. */
        excess = total && w ? (double)eph - (double)all * (double)w / (double)total
                            : (double)eph;
        if (!best || excess > best_excess) {
            best = c;
            best_excess = excess;
        }
    }
    return best;
}

uint64_t tmem_evict_frames(struct tmem *t, uint64_t frames)
{
    uint64_t got = 0;

    while (got < frames) {
        struct tmem_client *skip = NULL;
        unsigned n = 0;

        lock_acquire(&t->lock);
        /* A victim whose pages are all busy is passed over once. */
        for (int tries = 0; tries < 2 && n == 0; tries++) {
            struct tmem_client *c = pick_victim(t, skip);

            if (!c)
                break;
            n = evict_from(t, c);
            skip = c;
        }
        lock_release(&t->lock);
        if (n == 0)
            break;
        got += n;
    }
    atomic_fetch_add(&t->evicted_frames, got);
    return got;
}

uint64_t tmem_evict_until_free(struct tmem *t, uint64_t pages)
{
    uint64_t got = 0;
    struct heap_totals h;

    for (heap_get_totals(t->heap, &h); h.free_pages < pages; heap_get_totals(t->heap, &h)) {
        uint64_t n = tmem_evict_frames(t, pages - h.free_pages);

        if (n == 0)
            break;
        got += n;
    }
    return got;
}

/* The ephemeral pools of every client, each once (a shared pool is in
 * several clients' tables), with references. */
static size_t eph_pools(struct tmem *t, struct tmem_pool ***out)
{
    struct tmem_pool **pools = NULL, *held[TMEM_MAX_POOLS];
    size_t n = 0, cap = 0;

    lock_acquire(&t->lock);
    for (struct tmem_client *c = t->clients; c; c = c->next) {
        unsigned k = hold_eph_pools(c, held);

        for (unsigned i = 0; i < k; i++) {
            bool seen = false;

            for (size_t j = 0; j < n && !seen; j++)
                seen = pools[j] == held[i];
            if (!seen && n == cap) {
                size_t more_cap = 2 * cap + 16;
                struct tmem_pool **more = realloc(pools, more_cap * sizeof(*more));

                if (more) {
                    pools = more;
                    cap = more_cap;
                }
            }
            if (seen || n == cap)
                tmem_pool_put(held[i]); /* left out: fewer frames to choose from */
            else
                pools[n++] = held[i];
        }
    }
    lock_release(&t->lock);
    *out = pools;
    return n;
}

struct frame_list {
    uint64_t *mfn;
    size_t n, cap;
};

static void collect_frame(void *arg, uint64_t mfn)
{
    struct frame_list *l = arg;

    if (l->n == l->cap) {
        size_t cap = 2 * l->cap + 256;
        uint64_t *more = realloc(l->mfn, cap * sizeof(*more));

        if (!more)
            return; /* left out: a block may be missed, never misjudged */
        l->mfn = more;
        l->cap = cap;
    }
    l->mfn[l->n++] = mfn;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* Whether every frame of [base, base + n) is tmem's (in l, sorted) or free. */
static bool block_obtainable(struct tmem *t, const struct frame_list *l, size_t first,
                             uint64_t base, uint64_t n)
{
    size_t j = first;

    if (base == 0 || base + n > t->m->nr_frames)
        return false;
    for (uint64_t f = base; f < base + n; f++) {
        if (j < l->n && l->mfn[j] == f) {
            j++;
            continue;
        }
        if (frame_state(&t->m->frames[f]) != FRAME_FREE)
            return false;
    }
    return true;
}

int tmem_relinquish_block(struct tmem *t, unsigned order)
{
    struct frame_list l = { NULL, 0, 0 };
    struct tmem_pool **pools;
    size_t nr_pools = eph_pools(t, &pools), best = SIZE_MAX, best_n = 0;
    uint64_t n = UINT64_C(1) << order;
    int rc = -ENOMEM;

    for (size_t i = 0; i < nr_pools; i++)
        zpool_for_each_frame(pools[i]->zp, collect_frame, &l);
    if (l.n)
        qsort(l.mfn, l.n, sizeof(*l.mfn), cmp_u64);
    /* The aligned block where tmem holds the most, the rest free. */
    for (size_t i = 0, j; i < l.n; i = j) {
        uint64_t base = l.mfn[i] & ~(n - 1);

        for (j = i; j < l.n && (l.mfn[j] & ~(n - 1)) == base; j++)
            ;
        if (j - i > best_n && block_obtainable(t, &l, i, base, n)) {
            best = i;
            best_n = j - i;
        }
    }
    if (best != SIZE_MAX) {
        uint64_t base = l.mfn[best] & ~(n - 1);

        rc = 0;
        for (size_t i = 0; i < nr_pools; i++)
            if (zpool_evict_range(pools[i]->zp, base, n, tmem_evict_one, NULL))
                rc = -EBUSY;
        atomic_fetch_add(&t->evicted_frames, best_n);
    }
    for (size_t i = 0; i < nr_pools; i++)
        tmem_pool_put(pools[i]);
    free(pools);
    free(l.mfn);
    return rc;
}

/*
 * Figures and the checker.
 */
static void add_pool_stats(struct tmem_pool *p, struct tmem_stats *s)
{
    struct zpool_stats z;

    zpool_get_stats(p->zp, &z);
    if (p->persistent) {
        s->pers_pages += atomic_load(&p->pages);
        s->pers_frames += z.frames;
    } else {
        s->eph_pages += atomic_load(&p->pages);
        s->eph_frames += z.frames;
    }
    s->stored_bytes += z.stored_bytes;
    s->puts += atomic_load(&p->n.puts);
    s->good_puts += atomic_load(&p->n.good_puts);
    s->dup_puts_replaced += atomic_load(&p->n.dup_replaced);
    s->dup_puts_flushed += atomic_load(&p->n.dup_flushed);
    s->no_mem_puts += atomic_load(&p->n.no_mem_puts);
    s->gets += atomic_load(&p->n.gets);
    s->found_gets += atomic_load(&p->n.found_gets);
    s->flushes += atomic_load(&p->n.flushes) + atomic_load(&p->n.flush_objs);
    s->compressed_pages += atomic_load(&p->n.compressed_pages);
    s->raw_pages += atomic_load(&p->n.raw_pages);
    s->evicted_pages += atomic_load(&p->n.evicted_pages);
}

void tmem_get_stats(struct tmem *t, domid_t domid, struct tmem_stats *out)
{
    unsigned seen_shared[TMEM_MAX_SHARED_POOLS] = { 0 };

    memset(out, 0, sizeof(*out));
    lock_acquire(&t->lock);
    for (struct tmem_client *c = t->clients; c; c = c->next) {
        if (domid != DOMID_INVALID && c->d->domid != domid)
            continue;
        lock_acquire(&c->lock);
        for (unsigned i = 0; i < TMEM_MAX_POOLS; i++) {
            struct tmem_pool *p = c->pools[i];
            bool first = true;

            /* A shared pool once for the host, for each client that
             * holds it otherwise. */
            for (unsigned s = 0; s < TMEM_MAX_SHARED_POOLS && domid == DOMID_INVALID; s++)
                if (p && t->shared[s] == p)
                    first = !seen_shared[s]++;
            if (p && first)
                add_pool_stats(p, out);
        }
        lock_release(&c->lock);
    }
    lock_release(&t->lock);
    if (domid == DOMID_INVALID)
        out->evicted_frames = atomic_load(&t->evicted_frames);
}

unsigned tmem_pool_check(struct tmem_pool *p, struct mv_checker *c, uint64_t *bytes)
{
    unsigned before = c->violations;
    uint64_t pages = 0, stored = 0;
    struct zpool_stats z;

    for (unsigned i = 0; i < TMEM_BUCKETS; i++) {
        struct tmem_bucket *b = &p->bucket[i];
        uint32_t objects = 0;

        lock_acquire(&b->lock);
        for (uint32_t ch = 0; ch < b->cap; ch++)
            for (struct tmem_object *o = b->chains[ch]; o; o = o->next) {
                uint32_t n = 0;

                objects++;
                if (o->pool != p || bucket_of(p, oid_hash(&o->oid)) != b)
                    mv_check_fail(c, "tmem object in the wrong pool or bucket");
                for (uint32_t s = 0; s < o->cap; s++) {
                    struct tmem_page *pg = o->table[s];

                    if (!pg)
                        continue;
                    n++;
                    stored += pg->len;
                    if (pg->obj != o || page_find(o, pg->index) != pg)
                        mv_check_fail(c, "tmem page %u not found under its index", pg->index);
                    if (pg->len == 0 || pg->len > PAGE_SIZE ||
                        (pg->codec == TMEM_CODEC_RAW) != (pg->len == PAGE_SIZE))
                        mv_check_fail(c, "tmem page %u: %u bytes, codec %u", pg->index,
                                      pg->len, pg->codec);
                }
                if (n != o->nr_pages || n == 0)
                    mv_check_fail(c, "tmem object: %u pages counted, %u found", o->nr_pages, n);
                pages += n;
            }
        if (objects != b->nr_objects)
            mv_check_fail(c, "tmem bucket: %u objects counted, %u found", b->nr_objects,
                          objects);
        lock_release(&b->lock);
    }
    if (pages != atomic_load(&p->pages))
        mv_check_fail(c, "tmem pool: %llu pages counted, %llu found",
                      (unsigned long long)atomic_load(&p->pages), (unsigned long long)pages);
    zpool_check(p->zp, c);
    zpool_get_stats(p->zp, &z);
    if (z.objects != pages || z.stored_bytes != stored)
        mv_check_fail(c, "tmem pool: zpool holds %llu objects of %llu bytes, pages %llu of %llu",
                      (unsigned long long)z.objects, (unsigned long long)z.stored_bytes,
                      (unsigned long long)pages, (unsigned long long)stored);
    *bytes += stored;
    return c->violations - before;
}

unsigned tmem_check(struct tmem *t, FILE *report)
{
    struct mv_checker c = { report, "tmem check", 0 };
    unsigned shared_refs[TMEM_MAX_SHARED_POOLS] = { 0 };
    uint64_t bytes = 0;

    lock_acquire(&t->lock);
    for (struct tmem_client *cl = t->clients; cl; cl = cl->next) {
        lock_acquire(&cl->lock);
        for (unsigned i = 0; i < TMEM_MAX_POOLS; i++) {
            struct tmem_pool *p = cl->pools[i];

            if (!p)
                continue;
            for (unsigned s = 0; s < TMEM_MAX_SHARED_POOLS; s++)
                shared_refs[s] += t->shared[s] == p;
            for (unsigned j = 0; j < i; j++)
                if (cl->pools[j] == p)
                    mv_check_fail(&c, "d%u holds a pool in two slots", cl->d->domid);
            tmem_pool_check(p, &c, &bytes);
        }
        lock_release(&cl->lock);
    }
    for (unsigned s = 0; s < TMEM_MAX_SHARED_POOLS; s++) {
        struct tmem_pool *p = t->shared[s];

        if (p && (!p->shared || shared_refs[s] != atomic_load(&p->sharers)))
            mv_check_fail(&c, "shared pool %u: %u sharers counted, %u found", s,
                          atomic_load(&p->sharers), shared_refs[s]);
    }
    lock_release(&t->lock);
    return c.violations;
}
