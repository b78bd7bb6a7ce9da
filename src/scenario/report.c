/*
 * A scenario's reports (scenario.h): a terminal summary, the data as JSON,
 * and a self-contained HTML page whose charts are inline SVG drawn here
 * (no script or network needed to see them; a small script only checks
 * them, for the browser test).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "memvisor/scenario.h"

#define MIB_PAGES (UINT64_C(1) << (20 - PAGE_SHIFT))

static double mib(uint64_t pages) { return (double)pages / (double)MIB_PAGES; }

/* The host-wide bands of a sample, in the JSON's order. */
enum band { BAND_FREE, BAND_CLAIMED, BAND_TMEM, BAND_POD_CACHE, BAND_OTHER, NR_BANDS };

static uint64_t band_pages(const struct scenario_sample *s, enum band b)
{
    const uint64_t v[NR_BANDS] = { s->free_pages, s->claimed_pages, s->tmem_pages,
                                   s->pod_cache_pages, s->other_pages };

    return v[b];
}

static const char *state_of(const struct scenario_report *r, const struct scenario_instance *in)
{
    if (!in->ever_created)
        return "never created";
    if (!in->domid)
        return "destroyed";
    if (!in->have_status)
        return r->attached ? "in memvisord" : "no guest model";
    return guest_os_state_name(in->last.state);
}

static const char *claims_name(enum scenario_claims c)
{
    return c == SC_CLAIMS_ON ? "on" : c == SC_CLAIMS_OFF ? "off" : "config";
}

/* The most a sample shows of a series: the peak of the guests' held. */
static uint64_t peak_held(const struct scenario_report *r, unsigned i)
{
    uint64_t peak = 0;

    for (unsigned k = 0; k < r->nr_samples; k++)
        if (r->samples[k].held[i] > peak)
            peak = r->samples[k].held[i];
    return peak;
}

/* Pages populated by builds that then failed: work thrown away. */
static uint64_t wasted_pages(const struct scenario_report *r)
{
    uint64_t sum = 0;

    for (unsigned i = 0; i < r->nr_results; i++)
        if (r->results[i].rc && r->results[i].ev->verb == SV_CREATE)
            sum += r->results[i].populated_pages;
    return sum;
}

int scenario_report_text(const struct scenario_report *r, FILE *out)
{
    const struct scenario *sc = r->sc;

    fprintf(out, "\n%s\n", sc->title);
    fprintf(out, "  host %.0f MiB, %u node%s; claims %s, scheduler %s; %" PRIu64
            " model seconds, ",
            mib(r->total_pages), sc->nr_nodes, sc->nr_nodes > 1 ? "s" : "",
            claims_name(sc->claims), sc->scheduler ? "on" : "off", sc->duration_s);
    if (r->realtime)
        fprintf(out, "real time (a model second is %.0f ms)\n", (double)sc->second_ns / 1e6);
    else
        fprintf(out, "virtual clock, seed %" PRIu64 "\n", r->seed);
    fprintf(out, "  events: %u ok, %u refused at once, %u delayed failures, %u gave up, "
            "%u other failures\n",
            r->counts[SO_OK], r->counts[SO_REFUSED], r->counts[SO_DELAYED],
            r->counts[SO_GAVE_UP], r->counts[SO_FAILED]);
    fprintf(out, "  populated by builds that then failed: %.0f MiB\n", mib(wasted_pages(r)));
    fprintf(out, "\n  %-12s %-14s %10s %10s %10s %10s %9s\n", "domain", "state", "peak MiB",
            "target", "current", "balloon", "swapped");
    for (unsigned i = 0; i < r->nr_inst; i++) {
        const struct scenario_instance *in = &r->inst[i];

        fprintf(out, "  %-12s %-14s %10.0f", in->name, state_of(r, in), mib(peak_held(r, i)));
        if (in->have_status && in->domid)
            fprintf(out, " %10.0f %10.0f %10.0f %9.0f\n", mib(in->last.target_pages),
                    mib(in->last.current_pages), mib(in->last.balloon_pages),
                    mib(in->last.swapped_pages));
        else
            fprintf(out, " %10s %10s %10s %9s\n", "-", "-", "-", "-");
    }
    fprintf(out, "\n  failures on the timeline: %u\n", r->nr_failures);
    for (unsigned i = 0; i < r->nr_failures; i++)
        fprintf(out, "  %8.1f s  %s\n", (double)r->failures[i].t_ms / 1000.0,
                r->failures[i].what);
    if (!r->checked)
        fprintf(out, "\n  invariant checks: memvisord's own (attached)\n");
    else if (r->check_violations)
        fprintf(out, "\n  INVARIANT VIOLATIONS after the run: %u\n", r->check_violations);
    else
        fprintf(out, "\n  invariant checks after the run: clean\n");
    return ferror(out) ? -EIO : 0;
}

