/* Unit tests: scenario files (every error names the file and line), a
 * run on an embedded host with its report, and the shipped delayed-failure
 * race with claims: whatever the timing, no build fails late. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../scenario_support.h"

static char dir[64];

static int run_scenario(const struct scenario *sc, struct scenario_report **r)
{
    struct scenario_options o;

    scenario_options_default(&o);
    return scenario_run(sc, &o, r);
}

static void write_file(const char *name, const char *text)
{
    char path[128];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    CHECK(f != NULL);
    fputs(text, f);
    fclose(f);
}

static const char small_cfg[] = "name = \"small\"\ntype = \"hvm\"\nmemory = 128\nmaxmem = 128\n"
                                "guest_working_set = 32\n";

/* Loads text as a scenario: its error, or "" if it loaded. */
static const char *load(const char *text, struct scenario *sc)
{
    static char err[512];
    char path[128];

    write_file("t.scn", text);
    snprintf(path, sizeof(path), "%s/t.scn", dir);
    err[0] = '\0';
    if (scenario_load(path, sc, err, sizeof(err)))
        CHECK(err[0] != '\0');
    return err;
}

static void expect_error(const char *text, unsigned line, const char *what)
{
    struct scenario *sc = malloc(sizeof(*sc));
    const char *err = load(text, sc);
    char where[64];

    snprintf(where, sizeof(where), "t.scn:%u: ", line);
    if (!strstr(err, where) || !strstr(err, what))
        fprintf(stderr, "  got '%s', wanted line %u and '%s'\n", err, line, what);
    CHECK(strstr(err, where) != NULL);
    CHECK(strstr(err, what) != NULL);
    free(sc);
}

static void test_errors(void)
{
    write_file("small.cfg", small_cfg);
    expect_error("host memory=1G\nfrobnicate\n", 2, "unknown directive 'frobnicate'");
    expect_error("host memory=lots\n", 1, "'lots' is not a size");
    expect_error("host memory=16M\n", 1, "not between 64M and 1T");
    expect_error("host memory=1G nodes=9\n", 1, "nodes");
    expect_error("host memory=1G\nhost memory=1G\n", 2, "given twice");
    expect_error("time duration=10\n", 2, "no host line");
    expect_error("host memory=1G\nguest a\n", 2, "needs a name and config");
    expect_error("host memory=1G\nguest a config=missing.cfg\n", 2, "cannot be used");
    expect_error("host memory=1G\nguest a config=small.cfg\nguest a config=small.cfg\n", 3,
                 "already defined");
    expect_error("host memory=1G\nguest a config=small.cfg colour=blue\n", 2,
                 "unknown setting 'colour=blue'");
    expect_error("host memory=1G\nguest a config=small.cfg workload=\"5:10\"\n", 2,
                 "workload");
    expect_error("host memory=1G\nat 1 create a\n", 2, "no guest 'a'");
    expect_error("host memory=1G\nguest a config=small.cfg\nat 5 create a\nat 4 destroy a\n",
                 4, "time order");
    expect_error("host memory=1G\ntime duration=10\nguest a config=small.cfg\nat 11 create a\n",
                 4, "after the end");
    expect_error("host memory=1G\nguest a config=small.cfg\nat 1 explode a\n", 3,
                 "unknown verb 'explode'");
    expect_error("host memory=1G\nguest a config=small.cfg\nat 1 mem-set a\n", 3, "one SIZE");
    expect_error("host memory=1G\nguest a config=small.cfg\nat 1 vnode-balloon a 1 2\n", 3,
                 "vnodes");
    expect_error("host memory=1G\nguest a config=small.cfg\nat 1 list a\n", 3,
                 "unexpected 'a'");
    expect_error("host memory=1G\ntitle \"open\n", 2, "quote");
    expect_error("host memory=1G\ntime second=fast\n", 2, "not a duration");
    expect_error("host memory=1G\npolicy claims=maybe\n", 2, "not on, off or config");
}

