/*
 * Lazy scrubbing (specs 1.7).
 *
 * Freed pages go back to the heap dirty.  One idle scrubber thread per node
 * cleans them in the background: it claims a dirty buddy from the tail of a
 * free list (scrub_state = SCRUBBING), drops the node lock, clears the
 * dirty pages with non-temporal stores, and then moves the buddy to the
 * clean head of its list.
 *
 * The buddy stays on its free list while it is scrubbed, so an allocator or
 * a merge may want it.  It then sets SCRUB_ABORT and waits, holding the
 * node lock, until the scrubber notices (it checks after every run of
 * pages), records how far it got in first_dirty and lets go.  The scrubber
 * must therefore never block on the node lock while it owns a buddy: it
 * polls with trylock and handles an abort that arrives meanwhile.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <time.h>

#include "heap_internal.h"

/* Pages cleared between two looks at the abort flag: 256 KiB, a few
 * microseconds of waiting for an aborter, and long enough a burst for
 * streaming stores to reach full bandwidth. */
#define SCRUB_RUN_PAGES 64

static uint8_t scrub_state_load(const struct frame *f)
{
    return __atomic_load_n(&f->scrub_state, __ATOMIC_ACQUIRE);
}

static void scrub_state_store(struct frame *f, uint8_t st)
{
    __atomic_store_n(&f->scrub_state, st, __ATOMIC_RELEASE);
}

void scrubber_init_node(struct heap_node *n)
{
    cond_init_monotonic(&n->scrub_cond);
    n->scrubber_running = false;
    n->scrubber_stop = false;
    n->scrubber_sleeping = false;
}

void scrub_wake_locked(struct heap_node *n)
{
    lock_assert_held(&n->lock);
    if (n->scrubber_sleeping)
        pthread_cond_signal(&n->scrub_cond);
}

void scrub_stop_buddy(struct heap *h, struct frame *head)
{
    uint8_t expected = SCRUB_SCRUBBING;

    (void)h;
    if (scrub_state_load(head) == SCRUB_NOT_SCRUBBING)
        return;
    if (__atomic_compare_exchange_n(&head->scrub_state, &expected, SCRUB_ABORT, false,
                                    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) ||
        expected == SCRUB_ABORT) {
        /* The scrubber checks at least every SCRUB_RUN_PAGES pages. */
        while (scrub_state_load(head) != SCRUB_NOT_SCRUBBING)
            sched_yield();
    }
}

uint64_t scrub_range(struct heap *h, uint64_t mfn, uint64_t size, bool scrub)
{
    uint64_t flagged = 0;

    for (uint64_t i = 0; i < size;) {
        uint64_t run = 0;

        while (i + run < size && heap_frame(h, mfn + i + run)->need_scrub)
            run++;
        if (run == 0) {
            i++;
            continue;
        }
        if (scrub)
            machine_clear_frames(h->m, _mfn(mfn + i), run);
        for (uint64_t k = 0; k < run; k++)
            heap_frame(h, mfn + i + k)->need_scrub = 0;
        flagged += run;
        i += run;
    }
    return flagged;
}

/* Under the node lock: claims a dirty buddy from a list tail. */
static uint64_t scrub_pick_buddy(struct heap *h, struct heap_node *n)
{
    for_each_zone(n, z) {
        for (unsigned j = MAX_ORDER + 1; j-- > 0;) {
            uint64_t tail = n->free[z][j].tail;
            struct frame *f;

            if (tail == LIST_NIL)
                continue;
            f = heap_frame(h, tail);
            if (f->first_dirty == INVALID_DIRTY_IDX ||
                scrub_state_load(f) != SCRUB_NOT_SCRUBBING)
                continue;
            scrub_state_store(f, SCRUB_SCRUBBING);
            return tail;
        }
    }
    return LIST_NIL;
}

