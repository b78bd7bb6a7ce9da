/*
 * Parsing of numbers and sizes from command lines and config files.
 * Everything from outside is validated: junk, empty strings, signs and
 * overflow are all refused with an error and no output written.
 */
#include <errno.h>
#include <ctype.h>
#include <time.h>

#include "memvisor/base.h"

/* Digits only; at least one; no sign, no spaces. */
static int parse_digits(const char **p, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;

    if (!isdigit((unsigned char)*s))
        return -EINVAL;
    for (; isdigit((unsigned char)*s); s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -ERANGE;
        v = v * 10 + d;
    }
    *p = s;
    *out = v;
    return 0;
}

int mv_parse_uint(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
    const char *p = text;
    uint64_t v;
    int rc;

    if (!text)
        return -EINVAL;
    rc = parse_digits(&p, &v);
    if (rc)
        return rc;
    if (*p != '\0')
        return -EINVAL;
    if (v < min || v > max)
        return -ERANGE;
    *out = v;
    return 0;
}

int mv_parse_size(const char *text, uint64_t *bytes_out)
{
    const char *p = text;
    unsigned shift = 0;
    uint64_t v;
    int rc;

    if (!text)
        return -EINVAL;
    rc = parse_digits(&p, &v);
    if (rc)
        return rc;
    switch (*p) {
    case '\0': break;
    case 'k': case 'K': shift = 10; p++; break;
    case 'm': case 'M': shift = 20; p++; break;
    case 'g': case 'G': shift = 30; p++; break;
    case 't': case 'T': shift = 40; p++; break;
    default: return -EINVAL;
    }
    /* Accept "4G", "4GB", "4GiB". */
    if (shift && (*p == 'i' || *p == 'I'))
        p++;
    if (shift && (*p == 'b' || *p == 'B'))
        p++;
    if (*p != '\0')
        return -EINVAL;
    if (shift && v > (UINT64_MAX >> shift))
        return -ERANGE;
    *bytes_out = v << shift;
    return 0;
}

void mv_sleep_ns(uint64_t ns)
{
    struct timespec ts = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };

    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
}

uint64_t mv_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
