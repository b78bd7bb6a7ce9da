/*
 * xl's views against a running memvisord: list, info, claims, tmem-list,
 * tmem-freeze, tmem-thaw and a live top (xl_views.c does the printing, the
 * same code a scenario's timeline runs embedded).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "memvisor/client.h"

static volatile sig_atomic_t stop_top;

static void on_signal(int sig)
{
    (void)sig;
    stop_top = 1;
}

/* -a (every client) or DOM, as xl's tmem verbs take them. */
static int tmem_target(struct tc_handle *t, struct tc_store *xs, int argc, char **argv,
                       bool *long_format, domid_t *domid)
{
    bool all = false;
    int c;

    optind = 1;
    while ((c = getopt(argc, argv, "al")) != -1) {
        if (c == 'a')
            all = true;
        else if (c == 'l' && long_format)
            *long_format = true;
        else
            return -EINVAL;
    }
    if (all == (optind < argc) || argc - optind > 1)
        return -EINVAL;
    if (all) {
        *domid = MV_TMEM_OP_ALL_CLIENTS;
        return 0;
    }
    return cli_find_domain(t, xs, argv[optind], domid) ? -ENOENT : 0;
}

static int top(struct tc_handle *t, struct tc_store *xs, int argc, char **argv)
{
    uint64_t delay = 1, iterations = 0, v;
    bool tty = isatty(STDOUT_FILENO);
    int c;

    optind = 1;
    while ((c = getopt(argc, argv, "d:n:")) != -1) {
        if (c == 'd' && !mv_parse_uint(optarg, 1, 3600, &v))
            delay = v;
        else if (c == 'n' && !mv_parse_uint(optarg, 1, UINT32_MAX, &v))
            iterations = v;
        else
            return 2;
    }
    if (optind != argc)
        return 2;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    for (uint64_t i = 0; !stop_top && (!iterations || i < iterations); i++) {
        int rc;

        if (i)
            mv_sleep_ns(delay * 1000000000u);
        if (tty)
            fputs("\033[H\033[2J", stdout);
        rc = xl_print_top(t, xs, stdout);
        fflush(stdout);
        if (rc) {
            fprintf(stderr, "memvisor: top: %s\n", mv_strerror(rc));
            return 1;
        }
        if (!tty)
            putchar('\n');
    }
    return 0;
}

int cmd_views(const char *verb, int argc, char **argv, const char *socket_path)
{
    struct tc_handle *t;
    struct tc_store *xs = NULL;
    char xs_path[108];
    bool long_format = false;
    domid_t domid;
    int rc = 0, status = 0;

    if (connect_or_explain(socket_path, &t))
        return 1;
    /* Names come from xenstore; without it the views show ids. */
    mv_default_xenstore_path(xs_path, sizeof(xs_path));
    if (tc_store_connect(xs_path, &xs))
        xs = NULL;
    if (!strcmp(verb, "list") || !strcmp(verb, "claims") || !strcmp(verb, "info")) {
        if (argc != 1) {
            fprintf(stderr, "usage: memvisor %s\n", verb);
            status = 2;
        } else {
            rc = !strcmp(verb, "list")     ? xl_print_list(t, xs, stdout)
                 : !strcmp(verb, "claims") ? xl_print_claims(t, xs, stdout)
                                           : xl_print_info(t, stdout);
        }
    } else if (!strcmp(verb, "top")) {
        status = top(t, xs, argc, argv);
        if (status == 2)
            fprintf(stderr, "usage: memvisor top [-d SECONDS] [-n ITERATIONS]\n");
    } else {
        bool list = !strcmp(verb, "tmem-list");

        rc = tmem_target(t, xs, argc, argv, list ? &long_format : NULL, &domid);
        if (rc == -EINVAL) {
            fprintf(stderr, "usage: memvisor %s %s(-a | DOM)\n", verb, list ? "[-l] " : "");
            status = 2;
            rc = 0;
        } else if (rc) {
            status = 1; /* no such domain: said */
            rc = 0;
        } else if (list) {
            rc = xl_print_tmem_list(t, domid, long_format, stdout);
        } else if ((rc = tc_tmem_freeze(t, domid, !strcmp(verb, "tmem-freeze"))) == -ENOENT) {
            fprintf(stderr, "memvisor: %s: that domain has no tmem client (it never used "
                            "tmem)\n", verb);
            status = 1;
            rc = 0;
        }
    }
    if (rc) {
        fprintf(stderr, "memvisor: %s: %s\n", verb, mv_strerror(rc));
        status = 1;
    }
    if (xs)
        tc_store_close(xs);
    tc_close(t);
    return status;
}
