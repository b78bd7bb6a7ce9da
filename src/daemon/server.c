/*
 * The hypercall socket.
 *
 * One thread per client, so a slow, flooding or vanishing client only ever
 * holds up itself.  A client that sends a malformed packet is dropped; one
 * that disconnects mid-call has its call finished and the reply dropped.
 * At most max_clients are served at once; more are refused at the door.
 *
 * One instance per socket (mv_listen).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "memvisor/hypercall.h"
#include "memvisor/listen.h"
#include "memvisor/wire.h"

#define PAGE_MASK_BYTES (PAGE_SIZE - 1)

struct client {
    struct server *srv;
    struct client *next;
    unsigned id;
    int sock;
    int memfd;
    uint8_t *map;
    uint64_t map_len;
    struct guest_region region;
    struct guest_memory mem;
    struct hc_caller caller;
};

struct server {
    struct hv *hv;
    const struct mv_logger *log;
    unsigned max_clients;
    struct mv_listener listener;
    struct mv_lock lock;      /* rank DAEMON */
    pthread_cond_t idle;
    /* Under lock. */
    struct client *clients;
    unsigned nr_clients;
    unsigned next_id;
    bool stopping;
};

static void client_unlink(struct server *srv, struct client *c)
{
    lock_acquire(&srv->lock);
    for (struct client **pp = &srv->clients; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
    srv->nr_clients--;
    pthread_cond_broadcast(&srv->idle);
    lock_release(&srv->lock);
}

static void client_free(struct client *c)
{
    if (c->map && c->map != MAP_FAILED)
        munmap(c->map, c->map_len);
    if (c->memfd >= 0)
        close(c->memfd);
    close(c->sock);
    free(c);
}

/* The memfd's size the daemon may touch: sealed, it never shrinks. */
static void refresh_region(struct client *c)
{
    struct stat st;

    if (fstat(c->memfd, &st) == 0 && st.st_size > 0)
        c->region.len = (size_t)min_u64((uint64_t)st.st_size & ~(uint64_t)PAGE_MASK_BYTES, c->map_len);
}

static int32_t accept_hello(struct client *c, const struct mv_wire_hello *h, int fd)
{
    struct stat st;
    int seals;

    if (h->version != MV_WIRE_VERSION)
        return -EPROTO;
    if (fd < 0)
        return -EBADF;
    if ((h->region_base & PAGE_MASK_BYTES) || (h->region_max & PAGE_MASK_BYTES) ||
        h->region_max == 0 || h->region_max > MV_WIRE_REGION_MAX ||
        h->region_base > UINT64_MAX - h->region_max)
        return -EINVAL;
    /* Only a memfd sealed against shrinking is safe to map: a file that
     * shrank under us would fault the daemon. */
    seals = fcntl(fd, F_GET_SEALS);
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || seals < 0 || !(seals & F_SEAL_SHRINK))
        return -EPERM;
    c->map = mmap(NULL, h->region_max, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
    if (c->map == MAP_FAILED) {
        c->map = NULL;
        return -ENOMEM;
    }
    c->memfd = fd;
    c->map_len = h->region_max;
    c->region = (struct guest_region){ h->region_base, c->map, 0 };
    c->mem = (struct guest_memory){ &c->region, 1 };
    refresh_region(c);
    return 0;
}

/* Receives HELLO and its memfd; replies.  false: drop the client. */
static bool client_handshake(struct client *c)
{
    struct mv_wire_hello hello;
    struct mv_wire_hello_reply reply = { MV_WIRE_MAGIC, MV_WIRE_HELLO_REPLY, 0, 0, 0 };
    char control[CMSG_SPACE(4 * sizeof(int))];
    struct iovec iov = { &hello, sizeof(hello) };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                          .msg_controllen = sizeof(control) };
    int fd = -1;
    ssize_t n;

    n = recvmsg(c->sock, &msg, MSG_CMSG_CLOEXEC);
    /* Keep the first descriptor passed; close any others. */
    for (struct cmsghdr *cm = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL; cm; cm = CMSG_NXTHDR(&msg, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
            continue;
        for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
            int passed;
            memcpy(&passed, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
            if (fd < 0)
                fd = passed;
            else
                close(passed);
        }
    }
    if (n != sizeof(hello) || hello.magic != MV_WIRE_MAGIC || hello.type != MV_WIRE_HELLO) {
        if (fd >= 0)
            close(fd);
        mv_log(c->srv->log, MV_LOG_WARN, "client %u: not a memvisor hello; dropped", c->id);
        return false;
    }
    reply.status = accept_hello(c, &hello, fd);
    if (reply.status && fd >= 0)
        close(fd);
    send(c->sock, &reply, sizeof(reply), MSG_NOSIGNAL);
    if (reply.status)
        mv_log(c->srv->log, MV_LOG_WARN, "client %u: hello refused: %s", c->id,
               mv_strerror(reply.status));
    return reply.status == 0;
}

static void *client_main(void *arg)
{
    struct client *c = arg;
    struct server *srv = c->srv;

    c->caller = (struct hc_caller){ srv->hv, 0, true, &c->mem };
    if (client_handshake(c)) {
        mv_log(srv->log, MV_LOG_INFO, "client %u: connected", c->id);
        for (;;) {
            struct mv_wire_call call;
            struct mv_wire_reply reply = { MV_WIRE_MAGIC, MV_WIRE_REPLY, 0 };
            ssize_t n = recv(c->sock, &call, sizeof(call), 0);

            if (n == 0 || (n < 0 && errno != EINTR))
                break;
            if (n < 0)
                continue;
            if (n != sizeof(call) || call.magic != MV_WIRE_MAGIC || call.type != MV_WIRE_CALL) {
                mv_log(srv->log, MV_LOG_WARN, "client %u: malformed packet (%zd bytes); dropped",
                       c->id, n);
                break;
            }
            if (call.region_size > c->region.len)
                refresh_region(c);
            reply.result = mv_hypercall(&c->caller, call.op, call.args);
            mv_log(srv->log, MV_LOG_DEBUG, "client %u: hypercall %u -> %lld", c->id, call.op,
                   (long long)reply.result);
            if (send(c->sock, &reply, sizeof(reply), MSG_NOSIGNAL) != sizeof(reply))
                break;
        }
        mv_log(srv->log, MV_LOG_INFO, "client %u: gone", c->id);
    }
    client_unlink(srv, c);
    client_free(c);
    return NULL;
}

static void accept_one(struct server *srv, int lsock)
{
    pthread_attr_t attr;
    struct client *c;
    pthread_t th;
    int sock = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);

    if (sock < 0)
        return;
    lock_acquire(&srv->lock);
    if (srv->stopping || srv->nr_clients >= srv->max_clients) {
        lock_release(&srv->lock);
        mv_log(srv->log, MV_LOG_WARN, "refusing a client: %u already served", srv->max_clients);
        close(sock);
        return;
    }
    c = calloc(1, sizeof(*c));
    if (!c) {
        lock_release(&srv->lock);
        close(sock);
        return;
    }
    c->srv = srv;
    c->sock = sock;
    c->memfd = -1;
    c->id = ++srv->next_id;
    c->next = srv->clients;
    srv->clients = c;
    srv->nr_clients++;
    lock_release(&srv->lock);

    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&th, &attr, client_main, c) != 0) {
        client_unlink(srv, c);
        client_free(c);
    }
    pthread_attr_destroy(&attr);
}

