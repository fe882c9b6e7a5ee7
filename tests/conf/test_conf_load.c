/*
 * test_conf_load.c - YAML in, struct wrapd_conf or file:line:col errors out.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf_test.h"

/* The example from the configuration contract, every key set. */
static const char full_yaml[] =
    "rules: { allow: /etc/hosts.allow, deny: /etc/hosts.deny }\n"
    "user: wrapd\n"
    "workers: 3\n"
    "log: { syslog: local3, stderr: false, format: json }\n"
    "actions: { max_running: 7, per_source: 10/hour, sendmail: /bin/sm }\n"
    "services:\n"
    "  - name: ftp\n"
    "    daemon: in.ftpd\n"
    "    listen: [\"0.0.0.0:21\", \"[::]:21\"]\n"
    "    backend: \"127.0.0.1:2121\"\n"
    "    proxy_protocol: v2\n"
    "    timeouts: { connect: 250ms, idle: 0, lookup: 2m }\n"
    "    max_connections: 9\n"
    "    on_deny:\n"
    "      reply: \"421 4.7.0 Access denied\\r\\n\"\n"
    "      finger: true\n"
    "      mail: root\n"
    "  - name: finger\n"
    "    listen: [stdin]\n"
    "    exec: [\"/usr/sbin/in.fingerd\", \"-w\"]\n"
    "  - name: smtp\n"
    "    listen: [systemd]\n"
    "    backend: unix:/run/smtp.sock\n"
    "    proxy_protocol: v1\n";

static void
test_full(void **state)
{
	(void)state;
	struct wrapd_conf *c = load_ok(full_yaml);
	assert_string_equal(c->path, "t.yaml");
	assert_string_equal(c->allow_path, "/etc/hosts.allow");
	assert_string_equal(c->deny_path, "/etc/hosts.deny");
	assert_string_equal(c->user, "wrapd");
	assert_int_equal(c->workers, 3);
	assert_string_equal(c->syslog_facility, "local3");
	assert_false(c->log_stderr);
	assert_int_equal(c->log_format, CONF_LOG_JSON);
	assert_int_equal(c->actions.max_running, 7);
	assert_int_equal(c->actions.per_source_count, 10);
	assert_int_equal(c->actions.per_source_secs, 3600);
	assert_string_equal(c->actions.sendmail, "/bin/sm");
	assert_int_equal(c->nservices, 3);

	struct conf_service *s = &c->services[0];
	assert_string_equal(s->name, "ftp");
	assert_string_equal(s->daemon, "in.ftpd");
	assert_int_equal(s->line, 7);
	assert_int_equal(s->col, 5);
	assert_int_equal(s->nlisten, 2);
	assert_int_equal(s->listen[0].kind, CONF_LISTEN_ADDR);
	assert_string_equal(s->listen[0].text, "0.0.0.0:21");
	assert_string_equal(s->listen[0].host, "0.0.0.0");
	assert_int_equal(s->listen[0].port, 21);
	assert_int_equal(s->listen[0].line, 9);
	assert_int_equal(s->listen[0].col, 14);
	assert_string_equal(s->listen[1].text, "[::]:21");
	assert_string_equal(s->listen[1].host, "::");
	assert_int_equal(s->listen[1].port, 21);
	assert_int_equal(s->listen[1].col, 28);
	assert_int_equal(s->backend_kind, CONF_BACKEND_TCP);
	assert_string_equal(s->backend, "127.0.0.1:2121");
	assert_string_equal(s->backend_host, "127.0.0.1");
	assert_int_equal(s->backend_port, 2121);
	assert_null(s->exec_argv);
	assert_int_equal(s->proxy_protocol, CONF_PROXY_PROTOCOL_V2);
	assert_int_equal(s->connect_timeout_ms, 250);
	assert_int_equal(s->idle_timeout_ms, 0);
	assert_int_equal(s->lookup_timeout_ms, 120000);
	assert_int_equal(s->max_connections, 9);
	assert_int_equal(s->on_deny.reply_len, 25);
	assert_memory_equal(
	    s->on_deny.reply, "421 4.7.0 Access denied\r\n", 25);
	assert_true(s->on_deny.finger);
	assert_string_equal(s->on_deny.mail, "root");

	s = &c->services[1];
	assert_string_equal(s->name, "finger");
	assert_string_equal(s->daemon, "finger");
	assert_int_equal(s->nlisten, 1);
	assert_int_equal(s->listen[0].kind, CONF_LISTEN_STDIN);
	assert_null(s->listen[0].host);
	assert_int_equal(s->backend_kind, CONF_BACKEND_EXEC);
	assert_null(s->backend);
	assert_int_equal(s->exec_argc, 2);
	assert_string_equal(s->exec_argv[0], "/usr/sbin/in.fingerd");
	assert_string_equal(s->exec_argv[1], "-w");
	assert_null(s->exec_argv[2]);

	s = &c->services[2];
	assert_int_equal(s->listen[0].kind, CONF_LISTEN_SYSTEMD);
	assert_string_equal(s->listen[0].text, "systemd");
	assert_int_equal(s->backend_kind, CONF_BACKEND_UNIX);
	assert_string_equal(s->backend_host, "/run/smtp.sock");
	assert_int_equal(s->backend_port, 0);
	assert_int_equal(s->proxy_protocol, CONF_PROXY_PROTOCOL_V1);
	conf_free(c);
}

static void
check_top_defaults(const struct wrapd_conf *c)
{
	assert_string_equal(c->allow_path, "/etc/hosts.allow");
	assert_string_equal(c->deny_path, "/etc/hosts.deny");
	assert_null(c->user);
	assert_int_equal(c->workers, 0);
	assert_string_equal(c->syslog_facility, "daemon");
	assert_true(c->log_stderr);
	assert_int_equal(c->log_format, CONF_LOG_TEXT);
	assert_int_equal(c->actions.max_running, 32);
	assert_int_equal(c->actions.per_source_count, 6);
	assert_int_equal(c->actions.per_source_secs, 60);
	assert_string_equal(c->actions.sendmail, "/usr/sbin/sendmail");
}

static void
check_service_defaults(const struct conf_service *s)
{
	assert_string_equal(s->daemon, s->name);
	assert_int_equal(s->proxy_protocol, CONF_PROXY_PROTOCOL_NONE);
	assert_int_equal(s->connect_timeout_ms, 5000);
	assert_int_equal(s->idle_timeout_ms, 600000);
	assert_int_equal(s->lookup_timeout_ms, 5000);
	assert_int_equal(s->max_connections, 512);
	assert_null(s->on_deny.reply);
	assert_int_equal(s->on_deny.reply_len, 0);
	assert_false(s->on_deny.finger);
	assert_null(s->on_deny.mail);
}

static void
test_minimal_defaults(void **state)
{
	(void)state;
	struct wrapd_conf *c = load_ok(SVC);
	check_top_defaults(c);
	assert_int_equal(c->nservices, 1);
	check_service_defaults(&c->services[0]);
	assert_string_equal(c->services[0].daemon, "s");
	conf_free(c);

	/* Empty mappings and null mappings mean "all defaults" too. */
	c = load_ok("rules: {}\nlog:\nactions: {}\n" SVC
	            "    timeouts: {}\n    on_deny:\n");
	check_top_defaults(c);
	check_service_defaults(&c->services[0]);
	conf_free(c);
}

