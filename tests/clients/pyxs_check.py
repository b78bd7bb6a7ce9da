#!/usr/bin/python3
"""The independent Python xenstore client pyxs (python3-pyxs) against
memvisor's xenstore at $XENSTORED_PATH.  pyxs numbers its requests (non-zero
request ids) and checks that every reply echoes the request's id and
transaction.  Exits non-zero on the first wrong answer."""
import errno
import os
import sys

from pyxs import Client, PyXSError

failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL: " + what)


def expect_error(code, fn, *args):
    try:
        fn(*args)
    except PyXSError as e:
        check(e.args[0] == code, "%s%r: errno %s, wanted %s" % (fn.__name__, args, e.args[0], code))
        return
    check(False, "%s%r succeeded, wanted errno %s" % (fn.__name__, args, code))


path = os.environ["XENSTORED_PATH"]
with Client(unix_socket_path=path) as c, Client(unix_socket_path=path) as other:
    c.write(b"/pyxs/a", b"1")
    c.write(b"/pyxs/b", b"two")
    check(c.read(b"/pyxs/a") == b"1", "read /pyxs/a")
    check(c.list(b"/pyxs") == [b"a", b"b"], "list /pyxs: %r" % c.list(b"/pyxs"))
    check(c.exists(b"/pyxs/b") and not c.exists(b"/pyxs/zz"), "exists")
    c.mkdir(b"/pyxs/dir")
    check(c.read(b"/pyxs/dir") == b"", "mkdir makes an empty node")
    check(c.get_perms(b"/pyxs/a") == [b"n0"], "get_perms: %r" % c.get_perms(b"/pyxs/a"))
    c.set_perms(b"/pyxs/a", [b"n0", b"r0"])
    check(c.get_perms(b"/pyxs/a") == [b"n0", b"r0"], "set_perms")
    check(c.get_domain_path(7) == b"/local/domain/7", "get_domain_path")
    check(c.is_domain_introduced(0), "dom0 is introduced")
    expect_error(errno.ENOENT, c.read, b"/pyxs/missing")
    expect_error(errno.EINVAL, c.delete, b"/")

    # A transaction commits; one that read what another wrote fails with
    # EAGAIN and changes nothing.
    c.transaction()
    c.write(b"/pyxs/t", b"in-tx")
    check(other.read(b"/pyxs/b") == b"two", "outside sees the old value")
    check(c.commit(), "commit")
    check(other.read(b"/pyxs/t") == b"in-tx", "committed write visible")
    c.transaction()
    check(c.read(b"/pyxs/t") == b"in-tx", "read in transaction")
    other.write(b"/pyxs/t", b"outside")
    c.write(b"/pyxs/t", b"conflict")
    check(not c.commit(), "a conflicting commit fails (EAGAIN)")
    check(c.read(b"/pyxs/t") == b"outside", "the outside write survives")
    c.transaction()
    c.write(b"/pyxs/rolled", b"x")
    c.rollback()
    check(not c.exists(b"/pyxs/rolled"), "rollback")

    # Watches: the first event, then one per change below the path.
    m = c.monitor()
    m.watch(b"/pyxs/w", b"tok")
    events = m.wait()
    check(next(events) == (b"/pyxs/w", b"tok"), "the first event")
    other.write(b"/pyxs/w/x", b"1")
    check(next(events) == (b"/pyxs/w/x", b"tok"), "event for a write below")
    other.delete(b"/pyxs/w")
    check(next(events) == (b"/pyxs/w", b"tok"), "event for the removal")
    m.unwatch(b"/pyxs/w", b"tok")

    c.delete(b"/pyxs")
    check(not c.exists(b"/pyxs"), "delete")

print("pyxs: %d failures" % failures)
sys.exit(1 if failures else 0)
