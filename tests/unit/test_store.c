/*
 * xenstore: the tree, paths, directories, permissions, quotas,
 * transactions, watches, domains and control, through the connections
 * the toolstack and guests use (and raw requests where the wire matters).
 * The store's checker runs after every test.
 */
#include "../store_support.h"

static struct store *s;
static struct store_conn *dom0, *g1, *g2;
static struct ts_events ev0, ev1, ev2;

/* A store with dom0, and guests 1 and 2 introduced and connected. */
static void setup(const struct store_quota *quota)
{
    memset(&ev0, 0, sizeof(ev0));
    memset(&ev1, 0, sizeof(ev1));
    memset(&ev2, 0, sizeof(ev2));
    s = ts_store(quota);
    dom0 = ts_conn(s, 0, true, &ev0);
    if (store_introduce(dom0, 1) || store_introduce(dom0, 2) ||
        ts_write(dom0, 0, "/local/domain/1/name", "g1") ||
        ts_write(dom0, 0, "/local/domain/2/name", "g2") ||
        ts_set_perms(dom0, "/local/domain/1", "n1") ||
        ts_set_perms(dom0, "/local/domain/2", "n2")) {
        fprintf(stderr, "cannot set up the store\n");
        exit(1);
    }
    g1 = ts_conn(s, 1, false, &ev1);
    g2 = ts_conn(s, 2, false, &ev2);
    ev0.n = 0;
}

static void teardown(void)
{
    CHECK_STORE(s);
    store_destroy(s); /* closes the connections too */
}

static void test_paths(void)
{
    static const char *const bad[] = { "", "/a//b", "/a/", "a b", "/a\tb", "/a.b", "@x",
                                       "/a/b:c", "//" };
    int err;

    setup(NULL);
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        CHECK_EQ(ts_write(dom0, 0, bad[i], "v"), -EINVAL);
        ts_read(dom0, 0, bad[i], &err);
        CHECK_EQ(err, -EINVAL);
    }
    /* Every allowed character. */
    CHECK_EQ(ts_write(dom0, 0, "/az-AZ_09@x", "ok"), 0);
    CHECK(!strcmp(ts_read(dom0, 0, "/az-AZ_09@x", NULL), "ok"));
    /* Relative paths are under the connection's home. */
    CHECK_EQ(ts_write(dom0, 0, "rel/x", "0"), 0);
    CHECK(!strcmp(ts_read(dom0, 0, "/local/domain/0/rel/x", NULL), "0"));
    CHECK_EQ(ts_write(g1, 0, "data/y", "1"), 0);
    CHECK(!strcmp(ts_read(dom0, 0, "/local/domain/1/data/y", NULL), "1"));
    CHECK(!strcmp(ts_read(g1, 0, "data/y", NULL), "1"));
    /* The root exists and reads as empty. */
    ts_read(dom0, 0, "/", &err);
    CHECK_EQ(err, 0);
    teardown();
}

static void test_read_write_mkdir_rm(void)
{
    char reply[XENSTORE_PAYLOAD_MAX + 1];
    static const uint8_t binary[] = { 'v', 0, 'w', 0, 0 };
    uint8_t got[16];
    size_t len;
    int err;

    setup(NULL);
    /* WRITE creates missing parents, empty. */
    CHECK_EQ(ts_write(dom0, 0, "/a/b/c", "deep"), 0);
    CHECK(!strcmp(ts_read(dom0, 0, "/a/b", &err), "") && err == 0);
    CHECK(!strcmp(ts_read(dom0, 0, "/a/b/c", NULL), "deep"));
    /* Values are bytes: NULs kept, no NUL added. */
    CHECK_EQ(store_write(dom0, 0, "/a/bin", binary, sizeof(binary)), 0);
    CHECK_EQ(store_read(dom0, 0, "/a/bin", (char *)got, sizeof(got), &len), 0);
    CHECK(len == sizeof(binary) && !memcmp(got, binary, len));
    CHECK_EQ(store_write(dom0, 0, "/a/bin", "", 0), 0);
    CHECK_EQ(store_read(dom0, 0, "/a/bin", (char *)got, sizeof(got), &len), 0);
    CHECK_EQ(len, 0);
    /* MKDIR: creates; on an existing node changes nothing. */
    CHECK_EQ(store_mkdir(dom0, 0, "/m/n"), 0);
    CHECK(!strcmp(ts_read(dom0, 0, "/m/n", &err), "") && err == 0);
    CHECK_EQ(store_mkdir(dom0, 0, "/a/b/c"), 0);
    CHECK(!strcmp(ts_read(dom0, 0, "/a/b/c", NULL), "deep"));
    /* RM takes the subtree; a missing node under an existing parent is
     * fine; a missing parent is ENOENT; "/" cannot go. */
    CHECK_EQ(store_rm(dom0, 0, "/a/b"), 0);
    ts_read(dom0, 0, "/a/b/c", &err);
    CHECK_EQ(err, -ENOENT);
    CHECK(!strcmp(ts_dir(dom0, 0, "/a", NULL), "bin"));
    CHECK_EQ(store_rm(dom0, 0, "/a/b"), 0);
    CHECK_EQ(store_rm(dom0, 0, "/a/b/c"), -ENOENT);
    CHECK_EQ(store_rm(dom0, 0, "/"), -EINVAL);
    ts_read(dom0, 0, "/nothing", &err);
    CHECK_EQ(err, -ENOENT);
    /* Malformed payloads: no NUL after the path, extra arguments. */
    CHECK_EQ(ts_raw(dom0, XS_WRITE, 0, "/a/x", 4, reply, NULL), XS_ERROR);
    CHECK(!strcmp(reply, "EINVAL"));
    CHECK_EQ(ts_raw(dom0, XS_READ, 0, "/a\0/b\0", 6, reply, NULL), XS_ERROR);
    CHECK(!strcmp(reply, "EINVAL"));
    CHECK_EQ(ts_raw(dom0, XS_READ, 0, "/a", 2, reply, NULL), XS_ERROR);
    CHECK_EQ(ts_raw(dom0, XS_READ, 0, "", 0, reply, NULL), XS_ERROR);
    /* Types that do not exist, or are the server's own. */
    CHECK_EQ(ts_raw(dom0, 20, 0, "", 0, reply, NULL), XS_ERROR);
    CHECK(!strcmp(reply, "ENOSYS"));
    CHECK_EQ(ts_raw(dom0, XS_WATCH_EVENT, 0, "", 0, reply, NULL), XS_ERROR);
    CHECK_EQ(ts_raw(dom0, 9999, 0, "", 0, reply, NULL), XS_ERROR);
    CHECK(!strcmp(reply, "ENOSYS"));
    teardown();
}

