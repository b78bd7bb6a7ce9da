/*
 * libxl's memory arithmetic and build order (specs A13, B1, B2): see
 * memvisor/xl.h.  Each message is libxl's where it has one, so a user of
 * xl meets the same words.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <xen/xen.h>
#include <xen/memory.h>

#include "memvisor/xl.h"
#include "toolstack_internal.h"

#define KIB_PER_PAGE 4
#define PAGES_4G (UINT64_C(1) << 20)
#define VGA_HOLE_START 0xA0

int ts_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    va_list ap;

    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

void xl_domain_default(struct xl_domain *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->type = XL_HVM;
    cfg->vcpus = 1;
    cfg->mmio_hole_kib = 256 * 1024;
}

void xl_uuid_string(const uint8_t u[16], char out[37])
{
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
             u[13], u[14], u[15]);
}

/* Appends RAM [gfn, gfn + n) of vnode v, leaving out the VGA hole. */
static int add_ram(struct xl_layout *l, uint64_t gfn, uint64_t n, unsigned v)
{
    uint64_t end = gfn + n;

    if (l->vga_hole_pages && gfn < VGA_HOLE_START + l->vga_hole_pages && end > VGA_HOLE_START) {
        int rc = gfn < VGA_HOLE_START ? add_ram(l, gfn, VGA_HOLE_START - gfn, v) : 0;

        gfn = VGA_HOLE_START + l->vga_hole_pages;
        if (rc || end <= gfn)
            return rc;
        n = end - gfn;
    }
    if (l->nr_ram == GUEST_MAX_RANGES)
        return -E2BIG;
    l->ram[l->nr_ram++] = (struct guest_ram_range){ gfn, n, v };
    return 0;
}

