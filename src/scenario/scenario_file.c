/*
 * Scenario files (scenario.h): directives, one per line, each checked with
 * the file and line named in every error.
 */
#include <ctype.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memvisor/scenario.h"

#define MAX_WORDS 24

struct parser {
    struct scenario *sc;
    const char *file;
    unsigned line;
    char *err;
    size_t errlen;
    char dir[256];
};

static int bad(struct parser *p, const char *fmt, ...) MV_PRINTF(2, 3);
static int bad(struct parser *p, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(p->err, p->errlen, "%s:%u: ", p->file, p->line);

    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < p->errlen)
        vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* Splits line into words in place: spaces separate, double quotes group
 * (inside a word too: key="a b"), '#' outside quotes ends the line. */
static int split(struct parser *p, char *line, char **words, unsigned *nr)
{
    char *r = line, *w = line;

    *nr = 0;
    for (;;) {
        bool quoted = false;

        while (*r == ' ' || *r == '\t' || *r == '\r')
            r++;
        if (!*r || *r == '#')
            return 0;
        if (*nr == MAX_WORDS)
            return bad(p, "too many words (at most %u)", MAX_WORDS);
        words[(*nr)++] = w;
        while (*r && (quoted || (*r != ' ' && *r != '\t' && *r != '\r' && *r != '#'))) {
            if (*r == '"')
                quoted = !quoted;
            else
                *w++ = *r;
            r++;
        }
        if (quoted)
            return bad(p, "a quote is not closed");
        if (*r)
            r++;
        *w++ = '\0';
    }
}

/* key=value: value, or NULL when word is not key=... */
static const char *value_of(const char *word, const char *key)
{
    size_t n = strlen(key);

    return !strncmp(word, key, n) && word[n] == '=' ? word + n + 1 : NULL;
}

static int parse_size_kib(struct parser *p, const char *what, const char *text, uint64_t *kib)
{
    int64_t v;

    if (xl_parse_kib(text, &v) || v < 0)
        return bad(p, "%s: '%s' is not a size (e.g. 512, 512m, 2g, 65536k)", what, text);
    *kib = (uint64_t)v;
    return 0;
}

static int parse_uint(struct parser *p, const char *what, const char *text, uint64_t min,
                      uint64_t max, uint64_t *out)
{
    if (mv_parse_uint(text, min, max, out))
        return bad(p, "%s: '%s' is not a whole number from %llu to %llu", what, text,
                   (unsigned long long)min, (unsigned long long)max);
    return 0;
}

/* "10ms", "1s", "250us": the model's second, in ns. */
static int parse_duration(struct parser *p, const char *text, uint64_t *ns)
{
    char *end;
    unsigned long long v = strtoull(text, &end, 10);
    uint64_t scale = !strcmp(end, "s") ? 1000000000u : !strcmp(end, "ms") ? 1000000u
                   : !strcmp(end, "us") ? 1000u : 0;

    if (end == text || !isdigit((unsigned char)*text) || !scale || v == 0 || v > 10000000)
        return bad(p, "second: '%s' is not a duration (e.g. 10ms, 1s, 500us)", text);
    *ns = v * scale;
    return 0;
}

/* Seconds with up to three decimals, into milliseconds. */
static int parse_seconds_ms(struct parser *p, const char *what, const char *text, uint64_t *ms)
{
    char *end;
    double v = strtod(text, &end);

    if (end == text || *end || !isdigit((unsigned char)*text) || v < 0 || v > 1e7)
        return bad(p, "%s: '%s' is not a time in seconds", what, text);
    *ms = (uint64_t)(v * 1000.0 + 0.5);
    return 0;
}

typedef int (*option_fn)(struct parser *p, const char *value, void *arg);

