/*
 * memvisor's xenstore server over its socket, with raw clients: requests
 * in fragments, any request id, many clients at once, and clients that
 * misbehave (a message over the limit, half a message and silence, no
 * reading of replies, a flood of watch events never read) while others
 * are served on time.  Also: one instance per socket, a clean SIGTERM,
 * bad command lines refused.
 *   test_xs_socket MEMVISOR   (the CLI, run as `memvisor xenstored`)
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../harness.h"
#include "proc_support.h"
#include "memvisor/store.h"

static const char *memvisor;
static char dir[64], sock_path[100], log_path[128];

static pid_t start_server(const char *path)
{
    return start_logged((char *[]){ (char *)memvisor, "xenstored", "--socket", (char *)path,
                                    "--log-level", "info", NULL },
                        log_path);
}

static int sock_connect(void)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int s = socket(AF_UNIX, SOCK_STREAM, 0);

    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock_path);
    if (s >= 0 && connect(s, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        close(s);
        return -1;
    }
    return s;
}

static bool send_all(int s, const void *buf, size_t len)
{
    const uint8_t *p = buf;

    while (len) {
        ssize_t n = send(s, p, len, MSG_NOSIGNAL);
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

/* Reads exactly len bytes within timeout_ms; false on EOF or timeout. */
static bool recv_all(int s, void *buf, size_t len, int timeout_ms)
{
    uint8_t *p = buf;

    while (len) {
        struct pollfd pfd = { s, POLLIN, 0 };
        ssize_t n;

        if (poll(&pfd, 1, timeout_ms) <= 0)
            return false;
        n = recv(s, p, len, 0);
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

static size_t make_msg(uint8_t *out, uint32_t type, uint32_t req_id, uint32_t tx,
                       const void *payload, uint32_t len)
{
    struct xsd_sockmsg hdr = { type, req_id, tx, len };

    memcpy(out, &hdr, sizeof(hdr));
    memcpy(out + sizeof(hdr), payload, len);
    return sizeof(hdr) + len;
}

/* One message back (skipping watch events unless wanted). */
static bool get_msg(int s, struct xsd_sockmsg *hdr, char *payload, bool events, int timeout_ms)
{
    for (;;) {
        if (!recv_all(s, hdr, sizeof(*hdr), timeout_ms) || hdr->len > XENSTORE_PAYLOAD_MAX ||
            !recv_all(s, payload, hdr->len, timeout_ms))
            return false;
        payload[hdr->len] = '\0';
        if (events || hdr->type != XS_WATCH_EVENT)
            return true;
    }
}

/* A request and its reply; the reply's type, or -1. */
static int call(int s, uint32_t type, uint32_t req_id, uint32_t tx, const void *payload,
                uint32_t len, char *reply)
{
    uint8_t msg[STORE_HEADER_BYTES + XENSTORE_PAYLOAD_MAX];
    struct xsd_sockmsg hdr;
    size_t n = make_msg(msg, type, req_id, tx, payload, len);

    if (!send_all(s, msg, n) || !get_msg(s, &hdr, reply, false, 5000))
        return -1;
    if (hdr.req_id != req_id || hdr.tx_id != tx)
        return -2;
    return (int)hdr.type;
}

static bool is_closed(int s, int timeout_ms)
{
    char buf[65536];
    struct timespec t0, t1;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        struct pollfd pfd = { s, POLLIN, 0 };
        ssize_t n;

        clock_gettime(CLOCK_MONOTONIC, &t1);
        if ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 > timeout_ms)
            return false;
        if (poll(&pfd, 1, 100) <= 0)
            continue;
        n = recv(s, buf, sizeof(buf), 0);
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            return true;
    }
}

/* A good client still gets its answers. */
static bool good_client_works(void)
{
    char reply[XENSTORE_PAYLOAD_MAX + 1];
    int s = sock_connect();
    bool ok = s >= 0 && call(s, XS_WRITE, 1, 0, "/ok\0yes", 7, reply) == XS_WRITE &&
              call(s, XS_READ, 2, 0, "/ok", 4, reply) == XS_READ && !strcmp(reply, "yes");

    if (s >= 0)
        close(s);
    return ok;
}

