#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_hypercall (the format is described at the
top of fuzz_hypercall.c).  Run from the repository root:
    python3 tests/fuzz/make_hypercall_seeds.py tests/fuzz/corpus/fuzz_hypercall
"""
import os
import struct
import sys

BUF = 512
RELOC = 0xFEEDF00D00000000
OPS = {"memory_op": 0, "multicall": 1, "xen_version": 2, "sysctl": 3, "domctl": 4, "zero": 5, "bogus": 6}
DOMCTL_V = 0x15
SYSCTL_V = 0x15
HVM_DOMID = 1   # the harness creates d1 (HVM) and d2 (PV)
PV_DOMID = 2


def reloc(off):
    return RELOC | off


def put(buf, off, fmt, *vals):
    struct.pack_into("<" + fmt, buf, off, *vals)


def call(op, args, modes=(0, 0, 0, 0), guest=False):
    m = 0
    for i, mode in enumerate(modes):
        m |= (mode & 3) << (2 * i)
    args = list(args) + [0] * (6 - len(args))
    return struct.pack("<BBBB6Q", OPS[op], 1 if guest else 0, m, 0, *args)


def sysctl(buf, cmd, body=b""):
    put(buf, 0, "II", cmd, SYSCTL_V)
    buf[8:8 + len(body)] = body


def domctl(buf, cmd, domid, body=b""):
    put(buf, 0, "IIH", cmd, DOMCTL_V, domid)
    buf[16:16 + len(body)] = body


def resv(buf, off, extents, nr, order, flags, domid):
    put(buf, off, "QQIIH", extents, nr, order, flags, domid)


def at_base(op):
    return call(op, [0], (1,))


SEEDS = {}


def seed(name):
    def wrap(fn):
        buf = bytearray(BUF)
        calls = fn(buf)
        SEEDS[name] = bytes(buf) + b"".join(calls)
        return fn
    return wrap


@seed("physinfo")
def _(b):
    sysctl(b, 3)
    return [at_base("sysctl")]


@seed("domaininfolist")
def _(b):
    sysctl(b, 6, struct.pack("<HxxIQ", 0, 2, reloc(256)))
    return [at_base("sysctl")]


@seed("numainfo")
def _(b):
    sysctl(b, 17, struct.pack("<IxxxxQQ", 2, reloc(256), reloc(384)))
    return [at_base("sysctl")]


@seed("page_offline")
def _(b):
    sysctl(b, 14, struct.pack("<IIIxxxxQ", 1, 100, 103, reloc(256)))
    return [at_base("sysctl")]


@seed("createdomain")
def _(b):
    body = bytearray(128)
    put(body, 20, "I", 3)           # flags: hvm | hap
    put(body, 28, "I", 1)           # max_vcpus
    put(body, 56, "I", 1)           # arch.emulation_flags: LAPIC
    domctl(b, 1, 0x7FF5, bytes(body))
    return [at_base("domctl")]


@seed("getdomaininfo")
def _(b):
    domctl(b, 5, HVM_DOMID)
    return [at_base("domctl")]


@seed("max_mem_destroy")
def _(b):
    domctl(b, 11, HVM_DOMID, struct.pack("<Q", 1 << 20))
    return [at_base("domctl")]


@seed("destroy")
def _(b):
    domctl(b, 2, PV_DOMID)
    return [at_base("domctl")]


@seed("claim")
def _(b):
    resv(b, 0, 0, 100, 0, 0, HVM_DOMID)
    return [call("memory_op", [24, 0], (0, 1))]


@seed("claim_then_populate")
def _(b):
    resv(b, 0, 0, 1024, 0, 0, HVM_DOMID)
    resv(b, 64, reloc(256), 2, 9, 0, HVM_DOMID)
    put(b, 256, "QQ", 0, 512)
    return [call("memory_op", [24, 0], (0, 1)), call("memory_op", [6, 64], (0, 1))]


@seed("populate_decrease")
def _(b):
    resv(b, 0, reloc(256), 4, 0, 0, HVM_DOMID)
    put(b, 256, "QQQQ", 0, 1, 2, 3)
    return [call("memory_op", [6, 0], (0, 1)), call("memory_op", [1, 0], (0, 1))]


@seed("populate_node")
def _(b):
    resv(b, 0, reloc(256), 1, 9, (1 + 1) << 8 | (1 << 17), HVM_DOMID)
    return [call("memory_op", [6, 0], (0, 1))]


@seed("increase_pv")
def _(b):
    resv(b, 0, reloc(256), 3, 0, 20, PV_DOMID)
    return [call("memory_op", [0, 0], (0, 1)), call("memory_op", [1, 0], (0, 1))]


@seed("continuation")
def _(b):
    resv(b, 0, reloc(256), 4, 0, 0, HVM_DOMID)
    return [call("memory_op", [6 | (2 << 6), 0], (0, 1))]


@seed("reservation_query")
def _(b):
    put(b, 400, "H", HVM_DOMID)
    return [call("memory_op", [3, 400], (0, 1)), call("memory_op", [4, 400], (0, 1)),
            call("memory_op", [14, 400], (0, 1)), call("memory_op", [2, 0])]


@seed("multicall")
def _(b):
    resv(b, 0, 0, 64, 0, 0, HVM_DOMID)
    put(b, 256, "QQ6Q", 12, 0, 24, reloc(0), 0, 0, 0, 0)   # memory_op claim
    put(b, 320, "QQ6Q", 17, 0, 0, 0, 0, 0, 0, 0)           # xen_version
    return [call("multicall", [256, 2], (1, 0))]


@seed("xen_version")
def _(b):
    return [call("xen_version", [v, 0], (0, 1)) for v in range(0, 11)]


@seed("claim_set")
def _(b):
    domctl(b, 90, HVM_DOMID, struct.pack("<QII", reloc(256), 2, 0))
    put(b, 256, "QIIQII", 100, 0, 0, 50, 0, 0xFFFFFFFF)
    return [at_base("domctl")]


@seed("guest_self")
def _(b):
    resv(b, 0, reloc(256), 2, 0, 0, 0x7FF0)
    put(b, 256, "QQ", 7, 8)
    put(b, 400, "H", 0x7FF0)
    return [call("memory_op", [6, 0], (0, 1), guest=True),
            call("memory_op", [3, 400], (0, 1), guest=True),
            call("domctl", [0], (1,), guest=True)]


@seed("bad_handles")
def _(b):
    domctl(b, 5, 0)
    return [call("domctl", [0], (2,)), call("sysctl", [0], (2,)), call("memory_op", [6, 0], (0, 2)),
            call("bogus", [1, 2, 3]), call("zero", [])]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/fuzz/corpus/fuzz_hypercall"
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, "seed-" + name), "wb") as f:
            f.write(data)
    print("wrote %d seeds to %s" % (len(SEEDS), out))


if __name__ == "__main__":
    main()
