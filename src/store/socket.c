/*
 * The socket server: xenstore's wire protocol on a unix stream socket
 * (specs C2, C3), for libxenstore and every other xenstore client.
 *
 * One thread, one epoll set, non-blocking sockets.  A request is handled
 * as soon as all of it has arrived, however many pieces it came in; its
 * reply is written straight away.  So a slow client, one that sends half
 * a message and stops, or one that never reads, holds up nobody else:
 *   - what a client has sent waits in its own input buffer;
 *   - what it has not read waits in its own output queue; past
 *     out_high bytes its requests are no longer read (a client that does
 *     not read its replies gets no more of them), and past out_max (watch
 *     events pile up there too) it is disconnected.
 * A message longer than XENSTORE_PAYLOAD_MAX disconnects its sender, as Xen's
 * xenstored does.
 *
 * Latency: after handling anything the thread polls without sleeping for
 * poll_us before it blocks again, so a client making calls one after
 * another finds it awake: each call then costs one wake-up (the
 * client's) instead of two.  While it polls it yields, so that a client
 * sharing its CPU runs at once.  It stops polling as soon as the window
 * passes with nothing to do.
 *
 * Watch events may be fired by other threads (guests inside memvisord
 * writing to the store); they reach a client's output queue under its
 * out_lock (rank LEAF, taken with the store lock held).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "memvisor/listen.h"
#include "store_internal.h"

#define EPOLL_BATCH 64
#define STOP_TAG ((void *)1)
#define LISTEN_TAG ((void *)2)

struct client {
    struct store_server *srv;
    struct client *next, *prev;
    struct store_conn *conn;
    int fd;
    unsigned id;
    /* Hung up, broke the protocol or overflowed: set by any thread (under
     * out_lock), acted on by the server thread. */
    _Atomic bool gone;
    /* Input: messages, possibly in pieces (server thread only). */
    struct store_reader in;
    /* Output (under out_lock). */
    struct mv_lock out_lock;
    uint8_t *out;
    size_t out_head, out_len, out_cap;
    bool paused;            /* requests wait until the output drains */
    uint32_t interest;      /* the epoll events asked for */
};

struct store_server {
    struct store *store;
    struct store_server_config cfg;
    struct mv_listener listener;
    int epfd;
    struct client *clients;
    unsigned nr_clients, next_id;
};

