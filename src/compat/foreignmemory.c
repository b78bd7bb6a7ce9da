/*
 * A drop-in libxenforeignmemory.so.1.  libxenctrl opens a handle in
 * xc_interface_open and fails without one, so opening succeeds; mapping
 * another domain's memory is not served by memvisor (guest memory lives in
 * the daemon), and every mapping call says so with EOPNOTSUPP.
 */
#include <errno.h>
#include <stdlib.h>

#include <xenforeignmemory.h>

#define EXPORT __attribute__((visibility("default")))

struct xenforeignmemory_handle {
    int unused;
};

EXPORT xenforeignmemory_handle *xenforeignmemory_open(struct xentoollog_logger *logger,
                                                      unsigned open_flags)
{
    (void)logger;
    (void)open_flags;
    return calloc(1, sizeof(struct xenforeignmemory_handle));
}

EXPORT int xenforeignmemory_close(xenforeignmemory_handle *fmem)
{
    free(fmem);
    return 0;
}

EXPORT void *xenforeignmemory_map(xenforeignmemory_handle *fmem, uint32_t dom, int prot,
                                  size_t pages, const xen_pfn_t arr[], int err[])
{
    (void)fmem, (void)dom, (void)prot, (void)arr;
    for (size_t i = 0; err && i < pages; i++)
        err[i] = -EOPNOTSUPP;
    errno = EOPNOTSUPP;
    return NULL;
}

EXPORT void *xenforeignmemory_map2(xenforeignmemory_handle *fmem, uint32_t dom, void *addr,
                                   int prot, int flags, size_t pages, const xen_pfn_t arr[],
                                   int err[])
{
    (void)addr, (void)flags;
    return xenforeignmemory_map(fmem, dom, prot, pages, arr, err);
}

EXPORT int xenforeignmemory_unmap(xenforeignmemory_handle *fmem, void *addr, size_t pages)
{
    (void)fmem, (void)addr, (void)pages;
    errno = EINVAL; /* nothing was ever mapped */
    return -1;
}

EXPORT int xenforeignmemory_restrict(xenforeignmemory_handle *fmem, domid_t domid)
{
    (void)fmem, (void)domid;
    errno = EOPNOTSUPP;
    return -1;
}

EXPORT xenforeignmemory_resource_handle *xenforeignmemory_map_resource(
    xenforeignmemory_handle *fmem, domid_t domid, unsigned int type, unsigned int id,
    unsigned long frame, unsigned long nr_frames, void **paddr, int prot, int flags)
{
    (void)fmem, (void)domid, (void)type, (void)id, (void)frame, (void)nr_frames, (void)paddr;
    (void)prot, (void)flags;
    errno = EOPNOTSUPP;
    return NULL;
}

EXPORT int xenforeignmemory_unmap_resource(xenforeignmemory_handle *fmem,
                                           xenforeignmemory_resource_handle *fres)
{
    (void)fmem, (void)fres;
    errno = EINVAL;
    return -1;
}

EXPORT int xenforeignmemory_resource_size(xenforeignmemory_handle *fmem, domid_t domid,
                                          unsigned int type, unsigned int id, size_t *size)
{
    (void)fmem, (void)domid, (void)type, (void)id, (void)size;
    errno = EOPNOTSUPP;
    return -1;
}