/* Reassembles a directory through DIRECTORY_PART, as libxenstore does. */
static size_t directory_by_parts(struct store_conn *c, const char *path, char *out, size_t cap,
                                 unsigned *parts)
{
    char payload[128], reply[XENSTORE_PAYLOAD_MAX + 1];
    size_t off = 0;
    uint32_t rlen;

    *parts = 0;
    for (;;) {
        int plen = snprintf(payload, sizeof(payload), "%s%c%zu", path, 0, off);
        size_t genlen, names;

        if (ts_raw(c, XS_DIRECTORY_PART, 0, payload, (uint32_t)plen + 1, reply, &rlen) !=
            XS_DIRECTORY_PART)
            return 0;
        (*parts)++;
        CHECK(rlen <= XENSTORE_PAYLOAD_MAX);
        genlen = strlen(reply) + 1;
        names = rlen - genlen;
        /* The last part ends with an empty name. */
        if (names >= 1 && reply[rlen - 1] == '\0' && (names == 1 || reply[rlen - 2] == '\0')) {
            names -= 1;
            if (off + names > cap)
                return 0;
            memcpy(out + off, reply + genlen, names);
            return off + names;
        }
        if (off + names > cap || names == 0)
            return 0;
        memcpy(out + off, reply + genlen, names);
        off += names;
    }
}

static void test_directory(void)
{
    static char expect[100000], got[100000];
    char path[64], reply[XENSTORE_PAYLOAD_MAX + 1];
    size_t elen = 0, glen;
    unsigned parts;
    uint32_t rlen;
    int err;

    setup(NULL);
    /* Creation order, not sorted; a re-created child goes last. */
    CHECK_EQ(ts_write(dom0, 0, "/d/zeta", ""), 0);
    CHECK_EQ(ts_write(dom0, 0, "/d/alpha", ""), 0);
    CHECK_EQ(ts_write(dom0, 0, "/d/mid", ""), 0);
    CHECK(!strcmp(ts_dir(dom0, 0, "/d", NULL), "zeta,alpha,mid"));
    CHECK_EQ(store_rm(dom0, 0, "/d/zeta"), 0);
    CHECK_EQ(ts_write(dom0, 0, "/d/zeta", ""), 0);
    CHECK(!strcmp(ts_dir(dom0, 0, "/d", NULL), "alpha,mid,zeta"));
    ts_dir(dom0, 0, "/nothing", &err);
    CHECK_EQ(err, -ENOENT);
    /* An empty directory answers an empty payload. */
    CHECK_EQ(ts_raw(dom0, XS_DIRECTORY, 0, "/d/mid", 7, reply, &rlen), XS_DIRECTORY);
    CHECK_EQ(rlen, 0);

    /* 5000 children (over 30 KB of names): DIRECTORY says E2BIG, and
     * DIRECTORY_PART hands them out in whole names that reassemble to the
     * list, in order. */
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(path, sizeof(path), "/big/child-number-%d", i);
        REQUIRE(ts_write(dom0, 0, path, "") == 0);
        memcpy(expect + elen, path + 5, (size_t)n - 5 + 1);
        elen += (size_t)n - 5 + 1;
    }
    CHECK_EQ(ts_raw(dom0, XS_DIRECTORY, 0, "/big", 5, reply, NULL), XS_ERROR);
    CHECK(!strcmp(reply, "E2BIG"));
    glen = directory_by_parts(dom0, "/big", got, sizeof(got), &parts);
    CHECK_EQ(glen, elen);
    CHECK(glen == elen && !memcmp(got, expect, elen));
    CHECK(parts >= elen / XENSTORE_PAYLOAD_MAX + 1);
    /* An offset past the end: the generation and an empty name. */
    CHECK_EQ(ts_raw(dom0, XS_DIRECTORY_PART, 0, "/big\0" "99999999", 14, reply, &rlen),
             XS_DIRECTORY_PART);
    CHECK(rlen == strlen(reply) + 2 && reply[rlen - 1] == '\0');
    CHECK_EQ(ts_raw(dom0, XS_DIRECTORY_PART, 0, "/big\0x", 7, reply, NULL), XS_ERROR);
    /* The same inside a transaction. */
    {
        uint32_t tx;
        REQUIRE(store_transaction_start(dom0, &tx) == 0);
        CHECK_EQ(ts_write(dom0, tx, "/big/added-in-tx", ""), 0);
        CHECK_EQ(ts_raw(dom0, XS_DIRECTORY, tx, "/big", 5, reply, NULL), XS_ERROR);
        CHECK_EQ(store_transaction_end(dom0, tx, true), 0);
        memcpy(expect + elen, "added-in-tx", 12);
        elen += 12;
        glen = directory_by_parts(dom0, "/big", got, sizeof(got), &parts);
        CHECK(glen == elen && !memcmp(got, expect, elen));
    }
    /* A leaf never answers E2BIG: the largest value a WRITE can carry. */
    {
        static char big[XENSTORE_PAYLOAD_MAX];
        size_t len;
        memset(big, 'v', sizeof(big));
        CHECK_EQ(store_write(dom0, 0, "/l", big, XENSTORE_PAYLOAD_MAX - 3), 0);
        CHECK_EQ(store_write(dom0, 0, "/l", big, XENSTORE_PAYLOAD_MAX - 2), -E2BIG);
        CHECK_EQ(store_read(dom0, 0, "/l", big, sizeof(big), &len), 0);
        CHECK_EQ(len, XENSTORE_PAYLOAD_MAX - 3);
    }
    teardown();
}

