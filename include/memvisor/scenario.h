/*
 * scenario: a host, its guests and a timeline, run and reported.
 *
 * A scenario file is lines of directives ('#' starts a comment; values
 * with spaces go in double quotes):
 *
 *   title    TEXT
 *   host     memory=SIZE [nodes=N] [cpus=N] [huge-pages=on|off]
 *            (huge pages back the host's RAM, on by default: a sparse host
 *            whose guests touch little of it wants them off)
 *   time     [second=DURATION] [duration=SECONDS] [sample=SECONDS]
 *            (the model's second, 10ms by default; the run's length, 60;
 *            how often memory is sampled, 1)
 *   policy   [claims=on|off|config] [scheduler=on|off] [squeeze-timeout=SECONDS]
 *            [build-rate=SIZE]
 *            (claim_mode for every build, or each xl.cfg's; the memory
 *            scheduler for every create; its deadline; populating speed
 *            per model second, 0 for flat out)
 *   guest    NAME config=FILE [count=N] [workload="SECONDS:SIZE ..."]
 *            [dynamic-min=SIZE] [seed=N]
 *            (an xl.cfg, relative to the scenario file; N instances named
 *            NAME1..NAMEN when count is given: an event on NAME is on all
 *            of them, on NAMEk on one)
 *   at       SECONDS VERB [ARGS]
 *            create NAME | destroy NAME | mem-set NAME SIZE |
 *            mem-max NAME SIZE | vnode-balloon NAME SIZE... |
 *            tmem-freeze [NAME] | tmem-thaw [NAME] |
 *            list | info | claims | tmem-list
 *
 * SIZEs are xl's (MiB without a suffix; k, m, g).  Every event runs on its
 * own thread at its time, as commands typed in parallel terminals would;
 * one on a NAME with count runs for every instance at once.
 *
 * Time: a run is on a virtual clock (clock.h) unless it is realtime: the
 * runner, each event, each guest model and the memory scheduler are the
 * clock's participants, so the same scenario and seed give the same
 * report on any machine, and a model second costs only the work done in
 * it.  Realtime (and attached) runs use the real clock, a model second
 * being `second` of wall time.
 */
#ifndef MEMVISOR_SCENARIO_H
#define MEMVISOR_SCENARIO_H

#include <stdio.h>

#include "memvisor/guest_os.h"
#include "memvisor/xl.h"

/* xl.cfg files (xlcfg.c): 0, or -errno with the file, line and problem
 * on stderr. */
int xlcfg_load(const char *file, struct xl_domain *d, struct xl_guest *g) MV_MUST_CHECK;
/* "SECONDS:SIZE ..." (xl's sizes) into guest_host's "SECONDS:KIB ...". */
int xl_workload_kib(const char *text, char *out, size_t cap) MV_MUST_CHECK;

#define SCENARIO_MAX_GUESTS 16     /* guest lines */
#define SCENARIO_MAX_INSTANCES 1024 /* domains, counting each count */
#define SCENARIO_MAX_EVENTS 8192

enum scenario_verb {
    SV_CREATE, SV_DESTROY, SV_MEM_SET, SV_MEM_MAX, SV_VNODE_BALLOON, SV_TMEM_FREEZE,
    SV_TMEM_THAW, SV_LIST, SV_INFO, SV_CLAIMS, SV_TMEM_LIST,
};

enum scenario_claims { SC_CLAIMS_CONFIG = 0, SC_CLAIMS_ON, SC_CLAIMS_OFF };

struct scenario_guest {
    char name[48];
    char config[256];          /* as written */
    unsigned count;            /* 0: one, named NAME */
    unsigned first_instance;
    struct xl_domain dom;
    struct xl_guest guest;
    uint64_t dynamic_min_kib;  /* 0: not squeezable */
    unsigned line;
};

struct scenario_event {
    uint64_t at_ms;            /* model milliseconds */
    enum scenario_verb verb;
    int guest;                 /* index, -1: none (host-wide) */
    int instance;              /* one of a count's instances (NAMEk), -1: all */
    int64_t kib;
    uint64_t vnode_kib[GUEST_MAX_VNODES];
    unsigned nr_vnode_kib;
    unsigned line;
};

#define SCENARIO_DEFAULT_CPUS 4
#define SCENARIO_CPU_KHZ 2000000   /* what physinfo says of a scenario's host */
#define SCENARIO_DEFAULT_SEED 1

