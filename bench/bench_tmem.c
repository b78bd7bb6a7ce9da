/*
 * Benchmarks of tmem over a corpus of real memory: pages read from the
 * memory of the processes running on this machine (/proc/<pid>/mem of
 * every readable mapping: heaps, stacks, libraries, data), all-zero pages
 * left out.  Each figure beside its peer in the same run: a put beside
 * LZ4 compressing the same pages, a get beside LZ4 decompressing them;
 * density (compressed bytes stored over the bytes of the frames holding
 * them); the compression ratio; and a page given back to the heap by
 * tmem beside a page the heap has free.
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lz4.h>

#include "bench_util.h"
#include "memvisor/tmem.h"

#define CORPUS_MAX (UINT64_C(64) << 20)
#define REPS 3
#define FLAGS(extra) ((TMEM_SPEC_VERSION << TMEM_POOL_VERSION_SHIFT) | (extra))

struct corpus {
    uint8_t *pages;
    uint64_t n, max, processes, zero_skipped;
};

static bool page_is_zero(const uint8_t *p)
{
    for (size_t i = 0; i < PAGE_SIZE; i++)
        if (p[i])
            return false;
    return true;
}

/* Reads the readable mappings of one process, until the corpus is full. */
static void read_process(struct corpus *c, const char *pid)
{
    char path[300], line[512];
    FILE *maps;
    int mem;

    snprintf(path, sizeof(path), "/proc/%s/maps", pid);
    maps = fopen(path, "r");
    snprintf(path, sizeof(path), "/proc/%s/mem", pid);
    mem = open(path, O_RDONLY);
    if (!maps || mem < 0) {
        if (maps)
            fclose(maps);
        if (mem >= 0)
            close(mem);
        return;
    }
    c->processes++;
    while (c->n < c->max && fgets(line, sizeof(line), maps)) {
        unsigned long lo, hi;
        char perms[8];

        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 || perms[0] != 'r' ||
            strstr(line, "[vvar]") || strstr(line, "[vsyscall]"))
            continue;
        /* At most 4 MiB of each mapping, so that many processes count. */
        for (unsigned long a = lo; a < hi && a < lo + (4UL << 20) && c->n < c->max;
             a += PAGE_SIZE) {
            uint8_t *dst = c->pages + c->n * PAGE_SIZE;

            if (pread(mem, dst, PAGE_SIZE, (off_t)a) != (ssize_t)PAGE_SIZE)
                break;
            if (page_is_zero(dst))
                c->zero_skipped++;
            else
                c->n++;
        }
    }
    fclose(maps);
    close(mem);
}

static void read_corpus(struct corpus *c)
{
    DIR *proc = opendir("/proc");
    struct dirent *e;

    c->max = CORPUS_MAX / PAGE_SIZE;
    c->pages = malloc(CORPUS_MAX);
    if (!proc || !c->pages)
        exit(1);
    while (c->n < c->max && (e = readdir(proc)))
        if (isdigit((unsigned char)e->d_name[0]) && (pid_t)atoi(e->d_name) != getpid())
            read_process(c, e->d_name);
    closedir(proc);
    /* Little else readable (not root): this process is real memory too. */
    if (c->n < 1024)
        read_process(c, "self");
    if (c->n < 256) {
        fprintf(stderr, "bench_tmem: only %" PRIu64 " pages of process memory readable\n", c->n);
        exit(1);
    }
}

static uint64_t test_free(struct hv *hv)
{
    struct heap_totals t;

    heap_get_totals(hv->heap, &t);
    return t.free_pages;
}

static const uint8_t *page_at(const struct corpus *c, uint64_t i)
{
    return c->pages + i * PAGE_SIZE;
}