static void test_permissions(void)
{
    char reply[XENSTORE_PAYLOAD_MAX + 1];
    int err;

    setup(NULL);
    CHECK_EQ(ts_write(dom0, 0, "/local/domain/2/secret", "s"), 0);
    CHECK_EQ(ts_write(g2, 0, "mine", "m"), 0);
    /* Guests own what they create, inheriting the rest. */
    CHECK(!strcmp(ts_get_perms(dom0, "/local/domain/2/mine"), "n2"));
    CHECK(!strcmp(ts_get_perms(dom0, "/local/domain/2/secret"), "n2"));
    /* Another guest cannot read, list, write or remove them, and cannot
     * tell a missing node from a forbidden one. */
    ts_read(g1, 0, "/local/domain/2/secret", &err);
    CHECK_EQ(err, -EACCES);
    ts_read(g1, 0, "/local/domain/2/missing", &err);
    CHECK_EQ(err, -EACCES);
    ts_dir(g1, 0, "/local/domain/2", &err);
    CHECK_EQ(err, -EACCES);
    CHECK_EQ(ts_write(g1, 0, "/local/domain/2/secret", "x"), -EACCES);
    CHECK_EQ(ts_write(g1, 0, "/local/domain/2/new", "x"), -EACCES);
    CHECK_EQ(store_rm(g1, 0, "/local/domain/2/secret"), -EACCES);
    CHECK_EQ(store_mkdir(g1, 0, "/local/domain/2/d"), -EACCES);
    CHECK_EQ(ts_raw(g1, XS_GET_PERMS, 0, "/local/domain/2/secret", 23, reply, NULL), XS_ERROR);
    CHECK(!strcmp(reply, "EACCES"));
    /* Nor write outside its home: "/" is n0. */
    CHECK_EQ(ts_write(g1, 0, "/top", "x"), -EACCES);
    ts_read(g1, 0, "/tool/xenstored", &err);
    CHECK_EQ(err, -EACCES);
    /* In its own home a missing node is ENOENT. */
    ts_read(g1, 0, "nothing", &err);
    CHECK_EQ(err, -ENOENT);
    CHECK(!strcmp(ts_read(g2, 0, "secret", NULL), "s"));

    /* r1: g1 may read, not write; b1: both. */
    CHECK_EQ(ts_set_perms(dom0, "/local/domain/2/secret", "n2,r1"), 0);
    CHECK(!strcmp(ts_read(g1, 0, "/local/domain/2/secret", NULL), "s"));
    CHECK_EQ(ts_write(g1, 0, "/local/domain/2/secret", "x"), -EACCES);
    CHECK_EQ(ts_set_perms(dom0, "/local/domain/2/secret", "n2,b1"), 0);
    CHECK_EQ(ts_write(g1, 0, "/local/domain/2/secret", "x"), 0);
    /* The first matching entry wins; the owner's letter is everyone
     * else's default. */
    CHECK_EQ(ts_set_perms(dom0, "/local/domain/2/secret", "r2,n1,b1"), 0);
    ts_read(g1, 0, "/local/domain/2/secret", &err);
    CHECK_EQ(err, -EACCES);
    CHECK_EQ(ts_set_perms(dom0, "/local/domain/2/secret", "r2"), 0);
    CHECK(!strcmp(ts_read(g1, 0, "/local/domain/2/secret", NULL), "x"));
    /* Only the owner sets permissions (write access is not enough), and
     * a guest cannot give its node away. */
    CHECK_EQ(ts_set_perms(dom0, "/local/domain/2/secret", "n2,b1"), 0);
    CHECK_EQ(ts_set_perms(g1, "/local/domain/2/secret", "b1"), -EACCES);
    CHECK_EQ(ts_set_perms(g2, "secret", "n1"), -EPERM);
    CHECK_EQ(ts_set_perms(g2, "secret", "n2,r1"), 0);
    /* Bad lists. */
    CHECK_EQ(ts_set_perms(dom0, "/local/domain/2/secret", "x2"), -EINVAL);
    CHECK_EQ(ts_set_perms(dom0, "/local/domain/2/secret", "r"), -EINVAL);
    CHECK_EQ(ts_set_perms(dom0, "/local/domain/2/secret", "r4294967296"), -EINVAL);
    CHECK_EQ(ts_set_perms(dom0, "/local/domain/2/secret", "r99999"), -ENOENT);
    CHECK_EQ(ts_set_perms(dom0, "/local/domain/2/secret", "r2x"), -EINVAL);
    /* An owner that does not exist: ENOENT; other unknown domains are
     * kept but grant nothing. */
    CHECK_EQ(ts_set_perms(dom0, "/local/domain/2/secret", "n7"), -ENOENT);
    CHECK_EQ(ts_set_perms(dom0, "/local/domain/2/secret", "n2,r7"), 0);
    CHECK(!strcmp(ts_get_perms(dom0, "/local/domain/2/secret"), "n2,r7"));
    CHECK(!strcmp(ts_get_perms(dom0, "/local/domain/2/secret"), "n2,r7"));
    /* Special nodes: GET_PERMS and SET_PERMS take them. */
    CHECK(!strcmp(ts_get_perms(dom0, "@releaseDomain"), "n0"));
    teardown();
}

/* A domain id used again does not inherit what the old domain had. */
static void test_stale_domid(void)
{
    struct store_conn *g3;
    int err;

    setup(NULL);
    REQUIRE(store_introduce(dom0, 3) == 0);
    CHECK_EQ(ts_write(dom0, 0, "/shared", "v"), 0);
    CHECK_EQ(ts_set_perms(dom0, "/shared", "n0,r3"), 0);
    g3 = ts_conn(s, 3, false, NULL);
    CHECK(!strcmp(ts_read(g3, 0, "/shared", NULL), "v"));
    store_conn_close(g3);
    CHECK_EQ(store_release(dom0, 3), 0);
    /* Its entry went with it. */
    CHECK(!strcmp(ts_get_perms(dom0, "/shared"), "n0"));
    CHECK_EQ(ts_set_perms(dom0, "/shared", "n0,r3"), 0); /* kept, ignored */
    REQUIRE(store_introduce(dom0, 3) == 0);
    g3 = ts_conn(s, 3, false, NULL);
    ts_read(g3, 0, "/shared", &err);
    CHECK_EQ(err, -EACCES);
    /* Granted again after it exists: it counts. */
    CHECK_EQ(ts_set_perms(dom0, "/shared", "n0,r3"), 0);
    CHECK(!strcmp(ts_read(g3, 0, "/shared", NULL), "v"));
    teardown();
}