/*
 * JSON.
 */

static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static void json_series(FILE *out, const struct scenario_report *r, unsigned i, bool target)
{
    fputc('[', out);
    for (unsigned k = 0; k < r->nr_samples; k++)
        fprintf(out, "%s%" PRIu64, k ? "," : "",
                target ? r->samples[k].target[i] : r->samples[k].held[i]);
    fputc(']', out);
}

int scenario_report_json(const struct scenario_report *r, FILE *out)
{
    const struct scenario *sc = r->sc;
    static const char *const bands[NR_BANDS] = { "free", "claimed", "tmem", "pod_cache",
                                                 "other" };

    fputs("{\n  \"title\": ", out);
    json_string(out, sc->title);
    fputs(",\n  \"file\": ", out);
    json_string(out, sc->file);
    fprintf(out, ",\n  \"units\": \"pages of 4 KiB; times in model seconds\",\n"
            "  \"host\": {\"total_pages\": %" PRIu64 ", \"nodes\": %u},\n"
            "  \"policy\": {\"claims\": \"%s\", \"scheduler\": %s, \"squeeze_timeout\": %" PRIu64
            ", \"build_rate_bytes\": %" PRIu64 "},\n"
            "  \"second_ns\": %" PRIu64 ", \"duration\": %" PRIu64 ", \"seed\": %" PRIu64
            ", \"clock\": \"%s\",\n"
            "  \"wall\": {\"seconds\": %.3f, \"model_seconds_per_second\": %.1f},\n",
            r->total_pages, sc->nr_nodes, claims_name(sc->claims),
            sc->scheduler ? "true" : "false", sc->squeeze_timeout_s, sc->build_rate_bytes,
            sc->second_ns, sc->duration_s, r->seed, r->realtime ? "real" : "virtual",
            (double)r->wall_ns / 1e9,
            r->wall_ns ? (double)sc->duration_s * 1e9 / (double)r->wall_ns : 0.0);
    fprintf(out, "  \"counts\": {\"ok\": %u, \"refused\": %u, \"delayed\": %u, \"gave_up\": %u, "
            "\"failed\": %u},\n  \"wasted_pages\": %" PRIu64 ", \"checked\": %s, "
            "\"check_violations\": %u,\n",
            r->counts[SO_OK], r->counts[SO_REFUSED], r->counts[SO_DELAYED],
            r->counts[SO_GAVE_UP], r->counts[SO_FAILED], wasted_pages(r),
            r->checked ? "true" : "false", r->check_violations);
    fputs("  \"t\": [", out);
    for (unsigned k = 0; k < r->nr_samples; k++)
        fprintf(out, "%s%.3f", k ? "," : "", (double)r->samples[k].t_ms / 1000.0);
    fputs("],\n", out);
    for (enum band b = 0; b < NR_BANDS; b++) {
        fprintf(out, "  \"%s\": [", bands[b]);
        for (unsigned k = 0; k < r->nr_samples; k++)
            fprintf(out, "%s%" PRIu64, k ? "," : "", band_pages(&r->samples[k], b));
        fputs("],\n", out);
    }
    fputs("  \"domains\": [\n", out);
    for (unsigned i = 0; i < r->nr_inst; i++) {
        const struct scenario_instance *in = &r->inst[i];

        fputs("    {\"name\": ", out);
        json_string(out, in->name);
        fprintf(out, ", \"state\": \"%s\"", state_of(r, in));
        if (in->have_status && in->domid)
            fprintf(out, ", \"target_pages\": %" PRIu64 ", \"current_pages\": %" PRIu64
                    ", \"balloon_pages\": %" PRIu64 ", \"swapped_pages\": %" PRIu64
                    ", \"balloon\": \"%s\"",
                    in->last.target_pages, in->last.current_pages, in->last.balloon_pages,
                    in->last.swapped_pages, balloon_state_name(in->last.balloon));
        fputs(",\n     \"held\": ", out);
        json_series(out, r, i, false);
        fputs(",\n     \"target\": ", out);
        json_series(out, r, i, true);
        fprintf(out, "}%s\n", i + 1 < r->nr_inst ? "," : "");
    }
    fputs("  ],\n  \"events\": [\n", out);
    for (unsigned i = 0; i < r->nr_results; i++) {
        const struct scenario_result *e = &r->results[i];

        fprintf(out, "    {\"start\": %.3f, \"end\": %.3f, \"line\": %u, \"verb\": \"%s\", "
                "\"domain\": ",
                (double)e->start_ms / 1000.0, (double)e->end_ms / 1000.0, e->ev->line,
                scenario_verb_name(e->ev->verb));
        json_string(out, e->instance >= 0 ? r->inst[e->instance].name : "");
        fprintf(out, ", \"outcome\": \"%s\", \"rc\": %d, \"populated_pages\": %" PRIu64
                ", \"message\": ",
                scenario_outcome_name(e->outcome), e->rc, e->populated_pages);
        json_string(out, e->message);
        if (e->output) {
            fputs(", \"output\": ", out);
            json_string(out, e->output);
        }
        fprintf(out, "}%s\n", i + 1 < r->nr_results ? "," : "");
    }
    fputs("  ],\n  \"failures\": [\n", out);
    for (unsigned i = 0; i < r->nr_failures; i++) {
        fprintf(out, "    {\"t\": %.3f, \"domain\": ", (double)r->failures[i].t_ms / 1000.0);
        json_string(out, r->failures[i].instance >= 0 ? r->inst[r->failures[i].instance].name
                                                      : "");
        fputs(", \"what\": ", out);
        json_string(out, r->failures[i].what);
        fprintf(out, "}%s\n", i + 1 < r->nr_failures ? "," : "");
    }
    fputs("  ]\n}\n", out);
    return ferror(out) ? -EIO : 0;
}