static void test_fragments_and_ids(void)
{
    uint8_t msg[256];
    char reply[XENSTORE_PAYLOAD_MAX + 1];
    struct xsd_sockmsg hdr;
    int s = sock_connect();
    size_t n;

    REQUIRE(s >= 0);
    /* A write, one byte at a time, with pauses. */
    n = make_msg(msg, XS_WRITE, 0xdeadbeef, 0, "/frag/x\0pieces", 14);
    for (size_t i = 0; i < n; i++) {
        CHECK(send_all(s, msg + i, 1));
        if (i % 5 == 0)
            usleep(2000);
    }
    CHECK(get_msg(s, &hdr, reply, false, 5000));
    CHECK_EQ(hdr.type, XS_WRITE);
    CHECK_EQ(hdr.req_id, 0xdeadbeef);
    CHECK(!strcmp(reply, "OK"));
    /* Three requests in one send, ids echoed in order. */
    n = make_msg(msg, XS_READ, 7, 0, "/frag/x", 8);
    n += make_msg(msg + n, XS_READ, UINT32_MAX, 0, "/frag/none", 11);
    n += make_msg(msg + n, XS_DIRECTORY, 0, 0, "/frag", 6);
    CHECK(send_all(s, msg, n));
    CHECK(get_msg(s, &hdr, reply, false, 5000) && hdr.req_id == 7 && hdr.type == XS_READ &&
          !strcmp(reply, "pieces"));
    CHECK(get_msg(s, &hdr, reply, false, 5000) && hdr.req_id == UINT32_MAX &&
          hdr.type == XS_ERROR && !strcmp(reply, "ENOENT"));
    CHECK(get_msg(s, &hdr, reply, false, 5000) && hdr.req_id == 0 && hdr.type == XS_DIRECTORY &&
          !strcmp(reply, "x"));
    /* A transaction's id is echoed too; the watch event comes after the OK. */
    CHECK_EQ(call(s, XS_TRANSACTION_START, 3, 0, "", 1, reply), XS_TRANSACTION_START);
    {
        uint32_t tx = (uint32_t)atoi(reply);
        CHECK(tx != 0);
        CHECK_EQ(call(s, XS_WRITE, 4, tx, "/frag/t\0v", 9, reply), XS_WRITE);
        CHECK_EQ(call(s, XS_TRANSACTION_END, 5, tx, "T", 2, reply), XS_TRANSACTION_END);
    }
    n = make_msg(msg, XS_WATCH, 9, 0, "/frag\0tok", 10);
    CHECK(send_all(s, msg, n));
    CHECK(get_msg(s, &hdr, reply, true, 5000) && hdr.type == XS_WATCH && hdr.req_id == 9);
    CHECK(get_msg(s, &hdr, reply, true, 5000) && hdr.type == XS_WATCH_EVENT && hdr.req_id == 0 &&
          hdr.len == 10 && !memcmp(reply, "/frag\0tok", 10));
    close(s);
}

static void test_many_clients(void)
{
    enum { N = 300 };
    static int s[N];
    char reply[XENSTORE_PAYLOAD_MAX + 1], payload[64];
    unsigned ok = 0;

    for (int i = 0; i < N; i++)
        s[i] = sock_connect();
    for (int i = 0; i < N; i++) {
        int n = snprintf(payload, sizeof(payload), "/many/c%d%c%d", i, 0, i);
        if (s[i] >= 0 &&
            call(s[i], XS_WRITE, (uint32_t)i, 0, payload, (uint32_t)n, reply) == XS_WRITE)
            ok++;
    }
    CHECK_EQ(ok, N);
    ok = 0;
    for (int i = N; i-- > 0;) {
        int n = snprintf(payload, sizeof(payload), "/many/c%d", i);
        if (s[i] >= 0 && call(s[i], XS_READ, 1, 0, payload, (uint32_t)n + 1, reply) == XS_READ &&
            atoi(reply) == i)
            ok++;
    }
    CHECK_EQ(ok, N);
    for (int i = 0; i < N; i++)
        if (s[i] >= 0)
            close(s[i]);
}