static void test_quotas(void)
{
    struct store_quota q = { 8, 3, 2, 6, 200, 3, 40 };
    char path[128], value[256];
    uint32_t tx[3];
    int err;

    setup(&q);
    /* g1 owns /local/domain/1 (dom0 wrote its name before handing it
     * over): 7 more nodes, then ENOSPC. */
    for (int i = 0; i < 7; i++) {
        snprintf(path, sizeof(path), "n%d", i);
        CHECK_EQ(ts_write(g1, 0, path, ""), 0);
    }
    CHECK_EQ(ts_write(g1, 0, "n7", ""), -ENOSPC);
    CHECK_EQ(store_mkdir(g1, 0, "a/b"), -ENOSPC);
    ts_read(g1, 0, "n7", &err);
    CHECK_EQ(err, -ENOENT);
    /* Writing existing nodes still works; removing frees quota. */
    CHECK_EQ(ts_write(g1, 0, "n0", "v"), 0);
    CHECK_EQ(store_rm(g1, 0, "n5"), 0);
    CHECK_EQ(ts_write(g1, 0, "n7", ""), 0);
    /* dom0 is exempt. */
    for (int i = 0; i < 20; i++) {
        snprintf(path, sizeof(path), "/dom0/n%d", i);
        CHECK_EQ(ts_write(dom0, 0, path, ""), 0);
    }
    /* Node size: 16 + 8 per permission + value + children >= 200. */
    memset(value, 'x', sizeof(value));
    CHECK_EQ(store_write(g2, 0, "v", value, 150), 0);
    CHECK_EQ(store_write(g2, 0, "v", value, 176), -ENOSPC);
    CHECK_EQ(store_write(g2, 0, "v", value, 175), 0);
    CHECK_EQ(store_write(dom0, 0, "/local/domain/2/v", value, 250), 0);
    /* Permissions per node, and their share of the size. */
    CHECK_EQ(ts_set_perms(g2, "v", "n2,r0,r1"), -ENOSPC);
    CHECK_EQ(store_write(g2, 0, "v", value, 150), 0);
    CHECK_EQ(ts_set_perms(g2, "v", "n2,r0,r1"), 0);
    CHECK_EQ(ts_set_perms(g2, "v", "n2,r0,r1,b0"), -ENOSPC);
    CHECK(!strcmp(ts_get_perms(g2, "v"), "n2,r0,r1"));
    /* A new node's parent grows by its name: refused whole. */
    CHECK_EQ(store_write(g2, 0, "v/child-with-a-long-name/and-below", "", 0), -ENOSPC);
    {
        int e;
        ts_read(g2, 0, "v/child-with-a-long-name", &e);
        CHECK_EQ(e, -ENOENT);
    }
    /* Path length below the home. */
    memset(path, 'p', sizeof(path));
    path[40] = '\0';
    CHECK_EQ(ts_write(g2, 0, path, ""), 0);
    path[40] = 'p';
    path[41] = '\0';
    CHECK_EQ(ts_write(g2, 0, path, ""), -EINVAL);
    /* Watches: more than the quota is E2BIG (Xen 4.17). */
    CHECK_EQ(store_watch(g2, "/a", "1"), 0);
    CHECK_EQ(store_watch(g2, "/b", "2"), 0);
    CHECK_EQ(store_watch(g2, "/c", "3"), 0);
    CHECK_EQ(store_watch(g2, "/d", "4"), -E2BIG);
    CHECK_EQ(store_unwatch(g2, "/a", "1"), 0);
    CHECK_EQ(store_watch(g2, "/d", "4"), 0);
    /* Open transactions. */
    CHECK_EQ(store_transaction_start(g2, &tx[0]), 0);
    CHECK_EQ(store_transaction_start(g2, &tx[1]), 0);
    CHECK_EQ(store_transaction_start(g2, &tx[2]), -ENOSPC);
    CHECK_EQ(store_transaction_end(g2, tx[1], false), 0);
    CHECK_EQ(store_transaction_start(g2, &tx[2]), 0);
    /* Nodes one transaction may touch: past them it fails for good. */
    for (int i = 0; i < 5; i++) {
        snprintf(path, sizeof(path), "t%d", i);
        ts_read(g2, tx[0], path, &err);
        CHECK_EQ(err, -ENOENT);
    }
    ts_read(g2, tx[0], "t-over", &err);
    CHECK_EQ(err, -ENOSPC);
    CHECK_EQ(store_transaction_end(g2, tx[0], true), -ENOMEM);
    CHECK_EQ(store_transaction_end(g2, tx[2], false), 0);
    /* Node quota is checked at commit too. */
    CHECK_EQ(store_transaction_start(g1, &tx[0]), 0);
    CHECK_EQ(store_rm(g1, tx[0], "n0"), 0);
    CHECK_EQ(ts_write(g1, tx[0], "x0", ""), 0);
    CHECK_EQ(ts_write(g1, tx[0], "x1", ""), -ENOSPC);
    CHECK_EQ(store_transaction_end(g1, tx[0], true), 0);
    CHECK(!strcmp(ts_dir(g1, 0, "/local/domain/1", NULL), "name,n1,n2,n3,n4,n6,n7,x0"));
    teardown();
}

