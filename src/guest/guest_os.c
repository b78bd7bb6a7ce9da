/*
 * A guest kernel model as a thread: boot, the workload, the page cache and
 * swap over tmem, and the loop that drives the balloon driver (balloon.c).
 *
 * The guest's pages: every RAM page of the memory map has an index; each
 * index is in exactly one of the per-vnode lists (free, used, balloon,
 * reported) or is a page cache frame:
 *     ram = free + used + balloon + reported + cache frames   (per vnode)
 * guest_os_check_locked asserts it after every step in debug builds.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest_os_internal.h"

static const char *const state_names[] = { "booting", "balloon-wait", "running", "crashed",
                                           "stopped" };
static const char *const balloon_names[] = { "done", "eagain", "cancelled" };

const char *guest_os_state_name(enum guest_os_state s) { return state_names[s]; }
const char *balloon_state_name(enum balloon_state s) { return balloon_names[s]; }
domid_t guest_os_domid(const struct guest_os *g) { return g->cfg.domid; }

void guest_os_config_default(struct guest_os_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->hvm = true;
    cfg->nr_vnodes = 1;
    cfg->balloon = true;
    cfg->scrub_ballooned = true;
    cfg->swap = true;
    cfg->second_ns = 10 * 1000 * 1000;
}

/* The deque of page indices. */
static int dq_init(struct deque *q, uint32_t cap)
{
    q->a = cap ? malloc(cap * sizeof(*q->a)) : NULL;
    q->cap = cap;
    q->head = q->len = 0;
    return cap && !q->a ? -ENOMEM : 0;
}

void dq_push_back(struct deque *q, uint32_t v)
{
    assert(q->len < q->cap);
    q->a[(q->head + q->len++) % q->cap] = v;
}

void dq_push_front(struct deque *q, uint32_t v)
{
    assert(q->len < q->cap);
    q->head = (q->head + q->cap - 1) % q->cap;
    q->a[q->head] = v;
    q->len++;
}

uint32_t dq_pop_back(struct deque *q)
{
    assert(q->len);
    return q->a[(q->head + --q->len) % q->cap];
}

uint32_t dq_pop_front(struct deque *q)
{
    uint32_t v = q->a[q->head];

    assert(q->len);
    q->head = (q->head + 1) % q->cap;
    q->len--;
    return v;
}

uint64_t guest_os_now_s(const struct guest_os *g)
{
    return (mv_clock_now(g->clock) - g->boot_ns) / g->cfg.second_ns;
}

void guest_os_crash(struct guest_os *g, int rc, const char *what)
{
    lock_acquire(&g->mu);
    if (g->st.state != GUEST_CRASHED) {
        g->st.state = GUEST_CRASHED;
        if (domain_is_crashed(g->d) || rc == -ESRCH)
            snprintf(g->st.why, sizeof(g->st.why), "%s: crashed by the hypervisor: %s", what,
                     g->d->crash_reason[0] ? g->d->crash_reason : mv_strerror(rc));
        else
            snprintf(g->st.why, sizeof(g->st.why), "%s: %s", what, mv_strerror(rc));
    }
    lock_release(&g->mu);
}

bool guest_os_alive(const struct guest_os *g)
{
    return !atomic_load(&g->stop) && g->st.state != GUEST_CRASHED;
}

/*
 * The workload.
 */

/* A free page for the workload: from the free lists (lowest first), else
 * a reported page repopulated, else out of the balloon (deflate-on-OOM),
 * else a resident page swapped out to make room.  -ENOMEM if none. */
static bool take_free(struct guest_os *g, uint32_t *out)
{
    for (unsigned v = 0; v < g->cfg.nr_vnodes; v++) {
        if (g->vn[v].free.len) {
            *out = dq_pop_front(&g->vn[v].free);
            return true;
        }
    }
    return false;
}

static bool take_reported(struct guest_os *g, uint32_t *out)
{
    for (unsigned v = 0; v < g->cfg.nr_vnodes; v++) {
        struct deque *reported = &g->vn[v].reported;

        if (reported->len) {
            uint32_t i = dq_pop_back(reported);

            if (balloon_populate_one(g, i) == 0) {
                g->state[i] = PG_FREE;
                *out = i;
                return true;
            }
            dq_push_back(reported, i);
        }
    }
    return false;
}

