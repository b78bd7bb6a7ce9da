/*
 * The client side of the hypercall socket.
 *
 * The buffer region is one memfd: its whole virtual size is reserved at
 * connect (PROT_NONE), and the file is mapped into it as it grows.  Pages
 * are handed out first-fit from a bitmap.  The memfd is sealed against
 * shrinking before the daemon sees it, as the daemon requires.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "memvisor/client.h"
#include "memvisor/lock.h"
#include "memvisor/wire.h"

#define CLIENT_PAGE 4096u
/* Virtual room for buffers; the file starts small and grows. */
#define CLIENT_REGION_MAX (UINT64_C(256) << 20)
#define CLIENT_REGION_INITIAL (UINT64_C(1) << 20)
#define CLIENT_PAGES (CLIENT_REGION_MAX / CLIENT_PAGE)

struct mv_client {
    int sock;
    int memfd;
    uint8_t *base;
    struct mv_lock call_lock;  /* rank CLIENT_CALL: one call in flight */
    struct mv_lock alloc_lock; /* rank CLIENT_ALLOC */
    /* Under alloc_lock. */
    uint64_t size;             /* bytes of the file mapped */
    uint64_t hint;             /* where the next search starts (page) */
    uint64_t used[CLIENT_PAGES / 64];
};

const char *mv_default_socket_path(char *buf, size_t len)
{
    const char *env = getenv("MEMVISOR_SOCKET");

    if (env && *env)
        snprintf(buf, len, "%s", env);
    else if (geteuid() == 0)
        snprintf(buf, len, "/run/memvisor/hypercall.sock");
    else
        snprintf(buf, len, "/tmp/memvisor-%u/hypercall.sock", (unsigned)geteuid());
    return buf;
}

const char *mv_default_xenstore_path(char *buf, size_t len)
{
    const char *env = getenv("XENSTORED_PATH");

    if (env && *env)
        snprintf(buf, len, "%s", env);
    else if (geteuid() == 0)
        snprintf(buf, len, "/run/memvisor/xenstored.sock");
    else
        snprintf(buf, len, "/tmp/memvisor-%u/xenstored.sock", (unsigned)geteuid());
    return buf;
}

static int send_hello(struct mv_client *c)
{
    struct mv_wire_hello hello = { MV_WIRE_MAGIC, MV_WIRE_HELLO, MV_WIRE_VERSION, 0,
                                   (uint64_t)(uintptr_t)c->base, CLIENT_REGION_MAX };
    char control[CMSG_SPACE(sizeof(int))];
    struct iovec iov = { &hello, sizeof(hello) };
    struct msghdr msg = { 0 };
    struct mv_wire_hello_reply reply;
    struct cmsghdr *cm;
    ssize_t n;

    memset(control, 0, sizeof(control));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &c->memfd, sizeof(int));
    if (sendmsg(c->sock, &msg, MSG_NOSIGNAL) != sizeof(hello))
        return -errno ? -errno : -EPROTO;
    n = recv(c->sock, &reply, sizeof(reply), 0);
    if (n < 0)
        return -errno;
    if (n != sizeof(reply) || reply.magic != MV_WIRE_MAGIC || reply.type != MV_WIRE_HELLO_REPLY)
        return -EPROTO;
    return reply.status;
}