static void test_transactions(void)
{
    char reply[XENSTORE_PAYLOAD_MAX + 1];
    uint32_t tx, tx2;
    int err;

    setup(NULL);
    CHECK_EQ(ts_write(dom0, 0, "/t/x", "1"), 0);
    /* test-xenstore's "ta err": the transaction keeps seeing what it read;
     * its commit fails with EAGAIN and the outside write survives. */
    REQUIRE(store_transaction_start(dom0, &tx) == 0);
    CHECK(tx != 0);
    CHECK(!strcmp(ts_read(dom0, tx, "/t/x", NULL), "1"));
    CHECK_EQ(ts_write(dom0, 0, "/t/x", "2"), 0);
    CHECK(!strcmp(ts_read(dom0, tx, "/t/x", NULL), "1"));
    CHECK_EQ(ts_write(dom0, tx, "/t/x", "3"), 0);
    CHECK(!strcmp(ts_read(dom0, tx, "/t/x", NULL), "3"));
    CHECK(!strcmp(ts_read(dom0, 0, "/t/x", NULL), "2"));
    CHECK_EQ(store_transaction_end(dom0, tx, true), -EAGAIN);
    CHECK(!strcmp(ts_read(dom0, 0, "/t/x", NULL), "2"));
    /* The id is dead after the end, either way. */
    ts_read(dom0, tx, "/t/x", &err);
    CHECK_EQ(err, -ENOENT);
    CHECK_EQ(store_transaction_end(dom0, tx, true), -ENOENT);

    /* A commit applies everything, watch events included, at once. */
    REQUIRE(store_watch(dom0, "/t", "w") == 0);
    ev0.n = 0;
    REQUIRE(store_transaction_start(dom0, &tx) == 0);
    CHECK_EQ(ts_write(dom0, tx, "/t/new/a", "A"), 0);
    CHECK_EQ(ts_write(dom0, tx, "/t/new/b", "B"), 0);
    CHECK_EQ(store_rm(dom0, tx, "/t/x"), 0);
    CHECK(!strcmp(ts_dir(dom0, tx, "/t/new", NULL), "a,b"));
    ts_read(dom0, tx, "/t/x", &err);
    CHECK_EQ(err, -ENOENT);
    /* Nothing shows outside, no event yet. */
    ts_read(dom0, 0, "/t/new", &err);
    CHECK_EQ(err, -ENOENT);
    CHECK(!strcmp(ts_read(dom0, 0, "/t/x", NULL), "2"));
    CHECK_EQ(ev0.n, 0);
    CHECK_EQ(store_transaction_end(dom0, tx, true), 0);
    CHECK(!strcmp(ts_dir(dom0, 0, "/t", NULL), "new"));
    CHECK(!strcmp(ts_dir(dom0, 0, "/t/new", NULL), "a,b"));
    CHECK(!strcmp(ts_read(dom0, 0, "/t/new/b", NULL), "B"));
    CHECK(ts_has(&ev0, "/t/new/a|w") && ts_has(&ev0, "/t/new/b|w") && ts_has(&ev0, "/t/x|w"));

    /* An abort leaves no trace. */
    ev0.n = 0;
    REQUIRE(store_transaction_start(dom0, &tx) == 0);
    CHECK_EQ(ts_write(dom0, tx, "/t/gone", "g"), 0);
    CHECK_EQ(store_transaction_end(dom0, tx, false), 0);
    ts_read(dom0, 0, "/t/gone", &err);
    CHECK_EQ(err, -ENOENT);
    CHECK_EQ(ev0.n, 0);

    /* A node read as missing, created outside: conflict (its parent,
     * consulted for the error, changed too, in Xen as here).  A write to
     * a node the transaction never touched: no conflict. */
    REQUIRE(store_transaction_start(dom0, &tx) == 0);
    ts_read(dom0, tx, "/t/later", &err);
    CHECK_EQ(err, -ENOENT);
    CHECK_EQ(ts_write(dom0, 0, "/t/later", "x"), 0);
    CHECK_EQ(ts_write(dom0, tx, "/t/other", "o"), 0);
    CHECK_EQ(store_transaction_end(dom0, tx, true), -EAGAIN);
    REQUIRE(store_transaction_start(dom0, &tx) == 0);
    CHECK(!strcmp(ts_read(dom0, tx, "/t/later", NULL), "x"));
    CHECK_EQ(ts_write(dom0, 0, "/t/new/a", "again"), 0);
    CHECK_EQ(ts_write(dom0, tx, "/u/other", "o"), 0);
    CHECK_EQ(store_transaction_end(dom0, tx, true), 0);
    /* A node first touched late is seen as it was at the start. */
    REQUIRE(store_transaction_start(dom0, &tx) == 0);
    CHECK_EQ(ts_write(dom0, 0, "/u/late", "now"), 0);
    ts_read(dom0, tx, "/u/late", &err);
    CHECK_EQ(err, -ENOENT);
    CHECK_EQ(store_transaction_end(dom0, tx, true), -EAGAIN);

    /* Two transactions, disjoint: both commit; overlapping: one does. */
    CHECK_EQ(store_mkdir(dom0, 0, "/p"), 0);
    CHECK_EQ(store_mkdir(dom0, 0, "/q"), 0);
    REQUIRE(store_transaction_start(dom0, &tx) == 0);
    REQUIRE(store_transaction_start(dom0, &tx2) == 0);
    CHECK(tx != tx2);
    CHECK_EQ(ts_write(dom0, tx, "/p/one", "1"), 0);
    CHECK_EQ(ts_write(dom0, tx2, "/q/two", "2"), 0);
    CHECK_EQ(store_transaction_end(dom0, tx, true), 0);
    CHECK_EQ(store_transaction_end(dom0, tx2, true), 0);
    REQUIRE(store_transaction_start(dom0, &tx) == 0);
    REQUIRE(store_transaction_start(dom0, &tx2) == 0);
    CHECK_EQ(ts_write(dom0, tx, "/p/one", "a"), 0);
    CHECK_EQ(ts_write(dom0, tx2, "/p/one", "b"), 0);
    CHECK_EQ(store_transaction_end(dom0, tx2, true), 0);
    CHECK_EQ(store_transaction_end(dom0, tx, true), -EAGAIN);
    CHECK(!strcmp(ts_read(dom0, 0, "/p/one", NULL), "b"));

    /* A removal of a subtree, then a new node where it was. */
    CHECK_EQ(ts_write(dom0, 0, "/r/a/b/c", "c"), 0);
    CHECK_EQ(ts_write(dom0, 0, "/r/z", "z"), 0);
    REQUIRE(store_transaction_start(dom0, &tx) == 0);
    CHECK_EQ(store_rm(dom0, tx, "/r/a"), 0);
    CHECK_EQ(ts_write(dom0, tx, "/r/a/new", "n"), 0);
    CHECK_EQ(store_transaction_end(dom0, tx, true), 0);
    CHECK(!strcmp(ts_dir(dom0, 0, "/r", NULL), "z,a"));
    CHECK(!strcmp(ts_dir(dom0, 0, "/r/a", NULL), "new"));
    ts_read(dom0, 0, "/r/a/b", &err);
    CHECK_EQ(err, -ENOENT);

    /* Protocol: an unknown id is ENOENT; no nesting; T or F only;
     * TRANSACTION_END outside one is ENOENT. */
    ts_read(dom0, 12345, "/t", &err);
    CHECK_EQ(err, -ENOENT);
    REQUIRE(store_transaction_start(dom0, &tx) == 0);
    CHECK_EQ(ts_raw(dom0, XS_TRANSACTION_START, tx, "", 1, reply, NULL), XS_ERROR);
    CHECK(!strcmp(reply, "EBUSY"));
    CHECK_EQ(ts_raw(dom0, XS_TRANSACTION_END, tx, "X", 2, reply, NULL), XS_ERROR);
    CHECK(!strcmp(reply, "EINVAL"));
    CHECK_EQ(ts_raw(dom0, XS_TRANSACTION_END, 0, "T", 2, reply, NULL), XS_ERROR);
    CHECK(!strcmp(reply, "ENOENT"));
    /* Another connection cannot use it. */
    ts_read(g1, tx, "name", &err);
    CHECK_EQ(err, -ENOENT);
    CHECK_EQ(store_transaction_end(dom0, tx, false), 0);
    teardown();
}

/* Snapshot isolation: whatever a transaction touches, first or late, it
 * sees as the store was when it started; the history that makes this
 * possible is dropped once no open transaction needs it. */