/* The coldest resident page, its data swapped out to make room. */
static int swap_out_coldest(struct guest_os *g, uint32_t *out)
{
    for (unsigned v = 0; v < g->cfg.nr_vnodes; v++) {
        if (g->vn[v].used.len) {
            uint32_t i = dq_pop_front(&g->vn[v].used);
            int rc = guest_swap_out_page(g, i);

            if (rc == 0)
                *out = i;
            else
                dq_push_front(&g->vn[v].used, i);
            return rc;
        }
    }
    return -ENOMEM;
}

static int take_page(struct guest_os *g, uint32_t *out)
{
    do {
        if (take_free(g, out) || take_reported(g, out))
            return 0;
    } while (g->cfg.deflate_on_oom && balloon_deflate_on_oom(g) > 0);
    return g->swap ? swap_out_coldest(g, out) : -ENOMEM;
}

int guest_swap_out_page(struct guest_os *g, uint32_t i)
{
    uint32_t slot;
    int rc;

    if (!g->free_slots.len)
        return -ENOSPC;
    slot = dq_pop_back(&g->free_slots);
    rc = guest_swap_out(g->swap, _gfn(g->gfn[i]), slot);
    if (rc) {
        dq_push_back(&g->free_slots, slot);
        return rc;
    }
    g->slot_ident[slot] = g->ident[i];
    dq_push_back(&g->swapped, slot);
    g->state[i] = PG_FREE;
    g->ctr.swap_outs++;
    return 0;
}

static void use_page(struct guest_os *g, uint32_t i)
{
    g->state[i] = PG_USED | PG_TOUCHED;
    dq_push_back(&g->vn[g->vnode[i]].used, i);
}

/* Grows the working set by one page: a new page written, or a swapped one
 * read back and checked. */
static int grow_one(struct guest_os *g, bool from_swap)
{
    uint32_t i;
    int rc = take_page(g, &i);

    if (rc)
        return rc;
    if (from_swap) {
        uint32_t slot = dq_pop_front(&g->swapped);
        uint64_t a, b, want = guest_page_pattern(g->cfg.seed, g->slot_ident[slot]);

        rc = guest_swap_in(g->swap, slot, _gfn(g->gfn[i]));
        if (!rc)
            rc = guest_read(g->d, g->gfn[i] << PAGE_SHIFT, &a, sizeof(a));
        if (!rc)
            rc = guest_read(g->d, (g->gfn[i] << PAGE_SHIFT) + 2048, &b, sizeof(b));
        dq_push_back(&g->free_slots, slot);
        if (!rc && (a != want || b != want))
            g->ctr.verify_failures++;
        g->ident[i] = g->slot_ident[slot];
        g->ctr.swap_ins++;
    } else {
        rc = guest_dirty(g->d, g->gfn[i], 1, g->cfg.seed);
        g->ident[i] = g->gfn[i];
    }
    if (rc) {
        g->state[i] = PG_FREE;
        dq_push_front(&g->vn[g->vnode[i]].free, i);
        return rc;
    }
    use_page(g, i);
    return 0;
}

uint64_t guest_os_want(const struct guest_os *g, uint64_t now_s)
{
    uint64_t want = 0;

    for (unsigned p = 0; p < g->cfg.nr_phases && g->cfg.phases[p].at_s <= now_s; p++)
        want = g->cfg.phases[p].working_set_pages;
    return want;
}

uint64_t guest_os_used(const struct guest_os *g)
{
    uint64_t used = 0;

    for (unsigned v = 0; v < g->cfg.nr_vnodes; v++)
        used += g->vn[v].used.len;
    return used;
}

#define WORKLOAD_STEP 4096 /* pages the workload moves per tick */

