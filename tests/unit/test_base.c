/* Unit tests: base (parsing, errno names, ranked locks, fault injection). */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../harness.h"
#include "memvisor/fault.h"
#include "memvisor/lock.h"

static void test_parse_size(void)
{
    static const struct { const char *text; int rc; uint64_t bytes; } cases[] = {
        { "4G", 0, UINT64_C(4) << 30 },   { "512M", 0, UINT64_C(512) << 20 },
        { "1T", 0, UINT64_C(1) << 40 },   { "4096K", 0, UINT64_C(4096) << 10 },
        { "65536", 0, 65536 },            { "2GiB", 0, UINT64_C(2) << 30 },
        { "2gb", 0, UINT64_C(2) << 30 },  { "0", 0, 0 },
        { "", -EINVAL, 0 },               { "G", -EINVAL, 0 },
        { "-1G", -EINVAL, 0 },            { "4X", -EINVAL, 0 },
        { "4G ", -EINVAL, 0 },            { " 4G", -EINVAL, 0 },
        { "4GG", -EINVAL, 0 },            { "99999999999999999999", -ERANGE, 0 },
        { "17179869184G", -ERANGE, 0 },   { "1.5G", -EINVAL, 0 },
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        uint64_t v = 12345;
        int rc = mv_parse_size(cases[i].text, &v);

        CHECK_EQ(rc, cases[i].rc);
        if (rc == 0)
            CHECK_EQ(v, cases[i].bytes);
        else
            CHECK_EQ(v, 12345); /* untouched on error */
    }
    CHECK_EQ(mv_parse_size(NULL, &(uint64_t){ 0 }), -EINVAL);
}

static void test_parse_uint(void)
{
    uint64_t v = 0;

    CHECK_EQ(mv_parse_uint("7", 1, 64, &v), 0);
    CHECK_EQ(v, 7);
    CHECK_EQ(mv_parse_uint("0", 1, 64, &v), -ERANGE);
    CHECK_EQ(mv_parse_uint("65", 1, 64, &v), -ERANGE);
    CHECK_EQ(mv_parse_uint("+5", 0, 64, &v), -EINVAL);
    CHECK_EQ(mv_parse_uint("5x", 0, 64, &v), -EINVAL);
    CHECK_EQ(mv_parse_uint("18446744073709551615", 0, UINT64_MAX, &v), 0);
    CHECK_EQ(v, UINT64_MAX);
    CHECK_EQ(mv_parse_uint("18446744073709551616", 0, UINT64_MAX, &v), -ERANGE);
}

static void test_errno_names(void)
{
    CHECK(strcmp(mv_errno_name(-ENOMEM), "ENOMEM") == 0);
    CHECK(strcmp(mv_errno_name(EINVAL), "EINVAL") == 0);
    CHECK(strcmp(mv_errno_name(-E2BIG), "E2BIG") == 0);
    CHECK(mv_errno_name(-9999) == NULL);
    CHECK_EQ(mv_errno_from_name("EAGAIN"), -EAGAIN);
    CHECK_EQ(mv_errno_from_name("NOPE"), 0);
    CHECK(strcmp(mv_strerror(0), "success") == 0);
    CHECK(strlen(mv_strerror(-ENOSYS)) > 0);
}

static void test_saturating(void)
{
    CHECK_EQ(sat_sub(5, 7), 0);
    CHECK_EQ(sat_sub(7, 5), 2);
    CHECK_EQ(fls64(0), 0);
    CHECK_EQ(fls64(1), 1);
    CHECK_EQ(fls64(UINT64_C(1) << 40), 41);
}

static void test_lock_order_ok(void)
{
    struct mv_lock outer, inner;

    lock_init(&outer, LOCK_RANK_DOMAIN, "outer");
    lock_init(&inner, LOCK_RANK_HEAP_NODE, "inner");
    lock_acquire(&outer);
    CHECK(lock_held(&outer));
    lock_acquire(&inner);
    CHECK(lock_held(&inner));
    lock_release(&inner);
    lock_release(&outer);
    if (mv_debug)
        CHECK(!lock_held(&outer));
    CHECK(lock_try_acquire(&outer));
    lock_release(&outer);
    lock_fini(&outer);
    lock_fini(&inner);
}

/* Taking locks against their ranks aborts in debug builds. */
static void test_lock_order_violation(void)
{
    pid_t pid;
    int status;

    if (!mv_debug)
        return;
    fflush(NULL);
    pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        struct mv_lock a, b;

        freopen("/dev/null", "w", stderr);
        lock_init(&a, LOCK_RANK_HEAP_ACCOUNT, "account");
        lock_init(&b, LOCK_RANK_HEAP_NODE, "node");
        lock_acquire(&a);
        lock_acquire(&b); /* must abort */
        _exit(0);
    }
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
}

static void test_fault_injector(void)
{
    struct fault_injector f;

    fault_init(&f);
    CHECK(!fault_should_fail(&f));
    fault_arm(&f, 3, false);
    CHECK(!fault_should_fail(&f));
    CHECK(!fault_should_fail(&f));
    CHECK(fault_should_fail(&f));
    CHECK(!fault_should_fail(&f));
    CHECK_EQ(fault_nr_failures(&f), 1);
    fault_arm(&f, 1, true);
    CHECK(fault_should_fail(&f));
    CHECK(fault_should_fail(&f));
    CHECK(fault_calloc(&f, 1, 16) == NULL);
    fault_disarm(&f);
    CHECK(!fault_should_fail(&f));
    CHECK(!fault_should_fail(NULL));
}

HARNESS_MAIN("base", TEST_ENTRY(test_parse_size), TEST_ENTRY(test_parse_uint),
             TEST_ENTRY(test_errno_names), TEST_ENTRY(test_saturating),
             TEST_ENTRY(test_lock_order_ok), TEST_ENTRY(test_lock_order_violation),
             TEST_ENTRY(test_fault_injector))
