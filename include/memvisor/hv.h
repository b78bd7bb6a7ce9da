/*
 * hv: one host, everything on it.
 *
 * A struct hv owns a machine, its heap, its domains (each with a p2m),
 * transcendent memory, and the domain hooks that tie them together.  There is no global state: a test can build many hosts.
 * Domain 0, the privileged control domain, exists from creation.
 */
#ifndef MEMVISOR_HV_H
#define MEMVISOR_HV_H

#include <stdio.h>

#include "memvisor/clock.h"
#include "memvisor/domain.h"
#include "memvisor/fault.h"
#include "memvisor/heap.h"
#include "memvisor/log.h"
#include "memvisor/machine.h"
#include "memvisor/p2m.h"
#include "memvisor/tmem.h"

struct hv_config {
    uint64_t ram_bytes;       /* default 4 GiB */
    unsigned nr_nodes;        /* default 1 */
    enum claim_gate gate;     /* default CLAIM_GATE_HEAD */
    bool background_scrub;    /* default true */
    bool huge_pages;          /* default false */
    struct mv_logger log;     /* default: warnings to stderr */
    /* The time of what runs on the host (guest models, the toolstack's
     * builds): NULL, the real clock; a virtual clock for a reproducible
     * run (background scrubbing must then be off: scrubbers are not
     * participants, and allocation scrubs what it takes). */
    struct mv_clock *clock;
    /* What physinfo reports; 0: this machine's (a reproducible run fixes
     * them, or xl info would differ from one machine to the next). */
    unsigned nr_cpus;
    uint32_t cpu_khz;
};

/* A domain hook: a function and its argument, set and called together. */
struct hv_hook {
    void (*fn)(void *arg, domid_t domid);
    void *arg;
};

struct hv {
    struct hv_config config;
    struct machine *m;
    struct heap *heap;
    struct domain_table *domains;
    struct tmem *tmem;
    struct fault_injector fault;
    struct mv_logger log;
    uint32_t cpu_khz;
    unsigned nr_cpus;
    struct mv_clock *clock;   /* never NULL: hv_config's, or the real one */
    /* The hooks, under hooks_lock (rank HV_HOOKS), held while one runs:
     * a hook set to NULL is never called again once the setter returns. */
    struct mv_lock hooks_lock;
    struct hv_hook on_death;   /* each domain's death (hv_on_domain_death) */
    struct hv_hook on_unpause; /* the toolstack's unpause (hv_on_domain_unpause) */
};

MV_API void hv_config_default(struct hv_config *cfg);
/* 0, -EINVAL with a reason in *why, -ENOMEM. */
MV_API int hv_create(const struct hv_config *cfg, struct hv **out, const char **why) MV_MUST_CHECK;
/* Destroys every domain, then the host. */
MV_API void hv_destroy(struct hv *hv);
/*
 * Tells fn of every domain's death (called in domain_kill, after the
 * layers above tore it down, with no lock held).  Set it before anything
 * can destroy a domain; fn must not destroy domains itself.
 */
MV_API void hv_on_domain_death(struct hv *hv, void (*fn)(void *arg, domid_t domid), void *arg);
/* Tells fn when XEN_DOMCTL_unpausedomain unpauses a domain (memvisord
 * starts its guest model then), with no lock held. */
MV_API void hv_on_domain_unpause(struct hv *hv, void (*fn)(void *arg, domid_t domid), void *arg);
/* Calls a hook (hv->on_death or hv->on_unpause) if one is set. */
void hv_call_hook(struct hv *hv, const struct hv_hook *hook, domid_t domid);
/* Runs every checker (heap, domains, each p2m); counts violations.  The
 * host must be quiescent. */
MV_API unsigned hv_check(struct hv *hv, FILE *report);

#endif