static int workload_step(struct guest_os *g, uint64_t now_s)
{
    uint64_t want = guest_os_want(g, now_s), used = guest_os_used(g);
    uint64_t held = used + g->swapped.len;
    int rc = 0;

    g->ctr.want_pages = want;
    /* Shrinking: drop swapped pages first, then resident ones. */
    for (uint64_t n = 0; held > want && n < WORKLOAD_STEP; n++, held--) {
        if (g->swapped.len) {
            uint32_t slot = dq_pop_back(&g->swapped);

            guest_swap_discard(g->swap, slot);
            dq_push_back(&g->free_slots, slot);
            continue;
        }
        for (unsigned v = g->cfg.nr_vnodes; v-- > 0;) {
            if (g->vn[v].used.len) {
                uint32_t i = dq_pop_back(&g->vn[v].used);

                g->state[i] = PG_FREE | PG_TOUCHED;
                dq_push_front(&g->vn[v].free, i);
                break;
            }
        }
    }
    /* Growing, and bringing swapped pages back while there is room. */
    for (uint64_t n = 0; held < want && n < WORKLOAD_STEP && rc == 0; n++, held++)
        rc = grow_one(g, false);
    if (rc == -ENOMEM || rc == -ENOSPC) {
        g->ctr.oom_failures++;
        rc = 0;
    }
    for (uint64_t n = 0; g->swapped.len && n < WORKLOAD_STEP && rc == 0; n++) {
        bool room = false;

        for (unsigned v = 0; v < g->cfg.nr_vnodes; v++)
            room |= g->vn[v].free.len > 0;
        if (!room)
            break;
        rc = grow_one(g, true);
    }
    return rc == -ENOMEM ? 0 : rc;
}

#define CACHE_READS_PER_TICK 128

static int cache_step(struct guest_os *g)
{
    uint8_t buf[PAGE_SIZE];
    struct guest_pagecache_stats cs;

    if (!g->cache || !g->cfg.file_pages)
        return 0;
    for (unsigned n = 0; n < CACHE_READS_PER_TICK; n++) {
        g->rng ^= g->rng << 13, g->rng ^= g->rng >> 7, g->rng ^= g->rng << 17;
        uint64_t page = g->rng % g->cfg.file_pages;
        int rc = guest_pagecache_read(g->cache, page / 1024, (uint32_t)(page % 1024), buf);

        if (rc == -EIO)
            g->ctr.verify_failures++;
        else if (rc)
            return rc;
    }
    guest_pagecache_stats(g->cache, &cs);
    g->ctr.cache_reads = cs.reads;
    g->ctr.cache_tmem_hits = cs.tmem_hits;
    return 0;
}

/*
 * The thread.
 */

static void store_event(void *arg, const char *path, size_t path_len, const char *token,
                        size_t token_len)
{
    struct guest_os *g = arg;

    (void)path, (void)path_len, (void)token, (void)token_len;
    lock_acquire(&g->mu);
    g->event = true;
    mv_clock_signal(g->clock, &g->cv);
    lock_release(&g->mu);
}

void guest_os_publish(struct guest_os *g)
{
    struct guest_os_status *st = &g->st;

    lock_acquire(&g->mu);
    st->want_pages = g->ctr.want_pages;
    st->oom_deflates = g->ctr.oom_deflates;
    st->oom_failures = g->ctr.oom_failures;
    st->swap_outs = g->ctr.swap_outs;
    st->swap_ins = g->ctr.swap_ins;
    st->reports = g->ctr.reports;
    st->cache_reads = g->ctr.cache_reads;
    st->cache_tmem_hits = g->ctr.cache_tmem_hits;
    st->verify_failures = g->ctr.verify_failures;
    st->current_pages = g->nr_pages - g->balloon_pages;
    st->balloon_pages = g->balloon_pages;
    st->used_pages = guest_os_used(g);
    st->swapped_pages = g->swapped.len;
    st->cache_pages = g->cache_frames;
    st->reported_pages = 0;
    for (unsigned v = 0; v < g->cfg.nr_vnodes; v++) {
        st->reported_pages += g->vn[v].reported.len;
        st->vnode_balloon_pages[v] = g->vn[v].balloon.len;
    }
    lock_release(&g->mu);
}

/* The model second the guest next has work: now_s if it has some now
 * (it then ticks), the next change of its workload or of its balloon
 * driver's timers, or UINT64_MAX (nothing until a watch fires).  An idle
 * guest sleeps through the ticks it would have spent doing nothing. */
static uint64_t next_work_s(const struct guest_os *g, uint64_t now_s)
{
    uint64_t next = UINT64_MAX;
    bool room = false;

    if ((g->cache && g->cfg.file_pages) ||
        guest_os_used(g) + g->swapped.len != guest_os_want(g, now_s))
        return now_s;
    for (unsigned v = 0; v < g->cfg.nr_vnodes && g->swapped.len; v++)
        room |= g->vn[v].free.len > 0;
    if (room)
        return now_s; /* swapped pages to bring back */
    for (unsigned p = 0; p < g->cfg.nr_phases; p++) {
        if (g->cfg.phases[p].at_s > now_s) {
            next = g->cfg.phases[p].at_s;
            break;
        }
    }
    if (g->cfg.balloon)
        next = min_u64(next, balloon_next_s(g, now_s));
    return next;
}

