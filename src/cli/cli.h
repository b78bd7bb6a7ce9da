/*
 * The memvisor command's verbs.  Each returns the process exit status:
 * 0, 1 (the operation failed), 2 (bad usage).
 */
#ifndef MEMVISOR_CLI_H
#define MEMVISOR_CLI_H

/* A xenstore server on its own. */
int cmd_xenstored(int argc, char **argv);
/* info, list, claims, create, destroy, claim, populate; socket_path NULL:
 * the default. */
int cmd_host(const char *verb, int argc, char **argv, const char *socket_path);
/* create CFG, destroy, mem-set, mem-max: as xl's (cmd_xl.c). */
int cmd_xl(const char *verb, int argc, char **argv, const char *socket_path);
/* list, info, claims, tmem-list, tmem-freeze, tmem-thaw, top (cmd_views.c). */
int cmd_views(const char *verb, int argc, char **argv, const char *socket_path);
/* run SCENARIO (cmd_run.c), embedded or attached to memvisord. */
int cmd_run(int argc, char **argv, const char *socket_path);

/* A control connection to memvisord, or a message saying why not. */
#include "memvisor/toolstack.h"
int connect_or_explain(const char *socket_path, struct tc_handle **t);
/* A domain by id or by name; -ENOENT with a message. */
int cli_find_domain(struct tc_handle *t, struct tc_store *xs, const char *text, domid_t *out);

#include "memvisor/scenario.h"

#endif
