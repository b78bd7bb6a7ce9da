/*
 * Debian's unmodified libxenctrl against memvisord, through the drop-in
 * libxencall (run by run_with_daemon.sh: LD_LIBRARY_PATH and
 * MEMVISOR_SOCKET point at them).  Compiled against Debian's <xenctrl.h>.
 *
 * It follows Xen's own tools/tests/mem-claim (claim 4 MiB: outstanding is
 * 1024 pages; populate one 2 MiB extent: 512; destroy: 0), then checks the
 * error cases of the claims spec, populate/decrease, getinfolist, the PoD
 * target calls, and a race of several processes claiming more memory than
 * exists.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xenctrl.h>

#ifndef DOMID_ANY
#define DOMID_ANY 0x7FF5U
#endif

static unsigned failures;

#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            failures++;                                                                \
            fprintf(stderr, "FAIL %s:%d: %s (errno %d: %s)\n", __FILE__, __LINE__, #cond, \
                    errno, strerror(errno));                                           \
        }                                                                              \
    } while (0)

static xc_interface *xch;

static unsigned long outstanding(void)
{
    xc_physinfo_t pi = { 0 };

    if (xc_physinfo(xch, &pi))
        return (unsigned long)-1;
    return pi.outstanding_pages;
}

static uint32_t create_hvm(void)
{
    struct xen_domctl_createdomain create = {
        .flags = XEN_DOMCTL_CDF_hvm | XEN_DOMCTL_CDF_hap,
        .max_vcpus = 1,
        .max_grant_frames = 1,
        .grant_opts = XEN_DOMCTL_GRANT_version(1),
        .arch = { .emulation_flags = XEN_X86_EMU_LAPIC },
    };
    uint32_t domid = DOMID_ANY;

    if (xc_domain_create(xch, &domid, &create))
        return DOMID_INVALID;
    return domid;
}

/* Xen's tools/tests/mem-claim/test-mem-claim.c, step by step. */
static void test_mem_claim(void)
{
    xc_physinfo_t pi = { 0 };
    xen_pfn_t gfn = 0;
    uint32_t d;

    CHECK(xc_physinfo(xch, &pi) == 0);
    CHECK(pi.outstanding_pages == 0);
    CHECK(pi.capabilities & XEN_SYSCTL_PHYSCAP_hvm);
    d = create_hvm();
    CHECK(d != DOMID_INVALID);
    CHECK(xc_domain_setmaxmem(xch, d, -1) == 0);
    CHECK(outstanding() == 0);
    CHECK(xc_domain_claim_pages(xch, d, 1024) == 0);
    CHECK(outstanding() == 1024);
    CHECK(xc_domain_populate_physmap_exact(xch, d, 1, 9, 0, &gfn) == 0);
    CHECK(outstanding() == 512);
    CHECK(xc_domain_destroy(xch, d) == 0);
    CHECK(outstanding() == 0);
}

/* The error cases of the claims spec (2.3, 2.9). */
static void test_claim_errors(void)
{
    xc_physinfo_t pi = { 0 };
    xen_pfn_t gfns[4] = { 0, 1, 2, 3 };
    uint32_t d = create_hvm();

    CHECK(d != DOMID_INVALID);
    CHECK(xc_physinfo(xch, &pi) == 0);
    /* max_pages is 0: EINVAL, not ENOMEM. */
    errno = 0;
    CHECK(xc_domain_claim_pages(xch, d, 100) == -1 && errno == EINVAL);
    CHECK(xc_domain_setmaxmem(xch, d, (pi.total_pages * 2) * 4) == 0);
    /* More than free memory: ENOMEM, nothing claimed. */
    errno = 0;
    CHECK(xc_domain_claim_pages(xch, d, pi.free_pages + 1) == -1 && errno == ENOMEM);
    CHECK(outstanding() == 0);
    /* The claim is a total: with 4 pages held, a claim of 4 is EINVAL. */
    CHECK(xc_domain_populate_physmap_exact(xch, d, 4, 0, 0, gfns) == 0);
    errno = 0;
    CHECK(xc_domain_claim_pages(xch, d, 4) == -1 && errno == EINVAL);
    CHECK(xc_domain_claim_pages(xch, d, 10) == 0);
    CHECK(outstanding() == 6);
    /* No second claim while one exists; cancel always works. */
    errno = 0;
    CHECK(xc_domain_claim_pages(xch, d, 20) == -1 && errno == EINVAL);
    CHECK(xc_domain_claim_pages(xch, d, 0) == 0);
    CHECK(xc_domain_claim_pages(xch, d, 0) == 0);
    CHECK(outstanding() == 0);
    /* Above max_pages. */
    CHECK(xc_domain_setmaxmem(xch, d, 64) == 0);
    errno = 0;
    CHECK(xc_domain_claim_pages(xch, d, 17) == -1 && errno == EINVAL);
    /* An unknown domain. */
    errno = 0;
    CHECK(xc_domain_claim_pages(xch, 31000, 10) == -1 && errno == EINVAL);
    CHECK(xc_domain_destroy(xch, d) == 0);
    /* A destroyed domain is gone. */
    errno = 0;
    CHECK(xc_domain_destroy(xch, d) == -1 && errno == ESRCH);
}

