#include "memvisor/fault.h"

void fault_init(struct fault_injector *f)
{
    atomic_init(&f->countdown, 0);
    atomic_init(&f->persistent, false);
    atomic_init(&f->failing, false);
    atomic_init(&f->nr_failures, 0);
}

void fault_arm(struct fault_injector *f, long nth, bool persistent)
{
    assert(nth >= 1);
    atomic_store(&f->failing, false);
    atomic_store(&f->persistent, persistent);
    atomic_store(&f->nr_failures, 0);
    atomic_store(&f->countdown, nth);
}

void fault_disarm(struct fault_injector *f)
{
    atomic_store(&f->countdown, 0);
    atomic_store(&f->failing, false);
}

unsigned long fault_nr_failures(const struct fault_injector *f)
{
    return atomic_load(&((struct fault_injector *)f)->nr_failures);
}

bool fault_should_fail_slow(struct fault_injector *f)
{
    long left;

    if (atomic_load(&f->failing)) {
        atomic_fetch_add(&f->nr_failures, 1);
        return true;
    }
    left = atomic_load(&f->countdown);
    while (left > 0) {
        if (atomic_compare_exchange_weak(&f->countdown, &left, left - 1)) {
            if (left != 1)
                return false;
            if (atomic_load(&f->persistent))
                atomic_store(&f->failing, true);
            atomic_fetch_add(&f->nr_failures, 1);
            return true;
        }
    }
    return false;
}

void *fault_calloc(struct fault_injector *f, size_t nmemb, size_t size)
{
    if (fault_should_fail(f))
        return NULL;
    return calloc(nmemb, size);
}
