/* Unit tests: libxl's arithmetic and build order (xl.c), and the guest
 * kernel model's behaviours (guest_os.c, balloon.c) against them: the
 * balloon following memory/target with Linux's correction, mem-set and
 * mem-max, back-off and cancel, the boot wait under PoD, the per-vnode
 * interface, self-ballooning into tmem, free page reporting and
 * deflate-on-OOM. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memvisor/guest_os.h"
#include "memvisor/xl.h"
#include "../support.h"

#define KIB(mib) ((uint64_t)(mib) << 10)

struct fx {
    struct mv_clock *clock;    /* virtual: the test thread is a participant */
    struct hv *hv;
    struct store *store;
    struct tc_handle *tc;
    struct tc_store *xs;
    char err[256];
};

static void fx_init(struct fx *fx, uint64_t ram, unsigned nodes)
{
    struct store_config scfg;

    memset(fx, 0, sizeof(*fx));
    fx->clock = test_virtual_clock();
    fx->hv = test_hv_on(ram, nodes, false, fx->clock);
    store_config_default(&scfg);
    scfg.domain_exists = tc_domain_alive;
    scfg.domain_arg = fx->hv;
    if (store_create(&scfg, &fx->store) || tc_open(fx->hv, 0, true, &fx->tc) ||
        tc_store_local(fx->store, &fx->xs))
        exit(1);
}

static void fx_fini(struct fx *fx)
{
    tc_store_close(fx->xs);
    tc_close(fx->tc);
    store_destroy(fx->store);
    hv_destroy(fx->hv);
    mv_clock_destroy(fx->clock);
}

static void hvm(struct xl_domain *d, const char *name, uint64_t mem_mib, uint64_t max_mib)
{
    xl_domain_default(d);
    snprintf(d->name, sizeof(d->name), "%s", name);
    d->target_kib = KIB(mem_mib);
    d->max_kib = KIB(max_mib);
    d->video_kib = KIB(8);
}

static void guest_cfg(struct fx *fx, struct guest_os_config *g, domid_t domid,
                      const struct xl_layout *l)
{
    guest_os_config_default(g);
    g->hv = fx->hv;
    g->store = fx->store;
    g->domid = domid;
    g->nr_ram = l->nr_ram;
    memcpy(g->ram, l->ram, sizeof(l->ram));
    for (unsigned r = 0; r < l->nr_ram; r++)
        g->nr_vnodes = l->ram[r].vnode + 1 > g->nr_vnodes ? l->ram[r].vnode + 1 : g->nr_vnodes;
    g->second_ns = 2 * 1000 * 1000; /* 2 ms: back-off of 1..32 s takes 2..64 ms */
}

/* Lays out d and builds it, unpaused; gc gets its guest's defaults. */
static bool build(struct fx *fx, const struct xl_domain *d, struct xl_layout *l, domid_t *domid,
                  struct guest_os_config *gc)
{
    if (xl_layout(d, l, fx->err, sizeof(fx->err)) ||
        xl_create(fx->tc, fx->xs, d, true, NULL, domid, fx->err, sizeof(fx->err))) {
        fprintf(stderr, "  %s: %s\n", d->name, fx->err);
        return false;
    }
    guest_cfg(fx, gc, *domid, l);
    return true;
}

/* Polls the guest every quarter of a model millisecond (of the test's
 * 2 ms second) until pred holds (true), it crashes or 10 s of the virtual
 * clock pass (false): the guests run in between, in the same order every
 * time, however fast or loaded the machine. */
#define POLL_NS 500000
#define WAIT_NS (UINT64_C(10) * 1000000000)

static bool wait_for(struct fx *fx, struct guest_os *g,
                     bool (*pred)(const struct guest_os_status *, uint64_t), uint64_t arg,
                     struct guest_os_status *st)
{
    for (uint64_t waited = 0; waited < WAIT_NS; waited += POLL_NS) {
        guest_os_status(g, st);
        if (pred(st, arg))
            return true;
        if (st->state == GUEST_CRASHED)
            return false;
        mv_clock_sleep(fx->clock, POLL_NS);
    }
    return false;
}

static bool at_current(const struct guest_os_status *st, uint64_t pages)
{
    return st->state == GUEST_RUNNING && st->current_pages == pages;
}

static bool used_is(const struct guest_os_status *st, uint64_t pages)
{
    return st->used_pages == pages;
}

