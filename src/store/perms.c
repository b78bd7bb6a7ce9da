/*
 * Permissions (specs C4).  A node has one or more entries (domid, rights);
 * the first names the owner, and its rights are the default for every
 * domain not listed.  On the wire an entry is a letter (n, r, w, b) and a
 * decimal domid.
 */
#include <string.h>

#include "store_internal.h"

static const char perm_letter[4] = { 'n', 'r', 'w', 'b' };

int store_perms_parse(const char *buf, size_t len, struct store_perm *out, uint16_t *nr,
                      uint16_t max)
{
    uint16_t count = 0;
    size_t i = 0;

    while (i < len) {
        const char *s = buf + i;
        size_t n = strnlen(s, len - i);
        uint64_t id = 0;
        uint8_t perms;

        if (n < 2 || n > 11)
            return -EINVAL;
        switch (s[0]) {
        case 'n': perms = STORE_PERM_NONE; break;
        case 'r': perms = STORE_PERM_READ; break;
        case 'w': perms = STORE_PERM_WRITE; break;
        case 'b': perms = STORE_PERM_READ | STORE_PERM_WRITE; break;
        default: return -EINVAL;
        }
        for (size_t k = 1; k < n; k++) {
            if (s[k] < '0' || s[k] > '9')
                return -EINVAL;
            id = id * 10 + (uint64_t)(s[k] - '0');
        }
        if (id > UINT32_MAX)
            return -EINVAL;
        if (count == max)
            return -ENOSPC;
        out[count].id = (uint32_t)id;
        out[count].perms = perms;
        count++;
        i += n + 1; /* the NUL, or the end */
    }
    if (count == 0)
        return -EINVAL;
    *nr = count;
    return 0;
}

size_t store_perms_format(const struct store_perm *p, uint16_t nr, char *buf, size_t cap)
{
    size_t off = 0;

    for (uint16_t i = 0; i < nr; i++) {
        int n;

        if (off >= cap)
            break;
        n = snprintf(buf + off, cap - off, "%c%u",
                     perm_letter[p[i].perms & (STORE_PERM_READ | STORE_PERM_WRITE)], p[i].id);
        if (n < 0 || (size_t)n + 1 > cap - off)
            break;
        off += (size_t)n + 1; /* keep the NUL */
    }
    return off;
}

/* Whether an entry still names the domain it was written for: a domid
 * created again after the node was written does not inherit its rights. */
static bool entry_is_live(const struct store *s, uint32_t id, uint64_t node_gen)
{
    const struct store_domain *d = id < STORE_MAX_DOMID ? s->domains[id] : NULL;

    return !d || d->birth_gen <= node_gen;
}

unsigned store_perm_for_conn(const struct store_ctx *ctx, const struct store_perm *p, uint16_t nr,
                             uint64_t node_gen)
{
    const struct store_conn *c = ctx->conn;
    const struct store_domain *d = ctx->s->domains[c->domid];
    uint32_t target = d ? d->target : STORE_MAX_DOMID;
    const unsigned all = STORE_PERM_READ | STORE_PERM_WRITE | STORE_PERM_OWNER;

    if (c->privileged)
        return all;
    if (p[0].id == c->domid || p[0].id == target || p[0].id == STORE_DOMID_ANY)
        return all;
    for (uint16_t i = 1; i < nr; i++) {
        if (p[i].perms & STORE_PERM_IGNORE)
            continue;
        if ((p[i].id == c->domid || p[i].id == target || p[i].id == STORE_DOMID_ANY) &&
            entry_is_live(ctx->s, p[i].id, node_gen))
            return p[i].perms & (STORE_PERM_READ | STORE_PERM_WRITE);
    }
    return p[0].perms & (STORE_PERM_READ | STORE_PERM_WRITE);
}
