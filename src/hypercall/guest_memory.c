/*
 * Guest handles: addresses in the caller's address space, valid only
 * inside the regions it has shared.  A range must lie within one region.
 */
#include <string.h>

#include "memvisor/hypercall.h"

static void *guest_translate(const struct guest_memory *gm, uint64_t gaddr, size_t len)
{
    if (!gm)
        return NULL;
    for (unsigned i = 0; i < gm->nr_regions; i++) {
        const struct guest_region *r = &gm->regions[i];

        if (gaddr >= r->gaddr && gaddr - r->gaddr <= r->len && len <= r->len - (gaddr - r->gaddr))
            return (uint8_t *)r->host + (gaddr - r->gaddr);
    }
    return NULL;
}

bool guest_range_ok(const struct guest_memory *gm, uint64_t gaddr, size_t len)
{
    return guest_translate(gm, gaddr, len) != NULL;
}

int guest_copy_from(const struct guest_memory *gm, void *dst, uint64_t gaddr, size_t len)
{
    const void *src = guest_translate(gm, gaddr, len);

    if (!src)
        return -EFAULT;
    memcpy(dst, src, len);
    return 0;
}

int guest_copy_to(const struct guest_memory *gm, uint64_t gaddr, const void *src, size_t len)
{
    void *dst = guest_translate(gm, gaddr, len);

    if (!dst)
        return -EFAULT;
    memcpy(dst, src, len);
    return 0;
}