int xl_layout(const struct xl_domain *cfg, struct xl_layout *l, char *err, size_t errlen)
{
    uint64_t m = cfg->max_kib, t = cfg->target_kib, v = cfg->type == XL_HVM ? cfg->video_kib : 0;
    uint64_t lowmem, cursor = 0, vnode_pages[GUEST_MAX_VNODES];
    unsigned nr_vnodes = cfg->nr_vnodes ? cfg->nr_vnodes : 1;

    memset(l, 0, sizeof(*l));
    if (!t || !m)
        return ts_fail(err, errlen, -EINVAL, "memory and maxmem must be set");
    if (t > m)
        return ts_fail(err, errlen, -EINVAL,
                       "memory (%llu MiB) is larger than maxmem (%llu MiB)",
                       (unsigned long long)t >> 10, (unsigned long long)m >> 10);
    if (t % KIB_PER_PAGE || m % KIB_PER_PAGE || v % KIB_PER_PAGE)
        return ts_fail(err, errlen, -EINVAL, "memory sizes must be multiples of 4 KiB");
    if (v >= t)
        return ts_fail(err, errlen, -EINVAL, "videoram (%llu MiB) must be less than memory",
                       (unsigned long long)v >> 10);
    if (m > (UINT64_C(1) << 42))
        return ts_fail(err, errlen, -EINVAL, "maxmem of %llu MiB is beyond what memvisor models",
                       (unsigned long long)m >> 10);
    if (cfg->nr_vnodes > GUEST_MAX_VNODES)
        return ts_fail(err, errlen, -EINVAL, "vnuma: at most %u vnodes", GUEST_MAX_VNODES);
    l->pod = cfg->type != XL_PV && t < m;
    if (l->pod && cfg->nr_vnodes)
        return ts_fail(err, errlen, -EINVAL, "Cannot enable PoD and vNUMA at the same time");
    l->maxmem_kib = t + XL_MAXMEM_CONSTANT_KIB;
    l->total_pages = (m - v) / KIB_PER_PAGE;
    l->target_pages = (t - v) / KIB_PER_PAGE;
    l->vga_hole_pages = cfg->type == XL_HVM ? XL_VGA_HOLE_PAGES : 0;
    l->pod_target_pages = l->pod ? l->target_pages - l->vga_hole_pages : 0;
    l->claim_pages = cfg->claim ? (cfg->type == XL_PV ? t / KIB_PER_PAGE
                                                     : l->target_pages - l->vga_hole_pages)
                                : 0;
    l->xs_static_max_kib = m;
    l->xs_target_kib = t - v - (cfg->type == XL_HVM && m > t ? XL_MAXMEM_CONSTANT_KIB : 0);
    l->xs_videoram_kib = v;
    /* libxl_domain_need_memory: target, shadow (4 KiB x (256 per vCPU + 2
     * per MiB)), the type's extra; rounded up to 2 MiB. */
    l->need_kib = t + 4 * (256 * (uint64_t)cfg->vcpus + 2 * (m >> 10)) +
                  (cfg->type == XL_PV ? XL_PV_EXTRA_MEMORY_KIB : XL_HVM_EXTRA_MEMORY_KIB);
    l->need_kib = (l->need_kib + 2047) & ~UINT64_C(2047);

    if (cfg->nr_vnodes) {
        uint64_t sum = 0;

        for (unsigned n = 0; n < cfg->nr_vnodes; n++) {
            if (cfg->vnodes[n].size_kib % KIB_PER_PAGE || !cfg->vnodes[n].size_kib)
                return ts_fail(err, errlen, -EINVAL, "vnuma: vnode %u has no memory", n);
            sum += cfg->vnodes[n].size_kib;
            vnode_pages[n] = cfg->vnodes[n].size_kib / KIB_PER_PAGE;
        }
        if (sum != m)
            return ts_fail(err, errlen, -EINVAL,
                           "Amount of memory mismatch (vnuma: %llu MiB, maxmem: %llu MiB)",
                           (unsigned long long)sum >> 10, (unsigned long long)m >> 10);
        /* Video RAM belongs to vnode 0 (libxl__vnuma_build_vmemrange_hvm). */
        if (vnode_pages[0] <= v / KIB_PER_PAGE + l->vga_hole_pages)
            return ts_fail(err, errlen, -EINVAL, "vnuma: vnode 0 is smaller than videoram");
        vnode_pages[0] -= v / KIB_PER_PAGE;
    } else {
        vnode_pages[0] = l->total_pages;
    }
    if (cfg->type == XL_PV) {
        l->ram[0] = (struct guest_ram_range){ 0, l->total_pages, 0 };
        l->nr_ram = 1;
        return 0;
    }
    if (cfg->mmio_hole_kib >= 4 * 1024 * 1024 || cfg->mmio_hole_kib % KIB_PER_PAGE)
        return ts_fail(err, errlen, -EINVAL, "mmio_hole must be below 4 GiB, in 4 KiB pages");
    lowmem = PAGES_4G - cfg->mmio_hole_kib / KIB_PER_PAGE;
    for (unsigned n = 0; n < nr_vnodes; n++) {
        for (uint64_t left = vnode_pages[n]; left;) {
            uint64_t take;

            if (cursor == lowmem)
                cursor = PAGES_4G;
            take = cursor < lowmem ? min_u64(left, lowmem - cursor) : left;
            if (add_ram(l, cursor, take, n))
                return ts_fail(err, errlen, -EINVAL, "vnuma: too many memory ranges");
            cursor += take;
            left -= take;
        }
    }
    return 0;
}

/*
 * Creation.
 */

