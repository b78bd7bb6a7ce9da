/*
 * Helpers the toolstack's files share (xl.c defines them).
 */
#ifndef MEMVISOR_TOOLSTACK_INTERNAL_H
#define MEMVISOR_TOOLSTACK_INTERNAL_H

#include "memvisor/toolstack.h"

/* Writes the message into err (when there is one) and returns rc. */
int ts_fail(char *err, size_t errlen, int rc, const char *fmt, ...) MV_PRINTF(4, 5);
/* /local/domain/<domid>/memory/<key>, a number of KiB: 0 or -errno. */
int ts_read_kib(struct tc_store *xs, uint32_t tx, domid_t domid, const char *key,
                uint64_t *out) MV_MUST_CHECK;

#endif
