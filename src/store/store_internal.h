/*
 * The store's private structures, shared by its files:
 *   tree.c     nodes, the path hash, path rules
 *   perms.c    permission lists: parse, format, access checks
 *   txn.c      transactions: private views, validation, commit
 *   watch.c    watches and firing
 *   domain.c   domains known to the store, quotas
 *   ops.c      the requests, by message type
 *   control.c  XS_CONTROL commands
 *   api.c      the store, connections, the typed helpers
 *   check.c    the checker
 *
 * Everything here is under the store lock.
 *
 * Invariants (xs_store_check):
 *   every node but "/" has its parent in the tree and is on its parent's
 *     child list exactly once; the hash holds exactly the nodes in the tree
 *   node->children_bytes = sum over children of (strlen(basename) + 1)
 *   node->names, when valid, = the children's names in list order
 *   node->generation <= store generation; nr_perms >= 1
 *   owned[d] = nodes whose owner (perms[0].id) is d
 *   nr_owners = #{d : owned[d] > 0}
 *   watches per domain and transactions per domain match the connections'
 */
#ifndef MEMVISOR_STORE_INTERNAL_H
#define MEMVISOR_STORE_INTERNAL_H

#include "memvisor/lock.h"
#include "memvisor/store.h"

#define XS_PERM_NONE 0x00
#define XS_PERM_READ 0x01
#define XS_PERM_WRITE 0x02
#define XS_PERM_OWNER 0x08  /* internal: the owner's rights */
#define XS_PERM_IGNORE 0x10 /* internal: the entry names a domain that does not exist */

#define XS_NO_GENERATION UINT64_MAX
#define XS_DOMID_ANY 0x7FF5u
#define XS_MAX_DOMID 65536u

struct xs_perm {
    uint32_t id;
    uint8_t perms;
};

/* The first member of everything kept in a hash: chained by path. */
struct xs_hentry {
    struct xs_hentry *next;
    uint64_t hash;
};

struct xs_node {
    struct xs_hentry h;
    char *path;
    uint32_t path_len;
    struct xs_node *parent;
    struct xs_node *first_child, *last_child;
    struct xs_node *prev_sibling, *next_sibling;
    uint32_t nr_children;
    uint32_t children_bytes; /* sum of (basename length + 1) */
    /* The children's names, NUL-separated and in order, as DIRECTORY
     * sends them: built when first asked for, extended by creations,
     * dropped by deletions (which so stay O(1)). */
    char *names;
    uint32_t names_cap;
    bool names_valid;
    uint8_t *value;
    uint32_t value_len;
    struct xs_perm *perms;
    uint16_t nr_perms;
    uint64_t generation;
};

struct xs_hash {
    struct xs_hentry **buckets;
    size_t nbuckets;  /* a power of two */
    size_t count;
};

/* A node as a transaction sees it (a private copy). */
struct xs_txnode {
    struct xs_hentry h;
    struct xs_txnode *next; /* in the order first touched */
    char *path;
    uint32_t path_len;
    uint64_t recorded_gen;  /* the global generation when first touched */
    bool exists;
    bool modified;          /* value or permissions set here */
    bool was_deleted;       /* removed here at some point (it goes, then maybe comes back) */
    uint64_t created_seq;   /* 0, or when (re)created here: the commit keeps this order */
    uint8_t *value;
    uint32_t value_len;
    struct xs_perm *perms;
    uint16_t nr_perms;
    char *children;         /* the children's names, NUL-separated, in order */
    uint32_t children_len, children_cap, nr_children;
};

struct xs_pending_event {
    struct xs_pending_event *next;
    bool exact;             /* RM's descendants: only watches on exactly this path */
    uint32_t path_len;
    char path[];
};