/* Node 0's balloon (pages) in the high half of arg, node 1's in the low. */
static bool vnode_balloons(const struct guest_os_status *st, uint64_t arg)
{
    return st->vnode_balloon_pages[0] == arg >> 32 &&
           st->vnode_balloon_pages[1] == (arg & UINT32_MAX);
}

static bool reported_over(const struct guest_os_status *st, uint64_t pages)
{
    return st->reported_pages > pages;
}

/* The working set down to 4096 pages, the guest within `pages`. */
static bool selfballooned(const struct guest_os_status *st, uint64_t pages)
{
    return st->want_pages == 4096 && st->current_pages <= pages;
}

static bool in_state(const struct guest_os_status *st, uint64_t state)
{
    return st->state == (enum guest_os_state)state;
}

static bool balloon_in(const struct guest_os_status *st, uint64_t state)
{
    return st->balloon == (enum balloon_state)state;
}

static const char *xs(struct fx *fx, const char *fmt, unsigned a)
{
    static char buf[256];
    char path[128];

    snprintf(path, sizeof(path), fmt, a);
    if (tc_xs_read(fx->xs, 0, path, buf, sizeof(buf)))
        return "(none)";
    return buf;
}

static uint64_t tot_pages(struct fx *fx, domid_t domid)
{
    struct tc_dominfo info;

    return tc_domain_getinfo(fx->tc, domid, &info) ? 0 : info.tot_pages;
}

/* The spec's worked arithmetic (B2, A13) for an HVM guest booted
 * ballooned, and the configs libxl refuses. */
static void test_layout_arithmetic(void)
{
    struct xl_domain d;
    struct xl_layout l;
    char err[160];

    hvm(&d, "a", 512, 1024);
    REQUIRE(xl_layout(&d, &l, err, sizeof(err)) == 0);
    CHECK(l.pod);
    CHECK_EQ(l.maxmem_kib, KIB(512) + 1024);
    CHECK_EQ(l.total_pages, (KIB(1024) - KIB(8)) / 4);
    CHECK_EQ(l.pod_target_pages, (KIB(512) - KIB(8)) / 4 - 0x20);
    CHECK_EQ(l.xs_target_kib, KIB(512) - KIB(8) - 1024);
    CHECK_EQ(l.xs_static_max_kib, KIB(1024));
    CHECK_EQ(l.xs_videoram_kib, KIB(8));
    /* The physmap: below the VGA hole, above it, nothing in the hole. */
    CHECK_EQ(l.nr_ram, 2);
    CHECK_EQ(l.ram[0].gfn, 0);
    CHECK_EQ(l.ram[0].nr_pages, 0xA0);
    CHECK_EQ(l.ram[1].gfn, 0xC0);
    CHECK_EQ(l.ram[1].gfn + l.ram[1].nr_pages, l.total_pages);
    /* need_memory: 512 MiB + shadow 4 x (256 + 2048) KiB + 2048, to 2 MiB. */
    CHECK_EQ(l.need_kib, (KIB(512) + 4 * (256 + 2048) + 2048 + 2047) & ~UINT64_C(2047));

    /* memory == maxmem: no PoD, no fudge for it. */
    hvm(&d, "b", 1024, 1024);
    REQUIRE(xl_layout(&d, &l, err, sizeof(err)) == 0);
    CHECK(!l.pod);
    CHECK_EQ(l.xs_target_kib, KIB(1024) - KIB(8));

    /* 5 GiB: RAM splits around the 256 MiB MMIO hole below 4 GiB. */
    hvm(&d, "c", 5120, 5120);
    d.claim = true;
    REQUIRE(xl_layout(&d, &l, err, sizeof(err)) == 0);
    CHECK_EQ(l.nr_ram, 3);
    CHECK_EQ(l.ram[1].gfn + l.ram[1].nr_pages, (UINT64_C(4096) - 256) << 8);
    CHECK_EQ(l.ram[2].gfn, UINT64_C(1) << 20);
    CHECK_EQ(l.claim_pages, (KIB(5120) - KIB(8)) / 4 - 0x20);

    hvm(&d, "d", 2048, 1024);
    CHECK_EQ(xl_layout(&d, &l, err, sizeof(err)), -EINVAL);
    CHECK(strstr(err, "larger than maxmem") != NULL);
    hvm(&d, "e", 512, 1024);
    d.nr_vnodes = 2;
    d.vnodes[0].size_kib = d.vnodes[1].size_kib = KIB(512);
    CHECK_EQ(xl_layout(&d, &l, err, sizeof(err)), -EINVAL);
    CHECK(strstr(err, "PoD and vNUMA") != NULL);
    hvm(&d, "f", 1024, 1024);
    d.nr_vnodes = 2;
    d.vnodes[0].size_kib = d.vnodes[1].size_kib = KIB(256);
    CHECK_EQ(xl_layout(&d, &l, err, sizeof(err)), -EINVAL);
    CHECK(strstr(err, "mismatch") != NULL);
}

