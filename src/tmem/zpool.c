/*
 * zpool: size classes of zspages (see zpool.h).
 *
 * A class's zspages are on one list, oldest first, in a CLOCK: a hit
 * (zpool_touch) sets `referenced`, and eviction gives a referenced zspage
 * a second chance, clearing it and moving it to the tail.  Those with a
 * free slot are also on the class's partial list, where stores look
 * first.  The bytes of an object are copied with no lock held: its slot is
 * reserved, so nothing else writes it or frees its zspage meanwhile.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "memvisor/check.h"
#include "zpool.h"

#define SLOT_WORDS (ZPOOL_MAX_FRAMES * PAGE_SIZE / ZPOOL_CLASS_STEP / 64)
/* Zspages a class's eviction looks at before it takes the oldest anyway. */
#define EVICT_SCAN 8
/* Classes one zpool_evict call tries. */
#define EVICT_CLASSES 8
#define NO_SEQ UINT64_MAX

struct zspage {
    struct zspage *prev, *next;   /* the class's list, oldest first */
    struct zspage *pprev, *pnext; /* the class's partial list */
    uint16_t cls;
    uint16_t nr_frames;
    uint16_t nr_slots;
    uint16_t inuse;
    bool on_partial;
    _Atomic bool referenced;
    uint64_t seq;                 /* when it joined the list's tail */
    uint32_t mfn[ZPOOL_MAX_FRAMES];
    uint64_t used[SLOT_WORDS];
    void *owner[];                /* nr_slots */
};

struct zclass {
    struct mv_lock lock;
    unsigned size, frames, slots;
    struct zspage *head, *tail;
    struct zspage *partial;
    uint64_t objects;
    _Atomic uint64_t zspages;     /* read without the lock by eviction */
    _Atomic uint64_t head_seq;    /* the oldest zspage's seq, or NO_SEQ */
};

struct zpool {
    struct machine *m;
    struct zpool_frame_source src;
    struct fault_injector *fault;
    _Atomic uint64_t frames, stored_bytes, objects, evicted;
    _Atomic uint64_t clock;
    struct zclass cls[ZPOOL_NR_CLASSES];
};

unsigned zpool_class_of(size_t len)
{
    assert(len > 0 && len <= PAGE_SIZE);
    return (unsigned)((len + ZPOOL_CLASS_STEP - 1) / ZPOOL_CLASS_STEP - 1);
}

/* The frame count (1 .. 4) that wastes least of a zspage, the fewest on a
 * tie: 1360-byte slots take 1 frame (3 slots, 4080 bytes used), 1392-byte
 * ones 3 (8 slots, 11136 of 12288). */
void zpool_class_shape(unsigned cls, unsigned *frames, unsigned *slots)
{
    size_t size = (size_t)(cls + 1) * ZPOOL_CLASS_STEP;
    unsigned best = 1;
    uint64_t best_used = 0;

    for (unsigned k = 1; k <= ZPOOL_MAX_FRAMES; k++) {
        uint64_t bytes = (uint64_t)k * PAGE_SIZE, used = bytes / size * size;

        /* used/bytes > best_used/(best*PAGE_SIZE), without division */
        if (used * best > best_used * k) {
            best = k;
            best_used = used;
        }
    }
    *frames = best;
    *slots = (unsigned)((uint64_t)best * PAGE_SIZE / size);
}

int zpool_create(struct machine *m, const struct zpool_frame_source *src,
                 struct fault_injector *fault, struct zpool **out)
{
    struct zpool *zp = fault_calloc(fault, 1, sizeof(*zp));

    if (!zp)
        return -ENOMEM;
    zp->m = m;
    zp->src = *src;
    zp->fault = fault;
    for (unsigned i = 0; i < ZPOOL_NR_CLASSES; i++) {
        struct zclass *c = &zp->cls[i];

        lock_init(&c->lock, LOCK_RANK_TMEM_CLASS, "tmem class");
        c->size = (i + 1) * ZPOOL_CLASS_STEP;
        atomic_init(&c->head_seq, NO_SEQ);
        zpool_class_shape(i, &c->frames, &c->slots);
    }
    *out = zp;
    return 0;
}

