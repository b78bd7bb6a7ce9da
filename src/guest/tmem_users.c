/*
 * tmem's users in a guest: a page cache over an ephemeral pool and a swap
 * device over a persistent one, both through the guest's own tmem_op
 * hypercalls (as Linux's drivers/xen/tmem.c made them).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/xen.h>
#include <xen/tmem.h>

#include "memvisor/guest.h"
#include "memvisor/hypercall.h"
#include "memvisor/p2m.h"

#define POOL_FLAGS(extra) ((TMEM_SPEC_VERSION << TMEM_POOL_VERSION_SHIFT) | (extra))

/* A guest's hypercall session with a struct tmem_op in its buffers. */
struct tmem_caller {
    struct hc_session *s;
    struct tmem_op *op;
};

static int caller_open(struct hv *hv, struct domain *d, struct tmem_caller *c)
{
    int rc = hc_session_create(hv, d->domid, false, &c->s);

    if (rc)
        return rc;
    c->op = hc_buffer_alloc(c->s, sizeof(*c->op));
    if (!c->op) {
        hc_session_destroy(c->s);
        return -ENOMEM;
    }
    return 0;
}

static long call(struct tmem_caller *c, uint32_t cmd, int32_t pool, uint64_t oid0,
                 uint32_t index, uint64_t gfn)
{
    memset(c->op, 0, sizeof(*c->op));
    c->op->cmd = cmd;
    c->op->pool_id = pool;
    c->op->u.gen.oid.oid[0] = oid0;
    c->op->u.gen.index = index;
    c->op->u.gen.cmfn = gfn;
    return hc_call(c->s, HC_TMEM_OP, (uint64_t)(uintptr_t)c->op, 0, 0, 0, 0);
}

static long new_pool(struct tmem_caller *c, uint32_t flags)
{
    memset(c->op, 0, sizeof(*c->op));
    c->op->cmd = TMEM_NEW_POOL;
    c->op->u.creat.flags = flags;
    return hc_call(c->s, HC_TMEM_OP, (uint64_t)(uintptr_t)c->op, 0, 0, 0, 0);
}

void guest_disk_page(uint64_t file, uint32_t index, void *page)
{
    static const struct { uint8_t len; char text[7]; } words[] = {
        { 4, "the " }, { 6, "guest " }, { 6, "reads " }, { 2, "a " }, { 5, "file " },
        { 5, "page " }, { 5, "from " }, { 4, "its " }, { 5, "disk " }, { 1, "\n" },
    };
    uint64_t x = (file * UINT64_C(0x9E3779B97F4A7C15)) ^ ((uint64_t)index << 17) ^ 0x5bd1e995;
    uint8_t *p = page;
    size_t i = 0;

    /* A header that names the page, then words: text, as compressible as
     * a real file's.  Each word is copied whole (the next overwrites what
     * lies past its length) while that fits, the tail byte by byte. */
    i += (size_t)snprintf((char *)p, PAGE_SIZE, "file %llu page %u\n",
                          (unsigned long long)file, index);
    while (i < PAGE_SIZE) {
        unsigned w;

        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        w = (unsigned)((x >> 40) % 10);
        if (i + sizeof(words[w].text) <= PAGE_SIZE) {
            memcpy(p + i, words[w].text, sizeof(words[w].text));
            i += words[w].len;
        } else {
            for (unsigned k = 0; k < words[w].len && i < PAGE_SIZE; k++)
                p[i++] = (uint8_t)words[w].text[k];
        }
    }
}

/*
 * The page cache.
 */
struct cache_slot {
    uint64_t file;
    uint32_t index;
    bool used, referenced;
};

/* The cache's index, (file, index) -> slot: open addressing with linear
 * probing over a power of two of buckets, at least twice the slots; a
 * bucket holds slot + 1 (0: empty).  Every used slot below `frames` is in
 * it exactly once, and nothing else is. */
struct guest_pagecache {
    struct tmem_caller c;
    struct domain *d;
    int32_t pool;
    uint64_t gfn0, frames, capacity, hand;
    struct cache_slot *slot;
    uint32_t *bucket;
    uint64_t bucket_mask;
    struct guest_pagecache_stats st;
    uint8_t disk[PAGE_SIZE];
};

static uint64_t bucket_home(const struct guest_pagecache *pc, uint64_t file, uint32_t index)
{
    uint64_t h = (file * UINT64_C(0x9E3779B97F4A7C15)) ^ index;

    h ^= h >> 33;
    h *= UINT64_C(0xFF51AFD7ED558CCD);
    return (h ^ (h >> 33)) & pc->bucket_mask;
}

/* The bucket that holds (file, index), or the empty one where it would go. */
static uint64_t bucket_find(const struct guest_pagecache *pc, uint64_t file, uint32_t index)
{
    uint64_t b = bucket_home(pc, file, index);

    for (; pc->bucket[b]; b = (b + 1) & pc->bucket_mask) {
        const struct cache_slot *x = &pc->slot[pc->bucket[b] - 1];

        if (x->file == file && x->index == index)
            break;
    }
    return b;
}

