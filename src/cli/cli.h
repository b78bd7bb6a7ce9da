/*
 * The memvisor command's verbs.  Each returns the process exit status:
 * 0, 1 (the operation failed), 2 (bad usage).
 */
#ifndef MEMVISOR_CLI_H
#define MEMVISOR_CLI_H

int cmd_demo(int argc, char **argv);
/* A xenstore server on its own. */
int cmd_xenstored(int argc, char **argv);
/* info, list, claims, create, destroy, claim, populate; socket_path NULL:
 * the default. */
int cmd_host(const char *verb, int argc, char **argv, const char *socket_path);
/* create CFG, destroy, mem-set, mem-max: as xl's (cmd_xl.c). */
int cmd_xl(const char *verb, int argc, char **argv, const char *socket_path);

/* xl.cfg (xlcfg.c): the domain, and the guest model's options. */
#include "memvisor/xl.h"
struct xlcfg_guest {
    bool balloon, selfballoon, free_page_reporting, deflate_on_oom, boot_scrub;
    uint64_t working_set_kib;
};
/* 0, or -errno with the file, line and problem on stderr. */
int xlcfg_load(const char *file, struct xl_domain *d, struct xlcfg_guest *g);

#endif