/*
 * HTML.
 */

static void html_text(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '&': fputs("&amp;", out); break;
        case '"': fputs("&quot;", out); break;
        default: fputc(*s, out);
        }
    }
}

static const char *const palette[] = { "#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2",
                                       "#edc948", "#9c755f", "#ff9da7", "#86bcb6", "#d4a6c8",
                                       "#8cd17d", "#a0cbe8" };

struct plot {
    double x0, y0, w, h; /* the plotting area */
    double t_max, v_max; /* seconds, MiB */
};

static double px(const struct plot *p, uint64_t t_ms)
{
    return p->x0 + p->w * ((double)t_ms / 1000.0) / p->t_max;
}

static double py(const struct plot *p, double v)
{
    return p->y0 + p->h - p->h * (v > p->v_max ? p->v_max : v) / p->v_max;
}

/* 1, 2 or 5 times a power of ten: at most 8 steps over range. */
static double nice_step(double range)
{
    static const double mantissa[] = { 1, 2, 5 };

    for (double scale = 1; scale < 1e12; scale *= 10)
        for (unsigned i = 0; i < ARRAY_SIZE(mantissa); i++)
            if (range / (mantissa[i] * scale) <= 8)
                return mantissa[i] * scale;
    return range;
}

static void axes(FILE *out, const struct plot *p, const char *y_label)
{
    double ys = nice_step(p->v_max), ts = nice_step(p->t_max);

    fprintf(out, "<g class=\"axes\" font-size=\"11\" fill=\"#444\">\n");
    for (double v = 0; v <= p->v_max + 1e-9; v += ys)
        fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.0f</text>\n",
                p->x0, py(p, v), p->x0 + p->w, py(p, v), p->x0 - 4, py(p, v) + 4, v);
    for (double t = 0; t <= p->t_max + 1e-9; t += ts)
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.0f</text>\n",
                px(p, (uint64_t)(t * 1000)), p->y0 + p->h + 14, t);
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">model seconds</text>\n",
            p->x0 + p->w / 2, p->y0 + p->h + 28);
    fprintf(out, "<text x=\"12\" y=\"%.1f\" transform=\"rotate(-90 12 %.1f)\" "
            "text-anchor=\"middle\">%s</text>\n</g>\n",
            p->y0 + p->h / 2, p->y0 + p->h / 2, y_label);
}