static void
test_conf_new_defaults(void **state)
{
	(void)state;
	struct wrapd_conf *c = conf_new();
	assert_non_null(c);
	check_top_defaults(c);
	assert_null(c->path);
	assert_int_equal(c->nservices, 0);
	struct conf_service *s = conf_service_add(c, "ssh");
	assert_non_null(s);
	assert_string_equal(s->name, "ssh");
	check_service_defaults(s);
	assert_int_equal(s->line, 0);
	conf_free(c);
	conf_free(NULL);
}

static void
test_durations(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		uint64_t ms;
	} good[] = {
	    {"5s", 5000},
	    {"600s", 600000},
	    {"250ms", 250},
	    {"2m", 120000},
	    {"1h", 3600000},
	    {"30", 30000},
	    {"\"45\"", 45000},
	    {"0", 0},
	    {"720h", 720 * 3600000ULL},
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		char y[512];
		snprintf(y, sizeof y, SVC "    timeouts: { idle: %s }\n",
		    good[i].text);
		struct wrapd_conf *c = load_ok(y);
		assert_int_equal(c->services[0].idle_timeout_ms, good[i].ms);
		conf_free(c);
	}
	EXPECT_ERRS(SVC "    timeouts: { idle: 5x }\n",
	    "t.yaml:5:23: timeouts.idle: bad duration \"5x\"");
	EXPECT_ERRS(SVC "    timeouts: { idle: 1.5s }\n",
	    "t.yaml:5:23: bad duration \"1.5s\"");
	EXPECT_ERRS(SVC "    timeouts: { idle: -1 }\n",
	    "t.yaml:5:23: bad duration \"-1\"");
	EXPECT_ERRS(SVC "    timeouts: { idle: \"5 s\" }\n",
	    "t.yaml:5:23: bad duration \"5 s\"");
	EXPECT_ERRS(SVC "    timeouts: { idle: \"\" }\n",
	    "t.yaml:5:23: bad duration \"\"");
	EXPECT_ERRS(SVC "    timeouts: { idle: 721h }\n",
	    "t.yaml:5:23: timeouts.idle: \"721h\" is out of range (0s to "
	    "720h)");
	EXPECT_ERRS(SVC "    timeouts: { connect: 0 }\n",
	    "t.yaml:5:26: timeouts.connect: \"0\" is out of range (1ms to 1h); "
	    "0 is not allowed here");
	EXPECT_ERRS(SVC "    timeouts: { lookup: 0s }\n",
	    "t.yaml:5:25: timeouts.lookup: \"0s\" is out of range");
	EXPECT_ERRS(SVC "    timeouts: { connect: 99999999999999999999h }\n",
	    "t.yaml:5:26: bad duration");
	EXPECT_ERRS(SVC "    timeouts: { idle: null }\n",
	    "t.yaml:5:23: timeouts.idle: expected a duration, got null");
}

static void
test_rates(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		unsigned n, secs;
	} good[] = {
	    {"6/min", 6, 60},
	    {"10/sec", 10, 1},
	    {"100/hour", 100, 3600},
	    {"6/30s", 6, 30},
	    {"1/2m", 1, 120},
	    {"5/s", 5, 1},
	    {"3/minute", 3, 60},
	    {"1000000/24h", 1000000, 86400},
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		char y[512];
		snprintf(y, sizeof y, "actions: { per_source: %s }\n" SVC,
		    good[i].text);
		struct wrapd_conf *c = load_ok(y);
		assert_int_equal(c->actions.per_source_count, good[i].n);
		assert_int_equal(c->actions.per_source_secs, good[i].secs);
		conf_free(c);
	}
	static const char *const bad[] = {"6", "0/min", "6/0s", "6/500ms",
	    "6/fortnight", "a/min", "6/25h", "1000001/min", "/min", "6/"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char y[512], w[128];
		snprintf(y, sizeof y, "actions: { per_source: \"%s\" }\n" SVC,
		    bad[i]);
		snprintf(w, sizeof w,
		    "t.yaml:1:24: actions.per_source: bad rate \"%s\"", bad[i]);
		EXPECT_ERRS(y, w);
	}
}

static void
test_log(void **state)
{
	(void)state;
	static const char *const fac[] = {"kern", "user", "mail", "daemon",
	    "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp",
	    "local0", "local7", "\"local5\""};
	for (size_t i = 0; i < sizeof fac / sizeof fac[0]; i++) {
		char y[512];
		snprintf(y, sizeof y, "log: { syslog: %s }\n" SVC, fac[i]);
		struct wrapd_conf *c = load_ok(y);
		assert_non_null(c->syslog_facility);
		assert_non_null(strstr(fac[i], c->syslog_facility));
		conf_free(c);
	}
	static const char *const off[] = {"false", "null", "~", "no", ""};
	for (size_t i = 0; i < sizeof off / sizeof off[0]; i++) {
		char y[512];
		snprintf(y, sizeof y, "log:\n  syslog: %s\n" SVC, off[i]);
		struct wrapd_conf *c = load_ok(y);
		assert_null(c->syslog_facility);
		conf_free(c);
	}
	EXPECT_ERRS("log: { syslog: true }\n" SVC,
	    "t.yaml:1:16: log.syslog: unknown syslog facility \"true\"");
	EXPECT_ERRS("log: { syslog: local8 }\n" SVC,
	    "t.yaml:1:16: unknown syslog facility \"local8\"");
	EXPECT_ERRS("log: { syslog: \"false\" }\n" SVC,
	    "t.yaml:1:16: unknown syslog facility \"false\"");
	EXPECT_ERRS("log: { format: xml }\n" SVC,
	    "t.yaml:1:16: log.format: expected text or json, got \"xml\"");
	EXPECT_ERRS("log: { format: [text] }\n" SVC,
	    "t.yaml:1:16: log.format: expected text or json, got a list");
}

static void
test_bools(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		bool v;
	} good[] = {{"true", true}, {"false", false}, {"yes", true},
	    {"no", false}, {"on", true}, {"off", false}, {"True", true},
	    {"FALSE", false}};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		char y[512];
		snprintf(y, sizeof y,
		    "log: { stderr: %s }\n" SVC "    on_deny: { finger: %s }\n",
		    good[i].text, good[i].text);
		struct wrapd_conf *c = load_ok(y);
		assert_int_equal(c->log_stderr, good[i].v);
		assert_int_equal(c->services[0].on_deny.finger, good[i].v);
		conf_free(c);
	}
	EXPECT_ERRS("log: { stderr: \"true\" }\n" SVC,
	    "t.yaml:1:16: log.stderr: expected true or false, got \"true\" "
	    "(quoted: a string)");
	EXPECT_ERRS("log: { stderr: 1 }\n" SVC,
	    "t.yaml:1:16: log.stderr: expected true or false, got \"1\"");
	EXPECT_ERRS("log: { stderr: }\n" SVC,
	    "t.yaml:1:16: log.stderr: expected true or false, got null");
	EXPECT_ERRS(SVC "    on_deny: { finger: {} }\n",
	    "t.yaml:5:24: on_deny.finger: expected true or false, got a "
	    "mapping");
}