/* xl_create in libxl's order: the keys with libxl's values and
 * permissions, PoD set up, nothing populated but the cache; a failed
 * build leaves nothing behind. */
static void test_create_keys_and_failure(void)
{
    struct fx fx;
    struct xl_domain d;
    struct xl_layout l;
    struct tc_dominfo info;
    struct tc_physinfo pi;
    domid_t domid;
    char perms[64], uuid[37];

    fx_init(&fx, GiB(1), 1);
    hvm(&d, "vm1", 256, 512);
    REQUIRE(xl_layout(&d, &l, fx.err, sizeof(fx.err)) == 0);
    if (xl_create(fx.tc, fx.xs, &d, false, NULL, &domid, fx.err, sizeof(fx.err)))
        fprintf(stderr, "xl_create: %s\n", fx.err);
    REQUIRE(fx.err[0] == 0);
    CHECK_EQ(strtoull(xs(&fx, "/local/domain/%u/memory/target", domid), NULL, 10),
             l.xs_target_kib);
    CHECK_EQ(strtoull(xs(&fx, "/local/domain/%u/memory/static-max", domid), NULL, 10),
             KIB(512));
    CHECK_EQ(strcmp(xs(&fx, "/local/domain/%u/memory/videoram", domid), "8192"), 0);
    CHECK_EQ(strcmp(xs(&fx, "/local/domain/%u/name", domid), "vm1"), 0);
    REQUIRE(tc_domain_getinfo(fx.tc, domid, &info) == 0);
    CHECK(info.paused);
    xl_uuid_string(info.uuid, uuid);
    CHECK_EQ(strncmp(xs(&fx, "/local/domain/%u/vm", domid), "/vm/", 4), 0);
    CHECK_EQ(strcmp(xs(&fx, "/local/domain/%u/vm", domid) + 4, uuid), 0);
    /* The guest may read memory/ but not write it; data/ is its own. */
    {
        char path[64];
        size_t len;
        struct store_conn *gc;

        snprintf(path, sizeof(path), "/local/domain/%u/memory", domid);
        REQUIRE(tc_xs_read(fx.xs, 0, path, perms, sizeof(perms)) == 0);
        REQUIRE(store_conn_open(fx.store, domid, false, NULL, &gc) == 0);
        CHECK_EQ(store_write(gc, 0, "memory/target", "1", 1), -EACCES);
        CHECK_EQ(store_write(gc, 0, "data/meminfo_free", "1", 1), 0);
        CHECK_EQ(store_write(gc, 0, "control/feature-balloon", "1", 1), 0);
        CHECK_EQ(store_read(gc, 0, "memory/static-max", perms, sizeof(perms), &len), 0);
        store_conn_close(gc);
    }
    /* PoD: the cache holds the target less the VGA hole, nothing else. */
    CHECK_EQ(info.tot_pages, l.pod_target_pages);
    CHECK_EQ(info.max_pages, (KIB(256) + 1024) / 4);
    CHECK_EQ(info.outstanding_pages, 0);

    /* A claim the host cannot honour: refused at once, nothing left. */
    hvm(&d, "big", 2048, 2048);
    d.claim = true;
    CHECK_EQ(xl_create(fx.tc, fx.xs, &d, true, NULL, &domid, fx.err, sizeof(fx.err)), -ENOMEM);
    CHECK(strstr(fx.err, "cannot claim memory") != NULL);
    CHECK_EQ(strcmp(xs(&fx, "/local/domain/%u/name", domid), "(none)"), 0);
    REQUIRE(tc_physinfo(fx.tc, &pi) == 0);
    CHECK_EQ(pi.outstanding_pages, 0);
    CHECK_HV(fx.hv);
    fx_fini(&fx);
}

