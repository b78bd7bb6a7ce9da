/*
 * Listening on a unix socket, one instance per path.
 *
 * A server holds an exclusive flock on "<path>.lock" for its whole life
 * and only then replaces a socket file left at path: a file there whose
 * lock nobody holds is stale.  The socket is private to its user (0600),
 * as Xen's are.
 */
#ifndef MEMVISOR_LISTEN_H
#define MEMVISOR_LISTEN_H

#include "memvisor/log.h"

struct mv_listener {
    int sock;
    int lock_fd;
    char path[108];             /* sizeof(sockaddr_un.sun_path) */
};

/*
 * Takes the lock and listens on path with a socket of the given type
 * (SOCK_STREAM, SOCK_SEQPACKET; close-on-exec, plus SOCK_NONBLOCK if
 * asked).  -EADDRINUSE when another instance serves path (its pid is
 * logged), -ENAMETOOLONG, or -errno; every failure is logged.  Creates
 * the socket's folder if missing.
 */
int mv_listen(const char *path, int type, const struct mv_logger *log,
              struct mv_listener *out) MV_MUST_CHECK;
/* Removes the socket file, then releases the lock. */
void mv_listen_close(struct mv_listener *l);

/*
 * For a server's main thread, before it starts any other: SIGPIPE
 * ignored, and SIGTERM, SIGINT and SIGHUP blocked (in every thread started
 * afterwards too) and delivered through the returned signalfd instead.
 * -errno on failure.
 */
int mv_stop_signals(void);

#endif
