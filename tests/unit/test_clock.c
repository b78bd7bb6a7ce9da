/* Unit tests: the clocks (clock.h).  The virtual clock runs one participant
 * at a time in (wake time, sequence) order, jumps time only when all wait,
 * wakes waiters through signals, joins, and gives the same interleaving on
 * every run; the real clock sleeps and times out. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memvisor/clock.h"
#include "../support.h"

#define LOG_MAX 4096

struct log {
    struct mv_clock *c;
    struct mv_lock lock;
    struct mv_cond cv;
    bool flag;
    unsigned n;
    uint64_t at[LOG_MAX];
    unsigned who[LOG_MAX];
};

static void log_add(struct log *l, unsigned who)
{
    lock_acquire(&l->lock);
    if (l->n < LOG_MAX) {
        l->at[l->n] = mv_clock_now(l->c);
        l->who[l->n++] = who;
    }
    lock_release(&l->lock);
}

struct sleeper {
    struct log *l;
    unsigned id;
    uint64_t until;
};

static void *sleep_then_log(void *arg)
{
    struct sleeper *s = arg;

    mv_clock_sleep_until(s->l->c, s->until);
    log_add(s->l, s->id);
    return NULL;
}

static void log_init(struct log *l, struct mv_clock *c)
{
    memset(l, 0, sizeof(*l));
    l->c = c;
    lock_init(&l->lock, LOCK_RANK_LEAF, "test log");
    mv_cond_init(&l->cv);
}

static void log_fini(struct log *l)
{
    mv_cond_fini(&l->cv);
    lock_fini(&l->lock);
}

/* Sleepers wake in (time, then the order they slept) order, time jumping
 * to each deadline; an hour of model time costs nothing. */
static void test_order_and_time(void)
{
    static const uint64_t until[] = { 300, 100, 200, 100, 5000000000000u, 200 };
    static const unsigned expect[] = { 1, 3, 2, 5, 0, 4 };
    struct mv_clock *c = test_virtual_clock();
    struct mv_clock_thread *t[ARRAY_SIZE(until)];
    struct sleeper s[ARRAY_SIZE(until)];
    struct log *l = malloc(sizeof(*l));

    log_init(l, c);
    CHECK(mv_clock_is_virtual(c));
    CHECK_EQ(mv_clock_now(c), 0);
    for (unsigned i = 0; i < ARRAY_SIZE(until); i++) {
        s[i] = (struct sleeper){ l, i, until[i] };
        REQUIRE(mv_clock_thread_start(c, &t[i], sleep_then_log, &s[i]) == 0);
    }
    /* Nothing else ran yet: the creator holds the baton. */
    CHECK_EQ(l->n, 0u);
    mv_clock_sleep(c, 3600 * UINT64_C(1000000000));
    CHECK_EQ(mv_clock_now(c), 3600 * UINT64_C(1000000000));
    for (unsigned i = 0; i < ARRAY_SIZE(until); i++)
        mv_clock_thread_join(c, t[i]);
    CHECK_EQ(l->n, ARRAY_SIZE(until));
    for (unsigned k = 0; k < l->n; k++) {
        CHECK_EQ(l->who[k], expect[k]);
        CHECK_EQ(l->at[k], until[l->who[k]]);
    }
    CHECK_EQ(mv_clock_now(c), 5000000000000u); /* the join waited for the last */
    log_fini(l);
    free(l);
    mv_clock_destroy(c);
}

struct waiter {
    struct log *l;
    uint64_t deadline;
    int rc;
    uint64_t woke_at;
};

static void *wait_flag(void *arg)
{
    struct waiter *w = arg;
    int rc = 0;

    lock_acquire(&w->l->lock);
    while (!w->l->flag && rc == 0)
        rc = mv_clock_wait(w->l->c, &w->l->cv, &w->l->lock, w->deadline);
    w->rc = rc;
    w->woke_at = mv_clock_now(w->l->c);
    lock_release(&w->l->lock);
    return NULL;
}

/* A wait ends at its deadline with -ETIMEDOUT, or at the signal with 0;
 * a signal with nobody waiting is lost, as a condition variable's. */