static void
test_numbers(void **state)
{
	(void)state;
	struct wrapd_conf *c =
	    load_ok("workers: 256\n" SVC "    max_connections: 1000000\n");
	assert_int_equal(c->workers, 256);
	assert_int_equal(c->services[0].max_connections, 1000000);
	conf_free(c);
	c = load_ok(
	    "actions: { max_running: \"1\" }\n" SVC "    max_connections: 1\n");
	assert_int_equal(c->actions.max_running, 1);
	assert_int_equal(c->services[0].max_connections, 1);
	conf_free(c);

	EXPECT_ERRS("workers: 257\n" SVC,
	    "t.yaml:1:10: workers: expected a whole number from 0 to 256, "
	    "got \"257\"");
	EXPECT_ERRS("workers: -1\n" SVC, "t.yaml:1:10: workers: expected");
	EXPECT_ERRS("actions: { max_running: 0 }\n" SVC,
	    "t.yaml:1:25: actions.max_running: expected a whole number from 1 "
	    "to 4096, got \"0\"");
	EXPECT_ERRS(SVC "    max_connections: 0\n",
	    "t.yaml:5:22: max_connections: expected a whole number from 1 to "
	    "1000000, got \"0\"");
	EXPECT_ERRS(
	    SVC "    max_connections: 0x10\n", "t.yaml:5:22: got \"0x10\"");
	EXPECT_ERRS(
	    SVC "    max_connections: 1_000\n", "t.yaml:5:22: got \"1_000\"");
	EXPECT_ERRS(SVC "    max_connections: 99999999999999999999999\n",
	    "t.yaml:5:22: max_connections: expected a whole number");
	EXPECT_ERRS(
	    SVC "    max_connections: 5.0\n", "t.yaml:5:22: got \"5.0\"");
}

static void
test_unknown_keys(void **state)
{
	(void)state;
	EXPECT_ERRS("bogus: 1\n" SVC,
	    "t.yaml:1:1: unknown key \"bogus\" at the top level (valid keys: "
	    "rules, user, workers, log, actions, services, geoip, control, "
	    "metrics)");
	EXPECT_ERRS("rules: { allow: /a, denny: /b }\n" SVC,
	    "t.yaml:1:21: unknown key \"denny\" in rules; did you mean "
	    "\"deny\"? (valid keys: allow, deny)");
	EXPECT_ERRS("log: { level: 3 }\n" SVC,
	    "t.yaml:1:8: unknown key \"level\" in log (valid keys: syslog, "
	    "stderr, format)");
	EXPECT_ERRS("actions: { max: 3 }\n" SVC,
	    "t.yaml:1:12: unknown key \"max\" in actions (valid keys: "
	    "max_running, per_source, sendmail, mail_rate)");
	EXPECT_ERRS(SVC "    idle: 5s\n",
	    "t.yaml:5:5: unknown key \"idle\" in a service; did you mean "
	    "\"timeouts.idle\"? (valid keys: name, "
	    "daemon, listen, backend, exec, proxy_protocol, timeouts, "
	    "max_connections, per_source, on_deny, user, group, ban, "
	    "access_times, transparent, accept_proxy_from, protocol)");
	EXPECT_ERRS(SVC "    timeouts: { connect: 1s, read: 2s }\n",
	    "t.yaml:5:30: unknown key \"read\" in timeouts (valid keys: "
	    "connect, idle, lookup, proxy_header, ftp_data)");
	EXPECT_ERRS(SVC "    on_deny:\n      banner: x\n",
	    "t.yaml:6:7: unknown key \"banner\" in on_deny (valid keys: reply, "
	    "finger, mail)");
	/* Case and one typo are caught; short keys need a closer match. */
	EXPECT_ERRS("log: { Stderr: true }\n" SVC,
	    "t.yaml:1:8: unknown key \"Stderr\" in log; did you mean "
	    "\"stderr\"?");
	EXPECT_ERRS(SVC "    max_connection: 5\n",
	    "t.yaml:5:5: did you mean \"max_connections\"?");
	/* Keys are matched whole: a dotted key is not a path. */
	EXPECT_ERRS("\"log.stderr\": false\n" SVC,
	    "t.yaml:1:1: unknown key \"log.stderr\" at the top level");
	/* Quotes and backslashes in a key are escaped in the message. */
	EXPECT_ERRS(
	    "'a\"b\\c': 1\n" SVC, "t.yaml:1:1: unknown key \"a\\\"b\\\\c\"");
	/* Control bytes in a key are escaped in the message. */
	EXPECT_ERRS(
	    "\"a\\tb\": 1\n" SVC, "t.yaml:1:1: unknown key \"a\\x09b\"");
	EXPECT_ERRS(
	    "[a]: 1\n" SVC, "t.yaml:1:1: expected a key name, got a list");
}

static void
test_duplicates(void **state)
{
	(void)state;
	EXPECT_ERRS("user: a\nuser: b\n" SVC,
	    "t.yaml:2:1: duplicate key \"user\" (first at line 1, column 1)");
	EXPECT_ERRS("log: { stderr: true, stderr: false }\n" SVC,
	    "t.yaml:1:22: duplicate key \"stderr\" (first at line 1, column "
	    "8)");
	EXPECT_ERRS(SVC "    backend: \"127.0.0.1:3\"\n",
	    "t.yaml:5:5: duplicate key \"backend\" (first at line 4, column "
	    "5)");
	EXPECT_ERRS(SVC SVC,
	    "t.yaml:5:1: duplicate key \"services\" (first at line 1, column "
	    "1)");
	/* The same key in two different mappings is fine. */
	struct wrapd_conf *c = load_ok(SVC "  - name: t\n    listen: "
	                                   "[\"127.0.0.1:3\"]\n    backend: "
	                                   "\"127.0.0.1:2\"\n");
	assert_int_equal(c->nservices, 2);
	conf_free(c);
}

