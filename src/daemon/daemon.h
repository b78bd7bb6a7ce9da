/*
 * memvisord's parts:
 *   memvisord.c  options, the config file, start-up and shutdown
 *   server.c     the hypercall socket: instance lock, accept loop, clients
 *   config.c     the config file parser
 *   xenstore.c   the xenstore server and its link to the host
 */
#ifndef MEMVISOR_DAEMON_H
#define MEMVISOR_DAEMON_H

#include <limits.h>

#include "memvisor/hv.h"
#include "memvisor/store.h"

struct daemon_config {
    struct hv_config hv;
    char socket_path[108];      /* sizeof(sockaddr_un.sun_path) */
    unsigned max_clients;
    char xenstore_path[108];
    unsigned store_poll_us;
    struct store_quota store_quota;
};

/*
 * Reads `key = value` lines into cfg.  Keys: ram, nodes, socket,
 * log_level, claim_gate (head|shortfall), scrub (on|off), huge_pages
 * (on|off), max_clients, xenstore_socket, xenstore_poll_us,
 * xenstore_quota (NAME=N; one line per quota).  '#' starts a comment.  On a bad line returns
 * -EINVAL with "FILE:LINE: what is wrong" in err; cfg is then unchanged.
 */
int daemon_config_load(const char *path, struct daemon_config *cfg, char *err, size_t err_len);
/* One `key = value` setting, from a file or the command line. */
int daemon_config_set(struct daemon_config *cfg, const char *key, const char *value,
                      char *err, size_t err_len);

struct server;

/*
 * Takes the instance lock for the socket and binds it: -EADDRINUSE if
 * another instance serves it, -errno otherwise, with a message logged.
 */
int server_open(const struct daemon_config *cfg, const struct mv_logger *log,
                struct server **out);
/* Serves hv until SIGTERM, SIGINT or SIGHUP (blocked in every thread by
 * the caller, and read from signal_fd); then hangs up on every client and
 * waits for them. */
void server_run(struct server *srv, struct hv *hv, int signal_fd);
/* Removes the socket and releases the instance lock. */
void server_close(struct server *srv);

struct daemon_xenstore;

/* Creates the store, writes dom0's nodes and serves the xenstore socket
 * from a thread.  -EADDRINUSE
 * when another instance serves the socket; failures are logged. */
int daemon_xenstore_start(const struct daemon_config *cfg, struct hv *hv,
                          const struct mv_logger *log, struct daemon_xenstore **out);
/* Stops serving, disconnects every client, destroys the store. */
void daemon_xenstore_stop(struct daemon_xenstore *x);
struct store *daemon_xenstore_store(struct daemon_xenstore *x);

#endif
