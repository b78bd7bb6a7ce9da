/*
 * Helpers the toolstack's files share (xl.c defines them).
 */
#ifndef MEMVISOR_TOOLSTACK_INTERNAL_H
#define MEMVISOR_TOOLSTACK_INTERNAL_H

#include "memvisor/toolstack.h"

/* Writes the message into err (when there is one) and returns rc. */
int ts_fail(char *err, size_t errlen, int rc, const char *fmt, ...) MV_PRINTF(4, 5);

/* A build's pace: populating waits on the clock so that no more than
 * bytes_per_sec have gone in since it started (0: flat out). */
struct ts_pace {
    struct mv_clock *clock;
    uint64_t bytes_per_sec, start_ns;
    uint64_t bytes;           /* populated so far */
};
void ts_pace_start(struct ts_pace *p, struct mv_clock *clock, uint64_t bytes_per_sec);

#define TS_MAX_BATCH 512
/* Extents per populate call: 2 MiB ones (libxc: 4, runs of 8 MiB) and
 * 4 KiB ones (512); 0 for those. */
struct ts_batches {
    unsigned batch_2m, batch_4k;
};
/* Populates [gfn, gfn + n) as libxc does: 2 MiB extents where aligned,
 * falling back to 4 KiB for a superpage no 2 MiB block could hold, 4 KiB
 * for the rest; pace->bytes counts what went in.  0 or -ENOMEM (Xen
 * placed fewer). */
int ts_populate(struct tc_handle *t, domid_t domid, uint64_t gfn, uint64_t n, unsigned flags,
                const struct ts_batches *b, struct ts_pace *pace) MV_MUST_CHECK;

#endif