static void test_oversized_message(void)
{
    struct xsd_sockmsg hdr = { XS_WRITE, 1, 0, XENSTORE_PAYLOAD_MAX + 1 };
    int s = sock_connect();

    REQUIRE(s >= 0);
    CHECK(send_all(s, &hdr, sizeof(hdr)));
    CHECK(is_closed(s, 5000));
    close(s);
    CHECK(good_client_works());
}

static void test_half_message(void)
{
    struct xsd_sockmsg hdr = { XS_WRITE, 1, 0, 100 };
    int s = sock_connect();
    struct timespec t0, t1;

    REQUIRE(s >= 0);
    /* A header promising 100 bytes, then 10 of them, then nothing. */
    CHECK(send_all(s, &hdr, sizeof(hdr)));
    CHECK(send_all(s, "/half/0123", 10));
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 50; i++)
        CHECK(good_client_works());
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK((t1.tv_sec - t0.tv_sec) < 5);
    close(s); /* mid-message */
    CHECK(good_client_works());
}

/* A client sends request after request and reads no reply: the server
 * stops reading it (its replies wait), serves others meanwhile, and hands
 * it every reply in order once it reads. */
static void test_client_not_reading(void)
{
    static char value[3000];
    static uint8_t msg[STORE_HEADER_BYTES + XENSTORE_PAYLOAD_MAX];
    char reply[XENSTORE_PAYLOAD_MAX + 1];
    struct xsd_sockmsg hdr;
    int s = sock_connect(), sent = 0, got = 0;
    size_t n;
    int fl;

    REQUIRE(s >= 0);
    memset(value, 'v', sizeof(value));
    n = make_msg(msg, XS_WRITE, 0, 0, "/slow\0", 6);
    memcpy(msg + n, value, sizeof(value));
    ((struct xsd_sockmsg *)msg)->len += sizeof(value);
    CHECK(send_all(s, msg, n + sizeof(value)));
    CHECK(get_msg(s, &hdr, reply, false, 5000));
    /* Non-blocking sends until the socket takes no more. */
    fl = fcntl(s, F_GETFL);
    fcntl(s, F_SETFL, fl | O_NONBLOCK);
    n = make_msg(msg, XS_READ, 0, 0, "/slow", 6);
    for (int i = 0; i < 100000; i++) {
        ((struct xsd_sockmsg *)msg)->req_id = (uint32_t)i;
        if (send(s, msg, n, MSG_NOSIGNAL) != (ssize_t)n)
            break;
        sent++;
    }
    CHECK(sent > 10 && sent < 100000);
    for (int i = 0; i < 20; i++)
        CHECK(good_client_works());
    fcntl(s, F_SETFL, fl);
    for (; got < sent; got++) {
        if (!get_msg(s, &hdr, reply, false, 5000) || hdr.req_id != (uint32_t)got ||
            hdr.len != sizeof(value))
            break;
    }
    CHECK_EQ(got, sent);
    close(s);
}

/* A client watches and never reads; a writer fires thousands of large
 * events at it.  The writer is never held up, the watcher is dropped once
 * its unread output passes the limit, and everyone else carries on. */