static void
test_wrong_types(void **state)
{
	(void)state;
	EXPECT_ERRS("services: ftp\n",
	    "t.yaml:1:11: services: expected a list of services, got a string");
	EXPECT_ERRS("services: { name: ftp }\n",
	    "t.yaml:1:11: services: expected a list of services, got a "
	    "mapping");
	EXPECT_ERRS(
	    "services: []\n", "t.yaml:1:11: services: the list is empty");
	EXPECT_ERRS("services: [ftp]\n",
	    "t.yaml:1:12: services: expected a mapping for each service, got "
	    "a string");
	EXPECT_ERRS("log: [a]\n" SVC,
	    "t.yaml:1:6: log: expected a mapping, got a list");
	EXPECT_ERRS("rules: /etc/hosts.allow\n" SVC,
	    "t.yaml:1:8: rules: expected a mapping, got a string");
	EXPECT_ERRS("user: [a]\n" SVC,
	    "t.yaml:1:7: user: expected a user name, got a list");
	EXPECT_ERRS(SVC "    listen: \"127.0.0.1:1\"\n",
	    "t.yaml:5:5: duplicate key \"listen\"");
	EXPECT_ERRS("services:\n  - name: s\n    listen: \"127.0.0.1:1\"\n"
	            "    backend: \"127.0.0.1:2\"\n",
	    "t.yaml:3:13: listen: expected a list such as");
	EXPECT_ERRS("services:\n  - name: s\n    listen: []\n"
	            "    backend: \"127.0.0.1:2\"\n",
	    "t.yaml:3:13: listen: the list is empty");
	EXPECT_ERRS("services:\n  - name: [s]\n    listen: [stdin]\n"
	            "    backend: \"127.0.0.1:2\"\n",
	    "t.yaml:2:11: name: expected a service name, got a list");
	EXPECT_ERRS(SVC "    on_deny: { reply: [a] }\n",
	    "t.yaml:5:23: on_deny.reply: expected a string, got a list");
	EXPECT_ERRS(SVC "    timeouts: 5s\n",
	    "t.yaml:5:15: timeouts: expected a mapping, got a string");
	EXPECT_ERRS("- a\n- b\n",
	    "t.yaml:1:1: expected a mapping of keys (such as \"services:\") at "
	    "the top level, got a list");
	EXPECT_ERRS("hello\n",
	    "t.yaml:1:1: expected a mapping of keys (such as \"services:\") at "
	    "the top level, got a string");
}

static void
test_required(void **state)
{
	(void)state;
	EXPECT_ERRS("",
	    "t.yaml:1:1: missing required key \"services\" at the "
	    "top level");
	EXPECT_ERRS("# only a comment\n",
	    "t.yaml:1:1: missing required key \"services\"");
	EXPECT_ERRS("---\n...\n", "t.yaml:1:1: missing required key");
	EXPECT_ERRS("user: x\n",
	    "t.yaml:1:1: missing required key \"services\" at the top level");
	EXPECT_ERRS("services:\n  - listen: [stdin]\n    exec: [/bin/cat]\n",
	    "t.yaml:2:5: missing required key \"name\" in a service");
	EXPECT_ERRS("services:\n  - name: a\n    exec: [/bin/cat]\n",
	    "t.yaml:2:5: missing required key \"listen\" in a service");
	EXPECT_ERRS("services:\n  - name: a\n    listen: [stdin]\n",
	    "t.yaml:2:5: missing \"backend\" or \"exec\": a service needs one");
	EXPECT_ERRS(SVC "    exec: [/bin/cat]\n",
	    "t.yaml:5:5: a service has either \"backend\" or \"exec\", not "
	    "both");
	EXPECT_ERRS("services:\n  - name: a\n    exec: [/bin/cat]\n"
	            "    listen: [stdin]\n    backend: 127.0.0.1:5\n",
	    "t.yaml:5:5: a service has either \"backend\" or \"exec\", not "
	    "both");
}