/* The clock's time for the guest's next step: a tick from now while it
 * has work, else when its next work is due. */
static uint64_t next_step_ns(const struct guest_os *g, uint64_t tick_ns)
{
    uint64_t now_ns = mv_clock_now(g->clock), now_s = (now_ns - g->boot_ns) / g->cfg.second_ns;
    uint64_t next_s = next_work_s(g, now_s);

    if (next_s <= now_s)
        return now_ns + tick_ns;
    if (next_s == UINT64_MAX || next_s > (UINT64_MAX - g->boot_ns) / g->cfg.second_ns)
        return MV_CLOCK_NEVER;
    return g->boot_ns + next_s * g->cfg.second_ns;
}

/* Sleeps until deadline or a watch event; true if an event came. */
static bool wait_until(struct guest_os *g, uint64_t deadline)
{
    bool event;

    lock_acquire(&g->mu);
    while (!g->event && !atomic_load(&g->stop))
        if (mv_clock_wait(g->clock, &g->cv, &g->mu, deadline))
            break;
    event = g->event;
    g->event = false;
    lock_release(&g->mu);
    return event;
}

static void set_state(struct guest_os *g, enum guest_os_state s)
{
    lock_acquire(&g->mu);
    if (g->st.state != GUEST_CRASHED)
        g->st.state = s;
    lock_release(&g->mu);
}

static int boot(struct guest_os *g)
{
    int rc;

    if (g->cfg.boot_scrub) {
        for (uint32_t i = 0; i < g->nr_pages; i++) {
            if (g->state[i] == PG_CACHE)
                continue;
            rc = guest_zero(g->d, _gfn(g->gfn[i]), 1);
            if (rc)
                return rc;
            g->state[i] |= PG_TOUCHED;
            if ((i & 1023) == 0 && atomic_load(&g->stop))
                return 0;
        }
    }
    if (g->cache_frames) {
        rc = guest_pagecache_create(g->cfg.hv, g->d, g->gfn[g->cache_first], g->cache_frames,
                                    &g->cache);
        if (rc)
            return rc;
    }
    if (g->cfg.swap) {
        rc = guest_swap_create(g->cfg.hv, g->d, &g->swap);
        if (rc)
            return rc;
    }
    return g->cfg.balloon ? balloon_init(g) : 0;
}

#define BALLOON_BOOT_TIMEOUT_S 180

static void *guest_main(void *arg)
{
    struct guest_os *g = arg;
    uint64_t tick = g->cfg.second_ns / 4;
    int rc = boot(g);

    if (rc) {
        guest_os_crash(g, rc, "boot");
        return NULL;
    }
    /* Linux's balloon_wait_finish: under PoD the kernel must not touch
     * more than its target, so init waits for the balloon. */
    if (g->cfg.balloon && g->cfg.hvm) {
        uint64_t since = guest_os_now_s(g);

        set_state(g, GUEST_BALLOON_WAIT);
        while (guest_os_alive(g) && !balloon_reached(g)) {
            if (guest_os_now_s(g) - since >= BALLOON_BOOT_TIMEOUT_S) {
                domain_crash(g->d, "d%u: balloon wait timed out at boot", g->cfg.domid);
                guest_os_crash(g, -ETIMEDOUT, "boot: the balloon did not reach its target");
                return NULL;
            }
            if (g->bstate == BALLOON_CANCELLED) {
                /* Linux panics here ("Failed to balloon"); so does the model. */
                domain_crash(g->d, "d%u: ballooning cancelled at boot", g->cfg.domid);
                guest_os_crash(g, -ENOMEM, "boot: ballooning cancelled");
                return NULL;
            }
            rc = balloon_step(g, wait_until(g, mv_clock_now(g->clock) + tick));
            guest_os_publish(g);
            if (rc) {
                guest_os_crash(g, rc, "balloon");
                return NULL;
            }
        }
    }
    set_state(g, GUEST_RUNNING);
    while (guest_os_alive(g)) {
        bool event = wait_until(g, next_step_ns(g, tick));
        uint64_t now_s = guest_os_now_s(g);

        rc = workload_step(g, now_s);
        if (!rc)
            rc = cache_step(g);
        if (!rc && g->cfg.balloon)
            rc = balloon_step(g, event);
        if (!rc && g->cfg.free_page_reporting)
            rc = balloon_report_free(g, now_s);
        guest_os_publish(g);
        if (rc) {
            guest_os_crash(g, rc, "workload");
            break;
        }
        guest_os_check(g);
    }
    return NULL;
}