/* A PoD guest boots: Linux's correction (static-max less the RAM it sees),
 * the boot wait until the balloon reaches the target, then mem-set up and
 * down and mem-max, with libxl's formulas and checks. */
static void test_balloon_follows_mem_set(void)
{
    struct fx fx;
    struct xl_domain d;
    struct xl_layout l;
    struct guest_os_config gc;
    struct guest_os_status st;
    struct guest_os *g;
    struct tc_dominfo info;
    domid_t domid;
    uint64_t ram, diff;

    fx_init(&fx, GiB(1), 1);
    hvm(&d, "vm1", 128, 256);
    REQUIRE(build(&fx, &d, &l, &domid, &gc));
    gc.phases[0] = (struct guest_phase){ 0, 8192 }; /* 32 MiB of work */
    gc.nr_phases = 1;
    REQUIRE(guest_os_start(&gc, &g) == 0);
    ram = l.total_pages - l.vga_hole_pages;
    diff = KIB(256) / 4 - ram; /* = (V + hole) in pages */
    CHECK(wait_for(&fx, g, at_current, l.xs_target_kib / 4 - diff, &st));
    CHECK_EQ(st.target_diff, (int64_t)diff);
    CHECK(wait_for(&fx, g, used_is, 8192, &st));
    /* Under PoD the guest stays within its cache: never crashed. */
    REQUIRE(tc_domain_getinfo(fx.tc, domid, &info) == 0);
    CHECK(info.tot_pages <= l.pod_target_pages);

    /* xl mem-set 200m: target = 200 MiB - videoram; maxmem and the PoD
     * target follow; the guest balloons up by the difference. */
    REQUIRE(xl_mem_set(fx.tc, fx.xs, domid, (int64_t)KIB(200), false, true, fx.err,
                       sizeof(fx.err)) == 0);
    CHECK_EQ(strtoull(xs(&fx, "/local/domain/%u/memory/target", domid), NULL, 10),
             KIB(200) - KIB(8));
    REQUIRE(tc_domain_getinfo(fx.tc, domid, &info) == 0);
    CHECK_EQ(info.max_pages, (KIB(200) + 1024) / 4);
    CHECK(wait_for(&fx, g, at_current, (KIB(200) - KIB(8)) / 4 - diff, &st));
    /* ... and down again. */
    REQUIRE(xl_mem_set(fx.tc, fx.xs, domid, (int64_t)KIB(100), false, true, fx.err,
                       sizeof(fx.err)) == 0);
    CHECK(wait_for(&fx, g, at_current, (KIB(100) - KIB(8)) / 4 - diff, &st));
    CHECK(tot_pages(&fx, domid) <= (KIB(100) + 1024) / 4);
    CHECK_EQ(strtoull(xs(&fx, "/local/domain/%u/memory/target", domid), NULL, 10),
             KIB(100) - KIB(8));

    /* libxl's refusals, which change nothing. */
    CHECK_EQ(xl_mem_set(fx.tc, fx.xs, domid, (int64_t)KIB(300), false, true, fx.err,
                        sizeof(fx.err)), -EINVAL);
    CHECK(strstr(fx.err, "memory_static_max") != NULL);
    CHECK_EQ(xl_mem_max(fx.tc, fx.xs, domid, KIB(64), fx.err, sizeof(fx.err)), -EINVAL);
    CHECK(strstr(fx.err, "memory_dynamic_max") != NULL);
    REQUIRE(xl_mem_max(fx.tc, fx.xs, domid, KIB(192), fx.err, sizeof(fx.err)) == 0);
    CHECK_EQ(strtoull(xs(&fx, "/local/domain/%u/memory/static-max", domid), NULL, 10),
             KIB(192));
    REQUIRE(tc_domain_getinfo(fx.tc, domid, &info) == 0);
    CHECK_EQ(info.max_pages, (KIB(192) + 1024) / 4);
    CHECK_EQ(st.verify_failures, 0);
    guest_os_stop(g);
    CHECK_HV(fx.hv);
    fx_fini(&fx);
}

/* A target the host cannot give: populate fails, the driver backs off
 * (EAGAIN), then cancels after four retries; a new target restarts it. */