/* libxl__domain_make's directories and permissions (specs B1). */
static int make_nodes(struct tc_store *xs, const struct xl_domain *cfg, domid_t domid,
                      const char *uuid)
{
    static const char *const ro_dirs[] = { "", "/memory", "/control", "/cpu", "/device" };
    static const char *const rw_keys[] = { "/control/shutdown",
                                           "/control/feature-poweroff",
                                           "/control/feature-reboot",
                                           "/control/feature-suspend",
                                           "/control/sysrq",
                                           "/control/feature-balloon",
                                           "/control/feature-balloon-vnode",
                                           "/data",
                                           "/drivers",
                                           "/feature",
                                           "/attr",
                                           "/error" };
    char dom[48], path[128], ro[32], rw[16], vm[64];
    int rc = 0;

    snprintf(dom, sizeof(dom), "/local/domain/%u", domid);
    snprintf(ro, sizeof(ro), "n0 r%u", domid);
    snprintf(rw, sizeof(rw), "n%u", domid);
    snprintf(vm, sizeof(vm), "/vm/%s", uuid);
    for (unsigned i = 0; i < ARRAY_SIZE(ro_dirs) && !rc; i++) {
        snprintf(path, sizeof(path), "%s%s", dom, ro_dirs[i]);
        rc = tc_xs_mkdir(xs, 0, path) ?: tc_xs_set_perms(xs, 0, path, ro);
    }
    /* feature-balloon{,-vnode}: libxl does not make them, so a guest agent
     * cannot write the first (EACCES, xen-devel 2023); memvisor does. */
    for (unsigned i = 0; i < ARRAY_SIZE(rw_keys) && !rc; i++) {
        snprintf(path, sizeof(path), "%s%s", dom, rw_keys[i]);
        rc = tc_xs_write(xs, 0, path, "") ?: tc_xs_set_perms(xs, 0, path, rw);
    }
    if (!rc) {
        snprintf(path, sizeof(path), "%s/name", dom);
        rc = tc_xs_write(xs, 0, path, cfg->name);
    }
    if (!rc) {
        snprintf(path, sizeof(path), "%s/domid", dom);
        rc = tc_xs_printf(xs, 0, path, "%u", domid);
    }
    if (!rc) {
        snprintf(path, sizeof(path), "%s/vm", dom);
        rc = tc_xs_write(xs, 0, path, vm);
    }
    if (!rc) {
        snprintf(path, sizeof(path), "%s/name", vm);
        rc = tc_xs_write(xs, 0, path, cfg->name);
    }
    if (!rc) {
        snprintf(path, sizeof(path), "%s/uuid", vm);
        rc = tc_xs_write(xs, 0, path, uuid);
    }
    return rc;
}

/* The memory keys of libxl__build_post. */
static int write_memory_keys(struct tc_store *xs, const struct xl_domain *cfg, domid_t domid,
                             const struct xl_layout *l)
{
    char path[96];
    int rc;

    snprintf(path, sizeof(path), "/local/domain/%u/memory/static-max", domid);
    rc = tc_xs_printf(xs, 0, path, "%llu", (unsigned long long)l->xs_static_max_kib);
    snprintf(path, sizeof(path), "/local/domain/%u/memory/target", domid);
    rc = rc ?: tc_xs_printf(xs, 0, path, "%llu", (unsigned long long)l->xs_target_kib);
    if (cfg->type == XL_HVM) {
        snprintf(path, sizeof(path), "/local/domain/%u/memory/videoram", domid);
        rc = rc ?: tc_xs_printf(xs, 0, path, "%llu", (unsigned long long)l->xs_videoram_kib);
    }
    return rc;
}

static int write_userdata(const char *dir, const struct xl_domain *cfg, domid_t domid,
                          const char *uuid)
{
    static const char *const types[] = { "pv", "hvm", "pvh" };
    char path[512], tmp[520];
    FILE *f;

    snprintf(path, sizeof(path), "%s/userdata-d.%u.%s.libxl-json", dir, domid, uuid);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "w");
    if (!f)
        return -errno;
    fprintf(f,
            "{\n    \"c_info\": {\n        \"type\": \"%s\",\n        \"name\": \"%s\",\n"
            "        \"uuid\": \"%s\"\n    },\n    \"b_info\": {\n"
            "        \"max_vcpus\": %u,\n        \"max_memkb\": %llu,\n"
            "        \"target_memkb\": %llu,\n        \"video_memkb\": %llu,\n"
            "        \"claim_mode\": \"%s\",\n        \"type.%s\": {\n        }\n    }\n}\n",
            types[cfg->type], cfg->name, uuid, cfg->vcpus, (unsigned long long)cfg->max_kib,
            (unsigned long long)cfg->target_kib,
            (unsigned long long)(cfg->type == XL_HVM ? cfg->video_kib : 0),
            cfg->claim ? "True" : "False", types[cfg->type]);
    if (fclose(f) || rename(tmp, path)) {
        int rc = -errno;

        unlink(tmp);
        return rc;
    }
    return 0;
}

