/*
 * The toolstack's xenstore: in process (a privileged store connection) or
 * over a xenstore socket (memvisord's, or any xenstored's), speaking the
 * wire protocol as libxenstore does.  Watch events are not used here:
 * any that arrive on the socket are skipped.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "memvisor/toolstack.h"

struct tc_store {
    struct store_conn *conn; /* in process */
    int fd;                  /* or a socket */
    uint32_t req_id;
};

bool tc_domain_alive(void *hv_arg, domid_t domid)
{
    struct hv *hv = hv_arg;
    struct domain *d = domain_lookup(hv->domains, domid);
    bool alive = d && !domain_is_dying(d);

    if (d)
        domain_put(d);
    return alive;
}

int tc_store_local(struct store *s, struct tc_store **out)
{
    struct tc_store *x = calloc(1, sizeof(*x));
    int rc;

    if (!x)
        return -ENOMEM;
    x->fd = -1;
    rc = store_conn_open(s, 0, true, NULL, &x->conn);
    if (rc) {
        free(x);
        return rc;
    }
    *out = x;
    return 0;
}

int tc_store_connect(const char *path, struct tc_store **out)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct tc_store *x;
    int fd;

    if (strlen(path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    strcpy(sa.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
        int err = -errno;

        close(fd);
        return err;
    }
    x = calloc(1, sizeof(*x));
    if (!x) {
        close(fd);
        return -ENOMEM;
    }
    x->fd = fd;
    *out = x;
    return 0;
}

void tc_store_close(struct tc_store *x)
{
    if (!x)
        return;
    if (x->conn)
        store_conn_close(x->conn);
    if (x->fd >= 0)
        close(x->fd);
    free(x);
}

static int io_all(int fd, void *buf, size_t len, bool out)
{
    uint8_t *p = buf;

    while (len) {
        ssize_t n = out ? send(fd, p, len, MSG_NOSIGNAL) : read(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -ECONNRESET;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/*
 * One request: payload (len bytes) of `type` in transaction tx; the
 * reply's payload into reply (XENSTORE_PAYLOAD_MAX + 1 bytes), NUL
 * terminated.  0 or -errno (xenstore's error names mapped back).
 */
static int request(struct tc_store *x, enum xsd_sockmsg_type type, uint32_t tx,
                   const void *payload, size_t len, char *reply, size_t *reply_len)
{
    struct xsd_sockmsg hdr = { type, ++x->req_id, tx, (uint32_t)len }, rh;
    uint32_t rlen;
    int rc;

    if (len > XENSTORE_PAYLOAD_MAX)
        return -E2BIG;
    if (x->conn) {
        enum xsd_sockmsg_type got =
            store_conn_request(x->conn, &hdr, payload, (uint8_t *)reply, &rlen);

        store_conn_after_reply(x->conn);
        rh.type = got;
    } else {
        if ((rc = io_all(x->fd, &hdr, sizeof(hdr), true)) ||
            (rc = io_all(x->fd, (void *)payload, len, true)))
            return rc;
        do { /* skipping watch events, and replies to nothing we sent */
            if ((rc = io_all(x->fd, &rh, sizeof(rh), false)))
                return rc;
            if (rh.len > XENSTORE_PAYLOAD_MAX)
                return -EPROTO;
            if ((rc = io_all(x->fd, reply, rh.len, false)))
                return rc;
        } while (rh.type == XS_WATCH_EVENT || rh.req_id != hdr.req_id);
        rlen = rh.len;
    }
    reply[rlen] = '\0';
    if (rh.type == XS_ERROR)
        return store_error_from_name(reply, rlen);
    if (reply_len)
        *reply_len = rlen;
    return 0;
}

/* "path\0value" and friends. */
static int request2(struct tc_store *x, enum xsd_sockmsg_type type, uint32_t tx,
                    const char *a, const char *b, size_t blen, char *reply)
{
    char msg[XENSTORE_PAYLOAD_MAX];
    size_t alen = strlen(a) + 1;

    if (alen + blen > sizeof(msg))
        return -E2BIG;
    memcpy(msg, a, alen);
    memcpy(msg + alen, b, blen);
    return request(x, type, tx, msg, alen + blen, reply, NULL);
}

int tc_xs_read(struct tc_store *x, uint32_t tx, const char *path, char *value, size_t cap)
{
    char reply[XENSTORE_PAYLOAD_MAX + 1];
    size_t len;
    int rc = request(x, XS_READ, tx, path, strlen(path) + 1, reply, &len);

    if (rc)
        return rc;
    if (len >= cap)
        return -E2BIG;
    memcpy(value, reply, len + 1);
    return 0;
}

int tc_xs_write(struct tc_store *x, uint32_t tx, const char *path, const char *value)
{
    char reply[XENSTORE_PAYLOAD_MAX + 1];

    return request2(x, XS_WRITE, tx, path, value, strlen(value), reply);
}

int tc_xs_printf(struct tc_store *x, uint32_t tx, const char *path, const char *fmt, ...)
{
    char value[256];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(value, sizeof(value), fmt, ap);
    va_end(ap);
    return n < 0 || (size_t)n >= sizeof(value) ? -E2BIG : tc_xs_write(x, tx, path, value);
}

int tc_xs_mkdir(struct tc_store *x, uint32_t tx, const char *path)
{
    char reply[XENSTORE_PAYLOAD_MAX + 1];

    return request(x, XS_MKDIR, tx, path, strlen(path) + 1, reply, NULL);
}

int tc_xs_rm(struct tc_store *x, uint32_t tx, const char *path)
{
    char reply[XENSTORE_PAYLOAD_MAX + 1];

    return request(x, XS_RM, tx, path, strlen(path) + 1, reply, NULL);
}

int tc_xs_set_perms(struct tc_store *x, uint32_t tx, const char *path, const char *perms)
{
    char reply[XENSTORE_PAYLOAD_MAX + 1], list[128];
    size_t n = strlen(perms);

    /* "n0 r5" -> "n0\0r5\0" */
    if (n + 1 > sizeof(list))
        return -E2BIG;
    for (size_t i = 0; i <= n; i++)
        list[i] = perms[i] == ' ' ? '\0' : perms[i];
    return request2(x, XS_SET_PERMS, tx, path, list, n + 1, reply);
}

int tc_xs_directory(struct tc_store *x, uint32_t tx, const char *path, char *buf, size_t cap,
                    size_t *len)
{
    char reply[XENSTORE_PAYLOAD_MAX + 1];
    int rc = request(x, XS_DIRECTORY, tx, path, strlen(path) + 1, reply, len);

    if (rc)
        return rc;
    if (*len > cap)
        return -E2BIG;
    memcpy(buf, reply, *len);
    return 0;
}

int tc_xs_transaction_start(struct tc_store *x, uint32_t *tx)
{
    char reply[XENSTORE_PAYLOAD_MAX + 1], *end;
    int rc = request(x, XS_TRANSACTION_START, 0, "", 1, reply, NULL);

    if (rc)
        return rc;
    *tx = (uint32_t)strtoul(reply, &end, 10);
    return end == reply ? -EPROTO : 0;
}

int tc_xs_transaction_end(struct tc_store *x, uint32_t tx, bool commit)
{
    char reply[XENSTORE_PAYLOAD_MAX + 1];

    return request(x, XS_TRANSACTION_END, tx, commit ? "T" : "F", 2, reply, NULL);
}

int tc_xs_introduce(struct tc_store *x, domid_t domid)
{
    char reply[XENSTORE_PAYLOAD_MAX + 1], msg[64];
    /* domid, ring gfn, event channel: the guest connects in process, so
     * the ring is nominal, but xenstored insists on a channel. */
    int n = snprintf(msg, sizeof(msg), "%u%c0%c1", domid, 0, 0);

    return request(x, XS_INTRODUCE, 0, msg, (size_t)n + 1, reply, NULL);
}
