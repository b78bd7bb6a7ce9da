/*
 * Heap lifecycle: handing the machine's frames to the buddy allocator at
 * boot, the index-linked frame lists, and small accessors.
 */
#include <stdlib.h>

#include "heap_internal.h"

void frame_list_push_head(struct heap *h, struct frame_list *l, uint64_t mfn)
{
    struct frame *f = heap_frame(h, mfn);

    f->prev = LIST_NIL;
    f->next = l->head;
    if (l->head != LIST_NIL)
        heap_frame(h, l->head)->prev = (uint32_t)mfn;
    else
        l->tail = (uint32_t)mfn;
    l->head = (uint32_t)mfn;
}

void frame_list_push_tail(struct heap *h, struct frame_list *l, uint64_t mfn)
{
    struct frame *f = heap_frame(h, mfn);

    f->next = LIST_NIL;
    f->prev = l->tail;
    if (l->tail != LIST_NIL)
        heap_frame(h, l->tail)->next = (uint32_t)mfn;
    else
        l->head = (uint32_t)mfn;
    l->tail = (uint32_t)mfn;
}

void frame_list_remove(struct heap *h, struct frame_list *l, uint64_t mfn)
{
    struct frame *f = heap_frame(h, mfn);

    if (f->prev != LIST_NIL)
        heap_frame(h, f->prev)->next = f->next;
    else
        l->head = f->next;
    if (f->next != LIST_NIL)
        heap_frame(h, f->next)->prev = f->prev;
    else
        l->tail = f->prev;
    f->next = f->prev = LIST_NIL;
}

struct heap_node *heap_node_of(struct heap *h, uint64_t mfn)
{
    return &h->node[machine_mfn_node(h->m, _mfn(mfn))];
}

/*
 * Hands [start, end) to the node as maximal aligned power-of-two chunks
 * (Xen's init_heap_pages).  Fresh anonymous memory reads as zero, so the
 * chunks are clean.
 */
static uint64_t node_add_range(struct heap *h, struct heap_node *n, uint64_t start, uint64_t end)
{
    uint64_t added = 0;

    while (start < end) {
        unsigned order = MAX_ORDER;
        uint64_t len = end - start;

        if (fls64(len) - 1 < order)
            order = fls64(len) - 1;
        if ((unsigned)__builtin_ctzll(start) < order)
            order = (unsigned)__builtin_ctzll(start);
        heap_frame(h, start)->first_dirty = INVALID_DIRTY_IDX;
        buddy_list_add(h, n, start, order);
        start += UINT64_C(1) << order;
        added += UINT64_C(1) << order;
    }
    return added;
}

int heap_create(struct machine *m, const struct heap_config *cfg,
                struct fault_injector *fault, struct heap **out)
{
    struct heap *h;

    if (cfg->gate != CLAIM_GATE_HEAD && cfg->gate != CLAIM_GATE_SHORTFALL)
        return -EINVAL;
    h = calloc(1, sizeof(*h) + m->nr_nodes * sizeof(h->node[0]));
    if (!h)
        return -ENOMEM;
    h->m = m;
    h->fault = fault;
    h->gate = cfg->gate;
    h->nr_nodes = m->nr_nodes;
    lock_init(&h->acct.lock, LOCK_RANK_HEAP_ACCOUNT, "heap account");

    for (unsigned i = 0; i < h->nr_nodes; i++) {
        struct heap_node *n = &h->node[i];
        /* Frame 0 is reserved: the heap starts at 1. */
        uint64_t start = max_u64(m->node[i].start_mfn, 1);
        uint64_t added;

        lock_init(&n->lock, LOCK_RANK_HEAP_NODE, "heap node");
        n->id = i;
        n->start_mfn = m->node[i].start_mfn;
        n->end_mfn = m->node[i].end_mfn;
        n->zone_lo = zone_of_mfn(start);
        n->zone_hi = zone_of_mfn(n->end_mfn - 1);
        atomic_init(&n->need_scrub, 0);
        atomic_init(&n->nr_offlined, 0);
        scrubber_init_node(n);

        lock_acquire(&n->lock);
        added = node_add_range(h, n, start, n->end_mfn);
        lock_release(&n->lock);
        h->acct.node_avail[i] = added;
        h->acct.total_avail += added;
        h->total_pages += added;
    }
    atomic_init(&h->anon_next_node, 0);
    if (cfg->background_scrub)
        heap_scrubbers_start(h);
    *out = h;
    return 0;
}

void heap_destroy(struct heap *h)
{
    if (!h)
        return;
    heap_scrubbers_stop(h);
    for (unsigned i = 0; i < h->nr_nodes; i++) {
        pthread_cond_destroy(&h->node[i].scrub_cond);
        lock_fini(&h->node[i].lock);
    }
    lock_fini(&h->acct.lock);
    free(h);
}

unsigned heap_nr_nodes(const struct heap *h) { return h->nr_nodes; }
struct machine *heap_machine(const struct heap *h) { return h->m; }
enum claim_gate heap_claim_gate(const struct heap *h) { return h->gate; }
