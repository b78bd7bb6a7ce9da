/* The shipped scenarios (scenarios/NAME.scn) on the virtual clock: each tells
 * the story the README gives it, and two runs give the same JSON report to
 * the byte, outside its "wall" line.  Each report is also written to
 * $MV_REPRO_DIR (when set) for test_reproducible.sh, which compares the
 * builds' reports and runs them again beside a CPU hog. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../scenario_support.h"

#define MIB_PAGES(mib) ((uint64_t)(mib) << 8)

struct shipped {
    struct scenario sc;
    struct scenario_report *r;
};

static void must(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "  %s\n", what);
        exit(1);
    }
}

/* The report as JSON, less its wall-clock line: what must not vary. */
static char *json_without_wall(const struct scenario_report *r)
{
    char *text = NULL, *wall, *end;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    must(f != NULL, "open_memstream failed");
    CHECK_EQ(scenario_report_json(r, f), 0);
    fclose(f);
    wall = strstr(text, "\n  \"wall\": ");
    must(wall != NULL, "no wall line in the report");
    end = strchr(wall + 1, '\n');
    must(end != NULL, "the wall line does not end");
    memmove(wall, end, strlen(end) + 1);
    return text;
}

static void save(const char *name, const char *json)
{
    const char *dir = getenv("MV_REPRO_DIR");
    char path[512];
    FILE *f;

    if (!dir)
        return;
    snprintf(path, sizeof(path), "%s/%s.json", dir, name);
    f = fopen(path, "w");
    REQUIRE(f != NULL);
    fputs(json, f);
    CHECK_EQ(fclose(f), 0);
}

/* Runs scenarios/NAME.scn twice; the first report stays in x->r. */
static void run_twice(const char *name, struct shipped *x)
{
    char file[512], err[512];
    struct scenario_options o;
    struct scenario_report *again;
    char *first, *second;

    snprintf(file, sizeof(file), MV_SOURCE_DIR "/scenarios/%s.scn", name);
    REQUIRE(scenario_load(file, &x->sc, err, sizeof(err)) == 0);
    scenario_options_default(&o);
    REQUIRE(scenario_run(&x->sc, &o, &x->r) == 0);
    REQUIRE(scenario_run(&x->sc, &o, &again) == 0);
    first = json_without_wall(x->r);
    second = json_without_wall(again);
    if (strcmp(first, second))
        fprintf(stderr, "  %s: two runs gave different reports\n", name);
    CHECK_EQ(strcmp(first, second), 0);
    save(name, first);
    free(first);
    free(second);
    scenario_report_free(again);
    CHECK(x->r->checked);
    CHECK_EQ(x->r->check_violations, 0u);
}

static void done(struct shipped *x)
{
    scenario_report_free(x->r);
}

static int instance(const struct scenario_report *r, const char *name)
{
    for (unsigned i = 0; i < r->nr_inst; i++)
        if (!strcmp(r->inst[i].name, name))
            return (int)i;
    fprintf(stderr, "  no instance %s\n", name);
    exit(1);
}

/* The result of the event `verb` on instance `name` (the first one). */
static const struct scenario_result *result(const struct scenario_report *r,
                                            enum scenario_verb verb, const char *name)
{
    int i = name ? instance(r, name) : -1;

    for (unsigned k = 0; k < r->nr_results; k++)
        if (r->results[k].ev->verb == verb && r->results[k].instance == i)
            return &r->results[k];
    fprintf(stderr, "  no %s %s\n", scenario_verb_name(verb), name ? name : "");
    exit(1);
}

/* Pages populated by creates that then failed. */
static uint64_t thrown_away(const struct scenario_report *r)
{
    uint64_t sum = 0;

    for (unsigned k = 0; k < r->nr_results; k++)
        if (r->results[k].ev->verb == SV_CREATE && r->results[k].rc)
            sum += r->results[k].populated_pages;
    return sum;
}

/* The sample at model second t_s (they are taken at exact times). */
static const struct scenario_sample *at(const struct scenario_report *r, double t_s)
{
    uint64_t t_ms = (uint64_t)(t_s * 1000 + 0.5);

    for (unsigned k = 0; k < r->nr_samples; k++)
        if (r->samples[k].t_ms == t_ms)
            return &r->samples[k];
    fprintf(stderr, "  no sample at %.1f s\n", t_s);
    exit(1);
}

static void test_race_without_claims(void)
{
    struct shipped *x = malloc(sizeof(*x));

    run_twice("race-without-claims", x);
    CHECK(x->r->counts[SO_DELAYED] >= 1);
    CHECK_EQ(result(x->r, SV_CREATE, "big")->outcome, SO_DELAYED);
    CHECK(thrown_away(x->r) > MIB_PAGES(256));
    CHECK(!x->r->inst[instance(x->r, "big")].ever_created);
    check_samples_add_up(x->r);
    done(x);
    free(x);
}

static void test_race_with_claims(void)
{
    struct shipped *x = malloc(sizeof(*x));
    int big;

    run_twice("race-with-claims", x);
    big = instance(x->r, "big");
    CHECK_EQ(x->r->counts[SO_DELAYED], 0u);
    CHECK_EQ(x->r->counts[SO_REFUSED], 0u);
    CHECK_EQ(x->r->nr_failures, 0u);
    CHECK_EQ(thrown_away(x->r), 0u);
    CHECK_EQ(result(x->r, SV_CREATE, "big")->outcome, SO_OK);
    CHECK(x->r->inst[big].ever_created);
    /* Built, and running with all of its memory until it is destroyed. */
    CHECK(at(x->r, 59)->held[big] >= MIB_PAGES(1000));
    CHECK_EQ(result(x->r, SV_DESTROY, "big")->outcome, SO_OK);
    check_samples_add_up(x->r);
    done(x);
    free(x);
}