static void remove_userdata(const char *dir, domid_t domid, const char *uuid)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/userdata-d.%u.%s.libxl-json", dir, domid, uuid);
    unlink(path);
    snprintf(path, sizeof(path), "%s/userdata-l.%u.%s.domain-userdata-lock", dir, domid, uuid);
    unlink(path);
}

/* Best effort, as libxl's: a node already gone is no failure. */
static void remove_nodes(struct tc_store *xs, domid_t domid, const char *uuid)
{
    char dom[64], vm[64];

    snprintf(dom, sizeof(dom), "/local/domain/%u", domid);
    snprintf(vm, sizeof(vm), "/vm/%s", uuid);
    (void)!tc_xs_rm(xs, 0, dom);
    (void)!tc_xs_rm(xs, 0, vm);
}

static int build(struct tc_handle *t, struct tc_store *xs, const struct xl_domain *cfg,
                 const struct xl_layout *l, const struct xl_create_opts *o, domid_t domid,
                 char *err, size_t errlen)
{
    struct ts_pace pace;
    bool claimed = l->claim_pages != 0;
    int rc = tc_domain_setmaxmem(t, domid, l->maxmem_kib);

    ts_pace_start(&pace, o->clock, o->pace_bytes_per_sec);
    if (rc)
        return ts_fail(err, errlen, rc, "xc_domain_setmaxmem failed: %s", mv_strerror(rc));
    if (o->make_room) {
        /* The room holds a claim on the domain: the build's own would be
         * refused (one claim at a time), and is not needed. */
        rc = o->make_room(o->room_arg, t, domid,
                          min_u64(l->need_kib, l->maxmem_kib) / KIB_PER_PAGE, err, errlen);
        if (rc)
            return rc;
        claimed = true;
    } else if (l->claim_pages) {
        rc = tc_domain_claim_pages(t, domid, l->claim_pages);
        if (rc)
            return ts_fail(err, errlen, rc,
                           "Could not allocate memory for HVM guest as we cannot claim memory! "
                           "(%llu pages: %s)", (unsigned long long)l->claim_pages,
                           mv_strerror(rc));
    }
    if (cfg->nr_vnodes) {
        unsigned to_pnode[GUEST_MAX_VNODES];
        uint64_t end[GUEST_MAX_VNODES] = { 0 };

        for (unsigned n = 0; n < cfg->nr_vnodes; n++)
            to_pnode[n] = cfg->vnodes[n].pnode;
        for (unsigned r = 0; r < l->nr_ram; r++)
            end[l->ram[r].vnode] = l->ram[r].gfn + l->ram[r].nr_pages;
        rc = tc_domain_setvnuma(t, domid, cfg->nr_vnodes, to_pnode, end, cfg->vcpus);
        if (rc)
            return ts_fail(err, errlen, rc, "Failed to set vnuma info for guest: %s",
                           mv_strerror(rc));
    }
    /* Before any populate: Xen rejects PoD entries beyond the target. */
    if (l->pod) {
        rc = tc_domain_set_pod_target(t, domid, l->pod_target_pages);
        if (rc)
            return ts_fail(err, errlen, rc, "Could not set PoD target for HVM guest: %s",
                           mv_strerror(rc));
    }
    for (unsigned r = 0; r < l->nr_ram; r++) {
        const struct guest_ram_range *x = &l->ram[r];
        uint64_t n = x->nr_pages;
        unsigned flags = l->pod ? XENMEMF_populate_on_demand : 0;

        if (cfg->nr_vnodes)
            flags |= XENMEMF_exact_node(cfg->vnodes[x->vnode].pnode);
        if (cfg->type == XL_PV)
            n = min_u64(n, cfg->target_kib / KIB_PER_PAGE);
        rc = ts_populate(t, domid, x->gfn, n, flags, NULL, &pace);
        if (o->populated_pages)
            *o->populated_pages = pace.bytes >> PAGE_SHIFT;
        if (rc)
            return ts_fail(err, errlen, rc,
                           "Could not allocate memory for the guest (gfns %#llx-%#llx%s)",
                           (unsigned long long)x->gfn, (unsigned long long)(x->gfn + n - 1),
                           cfg->nr_vnodes ? " on its vnode's node" : "");
    }
    if (claimed && (rc = tc_domain_claim_pages(t, domid, 0)))
        return ts_fail(err, errlen, rc, "cannot release the claim: %s", mv_strerror(rc));
    rc = write_memory_keys(xs, cfg, domid, l) ?: tc_xs_introduce(xs, domid);
    return rc ? ts_fail(err, errlen, rc, "xenstore: %s", mv_strerror(rc)) : 0;
}

