/*
 * Guests touching their own memory, as a vCPU would: each page is
 * translated with P2M_ALLOC (faulting a PoD entry in), and held by a
 * reference while its bytes are read or written, so that a concurrent
 * zero check sees the access (pod_reclaim.c).
 */
#include <string.h>

#include "p2m_internal.h"

/* The domain was crashed (out of PoD memory, say): nothing of it may run
 * on, and whoever sees it first with no lock held destroys it. */
static int crashed(struct domain *d)
{
    if (domain_is_crashed(d) && !domain_is_dying(d))
        (void)domain_kill(d);
    return -ESRCH;
}

int p2m_get_page(struct domain *d, gfn_t gfn, enum p2m_query q, mfn_t *mfn)
{
    struct p2m *p = d->p2m;
    struct p2m_entry e;

    if (domain_is_crashed(d))
        return crashed(d);
    if (!domain_is_translated(d)) {
        /* PV: the guest names machine frames. */
        if (!machine_mfn_valid(p->m, _mfn(gfn_x(gfn))) || !domain_get_page(d, _mfn(gfn_x(gfn))))
            return -ENOENT;
        *mfn = _mfn(gfn_x(gfn));
        return 0;
    }
    lock_acquire(&p->lock);
    for (;;) {
        if (p->dead) {
            lock_release(&p->lock);
            return -ESRCH;
        }
        p2m_lookup_locked(p, gfn, &e);
        if (p2m_type_is_ram(e.type)) {
            /* A mapped page is the domain's, and keeps its allocation
             * reference while the lock is held: one more is safe. */
            __atomic_add_fetch(&p2m_frame(p, mfn_x(e.mfn))->count, 1, __ATOMIC_ACQ_REL);
            lock_release(&p->lock);
            *mfn = e.mfn;
            return 0;
        }
        if (e.type != P2M_POD || q != P2M_ALLOC || !pod_demand_populate(p, gfn_x(gfn), e.order))
            break;
    }
    lock_release(&p->lock);
    if (domain_is_crashed(d))
        return crashed(d);
    /* A PoD entry that could not be populated without a crash: a split
     * that found no memory for its table (XSA-246: a failure, no retry). */
    return e.type == P2M_POD && q == P2M_ALLOC ? -ENOMEM : -ENOENT;
}

/* ACCESS_ZERO: a whole page is made zero, written only if it is not. */
enum access { ACCESS_READ, ACCESS_WRITE, ACCESS_FILL, ACCESS_ZERO };

static int access(struct domain *d, uint64_t gaddr, void *buf, int byte, size_t len,
                  enum access how)
{
    struct machine *m = d->p2m->m;

    if (gaddr >= P2M_GFN_LIMIT << PAGE_SHIFT || len > (P2M_GFN_LIMIT << PAGE_SHIFT) - gaddr)
        return -EFAULT;
    while (len) {
        size_t off = gaddr & (PAGE_SIZE - 1), n = min_u64(len, PAGE_SIZE - off);
        uint8_t *page;
        mfn_t mfn;
        int rc = p2m_get_page(d, _gfn(gaddr >> PAGE_SHIFT), P2M_ALLOC, &mfn);

        if (rc)
            return rc == -ENOENT ? -EFAULT : rc;
        page = (uint8_t *)machine_frame_bytes(m, mfn) + off;
        if (how == ACCESS_READ) {
            memcpy(buf, page, n);
            buf = (uint8_t *)buf + n;
        } else if (how == ACCESS_WRITE) {
            memcpy(page, buf, n);
            buf = (uint8_t *)buf + n;
        } else if (how == ACCESS_FILL) {
            memset(page, byte, n);
        } else if (!pages_are_zero(page, 1)) {
            pages_clear(page, 1);
        }
        domain_put_page(d->table, mfn);
        gaddr += n;
        len -= n;
    }
    return 0;
}

int guest_read(struct domain *d, uint64_t gaddr, void *buf, size_t len)
{
    return access(d, gaddr, buf, 0, len, ACCESS_READ);
}

int guest_write(struct domain *d, uint64_t gaddr, const void *buf, size_t len)
{
    return access(d, gaddr, (void *)(uintptr_t)buf, 0, len, ACCESS_WRITE);
}

int guest_fill(struct domain *d, uint64_t gaddr, int byte, size_t len)
{
    return access(d, gaddr, NULL, byte, len, ACCESS_FILL);
}

int guest_zero(struct domain *d, gfn_t gfn, uint64_t nr)
{
    if (gfn_x(gfn) >= P2M_GFN_LIMIT || nr > P2M_GFN_LIMIT - gfn_x(gfn))
        return -EFAULT;
    for (uint64_t i = 0; i < nr; i++) {
        int rc = access(d, gfn_x(gfn_add(gfn, i)) << PAGE_SHIFT, NULL, 0, PAGE_SIZE, ACCESS_ZERO);

        if (rc)
            return rc;
    }
    return 0;
}

int guest_touch(struct domain *d, gfn_t gfn, uint64_t nr)
{
    for (uint64_t i = 0; i < nr; i++) {
        uint8_t b;
        int rc = guest_read(d, (gfn_x(gfn) + i) << PAGE_SHIFT, &b, 1);

        if (rc)
            return rc;
    }
    return 0;
}