static void test_parse(void)
{
    struct scenario *sc = malloc(sizeof(*sc));
    const char *err;

    write_file("small.cfg", small_cfg);
    err = load("# comment\ntitle  A \"small\" test\nhost memory=1G nodes=2\n"
               "time second=5ms duration=30 sample=0.5\n"
               "policy claims=on scheduler=on squeeze-timeout=7 build-rate=64M\n"
               "guest a config=small.cfg count=3 workload=\"0:16 10:48\" dynamic-min=64\n"
               "at 1 create a\nat 2.5 mem-set a2 96   # one instance\nat 3 tmem-freeze\n"
               "at 4 tmem-thaw a\nat 5 list\n",
               sc);
    CHECK_EQ(strcmp(err, ""), 0);
    CHECK_EQ(strcmp(sc->title, "A small test"), 0);
    CHECK_EQ(sc->ram_bytes, UINT64_C(1) << 30);
    CHECK_EQ(sc->nr_nodes, 2u);
    CHECK_EQ(sc->second_ns, 5000000u);
    CHECK_EQ(sc->duration_s, 30u);
    CHECK_EQ(sc->sample_ms, 500u);
    CHECK(sc->claims == SC_CLAIMS_ON && sc->scheduler);
    CHECK_EQ(sc->squeeze_timeout_s, 7u);
    CHECK_EQ(sc->build_rate_bytes, UINT64_C(64) << 20);
    CHECK_EQ(sc->nr_guests, 1u);
    CHECK_EQ(sc->nr_instances, 3u);
    CHECK_EQ(sc->guests[0].dom.target_kib, UINT64_C(128) << 10);
    CHECK_EQ(sc->guests[0].dynamic_min_kib, UINT64_C(64) << 10);
    CHECK_EQ(strcmp(sc->guests[0].guest.workload, "0:16384 10:49152"), 0);
    CHECK_EQ(sc->nr_events, 5u);
    CHECK_EQ(sc->events[1].at_ms, 2500u);
    CHECK_EQ(sc->events[1].instance, 1);
    CHECK_EQ(sc->events[1].kib, 96 << 10);
    CHECK_EQ(sc->events[2].guest, -1);
    CHECK_EQ(sc->events[3].guest, 0);
    CHECK_EQ(sc->events[3].instance, -1);
    CHECK_EQ(sc->events[4].line, 11u);
    free(sc);
}

/* A small run: every event does what it says, the views print, the
 * samples add up to the host, and the reports write. */
static void test_run(void)
{
    struct scenario *sc = malloc(sizeof(*sc));
    struct scenario_report *r;
    FILE *f;
    char *text = NULL;
    size_t len = 0;
    bool listed = false;

    write_file("small.cfg", small_cfg);
    CHECK_EQ(strcmp(load("host memory=512M\ntime second=100ms duration=18 sample=0.5\n"
                         "guest s config=small.cfg count=2\n"
                         "at 0 create s\nat 8 mem-set s1 64\nat 10 list\nat 11 claims\n"
                         "at 11 tmem-list\nat 12 destroy s2\nat 13 info\n",
                         sc),
                    ""),
             0);
    CHECK_EQ(run_scenario(sc, &r), 0);
    CHECK_EQ(r->check_violations, 0u);
    CHECK_EQ(r->nr_failures, 0u);
    CHECK_EQ(r->counts[SO_OK], 8u);
    CHECK(r->nr_samples >= 20);
    CHECK(r->inst[0].domid != 0 && r->inst[1].domid == 0);
    CHECK(r->inst[0].have_status && r->inst[0].last.state == GUEST_RUNNING);
    /* mem-set 64: the guest follows, with Linux's correction for video. */
    CHECK(r->inst[0].last.current_pages <= 64 * 256);
    for (unsigned i = 0; i < r->nr_results; i++)
        if (r->results[i].ev->verb == SV_LIST) {
            CHECK(strstr(r->results[i].output, "s1") != NULL);
            CHECK(strstr(r->results[i].output, "s2") != NULL);
            listed = true;
        }
    CHECK(listed);
    check_samples_add_up(r);
    f = open_memstream(&text, &len);
    CHECK_EQ(scenario_report_html(r, f), 0);
    CHECK_EQ(scenario_report_json(r, f), 0);
    CHECK_EQ(scenario_report_text(r, f), 0);
    fclose(f);
    CHECK(strstr(text, "<svg class=\"chart\" id=\"memory\"") != NULL);
    CHECK(strstr(text, "\"counts\": {\"ok\": 8") != NULL);
    free(text);
    scenario_report_free(r);
    free(sc);
}

/* The shipped race with claims in real time: whatever the machine makes
 * of the timing, the claim makes the big build succeed or fail at once,
 * never late. */
static void test_race_with_claims(void)
{
    struct scenario *sc = malloc(sizeof(*sc));
    struct scenario_report *r;
    char err[512];

    struct scenario_options o;

    CHECK_EQ(scenario_load(MV_SOURCE_DIR "/scenarios/race-with-claims.scn", sc, err,
                           sizeof(err)), 0);
    scenario_options_default(&o);
    o.realtime = true;
    CHECK_EQ(scenario_run(sc, &o, &r), 0);
    CHECK_EQ(r->counts[SO_DELAYED], 0u);
    CHECK_EQ(r->check_violations, 0u);
    scenario_report_free(r);
    free(sc);
}

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/mv-scenario-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
}

static void cleanup(void)
{
    char path[128];

    snprintf(path, sizeof(path), "%s/t.scn", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/small.cfg", dir);
    unlink(path);
    rmdir(dir);
}

static void test_all(void)
{
    setup();
    test_errors();
    test_parse();
    test_run();
    cleanup();
}

HARNESS_MAIN("scenario", TEST_ENTRY(test_all), TEST_ENTRY(test_race_with_claims))
