/*
 * libFuzzer target: sequences of xenstore operations from several
 * connections: the control domain twice, and guests 1 to 3 (when
 * introduced), with transactions, watches, permissions, quotas small
 * enough to bite, domains introduced, released and dying, connections
 * closed and reopened.
 *
 * An input is a list of 4-byte operations:
 *   u8 op, u8 connection, u8 path, u8 argument
 * The path byte picks a base ("/", a guest's home, the connection's own
 * home by a relative path) and up to three names from a, b, c, d; the
 * argument byte picks a value's length, a permission list, a watch token
 * or a transaction, and (bit 7) whether the request runs in the
 * connection's transaction.  Every result must be 0 or an errno that
 * xenstore has a name for; after every operation the store's checker
 * must pass; anything else aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memvisor/store.h"

#define CONNS 5
#define TXNS 2

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fconn {
    struct store_conn *c;
    domid_t domid;
    bool priv;
    uint32_t tx[TXNS];
};

static void on_event(void *arg, const char *path, size_t path_len, const char *token,
                     size_t token_len)
{
    (void)arg;
    (void)token;
    if (path_len == 0 || path_len + token_len + 2 > XENSTORE_PAYLOAD_MAX)
        abort();
    (void)path;
}

static const struct store_event_sink sink = { on_event, NULL };

static void check_rc(int rc)
{
    if (rc > 0 || (rc < 0 && store_error_from_name(store_error_name(rc), 16) != rc))
        abort();
}

static void make_path(uint8_t sel, char *out, size_t cap)
{
    static const char *const bases[] = { "/", "/local/domain/1", "/local/domain/2", "" };
    static const char names[] = "abcd";
    const char *base = bases[sel & 3];
    size_t n = (size_t)snprintf(out, cap, "%s", strcmp(base, "/") ? base : "");
    unsigned depth = 1 + ((sel >> 2) & 1) + ((sel >> 3) & 1);

    for (unsigned i = 0; i < depth; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s%c", n ? "/" : "", names[(sel >> (4 + i)) & 3]);
}

static void open_conn(struct store *s, struct fconn *f)
{
    memset(f->tx, 0, sizeof(f->tx));
    f->c = NULL;
    if (store_conn_open(s, f->domid, f->priv, &sink, &f->c))
        f->c = NULL; /* not introduced (yet) */
}

