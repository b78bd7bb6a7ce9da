/*
 * The tree: nodes found by full path through one hash, children kept in
 * creation order on a doubly linked list (DIRECTORY answers in that
 * order, as Xen does), and the path rules of specs C1.
 */
#define _GNU_SOURCE /* memrchr */
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

/* FNV-1a, 64 bits. */
uint64_t xs_hash_path(const char *path, size_t len)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);

    for (size_t i = 0; i < len; i++) {
        h ^= (uint8_t)path[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

int xs_hash_init(struct xs_hash *h, size_t nbuckets)
{
    h->buckets = calloc(nbuckets, sizeof(*h->buckets));
    h->nbuckets = nbuckets;
    h->count = 0;
    return h->buckets ? 0 : -ENOMEM;
}

void xs_hash_fini(struct xs_hash *h)
{
    free(h->buckets);
    h->buckets = NULL;
    h->nbuckets = h->count = 0;
}

static int hash_grow(struct xs_hash *h)
{
    size_t n = h->nbuckets * 2;
    struct xs_hentry **b = calloc(n, sizeof(*b));

    if (!b)
        return -ENOMEM;
    for (size_t i = 0; i < h->nbuckets; i++) {
        struct xs_hentry *e = h->buckets[i];
        while (e) {
            struct xs_hentry *next = e->next;
            e->next = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
            e = next;
        }
    }
    free(h->buckets);
    h->buckets = b;
    h->nbuckets = n;
    return 0;
}

int xs_hash_insert(struct xs_hash *h, struct xs_hentry *e)
{
    struct xs_hentry **slot;

    if (h->count >= h->nbuckets && hash_grow(h) && h->count >= 4 * h->nbuckets)
        return -ENOMEM; /* could not grow, and chains are getting long */
    slot = &h->buckets[e->hash & (h->nbuckets - 1)];
    e->next = *slot;
    *slot = e;
    h->count++;
    return 0;
}

void xs_hash_remove(struct xs_hash *h, struct xs_hentry *e)
{
    for (struct xs_hentry **pp = &h->buckets[e->hash & (h->nbuckets - 1)]; *pp; pp = &(*pp)->next) {
        if (*pp == e) {
            *pp = e->next;
            h->count--;
            return;
        }
    }
}

struct xs_node *xs_tree_lookup(struct xs_store *s, const char *path, size_t len)
{
    uint64_t hash = xs_hash_path(path, len);

    for (struct xs_hentry *e = xs_hash_bucket(&s->nodes, hash); e; e = e->next) {
        struct xs_node *n = (struct xs_node *)e;
        if (e->hash == hash && n->path_len == len && memcmp(n->path, path, len) == 0)
            return n;
    }
    return NULL;
}

const char *xs_basename(const char *path, size_t len, size_t *base_len)
{
    const char *slash = memrchr(path, '/', len);
    const char *base = slash ? slash + 1 : path;

    *base_len = len - (size_t)(base - path);
    return base;
}

/* The length of the parent's path: "/a/b" -> 2, "/a" -> 1 ("/"). */
size_t xs_parent_len(const char *path, size_t len)
{
    const char *slash = memrchr(path, '/', len);

    if (!slash || slash == path)
        return 1;
    return (size_t)(slash - path);
}

const char *xs_node_names(struct xs_node *n)
{
    uint32_t off = 0;

    if (n->names_valid || !n->children_bytes)
        return n->names;
    if (n->names_cap < n->children_bytes) {
        char *grown = realloc(n->names, n->children_bytes);
        if (!grown)
            return NULL;
        n->names = grown;
        n->names_cap = n->children_bytes;
    }
    for (struct xs_node *c = n->first_child; c; c = c->next_sibling) {
        size_t blen;
        const char *base = xs_basename(c->path, c->path_len, &blen);

        memcpy(n->names + off, base, blen);
        n->names[off + blen] = '\0';
        off += (uint32_t)blen + 1;
    }
    n->names_valid = true;
    return n->names;
}

/* Appends a new child's name to a built list (or drops the list). */
static void names_append(struct xs_node *n, const char *base, size_t blen)
{
    uint32_t need = n->children_bytes + (uint32_t)blen + 1;

    if (!n->names_valid)
        return;
    if (need > n->names_cap) {
        uint32_t cap = (uint32_t)max_u64(need, (uint64_t)n->names_cap * 2);
        char *grown = realloc(n->names, cap);
        if (!grown) {
            n->names_valid = false;
            return;
        }
        n->names = grown;
        n->names_cap = cap;
    }
    memcpy(n->names + n->children_bytes, base, blen);
    n->names[n->children_bytes + blen] = '\0';
}

static uint64_t node_bytes(const struct xs_node *n)
{
    return n->path_len + n->value_len + n->nr_perms * sizeof(struct xs_perm) + sizeof(*n);
}

int xs_tree_create(struct xs_store *s, const char *path, size_t len, struct xs_node *parent,
                   const struct xs_perm *perms, uint16_t nr_perms, struct xs_node **out)
{
    struct xs_node *n = calloc(1, sizeof(*n));
    const char *base;
    size_t base_len;

    if (!n)
        return -ENOMEM;
    n->path = malloc(len + 1);
    n->perms = malloc(nr_perms * sizeof(*perms));
    if (!n->path || !n->perms) {
        free(n->path);
        free(n->perms);
        free(n);
        return -ENOMEM;
    }
    memcpy(n->path, path, len);
    n->path[len] = '\0';
    n->path_len = (uint32_t)len;
    n->h.hash = xs_hash_path(path, len);
    memcpy(n->perms, perms, nr_perms * sizeof(*perms));
    n->nr_perms = nr_perms;
    if (xs_hash_insert(&s->nodes, &n->h)) {
        free(n->path);
        free(n->perms);
        free(n);
        return -ENOMEM;
    }
    n->generation = ++s->generation;
    n->parent = parent;
    if (parent) {
        n->prev_sibling = parent->last_child;
        if (parent->last_child)
            parent->last_child->next_sibling = n;
        else
            parent->first_child = n;
        parent->last_child = n;
        parent->nr_children++;
        base = xs_basename(path, len, &base_len);
        names_append(parent, base, base_len);
        parent->children_bytes += (uint32_t)base_len + 1;
        parent->generation = s->generation;
    }
    xs_owned_adjust(s, perms[0].id, 1);
    s->bytes += node_bytes(n);
    *out = n;
    return 0;
}

int xs_node_set_value(struct xs_store *s, struct xs_node *n, const uint8_t *value, uint32_t len)
{
    uint8_t *copy = NULL;

    if (len) {
        copy = malloc(len);
        if (!copy)
            return -ENOMEM;
        memcpy(copy, value, len);
    }
    s->bytes -= n->value_len;
    free(n->value);
    n->value = copy;
    n->value_len = len;
    s->bytes += len;
    n->generation = ++s->generation;
    return 0;
}

int xs_node_set_perms(struct xs_store *s, struct xs_node *n, const struct xs_perm *perms,
                      uint16_t nr)
{
    struct xs_perm *copy = malloc(nr * sizeof(*perms));

    if (!copy)
        return -ENOMEM;
    memcpy(copy, perms, nr * sizeof(*perms));
    xs_owned_adjust(s, n->perms[0].id, -1);
    xs_owned_adjust(s, perms[0].id, 1);
    s->bytes += (uint64_t)nr * sizeof(*perms);
    s->bytes -= (uint64_t)n->nr_perms * sizeof(*perms);
    free(n->perms);
    n->perms = copy;
    n->nr_perms = nr;
    n->generation = ++s->generation;
    return 0;
}

static void node_unlink_free(struct xs_store *s, struct xs_node *n)
{
    struct xs_node *p = n->parent;
    size_t base_len;

    if (p) {
        if (n->prev_sibling)
            n->prev_sibling->next_sibling = n->next_sibling;
        else
            p->first_child = n->next_sibling;
        if (n->next_sibling)
            n->next_sibling->prev_sibling = n->prev_sibling;
        else
            p->last_child = n->prev_sibling;
        p->nr_children--;
        xs_basename(n->path, n->path_len, &base_len);
        p->children_bytes -= (uint32_t)base_len + 1;
        p->names_valid = false;
        p->generation = s->generation;
    }
    xs_hash_remove(&s->nodes, &n->h);
    xs_owned_adjust(s, n->perms[0].id, -1);
    s->bytes -= node_bytes(n);
    free(n->path);
    free(n->value);
    free(n->perms);
    free(n->names);
    free(n);
}

void xs_tree_delete(struct xs_store *s, struct xs_node *n,
                    void (*fn)(void *arg, struct xs_node *n), void *arg)
{
    /* Post-order without recursion: always descend to the last child. */
    struct xs_node *cur = n;

    ++s->generation;
    for (;;) {
        while (cur->last_child)
            cur = cur->last_child;
        {
            struct xs_node *up = cur->parent;
            bool done = cur == n;

            if (fn)
                fn(arg, cur);
            node_unlink_free(s, cur);
            if (done)
                return;
            cur = up;
        }
    }
}

static bool valid_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '/' || c == '_' || c == '@';
}

int xs_canonical_path(const struct xs_conn *c, const char *in, size_t len, bool allow_special,
                      char *out, size_t *out_len)
{
    size_t n = 0;

    if (len == 0 || len > XS_PAYLOAD_MAX)
        return -EINVAL;
    if (in[0] == '@') {
        if (!allow_special)
            return -EINVAL;
    } else if (in[0] != '/') {
        memcpy(out, c->home, c->home_len);
        out[c->home_len] = '/';
        n = c->home_len + 1;
    }
    for (size_t i = 0; i < len; i++) {
        if (!valid_char(in[i]))
            return -EINVAL;
        /* No "//" anywhere, and no trailing '/' except for "/" itself. */
        if (in[i] == '/' && ((i + 1 < len && in[i + 1] == '/') || (i + 1 == len && len > 1)))
            return -EINVAL;
    }
    memcpy(out + n, in, len);
    n += len;
    out[n] = '\0';
    *out_len = n;
    return 0;
}
