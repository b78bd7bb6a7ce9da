/* Unit tests: the buddy heap (allocation, merging, zones, nodes, scrubbing
 * on allocation, offlining), with the checker after every step. */
#include "../harness.h"
#include "memvisor/heap.h"

struct fixture {
    struct machine *m;
    struct heap *h;
    struct fault_injector fault;
};

static void fixture_init(struct fixture *fx, uint64_t ram, unsigned nodes)
{
    struct machine_config mcfg = { ram, nodes, false };
    struct heap_config hcfg = { CLAIM_GATE_HEAD, false };

    fault_init(&fx->fault);
    if (machine_create(&mcfg, &fx->m, NULL) || heap_create(fx->m, &hcfg, &fx->fault, &fx->h)) {
        fprintf(stderr, "cannot build a test heap\n");
        exit(1);
    }
}

static void fixture_fini(struct fixture *fx)
{
    heap_destroy(fx->h);
    machine_destroy(fx->m);
}

#define CHECK_HEAP(fx) CHECK_EQ(heap_check((fx)->h, stderr), 0)

static uint64_t free_pages(struct fixture *fx)
{
    struct heap_totals t;

    heap_get_totals(fx->h, &t);
    return t.free_pages;
}

static void test_boot_state(void)
{
    struct fixture fx;
    struct heap_totals t;

    fixture_init(&fx, 64 << 20, 1);
    heap_get_totals(fx.h, &t);
    /* Every frame but frame 0 is free and clean. */
    CHECK_EQ(t.total_pages, (64 << 20) / PAGE_SIZE - 1);
    CHECK_EQ(t.free_pages, t.total_pages);
    CHECK_EQ(t.outstanding_pages, 0);
    CHECK_EQ(t.scrub_pages, 0);
    CHECK_HEAP(&fx);
    fixture_fini(&fx);
}

static void test_every_order(void)
{
    struct fixture fx;

    fixture_init(&fx, UINT64_C(2) << 30, 1);
    for (unsigned order = 0; order <= MAX_ORDER; order++) {
        uint64_t before = free_pages(&fx);
        mfn_t mfn;

        REQUIRE(heap_alloc_pages(fx.h, order, 0, NULL, &mfn) == 0);
        CHECK(is_aligned_u64(mfn_x(mfn), order));
        CHECK_EQ(free_pages(&fx), before - (UINT64_C(1) << order));
        CHECK_EQ(frame_state(&fx.m->frames[mfn_x(mfn)]), FRAME_INUSE);
        CHECK_EQ(frame_state(&fx.m->frames[mfn_x(mfn) + (UINT64_C(1) << order) - 1]), FRAME_INUSE);
        CHECK_HEAP(&fx);
        heap_free_pages(fx.h, mfn, order, false);
        CHECK_EQ(free_pages(&fx), before);
        CHECK_HEAP(&fx);
    }
    CHECK_EQ(heap_alloc_pages(fx.h, MAX_ORDER + 1, 0, NULL, &(mfn_t){ 0 }), -EINVAL);
    fixture_fini(&fx);
}

/* The allocator splits a larger buddy and hands out the top of it. */
static void test_split_gives_highest_block(void)
{
    struct fixture fx;
    mfn_t a, b;

    fixture_init(&fx, 64 << 20, 1);
    REQUIRE(heap_alloc_pages(fx.h, 0, 0, NULL, &a) == 0);
    CHECK_EQ(mfn_x(a), fx.m->nr_frames - 1);
    REQUIRE(heap_alloc_pages(fx.h, 0, 0, NULL, &b) == 0);
    CHECK_EQ(mfn_x(b), fx.m->nr_frames - 2);
    heap_free_pages(fx.h, a, 0, false);
    heap_free_pages(fx.h, b, 0, false);
    CHECK_HEAP(&fx);
    fixture_fini(&fx);
}

static void test_exhaustion_and_merge(void)
{
    struct fixture fx;
    uint64_t total, n = 0;
    mfn_t *mfns, big;

    fixture_init(&fx, 32 << 20, 1);
    total = free_pages(&fx);
    mfns = calloc(total, sizeof(*mfns));
    REQUIRE(mfns);
    while (heap_alloc_pages(fx.h, 0, 0, NULL, &mfns[n]) == 0)
        n++;
    CHECK_EQ(n, total);
    CHECK_EQ(free_pages(&fx), 0);
    CHECK_EQ(heap_alloc_pages(fx.h, 0, 0, NULL, &big), -ENOMEM);
    CHECK_HEAP(&fx);
    /* Free in a scattered order; everything must merge back. */
    for (uint64_t i = 0; i < n; i += 2)
        heap_free_pages(fx.h, mfns[i], 0, false);
    CHECK_HEAP(&fx);
    for (uint64_t i = 1; i < n; i += 2)
        heap_free_pages(fx.h, mfns[i], 0, false);
    CHECK_EQ(free_pages(&fx), total);
    CHECK_HEAP(&fx);
    /* The largest block is whole again: 32 MiB = order 13 at 4096. */
    CHECK_EQ(heap_alloc_pages(fx.h, 12, 0, NULL, &big), 0);
    heap_free_pages(fx.h, big, 12, false);
    free(mfns);
    fixture_fini(&fx);
}

