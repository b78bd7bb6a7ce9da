/*
 * memvisor run SCENARIO: runs a scenario on an embedded host, with a
 * progress line (or, with --top, a live top view), then prints the summary
 * and writes the HTML and JSON reports.
 */
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "memvisor/client.h"

struct display {
    bool tty, quiet, top;
    unsigned last_tenth;
    uint64_t last_top_ns;
};

/* --top: the embedded host as `memvisor top` shows memvisord's, a few
 * times a second. */
static void show_top(struct display *d, const struct scenario_progress *p)
{
    uint64_t now = mv_now_ns();

    if (now - d->last_top_ns < 250000000u && p->t_ms < p->duration_ms)
        return;
    d->last_top_ns = now;
    if (d->tty)
        fputs("\033[H\033[2J", stderr);
    fprintf(stderr, "t=%.1f of %.0f model seconds, %u events done, %u failures\n",
            (double)p->t_ms / 1000.0, (double)p->duration_ms / 1000.0, p->events_done,
            p->failures);
    if (xl_print_top(p->tc, p->xs, stderr))
        fputs("(no view)\n", stderr);
    fputc('\n', stderr);
}

static void progress(void *arg, const struct scenario_progress *p)
{
    struct display *d = arg;
    unsigned tenth = (unsigned)(p->t_ms * 10 / (p->duration_ms ? p->duration_ms : 1));
    const uint64_t mib = 256; /* pages */

    if (d->quiet || !p->last)
        return;
    if (d->top) {
        show_top(d, p);
    } else if (d->tty) {
        unsigned filled = tenth > 10 ? 20 : (unsigned)(p->t_ms * 20 / p->duration_ms);
        char bar[21];

        memset(bar, '#', filled);
        memset(bar + filled, '.', 20 - filled);
        bar[20] = '\0';
        fprintf(stderr, "\r  [%s] %5.0f/%.0f s  free %6llu MiB  claimed %5llu  tmem %5llu  "
                "PoD %5llu  events %u  failures %u ",
                bar, (double)p->t_ms / 1000.0, (double)p->duration_ms / 1000.0,
                (unsigned long long)(p->last->free_pages / mib),
                (unsigned long long)(p->last->claimed_pages / mib),
                (unsigned long long)(p->last->tmem_pages / mib),
                (unsigned long long)(p->last->pod_cache_pages / mib), p->events_done,
                p->failures);
    } else if (tenth != d->last_tenth) {
        fprintf(stderr, "  %3u%%  t=%.0f s  free %llu MiB  events %u  failures %u\n",
                tenth * 10, (double)p->t_ms / 1000.0,
                (unsigned long long)(p->last->free_pages / mib), p->events_done, p->failures);
    }
    d->last_tenth = tenth;
}

static int write_report(const char *path, int (*fn)(const struct scenario_report *, FILE *),
                        const struct scenario_report *r)
{
    FILE *f = fopen(path, "w");
    int rc;

    if (!f) {
        fprintf(stderr, "memvisor: run: cannot write %s: %s\n", path, strerror(errno));
        return -errno;
    }
    rc = fn(r, f);
    if (fclose(f) && !rc)
        rc = -EIO;
    if (rc)
        fprintf(stderr, "memvisor: run: writing %s: %s\n", path, mv_strerror(rc));
    return rc;
}

static void usage(FILE *out)
{
    fputs("usage: memvisor [--socket PATH] run [--attach | --realtime] [--seed N] [--out DIR]\n"
          "                                  [--quiet | --top] SCENARIO\n"
          "  Runs SCENARIO on an embedded host (see README: scenario files), shows its\n"
          "  progress, prints a summary and writes DIR/NAME.html and DIR/NAME.json\n"
          "  (DIR: the current directory by default; NAME: the scenario's file name).\n"
          "  It runs on a virtual clock: the same file and seed give the same report on\n"
          "  any machine, as fast as the CPU allows.\n"
          "  --seed N   the seed of every random choice (UUIDs, the guests'; default 1)\n"
          "  --realtime the real clock instead: a model second is the scenario's\n"
          "             `second` of wall time, and the story depends on the machine\n"
          "  --attach   run it against memvisord instead (its sockets: --socket,\n"
          "             $MEMVISOR_SOCKET, $XENSTORED_PATH or the defaults), in real\n"
          "             time; its host line is then not used, and its domains are\n"
          "             destroyed at the end\n"
          "  --quiet  no progress line\n"
          "  --top    instead of the progress line, a live view of the host's memory and\n"
          "           each domain's, as `memvisor top` shows memvisord's\n",
          out);
}

int cmd_run(int argc, char **argv, const char *socket_path)
{
    static const struct option opts[] = {
        { "out", required_argument, NULL, 'o' }, { "quiet", no_argument, NULL, 'q' },
        { "top", no_argument, NULL, 't' },       { "attach", no_argument, NULL, 'a' },
        { "realtime", no_argument, NULL, 'r' },  { "seed", required_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },      { NULL, 0, NULL, 0 },
    };
    struct scenario_options o;
    struct display d = { isatty(STDERR_FILENO), false, false, 0, 0 };
    const char *dir = ".";
    char xs_path[108];
    bool attach = false;
    struct scenario *sc;
    struct scenario_report *r;
    char err[512], base[256], html[600], json[600];
    struct stat st;
    int c, rc;

    scenario_options_default(&o);
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:qtars:h", opts, NULL)) != -1) {
        switch (c) {
        case 'a': attach = true; break;
        case 'r': o.realtime = true; break;
        case 's':
            if (mv_parse_uint(optarg, 0, UINT64_MAX, &o.seed)) {
                fprintf(stderr, "memvisor: run: --seed: '%s' is not a number\n", optarg);
                return 2;
            }
            break;
        case 'o': dir = optarg; break;
        case 'q': d.quiet = true; break;
        case 't': d.top = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "memvisor: run: --out %s is not a directory\n", dir);
        return 2;
    }
    sc = malloc(sizeof(*sc));
    if (!sc)
        return 1;
    rc = scenario_load(argv[optind], sc, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "memvisor: %s\n", err);
        free(sc);
        return rc == -EINVAL ? 2 : 1;
    }
    snprintf(base, sizeof(base), "%s", argv[optind]);
    snprintf(base, sizeof(base), "%s", basename(base));
    base[strcspn(base, ".")] = '\0';
    snprintf(html, sizeof(html), "%s/%s.html", dir, base);
    snprintf(json, sizeof(json), "%s/%s.json", dir, base);
    if (!d.quiet)
        fprintf(stderr, "%s: %s\n", sc->file, sc->title);
    o.progress = progress;
    o.arg = &d;
    if (attach) {
        o.socket_path = socket_path;
        o.xenstore_path = mv_default_xenstore_path(xs_path, sizeof(xs_path));
    }
    rc = scenario_run(sc, &o, &r);
    if (d.tty && !d.quiet)
        fputc('\n', stderr);
    if (rc) {
        fprintf(stderr, "memvisor: run: %s: %s\n",
                attach ? "cannot reach memvisord or its xenstore" : "cannot make the host",
                mv_strerror(rc));
        free(sc);
        return 1;
    }
    rc = scenario_report_text(r, stdout);
    rc = write_report(html, scenario_report_html, r) ?: rc;
    rc = write_report(json, scenario_report_json, r) ?: rc;
    if (!rc)
        printf("\n  reports: %s, %s\n", html, json);
    if (r->check_violations)
        rc = -EUCLEAN;
    scenario_report_free(r);
    free(sc);
    return rc ? 1 : 0;
}
