/*
 * In-process callers: an identity plus the buffers it shares with the
 * hypervisor, addressed by their own pointers (as libxencall's buffers are
 * on a real host, where the hypervisor maps them).
 */
#include <stdlib.h>
#include <string.h>

#include "hypercall_internal.h"

#define SESSION_MAX_BUFFERS 32

struct hc_session {
    struct hc_caller caller;
    struct guest_memory mem;
    struct guest_region region[SESSION_MAX_BUFFERS];
};

int hc_session_create(struct hv *hv, domid_t domid, bool privileged, struct hc_session **out)
{
    struct hc_session *s = calloc(1, sizeof(*s));

    if (!s)
        return -ENOMEM;
    s->caller.hv = hv;
    s->caller.domid = domid;
    s->caller.privileged = privileged;
    s->caller.mem = &s->mem;
    s->mem.regions = s->region;
    *out = s;
    return 0;
}

void hc_session_destroy(struct hc_session *s)
{
    if (!s)
        return;
    for (unsigned i = 0; i < s->mem.nr_regions; i++)
        free(s->region[i].host);
    free(s);
}

void *hc_buffer_alloc(struct hc_session *s, size_t bytes)
{
    void *p;

    if (s->mem.nr_regions == SESSION_MAX_BUFFERS || bytes == 0)
        return NULL;
    p = calloc(1, bytes);
    if (!p)
        return NULL;
    s->region[s->mem.nr_regions++] = (struct guest_region){ (uint64_t)(uintptr_t)p, p, bytes };
    return p;
}

void hc_buffer_free(struct hc_session *s, void *buf)
{
    for (unsigned i = 0; i < s->mem.nr_regions; i++) {
        if (s->region[i].host == buf) {
            free(buf);
            s->region[i] = s->region[--s->mem.nr_regions];
            return;
        }
    }
}

long hc_call(struct hc_session *s, unsigned op, uint64_t a0, uint64_t a1, uint64_t a2,
             uint64_t a3, uint64_t a4)
{
    uint64_t args[6] = { a0, a1, a2, a3, a4, 0 };

    return mv_hypercall(&s->caller, op, args);
}

const struct hc_caller *hc_session_caller(const struct hc_session *s)
{
    return &s->caller;
}