static void test_address_width(void)
{
    struct fixture fx;
    mfn_t mfn;

    fixture_init(&fx, 64 << 20, 1);
    /* 20 address bits: below 1 MiB, i.e. MFN < 256. */
    for (int i = 0; i < 100; i++) {
        REQUIRE(heap_alloc_pages(fx.h, 0, MEMF_bits(20), NULL, &mfn) == 0);
        CHECK(mfn_x(mfn) < 256);
    }
    /* A 2 MiB block cannot lie below 1 MiB. */
    CHECK_EQ(heap_alloc_pages(fx.h, SUPERPAGE_ORDER, MEMF_bits(20), NULL, &mfn), -ENOMEM);
    REQUIRE(heap_alloc_pages(fx.h, 4, MEMF_bits(20), NULL, &mfn) == 0);
    CHECK(mfn_x(mfn) + 16 <= 256);
    CHECK_HEAP(&fx);
    fixture_fini(&fx);
}

static void test_nodes(void)
{
    struct fixture fx;
    uint64_t node1_pages, n = 0;
    mfn_t mfn;

    fixture_init(&fx, 64 << 20, 2);
    node1_pages = fx.m->node[1].end_mfn - fx.m->node[1].start_mfn;
    /* Exact node 1 until it is full. */
    while (heap_alloc_pages(fx.h, 0, MEMF_node(1) | MEMF_exact_node, NULL, &mfn) == 0) {
        CHECK_EQ(machine_mfn_node(fx.m, mfn), 1);
        n++;
    }
    CHECK_EQ(n, node1_pages);
    /* A preferred (not exact) node falls back to node 0. */
    REQUIRE(heap_alloc_pages(fx.h, 0, MEMF_node(1), NULL, &mfn) == 0);
    CHECK_EQ(machine_mfn_node(fx.m, mfn), 0);
    /* A node that does not exist is refused. */
    CHECK_EQ(heap_alloc_pages(fx.h, 0, MEMF_node(5), NULL, &mfn), -EINVAL);
    CHECK_HEAP(&fx);
    fixture_fini(&fx);
}

/* Anonymous allocations interleave over nodes. */
static void test_round_robin(void)
{
    struct fixture fx;
    unsigned on_node[2] = { 0, 0 };
    mfn_t mfn;

    fixture_init(&fx, 64 << 20, 2);
    for (int i = 0; i < 64; i++) {
        REQUIRE(heap_alloc_pages(fx.h, 0, 0, NULL, &mfn) == 0);
        on_node[machine_mfn_node(fx.m, mfn)]++;
    }
    CHECK_EQ(on_node[0], 32);
    CHECK_EQ(on_node[1], 32);
    fixture_fini(&fx);
}

static void fill(struct fixture *fx, mfn_t mfn, unsigned order, uint8_t byte)
{
    memset(machine_frame_bytes(fx->m, mfn), byte, PAGE_SIZE << order);
}

/* Clean blocks go first; dirty ones are scrubbed before they are handed
 * out, unless the caller asks for no scrub. */
