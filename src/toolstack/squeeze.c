/*
 * The memory scheduler (squeeze.h): claim what is free, lower the other
 * guests' targets for the rest, hold what their balloons free, restore
 * everything on giving up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memvisor/squeeze.h"
#include "memvisor/xl.h"
#include "toolstack_internal.h"

#define KIB_PER_PAGE (PAGE_SIZE / 1024)
#define SQUEEZE_MAX_GUESTS 256

struct squeezed {
    domid_t domid;
    uint64_t room_kib;     /* target - dynamic-min */
    uint64_t lowered_kib;  /* what we took off its target */
    uint64_t max_pages;    /* its max_pages before */
};

/* Free memory no claim holds. */
static int unclaimed_free(struct tc_handle *t, uint64_t *pages)
{
    struct tc_physinfo pi;
    int rc = tc_physinfo(t, &pi);

    if (!rc)
        *pages = sat_sub(pi.free_pages, pi.outstanding_pages);
    return rc;
}

/* Grows domid's claim from *held towards want by what is free now. */
static int hold_more(struct tc_handle *t, domid_t domid, uint64_t want, uint64_t *held)
{
    uint64_t avail, next;
    int rc = unclaimed_free(t, &avail);

    if (rc || *held >= want || avail == 0)
        return rc;
    next = *held + min_u64(avail, want - *held);
    rc = tc_domain_claim_set(t, domid,
                             &(struct claim_entry){ .pages = next, .target = CLAIM_TARGET_GLOBAL },
                             1);
    if (rc == -ENOMEM)
        return 0; /* taken between the look and the claim: next poll */
    if (!rc)
        *held = next;
    return rc;
}

/* The guests that can give memory, and how much in all (KiB). */
static unsigned find_guests(struct tc_handle *t, struct tc_store *xs, domid_t self,
                            struct squeezed *out, uint64_t *room_kib)
{
    struct tc_dominfo info[SQUEEZE_MAX_GUESTS];
    long n = tc_domain_list(t, 1, info, SQUEEZE_MAX_GUESTS);
    unsigned nr = 0;

    *room_kib = 0;
    for (long i = 0; i < n; i++) {
        uint64_t target, dmin;

        if (info[i].domid == self || info[i].dying ||
            xl_memory_kib(xs, 0, info[i].domid, "target", &target) ||
            xl_memory_kib(xs, 0, info[i].domid, "dynamic-min", &dmin) || target <= dmin)
            continue;
        out[nr++] = (struct squeezed){ info[i].domid, target - dmin, 0, info[i].max_pages };
        *room_kib += target - dmin;
    }
    return nr;
}

static void restore(struct tc_handle *t, struct tc_store *xs, struct squeezed *g, unsigned nr)
{
    for (unsigned i = 0; i < nr; i++) {
        if (!g[i].lowered_kib)
            continue;
        /* Best effort: a guest that died meanwhile has nothing to restore. */
        if (xl_mem_set(t, xs, g[i].domid, (int64_t)g[i].lowered_kib, true, true, NULL, 0) == 0)
            (void)!tc_domain_setmaxmem(t, g[i].domid, g[i].max_pages * KIB_PER_PAGE);
        g[i].lowered_kib = 0;
    }
}

void squeeze_turns_init(struct squeeze_turns *turns)
{
    lock_init(&turns->lock, LOCK_RANK_SQUEEZE, "squeeze turns");
    mv_cond_init(&turns->cv);
    turns->busy = false;
}

void squeeze_turns_fini(struct squeeze_turns *turns)
{
    mv_cond_fini(&turns->cv);
    lock_fini(&turns->lock);
}

static void take_turn(struct squeeze_turns *turns, struct mv_clock *clock)
{
    if (!turns)
        return;
    lock_acquire(&turns->lock);
    while (turns->busy)
        (void)mv_clock_wait(clock, &turns->cv, &turns->lock, MV_CLOCK_NEVER);
    turns->busy = true;
    lock_release(&turns->lock);
}

static void end_turn(struct squeeze_turns *turns, struct mv_clock *clock)
{
    if (!turns)
        return;
    lock_acquire(&turns->lock);
    turns->busy = false;
    mv_clock_signal(clock, &turns->cv);
    lock_release(&turns->lock);
}

