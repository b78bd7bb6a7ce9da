/*
 * xl.cfg files, parsed by Debian's libxlutil (Xen's own parser: its
 * syntax errors name the file and line), into what memvisor's toolstack
 * needs: name, type (or builder), memory, maxmem, videoram, vga/stdvga,
 * vcpus, claim_mode, vnuma, mmio_hole, uuid; and the guest model's
 * options (guest_* keys, which xl ignores: guest_balloon,
 * guest_balloon_vnode, guest_selfballoon, guest_free_page_reporting,
 * guest_deflate_on_oom, guest_boot_scrub, guest_swap (0/1);
 * guest_working_set, guest_cache, guest_files (MiB); guest_workload =
 * "SECONDS:SIZE ...").
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxlutil.h>

#include "memvisor/guest_host.h"

#include "memvisor/scenario.h"

static int bad(const char *file, const char *fmt, ...) MV_PRINTF(2, 3);
static int bad(const char *file, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", file);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return -EINVAL;
}

static int get_mib(XLU_Config *c, const char *file, const char *key, uint64_t *kib, bool *set)
{
    long v;

    *set = false;
    if (xlu_cfg_get_long(c, key, &v, 1))
        return 0;
    if (v < 0 || v > (1L << 30))
        return bad(file, "%s = %ld: not a size in MiB", key, v);
    *kib = (uint64_t)v << 10;
    *set = true;
    return 0;
}

static int parse_vnuma(XLU_Config *c, const char *file, struct xl_domain *d)
{
    XLU_ConfigList *nodes;
    int nr;

    if (xlu_cfg_get_list(c, "vnuma", &nodes, &nr, 1))
        return 0;
    if (nr <= 0 || nr > GUEST_MAX_VNODES)
        return bad(file, "vnuma: %d vnodes (1 to 8)", nr);
    d->nr_vnodes = (unsigned)nr;
    for (int n = 0; n < nr; n++) {
        XLU_ConfigValue *node = xlu_cfg_get_listitem2(nodes, n);
        XLU_ConfigList *items;
        bool have_size = false;
        int k = 0;

        if (!node || xlu_cfg_value_type(node) != XLU_LIST ||
            xlu_cfg_value_get_list(c, node, &items, 0))
            return bad(file, "vnuma: vnode %d is not a list", n);
        for (const char *s; (s = xlu_cfg_get_listitem(items, k)); k++) {
            char *end;
            unsigned long v;

            if (!strncmp(s, "pnode=", 6)) {
                v = strtoul(s + 6, &end, 10);
                if (end == s + 6 || *end || v >= 64)
                    return bad(file, "vnuma: bad '%s' in vnode %d", s, n);
                d->vnodes[n].pnode = (unsigned)v;
            } else if (!strncmp(s, "size=", 5)) {
                v = strtoul(s + 5, &end, 10);
                if (end == s + 5 || *end || !v || v > (1UL << 30))
                    return bad(file, "vnuma: bad '%s' in vnode %d", s, n);
                d->vnodes[n].size_kib = (uint64_t)v << 10;
                have_size = true;
            } else if (strncmp(s, "vcpus=", 6) && strncmp(s, "vdistances=", 11)) {
                return bad(file, "vnuma: unknown '%s' in vnode %d", s, n);
            }
        }
        if (!have_size)
            return bad(file, "vnuma: vnode %d has no size=", n);
    }
    return 0;
}

static bool get_bool(XLU_Config *c, const char *key, bool dflt)
{
    long v;

    return xlu_cfg_get_long(c, key, &v, 1) ? dflt : v != 0;
}

int xl_workload_kib(const char *text, char *out, size_t cap)
{
    struct guest_phase phases[GUEST_MAX_PHASES];
    size_t used = 0;
    const char *p = text;
    unsigned n = 0;

    out[0] = '\0';
    for (;;) {
        char *end;
        unsigned long long at;
        int64_t kib;
        char size[32];
        size_t len;

        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        at = strtoull(p, &end, 10);
        if (end == p || *end != ':')
            return -EINVAL;
        p = end + 1;
        len = strcspn(p, " ,");
        if (len == 0 || len >= sizeof(size))
            return -EINVAL;
        memcpy(size, p, len);
        size[len] = '\0';
        p += len;
        if (xl_parse_kib(size, &kib) || n == GUEST_MAX_PHASES)
            return -EINVAL;
        used += (size_t)snprintf(out + used, cap > used ? cap - used : 0, "%s%llu:%lld",
                                 n ? " " : "", at, (long long)kib);
        n++;
        if (used >= cap)
            return -EINVAL;
    }
    /* guest_host's own check: AT from 0, rising. */
    return guest_workload_parse(out, phases, GUEST_MAX_PHASES) > 0 ? 0 : -EINVAL;
}