static void failure_marks(FILE *out, const struct scenario_report *r, const struct plot *p,
                          int instance)
{
    for (unsigned i = 0; i < r->nr_failures; i++) {
        const struct scenario_failure *f = &r->failures[i];
        double x = px(p, f->t_ms);

        if (instance >= 0 && f->instance != instance)
            continue;
        fprintf(out, "<g class=\"failure\"><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                "stroke=\"#d62728\" stroke-dasharray=\"4 3\"/><circle cx=\"%.1f\" cy=\"%.1f\" "
                "r=\"7\" fill=\"#d62728\"/><text x=\"%.1f\" y=\"%.1f\" font-size=\"9\" "
                "fill=\"#fff\" text-anchor=\"middle\">%u</text><title>",
                x, p->y0, x, p->y0 + p->h, x, p->y0 + 8, x, p->y0 + 11, i + 1);
        html_text(out, f->what);
        fputs("</title></g>\n", out);
    }
}

/* One band of the stacked chart (instance inst's held pages, or the
 * host-wide band which for inst -1): between the running sum below (base)
 * and base + value; base is advanced. */
static double band_mib(const struct scenario_sample *s, enum band which, int inst)
{
    return mib(inst >= 0 ? s->held[inst] : band_pages(s, which));
}

static void band(FILE *out, const struct scenario_report *r, const struct plot *p,
                 double *base, const char *color, const char *name, enum band which, int inst)
{
    unsigned n = r->nr_samples;

    fprintf(out, "<path class=\"series\" fill=\"%s\" fill-opacity=\"0.85\" stroke=\"none\" d=\"",
            color);
    for (unsigned k = 0; k < n; k++) {
        const struct scenario_sample *s = &r->samples[k];
        double top = base[k] + band_mib(s, which, inst);

        fprintf(out, "%c%.1f %.1f", k ? 'L' : 'M', px(p, s->t_ms), py(p, top));
    }
    for (unsigned k = n; k-- > 0;) {
        fprintf(out, "L%.1f %.1f", px(p, r->samples[k].t_ms), py(p, base[k]));
    }
    fputs("Z\"><title>", out);
    html_text(out, name);
    fputs("</title></path>\n", out);
    for (unsigned k = 0; k < n; k++)
        base[k] += band_mib(&r->samples[k], which, inst);
}

static void legend_item(FILE *out, double x, double y, const char *color, const char *name,
                        bool dashed)
{
    if (dashed)
        fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                "stroke-width=\"2\" stroke-dasharray=\"5 3\"/>", x, y - 4, x + 14, y - 4, color);
    else
        fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"10\" fill=\"%s\"/>", x,
                y - 9, color);
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">", x + 17, y);
    html_text(out, name);
    fputs("</text>\n", out);
}

static void memory_chart(FILE *out, const struct scenario_report *r)
{
    static const struct { const char *name, *color; enum band which; } fixed[] = {
        { "PoD caches", "#bab0ac", BAND_POD_CACHE }, { "tmem", "#17becf", BAND_TMEM },
        { "hypervisor, dom0, others", "#7f7f7f", BAND_OTHER },
        { "claimed", "#e15759", BAND_CLAIMED }, { "free", "#e8f0e0", BAND_FREE },
    };
    struct plot p = { 60, 20, 760, 300, (double)r->sc->duration_s, mib(r->total_pages) };
    double *base = calloc(r->nr_samples ? r->nr_samples : 1, sizeof(double));
    double lx = 840, ly = 30;

    if (!base)
        return;
    fprintf(out, "<svg class=\"chart\" id=\"memory\" width=\"1040\" height=\"%u\" "
            "xmlns=\"http://www.w3.org/2000/svg\" font-family=\"sans-serif\">\n",
            360 + (r->nr_inst > 12 ? (r->nr_inst - 12) * 16 : 0));
    axes(out, &p, "MiB");
    for (unsigned i = 0; i < r->nr_inst; i++) {
        band(out, r, &p, base, palette[i % ARRAY_SIZE(palette)], r->inst[i].name, BAND_FREE,
             (int)i);
        legend_item(out, lx, ly, palette[i % ARRAY_SIZE(palette)], r->inst[i].name, false);
        ly += 16;
    }
    for (unsigned b = 0; b < ARRAY_SIZE(fixed); b++) {
        band(out, r, &p, base, fixed[b].color, fixed[b].name, fixed[b].which, -1);
        legend_item(out, lx, ly, fixed[b].color, fixed[b].name, false);
        ly += 16;
    }
    legend_item(out, lx, ly, "#d62728", "failure", true);
    failure_marks(out, r, &p, -1);
    fputs("</svg>\n", out);
    free(base);
}

