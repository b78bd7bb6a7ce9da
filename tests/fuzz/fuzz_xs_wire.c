/*
 * libFuzzer target: xenstore's wire decoder and every request handler
 * behind it.
 *
 * An input is what one client sends, as a byte stream.  Its first byte
 * picks the client (bit 0: guest 1 instead of dom0) and seeds how the
 * stream is cut into pieces (from 1 byte to a few KiB each, as a socket
 * may deliver it); the rest goes through the decoder the socket server
 * uses, and each whole message to the store.  Every reply must echo the
 * request's type or be an error with one of Xen's names, and fit in
 * XENSTORE_PAYLOAD_MAX; a message over the limit must be refused at the
 * decoder.  Afterwards the store's checker must pass; anything else
 * aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memvisor/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_reply(const struct xsd_sockmsg *req, enum xsd_sockmsg_type type,
                        const uint8_t *reply, uint32_t len)
{
    if (len > XENSTORE_PAYLOAD_MAX)
        abort();
    if (type == XS_ERROR) {
        /* "<NAME>\0", a name of Xen's table. */
        if (len < 2 || reply[len - 1] != '\0' ||
            strcmp(store_error_name(store_error_from_name((const char *)reply, len)),
                   (const char *)reply))
            abort();
    } else if (type != req->type) {
        abort();
    }
}

/* Where watch events go: checked for shape, then dropped. */
static void on_event(void *arg, const char *path, size_t path_len, const char *token,
                     size_t token_len)
{
    (void)arg;
    (void)token;
    if (path_len == 0 || path_len + token_len + 2 > XENSTORE_PAYLOAD_MAX ||
        memchr(path, '\0', path_len))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct store_reader in;
    struct store_event_sink sink = { on_event, NULL };
    struct store_config cfg;
    struct store_conn *dom0, *guest, *c;
    struct store *s;
    uint64_t rng;
    size_t pos = 1;

    if (size < 1)
        return 0;
    store_config_default(&cfg);
    cfg.log.level = MV_LOG_ERROR;
    if (store_create(&cfg, &s))
        abort();
    if (store_conn_open(s, 0, true, &sink, &dom0) || store_introduce(dom0, 1) ||
        store_write(dom0, 0, "/local/domain/1/name", "g", 1) ||
        store_set_perms(dom0, 0, "/local/domain/1", "n1", 3) ||
        store_conn_open(s, 1, false, &sink, &guest))
        abort();
    c = data[0] & 1 ? guest : dom0;
    rng = data[0] | 0x100;
    in.len = 0;

    while (pos < size) {
        size_t room, piece;
        uint8_t *space = store_reader_space(&in, &room);
        struct xsd_sockmsg hdr;
        const uint8_t *payload;
        uint32_t off = 0;
        int rc;

        /* The next piece: 1 to ~4 KiB, as a stream socket may cut it. */
        rng = rng * 6364136223846793005u + 1442695040888963407u;
        piece = 1 + (size_t)((rng >> 33) % ((rng >> 60) & 1 ? 4200 : 24));
        piece = piece < size - pos ? piece : size - pos;
        piece = piece < room ? piece : room;
        memcpy(space, data + pos, piece);
        store_reader_filled(&in, piece);
        pos += piece;
        while ((rc = store_reader_next(&in, &off, &hdr, &payload)) == 1) {
            uint8_t reply[XENSTORE_PAYLOAD_MAX + 1];
            uint32_t len;
            enum xsd_sockmsg_type type = store_conn_request(c, &hdr, payload, reply, &len);

            check_reply(&hdr, type, reply, len);
            if (type != XS_ERROR)
                store_conn_after_reply(c);
        }
        if (rc < 0) {
            /* Refused at the decoder: the header said more than 4096. */
            uint32_t claimed;
            memcpy(&claimed, in.buf + off + 12, sizeof(claimed));
            if (claimed <= XENSTORE_PAYLOAD_MAX)
                abort();
            break; /* the server drops such a client */
        }
        store_reader_consume(&in, off);
    }
    if (store_check(s, stderr))
        abort();
    store_destroy(s);
    return 0;
}
