/*
 * XEN_SYSCTL_tmem_op (spec §4.2), decoded onto tmem's control operations.
 * Every buffer is checked against len and copied once.
 */
#include <stdlib.h>

#include "hypercall_internal.h"

_Static_assert(sizeof(struct mv_sysctl_tmem_op) == 56, "xen_sysctl_tmem_op is 56 bytes");
_Static_assert(sizeof(struct tmem_client_info) == 20, "xen_tmem_client is 20 bytes");
_Static_assert(sizeof(struct tmem_pool_info) == 32, "xen_tmem_pool_info is 32 bytes");
_Static_assert(sizeof(struct tmem_handle) == 32, "tmem_handle is 32 bytes");

/* Pool lists: len a whole number of entries, 16 at most. */
static int pool_list_len(const struct mv_sysctl_tmem_op *op, unsigned *n)
{
    if (op->len % sizeof(struct tmem_pool_info) ||
        op->len / sizeof(struct tmem_pool_info) > TMEM_MAX_POOLS)
        return -EINVAL;
    *n = op->len / sizeof(struct tmem_pool_info);
    return 0;
}

static long pools_op(const struct hc_caller *c, const struct mv_sysctl_tmem_op *op)
{
    struct tmem_pool_info pi[TMEM_MAX_POOLS];
    unsigned n;
    long rc;

    if (pool_list_len(op, &n))
        return -EINVAL;
    if (op->cmd == MV_TMEM_OP_GET_POOLS) {
        rc = tmem_get_pools(c->hv->tmem, (domid_t)op->cli_id, pi, n);
        if (guest_copy_to(c->mem, op->buf, pi, (size_t)rc * sizeof(pi[0])))
            return -EFAULT;
        return rc;
    }
    if (guest_copy_from(c->mem, pi, op->buf, op->len))
        return -EFAULT;
    if (op->cmd == MV_TMEM_OP_SET_POOLS)
        return tmem_set_pools(c->hv->tmem, (domid_t)op->cli_id, pi, n);
    for (unsigned i = 0; i < n; i++) {
        rc = tmem_set_auth(c->hv->tmem, (domid_t)op->cli_id, pi[i].uuid[0], pi[i].uuid[1],
                           pi[i].flags & TMEM_INFO_POOL_AUTH);
        if (rc)
            return rc;
    }
    return 0;
}

static long list_op(const struct hc_caller *c, const struct mv_sysctl_tmem_op *op)
{
    char *text;
    size_t used;
    long rc = 0;

    if (op->len == 0 || !guest_range_ok(c->mem, op->buf, op->len))
        return op->len == 0 ? -EINVAL : -EFAULT;
    text = malloc(op->len);
    if (!text)
        return -ENOMEM;
    used = tmem_list(c->hv->tmem, (domid_t)op->cli_id, op->arg != 0, text, op->len);
    if (guest_copy_to(c->mem, op->buf, text, used + 1))
        rc = -EFAULT;
    free(text);
    /* The length written (Xen returned 0). */
    return rc ? rc : (long)used;
}

static long save_op(const struct hc_caller *c, const struct mv_sysctl_tmem_op *op)
{
    struct tmem_handle h;
    uint8_t *page;
    long rc;

    if (op->cmd == MV_TMEM_OP_SAVE_GET_NEXT_INV) {
        if (op->len < sizeof(h))
            return -EINVAL;
        rc = tmem_save_next_inv(c->hv->tmem, (domid_t)op->cli_id, &h);
        if (rc == 1 && guest_copy_to(c->mem, op->buf, &h, sizeof(h)))
            rc = -EFAULT;
        return rc;
    }
    if (op->len < sizeof(h) + PAGE_SIZE || !guest_range_ok(c->mem, op->buf, sizeof(h) + PAGE_SIZE))
        return op->len < sizeof(h) + PAGE_SIZE ? -EINVAL : -EFAULT;
    page = malloc(PAGE_SIZE);
    if (!page)
        return -ENOMEM;
    rc = tmem_save_next_page(c->hv->tmem, (domid_t)op->cli_id, op->pool_id, &h, page);
    if (rc == 1 && (guest_copy_to(c->mem, op->buf, &h, sizeof(h)) ||
                    guest_copy_to(c->mem, op->buf + sizeof(h), page, PAGE_SIZE)))
        rc = -EFAULT;
    free(page);
    return rc;
}

