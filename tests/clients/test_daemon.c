/*
 * memvisord against every kind of client: well-behaved ones, and ones that
 * send garbage, share an unsealed or no memfd, send malformed packets,
 * vanish mid-call, flood, point handles outside their buffers, or come in
 * too many.  The daemon must serve the good clients throughout, refuse a
 * second instance, reject bad config files with the file and line, and
 * stop cleanly on SIGTERM with clients connected.
 *
 *   test_daemon MEMVISORD
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xen/xen.h>
#include <xen/sysctl.h>

#include "../harness.h"
#include "proc_support.h"
#include "memvisor/client.h"
#include "memvisor/hypercall.h"
#include "memvisor/toolstack.h"
#include "memvisor/wire.h"

static const char *memvisord;
static char dir[64], sock_path[128], log_path[128];

static pid_t start_daemon_on(const char *path, const char *max_clients)
{
    char xs_path[160];

    /* Its xenstore beside its hypercall socket. */
    snprintf(xs_path, sizeof(xs_path), "%s.xs", path);
    return start_logged((char *[]){ (char *)memvisord, "--socket", (char *)path, "--xenstore-socket",
                                    xs_path, "--ram", "256M", "--nodes", "2", "--log-level", "info",
                                    "--max-clients", (char *)max_clients, NULL },
                        log_path);
}

static int raw_connect(void)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int s = socket(AF_UNIX, SOCK_SEQPACKET, 0);

    strcpy(addr.sun_path, sock_path);
    if (connect(s, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        close(s);
        return -1;
    }
    return s;
}

/* A hello with the given memfd (or none), returning the reply status or
 * a negative errno from the transport. */
static int raw_hello(int s, int memfd, uint32_t magic)
{
    struct mv_wire_hello hello = { magic, MV_WIRE_HELLO, MV_WIRE_VERSION, 0, 0x10000000, 1 << 20 };
    char control[CMSG_SPACE(sizeof(int))];
    struct iovec iov = { &hello, sizeof(hello) };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
    struct mv_wire_hello_reply reply;
    ssize_t n;

    if (memfd >= 0) {
        struct cmsghdr *cm;
        memset(control, 0, sizeof(control));
        msg.msg_control = control;
        msg.msg_controllen = sizeof(control);
        cm = CMSG_FIRSTHDR(&msg);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &memfd, sizeof(int));
    }
    if (sendmsg(s, &msg, MSG_NOSIGNAL) < 0)
        return -errno;
    n = recv(s, &reply, sizeof(reply), 0);
    if (n <= 0)
        return -ECONNRESET;
    return reply.status;
}

/* A good client still works: physinfo through a fresh connection. */
static bool good_client_works(void)
{
    struct tc_handle *t;
    struct tc_physinfo pi;
    bool ok;

    if (tc_connect(sock_path, &t))
        return false;
    ok = tc_physinfo(t, &pi) == 0 && pi.total_pages == (256 << 20) / 4096 - 1;
    tc_close(t);
    return ok;
}

static void test_bad_hellos(void)
{
    int s, memfd;

    /* Garbage instead of a hello. */
    s = raw_connect();
    REQUIRE(s >= 0);
    CHECK(send(s, "hello, world", 12, 0) == 12);
    CHECK(recv(s, &(char[64]){ 0 }, 64, 0) <= 0);
    close(s);
    /* A wrong magic. */
    s = raw_connect();
    CHECK_EQ(raw_hello(s, -1, 0xdeadbeef), -ECONNRESET);
    close(s);
    /* No memfd. */
    s = raw_connect();
    CHECK_EQ(raw_hello(s, -1, MV_WIRE_MAGIC), -EBADF);
    close(s);
    /* A memfd that could shrink under the daemon. */
    memfd = memfd_create("unsealed", MFD_CLOEXEC);
    CHECK(ftruncate(memfd, 1 << 20) == 0);
    s = raw_connect();
    CHECK_EQ(raw_hello(s, memfd, MV_WIRE_MAGIC), -EPERM);
    close(s);
    close(memfd);
    /* A pipe instead of a memfd. */
    {
        int p[2];
        CHECK(pipe(p) == 0);
        s = raw_connect();
        CHECK_EQ(raw_hello(s, p[0], MV_WIRE_MAGIC), -EPERM);
        close(s);
        close(p[0]);
        close(p[1]);
    }
    CHECK(good_client_works());
}

