/*
 * xenstore under many threads (run under ThreadSanitizer in CI): the
 * socket server's thread serves two watchers over the socket while
 * in-process connections (the toolstack and guests, as in memvisord) write,
 * remove and commit transactions on overlapping paths from their own
 * threads, so that watch events reach the socket clients' queues from
 * threads other than the server's, and domains come and go.
 *
 * Asserts: every request answers 0 or an error the operation may give
 * (conflicts give EAGAIN, nothing else fails); both watchers receive
 * well-formed events, the last of them for the final write; the store's
 * checker passes at the end.
 */
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../store_support.h"
#include "../support.h"

#define WRITERS 4
#define WATCHERS 2
#define ROUNDS 3000

struct shared {
    struct store *s;
    char sock[108];
    _Atomic bool stop;
    _Atomic unsigned unexpected, commits, conflicts;
    _Atomic unsigned watchers_ready; /* WATCH answered, or given up */
};

struct watcher {
    struct shared *sh;
    pthread_t th;
    unsigned events;
    bool malformed, saw_final;
};

static void *serve(void *arg)
{
    void **a = arg;

    store_server_run(a[0], *(int *)a[1]);
    return NULL;
}

static bool recv_all(int s, void *buf, size_t len)
{
    uint8_t *p = buf;

    while (len) {
        struct pollfd pfd = { s, POLLIN, 0 };
        ssize_t n;

        if (poll(&pfd, 1, 10000) <= 0)
            return false;
        n = recv(s, p, len, 0);
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

/* A socket client that watches /shared and reads events until it sees
 * the final write's. */
static void *watch_main(void *arg)
{
    struct watcher *w = arg;
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    struct xsd_sockmsg hdr = { XS_WATCH, 1, 0, 12 };
    char body[XENSTORE_PAYLOAD_MAX + 1];
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    bool answered = false;

    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", w->sh->sock);
    if (s < 0 || connect(s, (struct sockaddr *)&addr, sizeof(addr)) ||
        send(s, &hdr, sizeof(hdr), MSG_NOSIGNAL) != sizeof(hdr) ||
        send(s, "/shared\0tok", 12, MSG_NOSIGNAL) != 12) {
        w->malformed = true;
        atomic_fetch_add(&w->sh->watchers_ready, 1);
        if (s >= 0)
            close(s);
        return NULL;
    }
    while (!w->saw_final) {
        if (!recv_all(s, &hdr, sizeof(hdr)) || hdr.len > XENSTORE_PAYLOAD_MAX ||
            !recv_all(s, body, hdr.len))
            break;
        body[hdr.len] = '\0';
        if (hdr.type == XS_WATCH_EVENT) {
            size_t plen = strnlen(body, hdr.len);
            if (plen + 5 != hdr.len || strcmp(body + plen + 1, "tok") ||
                strncmp(body, "/shared", 7))
                w->malformed = true;
            w->events++;
            w->saw_final |= !strcmp(body, "/shared/final");
        } else if (hdr.type != XS_WATCH) {
            w->malformed = true;
        } else if (!answered) {
            answered = true; /* the watch is in place */
            atomic_fetch_add(&w->sh->watchers_ready, 1);
        }
    }
    if (!answered)
        atomic_fetch_add(&w->sh->watchers_ready, 1);
    close(s);
    return NULL;
}

struct writer {
    struct shared *sh;
    pthread_t th;
    unsigned id;
    uint64_t rng;
};

static void expect(struct shared *sh, int rc, int allowed)
{
    if (rc && rc != allowed) {
        fprintf(stderr, "  unexpected %s\n", mv_strerror(rc));
        sh->unexpected++;
    }
}

/* A connection of its own (dom0, or guest 1 or 2 in its home, which the
 * watchers cannot see) doing writes, removals and transactions. */
static void *write_main(void *arg)
{
    struct writer *w = arg;
    struct shared *sh = w->sh;
    bool guest = w->id >= 2;
    struct store_conn *c;
    char path[64], buf[64];
    size_t len;

    if (store_conn_open(sh->s, guest ? (domid_t)(w->id - 1) : 0, !guest, NULL, &c)) {
        sh->unexpected++;
        return NULL;
    }
    for (unsigned i = 0; i < ROUNDS; i++) {
        unsigned k = (unsigned)(test_rng(&w->rng) % 8);
        uint32_t tx;

        snprintf(path, sizeof(path), guest ? "data/k%u" : "/shared/k%u", k);
        switch (test_rng(&w->rng) % 4) {
        case 0:
            expect(sh, store_write(c, 0, path, "v", 1), 0);
            break;
        case 1:
            expect(sh, store_read(c, 0, path, buf, sizeof(buf), &len), -ENOENT);
            break;
        case 2:
            expect(sh, store_rm(c, 0, path), -ENOENT);
            break;
        default:
            /* Read-modify-write: commits or meets a conflict. */
            if (store_transaction_start(c, &tx)) {
                sh->unexpected++;
                break;
            }
            if (store_read(c, tx, path, buf, sizeof(buf) - 1, &len))
                len = 0;
            buf[len] = '\0';
            snprintf(buf, sizeof(buf), "%u", (unsigned)atoi(buf) + 1);
            expect(sh, store_write(c, tx, path, buf, strlen(buf)), 0);
            {
                int rc = store_transaction_end(c, tx, true);
                expect(sh, rc, -EAGAIN);
                if (rc)
                    sh->conflicts++;
                else
                    sh->commits++;
            }
        }
    }
    store_conn_close(c);
    return NULL;
}

/* Guest 3 comes and goes: introduced, writes, released or dies. */
static void *churn_main(void *arg)
{
    struct shared *sh = arg;
    struct store_conn *dom0;

    if (store_conn_open(sh->s, 0, true, NULL, &dom0)) {
        sh->unexpected++;
        return NULL;
    }
    for (unsigned i = 0; i < ROUNDS / 10; i++) {
        struct store_conn *g;

        expect(sh, store_introduce(dom0, 3), 0);
        if (store_conn_open(sh->s, 3, false, NULL, &g) == 0) {
            expect(sh, store_write(g, 0, "x", "1", 1), -EACCES);
            store_conn_close(g);
        }
        if (i % 2)
            expect(sh, store_release(dom0, 3), 0);
        else
            store_domain_gone(sh->s, 3);
    }
    store_conn_close(dom0);
    return NULL;
}

static void test_store_threads(void)
{
    struct shared sh = { 0 };
    struct store_server_config vcfg;
    struct store_server *srv;
    struct watcher w[WATCHERS];
    struct writer wr[WRITERS];
    struct store_conn *dom0;
    pthread_t server, churn;
    int stop = eventfd(0, 0);
    void *args[2];
    char dir[] = "/tmp/memvisor-xst-XXXXXX";

    REQUIRE(stop >= 0 && mkdtemp(dir));
    snprintf(sh.sock, sizeof(sh.sock), "%s/xs.sock", dir);
    sh.s = ts_store(NULL);
    dom0 = ts_conn(sh.s, 0, true, NULL);
    for (domid_t d = 1; d <= 2; d++) {
        char home[32], perm[8];
        snprintf(home, sizeof(home), "/local/domain/%u", d);
        snprintf(perm, sizeof(perm), "n%u", d);
        REQUIRE(store_introduce(dom0, d) == 0 && store_mkdir(dom0, 0, home) == 0 &&
                store_set_perms(dom0, 0, home, perm, strlen(perm) + 1) == 0);
    }
    store_server_config_default(&vcfg);
    vcfg.path = sh.sock;
    vcfg.log.level = MV_LOG_ERROR;
    REQUIRE(store_server_open(sh.s, &vcfg, &srv) == 0);
    args[0] = srv;
    args[1] = &stop;
    REQUIRE(pthread_create(&server, NULL, serve, args) == 0);

    for (unsigned i = 0; i < WATCHERS; i++) {
        w[i] = (struct watcher){ .sh = &sh };
        REQUIRE(pthread_create(&w[i].th, NULL, watch_main, &w[i]) == 0);
    }
    while (atomic_load(&sh.watchers_ready) < WATCHERS)
        sched_yield(); /* until every watch is in place */
    for (unsigned i = 0; i < WRITERS; i++) {
        wr[i] = (struct writer){ &sh, 0, i, 1000 + i };
        REQUIRE(pthread_create(&wr[i].th, NULL, write_main, &wr[i]) == 0);
    }
    REQUIRE(pthread_create(&churn, NULL, churn_main, &sh) == 0);
    for (unsigned i = 0; i < WRITERS; i++)
        pthread_join(wr[i].th, NULL);
    pthread_join(churn, NULL);
    CHECK_EQ(store_write(dom0, 0, "/shared/final", "1", 1), 0);
    for (unsigned i = 0; i < WATCHERS; i++) {
        pthread_join(w[i].th, NULL);
        printf("  watcher %u: %u events\n", i, w[i].events);
        CHECK(!w[i].malformed);
        CHECK(w[i].saw_final);
        CHECK(w[i].events > 100);
    }
    printf("  %u commits, %u conflicts\n", sh.commits, sh.conflicts);
    CHECK_EQ(sh.unexpected, 0);
    CHECK(sh.commits > 0);
    CHECK_EQ(eventfd_write(stop, 1), 0);
    pthread_join(server, NULL);
    store_conn_close(dom0);
    store_server_close(srv);
    CHECK_STORE(sh.s);
    store_destroy(sh.s);
    close(stop);
    rmdir(dir);
}

HARNESS_MAIN("store_threads", TEST_ENTRY(test_store_threads))
