/*
 * base: the vocabulary every layer shares.
 *
 * Type-safe frame numbers, the 0/-errno convention, assertions that say
 * what kind of belief they encode, and small arithmetic helpers.  Nothing
 * here owns state.
 */
#ifndef MEMVISOR_BASE_H
#define MEMVISOR_BASE_H

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MV_API __attribute__((visibility("default")))
#define MV_MUST_CHECK __attribute__((warn_unused_result))
#define MV_UNUSED __attribute__((unused))
#define MV_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define MV_LIKELY(x) __builtin_expect(!!(x), 1)
#define MV_UNLIKELY(x) __builtin_expect(!!(x), 0)

#ifdef NDEBUG
#define MV_DEBUG 0
#else
#define MV_DEBUG 1
#endif
/* Debug code always compiles; it only runs in debug builds. */
static const bool mv_debug MV_UNUSED = MV_DEBUG;

#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
/* Largest buddy order: 2^18 pages = 1 GiB, as on x86 Xen. */
#define MAX_ORDER 18
#define SUPERPAGE_ORDER 9 /* 2 MiB */
#define GIGAPAGE_ORDER 18 /* 1 GiB */
#define MAX_NUMNODES 64

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Domain ids, as in Xen's public xen.h (which, when included, must come
 * first: it defines these without guards). */
typedef uint16_t domid_t;
#ifndef DOMID_FIRST_RESERVED
#define DOMID_FIRST_RESERVED 0x7FF0U
#define DOMID_SELF 0x7FF0U
#define DOMID_XEN 0x7FF2U
#define DOMID_INVALID 0x7FF4U
#endif
/* "Pick a free domid" (Xen HEAD's DOMID_ANY; 4.17 does the same for any id
 * at or above the reserved range). */
#ifndef DOMID_ANY
#define DOMID_ANY 0x7FF5U
#endif

/*
 * Machine and guest frame numbers are distinct types so that the compiler
 * rejects passing one where the other is meant (Xen's TYPE_SAFE).
 */
typedef struct { uint64_t m; } mfn_t;
typedef struct { uint64_t g; } gfn_t;
#define INVALID_MFN_RAW UINT64_MAX
#define INVALID_GFN_RAW UINT64_MAX

static inline mfn_t _mfn(uint64_t m) { return (mfn_t){ m }; }
static inline uint64_t mfn_x(mfn_t m) { return m.m; }
static inline gfn_t _gfn(uint64_t g) { return (gfn_t){ g }; }
static inline uint64_t gfn_x(gfn_t g) { return g.g; }
static inline bool mfn_eq(mfn_t a, mfn_t b) { return a.m == b.m; }
static inline mfn_t mfn_add(mfn_t m, uint64_t n) { return _mfn(m.m + n); }
static inline gfn_t gfn_add(gfn_t g, uint64_t n) { return _gfn(g.g + n); }
/* (Debian's xenctrl.h has its own INVALID_MFN, a number: code that
 * includes it uses INVALID_MFN_RAW.) */
#ifndef INVALID_MFN
#define INVALID_MFN _mfn(INVALID_MFN_RAW)
#endif
#ifndef INVALID_GFN
#define INVALID_GFN _gfn(INVALID_GFN_RAW)
#endif

/*
 * Assertions (SQLite's vocabulary):
 *  - assert(x): a proven fact; compiled out in release builds.
 *  - ALWAYS(x) / NEVER(x): believed true, but the release build still
 *    handles the other case; in debug builds a violation aborts.
 */
#define ALWAYS(x) (mv_debug ? ((x) ? true : (mv_assert_fail(#x, __FILE__, __LINE__), false)) : !!(x))
#define NEVER(x) (mv_debug ? ((x) ? (mv_assert_fail("!(" #x ")", __FILE__, __LINE__), true) : false) : !!(x))
/* A bug that cannot be handled: abort in every build. */
#define BUG_ON(x) do { if (MV_UNLIKELY(x)) mv_assert_fail(#x, __FILE__, __LINE__); } while (0)

MV_API void mv_assert_fail(const char *expr, const char *file, int line)
    __attribute__((noreturn));

/* Saturating arithmetic: free memory can fall below outstanding claims when
 * pages are offlined (specs 2.9 item 7), and a report must not wrap. */
static inline uint64_t sat_sub(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }
static inline uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }
static inline uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }

/* 1-based index of the most significant set bit; 0 for 0 (Xen's flsl). */
static inline unsigned fls64(uint64_t x) { return x ? 64 - (unsigned)__builtin_clzll(x) : 0; }

static inline bool is_aligned_u64(uint64_t x, unsigned order)
{
    return (x & ((UINT64_C(1) << order) - 1)) == 0;
}

/* Error names for -errno values ("ENOMEM"); NULL when unknown. */
MV_API const char *mv_errno_name(int err);
/* A human message for 0 or -errno. */
MV_API const char *mv_strerror(int err);
/* Parses an errno name such as "EINVAL"; returns -errno or 0 if unknown. */
MV_API int mv_errno_from_name(const char *name);

/* Sizes on command lines: "4G", "512M", "1T", "4096K", "65536" (bytes).
 * 0 or -EINVAL (junk, empty) or -ERANGE (overflow). */
MV_API int mv_parse_size(const char *text, uint64_t *bytes_out) MV_MUST_CHECK;
/* A decimal unsigned integer in [min, max]. */
MV_API int mv_parse_uint(const char *text, uint64_t min, uint64_t max,
                         uint64_t *out) MV_MUST_CHECK;

/* Monotonic time. */
MV_API uint64_t mv_now_ns(void);
/* Sleeps ns (resuming after signals). */
MV_API void mv_sleep_ns(uint64_t ns);

#endif
