/*
 * tmem's control operations for the toolstack (spec §4.2): client
 * settings, pool lists, the freeable figure, statistics as text, and
 * saving and restoring persistent pools (spec §4.3), which was broken in
 * Xen when tmem was removed.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tmem_internal.h"

/* The client of domid, or NULL (no such domain, or no client yet).  *d
 * holds a reference when a domain was found. */
static struct tmem_client *client_by_id(struct tmem *t, domid_t domid, bool create,
                                        struct domain **d)
{
    *d = domid < DOMID_FIRST_RESERVED ? domain_lookup(t->domains, domid) : NULL;
    return *d ? tmem_client_get(t, *d, create) : NULL;
}

static void put_domain(struct domain *d)
{
    if (d)
        domain_put(d);
}

uint64_t tmem_flush_kb(struct tmem *t, uint64_t kb)
{
    return tmem_evict_frames(t, (kb + 3) / 4) * 4;
}

uint64_t tmem_freeable_mb(struct tmem *t)
{
    return heap_freeable(t->heap) >> (20 - PAGE_SHIFT);
}

int tmem_destroy_client_pools(struct tmem *t, domid_t domid)
{
    struct domain **ds = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;

    /* The domains first (references taken under the host lock), then
     * their pools, which takes the host lock again. */
    lock_acquire(&t->lock);
    for (struct tmem_client *c = t->clients; c && rc == 0; c = c->next) {
        if (domid != TMEM_ALL_CLIENTS && c->d->domid != domid)
            continue;
        if (n == cap) {
            struct domain **more = realloc(ds, (cap = 2 * cap + 8) * sizeof(*ds));

            if (!more) {
                rc = -ENOMEM;
                break;
            }
            ds = more;
        }
        domain_get(c->d);
        ds[n++] = c->d;
    }
    lock_release(&t->lock);
    for (size_t i = 0; i < n; i++) {
        for (int32_t id = 0; id < TMEM_MAX_POOLS && rc == 0; id++)
            (void)tmem_destroy_pool(t, ds[i], id);
        domain_put(ds[i]);
    }
    free(ds);
    if (rc == 0 && n == 0 && domid != TMEM_ALL_CLIENTS)
        rc = -ENOENT;
    return rc;
}

void tmem_get_client_info(struct tmem *t, domid_t domid, struct tmem_client_info *out)
{
    struct domain *d;
    struct tmem_client *c = client_by_id(t, domid, false, &d);

    memset(out, 0, sizeof(*out));
    out->version = TMEM_SPEC_VERSION;
    out->maxpools = TMEM_MAX_POOLS;
    if (c) {
        lock_acquire(&c->lock);
        for (unsigned i = 0; i < TMEM_MAX_POOLS; i++)
            out->nr_pools += c->pools[i] != NULL;
        lock_release(&c->lock);
        out->flags = (atomic_load(&c->frozen) ? TMEM_INFO_FROZEN : 0) |
                     (atomic_load(&c->codec) != TMEM_CODEC_RAW ? TMEM_INFO_COMPRESS : 0) |
                     (atomic_load(&c->migrating) ? TMEM_INFO_MIGRATING : 0);
        out->weight = atomic_load(&c->weight);
    }
    put_domain(d);
}

int tmem_set_client_info(struct tmem *t, domid_t domid, const struct tmem_client_info *in)
{
    int rc;

    if (in->version != TMEM_SPEC_VERSION)
        return -EOPNOTSUPP;
    if (in->maxpools > TMEM_MAX_POOLS)
        return -ERANGE;
    rc = tmem_set_weight(t, domid, in->weight);
    if (rc == 0)
        rc = tmem_set_compress(t, domid, in->flags & TMEM_INFO_COMPRESS ? TMEM_CODEC_LZ4
                                                                       : TMEM_CODEC_RAW);
    return rc;
}

static uint32_t pool_info_flags(const struct tmem_pool *p)
{
    return (p->flags & (TMEM_POOL_PERSIST | TMEM_POOL_SHARED)) |
           (TMEM_SPEC_VERSION << TMEM_POOL_VERSION_SHIFT);
}

int tmem_get_pools(struct tmem *t, domid_t domid, struct tmem_pool_info *out, unsigned max)
{
    struct domain *d;
    struct tmem_client *c = client_by_id(t, domid, false, &d);
    int n = 0;

    if (c) {
        lock_acquire(&c->lock);
        for (unsigned i = 0; i < TMEM_MAX_POOLS && (unsigned)n < max; i++) {
            struct tmem_pool *p = c->pools[i];

            if (!p)
                continue;
            out[n++] = (struct tmem_pool_info){
                pool_info_flags(p), i,
                p->persistent ? atomic_load(&p->pages) : 0, /* the stream's count */
                { p->uuid[0], p->uuid[1] } };
        }
        lock_release(&c->lock);
    }
    put_domain(d);
    return n;
}