/*
 * Set-up.
 */

static int validate(const struct guest_os_config *cfg)
{
    uint64_t end = 0;

    if (!cfg->hv || !cfg->nr_ram || cfg->nr_ram > GUEST_MAX_RANGES || !cfg->nr_vnodes ||
        cfg->nr_vnodes > GUEST_MAX_VNODES || cfg->nr_phases > GUEST_MAX_PHASES ||
        (cfg->balloon && !cfg->store))
        return -EINVAL;
    for (unsigned r = 0; r < cfg->nr_ram; r++) {
        const struct guest_ram_range *x = &cfg->ram[r];

        if (!x->nr_pages || x->gfn < end || x->vnode >= cfg->nr_vnodes ||
            x->nr_pages > (UINT64_C(1) << 31) || x->gfn + x->nr_pages < x->gfn)
            return -EINVAL;
        end = x->gfn + x->nr_pages;
    }
    for (unsigned p = 1; p < cfg->nr_phases; p++)
        if (cfg->phases[p].at_s < cfg->phases[p - 1].at_s)
            return -EINVAL;
    return 0;
}

static void guest_os_free(struct guest_os *g)
{
    for (unsigned v = 0; v < GUEST_MAX_VNODES; v++) {
        free(g->vn[v].free.a);
        free(g->vn[v].used.a);
        free(g->vn[v].balloon.a);
        free(g->vn[v].reported.a);
    }
    free(g->swapped.a);
    free(g->free_slots.a);
    free(g->slot_ident);
    free(g->gfn);
    free(g->ident);
    free(g->state);
    free(g->vnode);
    if (g->d)
        domain_put(g->d);
    lock_fini(&g->mu);
    mv_cond_fini(&g->cv);
    free(g);
}

/* Indexes the memory map and carves the page cache: the first cache_pages
 * contiguous pages from 1 MiB up (a guest keeps the low MiB for itself). */
static int lay_out(struct guest_os *g)
{
    const struct guest_os_config *cfg = &g->cfg;
    uint64_t n = 0, per_vnode[GUEST_MAX_VNODES] = { 0 };
    int rc = 0;

    for (unsigned r = 0; r < cfg->nr_ram; r++) {
        n += cfg->ram[r].nr_pages;
        per_vnode[cfg->ram[r].vnode] += cfg->ram[r].nr_pages;
    }
    if (n >= UINT32_MAX)
        return -EINVAL;
    g->nr_pages = (uint32_t)n;
    g->gfn = malloc(n * sizeof(*g->gfn));
    g->ident = calloc(n, sizeof(*g->ident));
    g->state = calloc(n, sizeof(*g->state));
    g->vnode = malloc(n);
    g->slot_ident = malloc(n * sizeof(*g->slot_ident));
    if (!g->gfn || !g->ident || !g->state || !g->vnode || !g->slot_ident)
        return -ENOMEM;
    for (unsigned v = 0; v < cfg->nr_vnodes && !rc; v++) {
        uint32_t cap = (uint32_t)per_vnode[v];

        rc = dq_init(&g->vn[v].free, cap) ?: dq_init(&g->vn[v].used, cap) ?:
             dq_init(&g->vn[v].balloon, cap) ?: dq_init(&g->vn[v].reported, cap);
        g->vn[v].pages = cap;
    }
    if (rc || dq_init(&g->swapped, (uint32_t)n) || dq_init(&g->free_slots, (uint32_t)n))
        return -ENOMEM;
    for (uint32_t s = (uint32_t)n; s-- > 0;)
        dq_push_back(&g->free_slots, s);
    n = 0;
    g->cache_first = UINT32_MAX;
    for (unsigned r = 0; r < cfg->nr_ram; r++) {
        const struct guest_ram_range *x = &cfg->ram[r];
        uint64_t lo = max_u64(x->gfn, 0x100);

        if (cfg->cache_pages && g->cache_first == UINT32_MAX && lo < x->gfn + x->nr_pages &&
            x->gfn + x->nr_pages - lo >= cfg->cache_pages) {
            g->cache_first = (uint32_t)(n + lo - x->gfn);
            g->cache_frames = cfg->cache_pages;
        }
        for (uint64_t k = 0; k < x->nr_pages; k++, n++) {
            g->gfn[n] = x->gfn + k;
            g->vnode[n] = (uint8_t)x->vnode;
        }
    }
    if (cfg->cache_pages && g->cache_first == UINT32_MAX)
        return -EINVAL; /* no room for the cache */
    for (uint32_t i = 0; i < g->nr_pages; i++) {
        if (g->cache_frames && i >= g->cache_first && i < g->cache_first + g->cache_frames)
            g->state[i] = PG_CACHE;
        else if (cfg->populated_pages && i >= cfg->populated_pages) {
            g->state[i] = PG_BALLOON;
            dq_push_back(&g->vn[g->vnode[i]].balloon, i);
            g->balloon_pages++;
        } else
            dq_push_back(&g->vn[g->vnode[i]].free, i);
    }
    return 0;
}

