/*
 * test_metrics.c - the metrics endpoint's pure parts: label values
 * escaped for the exposition format (hostile file names included), the
 * rendering of a scrape, the counters and their sums (the lock-free rule
 * table under threads, its bound), and the HTTP request-head parser.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "acl.h"
#include "metrics.h"
#include "metrics_http.h"

/* The escaped form of s, in a static buffer. */
static const char *
esc(const char *s)
{
	static char out[256];
	struct control_buf b = {0};

	metrics_render_label_value(&b, s);
	assert_false(b.failed);
	snprintf(out, sizeof(out), "%s", b.p != NULL ? b.p : "");
	control_proto_buf_free(&b);
	return out;
}

static void
test_escape(void **state)
{
	(void)state;
	assert_string_equal(esc(""), "");
	assert_string_equal(esc("/etc/hosts.allow:12"), "/etc/hosts.allow:12");
	assert_string_equal(esc("a\\b"), "a\\\\b");
	assert_string_equal(esc("say \"hi\""), "say \\\"hi\\\"");
	assert_string_equal(esc("two\nlines"), "two\\nlines");
	assert_string_equal(esc("\\\"\n"), "\\\\\\\"\\n");
	/* Other bytes pass as they are: CR and TAB are UTF-8. */
	assert_string_equal(esc("a\rb\tc"), "a\rb\tc");
	/* Valid UTF-8 passes: 2, 3 and 4 bytes. */
	assert_string_equal(esc("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	/* Invalid UTF-8: each bad byte is U+FFFD. */
	assert_string_equal(esc("a\x80z"), "a\xef\xbf\xbdz");
	assert_string_equal(esc("\xc0\x80"), "\xef\xbf\xbd\xef\xbf\xbd");
	assert_string_equal(esc("\xed\xa0\x80"),
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); /* a surrogate */
	assert_string_equal(esc("\xf5\x80\x80\x80x"),
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdx");
	assert_string_equal(esc("\xe2\x82"), "\xef\xbf\xbd\xef\xbf\xbd");
	assert_string_equal(esc("\xe0\x9f\xbf"), /* overlong */
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	assert_string_equal(esc("\xf4\x90\x80\x80"), /* past U+10FFFF */
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
}

/* The rendered scrape of s, malloc'd. */
static char *
render(const struct metrics_scrape *s)
{
	struct control_buf b = {0};

	metrics_render(s, &b);
	assert_false(b.failed);
	return b.p;
}

/* Does text hold this exact line? */
static bool
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p;

	for (p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

static void
test_render(void **state)
{
	struct metrics_totals t;
	struct metrics_svc_view v[2];
	struct metrics_rule_count r[2];
	struct metrics_scrape s;
	char *text;

	(void)state;
	memset(&t, 0, sizeof(t));
	memset(v, 0, sizeof(v));
	t.lookups[METRICS_LOOKUP_DNS][METRICS_ANSWERED] = 3;
	t.lookups[METRICS_LOOKUP_IDENT][METRICS_TIMED_OUT] = 1;
	t.buckets[METRICS_LOOKUP_DNS][0] = 2; /* <= 1 ms */
	t.buckets[METRICS_LOOKUP_DNS][4] = 1; /* <= 50 ms */
	t.lookup_ms[METRICS_LOOKUP_DNS] = 41;
	t.buckets[METRICS_LOOKUP_IDENT][METRICS_NBUCKETS] = 1; /* +Inf */
	t.lookup_ms[METRICS_LOOKUP_IDENT] = 30000;
	t.actions[METRICS_ACTION_SPAWN][0] = 5;
	t.actions[METRICS_ACTION_MAIL][1] = 2;
	t.reloads[METRICS_RELOAD_OK] = 4;
	t.rules_unlisted = 7;
	v[0].name = "ssh";
	v[0].active = 2;
	v[0].t.conns[METRICS_GRANT] = 10;
	v[0].t.conns[METRICS_UNDECIDED] = 1;
	v[0].t.bytes[METRICS_BACKEND_TO_CLIENT] = 123456789012ULL;
	v[0].t.pauses[METRICS_PAUSE_EMFILE] = 3;
	v[0].refused[METRICS_REFUSED_BANNED] = 9;
	v[1].name = "ftp";
	r[0] = (struct metrics_rule_count){
	    "ssh", "/etc/hosts.allow", 4, ACL_TABLE_ALLOW, 10};
	r[1] = (struct metrics_rule_count){
	    "ssh", "/tmp/we\"ird\nname\\", 2, ACL_TABLE_DENY, 1};
	s = (struct metrics_scrape){"1.2.3", &t, r, 2, v, 2};
	text = render(&s);

	assert_true(has_line(text, "wrapd_build_info{version=\"1.2.3\"} 1"));
	assert_true(has_line(text, "# TYPE wrapd_connections_total counter"));
	assert_true(has_line(text,
	    "wrapd_connections_total{service=\"ssh\",verdict=\"grant\"} 10"));
	assert_true(has_line(
	    text, "wrapd_connections_total{service=\"ssh\",verdict=\"-\"} 1"));
	assert_true(has_line(text,
	    "wrapd_connections_total{service=\"ftp\",verdict=\"deny\"} 0"));
	assert_true(
	    has_line(text, "wrapd_connections_active{service=\"ssh\"} 2"));
	assert_true(has_line(text,
	    "wrapd_bytes_total{service=\"ssh\",direction=\"backend_to_"
	    "client\"} 123456789012"));
	assert_true(has_line(text,
	    "wrapd_listener_pauses_total{service=\"ssh\",reason=\"emfile\"} "
	    "3"));
	assert_true(has_line(text,
	    "wrapd_connections_refused_total{service=\"ssh\",reason="
	    "\"banned\"} 9"));
	assert_true(has_line(text,
	    "wrapd_rule_matches_total{service=\"ssh\",rule=\"/etc/hosts."
	    "allow:4\",table=\"allow\"} 10"));
	/* A hostile file name stays on its line, escaped. */
	assert_true(has_line(text,
	    "wrapd_rule_matches_total{service=\"ssh\",rule=\"/tmp/we\\\"ird"
	    "\\nname\\\\:2\",table=\"deny\"} 1"));
	assert_true(has_line(text, "wrapd_rule_matches_unlisted_total 7"));
	assert_true(has_line(
	    text, "wrapd_lookups_total{kind=\"dns\",outcome=\"answered\"} 3"));
	assert_true(has_line(text,
	    "wrapd_lookups_total{kind=\"ident\",outcome=\"timed_out\"} 1"));
	/* The histogram: cumulative, +Inf is the count, the sum in s. */
	assert_true(
	    has_line(text, "# TYPE wrapd_lookup_duration_seconds histogram"));
	assert_true(has_line(text,
	    "wrapd_lookup_duration_seconds_bucket{kind=\"dns\",le=\"0.001\"} "
	    "2"));
	assert_true(has_line(text,
	    "wrapd_lookup_duration_seconds_bucket{kind=\"dns\",le=\"0.025\"} "
	    "2"));
	assert_true(has_line(text,
	    "wrapd_lookup_duration_seconds_bucket{kind=\"dns\",le=\"0.05\"} "
	    "3"));
	assert_true(has_line(text,
	    "wrapd_lookup_duration_seconds_bucket{kind=\"dns\",le=\"+Inf\"} "
	    "3"));
	assert_true(has_line(
	    text, "wrapd_lookup_duration_seconds_sum{kind=\"dns\"} 0.041"));
	assert_true(has_line(
	    text, "wrapd_lookup_duration_seconds_count{kind=\"dns\"} 3"));
	assert_true(has_line(text,
	    "wrapd_lookup_duration_seconds_bucket{kind=\"ident\",le=\"10\"} "
	    "0"));
	assert_true(has_line(
	    text, "wrapd_lookup_duration_seconds_sum{kind=\"ident\"} 30.000"));
	assert_true(has_line(
	    text, "wrapd_actions_total{action=\"spawn\",outcome=\"run\"} 5"));
	assert_true(has_line(text,
	    "wrapd_actions_total{action=\"mail\",outcome=\"skipped\"} 2"));
	assert_true(has_line(text, "wrapd_reloads_total{outcome=\"ok\"} 4"));
	/* Every line is a comment or a sample; every family has HELP. */
	for (const char *p = text; *p != '\0'; p = strchr(p, '\n') + 1) {
		assert_non_null(strchr(p, '\n'));
		assert_true(strncmp(p, "# HELP wrapd_", 13) == 0 ||
		    strncmp(p, "# TYPE wrapd_", 13) == 0 ||
		    strncmp(p, "wrapd_", 6) == 0);
	}
	free(text);
}

static void
test_counters(void **state)
{
	struct metrics *m = metrics_new(3);
	struct metrics_svc ms;
	struct metrics_svc_totals st;
	struct metrics_totals t;
	struct metrics_rule_count r[8];

	(void)state;
	assert_non_null(m);
	assert_int_equal(metrics_svc_init(&ms, 3), 0);
	/* Workers' slots are summed; a worker past them uses the first. */
	metrics_svc_bytes(&ms, 0, METRICS_CLIENT_TO_BACKEND, 5);
	metrics_svc_bytes(&ms, 2, METRICS_CLIENT_TO_BACKEND, 7);
	metrics_svc_bytes(&ms, 9, METRICS_BACKEND_TO_CLIENT, 1);
	metrics_count(&metrics_svc_slot(&ms, 1)->conns[METRICS_DENY], 1);
	metrics_svc_read(&ms, &st);
	assert_int_equal(st.bytes[METRICS_CLIENT_TO_BACKEND], 12);
	assert_int_equal(st.bytes[METRICS_BACKEND_TO_CLIENT], 1);
	assert_int_equal(st.conns[METRICS_DENY], 1);
	/* Look-ups: each bucket's upper bound is inclusive. */
	metrics_lookup(m, 0, METRICS_LOOKUP_DNS, METRICS_ANSWERED, 0);
	metrics_lookup(m, 1, METRICS_LOOKUP_DNS, METRICS_ANSWERED, 1);
	metrics_lookup(m, 1, METRICS_LOOKUP_DNS, METRICS_ANSWERED, 2);
	metrics_lookup(m, 2, METRICS_LOOKUP_IDENT, METRICS_TIMED_OUT, 10001);
	metrics_lookup(m, 2, METRICS_LOOKUP_IDENT, METRICS_SKIPPED, 0);
	metrics_action(m, 1, METRICS_ACTION_FINGER, false);
	metrics_reload(m, METRICS_RELOAD_FAILED);
	metrics_read(m, &t);
	assert_int_equal(t.lookups[METRICS_LOOKUP_DNS][METRICS_ANSWERED], 3);
	assert_int_equal(t.buckets[METRICS_LOOKUP_DNS][0], 2);
	assert_int_equal(t.buckets[METRICS_LOOKUP_DNS][1], 1);
	assert_int_equal(t.lookup_ms[METRICS_LOOKUP_DNS], 3);
	assert_int_equal(t.lookups[METRICS_LOOKUP_IDENT][METRICS_SKIPPED], 1);
	assert_int_equal(
	    t.buckets[METRICS_LOOKUP_IDENT][METRICS_NBUCKETS], 1); /* +Inf */
	assert_int_equal(t.actions[METRICS_ACTION_FINGER][1], 1);
	assert_int_equal(t.reloads[METRICS_RELOAD_FAILED], 1);
	/* Rules: one series per position, sorted. */
	metrics_rule_hit(m, "b", ACL_TABLE_DENY, "/d", 3);
	metrics_rule_hit(m, "a", ACL_TABLE_ALLOW, "/a", 12);
	metrics_rule_hit(m, "a", ACL_TABLE_ALLOW, "/a", 12);
	metrics_rule_hit(m, "a", ACL_TABLE_ALLOW, "/a", 2);
	assert_int_equal(metrics_rules_read(m, r, 8), 3);
	assert_string_equal(r[0].service, "a");
	assert_int_equal(r[0].line, 2);
	assert_int_equal(r[1].line, 12);
	assert_int_equal(r[1].hits, 2);
	assert_int_equal(r[1].table, ACL_TABLE_ALLOW);
	assert_string_equal(r[2].file, "/d");
	metrics_svc_free(&ms);
	metrics_free(m);
}

/* More positions than the table holds: every match is counted, listed
 * or not, and no more than METRICS_RULES_MAX are listed. */
static void
test_rules_bounded(void **state)
{
	struct metrics *m = metrics_new(1);
	struct metrics_rule_count *r = calloc(METRICS_RULES_MAX, sizeof(*r));
	struct metrics_totals t;
	uint64_t listed = 0;
	size_t n, i;
	unsigned line;

	(void)state;
	assert_non_null(m);
	assert_non_null(r);
	for (line = 1; line <= 3 * METRICS_RULES_MAX; line++)
		metrics_rule_hit(
		    m, "svc", ACL_TABLE_DENY, "/etc/hosts.deny", line);
	n = metrics_rules_read(m, r, METRICS_RULES_MAX);
	assert_true(n <= METRICS_RULES_MAX);
	assert_true(n >= METRICS_RULES_MAX / 2); /* the probes fill it well */
	for (i = 0; i < n; i++)
		listed += r[i].hits;
	metrics_read(m, &t);
	assert_int_equal(listed + t.rules_unlisted, 3 * METRICS_RULES_MAX);
	free(r);
	metrics_free(m);
}

#define THREADS 4
#define ROUNDS  20000

static void *
hit_thread(void *arg)
{
	struct metrics *m = arg;
	unsigned i;

	for (i = 0; i < ROUNDS; i++)
		metrics_rule_hit(m, "svc", ACL_TABLE_ALLOW, "/allow", i % 50);
	return NULL;
}

/* Threads racing for the same new series: each is created once and no
 * match is lost. */
static void
test_rules_threads(void **state)
{
	struct metrics *m = metrics_new(THREADS);
	struct metrics_rule_count r[64];
	pthread_t th[THREADS];
	uint64_t sum = 0;
	size_t n, i;

	(void)state;
	for (i = 0; i < THREADS; i++)
		assert_int_equal(
		    pthread_create(&th[i], NULL, hit_thread, m), 0);
	for (i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	n = metrics_rules_read(m, r, 64);
	assert_int_equal(n, 50);
	for (i = 0; i < n; i++) {
		assert_int_equal(r[i].line, i);
		assert_int_equal(r[i].hits, THREADS * ROUNDS / 50);
		sum += r[i].hits;
	}
	assert_int_equal(sum, THREADS * ROUNDS);
	metrics_free(m);
}

/* The status for text, whole (0: more wanted), and head. */
static int
http(const char *text, bool *head)
{
	struct metrics_http_req r;
	int rc = metrics_http_parse(text, strlen(text), &r);

	if (head != NULL)
		*head = r.head;
	if (rc == 0)
		return 0;
	assert_int_equal(rc, 1);
	if (r.status != 200)
		assert_non_null(r.why);
	return r.status;
}

static void
test_http(void **state)
{
	char big[METRICS_HTTP_HEAD_MAX + 10];
	struct metrics_http_req r;
	bool head = true;

	(void)state;
	assert_int_equal(http("GET /metrics HTTP/1.1\r\n\r\n", &head), 200);
	assert_false(head);
	assert_int_equal(http("HEAD /metrics HTTP/1.0\r\n\r\n", &head), 200);
	assert_true(head);
	assert_int_equal(http("GET / HTTP/1.0\n\n", NULL), 200);
	assert_int_equal(http("GET /metrics?x=1 HTTP/1.1\r\n"
	                      "Host: 127.0.0.1:9414\r\n"
	                      "Accept: text/plain;version=0.0.4;q=0.9\r\n"
	                      "User-Agent: Prometheus/2.42.0\r\n\r\n",
	                     NULL),
	    200);
	/* Empty lines before the request are skipped. */
	assert_int_equal(http("\r\n\nGET / HTTP/1.1\r\n\r\n", NULL), 200);
	/* Not yet a whole head: more. */
	assert_int_equal(http("", NULL), 0);
	assert_int_equal(http("\r", NULL), 0);
	assert_int_equal(http("G", NULL), 0);
	assert_int_equal(http("GET /metr", NULL), 0);
	assert_int_equal(http("GET /metrics HTTP/1.", NULL), 0);
	assert_int_equal(http("GET /metrics HTTP/1.1\r", NULL), 0);
	assert_int_equal(http("GET /metrics HTTP/1.1\r\nHost: x", NULL), 0);
	/* Routing. */
	assert_int_equal(http("GET /other HTTP/1.1\r\n\r\n", NULL), 404);
	assert_int_equal(http("GET /metrics/ HTTP/1.1\r\n\r\n", NULL), 404);
	assert_int_equal(http("GET /%6detrics HTTP/1.1\r\n\r\n", NULL), 404);
	assert_int_equal(http("POST /metrics HTTP/1.1\r\n\r\n", NULL), 405);
	assert_int_equal(http("get /metrics HTTP/1.1\r\n\r\n", NULL), 405);
	assert_int_equal(http("OPTIONS * HTTP/1.1\r\n\r\n", NULL), 405);
	assert_int_equal(
	    http("GET http://h/metrics HTTP/1.1\r\n\r\n", NULL), 400);
	/* Garbage is refused as soon as it shows, before any LF. */
	assert_int_equal(http("\x16\x03\x01\x02\x00", NULL), 400); /* TLS */
	assert_int_equal(http("GET  /", NULL), 400);
	assert_int_equal(http(" GET", NULL), 400);
	assert_int_equal(http("GET /\x7f", NULL), 400);
	assert_int_equal(http("GET / HTTP/2", NULL), 400);
	assert_int_equal(http("GET / http/1.1", NULL), 400);
	assert_int_equal(http("GET / HTTP/1.1x", NULL), 400);
	assert_int_equal(http("GET / HTTP/1.1\r\r", NULL), 400);
	assert_int_equal(http("GET /\r\n", NULL), 400);
	assert_int_equal(http("GET\r\n", NULL), 400);
	assert_int_equal(http("\r\r\n", NULL), 400);
	assert_int_equal(http("GETTTTTTTTTTTTTTTTTTTT /", NULL), 400);
	/* Field lines: a name and a colon, no control bytes, no folding. */
	assert_int_equal(http("GET / HTTP/1.1\r\nbad line\r\n\r\n", NULL), 400);
	assert_int_equal(http("GET / HTTP/1.1\r\n: x\r\n\r\n", NULL), 400);
	assert_int_equal(
	    http("GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", NULL), 400);
	assert_int_equal(http("GET / HTTP/1.1\r\nA: b\x01\r\n\r\n", NULL), 400);
	assert_int_equal(
	    http("GET / HTTP/1.1\r\nA:\tb \xc3\xa9\r\n\r\n", NULL), 200);
	/* A NUL anywhere in the request line is garbage. */
	assert_int_equal(metrics_http_parse("GET \0/", 6, &r), 1);
	assert_int_equal(r.status, 400);
	/* Too long: 431 at the bound, never reading past it. */
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /", 5);
	assert_int_equal(
	    metrics_http_parse(big, METRICS_HTTP_HEAD_MAX - 1, &r), 0);
	assert_int_equal(metrics_http_parse(big, METRICS_HTTP_HEAD_MAX, &r), 1);
	assert_int_equal(r.status, 431);
	assert_int_equal(metrics_http_parse(big, sizeof(big), &r), 1);
	assert_int_equal(r.status, 431);
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	assert_int_equal(metrics_http_parse(big, sizeof(big), &r), 1);
	assert_int_equal(r.status, 431);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escape),
	    cmocka_unit_test(test_render),
	    cmocka_unit_test(test_counters),
	    cmocka_unit_test(test_rules_bounded),
	    cmocka_unit_test(test_rules_threads),
	    cmocka_unit_test(test_http),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