static void test_populate_decrease_getinfo(void)
{
    xen_pfn_t gfns[8], bad = 1ull << 40;
    xc_domaininfo_t info[8];
    uint32_t a = create_hvm(), b = create_hvm();
    int n, seen = 0;

    CHECK(a != DOMID_INVALID && b != DOMID_INVALID);
    CHECK(xc_domain_setmaxmem(xch, a, 16 * 1024) == 0);  /* 4096 pages */
    CHECK(xc_domain_setmaxmem(xch, b, 8 * 1024) == 0);
    for (int i = 0; i < 8; i++)
        gfns[i] = 0x1000 + (xen_pfn_t)i * 512;
    CHECK(xc_domain_populate_physmap_exact(xch, a, 4, 9, 0, gfns) == 0);
    for (int i = 0; i < 8; i++)
        gfns[i] = 10 + (xen_pfn_t)i;
    CHECK(xc_domain_populate_physmap_exact(xch, a, 8, 0, 0, gfns) == 0);
    /* Over max_pages: the "exact" wrapper reports EBUSY. */
    errno = 0;
    CHECK(xc_domain_populate_physmap_exact(xch, b, 1, 12, 0, gfns) == -1);
    /* Give back 3 pages and one superpage. */
    CHECK(xc_domain_decrease_reservation_exact(xch, a, 3, 0, gfns) == 0);
    gfns[0] = 0x1000;
    CHECK(xc_domain_decrease_reservation_exact(xch, a, 1, 9, gfns) == 0);
    /* Pages that are not there: the exact wrapper fails. */
    CHECK(xc_domain_decrease_reservation_exact(xch, a, 1, 0, &bad) == -1);

    n = xc_domain_getinfolist(xch, 0, 8, info);
    CHECK(n >= 3);
    for (int i = 0; i < n; i++) {
        if (info[i].domain == a) {
            seen++;
            CHECK(info[i].tot_pages == 3 * 512 + 5);
            CHECK(info[i].max_pages == 4096);
            CHECK(info[i].flags & XEN_DOMINF_hvm_guest);
        }
        if (info[i].domain == b)
            seen++;
    }
    CHECK(seen == 2);
    CHECK(xc_domain_destroy(xch, a) == 0);
    CHECK(xc_domain_destroy(xch, b) == 0);
}

/* Populate-on-demand as libxc's meminit_hvm drives it: the target first,
 * then PoD extents; the figures through both calls; balloon-down of PoD
 * entries shrinks the cache to the entries left. */
