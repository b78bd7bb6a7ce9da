/*
 * Domains: the table, creation, lookup, references and destruction.
 *
 * A domain is reference counted.  The table holds one reference from
 * creation until the domain is dead; every lookup takes one.  The structure
 * is freed when the last reference goes, so a hypercall that looked a
 * domain up can finish even if the domain is destroyed meanwhile.
 */
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain_internal.h"

int domain_table_create(struct heap *h, struct fault_injector *fault,
                        const struct domain_hooks *hooks, struct domain_table **out)
{
    struct domain_table *t = calloc(1, sizeof(*t));

    if (!t)
        return -ENOMEM;
    lock_init(&t->lock, LOCK_RANK_DOMTABLE, "domain table");
    t->heap = h;
    t->m = heap_machine(h);
    t->fault = fault;
    if (hooks)
        t->hooks = *hooks;
    *out = t;
    return 0;
}

void domain_table_destroy(struct domain_table *t)
{
    if (!t)
        return;
    for (;;) {
        struct domain *d;

        lock_acquire(&t->lock);
        d = t->nr_domains ? t->by_id[domain_table_next_locked(t, 0)] : NULL;
        if (d)
            domain_get(d);
        lock_release(&t->lock);
        if (!d)
            break;
        (void)domain_kill(d);
        domain_put(d);
    }
    lock_fini(&t->lock);
    free(t);
}

struct heap *domain_table_heap(const struct domain_table *t)
{
    return t->heap;
}

static void domain_free(struct domain *d)
{
    struct domain_table *t = d->table;

    if (t->hooks.release)
        t->hooks.release(t->hooks.arg, d);
    lock_fini(&d->lock);
    free(d);
}

void domain_get(struct domain *d)
{
    atomic_fetch_add_explicit(&d->refcount, 1, memory_order_relaxed);
}

void domain_put(struct domain *d)
{
    if (atomic_fetch_sub_explicit(&d->refcount, 1, memory_order_acq_rel) == 1)
        domain_free(d);
}

struct domain *domain_lookup(struct domain_table *t, domid_t domid)
{
    struct domain *d;

    if (domid >= DOMID_FIRST_RESERVED)
        return NULL;
    lock_acquire(&t->lock);
    d = t->by_id[domid];
    if (d)
        domain_get(d);
    lock_release(&t->lock);
    return d;
}

/* Xen's rover: the next free domid after the last one picked, skipping 0. */
static int pick_free_domid_locked(struct domain_table *t, domid_t *out)
{
    domid_t id = t->rover;

    for (unsigned tries = 0; tries < DOMID_FIRST_RESERVED; tries++) {
        if (++id >= DOMID_FIRST_RESERVED)
            id = 1;
        if (!t->by_id[id]) {
            t->rover = id;
            *out = id;
            return 0;
        }
    }
    return -ENOMEM;
}

int domain_create(struct domain_table *t, domid_t domid, const struct domain_config *cfg,
                  struct domain **out)
{
    uint64_t all_nodes = heap_nr_nodes(t->heap) == 64 ? UINT64_MAX
                       : (UINT64_C(1) << heap_nr_nodes(t->heap)) - 1;
    struct domain *d;
    int rc;

