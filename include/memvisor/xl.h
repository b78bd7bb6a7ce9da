/*
 * xl: what libxl does with a domain's memory (specs A13 and B2), so that
 * Debian's real xl and memvisor agree to the KiB.
 *
 *  - xl_layout: the arithmetic of a build from max (M), target (T) and
 *    video (V) memory: PoD iff not PV and T < M; Xen's max_pages T + 1024
 *    KiB; the physmap M - V with the VGA hole and the MMIO hole; PoD
 *    target (T - V)/4 - 0x20 pages; memory/target T - V (- 1024 with PoD);
 *    memory/static-max M.
 *  - xl_create: createdomain, the xenstore directories with libxl's
 *    permissions, max_mem, claim, PoD target, populate, the claim's
 *    release, the memory keys, xenstore's introduction, unpause: in
 *    libxl's order.
 *  - xl_mem_set / xl_mem_max: libxl_set_memory_target and
 *    libxl_domain_setmaxmem, formulas and checks.
 *
 * Errors: -errno, with libxl's message (or a clearer one) in err.
 */
#ifndef MEMVISOR_XL_H
#define MEMVISOR_XL_H

#include <stdio.h>

#include "memvisor/guest_os.h"
#include "memvisor/toolstack.h"

#define XL_MAXMEM_CONSTANT_KIB 1024 /* LIBXL_MAXMEM_CONSTANT */
#define XL_HVM_EXTRA_MEMORY_KIB 2048
#define XL_PV_EXTRA_MEMORY_KIB 1024
#define XL_VGA_HOLE_PAGES 0x20      /* LIBXL_VGA_HOLE_SIZE */
#define XL_MIN_DOM0_KIB (128 * 1024)

enum xl_type { XL_PV = 0, XL_HVM, XL_PVH };

struct xl_vnode {
    uint64_t size_kib;
    unsigned pnode;
};

/* A domain's memory configuration: what xl parses from an xl.cfg. */
struct xl_domain {
    char name[64];
    enum xl_type type;
    uint64_t max_kib;      /* maxmem (M) */
    uint64_t target_kib;   /* memory (T) */
    uint64_t video_kib;    /* V: videoram, or the default of the vga kind */
    bool claim;            /* claim_mode */
    unsigned vcpus;
    unsigned nr_vnodes;    /* 0: no vNUMA */
    struct xl_vnode vnodes[GUEST_MAX_VNODES];
    uint64_t mmio_hole_kib; /* below 4 GiB (default 256 MiB) */
    uint8_t uuid[16];      /* all zero: xl_create makes one */
};

void xl_domain_default(struct xl_domain *cfg);

/* The guest model's options (guest_* keys in an xl.cfg, which xl
 * ignores), as guest_host reads them from memvisor/guest/. */
struct xl_guest {
    bool balloon, balloon_vnode, selfballoon, free_page_reporting, deflate_on_oom;
    bool boot_scrub, swap;
    uint64_t working_set_kib;
    char workload[512];        /* "AT:KIB ..." (guest_host.h), "" for none */
    uint64_t cache_kib, file_kib;
    uint64_t second_ns, seed;  /* 0: the model's defaults */
};

void xl_guest_default(struct xl_guest *g);
/* Writes g under /local/domain/<domid>/memvisor/guest/. */
int xl_guest_options(struct tc_store *xs, domid_t domid, const struct xl_guest *g) MV_MUST_CHECK;

struct xl_layout {
    bool pod;
    uint64_t maxmem_kib;        /* Xen's max_pages, in KiB, at build */
    uint64_t total_pages;       /* (M - V) / 4 */
    uint64_t target_pages;      /* (T - V) / 4 */
    uint64_t vga_hole_pages;
    uint64_t pod_target_pages;  /* with PoD */
    uint64_t claim_pages;       /* with claim_mode */
    uint64_t xs_target_kib, xs_static_max_kib, xs_videoram_kib;
    unsigned nr_ram;            /* the physmap = the guest's e820 RAM */
    struct guest_ram_range ram[GUEST_MAX_RANGES];
    uint64_t need_kib;          /* libxl_domain_need_memory */
};

/* 0, or -EINVAL with err naming what cannot be honoured. */
int xl_layout(const struct xl_domain *cfg, struct xl_layout *out, char *err, size_t errlen)
    MV_MUST_CHECK;

/* Builds the domain and, if unpause, lets it run.  On failure the domain
 * is destroyed and its nodes removed.  userdata_dir: where to write
 * libxl's record of the domain (libxl-json, which Debian's xl mem-set and
 * mem-max read), NULL for none. */
