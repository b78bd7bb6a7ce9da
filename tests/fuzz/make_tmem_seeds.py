#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_tmem_op (the format is described at the
top of fuzz_tmem_op.c).  Run from the repository root:
    python3 tests/fuzz/make_tmem_seeds.py tests/fuzz/corpus/fuzz_tmem_op
"""
import hashlib
import os
import struct
import sys

NEW, DESTROY, PUT, GET, FLUSH_PAGE, FLUSH_OBJ = 1, 2, 4, 5, 6, 7
VERSION = 1 << 24
PERSIST, SHARED = 1, 2


def new_pool(who, flags, uuid=(0, 0)):
    op = struct.pack("<Ii2QII", NEW, 0, uuid[0], uuid[1], flags, 0).ljust(56, b"\0")
    return struct.pack("<BBBB", who, 0, 1, 0) + op


def gen(who, cmd, pool, oid, index, cmfn, own_page=True):
    op = struct.pack("<Ii3QIIIIQ", cmd, pool, oid, 0, 0, index, 0, 0, 0, cmfn)
    return struct.pack("<BBBB", who, 1 if own_page else 0, 1, 0) + op


def seeds():
    hvm, pv, dom0 = 1, 2, 0
    yield [new_pool(hvm, VERSION), gen(hvm, PUT, 0, 7, 1, 3), gen(hvm, GET, 0, 7, 1, 4),
           gen(hvm, GET, 0, 7, 1, 4)]
    yield [new_pool(pv, VERSION | PERSIST), gen(pv, PUT, 0, 1, 0, 0), gen(pv, PUT, 0, 1, 0, 1),
           gen(pv, GET, 0, 1, 0, 2), gen(pv, FLUSH_PAGE, 0, 1, 0, 0), gen(pv, GET, 0, 1, 0, 2)]
    yield [new_pool(hvm, VERSION | SHARED, (5, 6)), new_pool(pv, VERSION | SHARED, (5, 6)),
           gen(hvm, PUT, 0, 9, 9, 5), gen(pv, GET, 0, 9, 9, 5), gen(hvm, DESTROY, 0, 0, 0, 0)]
    yield [new_pool(hvm, VERSION)] + [gen(hvm, PUT, 0, i % 3, i, i) for i in range(20)] + \
          [gen(hvm, FLUSH_OBJ, 0, 1, 0, 0), gen(hvm, DESTROY, 0, 0, 0, 0)]
    yield [new_pool(hvm, 0), new_pool(hvm, VERSION | PERSIST | SHARED), new_pool(hvm, VERSION | 4),
           new_pool(hvm, VERSION | 0x100), gen(hvm, 3, 0, 0, 0, 0), gen(hvm, 101, 0, 0, 0, 0),
           gen(hvm, PUT, -1, 0, 0, 0), gen(hvm, PUT, 17, 0, 0, 0, False),
           gen(dom0, PUT, 0, 0, 0, 0)]
    yield [new_pool(hvm, VERSION | PERSIST)] * 17 + [gen(hvm, PUT, 15, 2, 2, 2),
                                                      gen(hvm, GET, 15, 2, 2, 3)]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for records in seeds():
        data = b"".join(records)
        with open(os.path.join(out, hashlib.sha1(data).hexdigest()), "wb") as f:
            f.write(data)


main()