static void test_pod_boot_storm(void)
{
    struct shipped *x = malloc(sizeof(*x));
    unsigned short_of_memory = 0;

    run_twice("pod-boot-storm", x);
    for (unsigned i = 1; i <= 8; i++) {
        char name[16];

        snprintf(name, sizeof(name), "wave%u", i);
        CHECK_EQ(result(x->r, SV_CREATE, name)->outcome, SO_OK);
    }
    /* Two of the second wave are refused at set_pod_target... */
    CHECK_EQ(x->r->counts[SO_REFUSED], 2u);
    CHECK_EQ(x->r->counts[SO_DELAYED], 0u);
    for (unsigned i = 1; i <= 4; i++) {
        char name[16];
        const struct scenario_result *c;

        snprintf(name, sizeof(name), "late%u", i);
        c = result(x->r, SV_CREATE, name);
        if (c->outcome == SO_REFUSED)
            CHECK(strstr(c->message, "Could not set PoD target") != NULL);
        else
            CHECK_EQ(c->outcome, SO_OK);
    }
    /* ... and two run short of memory later. */
    for (unsigned f = 0; f < x->r->nr_failures; f++)
        short_of_memory += strstr(x->r->failures[f].what, "allocations failed") != NULL &&
                           x->r->failures[f].t_ms > 20000;
    CHECK(short_of_memory >= 2);
    check_samples_add_up(x->r);
    done(x);
    free(x);
}

static void test_tmem_soak(void)
{
    struct shipped *x = malloc(sizeof(*x));
    uint64_t before_build, after_build = UINT64_MAX, frozen;
    const struct scenario_report *r;

    run_twice("tmem-soak", x);
    r = x->r;
    CHECK_EQ(r->nr_failures, 0u);
    CHECK_EQ(result(r, SV_CREATE, "plain1")->outcome, SO_OK);
    CHECK_EQ(result(r, SV_CREATE, "plain2")->outcome, SO_OK);
    /* Soaked up the idle memory... */
    before_build = at(r, 100)->tmem_pages;
    CHECK(before_build >= MIB_PAGES(128));
    /* ... handed it back as plain1's build needed it... */
    for (double t = 101; t <= 110; t += 1)
        after_build = min_u64(after_build, at(r, t)->tmem_pages);
    CHECK(after_build < before_build / 2);
    /* ... took nothing while frozen, and soaked up again after. */
    frozen = at(r, 141)->tmem_pages;
    for (double t = 141; t <= 150; t += 1)
        CHECK(at(r, t)->tmem_pages <= frozen);
    CHECK(at(r, 220)->tmem_pages > after_build + MIB_PAGES(64));
    check_samples_add_up(r);
    done(x);
    free(x);
}

static void test_numa_balloon(void)
{
    struct shipped *x = malloc(sizeof(*x));
    const struct guest_os_status *st;
    int numa;

    run_twice("numa-balloon", x);
    numa = instance(x->r, "numa");
    CHECK_EQ(x->r->nr_failures, 0u);
    CHECK_EQ(result(x->r, SV_VNODE_BALLOON, "numa")->outcome, SO_OK);
    /* Node 1 emptied made room for the domain pinned there. */
    CHECK_EQ(result(x->r, SV_CREATE, "n1")->outcome, SO_OK);
    CHECK(x->r->inst[instance(x->r, "n1")].ever_created);
    /* Then the balloon moved to node 0. */
    st = &x->r->inst[numa].last;
    CHECK(x->r->inst[numa].have_status && st->vnode_mode);
    CHECK_EQ(st->vnode_balloon_pages[0], MIB_PAGES(320));
    CHECK_EQ(st->vnode_balloon_pages[1], 0u);
    check_samples_add_up(x->r);
    done(x);
    free(x);
}

static void test_squeeze(void)
{
    struct shipped *x = malloc(sizeof(*x));
    const struct scenario_report *r;
    const char *const squeezed[] = { "web", "db", "stuck" };

    run_twice("squeeze", x);
    r = x->r;
    /* app built by making room, big refused at once, late given up. */
    CHECK_EQ(result(r, SV_CREATE, "app")->outcome, SO_OK);
    CHECK(at(r, 20)->target[instance(r, "web")] < at(r, 10)->target[instance(r, "web")]);
    CHECK_EQ(result(r, SV_CREATE, "big")->outcome, SO_REFUSED);
    CHECK(strstr(result(r, SV_CREATE, "big")->message, "cannot make room") != NULL);
    CHECK_EQ(result(r, SV_CREATE, "late")->outcome, SO_GAVE_UP);
    CHECK_EQ(r->counts[SO_OK], 7u);
    CHECK_EQ(r->counts[SO_REFUSED], 1u);
    CHECK_EQ(r->counts[SO_GAVE_UP], 1u);
    CHECK_EQ(r->counts[SO_DELAYED], 0u);
    /* Every target lowered for late is back once it gave up. */
    for (unsigned i = 0; i < ARRAY_SIZE(squeezed); i++) {
        int k = instance(r, squeezed[i]);

        CHECK(at(r, 80)->target[k] < at(r, 75)->target[k]);
        CHECK_EQ(at(r, 98)->target[k], at(r, 75)->target[k]);
    }
    check_samples_add_up(r);
    done(x);
    free(x);
}

HARNESS_MAIN("shipped scenarios", TEST_ENTRY(test_race_without_claims),
             TEST_ENTRY(test_race_with_claims), TEST_ENTRY(test_pod_boot_storm),
             TEST_ENTRY(test_tmem_soak), TEST_ENTRY(test_numa_balloon),
             TEST_ENTRY(test_squeeze))
