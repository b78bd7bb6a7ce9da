/*
 * Helpers for tests that run memvisor's servers as processes.
 */
#ifndef MEMVISOR_TEST_PROC_SUPPORT_H
#define MEMVISOR_TEST_PROC_SUPPORT_H

#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Starts argv (argv[0] the program) with stderr appended to log. */
static inline pid_t start_logged(char *const argv[], const char *log)
{
    pid_t pid = fork();

    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        dup2(fd, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

/* Waits up to 4 s for a socket to appear at path. */
static inline bool wait_for_socket(const char *path)
{
    struct stat st;

    for (int i = 0; i < 200; i++) {
        if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
            return true;
        usleep(20000);
    }
    return false;
}

/* SIGTERM, then its wait status. */
static inline int stop_process(pid_t pid)
{
    int status = -1;

    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
    return status;
}

/* Runs argv to its end with its output discarded: its exit status, or -1. */
static inline int run_quietly(char *const argv[])
{
    pid_t pid = fork();
    int status = -1;

    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        dup2(fd, 1);
        dup2(fd, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#endif