static void line(FILE *out, const struct scenario_report *r, const struct plot *p, unsigned inst,
                 bool target, const char *color)
{
    bool drawing = false;

    fprintf(out, "<path class=\"series\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s d=\"",
            color, target ? " stroke-dasharray=\"5 3\"" : "");
    for (unsigned k = 0; k < r->nr_samples; k++) {
        const struct scenario_sample *s = &r->samples[k];
        uint64_t v = target ? s->target[inst] : s->held[inst];
        bool alive = s->held[inst] || s->target[inst];

        if (alive)
            fprintf(out, "%c%.1f %.1f", drawing ? 'L' : 'M', px(p, s->t_ms), py(p, mib(v)));
        drawing = alive;
    }
    fprintf(out, "\"><title>%s</title></path>\n", target ? "target" : "held");
}

static void guest_chart(FILE *out, const struct scenario_report *r, unsigned i)
{
    uint64_t top = 0;
    struct plot p = { 50, 24, 380, 150, (double)r->sc->duration_s, 0 };

    for (unsigned k = 0; k < r->nr_samples; k++) {
        top = r->samples[k].held[i] > top ? r->samples[k].held[i] : top;
        top = r->samples[k].target[i] > top ? r->samples[k].target[i] : top;
    }
    p.v_max = mib(top) > 1 ? mib(top) * 1.1 : 16;
    fprintf(out, "<svg class=\"chart guest\" width=\"460\" height=\"210\" "
            "xmlns=\"http://www.w3.org/2000/svg\" font-family=\"sans-serif\">\n"
            "<text x=\"50\" y=\"14\" font-size=\"13\" font-weight=\"bold\">");
    html_text(out, r->inst[i].name);
    fprintf(out, "</text>\n");
    legend_item(out, 200, 14, palette[i % ARRAY_SIZE(palette)], "held", false);
    legend_item(out, 260, 14, "#333", "target", true);
    axes(out, &p, "MiB");
    line(out, r, &p, i, false, palette[i % ARRAY_SIZE(palette)]);
    line(out, r, &p, i, true, "#333");
    failure_marks(out, r, &p, (int)i);
    fputs("</svg>\n", out);
}

/* The page checks its own charts once drawn: each has a box and series
 * with a non-empty extent.  The browser test reads the verdict. */
static const char self_check[] =
    "<script>\n"
    "addEventListener('load', function () {\n"
    "  var charts = document.querySelectorAll('svg.chart'), drawn = 0, series = 0;\n"
    "  charts.forEach(function (c) {\n"
    "    var b = c.getBoundingClientRect(), ok = b.width > 100 && b.height > 100;\n"
    "    c.querySelectorAll('path.series').forEach(function (s) {\n"
    "      var x = s.getBBox(); if (x.width > 0 || x.height > 0) series++; });\n"
    "    if (ok && c.querySelector('path.series')) drawn++;\n"
    "  });\n"
    "  var v = document.getElementById('selfcheck');\n"
    "  v.textContent = 'charts drawn: ' + drawn + ' of ' + charts.length +\n"
    "    '; series drawn: ' + series + '; failure marks: ' +\n"
    "    document.querySelectorAll('g.failure').length;\n"
    "  v.setAttribute('data-ok', drawn === charts.length && charts.length > 0 ? '1' : '0');\n"
    "});\n"
    "</script>\n";

