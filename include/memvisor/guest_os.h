/*
 * guest_os: a guest kernel model that runs as a thread, as a vCPU would.
 *
 * It sees what a real guest sees: a memory map (the e820 RAM ranges, each
 * on a virtual NUMA node), its own memory through its own accesses (which
 * fault PoD entries in), its own unprivileged hypercalls and its own
 * xenstore connection as its domid.  It runs:
 *
 *  - a workload: a working set that changes over time (each page it takes
 *    is written with a pattern and checked when it is swapped back), an
 *    optional page cache over tmem's ephemeral pool and swap over its
 *    persistent pool;
 *  - an optional boot scrubber that zeroes all of RAM first;
 *  - Linux's xen-balloon driver: a watch on memory/target (KiB), the
 *    one-time correction from memory/static-max for firmware and video
 *    memory, decrease_reservation and populate_physmap in batches of 512,
 *    the back-off (delay doubling 1..32 s, cancelled after 4 retries until
 *    the target changes) and, under PoD, the wait at boot until the
 *    balloon has reached its target (a panic after 180 s);
 *  - the per-vNUMA-node interface proposed for Xen and never adopted: the
 *    guest writes control/feature-balloon-vnode = 1, the toolstack answers
 *    with memory/vnode<n>/target-balloon-size (KiB to hold in the balloon
 *    on node n, no slack involved) and removes memory/target; the guest
 *    balloons each node to its size and reports what it reached in
 *    data/vnode<n>/balloon-size;
 *  - self-ballooning (Linux's selfballoon): the guest sets its own target
 *    from its working set, moving down by an eighth of the gap per interval
 *    and up at once, and swaps what does not fit into tmem;
 *  - virtio-balloon's free page reporting (free pages handed back to the
 *    host while the guest keeps them on its free lists, repopulated before
 *    reuse) and deflate-on-OOM (up to 256 pages out of the balloon when the
 *    workload would otherwise fail).
 *
 * Time: the model's second is `second_ns` (default 10 ms), so a scenario
 * of minutes runs in seconds; every delay above is in model seconds.
 */
#ifndef MEMVISOR_GUEST_OS_H
#define MEMVISOR_GUEST_OS_H

#include "memvisor/hv.h"
#include "memvisor/store.h"

#define GUEST_MAX_VNODES 8
#define GUEST_MAX_RANGES 32
#define GUEST_MAX_PHASES 64

struct guest_ram_range {
    uint64_t gfn, nr_pages;
    unsigned vnode;
};

/* From at_s on (model seconds), the workload wants working_set_pages. */
struct guest_phase {
    uint64_t at_s;
    uint64_t working_set_pages;
};

struct guest_os_config {
    struct hv *hv;
    struct store *store;
    domid_t domid;
    bool hvm;                 /* HVM or PVH: the static-max correction applies */
    struct guest_ram_range ram[GUEST_MAX_RANGES]; /* the e820 RAM, ascending */
    unsigned nr_ram;
    /* A PV guest boots with only its first populated_pages backed, the
     * rest of its map pre-added to the balloon (0: all backed). */
    uint64_t populated_pages;
    unsigned nr_vnodes;       /* >= 1 (Xen places them: XENMEMF_vnode) */
    bool boot_scrub;
    bool balloon;             /* the xen-balloon driver is loaded */
    bool balloon_vnode;       /* ... and offers the per-vnode interface */
    bool scrub_ballooned;     /* xen_scrub_pages (Linux's default: on) */
    bool selfballoon;
    uint64_t selfballoon_reserve_pages; /* kept above the working set */
    bool free_page_reporting;
    bool deflate_on_oom;
    uint64_t cache_pages;     /* page cache frames over tmem's ephemeral pool (0: none) */
    uint64_t file_pages;      /* the files it reads through the cache */
    bool swap;                /* swap over tmem's persistent pool */
    struct guest_phase phases[GUEST_MAX_PHASES];
    unsigned nr_phases;
    uint64_t second_ns;       /* 0: 10 ms */
    uint64_t seed;
};

enum guest_os_state {
    GUEST_BOOTING = 0,
    GUEST_BALLOON_WAIT, /* boot blocked until the balloon reaches target (PoD) */
    GUEST_RUNNING,
    GUEST_CRASHED,      /* the hypervisor crashed it, or it panicked */
    GUEST_STOPPED,
};

enum balloon_state { BALLOON_DONE = 0, BALLOON_EAGAIN, BALLOON_CANCELLED };

struct guest_os_status {
    enum guest_os_state state;
    enum balloon_state balloon;
    uint64_t ram_pages;        /* in the memory map */
    uint64_t current_pages;    /* ram less the balloon (Linux's current_pages) */
    uint64_t target_pages;     /* the balloon's target (after the correction) */
    int64_t target_diff;       /* the one-time correction (pages) */
    uint64_t balloon_pages;
    uint64_t used_pages;       /* the working set resident */
    uint64_t swapped_pages;    /* the working set in swap */
    uint64_t cache_pages;      /* page cache frames */
    uint64_t reported_pages;   /* free pages handed back by free page reporting */
    uint64_t want_pages;       /* what the workload wants now */
    unsigned retries;
    bool vnode_mode;           /* following memory/vnode<n>/target-balloon-size */
    uint64_t vnode_balloon_pages[GUEST_MAX_VNODES];
    uint64_t vnode_balloon_target[GUEST_MAX_VNODES];
    uint64_t oom_deflates, oom_failures, swap_outs, swap_ins, reports;
    uint64_t cache_reads, cache_tmem_hits;
    uint64_t verify_failures;  /* pages swapped back in with the wrong bytes */
    char why[256];             /* the crash or panic */
};

struct guest_os;

void guest_os_config_default(struct guest_os_config *cfg);
/* Validates cfg, then starts the guest's thread.  0, -EINVAL (a bad
 * memory map or phase list), -ESRCH (no such domain), -ENOMEM. */
int guest_os_start(const struct guest_os_config *cfg, struct guest_os **out) MV_MUST_CHECK;
/* Stops the thread (it notices within a model tick) and frees the model.
 * The domain itself is the toolstack's. */
void guest_os_stop(struct guest_os *g);
void guest_os_status(struct guest_os *g, struct guest_os_status *out);
domid_t guest_os_domid(const struct guest_os *g);
const char *guest_os_state_name(enum guest_os_state s);
const char *balloon_state_name(enum balloon_state s);

#endif