int mv_client_connect(const char *path, struct mv_client **out)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    char dflt[sizeof(addr.sun_path)];
    struct mv_client *c;
    int rc;

    if (!path)
        path = mv_default_socket_path(dflt, sizeof(dflt));
    if (strlen(path) >= sizeof(addr.sun_path))
        return -ENAMETOOLONG;
    strcpy(addr.sun_path, path);

    c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->sock = c->memfd = -1;
    c->base = MAP_FAILED;
    lock_init(&c->call_lock, LOCK_RANK_CLIENT_CALL, "hypercall client call");
    lock_init(&c->alloc_lock, LOCK_RANK_CLIENT_ALLOC, "hypercall client buffers");

    c->sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (c->sock < 0 || connect(c->sock, (struct sockaddr *)&addr, sizeof(addr)) < 0)
        goto fail_errno;
    c->memfd = memfd_create("memvisor-hypercall-buffers", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (c->memfd < 0 || ftruncate(c->memfd, (off_t)CLIENT_REGION_INITIAL) < 0 ||
        fcntl(c->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_SEAL) < 0)
        goto fail_errno;
    c->base = mmap(NULL, CLIENT_REGION_MAX, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (c->base == MAP_FAILED ||
        mmap(c->base, CLIENT_REGION_INITIAL, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
             c->memfd, 0) == MAP_FAILED)
        goto fail_errno;
    c->size = CLIENT_REGION_INITIAL;
    rc = send_hello(c);
    if (rc)
        goto fail;
    *out = c;
    return 0;

fail_errno:
    rc = errno ? -errno : -EIO;
fail:
    mv_client_close(c);
    return rc;
}

void mv_client_close(struct mv_client *c)
{
    if (!c)
        return;
    if (c->sock >= 0)
        close(c->sock);
    if (c->base != MAP_FAILED)
        munmap(c->base, CLIENT_REGION_MAX);
    if (c->memfd >= 0)
        close(c->memfd);
    lock_fini(&c->call_lock);
    lock_fini(&c->alloc_lock);
    free(c);
}

int mv_client_fd(const struct mv_client *c)
{
    return c->sock;
}

static bool page_used(const struct mv_client *c, uint64_t p)
{
    return (c->used[p / 64] >> (p % 64)) & 1;
}

static void mark_pages(struct mv_client *c, uint64_t first, uint64_t nr, bool used)
{
    for (uint64_t p = first; p < first + nr; p++) {
        if (used)
            c->used[p / 64] |= UINT64_C(1) << (p % 64);
        else
            c->used[p / 64] &= ~(UINT64_C(1) << (p % 64));
    }
}

/* First fit from `from`; the first page of a free run of nr, or UINT64_MAX. */
static uint64_t find_run(const struct mv_client *c, uint64_t from, uint64_t nr)
{
    uint64_t run = 0;

    for (uint64_t p = from; p < CLIENT_PAGES; p++) {
        if (run == 0 && p % 64 == 0 && c->used[p / 64] == UINT64_MAX) {
            p += 63;
            continue;
        }
        run = page_used(c, p) ? 0 : run + 1;
        if (run == nr)
            return p + 1 - nr;
    }
    return UINT64_MAX;
}

/* Maps more of the file so that [0, end) is backed.  alloc_lock held. */
static int grow_to(struct mv_client *c, uint64_t end)
{
    uint64_t size = c->size;

    while (size < end)
        size *= 2;
    if (size > CLIENT_REGION_MAX)
        size = CLIENT_REGION_MAX;
    if (ftruncate(c->memfd, (off_t)size) < 0 ||
        mmap(c->base + c->size, size - c->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
             c->memfd, (off_t)c->size) == MAP_FAILED)
        return -errno;
    c->size = size;
    return 0;
}

void *mv_client_alloc_pages(struct mv_client *c, size_t nr)
{
    uint64_t first;
    void *p = NULL;

    if (nr == 0 || nr > CLIENT_PAGES)
        return NULL;
    lock_acquire(&c->alloc_lock);
    first = find_run(c, c->hint, nr);
    if (first == UINT64_MAX && c->hint)
        first = find_run(c, 0, nr);
    if (first != UINT64_MAX &&
        ((first + nr) * CLIENT_PAGE <= c->size || grow_to(c, (first + nr) * CLIENT_PAGE) == 0)) {
        mark_pages(c, first, nr, true);
        c->hint = first + nr;
        p = c->base + first * CLIENT_PAGE;
        memset(p, 0, nr * CLIENT_PAGE);
    }
    lock_release(&c->alloc_lock);
    return p;
}

void mv_client_free_pages(struct mv_client *c, void *p, size_t nr)
{
    uint64_t first;

    if (!p)
        return;
    first = (uint64_t)((uint8_t *)p - c->base) / CLIENT_PAGE;
    lock_acquire(&c->alloc_lock);
    mark_pages(c, first, nr, false);
    if (first < c->hint)
        c->hint = first;
    lock_release(&c->alloc_lock);
}

long mv_client_call(struct mv_client *c, unsigned op, const uint64_t args[6])
{
    struct mv_wire_call call = { MV_WIRE_MAGIC, MV_WIRE_CALL, op, 0, { 0 }, 0 };
    struct mv_wire_reply reply;
    ssize_t n;
    long rc;

    memcpy(call.args, args, sizeof(call.args));
    lock_acquire(&c->alloc_lock);
    call.region_size = c->size;
    lock_release(&c->alloc_lock);

    lock_acquire(&c->call_lock);
    if (send(c->sock, &call, sizeof(call), MSG_NOSIGNAL) != sizeof(call)) {
        rc = -errno;
    } else {
        do
            n = recv(c->sock, &reply, sizeof(reply), 0);
        while (n < 0 && errno == EINTR);
        if (n < 0)
            rc = -errno;
        else if (n == 0)
            rc = -ECONNRESET;
        else if (n != sizeof(reply) || reply.magic != MV_WIRE_MAGIC || reply.type != MV_WIRE_REPLY)
            rc = -EPROTO;
        else
            rc = (long)reply.result;
    }
    lock_release(&c->call_lock);
    return rc;
}
