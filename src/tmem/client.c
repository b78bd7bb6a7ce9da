/*
 * tmem clients and pools (spec §1.1-1.5): a client per domain, made on
 * its first use; pools and their slots; shared pools by UUID with the
 * toolstack's authorisation; the domain hooks; control settings.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "tmem_internal.h"

/*
 * Frame sources.  Ephemeral frames are anonymous (freeable: the heap may
 * have them back); persistent ones belong to the domain and count in its
 * tot_pages, so a domain at max_pages stores none (spec §1.4).  tmem
 * holds a reference of its own on them, so that a guest giving one back
 * cannot pull it from under a stored page.
 */
static int eph_frame_get(void *arg, mfn_t *mfn)
{
    struct tmem *t = arg;
    struct heap_owner anon = { 0 };

    /* Dirty frames do: tmem overwrites the bytes it stores, and never
     * shows the rest. */
    if (heap_alloc_pages(t->heap, 0, MEMF_no_scrub | MEMF_tmem, &anon, mfn))
        return -ENOMEM;
    atomic_fetch_add_explicit(&t->eph_frames, 1, memory_order_relaxed);
    return 0;
}

static void eph_frame_put(void *arg, mfn_t mfn)
{
    struct tmem *t = arg;

    atomic_fetch_sub_explicit(&t->eph_frames, 1, memory_order_relaxed);
    heap_free_pages(t->heap, mfn, 0, true);
}

static int pers_frame_get(void *arg, mfn_t *mfn)
{
    struct domain *d = arg;
    int rc = domain_alloc_pages(d, 0, MEMF_tmem, mfn);

    /* At max_pages (spec §1.4) evicting others' pages would not help. */
    if (rc)
        return rc == -ENOMEM ? -ENOMEM : -EDQUOT;
    if (!domain_get_page(d, *mfn)) {
        if (domain_release_pages(d, *mfn, 0))
            assert(!"a frame just given to the domain is not its own");
        return -ENOMEM;
    }
    return 0;
}

static void pers_frame_put(void *arg, mfn_t mfn)
{
    struct domain *d = arg;

    /* -EINVAL if the guest gave its allocation reference up already:
     * then tmem's reference is the last. */
    if (domain_release_pages(d, mfn, 0) != 0 && domain_owns_page(d, mfn))
        assert(!"a persistent tmem frame could not be released");
    domain_put_page(d->table, mfn);
}

/* The heap's reclaimer: the count of frames that could come back (every
 * ephemeral frame: a zspage is evicted whole, and nothing else pins it),
 * and frames back for an allocation. */
static uint64_t freeable(void *arg)
{
    struct tmem *t = arg;

    return atomic_load_explicit(&t->eph_frames, memory_order_relaxed);
}

static uint64_t reclaim(void *arg, unsigned order, uint64_t pages)
{
    /* Nothing ephemeral: nothing to give (and no scan for a block). */
    if (freeable(arg) == 0)
        return 0;
    if (order == 0)
        return tmem_evict_frames(arg, pages);
    /* A block: frames freed here and there would not make one. */
    return tmem_relinquish_block(arg, order) == 0 ? UINT64_C(1) << order : 0;
}

int tmem_create(struct heap *h, struct domain_table *domains, struct fault_injector *fault,
                struct tmem **out)
{
    struct tmem *t = fault_calloc(fault, 1, sizeof(*t));

    if (!t)
        return -ENOMEM;
    t->heap = h;
    t->m = heap_machine(h);
    t->domains = domains;
    t->fault = fault;
    lock_init(&t->lock, LOCK_RANK_TMEM_HOST, "tmem host");
    heap_set_reclaimer(h, &(struct heap_reclaimer){ reclaim, freeable, t });
    *out = t;
    return 0;
}

void tmem_destroy(struct tmem *t)
{
    if (!t)
        return;
    for (unsigned i = 0; i < TMEM_MAX_SHARED_POOLS; i++)
        assert(!t->shared[i]);
    heap_set_reclaimer(t->heap, &(struct heap_reclaimer){ NULL, NULL, NULL });
    lock_fini(&t->lock);
    free(t);
}

/*
 * Clients.
 */
struct tmem_client *tmem_client_of(struct domain *d)
{
    return atomic_load_explicit(&d->tmem, memory_order_acquire);
}

struct tmem_client *tmem_client_get(struct tmem *t, struct domain *d, bool create)
{
    struct tmem_client *c = tmem_client_of(d), *other;

