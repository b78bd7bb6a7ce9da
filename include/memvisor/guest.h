/*
 * guest: models of what a guest OS does with its memory, through the
 * interfaces a real guest has: its own accesses (each faulting PoD entries
 * in, as a vCPU's would) and its own, unprivileged hypercalls.
 */
#ifndef MEMVISOR_GUEST_H
#define MEMVISOR_GUEST_H

#include "memvisor/hv.h"

/* An OS whose boot scrubber zeroes all of memory, gfns [0, nr_pages),
 * before anything else.  0, or the first access's error (-ESRCH once the
 * domain has been crashed). */
int guest_boot_scrub(struct domain *d, uint64_t nr_pages) MV_MUST_CHECK;

/* A workload that dirties nr_pages from gfn: each page gets a non-zero
 * pattern derived from seed and its gfn.  0 or the first error. */
int guest_dirty(struct domain *d, uint64_t gfn, uint64_t nr_pages, uint64_t seed) MV_MUST_CHECK;
/* Whether the pages hold what guest_dirty wrote: 0, -EIO (a page differs),
 * or an access error. */
int guest_verify(struct domain *d, uint64_t gfn, uint64_t nr_pages, uint64_t seed) MV_MUST_CHECK;

/*
 * A balloon driver inflating: gives back nr_pages gfns, the highest below
 * top_gfn first, with decrease_reservation from the domain's own
 * hypercall session, in extents of 2^order pages (0: 4 KiB at a time, as
 * Linux's driver does; 9: 2 MiB where aligned).  Returns the pages the
 * hypervisor took, or -errno if the session cannot be had.
 */
int64_t guest_balloon_inflate(struct hv *hv, struct domain *d, uint64_t top_gfn,
                              uint64_t nr_pages, unsigned order);

#endif