static void
test_listen_forms(void **state)
{
	(void)state;
	struct wrapd_conf *c = load_ok(
	    "services:\n  - name: a\n    listen: [\"192.0.2.1:65535\", "
	    "\"[2001:db8::1]:1\", \"[::ffff:192.0.2.1]:7\", 127.0.0.1:08]\n"
	    "    backend: \"[::1]:25\"\n");
	struct conf_service *s = &c->services[0];
	assert_int_equal(s->nlisten, 4);
	assert_string_equal(s->listen[0].host, "192.0.2.1");
	assert_int_equal(s->listen[0].port, 65535);
	assert_string_equal(s->listen[1].host, "2001:db8::1");
	assert_string_equal(s->listen[2].host, "::ffff:192.0.2.1");
	assert_int_equal(s->listen[3].port, 8);
	assert_string_equal(s->backend_host, "::1");
	assert_int_equal(s->backend_port, 25);
	conf_free(c);

	static const struct {
		const char *listen, *msg;
	} bad[] = {
	    {"::1:21",
	        "IPv6 addresses must be written in brackets: "
	        "\"[::1]:21\""},
	    {"2001:db8::1",
	        "missing port; IPv6 addresses must be written in "
	        "brackets, as in \"[2001:db8::1]:PORT\""},
	    {"::", "missing port; IPv6 addresses must be written in brackets"},
	    {"localhost:21",
	        "\"localhost\" is not a numeric address; host "
	        "names are not allowed"},
	    {"ftp.example.org:21", "\"ftp.example.org\" is not a numeric"},
	    {"21", "missing address: write \"0.0.0.0:21\" or \"[::]:21\""},
	    {":21", "missing address before the port"},
	    {"[]:21", "missing address before the port"},
	    {"1.2.3.4", "missing \":PORT\""},
	    {"1.2.3.4:", "bad port \"\""},
	    {"1.2.3.4:0", "bad port \"0\""},
	    {"1.2.3.4:65536", "bad port \"65536\""},
	    {"1.2.3.4:+1", "bad port \"+1\""},
	    {"1.2.3.4:ftp", "bad port \"ftp\""},
	    {"1.2.3:21", "\"1.2.3\" is not a valid IPv4 address"},
	    {"256.1.1.1:21", "\"256.1.1.1\" is not a valid IPv4 address"},
	    {"[::1]", "expected \":PORT\" after ']'"},
	    {"[::1:21", "missing ']'"},
	    {"[1.2.3.4]:21", "\"1.2.3.4\" is not a numeric IPv6 address"},
	    {"[fe80::1%eth0]:21", "IPv6 zone indexes (%) are not supported"},
	    {"[::1]:21x", "bad port \"21x\""},
	    {"Systemd", "missing \":PORT\""},
	    {"", "empty listen address"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char y[512], w[256];
		snprintf(y, sizeof y,
		    "services:\n  - name: a\n    listen: [\"%s\"]\n"
		    "    backend: \"127.0.0.1:1\"\n",
		    bad[i].listen);
		snprintf(w, sizeof w, "t.yaml:3:14: listen \"%s\": %s",
		    bad[i].listen, bad[i].msg);
		EXPECT_ERRS(y, w);
	}
	EXPECT_ERRS("services:\n  - name: a\n    listen: [~]\n"
	            "    backend: \"127.0.0.1:1\"\n",
	    "t.yaml:3:14: listen: expected a list of addresses, got null");
	EXPECT_ERRS("services:\n  - name: a\n    listen: [\"a\\0b:1\"]\n"
	            "    backend: \"127.0.0.1:1\"\n",
	    "t.yaml:3:14: listen: contains a NUL byte");
}

static void
test_listen_cross(void **state)
{
	(void)state;
	/* "systemd" and "stdin" stand alone in their service's list. */
	EXPECT_ERRS("services:\n  - name: a\n    listen: [systemd, "
	            "\"0.0.0.0:1\"]\n    backend: \"127.0.0.1:1\"\n",
	    "t.yaml:3:14: service \"a\": \"systemd\" must be the only listen "
	    "entry of its service");
	EXPECT_ERRS("services:\n  - name: a\n    listen: [systemd, stdin]\n"
	            "    backend: \"127.0.0.1:1\"\n",
	    "t.yaml:3:14: \"systemd\" must be the only listen entry",
	    "t.yaml:3:23: \"stdin\" must be the only listen entry");
	/* Two services on stdin cannot both own fd 0. */
	EXPECT_ERRS("services:\n"
	            "  - name: a\n    listen: [stdin]\n    exec: [/bin/cat]\n"
	            "  - name: b\n    listen: [stdin]\n    exec: [/bin/cat]\n",
	    "t.yaml:6:14: service \"b\": only one service can listen on stdin "
	    "(service \"a\" does)");
	/* systemd may serve several services; wrapd(8) maps the sockets. */
	struct wrapd_conf *c = load_ok(
	    "services:\n"
	    "  - name: a\n    listen: [systemd]\n    exec: [/bin/cat]\n"
	    "  - name: b\n    listen: [systemd]\n    exec: [/bin/cat]\n");
	conf_free(c);
	/* Listen addresses are unique, compared as addresses. */
	EXPECT_ERRS("services:\n"
	            "  - name: a\n    listen: [\"0.0.0.0:21\"]\n"
	            "    exec: [/bin/cat]\n"
	            "  - name: b\n    listen: [\"[::1]:5\", \"[0::0:1]:5\", "
	            "\"0.0.0.0:021\"]\n    exec: [/bin/cat]\n",
	    "t.yaml:6:25: listen address \"[0::0:1]:5\" is already used by "
	    "service \"b\" (line 6, column 14)",
	    "t.yaml:6:39: listen address \"0.0.0.0:021\" is already used by "
	    "service \"a\" (line 3, column 14)");
	/* Three of a kind: each later one names the first. */
	EXPECT_ERRS("services:\n"
	            "  - name: a\n    listen: [\"[::1]:5\", \"[::1]:5\", "
	            "\"[::1]:5\"]\n    exec: [/bin/cat]\n",
	    "t.yaml:3:25: listen address \"[::1]:5\" is already used by "
	    "service \"a\" (line 3, column 14)",
	    "t.yaml:3:36: listen address \"[::1]:5\" is already used by "
	    "service \"a\" (line 3, column 14)");
	/* Same address, different ports or families: fine. */
	c = load_ok("services:\n"
	            "  - name: a\n    listen: [\"0.0.0.0:21\", \"[::]:21\"]\n"
	            "    exec: [/bin/cat]\n"
	            "  - name: b\n    listen: [\"0.0.0.0:22\"]\n"
	            "    exec: [/bin/cat]\n");
	conf_free(c);
	EXPECT_ERRS("services:\n"
	            "  - name: a\n    listen: [\"0.0.0.0:21\"]\n"
	            "    exec: [/bin/cat]\n"
	            "  - name: a\n    listen: [\"0.0.0.0:22\"]\n"
	            "    exec: [/bin/cat]\n",
	    "t.yaml:5:5: duplicate service name \"a\" (first at line 2)");
}

static void
test_backend_forms(void **state)
{
	(void)state;
	static const struct {
		const char *backend, *msg;
	} bad[] = {
	    {"unix:run/x.sock", "the UNIX socket path must be absolute"},
	    {"unix:", "the UNIX socket path must be absolute"},
	    {"0.0.0.0:25", "cannot connect to the unspecified address"},
	    {"[::]:25", "cannot connect to the unspecified address"},
	    {"localhost:25",
	        "\"localhost\" is not a numeric address; host "
	        "names are not allowed"},
	    {"127.0.0.1", "missing \":PORT\""},
	    {"::1:25", "IPv6 addresses must be written in brackets"},
	    {"systemd", "missing \":PORT\""},
	    {"", "empty backend"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char y[512], w[256];
		snprintf(y, sizeof y,
		    "services:\n  - name: a\n    listen: [stdin]\n"
		    "    backend: \"%s\"\n",
		    bad[i].backend);
		snprintf(w, sizeof w, "t.yaml:4:14: backend \"%s\": %s",
		    bad[i].backend, bad[i].msg);
		EXPECT_ERRS(y, w);
	}
	char path[200], y[512];
	memset(path, 'x', sizeof path);
	path[0] = '/';
	path[108] = '\0'; /* 108 bytes: one more than sun_path can hold */
	snprintf(y, sizeof y,
	    "services:\n  - name: a\n    listen: [stdin]\n"
	    "    backend: unix:%s\n",
	    path);
	EXPECT_ERRS(y, "t.yaml:4:14: longer than 107 bytes");
	path[107] = '\0';
	snprintf(y, sizeof y,
	    "services:\n  - name: a\n    listen: [stdin]\n"
	    "    backend: unix:%s\n",
	    path);
	struct wrapd_conf *c = load_ok(y);
	assert_string_equal(c->services[0].backend_host, path);
	conf_free(c);
	EXPECT_ERRS("services:\n  - name: a\n    listen: [stdin]\n"
	            "    backend: [\"127.0.0.1:1\"]\n",
	    "t.yaml:4:14: backend: expected ADDR:PORT or unix:PATH, got a "
	    "list");
}

static void
test_exec(void **state)
{
	(void)state;
	EXPECT_ERRS("services:\n  - name: a\n    listen: [stdin]\n"
	            "    exec: [in.fingerd, -w]\n",
	    "t.yaml:4:12: exec: the program \"in.fingerd\" must be an absolute "
	    "path");
	EXPECT_ERRS("services:\n  - name: a\n    listen: [stdin]\n"
	            "    exec: []\n",
	    "t.yaml:4:11: exec: the list is empty");
	EXPECT_ERRS("services:\n  - name: a\n    listen: [stdin]\n"
	            "    exec: /bin/cat\n",
	    "t.yaml:4:11: exec: expected a list such as");
	EXPECT_ERRS("services:\n  - name: a\n    listen: [stdin]\n"
	            "    exec: [/bin/cat, {a: 1}, ~]\n",
	    "t.yaml:4:22: exec: expected a list of program and arguments, got "
	    "a mapping",
	    "t.yaml:4:30: got null");
	EXPECT_ERRS("services:\n  - name: a\n    listen: [stdin]\n"
	            "    exec: [/bin/cat]\n    proxy_protocol: v1\n",
	    "t.yaml:2:5: service \"a\": proxy_protocol is for a backend, not "
	    "for exec");
	/* Numbers and empty strings are ordinary arguments. */
	struct wrapd_conf *c = load_ok("services:\n  - name: a\n"
	                               "    listen: [stdin]\n"
	                               "    exec: [/bin/sleep, 5, \"\"]\n");
	assert_int_equal(c->services[0].exec_argc, 3);
	assert_string_equal(c->services[0].exec_argv[1], "5");
	assert_string_equal(c->services[0].exec_argv[2], "");
	conf_free(c);
}

/* services[].user and group: checked and resolved to ids at load. */
static void
test_exec_account(void **state)
{
	(void)state;
	struct wrapd_conf *c = load_ok("services:\n  - name: a\n"
	                               "    listen: [stdin]\n"
	                               "    exec: [/bin/cat]\n"
	                               "    user: nobody\n");
	assert_true(c->services[0].has_uid);
	assert_true(c->services[0].has_gid);
	assert_int_equal(c->services[0].uid, 65534);
	assert_int_equal(c->services[0].gid, 65534); /* nobody's: nogroup */
	conf_free(c);
	c = load_ok("services:\n  - name: a\n    listen: [stdin]\n"
	            "    exec: [/bin/cat]\n    user: nobody\n"
	            "    group: daemon\n");
	assert_int_equal(c->services[0].uid, 65534);
	assert_int_equal(c->services[0].gid, 1);
	conf_free(c);
	c = load_ok(SVC);
	assert_false(c->services[0].has_uid);
	assert_false(c->services[0].has_gid);
	conf_free(c);
	EXPECT_ERRS("services:\n  - name: a\n    listen: [stdin]\n"
	            "    exec: [/bin/cat]\n    user: wrapd-no-such-user\n",
	    "t.yaml:5:11: user \"wrapd-no-such-user\": no such user");
	EXPECT_ERRS("services:\n  - name: a\n    listen: [stdin]\n"
	            "    exec: [/bin/cat]\n    user: nobody\n"
	            "    group: wrapd-no-such-group\n",
	    "t.yaml:6:12: group \"wrapd-no-such-group\": no such group");
	EXPECT_ERRS("services:\n  - name: a\n    listen: [stdin]\n"
	            "    exec: [/bin/cat]\n    user: \"-x\"\n",
	    "t.yaml:5:11: user \"-x\": must not start with '-'");
	EXPECT_ERRS("services:\n  - name: a\n    listen: [stdin]\n"
	            "    exec: [/bin/cat]\n    group: daemon\n",
	    "t.yaml:2:5: service \"a\": group \"daemon\" needs a user");
	/* wrapd dropping to one account cannot run programs as another. */
	EXPECT_ERRS("user: daemon\nservices:\n  - name: a\n"
	            "    listen: [stdin]\n"
	            "    exec: [/bin/cat]\n    user: nobody\n",
	    "t.yaml:3:5: service \"a\": its programs run as user "
	    "\"nobody\", but wrapd itself drops to user \"daemon\"");
	c = load_ok("user: nobody\nservices:\n  - name: a\n"
	            "    listen: [stdin]\n"
	            "    exec: [/bin/cat]\n    user: nobody\n");
	conf_free(c);
}

static void
test_on_deny(void **state)
{
	(void)state;
	/* The reply keeps its exact bytes, NUL and CR LF included. */
	struct wrapd_conf *c = load_ok(SVC "    on_deny: { reply: "
	                                   "\"a\\0b\\r\\n\\x7f\\u00e9\" }\n");
	assert_int_equal(c->services[0].on_deny.reply_len, 8);
	assert_memory_equal(
	    c->services[0].on_deny.reply, "a\0b\r\n\x7f\xc3\xa9", 8);
	conf_free(c);
	c = load_ok(SVC "    on_deny:\n      reply: |\n        220 go away\n"
	                "        bye\n");
	assert_string_equal(c->services[0].on_deny.reply, "220 go away\nbye\n");
	conf_free(c);
	c = load_ok(SVC "    on_deny: { reply: ~, mail: null }\n");
	assert_null(c->services[0].on_deny.reply);
	assert_null(c->services[0].on_deny.mail);
	conf_free(c);
	c = load_ok(SVC "    on_deny: { mail: \"ops+wrapd@example.org\" }\n");
	assert_string_equal(
	    c->services[0].on_deny.mail, "ops+wrapd@example.org");
	conf_free(c);

	char big[5000], y[6000];
	memset(big, 'x', 4097);
	big[4097] = '\0';
	snprintf(y, sizeof y, SVC "    on_deny: { reply: %s }\n", big);
	EXPECT_ERRS(y, "t.yaml:5:23: on_deny.reply: longer than 4096 bytes");
	EXPECT_ERRS(SVC "    on_deny: { mail: \"-oi\" }\n",
	    "t.yaml:5:22: on_deny.mail \"-oi\": must not start with '-'");
	EXPECT_ERRS(SVC "    on_deny: { mail: \"root, admin\" }\n",
	    "t.yaml:5:22: on_deny.mail \"root, admin\": may contain only");
	EXPECT_ERRS(SVC "    on_deny: { mail: \"root\\nBcc: x\" }\n",
	    "t.yaml:5:22: on_deny.mail \"root\\x0aBcc: x\": may contain only");
}

static void
test_names(void **state)
{
	(void)state;
	struct wrapd_conf *c = load_ok("services:\n  - name: A.b_c-9\n"
	                               "    daemon: in.ftpd\n"
	                               "    listen: [stdin]\n"
	                               "    exec: [/bin/cat]\n");
	assert_string_equal(c->services[0].name, "A.b_c-9");
	assert_string_equal(c->services[0].daemon, "in.ftpd");
	conf_free(c);
	EXPECT_ERRS("services:\n  - name: \"f tp\"\n    listen: [stdin]\n"
	            "    exec: [/bin/cat]\n",
	    "t.yaml:2:11: name \"f tp\": may contain only letters, digits");
	EXPECT_ERRS("services:\n  - name: \"\"\n    listen: [stdin]\n"
	            "    exec: [/bin/cat]\n",
	    "t.yaml:2:11: name \"\": must be 1 to 64 characters");
	EXPECT_ERRS("services:\n  - name: "
	            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	            "aaaaaaa\n    listen: [stdin]\n    exec: [/bin/cat]\n",
	    "t.yaml:2:11: must be 1 to 64 characters");
	EXPECT_ERRS("services:\n  - name: a\n    daemon: \"sshd@host\"\n"
	            "    listen: [stdin]\n    exec: [/bin/cat]\n",
	    "t.yaml:3:13: daemon \"sshd@host\": may contain only");
	EXPECT_ERRS("services:\n  - name: a\n    daemon: ~\n"
	            "    listen: [stdin]\n    exec: [/bin/cat]\n",
	    "t.yaml:3:13: daemon: expected a daemon name, got null");
	c = load_ok("user: nobody\n" SVC);
	assert_string_equal(c->user, "nobody");
	conf_free(c);
	c = load_ok("user: ~\n" SVC);
	assert_null(c->user);
	conf_free(c);
	c = load_ok("user: 1000\n" SVC);
	assert_string_equal(c->user, "1000");
	conf_free(c);
	EXPECT_ERRS("user: -root\n" SVC,
	    "t.yaml:1:7: user \"-root\": must not start with '-'");
	EXPECT_ERRS("user: \"a b\"\n" SVC,
	    "t.yaml:1:7: user \"a b\": may "
	    "contain only");
}

static void
test_rule_paths(void **state)
{
	(void)state;
	const char *y = "rules: { allow: hosts.allow, deny: ../x/hosts.deny }\n"
	                "actions: { sendmail: /usr/lib/sendmail }\n" SVC;
	struct conf_errs e = {0};
	struct wrapd_conf *c =
	    conf_load_mem("/etc/wrapd/wrapd.yaml", y, strlen(y), &e);
	assert_non_null(c);
	assert_string_equal(c->allow_path, "/etc/wrapd/hosts.allow");
	assert_string_equal(c->deny_path, "/etc/wrapd/../x/hosts.deny");
	assert_string_equal(c->path, "/etc/wrapd/wrapd.yaml");
	conf_free(c);

	c = conf_load_mem("/wrapd.yaml", y, strlen(y), &e);
	assert_non_null(c);
	assert_string_equal(c->allow_path, "/hosts.allow");
	conf_free(c);

	/* A relative file name is made absolute against the cwd. */
	char cwd[4096], want[4200];
	assert_non_null(getcwd(cwd, sizeof cwd));
	c = conf_load_mem("sub/w.yaml", y, strlen(y), &e);
	assert_non_null(c);
	snprintf(want, sizeof want, "%s/sub/hosts.allow",
	    strcmp(cwd, "/") ? cwd : "");
	assert_string_equal(c->allow_path, want);
	conf_free(c);
	c = conf_load_mem("w.yaml", y, strlen(y), &e);
	assert_non_null(c);
	snprintf(
	    want, sizeof want, "%s/hosts.allow", strcmp(cwd, "/") ? cwd : "");
	assert_string_equal(c->allow_path, want);
	conf_free(c);
	assert_int_equal(e.n, 0);

	EXPECT_ERRS("rules: { allow: \"\" }\n" SVC,
	    "t.yaml:1:17: rules.allow: empty path");
	EXPECT_ERRS("actions: { sendmail: sendmail }\n" SVC,
	    "t.yaml:1:22: actions.sendmail \"sendmail\": must be an absolute "
	    "path");
}

static void
test_syntax_errors(void **state)
{
	(void)state;
	EXPECT_ERRS(
	    "services: [\n", "t.yaml:2:1: did not find expected node content");
	EXPECT_ERRS("log:\n  stderr: true\n format: text\n",
	    "t.yaml:3:2: did not find expected key");
	EXPECT_ERRS("user: \"wrapd\n",
	    "t.yaml:2:1: found unexpected end of stream (while scanning a "
	    "quoted scalar at line 1, column 7)");
	EXPECT_ERRS("log:\n\tstderr: true\n",
	    "t.yaml:2:1: found character that cannot start any token");
	EXPECT_ERRS("user: a\nuser b: : c\n",
	    "t.yaml:2:9: mapping values are not allowed in this context");
	/* The reader's errors come as byte offsets; we turn them into lines. */
	EXPECT_ERRS("user: wrapd\nlog: \x01\n",
	    "t.yaml:2:6: control characters are not allowed (byte 0x01)");
	EXPECT_ERRS("user: w\xc3\xa9\xff\n",
	    "t.yaml:1:9: invalid leading UTF-8 octet (byte 0xff)");
	EXPECT_ERRS(
	    SVC "---\n" SVC, "t.yaml:5:1: only one YAML document is allowed");
	EXPECT_ERRS("user: &u wrapd\nlog: { syslog: *u }\n" SVC,
	    "t.yaml:2:16: aliases (*u) are not supported");
	EXPECT_ERRS("log: !wrapd { stderr: true }\n" SVC,
	    "t.yaml:1:6: unsupported tag \"!wrapd\"");
	EXPECT_ERRS(
	    "user: !wrapd x\n" SVC, "t.yaml:1:7: unsupported tag \"!wrapd\"");
	/* Core tags are accepted; the schema still decides the type. */
	EXPECT_ERRS(
	    "log: !!set { a }\n" SVC, "t.yaml:1:14: unknown key \"a\" in log");
	EXPECT_ERRS("workers: !!int [1]\n" SVC,
	    "t.yaml:1:10: workers: expected a number, got a list");
	/* Explicit core tags: !!str keeps "null" a string, !!null is null. */
	struct wrapd_conf *c = load_ok("user: !!str null\n" SVC);
	assert_string_equal(c->user, "null");
	conf_free(c);
	c = load_ok("user: !!null nobody\n" SVC);
	assert_null(c->user);
	conf_free(c);
	EXPECT_ERRS("log: { stderr: !!str true }\n" SVC,
	    "t.yaml:1:16: expected true or false, got \"true\" (quoted");

	char deep[200];
	size_t o = 0;
	for (int i = 0; i < 40; i++)
		deep[o++] = '[';
	deep[o] = '\0';
	char y[300];
	snprintf(y, sizeof y, "user: %s\n", deep);
	EXPECT_ERRS(y, "t.yaml:1:38: nested deeper than 32 levels");
}

static void
test_many_errors(void **state)
{
	(void)state;
	/* Every error is collected, in file order, with its own position. */
	EXPECT_ERRS("workers: x\n"
	            "services:\n"
	            "  - name: a\n"
	            "    listen: [\"1.2.3.4\", \"[::1]:99999\"]\n"
	            "    backend: 127.0.0.1:5\n"
	            "    timeouts: { idle: 1d }\n"
	            "  - nam: b\n"
	            "log: { format: xml }\n",
	    "t.yaml:1:10: workers: expected a whole number",
	    "t.yaml:4:14: listen \"1.2.3.4\": missing \":PORT\"",
	    "t.yaml:4:25: listen \"[::1]:99999\": bad port \"99999\"",
	    "t.yaml:6:23: bad duration \"1d\"",
	    "t.yaml:7:5: unknown key \"nam\" in a service; did you mean "
	    "\"name\"?",
	    "t.yaml:7:5: missing required key \"name\" in a service",
	    "t.yaml:7:5: missing required key \"listen\" in a service",
	    "t.yaml:7:5: missing \"backend\" or \"exec\"",
	    "t.yaml:8:16: log.format: expected text or json");

	/* A flood of errors stops at 50 plus a final note. */
	char *y = malloc(100 * 16 + 1);
	size_t o = 0;
	for (int i = 0; i < 100; i++)
		o += (size_t)sprintf(y + o, "k%03d: 1\n", i);
	struct conf_errs e = {0};
	assert_null(load(y, &e));
	assert_int_equal(e.n, 51);
	assert_int_equal(e.v[0].line, 1);
	assert_int_equal(e.v[49].line, 50);
	assert_string_equal(e.v[50].msg, "too many errors, giving up");
	conf_errs_free(&e);
	assert_int_equal(e.n, 0);
	conf_errs_free(&e);
	free(y);

	/* errs may be NULL: the caller only learns that loading failed. */
	assert_null(conf_load_mem("t.yaml", "x: 1\n", 5, NULL));
	struct wrapd_conf *c = conf_load_mem("t.yaml", SVC, strlen(SVC), NULL);
	assert_non_null(c);
	conf_free(c);
}

static void
test_errs_print(void **state)
{
	(void)state;
	struct conf_errs e = {0};
	assert_null(load("user: [x]\n" SVC, &e));
	assert_null(conf_load_file("/nonexistent/wrapd.yaml", &e));
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	assert_non_null(fp);
	conf_errs_print(&e, fp);
	fclose(fp);
	assert_string_equal(buf,
	    "t.yaml:1:7: user: expected a user name, got a list\n"
	    "/nonexistent/wrapd.yaml: No such file or directory\n");
	free(buf);
	conf_errs_free(&e);
}

static void
test_load_file(void **state)
{
	(void)state;
	char dir[] = "/tmp/wrapd-conf-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128];
	snprintf(path, sizeof path, "%s/wrapd.yaml", dir);

	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	const char *y = "rules: { allow: allow.rules }\n" SVC;
	assert_int_equal(write(fd, y, strlen(y)), (ssize_t)strlen(y));
	close(fd);
	struct conf_errs e = {0};
	struct wrapd_conf *c = conf_load_file(path, &e);
	assert_non_null(c);
	assert_int_equal(e.n, 0);
	char want[200];
	snprintf(want, sizeof want, "%s/allow.rules", dir);
	assert_string_equal(c->allow_path, want);
	assert_string_equal(c->path, path);
	conf_free(c);

	/* An error names the file as given. */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "user: [\n", 8), 8);
	close(fd);
	assert_null(conf_load_file(path, &e));
	assert_int_equal(e.n, 1);
	assert_string_equal(e.v[0].file, path);
	assert_int_equal(e.v[0].line, 2);
	conf_errs_free(&e);

	/* Too large: refused before parsing. */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	char block[4096];
	memset(block, '#', sizeof block);
	block[sizeof block - 1] = '\n';
	for (int i = 0; i < 257; i++)
		assert_int_equal(
		    write(fd, block, sizeof block), (ssize_t)sizeof block);
	close(fd);
	assert_null(conf_load_file(path, &e));
	assert_int_equal(e.n, 1);
	assert_int_equal(e.v[0].line, 0);
	assert_non_null(strstr(e.v[0].msg, "file too large"));
	conf_errs_free(&e);

	/* Unreadable: "path: strerror", line 0. */
	assert_null(conf_load_file(dir, &e));
	assert_int_equal(e.n, 1);
	assert_string_equal(e.v[0].file, dir);
	assert_int_equal(e.v[0].line, 0);
	assert_string_equal(e.v[0].msg, strerror(EISDIR));
	conf_errs_free(&e);
	unlink(path);
	assert_null(conf_load_file(path, &e));
	assert_string_equal(e.v[0].msg, strerror(ENOENT));
	conf_errs_free(&e);
	rmdir(dir);
}