int tmem_set_pools(struct tmem *t, domid_t domid, const struct tmem_pool_info *in, unsigned n)
{
    struct domain *d;
    struct tmem_client *c = client_by_id(t, domid, true, &d);
    int done = 0, rc = 0;

    if (!d)
        return -ESRCH;
    if (!c) {
        domain_put(d);
        return -ENOMEM;
    }
    lock_acquire(&t->lock);
    lock_acquire(&c->lock);
    for (unsigned i = 0; i < n && rc == 0; i++) {
        uint32_t flags = (in[i].flags & (TMEM_POOL_PERSIST | TMEM_POOL_SHARED)) |
                         (TMEM_SPEC_VERSION << TMEM_POOL_VERSION_SHIFT);

        if (in[i].n_pages != 0 || in[i].id >= TMEM_MAX_POOLS || c->pools[in[i].id] ||
            (flags & TMEM_POOL_SHARED && flags & TMEM_POOL_PERSIST))
            rc = -EINVAL;
        else if (c->dead)
            rc = -ENODEV;
        else if ((rc = tmem_pool_create_at(t, c, (int)in[i].id, flags, in[i].uuid[0],
                                           in[i].uuid[1])) >= 0)
            rc = 0, done++;
    }
    lock_release(&c->lock);
    lock_release(&t->lock);
    domain_put(d);
    return done ? done : rc;
}

/*
 * Saving and restoring.
 */
int tmem_save_begin(struct tmem *t, domid_t domid, bool live)
{
    struct domain *d;
    struct tmem_client *c = client_by_id(t, domid, false, &d);
    struct tmem_pool *pools[TMEM_MAX_POOLS] = { NULL };
    int rc = 0, nr = 0;

    if (!c) {
        put_domain(d);
        return -ENOENT;
    }
    lock_acquire(&c->lock);
    for (unsigned i = 0; i < TMEM_MAX_POOLS; i++)
        if ((pools[i] = c->pools[i]) != NULL) {
            atomic_fetch_add(&pools[i]->refs, 1);
            nr++;
        }
    if (nr == 0 || c->saving)
        rc = nr == 0 ? -ENOENT : -EBUSY;
    if (rc == 0) {
        c->saving = true;
        c->was_frozen = atomic_exchange(&c->frozen, true);
        lock_acquire(&c->log_lock);
        c->nr_inv = c->next_inv = 0;
        c->inv_lost = false;
        lock_release(&c->log_lock);
        /* From here, flushed persistent pages are logged: the snapshot
         * below may include them, and the stream sends both. */
        atomic_store(&c->migrating, live);
    }
    lock_release(&c->lock);
    /* The snapshots, with no client lock held (they take bucket locks). */
    for (unsigned i = 0; i < TMEM_MAX_POOLS && rc == 0; i++) {
        struct tmem_save sv = { NULL, 0, 0 };

        if (pools[i] && pools[i]->persistent)
            rc = tmem_pool_handles(pools[i], (int32_t)i, &sv.h, &sv.n);
        lock_acquire(&c->lock);
        free(c->save[i].h);
        c->save[i] = sv;
        lock_release(&c->lock);
    }
    for (unsigned i = 0; i < TMEM_MAX_POOLS; i++)
        if (pools[i])
            tmem_pool_put(pools[i]);
    if (rc && rc != -ENOENT && rc != -EBUSY)
        (void)tmem_save_end(t, domid);
    put_domain(d);
    return rc;
}

int tmem_save_next_page(struct tmem *t, domid_t domid, int32_t pool_id, struct tmem_handle *h,
                        void *page)
{
    struct domain *d;
    struct tmem_client *c = client_by_id(t, domid, false, &d);
    struct tmem_pool *p = NULL;
    int rc = -ENOENT;

    if (!c || pool_id < 0 || pool_id >= TMEM_MAX_POOLS) {
        put_domain(d);
        return c ? -EINVAL : -ENOENT;
    }
    for (;;) {
        struct tmem_handle next;

        lock_acquire(&c->lock);
        if (!c->saving) {
            rc = -ENOENT;
        } else if (!(p = c->pools[pool_id]) || !p->persistent) {
            rc = -EINVAL;
        } else if (c->save[pool_id].next == c->save[pool_id].n) {
            rc = 0;
        } else {
            next = c->save[pool_id].h[c->save[pool_id].next++];
            atomic_fetch_add(&p->refs, 1);
            rc = 1;
        }
        lock_release(&c->lock);
        if (rc != 1)
            break;
        /* Flushed since the snapshot: the log has it; go on. */
        rc = tmem_pool_read(p, &next.oid, next.index, page);
        tmem_pool_put(p);
        if (rc != 0) {
            *h = next;
            break;
        }
    }
    put_domain(d);
    return rc;
}

int tmem_save_next_inv(struct tmem *t, domid_t domid, struct tmem_handle *h)
{
    struct domain *d;
    struct tmem_client *c = client_by_id(t, domid, false, &d);
    int rc = -ENOENT;

    if (c) {
        lock_acquire(&c->log_lock);
        if (c->inv_lost)
            rc = -ENOMEM;
        else if (c->next_inv == c->nr_inv)
            rc = 0;
        else
            *h = c->inv[c->next_inv++], rc = 1;
        lock_release(&c->log_lock);
    }
    put_domain(d);
    return rc;
}

