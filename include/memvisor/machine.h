/*
 * machine: the host's RAM, its frame table and its NUMA topology.
 *
 * RAM is one private anonymous mapping: frames are real bytes.  It is
 * mapped with MAP_NORESERVE, so a host larger than the box can be modelled
 * as long as the memory actually touched fits.  The frame table is mapped
 * the same way and is laid out so that an all-zero entry is a free, clean
 * frame: a large host costs nothing until its frames are used.
 *
 * Frame 0 is never given to the heap (as in Xen, a buddy starting at MFN 0
 * would straddle two zones).
 */
#ifndef MEMVISOR_MACHINE_H
#define MEMVISOR_MACHINE_H

#include "memvisor/base.h"

/*
 * One frame table entry: 32 bytes per 4 KiB frame (Xen's is 32, Linux's 64).
 *
 * Fields are grouped by the lock that protects them, one byte or word each,
 * so that two writers under different locks never share a word:
 *  - next/prev: the free list (node lock) while free; the owner's extent
 *    list (domain lock) while owned, on extent heads only.
 *  - state: node lock.  Every state transition (alloc, free, offline,
 *    online) happens under the lock of the frame's node.
 *  - need_scrub: whoever owns the frame's bytes: the freer before the frame
 *    is listed, the scrubber that has claimed the buddy (scrub_state), the
 *    allocator after it has taken the buddy off the list.
 *  - owner, owner_flags, and order on an extent head: the owner's domain
 *    lock.  order on a free buddy head: node lock.
 *  - count: atomic.
 *  - scrub_state: atomic (the scrub abort handshake).
 *  - first_dirty: free buddy heads only; node lock, or the scrubber while
 *    it owns the buddy.
 *  - pod_next: the owner's p2m lock, while the page is in its PoD cache.
 */
struct frame {
    uint32_t next;
    uint32_t prev;
    uint32_t count;        /* references; the owner's allocation holds one */
    uint32_t type_info;    /* page type in the top bits, type count below */
    uint8_t state;         /* FRAME_STATE_* | FRAME_BUDDY_HEAD | FRAME_BROKEN | FRAME_RESERVED */
    uint8_t need_scrub;    /* 1: the bytes may hold a previous tenant's data */
    uint8_t owner_flags;   /* FRAME_ALLOCATED | FRAME_EXTRA | FRAME_EXTENT_HEAD */
    uint8_t order;         /* free buddy head: buddy order; extent head: extent order */
    domid_t owner;         /* in use: owning domain, or DOMID_XEN when anonymous */
    uint8_t scrub_state;   /* free buddy head: SCRUB_NOT_SCRUBBING/SCRUBBING/ABORT */
    uint8_t reserved8;
    uint32_t first_dirty;  /* free buddy head: first page that may be dirty */
    uint32_t pod_next;     /* in a PoD cache: the next page (or 2 MiB chunk) there */
};
_Static_assert(sizeof(struct frame) == 32, "frame table entries are 32 bytes");

/* The state is 0 for free, so an untouched (zero) entry is a free frame. */
#define FRAME_STATE_MASK 0x03u
#define FRAME_FREE 0x00u
#define FRAME_INUSE 0x01u
#define FRAME_OFFLINING 0x02u /* in use, to be offlined when freed */
#define FRAME_OFFLINED 0x03u
#define FRAME_BUDDY_HEAD 0x04u /* first frame of a free buddy */
#define FRAME_BROKEN 0x08u     /* offlined for a hardware fault: never onlined */
#define FRAME_RESERVED 0x10u   /* never handed to the heap */

#define FRAME_ALLOCATED 0x01u   /* the owner holds its allocation reference */
#define FRAME_EXTRA 0x02u       /* owned but not counted in tot_pages */
#define FRAME_EXTENT_HEAD 0x04u /* first frame of an owned extent */

/* first_dirty when the whole buddy is clean: 2^(MAX_ORDER+1) - 1. */
#define INVALID_DIRTY_IDX ((1u << (MAX_ORDER + 1)) - 1)

#define SCRUB_NOT_SCRUBBING 0
#define SCRUB_SCRUBBING 1
#define SCRUB_ABORT 2

/*
 * state, owner and owner_flags are read by code that may hold a different
 * lock from the writer's (a query of a frame another domain owns, or the
 * offlining of an owned page).  They are written and read with relaxed
 * atomics: plain moves on x86, and race-free in the C memory model.
 */
static inline uint8_t frame_state_bits(const struct frame *f)
{
    return __atomic_load_n(&f->state, __ATOMIC_RELAXED);
}
static inline void frame_set_state_bits(struct frame *f, uint8_t bits)
{
    __atomic_store_n(&f->state, bits, __ATOMIC_RELAXED);
}
static inline unsigned frame_state(const struct frame *f)
{
    return frame_state_bits(f) & FRAME_STATE_MASK;
}
static inline void frame_set_state(struct frame *f, unsigned s)
{
    frame_set_state_bits(f, (uint8_t)((frame_state_bits(f) & ~FRAME_STATE_MASK) | s));
}
static inline domid_t frame_owner(const struct frame *f)
{
    return __atomic_load_n(&f->owner, __ATOMIC_RELAXED);
}
static inline void frame_set_owner(struct frame *f, domid_t owner)
{
    __atomic_store_n(&f->owner, owner, __ATOMIC_RELAXED);
}
static inline uint8_t frame_owner_flags(const struct frame *f)
{
    return __atomic_load_n(&f->owner_flags, __ATOMIC_RELAXED);
}
static inline void frame_set_owner_flags(struct frame *f, uint8_t flags)
{
    __atomic_store_n(&f->owner_flags, flags, __ATOMIC_RELAXED);
}

