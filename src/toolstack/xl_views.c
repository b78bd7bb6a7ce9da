/*
 * xl's views of a host (xl.h): list, claims, info's memory, tmem-list and
 * a top frame, in xl's (and xentop's) layout, through tc_* calls, so they
 * read the same from memvisord or an embedded host.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memvisor/xl.h"

#define VIEW_MAX_DOMAINS 256

static uint64_t mib(uint64_t pages) { return pages >> (20 - PAGE_SHIFT); }

static void domain_name(struct tc_store *xs, domid_t domid, char *name, size_t cap)
{
    char path[64];

    snprintf(path, sizeof(path), "/local/domain/%u/name", domid);
    if (!xs || tc_xs_read(xs, 0, path, name, cap))
        snprintf(name, cap, domid ? "(d%u)" : "Domain-0", domid);
}

/* xl's state letters: running, blocked, paused, shutdown, crashed, dying. */
static void state(const struct tc_dominfo *d, char out[7])
{
    snprintf(out, 7, "%c%c%c%c%c%c", '-', d->paused || d->dying ? '-' : 'b',
             d->paused ? 'p' : '-', '-', '-', d->dying ? 'd' : '-');
}

static int print_domains(struct tc_handle *t, struct tc_store *xs, bool claims, FILE *out)
{
    struct tc_dominfo *info = calloc(VIEW_MAX_DOMAINS, sizeof(*info));
    long n = info ? tc_domain_list(t, 0, info, VIEW_MAX_DOMAINS) : -ENOMEM;
    char name[64], st[7];

    if (n < 0) {
        free(info);
        return (int)n;
    }
    fprintf(out, "%-40s %5s %5s %5s %10s%s\n", "Name", "ID", "Mem", "VCPUs", "State",
            claims ? "  Claimed" : "");
    for (long i = 0; i < n; i++) {
        domain_name(xs, info[i].domid, name, sizeof(name));
        state(&info[i], st);
        fprintf(out, "%-40s %5u %5" PRIu64 " %5u %10s", name, info[i].domid,
                mib(info[i].tot_pages), info[i].max_vcpus, st);
        if (claims)
            fprintf(out, " %8" PRIu64, mib(info[i].outstanding_pages));
        fputc('\n', out);
    }
    free(info);
    return 0;
}

int xl_print_list(struct tc_handle *t, struct tc_store *xs, FILE *out)
{
    return print_domains(t, xs, false, out);
}

int xl_print_claims(struct tc_handle *t, struct tc_store *xs, FILE *out)
{
    return print_domains(t, xs, true, out);
}

int xl_print_info(struct tc_handle *t, FILE *out)
{
    struct tc_node_memory nodes[MAX_NUMNODES];
    struct tc_physinfo pi;
    unsigned major, minor;
    char extra[16];
    long nr;
    int rc = tc_physinfo(t, &pi) ?: tc_xen_version(t, &major, &minor, extra);

    if (rc)
        return rc;
    fprintf(out, "host                   : memvisor\n");
    fprintf(out, "nr_cpus                : %u\n", pi.nr_cpus);
    fprintf(out, "nr_nodes               : %u\n", pi.nr_nodes);
    fprintf(out, "cpu_mhz                : %u.%03u\n", pi.cpu_khz / 1000, pi.cpu_khz % 1000);
    fprintf(out, "total_memory           : %" PRIu64 "\n", mib(pi.total_pages));
    /* xl: free memory less what is claimed. */
    fprintf(out, "free_memory            : %" PRIu64 "\n",
            mib(sat_sub(pi.free_pages, pi.outstanding_pages)));
    fprintf(out, "sharing_freed_memory   : 0\n");
    fprintf(out, "sharing_used_memory    : 0\n");
    fprintf(out, "outstanding_claims     : %" PRIu64 "\n", mib(pi.outstanding_pages));
    fprintf(out, "scrub_memory           : %" PRIu64 "\n", mib(pi.scrub_pages));
    nr = tc_numainfo(t, nodes, MAX_NUMNODES);
    for (long i = 0; i < nr; i++)
        fprintf(out, "node%-2ld memory           : %" PRIu64 " total, %" PRIu64 " free\n", i,
                nodes[i].size_bytes >> 20, nodes[i].free_bytes >> 20);
    fprintf(out, "xen_major              : %u\n", major);
    fprintf(out, "xen_minor              : %u\n", minor);
    fprintf(out, "xen_extra              : %s\n", extra);
    return 0;
}

