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
