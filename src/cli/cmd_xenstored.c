/*
 * memvisor xenstored: memvisor's xenstore on its own, without a host (as
 * Xen's xenstored runs beside a hypervisor; here the domains it knows
 * are those introduced to it).  Serves until SIGTERM, SIGINT or SIGHUP.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cli.h"
#include "memvisor/client.h"
#include "memvisor/listen.h"
#include "memvisor/store.h"

static void usage(FILE *out)
{
    fputs("usage: memvisor xenstored [options]\n"
          "\n"
          "Serves xenstore (Xen's wire protocol) on a unix socket until SIGTERM.\n"
          "Point libxenstore clients at it with XENSTORED_PATH.\n"
          "\n"
          "  --socket PATH       the socket (default: $XENSTORED_PATH, else\n"
          "                      /run/memvisor/xenstored.sock for root,\n"
          "                      /tmp/memvisor-<uid>/xenstored.sock otherwise)\n"
          "  --quota NAME=N      a quota for unprivileged domains (repeatable): nodes,\n"
          "                      watches, transactions, transaction-nodes, node-size,\n"
          "                      path-max, permissions\n"
          "  --max-clients N     clients served at once (default 1024)\n"
          "  --poll-us N         after activity, poll this long before sleeping\n"
          "                      (default 100; 0: never)\n"
          "  --log-level LEVEL   error, warn, info (default) or debug\n",
          out);
}

int cmd_xenstored(int argc, char **argv)
{
    static const struct option opts[] = {
        { "socket", required_argument, NULL, 's' },
        { "quota", required_argument, NULL, 'q' },
        { "max-clients", required_argument, NULL, 'm' },
        { "poll-us", required_argument, NULL, 'p' },
        { "log-level", required_argument, NULL, 'l' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct store_config scfg;
    struct store_server_config vcfg;
    struct signalfd_siginfo si;
    struct store_server *srv;
    struct store *store;
    char path[108];
    uint64_t v;
    int c, sfd, rc;

    store_config_default(&scfg);
    store_server_config_default(&vcfg);
    scfg.log.level = MV_LOG_INFO;
    vcfg.path = mv_default_xenstore_path(path, sizeof(path));
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            vcfg.path = optarg;
            break;
        case 'q':
            if (store_quota_parse(&scfg.quota, optarg)) {
                fprintf(stderr, "memvisor xenstored: --quota '%s': expected NAME=N with a known "
                        "name and N from 1 to 4294967295\n", optarg);
                return 2;
            }
            break;
        case 'm':
            if (mv_parse_uint(optarg, 1, 65536, &v)) {
                fprintf(stderr, "memvisor xenstored: --max-clients: '%s' is not 1 to 65536\n",
                        optarg);
                return 2;
            }
            vcfg.max_clients = (unsigned)v;
            break;
        case 'p':
            if (mv_parse_uint(optarg, 0, 1000000, &v)) {
                fprintf(stderr, "memvisor xenstored: --poll-us: '%s' is not 0 to 1000000\n",
                        optarg);
                return 2;
            }
            vcfg.poll_us = (unsigned)v;
            break;
        case 'l':
            if (mv_log_level_parse(optarg, &scfg.log.level)) {
                fprintf(stderr, "memvisor xenstored: --log-level: '%s' is not error, warn, info "
                        "or debug\n", optarg);
                return 2;
            }
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            fprintf(stderr, "(run 'memvisor xenstored --help' for usage)\n");
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "memvisor xenstored: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    vcfg.log = scfg.log;

    sfd = mv_stop_signals();
    if (sfd < 0) {
        fprintf(stderr, "memvisor xenstored: signalfd: %s\n", mv_strerror(sfd));
        return 1;
    }
    rc = store_create(&scfg, &store);
    if (rc) {
        fprintf(stderr, "memvisor xenstored: %s\n", mv_strerror(rc));
        close(sfd);
        return 1;
    }
    rc = store_server_open(store, &vcfg, &srv);
    if (rc) {
        store_destroy(store);
        close(sfd);
        return 1;
    }
    store_server_run(srv, sfd);
    if (read(sfd, &si, sizeof(si)) == sizeof(si))
        mv_log(&scfg.log, MV_LOG_INFO, "signal %u: shutting down", si.ssi_signo);
    store_server_close(srv);
    store_destroy(store);
    close(sfd);
    return 0;
}