static void free_zspage_frames(struct zpool *zp, struct zspage *zs)
{
    for (unsigned i = 0; i < zs->nr_frames; i++)
        zp->src.put(zp->src.arg, _mfn(zs->mfn[i]));
    atomic_fetch_sub(&zp->frames, zs->nr_frames);
}

void zpool_destroy(struct zpool *zp)
{
    if (!zp)
        return;
    for (unsigned i = 0; i < ZPOOL_NR_CLASSES; i++) {
        struct zclass *c = &zp->cls[i];

        for (struct zspage *zs = c->head, *next; zs; zs = next) {
            next = zs->next;
            free_zspage_frames(zp, zs);
            free(zs);
        }
        lock_fini(&c->lock);
    }
    free(zp);
}

/* Lists, class lock held.  Eviction compares the classes' oldest. */
static void update_head_seq(struct zclass *c)
{
    atomic_store_explicit(&c->head_seq, c->head ? c->head->seq : NO_SEQ, memory_order_relaxed);
}

static void list_append(struct zpool *zp, struct zclass *c, struct zspage *zs)
{
    zs->seq = atomic_fetch_add_explicit(&zp->clock, 1, memory_order_relaxed);
    zs->next = NULL;
    zs->prev = c->tail;
    if (c->tail)
        c->tail->next = zs;
    else
        c->head = zs;
    c->tail = zs;
    update_head_seq(c);
}

static void list_unlink(struct zclass *c, struct zspage *zs)
{
    if (zs->prev)
        zs->prev->next = zs->next;
    else
        c->head = zs->next;
    if (zs->next)
        zs->next->prev = zs->prev;
    else
        c->tail = zs->prev;
    zs->prev = zs->next = NULL;
    update_head_seq(c);
}

static void partial_add(struct zclass *c, struct zspage *zs)
{
    zs->pprev = NULL;
    zs->pnext = c->partial;
    if (c->partial)
        c->partial->pprev = zs;
    c->partial = zs;
    zs->on_partial = true;
}

static void partial_remove(struct zclass *c, struct zspage *zs)
{
    if (zs->pprev)
        zs->pprev->pnext = zs->pnext;
    else
        c->partial = zs->pnext;
    if (zs->pnext)
        zs->pnext->pprev = zs->pprev;
    zs->pprev = zs->pnext = NULL;
    zs->on_partial = false;
}

/* A new zspage for class c, with no lock held; *rc says why not. */
static struct zspage *zspage_new(struct zpool *zp, unsigned cls, int *rc)
{
    struct zclass *c = &zp->cls[cls];
    struct zspage *zs = fault_calloc(zp->fault, 1, sizeof(*zs) + c->slots * sizeof(void *));
    unsigned got = 0;

    *rc = -ENOBUFS;
    if (!zs)
        return NULL;
    zs->cls = (uint16_t)cls;
    zs->nr_frames = (uint16_t)c->frames;
    zs->nr_slots = (uint16_t)c->slots;
    for (; got < c->frames; got++) {
        mfn_t mfn;

        if ((*rc = zp->src.get(zp->src.arg, &mfn)) != 0)
            break;
        zs->mfn[got] = (uint32_t)mfn_x(mfn);
    }
    if (got < c->frames) {
        while (got-- > 0)
            zp->src.put(zp->src.arg, _mfn(zs->mfn[got]));
        free(zs);
        return NULL;
    }
    atomic_fetch_add(&zp->frames, c->frames);
    *rc = 0;
    return zs;
}

/* Class lock held: the zspage's last object went; so does it. */
static void zspage_release(struct zpool *zp, struct zclass *c, struct zspage *zs)
{
    list_unlink(c, zs);
    if (zs->on_partial)
        partial_remove(c, zs);
    atomic_fetch_sub(&c->zspages, 1);
    free_zspage_frames(zp, zs);
    free(zs);
}

