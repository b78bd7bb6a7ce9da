/*
 * The guest kernel model's insides, shared by guest_os.c (the thread, the
 * workload) and balloon.c (the balloon driver).  Everything here belongs to
 * the guest's thread, except `st`, `event` and `stop`, which other threads
 * read under (or signal through) `mu`.
 */
#ifndef MEMVISOR_GUEST_OS_INTERNAL_H
#define MEMVISOR_GUEST_OS_INTERNAL_H

#include <stdatomic.h>

#include "memvisor/clock.h"
#include "memvisor/guest.h"
#include "memvisor/guest_os.h"
#include "memvisor/hypercall.h"
#include "memvisor/p2m.h"

/* A page's state (low bits) and whether the guest has written it since it
 * was (re)populated. */
enum { PG_FREE = 0, PG_USED = 1, PG_BALLOON = 2, PG_REPORTED = 3, PG_CACHE = 4 };
#define PG_STATE_MASK 0x7
#define PG_TOUCHED 0x10

/* A ring of page indices, used from both ends. */
struct deque {
    uint32_t *a;
    uint32_t cap, head, len;
};
void dq_push_back(struct deque *q, uint32_t v);
void dq_push_front(struct deque *q, uint32_t v);
uint32_t dq_pop_back(struct deque *q);
uint32_t dq_pop_front(struct deque *q);

struct vnode_lists {
    struct deque free;     /* front: low gfns, taken by the workload; back: the balloon's */
    struct deque used;     /* the working set: front the coldest */
    struct deque balloon;  /* given back to Xen: LIFO, as Linux's list */
    struct deque reported; /* free, but handed back by free page reporting */
    uint64_t pages;
};

struct guest_os {
    struct guest_os_config cfg;
    struct domain *d;      /* a reference */
    struct mv_clock *clock; /* the host's */
    struct mv_clock_thread *thread;
    uint64_t boot_ns;
    uint64_t rng;

    struct mv_lock mu;     /* rank GUEST_OS */
    struct mv_cond cv;     /* a watch fired, or stop */
    bool event;            /* a watch fired (under mu) */
    _Atomic bool stop;
    struct guest_os_status st; /* under mu for other threads */
    struct guest_os_status ctr; /* the thread's counters, published into st */

    /* The memory map, indexed. */
    uint32_t nr_pages;
    uint64_t *gfn;
    uint64_t *ident;       /* whose data a used page holds (a gfn: its pattern) */
    uint8_t *state;
    uint8_t *vnode;
    struct vnode_lists vn[GUEST_MAX_VNODES];

    /* Swap over tmem's persistent pool. */
    struct guest_swap *swap;
    struct deque swapped;  /* slots in use, oldest first */
    struct deque free_slots;
    uint64_t *slot_ident;

    /* The page cache: frames [cache_first, cache_first + cache_frames). */
    struct guest_pagecache *cache;
    uint32_t cache_first;
    uint64_t cache_frames;

    /* The balloon driver (balloon.c). */
    struct store_conn *xs;
    struct hc_session *hc;
    struct xen_memory_reservation *resv;
    uint64_t *extents;     /* in hc's buffers */
    uint64_t balloon_pages;
    uint64_t target_pages;
    int64_t target_diff;
    bool target_known, diff_known;
    enum balloon_state bstate;
    unsigned retries;
    uint64_t delay_s, next_try_s;
    bool vnode_offered, vnode_mode;
    uint64_t vnode_target[GUEST_MAX_VNODES];
    uint64_t vnode_reported[GUEST_MAX_VNODES];
    uint64_t reported_total;
    uint64_t self_target;
    uint64_t next_self_s, next_report_s;
};

uint64_t guest_os_now_s(const struct guest_os *g);
bool guest_os_alive(const struct guest_os *g);
void guest_os_crash(struct guest_os *g, int rc, const char *what);
void guest_os_publish(struct guest_os *g);
uint64_t guest_os_want(const struct guest_os *g, uint64_t now_s);
uint64_t guest_os_used(const struct guest_os *g);
unsigned guest_os_check(struct guest_os *g);
struct store_event_sink guest_os_sink(struct guest_os *g);
int guest_swap_out_page(struct guest_os *g, uint32_t i);

/* balloon.c */
int balloon_init(struct guest_os *g);
void balloon_fini(struct guest_os *g);
/* One round of the driver's worker; `event`: a watch fired. */
int balloon_step(struct guest_os *g, bool event);
bool balloon_reached(const struct guest_os *g);
/* The model second the driver next has work (now_s: now; UINT64_MAX:
 * none until a watch fires), selfballooning and free page reporting
 * counted. */
uint64_t balloon_next_s(const struct guest_os *g, uint64_t now_s);
/* Repopulates page i (a reported or ballooned page): 0 or -ENOMEM. */
int balloon_populate_one(struct guest_os *g, uint32_t i);
/* Up to 256 pages out of the balloon for a workload about to fail. */
uint64_t balloon_deflate_on_oom(struct guest_os *g);
int balloon_report_free(struct guest_os *g, uint64_t now_s);

#endif