struct xs_txn {
    struct xs_txn *next;    /* on the connection */
    struct xs_conn *conn;
    uint32_t id;
    bool failed;            /* a quota or memory error: commit fails */
    struct xs_hash nodes;
    struct xs_txnode *first, *last;
    uint32_t nr_nodes;
    uint64_t seq;
    int64_t owned_delta;    /* nodes the connection's domain gains */
    struct xs_pending_event *events, *last_event;
};

struct xs_watch {
    struct xs_hentry h;           /* watches hashed by path */
    struct xs_watch *conn_next;   /* the connection's watches */
    struct xs_conn *conn;
    char *path;                   /* absolute (or @special) */
    uint32_t path_len;
    char *token;
    uint32_t token_len;
    int depth;                    /* -1: unlimited */
    uint32_t strip;               /* events report paths relative to this prefix */
};

struct xs_domain {
    domid_t domid;
    bool introduced;
    uint64_t birth_gen;     /* permission entries older than this are stale */
    uint32_t target;        /* SET_TARGET, or XS_MAX_DOMID */
    uint32_t nr_watches;
    uint32_t nr_transactions;
};

struct xs_conn {
    struct xs_store *s;
    struct xs_conn *next, *prev;
    domid_t domid;
    bool privileged;
    bool dead;              /* its domain was released */
    struct xs_event_sink sink;
    struct xs_watch *watches;
    struct xs_txn *txns;
    uint32_t next_txid;
    char home[32];          /* "/local/domain/<domid>" */
    uint32_t home_len;
    /* WATCH's first event, sent only after its OK (xs_conn_after_reply). */
    bool initial_pending;
    uint32_t initial_path_len, initial_token_len;
    char initial[XS_PAYLOAD_MAX + 2];
};

struct xs_store {
    struct mv_lock lock;    /* rank STORE */
    struct xs_store_config cfg;
    struct xs_node *root;
    struct xs_hash nodes;
    struct xs_hash watches;
    uint64_t generation;
    uint32_t *owned;        /* [XS_MAX_DOMID]: nodes owned per domid */
    uint32_t nr_owners;     /* domids d with owned[d] > 0 */
    uint32_t *check_owned;  /* [XS_MAX_DOMID]: the checker's, zero between checks */
    struct xs_domain *domains[XS_MAX_DOMID];
    struct xs_conn *conns;
    uint64_t nr_conns, nr_watches, nr_txns, bytes;
    bool log_requests;      /* CONTROL log on */
};

/* A request's context: the connection and its transaction (or NULL). */
struct xs_ctx {
    struct xs_store *s;
    struct xs_conn *conn;
    struct xs_txn *txn;
};

/* The view of one node an operation works on: the tree's node, or a
 * transaction's copy.  Exactly one of node/txnode is set when it exists. */
struct xs_view {
    struct xs_node *node;
    struct xs_txnode *txnode;
};

/* tree.c: the hash */
uint64_t xs_hash_path(const char *path, size_t len);
int xs_hash_init(struct xs_hash *h, size_t nbuckets);
void xs_hash_fini(struct xs_hash *h);
/* Inserts (growing the table when it fills; -ENOMEM only if it must grow
 * and cannot, leaving e out). */
int xs_hash_insert(struct xs_hash *h, struct xs_hentry *e);
void xs_hash_remove(struct xs_hash *h, struct xs_hentry *e);
static inline struct xs_hentry *xs_hash_bucket(const struct xs_hash *h, uint64_t hash)
{
    return h->buckets[hash & (h->nbuckets - 1)];
}

/* tree.c: nodes */
struct xs_node *xs_tree_lookup(struct xs_store *s, const char *path, size_t len);
int xs_tree_create(struct xs_store *s, const char *path, size_t len, struct xs_node *parent,
                   const struct xs_perm *perms, uint16_t nr_perms, struct xs_node **out);
/* The children's names (children_bytes of them); NULL without memory. */
const char *xs_node_names(struct xs_node *n);
int xs_node_set_value(struct xs_store *s, struct xs_node *n, const uint8_t *value, uint32_t len);
int xs_node_set_perms(struct xs_store *s, struct xs_node *n, const struct xs_perm *perms,
                      uint16_t nr);
