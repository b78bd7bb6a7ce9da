/*
 * client: a connection to memvisord's hypercall socket (see wire.h), with
 * the shared buffer region hypercall arguments must live in.  Used by the
 * drop-in libxencall and by the memvisor CLI.  One connection may be used
 * from several threads: calls are serialised on it.
 */
#ifndef MEMVISOR_CLIENT_H
#define MEMVISOR_CLIENT_H

#include <stddef.h>
#include <stdint.h>

struct mv_client;

/* The socket memvisord serves by default: $MEMVISOR_SOCKET, else
 * /run/memvisor/hypercall.sock for root, else
 * /tmp/memvisor-<uid>/hypercall.sock.  Returns buf. */
const char *mv_default_socket_path(char *buf, size_t len);
/* Where memvisor serves xenstore by default: $XENSTORED_PATH (where
 * libxenstore looks first), else xenstored.sock beside the default
 * hypercall socket.  Returns buf. */
const char *mv_default_xenstore_path(char *buf, size_t len);

/* Connects (path NULL: the default).  0 or -errno: -ENOENT or
 * -ECONNREFUSED when no daemon listens, -EPROTO when it does not speak
 * this protocol, -ENOMEM. */
int mv_client_connect(const char *path, struct mv_client **out);
void mv_client_close(struct mv_client *c);
int mv_client_fd(const struct mv_client *c);

/* Pages in the shared region, zeroed (NULL when the region is full). */
void *mv_client_alloc_pages(struct mv_client *c, size_t nr_pages);
void mv_client_free_pages(struct mv_client *c, void *p, size_t nr_pages);

/* One hypercall: its result (>= 0) or -errno; -EPIPE or -ECONNRESET when
 * the daemon has gone. */
long mv_client_call(struct mv_client *c, unsigned op, const uint64_t args[6]);

#endif
