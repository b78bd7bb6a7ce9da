/*
 * toolstack: memvisor's own control library and domain builder.
 *
 * tc_* calls are libxenctrl's calls for an in-process caller: each encodes
 * Xen's hypercall structures in its shared buffers and goes through
 * mv_hypercall, exactly as a call from outside would.  Results are 0 (or a
 * count) or -errno.
 */
#ifndef MEMVISOR_TOOLSTACK_H
#define MEMVISOR_TOOLSTACK_H

#include "memvisor/heap.h"
#include "memvisor/hv.h"
#include "memvisor/hypercall.h"
#include "memvisor/store.h"

struct tc_handle;

/* A control connection in process, as domain `self` (privileged for dom0). */
int tc_open(struct hv *hv, domid_t self, bool privileged, struct tc_handle **out) MV_MUST_CHECK;
/* A control connection to memvisord (socket_path NULL: the default, see
 * mv_default_socket_path), as the control domain.  -ENOENT or
 * -ECONNREFUSED when no daemon listens. */
int tc_connect(const char *socket_path, struct tc_handle **out) MV_MUST_CHECK;
void tc_close(struct tc_handle *t);

struct tc_physinfo {
    uint64_t total_pages;
    uint64_t free_pages;
    uint64_t outstanding_pages;
    uint64_t scrub_pages;
    unsigned nr_nodes;
    unsigned nr_cpus;
    uint32_t cpu_khz;
};
struct tc_node_memory {
    uint64_t size_bytes;
    uint64_t free_bytes;
};
/* Per-node memory (numainfo); returns the number of nodes filled. */
long tc_numainfo(struct tc_handle *t, struct tc_node_memory *out, unsigned max);
/* Xen's version numbers and extra version (xen_version). */
int tc_xen_version(struct tc_handle *t, unsigned *major, unsigned *minor, char extra[16]) MV_MUST_CHECK;
int tc_physinfo(struct tc_handle *t, struct tc_physinfo *out) MV_MUST_CHECK;

struct tc_dominfo {
    domid_t domid;
    bool dying;
    bool hvm;
    bool paused;
    uint8_t uuid[16];
    uint64_t tot_pages;
    uint64_t max_pages;
    uint64_t outstanding_pages;
    unsigned max_vcpus;
};
/* *domid: DOMID_ANY (or 0) to pick one; receives the new id. */
int tc_domain_create(struct tc_handle *t, domid_t *domid, bool hvm, unsigned max_vcpus) MV_MUST_CHECK;
/* The same with the domain's handle (its UUID, which libxl names it by). */
int tc_domain_create_uuid(struct tc_handle *t, domid_t *domid, bool hvm, unsigned max_vcpus,
                          const uint8_t uuid[16]) MV_MUST_CHECK;
/* XEN_DOMCTL_pausedomain / unpausedomain (memvisord boots a domain's
 * guest model when it is first unpaused). */
int tc_domain_pause(struct tc_handle *t, domid_t domid, bool pause) MV_MUST_CHECK;
/* XEN_DOMCTL_setvnumainfo: vnode i on pnode vnode_to_pnode[i], its
 * memory [end of vnode i-1, vnode_end_gfn[i]) (at most 16 vnodes, 64
 * vCPUs, spread over the vnodes). */
int tc_domain_setvnuma(struct tc_handle *t, domid_t domid, unsigned nr_vnodes,
                       const unsigned *vnode_to_pnode, const uint64_t *vnode_end_gfn,
                       unsigned nr_vcpus) MV_MUST_CHECK;
/* XENMEM_set_pod_target, in pages. */
int tc_domain_set_pod_target(struct tc_handle *t, domid_t domid,
                             uint64_t target_pages) MV_MUST_CHECK;
/* XENMEM_get_pod_target: the domain's pages, its PoD cache and entries. */
int tc_domain_get_pod_target(struct tc_handle *t, domid_t domid, uint64_t *tot_pages,
                             uint64_t *cache_pages, uint64_t *entries) MV_MUST_CHECK;
int tc_domain_destroy(struct tc_handle *t, domid_t domid) MV_MUST_CHECK;
int tc_domain_setmaxmem(struct tc_handle *t, domid_t domid, uint64_t max_kib) MV_MUST_CHECK;
/* XENMEM_claim_pages: nr_pages is the absolute total; 0 cancels. */
int tc_domain_claim_pages(struct tc_handle *t, domid_t domid, uint64_t nr_pages) MV_MUST_CHECK;
/* The same, soft: freeable tmem memory counts (MV_XENMEMF_soft_claim). */
int tc_domain_claim_pages_soft(struct tc_handle *t, domid_t domid,
                               uint64_t nr_pages) MV_MUST_CHECK;
/* memvisor's claim-set call (struct claim_entry targets: node or
 * CLAIM_TARGET_GLOBAL). */
