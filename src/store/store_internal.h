/*
 * The store's private structures, shared by its files:
 *   tree.c     nodes, the path hash, path rules
 *   perms.c    permission lists: parse, format, access checks
 *   txn.c      transactions: private views, validation, commit
 *   history.c  past versions of nodes, for transactions' snapshots
 *   watch.c    watches and firing
 *   domain.c   domains known to the store, quotas
 *   ops.c      the requests, by message type
 *   control.c  XS_CONTROL commands
 *   api.c      the store, connections, the typed helpers
 *   check.c    the checker
 *
 * Everything here is under the store lock.
 *
 * Invariants (store_check):
 *   every node but "/" has its parent in the tree and is on its parent's
 *     child list exactly once; the hash holds exactly the nodes in the tree
 *   node->children_bytes = sum over children of (strlen(basename) + 1)
 *   node->names, when valid, = the children's names in list order
 *   node->generation <= store generation; nr_perms >= 1
 *   owned[d] = nodes whose owner (perms[0].id) is d
 *   nr_owners = #{d : owned[d] > 0}
 *   watches per domain and transactions per domain match the connections'
 *   every saved version has born < died, its path's versions newest first
 *   and disjoint, and some open transaction started in [born, died) (none
 *   is kept once the last transaction ends); past_versions and past_bytes
 *   count them
 */
#ifndef MEMVISOR_STORE_INTERNAL_H
#define MEMVISOR_STORE_INTERNAL_H

#include "memvisor/lock.h"
#include "memvisor/store.h"

#define STORE_PERM_NONE 0x00
#define STORE_PERM_READ 0x01
#define STORE_PERM_WRITE 0x02
#define STORE_PERM_OWNER 0x08  /* internal: the owner's rights */
#define STORE_PERM_IGNORE 0x10 /* internal: the entry names a domain that does not exist */

#define STORE_NO_GENERATION UINT64_MAX
/* Room for a canonical path (a request's, under the home) and its NUL. */
#define STORE_PATH_BUF (XENSTORE_PAYLOAD_MAX + 80)
#define STORE_DOMID_ANY 0x7FF5u
#define STORE_MAX_DOMID 65536u

struct store_perm {
    uint32_t id;
    uint8_t perms;
};

/* The first member of everything kept in a hash: chained by path. */
struct store_hentry {
    struct store_hentry *next;
    uint64_t hash;
};

struct store_node {
    struct store_hentry h;
    char *path;
    uint32_t path_len;
    struct store_node *parent;
    struct store_node *first_child, *last_child;
    struct store_node *prev_sibling, *next_sibling;
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
    struct store_perm *perms;
    uint16_t nr_perms;
    uint64_t generation;
};

struct store_hash {
    struct store_hentry **buckets;
    size_t nbuckets;  /* a power of two */
    size_t count;
};

/* A node as a transaction sees it (a private copy). */
struct store_txnode {
    struct store_hentry h;
    struct store_txnode *next; /* in the order first touched */
    char *path;
    uint32_t path_len;
    uint64_t recorded_gen;  /* the global generation when first touched */
    bool exists;
    bool modified;          /* value or permissions set here */
    bool was_deleted;       /* removed here at some point (it goes, then maybe comes back) */
    uint64_t created_seq;   /* 0, or when (re)created here: the commit keeps this order */
    uint8_t *value;
    uint32_t value_len;
    struct store_perm *perms;
    uint16_t nr_perms;
    char *children;         /* the children's names, NUL-separated, in order */
    uint32_t children_len, children_cap, nr_children;
};

struct store_pending_event {
    struct store_pending_event *next;
    bool exact;             /* RM's descendants: only watches on exactly this path */
    uint32_t path_len;
    char path[];
};

struct store_txn {
    struct store_txn *next;    /* on the connection */
    struct store_conn *conn;
    uint32_t id;
    uint64_t start;            /* it sees the store as of this generation */
    bool failed;            /* a quota or memory error: commit fails */
    struct store_hash nodes;
    struct store_txnode *first, *last;
    uint32_t nr_nodes;
    uint64_t seq;
    int64_t owned_delta;    /* nodes the connection's domain gains */
    struct store_pending_event *events, *last_event;
};

