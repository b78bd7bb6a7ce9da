/*
 * The guests of a host (guest_host.h): one guest_os per unpaused domain,
 * its options from its xenstore home, stopped at the domain's death.
 */
#include <stdlib.h>
#include <string.h>

#include "memvisor/domain.h"
#include "memvisor/guest_host.h"
#include "memvisor/p2m.h"

struct guest_slot {
    struct guest_os *g;
    domid_t domid;
    bool dead;
};

struct guest_host {
    struct hv *hv;
    struct store *store;
    struct mv_logger log;
    struct mv_lock mu;   /* rank GUEST_HOST: what follows */
    struct mv_cond cv;   /* a death, or stop: for the reaper */
    bool stop;
    struct guest_slot slot[DOMID_FIRST_RESERVED];
    unsigned nr;  /* slots in use, [0, nr) */
    struct mv_clock_thread *reaper;
};

struct vnuma {
    unsigned nr_vnodes, nr_ranges;
    struct domain_vmemrange range[ARRAY_SIZE(((struct domain *)0)->vmemrange)];
};

/* The vnode whose vmemrange holds gfn, and where that range ends (the
 * whole space is vnode 0 without vNUMA). */
static unsigned vnode_of(const struct vnuma *v, uint64_t gfn, uint64_t *range_end)
{
    *range_end = UINT64_MAX;
    for (unsigned i = 0; i < v->nr_ranges; i++) {
        const struct domain_vmemrange *r = &v->range[i];

        if (gfn >= r->start >> PAGE_SHIFT && gfn < r->end >> PAGE_SHIFT) {
            *range_end = r->end >> PAGE_SHIFT;
            return r->vnode;
        }
    }
    return 0;
}

/* The RAM and PoD ranges of d's p2m in ascending order, split where its
 * vNUMA nodes (v) meet. */
static unsigned memory_map(struct domain *d, const struct vnuma *v, struct guest_ram_range *out,
                           unsigned max)
{
    uint64_t end = p2m_max_mapped_gfn(d->p2m) + 1, gfn = 0;
    unsigned n = 0;

    while (gfn < end) {
        struct p2m_entry e;
        uint64_t span, range_end;
        unsigned vnode = vnode_of(v, gfn, &range_end);

        p2m_lookup(d->p2m, _gfn(gfn), &e);
        span = (UINT64_C(1) << e.order) - (gfn & ((UINT64_C(1) << e.order) - 1));
        if (span > range_end - gfn)
            span = range_end - gfn;
        if (span > end - gfn)
            span = end - gfn;
        if (e.type == P2M_RAM_RW || e.type == P2M_POD) {
            if (n && out[n - 1].gfn + out[n - 1].nr_pages == gfn && out[n - 1].vnode == vnode)
                out[n - 1].nr_pages += span;
            else if (n < max)
                out[n++] = (struct guest_ram_range){ gfn, span, vnode };
            else
                return 0; /* too fragmented for a model */
        }
        gfn += span;
    }
    return n;
}

static int option_text(struct store_conn *c, domid_t domid, const char *key, char *buf,
                       size_t cap)
{
    char path[96];
    size_t len;

    snprintf(path, sizeof(path), "/local/domain/%u/memvisor/guest/%s", domid, key);
    if (!c || store_read(c, 0, path, buf, cap - 1, &len))
        return -ENOENT;
    buf[len] = '\0';
    return 0;
}

static uint64_t option(struct store_conn *c, domid_t domid, const char *key, uint64_t dflt)
{
    char buf[32], *end;
    uint64_t v;

    if (option_text(c, domid, key, buf, sizeof(buf)))
        return dflt;
    v = strtoull(buf, &end, 10);
    return end == buf || *end ? dflt : v;
}