static void test_snapshots(void)
{
    struct store_stats st;
    uint32_t old, mid, fresh;
    int err;

    setup(NULL);
    CHECK_EQ(ts_write(dom0, 0, "/s/a", "a0"), 0);
    CHECK_EQ(ts_write(dom0, 0, "/s/b", "b0"), 0);
    CHECK_EQ(ts_write(dom0, 0, "/s/d/x", "x0"), 0);
    CHECK_EQ(ts_write(dom0, 0, "/s/d/y", "y0"), 0);
    REQUIRE(store_transaction_start(dom0, &old) == 0);
    /* Outside: a write, a removal of a subtree, a new node, new perms. */
    CHECK_EQ(ts_write(dom0, 0, "/s/a", "a1"), 0);
    CHECK_EQ(store_rm(dom0, 0, "/s/d"), 0);
    CHECK_EQ(ts_write(dom0, 0, "/s/c", "c1"), 0);
    CHECK_EQ(ts_set_perms(dom0, "/s/b", "n0,r1"), 0);
    REQUIRE(store_transaction_start(dom0, &mid) == 0);
    CHECK_EQ(ts_write(dom0, 0, "/s/a", "a2"), 0);
    CHECK_EQ(ts_write(dom0, 0, "/s/d/z", "z2"), 0);
    store_stats(s, &st);
    CHECK(st.past_versions > 0 && st.past_bytes > 0);
    CHECK_STORE(s);

    /* The first transaction sees the store as it started, */
    CHECK(!strcmp(ts_read(dom0, old, "/s/a", NULL), "a0"));
    CHECK(!strcmp(ts_dir(dom0, old, "/s", NULL), "a,b,d"));
    CHECK(!strcmp(ts_dir(dom0, old, "/s/d", NULL), "x,y"));
    CHECK(!strcmp(ts_read(dom0, old, "/s/d/y", NULL), "y0"));
    ts_read(dom0, old, "/s/d/z", &err);
    CHECK_EQ(err, -ENOENT);
    ts_read(dom0, old, "/s/c", &err);
    CHECK_EQ(err, -ENOENT);
    CHECK(!strcmp(ts_get_perms_tx(dom0, old, "/s/b"), "n0"));
    /* the second as it was between. */
    CHECK(!strcmp(ts_read(dom0, mid, "/s/a", NULL), "a1"));
    CHECK(!strcmp(ts_dir(dom0, mid, "/s", NULL), "a,b,c"));
    ts_read(dom0, mid, "/s/d", &err);
    CHECK_EQ(err, -ENOENT);
    CHECK(!strcmp(ts_get_perms_tx(dom0, mid, "/s/b"), "n0,r1"));
    /* One started now sees it all. */
    REQUIRE(store_transaction_start(dom0, &fresh) == 0);
    CHECK(!strcmp(ts_read(dom0, fresh, "/s/a", NULL), "a2"));
    CHECK(!strcmp(ts_dir(dom0, fresh, "/s", NULL), "a,b,c,d"));
    CHECK(!strcmp(ts_dir(dom0, fresh, "/s/d", NULL), "z"));
    CHECK_STORE(s);

    /* What each read changed since: the old ones cannot commit, the fresh
     * one can; nothing of theirs shows. */
    CHECK_EQ(ts_write(dom0, old, "/s/new", "o"), 0);
    CHECK_EQ(store_transaction_end(dom0, old, true), -EAGAIN);
    CHECK_EQ(store_transaction_end(dom0, mid, true), -EAGAIN);
    ts_read(dom0, 0, "/s/new", &err);
    CHECK_EQ(err, -ENOENT);
    CHECK_EQ(ts_write(dom0, fresh, "/s/a", "a3"), 0);
    CHECK_EQ(store_transaction_end(dom0, fresh, true), 0);
    CHECK(!strcmp(ts_read(dom0, 0, "/s/a", NULL), "a3"));
    store_stats(s, &st);
    CHECK_EQ(st.transactions, 0);
    CHECK_EQ(st.past_versions, 0);
    CHECK_EQ(st.past_bytes, 0);

    /* Only what an open transaction may need is kept: changes made while
     * none is open, or to nodes changed after the last start, keep none. */
    CHECK_EQ(ts_write(dom0, 0, "/s/a", "a4"), 0);
    REQUIRE(store_transaction_start(dom0, &old) == 0);
    CHECK_EQ(ts_write(dom0, 0, "/s/a", "a5"), 0);
    store_stats(s, &st);
    CHECK_EQ(st.past_versions, 1);
    for (int i = 0; i < 100; i++)
        CHECK_EQ(ts_write(dom0, 0, "/s/a", "more"), 0);
    store_stats(s, &st);
    CHECK_EQ(st.past_versions, 1);
    CHECK(!strcmp(ts_read(dom0, old, "/s/a", NULL), "a4"));
    /* A guest's connection closing ends its transactions, and the history
     * goes with them. */
    REQUIRE(store_transaction_start(g1, &mid) == 0);
    CHECK_EQ(ts_write(dom0, 0, "/s/b", "b9"), 0);
    CHECK_EQ(store_transaction_end(dom0, old, false), 0);
    store_stats(s, &st);
    CHECK_EQ(st.past_versions, 1);
    CHECK_STORE(s);
    store_conn_close(g1);
    g1 = NULL;
    store_stats(s, &st);
    CHECK_EQ(st.past_versions, 0);
    CHECK_STORE(s);
    teardown();
}

static void test_watches(void)
{
    char reply[XENSTORE_PAYLOAD_MAX + 1];

    setup(NULL);
    /* The first event comes right after the OK, even for a missing node. */
    CHECK_EQ(ts_raw(dom0, XS_WATCH, 0, "/w\0tok", 7, reply, NULL), XS_WATCH);
    CHECK(!strcmp(reply, "OK"));
    CHECK_EQ(ev0.n, 1);
    CHECK(ts_has(&ev0, "/w|tok"));
    CHECK_EQ(store_watch(dom0, "/w", "tok"), -EEXIST);
    CHECK_EQ(store_watch(dom0, "/w", "tok2"), 0);
    ev0.n = 0;
    /* Changes at or below the path fire; elsewhere not. */
    CHECK_EQ(ts_write(dom0, 0, "/w/a/b", "1"), 0);
    CHECK(ts_has(&ev0, "/w/a/b|tok") && ts_has(&ev0, "/w/a/b|tok2"));
    CHECK_EQ(ev0.n, 2);
    ev0.n = 0;
    CHECK_EQ(ts_write(dom0, 0, "/wx", "1"), 0);
    CHECK_EQ(ts_write(dom0, 0, "/other/w", "1"), 0);
    CHECK_EQ(ev0.n, 0);
    /* MKDIR of an existing node fires nothing. */
    CHECK_EQ(store_mkdir(dom0, 0, "/w/a"), 0);
    CHECK_EQ(ev0.n, 0);
    CHECK_EQ(store_set_perms(dom0, 0, "/w/a", "n0", 3), 0);
    CHECK(ts_has(&ev0, "/w/a|tok"));
    CHECK_EQ(store_unwatch(dom0, "/w", "tok2"), 0);
    CHECK_EQ(store_unwatch(dom0, "/w", "tok2"), -ENOENT);

    /* RM: every removed descendant fires watches on exactly its path; the
     * removed node fires for its ancestors too. */
    CHECK_EQ(store_watch(dom0, "/w/a/b", "exact"), 0);
    ev0.n = 0;
    CHECK_EQ(store_rm(dom0, 0, "/w/a"), 0);
    CHECK(ts_has(&ev0, "/w/a/b|exact") && ts_has(&ev0, "/w/a|tok"));
    CHECK(!ts_has(&ev0, "/w/a/b|tok"));

    /* Depth: 0 is the node itself, 1 its children. */
    CHECK_EQ(ts_raw(dom0, XS_WATCH, 0, "/dp\0d1\0" "1", 9, reply, NULL), XS_WATCH);
    ev0.n = 0;
    CHECK_EQ(ts_write(dom0, 0, "/dp/a", ""), 0);
    CHECK_EQ(ts_write(dom0, 0, "/dp/a/b", ""), 0);
    CHECK(ts_has(&ev0, "/dp/a|d1") && !ts_has(&ev0, "/dp/a/b|d1"));
    CHECK_EQ(ts_raw(dom0, XS_WATCH, 0, "/dp\0dx\0x", 9, reply, NULL), XS_ERROR);

    /* Relative watches report relative paths. */
    CHECK_EQ(store_watch(g1, "data", "rel"), 0);
    CHECK(ts_has(&ev1, "data|rel"));
    ev1.n = 0;
    CHECK_EQ(ts_write(g1, 0, "data/k", "v"), 0);
    CHECK(ts_has(&ev1, "data/k|rel"));

    /* A guest hears of changes only where it may read. */
    CHECK_EQ(store_watch(g2, "/local/domain/1", "spy"), 0);
    ev2.n = 0;
    CHECK_EQ(ts_write(g1, 0, "data/k", "w"), 0);
    CHECK_EQ(ev2.n, 0);
    CHECK_EQ(ts_set_perms(g1, "data/k", "n1,r2"), 0);
    CHECK_EQ(ts_write(g1, 0, "data/k", "x"), 0);
    CHECK(ts_has(&ev2, "/local/domain/1/data/k|spy"));

    /* @introduceDomain, @releaseDomain: dom0 hears them; with depth 1 it
     * hears which domain; one can watch one domain's release. */
    CHECK_EQ(store_watch(dom0, "@introduceDomain", "in"), 0);
    CHECK_EQ(ts_raw(dom0, XS_WATCH, 0, "@releaseDomain\0rel\0" "1", 21, reply, NULL), XS_WATCH);
    CHECK_EQ(store_watch(dom0, "@releaseDomain/5", "five"), 0);
    CHECK_EQ(store_watch(g1, "@introduceDomain", "g1in"), 0); /* not readable by guests */
    ev0.n = ev1.n = 0;
    CHECK_EQ(store_introduce(dom0, 5), 0);
    CHECK(ts_has(&ev0, "@introduceDomain|in"));
    CHECK_EQ(ev1.n, 0);
    CHECK_EQ(store_release(dom0, 5), 0);
    CHECK(ts_has(&ev0, "@releaseDomain/5|rel") && ts_has(&ev0, "@releaseDomain/5|five"));
    /* Special paths only where allowed. */
    CHECK_EQ(ts_write(dom0, 0, "@releaseDomain", "x"), -EINVAL);

    /* RESET_WATCHES drops every watch and transaction of the caller. */
    {
        uint32_t tx;
        int err;
        REQUIRE(store_transaction_start(dom0, &tx) == 0);
        CHECK_EQ(ts_raw(dom0, XS_RESET_WATCHES, 0, "", 1, reply, NULL), XS_RESET_WATCHES);
        ev0.n = 0;
        CHECK_EQ(ts_write(dom0, 0, "/w/again", ""), 0);
        CHECK_EQ(ev0.n, 0);
        ts_read(dom0, tx, "/w", &err);
        CHECK_EQ(err, -ENOENT);
    }
    teardown();
}