static void run_op(struct store *s, struct fconn *conns, const uint8_t *op)
{
    struct fconn *f = &conns[op[1] % CONNS];
    uint8_t arg = op[3];
    uint32_t tx = arg & 0x80 ? f->tx[arg & 1] : 0;
    char path[64], buf[XENSTORE_PAYLOAD_MAX + 1], perms[32];
    static char big[3000];
    size_t len;
    int rc = 0;

    if (!f->c) {
        if (!f->priv)
            open_conn(s, f);
        return;
    }
    make_path(op[2], path, sizeof(path));
    switch (op[0] % 20) {
    case 0:
        memset(buf, 'a' + (arg & 15), sizeof(buf));
        rc = store_write(f->c, tx, path, buf, arg & 0x3f);
        break;
    case 1:
        rc = store_read(f->c, tx, path, buf, sizeof(buf), &len);
        break;
    case 2:
        rc = store_mkdir(f->c, tx, path);
        break;
    case 3:
        rc = store_rm(f->c, tx, path);
        break;
    case 4:
        rc = store_directory(f->c, tx, path, buf, sizeof(buf), &len);
        break;
    case 5:
        rc = store_get_perms(f->c, tx, path, buf, sizeof(buf), &len);
        break;
    case 6: {
        static const char letters[] = "nrwb";
        int n = snprintf(perms, sizeof(perms), "%c%u", letters[arg & 3], (arg >> 2) & 3);
        n += 1 + snprintf(perms + n + 1, sizeof(perms) - (size_t)n - 1, "%c%u",
                          letters[(arg >> 4) & 3], (arg >> 6) & 1 ? 1u : 0x7FF5u);
        rc = store_set_perms(f->c, tx, path, perms, (size_t)n + 1);
        break;
    }
    case 7:
        snprintf(perms, sizeof(perms), "t%u", arg & 3);
        rc = store_watch(f->c, arg & 4 ? "@releaseDomain" : path, perms);
        break;
    case 8:
        snprintf(perms, sizeof(perms), "t%u", arg & 3);
        rc = store_unwatch(f->c, arg & 4 ? "@releaseDomain" : path, perms);
        break;
    case 9:
        rc = store_transaction_start(f->c, &f->tx[arg & 1]);
        break;
    case 10:
        rc = store_transaction_end(f->c, f->tx[arg & 1], arg & 2);
        f->tx[arg & 1] = 0;
        break;
    case 11:
        rc = store_introduce(conns[0].c, (domid_t)(1 + arg % 3));
        break;
    case 12:
        rc = store_release(conns[0].c, (domid_t)(1 + arg % 3));
        break;
    case 13:
        store_domain_gone(s, (domid_t)(1 + arg % 3));
        break;
    case 14:
        if (!f->priv) {
            store_conn_close(f->c);
            open_conn(s, f);
        }
        break;
    case 15: {
        char payload[80];
        int n = snprintf(payload, sizeof(payload), "%s%c%u", path, 0, arg * 3u);
        struct xsd_sockmsg hdr = { XS_DIRECTORY_PART, 1, tx, (uint32_t)n + 1 };
        uint32_t rlen;
        enum xsd_sockmsg_type t =
            store_conn_request(f->c, &hdr, (const uint8_t *)payload, (uint8_t *)buf, &rlen);
        if (rlen > XENSTORE_PAYLOAD_MAX || (t != XS_ERROR && t != XS_DIRECTORY_PART))
            abort();
        break;
    }
    case 16: {
        struct xsd_sockmsg hdr = { XS_RESET_WATCHES, 0, 0, 1 };
        uint32_t rlen;
        if (store_conn_request(f->c, &hdr, (const uint8_t *)"", (uint8_t *)buf, &rlen) ==
            XS_RESET_WATCHES)
            memset(f->tx, 0, sizeof(f->tx));
        break;
    }
    case 17: {
        /* NUL-separated words, sizes with the last NUL. */
        static const struct {
            const char *words;
            uint32_t len;
        } cmds[] = { { "check", 6 }, { "memreport", 10 }, { "quota\0set\0nodes\0" "12", 19 },
                     { "quota\0" "1", 8 } };
        struct xsd_sockmsg hdr = { XS_CONTROL, 0, 0, cmds[arg & 3].len };
        uint32_t rlen;
        enum xsd_sockmsg_type t =
            store_conn_request(f->c, &hdr, (const uint8_t *)cmds[arg & 3].words, (uint8_t *)buf,
                               &rlen);
        if ((arg & 3) == 0 && t == XS_CONTROL && strcmp(buf, "OK"))
            abort(); /* the store's own check disagrees */
        break;
    }
    case 18: {
        char payload[16];
        int n = snprintf(payload, sizeof(payload), "%u%c%u", 1 + arg % 3, 0, 1 + (arg >> 2) % 3);
        struct xsd_sockmsg hdr = { XS_SET_TARGET, 0, 0, (uint32_t)n + 1 };
        uint32_t rlen;
        store_conn_request(f->c, &hdr, (const uint8_t *)payload, (uint8_t *)buf, &rlen);
        break;
    }
    default:
        memset(big, 'z', sizeof(big));
        rc = store_write(f->c, tx, path, big, 100 + (size_t)arg * 11);
        break;
    }
    check_rc(rc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct store_config cfg;
    struct fconn conns[CONNS] = {
        { NULL, 0, true, { 0 } }, { NULL, 0, true, { 0 } }, { NULL, 1, false, { 0 } },
        { NULL, 2, false, { 0 } }, { NULL, 3, false, { 0 } },
    };
    struct store *s;

    store_config_default(&cfg);
    cfg.log.level = MV_LOG_ERROR;
    cfg.quota = (struct store_quota){ 16, 4, 2, 64, 256, 3, 48 };
    if (store_create(&cfg, &s))
        abort();
    for (unsigned i = 0; i < 2; i++)
        open_conn(s, &conns[i]);
    /* Guests 1 and 2 start introduced, with their homes. */
    for (domid_t d = 1; d <= 2; d++) {
        char home[32], perm[8];
        snprintf(home, sizeof(home), "/local/domain/%u", d);
        snprintf(perm, sizeof(perm), "n%u", d);
        if (store_introduce(conns[0].c, d) || store_mkdir(conns[0].c, 0, home) ||
            store_set_perms(conns[0].c, 0, home, perm, strlen(perm) + 1))
            abort();
    }
    for (unsigned i = 2; i < CONNS; i++)
        open_conn(s, &conns[i]);
    for (size_t off = 0; off + 4 <= size && off < 4 * 512; off += 4) {
        run_op(s, conns, data + off);
        if (store_check(s, stderr))
            abort();
    }
    store_destroy(s);
    return 0;
}