    if (c || !create)
        return c;
    c = fault_calloc(t->fault, 1, sizeof(*c));
    if (!c)
        return NULL;
    c->t = t;
    c->d = d;
    lock_init(&c->lock, LOCK_RANK_TMEM_CLIENT, "tmem client");
    lock_init(&c->log_lock, LOCK_RANK_LEAF, "tmem invalidation log");
    atomic_init(&c->codec, TMEM_CODEC_LZ4);
    lock_acquire(&t->lock);
    other = tmem_client_of(d);
    if (!other) {
        c->next = t->clients;
        if (t->clients)
            t->clients->prev = c;
        t->clients = c;
        atomic_store_explicit(&d->tmem, c, memory_order_release);
    }
    lock_release(&t->lock);
    if (other) {
        lock_fini(&c->log_lock);
        lock_fini(&c->lock);
        free(c);
        return other;
    }
    return c;
}

/*
 * Pools.
 */
static struct tmem_pool *pool_new(struct tmem *t, struct tmem_client *owner, uint32_t flags,
                                  uint64_t uuid_lo, uint64_t uuid_hi)
{
    struct tmem_pool *p = fault_calloc(t->fault, 1, sizeof(*p));
    struct zpool_frame_source eph = { eph_frame_get, eph_frame_put, t };
    struct zpool_frame_source pers = { pers_frame_get, pers_frame_put, owner->d };

    if (!p)
        return NULL;
    p->t = t;
    p->flags = flags;
    p->persistent = flags & TMEM_POOL_PERSIST;
    p->shared = flags & TMEM_POOL_SHARED;
    p->uuid[0] = uuid_lo;
    p->uuid[1] = uuid_hi;
    atomic_init(&p->refs, 1);
    atomic_init(&p->sharers, 1);
    if (zpool_create(t->m, p->persistent ? &pers : &eph, t->fault, &p->zp)) {
        free(p);
        return NULL;
    }
    for (unsigned b = 0; b < TMEM_BUCKETS; b++)
        tmem_bucket_init(&p->bucket[b]);
    return p;
}

static void pool_free(struct tmem_pool *p)
{
    zpool_destroy(p->zp);
    for (unsigned b = 0; b < TMEM_BUCKETS; b++)
        tmem_bucket_fini(&p->bucket[b]);
    free(p);
}

void tmem_pool_put(struct tmem_pool *p)
{
    if (atomic_fetch_sub(&p->refs, 1) == 1)
        pool_free(p);
}

struct tmem_pool *tmem_pool_get(struct tmem *t, struct domain *d, int32_t pool_id, int *rc)
{
    struct tmem_client *c = tmem_client_get(t, d, false);
    struct tmem_pool *p = NULL;

    *rc = -ENODEV;
    if (!c || pool_id < 0 || pool_id >= TMEM_MAX_POOLS || domain_is_dying(d))
        return NULL;
    lock_acquire(&c->lock);
    if (!c->dead && (p = c->pools[pool_id]) != NULL)
        atomic_fetch_add(&p->refs, 1);
    lock_release(&c->lock);
    if (p)
        *rc = 0;
    return p;
}

static bool authorised(struct tmem_client *c, uint64_t lo, uint64_t hi)
{
    for (unsigned i = 0; i < TMEM_MAX_AUTH; i++)
        if (c->auth_used[i] && c->auth[i][0] == lo && c->auth[i][1] == hi)
            return true;
    return false;
}

static int free_slot(struct tmem_client *c)
{
    for (int i = 0; i < TMEM_MAX_POOLS; i++)
        if (!c->pools[i])
            return i;
    return -1;
}

int tmem_pool_create_at(struct tmem *t, struct tmem_client *c, int slot, uint32_t flags,
                        uint64_t uuid_lo, uint64_t uuid_hi)
{
    struct tmem_pool *p;
    int free_shared = -1;

    /* The all-ones UUID, or one the toolstack has not authorised for
     * this domain: a private pool, silently (spec §1.5). */
    if ((flags & TMEM_POOL_SHARED) &&
        ((uuid_lo == UINT64_MAX && uuid_hi == UINT64_MAX) || !authorised(c, uuid_lo, uuid_hi)))
        flags &= ~TMEM_POOL_SHARED;
    if (flags & TMEM_POOL_SHARED) {
        for (int i = 0; i < TMEM_MAX_SHARED_POOLS; i++) {
            struct tmem_pool *s = t->shared[i];

            if (!s) {
                if (free_shared < 0)
                    free_shared = i;
                continue;
            }
            if (s->uuid[0] != uuid_lo || s->uuid[1] != uuid_hi)
                continue;
            /* Join it, or find that this client holds it already. */
            for (int j = 0; j < TMEM_MAX_POOLS; j++)
                if (c->pools[j] == s)
                    return j;
            atomic_fetch_add(&s->refs, 1);
            atomic_fetch_add(&s->sharers, 1);
            c->pools[slot] = s;
            return slot;
        }
        if (free_shared < 0)
            return -EPERM;
    }
    p = pool_new(t, c, flags, uuid_lo, uuid_hi);
    if (!p)
        return -ENOMEM;
    if (p->shared) {
        /* The host's table holds no reference: the sharers' do. */
        t->shared[free_shared] = p;
    } else {
        p->client = c;
        p->id = slot;
    }
    c->pools[slot] = p;
    return slot;
}

