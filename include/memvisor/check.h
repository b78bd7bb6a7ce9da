/*
 * Invariant checkers: each module has one that walks its structures and
 * counts violations.  They share this reporter, which describes the first
 * few violations on a stream and counts them all.
 */
#ifndef MEMVISOR_CHECK_H
#define MEMVISOR_CHECK_H

#include <stdio.h>

#include "memvisor/base.h"

struct mv_checker {
    FILE *report;      /* NULL: count only */
    const char *what;  /* "heap check", ... */
    unsigned violations;
};

void mv_check_fail(struct mv_checker *c, const char *fmt, ...) MV_PRINTF(2, 3);

#endif
