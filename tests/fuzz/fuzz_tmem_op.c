/*
 * libFuzzer target: the tmem_op decoder and tmem behind it.
 *
 * An input is a list of 60-byte records, each one call:
 *   u8 caller (mod 3: dom0, an HVM guest, a PV guest), u8 cmfn mode
 *   (odd: the caller's own page number `cmfn % 8`, else raw), u8 pool mode
 *   (odd: pool_id % 18, else raw), u8 unused, then a struct tmem_op as the
 *   guest lays it out (56 bytes, little endian).
 * Every input runs on a fresh host of 32 MiB, where the HVM guest has 8
 * gfns and the PV guest 8 frames, each with distinct contents.  Every
 * result must be one the contract allows; after the calls every checker
 * must pass; anything else aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/xen.h>
#include <xen/tmem.h>

#include "memvisor/hv.h"
#include "memvisor/hypercall.h"

#define RECORD 60
#define MAX_CALLS 64
#define PAGES 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool allowed(long rc)
{
    switch (rc) {
    case 1: case 0: case -EFAULT: case -ENODEV: case -EPERM: case -ENOMEM: case -ENOSPC:
    case -EFROZEN: case -EEMPTY: case -EOPNOTSUPP: case -ENOSYS: case -EIO:
        return true;
    default:
        return rc > 1 && rc < TMEM_MAX_POOLS; /* a new pool's id */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct domain_config hvm_cfg = { .max_vcpus = 1, .cdf_flags = DOMAIN_CDF_HVM | DOMAIN_CDF_HAP };
    struct domain_config pv_cfg = { .max_vcpus = 1 };
    struct hc_session *s[3];
    struct tmem_op *op[3];
    uint64_t frames[3][PAGES] = { { 0 } };
    struct domain *hvm, *pv;
    struct hv_config cfg;
    struct hv *hv;

    hv_config_default(&cfg);
    cfg.ram_bytes = 32 << 20;
    cfg.background_scrub = false;
    cfg.log.level = MV_LOG_ERROR;
    if (hv_create(&cfg, &hv, NULL) || domain_create(hv->domains, DOMID_ANY, &hvm_cfg, &hvm) ||
        domain_create(hv->domains, DOMID_ANY, &pv_cfg, &pv))
        abort();
    domain_set_max_pages(hvm, 4096);
    domain_set_max_pages(pv, 4096);
    for (uint64_t i = 0; i < PAGES; i++) {
        mfn_t mfn;

        if (physmap_populate(hvm, _gfn(i), 0, 0, &mfn) || domain_alloc_pages(pv, 0, 0, &mfn))
            abort();
        frames[1][i] = i;
        frames[2][i] = mfn_x(mfn);
        memset(machine_frame_bytes(hv->m, mfn), (int)i, PAGE_SIZE / 2);
    }
    if (hc_session_create(hv, 0, true, &s[0]) || hc_session_create(hv, hvm->domid, false, &s[1]) ||
        hc_session_create(hv, pv->domid, false, &s[2]))
        abort();
    for (int i = 0; i < 3; i++)
        if (!(op[i] = hc_buffer_alloc(s[i], sizeof(struct tmem_op))))
            abort();

    for (unsigned n = 0; n < MAX_CALLS && size >= RECORD; n++, data += RECORD, size -= RECORD) {
        unsigned who = data[0] % 3;
        struct tmem_op *o = op[who];
        long rc;

        memcpy(o, data + 4, sizeof(*o));
        if (data[1] & 1)
            o->u.gen.cmfn = frames[who][o->u.gen.cmfn % PAGES];
        if (data[2] & 1)
            o->pool_id = (int32_t)((uint32_t)o->pool_id % 18);
        rc = hc_call(s[who], HC_TMEM_OP, (uint64_t)(uintptr_t)o, 0, 0, 0, 0);
        if (!allowed(rc)) {
            fprintf(stderr, "tmem_op %u gave %ld\n", o->cmd, rc);
            abort();
        }
    }

    if (hv_check(hv, stderr) != 0)
        abort();
    for (int i = 0; i < 3; i++)
        hc_session_destroy(s[i]);
    domain_put(hvm);
    domain_put(pv);
    hv_destroy(hv);
    return 0;
}
