/*
 * One instance per socket path (see listen.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "memvisor/listen.h"

/* Takes "<path>.lock"; -EADDRINUSE (with the holder's pid logged) if
 * another instance has it. */
static int take_instance_lock(const char *path, const struct mv_logger *log, int *lock_fd)
{
    char lock_path[PATH_MAX], pid[32] = "";
    int fd;

    snprintf(lock_path, sizeof(lock_path), "%s.lock", path);
    fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        int rc = -errno;
        mv_log(log, MV_LOG_ERROR, "cannot open %s: %s", lock_path, strerror(errno));
        return rc;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        mv_log(log, MV_LOG_ERROR, "another instance (pid %s) serves %s", *pid ? pid : "?", path);
        close(fd);
        return -EADDRINUSE;
    }
    if (ftruncate(fd, 0) == 0) {
        int len = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
        if (pwrite(fd, pid, (size_t)len, 0) != len)
            mv_log(log, MV_LOG_WARN, "cannot write the pid to %s", lock_path);
    }
    *lock_fd = fd;
    return 0;
}

/* Creates the socket's folder if missing (private to the user). */
static void make_parent_dir(const char *path)
{
    char dir[PATH_MAX];
    char *slash;

    snprintf(dir, sizeof(dir), "%s", path);
    slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return;
    *slash = '\0';
    mkdir(dir, 0700);
}

int mv_listen(const char *path, int type, const struct mv_logger *log, struct mv_listener *out)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int rc, sock, lock_fd;

    if (strlen(path) >= sizeof(addr.sun_path) || strlen(path) >= sizeof(out->path)) {
        mv_log(log, MV_LOG_ERROR, "socket path too long (at most %zu bytes): %s",
               sizeof(out->path) - 1, path);
        return -ENAMETOOLONG;
    }
    make_parent_dir(path);
    rc = take_instance_lock(path, log, &lock_fd);
    if (rc)
        return rc;
    strcpy(addr.sun_path, path);
    /* We hold the instance lock: a socket file left here is stale. */
    unlink(path);
    sock = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    if (sock < 0 || bind(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
        chmod(path, 0600) < 0 || listen(sock, 64) < 0) {
        rc = -errno;
        mv_log(log, MV_LOG_ERROR, "cannot serve %s: %s", path, strerror(errno));
        if (sock >= 0)
            close(sock);
        close(lock_fd);
        return rc;
    }
    out->sock = sock;
    out->lock_fd = lock_fd;
    strcpy(out->path, path);
    return 0;
}

void mv_listen_close(struct mv_listener *l)
{
    close(l->sock);
    unlink(l->path);
    close(l->lock_fd);
    l->sock = l->lock_fd = -1;
}

int mv_stop_signals(void)
{
    sigset_t sigs;
    int fd;

    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    fd = signalfd(-1, &sigs, SFD_CLOEXEC);
    return fd < 0 ? -errno : fd;
}
