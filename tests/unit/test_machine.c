/* Unit tests: the machine (RAM, frame table, NUMA layout, page primitives). */
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../harness.h"
#include "memvisor/machine.h"

static void test_frame_table_size(void)
{
    CHECK_EQ(sizeof(struct frame), 32);
}

static void test_config_validation(void)
{
    static const struct { uint64_t ram; unsigned nodes; int rc; } cases[] = {
        { 64 << 20, 1, 0 },
        { 64 << 20, 4, 0 },
        { 8 << 20, 1, -EINVAL },                  /* below 16 MiB */
        { (64 << 20) + 4096, 1, -EINVAL },        /* not a multiple of 2 MiB */
        { 64 << 20, 0, -EINVAL },
        { 64 << 20, 65, -EINVAL },
        { 64 << 20, 9, -EINVAL },                 /* nodes under 8 MiB */
        { UINT64_C(1) << 45, 1, -EINVAL },        /* beyond 32-bit frame numbers */
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct machine_config cfg = { cases[i].ram, cases[i].nodes, false };
        struct machine *m = NULL;
        const char *why = NULL;
        int rc = machine_create(&cfg, &m, &why);

        CHECK_EQ(rc, cases[i].rc);
        if (rc)
            CHECK(why != NULL);
        machine_destroy(m);
    }
}

static void test_numa_layout(void)
{
    struct machine_config cfg = { UINT64_C(3) << 30, 4, false };
    struct machine *m;

    REQUIRE(machine_create(&cfg, &m, NULL) == 0);
    CHECK_EQ(m->nr_frames, (UINT64_C(3) << 30) >> PAGE_SHIFT);
    CHECK_EQ(m->node[0].start_mfn, 0);
    for (unsigned n = 0; n < 4; n++) {
        CHECK(is_aligned_u64(m->node[n].start_mfn, SUPERPAGE_ORDER));
        if (n > 0)
            CHECK_EQ(m->node[n].start_mfn, m->node[n - 1].end_mfn);
        CHECK_EQ(machine_mfn_node(m, _mfn(m->node[n].start_mfn)), n);
        CHECK_EQ(machine_mfn_node(m, _mfn(m->node[n].end_mfn - 1)), n);
    }
    CHECK_EQ(m->node[3].end_mfn, m->nr_frames);
    /* Frame 0 belongs to the hypervisor. */
    CHECK(frame_state_bits(&m->frames[0]) & FRAME_RESERVED);
    /* An untouched entry reads as a free, clean frame. */
    CHECK_EQ(frame_state(&m->frames[1000]), FRAME_FREE);
    CHECK_EQ(m->frames[1000].need_scrub, 0);
    machine_destroy(m);
}

#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif

/* A large sparse host costs nothing until used.  (ThreadSanitizer leaves
 * less address space: 64 GiB there, 1 TiB elsewhere.) */
static void test_sparse_host(void)
{
#ifdef UNDER_TSAN
    const unsigned shift = 36;
#else
    const unsigned shift = 40;
#endif
    struct machine_config cfg = { UINT64_C(1) << shift, 2, false };
    struct machine *m;

    REQUIRE(machine_create(&cfg, &m, NULL) == 0);
    CHECK_EQ(m->nr_frames, UINT64_C(1) << (shift - PAGE_SHIFT));
    CHECK(pages_are_zero(machine_frame_bytes(m, _mfn(m->nr_frames - 1)), 1));
    machine_destroy(m);
}

/* Whether the page at p is this process's own (pagemap: present and
 * exclusively mapped), not the shared zero page a read maps. */
static bool own_page(const void *p)
{
    int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    uint64_t entry = 0;

    CHECK(fd >= 0); /* a failure here fails the test, whatever is returned */
    CHECK(pread(fd, &entry, sizeof(entry), (off_t)((uintptr_t)p / PAGE_SIZE * sizeof(entry))) ==
          (ssize_t)sizeof(entry));
    if (fd >= 0)
        close(fd);
    return (entry >> 63 & 1) && (entry >> 56 & 1);
}

