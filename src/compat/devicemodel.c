/*
 * A drop-in libxendevicemodel.so.1.  libxenctrl opens a handle in
 * xc_interface_open and fails without one, so opening succeeds.  memvisor
 * has no device models (no ioreq servers, no emulated devices): every
 * operation fails with EOPNOTSUPP.
 */
#include <errno.h>
#include <stdlib.h>

#include <xendevicemodel.h>

#define EXPORT __attribute__((visibility("default")))

struct xendevicemodel_handle {
    int unused;
};

EXPORT xendevicemodel_handle *xendevicemodel_open(struct xentoollog_logger *logger,
                                                  unsigned int open_flags)
{
    (void)logger;
    (void)open_flags;
    return calloc(1, sizeof(struct xendevicemodel_handle));
}

EXPORT int xendevicemodel_close(xendevicemodel_handle *dmod)
{
    free(dmod);
    return 0;
}

static int not_served(void)
{
    errno = EOPNOTSUPP;
    return -1;
}

EXPORT int xendevicemodel_create_ioreq_server(xendevicemodel_handle *d, domid_t domid,
                                              int handle_bufioreq, ioservid_t *id)
{
    (void)d, (void)domid, (void)handle_bufioreq, (void)id;
    return not_served();
}

EXPORT int xendevicemodel_get_ioreq_server_info(xendevicemodel_handle *d, domid_t domid,
                                                ioservid_t id, xen_pfn_t *ioreq_gfn,
                                                xen_pfn_t *bufioreq_gfn,
                                                evtchn_port_t *bufioreq_port)
{
    (void)d, (void)domid, (void)id, (void)ioreq_gfn, (void)bufioreq_gfn, (void)bufioreq_port;
    return not_served();
}

EXPORT int xendevicemodel_map_io_range_to_ioreq_server(xendevicemodel_handle *d, domid_t domid,
                                                       ioservid_t id, int is_mmio,
                                                       uint64_t start, uint64_t end)
{
    (void)d, (void)domid, (void)id, (void)is_mmio, (void)start, (void)end;
    return not_served();
}

EXPORT int xendevicemodel_unmap_io_range_from_ioreq_server(xendevicemodel_handle *d,
                                                           domid_t domid, ioservid_t id,
                                                           int is_mmio, uint64_t start,
                                                           uint64_t end)
{
    (void)d, (void)domid, (void)id, (void)is_mmio, (void)start, (void)end;
    return not_served();
}

EXPORT int xendevicemodel_map_mem_type_to_ioreq_server(xendevicemodel_handle *d, domid_t domid,
                                                       ioservid_t id, uint16_t type,
                                                       uint32_t flags)
{
    (void)d, (void)domid, (void)id, (void)type, (void)flags;
    return not_served();
}

EXPORT int xendevicemodel_map_pcidev_to_ioreq_server(xendevicemodel_handle *d, domid_t domid,
                                                     ioservid_t id, uint16_t segment,
                                                     uint8_t bus, uint8_t device,
                                                     uint8_t function)
{
    (void)d, (void)domid, (void)id, (void)segment, (void)bus, (void)device, (void)function;
    return not_served();
}

EXPORT int xendevicemodel_unmap_pcidev_from_ioreq_server(xendevicemodel_handle *d,
                                                         domid_t domid, ioservid_t id,
                                                         uint16_t segment, uint8_t bus,
                                                         uint8_t device, uint8_t function)
{
    (void)d, (void)domid, (void)id, (void)segment, (void)bus, (void)device, (void)function;
    return not_served();
}

EXPORT int xendevicemodel_destroy_ioreq_server(xendevicemodel_handle *d, domid_t domid,
                                               ioservid_t id)
{
    (void)d, (void)domid, (void)id;
    return not_served();
}

EXPORT int xendevicemodel_set_ioreq_server_state(xendevicemodel_handle *d, domid_t domid,
                                                 ioservid_t id, int enabled)
{
    (void)d, (void)domid, (void)id, (void)enabled;
    return not_served();
}