int xl_print_tmem_list(struct tc_handle *t, domid_t domid, bool long_format, FILE *out)
{
    char *text = malloc(16384);
    long n = text ? tc_tmem_list(t, domid, long_format, text, 16384) : -ENOMEM;

    if (n >= 0)
        fputs(text, out);
    free(text);
    return n < 0 ? (int)n : 0;
}

uint64_t xl_tmem_list_pages(const char *list, int domid)
{
    uint64_t sum = 0;

    for (const char *p = list; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        unsigned long long a, b;
        unsigned ci;

        if (domid < 0 && sscanf(p, "G=Ec:%llu,Pc:%llu", &a, &b) == 2)
            sum += a + b;
        else if (domid >= 0 && sscanf(p, "P=CI:%u,PI:%*u,PT:%*c%*c,U0:%*x,U1:%*x,Pc:%llu", &ci,
                                      &a) == 2 && ci == (unsigned)domid)
            sum += a;
    }
    return sum;
}

int xl_domain_named(struct tc_store *xs, const struct tc_dominfo *list, long n,
                    const char *name, bool live_only, domid_t *domid)
{
    char path[64], have[128];

    for (long i = 0; i < n && xs; i++) {
        snprintf(path, sizeof(path), "/local/domain/%u/name", list[i].domid);
        if ((!live_only || !list[i].dying) &&
            tc_xs_read(xs, 0, path, have, sizeof(have)) == 0 && !strcmp(have, name)) {
            *domid = list[i].domid;
            return 0;
        }
    }
    return -ENOENT;
}

/* memory/<key> for top: 0 when there is none. */
static uint64_t memory_kib_or_0(struct tc_store *xs, domid_t domid, const char *key)
{
    uint64_t kib;

    return xs && xl_memory_kib(xs, 0, domid, key, &kib) == 0 ? kib : 0;
}

int xl_print_top(struct tc_handle *t, struct tc_store *xs, FILE *out)
{
    struct tc_dominfo *info = calloc(VIEW_MAX_DOMAINS, sizeof(*info));
    char *list = malloc(16384), name[64], st[7];
    struct tc_physinfo pi;
    long n;
    int rc = info && list ? tc_physinfo(t, &pi) : -ENOMEM;

    if (rc)
        goto out;
    n = tc_domain_list(t, 0, info, VIEW_MAX_DOMAINS);
    if (n < 0) {
        rc = (int)n;
        goto out;
    }
    if (tc_tmem_list(t, MV_TMEM_OP_ALL_CLIENTS, true, list, 16384) < 0)
        list[0] = '\0';
    fprintf(out,
            "memvisor - %ld domains\n"
            "Mem: %" PRIu64 "k total, %" PRIu64 "k used, %" PRIu64 "k free, %" PRIu64
            "k claimed, %" PRIu64 "k tmem, %" PRIu64 "k scrub\n\n",
            n, pi.total_pages * 4, (pi.total_pages - pi.free_pages) * 4,
            sat_sub(pi.free_pages, pi.outstanding_pages) * 4, pi.outstanding_pages * 4,
            xl_tmem_list_pages(list, -1) * 4, pi.scrub_pages * 4);
    fprintf(out, "%18s %6s %5s %10s %6s %10s %10s %10s %10s\n", "NAME", "STATE", "ID",
            "MEM(k)", "MEM(%)", "MAXMEM(k)", "TARGET(k)", "CLAIM(k)", "TMEM(k)");
    for (long i = 0; i < n; i++) {
        const struct tc_dominfo *d = &info[i];

        domain_name(xs, d->domid, name, sizeof(name));
        state(d, st);
        char max[24];

        /* xentop's "no limit" for a maximum beyond the host (dom0's). */
        if (d->max_pages > pi.total_pages * 16)
            snprintf(max, sizeof(max), "no limit");
        else
            snprintf(max, sizeof(max), "%" PRIu64, d->max_pages * 4);
        fprintf(out, "%18.18s %6s %5u %10" PRIu64 " %6.1f %10s %10" PRIu64 " %10" PRIu64
                " %10" PRIu64 "\n",
                name, st, d->domid, d->tot_pages * 4,
                pi.total_pages ? 100.0 * (double)d->tot_pages / (double)pi.total_pages : 0.0,
                max, memory_kib_or_0(xs, d->domid, "target"), d->outstanding_pages * 4,
                xl_tmem_list_pages(list, d->domid) * 4);
    }
out:
    free(info);
    free(list);
    return rc;
}
