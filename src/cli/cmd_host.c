/*
 * The verbs that talk to a running memvisord, so a user can try claims by
 * hand: create (an empty domain), destroy (by id), claim, populate.  They go
 * through the same hypercall ABI as Xen's tools.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "memvisor/client.h"
#include "memvisor/toolstack.h"


int connect_or_explain(const char *socket_path, struct tc_handle **t)
{
    char dflt[108];
    int rc = tc_connect(socket_path, t);

    if (rc) {
        if (!socket_path)
            socket_path = mv_default_socket_path(dflt, sizeof(dflt));
        fprintf(stderr, "memvisor: cannot reach memvisord at %s: %s%s\n", socket_path,
                mv_strerror(rc),
                rc == -ENOENT || rc == -ECONNREFUSED ? " (is it running? see --socket)" : "");
    }
    return rc;
}

static int parse_domid(const char *text, domid_t *out)
{
    uint64_t v;

    if (mv_parse_uint(text, 0, DOMID_FIRST_RESERVED - 1, &v)) {
        fprintf(stderr, "memvisor: '%s' is not a domain id (0 to %u)\n", text,
                DOMID_FIRST_RESERVED - 1);
        return -EINVAL;
    }
    *out = (domid_t)v;
    return 0;
}

static int parse_pages(const char *what, const char *text, uint64_t *pages)
{
    uint64_t bytes;

    if (mv_parse_size(text, &bytes) || (bytes & (PAGE_SIZE - 1))) {
        fprintf(stderr, "memvisor: %s: '%s' is not a size in whole pages (e.g. 512M, 4K)\n", what,
                text);
        return -EINVAL;
    }
    *pages = bytes >> PAGE_SHIFT;
    return 0;
}

static int verb_create(struct tc_handle *t, int argc, char **argv)
{
    static const struct option opts[] = {
        { "max", required_argument, NULL, 'm' },  { "claim", required_argument, NULL, 'c' },
        { "pv", no_argument, NULL, 'p' },         { "domid", required_argument, NULL, 'd' },
        { "vcpus", required_argument, NULL, 'v' }, { NULL, 0, NULL, 0 },
    };
    uint64_t max = 0, claim = 0, v;
    domid_t domid = DOMID_ANY;
    unsigned vcpus = 1;
    bool hvm = true;
    int c, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'm': if (parse_pages("--max", optarg, &max)) return 2; break;
        case 'c': if (parse_pages("--claim", optarg, &claim)) return 2; break;
        case 'p': hvm = false; break;
        case 'd': if (parse_domid(optarg, &domid)) return 2; break;
        case 'v':
            if (mv_parse_uint(optarg, 1, 128, &v)) {
                fprintf(stderr, "memvisor: --vcpus: '%s' is not a number from 1 to 128\n", optarg);
                return 2;
            }
            vcpus = (unsigned)v;
            break;
        default: return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "memvisor: create: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (claim > max) {
        fprintf(stderr, "memvisor: create: --claim is larger than --max\n");
        return 2;
    }
    rc = tc_domain_create(t, &domid, hvm, vcpus);
    if (rc == 0 && max)
        rc = tc_domain_setmaxmem(t, domid, max << (PAGE_SHIFT - 10));
    if (rc) {
        fprintf(stderr, "memvisor: create: %s\n", mv_strerror(rc));
        return 1;
    }
    if (claim) {
        rc = tc_domain_claim_pages(t, domid, claim);
        if (rc) {
            fprintf(stderr, "memvisor: create: the claim of %" PRIu64 " pages was refused: %s; "
                    "domain %u destroyed\n", claim, mv_strerror(rc), domid);
            (void)!tc_domain_destroy(t, domid);
            return 1;
        }
    }
    printf("%u\n", domid);
    return 0;
}

static int verb_claim(struct tc_handle *t, int argc, char **argv)
{
    uint64_t pages;
    domid_t domid;
    int rc;

    bool soft = argc >= 2 && strcmp(argv[1], "--soft") == 0;

    if (argc != 3 + soft) {
        fprintf(stderr, "usage: memvisor claim [--soft] DOMID SIZE   (the domain's total; 0 "
                "cancels; --soft also counts memory tmem can give back)\n");
        return 2;
    }
    if (parse_domid(argv[1 + soft], &domid) || parse_pages("claim", argv[2 + soft], &pages))
        return 2;
    rc = soft ? tc_domain_claim_pages_soft(t, domid, pages)
              : tc_domain_claim_pages(t, domid, pages);
    if (rc) {
        fprintf(stderr, "memvisor: claim: %s\n", mv_strerror(rc));
        return 1;
    }
    return 0;
}

static int verb_destroy(struct tc_handle *t, int argc, char **argv)
{
    domid_t domid;
    int rc;

    if (argc != 2) {
        fprintf(stderr, "usage: memvisor destroy DOMID\n");
        return 2;
    }
    if (parse_domid(argv[1], &domid))
        return 2;
    rc = tc_domain_destroy(t, domid);
    if (rc) {
        fprintf(stderr, "memvisor: destroy: %s\n", mv_strerror(rc));
        return 1;
    }
    return 0;
}

static int verb_populate(struct tc_handle *t, int argc, char **argv)
{
    static const struct option opts[] = {
        { "extent", required_argument, NULL, 'e' }, { "gfn", required_argument, NULL, 'g' },
        { NULL, 0, NULL, 0 },
    };
    uint64_t pages, gfn = 0, done = 0, ext[512];
    unsigned order = SUPERPAGE_ORDER;
    domid_t domid;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'e') {
            if (!strcmp(optarg, "4k"))
                order = 0;
            else if (!strcmp(optarg, "2m"))
                order = SUPERPAGE_ORDER;
            else if (!strcmp(optarg, "1g"))
                order = GIGAPAGE_ORDER;
            else {
                fprintf(stderr, "memvisor: --extent: '%s' is not 4k, 2m or 1g\n", optarg);
                return 2;
            }
        } else if (c == 'g') {
            if (mv_parse_uint(optarg, 0, UINT64_C(1) << 36, &gfn)) {
                fprintf(stderr, "memvisor: --gfn: '%s' is not a frame number\n", optarg);
                return 2;
            }
        } else {
            return 2;
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "usage: memvisor populate DOMID SIZE [--extent 4k|2m|1g] [--gfn N]\n");
        return 2;
    }
    if (parse_domid(argv[optind], &domid) || parse_pages("populate", argv[optind + 1], &pages))
        return 2;
    if (pages & ((UINT64_C(1) << order) - 1)) {
        fprintf(stderr, "memvisor: populate: the size is not a whole number of extents\n");
        return 2;
    }
    {
        struct tc_dominfo info;
        int rc = tc_domain_getinfo(t, domid, &info);
        if (rc) {
            fprintf(stderr, "memvisor: populate: domain %u: %s\n", domid, mv_strerror(rc));
            return 1;
        }
    }
    while (done < pages) {
        uint64_t k = min_u64(512, (pages - done) >> order);
        long got;

        for (uint64_t i = 0; i < k; i++)
            ext[i] = gfn + done + (i << order);
        got = tc_populate_physmap(t, domid, k, order, 0, ext);
        if (got > 0)
            done += (uint64_t)got << order;
        if (got < (long)k) {
            fprintf(stderr, "memvisor: populate: stopped after %" PRIu64 " of %" PRIu64
                    " pages (%s)\n", done, pages,
                    got < 0 ? mv_strerror((int)got)
                            : "no memory the domain may take: claims, max or free memory");
            return 1;
        }
    }
    printf("%" PRIu64 " pages\n", done);
    return 0;
}

int cmd_host(const char *verb, int argc, char **argv, const char *socket_path)
{
    struct tc_handle *t;
    int rc;

    if (connect_or_explain(socket_path, &t))
        return 1;
    if (!strcmp(verb, "create"))
        rc = verb_create(t, argc, argv);
    else if (!strcmp(verb, "destroy"))
        rc = verb_destroy(t, argc, argv);
    else if (!strcmp(verb, "claim"))
        rc = verb_claim(t, argc, argv);
    else
        rc = verb_populate(t, argc, argv);
    tc_close(t);
    return rc;
}
