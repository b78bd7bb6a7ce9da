/*
 * The delayed-failure demo: `memvisor demo`, the main job (make run).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "memvisor/toolstack.h"

static void demo_usage(FILE *out)
{
    fputs("usage: memvisor demo [options]\n"
          "\n"
          "Build requests arrive over time and are built by several toolstack threads while\n"
          "guests balloon up and down by themselves; the same timeline runs without claims,\n"
          "then with them, and the failures are compared.\n"
          "\n"
          "  --ram SIZE            host memory (default 4G)\n"
          "  --nodes N             NUMA nodes (default 2)\n"
          "  --builds N            domains to build (default 32)\n"
          "  --threads N           toolstack threads building them (default 4)\n"
          "  --interval MS         a build request arrives every MS milliseconds (default 40)\n"
          "  --lifetime MIN-MAX    a built domain lives MIN to MAX ms (default 300-900)\n"
          "  --rate MIB            a build populates MIB MiB per second, 0 for flat out\n"
          "                        (default 2048)\n"
          "  --min-size SIZE       smallest domain (default 256M)\n"
          "  --max-size SIZE       largest domain (default 768M)\n"
          "  --demand-threads N    ballooning guests (default 2)\n"
          "  --demand-max SIZE     memory each ballooning guest may take (default 512M)\n"
          "  --seed N              seed for sizes and lifetimes (default 1)\n"
          "  --json                print one JSON object instead of a table\n",
          out);
}

static int die_usage(const char *fmt, const char *arg)
{
    fprintf(stderr, "memvisor: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n(run 'memvisor demo --help' for usage)\n");
    return 2;
}

struct progress_state {
    bool tty;
};

static void progress(void *arg, bool use_claims, unsigned done, unsigned total,
                     unsigned succeeded, unsigned refused, unsigned delayed)
{
    struct progress_state *p = arg;

    if (!p->tty)
        return;
    fprintf(stderr, "\r  %-15s build %3u/%-3u  succeeded %3u  refused at once %3u  failed halfway %3u ",
            use_claims ? "with claims" : "without claims", done, total, succeeded, refused, delayed);
    if (done == total)
        fputc('\n', stderr);
    fflush(stderr);
}

static void print_json_run(const char *name, const struct demo_result *r, bool last)
{
    printf("  \"%s\": {\"builds\": %u, \"refused_at_once\": %u, \"delayed_failures\": %u, "
           "\"wasted_pages\": %" PRIu64 ", \"succeeded\": %u, \"other_failures\": %u, "
           "\"wasted_ms\": %.1f, \"demand_refusals\": %" PRIu64 ", \"elapsed_ms\": %.1f}%s\n",
           name, r->builds, r->refused_at_once, r->delayed_failures, r->wasted_pages,
           r->succeeded, r->other_failures, r->wasted_ns / 1e6, r->demand_refusals,
           r->elapsed_ns / 1e6, last ? "" : ",");
}

static void print_table(const struct demo_config *cfg, const struct demo_result *a,
                        const struct demo_result *b)
{
    printf("\n%-36s %16s %16s\n", "", "without claims", "with claims");
    printf("%-36s %16u %16u\n", "builds", a->builds, b->builds);
    printf("%-36s %16u %16u\n", "succeeded", a->succeeded, b->succeeded);
    printf("%-36s %16u %16u\n", "refused at once", a->refused_at_once, b->refused_at_once);
    printf("%-36s %16u %16u\n", "failed halfway (delayed failures)", a->delayed_failures,
           b->delayed_failures);
    printf("%-36s %12" PRIu64 " MiB %12" PRIu64 " MiB\n", "memory populated, then thrown away",
           a->wasted_pages >> (20 - PAGE_SHIFT), b->wasted_pages >> (20 - PAGE_SHIFT));
    printf("%-36s %13.1f ms %13.1f ms\n", "time spent in failed builds", a->wasted_ns / 1e6,
           b->wasted_ns / 1e6);
    printf("%-36s %16" PRIu64 " %16" PRIu64 "\n", "ballooning requests refused",
           a->demand_refusals, b->demand_refusals);
    printf("%-36s %14.2f s %14.2f s\n", "elapsed", a->elapsed_ns / 1e9, b->elapsed_ns / 1e9);
    if (a->other_failures || b->other_failures)
        printf("%-36s %16u %16u\n", "other failures", a->other_failures, b->other_failures);
    printf("\nWith claims a build either fails at once or cannot fail for lack of memory:\n"
           "%u builds of %u failed halfway without claims, %u with them.\n",
           a->delayed_failures, cfg->nr_builds, b->delayed_failures);
}

/* "MIN-MAX" or "N" (both the same), in ms. */
static int parse_range(const char *text, uint64_t *min, uint64_t *max)
{
    char buf[64];
    const char *dash = strchr(text, '-');
    uint64_t lo, hi;

    if (!dash)
        return mv_parse_uint(text, 0, 600000, min) ? -EINVAL : (*max = *min, 0);
    if ((size_t)(dash - text) >= sizeof(buf))
        return -EINVAL;
    memcpy(buf, text, (size_t)(dash - text));
    buf[dash - text] = '\0';
    if (mv_parse_uint(buf, 0, 600000, &lo) || mv_parse_uint(dash + 1, 0, 600000, &hi) || lo > hi)
        return -EINVAL;
    *min = lo;
    *max = hi;
    return 0;
}

