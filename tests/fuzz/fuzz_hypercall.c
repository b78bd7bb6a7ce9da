/*
 * libFuzzer target: the hypercall argument decoder.
 *
 * An input is a 512-byte guest buffer followed by calls of 52 bytes each:
 *   u8 op selector, u8 caller (bit 0: a guest instead of dom0),
 *   u8 argument modes (2 bits per argument, for args 0-3), u8 unused,
 *   u64 args[6] (little endian)
 * An argument's mode makes it a raw value (0), an address inside the guest
 * buffer (1), an address just past or around the end of it (2), or a
 * small number (3), so that the fuzzer reaches both valid and invalid
 * guest handles.  Structures the decoder reads come from the buffer bytes;
 * a 64-bit word 0xFEEDF00D0000xxxx in the buffer is relocated to the
 * buffer's address + xxxx, so that inputs can hold handles to themselves
 * (tests/fuzz/make_hypercall_seeds.py writes the seed corpus this way).
 *
 * Every input runs on a fresh host with two domains.  After the calls,
 * every checker must pass; anything else aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memvisor/hv.h"
#include "memvisor/hypercall.h"
#include "memvisor/toolstack.h"

#define GUEST_BUFFER 512
#define CALL_BYTES 52
#define MAX_CALLS 24
#define RELOC_TAG UINT64_C(0xFEEDF00D00000000)
#define RELOC_MASK UINT64_C(0xFFFFFFFFFFFF0000)

static const unsigned op_table[] = { HC_MEMORY_OP, HC_MULTICALL, HC_XEN_VERSION, HC_SYSCTL,
                                     HC_DOMCTL, 0, 99 };

static uint64_t load_u64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* Copies the guest buffer in, relocating tagged words to `base`. */
static void load_buffer(uint8_t *buf, const uint8_t *data, uint64_t base)
{
    memcpy(buf, data, GUEST_BUFFER);
    for (unsigned off = 0; off + 8 <= GUEST_BUFFER; off += 8) {
        uint64_t v = load_u64(buf + off);

        if ((v & RELOC_MASK) == RELOC_TAG) {
            v = base + (v & ~RELOC_MASK);
            memcpy(buf + off, &v, sizeof(v));
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hv_config cfg;
    struct hv *hv;
    struct hc_session *dom0, *guest;
    struct tc_handle *t;
    uint8_t *buf;
    domid_t hvm = DOMID_ANY, pv = DOMID_ANY;

    if (size < GUEST_BUFFER)
        return 0;
    hv_config_default(&cfg);
    cfg.ram_bytes = 64 << 20;
    cfg.nr_nodes = 2;
    cfg.background_scrub = false;
    cfg.log.level = MV_LOG_ERROR;
    if (hv_create(&cfg, &hv, NULL))
        abort();
    if (tc_open(hv, 0, true, &t) || tc_domain_create(t, &hvm, true, 1) ||
        tc_domain_create(t, &pv, false, 1) || tc_domain_setmaxmem(t, hvm, 16384) ||
        tc_domain_setmaxmem(t, pv, 16384))
        abort();
    tc_close(t);
    if (hc_session_create(hv, 0, true, &dom0) || hc_session_create(hv, hvm, false, &guest))
        abort();
    buf = hc_buffer_alloc(dom0, GUEST_BUFFER);
    if (!buf)
        abort();
    load_buffer(buf, data, (uint64_t)(uintptr_t)buf);
    /* The guest has its own copy of the same bytes. */
    buf = hc_buffer_alloc(guest, GUEST_BUFFER);
    if (!buf)
        abort();
    load_buffer(buf, data, (uint64_t)(uintptr_t)buf);

    data += GUEST_BUFFER;
    size -= GUEST_BUFFER;
    for (unsigned n = 0; n < MAX_CALLS && size >= CALL_BYTES; n++, data += CALL_BYTES, size -= CALL_BYTES) {
        bool as_guest = data[1] & 1;
        const struct hc_caller *c = hc_session_caller(as_guest ? guest : dom0);
        uint64_t base = c->mem->regions[0].gaddr;
        uint64_t args[6];

        for (unsigned a = 0; a < 6; a++) {
            uint64_t v = load_u64(data + 4 + 8 * a);
            unsigned mode = a < 4 ? (data[2] >> (2 * a)) & 3 : 0;

            switch (mode) {
            case 1: args[a] = base + v % GUEST_BUFFER; break;
            case 2: args[a] = base + GUEST_BUFFER - 64 + v % 128; break;
            case 3: args[a] = v % 64; break;
            default: args[a] = v; break;
            }
        }
        (void)mv_hypercall(c, op_table[data[0] % (sizeof(op_table) / sizeof(op_table[0]))], args);
    }

    if (hv_check(hv, stderr) != 0)
        abort();
    hc_session_destroy(guest);
    hc_session_destroy(dom0);
    hv_destroy(hv);
    return 0;
}
