/*
 * The guest's balloon driver: Linux's drivers/xen/xen-balloon.c and
 * balloon.c (specs B3), the per-vnode interface proposed in 2018 (B4),
 * Linux's selfballoon, and virtio-balloon's free page reporting and
 * deflate-on-OOM (B5), all through the guest's own xenstore connection and
 * its own XENMEM_{decrease_reservation,populate_physmap}.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/xen.h>
#include <xen/memory.h>

#include "guest_os_internal.h"

#define BALLOON_BATCH 512          /* a page of frame numbers, as Linux */
#define BALLOON_BATCHES_PER_STEP 16
#define MAX_SCHEDULE_DELAY_S 32
#define MAX_RETRY_COUNT 4
#define SELFBALLOON_INTERVAL_S 5
#define SELFBALLOON_DOWNHYSTERESIS 8
#define REPORT_INTERVAL_S 2
#define REPORT_KEEP_FREE 256       /* free pages never reported */
#define REPORT_MAX_PER_ROUND 4096
#define OOM_DEFLATE_PAGES 256      /* virtio-balloon's per OOM notification */

static int xs_read_u64(struct guest_os *g, const char *path, uint64_t *out)
{
    char buf[32], *end;
    size_t len;
    int rc = store_read(g->xs, 0, path, buf, sizeof(buf) - 1, &len);

    if (rc)
        return rc;
    buf[len] = '\0';
    *out = strtoull(buf, &end, 10);
    return end == buf || *end ? -EINVAL : 0;
}

static void xs_write_u64(struct guest_os *g, const char *path, uint64_t v)
{
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);

    /* A toolstack that did not give the guest the key: the guest goes on. */
    (void)!store_write(g->xs, 0, path, buf, (size_t)n);
}

static void restart(struct guest_os *g)
{
    g->bstate = BALLOON_DONE;
    g->retries = 0;
    g->delay_s = 1;
    g->next_try_s = 0;
}

static void set_target(struct guest_os *g, uint64_t pages)
{
    pages = min_u64(pages, g->nr_pages);
    if (pages != g->target_pages || !g->target_known)
        restart(g);
    g->target_pages = pages;
    g->target_known = true;
}

/* What the watch says: memory/target with the one-time correction, or the
 * per-vnode balloon sizes once the toolstack has switched to them. */
static void read_targets(struct guest_os *g)
{
    char path[64];
    uint64_t kib, static_max;

    if (g->vnode_offered) {
        bool any = false;

        for (unsigned v = 0; v < g->cfg.nr_vnodes; v++) {
            snprintf(path, sizeof(path), "memory/vnode%u/target-balloon-size", v);
            if (xs_read_u64(g, path, &kib) == 0) {
                uint64_t pages = min_u64(kib >> 2, g->vn[v].pages);

                if (pages != g->vnode_target[v] || !g->vnode_mode)
                    restart(g);
                g->vnode_target[v] = pages;
                any = true;
            }
        }
        g->vnode_mode = any;
        if (any)
            return;
    }
    if (g->cfg.selfballoon || xs_read_u64(g, "memory/target", &kib))
        return;
    if (!g->diff_known) {
        /* Linux's first-fire correction for HVM/PVH: static-max (or xend's
         * key) less the RAM it sees is firmware, video and holes. */
        g->diff_known = true;
        if (g->cfg.hvm && (xs_read_u64(g, "memory/static-max", &static_max) == 0 ||
                           xs_read_u64(g, "memory/memory_static_max", &static_max) == 0))
            g->target_diff = (int64_t)(static_max >> 2) - (int64_t)g->nr_pages;
    }
    int64_t pages = (int64_t)(kib >> 2) - g->target_diff;

    set_target(g, pages > 0 ? (uint64_t)pages : 0);
}

int balloon_init(struct guest_os *g)
{
    struct store_event_sink sink = guest_os_sink(g);
    int rc = hc_session_create(g->cfg.hv, g->cfg.domid, false, &g->hc);

    if (rc)
        return rc;
    g->resv = hc_buffer_alloc(g->hc, sizeof(*g->resv));
    g->extents = hc_buffer_alloc(g->hc, BALLOON_BATCH * sizeof(*g->extents));
    if (!g->resv || !g->extents)
        return -ENOMEM;
    rc = store_conn_open(g->cfg.store, g->cfg.domid, false, &sink, &g->xs);
    if (rc)
        return rc;
    g->target_pages = g->nr_pages; /* until the watch says otherwise: no credit */
    restart(g);
    /* What a guest agent says; the toolstack must have made the keys
     * writable (libxl does not: EACCES, which the guest shrugs off). */
    if (store_write(g->xs, 0, "control/feature-balloon", "1", 1))
        mv_log(&g->cfg.hv->log, MV_LOG_DEBUG, "d%u: control/feature-balloon not writable",
               g->cfg.domid);
    if (g->cfg.balloon_vnode)
        g->vnode_offered = store_write(g->xs, 0, "control/feature-balloon-vnode", "1", 1) == 0;
    rc = store_watch(g->xs, "memory", "balloon");
    if (rc)
        return rc;
    read_targets(g); /* the watch's first event */
    return 0;
}

