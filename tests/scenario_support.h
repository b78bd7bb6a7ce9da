/*
 * Helpers for the tests of scenario runs.
 */
#ifndef MEMVISOR_TEST_SCENARIO_SUPPORT_H
#define MEMVISOR_TEST_SCENARIO_SUPPORT_H

#include "memvisor/scenario.h"
#include "support.h"

/* Every sample accounts for every page of the host: on the virtual clock
 * nothing runs while one is taken, so the bands add up exactly. */
static inline void check_samples_add_up(const struct scenario_report *r)
{
    for (unsigned k = 0; k < r->nr_samples; k++) {
        const struct scenario_sample *s = &r->samples[k];
        uint64_t sum = s->free_pages + s->claimed_pages + s->tmem_pages + s->pod_cache_pages +
                       s->other_pages;

        for (unsigned i = 0; i < r->nr_inst; i++)
            sum += s->held[i];
        CHECK_EQ(sum, r->total_pages);
    }
}

#endif