int xl_create(struct tc_handle *t, struct tc_store *xs, const struct xl_domain *cfg,
              bool unpause, const char *userdata_dir, domid_t *domid, char *err,
              size_t errlen) MV_MUST_CHECK;
/* The same, with more to say. */
struct xl_create_opts {
    bool unpause;
    const char *userdata_dir;
    const struct xl_guest *guest; /* the guest model's options (NULL: defaults) */
    /* Called once max_mem is set and before anything is populated, with
     * the pages the build needs: makes room (the memory scheduler) and
     * holds it with a claim on domid, which the build then uses instead
     * of its own claim_mode claim.  0 or -errno with err filled. */
    int (*make_room)(void *arg, struct tc_handle *t, domid_t domid, uint64_t pages, char *err,
                     size_t errlen);
    void *room_arg;
    /* Paces populating (a real build takes its time), in bytes per
     * second of clock (NULL: the real one); 0: flat out. */
    uint64_t pace_bytes_per_sec;
    struct mv_clock *clock;
    /* Out (may be NULL): the pages the build populated, failed or not. */
    uint64_t *populated_pages;
};
int xl_create_with(struct tc_handle *t, struct tc_store *xs, const struct xl_domain *cfg,
                   const struct xl_create_opts *opts, domid_t *domid, char *err,
                   size_t errlen) MV_MUST_CHECK;
/* Destroys the domain and removes its xenstore nodes and libxl record. */
int xl_destroy(struct tc_handle *t, struct tc_store *xs, domid_t domid,
               const char *userdata_dir, char *err, size_t errlen) MV_MUST_CHECK;
/* libxl_set_memory_target(domid, kib, relative, enforce); xl mem-set is
 * relative = false, enforce = true. */
int xl_mem_set(struct tc_handle *t, struct tc_store *xs, domid_t domid, int64_t kib,
               bool relative, bool enforce, char *err, size_t errlen) MV_MUST_CHECK;
/* libxl_domain_setmaxmem. */
int xl_mem_max(struct tc_handle *t, struct tc_store *xs, domid_t domid, uint64_t kib,
               char *err, size_t errlen) MV_MUST_CHECK;
/* The per-vnode balloon interface (guest_os.h): once the guest has
 * written control/feature-balloon-vnode, sets each vnode's balloon size
 * (memory/vnode<n>/target-balloon-size, KiB) and removes memory/target.
 * -EOPNOTSUPP if the guest has not offered the interface. */
int xl_vnode_balloon(struct tc_store *xs, domid_t domid, const uint64_t *balloon_kib,
                     unsigned nr_vnodes, char *err, size_t errlen) MV_MUST_CHECK;
/* xl's views, in xl's layout (xl_views.c), to out; 0 or -errno.  Domain
 * names come from xs (NULL: none). */
int xl_print_list(struct tc_handle *t, struct tc_store *xs, FILE *out);
int xl_print_claims(struct tc_handle *t, struct tc_store *xs, FILE *out);
int xl_print_info(struct tc_handle *t, FILE *out);
/* domid: MV_TMEM_OP_ALL_CLIENTS for all (xl tmem-list -a). */
int xl_print_tmem_list(struct tc_handle *t, domid_t domid, bool long_format, FILE *out);
/* One frame of `top`: the host's memory, then a line per domain. */
int xl_print_top(struct tc_handle *t, struct tc_store *xs, FILE *out);

/* /local/domain/<domid>/memory/<key>, a number of KiB: 0 or -errno
 * (-EINVAL when it is not a number). */
int xl_memory_kib(struct tc_store *xs, uint32_t tx, domid_t domid, const char *key,
                  uint64_t *kib) MV_MUST_CHECK;
/* The domain in list (n entries, as tc_domain_list gives them) whose
 * /local/domain/<id>/name is name, live_only: not a dying one.  0 with its
 * id in *domid, or -ENOENT. */
int xl_domain_named(struct tc_store *xs, const struct tc_dominfo *list, long n,
                    const char *name, bool live_only, domid_t *domid) MV_MUST_CHECK;
/* Pages tmem holds, from XEN_SYSCTL_tmem_op LIST's long text: one
 * client's (its "P=" lines) or, for domid -1, the host's ("G=" line). */
uint64_t xl_tmem_list_pages(const char *list, int domid);

/* xl's parse_mem_size_kb: a size with b, k, m (the default), g or t. */
int xl_parse_kib(const char *text, int64_t *kib) MV_MUST_CHECK;
/* "xxxxxxxx-xxxx-..." */
void xl_uuid_string(const uint8_t uuid[16], char out[37]);

#endif
