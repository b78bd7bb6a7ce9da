/*
 * The 0/-errno convention: names and messages.
 *
 * One X-macro table, so that a name, its value and its message can never
 * disagree.  The names are those Xen's xenstore uses on the wire
 * (xsd_errors[]) and those libxenctrl users see.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memvisor/base.h"

#define MV_ERRNO_TABLE(X) \
    X(EPERM)              \
    X(ENOENT)             \
    X(ESRCH)              \
    X(EINTR)              \
    X(EIO)                \
    X(ENXIO)              \
    X(E2BIG)              \
    X(ENOEXEC)            \
    X(EBADF)              \
    X(ECHILD)             \
    X(EAGAIN)             \
    X(ENOMEM)             \
    X(EACCES)             \
    X(EFAULT)             \
    X(EBUSY)              \
    X(EEXIST)             \
    X(EXDEV)              \
    X(ENODEV)             \
    X(ENOTDIR)            \
    X(EISDIR)             \
    X(EINVAL)             \
    X(ENFILE)             \
    X(EMFILE)             \
    X(ENOSPC)             \
    X(ESPIPE)             \
    X(EROFS)              \
    X(EMLINK)             \
    X(EDOM)               \
    X(ERANGE)             \
    X(EDEADLK)            \
    X(ENAMETOOLONG)       \
    X(ENOLCK)             \
    X(ENOSYS)             \
    X(ENOTEMPTY)          \
    X(ELOOP)              \
    X(ENODATA)            \
    X(ETIME)              \
    X(EBADMSG)            \
    X(EOVERFLOW)          \
    X(EILSEQ)             \
    X(EUSERS)             \
    X(ENOTSOCK)           \
    X(EMSGSIZE)           \
    X(EPROTO)             \
    X(EOPNOTSUPP)         \
    X(EADDRINUSE)         \
    X(ENOBUFS)            \
    X(EISCONN)            \
    X(ENOTCONN)           \
    X(ECONNRESET)         \
    X(ETIMEDOUT)          \
    X(ECONNREFUSED)       \
    X(EALREADY)           \
    X(EINPROGRESS)        \
    X(ESTALE)             \
    X(EDQUOT)             \
    X(ECANCELED)

struct errno_entry {
    int value;
    const char *name;
};

static const struct errno_entry errno_table[] = {
#define X(e) { e, #e },
    MV_ERRNO_TABLE(X)
#undef X
};

const char *mv_errno_name(int err)
{
    int e = err < 0 ? -err : err;

    for (size_t i = 0; i < ARRAY_SIZE(errno_table); i++)
        if (errno_table[i].value == e)
            return errno_table[i].name;
    return NULL;
}

int mv_errno_from_name(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(errno_table); i++)
        if (strcmp(errno_table[i].name, name) == 0)
            return -errno_table[i].value;
    return 0;
}

const char *mv_strerror(int err)
{
    if (err == 0)
        return "success";
    return strerror(err < 0 ? -err : err);
}

void mv_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "memvisor: assertion failed: %s (%s:%d)\n", expr, file, line);
    abort();
}
