/*
 * memvisord's configuration: `key = value` lines, the same keys as the
 * long command-line options.  Every value is validated; a bad file changes
 * nothing and names the line.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "daemon.h"

static int on_off(const char *value, bool *out)
{
    if (!strcmp(value, "on") || !strcmp(value, "yes") || !strcmp(value, "true") || !strcmp(value, "1"))
        *out = true;
    else if (!strcmp(value, "off") || !strcmp(value, "no") || !strcmp(value, "false") || !strcmp(value, "0"))
        *out = false;
    else
        return -EINVAL;
    return 0;
}

static int MV_PRINTF(3, 4) bad(char *err, size_t err_len, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

int daemon_config_set(struct daemon_config *cfg, const char *key, const char *value,
                      char *err, size_t err_len)
{
    uint64_t v;

    if (!strcmp(key, "ram")) {
        if (mv_parse_size(value, &v))
            return bad(err, err_len, "ram: '%s' is not a size (e.g. 4G, 512M)", value);
        cfg->hv.ram_bytes = v;
    } else if (!strcmp(key, "nodes")) {
        if (mv_parse_uint(value, 1, MAX_NUMNODES, &v))
            return bad(err, err_len, "nodes: '%s' is not a number from 1 to %d", value, MAX_NUMNODES);
        cfg->hv.nr_nodes = (unsigned)v;
    } else if (!strcmp(key, "socket")) {
        if (!*value || strlen(value) >= sizeof(cfg->socket_path))
            return bad(err, err_len, "socket: the path must be 1 to %zu characters", sizeof(cfg->socket_path) - 1);
        strcpy(cfg->socket_path, value);
    } else if (!strcmp(key, "log_level") || !strcmp(key, "log-level")) {
        enum mv_log_level level;
        if (mv_log_level_parse(value, &level))
            return bad(err, err_len, "log_level: '%s' is not error, warn, info or debug", value);
        cfg->hv.log.level = level;
    } else if (!strcmp(key, "claim_gate") || !strcmp(key, "claim-gate")) {
        if (!strcmp(value, "head"))
            cfg->hv.gate = CLAIM_GATE_HEAD;
        else if (!strcmp(value, "shortfall"))
            cfg->hv.gate = CLAIM_GATE_SHORTFALL;
        else
            return bad(err, err_len, "claim_gate: '%s' is not head or shortfall", value);
    } else if (!strcmp(key, "scrub")) {
        if (on_off(value, &cfg->hv.background_scrub))
            return bad(err, err_len, "scrub: '%s' is not on or off", value);
    } else if (!strcmp(key, "huge_pages") || !strcmp(key, "huge-pages")) {
        if (on_off(value, &cfg->hv.huge_pages))
            return bad(err, err_len, "huge_pages: '%s' is not on or off", value);
    } else if (!strcmp(key, "max_clients") || !strcmp(key, "max-clients")) {
        if (mv_parse_uint(value, 1, 4096, &v))
            return bad(err, err_len, "max_clients: '%s' is not a number from 1 to 4096", value);
        cfg->max_clients = (unsigned)v;
    } else if (!strcmp(key, "xenstore_socket") || !strcmp(key, "xenstore-socket")) {
        if (!*value || strlen(value) >= sizeof(cfg->xenstore_path))
            return bad(err, err_len, "xenstore_socket: the path must be 1 to %zu characters",
                       sizeof(cfg->xenstore_path) - 1);
        strcpy(cfg->xenstore_path, value);
    } else if (!strcmp(key, "xenstore_poll_us") || !strcmp(key, "xenstore-poll-us")) {
        if (mv_parse_uint(value, 0, 1000000, &v))
            return bad(err, err_len, "xenstore_poll_us: '%s' is not a number from 0 to 1000000", value);
        cfg->store_poll_us = (unsigned)v;
    } else if (!strcmp(key, "xenstore_quota") || !strcmp(key, "xenstore-quota")) {
        if (store_quota_parse(&cfg->store_quota, value))
            return bad(err, err_len, "xenstore_quota: '%s': expected NAME=N with NAME one of nodes, watches, "
                       "transactions, transaction-nodes, node-size, path-max, permissions, "
                       "and N from 1 to 4294967295", value);
    } else {
        return bad(err, err_len, "unknown setting '%s'", key);
    }
    return 0;
}

static char *trim(char *s)
{
    char *end;

    while (isspace((unsigned char)*s))
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

int daemon_config_load(const char *path, struct daemon_config *cfg, char *err, size_t err_len)
{
    struct daemon_config next = *cfg;
    char line[512], what[256];
    unsigned lineno = 0;
    FILE *f = fopen(path, "r");

    if (!f) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        return -errno;
    }
    while (fgets(line, sizeof(line), f)) {
        char *hash, *eq, *key, *value;

        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            snprintf(err, err_len, "%s:%u: line longer than %zu characters", path, lineno,
                     sizeof(line) - 2);
            fclose(f);
            return -EINVAL;
        }
        if ((hash = strchr(line, '#')))
            *hash = '\0';
        key = trim(line);
        if (!*key)
            continue;
        eq = strchr(key, '=');
        if (!eq) {
            snprintf(err, err_len, "%s:%u: expected 'key = value'", path, lineno);
            fclose(f);
            return -EINVAL;
        }
        *eq = '\0';
        value = trim(eq + 1);
        key = trim(key);
        /* Values may be quoted. */
        if (strlen(value) >= 2 && value[0] == '"' && value[strlen(value) - 1] == '"') {
            value[strlen(value) - 1] = '\0';
            value++;
        }
        if (daemon_config_set(&next, key, value, what, sizeof(what))) {
            snprintf(err, err_len, "%s:%u: %s", path, lineno, what);
            fclose(f);
            return -EINVAL;
        }
    }
    fclose(f);
    *cfg = next;
    return 0;
}