int squeeze_make_room(struct tc_handle *t, struct tc_store *xs, domid_t domid, uint64_t pages,
                      const struct squeeze_config *cfg, struct squeeze_result *res, char *err,
                      size_t errlen)
{
    struct mv_clock *clock = cfg->clock;
    uint64_t start = mv_clock_now(clock), poll = cfg->poll_ns ? cfg->poll_ns : 1000000;
    uint64_t avail, room_kib, short_kib, asked = 0;
    struct squeezed *guests;
    unsigned nr;
    int rc;

    memset(res, 0, sizeof(*res));
    rc = hold_more(t, domid, pages, &res->held_pages);
    if (rc)
        return ts_fail(err, errlen, rc, "claim for domain %u: %s", domid, mv_strerror(rc));
    if (res->held_pages == pages)
        return 0;
    guests = malloc(SQUEEZE_MAX_GUESTS * sizeof(*guests));
    if (!guests) {
        (void)!tc_domain_claim_pages(t, domid, 0);
        res->held_pages = 0;
        return ts_fail(err, errlen, -ENOMEM, "out of memory");
    }
    take_turn(cfg->turns, clock);
    rc = unclaimed_free(t, &avail);
    nr = rc ? 0 : find_guests(t, xs, domid, guests, &room_kib);
    short_kib = (pages - res->held_pages) * KIB_PER_PAGE;
    if (rc) {
        ts_fail(err, errlen, rc, "physinfo: %s", mv_strerror(rc));
        goto out;
    }
    if (avail * KIB_PER_PAGE + room_kib < short_kib) {
        rc = ts_fail(err, errlen, -ENOMEM,
                     "cannot make room for %llu MiB: %llu MiB free and %llu MiB above the "
                     "guests' dynamic-min",
                     (unsigned long long)(pages * KIB_PER_PAGE) >> 10,
                     (unsigned long long)(avail + res->held_pages) * KIB_PER_PAGE >> 10,
                     (unsigned long long)room_kib >> 10);
        goto out;
    }
    short_kib = sat_sub(short_kib, avail * KIB_PER_PAGE);
    for (unsigned i = 0; i < nr && asked < short_kib; i++) {
        /* A share in proportion to the guest's room, rounded up to a whole
         * page, never more than its room or than what is still short. */
        uint64_t take = (uint64_t)(((unsigned __int128)short_kib * guests[i].room_kib +
                                    room_kib - 1) / room_kib);

        take = min_u64(min_u64(take + KIB_PER_PAGE - 1, guests[i].room_kib),
                       short_kib - asked) & ~(uint64_t)(KIB_PER_PAGE - 1);
        if (!take)
            continue;
        rc = xl_mem_set(t, xs, guests[i].domid, -(int64_t)take, true, true, NULL, 0);
        if (rc)
            continue; /* it died, or its keys are gone: the others may do */
        guests[i].lowered_kib = take;
        asked += take;
        res->guests_squeezed++;
    }
    res->asked_kib = asked;
    for (;;) {
        rc = hold_more(t, domid, pages, &res->held_pages);
        if (rc || res->held_pages == pages)
            break;
        if (mv_clock_now(clock) - start >= cfg->timeout_ns) {
            rc = -ETIMEDOUT;
            break;
        }
        mv_clock_sleep(clock, poll);
    }
    res->waited_ns = mv_clock_now(clock) - start;
    if (rc) {
        double second = (double)(cfg->second_ns ? cfg->second_ns : 1000000000u);

        ts_fail(err, errlen, rc,
                "gave up making room for %llu MiB after %.1f s: held %llu MiB, asked %u "
                "guests for %llu MiB (targets restored)",
                (unsigned long long)(pages * KIB_PER_PAGE) >> 10,
                (double)res->waited_ns / second,
                (unsigned long long)(res->held_pages * KIB_PER_PAGE) >> 10,
                res->guests_squeezed, (unsigned long long)asked >> 10);
        (void)!tc_domain_claim_pages(t, domid, 0);
        res->held_pages = 0;
        res->gave_up = rc == -ETIMEDOUT;
        restore(t, xs, guests, nr);
    }
out:
    end_turn(cfg->turns, clock);
    free(guests);
    if (rc && res->held_pages) {
        (void)!tc_domain_claim_pages(t, domid, 0);
        res->held_pages = 0;
    }
    return rc;
}