static void test_clean_first_and_scrub_on_alloc(void)
{
    struct fixture fx;
    mfn_t blocks[32], x, y, got;
    unsigned n = 0;

    fixture_init(&fx, 64 << 20, 1);
    /* Take every 2 MiB block. */
    while (n < 32 && heap_alloc_pages(fx.h, SUPERPAGE_ORDER, 0, NULL, &blocks[n]) == 0)
        n++;
    REQUIRE(n >= 8);
    x = blocks[1];
    y = blocks[4]; /* not x's buddy */
    fill(&fx, x, SUPERPAGE_ORDER, 0xc2);
    fill(&fx, y, SUPERPAGE_ORDER, 0x3c);
    heap_free_pages(fx.h, x, SUPERPAGE_ORDER, true);   /* dirty */
    heap_free_pages(fx.h, y, SUPERPAGE_ORDER, false);  /* the freer vouches: clean */
    CHECK_EQ(heap_scrub_pending(fx.h), 512);
    CHECK_HEAP(&fx);

    REQUIRE(heap_alloc_pages(fx.h, SUPERPAGE_ORDER, 0, NULL, &got) == 0);
    CHECK_EQ(mfn_x(got), mfn_x(y)); /* the clean one first */
    REQUIRE(heap_alloc_pages(fx.h, SUPERPAGE_ORDER, 0, NULL, &got) == 0);
    CHECK_EQ(mfn_x(got), mfn_x(x));
    CHECK(pages_are_zero(machine_frame_bytes(fx.m, got), 512)); /* scrubbed */
    CHECK_EQ(heap_scrub_pending(fx.h), 0);
    CHECK_HEAP(&fx);

    /* With MEMF_no_scrub the caller gets the bytes as they were. */
    fill(&fx, got, SUPERPAGE_ORDER, 0x77);
    heap_free_pages(fx.h, got, SUPERPAGE_ORDER, true);
    REQUIRE(heap_alloc_pages(fx.h, SUPERPAGE_ORDER, MEMF_no_scrub, NULL, &got) == 0);
    CHECK_EQ(mfn_x(got), mfn_x(x));
    CHECK(!pages_are_zero(machine_frame_bytes(fx.m, got), 512));
    CHECK_EQ(fx.m->frames[mfn_x(got)].need_scrub, 0);
    CHECK_EQ(heap_scrub_pending(fx.h), 0);
    CHECK_HEAP(&fx);
    fixture_fini(&fx);
}

/* Merging a clean lower half with a dirty upper half keeps first_dirty
 * pointing into the upper half; scrubbing cleans exactly that. */
static void test_merge_first_dirty(void)
{
    struct fixture fx;
    mfn_t upper, lower, whole;

    fixture_init(&fx, 64 << 20, 1);
    REQUIRE(heap_alloc_pages(fx.h, SUPERPAGE_ORDER, 0, NULL, &upper) == 0);
    REQUIRE(heap_alloc_pages(fx.h, SUPERPAGE_ORDER, 0, NULL, &lower) == 0);
    CHECK_EQ(mfn_x(upper), mfn_x(lower) + 512);
    fill(&fx, upper, SUPERPAGE_ORDER, 0xee);
    heap_free_pages(fx.h, upper, SUPERPAGE_ORDER, true);
    heap_free_pages(fx.h, lower, SUPERPAGE_ORDER, false);
    CHECK_HEAP(&fx); /* the checker verifies first_dirty against every page */
    CHECK_EQ(heap_scrub_pending(fx.h), 512);
    heap_scrub_all(fx.h);
    CHECK_EQ(heap_scrub_pending(fx.h), 0);
    CHECK(pages_are_zero(machine_frame_bytes(fx.m, upper), 512));
    CHECK_HEAP(&fx);
    /* And it is one clean 4 MiB block again. */
    REQUIRE(heap_alloc_pages(fx.h, SUPERPAGE_ORDER + 1, 0, NULL, &whole) == 0);
    CHECK_EQ(mfn_x(whole), mfn_x(lower));
    fixture_fini(&fx);
}

static void test_offline_free_page(void)
{
    struct fixture fx;
    uint64_t before, target = 1000, n = 0;
    uint32_t status;
    mfn_t mfn;

    fixture_init(&fx, 16 << 20, 1);
    before = free_pages(&fx);
    CHECK_EQ(heap_offline_page(fx.h, _mfn(target), false, &status), 0);
    CHECK_EQ(status, OFFLINE_RESULT_OFFLINED);
    CHECK_EQ(free_pages(&fx), before - 1);
    CHECK_HEAP(&fx);
    CHECK_EQ(heap_query_page_offline(fx.h, _mfn(target), &status), 0);
    CHECK_EQ(status, OFFLINE_STATUS_OFFLINED);
    /* Everything else can be allocated; never the offlined frame. */
    while (heap_alloc_pages(fx.h, 0, 0, NULL, &mfn) == 0) {
        CHECK(mfn_x(mfn) != target);
        n++;
    }
    CHECK_EQ(n, before - 1);
    CHECK_EQ(heap_online_page(fx.h, _mfn(target), &status), 0);
    CHECK_EQ(free_pages(&fx), 1);
    REQUIRE(heap_alloc_pages(fx.h, 0, 0, NULL, &mfn) == 0);
    CHECK_EQ(mfn_x(mfn), target);
    CHECK(pages_are_zero(machine_frame_bytes(fx.m, mfn), 1));
    fixture_fini(&fx);
}