static void test_backoff_and_cancel(void)
{
    struct fx fx;
    struct xl_domain d;
    struct xl_layout l;
    struct guest_os_config gc;
    struct guest_os_status st;
    struct guest_os *g;
    domid_t domid, hog;
    uint64_t diff;

    /* Not PoD (Xen would refuse a PoD target it cannot fill): built at
     * 256 MiB, ballooned down to 64. */
    fx_init(&fx, MiB(512), 1);
    hvm(&d, "vm1", 256, 256);
    REQUIRE(build(&fx, &d, &l, &domid, &gc));
    REQUIRE(guest_os_start(&gc, &g) == 0);
    diff = KIB(256) / 4 - (l.total_pages - l.vga_hole_pages);
    REQUIRE(xl_mem_set(fx.tc, fx.xs, domid, (int64_t)KIB(64), false, true, fx.err,
                       sizeof(fx.err)) == 0);
    CHECK(wait_for(&fx, g, at_current, (KIB(64) - KIB(8)) / 4 - diff, &st));
    /* Another domain takes all but a little of the host. */
    hog = DOMID_ANY;
    REQUIRE(tc_domain_create(fx.tc, &hog, true, 1) == 0);
    REQUIRE(tc_domain_setmaxmem(fx.tc, hog, KIB(1024)) == 0);
    {
        struct tc_physinfo pi;
        uint64_t ext[512];
        uint64_t gfn = 0;

        REQUIRE(tc_physinfo(fx.tc, &pi) == 0);
        for (uint64_t left = pi.free_pages - 1024; left;) {
            unsigned k = (unsigned)min_u64(left, 512);

            for (unsigned i = 0; i < k; i++)
                ext[i] = gfn++;
            REQUIRE(tc_populate_physmap(fx.tc, hog, k, 0, 0, ext) == k);
            left -= k;
        }
    }
    REQUIRE(xl_mem_set(fx.tc, fx.xs, domid, (int64_t)KIB(200), false, true, fx.err,
                       sizeof(fx.err)) == 0);
    CHECK(wait_for(&fx, g, balloon_in, BALLOON_EAGAIN, &st));
    CHECK(wait_for(&fx, g, balloon_in, BALLOON_CANCELLED, &st));
    CHECK(st.current_pages < (KIB(200) - KIB(8)) / 4 - diff);
    /* Room again, and a new target: the driver starts over and gets there. */
    REQUIRE(tc_domain_destroy(fx.tc, hog) == 0);
    REQUIRE(xl_mem_set(fx.tc, fx.xs, domid, (int64_t)KIB(150), false, true, fx.err,
                       sizeof(fx.err)) == 0);
    CHECK(wait_for(&fx, g, at_current, (KIB(150) - KIB(8)) / 4 - diff, &st));
    CHECK_EQ(st.balloon, BALLOON_DONE);
    guest_os_stop(g);
    CHECK_HV(fx.hv);
    fx_fini(&fx);
}

/* Under PoD a guest without a balloon driver that touches all its RAM
 * runs the cache dry and is crashed; with the driver it waits at boot and
 * lives. */
static void test_pod_boot_needs_the_balloon(void)
{
    struct fx fx;
    struct xl_domain d;
    struct xl_layout l;
    struct guest_os_config gc;
    struct guest_os_status st;
    struct guest_os *g;
    domid_t domid;

    fx_init(&fx, GiB(1), 1);
    hvm(&d, "noballoon", 64, 256);
    REQUIRE(build(&fx, &d, &l, &domid, &gc));
    gc.balloon = false;
    gc.swap = false;
    gc.phases[0] = (struct guest_phase){ 0, l.total_pages - l.vga_hole_pages };
    gc.nr_phases = 1;
    REQUIRE(guest_os_start(&gc, &g) == 0);
    CHECK(!wait_for(&fx, g, in_state, GUEST_STOPPED, &st));
    CHECK_EQ(st.state, GUEST_CRASHED);
    CHECK(strstr(st.why, "crashed by the hypervisor") != NULL);
    guest_os_stop(g);

    hvm(&d, "withballoon", 64, 256);
    REQUIRE(build(&fx, &d, &l, &domid, &gc));
    gc.boot_scrub = true; /* Windows-like: zeroes all of RAM first */
    gc.second_ns = 20 * 1000 * 1000; /* the 180 s boot wait: 3.6 s, for sanitizers */
    gc.phases[0] = (struct guest_phase){ 0, 4096 };
    gc.nr_phases = 1;
    REQUIRE(guest_os_start(&gc, &g) == 0);
    CHECK(wait_for(&fx, g, in_state, GUEST_RUNNING, &st));
    CHECK(wait_for(&fx, g, at_current, st.target_pages, &st));
    CHECK(tot_pages(&fx, domid) <= l.pod_target_pages);
    guest_os_stop(g);
    CHECK_HV(fx.hv);
    fx_fini(&fx);
}

