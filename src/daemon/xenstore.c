/*
 * memvisord's xenstore: the store, its socket served by a thread of its
 * own, dom0's nodes (what Xen's xencommons script writes at boot), and
 * the link to the host: the store asks the host whether a domain exists,
 * and hears of every domain's death.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "daemon.h"
#include "memvisor/store.h"
#include "memvisor/toolstack.h"

struct daemon_xenstore {
    struct hv *hv;
    struct store *store;
    struct store_server *server;
    int stop_fd;
    pthread_t thread;
};

static void *serve(void *arg)
{
    struct daemon_xenstore *x = arg;

    store_server_run(x->server, x->stop_fd);
    return NULL;
}

/* /local/domain/0/{name,domid}, as xencommons writes them. */
static int write_dom0(struct store *store)
{
    struct store_conn *c;
    int rc = store_conn_open(store, 0, true, NULL, &c);

    if (rc)
        return rc;
    rc = store_write(c, 0, "/local/domain/0/name", "Domain-0", 8);
    if (!rc)
        rc = store_write(c, 0, "/local/domain/0/domid", "0", 1);
    store_conn_close(c);
    return rc;
}

int daemon_xenstore_start(const struct daemon_config *cfg, struct hv *hv,
                          const struct mv_logger *log, struct daemon_xenstore **out)
{
    struct daemon_xenstore *x = calloc(1, sizeof(*x));
    struct store_config scfg;
    struct store_server_config vcfg;
    int rc;

    if (!x)
        return -ENOMEM;
    x->hv = hv;
    x->stop_fd = -1;
    store_config_default(&scfg);
    scfg.quota = cfg->store_quota;
    scfg.log = *log;
    scfg.domain_exists = tc_domain_alive;
    scfg.domain_arg = hv;
    store_server_config_default(&vcfg);
    vcfg.path = cfg->xenstore_path;
    vcfg.poll_us = cfg->store_poll_us;
    vcfg.max_clients = cfg->max_clients;
    vcfg.log = *log;
    rc = store_create(&scfg, &x->store);
    if (rc)
        goto fail;
    rc = write_dom0(x->store);
    if (rc)
        goto fail;
    rc = store_server_open(x->store, &vcfg, &x->server);
    if (rc)
        goto fail;
    x->stop_fd = eventfd(0, EFD_CLOEXEC);
    if (x->stop_fd < 0) {
        rc = -errno;
        goto fail;
    }
    rc = -pthread_create(&x->thread, NULL, serve, x);
    if (rc)
        goto fail;
    *out = x;
    return 0;
fail:
    if (x->stop_fd >= 0)
        close(x->stop_fd);
    store_server_close(x->server);
    store_destroy(x->store);
    free(x);
    return rc;
}

struct store *daemon_xenstore_store(struct daemon_xenstore *x)
{
    return x->store;
}

void daemon_xenstore_stop(struct daemon_xenstore *x)
{
    uint64_t one = 1;

    if (!x)
        return;
    if (write(x->stop_fd, &one, sizeof(one)) == sizeof(one))
        pthread_join(x->thread, NULL);
    close(x->stop_fd);
    store_server_close(x->server);
    store_destroy(x->store);
    free(x);
}