static int host_line(struct parser *p, char **w, unsigned n)
{
    uint64_t v = 0;

    for (unsigned i = 1; i < n; i++) {
        const char *x;

        if ((x = value_of(w[i], "memory"))) {
            if (parse_size_kib(p, "memory", x, &v))
                return -EINVAL;
            /* Up to 1 TiB: a sparse host, as long as what it touches fits. */
            if (v < 64 * 1024 || v > (UINT64_C(1) << 30))
                return bad(p, "memory: %s is not between 64M and 1T", x);
            p->sc->ram_bytes = v << 10;
        } else if ((x = value_of(w[i], "nodes"))) {
            if (parse_uint(p, "nodes", x, 1, 8, &v))
                return -EINVAL;
            p->sc->nr_nodes = (unsigned)v;
        } else if ((x = value_of(w[i], "huge-pages"))) {
            if (strcmp(x, "on") && strcmp(x, "off"))
                return bad(p, "huge-pages: '%s' is neither on nor off", x);
            p->sc->huge_pages = !strcmp(x, "on");
        } else if ((x = value_of(w[i], "cpus"))) {
            if (parse_uint(p, "cpus", x, 1, 512, &v))
                return -EINVAL;
            p->sc->nr_cpus = (unsigned)v;
        } else {
            return bad(p, "host: unknown setting '%s' (memory=, nodes=, cpus=, huge-pages=)",
                       w[i]);
        }
    }
    return 0;
}

static int time_line(struct parser *p, char **w, unsigned n)
{
    uint64_t v = 0;

    for (unsigned i = 1; i < n; i++) {
        const char *x;

        if ((x = value_of(w[i], "second"))) {
            if (parse_duration(p, x, &p->sc->second_ns))
                return -EINVAL;
        } else if ((x = value_of(w[i], "duration"))) {
            if (parse_uint(p, "duration", x, 1, 100000, &p->sc->duration_s))
                return -EINVAL;
        } else if ((x = value_of(w[i], "sample"))) {
            if (parse_seconds_ms(p, "sample", x, &v))
                return -EINVAL;
            if (v < 100)
                return bad(p, "sample: %s s is too often (at least 0.1)", x);
            p->sc->sample_ms = v;
        } else {
            return bad(p, "time: unknown setting '%s' (second=, duration=, sample=)", w[i]);
        }
    }
    return 0;
}

static int on_off(struct parser *p, const char *key, const char *x, bool *out)
{
    if (!strcmp(x, "on") || !strcmp(x, "off")) {
        *out = !strcmp(x, "on");
        return 0;
    }
    return bad(p, "%s: '%s' is not on or off", key, x);
}

static int policy_line(struct parser *p, char **w, unsigned n)
{
    uint64_t kib = 0;

    for (unsigned i = 1; i < n; i++) {
        const char *x;

        if ((x = value_of(w[i], "claims"))) {
            if (!strcmp(x, "on"))
                p->sc->claims = SC_CLAIMS_ON;
            else if (!strcmp(x, "off"))
                p->sc->claims = SC_CLAIMS_OFF;
            else if (!strcmp(x, "config"))
                p->sc->claims = SC_CLAIMS_CONFIG;
            else
                return bad(p, "claims: '%s' is not on, off or config", x);
        } else if ((x = value_of(w[i], "scheduler"))) {
            if (on_off(p, "scheduler", x, &p->sc->scheduler))
                return -EINVAL;
        } else if ((x = value_of(w[i], "squeeze-timeout"))) {
            if (parse_uint(p, "squeeze-timeout", x, 1, 100000, &p->sc->squeeze_timeout_s))
                return -EINVAL;
        } else if ((x = value_of(w[i], "build-rate"))) {
            if (parse_size_kib(p, "build-rate", x, &kib))
                return -EINVAL;
            p->sc->build_rate_bytes = kib << 10;
        } else {
            return bad(p, "policy: unknown setting '%s' (claims=, scheduler=, "
                          "squeeze-timeout=, build-rate=)", w[i]);
        }
    }
    return 0;
}

static int find_guest(const struct scenario *sc, const char *name)
{
    for (unsigned i = 0; i < sc->nr_guests; i++)
        if (!strcmp(sc->guests[i].name, name))
            return (int)i;
    return -1;
}