int tmem_save_end(struct tmem *t, domid_t domid)
{
    struct domain *d;
    struct tmem_client *c = client_by_id(t, domid, false, &d);

    if (!c) {
        put_domain(d);
        return -ENOENT;
    }
    lock_acquire(&c->lock);
    atomic_store(&c->migrating, false);
    if (c->saving)
        atomic_store(&c->frozen, c->was_frozen);
    c->saving = false;
    for (unsigned i = 0; i < TMEM_MAX_POOLS; i++) {
        free(c->save[i].h);
        c->save[i] = (struct tmem_save){ NULL, 0, 0 };
    }
    lock_acquire(&c->log_lock);
    free(c->inv);
    c->inv = NULL;
    c->nr_inv = c->cap_inv = c->next_inv = 0;
    lock_release(&c->log_lock);
    lock_release(&c->lock);
    put_domain(d);
    return 0;
}

int tmem_restore_begin(struct tmem *t, domid_t domid)
{
    struct domain *d = domid < DOMID_FIRST_RESERVED ? domain_lookup(t->domains, domid) : NULL;
    int rc;

    if (!d)
        return -ESRCH;
    rc = tmem_client_of(d) ? -EEXIST : tmem_client_get(t, d, true) ? 0 : -ENOMEM;
    domain_put(d);
    return rc;
}

/*
 * LIST: one line per record, two-letter keys (spec §5).
 */
struct text {
    char *buf;
    size_t len, used;
};

static void emit(struct text *x, const char *fmt, ...) MV_PRINTF(2, 3);
static void emit(struct text *x, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (x->used >= x->len)
        return;
    va_start(ap, fmt);
    n = vsnprintf(x->buf + x->used, x->len - x->used, fmt, ap);
    va_end(ap);
    if (n > 0)
        x->used = min_u64(x->used + (size_t)n, x->len - 1);
}

static void list_pool(struct text *x, domid_t domid, unsigned id, struct tmem_pool *p, bool lng)
{
    struct zpool_stats z;

    zpool_get_stats(p->zp, &z);
    emit(x, "P=CI:%u,PI:%u,PT:%c%c,U0:%llx,U1:%llx,Pc:%llu,Fc:%llu,Gz:%llu", domid, id,
         p->persistent ? 'P' : 'E', p->shared ? 'S' : 'P', (unsigned long long)p->uuid[0],
         (unsigned long long)p->uuid[1], (unsigned long long)atomic_load(&p->pages),
         (unsigned long long)z.frames, (unsigned long long)z.stored_bytes);
    if (lng)
        emit(x, ",ps:%llu,pt:%llu,pd:%llu,pr:%llu,px:%llu,gs:%llu,gt:%llu,ft:%llu,ot:%llu,"
             "Ev:%llu",
             (unsigned long long)atomic_load(&p->n.good_puts),
             (unsigned long long)atomic_load(&p->n.puts),
             (unsigned long long)atomic_load(&p->n.dup_flushed),
             (unsigned long long)atomic_load(&p->n.dup_replaced),
             (unsigned long long)atomic_load(&p->n.no_mem_puts),
             (unsigned long long)atomic_load(&p->n.found_gets),
             (unsigned long long)atomic_load(&p->n.gets),
             (unsigned long long)atomic_load(&p->n.flushes),
             (unsigned long long)atomic_load(&p->n.flush_objs),
             (unsigned long long)atomic_load(&p->n.evicted_pages));
    emit(x, "\n");
}

size_t tmem_list(struct tmem *t, domid_t domid, bool long_format, char *buf, size_t len)
{
    struct text x = { buf, len, 0 };
    struct tmem_stats all;

    if (len == 0)
        return 0;
    buf[0] = 0;
    tmem_get_stats(t, DOMID_INVALID, &all);
    if (domid == TMEM_ALL_CLIENTS)
        emit(&x, "G=Ec:%llu,Pc:%llu,Fe:%llu,Fp:%llu,Gz:%llu,Et:%llu,Ta:%llu\n",
             (unsigned long long)all.eph_pages, (unsigned long long)all.pers_pages,
             (unsigned long long)all.eph_frames, (unsigned long long)all.pers_frames,
             (unsigned long long)all.stored_bytes, (unsigned long long)all.evicted_frames,
             (unsigned long long)heap_freeable(t->heap));
    lock_acquire(&t->lock);
    for (struct tmem_client *c = t->clients; c; c = c->next) {
        domid_t id = c->d->domid;

        if (domid != TMEM_ALL_CLIENTS && id != domid)
            continue;
        emit(&x, "C=CI:%u,ww:%u,co:%u,fr:%d\n", id, atomic_load(&c->weight),
             atomic_load(&c->codec), atomic_load(&c->frozen));
        lock_acquire(&c->lock);
        for (unsigned i = 0; i < TMEM_MAX_POOLS; i++)
            if (c->pools[i])
                list_pool(&x, id, i, c->pools[i], long_format);
        lock_release(&c->lock);
    }
    lock_release(&t->lock);
    return x.used;
}