static int parse_size_opt(const char *text, uint64_t *pages)
{
    uint64_t bytes;

    if (mv_parse_size(text, &bytes) || bytes < PAGE_SIZE)
        return -EINVAL;
    *pages = bytes >> PAGE_SHIFT;
    return 0;
}

int cmd_demo(int argc, char **argv)
{
    enum { O_RAM = 256, O_NODES, O_BUILDS, O_THREADS, O_INTERVAL, O_LIFETIME, O_RATE, O_MIN,
           O_MAX, O_DEMAND, O_DEMAND_MAX, O_SEED, O_JSON, O_HELP };
    static const struct option opts[] = {
        { "ram", required_argument, NULL, O_RAM },
        { "nodes", required_argument, NULL, O_NODES },
        { "builds", required_argument, NULL, O_BUILDS },
        { "threads", required_argument, NULL, O_THREADS },
        { "interval", required_argument, NULL, O_INTERVAL },
        { "lifetime", required_argument, NULL, O_LIFETIME },
        { "rate", required_argument, NULL, O_RATE },
        { "min-size", required_argument, NULL, O_MIN },
        { "max-size", required_argument, NULL, O_MAX },
        { "demand-threads", required_argument, NULL, O_DEMAND },
        { "demand-max", required_argument, NULL, O_DEMAND_MAX },
        { "seed", required_argument, NULL, O_SEED },
        { "json", no_argument, NULL, O_JSON },
        { "help", no_argument, NULL, O_HELP },
        { NULL, 0, NULL, 0 },
    };
    struct progress_state ps = { isatty(STDERR_FILENO) };
    struct demo_result without, with;
    struct demo_config cfg;
    bool json = false;
    uint64_t v;
    int c, rc;

    demo_config_default(&cfg);
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_RAM:
            if (mv_parse_size(optarg, &cfg.ram_bytes))
                return die_usage("--ram: '%s' is not a size (e.g. 4G, 512M)", optarg);
            break;
        case O_NODES:
            if (mv_parse_uint(optarg, 1, MAX_NUMNODES, &v))
                return die_usage("--nodes: '%s' is not a number from 1 to 64", optarg);
            cfg.nr_nodes = (unsigned)v;
            break;
        case O_BUILDS:
            if (mv_parse_uint(optarg, 1, 100000, &v))
                return die_usage("--builds: '%s' is not a number from 1 to 100000", optarg);
            cfg.nr_builds = (unsigned)v;
            break;
        case O_THREADS:
            if (mv_parse_uint(optarg, 1, 64, &v))
                return die_usage("--threads: '%s' is not a number from 1 to 64", optarg);
            cfg.builder_threads = (unsigned)v;
            break;
        case O_INTERVAL:
            if (mv_parse_uint(optarg, 0, 60000, &cfg.interval_ms))
                return die_usage("--interval: '%s' is not a number of ms from 0 to 60000", optarg);
            break;
        case O_LIFETIME:
            if (parse_range(optarg, &cfg.min_lifetime_ms, &cfg.max_lifetime_ms))
                return die_usage("--lifetime: '%s' is not MIN-MAX in ms (at most 600000)", optarg);
            break;
        case O_RATE:
            if (mv_parse_uint(optarg, 0, 1 << 20, &cfg.build_mib_per_sec))
                return die_usage("--rate: '%s' is not a number of MiB/s from 0 to 1048576", optarg);
            break;
        case O_MIN:
            if (parse_size_opt(optarg, &cfg.min_build_pages))
                return die_usage("--min-size: '%s' is not a size of at least 4K", optarg);
            break;
        case O_MAX:
            if (parse_size_opt(optarg, &cfg.max_build_pages))
                return die_usage("--max-size: '%s' is not a size of at least 4K", optarg);
            break;
        case O_DEMAND:
            if (mv_parse_uint(optarg, 0, 64, &v))
                return die_usage("--demand-threads: '%s' is not a number from 0 to 64", optarg);
            cfg.demand_threads = (unsigned)v;
            break;
        case O_DEMAND_MAX:
            if (mv_parse_size(optarg, &v))
                return die_usage("--demand-max: '%s' is not a size", optarg);
            cfg.demand_max_pages = v >> PAGE_SHIFT;
            break;
        case O_SEED:
            if (mv_parse_uint(optarg, 0, UINT64_MAX, &cfg.seed))
                return die_usage("--seed: '%s' is not a number", optarg);
            break;
        case O_JSON:
            json = true;
            break;
        case O_HELP:
            demo_usage(stdout);
            return 0;
        default:
            return die_usage("%s", "bad option");
        }
    }
    if (optind < argc)
        return die_usage("demo: unexpected argument '%s'", argv[optind]);
    if (cfg.min_build_pages > cfg.max_build_pages)
        return die_usage("%s", "--min-size is larger than --max-size");
    cfg.progress = progress;
    cfg.progress_arg = &ps;

    if (!json)
        printf("memvisor demo: a %" PRIu64 " MiB host with %u NUMA node(s).  %u domains of %" PRIu64
               "-%" PRIu64 " MiB are asked for, one every %" PRIu64 " ms,\n"
               "built by %u toolstack threads at %" PRIu64 " MiB/s each, and live %" PRIu64 "-%" PRIu64
               " ms; meanwhile %u guests balloon\n"
               "up and down by themselves (up to %" PRIu64 " MiB each).  Run once without claims, "
               "once with them.\n",
               cfg.ram_bytes >> 20, cfg.nr_nodes, cfg.nr_builds, cfg.min_build_pages >> 8,
               cfg.max_build_pages >> 8, cfg.interval_ms, cfg.builder_threads,
               cfg.build_mib_per_sec, cfg.min_lifetime_ms, cfg.max_lifetime_ms,
               cfg.demand_threads, cfg.demand_max_pages >> 8);
    fflush(stdout);
    rc = demo_run(&cfg, false, &without);
    if (rc == 0)
        rc = demo_run(&cfg, true, &with);
    if (rc) {
        fprintf(stderr, "memvisor: demo: cannot build the host: %s%s\n", mv_strerror(rc),
                rc == -EINVAL ? " (check --ram and --nodes)" : "");
        return 1;
    }
    if (json) {
        printf("{\n");
        print_json_run("without_claims", &without, false);
        print_json_run("with_claims", &with, true);
        printf("}\n");
    } else {
        print_table(&cfg, &without, &with);
    }
    if (without.check_violations || with.check_violations) {
        fprintf(stderr, "memvisor: demo: invariant checks failed after the run\n");
        return 1;
    }
    return 0;
}

