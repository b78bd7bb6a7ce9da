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
/* The word guest_dirty writes at offsets 0 and 2048 of page gfn: never 0. */
uint64_t guest_page_pattern(uint64_t seed, uint64_t gfn);
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

/*
 * tmem's users in a guest, through its own tmem_op hypercalls.
 *
 * A page cache (Linux's cleancache): pages of files whose contents come
 * from a disk (here a function of file and index), cached in `frames`
 * pages of the guest's own memory from gfn0 (which must be populated).
 * A clean page the cache evicts goes into an ephemeral pool; a miss asks
 * tmem before the disk.  Every page read is checked against the disk.
 */
struct guest_pagecache;
struct guest_pagecache_stats {
    uint64_t reads, hits, tmem_hits, disk_reads, tmem_puts;
};
int guest_pagecache_create(struct hv *hv, struct domain *d, uint64_t gfn0, uint64_t frames,
                           struct guest_pagecache **out) MV_MUST_CHECK;
void guest_pagecache_destroy(struct guest_pagecache *pc);
/* Resizes the cache within the frames it was created with: shrinking
 * evicts the pages of the frames given up into tmem (the guest may then
 * give those frames away); growing adds empty frames, which must be
 * populated.  Returns the new size. */
uint64_t guest_pagecache_resize(struct guest_pagecache *pc, uint64_t frames);
/* Page `index` of `file` into buf (PAGE_SIZE): 0, -EIO (wrong bytes), or
 * an access's error. */
int guest_pagecache_read(struct guest_pagecache *pc, uint64_t file, uint32_t index,
                         void *buf) MV_MUST_CHECK;
void guest_pagecache_stats(const struct guest_pagecache *pc, struct guest_pagecache_stats *out);
/* What a guest's disk holds at (file, index): text-like, compressible. */
void guest_disk_page(uint64_t file, uint32_t index, void *page);

/*
 * A swap device backed by a persistent pool (Linux's frontswap, with its
 * swizzle: 16 objects per device).  A page tmem refuses goes to the disk
 * (here the model's own memory).  swap_out copies gfn's page out to slot;
 * swap_in copies slot back into gfn and frees the slot.
 */
struct guest_swap;
struct guest_swap_stats {
    uint64_t outs, ins, tmem_stored, disk_stored;
};
int guest_swap_create(struct hv *hv, struct domain *d, struct guest_swap **out) MV_MUST_CHECK;
void guest_swap_destroy(struct guest_swap *sw);
int guest_swap_out(struct guest_swap *sw, gfn_t gfn, uint32_t slot) MV_MUST_CHECK;
int guest_swap_in(struct guest_swap *sw, uint32_t slot, gfn_t gfn) MV_MUST_CHECK;
/* Frees a slot without reading it (the page's owner freed the page). */
void guest_swap_discard(struct guest_swap *sw, uint32_t slot);
void guest_swap_stats(const struct guest_swap *sw, struct guest_swap_stats *out);

#endif
