/*
 * Populating a domain's memory as libxc's meminit does, at a build's pace:
 * the one loop that both builders (toolstack_build, xl_create) use.
 */
#include "toolstack_internal.h"

void ts_pace_start(struct ts_pace *p, struct mv_clock *clock, uint64_t bytes_per_sec)
{
    *p = (struct ts_pace){ clock, bytes_per_sec, mv_clock_now(clock), 0 };
}

/* Counts pages placed and waits until they are due at the pace. */
static void pace_wait(struct ts_pace *p, uint64_t pages)
{
    p->bytes += pages << PAGE_SHIFT;
    /* Integer arithmetic: the same due times in every build. */
    if (p->bytes_per_sec)
        mv_clock_sleep_until(p->clock,
                             p->start_ns + (uint64_t)((unsigned __int128)p->bytes * 1000000000u /
                                                      p->bytes_per_sec));
}

/* 4 KiB pages for [gfn, gfn + n), in calls of up to batch: 0 or -ENOMEM. */
static int populate_4k(struct tc_handle *t, domid_t domid, uint64_t gfn, uint64_t n,
                       unsigned flags, unsigned batch, struct ts_pace *pace)
{
    uint64_t ext[TS_MAX_BATCH];

    while (n) {
        uint64_t k = min_u64(n, batch);
        long done;

        for (uint64_t i = 0; i < k; i++)
            ext[i] = gfn + i;
        done = tc_populate_physmap(t, domid, k, 0, flags, ext);
        if (done > 0)
            pace_wait(pace, (uint64_t)done);
        if (done != (long)k)
            return -ENOMEM;
        gfn += k;
        n -= k;
    }
    return 0;
}

int ts_populate(struct tc_handle *t, domid_t domid, uint64_t gfn, uint64_t n, unsigned flags,
                const struct ts_batches *b, struct ts_pace *pace)
{
    unsigned batch_2m = b && b->batch_2m ? min_u64(b->batch_2m, TS_MAX_BATCH) : 4;
    unsigned batch_4k = b && b->batch_4k ? min_u64(b->batch_4k, TS_MAX_BATCH) : TS_MAX_BATCH;
    uint64_t ext[TS_MAX_BATCH];

    while (n) {
        unsigned k = 0;
        long done;

        if (!is_aligned_u64(gfn, SUPERPAGE_ORDER) || n < SUPERPAGE_PAGES) {
            /* 4 KiB up to the next 2 MiB boundary (or the end). */
            uint64_t to_boundary = SUPERPAGE_PAGES - (gfn & (SUPERPAGE_PAGES - 1));
            uint64_t k4 = n < SUPERPAGE_PAGES ? n : min_u64(n, to_boundary);
            int rc = populate_4k(t, domid, gfn, k4, flags, batch_4k, pace);

            if (rc)
                return rc;
            gfn += k4;
            n -= k4;
            continue;
        }
        while (k < batch_2m && n >= ((uint64_t)k + 1) * SUPERPAGE_PAGES) {
            ext[k] = gfn + (uint64_t)k * SUPERPAGE_PAGES;
            k++;
        }
        done = tc_populate_physmap(t, domid, k, SUPERPAGE_ORDER, flags, ext);
        if (done < 0)
            done = 0;
        if (done)
            pace_wait(pace, (uint64_t)done << SUPERPAGE_ORDER);
        gfn += (uint64_t)done << SUPERPAGE_ORDER;
        n -= (uint64_t)done << SUPERPAGE_ORDER;
        if (done < (long)k) {
            /* No 2 MiB block free (a fragmented host): libxc falls back to
             * 4 KiB pages for the superpage that did not fit. */
            int rc = populate_4k(t, domid, gfn, SUPERPAGE_PAGES, flags, batch_4k, pace);

            if (rc)
                return rc;
            gfn += SUPERPAGE_PAGES;
            n -= SUPERPAGE_PAGES;
        }
    }
    return 0;
}