/* A node's state as it was in the generations [born, died). */
struct store_version {
    struct store_version *next; /* older */
    uint64_t born, died;
    uint8_t *value;
    uint32_t value_len;
    struct store_perm *perms;
    uint16_t nr_perms;
    char *names;                /* the children's names, as node->names */
    uint32_t names_len, nr_children;
};

/* The saved versions of one path, newest first. */
struct store_past {
    struct store_hentry h;
    char *path;
    uint32_t path_len;
    struct store_version *versions;
};

struct store_watch {
    struct store_hentry h;           /* watches hashed by path */
    struct store_watch *conn_next;   /* the connection's watches */
    struct store_conn *conn;
    char *path;                   /* absolute (or @special) */
    uint32_t path_len;
    char *token;
    uint32_t token_len;
    int depth;                    /* -1: unlimited */
    uint32_t strip;               /* events report paths relative to this prefix */
};

struct store_domain {
    domid_t domid;
    bool introduced;
    uint64_t birth_gen;     /* permission entries older than this are stale */
    uint32_t target;        /* SET_TARGET, or STORE_MAX_DOMID */
    uint32_t nr_watches;
    uint32_t nr_transactions;
};

struct store_conn {
    struct store *s;
    struct store_conn *next, *prev;
    domid_t domid;
    bool privileged;
    bool dead;              /* its domain was released */
    struct store_event_sink sink;
    struct store_watch *watches;
    struct store_txn *txns;
    uint32_t next_txid;
    char home[32];          /* "/local/domain/<domid>" */
    uint32_t home_len;
    /* WATCH's first event, sent only after its OK (store_conn_after_reply). */
    bool initial_pending;
    uint32_t initial_path_len, initial_token_len;
    char initial[XENSTORE_PAYLOAD_MAX + 2];
};

struct store {
    struct mv_lock lock;    /* rank STORE */
    struct store_config cfg;
    struct store_node *root;
    struct store_hash nodes;
    struct store_hash watches;
    uint64_t generation;
    uint32_t *owned;        /* [STORE_MAX_DOMID]: nodes owned per domid */
    uint32_t nr_owners;     /* domids d with owned[d] > 0 */
    uint32_t *check_owned;  /* [STORE_MAX_DOMID]: the checker's, zero between checks */
    struct store_domain *domains[STORE_MAX_DOMID];
    struct store_conn *conns;
    uint64_t nr_conns, nr_watches, nr_txns, bytes;
    struct store_hash past;       /* store_past by path (history.c) */
    uint64_t newest_start;        /* the latest start of an open transaction */
    uint64_t past_versions, past_bytes;
    bool log_requests;      /* CONTROL log on */
};

/* A request's context: the connection and its transaction (or NULL). */
struct store_ctx {
    struct store *s;
    struct store_conn *conn;
    struct store_txn *txn;
};

/* The view of one node an operation works on: the tree's node, or a
 * transaction's copy.  Exactly one of node/txnode is set when it exists. */
struct store_view {
    struct store_node *node;
    struct store_txnode *txnode;
};

/* tree.c: the hash */
uint64_t store_hash_path(const char *path, size_t len);
int store_hash_init(struct store_hash *h, size_t nbuckets);
void store_hash_fini(struct store_hash *h);
/* Inserts (growing the table when it fills; -ENOMEM only if it must grow
 * and cannot, leaving e out). */
int store_hash_insert(struct store_hash *h, struct store_hentry *e);
void store_hash_remove(struct store_hash *h, struct store_hentry *e);
static inline struct store_hentry *store_hash_bucket(const struct store_hash *h, uint64_t hash)
{
    return h->buckets[hash & (h->nbuckets - 1)];
}

/* tree.c: nodes */
struct store_node *store_tree_lookup(struct store *s, const char *path, size_t len);
int store_tree_create(struct store *s, const char *path, size_t len, struct store_node *parent,
                      const struct store_perm *perms, uint16_t nr_perms, struct store_node **out);
/* The children's names (children_bytes of them); NULL without memory. */
const char *store_node_names(struct store_node *n);
int store_node_set_value(struct store *s, struct store_node *n, const uint8_t *value, uint32_t len);
int store_node_set_perms(struct store *s, struct store_node *n, const struct store_perm *perms,
                         uint16_t nr);
