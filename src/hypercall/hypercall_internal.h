/*
 * The hypercall layer's private parts.  Xen's public headers come first:
 * they define the DOMID_* constants without guards.
 *   dispatch.c     mv_hypercall, multicall, target lookup
 *   guest_memory.c copies to and from guest handles
 *   session.c      in-process callers and their buffers
 *   memory_op.c    XENMEM_*
 *   domctl.c       XEN_DOMCTL_* and the claim-set call
 *   sysctl.c       XEN_SYSCTL_*
 *   xen_version.c  XENVER_*
 *   tmem_op.c      the guest's tmem_op
 *   sysctl_tmem.c  tmem's control sysctl
 */
#ifndef MEMVISOR_HYPERCALL_INTERNAL_H
#define MEMVISOR_HYPERCALL_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

#include <xen/xen.h>
#include <xen/domctl.h>
#include <xen/memory.h>
#include <xen/sysctl.h>
#include <xen/version.h>

#include "memvisor/hv.h"
#include "memvisor/hypercall.h"

/* A guest handle's raw address. */
#define HANDLE_ADDR(h) ((uint64_t)(uintptr_t)(h).p)

long do_memory_op(const struct hc_caller *c, uint64_t cmd, uint64_t arg);
long do_domctl(const struct hc_caller *c, uint64_t arg);
long do_sysctl(const struct hc_caller *c, uint64_t arg);
long do_xen_version(const struct hc_caller *c, uint64_t cmd, uint64_t arg);
long do_tmem_op(const struct hc_caller *c, uint64_t arg);
long sysctl_tmem_op(const struct hc_caller *c, const struct mv_sysctl_tmem_op *op);

/*
 * The target of an operation, with Xen's XSM_TARGET rule: the caller
 * itself (DOMID_SELF or its own id), or any domain if it is privileged.
 * 0, -ESRCH (no such domain), -EPERM (not allowed).  *out holds a reference.
 */
int hc_lookup_target(const struct hc_caller *c, domid_t domid, struct domain **out) MV_MUST_CHECK;

void hc_fill_domaininfo(struct domain *d, struct xen_domctl_getdomaininfo *info);

#endif