/* Copies between an object and a buffer, frame by frame. */
static void copy_object(struct zpool *zp, struct zhandle h, void *buf, size_t len, bool to_object)
{
    struct zspage *zs = h.zs;
    size_t off = (size_t)h.slot * zp->cls[zs->cls].size, done = 0;

    while (done < len) {
        size_t in = (off + done) & (PAGE_SIZE - 1), n = min_u64(len - done, PAGE_SIZE - in);
        uint8_t *frame = machine_frame_bytes(zp->m, _mfn(zs->mfn[(off + done) >> PAGE_SHIFT]));

        if (to_object)
            memcpy(frame + in, (uint8_t *)buf + done, n);
        else
            memcpy((uint8_t *)buf + done, frame + in, n);
        done += n;
    }
}

static unsigned first_free_slot(const struct zspage *zs)
{
    for (unsigned w = 0; w < SLOT_WORDS; w++)
        if (~zs->used[w]) {
            unsigned slot = w * 64 + (unsigned)__builtin_ctzll(~zs->used[w]);

            if (slot < zs->nr_slots)
                return slot;
            break;
        }
    assert(!"a partial zspage with no free slot");
    return 0;
}

int zpool_store(struct zpool *zp, const void *bytes, size_t len, void *owner, struct zhandle *out)
{
    struct zclass *c;
    struct zspage *zs, *fresh = NULL;
    unsigned slot;
    int rc;

    if (len == 0 || len > PAGE_SIZE)
        return -EINVAL;
    c = &zp->cls[zpool_class_of(len)];
    lock_acquire(&c->lock);
    while (!c->partial) {
        /* A new zspage, made with the lock dropped; another store may
         * have made one meanwhile, in which case ours joins the list. */
        if (fresh) {
            list_append(zp, c, fresh);
            partial_add(c, fresh);
            atomic_fetch_add(&c->zspages, 1);
            fresh = NULL;
            break;
        }
        lock_release(&c->lock);
        fresh = zspage_new(zp, zpool_class_of(len), &rc);
        if (!fresh)
            return rc;
        lock_acquire(&c->lock);
    }
    zs = c->partial;
    slot = first_free_slot(zs);
    zs->used[slot / 64] |= UINT64_C(1) << (slot % 64);
    zs->owner[slot] = owner;
    if (++zs->inuse == zs->nr_slots)
        partial_remove(c, zs);
    c->objects++;
    if (fresh) {
        /* Not needed after all: its frames go back. */
        free_zspage_frames(zp, fresh);
        free(fresh);
    }
    lock_release(&c->lock);

    out->zs = zs;
    out->slot = slot;
    copy_object(zp, *out, (void *)bytes, len, true);
    atomic_fetch_add(&zp->stored_bytes, len);
    atomic_fetch_add(&zp->objects, 1);
    return 0;
}

void zpool_load(struct zpool *zp, struct zhandle h, void *dst, size_t len)
{
    copy_object(zp, h, dst, len, false);
}

const void *zpool_map(struct zpool *zp, struct zhandle h, size_t len, void *scratch)
{
    size_t off = (size_t)h.slot * zp->cls[h.zs->cls].size, in = off & (PAGE_SIZE - 1);

    if (in + len <= PAGE_SIZE)
        return (uint8_t *)machine_frame_bytes(zp->m, _mfn(h.zs->mfn[off >> PAGE_SHIFT])) + in;
    copy_object(zp, h, scratch, len, false);
    return scratch;
}

void zpool_touch(struct zpool *zp, struct zhandle h)
{
    (void)zp;
    atomic_store_explicit(&h.zs->referenced, true, memory_order_relaxed);
}

/* Class lock held. */
static void free_slot_locked(struct zpool *zp, struct zclass *c, struct zhandle h, size_t len)
{
    struct zspage *zs = h.zs;

    assert(zs->used[h.slot / 64] & (UINT64_C(1) << (h.slot % 64)));
    zs->used[h.slot / 64] &= ~(UINT64_C(1) << (h.slot % 64));
    zs->owner[h.slot] = NULL;
    c->objects--;
    atomic_fetch_sub(&zp->stored_bytes, len);
    atomic_fetch_sub(&zp->objects, 1);
    if (--zs->inuse == 0)
        zspage_release(zp, c, zs);
    else if (!zs->on_partial)
        partial_add(c, zs);
}