struct machine_config {
    uint64_t ram_bytes;   /* a multiple of 2 MiB, at least 16 MiB */
    unsigned nr_nodes;    /* 1 .. MAX_NUMNODES; each node gets >= 8 MiB */
    bool huge_pages;      /* ask for transparent huge pages on RAM */
};

struct numa_node_range {
    uint64_t start_mfn;
    uint64_t end_mfn; /* exclusive */
};

struct machine {
    uint8_t *ram;
    struct frame *frames;
    /* The machine-to-phys table (Xen's M2P): gfn + 1 of a translated
     * guest's mapped page, 0 for none.  Written under the owner's p2m
     * lock; read with relaxed atomics. */
    uint64_t *m2p;
    uint64_t nr_frames;
    unsigned nr_nodes;
    struct numa_node_range node[MAX_NUMNODES];
    size_t ram_map_bytes;
    size_t frame_map_bytes;
    int pagemap_fd;        /* /proc/self/pagemap, or -1 */
};

/* 0, -EINVAL (bad config, with a reason in *why if non-NULL), -ENOMEM. */
int machine_create(const struct machine_config *cfg, struct machine **out,
                   const char **why) MV_MUST_CHECK;
void machine_destroy(struct machine *m);

static inline bool machine_mfn_valid(const struct machine *m, mfn_t mfn)
{
    return mfn_x(mfn) < m->nr_frames;
}

static inline struct frame *machine_frame(const struct machine *m, mfn_t mfn)
{
    assert(machine_mfn_valid(m, mfn));
    return &m->frames[mfn_x(mfn)];
}

static inline uint64_t machine_frame_mfn(const struct machine *m, const struct frame *f)
{
    return (uint64_t)(f - m->frames);
}

static inline void *machine_frame_bytes(const struct machine *m, mfn_t mfn)
{
    assert(machine_mfn_valid(m, mfn));
    return m->ram + (mfn_x(mfn) << PAGE_SHIFT);
}

/* The gfn the owner maps mfn at, or INVALID_GFN_RAW. */
static inline uint64_t machine_m2p(const struct machine *m, mfn_t mfn)
{
    uint64_t v = __atomic_load_n(&m->m2p[mfn_x(mfn)], __ATOMIC_RELAXED);

    return v ? v - 1 : INVALID_GFN_RAW;
}

static inline void machine_set_m2p(const struct machine *m, mfn_t mfn, uint64_t gfn)
{
    __atomic_store_n(&m->m2p[mfn_x(mfn)], gfn == INVALID_GFN_RAW ? 0 : gfn + 1,
                     __ATOMIC_RELAXED);
}

/* The node an MFN belongs to. */
unsigned machine_mfn_node(const struct machine *m, mfn_t mfn);

/*
 * Which pages of the frame table may have been written.  The table is an
 * anonymous mapping: a page of it never written holds zeros, i.e. free,
 * unowned, clean, unreserved frames, so a walk over every frame (a
 * checker's census) can take such a page as read and skip it; a sparse
 * host's walk then touches only what it uses (on a kernel without the
 * zero page a read would back every page it reads).  A bit per page of
 * MACHINE_FRAMES_PER_TABLE_PAGE frames, from /proc/self/pagemap (present
 * or swapped); malloc'd; NULL when that cannot be told (every page then
 * counts as used).
 */
/* Zeroes frames [mfn, mfn + nr) (a scrub): in runs of 64 pages or more,
 * pages of RAM never written, or only read (the kernel's zero page), are
 * zero already and are left alone, so scrubbing memory nobody wrote
 * neither costs a write nor backs it (a sparse host stays sparse); the
 * rest are cleared at memory bandwidth. */
void machine_clear_frames(const struct machine *m, mfn_t mfn, uint64_t nr);

/* Whether frames [mfn, mfn + nr) hold only zeros, for checkers: a page
 * of RAM never written is zero and is not read (a read would back it on
 * a kernel without the zero page); the rest are read. */
bool machine_frames_are_zero(const struct machine *m, mfn_t mfn, uint64_t nr);

#define MACHINE_FRAMES_PER_TABLE_PAGE (PAGE_SIZE / sizeof(struct frame))
uint64_t *machine_used_frame_map(const struct machine *m);

static inline bool machine_frame_maybe_used(const uint64_t *map, uint64_t mfn)
{
    uint64_t page = mfn / MACHINE_FRAMES_PER_TABLE_PAGE;

    return !map || (map[page / 64] >> (page % 64) & 1);
}

/* The first frame of the next table page after mfn's. */
static inline uint64_t machine_next_table_page(uint64_t mfn)
{
    return (mfn / MACHINE_FRAMES_PER_TABLE_PAGE + 1) * MACHINE_FRAMES_PER_TABLE_PAGE;
}

/* Distance between nodes, as the ACPI SLIT reports it: 10 local, 20 remote. */
static inline unsigned machine_node_distance(unsigned a, unsigned b) { return a == b ? 10 : 20; }

/*
 * Page primitives at memory bandwidth.
 *
 * pages_clear writes zeros with non-temporal stores: a scrubbed page is
 * about to change tenant, so pulling it into the cache (and reading it
 * first, as an ordinary store must) only costs bandwidth.
 * pages_clear_cached uses ordinary stores, for a page about to be used.
 */
void pages_clear(void *p, size_t nr_pages);
void pages_clear_cached(void *p, size_t nr_pages);
/* True if every byte of the nr_pages pages at p is zero. */
bool pages_are_zero(const void *p, size_t nr_pages);
void page_copy(void *dst, const void *src);

#endif