int guest_workload_parse(const char *text, struct guest_phase *out, unsigned max)
{
    unsigned n = 0;
    const char *p = text;

    for (;;) {
        char *end;
        unsigned long long at, kib;

        while (*p == ' ')
            p++;
        if (!*p)
            break;
        if (n == max || *p < '0' || *p > '9')
            return -EINVAL;
        at = strtoull(p, &end, 10);
        if (*end != ':' || end[1] < '0' || end[1] > '9')
            return -EINVAL;
        kib = strtoull(end + 1, &end, 10);
        if ((*end && *end != ' ') || (n ? at <= out[n - 1].at_s : at != 0) ||
            kib > (UINT64_C(1) << 40))
            return -EINVAL;
        out[n++] = (struct guest_phase){ at, kib >> 2 };
        p = end;
    }
    return n ? (int)n : -EINVAL;
}

/* The guest's options (guest_host.h); what is missing or bad keeps its
 * default, and a bad workload is logged. */
static void read_options(struct guest_host *gh, domid_t domid, struct guest_os_config *cfg)
{
    char workload[1024];
    struct store_conn *xs;
    int n;

    if (store_conn_open(gh->store, 0, true, NULL, &xs))
        xs = NULL; /* the defaults, then */
    cfg->balloon = option(xs, domid, "balloon", 1);
    cfg->balloon_vnode = option(xs, domid, "balloon-vnode", 0);
    cfg->selfballoon = option(xs, domid, "selfballoon", 0);
    cfg->free_page_reporting = option(xs, domid, "free-page-reporting", 0);
    cfg->deflate_on_oom = option(xs, domid, "deflate-on-oom", 0);
    cfg->boot_scrub = option(xs, domid, "boot-scrub", 0);
    cfg->swap = option(xs, domid, "swap", 0);
    cfg->cache_pages = option(xs, domid, "cache-kib", 0) >> 2;
    cfg->file_pages = option(xs, domid, "file-kib", 0) >> 2;
    cfg->second_ns = option(xs, domid, "second-ns", 0);
    cfg->seed = option(xs, domid, "seed", domid);
    cfg->phases[0].working_set_pages = option(xs, domid, "working-set-kib", 0) >> 2;
    cfg->nr_phases = 1;
    if (option_text(xs, domid, "workload", workload, sizeof(workload)) == 0) {
        n = guest_workload_parse(workload, cfg->phases, GUEST_MAX_PHASES);
        if (n > 0)
            cfg->nr_phases = (unsigned)n;
        else
            mv_log(&gh->log, MV_LOG_WARN, "d%u: bad workload '%s'", domid, workload);
    }
    if (xs)
        store_conn_close(xs);
}

static void on_unpause(void *arg, domid_t domid)
{
    struct guest_host *gh = arg;
    struct guest_os_config cfg;
    struct domain *d = domain_lookup(gh->hv->domains, domid);
    struct guest_os *g = NULL;
    struct vnuma vnuma;
    int rc;

    if (!d)
        return;
    if (!domain_is_translated(d)) {
        /* The model reaches its memory through a p2m, which PV guests do
         * not have here. */
        mv_log(&gh->log, MV_LOG_WARN, "d%u: a PV guest: no guest model (HVM and PVH only)",
               domid);
        domain_put(d);
        return;
    }
    guest_os_config_default(&cfg);
    cfg.hv = gh->hv;
    cfg.store = gh->store;
    cfg.domid = domid;
    cfg.hvm = true;
    lock_acquire(&d->lock);
    vnuma.nr_vnodes = d->nr_vnodes;
    vnuma.nr_ranges = d->nr_vmemranges;
    memcpy(vnuma.range, d->vmemrange, sizeof(vnuma.range));
    lock_release(&d->lock);
    cfg.nr_ram = memory_map(d, &vnuma, cfg.ram, GUEST_MAX_RANGES);
    cfg.nr_vnodes = vnuma.nr_vnodes ? vnuma.nr_vnodes : 1;
    domain_put(d);
    read_options(gh, domid, &cfg);
    lock_acquire(&gh->mu);
    for (unsigned i = 0; i < gh->nr; i++)
        if (gh->slot[i].domid == domid && !gh->slot[i].dead)
            goto out; /* unpaused again: it is running already */
    if (gh->nr == ARRAY_SIZE(gh->slot))
        goto out;
    rc = cfg.nr_ram ? guest_os_start(&cfg, &g) : -EINVAL;
    if (rc) {
        mv_log(&gh->log, MV_LOG_WARN, "d%u: no guest model: %s", domid, mv_strerror(rc));
        goto out;
    }
    gh->slot[gh->nr++] = (struct guest_slot){ g, domid, false };
    mv_log(&gh->log, MV_LOG_INFO, "d%u: guest booted (%u RAM ranges)", domid, cfg.nr_ram);
out:
    lock_release(&gh->mu);
}