void balloon_fini(struct guest_os *g)
{
    if (g->xs)
        store_conn_close(g->xs);
    if (g->hc)
        hc_session_destroy(g->hc);
    g->xs = NULL;
    g->hc = NULL;
}

static long reservation(struct guest_os *g, unsigned op, unsigned nr, unsigned mem_flags)
{
    g->resv->extent_start.p = g->extents;
    g->resv->nr_extents = nr;
    g->resv->extent_order = 0;
    g->resv->mem_flags = mem_flags;
    g->resv->domid = DOMID_SELF;
    return hc_call(g->hc, HC_MEMORY_OP, op, (uint64_t)(uintptr_t)g->resv, 0, 0, 0);
}

static unsigned node_flags(const struct guest_os *g, unsigned v)
{
    return g->vnode_mode ? XENMEMF_vnode | XENMEMF_exact_node(v) : 0;
}

/* A page given back to the guest: a page cache frame again if it is the
 * one above the cache's top, else a free page (zero, untouched). */
static void repopulated(struct guest_os *g, uint32_t i, bool for_workload)
{
    if (g->cache && i == g->cache_first + g->cache_frames) {
        g->cache_frames = guest_pagecache_resize(g->cache, g->cache_frames + 1);
        g->state[i] = PG_CACHE;
    } else if (for_workload) {
        g->state[i] = PG_FREE;
        dq_push_front(&g->vn[g->vnode[i]].free, i);
    } else {
        g->state[i] = PG_FREE;
        dq_push_back(&g->vn[g->vnode[i]].free, i);
    }
}

int balloon_populate_one(struct guest_os *g, uint32_t i)
{
    if (!g->hc)
        return -ENOMEM;
    g->extents[0] = g->gfn[i];
    return reservation(g, XENMEM_populate_physmap, 1, node_flags(g, g->vnode[i])) == 1
               ? 0 : -ENOMEM;
}

/* Deflates up to `want` pages from vnode v's balloon; returns how many came
 * back, or -EAGAIN if Xen gave none. */
static long deflate(struct guest_os *g, unsigned v, uint64_t want, bool for_workload)
{
    struct deque *b = &g->vn[v].balloon;
    uint32_t idx[BALLOON_BATCH];
    unsigned n = 0;
    long done;

    while (n < BALLOON_BATCH && n < want && b->len) {
        idx[n] = dq_pop_back(b);
        g->extents[n] = g->gfn[idx[n]];
        n++;
    }
    if (!n)
        return -EAGAIN;
    done = reservation(g, XENMEM_populate_physmap, n, node_flags(g, v));
    if (done < 0)
        done = 0;
    for (unsigned k = 0; k < n; k++)
        if (k < (unsigned)done)
            repopulated(g, idx[k], for_workload);
    for (unsigned k = n; k-- > (unsigned)done;)
        dq_push_back(b, idx[k]);
    g->balloon_pages -= (uint64_t)done;
    return done ? done : -EAGAIN;
}

/* Inflates by up to `want` pages from vnode v: reported pages first (Xen
 * has them already), then free pages from the top, scrubbed as Linux
 * does, then page cache frames (their pages go to tmem).  Returns how many,
 * or -EAGAIN if nothing could be taken. */
static long inflate(struct guest_os *g, unsigned v, uint64_t want)
{
    struct vnode_lists *vn = &g->vn[v];
    uint32_t idx[BALLOON_BATCH];
    unsigned n = 0, moved = 0;
    long done;

    while (moved < want && vn->reported.len) {
        uint32_t i = dq_pop_back(&vn->reported);

        g->state[i] = PG_BALLOON;
        dq_push_back(&vn->balloon, i);
        moved++;
    }
    g->balloon_pages += moved;
    want -= moved;
    while (n < BALLOON_BATCH && n < want) {
        uint32_t i;

        if (vn->free.len) {
            i = dq_pop_back(&vn->free);
        } else if (g->cache && g->cache_frames &&
                   g->vnode[g->cache_first + g->cache_frames - 1] == v) {
            i = g->cache_first + (uint32_t)g->cache_frames - 1;
            g->cache_frames = guest_pagecache_resize(g->cache, g->cache_frames - 1);
        } else {
            break;
        }
        if (g->cfg.scrub_ballooned && (g->state[i] & PG_TOUCHED)) {
            int rc = guest_fill(g->d, g->gfn[i] << PAGE_SHIFT, 0, PAGE_SIZE);

            if (rc)
                return rc;
        }
        g->state[i] = PG_BALLOON;
        idx[n] = i;
        g->extents[n++] = g->gfn[i];
    }
    if (!n)
        return moved ? (long)moved : -EAGAIN;
    done = reservation(g, XENMEM_decrease_reservation, n, 0);
    if (done < 0)
        done = 0;
    for (unsigned k = 0; k < n; k++) {
        if (k < (unsigned)done) {
            dq_push_back(&vn->balloon, idx[k]);
        } else {
            g->state[idx[k]] = PG_FREE;
            dq_push_back(&vn->free, idx[k]);
        }
    }
    g->balloon_pages += (uint64_t)done;
    return moved + done ? (long)moved + done : -EAGAIN;
}

