/* Unit tests: the memory scheduler (squeeze.c) against running guest
 * models (guest_host): making room by lowering targets within dynamic-min
 * and holding it with a claim; refusing at once, changing nothing, when the
 * room is not there; giving up at the deadline and restoring every target
 * when a guest's balloon does not move; and a build through it
 * (xl_create_with's make_room). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memvisor/guest_host.h"
#include "memvisor/squeeze.h"
#include "memvisor/xl.h"
#include "../support.h"

#define KIB(mib) ((uint64_t)(mib) << 10)
#define MIB_PAGES(mib) ((uint64_t)(mib) << 8)

struct fx {
    struct mv_clock *clock;    /* virtual: the test thread is a participant */
    struct hv *hv;
    struct store *store;
    struct guest_host *guests;
    struct tc_handle *tc;
    struct tc_store *xs;
    char err[256];
};

static void fx_init(struct fx *fx, uint64_t ram)
{
    struct store_config scfg;
    struct mv_logger log = { MV_LOG_WARN, NULL, NULL };

    memset(fx, 0, sizeof(*fx));
    fx->clock = test_virtual_clock();
    fx->hv = test_hv_on(ram, 1, false, fx->clock);
    store_config_default(&scfg);
    scfg.domain_exists = tc_domain_alive;
    scfg.domain_arg = fx->hv;
    if (store_create(&scfg, &fx->store) || tc_open(fx->hv, 0, true, &fx->tc) ||
        tc_store_local(fx->store, &fx->xs) ||
        guest_host_start(fx->hv, fx->store, &log, &fx->guests))
        exit(1);
}

static void fx_fini(struct fx *fx)
{
    guest_host_stop(fx->guests);
    CHECK_EQ(hv_check(fx->hv, stderr), 0u);
    tc_store_close(fx->xs);
    tc_close(fx->tc);
    store_destroy(fx->store);
    hv_destroy(fx->hv);
    mv_clock_destroy(fx->clock);
}

static uint64_t key(struct fx *fx, domid_t domid, const char *k)
{
    char path[96], buf[32];

    snprintf(path, sizeof(path), "/local/domain/%u/memory/%s", domid, k);
    return tc_xs_read(fx->xs, 0, path, buf, sizeof(buf)) ? UINT64_MAX : strtoull(buf, NULL, 10);
}

/* A fully populated HVM guest of mem MiB, running, with a dynamic-min of
 * dmin MiB in memory/target's units; balloon: its driver is loaded. */
static domid_t guest(struct fx *fx, const char *name, uint64_t mem, uint64_t dmin, bool balloon)
{
    struct xl_domain d;
    struct xl_guest g;
    struct xl_create_opts o = { .unpause = true, .guest = &g, .clock = fx->clock };
    domid_t domid = 0;
    char path[96];

    xl_domain_default(&d);
    snprintf(d.name, sizeof(d.name), "%s", name);
    d.type = XL_HVM;
    d.target_kib = d.max_kib = KIB(mem);
    xl_guest_default(&g);
    g.balloon = balloon;
    g.working_set_kib = KIB(32);
    g.second_ns = 1000000; /* 1 ms */
    CHECK_EQ(xl_create_with(fx->tc, fx->xs, &d, &o, &domid, fx->err, sizeof(fx->err)), 0);
    snprintf(path, sizeof(path), "/local/domain/%u/memory/dynamic-min", domid);
    CHECK_EQ(tc_xs_printf(fx->xs, 0, path, "%llu", (unsigned long long)KIB(dmin)), 0);
    return domid;
}

/* An empty domain that may take up to max_mib. */
static domid_t empty(struct fx *fx, uint64_t max_mib)
{
    domid_t domid = DOMID_ANY;

    CHECK_EQ(tc_domain_create(fx->tc, &domid, true, 1), 0);
    CHECK_EQ(tc_domain_setmaxmem(fx->tc, domid, KIB(max_mib)), 0);
    return domid;
}

static uint64_t outstanding(struct fx *fx)
{
    struct tc_physinfo pi;

    CHECK_EQ(tc_physinfo(fx->tc, &pi), 0);
    return pi.outstanding_pages;
}

static uint64_t unclaimed_free_mib(struct fx *fx)
{
    struct tc_physinfo pi;

    CHECK_EQ(tc_physinfo(fx->tc, &pi), 0);
    return (pi.free_pages - pi.outstanding_pages) >> 8;
}