int xl_create(struct tc_handle *t, struct tc_store *xs, const struct xl_domain *cfg, bool unpause,
              const char *userdata_dir, domid_t *domid, char *err, size_t errlen)
{
    const struct xl_create_opts o = { .unpause = unpause, .userdata_dir = userdata_dir };

    return xl_create_with(t, xs, cfg, &o, domid, err, errlen);
}

int xl_create_with(struct tc_handle *t, struct tc_store *xs, const struct xl_domain *cfg,
                   const struct xl_create_opts *o, domid_t *domid, char *err, size_t errlen)
{
    const char *userdata_dir = o->userdata_dir;
    struct xl_layout l;
    struct tc_physinfo pi;
    uint8_t uuid[16];
    char uuid_s[37];
    int rc = xl_layout(cfg, &l, err, errlen);

    if (rc)
        return rc;
    if (!cfg->name[0] || strchr(cfg->name, '/'))
        return ts_fail(err, errlen, -EINVAL, "the domain needs a name (without '/')");
    rc = tc_physinfo(t, &pi);
    if (rc)
        return ts_fail(err, errlen, rc, "physinfo: %s", mv_strerror(rc));
    for (unsigned n = 0; n < cfg->nr_vnodes; n++)
        if (cfg->vnodes[n].pnode >= pi.nr_nodes)
            return ts_fail(err, errlen, -EINVAL, "vnuma: vnode %u is on pnode %u; the host has %u",
                           n, cfg->vnodes[n].pnode, pi.nr_nodes);
    memcpy(uuid, cfg->uuid, sizeof(uuid));
    if (!memcmp(uuid, (uint8_t[16]){ 0 }, 16)) {
        if (getrandom(uuid, sizeof(uuid), 0) != sizeof(uuid))
            return ts_fail(err, errlen, -EIO, "no randomness for a UUID");
        uuid[6] = (uint8_t)((uuid[6] & 0x0F) | 0x40); /* version 4 */
        uuid[8] = (uint8_t)((uuid[8] & 0x3F) | 0x80);
    }
    xl_uuid_string(uuid, uuid_s);
    *domid = DOMID_ANY;
    rc = tc_domain_create_uuid(t, domid, cfg->type != XL_PV, cfg->vcpus, uuid);
    if (rc)
        return ts_fail(err, errlen, rc, "domain creation fail: %s", mv_strerror(rc));
    rc = make_nodes(xs, cfg, *domid, uuid_s);
    if (rc)
        ts_fail(err, errlen, rc, "xenstore: %s", mv_strerror(rc));
    else
        rc = build(t, xs, cfg, &l, o, *domid, err, errlen);
    if (!rc && userdata_dir && (rc = write_userdata(userdata_dir, cfg, *domid, uuid_s)))
        ts_fail(err, errlen, rc, "cannot write libxl's record in %s: %s", userdata_dir,
                mv_strerror(rc));
    if (!rc && o->guest && (rc = xl_guest_options(xs, *domid, o->guest)))
        ts_fail(err, errlen, rc, "xenstore: %s", mv_strerror(rc));
    if (!rc && o->unpause && (rc = tc_domain_pause(t, *domid, false)))
        ts_fail(err, errlen, rc, "unpause: %s", mv_strerror(rc));
    if (rc) {
        if (tc_domain_destroy(t, *domid) == 0)
            remove_nodes(xs, *domid, uuid_s);
        if (userdata_dir)
            remove_userdata(userdata_dir, *domid, uuid_s);
    }
    return rc;
}

