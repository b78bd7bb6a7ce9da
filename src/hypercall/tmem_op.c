/*
 * The guest's tmem_op hypercall (spec §4.1): struct tmem_op as Debian's
 * xen/tmem.h lays it out (below interface version 0x00041300).  The caller
 * acts on its own client; cmfn names one of its pages: a gfn for a
 * translated guest (a PoD entry is populated, as an access would), a frame
 * it owns otherwise.  The page is held by a reference for the copy.
 */
#include "hypercall_internal.h"

#include <xen/tmem.h>

_Static_assert(sizeof(struct tmem_op) == 56, "struct tmem_op is 56 bytes on x86-64");
_Static_assert(EFROZEN == TMEM_EFROZEN && EEMPTY == TMEM_EEMPTY, "tmem's own errors");

/* The caller's page at cmfn, with a reference: 0, -EFAULT, -ENODEV. */
static int page_get(struct domain *d, uint64_t cmfn, mfn_t *mfn)
{
    if (domain_is_translated(d)) {
        int rc = p2m_get_page(d, _gfn(cmfn), P2M_ALLOC, mfn);

        return rc == -ESRCH ? -ENODEV : rc ? -EFAULT : 0;
    }
    *mfn = _mfn(cmfn);
    return domain_get_page(d, *mfn) ? 0 : -EFAULT;
}

static long page_op(const struct hc_caller *c, struct domain *d, const struct tmem_op *op)
{
    struct tmem_oid oid = { { op->u.gen.oid.oid[0], op->u.gen.oid.oid[1], op->u.gen.oid.oid[2] } };
    mfn_t mfn;
    long rc;

    if (op->cmd == TMEM_FLUSH_PAGE)
        return tmem_flush_page(c->hv->tmem, d, op->pool_id, &oid, op->u.gen.index);
    if (op->cmd == TMEM_FLUSH_OBJECT)
        return tmem_flush_object(c->hv->tmem, d, op->pool_id, &oid);
    rc = page_get(d, op->u.gen.cmfn, &mfn);
    if (rc)
        return rc;
    if (op->cmd == TMEM_PUT_PAGE)
        rc = tmem_put(c->hv->tmem, d, op->pool_id, &oid, op->u.gen.index,
                      machine_frame_bytes(c->hv->m, mfn));
    else
        rc = tmem_get(c->hv->tmem, d, op->pool_id, &oid, op->u.gen.index,
                      machine_frame_bytes(c->hv->m, mfn));
    domain_put_page(c->hv->domains, mfn);
    return rc;
}

long do_tmem_op(const struct hc_caller *c, uint64_t arg)
{
    struct tmem_op op;
    struct domain *d;
    long rc;

    if (guest_copy_from(c->mem, &op, arg, sizeof(op)))
        return -EFAULT;
    switch (op.cmd) {
    case TMEM_NEW_POOL:
    case TMEM_DESTROY_POOL:
    case TMEM_PUT_PAGE:
    case TMEM_GET_PAGE:
    case TMEM_FLUSH_PAGE:
    case TMEM_FLUSH_OBJECT:
        break;
    case 0: /* TMEM_CONTROL, moved to the sysctl */
    case TMEM_AUTH:
    case TMEM_RESTORE_NEW:
        return -EOPNOTSUPP;
    default:
        return -ENOSYS;
    }
    d = domain_lookup(c->hv->domains, c->domid);
    if (!d || domain_is_dying(d)) {
        if (d)
            domain_put(d);
        return -ENODEV;
    }
    if (op.cmd == TMEM_NEW_POOL)
        rc = tmem_new_pool(c->hv->tmem, d, op.u.creat.flags, op.u.creat.uuid[0],
                           op.u.creat.uuid[1]);
    else if (op.cmd == TMEM_DESTROY_POOL)
        rc = tmem_destroy_pool(c->hv->tmem, d, op.pool_id);
    else
        rc = page_op(c, d, &op);
    domain_put(d);
    return rc;
}
