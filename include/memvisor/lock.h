/*
 * Ranked locks.
 *
 * Every lock has a rank, and a thread may only take a lock whose rank is
 * strictly greater than that of every lock it already holds.  Debug builds
 * check this on every acquisition and abort with both lock names on a
 * violation, so an ordering bug shows up the first time the path runs
 * rather than the first time it deadlocks.
 *
 * The order (outermost first), and why:
 *   HV_HOOKS     a host's domain hooks (death, unpause): held while one
 *                runs, so that unregistering waits for calls in flight.
 *   SCENARIO     a scenario run's report and instances: the sampler reads
 *                guests' status under it.
 *   GUEST_HOST   a host's table of guest models: a guest starts (looking
 *                its domain up) and stops under it.
 *   DAEMON       memvisord's table of hypercall clients.
 *   STORE        xenstore: a request may ask whether a domain exists.
 *   DOMTABLE     the domain table: lookups take a reference, then drop it.
 *   P2M          a domain's p2m: populate/decrease hold it while pages move
 *                in and out of the domain.
 *   TMEM_*       transcendent memory: the host's clients, a client's pools,
 *                a pool's object buckets, the fragment allocator's classes.
 *                Above P2M because an allocation under a p2m lock may ask
 *                tmem for memory; below DOMAIN because tmem allocates
 *                frames (and never asks itself for them).  Eviction goes
 *                from a class up to a bucket with lock_try_acquire_reverse.
 *   DOMAIN       d->page_alloc_lock: tot/max pages, the page list, dying.
 *                Staking a claim holds it to read tot/max (Xen's order:
 *                page_alloc_lock before heap_lock).
 *   HEAP_NODE    one NUMA node's free lists.
 *   HEAP_ACCOUNT the heap's counters and every claim: O(1) sections only.
 *   CLIENT_CALL  a hypercall socket client's call in flight (a round trip).
 *   CLIENT_ALLOC the client's shared buffer pages.
 *   SQUEEZE      the memory scheduler: one squeeze at a time (a flag
 *                under it; never held across a wait).
 *   GUEST_OS     a guest model's published status and event flag: a store
 *                watch's sink takes it under the store lock.
 *   LEAF         condition-variable mutexes and other innermost locks.
 *   CLOCK        the clock's own: a signal may come with anything held.
 */
#ifndef MEMVISOR_LOCK_H
#define MEMVISOR_LOCK_H

#include <pthread.h>
#include <stdatomic.h>

#include "memvisor/base.h"

enum lock_rank {
    LOCK_RANK_HV_HOOKS = 1,
    LOCK_RANK_SCENARIO = 2,
    LOCK_RANK_GUEST_HOST = 3,
    LOCK_RANK_DAEMON = 4,
    LOCK_RANK_STORE = 5,
    LOCK_RANK_DOMTABLE = 10,
    LOCK_RANK_P2M = 20,
    LOCK_RANK_TMEM_HOST = 21,
    LOCK_RANK_TMEM_CLIENT = 22,
    LOCK_RANK_TMEM_BUCKET = 24,
    LOCK_RANK_TMEM_CLASS = 26,
    LOCK_RANK_DOMAIN = 30,
    LOCK_RANK_HEAP_NODE = 40,
    LOCK_RANK_HEAP_ACCOUNT = 50,
    LOCK_RANK_CLIENT_CALL = 60,
    LOCK_RANK_CLIENT_ALLOC = 61,
    LOCK_RANK_SQUEEZE = 80,
    LOCK_RANK_GUEST_OS = 85,
    LOCK_RANK_LEAF = 90,
    LOCK_RANK_CLOCK = 95,
};

struct mv_lock {
    pthread_mutex_t mutex;
    enum lock_rank rank;
    const char *name;
    /* Debug builds: the holder, for lock_assert_held(). */
    _Atomic(pthread_t) owner;
};

void lock_init(struct mv_lock *l, enum lock_rank rank, const char *name);
void lock_fini(struct mv_lock *l);
void lock_acquire(struct mv_lock *l);
/* Takes the lock if it is free; never blocks.  Rank rules still apply. */
bool lock_try_acquire(struct mv_lock *l);
/* The same for a lock ranked below one already held: a try cannot
 * deadlock, so bottom-up paths (eviction) may use it.  The lock joins the
 * held set in rank order, so later acquisitions are still checked. */
bool lock_try_acquire_reverse(struct mv_lock *l);
void lock_release(struct mv_lock *l);
/* True if the calling thread holds l (always true in release builds). */
bool lock_held(const struct mv_lock *l);

#define lock_assert_held(l) assert(lock_held(l))

/* Waits on a condition variable with l held; l's rank bookkeeping is kept. */
void lock_wait(struct mv_lock *l, pthread_cond_t *cond);
/* As lock_wait, but gives up at the absolute CLOCK_MONOTONIC deadline;
 * returns false on timeout. */
bool lock_wait_until(struct mv_lock *l, pthread_cond_t *cond, uint64_t deadline_ns);
/* A condition variable that waits on CLOCK_MONOTONIC. */
void cond_init_monotonic(pthread_cond_t *cond);

#endif
