/*
 * store: xenstore, wire-compatible with Xen's (docs/misc/xenstore.txt,
 * specs part C).
 *
 * One store holds the tree, the domains it knows and their quotas.
 * Clients reach it through connections: the socket server makes one per
 * socket client (privileged, as dom0), and guests and the toolstack inside
 * memvisor open their own, privileged or as an unprivileged domain.  A
 * connection speaks xenstore's messages: xs_conn_request takes one request
 * (type, request id, transaction id, payload) and produces its reply; the
 * typed helpers below build those messages for in-process callers.  Watch
 * events go to the connection's event sink, always before the reply of
 * the request that caused them.
 *
 * Locking: one store lock (rank STORE, outermost), held for each request.
 * Xenstore's semantics are global (one generation counter, transactions
 * that commit atomically), and a request takes microseconds.
 */
#ifndef MEMVISOR_STORE_H
#define MEMVISOR_STORE_H

#include <stdio.h>

#include "memvisor/base.h"
#include "memvisor/log.h"

/* Message types (xs_wire.h). */
enum xs_type {
    XS_CONTROL = 0,
    XS_DIRECTORY = 1,
    XS_READ = 2,
    XS_GET_PERMS = 3,
    XS_WATCH = 4,
    XS_UNWATCH = 5,
    XS_TRANSACTION_START = 6,
    XS_TRANSACTION_END = 7,
    XS_INTRODUCE = 8,
    XS_RELEASE = 9,
    XS_GET_DOMAIN_PATH = 10,
    XS_WRITE = 11,
    XS_MKDIR = 12,
    XS_RM = 13,
    XS_SET_PERMS = 14,
    XS_WATCH_EVENT = 15,
    XS_ERROR = 16,
    XS_IS_DOMAIN_INTRODUCED = 17,
    XS_RESUME = 18,
    XS_SET_TARGET = 19,
    XS_RESET_WATCHES = 21,
    XS_DIRECTORY_PART = 22,
    XS_TYPE_COUNT = 23,
};

#define XS_PAYLOAD_MAX 4096
#define XS_HEADER_BYTES 16

struct xs_msg_header {
    uint32_t type;
    uint32_t req_id;
    uint32_t tx_id;
    uint32_t len;
};

/* Quotas, enforced for unprivileged connections (Xen 4.17's checks). */
struct xs_quota {
    unsigned nodes;             /* nodes a domain may own (1000) */
    unsigned watches;           /* watches per domain (128) */
    unsigned transactions;      /* open transactions per domain (10) */
    unsigned transaction_nodes; /* nodes one transaction may touch (1024) */
    unsigned node_size;         /* bytes of one node: header, perms, value, children (2048) */
    unsigned node_perms;        /* permission entries on a node (5) */
    unsigned path_max;          /* path length below the domain's home (2048) */
};

/* A quota by Xen 4.17's name: nodes, watches, transactions,
 * transaction-nodes, node-size, path-max, permissions (or
 * node-permissions).  -EINVAL for another name or a value outside
 * 1..2^32-1. */
int xs_quota_set(struct xs_quota *q, const char *name, uint64_t value) MV_MUST_CHECK;
/* "NAME=N", as xs_quota_set. */
int xs_quota_parse(struct xs_quota *q, const char *setting) MV_MUST_CHECK;
/* The i-th quota's name, value and description (what may be NULL);
 * false past the last. */
bool xs_quota_get(const struct xs_quota *q, unsigned i, const char **name, unsigned *value,
                  const char **what);

struct xs_store_config {
    struct xs_quota quota;
    struct mv_logger log;
    /* Whether a domain exists (for SET_PERMS and INTRODUCE); NULL: the
     * domains introduced to the store, and dom0. */
    bool (*domain_exists)(void *arg, domid_t domid);
    void *domain_arg;
};

struct xs_store;
struct xs_conn;

/* Where a connection's watch events go (called with the store lock held:
 * must not block or call back into the store). */
struct xs_event_sink {
    void (*event)(void *arg, const char *path, size_t path_len, const char *token,
                  size_t token_len);
    void *arg;
};

void xs_store_config_default(struct xs_store_config *cfg);
int xs_store_create(const struct xs_store_config *cfg, struct xs_store **out) MV_MUST_CHECK;
void xs_store_destroy(struct xs_store *s);

/*
 * A connection as domain `domid`.  Privileged connections (the toolstack,
 * socket clients) may do anything; others are held to permissions and
 * quotas, and must belong to a domain introduced to the store (-ENOENT).
 */
int xs_conn_open(struct xs_store *s, domid_t domid, bool privileged,
                 const struct xs_event_sink *sink, struct xs_conn **out) MV_MUST_CHECK;
/* Drops the connection's watches and transactions. */
void xs_conn_close(struct xs_conn *c);

/*
 * One request.  reply receives the payload (at most XS_PAYLOAD_MAX bytes);
 * the return value is the reply's type: the request's, or XS_ERROR with
 * the error name as payload.  *reply_len is set.
 */
enum xs_type xs_conn_request(struct xs_conn *c, const struct xs_msg_header *hdr,
                             const uint8_t *payload, uint8_t *reply, uint32_t *reply_len);