void zpool_free(struct zpool *zp, struct zhandle h, size_t len)
{
    struct zclass *c = &zp->cls[h.zs->cls];

    lock_acquire(&c->lock);
    free_slot_locked(zp, c, h, len);
    lock_release(&c->lock);
}

/* Class lock held: the zspage to empty, second chance for those used
 * since the last look. */
static struct zspage *pick_victim(struct zpool *zp, struct zclass *c)
{
    for (unsigned i = 0; i < EVICT_SCAN && c->head; i++) {
        struct zspage *zs = c->head;

        if (!atomic_exchange_explicit(&zs->referenced, false, memory_order_relaxed))
            return zs;
        list_unlink(c, zs);
        list_append(zp, c, zs);
    }
    return c->head;
}

/* Class lock held: evicts what it can of zs; the frames given back. */
static unsigned empty_zspage(struct zpool *zp, struct zclass *c, struct zspage *zs,
                             zpool_evict_fn evict, void *arg)
{
    unsigned frames = zs->nr_frames;

    for (unsigned slot = 0; slot < zs->nr_slots; slot++) {
        struct zhandle h = { zs, slot };
        size_t len;

        if (!(zs->used[slot / 64] & (UINT64_C(1) << (slot % 64))))
            continue;
        len = evict(arg, zs->owner[slot], h);
        if (len == 0)
            continue;
        if (zs->inuse == 1) {
            free_slot_locked(zp, c, h, len);
            atomic_fetch_add(&zp->evicted, 1);
            return frames;
        }
        free_slot_locked(zp, c, h, len);
    }
    /* Something it holds is busy: look at it again last. */
    list_unlink(c, zs);
    list_append(zp, c, zs);
    return 0;
}

/* Empties the oldest zspage of all classes (by the time each joined its
 * list's tail), trying the next oldest class when one cannot be emptied. */
unsigned zpool_evict(struct zpool *zp, zpool_evict_fn evict, void *arg)
{
    bool tried[ZPOOL_NR_CLASSES] = { false };

    for (unsigned attempt = 0; attempt < EVICT_CLASSES; attempt++) {
        uint64_t oldest = NO_SEQ;
        unsigned best = 0, frames = 0;
        struct zclass *c;
        struct zspage *zs;

        for (unsigned i = 0; i < ZPOOL_NR_CLASSES; i++) {
            uint64_t seq = atomic_load_explicit(&zp->cls[i].head_seq, memory_order_relaxed);

            if (!tried[i] && seq < oldest) {
                oldest = seq;
                best = i;
            }
        }
        if (oldest == NO_SEQ)
            return 0;
        tried[best] = true;
        c = &zp->cls[best];
        lock_acquire(&c->lock);
        zs = pick_victim(zp, c);
        if (zs)
            frames = empty_zspage(zp, c, zs, evict, arg);
        lock_release(&c->lock);
        if (frames)
            return frames;
    }
    return 0;
}

static bool zspage_in_range(const struct zspage *zs, uint64_t mfn, uint64_t n)
{
    for (unsigned i = 0; i < zs->nr_frames; i++)
        if (zs->mfn[i] >= mfn && zs->mfn[i] - mfn < n)
            return true;
    return false;
}

int zpool_evict_range(struct zpool *zp, uint64_t mfn, uint64_t n, zpool_evict_fn evict, void *arg)
{
    int rc = 0;

    for (unsigned i = 0; i < ZPOOL_NR_CLASSES; i++) {
        struct zclass *c = &zp->cls[i];
        struct zspage *zs, *next;
        uint64_t left;

        if (atomic_load_explicit(&c->zspages, memory_order_relaxed) == 0)
            continue;
        lock_acquire(&c->lock);
        /* empty_zspage moves a zspage it cannot empty to the tail: visit
         * each one once. */
        left = atomic_load_explicit(&c->zspages, memory_order_relaxed);
        for (zs = c->head; zs && left; zs = next, left--) {
            next = zs->next;
            if (zspage_in_range(zs, mfn, n) && !empty_zspage(zp, c, zs, evict, arg))
                rc = -EBUSY;
        }
        lock_release(&c->lock);
    }
    return rc;
}

