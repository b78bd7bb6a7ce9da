/*
 * Guest OS models: a boot scrubber, a workload, a balloon driver.
 */
#include <stdint.h>

#include <xen/xen.h>
#include <xen/memory.h>

#include "memvisor/guest.h"
#include "memvisor/hypercall.h"
#include "memvisor/p2m.h"

int guest_boot_scrub(struct domain *d, uint64_t nr_pages)
{
    return guest_zero(d, _gfn(0), nr_pages);
}

uint64_t guest_page_pattern(uint64_t seed, uint64_t gfn)
{
    return ((seed ^ gfn) * UINT64_C(0x9E3779B97F4A7C15)) | 1;
}

int guest_dirty(struct domain *d, uint64_t gfn, uint64_t nr_pages, uint64_t seed)
{
    for (uint64_t i = 0; i < nr_pages; i++) {
        uint64_t v = guest_page_pattern(seed, gfn + i);
        /* The first word and one deep in the page: the quick check and
         * the full check each have something to find. */
        int rc = guest_write(d, (gfn + i) << PAGE_SHIFT, &v, sizeof(v));

        if (!rc)
            rc = guest_write(d, ((gfn + i) << PAGE_SHIFT) + 2048, &v, sizeof(v));
        if (rc)
            return rc;
    }
    return 0;
}

int guest_verify(struct domain *d, uint64_t gfn, uint64_t nr_pages, uint64_t seed)
{
    for (uint64_t i = 0; i < nr_pages; i++) {
        uint64_t a, b;
        int rc = guest_read(d, (gfn + i) << PAGE_SHIFT, &a, sizeof(a));

        if (!rc)
            rc = guest_read(d, ((gfn + i) << PAGE_SHIFT) + 2048, &b, sizeof(b));
        if (rc)
            return rc;
        if (a != guest_page_pattern(seed, gfn + i) || b != a)
            return -EIO;
    }
    return 0;
}

#define BALLOON_BATCH 512

int64_t guest_balloon_inflate(struct hv *hv, struct domain *d, uint64_t top_gfn,
                              uint64_t nr_pages, unsigned order)
{
    struct xen_memory_reservation *r;
    struct hc_session *s;
    xen_pfn_t *list;
    uint64_t done = 0, gfn = top_gfn;
    int rc = hc_session_create(hv, d->domid, false, &s);

    if (rc)
        return rc;
    r = hc_buffer_alloc(s, sizeof(*r));
    list = hc_buffer_alloc(s, BALLOON_BATCH * sizeof(*list));
    if (!r || !list) {
        hc_session_destroy(s);
        return -ENOMEM;
    }
    while (done < nr_pages && gfn > 0) {
        unsigned n = 0, o = order;
        uint64_t size = UINT64_C(1) << o;
        long got;

        /* Extents of 2^order where they align and fit, else 4 KiB ones
         * up to the next aligned gfn. */
        if (gfn < size || !is_aligned_u64(gfn, o) || nr_pages - done < size)
            o = 0, size = 1;
        while (n < BALLOON_BATCH && gfn >= size && nr_pages - done - n * size >= size) {
            if (n && o != order && is_aligned_u64(gfn, order))
                break;
            gfn -= size;
            list[n++] = gfn;
        }
        r->extent_start.p = list;
        r->nr_extents = n;
        r->extent_order = o;
        r->mem_flags = 0;
        r->domid = DOMID_SELF;
        got = hc_call(s, HC_MEMORY_OP, XENMEM_decrease_reservation, (uint64_t)(uintptr_t)r, 0,
                      0, 0);
        if (got <= 0)
            break;
        done += (uint64_t)got << o;
        if ((unsigned long)got < n)
            break;
    }
    hc_session_destroy(s);
    return (int64_t)done;
}
