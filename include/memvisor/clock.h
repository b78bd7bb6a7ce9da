/*
 * The clock that everything above the hypervisor core takes its time from:
 * guest models, the toolstack's builds, the memory scheduler and the
 * scenario runner.  None of them reads the system's time, sleeps or waits
 * on a condition with a deadline except through the clock it is given.
 *
 * Two clocks:
 *
 *  - the real clock (NULL, or mv_clock_real()): CLOCK_MONOTONIC,
 *    nanosleep and condition variables; what memvisord and runs against
 *    it use, because real clients live in real time.
 *
 *  - a virtual clock: a deterministic scheduler of its participants.
 *    Each participant is a thread, but only the one holding the clock's
 *    baton runs; it hands the baton on only when it blocks in the clock
 *    (a sleep, a wait, a join) or ends.  The next to run is the blocked
 *    participant with the least (wake time, sequence number), the
 *    sequence number counting blockings and wakings in the order they
 *    happened; time jumps to that wake time when it is later than now.  So
 *    model time advances only when every participant waits, a second of
 *    model time costs only the CPU work done in it, and the same program
 *    runs the same way on any machine, busy or not.
 *
 * The rules a participant keeps under a virtual clock:
 *  - it blocks only in the clock: no nanosleep, no pthread_cond_wait, no
 *    join of a raw thread, no lock held across a clock call (except the
 *    one a wait releases), and no lock that another participant could
 *    hold while it waits;
 *  - it wakes others only through the clock (mv_clock_signal): a store
 *    watch's sink, a stop flag, a death notice;
 *  - threads that take part are made with mv_clock_thread_start.
 * The thread that makes a virtual clock is its first participant, and the
 * one that destroys it, once every other participant has been joined.
 *
 * Locking: the clock's own lock (rank CLOCK) is innermost: signal may be
 * called with any other lock held.
 */
#ifndef MEMVISOR_CLOCK_H
#define MEMVISOR_CLOCK_H

#include <pthread.h>

#include "memvisor/lock.h"

#define MV_CLOCK_NEVER UINT64_MAX

struct mv_clock;
struct mv_clock_thread;
struct vclock_part;

/* A condition participants wait on: a condition variable under the real
 * clock, a list of waiting participants under a virtual one. */
struct mv_cond {
    pthread_cond_t cv;          /* real clock; CLOCK_MONOTONIC */
    struct vclock_part *waiters; /* virtual clock; under the clock's lock */
};

/* The real clock (the same object for every caller; it holds no state). */
MV_API struct mv_clock *mv_clock_real(void);
/* A virtual clock at time 0, the calling thread its first participant
 * (running).  0 or -ENOMEM. */
MV_API int mv_clock_virtual_create(struct mv_clock **out) MV_MUST_CHECK;
/* By the thread that made it, after every other participant was joined. */
MV_API void mv_clock_destroy(struct mv_clock *c);
MV_API bool mv_clock_is_virtual(const struct mv_clock *c);

/* Nanoseconds: CLOCK_MONOTONIC's, or the virtual clock's since it began.
 * c may be NULL (the real clock) in these and every call below. */
MV_API uint64_t mv_clock_now(struct mv_clock *c);
/* Blocks until mv_clock_now(c) >= t. */
MV_API void mv_clock_sleep_until(struct mv_clock *c, uint64_t t);
MV_API void mv_clock_sleep(struct mv_clock *c, uint64_t ns);

MV_API void mv_cond_init(struct mv_cond *cv);
MV_API void mv_cond_fini(struct mv_cond *cv);
/* With l held: releases l, blocks until cv is signalled or the clock
 * reaches deadline (MV_CLOCK_NEVER: none), retakes l.  0 if signalled
 * (under the real clock, possibly spuriously: callers loop on their
 * condition), -ETIMEDOUT at the deadline. */
MV_API int mv_clock_wait(struct mv_clock *c, struct mv_cond *cv, struct mv_lock *l,
                         uint64_t deadline);
/* Wakes every waiter of cv.  The caller goes on running. */
MV_API void mv_clock_signal(struct mv_clock *c, struct mv_cond *cv);

/* A thread running fn(arg): under a virtual clock a participant, first
 * run at the current time after those already due.  0 or -errno. */
MV_API int mv_clock_thread_start(struct mv_clock *c, struct mv_clock_thread **out,
                                 void *(*fn)(void *), void *arg) MV_MUST_CHECK;
/* Waits for it to end (in the clock) and frees it. */
MV_API void mv_clock_thread_join(struct mv_clock *c, struct mv_clock_thread *t);

#endif