/* NAMEk: instance k (from 1) of a guest line with count; its guest's
 * index, with the instance's in *instance, or -1. */
static int find_instance(const struct scenario *sc, const char *name, int *instance)
{
    for (unsigned i = 0; i < sc->nr_guests; i++) {
        const struct scenario_guest *g = &sc->guests[i];
        size_t len = strlen(g->name);
        uint64_t k;

        if (g->count && !strncmp(name, g->name, len) &&
            !mv_parse_uint(name + len, 1, g->count, &k) && name[len] != '0') {
            *instance = (int)(g->first_instance + k - 1);
            return (int)i;
        }
    }
    return -1;
}

static int guest_line(struct parser *p, char **w, unsigned n)
{
    struct scenario *sc = p->sc;
    struct scenario_guest *g;
    char path[512];
    uint64_t v;

    if (n < 3)
        return bad(p, "guest: needs a name and config=FILE");
    if (sc->nr_guests == SCENARIO_MAX_GUESTS)
        return bad(p, "guest: at most %u guest lines", SCENARIO_MAX_GUESTS);
    if (strlen(w[1]) >= sizeof(g->name) - 4 || strchr(w[1], '/') || strchr(w[1], '='))
        return bad(p, "guest: '%s' is not a name (no '/' or '=', under 44 characters)", w[1]);
    if (find_guest(sc, w[1]) >= 0)
        return bad(p, "guest: '%s' is already defined", w[1]);
    g = &sc->guests[sc->nr_guests];
    memset(g, 0, sizeof(*g));
    snprintf(g->name, sizeof(g->name), "%s", w[1]);
    g->line = p->line;
    for (unsigned i = 2; i < n; i++) {
        const char *x;

        if ((x = value_of(w[i], "config"))) {
            if (strlen(x) >= sizeof(g->config))
                return bad(p, "config: the path is too long");
            snprintf(g->config, sizeof(g->config), "%s", x);
        } else if ((x = value_of(w[i], "count"))) {
            if (parse_uint(p, "count", x, 1, SCENARIO_MAX_INSTANCES, &v))
                return -EINVAL;
            g->count = (unsigned)v;
        } else if ((x = value_of(w[i], "dynamic-min"))) {
            if (parse_size_kib(p, "dynamic-min", x, &g->dynamic_min_kib))
                return -EINVAL;
        } else if (!value_of(w[i], "workload") && !value_of(w[i], "seed")) {
            return bad(p, "guest: unknown setting '%s' (config=, count=, workload=, "
                          "dynamic-min=, seed=)", w[i]);
        }
    }
    if (!g->config[0])
        return bad(p, "guest %s: needs config=FILE (an xl.cfg)", g->name);
    if (g->config[0] == '/')
        snprintf(path, sizeof(path), "%s", g->config);
    else
        snprintf(path, sizeof(path), "%s/%s", p->dir, g->config);
    if (xlcfg_load(path, &g->dom, &g->guest))
        return bad(p, "guest %s: config=%s cannot be used (above: why)", g->name, g->config);
    /* After the config: these override it. */
    for (unsigned i = 2; i < n; i++) {
        const char *x;

        if ((x = value_of(w[i], "workload")) &&
            xl_workload_kib(x, g->guest.workload, sizeof(g->guest.workload)))
            return bad(p, "workload: '%s' is not \"SECONDS:SIZE ...\" (SECONDS from 0, "
                          "rising)", x);
        if ((x = value_of(w[i], "seed")) && parse_uint(p, "seed", x, 1, UINT32_MAX,
                                                        &g->guest.seed))
            return -EINVAL;
    }
    if (g->dynamic_min_kib > g->dom.target_kib)
        return bad(p, "guest %s: dynamic-min is above its memory (%llu MiB)", g->name,
                   (unsigned long long)g->dom.target_kib >> 10);
    if (sc->nr_instances + (g->count ? g->count : 1) > SCENARIO_MAX_INSTANCES)
        return bad(p, "guest %s: at most %u domains in a scenario", g->name,
                   SCENARIO_MAX_INSTANCES);
    g->first_instance = sc->nr_instances;
    sc->nr_instances += g->count ? g->count : 1;
    sc->nr_guests++;
    return 0;
}

