/*
 * xenstore: one libxenstore client (Debian's) making sequential calls,
 * against memvisor's server and, in the same run, against Debian's own C
 * xenstored (the peer), with the same calls in the same order, rounds
 * alternating between the two so that the machine's noise falls on both.
 *   xs_write_ops, xs_read_ops      calls per second (best round)
 *   xs_directory_10k_ms            listing a node with 10,000 children
 *                                  (libxenstore falls back to DIRECTORY_PART)
 *   xs_transaction_rmw_us          start, read, write, commit
 * Each figure is printed beside its peer_ twin, as a ratio.  The answers
 * (values read, the listing, the commits) must be the same from both; the
 * last line says whether they were.
 *   bench_xenstore MEMVISOR_SOCKET [PEER_SOCKET]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

#include "bench_util.h"

#define OPS 10000
#define ROUNDS 5
#define KEYS 100
#define DIR_CHILDREN 10000
#define TXNS 2000

struct server {
    const char *name;
    const char *path;
    struct xs_handle *h;
    double write_ops, read_ops, dir_ms, txn_us;
    /* What it answered, to compare. */
    char last_read[32];
    unsigned dir_count;
    uint64_t dir_hash;
    unsigned commits;
};

static double now_s(void)
{
    return (double)mv_now_ns() / 1e9;
}

static struct xs_handle *open_at(const char *path)
{
    struct xs_handle *h;

    /* libxenstore finds its server through XENSTORED_PATH. */
    setenv("XENSTORED_PATH", path, 1);
    h = xs_open(0);
    if (!h) {
        fprintf(stderr, "bench_xenstore: cannot connect to %s\n", path);
        exit(1);
    }
    return h;
}

static void fail(const struct server *s, const char *what)
{
    fprintf(stderr, "bench_xenstore: %s: %s failed\n", s->name, what);
    exit(1);
}

static void round_writes_reads(struct server *s)
{
    char path[64], val[32];
    double t0, t1, t2;

    t0 = now_s();
    for (int i = 0; i < OPS; i++) {
        snprintf(path, sizeof(path), "/bench/k%d", i % KEYS);
        snprintf(val, sizeof(val), "%d", i);
        if (!xs_write(s->h, XBT_NULL, path, val, strlen(val)))
            fail(s, "xs_write");
    }
    t1 = now_s();
    for (int i = 0; i < OPS; i++) {
        unsigned len;
        char *v;
        snprintf(path, sizeof(path), "/bench/k%d", i % KEYS);
        v = xs_read(s->h, XBT_NULL, path, &len);
        if (!v)
            fail(s, "xs_read");
        if (i == OPS - 1)
            snprintf(s->last_read, sizeof(s->last_read), "%.*s", (int)len, v);
        free(v);
    }
    t2 = now_s();
    if (OPS / (t1 - t0) > s->write_ops)
        s->write_ops = OPS / (t1 - t0);
    if (OPS / (t2 - t1) > s->read_ops)
        s->read_ops = OPS / (t2 - t1);
}

static void setup_directory(struct server *s)
{
    char path[64];
    xs_transaction_t t;

    /* In transactions of 500, as a toolstack would. */
    for (int i = 0; i < DIR_CHILDREN; i += 500) {
        do {
            t = xs_transaction_start(s->h);
            if (t == XBT_NULL)
                fail(s, "xs_transaction_start");
            for (int k = i; k < i + 500; k++) {
                snprintf(path, sizeof(path), "/bench/dir/child-%05d", k);
                if (!xs_write(s->h, t, path, "", 0))
                    fail(s, "xs_write in a transaction");
            }
        } while (!xs_transaction_end(s->h, t, false));
    }
}

