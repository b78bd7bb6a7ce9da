/*
 * Helpers for xenstore tests: a store with a privileged connection and
 * guest connections, watch events recorded per connection, and raw
 * requests as they come off the wire.
 */
#ifndef MEMVISOR_TEST_STORE_SUPPORT_H
#define MEMVISOR_TEST_STORE_SUPPORT_H

#include "harness.h"
#include "memvisor/store.h"

#define TS_MAX_EVENTS 256

/* Watch events a connection received, "path|token" each. */
struct ts_events {
    unsigned n;
    char ev[TS_MAX_EVENTS][128];
};

static inline void ts_record(void *arg, const char *path, size_t path_len, const char *token,
                             size_t token_len)
{
    struct ts_events *e = arg;

    if (e->n < TS_MAX_EVENTS)
        snprintf(e->ev[e->n++], sizeof(e->ev[0]), "%.*s|%.*s", (int)path_len, path,
                 (int)token_len, token);
}

/* Whether the events include "path|token". */
static inline bool ts_has(const struct ts_events *e, const char *event)
{
    for (unsigned i = 0; i < e->n; i++)
        if (!strcmp(e->ev[i], event))
            return true;
    return false;
}

static inline struct store *ts_store(const struct store_quota *quota)
{
    struct store_config cfg;
    struct store *s = NULL;

    store_config_default(&cfg);
    cfg.log.level = MV_LOG_ERROR;
    if (quota)
        cfg.quota = *quota;
    if (store_create(&cfg, &s)) {
        fprintf(stderr, "cannot create a store\n");
        exit(1);
    }
    return s;
}

static inline struct store_conn *ts_conn(struct store *s, domid_t domid, bool privileged,
                                         struct ts_events *events)
{
    struct store_event_sink sink = { ts_record, events };
    struct store_conn *c = NULL;

    if (store_conn_open(s, domid, privileged, events ? &sink : NULL, &c)) {
        fprintf(stderr, "cannot open a connection as d%u\n", domid);
        exit(1);
    }
    return c;
}

/* A raw request: the reply's type; the reply, NUL-terminated, in reply. */
static inline enum xsd_sockmsg_type ts_raw(struct store_conn *c, enum xsd_sockmsg_type type,
                                           uint32_t tx, const void *payload, uint32_t len,
                                           char *reply, uint32_t *reply_len)
{
    struct xsd_sockmsg hdr = { type, 77, tx, len };
    uint32_t rlen = 0;
    enum xsd_sockmsg_type got = store_conn_request(c, &hdr, payload, (uint8_t *)reply, &rlen);

    reply[rlen] = '\0';
    if (reply_len)
        *reply_len = rlen;
    if (got != XS_ERROR)
        store_conn_after_reply(c);
    return got;
}

/* A NUL-terminated string read, or "" (with the error in *err). */
static inline const char *ts_read(struct store_conn *c, uint32_t tx, const char *path, int *err)
{
    static char buf[XENSTORE_PAYLOAD_MAX + 1];
    size_t len = 0;
    int rc = store_read(c, tx, path, buf, XENSTORE_PAYLOAD_MAX, &len);

    buf[rc ? 0 : len] = '\0';
    if (err)
        *err = rc;
    return buf;
}

static inline int ts_write(struct store_conn *c, uint32_t tx, const char *path, const char *value)
{
    return store_write(c, tx, path, value, strlen(value));
}

/* perms as one string with ',' for the NULs: "n0,r1". */
static inline int ts_set_perms(struct store_conn *c, const char *path, const char *perms)
{
    char buf[256];
    size_t len = strlen(perms) + 1;

    if (len > sizeof(buf))
        return -E2BIG;
    memcpy(buf, perms, len);
    for (size_t i = 0; i < len; i++)
        if (buf[i] == ',')
            buf[i] = '\0';
    return store_set_perms(c, 0, path, buf, len);
}

static inline const char *ts_get_perms_tx(struct store_conn *c, uint32_t tx, const char *path)
{
    static char buf[XENSTORE_PAYLOAD_MAX + 1];
    size_t len = 0;

    if (store_get_perms(c, tx, path, buf, XENSTORE_PAYLOAD_MAX, &len))
        return "(error)";
    for (size_t i = 0; i + 1 < len; i++)
        if (buf[i] == '\0')
            buf[i] = ',';
    buf[len ? len - 1 : 0] = '\0';
    return buf;
}

static inline const char *ts_get_perms(struct store_conn *c, const char *path)
{
    return ts_get_perms_tx(c, 0, path);
}

/* Children as one string, ',' between names. */
static inline const char *ts_dir(struct store_conn *c, uint32_t tx, const char *path, int *err)
{
    static char buf[XENSTORE_PAYLOAD_MAX + 1];
    size_t len = 0;
    int rc = store_directory(c, tx, path, buf, XENSTORE_PAYLOAD_MAX, &len);

    if (err)
        *err = rc;
    if (rc)
        len = 0;
    for (size_t i = 0; i + 1 < len; i++)
        if (buf[i] == '\0')
            buf[i] = ',';
    buf[len ? len - 1 : 0] = '\0';
    return buf;
}

#define CHECK_STORE(s) CHECK_EQ(store_check((s), stderr), 0)

#endif