int tc_domain_claim_set(struct tc_handle *t, domid_t domid, const struct claim_entry *set,
                        unsigned nr) MV_MUST_CHECK;
int tc_domain_getinfo(struct tc_handle *t, domid_t domid, struct tc_dominfo *out) MV_MUST_CHECK;
/* Fills up to max entries for domains with id >= first; returns how many. */
long tc_domain_list(struct tc_handle *t, domid_t first, struct tc_dominfo *out, unsigned max);

/* tmem's control (XEN_SYSCTL_tmem_op; domid MV_TMEM_OP_ALL_CLIENTS for
 * every client): freeze or thaw; LIST's text into out (NUL-terminated,
 * cut at cap and at 16 KiB): its length or -errno. */
int tc_tmem_freeze(struct tc_handle *t, domid_t domid, bool freeze) MV_MUST_CHECK;
long tc_tmem_list(struct tc_handle *t, domid_t domid, bool long_format, char *out, size_t cap);

/*
 * Reservation ops on nr extents of 2^order pages.  extents[] holds gfns in
 * (and mfns out for PV, as Xen writes them).  Return the number of extents
 * done (fewer on failure), or -errno when nothing could be sent.
 */
long tc_populate_physmap(struct tc_handle *t, domid_t domid, uint64_t nr, unsigned order,
                         unsigned mem_flags, uint64_t *extents);
long tc_decrease_reservation(struct tc_handle *t, domid_t domid, uint64_t nr, unsigned order,
                             const uint64_t *extents);
long tc_increase_reservation(struct tc_handle *t, domid_t domid, uint64_t nr, unsigned order,
                             unsigned mem_flags, uint64_t *extents);

/*
 * The toolstack's xenstore: in process (a privileged connection to a
 * store) or a xenstore socket.  Paths are absolute; values are strings.
 * 0 or -errno.
 */
struct tc_store;
/* A store's domain_exists for a host (arg: the struct hv). */
bool tc_domain_alive(void *hv, domid_t domid);
int tc_store_local(struct store *s, struct tc_store **out) MV_MUST_CHECK;
int tc_store_connect(const char *path, struct tc_store **out) MV_MUST_CHECK;
void tc_store_close(struct tc_store *x);
int tc_xs_read(struct tc_store *x, uint32_t tx, const char *path, char *value,
               size_t cap) MV_MUST_CHECK;
int tc_xs_write(struct tc_store *x, uint32_t tx, const char *path, const char *value) MV_MUST_CHECK;
int tc_xs_printf(struct tc_store *x, uint32_t tx, const char *path, const char *fmt, ...)
    MV_PRINTF(4, 5) MV_MUST_CHECK;
int tc_xs_mkdir(struct tc_store *x, uint32_t tx, const char *path) MV_MUST_CHECK;
int tc_xs_rm(struct tc_store *x, uint32_t tx, const char *path) MV_MUST_CHECK;
/* perms: space-separated, as xenstore-chmod takes them ("n0 r5"). */
int tc_xs_set_perms(struct tc_store *x, uint32_t tx, const char *path,
                    const char *perms) MV_MUST_CHECK;
int tc_xs_directory(struct tc_store *x, uint32_t tx, const char *path, char *buf, size_t cap,
                    size_t *len) MV_MUST_CHECK;
int tc_xs_transaction_start(struct tc_store *x, uint32_t *tx) MV_MUST_CHECK;
int tc_xs_transaction_end(struct tc_store *x, uint32_t tx, bool commit) MV_MUST_CHECK;
int tc_xs_introduce(struct tc_store *x, domid_t domid) MV_MUST_CHECK;

/*
 * The domain builder (libxc's meminit for an HVM guest, reduced to memory):
 * create, set max, claim (optionally), populate in 2 MiB extents (falling
 * back to 4 KiB where no 2 MiB block is free) and 4 KiB for the rest, then
 * release what is left of the claim.  A failed build is destroyed.
 */
struct build_spec {
    uint64_t mem_pages;
    bool use_claim;
    bool soft_claim; /* the claim counts what tmem can give back */
    /* Extents per populate call (libxc uses runs of up to 8 MiB). */
    unsigned batch_2m;
    unsigned batch_4k;
    /* Paces populating to this many bytes per second of clock (NULL: the
     * real one), as a real build (scrubbing, page tables, loading) takes
     * its time; 0: flat out. */
    uint64_t pace_bytes_per_sec;
    struct mv_clock *clock;
};

struct build_result {
    int rc;                  /* 0, or the first error */
    domid_t domid;           /* the built domain (valid when rc == 0) */
    bool refused_at_once;    /* the claim failed: nothing was populated */
    bool delayed_failure;    /* populating failed after pages were placed */
    uint64_t populated_pages;
    uint64_t elapsed_ns;
};

void toolstack_build(struct tc_handle *t, const struct build_spec *spec, struct build_result *res);

#endif