/* Scrubs one dirty buddy of node n.  false if none could be claimed. */
static bool scrub_one_buddy(struct heap *h, struct heap_node *n)
{
    uint64_t head, size, i, scrubbed = 0;
    struct frame *f;

    lock_acquire(&n->lock);
    head = scrub_pick_buddy(h, n);
    if (head == LIST_NIL) {
        lock_release(&n->lock);
        return false;
    }
    f = heap_frame(h, head);
    size = UINT64_C(1) << f->order;
    i = f->first_dirty;
    lock_release(&n->lock);

    while (i < size) {
        uint64_t run = 0;

        while (run < SCRUB_RUN_PAGES && i + run < size && heap_frame(h, head + i + run)->need_scrub)
            run++;
        if (run == 0) {
            i++;
            continue;
        }
        machine_clear_frames(h->m, _mfn(head + i), run);
        for (uint64_t k = 0; k < run; k++)
            heap_frame(h, head + i + k)->need_scrub = 0;
        scrubbed += run;
        i += run;
        if (scrub_state_load(f) == SCRUB_ABORT)
            goto aborted;
    }

    while (!lock_try_acquire(&n->lock)) {
        if (scrub_state_load(f) == SCRUB_ABORT)
            goto aborted;
        sched_yield();
    }
    /* Nobody can abort now: aborters hold the node lock.  The buddy is
     * clean: move it to the head of its list. */
    {
        struct frame_list *l = &n->free[zone_of_mfn(head)][f->order];
        frame_list_remove(h, l, head);
        f->first_dirty = INVALID_DIRTY_IDX;
        frame_list_push_head(h, l, head);
    }
    atomic_fetch_sub(&n->need_scrub, scrubbed);
    scrub_state_store(f, SCRUB_NOT_SCRUBBING);
    lock_release(&n->lock);
    return true;

aborted:
    /* The aborter holds the node lock and takes the buddy off its list. */
    f->first_dirty = i < size ? (uint32_t)i : INVALID_DIRTY_IDX;
    atomic_fetch_sub(&n->need_scrub, scrubbed);
    scrub_state_store(f, SCRUB_NOT_SCRUBBING);
    return true;
}

void heap_scrub_all(struct heap *h)
{
    while (heap_scrub_pending(h) > 0) {
        bool progress = false;

        for (unsigned i = 0; i < h->nr_nodes; i++)
            while (scrub_one_buddy(h, &h->node[i]))
                progress = true;
        if (!progress)
            sched_yield(); /* a background scrubber holds the rest */
    }
}

bool heap_scrub_wait(struct heap *h, uint64_t timeout_ns)
{
    uint64_t deadline = mv_now_ns() + timeout_ns;
    struct timespec pause = { 0, 50 * 1000 };

    while (heap_scrub_pending(h) > 0) {
        if (mv_now_ns() > deadline)
            return false;
        nanosleep(&pause, NULL);
    }
    return true;
}

struct scrubber_arg {
    struct heap *h;
    struct heap_node *n;
};

static void *scrubber_main(void *arg)
{
    struct heap *h = ((struct scrubber_arg *)arg)->h;
    struct heap_node *n = ((struct scrubber_arg *)arg)->n;
    struct sched_param param = { 0 };

    free(arg);
    /* Idle: run only when nothing else wants the CPU, as Xen's idle loop. */
    pthread_setschedparam(pthread_self(), SCHED_IDLE, &param);
    for (;;) {
        lock_acquire(&n->lock);
        while (!n->scrubber_stop && atomic_load(&n->need_scrub) == 0) {
            n->scrubber_sleeping = true;
            lock_wait(&n->lock, &n->scrub_cond);
            n->scrubber_sleeping = false;
        }
        if (n->scrubber_stop) {
            lock_release(&n->lock);
            return NULL;
        }
        lock_release(&n->lock);
        if (!scrub_one_buddy(h, n)) {
            /* The dirty buddies left are being scrubbed by someone else. */
            struct timespec pause = { 0, 200 * 1000 };
            nanosleep(&pause, NULL);
        }
    }
}

void heap_scrubbers_start(struct heap *h)
{
    for (unsigned i = 0; i < h->nr_nodes; i++) {
        struct heap_node *n = &h->node[i];
        struct scrubber_arg *arg = malloc(sizeof(*arg));

        if (!arg)
            continue; /* scrubbing still happens at allocation time */
        arg->h = h;
        arg->n = n;
        lock_acquire(&n->lock);
        if (n->scrubber_running) {
            lock_release(&n->lock);
            free(arg);
            continue;
        }
        n->scrubber_stop = false;
        if (pthread_create(&n->scrubber, NULL, scrubber_main, arg) == 0)
            n->scrubber_running = true;
        else
            free(arg);
        lock_release(&n->lock);
    }
}

void heap_scrubbers_stop(struct heap *h)
{
    for (unsigned i = 0; i < h->nr_nodes; i++) {
        struct heap_node *n = &h->node[i];
        bool running;

        lock_acquire(&n->lock);
        running = n->scrubber_running;
        n->scrubber_stop = true;
        pthread_cond_signal(&n->scrub_cond);
        lock_release(&n->lock);
        if (running)
            pthread_join(n->scrubber, NULL);
        lock_acquire(&n->lock);
        n->scrubber_running = false;
        n->scrubber_stop = false;
        lock_release(&n->lock);
    }
}