static void test_event_flood(void)
{
    static char payload[XENSTORE_PAYLOAD_MAX];
    char reply[XENSTORE_PAYLOAD_MAX + 1];
    int watcher = sock_connect(), writer = sock_connect();
    unsigned written = 0;
    struct timespec t0, t1;
    double secs;
    size_t n;

    REQUIRE(watcher >= 0 && writer >= 0);
    /* A 2000-byte token makes each event over 2 KB. */
    n = (size_t)snprintf(payload, sizeof(payload), "/flood") + 1;
    memset(payload + n, 't', 2000);
    n += 2000;
    payload[n++] = '\0';
    CHECK_EQ(call(watcher, XS_WATCH, 1, 0, payload, (uint32_t)n, reply), XS_WATCH);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (unsigned i = 0; i < 4000; i++) {
        int len = snprintf(payload, sizeof(payload), "/flood/k%u%cv", i % 50, 0);
        if (call(writer, XS_WRITE, i, 0, payload, (uint32_t)len + 1, reply) == XS_WRITE)
            written++;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("  4000 writes, each an event of 2 KB for a watcher that does not read: %.2f s\n", secs);
    CHECK_EQ(written, 4000);
    CHECK(secs < 30);
    CHECK(is_closed(watcher, 10000));
    CHECK(good_client_works());
    close(watcher);
    close(writer);
}

static void test_second_instance(void)
{
    pid_t pid = start_server(sock_path);
    int status;

    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1);
    CHECK(good_client_works());
}

static int run_with(const char *a, const char *b)
{
    return run_quietly((char *[]){ (char *)memvisor, "xenstored", (char *)a, (char *)b, NULL });
}

static void test_bad_command_lines(void)
{
    CHECK_EQ(run_with("--quota", "nodes"), 2);
    CHECK_EQ(run_with("--quota", "frobs=3"), 2);
    CHECK_EQ(run_with("--quota", "nodes=0"), 2);
    CHECK_EQ(run_with("--poll-us", "-1"), 2);
    CHECK_EQ(run_with("--max-clients", "0"), 2);
    CHECK_EQ(run_with("--log-level", "loud"), 2);
    CHECK_EQ(run_with("--frobnicate", NULL), 2);
    CHECK_EQ(run_with("extra", NULL), 2);
    CHECK_EQ(run_with("--help", NULL), 0);
}

int main(int argc, char **argv)
{
    unsigned failed;
    pid_t pid;
    int status;

    if (argc != 2) {
        fprintf(stderr, "usage: test_xs_socket MEMVISOR\n");
        return 2;
    }
    memvisor = argv[1];
    snprintf(dir, sizeof(dir), "/tmp/memvisor-xs-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    snprintf(sock_path, sizeof(sock_path), "%s/xs.sock", dir);
    snprintf(log_path, sizeof(log_path), "%s/server.log", dir);
    signal(SIGPIPE, SIG_IGN);

    pid = start_server(sock_path);
    if (!wait_for_socket(sock_path)) {
        fprintf(stderr, "memvisor xenstored did not start\n");
        return 1;
    }
    {
        static const struct harness_test tests[] = {
            TEST_ENTRY(test_fragments_and_ids), TEST_ENTRY(test_many_clients),
            TEST_ENTRY(test_oversized_message), TEST_ENTRY(test_half_message),
            TEST_ENTRY(test_client_not_reading), TEST_ENTRY(test_event_flood),
            TEST_ENTRY(test_second_instance), TEST_ENTRY(test_bad_command_lines),
        };
        failed = (unsigned)harness_run("xs_socket", tests, ARRAY_SIZE(tests));
    }
    /* SIGTERM with a client connected: a clean stop, the socket removed. */
    {
        int s = sock_connect();
        struct stat st;

        status = stop_process(pid);
        harness_current = "sigterm";
        CHECK(s >= 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        CHECK(stat(sock_path, &st) != 0);
        if (s >= 0)
            close(s);
    }
    {
        char cmd[256];
        /* Anything a sanitizer said in the server fails the test. */
        snprintf(cmd, sizeof(cmd), "grep -q Sanitizer %s", log_path);
        if (system(cmd) == 0) {
            harness_current = "sanitizers";
            CHECK(!"a sanitizer report from the server");
        }
        if (harness_failures) {
            snprintf(cmd, sizeof(cmd), "cat %s >&2", log_path);
            if (system(cmd) != 0)
                fprintf(stderr, "(no server log)\n");
        }
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "cannot clean up %s\n", dir);
    }
    return failed || harness_failures ? 1 : 0;
}

unsigned harness_failures;
const char *harness_current;