/* Free memory covers it: a claim at once, no guest touched. */
static void test_room_free(void)
{
    struct fx fx;
    struct squeeze_config cfg = { 2000000000u, 0, 0, NULL, NULL };
    struct squeeze_result res;
    domid_t a, x;
    uint64_t ta;

    fx_init(&fx, UINT64_C(1) << 30);
    cfg.clock = fx.clock;
    a = guest(&fx, "a", 256, 64, true);
    ta = key(&fx, a, "target");
    x = empty(&fx, 512);
    CHECK_EQ(squeeze_make_room(fx.tc, fx.xs, x, MIB_PAGES(256), &cfg, &res, fx.err,
                               sizeof(fx.err)), 0);
    CHECK_EQ(res.held_pages, MIB_PAGES(256));
    CHECK_EQ(res.guests_squeezed, 0u);
    CHECK_EQ(outstanding(&fx), MIB_PAGES(256));
    CHECK_EQ(key(&fx, a, "target"), ta);
    fx_fini(&fx);
}

/* Two guests give room in proportion to what each can give, within
 * dynamic-min; the claim holds it and a populate then uses it. */
static void test_room_made(void)
{
    struct fx fx;
    struct squeeze_config cfg = { 20000000000u, 0, 0, NULL, NULL };
    struct squeeze_result res;
    domid_t a, b, x;
    uint64_t ta, tb, want, ext[512];

    fx_init(&fx, UINT64_C(1) << 30);
    cfg.clock = fx.clock;
    a = guest(&fx, "a", 384, 128, true);
    b = guest(&fx, "b", 384, 256, true);
    ta = key(&fx, a, "target");
    tb = key(&fx, b, "target");
    /* Everything free plus 160 MiB from the guests. */
    want = unclaimed_free_mib(&fx) + 160;
    x = empty(&fx, want + 16);
    CHECK_EQ(squeeze_make_room(fx.tc, fx.xs, x, MIB_PAGES(want), &cfg, &res, fx.err,
                               sizeof(fx.err)), 0);
    CHECK_EQ(res.held_pages, MIB_PAGES(want));
    CHECK_EQ(outstanding(&fx), MIB_PAGES(want));
    CHECK_EQ(res.guests_squeezed, 2u);
    CHECK(res.asked_kib >= KIB(159)); /* want was rounded down to a MiB */
    /* Within dynamic-min, and a's share (room 2x b's) is twice b's, give
     * or take the rounding to pages. */
    CHECK(key(&fx, a, "target") >= KIB(128) && key(&fx, b, "target") >= KIB(256));
    {
        uint64_t da = ta - key(&fx, a, "target"), db = tb - key(&fx, b, "target");

        CHECK(da + db == res.asked_kib);
        CHECK(da >= 2 * db - 16 && da <= 2 * db + 16);
    }
    /* The held room is the domain's: its populate succeeds in full. */
    for (uint64_t done = 0; done < MIB_PAGES(want); done += 512) {
        for (unsigned i = 0; i < 512; i++)
            ext[i] = done + i;
        CHECK_EQ(tc_populate_physmap(fx.tc, x, 512, 0, 0, ext), 512);
    }
    CHECK_EQ(outstanding(&fx), 0);
    CHECK_EQ(tc_domain_destroy(fx.tc, x), 0);
    fx_fini(&fx);
}

/* More than free memory and every guest's room: refused at once, and no
 * target, max or claim changed. */
static void test_no_room(void)
{
    struct fx fx;
    struct squeeze_config cfg = { 20000000000u, 0, 0, NULL, NULL };
    struct squeeze_result res;
    struct tc_dominfo before, after;
    domid_t a, x;
    uint64_t ta, want;

    fx_init(&fx, UINT64_C(1) << 30);
    cfg.clock = fx.clock;
    a = guest(&fx, "a", 384, 256, true);
    ta = key(&fx, a, "target");
    CHECK_EQ(tc_domain_getinfo(fx.tc, a, &before), 0);
    want = unclaimed_free_mib(&fx) + 200; /* a can give about 120 */
    x = empty(&fx, want + 16);
    CHECK_EQ(squeeze_make_room(fx.tc, fx.xs, x, MIB_PAGES(want), &cfg, &res, fx.err,
                               sizeof(fx.err)), -ENOMEM);
    CHECK(strstr(fx.err, "dynamic-min") != NULL);
    CHECK_EQ(res.guests_squeezed, 0u);
    CHECK_EQ(key(&fx, a, "target"), ta);
    CHECK_EQ(tc_domain_getinfo(fx.tc, a, &after), 0);
    CHECK_EQ(after.max_pages, before.max_pages);
    CHECK_EQ(outstanding(&fx), 0);
    fx_fini(&fx);
}