static void
test_contrib_example(void **state)
{
	(void)state;
	struct conf_errs e = {0};
	struct wrapd_conf *c =
	    conf_load_file(WRAPD_SOURCE_DIR "/contrib/wrapd.yaml.example", &e);
	conf_errs_print(&e, stderr);
	assert_non_null(c);
	assert_int_equal(e.n, 0);
	assert_true(c->nservices >= 4);
	bool exec = false, unix_ = false, sd = false, in = false;
	for (size_t i = 0; i < c->nservices; i++) {
		exec |= c->services[i].backend_kind == CONF_BACKEND_EXEC;
		unix_ |= c->services[i].backend_kind == CONF_BACKEND_UNIX;
		sd |= c->services[i].listen[0].kind == CONF_LISTEN_SYSTEMD;
		in |= c->services[i].listen[0].kind == CONF_LISTEN_STDIN;
	}
	assert_true(exec && unix_ && sd && in);
	conf_free(c);
}

/* Size limits: each is an error at the offending node, not a crash. */
static void
test_limits(void **state)
{
	(void)state;
	size_t cap = 200000, o;
	char *y = malloc(cap);
	assert_non_null(y);

	/* 1025 services. */
	o = (size_t)snprintf(y, cap, "services:\n");
	for (int i = 0; i < 1025; i++)
		o += (size_t)snprintf(y + o, cap - o,
		    "  - {name: s%d, listen: [stdin], exec: [/bin/cat]}\n", i);
	EXPECT_ERRS(y, "t.yaml:2:3: services: more than 1024");

	/* 65 listen addresses; 64 are fine. */
	o = (size_t)snprintf(y, cap,
	    "services:\n  - name: a\n"
	    "    exec: [/bin/cat]\n    listen: [");
	for (int i = 1; i <= 65; i++)
		o += (size_t)snprintf(
		    y + o, cap - o, "%s\"127.0.0.1:%d\"", i > 1 ? ", " : "", i);
	snprintf(y + o, cap - o, "]\n");
	EXPECT_ERRS(y, "t.yaml:4:13: listen: more than 64 addresses");
	char *last = strstr(y, ", \"127.0.0.1:65\"]");
	assert_non_null(last);
	memcpy(last, "]\n", 3);
	struct wrapd_conf *c = load_ok(y);
	assert_int_equal(c->services[0].nlisten, 64);
	conf_free(c);

	/* 257 exec arguments. */
	o = (size_t)snprintf(y, cap,
	    "services:\n  - name: a\n"
	    "    listen: [stdin]\n    exec: [/bin/echo");
	for (int i = 0; i < 256; i++)
		o += (size_t)snprintf(y + o, cap - o, ", x");
	snprintf(y + o, cap - o, "]\n");
	EXPECT_ERRS(y, "t.yaml:4:11: exec: more than 256 arguments");

	/* A 4097-byte string; an overlong listen address and backend. */
	o = (size_t)snprintf(y, cap, "user: ");
	memset(y + o, 'u', 4097);
	snprintf(y + o + 4097, cap - o - 4097, "\n" SVC);
	EXPECT_ERRS(y, "t.yaml:1:7: user: longer than 4096 bytes");
	o = (size_t)snprintf(y, cap,
	    "services:\n  - name: a\n"
	    "    exec: [/bin/cat]\n    listen: [\"1.2.3.4:");
	memset(y + o, '1', 300);
	snprintf(y + o + 300, cap - o - 300, "\"]\n");
	EXPECT_ERRS(y, "t.yaml:4:14: listen address too long");
	o = (size_t)snprintf(y, cap,
	    "services:\n  - name: a\n"
	    "    listen: [stdin]\n    backend: \"[");
	memset(y + o, '1', 200);
	snprintf(y + o + 200, cap - o - 200, "]:1\"\n");
	EXPECT_ERRS(y, "t.yaml:4:14: address too long");
	free(y);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full),
	    cmocka_unit_test(test_minimal_defaults),
	    cmocka_unit_test(test_conf_new_defaults),
	    cmocka_unit_test(test_durations),
	    cmocka_unit_test(test_rates),
	    cmocka_unit_test(test_log),
	    cmocka_unit_test(test_bools),
	    cmocka_unit_test(test_numbers),
	    cmocka_unit_test(test_unknown_keys),
	    cmocka_unit_test(test_duplicates),
	    cmocka_unit_test(test_wrong_types),
	    cmocka_unit_test(test_required),
	    cmocka_unit_test(test_listen_forms),
	    cmocka_unit_test(test_listen_cross),
	    cmocka_unit_test(test_backend_forms),
	    cmocka_unit_test(test_exec),
	    cmocka_unit_test(test_exec_account),
	    cmocka_unit_test(test_on_deny),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_rule_paths),
	    cmocka_unit_test(test_syntax_errors),
	    cmocka_unit_test(test_many_errors),
	    cmocka_unit_test(test_errs_print),
	    cmocka_unit_test(test_load_file),
	    cmocka_unit_test(test_contrib_example),
	    cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