/* Deletes n and its subtree; fn (may be NULL) sees each node, children
 * first, before it goes. */
void xs_tree_delete(struct xs_store *s, struct xs_node *n,
                    void (*fn)(void *arg, struct xs_node *n), void *arg);
const char *xs_basename(const char *path, size_t len, size_t *base_len);
size_t xs_parent_len(const char *path, size_t len);
/*
 * Canonicalises a request path: relative paths go under the connection's
 * home; checks characters and form; special (@...) paths only when
 * allowed.  out must hold XS_PAYLOAD_MAX + 64 bytes.  -EINVAL.
 */
int xs_canonical_path(const struct xs_conn *c, const char *in, size_t in_len, bool allow_special,
                      char *out, size_t *out_len);

/* perms.c */
int xs_perms_parse(const char *buf, size_t len, struct xs_perm *out, uint16_t *nr, uint16_t max);
size_t xs_perms_format(const struct xs_perm *p, uint16_t nr, char *buf, size_t cap);
/* The rights conn has on a node with these permissions and generation. */
unsigned xs_perm_for_conn(const struct xs_ctx *ctx, const struct xs_perm *p, uint16_t nr,
                          uint64_t node_gen);

/* txn.c */
int xs_txn_start(struct xs_ctx *ctx, uint32_t *id);
int xs_txn_end(struct xs_ctx *ctx, bool commit);
void xs_txn_free(struct xs_store *s, struct xs_txn *t);
struct xs_txn *xs_txn_find(struct xs_conn *c, uint32_t id);
/* The transaction's view of a path, copying it in on first touch. */
int xs_txn_touch(struct xs_ctx *ctx, const char *path, size_t len, struct xs_txnode **out);
int xs_txn_queue_event(struct xs_txn *t, const char *path, size_t len, bool exact);

/* watch.c */
int xs_watch_add(struct xs_ctx *ctx, const char *path, size_t path_len, const char *token,
                 size_t token_len, int depth, uint32_t strip);
int xs_watch_remove(struct xs_ctx *ctx, const char *path, size_t path_len, const char *token,
                    size_t token_len);
void xs_watch_remove_all(struct xs_store *s, struct xs_conn *c);
/* Fires the watches on a path (and, unless exact, on its ancestors). */
void xs_fire(struct xs_store *s, const char *path, size_t len, bool exact);
/* The same, for a change of permissions: watchers who could read the
 * node before it see the event too. */
struct xs_old_perms {
    const struct xs_perm *perms;
    uint16_t nr;
    uint64_t generation;
};
void xs_fire_old(struct xs_store *s, const char *path, size_t len, bool exact,
                 const struct xs_old_perms *old);
void xs_fire_special(struct xs_store *s, const char *name, domid_t domid);
void xs_send_event(struct xs_watch *w, const char *path, size_t len);

/* domain.c */
struct xs_domain *xs_domain_get(struct xs_store *s, domid_t domid, bool create);
bool xs_domain_exists(struct xs_store *s, uint32_t domid);
void xs_owned_adjust(struct xs_store *s, uint32_t owner, int64_t delta);
void xs_domain_remove(struct xs_store *s, domid_t domid);

/* ops.c */
enum xs_type xs_dispatch(struct xs_ctx *ctx, const struct xs_msg_header *hdr,
                         const uint8_t *payload, uint8_t *reply, uint32_t *reply_len);

/* check.c */
unsigned xs_store_check_locked(struct xs_store *s, FILE *report);

/* control.c */
int xs_control(struct xs_ctx *ctx, const char *payload, size_t len, char *reply,
               uint32_t *reply_len);

/* Helpers for replies. */
static inline bool xs_conn_quota(const struct xs_conn *c)
{
    return !c->privileged;
}

#endif