struct scenario {
    char file[256];
    char title[128];
    uint64_t ram_bytes;
    unsigned nr_nodes;
    unsigned nr_cpus;
    bool huge_pages;
    uint64_t second_ns, duration_s, sample_ms;
    enum scenario_claims claims;
    bool scheduler;
    uint64_t squeeze_timeout_s;
    uint64_t build_rate_bytes; /* per model second, 0: flat out */
    struct scenario_guest guests[SCENARIO_MAX_GUESTS];
    unsigned nr_guests, nr_instances;
    struct scenario_event events[SCENARIO_MAX_EVENTS];
    unsigned nr_events;
};

/* 0, or -EINVAL (-errno when the file cannot be read) with
 * "FILE:LINE: problem" in err; *out is then unspecified. */
int scenario_load(const char *file, struct scenario *out, char *err, size_t errlen) MV_MUST_CHECK;

/*
 * A run's record.
 */
struct scenario_sample {
    uint64_t t_ms;
    uint64_t free_pages, claimed_pages, tmem_pages, pod_cache_pages, other_pages;
    uint64_t held[SCENARIO_MAX_INSTANCES];    /* each domain's pages, less its PoD cache */
    uint64_t target[SCENARIO_MAX_INSTANCES];  /* memory/target, in pages (0: none) */
};

enum scenario_outcome {
    SO_OK = 0,
    SO_REFUSED,        /* the claim (or the scheduler) said no at once */
    SO_DELAYED,        /* a build failed after pages went in */
    SO_GAVE_UP,        /* the scheduler gave up at its deadline */
    SO_FAILED,         /* any other error */
};

struct scenario_failure {
    uint64_t t_ms;
    int instance;      /* -1: host-wide */
    char what[224];
};

struct scenario_result {
    uint64_t start_ms, end_ms;
    const struct scenario_event *ev;
    int instance;      /* -1: host-wide */
    enum scenario_outcome outcome;
    int rc;
    uint64_t populated_pages; /* by a create */
    char message[256];
    char *output;      /* list, info, claims, tmem-list: their text (malloc) */
};

struct scenario_instance {
    char name[64];
    unsigned guest;
    domid_t domid;     /* 0: not running */
    bool ever_created;
    struct guest_os_status last; /* the guest model's, at its last sample */
    bool have_status;
};

struct scenario_report {
    const struct scenario *sc;
    uint64_t seed;
    bool realtime;              /* on the real clock (its figures vary) */
    uint64_t total_pages;
    uint64_t wall_ns;           /* what the run took: the one figure that varies */
    struct scenario_sample *samples;
    unsigned nr_samples, cap_samples;
    struct scenario_failure *failures;
    unsigned nr_failures, cap_failures;
    struct scenario_result *results;
    unsigned nr_results, cap_results;
    struct scenario_instance inst[SCENARIO_MAX_INSTANCES];
    unsigned nr_inst;
    bool attached;              /* ran against memvisord */
    bool checked;               /* the invariant checkers ran (embedded) */
    unsigned check_violations;  /* ... and what they found */
    unsigned counts[SO_FAILED + 1];
};

struct scenario_progress {
    uint64_t t_ms, duration_ms;
    const struct scenario_sample *last;
    unsigned failures, events_done;
    /* The embedded host's toolstack, for a live view (xl_print_top). */
    struct tc_handle *tc;
    struct tc_store *xs;
};

struct scenario_options {
    bool realtime;             /* the real clock instead of a virtual one */
    uint64_t seed;             /* UUIDs and the guests' choices */
    /* Attached: memvisord's hypercall socket (NULL: the default) and its
     * xenstore socket (non-NULL means attached, and realtime). */
    const char *socket_path, *xenstore_path;
    /* Called after each sample from the running thread (may be NULL). */
    void (*progress)(void *arg, const struct scenario_progress *p);
    void *arg;
};
void scenario_options_default(struct scenario_options *o);

/* Runs sc on a fresh embedded host or, attached, against a running
 * memvisord: the scenario's host line is then not used; its domains are
 * destroyed at the end; guests' models run in memvisord (their final
 * state is not seen) and its checkers are its own.  0, or -errno if the
 * host could not be made or reached (the report is then NULL). */
int scenario_run(const struct scenario *sc, const struct scenario_options *opts,
                 struct scenario_report **out) MV_MUST_CHECK;
void scenario_report_free(struct scenario_report *r);

/* The reports (report.c): 0 or -errno (a write failed). */
int scenario_report_text(const struct scenario_report *r, FILE *out);
int scenario_report_json(const struct scenario_report *r, FILE *out);
int scenario_report_html(const struct scenario_report *r, FILE *out);
const char *scenario_outcome_name(enum scenario_outcome o);
const char *scenario_verb_name(enum scenario_verb v);

#endif
