/*
 * squeeze: the memory scheduler, like XenServer's squeezed but atomic.
 *
 * To make room for `pages` on a new (created, empty) domain it:
 *  1. holds what is free at once with a claim on the new domain;
 *  2. if that is short, lowers the other guests' balloon targets, each
 *     within its memory/dynamic-min (KiB; a guest without one is not
 *     squeezed), in proportion to what each can give: new target =
 *     target - shortfall * (target - dynamic-min) / sum(target - dynamic-min),
 *     with xl_mem_set's arithmetic (relative, enforced, so a guest cannot
 *     balloon back up past its new target);
 *  3. waits for the balloons, growing the claim by what each poll finds
 *     free (memvisor's claim set replaces a claim atomically), so nothing
 *     else can take the freed memory;
 *  4. succeeds when the claim holds `pages`; or gives up at the deadline:
 *     cancels the claim and restores every target (and max_pages) it
 *     changed.  When the guests' room (sum of target - dynamic-min) plus
 *     free memory cannot cover `pages`, it fails at once and changes
 *     nothing.
 *
 * The claim is left on the domain: the builder populates from it and
 * releases the rest (xl_create_opts.make_room).
 */
#ifndef MEMVISOR_SQUEEZE_H
#define MEMVISOR_SQUEEZE_H

#include "memvisor/toolstack.h"

/* Squeezes on one host take turns: two at once would count the same
 * guests' room.  The caller owns one per host. */
struct squeeze_turns {
    struct mv_lock lock;      /* rank SQUEEZE: busy */
    struct mv_cond cv;        /* busy cleared */
    bool busy;
};
void squeeze_turns_init(struct squeeze_turns *turns);
void squeeze_turns_fini(struct squeeze_turns *turns);

struct squeeze_config {
    uint64_t timeout_ns;      /* give up after this long (of clock) */
    uint64_t poll_ns;         /* 0: 1 ms */
    uint64_t second_ns;       /* the second messages count in (a model's); 0: 1 s */
    struct mv_clock *clock;   /* NULL: the real one */
    struct squeeze_turns *turns; /* NULL: nobody else squeezes this host */
};

struct squeeze_result {
    uint64_t held_pages;      /* the claim (on success: pages) */
    uint64_t asked_kib;       /* targets lowered by, in all */
    unsigned guests_squeezed;
    uint64_t waited_ns;
    bool gave_up;             /* deadline passed: targets restored */
};

/* 0; -ENOMEM (not enough room even with every guest at its dynamic-min:
 * nothing changed); -ETIMEDOUT (gave up, targets restored); -errno from
 * a call.  err says why. */
int squeeze_make_room(struct tc_handle *t, struct tc_store *xs, domid_t domid, uint64_t pages,
                      const struct squeeze_config *cfg, struct squeeze_result *res, char *err,
                      size_t errlen) MV_MUST_CHECK;

#endif
