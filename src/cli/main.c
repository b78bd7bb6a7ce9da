/*
 * memvisor: the command line.
 *
 *   memvisor run SCENARIO                a scenario and its reports (make run)
 *   memvisor [--socket PATH] VERB ...    talk to a running memvisord
 *   memvisor xenstored [options]         serve xenstore on its own
 *   memvisor version
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *out)
{
    fputs("usage: memvisor <command> [options]\n"
          "\n"
          "  run [--out DIR] SCENARIO  run a scenario on an embedded host, on a virtual\n"
          "                            clock, and write its reports (summary, HTML, JSON)\n"
          "                            (make run; --help)\n"
          "\n"
          "  xenstored                 serve xenstore on a unix socket, on its own (--help)\n"
          "\n"
          "against a running memvisord (socket: --socket PATH before the command, or\n"
          "$MEMVISOR_SOCKET, or the default):\n"
          "  info                      the host, as xl info: memory, claims, nodes\n"
          "  list                      domains, as xl list\n"
          "  claims                    domains and their outstanding claims, as xl claims\n"
          "  tmem-list [-l] (-a | DOM) tmem's pools and figures, as xl tmem-list\n"
          "  tmem-freeze (-a | DOM)    stop tmem taking new pages; tmem-thaw undoes it\n"
          "  top [-d SECONDS] [-n N]   a live view of the host's and each domain's memory\n"
          "  create [--paused] [--userdata DIR] CFG\n"
          "                            build a domain from an xl.cfg (Xen's parser) in\n"
          "                            libxl's order and boot its guest model; prints its id\n"
          "  create [--max SIZE] [--claim SIZE] [--pv] [--domid N] [--vcpus N]\n"
          "                            an empty domain; prints its id\n"
          "  destroy DOM               a domain by name or id, and its xenstore nodes\n"
          "  mem-set DOM SIZE          the balloon target, with libxl's arithmetic (SIZE\n"
          "                            in xl's units: MiB without a suffix)\n"
          "  mem-max DOM SIZE          the static maximum, as xl mem-max\n"
          "  claim DOMID SIZE          stake a claim: the domain's total (0 cancels)\n"
          "  populate DOMID SIZE [--extent 4k|2m|1g] [--gfn N]\n"
          "                            give the domain memory, as a domain builder does\n"
          "  version\n",
          out);
}

int main(int argc, char **argv)
{
    const char *socket_path = NULL;

    if (argc >= 3 && !strcmp(argv[1], "--socket")) {
        socket_path = argv[2];
        argc -= 2;
        argv += 2;
    }
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "run"))
        return cmd_run(argc - 1, argv + 1, socket_path);
    if (!strcmp(argv[1], "xenstored"))
        return cmd_xenstored(argc - 1, argv + 1);
    if (!strcmp(argv[1], "version")) {
        printf("memvisor 0.1 (Xen 4.17 hypercall interface)\n");
        return 0;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    /* create with a config file, destroy by name, mem-set, mem-max: xl's. */
    if ((!strcmp(argv[1], "create") && argc >= 3 &&
         (argv[2][0] != '-' || !strcmp(argv[2], "--paused") ||
          !strcmp(argv[2], "--userdata"))) ||
        !strcmp(argv[1], "mem-set") || !strcmp(argv[1], "mem-max") ||
        (!strcmp(argv[1], "destroy") && argc == 3))
        return cmd_xl(argv[1], argc - 1, argv + 1, socket_path);
    for (const char *const *v = (const char *const[]){ "info", "list", "claims", "tmem-list",
                                                      "tmem-freeze", "tmem-thaw", "top", NULL };
         *v; v++)
        if (!strcmp(argv[1], *v))
            return cmd_views(argv[1], argc - 1, argv + 1, socket_path);
    for (const char *const *v = (const char *const[]){ "create", "destroy", "claim", "populate",
                                                      NULL };
         *v; v++)
        if (!strcmp(argv[1], *v))
            return cmd_host(argv[1], argc - 1, argv + 1, socket_path);
    fprintf(stderr, "memvisor: unknown command '%s' (run 'memvisor --help')\n", argv[1]);
    return 2;
}