/* The per-vnode interface on a two-node host: the guest offers it, the
 * toolstack answers with balloon sizes per node and removes
 * memory/target, the guest reaches each size and reports it, and the
 * pages it gave back came off the right node. */
static void test_vnode_ballooning(void)
{
    struct fx fx;
    struct xl_domain d;
    struct xl_layout l;
    struct guest_os_config gc;
    struct guest_os_status st;
    struct guest_os *g;
    struct tc_node_memory before[2], after[2];
    uint64_t held[2];
    domid_t domid;
    char path[96];

    fx_init(&fx, GiB(1), 2);
    hvm(&d, "numa", 256, 256);
    d.nr_vnodes = 2;
    d.vnodes[0] = (struct xl_vnode){ KIB(128), 0 };
    d.vnodes[1] = (struct xl_vnode){ KIB(128), 1 };
    REQUIRE(build(&fx, &d, &l, &domid, &gc));
    gc.balloon_vnode = true;
    REQUIRE(guest_os_start(&gc, &g) == 0);
    CHECK(wait_for(&fx, g, in_state, GUEST_RUNNING, &st));
    CHECK_EQ(strcmp(xs(&fx, "/local/domain/%u/control/feature-balloon-vnode", domid), "1"), 0);
    /* At boot it followed memory/target: Linux's correction counts the
     * video RAM that memory/target already left out a second time, so it
     * ballooned 8 MiB, from the highest node. */
    CHECK(wait_for(&fx, g, at_current, st.target_pages, &st));
    REQUIRE(tc_numainfo(fx.tc, before, 2) == 2);
    held[0] = st.vnode_balloon_pages[0];
    held[1] = st.vnode_balloon_pages[1];
    CHECK_EQ(held[0] + held[1], KIB(8) / 4);

    /* 16 MiB in node 0's balloon, 48 MiB in node 1's. */
    snprintf(path, sizeof(path), "/local/domain/%u/memory/vnode0/target-balloon-size", domid);
    REQUIRE(tc_xs_printf(fx.xs, 0, path, "%llu", (unsigned long long)KIB(16)) == 0);
    snprintf(path, sizeof(path), "/local/domain/%u/memory/vnode1/target-balloon-size", domid);
    REQUIRE(tc_xs_printf(fx.xs, 0, path, "%llu", (unsigned long long)KIB(48)) == 0);
    snprintf(path, sizeof(path), "/local/domain/%u/memory/target", domid);
    REQUIRE(tc_xs_rm(fx.xs, 0, path) == 0);
    CHECK(wait_for(&fx, g, vnode_balloons, (KIB(16) / 4) << 32 | KIB(48) / 4, &st));
    CHECK(st.vnode_mode);
    CHECK_EQ(st.vnode_balloon_pages[0], KIB(16) / 4);
    CHECK_EQ(st.vnode_balloon_pages[1], KIB(48) / 4);
    for (unsigned i = 0; i < 500; i++) {
        if (!strcmp(xs(&fx, "/local/domain/%u/data/vnode1/balloon-size", domid), "49152"))
            break;
        mv_clock_sleep(fx.clock, POLL_NS);
    }
    CHECK_EQ(strcmp(xs(&fx, "/local/domain/%u/data/vnode0/balloon-size", domid), "16384"), 0);
    CHECK_EQ(strcmp(xs(&fx, "/local/domain/%u/data/vnode1/balloon-size", domid), "49152"), 0);
    REQUIRE(tc_numainfo(fx.tc, after, 2) == 2);
    CHECK_EQ(after[0].free_bytes, before[0].free_bytes + MiB(16) - (held[0] << PAGE_SHIFT));
    CHECK_EQ(after[1].free_bytes, before[1].free_bytes + MiB(48) - (held[1] << PAGE_SHIFT));

    /* Deflating node 1 repopulates on node 1. */
    snprintf(path, sizeof(path), "/local/domain/%u/memory/vnode1/target-balloon-size", domid);
    REQUIRE(tc_xs_printf(fx.xs, 0, path, "0") == 0);
    CHECK(wait_for(&fx, g, vnode_balloons, (KIB(16) / 4) << 32, &st));
    CHECK_EQ(st.vnode_balloon_pages[1], 0);
    REQUIRE(tc_numainfo(fx.tc, after, 2) == 2);
    CHECK_EQ(after[1].free_bytes, before[1].free_bytes - (held[1] << PAGE_SHIFT));
    guest_os_stop(g);
    CHECK_HV(fx.hv);
    fx_fini(&fx);
}