int main(void)
{
    struct corpus c = { 0 };
    static uint8_t out[PAGE_SIZE], comp[2 * PAGE_SIZE];
    uint64_t best_comp = UINT64_MAX, best_decomp = UINT64_MAX, best_put = UINT64_MAX;
    uint64_t best_get = UINT64_MAX, raw_bytes = 0, relinq_ns, alloc_ns, n_relinq = 0;
    struct domain_config cfg = { .max_vcpus = 1, .cdf_flags = DOMAIN_CDF_HVM | DOMAIN_CDF_HAP };
    struct tmem_stats st;
    struct domain *d;
    struct hv *hv;
    char note[160];
    int pool;

    read_corpus(&c);
    /* The limits: LZ4 alone over the same pages (decompressing what it
     * compressed, into the same buffer a get uses). */
    for (int r = 0; r < REPS; r++) {
        uint64_t t0 = mv_now_ns(), td = 0, total = 0;

        for (uint64_t i = 0; i < c.n; i++) {
            int len = LZ4_compress_default((const char *)page_at(&c, i), (char *)comp, PAGE_SIZE,
                                           sizeof(comp));
            uint64_t t1 = mv_now_ns();

            if (LZ4_decompress_safe((char *)comp, (char *)out, len, PAGE_SIZE) != PAGE_SIZE)
                exit(1);
            td += mv_now_ns() - t1;
            total += (uint64_t)len;
        }
        best_decomp = min_u64(best_decomp, td);
        best_comp = min_u64(best_comp, mv_now_ns() - t0 - td);
        raw_bytes = total;
    }

    /* tmem: a persistent pool (gets leave the pages), on a host with room. */
    hv = bench_hv(UINT64_C(512) << 20, 1, false);
    if (domain_create(hv->domains, DOMID_ANY, &cfg, &d))
        exit(1);
    domain_set_max_pages(d, UINT32_MAX);
    pool = tmem_new_pool(hv->tmem, d, FLAGS(TMEM_POOL_PERSIST), 0, 0);
    for (int r = 0; r < REPS; r++) {
        struct tmem_oid oid = { { (uint64_t)r, 0, 0 } };
        uint64_t t0 = mv_now_ns();

        for (uint64_t i = 0; i < c.n; i++)
            if (tmem_put(hv->tmem, d, pool, &oid, (uint32_t)i, page_at(&c, i)) != 1)
                exit(1);
        best_put = min_u64(best_put, mv_now_ns() - t0);
        t0 = mv_now_ns();
        for (uint64_t i = 0; i < c.n; i++)
            if (tmem_get(hv->tmem, d, pool, &oid, (uint32_t)i, out) != 1)
                exit(1);
        best_get = min_u64(best_get, mv_now_ns() - t0);
        if (memcmp(out, page_at(&c, c.n - 1), PAGE_SIZE))
            exit(1);
        if (r + 1 < REPS && tmem_flush_object(hv->tmem, d, pool, &oid) != 1)
            exit(1);
    }
    tmem_get_stats(hv->tmem, d->domid, &st);

    snprintf(note, sizeof(note), "%" PRIu64 " pages of %" PRIu64 " processes' memory "
             "(%" PRIu64 " zero pages left out), LZ4", c.n, c.processes, c.zero_skipped);
    bench_emit("lz4_compress_us", (double)best_comp / 1e3 / (double)c.n, "us", NULL, 0, note);
    bench_emit("tmem_put_us", (double)best_put / 1e3 / (double)c.n, "us", "lz4_compress_us",
               (double)best_comp / 1e3 / (double)c.n, "per page, persistent pool (target <= 1.2)");
    bench_emit("lz4_decompress_us", (double)best_decomp / 1e3 / (double)c.n, "us", NULL, 0, NULL);
    bench_emit("tmem_get_us", (double)best_get / 1e3 / (double)c.n, "us", "lz4_decompress_us",
               (double)best_decomp / 1e3 / (double)c.n, "per page (target <= 1.2)");
    bench_emit("tmem_density", (double)st.stored_bytes / (double)(st.pers_frames * PAGE_SIZE),
               "ratio", NULL, 0, "bytes stored over the bytes of their frames (target >= 0.9)");
    bench_emit("tmem_ratio", (double)(c.n * PAGE_SIZE) / (double)st.stored_bytes, "ratio",
               "lz4_ratio", (double)(c.n * PAGE_SIZE) / (double)raw_bytes,
               "pages over bytes stored (pages saving < 1/4 stored raw)");
    (void)domain_kill(d);
    domain_put(d);

    /* Relinquishing: tmem holds every free frame in ephemeral pages; the
     * heap takes pages back one at a time.  Beside a page the heap has. */
    if (domain_create(hv->domains, DOMID_ANY, &cfg, &d))
        exit(1);
    pool = tmem_new_pool(hv->tmem, d, FLAGS(0), 0, 0);
    for (uint64_t i = 0; test_free(hv) > 64; i++) {
        struct tmem_oid oid = { { i / c.n, 0, 0 } };

        if (tmem_put(hv->tmem, d, pool, &oid, (uint32_t)(i % c.n), page_at(&c, i % c.n)) != 1)
            exit(1);
    }
    {
        struct heap_owner anon = { 0 };
        mfn_t *held = malloc(4096 * sizeof(*held));
        uint64_t t0;

        if (!held)
            exit(1);
        t0 = mv_now_ns();
        for (; n_relinq < 4096; n_relinq++)
            if (heap_alloc_pages(hv->heap, 0, 0, &anon, &held[n_relinq]))
                break;
        relinq_ns = mv_now_ns() - t0;
        for (uint64_t i = 0; i < n_relinq; i++)
            heap_free_pages(hv->heap, held[i], 0, false);
        heap_scrub_all(hv->heap);
        /* The same allocations from free memory. */
        t0 = mv_now_ns();
        for (uint64_t i = 0; i < n_relinq; i++)
            if (heap_alloc_pages(hv->heap, 0, 0, &anon, &held[i]))
                exit(1);
        alloc_ns = mv_now_ns() - t0;
        for (uint64_t i = 0; i < n_relinq; i++)
            heap_free_pages(hv->heap, held[i], 0, false);
        free(held);
    }
    snprintf(note, sizeof(note), "a page the heap gets back from a tmem holding all free memory "
             "(%" PRIu64 " pages)", n_relinq);
    bench_emit("relinquish_page_us", (double)relinq_ns / 1e3 / (double)n_relinq, "us",
               "heap_alloc_page_us", (double)alloc_ns / 1e3 / (double)n_relinq, note);
    (void)domain_kill(d);
    domain_put(d);
    hv_destroy(hv);
    free(c.pages);
    return 0;
}