static void test_malformed_calls(void)
{
    struct mv_client *c;
    uint64_t args[6] = { 0 };

    /* A connected client sending a short packet is dropped... */
    REQUIRE(mv_client_connect(sock_path, &c) == 0);
    CHECK(send(mv_client_fd(c), "short", 5, 0) == 5);
    CHECK(mv_client_call(c, HC_XEN_VERSION, args) < 0);
    mv_client_close(c);
    /* ...and the others carry on. */
    CHECK(good_client_works());
}

static void test_bad_handles(void)
{
    struct mv_client *c;
    struct xen_sysctl on_stack;
    struct xen_sysctl *shared;
    uint64_t args[6] = { 0 };

    REQUIRE(mv_client_connect(sock_path, &c) == 0);
    shared = mv_client_alloc_pages(c, 1);
    REQUIRE(shared);
    memset(&on_stack, 0, sizeof(on_stack));
    on_stack.cmd = XEN_SYSCTL_physinfo;
    on_stack.interface_version = XEN_SYSCTL_INTERFACE_VERSION;
    /* A handle to memory the daemon was never given. */
    args[0] = (uint64_t)(uintptr_t)&on_stack;
    CHECK_EQ(mv_client_call(c, HC_SYSCTL, args), -EFAULT);
    /* Past the end of the region. */
    args[0] = (uint64_t)(uintptr_t)shared + (UINT64_C(256) << 20);
    CHECK_EQ(mv_client_call(c, HC_SYSCTL, args), -EFAULT);
    args[0] = UINT64_MAX - 16;
    CHECK_EQ(mv_client_call(c, HC_SYSCTL, args), -EFAULT);
    /* Inside: fine. */
    *shared = on_stack;
    args[0] = (uint64_t)(uintptr_t)shared;
    CHECK_EQ(mv_client_call(c, HC_SYSCTL, args), 0);
    CHECK(shared->u.physinfo.total_pages > 0);
    /* The region grows: a buffer far into it is served too. */
    {
        void *big = mv_client_alloc_pages(c, 2048);
        struct xen_sysctl *far;
        REQUIRE(big);
        far = mv_client_alloc_pages(c, 1);
        REQUIRE(far);
        *far = on_stack;
        args[0] = (uint64_t)(uintptr_t)far;
        CHECK_EQ(mv_client_call(c, HC_SYSCTL, args), 0);
    }
    mv_client_close(c);
}

/* A client that goes away mid-call, many times. */
static void test_vanishing_clients(void)
{
    for (int i = 0; i < 20; i++) {
        struct mv_wire_call call = { MV_WIRE_MAGIC, MV_WIRE_CALL, HC_XEN_VERSION, 0, { 0 }, 0 };
        struct mv_client *c;

        REQUIRE(mv_client_connect(sock_path, &c) == 0);
        CHECK(send(mv_client_fd(c), &call, sizeof(call), 0) == sizeof(call));
        mv_client_close(c); /* without reading the reply */
    }
    CHECK(good_client_works());
}

struct flood {
    _Atomic bool stop;
    _Atomic unsigned long calls;
};

static void *flooder(void *arg)
{
    struct flood *f = arg;
    struct mv_client *c;
    uint64_t args[6] = { 0 };

    if (mv_client_connect(sock_path, &c))
        return NULL;
    while (!atomic_load(&f->stop))
        if (mv_client_call(c, HC_XEN_VERSION, args) >= 0)
            atomic_fetch_add(&f->calls, 1);
    mv_client_close(c);
    return NULL;
}

static void test_flood(void)
{
    struct flood f = { false, 0 };
    pthread_t th[3];
    unsigned good = 0;

    for (int i = 0; i < 3; i++)
        pthread_create(&th[i], NULL, flooder, &f);
    for (int i = 0; i < 20; i++)
        good += good_client_works();
    atomic_store(&f.stop, true);
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    printf("  %lu flood calls while 20 other clients came and went\n", atomic_load(&f.calls));
    CHECK_EQ(good, 20);
    CHECK(atomic_load(&f.calls) > 100);
}

