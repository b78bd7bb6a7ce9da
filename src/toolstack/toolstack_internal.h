/*
 * Helpers the toolstack's files share (xl.c defines them).
 */
#ifndef MEMVISOR_TOOLSTACK_INTERNAL_H
#define MEMVISOR_TOOLSTACK_INTERNAL_H

#include "memvisor/toolstack.h"

/* Writes the message into err (when there is one) and returns rc. */
int ts_fail(char *err, size_t errlen, int rc, const char *fmt, ...) MV_PRINTF(4, 5);

#endif