int xl_destroy(struct tc_handle *t, struct tc_store *xs, domid_t domid, const char *userdata_dir,
               char *err, size_t errlen)
{
    struct tc_dominfo info;
    char uuid_s[37];
    int rc = domid == 0 ? -EINVAL : tc_domain_getinfo(t, domid, &info);

    if (rc)
        return ts_fail(err, errlen, rc, domid ? "no domain %u" : "cannot destroy domain %u",
                       domid);
    xl_uuid_string(info.uuid, uuid_s);
    rc = tc_domain_destroy(t, domid);
    if (rc)
        return ts_fail(err, errlen, rc, "destroy d%u: %s", domid, mv_strerror(rc));
    remove_nodes(xs, domid, uuid_s);
    if (userdata_dir)
        remove_userdata(userdata_dir, domid, uuid_s);
    return 0;
}

/*
 * mem-set and mem-max.
 */

int xl_memory_kib(struct tc_store *xs, uint32_t tx, domid_t domid, const char *key,
                  uint64_t *out)
{
    char path[96], buf[32], *end;
    int rc;

    snprintf(path, sizeof(path), "/local/domain/%u/memory/%s", domid, key);
    rc = tc_xs_read(xs, tx, path, buf, sizeof(buf));
    if (rc)
        return rc;
    *out = strtoull(buf, &end, 10);
    return end == buf || *end ? -EINVAL : 0;
}

static int write_kib(struct tc_store *xs, uint32_t tx, domid_t domid, const char *key,
                     uint64_t kib)
{
    char path[96];

    snprintf(path, sizeof(path), "/local/domain/%u/memory/%s", domid, key);
    return tc_xs_printf(xs, tx, path, "%llu", (unsigned long long)kib);
}