void zpool_for_each_frame(struct zpool *zp, void (*fn)(void *arg, uint64_t mfn), void *arg)
{
    for (unsigned i = 0; i < ZPOOL_NR_CLASSES; i++) {
        struct zclass *c = &zp->cls[i];

        if (atomic_load_explicit(&c->zspages, memory_order_relaxed) == 0)
            continue;
        lock_acquire(&c->lock);
        for (struct zspage *zs = c->head; zs; zs = zs->next)
            for (unsigned f = 0; f < zs->nr_frames; f++)
                fn(arg, zs->mfn[f]);
        lock_release(&c->lock);
    }
}

void zpool_get_stats(struct zpool *zp, struct zpool_stats *out)
{
    out->frames = atomic_load(&zp->frames);
    out->objects = atomic_load(&zp->objects);
    out->stored_bytes = atomic_load(&zp->stored_bytes);
    out->evicted_zspages = atomic_load(&zp->evicted);
    out->zspages = 0;
    for (unsigned i = 0; i < ZPOOL_NR_CLASSES; i++)
        out->zspages += atomic_load_explicit(&zp->cls[i].zspages, memory_order_relaxed);
}

unsigned zpool_check(struct zpool *zp, struct mv_checker *c)
{
    unsigned before = c->violations;
    uint64_t frames = 0, objects = 0;

    for (unsigned i = 0; i < ZPOOL_NR_CLASSES; i++) {
        struct zclass *cl = &zp->cls[i];
        uint64_t in_class = 0, zspages = 0, partial = 0;

        lock_acquire(&cl->lock);
        if (atomic_load(&cl->head_seq) != (cl->head ? cl->head->seq : NO_SEQ))
            mv_check_fail(c, "class %u: the oldest zspage's seq is stale", i);
        for (struct zspage *zs = cl->head; zs; zs = zs->next) {
            unsigned bits = 0;

            if (zs->next && zs->next->seq <= zs->seq)
                mv_check_fail(c, "class %u: zspages out of age order", i);

            for (unsigned w = 0; w < SLOT_WORDS; w++)
                bits += (unsigned)__builtin_popcountll(zs->used[w]);
            if (zs->cls != i || zs->nr_frames != cl->frames || zs->nr_slots != cl->slots)
                mv_check_fail(c, "zspage of class %u has the shape of another", i);
            if (bits != zs->inuse || zs->inuse == 0 || zs->inuse > zs->nr_slots)
                mv_check_fail(c, "zspage of class %u: inuse %u, %u slots set", i, zs->inuse,
                              bits);
            if (zs->on_partial != (zs->inuse < zs->nr_slots))
                mv_check_fail(c, "zspage of class %u: partial %d with %u/%u in use", i,
                              zs->on_partial, zs->inuse, zs->nr_slots);
            for (unsigned s = 0; s < zs->nr_slots; s++)
                if (!(zs->used[s / 64] & (UINT64_C(1) << (s % 64))) != !zs->owner[s])
                    mv_check_fail(c, "zspage of class %u: slot %u owner and bit disagree",
                                  i, s);
            in_class += zs->inuse;
            frames += zs->nr_frames;
            zspages++;
        }
        for (struct zspage *zs = cl->partial; zs; zs = zs->pnext)
            partial++;
        for (struct zspage *zs = cl->head; zs; zs = zs->next)
            partial -= zs->on_partial;
        if (partial != 0)
            mv_check_fail(c, "class %u: the partial list and the flags disagree", i);
        if (in_class != cl->objects)
            mv_check_fail(c, "class %u: %llu objects counted, %llu in zspages", i,
                          (unsigned long long)cl->objects, (unsigned long long)in_class);
        if (zspages != atomic_load(&cl->zspages))
            mv_check_fail(c, "class %u: zspage count", i);
        objects += in_class;
        lock_release(&cl->lock);
    }
    if (frames != atomic_load(&zp->frames))
        mv_check_fail(c, "zpool: %llu frames counted, %llu in zspages",
                      (unsigned long long)atomic_load(&zp->frames), (unsigned long long)frames);
    if (objects != atomic_load(&zp->objects))
        mv_check_fail(c, "zpool: object count");
    return c->violations - before;
}