EXPORT int xendevicemodel_set_pci_intx_level(xendevicemodel_handle *d, domid_t domid,
                                             uint16_t segment, uint8_t bus, uint8_t device,
                                             uint8_t intx, unsigned int level)
{
    (void)d, (void)domid, (void)segment, (void)bus, (void)device, (void)intx, (void)level;
    return not_served();
}

EXPORT int xendevicemodel_set_isa_irq_level(xendevicemodel_handle *d, domid_t domid,
                                            uint8_t irq, unsigned int level)
{
    (void)d, (void)domid, (void)irq, (void)level;
    return not_served();
}

EXPORT int xendevicemodel_set_irq_level(xendevicemodel_handle *d, domid_t domid,
                                        unsigned int irq, unsigned int level)
{
    (void)d, (void)domid, (void)irq, (void)level;
    return not_served();
}

EXPORT int xendevicemodel_set_pci_link_route(xendevicemodel_handle *d, domid_t domid,
                                             uint8_t link, uint8_t irq)
{
    (void)d, (void)domid, (void)link, (void)irq;
    return not_served();
}

EXPORT int xendevicemodel_inject_msi(xendevicemodel_handle *d, domid_t domid, uint64_t msi_addr,
                                     uint32_t msi_data)
{
    (void)d, (void)domid, (void)msi_addr, (void)msi_data;
    return not_served();
}

EXPORT int xendevicemodel_track_dirty_vram(xendevicemodel_handle *d, domid_t domid,
                                           uint64_t first_pfn, uint32_t nr,
                                           unsigned long *dirty_bitmap)
{
    (void)d, (void)domid, (void)first_pfn, (void)nr, (void)dirty_bitmap;
    return not_served();
}

EXPORT int xendevicemodel_modified_memory(xendevicemodel_handle *d, domid_t domid,
                                          uint64_t first_pfn, uint32_t nr)
{
    (void)d, (void)domid, (void)first_pfn, (void)nr;
    return not_served();
}

EXPORT int xendevicemodel_modified_memory_bulk(xendevicemodel_handle *d, domid_t domid,
                                               struct xen_dm_op_modified_memory_extent extents[],
                                               uint32_t nr)
{
    (void)d, (void)domid, (void)extents, (void)nr;
    return not_served();
}

EXPORT int xendevicemodel_set_mem_type(xendevicemodel_handle *d, domid_t domid,
                                       hvmmem_type_t mem_type, uint64_t first_pfn, uint32_t nr)
{
    (void)d, (void)domid, (void)mem_type, (void)first_pfn, (void)nr;
    return not_served();
}

EXPORT int xendevicemodel_inject_event(xendevicemodel_handle *d, domid_t domid, int vcpu,
                                       uint8_t vector, uint8_t type, uint32_t error_code,
                                       uint8_t insn_len, uint64_t extra)
{
    (void)d, (void)domid, (void)vcpu, (void)vector, (void)type, (void)error_code,
        (void)insn_len, (void)extra;
    return not_served();
}

EXPORT int xendevicemodel_shutdown(xendevicemodel_handle *d, domid_t domid, unsigned int reason)
{
    (void)d, (void)domid, (void)reason;
    return not_served();
}

EXPORT int xendevicemodel_relocate_memory(xendevicemodel_handle *d, domid_t domid, uint32_t size,
                                          uint64_t src_gfn, uint64_t dst_gfn)
{
    (void)d, (void)domid, (void)size, (void)src_gfn, (void)dst_gfn;
    return not_served();
}

EXPORT int xendevicemodel_pin_memory_cacheattr(xendevicemodel_handle *d, domid_t domid,
                                               uint64_t start, uint64_t end, uint32_t type)
{
    (void)d, (void)domid, (void)start, (void)end, (void)type;
    return not_served();
}

EXPORT int xendevicemodel_nr_vcpus(xendevicemodel_handle *d, domid_t domid, unsigned int *vcpus)
{
    (void)d, (void)domid, (void)vcpus;
    return not_served();
}

EXPORT int xendevicemodel_restrict(xendevicemodel_handle *d, domid_t domid)
{
    (void)d, (void)domid;
    return not_served();
}
