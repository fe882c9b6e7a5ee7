/*
 * metrics_render.c - a scrape as Prometheus's text exposition format,
 * version 0.0.4 (metrics.h): every family with its HELP and TYPE lines,
 * all of its samples together, label values escaped.
 *
 * Series are written whether or not they count anything yet (every
 * verdict of every service, every outcome of every look-up kind), so a
 * rate() over them starts at 0 rather than at the first event; only the
 * rule series come with their first match (their labels are not known
 * before).  wrapd(8), METRICS, lists the families; a name or label that
 * changes here changes there too.
 *
 * The output is a control_buf (control_proto.h): the control socket's
 * growable buffer, bounded at CONTROL_RESP_MAX, which sets `failed` when
 * out of memory instead of failing each write.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "acl.h"
#include "metrics.h"

static const char *const metrics_render_verdicts[METRICS_NVERDICT] = {
    "grant", "deny", "twist", "-"};
static const char *const metrics_render_dirs[METRICS_NDIR] = {
    "client_to_backend", "backend_to_client"};
static const char *const metrics_render_pauses[METRICS_NPAUSE] = {
    "max_connections", "emfile", "poll_error"};
static const char *const metrics_render_refusals[METRICS_NREFUSED] = {
    "per_source_connections", "per_source_rate", "banned"};
static const char *const metrics_render_lookups[METRICS_NLOOKUP] = {
    "dns", "ident"};
static const char *const metrics_render_outcomes[METRICS_NOUTCOME] = {
    "answered", "timed_out", "skipped"};
static const char *const metrics_render_actions[METRICS_NACTION] = {
    "spawn", "twist", "aclexec", "finger", "mail"};
static const char *const metrics_render_reloads[METRICS_NRELOAD] = {
    "ok", "failed"};
/* metrics_bucket_ms in seconds, as the le label writes them. */
static const char *const metrics_render_le[METRICS_NBUCKETS] = {"0.001",
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5",
    "10"};

/* One label of a sample. */
struct metrics_render_label {
	const char *key;
	const char *value;
};

static void
metrics_render_puts(struct control_buf *out, const char *s)
{
	control_proto_buf_add(out, s, strlen(s));
}

/*
 * The length of the valid UTF-8 sequence at s (1 to 4), or 0: a stray
 * continuation byte, an overlong form, a surrogate, past U+10FFFF, or
 * cut short (by the NUL that ends s).
 */
