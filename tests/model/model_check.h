/*
 * Assertions for model-based tests: a failure names the seed and step
 * that replay it, marks the run failed, and lets the step finish.  The
 * model struct needs `seed`, `step` and `failed`.
 */
#ifndef MEMVISOR_TEST_MODEL_CHECK_H
#define MEMVISOR_TEST_MODEL_CHECK_H

#include <inttypes.h>
#include <stdio.h>

#define MCHECK(m, cond)                                                                       \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            fprintf(stderr, "model: seed %" PRIu64 " step %" PRIu64 ": %s:%d: %s\n", (m)->seed, \
                    (m)->step, __FILE__, __LINE__, #cond);                                    \
            (m)->failed = true;                                                               \
        }                                                                                     \
    } while (0)

#define MCHECK_EQ(m, a, b)                                                                     \
    do {                                                                                       \
        long long ma_ = (long long)(a), mb_ = (long long)(b);                                  \
        if (ma_ != mb_) {                                                                      \
            fprintf(stderr, "model: seed %" PRIu64 " step %" PRIu64 ": %s:%d: %s == %s (%lld != %lld)\n", \
                    (m)->seed, (m)->step, __FILE__, __LINE__, #a, #b, ma_, mb_);               \
            (m)->failed = true;                                                                \
        }                                                                                      \
    } while (0)

#endif
