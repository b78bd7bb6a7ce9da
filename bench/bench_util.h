/*
 * Helpers for benchmarks: best-of-N timing and one JSON object per line,
 * each figure beside the limit or peer it is measured against in the same
 * run (as a ratio).
 */
#ifndef MEMVISOR_BENCH_UTIL_H
#define MEMVISOR_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "memvisor/base.h"
#include "memvisor/hv.h"

#define GIB (UINT64_C(1) << 30)

/* name, value, unit; and optionally what it is compared with. */
static inline void bench_emit(const char *name, double value, const char *unit, const char *vs,
                              double vs_value, const char *note)
{
    printf("{\"name\": \"%s\", \"value\": %.4g, \"unit\": \"%s\"", name, value, unit);
    if (vs && vs_value > 0)
        printf(", \"vs\": \"%s\", \"vs_value\": %.4g, \"ratio\": %.3f", vs, vs_value, value / vs_value);
    if (note)
        printf(", \"note\": \"%s\"", note);
    printf("}\n");
    fflush(stdout);
}

static inline double gbps(uint64_t bytes, uint64_t ns)
{
    return ns ? (double)bytes / (double)ns : 0; /* bytes per ns = GB/s */
}

/* Clearing `bytes` of resident memory with memset, best of reps: the
 * bandwidth limit for anything that writes pages.  Zeroing, like a scrub
 * (on some CPUs much faster than another byte). */
static inline double bench_memset_gbps(uint64_t bytes, int reps)
{
    uint8_t *buf = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint64_t best = UINT64_MAX;

    if (buf == MAP_FAILED)
        exit(1);
    memset(buf, 1, bytes); /* fault it in */
    for (int r = 0; r < reps; r++) {
        uint64_t t0 = mv_now_ns();
        memset(buf, 0, bytes);
        __asm__ volatile("" ::"r"(buf) : "memory");
        best = min_u64(best, mv_now_ns() - t0);
    }
    munmap(buf, bytes);
    return gbps(bytes, best);
}

/* A host for a benchmark; exits if it cannot be had. */
static inline struct hv *bench_hv(uint64_t ram, unsigned nodes, bool scrub)
{
    struct hv_config cfg;
    const char *why = NULL;
    struct hv *hv;

    hv_config_default(&cfg);
    cfg.ram_bytes = ram;
    cfg.nr_nodes = nodes;
    cfg.background_scrub = scrub;
    cfg.log.level = MV_LOG_ERROR;
    if (hv_create(&cfg, &hv, &why)) {
        fprintf(stderr, "bench: cannot create a %llu MiB host: %s\n",
                (unsigned long long)(ram >> 20), why ? why : "out of memory");
        exit(1);
    }
    return hv;
}

#endif