/* One batch towards the target: 1 if something moved, 0 at the target,
 * -EAGAIN if Xen or the guest could give nothing, or a crash's error. */
static int batch(struct guest_os *g)
{
    long r = 0;

    if (g->vnode_mode) {
        /* Every node's inflation before any deflation: moving the balloon
         * from one node to another must give pages back first, or the
         * domain would pass its max_pages on the way.  A node that can
         * give nothing does not hold the others up. */
        bool wanted = false;

        for (unsigned pass = 0; pass < 2; pass++) {
            for (unsigned v = 0; v < g->cfg.nr_vnodes; v++) {
                uint64_t have = g->vn[v].balloon.len, want = g->vnode_target[v];

                if (pass == 0 && have < want)
                    r = inflate(g, v, want - have);
                else if (pass == 1 && have > want)
                    r = deflate(g, v, have - want, false);
                else
                    continue;
                if (r > 0)
                    return 1;
                if (r != -EAGAIN)
                    return (int)r;
                wanted = true;
            }
        }
        return wanted ? -EAGAIN : 0;
    }
    uint64_t current = g->nr_pages - g->balloon_pages;

    if (current == g->target_pages)
        return 0;
    for (unsigned k = 0; k < g->cfg.nr_vnodes; k++) {
        /* Inflate from the highest node first, deflate into the lowest. */
        unsigned v = current > g->target_pages ? g->cfg.nr_vnodes - 1 - k : k;

        if (current > g->target_pages)
            r = inflate(g, v, current - g->target_pages);
        else
            r = deflate(g, v, g->target_pages - current, false);
        if (r != -EAGAIN)
            return r < 0 ? (int)r : 1;
    }
    return -EAGAIN;
}

bool balloon_reached(const struct guest_os *g)
{
    if (g->vnode_mode) {
        for (unsigned v = 0; v < g->cfg.nr_vnodes; v++)
            if (g->vn[v].balloon.len != g->vnode_target[v])
                return false;
        return true;
    }
    return g->nr_pages - g->balloon_pages <= g->target_pages;
}

uint64_t balloon_next_s(const struct guest_os *g, uint64_t now_s)
{
    uint64_t next = UINT64_MAX;
    bool at_target = g->nr_pages - g->balloon_pages == g->target_pages;

    if (g->cfg.selfballoon && !g->vnode_mode)
        next = g->next_self_s;
    if (g->cfg.free_page_reporting && g->hc)
        next = min_u64(next, g->next_report_s);
    if (g->vnode_mode) {
        at_target = true;
        for (unsigned v = 0; v < g->cfg.nr_vnodes; v++)
            at_target &= g->vn[v].balloon.len == g->vnode_target[v];
    }
    /* Cancelled, it waits for a new target: a watch event. */
    if (!g->xs || at_target || g->bstate == BALLOON_CANCELLED)
        return max_u64(next, now_s);
    if (g->bstate == BALLOON_EAGAIN)
        return max_u64(min_u64(next, g->next_try_s), now_s);
    return now_s;
}

static void selfballoon(struct guest_os *g, uint64_t now_s)
{
    uint64_t goal, cur, tgt;

    if (now_s < g->next_self_s)
        return;
    g->next_self_s = now_s + SELFBALLOON_INTERVAL_S;
    goal = guest_os_want(g, now_s) + g->cfg.selfballoon_reserve_pages;
    cur = g->nr_pages - g->balloon_pages;
    /* Down by an eighth of the gap per interval, up at once. */
    tgt = cur > goal ? cur - max_u64((cur - goal) / SELFBALLOON_DOWNHYSTERESIS, 1) : goal;
    set_target(g, tgt);
}

/* What a guest agent reports (XAPI's data/meminfo_*, KiB): the memory
 * the guest has, and how much of it is free; and in vnode mode each
 * node's balloon. */
