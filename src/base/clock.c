/*
 * The real and the virtual clock (clock.h).
 *
 * The virtual clock's state, under c->lock:
 *   - exactly one participant holds the baton (has_baton) while any runs;
 *   - every other participant is blocked: in the queue (a timed sleep or
 *     wait, or woken and due), on a cond's waiter list (a wait), or both
 *     (a wait with a deadline);
 *   - queued participants are ordered by (wake, seq), seq unique:
 *         nr_queued <= nr_parts - 1, cap >= nr_parts
 *     (the heap is grown when a participant is added, so blocking never
 *     allocates and never fails).
 * When the baton holder blocks, the least queued participant gets it and
 * time becomes max(now, its wake).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "memvisor/clock.h"

#define NOT_QUEUED UINT32_MAX

struct vclock_part {
    pthread_cond_t baton_cv;
    bool has_baton;
    uint64_t wake, seq;            /* its place in the queue */
    uint32_t heap_idx;             /* NOT_QUEUED, or its index */
    struct mv_cond *waiting_on;    /* a wait's cond, or NULL */
    struct vclock_part *next_waiter;
    bool signalled;
};

struct mv_clock_thread {
    struct vclock_part part;       /* first: the thread's participant */
    struct mv_clock *c;
    pthread_t thread;
    void *(*fn)(void *);
    void *arg;
    bool done;                     /* under c->lock */
    struct mv_cond ended;
};

struct mv_clock {
    bool is_virtual;
    struct mv_lock lock;           /* rank CLOCK: all below */
    _Atomic uint64_t now;
    uint64_t seq;
    struct vclock_part **heap;
    uint32_t nr_queued, cap;
    uint32_t nr_parts;
    struct vclock_part first;      /* the thread that made the clock */
};

static struct mv_clock real_clock; /* no state: is_virtual false */

/* The participant the calling thread is, if any (its own bookkeeping, as
 * lock.c's held locks). */
static _Thread_local struct vclock_part *vclock_self;

struct mv_clock *mv_clock_real(void)
{
    return &real_clock;
}

bool mv_clock_is_virtual(const struct mv_clock *c)
{
    return c && c->is_virtual;
}

/*
 * The queue: a binary heap on (wake, seq).
 */

static bool earlier(const struct vclock_part *a, const struct vclock_part *b)
{
    return a->wake < b->wake || (a->wake == b->wake && a->seq < b->seq);
}

static void heap_place(struct mv_clock *c, uint32_t i, struct vclock_part *p)
{
    c->heap[i] = p;
    p->heap_idx = i;
}

