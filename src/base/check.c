#include <stdarg.h>

#include "memvisor/check.h"

/* Enough to see what went wrong without drowning in the consequences. */
#define REPORT_AT_MOST 20

void mv_check_fail(struct mv_checker *c, const char *fmt, ...)
{
    va_list ap;

    c->violations++;
    if (!c->report || c->violations > REPORT_AT_MOST)
        return;
    va_start(ap, fmt);
    fprintf(c->report, "%s: ", c->what);
    vfprintf(c->report, fmt, ap);
    fputc('\n', c->report);
    va_end(ap);
}
