/*
 * A minimal test harness: one binary per test file, a list of test
 * functions, and checks that record a failure (with the values) and carry
 * on.  A binary exits non-zero if any check failed.
 */
#ifndef MEMVISOR_TEST_HARNESS_H
#define MEMVISOR_TEST_HARNESS_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memvisor/base.h"

extern unsigned harness_failures;
extern const char *harness_current;

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            harness_failures++;                                                            \
            fprintf(stderr, "  FAIL %s: %s:%d: %s\n", harness_current, __FILE__, __LINE__, \
                    #cond);                                                                \
        }                                                                                  \
    } while (0)

#define CHECK_EQ(a, b)                                                                        \
    do {                                                                                      \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);                       \
        if (check_a_ != check_b_) {                                                           \
            harness_failures++;                                                               \
            fprintf(stderr, "  FAIL %s: %s:%d: %s == %s (%lld != %lld)\n", harness_current,   \
                    __FILE__, __LINE__, #a, #b, check_a_, check_b_);                          \
        }                                                                                     \
    } while (0)

/* Stops the current test if a precondition failed. */
#define REQUIRE(cond)                                                                      \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            harness_failures++;                                                            \
            fprintf(stderr, "  FAIL %s: %s:%d: required %s\n", harness_current, __FILE__,  \
                    __LINE__, #cond);                                                      \
            return;                                                                        \
        }                                                                                  \
    } while (0)

struct harness_test {
    const char *name;
    void (*fn)(void);
};

#define TEST_ENTRY(fn) { #fn, fn }

static inline int harness_run(const char *suite, const struct harness_test *tests, size_t n)
{
    unsigned failed_tests = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned before = harness_failures;

        harness_current = tests[i].name;
        tests[i].fn();
        if (harness_failures != before) {
            failed_tests++;
            printf("FAIL %s.%s\n", suite, tests[i].name);
        } else {
            printf("ok   %s.%s\n", suite, tests[i].name);
        }
        fflush(stdout);
    }
    printf("%s: %zu tests, %u failed\n", suite, n, failed_tests);
    return failed_tests ? 1 : 0;
}

#define HARNESS_MAIN(suite, ...)                                                \
    unsigned harness_failures;                                                  \
    const char *harness_current;                                                \
    int main(void)                                                              \
    {                                                                           \
        static const struct harness_test tests[] = { __VA_ARGS__ };             \
        return harness_run(suite, tests, sizeof(tests) / sizeof(tests[0]));     \
    }

#endif