/* Sends what must follow the reply just sent (WATCH's first event).
 * Callers of xs_conn_request call it once they have sent the reply. */
void xs_conn_after_reply(struct xs_conn *c);

/*
 * The wire decoder: a byte stream from a client, in whatever pieces it
 * arrives, cut into whole messages.  Fill the space xs_reader_space
 * offers, tell xs_reader_filled how much came, take messages with
 * xs_reader_next until it says 0, then xs_reader_consume what was taken.
 */
struct xs_reader {
    uint32_t len;
    uint8_t buf[2 * (XS_HEADER_BYTES + XS_PAYLOAD_MAX)];
};

static inline uint8_t *xs_reader_space(struct xs_reader *r, size_t *room)
{
    *room = sizeof(r->buf) - r->len;
    return r->buf + r->len;
}

static inline void xs_reader_filled(struct xs_reader *r, size_t n)
{
    r->len += (uint32_t)n;
}

/* The message at *off: 1 with its header and payload (hdr->len bytes),
 * *off moved past it; 0 when the rest has not arrived; -EPROTO for a
 * message longer than XS_PAYLOAD_MAX (its sender must be dropped). */
int xs_reader_next(const struct xs_reader *r, uint32_t *off, struct xs_msg_header *hdr,
                   const uint8_t **payload);
/* Drops the first off bytes (the messages taken). */
void xs_reader_consume(struct xs_reader *r, uint32_t off);

/* The typed helpers: 0 or -errno (Xen's error names map to errnos). */
int xs_read(struct xs_conn *c, uint32_t tx, const char *path, char *value, size_t cap,
            size_t *len) MV_MUST_CHECK;
int xs_write(struct xs_conn *c, uint32_t tx, const char *path, const void *value,
             size_t len) MV_MUST_CHECK;
int xs_mkdir(struct xs_conn *c, uint32_t tx, const char *path) MV_MUST_CHECK;
int xs_rm(struct xs_conn *c, uint32_t tx, const char *path) MV_MUST_CHECK;
/* NUL-separated child names into buf (at most XS_PAYLOAD_MAX). */
int xs_directory(struct xs_conn *c, uint32_t tx, const char *path, char *buf, size_t cap,
                 size_t *len) MV_MUST_CHECK;
/* perms: NUL-separated "r0", "w1", ... as on the wire. */
int xs_set_perms(struct xs_conn *c, uint32_t tx, const char *path, const char *perms,
                 size_t len) MV_MUST_CHECK;
int xs_get_perms(struct xs_conn *c, uint32_t tx, const char *path, char *buf, size_t cap,
                 size_t *len) MV_MUST_CHECK;
int xs_watch(struct xs_conn *c, const char *path, const char *token) MV_MUST_CHECK;
int xs_unwatch(struct xs_conn *c, const char *path, const char *token) MV_MUST_CHECK;
int xs_transaction_start(struct xs_conn *c, uint32_t *tx) MV_MUST_CHECK;
int xs_transaction_end(struct xs_conn *c, uint32_t tx, bool commit) MV_MUST_CHECK;
int xs_introduce(struct xs_conn *c, domid_t domid) MV_MUST_CHECK;
int xs_release(struct xs_conn *c, domid_t domid) MV_MUST_CHECK;

/* Xen's error name for an errno (EINVAL for ones xenstore lacks), and back. */
const char *xs_error_name(int err);
int xs_error_from_name(const char *name, size_t len);

/* Tells the store a domain is gone (memvisord's destroy hook): as RELEASE,
 * without a connection. */
void xs_domain_gone(struct xs_store *s, domid_t domid);

/* Counts violations of the store's invariants, describing them on report. */
unsigned xs_store_check(struct xs_store *s, FILE *report);

struct xs_store_stats {
    uint64_t nodes;
    uint64_t bytes;       /* values, names and permissions */
    uint64_t watches;
    uint64_t transactions;
    uint64_t connections;
    uint64_t generation;
};
void xs_store_stats(struct xs_store *s, struct xs_store_stats *out);

/*
 * The socket server: xenstore's wire protocol on a unix stream socket, as
 * Xen's xenstored serves it; every socket client is privileged (dom0).
 */
struct xs_server_config {
    const char *path;          /* the socket */
    unsigned max_clients;      /* served at once (1024); more are refused */
    unsigned poll_us;          /* after activity, poll this long before sleeping (100; 0: never) */
    size_t out_high;           /* a client's unread output that pauses its requests (64 KiB) */
    size_t out_max;            /* ... and that disconnects it (4 MiB) */
    struct mv_logger log;
};
struct xs_server;

void xs_server_config_default(struct xs_server_config *cfg);
/* Listens on cfg->path (one instance per path: -EADDRINUSE).  -EINVAL
 * for a bad config; failures are logged. */
int xs_server_open(struct xs_store *s, const struct xs_server_config *cfg,
                   struct xs_server **out) MV_MUST_CHECK;
/* Serves until stop_fd becomes readable (it is not read). */
void xs_server_run(struct xs_server *srv, int stop_fd);
/* Disconnects every client and removes the socket. */
void xs_server_close(struct xs_server *srv);

#endif
