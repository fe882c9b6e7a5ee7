/*
 * test_conf_dump.c - conf_dump() writes the canonical YAML of a conf, and
 * loading that YAML gives back the same configuration.
 */
#include <stdbool.h>
#include <stdint.h>

#include "conf_test.h"

static void
test_golden_minimal(void **state)
{
	(void)state;
	struct wrapd_conf *c = load_ok(SVC);
	char *d = dump_conf(c);
	assert_string_equal(d,
	    "# t.yaml\n"
	    "rules:\n"
	    "  allow: \"/etc/hosts.allow\"\n"
	    "  deny: \"/etc/hosts.deny\"\n"
	    "user: null\n"
	    "workers: 0\n"
	    "control: \"/run/wrapd/control.sock\"\n"
	    "metrics: null\n"
	    "log:\n"
	    "  syslog: \"daemon\"\n"
	    "  stderr: true\n"
	    "  format: text\n"
	    "actions:\n"
	    "  max_running: 32\n"
	    "  per_source: 6/min\n"
	    "  mail_rate: 60/hour\n"
	    "  sendmail: \"/usr/sbin/sendmail\"\n"
	    "geoip:\n"
	    "  country: null\n"
	    "  asn: null\n"
	    "services:\n"
	    "  - name: \"s\"\n"
	    "    daemon: \"s\"\n"
	    "    listen: [\"127.0.0.1:1\"]\n"
	    "    backend: \"127.0.0.1:2\"\n"
	    "    proxy_protocol: off\n"
	    "    timeouts: { connect: 5s, idle: 10m, lookup: "
	    "5s, proxy_header: 5s, ftp_data: 30s }\n"
	    "    max_connections: 512\n"
	    "    per_source:\n"
	    "      connections: 64\n"
	    "    on_deny:\n"
	    "      reply: null\n"
	    "      finger: false\n"
	    "      mail: null\n"
	    "    user: null\n"
	    "    group: null\n"
	    "    transparent: false\n"
	    "    protocol: tcp\n");
	free(d);
	conf_free(c);
}

/* Load, dump, load the dump, dump again: both dumps are the same. */
static void
round_trip(struct wrapd_conf *c)
{
	char *d1 = dump_conf(c);
	struct wrapd_conf *c2 = conf_load_mem(c->path, d1, strlen(d1), NULL);
	if (c2 == NULL)
		fprintf(stderr, "dump does not load:\n%s", d1);
	assert_non_null(c2);
	char *d2 = dump_conf(c2);
	assert_string_equal(d1, d2);
	free(d1);
	free(d2);
	conf_free(c2);
}

static void
test_round_trip(void **state)
{
	(void)state;
	struct wrapd_conf *c = load_ok(
	    "rules: { allow: a/allow, deny: /d }\n"
	    "user: wrapd\nworkers: 4\n"
	    "log: { syslog: false, stderr: false, format: json }\n"
	    "actions: { max_running: 7, per_source: 3/45s, sendmail: /x }\n"
	    "geoip: { country: geo/c.mmdb, asn: /a.mmdb }\n"
	    "services:\n"
	    "  - name: ftp\n    daemon: in.ftpd\n"
	    "    listen: [\"0.0.0.0:21\", \"[::]:21\"]\n"
	    "    exec: [/usr/sbin/vsftpd, \"a \\\"b\\\"\", \"\"]\n"
	    "    timeouts: { connect: 250ms, idle: 0, lookup: 90 }\n"
	    "    max_connections: 1\n"
	    "  - name: smtp\n    listen: [systemd]\n"
	    "    backend: unix:/run/x.sock\n    proxy_protocol: v2\n"
	    "    on_deny: { reply: \"554 no\\r\\n\", finger: on, mail: root "
	    "}\n");
	round_trip(c);
	char *d = dump_conf(c);
	assert_non_null(strstr(d, "  per_source: 3/45s\n"));
	assert_non_null(strstr(d, "geo/c.mmdb\"\n  asn: \"/a.mmdb\"\n"));
	assert_non_null(strstr(d, "  syslog: false\n"));
	assert_non_null(strstr(d,
	    "timeouts: { connect: 250ms, idle: 0s, "
	    "lookup: 90s, proxy_header: 5s, ftp_data: 30s }"));
	assert_non_null(strstr(d,
	    "exec: [\"/usr/sbin/vsftpd\", \"a "
	    "\\\"b\\\"\", \"\"]\n"));
	free(d);
	conf_free(c);

	struct conf_errs e = {0};
	c = conf_load_file(WRAPD_SOURCE_DIR "/contrib/wrapd.yaml.example", &e);
	assert_non_null(c);
	round_trip(c);
	conf_free(c);
}

/* Every byte of a reply survives, through escapes where YAML needs them. */
static void
test_reply_escapes(void **state)
{
	(void)state;
	struct wrapd_conf *c = load_ok(
	    SVC "    on_deny:\n      reply: \"\\0\\r\\n\\t\\\"\\\\\\x01\\x7f"
	        "\\x80\\u0085\\u2028\\ufeff\\u00e9\\U0001f600 ok\"\n");
	const struct conf_on_deny *od = &c->services[0].on_deny;
	static const char want[] = "\0\r\n\t\"\\\x01\x7f\xc2\x80\xc2\x85"
	                           "\xe2\x80\xa8\xef\xbb\xbf\xc3\xa9"
	                           "\xf0\x9f\x98\x80 ok";
	assert_int_equal(od->reply_len, sizeof want - 1);
	assert_memory_equal(od->reply, want, sizeof want - 1);
	char *d = dump_conf(c);
	assert_non_null(strstr(d,
	    "reply: \"\\0\\r\\n\\t\\\"\\\\\\x01\\x7f\\x80"
	    "\\x85\\u2028\\ufeff\xc3\xa9\xf0\x9f\x98\x80"
	    " ok\"\n"));
	free(d);
	round_trip(c);
	conf_free(c);
}

/*
 * A reply set in quick mode may hold bytes that are not UTF-8; they come
 * out as \xNN (documented as the one lossy case) and the dump still loads.
 */
static void
test_quick_mode_dump(void **state)
{
	(void)state;
	struct wrapd_conf *c = conf_new();
	struct conf_service *s = conf_service_add(c, "q");
	assert_int_equal(conf_service_add_listen(s, "[::1]:9", NULL), 0);
	assert_int_equal(conf_parse_backend("127.0.0.1:10", s, NULL), 0);
	s->on_deny.reply = malloc(3);
	memcpy(s->on_deny.reply, "\xff\xc3\n", 3);
	s->on_deny.reply_len = 3;
	char *d = dump_conf(c);
	assert_null(strstr(d, "# ")); /* no file */
	assert_non_null(strstr(d, "reply: \"\\xff\\xc3\\n\"\n"));
	struct wrapd_conf *c2 = conf_load_mem("d.yaml", d, strlen(d), NULL);
	assert_non_null(c2);
	assert_int_equal(c2->services[0].on_deny.reply_len, 5);
	conf_free(c2);
	free(d);

	/* A stream that fails to write reports it. */
	FILE *ro = fopen("/dev/null", "r");
	assert_non_null(ro);
	assert_int_equal(conf_dump(c, ro), -1);
	fclose(ro);
	conf_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_golden_minimal),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_reply_escapes),
	    cmocka_unit_test(test_quick_mode_dump),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
