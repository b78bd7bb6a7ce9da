/*
 * Running a scenario (scenario.h) on a fresh embedded host: the
 * hypervisor, its xenstore and the guests' models, driven by the timeline
 * through the same toolstack calls memvisor's verbs make against
 * memvisord; memory sampled as it goes.
 */
#include <stdlib.h>
#include <string.h>

#include "memvisor/guest_host.h"
#include "memvisor/scenario.h"
#include "memvisor/squeeze.h"

#define KIB_PER_PAGE (PAGE_SIZE / 1024)
#define SAMPLE_MAX_DOMAINS (SCENARIO_MAX_INSTANCES + 256)

struct job;

struct runner {
    const struct scenario *sc;
    const struct scenario_options *opts;
    /* Attached to memvisord (socket paths), or embedded: hv, store and
     * guests are then this process's. */
    bool attached;
    struct mv_clock *clock;    /* virtual, or the real one (realtime, attached) */
    struct hv *hv;
    struct store *store;
    struct guest_host *guests;
    struct squeeze_turns turns;
    struct tc_handle *tc;      /* the sampler's */
    struct tc_store *xs;
    struct scenario_report *r;
    uint64_t start_ns;
    struct mv_lock mu;         /* rank SCENARIO: the report, the instances, jobs' done */
    struct job **jobs;         /* events running (the runner's own) */
    unsigned nr_jobs, cap_jobs;
    unsigned events_done;
    unsigned creates[SCENARIO_MAX_INSTANCES]; /* each instance's, for its UUIDs */
    uint64_t oom_seen[SCENARIO_MAX_INSTANCES], oom_at[SCENARIO_MAX_INSTANCES];
    bool crash_seen[SCENARIO_MAX_INSTANCES];
    unsigned building[SCENARIO_MAX_INSTANCES]; /* creates in flight */
};

struct job {
    struct runner *run;
    const struct scenario_event *ev;
    int instance;
    struct tc_handle *tc;
    struct tc_store *xs;
    struct mv_clock_thread *thread;
    bool done;                 /* under run->mu */
};

static uint64_t model_ms(const struct runner *run)
{
    return (mv_clock_now(run->clock) - run->start_ns) * 1000 / run->sc->second_ns;
}

/* The clock's time of model millisecond ms. */
static uint64_t clock_at(const struct runner *run, uint64_t ms)
{
    return run->start_ns + ms * run->sc->second_ns / 1000;
}