static void report_sizes(struct guest_os *g)
{
    uint64_t total = (uint64_t)(g->nr_pages - g->balloon_pages) << 2, free_kib = 0;
    char path[64];

    for (unsigned v = 0; v < g->cfg.nr_vnodes; v++)
        free_kib += (uint64_t)g->vn[v].free.len << 2;
    if (total != g->reported_total) {
        xs_write_u64(g, "data/meminfo_total", total);
        xs_write_u64(g, "data/meminfo_free", free_kib);
        g->reported_total = total;
    }

    for (unsigned v = 0; v < g->cfg.nr_vnodes && g->vnode_mode; v++) {
        uint64_t kib = (uint64_t)g->vn[v].balloon.len << 2;

        if (kib != g->vnode_reported[v] || !g->vnode_reported[v]) {
            snprintf(path, sizeof(path), "data/vnode%u/balloon-size", v);
            xs_write_u64(g, path, kib);
            g->vnode_reported[v] = kib;
        }
    }
}

int balloon_step(struct guest_os *g, bool event)
{
    uint64_t now_s = guest_os_now_s(g);

    if (!g->xs)
        return 0;
    if (event)
        read_targets(g);
    if (g->cfg.selfballoon && !g->vnode_mode)
        selfballoon(g, now_s);
    lock_acquire(&g->mu);
    g->st.target_pages = g->target_pages;
    g->st.target_diff = g->target_diff;
    g->st.vnode_mode = g->vnode_mode;
    memcpy(g->st.vnode_balloon_target, g->vnode_target, sizeof(g->vnode_target));
    lock_release(&g->mu);
    if (g->bstate == BALLOON_CANCELLED || now_s < g->next_try_s)
        return 0;
    for (unsigned n = 0; n < BALLOON_BATCHES_PER_STEP; n++) {
        int r = batch(g);

        if (r == 0 || (r > 0 && n + 1 < BALLOON_BATCHES_PER_STEP))
            g->retries = 0, g->delay_s = 1, g->bstate = BALLOON_DONE;
        if (r == 0)
            break;
        if (r == -EAGAIN) {
            /* Linux's update_schedule: double the delay, give up after
             * max_retry_count until the target changes. */
            if (++g->retries > MAX_RETRY_COUNT) {
                g->bstate = BALLOON_CANCELLED;
                g->retries = 0;
                g->delay_s = 1;
            } else {
                g->bstate = BALLOON_EAGAIN;
                g->next_try_s = now_s + g->delay_s;
                g->delay_s = min_u64(g->delay_s * 2, MAX_SCHEDULE_DELAY_S);
            }
            break;
        }
        if (r < 0)
            return r;
    }
    lock_acquire(&g->mu);
    g->st.balloon = g->bstate;
    g->st.retries = g->retries;
    lock_release(&g->mu);
    report_sizes(g);
    return 0;
}

uint64_t balloon_deflate_on_oom(struct guest_os *g)
{
    uint64_t got = 0;

    for (unsigned v = 0; v < g->cfg.nr_vnodes && got < OOM_DEFLATE_PAGES && g->hc; v++) {
        long r = deflate(g, v, OOM_DEFLATE_PAGES - got, true);

        if (r > 0)
            got += (uint64_t)r;
    }
    if (got) {
        g->ctr.oom_deflates++;
        /* The balloon driver's target stays: virtio's "actual" drops. */
    }
    return got;
}

int balloon_report_free(struct guest_os *g, uint64_t now_s)
{
    if (now_s < g->next_report_s || !g->hc)
        return 0;
    g->next_report_s = now_s + REPORT_INTERVAL_S;
    for (unsigned v = 0; v < g->cfg.nr_vnodes; v++) {
        struct vnode_lists *vn = &g->vn[v];
        unsigned total = 0;

        while (vn->free.len > REPORT_KEEP_FREE && total < REPORT_MAX_PER_ROUND) {
            uint32_t idx[BALLOON_BATCH];
            unsigned n = 0;
            long done;

            while (n < BALLOON_BATCH && vn->free.len > REPORT_KEEP_FREE) {
                idx[n] = dq_pop_back(&vn->free);
                g->extents[n] = g->gfn[idx[n]];
                n++;
            }
            done = reservation(g, XENMEM_decrease_reservation, n, 0);
            if (done < 0)
                done = 0;
            for (unsigned k = 0; k < n; k++) {
                g->state[idx[k]] = k < (unsigned)done ? PG_REPORTED : PG_FREE;
                dq_push_back(k < (unsigned)done ? &vn->reported : &vn->free, idx[k]);
            }
            total += n;
            g->ctr.reports += (uint64_t)done;
            if ((unsigned)done < n)
                break;
        }
    }
    return 0;
}