static size_t
metrics_render_utf8(const unsigned char *s)
{
	size_t n, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1fu;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0fu;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07u;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

void
metrics_render_label_value(struct control_buf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	while (*p != '\0') {
		if (*p == '\\' || *p == '"') {
			control_proto_buf_add(out, "\\", 1);
			control_proto_buf_add(out, (const char *)p, 1);
			p++;
		} else if (*p == '\n') {
			control_proto_buf_add(out, "\\n", 2);
			p++;
		} else if ((n = metrics_render_utf8(p)) == 0) {
			metrics_render_puts(out, "\xef\xbf\xbd"); /* U+FFFD */
			p++;
		} else {
			control_proto_buf_add(out, (const char *)p, n);
			p += n;
		}
	}
}

/* "# HELP name help" and "# TYPE name type" (help is ours: no escapes). */
static void
metrics_render_family(struct control_buf *out, const char *name,
    const char *type, const char *help)
{
	metrics_render_puts(out, "# HELP ");
	metrics_render_puts(out, name);
	metrics_render_puts(out, " ");
	metrics_render_puts(out, help);
	metrics_render_puts(out, "\n# TYPE ");
	metrics_render_puts(out, name);
	metrics_render_puts(out, " ");
	metrics_render_puts(out, type);
	metrics_render_puts(out, "\n");
}

/* name{k="v",...} value, the value already as text. */
static void
metrics_render_sample_text(struct control_buf *out, const char *name,
    const struct metrics_render_label *l, size_t nl, const char *value)
{
	size_t i;

	metrics_render_puts(out, name);
	for (i = 0; i < nl; i++) {
		metrics_render_puts(out, i == 0 ? "{" : ",");
		metrics_render_puts(out, l[i].key);
		metrics_render_puts(out, "=\"");
		metrics_render_label_value(out, l[i].value);
		metrics_render_puts(out, "\"");
	}
	metrics_render_puts(out, nl > 0 ? "} " : " ");
	metrics_render_puts(out, value);
	metrics_render_puts(out, "\n");
}

static void
metrics_render_sample(struct control_buf *out, const char *name,
    const struct metrics_render_label *l, size_t nl, uint64_t v)
{
	char num[24];

	snprintf(num, sizeof(num), "%" PRIu64, v);
	metrics_render_sample_text(out, name, l, nl, num);
}

/* ------------------------------------------------------------------ */
/* The families. */

static void
metrics_render_build(struct control_buf *out, const struct metrics_scrape *s)
{
	struct metrics_render_label l[] = {{"version", s->version}};

	metrics_render_family(out, "wrapd_build_info", "gauge",
	    "The running wrapd's version, as a label; always 1.");
	metrics_render_sample(out, "wrapd_build_info", l, 1, 1);
}

/*
 * A per-service counter with a second label: for each service, n series,
 * the value of series j read by get(view, j).
 */
static void
metrics_render_by_svc(struct control_buf *out, const struct metrics_scrape *s,
    const char *name, const char *key, const char *const *values, size_t n,
    uint64_t (*get)(const struct metrics_svc_view *, size_t))
{
	struct metrics_render_label l[2];
	size_t i, j;

	for (i = 0; i < s->nsvcs; i++)
		for (j = 0; j < n; j++) {
			l[0] = (struct metrics_render_label){
			    "service", s->svcs[i].name};
			l[1] = (struct metrics_render_label){key, values[j]};
			metrics_render_sample(
			    out, name, l, 2, get(&s->svcs[i], j));
		}
}

static uint64_t
metrics_render_get_conns(const struct metrics_svc_view *v, size_t j)
{
	return v->t.conns[j];
}

static uint64_t
metrics_render_get_bytes(const struct metrics_svc_view *v, size_t j)
{
	return v->t.bytes[j];
}

static uint64_t
metrics_render_get_pauses(const struct metrics_svc_view *v, size_t j)
{
	return v->t.pauses[j];
}

static uint64_t
metrics_render_get_refused(const struct metrics_svc_view *v, size_t j)
{
	return v->refused[j];
}

static void
metrics_render_services(struct control_buf *out, const struct metrics_scrape *s)
{
	struct metrics_render_label l[1];
	size_t i;

	metrics_render_family(out, "wrapd_connections_total", "counter",
	    "Connections by service and verdict (the log line's verdict=; "
	    "- is closed before one), counted when the verdict is applied.");
	metrics_render_by_svc(out, s, "wrapd_connections_total", "verdict",
	    metrics_render_verdicts, METRICS_NVERDICT,
	    metrics_render_get_conns);
	metrics_render_family(out, "wrapd_connections_active", "gauge",
	    "Connections accepted and not yet closed, by service.");
	for (i = 0; i < s->nsvcs; i++) {
		l[0] =
		    (struct metrics_render_label){"service", s->svcs[i].name};
		metrics_render_sample(
		    out, "wrapd_connections_active", l, 1, s->svcs[i].active);
	}
	metrics_render_family(out, "wrapd_bytes_total", "counter",
	    "Bytes relayed by service and direction, as the log line's in= "
	    "and out= (wrapd's banners and on_deny replies are "
	    "backend_to_client).");
	metrics_render_by_svc(out, s, "wrapd_bytes_total", "direction",
	    metrics_render_dirs, METRICS_NDIR, metrics_render_get_bytes);
	metrics_render_family(out, "wrapd_listener_pauses_total", "counter",
	    "Times a worker stopped accepting on a listener of the service, "
	    "by reason.");
	metrics_render_by_svc(out, s, "wrapd_listener_pauses_total", "reason",
	    metrics_render_pauses, METRICS_NPAUSE, metrics_render_get_pauses);
	metrics_render_family(out, "wrapd_connections_refused_total", "counter",
	    "Connections reset at accept for their source (per_source "
	    "limits, bans), by service and reason; the listener goes on.");
	metrics_render_by_svc(out, s, "wrapd_connections_refused_total",
	    "reason", metrics_render_refusals, METRICS_NREFUSED,
	    metrics_render_get_refused);
}

static void
metrics_render_rules(struct control_buf *out, const struct metrics_scrape *s)
{
	struct metrics_render_label l[3];
	char rule[4200];
	size_t i;

	metrics_render_family(out, "wrapd_rule_matches_total", "counter",
	    "Connections decided by the rule at file:line, by service and "
	    "table; a series per position, kept over reloads.");
	for (i = 0; i < s->nrules; i++) {
		const struct metrics_rule_count *r = &s->rules[i];

		snprintf(rule, sizeof(rule), "%s:%u", r->file, r->line);
		l[0] = (struct metrics_render_label){"service", r->service};
		l[1] = (struct metrics_render_label){"rule", rule};
		l[2] = (struct metrics_render_label){
		    "table", r->table == ACL_TABLE_ALLOW ? "allow" : "deny"};
		metrics_render_sample(
		    out, "wrapd_rule_matches_total", l, 3, r->hits);
	}
	metrics_render_family(out, "wrapd_rule_matches_unlisted_total",
	    "counter",
	    "Rule matches not in wrapd_rule_matches_total: its table of "
	    "series was full.");
	metrics_render_sample(out, "wrapd_rule_matches_unlisted_total", NULL, 0,
	    s->totals->rules_unlisted);
}

/* The histogram of one kind: cumulative buckets, +Inf, sum, count. */
static void
metrics_render_histogram(
    struct control_buf *out, const struct metrics_totals *t, size_t k)
{
	struct metrics_render_label l[2] = {
	    {"kind", metrics_render_lookups[k]}, {"le", NULL}};
	uint64_t cum = 0;
	char sum[32];
	size_t b;

	for (b = 0; b <= METRICS_NBUCKETS; b++) {
		cum += t->buckets[k][b];
		l[1].value =
		    b < METRICS_NBUCKETS ? metrics_render_le[b] : "+Inf";
		metrics_render_sample(
		    out, "wrapd_lookup_duration_seconds_bucket", l, 2, cum);
	}
	snprintf(sum, sizeof(sum), "%" PRIu64 ".%03u", t->lookup_ms[k] / 1000,
	    (unsigned)(t->lookup_ms[k] % 1000));
	metrics_render_sample_text(
	    out, "wrapd_lookup_duration_seconds_sum", l, 1, sum);
	metrics_render_sample(
	    out, "wrapd_lookup_duration_seconds_count", l, 1, cum);
}

/*
 * A family with two labels: n1 x n2 series, the value of (i, j) at
 * v[i * n2 + j] (a two-dimensional array of the totals).
 */
static void
metrics_render_grid(struct control_buf *out, const char *name, const char *k1,
    const char *const *names1, size_t n1, const char *k2,
    const char *const *names2, size_t n2, const uint64_t *v)
{
	struct metrics_render_label l[2] = {{k1, NULL}, {k2, NULL}};
	size_t i, j;

	for (i = 0; i < n1; i++)
		for (j = 0; j < n2; j++) {
			l[0].value = names1[i];
			l[1].value = names2[j];
			metrics_render_sample(out, name, l, 2, v[i * n2 + j]);
		}
}

static void
metrics_render_lookups_all(
    struct control_buf *out, const struct metrics_totals *t)
{
	size_t k;

	metrics_render_family(out, "wrapd_lookups_total", "counter",
	    "Name (dns) and ident look-ups by outcome; skipped: not asked "
	    "(at a cap, or no resources).");
	metrics_render_grid(out, "wrapd_lookups_total", "kind",
	    metrics_render_lookups, METRICS_NLOOKUP, "outcome",
	    metrics_render_outcomes, METRICS_NOUTCOME, &t->lookups[0][0]);
	metrics_render_family(out, "wrapd_lookup_duration_seconds", "histogram",
	    "Time from a look-up's start to its answer or deadline, by kind "
	    "(millisecond resolution).");
	for (k = 0; k < METRICS_NLOOKUP; k++)
		metrics_render_histogram(out, t, k);
}

static void
metrics_render_process(struct control_buf *out, const struct metrics_totals *t)
{
	static const char *const run[] = {"run", "skipped"};
	struct metrics_render_label l[1];
	size_t o;

	metrics_render_family(out, "wrapd_actions_total", "counter",
	    "Commands, finger queries and report mails by action: run, or "
	    "skipped over actions.max_running, per_source or mail_rate.");
	metrics_render_grid(out, "wrapd_actions_total", "action",
	    metrics_render_actions, METRICS_NACTION, "outcome", run, 2,
	    &t->actions[0][0]);
	metrics_render_family(out, "wrapd_reloads_total", "counter",
	    "Reloads (SIGHUP) by outcome; a failed one keeps the running "
	    "configuration.");
	for (o = 0; o < METRICS_NRELOAD; o++) {
		l[0] = (struct metrics_render_label){
		    "outcome", metrics_render_reloads[o]};
		metrics_render_sample(
		    out, "wrapd_reloads_total", l, 1, t->reloads[o]);
	}
}

void
metrics_render(const struct metrics_scrape *s, struct control_buf *out)
{
	metrics_render_build(out, s);
	metrics_render_services(out, s);
	metrics_render_rules(out, s);
	metrics_render_lookups_all(out, s->totals);
	metrics_render_process(out, s->totals);
}
