/*
 * The delayed-failure race, run once without claims and once with them.
 *
 * Build requests arrive at a steady rate; builder threads take them in
 * turn and build them with the domain builder, at the pace of a real
 * build.  A built domain lives for a while and is then destroyed, so
 * memory churns.  Demand threads are guests that balloon themselves up and
 * down (populate and decrease on their own domain, as unprivileged
 * callers), a stand-in for tmem and self-ballooning guests: the toolstack
 * cannot see or predict them.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "memvisor/toolstack.h"

#define DEMAND_STEP_PAGES 256
#define MS (UINT64_C(1000000))

/* What the seed decides about one build. */
struct build_plan {
    uint64_t pages;
    uint64_t arrival_ns;  /* after the run's start */
    uint64_t lifetime_ns;
};

struct demo_run {
    const struct demo_config *cfg;
    bool use_claims;
    struct hv *hv;
    const struct build_plan *plan;
    uint64_t start_ns;
    _Atomic unsigned next_build;
    _Atomic bool stop_demand;
    pthread_mutex_t lock; /* results and progress */
    struct demo_result res;
    unsigned done;
};

static uint64_t rng_next(uint64_t *state)
{
    /* splitmix64 */
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

void demo_config_default(struct demo_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->ram_bytes = UINT64_C(4) << 30;
    cfg->nr_nodes = 2;
    cfg->nr_builds = 32;
    cfg->builder_threads = 4;
    cfg->interval_ms = 40;
    cfg->min_lifetime_ms = 300;
    cfg->max_lifetime_ms = 900;
    cfg->build_mib_per_sec = 2048;
    cfg->min_build_pages = (UINT64_C(256) << 20) >> PAGE_SHIFT;
    cfg->max_build_pages = (UINT64_C(768) << 20) >> PAGE_SHIFT;
    cfg->demand_threads = 2;
    cfg->demand_max_pages = (UINT64_C(512) << 20) >> PAGE_SHIFT;
    cfg->seed = 1;
}

static void record_build(struct demo_run *run, const struct build_result *b)
{
    struct demo_result *r = &run->res;

    pthread_mutex_lock(&run->lock);
    r->builds++;
    if (b->rc == 0) {
        r->succeeded++;
    } else {
        r->wasted_ns += b->elapsed_ns;
        r->wasted_pages += b->populated_pages;
        if (b->refused_at_once)
            r->refused_at_once++;
        else if (b->delayed_failure)
            r->delayed_failures++;
        else
            r->other_failures++;
    }
    run->done++;
    if (run->cfg->progress)
        run->cfg->progress(run->cfg->progress_arg, run->use_claims, run->done, run->cfg->nr_builds,
                           r->succeeded, r->refused_at_once, r->delayed_failures);
    pthread_mutex_unlock(&run->lock);
}

static void sleep_until(uint64_t when_ns)
{
    uint64_t now = mv_now_ns();

    if (when_ns > now) {
        struct timespec ts = { (time_t)((when_ns - now) / 1000000000u),
                               (long)((when_ns - now) % 1000000000u) };
        nanosleep(&ts, NULL);
    }
}

struct live_domain {
    domid_t domid;
    uint64_t expires_ns;
};

#define MAX_LIVE 64

static void destroy_expired(struct tc_handle *t, struct live_domain *live, unsigned *nr,
                            uint64_t now)
{
    for (unsigned i = 0; i < *nr;) {
        if (live[i].expires_ns <= now) {
            (void)!tc_domain_destroy(t, live[i].domid);
            live[i] = live[--*nr];
        } else {
            i++;
        }
    }
}

static void *builder_main(void *arg)
{
    struct demo_run *run = arg;
    struct live_domain live[MAX_LIVE];
    unsigned nr_live = 0;
    struct tc_handle *t;

    if (tc_open(run->hv, 0, true, &t))
        return NULL;
    for (;;) {
        unsigned i = atomic_fetch_add(&run->next_build, 1);
        const struct build_plan *p;
        struct build_spec spec = { 0 };
        struct build_result b;

        if (i >= run->cfg->nr_builds)
            break;
        p = &run->plan[i];
        sleep_until(run->start_ns + p->arrival_ns);
        destroy_expired(t, live, &nr_live, mv_now_ns());
        spec.mem_pages = p->pages;
        spec.use_claim = run->use_claims;
        spec.pace_bytes_per_sec = run->cfg->build_mib_per_sec << 20;
        toolstack_build(t, &spec, &b);
        record_build(run, &b);
        if (b.rc != 0)
            continue;
        if (nr_live == MAX_LIVE)
            destroy_expired(t, live, &nr_live, UINT64_MAX);
        live[nr_live++] = (struct live_domain){ b.domid, mv_now_ns() + p->lifetime_ns };
    }
    /* The run is over: the domains still alive wait out their lives. */
    while (nr_live) {
        uint64_t next = UINT64_MAX;
        for (unsigned k = 0; k < nr_live; k++)
            next = min_u64(next, live[k].expires_ns);
        sleep_until(next);
        destroy_expired(t, live, &nr_live, mv_now_ns());
    }
    tc_close(t);
    return NULL;
}

struct demand_arg {
    struct demo_run *run;
    unsigned index;
};

/* A guest that balloons itself between 0 and its maximum, at random. */
static void *demand_main(void *arg)
{
    struct demo_run *run = ((struct demand_arg *)arg)->run;
    uint64_t rng = run->cfg->seed * 7919 + ((struct demand_arg *)arg)->index + 1;
    uint64_t max = run->cfg->demand_max_pages, held = 0, target = 0;
    struct tc_handle *ctl, *guest;
    struct timespec pause = { 0, 200 * 1000 };
    uint64_t ext[DEMAND_STEP_PAGES];
    domid_t domid = DOMID_ANY;

    if (tc_open(run->hv, 0, true, &ctl))
        return NULL;
    if (tc_domain_create(ctl, &domid, true, 1) ||
        tc_domain_setmaxmem(ctl, domid, max << (PAGE_SHIFT - 10)) ||
        tc_open(run->hv, domid, false, &guest)) {
        tc_close(ctl);
        return NULL;
    }
    while (!atomic_load(&run->stop_demand)) {
        uint64_t step;
        long done;

        if (held == target)
            target = max ? rng_next(&rng) % (max + 1) : 0;
        if (held < target) {
            step = min_u64(DEMAND_STEP_PAGES, target - held);
            for (uint64_t i = 0; i < step; i++)
                ext[i] = held + i;
            done = tc_populate_physmap(guest, DOMID_SELF, step, 0, 0, ext);
            if (done > 0)
                held += (uint64_t)done;
            if (done < (long)step) {
                pthread_mutex_lock(&run->lock);
                run->res.demand_refusals++;
                pthread_mutex_unlock(&run->lock);
                target = held; /* back off: pick a new target next time */
            }
        } else if (held > target) {
            step = min_u64(DEMAND_STEP_PAGES, held - target);
            for (uint64_t i = 0; i < step; i++)
                ext[i] = held - step + i;
            done = tc_decrease_reservation(guest, DOMID_SELF, step, 0, ext);
            if (done > 0)
                held -= (uint64_t)done;
            if (done < (long)step)
                target = held;
        }
        nanosleep(&pause, NULL);
    }
    tc_close(guest);
    (void)!tc_domain_destroy(ctl, domid);
    tc_close(ctl);
    return NULL;
}

int demo_run(const struct demo_config *cfg, bool use_claims, struct demo_result *out)
{
    pthread_t builders[64], demand[64];
    struct demand_arg dargs[64];
    unsigned nb = cfg->builder_threads, nd = cfg->demand_threads, started_b = 0, started_d = 0;
    struct hv_config hcfg;
    struct demo_run run;
    struct build_plan *plan;
    uint64_t rng = cfg->seed;
    const char *why = NULL;
    int rc;

    if (nb == 0 || nb > 64 || nd > 64 || cfg->nr_builds == 0 ||
        cfg->min_build_pages == 0 || cfg->min_build_pages > cfg->max_build_pages ||
        cfg->min_lifetime_ms > cfg->max_lifetime_ms)
        return -EINVAL;
    plan = calloc(cfg->nr_builds, sizeof(*plan));
    if (!plan)
        return -ENOMEM;
    /* The same plan for both runs: sizes in whole MiB, arrivals, lives. */
    for (unsigned i = 0; i < cfg->nr_builds; i++) {
        uint64_t span = cfg->max_build_pages - cfg->min_build_pages + 1;
        uint64_t life_span = cfg->max_lifetime_ms - cfg->min_lifetime_ms + 1;

        plan[i].pages = (cfg->min_build_pages + rng_next(&rng) % span) & ~UINT64_C(255);
        if (plan[i].pages == 0)
            plan[i].pages = 256;
        plan[i].arrival_ns = i * cfg->interval_ms * MS;
        plan[i].lifetime_ns = (cfg->min_lifetime_ms + rng_next(&rng) % life_span) * MS;
    }

    hv_config_default(&hcfg);
    hcfg.ram_bytes = cfg->ram_bytes;
    hcfg.nr_nodes = cfg->nr_nodes;
    hcfg.log.level = MV_LOG_ERROR;
    /* Guests touch all of it: fault it in 2 MiB at a time. */
    hcfg.huge_pages = true;
    memset(&run, 0, sizeof(run));
    rc = hv_create(&hcfg, &run.hv, &why);
    if (rc) {
        free(plan);
        return rc;
    }
    run.cfg = cfg;
    run.use_claims = use_claims;
    run.plan = plan;
    pthread_mutex_init(&run.lock, NULL);

    run.start_ns = mv_now_ns();
    for (unsigned i = 0; i < nd; i++) {
        dargs[i] = (struct demand_arg){ &run, i };
        if (pthread_create(&demand[started_d], NULL, demand_main, &dargs[i]) == 0)
            started_d++;
    }
    for (unsigned i = 0; i < nb; i++)
        if (pthread_create(&builders[started_b], NULL, builder_main, &run) == 0)
            started_b++;
    for (unsigned i = 0; i < started_b; i++)
        pthread_join(builders[i], NULL);
    atomic_store(&run.stop_demand, true);
    for (unsigned i = 0; i < started_d; i++)
        pthread_join(demand[i], NULL);
    run.res.elapsed_ns = mv_now_ns() - run.start_ns;
    if (started_b == 0)
        rc = -EAGAIN;

    heap_scrubbers_stop(run.hv->heap);
    run.res.check_violations = hv_check(run.hv, stderr);
    *out = run.res;
    pthread_mutex_destroy(&run.lock);
    hv_destroy(run.hv);
    free(plan);
    return rc;
}
