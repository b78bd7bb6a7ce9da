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

#endif