int scenario_report_html(const struct scenario_report *r, FILE *out)
{
    const struct scenario *sc = r->sc;

    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>", out);
    html_text(out, sc->title);
    fputs("</title>\n<style>\nbody{font-family:sans-serif;margin:24px;color:#222;max-width:1100px}"
          "\ntable{border-collapse:collapse;margin:8px 0 20px}\ntd,th{border:1px solid #ccc;"
          "padding:3px 8px;text-align:left;font-size:13px}\nth{background:#f3f3f3}\n"
          ".bad{color:#b00}\npre{background:#f7f7f7;padding:8px;font-size:12px}\n"
          ".guests{display:flex;flex-wrap:wrap}\n#selfcheck{color:#888;font-size:11px}\n"
          "</style></head><body>\n<h1>", out);
    html_text(out, sc->title);
    fprintf(out, "</h1>\n<p>Host: %.0f MiB in %u node%s. Policy: claims %s, memory scheduler %s"
            ". %" PRIu64 " model seconds ",
            mib(r->total_pages), sc->nr_nodes, sc->nr_nodes > 1 ? "s" : "",
            claims_name(sc->claims), sc->scheduler ? "on" : "off", sc->duration_s);
    if (r->realtime)
        fprintf(out, "in real time (a model second is %.3f ms)", (double)sc->second_ns / 1e6);
    else
        fprintf(out, "on a virtual clock, seed %" PRIu64, r->seed);
    fprintf(out, ", run in %.1f s of wall time. Scenario: ", (double)r->wall_ns / 1e9);
    html_text(out, sc->file);
    fprintf(out, ".</p>\n<table><tr><th>events ok</th><th>refused at once</th>"
            "<th>delayed failures</th><th>populated, then thrown away</th>"
            "<th>scheduler gave up</th><th>other failures</th>"
            "<th>failures on the timeline</th><th>invariant violations</th></tr>\n"
            "<tr><td>%u</td><td>%u</td><td class=\"%s\">%u</td><td>%.0f MiB</td><td>%u</td>"
            "<td>%u</td><td>%u</td><td class=\"%s\">%u</td></tr></table>\n",
            r->counts[SO_OK], r->counts[SO_REFUSED], r->counts[SO_DELAYED] ? "bad" : "",
            r->counts[SO_DELAYED], mib(wasted_pages(r)), r->counts[SO_GAVE_UP],
            r->counts[SO_FAILED], r->nr_failures, r->check_violations ? "bad" : "",
            r->check_violations);
    fputs("<h2>Memory by use</h2>\n", out);
    memory_chart(out, r);
    fputs("<h2>Each guest: its target against what it holds</h2>\n<div class=\"guests\">\n", out);
    for (unsigned i = 0; i < r->nr_inst; i++)
        guest_chart(out, r, i);
    fputs("</div>\n<h2>Failures</h2>\n", out);
    if (!r->nr_failures)
        fputs("<p>None.</p>\n", out);
    else
        fputs("<table><tr><th>#</th><th>time (s)</th><th>what</th></tr>\n", out);
    for (unsigned i = 0; i < r->nr_failures; i++) {
        fprintf(out, "<tr><td>%u</td><td>%.1f</td><td>", i + 1,
                (double)r->failures[i].t_ms / 1000.0);
        html_text(out, r->failures[i].what);
        fputs("</td></tr>\n", out);
    }
    if (r->nr_failures)
        fputs("</table>\n", out);
    fputs("<h2>Guests at the end</h2>\n<table><tr><th>domain</th><th>state</th>"
          "<th>peak MiB</th><th>target MiB</th><th>current MiB</th><th>balloon MiB</th>"
          "<th>swapped MiB</th><th>balloon</th></tr>\n", out);
    for (unsigned i = 0; i < r->nr_inst; i++) {
        const struct scenario_instance *in = &r->inst[i];

        fputs("<tr><td>", out);
        html_text(out, in->name);
        fprintf(out, "</td><td>%s</td><td>%.0f</td>", state_of(r, in), mib(peak_held(r, i)));
        if (in->have_status && in->domid)
            fprintf(out, "<td>%.0f</td><td>%.0f</td><td>%.0f</td><td>%.0f</td><td>%s</td>",
                    mib(in->last.target_pages), mib(in->last.current_pages),
                    mib(in->last.balloon_pages), mib(in->last.swapped_pages),
                    balloon_state_name(in->last.balloon));
        else
            fputs("<td colspan=\"5\">-</td>", out);
        fputs("</tr>\n", out);
    }
    fputs("</table>\n<h2>Timeline</h2>\n<table><tr><th>start (s)</th><th>end (s)</th>"
          "<th>line</th><th>event</th><th>domain</th><th>outcome</th><th>detail</th></tr>\n",
          out);
    for (unsigned i = 0; i < r->nr_results; i++) {
        const struct scenario_result *e = &r->results[i];

        fprintf(out, "<tr><td>%.1f</td><td>%.1f</td><td>%u</td><td>%s</td><td>",
                (double)e->start_ms / 1000.0, (double)e->end_ms / 1000.0, e->ev->line,
                scenario_verb_name(e->ev->verb));
        html_text(out, e->instance >= 0 ? r->inst[e->instance].name : "");
        fprintf(out, "</td><td class=\"%s\">%s</td><td>", e->rc ? "bad" : "",
                scenario_outcome_name(e->outcome));
        html_text(out, e->message);
        if (e->output) {
            fputs("<pre>", out);
            html_text(out, e->output);
            fputs("</pre>", out);
        }
        fputs("</td></tr>\n", out);
    }
    fputs("</table>\n<p id=\"selfcheck\" data-ok=\"\">charts not checked (no script)</p>\n", out);
    fputs(self_check, out);
    fputs("</body></html>\n", out);
    return ferror(out) ? -EIO : 0;
}