static void on_death(void *arg, domid_t domid)
{
    struct guest_host *gh = arg;

    lock_acquire(&gh->mu);
    for (unsigned i = 0; i < gh->nr; i++)
        if (gh->slot[i].domid == domid)
            gh->slot[i].dead = true;
    mv_clock_signal(gh->hv->clock, &gh->cv);
    lock_release(&gh->mu);
    store_domain_gone(gh->store, domid);
}

static void *reaper(void *arg)
{
    struct guest_host *gh = arg;

    lock_acquire(&gh->mu);
    for (;;) {
        for (unsigned i = 0; i < gh->nr;) {
            if (gh->slot[i].dead || gh->stop) {
                struct guest_os *g = gh->slot[i].g;

                gh->slot[i] = gh->slot[--gh->nr];
                lock_release(&gh->mu);
                guest_os_stop(g);
                lock_acquire(&gh->mu);
                i = 0;
                continue;
            }
            i++;
        }
        if (gh->stop)
            break;
        (void)mv_clock_wait(gh->hv->clock, &gh->cv, &gh->mu, MV_CLOCK_NEVER);
    }
    lock_release(&gh->mu);
    return NULL;
}

int guest_host_start(struct hv *hv, struct store *store, const struct mv_logger *log,
                        struct guest_host **out)
{
    struct guest_host *gh = calloc(1, sizeof(*gh));
    int rc;

    if (!gh)
        return -ENOMEM;
    gh->hv = hv;
    gh->store = store;
    gh->log = *log;
    lock_init(&gh->mu, LOCK_RANK_GUEST_HOST, "guest host");
    mv_cond_init(&gh->cv);
    rc = mv_clock_thread_start(hv->clock, &gh->reaper, reaper, gh);
    if (rc) {
        mv_cond_fini(&gh->cv);
        lock_fini(&gh->mu);
        free(gh);
        return rc;
    }
    hv_on_domain_death(hv, on_death, gh);
    hv_on_domain_unpause(hv, on_unpause, gh);
    *out = gh;
    return 0;
}

int guest_host_status(struct guest_host *gh, domid_t domid, struct guest_os_status *out)
{
    int rc = -ENOENT;

    lock_acquire(&gh->mu);
    for (unsigned i = 0; i < gh->nr && rc; i++)
        if (gh->slot[i].domid == domid && !gh->slot[i].dead) {
            guest_os_status(gh->slot[i].g, out);
            rc = 0;
        }
    lock_release(&gh->mu);
    return rc;
}

void guest_host_stop(struct guest_host *gh)
{
    if (!gh)
        return;
    hv_on_domain_unpause(gh->hv, NULL, NULL);
    lock_acquire(&gh->mu);
    gh->stop = true;
    mv_clock_signal(gh->hv->clock, &gh->cv);
    lock_release(&gh->mu);
    mv_clock_thread_join(gh->hv->clock, gh->reaper);
    hv_on_domain_death(gh->hv, NULL, NULL);
    mv_cond_fini(&gh->cv);
    lock_fini(&gh->mu);
    free(gh);
}