int server_open(const struct daemon_config *cfg, const struct mv_logger *log, struct server **out)
{
    struct server *srv = calloc(1, sizeof(*srv));
    int rc;

    if (!srv)
        return -ENOMEM;
    srv->log = log;
    srv->max_clients = cfg->max_clients;
    rc = mv_listen(cfg->socket_path, SOCK_SEQPACKET, log, &srv->listener);
    if (rc) {
        free(srv);
        return rc;
    }
    lock_init(&srv->lock, LOCK_RANK_DAEMON, "daemon clients");
    pthread_cond_init(&srv->idle, NULL);
    *out = srv;
    return 0;
}

void server_close(struct server *srv)
{
    mv_listen_close(&srv->listener);
    pthread_cond_destroy(&srv->idle);
    lock_fini(&srv->lock);
    free(srv);
}

void server_run(struct server *srv, struct hv *hv, int signal_fd)
{
    int lsock = srv->listener.sock;

    srv->hv = hv;
    mv_log(srv->log, MV_LOG_INFO, "serving hypercalls on %s", srv->listener.path);
    for (;;) {
        struct pollfd pfd[2] = { { lsock, POLLIN, 0 }, { signal_fd, POLLIN, 0 } };

        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (pfd[1].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(signal_fd, &si, sizeof(si)) == sizeof(si))
                mv_log(srv->log, MV_LOG_INFO, "signal %u: shutting down", si.ssi_signo);
            break;
        }
        if (pfd[0].revents & POLLIN)
            accept_one(srv, lsock);
    }

    /* Stop accepting, hang up on every client, wait for their threads. */
    lock_acquire(&srv->lock);
    srv->stopping = true;
    for (struct client *c = srv->clients; c; c = c->next)
        shutdown(c->sock, SHUT_RDWR);
    while (srv->nr_clients)
        lock_wait(&srv->lock, &srv->idle);
    lock_release(&srv->lock);
}