static int mem_set_once(struct tc_handle *t, struct tc_store *xs, uint32_t tx, domid_t domid,
                        int64_t kib, bool relative, bool enforce, char *err, size_t errlen)
{
    uint64_t current, static_max, videoram = 0, new_target;
    struct tc_dominfo info;
    char uuid_s[37], path[96];
    int rc = tc_domain_getinfo(t, domid, &info);

    if (rc)
        return ts_fail(err, errlen, rc, "cannot get domain info for domain %u", domid);
    rc = xl_memory_kib(xs, tx, domid, "target", &current);
    if (rc == -ENOENT && domid == 0) {
        /* libxl__fill_dom0_memory_info */
        current = info.tot_pages * KIB_PER_PAGE;
        rc = write_kib(xs, tx, 0, "target", current) ?:
             write_kib(xs, tx, 0, "static-max", info.max_pages * KIB_PER_PAGE);
    }
    if (rc)
        return ts_fail(err, errlen, rc,
                       "cannot get target memory info from /local/domain/%u/memory/target", domid);
    rc = xl_memory_kib(xs, tx, domid, "static-max", &static_max);
    if (rc)
        return ts_fail(err, errlen, rc,
                       "cannot get memory info from /local/domain/%u/memory/static-max", domid);
    if (xl_memory_kib(xs, tx, domid, "videoram", &videoram))
        videoram = 0;
    if (relative)
        new_target = kib < 0 && (uint64_t)-kib > current ? 0 : current + (uint64_t)kib;
    else if (kib < 0 || (uint64_t)kib < videoram)
        return ts_fail(err, errlen, -EINVAL, "new target %lld KiB is below videoram",
                       (long long)kib);
    else
        new_target = (uint64_t)kib - videoram;
    if (new_target > static_max)
        return ts_fail(err, errlen, -EINVAL,
                       "memory_dynamic_max must be less than or equal to memory_static_max");
    if (domid == 0 && new_target < XL_MIN_DOM0_KIB)
        return ts_fail(err, errlen, -EINVAL,
                       "new target %llu for dom0 is below the minimum threshold",
                       (unsigned long long)new_target);
    if (enforce) {
        /* Before the PoD target: Xen rejects a target above max_pages. */
        uint64_t memkb = new_target + videoram + XL_MAXMEM_CONSTANT_KIB;

        rc = tc_domain_setmaxmem(t, domid, memkb);
        if (rc)
            return ts_fail(err, errlen, rc, "xc_domain_setmaxmem domid=%u memkb=%llu failed rc=%d",
                           domid, (unsigned long long)memkb, rc);
    }
    if (info.hvm) {
        uint64_t pages = (new_target + XL_MAXMEM_CONSTANT_KIB) / KIB_PER_PAGE;

        rc = tc_domain_set_pod_target(t, domid, pages);
        if (rc)
            return ts_fail(err, errlen, rc,
                           "xc_domain_set_pod_target domid=%u, memkb=%llu failed rc=%d", domid,
                           (unsigned long long)(pages * KIB_PER_PAGE), rc);
    }
    rc = write_kib(xs, tx, domid, "target", new_target);
    xl_uuid_string(info.uuid, uuid_s);
    snprintf(path, sizeof(path), "/vm/%s/memory", uuid_s);
    rc = rc ?: tc_xs_printf(xs, tx, path, "%llu", (unsigned long long)new_target / 1024);
    return rc ? ts_fail(err, errlen, rc, "xenstore: %s", mv_strerror(rc)) : 0;
}

int xl_mem_set(struct tc_handle *t, struct tc_store *xs, domid_t domid, int64_t kib,
               bool relative, bool enforce, char *err, size_t errlen)
{
    for (;;) { /* libxl's transaction, retried on EAGAIN */
        uint32_t tx;
        int rc = tc_xs_transaction_start(xs, &tx);

        if (rc)
            return ts_fail(err, errlen, rc, "xenstore transaction: %s", mv_strerror(rc));
        rc = mem_set_once(t, xs, tx, domid, kib, relative, enforce, err, errlen);
        if (rc) {
            (void)!tc_xs_transaction_end(xs, tx, false);
            return rc;
        }
        rc = tc_xs_transaction_end(xs, tx, true);
        if (rc != -EAGAIN)
            return rc ? ts_fail(err, errlen, rc, "xenstore transaction: %s", mv_strerror(rc)) : 0;
    }
}

int xl_mem_max(struct tc_handle *t, struct tc_store *xs, domid_t domid, uint64_t kib, char *err,
               size_t errlen)
{
    uint64_t target;
    int rc = xl_memory_kib(xs, 0, domid, "target", &target);

    if (rc)
        return ts_fail(err, errlen, rc,
                       "cannot get memory info from /local/domain/%u/memory/target", domid);
    if (kib < target)
        return ts_fail(err, errlen, -EINVAL,
                       "memory_static_max must be greater than or or equal to "
                       "memory_dynamic_max");
    rc = tc_domain_setmaxmem(t, domid, kib + XL_MAXMEM_CONSTANT_KIB);
    if (rc)
        return ts_fail(err, errlen, rc, "xc_domain_setmaxmem domid=%u memkb=%llu failed rc=%d",
                       domid, (unsigned long long)(kib + XL_MAXMEM_CONSTANT_KIB), rc);
    rc = write_kib(xs, 0, domid, "static-max", kib);
    return rc ? ts_fail(err, errlen, rc, "xenstore: %s", mv_strerror(rc)) : 0;
}