/* What checkers' walks skip: frame-table pages and RAM never written. */
static void test_untouched_memory(void)
{
    struct machine_config cfg = { UINT64_C(1) << 30, 1, false };
    const uint64_t per = MACHINE_FRAMES_PER_TABLE_PAGE, far = 1000 * per + 7;
    struct machine *m;
    uint64_t *used;

    REQUIRE(machine_create(&cfg, &m, NULL) == 0);
    machine_frame(m, _mfn(far))->order = 3;
    used = machine_used_frame_map(m);
    REQUIRE(used != NULL); /* /proc/self/pagemap is there on Linux */
    CHECK(machine_frame_maybe_used(used, 0)); /* frame 0: reserved at creation */
    CHECK(machine_frame_maybe_used(used, far));
    CHECK(machine_frame_maybe_used(used, far - 7));
    CHECK(!machine_frame_maybe_used(used, far + per));
    CHECK(!machine_frame_maybe_used(used, far - per));
    CHECK(!machine_frame_maybe_used(used, m->nr_frames - 1));
    CHECK_EQ(machine_next_table_page(far), 1001 * per);
    free(used);
    CHECK(machine_frame_maybe_used(NULL, 12345)); /* unknown: used */

    CHECK(machine_frames_are_zero(m, _mfn(4096), 600));
    ((uint8_t *)machine_frame_bytes(m, _mfn(4096 + 513)))[100] = 1;
    CHECK(!machine_frames_are_zero(m, _mfn(4096), 600));
    CHECK(machine_frames_are_zero(m, _mfn(4096), 513));
    ((uint8_t *)machine_frame_bytes(m, _mfn(4096 + 513)))[100] = 0;
    CHECK(machine_frames_are_zero(m, _mfn(4096), 600)); /* backed, and read */

    /* A scrub clears what was written and leaves the rest unbacked. */
    {
        uint8_t *a = machine_frame_bytes(m, _mfn(20000));
        unsigned char resident = 1;

        memset(a + 100, 0xab, 8);
        machine_clear_frames(m, _mfn(20000 - 600), 1200);
        CHECK(pages_are_zero(a, 1));
        CHECK_EQ(mincore(machine_frame_bytes(m, _mfn(20000 + 5)), PAGE_SIZE, &resident), 0);
        CHECK_EQ(resident & 1, 0);
        CHECK_EQ(mincore(machine_frame_bytes(m, _mfn(20000 - 600)), PAGE_SIZE, &resident), 0);
        CHECK_EQ(resident & 1, 0);
    }
    /* ... and pages only read (they map the kernel's zero page) as they
     * are: a write of zeros would give each a page of its own. */
    {
        uint8_t *a = machine_frame_bytes(m, _mfn(40000));

        for (unsigned i = 0; i < 600; i++)
            CHECK(pages_are_zero(a + (size_t)i * PAGE_SIZE, 1));
        a[10 * PAGE_SIZE + 9] = 0x5a; /* a 2 MiB block away from 500..599 */
        machine_clear_frames(m, _mfn(40000), 600);
        CHECK(pages_are_zero(a + 10 * PAGE_SIZE, 1));
        CHECK(own_page(a + 10 * PAGE_SIZE));
        CHECK(!own_page(a + 500 * PAGE_SIZE));
        CHECK(!own_page(a + 599 * PAGE_SIZE));
    }
    machine_destroy(m);
}

static void test_page_primitives(void)
{
    struct machine_config cfg = { 16 << 20, 1, false };
    struct machine *m;
    uint8_t *a, *b;

    REQUIRE(machine_create(&cfg, &m, NULL) == 0);
    a = machine_frame_bytes(m, _mfn(10));
    b = machine_frame_bytes(m, _mfn(11));
    CHECK(pages_are_zero(a, 2));
    /* A single non-zero byte anywhere is found. */
    for (size_t off = 0; off < 2 * PAGE_SIZE; off += 61) {
        a[off] = 0x80;
        CHECK(!pages_are_zero(a, 2));
        a[off] = 0;
    }
    a[2 * PAGE_SIZE - 1] = 1;
    CHECK(!pages_are_zero(a, 2));
    CHECK(pages_are_zero(a, 1));
    memset(a, 0xa5, 2 * PAGE_SIZE);
    pages_clear(a, 2);
    CHECK(pages_are_zero(a, 2));
    memset(a, 0x5a, PAGE_SIZE);
    pages_clear_cached(a, 1);
    CHECK(pages_are_zero(a, 1));
    for (size_t i = 0; i < PAGE_SIZE; i++)
        a[i] = (uint8_t)(i * 7);
    page_copy(b, a);
    CHECK(memcmp(a, b, PAGE_SIZE) == 0);
    machine_destroy(m);
}

HARNESS_MAIN("machine", TEST_ENTRY(test_frame_table_size), TEST_ENTRY(test_config_validation),
             TEST_ENTRY(test_numa_layout), TEST_ENTRY(test_sparse_host),
             TEST_ENTRY(test_untouched_memory), TEST_ENTRY(test_page_primitives))