static const struct {
    const char *name;
    enum scenario_verb verb;
    int guest; /* 1: needs NAME; 0: none; -1: optional */
    int sizes; /* SIZE arguments: 0, 1, or -1 (one per vnode) */
} verbs[] = {
    { "create", SV_CREATE, 1, 0 },          { "destroy", SV_DESTROY, 1, 0 },
    { "mem-set", SV_MEM_SET, 1, 1 },        { "mem-max", SV_MEM_MAX, 1, 1 },
    { "vnode-balloon", SV_VNODE_BALLOON, 1, -1 },
    { "tmem-freeze", SV_TMEM_FREEZE, -1, 0 }, { "tmem-thaw", SV_TMEM_THAW, -1, 0 },
    { "list", SV_LIST, 0, 0 },              { "info", SV_INFO, 0, 0 },
    { "claims", SV_CLAIMS, 0, 0 },          { "tmem-list", SV_TMEM_LIST, 0, 0 },
};

const char *scenario_verb_name(enum scenario_verb v)
{
    for (unsigned i = 0; i < ARRAY_SIZE(verbs); i++)
        if (verbs[i].verb == v)
            return verbs[i].name;
    return "?";
}

static int at_line(struct parser *p, char **w, unsigned n)
{
    struct scenario *sc = p->sc;
    struct scenario_event *ev;
    unsigned v, arg = 3;

    if (n < 3)
        return bad(p, "at: needs a time and a verb (at SECONDS VERB ...)");
    if (sc->nr_events == SCENARIO_MAX_EVENTS)
        return bad(p, "at: at most %u events", SCENARIO_MAX_EVENTS);
    ev = &sc->events[sc->nr_events];
    memset(ev, 0, sizeof(*ev));
    ev->line = p->line;
    ev->guest = -1;
    ev->instance = -1;
    if (parse_seconds_ms(p, "at", w[1], &ev->at_ms))
        return -EINVAL;
    if (sc->nr_events && ev->at_ms < sc->events[sc->nr_events - 1].at_ms)
        return bad(p, "at %s: events must come in time order", w[1]);
    for (v = 0; v < ARRAY_SIZE(verbs) && strcmp(verbs[v].name, w[2]); v++)
        ;
    if (v == ARRAY_SIZE(verbs))
        return bad(p, "at: unknown verb '%s' (create, destroy, mem-set, mem-max, "
                      "vnode-balloon, tmem-freeze, tmem-thaw, list, info, claims, tmem-list)",
                   w[2]);
    ev->verb = verbs[v].verb;
    if (verbs[v].guest == 1 || (verbs[v].guest == -1 && n > 3)) {
        if (n <= 3)
            return bad(p, "%s: needs a guest's name", w[2]);
        ev->guest = find_guest(sc, w[3]);
        if (ev->guest < 0)
            ev->guest = find_instance(sc, w[3], &ev->instance);
        if (ev->guest < 0)
            return bad(p, "%s: no guest '%s' (guest lines come before the timeline)", w[2],
                       w[3]);
        arg = 4;
    }
    if (verbs[v].sizes == 1) {
        uint64_t kib = 0;

        if (n != arg + 1)
            return bad(p, "%s: needs one SIZE after the name", w[2]);
        if (parse_size_kib(p, w[2], w[arg], &kib))
            return -EINVAL;
        ev->kib = (int64_t)kib;
    } else if (verbs[v].sizes == -1) {
        const struct xl_domain *d = &sc->guests[ev->guest].dom;

        if (!d->nr_vnodes || n - arg != d->nr_vnodes)
            return bad(p, "%s: needs a balloon SIZE for each of %s's %u vnodes", w[2], w[3],
                       d->nr_vnodes);
        for (unsigned i = 0; i < d->nr_vnodes; i++)
            if (parse_size_kib(p, w[2], w[arg + i], &ev->vnode_kib[i]))
                return -EINVAL;
        ev->nr_vnode_kib = d->nr_vnodes;
    } else if (n != arg) {
        return bad(p, "%s: unexpected '%s'", w[2], w[arg]);
    }
    sc->nr_events++;
    return 0;
}