/* Self-ballooning: the guest's own target follows its working set plus a
 * reserve, down by an eighth of the gap per interval; the page cache it
 * gives up goes into tmem, and later reads hit there. */
static void test_selfballoon_into_tmem(void)
{
    struct fx fx;
    struct xl_domain d;
    struct xl_layout l;
    struct guest_os_config gc;
    struct guest_os_status st;
    struct guest_os *g;
    domid_t domid;

    fx_init(&fx, GiB(1), 1);
    hvm(&d, "self", 256, 256);
    REQUIRE(build(&fx, &d, &l, &domid, &gc));
    gc.selfballoon = true;
    gc.selfballoon_reserve_pages = 1024;
    gc.cache_pages = 4096;
    gc.file_pages = 8192;
    gc.phases[0] = (struct guest_phase){ 0, 16384 };
    gc.phases[1] = (struct guest_phase){ 100, 4096 };
    gc.nr_phases = 2;
    REQUIRE(guest_os_start(&gc, &g) == 0);
    CHECK(wait_for(&fx, g, selfballooned, 4096 + 1024 + 64, &st));
    CHECK_EQ(st.want_pages, 4096);
    CHECK(st.current_pages <= 4096 + 1024 + 64);
    CHECK(st.current_pages >= 4096 + 1024 - 64);
    CHECK(st.cache_pages < 4096);
    CHECK(st.cache_tmem_hits > 0);
    CHECK_EQ(st.verify_failures, 0);
    CHECK(tot_pages(&fx, domid) <= 4096 + 1024 + 512);
    guest_os_stop(g);
    CHECK_HV(fx.hv);
    fx_fini(&fx);
}

/* virtio-balloon's free page reporting hands free pages back while the
 * guest keeps them; deflate-on-OOM gives a guest ballooned too far the
 * pages its workload needs. */
static void test_reporting_and_deflate_on_oom(void)
{
    struct fx fx;
    struct xl_domain d;
    struct xl_layout l;
    struct guest_os_config gc;
    struct guest_os_status st;
    struct guest_os *g;
    domid_t domid;

    fx_init(&fx, GiB(1), 1);
    hvm(&d, "virtio", 128, 128);
    REQUIRE(build(&fx, &d, &l, &domid, &gc));
    gc.free_page_reporting = true;
    gc.deflate_on_oom = true;
    gc.swap = false;
    gc.phases[0] = (struct guest_phase){ 0, 4096 };
    gc.phases[1] = (struct guest_phase){ 200, 24576 }; /* 96 MiB, later */
    gc.nr_phases = 2;
    REQUIRE(guest_os_start(&gc, &g) == 0);
    CHECK(wait_for(&fx, g, reported_over, 8192, &st));
    CHECK(st.reported_pages > 8192);
    CHECK(tot_pages(&fx, domid) < l.total_pages - 8192);
    /* The balloon takes 64 MiB; the workload then wants 96 MiB of the 120
     * the guest sees: reporting's pages come back first, then OOM
     * deflates. */
    REQUIRE(xl_mem_set(fx.tc, fx.xs, domid, (int64_t)KIB(64), false, false, fx.err,
                       sizeof(fx.err)) == 0);
    CHECK(wait_for(&fx, g, used_is, 24576, &st));
    CHECK_EQ(st.used_pages, 24576);
    CHECK(st.oom_deflates > 0);
    CHECK_EQ(st.verify_failures, 0);
    guest_os_stop(g);
    CHECK_HV(fx.hv);
    fx_fini(&fx);
}

HARNESS_MAIN("guests", TEST_ENTRY(test_layout_arithmetic),
             TEST_ENTRY(test_create_keys_and_failure), TEST_ENTRY(test_balloon_follows_mem_set),
             TEST_ENTRY(test_backoff_and_cancel), TEST_ENTRY(test_pod_boot_needs_the_balloon),
             TEST_ENTRY(test_vnode_ballooning), TEST_ENTRY(test_selfballoon_into_tmem),
             TEST_ENTRY(test_reporting_and_deflate_on_oom))