static void test_offline_in_use_page(void)
{
    struct fixture fx;
    uint64_t before;
    uint32_t status;
    mfn_t mfn;

    fixture_init(&fx, 16 << 20, 1);
    before = free_pages(&fx);
    REQUIRE(heap_alloc_pages(fx.h, 4, 0, NULL, &mfn) == 0);
    CHECK_EQ(heap_offline_page(fx.h, mfn_add(mfn, 3), false, &status), 0);
    CHECK(status & OFFLINE_RESULT_PENDING);
    CHECK(status & OFFLINE_RESULT_ANONYMOUS);
    CHECK_EQ(heap_query_page_offline(fx.h, mfn_add(mfn, 3), &status), 0);
    CHECK_EQ(status, OFFLINE_STATUS_OFFLINE_PENDING);
    /* Freed: 15 pages come back, the pending one is offlined. */
    heap_free_pages(fx.h, mfn, 4, true);
    CHECK_EQ(free_pages(&fx), before - 1);
    CHECK_EQ(heap_query_page_offline(fx.h, mfn_add(mfn, 3), &status), 0);
    CHECK_EQ(status, OFFLINE_STATUS_OFFLINED);
    CHECK_HEAP(&fx);
    /* Cancelling a pending offline. */
    REQUIRE(heap_alloc_pages(fx.h, 0, 0, NULL, &mfn) == 0);
    CHECK_EQ(heap_offline_page(fx.h, mfn, false, &status), 0);
    CHECK_EQ(heap_online_page(fx.h, mfn, &status), 0);
    heap_free_pages(fx.h, mfn, 0, false);
    CHECK_EQ(free_pages(&fx), before - 1);
    CHECK_HEAP(&fx);
    fixture_fini(&fx);
}

static void test_broken_and_bad_frames(void)
{
    struct fixture fx;
    uint64_t before;
    uint32_t status;

    fixture_init(&fx, 16 << 20, 1);
    before = free_pages(&fx);
    CHECK_EQ(heap_offline_page(fx.h, _mfn(77), true, &status), 0);
    CHECK(status & OFFLINE_RESULT_BROKEN);
    CHECK_EQ(heap_online_page(fx.h, _mfn(77), &status), -EINVAL);
    CHECK(status & OFFLINE_RESULT_BROKEN);
    CHECK_EQ(free_pages(&fx), before - 1);
    CHECK_EQ(heap_query_page_offline(fx.h, _mfn(77), &status), 0);
    CHECK_EQ(status, OFFLINE_STATUS_OFFLINED | OFFLINE_STATUS_BROKEN);
    /* The hypervisor's own frame, and frames that do not exist. */
    CHECK_EQ(heap_offline_page(fx.h, _mfn(0), false, &status), -EPERM);
    CHECK_EQ(heap_offline_page(fx.h, _mfn(fx.m->nr_frames), false, &status), -EINVAL);
    CHECK_EQ(heap_online_page(fx.h, _mfn(UINT64_MAX), &status), -EINVAL);
    CHECK_EQ(heap_query_page_offline(fx.h, _mfn(fx.m->nr_frames + 5), &status), -EINVAL);
    CHECK_EQ(free_pages(&fx), before - 1);
    CHECK_HEAP(&fx);
    fixture_fini(&fx);
}

static void test_fault_injected_alloc(void)
{
    struct fixture fx;
    uint64_t before;
    mfn_t mfn;

    fixture_init(&fx, 16 << 20, 1);
    before = free_pages(&fx);
    fault_arm(&fx.fault, 1, false);
    CHECK_EQ(heap_alloc_pages(fx.h, 0, 0, NULL, &mfn), -ENOMEM);
    CHECK_EQ(free_pages(&fx), before);
    CHECK_EQ(heap_alloc_pages(fx.h, 0, 0, NULL, &mfn), 0);
    heap_free_pages(fx.h, mfn, 0, false);
    CHECK_HEAP(&fx);
    fixture_fini(&fx);
}

HARNESS_MAIN("heap", TEST_ENTRY(test_boot_state), TEST_ENTRY(test_every_order),
             TEST_ENTRY(test_split_gives_highest_block), TEST_ENTRY(test_exhaustion_and_merge),
             TEST_ENTRY(test_address_width), TEST_ENTRY(test_nodes),
             TEST_ENTRY(test_round_robin), TEST_ENTRY(test_clean_first_and_scrub_on_alloc),
             TEST_ENTRY(test_merge_first_dirty), TEST_ENTRY(test_offline_free_page),
             TEST_ENTRY(test_offline_in_use_page), TEST_ENTRY(test_broken_and_bad_frames),
             TEST_ENTRY(test_fault_injected_alloc))
