/*
 * hypercall: Xen 4.17's hypercall ABI (Debian's libxen-dev headers):
 * memory_op, domctl, sysctl, multicall and xen_version; and tmem_op,
 * which Xen 4.13 removed but whose guest ABI the headers keep.
 *
 * Arguments arrive as they would in registers: an op number and six
 * 64-bit words, some of which are guest handles (addresses in the
 * caller's address space).  Every handle is translated through the
 * caller's guest memory: a set of regions the caller has shared with the
 * hypervisor (libxencall's hypercall buffers).  A handle that points
 * outside them gets -EFAULT.  Every structure is copied in once and
 * validated on the copy, so a caller that changes its buffers meanwhile
 * can only hurt itself.
 *
 * Results follow Xen: 0 or a positive count, or -errno.  The reservation
 * ops of memory_op return the number of extents done, so an error there
 * shows as a short count (libxc's _exact wrappers turn it into EBUSY or
 * ENOMEM).
 */
#ifndef MEMVISOR_HYPERCALL_H
#define MEMVISOR_HYPERCALL_H

#include "memvisor/base.h"

struct hv;

struct guest_region {
    uint64_t gaddr; /* where the caller sees it */
    void *host;     /* where we see it */
    size_t len;
};

struct guest_memory {
    const struct guest_region *regions;
    unsigned nr_regions;
};

/* 0 or -EFAULT (a range outside every region, or wrapping). */
MV_API int guest_copy_from(const struct guest_memory *gm, void *dst, uint64_t gaddr,
                           size_t len) MV_MUST_CHECK;
MV_API int guest_copy_to(const struct guest_memory *gm, uint64_t gaddr, const void *src,
                         size_t len) MV_MUST_CHECK;
MV_API bool guest_range_ok(const struct guest_memory *gm, uint64_t gaddr, size_t len);

struct hc_caller {
    struct hv *hv;
    domid_t domid;        /* the calling domain */
    bool privileged;      /* the control domain: may act on any domain */
    const struct guest_memory *mem;
};

/* Xen's hypercall numbers that memvisor serves. */
#define HC_MEMORY_OP 12
#define HC_MULTICALL 13
#define HC_XEN_VERSION 17
#define HC_SYSCTL 35
#define HC_DOMCTL 36
#define HC_TMEM_OP 38

/* Performs one hypercall.  Unknown ops: -ENOSYS. */
MV_API long mv_hypercall(const struct hc_caller *c, unsigned op, const uint64_t args[6]);

/*
 * memvisor's own domctl, beyond Xen 4.17: install a claim set atomically
 * (specs 2.8, modelled on the NUMA series' XEN_DOMCTL_claim_memory).
 * domctl.u holds struct mv_domctl_claim_memory; each entry is a
 * struct mv_memory_claim.
 */
#define MV_DOMCTL_claim_memory 90
#define MV_CLAIM_TARGET_GLOBAL 0xffffffffu
#define MV_CLAIM_MAX_ENTRIES 65

struct mv_memory_claim {
    uint64_t pages;
    uint32_t cmd;    /* must be 0 */
    uint32_t target; /* a node, or MV_CLAIM_TARGET_GLOBAL */
};

struct mv_domctl_claim_memory {
    uint64_t claims;     /* guest handle: array of struct mv_memory_claim */
    uint32_t nr_claims;
    uint32_t pad;        /* must be 0 */
};

/*
 * memvisor's flag for XENMEM_claim_pages (whose mem_flags Xen requires to
 * be 0): a soft claim, counting freeable tmem memory as available (see
 * heap_claim_stake_soft).
 */
#define MV_XENMEMF_soft_claim (1u << 31)

/*
 * XEN_SYSCTL_tmem_op (24): tmem's control, as Xen 4.12 defined it before
 * tmem was removed (Xen 4.17's headers keep only the number, commented
 * out).  sysctl.u holds struct mv_sysctl_tmem_op.  buf is a guest handle:
 * struct tmem_client_info (GET/SET_CLIENT_INFO), struct tmem_pool_info[]
 * (GET/SET_POOLS, SET_AUTH: len bytes), text (LIST), a struct
 * tmem_handle then a page (SAVE_GET_NEXT_PAGE), a handle
 * (SAVE_GET_NEXT_INV), a page (RESTORE_PUT_PAGE).  See memvisor/tmem.h.
 */
#define MV_SYSCTL_tmem_op 24
#define MV_TMEM_OP_THAW 0
#define MV_TMEM_OP_FREEZE 1
#define MV_TMEM_OP_FLUSH 2
#define MV_TMEM_OP_DESTROY 3
#define MV_TMEM_OP_LIST 4
#define MV_TMEM_OP_GET_CLIENT_INFO 5
#define MV_TMEM_OP_SET_CLIENT_INFO 6
#define MV_TMEM_OP_GET_POOLS 7
#define MV_TMEM_OP_QUERY_FREEABLE_MB 8
#define MV_TMEM_OP_SET_POOLS 9
#define MV_TMEM_OP_SAVE_BEGIN 10
#define MV_TMEM_OP_SET_AUTH 11
#define MV_TMEM_OP_SAVE_GET_NEXT_PAGE 19
#define MV_TMEM_OP_SAVE_GET_NEXT_INV 20
#define MV_TMEM_OP_SAVE_END 21
#define MV_TMEM_OP_RESTORE_BEGIN 30
#define MV_TMEM_OP_RESTORE_PUT_PAGE 32
#define MV_TMEM_OP_RESTORE_FLUSH_PAGE 33
#define MV_TMEM_OP_ALL_CLIENTS 0xFFFFu

struct mv_sysctl_tmem_op {
    uint32_t cmd;
    int32_t pool_id;
    uint32_t cli_id;  /* a domid, or MV_TMEM_OP_ALL_CLIENTS */
    uint32_t len;     /* of buf */
    uint32_t arg;
    uint32_t pad;     /* must be 0 */
    uint64_t oid[3];
    uint64_t buf;     /* guest handle */
};

/*
 * An in-process caller's session: a caller identity and the buffers it has
 * shared (like libxencall's hypercall buffers).  One thread at a time.
 */
struct hc_session;

MV_API int hc_session_create(struct hv *hv, domid_t domid, bool privileged,
                             struct hc_session **out) MV_MUST_CHECK;
MV_API void hc_session_destroy(struct hc_session *s);
/* A zeroed buffer the hypervisor may read and write; NULL when out of
 * memory or out of slots. */
MV_API void *hc_buffer_alloc(struct hc_session *s, size_t bytes);
MV_API void hc_buffer_free(struct hc_session *s, void *buf);
MV_API long hc_call(struct hc_session *s, unsigned op, uint64_t a0, uint64_t a1,
                    uint64_t a2, uint64_t a3, uint64_t a4);
MV_API const struct hc_caller *hc_session_caller(const struct hc_session *s);

#endif