static void test_wait_and_signal(void)
{
    struct mv_clock *c = test_virtual_clock();
    struct log *l = malloc(sizeof(*l));
    struct waiter early = { l, 1000, 1, 0 }, late = { l, 9000, 1, 0 };
    struct waiter never = { l, MV_CLOCK_NEVER, 1, 0 };
    struct mv_clock_thread *a, *b, *d;

    log_init(l, c);
    mv_clock_signal(c, &l->cv); /* nobody waits */
    REQUIRE(mv_clock_thread_start(c, &a, wait_flag, &early) == 0);
    REQUIRE(mv_clock_thread_start(c, &b, wait_flag, &late) == 0);
    REQUIRE(mv_clock_thread_start(c, &d, wait_flag, &never) == 0);
    mv_clock_sleep_until(c, 5000);
    CHECK_EQ(early.rc, -ETIMEDOUT);
    CHECK_EQ(early.woke_at, 1000);
    lock_acquire(&l->lock);
    l->flag = true;
    mv_clock_signal(c, &l->cv);
    lock_release(&l->lock);
    mv_clock_thread_join(c, b);
    mv_clock_thread_join(c, d);
    mv_clock_thread_join(c, a);
    CHECK_EQ(late.rc, 0);
    CHECK_EQ(late.woke_at, 5000);
    CHECK_EQ(never.rc, 0);
    CHECK_EQ(never.woke_at, 5000);
    CHECK_EQ(mv_clock_now(c), 5000);
    log_fini(l);
    free(l);
    mv_clock_destroy(c);
}

struct worker {
    struct log *l;
    unsigned id;
    uint64_t seed;
};

static void *random_work(void *arg)
{
    struct worker *w = arg;

    for (unsigned i = 0; i < 50; i++) {
        uint64_t r = test_rng(&w->seed);

        if (r % 3 == 0) {
            /* Wake the others waiting on the flag's condition. */
            lock_acquire(&w->l->lock);
            mv_clock_signal(w->l->c, &w->l->cv);
            lock_release(&w->l->lock);
        } else if (r % 3 == 1) {
            lock_acquire(&w->l->lock);
            (void)mv_clock_wait(w->l->c, &w->l->cv, &w->l->lock,
                                mv_clock_now(w->l->c) + r % 1000);
            lock_release(&w->l->lock);
        } else {
            mv_clock_sleep(w->l->c, r % 700);
        }
        log_add(w->l, w->id);
    }
    return NULL;
}

static void run_workers(struct log *l)
{
    struct mv_clock *c = test_virtual_clock();
    struct mv_clock_thread *t[16];
    struct worker w[16];

    log_init(l, c);
    for (unsigned i = 0; i < ARRAY_SIZE(w); i++) {
        w[i] = (struct worker){ l, i, 1 + i * 7919 };
        REQUIRE(mv_clock_thread_start(c, &t[i], random_work, &w[i]) == 0);
    }
    for (unsigned i = 0; i < ARRAY_SIZE(w); i++)
        mv_clock_thread_join(c, t[i]);
    log_fini(l);
    mv_clock_destroy(c);
}

/* Sixteen threads sleeping, waiting and signalling at random: the same
 * interleaving, to the nanosecond, on every run. */
static void test_same_every_run(void)
{
    struct log *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));

    run_workers(a);
    run_workers(b);
    CHECK_EQ(a->n, 16u * 50);
    CHECK_EQ(b->n, a->n);
    CHECK_EQ(memcmp(a->who, b->who, sizeof(a->who)), 0);
    CHECK_EQ(memcmp(a->at, b->at, sizeof(a->at)), 0);
    for (unsigned k = 1; k < a->n; k++)
        CHECK(a->at[k] >= a->at[k - 1]);
    free(a);
    free(b);
}

/* The real clock: time passes, a sleep takes at least its time, a wait
 * with nobody to signal times out no earlier than its deadline. */
static void test_real_clock(void)
{
    struct mv_clock *c = mv_clock_real();
    struct log *l = malloc(sizeof(*l));
    uint64_t t0 = mv_clock_now(c);
    int rc;

    CHECK(!mv_clock_is_virtual(c));
    CHECK(!mv_clock_is_virtual(NULL));
    log_init(l, c);
    mv_clock_sleep(c, 2000000);
    CHECK(mv_clock_now(c) - t0 >= 2000000);
    t0 = mv_clock_now(NULL);
    lock_acquire(&l->lock);
    do
        rc = mv_clock_wait(NULL, &l->cv, &l->lock, t0 + 1000000);
    while (rc == 0);
    lock_release(&l->lock);
    CHECK_EQ(rc, -ETIMEDOUT);
    CHECK(mv_clock_now(NULL) >= t0 + 1000000);
    log_fini(l);
    free(l);
}

HARNESS_MAIN("clock", TEST_ENTRY(test_order_and_time), TEST_ENTRY(test_wait_and_signal),
             TEST_ENTRY(test_same_every_run), TEST_ENTRY(test_real_clock))
