/*
 * Fault injection for out-of-memory testing (SQLite's loop).
 *
 * Every allocation that can fail consults an injector: host-memory
 * metadata (domain structures, p2m tables) and guest pages from the heap.
 * A test arms it to fail the Nth check from now (and optionally every one
 * after), runs an operation, checks that it failed cleanly with nothing
 * changed or leaked, and repeats with N+1 until the operation succeeds.
 *
 * Unarmed, the cost is one relaxed atomic load.
 */
#ifndef MEMVISOR_FAULT_H
#define MEMVISOR_FAULT_H

#include <stdatomic.h>
#include <stdlib.h>

#include "memvisor/base.h"

struct fault_injector {
    /* > 0: checks left before the first failure; 0: disarmed. */
    _Atomic long countdown;
    /* After the first failure, keep failing (until disarmed). */
    _Atomic bool persistent;
    _Atomic bool failing;
    _Atomic unsigned long nr_failures;
};

void fault_init(struct fault_injector *f);
/* Fails the nth check from now (n >= 1). */
void fault_arm(struct fault_injector *f, long nth, bool persistent);
void fault_disarm(struct fault_injector *f);
unsigned long fault_nr_failures(const struct fault_injector *f);

bool fault_should_fail_slow(struct fault_injector *f);
static inline bool fault_should_fail(struct fault_injector *f)
{
    if (!f || (atomic_load_explicit(&f->countdown, memory_order_relaxed) == 0 &&
               !atomic_load_explicit(&f->failing, memory_order_relaxed)))
        return false;
    return fault_should_fail_slow(f);
}

/* calloc/free for metadata, through the injector. */
void *fault_calloc(struct fault_injector *f, size_t nmemb, size_t size);

#endif