static void index_add(struct guest_pagecache *pc, uint64_t s)
{
    pc->bucket[bucket_find(pc, pc->slot[s].file, pc->slot[s].index)] = (uint32_t)s + 1;
}

/* Takes slot s out, moving back the entries probed past it (no tombstones). */
static void index_remove(struct guest_pagecache *pc, uint64_t s)
{
    uint64_t hole = bucket_find(pc, pc->slot[s].file, pc->slot[s].index), b = hole;

    pc->bucket[hole] = 0;
    for (b = (b + 1) & pc->bucket_mask; pc->bucket[b]; b = (b + 1) & pc->bucket_mask) {
        const struct cache_slot *x = &pc->slot[pc->bucket[b] - 1];
        uint64_t home = bucket_home(pc, x->file, x->index);

        /* It may fill the hole unless its home lies in (hole, b]. */
        if (((b - home) & pc->bucket_mask) >= ((b - hole) & pc->bucket_mask)) {
            pc->bucket[hole] = pc->bucket[b];
            pc->bucket[b] = 0;
            hole = b;
        }
    }
}

int guest_pagecache_create(struct hv *hv, struct domain *d, uint64_t gfn0, uint64_t frames,
                           struct guest_pagecache **out)
{
    struct guest_pagecache *pc = calloc(1, sizeof(*pc));
    uint64_t buckets = 16;
    long pool;
    int rc;

    while (buckets < 2 * frames)
        buckets *= 2;
    if (!pc || frames == 0 || frames >= UINT32_MAX ||
        !(pc->slot = calloc(frames, sizeof(*pc->slot))) ||
        !(pc->bucket = calloc(buckets, sizeof(*pc->bucket)))) {
        if (pc)
            free(pc->slot);
        free(pc);
        return frames ? -ENOMEM : -EINVAL;
    }
    pc->bucket_mask = buckets - 1;
    rc = caller_open(hv, d, &pc->c);
    if (rc) {
        free(pc->bucket);
        free(pc->slot);
        free(pc);
        return rc;
    }
    /* Without a pool the cache still works, from the disk alone. */
    pool = new_pool(&pc->c, POOL_FLAGS(0));
    pc->pool = pool >= 0 ? (int32_t)pool : -1;
    pc->d = d;
    pc->gfn0 = gfn0;
    pc->frames = pc->capacity = frames;
    *out = pc;
    return 0;
}

void guest_pagecache_destroy(struct guest_pagecache *pc)
{
    if (!pc)
        return;
    hc_session_destroy(pc->c.s);
    free(pc->bucket);
    free(pc->slot);
    free(pc);
}

int guest_pagecache_read(struct guest_pagecache *pc, uint64_t file, uint32_t index, void *buf)
{
    uint64_t s, gfn;
    bool from_disk = false; /* pc->disk holds the page already */
    int rc;

    pc->st.reads++;
    if (pc->frames == 0) { /* all given up: straight from the disk */
        pc->st.disk_reads++;
        guest_disk_page(file, index, buf);
        return 0;
    }
    s = pc->bucket[bucket_find(pc, file, index)];
    if (s--) {
        pc->st.hits++;
        pc->slot[s].referenced = true;
    } else {
        /* A victim by the clock; a clean page it held goes to tmem. */
        for (;; pc->hand = (pc->hand + 1) % pc->frames) {
            struct cache_slot *v = &pc->slot[pc->hand];

            if (!v->used || !v->referenced)
                break;
            v->referenced = false;
        }
        s = pc->hand;
        pc->hand = (pc->hand + 1) % pc->frames;
        gfn = pc->gfn0 + s;
        if (pc->slot[s].used) {
            index_remove(pc, s);
            if (pc->pool >= 0 && call(&pc->c, TMEM_PUT_PAGE, pc->pool, pc->slot[s].file,
                                      pc->slot[s].index, gfn) == 1)
                pc->st.tmem_puts++;
        }
        pc->slot[s] = (struct cache_slot){ file, index, true, true };
        index_add(pc, s);
        if (pc->pool >= 0 && call(&pc->c, TMEM_GET_PAGE, pc->pool, file, index, gfn) == 1) {
            pc->st.tmem_hits++;
        } else {
            pc->st.disk_reads++;
            guest_disk_page(file, index, pc->disk);
            from_disk = true;
            rc = guest_write(pc->d, gfn << PAGE_SHIFT, pc->disk, PAGE_SIZE);
            if (rc) {
                index_remove(pc, s);
                pc->slot[s].used = false;
                return rc;
            }
        }
    }
    rc = guest_read(pc->d, (pc->gfn0 + s) << PAGE_SHIFT, buf, PAGE_SIZE);
    if (rc)
        return rc;
    if (!from_disk)
        guest_disk_page(file, index, pc->disk);
    return memcmp(buf, pc->disk, PAGE_SIZE) ? -EIO : 0;
}

