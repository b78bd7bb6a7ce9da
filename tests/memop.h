/*
 * XENMEM reservation ops (increase_reservation, decrease_reservation,
 * populate_physmap) through a hypercall session, as a toolstack or a
 * guest makes them.  r and ext live in the session's buffers.
 */
#ifndef MEMVISOR_TEST_MEMOP_H
#define MEMVISOR_TEST_MEMOP_H

#include <stdint.h>

#include <xen/xen.h>
#include <xen/memory.h>

#include "memvisor/hypercall.h"

static inline long test_memop(struct hc_session *s, struct xen_memory_reservation *r,
                              unsigned cmd, domid_t domid, xen_pfn_t *ext, uint64_t nr,
                              unsigned order, unsigned flags)
{
    r->extent_start.p = ext;
    r->nr_extents = nr;
    r->extent_order = order;
    r->mem_flags = flags;
    r->domid = domid;
    return hc_call(s, HC_MEMORY_OP, cmd, (uint64_t)(uintptr_t)r, 0, 0, 0);
}

#endif
