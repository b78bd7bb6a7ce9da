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
uint64_t store_hash_path(const char *path, size_t len)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);

    for (size_t i = 0; i < len; i++) {
        h ^= (uint8_t)path[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

int store_hash_init(struct store_hash *h, size_t nbuckets)
{
    h->buckets = calloc(nbuckets, sizeof(*h->buckets));
    h->nbuckets = nbuckets;
    h->count = 0;
    return h->buckets ? 0 : -ENOMEM;
}

void store_hash_fini(struct store_hash *h)
{
    free(h->buckets);
    h->buckets = NULL;
    h->nbuckets = h->count = 0;
}

static int hash_grow(struct store_hash *h)
{
    size_t n = h->nbuckets * 2;
    struct store_hentry **b = calloc(n, sizeof(*b));

    if (!b)
        return -ENOMEM;
    for (size_t i = 0; i < h->nbuckets; i++) {
        struct store_hentry *e = h->buckets[i];
        while (e) {
            struct store_hentry *next = e->next;
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

int store_hash_insert(struct store_hash *h, struct store_hentry *e)
{
    struct store_hentry **slot;

    if (h->count >= h->nbuckets && hash_grow(h) && h->count >= 4 * h->nbuckets)
        return -ENOMEM; /* could not grow, and chains are getting long */
    slot = &h->buckets[e->hash & (h->nbuckets - 1)];
    e->next = *slot;
    *slot = e;
    h->count++;
    return 0;
}

void store_hash_remove(struct store_hash *h, struct store_hentry *e)
{
    for (struct store_hentry **pp = &h->buckets[e->hash & (h->nbuckets - 1)]; *pp;
         pp = &(*pp)->next) {
        if (*pp == e) {
            *pp = e->next;
            h->count--;
            return;
        }
    }
}

struct store_node *store_tree_lookup(struct store *s, const char *path, size_t len)
{
    uint64_t hash = store_hash_path(path, len);

    for (struct store_hentry *e = store_hash_bucket(&s->nodes, hash); e; e = e->next) {
        struct store_node *n = (struct store_node *)e;
        if (e->hash == hash && n->path_len == len && memcmp(n->path, path, len) == 0)
            return n;
    }
    return NULL;
}

const char *store_basename(const char *path, size_t len, size_t *base_len)
{
    const char *slash = memrchr(path, '/', len);
    const char *base = slash ? slash + 1 : path;

    *base_len = len - (size_t)(base - path);
    return base;
}

/* The length of the parent's path: "/a/b" -> 2, "/a" -> 1 ("/"). */
size_t store_parent_len(const char *path, size_t len)
{
    const char *slash = memrchr(path, '/', len);

    if (!slash || slash == path)
        return 1;
    return (size_t)(slash - path);
}

const char *store_node_names(struct store_node *n)
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
    for (struct store_node *c = n->first_child; c; c = c->next_sibling) {
        size_t blen;
        const char *base = store_basename(c->path, c->path_len, &blen);

        memcpy(n->names + off, base, blen);
        n->names[off + blen] = '\0';
        off += (uint32_t)blen + 1;
    }
    n->names_valid = true;
    return n->names;
}

/* Appends a new child's name to a built list (or drops the list). */
static void names_append(struct store_node *n, const char *base, size_t blen)
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

static uint64_t node_bytes(const struct store_node *n)
{
    return n->path_len + n->value_len + n->nr_perms * sizeof(struct store_perm) + sizeof(*n);
}

int store_tree_create(struct store *s, const char *path, size_t len, struct store_node *parent,
                      const struct store_perm *perms, uint16_t nr_perms, struct store_node **out)
{
    struct store_node *n = calloc(1, sizeof(*n));
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
    n->h.hash = store_hash_path(path, len);
    memcpy(n->perms, perms, nr_perms * sizeof(*perms));
    n->nr_perms = nr_perms;
    if (store_hash_insert(&s->nodes, &n->h)) {
        free(n->path);
        free(n->perms);
        free(n);
        return -ENOMEM;
    }
    if (parent)
        store_history_save(s, parent);
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
        base = store_basename(path, len, &base_len);
        names_append(parent, base, base_len);
        parent->children_bytes += (uint32_t)base_len + 1;
        parent->generation = s->generation;
    }
    store_owned_adjust(s, perms[0].id, 1);
    s->bytes += node_bytes(n);
    *out = n;
    return 0;
}

int store_node_set_value(struct store *s, struct store_node *n, const uint8_t *value, uint32_t len)
{
    uint8_t *copy = NULL;

    if (len) {
        copy = malloc(len);
        if (!copy)
            return -ENOMEM;
        memcpy(copy, value, len);
    }
    store_history_save(s, n);
    s->bytes -= n->value_len;
    free(n->value);
    n->value = copy;
    n->value_len = len;
    s->bytes += len;
    n->generation = ++s->generation;
    return 0;
}

int store_node_set_perms(struct store *s, struct store_node *n, const struct store_perm *perms,
                         uint16_t nr)
{
    struct store_perm *copy = malloc(nr * sizeof(*perms));

    if (!copy)
        return -ENOMEM;
    memcpy(copy, perms, nr * sizeof(*perms));
    store_history_save(s, n);
    store_owned_adjust(s, n->perms[0].id, -1);
    store_owned_adjust(s, perms[0].id, 1);
    s->bytes += (uint64_t)nr * sizeof(*perms);
    s->bytes -= (uint64_t)n->nr_perms * sizeof(*perms);
    free(n->perms);
    n->perms = copy;
    n->nr_perms = nr;
    n->generation = ++s->generation;
    return 0;
}

static void node_unlink_free(struct store *s, struct store_node *n)
{
    struct store_node *p = n->parent;
    size_t base_len;

    store_history_save(s, n);
    if (p) {
        store_history_save(s, p);
        if (n->prev_sibling)
            n->prev_sibling->next_sibling = n->next_sibling;
        else
            p->first_child = n->next_sibling;
        if (n->next_sibling)
            n->next_sibling->prev_sibling = n->prev_sibling;
        else
            p->last_child = n->prev_sibling;
        p->nr_children--;
        store_basename(n->path, n->path_len, &base_len);
        p->children_bytes -= (uint32_t)base_len + 1;
        p->names_valid = false;
        p->generation = ++s->generation;
    }
    store_hash_remove(&s->nodes, &n->h);
    store_owned_adjust(s, n->perms[0].id, -1);
    s->bytes -= node_bytes(n);
    free(n->path);
    free(n->value);
    free(n->perms);
    free(n->names);
    free(n);
}

void store_tree_delete(struct store *s, struct store_node *n,
                       void (*fn)(void *arg, struct store_node *n), void *arg)
{
    /* Post-order without recursion: always descend to the last child. */
    struct store_node *cur = n;

    for (;;) {
        while (cur->last_child)
            cur = cur->last_child;
        {
            struct store_node *up = cur->parent;
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

int store_canonical_path(const struct store_conn *c, const char *in, size_t len, bool allow_special,
                         char *out, size_t *out_len)
{
    size_t n = 0;

    if (len == 0 || len > XENSTORE_PAYLOAD_MAX)
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
