/*
 * The delayed-failure race, run once without claims and once with them.
 *
 * Builder threads take builds from a shared queue and build them with the
 * domain builder; each keeps its last few domains alive and destroys older
 * ones, so memory churns.  Demand threads are guests that balloon
 * themselves up and down (populate and decrease on their own domain, as
 * unprivileged callers), a stand-in for tmem and self-ballooning guests:
 * the toolstack cannot see or predict them.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "memvisor/toolstack.h"

#define DEMAND_STEP_PAGES 256
#define MAX_KEEP 16

struct demo_run {
    const struct demo_config *cfg;
    bool use_claims;
    struct hv *hv;
    const uint64_t *sizes;
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
    cfg->keep_per_thread = 2;
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

static void *builder_main(void *arg)
{
    struct demo_run *run = arg;
    unsigned keep = run->cfg->keep_per_thread < MAX_KEEP ? run->cfg->keep_per_thread : MAX_KEEP;
    domid_t live[MAX_KEEP];
    unsigned nr_live = 0;
    struct tc_handle *t;

    if (tc_open(run->hv, 0, true, &t))
        return NULL;
    for (;;) {
        unsigned i = atomic_fetch_add(&run->next_build, 1);
        struct build_spec spec = { 0 };
        struct build_result b;

        if (i >= run->cfg->nr_builds)
            break;
        spec.mem_pages = run->sizes[i];
        spec.use_claim = run->use_claims;
        toolstack_build(t, &spec, &b);
        record_build(run, &b);
        if (b.rc != 0)
            continue;
        if (nr_live == keep && keep > 0) {
            (void)!tc_domain_destroy(t, live[0]);
            memmove(live, live + 1, (keep - 1) * sizeof(live[0]));
            nr_live--;
        }
        if (keep > 0)
            live[nr_live++] = b.domid;
        else
            (void)!tc_domain_destroy(t, b.domid);
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
    unsigned nb = cfg->builder_threads, nd = cfg->demand_threads;
    struct hv_config hcfg;
    struct demo_run run;
    uint64_t *sizes, rng = cfg->seed, start;
    const char *why = NULL;
    int rc;

    if (nb == 0 || nb > 64 || nd > 64 || cfg->nr_builds == 0 ||
        cfg->min_build_pages == 0 || cfg->min_build_pages > cfg->max_build_pages)
        return -EINVAL;
    sizes = calloc(cfg->nr_builds, sizeof(*sizes));
    if (!sizes)
        return -ENOMEM;
    /* Sizes in whole MiB, the same for both runs. */
    for (unsigned i = 0; i < cfg->nr_builds; i++) {
        uint64_t span = cfg->max_build_pages - cfg->min_build_pages + 1;
        sizes[i] = (cfg->min_build_pages + rng_next(&rng) % span) & ~UINT64_C(255);
        if (sizes[i] == 0)
            sizes[i] = 256;
    }

    hv_config_default(&hcfg);
    hcfg.ram_bytes = cfg->ram_bytes;
    hcfg.nr_nodes = cfg->nr_nodes;
    hcfg.log.level = MV_LOG_ERROR;
    memset(&run, 0, sizeof(run));
    rc = hv_create(&hcfg, &run.hv, &why);
    if (rc) {
        free(sizes);
        return rc;
    }
    run.cfg = cfg;
    run.use_claims = use_claims;
    run.sizes = sizes;
    pthread_mutex_init(&run.lock, NULL);

    start = mv_now_ns();
    for (unsigned i = 0; i < nd; i++) {
        dargs[i] = (struct demand_arg){ &run, i };
        pthread_create(&demand[i], NULL, demand_main, &dargs[i]);
    }
    for (unsigned i = 0; i < nb; i++)
        pthread_create(&builders[i], NULL, builder_main, &run);
    for (unsigned i = 0; i < nb; i++)
        pthread_join(builders[i], NULL);
    atomic_store(&run.stop_demand, true);
    for (unsigned i = 0; i < nd; i++)
        pthread_join(demand[i], NULL);
    run.res.elapsed_ns = mv_now_ns() - start;

    heap_scrubbers_stop(run.hv->heap);
    run.res.check_violations = hv_check(run.hv, stderr);
    *out = run.res;
    pthread_mutex_destroy(&run.lock);
    hv_destroy(run.hv);
    free(sizes);
    return 0;
}