/* A guest without a balloon driver never frees what its target lost: the
 * scheduler gives up at the deadline, releases its claim and restores the
 * targets and max_pages it changed. */
static void test_give_up(void)
{
    struct fx fx;
    struct squeeze_config cfg = { 300000000u, 0, 0, NULL, NULL }; /* 0.3 s */
    struct squeeze_result res;
    struct tc_dominfo before_a, before_s, after;
    domid_t a, s, x;
    uint64_t ta, ts, want;

    fx_init(&fx, UINT64_C(1) << 30);
    cfg.clock = fx.clock;
    a = guest(&fx, "a", 256, 192, true);
    s = guest(&fx, "stuck", 384, 64, false);
    ta = key(&fx, a, "target");
    ts = key(&fx, s, "target");
    CHECK_EQ(tc_domain_getinfo(fx.tc, a, &before_a), 0);
    CHECK_EQ(tc_domain_getinfo(fx.tc, s, &before_s), 0);
    want = unclaimed_free_mib(&fx) + 200;
    x = empty(&fx, want + 16);
    CHECK_EQ(squeeze_make_room(fx.tc, fx.xs, x, MIB_PAGES(want), &cfg, &res, fx.err,
                               sizeof(fx.err)), -ETIMEDOUT);
    CHECK(res.gave_up);
    CHECK(strstr(fx.err, "targets restored") != NULL);
    CHECK_EQ(res.guests_squeezed, 2u);
    CHECK_EQ(res.held_pages, 0);
    CHECK_EQ(outstanding(&fx), 0);
    CHECK_EQ(key(&fx, a, "target"), ta);
    CHECK_EQ(key(&fx, s, "target"), ts);
    CHECK_EQ(tc_domain_getinfo(fx.tc, a, &after), 0);
    CHECK_EQ(after.max_pages, before_a.max_pages);
    CHECK_EQ(tc_domain_getinfo(fx.tc, s, &after), 0);
    CHECK_EQ(after.max_pages, before_s.max_pages);
    fx_fini(&fx);
}

static int room(void *arg, struct tc_handle *t, domid_t domid, uint64_t pages, char *err,
                size_t errlen)
{
    struct fx *fx = arg;
    struct squeeze_config cfg = { 20000000000u, 0, 0, NULL, NULL };
    struct squeeze_result res;

    cfg.clock = fx->clock;
    return squeeze_make_room(t, fx->xs, domid, pages, &cfg, &res, err, errlen);
}

/* A build through the scheduler: xl_create_with's make_room squeezes a
 * guest, and the build populates from the held claim and releases it. */
static void test_build_through(void)
{
    struct fx fx;
    struct xl_domain d;
    struct xl_create_opts o = { .make_room = room, .room_arg = &fx };
    struct tc_dominfo info;
    domid_t a, x;
    uint64_t ta, mem;

    fx_init(&fx, UINT64_C(1) << 30);
    o.clock = fx.clock;
    a = guest(&fx, "a", 512, 128, true);
    ta = key(&fx, a, "target");
    mem = unclaimed_free_mib(&fx) + 128;
    xl_domain_default(&d);
    snprintf(d.name, sizeof(d.name), "new");
    d.type = XL_HVM;
    d.target_kib = d.max_kib = KIB(mem);
    o.room_arg = &fx;
    if (xl_create_with(fx.tc, fx.xs, &d, &o, &x, fx.err, sizeof(fx.err)))
        fprintf(stderr, "  %s\n", fx.err);
    CHECK_EQ(tc_domain_getinfo(fx.tc, x, &info), 0);
    CHECK(info.tot_pages >= MIB_PAGES(mem) - MIB_PAGES(8) - 32);
    CHECK(key(&fx, a, "target") < ta && key(&fx, a, "target") >= KIB(128));
    CHECK_EQ(outstanding(&fx), 0);
    fx_fini(&fx);
}

HARNESS_MAIN("squeeze", TEST_ENTRY(test_room_free), TEST_ENTRY(test_room_made),
             TEST_ENTRY(test_no_room), TEST_ENTRY(test_give_up), TEST_ENTRY(test_build_through))
