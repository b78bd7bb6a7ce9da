/*
 * The host: RAM, frame table and NUMA layout.
 *
 * Nodes split RAM into equal, 2 MiB aligned ranges (the last one takes the
 * remainder), so that superpages never straddle a node.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "memvisor/machine.h"

#define MIN_RAM_BYTES (16UL << 20)
#define MIN_NODE_BYTES (8UL << 20)
/* Frame numbers are 32-bit list links: at most 2^32 frames (16 TiB). */
#define MAX_RAM_BYTES (UINT64_C(1) << (32 + PAGE_SHIFT))
#define NODE_ALIGN_PAGES (UINT64_C(1) << SUPERPAGE_ORDER)

static void *map_anonymous(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

int machine_create(const struct machine_config *cfg, struct machine **out, const char **why)
{
    const char *reason = NULL;
    struct machine *m;
    uint64_t per_node;

    if (cfg->ram_bytes < MIN_RAM_BYTES)
        reason = "RAM must be at least 16 MiB";
    else if (cfg->ram_bytes > MAX_RAM_BYTES)
        reason = "RAM must be at most 16 TiB (frame numbers are 32-bit)";
    else if (cfg->ram_bytes % (NODE_ALIGN_PAGES << PAGE_SHIFT))
        reason = "RAM must be a multiple of 2 MiB";
    else if (cfg->nr_nodes < 1 || cfg->nr_nodes > MAX_NUMNODES)
        reason = "the number of NUMA nodes must be between 1 and 64";
    else if (cfg->ram_bytes / cfg->nr_nodes < MIN_NODE_BYTES)
        reason = "each NUMA node needs at least 8 MiB";
    if (reason) {
        if (why)
            *why = reason;
        return -EINVAL;
    }

    m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    m->pagemap_fd = -1;
    m->nr_frames = cfg->ram_bytes >> PAGE_SHIFT;
    m->ram_map_bytes = cfg->ram_bytes;
    m->frame_map_bytes = m->nr_frames * sizeof(struct frame);
    m->ram = map_anonymous(m->ram_map_bytes);
    m->frames = map_anonymous(m->frame_map_bytes);
    m->m2p = map_anonymous(m->nr_frames * sizeof(*m->m2p));
    if (!m->ram || !m->frames || !m->m2p) {
        machine_destroy(m);
        return -ENOMEM;
    }
    if (cfg->huge_pages)
        madvise(m->ram, m->ram_map_bytes, MADV_HUGEPAGE);

    m->nr_nodes = cfg->nr_nodes;
    per_node = (m->nr_frames / cfg->nr_nodes) & ~(NODE_ALIGN_PAGES - 1);
    for (unsigned n = 0; n < cfg->nr_nodes; n++) {
        m->node[n].start_mfn = per_node * n;
        m->node[n].end_mfn = n + 1 == cfg->nr_nodes ? m->nr_frames : per_node * (n + 1);
    }
    m->pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    m->frames[0].state = FRAME_INUSE | FRAME_RESERVED;
    m->frames[0].owner = DOMID_XEN;
    *out = m;
    return 0;
}

void machine_destroy(struct machine *m)
{
    if (!m)
        return;
    if (m->pagemap_fd >= 0)
        close(m->pagemap_fd);
    if (m->ram)
        munmap(m->ram, m->ram_map_bytes);
    if (m->frames)
        munmap(m->frames, m->frame_map_bytes);
    if (m->m2p)
        munmap(m->m2p, m->nr_frames * sizeof(*m->m2p));
    free(m);
}

unsigned machine_mfn_node(const struct machine *m, mfn_t mfn)
{
    unsigned lo = 0, hi = m->nr_nodes - 1;

    assert(machine_mfn_valid(m, mfn));
    /* Binary search over node starts: at most 6 steps. */
    while (lo < hi) {
        unsigned mid = (lo + hi + 1) / 2;
        if (mfn_x(mfn) >= m->node[mid].start_mfn)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

/* /proc/self/pagemap: a 64-bit entry per virtual page; bit 63 present,
 * bit 62 swapped.  A page with neither was never written. */
#define PAGEMAP_PRESENT (UINT64_C(1) << 63)
#define PAGEMAP_SWAPPED (UINT64_C(1) << 62)
#define PAGEMAP_BATCH 512

uint64_t *machine_used_frame_map(const struct machine *m)
{
    uint64_t table = (uint64_t)(uintptr_t)m->frames / PAGE_SIZE;
    uint64_t nr_pages = (m->frame_map_bytes + PAGE_SIZE - 1) / PAGE_SIZE;
    uint64_t entries[PAGEMAP_BATCH], *map;

    if (m->pagemap_fd < 0 || !(map = calloc((nr_pages + 63) / 64, sizeof(*map))))
        return NULL;
    for (uint64_t page = 0; page < nr_pages;) {
        uint64_t n = min_u64(PAGEMAP_BATCH, nr_pages - page);
        ssize_t got = pread(m->pagemap_fd, entries, n * sizeof(*entries),
                            (off_t)((table + page) * sizeof(*entries)));

        if (got != (ssize_t)(n * sizeof(*entries))) {
            free(map);
            map = NULL; /* cannot tell */
            break;
        }
        for (uint64_t i = 0; i < n; i++, page++)
            if (entries[i] & (PAGEMAP_PRESENT | PAGEMAP_SWAPPED))
                map[page / 64] |= UINT64_C(1) << (page % 64);
    }
    return map;
}

/* The pagemap entries of the RAM pages of frames [mfn, mfn + n), n <=
 * PAGEMAP_BATCH; false if they cannot be read. */
static bool ram_pagemap(const struct machine *m, mfn_t mfn, uint64_t n, uint64_t *entries)
{
    uint64_t first = (uint64_t)(uintptr_t)machine_frame_bytes(m, mfn) / PAGE_SIZE;

    return m->pagemap_fd >= 0 &&
           pread(m->pagemap_fd, entries, n * sizeof(*entries),
                 (off_t)(first * sizeof(*entries))) == (ssize_t)(n * sizeof(*entries));
}

static bool written(uint64_t entry)
{
    return entry & (PAGEMAP_PRESENT | PAGEMAP_SWAPPED);
}

/* Present but not this mapping's own: the kernel's zero page (what a read
 * of a page never written maps, 4 KiB or 2 MiB), or a page shared after
 * a fork or by KSM.  Only its bytes tell whether it is zero; writing to
 * it, even zeros, would copy it. */
#define PAGEMAP_EXCLUSIVE (UINT64_C(1) << 56)

static bool needs_clear(const uint8_t *page, uint64_t entry)
{
    if (!written(entry))
        return false;
    if ((entry & (PAGEMAP_PRESENT | PAGEMAP_EXCLUSIVE | PAGEMAP_SWAPPED)) == PAGEMAP_PRESENT)
        return !pages_are_zero(page, 1);
    return true;
}

/* Below this, a scrub clears without asking: the question (a system call)
 * would cost what it could save. */
#define CLEAR_ASK_PAGES 64

/* Clears the pages of [mfn, mfn + n) (n <= PAGEMAP_BATCH) that need it
 * by their entries, all of them if entries is NULL. */
static void clear_written(const struct machine *m, mfn_t mfn, uint64_t n, const uint64_t *entries)
{
    for (uint64_t i = 0; i < n;) {
        uint64_t run = 0;

        while (i + run < n &&
               (!entries ||
                needs_clear(machine_frame_bytes(m, mfn_add(mfn, i + run)), entries[i + run])))
            run++;
        if (run)
            pages_clear(machine_frame_bytes(m, mfn_add(mfn, i)), run);
        i += run ? run : 1;
    }
}

void machine_clear_frames(const struct machine *m, mfn_t mfn, uint64_t nr)
{
    uint64_t entries[PAGEMAP_BATCH];

    if (nr < CLEAR_ASK_PAGES) {
        pages_clear(machine_frame_bytes(m, mfn), nr);
        return;
    }
    /* The page map costs a few µs per 2 MiB, a thirtieth of clearing it:
     * pages never written, or mapping the zero page, are left alone. */
    for (uint64_t done = 0; done < nr;) {
        uint64_t n = min_u64(PAGEMAP_BATCH, nr - done);
        mfn_t at = mfn_add(mfn, done);

        clear_written(m, at, n, ram_pagemap(m, at, n, entries) ? entries : NULL);
        done += n;
    }
}

bool machine_frames_are_zero(const struct machine *m, mfn_t mfn, uint64_t nr)
{
    uint64_t entries[PAGEMAP_BATCH];

    for (uint64_t done = 0; done < nr;) {
        uint64_t n = min_u64(PAGEMAP_BATCH, nr - done);
        bool known = ram_pagemap(m, mfn_add(mfn, done), n, entries);

        for (uint64_t i = 0; i < n; i++, done++)
            if ((!known || written(entries[i])) &&
                !pages_are_zero(machine_frame_bytes(m, mfn_add(mfn, done)), 1))
                return false;
    }
    return true;
}
