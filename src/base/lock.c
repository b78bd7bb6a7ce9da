/*
 * Ranked locks over pthread mutexes.
 *
 * The rank check keeps a small per-thread stack of held locks.  It is debug
 * bookkeeping, not shared state: each thread only ever touches its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "memvisor/lock.h"

#define MAX_HELD 16

struct held_locks {
    const struct mv_lock *lock[MAX_HELD];
    unsigned nr;
};

static _Thread_local struct held_locks held;

static void rank_violation(const struct mv_lock *taking, const struct mv_lock *holding)
{
    fprintf(stderr, "memvisor: lock order violation: taking %s (rank %d) while holding %s (rank %d)\n",
            taking->name, taking->rank, holding->name, holding->rank);
    abort();
}

static void held_push(struct mv_lock *l)
{
    if (!mv_debug)
        return;
    if (held.nr > 0 && held.lock[held.nr - 1]->rank >= l->rank)
        rank_violation(l, held.lock[held.nr - 1]);
    BUG_ON(held.nr == MAX_HELD);
    held.lock[held.nr++] = l;
    atomic_store_explicit(&l->owner, pthread_self(), memory_order_relaxed);
}

static void held_pop(struct mv_lock *l)
{
    if (!mv_debug)
        return;
    /* Locks are usually released in reverse order, but need not be. */
    for (unsigned i = held.nr; i-- > 0;) {
        if (held.lock[i] == l) {
            for (unsigned j = i; j + 1 < held.nr; j++)
                held.lock[j] = held.lock[j + 1];
            held.nr--;
            atomic_store_explicit(&l->owner, (pthread_t)0, memory_order_relaxed);
            return;
        }
    }
    fprintf(stderr, "memvisor: releasing %s, which this thread does not hold\n", l->name);
    abort();
}

void lock_init(struct mv_lock *l, enum lock_rank rank, const char *name)
{
    pthread_mutexattr_t attr;

    pthread_mutexattr_init(&attr);
#ifdef PTHREAD_MUTEX_ADAPTIVE_NP
    /* Critical sections are short: spin briefly before sleeping. */
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
#endif
    pthread_mutex_init(&l->mutex, &attr);
    pthread_mutexattr_destroy(&attr);
    l->rank = rank;
    l->name = name;
    atomic_init(&l->owner, (pthread_t)0);
}

void lock_fini(struct mv_lock *l)
{
    pthread_mutex_destroy(&l->mutex);
}

void lock_acquire(struct mv_lock *l)
{
    if (mv_debug && held.nr > 0 && held.lock[held.nr - 1]->rank >= l->rank)
        rank_violation(l, held.lock[held.nr - 1]);
    pthread_mutex_lock(&l->mutex);
    held_push(l);
}

bool lock_try_acquire(struct mv_lock *l)
{
    if (mv_debug && held.nr > 0 && held.lock[held.nr - 1]->rank >= l->rank)
        rank_violation(l, held.lock[held.nr - 1]);
    if (pthread_mutex_trylock(&l->mutex) != 0)
        return false;
    held_push(l);
    return true;
}

bool lock_try_acquire_reverse(struct mv_lock *l)
{
    unsigned i;

    if (pthread_mutex_trylock(&l->mutex) != 0)
        return false;
    if (!mv_debug)
        return true;
    BUG_ON(held.nr == MAX_HELD);
    for (i = held.nr; i > 0 && held.lock[i - 1]->rank > l->rank; i--)
        held.lock[i] = held.lock[i - 1];
    if (i > 0 && held.lock[i - 1]->rank == l->rank)
        rank_violation(l, held.lock[i - 1]);
    held.lock[i] = l;
    held.nr++;
    atomic_store_explicit(&l->owner, pthread_self(), memory_order_relaxed);
    return true;
}

void lock_release(struct mv_lock *l)
{
    held_pop(l);
    pthread_mutex_unlock(&l->mutex);
}

bool lock_held(const struct mv_lock *l)
{
    if (!mv_debug)
        return true;
    return pthread_equal(atomic_load_explicit(&((struct mv_lock *)l)->owner, memory_order_relaxed),
                         pthread_self());
}

void lock_wait(struct mv_lock *l, pthread_cond_t *cond)
{
    lock_assert_held(l);
    if (mv_debug)
        atomic_store_explicit(&l->owner, (pthread_t)0, memory_order_relaxed);
    pthread_cond_wait(cond, &l->mutex);
    if (mv_debug)
        atomic_store_explicit(&l->owner, pthread_self(), memory_order_relaxed);
}

bool lock_wait_until(struct mv_lock *l, pthread_cond_t *cond, uint64_t deadline_ns)
{
    struct timespec ts = { .tv_sec = (time_t)(deadline_ns / 1000000000u),
                           .tv_nsec = (long)(deadline_ns % 1000000000u) };
    int rc;

    lock_assert_held(l);
    if (mv_debug)
        atomic_store_explicit(&l->owner, (pthread_t)0, memory_order_relaxed);
    rc = pthread_cond_timedwait(cond, &l->mutex, &ts);
    if (mv_debug)
        atomic_store_explicit(&l->owner, pthread_self(), memory_order_relaxed);
    return rc == 0;
}

void cond_init_monotonic(pthread_cond_t *cond)
{
    pthread_condattr_t attr;

    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(cond, &attr);
    pthread_condattr_destroy(&attr);
}
