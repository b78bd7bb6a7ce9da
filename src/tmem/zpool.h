/*
 * zpool: tmem's fragment allocator (zsmalloc's design, spec §8).
 *
 * Objects (compressed pages, or pages stored raw) live in zspages: 1 to 4
 * frames, not necessarily contiguous, cut into equal slots of one size
 * class, so an object may span two frames and a class wastes at most a
 * slot's rounding.  A zspage that empties gives its frames back at once,
 * and eviction empties a whole zspage, so what comes back is frames, not
 * fragments.  Each slot remembers its owner, for eviction.
 *
 * Locking: one lock per size class (rank TMEM_CLASS) covers its zspages,
 * their slots and its LRU list; nothing is global.  Frames are taken from
 * the frame source with no class lock held, and given back with it held
 * (the source's locks rank above).
 *
 * Eviction is bottom-up: with the class lock held, the evict callback
 * gets each owner and must only *try* its locks (Xen's order, §2.8).
 *
 * Invariants (zpool_check, quiescent):
 *   zspage: inuse = the slots set in its bitmap, 0 < inuse <= nr_slots
 *   class:  objects = sum over its zspages of inuse; every zspage is on
 *           its class's list, in increasing seq (when it joined the tail);
 *           on the partial list iff inuse < nr_slots; head_seq = the
 *           first one's seq
 *   pool:   frames = sum over zspages of nr_frames; objects = the sum of
 *           the classes' (stored_bytes = their lengths: tmem checks it)
 */
#ifndef MEMVISOR_TMEM_ZPOOL_H
#define MEMVISOR_TMEM_ZPOOL_H

#include <stdio.h>

#include "memvisor/check.h"
#include "memvisor/fault.h"
#include "memvisor/lock.h"
#include "memvisor/machine.h"

#define ZPOOL_CLASS_STEP 32
#define ZPOOL_MAX_FRAMES 4
/* Classes of 32, 64, ... 4096 bytes. */
#define ZPOOL_NR_CLASSES (PAGE_SIZE / ZPOOL_CLASS_STEP)

/* Where a pool's frames come from, and go back to.  get gives a frame or
 * -ENOMEM (none to be had) or -EDQUOT (the owner may have no more); put
 * takes it back (the source scrubs it before anyone else
 * sees it). */
struct zpool_frame_source {
    int (*get)(void *arg, mfn_t *mfn);
    void (*put)(void *arg, mfn_t mfn);
    void *arg;
};

struct zspage;
struct zpool;

/* Where an object lives.  zs == NULL: nowhere. */
struct zhandle {
    struct zspage *zs;
    uint32_t slot;
};

int zpool_create(struct machine *m, const struct zpool_frame_source *src,
                 struct fault_injector *fault, struct zpool **out) MV_MUST_CHECK;
/* Gives every frame back; the pool must hold no object the caller still
 * means to use. */
void zpool_destroy(struct zpool *zp);

/* Stores len bytes (1 .. PAGE_SIZE) for owner.  -EINVAL, -ENOMEM (no
 * frame), -EDQUOT (the source's owner is at its limit), -ENOBUFS (no
 * memory for a zspage's descriptor). */
int zpool_store(struct zpool *zp, const void *bytes, size_t len, void *owner,
                struct zhandle *out) MV_MUST_CHECK;
/* Copies the object's len bytes to dst. */
void zpool_load(struct zpool *zp, struct zhandle h, void *dst, size_t len);
/* The object's bytes in place when they lie in one frame; else copied to
 * scratch (PAGE_SIZE bytes), which is returned. */
const void *zpool_map(struct zpool *zp, struct zhandle h, size_t len, void *scratch);
/* Frees the object (len bytes) and, with it, an emptied zspage. */
void zpool_free(struct zpool *zp, struct zhandle h, size_t len);
/* Marks the object's zspage recently used. */
void zpool_touch(struct zpool *zp, struct zhandle h);

/*
 * Eviction.  zpool_evict empties the oldest zspage it can, over all
 * classes (a CLOCK: one hit since it was last looked at buys a second
 * chance; a bounded number of classes and zspages is looked at): for each
 * object there, with
 * the class lock held, evict(arg, owner, h) is called and returns the
 * object's length once it has unlinked it (the zpool then frees the slot),
 * or 0 if it could not take the owner's locks.  Returns the frames given
 * back (0: nothing could be emptied).
 */
typedef size_t (*zpool_evict_fn)(void *arg, void *owner, struct zhandle h);
unsigned zpool_evict(struct zpool *zp, zpool_evict_fn evict, void *arg);

/* Empties every zspage with a frame in [mfn, mfn + n): 0, or -EBUSY if an
 * object there could not be evicted. */
int zpool_evict_range(struct zpool *zp, uint64_t mfn, uint64_t n, zpool_evict_fn evict, void *arg);
/* Calls fn for each frame the pool holds (class locks held in turn). */
void zpool_for_each_frame(struct zpool *zp, void (*fn)(void *arg, uint64_t mfn), void *arg);

struct zpool_stats {
    uint64_t frames;        /* frames held */
    uint64_t zspages;
    uint64_t objects;
    uint64_t stored_bytes;  /* the objects' lengths */
    uint64_t evicted_zspages;
};
void zpool_get_stats(struct zpool *zp, struct zpool_stats *out);

/* The size class that holds len bytes, and its zspage's frame count and
 * slots (exposed for tests). */
unsigned zpool_class_of(size_t len);
void zpool_class_shape(unsigned cls, unsigned *frames, unsigned *slots);

unsigned zpool_check(struct zpool *zp, struct mv_checker *c);

#endif