static void scenario_default(struct scenario *sc, const char *file)
{
    memset(sc, 0, sizeof(*sc));
    snprintf(sc->file, sizeof(sc->file), "%s", file);
    sc->nr_nodes = 1;
    sc->nr_cpus = SCENARIO_DEFAULT_CPUS;
    sc->huge_pages = true;
    sc->second_ns = 10 * 1000 * 1000;
    sc->duration_s = 60;
    sc->sample_ms = 1000;
    sc->squeeze_timeout_s = 30;
}

int scenario_load(const char *file, struct scenario *sc, char *err, size_t errlen)
{
    struct parser p = { sc, file, 0, err, errlen, "" };
    char buf[1024], copy[256], *words[MAX_WORDS];
    bool have_host = false;
    unsigned n;
    int rc = 0;
    FILE *f = fopen(file, "r");

    if (!f) {
        rc = -errno;
        snprintf(err, errlen, "%s: %s", file, mv_strerror(rc));
        return rc;
    }
    scenario_default(sc, file);
    snprintf(copy, sizeof(copy), "%s", file);
    snprintf(p.dir, sizeof(p.dir), "%s", dirname(copy));
    while (!rc && fgets(buf, sizeof(buf), f)) {
        p.line++;
        if (!strchr(buf, '\n') && !feof(f)) {
            rc = bad(&p, "line too long (at most %zu characters)", sizeof(buf) - 2);
            break;
        }
        buf[strcspn(buf, "\n")] = '\0';
        rc = split(&p, buf, words, &n);
        if (rc || n == 0)
            continue;
        if (!strcmp(words[0], "title")) {
            char *t = sc->title;

            t[0] = '\0';
            for (unsigned i = 1; i < n; i++)
                snprintf(t + strlen(t), sizeof(sc->title) - strlen(t), "%s%s", i > 1 ? " " : "",
                         words[i]);
        } else if (!strcmp(words[0], "host")) {
            rc = have_host ? bad(&p, "host: given twice") : host_line(&p, words, n);
            have_host = true;
        } else if (!strcmp(words[0], "time")) {
            rc = time_line(&p, words, n);
        } else if (!strcmp(words[0], "policy")) {
            rc = policy_line(&p, words, n);
        } else if (!strcmp(words[0], "guest")) {
            rc = guest_line(&p, words, n);
        } else if (!strcmp(words[0], "at")) {
            rc = at_line(&p, words, n);
        } else {
            rc = bad(&p, "unknown directive '%s' (title, host, time, policy, guest, at)",
                     words[0]);
        }
    }
    fclose(f);
    if (rc)
        return rc;
    p.line++;
    if (!have_host)
        return bad(&p, "no host line (host memory=SIZE [nodes=N])");
    if (!sc->ram_bytes)
        return bad(&p, "host: needs memory=SIZE");
    for (unsigned i = 0; i < sc->nr_events; i++)
        if (sc->events[i].at_ms > sc->duration_s * 1000) {
            p.line = sc->events[i].line;
            return bad(&p, "at: after the end of the run (duration=%llu)",
                       (unsigned long long)sc->duration_s);
        }
    for (unsigned i = 0; i < sc->nr_guests; i++)
        for (unsigned v = 0; v < sc->guests[i].dom.nr_vnodes; v++)
            if (sc->guests[i].dom.vnodes[v].pnode >= sc->nr_nodes) {
                p.line = sc->guests[i].line;
                return bad(&p, "guest %s: vnode %u is on node %u; the host has %u",
                           sc->guests[i].name, v, sc->guests[i].dom.vnodes[v].pnode,
                           sc->nr_nodes);
            }
    if (!sc->title[0])
        snprintf(sc->title, sizeof(sc->title), "%s", file);
    return 0;
}