    if (domid != DOMID_ANY && domid >= DOMID_FIRST_RESERVED)
        return -EINVAL;
    if (cfg->node_affinity & ~all_nodes)
        return -EINVAL;
    d = fault_calloc(t->fault, 1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->table = t;
    d->config = *cfg;
    atomic_init(&d->refcount, 2); /* the table's and the caller's */
    atomic_init(&d->state, DOMAIN_ALIVE);
    atomic_init(&d->paused, !cfg->privileged);
    atomic_init(&d->last_alloc_node, heap_nr_nodes(t->heap) - 1);
    lock_init(&d->lock, LOCK_RANK_DOMAIN, "domain");
    d->alloc_owner.claims = &d->claims;
    d->alloc_owner.node_affinity = cfg->node_affinity;
    d->alloc_owner.last_alloc_node = &d->last_alloc_node;

    /* The layers above set up first, so the domain is complete before
     * anyone can look it up. */
    if (t->hooks.init) {
        rc = t->hooks.init(t->hooks.arg, d);
        if (rc) {
            lock_fini(&d->lock);
            free(d);
            return rc;
        }
    }

    lock_acquire(&t->lock);
    if (domid == DOMID_ANY) {
        rc = pick_free_domid_locked(t, &domid);
    } else {
        rc = t->by_id[domid] ? -EEXIST : 0;
    }
    if (rc == 0) {
        d->domid = domid;
        t->by_id[domid] = d;
        t->in_use[domid / 64] |= UINT64_C(1) << (domid % 64);
        t->nr_domains++;
    }
    lock_release(&t->lock);
    if (rc) {
        domain_free(d);
        return rc;
    }
    *out = d;
    return 0;
}

int domain_kill(struct domain *d)
{
    struct domain_table *t = d->table;

    lock_acquire(&d->lock);
    if (atomic_load(&d->state) != DOMAIN_ALIVE) {
        lock_release(&d->lock);
        /* Someone else is destroying it: wait until it is gone. */
        while (atomic_load_explicit(&d->state, memory_order_acquire) != DOMAIN_DEAD)
            sched_yield();
        return 0;
    }
    /* Dying is set under d->lock, and a claim is only staked under it, so
     * no claim can appear after the cancel below (specs 2.5). */
    atomic_store_explicit(&d->state, DOMAIN_DYING, memory_order_release);
    lock_release(&d->lock);

    heap_claim_cancel(t->heap, &d->claims);
    if (t->hooks.teardown)
        t->hooks.teardown(t->hooks.arg, d);
    domain_relinquish_all(d);

    lock_acquire(&t->lock);
    t->by_id[d->domid] = NULL;
    t->in_use[d->domid / 64] &= ~(UINT64_C(1) << (d->domid % 64));
    t->nr_domains--;
    lock_release(&t->lock);
    atomic_store_explicit(&d->state, DOMAIN_DEAD, memory_order_release);
    domain_put(d); /* the table's reference */
    return 0;
}

void domain_crash(struct domain *d, const char *fmt, ...)
{
    va_list ap;

    lock_acquire(&d->lock);
    if (!atomic_load(&d->crashed)) {
        va_start(ap, fmt);
        vsnprintf(d->crash_reason, sizeof(d->crash_reason), fmt, ap);
        va_end(ap);
        atomic_store_explicit(&d->crashed, true, memory_order_release);
    }
    lock_release(&d->lock);
}

uint64_t domain_tot_pages(struct domain *d)
{
    uint64_t n;

    lock_acquire(&d->lock);
    n = d->tot_pages - d->extra_pages;
    lock_release(&d->lock);
    return n;
}

void domain_set_max_pages(struct domain *d, uint64_t max_pages)
{
    lock_acquire(&d->lock);
    d->max_pages = max_pages;
    lock_release(&d->lock);
}

void domain_get_info(struct domain *d, struct domain_info *out)
{
    struct heap_claims claims;

    memset(out, 0, sizeof(*out));
    out->domid = d->domid;
    out->cdf_flags = d->config.cdf_flags;
    out->privileged = d->config.privileged;
    out->max_vcpus = d->config.max_vcpus;
    out->ssidref = d->config.ssidref;
    memcpy(out->handle, d->config.handle, sizeof(out->handle));
    lock_acquire(&d->lock);
    out->state = (enum domain_state)atomic_load(&d->state);
    out->tot_pages = d->tot_pages - d->extra_pages;
    out->extra_pages = d->extra_pages;
    out->max_pages = d->max_pages;
    out->peak_pages = d->peak_pages;
    out->crashed = atomic_load(&d->crashed);
    memcpy(out->crash_reason, d->crash_reason, sizeof(out->crash_reason));
    lock_release(&d->lock);
    heap_claims_read(d->table->heap, &d->claims, &claims);
    out->outstanding_pages = claims.total;
    out->global_claim = claims.global;
    memcpy(out->node_claims, claims.node, sizeof(out->node_claims));
}

int domain_for_each(struct domain_table *t, domid_t first,
                    int (*fn)(void *arg, struct domain *d), void *arg)
{
    for (unsigned id = first; id < DOMID_FIRST_RESERVED; id++) {
        struct domain *d;
        int rc;

        lock_acquire(&t->lock);
        id = domain_table_next_locked(t, id);
        d = id < DOMID_FIRST_RESERVED ? t->by_id[id] : NULL;
        if (d)
            domain_get(d);
        lock_release(&t->lock);
        if (!d)
            break;
        rc = fn(arg, d);
        domain_put(d);
        if (rc)
            return rc;
    }
    return 0;
}

unsigned domain_table_count(struct domain_table *t)
{
    unsigned n;

    lock_acquire(&t->lock);
    n = t->nr_domains;
    lock_release(&t->lock);
    return n;
}