static void test_domains(void)
{
    char reply[XENSTORE_PAYLOAD_MAX + 1];
    struct store_conn *c;
    int err;

    setup(NULL);
    /* A guest connects only once introduced. */
    CHECK_EQ(store_conn_open(s, 9, false, NULL, &c), -ENOENT);
    CHECK_EQ(ts_raw(dom0, XS_IS_DOMAIN_INTRODUCED, 0, "1", 2, reply, NULL),
             XS_IS_DOMAIN_INTRODUCED);
    CHECK(!strcmp(reply, "T"));
    CHECK_EQ(ts_raw(dom0, XS_IS_DOMAIN_INTRODUCED, 0, "9", 2, reply, NULL),
             XS_IS_DOMAIN_INTRODUCED);
    CHECK(!strcmp(reply, "F"));
    CHECK_EQ(ts_raw(dom0, XS_GET_DOMAIN_PATH, 0, "65535", 6, reply, NULL), XS_GET_DOMAIN_PATH);
    CHECK(!strcmp(reply, "/local/domain/65535"));
    CHECK_EQ(ts_raw(dom0, XS_GET_DOMAIN_PATH, 0, "65536", 6, reply, NULL), XS_ERROR);
    CHECK_EQ(ts_raw(g1, XS_GET_DOMAIN_PATH, 0, "2", 2, reply, NULL), XS_GET_DOMAIN_PATH);
    /* The control domain's requests are refused to guests. */
    static const enum xsd_sockmsg_type priv_only[] = { XS_INTRODUCE, XS_RELEASE, XS_CONTROL,
                                              XS_IS_DOMAIN_INTRODUCED, XS_SET_TARGET, XS_RESUME };
    for (size_t i = 0; i < ARRAY_SIZE(priv_only); i++) {
        CHECK_EQ(ts_raw(g1, priv_only[i], 0, "2\0", 2, reply, NULL), XS_ERROR);
        CHECK(!strcmp(reply, "EACCES"));
    }
    /* Bad arguments. */
    CHECK_EQ(ts_raw(dom0, XS_INTRODUCE, 0, "3\0" "0\0" "0", 6, reply, NULL), XS_ERROR);
    CHECK_EQ(ts_raw(dom0, XS_INTRODUCE, 0, "x\0" "0\0" "1", 6, reply, NULL), XS_ERROR);
    CHECK_EQ(ts_raw(dom0, XS_RELEASE, 0, "0", 2, reply, NULL), XS_ERROR);
    CHECK(!strcmp(reply, "EINVAL"));
    CHECK_EQ(ts_raw(dom0, XS_RELEASE, 0, "44", 3, reply, NULL), XS_ERROR);
    CHECK(!strcmp(reply, "ENOENT"));

    /* SET_TARGET: g1 gets g2's rights. */
    CHECK_EQ(ts_write(g2, 0, "private", "p"), 0);
    ts_read(g1, 0, "/local/domain/2/private", &err);
    CHECK_EQ(err, -EACCES);
    CHECK_EQ(ts_raw(dom0, XS_SET_TARGET, 0, "1\0" "2", 4, reply, NULL), XS_SET_TARGET);
    CHECK(!strcmp(ts_read(g1, 0, "/local/domain/2/private", NULL), "p"));

    /* Releasing a domain: its nodes go, its entries elsewhere go, its
     * connection answers EIO from then on. */
    CHECK_EQ(ts_write(dom0, 0, "/shared", "s"), 0);
    CHECK_EQ(ts_set_perms(dom0, "/shared", "n0,r2"), 0);
    CHECK_EQ(store_watch(dom0, "@releaseDomain", "rel"), 0);
    ev0.n = 0;
    CHECK_EQ(store_release(dom0, 2), 0);
    CHECK(ts_has(&ev0, "@releaseDomain|rel"));
    ts_read(dom0, 0, "/local/domain/2/private", &err);
    CHECK_EQ(err, -ENOENT);
    ts_read(dom0, 0, "/local/domain/2", &err);
    CHECK_EQ(err, -ENOENT);
    CHECK(!strcmp(ts_get_perms(dom0, "/shared"), "n0"));
    ts_read(g2, 0, "private", &err);
    CHECK_EQ(err, -EIO);
    CHECK_EQ(ts_raw(dom0, XS_IS_DOMAIN_INTRODUCED, 0, "2", 2, reply, NULL),
             XS_IS_DOMAIN_INTRODUCED);
    CHECK(!strcmp(reply, "F"));
    /* The host's word that a domain is gone does the same. */
    ev0.n = 0;
    store_domain_gone(s, 1);
    CHECK(ts_has(&ev0, "@releaseDomain|rel"));
    ts_read(dom0, 0, "/local/domain/1/name", &err);
    CHECK_EQ(err, -ENOENT);
    teardown();
}