static void round_directory(struct server *s)
{
    unsigned n = 0;
    double t0 = now_s(), ms;
    char **names = xs_directory(s->h, XBT_NULL, "/bench/dir", &n);
    uint64_t hash = UINT64_C(0xcbf29ce484222325);

    ms = (now_s() - t0) * 1e3;
    if (!names)
        fail(s, "xs_directory");
    for (unsigned i = 0; i < n; i++)
        for (const char *p = names[i]; *p; p++)
            hash = (hash ^ (uint8_t)*p) * UINT64_C(0x100000001b3);
    free(names);
    s->dir_count = n;
    s->dir_hash = hash;
    s->dir_ms = s->dir_ms == 0 || ms < s->dir_ms ? ms : s->dir_ms;
}

static void round_transactions(struct server *s)
{
    double t0 = now_s(), us;
    unsigned commits = 0;

    for (int i = 0; i < TXNS; i++) {
        xs_transaction_t t = xs_transaction_start(s->h);
        char val[32], *v;
        unsigned len;

        if (t == XBT_NULL)
            fail(s, "xs_transaction_start");
        v = xs_read(s->h, t, "/bench/counter", &len);
        snprintf(val, sizeof(val), "%ld", v ? strtol(v, NULL, 10) + 1 : 1);
        free(v);
        if (!xs_write(s->h, t, "/bench/counter", val, strlen(val)))
            fail(s, "xs_write in a transaction");
        commits += xs_transaction_end(s->h, t, false);
    }
    us = (now_s() - t0) * 1e6 / TXNS;
    s->commits += commits;
    s->txn_us = s->txn_us == 0 || us < s->txn_us ? us : s->txn_us;
}

static void emit(const char *name, const char *unit, double ours, double peer, const char *note,
                 bool have_peer)
{
    char peer_name[64];

    snprintf(peer_name, sizeof(peer_name), "peer_%s", name);
    if (have_peer)
        bench_emit(peer_name, peer, unit, NULL, 0,
                   "Debian's C xenstored 4.17, same client and calls");
    bench_emit(name, ours, unit, have_peer ? peer_name : NULL, peer, note);
}

int main(int argc, char **argv)
{
    struct server srv[2] = { { .name = "memvisor" }, { .name = "peer" } };
    unsigned nr = argc > 2 ? 2 : 1;
    bool same;

    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: bench_xenstore MEMVISOR_SOCKET [PEER_SOCKET]\n");
        return 2;
    }
    for (unsigned i = 0; i < nr; i++) {
        srv[i].path = argv[1 + i];
        srv[i].h = open_at(srv[i].path);
        xs_rm(srv[i].h, XBT_NULL, "/bench");
        setup_directory(&srv[i]);
    }
    for (int r = 0; r < ROUNDS; r++) {
        for (unsigned i = 0; i < nr; i++) {
            round_writes_reads(&srv[i]);
            round_directory(&srv[i]);
            round_transactions(&srv[i]);
        }
    }
    same = nr == 2 && !strcmp(srv[0].last_read, srv[1].last_read) &&
           srv[0].dir_count == srv[1].dir_count && srv[0].dir_hash == srv[1].dir_hash &&
           srv[0].commits == srv[1].commits;
    emit("xs_write_ops", "ops/s", srv[0].write_ops, srv[1].write_ops,
         "sequential xs_write, 100 keys", nr == 2);
    emit("xs_read_ops", "ops/s", srv[0].read_ops, srv[1].read_ops, "sequential xs_read, 100 keys",
         nr == 2);
    emit("xs_directory_10k_ms", "ms", srv[0].dir_ms, srv[1].dir_ms,
         "xs_directory of 10,000 children (E2BIG, then DIRECTORY_PART)", nr == 2);
    emit("xs_transaction_rmw_us", "us", srv[0].txn_us, srv[1].txn_us,
         "start, read, write, commit", nr == 2);
    if (nr == 2) {
        bench_emit("xs_answers_identical", same, "bool", NULL, 0,
                   "values read, the 10,000-name listing and its order, commits");
    } else {
        bench_emit("xs_answers_identical", 0, "bool", NULL, 0, "no peer to compare with");
    }
    for (unsigned i = 0; i < nr; i++) {
        xs_rm(srv[i].h, XBT_NULL, "/bench");
        xs_close(srv[i].h);
    }
    return nr == 2 && !same ? 1 : 0;
}
