/*
 * Scenarios: how many model seconds a wall second buys.
 *
 *  - scenario_<name>_model_s_per_wall_s: each shipped scenario on the
 *    virtual clock, beside the same scenario with --realtime (a model
 *    second there is the scenario's `second` of wall time, whatever the
 *    machine does in it);
 *  - scenario_1000_guests_wall_s and its peak RSS: a generated scenario of
 *    1000 small PoD guests (PVH), each touching a working set of a few MiB, on a
 *    sparse 1 TiB host for one model hour, with builds, mem-sets and
 *    destroys spread over it; beside the model hour itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "memvisor/scenario.h"
#include "bench_util.h"

#define NR_GUESTS 1000

/* Runs file; the wall seconds it took, its report's delayed failures and
 * failures in *r_out (freed by the caller). */
static double run(const char *file, bool realtime, struct scenario_report **r_out)
{
    static struct scenario sc;
    struct scenario_options o;
    char err[512];
    uint64_t t0;

    if (scenario_load(file, &sc, err, sizeof(err))) {
        fprintf(stderr, "bench_scenario: %s\n", err);
        exit(1);
    }
    scenario_options_default(&o);
    o.realtime = realtime;
    t0 = mv_now_ns();
    if (scenario_run(&sc, &o, r_out)) {
        fprintf(stderr, "bench_scenario: %s: cannot make the host\n", file);
        exit(1);
    }
    return (double)(mv_now_ns() - t0) / 1e9;
}

static void shipped(const char *name)
{
    char file[512], metric[128];
    struct scenario_report *r;
    double virt, real;
    uint64_t duration;

    snprintf(file, sizeof(file), MV_SOURCE_DIR "/scenarios/%s.scn", name);
    virt = run(file, false, &r);
    duration = r->sc->duration_s;
    scenario_report_free(r);
    real = run(file, true, &r);
    scenario_report_free(r);
    snprintf(metric, sizeof(metric), "scenario_%s_model_s_per_wall_s", name);
    for (char *p = metric; *p; p++)
        if (*p == '-')
            *p = '_';
    bench_emit(metric, (double)duration / virt, "model s/s", "realtime_model_s_per_wall_s",
               (double)duration / real, NULL);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    if (!f || fputs(text, f) < 0 || fclose(f)) {
        fprintf(stderr, "bench_scenario: cannot write %s\n", path);
        exit(1);
    }
}

struct timed_line {
    double at;
    unsigned order;
    char text[48];
};

static int by_time(const void *a, const void *b)
{
    const struct timed_line *x = a, *y = b;

    return x->at < y->at ? -1 : x->at > y->at ? 1 : (int)x->order - (int)y->order;
}

/* 1000 guests over a model hour: created over the first half hour, half
 * of them ballooned up and down, a fifth destroyed and built again. */
static void thousand_guests(void)
{
    static struct timed_line ev[4 * NR_GUESTS];
    unsigned n = 0;
    char dir[] = "/tmp/mv-bench-scenario-XXXXXX", path[256];
    struct scenario_report *r;
    struct rusage ru;
    FILE *f;
    double wall;

    if (!mkdtemp(dir))
        exit(1);
    snprintf(path, sizeof(path), "%s/small.cfg", dir);
    write_text(path, "name = \"small\"\ntype = \"pvh\"\nmemory = 16\nmaxmem = 32\n"
                     "guest_workload = \"0:1 600:3 2400:2\"\n");
    snprintf(path, sizeof(path), "%s/thousand.scn", dir);
    f = fopen(path, "w");
    if (!f)
        exit(1);
    fprintf(f, "title 1000 small PoD guests for a model hour\nhost memory=1T nodes=2 huge-pages=off\n"
               "time duration=3600 sample=60\npolicy claims=on build-rate=64M\n"
               "guest vm config=small.cfg count=%u\n", NR_GUESTS);
    for (unsigned i = 1; i <= NR_GUESTS; i++) {
        ev[n] = (struct timed_line){ 1.8 * (i - 1), n, "" };
        snprintf(ev[n++].text, sizeof(ev->text), "create vm%u", i);
        if (i % 2) {
            ev[n] = (struct timed_line){ 1800 + 0.6 * i, n, "" };
            snprintf(ev[n++].text, sizeof(ev->text), "mem-set vm%u 24", i);
            ev[n] = (struct timed_line){ 2400 + 0.6 * i, n, "" };
            snprintf(ev[n++].text, sizeof(ev->text), "mem-set vm%u 12", i);
        }
        if (i % 5 == 1) {
            ev[n] = (struct timed_line){ 3000 + 0.5 * i, n, "" };
            snprintf(ev[n++].text, sizeof(ev->text), "destroy vm%u", i);
            ev[n] = (struct timed_line){ 3300 + 0.25 * i, n, "" };
            snprintf(ev[n++].text, sizeof(ev->text), "create vm%u", i);
        }
    }
    /* A scenario's events are in time order. */
    qsort(ev, n, sizeof(*ev), by_time);
    for (unsigned k = 0; k < n; k++)
        fprintf(f, "at %.2f %s\n", ev[k].at, ev[k].text);
    if (fclose(f))
        exit(1);
    wall = run(path, false, &r);
    getrusage(RUSAGE_SELF, &ru);
    bench_emit("scenario_1000_guests_wall_s", wall, "s", "model_hour_s", 3600, NULL);
    bench_emit("scenario_1000_guests_peak_rss_mib", (double)ru.ru_maxrss / 1024, "MiB", NULL, 0,
               NULL);
    bench_emit("scenario_1000_guests_events_ok", r->counts[SO_OK], "events", "events",
               r->sc->nr_events, NULL);
    scenario_report_free(r);
    unlink(path);
    snprintf(path, sizeof(path), "%s/small.cfg", dir);
    unlink(path);
    rmdir(dir);
}

/* With "1000": only the generated scenario. */
int main(int argc, char **argv)
{
    static const char *const names[] = { "race-without-claims", "race-with-claims",
                                         "pod-boot-storm", "tmem-soak", "numa-balloon",
                                         "squeeze" };

    for (unsigned i = 0; i < ARRAY_SIZE(names) && !(argc > 1 && !strcmp(argv[1], "1000")); i++)
        shipped(names[i]);
    thousand_guests();
    return 0;
}