static void heap_sift_up(struct mv_clock *c, uint32_t i)
{
    struct vclock_part *p = c->heap[i];

    while (i > 0 && earlier(p, c->heap[(i - 1) / 2])) {
        heap_place(c, i, c->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    heap_place(c, i, p);
}

static void heap_sift_down(struct mv_clock *c, uint32_t i)
{
    struct vclock_part *p = c->heap[i];

    for (;;) {
        uint32_t l = 2 * i + 1, m = i;
        const struct vclock_part *least = p;

        if (l < c->nr_queued && earlier(c->heap[l], least))
            m = l, least = c->heap[l];
        if (l + 1 < c->nr_queued && earlier(c->heap[l + 1], least))
            m = l + 1;
        if (m == i)
            break;
        heap_place(c, i, c->heap[m]);
        i = m;
    }
    heap_place(c, i, p);
}

static void queue_push(struct mv_clock *c, struct vclock_part *p, uint64_t wake)
{
    BUG_ON(p->heap_idx != NOT_QUEUED || c->nr_queued >= c->cap);
    p->wake = wake;
    p->seq = ++c->seq;
    c->heap[c->nr_queued] = p;
    p->heap_idx = c->nr_queued++;
    heap_sift_up(c, p->heap_idx);
}

static void queue_remove(struct mv_clock *c, struct vclock_part *p)
{
    uint32_t i = p->heap_idx;
    struct vclock_part *last;

    if (i == NOT_QUEUED)
        return;
    p->heap_idx = NOT_QUEUED;
    last = c->heap[--c->nr_queued];
    if (last == p)
        return;
    heap_place(c, i, last);
    heap_sift_up(c, i);
    heap_sift_down(c, last->heap_idx);
}

static void cond_unlink(struct mv_cond *cv, struct vclock_part *p)
{
    for (struct vclock_part **w = &cv->waiters; *w; w = &(*w)->next_waiter) {
        if (*w == p) {
            *w = p->next_waiter;
            break;
        }
    }
    p->waiting_on = NULL;
    p->next_waiter = NULL;
}

static struct vclock_part *self_in(struct mv_clock *c)
{
    (void)c;
    if (MV_UNLIKELY(!vclock_self)) {
        fprintf(stderr, "memvisor: a thread that is not a participant used a virtual clock\n");
        abort();
    }
    return vclock_self;
}

/* Hands the baton to the least queued participant and, unless self is
 * NULL (a participant ending), blocks until it comes back.  c->lock held. */
static void vclock_switch(struct mv_clock *c, struct vclock_part *self)
{
    struct vclock_part *next;

    if (self)
        self->has_baton = false;
    if (MV_UNLIKELY(c->nr_queued == 0)) {
        fprintf(stderr, "memvisor: virtual clock at %llu ns: all %u participants wait with no "
                "deadline and nobody to wake them (a deadlock)\n",
                (unsigned long long)atomic_load(&c->now), c->nr_parts);
        abort();
    }
    next = c->heap[0];
    queue_remove(c, next);
    if (next->waiting_on)
        cond_unlink(next->waiting_on, next); /* its deadline came first */
    if (next->wake > atomic_load_explicit(&c->now, memory_order_relaxed))
        atomic_store_explicit(&c->now, next->wake, memory_order_relaxed);
    next->has_baton = true;
    if (next == self)
        return;
    pthread_cond_signal(&next->baton_cv);
    while (self && !self->has_baton)
        lock_wait(&c->lock, &self->baton_cv);
}

static void part_init(struct vclock_part *p)
{
    pthread_cond_init(&p->baton_cv, NULL);
    p->heap_idx = NOT_QUEUED;
}

int mv_clock_virtual_create(struct mv_clock **out)
{
    struct mv_clock *c = calloc(1, sizeof(*c));

    if (!c || !(c->heap = malloc(8 * sizeof(*c->heap)))) {
        free(c);
        return -ENOMEM;
    }
    c->cap = 8;
    c->is_virtual = true;
    lock_init(&c->lock, LOCK_RANK_CLOCK, "clock");
    part_init(&c->first);
    c->first.has_baton = true;
    c->nr_parts = 1;
    BUG_ON(vclock_self != NULL); /* a thread takes part in one clock */
    vclock_self = &c->first;
    *out = c;
    return 0;
}

void mv_clock_destroy(struct mv_clock *c)
{
    if (!c || !c->is_virtual)
        return;
    BUG_ON(vclock_self != &c->first || c->nr_parts != 1);
    vclock_self = NULL;
    pthread_cond_destroy(&c->first.baton_cv);
    lock_fini(&c->lock);
    free(c->heap);
    free(c);
}

uint64_t mv_clock_now(struct mv_clock *c)
{
    struct timespec ts;

    if (c && c->is_virtual)
        return atomic_load_explicit(&c->now, memory_order_relaxed);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void mv_clock_sleep_until(struct mv_clock *c, uint64_t t)
{
    if (c && c->is_virtual) {
        struct vclock_part *self = self_in(c);

        lock_acquire(&c->lock);
        queue_push(c, self, max_u64(t, atomic_load(&c->now)));
        vclock_switch(c, self);
        lock_release(&c->lock);
        return;
    }
    for (uint64_t now = mv_clock_now(NULL); now < t; now = mv_clock_now(NULL)) {
        struct timespec ts = { (time_t)((t - now) / 1000000000u),
                               (long)((t - now) % 1000000000u) };

        nanosleep(&ts, NULL);
    }
}

void mv_clock_sleep(struct mv_clock *c, uint64_t ns)
{
    uint64_t now = mv_clock_now(c);

    mv_clock_sleep_until(c, ns > UINT64_MAX - now ? UINT64_MAX : now + ns);
}

void mv_cond_init(struct mv_cond *cv)
{
    cond_init_monotonic(&cv->cv);
    cv->waiters = NULL;
}

void mv_cond_fini(struct mv_cond *cv)
{
    BUG_ON(cv->waiters != NULL);
    pthread_cond_destroy(&cv->cv);
}

int mv_clock_wait(struct mv_clock *c, struct mv_cond *cv, struct mv_lock *l, uint64_t deadline)
{
    struct vclock_part *self;

    if (!c || !c->is_virtual) {
        if (deadline == MV_CLOCK_NEVER) {
            lock_wait(l, &cv->cv);
            return 0;
        }
        return lock_wait_until(l, &cv->cv, deadline) ? 0 : -ETIMEDOUT;
    }
    self = self_in(c);
    lock_acquire(&c->lock);
    self->signalled = false;
    self->waiting_on = cv;
    self->next_waiter = cv->waiters;
    cv->waiters = self;
    if (deadline != MV_CLOCK_NEVER)
        queue_push(c, self, max_u64(deadline, atomic_load(&c->now)));
    /* Nobody else runs before the switch: the release loses no signal. */
    lock_release(l);
    vclock_switch(c, self);
    lock_release(&c->lock);
    lock_acquire(l);
    return self->signalled ? 0 : -ETIMEDOUT;
}

/* c->lock held. */
static void vclock_signal_locked(struct mv_clock *c, struct mv_cond *cv)
{
    while (cv->waiters) {
        struct vclock_part *w = cv->waiters;

        cv->waiters = w->next_waiter;
        w->next_waiter = NULL;
        w->waiting_on = NULL;
        w->signalled = true;
        queue_remove(c, w);
        queue_push(c, w, atomic_load_explicit(&c->now, memory_order_relaxed));
    }
}

void mv_clock_signal(struct mv_clock *c, struct mv_cond *cv)
{
    if (!c || !c->is_virtual) {
        pthread_cond_broadcast(&cv->cv);
        return;
    }
    lock_acquire(&c->lock);
    vclock_signal_locked(c, cv);
    lock_release(&c->lock);
}

/*
 * Threads.
 */

static void *vclock_thread_main(void *arg)
{
    struct mv_clock_thread *t = arg;
    struct mv_clock *c = t->c;

    vclock_self = &t->part;
    lock_acquire(&c->lock);
    while (!t->part.has_baton)
        lock_wait(&c->lock, &t->part.baton_cv);
    lock_release(&c->lock);
    t->fn(t->arg);
    lock_acquire(&c->lock);
    t->done = true;
    c->nr_parts--;
    vclock_signal_locked(c, &t->ended);
    t->part.has_baton = false;
    vclock_switch(c, NULL);
    lock_release(&c->lock);
    vclock_self = NULL;
    return NULL;
}

int mv_clock_thread_start(struct mv_clock *c, struct mv_clock_thread **out,
                          void *(*fn)(void *), void *arg)
{
    struct mv_clock_thread *t = calloc(1, sizeof(*t));
    bool virt = c && c->is_virtual;
    int rc;

    if (!t)
        return -ENOMEM;
    t->c = c;
    t->fn = fn;
    t->arg = arg;
    if (!virt) {
        rc = -pthread_create(&t->thread, NULL, fn, arg);
        if (rc)
            free(t);
        else
            *out = t;
        return rc;
    }
    self_in(c);
    part_init(&t->part);
    mv_cond_init(&t->ended);
    lock_acquire(&c->lock);
    if (c->nr_parts == c->cap) {
        struct vclock_part **bigger = realloc(c->heap, 2 * c->cap * sizeof(*bigger));

        if (!bigger) {
            lock_release(&c->lock);
            rc = -ENOMEM;
            goto fail;
        }
        c->heap = bigger;
        c->cap *= 2;
    }
    c->nr_parts++;
    queue_push(c, &t->part, atomic_load(&c->now));
    lock_release(&c->lock);
    rc = -pthread_create(&t->thread, NULL, vclock_thread_main, t);
    if (!rc) {
        *out = t;
        return 0;
    }
    lock_acquire(&c->lock);
    queue_remove(c, &t->part);
    c->nr_parts--;
    lock_release(&c->lock);
fail:
    mv_cond_fini(&t->ended);
    pthread_cond_destroy(&t->part.baton_cv);
    free(t);
    return rc;
}

void mv_clock_thread_join(struct mv_clock *c, struct mv_clock_thread *t)
{
    if (!t)
        return;
    if (c && c->is_virtual) {
        struct vclock_part *self = self_in(c);

        lock_acquire(&c->lock);
        while (!t->done) {
            self->waiting_on = &t->ended;
            self->next_waiter = t->ended.waiters;
            t->ended.waiters = self;
            vclock_switch(c, self);
        }
        lock_release(&c->lock);
    }
    pthread_join(t->thread, NULL);
    if (c && c->is_virtual) {
        mv_cond_fini(&t->ended);
        pthread_cond_destroy(&t->part.baton_cv);
    }
    free(t);
}
