/*
 * Logging: a level and a sink, owned by whoever owns the host (no global
 * logger), so that two hosts in one test log separately.
 */
#ifndef MEMVISOR_LOG_H
#define MEMVISOR_LOG_H

#include "memvisor/base.h"

enum mv_log_level {
    MV_LOG_ERROR = 0,
    MV_LOG_WARN = 1,
    MV_LOG_INFO = 2,
    MV_LOG_DEBUG = 3,
};

struct mv_logger {
    enum mv_log_level level;
    /* NULL: write "memvisor: <level>: <message>" to stderr. */
    void (*sink)(void *arg, enum mv_log_level level, const char *message);
    void *arg;
};

MV_API void mv_log(const struct mv_logger *log, enum mv_log_level level, const char *fmt, ...)
    MV_PRINTF(3, 4);
/* "error", "warn", "info", "debug" -> level; -EINVAL otherwise. */
MV_API int mv_log_level_parse(const char *name, enum mv_log_level *out) MV_MUST_CHECK;
MV_API const char *mv_log_level_name(enum mv_log_level level);

#endif
