/*
 * A drop-in libxencall.so.1: Debian's unmodified libxenctrl (and through
 * it libxenlight and xl) loads it through LD_LIBRARY_PATH and makes its
 * hypercalls to memvisord.  ABI-compatible with Debian's libxencall1
 * (the same symbols at the same versions, VERS_1.0 to VERS_1.3).
 *
 * Hypercall buffers come from the region shared with the daemon, so the
 * guest handles libxenctrl puts in its arguments are translated there.
 * The socket is $MEMVISOR_SOCKET (see mv_default_socket_path).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xencall.h>
#include <xentoollog.h>

#include "memvisor/client.h"

#define EXPORT __attribute__((visibility("default")))
#define PAGE 4096u

struct xencall_handle {
    struct mv_client *client;
    xentoollog_logger *logger;
};

/* What xencall_alloc_buffer puts before the bytes it returns. */
struct allocation_header {
    size_t nr_pages;
    size_t pad;
};

static void log_error(xentoollog_logger *logger, int err, const char *fmt, const char *arg)
{
    if (logger)
        xtl_log(logger, XTL_ERROR, err, "xencall", fmt, arg);
    else {
        fprintf(stderr, "xencall: error: ");
        fprintf(stderr, fmt, arg);
        fprintf(stderr, ": %s\n", strerror(err));
    }
}

EXPORT xencall_handle *xencall_open(struct xentoollog_logger *logger, unsigned open_flags)
{
    struct xencall_handle *h = calloc(1, sizeof(*h));
    char path[108];
    int rc;

    (void)open_flags;
    if (!h)
        return NULL;
    h->logger = logger;
    rc = mv_client_connect(mv_default_socket_path(path, sizeof(path)), &h->client);
    if (rc) {
        log_error(logger, -rc, "Could not connect to memvisord at %s", path);
        free(h);
        errno = -rc;
        return NULL;
    }
    return h;
}

EXPORT int xencall_close(xencall_handle *h)
{
    if (!h)
        return 0;
    mv_client_close(h->client);
    free(h);
    return 0;
}

EXPORT int xencall_fd(xencall_handle *h)
{
    return mv_client_fd(h->client);
}

static long call(xencall_handle *h, unsigned op, uint64_t a1, uint64_t a2, uint64_t a3,
                 uint64_t a4, uint64_t a5)
{
    uint64_t args[6] = { a1, a2, a3, a4, a5, 0 };
    long rc = mv_client_call(h->client, op, args);

    if (rc < 0) {
        errno = (int)-rc;
        return -1;
    }
    return rc;
}

EXPORT int xencall0(xencall_handle *h, unsigned int op)
{
    return (int)call(h, op, 0, 0, 0, 0, 0);
}

EXPORT int xencall1(xencall_handle *h, unsigned int op, uint64_t a1)
{
    return (int)call(h, op, a1, 0, 0, 0, 0);
}

EXPORT int xencall2(xencall_handle *h, unsigned int op, uint64_t a1, uint64_t a2)
{
    return (int)call(h, op, a1, a2, 0, 0, 0);
}

EXPORT int xencall3(xencall_handle *h, unsigned int op, uint64_t a1, uint64_t a2, uint64_t a3)
{
    return (int)call(h, op, a1, a2, a3, 0, 0);
}

EXPORT int xencall4(xencall_handle *h, unsigned int op, uint64_t a1, uint64_t a2, uint64_t a3,
                    uint64_t a4)
{
    return (int)call(h, op, a1, a2, a3, a4, 0);
}

EXPORT int xencall5(xencall_handle *h, unsigned int op, uint64_t a1, uint64_t a2, uint64_t a3,
                    uint64_t a4, uint64_t a5)
{
    return (int)call(h, op, a1, a2, a3, a4, a5);
}

EXPORT long xencall2L(xencall_handle *h, unsigned int op, uint64_t a1, uint64_t a2)
{
    return call(h, op, a1, a2, 0, 0, 0);
}

EXPORT void *xencall_alloc_buffer_pages(xencall_handle *h, size_t nr_pages)
{
    void *p = mv_client_alloc_pages(h->client, nr_pages);

    if (!p)
        errno = ENOMEM;
    return p;
}

EXPORT void xencall_free_buffer_pages(xencall_handle *h, void *p, size_t nr_pages)
{
    mv_client_free_pages(h->client, p, nr_pages);
}

EXPORT void *xencall_alloc_buffer(xencall_handle *h, size_t size)
{
    size_t nr_pages = (size + sizeof(struct allocation_header) + PAGE - 1) / PAGE;
    struct allocation_header *hdr = xencall_alloc_buffer_pages(h, nr_pages);

    if (!hdr)
        return NULL;
    hdr->nr_pages = nr_pages;
    return hdr + 1;
}

EXPORT void xencall_free_buffer(xencall_handle *h, void *p)
{
    struct allocation_header *hdr;

    if (!p)
        return;
    hdr = (struct allocation_header *)p - 1;
    xencall_free_buffer_pages(h, hdr, hdr->nr_pages);
}

/* The buffers are ordinary shared memory: touching them never faults. */
EXPORT int xencall_buffers_never_fault(xencall_handle *h)
{
    (void)h;
    return 1;
}
