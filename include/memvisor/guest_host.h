/*
 * guest_host: the guests of a host.  When the toolstack first unpauses an
 * HVM or PVH domain, its guest kernel model (guest_os) boots as a thread, with an
 * unprivileged hypercall session and xenstore connection as its domid.
 * It sees the memory map the builder gave it (its p2m's RAM and PoD
 * ranges, each on the vNUMA node whose vmemrange holds it) and reads its
 * options from memvisor/guest/ in its xenstore home:
 *
 *   balloon, balloon-vnode, selfballoon, free-page-reporting,
 *   deflate-on-oom, boot-scrub, swap     0 or 1
 *   working-set-kib                      the workload's working set
 *   workload                             "AT:KIB AT:KIB ...": from model
 *                                        second AT on, a working set of KIB
 *   cache-kib, file-kib                  a page cache over tmem's ephemeral
 *                                        pool, and the files it reads
 *   second-ns, seed                      the model's second; its randomness
 *
 * A domain's death stops its guest (a reaper thread joins it: the death
 * may come from the guest's own thread, when the hypervisor crashes it)
 * and tells the store the domain is gone.  memvisord runs one; so does
 * `memvisor run`, embedded.
 */
#ifndef MEMVISOR_GUEST_HOST_H
#define MEMVISOR_GUEST_HOST_H

#include "memvisor/guest_os.h"
#include "memvisor/log.h"

struct guest_host;

int guest_host_start(struct hv *hv, struct store *store, const struct mv_logger *log,
                     struct guest_host **out) MV_MUST_CHECK;
/* Stops every guest; the domains stay. */
void guest_host_stop(struct guest_host *gh);
/* A running guest's status: 0, or -ENOENT when domid has no guest. */
int guest_host_status(struct guest_host *gh, domid_t domid,
                      struct guest_os_status *out) MV_MUST_CHECK;

/* Parses a workload ("AT:KIB ...", AT ascending from 0) into phases: the
 * number of phases, or -EINVAL. */
int guest_workload_parse(const char *text, struct guest_phase *out, unsigned max) MV_MUST_CHECK;

#endif
