/*
 * The hypercall socket's wire protocol, between memvisord and its clients
 * (the drop-in libxencall, the memvisor CLI).
 *
 * A SOCK_SEQPACKET unix socket: every message is one packet of a fixed
 * size.  The client's hypercall buffers live in a memfd it shares once, at
 * HELLO, with SCM_RIGHTS.  The memfd must be sealed against shrinking, so
 * it can only grow: the daemon maps it whole at HELLO and never touches a
 * byte past the size it has seen (fstat).  Guest handles in hypercall
 * arguments are the client's addresses inside that region; the daemon
 * translates them by offset, and refuses anything outside with -EFAULT.
 *
 *   client                                daemon
 *   HELLO {base, max} + memfd     ->
 *                                 <-      HELLO_REPLY {status}
 *   CALL {op, args[6], size}      ->      (runs the hypercall as dom0)
 *                                 <-      REPLY {result}
 *
 * A packet of the wrong size, magic or type ends the connection.
 */
#ifndef MEMVISOR_WIRE_H
#define MEMVISOR_WIRE_H

#include <stdint.h>

#define MV_WIRE_MAGIC 0x4d564843u /* "MVHC" */
#define MV_WIRE_VERSION 1u

enum mv_wire_type {
    MV_WIRE_HELLO = 1,
    MV_WIRE_HELLO_REPLY = 2,
    MV_WIRE_CALL = 3,
    MV_WIRE_REPLY = 4,
};

/* The largest buffer region a client may share (virtual size). */
#define MV_WIRE_REGION_MAX (UINT64_C(1) << 32)

struct mv_wire_hello {
    uint32_t magic;
    uint32_t type;        /* MV_WIRE_HELLO */
    uint32_t version;     /* MV_WIRE_VERSION */
    uint32_t pad;
    uint64_t region_base; /* where the region starts in the client */
    uint64_t region_max;  /* its virtual size: the memfd may grow to it */
};

struct mv_wire_hello_reply {
    uint32_t magic;
    uint32_t type;        /* MV_WIRE_HELLO_REPLY */
    int32_t status;       /* 0 or -errno */
    uint16_t domid;       /* the caller's domain: 0, the control domain */
    uint16_t pad;
};

struct mv_wire_call {
    uint32_t magic;
    uint32_t type;        /* MV_WIRE_CALL */
    uint32_t op;          /* hypercall number */
    uint32_t pad;
    uint64_t args[6];
    uint64_t region_size; /* the client's current memfd size (a hint) */
};

struct mv_wire_reply {
    uint32_t magic;
    uint32_t type;        /* MV_WIRE_REPLY */
    int64_t result;
};

#endif
