#!/usr/bin/env python3
"""Writes the seed corpora of fuzz_xs_wire and fuzz_xs_ops (their formats are
described at the top of each target).  Run from the repository root:
    python3 tests/fuzz/make_xs_seeds.py tests/fuzz/corpus
"""
import os
import struct
import sys

T = dict(CONTROL=0, DIRECTORY=1, READ=2, GET_PERMS=3, WATCH=4, UNWATCH=5, TRANSACTION_START=6,
         TRANSACTION_END=7, INTRODUCE=8, RELEASE=9, GET_DOMAIN_PATH=10, WRITE=11, MKDIR=12, RM=13,
         SET_PERMS=14, WATCH_EVENT=15, ERROR=16, IS_DOMAIN_INTRODUCED=17, RESUME=18, SET_TARGET=19,
         RESET_WATCHES=21, DIRECTORY_PART=22)


def msg(kind, *args, tx=0, rid=0, raw=None):
    payload = raw if raw is not None else b"".join(a + b"\0" for a in args)
    return struct.pack("<IIII", T[kind] if isinstance(kind, str) else kind, rid, tx, len(payload)) + payload


def wire_seeds():
    s = {}
    s["basic"] = (msg("WRITE", raw=b"/a/b\0hello") + msg("READ", b"/a/b") + msg("DIRECTORY", b"/a") +
                  msg("GET_PERMS", b"/a/b") + msg("SET_PERMS", b"/a/b", b"n0", b"r1") +
                  msg("MKDIR", b"/a/c") + msg("RM", b"/a"))
    s["relative"] = msg("WRITE", raw=b"xenstore-test/1/x\0v") + msg("READ", b"xenstore-test/1/x")
    s["transaction"] = (msg("TRANSACTION_START", b"") + msg("READ", b"/t", tx=1) +
                        msg("WRITE", raw=b"/t\0v", tx=1) + msg("TRANSACTION_END", b"T", tx=1) +
                        msg("TRANSACTION_START", b"") + msg("TRANSACTION_END", b"F", tx=2) +
                        msg("TRANSACTION_END", b"X", tx=9))
    s["watch"] = (msg("WATCH", b"/w", b"tok") + msg("WATCH", b"/w", b"d", b"1") +
                  msg("WRITE", raw=b"/w/x\0y") + msg("UNWATCH", b"/w", b"tok") +
                  msg("WATCH", b"@releaseDomain", b"r") + msg("RESET_WATCHES", b""))
    s["domains"] = (msg("INTRODUCE", b"5", b"0", b"1") + msg("IS_DOMAIN_INTRODUCED", b"5") +
                    msg("GET_DOMAIN_PATH", b"5") + msg("SET_TARGET", b"5", b"0") +
                    msg("RESUME", b"5") + msg("RELEASE", b"5"))
    s["control"] = (msg("CONTROL", b"help") + msg("CONTROL", b"quota") +
                    msg("CONTROL", b"quota", b"set", b"nodes", b"5") + msg("CONTROL", b"memreport") +
                    msg("CONTROL", b"check") + msg("CONTROL", b"log", b"on"))
    big = b"".join(msg("WRITE", raw=b"/big/child%04d\0" % i) for i in range(300))
    s["directory_part"] = big + msg("DIRECTORY", b"/big") + msg("DIRECTORY_PART", b"/big", b"0") + \
        msg("DIRECTORY_PART", b"/big", b"4000")
    s["bad"] = (msg("READ", raw=b"/no-nul") + msg(20, raw=b"") + msg(99, raw=b"x") +
                msg("WRITE", raw=b"/a//b\0v") + msg("READ", b"/a b") + msg("WATCH_EVENT", b"x", b"y") +
                msg("TRANSACTION_END", b"T", tx=77))
    s["too_long"] = struct.pack("<IIII", 2, 0, 0, 5000) + b"x" * 64
    s["value_limit"] = msg("WRITE", raw=b"/v\0" + b"v" * 4093) + msg("READ", b"/v")
    out = {}
    for name, stream in s.items():
        out[name] = b"\0" + stream       # dom0
        out[name + "_guest"] = b"\1" + stream
    return out


def ops_seeds():
    def op(o, conn, path, arg):
        return bytes([o, conn, path, arg])
    s = {}
    s["writes"] = b"".join(op(0, c, p, 5) for c in range(5) for p in (0x01, 0x12, 0x23, 0x30))
    s["txn"] = (op(9, 2, 0, 0) + op(0, 2, 0x31, 0x85) + op(1, 2, 0x31, 0x80) + op(0, 0, 0x31, 3) +
                op(10, 2, 0, 2) + op(9, 0, 0, 1) + op(3, 0, 0x01, 0x81) + op(10, 0, 0, 3))
    s["perms"] = (op(0, 2, 0x31, 4) + op(6, 2, 0x31, 0x15) + op(1, 3, 0x31, 0) + op(6, 0, 0x31, 0x51) +
                  op(5, 3, 0x31, 0) + op(18, 0, 0, 0x05) + op(1, 3, 0x31, 0))
    s["watches"] = (op(7, 0, 0x00, 0) + op(7, 2, 0x03, 1) + op(7, 0, 0, 4) + op(0, 2, 0x13, 1) +
                    op(3, 2, 0x03, 0) + op(12, 0, 0, 0) + op(8, 0, 0x00, 0) + op(16, 2, 0, 0))
    s["domains"] = (op(11, 0, 0, 2) + op(14, 4, 0, 0) + op(0, 4, 0x03, 7) + op(13, 0, 0, 2) +
                    op(1, 4, 0x03, 0) + op(11, 0, 0, 2) + op(14, 4, 0, 0))
    s["quota"] = b"".join(op(0, 2, p, 60) for p in range(0, 256, 7)) + op(19, 2, 0x03, 200) + op(17, 0, 0, 0)
    s["parts"] = b"".join(op(2, 0, p, 0) for p in range(0, 256, 3)) + op(15, 0, 0x00, 0) + op(15, 0, 0x00, 9)
    return s


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "tests/fuzz/corpus"
    for target, seeds in (("fuzz_xs_wire", wire_seeds()), ("fuzz_xs_ops", ops_seeds())):
        d = os.path.join(root, target)
        os.makedirs(d, exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(d, "seed-" + name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