static void test_pod_target(void)
{
    uint64_t tot = 0, cache = 0, ents = 0;
    xen_pfn_t gfns[8];
    uint32_t d = create_hvm();

    CHECK(d != DOMID_INVALID);
    CHECK(xc_domain_setmaxmem(xch, d, 64 * 1024) == 0); /* 16384 pages */
    CHECK(xc_domain_set_pod_target(xch, d, 2048, &tot, &cache, &ents) == 0);
    CHECK(tot == 2048 && cache == 2048 && ents == 0);
    for (int i = 0; i < 8; i++)
        gfns[i] = (xen_pfn_t)i * 512;
    CHECK(xc_domain_populate_physmap_exact(xch, d, 8, 9, XENMEMF_populate_on_demand, gfns) == 0);
    CHECK(xc_domain_get_pod_target(xch, d, &tot, &cache, &ents) == 0);
    CHECK(tot == 2048 && cache == 2048 && ents == 4096);
    /* Over max_pages; an unknown domain. */
    errno = 0;
    CHECK(xc_domain_set_pod_target(xch, d, 16385, NULL, NULL, NULL) == -1 && errno == EINVAL);
    errno = 0;
    CHECK(xc_domain_get_pod_target(xch, 31000, &tot, &cache, &ents) == -1 && errno == ESRCH);
    /* The balloon gives back 3 of the 2 MiB ranges: 2560 entries are
     * left, and the cache (2048) is still below them. */
    CHECK(xc_domain_decrease_reservation_exact(xch, d, 3, 9, gfns) == 0);
    CHECK(xc_domain_get_pod_target(xch, d, &tot, &cache, &ents) == 0);
    CHECK(tot == 2048 && cache == 2048 && ents == 2560);
    /* Two more: entries (1536) fall below the cache, which follows. */
    CHECK(xc_domain_decrease_reservation_exact(xch, d, 2, 9, gfns + 3) == 0);
    CHECK(xc_domain_get_pod_target(xch, d, &tot, &cache, &ents) == 0);
    CHECK(tot == 1536 && cache == 1536 && ents == 1536);
    CHECK(xc_domain_destroy(xch, d) == 0);
}

/*
 * Several processes, each with its own libxenctrl handle, race to claim
 * more memory than exists: exactly the claims that fit succeed.
 */
static void test_claim_race(void)
{
    enum { PROCS = 8 };
    xc_physinfo_t pi = { 0 };
    unsigned long each, fit;
    pid_t pids[PROCS];
    int won = 0, lost = 0, other = 0;

    CHECK(xc_physinfo(xch, &pi) == 0);
    /* Each claims a bit more than a third: exactly two fit. */
    each = pi.free_pages / 3 + 1;
    fit = pi.free_pages / each;
    for (int i = 0; i < PROCS; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            xc_interface *x = xc_interface_open(NULL, NULL, 0);
            struct xen_domctl_createdomain create = {
                .flags = XEN_DOMCTL_CDF_hvm | XEN_DOMCTL_CDF_hap, .max_vcpus = 1,
                .arch = { .emulation_flags = XEN_X86_EMU_LAPIC } };
            uint32_t d = DOMID_ANY;
            int rc;

            if (!x || xc_domain_create(x, &d, &create) || xc_domain_setmaxmem(x, d, each * 4))
                _exit(3);
            rc = xc_domain_claim_pages(x, d, each);
            _exit(rc == 0 ? 0 : errno == ENOMEM ? 1 : 2);
        }
    }
    for (int i = 0; i < PROCS; i++) {
        int status = 0;
        waitpid(pids[i], &status, 0);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
            won++;
        else if (WIFEXITED(status) && WEXITSTATUS(status) == 1)
            lost++;
        else
            other++;
    }
    printf("claim race: %d processes claiming %lu pages each of %lu free: %d won, %d refused\n",
           PROCS, each, (unsigned long)pi.free_pages, won, lost);
    CHECK((unsigned long)won == fit);
    CHECK(lost == PROCS - (int)fit);
    CHECK(other == 0);
    CHECK(outstanding() == fit * each);
    /* Leave the host clean: destroy every domain but dom0. */
    {
        xc_domaininfo_t info[64];
        int n = xc_domain_getinfolist(xch, 1, 64, info);
        for (int i = 0; i < n; i++)
            CHECK(xc_domain_destroy(xch, info[i].domain) == 0);
    }
    CHECK(outstanding() == 0);
}

int main(void)
{
    xch = xc_interface_open(NULL, NULL, 0);
    if (!xch) {
        perror("xc_interface_open");
        return 1;
    }
    test_mem_claim();
    test_claim_errors();
    test_populate_decrease_getinfo();
    test_pod_target();
    test_claim_race();
    xc_interface_close(xch);
    printf("xenctrl: %u failures\n", failures);
    return failures ? 1 : 0;
}