void store_server_config_default(struct store_server_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->max_clients = 1024;
    cfg->poll_us = 100;
    cfg->out_high = 64 * 1024;
    cfg->out_max = 4 * 1024 * 1024;
    cfg->log.level = MV_LOG_WARN;
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Asks epoll for what the client needs now (out_lock held): its requests
 * while its output is not backed up; writability while output waits, or
 * while paused requests wait (so that the server thread resumes them
 * even when another thread's write drained the output). */
static void update_interest(struct client *cl)
{
    uint32_t want = EPOLLRDHUP;
    struct epoll_event ev;

    if (cl->gone)
        return;
    if (!cl->paused && cl->out_len < cl->srv->cfg.out_high)
        want |= EPOLLIN;
    if (cl->out_len || cl->paused)
        want |= EPOLLOUT;
    if (want == cl->interest)
        return;
    ev.events = want;
    ev.data.ptr = cl;
    if (epoll_ctl(cl->srv->epfd, EPOLL_CTL_MOD, cl->fd, &ev) == 0)
        cl->interest = want;
}

/* Marks the client for closing: the server thread sees the hang-up. */
static void mark_gone(struct client *cl, const char *why)
{
    if (cl->gone)
        return;
    cl->gone = true;
    mv_log(&cl->srv->cfg.log, MV_LOG_WARN, "xenstore client %u: %s; disconnected", cl->id, why);
    shutdown(cl->fd, SHUT_RDWR);
}

/* Writes what is queued; out_lock held. */
static void flush_locked(struct client *cl)
{
    while (cl->out_len && !cl->gone) {
        ssize_t n = send(cl->fd, cl->out + cl->out_head, cl->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                cl->gone = true; /* the reader sees the error too */
            break;
        }
        cl->out_head += (size_t)n;
        cl->out_len -= (size_t)n;
    }
    if (cl->out_len == 0)
        cl->out_head = 0;
    update_interest(cl);
}

/* Queues one message and writes what the socket takes; out_lock held. */
static void send_locked(struct client *cl, const struct xsd_sockmsg *hdr, const void *body,
                        size_t body_len)
{
    size_t need = sizeof(*hdr) + body_len;

    if (cl->gone)
        return;
    if (cl->out_len + need > cl->srv->cfg.out_max) {
        mark_gone(cl, "does not read what it is sent");
        return;
    }
    if (cl->out_head + cl->out_len + need > cl->out_cap) {
        if (cl->out_head) {
            memmove(cl->out, cl->out + cl->out_head, cl->out_len);
            cl->out_head = 0;
        }
        if (cl->out_len + need > cl->out_cap) {
            size_t cap = max_u64(cl->out_cap * 2, cl->out_len + need);
            uint8_t *grown = realloc(cl->out, cap);
            if (!grown) {
                mark_gone(cl, "no memory for its output");
                return;
            }
            cl->out = grown;
            cl->out_cap = cap;
        }
    }
    {
        uint8_t *p = cl->out + cl->out_head + cl->out_len;
        memcpy(p, hdr, sizeof(*hdr));
        memcpy(p + sizeof(*hdr), body, body_len);
        cl->out_len += need;
    }
    flush_locked(cl);
}

/* The connection's event sink: "path\0token\0" as a WATCH_EVENT. */
static void send_event(void *arg, const char *path, size_t path_len, const char *token,
                       size_t token_len)
{
    struct client *cl = arg;
    uint8_t body[XENSTORE_PAYLOAD_MAX + 2];
    struct xsd_sockmsg hdr = { XS_WATCH_EVENT, 0, 0, (uint32_t)(path_len + token_len + 2) };

    if (path_len + token_len + 2 > sizeof(body))
        return;
    memcpy(body, path, path_len);
    body[path_len] = '\0';
    memcpy(body + path_len + 1, token, token_len);
    body[path_len + 1 + token_len] = '\0';
    lock_acquire(&cl->out_lock);
    send_locked(cl, &hdr, body, hdr.len);
    lock_release(&cl->out_lock);
}

static void handle_request(struct client *cl, const struct xsd_sockmsg *req, const uint8_t *payload)
{
    uint8_t reply[XENSTORE_PAYLOAD_MAX + 1];
    struct xsd_sockmsg hdr = *req;

    hdr.type = store_conn_request(cl->conn, req, payload, reply, &hdr.len);
    lock_acquire(&cl->out_lock);
    send_locked(cl, &hdr, reply, hdr.len);
    lock_release(&cl->out_lock);
    store_conn_after_reply(cl->conn);
}

/* Handles every whole message in the input buffer, unless the client's
 * output backs up first. */
static void handle_input(struct client *cl)
{
    uint32_t off = 0;

    while (!cl->gone) {
        struct xsd_sockmsg hdr;
        const uint8_t *payload;
        uint32_t next = off;
        bool paused;
        int rc = store_reader_next(&cl->in, &next, &hdr, &payload);

        if (rc < 0) {
            lock_acquire(&cl->out_lock);
            mark_gone(cl, "sent a message over 4096 bytes");
            lock_release(&cl->out_lock);
        }
        if (rc <= 0)
            break; /* the rest is still on its way */
        lock_acquire(&cl->out_lock);
        paused = cl->out_len >= cl->srv->cfg.out_high;
        if (paused) {
            cl->paused = true; /* resumed once its output drains */
            update_interest(cl);
        }
        lock_release(&cl->out_lock);
        if (paused)
            break;
        handle_request(cl, &hdr, payload);
        off = next;
    }
    if (off)
        store_reader_consume(&cl->in, off);
}

static void read_input(struct client *cl)
{
    size_t room;
    uint8_t *space = store_reader_space(&cl->in, &room);
    ssize_t n;

    if (room == 0)
        return; /* full of whole messages it waits to handle */
    n = recv(cl->fd, space, room, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        cl->gone = true;
        return;
    }
    if (n > 0)
        store_reader_filled(&cl->in, (size_t)n);
    handle_input(cl);
}

static void client_close(struct store_server *srv, struct client *cl)
{
    /* After store_conn_close no event can reach the client. */
    store_conn_close(cl->conn);
    epoll_ctl(srv->epfd, EPOLL_CTL_DEL, cl->fd, NULL);
    close(cl->fd);
    if (cl->prev)
        cl->prev->next = cl->next;
    else
        srv->clients = cl->next;
    if (cl->next)
        cl->next->prev = cl->prev;
    srv->nr_clients--;
    mv_log(&srv->cfg.log, MV_LOG_DEBUG, "xenstore client %u: gone", cl->id);
    lock_fini(&cl->out_lock);
    free(cl->out);
    free(cl);
}

static void accept_clients(struct store_server *srv)
{
    for (;;) {
        int fd = accept4(srv->listener.sock, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        struct store_event_sink sink;
        struct epoll_event ev;
        struct client *cl;

        if (fd < 0)
            return;
        if (srv->nr_clients >= srv->cfg.max_clients) {
            mv_log(&srv->cfg.log, MV_LOG_WARN, "xenstore: refusing a client: %u already served",
                   srv->nr_clients);
            close(fd);
            continue;
        }
        cl = calloc(1, sizeof(*cl));
        if (!cl) {
            close(fd);
            continue;
        }
        cl->srv = srv;
        cl->fd = fd;
        cl->id = ++srv->next_id;
        lock_init(&cl->out_lock, LOCK_RANK_LEAF, "xenstore client output");
        sink = (struct store_event_sink){ send_event, cl };
        /* Socket clients are the control domain (dom0), as in Xen. */
        ev.events = cl->interest = EPOLLIN | EPOLLRDHUP;
        ev.data.ptr = cl;
        if (store_conn_open(srv->store, 0, true, &sink, &cl->conn)) {
            lock_fini(&cl->out_lock);
            free(cl);
            close(fd);
            continue;
        }
        if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ev)) {
            store_conn_close(cl->conn);
            lock_fini(&cl->out_lock);
            free(cl);
            close(fd);
            continue;
        }
        cl->next = srv->clients;
        if (srv->clients)
            srv->clients->prev = cl;
        srv->clients = cl;
        srv->nr_clients++;
        mv_log(&srv->cfg.log, MV_LOG_DEBUG, "xenstore client %u: connected", cl->id);
    }
}

static void client_event(struct store_server *srv, struct client *cl, uint32_t events)
{
    if (events & EPOLLOUT) {
        bool resume;

        lock_acquire(&cl->out_lock);
        flush_locked(cl);
        resume = cl->paused && cl->out_len <= srv->cfg.out_high / 2;
        if (resume) {
            cl->paused = false;
            update_interest(cl);
        }
        lock_release(&cl->out_lock);
        if (resume)
            handle_input(cl); /* what waited for the output to drain */
    }
    if (events & EPOLLIN)
        read_input(cl);
    if ((events & (EPOLLHUP | EPOLLERR)) || ((events & EPOLLRDHUP) && !(events & EPOLLIN)))
        cl->gone = true;
    if (cl->gone)
        client_close(srv, cl);
}

int store_server_open(struct store *s, const struct store_server_config *cfg,
                      struct store_server **out)
{
    struct store_server *srv = calloc(1, sizeof(*srv));
    struct epoll_event ev = { .events = EPOLLIN };
    int rc;

    if (!srv)
        return -ENOMEM;
    srv->store = s;
    srv->cfg = *cfg;
    if (!srv->cfg.max_clients || srv->cfg.out_high > srv->cfg.out_max || !cfg->path) {
        free(srv);
        return -EINVAL;
    }
    rc = mv_listen(cfg->path, SOCK_STREAM | SOCK_NONBLOCK, &srv->cfg.log, &srv->listener);
    if (rc) {
        free(srv);
        return rc;
    }
    srv->cfg.path = srv->listener.path;
    srv->epfd = epoll_create1(EPOLL_CLOEXEC);
    ev.data.ptr = LISTEN_TAG;
    if (srv->epfd < 0 || epoll_ctl(srv->epfd, EPOLL_CTL_ADD, srv->listener.sock, &ev)) {
        rc = -errno;
        if (srv->epfd >= 0)
            close(srv->epfd);
        mv_listen_close(&srv->listener);
        free(srv);
        return rc;
    }
    *out = srv;
    return 0;
}

void store_server_run(struct store_server *srv, int stop_fd)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = STOP_TAG };
    struct epoll_event evs[EPOLL_BATCH];
    uint64_t poll_ns = (uint64_t)srv->cfg.poll_us * 1000, busy_until = 0;

    if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, stop_fd, &ev)) {
        mv_log(&srv->cfg.log, MV_LOG_ERROR, "xenstore: cannot watch the stop descriptor: %s",
               strerror(errno));
        return;
    }
    mv_log(&srv->cfg.log, MV_LOG_INFO, "serving xenstore on %s", srv->listener.path);
    for (;;) {
        bool polling = poll_ns && now_ns() < busy_until;
        int n;

        n = epoll_wait(srv->epfd, evs, EPOLL_BATCH, polling ? 0 : -1);
        if (n < 0 && errno != EINTR)
            break;
        /* Nothing yet: a client woken by our reply on this CPU runs
         * first (and sends its next request); on a CPU of our own this
         * returns at once. */
        if (n == 0 && polling)
            sched_yield();
        if (n <= 0)
            continue;
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == STOP_TAG)
                goto stop;
            if (evs[i].data.ptr == LISTEN_TAG)
                accept_clients(srv);
            else
                client_event(srv, evs[i].data.ptr, evs[i].events);
        }
        if (poll_ns)
            busy_until = now_ns() + poll_ns;
    }
stop:
    epoll_ctl(srv->epfd, EPOLL_CTL_DEL, stop_fd, NULL);
}

void store_server_close(struct store_server *srv)
{
    if (!srv)
        return;
    while (srv->clients)
        client_close(srv, srv->clients);
    close(srv->epfd);
    mv_listen_close(&srv->listener);
    free(srv);
}
