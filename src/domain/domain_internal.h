/*
 * The domain layer's private parts, shared by
 *   domain.c       the table, creation, lookup, destroy
 *   ownership.c    extents: assign, release, split, references
 *   claims.c       the claim front-ends
 *   domain_check.c the checkers
 */
#ifndef MEMVISOR_DOMAIN_INTERNAL_H
#define MEMVISOR_DOMAIN_INTERNAL_H

#include "memvisor/domain.h"

struct domain_table {
    struct mv_lock lock; /* rank DOMTABLE */
    struct heap *heap;
    struct machine *m;
    struct fault_injector *fault;
    struct domain_hooks hooks;
    /* Under lock. */
    struct domain *by_id[DOMID_FIRST_RESERVED];
    uint64_t in_use[(DOMID_FIRST_RESERVED + 63) / 64]; /* bit per by_id slot in use */
    domid_t rover;
    unsigned nr_domains;
};

/* The first domid >= from in use, or DOMID_FIRST_RESERVED.  Table lock held. */
static inline unsigned domain_table_next_locked(const struct domain_table *t, unsigned from)
{
    for (unsigned w = from / 64; w < ARRAY_SIZE(t->in_use); w++) {
        uint64_t bits = t->in_use[w];

        if (w == from / 64)
            bits &= ~UINT64_C(0) << (from % 64);
        if (bits)
            return w * 64 + (unsigned)__builtin_ctzll(bits);
    }
    return DOMID_FIRST_RESERVED;
}

static inline struct frame *domain_frame(const struct domain *d, uint64_t mfn)
{
    return &d->table->m->frames[mfn];
}

/* ownership.c: frees every extent of a dying domain. */
void domain_relinquish_all(struct domain *d);

#endif