uint64_t guest_pagecache_resize(struct guest_pagecache *pc, uint64_t frames)
{
    frames = min_u64(frames, pc->capacity);
    for (uint64_t s = frames; s < pc->frames; s++) {
        if (!pc->slot[s].used)
            continue;
        index_remove(pc, s);
        if (pc->pool >= 0 && call(&pc->c, TMEM_PUT_PAGE, pc->pool, pc->slot[s].file,
                                  pc->slot[s].index, pc->gfn0 + s) == 1)
            pc->st.tmem_puts++;
        pc->slot[s].used = false;
    }
    pc->frames = frames;
    if (pc->hand >= frames)
        pc->hand = 0;
    return frames;
}

void guest_pagecache_stats(const struct guest_pagecache *pc, struct guest_pagecache_stats *out)
{
    *out = pc->st;
}

/*
 * The swap device.
 */
struct guest_swap {
    struct tmem_caller c;
    struct domain *d;
    int32_t pool;
    /* The disk: slot -> page, for what tmem refused. */
    uint8_t **disk;
    uint32_t disk_slots;
    struct guest_swap_stats st;
};

int guest_swap_create(struct hv *hv, struct domain *d, struct guest_swap **out)
{
    struct guest_swap *sw = calloc(1, sizeof(*sw));
    long pool;
    int rc;

    if (!sw)
        return -ENOMEM;
    rc = caller_open(hv, d, &sw->c);
    if (rc) {
        free(sw);
        return rc;
    }
    pool = new_pool(&sw->c, POOL_FLAGS(TMEM_POOL_PERSIST));
    sw->pool = pool >= 0 ? (int32_t)pool : -1;
    sw->d = d;
    *out = sw;
    return 0;
}

void guest_swap_destroy(struct guest_swap *sw)
{
    if (!sw)
        return;
    hc_session_destroy(sw->c.s);
    for (uint32_t i = 0; i < sw->disk_slots; i++)
        free(sw->disk[i]);
    free(sw->disk);
    free(sw);
}

/* frontswap's swizzle: 16 objects per device, to spread the locks. */
static uint64_t swap_oid(uint32_t slot) { return slot & 0xF; }
static uint32_t swap_index(uint32_t slot) { return slot >> 4; }

static int disk_slot(struct guest_swap *sw, uint32_t slot, uint8_t **page)
{
    if (slot >= sw->disk_slots) {
        uint32_t n = slot + 1 > 2 * sw->disk_slots ? slot + 1 : 2 * sw->disk_slots;
        uint8_t **more = realloc(sw->disk, n * sizeof(*more));

        if (!more)
            return -ENOMEM;
        memset(more + sw->disk_slots, 0, (n - sw->disk_slots) * sizeof(*more));
        sw->disk = more;
        sw->disk_slots = n;
    }
    *page = sw->disk[slot];
    return 0;
}

int guest_swap_out(struct guest_swap *sw, gfn_t gfn, uint32_t slot)
{
    uint8_t *page;
    int rc;

    sw->st.outs++;
    if (sw->pool >= 0 &&
        call(&sw->c, TMEM_PUT_PAGE, sw->pool, swap_oid(slot), swap_index(slot), gfn_x(gfn)) == 1) {
        sw->st.tmem_stored++;
        if (slot < sw->disk_slots) {
            free(sw->disk[slot]); /* an older copy */
            sw->disk[slot] = NULL;
        }
        return 0;
    }
    rc = disk_slot(sw, slot, &page);
    if (rc)
        return rc;
    if (!page && !(page = sw->disk[slot] = malloc(PAGE_SIZE)))
        return -ENOMEM;
    sw->st.disk_stored++;
    return guest_read(sw->d, gfn_x(gfn) << PAGE_SHIFT, page, PAGE_SIZE);
}

int guest_swap_in(struct guest_swap *sw, uint32_t slot, gfn_t gfn)
{
    uint8_t *page = NULL;
    int rc;

    sw->st.ins++;
    if (sw->pool >= 0 &&
        call(&sw->c, TMEM_GET_PAGE, sw->pool, swap_oid(slot), swap_index(slot), gfn_x(gfn)) == 1) {
        /* A persistent get keeps the page: the freed slot flushes it. */
        (void)call(&sw->c, TMEM_FLUSH_PAGE, sw->pool, swap_oid(slot), swap_index(slot), 0);
        return 0;
    }
    if (slot < sw->disk_slots)
        page = sw->disk[slot];
    if (!page)
        return -ENOENT;
    rc = guest_write(sw->d, gfn_x(gfn) << PAGE_SHIFT, page, PAGE_SIZE);
    free(page);
    sw->disk[slot] = NULL;
    return rc;
}

void guest_swap_discard(struct guest_swap *sw, uint32_t slot)
{
    if (sw->pool >= 0)
        (void)call(&sw->c, TMEM_FLUSH_PAGE, sw->pool, swap_oid(slot), swap_index(slot), 0);
    if (slot < sw->disk_slots) {
        free(sw->disk[slot]);
        sw->disk[slot] = NULL;
    }
}

void guest_swap_stats(const struct guest_swap *sw, struct guest_swap_stats *out)
{
    *out = sw->st;
}
