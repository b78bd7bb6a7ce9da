#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "memvisor/log.h"

static const char *const level_names[] = { "error", "warn", "info", "debug" };

const char *mv_log_level_name(enum mv_log_level level)
{
    return (unsigned)level < ARRAY_SIZE(level_names) ? level_names[level] : "?";
}

int mv_log_level_parse(const char *name, enum mv_log_level *out)
{
    for (unsigned i = 0; i < ARRAY_SIZE(level_names); i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (enum mv_log_level)i;
            return 0;
        }
    }
    return -EINVAL;
}

void mv_log(const struct mv_logger *log, enum mv_log_level level, const char *fmt, ...)
{
    char message[512];
    va_list ap;

    if (!log || level > log->level)
        return;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    if (log->sink)
        log->sink(log->arg, level, message);
    else
        fprintf(stderr, "memvisor: %s: %s\n", mv_log_level_name(level), message);
}
