/*
 * memvisord: hosts one machine and serves Xen's hypercall ABI on a unix
 * socket, for the drop-in libxencall (so Debian's libxenctrl, libxl and xl
 * drive it) and the memvisor CLI, and xenstore on another, for libxenstore.
 *
 * Settings come from the defaults, then --config FILE, then the command
 * line, each overriding the one before.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "memvisor/client.h"
#include "memvisor/guest_host.h"
#include "memvisor/listen.h"

static void usage(FILE *out)
{
    fputs("usage: memvisord [options]\n"
          "\n"
          "Hosts one machine and serves Xen 4.17's hypercall ABI and xenstore on unix sockets.\n"
          "Point Xen's tools at it with LD_LIBRARY_PATH=<memvisor>/lib, MEMVISOR_SOCKET and\n"
          "XENSTORED_PATH.\n"
          "\n"
          "  --ram SIZE          host memory (default 4G)\n"
          "  --nodes N           NUMA nodes (default 1)\n"
          "  --socket PATH       the hypercall socket (default: $MEMVISOR_SOCKET, else\n"
          "                      /run/memvisor/hypercall.sock for root,\n"
          "                      /tmp/memvisor-<uid>/hypercall.sock otherwise)\n"
          "  --xenstore-socket PATH  the xenstore socket (default: $XENSTORED_PATH, else\n"
          "                      xenstored.sock beside the default hypercall socket)\n"
          "  --xenstore-quota NAME=N  a xenstore quota for guests (repeatable): nodes,\n"
          "                      watches, transactions, transaction-nodes, node-size,\n"
          "                      path-max, permissions\n"
          "  --xenstore-poll-us N  after activity, the xenstore thread polls this long\n"
          "                      before sleeping (default 100; 0: never)\n"
          "  --config FILE       read settings (key = value, keys as these options)\n"
          "  --log-level LEVEL   error, warn, info (default) or debug\n"
          "  --claim-gate GATE   head (Xen's, default) or shortfall (the NUMA series')\n"
          "  --scrub on|off      idle scrubber threads (default on)\n"
          "  --huge-pages on|off back guest memory with transparent huge pages (default off)\n"
          "  --max-clients N     clients served at once (default 128)\n"
          "  --version, --help\n",
          out);
}

static void log_sink(void *arg, enum mv_log_level level, const char *message)
{
    struct timespec ts;
    struct tm tm;
    char when[32];

    (void)arg;
    clock_gettime(CLOCK_REALTIME, &ts);
    localtime_r(&ts.tv_sec, &tm);
    strftime(when, sizeof(when), "%H:%M:%S", &tm);
    fprintf(stderr, "%s.%03ld memvisord[%d]: %s: %s\n", when, ts.tv_nsec / 1000000, (int)getpid(),
            mv_log_level_name(level), message);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "ram", required_argument, NULL, 'r' },
        { "nodes", required_argument, NULL, 'n' },
        { "socket", required_argument, NULL, 's' },
        { "config", required_argument, NULL, 'c' },
        { "log-level", required_argument, NULL, 'l' },
        { "claim-gate", required_argument, NULL, 'g' },
        { "scrub", required_argument, NULL, 'S' },
        { "huge-pages", required_argument, NULL, 'H' },
        { "max-clients", required_argument, NULL, 'm' },
        { "xenstore-socket", required_argument, NULL, 'x' },
        { "xenstore-quota", required_argument, NULL, 'q' },
        { "xenstore-poll-us", required_argument, NULL, 'p' },
        { "version", no_argument, NULL, 'V' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct daemon_config cfg;
    struct mv_logger log;
    const char *why = NULL;
    char err[512];
    struct daemon_xenstore *xs;
    struct guest_host *guests;
    struct server *srv;
    struct hv *hv;
    int c, sfd, rc;

    memset(&cfg, 0, sizeof(cfg));
    hv_config_default(&cfg.hv);
    cfg.hv.log.level = MV_LOG_INFO;
    cfg.max_clients = 128;
    mv_default_socket_path(cfg.socket_path, sizeof(cfg.socket_path));
    mv_default_xenstore_path(cfg.xenstore_path, sizeof(cfg.xenstore_path));
    {
        struct store_config scfg;
        struct store_server_config vcfg;

        store_config_default(&scfg);
        store_server_config_default(&vcfg);
        cfg.store_quota = scfg.quota;
        cfg.store_poll_us = vcfg.poll_us;
    }

    /* The config file first, so that options override it. */
    for (int i = 1; i < argc; i++) {
        const char *file = NULL;
        if (!strcmp(argv[i], "--config") && i + 1 < argc)
            file = argv[i + 1];
        else if (!strncmp(argv[i], "--config=", 9))
            file = argv[i] + 9;
        if (file && daemon_config_load(file, &cfg, err, sizeof(err))) {
            fprintf(stderr, "memvisord: %s\n", err);
            return 2;
        }
    }
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        const char *key = NULL;

        switch (c) {
        case 'r': key = "ram"; break;
        case 'n': key = "nodes"; break;
        case 's': key = "socket"; break;
        case 'l': key = "log_level"; break;
        case 'g': key = "claim_gate"; break;
        case 'S': key = "scrub"; break;
        case 'H': key = "huge_pages"; break;
        case 'm': key = "max_clients"; break;
        case 'x': key = "xenstore_socket"; break;
        case 'q': key = "xenstore_quota"; break;
        case 'p': key = "xenstore_poll_us"; break;
        case 'c': break; /* read above */
        case 'V':
            printf("memvisord 0.1 (Xen 4.17 hypercall interface)\n");
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            fprintf(stderr, "(run 'memvisord --help' for usage)\n");
            return 2;
        }
        if (key && daemon_config_set(&cfg, key, optarg, err, sizeof(err))) {
            fprintf(stderr, "memvisord: --%s\n", err);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "memvisord: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }

    log = (struct mv_logger){ cfg.hv.log.level, log_sink, NULL };
    cfg.hv.log = log;

    /* Signals arrive through a signalfd in the main loop; every thread,
     * scrubbers included, inherits the mask set here. */
    sfd = mv_stop_signals();
    if (sfd < 0) {
        fprintf(stderr, "memvisord: signalfd: %s\n", mv_strerror(sfd));
        return 1;
    }

    /* The socket first: a second instance stops before building a host. */
    rc = server_open(&cfg, &log, &srv);
    if (rc)
        return 1;
    rc = hv_create(&cfg.hv, &hv, &why);
    if (rc) {
        fprintf(stderr, "memvisord: cannot build the host: %s\n", why ? why : mv_strerror(rc));
        server_close(srv);
        return rc == -EINVAL ? 2 : 1;
    }
    rc = daemon_xenstore_start(&cfg, hv, &log, &xs);
    if (rc) {
        fprintf(stderr, "memvisord: cannot serve xenstore on %s: %s\n", cfg.xenstore_path,
                mv_strerror(rc));
        hv_destroy(hv);
        server_close(srv);
        return 1;
    }
    rc = guest_host_start(hv, daemon_xenstore_store(xs), &log, &guests);
    if (rc) {
        fprintf(stderr, "memvisord: cannot start the guests' reaper: %s\n", mv_strerror(rc));
        daemon_xenstore_stop(xs);
        hv_destroy(hv);
        server_close(srv);
        return 1;
    }
    server_run(srv, hv, sfd);
    server_close(srv);
    /* Guests before the store: they hold connections to it. */
    guest_host_stop(guests);
    daemon_xenstore_stop(xs);
    hv_destroy(hv);
    close(sfd);
    mv_log(&log, MV_LOG_INFO, "stopped");
    return 0;
}