/* splitmix64: every random choice of a run comes from its seed. */
static uint64_t seed_mix(uint64_t x)
{
    x += UINT64_C(0x9E3779B97F4A7C15);
    x = (x ^ (x >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94D049BB133111EB);
    return x ^ (x >> 31);
}

/* The n-th domain of an instance gets a version 4 UUID from the seed. */
static void seeded_uuid(uint64_t seed, unsigned instance, unsigned n, uint8_t out[16])
{
    uint64_t a = seed_mix(seed ^ seed_mix(((uint64_t)instance << 32) | n));
    uint64_t b = seed_mix(a);

    memcpy(out, &a, 8);
    memcpy(out + 8, &b, 8);
    out[6] = (uint8_t)((out[6] & 0x0F) | 0x40);
    out[8] = (uint8_t)((out[8] & 0x3F) | 0x80);
}

static void *grow(void *array, unsigned nr, unsigned *cap, size_t size)
{
    void *bigger;

    if (nr < *cap)
        return array;
    bigger = realloc(array, (size_t)(*cap ? *cap * 2 : 64) * size);
    if (bigger)
        *cap = *cap ? *cap * 2 : 64;
    return bigger;
}

/* Under run->mu. */
static void add_failure(struct runner *run, uint64_t t_ms, int instance, const char *what)
{
    struct scenario_report *r = run->r;
    struct scenario_failure *f = grow(r->failures, r->nr_failures, &r->cap_failures,
                                      sizeof(*f));

    if (!f)
        return; /* out of memory: the report is short of a line */
    r->failures = f;
    f[r->nr_failures] = (struct scenario_failure){ t_ms, instance, "" };
    snprintf(f[r->nr_failures].what, sizeof(f->what), "%s", what);
    r->nr_failures++;
}

/* The memory scheduler, for a create under policy scheduler=on. */
static int room(void *arg, struct tc_handle *t, domid_t domid, uint64_t pages, char *err,
                size_t errlen)
{
    struct job *job = arg;
    const struct scenario *sc = job->run->sc;
    struct squeeze_config cfg = { sc->squeeze_timeout_s * sc->second_ns, sc->second_ns / 100,
                                  sc->second_ns, job->run->clock, &job->run->turns };
    struct squeeze_result res;

    return squeeze_make_room(t, job->xs, domid, pages, &cfg, &res, err, errlen);
}

/* memory/dynamic-min and dynamic-max for the scheduler, in memory/target's
 * units (the guest's view: less video memory), as xenopsd writes them. */
static int write_dynamic_range(struct job *job, domid_t domid, const struct scenario_guest *g)
{
    char path[96];
    uint64_t target, dmin;
    int rc = xl_memory_kib(job->xs, 0, domid, "target", &target);

    if (rc)
        return rc;
    dmin = sat_sub(g->dynamic_min_kib, sat_sub(g->dom.target_kib, target));
    snprintf(path, sizeof(path), "/local/domain/%u/memory/dynamic-min", domid);
    rc = tc_xs_printf(job->xs, 0, path, "%llu", (unsigned long long)dmin);
    snprintf(path, sizeof(path), "/local/domain/%u/memory/dynamic-max", domid);
    return rc ?: tc_xs_printf(job->xs, 0, path, "%llu", (unsigned long long)target);
}

static int do_create(struct job *job, struct scenario_result *res, char *err, size_t errlen)
{
    struct runner *run = job->run;
    const struct scenario *sc = run->sc;
    const struct scenario_guest *g = &sc->guests[job->ev->guest];
    struct scenario_instance *in = &run->r->inst[job->instance];
    struct xl_domain d = g->dom;
    struct xl_guest gg = g->guest;
    struct xl_create_opts o = { .unpause = true, .guest = &gg,
                                .populated_pages = &res->populated_pages, .clock = run->clock };
    domid_t domid;
    unsigned nth;
    int rc;

    lock_acquire(&run->mu);
    rc = in->domid ? -EEXIST : 0;
    run->building[job->instance] += !rc;
    nth = run->creates[job->instance]++;
    lock_release(&run->mu);
    if (rc)
        return snprintf(err, errlen, "%s is running already", in->name), rc;
    snprintf(d.name, sizeof(d.name), "%s", in->name);
    if (sc->claims != SC_CLAIMS_CONFIG)
        d.claim = sc->claims == SC_CLAIMS_ON;
    if (!gg.second_ns)
        gg.second_ns = sc->second_ns;
    if (!gg.seed)
        gg.seed = (seed_mix(run->opts->seed ^ (uint64_t)job->instance) & 0xFFFFFFFF) | 1;
    if (!memcmp(d.uuid, (uint8_t[16]){ 0 }, 16))
        seeded_uuid(run->opts->seed, (unsigned)job->instance, nth, d.uuid);
    if (sc->build_rate_bytes)
        o.pace_bytes_per_sec = (uint64_t)((unsigned __int128)sc->build_rate_bytes *
                                          1000000000u / sc->second_ns);
    if (sc->scheduler) {
        o.make_room = room;
        o.room_arg = job;
    }
    rc = xl_create_with(job->tc, job->xs, &d, &o, &domid, err, errlen);
    if (!rc && g->dynamic_min_kib && (rc = write_dynamic_range(job, domid, g))) {
        snprintf(err, errlen, "xenstore: %s", mv_strerror(rc));
        (void)!xl_destroy(job->tc, job->xs, domid, NULL, NULL, 0);
    }
    lock_acquire(&run->mu);
    run->building[job->instance]--;
    if (!rc) {
        in->domid = domid;
        in->ever_created = true;
        run->crash_seen[job->instance] = false;
        run->oom_seen[job->instance] = run->oom_at[job->instance] = 0;
    }
    lock_release(&run->mu);
    if (!rc) {
        snprintf(err, errlen, "domain %u, %llu MiB", domid,
                 (unsigned long long)d.target_kib >> 10);
    }
    res->outcome = !rc                                    ? SO_OK
                   : rc == -ETIMEDOUT                     ? SO_GAVE_UP
                   : rc == -ENOMEM && res->populated_pages ? SO_DELAYED
                   : rc == -ENOMEM                        ? SO_REFUSED
                                                          : SO_FAILED;
    return rc;
}

static int running_domid(struct job *job, domid_t *domid, char *err, size_t errlen)
{
    struct runner *run = job->run;

    lock_acquire(&run->mu);
    *domid = run->r->inst[job->instance].domid;
    lock_release(&run->mu);
    if (*domid)
        return 0;
    snprintf(err, errlen, "%s is not running", run->r->inst[job->instance].name);
    return -ESRCH;
}

static int do_view(struct job *job, struct scenario_result *res)
{
    size_t len = 0;
    FILE *f = open_memstream(&res->output, &len);
    int rc;

    if (!f)
        return -ENOMEM;
    switch (job->ev->verb) {
    case SV_LIST: rc = xl_print_list(job->tc, job->xs, f); break;
    case SV_CLAIMS: rc = xl_print_claims(job->tc, job->xs, f); break;
    case SV_INFO: rc = xl_print_info(job->tc, f); break;
    default: rc = xl_print_tmem_list(job->tc, MV_TMEM_OP_ALL_CLIENTS, false, f); break;
    }
    fclose(f);
    return rc;
}

static int do_event(struct job *job, struct scenario_result *res, char *err, size_t errlen)
{
    const struct scenario_event *ev = job->ev;
    domid_t domid = MV_TMEM_OP_ALL_CLIENTS;
    int rc = 0;

    switch (ev->verb) {
    case SV_CREATE:
        return do_create(job, res, err, errlen);
    case SV_LIST:
    case SV_INFO:
    case SV_CLAIMS:
    case SV_TMEM_LIST:
        rc = do_view(job, res);
        break;
    default:
        if (job->instance >= 0 && (rc = running_domid(job, &domid, err, errlen)))
            return rc;
        break;
    }
    switch (ev->verb) {
    case SV_DESTROY:
        rc = xl_destroy(job->tc, job->xs, domid, NULL, err, errlen);
        if (!rc) {
            lock_acquire(&job->run->mu);
            job->run->r->inst[job->instance].domid = 0;
            lock_release(&job->run->mu);
        }
        break;
    case SV_MEM_SET:
        rc = xl_mem_set(job->tc, job->xs, domid, ev->kib, false, true, err, errlen);
        break;
    case SV_MEM_MAX:
        rc = xl_mem_max(job->tc, job->xs, domid, (uint64_t)ev->kib, err, errlen);
        break;
    case SV_VNODE_BALLOON:
        rc = xl_vnode_balloon(job->xs, domid, ev->vnode_kib, ev->nr_vnode_kib, err, errlen);
        break;
    case SV_TMEM_FREEZE:
    case SV_TMEM_THAW:
        rc = tc_tmem_freeze(job->tc, domid, ev->verb == SV_TMEM_FREEZE);
        if (rc)
            snprintf(err, errlen, "%s: %s", scenario_verb_name(ev->verb), mv_strerror(rc));
        break;
    default:
        if (rc)
            snprintf(err, errlen, "%s: %s", scenario_verb_name(ev->verb), mv_strerror(rc));
        break;
    }
    res->outcome = rc ? SO_FAILED : SO_OK;
    return rc;
}

/* A toolstack connection: to memvisord, or in process. */
static int toolstack_open(struct runner *run, struct tc_handle **tc, struct tc_store **xs)
{
    if (run->attached)
        return tc_connect(run->opts->socket_path, tc) ?:
               tc_store_connect(run->opts->xenstore_path, xs);
    return tc_open(run->hv, 0, true, tc) ?: tc_store_local(run->store, xs);
}

static void *event_thread(void *arg)
{
    struct job *job = arg;
    struct runner *run = job->run;
    struct scenario_result res = { .ev = job->ev, .instance = job->instance };
    struct scenario_report *r = run->r;
    int rc;

    res.start_ms = model_ms(run);
    rc = toolstack_open(run, &job->tc, &job->xs);
    if (rc)
        snprintf(res.message, sizeof(res.message), "toolstack: %s", mv_strerror(rc));
    else
        rc = do_event(job, &res, res.message, sizeof(res.message));
    res.rc = rc;
    if (rc && res.outcome == SO_OK)
        res.outcome = SO_FAILED;
    res.end_ms = model_ms(run);
    tc_store_close(job->xs);
    tc_close(job->tc);
    lock_acquire(&run->mu);
    r->counts[res.outcome]++;
    run->events_done++;
    if (rc) {
        char what[sizeof(((struct scenario_failure *)0)->what)];
        int len = snprintf(what, sizeof(what), "%s%s%s: %s: ",
                           scenario_verb_name(job->ev->verb), job->instance >= 0 ? " " : "",
                           job->instance >= 0 ? r->inst[job->instance].name : "",
                           scenario_outcome_name(res.outcome));

        if (len > 0 && (size_t)len < sizeof(what))
            memccpy(what + len, res.message, '\0', sizeof(what) - (size_t)len - 1);
        what[sizeof(what) - 1] = '\0';
        add_failure(run, res.end_ms, job->instance, what);
    }
    {
        struct scenario_result *x = grow(r->results, r->nr_results, &r->cap_results,
                                         sizeof(*x));

        if (x) {
            r->results = x;
            x[r->nr_results++] = res;
        } else {
            free(res.output);
        }
    }
    job->done = true;
    lock_release(&run->mu);
    return NULL;
}

/* Joins the events that have ended (all of them: every), in the order
 * they started. */
static void join_jobs(struct runner *run, bool every)
{
    unsigned kept = 0;

    for (unsigned i = 0; i < run->nr_jobs; i++) {
        struct job *job = run->jobs[i];
        bool done;

        lock_acquire(&run->mu);
        done = job->done;
        lock_release(&run->mu);
        if (done || every) {
            mv_clock_thread_join(run->clock, job->thread);
            free(job);
        } else {
            run->jobs[kept++] = job;
        }
    }
    run->nr_jobs = kept;
}

/* Starts ev: a thread per instance it names (or one). */
static void launch(struct runner *run, const struct scenario_event *ev)
{
    const struct scenario_guest *g = ev->guest >= 0 ? &run->sc->guests[ev->guest] : NULL;
    unsigned first = g ? g->first_instance : 0, n = g ? (g->count ? g->count : 1) : 1;

    if (ev->instance >= 0) {
        first = (unsigned)ev->instance;
        n = 1;
    }

    for (unsigned i = 0; i < n; i++) {
        struct job **jobs = grow(run->jobs, run->nr_jobs, &run->cap_jobs, sizeof(*jobs));
        struct job *job = jobs ? calloc(1, sizeof(*job)) : NULL;

        if (jobs)
            run->jobs = jobs;
        if (job) {
            *job = (struct job){ run, ev, g ? (int)(first + i) : -1, NULL, NULL, NULL, false };
            if (mv_clock_thread_start(run->clock, &job->thread, event_thread, job) == 0) {
                run->jobs[run->nr_jobs++] = job;
                continue;
            }
            free(job);
        }
        /* Said, not dropped: the run goes on without this one. */
        lock_acquire(&run->mu);
        add_failure(run, model_ms(run), g ? (int)(first + i) : -1,
                    "an event could not start (out of threads or memory)");
        lock_release(&run->mu);
    }
}

/* A guest model's crash, and its workload's failed allocations, are
 * failures on the timeline (once each). */
static void watch_guest(struct runner *run, unsigned i, const struct guest_os_status *st,
                        uint64_t t_ms)
{
    char what[224];

    if (st->state == GUEST_CRASHED && !run->crash_seen[i]) {
        run->crash_seen[i] = true;
        snprintf(what, sizeof(what), "guest %s crashed: %s", run->r->inst[i].name, st->why);
        add_failure(run, t_ms, (int)i, what);
    }
    /* Failed allocations come in runs: one line per run of them, or per 10
     * model seconds of one. */
    if (st->oom_failures > run->oom_seen[i] &&
        (!run->oom_at[i] || t_ms >= run->oom_at[i] + 10000)) {
        run->oom_at[i] = t_ms ? t_ms : 1;
        snprintf(what, sizeof(what), "guest %s: %llu allocations failed (out of memory)",
                 run->r->inst[i].name,
                 (unsigned long long)(st->oom_failures - run->oom_seen[i]));
        run->oom_seen[i] = st->oom_failures;
        add_failure(run, t_ms, (int)i, what);
    }
}

/* Frames tmem holds: the host's own figure embedded; attached, the pages
 * memvisord's tmem-list counts (compression can make frames fewer). */
static uint64_t tmem_pages(struct runner *run)
{
    struct tmem_stats ts;
    char *list;
    uint64_t pages = 0;

    if (!run->attached) {
        tmem_get_stats(run->hv->tmem, DOMID_INVALID, &ts);
        return ts.eph_frames + ts.pers_frames;
    }
    list = malloc(16384);
    if (list && tc_tmem_list(run->tc, MV_TMEM_OP_ALL_CLIENTS, true, list, 16384) >= 0)
        pages = xl_tmem_list_pages(list, -1);
    free(list);
    return pages;
}

static void sample(struct runner *run)
{
    struct scenario_report *r = run->r;
    struct scenario_sample s = { .t_ms = model_ms(run) };
    struct tc_physinfo pi;
    struct tc_dominfo *all; /* every domain: attached, memvisord may have others */
    domid_t running[SCENARIO_MAX_INSTANCES];
    bool building[SCENARIO_MAX_INSTANCES];
    uint64_t in_scenario = 0;
    long n;

    /* The calls go without the lock (attached, each is a round trip); the
     * events change only which domains run. */
    lock_acquire(&run->mu);
    for (unsigned i = 0; i < r->nr_inst; i++) {
        running[i] = r->inst[i].domid;
        building[i] = run->building[i] != 0;
    }
    lock_release(&run->mu);
    all = malloc(SAMPLE_MAX_DOMAINS * sizeof(*all));
    if (!all || tc_physinfo(run->tc, &pi)) {
        free(all);
        return;
    }
    n = tc_domain_list(run->tc, 0, all, SAMPLE_MAX_DOMAINS);
    s.tmem_pages = tmem_pages(run);
    s.claimed_pages = pi.outstanding_pages;
    s.free_pages = sat_sub(pi.free_pages, pi.outstanding_pages);
    for (unsigned i = 0; i < r->nr_inst; i++) {
        domid_t domid = running[i];
        struct tc_dominfo info;
        uint64_t tot, cache = 0, entries, target_kib;

        /* A domain still being built has no id in the report yet: it is
         * found by the name xl_create gave it. */
        if (!domid && building[i] &&
            xl_domain_named(run->xs, all, n, r->inst[i].name, true, &domid))
            continue;
        if (!domid || tc_domain_getinfo(run->tc, domid, &info))
            continue;
        if (!info.hvm || tc_domain_get_pod_target(run->tc, domid, &tot, &cache, &entries))
            cache = 0;
        /* Persistent tmem frames count in the domain's tot_pages (as in
         * Xen) and in the tmem band: held leaves them out. */
        tot = info.tot_pages;
        if (!run->attached) {
            struct tmem_stats ts;

            tmem_get_stats(run->hv->tmem, domid, &ts);
            tot = sat_sub(tot, ts.pers_frames);
        }
        s.pod_cache_pages += cache;
        s.held[i] = sat_sub(tot, cache);
        if (xl_memory_kib(run->xs, 0, domid, "target", &target_kib) == 0)
            s.target[i] = target_kib / KIB_PER_PAGE;
        in_scenario += tot;
    }
    /* Everything else in use: the hypervisor's, dom0's, other domains'. */
    s.other_pages = sat_sub(pi.total_pages - pi.free_pages, s.tmem_pages + in_scenario);
    free(all);
    lock_acquire(&run->mu);
    for (unsigned i = 0; i < r->nr_inst && run->guests; i++) {
        struct scenario_instance *in = &r->inst[i];

        if (in->domid && in->domid == running[i] &&
            guest_host_status(run->guests, in->domid, &in->last) == 0) {
            in->have_status = true;
            watch_guest(run, i, &in->last, s.t_ms);
        }
    }
    {
        struct scenario_sample *x = grow(r->samples, r->nr_samples, &r->cap_samples,
                                         sizeof(*x));

        if (x) {
            r->samples = x;
            x[r->nr_samples++] = s;
        }
    }
    lock_release(&run->mu);
}

static int host_up(struct runner *run)
{
    const struct scenario *sc = run->sc;
    struct hv_config hc;
    struct store_config scfg;
    const char *why;
    int rc;

    if (run->attached)
        return toolstack_open(run, &run->tc, &run->xs);
    hv_config_default(&hc);
    hc.ram_bytes = sc->ram_bytes;
    hc.nr_nodes = sc->nr_nodes;
    hc.nr_cpus = sc->nr_cpus;
    hc.cpu_khz = SCENARIO_CPU_KHZ;
    hc.huge_pages = sc->huge_pages;
    hc.clock = run->clock;
    hc.log.level = MV_LOG_WARN;
    rc = hv_create(&hc, &run->hv, &why);
    if (rc)
        return rc;
    store_config_default(&scfg);
    scfg.domain_exists = tc_domain_alive;
    scfg.domain_arg = run->hv;
    rc = store_create(&scfg, &run->store);
    if (!rc)
        rc = toolstack_open(run, &run->tc, &run->xs);
    if (!rc)
        rc = tc_xs_write(run->xs, 0, "/local/domain/0/name", "Domain-0");
    if (!rc)
        rc = guest_host_start(run->hv, run->store, &hc.log, &run->guests);
    return rc;
}

static void host_down(struct runner *run)
{
    if (run->attached && run->r && run->tc && run->xs) {
        /* memvisord's host goes on: the scenario's domains do not. */
        for (unsigned i = 0; i < run->r->nr_inst; i++)
            if (run->r->inst[i].domid)
                (void)!xl_destroy(run->tc, run->xs, run->r->inst[i].domid, NULL, NULL, 0);
    }
    if (run->guests)
        guest_host_stop(run->guests);
    if (run->hv && run->r) {
        heap_scrubbers_stop(run->hv->heap); /* the checkers need a quiet heap */
        run->r->check_violations = hv_check(run->hv, stderr);
        run->r->checked = true;
    }
    tc_store_close(run->xs);
    tc_close(run->tc);
    if (run->store)
        store_destroy(run->store);
    if (run->hv)
        hv_destroy(run->hv);
}

void scenario_options_default(struct scenario_options *o)
{
    memset(o, 0, sizeof(*o));
    o->seed = SCENARIO_DEFAULT_SEED;
}

static void runner_free(struct runner *run)
{
    join_jobs(run, true);
    free(run->jobs);
    squeeze_turns_fini(&run->turns);
    lock_fini(&run->mu);
    if (run->clock != mv_clock_real())
        mv_clock_destroy(run->clock);
    free(run);
}

/* The report's progress callback, with a copy of the last sample: the
 * events go on while the display draws. */
static void report_progress(struct runner *run, uint64_t now, uint64_t end_ms)
{
    struct scenario_progress p = { now, end_ms, NULL, 0, 0, run->tc, run->xs };
    struct scenario_sample last = { 0 };

    lock_acquire(&run->mu);
    if (run->r->nr_samples) {
        last = run->r->samples[run->r->nr_samples - 1];
        p.last = &last;
    }
    p.failures = run->r->nr_failures;
    p.events_done = run->events_done;
    lock_release(&run->mu);
    run->opts->progress(run->opts->arg, &p);
}

int scenario_run(const struct scenario *sc, const struct scenario_options *opts,
                 struct scenario_report **out)
{
    struct runner *run = calloc(1, sizeof(*run));
    struct scenario_report *r = calloc(1, sizeof(*r));
    uint64_t end_ms = sc->duration_s * 1000, next_sample = 0, wall_start = mv_now_ns();
    unsigned next_event = 0;
    int rc = 0;

    *out = NULL;
    if (!run || !r) {
        free(run);
        free(r);
        return -ENOMEM;
    }
    run->sc = sc;
    run->opts = opts;
    run->r = r;
    run->attached = r->attached = opts->xenstore_path != NULL;
    r->realtime = opts->realtime || run->attached;
    r->seed = opts->seed;
    r->sc = sc;
    lock_init(&run->mu, LOCK_RANK_SCENARIO, "scenario run");
    squeeze_turns_init(&run->turns);
    if (r->realtime)
        run->clock = mv_clock_real();
    else
        rc = mv_clock_virtual_create(&run->clock);
    if (rc) {
        run->clock = mv_clock_real();
        runner_free(run);
        free(r);
        return rc;
    }
    for (unsigned g = 0; g < sc->nr_guests; g++) {
        unsigned n = sc->guests[g].count ? sc->guests[g].count : 1;

        for (unsigned k = 0; k < n; k++) {
            struct scenario_instance *in = &r->inst[sc->guests[g].first_instance + k];

            in->guest = g;
            if (sc->guests[g].count)
                snprintf(in->name, sizeof(in->name), "%s%u", sc->guests[g].name, k + 1);
            else
                snprintf(in->name, sizeof(in->name), "%s", sc->guests[g].name);
        }
    }
    r->nr_inst = sc->nr_instances;
    rc = host_up(run);
    if (rc) {
        host_down(run);
        runner_free(run);
        scenario_report_free(r);
        return rc;
    }
    r->total_pages = sc->ram_bytes >> PAGE_SHIFT;
    {
        struct tc_physinfo pi;

        if (tc_physinfo(run->tc, &pi) == 0)
            r->total_pages = pi.total_pages;
    }
    run->start_ns = mv_clock_now(run->clock);
    for (;;) {
        uint64_t now = model_ms(run), due;

        while (next_event < sc->nr_events && sc->events[next_event].at_ms <= now)
            launch(run, &sc->events[next_event++]);
        if (now >= next_sample) {
            sample(run);
            next_sample += sc->sample_ms;
            if (opts->progress)
                report_progress(run, now, end_ms);
        }
        join_jobs(run, false);
        if (now >= end_ms)
            break;
        due = next_sample;
        if (next_event < sc->nr_events && sc->events[next_event].at_ms < due)
            due = sc->events[next_event].at_ms;
        if (due > end_ms)
            due = end_ms;
        mv_clock_sleep_until(run->clock, clock_at(run, due));
    }
    /* Events still running (a slow build, a squeeze) finish first. */
    join_jobs(run, true);
    lock_acquire(&run->mu);
    for (unsigned i = 0; i < r->nr_inst; i++)
        if (r->inst[i].domid && run->guests &&
            guest_host_status(run->guests, r->inst[i].domid, &r->inst[i].last) == 0)
            r->inst[i].have_status = true;
    lock_release(&run->mu);
    r->wall_ns = mv_now_ns() - wall_start;
    host_down(run);
    runner_free(run);
    *out = r;
    return 0;
}

void scenario_report_free(struct scenario_report *r)
{
    if (!r)
        return;
    for (unsigned i = 0; i < r->nr_results; i++)
        free(r->results[i].output);
    free(r->results);
    free(r->samples);
    free(r->failures);
    free(r);
}

const char *scenario_outcome_name(enum scenario_outcome o)
{
    static const char *const names[] = { "ok", "refused at once", "delayed failure",
                                         "gave up", "failed" };

    return (unsigned)o < ARRAY_SIZE(names) ? names[o] : "?";
}