static void test_control(void)
{
    char reply[XENSTORE_PAYLOAD_MAX + 1];
    uint32_t len;

    setup(NULL);
    CHECK_EQ(ts_raw(dom0, XS_CONTROL, 0, "help", 5, reply, &len), XS_CONTROL);
    CHECK(strstr(reply, "quota") && strstr(reply, "memreport") && strlen(reply) + 1 == len);
    CHECK_EQ(ts_raw(dom0, XS_CONTROL, 0, "quota", 6, reply, NULL), XS_CONTROL);
    CHECK(strstr(reply, "nodes") && strstr(reply, "1000"));
    CHECK_EQ(ts_raw(dom0, XS_CONTROL, 0, "quota\0set\0watches\0" "7", 20, reply, NULL), XS_CONTROL);
    CHECK(!strcmp(reply, "OK"));
    CHECK_EQ(ts_raw(dom0, XS_CONTROL, 0, "quota", 6, reply, NULL), XS_CONTROL);
    CHECK(strstr(reply, "\nwatches          :        7 Watches per domain\n"));
    CHECK_EQ(ts_raw(dom0, XS_CONTROL, 0, "quota\0set\0nope\0" "7", 17, reply, NULL), XS_ERROR);
    CHECK_EQ(ts_raw(dom0, XS_CONTROL, 0, "quota\0watches\0" "7", 16, reply, NULL), XS_ERROR);
    CHECK_EQ(ts_raw(dom0, XS_CONTROL, 0, "quota\0" "1", 8, reply, NULL), XS_CONTROL);
    CHECK(strstr(reply, "Domain 1"));
    CHECK_EQ(ts_raw(dom0, XS_CONTROL, 0, "memreport", 10, reply, NULL), XS_CONTROL);
    CHECK(strstr(reply, "nodes"));
    CHECK_EQ(ts_raw(dom0, XS_CONTROL, 0, "check", 6, reply, NULL), XS_CONTROL);
    CHECK(!strcmp(reply, "OK"));
    CHECK_EQ(ts_raw(dom0, XS_CONTROL, 0, "log\0on", 7, reply, NULL), XS_CONTROL);
    CHECK_EQ(ts_raw(dom0, XS_CONTROL, 0, "log\0off", 8, reply, NULL), XS_CONTROL);
    CHECK_EQ(ts_raw(dom0, XS_CONTROL, 0, "frob", 5, reply, NULL), XS_ERROR);
    CHECK(!strcmp(reply, "EINVAL"));
    CHECK_EQ(ts_raw(dom0, XS_CONTROL, 0, "help", 4, reply, NULL), XS_ERROR);
    teardown();
}

static void test_error_names(void)
{
    static const int errs[] = { EINVAL, EACCES, EEXIST, EISDIR, ENOENT, ENOMEM, ENOSPC, EIO,
                                ENOTEMPTY, ENOSYS, EROFS, EBUSY, EAGAIN, EISCONN, E2BIG, EPERM };

    for (size_t i = 0; i < ARRAY_SIZE(errs); i++) {
        const char *name = store_error_name(-errs[i]);
        CHECK_EQ(store_error_from_name(name, strlen(name) + 1), -errs[i]);
    }
    CHECK(!strcmp(store_error_name(-ETIMEDOUT), "EINVAL"));
    CHECK_EQ(store_error_from_name("EWHAT", 6), -EINVAL);
    {
        struct store_quota q;
        const char *name;
        unsigned v;
        store_config_default(&(struct store_config){ 0 });
        memset(&q, 0, sizeof(q));
        CHECK_EQ(store_quota_parse(&q, "node-size=100"), 0);
        CHECK_EQ(q.node_size, 100);
        CHECK_EQ(store_quota_parse(&q, "node-size=0"), -EINVAL);
        CHECK_EQ(store_quota_parse(&q, "nodes"), -EINVAL);
        CHECK_EQ(store_quota_parse(&q, "bogus=3"), -EINVAL);
        CHECK(store_quota_get(&q, 4, &name, &v, NULL) && !strcmp(name, "node-size") && v == 100);
        CHECK(!store_quota_get(&q, 7, &name, &v, NULL));
        CHECK_EQ(store_quota_parse(&q, "node-permissions=9"), 0);
        CHECK_EQ(q.node_perms, 9);
    }
}

/* A tree 1500 levels deep: created, listed, removed in a transaction and
 * outside one, without recursion running out of stack. */
static void test_deep_tree(void)
{
    static char path[3100];
    size_t n = 0;
    uint32_t tx;
    int err;

    setup(NULL);
    n += (size_t)snprintf(path, sizeof(path), "/deep");
    for (int i = 0; i < 1500; i++)
        n += (size_t)snprintf(path + n, sizeof(path) - n, "/a");
    CHECK_EQ(ts_write(dom0, 0, path, "bottom"), 0);
    CHECK(!strcmp(ts_read(dom0, 0, path, NULL), "bottom"));
    CHECK_STORE(s);
    REQUIRE(store_transaction_start(dom0, &tx) == 0);
    CHECK_EQ(store_rm(dom0, tx, "/deep"), 0);
    ts_read(dom0, tx, path, &err);
    CHECK_EQ(err, -ENOENT);
    CHECK_EQ(store_transaction_end(dom0, tx, true), 0);
    ts_read(dom0, 0, "/deep", &err);
    CHECK_EQ(err, -ENOENT);
    CHECK_EQ(ts_write(dom0, 0, path, "again"), 0);
    CHECK_EQ(store_rm(dom0, 0, "/deep"), 0);
    ts_read(dom0, 0, "/deep/a", &err);
    CHECK_EQ(err, -ENOENT);
    teardown();
}

HARNESS_MAIN("store", TEST_ENTRY(test_paths), TEST_ENTRY(test_read_write_mkdir_rm),
             TEST_ENTRY(test_directory), TEST_ENTRY(test_permissions),
             TEST_ENTRY(test_stale_domid), TEST_ENTRY(test_quotas),
             TEST_ENTRY(test_transactions), TEST_ENTRY(test_snapshots),
             TEST_ENTRY(test_watches),
             TEST_ENTRY(test_domains), TEST_ENTRY(test_control), TEST_ENTRY(test_deep_tree),
             TEST_ENTRY(test_error_names))