void xl_guest_default(struct xl_guest *g)
{
    memset(g, 0, sizeof(*g));
    g->balloon = true;
}

int xl_guest_options(struct tc_store *xs, domid_t domid, const struct xl_guest *g)
{
    static const char *const keys[] = { "balloon", "balloon-vnode", "selfballoon",
                                        "free-page-reporting", "deflate-on-oom", "boot-scrub",
                                        "swap", "working-set-kib", "cache-kib", "file-kib",
                                        "second-ns", "seed" };
    const uint64_t values[] = { g->balloon, g->balloon_vnode, g->selfballoon,
                                g->free_page_reporting, g->deflate_on_oom, g->boot_scrub,
                                g->swap, g->working_set_kib, g->cache_kib, g->file_kib,
                                g->second_ns, g->seed };
    char path[96];
    int rc = 0;

    _Static_assert(ARRAY_SIZE(keys) == ARRAY_SIZE(values), "a value per key");
    for (unsigned i = 0; i < ARRAY_SIZE(keys) && !rc; i++) {
        if ((i >= ARRAY_SIZE(keys) - 2) && !values[i])
            continue; /* the model's defaults */
        snprintf(path, sizeof(path), "/local/domain/%u/memvisor/guest/%s", domid, keys[i]);
        rc = tc_xs_printf(xs, 0, path, "%llu", (unsigned long long)values[i]);
    }
    if (!rc && g->workload[0]) {
        snprintf(path, sizeof(path), "/local/domain/%u/memvisor/guest/workload", domid);
        rc = tc_xs_write(xs, 0, path, g->workload);
    }
    return rc;
}

int xl_vnode_balloon(struct tc_store *xs, domid_t domid, const uint64_t *balloon_kib,
                     unsigned nr_vnodes, char *err, size_t errlen)
{
    char path[96], buf[8];
    uint32_t tx;
    int rc;

    snprintf(path, sizeof(path), "/local/domain/%u/control/feature-balloon-vnode", domid);
    if (tc_xs_read(xs, 0, path, buf, sizeof(buf)) || strcmp(buf, "1"))
        return ts_fail(err, errlen, -EOPNOTSUPP,
                       "domain %u does not offer per-vnode ballooning", domid);
    do { /* one transaction: the guest sees the switch at once */
        rc = tc_xs_transaction_start(xs, &tx);
        for (unsigned n = 0; n < nr_vnodes && !rc; n++) {
            snprintf(path, sizeof(path), "/local/domain/%u/memory/vnode%u/target-balloon-size",
                     domid, n);
            rc = tc_xs_printf(xs, tx, path, "%llu", (unsigned long long)balloon_kib[n]);
        }
        snprintf(path, sizeof(path), "/local/domain/%u/memory/target", domid);
        if (!rc && (rc = tc_xs_rm(xs, tx, path)) == -ENOENT)
            rc = 0;
        if (rc) {
            (void)!tc_xs_transaction_end(xs, tx, false);
            return ts_fail(err, errlen, rc, "xenstore: %s", mv_strerror(rc));
        }
        rc = tc_xs_transaction_end(xs, tx, true);
    } while (rc == -EAGAIN);
    return rc ? ts_fail(err, errlen, rc, "xenstore transaction: %s", mv_strerror(rc)) : 0;
}

int xl_parse_kib(const char *text, int64_t *kib)
{
    char *end;
    long long v = strtoll(text, &end, 10);

    if (end == text || strlen(end) > 1 || v < 0 || v > (1LL << 40))
        return -EINVAL;
    switch (tolower((unsigned char)*end)) {
    case 't': v <<= 10; /* fall through */
    case 'g': v <<= 10; /* fall through */
    case '\0':
    case 'm': v <<= 10; /* fall through */
    case 'k': break;
    case 'b': v >>= 10; break;
    default: return -EINVAL;
    }
    *kib = v;
    return 0;
}
