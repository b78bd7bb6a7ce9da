/*
 * A host: machine, heap, domains and dom0.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memvisor/hv.h"

void hv_config_default(struct hv_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->ram_bytes = UINT64_C(4) << 30;
    cfg->nr_nodes = 1;
    cfg->gate = CLAIM_GATE_HEAD;
    cfg->background_scrub = true;
    cfg->log.level = MV_LOG_WARN;
}

/* The domain hooks: the p2m's, and the death notice after teardown. */
static int hv_domain_init(void *arg, struct domain *d)
{
    struct hv *hv = arg;

    return p2m_domain_init(&hv->fault, d);
}

static void hv_domain_teardown(void *arg, struct domain *d)
{
    struct hv *hv = arg;

    if (domain_is_crashed(d))
        mv_log(&hv->log, MV_LOG_ERROR, "%s: destroyed", d->crash_reason);
    if (hv->tmem)
        tmem_domain_teardown(hv->tmem, d);
    p2m_domain_teardown(&hv->fault, d);
    hv_call_hook(hv, &hv->on_death, d->domid);
}

static void hv_domain_release(void *arg, struct domain *d)
{
    struct hv *hv = arg;

    if (hv->tmem)
        tmem_domain_release(hv->tmem, d);
    p2m_domain_release(&hv->fault, d);
}

static void set_hook(struct hv *hv, struct hv_hook *hook, void (*fn)(void *, domid_t), void *arg)
{
    lock_acquire(&hv->hooks_lock);
    *hook = (struct hv_hook){ fn, arg };
    lock_release(&hv->hooks_lock);
}

void hv_on_domain_death(struct hv *hv, void (*fn)(void *arg, domid_t domid), void *arg)
{
    set_hook(hv, &hv->on_death, fn, arg);
}

void hv_on_domain_unpause(struct hv *hv, void (*fn)(void *arg, domid_t domid), void *arg)
{
    set_hook(hv, &hv->on_unpause, fn, arg);
}

void hv_call_hook(struct hv *hv, const struct hv_hook *hook, domid_t domid)
{
    lock_acquire(&hv->hooks_lock);
    if (hook->fn)
        hook->fn(hook->arg, domid);
    lock_release(&hv->hooks_lock);
}

/* The host CPU's clock, for physinfo's cpu_khz; 0 if unknown. */
static uint32_t read_cpu_khz(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[256];
    double mhz = 0;

    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "cpu MHz : %lf", &mhz) == 1)
            break;
    fclose(f);
    return mhz > 0 && mhz < 1e7 ? (uint32_t)(mhz * 1000) : 0;
}

int hv_create(const struct hv_config *cfg, struct hv **out, const char **why)
{
    struct machine_config mcfg = { cfg->ram_bytes, cfg->nr_nodes, cfg->huge_pages };
    struct heap_config hcfg = { cfg->gate, cfg->background_scrub && !mv_clock_is_virtual(cfg->clock) };
    struct domain_config dom0_cfg = { .max_vcpus = 1, .privileged = true };
    struct domain_hooks hooks;
    struct domain *dom0;
    struct hv *hv;
    long cpus;
    int rc;

    if (cfg->gate != CLAIM_GATE_HEAD && cfg->gate != CLAIM_GATE_SHORTFALL) {
        if (why)
            *why = "unknown claims gate";
        return -EINVAL;
    }
    hv = calloc(1, sizeof(*hv));
    if (!hv)
        return -ENOMEM;
    hv->config = *cfg;
    hv->log = cfg->log;
    hv->clock = cfg->clock ? cfg->clock : mv_clock_real();
    lock_init(&hv->hooks_lock, LOCK_RANK_HV_HOOKS, "hv hooks");
    fault_init(&hv->fault);
    cpus = sysconf(_SC_NPROCESSORS_ONLN);
    hv->nr_cpus = cfg->nr_cpus ? cfg->nr_cpus : cpus > 0 ? (unsigned)cpus : 1;
    hv->cpu_khz = cfg->cpu_khz ? cfg->cpu_khz : read_cpu_khz();

    rc = machine_create(&mcfg, &hv->m, why);
    if (rc)
        goto fail;
    rc = heap_create(hv->m, &hcfg, &hv->fault, &hv->heap);
    if (rc)
        goto fail;
    hooks = (struct domain_hooks){ hv_domain_init, hv_domain_teardown, hv_domain_release, hv };
    rc = domain_table_create(hv->heap, &hv->fault, &hooks, &hv->domains);
    if (rc)
        goto fail;
    rc = tmem_create(hv->heap, hv->domains, &hv->fault, &hv->tmem);
    if (rc)
        goto fail;
    /* Dom0 has no memory of its own here, and no limit. */
    rc = domain_create(hv->domains, 0, &dom0_cfg, &dom0);
    if (rc)
        goto fail;
    domain_set_max_pages(dom0, UINT32_MAX);
    domain_put(dom0);
    mv_log(&hv->log, MV_LOG_INFO, "host: %llu MiB in %u NUMA node(s), %llu pages for guests, "
           "claims gate %s", (unsigned long long)(cfg->ram_bytes >> 20), cfg->nr_nodes,
           (unsigned long long)(hv->m->nr_frames - 1),
           cfg->gate == CLAIM_GATE_HEAD ? "head" : "shortfall");
    *out = hv;
    return 0;
fail:
    hv_destroy(hv);
    return rc;
}

void hv_destroy(struct hv *hv)
{
    if (!hv)
        return;
    domain_table_destroy(hv->domains);
    tmem_destroy(hv->tmem);
    heap_destroy(hv->heap);
    machine_destroy(hv->m);
    lock_fini(&hv->hooks_lock);
    free(hv);
}

struct p2m_walk {
    FILE *report;
    unsigned violations;
};

static int check_p2m(void *arg, struct domain *d)
{
    struct p2m_walk *w = arg;

    if (!domain_is_dying(d))
        w->violations += p2m_check(d->p2m, w->report);
    return 0;
}

unsigned hv_check(struct hv *hv, FILE *report)
{
    struct p2m_walk w = { report, 0 };

    (void)domain_for_each(hv->domains, 0, check_p2m, &w);
    return w.violations + domain_table_check(hv->domains, report) +
           (hv->tmem ? tmem_check(hv->tmem, report) : 0);
}