int tmem_new_pool(struct tmem *t, struct domain *d, uint32_t flags, uint64_t uuid_lo,
                  uint64_t uuid_hi)
{
    struct tmem_client *c;
    int slot, rc = -EPERM;

    if (domain_is_dying(d))
        return -ENODEV;
    if (((flags >> TMEM_POOL_VERSION_SHIFT) & TMEM_POOL_VERSION_MASK) != TMEM_SPEC_VERSION ||
        ((flags & TMEM_POOL_SHARED) && (flags & TMEM_POOL_PERSIST)) ||
        ((flags >> TMEM_POOL_PAGESIZE_SHIFT) & TMEM_POOL_PAGESIZE_MASK) != PAGE_SHIFT - 12 ||
        (flags & TMEM_POOL_PRECOMPRESSED) || (flags & TMEM_POOL_RESERVED_BITS))
        return -EPERM;
    c = tmem_client_get(t, d, true);
    if (!c)
        return -ENOMEM;
    lock_acquire(&t->lock);
    lock_acquire(&c->lock);
    slot = free_slot(c);
    if (c->dead)
        rc = -ENODEV;
    else if (slot >= 0)
        rc = tmem_pool_create_at(t, c, slot, flags, uuid_lo, uuid_hi);
    lock_release(&c->lock);
    lock_release(&t->lock);
    return rc;
}

void tmem_log_invalidation(struct tmem_client *c, int32_t pool_id, const struct tmem_oid *oid,
                           uint32_t index)
{
    lock_acquire(&c->log_lock);
    if (c->inv_lost) {
        lock_release(&c->log_lock);
        return;
    }
    if (c->nr_inv == c->cap_inv) {
        size_t cap = c->cap_inv ? 2 * c->cap_inv : 64;
        struct tmem_handle *inv = realloc(c->inv, cap * sizeof(*inv));

        /* The log cannot grow: the stream must fail rather than miss a
         * flush (SAVE_GET_NEXT_INV says -ENOMEM). */
        if (!inv) {
            c->inv_lost = true;
            lock_release(&c->log_lock);
            return;
        }
        c->inv = inv;
        c->cap_inv = cap;
    }
    c->inv[c->nr_inv++] = (struct tmem_handle){ (uint32_t)pool_id, index, *oid };
    lock_release(&c->log_lock);
}

/* Drops client c's hold on pool_id (both locks held): the pool goes once
 * nobody shares it.  Returns the pool to flush and release, if any. */
static struct tmem_pool *leave_pool(struct tmem *t, struct tmem_client *c, int32_t pool_id)
{
    struct tmem_pool *p = c->pools[pool_id];

    c->pools[pool_id] = NULL;
    if (atomic_fetch_sub(&p->sharers, 1) > 1) {
        tmem_pool_put(p);
        return NULL;
    }
    for (unsigned i = 0; i < TMEM_MAX_SHARED_POOLS; i++)
        if (t->shared[i] == p)
            t->shared[i] = NULL;
    atomic_store(&p->dying, true);
    return p;
}

int tmem_destroy_pool(struct tmem *t, struct domain *d, int32_t pool_id)
{
    struct tmem_client *c = tmem_client_get(t, d, false);
    struct tmem_pool *p = NULL;
    int rc = 1;

    if (!c || pool_id < 0 || pool_id >= TMEM_MAX_POOLS)
        return 0;
    lock_acquire(&t->lock);
    lock_acquire(&c->lock);
    if (c->dead || !c->pools[pool_id])
        rc = 0;
    else if (atomic_load(&c->migrating))
        rc = -EBUSY; /* its pages are being sent (Xen refused too, leaking the pool) */
    else
        p = leave_pool(t, c, pool_id);
    lock_release(&c->lock);
    lock_release(&t->lock);
    if (p) {
        tmem_pool_flush_all(p);
        tmem_pool_put(p);
    }
    return rc;
}