int xlcfg_load(const char *file, struct xl_domain *d, struct xl_guest *g)
{
    XLU_Config *c = xlu_cfg_init(stderr, file);
    const char *s;
    uint64_t kib;
    bool set, have_max;
    long v;
    int rc;

    if (!c)
        return -ENOMEM;
    rc = xlu_cfg_readfile(c, file);
    if (rc) {
        if (rc != EINVAL) /* a syntax error: libxlutil said where */
            fprintf(stderr, "%s: %s\n", file, strerror(rc));
        xlu_cfg_destroy(c);
        return -rc;
    }
    xl_domain_default(d);
    xl_guest_default(g);
    rc = -EINVAL;
    if (xlu_cfg_get_string(c, "name", &s, 0) || !s[0] || strlen(s) >= sizeof(d->name)) {
        fprintf(stderr, "%s: the domain needs a name (name = \"...\")\n", file);
        goto out;
    }
    strcpy(d->name, s);
    if (!xlu_cfg_get_string(c, "type", &s, 1) || !xlu_cfg_get_string(c, "builder", &s, 1)) {
        if (!strcmp(s, "hvm"))
            d->type = XL_HVM;
        else if (!strcmp(s, "pv") || !strcmp(s, "generic"))
            d->type = XL_PV;
        else if (!strcmp(s, "pvh"))
            d->type = XL_PVH;
        else {
            bad(file, "type = \"%s\": not hvm, pv or pvh", s);
            goto out;
        }
    } else {
        d->type = XL_PV; /* xl's default */
    }
    if (get_mib(c, file, "memory", &kib, &set))
        goto out;
    d->target_kib = set ? kib : 128 << 10; /* libxl's default: 128 MiB */
    if (get_mib(c, file, "maxmem", &kib, &have_max))
        goto out;
    d->max_kib = have_max ? kib : d->target_kib;
    /* Video RAM (HVM): libxl's defaults for each kind of VGA. */
    d->video_kib = 8 << 10;
    if (get_bool(c, "stdvga", false))
        d->video_kib = 16 << 10;
    if (!xlu_cfg_get_string(c, "vga", &s, 1)) {
        if (!strcmp(s, "none"))
            d->video_kib = 0;
        else if (!strcmp(s, "stdvga"))
            d->video_kib = 16 << 10;
        else if (!strcmp(s, "qxl"))
            d->video_kib = 128 << 10;
        else if (strcmp(s, "cirrus")) {
            bad(file, "vga = \"%s\": not none, stdvga, cirrus or qxl", s);
            goto out;
        }
    }
    if (get_mib(c, file, "videoram", &kib, &set))
        goto out;
    if (set)
        d->video_kib = kib;
    if (!xlu_cfg_get_long(c, "vcpus", &v, 1)) {
        if (v < 1 || v > 64) {
            bad(file, "vcpus = %ld: 1 to 64", v);
            goto out;
        }
        d->vcpus = (unsigned)v;
    }
    d->claim = get_bool(c, "claim_mode", false);
    if (get_mib(c, file, "mmio_hole", &kib, &set))
        goto out;
    if (set)
        d->mmio_hole_kib = kib;
    if (parse_vnuma(c, file, d))
        goto out;
    if (d->nr_vnodes) {
        uint64_t sum = 0;

        for (unsigned n = 0; n < d->nr_vnodes; n++)
            sum += d->vnodes[n].size_kib;
        /* xl: the vnodes' sizes make memory and maxmem. */
        if (have_max && d->max_kib != sum) {
            bad(file, "Amount of memory mismatch (vnuma: %llu MiB, maxmem: %llu MiB)",
                (unsigned long long)sum >> 10, (unsigned long long)d->max_kib >> 10);
            goto out;
        }
        d->max_kib = d->target_kib = sum;
    }
    if (!xlu_cfg_get_string(c, "uuid", &s, 1)) {
        unsigned b[16];

        if (strlen(s) != 36 ||
            sscanf(s, "%2x%2x%2x%2x-%2x%2x-%2x%2x-%2x%2x-%2x%2x%2x%2x%2x%2x", &b[0], &b[1],
                   &b[2], &b[3], &b[4], &b[5], &b[6], &b[7], &b[8], &b[9], &b[10], &b[11],
                   &b[12], &b[13], &b[14], &b[15]) != 16) {
            bad(file, "uuid = \"%s\": not a UUID", s);
            goto out;
        }
        for (int i = 0; i < 16; i++)
            d->uuid[i] = (uint8_t)b[i];
    }
    g->balloon = get_bool(c, "guest_balloon", true);
    g->selfballoon = get_bool(c, "guest_selfballoon", false);
    g->free_page_reporting = get_bool(c, "guest_free_page_reporting", false);
    g->deflate_on_oom = get_bool(c, "guest_deflate_on_oom", false);
    g->boot_scrub = get_bool(c, "guest_boot_scrub", false);
    g->balloon_vnode = get_bool(c, "guest_balloon_vnode", false);
    g->swap = get_bool(c, "guest_swap", false);
    if (get_mib(c, file, "guest_working_set", &g->working_set_kib, &set) ||
        get_mib(c, file, "guest_cache", &g->cache_kib, &set) ||
        get_mib(c, file, "guest_files", &g->file_kib, &set))
        goto out;
    if (!xlu_cfg_get_string(c, "guest_workload", &s, 1) &&
        xl_workload_kib(s, g->workload, sizeof(g->workload))) {
        bad(file, "guest_workload = \"%s\": not \"SECONDS:SIZE ...\" (SIZE in MiB or with "
            "k, m, g; SECONDS from 0, rising)", s);
        goto out;
    }
    rc = 0;
out:
    xlu_cfg_destroy(c);
    return rc;
}