/* Deletes n and its subtree; fn (may be NULL) sees each node, children
 * first, before it goes. */
void store_tree_delete(struct store *s, struct store_node *n,
                       void (*fn)(void *arg, struct store_node *n), void *arg);
const char *store_basename(const char *path, size_t len, size_t *base_len);
size_t store_parent_len(const char *path, size_t len);
/*
 * Canonicalises a request path: relative paths go under the connection's
 * home; checks characters and form; special (@...) paths only when
 * allowed.  out must hold STORE_PATH_BUF bytes.  -EINVAL.
 */
int store_canonical_path(const struct store_conn *c, const char *in, size_t in_len,
                         bool allow_special, char *out, size_t *out_len);

/* perms.c */
int store_perms_parse(const char *buf, size_t len, struct store_perm *out, uint16_t *nr,
                      uint16_t max);
size_t store_perms_format(const struct store_perm *p, uint16_t nr, char *buf, size_t cap);
/* The rights conn has on a node with these permissions and generation. */
unsigned store_perm_for_conn(const struct store_ctx *ctx, const struct store_perm *p, uint16_t nr,
                             uint64_t node_gen);

/* txn.c */
int store_txn_start(struct store_ctx *ctx, uint32_t *id);
int store_txn_end(struct store_ctx *ctx, bool commit);
/* Ends every transaction of c, uncommitted. */
void store_txn_drop_all(struct store *s, struct store_conn *c);
struct store_txn *store_txn_find(struct store_conn *c, uint32_t id);
/* The transaction's view of a path, copying it in on first touch. */
int store_txn_touch(struct store_ctx *ctx, const char *path, size_t len, struct store_txnode **out);
int store_txn_queue_event(struct store_txn *t, const char *path, size_t len, bool exact);

/* history.c */
/* Keeps n's state, if an open transaction may need it; call before n
 * changes (value, permissions, children) or goes, and before the
 * generation moves for that change. */
void store_history_save(struct store *s, struct store_node *n);
/* The version of path current at generation start, or NULL. */
const struct store_version *store_history_find(struct store *s, const char *path, size_t len,
                                               uint64_t hash, uint64_t start);
/* What a saved version costs, as past_bytes counts it. */
uint64_t store_version_bytes(const struct store_version *v);
/* Drops what no open transaction needs (after one ends). */
void store_history_prune(struct store *s);
void store_history_fini(struct store *s);

/* watch.c */
int store_watch_add(struct store_ctx *ctx, const char *path, size_t path_len, const char *token,
                    size_t token_len, int depth, uint32_t strip);
int store_watch_remove(struct store_ctx *ctx, const char *path, size_t path_len, const char *token,
                       size_t token_len);
void store_watch_remove_all(struct store *s, struct store_conn *c);
/* Fires the watches on a path (and, unless exact, on its ancestors). */
void store_fire(struct store *s, const char *path, size_t len, bool exact);
/* The same, for a change of permissions: watchers who could read the
 * node before it see the event too. */
struct store_old_perms {
    const struct store_perm *perms;
    uint16_t nr;
    uint64_t generation;
};
void store_fire_old(struct store *s, const char *path, size_t len, bool exact,
                    const struct store_old_perms *old);
void store_fire_special(struct store *s, const char *name, domid_t domid);
void store_send_event(struct store_watch *w, const char *path, size_t len);

/* domain.c */
struct store_domain *store_domain_get(struct store *s, domid_t domid, bool create);
bool store_domain_exists(struct store *s, uint32_t domid);
void store_owned_adjust(struct store *s, uint32_t owner, int64_t delta);
void store_domain_remove(struct store *s, domid_t domid);

/* ops.c */
enum xsd_sockmsg_type store_dispatch(struct store_ctx *ctx, const struct xsd_sockmsg *hdr,
                         const uint8_t *payload, uint8_t *reply, uint32_t *reply_len);

/* check.c */
unsigned store_check_locked(struct store *s, FILE *report);

/* control.c */
int store_control(struct store_ctx *ctx, const char *payload, size_t len, char *reply,
                  uint32_t *reply_len);

/* Helpers for replies. */
static inline bool store_conn_quota(const struct store_conn *c)
{
    return !c->privileged;
}

#endif
