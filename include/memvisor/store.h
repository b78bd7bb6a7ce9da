/*
 * store: xenstore, wire-compatible with Xen's (docs/misc/xenstore.txt,
 * specs part C).
 *
 * One store holds the tree, the domains it knows and their quotas.
 * Clients reach it through connections: the socket server makes one per
 * socket client (privileged, as dom0), and guests and the toolstack inside
 * memvisor open their own, privileged or as an unprivileged domain.  A
 * connection speaks xenstore's messages: store_conn_request takes one request
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

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <xen/io/xs_wire.h>

#include "memvisor/base.h"
#include "memvisor/log.h"

/* The wire's message header (struct xsd_sockmsg), the message types
 * (enum xsd_sockmsg_type) and the error names come from Xen's public
 * xs_wire.h. */
#define STORE_HEADER_BYTES ((uint32_t)sizeof(struct xsd_sockmsg))

/* Quotas, enforced for unprivileged connections (Xen 4.17's checks). */
struct store_quota {
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
int store_quota_set(struct store_quota *q, const char *name, uint64_t value) MV_MUST_CHECK;
/* "NAME=N", as store_quota_set. */
int store_quota_parse(struct store_quota *q, const char *setting) MV_MUST_CHECK;
/* The i-th quota's name, value and description (what may be NULL);
 * false past the last. */
bool store_quota_get(const struct store_quota *q, unsigned i, const char **name, unsigned *value,
                     const char **what);

struct store_config {
    struct store_quota quota;
    struct mv_logger log;
    /* Whether a domain exists (for SET_PERMS and INTRODUCE); NULL: the
     * domains introduced to the store, and dom0. */
    bool (*domain_exists)(void *arg, domid_t domid);
    void *domain_arg;
};

struct store;
struct store_conn;

/* Where a connection's watch events go (called with the store lock held:
 * must not block or call back into the store). */
struct store_event_sink {
    void (*event)(void *arg, const char *path, size_t path_len, const char *token,
                  size_t token_len);
    void *arg;
};

void store_config_default(struct store_config *cfg);
int store_create(const struct store_config *cfg, struct store **out) MV_MUST_CHECK;
void store_destroy(struct store *s);

/*
 * A connection as domain `domid`.  Privileged connections (the toolstack,
 * socket clients) may do anything; others are held to permissions and
 * quotas, and must belong to a domain introduced to the store (-ENOENT).
 */
int store_conn_open(struct store *s, domid_t domid, bool privileged,
                    const struct store_event_sink *sink, struct store_conn **out) MV_MUST_CHECK;
/* Drops the connection's watches and transactions. */
void store_conn_close(struct store_conn *c);

/*
 * One request.  reply receives the payload (at most XENSTORE_PAYLOAD_MAX bytes);
 * the return value is the reply's type: the request's, or XS_ERROR with
 * the error name as payload.  *reply_len is set.
 */
enum xsd_sockmsg_type store_conn_request(struct store_conn *c, const struct xsd_sockmsg *hdr,
                             const uint8_t *payload, uint8_t *reply, uint32_t *reply_len);
/* Sends what must follow the reply just sent (WATCH's first event).
 * Callers of store_conn_request call it once they have sent the reply. */
void store_conn_after_reply(struct store_conn *c);

/*
 * The wire decoder: a byte stream from a client, in whatever pieces it
 * arrives, cut into whole messages.  Fill the space store_reader_space
 * offers, tell store_reader_filled how much came, take messages with
 * store_reader_next until it says 0, then store_reader_consume what was taken.
 */
struct store_reader {
    uint32_t len;
    uint8_t buf[2 * (STORE_HEADER_BYTES + XENSTORE_PAYLOAD_MAX)];
};

static inline uint8_t *store_reader_space(struct store_reader *r, size_t *room)
{
    *room = sizeof(r->buf) - r->len;
    return r->buf + r->len;
}

static inline void store_reader_filled(struct store_reader *r, size_t n)
{
    r->len += (uint32_t)n;
}

/* The message at *off: 1 with its header and payload (hdr->len bytes),
 * *off moved past it; 0 when the rest has not arrived; -EPROTO for a
 * message longer than XENSTORE_PAYLOAD_MAX (its sender must be dropped). */
int store_reader_next(const struct store_reader *r, uint32_t *off, struct xsd_sockmsg *hdr,
                      const uint8_t **payload);
/* Drops the first off bytes (the messages taken). */
void store_reader_consume(struct store_reader *r, uint32_t off);

/* The typed helpers: 0 or -errno (Xen's error names map to errnos). */
int store_read(struct store_conn *c, uint32_t tx, const char *path, char *value, size_t cap,
               size_t *len) MV_MUST_CHECK;
int store_write(struct store_conn *c, uint32_t tx, const char *path, const void *value,
                size_t len) MV_MUST_CHECK;
int store_mkdir(struct store_conn *c, uint32_t tx, const char *path) MV_MUST_CHECK;
int store_rm(struct store_conn *c, uint32_t tx, const char *path) MV_MUST_CHECK;
/* NUL-separated child names into buf (at most XENSTORE_PAYLOAD_MAX). */
int store_directory(struct store_conn *c, uint32_t tx, const char *path, char *buf, size_t cap,
                    size_t *len) MV_MUST_CHECK;
/* perms: NUL-separated "r0", "w1", ... as on the wire. */
int store_set_perms(struct store_conn *c, uint32_t tx, const char *path, const char *perms,
                    size_t len) MV_MUST_CHECK;
int store_get_perms(struct store_conn *c, uint32_t tx, const char *path, char *buf, size_t cap,
                    size_t *len) MV_MUST_CHECK;
int store_watch(struct store_conn *c, const char *path, const char *token) MV_MUST_CHECK;
int store_unwatch(struct store_conn *c, const char *path, const char *token) MV_MUST_CHECK;
int store_transaction_start(struct store_conn *c, uint32_t *tx) MV_MUST_CHECK;
int store_transaction_end(struct store_conn *c, uint32_t tx, bool commit) MV_MUST_CHECK;
int store_introduce(struct store_conn *c, domid_t domid) MV_MUST_CHECK;
int store_release(struct store_conn *c, domid_t domid) MV_MUST_CHECK;

/* Xen's error name for an errno (EINVAL for ones xenstore lacks), and back. */
const char *store_error_name(int err);
int store_error_from_name(const char *name, size_t len);

/* Tells the store a domain is gone (memvisord's destroy hook): as RELEASE,
 * without a connection. */
void store_domain_gone(struct store *s, domid_t domid);

/* Counts violations of the store's invariants, describing them on report. */
unsigned store_check(struct store *s, FILE *report);

struct store_stats {
    uint64_t nodes;
    uint64_t bytes;       /* values, names and permissions */
    uint64_t watches;
    uint64_t transactions;
    uint64_t connections;
    uint64_t generation;
    uint64_t past_versions; /* nodes' old states kept for open transactions */
    uint64_t past_bytes;
};
void store_stats(struct store *s, struct store_stats *out);

/*
 * The socket server: xenstore's wire protocol on a unix stream socket, as
 * Xen's xenstored serves it; every socket client is privileged (dom0).
 */
struct store_server_config {
    const char *path;          /* the socket */
    unsigned max_clients;      /* served at once (1024); more are refused */
    unsigned poll_us;          /* after activity, poll this long before sleeping (100; 0: never) */
    size_t out_high;           /* a client's unread output that pauses its requests (64 KiB) */
    size_t out_max;            /* ... and that disconnects it (4 MiB) */
    struct mv_logger log;
};
struct store_server;

void store_server_config_default(struct store_server_config *cfg);
/* Listens on cfg->path (one instance per path: -EADDRINUSE).  -EINVAL
 * for a bad config; failures are logged. */
int store_server_open(struct store *s, const struct store_server_config *cfg,
                      struct store_server **out) MV_MUST_CHECK;
/* Serves until stop_fd becomes readable (it is not read). */
void store_server_run(struct store_server *srv, int stop_fd);
/* Disconnects every client and removes the socket. */
void store_server_close(struct store_server *srv);

#endif
