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
    domid_t rover;
    unsigned nr_domains;
};

static inline struct frame *domain_frame(const struct domain *d, uint64_t mfn)
{
    return &d->table->m->frames[mfn];
}

/* ownership.c: frees every extent of a dying domain. */
void domain_relinquish_all(struct domain *d);

#endif