int guest_os_start(const struct guest_os_config *cfg, struct guest_os **out)
{
    struct guest_os *g;
    int rc = validate(cfg);

    if (rc)
        return rc;
    g = calloc(1, sizeof(*g));
    if (!g)
        return -ENOMEM;
    lock_init(&g->mu, LOCK_RANK_GUEST_OS, "guest");
    mv_cond_init(&g->cv);
    g->cfg = *cfg;
    g->clock = cfg->hv->clock;
    if (!g->cfg.second_ns)
        g->cfg.second_ns = 10 * 1000 * 1000;
    g->rng = cfg->seed * 2 + 1;
    g->d = domain_lookup(cfg->hv->domains, cfg->domid);
    if (!g->d) {
        guest_os_free(g);
        return -ESRCH;
    }
    rc = lay_out(g);
    if (rc) {
        guest_os_free(g);
        return rc;
    }
    g->st.ram_pages = g->nr_pages;
    g->boot_ns = mv_clock_now(g->clock);
    guest_os_publish(g);
    rc = mv_clock_thread_start(g->clock, &g->thread, guest_main, g);
    if (rc) {
        guest_os_free(g);
        return rc;
    }
    *out = g;
    return 0;
}

void guest_os_stop(struct guest_os *g)
{
    if (!g)
        return;
    lock_acquire(&g->mu);
    atomic_store(&g->stop, true);
    mv_clock_signal(g->clock, &g->cv);
    lock_release(&g->mu);
    mv_clock_thread_join(g->clock, g->thread);
    balloon_fini(g);
    guest_pagecache_destroy(g->cache);
    guest_swap_destroy(g->swap);
    guest_os_free(g);
}

void guest_os_status(struct guest_os *g, struct guest_os_status *out)
{
    lock_acquire(&g->mu);
    *out = g->st;
    if (out->state != GUEST_CRASHED && atomic_load(&g->stop))
        out->state = GUEST_STOPPED;
    lock_release(&g->mu);
}

struct store_event_sink guest_os_sink(struct guest_os *g)
{
    return (struct store_event_sink){ store_event, g };
}

unsigned guest_os_check(struct guest_os *g)
{
    uint64_t per[GUEST_MAX_VNODES] = { 0 };
    unsigned bad = 0;

    if (!mv_debug)
        return 0;
    for (unsigned v = 0; v < g->cfg.nr_vnodes; v++)
        per[v] = g->vn[v].free.len + g->vn[v].used.len + g->vn[v].balloon.len +
                 g->vn[v].reported.len;
    for (uint32_t i = 0; i < g->cache_frames; i++)
        per[g->vnode[g->cache_first + i]]++;
    for (unsigned v = 0; v < g->cfg.nr_vnodes; v++) {
        if (per[v] != g->vn[v].pages) {
            fprintf(stderr, "guest d%u vnode %u: free+used+balloon+reported+cache = %llu != %llu\n",
                    g->cfg.domid, v, (unsigned long long)per[v],
                    (unsigned long long)g->vn[v].pages);
            bad++;
        }
    }
    assert(bad == 0);
    return bad;
}
