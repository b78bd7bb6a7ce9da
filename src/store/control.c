/*
 * XS_CONTROL (the control domain only): help, quota, log, memreport,
 * print, check.  Arguments are NUL-separated after the command; replies
 * are text.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "store_internal.h"

struct out {
    char *buf;
    uint32_t len;
};

static void MV_PRINTF(2, 3) put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (o->len >= XENSTORE_PAYLOAD_MAX - 1)
        return;
    va_start(ap, fmt);
    n = vsnprintf(o->buf + o->len, XENSTORE_PAYLOAD_MAX - 1 - o->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->len = (uint32_t)min_u64(o->len + (uint32_t)n, XENSTORE_PAYLOAD_MAX - 1);
}

/* quota; quota set NAME N; quota DOMID (Xen 4.17's forms and layout). */
static int control_quota(struct store *s, int argc, const char **argv, struct out *o)
{
    const char *name, *what;
    unsigned value;
    uint64_t v;

    if (argc == 1) {
        put(o, "Quota settings:\n");
        for (unsigned i = 0; store_quota_get(&s->cfg.quota, i, &name, &value, &what); i++)
            put(o, "%-17s: %8u %s\n", name, value, what);
        return 0;
    }
    if (argc == 2) {
        struct store_domain *d;
        if (mv_parse_uint(argv[1], 0, STORE_MAX_DOMID - 1, &v))
            return -EINVAL;
        d = s->domains[v];
        put(o, "Domain %llu:\n", (unsigned long long)v);
        put(o, "%-16s: %8u\n", "nodes", s->owned[v]);
        put(o, "%-16s: %8u\n", "watches", d ? d->nr_watches : 0);
        put(o, "%-16s: %8u\n", "transactions", d ? d->nr_transactions : 0);
        return 0;
    }
    if (argc == 4 && !strcmp(argv[1], "set")) {
        if (mv_parse_uint(argv[3], 0, UINT32_MAX, &v) || store_quota_set(&s->cfg.quota, argv[2], v))
            return -EINVAL;
        put(o, "OK");
        return 0;
    }
    return -EINVAL;
}

int store_control(struct store_ctx *ctx, const char *payload, size_t len, char *reply,
                  uint32_t *reply_len)
{
    struct store *s = ctx->s;
    struct out o = { reply, 0 };
    const char *argv[8];
    int argc = 0, rc = 0;

    if (len == 0 || payload[len - 1] != '\0')
        return -EINVAL;
    for (size_t i = 0; i < len && argc < (int)ARRAY_SIZE(argv); i += strlen(payload + i) + 1)
        argv[argc++] = payload + i;

    if (!strcmp(argv[0], "help")) {
        /* As Xen's: a command and its arguments per line. */
        put(&o, "check\t\n"
                "help\t\n"
                "log\ton|off\n"
                "memreport\t\n"
                "print\t<string>\n"
                "quota\t[set <name> <val>|<domid>]\n");
    } else if (!strcmp(argv[0], "quota")) {
        rc = control_quota(s, argc, argv, &o);
    } else if (!strcmp(argv[0], "log")) {
        if (argc == 2 && !strcmp(argv[1], "on"))
            s->log_requests = true;
        else if (argc == 2 && !strcmp(argv[1], "off"))
            s->log_requests = false;
        else if (argc != 1)
            rc = -EINVAL;
        if (!rc)
            put(&o, "OK");
    } else if (!strcmp(argv[0], "memreport")) {
        put(&o, "xenstore memory: %llu bytes in %llu nodes; %llu watches, %llu transactions, "
                "%llu connections; %llu bytes in %llu past versions kept for transactions\n",
            (unsigned long long)s->bytes, (unsigned long long)s->nodes.count,
            (unsigned long long)s->nr_watches, (unsigned long long)s->nr_txns,
            (unsigned long long)s->nr_conns, (unsigned long long)s->past_bytes,
            (unsigned long long)s->past_versions);
    } else if (!strcmp(argv[0], "print")) {
        if (argc < 2)
            rc = -EINVAL;
        else
            mv_log(&s->cfg.log, MV_LOG_WARN, "xenstore: %s", argv[1]);
        if (!rc)
            put(&o, "OK");
    } else if (!strcmp(argv[0], "check")) {
        unsigned v = store_check_locked(s, NULL);
        put(&o, v ? "%u violations" : "OK", v);
    } else {
        rc = -EINVAL;
    }
    if (rc)
        return rc;
    reply[o.len] = '\0';
    *reply_len = o.len + 1;
    return 0;
}
