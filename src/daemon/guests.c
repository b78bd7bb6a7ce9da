/*
 * Guests in memvisord: when the toolstack first unpauses a domain, its
 * guest kernel model boots as a thread here, with an unprivileged
 * hypercall session and an unprivileged xenstore connection as its domid.
 * It sees the memory map the builder gave it (its p2m's RAM and PoD
 * ranges, as firmware would report them) and reads its options from
 * memvisor/guest/ in its xenstore home (written by `memvisor create`):
 * balloon, selfballoon, free-page-reporting, deflate-on-oom, boot-scrub
 * (0/1) and working-set-kib.  A domain's death stops its guest; a reaper
 * thread joins it (the death may come from the guest's own thread, when
 * the hypervisor crashes it).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "memvisor/guest_os.h"
#include "memvisor/p2m.h"

struct guest_slot {
    struct guest_os *g;
    domid_t domid;
    bool dead;
};

struct daemon_guests {
    struct hv *hv;
    struct store *store;
    struct mv_logger log;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    struct guest_slot slot[DOMID_FIRST_RESERVED];
    unsigned nr;  /* slots in use, [0, nr) */
    pthread_t reaper;
};

/* The RAM and PoD ranges of d's p2m, in ascending order. */
static unsigned memory_map(struct domain *d, struct guest_ram_range *out, unsigned max)
{
    uint64_t end = p2m_max_mapped_gfn(d->p2m) + 1, gfn = 0;
    unsigned n = 0;

    while (gfn < end && n < max) {
        struct p2m_entry e;
        uint64_t span;

        p2m_lookup(d->p2m, _gfn(gfn), &e);
        span = (UINT64_C(1) << e.order) - (gfn & ((UINT64_C(1) << e.order) - 1));
        if (e.type == P2M_RAM_RW || e.type == P2M_POD) {
            if (n && out[n - 1].gfn + out[n - 1].nr_pages == gfn)
                out[n - 1].nr_pages += span;
            else
                out[n++] = (struct guest_ram_range){ gfn, span, 0 };
        }
        gfn += span;
    }
    if (n && out[n - 1].gfn + out[n - 1].nr_pages > end)
        out[n - 1].nr_pages = end - out[n - 1].gfn;
    return n;
}

static uint64_t option(struct store_conn *c, domid_t domid, const char *key, uint64_t dflt)
{
    char path[96], buf[32], *end;
    size_t len;
    uint64_t v;

    snprintf(path, sizeof(path), "/local/domain/%u/memvisor/guest/%s", domid, key);
    if (!c || store_read(c, 0, path, buf, sizeof(buf) - 1, &len))
        return dflt;
    buf[len] = '\0';
    v = strtoull(buf, &end, 10);
    return end == buf || *end ? dflt : v;
}

static void on_unpause(void *arg, domid_t domid)
{
    struct daemon_guests *dg = arg;
    struct guest_os_config cfg;
    struct domain *d = domain_lookup(dg->hv->domains, domid);
    struct guest_os *g = NULL;
    struct store_conn *xs;
    int rc;

    if (!d)
        return;
    guest_os_config_default(&cfg);
    cfg.hv = dg->hv;
    cfg.store = dg->store;
    cfg.domid = domid;
    cfg.hvm = domain_is_translated(d);
    cfg.nr_ram = memory_map(d, cfg.ram, GUEST_MAX_RANGES);
    domain_put(d);
    if (store_conn_open(dg->store, 0, true, NULL, &xs))
        xs = NULL; /* the defaults, then */
    cfg.balloon = option(xs, domid, "balloon", 1);
    cfg.selfballoon = option(xs, domid, "selfballoon", 0);
    cfg.free_page_reporting = option(xs, domid, "free-page-reporting", 0);
    cfg.deflate_on_oom = option(xs, domid, "deflate-on-oom", 0);
    cfg.boot_scrub = option(xs, domid, "boot-scrub", 0);
    cfg.phases[0].working_set_pages = option(xs, domid, "working-set-kib", 0) >> 2;
    cfg.nr_phases = 1;
    if (xs)
        store_conn_close(xs);
    pthread_mutex_lock(&dg->mu);
    for (unsigned i = 0; i < dg->nr; i++)
        if (dg->slot[i].domid == domid && !dg->slot[i].dead)
            goto out; /* unpaused again: it is running already */
    if (dg->nr == ARRAY_SIZE(dg->slot))
        goto out;
    rc = cfg.nr_ram ? guest_os_start(&cfg, &g) : -EINVAL;
    if (rc) {
        mv_log(&dg->log, MV_LOG_WARN, "d%u: no guest model: %s", domid, mv_strerror(rc));
        goto out;
    }
    dg->slot[dg->nr++] = (struct guest_slot){ g, domid, false };
    mv_log(&dg->log, MV_LOG_INFO, "d%u: guest booted (%u RAM ranges)", domid, cfg.nr_ram);
out:
    pthread_mutex_unlock(&dg->mu);
}

static void on_death(void *arg, domid_t domid)
{
    struct daemon_guests *dg = arg;

    pthread_mutex_lock(&dg->mu);
    for (unsigned i = 0; i < dg->nr; i++)
        if (dg->slot[i].domid == domid)
            dg->slot[i].dead = true;
    pthread_cond_signal(&dg->cv);
    pthread_mutex_unlock(&dg->mu);
    store_domain_gone(dg->store, domid);
}

static void *reaper(void *arg)
{
    struct daemon_guests *dg = arg;

    pthread_mutex_lock(&dg->mu);
    for (;;) {
        for (unsigned i = 0; i < dg->nr;) {
            if (dg->slot[i].dead || dg->stop) {
                struct guest_os *g = dg->slot[i].g;

                dg->slot[i] = dg->slot[--dg->nr];
                pthread_mutex_unlock(&dg->mu);
                guest_os_stop(g);
                pthread_mutex_lock(&dg->mu);
                i = 0;
                continue;
            }
            i++;
        }
        if (dg->stop)
            break;
        pthread_cond_wait(&dg->cv, &dg->mu);
    }
    pthread_mutex_unlock(&dg->mu);
    return NULL;
}

int daemon_guests_start(struct hv *hv, struct store *store, const struct mv_logger *log,
                        struct daemon_guests **out)
{
    struct daemon_guests *dg = calloc(1, sizeof(*dg));
    int rc;

    if (!dg)
        return -ENOMEM;
    dg->hv = hv;
    dg->store = store;
    dg->log = *log;
    pthread_mutex_init(&dg->mu, NULL);
    pthread_cond_init(&dg->cv, NULL);
    rc = -pthread_create(&dg->reaper, NULL, reaper, dg);
    if (rc) {
        free(dg);
        return rc;
    }
    hv_on_domain_death(hv, on_death, dg);
    hv_on_domain_unpause(hv, on_unpause, dg);
    *out = dg;
    return 0;
}

void daemon_guests_stop(struct daemon_guests *dg)
{
    if (!dg)
        return;
    hv_on_domain_unpause(dg->hv, NULL, NULL);
    pthread_mutex_lock(&dg->mu);
    dg->stop = true;
    pthread_cond_signal(&dg->cv);
    pthread_mutex_unlock(&dg->mu);
    pthread_join(dg->reaper, NULL);
    hv_on_domain_death(dg->hv, NULL, NULL);
    pthread_mutex_destroy(&dg->mu);
    pthread_cond_destroy(&dg->cv);
    free(dg);
}