/* RESTORE_PUT_PAGE and RESTORE_FLUSH_PAGE: as the domain itself. */
static long restore_page_op(const struct hc_caller *c, const struct mv_sysctl_tmem_op *op)
{
    struct tmem_oid oid = { { op->oid[0], op->oid[1], op->oid[2] } };
    struct domain *d = op->cli_id < DOMID_FIRST_RESERVED
                     ? domain_lookup(c->hv->domains, (domid_t)op->cli_id) : NULL;
    uint8_t *page = NULL;
    long rc;

    if (!d)
        return -ESRCH;
    if (op->cmd == MV_TMEM_OP_RESTORE_FLUSH_PAGE) {
        rc = tmem_flush_page(c->hv->tmem, d, op->pool_id, &oid, op->arg);
    } else if (op->len != PAGE_SIZE) {
        rc = -EINVAL;
    } else if (!(page = malloc(PAGE_SIZE))) {
        rc = -ENOMEM;
    } else if (guest_copy_from(c->mem, page, op->buf, PAGE_SIZE)) {
        rc = -EFAULT;
    } else {
        rc = tmem_put(c->hv->tmem, d, op->pool_id, &oid, op->arg, page);
    }
    free(page);
    domain_put(d);
    return rc;
}

long sysctl_tmem_op(const struct hc_caller *c, const struct mv_sysctl_tmem_op *op)
{
    struct tmem *t = c->hv->tmem;
    domid_t cli = (domid_t)op->cli_id;
    struct tmem_client_info ci;

    if (op->pad || (op->cli_id > DOMID_FIRST_RESERVED && op->cli_id != MV_TMEM_OP_ALL_CLIENTS))
        return -EINVAL;
    switch (op->cmd) {
    case MV_TMEM_OP_THAW:
    case MV_TMEM_OP_FREEZE:
        return tmem_set_frozen(t, cli, op->cmd == MV_TMEM_OP_FREEZE);
    case MV_TMEM_OP_FLUSH:
        return op->cli_id == MV_TMEM_OP_ALL_CLIENTS ? (long)tmem_flush_kb(t, op->arg) : -EINVAL;
    case MV_TMEM_OP_DESTROY:
        return tmem_destroy_client_pools(t, cli);
    case MV_TMEM_OP_LIST:
        return list_op(c, op);
    case MV_TMEM_OP_GET_CLIENT_INFO:
        tmem_get_client_info(t, cli, &ci);
        return guest_copy_to(c->mem, op->buf, &ci, sizeof(ci)) ? -EFAULT : 0;
    case MV_TMEM_OP_SET_CLIENT_INFO:
        if (guest_copy_from(c->mem, &ci, op->buf, sizeof(ci)))
            return -EFAULT;
        return tmem_set_client_info(t, cli, &ci);
    case MV_TMEM_OP_GET_POOLS:
    case MV_TMEM_OP_SET_POOLS:
    case MV_TMEM_OP_SET_AUTH:
        return pools_op(c, op);
    case MV_TMEM_OP_QUERY_FREEABLE_MB:
        return (long)tmem_freeable_mb(t);
    case MV_TMEM_OP_SAVE_BEGIN:
        return tmem_save_begin(t, cli, op->arg != 0);
    case MV_TMEM_OP_SAVE_GET_NEXT_PAGE:
    case MV_TMEM_OP_SAVE_GET_NEXT_INV:
        return save_op(c, op);
    case MV_TMEM_OP_SAVE_END:
        return tmem_save_end(t, cli);
    case MV_TMEM_OP_RESTORE_BEGIN:
        return tmem_restore_begin(t, cli);
    case MV_TMEM_OP_RESTORE_PUT_PAGE:
    case MV_TMEM_OP_RESTORE_FLUSH_PAGE:
        return restore_page_op(c, op);
    default:
        return -EOPNOTSUPP;
    }
}