static void test_client_cap(void)
{
    char path[160];
    struct mv_client *c[4];
    struct mv_client *extra = NULL;
    pid_t pid;

    /* A second daemon that serves at most 4 clients at once. */
    snprintf(path, sizeof(path), "%s/capped.sock", dir);
    pid = start_daemon_on(path, "4");
    REQUIRE(wait_for_socket(path));
    for (int i = 0; i < 4; i++)
        REQUIRE(mv_client_connect(path, &c[i]) == 0);
    CHECK(mv_client_connect(path, &extra) != 0);
    for (int i = 0; i < 4; i++)
        mv_client_close(c[i]);
    /* Once the daemon has seen them go, there is room again (it may take
     * it a moment: a generous deadline, as a last resort). */
    for (int i = 0; i < 3000 && mv_client_connect(path, &extra) != 0; i++)
        usleep(10000);
    CHECK(extra != NULL);
    mv_client_close(extra);
    CHECK(stop_process(pid) == 0);
    CHECK(good_client_works());
}

static void test_second_instance(void)
{
    pid_t pid = start_daemon_on(sock_path, "64");
    int status;

    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1);
    CHECK(good_client_works());
}

static int run_daemon_with(const char *a, const char *b, const char *c)
{
    return run_quietly((char *[]){ (char *)memvisord, (char *)a, (char *)b, (char *)c, NULL });
}

static void test_bad_configuration(void)
{
    char cfg[128];
    FILE *f;

    snprintf(cfg, sizeof(cfg), "%s/bad.conf", dir);
    f = fopen(cfg, "w");
    REQUIRE(f);
    fprintf(f, "# memvisord\nram = 1G\nnodes = 99\n");
    fclose(f);
    CHECK_EQ(run_daemon_with("--config", cfg, NULL), 2);
    CHECK_EQ(run_daemon_with("--ram", "12Q", NULL), 2);
    CHECK_EQ(run_daemon_with("--ram", "8M", NULL), 2);
    CHECK_EQ(run_daemon_with("--nodes", "0", NULL), 2);
    CHECK_EQ(run_daemon_with("--frobnicate", NULL, NULL), 2);
    CHECK_EQ(run_daemon_with("--config", "/nonexistent/memvisord.conf", NULL), 2);
    CHECK_EQ(run_daemon_with("--version", NULL, NULL), 0);
}

int main(int argc, char **argv)
{
    unsigned failed = 0;
    pid_t pid;
    int status;

    if (argc != 2) {
        fprintf(stderr, "usage: test_daemon MEMVISORD\n");
        return 2;
    }
    memvisord = argv[1];
    snprintf(dir, sizeof(dir), "/tmp/memvisor-test-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    snprintf(sock_path, sizeof(sock_path), "%s/hc.sock", dir);
    snprintf(log_path, sizeof(log_path), "%s/daemon.log", dir);
    {
        /* Daemons started without --xenstore-socket serve it in dir too. */
        char xs[128];
        snprintf(xs, sizeof(xs), "%s/xs.sock", dir);
        setenv("XENSTORED_PATH", xs, 1);
    }
    signal(SIGPIPE, SIG_IGN);

    pid = start_daemon_on(sock_path, "64");
    if (!wait_for_socket(sock_path)) {
        fprintf(stderr, "memvisord did not start\n");
        return 1;
    }
    {
        static const struct harness_test tests[] = {
            TEST_ENTRY(test_bad_hellos), TEST_ENTRY(test_malformed_calls),
            TEST_ENTRY(test_bad_handles), TEST_ENTRY(test_vanishing_clients),
            TEST_ENTRY(test_flood), TEST_ENTRY(test_client_cap),
            TEST_ENTRY(test_second_instance), TEST_ENTRY(test_bad_configuration),
        };
        failed = (unsigned)harness_run("daemon", tests, ARRAY_SIZE(tests));
    }
    /* SIGTERM with a client connected: a clean stop, the socket removed. */
    {
        struct mv_client *c;
        bool connected = mv_client_connect(sock_path, &c) == 0;
        struct stat st;

        status = stop_process(pid);
        harness_current = "sigterm";
        CHECK(connected);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        CHECK(stat(sock_path, &st) != 0);
        if (connected)
            mv_client_close(c);
    }
    if (harness_failures) {
        char cmd[256];
        snprintf(cmd, sizeof(cmd), "cat %s >&2", log_path);
        if (system(cmd) != 0)
            fprintf(stderr, "(no daemon log)\n");
    }
    snprintf(log_path, sizeof(log_path), "rm -rf %s", dir);
    if (system(log_path) != 0)
        fprintf(stderr, "cannot clean up %s\n", dir);
    return failed || harness_failures ? 1 : 0;
}

unsigned harness_failures;
const char *harness_current;