void tmem_domain_teardown(struct tmem *t, struct domain *d)
{
    struct tmem_client *c = tmem_client_get(t, d, false);
    struct tmem_pool *gone[TMEM_MAX_POOLS];
    unsigned n = 0;

    if (!c)
        return;
    lock_acquire(&t->lock);
    lock_acquire(&c->lock);
    c->dead = true;
    for (int i = 0; i < TMEM_MAX_POOLS; i++)
        if (c->pools[i] && (gone[n] = leave_pool(t, c, i)) != NULL)
            n++;
    lock_release(&c->lock);
    lock_release(&t->lock);
    for (unsigned i = 0; i < n; i++) {
        tmem_pool_flush_all(gone[i]);
        tmem_pool_put(gone[i]);
    }
}

void tmem_domain_release(struct tmem *t, struct domain *d)
{
    struct tmem_client *c = tmem_client_of(d);

    if (!c)
        return;
    lock_acquire(&t->lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        t->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    /* Under the host lock, as set_weight: a weight set after teardown
     * still goes with the client. */
    atomic_fetch_sub(&t->weight_total, atomic_load(&c->weight));
    atomic_store(&d->tmem, NULL);
    lock_release(&t->lock);
    for (unsigned i = 0; i < TMEM_MAX_POOLS; i++)
        free(c->save[i].h);
    free(c->inv);
    lock_fini(&c->log_lock);
    lock_fini(&c->lock);
    free(c);
}

/*
 * Control.
 */
/* fn for one client, or (TMEM_ALL_CLIENTS) every one, under the host lock. */
static int for_clients(struct tmem *t, domid_t domid, void (*fn)(struct tmem_client *c, void *arg),
                       void *arg)
{
    bool any = false;

    lock_acquire(&t->lock);
    for (struct tmem_client *c = t->clients; c; c = c->next)
        if (domid == TMEM_ALL_CLIENTS || c->d->domid == domid) {
            fn(c, arg);
            any = true;
        }
    lock_release(&t->lock);
    return any || domid == TMEM_ALL_CLIENTS ? 0 : -ENOENT;
}

static void set_frozen(struct tmem_client *c, void *arg)
{
    atomic_store(&c->frozen, *(bool *)arg);
}

int tmem_set_frozen(struct tmem *t, domid_t domid, bool frozen)
{
    return for_clients(t, domid, set_frozen, &frozen);
}

static void set_weight(struct tmem_client *c, void *arg)
{
    uint32_t w = *(uint32_t *)arg, old = atomic_exchange(&c->weight, w);

    atomic_fetch_add(&c->t->weight_total, (uint64_t)w - old);
}

int tmem_set_weight(struct tmem *t, domid_t domid, uint32_t weight)
{
    return for_clients(t, domid, set_weight, &weight);
}

static void set_codec(struct tmem_client *c, void *arg)
{
    atomic_store(&c->codec, *(unsigned *)arg);
}

int tmem_set_compress(struct tmem *t, domid_t domid, unsigned codec)
{
    if (codec > TMEM_CODEC_ZSTD)
        return -EINVAL;
    return for_clients(t, domid, set_codec, &codec);
}

int tmem_set_auth(struct tmem *t, domid_t domid, uint64_t uuid_lo, uint64_t uuid_hi, bool allow)
{
    struct domain *d = domain_lookup(t->domains, domid);
    struct tmem_client *c;
    int rc = 0;

    if (!d)
        return -ESRCH;
    c = tmem_client_get(t, d, true);
    if (!c) {
        domain_put(d);
        return -ENOMEM;
    }
    lock_acquire(&c->lock);
    if (allow && !authorised(c, uuid_lo, uuid_hi)) {
        rc = -ENOMEM;
        for (unsigned i = 0; i < TMEM_MAX_AUTH && rc; i++)
            if (!c->auth_used[i]) {
                c->auth_used[i] = true;
                c->auth[i][0] = uuid_lo;
                c->auth[i][1] = uuid_hi;
                rc = 0;
            }
    } else if (!allow) {
        /* Those that joined already stay (spec §1.5). */
        for (unsigned i = 0; i < TMEM_MAX_AUTH; i++)
            if (c->auth_used[i] && c->auth[i][0] == uuid_lo && c->auth[i][1] == uuid_hi)
                c->auth_used[i] = false;
    }
    lock_release(&c->lock);
    domain_put(d);
    return rc;
}
