/*
 * The verbs that work like xl's, against a running memvisord (its
 * hypercall socket and its xenstore):
 *   create CFG      build the domain from an xl.cfg and boot its guest model
 *   destroy DOM     destroy it and remove its xenstore nodes
 *   mem-set DOM SIZE, mem-max DOM SIZE   libxl's formulas (SIZE: xl's units,
 *                   MiB without a suffix)
 * DOM is a name or an id.  libxl's record of each domain goes to
 * /var/lib/xen when that directory exists (so Debian's xl mem-set and
 * mem-max work on memvisor's domains), or to --userdata DIR.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "memvisor/client.h"

#define XEN_LIB_DIR "/var/lib/xen"

/* A domain by id or by name (/local/domain/N/name). */
int cli_find_domain(struct tc_handle *t, struct tc_store *xs, const char *text, domid_t *out)
{
    struct tc_dominfo info[256];
    char *end;
    unsigned long id = strtoul(text, &end, 10);

    if (end != text && !*end && id < DOMID_FIRST_RESERVED) {
        *out = (domid_t)id;
        return 0;
    }
    if (xl_domain_named(xs, info, tc_domain_list(t, 0, info, 256), text, false, out) == 0)
        return 0;
    fprintf(stderr, "memvisor: no domain '%s'\n", text);
    return -ENOENT;
}

static const char *userdata_dir(const char *given)
{
    struct stat st;

    if (given)
        return given;
    return stat(XEN_LIB_DIR, &st) == 0 && S_ISDIR(st.st_mode) ? XEN_LIB_DIR : NULL;
}

static int verb_create(struct tc_handle *t, struct tc_store *xs, const char *cfg_file,
                       const char *udir, bool paused)
{
    struct xl_domain d;
    struct xl_guest g;
    domid_t domid;
    char err[256];
    int rc = xlcfg_load(cfg_file, &d, &g);
    struct xl_create_opts o = { .unpause = !paused, .userdata_dir = udir, .guest = &g };

    if (rc)
        return rc == -EINVAL ? 2 : 1;
    rc = xl_create_with(t, xs, &d, &o, &domid, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "memvisor: create %s: %s\n", d.name, err);
        return 1;
    }
    printf("%u\n", domid);
    return 0;
}

int cmd_xl(const char *verb, int argc, char **argv, const char *socket_path)
{
    const char *udir = NULL;
    bool paused = false;
    struct tc_handle *t;
    struct tc_store *xs;
    char xs_path[108], err[256];
    domid_t domid;
    int64_t kib;
    int rc;

    while (argc > 2 && (!strcmp(argv[1], "--userdata") || !strcmp(argv[1], "--paused"))) {
        if (!strcmp(argv[1], "--paused")) {
            paused = true;
            argc--, argv++;
        } else {
            udir = argv[2];
            argc -= 2, argv += 2;
        }
    }
    if (argc != (!strcmp(verb, "create") || !strcmp(verb, "destroy") ? 2 : 3)) {
        fprintf(stderr, "usage: memvisor %s %s\n", verb,
                !strcmp(verb, "create") ? "[--paused] [--userdata DIR] CFG"
                : !strcmp(verb, "destroy") ? "DOM" : "DOM SIZE");
        return 2;
    }
    if ((rc = tc_connect(socket_path, &t))) {
        fprintf(stderr, "memvisor: cannot reach memvisord: %s\n", mv_strerror(rc));
        return 1;
    }
    mv_default_xenstore_path(xs_path, sizeof(xs_path));
    if ((rc = tc_store_connect(xs_path, &xs))) {
        fprintf(stderr, "memvisor: cannot reach xenstore at %s: %s\n", xs_path, mv_strerror(rc));
        tc_close(t);
        return 1;
    }
    udir = userdata_dir(udir);
    if (!strcmp(verb, "create")) {
        rc = verb_create(t, xs, argv[1], udir, paused);
    } else if (cli_find_domain(t, xs, argv[1], &domid)) {
        rc = 1;
    } else if (!strcmp(verb, "destroy")) {
        rc = xl_destroy(t, xs, domid, udir, err, sizeof(err)) ? 1 : 0;
    } else if (xl_parse_kib(argv[2], &kib)) {
        fprintf(stderr, "memvisor: %s: '%s' is not a size (e.g. 512m, 1g, 65536k)\n", verb,
                argv[2]);
        rc = 2;
    } else if (!strcmp(verb, "mem-set")) {
        rc = xl_mem_set(t, xs, domid, kib, false, true, err, sizeof(err)) ? 1 : 0;
    } else {
        rc = xl_mem_max(t, xs, domid, (uint64_t)kib, err, sizeof(err)) ? 1 : 0;
    }
    if (rc == 1 && strcmp(verb, "create"))
        fprintf(stderr, "memvisor: %s: %s\n", verb, err);
    tc_store_close(xs);
    tc_close(t);
    return rc;
}
